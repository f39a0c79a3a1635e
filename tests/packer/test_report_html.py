"""report.html over a real demo run: one self-contained file with every section, its plots embedded,
no external URL; and `vlpack report` (summary, --json, failure without a manifest)."""

from __future__ import annotations

import base64
import json
import re

import pytest
from typer.testing import CliRunner

from packer.report_html import SECTIONS, write_report
from demo_output import committed_demo_output
from schemas.manifest import STATS_PATH, load_index

PLOTS = ("funnel", "lengths", "balance", "mix", "languages")
DATA_URI = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')
WIDE = {"COLUMNS": "200", "NO_COLOR": "1"}


@pytest.fixture(scope="module")
def demo_out(ray_local, demo_corpus, tmp_path_factory):
    return committed_demo_output(demo_corpus, tmp_path_factory)


@pytest.fixture(scope="module")
def report(demo_out):
    problems: list[str] = []
    path = write_report(demo_out, problems=problems)
    assert problems == []  # no overlapping text and no missing glyph in any figure of a real run
    return path, path.read_text(encoding="utf-8")


def test_report_is_one_file_with_every_section(report, demo_out):
    path, text = report
    assert path == demo_out / "report" / "report.html"
    for sec in SECTIONS:
        assert f'<section id="{sec}"><h2>' in text, sec
    for heading in ("Funnel", "Tokens per sample", "Fill efficiency and shapes", "Per-rank cost over steps",
                    "Mix per step", "Languages", "Dedup clusters", "Grounding error codes",
                    "Reasons with example sample_ids", "Time and throughput"):
        assert f"{heading}</h2>" in text
    assert 'name="viewport"' in text and "max-width" in text


def test_report_states_the_percentile_error_bound(report):
    """Percentiles come from histograms merged over the index parts: the report says how exact."""
    _, text = report
    assert "exact for integers below 2,048, otherwise within 0.098% of the value" in text


def test_plots_are_embedded_and_saved_next_to_it(report, demo_out):
    _, text = report
    embedded = [base64.b64decode(m) for m in DATA_URI.findall(text)]
    saved = {p.stem: p.read_bytes() for p in (demo_out / "report").glob("*.png")}
    assert set(PLOTS) <= set(saved)
    assert len(embedded) == len(saved) and sorted(embedded) == sorted(saved.values())
    assert all(png.startswith(b"\x89PNG\r\n\x1a\n") for png in embedded)
    stats = json.loads((demo_out / STATS_PATH).read_text())
    assert ("dedup" in saved) == bool(stats["dedup"]["cluster_sizes"] or stats["dedup"]["duplicates_by_source"])


def test_no_external_url(report):
    _, text = report
    bare = DATA_URI.sub('src=""', text)
    for bad in ("http://", "https://", "//cdn", "ftp://", "@import", "url(", "<script", "<link", "<iframe"):
        assert bad not in bare.lower(), bad
    assert re.findall(r'\bsrc="([^"]*)"', bare) == [""] * len(DATA_URI.findall(text))
    assert set(re.findall(r'\bhref="([^"]*)"', bare)) == {f"#{s}" for s in SECTIONS}


def test_reason_table_shows_example_sample_ids_from_the_ledger(report, demo_out):
    _, text = report
    ledger = load_index(demo_out, "ledger").to_pandas()
    dropped = ledger[ledger["status"] != "packed"]
    reasons = text[text.index('<section id="reasons">'):text.index('<section id="time">')]
    for reason, rows in dropped.groupby("reason"):
        assert f"<code>{reason}</code>" in reasons
        assert f"<td>{len(rows):,}</td>" in reasons
        shown = re.search(rf"<code>{re.escape(reason)}</code></td>.*?</tr>", reasons).group(0)
        ids = re.findall(r"<code>([^<]+)</code>", shown)[1:]
        assert ids and set(ids) <= set(rows["sample_id"])


def test_report_command_rewrites_html_and_prints_summary(demo_out):
    from jobs.cli import app

    html = demo_out / "report" / "report.html"
    html.unlink(missing_ok=True)
    res = CliRunner().invoke(app, ["report", str(demo_out)], env=WIDE)
    assert res.exit_code == 0, res.output
    assert html.exists() and str(html) in res.output
    for key in ("input rows", "packs", "fill", "balance", "reasons"):
        assert key in res.output
    stats = json.loads((demo_out / STATS_PATH).read_text())
    assert f"{stats['packing']['n_packs']:,}" in res.output
    res = CliRunner().invoke(app, ["report", str(demo_out), "--json"], env=WIDE)
    assert res.exit_code == 0 and json.loads(res.output) == stats


def test_report_summary_prints_warnings(capsys):
    from jobs.commands.run import print_summary

    stats = {"input": {"rows": 10, "files": 1},
             "packing": {"padded_tokens": 100, "real_tokens": 50, "padding_waste": 0.5, "fill": 0.5}}
    print_summary("OUT", stats)
    out = capsys.readouterr().out
    assert "warning:" in out and "high padding waste: 50.0%" in out


def test_report_fails_clearly_without_a_manifest(tmp_path):
    from jobs.cli import app

    res = CliRunner().invoke(app, ["report", str(tmp_path)], env=WIDE)
    assert res.exit_code == 2
    assert "manifest.json" in res.output and "not a committed vlpack output" in res.output


def test_report_of_an_output_without_packs(tmp_path):
    """Every row filtered: no packs, no steps; the report still has every section and says so."""
    import pyarrow as pa

    from packer.stats import compute_stats
    from schemas.config import JobConfig
    from schemas.manifest import LEDGER_SCHEMA, PACKS_SCHEMA

    row = {c: None for c in LEDGER_SCHEMA.names}
    row.update(sample_id="a/1", copy=0, source="a", task="caption", status="filtered", reason="filter.url")
    cfg = JobConfig.model_validate({"sources": [{"name": "a", "format": "jsonl", "path": "a.jsonl"}]})
    stats = compute_stats(PACKS_SCHEMA.empty_table(), pa.Table.from_pylist([row], schema=LEDGER_SCHEMA), cfg=cfg,
                          counters={}, dedup={}, timings={}, n_files=1)
    (tmp_path / "report").mkdir()
    (tmp_path / STATS_PATH).write_text(json.dumps(stats))
    text = write_report(tmp_path).read_text()
    for sec in SECTIONS:
        assert f'<section id="{sec}">' in text
    assert "source &#x27;a&#x27; loses 100%" in text and "<code>a/1</code>" in text
