"""Light partner packs for heavy ones, so that k >= 2 packs per rank per step can add up to equal loads.

Step assembly (`packer.steps`) pairs packs into rank loads, heavy with light. Best fit levels the
media over all packs, so every pack holds a slice of the mix and costs about the mean; a pack with
one long document (attention grows with len²) then has no partner light enough, and its load stays
over the others (on bench_packing's bimodal mix at context 24576: packs from 0.95 to 1.2 × the mean,
loads holding a full-length document at 1.076 × the mean load). The remedy costs no more than a few
bins: set aside text-only items of the least compute per token (the shortest documents above the
filler size) for as many packs as the heavy packs need, pack them apart, and the light packs they
make (about the linear cost alone: 0.82 × the mean there) are the heavy packs' partners.
The mix. A light pack is one kind of data (short texts), so a step that holds one moves off the
plan's mix by that pack's share of the step. Where that alone takes a step's share of some label
beyond the tolerance of mix mode (``mix_tolerance`` standard deviations of i.i.d. sampling of a
step's samples, in samples or in tokens: e.g. few packs per step, or light packs of many samples),
there are no partners (`keeps_the_mix`): on the 2,000-sample demo (4 packs a step) one light pack
of 40 short texts put a step at 42% text samples against 8% asked.

`packer.packing.plan_packs` keeps the plan made apart only where it adds at most 0.1% packs
(`PARTNER_PACK_COST`) to the plan made whole (on that mix: 33,657 packs either way, lower bound
33,655). Up to `PARTNER_SAMPLE` items the heavy packs are counted on the plan made whole; above it
on a plan of an even sample of the items (their share of its packs, times the lower bound), and the
plan made apart is checked against the lower bound (+ 0.1%, + 1) instead, so a big plan whose plan
apart is kept costs one best fit, not two (one where it is not kept: the sample's, the plan apart's,
then the whole plan's).

How many. With k packs per rank and the light end of the packs at q_lo (5% quantile, over the
mean μ), a pack of cost h needs help where h + (k - 1) q_lo > k (1 + ε) (ε = 1%: a load 1% over
the mean is fine). Each heavy pack starts a load of its own (`packer.steps.rank_loads`), so each
needs a light pack of its own: as many light packs as heavy ones, where a pack's worth of the
coolest items is lighter than q_lo.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from packer.step_mix import global_shares, iid_sigma, label_matrix

LOAD_SLACK = 0.01  # a load this far over the mean load needs no partner
LIGHT_QUANTILE = 0.05  # the light end of the packs
FILLER_SHARE = 1 / 24  # items under this share of the context stay as fillers for the other packs
POOL_FILL = 0.99  # the pool's tokens, as a share of its packs' room
POOL_FILLERS = 0.05  # the share of the pool's tokens in fillers
PARTNER_PACK_COST = 0.001  # packing apart is kept where it adds at most this share of packs
# above this many items the heavy packs are counted on a plan of an even sample of them (every j-th
# item) rather than of all: a second best fit of everything would double the plan's time
PARTNER_SAMPLE = 250_000


class HeavyPacks(NamedTuple):
    """What a plan says about its heavy packs: their share of the packs, the mean pack cost, and
    the light end of the packs (`LIGHT_QUANTILE`, over the mean)."""

    share: float
    mean: float
    light_end: float


def heavy_packs(excess: np.ndarray, bins: np.ndarray, linear: float, k: int) -> HeavyPacks:
    """The heavy packs of a plan (``bins``: the bin of each item; ``excess``: each item's cost beyond
    the linear LLM part; ``linear``: a full pack's linear LLM cost) for k packs per rank per step:
    packs over k (1 + `LOAD_SLACK`) - (k - 1) · light end, over the mean. At k = 1 no partner can
    help a load: none is heavy."""
    n_bins = int(bins.max()) + 1 if bins.size else 0
    if not n_bins or k < 2:
        return HeavyPacks(0.0, 0.0, 0.0)
    cost = linear + np.bincount(bins, weights=excess, minlength=n_bins)
    mu = float(cost.mean())
    if mu <= 0:
        return HeavyPacks(0.0, 0.0, 0.0)
    c = cost / mu
    q_lo = float(np.quantile(c, LIGHT_QUANTILE))
    bar = k * (1 + LOAD_SLACK) - (k - 1) * q_lo
    return HeavyPacks(float((c > bar).sum()) / n_bins, mu, q_lo)


def light_pool(t: np.ndarray, excess: np.ndarray, media: np.ndarray, n_heavy: int, heavy: HeavyPacks,
               context: int, linear: float) -> np.ndarray:
    """The items to pack apart as light partners for ``n_heavy`` heavy packs (a mask; none where
    a pack's worth of the coolest items is no lighter than the light end of ``heavy``).

    ``t``: tokens per item; ``excess``: its cost beyond the linear LLM part (attention, ViT);
    ``media``: items with images or patches (never in the pool); ``linear``: the linear LLM cost
    of a full pack (``llm_token_cost · context``)."""
    none = np.zeros(t.shape[0], bool)
    if n_heavy <= 0 or heavy.mean <= 0:
        return none
    cand = np.flatnonzero(~media & (t >= context * FILLER_SHARE) & (t > 0))
    if not cand.size:
        return none
    heat = excess[cand] / t[cand]
    cand = cand[np.lexsort((cand, heat))]  # least compute per token first
    # a light pack's cost: the linear part and the excess of one pack's worth of the coolest items
    cum = np.cumsum(t[cand])
    one = max(int(np.searchsorted(cum, context * POOL_FILL)), 1)
    if (linear + float(excess[cand[:one]].sum())) / heavy.mean >= heavy.light_end:
        return none
    room = n_heavy * context * POOL_FILL
    take = int(np.searchsorted(cum, room * (1 - POOL_FILLERS), side="right"))
    mask = none
    mask[cand[:take]] = True
    # and a share of the fillers, every j-th by size (so both plans keep fillers of every size),
    # to close the gaps the pool's bigger items leave
    small = np.flatnonzero(~media & (t < context * FILLER_SHARE) & (t > 0))
    if small.size:
        small = small[np.lexsort((small, t[small]))]
        want = room - float(t[mask].sum())
        j = max(int(float(t[small].sum()) // max(want, 1.0)), 1)
        picked = small[::j]
        picked = picked[np.cumsum(t[picked]) <= want]
        mask[picked] = True
    return mask


def keeps_the_mix(labels: np.ndarray, tokens: np.ndarray, pool: np.ndarray, n_light: int, packs_per_step: int,
                  n_packs: int, z: float) -> bool:
    """Whether one light pack in a step leaves every label's share of the step (in samples and in
    tokens) within ``z`` i.i.d. standard deviations (`packer.step_mix.iid_sigma`) of the plan's share.
    ``labels``: label ids per sample (n × kinds); ``tokens``: per sample; ``pool``: the samples of
    the ``n_light`` light packs; a step holds ``packs_per_step`` of the plan's ``n_packs`` packs."""
    n = tokens.shape[0]
    if labels is None or not labels.size or n_light <= 0 or n_packs <= 0 or not pool.any():
        return True
    m = label_matrix(pool.astype(np.int64), 2, labels, tokens)  # "pack" 1: the pool, 0: the rest
    p, pi = global_shares(m)
    first = m.kind == m.kind.min()
    step_samples = packs_per_step * n / n_packs
    step_tokens = packs_per_step * float(m.sum_t[first].sum()) / n_packs
    light_s, light_t = m.samples[1] / n_light, m.tokens[1] / n_light
    sig_s, sig_t = iid_sigma(m, np.array([step_samples]))
    # the step's share with the light pack in it, the rest of the step at the plan's shares
    share_s = (p * (step_samples - light_s[first].sum()) + light_s) / step_samples
    share_t = (pi * (step_tokens - light_t[first].sum()) + light_t) / step_tokens
    return bool((np.abs(share_s - p) <= z * sig_s[0]).all() and (np.abs(share_t - pi) <= z * sig_t[0]).all())
