"""Pack planning: global best-fit-decreasing on integer lengths, with two capacities.

`plan_packs` sees only integer arrays aligned with the samples (LLM tokens, ViT patches, images),
never payloads. A pack holds at most ``context_length`` LLM tokens, ``max_vit_patches`` ViT
patches and ``max_images_per_pack`` images. A sample over any capacity is `too_long` and is never
truncated; with ``split_text_only`` a text-only sample may instead be cut at turn boundaries into
pieces that each fit (the caller passes the per-turn token lengths).

How best-fit-decreasing runs in O(n log n): numpy plus a lean Python loop
--------------------------------------------------------------------------
A bin's state is (R, Q, I): remaining tokens, patches and images. Two media limits become one:
an item's *media units* are w = max(p, ceil(m · P / M)) and a bin's media room is
W = min(Q, floor(I · P / M)); Σ w <= W keeps both the patch and the image limit. Exact
two-dimensional best fit would need "smallest R >= t among bins with W >= w"; instead each item
gets a *ratio class* and each class keeps its own one-dimensional index of bins:

- class 0 holds text-only items (w = 0); its key is R and an item's size is t — exact.
- class j >= 1 stands for items with at most rho_j media units per token, rho_j = (1/4, 1/2, 1) ·
  P / C. A bin's key is ``min(R, floor(W / rho_j))`` and an item's size ``max(t, ceil(w / rho_j))``.
  Size <= key is *sufficient* for the item to fit, and q · size <= key for q such items, so a run
  of equal-size items is placed a bucket at a time. An item takes the smallest class whose ratio is
  >= its own, so its size is t unless it is more media-heavy than a full pack can be (w/t > P/C).

Each class's buckets (one min-heap of bin ids per key 0..C; equal keys go to the oldest bin) sit
behind a two-level bitmap of Python ints that finds the smallest non-empty key >= size in a few
word operations. Moving a bin only pushes it to its new key (keys never grow); stale entries are
skipped when popped. Every bucket visit places at least one item, so the work is O(n log C) at
worst and far less with many equal lengths; at 10M lognormal lengths it is ~25 s on one core.

Order, in three phases (ties: class, then sample index, so the plan is deterministic):
0. items over half a bin, by decreasing size, best fit (no two of them share a bin);
1. the *scarce kind* — where tokens bind overall (Σw/P < Σt/C), items with w/t > P/C; where media
   binds, items with w/t < P/C — levelled by worst fit over lower-bound many bins (empty ones are
   opened first). Packed by best fit, they would fill bins with media and leave token room that
   nothing later can use; levelled, every bin keeps its share of both;
2. everything else by decreasing size, best fit. Text-only items see the true token room of every
   bin, so they fill what media-heavy items leave.
A run that finds no bin opens new ones, each with as many items as the worst items of the run
allow; topping them up with the same run packs worse than leaving the slack to later items.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from heapq import heappop, heappush
from typing import NamedTuple

import numpy as np

from schemas.pack_config import PackConfig

# Ratio classes for items with images: rho_j = (a / b) · max_vit_patches / context_length.
_RATIO_CLASSES: tuple[tuple[int, int], ...] = ((1, 4), (1, 2), (1, 1))


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


class _KeySet:
    """A set of keys in 0..size-1 with "smallest key >= s": a two-level bitmap of Python ints
    (64-bit words plus one bit per non-empty word)."""

    __slots__ = ("words", "top")

    def __init__(self, size: int):
        self.words = [0] * ((size >> 6) + 1)
        self.top = 0

    def add(self, k: int) -> None:
        w = k >> 6
        x = self.words[w]
        if not x:
            self.top |= 1 << w
        self.words[w] = x | (1 << (k & 63))

    def discard(self, k: int) -> None:
        w = k >> 6
        x = self.words[w] & ~(1 << (k & 63))
        self.words[w] = x
        if not x:
            self.top &= ~(1 << w)

    def last(self) -> int:
        """The largest key, or -1."""
        if not self.top:
            return -1
        w = self.top.bit_length() - 1
        return (w << 6) + self.words[w].bit_length() - 1

    def first_at_least(self, s: int) -> int:
        w = s >> 6
        if w >= len(self.words):
            return -1
        x = self.words[w] >> (s & 63)
        if x:
            return s + (x & -x).bit_length() - 1
        t = self.top >> (w + 1)
        if not t:
            return -1
        w += (t & -t).bit_length()
        x = self.words[w]
        return (w << 6) + (x & -x).bit_length() - 1


def _media_units(p: np.ndarray, m: np.ndarray, cfg: PackConfig) -> np.ndarray:
    """Media units of items: their patches, but at least P / M per image, so that Σ units <= a
    bin's media room W = min(Q, I · P / M) keeps both the patch and the image limit."""
    return np.maximum(p, -(-(m * cfg.max_vit_patches) // cfg.max_images_per_pack))


def _item_class_and_size(
    t: np.ndarray, w: np.ndarray, qnum: list[int], qden: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Ratio class of every item (0: no media) and its effective size in that class."""
    cls = np.zeros(t.shape[0], np.int64)
    size = t.copy()
    media = w > 0
    if not media.any():
        return cls, size
    tm, wm = t[media], w[media]
    last = len(qnum) - 1
    cm = np.full(tm.shape[0], last, np.int64)
    # smallest class with w / t <= rho_j = qden / qnum  <=>  w * qnum <= t * qden
    for c in range(last, 0, -1):
        cm[wm * qnum[c] <= tm * qden[c]] = c
    qn = np.asarray(qnum, np.int64)[cm]
    qd = np.asarray(qden, np.int64)[cm]
    cls[media] = cm
    size[media] = np.maximum(tm, -(-(wm * qn) // qd))  # ceil(w / rho_j)
    return cls, size


def _best_fit_decreasing(t: np.ndarray, p: np.ndarray, m: np.ndarray, cfg: PackConfig) -> np.ndarray:
    """Assign every item (each of which fits an empty pack) to a bin; returns the bin per item.

    Bins are indexed per ratio class by their key (module docstring). A bucket is a min-heap of
    bin ids (equal keys: the oldest bin first); an entry is live while the bin's key in that class
    still equals the bucket's key (keys only decrease), so re-filing a bin only pushes, and stale
    entries are skipped when popped."""
    n = t.shape[0]
    if n == 0:
        return np.zeros(0, np.int64)
    C, P, M = cfg.context_length, cfg.max_vit_patches, cfg.max_images_per_pack
    w = _media_units(p, m, cfg)
    # The scarce kind of item goes to the bin with the most room (worst fit) so that it spreads
    # over the bins: where tokens bind overall, media-heavy items (w / t > P / C), which would
    # otherwise fill bins with media and leave them short of tokens; where media binds, the
    # token-heavy ones. Everything else goes to the tightest bin (best fit).
    tot_t, tot_w = int(t.sum()), int(w.sum())
    if tot_w * C < tot_t * P:
        spread = w * C > t * P
    else:
        spread = w * C < t * P
    n_level_bins = max(_ceil_div(tot_t, C), _ceil_div(tot_w, P))
    qnum = [0] + [C * b for a, b in _RATIO_CLASSES]
    qden = [1] + [P * a for a, b in _RATIO_CLASSES]
    ncls = len(qnum)
    cls, size = _item_class_and_size(t, w, qnum, qden)
    # phase 0: items over half a bin (best fit; no two share a bin); phase 1: the scarce kind,
    # levelled over lower-bound many bins (worst fit); phase 2: the rest (best fit). Within a
    # phase: decreasing size, then class, then item index (the stable sort keeps index order).
    phase = np.where(spread, 1, np.where(size * 2 > C, 0, 2))
    sort_key = (phase * (int(size.max()) + 1) + (int(size.max()) - size)) * ncls + cls
    order = np.argsort(sort_key, kind="stable")
    ks = sort_key[order]
    cut = np.flatnonzero(np.diff(ks)) + 1
    run_lo = np.concatenate(([0], cut)).astype(np.int64)
    run_hi = np.concatenate((cut, [n])).astype(np.int64)
    ts, ps, ms = t[order], p[order], m[order]
    runs = zip(
        run_lo.tolist(),
        run_hi.tolist(),
        cls[order][run_lo].tolist(),
        size[order][run_lo].tolist(),
        (phase[order][run_lo] == 1).tolist(),
        np.maximum.reduceat(ts, run_lo).tolist(),
        np.maximum.reduceat(ps, run_lo).tolist(),
        np.maximum.reduceat(ms, run_lo).tolist(),
    )
    zero = np.zeros(1, np.int64)
    cum_t = np.concatenate((zero, np.cumsum(ts)))
    cum_p = np.concatenate((zero, np.cumsum(ps)))
    cum_m = np.concatenate((zero, np.cumsum(ms)))
    del ts, ps, ms

    R: list[int] = []  # remaining tokens per bin
    Q: list[int] = []  # remaining patches
    Im: list[int] = []  # remaining images
    key: list[list[int]] = [[] for _ in range(ncls)]
    buckets = [[[] for _ in range(C + 1)] for _ in range(ncls)]
    keysets = [_KeySet(C + 1) for _ in range(ncls)]
    placed_bin: list[int] = []  # (bin, count) in sorted item order
    placed_count: list[int] = []
    classes = range(ncls)

    def refile(b: int, taken: int) -> None:
        """Recompute bin b's key in every class and file it where it changed (and in `taken`,
        the class it was popped from)."""
        r_ = R[b]
        w_ = min(Q[b], Im[b] * P // M)  # media room
        for c in classes:
            if c == 0:
                k = r_
            else:
                k = w_ * qnum[c] // qden[c]
                if k > r_:
                    k = r_
            kc = key[c]
            if k != kc[b] or c == taken:
                kc[b] = k
                if k > 0:
                    lst = buckets[c][k]
                    if not lst:
                        keysets[c].add(k)
                    heappush(lst, b)

    levelled = False
    for lo, hi, c, s, worst, tmax, pmax, mmax in runs:
        if worst and not levelled:
            levelled = True
            first = len(R)
            for _ in range(max(0, n_level_bins - first)):
                R.append(C)
                Q.append(P)
                Im.append(M)
                for kc in key:
                    kc.append(-1)
            for b in range(first, len(R)):
                refile(b, -1)
        pos = lo
        if c:
            pt = cum_t[lo : hi + 1].tolist()
            pp = cum_p[lo : hi + 1].tolist()
            pm = cum_m[lo : hi + 1].tolist()
        ks_c, bk_c, key_c = keysets[c], buckets[c], key[c]
        starved: list[int] = []  # bins without room for mmax more images: out for this run
        while pos < hi:
            if worst:
                r = ks_c.last()
                if r < s:
                    r = -1
            else:
                r = ks_c.first_at_least(s) if s <= C else -1
            if r < 0:
                # Open bins for the rest of the run, each with as many items as the worst items
                # of the run allow. Filling them further with this run packs worse: the slack
                # is better left to smaller items of other ratio classes.
                if worst:
                    q0 = 1  # one item per new bin: the next item levels onto it again
                elif c == 0:
                    q0 = C // s
                else:
                    q0 = C // tmax
                    if pmax:
                        q0 = min(q0, P // pmax)
                    if mmax:
                        q0 = min(q0, M // mmax)
                first = len(R)
                while pos < hi and (not worst or len(R) == first):
                    b = len(R)
                    k = min(q0, hi - pos)
                    if c == 0:
                        R.append(C - k * s)
                        Q.append(P)
                        Im.append(M)
                    else:
                        a = pos - lo
                        R.append(C - (pt[a + k] - pt[a]))
                        Q.append(P - (pp[a + k] - pp[a]))
                        Im.append(M - (pm[a + k] - pm[a]))
                    for kc in key:
                        kc.append(-1)
                    placed_bin.append(b)
                    placed_count.append(k)
                    pos += k
                for b in range(first, len(R)):
                    refile(b, -1)
                if worst:
                    continue
                break
            lst = bk_c[r]
            touched = []
            if c == 0:
                q = r // s
                if worst:
                    q = 1
                while lst and pos < hi:
                    b = heappop(lst)
                    if key_c[b] != r:
                        continue
                    k = min(q, hi - pos)
                    R[b] -= k * s
                    placed_bin.append(b)
                    placed_count.append(k)
                    pos += k
                    touched.append(b)
            else:
                while lst and pos < hi:
                    b = heappop(lst)
                    if key_c[b] != r:
                        continue
                    # room for the worst items of the run: >= r // s except for the image limit
                    k = R[b] // tmax
                    if pmax:
                        k = min(k, Q[b] // pmax)
                    if mmax:
                        k = min(k, Im[b] // mmax)
                    if not k:
                        starved.append(b)
                        continue
                    k = min(k, hi - pos, 1 if worst else k)
                    a = pos - lo
                    R[b] -= pt[a + k] - pt[a]
                    Q[b] -= pp[a + k] - pp[a]
                    Im[b] -= pm[a + k] - pm[a]
                    placed_bin.append(b)
                    placed_count.append(k)
                    pos += k
                    touched.append(b)
            if not lst:
                ks_c.discard(r)
            for b in touched:
                refile(b, c)
        for b in starved:
            lst = bk_c[key_c[b]]
            if not lst:
                ks_c.add(key_c[b])
            heappush(lst, b)

    out = np.empty(n, np.int64)
    out[order] = np.repeat(np.asarray(placed_bin, np.int64), np.asarray(placed_count, np.int64))
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
