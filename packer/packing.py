"""Pack planning: global best-fit-decreasing on integer lengths, with two capacities.

`plan_packs` sees only integer arrays aligned with the samples (LLM tokens, ViT patches, images),
never payloads. A pack holds at most ``context_length`` LLM tokens, ``max_vit_patches`` ViT
patches and ``max_images_per_pack`` images. A sample over any capacity is `too_long` and is never
truncated; with ``split_text_only`` a text-only sample may instead be cut at turn boundaries into
pieces that each fit (the caller passes the per-turn token lengths).

How best-fit-decreasing runs in O(n log n) in numpy plus a short Python loop
----------------------------------------------------------------------------
A bin's state is (R, Q, I): remaining tokens, patches and images. Exact two-dimensional best fit
needs a query "smallest R >= t among bins with Q >= p"; instead each item is given a *ratio class*
and each class keeps its own one-dimensional index of bins:

- class 0 holds text-only items (p = m = 0); its key is R and an item's size is t — exact.
- class j >= 1 stands for items with at most rho_j patches per token, where rho_j is a fixed
  fraction of max_vit_patches / context_length. The key of a bin is
  ``min(R, floor(Q / rho_j), floor(I · C / M))`` and an item's size is
  ``max(t, ceil(p / rho_j), ceil(m · C / M))``. Size <= key is *sufficient* for the item to fit,
  and so is q · size <= key for q items of that size, so a whole run of equal-size items can be
  placed at once. An item takes the smallest class whose ratio is >= its own, so its size is
  just t unless it is more patch-heavy than the largest class.

Items are processed by decreasing size (ties: class, then sample index). Items of one (class, size)
form a run; a run repeatedly takes the bucket with the smallest key >= size (a Python big-int
bitmap over keys 0..C finds it in one shift), gives each of its bins ``key // size`` items, and
re-indexes the touched bins in every class. Every visit places at least one item, so the work is
O(n log C) in the worst case and, with many equal lengths, far less. Text-only items see the true
token room of every bin, so they fill the token slack that patch-heavy items leave and vice versa.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from schemas.pack_config import PackConfig

# Ratio classes for items with images: rho_j = (a / b) · max_vit_patches / context_length.
_RATIO_CLASSES: tuple[tuple[int, int], ...] = ((1, 4), (1, 2), (1, 1), (4, 3))


@dataclass(frozen=True, eq=False)
class PackPlan:
    """The result of `plan_packs`. Per-sample arrays are aligned with the input; per-pack arrays
    have ``n_packs`` entries. Packs are numbered in the order best-fit opened them."""

    pack_of: np.ndarray  # int64 per sample: its pack, or -1 (too_long, or split into pieces)
    too_long: np.ndarray  # bool per sample: over a capacity (and not split)
    position: np.ndarray  # int64 per sample: order inside its pack (by sample index), -1 if none
    n_packs: int
    pack_tokens: np.ndarray  # int64 per pack: real LLM tokens
    pack_patches: np.ndarray  # int64 per pack: real ViT patches
    pack_images: np.ndarray  # int64 per pack
    pack_samples: np.ndarray  # int64 per pack: samples and pieces in it
    seq_len: np.ndarray  # int64 per pack: smallest allowed LLM bucket >= pack_tokens
    vit_bucket: np.ndarray  # int64 per pack: smallest allowed patch bucket >= pack_patches
    attn_cost: np.ndarray  # float64 per pack: Σ len² over its samples (attention is per sample)
    vit_cost: np.ndarray  # float64 per pack: ViT cost under the compute model
    llm_cost: np.ndarray  # float64 per pack: llm_token_cost · Σ len + llm_attention_cost · Σ len²
    cost: np.ndarray  # float64 per pack: llm_cost + vit_cost, what step assembly balances
    lower_bound: int  # max(ceil(Σt/C), ceil(Σp/P), ceil(Σm/M)) over the packable samples
    # split_text_only: samples cut into pieces, and one row per piece.
    split: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # bool per sample
    piece_sample: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    piece_turn_start: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # first turn
    piece_turn_stop: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # one past last
    piece_tokens: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    piece_pack: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    piece_position: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


class PackCosts(NamedTuple):
    attn_cost: np.ndarray  # Σ len² per pack
    vit_cost: np.ndarray
    llm_cost: np.ndarray
    cost: np.ndarray  # llm_cost + vit_cost


# ---------------------------------------------------------------------------------------------
# argument checking


def _int_array(name: str, a, n: int | None = None) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D integer array, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name}: expected an integer array, got dtype {arr.dtype}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name}: has {arr.shape[0]} entries, expected {n} (one per sample)")
    arr = arr.astype(np.int64, copy=False)
    if arr.size and int(arr.min()) < 0:
        raise ValueError(f"{name}: values must be >= 0, got {int(arr.min())}")
    return arr


def _sample_arrays(tokens, patches, images) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = _int_array("tokens", tokens)
    p = _int_array("patches", patches, t.shape[0])
    m = _int_array("images", images, t.shape[0])
    if t.size and int(t.min()) < 1:
        raise ValueError(f"tokens: every sample needs >= 1 LLM token, got {int(t.min())}")
    return t, p, m


def _over_capacity(t: np.ndarray, p: np.ndarray, m: np.ndarray | None, cfg: PackConfig) -> np.ndarray:
    over = (t > cfg.context_length) | (p > cfg.max_vit_patches)
    if m is not None:
        over |= m > cfg.max_images_per_pack
    return over


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def lower_bound(tokens, patches, cfg: PackConfig, images=None) -> int:
    """max(ceil(Σtokens / C), ceil(Σpatches / P)) — and ceil(Σimages / M) when images are given —
    over the samples that fit a pack at all (too_long samples are not packed)."""
    t = _int_array("tokens", tokens)
    p = _int_array("patches", patches, t.shape[0])
    m = None if images is None else _int_array("images", images, t.shape[0])
    ok = ~_over_capacity(t, p, m, cfg)
    lb = max(_ceil_div(int(t[ok].sum()), cfg.context_length), _ceil_div(int(p[ok].sum()), cfg.max_vit_patches))
    if m is not None:
        lb = max(lb, _ceil_div(int(m[ok].sum()), cfg.max_images_per_pack))
    return lb


# ---------------------------------------------------------------------------------------------
# compute model


def sample_costs(tokens, patches, images, cfg: PackConfig, patches_sq=None) -> PackCosts:
    """Per-sample costs under the compute model (see `schemas.pack_config`).

    ``patches_sq`` is Σ over the sample's images of patches²; without it the patches are assumed
    to be split evenly over the images (p² / m)."""
    t = np.asarray(tokens, dtype=np.float64)
    p = np.asarray(patches, dtype=np.float64)
    m = np.asarray(images, dtype=np.float64)
    if patches_sq is None:
        psq = p * p / np.maximum(m, 1.0)
    else:
        psq = np.asarray(patches_sq, dtype=np.float64)
    attn = t * t
    llm = cfg.llm_token_cost * t + cfg.llm_attention_cost * attn
    window_layers = cfg.vit_layers - cfg.vit_full_attention_layers
    vit = (
        cfg.vit_layers * cfg.vit_patch_cost * p
        + cfg.vit_full_attention_layers * cfg.vit_attention_cost * psq
        + window_layers * cfg.vit_attention_cost * cfg.vit_window_patches * p
    )
    return PackCosts(attn, vit, llm, llm + vit)


def pack_costs(
    tokens, patches, images, pack_of, n_packs: int, cfg: PackConfig, *, patches_sq=None
) -> PackCosts:
    """Sum the per-sample costs into packs (``pack_of`` < 0 is skipped)."""
    pack_of = np.asarray(pack_of, dtype=np.int64)
    s = sample_costs(tokens, patches, images, cfg, patches_sq)
    ok = pack_of >= 0
    idx = pack_of[ok]

    def total(v: np.ndarray) -> np.ndarray:
        return np.bincount(idx, weights=v[ok], minlength=n_packs).astype(np.float64)

    return PackCosts(*(total(v) for v in s))


def shape_of(plan_tokens: np.ndarray, plan_patches: np.ndarray, cfg: PackConfig) -> tuple[np.ndarray, np.ndarray]:
    """The padded (seq_len, vit_bucket) of packs with the given real totals."""
    lb = np.asarray(cfg.llm_buckets, dtype=np.int64)
    seq_len = lb[np.searchsorted(lb, plan_tokens, side="left")]
    vb = np.asarray(cfg.vit_buckets, dtype=np.int64)
    vit_bucket = vb[np.searchsorted(vb, plan_patches, side="left")] if vb.size else plan_patches.copy()
    return seq_len, vit_bucket


# ---------------------------------------------------------------------------------------------
# the best-fit engine


class _BestFit:
    """Bins indexed by effective remaining capacity, one index per ratio class (module docstring).

    A bucket is a list of bin ids; an entry is live while the bin's key in that class still equals
    the bucket's key (keys only decrease), so moving a bin only appends, and stale entries are
    dropped when their bucket is visited."""

    def __init__(self, cfg: PackConfig, capacity: int):
        self.C = cfg.context_length
        self.P = cfg.max_vit_patches
        self.M = cfg.max_images_per_pack
        # class j >= 1: key = min(R, Q * qnum // qden); size = max(t, ceil(p * qden / qnum))
        self.qnum = np.array([0] + [self.C * b for a, b in _RATIO_CLASSES], np.int64)
        self.qden = np.array([1] + [self.P * a for a, b in _RATIO_CLASSES], np.int64)
        self.ncls = 1 + len(_RATIO_CLASSES)
        self.n = 0
        cap = max(capacity, 16)
        self.R = np.zeros(cap, np.int64)
        self.Q = np.zeros(cap, np.int64)
        self.Im = np.zeros(cap, np.int64)
        self.key = np.full((self.ncls, cap), -1, np.int64)
        self.buckets: list[list[list[int]]] = [[[] for _ in range(self.C + 1)] for _ in range(self.ncls)]
        self.mask = [0] * self.ncls

    def keys(self, R: np.ndarray, Q: np.ndarray, Im: np.ndarray) -> np.ndarray:
        """Keys of the given bins in every class, shape (ncls, len(R))."""
        k = np.empty((self.ncls, R.shape[0]), np.int64)
        k[0] = R
        if self.ncls > 1:
            qk = Q[None, :] * self.qnum[1:, None] // self.qden[1:, None]
            k[1:] = np.where(Im[None, :] > 0, np.minimum(R[None, :], qk), 0)
        return k

    def item_class_and_size(self, t: np.ndarray, p: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cls = np.zeros(t.shape[0], np.int8)
        size = t.copy()
        media = (p > 0) | (m > 0)
        if not media.any():
            return cls, size
        tm, pm = t[media], p[media]
        last = self.ncls - 1
        cm = np.full(tm.shape[0], last, np.int8)
        # smallest class with p / t <= rho_j  <=>  p * qnum <= t * qden
        for c in range(last, 0, -1):
            cm[pm * self.qnum[c] <= tm * self.qden[c]] = c
        sm = np.maximum(tm, -(-(pm * self.qden[cm]) // self.qnum[cm]))
        cls[media] = cm
        size[media] = sm
        return cls, size

    def open(self, count: int) -> np.ndarray:
        if self.n + count > self.R.shape[0]:
            new = max(self.n + count, 2 * self.R.shape[0])
            self.R = np.resize(self.R, new)
            self.Q = np.resize(self.Q, new)
            self.Im = np.resize(self.Im, new)
            key = np.full((self.ncls, new), -1, np.int64)
            key[:, : self.n] = self.key[:, : self.n]
            self.key = key
        ids = np.arange(self.n, self.n + count, dtype=np.int64)
        self.R[ids] = self.C
        self.Q[ids] = self.P
        self.Im[ids] = self.M
        self.key[:, ids] = -1
        self.n += count
        return ids

    def find(self, c: int, size: int) -> int:
        """Smallest key >= size with a (possibly stale) entry in class c, or -1."""
        if size > self.C:
            return -1
        m = self.mask[c] >> size
        if not m:
            return -1
        return size + (m & -m).bit_length() - 1

    def take(self, c: int, r: int, need: int) -> list[int]:
        """Remove and return up to `need` live bins from bucket r of class c (oldest first)."""
        lst = self.buckets[c][r]
        keys = self.key[c]
        if len(lst) <= 8:
            live = [b for b in lst if keys[b] == r]
        else:
            arr = np.array(lst, dtype=np.int64)
            live = arr[keys[arr] == r].tolist()
        got, rest = live[:need], live[need:]
        if rest:
            self.buckets[c][r] = rest
        else:
            self.buckets[c][r] = []
            self.mask[c] ^= 1 << r
        return got

    def put(self, c: int, bins: list[int], key: int) -> None:
        """Return live bins (their key unchanged) to bucket `key` of class c."""
        lst = self.buckets[c][key]
        if not lst:
            self.mask[c] |= 1 << key
        lst.extend(bins)

    def reindex(self, bins: np.ndarray, taken_class: int) -> None:
        """Recompute the keys of `bins` (taken from class `taken_class`, or new) and file them."""
        newk = self.keys(self.R[bins], self.Q[bins], self.Im[bins])
        put = (newk != self.key[:, bins]) & (newk > 0)
        put[taken_class] = newk[taken_class] > 0
        self.key[:, bins] = newk
        cs, js = np.nonzero(put)
        if not cs.shape[0]:
            return
        ks = newk[cs, js]
        bs = bins[js]
        if cs.shape[0] <= 24:
            buckets, mask = self.buckets, self.mask
            for c, k, b in zip(cs.tolist(), ks.tolist(), bs.tolist()):
                lst = buckets[c][k]
                if not lst:
                    mask[c] |= 1 << k
                lst.append(b)
            return
        ck = cs * (self.C + 1) + ks
        order = np.argsort(ck, kind="stable")
        ck, bs = ck[order], bs[order]
        cut = np.flatnonzero(np.diff(ck)) + 1
        starts = np.concatenate(([0], cut)).tolist()
        stops = np.concatenate((cut, [ck.shape[0]])).tolist()
        ckl, bl = ck.tolist(), bs.tolist()
        buckets, mask, width = self.buckets, self.mask, self.C + 1
        for lo, hi in zip(starts, stops):
            c, k = divmod(ckl[lo], width)
            lst = buckets[c][k]
            if not lst:
                mask[c] |= 1 << k
            lst.extend(bl[lo:hi])


def _best_fit_decreasing(t: np.ndarray, p: np.ndarray, m: np.ndarray, cfg: PackConfig) -> np.ndarray:
    """Assign every item (each of which fits an empty pack) to a bin; returns the bin per item."""
    n = t.shape[0]
    out = np.full(n, -1, np.int64)
    if n == 0:
        return out
    bf = _BestFit(cfg, capacity=2 * _ceil_div(int(t.sum()), cfg.context_length) + 16)
    cls, size = bf.item_class_and_size(t, p, m)
    # decreasing size, then class, then sample index (the stable sort keeps index order)
    top = int(size.max()) + 1
    sort_key = (top - size) * bf.ncls + cls
    order = np.argsort(sort_key, kind="stable")
    ks = sort_key[order]
    ts, ps, ms = t[order], p[order], m[order]
    bin_sorted = np.empty(n, np.int64)
    cut = np.flatnonzero(np.diff(ks)) + 1
    run_lo = np.concatenate(([0], cut))
    run_hi = np.concatenate((cut, [n]))
    run_cls = cls[order][run_lo].tolist()
    run_size = size[order][run_lo].tolist()
    # per-run maxima of the real lengths (image-class runs mix items of one effective size)
    run_t = np.maximum.reduceat(ts, run_lo).tolist()
    run_p = np.maximum.reduceat(ps, run_lo).tolist()
    run_m = np.maximum.reduceat(ms, run_lo).tolist()
    C, P, M = bf.C, bf.P, bf.M

    def place(bins: np.ndarray, qs: np.ndarray, lo: int, hi: int, c: int) -> None:
        """Give bins[i] the next qs[i] items of [lo, hi) (qs >= 1, Σqs >= hi - lo); bins that get
        none stay filed as they were (reindex with the taken class re-files them)."""
        cum = np.cumsum(qs)
        cnt = hi - lo
        used = int(np.searchsorted(cum, cnt, side="left")) + 1
        qs = qs[:used].copy()
        qs[-1] -= int(cum[used - 1]) - cnt
        ub = bins[:used]
        bin_sorted[lo:hi] = np.repeat(ub, qs)
        if used == cnt:
            bf.R[ub] -= ts[lo:hi]
            if c:
                bf.Q[ub] -= ps[lo:hi]
                bf.Im[ub] -= ms[lo:hi]
        else:
            starts = np.concatenate(([0], cum[: used - 1]))
            bf.R[ub] -= np.add.reduceat(ts[lo:hi], starts)
            if c:
                bf.Q[ub] -= np.add.reduceat(ps[lo:hi], starts)
                bf.Im[ub] -= np.add.reduceat(ms[lo:hi], starts)
        bf.reindex(bins, c)

    for lo, hi, c, s, tmax, pmax, mmax in zip(
        run_lo.tolist(), run_hi.tolist(), run_cls, run_size, run_t, run_p, run_m
    ):
        pos = lo
        starved: list[tuple[int, list[int]]] = []  # bins without room for mmax images, out for this run
        while pos < hi:
            r = bf.find(c, s)
            if r < 0:
                break
            q = r // s
            got = bf.take(c, r, _ceil_div(hi - pos, q))
            if not got:
                continue
            bins = np.array(got, dtype=np.int64)
            if c == 0:
                qs = np.full(bins.shape[0], q, np.int64)
            else:
                # q per bin from its real room for the worst items of the run (>= q but for images)
                qs = bf.R[bins] // tmax
                if pmax:
                    qs = np.minimum(qs, bf.Q[bins] // pmax)
                if mmax:
                    qs = np.minimum(qs, bf.Im[bins] // mmax)
                if not qs.all():
                    starved.append((r, bins[qs == 0].tolist()))
                    bins, qs = bins[qs > 0], qs[qs > 0]
                    if not bins.shape[0]:
                        continue
            cnt = min(int(qs.sum()), hi - pos)
            place(bins, qs, pos, pos + cnt, c)
            pos += cnt
        for r, bins_ in starved:
            bf.put(c, bins_, r)
        if pos < hi:
            if c == 0:
                q0 = C // s
            else:
                q0 = C // tmax
                if pmax:
                    q0 = min(q0, P // pmax)
                if mmax:
                    q0 = min(q0, M // mmax)
            new = bf.open(_ceil_div(hi - pos, q0))
            place(new, np.full(new.shape[0], q0, np.int64), pos, hi, c)
    out[order] = bin_sorted
    return out



# ---------------------------------------------------------------------------------------------
# split_text_only


def _split_pieces(
    cand: np.ndarray, turn_offsets: np.ndarray, turn_tokens: np.ndarray, C: int
) -> tuple[list[int], list[int], list[int], list[int], list[int]]:
    """Greedy cut of each candidate sample into consecutive turn runs of <= C tokens.
    Returns (split samples, piece sample, piece turn start, piece turn stop, piece tokens); a
    sample with one turn over C is not split (it stays too_long)."""
    split, ps, pa, pb, pt = [], [], [], [], []
    for i in cand.tolist():
        lo, hi = int(turn_offsets[i]), int(turn_offsets[i + 1])
        lens = turn_tokens[lo:hi].tolist()
        if not lens or max(lens) > C:
            continue
        start, acc = 0, 0
        pieces = []
        for j, L in enumerate(lens):
            if acc + L > C:
                pieces.append((start, j, acc))
                start, acc = j, 0
            acc += L
        pieces.append((start, len(lens), acc))
        split.append(i)
        for a, b, tok in pieces:
            ps.append(i)
            pa.append(a)
            pb.append(b)
            pt.append(tok)
    return split, ps, pa, pb, pt


# ---------------------------------------------------------------------------------------------
# the public planner


def plan_packs(
    tokens,
    patches,
    images,
    cfg: PackConfig,
    *,
    patches_sq=None,
    turn_offsets=None,
    turn_tokens=None,
) -> PackPlan:
    """Plan packs with global best-fit-decreasing over integer arrays aligned with the samples.

    The caller passes the samples in canonical order (sorted by (sample_id, copy)); ties are broken
    by that index, so the plan is deterministic. ``patches_sq`` (Σ patches² over a sample's images)
    refines the ViT cost only. With ``cfg.split_text_only``, ``turn_offsets`` (n + 1 offsets) and
    ``turn_tokens`` (CSR per-turn token lengths summing to ``tokens[i]``) let a text-only sample
    over ``context_length`` be cut at turn boundaries instead of being too_long.
    """
    t, p, m = _sample_arrays(tokens, patches, images)
    n = t.shape[0]
    C = cfg.context_length
    over = _over_capacity(t, p, m, cfg)

    split_mask = np.zeros(n, bool)
    piece_sample = piece_a = piece_b = piece_tok = np.zeros(0, np.int64)
    if cfg.split_text_only and (turn_offsets is not None or turn_tokens is not None):
        if turn_offsets is None or turn_tokens is None:
            raise ValueError("turn_offsets and turn_tokens: pass both (CSR per-turn token lengths) or neither")
        offs = _int_array("turn_offsets", turn_offsets, n + 1)
        tt = _int_array("turn_tokens", turn_tokens)
        if n and (offs[0] != 0 or offs[-1] != tt.shape[0] or (np.diff(offs) < 0).any()):
            raise ValueError(
                f"turn_offsets: must start at 0, be non-decreasing and end at len(turn_tokens) "
                f"({tt.shape[0]}), got start {int(offs[0])} end {int(offs[-1])}"
            )
        cand = np.flatnonzero((t > C) & (p == 0) & (m == 0))
        if cand.size:
            csum = np.concatenate(([0], np.cumsum(tt)))
            sums = csum[offs[cand + 1]] - csum[offs[cand]]
            bad = sums != t[cand]
            if bad.any():
                i = int(cand[np.flatnonzero(bad)[0]])
                raise ValueError(
                    f"turn_tokens: the turns of sample {i} sum to {int(sums[np.flatnonzero(bad)[0]])}, "
                    f"expected tokens[{i}] = {int(t[i])}"
                )
            s, ps_, pa_, pb_, pt_ = _split_pieces(cand, offs, tt, C)
            split_mask[s] = True
            piece_sample = np.asarray(ps_, np.int64)
            piece_a = np.asarray(pa_, np.int64)
            piece_b = np.asarray(pb_, np.int64)
            piece_tok = np.asarray(pt_, np.int64)
    too_long = over & ~split_mask

    # packing items: whole samples that fit, then pieces
    whole = np.flatnonzero(~over)
    n_pieces = piece_sample.shape[0]
    it = np.concatenate((t[whole], piece_tok))
    ip = np.concatenate((p[whole], np.zeros(n_pieces, np.int64)))
    im = np.concatenate((m[whole], np.zeros(n_pieces, np.int64)))
    # canonical item order: by sample index, then piece
    item_sample = np.concatenate((whole, piece_sample))
    item_piece = np.concatenate((np.full(whole.shape[0], -1, np.int64), np.arange(n_pieces, dtype=np.int64)))
    if n_pieces:
        canon = np.lexsort((item_piece, item_sample))
        bins_canon = _best_fit_decreasing(it[canon], ip[canon], im[canon], cfg)
        item_bin = np.empty_like(bins_canon)
        item_bin[canon] = bins_canon
    else:
        item_bin = _best_fit_decreasing(it, ip, im, cfg)
    n_packs = int(item_bin.max()) + 1 if item_bin.size else 0

    # position inside a pack: by (sample index, piece index)
    pos = np.empty(item_bin.shape[0], np.int64)
    if item_bin.size:
        by_pack = np.lexsort((item_piece, item_sample, item_bin)) if n_pieces else np.argsort(item_bin, kind="stable")
        sorted_bins = item_bin[by_pack]
        first = np.searchsorted(sorted_bins, sorted_bins, side="left")
        pos[by_pack] = np.arange(item_bin.shape[0]) - first
    nw = whole.shape[0]
    pack_of = np.full(n, -1, np.int64)
    pack_of[whole] = item_bin[:nw]
    position = np.full(n, -1, np.int64)
    position[whole] = pos[:nw]

    def per_pack(v: np.ndarray) -> np.ndarray:
        return np.bincount(item_bin, weights=v, minlength=n_packs).astype(np.int64)

    pack_tokens = per_pack(it)
    pack_patches = per_pack(ip)
    pack_images = per_pack(im)
    pack_samples = np.bincount(item_bin, minlength=n_packs).astype(np.int64)
    seq_len, vit_bucket = shape_of(pack_tokens, pack_patches, cfg)
    psq = None
    if patches_sq is not None:
        psq_s = np.asarray(patches_sq, dtype=np.float64)
        if psq_s.shape != (n,):
            raise ValueError(f"patches_sq: has shape {psq_s.shape}, expected ({n},)")
        psq = np.concatenate((psq_s[whole], np.zeros(n_pieces)))
    costs = pack_costs(it, ip, im, item_bin, n_packs, cfg, patches_sq=psq)
    return PackPlan(
        pack_of=pack_of,
        too_long=too_long,
        position=position,
        n_packs=n_packs,
        pack_tokens=pack_tokens,
        pack_patches=pack_patches,
        pack_images=pack_images,
        pack_samples=pack_samples,
        seq_len=seq_len,
        vit_bucket=vit_bucket,
        attn_cost=costs.attn_cost,
        vit_cost=costs.vit_cost,
        llm_cost=costs.llm_cost,
        cost=costs.cost,
        lower_bound=lower_bound(it, ip, cfg, images=im),
        split=split_mask,
        piece_sample=piece_sample,
        piece_turn_start=piece_a,
        piece_turn_stop=piece_b,
        piece_tokens=piece_tok,
        piece_pack=item_bin[nw:],
        piece_position=pos[nw:],
    )


# ---------------------------------------------------------------------------------------------
# shape buckets


@dataclass(frozen=True)
class ShapeReport:
    """Distinct padded shapes and the padding they cost."""

    shapes: tuple[tuple[int, int, int], ...]  # (seq_len, vit_bucket, n_packs), most packs first
    real_tokens: int
    padded_tokens: int
    real_patches: int
    padded_patches: int

    @property
    def token_waste(self) -> float:
        return 1.0 - self.real_tokens / self.padded_tokens if self.padded_tokens else 0.0

    @property
    def patch_waste(self) -> float:
        return 1.0 - self.real_patches / self.padded_patches if self.padded_patches else 0.0

    def as_dict(self) -> dict:
        return {
            "n_shapes": len(self.shapes),
            "shapes": [{"seq_len": a, "vit_bucket": b, "n_packs": c} for a, b, c in self.shapes],
            "real_tokens": self.real_tokens,
            "padded_tokens": self.padded_tokens,
            "token_waste": self.token_waste,
            "real_patches": self.real_patches,
            "padded_patches": self.padded_patches,
            "patch_waste": self.patch_waste,
        }


def shape_report(plan: PackPlan) -> ShapeReport:
    """Distinct (seq_len, vit_bucket) shapes with their pack counts, and the padding waste."""
    if plan.n_packs:
        pairs = np.stack((plan.seq_len, plan.vit_bucket), axis=1)
        uniq, counts = np.unique(pairs, axis=0, return_counts=True)
        order = np.lexsort((uniq[:, 1], uniq[:, 0], -counts))
        shapes = tuple((int(uniq[i, 0]), int(uniq[i, 1]), int(counts[i])) for i in order)
    else:
        shapes = ()
    return ShapeReport(
        shapes=shapes,
        real_tokens=int(plan.pack_tokens.sum()),
        padded_tokens=int(plan.seq_len.sum()),
        real_patches=int(plan.pack_patches.sum()),
        padded_patches=int(plan.vit_bucket.sum()),
    )
