from jobs.progress import eta_rows, render


def _snap(files, n_files, rows):
    return {"rows": rows, "first": {k: 0.0 for k in rows}, "last": {k: 10.0 for k in rows},
            "files": files, "n_files": n_files}


def test_total_is_extrapolated_from_files_until_reading_is_done():
    assert eta_rows(_snap(0, 4, {})) is None
    assert eta_rows(_snap(1, 4, {"read": 100})) == 400
    assert eta_rows(_snap(4, 4, {"read": 390})) == 390


def test_table_shows_rows_rate_and_eta():
    from rich.console import Console

    table = render(_snap(2, 4, {"read": 200, "filter": 100}), ["read", "filter", "tokens"], now=10.0)
    console = Console(width=100, record=True)
    console.print(table)
    text = console.export_text()
    assert "filter" in text and "100" in text and "10" in text  # 100 rows in 10 s
    assert "30 s" in text  # 400 expected rows, 300 to go at 10 rows/s
    assert "tokens" in text


STAGES = ["read", "probe", "filter", "grounding", "tokens", "mix", "write"]


def _job(rows, first, last, files=4, n_files=4):
    return {"rows": rows, "first": first, "last": last, "files": files, "n_files": n_files}


def test_every_stage_appears_including_dedup_and_pack():
    from jobs.progress import job_stages

    assert job_stages(STAGES) == ["read", "probe", "filter", "grounding", "dedup", "tokens", "mix", "pack", "write"]


def test_finished_stages_say_done_with_their_final_rate_and_no_eta():
    from jobs.progress import stage_states

    snap = _job({"read": 400, "probe": 400, "filter": 400, "grounding": 400, "tokens": 100},
                {"read": 0.0, "probe": 1.0, "filter": 2.0, "grounding": 3.0, "tokens": 9.0},
                {"read": 4.0, "probe": 5.0, "filter": 6.0, "grounding": 7.0, "tokens": 10.0})
    by = {s.name: s for s in stage_states(snap, STAGES, now=100.0)}
    assert by["read"].state == "done" and by["read"].rate == 100.0 and by["read"].eta is None  # 400 rows in 4 s
    assert by["grounding"].state == "done" and by["grounding"].rate == 100.0  # not falling as time goes on
    assert by["dedup"].state == "done" and by["dedup"].seconds == 2.0 and by["dedup"].rows == 400  # 7 s → 9 s
    assert by["tokens"].state == "running" and by["tokens"].share == 0.25
    assert by["mix"].state == by["pack"].state == by["write"].state == "waiting"


def test_a_global_stage_runs_between_its_neighbours():
    from jobs.progress import stage_states

    snap = _job({"read": 10, "probe": 10, "filter": 10, "grounding": 10}, {k: 0.0 for k in STAGES[:4]},
                {k: 1.0 for k in STAGES[:4]})
    by = {s.name: s for s in stage_states(snap, STAGES, now=5.0)}
    assert by["dedup"].state == "running" and by["dedup"].seconds == 4.0 and by["dedup"].rows is None
    done = {s.name: s.state for s in stage_states(snap, STAGES, now=5.0, finished=True)}
    assert set(done.values()) == {"done"}


def test_table_has_totals_and_percent_of_input():
    from rich.console import Console

    from jobs.progress import render

    snap = _job({"read": 400, "probe": 100}, {"read": 0.0, "probe": 0.0}, {"read": 4.0, "probe": 10.0})
    console = Console(width=120, record=True)
    console.print(render(snap, STAGES, now=10.0, started=0.0))
    text = console.export_text()
    assert "400 input rows from 4 files · 1 of 9 stages done · 10 s" in text
    assert "25%" in text and "done in 4.0 s" in text and "ETA 30 s" in text
    for stage in ("dedup", "pack", "write"):
        assert stage in text


def test_plain_lines_announce_each_finished_stage_once():
    from jobs.progress import plain_lines, stage_states

    snap = _job({"read": 400, "probe": 100}, {"read": 0.0, "probe": 0.0}, {"read": 4.0, "probe": 10.0})
    announced: set[str] = set()
    lines = plain_lines(stage_states(snap, STAGES, 10.0), announced, 10.0, periodic=True)
    assert lines == ["progress [10 s]: read done: 400 rows in 4.0 s (100 rows/s)",
                     "progress [10 s]: probe 100 of 400 rows (25%), 10 rows/s, ETA 30 s"]
    assert plain_lines(stage_states(snap, STAGES, 11.0), announced, 11.0, periodic=False) == []


def test_quiet_ray_logs_drops_only_the_start_up_noise():
    import logging

    from jobs.progress import RAY_NOISE, quiet_ray_logs

    quiet_ray_logs()
    quiet_ray_logs()  # idempotent
    seen = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    for name, text in RAY_NOISE:
        logger = logging.getLogger(name)
        handler = Keep()
        logger.addHandler(handler)
        try:
            logger.warning("Warning: %s. More text.", text)
            logger.warning("another warning from %s", name)
        finally:
            logger.removeHandler(handler)
    assert seen == [f"another warning from {name}" for name, _ in RAY_NOISE]


_SHUTDOWN_SCRIPT = r"""
import os, sys
import ray
from jobs.progress import shutdown_ray

ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
logs = ray._private.worker._global_node.get_logs_dir_path()
real_shutdown = ray.shutdown


def shutdown_that_logs_natively(*args, **kwargs):
    # what Ray's C++ core does when a task killed by the shutdown cannot be reported as retried:
    # a line written straight to the process's fd 2
    os.write(2, b"[2026-01-01 00:00:00,000 E 1 2] task_manager.cc:1545: Failed to push error to driver\n")
    real_shutdown(*args, **kwargs)


ray.shutdown = shutdown_that_logs_natively
shutdown_ray()
print("after shutdown", file=sys.stderr, flush=True)
os.write(2, b"fd 2 is the terminal again\n")
print(logs)
"""


def test_shutdown_keeps_ray_native_stderr_lines_in_the_session_logs(tmp_path):
    """A failed job's last terminal lines are its own error: what Ray's core writes to fd 2 while
    the runtime shuts down lands in the session's log folder, and fd 2 is restored afterwards."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", _SHUTDOWN_SCRIPT], cwd=root, capture_output=True, text=True,
                          env={**__import__("os").environ, "PYTHONPATH": str(root)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "task_manager.cc" not in done.stderr
    assert "after shutdown" in done.stderr and "fd 2 is the terminal again" in done.stderr
    kept = Path(done.stdout.strip().splitlines()[-1]) / "driver-shutdown.err"
    assert "Failed to push error to driver" in kept.read_text()
