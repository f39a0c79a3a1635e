"""The balance of `reassign_ranks` (what the bridge uses when the trainer's dp_size differs from the
packed one), against the optimum found by brute force on small steps.

Within a new step every rank takes exactly k packs, dealt largest cost first to the least-loaded
rank that still has room (LPT with a cardinality limit). Checked here:
- it is optimal where that is provable: one pack per rank, and two ranks of two packs;
- elsewhere its largest rank load stays within 4/3 of the optimum. 4/3 is Graham's bound for plain
  LPT; with the cardinality limit it is a target, not a theorem: an adversarial search over steps
  of up to 10 packs found 1.21 at worst (3 ranks x 3 packs), hypothesis about 1.17.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from trainer_bridge.rank_plan import reassign_ranks


def optimal_max_load(costs: list[float], dp: int, k: int) -> float:
    """The smallest possible largest rank load with exactly k packs per rank (branch and bound over
    every assignment; ranks with the same load and count are interchangeable)."""
    order = sorted(costs, reverse=True)
    loads, counts = [0.0] * dp, [0] * dp
    best = [sum(costs)]

    def place(j: int) -> None:
        if max(loads) >= best[0]:
            return
        if j == len(order):
            best[0] = max(loads)
            return
        tried = set()
        for r in range(dp):
            if counts[r] < k and (loads[r], counts[r]) not in tried:
                tried.add((loads[r], counts[r]))
                loads[r] += order[j]
                counts[r] += 1
                place(j + 1)
                loads[r] -= order[j]
                counts[r] -= 1

    place(0)
    return best[0]


def one_step(costs: list[float], packed_dp: int) -> pa.Table:
    """One packed step of len(costs) packs over packed_dp ranks; the cost is in attn_cost."""
    n = len(costs)
    per = n // packed_dp
    return pa.table({
        "pack_id": np.arange(n, dtype=np.int64),
        "step": np.zeros(n, np.int64),
        "rank": (np.arange(n) // per).astype(np.int32),
        "micro": (np.arange(n) % per).astype(np.int32),
        "real_tokens": np.full(n, 1, np.int32),
        "attn_cost": pa.array(costs, pa.float64()),
        "vit_cost": pa.nulls(n, pa.float64()),
    })


def max_load(costs: list[float], dp: int, k: int) -> float:
    plan = reassign_ranks(one_step(costs, 1), dp, dp * k)
    assert set(plan.column("step").to_pylist()) == {0}  # the whole packed step stays one step
    ranks = np.asarray(plan.column("rank"))
    assert np.bincount(ranks, minlength=dp).tolist() == [k] * dp
    pid = np.asarray(plan.column("pack_id"))
    return float(np.bincount(ranks, weights=np.asarray(costs)[pid], minlength=dp).max())


costs_st = st.integers(0, 1000).map(float)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 5), st.integers(1, 4), st.data())
def test_within_four_thirds_of_the_optimum(dp, k, data):
    k = min(k, 10 // dp)  # at most 10 packs: the brute force stays fast
    costs = data.draw(st.lists(costs_st, min_size=dp * k, max_size=dp * k))
    best = optimal_max_load(costs, dp, k)
    got = max_load(costs, dp, k)
    assert got >= best - 1e-9  # the brute force really is the optimum
    assert got <= 4 / 3 * best + 1e-9, (costs, got, best)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 6), st.data())
def test_one_pack_per_rank_and_two_by_two_are_optimal(dp, data):
    costs = data.draw(st.lists(costs_st, min_size=dp, max_size=dp))
    assert max_load(costs, dp, 1) == max(costs)
    four = data.draw(st.lists(costs_st, min_size=4, max_size=4))
    assert max_load(four, 2, 2) == optimal_max_load(four, 2, 2)


def test_a_known_hard_step():
    # sorted: 68 68 46 45 45 0. LPT: 68+46+0 | 68+45+45 = 158; the optimum 68+68+0 | 46+45+45 = 136
    costs = [45.0, 68.0, 45.0, 46.0, 0.0, 68.0]
    assert optimal_max_load(costs, 2, 3) == 136
    assert max_load(costs, 2, 3) == 158  # 1.16 x the optimum: within 4/3, not optimal
