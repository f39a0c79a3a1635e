"""The lower bound on step balance under the mix rule (`packer.mix_balance_bound`): never above the
best deal that passes vlpack's own mix check, found by brute force over every deal of small plans,
and by hand on two labels whose costly packs are all of one."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from packer import step_mix
from packer.mix_balance_bound import MixRule, mix_balance_bound, mix_rule
from packer.steps import _mix_base, _mix_excess, _mix_ok, _UnitMix


def _deals(n_units: int, n_steps: int, S: int):
    """Every split of the units into n_steps unordered steps of S (the step of each unit)."""
    def rec(left: tuple[int, ...], step: np.ndarray, s: int):
        if not left:
            yield step.copy()
            return
        first, rest = left[0], left[1:]
        for others in itertools.combinations(rest, S - 1):
            step[[first, *others]] = s
            yield from rec(tuple(u for u in rest if u not in others), step, s + 1)

    yield from rec(tuple(range(n_units)), np.full(n_units, -1, np.int64), 0)


def _best_ratio(costs: np.ndarray, dp: int, k: int) -> float:
    """The least max/mean over ranks of one step's packs, over every split into dp ranks of k."""
    mean = costs.sum() / dp
    best = np.inf
    for perm in itertools.permutations(range(costs.shape[0])):
        loads = costs[list(perm)].reshape(dp, k).sum(axis=1)
        best = min(best, loads.max() / mean)
    return float(best)


def _deal_figures(cost, mix: _UnitMix, dp: int, k: int, n_steps: int, base):
    """Per deal of the units to steps: (worst step, mean step) at the best ranks of each step, the
    std over steps of each label's token share, the (step, label) shares beyond the tolerance (as
    `_mix_excess` counts them) and whether the whole mix check passes."""
    S = dp * k
    memo: dict[tuple[int, ...], float] = {}
    for step in _deals(cost.shape[0], n_steps, S):
        excess = _mix_excess(step, mix, n_steps, base)
        ratios = []
        for s in range(n_steps):
            members = tuple(np.flatnonzero(step == s).tolist())
            if members not in memo:
                memo[members] = _best_ratio(cost[list(members)], dp, k)
            ratios.append(memo[members])
        _, st_share, _ = step_mix.step_shares(step, mix.samples, mix.tokens, mix.kind, n_steps)
        yield max(ratios), float(np.mean(ratios)), step_mix.spread(st_share), excess[1], _mix_ok(excess, base.over)


def _plan(rng: np.random.Generator, n_units: int, n_labels: int, two_kinds: bool = False):
    """Per unit 1-3 samples of random labels (of one kind, or two: source and task) and tokens; a
    unit's cost rises with its label-0 tokens (the costly packs are of one label, as long documents
    are)."""
    pack_of, labels, tokens = [], [], []
    for u in range(n_units):
        for _ in range(int(rng.integers(1, 4))):
            pack_of.append(u)
            labels.append((int(rng.integers(0, n_labels)), int(rng.integers(0, 2))))
            tokens.append(int(rng.integers(1, 100)))
    pack_of, labels, tokens = np.array(pack_of), np.array(labels), np.array(tokens)
    labels = labels if two_kinds else labels[:, 0]
    m = step_mix.label_matrix(pack_of, n_units, labels, tokens)
    doc = m.tokens[:, 0] if m.kind.shape[0] and m.value[0] == 0 else np.zeros(n_units)
    cost = 50.0 + doc * rng.uniform(0.0, 2.0) + rng.uniform(0.0, 30.0, n_units)
    return cost, _UnitMix(m.samples, m.tokens, m.kind, m)


@settings(max_examples=80, deadline=None)
@given(shape=st.sampled_from([(2, 1, 2), (2, 1, 3), (3, 1, 2), (2, 2, 2), (4, 1, 2), (1, 2, 3), (2, 1, 4)]),
       n_labels=st.integers(2, 3), two_kinds=st.booleans(), spread_factor=st.sampled_from([0.25, 0.5, 1.0, 2.0]),
       over_factor=st.sampled_from([0.0, 0.5, 1.0]), z=st.sampled_from([3.0, 1.0, 0.3]),
       seed=st.integers(0, 2**31 - 1))
def test_the_bound_is_never_above_the_best_deal_that_keeps_the_mix(shape, n_labels, two_kinds, spread_factor,
                                                                   over_factor, z, seed):
    """Against every deal: the bound for vlpack's own check (`mix_rule`) is at most the best deal
    that passes it; so is the bound for a rule with tighter or looser limits (so that each part of
    the argument binds somewhere; a tolerance z of 0.3 standard deviations puts shares of these
    few samples beyond it) against the best deal passing that rule."""
    dp, k, n_steps = shape
    rng = np.random.default_rng(seed)
    cost, mix = _plan(rng, dp * k * n_steps, n_labels, two_kinds)
    if mix.tokens.shape[1] < 2:
        return
    base = _mix_base(mix, n_steps, dp * k, z, seed % 1000)
    own = mix_rule(base)
    varied = replace(own, spread_limit=own.spread_limit * spread_factor, over_limit=own.over_limit * over_factor)
    best = {"own": [np.inf, np.inf], "varied": [np.inf, np.inf], "spread": [np.inf, np.inf]}
    for worst, mean, spread_t, over, ok in _deal_figures(cost, mix, dp, k, n_steps, base):
        passes = {"own": ok, "spread": bool(np.all(spread_t <= own.spread_limit)),
                  "varied": bool(np.all(spread_t <= varied.spread_limit) and over <= varied.over_limit)}
        for name, p in passes.items():
            if p:
                best[name] = [min(best[name][0], worst), min(best[name][1], mean)]
    rules = {"own": own, "varied": varied, "spread": MixRule(own.spread_limit)}
    for name, rule in rules.items():
        bound = mix_balance_bound(cost, mix.tokens, mix.samples, mix.kind, rule, dp, k, n_steps)
        worst, mean = best[name]
        assert bound.worst <= worst + 1e-12, (name, bound, worst)
        assert bound.mean <= mean + 1e-12, (name, bound, mean)
        assert bound.cost_only_worst <= bound.worst


def test_costly_packs_all_of_one_label_by_hand():
    """Two steps of two ranks (k = 1): two document packs of cost 10, two image packs of cost 5, 100
    tokens each. Documents together (ratio 1) put the steps' document shares at 1 and 0 (std 0.5);
    a document with an image in each step (std 0) costs 10 / 7.5 = 4/3 in both. With a limit of 0.1
    on the std, that is the best deal, and the bound finds it: with H the two documents, one hot
    step would hold both (excess 100 tokens, std 0.5 > 0.1) and two hot steps need a cost of
    2 · (10 + 10) / r, more than the 30 of all packs for r < 4/3. A looser limit (0.5: documents may
    share a step) lets the bound fall to 1."""
    cost = np.array([10.0, 10.0, 5.0, 5.0])
    labels = np.array([[100.0, 0.0], [100.0, 0.0], [0.0, 100.0], [0.0, 100.0]])
    one_kind = np.zeros(2, np.int64)
    b = mix_balance_bound(cost, labels, labels / 100, one_kind, MixRule(np.array([0.1, 0.1])), 2, 1, 2)
    assert 4 / 3 - 1e-8 < b.worst <= 4 / 3
    assert 4 / 3 - 1e-8 < b.mean <= 4 / 3
    assert b.cost_only_worst == 1.0  # cost alone: the documents share a step
    loose = mix_balance_bound(cost, labels, labels / 100, one_kind, MixRule(np.array([0.5, 0.5])), 2, 1, 2)
    assert loose.worst == 1.0 and loose.mean == 1.0


def test_a_plan_that_is_not_whole_steps_is_refused():
    import pytest

    with pytest.raises(ValueError):
        mix_balance_bound(np.ones(5), np.ones((5, 2)), np.ones((5, 2)), np.zeros(2), MixRule(np.ones(2)), 2, 1, 2)
