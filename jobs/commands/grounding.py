"""`vlpack validate-grounding FILE|-`: check grounding labels line by line against the grammar."""

from __future__ import annotations

import json
import sys

import typer
from rich.console import Console
from rich.text import Text

CONTEXT = 30  # characters of text shown on each side of an error span


def register(app: typer.Typer) -> None:
    app.command("validate-grounding")(validate_grounding)


def validate_grounding(
    file: str = typer.Argument(
        ..., help="A file of text lines or JSONL ({'text', 'width', 'height'}); - for stdin."
    ),
    width: int | None = typer.Option(
        None, "--width", min=1, help="Upright image width (absolute coordinates)."
    ),
    height: int | None = typer.Option(
        None, "--height", min=1, help="Upright image height (absolute coordinates)."
    ),
    coords: str = typer.Option(
        "normalized", "--coords", help="normalized | absolute | auto (tags normalised, JSON pixels)."
    ),
    shape: list[str] = typer.Option(
        [], "--shape", help="Enable a registered extra shape (e.g. polygon); repeatable."
    ),
) -> None:
    """Validate grounding labels: print each error with its span; exit 1 if any line is invalid."""
    from schemas.grounding import COORDS, DEFAULT_SHAPES, validate

    err = Console(stderr=True, highlight=False)
    if coords not in COORDS:
        err.print(f"[bold red]error:[/] --coords = {coords!r}; allowed: {', '.join(COORDS)}")
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
            text, w, h = _record(line, width, height)
            report = validate(text, width=w, height=h, coords=coords, shapes=shapes)
            if report.ok:
                continue
            n_bad += 1
            for e in report.errors:
                out.print(
                    Text.assemble(
                        (f"line {lineno}", "bold"), f": [{e.code}] {e.span[0]}-{e.span[1]}: ", e.message
                    )
                )
                out.print(_excerpt(text, e.span))
    summary = f"{n_lines - n_bad} of {n_lines} lines valid"
    err.print(f"[bold red]{summary}[/]" if n_bad else f"[green]{summary}[/]")
    if n_bad:
        raise typer.Exit(1)


def _record(line: str, width: int | None, height: int | None) -> tuple[str, int | None, int | None]:
    """A JSONL record with a "text" field (and optional width/height), or the line itself."""
    if line.lstrip().startswith("{"):
        try:
            obj = json.loads(line)
        except ValueError:
            return line, width, height
        if isinstance(obj, dict) and isinstance(obj.get("text"), str):
            w, h = obj.get("width", width), obj.get("height", height)
            return obj["text"], (w if isinstance(w, int) else width), (h if isinstance(h, int) else height)
    return line, width, height


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
