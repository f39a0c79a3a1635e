"""Live progress of a pack job: rows done, rows/s and ETA per stage.

Workers report each finished batch to a named, zero-CPU Ray actor (fire and forget); a thread on
the driver polls it and prints a table. Progress is for people: a retried batch may be counted
twice here, while the statistics in stats.json come from the exact per-row counters instead.

The expected total is the number of input files until reading is done (rows are extrapolated from
the files read so far), then the number of rows read.
"""

from __future__ import annotations

import threading
import time

ACTOR_NAME = "vlpack-progress"
_handle = None
_looked_up = False


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

        def add(self, stage: str, rows: int, files: int = 0) -> None:
            now = time.time()
            self.first.setdefault(stage, now)
            self.last[stage] = now
            self.rows[stage] = self.rows.get(stage, 0) + rows
            self.files += files

        def snapshot(self) -> dict:
            return {"rows": dict(self.rows), "first": dict(self.first), "last": dict(self.last),
                    "files": self.files, "n_files": self.n_files}

    return ProgressBoard


def report(stage: str, rows: int, files: int = 0) -> None:
    """Called in workers after each batch; a no-op when no board is running."""
    global _handle, _looked_up
    if not _looked_up:
        import ray

        _looked_up = True
        try:
            _handle = ray.get_actor(ACTOR_NAME)
        except ValueError:
            _handle = None
    if _handle is not None:
        _handle.add.remote(stage, rows, files)


def eta_rows(snapshot: dict) -> float | None:
    """The expected number of rows: extrapolated from the files read until reading is done."""
    read = snapshot["rows"].get("read", 0)
    if snapshot["files"] >= snapshot["n_files"]:
        return float(read)
    if snapshot["files"]:
        return read / snapshot["files"] * snapshot["n_files"]
    return None


def render(snapshot: dict, stages: list[str], now: float):
    from rich.table import Table

    total = eta_rows(snapshot)
    t = Table("stage", "rows", "rows/s", "ETA", title="vlpack progress", title_justify="left")
    for stage in stages:
        done = snapshot["rows"].get(stage, 0)
        if not done:
            t.add_row(stage, "-", "-", "-")
            continue
        elapsed = max(now - snapshot["first"][stage], 1e-3)
        rate = done / elapsed
        eta = "-" if total is None else (f"{max(total - done, 0) / rate:.0f} s" if total > done else "done")
        t.add_row(stage, f"{done:,}", f"{rate:,.0f}", eta)
    return t


class ProgressPrinter:
    """Starts the board and a driver thread that redraws the table until `stop()`."""

    def __init__(self, n_files: int, stages: list[str], interval: float = 1.0):
        self.stages, self.interval = stages, interval
        self.board = _board_class().options(name=ACTOR_NAME, lifetime=None).remote(n_files)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> ProgressPrinter:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        import ray

        ray.kill(self.board)

    def _loop(self) -> None:
        import ray
        from rich.console import Console
        from rich.live import Live

        with Live(console=Console(stderr=True), refresh_per_second=2, transient=False) as live:
            while not self._stop.wait(self.interval):
                try:
                    snap = ray.get(self.board.snapshot.remote(), timeout=5)
                except Exception:  # noqa: BLE001 - progress must never break the job
                    continue
                live.update(render(snap, self.stages, time.time()))
