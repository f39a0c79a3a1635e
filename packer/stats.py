"""Statistics of a pack job, computed from the indexes, the ledger and the exact stage counters.

stats.json is made from the merged statistics of the index parts (`packer.partial_stats`: one
`PartStats` per ledger part and its packs part, and `KeyedStats` per hash bucket of dedup
representatives and sample ids), never from all rows in one process. Counts, sums, grids per step
and the display histograms are exact; percentiles are read from merged histograms over fixed
log-linear bins and are within `PERCENTILE_ERROR` of numpy.percentile over the rows (exact for
integers below 2,048); each distribution says so in its `percentile_error`. The sections:

- `funnel`: per stage (read, probe, filter, grounding, dedup, tokens, mix, pack) the rows in, the
  rows out and the count per reason, overall, per source and per task. A row leaves at the stage
  named by its reason's prefix (`filter.url` leaves at `filter`); packed rows pass every stage;
  upsampled copies (copy > 0) enter at the output of `mix`.
- `tokens`: per-sample text / vision / loss / total tokens of the packed samples (and of every
  sample that was counted), with percentiles and histograms (at most 30 bins of a power-of-two
  width from 0).
- `packing`: real / padded tokens, bins against the lower bound, the per-pack fill and real-token
  histograms.
- `shapes`: the distinct (seq_len, vit_bucket) shapes (graph compilations) with packs and padding
  waste per shape (LLM tokens and ViT patches apart), the buckets in use with their waste, and
  whether there are more shapes than ``pack.max_shapes``.
- `balance`: per step × rank grids of real tokens, attention cost (Σlen²), ViT cost, LLM cost and
  total cost, max/mean per step (mean and worst over steps), and the modelled step time against
  its ideal (`packer.steps.step_balance_ratio`, per ``pack.vit_phase``).
- `mix`: per step the share of each source's (and task's) packed samples and tokens against the
  global share and the share the configured weights ask for, its spread across steps, the i.i.d.
  tolerance (``pack.mix_tolerance`` standard deviations, `packer.step_mix`) and the steps beyond
  it; the remainder's draw per source against its share; copies of one sample that share a pack
  or a step.
- `languages` (with the input rows never language-checked, per task: they count as "und"), `dedup`,
  `grounding`, `time` (with `process_wall_s`, the real time since the driver process started).
- `curation`: rows per repair of the clean step, and per model score a histogram, the thresholds
  and the rows nearest each threshold (`packer.curation_stats`).

Above ``output.per_step_detail_max_steps`` steps the per-step grids and lists of `balance` and
`mix` are summarised (`per_step_detail` says so): per figure its `WORST_STEPS` worst steps (exact),
its means over steps (exact) and a histogram over fixed bins (`RATIO_EDGES` for max/mean and
step-time ratios, `Z_EDGES` for a step's mix deviation in σ); every scalar stays as it was.

`report_warnings(stats)` turns the figures into the warnings the terminal summary and the HTML
report show.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pyarrow as pa

from packer import step_mix
from packer.curation_stats import curation_summary
from packer.partial_stats import (EXACT_INTEGERS_BELOW, FILL_BINS, NO_REASON, PERCENTILE_RELATIVE_ERROR,
                                  REAL_TOKEN_BINS, STAGES, TOKEN_COLUMNS, UNKNOWN_LANG, Dist, KeyedStats,
                                  PartStats, keyed_rows, keyed_stats, part_stats, stage_of_reason,
                                  step_of_rows)

__all__ = ["STAGES", "NO_REASON", "UNKNOWN_LANG", "TOKEN_COLUMNS", "stage_of_reason", "compute_stats",
           "stats_of_parts", "report_warnings", "distribution"]

PERCENTILES = (1, 5, 25, 50, 75, 90, 95, 99)
HIST_BINS = 30
EXAMPLES_PER_REASON = 5
# how far a percentile read from a merged histogram may be from numpy.percentile over the rows
PERCENTILE_ERROR = {"relative": PERCENTILE_RELATIVE_ERROR, "exact_integers_below": EXACT_INTEGERS_BELOW,
                    "how": "read from a histogram over fixed log-linear bins (10 mantissa bits), merged over "
                           "the index parts"}

WORST_STEPS = 20  # the worst steps a summarised stats.json lists per figure, exactly
RATIO_EDGES = tuple(round(1.0 + 0.01 * i, 2) for i in range(101))  # per-step max/mean: 1.00 … 2.00
Z_EDGES = tuple(0.25 * i for i in range(41))  # a step's mix deviation in σ of i.i.d. sampling: 0 … 10

# warning thresholds (report_warnings)
WARN_IMBALANCE = 1.10  # worst per-step modelled step time over its ideal (and total cost max/mean)
WARN_PADDING_WASTE = 0.20  # share of padded tokens that are padding
WARN_SOURCE_DROP = 0.50  # share of a source's input rows not packed (mix downsampling excluded)
_INTENDED_DROPS = ("mix.downsampled",)


def _share(a: float, b: float) -> float:
    return float(a) / float(b) if b else 0.0


def _by_count(c: Counter) -> dict:
    """Non-zero counts, most common first, ties by key."""
    return dict(sorted(((k, int(n)) for k, n in c.items() if n), key=lambda kv: (-kv[1], kv[0])))


def _by_key(c: Counter) -> dict:
    return dict(sorted((k, int(n)) for k, n in c.items() if n))


def distribution_of(d: Dist, bins: int = HIST_BINS, lo: float | None = None) -> dict:
    """count, sum, mean, min, max, percentiles (within PERCENTILE_ERROR) and a histogram of a merged
    `Dist`: over its fixed bins, or at most `bins` power-of-two-wide bins from `lo` whose counts are exact."""
    if not d.count:
        return {"count": 0}
    q = d.percentiles(PERCENTILES)
    return {"count": d.count, "sum": d.sum, "mean": d.mean, "min": d.lo, "max": d.hi,
            **{f"p{p}": float(x) for p, x in zip(PERCENTILES, q)}, "hist": d.display_histogram(bins, lo),
            "percentile_error": PERCENTILE_ERROR}


def distribution(values: np.ndarray, bins: int = HIST_BINS, lo: float | None = None, hi: float | None = None) -> dict:
    """`distribution_of` the values: over `bins` fixed bins from `lo` to `hi` when both are given."""
    fixed = tuple(np.linspace(lo, hi if hi > lo else lo + 1.0, bins + 1)) if lo is not None and hi is not None else ()
    return distribution_of(Dist.of(values, fixed_edges=fixed), bins, lo)


# ---- funnel -------------------------------------------------------------------------------------


class _Rows:
    """The ledger's (status, reason, source, task, is_copy) counts with the stage each row left at."""

    def __init__(self, p: PartStats):
        self.entries = [(s, r, src, t, bool(c), n) for (s, r, src, t, c), n in sorted(p.rows.items())]
        name_of = {(s, r): "" if s == "packed" else stage_of_reason(r, s) for s, r, *_ in self.entries}
        self.stages = list(STAGES) + sorted(set(name_of.values()) - set(STAGES) - {""})
        rank = {s: i for i, s in enumerate(self.stages)}
        rank[""] = len(self.stages)
        self.leave = {k: rank[v] for k, v in name_of.items()}

    def sum(self, fn) -> int:
        return sum(n for s, r, src, t, c, n in self.entries if fn(s, r, src, t, c))

    def count(self, key, fn=lambda *a: True) -> Counter:
        out = Counter()
        for s, r, src, t, c, n in self.entries:
            if fn(s, r, src, t, c):
                out[key(s, r, src, t, c)] += n
        return out

    def present(self, i: int, fn=lambda *a: True) -> list[str]:
        return sorted({e[i] for e in self.entries if fn(*e[:5])})


def funnel(p: PartStats) -> dict:
    """Per stage: rows in, rows out and count per reason; overall, per source and per task.

    Also the final status counts, all reasons and example sample_ids per reason (the smallest
    in (sample_id, copy) order), kept for the reason table of the report.
    """
    rows = _Rows(p)
    stages, leave = rows.stages, rows.leave
    mix_at = stages.index("mix")

    def reason(s, r, *_):
        return r or NO_REASON

    def table_for(mine) -> dict:
        per_stage = {}
        for i, name in enumerate(stages):
            enters = rows.sum(lambda s, r, src, t, c, i=i: mine(src, t) and leave[(s, r)] >= i and (not c or i > mix_at))
            gone = rows.count(reason, lambda s, r, src, t, c, i=i: mine(src, t) and leave[(s, r)] == i)
            n_gone = sum(gone.values())
            added = rows.sum(lambda s, r, src, t, c: mine(src, t) and c) if i == mix_at else 0
            per_stage[name] = {"in": enters, "out": enters - n_gone + added, "removed": n_gone, "added": added,
                               "reasons": _by_key(gone)}
        done = len(stages)
        return {"input_rows": rows.sum(lambda s, r, src, t, c: mine(src, t) and not c),
                "input_rows_packed": rows.sum(lambda s, r, src, t, c: mine(src, t) and not c and leave[(s, r)] == done),
                "copies": rows.sum(lambda s, r, src, t, c: mine(src, t) and c),
                "packed": rows.sum(lambda s, r, src, t, c: mine(src, t) and leave[(s, r)] == done),
                "input_rows_dropped": _by_key(rows.count(reason, lambda s, r, src, t, c: mine(src, t) and not c
                                                         and s != "packed")),
                "stages": per_stage}

    res: dict = {"stages": stages, "total": table_for(lambda src, t: True)}
    res["by_source"] = {g: table_for(lambda src, t, g=g: src == g) for g in rows.present(2)}
    res["by_task"] = {g: table_for(lambda src, t, g=g: t == g) for g in rows.present(3)}
    res["status"] = _by_key(rows.count(lambda s, *_: s))
    res["status_by_source"] = {g: _by_key(rows.count(lambda s, *_: s, lambda s, r, src, t, c, g=g: src == g))
                               for g in rows.present(2)}
    res["reasons"] = _by_key(rows.count(reason, lambda s, *_: s != "packed"))
    res["reason_stage"] = {}
    res["examples"] = {}
    for key, found in sorted(p.examples.items()):
        res["reason_stage"][key] = found[0][2]
        res["examples"][key] = list(dict.fromkeys(i for i, _, _ in found))[:EXAMPLES_PER_REASON]
    return res


# ---- tokens -------------------------------------------------------------------------------------


def token_distributions(p: PartStats) -> dict:
    """Per-sample token counts: of the packed samples (what is trained on) and of every sample the
    token stage counted (packed, too long, remainder or downsampled by the mix)."""
    return {kind: {col: distribution_of(p.tokens.get((kind, col), Dist()), lo=0.0) for col in TOKEN_COLUMNS}
            for kind in ("packed", "counted")}


# ---- packing ------------------------------------------------------------------------------------


def packing_efficiency(p: PartStats, pack_cfg) -> dict:
    """Real/padded tokens, bins against the lower bound, shape buckets with their waste, fill."""
    items = p.packed_items
    items_tokens, items_patches, items_images = (int(items[c]) for c in ("total_tokens", "vit_patches", "n_images"))
    lb = max(math.ceil(items_tokens / pack_cfg.context_length), math.ceil(items_patches / pack_cfg.max_vit_patches),
             math.ceil(items_images / pack_cfg.max_images_per_pack))
    k = p.packs
    total_real, total_padded, content = int(k["real"]), int(k["padded"]), int(k["content"])
    d = p.pack_dists
    return {
        "n_packs": int(k["n_packs"]),
        "n_filler_packs": int(k["filler"]),
        "n_repeat_packs": int(k["repeat"]),
        "n_content_packs": content,
        "real_tokens": total_real,
        "padded_tokens": total_padded,
        "padding_tokens": total_padded - total_real,
        "fill": _share(total_real, total_padded),
        "padding_waste": _share(total_padded - total_real, total_padded),
        "fill_content_packs": _share(int(k["content_real"]), int(k["content_padded"])),
        "packed_items": {"samples": int(sum(n for (s, *_), n in p.rows.items() if s == "packed")),
                         "tokens": items_tokens, "vit_patches": items_patches, "images": items_images},
        "bins_lower_bound": int(lb),
        "bins_over_lower_bound": _share(content, lb),
        "shapes": shape_summary(p, pack_cfg)["shapes"],
        "fill_hist": distribution_of(d.get("fill", Dist()), FILL_BINS),
        "real_tokens_hist": distribution_of(d.get("real_tokens", Dist()), REAL_TOKEN_BINS),
        "samples_per_pack": distribution_of(d.get("samples_per_pack", Dist()), lo=0.0),
    }


def shape_summary(p: PartStats, pack_cfg) -> dict:
    """Distinct (seq_len, vit_bucket) shapes with packs and padding per shape (LLM tokens and ViT
    patches apart), the buckets in use with their waste, and the check against max_shapes. Without
    ViT buckets a pack's ViT input is its real patch total: not a shape to group by (bucket 0)."""
    bucketed = bool(getattr(pack_cfg, "patch_bucketing", bool(pack_cfg.vit_buckets)))
    shapes = []
    per_bucket: dict[int, list[int]] = {}
    for (sl, vb), c in sorted(p.shapes.items()):
        r, pd_, n = int(c["real"]), int(c["padded"]), int(c["n"])
        vp, vpad = int(c["patches"]), int(vb) * n
        shapes.append({"seq_len": int(sl), "vit_bucket": int(vb), "packs": n, "filler_packs": int(c["filler"]),
                       "real_tokens": r, "padded_tokens": pd_, "padding_waste": _share(pd_ - r, pd_),
                       "llm_padding_tokens": pd_ - r, "vit_patches": vp, "vit_padded_patches": vpad if vb else vp,
                       "vit_padding_patches": vpad - vp if vb else 0,
                       "vit_waste": _share(vpad - vp, vpad) if vb else 0.0})
        if vb:
            b = per_bucket.setdefault(int(vb), [0, 0])
            b[0] += n
            b[1] += vp
    buckets = [{"vit_bucket": vb, "packs": n, "vit_patches": vp, "padded_patches": vb * n,
                "waste": _share(vb * n - vp, vb * n)} for vb, (n, vp) in sorted(per_bucket.items())]
    real = sum(int(c["real"]) for c in p.shapes.values())
    padded = sum(int(c["padded"]) for c in p.shapes.values())
    vp_all = sum(int(c["patches"]) for c in p.shapes.values())
    vpad_all = sum(int(vb) * int(c["n"]) for (_, vb), c in p.shapes.items()) if bucketed else vp_all
    max_shapes = int(getattr(pack_cfg, "max_shapes", 0) or 0)
    return {
        "n_shapes": len(shapes),
        "max_shapes": max_shapes,
        "over_max_shapes": bool(max_shapes and len(shapes) > max_shapes),
        "patch_buckets": "auto" if getattr(pack_cfg, "patch_buckets", ()) == "auto" else list(pack_cfg.vit_buckets),
        "llm_buckets_used": sorted({int(sl) for sl, _ in p.shapes}),
        "vit_buckets_used": [b["vit_bucket"] for b in buckets],
        "shapes": shapes,
        "vit_buckets": buckets,
        "llm_padding_waste": _share(padded - real, padded),
        "vit_padding_patches": vpad_all - vp_all,
        "vit_padding_over_real": _share(vpad_all - vp_all, vp_all),
    }


# ---- per-step detail: in full, or summarised above a number of steps -----------------------------


def summarised(n_steps: int, max_steps: int | None) -> bool:
    return max_steps is not None and n_steps > max_steps


def per_step_detail(n_steps: int, max_steps: int) -> dict:
    """What a summarised stats.json says about its per-step figures."""
    return {"summarised": True, "n_steps": n_steps, "max_steps": max_steps, "worst_steps_listed": WORST_STEPS,
            "how": f"above {max_steps:,} steps (output.per_step_detail_max_steps) the per-step lists and grids are "
                   f"replaced by the {WORST_STEPS} worst steps (exact), means over steps (exact) and histograms of "
                   f"the per-step figures over fixed bins"}


def fixed_histogram(values: np.ndarray, edges: tuple) -> dict:
    """Counts over fixed edges (the last bin closed), with the values below and above them."""
    v = np.asarray(values, np.float64)
    e = np.asarray(edges, np.float64)
    return {"edges": [float(x) for x in edges], "counts": np.histogram(v, bins=e)[0].astype(np.int64).tolist(),
            "below": int((v < e[0]).sum()), "above": int((v > e[-1]).sum())}


def worst_steps(score: np.ndarray, **columns: np.ndarray) -> list[dict]:
    """The WORST_STEPS steps of highest score (ties: the earlier step), with their other figures."""
    order = np.lexsort((np.arange(len(score)), -np.asarray(score)))[:WORST_STEPS]
    return [{"step": int(i), "value": float(score[i]), **{k: float(v[i]) for k, v in columns.items()}}
            for i in order.tolist()]


# ---- balance ------------------------------------------------------------------------------------


def _grids(p: PartStats) -> tuple[int, int, dict, np.ndarray]:
    """n_steps, n_ranks, the per (step, rank) grids of real tokens and costs, and packs per cell."""
    cells = p.balance
    step, rank = cells.keys[:, 0], cells.keys[:, 1]
    n_steps, n_ranks = int(step.max()) + 1, int(rank.max()) + 1
    grids = {c: np.zeros((n_steps, n_ranks)) for c in ("real_tokens", "attn_cost", "vit_cost", "llm_cost", "cost")}
    counts = np.zeros((n_steps, n_ranks), dtype=np.int64)
    counts[step, rank] = cells.n
    grids["real_tokens"][step, rank] = cells.ints["real_tokens"].astype(np.float64)
    for col in ("attn_cost", "vit_cost", "cost"):
        grids[col][step, rank] = cells.floats[col].floats()
    cost, vit, chunk = cells.floats["cost"], cells.floats["vit_cost"], 1 << 17
    grids["llm_cost"][step, rank] = np.concatenate([cost.rows(a, a + chunk).minus(vit.rows(a, a + chunk)).floats()
                                                    for a in range(0, len(cost), chunk)])
    return n_steps, n_ranks, grids, counts


def step_balance(p: PartStats, pack_cfg=None, max_steps: int | None = None) -> dict:
    """Per step × rank grids of real tokens, attention cost (Σlen²), ViT cost, LLM cost and total
    cost; max/mean over ranks per step (its mean and worst over steps); and the modelled step time
    over its ideal per ``vit_phase`` (``fused``: max over ranks of the total; ``separate``: max of
    the ViT plus max of the LLM), with both forms reported. Above `max_steps` steps the grids and
    per-step lists are summarised (`per_step_detail`)."""
    if not p.balance:
        return {"n_steps": 0, "n_ranks": 0}
    n_steps, n_ranks, grids, counts = _grids(p)
    brief = summarised(n_steps, max_steps)
    out: dict = {"n_steps": n_steps, "n_ranks": n_ranks}
    for col in ("real_tokens", "attn_cost", "vit_cost", "llm_cost", "cost"):
        grid = grids[col]
        mean = grid.mean(axis=1)
        mx = grid.max(axis=1)
        ratio = np.divide(mx, mean, out=np.ones_like(mean), where=mean > 0)
        out[col] = {"max_over_mean_worst": float(ratio.max()), "max_over_mean_mean": float(ratio.mean()),
                    "worst_step": int(ratio.argmax())}
        if brief:
            out[col].update(worst_steps=worst_steps(ratio, max=mx, mean=mean), max_per_step_mean=float(mx.mean()),
                            mean_per_step_mean=float(mean.mean()), max_over_mean_hist=fixed_histogram(ratio, RATIO_EDGES))
        else:
            out[col].update(grid=grid.tolist(), max_per_step=mx.tolist(), mean_per_step=mean.tolist(),
                            per_step=ratio.tolist())
    ideal = grids["vit_cost"].mean(axis=1) + grids["llm_cost"].mean(axis=1)
    phase = getattr(pack_cfg, "vit_phase", "fused") if pack_cfg is not None else "fused"
    for name, time in (("fused", grids["cost"].max(axis=1)),
                       ("separate", grids["vit_cost"].max(axis=1) + grids["llm_cost"].max(axis=1))):
        r = np.divide(time, ideal, out=np.ones_like(ideal), where=ideal > 0)
        out[f"step_time_{name}"] = {"mean": float(r.mean()), "worst": float(r.max()), "worst_step": int(r.argmax())}
        out[f"step_time_{name}"].update({"worst_steps": worst_steps(r, time=time, ideal=ideal),
                                         "hist": fixed_histogram(r, RATIO_EDGES)} if brief else {"per_step": r.tolist()})
    out["step_time"] = dict(out[f"step_time_{phase}"], vit_phase=phase)
    if brief:
        out["packs_per_cell"] = {"min": int(counts.min()), "max": int(counts.max())}
    else:
        out["packs_grid"] = counts.tolist()
    out["packs_per_rank_per_step_equal"] = bool((counts == counts[0, 0]).all())
    return out


# ---- mix ----------------------------------------------------------------------------------------


def mix_per_step(p: PartStats, keyed: KeyedStats, cfg, max_steps: int | None = None) -> dict:
    """Share of each source's (and task's) packed samples and tokens per step, against the global
    share and the share the weights ask for (weight × rows entering the mix, normalised; in tokens,
    weight × their tokens); the spread of shares across steps; per step the tolerance (``z`` =
    ``pack.mix_tolerance`` standard deviations of i.i.d. sampling of that step's samples,
    `packer.step_mix.sigma`) and the steps beyond it; the remainder's draw per label against its
    share of the left-out samples; and copies of one sample that share a pack or a step. Above
    `max_steps` steps the per-step lists are summarised (`per_step_detail`): per label its worst
    steps by deviation, its mean shares over steps and a histogram of the per-step deviation in σ."""
    src_w = {s.name: float(s.weight) for s in cfg.sources}
    task_w = dict(cfg.mix.task_weights)
    z = float(getattr(cfg.pack, "mix_tolerance", 3.0))
    n_steps = int(p.balance.keys[:, 0].max()) + 1 if len(p.balance) else 0
    brief = summarised(n_steps, max_steps)
    rows = _Rows(p)
    t = p.mix_totals
    n_valid, t_sum, t2_sum = int(t["n"]), float(t["tokens"]), float(t["tokens2"])
    n_step = np.zeros(n_steps)
    by_source = p.mix_cells.get("source")
    if by_source is not None and len(by_source):
        np.add.at(n_step, by_source.keys[:, 1], by_source.n.astype(np.float64))

    def by(kind: str, at: int, weights: dict[str, float]) -> dict:
        names = rows.present(at)
        code = {g: i for i, g in enumerate(names)}
        L = len(names)
        entering, wanted, wanted_t = np.zeros(L, np.int64), np.zeros(L), np.zeros(L)
        for (s, tk), c in sorted(p.mix_entering.items()):
            i = code[(s, tk)[at - 2]]
            w = src_w.get(s, 1.0) * task_w.get(tk, 1.0)
            entering[i] += c["n"]
            wanted[i] += w * c["n"]
            wanted_t[i] += w * c["tokens"]
        total_w, total_wt = float(wanted.sum()), float(wanted_t.sum())
        counts = np.zeros((n_steps, L), dtype=np.int64)
        tokens = np.zeros((n_steps, L))
        cells = p.mix_cells.get(kind)
        if cells is not None and len(cells):
            col = np.asarray([code[g] for g in cells.labels])[cells.keys[:, 0]]
            np.add.at(counts, (cells.keys[:, 1], col), cells.n)
            np.add.at(tokens, (cells.keys[:, 1], col), cells.ints["tokens"].astype(np.float64))
        per_step_total = counts.sum(axis=1)
        per_step_tokens = tokens.sum(axis=1)
        shares = np.divide(counts, per_step_total[:, None], out=np.zeros(counts.shape),
                           where=per_step_total[:, None] > 0)
        t_shares = np.divide(tokens, per_step_tokens[:, None], out=np.zeros(tokens.shape),
                             where=per_step_tokens[:, None] > 0)
        total = int(counts.sum())
        asked = np.asarray([_share(float(wanted[code[g]]), total_w) for g in names])
        asked_t = np.asarray([_share(float(wanted_t[code[g]]), total_wt) for g in names])
        label_t2 = np.asarray([float(p.mix_t2.get((kind, g), 0)) for g in names])
        sig_s, sig_t = step_mix.sigma(asked, asked_t, label_t2, t2_sum, t_sum, float(n_valid), n_step)
        dev_s, dev_t = shares - asked, t_shares - asked_t
        over = (np.abs(dev_s) > z * sig_s) | (np.abs(dev_t) > z * sig_t)
        rem = rows.count(lambda s, r, src, tk, c: (src, tk)[at - 2], lambda s, *_: s == "remainder")
        n_rem = sum(rem.values())
        res = {}
        for g in names:
            i = code[g]
            glob = _share(int(counts[:, i].sum()), total)
            col_share = shares[:, i]
            zs = np.divide(np.abs(dev_s[:, i]), sig_s[:, i], out=np.zeros(n_steps), where=sig_s[:, i] > 0)
            zt = np.divide(np.abs(dev_t[:, i]), sig_t[:, i], out=np.zeros(n_steps), where=sig_t[:, i] > 0)
            worst = int(np.argmax(np.maximum(zs, zt))) if n_steps else 0
            res[g] = {
                "weight": weights.get(g, 1.0),
                "rows_entering_mix": int(entering[i]),
                "requested_share": float(asked[i]),
                "requested_token_share": float(asked_t[i]),
                "packed_samples": int(counts[:, i].sum()),
                "global_share": glob,
                "max_abs_step_deviation": float(np.abs(col_share - glob).max()) if n_steps else 0.0,
                "packed_tokens": int(tokens[:, i].sum()),
                "token_share": _share(float(tokens[:, i].sum()), float(tokens.sum())),
                "max_abs_step_deviation_from_asked": float(np.abs(dev_s[:, i]).max()) if n_steps else 0.0,
                "max_abs_step_token_deviation_from_asked": float(np.abs(dev_t[:, i]).max()) if n_steps else 0.0,
                "spread": float(col_share.std()) if n_steps else 0.0,
                "token_spread": float(t_shares[:, i].std()) if n_steps else 0.0,
                "steps_beyond_tolerance": int(over[:, i].sum()),
                "worst_step": worst,
                "worst_step_z": float(max(zs[worst], zt[worst])) if n_steps else 0.0,
                "worst_step_share": float(col_share[worst]) if n_steps else 0.0,
                "worst_step_token_share": float(t_shares[worst, i]) if n_steps else 0.0,
                "worst_step_tolerance": float(z * sig_s[worst, i]) if n_steps else 0.0,
                "remainder_samples": int(rem.get(g, 0)),
                "remainder_expected": float(glob * n_rem),
            }
            if brief:
                step_z = np.maximum(zs, zt)
                res[g].update(mean_step_share=float(col_share.mean()), mean_step_token_share=float(t_shares[:, i].mean()),
                              worst_steps=worst_steps(step_z, share=col_share, token_share=t_shares[:, i],
                                                      samples=counts[:, i], tokens=tokens[:, i],
                                                      tolerance=z * sig_s[:, i]),
                              step_z_hist=fixed_histogram(step_z, Z_EDGES))
            else:
                res[g].update(per_step_samples=counts[:, i].tolist(), per_step_share=col_share.tolist(),
                              per_step_token_share=t_shares[:, i].tolist(),
                              per_step_tokens=tokens[:, i].astype(np.int64).tolist())
        return res

    per_step = ({"samples_per_step_summary": {"min": int(n_step.min()), "max": int(n_step.max()),
                                              "mean": float(n_step.mean())}} if brief
                else {"samples_per_step": n_step.astype(np.int64).tolist()})
    return {"n_steps": n_steps, **per_step,
            "tolerance_sigmas": z, "balance": getattr(cfg.pack, "balance", "mix"),
            "remainder_samples": rows.sum(lambda s, *_: s == "remainder"),
            "copies_sharing_pack": keyed.copies_sharing_pack, "copies_sharing_step": keyed.copies_sharing_step,
            "by_source": by("source", 2, src_w), "by_task": by("task", 3, task_w)}


# ---- languages, dedup, grounding, time ----------------------------------------------------------


def languages(p: PartStats) -> dict:
    """Input rows (copy 0) and packed rows per detected language; lang_score per language (its
    p5 and p50 within PERCENTILE_ERROR)."""
    entries = list(p.langs.items())  # (lang, source, task, copy 0, packed, lang null) -> rows

    def per_lang(fn) -> dict[str, int]:
        c = Counter()
        for (lang, src, task, first, packed, null), n in entries:
            if fn(src, task, first, packed, null):
                c[lang] += n
        return _by_count(c)

    not_checked = Counter()
    for (_, _, task, first, _, null), n in entries:
        if first and null:
            not_checked[task] += n
    sources = sorted({src for (_, _, src, _, _) in p.rows})
    res: dict = {"input": per_lang(lambda s, t, first, pk, null: first),
                 "packed": per_lang(lambda s, t, first, pk, null: pk),
                 "input_not_checked": sum(not_checked.values()),
                 "not_checked_by_task": _by_count(not_checked),
                 "by_source": {g: per_lang(lambda s, t, first, pk, null, g=g: first and s == g) for g in sources},
                 "score": {}}
    for g in res["input"]:
        d = p.lang_scores.get(g)
        if d is not None and d.count:
            p5, p50 = d.percentiles((5, 50))
            res["score"][g] = {"count": d.count, "mean": d.mean, "min": d.lo, "p5": p5, "p50": p50}
    return res


def dedup_summary(p: PartStats, keyed: KeyedStats, dedup: dict) -> dict:
    """The dedup stage's own figures (passed through), duplicates per source and reason, and the
    cluster sizes from the ledger: a cluster is a kept representative and the rows whose dup_of is it."""
    rows = _Rows(p)
    dup = lambda s, *_: s == "duplicate"  # noqa: E731
    return {
        "stage": dedup or {},
        "duplicates": rows.sum(dup),
        "duplicates_by_source": _by_key(rows.count(lambda s, r, src, *_: src, dup)),
        "duplicates_by_reason": _by_key(rows.count(lambda s, r, *_: r or NO_REASON, dup)),
        "n_clusters": keyed.n_clusters,
        "cluster_sizes": {str(k): v for k, v in sorted(keyed.cluster_sizes.items())},
        "largest_clusters": [{"representative": r, "size": -neg} for neg, r in keyed.largest],
    }


def grounding_summary(p: PartStats, counters: dict) -> dict:
    """Counters `grounding.*` of the grounding stage and the invalid rows per code and source."""
    rows = _Rows(p)
    mine = lambda s, r, *_: s != "packed" and r.startswith("grounding.")  # noqa: E731
    return {
        "counters": {k: v for k, v in sorted(counters.items()) if k.startswith("grounding.")},
        "rejected": _by_key(rows.count(lambda s, r, *_: r, mine)),
        "rejected_by_source": {g: _by_key(rows.count(lambda s, r, *_: r, lambda s, r, src, t, c, g=g:
                                                     mine(s, r) and src == g)) for g in rows.present(2, mine)},
    }


# rows that enter each wall-clock phase of jobs.pipeline (the timings dict)
_PHASE_ROWS = {
    "read_probe_filter_grounding": "input", "dedupe": "input", "tokens_mix": "rows_in.tokens",
    "checkpoint_rows": "input", "spool_rows": "ledger",
    "pack_assemble": "ledger", "write_shards": "packed", "write_indexes": "ledger", "total": "input",
}


def time_summary(counters: dict, timings: dict, n_input: int, n_ledger: int, n_packed: int) -> dict:
    """Per stage: rows in, CPU seconds and rows per CPU second (from the counters); per phase of
    the job: wall seconds and rows per second."""
    stages = {}
    names = sorted({k.split(".", 1)[1] for k in counters if k.startswith(("time.", "rows_in."))},
                   key=lambda s: (STAGES.index(s) if s in STAGES else len(STAGES), s))
    for s in names:
        rows = counters.get(f"rows_in.{s}", 0)
        cpu = float(counters.get(f"cpu.{s}", counters.get(f"time.{s}", 0.0)))  # process CPU; task wall before
        stages[s] = {"rows_in": int(rows), "cpu_s": cpu, "task_wall_s": float(counters.get(f"time.{s}", 0.0)),
                     "rows_per_cpu_s": _share(rows, cpu)}
    known = {"input": n_input, "ledger": n_ledger, "packed": n_packed}
    phases = {}
    for k, sec in timings.items():
        src = _PHASE_ROWS.get(k)
        rows = known.get(src) if src in known else counters.get(src) if src else None
        phases[k] = {"wall_s": float(sec)}
        if rows is not None:
            phases[k].update(rows=int(rows), rows_per_s=_share(rows, sec))
    return {"stages": stages, "phases": phases, "process_wall_s": process_seconds()}


def process_seconds() -> float | None:
    """Real seconds since this process started (the command, with its Python start-up, imports and
    anything before the job such as the demo data), or None where it cannot be told."""
    import time

    try:
        import psutil

        return round(time.time() - psutil.Process().create_time(), 3)
    except Exception:  # noqa: BLE001 - a platform psutil does not cover: leave it out
        return None




# ---- all of it ----------------------------------------------------------------------------------


def compute_stats(packs: pa.Table, ledger: pa.Table, *, cfg, counters: dict, dedup: dict, timings: dict,
                  n_files: int) -> dict:
    """stats.json of one ledger and packs table (a single part): `stats_of_parts` of its statistics."""
    part = part_stats(ledger, packs, cfg)
    keyed = keyed_stats(*keyed_rows(ledger, step_of_rows(ledger, packs), 1))
    return stats_of_parts(part, keyed, cfg=cfg, counters=counters, dedup=dedup, timings=timings, n_files=n_files)


def stats_of_parts(p: PartStats, keyed: KeyedStats, *, cfg, counters: dict, dedup: dict, timings: dict,
                   n_files: int) -> dict:
    """stats.json from the merged statistics of every index part (`packer.partial_stats`)."""
    counters = dict(counters or {})
    timings = dict(timings or {})
    n_ledger = int(sum(p.rows.values()))
    n_input = int(sum(n for (_, _, _, _, c), n in p.rows.items() if not c))
    n_packed = int(sum(n for (s, *_), n in p.rows.items() if s == "packed"))
    max_steps = cfg.output.per_step_detail_max_steps
    n_steps = int(p.balance.keys[:, 0].max()) + 1 if len(p.balance) else 0
    out = {
        "config_fingerprint": cfg.fingerprint(),
        "config": {"context_length": cfg.pack.context_length, "max_vit_patches": cfg.pack.max_vit_patches,
                   "max_images_per_pack": cfg.pack.max_images_per_pack, "dp_size": cfg.pack.dp_size,
                   "micro_batch": cfg.pack.micro_batch, "grad_accum": cfg.pack.grad_accum,
                   "llm_buckets": list(cfg.pack.llm_buckets), "vit_buckets": list(cfg.pack.vit_buckets),
                   "patch_buckets": "auto" if cfg.pack.patch_buckets == "auto" else list(cfg.pack.vit_buckets),
                   "max_shapes": cfg.pack.max_shapes, "balance": cfg.pack.balance, "vit_phase": cfg.pack.vit_phase,
                   "mix_tolerance": cfg.pack.mix_tolerance,
                   "sources": {s.name: {"weight": s.weight, "task": s.task} for s in cfg.sources},
                   "task_weights": dict(cfg.mix.task_weights)},
        "input": {"files": n_files, "rows": n_input, "ledger_rows": n_ledger, "packed_rows": n_packed},
        "funnel": funnel(p),
        "tokens": token_distributions(p),
        "percentile_error": PERCENTILE_ERROR,
        "packing": packing_efficiency(p, cfg.pack),
        "shapes": shape_summary(p, cfg.pack),
        "balance": step_balance(p, cfg.pack, max_steps),
        "mix": mix_per_step(p, keyed, cfg, max_steps),
        "languages": languages(p),
        "dedup": dedup_summary(p, keyed, dedup),
        "grounding": grounding_summary(p, counters),
        "curation": curation_summary(p, cfg),
        "time": time_summary(counters, timings, n_input, n_ledger, n_packed),
        "counters": {k: v for k, v in sorted(counters.items()) if not k.startswith(("time.", "cpu."))},
        # CPU seconds the workers spent in each row stage (process time); task wall time beside it
        "stage_cpu_seconds": {k[4:]: round(float(v), 4) for k, v in sorted(counters.items()) if k.startswith("cpu.")}
        or {k[5:]: round(float(v), 4) for k, v in sorted(counters.items()) if k.startswith("time.")},
        "stage_task_wall_seconds": {k[5:]: round(float(v), 4) for k, v in sorted(counters.items())
                                    if k.startswith("time.")},
        "timings_s": {k: round(float(v), 4) for k, v in timings.items()},
    }
    if summarised(n_steps, max_steps):
        out["per_step_detail"] = per_step_detail(n_steps, max_steps)
    return out


# ---- warnings -----------------------------------------------------------------------------------


def _imbalance_remedy(config: dict) -> str:
    """What the user can change where `balance: mix` leaves ranks imbalanced (`packer.steps`): with
    one pack per rank per step, a step of dp single packs cannot be both a cross-section of the mix
    and alike in cost; two or more let light partner packs even the ranks' loads."""
    if config.get("balance", "mix") != "mix":
        return ""
    k = int(config.get("micro_batch", 1)) * int(config.get("grad_accum", 1))
    more = ("; at 1 pack per rank per step a step of single packs is seldom both a cross-section of the mix "
            "and even, and micro_batch x grad_accum >= 2 lets light partner packs even the ranks' loads") if k == 1 else ""
    return f". balance: mix puts each step's mix first (balance: cost puts the step time first){more}"


def report_warnings(stats: dict) -> list[str]:
    """Imbalance across ranks, steps whose mix is beyond its tolerance, a remainder that skews a
    label, copies of a sample in one pack, more shapes than max_shapes, high padding waste, and
    sources that lose most of their rows."""
    out = []
    b = stats.get("balance", {})
    st = b.get("step_time", {})
    if st.get("worst", 1.0) > WARN_IMBALANCE:
        out.append(f"rank imbalance: the modelled step time ({st.get('vit_phase', 'fused')} ViT phase) is "
                   f"{st['worst']:.3f}x its ideal at step {st.get('worst_step', 0)} (> {WARN_IMBALANCE}); the "
                   f"slowest rank sets the step time{_imbalance_remedy(stats.get('config', {}))}")
    cost = b.get("cost", {})
    if cost.get("max_over_mean_worst", 1.0) > WARN_IMBALANCE and st.get("vit_phase") == "separate":
        out.append(f"rank imbalance: total cost max/mean is {cost['max_over_mean_worst']:.3f} at step "
                   f"{cost.get('worst_step', 0)} (> {WARN_IMBALANCE})")
    m = stats.get("mix", {})
    z = m.get("tolerance_sigmas", 3.0)
    for key, what in (("by_source", "source"), ("by_task", "task")):
        for g, v in m.get(key, {}).items():
            n_over = v.get("steps_beyond_tolerance", 0)
            if n_over:
                out.append(f"step mix: {what} {g!r} is beyond its tolerance ({z:g} standard deviations of i.i.d. "
                           f"sampling) in {n_over} of {m.get('n_steps', 0)} steps; worst step {v['worst_step']}: "
                           f"{v['worst_step_share']:.1%} of samples ({v['worst_step_token_share']:.1%} of tokens) "
                           f"against {v['requested_share']:.1%} asked (tolerance ±{v['worst_step_tolerance']:.1%})")
        for g, v in (m.get(key, {}).items() if what == "source" else ()):
            rem, exp = v.get("remainder_samples", 0), v.get("remainder_expected", 0.0)
            if abs(rem - exp) > 1.0 + 1e-9:
                out.append(f"remainder skews source {g!r}: {rem} of its samples are left out of the last step, "
                           f"{exp:.1f} would be its share of the {m.get('remainder_samples', 0)} left out")
    if m.get("copies_sharing_pack", 0):
        out.append(f"{m['copies_sharing_pack']} upsampled copies share a pack with another copy of their sample")
    sh = stats.get("shapes", {})
    if sh.get("over_max_shapes"):
        out.append(f"{sh['n_shapes']} distinct (seq_len, vit_bucket) shapes (> max_shapes {sh['max_shapes']}); "
                   f"each is a graph compilation on Ascend and with torch.compile")
    p = stats.get("packing", {})
    if p.get("padded_tokens") and p.get("padding_waste", 0.0) > WARN_PADDING_WASTE:
        out.append(f"high padding waste: {p['padding_waste']:.1%} of padded tokens are padding "
                   f"(> {WARN_PADDING_WASTE:.0%}); consider smaller shape buckets or more data per step")
    for s, table in stats.get("funnel", {}).get("by_source", {}).items():
        lost = Counter({r: n for r, n in table.get("input_rows_dropped", {}).items() if r not in _INTENDED_DROPS})
        intended = sum(n for r, n in table.get("input_rows_dropped", {}).items() if r in _INTENDED_DROPS)
        base = table.get("input_rows", 0) - intended
        dropped = sum(lost.values())
        if base and dropped / base > WARN_SOURCE_DROP:
            top = ", ".join(f"{r} ×{n}" for r, n in lost.most_common(3))
            out.append(f"source {s!r} loses {dropped / base:.0%} of its input rows (> {WARN_SOURCE_DROP:.0%}); "
                       f"top reasons: {top}")
    return out
