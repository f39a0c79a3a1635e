"""Shape buckets chosen from the data: few static shapes, least padding (report §6.1, "Ascend-shaped").

A pack is padded to the smallest allowed bucket that holds it: LLM tokens to a ``seq_len`` bucket,
ViT patches to a ``vit_bucket``. Every distinct (seq_len, vit_bucket) is a tensor shape the
accelerator compiles a graph for, so the buckets should be few; every padded token or patch is
compute spent on nothing, so they should sit where the packs are.

`choose_buckets` picks at most K buckets, each a multiple of a hardware granule, that minimise the
total padded size of the packs. A pack of size x lands in the smallest chosen bucket >= x; since
buckets are granule multiples, only x's granule bin ``ceil(x / g)`` matters, so the exact objective
is a function of the histogram of pack sizes over granule bins:

    padded(B) = Σ_j h_j · (smallest b in B with b >= j·g)

Dynamic programming over the occupied bins (sorted) is exact: dp[k][j] = the least padded size of
bins 1..j with k buckets, the last at bin j. The cost of a segment, ``e_j · (H_j - H_i)``, obeys
the quadrangle inequality, so each layer is solved by divide and conquer over monotone optima in
O(n log n) (n = occupied bins).

**Planning groups.** The histogram is exact and additive: each planning group computes
`size_histogram` of its own packs, the driver sums them (`merge_histograms`), chooses one global
set of buckets, and each group assigns `bucket_of` to its packs in a second light pass. The driver
holds one integer per granule bin, never one per pack.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class SizeHistogram(NamedTuple):
    """Packs per granule bin: ``counts[i]`` packs have ``ceil(size / granule) == bins[i]`` (bins
    sorted, all >= 1; packs of size 0 are counted in ``zeros`` and need no bucket)."""

    granule: int
    bins: np.ndarray  # int64, sorted, unique
    counts: np.ndarray  # int64
    zeros: int


def size_histogram(sizes, granule: int) -> SizeHistogram:
    """The exact histogram of pack sizes over granule bins."""
    if granule < 1:
        raise ValueError(f"granule: {granule} is not allowed; it must be >= 1")
    x = np.asarray(sizes, dtype=np.int64)
    nz = x[x > 0]
    bins, counts = np.unique(-(-nz // granule), return_counts=True)
    return SizeHistogram(granule, bins.astype(np.int64), counts.astype(np.int64), int(x.size - nz.size))


def merge_histograms(parts: list[SizeHistogram]) -> SizeHistogram:
    """Sum histograms of the same granule (one per planning group)."""
    if not parts:
        raise ValueError("merge_histograms: no histograms to merge")
    g = parts[0].granule
    if any(h.granule != g for h in parts):
        raise ValueError(f"merge_histograms: granules differ ({sorted({h.granule for h in parts})})")
    bins = np.concatenate([h.bins for h in parts])
    counts = np.concatenate([h.counts for h in parts])
    ub, inv = np.unique(bins, return_inverse=True)
    return SizeHistogram(g, ub.astype(np.int64), np.bincount(inv, weights=counts, minlength=ub.size).astype(np.int64),
                         sum(h.zeros for h in parts))


def padded_size(hist: SizeHistogram, buckets, cap: int | None = None) -> int:
    """Σ over packs of their bucket (packs of size 0 count 0); every pack must fit a bucket. With
    ``cap`` (the capacity), a pack's granule bin is taken as at most the cap."""
    b = np.sort(np.asarray(buckets, dtype=np.int64))
    if not hist.bins.size:
        return 0
    edge = hist.bins * hist.granule
    if cap is not None:
        edge = np.minimum(edge, cap)
    idx = np.searchsorted(b, edge, side="left")
    if b.size == 0 or idx.max() >= b.size:
        raise ValueError(f"buckets: {b.tolist()} do not hold the largest pack ({int(edge.max())} in granules)")
    return int((b[idx] * hist.counts).sum())


def choose_buckets(hist: SizeHistogram, max_buckets: int, cap: int | None = None) -> tuple[int, ...]:
    """At most ``max_buckets`` granule multiples minimising the padded size of the packs (exact).
    The largest bucket is the largest pack's granule bin; a bucket over ``cap`` (the capacity, not
    always a granule multiple) is ``cap``. No packs, no buckets."""
    if max_buckets < 1:
        raise ValueError(f"max_buckets: {max_buckets} is not allowed; it must be >= 1")
    n = hist.bins.size
    if n == 0:
        return ()
    edges = hist.bins * hist.granule
    if cap is not None:
        edges = np.minimum(edges, cap)
    edge = edges.astype(np.float64)
    H = np.concatenate(([0.0], np.cumsum(hist.counts.astype(np.float64))))  # H[j]: packs in bins[:j]
    if max_buckets >= n:
        return tuple(int(e) for e in edges)
    # prev[j]: least cost of the first j+1 bins with the current number of buckets, the last at j
    prev = edge * H[1:]
    choice = [np.full(n, -1, np.int64)]
    for _ in range(1, max_buckets):
        cur = np.empty(n)
        arg = np.full(n, -1, np.int64)
        _layer(prev, edge, H, cur, arg)
        # a layer may also keep fewer buckets: one more never costs more, so cur <= prev holds
        prev = cur
        choice.append(arg)
    # backtrack from the last bin (it must be a bucket: the largest pack needs one); -1 in a layer
    # means that layer kept the previous layer's solution at the same bin
    out = [int(edges[-1])]
    j, layer = n - 1, max_buckets - 1
    while layer > 0:
        i = int(choice[layer][j])
        if i >= 0:
            out.append(int(edges[i]))
            j = i
        layer -= 1
    return tuple(sorted(out))


def _layer(prev: np.ndarray, edge: np.ndarray, H: np.ndarray, cur: np.ndarray, arg: np.ndarray) -> None:
    """cur[j] = min(prev[j], min_{i<j} prev[i] + edge[j] · (H[j+1] - H[i+1])), by divide and
    conquer: the best i is non-decreasing in j (quadrangle inequality)."""
    n = prev.shape[0]
    stack = [(0, n - 1, 0, n - 1)]
    while stack:
        lo, hi, olo, ohi = stack.pop()
        if lo > hi:
            continue
        mid = (lo + hi) // 2
        top = min(ohi, mid - 1)
        best_v, best_i = prev[mid], -1  # -1: no new bucket below mid (as many buckets as before)
        split = olo
        if top >= olo:
            i = np.arange(olo, top + 1)
            v = prev[i] + edge[mid] * (H[mid + 1] - H[i + 1])
            a = int(np.argmin(v))
            split = int(i[a])
            if v[a] < best_v:
                best_v, best_i = float(v[a]), split
        cur[mid] = best_v
        arg[mid] = best_i
        stack.append((lo, mid - 1, olo, split))
        stack.append((mid + 1, hi, split, ohi))


def bucket_of(sizes, buckets) -> np.ndarray:
    """The smallest bucket >= each size (0 stays 0: no input, no shape). Raises when a size is over
    the largest bucket."""
    x = np.asarray(sizes, dtype=np.int64)
    b = np.sort(np.asarray(buckets, dtype=np.int64))
    if not b.size:
        return x.copy()
    idx = np.searchsorted(b, x, side="left")
    over = idx >= b.size
    if over.any():
        raise ValueError(f"buckets: size {int(x[over].max())} is over the largest bucket {int(b[-1])}")
    return np.where(x > 0, b[np.minimum(idx, b.size - 1)], 0)
