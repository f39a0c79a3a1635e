"""What the driver process gives back to the system between the stages of a pack job.

The driver's live memory does not grow with the data between stages (measured for issue 15: glibc's
in-use bytes at each stage's end are the same at 50k and 300k samples), but Ray's core worker
allocates per task and per object while a stage runs, from a dozen threads, and glibc keeps what
they free in up to 8 arenas per core. That freed memory stayed resident and grew with the number of
blocks: about 100 B per sample of driver RSS between 50k and 300k samples.

- `limit_arenas` (before Ray starts its threads): at most DRIVER_ARENAS malloc arenas.
- `give_back_freed` (after each stage): the garbage collector, then `malloc_trim`, which returns
  the free pages of every arena to the system. The full collection is skipped after a stage shorter
  than FULL_COLLECTION_AFTER_S: it walks every live Python object (0.3 s with the ~480k objects of a
  process that has imported torch and transformers, 2.5 s per 300-sample job in such a process),
  while a short stage leaves little to give back. `malloc_trim` always runs (it took under 1 ms).

Both are glibc's; elsewhere (macOS, musl) they do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys

DRIVER_ARENAS = 2
FULL_COLLECTION_AFTER_S = 5.0
_M_ARENA_MAX = -8  # glibc's mallopt parameter
_libc: list = []


def _glibc():
    """glibc's handle, or None when this process does not run on glibc."""
    if not _libc:
        lib = None
        if sys.platform.startswith("linux"):
            try:
                lib = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                lib.gnu_get_libc_version  # noqa: B018 - only glibc has it
                lib.malloc_trim  # noqa: B018
            except (OSError, AttributeError):
                lib = None
        _libc.append(lib)
    return _libc[0]


def limit_arenas(arenas: int = DRIVER_ARENAS) -> bool:
    """At most `arenas` malloc arenas for the threads this process starts from now on. True if set."""
    lib = _glibc()
    return bool(lib is not None and lib.mallopt(_M_ARENA_MAX, int(arenas)) == 1)


def give_back_freed(stage_seconds: float | None = None) -> bool:
    """Collect garbage (unless the stage that just ended took under FULL_COLLECTION_AFTER_S) and
    return the free pages of every malloc arena. True if glibc gave some back."""
    if stage_seconds is None or stage_seconds >= FULL_COLLECTION_AFTER_S:
        gc.collect()
    lib = _glibc()
    return bool(lib is not None and lib.malloc_trim(0) == 1)
