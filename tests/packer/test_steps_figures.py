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
