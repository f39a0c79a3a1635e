"""Crash safety of a whole pack job in the default suite (real files, the session's local Ray):
a failure after the shards are written leaves no manifest, and the resume that follows gives the
bytes of an uninterrupted run without rewriting a finished shard.

The failures happen in the driver, after every shard is committed and journaled:
1. a real one: `OUT/report` is a file, so the statistics cannot be written;
2. an injected one (VLPACK_FAULT=fail_before_manifest) after the indexes, the statistics, the report
   and the stale-shard cleanup, just before the manifest would be committed.
`tests/packer/test_shards_crash.py` covers a shard writer failing or killed partway; the slow
`tests/jobs/test_faults.py` covers worker deaths and failures inside the Ray workers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from demo_output import committed_demo_output
from schemas.config import load_job_config
from schemas.manifest import MANIFEST_NAME, Manifest


def _outputs(out: Path) -> dict[str, bytes]:
    """Every output file but the resolved job.yaml (it names OUT), the report (it holds timings) and
    the private state."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != "job.yaml" and not ({".vlpack", "report"} & set(p.relative_to(out).parts))}


def _shards(out: Path) -> dict[str, int]:
    return {str(p.relative_to(out)): p.stat().st_mtime_ns for p in sorted((out / "shards").rglob("*.tar"))}


@pytest.fixture(scope="module")
def baseline(ray_local, demo_corpus, tmp_path_factory) -> dict[str, bytes]:
    return _outputs(committed_demo_output(demo_corpus, tmp_path_factory))


def test_failures_after_the_shards_leave_no_manifest_and_the_resume_is_identical(
        ray_local, demo_corpus, baseline, tmp_path, monkeypatch):
    from jobs import checkpoints as ckpt
    from jobs.pipeline import run_job

    cfg = load_job_config(demo_corpus)
    out = tmp_path / "out"
    cfg = cfg.model_copy(update={"output": cfg.output.model_copy(update={"dir": str(out), "overwrite": False})})
    listed = sorted(k for k in baseline if k.startswith("shards/"))
    # a shard left by an earlier, never committed run of another plan: no manifest may list it
    stale = out / "shards" / "rank-00031" / "shard-000007.tar"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"\0" * 1024)
    (out / "report").write_bytes(b"a file where the report directory goes")

    monkeypatch.delenv("VLPACK_FAULT", raising=False)
    with pytest.raises(OSError):  # 1. the statistics cannot be written
        run_job(cfg)
    assert not (out / MANIFEST_NAME).exists()
    (journal,) = (out / ckpt.STATE_DIR).glob("*/journal")  # this job's shard journal
    assert sorted(ckpt.verified_shards(out, journal)) == listed  # every shard committed and journaled
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name]

    (out / "report").unlink()
    monkeypatch.setenv("VLPACK_FAULT", "fail_before_manifest")
    with pytest.raises(ckpt.InjectedFault):  # 2. everything but the manifest is written
        run_job(cfg)
    assert not (out / MANIFEST_NAME).exists(), "a manifest was committed before the job finished"
    assert (out / "report" / "stats.json").exists() and not stale.exists()
    assert sorted(_shards(out)) == listed
    finished = _shards(out)

    monkeypatch.delenv("VLPACK_FAULT")
    result = run_job(cfg)  # 3. resume
    assert not result.already_complete
    assert _shards(out) == finished  # no finished shard was written again
    assert _outputs(out) == baseline  # byte-identical to an uninterrupted run
    manifest = Manifest.model_validate_json((out / MANIFEST_NAME).read_text())
    assert sorted(s.path for s in manifest.shards) == listed
