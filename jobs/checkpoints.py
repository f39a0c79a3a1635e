"""Crash-safe, resumable runs: stage checkpoints and the shard journal, keyed by config fingerprint.

OUT/.vlpack/<fingerprint>/rows/       the processed table (after tokens and mix), parquet + _SUCCESS
OUT/.vlpack/<fingerprint>/plan/       packs, ledger and assignment of the pack plan + _SUCCESS
OUT/.vlpack/<fingerprint>/journal/    one JSON file per committed shard: path, sha256, bytes, packs

A rerun with the same config skips every stage whose checkpoint is complete and keeps every shard
whose journal entry matches the file on disk; the rest is redone. A different config has a
different fingerprint, so it never sees these intermediates. Everything is written with the
temp-name-then-rename commit of `packer.shards.commit_file`.

Fault injection (tests only), through the environment variable VLPACK_FAULT:
- ``kill_worker_once:<stage>:<marker file>``  the first task of <stage> kills its worker process
- ``fail_after_shards:<n>``                    the writer raises after <n> shards are journaled
- ``fail_rename:<shard path>``                 the commit of that shard fails just before the rename
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


def journal_count(journal: Path) -> int:
    return len(list(journal.glob("*.json"))) if journal.is_dir() else 0


# ---- fault injection ------------------------------------------------------------------------------


def fault() -> list[str]:
    spec = os.environ.get("VLPACK_FAULT", "")
    return spec.split(":") if spec else []


def maybe_kill_worker(stage: str) -> None:
    f = fault()
    if len(f) == 3 and f[0] == "kill_worker_once" and f[1] == stage:
        marker = Path(f[2])
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return
        os.close(fd)
        os._exit(17)  # a hard worker death, as if the node lost the process


def maybe_fail_after_shards(journal: Path) -> None:
    f = fault()
    if len(f) == 2 and f[0] == "fail_after_shards" and journal_count(journal) >= int(f[1]):
        raise InjectedFault(f"injected failure after {f[1]} committed shards")


def rename_hook(shard: str):
    f = fault()
    if len(f) == 2 and f[0] == "fail_rename" and f[1] == shard:
        def fail(tmp):
            raise OSError(5, f"injected failure renaming {tmp}")

        return fail
    return None
