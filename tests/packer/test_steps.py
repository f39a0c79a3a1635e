"""assemble_steps: equal packs per rank per step, remainder modes, shards, determinism, balance
against naive dealing, the two balance modes, the step-time objective, copies and the remainder.
(Re-assignment for another dp_size is the bridge's: tests/trainer_bridge/.)"""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from packer.packing import plan_packs
from packer import step_mix
from packer.steps import (
    assemble_steps,
    composition_order,
    deal_step,
    naive_steps,
    seeded_hash,
    step_balance,
    step_balance_ratio,
)
from schemas.pack_config import PackConfig

BASE = PackConfig(context_length=1024, max_vit_patches=4096, max_images_per_pack=8)


def random_plan(seed: int, n: int, image_fraction: float = 0.4):
    rng = np.random.default_rng(seed)
    t = np.clip(np.round(rng.lognormal(np.log(150), 1.0, n)), 1, 1024).astype(np.int64)
    has = rng.random(n) < image_fraction
    m = np.where(has, rng.integers(1, 3, n), 0)
    p = np.where(has, 4 * np.minimum(t, m * rng.integers(4, 200, n)), 0)
    return plan_packs(t, p, m, BASE)


def check_steps(sp, plan, cfg: PackConfig) -> None:
    dp, k = cfg.dp_size, cfg.packs_per_rank_step
    S = dp * k
    N = len(sp)
    assert len(sp) == sp.n_steps * S
    # ordered by (step, rank, micro), every (step, rank) has micro 0..k-1 exactly once
    key = np.stack((sp.step, sp.rank, sp.micro), axis=1)
    assert (np.lexsort((sp.micro, sp.rank, sp.step)) == np.arange(N)).all()
    expect = np.array([(s, r, u) for s in range(sp.n_steps) for r in range(dp) for u in range(k)]).reshape(-1, 3)
    np.testing.assert_array_equal(key, expect)
    # every plan pack is placed once or dropped
    real = (sp.pack >= 0) & ~sp.is_filler
    placed = np.sort(sp.pack[real])
    np.testing.assert_array_equal(np.sort(np.concatenate((placed, sp.dropped_packs))), np.arange(plan.n_packs))
    rem = plan.n_packs % S
    fillers = int(sp.is_filler.sum())
    if cfg.remainder == "drop":
        assert sp.dropped_packs.shape[0] == rem and fillers == 0
    else:
        assert sp.dropped_packs.shape[0] == 0 and fillers == (S - rem if rem else 0)
    if cfg.remainder == "pad":
        assert (sp.pack[sp.is_filler] == -1).all() and (sp.cost[sp.is_filler] == 0).all()
    rep = sp.repeat_of >= 0
    if cfg.remainder == "repeat":
        assert (rep == sp.is_filler).all()
        orig = sp.repeat_of[rep]
        assert (sp.pack[orig] == sp.pack[rep]).all() and not sp.is_filler[orig].any()
    else:
        assert not rep.any()
    # shards: packs_per_shard consecutive packs of a rank; every rank has the same shards
    for r in range(dp):
        mine = sp.rank == r
        np.testing.assert_array_equal(sp.shard[mine], np.arange(mine.sum()) // cfg.packs_per_shard)
    counts = np.bincount(sp.rank, minlength=dp)
    assert (counts == counts[0]).all()
    # costs travel with the packs
    src = np.where(sp.pack >= 0, sp.pack, 0)
    np.testing.assert_array_equal(sp.attn_cost, np.where(sp.pack >= 0, plan.attn_cost[src], 0.0))


def same_steps(a, b) -> bool:
    return all(
        np.array_equal(getattr(a, f), getattr(b, f))
        for f in ("pack", "step", "rank", "micro", "shard", "is_filler", "repeat_of", "dropped_packs")
    )


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 10_000),
    st.integers(1, 400),
    st.integers(1, 6),
    st.integers(1, 3),
    st.integers(1, 3),
    st.sampled_from(["drop", "pad", "repeat"]),
    st.integers(1, 7),
    st.booleans(),
)
def test_steps_are_complete_equal_and_deterministic(seed, n, dp, mb, ga, remainder, per_shard, with_groups):
    plan = random_plan(seed, n)
    cfg = BASE.model_copy(
        update={"dp_size": dp, "micro_batch": mb, "grad_accum": ga, "remainder": remainder, "packs_per_shard": per_shard}
    )
    groups = np.asarray(seeded_hash(seed, np.arange(plan.n_packs)) % np.uint64(3), np.int64) if with_groups else None
    sp = assemble_steps(plan, cfg, seed, groups=groups)
    check_steps(sp, plan, cfg)
    assert same_steps(sp, assemble_steps(plan, cfg, seed, groups=groups))


def test_no_packs_no_steps():
    plan = plan_packs([], [], [], BASE)
    sp = assemble_steps(plan, BASE.model_copy(update={"remainder": "pad"}), 0)
    assert len(sp) == 0 and sp.n_steps == 0


def test_drop_loses_the_least_filled_packs():
    plan = random_plan(1, 300)
    cfg = BASE.model_copy(update={"dp_size": 4, "grad_accum": 3})
    sp = assemble_steps(plan, cfg, 0)
    rem = plan.n_packs % 12
    assert rem and sp.dropped_packs.shape[0] == rem
    kept = np.setdiff1d(np.arange(plan.n_packs), sp.dropped_packs)
    assert plan.pack_tokens[sp.dropped_packs].max() <= plan.pack_tokens[kept].min()


def test_seed_changes_the_order_not_the_invariants():
    plan = random_plan(2, 400)
    cfg = BASE.model_copy(update={"dp_size": 4, "grad_accum": 2, "remainder": "repeat"})
    a, b = assemble_steps(plan, cfg, 1), assemble_steps(plan, cfg, 2)
    check_steps(a, plan, cfg)
    check_steps(b, plan, cfg)
    assert not np.array_equal(a.pack, b.pack)


@pytest.mark.parametrize("dp, ga", [(8, 4), (16, 8)])
def test_balance_beats_naive_dealing(dp, ga):
    """The objective is the modelled step time (total cost with the default fused ViT phase); each
    dimension on its own still beats naive dealing. (Before the step-time objective, attention and
    ViT cost were each held to 1.02-1.06 and the total was not looked at.)"""
    plan = plan_packs(*_lognormal_lengths(60_000, seed=4), PackConfig(dp_size=dp, grad_accum=ga))
    cfg = PackConfig(dp_size=dp, grad_accum=ga)
    sp = assemble_steps(plan, cfg, 0)
    ns, nr = naive_steps(plan.n_packs, dp, ga)
    for ours_cost, plan_cost in ((sp.attn_cost, plan.attn_cost), (sp.vit_cost, plan.vit_cost)):
        ours = step_balance(sp.step, sp.rank, ours_cost, dp)
        naive = step_balance(ns, nr, plan_cost, dp)
        assert ours.mean() < naive.mean()
    total = step_balance(sp.step, sp.rank, sp.cost, dp)
    assert total.mean() <= 1.005 and total.max() <= 1.02
    assert total.max() < step_balance(ns, nr, plan.cost, dp).max()


def _lognormal_lengths(n: int, seed: int):
    rng = np.random.default_rng(seed)
    t = np.clip(np.round(rng.lognormal(np.log(1500) - 0.5, 1.0, n)), 1, 24576).astype(np.int64)
    has = rng.random(n) < 0.3
    m = np.where(has, rng.integers(1, 3, n), 0)
    return t, np.where(has, 4 * np.minimum(t, m * rng.integers(4, 1200, n)), 0), m


def test_groups_keep_each_step_close_to_the_global_mix():
    plan = plan_packs(*_lognormal_lengths(40_000, seed=6), PackConfig())
    groups = np.asarray(seeded_hash(9, np.arange(plan.n_packs)) % np.uint64(3), np.int64)
    cfg = PackConfig(dp_size=8, grad_accum=8)

    def deviation(sp):
        g = groups[sp.pack]
        hist = np.zeros((sp.n_steps, 3))
        np.add.at(hist, (sp.step, g), 1)
        glob = hist.sum(axis=0) / hist.sum()
        return 0.5 * np.abs(hist / hist.sum(axis=1, keepdims=True) - glob).sum(axis=1).mean()

    with_groups = assemble_steps(plan, cfg, 0, groups=groups)
    # mix mode holds each step's mix as close as random dealing would (these groups are random,
    # so steps of alike packs already are: the cells stay small and the balance stays)
    rs = step_mix.random_steps(len(with_groups), with_groups.n_steps, 64, 1)
    random = StepLike(pack=with_groups.pack, step=rs, n_steps=with_groups.n_steps)
    assert deviation(with_groups) <= 1.15 * deviation(random)
    assert step_balance(with_groups.step, with_groups.rank, with_groups.cost, 8).mean() <= 1.005
    # groups that follow the cost: at k = 8 a rank load holds a pack of every eighth of the costs,
    # so loads alike in cost are alike in groups too and mix mode is cost mode; at k = 2 (heavy with
    # light) cost mode clusters them, mix mode spreads them
    follow = np.asarray(np.argsort(np.argsort(plan.cost)) * 3 // plan.n_packs, np.int64)
    groups[:] = follow
    mixed = assemble_steps(plan, cfg, 0, groups=follow)
    assert mixed.mix_cost_lean == 1.0
    assert deviation(mixed) <= 1.15 * deviation(StepLike(mixed.pack, rs, mixed.n_steps))
    cfg2 = cfg.model_copy(update={"grad_accum": 2})
    mixed = assemble_steps(plan, cfg2, 0, groups=follow)
    clustered = assemble_steps(plan, cfg2.model_copy(update={"balance": "cost"}), 0, groups=follow)
    assert deviation(mixed) < 0.5 * deviation(clustered)


class StepLike(NamedTuple):
    pack: np.ndarray
    step: np.ndarray
    n_steps: int


def test_bad_groups_name_the_field():
    plan = random_plan(3, 50)
    with pytest.raises(ValueError, match="groups"):
        assemble_steps(plan, BASE, 0, groups=np.zeros(plan.n_packs + 1, np.int64))


def test_seeded_hash_is_stable():
    # fixed values: a change here changes every output made with the same seed
    assert seeded_hash(0, np.arange(3)).tolist() == seeded_hash(0, np.array([0, 1, 2])).tolist()
    assert seeded_hash(0, np.arange(2)).tolist() != seeded_hash(1, np.arange(2)).tolist()
    assert int(seeded_hash(7, np.array([5]))[0]) == int(seeded_hash(7, np.array([5], np.int32))[0])


# ---- step composition (issue 16) ------------------------------------------------------------------


def _bimodal(n: int, seed: int):
    """The bimodal VLM mix of bench/bench_packing.py (60% image samples, 40% long documents;
    labels: source and task)."""
    spec = importlib.util.spec_from_file_location("bench_packing", Path(__file__).parents[2] / "bench" / "bench_packing.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench.bimodal(n, seed)


@pytest.fixture(scope="module")
def bimodal_plans():
    t, p, m, labels = _bimodal(40_000, seed=21)
    return {k: plan_packs(t, p, m, PackConfig(dp_size=8, grad_accum=k), labels=labels) for k in (1, 2, 4, 8)}


@pytest.mark.parametrize("k", [1, 2, 4, 8])
def test_cost_mode_balances_the_worst_step(bimodal_plans, k):
    plan = bimodal_plans[k]
    cfg = PackConfig(dp_size=8, grad_accum=k, balance="cost")
    sp = assemble_steps(plan, cfg, 0)
    check_steps(sp, plan, cfg)
    total = step_balance(sp.step, sp.rank, sp.cost, 8)
    assert total.max() <= 1.02 and total.mean() <= 1.005
    naive = step_balance(*naive_steps(plan.n_packs, 8, k), plan.cost, 8)
    assert total.max() < naive.max()


def _spread_ratio(plan, sp):
    lm = step_mix.label_matrix(plan.pack_of, plan.n_packs, plan.labels, plan.sample_tokens)
    real = sp.pack >= 0
    us, ut = lm.samples[np.where(real, sp.pack, 0)] * real[:, None], lm.tokens[np.where(real, sp.pack, 0)] * real[:, None]
    _, st, _ = step_mix.step_shares(sp.step, us, ut, lm.kind, sp.n_steps)
    base = []
    for seed in range(5):
        rs = step_mix.random_steps(len(sp), sp.n_steps, len(sp) // sp.n_steps, seed)
        base.append(step_mix.spread(step_mix.step_shares(rs, us, ut, lm.kind, sp.n_steps)[1]))
    return step_mix.spread(st) / np.mean(base, axis=0)


@pytest.mark.parametrize("k", [1, 4, 8])
def test_mix_mode_keeps_the_mix_of_every_step(bimodal_plans, k):
    """The spread of each label's token share across steps is within 1.2x that of dealing the packs
    at random (the check's margin; at k = 1 the swaps of `packer.step_swaps` use it up to 0.97 of
    it); cost mode clusters alike packs and spreads the mix."""
    plan = bimodal_plans[k]
    cfg = PackConfig(dp_size=8, grad_accum=k, balance="mix")
    sp = assemble_steps(plan, cfg, 0)
    check_steps(sp, plan, cfg)
    assert (_spread_ratio(plan, sp) <= 1.2).all()
    cost = assemble_steps(plan, cfg.model_copy(update={"balance": "cost"}), 0)
    assert _spread_ratio(plan, cost).max() > _spread_ratio(plan, sp).max()
    if k >= 4:  # with several packs per rank the ranks still balance
        total = step_balance(sp.step, sp.rank, sp.cost, 8)
        assert total.mean() <= 1.02 and total.max() <= 1.05


def test_mix_mode_deals_balanced_rank_loads_at_two_packs_per_rank(bimodal_plans):
    """At k = 2 the rank loads (heavy with light: the plan made light partners for its heavy
    packs, `packer.partner_packs`) are dealt to steps by label shares: the mean step within 1%
    and the worst within 3% (dealing units, as before, gave 2.5% / 7% here; loads without light
    partners 1.7% / 5.5%), the mix within 1.2x random."""
    plan = bimodal_plans[2]
    cfg = PackConfig(dp_size=8, grad_accum=2, balance="mix")
    sp = assemble_steps(plan, cfg, 0)
    check_steps(sp, plan, cfg)
    assert 0.0 <= sp.mix_cost_lean < 1.0 and sp.mix_deal in ("strata", "offsets")
    total = step_balance(sp.step, sp.rank, sp.cost, 8)
    assert total.mean() <= 1.01 and total.max() <= 1.03
    assert (_spread_ratio(plan, sp) <= 1.2).all()
    # with a separate ViT phase (planned for it: no light partners) the leans are scored on that
    # step time; the mix holds the same way
    separate = cfg.model_copy(update={"vit_phase": "separate"})
    t, p, m, labels = _bimodal(40_000, seed=21)
    plan = plan_packs(t, p, m, separate, labels=labels)
    sp = assemble_steps(plan, separate, 0)
    check_steps(sp, plan, separate)
    assert (_spread_ratio(plan, sp) <= 1.2).all()
    assert step_balance_ratio(sp.step, sp.rank, sp.vit_cost, sp.llm_cost, 8, separate=True).mean() <= 1.1


def test_composition_order_keeps_alike_items_together():
    rng = np.random.default_rng(0)
    kind = np.array([0, 0, 1, 1])
    a = rng.random((60, 4)) * [1, 0.1, 1, 1]  # mostly label 0 of kind 0
    b = rng.random((60, 4)) * [0.1, 1, 1, 1]  # mostly label 1
    tokens = np.concatenate((a, b))[rng.permutation(120)]
    order = composition_order(tokens, tokens, kind, seeded_hash(0, np.arange(120)))
    assert sorted(order.tolist()) == list(range(120))
    first = tokens[:, 0] > tokens[:, 1]
    # the first half of the order is one kind of item, the second half the other
    assert len(set(first[np.argsort(order)][:60].tolist())) == 1


def test_a_separate_vit_phase_is_balanced_as_its_own_phase(bimodal_plans):
    plan = bimodal_plans[4]
    fused = PackConfig(dp_size=8, grad_accum=4, balance="cost")
    separate = fused.model_copy(update={"vit_phase": "separate"})
    a, b = assemble_steps(plan, fused, 0), assemble_steps(plan, separate, 0)
    check_steps(b, plan, separate)
    ra = step_balance_ratio(a.step, a.rank, a.vit_cost, a.llm_cost, 8, separate=True)
    rb = step_balance_ratio(b.step, b.rank, b.vit_cost, b.llm_cost, 8, separate=True)
    assert rb.mean() < ra.mean()
    assert step_balance(b.step, b.rank, b.vit_cost, 8).mean() < step_balance(a.step, a.rank, a.vit_cost, 8).mean()


@settings(max_examples=80, deadline=None)
@given(st.integers(2, 3), st.integers(2, 3), st.integers(0, 10_000), st.booleans())
def test_deal_never_worsens_its_start_and_meets_the_optimum_bound(dp, k, seed, separate):
    rng = np.random.default_rng(seed)
    V = rng.choice([0.0, 1.0, 5.0], dp * k) * rng.random(dp * k)
    L = 10 + rng.random(dp * k) * 10
    init = np.repeat(np.arange(dp), k)[rng.permutation(dp * k)]
    r = deal_step(V, L, dp, k, 256, separate=separate, init=init)
    assert (np.bincount(r, minlength=dp) == k).all()

    def time(rank):
        v, lo = np.bincount(rank, V, dp), np.bincount(rank, L, dp)
        return v.max() + lo.max() if separate else (v + lo).max()

    assert time(r) <= time(init) + 1e-9
    if dp * k <= 8:  # brute force over the distinct deals
        best = min(time(np.asarray(a)) for a in set(itertools.permutations(init.tolist())))
        assert best - 1e-9 <= time(r)


@pytest.mark.parametrize("balance", ["mix", "cost"])
def test_copies_of_a_sample_stay_out_of_one_step(balance):
    rng = np.random.default_rng(3)
    base_t = np.clip(np.round(rng.lognormal(np.log(200), 0.9, 3000)), 1, 1024).astype(np.int64)
    copies = rng.integers(1, 4, base_t.shape[0])
    t = np.repeat(base_t, copies)
    group = np.repeat(np.arange(base_t.shape[0]), copies)
    zeros = np.zeros_like(t)
    cfg = BASE.model_copy(update={"dp_size": 4, "grad_accum": 2, "balance": balance})
    plan = plan_packs(t, zeros, zeros, cfg, copy_group=group, labels=group % 3)
    sp = assemble_steps(plan, cfg, 0)
    check_steps(sp, plan, cfg)
    step_of_pack = np.full(plan.n_packs, -1)
    step_of_pack[sp.pack[~sp.is_filler]] = sp.step[~sp.is_filler]
    st_ = step_of_pack[plan.pack_of]
    kept = st_ >= 0
    pairs = len({(int(g), int(s)) for g, s in zip(group[kept], st_[kept])})
    assert pairs == kept.sum() and sp.copies_sharing_step == 0


def test_the_planned_remainder_is_what_is_dropped():
    t, p, m, labels = _bimodal(5000, seed=2)
    cfg = PackConfig(dp_size=8, grad_accum=3)
    plan = plan_packs(t, p, m, cfg, labels=labels)
    sp = assemble_steps(plan, cfg, 0)
    assert plan.remainder_packs.size == plan.n_packs % 24
    np.testing.assert_array_equal(sp.dropped_packs, plan.remainder_packs)


def _held_by_union(of: np.ndarray, groups_of: dict[int, set[int]], h: int, without: int) -> set[int]:
    """The definition: every group a member of holder h other than `without` holds."""
    return set().union(*[groups_of.get(m, set()) for m in np.flatnonzero(of == h).tolist() if m != without])


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_copy_holders_answer_as_the_union_of_their_members_through_trades(data):
    """_CopyHolders keeps per-holder sets and counts and remembers intersections between trades;
    every answer must equal the plain definition (union of the members' groups), after any
    sequence of trades, including members that hold no group and repeated questions."""
    from packer.steps import _CopyHolders

    n_members = data.draw(st.integers(2, 24))
    n_holders = data.draw(st.integers(2, 6))
    of = np.array(data.draw(st.lists(st.integers(0, n_holders - 1), min_size=n_members, max_size=n_members)))
    groups_of = {m: set(gs) for m, gs in enumerate(data.draw(st.lists(
        st.lists(st.integers(0, 7), max_size=4), min_size=n_members, max_size=n_members))) if gs}
    holders = _CopyHolders(of.copy(), groups_of)
    for _ in range(data.draw(st.integers(1, 30))):
        x, y = data.draw(st.integers(0, n_members - 1)), data.draw(st.integers(0, n_members - 1))
        a, b = int(holders.of[x]), int(holders.of[y])
        want = a != b and not (groups_of.get(y, set()) & _held_by_union(holders.of, groups_of, a, x)
                               or groups_of.get(x, set()) & _held_by_union(holders.of, groups_of, b, y))
        assert holders.can_trade(x, y) == want
        for h in range(n_holders):
            assert holders.meets(h, x, y) == bool(groups_of.get(x, set()) & _held_by_union(holders.of, groups_of, h, y))
        if a != b and data.draw(st.booleans()):
            holders.trade(x, y)
            of[x], of[y] = b, a
            assert holders.of.tolist() == of.tolist()
