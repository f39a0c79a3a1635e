"""The lower bound on step balance under the mix rule (`packer.mix_balance_bound`): never above the
best deal that passes vlpack's own mix check, found by brute force over every deal of small plans,
and by hand on two labels whose costly packs are all of one."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from packer import step_mix
from packer.mix_balance_bound import mix_balance_bound
from packer.steps import MIX_MARGIN, _mix_base, _mix_excess, _mix_ok, _UnitMix, token_spread_limit


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


def _brute_force(cost, mix: _UnitMix, dp: int, k: int, n_steps: int, seed: int):
    """(least worst step, least mean step) over deals that pass the whole mix check, and the same
    over deals that pass the spread rule alone (the bound's premise); inf where none passes."""
    S = dp * k
    base = _mix_base(mix, n_steps, S, 3.0, seed)
    best = {"check": [np.inf, np.inf], "spread": [np.inf, np.inf]}
    memo: dict[tuple[int, ...], float] = {}
    for step in _deals(cost.shape[0], n_steps, S):
        excess = _mix_excess(step, mix, n_steps, base)
        ratios = []
        for s in range(n_steps):
            members = tuple(np.flatnonzero(step == s).tolist())
            if members not in memo:
                memo[members] = _best_ratio(cost[list(members)], dp, k)
            ratios.append(memo[members])
        worst, mean = max(ratios), float(np.mean(ratios))
        # the spread rule alone (what `_mix_ok` checks first), then the whole check
        for name, ok in (("spread", excess[0] <= MIX_MARGIN + 1e-9), ("check", _mix_ok(excess, base.over))):
            if ok:
                best[name] = [min(best[name][0], worst), min(best[name][1], mean)]
    return best, base


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


@settings(max_examples=60, deadline=None)
@given(shape=st.sampled_from([(2, 1, 2), (2, 1, 3), (3, 1, 2), (2, 2, 2), (4, 1, 2), (1, 2, 3), (2, 1, 4)]),
       n_labels=st.integers(2, 3), two_kinds=st.booleans(), seed=st.integers(0, 2**31 - 1))
def test_the_bound_is_never_above_the_best_deal_that_keeps_the_mix(shape, n_labels, two_kinds, seed):
    dp, k, n_steps = shape
    rng = np.random.default_rng(seed)
    cost, mix = _plan(rng, dp * k * n_steps, n_labels, two_kinds)
    if mix.tokens.shape[1] < 2:
        return
    best, base = _brute_force(cost, mix, dp, k, n_steps, seed % 1000)
    tokens = mix.tokens[:, mix.kind == mix.kind.min()].sum(axis=1)
    spread_only = mix_balance_bound(cost, tokens, mix.tokens, token_spread_limit(base), dp, k, n_steps)
    whole = mix_balance_bound(cost, tokens, mix.tokens, token_spread_limit(base), dp, k, n_steps,
                              tolerance=base.tol_t, global_share=base.gt, over_limit=base.over)
    # the spread rule alone lets more deals pass than the whole check
    for bound, name in ((spread_only, "spread"), (whole, "check")):
        worst, mean = best[name]
        assert bound.worst <= worst + 1e-12, (name, bound, worst)
        assert bound.mean <= mean + 1e-12, (name, bound, mean)
        assert bound.cost_only_worst <= bound.worst
    assert spread_only.worst <= whole.worst


def test_costly_packs_all_of_one_label_by_hand():
    """Two steps of two ranks (k = 1): two document packs of cost 10, two image packs of cost 5, 100
    tokens each. Documents together (ratio 1) put the steps' document shares at 1 and 0 (std 0.5);
    a document with an image in each step (std 0) costs 10 / 7.5 = 4/3 in both. With a limit of 0.1
    on the std, that is the best deal, and the bound finds it: with H the two documents, one hot
    step would hold both (excess 100 tokens, std 0.5 > 0.1) and two hot steps need a cost of
    2 · (10 + 10) / r, more than the 30 of all packs for r < 4/3. A looser limit (0.5: documents may
    share a step) lets the bound fall to 1."""
    cost = np.array([10.0, 10.0, 5.0, 5.0])
    tokens = np.full(4, 100.0)
    labels = np.array([[100.0, 0.0], [100.0, 0.0], [0.0, 100.0], [0.0, 100.0]])
    b = mix_balance_bound(cost, tokens, labels, np.array([0.1, 0.1]), 2, 1, 2)
    assert 4 / 3 - 1e-8 < b.worst <= 4 / 3
    assert 4 / 3 - 1e-8 < b.mean <= 4 / 3
    assert b.cost_only_worst == 1.0  # cost alone: the documents share a step
    loose = mix_balance_bound(cost, tokens, labels, np.array([0.5, 0.5]), 2, 1, 2)
    assert loose.worst == 1.0 and loose.mean == 1.0


def test_a_plan_that_is_not_whole_steps_is_refused():
    import pytest

    with pytest.raises(ValueError):
        mix_balance_bound(np.ones(5), np.ones(5), np.ones((5, 2)), np.ones(2), 2, 1, 2)
