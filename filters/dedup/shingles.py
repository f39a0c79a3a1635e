"""Character n-gram shingles of many texts at once, as 64-bit hashes in CSR form.

The texts are decoded as UTF-32 code points with n-1 padding values (not a code point) after
each, so one pass of vectorised multiply-adds hashes every window. A text shorter than n yields one
shingle (the whole text, padded); an empty text yields none. The result is
(`hashes`, `offsets`): text i owns `hashes[offsets[i]:offsets[i+1]]` in window order (a multiset;
MinHash does not care, Jaccard uses `unique_shingles`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from filters.dedup.clusters import dense_ranks, sorted_distinct

# Window positions are weighted by odd 64-bit values from a splitmix64 stream (_position_weights).
_U64 = np.uint64
PAD_POINT = 0x110000  # one past the last Unicode code point


def _position_weights(ngram: int) -> np.ndarray:
    state = 0x9E3779B97F4A7C15
    out = []
    for _ in range(ngram):
        state = (state + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        out.append((z ^ (z >> 31)) | 1)
    return np.array(out, dtype=np.uint64)


def mix64(h: np.ndarray) -> np.ndarray:
    """murmur3's fmix64 finaliser, in place on a uint64 array; returns it."""
    h ^= h >> _U64(33)
    h *= _U64(0xFF51AFD7ED558CCD)
    h ^= h >> _U64(33)
    h *= _U64(0xC4CEB9FE1A85EC53)
    h ^= h >> _U64(33)
    return h


def char_shingle_hashes(texts: Sequence[str], ngram: int) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of every character n-gram of every text; (hashes, offsets)."""
    if ngram < 1:
        raise ValueError(f"ngram must be >= 1, got {ngram}")
    n_texts = len(texts)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=n_texts)
    counts = np.where(lengths >= ngram, lengths - ngram + 1, np.minimum(lengths, 1))
    offsets = np.zeros(n_texts + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    if offsets[-1] == 0:
        return np.zeros(0, dtype=np.uint64), offsets
    pad = "\0" * (ngram - 1)
    points = np.frombuffer((pad.join(texts) + pad).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    starts = np.zeros(n_texts, dtype=np.int64)
    np.cumsum(lengths[:-1] + (ngram - 1), out=starts[1:])
    if ngram > 1:  # the padding becomes a value no code point has, so "a" + pad never equals "a\0"
        pad_at = np.repeat(starts + lengths, ngram - 1) + np.tile(np.arange(ngram - 1), n_texts)
        points[pad_at] = PAD_POINT
    n_windows = points.size - ngram + 1
    weights = _position_weights(ngram)
    h = points[:n_windows] * weights[0]
    for j in range(1, ngram):
        h += points[j:j + n_windows] * weights[j]
    mix64(h)
    # window index of every shingle: text start + position within the text
    within = np.arange(offsets[-1], dtype=np.int64) - np.repeat(offsets[:-1], counts)
    return h[np.repeat(starts, counts) + within], offsets


def _distinct_per_text(hashes: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(vocabulary, ids, offsets): the sorted distinct hashes, and each text's distinct shingles as
    sorted indices into them (uint32), in CSR form."""
    n_texts = offsets.size - 1
    if hashes.size == 0:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.uint32), np.zeros(n_texts + 1, dtype=np.int64)
    vocabulary, dense = dense_ranks(hashes)
    if vocabulary.size > 1 << 32:  # pragma: no cover - 32 GiB of distinct shingles in one call
        raise ValueError(f"{vocabulary.size} distinct shingles: more than 2**32 in one call")
    owner = np.repeat(np.arange(n_texts, dtype=np.uint64), np.diff(offsets))
    keyed = sorted_distinct((owner << _U64(32)) | dense.astype(np.uint64))
    owners = (keyed >> _U64(32)).astype(np.int64)
    out_offsets = np.zeros(n_texts + 1, dtype=np.int64)
    np.cumsum(np.bincount(owners, minlength=n_texts), out=out_offsets[1:])
    return vocabulary, (keyed & _U64(0xFFFFFFFF)).astype(np.uint32), out_offsets


def unique_shingles(hashes: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each text's shingle set: sorted distinct dense ids (uint32 rank of the hash), in CSR form."""
    _, ids, out_offsets = _distinct_per_text(hashes, offsets)
    return ids.astype(np.int64), out_offsets


TEXTS_PER_CHUNK = 50_000  # texts shingled at once by `shingle_sets`: ~4M shingles, ~150 MB of temporaries


def shingle_sets(texts: Sequence[str], ngram: int, texts_per_chunk: int | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """`unique_shingles(*char_shingle_hashes(texts, ngram))` with bounded temporaries: each text is
    shingled once, `texts_per_chunk` texts at a time, and its distinct shingles are kept as uint32
    ranks among the distinct hashes of all the texts (4 bytes each), in CSR form. The ids are those
    `unique_shingles` gives for all the texts at once. `texts_per_chunk` defaults to TEXTS_PER_CHUNK."""
    texts_per_chunk = TEXTS_PER_CHUNK if texts_per_chunk is None else texts_per_chunk
    if texts_per_chunk < 1:
        raise ValueError(f"texts_per_chunk must be >= 1, got {texts_per_chunk}")
    parts = [_distinct_per_text(*char_shingle_hashes(texts[lo:lo + texts_per_chunk], ngram))
             for lo in range(0, len(texts), texts_per_chunk)]
    if len(parts) <= 1:
        _, ids, offsets = parts[0] if parts else _distinct_per_text(*char_shingle_hashes([], ngram))
        return ids, offsets
    vocabulary = sorted_distinct(np.concatenate([v for v, _, _ in parts]))
    # a chunk's local rank -> global rank: monotone, so each text's ids stay sorted
    ids = np.concatenate([np.searchsorted(vocabulary, v).astype(np.uint32)[local] for v, local, _ in parts])
    counts = np.concatenate([np.diff(o) for _, _, o in parts])
    offsets = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return ids, offsets


SKETCH_BUCKETS = 64  # buckets of a shingle sketch, by the low bits of the shingle's hash
SKETCH_MAX_COUNT = 0xFFFF  # a sketch's counts are uint16


class ShingleSketches(NamedTuple):
    """What bounds the Jaccard of two texts from 128 bytes each (see `shingle_sketches`)."""

    sizes: np.ndarray  # int64: at most the text's number of distinct shingles
    counts: np.ndarray  # (texts, SKETCH_BUCKETS) uint16: at least its distinct shingles per bucket
    unbounded: np.ndarray  # bool: more than SKETCH_MAX_COUNT shingles, `counts` clipped: no bound


def shingle_sketches(texts: Sequence[str], ngram: int, texts_per_chunk: int | None = None) -> ShingleSketches:
    """Per text: its shingles counted per bucket (the low bits of the hash, repeats counted) and a
    count of its distinct shingles that is never too high (distinct top bits of the hash within the
    text: one np.sort of 64-bit keys, no argsort). Texts A and B share at most
    sum(min(counts)) distinct shingles, so J(A, B) <= s / (sizes[A] + sizes[B] - s) for that sum s
    (a smaller denominator only raises the bound). Shingled `texts_per_chunk` (default
    TEXTS_PER_CHUNK) texts at a time."""
    texts_per_chunk = TEXTS_PER_CHUNK if texts_per_chunk is None else texts_per_chunk
    if texts_per_chunk < 1:
        raise ValueError(f"texts_per_chunk must be >= 1, got {texts_per_chunk}")
    sizes, counts, totals = [np.zeros(0, dtype=np.int64)], [np.zeros((0, SKETCH_BUCKETS), dtype=np.uint16)], []
    for lo in range(0, len(texts), texts_per_chunk):
        hashes, offsets = char_shingle_hashes(texts[lo:lo + texts_per_chunk], ngram)
        n = offsets.size - 1
        total = np.diff(offsets)
        owner = np.repeat(np.arange(n, dtype=np.int64), total)
        owner_bits = max(1, (n - 1).bit_length())
        keys = np.sort((owner.astype(np.uint64) << _U64(64 - owner_bits)) | (hashes >> _U64(owner_bits)))
        new = np.ones(keys.size, dtype=bool)
        new[1:] = keys[1:] != keys[:-1]
        sizes.append(np.bincount((keys[new] >> _U64(64 - owner_bits)).astype(np.int64), minlength=n))
        bucket = (hashes & _U64(SKETCH_BUCKETS - 1)).astype(np.int64)
        flat = np.bincount(owner * SKETCH_BUCKETS + bucket, minlength=n * SKETCH_BUCKETS)
        counts.append(np.minimum(flat, SKETCH_MAX_COUNT).astype(np.uint16).reshape(n, SKETCH_BUCKETS))
        totals.append(total)
    unbounded = np.concatenate(totals) > SKETCH_MAX_COUNT if totals else np.zeros(0, dtype=bool)
    return ShingleSketches(np.concatenate(sizes), np.concatenate(counts), unbounded)
