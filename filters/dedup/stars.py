"""Connected components by large-star / small-star rounds over hash-partitioned edges.

The algorithm of Kiveris et al., "Connected Components in MapReduce and Beyond" (SoCC 2014). Edges
are spread over `n_parts` partitions by a hash of one of their nodes (`node_part`); one round is two
shuffles, and each side of a shuffle is a pure function of one partition:

- **large-star**, keyed by every node u (each edge is sent to both of its ends): every neighbour
  v > u is re-linked to m(u), the smallest of u and its neighbours;
- **small-star**, keyed by the larger end u of each edge: u and each of its smaller neighbours
  are linked to m(u).

Both keep every component connected and its smallest node in it. A round is *stable* when no node
has both a smaller and a larger neighbour (checked by large-star) and no node has two smaller
neighbours (checked by small-star): the edges are then exactly one star per component around its
smallest node, so the label of a node, min(node, its neighbours), is the smallest node of its
component: the label `clusters.connected_components` gives, as a node id instead of its rank.
Rounds are O(log² n) at worst and a handful in practice; `contract` first replaces the edges a
partition already holds by stars of their local components, which keeps the edges' connectivity
and removes most rounds.

A partition's pairs are a (2, k) uint64 array: row 0 the key node, row 1 its neighbour. Each step
returns the pairs for the next step split by destination partition, so whoever runs the rounds
(Ray tasks in `jobs/dedup_stage.py`; `star_components` here, in one process) moves 16 bytes per
directed pair and never holds more than one partition of them. A node of degree d puts d pairs in
one partition: the largest component's star is the skew bound.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from filters.dedup.clusters import connected_components, dense_ranks
from filters.dedup.shingles import mix64

_U64 = np.uint64
MAX_PARTS = 1 << 16
MAX_ROUNDS = 200  # O(log² n) rounds: far beyond any graph of 2⁶⁴ nodes


def no_pairs() -> np.ndarray:
    return np.zeros((2, 0), dtype=np.uint64)


def check_parts(n_parts: int) -> None:
    if n_parts < 1 or n_parts & (n_parts - 1) or n_parts > MAX_PARTS:
        raise ValueError(f"n_parts must be a power of two in [1, {MAX_PARTS}], got {n_parts}")


def node_part(nodes: np.ndarray, n_parts: int) -> np.ndarray:
    """Partition of each node: low bits of a 64-bit mix of its id (int64)."""
    check_parts(n_parts)
    nodes = np.asarray(nodes, dtype=np.uint64)
    if n_parts == 1:
        return np.zeros(nodes.size, dtype=np.int64)
    return (mix64(nodes.copy()) & _U64(n_parts - 1)).astype(np.int64)


def split_by_part(part: np.ndarray, n_parts: int, values: np.ndarray) -> list[np.ndarray]:
    """`values` (last axis aligned with `part`) cut into one array per partition, order kept."""
    if n_parts == 1:
        return [values]
    order = np.argsort(part, kind="stable")
    bounds = np.searchsorted(part[order], np.arange(1, n_parts))
    return np.split(values[..., order], bounds, axis=-1)


def split_table(table: pa.Table, part: np.ndarray, n_parts: int) -> list[pa.Table]:
    """Rows of `table` cut into one table per partition (`part`, aligned with the rows), order kept."""
    if n_parts == 1:
        return [table]
    order = np.argsort(part, kind="stable")
    bounds = np.searchsorted(part[order], np.arange(n_parts + 1))
    ranked = table.take(pa.array(order))
    return [ranked.slice(bounds[q], bounds[q + 1] - bounds[q]) for q in range(n_parts)]


def split_pairs(pairs: np.ndarray, n_parts: int) -> list[np.ndarray]:
    """Pairs cut by the partition of their key node."""
    return split_by_part(node_part(pairs[0], n_parts), n_parts, pairs)


def both_ways(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Undirected edges as directed pairs in both directions."""
    return np.stack((np.concatenate((left, right)), np.concatenate((right, left)))).astype(np.uint64, copy=False)


def distinct_pairs(pairs: np.ndarray) -> np.ndarray:
    """Distinct pairs sorted by (key, neighbour)."""
    if pairs.shape[1] == 0:
        return pairs
    order = np.lexsort((pairs[1], pairs[0]))
    pairs = pairs[:, order]
    new = np.ones(pairs.shape[1], dtype=bool)
    new[1:] = (pairs[0, 1:] != pairs[0, :-1]) | (pairs[1, 1:] != pairs[1, :-1])
    return pairs[:, new]


def _groups(pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct non-self pairs sorted by (key, neighbour), each pair's group number, and the
    position of each group's first pair."""
    pairs = pairs[:, pairs[0] != pairs[1]]
    pairs = distinct_pairs(pairs)
    new = np.ones(pairs.shape[1], dtype=bool)
    new[1:] = pairs[0, 1:] != pairs[0, :-1]
    return pairs, np.cumsum(new) - 1, np.flatnonzero(new)


def large_star(pairs: np.ndarray, n_parts: int) -> tuple[list[np.ndarray], int]:
    """One partition of large-star. `pairs` holds every neighbour of each of its key nodes.

    Returns (the new edges (v, m(u)), keyed by v, the larger end, for small-star; one array per
    partition) and the number of keys that had both a smaller and a larger neighbour."""
    pairs, group, first = _groups(pairs)
    if pairs.shape[1] == 0:
        return [no_pairs() for _ in range(n_parts)], 0
    key, nbr = pairs
    last = np.append(first[1:], key.size) - 1
    group_key = key[first]
    smallest = np.minimum(group_key, nbr[first])  # neighbours are sorted within a group
    unstable = int(np.count_nonzero((nbr[first] < group_key) & (nbr[last] > group_key)))
    up = nbr > key
    out = np.stack((nbr[up], smallest[group[up]]))
    return split_pairs(out, n_parts), unstable


def small_star(pairs: np.ndarray, n_parts: int) -> tuple[list[np.ndarray], int]:
    """One partition of small-star. `pairs` are (u, w) with w < u and hold every smaller neighbour
    of each key u.

    Returns (the new edges (u, m) and (w, m) for every w ≠ m, m the smallest of u and its
    neighbours, in both directions for large-star; one array per partition) and the number of keys
    that had two or more smaller neighbours."""
    pairs, group, first = _groups(pairs)
    if pairs.shape[1] == 0:
        return [no_pairs() for _ in range(n_parts)], 0
    if np.any(pairs[1] > pairs[0]):
        raise ValueError("small_star takes pairs (u, w) with w < u")
    key, nbr = pairs
    smallest = nbr[first]
    unstable = int(np.count_nonzero(np.diff(np.append(first, key.size)) >= 2))
    others = nbr != smallest[group]
    left = np.concatenate((key[first], nbr[others]))
    right = np.concatenate((smallest, smallest[group[others]]))
    return split_pairs(both_ways(left, right), n_parts), unstable


def contract(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same components with fewer edges: (node, smallest node of its local component) for every
    node of the edges that is not that smallest node. Self edges vanish."""
    left = np.asarray(left, dtype=np.uint64)
    right = np.asarray(right, dtype=np.uint64)
    nodes, inverse = dense_ranks(np.concatenate((left, right)))
    root = connected_components(nodes.size, inverse[:left.size], inverse[left.size:])
    leaf = np.flatnonzero(root != np.arange(nodes.size))
    return nodes[leaf], nodes[root[leaf]]


def component_labels(star_pairs: Sequence[np.ndarray], self_nodes: Sequence[np.ndarray] = ()
                     ) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct nodes, label of each) of one partition after the last stable round: a
    node's label is the smallest of itself and its neighbours. `self_nodes` are nodes known only
    from self edges (their own label unless an edge says otherwise)."""
    pairs = np.concatenate([np.asarray(p, dtype=np.uint64).reshape(2, -1) for p in star_pairs] or [no_pairs()], axis=1)
    alone = np.concatenate([np.asarray(s, dtype=np.uint64) for s in self_nodes] or [np.zeros(0, np.uint64)])
    key = np.concatenate((pairs[0], alone))
    label = np.concatenate((np.minimum(pairs[0], pairs[1]), alone))
    if key.size == 0:
        return key, label
    order = np.lexsort((label, key))
    key, label = key[order], label[order]
    first = np.ones(key.size, dtype=bool)
    first[1:] = key[1:] != key[:-1]
    return key[first], label[first]


def lookup_labels(nodes: np.ndarray, labels: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(found, label) of each key among sorted `nodes`; label is 0 where not found."""
    keys = np.asarray(keys, dtype=np.uint64)
    if nodes.size == 0:
        return np.zeros(keys.size, dtype=bool), np.zeros(keys.size, dtype=np.uint64)
    at = np.minimum(np.searchsorted(nodes, keys), nodes.size - 1)
    found = nodes[at] == keys
    return found, np.where(found, labels[at], _U64(0))


def star_components(left: np.ndarray, right: np.ndarray, n_parts: int = 4, *, local_contraction: bool = True
                    ) -> tuple[np.ndarray, np.ndarray, int]:
    """Components of an edge list in one process, partition by partition as the Ray stage runs
    them: (sorted distinct nodes, label = smallest node of each one's component, rounds)."""
    left = np.asarray(left, dtype=np.uint64)
    right = np.asarray(right, dtype=np.uint64)
    if left.shape != right.shape:
        raise ValueError(f"left and right must have the same length, got {left.size} and {right.size}")
    self_loop = left == right
    alone = split_by_part(node_part(left[self_loop], n_parts), n_parts, left[self_loop])
    a, b = left[~self_loop], right[~self_loop]
    if local_contraction:
        a, b = contract(a, b)
    parts = split_pairs(both_ways(a, b), n_parts)
    rounds = 0
    while parts and any(p.shape[1] for p in parts):
        rounds += 1
        if rounds > MAX_ROUNDS:  # pragma: no cover - the rounds provably converge
            raise RuntimeError(f"large/small-star did not converge in {MAX_ROUNDS} rounds")
        large = [large_star(p, n_parts) for p in parts]
        small = [small_star(np.concatenate([out[q] for out, _ in large], axis=1), n_parts)
                 for q in range(n_parts)]
        parts = [np.concatenate([out[q] for out, _ in small], axis=1) for q in range(n_parts)]
        if sum(n for _, n in large) + sum(n for _, n in small) == 0:
            break
    labelled = [component_labels([parts[q]] if parts else [], [alone[q]]) for q in range(n_parts)]
    nodes = np.concatenate([n for n, _ in labelled])
    labels = np.concatenate([lab for _, lab in labelled])
    order = np.argsort(nodes)
    return nodes[order], labels[order], rounds
