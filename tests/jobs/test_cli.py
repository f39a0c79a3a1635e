"""CLI conventions: --version, -h, help text for every option, plain metavars, one-line errors that
come at once (a missing output, a Jobs API address without its scheme, a dashboard port given to run)."""

from __future__ import annotations

import click
import pytest
import typer.main
from typer.testing import CliRunner

from jobs.cli import app

ENV = {"COLUMNS": "200", "NO_COLOR": "1"}


def _invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args], env=ENV)


def _commands() -> dict[str, click.Command]:
    return typer.main.get_command(app).commands


def test_version_and_short_help():
    res = _invoke("--version")
    assert res.exit_code == 0 and res.output.startswith("vlpack ")
    assert _invoke("-h").exit_code == 0
    for name in _commands():
        res = _invoke(name, "-h")
        assert res.exit_code == 0 and "Usage:" in res.output, name


def test_every_option_and_argument_has_help_text():
    missing = [f"{name} {p.name}" for name, cmd in _commands().items() for p in cmd.params
               if not (getattr(p, "help", None) or "").strip()]
    assert missing == []


def test_help_shows_no_bool_tags_and_no_braced_arguments():
    for name in _commands():
        out = _invoke(name, "--help").output
        assert "<bool>" not in out and "{" not in out, (name, out)
    assert "run [OPTIONS] JOB" in _invoke("run", "-h").output


def test_report_of_a_missing_output_says_it_does_not_exist(tmp_path):
    res = _invoke("report", tmp_path / "nope")
    assert res.exit_code == 2 and res.output.strip() == f"error: {tmp_path / 'nope'} does not exist"


def test_report_of_a_directory_without_a_manifest_names_it(tmp_path):
    res = _invoke("report", tmp_path)
    assert res.exit_code != 0 and "manifest.json" in res.output and len(res.output.strip().splitlines()) == 1


@pytest.mark.parametrize("address, says", [
    ("127.0.0.1:8265", "port 8265 is the Ray dashboard and Jobs API"),
    ("http://127.0.0.1:8265", "not an http URL"),
    ("nonsense", "expected auto, HOST:PORT"),
])
def test_run_refuses_a_jobs_api_address_in_one_line(tmp_path, address, says):
    res = _invoke("run", tmp_path / "job.yaml", "--address", address)
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1 and says in res.output
    assert "vlpack submit" in res.output or "HOST:PORT" in res.output


def test_run_fails_at_once_where_no_cluster_listens(tmp_path):
    import socket

    with socket.socket() as s:  # a free port, closed again: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = _invoke("run", tmp_path / "job.yaml", "--address", f"127.0.0.1:{port}")
    assert res.exit_code == 2 and "no Ray cluster answers there" in res.output


@pytest.mark.parametrize("command", ["run", "check", "plan", "submit"])
def test_a_bad_config_ends_as_one_line_naming_the_file_and_field(tmp_path, command):
    job = tmp_path / "job.yaml"
    job.write_text("sources: [{name: a, path: /tmp, format: jsnol}]\npack: {context_length: -5}\n")
    res = _invoke(command, job)
    out = res.output.strip()
    assert res.exit_code == 2 and len(out.splitlines()) == 1, out
    assert str(job) in out and "sources[a].format = 'jsnol'" in out and "pack.context_length = -5" in out
