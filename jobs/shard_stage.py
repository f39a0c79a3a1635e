"""The write stage: attach each row's pack assignment, regroup by shard, write each shard.

`assignment_table` turns the plan into (sample_id, copy) → (pack_id, position, shard) rows (a
sample of a repeated pack appears once per pack). `attach_assignment` runs in `map_batches` and
keeps only assigned rows, one per occurrence. `write_shard_group` runs in `map_groups`: it
receives every row of one shard, materialises the shard's packs in pack order and commits the tar.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from packer.materialize import materialize_pack
from packer.shards import write_shard

ASSIGN_SCHEMA = pa.schema([("sample_id", pa.string()), ("copy", pa.int32()), ("pack_id", pa.int64()),
                           ("position", pa.int32()), ("shard", pa.string())])


def assignment_table(members: list[list[tuple[str, int]]], shards: list[str]) -> pa.Table:
    """(sample_id, copy) -> (pack_id, position, shard), one row per occurrence in a pack."""
    cols = {n: [] for n in ASSIGN_SCHEMA.names}
    for pid, mem in enumerate(members):
        for pos, (sid, copy) in enumerate(mem):
            cols["sample_id"].append(sid)
            cols["copy"].append(copy)
            cols["pack_id"].append(pid)
            cols["position"].append(pos)
            cols["shard"].append(shards[pid])
    return pa.table(cols, schema=ASSIGN_SCHEMA)


def attach_assignment(batch: pa.Table, assign: pa.Table) -> pa.Table:
    """The rows of `batch` that belong to a pack, once per pack they occur in, with
    pack_id/position/shard attached (a hash join on (sample_id, copy) over flat columns only)."""
    keys = pa.table({"sample_id": batch.column("sample_id"), "copy": batch.column("copy"),
                     "_row": pa.array(np.arange(batch.num_rows, dtype=np.int64))})
    joined = keys.join(assign, keys=["sample_id", "copy"], join_type="inner", use_threads=False)
    if joined.num_rows == 0:
        empty = batch.slice(0, 0)
        for name in ("pack_id", "position", "shard"):
            empty = empty.append_column(name, pa.array([], ASSIGN_SCHEMA.field(name).type))
        return empty
    joined = joined.sort_by([("pack_id", "ascending"), ("position", "ascending")])
    out = batch.take(joined.column("_row"))
    for name in ("pack_id", "position", "shard"):
        out = out.append_column(name, joined.column(name))
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
        for pid in pack_ids:
            pack = {c: packs.column(c)[pid].as_py() for c in packs.column_names}
            rows = rows_by_pack.get(pid, [])
            if len(rows) != pack["n_samples"]:
                raise RuntimeError(f"shard {shard}: pack {pid} expects {pack['n_samples']} samples, got {len(rows)}")
            yield materialize_pack(pack, rows, tok, cfg.tokens, cfg.seed)

    written = write_shard(Path(out_dir) / shard, payloads(), before_rename=ckpt.rename_hook(shard))
    rank = int(packs.column("rank")[pack_ids[0]].as_py())
    entry = {"path": shard, "rank": rank, "sha256": written.sha256, "bytes": written.bytes, "n_packs": written.n_packs}
    journal = Path(plan["journal"])
    ckpt.record_shard(journal, entry)
    ckpt.maybe_fail_after_shards(journal)
    return entry


def write_shard_group(group: pa.Table, plan: dict, cfg, out_dir: str) -> pa.Table:
    shard = group.column("shard")[0].as_py()
    result = write_shard_packs(group, plan["shard_packs"][shard], plan, cfg, out_dir, shard)
    from jobs.progress import report

    report("write", group.num_rows)
    return pa.table({k: [v] for k, v in result.items()})
