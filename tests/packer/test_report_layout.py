"""The report's figures and HTML as a data engineer reads them: checked at render time (no two text
boxes overlap, every character has a glyph) on a run of hundreds of steps and on small runs, and the
HTML without rough edges (title, headings, time tables, language note, mix in tokens, shard bytes)."""

from __future__ import annotations

import re

import pytest

from large_run import large_run_output
from packer.report_html import layout_problems, write_report


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    """~6,000 samples over 200+ steps (2 ranks): the scale at which the old mix ticks overlapped."""
    out = large_run_output(tmp_path_factory.mktemp("large") / "runs" / "mix-v3", n_samples=6000, dp_size=2,
                           grad_accum=1)
    problems: list[str] = []
    path = write_report(out, problems=problems)
    return out, path.read_text(encoding="utf-8"), problems


def test_no_text_overlaps_and_no_missing_glyph_at_hundreds_of_steps(large):
    import json

    out, _, problems = large
    assert json.loads((out / "report" / "stats.json").read_text())["mix"]["n_steps"] > 172
    assert problems == []


@pytest.mark.parametrize("steps", [1, 3, 7, 18])
def test_no_text_overlaps_on_small_runs(tmp_path, steps):
    out = large_run_output(tmp_path / "small", n_samples=int(steps * 24 / 0.82) + 30, dp_size=2, grad_accum=1)
    problems: list[str] = []
    write_report(out, problems=problems)
    assert problems == []


def test_the_checker_finds_overlapping_text_and_missing_glyphs():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.text(0.5, 0.5, "a long label here")
    ax.text(0.52, 0.5, "another label")
    ax.set_title("\U00013000 hieroglyph")  # no font of ours has Egyptian hieroglyphs
    problems = layout_problems(fig)
    plt.close(fig)
    assert any("overlaps" in p for p in problems) and any("no glyph" in p for p in problems)


def test_step_ticks_are_regular(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from packer.report_html import _integer_ticks

    for n in (5, 12, 18, 172, 1000):
        fig, ax = plt.subplots()
        ax.set_xlim(-0.5, n - 0.5)
        _integer_ticks(ax.xaxis, n)
        ticks = [t for t in ax.get_xticks() if -0.5 <= t <= n - 0.5]
        plt.close(fig)
        steps = set(np.diff(ticks).tolist())
        assert len(steps) == 1 and all(float(t).is_integer() for t in ticks), (n, ticks)
        assert len(ticks) <= 11


def test_title_and_heading_name_the_output(large):
    _, text, _ = large
    assert "<title>runs/mix-v3 · vlpack report</title>" in text and "vlpack report: runs/mix-v3</h1>" in text


def test_no_raw_key_headings_and_checked_is_not_an_error_code(large):
    _, text, _ = large
    assert "<h3>top_duplicated</h3>" not in text and "<h3>most duplicated captions</h3>" in text
    grounding = text.split('<section id="grounding">')[1].split("</section>")[0]
    codes = grounding.split("error codes")[1]
    assert "grounding.checked" not in codes and "2,400 rows had grounding labels" in grounding


def test_time_tables_are_sorted_by_time_with_total_last_and_no_scientific_notation(large):
    _, text, _ = large
    time = text.split('<section id="time">')[1].split("</section>")[0]
    assert not re.search(r"\d[eE][+-]\d", time)
    phases = re.findall(r"<tr><td>(\w+)</td><td>([\d,.]+)</td>", time.split("job phases")[1])
    names = [p[0] for p in phases]
    assert names[-1] == "total" and names[0] == "read_probe_filter_grounding"
    walls = [float(w.replace(",", "")) for _, w in phases[:-1]]
    assert walls == sorted(walls, reverse=True)
    stages = re.findall(r"<tr><td>(\w+)</td>", time.split("job phases")[0])
    assert stages[:3] == ["probe", "tokens", "filter"]  # 41.5, 18.0, 12.25 CPU s


def test_stage_table_shows_the_funnel_rows_next_to_the_rows_through(large):
    out, text, _ = large
    import json

    stats = json.loads((out / "report" / "stats.json").read_text())
    time = text.split('<section id="time">')[1].split("job phases")[0]
    tokens_in = stats["funnel"]["total"]["stages"]["tokens"]["in"]
    assert f"<tr><td>tokens</td><td>{stats['input']['rows']:,}</td><td>{tokens_in:,}</td>" in time
    assert "rows still in play" in time


def test_und_is_explained_with_numbers(large):
    _, text, _ = large
    langs = text.split('<section id="languages">')[1].split("</section>")[0]
    assert "<b>und</b> (undetermined)" in langs and "never language-checked" in langs and "filters.tasks" in langs


def test_mix_in_samples_and_tokens_and_shard_bytes(large):
    _, text, _ = large
    mix = text.split('<section id="mix">')[1].split("</section>")[0]
    assert "share of samples" in mix and "share of tokens" in mix and "packed tokens" in mix
    summary = text.split('<section id="summary">')[1].split("</section>")[0]
    assert "shards on disk" in summary and re.search(r"tar files, [\d.]+ KB in all", summary)


def test_wall_time_names_the_job_and_the_command(large):
    _, text, _ = large
    summary = text.split('<section id="summary">')[1].split("</section>")[0]
    assert "job 61.7 s (from Ray start-up to the indexes)" in summary
    assert "real time since the command started" in summary


def test_cjk_text_is_html_and_the_page_has_cjk_fonts(large):
    _, text, _ = large
    assert "一只小猫坐在窗台上晒太阳" in text
    assert '"Noto Sans CJK SC"' in text and "WenQuanYi Micro Hei" in text


def test_no_redundant_fill_histograms(large):
    out, text, _ = large
    assert not (out / "report" / "fill.png").exists()
    assert "after packing" not in text and "packs are under 90% full" in text
