"""The HTML report of a pack job: one self-contained file with embedded plots.

`write_report(OUT)` reads OUT/report/stats.json (see `packer.stats`) and OUT/index/packs.parquet,
draws the plots with matplotlib (Agg) into OUT/report/*.png and writes OUT/report/report.html with
the same PNGs embedded as base64 data URIs: nothing is fetched from the network, so the file can
be mailed or opened offline.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

import numpy as np

from packer.stats import STAGES, report_warnings
from schemas.manifest import MANIFEST_NAME, STATS_PATH

REPORT_NAME = "report.html"
SECTIONS = ("summary", "funnel", "lengths", "fill", "balance", "mix", "languages", "dedup", "grounding",
            "reasons", "time")
_STATUS_COLORS = {"packed": "#4c9a2a", "filtered": "#e0a030", "invalid": "#c0392b", "duplicate": "#8e7cc3",
                  "too_long": "#3d85c6", "remainder": "#999999"}
_DPI = 100
_PNG_META = {"Software": None}  # no tool URL inside the PNGs


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "axes.titlesize": 10, "axes.spines.top": False,
                         "axes.spines.right": False, "figure.dpi": _DPI})
    return plt


class _Figures:
    """Saves each figure as report/<name>.png and keeps its bytes for embedding."""

    def __init__(self, report_dir: Path):
        self.dir = report_dir
        self.png: dict[str, bytes] = {}

    def save(self, name: str, fig) -> None:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=_DPI, bbox_inches="tight", metadata=_PNG_META)
        self.png[name] = buf.getvalue()
        (self.dir / f"{name}.png").write_bytes(self.png[name])
        import matplotlib.pyplot as plt

        plt.close(fig)

    def img(self, name: str, alt: str) -> str:
        if name not in self.png:
            return '<p class="muted">no data</p>'
        data = base64.b64encode(self.png[name]).decode()
        return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


# ---- plots --------------------------------------------------------------------------------------


def _plot_funnel(figs: _Figures, stats: dict) -> None:
    plt = _plt()
    f = stats.get("funnel", {})
    total = f.get("total", {}).get("stages", {})
    stages = [s for s in f.get("stages", STAGES) if s in total]
    if not stages:
        return
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [3, 2]})
    y = np.arange(len(stages))[::-1]
    kept = [total[s]["in"] - total[s]["removed"] for s in stages]
    removed = [total[s]["removed"] for s in stages]
    added = [total[s]["added"] for s in stages]
    ax.barh(y, kept, color="#4c78a8", label="passes")
    ax.barh(y, removed, left=kept, color="#d62728", label="removed")
    ax.barh(y, added, left=np.add(kept, removed), color="#59a14f", label="added (upsampled copies)")
    for yi, s in zip(y, stages):
        t = total[s]
        note = f"{t['in']:,} → {t['out']:,}"
        if t["removed"]:
            note += f"  (−{t['removed']:,})"
        if t["added"]:
            note += f"  (+{t['added']:,})"
        ax.text(max(t["in"] + t["added"], 1) * 1.01, yi, note, va="center", fontsize=8)
    ax.set_yticks(y, stages)
    ax.set_xlabel("rows")
    ax.set_xlim(0, max(max(t["in"] + t["added"] for t in total.values()), 1) * 1.45)
    ax.set_title("rows in and out of each stage")
    _legend(ax, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize=8, frameon=False)

    by_source = f.get("status_by_source", {})
    names = list(by_source)
    statuses = [s for s in _STATUS_COLORS if any(s in v for v in by_source.values())]
    yy = np.arange(len(names))[::-1]
    left = np.zeros(len(names))
    for st in statuses:
        vals = np.array([by_source[n].get(st, 0) for n in names], dtype=float)
        ax2.barh(yy, vals, left=left, color=_STATUS_COLORS[st], label=st)
        left += vals
    ax2.set_yticks(yy, names)
    ax2.set_xlabel("ledger rows")
    ax2.set_title("final status per source")
    _legend(ax2, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize=8, frameon=False)
    fig.tight_layout()
    figs.save("funnel", fig)


def _legend(ax, **kw) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**kw)


def _hist_bars(ax, dist: dict, **kw) -> None:
    h = dist.get("hist")
    if not h:
        return
    edges = np.asarray(h["edges"])
    ax.bar(edges[:-1], h["counts"], width=np.diff(edges), align="edge", **kw)


def _plot_lengths(figs: _Figures, stats: dict, packs) -> None:
    plt = _plt()
    tok = stats.get("tokens", {}).get("packed", {})
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 3.6))
    total = tok.get("total_tokens", {})
    _hist_bars(ax, total, color="#4c78a8", edgecolor="white", linewidth=0.4)
    for p, style in (("p50", "--"), ("p95", ":")):
        if p in total:
            ax.axvline(total[p], color="black", linestyle=style, linewidth=1, label=f"{p} = {total[p]:,.0f}")
    ax.set_title(f"before packing: tokens per sample ({total.get('count', 0):,} packed samples)")
    ax.set_xlabel("total tokens per sample")
    ax.set_ylabel("samples")
    _legend(ax, fontsize=8, frameon=False)

    p = stats.get("packing", {})
    _hist_bars(ax2, p.get("real_tokens_hist", {}), color="#f28e2b", edgecolor="white", linewidth=0.4)
    for b in stats.get("config", {}).get("llm_buckets", []):
        ax2.axvline(b, color="#d62728", linestyle="--", linewidth=1)
    if packs is not None and packs.num_rows:
        seq = sorted(set(packs.column("seq_len").to_pylist()))
        ax2.text(0.02, 0.95, "seq_len used: " + ", ".join(f"{s:,}" for s in seq), transform=ax2.transAxes,
                 fontsize=8, va="top")
    ax2.set_title(f"after packing: real tokens per pack ({p.get('n_content_packs', 0):,} packs)")
    ax2.set_xlabel("real tokens per pack (red: shape buckets)")
    ax2.set_ylabel("packs")
    fig.tight_layout()
    figs.save("lengths", fig)


def _plot_fill(figs: _Figures, stats: dict) -> None:
    p = stats.get("packing", {})
    dist = p.get("fill_hist", {})
    if not dist.get("count"):
        return
    plt = _plt()
    fig, ax = plt.subplots(figsize=(11, 3.0))
    _hist_bars(ax, dist, color="#59a14f", edgecolor="white", linewidth=0.4)
    ax.axvline(dist["mean"], color="black", linestyle="--", linewidth=1, label=f"mean {dist['mean']:.1%}")
    ax.set_xlim(0, 1)
    ax.set_xlabel("fill = real tokens / seq_len, per pack")
    ax.set_ylabel("packs")
    ax.set_title("fill efficiency")
    _legend(ax, fontsize=8, frameon=False, loc="upper left")
    fig.tight_layout()
    figs.save("fill", fig)


def _plot_balance(figs: _Figures, stats: dict) -> None:
    b = stats.get("balance", {})
    if not b.get("n_steps"):
        return
    plt = _plt()
    cols = [("real_tokens", "real tokens"), ("attn_cost", "attention cost Σlen²"), ("vit_cost", "ViT cost")]
    n_steps, n_ranks = b["n_steps"], b["n_ranks"]
    height = min(7.0, 2.2 + 0.12 * n_steps)
    fig, axes = plt.subplots(1, 3, figsize=(11, height), sharey=True)
    im = None
    for ax, (col, title) in zip(axes, cols):
        grid = np.asarray(b[col]["grid"], dtype=float)
        mean = grid.mean(axis=1, keepdims=True)
        rel = np.divide(grid, mean, out=np.ones_like(grid), where=mean > 0)
        im = ax.imshow(rel, aspect="auto", cmap="RdBu_r", vmin=0.5, vmax=1.5, interpolation="nearest")
        ax.set_title(f"{title}\nworst max/mean {b[col]['max_over_mean_worst']:.3f}")
        ax.set_xlabel("rank")
        ax.set_xticks(range(n_ranks) if n_ranks <= 16 else np.linspace(0, n_ranks - 1, 8, dtype=int))
    axes[0].set_ylabel("step")
    axes[0].set_yticks(range(n_steps) if n_steps <= 20 else np.linspace(0, n_steps - 1, 10, dtype=int))
    fig.colorbar(im, ax=axes, shrink=0.8, label="per-rank value / step mean")
    figs.save("balance", fig)


def _plot_mix(figs: _Figures, stats: dict) -> None:
    m = stats.get("mix", {})
    src = m.get("by_source", {})
    if not src or not m.get("n_steps"):
        return
    plt = _plt()
    names = list(src)
    n = m["n_steps"]
    cmap = plt.get_cmap("tab10")
    fig, ax = plt.subplots(figsize=(11, 3.6))
    x = np.arange(n)
    bottom = np.zeros(n)
    xb = np.array([n + 0.8, n + 1.8])
    bottom_b = np.zeros(2)
    for i, name in enumerate(names):
        share = np.asarray(src[name]["per_step_share"], dtype=float)
        ax.bar(x, share, bottom=bottom, width=1.0 if n > 40 else 0.85, color=cmap(i % 10), label=name)
        bottom += share
        pair = np.array([src[name]["global_share"], src[name]["requested_share"]])
        ax.bar(xb, pair, bottom=bottom_b, width=0.85, color=cmap(i % 10), edgecolor="black", linewidth=0.5)
        bottom_b += pair
    ticks = list(np.linspace(0, n - 1, min(n, 10), dtype=int))
    ax.set_xticks(ticks + list(xb), [str(t) for t in ticks] + ["all", "asked"])
    ax.set_xlabel("step   (right: share over all packed samples, and the share the weights ask for)")
    ax.set_ylabel("share of packed samples")
    ax.set_ylim(0, 1)
    ax.set_title("source mix per step")
    _legend(ax, fontsize=8, frameon=False, bbox_to_anchor=(1.01, 1), loc="upper left")
    fig.tight_layout()
    figs.save("mix", fig)


def _plot_languages(figs: _Figures, stats: dict) -> None:
    lang = stats.get("languages", {})
    inp = lang.get("input", {})
    if not inp:
        return
    plt = _plt()
    names = sorted(inp, key=lambda k: -inp[k])[:15]
    fig, ax = plt.subplots(figsize=(11, 0.8 + 0.28 * len(names)))
    y = np.arange(len(names))[::-1]
    ax.barh(y + 0.2, [inp[k] for k in names], height=0.4, color="#bab0ac", label="input rows")
    ax.barh(y - 0.2, [lang.get("packed", {}).get(k, 0) for k in names], height=0.4, color="#4c78a8",
            label="packed rows")
    ax.set_yticks(y, names)
    ax.set_xlabel("rows")
    ax.set_title("languages (fastText id of the text)")
    _legend(ax, fontsize=8, frameon=False, loc="lower right")
    fig.tight_layout()
    figs.save("languages", fig)


def _plot_dedup(figs: _Figures, stats: dict) -> None:
    d = stats.get("dedup", {})
    sizes = d.get("cluster_sizes", {})
    by_source = d.get("duplicates_by_source", {})
    if not sizes and not by_source:
        return
    plt = _plt()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 2.8))
    ks = sorted(sizes, key=int)
    ax.bar(np.arange(len(ks)), [sizes[k] for k in ks], width=0.6, color="#8e7cc3")
    ax.set_xticks(np.arange(len(ks)), ks)
    ax.set_xlim(-0.7, max(len(ks), 4) - 0.3)
    ax.set_xlabel("cluster size (kept representative + duplicates)")
    ax.set_ylabel("clusters")
    ax.set_title(f"dedup clusters ({d.get('n_clusters', 0):,})")
    names = list(by_source)
    ax2.barh(np.arange(len(names))[::-1], [by_source[k] for k in names], height=0.6, color="#8e7cc3")
    ax2.set_yticks(np.arange(len(names))[::-1], names)
    ax2.set_ylim(-0.7, max(len(names), 4) - 0.3)
    ax2.set_xlabel("rows marked duplicate")
    ax2.set_title("duplicates per source")
    fig.tight_layout()
    figs.save("dedup", fig)


# ---- html ---------------------------------------------------------------------------------------


def _e(x) -> str:
    return html.escape(str(x))


def _num(x) -> str:
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        return f"{x:,.4g}" if abs(x) < 1e6 else f"{x:,.0f}"
    return _e(x)


def _table(header: list[str], rows: list[list], cls: str = "") -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c if isinstance(c, _Raw) else _num(c)}</td>" for c in r) + "</tr>"
                   for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


class _Raw(str):
    """Already-escaped HTML for a table cell."""


def _flatten(value, prefix: str = "") -> list[tuple[str, object]]:
    """Nested dicts as (dotted key, value) rows; lists stay whole."""
    if isinstance(value, dict) and value:
        rows = []
        for k, v in value.items():
            rows += _flatten(v, f"{prefix}.{k}" if prefix else str(k))
        return rows
    return [(prefix, value)]


def _records_table(items: list[dict], limit: int = 20) -> str:
    keys = list(dict.fromkeys(k for v in items[:limit] for k in v))
    more = f'<p class="muted">… {len(items) - limit:,} more</p>' if len(items) > limit else ""
    return _table(keys, [[v.get(k, "") for k in keys] for v in items[:limit]]) + more


def _stage_figures(figures: dict) -> str:
    """The dedup stage's own figures, whatever keys it has: lists of records as tables (the top
    duplicated captions first), everything else as dotted key / value rows."""
    rows, tables = [], []
    for key, value in _flatten(figures):
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            tables.append((key, value))
        elif isinstance(value, list):
            rows.append([_Raw(f"<code>{_e(key)}</code>"), ", ".join(str(v) for v in value[:20])])
        else:
            rows.append([_Raw(f"<code>{_e(key)}</code>"), value])
    tables.sort(key=lambda kv: "caption" not in kv[0] and "top" not in kv[0])
    out = "".join(f"<h3>{_e(k)}</h3>" + _records_table(v) for k, v in tables)
    if rows:
        out += "<details><summary>all dedup stage figures</summary>" + _table(["figure", "value"], rows, "kv")
        out += "</details>"
    return out or '<p class="muted">the dedup stage reported no figures</p>'


_CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;background:#f6f7f9;color:#222}
main{max-width:1160px;margin:0 auto;padding:16px 24px 48px;background:#fff}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:14px;margin:14px 0 6px}
nav a{margin-right:12px;font-size:13px;color:#2a5db0;text-decoration:none}
img{max-width:100%;height:auto;display:block;margin:6px 0}
table{border-collapse:collapse;font-size:12.5px;margin:6px 0}
th,td{border:1px solid #e1e4e8;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f0f2f5}td{font-variant-numeric:tabular-nums}
table.kv td:first-child{white-space:nowrap}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
.muted{color:#777}.warn{background:#fff4e0;border-left:4px solid #e69500;padding:6px 10px;margin:4px 0}
.ok{background:#eaf6ea;border-left:4px solid #4c9a2a;padding:6px 10px}
.cols{display:flex;gap:24px;flex-wrap:wrap}.cols>div{flex:1 1 340px;min-width:0;overflow-x:auto}
section{overflow-x:auto}td{overflow-wrap:break-word}
details summary{cursor:pointer;color:#2a5db0;font-size:13px;margin:8px 0}
"""


def _summary_html(stats: dict, out_dir: Path) -> str:
    p, b, inp = stats.get("packing", {}), stats.get("balance", {}), stats.get("input", {})
    f = stats.get("funnel", {})
    rows = [
        ["input rows", f"{inp.get('rows', 0):,} from {inp.get('files', 0):,} files ({inp.get('ledger_rows', 0):,} "
                       f"ledger rows with upsampled copies)"],
        ["final status", ", ".join(f"{k} {v:,}" for k, v in f.get("status", {}).items())],
        ["packs", f"{p.get('n_packs', 0):,} in {b.get('n_steps', 0):,} steps × {b.get('n_ranks', 0)} ranks "
                  f"({p.get('n_filler_packs', 0)} filler, {p.get('n_repeat_packs', 0)} repeated)"],
        ["fill", f"{p.get('fill', 0):.2%} real / padded tokens ({p.get('real_tokens', 0):,} / "
                 f"{p.get('padded_tokens', 0):,})"],
        ["bins", f"{p.get('n_content_packs', 0):,} content packs vs lower bound {p.get('bins_lower_bound', 0):,} "
                 f"(ratio {p.get('bins_over_lower_bound', 0):.4f})"],
    ]
    if b.get("n_steps"):
        rows.append(["balance (worst step max/mean)",
                     f"real tokens {b['real_tokens']['max_over_mean_worst']:.3f}, attention cost "
                     f"{b['attn_cost']['max_over_mean_worst']:.3f}, ViT cost {b['vit_cost']['max_over_mean_worst']:.3f}; "
                     f"equal packs per rank and step: {b.get('packs_per_rank_per_step_equal')}"])
    rows.append(["wall time", f"{stats.get('timings_s', {}).get('total', 0):.1f} s"])
    rows.append(["config fingerprint", stats.get("config_fingerprint", "")])
    rows.append(["output", str(out_dir)])
    warns = report_warnings(stats)
    w = "".join(f'<div class="warn">{_e(x)}</div>' for x in warns) or '<div class="ok">no warnings</div>'
    return _table(["figure", "value"], rows, "kv") + "<h3>warnings</h3>" + w


def _funnel_html(stats: dict) -> str:
    f = stats.get("funnel", {})
    stages = f.get("stages", list(STAGES))
    parts = []
    for key, title in (("by_source", "per source"), ("by_task", "per task")):
        groups = f.get(key, {})
        if not groups:
            continue
        header = [title[4:]] + [f"{s} in→out" for s in stages] + ["packed"]
        rows = []
        for g, t in groups.items():
            cells = []
            for s in stages:
                st = t["stages"].get(s, {})
                cells.append(f"{st.get('in', 0):,}→{st.get('out', 0):,}")
            rows.append([g] + cells + [t.get("packed", 0)])
        parts.append(f"<h3>{_e(title)}</h3>" + _table(header, rows))
    return "".join(parts)


def _tokens_html(stats: dict) -> str:
    tok = stats.get("tokens", {}).get("packed", {})
    keys = ["count", "mean", "min", "p1", "p5", "p25", "p50", "p75", "p90", "p95", "p99", "max"]
    rows = [[c] + [tok[c].get(k, "") for k in keys] for c in tok if tok[c].get("count")]
    return "<h3>per packed sample</h3>" + _table(["tokens"] + keys, rows)


def _shapes_html(stats: dict) -> str:
    shapes = stats.get("packing", {}).get("shapes", [])
    rows = [[s["seq_len"], s["vit_bucket"] or "none", s["packs"], s["filler_packs"], s["real_tokens"],
             s["padded_tokens"], f"{s['padding_waste']:.2%}", f"{s['vit_waste']:.2%}"] for s in shapes]
    return "<h3>shape buckets used</h3>" + _table(
        ["seq_len", "ViT bucket", "packs", "filler", "real tokens", "padded tokens", "padding waste", "ViT waste"], rows)


def _mix_html(stats: dict) -> str:
    parts = []
    for key, title in (("by_source", "source"), ("by_task", "task")):
        groups = stats.get("mix", {}).get(key, {})
        rows = [[g, v["weight"], v["rows_entering_mix"], f"{v['requested_share']:.2%}", v["packed_samples"],
                 f"{v['global_share']:.2%}", f"{v['max_abs_step_deviation']:.2%}"] for g, v in groups.items()]
        parts.append(f"<h3>per {title}</h3>" + _table(
            [title, "weight", "rows entering mix", "share asked", "packed samples", "share packed",
             "max step deviation"], rows))
    return '<div class="cols">' + "".join(f"<div>{p}</div>" for p in parts) + "</div>"


def _languages_html(stats: dict) -> str:
    lang = stats.get("languages", {})
    rows = [[k, v, lang.get("packed", {}).get(k, 0), lang.get("score", {}).get(k, {}).get("mean", "")]
            for k, v in list(lang.get("input", {}).items())[:20]]
    return _table(["language", "input rows", "packed rows", "mean lang_score"], rows)


def _dedup_html(stats: dict) -> str:
    d = stats.get("dedup", {})
    largest = [[c["representative"], c["size"]] for c in d.get("largest_clusters", [])]
    figures = _table(["figure", "value"], [
        ["rows marked duplicate", d.get("duplicates", 0)], ["clusters with duplicates", d.get("n_clusters", 0)],
    ] + [[f"reason {k}", v] for k, v in d.get("duplicates_by_reason", {}).items()], "kv")
    return ('<div class="cols"><div>' + figures + "</div><div><h3>largest clusters (from the ledger)</h3>"
            + _table(["kept representative", "size"], largest) + "</div></div>" + _stage_figures(d.get("stage", {})))


def _grounding_html(stats: dict) -> str:
    g = stats.get("grounding", {})
    c = [[k, v] for k, v in g.get("counters", {}).items()]
    r = [[s, _Raw("<br>".join(f"<code>{_e(k)}</code> {v:,}" for k, v in codes.items()))]
         for s, codes in g.get("rejected_by_source", {}).items()]
    return ('<div class="cols"><div><h3>grounding counters</h3>' + (_table(["code", "rows"], c) if c else
                                                                      '<p class="muted">none</p>')
            + '</div><div><h3>rejected per source</h3>' + (_table(["source", "codes"], r) if r else
                                                            '<p class="muted">none</p>') + "</div></div>")


def _reasons_html(stats: dict) -> str:
    f = stats.get("funnel", {})
    total = sum(f.get("status", {}).values()) or 1
    order = {s: i for i, s in enumerate(f.get("stages", STAGES))}
    stage_of = f.get("reason_stage", {})
    items = sorted(f.get("reasons", {}).items(), key=lambda kv: (order.get(stage_of.get(kv[0], ""), 99), -kv[1]))
    rows = [[stage_of.get(r, ""), _Raw(f"<code>{_e(r)}</code>"), n, f"{n / total:.2%}",
             _Raw(", ".join(f"<code>{_e(i)}</code>" for i in f.get("examples", {}).get(r, [])))] for r, n in items]
    return _table(["stage", "reason", "rows", "share of ledger", "example sample_ids"], rows)


def _time_html(stats: dict) -> str:
    t = stats.get("time", {})
    st = [[k, v["rows_in"], v["cpu_s"], v["rows_per_cpu_s"]] for k, v in t.get("stages", {}).items()]
    ph = [[k, v["wall_s"], v.get("rows", ""), v.get("rows_per_s", "")] for k, v in t.get("phases", {}).items()]
    return ('<div class="cols"><div><h3>row-local stages (CPU time summed over workers)</h3>'
            + _table(["stage", "rows in", "CPU s", "rows / CPU s"], st)
            + '</div><div><h3>job phases (wall clock)</h3>' + _table(["phase", "wall s", "rows", "rows / s"], ph)
            + "</div></div>")


def render_html(stats: dict, figs: _Figures, out_dir: Path) -> str:
    sec = {
        "summary": ("Summary", _summary_html(stats, out_dir)),
        "funnel": ("Funnel", figs.img("funnel", "funnel chart") + _funnel_html(stats)),
        "lengths": ("Lengths before and after packing", figs.img("lengths", "length histograms") + _tokens_html(stats)),
        "fill": ("Fill efficiency", figs.img("fill", "fill distribution") + _shapes_html(stats)),
        "balance": ("Per-rank cost over steps", figs.img("balance", "per-rank cost heat map")),
        "mix": ("Mix per step", figs.img("mix", "mix per step") + _mix_html(stats)),
        "languages": ("Languages", figs.img("languages", "languages") + _languages_html(stats)),
        "dedup": ("Dedup clusters", figs.img("dedup", "dedup cluster sizes") + _dedup_html(stats)),
        "grounding": ("Grounding error codes", _grounding_html(stats)),
        "reasons": ("Reasons with example sample_ids", _reasons_html(stats)),
        "time": ("Time and throughput", _time_html(stats)),
    }
    nav = "".join(f'<a href="#{k}">{_e(v[0])}</a>' for k, v in sec.items())
    body = "".join(f'<section id="{k}"><h2>{_e(title)}</h2>{content}</section>' for k, (title, content) in sec.items())
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>vlpack report — {_e(out_dir.name)}</title><style>{_CSS}</style></head>"
            f"<body><main><h1>vlpack report</h1><p class=\"muted\">{_e(out_dir)}</p><nav>{nav}</nav>{body}"
            f"</main></body></html>\n")


def write_report(out_dir, manifest=None) -> Path:
    """Write OUT/report/report.html (self-contained) and OUT/report/*.png; return the HTML path.
    `manifest`: the output's, when it is not committed yet (the job writes the report first)."""
    from schemas.manifest import Manifest, read_index

    out = Path(out_dir)
    stats = json.loads((out / STATS_PATH).read_text())
    if manifest is None and (out / MANIFEST_NAME).exists():
        manifest = Manifest.model_validate_json((out / MANIFEST_NAME).read_text())
    packs = read_index(out, manifest, "packs", columns=["seq_len"], verify=False) if manifest is not None else None
    report_dir = (out / STATS_PATH).parent
    figs = _Figures(report_dir)
    _plot_funnel(figs, stats)
    _plot_lengths(figs, stats, packs)
    _plot_fill(figs, stats)
    _plot_balance(figs, stats)
    _plot_mix(figs, stats)
    _plot_languages(figs, stats)
    _plot_dedup(figs, stats)
    from packer.shards import commit_file

    path = report_dir / REPORT_NAME
    commit_file(path, render_html(stats, figs, out.resolve()).encode())
    return path
