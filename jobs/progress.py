"""Live progress of a pack job, and a quiet terminal around it.

Workers report each finished batch to a named, zero-CPU Ray actor (fire and forget); a thread on
the driver polls it. In a terminal it redraws a table (stage, rows, % of input, rows/s, state);
elsewhere (a log file, CI) it prints a plain line when a stage finishes and a line for the running
stages every `PLAIN_INTERVAL_S` seconds. Progress is for people: a retried batch may be counted
twice here, while the statistics in stats.json come from the exact per-row counters instead.

Every stage of the job appears, in order. Row-local stages (read, probe, filter, grounding,
tokens, mix) and write report rows. The global stages between them (dedup, pack) report nothing
themselves: a global stage runs from the moment the stage before it is done until the stage after
it starts, and is then done with every row.

The expected number of input rows is extrapolated from the files read so far until reading is
done, then it is the number of rows read. Every row passes through every row-local stage, so a
stage is done when it has seen them all.

`quiet_ray_logs()` drops three of Ray's start-up messages that say nothing to a vlpack user: the
token-authentication notice of a new local runtime (token auth stays on), Ray Data's "Progress
bars disabled" (vlpack draws its own), and Ray Data's "cluster currently does not have any
available CPUs ... will hang", which Ray prints whenever the CPUs are busy with the previous
dataset's tasks: false for a job that runs its stages one after the other.

`shutdown_ray()` stops the runtime with the process's stderr (fd 2) sent to the Ray session's log
folder meanwhile: tasks still running when a job fails are killed by the shutdown, and when Ray's
C++ core cannot tell the departing driver that such a task will be retried it says so on stderr at
ERROR level ("[…] task_manager.cc:…: Failed to push error to driver for task …"): a line after the
job's own one-line error that names nothing of the user's.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from dataclasses import dataclass

ACTOR_NAME = "vlpack-progress"
PLAIN_INTERVAL_S = 10.0
# Stages that run between two others and report no batches; the neighbours they sit between.
GLOBAL_STAGES = {"dedup": ("grounding", "tokens"), "pack": ("mix", "write")}
# Ray log records (logger name, text in the message) that quiet_ray_logs drops.
RAY_NOISE = (
    ("ray._private.authentication.authentication_token_setup", "Token authentication is enabled"),
    ("ray.data._internal.progress", "Progress bars disabled"),
    ("ray.data._internal.progress", "Progress bars for operators disabled"),
    ("ray.data.dataset", "does not have any available CPUs"),
)
_handle = None
_looked_up = False


class _DropMessages(logging.Filter):
    def __init__(self, texts: tuple[str, ...]):
        super().__init__()
        self.texts = texts

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(t in message for t in self.texts)


def quiet_ray_logs() -> None:
    """Install (once per logger) the filters that drop `RAY_NOISE` records."""
    by_logger: dict[str, tuple[str, ...]] = {}
    for name, text in RAY_NOISE:
        by_logger[name] = by_logger.get(name, ()) + (text,)
    for name, texts in by_logger.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropMessages) for f in logger.filters):
            logger.addFilter(_DropMessages(texts))


def shutdown_ray() -> None:
    """`ray.shutdown()`, Ray's native stderr lines meanwhile kept in `RAY_SESSION_LOGS/driver-shutdown.err`."""
    import ray

    node = getattr(ray._private.worker, "_global_node", None)
    logs = node.get_logs_dir_path() if node is not None else None
    if not logs or not os.path.isdir(logs):
        ray.shutdown()
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.path.join(logs, "driver-shutdown.err"), "ab") as sink:
            os.dup2(sink.fileno(), 2)
            try:
                ray.shutdown()
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)


def status(message: str) -> None:
    """One status line for people on stderr (`vlpack: starting local Ray…`)."""
    from rich.console import Console

    Console(stderr=True, highlight=False).print(f"[dim]vlpack:[/] {message}")


def _board_class():
    import ray

    @ray.remote(num_cpus=0)
    class ProgressBoard:
        def __init__(self, n_files: int):
            self.n_files = n_files
            self.rows: dict[str, int] = {}
            self.first: dict[str, float] = {}
            self.last: dict[str, float] = {}
            self.files = 0

        def add(self, stage: str, rows: int, files: int = 0, seconds: float = 0.0) -> None:
            now = time.time()
            self.first[stage] = min(self.first.get(stage, now), now - seconds)  # when the batch began
            self.last[stage] = now
            self.rows[stage] = self.rows.get(stage, 0) + rows
            self.files += files

        def snapshot(self) -> dict:
            return {"rows": dict(self.rows), "first": dict(self.first), "last": dict(self.last),
                    "files": self.files, "n_files": self.n_files}

    return ProgressBoard


def report(stage: str, rows: int, files: int = 0, seconds: float = 0.0) -> None:
    """Called in workers after each batch (`seconds`: how long it took); a no-op when no board runs."""
    global _handle, _looked_up
    if not _looked_up:
        import ray

        _looked_up = True
        try:  # outside Ray (a stage run in process) there is no board, and Ray must not start
            _handle = ray.get_actor(ACTOR_NAME) if ray.is_initialized() else None
        except ValueError:
            _handle = None
    if _handle is not None:
        _handle.add.remote(stage, rows, files, seconds)


def eta_rows(snapshot: dict) -> float | None:
    """The expected number of rows: extrapolated from the files read until reading is done."""
    read = snapshot["rows"].get("read", 0)
    if snapshot["files"] >= snapshot["n_files"]:
        return float(read)
    if snapshot["files"]:
        return read / snapshot["files"] * snapshot["n_files"]
    return None


def job_stages(stages: list[str]) -> list[str]:
    """`stages` with the global stages inserted between their neighbours (when both are there)."""
    out = list(stages)
    for name, (before, after) in GLOBAL_STAGES.items():
        if name not in out and before in out and after in out:
            out.insert(out.index(after), name)
    return out


@dataclass(frozen=True)
class StageState:
    name: str
    state: str  # "waiting" | "running" | "done"
    rows: int | None  # rows through the stage so far (None: a global stage still running)
    total: float | None  # rows expected (None: unknown)
    seconds: float  # time spent so far, or in all when done
    rate: float | None  # rows per second (final when done)

    @property
    def share(self) -> float | None:
        return min(self.rows / self.total, 1.0) if self.rows is not None and self.total else None

    @property
    def eta(self) -> float | None:
        if self.state != "running" or not self.rate or self.total is None or self.rows is None:
            return None
        return max(self.total - self.rows, 0) / self.rate


def stage_states(snapshot: dict, stages: list[str], now: float, finished: bool = False) -> list[StageState]:
    """The state of every stage of `job_stages(stages)`; `finished`: the job is over and wrote all."""
    total = eta_rows(snapshot)
    read_done = snapshot["files"] >= snapshot["n_files"]
    rows, first, last = snapshot["rows"], snapshot["first"], snapshot["last"]
    out: list[StageState] = []
    names = job_stages(stages)
    for i, name in enumerate(names):
        prev = out[-1] if out else None
        if name in GLOBAL_STAGES and name not in first:
            start = last.get(prev.name) if prev is not None and prev.state == "done" else None
            nxt = next((first[n] for n in names[i + 1:] if n in first), None)
            if finished or nxt is not None:
                end = nxt if nxt is not None else now
                secs = max(end - start, 0.0) if start is not None else 0.0
                n = int(total or 0)
                out.append(StageState(name, "done", n, total, secs, n / secs if secs > 0 else None))
            elif start is not None:
                out.append(StageState(name, "running", None, total, max(now - start, 0.0), None))
            else:
                out.append(StageState(name, "waiting", 0, total, 0.0, None))
            continue
        done_rows = rows.get(name, 0)
        expected = None if name == "write" else total
        if name not in first:
            out.append(StageState(name, "done" if finished else "waiting", done_rows, expected, 0.0, None))
            continue
        complete = finished or (name != "write" and read_done and (prev is None or prev.state == "done")
                                and (name == "read" or done_rows >= (expected or 0)))
        end = last[name] if complete else now
        secs = end - first[name]
        out.append(StageState(name, "done" if complete else "running", done_rows, expected, secs,
                              done_rows / secs if secs > 0 else None))
    return out


def _fmt_rate(rate: float | None) -> str:
    return "-" if not rate else f"{rate:,.0f}" if rate >= 10 else f"{rate:.2g}"


def _fmt_s(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def headline(snapshot: dict, states: list[StageState], elapsed: float) -> str:
    """`2,000 input rows from 9 files · 4 of 9 stages done · 41 s` (rows estimated while reading)."""
    total = eta_rows(snapshot)
    done = sum(s.state == "done" for s in states)
    if total is None:
        rows = f"reading {snapshot['n_files']:,} files"
    elif snapshot["files"] < snapshot["n_files"]:
        rows = f"~{total:,.0f} input rows (estimated from {snapshot['files']:,} of {snapshot['n_files']:,} files)"
    else:
        rows = f"{total:,.0f} input rows from {snapshot['n_files']:,} files"
    return f"{rows} · {done} of {len(states)} stages done · {_fmt_s(elapsed)}"


def render(snapshot: dict, stages: list[str], now: float, *, started: float | None = None, finished: bool = False):
    """The progress table (rich) for a terminal."""
    from rich.table import Table

    states = stage_states(snapshot, stages, now, finished)
    t = Table("stage", "rows", "% of input", "rows/s", "state",
              title=headline(snapshot, states, now - (started if started is not None else now)),
              title_justify="left")
    for s in states:
        share = f"{s.share:.0%}" if s.share is not None else "-"
        rate = _fmt_rate(s.rate)
        rows = f"{s.rows:,}" if s.rows is not None else "…"
        if s.state == "done":
            state = f"[green]done[/] in {_fmt_s(s.seconds)}"
        elif s.state == "running":
            state = f"running, ETA {_fmt_s(s.eta)}" if s.eta is not None else f"running {_fmt_s(s.seconds)}"
        else:
            state, rows = "[dim]waiting[/]", "-"
        t.add_row(s.name, rows, share, rate, state)
    return t


def plain_lines(states: list[StageState], announced: set[str], now_s: float, periodic: bool) -> list[str]:
    """Lines for a non-terminal: one per stage that finished since the last call (added to
    `announced`), and, when `periodic`, one for the stages still running."""
    lines = []
    for s in states:
        if s.state == "done" and s.name not in announced:
            announced.add(s.name)
            rate = f" ({_fmt_rate(s.rate)} rows/s)" if s.rate else ""
            rows = f"{s.rows:,} rows " if s.rows is not None else ""
            lines.append(f"progress [{_fmt_s(now_s)}]: {s.name} done: {rows}in {_fmt_s(s.seconds)}{rate}")
    running = [s for s in states if s.state == "running"]
    if periodic and running:
        parts = []
        for s in running:
            if s.rows is None:
                parts.append(f"{s.name} running for {_fmt_s(s.seconds)}")
                continue
            share = f" ({s.share:.0%})" if s.share is not None else ""
            of = f" of {s.total:,.0f}" if s.total else ""
            eta = f", ETA {_fmt_s(s.eta)}" if s.eta is not None else ""
            parts.append(f"{s.name} {s.rows:,}{of} rows{share}, {_fmt_rate(s.rate)} rows/s{eta}")
        lines.append(f"progress [{_fmt_s(now_s)}]: " + "; ".join(parts))
    return lines


class ProgressPrinter:
    """Starts the board and a driver thread that shows progress until `stop()`.

    `live` (default: stderr is a terminal) picks the redrawn table; otherwise plain lines."""

    def __init__(self, n_files: int, stages: list[str], interval: float = 1.0, live: bool | None = None):
        self.stages, self.interval = stages, interval
        self.live = sys.stderr.isatty() if live is None else live
        self.started = time.time()
        self.board = _board_class().options(name=ACTOR_NAME, lifetime=None).remote(n_files)
        self._stop = threading.Event()
        self._ok = False
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> ProgressPrinter:
        self._thread.start()
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self._ok = exc_type is None
        self._stop.set()
        self._thread.join()
        import ray

        ray.kill(self.board)

    def _snapshot(self):
        import ray

        try:
            return ray.get(self.board.snapshot.remote(), timeout=5)
        except Exception:  # noqa: BLE001 - progress must never break the job
            return None

    def _loop(self) -> None:
        from rich.console import Console

        console = Console(stderr=True, highlight=False, soft_wrap=not self.live)
        if self.live:
            from rich.live import Live

            with Live(console=console, refresh_per_second=2, transient=False) as live:
                snap = None
                while not self._stop.wait(self.interval):
                    snap = self._snapshot() or snap
                    if snap is not None:
                        live.update(render(snap, self.stages, time.time(), started=self.started))
                snap = self._snapshot() or snap
                if snap is not None:  # the last frame: every stage done (or where it stopped)
                    live.update(render(snap, self.stages, time.time(), started=self.started, finished=self._ok))
            return
        announced: set[str] = set()
        next_periodic = self.started + PLAIN_INTERVAL_S
        snap = None
        while not self._stop.wait(self.interval):
            snap = self._snapshot() or snap
            if snap is None:
                continue
            now = time.time()
            periodic = now >= next_periodic
            if periodic:
                next_periodic = now + PLAIN_INTERVAL_S
            for line in plain_lines(stage_states(snap, self.stages, now), announced, now - self.started, periodic):
                console.print(line)
        snap = self._snapshot() or snap
        if snap is not None:
            now = time.time()
            for line in plain_lines(stage_states(snap, self.stages, now, finished=self._ok), announced,
                                    now - self.started, False):
                console.print(line)
