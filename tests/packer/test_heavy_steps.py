"""Heavy steps at one pack per rank per step (`packer.heavy_steps`) and their place in `assemble_steps`."""

from __future__ import annotations

import numpy as np

from packer.heavy_steps import CAPPED_HEAVY_COST, HEAVY_COSTS, HEAVY_STEP_RATIO, heavy_step_deal
from packer.packing import plan_packs
from packer.steps import assemble_steps, seeded_hash, step_balance
from schemas.pack_config import PackConfig

from tests.packer.test_step_swaps import passes_mix_check
from tests.packer.test_steps import _bimodal


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


def test_a_capped_deal_takes_at_most_that_many_heavy_loads_and_companions_by_mix_alone():
    dp, n_steps = 8, 60
    cost, off, doc, heavy = _two_labels(1, n_steps, dp, 21)
    tie = seeded_hash(0, np.arange(cost.shape[0]))
    step = heavy_step_deal(cost, off, n_steps, dp, tie, HEAVY_COSTS[0], most=3)
    assert step is not None and np.bincount(step, minlength=n_steps).tolist() == [dp] * n_steps
    hot = np.unique(step[heavy])
    assert hot.tolist() == list(range(7))  # 21 heavy loads, 3 to a step, in the first steps
    for s in hot.tolist():
        members = np.flatnonzero(step == s)
        assert np.isin(members, heavy).sum() == 3
        # the companions are chosen by the step's mix alone (no cost floor): its offsets cancel
        assert abs(float(off[members].sum())) <= 1.0 + 1e-9
    # more hot steps than there are steps: no deal
    five = np.ones(16)
    five[:5] = 3.0
    zero = np.zeros((16, 1))
    assert heavy_step_deal(five, zero, 4, 4, tie[:16], 1.1, most=1) is None
    two = heavy_step_deal(five, zero, 4, 4, tie[:16], 1.1, most=2)
    assert two is not None and np.bincount(two[:5]).tolist() == [2, 2, 1]


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


def test_k1_at_dp64_gathers_a_few_heavy_packs_to_a_step_where_all_of_them_would_break_the_mix(monkeypatch):
    # at dp 64 a hot step of full-context documents until it balances moves the document share
    # beyond what random dealing does; a few to a step (`HEAVY_SHARES`) with companions that
    # cancel their mix passes the check and beats the units' deal (1.10 mean / 1.18 worst step on
    # bench_packing's 400k samples; there 1.048 / 1.099). Packs made without the compute cap
    # (`packer.compute_cap`), which dp 64 turns on: it leaves fewer heavy packs to gather.
    t, p, m, labels = _bimodal(100_000, seed=5)
    cfg = PackConfig(dp_size=64, grad_accum=1, balance="mix", compute_cap="off")
    plan = plan_packs(t, p, m, cfg, labels=labels)
    sp = assemble_steps(plan, cfg, 0)
    assert sp.mix_deal == "heavy"
    assert passes_mix_check(plan, cfg, sp)
    b = step_balance(sp.step, sp.rank, sp.cost, cfg.dp_size)
    with monkeypatch.context() as mp:  # without the capped deals: the units' deal and its swaps
        mp.setattr("packer.steps.HEAVY_SHARES", ())
        units = assemble_steps(plan, cfg, 0)
    assert units.mix_deal == "units"
    u = step_balance(units.step, units.rank, units.cost, cfg.dp_size)
    assert b.mean() < u.mean() - 0.03 and b.max() < u.max() - 0.03
    heavy = sp.cost > CAPPED_HEAVY_COST * plan.cost.mean()
    per_step = np.bincount(sp.step[heavy], minlength=sp.n_steps)
    assert per_step.max() < cfg.dp_size // 2  # not gathered until balanced: a few to a step
