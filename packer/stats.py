"""Statistics of a pack job, computed from the indexes and the ledger (never estimated)."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
import pyarrow as pa


def _np(table: pa.Table, col: str) -> np.ndarray:
    return table.column(col).to_numpy(zero_copy_only=False)


def funnel(ledger: pa.Table) -> dict:
    """Rows per source and task by final status, and counts per reason."""
    out: dict = {"by_source": {}, "by_task": {}, "reasons": {}}
    status = _np(ledger, "status")
    reason = _np(ledger, "reason")
    for key, col in (("by_source", "source"), ("by_task", "task")):
        groups: dict = defaultdict(Counter)
        for g, s in zip(_np(ledger, col).tolist(), status.tolist()):
            groups[g][s] += 1
        out[key] = {g: dict(sorted(c.items())) for g, c in sorted(groups.items())}
    out["reasons"] = dict(sorted(Counter(r for r in reason.tolist() if r).items()))
    out["status"] = dict(sorted(Counter(status.tolist()).items()))
    return out


def packing_efficiency(packs: pa.Table, context_length: int, max_vit_patches: int) -> dict:
    real = _np(packs, "real_tokens").astype(np.int64)
    padded = _np(packs, "seq_len").astype(np.int64)
    patches = _np(packs, "vit_patches").astype(np.int64)
    filler = _np(packs, "is_filler").astype(bool)
    n = len(real)
    content = ~filler
    lb = max(int(np.ceil(real[content].sum() / context_length)) if n else 0,
             int(np.ceil(patches[content].sum() / max_vit_patches)) if n else 0)
    shapes = Counter(zip(padded.tolist(), _np(packs, "vit_bucket").astype(np.int64).tolist()))
    return {
        "n_packs": int(n),
        "n_filler_packs": int(filler.sum()),
        "real_tokens": int(real.sum()),
        "padded_tokens": int(padded.sum()),
        "fill": float(real.sum() / padded.sum()) if padded.sum() else 0.0,
        "padding_waste": float(1 - real.sum() / padded.sum()) if padded.sum() else 0.0,
        "bins_lower_bound": lb,
        "bins_over_lower_bound": float(content.sum() / lb) if lb else 0.0,
        "shapes": [{"seq_len": s, "vit_bucket": v, "packs": c} for (s, v), c in sorted(shapes.items())],
    }


def step_balance(packs: pa.Table) -> dict:
    """Per step: max/mean over ranks of real tokens, attention cost and ViT cost."""
    if packs.num_rows == 0:
        return {"n_steps": 0}
    step = _np(packs, "step").astype(np.int64)
    rank = _np(packs, "rank").astype(np.int64)
    n_steps, n_ranks = int(step.max()) + 1, int(rank.max()) + 1
    out = {"n_steps": n_steps, "n_ranks": n_ranks}
    for col in ("real_tokens", "attn_cost", "vit_cost"):
        grid = np.zeros((n_steps, n_ranks))
        np.add.at(grid, (step, rank), _np(packs, col).astype(np.float64))
        mean = grid.mean(axis=1)
        ratio = np.divide(grid.max(axis=1), mean, out=np.ones_like(mean), where=mean > 0)
        out[col] = {"max_over_mean_worst": float(ratio.max()), "max_over_mean_mean": float(ratio.mean()),
                    "per_step": ratio.round(6).tolist()}
    counts = np.zeros((n_steps, n_ranks), dtype=np.int64)
    np.add.at(counts, (step, rank), 1)
    out["packs_per_rank_per_step_equal"] = bool((counts == counts[0, 0]).all())
    return out


def token_distributions(ledger: pa.Table) -> dict:
    status = _np(ledger, "status")
    out = {}
    for col in ("text_tokens", "vision_tokens", "loss_tokens", "total_tokens"):
        v = ledger.column(col).to_numpy(zero_copy_only=False)
        v = np.asarray(v, dtype=np.float64)[(status == "packed")]
        v = v[~np.isnan(v)]
        if not len(v):
            out[col] = {}
            continue
        q = np.percentile(v, [1, 5, 25, 50, 75, 95, 99])
        out[col] = {"mean": float(v.mean()), "min": float(v.min()), "max": float(v.max()),
                    **{f"p{p}": float(x) for p, x in zip((1, 5, 25, 50, 75, 95, 99), q)}}
    return out


def compute_stats(packs: pa.Table, ledger: pa.Table, *, cfg, counters: dict, dedup: dict, timings: dict,
                  n_files: int) -> dict:
    return {
        "config_fingerprint": cfg.fingerprint(),
        "input": {"files": n_files, "rows": int(np.sum(_np(ledger, "copy") == 0)), "ledger_rows": ledger.num_rows},
        "funnel": funnel(ledger),
        "tokens": token_distributions(ledger),
        "packing": packing_efficiency(packs, cfg.pack.context_length, cfg.pack.max_vit_patches),
        "balance": step_balance(packs),
        "counters": {k: v for k, v in counters.items() if not k.startswith("time.")},
        "stage_cpu_seconds": {k[5:]: round(v, 4) for k, v in counters.items() if k.startswith("time.")},
        "dedup": dedup,
        "timings_s": {k: round(v, 4) for k, v in timings.items()},
    }
