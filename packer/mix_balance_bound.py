"""How balanced can steps be while they keep the mix? A certified lower bound on the worst and the
mean step max/mean (`packer.steps.step_balance`: a rank's load is the sum of its packs' costs) for
ANY deal of a given set of packs to n steps of dp ranks × k packs that passes the spread rule of
``balance: mix``: for every label g, the standard deviation over steps of the step's token share
of g at most ``spread_limit[g]`` (`packer.steps` `_mix_ok`: 1.2× that of random dealing). The rule
on shares beyond the i.i.d. tolerance is left out, so the bound holds for every deal passing the
whole check (dropping a constraint can only lower a minimum).

The argument. Fix a set H of the h costliest packs, θ = the least cost in H, and call *hot* the m
steps that hold a pack of H (``ceil(h / (dp k)) <= m <= min(h, n)``); U, their m·dp·k packs,
holds H. For a deal whose every step has max/mean <= r:

1. A step's slowest rank holds its costliest pack M_s and k - 1 more, each at least the step's
   least cost m_s: its load is >= M_s + (k - 1) m_s =: L_s, so the step's cost is >= dp L_s / r.
   The j-th largest M_s over the hot steps is >= max(θ, c_((j-1)dpk+1)) (the (j-1)dpk + 1
   costliest packs fill at least j steps), and the j-th least m_s is >= the j-th least cost
   (distinct packs), so Σ_U c >= C_need(m, r) = (dp / r) Σ_{j<=m} L_j with those.
2. Per label g and sign σ = ±1, with X the label's token share over all packs and
   v_i = σ (d_i - X T_i) (d_i the pack's label tokens, T_i its tokens), the hot steps' excess
   E = Σ_U v is, by weak duality, for every λ >= 0 at least
   Σ_H (v - λ c) + (the m dpk - h least v - λ c of the other packs) + λ C_need(m, r).
3. The steps' shares x_s = D_s / T_s satisfy Σ_s T_s σ(x_s - X) = 0: the hot steps carry E, the
   others -E. With step tokens in [T_lo, T_hi] (the dp·k fewest / most tokens of any packs), by
   Cauchy-Schwarz on each side, the variance over steps (min over the centre μ of the mean
   squared distance) is >= (E / T_hi)² φ(m) / n, φ the exact minimum over μ of a piecewise
   quadratic (`_phi`). A spread above ``spread_limit`` fails the rule: no deal with every step
   at max/mean <= r passes if, for some (H, g, σ), every m in range needs more cost than its
   m·dp·k costliest packs hold or has E's lower bound above E_max(m) = T_hi · limit · sqrt(n / φ).
   The worst-step bound is the least such r not excluded (bisection; r is excluded monotonically).
4. The mean: a hot step's max/mean is >= dp L_s / C_s (here with m_s >= the least cost of all),
   and Σ_A L_s / C_s >= (Σ_A sqrt L_s)² / Σ_U c;
   every other step is >= 1. Σ_U c is at most, for every λ >= 0, Σ_H (c - λ v) + (the m dpk - h
   largest c - λ v of the others) + λ E_max(m) (the most cost U can hold with an excess the rule
   allows). The mean bound is the least over m of ((n - m) + max(m, dp (Σ_j sqrt L_j)² / C_max)) / n.

Both are also at least what cost alone forces (the step holding the costliest pack). The bound is
for the given packs: another packing of the same samples may lower it where it can make costly
packs without the label (e.g. a pack of many large images), but not a pack's irreducible cost —
a document of L tokens costs at least ``llm_token_cost · seq_len + llm_attention_cost · L²`` in
any pack (the linear term is on the padded length).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

LAMBDAS = np.concatenate(([0.0], np.geomspace(1e-4, 1e4, 41)))  # multipliers of step 2 and 4, scaled
HOT_SETS = 20  # sizes h of the costliest sets tried (geometric from 1 to n_packs / 2)
SAFETY = 1e-9  # relative margin: a spread exceeds its limit only by more; the bounds are rounded down by it


@dataclass(frozen=True)
class MixBalanceBound:
    worst: float  # no deal passing the spread rule has its worst step max/mean below this
    mean: float  # ... nor its mean step max/mean
    cost_only_worst: float  # what cost alone forces on the worst step (the costliest pack's step)


def _phi(m: int, n: int, rho: float) -> float:
    """min over μ of n × (the variance bound at E / T_hi = 1): the m hot steps' part
    Σ_A (y - μ)² >= (1 - m μ)₊² / m (μ >= 0) or (1 - m ρ μ)² / m (μ < 0), the others'
    (1 + (n - m) ρ μ)² / (n - m) (μ >= 0) or (1 + (n - m) μ)₊² / (n - m) (μ < 0). Both halves are
    convex piecewise quadratics: the minimum is at a break point or at a stationary point of a
    piece, all of which are tried."""
    if m >= n or m <= 0:
        return 0.0
    b = n - m

    def f(mu: float) -> float:
        if mu >= 0:
            return max(1 - m * mu, 0.0) ** 2 / m + (1 + b * rho * mu) ** 2 / b
        return (1 - m * rho * mu) ** 2 / m + max(1 + b * mu, 0.0) ** 2 / b

    cands = (0.0, 1.0 / m, (1 - rho) / (m + b * rho * rho), -1.0 / b, (rho - 1) / (m * rho * rho + b), -1e-300)
    return min(f(mu) for mu in cands)


def _smallest_prefix(w: np.ndarray, upto: int) -> np.ndarray:
    """Sums of the j smallest values of w, j = 0..upto."""
    part = np.sort(w)[:upto]
    return np.concatenate(([0.0], np.cumsum(part)))


def mix_balance_bound(cost: np.ndarray, tokens: np.ndarray, label_tokens: np.ndarray, spread_limit: np.ndarray,
                      dp: int, k: int, n_steps: int, *, tolerance: np.ndarray | None = None,
                      global_share: np.ndarray | None = None, over_limit: float | None = None) -> MixBalanceBound:
    """Lower bounds on the worst and mean step max/mean (module docstring) for the packs given
    (cost, tokens, per label tokens: packs × labels), all of them dealt to n_steps steps of dp
    ranks × k packs, under a spread limit per label (std of the token share over steps) and, where
    given, at most ``over_limit`` (step, label) token shares further than ``tolerance`` from
    ``global_share`` (per label; the worst-step bound only)."""
    c = np.asarray(cost, np.float64)
    T = np.asarray(tokens, np.float64)
    D = np.asarray(label_tokens, np.float64)
    N, S, n = c.shape[0], dp * k, n_steps
    if N != S * n or N == 0:
        raise ValueError(f"{N} packs are not {n_steps} steps of {dp} x {k}")
    order = np.lexsort((np.arange(N), -c))
    cs = c[order]
    c_min = float(cs[-1])
    top_cost = np.concatenate(([0.0], np.cumsum(cs)))
    # cost alone: the step of the costliest pack holds at most the S costliest packs
    cost_only = dp * (cs[0] + (k - 1) * c_min) / top_cost[S] if top_cost[S] > 0 else 1.0
    ts = np.sort(T)
    t_lo, t_hi = float(ts[:S].sum()), float(ts[N - S:].sum())
    if n < 2 or t_lo <= 0 or D.ndim != 2 or not D.shape[1]:
        only = max(1.0, float(cost_only) * (1 - SAFETY))
        return MixBalanceBound(only, 1.0, only)
    rho = t_lo / t_hi
    X = D.sum(axis=0) / T.sum()
    V = D - X[None, :] * T[:, None]  # excess label tokens per pack
    scale = float(np.abs(V).max()) / max(float(c.max()), 1e-300) or 1.0
    lams = LAMBDAS * scale
    counted = over_limit is not None and tolerance is not None and global_share is not None
    if counted:  # |x - share| > tol  <=  σ (x - X) > tol + |X - share|
        tol = np.asarray(tolerance, np.float64) + np.abs(X - np.asarray(global_share, np.float64))

    worst, mean = max(cost_only, 1.0), 1.0
    hs = np.unique(np.geomspace(1, max(N // 2, 1), HOT_SETS).astype(np.int64))
    for h in hs.tolist():
        theta = float(cs[h - 1])
        ms = np.arange(-(-h // S), min(h, n) + 1)
        if not ms.size:
            continue
        j = np.arange(1, ms[-1] + 1)
        top = np.maximum(theta, cs[np.minimum((j - 1) * S, N - 1)])
        # the worst step: the j-th least step minimum is >= the j-th least cost (distinct packs)
        c0 = dp * np.cumsum(top + (k - 1) * cs[::-1][j - 1])[ms - 1]  # C_need = c0 / r
        sqrt_l = np.cumsum(np.sqrt(top + (k - 1) * c_min))[ms - 1]  # the mean: with the least cost
        cap = top_cost[ms * S]  # the most cost m steps can hold
        phi = np.array([_phi(int(m), n, rho) for m in ms])
        in_h = order[:h]
        rest = np.ones(N, bool)
        rest[in_h] = False
        extra = ms * S - h
        rules = []  # per label and sign: (label, y_max, E >= base[λ, m] + λ c0[m] / r, E_max[m])
        for g in range(D.shape[1]):
            lim = float(spread_limit[g]) * (1 + SAFETY) + 1e-15
            e_max = np.where(phi > 0, t_hi * lim * np.sqrt(n / np.where(phi > 0, phi, 1.0)), np.inf)
            for sign in (1.0, -1.0):
                v = sign * V[:, g]
                base = np.empty((lams.shape[0], ms.shape[0]))
                cmax = np.empty((lams.shape[0], ms.shape[0]))
                for li, lam in enumerate(lams.tolist()):
                    w = v - lam * c
                    base[li] = w[in_h].sum() + _smallest_prefix(w[rest], int(extra[-1]))[extra]
                    u = -(c - lam * v)  # largest c - λ v = minus the smallest of its negation
                    cmax[li] = (c[in_h] - lam * v[in_h]).sum() - _smallest_prefix(u[rest], int(extra[-1]))[extra]
                    cmax[li] += lam * e_max if lam > 0 else 0.0
                rules.append((g, float(1 - X[g] if sign > 0 else X[g]), base, e_max))
                c_up = np.minimum(cmax.min(axis=0), cap)
                hot = np.maximum(ms, np.where(c_up > 0, dp * sqrt_l**2 / np.where(c_up > 0, c_up, 1.0), np.inf))
                mean = max(mean, float(((n - ms) + hot).min()) / n)

        def excluded(r: float) -> bool:
            out = c0 / r > cap * (1 + SAFETY)  # more cost than m steps can hold
            beyond = np.zeros((D.shape[1], ms.shape[0]))
            for g, y_max, base, e_max in rules:
                e_lo = (base + lams[:, None] * c0[None, :] / r).max(axis=0)
                out |= e_lo > e_max  # the spread rule
                if counted and y_max > tol[g]:
                    # hot steps whose share is beyond the tolerance: E <= T_hi (K y_max + (m - K) tol)
                    need = (e_lo / t_hi - ms * tol[g]) / (y_max - tol[g])
                    beyond[g] = np.maximum(beyond[g], np.ceil(np.maximum(need, 0.0) - 1e-9))
            if counted:
                out |= beyond.sum(axis=0) > over_limit * (1 + SAFETY)
            return bool(out.all())

        lo, hi = worst, max(worst, float(cs[0] * dp) / max(c_min, 1e-300) + 1.0)
        if excluded(lo) and not excluded(hi):  # (excluded at hi: no deal passes at all)
            for _ in range(60):
                mid = 0.5 * (lo + hi)
                lo, hi = (mid, hi) if excluded(mid) else (lo, mid)
            worst = max(worst, lo)
    # rounded down by SAFETY (the sums above are in floating point)
    return MixBalanceBound(*(max(1.0, float(x) * (1 - SAFETY)) for x in (worst, mean, cost_only)))
