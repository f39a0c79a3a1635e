"""The write stage: bring each row to the packs it belongs to, regroup by shard, write each shard.

The plan's assignment (`jobs.planning.ASSIGN_SCHEMA`: one row per sample occurrence in a pack, one
per padding filler) and the processed rows meet in a hash-partitioned join: both sides go into
one dataset keyed by a hash of (sample_id, copy), and a Ray Data groupby brings each key range
whole into one call (`join_part`), which attaches each occurrence's sample. A second groupby on
`shard` brings every occurrence of one shard into one call (`write_shard_group`), which
materialises the shard's packs in pack order and commits the tar. Nothing is broadcast: every
process holds one key range or one shard. Both groupbys go through `jobs.shuffle.grouped_by`, so
the driver holds at most partitions² slice refs and no rows, however many rows there are.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from jobs.planning import ASSIGN_SCHEMA
from jobs.shuffle import MAX_PARTITIONS, grouped_by, partitions_for
from packer.chat import expand_pack
from packer.materialize import PlanMismatchError, materialize_pack
from packer.shards import write_shard
from schemas.sample import RENDERED_FIELD, WORK_SCHEMA

# What writing a sample needs of its row: its rendering as the token stage kept it, and its media.
PAYLOAD_FIELDS = [*[WORK_SCHEMA.field(n) for n in ("source", "task", "media", "total_tokens")], RENDERED_FIELD]
PAYLOAD = [f.name for f in PAYLOAD_FIELDS]
JOIN_SCHEMA = pa.schema([*ASSIGN_SCHEMA, *PAYLOAD_FIELDS, ("_side", pa.int8()), ("_part", pa.int32())])
ASSIGN_SIDE, ROW_SIDE = 0, 1
ROWS_PER_JOIN_PART = 100_000


def _parts(sample_ids: pa.Array, copies: pa.Array, fallback: pa.Array | None, n_parts: int) -> pa.Array:
    keys = [xxhash.xxh3_64_intdigest(f"{s}\x00{c}".encode()) if s is not None else xxhash.xxh3_64_intdigest(
        f"filler\x00{f}".encode()) for s, c, f in zip(sample_ids.to_pylist(), copies.to_pylist(),
                                                       fallback.to_pylist() if fallback is not None
                                                       else [None] * len(sample_ids))]
    return pa.array((np.asarray(keys, dtype=np.uint64) % np.uint64(n_parts)).astype(np.int32))


def assign_side(batch: pa.Table, n_parts: int, skip_shards: list) -> pa.Table:
    """Assignment rows (of shards not yet written) in the join schema."""
    batch = batch.cast(ASSIGN_SCHEMA)
    if skip_shards:
        batch = batch.filter(pc.invert(pc.is_in(batch.column("shard"), value_set=pa.array(skip_shards, pa.string()))))
    n = batch.num_rows
    cols = {name: batch.column(name) for name in ASSIGN_SCHEMA.names}
    for f in PAYLOAD_FIELDS:
        cols[f.name] = pa.nulls(n, f.type)
    cols["_side"] = pa.array(np.full(n, ASSIGN_SIDE, np.int8))
    cols["_part"] = _parts(batch.column("sample_id"), batch.column("copy"), batch.column("pack_id"), n_parts)
    return pa.table(cols, schema=JOIN_SCHEMA)


def row_side(batch: pa.Table, n_parts: int) -> pa.Table:
    """Processed rows (what rendering needs) in the join schema."""
    n = batch.num_rows
    cols = {name: pa.nulls(n, ASSIGN_SCHEMA.field(name).type) for name in ASSIGN_SCHEMA.names}
    cols["sample_id"], cols["copy"] = batch.column("sample_id"), batch.column("copy")
    for name in PAYLOAD:
        cols[name] = batch.column(name)
    cols["_side"] = pa.array(np.full(n, ROW_SIDE, np.int8))
    cols["_part"] = _parts(batch.column("sample_id"), batch.column("copy"), None, n_parts)
    return pa.table(cols, schema=JOIN_SCHEMA)


def join_part(group: pa.Table) -> pa.Table:
    """One key range: every assignment row with its sample's payload attached (none for fillers).
    Rows that belong to no pack are left out."""
    side = group.column("_side").to_numpy()
    assign = group.filter(pa.array(side == ASSIGN_SIDE))
    rows = group.filter(pa.array(side == ROW_SIDE))
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


def write_shard_group(group: pa.Table, cfg, out_dir: str, journal: str) -> pa.Table:
    """Every occurrence of one shard: materialise its packs in pack order, commit the tar,
    journal it (so a rerun keeps it). Returns the journal entry as one row."""
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
                ckpt.maybe_pause_writer()
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

    return pa.table({k: [v] for k, v in {**entry, "node": this_node()}.items()})


def _rendering(row: dict) -> bytes:
    """A sample's rendering, as the token stage kept it (compact)."""
    if row["rendered"] is None:
        raise PlanMismatchError(f"sample {row['sample_id']} reached the writer without its rendering "
                                f"(rows of an older token stage?)")
    return row["rendered"]


def write_partitions(n_shards: int, n_join_parts: int, cluster_cpus: int) -> int:
    """Reduce tasks of the write groupby: one per shard up to two per CPU of the cluster (at least
    one per join part), at most MAX_PARTITIONS (`jobs.shuffle`); each writes its shards one by one."""
    return max(1, min(n_shards, max(n_join_parts, 2 * cluster_cpus), MAX_PARTITIONS))


def write_shards(cfg, rows: list, assign_paths: list[str], out: Path, journal: Path, done: dict,
                 n_packs: int) -> dict[str, dict]:
    """Write every shard of the assignment not in `done` (journaled and verified); return the
    journal entries of all shards written now and before. `n_packs`: packs of the plan.

    `rows` holds the processed rows' dataset, handed over: it is emptied, and each stage's input is
    let go once the next has read it (the rows once the join's groupby holds its input, the join's
    input and output once the write's groupby holds its own), instead of every copy living until
    the write ends (at 1M samples with a 1 GB store: spill during the write 1.6 GB -> 0.4 GB)."""
    import ray

    from jobs.parquet_parts import read_parts

    rows_ds = rows.pop()
    if not assign_paths:
        return done
    assign = read_parts(assign_paths)
    n_rows = rows_ds.count()
    n_parts = partitions_for(n_rows, ROWS_PER_JOIN_PART)
    skip = sorted(done)
    a = assign.map_batches(assign_side, fn_kwargs={"n_parts": n_parts, "skip_shards": skip}, batch_format="pyarrow",
                           batch_size=None)
    r = rows_ds.select_columns(["sample_id", "copy", *PAYLOAD]).map_batches(
        row_side, fn_kwargs={"n_parts": n_parts}, batch_format="pyarrow", batch_size=None)
    by_part = grouped_by(a.union(r), "_part", n_parts)  # holds its own copy of both sides
    del a, r, rows_ds
    joined = by_part.map_groups(join_part, batch_format="pyarrow")
    n_shards = -(-n_packs // cfg.pack.packs_per_shard) + cfg.pack.dp_size  # at most: each rank's last is partial
    cpus = int(ray.cluster_resources().get("CPU", 1))
    n_write = write_partitions(n_shards, n_parts, cpus)
    by_shard = grouped_by(joined, "shard", n_write)  # runs the join; holds its own copy of its output
    del by_part, joined
    written = by_shard.map_groups(
        write_shard_group, fn_kwargs={"cfg": cfg, "out_dir": str(out), "journal": str(journal)},
        batch_format="pyarrow")
    result = dict(done)
    for t in ray.get(written.to_arrow_refs()):
        for row in t.to_pylist():
            result[row["path"]] = row
    return result

