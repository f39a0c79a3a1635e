"""Pack jobs on a real Ray cluster (issue 10): `vlpack submit/status/logs/list/stop` through the Ray
Jobs API, and `vlpack run --address` on the cluster's GCS.

A module fixture starts `ray start --head --block` with every port chosen free, a short temporary
directory and Ray token authentication on (a random token in RAY_AUTH_TOKEN, a temporary HOME, so
the user's ~/.ray is never read or written). Teardown ends only the processes of that cluster: every
process whose environment carries this cluster's marker variable.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from schemas.manifest import MANIFEST_NAME, Manifest

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
MARKER = "VLPACK_TEST_CLUSTER"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _free_range(n: int) -> int:
    """The first port of `n` consecutive free ports below the kernel's ephemeral range."""
    for _ in range(200):
        base = 20000 + secrets.randbelow(9000)
        socks = []
        try:
            for p in range(base, base + n):
                s = socket.socket()
                socks.append(s)
                s.bind(("", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port range for the Ray workers")


def _cluster_pids(marker: str) -> list[int]:
    """Processes whose environment carries this cluster's marker (Linux /proc)."""
    pids = []
    needle = f"{MARKER}={marker}".encode()
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                pids.append(int(entry.name))
        except OSError:
            continue
    return [p for p in pids if p != os.getpid()]


def _signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _stop_cluster(proc: subprocess.Popen, marker: str) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # `ray start --block` shuts its node down on SIGTERM
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    deadline = time.monotonic() + 10
    _signal_all(_cluster_pids(marker), signal.SIGTERM)
    while _cluster_pids(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    _signal_all(_cluster_pids(marker), signal.SIGKILL)


class Cluster:
    def __init__(self, tmp: Path, env: dict, ports: dict, proc: subprocess.Popen):
        self.tmp, self.env, self.ports, self.proc = tmp, env, ports, proc
        self.url = f"http://127.0.0.1:{ports['dashboard-port']}"
        self.gcs = f"127.0.0.1:{ports['port']}"

    def vlpack(self, *args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
        r = subprocess.run([PYTHON, "-m", "jobs.cli", *args], cwd=ROOT, env=env or self.env,
                           capture_output=True, text=True)
        if check and r.returncode != 0:
            raise AssertionError(f"vlpack {' '.join(args)} exited {r.returncode}\n{r.stdout}\n{r.stderr}")
        return r

    def jobs_api(self, path: str):
        req = urllib.request.Request(self.url + path, headers={"Authorization": f"Bearer {self.env['RAY_AUTH_TOKEN']}"})
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.loads(r.read())

    def state(self, job_id: str) -> str:
        return self.jobs_api(f"/api/jobs/{job_id}")["status"]


@pytest.fixture(scope="module")
def cluster():
    if not Path("/proc/self/environ").exists():
        pytest.skip("the cluster fixture finds its processes through /proc")
    tmp = Path(tempfile.mkdtemp(prefix="vlp-", dir="/tmp"))  # unix socket paths must stay short
    home = tmp / "home"
    home.mkdir()
    venv_bin = str(Path(PYTHON).parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_") and k != "VIRTUAL_ENV"}
    env.update({
        "HOME": str(home), "PATH": os.pathsep.join([venv_bin, env.get("PATH", "/usr/bin:/bin")]),
        "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32),
        "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "1", "RAY_USAGE_STATS_ENABLED": "0",
        MARKER: str(tmp),
    })
    names = ["port", "dashboard-port", "node-manager-port", "object-manager-port", "dashboard-agent-listen-port",
             "dashboard-agent-grpc-port", "runtime-env-agent-port", "metrics-export-port"]
    from ray._private.utils import get_ray_client_dependency_error

    if get_ray_client_dependency_error() is None:  # else `ray start` runs no client server
        names.append("ray-client-server-port")
    ports = {}
    while len(ports) < len(names):
        p = _free_port()
        if p not in ports.values():
            ports[names[len(ports)]] = p
    workers = _free_range(64)
    cmd = [str(Path(venv_bin) / "ray"), "start", "--head", "--block", "--num-cpus", "2",
           "--dashboard-host", "127.0.0.1", "--temp-dir", str(tmp), "--disable-usage-stats",
           "--min-worker-port", str(workers), "--max-worker-port", str(workers + 63)]
    for k, v in ports.items():
        cmd += [f"--{k}", str(v)]
    log = open(tmp / "ray-start.log", "w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=tmp)
    c = Cluster(tmp, env, ports, proc)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                c.jobs_api("/api/jobs/")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the Ray cluster did not start:\n" + (tmp / "ray-start.log").read_text()) from None
                time.sleep(0.5)
        yield c
    finally:
        _stop_cluster(proc, str(tmp))
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _job_yaml(corpus: Path, out: Path) -> Path:
    import yaml

    data = yaml.safe_load(corpus.read_text())
    data["output"] = {"dir": str(out), "overwrite": False}
    job = corpus.parent / f"job-{out.name}.yaml"
    job.write_text(yaml.safe_dump(data, sort_keys=False))
    return job


def _verify_output(out: Path) -> Manifest:
    from packer.shards import file_sha256

    manifest = Manifest.model_validate_json((out / MANIFEST_NAME).read_text())
    assert manifest.shards
    for s in manifest.shards:
        path = out / s.path
        assert path.stat().st_size == s.bytes and file_sha256(path) == s.sha256, s.path
    for rel, sha in manifest.indexes.items():
        assert file_sha256(out / rel) == sha, rel
    return manifest


@pytest.fixture(scope="module")
def small_job(tmp_path_factory):
    from jobs.demo_data import make_demo_dataset

    root = tmp_path_factory.mktemp("cluster_demo")
    return make_demo_dataset(root, samples=120, seed=3)


@pytest.fixture(scope="module")
def submitted(cluster, small_job):
    """`vlpack submit --wait` of the small demo: (job yaml, output dir, submission id, its output)."""
    out = small_job.parent / "out-submit"
    job = _job_yaml(small_job, out)
    caller = {**cluster.env, "AWS_SECRET_ACCESS_KEY": "sentinel-aws-4417", "HF_TOKEN": "sentinel-hf-3302"}
    r = cluster.vlpack("submit", str(job), "--address", cluster.url, "--wait", env=caller)
    sid = next(line.split(": ", 1)[1] for line in r.stdout.splitlines() if line.startswith("submission id: "))
    return job, out, sid, r


def test_submit_wait_runs_the_job_on_the_cluster(cluster, submitted):
    job, out, sid, r = submitted
    assert f"submitted job {sid}" in r.stdout
    assert f"job {sid}: SUCCEEDED" in r.stdout
    assert "vlpack output:" in r.stdout  # the job's own log, followed to the end
    assert cluster.state(sid) == "SUCCEEDED"
    manifest = _verify_output(out)
    assert manifest.n_input_rows == 120
    info = cluster.jobs_api(f"/api/jobs/{sid}")
    assert info["entrypoint"] == "python -m jobs.cli run job.yaml --address auto --no-progress"
    assert set(info["runtime_env"]) == {"working_dir"} and info["runtime_env"]["working_dir"].startswith("gcs://")
    recorded = json.dumps(info)
    for secret in ("sentinel-aws-4417", "sentinel-hf-3302", cluster.env["RAY_AUTH_TOKEN"]):
        assert secret not in recorded  # nothing of the caller's environment travels with the job


def test_status_logs_and_list(cluster, submitted):
    _, out, sid, _ = submitted
    assert cluster.vlpack("status", sid, "--address", cluster.url).stdout.startswith(f"{sid}: SUCCEEDED")
    logs = cluster.vlpack("logs", sid, "--address", cluster.url).stdout
    assert "Running entrypoint" in logs and "vlpack output:" in logs
    followed = cluster.vlpack("logs", sid, "--address", cluster.url, "--follow").stdout
    assert "vlpack output:" in followed
    listed = cluster.vlpack("list", "--address", cluster.url).stdout
    row = next(line for line in listed.splitlines() if sid in line)
    assert "SUCCEEDED" in row
    missing = cluster.vlpack("status", "vlpack-nosuchjob", "--address", cluster.url, check=False)
    assert missing.returncode != 0 and "no job vlpack-nosuchjob" in missing.stderr


def test_resubmitting_a_finished_job_is_a_noop(cluster, submitted):
    job, out, sid, _ = submitted
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    r = cluster.vlpack("submit", str(job), "--address", cluster.url, "--wait")
    assert f"job {sid} with this config already succeeded; not resubmitted" in r.stdout
    assert f"submission id: {sid}" in r.stdout
    ids = [j["submission_id"] for j in cluster.jobs_api("/api/jobs/")]
    assert ids.count(sid) == 1 and not any(i.startswith(f"{sid}-retry") for i in ids)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == mtimes


def test_stop_a_running_job_then_resubmit_makes_a_new_attempt(cluster, tmp_path):
    from jobs.demo_data import make_demo_dataset

    corpus = make_demo_dataset(tmp_path / "big", samples=600, seed=5)
    job = _job_yaml(corpus, tmp_path / "out-stop")
    # the cluster's interpreter named explicitly (--python), as on a cluster started without the venv on PATH
    r = cluster.vlpack("submit", str(job), "--address", cluster.url, "--python", PYTHON)
    sid = r.stdout.split("submission id: ", 1)[1].split()[0]
    assert cluster.jobs_api(f"/api/jobs/{sid}")["entrypoint"].startswith(f"{PYTHON} -m jobs.cli run job.yaml")
    again = cluster.vlpack("submit", str(job), "--address", cluster.url)
    assert "not resubmitted" in again.stdout and f"submission id: {sid}" in again.stdout
    while cluster.state(sid) == "PENDING":
        time.sleep(0.2)
    assert cluster.state(sid) == "RUNNING"
    assert f"{sid}: stop requested" in cluster.vlpack("stop", sid, "--address", cluster.url).stdout
    while cluster.state(sid) == "RUNNING":
        time.sleep(0.2)
    assert cluster.state(sid) == "STOPPED"
    assert not (tmp_path / "out-stop" / MANIFEST_NAME).exists()
    assert "already finished" in cluster.vlpack("stop", sid, "--address", cluster.url).stdout
    retry = cluster.vlpack("submit", str(job), "--address", cluster.url, "--python", PYTHON)
    assert f"submitted job {sid}-retry1" in retry.stdout
    cluster.vlpack("stop", f"{sid}-retry1", "--address", cluster.url)


def test_a_token_in_home_is_used_for_a_loopback_address(cluster, tmp_path):
    """No RAY_AUTH_MODE, the cluster's token only in $HOME/.ray/auth_token: as `ray start` would, the
    client uses it for a loopback address. Without any token the refusal says what to set."""
    env = {k: v for k, v in cluster.env.items() if k not in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN")}
    env["HOME"] = str(tmp_path)
    refused = cluster.vlpack("list", "--address", cluster.url, env=env, check=False)
    assert refused.returncode != 0 and "RAY_AUTH_MODE=token and RAY_AUTH_TOKEN" in refused.stderr
    (tmp_path / ".ray").mkdir()
    (tmp_path / ".ray" / "auth_token").write_text(cluster.env["RAY_AUTH_TOKEN"] + "\n")
    assert "submission id" in cluster.vlpack("list", "--address", cluster.url, env=env).stdout


def test_run_with_the_gcs_address_uses_the_existing_cluster(cluster, small_job, tmp_path):
    out = tmp_path / "out-run"
    r = cluster.vlpack("run", str(small_job), "--address", cluster.gcs, "--out", str(out), "--no-progress")
    assert "vlpack output:" in r.stdout
    _verify_output(out)
    # the job ran as a driver of the cluster: it is in the cluster's job table
    drivers = cluster.jobs_api("/api/jobs/")
    assert any(j.get("type") == "DRIVER" and j.get("status") == "SUCCEEDED" for j in drivers)
