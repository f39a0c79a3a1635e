"""Submitting pack jobs to a Ray cluster through the Ray Jobs API.

- The submission id is derived from the config fingerprint (`vlpack-<fingerprint>`), so submitting
  the same job again while it runs, or after it succeeded, is a no-op that says so.
- The runtime_env ships a staging copy of the project packages plus the resolved job.yaml as the
  working directory. Secrets are never put in the entrypoint or the runtime_env.
- A Ray Jobs endpoint runs any code its callers send. A non-loopback address is refused unless Ray
  token authentication is configured (RAY_AUTH_MODE=token with a token) or the caller passes
  `allow_remote=True` explicitly.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from schemas.config import JobConfig

PROJECT_PACKAGES = ("schemas", "filters", "packer", "jobs", "trainer_bridge")
ACTIVE_STATES = {"PENDING", "RUNNING"}
DONE_STATES = {"SUCCEEDED"}


class SubmitError(RuntimeError):
    """A submission that cannot go ahead; the message says why and what to do."""


@dataclass
class Submission:
    submission_id: str
    created: bool
    status: str
    message: str


def submission_id(cfg: JobConfig) -> str:
    return f"vlpack-{cfg.fingerprint()}"


def token_auth_configured(env: dict | None = None) -> bool:
    env = os.environ if env is None else env
    if env.get("RAY_AUTH_MODE", "").lower() != "token":
        return False
    if env.get("RAY_AUTH_TOKEN"):
        return True
    path = env.get("RAY_AUTH_TOKEN_PATH") or str(Path.home() / ".ray" / "auth_token")
    return Path(path).is_file() and Path(path).stat().st_size > 0


def is_loopback(address: str) -> bool:
    host = urlsplit(address if "://" in address else f"http://{address}").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return all(ipaddress.ip_address(a[4][0]).is_loopback for a in socket.getaddrinfo(host, None))
        except (socket.gaierror, ValueError):
            return False


def check_address(address: str, *, allow_remote: bool = False, env: dict | None = None) -> None:
    if is_loopback(address) or allow_remote or token_auth_configured(env):
        return
    raise SubmitError(
        f"refusing to submit to {address}: it is not a loopback address and Ray token authentication is "
        "not configured. Anyone who can reach a Ray Jobs endpoint can run arbitrary code on the cluster. "
        "Reach a remote cluster through an SSH tunnel (ssh -L 8265:localhost:8265 HEAD, then use "
        "http://127.0.0.1:8265), or enable token auth on the cluster and here (RAY_AUTH_MODE=token with "
        "RAY_AUTH_TOKEN or RAY_AUTH_TOKEN_PATH), or pass --allow-remote if you know the endpoint is private."
    )


def client(address: str, *, allow_remote: bool = False):
    from ray.job_submission import JobSubmissionClient

    check_address(address, allow_remote=allow_remote)
    try:
        return JobSubmissionClient(address)
    except (ConnectionError, RuntimeError) as err:
        raise SubmitError(f"cannot reach the Ray Jobs API at {address}: {err}") from None


def stage_working_dir(cfg: JobConfig, root: Path | None = None) -> Path:
    """A temporary directory holding the project packages and the resolved job.yaml."""
    root = root or Path(__file__).resolve().parent.parent
    stage = Path(tempfile.mkdtemp(prefix="vlpack-submit-"))
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for pkg in PROJECT_PACKAGES:
        shutil.copytree(root / pkg, stage / pkg, ignore=ignore)
    (stage / "job.yaml").write_text(cfg.to_yaml())
    return stage


def _state(info) -> str:
    status = getattr(info, "status", None)
    return str(getattr(status, "value", status))


def submit(cfg: JobConfig, address: str, *, allow_remote: bool = False) -> Submission:
    c = client(address, allow_remote=allow_remote)
    sid = submission_id(cfg)
    existing = {j.submission_id: j for j in c.list_jobs() if j.submission_id and j.submission_id.startswith(sid)}
    for jid in sorted(existing, key=lambda k: (len(k), k), reverse=True):
        state = _state(existing[jid])
        if state in ACTIVE_STATES:
            return Submission(jid, False, state, f"job {jid} with this config is already {state.lower()}; not resubmitted")
        if state in DONE_STATES:
            return Submission(jid, False, state, f"job {jid} with this config already succeeded; not resubmitted "
                                                 f"(its output is {cfg.output.dir})")
    new_id = sid if sid not in existing else f"{sid}-retry{len(existing)}"
    stage = stage_working_dir(cfg)
    try:
        c.submit_job(
            entrypoint="python -m jobs.cli run job.yaml --no-progress",
            submission_id=new_id,
            runtime_env={"working_dir": str(stage)},
            metadata={"vlpack_fingerprint": cfg.fingerprint(), "output": cfg.output.dir},
        )
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return Submission(new_id, True, "PENDING", f"submitted job {new_id}")


def wait(address: str, job_id: str, *, allow_remote: bool = False, follow_logs: bool = True, echo=print) -> str:
    import asyncio

    c = client(address, allow_remote=allow_remote)
    if follow_logs:
        async def tail() -> None:
            async for chunk in c.tail_job_logs(job_id):
                echo(chunk.rstrip("\n"))

        asyncio.run(tail())
    import time

    while True:
        state = _state(c.get_job_info(job_id))
        if state not in ACTIVE_STATES:
            return state
        time.sleep(0.5)
