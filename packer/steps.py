"""Step assembly: packs → global steps → ranks, with equal packs per rank and balanced compute.

A global step holds ``dp_size × micro_batch × grad_accum`` packs and every rank gets exactly
``micro_batch × grad_accum`` of them (k below). Three decisions, all deterministic for a seed:

1. **Remainder.** Packs that cannot fill the last step are dropped (the least-filled packs, so the
   fewest samples get ledger status `remainder`), or the step is topped up with padding fillers
   (no samples) or with repeats of earlier packs (chosen by a seeded hash).
2. **Which packs share a step.** Packs are cut into tiers of dp_size packs of similar cost and
   each step gets k tiers, one from each k-th of the cost order, so that every rank can get one
   pack of each tier: a heavy pack (a long sample: attention grows with len²) always meets dp - 1
   packs like it in its step. Within a window of the cost order, tiers go to the steps whose
   group mix (source / task id) they even out best. Steps are then put in a seeded order.
3. **Which rank gets which pack.** Inside a step: LPT (largest cost first, to the least-loaded rank
   that still needs a pack, a tier of dp_size packs at a time) and then pairwise swaps between the
   most loaded rank and any other while they lower the larger of the two ranks' loads (when none
   does, the swap that most evens out the pair without raising it above the top). Loads are
   compared per cost dimension (attention Σlen², ViT cost, total cost), each relative to the step
   mean, so a rank is not balanced on tokens while its attention or ViT cost runs away.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from packer.packing import PackPlan
from schemas.pack_config import PackConfig

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_PAIR_LIMIT = 192


def seeded_hash(seed: int, keys: np.ndarray) -> np.ndarray:
    """A stable 64-bit hash of (seed, key) per key (splitmix64 finaliser); never Python's hash()."""
    with np.errstate(over="ignore"):
        z = np.asarray(keys, dtype=np.uint64) * _GOLDEN + np.uint64(seed & 0xFFFFFFFFFFFFFFFF) * np.uint64(
            0xBF58476D1CE4E5B9
        )
        z = z + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


@dataclass(frozen=True, eq=False)
class StepPlan:
    """One row per OUTPUT pack, ordered by (step, rank, micro); the caller numbers them
    pack_id = 0..N-1 in this order."""

    pack: np.ndarray  # int64: index into the plan's packs; -1 for a padding filler
    step: np.ndarray  # int64
    rank: np.ndarray  # int64
    micro: np.ndarray  # int64: index among the rank's packs in the step, 0..k-1
    shard: np.ndarray  # int64: shard index within the rank (packs_per_shard packs per shard)
    is_filler: np.ndarray  # bool: padding or repeat filler
    repeat_of: np.ndarray  # int64: for a repeat filler, the output row (pack_id) it repeats; else -1
    dropped_packs: np.ndarray  # int64: plan pack indices dropped as remainder (status `remainder`)
    n_steps: int
    dp_size: int
    packs_per_rank_step: int
    attn_cost: np.ndarray  # float64 per output pack (0 for padding)
    vit_cost: np.ndarray
    cost: np.ndarray

    def __len__(self) -> int:
        return int(self.pack.shape[0])


# ---------------------------------------------------------------------------------------------
# dealing one step


def _scores(loads: np.ndarray, inv_mean: np.ndarray) -> np.ndarray:
    """Per-rank score: the largest load relative to the step mean over the cost dimensions."""
    return (loads * inv_mean).max(axis=-1)


def deal_step(dims: np.ndarray, scalar: np.ndarray, dp: int, k: int, swap_rounds: int) -> np.ndarray:
    """Deal the dp·k packs of one step to dp ranks, k each. ``dims`` (dp·k × D) are the costs
    balanced per dimension, ``scalar`` orders LPT. Returns the rank of each pack."""
    n = scalar.shape[0]
    assert n == dp * k
    order = np.lexsort((np.arange(n), -scalar))
    rank = np.empty(n, np.int64)
    load = np.zeros(dp)
    # LPT with a cardinality limit: each tier of dp packs (largest first) goes to the ranks from
    # the least to the most loaded, so every rank gets exactly one pack per tier.
    for tier in range(k):
        idx = order[tier * dp : (tier + 1) * dp]
        ranks = np.lexsort((np.arange(dp), load))
        rank[idx] = ranks
        load[ranks] += scalar[idx]
    if swap_rounds <= 0 or dp < 2:
        return rank
    mean = dims.sum(axis=0) / dp
    keep = mean > 0
    if not keep.any():
        return rank
    dims = dims[:, keep]
    inv = 1.0 / mean[keep]
    loads = np.zeros((dp, dims.shape[1]))
    np.add.at(loads, rank, dims)
    # 1. steepest descent on Σ over ranks and dimensions of (load / mean - 1)², over all pairs of
    #    packs on different ranks (O(n²) per round: only for steps of up to _PAIR_LIMIT packs,
    #    where the top-rank swaps below have the fewest options)
    rounds = swap_rounds if n <= _PAIR_LIMIT else 0
    while rounds > 0:
        rounds -= 1
        rel = loads * inv - 1.0  # dp × D
        x = dims * inv  # n × D, a pack's share of the mean
        ri = rel[rank]  # the deviation of each pack's rank
        # moving pack i to j's rank and j to i's rank: Δ = 2 (x_j - x_i)·(rel_i - rel_j) + 2 |x_i - x_j|²
        dx = x[None, :, :] - x[:, None, :]  # [i, j] = x_j - x_i
        drel = ri[:, None, :] - ri[None, :, :]  # [i, j] = rel_i - rel_j
        delta = 2.0 * (dx * drel).sum(axis=-1) + 2.0 * (dx * dx).sum(axis=-1)
        delta[rank[:, None] == rank[None, :]] = np.inf
        i, j = divmod(int(np.argmin(delta)), n)
        if not delta[i, j] < -1e-12:
            break
        ra, rb = rank[i], rank[j]
        loads[ra] += dims[j] - dims[i]
        loads[rb] += dims[i] - dims[j]
        rank[i], rank[j] = rb, ra
    # 2. lower the top rank (min-max), evening out pairs where it cannot
    best_rank, best_score = rank.copy(), float(_scores(loads, inv).max())
    for _ in range(swap_rounds):
        score = _scores(loads, inv)
        top = int(np.argmax(score))
        mine = np.flatnonzero(rank == top)
        a = dims[mine]  # k × D: the top rank's packs
        other = rank != top
        new_top = loads[top][None, None, :] - a[:, None, :] + dims[None, :, :]
        new_other = loads[rank][None, :, :] - dims[None, :, :] + a[:, None, :]
        val = np.maximum(_scores(new_top, inv), _scores(new_other, inv))
        val[:, ~other] = np.inf
        i, j = divmod(int(np.argmin(val)), n)
        if not val[i, j] < score[top] - 1e-12:
            # No swap lowers the top rank: take the swap that most evens out the pair (sum of
            # squared deviations from the mean; it only ever decreases, so this cannot cycle)
            # without raising either rank above the current top.
            dev_now = ((loads[top] * inv - 1) ** 2).sum() + ((loads[rank] * inv - 1) ** 2).sum(axis=-1)
            dev_new = ((new_top * inv - 1) ** 2).sum(axis=-1) + ((new_other * inv - 1) ** 2).sum(axis=-1)
            gain = np.where(val <= score[top] + 1e-12, dev_now[None, :] - dev_new, -np.inf)
            i, j = divmod(int(np.argmax(gain)), n)
            if not gain[i, j] > 1e-12:
                break
        pi, r = mine[i], rank[j]
        loads[top] += dims[j] - dims[pi]
        loads[r] += dims[pi] - dims[j]
        rank[pi], rank[j] = r, top
        now = float(_scores(loads, inv).max())
        if now < best_score - 1e-12:
            best_rank, best_score = rank.copy(), now
    return best_rank


def _micro_order(rank: np.ndarray, scalar: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Micro index of each pack within its rank: most expensive first, ties by id."""
    order = np.lexsort((ids, -scalar, rank))
    micro = np.empty(rank.shape[0], np.int64)
    r_sorted = rank[order]
    first = np.searchsorted(r_sorted, r_sorted, side="left")
    micro[order] = np.arange(rank.shape[0]) - first
    return micro


# ---------------------------------------------------------------------------------------------
# which packs share a step


def _compose_steps(
    dims: np.ndarray, group: np.ndarray, tie: np.ndarray, n_steps: int, dp: int, k: int
) -> np.ndarray:
    """Step of every unit (n_steps · dp · k units).

    Units are cut into tiers of dp packs of similar cost, so that every rank of a step can get
    one pack of each tier: a heavy pack then always meets dp - 1 heavy packs in its step instead
    of one rank carrying it alone. Each step gets one tier from each of k windows of the cost
    order. Groups do not shape the tiers (balance comes first) but decide which step gets which
    tier of a window, to keep each step's group mix close to the global one."""
    n = dims.shape[0]
    if k == 1:
        # a rank's single pack is its whole load: tiers must be close in every dimension. Bands
        # of about sqrt(n_tiers) tiers by ViT cost, then attention cost inside a band.
        per_band = dp * max(1, int(np.ceil(np.sqrt(n // dp))))
        by_vit = np.lexsort((tie, -dims[:, 0], -dims[:, 1]))
        band = np.empty(n, np.int64)
        band[by_vit] = np.arange(n) // per_band
        order = np.lexsort((tie, -dims[:, 0], band))
    else:
        # k packs per rank even out small differences; what matters is that heavy packs come
        # dp at a time and alike: order by which dimension dominates (the largest relative to
        # its mean), then by how much
        mean = dims.mean(axis=0)
        rel = dims / np.where(mean > 0, mean, 1.0)
        order = np.lexsort((tie, -rel.max(axis=1), rel.argmax(axis=1)))
    tier = np.empty(n, np.int64)
    tier[order] = np.arange(n) // dp
    window, col = np.divmod(np.arange(n_steps * k), n_steps)
    tier_step = np.where(window % 2 == 0, col, n_steps - 1 - col)
    _, gid = np.unique(group, return_inverse=True)
    n_groups = int(gid.max()) + 1 if n else 0
    if n_groups < 2 or n_steps < 2:
        return tier_step[tier]
    # Each window of n_steps tiers goes one tier per step; match them so that the tier with the
    # most excess of a group goes to the step that lacks it most (projected on the group whose
    # excess varies most in the window; ties keep the snake).
    hist = np.zeros((n_steps * k, n_groups))
    np.add.at(hist, (tier, gid), 1.0)
    share = hist.sum(axis=0) / n
    have = np.zeros((n_steps, n_groups))
    for w in range(k):
        tiers = np.arange(w * n_steps, (w + 1) * n_steps)
        excess = hist[tiers] - dp * share
        lack = w * dp * share - have
        g = int(np.argmax(excess.var(axis=0)))
        t_order = np.lexsort((tier_step[tiers], -excess[:, g]))
        s_order = np.lexsort((np.arange(n_steps), -lack[:, g]))
        tier_step[tiers[t_order]] = s_order
        have[tier_step[tiers]] += hist[tiers]
    return tier_step[tier]


# ---------------------------------------------------------------------------------------------
# the public entry points


def assemble_steps(plan: PackPlan, cfg: PackConfig, seed: int, *, groups: np.ndarray | None = None) -> StepPlan:
    """Group the plan's packs into balanced global steps (module docstring).

    ``groups`` is an int id per plan pack (e.g. its main source or task) whose mix each step keeps
    close to the global mix."""
    n = plan.n_packs
    dp, k = cfg.dp_size, cfg.packs_per_rank_step
    S = dp * k
    if groups is None:
        groups = np.zeros(n, np.int64)
    groups = np.asarray(groups)
    if groups.shape != (n,) or (groups.size and not np.issubdtype(groups.dtype, np.integer)):
        raise ValueError(f"groups: expected one integer group id per pack ({n}), got shape {groups.shape}")
    groups = groups.astype(np.int64)
    packs = np.arange(n, dtype=np.int64)
    rem = n % S
    dropped = np.zeros(0, np.int64)
    unit_pack = packs
    unit_repeat = np.zeros(n, bool)
    if rem and cfg.remainder == "drop":
        # drop the least-filled packs (ties: the later ones), so the fewest samples are lost
        order = np.lexsort((-packs, plan.pack_tokens))
        dropped = np.sort(order[:rem])
        unit_pack = np.setdiff1d(packs, dropped)
        unit_repeat = np.zeros(unit_pack.shape[0], bool)
    elif rem and cfg.remainder == "pad":
        unit_pack = np.concatenate((packs, np.full(S - rem, -1, np.int64)))
        unit_repeat = np.zeros(unit_pack.shape[0], bool)
    elif rem and cfg.remainder == "repeat":
        pick = np.lexsort((packs, seeded_hash(seed, packs)))
        extra = pick[np.arange(S - rem) % n]
        unit_pack = np.concatenate((packs, extra))
        unit_repeat = np.concatenate((np.zeros(n, bool), np.ones(S - rem, bool)))
    N = unit_pack.shape[0]
    n_steps = N // S
    real = unit_pack >= 0
    src = np.where(real, unit_pack, 0)

    def per_unit(v: np.ndarray) -> np.ndarray:
        return np.where(real, v[src], 0.0) if n else np.zeros(N)

    attn, vit, cost = per_unit(plan.attn_cost), per_unit(plan.vit_cost), per_unit(plan.cost)
    group = np.where(real, groups[src] if n else 0, -1)
    uid = np.arange(N, dtype=np.int64)
    tie = seeded_hash(seed, uid)

    dims = np.stack((attn, vit, cost), axis=1)
    step_of = _compose_steps(dims, group, tie, n_steps, dp, k) if N else np.zeros(0, np.int64)
    # seeded order of the steps
    step_rank = np.empty(n_steps, np.int64)
    step_rank[np.lexsort((np.arange(n_steps), seeded_hash(seed ^ 0x5EED, np.arange(n_steps))))] = np.arange(n_steps)
    step_of = step_rank[step_of] if N else step_of

    rank = np.empty(N, np.int64)
    micro = np.empty(N, np.int64)
    by_step = np.lexsort((uid, step_of))
    for s in range(n_steps):
        idx = by_step[s * S : (s + 1) * S]
        r = deal_step(dims[idx], cost[idx], dp, k, cfg.balance_swap_rounds)
        rank[idx] = r
        micro[idx] = _micro_order(r, cost[idx], uid[idx])

    out = np.lexsort((micro, rank, step_of))
    # shard: packs_per_shard consecutive packs of a rank, in (step, micro) order
    r_out = rank[out]
    pos_in_rank = np.empty(N, np.int64)
    ro = np.lexsort((np.arange(N), r_out))
    first = np.searchsorted(r_out[ro], r_out[ro], side="left")
    pos_in_rank[ro] = np.arange(N) - first
    shard = pos_in_rank // cfg.packs_per_shard

    out_pack = unit_pack[out]
    out_repeat = unit_repeat[out]
    repeat_of = np.full(N, -1, np.int64)
    if out_repeat.any():
        row_of_pack = np.full(n, -1, np.int64)
        orig = ~out_repeat & (out_pack >= 0)
        row_of_pack[out_pack[orig]] = np.flatnonzero(orig)
        repeat_of[out_repeat] = row_of_pack[out_pack[out_repeat]]
    return StepPlan(
        pack=out_pack,
        step=step_of[out],
        rank=r_out,
        micro=micro[out],
        shard=shard,
        is_filler=(out_pack < 0) | out_repeat,
        repeat_of=repeat_of,
        dropped_packs=dropped,
        n_steps=n_steps,
        dp_size=dp,
        packs_per_rank_step=k,
        attn_cost=attn[out],
        vit_cost=vit[out],
        cost=cost[out],
    )


def naive_steps(n_packs: int, dp: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The baseline the benchmark compares with: packs in plan order, S per step, dealt round-robin
    (pack i of a step to rank i mod dp). Returns (step, rank) per pack; the tail gets -1."""
    S = dp * k
    i = np.arange(n_packs)
    full = i < (n_packs // S) * S
    return np.where(full, i // S, -1), np.where(full, (i % S) % dp, -1)


def step_balance(step: np.ndarray, rank: np.ndarray, cost: np.ndarray, dp: int) -> np.ndarray:
    """Per step: the largest per-rank cost over the mean per-rank cost (1.0 = perfect; steps
    with zero total cost count as 1.0). Rows with step < 0 are ignored."""
    ok = step >= 0
    n_steps = int(step[ok].max()) + 1 if ok.any() else 0
    loads = np.zeros((n_steps, dp))
    np.add.at(loads, (step[ok], rank[ok]), cost[ok])
    mean = loads.mean(axis=1)
    return np.where(mean > 0, loads.max(axis=1) / np.where(mean > 0, mean, 1.0), 1.0)
