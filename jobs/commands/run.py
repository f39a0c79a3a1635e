"""`vlpack run`, `vlpack demo` and `vlpack report`."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

err_console = Console(stderr=True)


def _fail(message: str, code: int = 2) -> None:
    from rich.markup import escape

    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def load_or_fail(job: Path):
    """The job config at ``job``; a bad one ends as one `error:` line naming the file and each bad
    field (`schemas.config.ConfigError` gives one line per field: they are joined with "; ")."""
    from schemas.config import ConfigError, load_job_config

    try:
        return load_job_config(job)
    except ConfigError as err:
        message = "; ".join(x.strip() for x in str(err).splitlines() if x.strip())
        _fail(message if str(job) in message else f"invalid job config {job}: {message}")


def run_config(cfg, *, address: str | None, progress: bool, force: bool = False, debug: bool = False) -> None:
    """Run a job; any error ends as one `error:` line (the traceback goes to a log file)."""
    from jobs.pipeline import run_job

    try:
        result = run_job(cfg, address=address, progress=progress, force=force)
    except typer.Exit:
        raise
    except (Exception, KeyboardInterrupt) as err:  # noqa: BLE001 - every failure ends as one line
        fail_run(err, cfg.output.dir, debug=debug)
    if result.already_complete:
        Console(stderr=True).print(f"{result.out_dir} is already complete for this config and these inputs; "
                                   f"nothing to do (--force recomputes it)", highlight=False, soft_wrap=True)
    print_summary(result.out_dir, result.stats, result.html)


def fail_run(err: BaseException, out_dir, *, debug: bool) -> None:
    """Print one `error:` line for `err` and where its full traceback is; exit non-zero."""
    from rich.markup import escape

    from jobs.errors import explain, write_log

    message, internal = explain(err)
    log_path = write_log(out_dir, err)
    if debug:
        import traceback

        traceback.print_exception(type(err), err, err.__traceback__)
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    if internal or debug:  # a user error's one line says all; a bug's traceback is worth a report
        err_console.print(f"full traceback: {log_path}" + (" (please report this internal error with it)"
                                                          if internal else ""),
                          highlight=False, soft_wrap=True, style="dim")
    raise typer.Exit(130 if isinstance(err, KeyboardInterrupt) else 1)


def check_run_address(address: str | None) -> None:
    """Fail fast, in one line, on an address `ray.init` would wait ~45 s for and then fail with a
    long traceback: the Jobs API's http URL or port 8265, or a HOST:PORT where nothing listens."""
    import socket

    if address is None or address == "auto" or address.startswith("ray://"):
        return
    submit = "to send the job through the Ray Jobs API use `vlpack submit JOB --address http://HOST:8265`"
    if "://" in address:
        _fail(f"--address {address}: `vlpack run` joins a Ray cluster as a driver and takes its GCS address "
              f"(auto on a cluster node, HOST:6379, or ray://HOST:10001), not an http URL; {submit}")
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        _fail(f"--address {address}: expected auto, HOST:PORT (the cluster's GCS, usually HOST:6379) or ray://HOST:PORT")
    if port == "8265":
        _fail(f"--address {address}: port 8265 is the Ray dashboard and Jobs API, not the cluster's GCS "
              f"(usually HOST:6379); {submit}")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=3).close()
    except OSError as err:
        _fail(f"--address {address}: no Ray cluster answers there ({err.strerror or err}); start one with "
              f"`ray start --head` or leave --address out to use the embedded local runtime")


_REASONS_SHOWN = 15


def print_summary(out_dir: Path, stats: dict, html_path: Path | None = None) -> None:
    from packer.stats import report_warnings

    console = Console()
    p = stats.get("packing", {})
    b = stats.get("balance", {})
    f = stats.get("funnel", {})
    t = Table(title=f"vlpack output: {out_dir}", show_header=False, title_justify="left")
    t.add_column(style="bold")
    t.add_column()
    inp = stats["input"]
    t.add_row("input rows", f"{inp['rows']:,} from {inp['files']} files")
    copies = inp.get("ledger_rows", inp["rows"]) - inp["rows"]
    t.add_row("status", ", ".join(f"{k} {v:,}" for k, v in f.get("status", {}).items())
              + (f" ({inp['ledger_rows']:,} ledger rows: {inp['rows']:,} inputs and {copies:,} upsampled copies)"
                 if copies > 0 else ""))
    t.add_row("packs", f"{p.get('n_packs', 0):,} ({p.get('n_filler_packs', 0)} filler) in {b.get('n_steps', 0)} steps"
                       + (f" × {b['n_ranks']} ranks" if b.get("n_ranks") else ""))
    t.add_row("fill", f"{p.get('fill', 0):.1%} real/padded tokens ({p.get('padding_waste', 0):.1%} padding); "
                      f"bins / lower bound {p.get('bins_over_lower_bound', 0):.4f}")
    if b.get("n_steps"):
        t.add_row("balance", f"max/mean over ranks, worst step: attention cost "
                             f"{b['attn_cost']['max_over_mean_worst']:.3f}, ViT cost "
                             f"{b['vit_cost']['max_over_mean_worst']:.3f}, real tokens "
                             f"{b.get('real_tokens', {}).get('max_over_mean_worst', 1.0):.3f}; "
                             f"equal packs per rank: {b['packs_per_rank_per_step_equal']}")
    if b.get("step_time"):
        st, cost = b["step_time"], b.get("cost", {})
        t.add_row("step time", f"modelled step time / ideal ({st['vit_phase']} ViT phase) mean {st['mean']:.4f}, worst "
                               f"{st['worst']:.4f}; total cost max/mean worst {cost.get('max_over_mean_worst', 1.0):.4f}")
    detail = stats.get("per_step_detail")
    if detail:
        t.add_row("per step", f"{detail['n_steps']:,} steps > {detail['max_steps']:,} "
                              f"(output.per_step_detail_max_steps): stats.json and the report list the "
                              f"{detail['worst_steps_listed']} worst steps and histograms, not every step")
    sh = stats.get("shapes", {})
    if sh:
        t.add_row("shapes", f"{sh['n_shapes']} (seq_len, vit_bucket) shapes (max {sh['max_shapes']}); ViT buckets "
                            f"{sh['vit_buckets_used']}, padding {sh['vit_padding_over_real']:.1%} of real patches")
    tok = stats.get("tokens", {}).get("packed", {}).get("total_tokens", {})
    if tok.get("count"):
        t.add_row("tokens/sample", f"p50 {tok['p50']:,.0f}, p95 {tok['p95']:,.0f}, max {tok['max']:,.0f}")
    mix = stats.get("mix", {}).get("by_source", {})
    if mix:
        t.add_row("mix", ", ".join(f"{k} {v['global_share']:.1%} (asked {v['requested_share']:.1%})"
                                   for k, v in mix.items()))
    t.add_row("time", f"{stats.get('timings_s', {}).get('total', 0):.1f} s")
    if html_path is not None:
        t.add_row("report", str(html_path))
    console.print(t)
    reasons = f.get("reasons", {})
    if reasons:
        r = Table(title="reasons", title_justify="left")
        r.add_column("reason")
        r.add_column("rows", justify="right")
        r.add_column("e.g.")
        examples = f.get("examples", {})
        ranked = sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))
        for k, v in ranked[:_REASONS_SHOWN]:
            r.add_row(k, f"{v:,}", ", ".join(examples.get(k, [])[:2]))
        if len(ranked) > _REASONS_SHOWN:
            rest = ranked[_REASONS_SHOWN:]
            r.add_row(f"… {len(rest)} more", f"{sum(v for _, v in rest):,}", "all in stats.json and the report")
        console.print(r)
    for w in report_warnings(stats):
        console.print(f"[bold yellow]warning:[/] {w}", highlight=False, soft_wrap=True)


PROGRESS_HELP = ("Show stage progress: rows, % of input, rows/s and state of every stage (a live table in a "
                 "terminal, a plain line per finished stage and every 10 s otherwise).")


def register(app: typer.Typer) -> None:
    @app.command()
    def run(
        job: Path = typer.Argument(..., help="The job config (YAML); see the README and docs/input-formats.md."),
        address: str | None = typer.Option(
            None, help="Join an existing Ray cluster as its driver: auto on a cluster node, or HOST:6379. "
                       "Default: an embedded local Ray runtime. (To submit to a cluster, see `vlpack submit`.)"),
        out: Path | None = typer.Option(None, help="Write the output here instead of the config's output.dir."),
        progress: bool = typer.Option(True, help=PROGRESS_HELP),
        force: bool = typer.Option(False, "--force", help="Recompute everything: ignore checkpoints, per-file "
                                                          "checkpoints and a committed output of this job."),
        debug: bool = typer.Option(False, "--debug", help="Print full tracebacks (they always go to a log file)."),
    ) -> None:
        """Run a pack job (embedded local Ray by default)."""
        check_run_address(address)
        cfg = load_or_fail(job)
        if out is not None:
            cfg = cfg.model_copy(update={"output": cfg.output.model_copy(update={"dir": str(out.resolve())})})
        run_config(cfg, address=address, progress=progress, force=force, debug=debug)

    @app.command()
    def demo(
        out: Path = typer.Option(Path("vlpack-demo"), help="Directory for the demo data, job.yaml and output."),
        samples: int = typer.Option(2000, min=20, max=1_000_000, help="Number of input samples to make."),
        seed: int = typer.Option(0, min=0, help="Seed of the data generator and of the job."),
        progress: bool = typer.Option(True, help=PROGRESS_HELP),
    ) -> None:
        """Make a small realistic dataset and run the whole pack job on it, end to end."""
        from jobs.demo_data import make_demo_dataset
        from jobs.progress import status
        from schemas.config import load_job_config

        job = make_demo_dataset(out, samples=samples, seed=seed,
                                progress=(lambda what: status(f"making demo data: {what}…")) if progress else None)
        Console(stderr=True).print(f"demo data and job config written to {job}", highlight=False)
        run_config(load_job_config(job), address=None, progress=progress)

    @app.command()
    def report(
        out: Path = typer.Argument(..., help="Output directory of a finished pack job."),
        as_json: bool = typer.Option(False, "--json", help="Print stats.json instead of the summary."),
    ) -> None:
        """Summarise a committed output from its report/stats.json and (re)write report/report.html."""
        from schemas.manifest import MANIFEST_NAME, STATS_PATH, IndexPartError, Manifest, verify_index

        if not out.exists():
            _fail(f"{out} does not exist")
        if not out.is_dir():
            _fail(f"{out} is not a directory; give the output directory of a pack job")
        if not (out / MANIFEST_NAME).exists():
            _fail(f"{out} has no {MANIFEST_NAME}: it is not a committed vlpack output (did the job finish?)")
        try:
            manifest = Manifest.model_validate_json((out / MANIFEST_NAME).read_text())
        except ValueError as err:
            _fail(f"{out / MANIFEST_NAME}: not a vlpack manifest ({str(err).splitlines()[0]})")
        try:  # a report of an output changed after its commit would describe other data
            verify_index(out, manifest)
        except IndexPartError as err:
            _fail(f"{out}/{err}")
        stats_path = out / STATS_PATH
        if not stats_path.exists():
            _fail(f"{stats_path} is missing")
        stats = json.loads(stats_path.read_text())
        if as_json:
            typer.echo(json.dumps(stats, indent=1, sort_keys=True))
            return
        from packer.report_html import write_report

        print_summary(out, stats, write_report(out))
