"""Light partner packs (`packer.partner_packs`) and the offsets deal of mix mode (`packer.steps`):
at k >= 2 packs per rank the heavy packs (a long document) get light partners so that rank loads
come out near-equal, and mix mode deals those loads so that every step's label shares add up to
the plan's."""

from __future__ import annotations

import numpy as np
import pytest
from test_steps import _bimodal, _spread_ratio, check_steps

import packer.steps as steps
from packer.packing import plan_packs, sample_costs
from packer.partner_packs import heavy_packs, keeps_the_mix, light_pool
from packer.steps import assemble_steps, mix_offsets, offset_deal, rank_loads, seeded_hash, step_balance
from schemas.pack_config import PackConfig


@pytest.fixture(scope="module")
def bimodal():
    return _bimodal(40_000, seed=21)


def _load_spread(plan, k: int) -> float:
    n = plan.n_packs // k * k
    cost = plan.cost[:n]
    load = rank_loads(cost, k, seeded_hash(0, np.arange(n)))
    total = np.bincount(load, weights=cost)
    return float(total.max() / total.mean())


def test_light_partners_make_the_rank_loads_equal(bimodal):
    """The same samples planned for k = 2 with a fused ViT phase (light partners) and a separate
    one (none): the heaviest load is within 2% of the mean with partners, over 5% without, for at
    most 0.1% more packs."""
    t, p, m, labels = bimodal
    fused = plan_packs(t, p, m, PackConfig(dp_size=8, grad_accum=2), labels=labels)
    apart = plan_packs(t, p, m, PackConfig(dp_size=8, grad_accum=2, vit_phase="separate"), labels=labels)
    assert _load_spread(fused, 2) <= 1.02 < 1.05 <= _load_spread(apart, 2)
    assert fused.n_packs <= apart.n_packs + int(0.001 * apart.n_packs)
    assert (fused.pack_of >= 0).sum() == (apart.pack_of >= 0).sum() == t.size  # every sample packed
    # the light packs are text only and near the linear cost alone
    light = fused.cost < 0.9 * fused.cost.mean()
    assert light.sum() >= (fused.cost > 1.1 * fused.cost.mean()).sum() > 0
    assert (fused.pack_patches[light] == 0).all()


def _items(C: int = 4096):
    """Full-length documents (heavy), text of every length, and image samples."""
    rng = np.random.default_rng(3)
    docs = np.full(40, C)
    text = rng.integers(20, 2000, 3000)
    images = rng.integers(100, 1500, 1500)
    t = np.concatenate((docs, text, images)).astype(np.int64)
    p = np.concatenate((np.zeros(3040, np.int64), 4 * images)).astype(np.int64)
    m = np.concatenate((np.zeros(3040, np.int64), np.ones(1500, np.int64)))
    return t, p, m


def test_light_pool_takes_the_coolest_text_and_a_share_of_fillers():
    C = 4096
    cfg = PackConfig(context_length=C)
    t, p, m = _items(C)
    excess = sample_costs(t, p, m, cfg).cost - t
    media = p > 0
    rng = np.random.default_rng(0)
    bins = rng.integers(0, int(np.ceil(t.sum() / C)) + 5, t.size)  # any first plan: only its pack costs matter
    bins[:40] = np.arange(40)  # a document alone in each of packs 0-39
    heavy = heavy_packs(excess, bins, float(C), 2)
    assert heavy.share * (bins.max() + 1) >= 40  # the documents' packs at least
    n_heavy = round(heavy.share * (bins.max() + 1))
    pool = light_pool(t, excess, media, n_heavy, heavy, C, float(C))
    assert pool.any() and not (pool & media).any() and not pool[:40].any()
    big = ~media & (t >= C / 24)
    heat = excess / np.maximum(t, 1)
    # the pool's bigger items are the coolest of their kind, and fillers are a small share
    assert heat[pool & big].max() <= heat[~pool & big].min()
    assert 0 < t[pool & ~big].sum() <= 0.06 * t[pool].sum()
    # about one pack's worth per heavy pack
    assert n_heavy * C * 0.95 <= t[pool].sum() <= n_heavy * C
    # one pack per rank per step: no pack is heavy, no partners
    assert heavy_packs(excess, bins, float(C), 1).share == 0.0
    assert not light_pool(t, excess, media, 0, heavy, C, float(C)).any()


def test_a_big_plan_counts_its_heavy_packs_on_a_sample(bimodal, monkeypatch):
    """Above `PARTNER_SAMPLE` items the heavy packs are counted on an even sample: the same
    balance of the rank loads, one best fit of everything instead of two."""
    import packer.packing as packing

    t, p, m, labels = bimodal
    cfg = PackConfig(dp_size=8, grad_accum=2)
    exact = plan_packs(t, p, m, cfg, labels=labels)
    calls = []
    real = packing._best_fit
    monkeypatch.setattr(packing, "_best_fit", lambda items, sel, *a: calls.append(sel.size) or real(items, sel, *a))
    monkeypatch.setattr(packing, "PARTNER_SAMPLE", 10_000)
    sampled = plan_packs(t, p, m, cfg, labels=labels)
    assert sorted(calls)[-1] < t.size and sum(calls) <= t.size + 10_000  # no best fit of all 40,000
    assert _load_spread(sampled, 2) <= 1.02
    assert sampled.n_packs <= exact.n_packs + int(0.001 * exact.n_packs) + 1


def test_offset_deal_fills_every_step_and_cancels_the_offsets():
    rng = np.random.default_rng(1)
    offsets = rng.normal(size=(600, 4)) + np.array([1.0, -1.0, 0.0, 0.0]) * (rng.random((600, 1)) < 0.1)
    offsets -= offsets.mean(axis=0)
    tie = seeded_hash(3, np.arange(600))
    step = offset_deal(offsets, 50, 12, tie)
    assert np.bincount(step, minlength=50).tolist() == [12] * 50
    sums = np.zeros((50, 4))
    np.add.at(sums, step, offsets)
    random = np.zeros((50, 4))
    np.add.at(random, rng.permutation(600) // 12, offsets)
    ours, theirs = np.linalg.norm(sums, axis=1), np.linalg.norm(random, axis=1)
    assert ours.mean() < 0.4 * theirs.mean() and ours.max() < 0.5 * theirs.max()
    np.testing.assert_array_equal(step, offset_deal(offsets, 50, 12, tie))  # deterministic


def test_offsets_deal_keeps_the_mix_where_no_stratum_lean_does(bimodal, monkeypatch):
    """dp 24, k 2: no lean of the strata keeps the mix (units are dealt: 1.4% mean / 2.5% worst
    step); the offsets deal keeps it and balances the steps better."""
    t, p, m, labels = bimodal
    cfg = PackConfig(dp_size=24, grad_accum=2)
    plan = plan_packs(t, p, m, cfg, labels=labels)
    with monkeypatch.context() as mp:
        mp.setattr(steps, "MIX_DEALS", ("strata",))
        strata_only = assemble_steps(plan, cfg, 0)
    sp = assemble_steps(plan, cfg, 0)
    check_steps(sp, plan, cfg)
    assert strata_only.mix_deal == "units" and sp.mix_deal == "offsets" and 0 <= sp.mix_cost_lean < 1
    old = step_balance(strata_only.step, strata_only.rank, strata_only.cost, 24)
    new = step_balance(sp.step, sp.rank, sp.cost, 24)
    assert new.mean() < old.mean() and new.max() < old.max() and new.max() <= 1.02
    assert (_spread_ratio(plan, sp) <= 1.2).all()


def test_mix_offsets_are_zero_for_a_load_with_the_plans_shares():
    base = steps._MixBase(np.ones(2), np.ones(2), 0.0, gs=np.array([0.25, 0.75]), gt=np.array([0.5, 0.5]),
                          tol_s=np.array([0.1, 0.1]), tol_t=np.array([0.1, 0.1]))
    samples = np.array([[1.0, 3.0], [4.0, 0.0]])
    tokens = np.array([[100.0, 100.0], [0.0, 200.0]])
    off = mix_offsets(tokens, samples, np.zeros(2, np.int64), 1, base)
    np.testing.assert_allclose(off[0], 0.0)
    # the second load: 3 samples over the share of label 0 (scale: 0.1 x 8 samples a step), 100
    # tokens over in label 1 (scale: 0.1 x 400 tokens a step)
    np.testing.assert_allclose(off[1], [3 / 0.8, -3 / 0.8, -100 / 40, 100 / 40])


def test_offsets_deal_looks_over_at_most_a_group_of_steps_at_once(monkeypatch):
    """Its time grows with the square of the steps it looks over: a cell of 1,000 steps is dealt in
    groups of at most `OFFSET_GROUP` (each a seeded cross-section of the cell), every step full."""
    seen = []
    real = steps.offset_deal
    monkeypatch.setattr(steps, "offset_deal", lambda off, n, per, tie: seen.append(n) or real(off, n, per, tie))
    rng = np.random.default_rng(2)
    U, dp = 4000, 4
    offsets, X, tie = rng.normal(size=(U, 3)), rng.random((U, 1)), seeded_hash(5, np.arange(U))
    step = steps._offsets_in_cells(X, offsets, dp, 1000, tie)
    assert np.bincount(step, minlength=1000).tolist() == [dp] * 1000
    assert max(seen) <= steps.OFFSET_GROUP and sum(seen) == 1000 and len(seen) == 4
    sums = np.zeros((1000, 3))
    np.add.at(sums, step, offsets)
    random = np.zeros((1000, 3))
    np.add.at(random, rng.permutation(U) // dp, offsets)
    assert np.linalg.norm(sums, axis=1).mean() < 0.5 * np.linalg.norm(random, axis=1).mean()


def test_no_light_partners_where_one_would_put_a_step_beyond_the_mix_tolerance(bimodal):
    """A light pack is short texts only: with 4 packs a step, one such pack takes its step's share
    of documents far beyond the tolerance, so the plan has none; with 16 a step it stays within."""
    t, p, m, labels = bimodal
    few = plan_packs(t, p, m, PackConfig(dp_size=2, grad_accum=2), labels=labels)
    many = plan_packs(t, p, m, PackConfig(dp_size=8, grad_accum=2), labels=labels)
    # `few` is the plan without partners (as planned for a separate ViT phase, where none are made)
    alone = plan_packs(t, p, m, PackConfig(dp_size=2, grad_accum=2, vit_phase="separate"), labels=labels)
    np.testing.assert_array_equal(few.pack_of, alone.pack_of)
    assert (many.cost < 0.9 * many.cost.mean()).sum() > (few.cost < 0.9 * few.cost.mean()).sum() + 100
    assert _load_spread(many, 2) <= 1.02 < _load_spread(few, 2)
    # the check itself: the documents' share of a step moved by one pack of documents
    labels_ = np.array([[0]] * 60 + [[1]] * 40)
    tokens = np.full(100, 100)
    pool = np.zeros(100, bool)
    pool[60:70] = True  # one light pack of 10 samples of label 1
    assert not keeps_the_mix(labels_, tokens, pool, 1, 4, 40, 3.0)  # 4 packs a step of 2.5 samples each
    assert keeps_the_mix(labels_, tokens, pool, 1, 400, 40, 3.0)  # a step of 1,000 samples
    assert keeps_the_mix(None, tokens, pool, 1, 4, 40, 3.0)  # no labels: no mix to keep
