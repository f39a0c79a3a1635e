"""Connected components over edge lists, and the deterministic representative of each cluster.

`connected_components` is a vectorised union-find (hooking and pointer jumping, Shiloach–Vishkin
style): every round hooks the larger root of each edge under the smaller, then compresses paths,
so the label of a node is the smallest node index of its component. Rounds are few (logarithmic
in practice) and each is a handful of numpy passes over the edges, never a Python loop per edge.
"""

from __future__ import annotations

import numpy as np


def dense_ranks(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct values, index of each value among them): `np.unique(values,
    return_inverse=True)` by one argsort, several times faster than numpy 2's unique on uint64."""
    values = np.asarray(values)
    order = np.argsort(values)
    ranked = values[order]
    new = np.ones(ranked.size, dtype=bool)
    new[1:] = ranked[1:] != ranked[:-1]
    inverse = np.empty(ranked.size, dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return ranked[new], inverse


def index_ranks(indices: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """`dense_ranks` of indices in [0, n) by a mask of n flags instead of a sort: (sorted distinct
    indices, index of each among them)."""
    indices = np.asarray(indices, dtype=np.int64)
    named = np.zeros(n, dtype=bool)
    named[indices] = True
    rank = np.cumsum(named) - 1
    return np.flatnonzero(named), rank[indices]


def sorted_runs(ranked: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first position, count) of each key's run of equal values in sorted `ranked` (count 0 when
    absent). The keys are searched in sorted order: one argsort, then a cache-friendly search, about
    twice as fast as searching many random keys (and one search, not two, per key)."""
    keys = np.asarray(keys)
    order = np.argsort(keys)
    first = np.empty(keys.size, dtype=np.int64)
    first[order] = np.searchsorted(ranked, keys[order], side="left")
    run_end = np.searchsorted(ranked, ranked, side="right")  # per position: one past its run
    at = np.minimum(first, max(ranked.size - 1, 0))
    found = (first < ranked.size) & (ranked[at] == keys) if ranked.size else np.zeros(keys.size, dtype=bool)
    count = np.where(found, run_end[at] - first, 0) if ranked.size else np.zeros(keys.size, dtype=np.int64)
    return first, count


def run_members(first: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner, position) of every member of the runs `first[i]`, `first[i] + 1`, ... (`count[i]`
    of them), run after run: the positions `sorted_runs` points at, listed."""
    first, count = np.asarray(first, dtype=np.int64), np.asarray(count, dtype=np.int64)
    owner = np.repeat(np.arange(first.size), count)
    return owner, np.repeat(first - (np.cumsum(count) - count), count) + np.arange(int(count.sum()))


def run_products(lo: np.ndarray, n_lo: np.ndarray, hi: np.ndarray, n_hi: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pair, a, b): every combination of a member of run (lo[k], n_lo[k]) with a member of run
    (hi[k], n_hi[k]), for every k (`pair` = k); pairs with an empty run have none."""
    reps = np.asarray(n_lo, dtype=np.int64) * np.asarray(n_hi, dtype=np.int64)
    pair, within = run_members(np.zeros(reps.size, dtype=np.int64), reps)
    width = np.maximum(np.asarray(n_hi, dtype=np.int64)[pair], 1)
    return pair, np.asarray(lo)[pair] + within // width, np.asarray(hi)[pair] + within % width


def sorted_distinct(values: np.ndarray) -> np.ndarray:
    """np.unique(values) by one sort."""
    ranked = np.sort(values)
    new = np.ones(ranked.size, dtype=bool)
    new[1:] = ranked[1:] != ranked[:-1]
    return ranked[new]


def connected_components(n_nodes: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Label of each node = smallest node index in its component (int64, length n_nodes)."""
    parent = np.arange(n_nodes, dtype=np.int64)
    left = np.asarray(left, dtype=np.int64)
    right = np.asarray(right, dtype=np.int64)
    if left.shape != right.shape:
        raise ValueError(f"left and right must have the same length, got {left.size} and {right.size}")
    if left.size and (min(left.min(), right.min()) < 0 or max(left.max(), right.max()) >= n_nodes):
        raise ValueError(f"edge endpoints must be in [0, {n_nodes}), got [{min(left.min(), right.min())}, "
                         f"{max(left.max(), right.max())}]")
    while left.size:
        pl, pr = parent[left], parent[right]
        live = pl != pr
        if not live.any():
            break
        lo, hi = np.minimum(pl[live], pr[live]), np.maximum(pl[live], pr[live])
        np.minimum.at(parent, hi, lo)
        while True:  # pointer jumping until every node points at a root
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
        left, right = left[live], right[live]
    return parent


def representatives(labels: np.ndarray, order: np.ndarray) -> np.ndarray:
    """For each node, the best node (first in `order`) of its component."""
    labels = np.asarray(labels)
    best = np.full(labels.size, -1, dtype=np.int64)
    ranked_labels = labels[order]
    _, first = np.unique(ranked_labels, return_index=True)
    best[ranked_labels[first]] = order[first]
    return best[labels]
