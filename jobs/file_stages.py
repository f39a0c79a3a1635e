"""The per-file stages: read → probe → filter → grounding, one Ray task per source file for the read
and one per *group* of files for the row stages, each group's result checkpointed on its own.

1. **Groups.** Small files are staged together with their neighbours (`file_groups`): a row stage
   pays a fixed cost per batch (the filter's ~15 ms, mostly RE2 patterns compiled again at every
   Arrow call) that a file of a few hundred rows would pay per file. A file of `GROUP_BYTES` or more
   stands alone; smaller ones of one source gather into groups of about `GROUP_BYTES` (at most
   `MAX_GROUP_BYTES`), whose ends are set by a hash of each file's name and its size
   (content-defined), so that a changed, added or removed file changes its own group, the one
   before it, and the groups after it only up to the next end set by a draw (the next group,
   unless a run of small files was cut at `MAX_GROUP_BYTES`: such a cut moves with the bytes
   before it). A group's rows are its files' rows one after
   another, so grouping changes no row, no order and no output byte. (Fewer, larger tasks: a job
   of less than GROUP_BYTES per CPU of small files runs on fewer CPUs than it has.)
2. **Reuse.** A group whose checkpoint exists under `OUT/.vlpack/files/<key>.parquet` is loaded, not
   recomputed. A lone file's key (`file_key`) hashes the file's fingerprint (`jobs.inputs`) and what
   the per-file stages read (`jobs.stage_keys`: the file's own source, `read`, `tasks`, `probe`,
   `filters` but its scorers, `grounding`, and the stages' version); a group's hashes its files'
   keys. When one file of a source changes, only the files of its group are read again.
3. **Read** every file of the other groups (one task each).
4. **Unique ids.** Before any row stage runs, the sample ids of every file, read or reused, are
   checked across files: a hash-partitioned Ray Data groupby brings each id's occurrences together,
   and only the repeated ids reach the driver. A repeated id fails the job in seconds, naming the
   id and its files. (Ids repeated inside one file are `read.duplicate_id` rows, see readers.)
5. **Row stages** on each group's rows (one task each), which then commits the group's checkpoint
   (with its files' row counts, so that a reused group splits back into its files).

The driver holds a few object references per group, never rows.
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
from jobs.stage_keys import STAGES, fingerprint, fingerprints
from schemas.config import JobConfig, SourceConfig

MAX_ID_PARTITIONS = 64

# Files of at least GROUP_BYTES are staged alone; smaller ones in groups of about that many input
# bytes (a file counts as MIN_FILE_BYTES at least), never more than MAX_GROUP_BYTES (see the module
# docstring). 8 MiB of JSONL or Parquet metadata is some 20k-80k rows, where the filter's fixed
# cost per batch is a few percent of its time.
GROUP_BYTES = 8 << 20
MAX_GROUP_BYTES = 4 * GROUP_BYTES
MIN_FILE_BYTES = 4 << 10


class DuplicateIdError(RuntimeError):
    """A sample id occurs in more than one file of a source; the message names ids and files."""


def file_keys(cfg: JobConfig, files: list[InputFile]) -> list[str]:
    """The checkpoint key of each file's per-file stages: the file's fingerprint and what those
    stages read (`jobs.stage_keys`, stage "files"; made once per source)."""
    at: dict[str, list[int]] = {s.name: [] for s in cfg.sources}
    for i, f in enumerate(files):
        at[f.source].append(i)  # (a file of a source the config lacks: KeyError)
    keys: list[str] = [""] * len(files)
    for source in cfg.sources:
        made = fingerprints("files", STAGES["files"].reads(cfg, source),
                            [[files[i].path, files[i].rel, files[i].digest] for i in at[source.name]])
        for i, key in zip(at[source.name], made):
            keys[i] = key
    return keys


def file_key(cfg: JobConfig, f: InputFile) -> str:
    return file_keys(cfg, [f])[0]


@dataclass(frozen=True)
class FileGroup:
    """Files whose row stages run as one task, and the key of their checkpoint."""

    members: tuple[int, ...]  # indices into the job's files, in order
    key: str


def _ends_group(f: InputFile) -> bool:
    """Whether a group ends after `f` by its own draw: with probability size / GROUP_BYTES, from a
    hash of its source and name, so that groups hold about GROUP_BYTES and their ends move only
    where files change."""
    draw = xxhash.xxh3_64_intdigest(f"{f.source}\0{f.rel}".encode()) / 2.0**64
    return draw < max(f.size, MIN_FILE_BYTES) / GROUP_BYTES


def file_groups(cfg: JobConfig, files: list[InputFile], keys: list[str] | None = None) -> list[FileGroup]:
    """The job's files in groups for the row stages (see the module docstring), in file order: a
    group holds files of one source, a file of GROUP_BYTES or more is a group of its own (keyed
    by its `file_key`), and a group ends by its last file's draw (`_ends_group`) or before it
    would pass MAX_GROUP_BYTES. `keys`: the files' `file_keys`, when the caller has them."""
    keys = file_keys(cfg, files) if keys is None else keys
    groups: list[FileGroup] = []
    members: list[int] = []
    size = 0

    def close() -> None:
        nonlocal members, size
        if members:
            key = keys[members[0]] if len(members) == 1 else fingerprint(
                "files", {"group": len(members)}, [keys[i] for i in members])
            groups.append(FileGroup(tuple(members), key))
        members, size = [], 0

    for i, f in enumerate(files):
        weight = max(f.size, MIN_FILE_BYTES)
        if members and (files[members[-1]].source != f.source or f.size >= GROUP_BYTES
                        or size + weight > MAX_GROUP_BYTES):
            close()
        members.append(i)
        size += weight
        if f.size >= GROUP_BYTES or _ends_group(f):
            close()
    close()
    return groups


@dataclass
class FileRows:
    """The rows of every file after the per-file stages, as object references (one per computed
    group, one per file of a reused group), in file order; `reused` and `computed` count files."""

    refs: list
    reused: int = 0
    computed: int = 0
    groups: list[FileGroup] = field(default_factory=list)


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


def stage_files(cfg: JobConfig, checkpoint: str, *tables: pa.Table) -> pa.Table:
    """probe → filter → grounding over the rows of a group's files (one after another), then the
    group's checkpoint, which records each file's row count."""
    from jobs.stage_cache import commit_file_result

    table = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
    for name, fn in stages.stage_plan(cfg):
        table = stages.run_stage(table, name, fn)
    commit_file_result(checkpoint, table, reads=STAGES["files"].reads(cfg),
                       rows=[t.num_rows for t in tables] if len(tables) > 1 else None)
    return table


def load_checkpoint(path: str) -> pa.Table:
    return pq.read_table(path)


def load_group_checkpoint(path: str, rows: list[int]) -> tuple[pa.Table, ...]:
    """A group's checkpoint, split back into its files' rows (`rows`: each file's count)."""
    table = pq.read_table(path)
    starts = np.concatenate([[0], np.cumsum(rows)])
    return tuple(table.slice(int(a), int(b - a)) for a, b in zip(starts[:-1], starts[1:]))


# ---- driver -----------------------------------------------------------------------------------------


def group_rows(cache, g: FileGroup, path) -> list[int] | None:
    """The row count of each file of a multi-file group's checkpoint at `path`, when its sidecar
    holds one per file and they add up to the checkpoint's rows; else None (the group is computed
    again)."""
    rows = cache.file_rows(path)
    return rows if rows is not None and len(rows) == len(g.members) else None


def reusable(cache, g: FileGroup) -> bool:
    """A group's checkpoint exists, its sidecar's checksum is there and, for several files, its row
    counts split it (`group_rows`). (Whether the checksum holds is checked when it is loaded.)"""
    path = cache.file_result(g.key)
    return path is not None and (len(g.members) == 1 or group_rows(cache, g, path) is not None)


def per_file_rows(cfg: JobConfig, files: list[InputFile], cache, *, keys: list[str] | None = None,
                  check_ids: bool = True) -> FileRows:
    """Every file's rows after the per-file stages, reused from `cache` (a `jobs.stage_cache.
    StageCache`) or computed, group by group (see the module docstring). Raises `DuplicateIdError`
    before any row stage runs if an id repeats across files. `keys`: the files' `file_keys`, when
    the caller has them."""
    import ray

    (cache.root / FILES_DIR).mkdir(parents=True, exist_ok=True)
    sources = {s.name: s for s in cfg.sources}
    groups = file_groups(cfg, files, keys)
    paths = [cache.file_path(g.key) for g in groups]
    cached = [p for p in (cache.file_result(g.key) for g in groups) if p is not None]
    damaged = set(cache.check_files(cached))
    cached_set = set(cached) - damaged
    cfg_ref = ray.put(cfg)
    read_task = ray.remote(scheduling_strategy="SPREAD")(read_one_file)
    load_task = ray.remote(scheduling_strategy="SPREAD")(load_checkpoint)
    split_task = ray.remote(scheduling_strategy="SPREAD")(load_group_checkpoint)
    refs: list = [None] * len(files)  # per file: its rows as read, or as a reused group left them
    todo = []
    for gi, (g, path) in enumerate(zip(groups, paths)):
        rows = group_rows(cache, g, path) if path in cached_set and len(g.members) > 1 else None
        if path in cached_set and len(g.members) == 1:
            refs[g.members[0]] = load_task.remote(str(path))
        elif rows is not None:
            for i, ref in zip(g.members, split_task.options(num_returns=len(rows)).remote(str(path), rows)):
                refs[i] = ref
        else:
            for i in g.members:
                refs[i] = read_task.remote(files[i], sources[files[i].source], cfg_ref)
            todo.append(gi)
    if check_ids:
        check_unique_ids(refs, files)
    stage_task = ray.remote(scheduling_strategy="SPREAD")(stage_files)
    out, todo_set = [], set(todo)
    for gi, (g, path) in enumerate(zip(groups, paths)):
        if gi in todo_set:
            out.append(stage_task.remote(cfg_ref, str(path), *[refs[i] for i in g.members]))
        else:
            out.extend(refs[i] for i in g.members)
        cache.touch(path)
    computed = sum(len(groups[gi].members) for gi in todo)
    return FileRows(refs=out, reused=len(files) - computed, computed=computed, groups=groups)


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
