"""The driver gives freed memory back between stages and caps its malloc arenas (jobs.driver_memory).

Each check runs in a fresh interpreter: arenas are per process and a cap holds for threads started
after it, so the test process's own threads must not decide the count."""

import subprocess
import sys
from pathlib import Path

import pytest

from jobs.driver_memory import _glibc

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(_glibc() is None, reason="malloc arenas and malloc_trim are glibc's")

THREADS = """
import sys, threading
from jobs.driver_memory import limit_arenas
if sys.argv[1] == "cap":
    assert limit_arenas(2)
barrier = threading.Barrier(8)
held = []
def work():
    held.append([bytearray(4000) for _ in range(50)])  # from this thread's arena
    barrier.wait()  # every thread alive at once, so none inherits a finished thread's arena
ts = [threading.Thread(target=work) for _ in range(8)]
for t in ts: t.start()
for t in ts: t.join()
import ctypes; ctypes.CDLL("libc.so.6").malloc_stats()
"""


def _arenas(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", THREADS, mode], cwd=ROOT, capture_output=True, text=True, check=True)
    return sum(line.startswith("Arena ") for line in done.stderr.splitlines())


def test_capped_threads_share_two_arenas():
    assert _arenas("free") > 3  # without the cap, eight threads get arenas of their own
    assert _arenas("cap") <= 2


FREED = """
from jobs.driver_memory import give_back_freed
def anon_kib():
    return int(next(l for l in open("/proc/self/status") if l.startswith("RssAnon")).split()[1])
chunks = [bytearray(4000) for _ in range(5000)]  # 20 MB of the main arena
pin = bytearray(4000)  # above them: free() alone cannot shrink the heap
del chunks
freed = anon_kib()
give_back_freed()
print(freed, anon_kib())
"""


def test_freed_pages_go_back_to_the_system():
    done = subprocess.run([sys.executable, "-c", FREED], cwd=ROOT, capture_output=True, text=True, check=True)
    freed, after = map(int, done.stdout.split())
    assert freed - after > 10_000  # KiB: most of the 20 MB freed left the process


def test_a_full_collection_only_after_a_long_stage():
    """A full collection walks every live object (0.3 s in a process that has imported torch and
    transformers), so it follows only stages of FULL_COLLECTION_AFTER_S or more; trimming follows all."""
    import gc

    from jobs.driver_memory import FULL_COLLECTION_AFTER_S, give_back_freed

    full = []

    def seen(phase, info):
        if phase == "start" and info["generation"] == 2:
            full.append(info)

    was_enabled = gc.isenabled()
    gc.disable()  # no automatic collection in between
    gc.callbacks.append(seen)
    try:
        give_back_freed(FULL_COLLECTION_AFTER_S * 0.5)
        assert full == []
        give_back_freed(FULL_COLLECTION_AFTER_S)
        assert len(full) == 1
        give_back_freed()  # no stage time: collect
        assert len(full) == 2
    finally:
        gc.callbacks.remove(seen)
        if was_enabled:
            gc.enable()
