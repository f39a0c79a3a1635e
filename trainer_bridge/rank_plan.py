"""Which packs a data-parallel rank trains on, for the packed dp_size or another one, from any point.

One epoch is a single global sequence of packs, the same whatever the dp size: the packer's steps in
order (or permuted by ``(seed, epoch)`` with ``shuffle_steps``), and inside a packer step its packs by
(rank, micro, pack_id). A run consumes that sequence in global steps of S packs (S = the packed
``dp_size x micro_batch x grad_accum`` unless a caller asks for another global batch explicitly), each
rank ``S / D`` of them per step. ``global_position`` = packs of the sequence consumed by all ranks so
far; a checkpoint taken at a step boundary resumes from it under any dp size D that divides S (elastic
resume): the remaining sequence is cut into steps again and every remaining pack is trained exactly once.

- Under the packed dp size, with the cut aligned to the packer's steps, the packer's own assignment is
  kept (it balanced the ranks of every step on its compute model).
- Otherwise the packs of each new step are dealt to ranks by longest-processing-time on the packer's
  cost (``attn_cost + vit_cost``, or ``real_tokens`` where those are null), each rank taking exactly
  ``S / D``; ties break on pack_id, so the result is deterministic.
- D must divide S, and the packs left must split evenly over D ranks (the packer makes the pack count a
  multiple of S). Otherwise the global batch would change, which is refused with the dp sizes that work;
  a caller who wants another global batch passes ``packs_per_step`` explicitly.
"""

from __future__ import annotations

import hashlib
import heapq

import numpy as np
import pyarrow as pa

PLAN_SCHEMA = pa.schema(
    [
        ("pack_id", pa.int64()),
        ("step", pa.int64()),
        ("rank", pa.int32()),
        ("micro", pa.int32()),
        ("global_position", pa.int64()),
        ("step_packs", pa.int32()),
    ]
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


def divisors(n: int, limit: int = 64) -> list[int]:
    return [d for d in range(1, min(n, limit) + 1) if n % d == 0]


def allowed_dp_sizes(n_packs: int, limit: int = 64) -> list[int]:
    return divisors(n_packs, limit)


def step_permutation(n_steps: int, seed: int, epoch: int) -> np.ndarray:
    """The order of steps in an epoch with shuffle_steps: same on every rank, keyed by (seed, epoch)."""
    digest = hashlib.blake2b(f"vlpack.steps:{seed}:{epoch}".encode(), digest_size=8).digest()
    return np.random.Generator(np.random.PCG64(int.from_bytes(digest, "little"))).permutation(n_steps)


def _columns(packs: pa.Table) -> dict[str, np.ndarray]:
    return {
        c: np.asarray(packs.column(c).to_numpy(zero_copy_only=False)).astype(np.int64)
        for c in ("pack_id", "step", "rank", "micro")
    }


def epoch_order(packs: pa.Table, *, shuffle: bool = False, seed: int = 0, epoch: int = 0) -> np.ndarray:
    """Row indices of ``packs`` in the epoch's global sequence (see the module docstring)."""
    cols = _columns(packs)
    step_key = cols["step"]
    if shuffle and len(step_key):
        n_steps = int(step_key.max()) + 1
        rank_of_step = np.empty(n_steps, dtype=np.int64)
        rank_of_step[step_permutation(n_steps, seed, epoch)] = np.arange(n_steps)
        step_key = rank_of_step[step_key]
    return np.lexsort((cols["pack_id"], cols["micro"], cols["rank"], step_key))


def check_dp_size(dp_size: int, packs_per_step: int, remaining: int) -> None:
    """Refuse a dp size that would change the global batch or give ranks unequal pack counts."""
    if dp_size < 1:
        raise ValueError(f"dp_size: {dp_size} must be >= 1")
    if packs_per_step % dp_size:
        raise ValueError(
            f"dp_size: {dp_size} does not divide the global batch of {packs_per_step} packs per step, so "
            f"the batch would change; dp sizes that keep it: {divisors(packs_per_step)} (or pass "
            "packs_per_step explicitly, a multiple of dp_size, to train with another global batch)"
        )
    last = remaining % packs_per_step
    if last % dp_size:
        raise ValueError(
            f"dp_size: {dp_size} does not divide the {last} packs of the last step ({remaining} packs left, "
            f"{packs_per_step} per step), so ranks cannot get equal pack counts; dp sizes that work here: "
            f"{[d for d in divisors(packs_per_step) if last % d == 0]}"
        )


def plan_ranks(
    packs: pa.Table,
    order: np.ndarray,
    *,
    dp_size: int,
    packs_per_step: int,
    packed: tuple[int, int] | None = None,
    start: int = 0,
) -> pa.Table:
    """(step, rank, micro) for the packs ``order[start:]``, cut into global steps of ``packs_per_step``.

    ``packed`` is the packer's (dp_size, packs_per_step): when the run matches it and the cut falls on
    the packer's step boundaries, the packer's own (rank, micro) are kept. ``step`` counts the steps of
    this cut from 0; ``global_position`` is the pack's index in ``order``
    and ``step_packs`` the size of its global step. Returns PLAN_SCHEMA sorted by (step, rank, micro).
    """
    n = len(order)
    if not 0 <= start <= n:
        raise ValueError(f"start: {start} must be in [0, {n}]")
    check_dp_size(dp_size, packs_per_step, n - start)
    rows = order[start:]
    if len(rows) == 0:
        return PLAN_SCHEMA.empty_table()
    cols = _columns(packs)
    pack_ids = cols["pack_id"][rows]
    global_pos = np.arange(start, n, dtype=np.int64)
    local = np.arange(len(rows), dtype=np.int64)
    new_step = local // packs_per_step
    step_packs = np.minimum(packs_per_step, len(rows) - new_step * packs_per_step).astype(np.int32)
    keep_packer = packed == (dp_size, packs_per_step) and _aligned_to_packer_steps(
        cols["step"][rows], packs_per_step
    )
    if keep_packer:
        new_rank = cols["rank"][rows].astype(np.int32)
    else:
        costs = _pack_cost(packs)[rows]
        new_rank = np.empty(len(rows), dtype=np.int32)
        for a in range(0, len(rows), packs_per_step):
            b = min(a + packs_per_step, len(rows))
            new_rank[a:b] = _deal(costs[a:b], pack_ids[a:b], dp_size, (b - a) // dp_size)
    # micro: position among the rank's packs in the step, in the global order
    key = new_step * dp_size + new_rank
    by_key = np.argsort(key, kind="stable")
    sorted_key = key[by_key]
    first = np.searchsorted(sorted_key, sorted_key, side="left")
    new_micro = np.empty(len(rows), dtype=np.int32)
    new_micro[by_key] = np.arange(len(rows)) - first
    plan = pa.table(
        {
            "pack_id": pack_ids,
            "step": new_step,
            "rank": new_rank,
            "micro": new_micro,
            "global_position": global_pos,
            "step_packs": step_packs,
        },
        schema=PLAN_SCHEMA,
    )
    return plan.take(np.lexsort((new_micro, new_rank, new_step)))


def _aligned_to_packer_steps(packer_steps: np.ndarray, packs_per_step: int) -> bool:
    """Every cut step is exactly one packer step (so the packer's rank/micro still apply)."""
    if len(packer_steps) % packs_per_step:
        return False
    blocks = packer_steps.reshape(-1, packs_per_step)
    if not np.all(blocks == blocks[:, :1]):
        return False
    return len(np.unique(blocks[:, 0])) == len(blocks)


def reassign_ranks(packs: pa.Table, dp_size: int, packs_per_step: int) -> pa.Table:
    """A new (step, rank, micro) for every pack of ``packs`` (PACKS_SCHEMA columns), for ``dp_size``.

    ``packs_per_step`` is the global step size (the packed dp_size x micro_batch x grad_accum).
    Returns a table with PLAN_SCHEMA, sorted by (step, rank, micro).
    """
    if packs.num_rows == 0:
        return PLAN_SCHEMA.empty_table()
    return plan_ranks(packs, epoch_order(packs), dp_size=dp_size, packs_per_step=packs_per_step)


def packed_plan(packs: pa.Table) -> pa.Table:
    """The packer's own assignment, as (pack_id, step, rank, micro) sorted by (step, rank, micro)."""
    plan = packs.select(["pack_id", "step", "rank", "micro"]).cast(
        pa.schema([PLAN_SCHEMA.field(c) for c in ("pack_id", "step", "rank", "micro")])
    )
    cols = [plan.column(c).to_numpy() for c in ("micro", "rank", "step")]
    return plan.take(np.lexsort(cols))
