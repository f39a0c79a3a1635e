"""A committed demo output shared by the report tests (stats, HTML report, inspect).

Each of those test modules asks for it through a module-scoped fixture; the first one runs the job,
the later ones find the same config already committed in the same directory and reuse it.
"""

from __future__ import annotations

from pathlib import Path


def committed_demo_output(demo_corpus: Path, tmp_path_factory) -> Path:
    from jobs.pipeline import run_job
    from schemas.config import load_job_config

    cfg = load_job_config(demo_corpus)
    out = tmp_path_factory.getbasetemp() / "demo_out_report"
    return run_job(cfg.model_copy(update={"output": cfg.output.model_copy(update={"dir": str(out)})})).out_dir
