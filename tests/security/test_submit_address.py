"""Submitting to a Ray Jobs endpoint (issue 10, security): where we refuse to send a job, how we read
Ray's token configuration, and what a submission carries (no secrets)."""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from jobs.cli import app
from jobs.submit import (
    SubmitError,
    auth_headers,
    check_address,
    is_loopback,
    job_request,
    ray_auth_token,
    stage_working_dir,
    submission_id,
    token_auth_configured,
)
from schemas.config import load_job_config

REMOTE = ["http://10.0.0.5:8265", "10.0.0.5:8265", "http://192.0.2.7:8265", "https://203.0.113.9",
          "http://[2001:db8::1]:8265", "http://0.0.0.0:8265", "http://ray-head.invalid:8265"]
LOOPBACK = ["http://127.0.0.1:8265", "127.0.0.1:8265", "http://127.31.2.9:8265", "http://[::1]:8265",
            "http://localhost:8265", "localhost:8265", "http://LOCALHOST:8265"]


@pytest.fixture
def no_auth(tmp_path) -> dict:
    """An environment with no Ray token anywhere (an empty HOME)."""
    return {"HOME": str(tmp_path)}


@pytest.mark.parametrize("address", REMOTE)
def test_non_loopback_is_refused_and_the_message_says_why(address, no_auth):
    with pytest.raises(SubmitError) as err:
        check_address(address, env=no_auth)
    msg = str(err.value)
    assert address in msg and "not a loopback address" in msg
    assert "Ray token authentication is not configured" in msg
    assert "run arbitrary code" in msg
    assert "ssh -L 8265:localhost:8265" in msg and "RAY_AUTH_MODE=token" in msg and "--allow-remote" in msg


@pytest.mark.parametrize("address", LOOPBACK)
def test_loopback_is_allowed(address, no_auth):
    assert is_loopback(address)
    check_address(address, env=no_auth)


@given(st.integers(0, 2**24 - 1))
@settings(max_examples=200)
def test_every_address_in_127_0_0_0_8_is_loopback(n):
    ip = ipaddress.IPv4Address((127 << 24) + n)
    assert is_loopback(f"http://{ip}:8265")


@given(st.integers(0, 2**32 - 1).filter(lambda n: (n >> 24) != 127))
@settings(max_examples=200)
def test_every_ipv4_address_outside_127_is_refused(n):
    ip = ipaddress.IPv4Address(n)
    assert not is_loopback(f"http://{ip}:8265")
    with pytest.raises(SubmitError):
        check_address(f"http://{ip}:8265", env={"HOME": "/nonexistent"})


def test_allow_remote_lets_a_remote_address_through(no_auth):
    check_address(REMOTE[0], allow_remote=True, env=no_auth)


def test_token_auth_configured_allows_a_remote_address(tmp_path):
    check_address(REMOTE[0], env={"HOME": str(tmp_path), "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": "s3cret"})
    token_file = tmp_path / "tok"
    token_file.write_text("s3cret\n")
    check_address(REMOTE[0], env={"HOME": str(tmp_path), "RAY_AUTH_MODE": "token",
                                  "RAY_AUTH_TOKEN_PATH": str(token_file)})
    (tmp_path / ".ray").mkdir()
    (tmp_path / ".ray" / "auth_token").write_text("s3cret")
    check_address(REMOTE[0], env={"HOME": str(tmp_path), "RAY_AUTH_MODE": "TOKEN"})


def test_half_configured_token_auth_is_refused(tmp_path):
    # a token without the mode: Ray's client would not send it
    with pytest.raises(SubmitError, match="token authentication is not configured"):
        check_address(REMOTE[0], env={"HOME": str(tmp_path), "RAY_AUTH_TOKEN": "s3cret"})
    # the mode without a token
    with pytest.raises(SubmitError, match="RAY_AUTH_MODE=token is set but Ray finds no token"):
        check_address(REMOTE[0], env={"HOME": str(tmp_path), "RAY_AUTH_MODE": "token"})
    # a token path that does not exist is not a fallback to ~/.ray/auth_token (as in Ray)
    (tmp_path / ".ray").mkdir()
    (tmp_path / ".ray" / "auth_token").write_text("s3cret")
    with pytest.raises(SubmitError):
        check_address(REMOTE[0], env={"HOME": str(tmp_path), "RAY_AUTH_MODE": "token",
                                      "RAY_AUTH_TOKEN_PATH": str(tmp_path / "missing")})


RAY_LOADER = r"""
import json, os, sys
from ray._raylet import AuthenticationMode, AuthenticationTokenLoader, Config, get_authentication_mode
out = []
for case in json.loads(sys.argv[1]):
    for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"):
        os.environ.pop(k, None)
    os.environ.update(case)
    Config.initialize("")
    loader = AuthenticationTokenLoader.instance()
    loader.reset_cache()
    try:
        token = loader.get_raw_token(ignore_auth_mode=True) if loader.has_token(ignore_auth_mode=True) else None
    except Exception:
        token = None
    out.append([get_authentication_mode() == AuthenticationMode.TOKEN, token or None])
print(json.dumps(out))
"""


def test_token_configuration_is_read_as_ray_reads_it(tmp_path):
    """Our reading of RAY_AUTH_MODE / RAY_AUTH_TOKEN / RAY_AUTH_TOKEN_PATH / ~/.ray/auth_token agrees
    with Ray's own token loader, case by case."""
    home, empty_home, blank_home = tmp_path / "h", tmp_path / "e", tmp_path / "b"
    for h, text in ((home, "home-token\n"), (blank_home, "  \n")):
        (h / ".ray").mkdir(parents=True)
        (h / ".ray" / "auth_token").write_text(text)
    empty_home.mkdir()
    path_tok = tmp_path / "path-token"
    path_tok.write_text("  path-token  \n")
    (tmp_path / "empty").write_text("")
    cases = [
        {"HOME": str(empty_home)},
        {"HOME": str(home)},
        {"HOME": str(home), "RAY_AUTH_MODE": "token"},
        {"HOME": str(home), "RAY_AUTH_MODE": "Token"},
        {"HOME": str(home), "RAY_AUTH_MODE": " token "},
        {"HOME": str(home), "RAY_AUTH_MODE": "disabled", "RAY_AUTH_TOKEN": "x"},
        {"HOME": str(empty_home), "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": "env-token"},
        {"HOME": str(home), "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": " spaced token "},
        {"HOME": str(home), "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": ""},
        {"HOME": str(home), "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": "   "},
        {"HOME": str(home), "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(path_tok)},
        {"HOME": str(home), "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(tmp_path / "missing")},
        {"HOME": str(home), "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(tmp_path / "empty")},
        {"HOME": str(home), "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": ""},
        {"HOME": str(blank_home), "RAY_AUTH_MODE": "token"},
        {"HOME": str(home), "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": "env-wins", "RAY_AUTH_TOKEN_PATH": str(path_tok)},
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    r = subprocess.run([sys.executable, "-c", RAY_LOADER, json.dumps(cases)], env=env, capture_output=True,
                       text=True, check=True)
    ray_says = json.loads(r.stdout.strip().splitlines()[-1])
    ours = [[c.get("RAY_AUTH_MODE", "").lower() == "token", ray_auth_token(c)] for c in cases]
    assert ours == ray_says
    for case, (mode, token) in zip(cases, ray_says):
        assert token_auth_configured(case) == (mode and token is not None), case


def test_a_loopback_address_uses_a_token_found_without_the_mode(tmp_path):
    (tmp_path / ".ray").mkdir()
    (tmp_path / ".ray" / "auth_token").write_text("home-token\n")
    env = {"HOME": str(tmp_path)}
    assert auth_headers("http://127.0.0.1:8265", env) == {"Authorization": "Bearer home-token"}
    # never sent unasked to a remote address; in token mode Ray's client adds the header itself
    assert auth_headers(REMOTE[0], env) == {}
    assert auth_headers("http://127.0.0.1:8265", {**env, "RAY_AUTH_MODE": "token"}) == {}


def test_the_cli_refuses_a_remote_address_before_connecting(demo_corpus, tmp_path):
    env = {"HOME": str(tmp_path), "RAY_AUTH_MODE": None, "RAY_AUTH_TOKEN": None, "RAY_AUTH_TOKEN_PATH": None}
    r = CliRunner().invoke(app, ["submit", str(demo_corpus), "--address", "http://10.0.0.5:8265"], env=env)
    assert r.exit_code == 2
    text = " ".join(r.output.split())
    assert "refusing to submit to http://10.0.0.5:8265" in text and "not a loopback address" in text
    for command in (["status", "x"], ["logs", "x"], ["stop", "x"], ["list"]):
        r = CliRunner().invoke(app, [*command, "--address", "http://10.0.0.5:8265"], env=env)
        assert r.exit_code == 2 and "refusing to submit" in r.output, command


SECRETS = {"AWS_SECRET_ACCESS_KEY": "sentinel-aws-4417", "RAY_AUTH_TOKEN": "sentinel-ray-9921",
           "HF_TOKEN": "sentinel-hf-3302", "DB_PASSWORD": "sentinel-db-7755"}


def test_a_submission_carries_no_secrets(demo_corpus, monkeypatch):
    """What submit() sends: a constant entrypoint, a runtime_env that is only the staged working
    directory (no env_vars), metadata without any of the caller's environment; the staged directory
    holds only the project's sources and the resolved job.yaml."""
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    cfg = load_job_config(demo_corpus)
    stage = stage_working_dir(cfg)
    try:
        req = job_request(cfg, submission_id(cfg), stage)
        assert req["entrypoint"] == "python -m jobs.cli run job.yaml --address auto --no-progress"
        assert req["runtime_env"] == {"working_dir": str(stage)}
        assert set(req["metadata"]) == {"vlpack_fingerprint", "vlpack_job", "output"}
        blob = json.dumps(req)
        files = [p for p in stage.rglob("*") if p.is_file()]
        assert {p.relative_to(stage).parts[0] for p in files} == {"schemas", "filters", "packer", "jobs",
                                                                  "trainer_bridge", "job.yaml"}
        assert all(p.suffix in {".py", ".txt", ".json", ".jsonl", ".yaml", ".gz"} for p in files)
        assert (stage / "filters" / "data" / "junk_model.tsv.gz").is_file()  # the filter's model travels with it
        assert not any(part.startswith(".") for p in files for part in p.relative_to(stage).parts)
        shipped = blob + "".join(p.read_text(errors="replace") for p in files)
        for v in SECRETS.values():
            assert v not in shipped
        assert "env_vars" not in blob
    finally:
        import shutil

        shutil.rmtree(stage)


def test_the_python_option_is_quoted_into_the_entrypoint(demo_corpus, tmp_path):
    cfg = load_job_config(demo_corpus)
    req = job_request(cfg, "id", tmp_path, python="/opt/my env/bin/python; rm -rf /")
    assert req["entrypoint"].startswith("'/opt/my env/bin/python; rm -rf /' -m jobs.cli run job.yaml")


def test_the_submission_id_follows_the_config_and_the_output(demo_corpus):
    cfg = load_job_config(demo_corpus)
    other_out = cfg.model_copy(update={"output": cfg.output.model_copy(update={"dir": "/elsewhere"})})
    other_seed = cfg.model_copy(update={"seed": cfg.seed + 1})
    assert submission_id(cfg) == submission_id(load_job_config(demo_corpus))
    from jobs.pipeline import JobInputs

    assert submission_id(cfg).startswith(f"vlpack-{JobInputs.of(cfg).job_fingerprint}-")
    assert len({submission_id(cfg), submission_id(other_out), submission_id(other_seed)}) == 3
    assert Path(cfg.output.dir).is_absolute()


def test_the_submission_id_follows_the_inputs(tmp_path):
    """Appending to a source file makes a new submission, never "already succeeded"."""
    data = tmp_path / "d.jsonl"
    data.write_text('{"id": "a", "task": "text", "text": "one line of text"}\n')
    job = tmp_path / "job.yaml"
    job.write_text(f"sources: [{{name: s, format: jsonl, path: {data}, task: text}}]\noutput: {{dir: {tmp_path / 'o'}}}\n")
    before = submission_id(load_job_config(job))
    with data.open("a") as fh:
        fh.write('{"id": "b", "task": "text", "text": "another line"}\n')
    assert submission_id(load_job_config(job)) != before


# ---- the address is judged exactly as the HTTP client parses it --------------------------------

BYPASSES = ["http://10.255.255.1\\@127.0.0.1:8265", "http://10.255.255.1@127.0.0.1:8265",
            "http://127.0.0.1:8265@10.255.255.1", "http://user:pw@127.0.0.1:8265", "http://127.0.0.1:8265 ",
            "http://127.0.0.1:8265\t", " http://127.0.0.1:8265", "http://127.0.0.1:8265/x@10.0.0.1",
            "http://127.0.0.1:8265#@10.0.0.1", "http://127.0.0.1:8265?@10.0.0.1", "http://127.0.0.1\n.evil:8265",
            "ftp://127.0.0.1:8265", "", "http://"]


@pytest.mark.parametrize("address", BYPASSES)
def test_addresses_two_parsers_could_read_differently_are_refused(address, no_auth):
    from jobs.submit import parse_address

    with pytest.raises(SubmitError) as err:
        parse_address(address)
    assert "--address" in str(err.value)
    with pytest.raises(SubmitError):
        check_address(address, allow_remote=True, env=no_auth)


def test_a_missing_scheme_is_added_explicitly_and_said():
    from jobs.submit import parse_address

    a = parse_address("127.0.0.1:8265")
    assert (a.url, a.host, a.scheme_added) == ("http://127.0.0.1:8265", "127.0.0.1", True)
    assert parse_address("https://[::1]:8265/").url == "https://[::1]:8265"
    result = CliRunner().invoke(app, ["status", "nojob", "--address", "127.0.0.1:1"])
    assert "using http://127.0.0.1:1" in result.output and result.exit_code != 0


URL_CHARS = st.sampled_from(list("abc019:/@\\.[]%?#-_ \t") + ["127.0.0.1", "10.0.0.1", "localhost", "::1", "http://",
                                                               "https://", "8265", "%2e", "%40", "@", "\u3002"])


@given(st.lists(URL_CHARS, max_size=10).map("".join))
@settings(max_examples=400, deadline=None)
def test_the_guard_judges_the_host_the_client_connects_to(text):
    """For any URL-like string the guard accepts, the host it judged is the host requests (and so
    Ray's Jobs client, which joins the address with an API path) connects to."""
    import requests
    from urllib3.util import parse_url

    from jobs.submit import parse_address

    try:
        a = parse_address(text)
    except SubmitError:
        return
    prepared = requests.Request("GET", f"{a.url}/api/jobs/").prepare()
    assert parse_url(prepared.url).host.strip("[]").lower() == a.host
    assert parse_url(a.url).host.strip("[]").lower() == a.host
