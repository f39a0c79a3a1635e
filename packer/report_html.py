"""The HTML report of a pack job: one self-contained file with embedded plots.

`write_report(OUT)` reads OUT/report/stats.json (see `packer.stats`) and OUT/index/packs.parquet,
draws the plots with matplotlib (Agg) into OUT/report/*.png and writes OUT/report/report.html with
the same PNGs embedded as base64 data URIs: nothing is fetched from the network, so the file can
be mailed or opened offline.

Text in the report is HTML wherever it can be (captions, sample ids, reasons), set in a font stack
with CJK fallbacks; the PNGs hold only axis labels, source names and numbers, drawn with the first
installed font of `PLOT_FONTS` that has their glyphs. Asked for a list of problems
(`write_report(..., problems=[...])`, as the tests and scripts/report_screenshots.py do), every
figure is checked as it is drawn: no two text boxes overlap and no character lacks a glyph
(`layout_problems`); a figure that fails is still written. A pack job does not ask: the check draws
each figure once more, about a quarter of the report's time (2.8 of 10.8 s under cProfile).
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
SECTIONS = ("summary", "funnel", "lengths", "fill", "balance", "mix", "languages", "dedup", "curation",
            "grounding", "reasons", "time")
# Fonts for the PNGs, first installed first; CJK families as fallbacks (matplotlib >= 3.6 falls back
# per glyph through the list).
PLOT_FONTS = ("DejaVu Sans", "Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
              "Droid Sans Fallback", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", "Hiragino Sans")
# Titles for the keys of the dedup stage's own figures (others: the key with spaces).
FIGURE_TITLES = {"top_duplicated": "most duplicated captions", "largest_clusters": "largest clusters",
                 "timings_s": "dedup time (s)", "banding": "LSH banding"}
_STATUS_COLORS = {"packed": "#4c9a2a", "filtered": "#e0a030", "invalid": "#c0392b", "duplicate": "#8e7cc3",
                  "too_long": "#3d85c6", "remainder": "#999999"}
_DPI = 100
_PNG_META = {"Software": None}  # no tool URL inside the PNGs


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "axes.titlesize": 10, "axes.spines.top": False,
                         "axes.spines.right": False, "figure.dpi": _DPI, "font.family": list(_plot_fonts())})
    return plt


def _plot_fonts() -> tuple[str, ...]:
    """The installed families of PLOT_FONTS, in order (DejaVu Sans ships with matplotlib)."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return tuple(f for f in PLOT_FONTS if f in installed) or ("DejaVu Sans",)


def layout_problems(fig) -> list[str]:
    """What is wrong with a drawn figure's text: pairs of visible texts whose boxes overlap (tick
    labels, titles, legends, annotations), and characters no font of the figure has a glyph for."""
    from matplotlib.font_manager import FontProperties, findfont, get_font
    from matplotlib.text import Text

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    tick_labels, drawn = set(), set()
    for ax in fig.axes:  # a tick outside the view interval has a label object that is never drawn
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                labels = (tick.label1, tick.label2)
                tick_labels.update(labels)
                if lo - 1e-9 <= tick.get_loc() <= hi + 1e-9:
                    drawn.update(labels)
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()
             and (t not in tick_labels or t in drawn)]
    boxes = [(t, t.get_window_extent(renderer)) for t in texts]
    problems = []
    for i, (a, ba) in enumerate(boxes):
        for b, bb in boxes[i + 1:]:
            w = min(ba.x1, bb.x1) - max(ba.x0, bb.x0)
            h = min(ba.y1, bb.y1) - max(ba.y0, bb.y0)
            if w > 1.0 and h > 1.0:  # more than a pixel of anti-aliasing
                problems.append(f"text {a.get_text()!r} overlaps {b.get_text()!r}")
    charmaps: dict[str, set[int]] = {}
    for t in texts:
        paths = [findfont(FontProperties(family=[f])) for f in t.get_fontfamily()]
        for path in paths:
            if path not in charmaps:
                charmaps[path] = set(get_font(path).get_charmap())
        missing = sorted({c for c in t.get_text() if c.isprintable() and not c.isspace()
                          and not any(ord(c) in charmaps[p] for p in paths)})
        if missing:
            problems.append(f"text {t.get_text()!r}: no glyph for {''.join(missing)!r}")
    return problems


class _Figures:
    """Saves each figure as report/<name>.png and keeps its bytes for embedding."""

    def __init__(self, report_dir: Path, check_layout: bool):
        self.dir = report_dir
        self.check_layout = check_layout
        self.png: dict[str, bytes] = {}
        self.problems: list[str] = []

    def save(self, name: str, fig) -> None:
        if self.check_layout:
            self.problems += [f"{name}: {p}" for p in layout_problems(fig)]
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


def _plot_lengths(figs: _Figures, stats: dict) -> None:
    """Tokens per packed sample. (Packs themselves are all one shape or a few: their fill is a number
    and a table in the fill section, not a histogram with one bar at its right edge.)"""
    tok = stats.get("tokens", {}).get("packed", {})
    total = tok.get("total_tokens", {})
    if not total.get("count"):
        return
    plt = _plt()
    fig, ax = plt.subplots(figsize=(11, 3.2))
    _hist_bars(ax, total, color="#4c78a8", edgecolor="white", linewidth=0.4)
    for p, style in (("p50", "--"), ("p95", ":")):
        if p in total:
            ax.axvline(total[p], color="black", linestyle=style, linewidth=1, label=f"{p} = {total[p]:,.0f}")
    ctx = stats.get("config", {}).get("context_length")
    ax.set_title(f"tokens per packed sample ({total.get('count', 0):,} samples"
                 + (f"; context length {ctx:,})" if ctx else ")"))
    ax.set_xlabel("total tokens per sample (text + vision + template)")
    ax.set_ylabel("samples")
    _legend(ax, fontsize=8, frameon=False)
    fig.tight_layout()
    figs.save("lengths", fig)


def _integer_ticks(axis, n: int) -> None:
    """Round, evenly spaced integer ticks (0, 5, 10 … or 0, 50, 100 …) that never crowd."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(nbins=min(10, max(n, 1)), integer=True, steps=[1, 2, 5, 10]))


def _plot_balance(figs: _Figures, stats: dict) -> None:
    b = stats.get("balance", {})
    if not b.get("n_steps"):
        return
    plt = _plt()
    cols = [(c, t) for c, t in (("cost", "total cost"), ("attn_cost", "attention Σlen²"), ("vit_cost", "ViT cost"))
            if c in b]
    n_steps, n_ranks = b["n_steps"], b["n_ranks"]
    if "grid" not in b[cols[0][0]]:
        return _plot_balance_summary(figs, b, cols)
    height = min(7.0, 2.2 + 0.12 * n_steps)
    fig, axes = plt.subplots(1, len(cols), figsize=(11, height), sharey=True)
    im = None
    for ax, (col, title) in zip(axes, cols):
        grid = np.asarray(b[col]["grid"], dtype=float)
        mean = grid.mean(axis=1, keepdims=True)
        rel = np.divide(grid, mean, out=np.ones_like(grid), where=mean > 0)
        im = ax.imshow(rel, aspect="auto", cmap="RdBu_r", vmin=0.5, vmax=1.5, interpolation="nearest")
        ax.set_title(f"{title}\nworst max/mean {b[col]['max_over_mean_worst']:.3f}")
        ax.set_xlabel("rank")
        _integer_ticks(ax.xaxis, n_ranks)
    axes[0].set_ylabel("step")
    _integer_ticks(axes[0].yaxis, n_steps)
    fig.colorbar(im, ax=axes, shrink=0.8, label="per-rank value / step mean")
    figs.save("balance", fig)


def _plot_balance_summary(figs: _Figures, b: dict, cols: list) -> None:
    """A summarised stats.json (too many steps for a grid): per dimension, the steps per bin of their
    max over ranks / mean."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(cols), figsize=(11, 3.0), sharey=True, squeeze=False)
    for ax, (col, title) in zip(axes[0], cols):
        h = b[col]["max_over_mean_hist"]
        edges = np.asarray(h["edges"], dtype=float)
        ax.bar(edges[:-1], h["counts"], width=np.diff(edges), align="edge", color="#4c78a8")
        ax.set_title(f"{title}\nworst max/mean {b[col]['max_over_mean_worst']:.3f}"
                     + (f"; {h['above']:,} steps above {edges[-1]:g}" if h.get("above") else ""))
        ax.set_xlabel("max over ranks / mean")
        used = np.flatnonzero(np.asarray(h["counts"]))
        ax.set_xlim(edges[0], edges[min(int(used[-1]) + 5, len(edges) - 1)] if len(used) else edges[-1])
    axes[0][0].set_ylabel(f"steps (of {b['n_steps']:,})")
    fig.tight_layout()
    figs.save("balance", fig)


def _plot_mix_summary(figs: _Figures, m: dict) -> None:
    """A summarised stats.json: per source, the steps per bin of their mix deviation (in σ of i.i.d.
    sampling, the larger of samples and tokens), with the tolerance marked."""
    plt = _plt()
    src = m["by_source"]
    cmap = plt.get_cmap("tab10")
    fig, ax = plt.subplots(figsize=(11, 3.2))
    for i, (name, v) in enumerate(src.items()):
        h = v["step_z_hist"]
        ax.stairs(h["counts"], h["edges"], color=cmap(i % 10), label=name, linewidth=1.4)
    z = m.get("tolerance_sigmas", 3.0)
    ax.axvline(z, color="black", linestyle="--", linewidth=1, label=f"tolerance {z:g} σ")
    ax.set_xlabel("a step's deviation from the asked share, in σ of i.i.d. sampling")
    ax.set_ylabel(f"steps (of {m['n_steps']:,})")
    ax.set_title("source mix per step (summarised: too many steps to draw one by one)")
    _legend(ax, fontsize=8, frameon=False, loc="upper right")
    fig.tight_layout()
    figs.save("mix", fig)


def _plot_mix(figs: _Figures, stats: dict) -> None:
    """Per step, each source's share of the packed samples (top) and of the packed tokens (bottom);
    beside each, on its own axis, the share over all steps and the share the weights ask for."""
    m = stats.get("mix", {})
    src = m.get("by_source", {})
    if not src or not m.get("n_steps"):
        return
    if not all("per_step_share" in v for v in src.values()):
        return _plot_mix_summary(figs, m)
    plt = _plt()
    names = list(src)
    n = m["n_steps"]
    cmap = plt.get_cmap("tab10")
    with_tokens = all("per_step_token_share" in v for v in src.values())
    rows = 2 if with_tokens else 1
    fig, axes = plt.subplots(rows, 2, figsize=(11, 2.9 * rows + 0.5), squeeze=False,
                             gridspec_kw={"width_ratios": [12, 1.6], "wspace": 0.06})
    panels = [("per_step_share", "global_share", "samples")]
    if with_tokens:
        panels.append(("per_step_token_share", "token_share", "tokens"))
    x = np.arange(n)
    for (ax, axb), (per_step, overall, unit) in zip(axes, panels):
        bottom = np.zeros(n)
        bottom_b = np.zeros(2)
        for i, name in enumerate(names):
            share = np.asarray(src[name][per_step], dtype=float)
            color = cmap(i % 10)
            if n > 60:  # many steps: areas, whose edges cannot turn into slivers
                ax.fill_between(x, bottom, bottom + share, step="mid", color=color, label=name, linewidth=0)
            else:
                ax.bar(x, share, bottom=bottom, width=0.85, color=color, label=name)
            bottom += share
            pair = np.array([src[name][overall], src[name]["requested_share"]])
            axb.bar([0, 1], pair, bottom=bottom_b, width=0.8, color=color, edgecolor="black", linewidth=0.5)
            bottom_b += pair
        ax.set_xlim(-0.6, n - 0.4)
        _integer_ticks(ax.xaxis, n)
        ax.set_ylim(0, 1)
        ax.set_ylabel(f"share of packed {unit}")
        ax.set_title(f"source mix per step, in {unit}")
        axb.set_ylim(0, 1)
        axb.set_xticks([0, 1], ["all", "asked"])
        axb.set_yticks([])
        axb.spines["left"].set_visible(False)
        axb.set_title("overall", fontsize=9)
    axes[-1][0].set_xlabel("step   (right: the share over all steps, and the share the weights ask for, in samples)")
    _legend(axes[0][0], fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.16, 1.0))
    fig.subplots_adjust(left=0.07, right=0.86, top=0.92, bottom=0.12 if rows == 2 else 0.2, hspace=0.45)
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


def _plot_curation(figs: _Figures, stats: dict) -> None:
    scores = stats.get("curation", {}).get("scores", {})
    if not scores:
        return
    plt = _plt()
    fig, axes = plt.subplots(1, len(scores), figsize=(3.6 * len(scores), 2.6), squeeze=False)
    for ax, (column, s) in zip(axes[0], scores.items()):
        _hist_bars(ax, s["distribution"], color="#3d85c6")
        for limit in sorted({v for v in s["thresholds"].values() if v is not None}):
            ax.axvline(limit, color="#c0392b", lw=1)
        ax.set_title(f"{column} (fails {s['fails_when']} the red line)", fontsize=9)
        ax.set_ylabel("rows")
    fig.tight_layout()
    figs.save("curation", fig)


# ---- html ---------------------------------------------------------------------------------------


def _e(x) -> str:
    return html.escape(str(x))


def _num(x) -> str:
    """Numbers as people read them: thousands separators, never scientific notation."""
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        ax = abs(x)
        if ax == 0 or ax >= 100:
            return f"{x:,.0f}"
        if ax >= 1:
            return f"{x:,.2f}"
        if ax >= 0.001:
            return f"{x:.3f}"
        return "< 0.001" if x > 0 else "> -0.001"
    return _e(x)


def _bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:,.1f} TB"


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


def _title(key: str) -> str:
    """A heading for a stats key: `top_duplicated` → "most duplicated captions"."""
    return FIGURE_TITLES.get(key, key.replace("_", " ").replace(".", " · "))


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
    out = "".join(f"<h3>{_e(_title(k))}</h3>" + _records_table(v) for k, v in tables)
    if rows:
        out += "<details><summary>all dedup stage figures</summary>" + _table(["figure", "value"], rows, "kv")
        out += "</details>"
    return out or '<p class="muted">the dedup stage reported no figures</p>'


_CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,Helvetica,Arial,"Noto Sans CJK SC","Noto Sans CJK JP","Source Han Sans SC","PingFang SC","Hiragino Sans","Microsoft YaHei","WenQuanYi Micro Hei","Droid Sans Fallback",sans-serif;margin:0;background:#f6f7f9;color:#222}
main{max-width:1160px;margin:0 auto;padding:16px 24px 48px;background:#fff}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:14px;margin:14px 0 6px}
nav a{margin-right:12px;font-size:13px;color:#2a5db0;text-decoration:none;white-space:nowrap;display:inline-block}
img{max-width:100%;height:auto;display:block;margin:6px 0}
table{border-collapse:collapse;font-size:12.5px;margin:6px 0}
th,td{border:1px solid #e1e4e8;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f0f2f5}td{font-variant-numeric:tabular-nums}
table.kv td:first-child{white-space:nowrap}
code{font-family:ui-monospace,Menlo,Consolas,"Noto Sans Mono CJK SC","WenQuanYi Micro Hei Mono",monospace;font-size:12px}
p.note{font-size:12.5px;color:#555;margin:4px 0 8px;max-width:900px}
.muted{color:#777}.warn{background:#fff4e0;border-left:4px solid #e69500;padding:6px 10px;margin:4px 0}
.ok{background:#eaf6ea;border-left:4px solid #4c9a2a;padding:6px 10px}
.cols{display:flex;gap:24px;flex-wrap:wrap}.cols>div{flex:1 1 340px;min-width:0;overflow-x:auto}
section{overflow-x:auto}td{overflow-wrap:break-word}
details summary{cursor:pointer;color:#2a5db0;font-size:13px;margin:8px 0}
"""


def _wall_time(stats: dict) -> str:
    job = stats.get("timings_s", {}).get("total", 0)
    text = f"job {job:,.1f} s (from Ray start-up to the indexes)"
    process = stats.get("time", {}).get("process_wall_s")
    if process:
        text += (f"; {process:,.1f} s real time since the command started (with Python start-up, imports and "
                 f"anything before the job, such as the demo data)")
    return text


def shard_sizes(out_dir: Path, packs) -> list[dict]:
    """Every shard the packs index names: its path, rank and bytes on disk (0 if missing)."""
    if packs is None or "shard" not in packs.column_names or not packs.num_rows:
        return []
    out = []
    for rel in sorted(set(packs.column("shard").to_pylist())):
        path = out_dir / rel
        rank = rel.split("rank-")[1].split("/")[0] if "rank-" in rel else "?"
        out.append({"path": rel, "rank": rank, "bytes": path.stat().st_size if path.exists() else 0})
    return out


def _shards_line(shards: list[dict]) -> str:
    sizes = np.array([s["bytes"] for s in shards], dtype=float)
    ranks = {}
    for s in shards:
        ranks[s["rank"]] = ranks.get(s["rank"], 0) + s["bytes"]
    per_rank = np.array(list(ranks.values()), dtype=float)
    return (f"{len(shards):,} tar files, {_bytes(sizes.sum())} in all; per shard min {_bytes(sizes.min())}, "
            f"median {_bytes(float(np.median(sizes)))}, max {_bytes(sizes.max())}; per rank "
            f"{_bytes(per_rank.min())} – {_bytes(per_rank.max())} over {len(ranks)} ranks")


def _summary_html(stats: dict, out_dir: Path, shards: list[dict] | None = None) -> str:
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
        st = b.get("step_time", {})
        cost = b.get("cost", {})
        rows.append(["balance (mean / worst step)",
                     f"modelled step time over ideal ({st.get('vit_phase', 'fused')} ViT phase) "
                     f"{st.get('mean', 1.0):.4f} / {st.get('worst', 1.0):.4f}; total cost max/mean "
                     f"{cost.get('max_over_mean_mean', 1.0):.4f} / {cost.get('max_over_mean_worst', 1.0):.4f}; "
                     f"equal packs per rank and step: {b.get('packs_per_rank_per_step_equal')}"])
    m, sh = stats.get("mix", {}), stats.get("shapes", {})
    if m.get("n_steps"):
        over = sum(v.get("steps_beyond_tolerance", 0) for v in m.get("by_source", {}).values())
        rows.append(["mix per step", f"balance: {m.get('balance', 'mix')}; (step, source) shares beyond the "
                                     f"tolerance ({m.get('tolerance_sigmas', 3.0):g} σ of i.i.d. sampling): {over}"])
    if sh:
        rows.append(["shapes", f"{sh.get('n_shapes', 0)} distinct (seq_len, vit_bucket) (max_shapes "
                               f"{sh.get('max_shapes', 0)}); ViT buckets {sh.get('vit_buckets_used', [])}; ViT "
                               f"padding {sh.get('vit_padding_over_real', 0.0):.2%} of real patches"])
    rows.append(["wall time", _wall_time(stats)])
    if shards:
        rows.append(["shards on disk", _shards_line(shards)])
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


def _percentile_note(stats: dict) -> str:
    """How exact the percentiles are: they are read from histograms merged over the index parts."""
    e = stats.get("percentile_error")
    if not e:
        return ""
    return (f'<p class="muted">Percentiles (p1 … p99, medians) are read from histograms over fixed '
            f'log-linear bins merged over the index parts: exact for integers below {e["exact_integers_below"]:,}, '
            f'otherwise within {e["relative"]:.3%} of the value. Counts, sums, means, min and max are exact.</p>')


def _tokens_html(stats: dict) -> str:
    tok = stats.get("tokens", {}).get("packed", {})
    keys = ["count", "mean", "min", "p1", "p5", "p25", "p50", "p75", "p90", "p95", "p99", "max"]
    rows = [[c] + [tok[c].get(k, "") for k in keys] for c in tok if tok[c].get("count")]
    return "<h3>per packed sample</h3>" + _table(["tokens"] + keys, rows) + _percentile_note(stats)


def _fill_html(stats: dict) -> str:
    p = stats.get("packing", {})
    fill = p.get("fill_hist", {})
    if not fill.get("count"):
        return '<p class="muted">no content packs</p>'
    hist = fill.get("hist", {})
    edges, counts = hist.get("edges", []), hist.get("counts", [])
    under = sum(c for e, c in zip(edges, counts) if e < 0.9)
    return (f'<p>fill = real tokens / padded length, per content pack: mean {fill["mean"]:.1%}, min {fill["min"]:.1%}, '
            f'p5 {fill["p5"]:.1%}, median {fill["p50"]:.1%}; {under:,} of {fill["count"]:,} packs are under 90% full. '
            f'Overall {p.get("fill", 0):.2%} of the padded tokens are real '
            f'({p.get("padding_tokens", 0):,} padding tokens).</p>')


def _shapes_html(stats: dict) -> str:
    sh = stats.get("shapes") or {"shapes": stats.get("packing", {}).get("shapes", [])}
    rows = [[s["seq_len"], s["vit_bucket"] or "none", s["packs"], s["filler_packs"], s["real_tokens"],
             s["padded_tokens"], f"{s['padding_waste']:.2%}", s.get("vit_patches", 0),
             s.get("vit_padding_patches", 0), f"{s['vit_waste']:.2%}"] for s in sh.get("shapes", [])]
    out = "<h3>shapes (each a graph compilation)</h3>" + _table(
        ["seq_len", "ViT bucket", "packs", "filler", "real tokens", "padded tokens", "LLM padding waste",
         "real patches", "ViT padding patches", "ViT padding waste"], rows)
    if sh.get("vit_buckets"):
        out += "<h3>ViT buckets</h3>" + _table(
            ["ViT bucket", "packs", "real patches", "padded patches", "waste"],
            [[v["vit_bucket"], v["packs"], v["vit_patches"], v["padded_patches"], f"{v['waste']:.2%}"]
             for v in sh["vit_buckets"]])
    if "n_shapes" in sh:
        out += (f'<p class="muted">{sh["n_shapes"]} distinct shapes (max_shapes {sh.get("max_shapes", 0)}); '
                f'ViT buckets: {_e(sh.get("patch_buckets"))}; ViT padding {sh.get("vit_padding_over_real", 0.0):.2%} '
                f'of real patches; LLM padding {sh.get("llm_padding_waste", 0.0):.2%} of padded tokens</p>')
    return out


def _balance_html(stats: dict) -> str:
    b = stats.get("balance", {})
    if not b.get("n_steps"):
        return ""
    rows = [[label, f"{b[c]['max_over_mean_mean']:.4f}", f"{b[c]['max_over_mean_worst']:.4f}", b[c]["worst_step"]]
            for c, label in (("cost", "total cost"), ("llm_cost", "LLM cost"), ("attn_cost", "attention Σlen²"),
                             ("vit_cost", "ViT cost"), ("real_tokens", "real tokens")) if c in b]
    for name in ("fused", "separate"):
        t = b.get(f"step_time_{name}")
        if t:
            rows.insert(0, [f"step time, {name} ViT phase" + (" (the objective)" if
                            b.get("step_time", {}).get("vit_phase") == name else ""),
                            f"{t['mean']:.4f}", f"{t['worst']:.4f}", t["worst_step"]])
    out = "<h3>per step: max over ranks / mean (mean and worst over steps)</h3>" + _table(
        ["dimension", "mean", "worst", "worst step"], rows)
    detail = stats.get("per_step_detail")
    if detail and "worst_steps" in b.get("step_time", {}):
        out += (f'<p class="muted">{_e(detail["how"])}.</p><h3>worst steps by modelled step time over ideal</h3>'
                + _table(["step", "step time / ideal", "total cost max / mean"],
                         [[w["step"], f"{w['value']:.4f}", f"{_step_ratio(b, 'cost', w['step'])}"]
                          for w in b["step_time"]["worst_steps"]]))
    return out


def _step_ratio(b: dict, col: str, step: int) -> str:
    """A step's max/mean of `col` where the summarised stats.json lists it among the worst steps."""
    for w in b.get(col, {}).get("worst_steps", []):
        if w["step"] == step:
            return f"{w['value']:.4f}"
    return "below the listed worst"


def _mix_html(stats: dict) -> str:
    parts = []
    m = stats.get("mix", {})
    for key, title in (("by_source", "source"), ("by_task", "task")):
        groups = m.get(key, {})
        rows = [[g, v["weight"], v["rows_entering_mix"], f"{v['requested_share']:.2%}", v["packed_samples"],
                 f"{v['global_share']:.2%}", v.get("packed_tokens", ""),
                 f"{v['token_share']:.2%}" if "token_share" in v else "",
                 f"{v['max_abs_step_deviation']:.2%}"] for g, v in groups.items()]
        parts.append(f"<h3>per {title}</h3>" + _table(
            [title, "weight", "rows entering mix", "share asked", "packed samples", "share of samples",
             "packed tokens", "share of tokens", "max step deviation (samples)"], rows))
        tol = [[g, f"{v.get('spread', 0.0):.2%}", f"{v.get('token_spread', 0.0):.2%}",
                f"{v.get('max_abs_step_deviation_from_asked', v['max_abs_step_deviation']):.2%}",
                f"{v.get('max_abs_step_token_deviation_from_asked', 0.0):.2%}", v.get("steps_beyond_tolerance", 0),
                f"{v.get('remainder_samples', 0)} ({v.get('remainder_expected', 0.0):.1f})"] for g, v in groups.items()]
        parts.append(f"<h3>per {title}: spread across steps and the tolerance</h3>" + _table(
            [title, "spread (samples)", "spread (tokens)", "max deviation from asked (samples)",
             "(tokens)", "steps beyond tolerance", "remainder (expected)"], tol))
        worst = [[g, w["step"], f"{w['value']:.2f}", f"{w['share']:.2%}", f"{w['token_share']:.2%}",
                  f"±{w['tolerance']:.2%}"] for g, v in groups.items() for w in v.get("worst_steps", [])[:5]]
        if worst:
            parts.append(f"<h3>per {title}: its 5 steps of largest deviation (σ of i.i.d. sampling)</h3>" + _table(
                [title, "step", "deviation (σ)", "share of samples", "share of tokens", "tolerance"], worst))
    m = stats.get("mix", {})
    note = (f'<p class="muted">balance: {_e(m.get("balance", "mix"))}; tolerance: {m.get("tolerance_sigmas", 3.0):g} '
            f"standard deviations of i.i.d. sampling of a step's samples; upsampled copies sharing a pack: "
            f'{m.get("copies_sharing_pack", 0)}, sharing a step: {m.get("copies_sharing_step", 0)}</p>') if m else ""
    return note + "".join(parts)  # one under the other: nine columns do not fit side by side


def _languages_html(stats: dict) -> str:
    lang = stats.get("languages", {})
    rows = [[k, v, lang.get("packed", {}).get(k, 0), lang.get("score", {}).get(k, {}).get("mean", "")]
            for k, v in list(lang.get("input", {}).items())[:20]]
    und = lang.get("input", {}).get("und", 0)
    note = ""
    if und:
        unchecked = lang.get("input_not_checked")
        by_task = ", ".join(f"{t} {n:,}" for t, n in lang.get("not_checked_by_task", {}).items())
        note = ('<p class="note"><b>und</b> (undetermined) = no language id: '
                + (f"{unchecked:,} of these {und:,} rows were never language-checked, because the language id runs "
                   f"only on caption-like rows of the tasks in <code>filters.tasks</code> that are still valid at the "
                   f"filter stage and that no earlier text rule rejected ({_e(by_task) or 'none'}); the other "
                   f"{und - unchecked:,} had no text fastText could "
                   f"place (empty, or no letters)." if unchecked is not None else
                   "the row was not language-checked (its task is not in <code>filters.tasks</code>, it left "
                   "before the filter stage, or an earlier text rule rejected it), or its text is empty or has no "
                   "letters.") + "</p>")
    return note + _table(["language", "input rows", "packed rows", "mean lang_score"], rows)


def _dedup_html(stats: dict) -> str:
    d = stats.get("dedup", {})
    largest = [[c["representative"], c["size"]] for c in d.get("largest_clusters", [])]
    figures = _table(["figure", "value"], [
        ["rows marked duplicate", d.get("duplicates", 0)], ["clusters with duplicates", d.get("n_clusters", 0)],
    ] + [[f"reason {k}", v] for k, v in d.get("duplicates_by_reason", {}).items()], "kv")
    return ('<div class="cols"><div>' + figures + "</div><div><h3>largest clusters (from the ledger)</h3>"
            + _table(["kept representative", "size"], largest) + "</div></div>" + _stage_figures(d.get("stage", {})))


def _curation_html(stats: dict) -> str:
    c = stats.get("curation", {})
    rep = c.get("repairs", {})
    out = _table(["repair", "rows"], [["rows repaired (any)", rep.get("rows_repaired", 0)]]
                 + [[k, v] for k, v in rep.get("by_repair", {}).items()], "kv")
    for column, s in c.get("scores", {}).items():
        rows = [[src, s["thresholds"].get(src), _Raw(", ".join(
            f"<code>{_e(x['sample_id'])}</code> {x['score']} ({x['side']})" for x in ex))]
            for src, ex in s.get("examples_at_threshold", {}).items()]
        out += f"<h3>{_e(column)}: examples nearest the threshold</h3>" + (
            _table(["source", "threshold", "sample_id score (fate)"], rows) if rows else
            '<p class="muted">no threshold set: scores recorded only</p>')
    return out


def _grounding_html(stats: dict) -> str:
    g = stats.get("grounding", {})
    counters = g.get("counters", {})
    checked, repaired = counters.get("grounding.checked", 0), counters.get("grounding.repaired", 0)
    repairs = {k: v for k, v in counters.items() if k.startswith("grounding.repair.")}
    c = [[_Raw(f"<code>{_e(k)}</code>"), v] for k, v in counters.items()
         if k not in ("grounding.checked", "grounding.repaired") and k not in repairs]
    c += [[_Raw(f"<code>{_e(k)}</code> (repaired)"), v] for k, v in repairs.items()]
    head = (f"<p>{checked:,} rows had grounding labels or the grounding task and were checked"
            + (f"; {repaired:,} were repaired" if repaired else "") + ".</p>")
    r = [[s, _Raw("<br>".join(f"<code>{_e(k)}</code> {v:,}" for k, v in codes.items()))]
         for s, codes in g.get("rejected_by_source", {}).items()]
    return (head + '<div class="cols"><div><h3>error codes (rows rejected)</h3>' + (_table(["code", "rows"], c) if c else
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
    """Both tables sorted by time, longest first; the job's total last. A row-local stage runs over
    every row of its batches (rows that left at an earlier stage pass through untouched), so its
    "rows through" is the input; "rows still in play" is the funnel's count of rows it worked on."""
    t = stats.get("time", {})
    funnel = stats.get("funnel", {}).get("total", {}).get("stages", {})
    files = stats.get("input", {}).get("files")
    stages = sorted(t.get("stages", {}).items(), key=lambda kv: -kv[1]["cpu_s"])
    st = [[k, f"{v['rows_in']:,} files" if k == "read" else v["rows_in"],
           funnel.get(k, {}).get("in", ""), v["cpu_s"], v["rows_per_cpu_s"]] for k, v in stages]
    phases = t.get("phases", {})
    order = sorted((k for k in phases if k != "total"), key=lambda k: -phases[k]["wall_s"])
    ph = [[k, phases[k]["wall_s"], phases[k].get("rows", ""), phases[k].get("rows_per_s", "")]
          for k in order + (["total"] if "total" in phases else [])]
    note = ('<p class="note">rows through a stage: every row of its batches (rows that already left pass through '
            'untouched); rows still in play: those it worked on, as in the funnel'
            + (f"; the read stage's input is the {files:,} source files" if files else "") + ".</p>")
    return ('<div class="cols"><div><h3>row-local stages (CPU time summed over workers)</h3>' + note
            + _table(["stage", "rows through", "rows still in play", "CPU s", "rows / CPU s"], st)
            + '</div><div><h3>job phases (wall clock)</h3>' + _table(["phase", "wall s", "rows", "rows / s"], ph)
            + "</div></div>")


def render_html(stats: dict, figs: _Figures, out_dir: Path, shards: list[dict] | None = None) -> str:
    sec = {
        "summary": ("Summary", _summary_html(stats, out_dir, shards)),
        "funnel": ("Funnel", figs.img("funnel", "funnel chart") + _funnel_html(stats)),
        "lengths": ("Tokens per sample", figs.img("lengths", "tokens per sample") + _tokens_html(stats)),
        "fill": ("Fill efficiency and shapes", _fill_html(stats) + _shapes_html(stats)),
        "balance": ("Per-rank cost over steps", figs.img("balance", "per-rank cost heat map") + _balance_html(stats)),
        "mix": ("Mix per step", figs.img("mix", "mix per step") + _mix_html(stats)),
        "languages": ("Languages", figs.img("languages", "languages") + _languages_html(stats)),
        "dedup": ("Dedup clusters", figs.img("dedup", "dedup cluster sizes") + _dedup_html(stats)),
        "curation": ("Repairs and model scores", figs.img("curation", "score histograms") + _curation_html(stats)),
        "grounding": ("Grounding error codes", _grounding_html(stats)),
        "reasons": ("Reasons with example sample_ids", _reasons_html(stats)),
        "time": ("Time and throughput", _time_html(stats)),
    }
    nav = "".join(f'<a href="#{k}">{_e(v[0])}</a>' for k, v in sec.items())
    body = "".join(f'<section id="{k}"><h2>{_e(title)}</h2>{content}</section>' for k, (title, content) in sec.items())
    name = output_name(out_dir)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(name)} · vlpack report</title><style>{_CSS}</style></head>"
            f"<body><main><h1>vlpack report: {_e(name)}</h1><p class=\"muted\">{_e(out_dir)}</p><nav>{nav}</nav>{body}"
            f"</main></body></html>\n")


def output_name(out_dir: Path) -> str:
    """The output as people tell outputs apart: its last two path parts (`demo/out`, `runs/mix-v3`)."""
    parts = Path(out_dir).parts
    return "/".join(parts[-2:]) if len(parts) >= 2 else str(out_dir)


def write_report(out_dir, problems: list[str] | None = None, manifest=None) -> Path:
    """Write OUT/report/report.html (self-contained) and OUT/report/*.png; return the HTML path.

    `problems`, if given, receives each figure's layout problems (`layout_problems`; checked only
    then). `manifest`:
    the output's, when it is not committed yet (the job writes the report first)."""
    from schemas.manifest import Manifest, read_index

    out = Path(out_dir)
    stats = json.loads((out / STATS_PATH).read_text())
    if manifest is None and (out / MANIFEST_NAME).exists():
        manifest = Manifest.model_validate_json((out / MANIFEST_NAME).read_text())
    packs = (read_index(out, manifest, "packs", columns=["seq_len", "shard"], verify=False)
             if manifest is not None else None)
    report_dir = (out / STATS_PATH).parent
    for stale in ("fill.png",):  # figures earlier versions drew
        (report_dir / stale).unlink(missing_ok=True)
    figs = _Figures(report_dir, check_layout=problems is not None)
    _plot_funnel(figs, stats)
    _plot_lengths(figs, stats)
    _plot_balance(figs, stats)
    _plot_mix(figs, stats)
    _plot_languages(figs, stats)
    _plot_dedup(figs, stats)
    _plot_curation(figs, stats)
    if problems is not None:
        problems.extend(figs.problems)
    from packer.shards import commit_file

    path = report_dir / REPORT_NAME
    commit_file(path, render_html(stats, figs, out.resolve(), shard_sizes(out, packs)).encode())
    return path
