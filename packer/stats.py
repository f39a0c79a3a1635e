"""Statistics of a pack job, computed from the indexes, the ledger and the exact stage counters.

Nothing here is estimated: every figure is a count or a sum over packs.parquet (`PACKS_SCHEMA`),
ledger.parquet (`LEDGER_SCHEMA`) or the per-stage counters summed over rows. The sections of
stats.json:

- `funnel`: per stage (read, probe, filter, grounding, dedup, tokens, mix, pack) the rows in, the
  rows out and the count per reason, overall, per source and per task. A row leaves at the stage
  named by its reason's prefix (`filter.url` leaves at `filter`); packed rows pass every stage;
  upsampled copies (copy > 0) enter at the output of `mix`.
- `tokens`: per-sample text / vision / loss / total tokens of the packed samples (and of every
  sample that was counted), with percentiles and histograms.
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

`report_warnings(stats)` turns the figures into the warnings the terminal summary and the HTML
report show.
"""

from __future__ import annotations

import functools
import math
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from packer import step_mix
from packer.curation_stats import curation_summary

STAGES = ("read", "probe", "filter", "grounding", "dedup", "tokens", "mix", "pack")
PERCENTILES = (1, 5, 25, 50, 75, 90, 95, 99)
HIST_BINS = 30
FILL_BINS = 20
EXAMPLES_PER_REASON = 5
TOP_CLUSTERS = 10
NO_REASON = "(none)"
UNKNOWN_LANG = "und"
# a row that left without a reason code is put at the stage its status implies
_STAGE_OF_STATUS = {"duplicate": "dedup", "too_long": "pack", "remainder": "pack"}

# warning thresholds (report_warnings)
WARN_IMBALANCE = 1.10  # worst per-step modelled step time over its ideal (and total cost max/mean)
WARN_PADDING_WASTE = 0.20  # share of padded tokens that are padding
WARN_SOURCE_DROP = 0.50  # share of a source's input rows not packed (mix downsampling excluded)
_INTENDED_DROPS = ("mix.downsampled",)


def _np(table: pa.Table, col: str) -> np.ndarray:
    return table.column(col).to_numpy(zero_copy_only=False)


def _share(a: float, b: float) -> float:
    return float(a) / float(b) if b else 0.0


def stage_of_reason(reason: str | None, status: str) -> str:
    """The stage a reason code names: the part before the first "."."""
    if reason:
        return reason.split(".", 1)[0]
    return _STAGE_OF_STATUS.get(status, "other")


class Coded:
    """A string column as integer codes into its distinct values: a ledger has millions of rows but
    a handful of statuses, reasons, sources, tasks and languages."""

    def __init__(self, column, fill: str = ""):
        arr = pc.fill_null(column, fill)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        enc = pc.dictionary_encode(arr)
        self.values: list[str] = enc.dictionary.to_pylist()
        self.codes = np.asarray(enc.indices.to_numpy(zero_copy_only=False), dtype=np.int64)

    def eq(self, value: str) -> np.ndarray:
        if value not in self.values:
            return np.zeros(len(self.codes), dtype=bool)
        return self.codes == self.values.index(value)

    def map(self, fn, dtype=object) -> np.ndarray:
        """`fn(value)` for every row, evaluated once per distinct value."""
        table = np.empty(len(self.values), dtype=dtype)
        for i, v in enumerate(self.values):
            table[i] = fn(v)
        return table[self.codes]

    def counts(self, mask: np.ndarray | None = None, rename: dict | None = None) -> dict[str, int]:
        """Rows per value (under `mask`), most common first, ties by value."""
        codes = self.codes if mask is None else self.codes[mask]
        n = np.bincount(codes, minlength=len(self.values))
        rename = rename or {}
        pairs = [(rename.get(v, v), int(c)) for v, c in zip(self.values, n) if c]
        return dict(sorted(pairs, key=lambda kv: (-kv[1], kv[0])))

    def present(self, mask: np.ndarray | None = None) -> list[str]:
        codes = self.codes if mask is None else self.codes[mask]
        return sorted(self.values[i] for i in np.nonzero(np.bincount(codes, minlength=len(self.values)))[0])


def pair_map(a: Coded, b: Coded, fn, dtype=object) -> np.ndarray:
    """`fn(a_value, b_value)` for every row, evaluated once per distinct pair present."""
    nb = max(len(b.values), 1)
    key = a.codes * nb + b.codes
    table = np.empty(max(len(a.values), 1) * nb, dtype=dtype)
    for k in np.nonzero(np.bincount(key, minlength=len(table)))[0].tolist():
        table[k] = fn(a.values[k // nb], b.values[k % nb])
    return table[key]


class LedgerColumns:
    """The ledger's columns as the statistics need them, each decoded once."""

    def __init__(self, ledger: pa.Table):
        self.table = ledger
        self.n = ledger.num_rows

    @functools.cached_property
    def status(self) -> Coded:
        return Coded(self.table.column("status"))

    @functools.cached_property
    def reason(self) -> Coded:
        return Coded(self.table.column("reason"))

    @functools.cached_property
    def source(self) -> Coded:
        return Coded(self.table.column("source"))

    @functools.cached_property
    def task(self) -> Coded:
        return Coded(self.table.column("task"))

    @functools.cached_property
    def lang(self) -> Coded:
        return Coded(self.table.column("lang"), UNKNOWN_LANG)

    @functools.cached_property
    def copy(self) -> np.ndarray:
        return np.asarray(_np(self.table, "copy"), dtype=np.int64)

    @functools.cached_property
    def packed(self) -> np.ndarray:
        return self.status.eq("packed")

    def numbers(self, col: str) -> np.ndarray:
        return np.asarray(pc.fill_null(self.table.column(col), 0).to_numpy(zero_copy_only=False), dtype=np.float64)

    def stage_test(self, fn) -> np.ndarray:
        """`fn(status, reason)` per row (a bool), once per distinct pair."""
        return pair_map(self.status, self.reason, fn, dtype=bool)

    @functools.cached_property
    def leave(self) -> tuple[list[str], np.ndarray]:
        """The stage order (STAGES, then any other prefix found) and, per row, the index of the stage
        that removed it (len(stages) for packed rows)."""
        name_of = {}  # (status, reason) -> stage name, "" for packed
        pair_map(self.status, self.reason, lambda s, r: name_of.setdefault(
            (s, r), "" if s == "packed" else stage_of_reason(r, s)), dtype=bool)
        stages = list(STAGES) + sorted(set(name_of.values()) - set(STAGES) - {""})
        rank = {s: i for i, s in enumerate(stages)}
        rank[""] = len(stages)
        return stages, pair_map(self.status, self.reason, lambda s, r: rank[name_of[(s, r)]], dtype=np.int64)

    def ids(self, rows: np.ndarray) -> list[str]:
        return self.table.column("sample_id").take(pa.array(rows, pa.int64())).to_pylist()


def _columns(ledger) -> LedgerColumns:
    return ledger if isinstance(ledger, LedgerColumns) else LedgerColumns(ledger)


# ---- funnel -------------------------------------------------------------------------------------


def funnel(ledger) -> dict:
    """Per stage: rows in, rows out and count per reason; overall, per source and per task.

    Also the final status counts, all reasons and example sample_ids per reason (first in
    (sample_id, copy) order), kept for the reason table of the report.
    """
    cols = _columns(ledger)
    stages, leave = cols.leave
    is_copy = cols.copy > 0
    rename = {"": NO_REASON}
    mix_at = stages.index("mix")

    def table_for(mask: np.ndarray) -> dict:
        lv, cp = leave[mask], is_copy[mask]
        per_stage = {}
        for i, name in enumerate(stages):
            enters = int(np.sum((lv >= i) & ~cp)) + (int(np.sum((lv >= i) & cp)) if i > mix_at else 0)
            gone = mask & (leave == i)
            n_gone = int(gone.sum())
            added = int(cp.sum()) if i == mix_at else 0
            per_stage[name] = {"in": enters, "out": enters - n_gone + added, "removed": n_gone, "added": added,
                               "reasons": dict(sorted(cols.reason.counts(gone, rename).items()))}
        done = lv == len(stages)
        return {"input_rows": int((~cp).sum()), "input_rows_packed": int((done & ~cp).sum()),
                "copies": int(cp.sum()), "packed": int(done.sum()),
                "input_rows_dropped": dict(sorted(cols.reason.counts(mask & ~is_copy & ~cols.packed, rename).items())),
                "stages": per_stage}

    res: dict = {"stages": stages, "total": table_for(np.ones(cols.n, dtype=bool))}
    for key, coded in (("by_source", cols.source), ("by_task", cols.task)):
        res[key] = {g: table_for(coded.eq(g)) for g in coded.present()}
    res["status"] = dict(sorted(cols.status.counts().items()))
    res["status_by_source"] = {g: dict(sorted(cols.status.counts(cols.source.eq(g)).items()))
                               for g in cols.source.present()}
    dropped = ~cols.packed
    res["reasons"] = dict(sorted(cols.reason.counts(dropped, rename).items()))
    res["reason_stage"] = {}
    res["examples"] = {}
    for code, r in enumerate(cols.reason.values):
        rows = np.nonzero(dropped & (cols.reason.codes == code))[0]
        if not len(rows):
            continue
        key = rename.get(r, r)
        res["reason_stage"][key] = stages[int(leave[rows[0]])]
        ids = list(dict.fromkeys(cols.ids(rows[:EXAMPLES_PER_REASON * 4])))
        res["examples"][key] = ids[:EXAMPLES_PER_REASON]
    res["reason_stage"] = dict(sorted(res["reason_stage"].items()))
    res["examples"] = dict(sorted(res["examples"].items()))
    return res


# ---- tokens -------------------------------------------------------------------------------------


def distribution(values: np.ndarray, bins: int = HIST_BINS, lo: float | None = None, hi: float | None = None) -> dict:
    """count, sum, mean, min, max, percentiles and a histogram (edges, counts) of `values`."""
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    if not len(v):
        return {"count": 0}
    lo = float(v.min()) if lo is None else lo
    hi = float(v.max()) if hi is None else hi
    if hi <= lo:
        hi = lo + 1.0
    edges = np.linspace(lo, hi, bins + 1)
    counts, _ = np.histogram(v, bins=edges)
    q = np.percentile(v, PERCENTILES)
    return {
        "count": int(len(v)), "sum": float(v.sum()), "mean": float(v.mean()), "min": float(v.min()),
        "max": float(v.max()), **{f"p{p}": float(x) for p, x in zip(PERCENTILES, q)},
        "hist": {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]},
    }


TOKEN_COLUMNS = ("text_tokens", "vision_tokens", "loss_tokens", "total_tokens")


def token_distributions(ledger) -> dict:
    """Per-sample token counts: of the packed samples (what is trained on) and of every sample the
    token stage counted (packed, too long, remainder or downsampled by the mix)."""
    cols = _columns(ledger)
    counted = cols.stage_test(lambda s, r: s == "packed" or (
        stage_of_reason(r, s) in ("tokens", "mix", "pack") and not r.startswith("tokens.")))
    out: dict = {"packed": {}, "counted": {}}
    for col in TOKEN_COLUMNS:
        v = cols.numbers(col)
        out["packed"][col] = distribution(v[cols.packed], lo=0.0)
        out["counted"][col] = distribution(v[counted], lo=0.0)
    return out


# ---- packing ------------------------------------------------------------------------------------


def packing_efficiency(packs: pa.Table, ledger, pack_cfg) -> dict:
    """Real/padded tokens, bins against the lower bound, shape buckets with their waste, fill."""
    real = _np(packs, "real_tokens").astype(np.int64)
    padded = _np(packs, "seq_len").astype(np.int64)
    filler = _np(packs, "is_filler").astype(bool)
    repeat = _np(packs, "repeat_of").astype(np.int64) >= 0
    content = ~filler & ~repeat
    cols = _columns(ledger)
    packed = cols.packed

    def ledger_sum(col: str) -> int:
        return int(cols.numbers(col)[packed].sum())

    items_tokens, items_patches, items_images = ledger_sum("total_tokens"), ledger_sum("vit_patches"), ledger_sum("n_images")
    lb = max(math.ceil(items_tokens / pack_cfg.context_length), math.ceil(items_patches / pack_cfg.max_vit_patches),
             math.ceil(items_images / pack_cfg.max_images_per_pack))
    fill = np.divide(real, padded, out=np.zeros(len(real)), where=padded > 0)
    total_real, total_padded = int(real.sum()), int(padded.sum())
    return {
        "n_packs": int(len(real)),
        "n_filler_packs": int(filler.sum()),
        "n_repeat_packs": int(repeat.sum()),
        "n_content_packs": int(content.sum()),
        "real_tokens": total_real,
        "padded_tokens": total_padded,
        "padding_tokens": total_padded - total_real,
        "fill": _share(total_real, total_padded),
        "padding_waste": _share(total_padded - total_real, total_padded),
        "fill_content_packs": _share(int(real[content].sum()), int(padded[content].sum())),
        "packed_items": {"samples": int(packed.sum()), "tokens": items_tokens, "vit_patches": items_patches,
                         "images": items_images},
        "bins_lower_bound": int(lb),
        "bins_over_lower_bound": _share(int(content.sum()), lb),
        "shapes": shape_summary(packs, pack_cfg)["shapes"],
        "fill_hist": distribution(fill[content], bins=FILL_BINS, lo=0.0, hi=1.0),
        "real_tokens_hist": distribution(real[content], lo=0.0, hi=float(pack_cfg.context_length)),
        "samples_per_pack": distribution(_np(packs, "n_samples")[content], lo=0.0),
    }


def shape_summary(packs: pa.Table, pack_cfg) -> dict:
    """Distinct (seq_len, vit_bucket) shapes with packs and padding per shape (LLM tokens and ViT
    patches apart), the buckets in use with their waste, and the check against max_shapes. Without
    ViT buckets a pack's ViT input is its real patch total: not a shape to group by (bucket 0)."""
    real = _np(packs, "real_tokens").astype(np.int64)
    padded = _np(packs, "seq_len").astype(np.int64)
    patches = _np(packs, "vit_patches").astype(np.int64)
    filler = _np(packs, "is_filler").astype(bool)
    bucketed = bool(getattr(pack_cfg, "patch_bucketing", bool(pack_cfg.vit_buckets)))
    vit_bucket = _np(packs, "vit_bucket").astype(np.int64) if bucketed else np.zeros(len(real), np.int64)
    shapes = []
    for sl, vb in sorted(set(zip(padded.tolist(), vit_bucket.tolist()))):
        m = (padded == sl) & (vit_bucket == vb)
        r, p = int(real[m].sum()), int(padded[m].sum())
        vp, vpad = int(patches[m].sum()), int(vb) * int(m.sum())
        shapes.append({"seq_len": int(sl), "vit_bucket": int(vb), "packs": int(m.sum()),
                       "filler_packs": int((m & filler).sum()), "real_tokens": r, "padded_tokens": p,
                       "padding_waste": _share(p - r, p), "llm_padding_tokens": p - r, "vit_patches": vp,
                       "vit_padded_patches": vpad if vb else vp, "vit_padding_patches": vpad - vp if vb else 0,
                       "vit_waste": _share(vpad - vp, vpad) if vb else 0.0})
    per_bucket = []
    for vb in sorted(set(vit_bucket.tolist()) - {0}):
        m = vit_bucket == vb
        vp, vpad = int(patches[m].sum()), int(vb) * int(m.sum())
        per_bucket.append({"vit_bucket": int(vb), "packs": int(m.sum()), "vit_patches": vp, "padded_patches": vpad,
                           "waste": _share(vpad - vp, vpad)})
    vp_all = int(patches.sum())
    vpad_all = int(vit_bucket.sum()) if bucketed else vp_all
    max_shapes = int(getattr(pack_cfg, "max_shapes", 0) or 0)
    return {
        "n_shapes": len(shapes),
        "max_shapes": max_shapes,
        "over_max_shapes": bool(max_shapes and len(shapes) > max_shapes),
        "patch_buckets": "auto" if getattr(pack_cfg, "patch_buckets", ()) == "auto" else list(pack_cfg.vit_buckets),
        "llm_buckets_used": sorted({int(x) for x in padded.tolist()}),
        "vit_buckets_used": [b["vit_bucket"] for b in per_bucket],
        "shapes": shapes,
        "vit_buckets": per_bucket,
        "llm_padding_waste": _share(int(padded.sum()) - int(real.sum()), int(padded.sum())),
        "vit_padding_patches": vpad_all - vp_all,
        "vit_padding_over_real": _share(vpad_all - vp_all, vp_all),
    }


# ---- balance ------------------------------------------------------------------------------------


def step_balance(packs: pa.Table, pack_cfg=None) -> dict:
    """Per step × rank grids of real tokens, attention cost (Σlen²), ViT cost, LLM cost and total
    cost; max/mean over ranks per step (its mean and worst over steps); and the modelled step time
    over its ideal per ``vit_phase`` (``fused``: max over ranks of the total; ``separate``: max of
    the ViT plus max of the LLM), with both forms reported."""
    if packs.num_rows == 0:
        return {"n_steps": 0, "n_ranks": 0}
    step = _np(packs, "step").astype(np.int64)
    rank = _np(packs, "rank").astype(np.int64)
    n_steps, n_ranks = int(step.max()) + 1, int(rank.max()) + 1
    out: dict = {"n_steps": n_steps, "n_ranks": n_ranks}
    vit = _np(packs, "vit_cost").astype(np.float64)
    total = _np(packs, "cost").astype(np.float64) if "cost" in packs.column_names else vit * 0.0
    values = {"real_tokens": _np(packs, "real_tokens").astype(np.float64), "attn_cost": _np(packs, "attn_cost"),
              "vit_cost": vit, "llm_cost": total - vit, "cost": total}
    grids = {}
    for col, v in values.items():
        grid = np.zeros((n_steps, n_ranks))
        np.add.at(grid, (step, rank), np.asarray(v, dtype=np.float64))
        grids[col] = grid
        mean = grid.mean(axis=1)
        mx = grid.max(axis=1)
        ratio = np.divide(mx, mean, out=np.ones_like(mean), where=mean > 0)
        out[col] = {"grid": grid.tolist(), "max_per_step": mx.tolist(), "mean_per_step": mean.tolist(),
                    "per_step": ratio.tolist(), "max_over_mean_worst": float(ratio.max()),
                    "max_over_mean_mean": float(ratio.mean()), "worst_step": int(ratio.argmax())}
    ideal = grids["vit_cost"].mean(axis=1) + grids["llm_cost"].mean(axis=1)
    phase = getattr(pack_cfg, "vit_phase", "fused") if pack_cfg is not None else "fused"
    for name, time in (("fused", grids["cost"].max(axis=1)),
                       ("separate", grids["vit_cost"].max(axis=1) + grids["llm_cost"].max(axis=1))):
        r = np.divide(time, ideal, out=np.ones_like(ideal), where=ideal > 0)
        out[f"step_time_{name}"] = {"per_step": r.tolist(), "mean": float(r.mean()), "worst": float(r.max()),
                                    "worst_step": int(r.argmax())}
    out["step_time"] = dict(out[f"step_time_{phase}"], vit_phase=phase)
    counts = np.zeros((n_steps, n_ranks), dtype=np.int64)
    np.add.at(counts, (step, rank), 1)
    out["packs_grid"] = counts.tolist()
    out["packs_per_rank_per_step_equal"] = bool((counts == counts[0, 0]).all())
    return out


# ---- mix ----------------------------------------------------------------------------------------


def mix_per_step(packs: pa.Table, ledger, cfg) -> dict:
    """Share of each source's (and task's) packed samples and tokens per step, against the global
    share and the share the weights ask for (weight × rows entering the mix, normalised; in tokens,
    weight × their tokens); the spread of shares across steps; per step the tolerance (``z`` =
    ``pack.mix_tolerance`` standard deviations of i.i.d. sampling of that step's samples,
    `packer.step_mix.sigma`) and the steps beyond it; the remainder's draw per label against its
    share of the left-out samples; and copies of one sample that share a pack or a step."""
    cols = _columns(ledger)
    reached_mix = (cols.copy == 0) & cols.stage_test(lambda s, r: s == "packed" or
                                                     stage_of_reason(r, s) in ("mix", "pack"))
    src_w = {s.name: float(s.weight) for s in cfg.sources}
    task_w = dict(cfg.mix.task_weights)
    row_w = pair_map(cols.source, cols.task, lambda s, t: src_w.get(s, 1.0) * task_w.get(t, 1.0), dtype=np.float64)
    z = float(getattr(cfg.pack, "mix_tolerance", 3.0))

    packed = cols.packed
    tok = cols.numbers("total_tokens")
    pid = np.asarray(pc.fill_null(cols.table.column("pack_id"), -1).to_numpy(zero_copy_only=False), dtype=np.int64)
    n_packs = packs.num_rows
    step_of_pack = _np(packs, "step").astype(np.int64) if n_packs else np.zeros(0, dtype=np.int64)
    n_steps = int(step_of_pack.max()) + 1 if n_packs else 0
    valid = packed & (pid >= 0) & (pid < n_packs)
    sample_step = step_of_pack[pid[valid]] if n_packs else np.zeros(0, dtype=np.int64)
    n_step = np.bincount(sample_step, minlength=n_steps).astype(np.float64)
    t_valid = tok[valid]
    remainder = cols.status.eq("remainder")

    def by(coded: Coded, weights: dict[str, float]) -> dict:
        names = coded.present()
        code = {g: i for i, g in enumerate(names)}
        row_group = coded.map(lambda v: code.get(v, -1), dtype=np.int64)
        entering = np.bincount(row_group[reached_mix], minlength=len(names))
        wanted = np.bincount(row_group[reached_mix], weights=row_w[reached_mix], minlength=len(names))
        wanted_t = np.bincount(row_group[reached_mix], weights=(row_w * tok)[reached_mix], minlength=len(names))
        total_w, total_wt = float(wanted.sum()), float(wanted_t.sum())
        counts = np.zeros((n_steps, len(names)), dtype=np.int64)
        tokens = np.zeros((n_steps, len(names)))
        if len(sample_step):
            np.add.at(counts, (sample_step, row_group[valid]), 1)
            np.add.at(tokens, (sample_step, row_group[valid]), t_valid)
        per_step_total = counts.sum(axis=1)
        per_step_tokens = tokens.sum(axis=1)
        shares = np.divide(counts, per_step_total[:, None], out=np.zeros(counts.shape),
                           where=per_step_total[:, None] > 0)
        t_shares = np.divide(tokens, per_step_tokens[:, None], out=np.zeros(tokens.shape),
                             where=per_step_tokens[:, None] > 0)
        total = int(counts.sum())
        asked = np.asarray([_share(float(wanted[code[g]]), total_w) for g in names])
        asked_t = np.asarray([_share(float(wanted_t[code[g]]), total_wt) for g in names])
        g_rows = row_group[valid]
        label_t2 = np.bincount(g_rows, weights=t_valid**2, minlength=len(names)) if len(g_rows) else np.zeros(len(names))
        sig_s, sig_t = step_mix.sigma(asked, asked_t, label_t2, float((t_valid**2).sum()), float(t_valid.sum()),
                                      float(len(t_valid)), n_step)
        dev_s, dev_t = shares - asked, t_shares - asked_t
        over = (np.abs(dev_s) > z * sig_s) | (np.abs(dev_t) > z * sig_t)
        rem_rows = row_group[remainder & (row_group >= 0)]
        n_rem = int(rem_rows.shape[0])
        rem = np.bincount(rem_rows, minlength=len(names)) if n_rem else np.zeros(len(names), np.int64)
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
                "per_step_samples": counts[:, i].tolist(),
                "per_step_share": col_share.tolist(),
                "per_step_token_share": t_shares[:, i].tolist(),
                "max_abs_step_deviation": float(np.abs(col_share - glob).max()) if n_steps else 0.0,
                "packed_tokens": int(tokens[:, i].sum()),
                "token_share": _share(float(tokens[:, i].sum()), float(tokens.sum())),
                "per_step_tokens": tokens[:, i].astype(np.int64).tolist(),
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
                "remainder_samples": int(rem[i]),
                "remainder_expected": float(glob * n_rem),
            }
        return res

    copies = _copies_together(cols, pid, step_of_pack, n_packs)
    return {"n_steps": n_steps, "samples_per_step": np.bincount(sample_step, minlength=n_steps).tolist(),
            "tolerance_sigmas": z, "balance": getattr(cfg.pack, "balance", "mix"),
            "remainder_samples": int(remainder.sum()), **copies,
            "by_source": by(cols.source, src_w), "by_task": by(cols.task, task_w)}


def _copies_together(cols: LedgerColumns, pid: np.ndarray, step_of_pack: np.ndarray, n_packs: int) -> dict:
    """Upsampled copies of one sample that landed in the same pack, or the same step (pairs of
    copies beyond the first in each)."""
    packed = cols.packed & (pid >= 0) & (pid < n_packs)
    rows = np.flatnonzero(packed)
    ids = Coded(cols.table.column("sample_id").take(pa.array(rows, pa.int64()))).codes if rows.size else rows
    out = {}
    for name, key in (("copies_sharing_pack", pid[rows]), ("copies_sharing_step", step_of_pack[pid[rows]] if n_packs else pid[rows])):
        if not rows.size:
            out[name] = 0
            continue
        pair = np.stack((ids, key), axis=1)
        uniq = np.unique(pair, axis=0).shape[0]
        out[name] = int(rows.size - uniq)
    return out


# ---- languages, dedup, grounding, time ----------------------------------------------------------


def languages(ledger) -> dict:
    """Input rows (copy 0) and packed rows per detected language; lang_score per language."""
    cols = _columns(ledger)
    lang = cols.lang
    names = [v or UNKNOWN_LANG for v in lang.values]  # an empty language id counts as undetermined
    score = np.asarray(pc.fill_null(cols.table.column("lang_score"), np.nan).to_numpy(zero_copy_only=False),
                       dtype=np.float64)
    copy0 = cols.copy == 0

    def per_lang(mask: np.ndarray) -> dict[str, int]:
        merged: Counter = Counter()
        for name, c in zip(names, np.bincount(lang.codes[mask], minlength=len(names))):
            merged[name] += int(c)
        return dict(sorted(((k, c) for k, c in merged.items() if c), key=lambda kv: (-kv[1], kv[0])))

    # no language at all: the filter stage never language-checked the row (its task is not in
    # filters.tasks, it left before the filter stage, or a text rule before language id rejected
    # it); "und" with a score: fastText had no answer
    not_checked = copy0 & np.asarray(pc.is_null(cols.table.column("lang")).to_numpy(zero_copy_only=False), bool)
    res: dict = {"input": per_lang(copy0), "packed": per_lang(cols.packed),
                 "input_not_checked": int(not_checked.sum()),
                 "not_checked_by_task": cols.task.counts(not_checked),
                 "by_source": {s: per_lang(copy0 & cols.source.eq(s)) for s in cols.source.present()}, "score": {}}
    row_name = np.asarray(names, dtype=object)[lang.codes] if names else np.zeros(0, dtype=object)
    for g in res["input"]:
        v = score[copy0 & (row_name == g)]
        v = v[~np.isnan(v)]
        if len(v):
            res["score"][g] = {"count": int(len(v)), "mean": float(v.mean()), "min": float(v.min()),
                               "p5": float(np.percentile(v, 5)), "p50": float(np.percentile(v, 50))}
    return res


def dedup_summary(ledger, dedup: dict) -> dict:
    """The dedup stage's own figures (passed through), duplicates per source and reason, and the
    cluster sizes from the ledger: a cluster is a kept representative and the rows whose dup_of is it."""
    cols = _columns(ledger)
    dup = cols.status.eq("duplicate")
    rows = np.nonzero(dup)[0]
    dup_of = cols.table.column("dup_of").take(pa.array(rows, pa.int64()))
    members = Coded(dup_of).counts()
    members.pop("", None)
    sizes = Counter(n + 1 for n in members.values())
    largest = sorted(members.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_CLUSTERS]
    return {
        "stage": dedup or {},
        "duplicates": int(dup.sum()),
        "duplicates_by_source": dict(sorted(cols.source.counts(dup).items())),
        "duplicates_by_reason": dict(sorted(cols.reason.counts(dup, {"": NO_REASON}).items())),
        "n_clusters": len(members),
        "cluster_sizes": {str(k): v for k, v in sorted(sizes.items())},
        "largest_clusters": [{"representative": r, "size": n + 1} for r, n in largest],
    }


def grounding_summary(ledger, counters: dict) -> dict:
    """Counters `grounding.*` of the grounding stage and the invalid rows per code and source."""
    cols = _columns(ledger)
    mine = ~cols.packed & cols.reason.map(lambda r: r.startswith("grounding."), dtype=bool)
    return {
        "counters": {k: v for k, v in sorted(counters.items()) if k.startswith("grounding.")},
        "rejected": dict(sorted(cols.reason.counts(mine).items())),
        "rejected_by_source": {s: dict(sorted(cols.reason.counts(mine & cols.source.eq(s)).items()))
                               for s in cols.source.present(mine)},
    }


# rows that enter each wall-clock phase of jobs.pipeline (the timings dict)
_PHASE_ROWS = {
    "read_probe_filter_grounding": "input", "dedupe": "input", "tokens_mix": "rows_in.tokens",
    "checkpoint_rows": "input",
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
    counters = dict(counters or {})
    timings = dict(timings or {})
    cols = LedgerColumns(ledger)
    n_input = int(np.sum(cols.copy == 0))
    n_packed = int(cols.packed.sum())
    return {
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
        "input": {"files": n_files, "rows": n_input, "ledger_rows": ledger.num_rows, "packed_rows": n_packed},
        "funnel": funnel(cols),
        "tokens": token_distributions(cols),
        "packing": packing_efficiency(packs, cols, cfg.pack),
        "shapes": shape_summary(packs, cfg.pack),
        "balance": step_balance(packs, cfg.pack),
        "mix": mix_per_step(packs, cols, cfg),
        "languages": languages(cols),
        "dedup": dedup_summary(cols, dedup),
        "grounding": grounding_summary(cols, counters),
        "curation": curation_summary(ledger, cfg),
        "time": time_summary(counters, timings, n_input, ledger.num_rows, n_packed),
        "counters": {k: v for k, v in sorted(counters.items()) if not k.startswith(("time.", "cpu."))},
        # CPU seconds the workers spent in each row stage (process time); task wall time beside it
        "stage_cpu_seconds": {k[4:]: round(float(v), 4) for k, v in sorted(counters.items()) if k.startswith("cpu.")}
        or {k[5:]: round(float(v), 4) for k, v in sorted(counters.items()) if k.startswith("time.")},
        "stage_task_wall_seconds": {k[5:]: round(float(v), 4) for k, v in sorted(counters.items())
                                    if k.startswith("time.")},
        "timings_s": {k: round(float(v), 4) for k, v in timings.items()},
    }


# ---- warnings -----------------------------------------------------------------------------------


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
                   f"slowest rank sets the step time")
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
