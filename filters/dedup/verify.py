"""Exact Jaccard of candidate pairs, vectorised over all pairs at once; the texts of nodes, and
whether a pair of nodes can be near duplicates at all."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from filters.dedup.clusters import index_ranks, run_members, run_products, sorted_runs
from filters.dedup.shingles import shingle_sets, shingle_sketches

_U64 = np.uint64
NODE_TEXT_SCHEMA = pa.schema([("node", pa.uint64()), ("text", pa.string())])


def pair_jaccard(ids: np.ndarray, offsets: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Jaccard of the shingle sets of texts left[k] and right[k], from `unique_shingles` output.

    Each side of every pair is laid out as (pair << 32 | shingle id). A text's ids are sorted, so
    each side's keys are sorted already; an id shared by both sides of a pair is a right key found
    in the left keys by binary search, which counts the intersection without sorting anything.
    """
    left = np.asarray(left, dtype=np.int64)
    right = np.asarray(right, dtype=np.int64)
    sizes = np.diff(offsets)
    n_left, n_right = sizes[left], sizes[right]
    union_upper = n_left + n_right
    if left.size == 0:
        return np.zeros(0, dtype=np.float64)
    pair = np.arange(left.size, dtype=np.uint64)

    def gather(texts: np.ndarray, counts: np.ndarray) -> np.ndarray:
        owner = np.repeat(pair, counts)
        first = np.repeat(offsets[texts] - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
        return (owner << _U64(32)) | ids[np.arange(counts.sum()) + first].astype(np.uint64)

    left_keys, right_keys = gather(left, n_left), gather(right, n_right)
    inter = np.zeros(left.size, dtype=np.int64)
    if left_keys.size and right_keys.size:
        at = np.minimum(np.searchsorted(left_keys, right_keys), left_keys.size - 1)
        shared = right_keys[left_keys[at] == right_keys] >> _U64(32)
        inter = np.bincount(shared.astype(np.int64), minlength=left.size)
    union = union_upper - inter
    return np.where(union > 0, inter / np.maximum(union, 1), 1.0)


def text_pair_jaccard(texts: list[str], left: np.ndarray, right: np.ndarray, ngram: int,
                      chunk: int | None = None) -> np.ndarray:
    """Exact character n-gram Jaccard of pairs of texts (two empty texts count as equal). Only the
    texts that some pair names are shingled, each once however many pairs name it (`shingle_sets`:
    4 bytes per distinct shingle of a text); `chunk`: pairs compared at a time (bounds the
    temporaries of `pair_jaccard`)."""
    used, inverse = index_ranks(np.concatenate((np.asarray(left, np.int64), np.asarray(right, np.int64))), len(texts))
    sets = shingle_sets([texts[i] for i in used.tolist()], ngram)
    n = len(left)
    step = chunk or max(n, 1)
    return np.concatenate([pair_jaccard(*sets, inverse[i:min(i + step, n)], inverse[n + i:n + min(i + step, n)])
                           for i in range(0, n, step)] or [np.zeros(0, dtype=np.float64)])


def sketched_once(texts: list[str], rows: np.ndarray, ngram: int) -> tuple:
    """The `sketched` argument of `pairs_at_least`: the sketches of the texts at `rows` (distinct),
    made once, and each text's row among them (-1 for texts not sketched)."""
    rows = np.asarray(rows, dtype=np.int64)
    row_of = np.full(len(texts), -1, dtype=np.int64)
    row_of[rows] = np.arange(rows.size)
    return shingle_sketches([texts[i] for i in rows.tolist()], ngram), row_of


def pairs_at_least(texts: list[str], left: np.ndarray, right: np.ndarray, ngram: int, threshold: float,
                   chunk: int | None = None, sketched: tuple | None = None) -> np.ndarray:
    """`text_pair_jaccard(texts, left, right, ngram) >= threshold`, pair for pair, with the exact
    Jaccard computed only where a cheap upper bound allows it to reach the threshold.

    The bound (`shingle_sketches`): two texts share at most s = sum over buckets of min(counts) of
    their shingles, so J <= s / (sizes[A] + sizes[B] - s); a pair whose bound is below the
    threshold fails whatever its exact Jaccard (rounding is monotone). Most LSH candidates of a
    corpus of look-alike captions fail here, so exact sets are built only for the texts of the
    pairs left. A text whose counts are clipped (`unbounded`) always goes to the exact check.
    `chunk`: pairs compared at a time. `sketched`: (the sketches of some texts, each text's row
    among them), made once by a caller that verifies the pairs of the same texts over several calls;
    every text a pair names must have a row (`sketched_once`)."""
    left = np.asarray(left, dtype=np.int64)
    right = np.asarray(right, dtype=np.int64)
    n = left.size
    if n == 0:
        return np.zeros(0, dtype=bool)
    if sketched is None:
        used, inverse = index_ranks(np.concatenate((left, right)), len(texts))
        sketch = shingle_sketches([texts[i] for i in used.tolist()], ngram)
    else:
        sketch, row_of = sketched
        inverse = row_of[np.concatenate((left, right))]
    step = chunk or n
    maybe = np.zeros(n, dtype=bool)
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        li, ri = inverse[lo:hi], inverse[n + lo:n + hi]
        shared = np.minimum(sketch.counts[li], sketch.counts[ri]).sum(axis=1, dtype=np.int64)
        union = sketch.sizes[li] + sketch.sizes[ri] - shared
        bound = np.where(union > 0, shared / np.maximum(union, 1), 1.0)
        maybe[lo:hi] = (bound >= threshold) | sketch.unbounded[li] | sketch.unbounded[ri]
    out = np.zeros(n, dtype=bool)
    check = np.flatnonzero(maybe)
    out[check] = text_pair_jaccard(texts, left[check], right[check], ngram, chunk=chunk) >= threshold
    return out


def node_text_table(node: np.ndarray, normalised: list[str]) -> pa.Table:
    """(node, normalised caption) of the rows that have text, each distinct pair once."""
    keep = [i for i, t in enumerate(normalised) if t]
    table = pa.table([pa.array(np.asarray(node)[keep], pa.uint64()), pa.array([normalised[i] for i in keep], pa.string())],
                     schema=NODE_TEXT_SCHEMA)
    return table.group_by(["node", "text"], use_threads=False).aggregate([]).select(["node", "text"])


def node_texts(tables: list[pa.Table]) -> tuple[np.ndarray, list[str]]:
    """(nodes, texts): the distinct (node, text) pairs of `tables`, sorted by node, then text. A node
    has one text (its key is a hash of it) but for a 64-bit key collision."""
    tables = [t for t in tables if t.num_rows]
    if not tables:
        return np.zeros(0, dtype=np.uint64), []
    table = pa.concat_tables(tables).cast(NODE_TEXT_SCHEMA)
    table = table.group_by(["node", "text"], use_threads=False).aggregate([])
    table = table.sort_by([("node", "ascending"), ("text", "ascending")])
    return table.column("node").to_numpy(), table.column("text").to_pylist()


def node_pairs_at_least(pairs: np.ndarray, nodes: np.ndarray, texts: list[str], ngram: int, threshold: float,
                        chunk: int | None = None, per_call: int | None = None) -> np.ndarray:
    """Per pair of nodes ((2, k) uint64): whether some text of its left node and some text of its
    right node have character n-gram Jaccard >= threshold (`pairs_at_least`). `nodes` is sorted and
    aligned with `texts` (`node_texts`); a node without a text fails every pair. `per_call`: pairs
    expanded to their texts and checked at a time (bounds the temporaries); with several calls, each
    text the pairs name is sketched once for all of them."""
    n = pairs.shape[1]
    if n == 0:
        return np.zeros(0, dtype=bool)
    step = per_call or n
    sketched = None
    if n > step:
        named = np.zeros(len(texts), dtype=bool)
        for side in pairs:
            named[run_members(*sorted_runs(nodes, side))[1]] = True
        sketched = sketched_once(texts, np.flatnonzero(named), ngram)
    out = np.zeros(n, dtype=bool)
    for lo in range(0, n, step):
        part = pairs[:, lo:lo + step]
        pair, a, b = run_products(*sorted_runs(nodes, part[0]), *sorted_runs(nodes, part[1]))
        ok = pairs_at_least(texts, a, b, ngram, threshold, chunk=chunk, sketched=sketched)
        out[lo:lo + part.shape[1]] = np.bincount(pair[ok], minlength=part.shape[1]) > 0
    return out
