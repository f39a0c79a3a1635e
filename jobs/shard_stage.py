"""The write stage: bring each row to the packs it belongs to, regroup by shard, write each shard.

The plan's assignment (`jobs.planning.ASSIGN_SCHEMA`: one row per sample occurrence in a pack, one
per padding filler) and the processed rows meet in a hash join on disk (`jobs.spool`):
- before planning, `spool_rows` writes what writing needs of each row (its payload) to Parquet
  files keyed by a hash of (sample_id, copy), so the object store need not keep the rows through
  planning and the write;
- `write_shards` spools the assignment by the same key, joins each key range in one task
  (`join_bucket`, which attaches each occurrence's sample and keys the result by shard), and
  writes each shard range in one task (`write_bucket`: each shard's packs in pack order, then the
  tar is committed).
Nothing is broadcast and nothing passes through the driver, which holds file paths: every process
holds one key range or one range of shards. The payload is written to disk twice, compressed
(rows, then joined), instead of living in the object store as several uncompressed copies.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from jobs.planning import ASSIGN_SCHEMA
from jobs.shuffle import MAX_PARTITIONS, partitions_for
from jobs.spool import PARTITION, read_partition, spool_partitioned
from packer.chat import expand_pack
from packer.materialize import PlanMismatchError, materialize_pack
from packer.shards import write_shard
from schemas.sample import RENDERED_FIELD, WORK_SCHEMA

# What writing a sample needs of its row: its rendering as the token stage kept it, and its media.
PAYLOAD_FIELDS = [*[WORK_SCHEMA.field(n) for n in ("source", "task", "media", "total_tokens")], RENDERED_FIELD]
PAYLOAD = [f.name for f in PAYLOAD_FIELDS]
ROW_SCHEMA = pa.schema([WORK_SCHEMA.field("sample_id"), WORK_SCHEMA.field("copy"), *PAYLOAD_FIELDS])
JOINED_SCHEMA = pa.schema([*ASSIGN_SCHEMA, *PAYLOAD_FIELDS])
# Columns the rows keep in the object store once their payload is spooled (planning reads none of these).
SPOOLED_ONLY = ["turns", "media", RENDERED_FIELD.name]
ROWS_PER_JOIN_PART = 100_000
ROWS_PER_SPOOL_FILE = 500_000  # rows one spooling task writes into one file, about


@dataclass
class RowSpool:
    """The processed rows' payload on disk: `paths` (spool files, keyed by join bucket) under `root`."""

    root: str
    paths: list[str]
    n_parts: int
    n_rows: int


def spool_rows(rows, root: Path) -> RowSpool:
    """Write the payload of every processed row (the materialized dataset `rows`) to spool files
    under `root` (emptied first), keyed by join bucket: one task per run of blocks of about
    ROWS_PER_SPOOL_FILE rows."""
    import ray

    root = Path(root)
    shutil.rmtree(root, ignore_errors=True)
    (root / "rows").mkdir(parents=True)
    n_rows = rows.count()
    n_parts = partitions_for(n_rows, ROWS_PER_JOIN_PART)
    blocks = rows.to_arrow_refs()
    per_task = max(1, round(ROWS_PER_SPOOL_FILE * len(blocks) / max(1, n_rows)))
    task = ray.remote(scheduling_strategy="SPREAD")(_spool_row_blocks)
    paths = ray.get([task.remote(str(root / "rows" / f"part-{i:05d}.parquet"), n_parts, *blocks[a:a + per_task])
                     for i, a in enumerate(range(0, len(blocks), per_task))])
    return RowSpool(root=str(root), paths=paths, n_parts=n_parts, n_rows=n_rows)


def planning_rows(rows):
    """The processed rows without what only the writer reads (already spooled), materialized."""
    return rows.drop_columns([c for c in SPOOLED_ONLY if c in rows.schema().names]).materialize()


def _spool_row_blocks(path: str, n_parts: int, *blocks: pa.Table) -> str:
    table = pa.concat_tables([b.select(ROW_SCHEMA.names).cast(ROW_SCHEMA) for b in blocks])
    table = table.append_column(PARTITION, _parts(table.column("sample_id"), table.column("copy"), None, n_parts))
    return spool_partitioned(path, table)


def _parts(sample_ids: pa.Array, copies: pa.Array, fallback: pa.Array | None, n_parts: int) -> pa.Array:
    keys = [xxhash.xxh3_64_intdigest(f"{s}\x00{c}".encode()) if s is not None else xxhash.xxh3_64_intdigest(
        f"filler\x00{f}".encode()) for s, c, f in zip(sample_ids.to_pylist(), copies.to_pylist(),
                                                       fallback.to_pylist() if fallback is not None
                                                       else [None] * len(sample_ids))]
    return pa.array((np.asarray(keys, dtype=np.uint64) % np.uint64(n_parts)).astype(np.int32))


def _spool_assign_part(path: str, part_path: str, n_parts: int, skip_shards: list) -> str:
    """One assignment part (rows of shards not yet written) into a spool file keyed by join bucket."""
    import pyarrow.parquet as pq

    batch = pq.read_table(part_path).cast(ASSIGN_SCHEMA)
    if skip_shards:
        batch = batch.filter(pc.invert(pc.is_in(batch.column("shard"), value_set=pa.array(skip_shards, pa.string()))))
    batch = batch.append_column(PARTITION, _parts(batch.column("sample_id"), batch.column("copy"),
                                                  batch.column("pack_id"), n_parts))
    return spool_partitioned(path, batch)


def join_bucket(assign: pa.Table, rows: pa.Table) -> pa.Table:
    """One key range: every assignment row with its sample's payload attached (none for fillers),
    in JOINED_SCHEMA. Rows that belong to no pack are left out."""
    left = pa.table({"sample_id": assign.column("sample_id"), "copy": assign.column("copy"),
                     "_i": pa.array(np.arange(assign.num_rows, dtype=np.int64))})
    right = pa.table({"sample_id": rows.column("sample_id"), "copy": rows.column("copy"),
                      "_j": pa.array(np.arange(rows.num_rows, dtype=np.int64))})
    matched = left.join(right, keys=["sample_id", "copy"], join_type="left outer").sort_by("_i")
    j = matched.column("_j")
    missing = pc.and_(pc.is_null(j), pc.is_valid(matched.column("sample_id")))
    if pc.any(missing).as_py():
        ids = matched.column("sample_id").filter(missing)[:3].to_pylist()
        raise RuntimeError(f"the plan places samples that are not among the processed rows, e.g. {ids}")
    out = assign.select(ASSIGN_SCHEMA.names)
    payload = rows.select(PAYLOAD).take(j)
    for f in PAYLOAD_FIELDS:
        out = out.append_column(f, payload.column(f.name))
    return out


def shard_bucket(shards: pa.Array, n_buckets: int) -> pa.Array:
    """The write task (of `n_buckets`) that writes each shard."""
    keys = np.fromiter((xxhash.xxh3_64_intdigest(s.encode()) for s in shards.to_pylist()), dtype=np.uint64,
                       count=len(shards))
    return pa.array((keys % np.uint64(n_buckets)).astype(np.int32))


def _join_to_spool(path: str, bucket: int, row_paths: list[str], assign_paths: list[str], n_write: int) -> str:
    """Join bucket `bucket` of the spooled rows and assignment; spool the result keyed by write task."""
    joined = join_bucket(read_partition(assign_paths, bucket, ASSIGN_SCHEMA),
                         read_partition(row_paths, bucket, ROW_SCHEMA))
    return spool_partitioned(path, joined.append_column(PARTITION, shard_bucket(joined.column("shard"), n_write)))


def _write_bucket(bucket: int, joined_paths: list[str], cfg, out_dir: str, journal: str) -> list[dict]:
    """Write every shard of write bucket `bucket`, one after another in name order."""
    table = read_partition(joined_paths, bucket, JOINED_SCHEMA)
    if not table.num_rows:
        return []
    table = table.sort_by([("shard", "ascending")])
    shards = table.column("shard").to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(np.r_[True, shards[1:] != shards[:-1]])
    ends = np.r_[starts[1:], len(shards)]
    return [write_shard_group(table.slice(int(a), int(b - a)), cfg, out_dir, journal) for a, b in zip(starts, ends)]


def write_shard_group(group: pa.Table, cfg, out_dir: str, journal: str) -> dict:
    """Every occurrence of one shard: materialise its packs in pack order, commit the tar,
    journal it (so a rerun keeps it). Returns its journal entry and the node that wrote it."""
    from jobs import checkpoints as ckpt
    from jobs.progress import report
    from packer.tokenizer import tokenizer_identity

    import time

    t0 = time.perf_counter()
    pad_id = tokenizer_identity(cfg.tokens.tokenizer)[1]["<|endoftext|>"]  # all the writer needs of it
    shard = group.column("shard")[0].as_py()
    group = group.sort_by([("pack_id", "ascending"), ("position", "ascending")])
    pids = group.column("pack_id").to_numpy()
    starts = np.flatnonzero(np.r_[True, pids[1:] != pids[:-1]])
    ends = np.r_[starts[1:], len(pids)]
    rows = group.to_pylist()

    def payloads():
        for i, (a, b) in enumerate(zip(starts, ends)):
            if i == 1:
                ckpt.maybe_kill_mid_shard()
                ckpt.maybe_pause_writer(shard)
            pack = {n: rows[a][n] for n in ("pack_id", "step", "rank", "micro", "n_samples", "real_tokens", "seq_len")}
            members = [r for r in rows[a:b] if r["sample_id"] is not None]
            if len(members) != pack["n_samples"]:
                raise RuntimeError(f"shard {shard}: pack {pack['pack_id']} expects {pack['n_samples']} samples, "
                                   f"got {len(members)}")
            yield materialize_pack(pack, members, expand_pack([_rendering(r) for r in members]), pad_id)

    written = write_shard(Path(out_dir) / shard, payloads(), before_rename=ckpt.rename_hook(shard))
    entry = {"path": shard, "rank": int(group.column("rank")[0].as_py()), "sha256": written.sha256,
             "bytes": written.bytes, "n_packs": written.n_packs, "mtime_ns": os.stat(written.path).st_mtime_ns}
    journal_dir = Path(journal)
    ckpt.record_shard(journal_dir, entry)
    ckpt.maybe_fail_after_shards(journal_dir)
    report("write", int(group.num_rows), seconds=time.perf_counter() - t0)
    from jobs.planning import this_node

    return {**entry, "node": this_node()}


def _rendering(row: dict) -> bytes:
    """A sample's rendering, as the token stage kept it (compact)."""
    if row["rendered"] is None:
        raise PlanMismatchError(f"sample {row['sample_id']} reached the writer without its rendering "
                                f"(rows of an older token stage?)")
    return row["rendered"]


def write_partitions(n_shards: int, n_join_parts: int, cluster_cpus: int) -> int:
    """Write tasks: one per shard up to two per CPU of the cluster (at least one per join part), at
    most MAX_PARTITIONS; each writes its shards one by one."""
    return max(1, min(n_shards, max(n_join_parts, 2 * cluster_cpus), MAX_PARTITIONS))


def write_shards(cfg, spool: RowSpool, assign_paths: list[str], out: Path, journal: Path, done: dict,
                 n_packs: int) -> dict[str, dict]:
    """Write every shard of the assignment not in `done` (journaled and verified); return the
    journal entries of all shards written now and before. `spool`: the processed rows' payload
    (`spool_rows`), removed once the shards are written. `n_packs`: packs of the plan."""
    import ray

    root = Path(spool.root)
    if not assign_paths:
        shutil.rmtree(root, ignore_errors=True)
        return done
    for d in ("assign", "joined"):
        shutil.rmtree(root / d, ignore_errors=True)
        (root / d).mkdir(parents=True)
    skip = sorted(done)
    spread = ray.remote(scheduling_strategy="SPREAD")
    cfg_ref = ray.put(cfg)
    assign = ray.get([spread(_spool_assign_part).remote(str(root / "assign" / f"part-{i:05d}.parquet"), p,
                                                        spool.n_parts, skip) for i, p in enumerate(assign_paths)])
    n_shards = -(-n_packs // cfg.pack.packs_per_shard) + cfg.pack.dp_size  # at most: each rank's last is partial
    n_write = write_partitions(n_shards, spool.n_parts, int(ray.cluster_resources().get("CPU", 1)))
    joined = ray.get([spread(_join_to_spool).remote(str(root / "joined" / f"part-{j:05d}.parquet"), j, spool.paths,
                                                    assign, n_write) for j in range(spool.n_parts)])
    shutil.rmtree(root / "rows", ignore_errors=True)
    shutil.rmtree(root / "assign", ignore_errors=True)
    result = dict(done)
    for entries in ray.get([spread(_write_bucket).remote(w, joined, cfg_ref, str(out), str(journal))
                            for w in range(n_write)]):
        for row in entries:
            result[row["path"]] = row
    shutil.rmtree(root, ignore_errors=True)
    return result
