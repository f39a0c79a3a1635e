"""Cached stage results, keyed by stage fingerprint (`jobs.stage_keys`), reused across runs and,
with `cache.dir`, across outputs.

    CACHE/files/<key>.parquet          one source file after read → probe → filter → grounding
    CACHE/<stage>/<key>/part-*.parquet the rows after `score`, `dedup` or `tokens`
    CACHE/<stage>/<key>/_ENTRY.json    written last: stage, key, what it read, its files' sha256

CACHE is `cache.dir`, or OUT/.vlpack/cache. Parts are written by the Ray tasks that hold the rows,
named by their content hash, each committed atomically; the entry file commits the entry. A part
that fails its checksum makes the entry invalid: it is removed, a warning names it, and the stage
runs again. Entries not used for longest are evicted first when the cache is over `cache.max_bytes`;
the entries a run uses are never evicted by it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import contextlib

log = logging.getLogger("vlpack")
ENTRY = "_ENTRY.json"
FILES_DIR = "files"
PART_SCHEMA = pa.schema([("name", pa.string()), ("sha256", pa.string()), ("bytes", pa.int64()), ("rows", pa.int64())])


def write_part(batch: pa.Table, folder: str) -> pa.Table:
    """Write one block as a Parquet part named by its content; one row describing it."""
    from packer.shards import commit_file

    sink = pa.BufferOutputStream()
    pq.write_table(batch, sink, compression="zstd")
    data = sink.getvalue().to_pybytes()
    digest = hashlib.sha256(data).hexdigest()
    name = f"part-{digest[:20]}.parquet"
    commit_file(Path(folder) / name, data)
    return pa.table({"name": [name], "sha256": [digest], "bytes": [len(data)], "rows": [batch.num_rows]},
                    schema=PART_SCHEMA)


def _sha256(path: str) -> str:
    from packer.shards import file_sha256

    try:
        return file_sha256(path)
    except OSError:
        return ""


def damaged(files: list[tuple[str, str]]) -> list[str]:
    """The paths whose sha256 is not the recorded one (or that are missing), hashed by Ray tasks."""
    import ray

    if not files:
        return []
    task = ray.remote(num_cpus=0.5, scheduling_strategy="SPREAD")(_sha256) if ray.is_initialized() else None
    digests = ray.get([task.remote(p) for p, _ in files]) if task else [_sha256(p) for p, _ in files]
    return [p for (p, want), got in zip(files, digests) if got != want]


def commit_file_result(path: str, table: pa.Table, reads: dict | None = None, rows: list[int] | None = None) -> None:
    """A per-file result (of one file or a group of files) and, after it, its sidecar (the commit
    marker) with its sha256, what the per-file stages read (for `vlpack plan` to say what changed)
    and, for a group, each of its files' row count (`rows`)."""
    from packer.shards import commit_file

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    data = sink.getvalue().to_pybytes()
    commit_file(Path(path), data)
    side = {"sha256": hashlib.sha256(data).hexdigest(), "reads": reads or {}}
    if rows is not None:
        side["rows"] = [int(n) for n in rows]
    commit_file(Path(path).with_suffix(".json"), json.dumps(side, sort_keys=True).encode())


class StageCache:
    def __init__(self, root: str | os.PathLike, max_bytes: int) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.used: set[Path] = set()

    def entry_dir(self, stage: str, key: str) -> Path:
        return self.root / stage / key

    def file_path(self, key: str) -> Path:
        return self.root / FILES_DIR / f"{key}.parquet"

    def info(self, stage: str, key: str) -> dict | None:
        path = self.entry_dir(stage, key) / ENTRY
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return None

    def load(self, stage: str, key: str) -> tuple[list[str], dict] | None:
        """The entry's part paths and info if it is whole and every part has its checksum (checked
        by Ray tasks, in parallel); an entry that fails is removed, with a warning naming it, and
        None returned."""
        info = self.info(stage, key)
        if info is None:
            return None
        folder = self.entry_dir(stage, key)
        bad = damaged([(str(folder / n), d) for n, d in info["files"].items()])
        if bad:
            log.warning("cache entry %s is damaged (%s fails its checksum); computing the %s stage again",
                        folder, Path(bad[0]).name, stage)
            shutil.rmtree(folder, ignore_errors=True)
            return None
        self.touch(folder)
        return [str(folder / n) for n in sorted(info["files"])], info

    def file_result(self, key: str) -> Path | None:
        """A per-file result whose checksum (its sidecar) holds, else None (a damaged one is removed,
        with a warning naming it)."""
        path = self.file_path(key)
        side = path.with_suffix(".json")
        try:
            digest = json.loads(side.read_text())["sha256"]
        except (OSError, ValueError, KeyError):
            return None
        if not path.is_file():
            return None
        self.touch(path)
        return path if digest else None

    def file_rows(self, path: Path) -> list[int] | None:
        """The row count of each file of a group's result (its sidecar), when they add up to the
        result's rows (its Parquet footer); None if not a group's, unreadable or not adding up."""
        try:
            rows = json.loads(path.with_suffix(".json").read_text()).get("rows")
            if not isinstance(rows, list):
                return None
            rows = [int(n) for n in rows]
            if min(rows, default=0) < 0 or sum(rows) != pq.read_metadata(path).num_rows:
                return None
        except (OSError, ValueError, TypeError, AttributeError, pa.ArrowException):
            return None
        return rows

    def check_files(self, paths: list[Path]) -> list[Path]:
        """The per-file results among `paths` that fail their checksum: removed, with a warning."""
        pairs = [(str(p), json.loads(p.with_suffix(".json").read_text())["sha256"]) for p in paths]
        bad = [Path(p) for p in damaged(pairs)]
        for p in bad:
            log.warning("cached per-file result %s fails its checksum; reading its source file again", p)
            p.unlink(missing_ok=True)
            p.with_suffix(".json").unlink(missing_ok=True)
        return bad

    def save(self, stage: str, key: str, ds, meta: dict) -> None:
        """Write `ds` (a Ray Dataset) as the entry's parts, from the tasks that hold its blocks,
        then commit the entry."""
        import ray

        from packer.shards import commit_file

        folder = self.entry_dir(stage, key)
        folder.mkdir(parents=True, exist_ok=True)
        started = time.time()
        parts = ray.get(ds.map_batches(write_part, fn_kwargs={"folder": str(folder)}, batch_format="pyarrow",
                                       batch_size=None).to_arrow_refs())
        files = {}
        total = rows = 0
        for t in parts:
            for r in t.to_pylist():
                files[r["name"]] = r["sha256"]
                total += r["bytes"]
                rows += r["rows"]
        info = {"stage": stage, "key": key, "files": dict(sorted(files.items())), "bytes": total, "rows": rows, **meta}
        commit_file(folder / ENTRY, json.dumps(info, sort_keys=True, default=str).encode())
        # Parts of an earlier save of this key (`--force`, other block boundaries) that the entry no
        # longer lists would stay on disk for ever. A concurrent save of the same key into a shared
        # cache that began earlier may lose parts this way: its entry then fails its checksum and is
        # recomputed with a warning, never read wrong.
        for stale in folder.glob("part-*.parquet"):
            with contextlib.suppress(OSError):
                if stale.name not in files and stale.stat().st_mtime < started:
                    stale.unlink()
        self.touch(folder)

    def touch(self, path: Path) -> None:
        """Mark as used now (LRU order) and as used by this run (never evicted by it)."""
        self.used.add(Path(path))
        stamp = path / ENTRY if path.is_dir() else path
        with contextlib.suppress(OSError):
            os.utime(stamp)

    def latest_file_reads(self) -> dict | None:
        """What the most recently written per-file result read (its sidecar)."""
        folder = self.root / FILES_DIR
        sides = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True) if folder.is_dir() else []
        for side in sides:
            try:
                return json.loads(side.read_text()).get("reads")
            except (OSError, ValueError):
                continue
        return None

    def latest(self, stage: str) -> dict | None:
        """The info of the most recently used entry of `stage` (to say what changed since)."""
        folder = self.root / stage
        entries = sorted(folder.glob(f"*/{ENTRY}"), key=lambda p: p.stat().st_mtime, reverse=True) \
            if folder.is_dir() else []
        for e in entries:
            try:
                return json.loads(e.read_text())
            except (OSError, ValueError):
                continue
        return None

    def entries(self) -> list[tuple[float, int, Path]]:
        """(last used, bytes, path) of every entry and per-file result."""
        out = []
        if not self.root.is_dir():
            return out
        for stage_dir in self.root.iterdir():
            if not stage_dir.is_dir():
                continue
            if stage_dir.name == FILES_DIR:
                for f in stage_dir.glob("*.parquet"):
                    st = f.stat()
                    out.append((st.st_mtime, st.st_size, f))
                continue
            if stage_dir.name.startswith("."):
                continue
            for entry in stage_dir.iterdir():
                marker = entry / ENTRY
                if not entry.is_dir():
                    continue
                size = sum(p.stat().st_size for p in entry.glob("*") if p.is_file())
                last = marker.stat().st_mtime if marker.exists() else 0.0  # unfinished: oldest
                out.append((last, size, entry))
        return out

    def evict(self) -> list[Path]:
        """Remove the least recently used entries until the cache fits `max_bytes`; never one this
        run used. Returns what was removed."""
        entries = sorted(self.entries())
        total = sum(size for _, size, _ in entries)
        removed = []
        for _, size, path in entries:
            if total <= self.max_bytes:
                break
            if path in self.used:
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
                path.with_suffix(".json").unlink(missing_ok=True)
            total -= size
            removed.append(path)
        if removed:
            log.info("cache over %d bytes: removed %d entries used least recently", self.max_bytes, len(removed))
        return removed
