"""Screenshots of report.html in headless Chromium, with checks that can fail.

    python scripts/report_screenshots.py [--out DIR] [--samples 2000 20000] [--install]
    python scripts/report_screenshots.py --report OUT1 OUT2 ...   # existing outputs, no new runs

For each output (by default: `vlpack demo` of 2,000 and of 20,000 samples, the second one with many
steps) it rewrites report.html, then:
1. checks every figure as matplotlib draws it (`packer.report_html.layout_problems`: no overlapping
   text, no missing glyph);
2. loads a copy of the page in headless Chromium with a small script that measures the layout in the
   browser: text boxes that overlap, and boxes whose content is wider than they are (a table cut off);
3. takes a screenshot of the first screen (1280 × 900) and of the whole page into DIR, and checks
   that they are not blank.
It prints one JSON line per output and exits 1 if any check failed.

Chromium comes from Debian (`apt-get install chromium`); `--install` installs it, with a CJK font
(fonts-wqy-microhei) so CJK captions show in the screenshots, when it is missing and we are root.
The report itself never needs either: it is one self-contained HTML file with CJK font fallbacks.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_NAMES = ("chromium", "chromium-headless-shell", "chromium-browser", "google-chrome")
APT_PACKAGES = ("chromium", "fonts-wqy-microhei")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars")
FIRST_SCREEN = (1280, 900)
# Measures the laid-out page and writes the result into <body data-layout="...">.
LAYOUT_PROBE = """<script>
(function () {
  const problems = [];
  const leaves = [...document.querySelectorAll('h1,h2,h3,p,a,th,td,summary,code,div.warn,div.ok')]
    .filter(e => e.innerText.trim() && !e.querySelector('td,th,p,div,code,a'));
  // one box per line an element occupies (an inline link that wraps has two)
  const boxes = leaves.flatMap(e => [...e.getClientRects()].map(r => [e, r])).filter(([e, r]) => r.width > 0 && r.height > 0);
  for (let i = 0; i < boxes.length; i++) {
    const [a, ra] = boxes[i];
    for (let j = i + 1; j < boxes.length; j++) {
      const [b, rb] = boxes[j];
      if (a === b || a.contains(b) || b.contains(a)) continue;
      const w = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
      const h = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      if (w > 1 && h > 1) problems.push('overlap: ' + a.innerText.slice(0, 40) + ' / ' + b.innerText.slice(0, 40));
    }
  }
  document.querySelectorAll('main, section, div, table').forEach(e => {
    if (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible')
      problems.push('cut off: <' + e.tagName.toLowerCase() + (e.id ? ' id=' + e.id : '') + '> is ' +
                    e.scrollWidth + ' px wide in ' + e.clientWidth + ' px');
  });
  if (document.documentElement.scrollWidth > window.innerWidth + 1)
    problems.push('page wider than the window: ' + document.documentElement.scrollWidth + ' px');
  document.body.setAttribute('data-layout', JSON.stringify(problems));
})();
</script>"""


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def install_chromium() -> str | None:
    if find_chromium() is None and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", *APT_PACKAGES], check=False,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    return find_chromium()


def _chromium(chromium: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="vlpack-chromium-") as profile:
        return subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                              text=True, timeout=timeout)


def screenshot(chromium: str, html: Path, png: Path, width: int, height: int) -> None:
    png.parent.mkdir(parents=True, exist_ok=True)
    _chromium(chromium, f"--window-size={width},{height}", f"--screenshot={png}", html.resolve().as_uri())
    if not png.exists():
        raise RuntimeError(f"chromium wrote no screenshot of {html}")


def page_height(chromium: str, html: Path, width: int) -> int:
    """The page's full height in CSS pixels at `width`, measured by the browser."""
    probe = "<script>document.body.setAttribute('data-height', document.documentElement.scrollHeight)</script>"
    dom = _dom(chromium, html, probe, width)
    m = re.search(r'data-height="(\d+)"', dom)
    return int(m.group(1)) if m else 4000


def _dom(chromium: str, html: Path, script: str, width: int) -> str:
    with tempfile.TemporaryDirectory(prefix="vlpack-report-") as tmp:
        copy = Path(tmp) / "report.html"
        copy.write_text(html.read_text(encoding="utf-8").replace("</body>", script + "</body>"), encoding="utf-8")
        res = _chromium(chromium, f"--window-size={width},{FIRST_SCREEN[1]}", "--virtual-time-budget=5000",
                        "--dump-dom", copy.as_uri())
        return res.stdout


def browser_layout_problems(chromium: str, html: Path, width: int = FIRST_SCREEN[0]) -> list[str]:
    """Overlapping text boxes and cut-off boxes of the laid-out page, as Chromium measures them."""
    import html as html_lib

    dom = _dom(chromium, html, LAYOUT_PROBE, width)
    m = re.search(r'data-layout="([^"]*)"', dom)
    if not m:
        return ["the layout probe did not run (no data-layout attribute in the DOM)"]
    return json.loads(html_lib.unescape(m.group(1)))


def blank_problems(png: Path) -> list[str]:
    """A screenshot that is one colour, or nearly, shows nothing."""
    from PIL import Image

    with Image.open(png) as im:
        colors = im.convert("RGB").resize((256, 256)).getcolors(256 * 256) or []
    return [] if len(colors) > 50 else [f"{png.name} is blank ({len(colors)} colours)"]


def check_output(chromium: str, out: Path, artifacts: Path, name: str) -> dict:
    sys.path.insert(0, str(ROOT))
    from packer.report_html import write_report

    problems: list[str] = []
    html = write_report(out, problems=problems)
    problems += browser_layout_problems(chromium, html)
    first = artifacts / f"{name}-first-screen.png"
    full = artifacts / f"{name}-full-page.png"
    screenshot(chromium, html, first, *FIRST_SCREEN)
    screenshot(chromium, html, full, FIRST_SCREEN[0], min(page_height(chromium, html, FIRST_SCREEN[0]), 16000))
    problems += blank_problems(first) + blank_problems(full)
    return {"output": str(out), "report": str(html), "first_screen": str(first), "full_page": str(full),
            "problems": problems}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path("report-screenshots"), help="demo runs and screenshots go here")
    ap.add_argument("--samples", type=int, nargs="+", default=[2000, 20000], help="one demo run per size")
    ap.add_argument("--report", type=Path, nargs="+", help="check these existing outputs instead of new demo runs")
    ap.add_argument("--install", action="store_true", help="apt-get install chromium and a CJK font if missing")
    args = ap.parse_args(argv)
    chromium = install_chromium() if args.install else find_chromium()
    if chromium is None:
        print(f"no chromium found; install it with `apt-get install {' '.join(APT_PACKAGES)}` or pass --install",
              file=sys.stderr)
        return 2
    outputs = [(p, p.name if p.name != "out" else p.parent.name) for p in args.report or []]
    if not outputs:
        for n in args.samples:
            demo = args.out / f"demo-{n}"
            subprocess.run([sys.executable, "-m", "jobs.cli", "demo", "--out", str(demo), "--samples", str(n),
                            "--no-progress"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
            outputs.append((demo / "out", f"demo-{n}"))
    failed = False
    for out, name in outputs:
        result = check_output(chromium, out, args.out, name)
        failed = failed or bool(result["problems"])
        print(json.dumps(result, ensure_ascii=False))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
