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


@pytest.mark.parametrize("stage", ["filter", "plan", "index"])
def test_killed_worker_gives_identical_output(corpus, baseline, tmp_path, stage):
    """A worker dies in a row stage, in a planning task (between a group's rows and packs files) or
    in an index task (between a group's ledger and packs parts): the retried task gives the same
    output, byte for byte."""
    marker = tmp_path / "killed"
    proc = _vlpack(_job(corpus, tmp_path / "out", tmp_path), fault=f"kill_worker_once:{stage}:{marker}")
    assert marker.exists(), "the fault hook never fired"
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _outputs(tmp_path / "out") == baseline


def test_crash_after_shards_then_rerun_keeps_finished_shards(corpus, baseline, tmp_path):
    job = _job(corpus, tmp_path / "out", tmp_path)
    crashed = _vlpack(job, fault="fail_after_shards:2")
    assert crashed.returncode != 0
    out = tmp_path / "out"
    assert not (out / MANIFEST_NAME).exists()
    journal = next(d for d in (out / ".vlpack").iterdir() if (d / "journal").is_dir()) / "journal"
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


def test_a_writer_killed_mid_shard_leaves_no_temporary_file_in_the_output(corpus, baseline, tmp_path):
    marker = tmp_path / "killed"
    out = tmp_path / "out"
    proc = _vlpack(_job(corpus, out, tmp_path), fault=f"kill_writer_mid_shard:{marker}")
    assert marker.exists(), "the fault hook never fired"
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (out / MANIFEST_NAME).exists()
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name]  # the orphan was swept before the manifest
    assert _outputs(out) == baseline


def _started(job: Path, fault: str | None = None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "VLPACK_FAULT"}
    if fault:
        env["VLPACK_FAULT"] = fault
    return subprocess.Popen([sys.executable, "-m", "jobs.cli", "run", str(job), "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _check_committed(out: Path) -> None:
    from packer.shards import file_sha256
    from schemas.manifest import Manifest

    m = Manifest.model_validate_json((out / MANIFEST_NAME).read_text())
    assert sorted(str(p.relative_to(out)) for p in (out / "shards").rglob("*.tar")) == sorted(s.path for s in m.shards)
    for s in m.shards:
        assert file_sha256(out / s.path) == s.sha256
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name]


def test_two_runs_started_together_one_proceeds_the_other_names_the_holder(corpus, tmp_path):
    """Two configs with overwrite on, on one output, started at once: exactly one writes."""
    out = tmp_path / "out"
    jobs = []
    for seed in (1, 2):
        data = yaml.safe_load(_job(corpus, out, tmp_path).read_text())
        data["seed"], data["output"]["overwrite"] = seed, True
        job = tmp_path / f"job-{seed}.yaml"
        job.write_text(yaml.safe_dump(data))
        jobs.append(job)
    procs = [_started(j) for j in jobs]
    results = [p.communicate(timeout=900) + (p.returncode,) for p in procs]
    codes = sorted(r[2] for r in results)
    assert codes[0] == 0 and codes[1] != 0, [r[1][-2000:] for r in results]
    refused = next(r for r in results if r[2] != 0)[1]
    assert "is being written by pid" in refused and "error:" in refused
    assert len([ln for ln in refused.splitlines() if ln.strip() and not ln.startswith("vlpack: starting")]) <= 3, refused
    _check_committed(out)
    rerun = _vlpack(jobs[[r[2] for r in results].index(0)])
    assert rerun.returncode == 0 and "already complete" in rerun.stderr


def test_a_run_started_mid_write_is_refused_and_the_first_finishes(corpus, baseline, tmp_path):
    out = tmp_path / "out"
    job = _job(corpus, out, tmp_path)
    marker = tmp_path / "writing"
    first = _started(job, fault=f"pause_writer:{marker}")
    import time

    shard_file = Path(f"{marker}.shard")  # the paused writer's shard (written once it has paused)
    while not (shard_file.exists() and shard_file.read_text()) and first.poll() is None:
        time.sleep(0.2)
    assert first.poll() is None, first.communicate()[1][-2000:]
    shard = out / shard_file.read_text()
    # only the paused writer's temporary file: the other writers go on and rename theirs
    temps = [p for p in shard.parent.glob(f".{shard.name}.tmp-*")]
    assert temps, "the paused writer has its temporary shard open"
    second = _vlpack(job)
    assert second.returncode != 0 and "is being written by pid" in second.stderr
    assert [p for p in temps if not p.exists()] == []  # the second run deleted none of the first's files
    Path(f"{marker}.release").touch()
    _, err = first.communicate(timeout=900)
    assert first.returncode == 0, err[-3000:]
    _check_committed(out)
    assert _outputs(out) == baseline
