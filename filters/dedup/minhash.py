"""MinHash signatures over shingle hashes, LSH bands × rows, and band bucket keys.

Permutation i maps a shingle's 32-bit hash x to (a_i·x + b_i) mod 2³² with a_i odd (a bijection
of the 32-bit values); the signature keeps the minimum per permutation. It is computed with numpy
in (num_perm × shingles) tiles of a few thousand shingles, so a tile stays in cache and
`np.minimum.reduceat` runs along contiguous rows. A test shows the estimate of Jaccard is as good
as datasketch's on the same shingles.
"""

from __future__ import annotations

import functools

import numpy as np

from filters.dedup.shingles import char_shingle_hashes, mix64

_U64 = np.uint64
TILE_SHINGLES = 8192  # shingles per tile: 128 permutations × 8192 × 4 B = 4 MiB
EMPTY = np.uint32(0xFFFFFFFF)  # every slot of the signature of a text without shingles


class MinHasher:
    """`num_perm` seeded permutations; `signatures` is a pure function of (seed, shingles)."""

    def __init__(self, num_perm: int, seed: int):
        if not 1 <= num_perm <= 4096:
            raise ValueError(f"num_perm must be in [1, 4096], got {num_perm}")
        rng = np.random.default_rng([seed & 0xFFFFFFFFFFFFFFFF, 0x6D696E68617368])
        self.num_perm = num_perm
        self.seed = seed
        self.a = (rng.integers(0, 2**32, num_perm, dtype=np.uint64) | _U64(1)).astype(np.uint32)
        self.b = rng.integers(0, 2**32, num_perm, dtype=np.uint64).astype(np.uint32)

    def signatures(self, hashes: np.ndarray, offsets: np.ndarray, perms: slice = slice(None)) -> np.ndarray:
        """(n_texts, num_perm) uint32 signatures of shingle hashes in CSR form; with `perms`, only
        those permutations' columns."""
        n_texts = offsets.size - 1
        a, b = self.a[perms, None], self.b[perms, None]
        out = np.full((a.shape[0], n_texts), EMPTY, dtype=np.uint32)
        x = (hashes >> _U64(32)).astype(np.uint32)
        nonempty = np.flatnonzero(np.diff(offsets) > 0)
        starts = offsets[nonempty]
        tile = np.empty((a.shape[0], TILE_SHINGLES), dtype=np.uint32)
        total = int(offsets[-1])
        lo = 0
        while lo < total:
            hi = min(total, lo + TILE_SHINGLES)
            # texts with shingles in [lo, hi): the one holding lo, up to the last starting before hi
            first = int(np.searchsorted(starts, lo, side="right")) - 1
            last = int(np.searchsorted(starts, hi, side="left"))
            seg = np.maximum(starts[first:last], lo) - lo
            buf = tile[:, : hi - lo]
            np.multiply(a, x[None, lo:hi], out=buf)
            buf += b
            part = np.minimum.reduceat(buf, seg, axis=1)
            cols = nonempty[first:last]
            out[:, cols] = np.minimum(out[:, cols], part)
            lo = hi
        return np.ascontiguousarray(out.T)

    def text_signatures(self, texts: list[str], ngram: int) -> np.ndarray:
        return self.signatures(*char_shingle_hashes(texts, ngram))


def _trapezoid(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    return ((y[..., 1:] + y[..., :-1]) * 0.5 * np.diff(x)).sum(axis=-1)


@functools.cache
def lsh_params(threshold: float, num_perm: int, false_positive_weight: float = 0.5,
               false_negative_weight: float = 0.5, min_probability: float = 0.0) -> tuple[int, int]:
    """(bands, rows) minimising the weighted false-positive and false-negative areas, among the
    shapes under which a pair at exactly J = threshold is a candidate with probability at least
    `min_probability`.

    The same objective as datasketch's `_optimal_param`: the candidate probability of a pair with
    Jaccard s is 1-(1-s^r)^b; the false-positive area integrates it over [0, threshold], the
    false-negative area integrates its complement over [threshold, 1]. Integrated here by the
    trapezoid rule on a fine grid, for every (b, r) with b·r <= num_perm at once.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    grid = 4001
    s_fp = np.linspace(0.0, threshold, grid)
    s_fn = np.linspace(threshold, 1.0, grid)
    best, best_err = (1, 1), np.inf
    rows = np.arange(1, num_perm + 1, dtype=np.float64)
    for b in range(1, num_perm + 1):
        r = rows[: num_perm // b][:, None]
        fp = _trapezoid(1.0 - (1.0 - s_fp[None, :] ** r) ** b, s_fp)
        fn = _trapezoid((1.0 - s_fn[None, :] ** r) ** b, s_fn)
        err = fp * false_positive_weight + fn * false_negative_weight
        err = np.where(candidate_probability(threshold, b, r[:, 0]) >= min_probability, err, np.inf)
        i = int(np.argmin(err))
        if err[i] < best_err:
            best, best_err = (b, i + 1), float(err[i])
    if not np.isfinite(best_err):
        raise ValueError(f"no bands × rows with bands·rows <= {num_perm} makes a pair at J = {threshold} a "
                         f"candidate with probability >= {min_probability}; raise num_perm or lower it")
    return best


def candidate_probability(jaccard: float | np.ndarray, bands: int, rows: int) -> np.ndarray:
    """Probability that a pair with this Jaccard shares at least one band bucket."""
    return 1.0 - (1.0 - np.asarray(jaccard, dtype=np.float64) ** rows) ** bands


BAND_SHIFT = 56
HASH_MASK = _U64((1 << BAND_SHIFT) - 1)


def band_bucket_keys(signatures: np.ndarray, bands: int, rows: int, scope: np.ndarray,
                     first_band: int = 0) -> np.ndarray:
    """(n, bands) uint64 bucket keys of bands first_band .. first_band + bands - 1, whose
    signature columns are `signatures[:, (band - first_band) * rows ...]`: band index in the top
    byte, a 56-bit hash of the band's values and the row's scope key below it."""
    n, num_perm = signatures.shape
    if bands * rows > num_perm:
        raise ValueError(f"bands × rows = {bands} × {rows} exceeds num_perm {num_perm}")
    sig = signatures.astype(np.uint64)
    out = np.empty((n, bands), dtype=np.uint64)
    for k in range(bands):
        band = first_band + k
        h = mix64(scope.astype(np.uint64) ^ _U64(0x9E3779B97F4A7C15 * (band + 1) & 0xFFFFFFFFFFFFFFFF))
        for j in range(k * rows, (k + 1) * rows):
            h ^= sig[:, j]
            h *= _U64(0x100000001B3)  # FNV-1a style fold, finalised below
            h = mix64(h)
        out[:, k] = (h & HASH_MASK) | _U64(band << BAND_SHIFT)
    return out


def reserved_bucket_keys(keys: np.ndarray, band: int) -> np.ndarray:
    """Bucket keys of a reserved band (exact text, image) from already-scoped 64-bit keys."""
    return (mix64(keys.astype(np.uint64, copy=True)) & HASH_MASK) | _U64(band << BAND_SHIFT)
