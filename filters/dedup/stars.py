"""Connected components by large-star / small-star rounds, with the edges left where they are.

The algorithm of Kiveris et al., "Connected Components in MapReduce and Beyond" (SoCC 2014): a
round is a large-star then a small-star step, and each step relinks edges to the smallest node m(u)
of a neighbourhood:

- **large-star**: every edge (u, v) with u < v becomes (m(u), v), m(u) the smallest of u and all
  its neighbours;
- **small-star**: every edge (w, u) with w < u becomes (m(u), w), m(u) the smallest of u's smaller
  neighbours (the edge (m(u), u) itself stays).

Both keep every component connected and its smallest node in it. A round is *stable* when no node
has both a smaller and a larger neighbour (checked at large-star) and no node has two different
smaller neighbours (checked at small-star): the edges are then one star per component around its
smallest node, whose large-star m(x) is the smallest node of x's component: the label
`clusters.connected_components` gives, as a node id instead of its rank. Rounds are O(log² n) at
worst and a handful in practice; `contract` first replaces the edges a partition already holds by
stars of their local components, which keeps their connectivity and removes most rounds.

m(u) depends on a node's whole neighbourhood, so the textbook shuffles every edge to the
partition of its node, and a node of degree d puts d edges in one place: the centre of a giant
component would hold all its edges. Here the edges never move. Each edge partition sends, per
node it holds, the smallest and largest neighbour it sees (`summaries`: at most one record per
node and edge partition); the partition of the node (`node_part`) merges them into m(node) and
answers each edge partition for the nodes it asked about (`merge_summaries`); each edge partition
then relinks its own edges (`relink`). A step moves 24 bytes per (node, edge partition) and
16 per answer, a task holds one edge partition or one node partition's summaries, and no step
needs more than one partition's data, whatever the degree of a node.

Edges are (2, k) uint64 arrays with row 0 < row 1; summaries (3, k): node, smallest and largest
neighbour; answers (2, k): node, m(node).
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
LARGE, SMALL = "large", "small"


def no_edges(rows: int = 2) -> np.ndarray:
    return np.zeros((rows, 0), dtype=np.uint64)


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


def split_by_node(values: np.ndarray, n_parts: int) -> list[np.ndarray]:
    """Arrays whose row 0 is a node (or 1-d arrays of nodes) cut by the node's partition."""
    nodes = values[0] if values.ndim == 2 else values
    return split_by_part(node_part(nodes, n_parts), n_parts, values)


def distinct_pairs(pairs: np.ndarray) -> np.ndarray:
    """Distinct columns of a (2, k) array, sorted by (row 0, row 1)."""
    if pairs.shape[1] == 0:
        return pairs
    order = np.lexsort((pairs[1], pairs[0]))
    pairs = pairs[:, order]
    new = np.ones(pairs.shape[1], dtype=bool)
    new[1:] = (pairs[0, 1:] != pairs[0, :-1]) | (pairs[1, 1:] != pairs[1, :-1])
    return pairs[:, new]


def undirected(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Distinct edges (smaller, larger) without self edges."""
    left, right = np.asarray(left, dtype=np.uint64), np.asarray(right, dtype=np.uint64)
    keep = left != right
    return distinct_pairs(np.stack((np.minimum(left, right)[keep], np.maximum(left, right)[keep])))


def contract(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The same components with fewer edges: (smallest node of its local component, node) for every
    node of the edges that is not that smallest node. Self edges vanish."""
    left = np.asarray(left, dtype=np.uint64)
    right = np.asarray(right, dtype=np.uint64)
    nodes, inverse = dense_ranks(np.concatenate((left, right)))
    root = connected_components(nodes.size, inverse[:left.size], inverse[left.size:])
    leaf = np.flatnonzero(root != np.arange(nodes.size))
    return np.stack((nodes[root[leaf]], nodes[leaf])).astype(np.uint64, copy=False)


def _min_max(node: np.ndarray, nbr: np.ndarray) -> np.ndarray:
    """(node, smallest nbr, largest nbr) per distinct node."""
    if node.size == 0:
        return no_edges(3)
    order = np.lexsort((nbr, node))
    node, nbr = node[order], nbr[order]
    first = np.flatnonzero(np.append(True, node[1:] != node[:-1]))
    last = np.append(first[1:], node.size) - 1
    return np.stack((node[first], nbr[first], nbr[last]))


def summaries(edges: np.ndarray, step: str, n_parts: int) -> list[np.ndarray]:
    """What one edge partition tells the node partitions for `step`, one array per node partition:
    large-star: every node with its smallest and largest neighbour here; small-star: every larger
    end of an edge with its smallest and largest smaller neighbour here."""
    a, b = edges
    if step == LARGE:
        out = _min_max(np.concatenate((a, b)), np.concatenate((b, a)))
    elif step == SMALL:
        out = _min_max(b, a)
    else:
        raise ValueError(f"step must be {LARGE!r} or {SMALL!r}, got {step!r}")
    return split_by_node(out, n_parts)


def merge_summaries(parts: Sequence[np.ndarray], step: str) -> tuple[list[np.ndarray], int, np.ndarray]:
    """One node partition: the summaries of every edge partition (in order) → (an answer
    (node, m(node)) for each edge partition, in the same order; the number of unstable nodes; every
    node of the partition with m(node))."""
    parts = [np.asarray(p, dtype=np.uint64).reshape(3, -1) for p in parts]
    merged = _merged(np.concatenate(parts or [no_edges(3)], axis=1))
    node, lo, hi = merged
    if step == LARGE:
        m = np.minimum(node, lo)
        unstable = int(np.count_nonzero((lo < node) & (hi > node)))
    elif step == SMALL:
        m = lo
        unstable = int(np.count_nonzero(lo != hi))
    else:
        raise ValueError(f"step must be {LARGE!r} or {SMALL!r}, got {step!r}")
    answers = [np.stack((p[0], m[np.searchsorted(node, p[0])])) if p.shape[1] else no_edges() for p in parts]
    return answers, unstable, np.stack((node, m))


def _merged(summary: np.ndarray) -> np.ndarray:
    """Summaries of the same node from several edge partitions merged: min of the smallest, max of
    the largest."""
    if summary.shape[1] == 0:
        return summary
    order = np.argsort(summary[0], kind="stable")
    node, lo, hi = summary[:, order]
    first = np.flatnonzero(np.append(True, node[1:] != node[:-1]))
    return np.stack((node[first], np.minimum.reduceat(lo, first), np.maximum.reduceat(hi, first)))


def relink(edges: np.ndarray, answers: Sequence[np.ndarray], step: str) -> np.ndarray:
    """One edge partition's edges after `step`, from the answers of the node partitions about the
    nodes it summarised."""
    known = np.concatenate([np.asarray(a, dtype=np.uint64).reshape(2, -1) for a in answers] or [no_edges()], axis=1)
    order = np.argsort(known[0], kind="stable")
    node, m = known[:, order]
    a, b = edges
    if step == LARGE:  # (a, b) → (m(a), b); m(a) <= a < b
        new = np.stack((m[np.searchsorted(node, a)], b))
    elif step == SMALL:  # (a, b) → (m(b), a) unless a is m(b); m(b) <= a < b
        mb = m[np.searchsorted(node, b)]
        keep = a == mb
        new = np.stack((np.where(keep, a, mb), np.where(keep, b, a)))
    else:
        raise ValueError(f"step must be {LARGE!r} or {SMALL!r}, got {step!r}")
    return distinct_pairs(new)


def component_labels(labelled: Sequence[np.ndarray], self_nodes: Sequence[np.ndarray] = ()
                     ) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct nodes, label of each) of one node partition: `labelled` are (node, m(node))
    arrays of the last stable large-star step; `self_nodes` are nodes known only from self edges
    (their own label unless an edge says otherwise)."""
    pairs = np.concatenate([np.asarray(p, dtype=np.uint64).reshape(2, -1) for p in labelled] or [no_edges()], axis=1)
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


def star_components(left: np.ndarray, right: np.ndarray, n_parts: int = 4, n_edge_parts: int = 3, *,
                    local_contraction: bool = True) -> tuple[np.ndarray, np.ndarray, int]:
    """Components of an edge list in one process, partition by partition as the Ray stage runs
    them: (sorted distinct nodes, label = smallest node of each one's component, rounds). The edges
    are dealt to `n_edge_parts` edge partitions (each contracted first with `local_contraction`)."""
    left = np.asarray(left, dtype=np.uint64)
    right = np.asarray(right, dtype=np.uint64)
    if left.shape != right.shape:
        raise ValueError(f"left and right must have the same length, got {left.size} and {right.size}")
    self_loop = left == right
    alone = split_by_node(left[self_loop], n_parts)
    deal = np.arange(left.size) % n_edge_parts
    edges = []
    for e in range(n_edge_parts):
        a, b = left[(deal == e) & ~self_loop], right[(deal == e) & ~self_loop]
        edges.append(contract(a, b) if local_contraction else undirected(a, b))
    labelled: list[np.ndarray] = []
    rounds = 0
    while any(e.shape[1] for e in edges):
        rounds += 1
        if rounds > MAX_ROUNDS:  # pragma: no cover - the rounds provably converge
            raise RuntimeError(f"large/small-star did not converge in {MAX_ROUNDS} rounds")
        unstable = 0
        for step in (LARGE, SMALL):
            told = [summaries(e, step, n_parts) for e in edges]
            merged = [merge_summaries([t[p] for t in told], step) for p in range(n_parts)]
            unstable += sum(n for _, n, _ in merged)
            if step == LARGE:
                labelled = [m for _, _, m in merged]
            edges = [relink(e, [answers[i] for answers, _, _ in merged], step) for i, e in enumerate(edges)]
        if unstable == 0:
            break
    per_part = [component_labels(labelled[p:p + 1], [alone[p]]) for p in range(n_parts)]
    nodes = np.concatenate([n for n, _ in per_part])
    labels = np.concatenate([lab for _, lab in per_part])
    order = np.argsort(nodes)
    return nodes[order], labels[order], rounds
