"""One writer per output directory, and the sweep of temporary files whose writer is gone.

`OutputLock` holds an exclusive `flock` on `OUT/.vlpack/lock` for the whole run. The lock file
says who holds it (pid, host, start time, command), so a second run refuses with a message that
names the holder instead of racing the first one: two runs on one output would otherwise delete
each other's temporary files and commit a manifest that disagrees with the shards.

The kernel drops the lock when the holder dies (even on SIGKILL), so a crashed run never leaves a
stale lock behind. `flock` is advisory and local-kernel on most network file systems older than
NFSv4; on a shared file system run one driver per output (the cluster driver, not one per node).

Temporary files (`.NAME.tmp-HOST-PID`, see `packer.shards.temp_path`) name their writer. At start
a run deletes only those whose writer is gone: on this host a pid that no longer runs. Writers on
other hosts cannot be checked from here; such files are left to the sweep before the manifest,
when every task of the run has finished and any temporary file left is an orphan.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import shlex
import socket
import sys
import time
from pathlib import Path

from packer.shards import temp_owner

LOCK_NAME = "lock"


class OutputLocked(RuntimeError):
    """Another run holds the output directory; the message names it."""


# A holder writes its name just after it takes the lock (and clears it just before it lets go), so a
# run refused in that window reads an empty file; it looks again for this long before saying
# "holder unknown".
HOLDER_NAME_WAIT_S = 2.0


def _holder_info(path: Path) -> dict:
    try:
        return json.loads(path.read_text() or "{}")
    except (OSError, ValueError):  # absent, or read while it was being written
        return {}


def _holder_text(path: Path, wait_s: float = 0.0) -> str:
    deadline = time.monotonic() + wait_s
    info = _holder_info(path)
    while not info and time.monotonic() < deadline:
        time.sleep(0.02)
        info = _holder_info(path)
    if not info:
        return "another vlpack run (holder unknown)"
    return (f"pid {info.get('pid')} on {info.get('host')} since {info.get('started')}"
            + (f" ({info['command']})" if info.get("command") else ""))


class OutputLock:
    """An exclusive lock on one output directory, held from `acquire()` to `release()`."""

    def __init__(self, out: str | os.PathLike, state_dir: str = ".vlpack") -> None:
        self.out = Path(out)
        self.path = self.out / state_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> OutputLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            os.close(fd)
            if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise OutputLocked(f"{self.out} is being written by "
                                   f"{_holder_text(self.path, HOLDER_NAME_WAIT_S)}; wait for it to "
                                   f"finish or choose another output.dir") from None
            raise
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "command": shlex.join([os.path.basename(sys.argv[0] or "python"), *sys.argv[1:]])[:300]}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)  # nobody holds it now
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def lock_holder(out: str | os.PathLike, state_dir: str = ".vlpack") -> str | None:
    """Who holds the output's lock now, or None if nobody does (probes without taking it)."""
    path = Path(out) / state_dir / LOCK_NAME
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return _holder_text(path, HOLDER_NAME_WAIT_S)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def sweep_temp_files(out: str | os.PathLike, *, all_writers_done: bool) -> list[Path]:
    """Delete temporary files under `out` whose writer is gone; return what was deleted.

    With `all_writers_done` (every task of this run has ended, and the caller holds the lock)
    every temporary file is an orphan. Otherwise only files written on this host by a process
    that no longer exists are deleted.
    """
    host = socket.gethostname()
    removed = []
    for tmp in Path(out).rglob(".*.tmp-*"):
        if not tmp.is_file():
            continue
        if not all_writers_done:
            owner = temp_owner(tmp.name)
            if owner is None or owner[0] != host or _pid_alive(owner[1]):
                continue
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed
