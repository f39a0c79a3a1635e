"""Every error a run can end with, as one line a user can act on, and the traceback in a log file.

`explain(err)` unwraps what Ray wraps around an exception raised in a worker (task errors, Ray
Data's user-code wrapper, exception chains) and says, in one line naming the file or field:
- our own errors (a bad config, a bad source file, a repeated id, a held output lock, ...);
- operating-system errors: disk full, permission denied, read-only file system, quota;
- a lost worker, node or object, or a worker out of memory (rerun to resume from checkpoints);
- anything else as an internal error, pointing to the log.
`write_log` keeps the full traceback under OUT/.vlpack/logs/ (or the temp directory when OUT does
not exist or cannot be written) so that nothing is lost when the terminal shows one line.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import tempfile
import traceback
from pathlib import Path

# Our exception types, by name (importing them all here would pull in Ray and the readers).
USER_ERRORS = {"JobError", "SourceFileError", "ConfigError", "OutputLocked", "SubmitError", "DuplicateIdError",
               "JournalMismatch", "ShardCommitError"}
LOST = {"WorkerCrashedError", "NodeDiedError", "ObjectLostError", "OwnerDiedError", "ObjectReconstructionFailedError",
        "ActorDiedError", "RayActorError", "ActorUnavailableError", "RaySystemError", "ObjectFetchTimedOutError",
        "ReferenceCountingAssertionError", "LocalRayletDiedError"}
OUT_OF_MEMORY = {"OutOfMemoryError", "ObjectStoreFullError", "OutOfDiskError"}
_OS_MESSAGES = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EMFILE: "too many open files (raise `ulimit -n`)",
    errno.EIO: "input/output error",
}


def root_cause(err: BaseException) -> BaseException:
    """The exception behind Ray's wrappers: RayTaskError.cause, UserCodeException.__cause__, ..."""
    seen = set()
    while id(err) not in seen:
        seen.add(id(err))
        name = type(err).__name__
        cause = getattr(err, "cause", None)
        if isinstance(cause, BaseException) and (name.startswith("RayTaskError") or name == "RayTaskError"):
            err = cause
            continue
        if name in ("UserCodeException", "RayTaskError") or name.startswith("RayTaskError("):
            nxt = err.__cause__ or err.__context__
            if nxt is not None:
                err = nxt
                continue
        if type(err).__name__ not in USER_ERRORS and not isinstance(err, OSError) and err.__cause__ is not None \
                and type(err.__cause__).__name__ in USER_ERRORS | LOST | OUT_OF_MEMORY:
            err = err.__cause__
            continue
        break
    return err


def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    return lines[0] if lines else ""


def explain(err: BaseException) -> tuple[str, bool]:
    """(one line for the terminal, whether it is an internal error rather than the user's)."""
    cause = root_cause(err)
    name = type(cause).__name__
    if isinstance(cause, KeyboardInterrupt):
        return "interrupted; run the same command again to resume from the checkpoints", False
    if name in USER_ERRORS:
        return _own_message(cause), False
    if isinstance(cause, OSError):
        code = cause.errno
        what = _OS_MESSAGES.get(code) or (os.strerror(code) if code else _first_line(cause))
        where = cause.filename
        return f"{what}: {where}" if where else f"{what} ({_first_line(cause)[:200]})", False
    if name in OUT_OF_MEMORY:
        return (f"a Ray worker ran out of memory or object-store space ({name}); lower ray.batch_size, "
                f"give the job more memory, or use fewer CPUs per node; then run the same command to resume"), False
    if name in LOST or name.endswith("DiedError"):
        return (f"a Ray worker or node was lost ({name}: {_first_line(cause)[:160]}); run the same command "
                f"again to resume from the checkpoints"), False
    return f"internal error ({name}: {_first_line(cause)[:200]})", True


def _own_message(err: BaseException) -> str:
    """Our message, without any remote traceback Ray may have folded into the text."""
    text = str(err)
    name = f"{type(err).__name__}: "
    if name in text:
        text = text.rsplit(name, 1)[1]
    if type(err).__name__ == "ConfigError":
        return text.strip()  # one line per bad field
    return _first_line(text)


def write_log(out_dir: str | os.PathLike | None, err: BaseException, state_dir: str = ".vlpack") -> Path:
    """Write the full traceback (with Ray's remote ones) to a log file; return its path."""
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    name = f"error-{stamp}-{os.getpid()}.log"
    text = "".join(traceback.format_exception(type(err), err, err.__traceback__))
    # under the output only if it holds a run's state already: a wrong guess must leave nothing behind
    # (nor write into a directory that is not a vlpack output)
    candidates = [Path(out_dir) / state_dir / "logs"] if out_dir and (Path(out_dir) / state_dir).is_dir() else []
    candidates.append(Path(tempfile.gettempdir()) / "vlpack-logs")
    for folder in candidates:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            path.write_text(text)
            return path
        except OSError:
            continue
    return Path(os.devnull)
