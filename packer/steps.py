"""Step assembly: packs → global steps → ranks, with equal packs per rank and balanced step time.

A global step holds ``dp_size × micro_batch × grad_accum`` packs and every rank gets exactly
``k = micro_batch × grad_accum`` of them. The objective is the modelled step time
(`schemas.pack_config`): with ``vit_phase: fused`` (default) the max over ranks of their ViT plus
LLM cost; with ``separate`` (the ViT as its own synchronised phase, balanced encoder data
parallelism, report §6.1) the max over ranks of the ViT cost plus the max over ranks of the LLM
cost. Its ratio to the ideal (every rank at the mean) is the step's *balance*
(`step_balance_ratio`). All decisions are deterministic for a seed:

1. **Remainder.** Packs that cannot fill the last step are dropped — the ones the planner chose
   so that their samples follow the label mix (`PackPlan.remainder_packs`) — or the step is topped
   up with padding fillers (no samples) or with repeats of earlier packs (chosen by a seeded hash).
2. **Steps**, by ``balance``. First the packs are grouped into ``n_steps · dp`` rank loads of k
   packs with near-equal total cost by differencing (the heaviest k-th of the packs start the loads;
   each further k-th, lightest pack first, goes to the loads from the heaviest down: at k = 2, heavy
   with light); a load holding two copies of one sample trades one of those packs for the pack
   nearest in cost of another load. Then:

   - ``cost``: loads alike in cost (in (ViT, LLM) with a separate ViT phase) share a step: a k-d
     split into cells of dp loads, each cell a step (`kd_cells`).
   - ``mix``: two kinds of deal of the loads are tried (`_mix_steps`). *Strata*: the loads,
     ordered by their label shares (tokens and samples; `composition_order`), form dp strata; each
     step takes one load of every stratum, of the same cost quantile in each (lean a = 0), or leans
     towards steps of loads alike in cost over all loads (a up to 1: cost mode). *Offsets*: cells
     of W steps' worth of loads alike in cost, each dealt to its W steps so that every step's
     label shares add up to the plan's (`offset_deal` of the loads' `mix_offsets`), W from all
     steps down while the mix is kept. Of the deals that keep the mix — every label's spread of
     shares across steps (samples and tokens) within 1.2× (`MIX_MARGIN`) that of dealing the packs
     to steps at random, and no more step shares beyond the i.i.d. tolerance (`packer.step_mix`)
     than there — the one with the least modelled step time wins, those clear of the margin by
     3% (`MIX_SAFETY`) first. Where none keeps the mix, packs are dealt as units: classed by their
     dominant label, cells of W steps' worth of packs alike in cost are dealt to their W steps by
     class, then cost, back and forth, with W the smallest power of two that keeps the mix, at
     most all steps (`_mix_cells_steps`); but where that keeps the mix no better than the loads at
     a = 0 (spread and shares beyond the tolerance both), the loads are used. At k = 1 (a load is
     a pack) the units' deal also competes with the loads' on step time.

     With k >= 2 the plan holds light partner packs for its heavy ones (`packer.partner_packs`), so
     the loads are near-equal in cost (on bench_packing's bimodal mix at context 24576, k = 2: all
     within 1.2% of the mean load, against 7.6% without) and any deal that keeps the mix is nearly
     balanced. There, at dp 8: k = 2 1.006 mean / 1.026 worst step, k = 4 1.0005 / 1.004; at
     dp 64: k = 2 1.011 / 1.017 and k = 4 1.0004 / 1.002 (the sources' token spread at 0.25x-1.18x
     random). At k = 1 no partner helps: the heavy packs are long documents, a step
     of dp single packs cannot be both alike in cost and a cross-section of the mix, and units are
     dealt: 1.05 / 1.17 at dp 8 and 1.18 / 1.20 at dp 64. There a second deal competes: the
     heavy packs gathered a few to a step with companions that keep its mix near the plan's, the
     rest dealt by their label offsets (`packer.heavy_steps`). Each deal that passes the check is
     followed by swaps of packs between steps that keep it passing (`packer.step_swaps`,
     ``mix_swap_rounds``), and the lower step time wins: 1.012 / 1.036 at dp 8 (the heavy deal;
     the units' with swaps: 1.019 / 1.082), 1.048 / 1.099 at dp 64 (the heavy deal with at most
     dp/3 heavy packs a step: gathered until each step balances they break the mix there; the units'
     with swaps: 1.100 / 1.176). `packer.mix_balance_bound` bounds from below what any
     deal of the same packs that passes this check can reach (bench_packing prints it beside these
     figures): at dp 64, k = 1 no such deal has its worst step under 1.061 (the spread rule alone
     excludes it). Choose ``cost`` there when the slowest rank matters more than each step's mix.

   Then a step holding copies of one sample in two loads trades one of them for the most alike
   load of another step, and the steps are put in a seeded order.
3. **Ranks.** Each load goes to one rank (units: LPT with k packs per rank). Then packs are swapped
   between ranks while that lowers the step time (ties: the sum of squared deviations of the
   ranks' ViT and LLM loads from their means).

"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from packer import step_mix
from packer.heavy_steps import CAPPED_HEAVY_COST, HEAVY_COSTS, HEAVY_SHARES, heavy_step_deal
from packer.pack_moves import pick_by_composition
from packer.step_mix import offset_deal
from packer.step_swaps import MixLimits, swap_descent
from packer.packing import PackPlan
from schemas.pack_config import PackConfig

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


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
    llm_cost: np.ndarray | None = None  # float64 per output pack
    # balance "mix": how far steps lean to alike loads over the strata of label shares (`_mix_steps`),
    # 0..1; -1 where units were dealt by their dominant label instead; 1 for "cost"
    mix_cost_lean: float = 1.0
    # how the steps were dealt: "cost" (balance cost; or mix with no labels, one label or one step),
    # or for balance mix "strata" or "offsets" (`_mix_steps`), "units" (`_mix_cells_steps`), "heavy"
    # (`packer.heavy_steps`, at k = 1)
    mix_deal: str = "cost"
    mix_swaps: int = 0  # swaps of loads between steps after the deal (`packer.step_swaps`)
    copies_sharing_step: int = 0  # steps x copy groups with two packs holding copies of one sample

    def __len__(self) -> int:
        return int(self.pack.shape[0])


# ---------------------------------------------------------------------------------------------
# step time


def step_time(V: np.ndarray, L: np.ndarray, separate: bool) -> float:
    """The modelled time of a step from its ranks' ViT and LLM loads."""
    return float(V.max() + L.max()) if separate else float((V + L).max())


def step_balance_ratio(step: np.ndarray, rank: np.ndarray, vit: np.ndarray, llm: np.ndarray, dp: int,
                       separate: bool) -> np.ndarray:
    """Per step: modelled step time over its ideal (the same with every rank at the mean); 1.0 for
    a step without cost. Rows with step < 0 are ignored."""
    ok = step >= 0
    n_steps = int(step[ok].max()) + 1 if ok.any() else 0
    V = np.zeros((n_steps, dp))
    L = np.zeros((n_steps, dp))
    np.add.at(V, (step[ok], rank[ok]), vit[ok])
    np.add.at(L, (step[ok], rank[ok]), llm[ok])
    ideal = V.mean(axis=1) + L.mean(axis=1)
    t = V.max(axis=1) + L.max(axis=1) if separate else (V + L).max(axis=1)
    return np.where(ideal > 0, t / np.where(ideal > 0, ideal, 1.0), 1.0)


# ---------------------------------------------------------------------------------------------
# dealing one step


def deal_step(V: np.ndarray, L: np.ndarray, dp: int, k: int, swap_rounds: int, *, separate: bool = False,
              init: np.ndarray | None = None) -> np.ndarray:
    """Deal the dp·k packs of one step (ViT cost V, LLM cost L) to dp ranks, k each; returns the
    rank of each pack. Starts from ``init`` (a rank per pack, k each) or LPT on V + L, then swaps
    packs between ranks while that lowers the step time (`step_time`), ties broken by the sum of
    squared deviations of the ranks' ViT and LLM loads from their means (so even with fused
    phases the ViT is spread where that costs nothing)."""
    n = V.shape[0]
    assert n == dp * k
    T = V + L
    if init is None:
        order = np.lexsort((np.arange(n), -T))
        rank = np.empty(n, np.int64)
        load = np.zeros(dp)
        for tier in range(k):  # LPT with equal counts: a tier of dp packs at a time
            idx = order[tier * dp : (tier + 1) * dp]
            ranks = np.lexsort((np.arange(dp), load))
            rank[idx] = ranks
            load[ranks] += T[idx]
    else:
        rank = init.astype(np.int64, copy=True)
    if swap_rounds <= 0 or dp < 2 or k < 2:
        return rank  # one pack per rank: any deal gives the same step time
    dims = np.stack((V, L), axis=1)
    loads = np.zeros((dp, 2))
    np.add.at(loads, rank, dims)
    mean = loads.mean(axis=0)
    scale = 1.0 / max(float(mean.sum()), 1e-300)
    for _ in range(swap_rounds):
        obj, dev = step_time(loads[:, 0], loads[:, 1], separate), float(((loads - mean) ** 2).sum())
        # only a swap that moves a pack off a rank setting a phase's max (fused: the max total)
        # can lower the step time
        tops = np.unique(loads.argmax(axis=0)) if separate else np.asarray([int(loads.sum(axis=1).argmax())])
        i_idx = np.flatnonzero(np.isin(rank, tops))
        ri = rank[i_idx]
        d = dims[None, :, :] - dims[i_idx][:, None, :]  # moving j in and i out: delta for i's rank
        new_a = loads[ri][:, None, :] + d  # |I| × n × 2
        new_b = loads[rank][None, :, :] - d
        if separate:
            others = _max_without(loads, ri[:, None], rank[None, :])
            new_obj = np.maximum(np.maximum(new_a, new_b), others).sum(axis=-1)
        else:
            others = _max_without(loads.sum(axis=1, keepdims=True), ri[:, None], rank[None, :])[..., 0]
            new_obj = np.maximum(np.maximum(new_a.sum(axis=-1), new_b.sum(axis=-1)), others)
        new_dev = (dev - ((loads[ri] - mean) ** 2).sum(axis=-1)[:, None] - ((loads[rank] - mean) ** 2).sum(axis=-1)[None, :]
                   + ((new_a - mean) ** 2).sum(axis=-1) + ((new_b - mean) ** 2).sum(axis=-1))
        new_obj[ri[:, None] == rank[None, :]] = np.inf
        better = (new_obj < obj - 1e-9 / scale) | ((new_obj <= obj + 1e-12 / scale) & (new_dev < dev - 1e-9 / scale**2))
        if not better.any():
            break
        key = np.where(better, new_obj, np.inf)
        best = float(key.min())
        cand = np.flatnonzero((key <= best + 1e-12 / scale).ravel())
        a, j = divmod(int(cand[np.argmin(new_dev.ravel()[cand])]), n)
        i = int(i_idx[a])
        ra, rb = rank[i], rank[j]
        loads[ra] += dims[j] - dims[i]
        loads[rb] += dims[i] - dims[j]
        rank[i], rank[j] = rb, ra
    return rank


def _max_without(loads: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per dimension, the largest load over the ranks other than a and b (broadcast shapes)."""
    dp, D = loads.shape
    shape = np.broadcast(a, b).shape
    if dp <= 2:
        return np.full(shape + (D,), -np.inf)
    top = np.argsort(-loads, axis=0, kind="stable")[:3]  # 3 × D rank ids
    val = np.take_along_axis(loads, top, axis=0)
    out = np.empty(shape + (D,))
    for d in range(D):
        use0 = (a != top[0, d]) & (b != top[0, d])
        use1 = (a != top[1, d]) & (b != top[1, d])
        out[..., d] = np.where(use0, val[0, d], np.where(use1, val[1, d], val[2, d]))
    return out


def _micro_order(rank: np.ndarray, scalar: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Micro index of each pack within its rank: most expensive first, ties by id."""
    order = np.lexsort((ids, -scalar, rank))
    micro = np.empty(rank.shape[0], np.int64)
    r_sorted = rank[order]
    first = np.searchsorted(r_sorted, r_sorted, side="left")
    micro[order] = np.arange(rank.shape[0]) - first
    return micro


# ---------------------------------------------------------------------------------------------
# rank loads and steps


def rank_loads(T: np.ndarray, k: int, tie: np.ndarray) -> np.ndarray:
    """Group n units (n divisible by k) into n / k loads of k with near-equal sums of T (module
    docstring, 2.); returns the load of every unit."""
    n = T.shape[0]
    U = n // k
    order = np.lexsort((tie, -T))  # heaviest first
    load = np.empty(n, np.int64)
    load[order[:U]] = np.arange(U)
    total = np.zeros(U)
    total[np.arange(U)] = T[order[:U]]
    for s in range(1, k):
        stratum = order[s * U : (s + 1) * U][::-1]  # lightest first
        heavy_first = np.lexsort((np.arange(U), -total))
        load[stratum] = heavy_first
        total[heavy_first] += T[stratum]
    return load


def kd_cells(X: np.ndarray, per_slot: int, max_slots: int, tie: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split points X (n × D, n a multiple of per_slot) into cells of at most max_slots slots of
    per_slot points, alike in X: a k-d split, each time along the widest dimension, at a slot
    boundary near the middle. Returns (cell of each point, slots per cell)."""
    n = X.shape[0]
    cell = np.empty(n, np.int64)
    slots: list[int] = []
    stack = [np.lexsort((tie, X[:, 0]))]
    while stack:
        idx = stack.pop()
        c = idx.shape[0] // per_slot
        if c <= max_slots:
            cell[idx] = len(slots)
            slots.append(c)
            continue
        sub = X[idx]
        d = int(np.argmax(sub.max(axis=0) - sub.min(axis=0)))
        idx = idx[np.lexsort((tie[idx], sub[:, d]))]
        cut = ((c + 1) // 2) * per_slot
        stack.append(idx[cut:])
        stack.append(idx[:cut])
    return cell, np.asarray(slots, np.int64)


def _cells_to_steps(cell: np.ndarray, slots: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Within each cell, deal its points to the cell's steps by ``key`` order, back and forth
    (stratified); cells' steps are numbered in cell order."""
    first_step = np.concatenate(([0], np.cumsum(slots)))
    order = np.lexsort((key, cell))
    c_sorted = cell[order]
    start = np.searchsorted(c_sorted, c_sorted, side="left")
    pos = np.arange(order.shape[0]) - start
    w = slots[c_sorted]
    lap, col = np.divmod(pos, w)
    within = np.where(lap % 2 == 0, col, w - 1 - col)
    step = np.empty(cell.shape[0], np.int64)
    step[order] = first_step[c_sorted] + within
    return step


# ---------------------------------------------------------------------------------------------
# the public entry points


def assemble_steps(plan: PackPlan, cfg: PackConfig, seed: int, *, groups: np.ndarray | None = None) -> StepPlan:
    """Group the plan's packs into balanced global steps (module docstring).

    The mix each step keeps (``balance: mix``) is that of the plan's labels (`plan_packs`
    ``labels``); ``groups`` (one int per pack, e.g. its main source) stands in for plans made
    without labels."""
    n = plan.n_packs
    dp, k = cfg.dp_size, cfg.packs_per_rank_step
    S = dp * k
    separate = cfg.vit_phase == "separate"
    if groups is not None:
        groups = np.asarray(groups)
        if groups.shape != (n,) or (groups.size and not np.issubdtype(groups.dtype, np.integer)):
            raise ValueError(f"groups: expected one integer group id per pack ({n}), got shape {groups.shape}")
        groups = groups.astype(np.int64)
    unit_pack, unit_repeat, dropped = _units(plan, cfg, seed, groups)
    N = unit_pack.shape[0]
    n_steps = N // S
    real = unit_pack >= 0
    src = np.where(real, unit_pack, 0)

    def per_unit(v: np.ndarray) -> np.ndarray:
        return np.where(real, v[src], 0.0) if n else np.zeros(N)

    attn, vit, cost = per_unit(plan.attn_cost), per_unit(plan.vit_cost), per_unit(plan.cost)
    llm = per_unit(plan.llm_cost)
    uid = np.arange(N, dtype=np.int64)
    tie = seeded_hash(seed, uid)

    # rank loads of k units (at k = 1 a load is a unit); cost: alike loads share a step; mix: loads
    # dealt to steps by their label shares, then cost (`_mix_steps`), or where no such deal keeps
    # the mix, units dealt over steps by their dominant label with ranks found within each step
    mix = _unit_mix(plan, groups, unit_pack, real, src) if cfg.balance == "mix" and n_steps > 1 else None
    cost_lean = 1.0
    mix_deal = "cost"
    swaps = 0
    load = rank_loads(cost, k, tie) if N else np.zeros(0, np.int64)
    if k > 1 and plan.copy_group is not None and n and N:
        load = _split_copies_within_loads(plan, unit_pack, real, load, cost, tie)
    U = N // k
    LV = np.bincount(load, weights=vit, minlength=U)
    LL = np.bincount(load, weights=llm, minlength=U)
    X = np.stack((LV, LL), axis=1) if separate else (LV + LL)[:, None]
    ltie = seeded_hash(seed ^ 0x10AD, np.arange(U))
    by_load = True
    if not U:
        step_of_load = np.zeros(0, np.int64)
    elif mix is None:
        cell, slots = kd_cells(X, dp, 1, ltie)
        step_of_load = _cells_to_steps(cell, slots, ltie.astype(np.float64))
    else:
        base = _mix_base(mix, n_steps, S, cfg.mix_tolerance, seed)
        ltok = np.zeros((U, mix.tokens.shape[1]))
        lsmp = np.zeros((U, mix.tokens.shape[1]))
        np.add.at(ltok, load, mix.tokens)
        np.add.at(lsmp, load, mix.samples)
        step_of_load, cost_lean, strat_excess, mix_deal = _mix_steps(
            X, ltok, lsmp, mix.kind, n_steps, ltie, separate, lambda st: _mix_excess(st[load], mix, n_steps, base),
            base)
        if cost_lean < 0 or k == 1:
            # no lean keeps the mix: units over all steps, unless they keep it no better; at k = 1
            # (a load is a unit) the units' deal also competes with the loads' on step time alone
            # (where it keeps the mix; the MIX_SAFETY tier orders the loads' deals only)
            uX = np.stack((vit, llm), axis=1) if separate else (vit + llm)[:, None]
            unit_step, unit_excess = _mix_cells_steps(uX, mix, n_steps, S, tie, base)
            if cost_lean >= 0:
                use_units = _mix_ok(unit_excess, base.over) and _time_score(
                    _step_time_excess(unit_step, uX, n_steps, separate)) < _time_score(
                    _step_time_excess(step_of_load[load], uX, n_steps, separate))
            else:
                use_units = _mix_ok(unit_excess, base.over) or not (strat_excess[0] <= unit_excess[0]
                                                                    and strat_excess[1] <= unit_excess[1])
            if use_units:
                by_load, mix_deal, cost_lean = False, "units", -1.0
                load, X, step_of_load = np.arange(N, dtype=np.int64), uX, unit_step
            elif cost_lean < 0:
                cost_lean = 0.0
        if not separate and cfg.mix_swap_rounds and k == 1:
            # the deal so far and the heavy-step deal (`packer.heavy_steps`), each descended by
            # swaps where it passes the check; the lower step time wins (ties: the deal so far)
            rows_s, rows_t = (lsmp, ltok) if by_load else (mix.samples, mix.tokens)  # at k = 1 the same rows
            starts = [(mix_deal, step_of_load, _swap_limits(step_of_load, rows_s, rows_t, mix.kind, n_steps, base))]
            offsets = mix_offsets(rows_t, rows_s, mix.kind, n_steps, base)
            # heavy loads gathered until each hot step is balanced; where no such deal passes the
            # check, at most dp/2, dp/3, ... of them to a hot step (`HEAVY_SHARES`): the first that does
            tries = [(c, None) for c in HEAVY_COSTS] + [(CAPPED_HEAVY_COST, dp // d) for d in HEAVY_SHARES
                                                        if dp // d >= 1]
            for heavy_cost, most in tries:
                heavy = heavy_step_deal(X[:, 0], offsets, n_steps, dp, ltie if by_load else tie, heavy_cost, most)
                if heavy is None:
                    continue
                lim = _swap_limits(heavy, rows_s, rows_t, mix.kind, n_steps, base)
                if lim is not None:
                    starts.append(("heavy", heavy, lim))
                    break
            best_score = np.inf
            for name, start, lim in starts:
                if lim is None:
                    continue
                done, made = swap_descent(start, X[:, 0], rows_s, rows_t, mix.kind, lim, n_steps,
                                          cfg.mix_swap_rounds, seed)
                score = _time_score(_step_time_excess(done, X, n_steps, separate))
                if score < best_score:
                    best_score, step_of_load, swaps, mix_deal = score, done, made, name
    step_of = step_of_load[load] if N else np.zeros(0, np.int64)
    shared = 0
    if plan.copy_group is not None and n and N:
        step_of_load, shared = _spread_copies_over_steps(plan, unit_pack, real, load, step_of_load, X, dp)
        step_of = step_of_load[load]
    # seeded order of the steps
    step_rank = np.empty(n_steps, np.int64)
    step_rank[np.lexsort((np.arange(n_steps), seeded_hash(seed ^ 0x5EED, np.arange(n_steps))))] = np.arange(n_steps)
    step_of = step_rank[step_of] if N else step_of

    rank = np.empty(N, np.int64)
    micro = np.empty(N, np.int64)
    by_step = np.lexsort((uid, step_of))
    for s in range(n_steps):
        idx = by_step[s * S : (s + 1) * S]
        init = None
        if by_load:
            _, init = np.unique(load[idx], return_inverse=True)
            init = init.reshape(-1)
        r = deal_step(vit[idx], llm[idx], dp, k, cfg.balance_swap_rounds, separate=separate, init=init)
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
        llm_cost=llm[out],
        mix_cost_lean=cost_lean,
        mix_deal=mix_deal,
        mix_swaps=swaps,
        copies_sharing_step=shared,
    )


def _units(plan: PackPlan, cfg: PackConfig, seed: int, groups: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The packs of the steps (-1: a padding filler), which are repeats, and the dropped packs:
    the ones the planner chose, else the least filled (with ``groups``, those of them that keep
    the groups' mix)."""
    n = plan.n_packs
    S = cfg.packs_per_step
    packs = np.arange(n, dtype=np.int64)
    rem = n % S
    if rem and cfg.remainder == "drop":
        dropped = np.sort(np.asarray(plan.remainder_packs, np.int64))
        if dropped.shape[0] != rem:  # a plan made for another step size: the least filled go
            by_fill = np.lexsort((-packs, plan.pack_tokens))
            if groups is None:
                dropped = np.sort(by_fill[:rem])
            else:  # ...among them, those that keep the groups' mix (packs weighted by samples)
                cand = by_fill[: 32 * rem + 64]
                vals, gid = np.unique(groups, return_inverse=True)
                comp = np.zeros((cand.shape[0], vals.shape[0]))
                comp[np.arange(cand.shape[0]), gid[cand]] = plan.pack_samples[cand]
                share = np.bincount(gid, weights=plan.pack_samples, minlength=vals.shape[0])
                share = share / max(share.sum(), 1)
                dropped = np.sort(cand[pick_by_composition(comp, share, rem)])
        return np.setdiff1d(packs, dropped), np.zeros(n - rem, bool), dropped
    if rem and cfg.remainder == "pad":
        return np.concatenate((packs, np.full(S - rem, -1, np.int64))), np.zeros(n + S - rem, bool), np.zeros(0, np.int64)
    if rem and cfg.remainder == "repeat":
        pick = np.lexsort((packs, seeded_hash(seed, packs)))
        extra = pick[np.arange(S - rem) % n]
        return (np.concatenate((packs, extra)), np.concatenate((np.zeros(n, bool), np.ones(S - rem, bool))),
                np.zeros(0, np.int64))
    return packs, np.zeros(n, bool), np.zeros(0, np.int64)


class _UnitMix(NamedTuple):
    samples: np.ndarray  # per unit × label
    tokens: np.ndarray
    kind: np.ndarray
    matrix: step_mix.LabelMatrix


def _unit_mix(plan: PackPlan, groups: np.ndarray | None, unit_pack: np.ndarray, real: np.ndarray,
              src: np.ndarray) -> _UnitMix | None:
    if plan.labels is not None and plan.labels.size:
        m = step_mix.label_matrix(plan.pack_of, plan.n_packs, plan.labels, plan.sample_tokens,
                                  plan.piece_sample, plan.piece_pack, plan.piece_tokens)
    elif groups is not None and groups.size:  # one sample per pack, of the pack's group
        m = step_mix.label_matrix(np.arange(plan.n_packs), plan.n_packs, groups, plan.pack_tokens)
    else:
        return None
    if m.samples.shape[1] < 2:
        return None
    return _UnitMix(np.where(real[:, None], m.samples[src], 0.0), np.where(real[:, None], m.tokens[src], 0.0),
                    m.kind, m)


class _MixBase(NamedTuple):
    """What the mix of steps is held to: random dealing of the same packs, and i.i.d. sampling."""

    spread_s: np.ndarray  # per label: spread of the samples share (mean over random dealings)
    spread_t: np.ndarray  # per label: spread of the tokens share
    over: float  # (step, label) shares beyond the tolerance under random dealing (mean)
    gs: np.ndarray  # global shares: samples, tokens
    gt: np.ndarray
    tol_s: np.ndarray  # per label: the tolerance (z · i.i.d. sigma) for a step of mean size
    tol_t: np.ndarray


def _mix_base(mix: _UnitMix, n_steps: int, S: int, z: float, seed: int) -> _MixBase:
    gs, gt = step_mix.global_shares(mix.matrix)
    spreads_s, spreads_t, overs = [], [], []
    tol_s = tol_t = None
    for r in range(3):
        rs = step_mix.random_steps(mix.samples.shape[0], n_steps, S, seed + 7919 * r)
        ss, st, n_step = step_mix.step_shares(rs, mix.samples, mix.tokens, mix.kind, n_steps)
        if tol_s is None:
            sig_s, sig_t = step_mix.iid_sigma(mix.matrix, np.full(1, n_step.mean()))
            tol_s, tol_t = z * sig_s[0], z * sig_t[0]
        spreads_s.append(step_mix.spread(ss))
        spreads_t.append(step_mix.spread(st))
        overs.append(float((np.abs(ss - gs) > tol_s).sum() + (np.abs(st - gt) > tol_t).sum()))
    return _MixBase(np.mean(spreads_s, axis=0), np.mean(spreads_t, axis=0), float(np.mean(overs)), gs, gt, tol_s,
                    tol_t)


MIX_MARGIN = 1.2  # a step mix is kept while every label's spread is within this x random dealing's
# Random dealing's spread is estimated from three dealings (about 1% off at 2,000 steps): of the
# deals that keep the mix, those within this share of the margin go first.
MIX_SAFETY = 0.97


def _mix_excess(step: np.ndarray, mix: _UnitMix, n_steps: int, base: _MixBase) -> tuple[float, float]:
    """How far the steps' mix is from random dealing's: the widest spread of a label's share across
    steps (samples or tokens) over random dealing's, and the (step, label) shares beyond the
    tolerance."""
    ss, st, _ = step_mix.step_shares(step, mix.samples, mix.tokens, mix.kind, n_steps)
    over = float((np.abs(ss - base.gs) > base.tol_s).sum() + (np.abs(st - base.gt) > base.tol_t).sum())
    ratio = 0.0
    for ours, theirs in ((step_mix.spread(ss), base.spread_s), (step_mix.spread(st), base.spread_t)):
        flat = theirs <= 1e-12
        r = np.where(flat, np.where(ours <= 1e-12, 0.0, np.inf), ours / np.where(flat, 1.0, theirs))
        ratio = max(ratio, float(r.max()) if r.size else 0.0)
    return ratio, over


def _swap_limits(step: np.ndarray, samples: np.ndarray, tokens: np.ndarray, kind: np.ndarray, n_steps: int,
                 base: _MixBase) -> MixLimits | None:
    """The mix check as limits for `swap_descent`, or None where the deal does not pass it: each
    label's spread within `MIX_SAFETY` of the margin, or where the deal is beyond that already, no
    wider than it is (so the check still passes after the swaps)."""
    ss, st, _ = step_mix.step_shares(step, samples, tokens, kind, n_steps)
    ratio_cap = MIX_MARGIN * MIX_SAFETY
    out = []
    for now, theirs in ((step_mix.spread(ss), base.spread_s), (step_mix.spread(st), base.spread_t)):
        if (now > MIX_MARGIN * theirs + 1e-12).any():
            return None
        out.append(np.maximum(ratio_cap * theirs, now) ** 2 + 1e-15)
    over = float((np.abs(ss - base.gs) > base.tol_s).sum() + (np.abs(st - base.gt) > base.tol_t).sum())
    if over > base.over:
        return None
    return MixLimits(out[0], out[1], base.over, base.gs, base.gt, base.tol_s, base.tol_t)


def _mix_ok(excess: tuple[float, float], base_over: float) -> bool:
    """Whether every label's spread of shares across steps (samples and tokens) is within
    `MIX_MARGIN` x that of random dealing, and no more (step, label) shares are beyond the tolerance
    than there."""
    return excess[0] <= MIX_MARGIN + 1e-9 and excess[1] <= base_over


MIX_DEALS = ("strata", "offsets")  # the kinds of deal `_mix_steps` tries (tests may leave "offsets" out)
COST_LEANS = (0.0, 0.0625, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0)


def _label_shares(m: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """Each row's shares of its labels, within each kind (0 where a row has none of a kind)."""
    out = np.zeros_like(m)
    for kd in np.unique(kind).tolist():
        cols = kind == kd
        tot = m[:, cols].sum(axis=1, keepdims=True)
        out[:, cols] = np.divide(m[:, cols], tot, out=np.zeros_like(m[:, cols]), where=tot > 0)
    return out


def composition_order(tokens: np.ndarray, samples: np.ndarray, kind: np.ndarray, tie: np.ndarray,
                      leaf: int = 8) -> np.ndarray:
    """A rank per item (row) such that items alike in label shares (in tokens and in samples, within
    each kind) are near in rank: the leaf order of a k-d split of the shares, each scaled by its
    spread over the items, each time along the widest dimension at the median."""
    share = np.concatenate((_label_shares(tokens, kind), _label_shares(samples, kind)), axis=1)
    sd = share.std(axis=0)
    Z = share[:, sd > 0] / sd[sd > 0]
    out = np.empty(tokens.shape[0], np.int64)
    pos = 0
    stack = [np.lexsort((tie,))]
    while stack:
        idx = stack.pop()
        if idx.shape[0] <= leaf or not Z.shape[1]:
            out[idx] = pos + np.arange(idx.shape[0])
            pos += idx.shape[0]
            continue
        sub = Z[idx]
        d = int(np.argmax(sub.std(axis=0)))
        idx = idx[np.lexsort((tie[idx], sub[:, d]))]
        half = idx.shape[0] // 2
        stack.append(idx[half:])
        stack.append(idx[:half])
    return out


def _step_time_excess(step: np.ndarray, X: np.ndarray, n_steps: int, separate: bool) -> np.ndarray:
    """Per step, its modelled time over the ideal, minus 1, with each rank load a rank of its step
    (`step_balance_ratio`; `deal_step` balances the ranks later). X: per load, its total cost, or
    (ViT, LLM) with a separate ViT phase; every step holds as many loads."""
    per_step = X.shape[0] // n_steps
    slot = np.empty(X.shape[0], np.int64)
    slot[np.argsort(step, kind="stable")] = np.arange(X.shape[0]) % per_step
    llm = X[:, 1] if separate else np.zeros(X.shape[0])
    return step_balance_ratio(step, slot, X[:, 0], llm, per_step, separate) - 1.0


def _time_score(r: np.ndarray) -> float:
    """The modelled step time of a deal: the mean excess over the ideal over its target (2%) plus
    the worst step's over its own (5%)."""
    return float(r.mean() / 0.02 + r.max() / 0.05)


def mix_offsets(tokens: np.ndarray, samples: np.ndarray, kind: np.ndarray, n_steps: int, base: _MixBase
                ) -> np.ndarray:
    """Per rank load, how far it moves its step's share of each label from the plan's, in samples
    and in tokens: (label samples - share x samples) over the tolerance times a mean step's samples,
    and so for tokens. A step whose loads' offsets sum to near zero is within the tolerance."""
    first = kind == (kind.min() if kind.size else 0)
    out = []
    for m, share, tol in ((samples, base.gs, base.tol_s), (tokens, base.gt, base.tol_t)):
        total = m[:, first].sum(axis=1, keepdims=True)
        scale = tol * max(float(total.sum()) / max(n_steps, 1), 1e-12)
        live = scale > 0
        out.append((m[:, live] - share[live] * total) / scale[live])
    return np.concatenate(out, axis=1)


OFFSET_GROUP = 256  # steps an offsets deal looks over at once (its time grows with their square)
OFFSET_LEVELS = 4  # cell sizes the offsets deal tries: all steps, then halves, down to an eighth


def _offsets_in_cells(X: np.ndarray, offsets: np.ndarray, dp: int, W: int, tie: np.ndarray) -> np.ndarray:
    """The offsets deal in cost cells of W steps' worth of loads (`kd_cells`): each cell's loads, in
    seeded order, are cut into groups of at most `OFFSET_GROUP` steps' worth (each a random
    cross-section of the cell), and each group is dealt to its steps by `offset_deal`. Returns the
    step of each load."""
    cells, slots = kd_cells(X, dp, W, tie)
    order = np.lexsort((tie, cells))
    step = np.empty(X.shape[0], np.int64)
    load0 = step0 = 0
    for w in slots.tolist():
        n_groups = -(-w // OFFSET_GROUP)
        for g in range(n_groups):
            size = w // n_groups + (g < w % n_groups)
            idx = order[load0 : load0 + size * dp]
            step[idx] = step0 + offset_deal(offsets[idx], size, dp, tie[idx])
            load0 += size * dp
            step0 += size
    return step


def _mix_steps(X: np.ndarray, tokens: np.ndarray, samples: np.ndarray, kind: np.ndarray, n_steps: int,
               tie: np.ndarray, separate: bool, mix_excess, base: _MixBase
               ) -> tuple[np.ndarray, float, tuple[float, float], str]:
    """Steps of the rank loads for ``balance: mix`` (module docstring, 2.), from two kinds of deal.

    Strata: the loads, in the order of their label shares (`composition_order`), form dp strata
    of n_steps loads; a load's place is ``(1 - a) · q_stratum + a · q_all``, its cost quantile
    within its stratum and over all loads (in the k-d order of X, as cost mode groups them), and
    each run of dp loads in that order is a step. At a = 0 every step holds one load of each
    stratum, of the same cost quantile in each; at a = 1 steps are loads alike in cost, as in cost
    mode (leans a in `COST_LEANS`).

    Offsets: cells of W steps' worth of loads alike in cost (`kd_cells`), each dealt to its W steps
    by `offset_deal` on the loads' `mix_offsets` (`_offsets_in_cells`), so that every step's shares
    sum to the plan's; W from all steps down, halving while the mix is kept, at most
    `OFFSET_LEVELS` sizes (lean ``1 - W / n_steps``). Where the loads
    are near-equal in cost (k >= 2 with light partner packs, `packer.partner_packs`) this keeps
    the mix far inside the check whatever the loads' own mixes.

    Of the deals that keep the mix (`_mix_ok` of ``mix_excess`` of the step of each load), the one
    with the least modelled step time (`_time_score`) wins. Returns (step per load, its lean, the
    mix excess of the strata at a = 0, the deal's name); lean -1 when none keeps the mix (the steps
    are then those of the strata at a = 0)."""
    U = X.shape[0]
    dp = U // n_steps
    # only the strata matter (their loads are ordered by cost): leaves of a quarter stratum suffice
    stratum = composition_order(tokens, samples, kind, tie, leaf=max(8, n_steps // 4)) // n_steps
    cell, _ = kd_cells(X, dp, 1, tie)
    q_all = np.empty(U)
    q_all[np.lexsort((tie, X.sum(axis=1), cell))] = np.arange(U) / U
    q_stratum = np.empty(U)
    q_stratum[np.lexsort((q_all, stratum))] = (np.arange(U) % n_steps) / n_steps
    best: tuple[tuple[bool, float], np.ndarray | None, float, str] = ((True, np.inf), None, -1.0, "strata")
    first: tuple[np.ndarray, tuple[float, float]] | None = None

    def consider(step: np.ndarray, lean: float, name: str) -> bool:
        nonlocal best
        excess = mix_excess(step)
        if not _mix_ok(excess, base.over):
            return False
        # deals with the spread clear of the margin by more than the baseline's own error first
        key = (excess[0] > MIX_MARGIN * MIX_SAFETY, _time_score(_step_time_excess(step, X, n_steps, separate)))
        if key < best[0]:
            best = (key, step, lean, name)
        return True

    for a in COST_LEANS:
        order = np.lexsort((tie, stratum, (1.0 - a) * q_stratum + a * q_all))
        step = np.empty(U, np.int64)
        step[order] = np.arange(U) // dp
        if first is None:
            first = (step, mix_excess(step))
        consider(step, a, "strata")
    offsets = mix_offsets(tokens, samples, kind, n_steps, base)
    W = n_steps if "offsets" in MIX_DEALS else 0
    for _ in range(OFFSET_LEVELS):
        if W < 1 or not consider(_offsets_in_cells(X, offsets, dp, W, tie), 1.0 - W / n_steps, "offsets"):
            break
        W //= 2
    assert first is not None
    if best[1] is None:
        return first[0], -1.0, first[1], "strata"
    return best[1], best[2], first[1], best[3]


def _mix_cells_steps(X: np.ndarray, mix: _UnitMix, n_steps: int, S: int, tie: np.ndarray,
                     base: _MixBase) -> tuple[np.ndarray, tuple[float, float]]:
    """Steps of the units for ``balance: mix`` where no deal of loads keeps the mix (module
    docstring, 2.). Units are classed by their dominant label (of each kind, by tokens). Cells of W
    steps' worth of units alike in cost are dealt to their W steps by class, then cost, back and
    forth, one per step per lap: every step holds each class in proportion to its cell (to within
    one pack). W is the smallest power of two for which the mix is kept (`_mix_ok`); at most all
    steps, when every step is a cross-section of the whole plan. Returns (step per unit, its mix
    excess)."""
    U = X.shape[0]
    cls = np.zeros(U, np.int64)
    for kd in np.unique(mix.kind).tolist():
        cols = np.flatnonzero(mix.kind == kd)
        cls = cls * (cols.shape[0] + 1) + mix.tokens[:, cols].argmax(axis=1)
    rank_key = np.empty(U, np.float64)
    rank_key[np.lexsort((tie, X.sum(axis=1), cls))] = np.arange(U)
    W = 1
    while True:
        cell, slots = kd_cells(X, S, W, tie)
        step = _cells_to_steps(cell, slots, rank_key)
        excess = _mix_excess(step, mix, n_steps, base)
        if n_steps <= W or _mix_ok(excess, base.over):
            return step, excess
        W *= 2


class _CopyHolders:
    """Which copy groups each holder (a load, a step) holds through its members (units, loads);
    ``of``: the holder of each member (updated in place by `trade`). Per holder it keeps the set of
    groups held and how many members hold each, so a question is one set intersection (in C),
    remembered until the next trade, and a look at the few groups found."""

    MEMO = 1 << 16  # intersections remembered between trades, at most

    def __init__(self, of: np.ndarray, groups_of: dict[int, set[int]]):
        self.of = of
        self.groups_of = groups_of
        self.held: dict[int, set[int]] = {}
        self.count: dict[int, Counter] = {}
        for m, groups in groups_of.items():
            h = int(of[m])
            self.held.setdefault(h, set()).update(groups)
            self.count.setdefault(h, Counter()).update(groups)
        self._found: dict[tuple[int, int], set[int]] = {}

    def meets(self, h: int, m: int, without: int) -> bool:
        """Whether holder h, leaving out its member `without`, holds any group of member m."""
        found = self._found.get((m, h))
        if found is None:
            if len(self._found) >= self.MEMO:
                self._found.clear()
            found = self._found[m, h] = self.groups_of.get(m, set()) & self.held.get(h, set())
        if not found or int(self.of[without]) != h:
            return bool(found)
        own, count = self.groups_of.get(without, ()), self.count[h]
        return any(count[g] > (g in own) for g in found)

    def can_trade(self, x: int, y: int) -> bool:
        """Whether x and y can trade holders with neither then meeting a copy of its own."""
        a, b = int(self.of[x]), int(self.of[y])
        return a != b and not (self.meets(b, x, y) or self.meets(a, y, x))

    def trade(self, x: int, y: int) -> None:
        a, b = int(self.of[x]), int(self.of[y])
        self.of[x], self.of[y] = b, a
        self._found.clear()
        for m, src, dst in ((x, a, b), (y, b, a)):
            groups = self.groups_of.get(m, ())
            if not groups:
                continue
            count = self.count[src]
            count.subtract(groups)
            self.held[src].difference_update(g for g in groups if count[g] == 0)
            self.held.setdefault(dst, set()).update(groups)
            self.count.setdefault(dst, Counter()).update(groups)


def _copy_pairs(plan: PackPlan, unit_pack: np.ndarray, real: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(unit, copy group) of every packed sample that has copies (a unit may appear more than once)."""
    grp = plan.copy_group
    ok = (plan.pack_of >= 0) & (grp >= 0)
    if not ok.any():
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    sizes = np.bincount(grp[ok])
    multi = ok & (sizes[np.where(ok, grp, 0)] > 1)
    unit_of_pack = np.full(plan.n_packs, -1, np.int64)
    unit_of_pack[unit_pack[real]] = np.flatnonzero(real)
    pu = unit_of_pack[plan.pack_of[multi]]
    keep = pu >= 0
    return pu[keep], grp[multi][keep]


def _split_copies_within_loads(plan: PackPlan, unit_pack: np.ndarray, real: np.ndarray, load: np.ndarray,
                               cost: np.ndarray, tie: np.ndarray) -> np.ndarray:
    """Where a rank load holds two copies of one sample (in two of its units), trade one of those
    units for the unit nearest in cost (ties: seeded) of another load, such that neither load then
    holds two copies. Returns the load of every unit."""
    pair_unit, pair_group = _copy_pairs(plan, unit_pack, real)
    o = np.lexsort((pair_unit, pair_group, load[pair_unit]))
    lu, gu, ll = pair_unit[o], pair_group[o], load[pair_unit[o]]
    same = (ll[1:] == ll[:-1]) & (gu[1:] == gu[:-1]) & (lu[1:] != lu[:-1])
    if not same.any():
        return load
    groups_of_unit: dict[int, set[int]] = {}
    for u, g in zip(pair_unit.tolist(), pair_group.tolist()):
        groups_of_unit.setdefault(u, set()).add(g)
    holders = _CopyHolders(load.copy(), groups_of_unit)
    order = np.lexsort((tie, cost))
    pos = np.empty(order.shape[0], np.int64)
    pos[order] = np.arange(order.shape[0])
    for u in lu[1:][same].tolist():
        if not holders.meets(int(holders.of[u]), u, u):
            continue
        near = [int(order[p]) for d in range(1, 257) for p in (pos[u] - d, pos[u] + d) if 0 <= p < order.shape[0]]
        for v in near:
            if holders.can_trade(u, v):
                holders.trade(u, v)
                break
    return holders.of


def _spread_copies_over_steps(plan: PackPlan, unit_pack: np.ndarray, real: np.ndarray, load: np.ndarray,
                              step_of_load: np.ndarray, X: np.ndarray, dp: int) -> tuple[np.ndarray, int]:
    """Move a load holding a copy of a sample out of a step that holds another copy: trade it with
    the most alike load (in X) of another step where neither then meets a copy of its own.
    Returns the steps of the loads and the (step, copy group) pairs still shared."""
    pair_unit, pair_group = _copy_pairs(plan, unit_pack, real)
    if not pair_unit.size:
        return step_of_load, 0
    pair_load = load[pair_unit]
    groups_of_load: dict[int, set[int]] = {}
    for lo, g in zip(pair_load.tolist(), pair_group.tolist()):
        groups_of_load.setdefault(lo, set()).add(g)
    holders = _CopyHolders(step_of_load.copy(), groups_of_load)
    step_of_load = holders.of

    def conflicts(key: np.ndarray = pair_load) -> list[tuple[int, int]]:
        """(load, step) of each copy in a step after another copy held by another load (``key``:
        pair_unit counts those of one load too)."""
        st = step_of_load[pair_load]
        o = np.lexsort((key, pair_group, st))
        same = (st[o][1:] == st[o][:-1]) & (pair_group[o][1:] == pair_group[o][:-1]) & (key[o][1:] != key[o][:-1])
        return [(int(a), int(b)) for a, b in zip(pair_load[o][1:][same].tolist(), st[o][1:][same].tolist())]

    scale = X.std(axis=0) + 1e-12
    for lo, s in conflicts():
        if step_of_load[lo] != s:
            continue
        d = (np.abs(X - X[lo]) / scale).sum(axis=1)
        for other in np.argsort(d, kind="stable")[:256].tolist():
            if holders.can_trade(lo, other):
                holders.trade(lo, other)
                break
    return step_of_load, len(conflicts(pair_unit))


def naive_steps(n_packs: int, dp: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The baseline the benchmark compares with: packs in plan order, S per step, dealt round-robin
    (pack i of a step to rank i mod dp). Returns (step, rank) per pack; the tail gets -1."""
    S = dp * k
    i = np.arange(n_packs)
    full = i < (n_packs // S) * S
    return np.where(full, i // S, -1), np.where(full, (i % S) % dp, -1)


def step_loads(step: np.ndarray, rank: np.ndarray, cost: np.ndarray, dp: int) -> np.ndarray:
    """(steps × dp): each rank's summed cost in each step. Rows with step < 0 are ignored."""
    ok = step >= 0
    n_steps = int(step[ok].max()) + 1 if ok.any() else 0
    loads = np.zeros((n_steps, dp))
    np.add.at(loads, (step[ok], rank[ok]), cost[ok])
    return loads


def step_balance(step: np.ndarray, rank: np.ndarray, cost: np.ndarray, dp: int) -> np.ndarray:
    """Per step: the largest per-rank cost over the mean per-rank cost (1.0 = perfect; steps
    with zero total cost count as 1.0). Rows with step < 0 are ignored."""
    loads = step_loads(step, rank, cost, dp)
    mean = loads.mean(axis=1)
    return np.where(mean > 0, loads.max(axis=1) / np.where(mean > 0, mean, 1.0), 1.0)
