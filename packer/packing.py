"""Pack planning for one planning group: integer lengths in, packs and shapes out.

`plan_packs` sees only integer arrays aligned with the samples (LLM tokens, ViT patches, images,
and optionally label ids and copy groups), never payloads. A pack holds at most
``context_length`` LLM tokens, ``max_vit_patches`` ViT patches and ``max_images_per_pack`` images,
compared as exact integers. A sample over any capacity is `too_long` and is never truncated; with
``split_text_only`` a text-only sample may instead be cut at turn boundaries into pieces that each
fit (the caller passes the per-turn token lengths).

Phases (each a named function, in this order):

1. **sizes** (`_packing_items`): check the arrays, mark too_long, cut split pieces; the packing
   items are the samples that fit and the pieces.
2. **best fit** (`packer.best_fit.best_fit_decreasing`): global best-fit-decreasing with three
   exact limits; copies of one sample are kept apart within a run.
3. **moves** (`packer.pack_moves`): merge packs until no two fit together; move apart copies
   of one sample that still share a pack; with ``remainder: drop``, choose the packs that will not
   fill the last step and trade items with the kept packs so that the left-out samples follow
   the label mix (within one sample per label).
4. **shapes** (`packer.buckets`): LLM and ViT buckets (fixed, or chosen from this plan's packs:
   "auto"); with ``bucket_aware``, images move to packs with room where that drops a pack into
   a smaller ViT bucket; then the padded (seq_len, vit_bucket) of every pack.
5. **costs**: per pack under the compute model of `schemas.pack_config`, linear terms on the
   padded shapes.

**Planning groups.** The planner is a pure function of one group's arrays. Shapes must be one
global set for the whole job: each group reports `patch_histogram(plan)` (and `token_histogram`),
the driver merges them (`packer.buckets.merge_histograms`) and chooses the buckets
(`choose_shape_buckets`), and each group applies them with `assign_shapes(plan, cfg, ...)` — or
passes them to `plan_packs` as ``llm_buckets`` / ``vit_buckets`` in the first place.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import NamedTuple

import numpy as np

from packer import buckets as bk
from packer.best_fit import best_fit_decreasing
from packer.compute_cap import CappedPatches, caps_compute, capped_patches
from packer.partner_packs import PARTNER_PACK_COST, PARTNER_SAMPLE, heavy_packs, keeps_the_mix, light_pool
from packer.pack_moves import (
    PackState,
    shared_copies,
    close_packs,
    fill_to_bucket_edges,
    proportional_remainder,
    spread_copies,
)
from schemas.pack_config import PackConfig


@dataclass(frozen=True, eq=False)
class PackPlan:
    """The result of `plan_packs`. Per-sample arrays are aligned with the input; per-pack arrays
    have ``n_packs`` entries. Packs are numbered in the order best fit opened them."""

    pack_of: np.ndarray  # int64 per sample: its pack, or -1 (too_long, or split into pieces)
    too_long: np.ndarray  # bool per sample: over a capacity (and not split)
    position: np.ndarray  # int64 per sample: order inside its pack (by sample index), -1 if none
    n_packs: int
    pack_tokens: np.ndarray  # int64 per pack: real LLM tokens
    pack_patches: np.ndarray  # int64 per pack: real ViT patches
    pack_images: np.ndarray  # int64 per pack
    pack_samples: np.ndarray  # int64 per pack: samples and pieces in it
    seq_len: np.ndarray  # int64 per pack: its LLM bucket
    vit_bucket: np.ndarray  # int64 per pack: its ViT bucket (the real patch total without bucketing)
    attn_cost: np.ndarray  # float64 per pack: Σ len² over its samples (attention is per sample)
    vit_cost: np.ndarray  # float64 per pack: ViT cost under the compute model
    llm_cost: np.ndarray  # float64 per pack: llm_token_cost · seq_len + llm_attention_cost · Σ len²
    cost: np.ndarray  # float64 per pack: llm_cost + vit_cost
    lower_bound: int  # max(ceil(Σt/C), ceil(Σp/P), ceil(Σm/M)) over the packable samples
    # split_text_only: samples cut into pieces, and one row per piece.
    split: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # bool per sample
    piece_sample: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    piece_turn_start: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # first turn
    piece_turn_stop: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # one past last
    piece_tokens: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    piece_pack: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    piece_position: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    # per pack: Σ over its images of patches² (the ViT full-attention term)
    pack_patches_sq: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # remainder "drop": the packs that do not fill the last step, chosen so that their samples
    # follow the label mix; step assembly leaves exactly these out
    remainder_packs: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    # the inputs step assembly needs for the mix: tokens per sample, label ids per sample
    # (n × L, one column per kind of label, e.g. source and task), copy group per sample (-1: none)
    sample_tokens: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    labels: np.ndarray | None = None
    copy_group: np.ndarray | None = None
    copies_sharing_pack: int = 0  # copies that could not be moved apart (no pack had room)


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


def image_lower_bound(tokens, patches, images, cfg: PackConfig) -> int:
    """A tighter bound where images bind: text samples too long to share a pack with any image
    sample need packs of their own, so packs >= (their lower bound) + ceil(Σimages / M); and
    never less than `lower_bound`."""
    t = _int_array("tokens", tokens)
    p = _int_array("patches", patches, t.shape[0])
    m = _int_array("images", images, t.shape[0])
    ok = ~_over_capacity(t, p, m, cfg)
    t, p, m = t[ok], p[ok], m[ok]
    plain = lower_bound(t, p, cfg, images=m)
    img = m > 0
    if not img.any():
        return plain
    C, P = cfg.context_length, cfg.max_vit_patches
    alone = ~img & ((t + int(t[img].min()) > C) | (p + int(p[img].min()) > P))
    lb_alone = max(_ceil_div(int(t[alone].sum()), C), _ceil_div(int(p[alone].sum()), P),
                   int((alone & (t * 2 > C)).sum()))
    return max(plain, lb_alone + _ceil_div(int(m.sum()), cfg.max_images_per_pack))


# ---------------------------------------------------------------------------------------------
# compute model


def _model_costs(llm_len, len_sq, vit_len, patches_sq, cfg: PackConfig) -> PackCosts:
    """The compute model (see `schemas.pack_config`): linear terms on llm_len tokens and vit_len
    patches, attention on Σ len² and Σ patches² per image."""
    llm = cfg.llm_token_cost * llm_len + cfg.llm_attention_cost * len_sq
    window_layers = cfg.vit_layers - cfg.vit_full_attention_layers
    vit = (
        cfg.vit_layers * cfg.vit_patch_cost * vit_len
        + cfg.vit_full_attention_layers * cfg.vit_attention_cost * patches_sq
        + window_layers * cfg.vit_attention_cost * cfg.vit_window_patches * vit_len
    )
    return PackCosts(np.asarray(len_sq, np.float64), np.asarray(vit, np.float64), np.asarray(llm, np.float64),
                     np.asarray(llm + vit, np.float64))


def _patches_sq(p: np.ndarray, m: np.ndarray, patches_sq) -> np.ndarray:
    """Σ over a sample's images of patches²; without it the patches are split evenly (p² / m)."""
    if patches_sq is None:
        pf = p.astype(np.float64)
        return pf * pf / np.maximum(m.astype(np.float64), 1.0)
    return np.asarray(patches_sq, dtype=np.float64)


def sample_costs(tokens, patches, images, cfg: PackConfig, patches_sq=None) -> PackCosts:
    """Per-sample costs under the compute model, on the real (unpadded) sizes.

    ``patches_sq`` is Σ over the sample's images of patches²; without it the patches are assumed
    to be split evenly over the images (p² / m)."""
    t = np.asarray(tokens, dtype=np.float64)
    p = np.asarray(patches, dtype=np.float64)
    return _model_costs(t, t * t, p, _patches_sq(p, np.asarray(images), patches_sq), cfg)


def pack_costs(
    tokens, patches, images, pack_of, n_packs: int, cfg: PackConfig, *, patches_sq=None
) -> PackCosts:
    """Sum the per-sample costs (real sizes) into packs (``pack_of`` < 0 is skipped)."""
    pack_of = np.asarray(pack_of, dtype=np.int64)
    s = sample_costs(tokens, patches, images, cfg, patches_sq)
    ok = pack_of >= 0
    idx = pack_of[ok]

    def total(v: np.ndarray) -> np.ndarray:
        return np.bincount(idx, weights=v[ok], minlength=n_packs).astype(np.float64)

    return PackCosts(*(total(v) for v in s))


def costs_on_shapes(seq_len, vit_in, attn_cost, patches_sq, cfg: PackConfig) -> PackCosts:
    """Per-pack costs: linear terms on the padded shapes (seq_len tokens, vit_in patches),
    attention on the real samples (Σ len²) and images (Σ patches²)."""
    return _model_costs(np.asarray(seq_len, np.float64), np.asarray(attn_cost, np.float64),
                        np.asarray(vit_in, np.float64), np.asarray(patches_sq, np.float64), cfg)


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
# phase 1: sizes


@dataclass
class _Items:
    """The packing items: whole samples that fit, then pieces of split samples."""

    t: np.ndarray
    p: np.ndarray
    m: np.ndarray
    psq: np.ndarray  # float: Σ patches² per image
    sample: np.ndarray  # the sample of each item
    piece: np.ndarray  # the piece index, -1 for a whole sample
    n_whole: int
    too_long: np.ndarray  # per sample
    split: np.ndarray  # per sample
    piece_turn_start: np.ndarray
    piece_turn_stop: np.ndarray


def _packing_items(t, p, m, cfg: PackConfig, patches_sq, turn_offsets, turn_tokens) -> _Items:
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
    psq_s = _patches_sq(p, m, patches_sq)
    if psq_s.shape != (n,):
        raise ValueError(f"patches_sq: has shape {psq_s.shape}, expected ({n},)")
    n_pieces = piece_sample.shape[0]
    if n_pieces == 0 and not over.any():  # every sample is an item: no copies
        whole = np.arange(n, dtype=np.int64)
        it, ip, im, ipsq = t, p, m, psq_s
    else:
        whole = np.flatnonzero(~over)
        zeros = np.zeros(n_pieces, np.int64)
        it, ip, im = (np.concatenate((t[whole], piece_tok)), np.concatenate((p[whole], zeros)),
                      np.concatenate((m[whole], zeros)))
        ipsq = np.concatenate((psq_s[whole], np.zeros(n_pieces)))
    return _Items(
        t=it,
        p=ip,
        m=im,
        psq=ipsq,
        sample=np.concatenate((whole, piece_sample)) if n_pieces else whole,
        piece=np.concatenate((np.full(whole.shape[0], -1, np.int64), np.arange(n_pieces, dtype=np.int64))),
        n_whole=int(whole.shape[0]),
        too_long=over & ~split_mask,
        split=split_mask,
        piece_turn_start=piece_a,
        piece_turn_stop=piece_b,
    )


def _label_codes(labels, n: int) -> np.ndarray | None:
    """Label ids as an (n × L) int64 array (one column per kind of label)."""
    if labels is None:
        return None
    lab = np.asarray(labels)
    if lab.ndim == 1:
        lab = lab[:, None]
    if lab.ndim != 2 or lab.shape[0] != n or (lab.size and not np.issubdtype(lab.dtype, np.integer)):
        raise ValueError(f"labels: expected integer label ids of shape ({n},) or ({n}, kinds), got {lab.shape} "
                         f"{lab.dtype}")
    lab = lab.astype(np.int64)
    if lab.size and int(lab.min()) < 0:
        raise ValueError(f"labels: ids must be >= 0, got {int(lab.min())}")
    return lab


def _copy_groups(copy_group, n: int) -> np.ndarray | None:
    if copy_group is None:
        return None
    g = np.asarray(copy_group)
    if g.shape != (n,) or (g.size and not np.issubdtype(g.dtype, np.integer)):
        raise ValueError(f"copy_group: expected one integer per sample ({n}), got shape {g.shape}")
    return g.astype(np.int64)


def _copy_rank(group: np.ndarray) -> np.ndarray:
    """0 for the first item of its group (in item order), 1 for the second, ...; 0 without group."""
    rank = np.zeros(group.shape[0], np.int64)
    idx = np.flatnonzero(group >= 0)
    if idx.size:
        o = idx[np.lexsort((idx, group[idx]))]
        g = group[o]
        first = np.searchsorted(g, g, side="left")
        rank[o] = np.arange(o.shape[0]) - first
    return rank


_LABEL_SLOTS = 1 << 16


def joint_labels(labels: np.ndarray) -> np.ndarray:
    """One small int per distinct row of label ids (n × kinds), in the order of the rows' values."""
    key = np.zeros(labels.shape[0], np.int64)
    for k in range(labels.shape[1]):
        col = labels[:, k]
        key = key * (int(col.max(initial=0)) + 1) + col
    _, inv = np.unique(key, return_inverse=True)
    return inv.reshape(-1).astype(np.int64)


def _order_key(group: np.ndarray | None, labels: np.ndarray | None) -> np.ndarray | None:
    """How best fit orders items of equal size and class (before their index): by copy number,
    so copies of one sample sit apart in a run, then by the item's position among the items of its
    label combination (as a fraction of their count), so the labels interleave in proportion and a
    pack that takes a slice of a run gets a mix rather than one source."""
    key = None
    if labels is not None and labels.shape[0]:
        lab = joint_labels(labels)
        o = np.argsort(lab, kind="stable")
        first = np.searchsorted(lab[o], lab[o], side="left")
        size = np.bincount(lab)[lab[o]]
        key = np.empty(lab.shape[0], np.int64)
        key[o] = (np.arange(lab.shape[0]) - first) * _LABEL_SLOTS // size
    if group is not None:
        rank = _copy_rank(group)
        key = rank * _LABEL_SLOTS + (key if key is not None else 0)
    return key


# ---------------------------------------------------------------------------------------------
# phase 4: shapes


class ShapeBuckets(NamedTuple):
    """The buckets a plan pads to: LLM lengths, and ViT patch totals (empty: no ViT padding)."""

    llm: tuple[int, ...]
    vit: tuple[int, ...]


def token_histogram(plan: PackPlan, cfg: PackConfig) -> bk.SizeHistogram:
    """Packs per 128-token bin of their real tokens (mergeable across planning groups)."""
    return bk.size_histogram(plan.pack_tokens, 128)


def patch_histogram(plan: PackPlan, cfg: PackConfig) -> bk.SizeHistogram:
    """Packs per ``patch_granule`` bin of their real patches (mergeable across planning groups)."""
    return bk.size_histogram(plan.pack_patches, cfg.patch_granule)


def choose_shape_buckets(tokens: bk.SizeHistogram, patches: bk.SizeHistogram, cfg: PackConfig) -> ShapeBuckets:
    """The buckets for packs with these (merged) histograms: fixed ones as configured; "auto" ones
    minimise the padding exactly, with at most ``max_shapes`` distinct (seq_len, vit_bucket)."""
    llm = cfg.fixed_llm_buckets
    if llm is None:
        llm = bk.choose_buckets(tokens, cfg.max_llm_buckets, cap=cfg.context_length) or (cfg.context_length,)
    else:
        llm = cfg.llm_buckets
    vit = cfg.fixed_patch_buckets
    if vit is None:
        n_llm = len(llm)
        budget = max(1, cfg.max_shapes // n_llm - (1 if patches.zeros else 0))
        vit = bk.choose_buckets(patches, budget, cap=cfg.max_vit_patches)
    else:
        vit = cfg.vit_buckets
    return ShapeBuckets(tuple(llm), tuple(vit))


def _shapes(state: PackState, cfg: PackConfig, fixed: ShapeBuckets | None, group: np.ndarray | None) -> ShapeBuckets:
    """Phase 4: the buckets, and with ``bucket_aware`` the packs filled up to their ViT bucket's
    edge (then merged where that lets them, and the buckets chosen again)."""

    def choose() -> ShapeBuckets:
        if fixed is not None:
            return fixed
        live = np.bincount(state.bin, minlength=state.n_bins) > 0
        return choose_shape_buckets(bk.size_histogram(state.T[live], 128),
                                    bk.size_histogram(state.Pq[live], cfg.patch_granule), cfg)

    chosen = choose()
    if cfg.bucket_aware and cfg.patch_bucketing and len(chosen.vit) > 1:
        for _ in range(3):
            live = np.bincount(state.bin, minlength=state.n_bins) > 0
            if fill_to_bucket_edges(state, np.asarray(chosen.vit, np.int64), ~live, group) * 1000 < state.n_bins:
                break
            close_packs(state, group)
            chosen = choose()
    return chosen


def shape_of(plan_tokens, plan_patches, cfg: PackConfig, shapes: ShapeBuckets | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
    """The padded (seq_len, vit_bucket) of packs with the given real totals, for the given
    buckets (default: the configured fixed ones; "auto" ones must be passed)."""
    tok = np.asarray(plan_tokens, np.int64)
    pat = np.asarray(plan_patches, np.int64)
    if shapes is None:
        shapes = ShapeBuckets(cfg.llm_buckets, cfg.vit_buckets)
    # a pack over the largest bucket (a remainder pack, left out of the choice) gets the capacity
    llm = sorted(set(shapes.llm) | {cfg.context_length})
    seq_len = np.where(tok > 0, bk.bucket_of(tok, llm), min(llm))
    if shapes.vit:
        vit_bucket = bk.bucket_of(pat, sorted(set(shapes.vit) | {max(cfg.max_vit_patches, max(shapes.vit))}))
    else:
        vit_bucket = pat.copy()
    return seq_len, vit_bucket


# ---------------------------------------------------------------------------------------------
# the public planner


def plan_packs(
    tokens,
    patches,
    images,
    cfg: PackConfig,
    *,
    labels=None,
    copy_group=None,
    patches_sq=None,
    turn_offsets=None,
    turn_tokens=None,
    shapes: ShapeBuckets | None = None,
) -> PackPlan:
    """Plan the packs of one planning group from integer arrays aligned with its samples.

    The caller passes the samples in canonical order (sorted by (sample_id, copy)); ties are broken
    by that index, so the plan is deterministic.

    - ``labels``: int ids per sample, shape (n,) or (n, kinds) — e.g. source and task. The
      remainder keeps their mix, and step assembly keeps it per step (``balance: mix``).
    - ``copy_group``: int per sample, equal for the upsampled copies of one sample (-1: none).
      Copies go to different packs (and, in step assembly, preferably different steps).
    - ``patches_sq``: Σ patches² over a sample's images (refines the ViT cost only).
    - ``turn_offsets`` / ``turn_tokens``: with ``cfg.split_text_only``, CSR per-turn token lengths
      (n + 1 offsets; turns summing to ``tokens[i]``) let a text-only sample over
      ``context_length`` be cut at turn boundaries instead of being too_long.
    - ``shapes``: buckets chosen for the whole job (planning groups); default: from ``cfg``, with
      "auto" buckets chosen from this plan's packs.
    """
    t, p, m = _sample_arrays(tokens, patches, images)
    n = t.shape[0]
    lab = _label_codes(labels, n)
    grp = _copy_groups(copy_group, n)
    items = _packing_items(t, p, m, cfg, patches_sq, turn_offsets, turn_tokens)
    C, P, M = cfg.context_length, cfg.max_vit_patches, cfg.max_images_per_pack
    n_items = items.t.shape[0]
    item_group = grp[items.sample] if grp is not None else None
    if item_group is not None and items.piece.size:
        item_group = np.where(items.piece >= 0, -1, item_group)  # pieces of one sample may share

    # phase 2: best fit (in canonical item order: by sample index, then piece); with k >= 2 packs
    # per rank and a fused ViT phase, light partners for the heavy packs are packed apart
    # (`packer.partner_packs`: they balance a load's total, not its ViT and LLM phases apart); with
    # the compute cap, attention and ViT compute are packed as virtual patches (`packer.compute_cap`)
    order_key = _order_key(item_group, lab[items.sample] if lab is not None else None)
    if cfg.packs_per_rank_step >= 2 and cfg.vit_phase == "fused" and n_items:
        item_bin = _with_light_partners(items, order_key, cfg, lab)
    else:
        item_bin = _best_fit(items, np.arange(n_items), order_key, cfg, _compute_cap(items, cfg))

    # phase 3: moves; phase 4: shapes. A move that shrinks a pack may let it merge: close again.
    state = PackState(items.t, items.p, items.m, item_bin, C, P, M)
    close_packs(state, item_group)
    if item_group is not None and spread_copies(state, item_group):
        close_packs(state, item_group)
    chosen = _shapes(state, cfg, shapes, item_group)
    item_label = joint_labels(lab[items.sample]) if lab is not None and cfg.remainder == "drop" else None
    frozen = np.zeros(state.n_bins, bool)
    for _ in range(3):
        frozen[:] = False
        live = np.bincount(state.bin, minlength=state.n_bins) > 0
        n_live = int(live.sum())
        if cfg.remainder == "drop" and n_live % cfg.packs_per_step:
            frozen[proportional_remainder(state, n_live % cfg.packs_per_step, item_label, item_group, live)] = True
        if not close_packs(state, item_group):  # a trade left a pack that fits into another
            break
        if shapes is None:
            live = np.bincount(state.bin, minlength=state.n_bins) > 0
            chosen = choose_shape_buckets(bk.size_histogram(state.T[live], 128),
                                          bk.size_histogram(state.Pq[live], cfg.patch_granule), cfg)
    item_bin = state.renumbered()
    keep = np.bincount(state.bin, minlength=state.n_bins) > 0
    remainder = (np.cumsum(keep) - 1)[np.flatnonzero(frozen & keep)]
    shared = int(shared_copies(item_bin, item_group).shape[0]) if item_group is not None else 0
    return _finish(items, item_bin, n, cfg, chosen, remainder, t, lab, grp, shared)


def _best_fit(items: _Items, sel: np.ndarray, order_key: np.ndarray | None, cfg: PackConfig,
              cap: CappedPatches | None = None) -> np.ndarray:
    """Best fit of the items at ``sel`` (ascending) in canonical order (by sample index, then
    piece); the bin of each, numbered from 0. With ``cap``, its virtual patches and limit stand
    for the real ones (`packer.compute_cap`)."""
    if items.n_whole < items.t.shape[0]:
        sel = sel[np.lexsort((items.piece[sel], items.sample[sel]))]
    patches, limit = (items.p, cfg.max_vit_patches) if cap is None else cap
    bins = best_fit_decreasing(items.t[sel], patches[sel], items.m[sel], cfg.context_length,
                               limit, cfg.max_images_per_pack,
                               None if order_key is None else order_key[sel])
    out = np.empty(items.t.shape[0], np.int64)
    out[sel] = bins
    return out[np.sort(sel)]


def _compute_cap(items: _Items, cfg: PackConfig) -> CappedPatches | None:
    """The items' virtual patches under the compute cap, where the plan packs under one."""
    if not items.t.size or not caps_compute(cfg, bool((items.p > 0).any())):
        return None
    excess = sample_costs(items.t, items.p, items.m, cfg, items.psq).cost - cfg.llm_token_cost * items.t
    return capped_patches(items.t, items.p, excess, lower_bound(items.t, items.p, cfg, images=items.m), cfg)


def _with_light_partners(items: _Items, order_key: np.ndarray | None, cfg: PackConfig,
                         lab: np.ndarray | None) -> np.ndarray:
    """The bin of each item, with light partners for the heavy packs packed apart and numbered
    after the others (`packer.partner_packs`) where that costs at most `PARTNER_PACK_COST` of the
    packs and a light pack alone keeps a step within the mix tolerance (``lab``: label ids per
    sample); else best fit of all the items."""
    C, k = cfg.context_length, cfg.packs_per_rank_step
    n_items = items.t.shape[0]
    everything = np.arange(n_items)
    excess = sample_costs(items.t, items.p, items.m, cfg, items.psq).cost - cfg.llm_token_cost * items.t
    whole = None
    if n_items <= PARTNER_SAMPLE:
        whole = _best_fit(items, everything, order_key, cfg)
        heavy = heavy_packs(excess, whole, cfg.llm_token_cost * C, k)
        n_whole = int(whole.max()) + 1
    else:  # counted on an even sample; the plan apart is held to the lower bound
        sample = everything[:: -(-n_items // PARTNER_SAMPLE)]
        sub = _best_fit(items, sample, order_key, cfg)
        heavy = heavy_packs(excess[sample], sub, cfg.llm_token_cost * C, k)
        n_whole = lower_bound(items.t, items.p, cfg, images=items.m)
    n_heavy = int(round(heavy.share * n_whole))
    pool = light_pool(items.t, excess, (items.p > 0) | (items.m > 0), n_heavy, heavy, C, cfg.llm_token_cost * C)
    if pool.any() and lab is not None:
        n_samples = lab.shape[0]
        in_pool = np.zeros(n_samples, bool)
        in_pool[items.sample[pool]] = True
        sample_t = np.bincount(items.sample, weights=items.t, minlength=n_samples)
        if not keeps_the_mix(lab, sample_t, in_pool, n_heavy, cfg.packs_per_step, n_whole, cfg.mix_tolerance):
            pool[:] = False
    if pool.any():
        rest, light = np.flatnonzero(~pool), np.flatnonzero(pool)
        apart = np.empty(n_items, np.int64)
        apart[rest] = _best_fit(items, rest, order_key, cfg)
        apart[light] = int(apart[rest].max(initial=-1)) + 1 + _best_fit(items, light, order_key, cfg)
        if int(apart.max()) + 1 <= n_whole + int(PARTNER_PACK_COST * n_whole) + (whole is None):
            return apart
    return whole if whole is not None else _best_fit(items, everything, order_key, cfg)


def _finish(items: _Items, item_bin: np.ndarray, n: int, cfg: PackConfig, chosen: ShapeBuckets,
            remainder: np.ndarray, t: np.ndarray, lab, grp, shared: int) -> PackPlan:
    """Per-pack totals, positions, shapes and costs (phase 5)."""
    n_packs = int(item_bin.max()) + 1 if item_bin.size else 0
    # position inside a pack: by (sample index, piece index)
    pos = np.empty(item_bin.shape[0], np.int64)
    if item_bin.size:
        if items.n_whole == item_bin.shape[0]:  # no pieces: items are in sample order already
            by_pack = np.argsort(item_bin, kind="stable")
        else:
            by_pack = np.lexsort((items.piece, items.sample, item_bin))
        sorted_bins = item_bin[by_pack]
        first = np.searchsorted(sorted_bins, sorted_bins, side="left")
        pos[by_pack] = np.arange(item_bin.shape[0]) - first
    nw = items.n_whole
    whole = items.sample[:nw]
    pack_of = np.full(n, -1, np.int64)
    pack_of[whole] = item_bin[:nw]
    position = np.full(n, -1, np.int64)
    position[whole] = pos[:nw]

    def per_pack(v: np.ndarray, dtype=np.int64) -> np.ndarray:
        return np.bincount(item_bin, weights=v, minlength=n_packs).astype(dtype)

    pack_tokens = per_pack(items.t)
    pack_patches = per_pack(items.p)
    pack_images = per_pack(items.m)
    tf = items.t.astype(np.float64)
    attn = per_pack(tf * tf, np.float64)
    psq = per_pack(items.psq, np.float64)
    seq_len, vit_bucket = shape_of(pack_tokens, pack_patches, cfg, chosen)
    costs = costs_on_shapes(seq_len, vit_bucket, attn, psq, cfg)
    return PackPlan(
        pack_of=pack_of,
        too_long=items.too_long,
        position=position,
        n_packs=n_packs,
        pack_tokens=pack_tokens,
        pack_patches=pack_patches,
        pack_images=pack_images,
        pack_samples=np.bincount(item_bin, minlength=n_packs).astype(np.int64),
        seq_len=seq_len,
        vit_bucket=vit_bucket,
        attn_cost=costs.attn_cost,
        vit_cost=costs.vit_cost,
        llm_cost=costs.llm_cost,
        cost=costs.cost,
        lower_bound=max(_ceil_div(int(pack_tokens.sum()), cfg.context_length),
                        _ceil_div(int(pack_patches.sum()), cfg.max_vit_patches),
                        _ceil_div(int(pack_images.sum()), cfg.max_images_per_pack)),
        split=items.split,
        piece_sample=items.sample[nw:],
        piece_turn_start=items.piece_turn_start,
        piece_turn_stop=items.piece_turn_stop,
        piece_tokens=items.t[nw:],
        piece_pack=item_bin[nw:],
        piece_position=pos[nw:],
        pack_patches_sq=psq,
        remainder_packs=remainder,
        sample_tokens=t,
        labels=lab,
        copy_group=grp,
        copies_sharing_pack=int(shared),
    )


def assign_shapes(plan: PackPlan, cfg: PackConfig, shapes: ShapeBuckets) -> PackPlan:
    """The plan padded to other buckets (e.g. the job's global ones, chosen from the merged
    histograms of all planning groups), its costs recomputed. Packs keep their contents."""
    seq_len, vit_bucket = shape_of(plan.pack_tokens, plan.pack_patches, cfg, shapes)
    costs = costs_on_shapes(seq_len, vit_bucket, plan.attn_cost, plan.pack_patches_sq, cfg)
    return replace(plan, seq_len=seq_len, vit_bucket=vit_bucket, attn_cost=costs.attn_cost,
                   vit_cost=costs.vit_cost, llm_cost=costs.llm_cost, cost=costs.cost)


# ---------------------------------------------------------------------------------------------
# shape report


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
