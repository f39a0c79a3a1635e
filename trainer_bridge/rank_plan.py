"""Which packs a data-parallel rank trains on, for the packed dp_size or another one.

With the packed ``dp_size`` the plan is the packer's: the rows of ``packs.parquet`` whose ``rank`` is
this rank, in (step, micro) order. For another ``dp_size`` D the assignment is re-derived here from the
packs.parquet columns alone (the bridge never imports the packer):

- Packs keep the packer's global order (step, rank, micro, pack_id) and are cut into new global steps
  of S = D x k packs, k = max(1, round(P / D)) per rank, P the packed packs per step. When D divides
  P, k = P / D and every new step is exactly one packed step: same global batch, same packs.
- Within a new step, packs are dealt to ranks by longest-processing-time on the packer's cost
  (``attn_cost + vit_cost``, or ``real_tokens`` where those are null), each rank taking exactly k
  (the last step takes (N mod S) / D each). Ties break on pack_id, so the result is deterministic.
- Complete and disjoint: every pack goes to exactly one (rank, step, micro). It needs D to divide the
  pack count N; otherwise a rank would have to get one more pack than another, and the error says
  which dp sizes work.
"""

from __future__ import annotations

import heapq

import numpy as np
import pyarrow as pa

PLAN_SCHEMA = pa.schema(
    [("pack_id", pa.int64()), ("step", pa.int64()), ("rank", pa.int32()), ("micro", pa.int32())]
)


def _pack_cost(packs: pa.Table) -> np.ndarray:
    n = packs.num_rows
    cost = np.zeros(n, dtype=np.float64)
    have = np.zeros(n, dtype=bool)
    for name in ("attn_cost", "vit_cost"):
        if name in packs.column_names:
            col = packs.column(name).cast(pa.float64())
            valid = ~np.asarray(col.is_null())
            cost += np.where(valid, col.fill_null(0).to_numpy(zero_copy_only=False), 0.0)
            have |= valid
    tokens = packs.column("real_tokens").fill_null(0).to_numpy(zero_copy_only=False).astype(np.float64)
    return np.where(have, cost, tokens)


def _deal(costs: np.ndarray, pack_ids: np.ndarray, dp_size: int, per_rank: int) -> np.ndarray:
    """LPT with exactly ``per_rank`` packs per rank; returns the rank of each pack."""
    order = np.lexsort((pack_ids, -costs))
    ranks = np.empty(len(costs), dtype=np.int32)
    heap = [(0.0, r) for r in range(dp_size)]
    taken = [0] * dp_size
    for i in order:
        load, r = heapq.heappop(heap)
        ranks[i] = r
        taken[r] += 1
        if taken[r] < per_rank:
            heapq.heappush(heap, (load + float(costs[i]), r))
    return ranks


def allowed_dp_sizes(n_packs: int, limit: int = 64) -> list[int]:
    return [d for d in range(1, min(n_packs, limit) + 1) if n_packs % d == 0]


def reassign_ranks(packs: pa.Table, dp_size: int, packs_per_step: int) -> pa.Table:
    """A new (step, rank, micro) for every pack of ``packs`` (PACKS_SCHEMA columns), for ``dp_size``.

    ``packs_per_step`` is the packed global step size (manifest dp_size x micro_batch x grad_accum).
    Returns a table with PLAN_SCHEMA, sorted by (step, rank, micro).
    """
    n = packs.num_rows
    if dp_size < 1:
        raise ValueError(f"dp_size: {dp_size} must be >= 1")
    if n == 0:
        return PLAN_SCHEMA.empty_table()
    if n % dp_size:
        raise ValueError(
            f"dp_size: {dp_size} does not divide the {n} packs, so ranks cannot get equal pack counts; "
            f"dp sizes that work here: {allowed_dp_sizes(n)}"
        )
    cols = {c: packs.column(c).to_numpy(zero_copy_only=False) for c in ("pack_id", "step", "rank", "micro")}
    order = np.lexsort((cols["pack_id"], cols["micro"], cols["rank"], cols["step"]))
    pack_ids = cols["pack_id"][order].astype(np.int64)
    costs = _pack_cost(packs)[order]
    per_rank = max(1, round(packs_per_step / dp_size))
    step_size = per_rank * dp_size

    new_step = np.arange(n, dtype=np.int64) // step_size
    new_rank = np.empty(n, dtype=np.int32)
    for start in range(0, n, step_size):
        stop = min(start + step_size, n)
        new_rank[start:stop] = _deal(
            costs[start:stop], pack_ids[start:stop], dp_size, (stop - start) // dp_size
        )
    # micro: position among the rank's packs in the step, in the packer's global order
    key = new_step * dp_size + new_rank
    by_key = np.argsort(key, kind="stable")
    sorted_key = key[by_key]
    first = np.searchsorted(sorted_key, sorted_key, side="left")
    new_micro = np.empty(n, dtype=np.int32)
    new_micro[by_key] = np.arange(n) - first
    plan = pa.table(
        {"pack_id": pack_ids, "step": new_step, "rank": new_rank, "micro": new_micro}, schema=PLAN_SCHEMA
    )
    return plan.take(np.lexsort((new_micro, new_rank, new_step)))


def packed_plan(packs: pa.Table) -> pa.Table:
    """The packer's own assignment, as PLAN_SCHEMA sorted by (step, rank, micro)."""
    plan = packs.select(["pack_id", "step", "rank", "micro"]).cast(PLAN_SCHEMA)
    cols = [plan.column(c).to_numpy() for c in ("micro", "rank", "step")]
    return plan.take(np.lexsort(cols))
