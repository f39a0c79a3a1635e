"""Fault tolerance of a pack job (issue 10): worker death, crash and resume, failed commits.

Each run is a real `vlpack run` in a subprocess with its own embedded Ray runtime, so the fault
hook (VLPACK_FAULT, see jobs/checkpoints.py) reaches the Ray workers through the environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from schemas.manifest import MANIFEST_NAME

pytestmark = pytest.mark.slow


def _job(corpus_job: Path, out: Path, tmp: Path) -> Path:
    data = yaml.safe_load(corpus_job.read_text())
    base = corpus_job.parent
    for s in data["sources"]:
        s["path"] = str(base / s["path"])
        if "root" in s:
            s["root"] = str(base / s["root"])
    data["output"] = {"dir": str(out), "overwrite": False}
    data["ray"] = {"num_cpus": 2, "batch_size": 40}
    job = tmp / f"job-{out.name}.yaml"
    job.write_text(yaml.safe_dump(data))
    return job


def _vlpack(job: Path, fault: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "VLPACK_FAULT"}
    if fault:
        env["VLPACK_FAULT"] = fault
    return subprocess.run([sys.executable, "-m", "jobs.cli", "run", str(job), "--no-progress"],
                          capture_output=True, text=True, env=env, timeout=900)


def _outputs(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != "job.yaml" and not ({".vlpack", "report"} & set(p.relative_to(out).parts))}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from jobs.demo_data import make_demo_dataset

    return make_demo_dataset(tmp_path_factory.mktemp("faults"), samples=160, seed=3)


@pytest.fixture(scope="module")
def baseline(corpus, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("baseline")
    proc = _vlpack(_job(corpus, tmp / "out", tmp))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return _outputs(tmp / "out")


def test_killed_worker_gives_identical_output(corpus, baseline, tmp_path):
    marker = tmp_path / "killed"
    proc = _vlpack(_job(corpus, tmp_path / "out", tmp_path), fault=f"kill_worker_once:filter:{marker}")
    assert marker.exists(), "the fault hook never fired"
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _outputs(tmp_path / "out") == baseline


def test_crash_after_shards_then_rerun_keeps_finished_shards(corpus, baseline, tmp_path):
    job = _job(corpus, tmp_path / "out", tmp_path)
    crashed = _vlpack(job, fault="fail_after_shards:2")
    assert crashed.returncode != 0
    out = tmp_path / "out"
    assert not (out / MANIFEST_NAME).exists()
    journal = next((out / ".vlpack").iterdir()) / "journal"
    finished = sorted(journal.glob("*.json"))
    assert len(finished) >= 2
    shard_paths = [out / f.name[:-len(".json")].replace("__", "/") for f in finished]
    mtimes = {p: p.stat().st_mtime_ns for p in shard_paths}
    again = _vlpack(job)
    assert again.returncode == 0, again.stderr[-3000:]
    assert {p: p.stat().st_mtime_ns for p in shard_paths} == mtimes
    assert _outputs(out) == baseline


def test_injected_rename_failure_leaves_nothing_visible(corpus, tmp_path):
    target = "shards/rank-00000/shard-000000.tar"
    proc = _vlpack(_job(corpus, tmp_path / "out", tmp_path), fault=f"fail_rename:{target}")
    out = tmp_path / "out"
    assert proc.returncode != 0
    assert "injected failure" in proc.stderr
    assert not (out / target).exists()
    assert not (out / MANIFEST_NAME).exists()
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name]
