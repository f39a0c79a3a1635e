"""Step assembly rules that the other step tests reach only on inputs where they cannot be told
apart (issue 21's mutation survivors of packer/steps.py, docs/mutation.md):

- cells of several steps dealt back and forth from their own first step (`_cells_to_steps`);
- units dealt in the smallest cells (a power of two steps) that keep the mix (`_mix_cells_steps`);
- the remainder of a plan made for another step size, chosen within the least filled packs by the
  groups' mix in samples;
- a pack holding copies of two samples, joining the load that holds another copy of one of them;
- copies traded among loads alike in cost: ties go to the first load.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_steps import check_steps
from test_steps_fallback import _golden
from test_steps_grid_golden import _digest, _samples

import packer.steps as steps
from packer.packing import plan_packs
from packer.steps import assemble_steps, kd_cells, seeded_hash
from schemas.pack_config import PackConfig


def test_cells_are_dealt_back_and_forth_from_their_own_first_step():
    """Three cells of 3 points a step, of 1, 2 and 2 steps: within a cell the points go, in key
    order, to its steps first to last, then last to first, and so on; a cell's steps follow the
    steps of the cells before it. The order of the points in the arrays does not matter."""
    cell = np.array([0] * 3 + [1] * 6 + [2] * 6)
    slots = np.array([1, 2, 2])
    key = np.arange(15, dtype=np.float64)[::-1]  # the last point of a cell comes first
    want = [0, 0, 0] + [2, 1, 1, 2, 2, 1] + [4, 3, 3, 4, 4, 3]
    assert steps._cells_to_steps(cell, slots, key).tolist() == want
    perm = np.random.default_rng(0).permutation(15)
    assert steps._cells_to_steps(cell[perm], slots, key[perm]).tolist() == np.asarray(want)[perm].tolist()


def _unit_deal(plan, cfg, seed: int):
    """The figures `assemble_steps` hands `_mix_cells_steps` for a plan without fillers or drops."""
    S = cfg.dp_size * cfg.packs_per_rank_step
    units = np.arange(plan.n_packs)
    n_steps = units.size // S
    real = np.ones(units.size, bool)
    mix = steps._unit_mix(plan, None, units, real, units)
    base = steps._mix_base(mix, n_steps, S, cfg.mix_tolerance, seed)
    X = (plan.vit_cost + plan.llm_cost)[:, None]
    return X, mix, n_steps, S, seeded_hash(seed, units), base


@pytest.mark.parametrize("seed, cells_of", [(0, 1), (1, 2)])
def test_units_are_dealt_in_the_smallest_cells_that_keep_the_mix(seed, cells_of):
    """Labels drawn independently of cost: steps of units alike in cost (cells of one step) keep the
    mix at sample seed 0, so those are the steps; at seed 1 they do not, and cells of two steps do,
    so every step is half of such a cell."""
    tokens, patches, images, _, _ = _samples(120, seed)
    labels = np.random.default_rng(seed).integers(0, 3, (tokens.size, 2))
    cfg = PackConfig(context_length=2048, max_vit_patches=4096, max_images_per_pack=6, dp_size=2, grad_accum=1)
    plan = plan_packs(tokens, patches, images, cfg, labels=labels)
    assert plan.n_packs % 2 == 0
    X, mix, n_steps, S, tie, base = _unit_deal(plan, cfg, 17)
    assert n_steps > 4 * cells_of
    step, excess = steps._mix_cells_steps(X, mix, n_steps, S, tie, base)
    assert steps._mix_ok(excess, base.over)
    assert np.bincount(step).tolist() == [S] * n_steps
    one, _ = kd_cells(X, S, 1, tie)  # cells of one step (as W = 1 would deal them)
    assert steps._mix_ok(steps._mix_excess(one, mix, n_steps, base), base.over) == (cells_of == 1)
    cell, slots = kd_cells(X, S, cells_of, tie)
    assert slots.max() == cells_of
    # every step lies within one cell, and every cell is the union of its steps
    for c in range(slots.size):
        assert np.unique(step[cell == c]).size == slots[c]
        assert np.unique(cell[np.isin(step, step[cell == c])]).tolist() == [c]


def _two_fills():
    """141 text samples alone in a pack (540-999 tokens) and 200 of 490-510 tokens two a pack
    (no 490 fits with a 540): 241 packs, of which the 130 least filled are singles."""
    rng = np.random.default_rng(3)
    tokens = np.concatenate((rng.integers(540, 1000, 141), rng.integers(490, 511, 200)))
    zeros = np.zeros_like(tokens)
    made = PackConfig(context_length=1024, dp_size=7, grad_accum=1)
    plan = plan_packs(tokens, zeros, zeros, made)
    cfg = made.model_copy(update={"dp_size": 4, "grad_accum": 2})
    assert plan.n_packs == 241 and plan.n_packs % 8 == 1 and plan.remainder_packs.size != 1
    by_fill = np.lexsort((-np.arange(plan.n_packs), plan.pack_tokens))
    assert (plan.pack_samples[by_fill[:130]] == 1).all() and np.bincount(plan.pack_samples).tolist() == [0, 141, 100]
    return plan, cfg, by_fill


def test_the_remainder_keeps_the_groups_mix_in_samples():
    """One pack to drop, groups A and B: A holds most packs (129 of the singles), B most samples
    (the 100 pairs and the 6th least filled single). The pack whose group keeps the mix in samples
    goes: that single of B, not the least filled pack (of A)."""
    plan, cfg, by_fill = _two_fills()
    pos = np.empty(plan.n_packs, np.int64)
    pos[by_fill] = np.arange(plan.n_packs)
    groups = np.where((plan.pack_samples == 1) & (pos != 5), 0, 1)
    assert (groups == 0).sum() > (groups == 1).sum()  # A: more packs
    assert plan.pack_samples[groups == 0].sum() < plan.pack_samples[groups == 1].sum()  # B: more samples
    sp = assemble_steps(plan, cfg, 0, groups=groups)
    check_steps(sp, plan, cfg)
    assert sp.dropped_packs.tolist() == [by_fill[5]]


def test_the_remainder_is_chosen_among_the_least_filled_only():
    """One pack to drop: the candidates are the 32 * 1 + 64 = 96 least filled packs. All of them are
    of group A, the rest of B (the larger group): the least filled pack goes, not the 97th, which
    would keep the mix better."""
    plan, cfg, by_fill = _two_fills()
    groups = np.ones(plan.n_packs, np.int64)
    groups[by_fill[:96]] = 0
    sp = assemble_steps(plan, cfg, 0, groups=groups)
    check_steps(sp, plan, cfg)
    assert sp.dropped_packs.tolist() == [by_fill[0]]


@pytest.mark.parametrize("balance", ["cost", "mix"])
def test_a_pack_with_copies_of_two_samples_leaves_the_load_with_another_copy(balance):
    """Packs of 1000 (a copy of sample 1), 900 (a copy of sample 0), 800, and 600 tokens (copies of
    samples 0 and 1, two samples of 300). At two packs a rank load, the heaviest and the lightest
    pack form a load, which then holds two copies of sample 1: one of them trades loads, for
    every seed."""
    tokens = np.array([1000, 300, 300, 900, 800])
    group = np.array([1, 0, 1, 0, -1])
    zeros = np.zeros_like(tokens)
    cfg = PackConfig(context_length=1024, dp_size=1, grad_accum=2, balance=balance)
    plan = plan_packs(tokens, zeros, zeros, cfg, copy_group=group, labels=np.arange(5) % 2)
    assert plan.pack_of.tolist() == [0, 3, 3, 1, 2] and plan.pack_tokens.tolist() == [1000, 900, 800, 600]
    for seed in range(4):
        sp = assemble_steps(plan, cfg, seed)
        check_steps(sp, plan, cfg)
        for s in range(sp.n_steps):
            held = group[np.isin(plan.pack_of, sp.pack[sp.step == s]) & (group >= 0)]
            assert np.unique(held).size == held.size, f"seed {seed}: step {s} holds two copies of a sample"
        assert sp.copies_sharing_step == 0


def test_copies_trade_with_the_first_of_equally_alike_loads():
    """64 packs of three costs, pack i and pack i + 32 holding copies of one sample, 4 ranks a step:
    many loads are equally alike, so a copy sharing a step trades with the first of them (in load
    order) in another step that can take it. Pinned by a digest."""
    tokens = np.tile(np.random.default_rng(6).choice([600, 800, 1000], 32), 2)
    group = np.arange(64) % 32
    zeros = np.zeros_like(tokens)
    cfg = PackConfig(context_length=1024, dp_size=4, grad_accum=1, balance="cost")
    plan = plan_packs(tokens, zeros, zeros, cfg, copy_group=group)
    assert plan.n_packs == 64
    digests = []
    for seed in range(3):
        sp = assemble_steps(plan, cfg, seed)
        check_steps(sp, plan, cfg)
        assert sp.copies_sharing_step == 0
        digests.append(_digest(sp))
    _golden("copies/three-costs", "/".join(digests))


def test_mix_mode_at_seven_ranks_over_39_steps():
    """Seven strata of 39 loads: the composition order's nodes of 9-10 loads straddle strata
    boundaries, so its leaves (a quarter stratum: 9) decide which loads fall in which stratum."""
    tokens, patches, images, labels, _ = _samples(800, 2)
    cfg = PackConfig(context_length=2048, max_vit_patches=4096, max_images_per_pack=6, dp_size=7, grad_accum=1)
    plan = plan_packs(tokens, patches, images, cfg, labels=labels)
    sp = assemble_steps(plan, cfg, 17)
    check_steps(sp, plan, cfg)
    assert sp.n_steps == 39 and sp.mix_cost_lean >= 0
    _golden("mix/dp7", _digest(sp))


@pytest.mark.parametrize("dp", [3, 4])
def test_the_lean_does_not_depend_on_the_cost_unit_below_one(dp):
    """Every cost coefficient scaled by 2**-20, so that steps cost well below 1: the leans are
    ranked by their steps' time relative to the ideal, as in the usual unit, and the same one wins."""
    tokens, patches, images, labels, copy_group = _samples(500, 1)
    cfg = PackConfig(context_length=2048, max_vit_patches=4096, max_images_per_pack=6, dp_size=dp, grad_accum=1)
    c = 2.0**-20
    small = cfg.model_copy(update={f: getattr(cfg, f) * c for f in ("llm_token_cost", "llm_attention_cost",
                                                                   "vit_patch_cost", "vit_attention_cost")})
    plans = [plan_packs(tokens, patches, images, x, labels=labels) for x in (cfg, small)]
    assert plans[1].cost.max() < 1e-2
    a, b = (assemble_steps(p, x, 17) for p, x in zip(plans, (cfg, small)))
    assert 0 < a.mix_cost_lean < 1
    assert (b.mix_cost_lean, _digest(b)) == (a.mix_cost_lean, _digest(a))


def test_steps_of_one_composition_have_no_spread():
    """64 packs of one sample of 1000 tokens, four tasks (i % 4) and one source for all: steps of
    one pack of each task all have the same shares, so no label spreads across them (ratio 0 to
    random dealing's, the single source included) and no share is beyond the tolerance; random
    dealing of the same packs spreads."""
    tokens = np.full(64, 1000)
    zeros = np.zeros_like(tokens)
    labels = np.stack((np.arange(64) % 4, np.zeros(64, np.int64)), axis=1)
    cfg = PackConfig(context_length=1024, dp_size=4, grad_accum=1)
    plan = plan_packs(tokens, zeros, zeros, cfg, labels=labels)
    assert plan.n_packs == 64 and (plan.pack_samples == 1).all()
    units = np.arange(64)
    mix = steps._unit_mix(plan, None, units, np.ones(64, bool), units)
    base = steps._mix_base(mix, 16, 4, cfg.mix_tolerance, 0)
    task = np.empty(64, np.int64)
    task[plan.pack_of] = labels[:, 0]
    even = np.empty(64, np.int64)
    for t in range(4):  # the i-th pack of each task goes to step i
        even[task == t] = np.arange(16)
    assert steps._mix_excess(even, mix, 16, base) == (0.0, 0.0)
    ratio, _ = steps._mix_excess(steps.step_mix.random_steps(64, 16, 4, 1), mix, 16, base)
    assert ratio > 0.5


def test_a_copy_looks_for_a_partner_among_the_256_most_alike_loads_only():
    """A sample with 256 copies, each alone in a pack, and 64 lighter packs, two ranks a step: cost
    mode pairs the copies in 128 steps. The partner of a copy is searched among the 256 loads most
    alike it (the copies, itself included) only, and none of them can take it: no copy moves,
    and the plan reports the 128 steps that hold two copies."""
    tokens = np.concatenate((np.full(256, 1000), np.full(64, 600)))
    group = np.where(np.arange(320) < 256, 0, -1)
    zeros = np.zeros_like(tokens)
    cfg = PackConfig(context_length=1024, dp_size=2, grad_accum=1, balance="cost")
    plan = plan_packs(tokens, zeros, zeros, cfg, copy_group=group)
    assert plan.n_packs == 320
    sp = assemble_steps(plan, cfg, 0)
    check_steps(sp, plan, cfg)
    copy_pack = np.isin(sp.pack, plan.pack_of[:256])
    assert sorted(np.bincount(sp.step[copy_pack], minlength=sp.n_steps).tolist()) == [0] * 32 + [2] * 128
    assert sp.copies_sharing_step == 128


@pytest.mark.parametrize("copies", [(1000, 500), (900, 600)])
def test_a_copy_trades_loads_with_the_unit_nearest_in_cost(copies):
    """Six packs of 1000 down to 500 tokens, two a rank load (one rank: a load is a step). The
    differencing pairs 1000 with 500, 900 with 600 and 800 with 700; where one of those pairs holds
    two copies of a sample, its lighter pack trades loads with the pack next to it in cost: 500
    with 600 (the copies 1000 and 500), 600 with 500, the lightest pack (the copies 900 and 600)."""
    tokens = np.array([1000, 900, 800, 700, 600, 500])
    group = np.where(np.isin(tokens, copies), 0, -1)
    zeros = np.zeros_like(tokens)
    cfg = PackConfig(context_length=1024, dp_size=1, grad_accum=2, balance="cost")
    plan = plan_packs(tokens, zeros, zeros, cfg, copy_group=group)
    assert plan.pack_tokens.tolist() == tokens.tolist()
    for seed in range(3):
        sp = assemble_steps(plan, cfg, seed)
        check_steps(sp, plan, cfg)
        loads = {tuple(sorted(plan.pack_tokens[sp.pack[sp.step == s]].tolist())) for s in range(sp.n_steps)}
        assert loads == {(500, 900), (600, 1000), (700, 800)}, seed


class _CopiesOnly:
    """The three facts of a plan that `_copy_pairs` reads (which pack each sample sits in, its copy
    group, the number of packs): one sample per pack here."""

    def __init__(self, copy_group: list[int]):
        self.copy_group = np.asarray(copy_group, np.int64)
        self.pack_of = np.arange(len(copy_group), dtype=np.int64)
        self.n_packs = len(copy_group)


@pytest.mark.parametrize("free_rank, traded", [(256, True), (257, False)])
def test_a_copy_looks_for_a_partner_among_the_256_units_nearest_in_cost_on_each_side(free_rank, traded):
    """Load 0 holds two copies of one sample (units 0 and 1). Unit 1 is the cheapest unit, so its
    nearest units lie on one side; the ones before the free unit each hold another copy (in loads of
    their own) and cannot take it. The search looks at most 256 units away: a free unit 256 away is
    found, one 257 away is not, and the load keeps its two copies."""
    n_copies = free_rank - 1  # units 2 .. free_rank hold copies; then the free unit
    group = [0] * (2 + n_copies) + [-1]
    n = len(group)
    unit_pack = np.arange(n, dtype=np.int64)
    real = np.ones(n, bool)
    load = np.r_[0, 0, np.arange(1, n - 1)].astype(np.int64)
    cost = np.r_[1_000.0, 0.0, np.arange(1, n - 1, dtype=np.float64)]  # unit 1 cheapest; unit 0 the dearest
    out = steps._split_copies_within_loads(_CopiesOnly(group), unit_pack, real, load, cost, np.zeros(n))
    free = n - 1
    assert int(np.flatnonzero(np.argsort(cost, kind="stable") == free)[0]) == free_rank
    if traded:
        assert (out[1], out[free]) == (load[free], 0) and np.array_equal(np.delete(out, [1, free]),
                                                                        np.delete(load, [1, free]))
    else:
        assert np.array_equal(out, load)
