"""The write stage: attach each row's pack assignment, regroup by shard, write each shard.

`assignment_table` turns the plan into (sample_id, copy) → (pack_id, position, shard) rows (a
sample of a repeated pack appears once per pack). `attach_assignment` runs in `map_batches` and
keeps only assigned rows, one per occurrence. `write_shard_group` runs in `map_groups`: it
receives every row of one shard, materialises the shard's packs in pack order and commits the tar.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import xxhash

from packer.materialize import materialize_pack
from packer.shards import write_shard

ASSIGN_SCHEMA = pa.schema([("sample_id", pa.string()), ("copy", pa.int32()), ("pack_id", pa.int64()),
                           ("position", pa.int32()), ("shard", pa.string()), ("key64", pa.uint64())])


def row_keys(sample_ids: list[str], copies: list[int]) -> np.ndarray:
    """A 64-bit key per (sample_id, copy); collisions are resolved by comparing the ids."""
    return np.fromiter((xxhash.xxh3_64_intdigest(f"{s}\x00{c}".encode()) for s, c in zip(sample_ids, copies)),
                       dtype=np.uint64, count=len(sample_ids))


def assignment_table(members: list[list[tuple[str, int]]], shards: list[str]) -> pa.Table:
    """(sample_id, copy) -> (pack_id, position, shard), one row per occurrence in a pack, sorted by
    key64 so workers can look rows up with a binary search instead of a join per batch."""
    cols = {n: [] for n in ASSIGN_SCHEMA.names if n != "key64"}
    for pid, mem in enumerate(members):
        for pos, (sid, copy) in enumerate(mem):
            cols["sample_id"].append(sid)
            cols["copy"].append(copy)
            cols["pack_id"].append(pid)
            cols["position"].append(pos)
            cols["shard"].append(shards[pid])
    cols["key64"] = row_keys(cols["sample_id"], cols["copy"])
    table = pa.table(cols, schema=ASSIGN_SCHEMA)
    return table.take(pa.array(np.argsort(cols["key64"], kind="stable")))


def attach_assignment(batch: pa.Table, assign: pa.Table) -> pa.Table:
    """The rows of `batch` that belong to a pack, once per pack they occur in, with
    pack_id/position/shard attached. O(batch · log N) per batch: the assignment is sorted by key."""
    keys = assign.column("key64").to_numpy()
    ids, copies = batch.column("sample_id").to_pylist(), batch.column("copy").to_pylist()
    h = row_keys(ids, copies)
    lo, hi = np.searchsorted(keys, h, "left"), np.searchsorted(keys, h, "right")
    counts = hi - lo
    rows = np.repeat(np.arange(batch.num_rows), counts)
    picks = np.concatenate([np.arange(a, b) for a, b in zip(lo, hi) if b > a]) if counts.any() else np.zeros(0, int)
    if len(picks):
        same = (np.asarray(assign.column("sample_id").take(pa.array(picks)).to_pylist(), dtype=object)
                == np.asarray(ids, dtype=object)[rows]) & (
            assign.column("copy").take(pa.array(picks)).to_numpy() == np.asarray(copies)[rows])
        rows, picks = rows[same], picks[same]
    picked = assign.take(pa.array(picks, pa.int64()))
    order = np.lexsort((picked.column("position").to_numpy(), picked.column("pack_id").to_numpy()))
    out = batch.take(pa.array(rows[order], pa.int64()))
    picked = picked.take(pa.array(order))
    for name in ("pack_id", "position", "shard"):
        out = out.append_column(name, picked.column(name))
    return out


def write_shard_packs(group: pa.Table | None, pack_ids: list[int], plan: dict, cfg, out_dir: str,
                      shard: str) -> dict:
    """Materialise and commit one shard, then journal it (so a rerun keeps it)."""
    from jobs import checkpoints as ckpt
    from packer.tokenizer import load_tokenizer

    tok = load_tokenizer(cfg.tokens.tokenizer)
    packs = plan["packs"]
    rows_by_pack: dict[int, list[dict]] = {}
    if group is not None and group.num_rows:
        order = np.lexsort((group.column("position").to_numpy(), group.column("pack_id").to_numpy()))
        for row in group.take(pa.array(order)).to_pylist():
            rows_by_pack.setdefault(int(row["pack_id"]), []).append(row)

    def payloads():
        for i, pid in enumerate(pack_ids):
            if i == 1:
                ckpt.maybe_kill_mid_shard()
                ckpt.maybe_pause_writer()
            pack = {c: packs.column(c)[pid].as_py() for c in packs.column_names}
            rows = rows_by_pack.get(pid, [])
            if len(rows) != pack["n_samples"]:
                raise RuntimeError(f"shard {shard}: pack {pid} expects {pack['n_samples']} samples, got {len(rows)}")
            yield materialize_pack(pack, rows, tok, cfg.tokens, cfg.seed)

    written = write_shard(Path(out_dir) / shard, payloads(), before_rename=ckpt.rename_hook(shard))
    rank = int(packs.column("rank")[pack_ids[0]].as_py())
    entry = {"path": shard, "rank": rank, "sha256": written.sha256, "bytes": written.bytes, "n_packs": written.n_packs,
             "mtime_ns": os.stat(written.path).st_mtime_ns}
    journal = Path(plan["journal"])
    ckpt.record_shard(journal, entry)
    ckpt.maybe_fail_after_shards(journal)
    return entry


def write_shard_group(group: pa.Table, plan: dict, cfg, out_dir: str) -> pa.Table:
    import time

    shard = group.column("shard")[0].as_py()
    t0 = time.perf_counter()
    result = write_shard_packs(group, plan["shard_packs"][shard], plan, cfg, out_dir, shard)
    from jobs.progress import report

    report("write", group.num_rows, seconds=time.perf_counter() - t0)
    return pa.table({k: [v] for k, v in result.items()})
