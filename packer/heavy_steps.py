"""Heavy steps: a deal of rank loads to steps for ``balance: mix`` at one pack per rank per step.

At k = 1 a rank's load is one pack, and the costliest packs are long documents (attention grows
with the square of a sample's length): a full-context document costs about 1.2× the mean pack on
bench_packing's bimodal mix. A step that holds one beside typical packs is 1.15-1.2× its mean on
that rank, and every pack that could keep it company within 1.05 is a document too. Dealt one per
step, the documents cannot be balanced without wrecking the mix; gathered a few per step, they can:

1. Heavy loads: those over ``heavy_cost`` × the mean load, costliest first (ties: the seeded key).
   `packer.steps` tries `HEAVY_COSTS` from the least and keeps the first deal that passes the mix
   check: the fewer heavy loads gather, the less they move the mix, and the more are left to the
   swaps.
2. Each heavy step takes heavy loads in that order until its max/mean with the rest of the step at
   the median load would be within `HEAVY_STEP_RATIO` (at most dp of them). Its other places go to
   light loads at least as costly as that needs (or, where too few are, the costliest light ones),
   one at a time, each the one that brings the step's summed `mix_offsets` nearest zero, so that
   the step's shares stay near the plan's: a heavy step of six documents and two image packs
   is within the i.i.d. tolerance of every label.
3. The remaining loads fill the remaining steps by their offsets alone (`step_mix.offset_deal`), so
   that their shares sum to the plan's; the swap descent (`packer.step_swaps`) then balances cost
   within the mix check.
4. Where no such deal passes the check, a hot step takes at most dp // d heavy loads (those over
   `CAPPED_HEAVY_COST` × the mean; d in `HEAVY_SHARES`, from the fewest hot steps up) and its other
   places go to the light loads that bring its offsets nearest zero, whatever their cost: the first
   deal that passes is kept, and the swaps gather cost from there.

`packer.steps` keeps this deal where it passes the mix check and, after the swaps, has the lower
modelled step time than the usual deal. On the bimodal mix at dp 8 (33,656 packs) it reaches
1.012 mean / 1.036 worst step (the usual deal: 1.019 / 1.082). At dp 64 a step of 64 packs is too
wide a cross-section: 738 documents of the full context gathered in 12-27 steps move the document
share far beyond what random dealing does (and their steps' share of document samples, one per
pack, far below it). At most 21 heavy packs a step (4.: dp // 3; 32 do not pass) with companions
chosen by the mix alone pass, and after the swaps give 1.048 / 1.099 (the units' deal: 1.100 /
1.176); `packer.mix_balance_bound` certifies that no deal of those packs within the spread target
has its worst step under 1.061.
"""

from __future__ import annotations

import numpy as np

from packer.step_mix import offset_deal

# a load over this × the mean load is heavy: the first of these whose deal passes the mix check
HEAVY_COSTS = (1.10, 1.12, 1.15, 1.18)
HEAVY_STEP_RATIO = 1.05  # a heavy step gathers heavy loads until its max/mean can be within this
COMPANION_POOL = 50  # where too few light loads are costly enough: the costliest, this × the places open
# where none of those passes: a hot step takes at most dp // d heavy loads (over this × the mean load),
# d from the fewest hot steps up; the first deal that passes the check is kept (4.)
CAPPED_HEAVY_COST = 1.08
HEAVY_SHARES = (2, 3, 4, 6, 8)


def heavy_step_deal(cost: np.ndarray, offsets: np.ndarray, n_steps: int, dp: int, tie: np.ndarray,
                    heavy_cost: float, most: int | None = None) -> np.ndarray | None:
    """The step of each load (n_steps × dp of them; ``cost`` and ``offsets`` per load), or None
    where there is no heavy load or the heavy loads need more than the steps there are. With
    ``most``, a heavy step takes that many heavy loads (the last one what is left) and its other
    places go to the light loads that bring its offsets nearest zero, whatever their cost (4.)."""
    N = cost.shape[0]
    if n_steps < 2 or dp < 2 or n_steps * dp != N:
        return None
    mean = float(cost.mean())
    order = np.lexsort((tie, -cost))
    heavy = order[cost[order] > heavy_cost * mean]
    if not heavy.size:
        return None
    median = float(np.median(cost))
    is_heavy = np.zeros(N, bool)
    is_heavy[heavy] = True
    light = np.flatnonzero(~is_heavy)
    used = is_heavy.copy()
    step = np.full(N, -1, np.int64)
    n_hot = hp = 0
    while hp < heavy.size:
        if n_hot == n_steps:
            return None
        group = []
        while hp < heavy.size:
            group.append(int(heavy[hp]))
            hp += 1
            c = cost[group]
            if most is not None:
                if len(group) >= min(most, dp):
                    break
            elif len(group) == dp or c.max() * dp <= HEAVY_STEP_RATIO * (c.sum() + (dp - len(group)) * median):
                break
        need = dp - len(group)
        if need:
            run = offsets[group].sum(axis=0)
            free = light[~used[light]]
            if free.size < need:
                return None
            floor = 0.0 if most is not None else max(
                0.0, (float(c.max()) * dp / HEAVY_STEP_RATIO - float(c.sum())) / need)
            pool = free[cost[free] >= floor * (1 - 1e-9)]
            if pool.size < need:
                pool = free[np.lexsort((tie[free], -cost[free]))[: need * COMPANION_POOL]]
            po = offsets[pool]
            norm2 = np.einsum("ij,ij->i", po, po)  # |run + o|² - |run|² = 2 run·o + |o|²; inf once taken
            for _ in range(need):
                j = int(np.argmin(po @ (2 * run) + norm2))
                norm2[j] = np.inf
                group.append(int(pool[j]))
                run = run + offsets[pool[j]]
        used[group] = True
        step[group] = n_hot
        n_hot += 1
    rest = np.flatnonzero(step < 0)
    if rest.size:
        step[rest] = n_hot + offset_deal(offsets[rest], n_steps - n_hot, dp, tie[rest])
    return step
