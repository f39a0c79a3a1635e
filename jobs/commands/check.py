"""`vlpack check`: everything that can be checked about a job without starting Ray."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from jobs.commands.run import _fail


def _describe_row(row: dict) -> str:
    media = ", ".join(f"{m['kind']} {m['width'] or '?'}x{m['height'] or '?'}" for m in row["media"] or [])
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
        from jobs.output_lock import lock_holder
        from jobs.pipeline import JobError, committed_manifest, preflight
        from jobs.readers import SourceFileError, first_row_form, first_rows
        from schemas.config import ConfigError, load_job_config

        try:
            cfg = load_job_config(job)
        except ConfigError as err:
            _fail(f"invalid job config {job}:\n{err}")
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
        out = Path(cfg.output.dir)
        holder = lock_holder(out) if out.is_dir() else None
        try:
            manifest = committed_manifest(out)
        except JobError as err:
            _fail(str(err), 1)
        if holder:
            state = f"being written now by {holder}"
        elif manifest is None:
            state = "no committed output yet" if not out.exists() or not any(out.iterdir()) else \
                "not committed (a run would resume or start it)"
        elif manifest.job_fingerprint == inputs.job_fingerprint:
            state = "committed for this config and these inputs (a run would do nothing)"
        elif manifest.config_fingerprint == cfg.fingerprint():
            state = "committed for this config, but the inputs changed since (a run would recompute)"
        else:
            state = ("committed for another config (a run replaces it: output.overwrite is on)" if cfg.output.overwrite
                     else "committed for another config (a run would refuse: set output.overwrite: true)")
        console.print(escape(f"output {out}: {state}"), highlight=False)
        console.print(f"config {cfg.fingerprint()}, inputs {inputs.fingerprint} "
                      f"({len(inputs.files):,} files, {sum(f.size for f in inputs.files):,} bytes): ok", highlight=False)
