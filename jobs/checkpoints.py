"""Crash-safe, resumable runs: stage checkpoints and the shard journal.

OUT/.vlpack/lock                      the output lock (`jobs.output_lock`)
OUT/.vlpack/files/<key>.parquet       one source file after read → grounding (`jobs.file_stages`)
OUT/.vlpack/<job>/rows/               the processed table (after tokens and mix), parquet + _SUCCESS
OUT/.vlpack/<job>/plan/               packs, ledger and assignment of the pack plan + _SUCCESS
OUT/.vlpack/<job>/journal/            one JSON file per committed shard: path, sha256, bytes, mtime
OUT/.vlpack/<job>/committed.json      size and mtime of every file the manifest lists

<job> is the job fingerprint (config and inputs, `jobs.inputs`). A rerun of the same job skips every
stage whose checkpoint is complete and keeps every shard whose journal entry matches the file on
disk; the rest is redone. Another config or changed inputs give another job fingerprint, so they
never see these intermediates; per-file checkpoints are keyed by their own file and are reused by
any job whose per-file stages read the same config. Everything is written with the
temp-name-then-rename commit of `packer.shards.commit_file`.

Fault injection (tests only), through the environment variable VLPACK_FAULT:
- ``kill_worker_once:<stage>:<marker file>``  the first task of <stage> kills its worker process (a row
  stage on arrival; ``plan`` and ``index`` after the first of a group's two files is committed)
- ``fail_after_shards:<n>``                    the writer raises after <n> shards are journaled
- ``fail_rename:<shard path>``                 the commit of that shard fails just before the rename
- ``kill_writer_mid_shard:<marker file>``      the first shard writer dies with its temporary file open
- ``pause_writer:<marker file>``               the first shard writer waits, its temporary file open,
                                               until <marker file>.release exists
- ``fail_before_manifest``                     the driver raises after shards, indexes, stats, report and
                                               the stale-shard cleanup, just before the manifest commit
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from packer.shards import commit_file, file_sha256

STATE_DIR = ".vlpack"
SUCCESS = "_SUCCESS"


class InjectedFault(RuntimeError):
    """Raised by a fault-injection hook; never raised unless VLPACK_FAULT asks for it."""


def checkpoint_dir(out: Path, fingerprint: str) -> Path:
    return Path(out) / STATE_DIR / fingerprint


def is_complete(path: Path) -> bool:
    return (path / SUCCESS).exists()


def mark_complete(path: Path, info: dict) -> None:
    commit_file(path / SUCCESS, json.dumps(info, sort_keys=True).encode())


def save_tables(path: Path, tables: dict[str, pa.Table], info: dict) -> None:
    for name, table in tables.items():
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="zstd")
        commit_file(path / f"{name}.parquet", sink.getvalue().to_pybytes())
    mark_complete(path, info)


def load_tables(path: Path, names: list[str]) -> tuple[dict[str, pa.Table], dict]:
    info = json.loads((path / SUCCESS).read_text())
    return {n: pq.read_table(path / f"{n}.parquet") for n in names}, info


# ---- shard journal --------------------------------------------------------------------------------


def _journal_file(journal: Path, shard: str) -> Path:
    return journal / (shard.replace("/", "__") + ".json")


def record_shard(journal: Path, entry: dict) -> None:
    commit_file(_journal_file(journal, entry["path"]), json.dumps(entry, sort_keys=True).encode())


def verified_shards(out: Path, journal: Path) -> dict[str, dict]:
    """Journaled shards whose file on disk still has the recorded checksum."""
    done = {}
    if not journal.is_dir():
        return done
    for f in sorted(journal.glob("*.json")):
        try:
            entry = json.loads(f.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        path = Path(out) / entry["path"]
        if path.is_file() and path.stat().st_size == entry["bytes"] and file_sha256(path) == entry["sha256"]:
            done[entry["path"]] = entry
    return done


class JournalMismatch(RuntimeError):
    """A shard on disk is not the one its writer journaled; the message names it."""


def check_against_journal(out: Path, shards: list, journal: Path) -> None:
    """Before the manifest: every listed shard is, on disk, the file its writer journaled (same size
    and modification time). Cheap (one stat per shard); the sha256 was taken while writing."""
    for entry in shards:
        f = _journal_file(journal, entry.path)
        try:
            recorded = json.loads(f.read_text())
        except (OSError, json.JSONDecodeError):
            raise JournalMismatch(f"shard {entry.path} has no journal entry; rerun to rewrite it") from None
        try:
            st = (Path(out) / entry.path).stat()
        except FileNotFoundError:
            raise JournalMismatch(f"shard {entry.path} vanished after it was written; is another process "
                                  f"writing to {out}?") from None
        if st.st_size != recorded["bytes"] or ("mtime_ns" in recorded and st.st_mtime_ns != recorded["mtime_ns"]):
            raise JournalMismatch(f"shard {entry.path} changed on disk after it was written (size {st.st_size}, "
                                  f"journaled {recorded['bytes']}); is another process writing to {out}?")


COMMITTED = "committed.json"


def record_committed(out: Path, state: Path, manifest) -> None:
    """Size and mtime of every file the manifest lists, as committed: a later run checks these
    with one stat per file before it calls the output complete."""
    files = [s.path for s in manifest.shards] + sorted(manifest.indexes)
    stamps = {}
    for rel in files:
        st = (Path(out) / rel).stat()
        stamps[rel] = [st.st_size, st.st_mtime_ns]
    commit_file(Path(state) / COMMITTED, json.dumps(stamps, sort_keys=True).encode())


def committed_damage(out: Path, manifest, job_fingerprint: str) -> str | None:
    """Why the committed output does not match its manifest, or None if it does.

    Files whose size and mtime are those recorded at commit are trusted; any other listed file is
    hashed and compared with the manifest's sha256."""
    out = Path(out)
    try:
        stamps = json.loads((checkpoint_dir(out, job_fingerprint) / COMMITTED).read_text())
    except (OSError, json.JSONDecodeError):
        stamps = {}
    listed = [(s.path, s.sha256, s.bytes) for s in manifest.shards]
    listed += [(rel, digest, None) for rel, digest in sorted(manifest.indexes.items())]
    for rel, digest, size in listed:
        path = out / rel
        try:
            st = path.stat()
        except FileNotFoundError:
            return f"{rel} is missing"
        if size is not None and st.st_size != size:
            return f"{rel} has {st.st_size} bytes, the manifest says {size}"
        if stamps.get(rel) == [st.st_size, st.st_mtime_ns]:
            continue
        if file_sha256(path) != digest:
            return f"{rel} does not have the sha256 the manifest lists"
    return None


def journal_count(journal: Path) -> int:
    return len(list(journal.glob("*.json"))) if journal.is_dir() else 0


# ---- fault injection ------------------------------------------------------------------------------


def fault() -> list[str]:
    spec = os.environ.get("VLPACK_FAULT", "")
    return spec.split(":") if spec else []


def _first_to_arrive(marker: str) -> bool:
    """True for the one process that creates `marker` (the fault fires once per test run)."""
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def maybe_kill_worker(stage: str) -> None:
    f = fault()
    if len(f) == 3 and f[0] == "kill_worker_once" and f[1] == stage and _first_to_arrive(f[2]):
        os._exit(17)  # a hard worker death, as if the node lost the process


def maybe_kill_mid_shard() -> None:
    """`kill_writer_mid_shard:<marker>`: the first writer to get here dies with its temporary shard
    half written (the task is retried elsewhere; the temporary file is an orphan)."""
    f = fault()
    if len(f) == 2 and f[0] == "kill_writer_mid_shard" and _first_to_arrive(f[1]):
        os._exit(17)


def maybe_pause_writer(shard: str = "") -> None:
    """`pause_writer:<marker>`: the first shard writer to get here creates <marker>, writes its
    shard's path there (so a test can tell its temporary file from the other writers', which go on
    and rename theirs), then waits, its temporary shard open, until <marker>.release exists (at
    most 10 minutes)."""
    import time

    f = fault()
    if len(f) == 2 and f[0] == "pause_writer" and _first_to_arrive(f[1]):
        Path(f[1] + ".shard").write_text(shard)
        deadline = time.monotonic() + 600
        while not Path(f[1] + ".release").exists() and time.monotonic() < deadline:
            time.sleep(0.1)


def maybe_fail_after_shards(journal: Path) -> None:
    f = fault()
    if len(f) == 2 and f[0] == "fail_after_shards" and journal_count(journal) >= int(f[1]):
        raise InjectedFault(f"injected failure after {f[1]} committed shards")


def maybe_fail_before_manifest() -> None:
    if fault() == ["fail_before_manifest"]:
        raise InjectedFault("injected failure after the shards and the report, before the manifest")


def rename_hook(shard: str):
    f = fault()
    if len(f) == 2 and f[0] == "fail_rename" and f[1] == shard:
        def fail(tmp):
            raise OSError(5, f"injected failure renaming {tmp}")

        return fail
    return None
