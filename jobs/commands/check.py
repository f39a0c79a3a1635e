"""`vlpack check`: everything that can be checked about a job without starting Ray."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from jobs.commands.run import _fail, load_or_fail


def _describe_row(row: dict) -> str:
    media = ", ".join(f"{m['kind']} {m['width']}x{m['height']}" if m["width"] and m["height"]
                      else f"{m['kind']} {(m['uri'] or '?').rsplit('/', 1)[-1]} (size read at run time)"
                      for m in row["media"] or [])
    turns = " / ".join(f"{t['role']}: " + " ".join(s["text"][:40] if s["kind"] == "text" else f"<{s['kind']}>"
                                                  for s in t["segments"] or [])
                       for t in row["turns"] or [])
    state = row["status"] if row["status"] == "ok" else f"{row['status']} ({row['reason']})"
    return f"{row['sample_id']} [{row['task']}, {state}] {media} {turns}"[:160]


def register(app: typer.Typer) -> None:
    @app.command()
    def check(job: Path = typer.Argument(..., help="The job config (YAML) to check.")) -> None:
        """Check a job without running it: the config, every source's files (present, readable, of
        the source's format), a first row of each source, and the state of the output directory."""
        from jobs.pipeline import JobError, output_state, preflight
        from jobs.readers import SourceFileError, first_row_form, first_rows
        cfg = load_or_fail(job)
        try:
            inputs = preflight(cfg)
        except (JobError, SourceFileError) as err:
            _fail(str(err), 1)
        console = Console()
        t = Table(title=f"sources of {job}", title_justify="left")
        for col in ("source", "format", "task", "files", "bytes", "read as", "first row"):
            t.add_column(col, overflow="fold")
        for source in cfg.sources:
            files = [f for f in inputs.files if f.source == source.name]
            try:
                rows = first_rows(files[0].path, source, cfg.read).to_pylist()
            except SourceFileError as err:
                _fail(str(err), 1)
            first = _describe_row(rows[0]) if rows else "(no rows)"
            form = first_row_form(files[0].path, source, cfg.read) if rows else "-"
            t.add_row(escape(source.name), source.format, escape(source.task), f"{len(files):,}",
                      f"{sum(f.size for f in files):,}", escape(form), escape(first))
        console.print(t)
        try:
            state = output_state(cfg, inputs)
        except JobError as err:
            _fail(str(err), 1)
        console.print(escape(f"output {cfg.output.dir}: {state.text}"), highlight=False)
        summary = (f"config {cfg.fingerprint()}, inputs {inputs.fingerprint} "
                   f"({len(inputs.files):,} files, {sum(f.size for f in inputs.files):,} bytes)")
        if state.refused:
            _fail(f"{summary}: a run would refuse this output directory", 1)
        console.print(f"{summary}: ok", highlight=False)
