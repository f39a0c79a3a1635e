"""Submitting pack jobs to a Ray cluster through the Ray Jobs API.

- The submission id is derived from the config fingerprint and the output directory
  (`vlpack-<fingerprint>-<output hash>`), so submitting the same job again while it runs, or after it
  succeeded, is a no-op that says so.
- The runtime_env ships a staging copy of the project packages plus the resolved job.yaml as the
  working directory, and nothing else: no environment variables of the caller, no secrets. The
  entrypoint is a fixed command line built from the interpreter name and constant arguments.
- A Ray Jobs endpoint runs any code its callers send. A non-loopback address is refused unless Ray
  token authentication is configured (RAY_AUTH_MODE=token with a token) or the caller passes
  `allow_remote=True` explicitly.

Token configuration is read exactly as Ray reads it (`ray._raylet.AuthenticationTokenLoader`):
the mode comes from RAY_AUTH_MODE (`token`, any case); the token from RAY_AUTH_TOKEN if it is set and
not empty, else from the file named by RAY_AUTH_TOKEN_PATH if that is set, else from
`$HOME/.ray/auth_token`; surrounding whitespace is stripped. Ray's Jobs client sends the token only
when RAY_AUTH_MODE=token; for a loopback address we also send a token found without it, as
`ray start` and `ray.init()` enable token auth for a local cluster whenever a token exists.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import pwd
import re
import shlex
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from schemas.config import JobConfig

PROJECT_PACKAGES = ("schemas", "filters", "packer", "jobs", "trainer_bridge")
# the sources and pyproject's package data (".gz": the junk model, `filters/data/junk_model.tsv.gz`)
SHIPPED_SUFFIXES = {".py", ".txt", ".json", ".jsonl", ".yaml", ".gz"}
ACTIVE_STATES = {"PENDING", "RUNNING"}
DONE_STATES = {"SUCCEEDED"}
AUTH_ENV_VARS = ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH")


class SubmitError(RuntimeError):
    """A submission that cannot go ahead; the message says why and what to do."""


@dataclass
class Submission:
    submission_id: str
    created: bool
    status: str
    message: str


def submission_id(cfg: JobConfig, job_fingerprint: str | None = None) -> str:
    """`vlpack-<job fingerprint>-<output hash>`: the job fingerprint covers the config and the
    inputs (`jobs.inputs`), so changed source files make a new submission, not "already succeeded"."""
    if job_fingerprint is None:
        from jobs.pipeline import JobInputs

        job_fingerprint = JobInputs.of(cfg).job_fingerprint
    out = hashlib.sha256(str(cfg.output.dir).encode()).hexdigest()[:8]
    return f"vlpack-{job_fingerprint}-{out}"


def ray_auth_token(env: Mapping[str, str] | None = None) -> str | None:
    """The token Ray would use in this environment (whatever the mode), or None if it has none."""
    env = os.environ if env is None else env
    token = env.get("RAY_AUTH_TOKEN", "")
    if token:
        return token.strip() or None
    path = env.get("RAY_AUTH_TOKEN_PATH", "")
    if not path:
        home = env.get("HOME") or pwd.getpwuid(os.getuid()).pw_dir
        path = os.path.join(home, ".ray", "auth_token")
    try:
        return Path(path).read_text().strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def token_auth_mode(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return env.get("RAY_AUTH_MODE", "").lower() == "token"


def token_auth_configured(env: Mapping[str, str] | None = None) -> bool:
    """True when Ray's client would authenticate with a token: RAY_AUTH_MODE=token and a token."""
    return token_auth_mode(env) and ray_auth_token(env) is not None


@dataclass(frozen=True)
class JobsAddress:
    """A Ray Jobs API address, parsed exactly as the HTTP client will parse it."""

    url: str  # scheme://host[:port], rebuilt from the parsed parts: nothing else is ever sent
    host: str  # the host the client connects to (no brackets around IPv6)
    scheme_added: bool  # the user gave no scheme and http:// was assumed


def parse_address(address: str) -> JobsAddress:
    """Parse `address` with urllib3's `parse_url` (what requests, and so Ray's Jobs client, use to
    pick the host to connect to) and rebuild it from its parts. Userinfo, backslashes, whitespace,
    control characters, paths, queries and fragments are refused: each is a way to make two URL
    parsers disagree about the host (`http://10.0.0.1\\@127.0.0.1:8265` connects to 10.0.0.1)."""
    from urllib3.exceptions import LocationParseError
    from urllib3.util import parse_url

    bad = next((c for c in address if c.isspace() or c == "\\" or ord(c) < 32 or ord(c) == 127), None)
    if bad is not None or not address:
        raise SubmitError(f"--address {address!r}: contains {bad!r}; give scheme://host:port, e.g. http://127.0.0.1:8265"
                          if bad is not None else "--address is empty; give scheme://host:port, e.g. http://127.0.0.1:8265")
    added = "://" not in address
    text = f"http://{address}" if added else address
    try:
        u = parse_url(text)
    except LocationParseError as err:
        raise SubmitError(f"--address {address!r} is not a URL ({err}); give scheme://host:port") from None
    if (u.scheme or "").lower() not in ("http", "https"):
        raise SubmitError(f"--address {address!r}: the Ray Jobs API speaks http:// or https://, not {u.scheme}://")
    if u.auth is not None or "@" in text.split("://", 1)[1]:
        raise SubmitError(f"--address {address!r}: user information ('user@') is not allowed in the address; use "
                          f"Ray token authentication (RAY_AUTH_TOKEN) for credentials")
    if not u.host:
        raise SubmitError(f"--address {address!r} names no host; give scheme://host:port")
    if not _valid_host(u.host):
        raise SubmitError(f"--address {address!r}: {u.host!r} is not an IP address or an ASCII host name")
    if u.path not in (None, "", "/") or u.query is not None or u.fragment is not None:
        raise SubmitError(f"--address {address!r}: give only scheme://host:port (no path, query or fragment)")
    url = f"{u.scheme.lower()}://{u.host}" + (f":{u.port}" if u.port is not None else "")
    return JobsAddress(url=url, host=u.host.strip("[]").lower(), scheme_added=added)


_HOST_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def _valid_host(host: str) -> bool:
    """An IP literal, or an ASCII DNS name (no IDNA mapping can make it another host)."""
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        ipaddress.ip_address(bare)
        return True
    except ValueError:
        pass
    if host.startswith("[") or len(host) > 253 or not host.isascii():
        return False
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    return all(_HOST_LABEL.match(label) for label in labels)


def is_loopback(address: str) -> bool:
    host = parse_address(address).host
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, None)
        except (socket.gaierror, UnicodeError):
            return False
        return bool(infos) and all(ipaddress.ip_address(a[4][0].split("%")[0]).is_loopback for a in infos)


def check_address(address: str, *, allow_remote: bool = False, env: Mapping[str, str] | None = None) -> None:
    if is_loopback(address) or allow_remote or token_auth_configured(env):
        return
    why = ("RAY_AUTH_MODE=token is set but Ray finds no token (RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH or "
           "~/.ray/auth_token)" if token_auth_mode(env) else "Ray token authentication is not configured")
    raise SubmitError(
        f"refusing to submit to {address}: it is not a loopback address and {why}. "
        "Anyone who can reach a Ray Jobs endpoint can run arbitrary code on the cluster. "
        "Reach a remote cluster through an SSH tunnel (ssh -L 8265:localhost:8265 HEAD, then use "
        "http://127.0.0.1:8265), or enable token auth on the cluster and here (RAY_AUTH_MODE=token with "
        "RAY_AUTH_TOKEN or RAY_AUTH_TOKEN_PATH), or pass --allow-remote if you know the endpoint is private."
    )


def auth_headers(address: str, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The Authorization header to send: Ray adds it itself in token mode; for a loopback address we
    also send a token found without RAY_AUTH_MODE (a local `ray start` enables token auth then)."""
    if token_auth_mode(env) or not is_loopback(address):
        return {}
    token = ray_auth_token(env)
    return {"Authorization": f"Bearer {token}"} if token else {}


def client(address: str, *, allow_remote: bool = False):
    """A Jobs client for `address`, after the loopback/token guard judged the very host it will
    connect to (the URL is rebuilt from the parse the guard used)."""
    parsed = parse_address(address)
    check_address(parsed.url, allow_remote=allow_remote)
    address = parsed.url
    try:
        from ray.exceptions import AuthenticationError
        from ray.job_submission import JobSubmissionClient
    except ImportError as err:
        raise SubmitError(f"the Ray Jobs client is not installed ({err}); install ray[default]") from None
    try:
        return JobSubmissionClient(address, headers=auth_headers(address))
    except (ConnectionError, RuntimeError, AuthenticationError) as err:
        hint = ""
        if "Authentication" in str(err):
            hint = ("\nThe cluster uses Ray token authentication: set RAY_AUTH_MODE=token and RAY_AUTH_TOKEN "
                    "(or RAY_AUTH_TOKEN_PATH) to the cluster's token.")
        raise SubmitError(f"cannot reach the Ray Jobs API at {address}: {err}{hint}") from None


def stage_working_dir(cfg: JobConfig, root: Path | None = None) -> Path:
    """A temporary directory holding the project packages (sources and package data, nothing else) and
    the resolved job.yaml."""
    root = root or Path(__file__).resolve().parent.parent
    stage = Path(tempfile.mkdtemp(prefix="vlpack-submit-"))

    def ignore(folder: str, names: list[str]) -> list[str]:  # sources and package data only, no dotfiles
        return [n for n in names if n.startswith(".") or n == "__pycache__"
                or (not os.path.isdir(os.path.join(folder, n)) and Path(n).suffix not in SHIPPED_SUFFIXES)]

    for pkg in PROJECT_PACKAGES:
        shutil.copytree(root / pkg, stage / pkg, ignore=ignore)
    (stage / "job.yaml").write_text(cfg.to_yaml())
    return stage


def entrypoint(python: str = "python") -> str:
    """The driver command the cluster runs in the unpacked working directory. `python` names the
    cluster's interpreter (one with vlpack's dependencies); nothing else varies."""
    return f"{shlex.quote(python)} -m jobs.cli run job.yaml --address auto --no-progress"


def runtime_env(working_dir: Path) -> dict:
    """The job's runtime_env: only the staged working directory."""
    return {"working_dir": str(working_dir)}


def job_request(cfg: JobConfig, submission: str, working_dir: Path, python: str = "python") -> dict:
    """The keyword arguments `submit` passes to `JobSubmissionClient.submit_job`: a fixed entrypoint,
    the staged working directory as the whole runtime_env, and non-secret metadata."""
    return {
        "entrypoint": entrypoint(python),
        "submission_id": submission,
        "runtime_env": runtime_env(working_dir),
        "metadata": {"vlpack_fingerprint": cfg.fingerprint(), "output": str(cfg.output.dir),
                     "vlpack_job": submission.removeprefix("vlpack-").split("-")[0]},
    }


def _state(info) -> str:
    status = getattr(info, "status", None)
    return str(getattr(status, "value", status))


def submit(cfg: JobConfig, address: str, *, allow_remote: bool = False, python: str = "python") -> Submission:
    c = client(address, allow_remote=allow_remote)
    sid = submission_id(cfg)
    existing = {j.submission_id: j for j in c.list_jobs()
                if j.submission_id == sid or (j.submission_id or "").startswith(f"{sid}-retry")}
    for jid in sorted(existing, key=lambda k: (len(k), k), reverse=True):
        state = _state(existing[jid])
        if state in ACTIVE_STATES:
            return Submission(jid, False, state, f"job {jid} with this config and output is already "
                                                 f"{state.lower()}; not resubmitted")
        if state in DONE_STATES:
            return Submission(jid, False, state, f"job {jid} with this config already succeeded; not resubmitted "
                                                 f"(its output is {cfg.output.dir})")
    new_id = sid if sid not in existing else f"{sid}-retry{len(existing)}"
    stage = stage_working_dir(cfg)
    try:
        c.submit_job(**job_request(cfg, new_id, stage, python))
    except RuntimeError as err:
        raise SubmitError(f"the cluster at {address} refused job {new_id}: {err}") from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return Submission(new_id, True, "PENDING", f"submitted job {new_id}")


def wait(address: str, job_id: str, *, allow_remote: bool = False, follow_logs: bool = True,
         echo: Callable[[str], None] = print, poll_s: float = 0.5) -> str:
    """Follow the job's logs (when asked) and return its final state."""
    import asyncio

    c = client(address, allow_remote=allow_remote)
    if follow_logs:
        async def tail() -> None:
            async for chunk in c.tail_job_logs(job_id):
                echo(chunk.rstrip("\n"))

        try:
            asyncio.run(tail())
        except RuntimeError as err:  # the log stream broke off: keep waiting on the state
            echo(f"(log stream interrupted: {err}; waiting for the job to end)")
    while True:
        state = _state(c.get_job_info(job_id))
        if state not in ACTIVE_STATES:
            return state
        time.sleep(poll_s)
