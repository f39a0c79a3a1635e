"""The per-file stages: read → probe → filter → grounding, one Ray task per source file, each
file's result checkpointed on its own.

1. **Reuse.** A file whose checkpoint exists under `OUT/.vlpack/files/<key>.parquet` is loaded, not
   recomputed. The key (`file_key`) hashes the file's fingerprint (`jobs.inputs`) and what the
   per-file stages read (`jobs.stage_keys`: the file's own source, `read`, `tasks`, `probe`,
   `filters` but its scorers, `grounding`, and the stages' version): when one file of a source
   changes, only that file is read again.
2. **Read** every other file (one task each).
3. **Unique ids.** Before any row stage runs, the sample ids of every file, read or reused, are
   checked across files: a hash-partitioned Ray Data groupby brings each id's occurrences together,
   and only the repeated ids reach the driver. A repeated id fails the job in seconds, naming the
   id and its files. (Ids repeated inside one file are `read.duplicate_id` rows, see readers.)
4. **Row stages** on each read file (one task each), which then commits the file's checkpoint.

The driver holds one object reference per file, never rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xxhash

from jobs import stages
from jobs.inputs import InputFile
from jobs.readers import mark_unknown_tasks, read_source_file
from jobs.stage_cache import FILES_DIR
from jobs.stage_keys import STAGES, fingerprint
from schemas.config import JobConfig, SourceConfig

MAX_ID_PARTITIONS = 64


class DuplicateIdError(RuntimeError):
    """A sample id occurs in more than one file of a source; the message names ids and files."""


def file_key(cfg: JobConfig, f: InputFile) -> str:
    """The checkpoint key of one file's per-file stages: the file's fingerprint and what those
    stages read (`jobs.stage_keys`, stage "files")."""
    source = next(s for s in cfg.sources if s.name == f.source)
    return fingerprint("files", STAGES["files"].reads(cfg, source), [f.path, f.rel, f.digest])


@dataclass
class FileRows:
    """The rows of every file after the per-file stages, as object references (one per file)."""

    refs: list
    reused: int = 0
    computed: int = 0
    keys: list[str] = field(default_factory=list)


# ---- task bodies (run in Ray workers) ---------------------------------------------------------------


def read_rows(path: str, source: SourceConfig, cfg: JobConfig) -> tuple[pa.Table, dict]:
    """What the `read` stage makes of one file: its rows, tasks checked, and its counters."""
    table = read_source_file(path, source, cfg.read)
    table, unknown = mark_unknown_tasks(table, cfg.task_names())
    return table, {"read.files": 1, "read.rows": table.num_rows, "read.unknown_task": unknown}


def read_one_file(f: InputFile, source: SourceConfig, cfg: JobConfig) -> pa.Table:
    """The `read` stage over one file, with its counters (`jobs.stages.run_stage`)."""
    return stages.run_stage(pa.table({"path": [f.path]}), "read", lambda _batch: read_rows(f.path, source, cfg))


def file_ids(table: pa.Table, index: int) -> pa.Table:
    """(sample_id, file index, partition) of a file's rows: what the unique-id check shuffles."""
    ids = table.column("sample_id")
    keys = np.fromiter((xxhash.xxh3_64_intdigest(s.encode()) for s in ids.to_pylist()), dtype=np.uint64,
                       count=len(ids))
    return pa.table({"sample_id": ids, "file": pa.array(np.full(len(ids), index, np.int32)),
                     "part": pa.array((keys % MAX_ID_PARTITIONS).astype(np.int32))})


def repeated_ids(group: pa.Table) -> pa.Table:
    """The rows of one id partition whose sample_id occurs more than once."""
    counts = pc.value_counts(group.column("sample_id"))
    repeated = counts.field("values").filter(pc.greater(counts.field("counts"), 1))
    return group.filter(pc.is_in(group.column("sample_id"), value_set=repeated)).select(["sample_id", "file"])


def stage_one_file(table: pa.Table, cfg: JobConfig, checkpoint: str) -> pa.Table:
    """probe → filter → grounding over one file's rows, then the file's checkpoint."""
    from jobs.stage_cache import commit_file_result

    for name, fn in stages.stage_plan(cfg):
        table = stages.run_stage(table, name, fn)
    commit_file_result(checkpoint, table, reads=STAGES["files"].reads(cfg))
    return table


def load_checkpoint(path: str) -> pa.Table:
    return pq.read_table(path)


# ---- driver -----------------------------------------------------------------------------------------


def per_file_rows(cfg: JobConfig, files: list[InputFile], cache, *, check_ids: bool = True) -> FileRows:
    """Every file's rows after the per-file stages, reused from `cache` (a `jobs.stage_cache.
    StageCache`) or computed (see the module docstring). Raises `DuplicateIdError` before any row
    stage runs if an id repeats across files."""
    import ray

    (cache.root / FILES_DIR).mkdir(parents=True, exist_ok=True)
    sources = {s.name: s for s in cfg.sources}
    keys = [file_key(cfg, f) for f in files]
    paths = [cache.file_path(k) for k in keys]
    cached = [p for p in (cache.file_result(k) for k in keys) if p is not None]
    damaged = set(cache.check_files(cached))
    cached_set = set(cached) - damaged
    cfg_ref = ray.put(cfg)
    read_task = ray.remote(scheduling_strategy="SPREAD")(read_one_file)
    load_task = ray.remote(scheduling_strategy="SPREAD")(load_checkpoint)
    refs, todo = [], []
    for i, (f, path) in enumerate(zip(files, paths)):
        if path in cached_set:
            refs.append(load_task.remote(str(path)))
        else:
            refs.append(read_task.remote(f, sources[f.source], cfg_ref))
            todo.append(i)
    if check_ids:
        check_unique_ids(refs, files)
    stage_task = ray.remote(scheduling_strategy="SPREAD")(stage_one_file)
    for i in todo:
        refs[i] = stage_task.remote(refs[i], cfg_ref, str(paths[i]))
        cache.touch(paths[i])
    return FileRows(refs=refs, reused=len(files) - len(todo), computed=len(todo), keys=keys)


# Up to this many input bytes, the ids' hashes of every file meet in one task (8 bytes a row);
# beyond it, a hash-partitioned Ray Data groupby spreads them over the cluster.
ONE_TASK_ID_CHECK_BYTES = 4 << 30


def id_hashes(table: pa.Table) -> np.ndarray:
    """The sorted 64-bit hashes of a file's sample ids."""
    return np.sort(np.fromiter((xxhash.xxh3_64_intdigest(s.encode()) for s in table.column("sample_id").to_pylist()),
                               dtype=np.uint64, count=table.num_rows))


def repeated_hashes(*per_file: np.ndarray) -> np.ndarray:
    """The hashes that occur in more than one file (each file's are already distinct)."""
    if not per_file:
        return np.zeros(0, np.uint64)
    every = np.sort(np.concatenate(per_file))
    return np.unique(every[1:][every[1:] == every[:-1]])


def ids_with_hashes(table: pa.Table, index: int, hashes: np.ndarray) -> pa.Table:
    """(sample_id, file) of a file's rows whose id hash is among `hashes`."""
    keys = np.fromiter((xxhash.xxh3_64_intdigest(s.encode()) for s in table.column("sample_id").to_pylist()),
                       dtype=np.uint64, count=table.num_rows)
    hit = np.isin(keys, hashes)
    return pa.table({"sample_id": table.column("sample_id").filter(pa.array(hit)),
                     "file": pa.array(np.full(int(hit.sum()), index, np.int32))})


def check_unique_ids(refs: list, files: list[InputFile]) -> None:
    """Fail, naming ids and files, if a sample id occurs in more than one file."""
    import ray

    from jobs.dedup_stage import _gather
    from jobs.shuffle import grouped_by

    if len(refs) < 2:
        return  # ids inside one file are made unique by its reader
    schema = pa.schema([("sample_id", pa.string()), ("file", pa.int32())])
    if sum(f.size for f in files) <= ONE_TASK_ID_CHECK_BYTES:
        hash_task = ray.remote(scheduling_strategy="SPREAD")(id_hashes)
        hashes = ray.get(ray.remote(repeated_hashes).remote(*[hash_task.remote(r) for r in refs]))
        if not hashes.size:
            return
        pick = ray.remote(ids_with_hashes)
        found = pa.concat_tables(ray.get([pick.remote(r, i, hashes) for i, r in enumerate(refs)])).cast(schema)
        counts = pc.value_counts(found.column("sample_id"))
        really = counts.field("values").filter(pc.greater(counts.field("counts"), 1))  # not a 64-bit collision
        found = found.filter(pc.is_in(found.column("sample_id"), value_set=really))
    else:
        id_task = ray.remote(scheduling_strategy="SPREAD")(file_ids)
        ids = ray.data.from_arrow_refs([id_task.remote(r, i) for i, r in enumerate(refs)])
        found = _gather(grouped_by(ids, "part", min(MAX_ID_PARTITIONS, len(refs)))
                        .map_groups(repeated_ids, batch_format="pyarrow"), schema)
    if not found.num_rows:
        return
    found = found.sort_by([("sample_id", "ascending"), ("file", "ascending")])
    where: dict[str, list[str]] = {}
    for sid, fi in zip(found.column("sample_id").to_pylist(), found.column("file").to_pylist()):
        where.setdefault(sid, []).append(files[fi].rel)
    first, first_files = next(iter(where.items()))
    source = files[found.column("file")[0].as_py()].source
    more = f" (and {len(where) - 1} more repeated ids, e.g. {list(where)[1:4]})" if len(where) > 1 else ""
    raise DuplicateIdError(
        f"source {source!r}: sample id {first!r} occurs in {len(first_files)} files ({', '.join(first_files[:4])})"
        f"{more}; sample ids must be unique within a source: fix the ids, or split the files into sources")
