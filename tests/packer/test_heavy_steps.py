"""Heavy steps at one pack per rank per step (`packer.heavy_steps`) and their place in `assemble_steps`."""

from __future__ import annotations

import numpy as np

from packer.heavy_steps import HEAVY_COSTS, HEAVY_STEP_RATIO, heavy_step_deal
from packer.packing import plan_packs
from packer.steps import assemble_steps, seeded_hash, step_balance
from schemas.pack_config import PackConfig

from tests.packer.test_step_swaps import passes_mix_check


def _two_labels(seed: int, n_steps: int, dp: int, n_heavy: int):
    """Loads of two labels: documents (the heavy ones, 1.25-1.35, and light ones) and images
    (light, 0.85-1.08); offsets: +1 for a document, -1 for an image, minus the mean."""
    rng = np.random.default_rng(seed)
    N = n_steps * dp
    cost = rng.uniform(0.85, 1.08, N)
    heavy = rng.choice(N, n_heavy, replace=False)
    cost[heavy] = rng.uniform(1.25, 1.35, n_heavy)
    doc = rng.random(N) < 0.5
    doc[heavy] = True
    off = np.where(doc, 1.0, -1.0)[:, None]
    return cost, off - off.mean(), doc, heavy


def test_heavy_loads_gather_with_companions_that_cancel_their_mix():
    dp, n_steps = 8, 60
    cost, off, doc, heavy = _two_labels(0, n_steps, dp, 21)
    step = heavy_step_deal(cost, off, n_steps, dp, seeded_hash(0, np.arange(cost.shape[0])), HEAVY_COSTS[0])
    assert step is not None
    assert np.bincount(step, minlength=n_steps).tolist() == [dp] * n_steps  # every load once, dp per step
    hot = np.unique(step[heavy])
    assert hot.tolist() == list(range(hot.shape[0]))  # the heavy steps come first
    assert hot.shape[0] < heavy.shape[0] / 2  # they gather, several to a step
    for s in hot.tolist():
        members = np.flatnonzero(step == s)
        c = cost[members]
        # as many heavy loads as keep the step within the ratio with median companions, and the
        # companions, where there are any, are images: they cancel the documents' offsets
        assert c.max() * dp <= HEAVY_STEP_RATIO * c.sum() + 1e-9 or np.isin(members, heavy).all()
        companions = members[~np.isin(members, heavy)]
        assert not doc[companions].any()
    # deterministic for the seeded key; another key may order ties otherwise but keeps the rules
    again = heavy_step_deal(cost, off, n_steps, dp, seeded_hash(0, np.arange(cost.shape[0])), HEAVY_COSTS[0])
    assert np.array_equal(step, again)


def test_no_heavy_load_gives_no_deal_and_one_gathers_with_light_ones():
    dp, n_steps = 4, 10
    cost = np.ones(dp * n_steps)
    off = np.zeros((dp * n_steps, 1))
    tie = seeded_hash(0, np.arange(dp * n_steps))
    assert heavy_step_deal(cost, off, n_steps, dp, tie, 1.1) is None
    cost[0] = 3.0
    step = heavy_step_deal(cost, off, n_steps, dp, tie, 1.1)
    assert step is not None and np.bincount(step).tolist() == [dp] * n_steps


def test_k1_mix_mode_keeps_the_heavy_deal_where_it_is_faster_and_keeps_the_mix(k1_plan):
    plan, cfg = k1_plan
    sp = assemble_steps(plan, cfg, 0)
    # the bimodal plan holds full-context documents (1.2x the mean pack): gathered, their steps balance
    assert sp.mix_deal == "heavy"
    b = step_balance(sp.step, sp.rank, sp.cost, cfg.dp_size)
    assert b.mean() <= 1.02 and b.max() <= 1.05
    real_packs = sp.pack[sp.pack >= 0]
    assert np.unique(real_packs).shape[0] == real_packs.shape[0]  # each pack once
    assert np.union1d(real_packs, sp.dropped_packs).tolist() == list(range(plan.n_packs))
    assert passes_mix_check(plan, cfg, sp)


def test_k1_without_heavy_packs_keeps_the_usual_deal():
    # token-only samples of even length: no pack is far over the mean, so no heavy deal is made
    rng = np.random.default_rng(2)
    n = 20_000
    t = rng.integers(500, 1500, n)
    labels = np.stack((rng.integers(0, 3, n), rng.integers(0, 2, n)), axis=1)
    cfg = PackConfig(dp_size=8, grad_accum=1, balance="mix")
    plan = plan_packs(t, np.zeros(n, np.int64), np.zeros(n, np.int64), cfg, labels=labels)
    sp = assemble_steps(plan, cfg, 0)
    assert sp.mix_deal != "heavy"
