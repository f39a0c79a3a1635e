"""Rank plans: complete, disjoint, equal packs per rank per step, deterministic, from any start."""

from __future__ import annotations

import numpy as np
import pyarrow.compute  # noqa: F401 - pa.compute
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

import pytest

from trainer_bridge.rank_plan import epoch_order, packed_plan, plan_ranks, reassign_ranks


def packs_table(n_steps, dp, per_rank, costs):
    rows = []
    pid = 0
    for step in range(n_steps):
        for rank in range(dp):
            for micro in range(per_rank):
                rows.append(
                    {
                        "pack_id": pid,
                        "step": step,
                        "rank": rank,
                        "micro": micro,
                        "real_tokens": 100 + pid,
                        "attn_cost": costs[pid % len(costs)],
                        "vit_cost": None,
                    }
                )
                pid += 1
    return pa.Table.from_pylist(rows)


@settings(max_examples=60, deadline=None)
@given(
    n_steps=st.integers(1, 6),
    dp=st.integers(1, 6),
    per_rank=st.integers(1, 4),
    new_dp=st.integers(1, 12),
    costs=st.lists(st.floats(0, 1e6), min_size=1, max_size=20),
)
def test_reassignment_invariants(n_steps, dp, per_rank, new_dp, costs):
    packs = packs_table(n_steps, dp, per_rank, costs)
    n = packs.num_rows
    if (dp * per_rank) % new_dp:
        with pytest.raises(ValueError, match="does not divide the global batch"):
            reassign_ranks(packs, new_dp, dp * per_rank)
        return
    plan = reassign_ranks(packs, new_dp, dp * per_rank)
    ids = plan.column("pack_id").to_pylist()
    assert sorted(ids) == list(range(n))  # complete and disjoint
    steps = np.asarray(plan.column("step"))
    ranks = np.asarray(plan.column("rank"))
    micro = np.asarray(plan.column("micro"))
    for s in np.unique(steps):
        counts = np.bincount(ranks[steps == s], minlength=new_dp)
        assert len(set(counts.tolist())) == 1
        for r in range(new_dp):
            assert sorted(micro[(steps == s) & (ranks == r)].tolist()) == list(range(counts[r]))
    assert reassign_ranks(packs, new_dp, dp * per_rank).equals(plan)  # deterministic


def test_dividing_dp_keeps_every_packed_step_whole_and_balances_cost():
    costs = [float(c) for c in (900, 10, 10, 10, 800, 20, 30, 5)]
    packs = packs_table(1, 2, 4, costs)
    plan = reassign_ranks(packs, 4, 8)
    assert set(plan.column("step").to_pylist()) == {0}
    load = np.zeros(4)
    for pid, r in zip(plan.column("pack_id").to_pylist(), plan.column("rank").to_pylist()):
        load[r] += costs[pid]
    assert load.max() <= 910  # the two big packs sit on different ranks


def test_packed_plan_is_the_packers_order():
    packs = packs_table(2, 2, 2, [1.0]).take([3, 0, 7, 5, 1, 2, 6, 4])
    plan = packed_plan(packs)
    keys = list(
        zip(
            plan.column("step").to_pylist(), plan.column("rank").to_pylist(), plan.column("micro").to_pylist()
        )
    )
    assert keys == sorted(keys)


@settings(max_examples=60, deadline=None)
@given(
    n_steps=st.integers(1, 6),
    dp=st.integers(1, 4),
    per_rank=st.integers(1, 3),
    first_dp=st.integers(1, 12),
    second_dp=st.integers(1, 12),
    done=st.integers(0, 6),
    shuffle=st.booleans(),
)
def test_a_run_resumed_under_another_dp_size_trains_every_pack_once(
    n_steps, dp, per_rank, first_dp, second_dp, done, shuffle
):
    """Steps [0, done) under first_dp, the rest under second_dp: every pack exactly once, in steps of P."""
    packs = packs_table(n_steps, dp, per_rank, [1.0, 5.0, 2.0])
    p = dp * per_rank
    if p % first_dp or p % second_dp:
        return
    done = min(done, n_steps)
    order = epoch_order(packs, shuffle=shuffle, seed=1, epoch=2)
    first = plan_ranks(packs, order, dp_size=first_dp, packs_per_step=p, packed=(dp, p))
    taken = first.filter(pa.compute.less(first.column("step"), done))
    rest = plan_ranks(packs, order, dp_size=second_dp, packs_per_step=p, packed=(dp, p), start=done * p)
    ids = taken.column("pack_id").to_pylist() + rest.column("pack_id").to_pylist()
    assert sorted(ids) == list(range(packs.num_rows))
    assert set(rest.column("step_packs").to_pylist()) <= {p}
    # the resumed packs are exactly the tail of the epoch's global sequence
    tail = set(np.asarray(packs.column("pack_id"))[order[done * p :]].tolist())
    assert set(rest.column("pack_id").to_pylist()) == tail


def test_packed_dp_keeps_the_packers_assignment():
    packs = packs_table(3, 2, 2, [1.0])
    plan = plan_ranks(packs, epoch_order(packs), dp_size=2, packs_per_step=4, packed=(2, 4))
    for pid, r, m in zip(*(plan.column(c).to_pylist() for c in ("pack_id", "rank", "micro"))):
        row = packs.filter(pa.compute.equal(packs.column("pack_id"), pid)).to_pylist()[0]
        assert (row["rank"], row["micro"]) == (r, m)
