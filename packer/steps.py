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
2. **Steps**, by ``balance``:

   - ``cost``: the packs are grouped into ``n_steps · dp`` rank loads of k packs with near-equal
     total cost by differencing (the heaviest k-th of the packs start the loads; each further k-th,
     lightest pack first, goes to the loads from the heaviest down: at k = 2, heavy with light);
     loads alike in cost (in (ViT, LLM) with a separate ViT phase) share a step: a k-d split into
     cells of dp loads, each cell a step (`kd_cells`).
   - ``mix``: packs are classed by their dominant label (of each kind, by tokens). Cells of W
     steps' worth of packs alike in cost are dealt to their W steps by class, then cost, back and
     forth, so each step holds every class in proportion to its cell; W is the smallest power of
     two for which every label's spread of shares across steps (samples and tokens) stays within
     1.1× that of dealing the packs to steps at random, and no more step shares fall beyond the
     i.i.d. tolerance (`packer.step_mix`) than there. Where cost and mix go together, W reaches
     all steps: every step is a cross-section of the plan, and its ranks balance what they can.

   Then a step holding copies of one sample in two packs trades one of them for the most alike
   load of another step, and the steps are put in a seeded order.
3. **Ranks.** ``cost``: each load goes to one rank; ``mix``: LPT with k packs per rank. Then packs
   are swapped between ranks while that lowers the step time (ties: the sum of squared deviations
   of the ranks' ViT and LLM loads from their means).

"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from packer import step_mix
from packer.pack_moves import pick_by_composition
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
    mix_cell_steps: int = 1  # balance "mix": steps per cell of alike packs (W); 1 for "cost"
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

    # cost: rank loads of k units, alike loads share a step; mix: units dealt over all steps by
    # their dominant label, ranks found within each step
    mix = _unit_mix(plan, groups, unit_pack, real, src) if cfg.balance == "mix" and n_steps > 1 else None
    cell_steps = 1
    if mix is None:
        load = rank_loads(cost, k, tie) if N else np.zeros(0, np.int64)
        U = N // k
        LV = np.bincount(load, weights=vit, minlength=U)
        LL = np.bincount(load, weights=llm, minlength=U)
        X = np.stack((LV, LL), axis=1) if separate else (LV + LL)[:, None]
        ltie = seeded_hash(seed ^ 0x10AD, np.arange(U))
        if U:
            cell, slots = kd_cells(X, dp, 1, ltie)
            step_of_load = _cells_to_steps(cell, slots, ltie.astype(np.float64))
        else:
            step_of_load = np.zeros(0, np.int64)
    else:
        load = np.arange(N, dtype=np.int64)  # a unit per "load": ranks are dealt within the step
        X = np.stack((vit, llm), axis=1) if separate else (vit + llm)[:, None]
        step_of_load, cell_steps = _mix_steps(X, mix, n_steps, S, tie, cfg.mix_tolerance, seed)
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
        if mix is None:
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
        mix_cell_steps=cell_steps,
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


def _mix_ok(step: np.ndarray, mix: _UnitMix, n_steps: int, base: _MixBase) -> bool:
    """Whether every label's spread of shares across steps (samples and tokens) is within 1.1x that
    of random dealing, and no more (step, label) shares are beyond the tolerance than there."""
    ss, st, _ = step_mix.step_shares(step, mix.samples, mix.tokens, mix.kind, n_steps)
    over = float((np.abs(ss - base.gs) > base.tol_s).sum() + (np.abs(st - base.gt) > base.tol_t).sum())
    return bool((step_mix.spread(ss) <= 1.1 * base.spread_s + 1e-12).all()
                and (step_mix.spread(st) <= 1.1 * base.spread_t + 1e-12).all() and over <= base.over)


def _mix_steps(X: np.ndarray, mix: _UnitMix, n_steps: int, S: int, tie: np.ndarray, z: float,
               seed: int) -> tuple[np.ndarray, int]:
    """Steps of the units for ``balance: mix`` (module docstring, 3.). Units are classed by their
    dominant label (of each kind, by tokens). Cells of W steps' worth of units alike in cost are
    dealt to their W steps by class, then cost, back and forth, one per step per lap: every step
    holds each class in proportion to its cell (to within one pack). W is the smallest power of
    two for which every label's spread across steps is within 1.1x, and the number of shares
    beyond the tolerance no more than, those of random dealing (`_mix_ok`); at most all steps,
    when every step is a cross-section of the whole plan. Returns (step per unit, W)."""
    U = X.shape[0]
    cls = np.zeros(U, np.int64)
    for kd in np.unique(mix.kind).tolist():
        cols = np.flatnonzero(mix.kind == kd)
        cls = cls * (cols.shape[0] + 1) + mix.tokens[:, cols].argmax(axis=1)
    rank_key = np.empty(U, np.float64)
    rank_key[np.lexsort((tie, X.sum(axis=1), cls))] = np.arange(U)
    base = _mix_base(mix, n_steps, S, z, seed)
    W = 1
    while True:
        cell, slots = kd_cells(X, S, W, tie)
        step = _cells_to_steps(cell, slots, rank_key)
        if n_steps <= W or _mix_ok(step, mix, n_steps, base):
            return step, W
        W *= 2


def _spread_copies_over_steps(plan: PackPlan, unit_pack: np.ndarray, real: np.ndarray, load: np.ndarray,
                              step_of_load: np.ndarray, X: np.ndarray, dp: int) -> tuple[np.ndarray, int]:
    """Move a load holding a copy of a sample out of a step that holds another copy: trade it with
    the most alike load (in X) of another step where neither then meets a copy of its own.
    Returns the steps of the loads and the (step, copy group) pairs still shared."""
    grp = plan.copy_group
    ok = (plan.pack_of >= 0) & (grp >= 0)
    if not ok.any():
        return step_of_load, 0
    # (plan pack, group) pairs of the samples that have copies
    sizes = np.bincount(grp[ok])
    multi = ok & (sizes[np.where(ok, grp, 0)] > 1)
    unit_of_pack = np.full(plan.n_packs, -1, np.int64)
    unit_of_pack[unit_pack[real]] = np.flatnonzero(real)
    pu = unit_of_pack[plan.pack_of[multi]]
    keep = pu >= 0
    pair_load = load[pu[keep]]
    pair_group = grp[multi][keep]
    groups_of_load: dict[int, set[int]] = {}
    for lo, g in zip(pair_load.tolist(), pair_group.tolist()):
        groups_of_load.setdefault(lo, set()).add(g)
    step_of_load = step_of_load.copy()

    def conflicts() -> list[tuple[int, int]]:
        st = step_of_load[pair_load]
        o = np.lexsort((pair_load, pair_group, st))
        same = (st[o][1:] == st[o][:-1]) & (pair_group[o][1:] == pair_group[o][:-1]) & (
            pair_load[o][1:] != pair_load[o][:-1])
        return [(int(a), int(b)) for a, b in zip(pair_load[o][1:][same].tolist(), st[o][1:][same].tolist())]

    def step_groups(s: int, without: int) -> set[int]:
        out: set[int] = set()
        for lo in members[s]:
            if lo != without:
                out |= groups_of_load.get(lo, set())
        return out

    members: dict[int, list[int]] = {}
    for lo, s in enumerate(step_of_load.tolist()):
        members.setdefault(s, []).append(lo)
    scale = X.std(axis=0) + 1e-12
    for lo, s in conflicts():
        if step_of_load[lo] != s:
            continue
        mine = groups_of_load.get(lo, set())
        d = (np.abs(X - X[lo]) / scale).sum(axis=1)
        for other in np.argsort(d, kind="stable")[:256].tolist():
            t = int(step_of_load[other])
            if t == s:
                continue
            theirs = groups_of_load.get(other, set())
            if mine & step_groups(t, other) or theirs & step_groups(s, lo):
                continue
            step_of_load[lo], step_of_load[other] = t, s
            members[s].remove(lo)
            members[t].remove(other)
            members[s].append(other)
            members[t].append(lo)
            break
    return step_of_load, len(conflicts())


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
