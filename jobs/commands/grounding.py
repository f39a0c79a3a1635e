"""`vlpack validate-grounding FILE|-`: check grounding labels line by line against the grammar.

A line is one of:
- plain text: validated as it is (`--width`/`--height` give the image size for pixel coordinates);
- a JSON object `{"text", "width"?, "height"?}`: its text, with its own image size;
- a sample row in any form vlpack reads (`docs/input-formats.md`: `turns`, `prompt`/`answer`,
  `conversations`, `messages`, ...): read as the `jsonl` reader reads it, then every text segment of
  every turn is validated on its own with the size of the row's first image, as the pipeline's
  grounding stage does. Errors name the turn and the segment, and their spans point into that
  segment's text, not into the escaped JSON line.

Any other JSON object (no `text`, not a sample row) is an invalid line. With `--quad-order clockwise`
(the default) a quad must list its corners clockwise from the upper-left, the canonical form of the
report (A.2.2) that `grounding.mode: repair` writes.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

import typer
from rich.console import Console
from rich.text import Text

CONTEXT = 30  # characters of text shown on each side of an error span
QUAD_ORDERS = ("clockwise", "any")
SAMPLE_KEYS = ("turns", "conversations", "messages", "prompt", "question", "answer", "caption")


def register(app: typer.Typer) -> None:
    app.command("validate-grounding")(validate_grounding)


@dataclass
class Check:
    """One text to validate, where it comes from and the image size to validate it with."""

    text: str
    where: str  # "" for the whole line, else e.g. "turn 2 (assistant), segment 1"
    width: int | None
    height: int | None


def validate_grounding(
    file: str = typer.Argument(
        ..., help="A file of text lines, JSON lines with a text field and the image width/height, or sample "
                  "rows in any form vlpack reads; - for stdin."
    ),
    width: int | None = typer.Option(
        None, "--width", min=1, help="Upright image width (absolute coordinates) for lines without their own."
    ),
    height: int | None = typer.Option(
        None, "--height", min=1, help="Upright image height (absolute coordinates) for lines without their own."
    ),
    coords: str = typer.Option(
        "normalized", "--coords", help="normalized | absolute | auto (tags normalised, JSON pixels)."
    ),
    shape: list[str] = typer.Option(
        [], "--shape", help="Enable a registered extra shape (e.g. polygon); repeatable."
    ),
    quad_order: str = typer.Option(
        "clockwise", "--quad-order",
        help="clockwise: quad corners must go clockwise from the upper-left (report A.2.2); any: any order.",
    ),
) -> None:
    """Validate grounding labels: print each error with its span; exit 1 if any line is invalid."""
    from jobs.grounding_stage import quad_order_errors
    from schemas.grounding import COORDS, DEFAULT_SHAPES, validate

    err = Console(stderr=True, highlight=False)
    for name, value, allowed in (("--coords", coords, COORDS), ("--quad-order", quad_order, QUAD_ORDERS)):
        if value not in allowed:
            err.print(f"[bold red]error:[/] {name} = {value!r}; allowed: {', '.join(allowed)}")
            raise typer.Exit(2)
    shapes = DEFAULT_SHAPES + tuple(s for s in shape if s not in DEFAULT_SHAPES)
    try:
        validate("", shapes=shapes)
    except ValueError as e:
        err.print(f"[bold red]error:[/] --shape: {e}")
        raise typer.Exit(2) from None
    try:
        stream = sys.stdin if file == "-" else open(file, encoding="utf-8")  # noqa: SIM115
    except OSError as e:
        err.print(f"[bold red]error:[/] cannot read {file}: {e.strerror}")
        raise typer.Exit(2) from None
    out = Console(highlight=False, soft_wrap=True)
    n_lines = n_bad = 0
    with stream:
        for lineno, line in enumerate(stream, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            n_lines += 1
            checks, problem = line_checks(line, width, height, file)
            if problem is not None:
                n_bad += 1
                out.print(Text.assemble((f"line {lineno}", "bold"), f": {problem}"))
                continue
            bad = False
            for c in checks:
                report = validate(c.text, width=c.width, height=c.height, coords=coords, shapes=shapes)
                errors = list(report.errors)
                if quad_order == "clockwise":
                    errors = sorted(errors + quad_order_errors(c.text, report), key=lambda e: e.span)
                bad = bad or bool(errors)
                where = f"line {lineno}" + (f", {c.where}" if c.where else "")
                for e in errors:
                    out.print(Text.assemble((where, "bold"), f": [{e.code}] {e.span[0]}-{e.span[1]}: ", e.message))
                    out.print(_excerpt(c.text, e.span))
            n_bad += bad
    summary = f"{n_lines - n_bad} of {n_lines} lines valid"
    err.print(f"[bold red]{summary}[/]" if n_bad else f"[green]{summary}[/]")
    if n_bad:
        raise typer.Exit(1)


def line_checks(line: str, width: int | None, height: int | None, file: str) -> tuple[list[Check], str | None]:
    """The texts of one line to validate, or (no texts, why the line is invalid as it stands)."""
    if not line.lstrip().startswith("{"):
        return [Check(line, "", width, height)], None
    try:
        obj = json.loads(line)
    except ValueError:
        return [Check(line, "", width, height)], None  # text that happens to start with "{"
    if not isinstance(obj, dict):
        return [Check(line, "", width, height)], None
    if any(k in obj for k in SAMPLE_KEYS):
        return _sample_checks(obj, width, height, file)
    if not isinstance(obj.get("text"), str):
        return [], ('[no_text] a JSON object without a "text" string and not a sample row; give {"text", '
                    '"width", "height"} or a sample row (docs/input-formats.md)')
    w, h = obj.get("width", width), obj.get("height", height)
    return [Check(obj["text"], "", w if isinstance(w, int) else width, h if isinstance(h, int) else height)], None


def _sample_checks(obj: dict, width: int | None, height: int | None, file: str) -> tuple[list[Check], str | None]:
    """A sample row read as the jsonl reader reads it: one check per text segment of each turn."""
    import os

    from jobs.grounding_stage import first_image_size, text_segments
    from jobs.readers import REASON_HINTS, RowError, canonical_row
    from schemas.config import SourceConfig

    path = os.path.abspath(file) if file != "-" else os.path.join(os.getcwd(), "stdin.jsonl")
    source = SourceConfig(name="line", format="jsonl", path=path)
    try:
        row = canonical_row(obj, source, os.path.dirname(path), "row")
    except RowError as e:
        hint = REASON_HINTS.get(e.reason)
        return [], f"[{e.reason}] the sample row cannot be read: {e}" + (f" ({hint})" if hint else "")
    w, h = first_image_size(row["media"])
    w, h = (w, h) if w is not None and h is not None else (width, height)
    checks, seg_no, last_turn = [], 0, -1
    for t, role, seg in text_segments(row["turns"]):
        seg_no = seg_no + 1 if t == last_turn else 1
        last_turn = t
        checks.append(Check(seg["text"], f"turn {t + 1} ({role}), text {seg_no}", w, h))
    return checks, None


def _excerpt(text: str, span: tuple[int, int]) -> Text:
    start, end = span
    lo, hi = max(0, start - CONTEXT), min(len(text), end + CONTEXT)
    shown = Text("    ")
    shown.append("…" if lo else "")
    shown.append(text[lo:start].replace("\n", "⏎"))
    shown.append(text[start:end].replace("\n", "⏎") or "‸", style="bold white on red")
    shown.append(text[end:hi].replace("\n", "⏎"))
    shown.append("…" if hi < len(text) else "")
    return shown
