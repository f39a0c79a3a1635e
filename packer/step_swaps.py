"""Swaps of rank loads between steps that lower the modelled step time while the steps keep the mix.

`packer.steps` deals the rank loads to steps in one pass (strata, offsets or units, ``balance:
mix``). With one pack per rank per step (k = 1) those deals leave the slowest rank well over the
mean: the heavy packs are long documents, and a deal that keeps every step a cross-section of the
mix puts each of them beside lighter packs. Descent from the chosen deal: visit the steps from the
slowest down; for a step's costliest and cheapest loads, try swapping each with loads of other steps
(a seeded sample of `SWAP_POOL` loads plus the `SWAP_HEAVY` costliest, so that heavy loads can
gather in steps of their own), and make the swap that lowers Σ f(r) over the two steps the most
(r: a step's max load over its mean load; f weighs the slow steps most) among those after which
the mix check of ``balance: mix`` still passes: every label's spread of shares across steps, in
samples and in tokens, within the limit (1.2x random dealing's, with a safety margin where the deal
was clear of it), and no more (step, label) shares beyond the i.i.d. tolerance than random dealing
has. A round visits every step over `SETTLED`; rounds repeat while a swap is made, up to
``mix_swap_rounds`` × dp/8 (at least ``mix_swap_rounds``), so the work per pack is the same at any
step size: about 30 µs of CPU per pack for the default 4 (a pass costs what a step's pool costs).

On bench_packing's bimodal mix at context 24576 (400,000 samples, k = 1) the units' deal goes
from 1.051 mean / 1.168 worst step to 1.019 / 1.082 at dp 8 (12 CPU-s for 33,656 packs) and from
1.184 / 1.200 to 1.100 / 1.176 at dp 64 (11 CPU-s); the heavy-step deal (`packer.heavy_steps`)
from 1.042 / 1.100 to 1.012 / 1.036 at dp 8 and, with at most dp/3 heavy packs a step, from
1.076 / 1.114 to 1.048 / 1.099 at dp 64. `packer.mix_balance_bound` bounds the worst
step of any deal of those packs that keeps the mix at 1.001 (dp 8) and 1.061 (dp 64): the swaps
end with the mix at the check's limits, not at those bounds. All choices are deterministic for a
seed.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

SWAP_POOL = 1024  # loads of other steps sampled as swap partners per visited step
SWAP_HEAVY = 256  # ... plus the costliest loads, always
SETTLED = 1.0005  # steps with max/mean at or under this are not visited
TOP_TRIED = 48  # swaps checked against the mix per load tried, best first


class MixLimits(NamedTuple):
    """The mix check the swaps keep (`packer.steps._mix_ok`), as limits on each label's variance of
    shares across steps and on the count of (step, label) shares beyond the tolerance."""

    var_s: np.ndarray  # per label: the most variance of the samples share across steps
    var_t: np.ndarray  # per label: tokens share
    over: float
    gs: np.ndarray  # the plan's shares, samples and tokens
    gt: np.ndarray
    tol_s: np.ndarray
    tol_t: np.ndarray


def _f(r: np.ndarray | float) -> np.ndarray | float:
    """What a step's max/mean r costs the descent: its excess, squared, so the slow steps count most."""
    e = np.asarray(r) - 1.0
    return e * e + 0.02 * e


class _Steps:
    """Steps of `per` loads: members, label sums, shares, the shares' running sums, over counts and
    cost (sum, the two largest) per step."""

    def __init__(self, step: np.ndarray, cost: np.ndarray, samples: np.ndarray, tokens: np.ndarray,
                 first: np.ndarray, lim: MixLimits, n_steps: int):
        self.cost, self.samples, self.tokens, self.first, self.lim = cost, samples, tokens, first, lim
        self.n = n_steps
        self.per = cost.shape[0] // n_steps
        self.step = step.astype(np.int64, copy=True)
        self.mem = np.argsort(self.step, kind="stable").reshape(n_steps, self.per).copy()
        self.Ls = np.zeros((n_steps, samples.shape[1]))
        self.Lt = np.zeros((n_steps, samples.shape[1]))
        np.add.at(self.Ls, self.step, samples)
        np.add.at(self.Lt, self.step, tokens)
        self.ss, self.st = self.shares(self.Ls, self.Lt)
        self.sum_s, self.sq_s = self.ss.sum(0), (self.ss**2).sum(0)
        self.sum_t, self.sq_t = self.st.sum(0), (self.st**2).sum(0)
        self.over_row = self.overs(self.ss, self.st)
        self.over = int(self.over_row.sum())
        c = cost[self.mem]
        c.sort(axis=1)
        self.csum = c.sum(1)
        self.top1 = c[:, -1].copy()
        self.top2 = c[:, -2].copy() if self.per > 1 else np.zeros(n_steps)
        self.topu = self.mem[np.arange(n_steps), np.argmax(cost[self.mem], axis=1)]
        self.r = self.top1 * self.per / np.maximum(self.csum, 1e-300)

    def shares(self, ls: np.ndarray, lt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ns = ls[..., self.first].sum(-1, keepdims=True)
        nt = lt[..., self.first].sum(-1, keepdims=True)
        return (np.divide(ls, ns, out=np.zeros_like(ls), where=ns > 0),
                np.divide(lt, nt, out=np.zeros_like(lt), where=nt > 0))

    def overs(self, ss: np.ndarray, st: np.ndarray) -> np.ndarray:
        lim = self.lim
        return (np.abs(ss - lim.gs) > lim.tol_s).sum(-1) + (np.abs(st - lim.gt) > lim.tol_t).sum(-1)

    def refresh(self, q: int) -> None:
        c = self.cost[self.mem[q]]
        o = np.argsort(-c, kind="stable")
        self.csum[q] = c.sum()
        self.top1[q] = c[o[0]]
        self.top2[q] = c[o[1]] if self.per > 1 else 0.0
        self.topu[q] = self.mem[q][o[0]]
        self.r[q] = self.top1[q] * self.per / max(self.csum[q], 1e-300)

    def best_swap(self, s: int, xs: np.ndarray, b: np.ndarray):
        """The best swap of one of the loads xs (in step s) with one of the loads b (in other steps)
        that keeps the mix, or None: (gain, x, b, new shares of s and of b's step)."""
        cost = self.cost
        t = self.step[b]
        cb, cx = cost[b][None, :], cost[xs][:, None]
        mt_wo = np.where(self.topu[t] == b, self.top2[t], self.top1[t])[None, :]
        ms_wo = np.where(self.topu[s] == xs, self.top2[s], self.top1[s])[:, None]
        rs = np.maximum(ms_wo, cb) * self.per / (self.csum[s] - cx + cb)
        rt = np.maximum(mt_wo, cx) * self.per / (self.csum[t][None, :] - cb + cx)
        d = (_f(rs) + _f(rt) - _f(self.r[t])[None, :] - _f(self.r[s])).ravel()
        nb = b.shape[0]
        d = np.where(d < -1e-12, d, np.inf)
        keep = min(TOP_TRIED, nb)
        rows = np.argpartition(d.reshape(-1, nb), keep - 1, axis=1)[:, :keep] if keep < nb else np.tile(np.arange(nb), (len(xs), 1))
        cand = (rows + (np.arange(len(xs)) * nb)[:, None]).ravel()
        cand = cand[np.isfinite(d[cand])]
        if not cand.size:
            return None
        cand = cand[np.lexsort((cand, d[cand]))]
        x, bs = xs[cand // nb], b[cand % nb]
        ts = self.step[bs]
        sx, tx = self.samples[x], self.tokens[x]
        sb, tb = self.samples[bs], self.tokens[bs]
        nss, nst = self.shares(self.Ls[s] - sx + sb, self.Lt[s] - tx + tb)
        tss, tst = self.shares(self.Ls[ts] - sb + sx, self.Lt[ts] - tb + tx)
        n = self.n
        var_s = (self.sq_s - self.ss[s] ** 2 - self.ss[ts] ** 2 + nss**2 + tss**2) / n - (
            (self.sum_s - self.ss[s] - self.ss[ts] + nss + tss) / n) ** 2
        var_t = (self.sq_t - self.st[s] ** 2 - self.st[ts] ** 2 + nst**2 + tst**2) / n - (
            (self.sum_t - self.st[s] - self.st[ts] + nst + tst) / n) ** 2
        ov = self.over - self.over_row[s] - self.over_row[ts] + self.overs(nss, nst) + self.overs(tss, tst)
        ok = (var_s <= self.lim.var_s).all(1) & (var_t <= self.lim.var_t).all(1) & (ov <= self.lim.over)
        if not ok.any():
            return None
        j = int(np.flatnonzero(ok)[0])
        return float(d[cand[j]]), int(x[j]), int(bs[j]), nss[j], nst[j], tss[j], tst[j]

    def apply(self, s: int, x: int, b: int, nss, nst, tss, tst) -> None:
        t = int(self.step[b])
        self.mem[s][self.mem[s] == x] = b
        self.mem[t][self.mem[t] == b] = x
        self.step[x], self.step[b] = t, s
        dS, dT = self.samples[b] - self.samples[x], self.tokens[b] - self.tokens[x]
        self.Ls[s] += dS
        self.Lt[s] += dT
        self.Ls[t] -= dS
        self.Lt[t] -= dT
        self.sum_s += nss + tss - self.ss[s] - self.ss[t]
        self.sq_s += nss**2 + tss**2 - self.ss[s] ** 2 - self.ss[t] ** 2
        self.sum_t += nst + tst - self.st[s] - self.st[t]
        self.sq_t += nst**2 + tst**2 - self.st[s] ** 2 - self.st[t] ** 2
        self.ss[s], self.st[s], self.ss[t], self.st[t] = nss, nst, tss, tst
        for q in (s, t):
            self.over_row[q] = self.overs(self.ss[q], self.st[q])
            self.refresh(q)
        self.over = int(self.over_row.sum())


def swap_descent(step: np.ndarray, cost: np.ndarray, samples: np.ndarray, tokens: np.ndarray, kind: np.ndarray,
                 lim: MixLimits, n_steps: int, rounds: int, seed: int) -> tuple[np.ndarray, int]:
    """Swaps of loads between steps (module docstring). ``step``: the step of each load (every step
    as many loads), ``cost`` its cost, ``samples``/``tokens`` its label sums (per load × label).
    Returns (the new step of each load, the swaps made)."""
    U = cost.shape[0]
    if n_steps < 2 or rounds <= 0 or U < 2 * n_steps:
        return step, 0
    first = kind == (kind.min() if kind.size else 0)
    st = _Steps(step, cost.astype(np.float64), samples, tokens, first, lim, n_steps)
    rng = np.random.default_rng(seed ^ 0x5A4B)
    heavy = np.lexsort((np.arange(U), -cost))[: min(SWAP_HEAVY, U)]
    made = 0
    for _ in range(rounds * max(1, st.per // 8)):  # the same work per load at any step size
        moved = 0
        for s in np.lexsort((np.arange(n_steps), -st.r)).tolist():
            if st.r[s] <= SETTLED:
                break
            pool = np.concatenate((rng.integers(0, U, min(SWAP_POOL, U)), heavy))
            pool = pool[st.step[pool] != s]  # a load drawn twice is only tried twice
            members = st.mem[s][np.argsort(cost[st.mem[s]], kind="stable")]
            tried = np.unique(np.concatenate((members[:2], members[-2:])))
            got = st.best_swap(s, tried, pool)
            if got is None:
                continue
            st.apply(s, *got[1:])
            moved += 1
        made += moved
        if not moved:
            break
    return st.step, made
