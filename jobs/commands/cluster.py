"""`vlpack submit`, `status`, `logs`, `stop` and `list`: pack jobs on a Ray cluster."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from jobs.commands.run import _fail, load_or_fail

DEFAULT_ADDRESS = "http://127.0.0.1:8265"
ADDRESS_HELP = "Ray Jobs API address (the dashboard), e.g. http://127.0.0.1:8265."
REMOTE_HELP = "Allow a non-loopback address without Ray token authentication (read the README first)."
JOB_ID_HELP = "The submission id that `vlpack submit` printed (vlpack-<fingerprint>-<output hash>)."


def _address(address: str) -> str:
    """The address as the client will use it; says so when http:// was assumed."""
    from jobs import submit as sub

    try:
        parsed = sub.parse_address(address)
    except sub.SubmitError as err:
        _fail(str(err))
    if parsed.scheme_added:
        Console(stderr=True).print(f"note: no scheme in --address {address}; using {parsed.url}", highlight=False)
    return parsed.url


def register(app: typer.Typer) -> None:
    @app.command()
    def submit(
        job: Path = typer.Argument(..., help="The job config (YAML) to submit."),
        address: str = typer.Option(DEFAULT_ADDRESS, help=ADDRESS_HELP),
        wait: bool = typer.Option(False, "--wait", help="Follow the logs until the job ends; exit 1 unless it succeeds."),
        allow_remote: bool = typer.Option(False, "--allow-remote", help=REMOTE_HELP),
        python: str = typer.Option("python", help="The cluster's Python interpreter (one with vlpack's dependencies)."),
    ) -> None:
        """Submit a pack job to a Ray cluster through the Ray Jobs API."""
        from jobs import submit as sub
        address = _address(address)
        cfg = load_or_fail(job)
        try:
            s = sub.submit(cfg, address, allow_remote=allow_remote, python=python)
        except sub.SubmitError as err:
            _fail(str(err))
        typer.echo(s.message)
        typer.echo(f"submission id: {s.submission_id}")
        if wait:
            try:
                state = sub.wait(address, s.submission_id, allow_remote=allow_remote, echo=typer.echo)
            except (sub.SubmitError, RuntimeError, ConnectionError) as err:
                _fail(f"lost track of job {s.submission_id} (it may still be running; see `vlpack status`): {err}", 1)
            typer.echo(f"job {s.submission_id}: {state}")
            if state != "SUCCEEDED":
                raise typer.Exit(1)

    @app.command()
    def status(
        job_id: str = typer.Argument(..., help=JOB_ID_HELP),
        address: str = typer.Option(DEFAULT_ADDRESS, help=ADDRESS_HELP),
        allow_remote: bool = typer.Option(False, "--allow-remote", help=REMOTE_HELP),
    ) -> None:
        """Show the state of a submitted job."""
        from jobs import submit as sub

        address = _address(address)

        try:
            info = sub.client(address, allow_remote=allow_remote).get_job_info(job_id)
        except sub.SubmitError as err:
            _fail(str(err))
        except RuntimeError as err:
            _fail(f"no job {job_id} at {address}: {err}")
        typer.echo(f"{job_id}: {sub._state(info)}" + (f" ({info.message})" if info.message else ""))

    @app.command()
    def logs(
        job_id: str = typer.Argument(..., help=JOB_ID_HELP),
        address: str = typer.Option(DEFAULT_ADDRESS, help=ADDRESS_HELP),
        follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new log lines until the job ends."),
        allow_remote: bool = typer.Option(False, "--allow-remote", help=REMOTE_HELP),
    ) -> None:
        """Print (or follow) a submitted job's logs."""
        from jobs import submit as sub

        address = _address(address)

        try:
            if follow:
                sub.wait(address, job_id, allow_remote=allow_remote, echo=typer.echo)
            else:
                typer.echo(sub.client(address, allow_remote=allow_remote).get_job_logs(job_id))
        except sub.SubmitError as err:
            _fail(str(err))
        except RuntimeError as err:
            _fail(f"no job {job_id} at {address}: {err}")

    @app.command()
    def stop(
        job_id: str = typer.Argument(..., help=JOB_ID_HELP),
        address: str = typer.Option(DEFAULT_ADDRESS, help=ADDRESS_HELP),
        allow_remote: bool = typer.Option(False, "--allow-remote", help=REMOTE_HELP),
    ) -> None:
        """Stop a submitted job."""
        from jobs import submit as sub

        address = _address(address)

        try:
            stopped = sub.client(address, allow_remote=allow_remote).stop_job(job_id)
        except sub.SubmitError as err:
            _fail(str(err))
        except RuntimeError as err:
            _fail(f"no job {job_id} at {address}: {err}")
        typer.echo(f"{job_id}: {'stop requested' if stopped else 'already finished'}")

    @app.command(name="list")
    def list_jobs(
        address: str = typer.Option(DEFAULT_ADDRESS, help=ADDRESS_HELP),
        allow_remote: bool = typer.Option(False, "--allow-remote", help=REMOTE_HELP),
    ) -> None:
        """List the vlpack jobs on a cluster."""
        from jobs import submit as sub

        address = _address(address)

        try:
            jobs = sub.client(address, allow_remote=allow_remote).list_jobs()
        except sub.SubmitError as err:
            _fail(str(err))
        t = Table()
        t.add_column("submission id", no_wrap=True)
        t.add_column("state", no_wrap=True)
        t.add_column("output", overflow="fold")
        for j in sorted(jobs, key=lambda j: j.submission_id or ""):
            if j.submission_id and j.submission_id.startswith("vlpack-"):
                t.add_row(j.submission_id, sub._state(j), (j.metadata or {}).get("output", ""))
        Console().print(t)
