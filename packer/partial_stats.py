"""Mergeable statistics of an output's index parts: what `packer.stats` turns into stats.json.

Each ledger part and the packs part beside it (a part's packed rows point at packs of the paired
packs part, as the planning tasks write them) give one `PartStats`: counters, exact sums, exact
histograms over fixed bins, per-cell grids per (step, rank) and (label, step) as flat numpy
arrays (`CellGrid`: exact float sums as 32-bit limbs, `ExactSums`), and the few smallest or nearest
rows that the report shows as examples. `merge_parts` adds them; the merge is
exact, associative and independent of order, so stats.json is the same for one part or any split
of the same rows. Its size grows with the distinct (status, reason, source, task, language)
values, the steps × ranks and steps × labels cells and the occupied histogram bins, never with
the number of rows.

Two figures need rows of different parts side by side: dedup clusters (a duplicate and its kept
representative may sit in different parts) and upsampled copies that share a pack or a step (the
copies of a sample are planned in different groups). `keyed_rows` splits a part's few columns for
them into buckets by a hash of the key; `keyed_stats` reduces one bucket (all its parts together)
to a `KeyedStats`, and those merge like the part statistics.

Numbers:

- Integer sums are Python ints; sums of floats are exact too (`exact_float_sums`: each float is an
  integer times a power of two, summed as one big integer), so a mean is the correctly rounded
  quotient whatever the grouping.
- `Dist` keeps a histogram over fixed log-linear bins: the sign, the exponent and the top 10 bits
  of the mantissa of each value. Integers below 2,048 have a bin each (exact); any other value is known to
  within 2⁻¹⁰ of itself. Percentiles read from it are within `PERCENTILE_RELATIVE_ERROR` of the
  value that `numpy.percentile` gives over the rows (exact when both order statistics around the
  percentile are integers below 2,048).
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

MANTISSA_BITS = 10  # bits of mantissa a sketch bin keeps
_SHIFT = 52 - MANTISSA_BITS
_SUBNORMAL_BIN = 2.0 ** (-1074 + _SHIFT)  # the width of a sketch bin of subnormals (and the smallest normals)
PERCENTILE_RELATIVE_ERROR = 2.0 ** -MANTISSA_BITS
EXACT_INTEGERS_BELOW = 2 ** (MANTISSA_BITS + 1)
_FLOAT_SCALE = 1074 + 53  # a float sum is held as an integer times 2**-_FLOAT_SCALE
_EXP_MIN = -1074


# ---- exact sums ---------------------------------------------------------------------------------


_LIMB = 21
_LIMB_MASK = (1 << _LIMB) - 1
_DENSE = 1 << 21  # a key space up to this size is counted with bincount, a larger one is sorted


def dense_keys(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct keys ascending, per value the index of its key)."""
    keys = np.asarray(keys, np.int64)
    if not len(keys):
        return keys, keys
    lo, hi = int(keys.min()), int(keys.max())
    if hi - lo < _DENSE:
        seen = np.bincount(keys - lo, minlength=hi - lo + 1) > 0
        uniq = np.flatnonzero(seen)
        index = np.cumsum(seen) - 1
        return uniq + lo, index[keys - lo]
    uniq, inv = np.unique(keys, return_inverse=True)
    return uniq, inv.reshape(-1)


def _limb_sums(values: np.ndarray, index: np.ndarray, n: int) -> list[int]:
    """Exact int64 sums per index in range(n): each value split into 21-bit limbs whose float sums
    stay exact (below 2**53) for up to 2**32 values."""
    v = np.asarray(values, np.int64)
    sums = [np.bincount(index, weights=limb.astype(np.float64), minlength=n)
            for limb in (v & _LIMB_MASK, (v >> _LIMB) & _LIMB_MASK, v >> (2 * _LIMB))]
    return [int(a) + (int(b) << _LIMB) + (int(c) << (2 * _LIMB)) for a, b, c in zip(*(x.tolist() for x in sums))]


def exact_int_sums(values, groups: np.ndarray | None = None, n: int = 1) -> list[int]:
    """Sum of integer `values` per group in range(n) (all in group 0 without `groups`)."""
    values = np.asarray(values, dtype=np.int64)
    groups = np.zeros(len(values), np.int64) if groups is None else np.asarray(groups, np.int64)
    return _limb_sums(values, groups, n)


def exact_float_sums(values, groups: np.ndarray | None = None, n: int = 1) -> list[int]:
    """Exact sum of finite float `values` per group, as integers in units of 2**-_FLOAT_SCALE:
    value = mantissa · 2**(exponent - 53) with an integer mantissa, summed per (group, exponent)."""
    v = np.asarray(values, dtype=np.float64)
    groups = np.zeros(len(v), np.int64) if groups is None else np.asarray(groups, np.int64)
    mant, exp = np.frexp(v)
    mant = (mant * 2.0 ** 53).astype(np.int64)
    n_exp = 2200
    uniq, index = dense_keys(groups * n_exp + (exp.astype(np.int64) - _EXP_MIN))
    out = [0] * n
    for k, s in zip(uniq.tolist(), _limb_sums(mant, index, len(uniq))):
        g, e = divmod(k, n_exp)
        out[g] += s << e  # 2**(exp - 53 + _FLOAT_SCALE) = 2**(exp - _EXP_MIN)
    return out


def scaled_to_float(total: int, divisor: int = 1) -> float:
    """An exact float sum (`exact_float_sums`) over `divisor`, correctly rounded."""
    return total / (divisor << _FLOAT_SCALE) if divisor else 0.0


# ---- exact sums per cell as integer limbs ------------------------------------------------------

_LIMB_BITS = 32
_LIMB_BASE = 1 << _LIMB_BITS
_HALF = 1 << (_LIMB_BITS - 1)


def _carried(limbs: np.ndarray) -> np.ndarray:
    """The same values with every limb but the last in [0, 2**32) and the last in [-2**31, 2**31)
    (a limb is added on top while the last is outside)."""
    limbs = limbs.copy()
    while True:
        for j in range(limbs.shape[1] - 1):
            carry = limbs[:, j] >> _LIMB_BITS
            limbs[:, j] -= carry << _LIMB_BITS
            limbs[:, j + 1] += carry
        top = limbs[:, -1]
        if not len(top) or ((top >= -_HALF) & (top < _HALF)).all():
            return limbs
        limbs = np.concatenate((limbs, np.zeros((len(limbs), 1), np.int64)), axis=1)


class ExactSums:
    """One exact integer per cell, held as 32-bit limbs: value i is Σ_j limbs[i, j] · 2**(32·(low + j)),
    every limb in [0, 2**32) but the last, which is signed (two's complement in its uint32), and
    trimmed of limbs that are zero in every cell, so that equal values have one form. The integers
    are those of `exact_int_sums` and `exact_float_sums` (float sums in units of 2**-_FLOAT_SCALE):
    a few limbs of 4 bytes a cell where a Python int per cell took a few hundred bytes with its dict."""

    __slots__ = ("limbs", "low")

    def __init__(self, limbs: np.ndarray, low: int = 0):
        self.limbs, self.low = limbs, int(low)

    @classmethod
    def of(cls, values) -> ExactSums:
        vals = [int(v) for v in values]
        nonzero = [v for v in vals if v]
        if not nonzero:
            return cls(np.zeros((len(vals), 1), np.uint32))
        low = min((v & -v).bit_length() - 1 for v in nonzero) // _LIMB_BITS
        shifted = [v >> (_LIMB_BITS * low) for v in vals]
        width = -(-(max(v.bit_length() for v in shifted) + 1) // _LIMB_BITS)
        raw = np.frombuffer(b"".join(v.to_bytes(4 * width, "little", signed=True) for v in shifted), "<u4")
        limbs = raw.reshape(len(vals), width).astype(np.int64)
        limbs[:, -1] = np.where(limbs[:, -1] >= _HALF, limbs[:, -1] - _LIMB_BASE, limbs[:, -1])
        return cls._of_signed(limbs, low)

    @classmethod
    def _of_signed(cls, limbs: np.ndarray, low: int) -> ExactSums:
        """From int64 limbs of any size: carried (`_carried`), trimmed, stored as uint32."""
        limbs = _carried(limbs)
        while limbs.shape[1] > 1:
            top, below = limbs[:, -1], limbs[:, -2]
            if not (((top == 0) & (below < _HALF)) | ((top == -1) & (below >= _HALF))).all():
                break
            limbs = limbs[:, :-1].copy()
            limbs[:, -1] += top << _LIMB_BITS
        while limbs.shape[1] > 1 and not limbs[:, 0].any():
            limbs, low = limbs[:, 1:], low + 1
        if not limbs.any():
            low = 0
        return cls(np.ascontiguousarray(limbs.astype(np.uint32)), low)

    def __len__(self) -> int:
        return len(self.limbs)

    def _signed(self, low: int, width: int, rows: slice = slice(None)) -> np.ndarray:
        """The values as `width` int64 limbs from 2**(32·low) (the top one signed, the ones above it 0)."""
        mine = self.limbs[rows].astype(np.int64)
        mine[:, -1] = np.where(mine[:, -1] >= _HALF, mine[:, -1] - _LIMB_BASE, mine[:, -1])
        out = np.zeros((len(mine), width), np.int64)
        at = self.low - low
        out[:, at:at + mine.shape[1]] = mine
        return out

    @staticmethod
    def _span(parts) -> tuple[int, int]:
        low = min(p.low for p in parts)
        return low, max(p.low + p.limbs.shape[1] for p in parts) - low + 1  # a limb of headroom for the carry

    @staticmethod
    def scatter(index: np.ndarray, n: int, parts: list[ExactSums]) -> ExactSums:
        """Cell index[i] of n gets the i-th of the parts' values (concatenated), summed exactly."""
        low, width = ExactSums._span(parts)
        out = np.zeros((n, width), np.int64)
        np.add.at(out, index, np.concatenate([p._signed(low, width) for p in parts]))
        return ExactSums._of_signed(out, low)

    @staticmethod
    def concat(parts: list[ExactSums]) -> ExactSums:
        """The parts' cells one after the other. Each part is trimmed, so the span of the non-zero
        parts needs every limb of it: their limbs, sign-extended and zero-filled to that span, are
        the trimmed form of the whole (no int64 copy)."""
        live = [p for p in parts if p.limbs.any()]
        if not live:
            return ExactSums(np.zeros((sum(len(p) for p in parts), 1), np.uint32))
        low = min(p.low for p in live)
        width = max(p.low + p.limbs.shape[1] for p in live) - low
        out = np.zeros((sum(len(p) for p in parts), width), np.uint32)
        row = 0
        for p in parts:
            w, at = p.limbs.shape[1], p.low - low
            if p.limbs.any():
                out[row:row + len(p), at:at + w] = p.limbs
                out[row:row + len(p), at + w:] = np.where(p.limbs[:, -1:] >= _HALF, np.uint32(0xFFFFFFFF), np.uint32(0))
            row += len(p)
        return ExactSums(out, low)

    def ints(self, rows: slice = slice(None)) -> list[int]:
        limbs = self.limbs[rows]
        step = 4 * limbs.shape[1]
        raw = limbs.astype("<u4").tobytes()
        shift = _LIMB_BITS * self.low
        return [int.from_bytes(raw[i:i + step], "little", signed=True) << shift for i in range(0, len(raw), step)]

    def rows(self, a: int, b: int) -> ExactSums:
        return ExactSums(self.limbs[a:b], self.low)

    def minus(self, other: ExactSums) -> ExactSums:
        low, width = ExactSums._span([self, other])
        return ExactSums._of_signed(self._signed(low, width) - other._signed(low, width), low)

    def floats(self, chunk: int = 1 << 17) -> np.ndarray:
        """`_floats` of `chunk` cells at a time (its int64 work arrays are a few times the limbs)."""
        if len(self) <= chunk:
            return self._floats()
        return np.concatenate([self.rows(a, a + chunk)._floats() for a in range(0, len(self), chunk)])

    def _floats(self) -> np.ndarray:
        """The float sums (the integers times 2**-_FLOAT_SCALE), correctly rounded as `scaled_to_float`
        rounds them, without a Python int per cell: per cell the 63 leading bits of its magnitude,
        with the lowest one set where any bit below them is (so that rounding them to 53 bits rounds
        the whole value alike), converted and scaled by its power of two. Values beyond the normal
        float range go through `scaled_to_float`."""
        n, width = self.limbs.shape
        if not n:
            return np.zeros(0, np.float64)
        low = self.low - 2
        limbs = self._signed(low, width + 3)  # two zero limbs below: every cell has three from its top one
        negative = limbs[:, -2] < 0
        limbs[negative] = _carried(-limbs[negative])[:, :limbs.shape[1]]
        nonzero = limbs != 0
        top = limbs.shape[1] - 1 - np.argmax(nonzero[:, ::-1], axis=1)  # the top non-zero limb (0: the value is 0)
        rows = np.arange(n)
        high = limbs[rows, top].astype(np.uint64)
        mid = limbs[rows, np.maximum(top - 1, 0)].astype(np.uint64)
        below = limbs[rows, np.maximum(top - 2, 0)].astype(np.uint64)
        below_set = np.cumsum(nonzero, axis=1)[rows, np.maximum(top - 3, 0)] > 0
        sticky = below_set & (top >= 3)
        bits = np.frexp(high.astype(np.float64))[1].astype(np.int64)  # bit length of the top limb (exact)
        h = (high << np.uint64(_LIMB_BITS)) | mid  # the top two limbs: 32 + bits bits
        shift = bits + 1  # the three limbs hold 64 + bits bits; the top 63 are kept, `shift` (2 … 33) dropped
        u = (_LIMB_BITS - shift).clip(0, 63).astype(np.uint64)
        v = (shift - _LIMB_BITS).clip(0, 63).astype(np.uint64)
        small = shift <= _LIMB_BITS
        lead = np.where(small, (h << u) | (below >> shift.clip(0, 63).astype(np.uint64)), h >> v)
        dropped = np.where(small, below & ((np.uint64(1) << shift.clip(0, 63).astype(np.uint64)) - np.uint64(1)),
                           (h & np.uint64(1)) | below)
        lead = lead | ((dropped != 0) | sticky).astype(np.uint64)
        exponent = shift + _LIMB_BITS * (top - 2 + low) - _FLOAT_SCALE
        out = np.ldexp(lead.astype(np.int64).astype(np.float64), exponent)
        out = np.where(negative, -out, out)
        out[~nonzero.any(axis=1)] = 0.0
        odd = nonzero.any(axis=1) & ((exponent + 62 < -1021) | (exponent + 62 > 1022))
        for i in np.flatnonzero(odd).tolist():
            out[i] = scaled_to_float(self.ints(slice(i, i + 1))[0])
        return out


MAX_PENDING_GRIDS = 256  # grids a merge keeps side by side before it adds them up (CellGrid.merge)


class CellGrid:
    """Sums per cell of integer keys as flat numpy arrays: `keys` (cells × key columns, distinct
    rows in ascending order), the rows per cell `n`, exact integer sums (int64) and exact float
    sums (`ExactSums`). `labels` names the codes of key column 0 where it is a label (source or
    task). Merging adds cells with equal keys exactly, so it is associative and independent of order.

    A merge keeps the grids side by side (up to MAX_PENDING_GRIDS) and adds them all at once when a
    figure is read or the grid pickled: merging parts one at a time, as the driver does, copies the
    growing grid a few times, not once per part."""

    __slots__ = ("_keys", "_n", "_ints", "_floats", "_labels", "_pending")

    def __init__(self, keys=None, n=None, ints=None, floats=None, labels: tuple = ()):
        self._keys = np.zeros((0, 0), np.int64) if keys is None else keys
        self._n = np.zeros(0, np.int64) if n is None else n
        self._ints, self._floats, self._labels = dict(ints or {}), dict(floats or {}), tuple(labels)
        self._pending = None

    @classmethod
    def of(cls, keys: list[np.ndarray], ints: dict | None = None, floats: dict | None = None,
           labels: tuple = ()) -> CellGrid:
        """The cells of rows with these key columns, summing `ints` and `floats` (name -> column)."""
        if not len(keys[0]):
            return cls()
        if labels:  # codes into the sorted names of the labels present
            present = np.unique(keys[0])
            names = sorted(labels[c] for c in present.tolist())
            code = np.zeros(len(labels), np.int64)
            code[present] = np.searchsorted(np.asarray(names), np.asarray([labels[c] for c in present.tolist()]))
            keys, labels = [code[keys[0]], *keys[1:]], tuple(names)
        uniq, inv = _radix_keys(keys)
        m = len(uniq)
        return cls(uniq.astype(np.int64), np.bincount(inv, minlength=m).astype(np.int64),
                   {k: np.asarray(exact_int_sums(v, inv, m), np.int64) for k, v in (ints or {}).items()},
                   {k: ExactSums.of(exact_float_sums(v, inv, m)) for k, v in (floats or {}).items()}, labels)

    def _settled(self) -> CellGrid:
        if self._pending is not None:
            done = _add_grids(self._pending)
            self._keys, self._n, self._ints, self._floats, self._labels = (
                done._keys, done._n, done._ints, done._floats, done._labels)
            self._pending = None
        return self

    keys = property(lambda self: self._settled()._keys)
    n = property(lambda self: self._settled()._n)
    ints = property(lambda self: self._settled()._ints)
    floats = property(lambda self: self._settled()._floats)
    labels = property(lambda self: self._settled()._labels)

    def __len__(self) -> int:
        return len(self._settled()._n)

    def __getstate__(self):
        g = self._settled()
        return g._keys, g._n, g._ints, g._floats, g._labels

    def __setstate__(self, state):
        self._keys, self._n, self._ints, self._floats, self._labels = state
        self._pending = None

    def _pieces(self) -> list[CellGrid]:
        return list(self._pending) if self._pending is not None else [self] if len(self._n) else []

    def merge(self, o: CellGrid) -> CellGrid:
        pieces = self._pieces() + o._pieces()
        if len(pieces) <= 1:
            return pieces[0] if pieces else CellGrid()
        out = CellGrid()
        out._pending = pieces
        return out._settled() if len(pieces) > MAX_PENDING_GRIDS else out

    def nbytes(self) -> int:
        return (self.keys.nbytes + self.n.nbytes + sum(v.nbytes for v in self.ints.values())
                + sum(v.limbs.nbytes for v in self.floats.values()))


def _add_grids(grids: list[CellGrid]) -> CellGrid:
    """The cells of several settled grids added up: laid one after the other where their keys do
    not interleave (parts own their steps), else through one sort of all keys."""
    labels = tuple(sorted(set().union(*(g._labels for g in grids))))
    keys = []
    for g in grids:
        k = g._keys
        if g._labels != labels:  # the codes into the union of the names, in the same order
            k = k.copy()
            k[:, 0] = np.searchsorted(np.asarray(labels), np.asarray(g._labels))[k[:, 0]]
        keys.append(k)
    order = sorted(range(len(grids)), key=lambda i: tuple(keys[i][0].tolist()))
    if all(tuple(keys[a][-1].tolist()) < tuple(keys[b][0].tolist()) for a, b in zip(order, order[1:])):
        ordered = [grids[i] for i in order]
        return CellGrid(np.concatenate([keys[i] for i in order]), np.concatenate([g._n for g in ordered]),
                        {k: np.concatenate([g._ints[k] for g in ordered]) for k in grids[0]._ints},
                        {k: ExactSums.concat([g._floats[k] for g in ordered]) for k in grids[0]._floats}, labels)
    both = np.concatenate(keys)
    uniq, inv = _radix_keys([both[:, j] for j in range(both.shape[1])])
    m = len(uniq)

    def add(arrays):
        out = np.zeros(m, np.int64)
        np.add.at(out, inv, np.concatenate(arrays))
        return out

    return CellGrid(uniq.astype(np.int64), add([g._n for g in grids]),
                    {k: add([g._ints[k] for g in grids]) for k in grids[0]._ints},
                    {k: ExactSums.scatter(inv, m, [g._floats[k] for g in grids]) for k in grids[0]._floats}, labels)


# ---- a histogram over fixed log-linear bins -----------------------------------------------------


def sketch_keys(v: np.ndarray) -> np.ndarray:
    """The bin of each finite value, monotone in the value. A bin holds the values x with
    lower <= x < upper (`_bin_edges`): for x >= 0 those whose float bits agree in all but the low
    42 bits; for x < 0 the same on |x| shifted by one unit, so that its closed end is the far one."""
    v = np.asarray(v, dtype=np.float64)
    bits = np.abs(v).view(np.uint64)
    neg = v < 0
    k = (np.where(neg, bits - np.uint64(1), bits) >> np.uint64(_SHIFT)).astype(np.int64)
    return np.where(neg, -k - 1, k)


def _bin_edges(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper): the values of each bin are lower <= x < upper; both are multiples of the
    bin's width (a power of two)."""
    keys = np.asarray(keys, np.int64)
    mag = np.where(keys < 0, -keys - 1, keys).astype(np.uint64)
    near = (mag << np.uint64(_SHIFT)).view(np.float64)
    far = ((mag + np.uint64(1)) << np.uint64(_SHIFT)).view(np.float64)
    neg = keys < 0
    return np.where(neg, -far, near), np.where(neg, -near, far)


def _add_counts(keys_a, counts_a, keys_b, counts_b):
    keys = np.concatenate((keys_a, keys_b))
    counts = np.concatenate((counts_a, counts_b))
    if not len(keys):
        return keys.astype(np.int64), counts.astype(np.int64)
    uniq, inv = np.unique(keys, return_inverse=True)
    total = np.zeros(len(uniq), np.int64)
    np.add.at(total, inv, counts.astype(np.int64))
    return uniq, total


@dataclass
class Dist:
    """count, exact sum, min, max and a histogram over fixed log-linear bins (`sketch_keys`) of a column's values; with `fixed_edges`, the
    counts over those fixed edges too (a histogram whose bins are the caller's)."""

    count: int = 0
    total: int = 0  # exact sum, scaled (exact_float_sums)
    lo: float = float("inf")
    hi: float = float("-inf")
    keys: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    fixed_edges: tuple = ()
    fixed_counts: np.ndarray | None = None

    @classmethod
    def of(cls, values, fixed_edges: tuple = ()) -> Dist:
        v = np.asarray(values, dtype=np.float64)
        v = v[~np.isnan(v)]
        d = cls(fixed_edges=tuple(fixed_edges))
        if fixed_edges:
            d.fixed_counts = np.histogram(v, bins=np.asarray(fixed_edges))[0].astype(np.int64)
        if not len(v):
            return d
        d.count, d.total = int(len(v)), exact_float_sums(v)[0]
        d.lo, d.hi = float(v.min()), float(v.max())
        d.keys, index = dense_keys(sketch_keys(v))
        d.counts = np.bincount(index, minlength=len(d.keys)).astype(np.int64)
        return d

    def merge(self, other: Dist) -> Dist:
        if self.fixed_edges != other.fixed_edges and self.fixed_edges and other.fixed_edges:
            raise ValueError("distributions over different fixed bins cannot be merged")
        keys, counts = _add_counts(self.keys, self.counts, other.keys, other.counts)
        edges = self.fixed_edges or other.fixed_edges
        fixed = None
        if edges:
            zero = np.zeros(len(edges) - 1, np.int64)
            fixed = (self.fixed_counts if self.fixed_counts is not None else zero) + \
                    (other.fixed_counts if other.fixed_counts is not None else zero)
        return Dist(count=self.count + other.count, total=self.total + other.total, lo=min(self.lo, other.lo),
                    hi=max(self.hi, other.hi), keys=keys, counts=counts, fixed_edges=edges, fixed_counts=fixed)

    @property
    def mean(self) -> float:
        return scaled_to_float(self.total, self.count)

    @property
    def sum(self) -> float:
        return scaled_to_float(self.total)

    def percentiles(self, ps) -> list[float]:
        """numpy.percentile's (linear) percentiles, each order statistic read as the lower edge of
        its bin (clamped to min and max): within 2**-10 of itself, exact for integers below 2,048."""
        if not self.count:
            return [float("nan")] * len(ps)
        cum = np.cumsum(self.counts)
        value = np.clip(_bin_edges(self.keys)[0], self.lo, self.hi)
        out = []
        n = self.count
        for p in ps:
            q = p / 100.0
            h = n * q + (1.0 - q) - 1.0  # numpy's virtual index, rounded as numpy rounds it
            a = int(np.floor(h))
            b = min(a + 1, n - 1)
            xa = float(value[np.searchsorted(cum, a, side="right")])
            xb = float(value[np.searchsorted(cum, b, side="right")])
            t = h - a
            out.append(xb - (xb - xa) * (1.0 - t) if t >= 0.5 else xa + (xb - xa) * t)  # numpy's lerp
        return out

    def display_histogram(self, bins: int, lo: float | None = None) -> dict:
        """At most `bins` equal bins from `lo` (default the min) past the max, of a power-of-two
        width no finer than the sketch's bins near the largest value, so that each sketch bin lies in
        one of them and the counts are exact (numpy.histogram's half-open bins over these edges give
        them, save that numpy's division by the width overflows when the width is subnormal)."""
        if self.fixed_edges:
            return {"edges": [float(e) for e in self.fixed_edges], "counts": [int(c) for c in self.fixed_counts]}
        lo = self.lo if lo is None else min(lo, self.lo)
        top = max(abs(self.lo), abs(self.hi))
        # the sketch's bin width near the largest value; subnormals share one width, 2**-1032
        finest = max(2.0 ** (np.frexp(top)[1] - 1 - MANTISSA_BITS), _SUBNORMAL_BIN) if top > 0 else 1.0
        span = self.hi - lo
        width = max(finest, 2.0 ** np.ceil(np.log2(span / bins)) if span / bins > 0 else finest)
        while True:
            first = np.floor(lo / width)  # the first bin's index: exact, as `q` below
            if lo < 0 and first >= 0:  # a tiny negative `lo` whose division underflowed to -0
                first = -1.0
            start = first * width
            n = int(np.floor((self.hi - start) / width)) + 1
            if n <= bins:
                break
            width *= 2
        lower, _ = _bin_edges(self.keys)
        q = np.floor(lower / width)  # exact: a power-of-two division; never lower - start, which rounds
        q = np.where((lower < 0) & (q >= 0), -1.0, q)  # a tiny negative edge that underflowed to -0
        idx = (q - first).astype(np.int64).clip(0, n - 1)
        counts = np.bincount(idx, weights=self.counts, minlength=n).astype(np.int64)
        return {"edges": [float(start + width * i) for i in range(n + 1)], "counts": counts.tolist()}


def merge_dists(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, d in b.items():
        out[k] = out[k].merge(d) if k in out else d
    return out


def smallest(items, k: int) -> list:
    """The k smallest items (tuples compare as keys)."""
    return heapq.nsmallest(k, items)


# ---- keyed rows: clusters and copies ------------------------------------------------------------

KEYED_SCHEMA = pa.schema([("kind", pa.int8()), ("key", pa.string()), ("pack_id", pa.int64()), ("step", pa.int64())])
KIND_DUPLICATE, KIND_PACKED = 0, 1
TOP_CLUSTERS = 10


def bucket_of(keys, n_buckets: int) -> np.ndarray:
    """A bucket in range(n_buckets) per string, from a 64-bit FNV-1a hash of its UTF-8 bytes (the
    same in every part and process), computed a byte position at a time over all strings."""
    arr = pc.cast(keys, pa.large_string())
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    n = len(arr)
    h = np.full(n, 0xCBF29CE484222325, np.uint64)
    if not n:
        return h.astype(np.int64)
    offsets = np.frombuffer(arr.buffers()[1], np.int64)[arr.offset:arr.offset + n + 1]
    data = np.frombuffer(arr.buffers()[2], np.uint8) if arr.buffers()[2] is not None else np.zeros(0, np.uint8)
    starts, lengths = offsets[:-1], np.diff(offsets)
    live = np.arange(n)
    prime = np.uint64(0x100000001B3)
    for j in range(int(lengths.max())):
        live = live[lengths[live] > j]
        h[live] = (h[live] ^ data[starts[live] + j].astype(np.uint64)) * prime
    return (h % np.uint64(n_buckets)).astype(np.int64)


def keyed_rows(ledger: pa.Table, step_of_row: np.ndarray, n_buckets: int) -> list[pa.Table]:
    """The rows that `keyed_stats` needs, split into `n_buckets` by a hash of their key: each
    duplicate (key: its kept representative) and each packed row (key: its sample id, with its
    pack and step; `step_of_row` -1 where the row is not in a pack of the paired packs part)."""
    status = ledger.column("status")
    dup = pc.fill_null(pc.equal(status, "duplicate"), False)
    dups = ledger.filter(dup)
    dup_of = pc.fill_null(dups.column("dup_of"), "")
    dup_keep = pc.not_equal(dup_of, "")
    dups_t = pa.table({"kind": pa.array(np.full(dups.num_rows, KIND_DUPLICATE, np.int8)), "key": dup_of,
                       "pack_id": pa.array(np.full(dups.num_rows, -1, np.int64)),
                       "step": pa.array(np.full(dups.num_rows, -1, np.int64))}, schema=KEYED_SCHEMA).filter(dup_keep)
    in_pack = step_of_row >= 0
    packed = ledger.filter(pa.array(in_pack))
    packed_t = pa.table({"kind": pa.array(np.full(packed.num_rows, KIND_PACKED, np.int8)),
                         "key": packed.column("sample_id"), "pack_id": pc.fill_null(packed.column("pack_id"), -1),
                         "step": pa.array(step_of_row[in_pack])}, schema=KEYED_SCHEMA)
    rows = pa.concat_tables([dups_t, packed_t])
    if n_buckets == 1:
        return [rows]
    b = bucket_of(rows.column("key"), n_buckets)
    order = np.argsort(b, kind="stable")
    rows = rows.take(pa.array(order))
    bounds = np.searchsorted(b[order], np.arange(n_buckets + 1))
    return [rows.slice(lo, hi - lo) for lo, hi in zip(bounds[:-1], bounds[1:])]


@dataclass
class KeyedStats:
    """What needs rows of different parts together: dedup clusters (a kept representative and the
    rows marked duplicate of it) and upsampled copies that share a pack or a step."""

    n_clusters: int = 0
    cluster_sizes: Counter = field(default_factory=Counter)  # size -> clusters
    largest: list = field(default_factory=list)  # (-size, representative), the TOP_CLUSTERS smallest
    copies_sharing_pack: int = 0
    copies_sharing_step: int = 0

    def merge(self, other: KeyedStats) -> KeyedStats:
        return KeyedStats(n_clusters=self.n_clusters + other.n_clusters,
                          cluster_sizes=self.cluster_sizes + other.cluster_sizes,
                          largest=smallest(self.largest + other.largest, TOP_CLUSTERS),
                          copies_sharing_pack=self.copies_sharing_pack + other.copies_sharing_pack,
                          copies_sharing_step=self.copies_sharing_step + other.copies_sharing_step)


def keyed_stats(*tables: pa.Table) -> KeyedStats:
    """One bucket of `keyed_rows`, from every part: its keys are in no other bucket."""
    rows = pa.concat_tables([t.cast(KEYED_SCHEMA) for t in tables]) if tables else KEYED_SCHEMA.empty_table()
    kind = rows.column("kind").to_numpy()
    dups = rows.filter(pa.array(kind == KIND_DUPLICATE))
    members = dups.group_by("key").aggregate([("key", "count")])
    sizes = members.column("key_count").to_numpy() + 1 if members.num_rows else np.zeros(0, np.int64)
    reps = members.column("key").to_pylist()
    out = KeyedStats(n_clusters=members.num_rows, cluster_sizes=Counter(int(s) for s in sizes),
                     largest=smallest(zip((-sizes).tolist(), reps), TOP_CLUSTERS))
    packed = rows.filter(pa.array(kind == KIND_PACKED))
    if packed.num_rows:
        out.copies_sharing_pack = packed.num_rows - packed.group_by(["key", "pack_id"]).aggregate([]).num_rows
        out.copies_sharing_step = packed.num_rows - packed.group_by(["key", "step"]).aggregate([]).num_rows
    return out


# ---- a part's statistics ------------------------------------------------------------------------

STAGES = ("read", "probe", "filter", "grounding", "dedup", "tokens", "mix", "pack")
NO_REASON = "(none)"
UNKNOWN_LANG = "und"
_EXAMPLES_AT_THRESHOLD = 5  # rows nearest a score threshold per side (packer.curation_stats)
EXAMPLE_ROWS = 20  # the smallest (sample_id, copy) rows kept per reason; the report shows 5 distinct ids
TOKEN_COLUMNS = ("text_tokens", "vision_tokens", "loss_tokens", "total_tokens")
FILL_BINS = 20
REAL_TOKEN_BINS = 30
# a row that left without a reason code is put at the stage its status implies
_STAGE_OF_STATUS = {"duplicate": "dedup", "too_long": "pack", "remainder": "pack"}


def stage_of_reason(reason: str | None, status: str) -> str:
    """The stage a reason code names: the part before the first "."."""
    if reason:
        return reason.split(".", 1)[0]
    return _STAGE_OF_STATUS.get(status, "other")


def counted_by_tokens(status: str, reason: str) -> bool:
    """A row the token stage counted: packed, or left at tokens (not for a tokens.* reason), mix or pack."""
    return status == "packed" or (stage_of_reason(reason, status) in ("tokens", "mix", "pack")
                                  and not reason.startswith("tokens."))


def reached_mix(status: str, reason: str) -> bool:
    return status == "packed" or stage_of_reason(reason, status) in ("mix", "pack")


class Coded:
    """A string column as integer codes into its distinct values: a ledger has millions of rows but
    a handful of statuses, reasons, sources, tasks and languages."""

    def __init__(self, column, fill: str = ""):
        arr = pc.fill_null(column, fill)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        enc = pc.dictionary_encode(arr)
        self.values: list[str] = enc.dictionary.to_pylist()
        self.codes = np.asarray(enc.indices.to_numpy(zero_copy_only=False), dtype=np.int64)

    def eq(self, value: str) -> np.ndarray:
        if value not in self.values:
            return np.zeros(len(self.codes), dtype=bool)
        return self.codes == self.values.index(value)

    def map(self, fn, dtype=object) -> np.ndarray:
        """`fn(value)` for every row, evaluated once per distinct value."""
        table = np.empty(len(self.values), dtype=dtype)
        for i, v in enumerate(self.values):
            table[i] = fn(v)
        return table[self.codes]


def _radix_keys(columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(distinct rows as a 2-D array, per row the index of its distinct row) of integer columns,
    through one mixed-radix int64 key."""
    cols = [np.asarray(c, np.int64) for c in columns]
    lows = [int(c.min()) for c in cols]
    radix = [int(c.max()) - lo + 1 for c, lo in zip(cols, lows)]
    if math.prod(radix) >= 1 << 62:  # pragma: no cover - far more distinct values than any ledger has
        uniq, inv = np.unique(np.stack(cols, axis=1), axis=0, return_inverse=True)
        return uniq, inv.reshape(-1)
    key = np.zeros(len(cols[0]), np.int64)
    for c, lo, r in zip(cols, lows, radix):
        key = key * r + (c - lo)
    uniq, index = dense_keys(key)
    out = np.empty((len(uniq), len(cols)), np.int64)
    rest = uniq.copy()
    for j in range(len(cols) - 1, -1, -1):
        out[:, j] = rest % radix[j] + lows[j]
        rest //= radix[j]
    return out, index


def tally(*columns) -> Counter:
    """Rows per distinct tuple of values: each column a `Coded` or a bool/int array."""
    if not len(columns[0].codes if isinstance(columns[0], Coded) else columns[0]):
        return Counter()
    uniq, index = _radix_keys([c.codes if isinstance(c, Coded) else c for c in columns])
    n = np.bincount(index, minlength=len(uniq))
    out = Counter()
    for row, c in zip(uniq.tolist(), n.tolist()):
        out[tuple(col.values[v] if isinstance(col, Coded) else (bool(v) if isinstance(col, np.ndarray) and
                  col.dtype == bool else int(v)) for col, v in zip(columns, row))] += c
    return out


def _ints(table: pa.Table, col: str) -> np.ndarray:
    return np.asarray(pc.fill_null(table.column(col), 0).to_numpy(zero_copy_only=False), dtype=np.int64)


def _floats(table: pa.Table, col: str) -> np.ndarray:
    return np.asarray(pc.fill_null(table.column(col), np.nan).to_numpy(zero_copy_only=False), dtype=np.float64)


def _cells(keys: list[np.ndarray], sums: dict[str, tuple[str, np.ndarray]]) -> dict:
    """Per distinct key tuple: the row count ("n") and each named sum ("int" or "float" exact)."""
    if not len(keys[0]):
        return {}
    uniq, inv = _radix_keys(keys)
    n = np.bincount(inv, minlength=len(uniq))
    per = {name: (exact_int_sums if kind == "int" else exact_float_sums)(v, inv, len(uniq))
           for name, (kind, v) in sums.items()}
    return {tuple(u): {"n": int(c), **{name: per[name][i] for name in per}}
            for i, (u, c) in enumerate(zip(uniq.tolist(), n.tolist()))}


def _add_cells(a: dict, b: dict) -> dict:
    out = {k: dict(v) for k, v in a.items()}
    for k, v in b.items():
        mine = out.setdefault(k, dict.fromkeys(v, 0))
        for name, x in v.items():
            mine[name] += x
    return out


@dataclass
class PartStats:
    """The mergeable statistics of one ledger part and its packs part (module docstring)."""

    rows: Counter = field(default_factory=Counter)  # (status, reason, source, task, is_copy) -> rows
    langs: Counter = field(default_factory=Counter)  # (lang, source, task, copy 0, packed, lang null) -> rows
    examples: dict = field(default_factory=dict)  # reason -> smallest (sample_id, copy, stage) of dropped rows
    tokens: dict = field(default_factory=dict)  # ("packed" | "counted", column) -> Dist
    packed_items: Counter = field(default_factory=Counter)  # total_tokens, vit_patches, n_images of packed rows
    lang_scores: dict = field(default_factory=dict)  # language -> Dist of lang_score (copy 0)
    mix_entering: dict = field(default_factory=dict)  # (source, task) -> {"n", "tokens"} of rows reaching mix
    mix_cells: dict = field(default_factory=dict)  # kind -> CellGrid (label, step): n, tokens of packed rows
    mix_t2: Counter = field(default_factory=Counter)  # (kind, label) -> Σ tokens² of packed rows
    mix_totals: Counter = field(default_factory=Counter)  # "n", "tokens", "tokens2" of packed rows in a pack
    repairs: Counter = field(default_factory=Counter)  # repair code -> rows; None -> rows repaired
    scores: dict = field(default_factory=dict)  # column -> {"non_null": int, "dist": Dist}
    score_examples: dict = field(default_factory=dict)  # (column, source, side) -> nearest (distance, id, score)
    score_sources: dict = field(default_factory=dict)  # column -> sources with a score (copy 0)
    packs: Counter = field(default_factory=Counter)  # n_packs, filler, repeat, content, real, padded, content_*
    pack_dists: dict = field(default_factory=dict)  # "fill", "real_tokens", "samples_per_pack" -> Dist
    shapes: dict = field(default_factory=dict)  # (seq_len, vit_bucket) -> {"n", filler, real, padded, patches}
    balance: CellGrid = field(default_factory=CellGrid)  # (step, rank): n, real_tokens; attn, vit, cost exact

    def merge(self, o: PartStats) -> PartStats:
        ex = dict(self.examples)
        for r, rows in o.examples.items():
            ex[r] = smallest(ex.get(r, []) + rows, EXAMPLE_ROWS)
        sex = dict(self.score_examples)
        for k, rows in o.score_examples.items():
            sex[k] = smallest(sex.get(k, []) + rows, _EXAMPLES_AT_THRESHOLD)
        scores = {c: dict(v) for c, v in self.scores.items()}
        for c, v in o.scores.items():
            mine = scores.get(c)
            scores[c] = v if mine is None else {"non_null": mine["non_null"] + v["non_null"],
                                                "dist": mine["dist"].merge(v["dist"])}
        ssrc = {c: set(v) for c, v in self.score_sources.items()}
        for c, v in o.score_sources.items():
            ssrc.setdefault(c, set()).update(v)
        return PartStats(
            rows=self.rows + o.rows, langs=self.langs + o.langs, examples=ex,
            tokens=merge_dists(self.tokens, o.tokens), packed_items=self.packed_items + o.packed_items,
            lang_scores=merge_dists(self.lang_scores, o.lang_scores),
            mix_entering=_add_cells(self.mix_entering, o.mix_entering), mix_cells=merge_grids(self.mix_cells, o.mix_cells),
            mix_t2=self.mix_t2 + o.mix_t2, mix_totals=self.mix_totals + o.mix_totals, repairs=self.repairs + o.repairs,
            scores=scores, score_examples=sex, score_sources=ssrc, packs=self.packs + o.packs,
            pack_dists=merge_dists(self.pack_dists, o.pack_dists), shapes=_add_cells(self.shapes, o.shapes),
            balance=self.balance.merge(o.balance))


def merge_grids(a: dict, b: dict) -> dict:
    return {k: a.get(k, CellGrid()).merge(b.get(k, CellGrid())) for k in sorted(set(a) | set(b))}


def merge_parts(parts) -> PartStats:
    """All parts' statistics in one: exact, whatever their order or grouping."""
    out = PartStats()
    for p in parts:
        out = out.merge(p)
    return out


def step_of_rows(ledger: pa.Table, packs: pa.Table) -> np.ndarray:
    """Per ledger row, the step of its pack in `packs` (-1: not packed, or its pack is not there)."""
    pid = np.asarray(pc.fill_null(ledger.column("pack_id"), -1).to_numpy(zero_copy_only=False), np.int64)
    packed = pc.fill_null(pc.equal(ledger.column("status"), "packed"), False).to_numpy(zero_copy_only=False)
    out = np.full(len(pid), -1, np.int64)
    if not packs.num_rows:
        return out
    ids = _ints(packs, "pack_id")
    order = np.argsort(ids, kind="stable")
    at = np.searchsorted(ids[order], pid).clip(0, len(ids) - 1)
    found = packed & (pid >= 0) & (ids[order][at] == pid)
    out[found] = _ints(packs, "step")[order][at][found]
    return out


def part_stats(ledger: pa.Table, packs: pa.Table, cfg, step_of_row: np.ndarray | None = None) -> PartStats:
    """The statistics of one ledger part and the packs part its packed rows point at."""
    p = PartStats()
    _ledger_stats(p, ledger, cfg, step_of_rows(ledger, packs) if step_of_row is None else step_of_row)
    _pack_stats(p, packs, cfg.pack)
    return p


def _ledger_stats(p: PartStats, ledger: pa.Table, cfg, step_of_row: np.ndarray) -> None:
    if not ledger.num_rows:
        return
    status, reason = Coded(ledger.column("status")), Coded(ledger.column("reason"))
    source, task = Coded(ledger.column("source")), Coded(ledger.column("task"))
    copy = _ints(ledger, "copy")
    is_copy = copy > 0
    p.rows = tally(status, reason, source, task, is_copy)
    packed = status.eq("packed")

    # examples: the smallest dropped rows per reason, with the stage each left at
    dropped = ~packed
    for code, r in enumerate(reason.values):
        rows = np.flatnonzero(dropped & (reason.codes == code))
        if not len(rows):
            continue
        sub = ledger.take(pa.array(rows)).select(["sample_id", "copy", "status"] + (
            ["detail"] if "detail" in ledger.column_names else []))
        sub = sub.take(pc.select_k_unstable(sub, EXAMPLE_ROWS, [("sample_id", "ascending"), ("copy", "ascending")]))
        # an example names what its reason is about when the ledger says (the media file a probe failed on)
        details = sub.column("detail").to_pylist() if "detail" in sub.column_names else [None] * sub.num_rows
        p.examples[r or NO_REASON] = sorted((i if d is None else f"{i} ({d})", int(c), stage_of_reason(r, s))
                                            for i, c, s, d in zip(sub.column("sample_id").to_pylist(),
                                                                  sub.column("copy").to_pylist(),
                                                                  sub.column("status").to_pylist(), details))

    # tokens of the packed rows and of every row the token stage counted
    pairs = {(s, r) for s, r, *_ in p.rows}
    counted_pairs = {k for k in pairs if counted_by_tokens(*k)}
    n_reasons = max(len(reason.values), 1)
    pair_code = status.codes * n_reasons + reason.codes
    counted = np.isin(pair_code, [status.values.index(s) * n_reasons + reason.values.index(r) for s, r in counted_pairs])
    for col in TOKEN_COLUMNS:
        v = _ints(ledger, col)
        p.tokens[("packed", col)] = Dist.of(v[packed])
        p.tokens[("counted", col)] = Dist.of(v[counted])
    for col in ("total_tokens", "vit_patches", "n_images"):
        p.packed_items[col] = exact_int_sums(_ints(ledger, col)[packed])[0]

    # languages
    lang_null = np.asarray(pc.is_null(ledger.column("lang")).to_numpy(zero_copy_only=False), bool)
    lang = Coded(ledger.column("lang"), UNKNOWN_LANG)
    lang.values = [v or UNKNOWN_LANG for v in lang.values]  # an empty language id counts as undetermined
    copy0 = copy == 0
    p.langs = tally(lang, source, task, copy0, packed, lang_null)
    score = _floats(ledger, "lang_score")
    scored = copy0 & ~np.isnan(score)
    for name in sorted(set(lang.values)):
        mask = scored & np.isin(lang.codes, [i for i, v in enumerate(lang.values) if v == name])
        if mask.any():
            p.lang_scores[name] = Dist.of(score[mask])

    # mix: rows entering it per (source, task), packed rows per (step, label)
    reach_pairs = [status.values.index(s) * n_reasons + reason.values.index(r) for s, r in pairs if reached_mix(s, r)]
    reach = copy0 & np.isin(pair_code, reach_pairs)
    tok = _ints(ledger, "total_tokens")
    p.mix_entering = {(source.values[s], task.values[t]): v for (s, t), v in _cells(
        [source.codes[reach], task.codes[reach]], {"tokens": ("int", tok[reach])}).items()}
    valid = step_of_row >= 0
    t_valid = tok[valid]
    for kind, coded in (("source", source), ("task", task)):
        p.mix_cells[kind] = CellGrid.of([coded.codes[valid], step_of_row[valid]], {"tokens": t_valid},
                                        labels=tuple(coded.values))
        t2 = exact_int_sums(t_valid * t_valid, coded.codes[valid], len(coded.values))
        p.mix_t2.update({(kind, coded.values[g]): x for g, x in enumerate(t2) if x})
    p.mix_totals.update({"n": int(valid.sum()), "tokens": exact_int_sums(t_valid)[0],
                         "tokens2": exact_int_sums(t_valid * t_valid)[0]})

    _curation(p, ledger, cfg, source, copy0)


def _curation(p: PartStats, ledger: pa.Table, cfg, source: Coded, copy0: np.ndarray) -> None:
    from packer.curation_stats import EXAMPLES_AT_THRESHOLD, FAILED_BY_REASON, SCORES, threshold_of

    if "repairs" in ledger.column_names:
        lists = ledger.column("repairs")
        p.repairs = Counter({d["values"]: d["counts"] for d in pc.value_counts(pc.list_flatten(lists)).to_pylist()})
        p.repairs[None] = int(pc.sum(pc.fill_null(pc.greater(pc.list_value_length(lists), 0), False)).as_py() or 0)
    ids = None
    for column, (_, _, above) in SCORES.items():
        if column not in ledger.column_names:
            continue
        v = _floats(ledger, column)
        has = ~np.isnan(v)
        p.scores[column] = {"non_null": int(has.sum()), "dist": Dist.of(v[has & copy0])}
        mine = has & copy0
        p.score_sources[column] = {source.values[c] for c in np.unique(source.codes[mine]).tolist()}
        for src in p.score_sources[column]:
            limit = threshold_of(cfg, column, src)
            if limit is None:
                continue
            rows = np.flatnonzero(mine & (source.codes == source.values.index(src)))
            if column in FAILED_BY_REASON:
                reason = pc.fill_null(pc.equal(ledger.column("reason").take(pa.array(rows)), FAILED_BY_REASON[column]), False)
                failing = np.asarray(reason, dtype=bool)
            else:
                failing = v[rows] > limit if above else v[rows] < limit
            if ids is None:
                ids = ledger.column("sample_id")
            for side, sel in (("failed", failing), ("kept", ~failing)):
                near = rows[sel][np.argsort(np.abs(v[rows[sel]] - limit), kind="stable")]
                # enough rows that every row at the k-th distance is a candidate for the id tie-break
                if len(near) > EXAMPLES_AT_THRESHOLD:
                    d = np.abs(v[near] - limit)
                    near = near[d <= d[EXAMPLES_AT_THRESHOLD - 1]]
                names = ids.take(pa.array(near)).to_pylist()
                p.score_examples[(column, src, side)] = smallest(
                    [(float(abs(v[i] - limit)), n, float(v[i])) for i, n in zip(near.tolist(), names)],
                    EXAMPLES_AT_THRESHOLD)


def _pack_stats(p: PartStats, packs: pa.Table, pack_cfg) -> None:
    if not packs.num_rows:
        return
    real, padded = _ints(packs, "real_tokens"), _ints(packs, "seq_len")
    patches = _ints(packs, "vit_patches")
    filler = np.asarray(packs.column("is_filler").to_numpy(zero_copy_only=False), bool)
    repeat = _ints(packs, "repeat_of") >= 0
    content = ~filler & ~repeat
    p.packs.update({"n_packs": len(real), "filler": int(filler.sum()), "repeat": int(repeat.sum()),
                    "content": int(content.sum()), "real": exact_int_sums(real)[0], "padded": exact_int_sums(padded)[0],
                    "content_real": exact_int_sums(real[content])[0],
                    "content_padded": exact_int_sums(padded[content])[0]})
    fill = np.divide(real, padded, out=np.zeros(len(real)), where=padded > 0)
    p.pack_dists = {
        "fill": Dist.of(fill[content], fixed_edges=tuple(np.linspace(0.0, 1.0, FILL_BINS + 1))),
        "real_tokens": Dist.of(real[content], fixed_edges=tuple(
            np.linspace(0.0, float(pack_cfg.context_length), REAL_TOKEN_BINS + 1))),
        "samples_per_pack": Dist.of(_ints(packs, "n_samples")[content]),
    }
    bucketed = bool(getattr(pack_cfg, "patch_bucketing", bool(pack_cfg.vit_buckets)))
    vb = _ints(packs, "vit_bucket") if bucketed else np.zeros(len(real), np.int64)
    p.shapes = _cells([padded, vb], {"filler": ("int", filler.astype(np.int64)), "real": ("int", real),
                                     "padded": ("int", padded), "patches": ("int", patches)})
    vit = _floats(packs, "vit_cost")
    cost = _floats(packs, "cost") if "cost" in packs.column_names else vit * 0.0
    p.balance = CellGrid.of([_ints(packs, "step"), _ints(packs, "rank")], {"real_tokens": real}, {
        "attn_cost": _floats(packs, "attn_cost"), "vit_cost": vit, "cost": cost})
