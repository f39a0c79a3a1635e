"""Swaps of packs between steps after a mix-mode deal (`packer.step_swaps`)."""

from __future__ import annotations

import numpy as np

from packer import step_mix
from packer.step_swaps import MixLimits, swap_descent
from packer.steps import _mix_base, _mix_excess, _mix_ok, _unit_mix, _units, assemble_steps, step_balance
from schemas.pack_config import PackConfig



def _wide(G: int) -> MixLimits:
    z = np.zeros(G)
    return MixLimits(np.full(G, np.inf), np.full(G, np.inf), np.inf, z, z, np.full(G, np.inf), np.full(G, np.inf))


def test_swaps_gather_alike_costs_where_the_mix_allows_anything():
    # two steps of two loads, each a heavy and a light one: one swap makes both steps even
    cost = np.array([1.0, 2.0, 1.0, 2.0])
    step = np.array([0, 0, 1, 1])
    lab = np.ones((4, 1))
    new, made = swap_descent(step, cost, lab, lab, np.zeros(1, np.int64), _wide(1), 2, 4, 0)
    assert made == 1
    assert sorted(cost[new == 0].tolist()) in ([1.0, 1.0], [2.0, 2.0])
    assert np.bincount(new).tolist() == [2, 2]


def test_swaps_never_take_a_label_share_beyond_the_limits():
    rng = np.random.default_rng(3)
    U, n_steps = 400, 50
    cost = np.where(rng.random(U) < 0.2, 2.0, 1.0) + rng.random(U) * 0.1
    label = (cost > 1.5).astype(int)  # the heavy loads are one label: alike costs move the mix
    tok = np.zeros((U, 2))
    tok[np.arange(U), label] = 100.0
    smp = tok / 100.0
    kind = np.zeros(2, np.int64)
    step = rng.permutation(U) % n_steps
    ss, st, _ = step_mix.step_shares(step, smp, tok, kind, n_steps)
    g = np.array([1 - label.mean(), label.mean()])
    lim = MixLimits(step_mix.spread(ss) ** 2 * 1.1, step_mix.spread(st) ** 2 * 1.1, 30.0, g, g,
                    np.full(2, 0.25), np.full(2, 0.25))
    new, made = swap_descent(step, cost, smp, tok, kind, lim, n_steps, 8, 1)
    assert made > 0
    ss2, st2, _ = step_mix.step_shares(new, smp, tok, kind, n_steps)
    assert (step_mix.spread(ss2) ** 2 <= lim.var_s + 1e-12).all()
    assert (step_mix.spread(st2) ** 2 <= lim.var_t + 1e-12).all()
    assert (np.abs(ss2 - g) > 0.25).sum() + (np.abs(st2 - g) > 0.25).sum() <= 30
    def balance(st):
        slot = np.empty(U, np.int64)
        slot[np.argsort(st, kind="stable")] = np.arange(U) % (U // n_steps)
        return step_balance(st, slot, cost, U // n_steps)

    before, after = balance(step), balance(new)
    assert after.mean() < before.mean()
    assert np.bincount(new, minlength=n_steps).tolist() == [U // n_steps] * n_steps


def test_k1_mix_mode_swaps_lower_the_step_time_and_keep_the_mix(k1_plan):
    plan, cfg = k1_plan
    off = assemble_steps(plan, cfg.model_copy(update={"mix_swap_rounds": 0}), 0)
    on = assemble_steps(plan, cfg, 0)
    assert off.mix_swaps == 0 and on.mix_swaps > 0
    assert sorted(on.pack.tolist()) == sorted(off.pack.tolist())  # the same packs, each once
    assert np.bincount(np.bincount(on.step * cfg.dp_size + on.rank)).tolist()[-1] == on.n_steps * cfg.dp_size
    b_off = step_balance(off.step, off.rank, off.cost, cfg.dp_size)
    b_on = step_balance(on.step, on.rank, on.cost, cfg.dp_size)
    assert b_on.mean() < b_off.mean() and b_on.max() <= b_off.max()
    assert passes_mix_check(plan, cfg, on)  # the mix check of balance: mix still passes on the swapped steps


def passes_mix_check(plan, cfg: PackConfig, sp) -> bool:
    """Whether the steps of ``sp`` (seed 0) pass the mix check of ``balance: mix``."""
    unit_pack, _, _ = _units(plan, cfg, 0, None)
    real = unit_pack >= 0
    mix = _unit_mix(plan, None, unit_pack, real, np.where(real, unit_pack, 0))
    base = _mix_base(mix, sp.n_steps, cfg.packs_per_step, cfg.mix_tolerance, 0)
    row = {int(p): i for i, p in enumerate(unit_pack.tolist())}
    step_of_unit = np.empty(unit_pack.shape[0], np.int64)
    step_of_unit[[row[int(p)] for p in sp.pack.tolist()]] = sp.step
    return _mix_ok(_mix_excess(step_of_unit, mix, sp.n_steps, base), base.over)


def test_k1_swaps_are_deterministic(k1_plan):
    plan, cfg = k1_plan
    a, b = assemble_steps(plan, cfg, 7), assemble_steps(plan, cfg, 7)
    assert np.array_equal(a.pack, b.pack) and np.array_equal(a.step, b.step) and np.array_equal(a.rank, b.rank)
