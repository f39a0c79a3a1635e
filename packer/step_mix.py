"""The data mix of steps: label composition of packs, per-step shares, their spread, and the
tolerance of i.i.d. sampling.

A *label* is one value of one kind of label (e.g. source "coco", or task "vqa"); every sample has
one label of each kind. A step's *share* of a label is, in samples, the label's samples over the
step's samples, and in tokens, the label's tokens over the step's tokens.

The tolerance of a step's share (``mix_tolerance`` in `schemas.pack_config`) is ``z`` standard
deviations of the share a step of the same number of samples would have if its samples were drawn
i.i.d. from the job's packed samples: ``sqrt(p (1 - p) / n)`` in samples and, by the delta method,
``sqrt(E[t² (1_label - π)²] / n) / E[t]`` in tokens (``π``: the label's token share).

The *spread* of a label is the standard deviation of its share across steps; the benchmark
compares it with dealing the same packs to steps at random (`random_steps`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LabelMatrix:
    """Per pack and label: samples and tokens. Columns are the labels of every kind, kind by kind
    (``kind[g]`` is the kind of column g, ``value[g]`` its id within the kind)."""

    samples: np.ndarray  # float64 (n_packs × G)
    tokens: np.ndarray  # float64 (n_packs × G)
    kind: np.ndarray  # int64 (G,)
    value: np.ndarray  # int64 (G,)
    # per label over all packed samples: Σ t and Σ t² (for the token tolerance), samples
    sum_t: np.ndarray
    sum_t2: np.ndarray
    n: np.ndarray


def label_matrix(pack_of: np.ndarray, n_packs: int, labels: np.ndarray, tokens: np.ndarray,
                 piece_sample: np.ndarray | None = None, piece_pack: np.ndarray | None = None,
                 piece_tokens: np.ndarray | None = None) -> LabelMatrix:
    """Label composition of packs from per-sample label ids (n × kinds), tokens and pack."""
    lab = labels if labels.ndim == 2 else labels[:, None]
    pk, smp, tk = pack_of, np.arange(pack_of.shape[0]), tokens.astype(np.float64)
    ok = pk >= 0
    pk, smp, tk = pk[ok], smp[ok], tk[ok]
    if piece_sample is not None and piece_sample.size:
        pk = np.concatenate((pk, piece_pack))
        smp = np.concatenate((smp, piece_sample))
        tk = np.concatenate((tk, piece_tokens.astype(np.float64)))
    cols_s, cols_t, kinds, values, st, st2, cnt = [], [], [], [], [], [], []
    for k in range(lab.shape[1]):
        v = lab[smp, k]
        n_v = int(v.max()) + 1 if v.size else 0
        present = np.bincount(v, minlength=n_v) > 0
        for val in np.flatnonzero(present).tolist():
            sel = v == val
            cols_s.append(np.bincount(pk[sel], minlength=n_packs).astype(np.float64))
            cols_t.append(np.bincount(pk[sel], weights=tk[sel], minlength=n_packs))
            kinds.append(k)
            values.append(val)
            st.append(float(tk[sel].sum()))
            st2.append(float((tk[sel] ** 2).sum()))
            cnt.append(float(sel.sum()))
    G = len(kinds)
    return LabelMatrix(
        samples=np.stack(cols_s, axis=1) if G else np.zeros((n_packs, 0)),
        tokens=np.stack(cols_t, axis=1) if G else np.zeros((n_packs, 0)),
        kind=np.asarray(kinds, np.int64), value=np.asarray(values, np.int64),
        sum_t=np.asarray(st), sum_t2=np.asarray(st2), n=np.asarray(cnt))


def step_shares(step: np.ndarray, unit_samples: np.ndarray, unit_tokens: np.ndarray, kind: np.ndarray,
                n_steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per step and label: share in samples, share in tokens, and the step's samples (n_steps,)
    (counted once, over the first kind). Rows with step < 0 are ignored."""
    ok = step >= 0
    G = unit_samples.shape[1]
    s = np.zeros((n_steps, G))
    t = np.zeros((n_steps, G))
    np.add.at(s, step[ok], unit_samples[ok])
    np.add.at(t, step[ok], unit_tokens[ok])
    first = kind == (kind.min() if kind.size else 0)
    n = s[:, first].sum(axis=1)
    tot_t = t[:, first].sum(axis=1)
    share_s = np.divide(s, n[:, None], out=np.zeros_like(s), where=n[:, None] > 0)
    share_t = np.divide(t, tot_t[:, None], out=np.zeros_like(t), where=tot_t[:, None] > 0)
    return share_s, share_t, n


def global_shares(m: LabelMatrix) -> tuple[np.ndarray, np.ndarray]:
    """Each label's share of all packed samples, in samples and in tokens (within its kind)."""
    first = m.kind == (m.kind.min() if m.kind.size else 0)
    n = m.n[first].sum()
    tt = m.sum_t[first].sum()
    return (m.n / n if n else m.n * 0.0), (m.sum_t / tt if tt else m.sum_t * 0.0)


def iid_sigma(m: LabelMatrix, n_step: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Standard deviation of a step's share of each label under i.i.d. sampling of n_step samples
    (per step × label): in samples and in tokens (delta method), around the global shares."""
    p, pi = global_shares(m)
    first = m.kind == (m.kind.min() if m.kind.size else 0)
    return sigma(p, pi, m.sum_t2, float(m.sum_t2[first].sum()), float(m.sum_t[first].sum()),
                 float(m.n[first].sum()), n_step)


def sigma(p: np.ndarray, pi: np.ndarray, label_t2: np.ndarray, total_t2: float, total_t: float, N: float,
          n_step: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """i.i.d. sampling spread of shares (per step × label) for steps of n_step samples drawn from N
    samples whose tokens sum to total_t (squares: total_t2; per label: label_t2): in samples around
    share p, in tokens around token share pi."""
    if not N:
        z = np.zeros((n_step.shape[0], p.shape[0]))
        return z, z
    mean_t = total_t / N
    # E[t² (1_g - π)²] = (Σ_g t² (1 - π)² + (Σ t² - Σ_g t²) π²) / N
    e = np.maximum(label_t2 * (1 - pi) ** 2 + (total_t2 - label_t2) * pi**2, 0.0) / N
    inv_n = np.divide(1.0, n_step, out=np.zeros(n_step.shape[0]), where=n_step > 0)[:, None]
    sig_s = np.sqrt(np.clip(p * (1 - p), 0.0, None) * inv_n)
    sig_t = np.sqrt(e * inv_n) / (mean_t if mean_t else 1.0)
    return sig_s, sig_t


def spread(share: np.ndarray) -> np.ndarray:
    """Std of each label's share across steps."""
    return share.std(axis=0) if share.shape[0] else np.zeros(share.shape[1])


def random_steps(n_units: int, n_steps: int, per_step: int, seed: int) -> np.ndarray:
    """The baseline: units dealt to steps at random (a seeded permutation cut into steps)."""
    rng = np.random.default_rng(seed)
    step = np.full(n_units, -1, np.int64)
    perm = rng.permutation(n_units)[: n_steps * per_step]
    step[perm] = np.arange(perm.shape[0]) // per_step
    return step


def offset_deal(offsets: np.ndarray, n_steps: int, per_step: int, tie: np.ndarray) -> np.ndarray:
    """Deal rows (n_steps x per_step of them) to n_steps steps, per_step each, so that each step's
    sum of the rows' offset vectors stays near zero: rows by decreasing norm (ties: ``tie``), each
    to the open step whose running sum it cancels most (least dot product; ties: the lower step).
    Returns the step of each row."""
    U = offsets.shape[0]
    step = np.empty(U, np.int64)
    if not U:
        return step
    order = np.lexsort((tie, -np.einsum("ij,ij->i", offsets, offsets)))
    total = np.zeros((n_steps, offsets.shape[1]))
    room = np.full(n_steps, per_step, np.int64)
    shut = np.zeros(n_steps)  # +inf on full steps
    for u in order.tolist():
        v = offsets[u]
        s = int(np.argmin(total @ v + shut))
        step[u] = s
        total[s] += v
        room[s] -= 1
        if not room[s]:
            shut[s] = np.inf
    return step
