"""How balanced can steps be while they keep the mix? A certified lower bound on the worst and the
mean step max/mean (`packer.steps.step_balance`: a rank's load is the sum of its packs' costs) for
ANY deal of a given set of packs to n steps of dp ranks × k packs that passes the mix check of
``balance: mix`` (`packer.steps` `_mix_ok`), as `MixRule` states it: per label g, the standard
deviation over steps of the step's token share of g at most ``spread_limit[g]`` (1.2× that of
random dealing), and at most ``over_limit`` (step, label) shares, in samples and tokens, further
than the tolerance from the label's share of the plan. The spread of sample shares is left out,
and the mean bound uses the spread rule only: a bound that drops constraints stays a lower bound.

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
3. Spread: the steps' shares x_s = D_s / T_s satisfy Σ_s T_s σ(x_s - X) = 0: the hot steps carry
   E, the others -E. With step tokens in [T_lo, T_hi] (the dp·k fewest / most tokens of any
   packs), by Cauchy-Schwarz on each side, the variance over steps (min over the centre μ of the
   mean squared distance) is >= (E / T_hi)² φ(m) / n, φ the exact minimum over μ of a piecewise
   quadratic (`_phi`): the rule fails where E's lower bound is above E_max(m) = T_hi · limit ·
   sqrt(n / φ).
4. Shares beyond the tolerance, two ways. (a) In tokens, over all hot steps: a hot step within
   it carries at most T_hi · tol' of E, one beyond it at most T_hi · y_max (tol' the tolerance
   widened by |X - the plan's share|, y_max the farthest a share can be from X), so at least
   (E / T_hi - m tol') / (y_max - tol') hot steps are beyond it. (b) In one step, tokens or
   samples: a hot step is within the tolerance of label g iff Σ w⁺ <= 0 and Σ w⁻ <= 0 over its
   packs (w± = ±(d - X T) - tol± T, tol± the tolerance on each side moved by X - the plan's
   share), and costs >= C_req = dp (θ + (k - 1) c_min) / r; if for some μ in [0, 1], λ >= 0 the
   least Σ (μ w⁺ + (1 - μ) w⁻ - λ c) over one pack of H and dp·k - 1 others, plus λ C_req, is
   > 0, no hot step is within it: all m are beyond. The labels' counts add up; above
   ``over_limit`` the check fails.
5. No deal with every step at max/mean <= r passes if, for some H, every m in range needs more
   cost than the m·dp·k costliest packs hold or fails 3 or 4. The worst-step bound is the least r
   not so excluded (bisection: every condition weakens as r grows).
6. The mean: a hot step's max/mean is >= dp L_s / C_s (here with m_s >= the least cost of all),
   and Σ_A L_s / C_s >= (Σ_A sqrt L_s)² / Σ_U c; every other step is >= 1. Σ_U c is at most,
   for every λ >= 0, Σ_H (c - λ v) + (the m dpk - h largest c - λ v of the others) + λ E_max(m)
   (the most cost U can hold with an excess the spread rule allows). The mean bound is the least
   of ((n - m) + max(m, dp (Σ_j sqrt L_j)² / C_max)) / n (C_max the least of the labels' and
   signs') over the m that the spread rule allows at all: those where no label's excess at λ = 0
   (Σ_H v + the m dpk - h least v of the others) is above E_max(m). Where the costliest packs are
   mostly of one label, they cannot gather in a few steps, and the many steps that hold one are
   slow.

Both are also at least what cost alone forces (the step holding the costliest pack). The bound is
for the given packs: another packing of the same samples may lower it where it can make costly
packs without the label (e.g. a pack of many large images), but not a pack's irreducible cost —
a document of L tokens costs at least ``llm_token_cost · seq_len + llm_attention_cost · L²`` in
any pack (the linear term is on the padded length).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from packer.packing import PackPlan
from packer.steps import MIX_MARGIN, _mix_base, _MixBase, _unit_mix, _units
from schemas.pack_config import PackConfig

LAMBDAS = np.concatenate(([0.0], np.geomspace(1e-4, 1e4, 41)))  # multipliers of 2, 4(b) and 6, scaled
MUS = np.linspace(0.0, 1.0, 5)  # weights of the two sides of the tolerance in 4(b)
HOT_SETS = 20  # sizes h of the costliest sets tried (geometric from 1 to n_packs / 2)
SAFETY = 1e-9  # relative margin: a limit is exceeded only by more; the bounds are rounded down by it


@dataclass(frozen=True)
class MixBalanceBound:
    worst: float  # no deal passing the mix check has its worst step max/mean below this
    mean: float  # ... nor its mean step max/mean (the spread rule alone)
    cost_only_worst: float  # what cost alone forces on the worst step (the costliest pack's step)


@dataclass(frozen=True)
class MixRule:
    """The mix check as `packer.steps` states it (`steps.step_mix_limits`): per label (columns of
    every kind, kind by kind) the spread limit of its token share; and, optionally, the (step,
    label) shares beyond the tolerance that pass, with the tolerance and the plan's shares."""

    spread_limit: np.ndarray
    over_limit: float | None = None
    tolerance_tokens: np.ndarray | None = None
    tolerance_samples: np.ndarray | None = None
    share_tokens: np.ndarray | None = None
    share_samples: np.ndarray | None = None


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


def _one_step(D: np.ndarray, T: np.ndarray, c: np.ndarray, order: np.ndarray, hs: np.ndarray, S: int,
              tol: np.ndarray | None, share: np.ndarray | None) -> tuple[np.ndarray, np.ndarray] | None:
    """4(b) before r is chosen: per h in hs, label, μ and λ, the least Σ (μ w⁺ + (1 - μ) w⁻ - λ c)
    over S - 1 packs plus one of the h costliest (a running minimum in cost order). Returns (that,
    h × label × μ × λ; the λs) or None."""
    if tol is None or share is None or T.sum() <= 0:
        return None
    X = D.sum(axis=0) / T.sum()
    ex = D - X[None, :] * T[:, None]
    w_plus = ex - (tol + share - X)[None, :] * T[:, None]  # > 0 summed: beyond on the high side
    w_minus = -ex - (tol - share + X)[None, :] * T[:, None]
    lams = LAMBDAS * (max(float(np.abs(w_plus).max()), float(np.abs(w_minus).max())) / max(float(c.max()), 1e-300) or 1.0)
    G = D.shape[1]
    rest = np.empty((G, MUS.shape[0], lams.shape[0]))
    head = np.empty((hs.shape[0], G, MUS.shape[0], lams.shape[0]))
    for g in range(G):
        for mi, mu in enumerate(MUS.tolist()):
            M = (mu * w_plus[:, g] + (1 - mu) * w_minus[:, g])[None, :] - lams[:, None] * c[None, :]
            rest[g, mi] = np.partition(M, S - 2, axis=1)[:, : S - 1].sum(axis=1) if S > 1 else 0.0
            head[:, g, mi] = np.minimum.accumulate(M[:, order].T, axis=0)[hs - 1]
    return head + rest[None], lams


class _Hot(NamedTuple):
    """What 1-4 give for one set H of the costliest packs, per m (hot steps) in ``ms``."""

    c0: np.ndarray  # C_need(m, r) = c0 / r
    cap: np.ndarray  # the most cost m steps can hold
    ms: np.ndarray
    rules: list  # per label and sign: (label, y_max, E >= base[λ, m] + λ c0[m] / r, E_max[m])
    c_req: float  # one hot step's cost at least, times r
    one_step: list  # 4(b): (in tokens?, least sum per label × μ × λ, the λs)


def _excluded(r: float, hot: _Hot, lams: np.ndarray, t_hi: float, tol: np.ndarray | None, over_limit: float | None,
              n_labels: int) -> bool:
    """Whether no deal with every step at max/mean <= r passes the rule (module docstring, 5.)."""
    ms = hot.ms
    out = hot.c0 / r > hot.cap * (1 + SAFETY)  # more cost than m steps can hold
    beyond = np.zeros((n_labels, ms.shape[0]))
    for g, y_max, base, e_max in hot.rules:
        e_lo = (base + lams[:, None] * hot.c0[None, :] / r).max(axis=0)
        out |= e_lo > e_max  # 3: the spread rule
        if tol is not None and y_max > tol[g]:  # 4(a)
            need = (e_lo / t_hi - ms * tol[g]) / (y_max - tol[g])
            beyond[g] = np.maximum(beyond[g], np.ceil(np.maximum(need, 0.0) - 1e-9))
    if over_limit is not None:
        for in_tokens, least, lam1 in hot.one_step:  # 4(b)
            scale = lam1[None, None, :] * hot.c_req / r
            every = (least + scale > SAFETY * (np.abs(least) + scale)).any(axis=(1, 2))
            all_m = np.where(every[:, None], ms[None, :].astype(np.float64), 0.0)
            beyond = np.maximum(beyond, all_m) if in_tokens else beyond + all_m
        out |= beyond.sum(axis=0) > over_limit * (1 + SAFETY)
    return bool(out.all())


def mix_balance_bound(cost: np.ndarray, label_tokens: np.ndarray, label_samples: np.ndarray, kind: np.ndarray,
                      rule: MixRule, dp: int, k: int, n_steps: int) -> MixBalanceBound:
    """Lower bounds on the worst and mean step max/mean (module docstring) for the packs given
    (cost; per pack and label: tokens, samples; ``kind`` of each label column), all of them dealt to
    n_steps steps of dp ranks × k packs, for deals that pass ``rule``."""
    c = np.asarray(cost, np.float64)
    D = np.asarray(label_tokens, np.float64)
    Ds = np.asarray(label_samples, np.float64)
    kind = np.asarray(kind)
    N, S, n = c.shape[0], dp * k, n_steps
    if not N or n * S != N:
        raise ValueError(f"{N} packs are not {n_steps} steps of {dp} x {k}")
    first = kind == (kind.min() if kind.size else 0)
    T, Ts = D[:, first].sum(axis=1), Ds[:, first].sum(axis=1)
    order = np.lexsort((np.arange(N), -c))
    cs = c[order]
    c_min = float(cs[-1])
    top_cost = np.concatenate(([0.0], np.cumsum(cs)))
    # cost alone: the step of the costliest pack holds at most the S costliest packs
    cost_only = dp * (cs[0] + (k - 1) * c_min) / top_cost[S] if top_cost[S] > 0 else 1.0
    ts = np.sort(T)
    t_lo, t_hi = float(ts[:S].sum()), float(ts[N - S:].sum())
    if n < 2 or t_lo <= 0 or not D.shape[1]:
        only = max(1.0, float(cost_only) * (1 - SAFETY))
        return MixBalanceBound(only, 1.0, only)
    rho = t_lo / t_hi
    X = D.sum(axis=0) / T.sum()
    V = D - X[None, :] * T[:, None]  # excess label tokens per pack
    lams = LAMBDAS * (float(np.abs(V).max()) / max(float(c.max()), 1e-300) or 1.0)
    counted = rule.over_limit is not None
    tol = None
    if counted and rule.tolerance_tokens is not None and rule.share_tokens is not None:
        # |x - share| > tol  <=  σ (x - X) > tol + |X - share|
        tol = np.asarray(rule.tolerance_tokens, np.float64) + np.abs(X - np.asarray(rule.share_tokens, np.float64))
    hs = np.unique(np.geomspace(1, max(N // 2, 1), HOT_SETS).astype(np.int64))
    # 4(b), in tokens (counted with 4(a): the same shares) and in samples (added)
    one_step = [(i == 0, o) for i, o in enumerate(
        (_one_step(D, T, c, order, hs, S, rule.tolerance_tokens, rule.share_tokens),
         _one_step(Ds, Ts, c, order, hs, S, rule.tolerance_samples, rule.share_samples))) if counted and o is not None]

    worst, mean = max(cost_only, 1.0), 1.0
    for hi_, h in enumerate(hs.tolist()):
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
        hot_sum = ms.astype(np.float64)  # per m: the hot steps' max/mean summed, at least (6.)
        can_be = np.ones(ms.shape[0], bool)  # per m: whether the spread rule lets H lie in m steps
        for g in range(D.shape[1]):
            lim = float(rule.spread_limit[g]) * (1 + SAFETY) + 1e-15
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
                hot_sum = np.maximum(hot_sum, np.where(c_up > 0, dp * sqrt_l**2 / np.where(c_up > 0, c_up, 1.0),
                                                       np.inf))
                can_be &= base[0] <= e_max  # λ = 0: the excess any m steps holding H have (3.)
        if can_be.any():
            mean = max(mean, float(((n - ms) + hot_sum)[can_be].min()) / n)
        hot = _Hot(c0, cap, ms, rules, dp * (theta + (k - 1) * c_min),
                   [(in_tokens, least[hi_], lam1) for in_tokens, (least, lam1) in one_step])
        lo, hi = worst, max(worst, float(cs[0] * dp) / max(c_min, 1e-300) + 1.0)
        args = (hot, lams, t_hi, tol, rule.over_limit, D.shape[1])
        if _excluded(lo, *args) and not _excluded(hi, *args):  # (excluded at hi: no deal passes at all)
            for _ in range(60):
                mid = 0.5 * (lo + hi)
                lo, hi = (mid, hi) if _excluded(mid, *args) else (lo, mid)
            worst = max(worst, lo)
    # rounded down by SAFETY (the sums above are in floating point)
    return MixBalanceBound(*(max(1.0, float(x) * (1 - SAFETY)) for x in (worst, mean, cost_only)))


# ---- the check of `packer.steps` as this bound takes it --------------------------------------
# (kept here, beside the bound, so that step assembly itself carries nothing only the bound uses)

class StepMixLimits(NamedTuple):
    """The packs `assemble_steps` deals (its units, with ``balance: mix``) and its mix check
    (`_mix_ok`) as this module takes them."""

    cost: np.ndarray  # per unit
    label_tokens: np.ndarray  # per unit × label
    label_samples: np.ndarray
    kind: np.ndarray  # per label
    rule: MixRule
    n_steps: int


def step_mix_limits(plan: PackPlan, cfg: PackConfig, seed: int, *, groups: np.ndarray | None = None
                    ) -> StepMixLimits | None:
    """The units and mix check of `assemble_steps` for ``cfg`` and ``seed``; None where it checks
    no mix (a single label, no labels, fewer than two steps)."""
    unit_pack, _, _ = _units(plan, cfg, seed, groups)
    n_steps = unit_pack.shape[0] // cfg.packs_per_step
    real = unit_pack >= 0
    src = np.where(real, unit_pack, 0)
    mix = _unit_mix(plan, groups, unit_pack, real, src) if n_steps > 1 else None
    if mix is None:
        return None
    base = _mix_base(mix, n_steps, cfg.packs_per_step, cfg.mix_tolerance, seed)
    return StepMixLimits(np.where(real, plan.cost[src], 0.0), mix.tokens, mix.samples, mix.kind, mix_rule(base),
                         n_steps)


def mix_rule(base: _MixBase) -> MixRule:
    """`steps._mix_ok` as this module takes it."""
    return MixRule(token_spread_limit(base), base.over, base.tol_t, base.tol_s, base.gt, base.gs)


def token_spread_limit(base: _MixBase) -> np.ndarray:
    """Per label, the largest std over steps of its token share that `_mix_ok` lets pass."""
    return np.where(base.spread_t <= 1e-12, 1e-12, (MIX_MARGIN + 1e-9) * base.spread_t)
