"""assemble_steps: equal packs per rank per step, remainder modes, shards, determinism, balance
against naive dealing. (Re-assignment for another dp_size is the bridge's: tests/trainer_bridge/.)"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from packer.packing import plan_packs
from packer.steps import assemble_steps, naive_steps, seeded_hash, step_balance
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
    plan = plan_packs(*_lognormal_lengths(60_000, seed=4), PackConfig())
    cfg = PackConfig(dp_size=dp, grad_accum=ga)
    sp = assemble_steps(plan, cfg, 0)
    ns, nr = naive_steps(plan.n_packs, dp, ga)
    for ours_cost, plan_cost in ((sp.attn_cost, plan.attn_cost), (sp.vit_cost, plan.vit_cost)):
        ours = step_balance(sp.step, sp.rank, ours_cost, dp)
        naive = step_balance(ns, nr, plan_cost, dp)
        assert ours.mean() < naive.mean()
        assert ours.mean() <= (1.02 if ga >= 8 else 1.06)


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
    without = assemble_steps(plan, cfg, 0)
    assert deviation(with_groups) < 0.6 * deviation(without)
    assert step_balance(with_groups.step, with_groups.rank, with_groups.attn_cost, 8).mean() <= 1.02


def test_bad_groups_name_the_field():
    plan = random_plan(3, 50)
    with pytest.raises(ValueError, match="groups"):
        assemble_steps(plan, BASE, 0, groups=np.zeros(plan.n_packs + 1, np.int64))
