"""The balance figures and the swap search's building block, by hand on small inputs: fractional
costs (a mean below 1), steps without cost, rows left out, and the largest load over the ranks
other than two, against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from packer.steps import _max_without, step_balance, step_balance_ratio


def test_step_balance_with_fractional_costs_and_an_idle_step():
    step = np.array([0, 0, 1, 1, -1])
    rank = np.array([0, 1, 0, 1, 0])
    cost = np.array([0.25, 0.75, 0.0, 0.0, 5.0])  # the row of step -1 is left out
    assert step_balance(step, rank, cost, 2).tolist() == [1.5, 1.0]  # 0.75 / mean 0.5; no cost: 1.0


def test_step_balance_ratio_with_fractional_costs_and_an_idle_step():
    step = np.array([0, 0, 1, 1, -1])
    rank = np.array([0, 1, 0, 1, 1])
    vit = np.array([0.2, 0.0, 0.0, 0.0, 9.0])
    llm = np.array([0.0, 0.2, 0.0, 0.0, 9.0])
    # step 0: ideal 0.1 + 0.1; separate phases wait for the slower rank in each: 0.2 + 0.2
    assert step_balance_ratio(step, rank, vit, llm, 2, separate=True).tolist() == pytest.approx([2.0, 1.0])
    assert step_balance_ratio(step, rank, vit, llm, 2, separate=False).tolist() == pytest.approx([1.0, 1.0])


def test_no_step_at_all():
    none = np.array([-1, -1])
    assert step_balance(none, np.zeros(2, np.int64), np.ones(2), 4).shape == (0,)
    assert step_balance_ratio(none, np.zeros(2, np.int64), np.ones(2), np.ones(2), 4, separate=True).shape == (0,)


@pytest.mark.parametrize("seed", range(6))
def test_max_without_is_the_largest_load_of_the_other_ranks(seed):
    rng = np.random.default_rng(seed)
    dp = int(rng.integers(3, 7))
    loads = rng.integers(0, 4, (dp, 2)).astype(np.float64)  # small integers: many ties
    a, b = np.meshgrid(np.arange(dp), np.arange(dp), indexing="ij")
    got = _max_without(loads, a, b)
    for i, j in itertools.product(range(dp), repeat=2):
        rest = [r for r in range(dp) if r not in (i, j)]
        assert got[i, j].tolist() == loads[rest].max(axis=0).tolist(), (i, j, loads.tolist())


@pytest.mark.parametrize("remainder", ["drop", "pad", "repeat"])
def test_step_plan_fields_are_the_documented_integers(remainder):
    from packer.packing import plan_packs
    from packer.steps import assemble_steps
    from schemas.pack_config import PackConfig

    rng = np.random.default_rng(3)
    tokens = rng.integers(20, 900, 300)
    cfg = PackConfig(context_length=1024, dp_size=4, grad_accum=2, remainder=remainder)
    plan = plan_packs(tokens, np.zeros(300, np.int64), np.zeros(300, np.int64), cfg)
    sp = assemble_steps(plan, cfg, seed=0)
    assert (sp.dp_size, sp.packs_per_rank_step, sp.copies_sharing_step) == (4, 2, 0)  # no copies: none share
    for name in ("pack", "step", "rank", "micro", "shard", "repeat_of", "dropped_packs"):
        assert getattr(sp, name).dtype == np.int64, name
    assert sp.micro.min() == 0 and sp.micro.max() == 1 and len(sp) == sp.n_steps * 8


@pytest.mark.parametrize("n", [0, 8])
def test_a_plan_that_fills_whole_steps_or_is_empty(n):
    from packer.packing import plan_packs
    from packer.steps import assemble_steps
    from schemas.pack_config import PackConfig

    cfg = PackConfig(context_length=1024, dp_size=4, grad_accum=2)
    plan = plan_packs(np.full(n, 1000), np.zeros(n, np.int64), np.zeros(n, np.int64), cfg)  # one sample a pack
    sp = assemble_steps(plan, cfg, seed=0)
    assert (plan.n_packs, sp.n_steps, len(sp)) == (n, n // 8, n)
    assert sorted(sp.pack.tolist()) == list(range(n)) and not sp.is_filler.any()
    for name in ("pack", "step", "rank", "micro", "shard", "repeat_of", "dropped_packs"):
        assert getattr(sp, name).dtype == np.int64, name


def test_a_copy_group_without_copies_changes_nothing():
    from packer.packing import plan_packs
    from packer.steps import assemble_steps
    from schemas.pack_config import PackConfig

    rng = np.random.default_rng(5)
    tokens = rng.integers(20, 900, 200)
    cfg = PackConfig(context_length=1024, dp_size=4, grad_accum=2)
    zeros = np.zeros(200, np.int64)
    plain = assemble_steps(plan_packs(tokens, zeros, zeros, cfg), cfg, seed=1)
    # -1: a sample without copies; and one group holding a single sample is no copy either
    for groups in (np.full(200, -1), np.where(np.arange(200) == 7, 0, -1)):
        none = assemble_steps(plan_packs(tokens, zeros, zeros, cfg, copy_group=groups), cfg, seed=1)
        for name in ("pack", "step", "rank", "micro", "shard"):
            assert getattr(none, name).tolist() == getattr(plain, name).tolist(), name
        assert none.copies_sharing_step == 0
