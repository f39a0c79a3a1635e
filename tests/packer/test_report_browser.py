"""report.html in a real browser (headless Chromium): the demo and a 20,000-sample run of 200+ steps.

Checks that can fail: every figure as matplotlib draws it (no overlapping text, no missing glyph),
then the page as Chromium lays it out (no overlapping text boxes, no box cut off, nothing wider
than the window), and screenshots that are not blank. The screenshots are kept as artifacts: in
$VLPACK_ARTIFACTS if set, else in pytest's temporary directory (the path is printed).

Chromium is Debian's package; the test skips, saying so, where it is not installed. The same
checks run by hand with `python scripts/report_screenshots.py [--install]`.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from demo_output import committed_demo_output
from large_run import large_run_output

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("report_screenshots", ROOT / "scripts" / "report_screenshots.py")
report_screenshots = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(report_screenshots)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(report_screenshots.find_chromium() is None,
                       reason="headless Chromium is not installed (apt-get install chromium fonts-wqy-microhei, "
                              "or run scripts/report_screenshots.py --install)"),
]


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory) -> Path:
    path = Path(os.environ.get("VLPACK_ARTIFACTS") or tmp_path_factory.mktemp("report-screenshots"))
    path.mkdir(parents=True, exist_ok=True)
    print(f"report screenshots in {path}")
    return path


def test_demo_report_in_a_browser(ray_local, demo_corpus, tmp_path_factory, artifacts):
    out = committed_demo_output(demo_corpus, tmp_path_factory)
    result = report_screenshots.check_output(report_screenshots.find_chromium(), out, artifacts, "demo")
    assert result["problems"] == []
    assert Path(result["first_screen"]).stat().st_size > 10_000


def test_report_of_20k_samples_and_many_steps_in_a_browser(tmp_path, artifacts):
    out = large_run_output(tmp_path / "runs" / "large-20k", n_samples=20_000, dp_size=2, grad_accum=1)
    result = report_screenshots.check_output(report_screenshots.find_chromium(), out, artifacts, "large-20k")
    assert result["problems"] == []


def test_the_browser_check_finds_a_cut_off_table_and_overlapping_text(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><body><main><div style="width:300px;overflow-x:auto"><table><tr>'
                    f'<td style="white-space:nowrap">{"wide " * 200}</td></tr></table></div>'
                    '<p style="position:relative;top:-10px">overlapping text here</p>'
                    '<p style="position:relative;top:-30px">second text overlapping</p></main></body></html>')
    problems = report_screenshots.browser_layout_problems(report_screenshots.find_chromium(), page)
    assert any(p.startswith("cut off: <div>") for p in problems)
    assert any(p.startswith("overlap: overlapping text here") for p in problems)
