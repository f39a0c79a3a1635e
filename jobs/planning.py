"""Planning on the cluster: planning groups as Ray tasks, the indexes written by the tasks that own
their rows, and nothing on the driver that grows with the number of samples.

1. **Summaries** (`block_summary`, one small row per block): rows, bytes of sample ids, summed
   stage counters, and per source the facts of the bad-sample policy. The driver merges O(blocks).
2. **Groups.** Every row gets its planning group (`packer.group_plan.group_of`); a Ray Data groupby
   brings each group's planning columns to one call (`plan_one_group`), which plans it
   (`packer.group_plan.plan_group`), writes it to `plan/groups/` and returns its step count and its
   leftover packs.
3. **Remainder group.** The driver assembles the leftover packs (fewer than one step per group)
   into the steps of one more group (`plan_leftovers`) and knows every group's step count: O(G).
4. **Parts** (`finalize_group`, a Ray task per group): global step, pack id and shard of each pack
   of the group, then the group's parts of `index/ledger/` and `index/packs/` and of the shard
   assignment, each committed atomically by that task.

Every file is a function of the group's rows and the O(G) summary, so retried or repeated tasks
write the same bytes; checkpoints let a rerun skip what is done.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xxhash

from jobs import checkpoints as ckpt
from jobs import stages
from jobs.readers import REASON_HINTS
from packer.group_plan import (GROUP_PACK_SCHEMA, global_steps, group_count, group_of,
                               pack_number, plan_group, plan_leftovers, shard_index)
from schemas.config import JobConfig
from schemas.manifest import (LEDGER_SCHEMA, PACKS_SCHEMA, IndexPart, Status, index_part_path, pack_key,
                              shard_name)
from schemas.sample import STATUS_OK

INDEX_COLUMNS = [
    "sample_id", "copy", "source", "task", "status", "reason", "detail", "dup_of", "lang", "lang_score",
    "text_tokens", "vision_tokens", "loss_tokens", "total_tokens", "vit_patches", "n_images", "repairs",
    "nsfw_score", "clip_score", "lm_perplexity", "lm_repetition", "junk_score",
]
GROUP = "_group"
BAD_EXAMPLES = 3
# The shard assignment: one row per (sample, pack) occurrence and one per padding filler, with what
# the writer needs of its pack.
ASSIGN_SCHEMA = pa.schema([
    ("sample_id", pa.string()), ("copy", pa.int32()), ("shard", pa.string()), ("pack_id", pa.int64()),
    ("position", pa.int32()), ("step", pa.int64()), ("rank", pa.int32()), ("micro", pa.int32()),
    ("n_samples", pa.int32()), ("real_tokens", pa.int32()), ("seq_len", pa.int32()),
])


class PlanError(RuntimeError):
    """A plan that cannot be made (too many invalid samples); the message says why."""


def row_keys(sample_ids, copies) -> np.ndarray:
    """A 64-bit key per (sample_id, copy): what planning groups are drawn from."""
    return np.fromiter((xxhash.xxh3_64_intdigest(f"{s}\x00{c}".encode()) for s, c in zip(sample_ids, copies)),
                       dtype=np.uint64, count=len(sample_ids))


# ---- 1. summaries ------------------------------------------------------------------------------------


SUMMARY_SCHEMA = pa.schema([("rows", pa.int64()), ("id_bytes", pa.int64()), ("facts", pa.string())])


def block_summary(batch: pa.Table) -> pa.Table:
    """One row: rows, bytes of ids, and as JSON the block's summed counters and per-source
    (first copies, invalid, invalid reasons, smallest invalid ids)."""
    counters = stages.sum_counters(batch.column(stages.COUNTERS).to_pylist()) if stages.COUNTERS in batch.column_names \
        else {}
    per_source: dict[str, dict] = {}
    first = pc.equal(batch.column("copy"), 0)
    invalid = pc.and_(first, pc.equal(batch.column("status"), Status.invalid.value))
    for src, n in zip(*np.unique(np.asarray(batch.column("source").filter(first).to_pylist(), dtype=object),
                                 return_counts=True)) if batch.num_rows else []:
        per_source[str(src)] = {"n": int(n), "bad": 0, "reasons": {}, "examples": []}
    bad = batch.filter(invalid).select(["source", "reason", "sample_id"]).to_pylist()
    for r in bad:
        s = per_source[r["source"]]
        s["bad"] += 1
        s["reasons"][r["reason"]] = s["reasons"].get(r["reason"], 0) + 1
        s["examples"].append(r["sample_id"])
    for s in per_source.values():
        s["examples"] = sorted(s["examples"])[:BAD_EXAMPLES]
    id_bytes = int(pc.sum(pc.binary_length(batch.column("sample_id"))).as_py() or 0)
    facts = json.dumps({"counters": counters, "sources": per_source}, sort_keys=True)
    return pa.table({"rows": [batch.num_rows], "id_bytes": [id_bytes], "facts": [facts]}, schema=SUMMARY_SCHEMA)


@dataclass
class RowsSummary:
    rows: int = 0
    id_bytes: int = 0
    counters: dict = field(default_factory=dict)
    sources: dict = field(default_factory=dict)

    def add(self, row: dict) -> None:
        self.rows += row["rows"]
        self.id_bytes += row["id_bytes"]
        facts = json.loads(row["facts"])
        c = Counter(self.counters)
        c.update(facts["counters"])
        self.counters = dict(sorted(c.items()))
        for name, s in facts["sources"].items():
            mine = self.sources.setdefault(name, {"n": 0, "bad": 0, "reasons": {}, "examples": []})
            mine["n"] += s["n"]
            mine["bad"] += s["bad"]
            reasons = Counter(mine["reasons"])
            reasons.update(s["reasons"])
            mine["reasons"] = dict(reasons)
            mine["examples"] = sorted(mine["examples"] + s["examples"])[:BAD_EXAMPLES]


def check_bad_fraction(cfg: JobConfig, summary: RowsSummary) -> None:
    for s in cfg.sources:
        facts = summary.sources.get(s.name)
        if not facts or not facts["n"]:
            continue
        n, bad = facts["n"], facts["bad"]
        if bad / n > s.max_bad_fraction:
            top = sorted(facts["reasons"].items(), key=lambda kv: (-kv[1], kv[0]))[:3]
            raise PlanError(
                f"source {s.name!r}: {bad} of {n} samples are invalid ({bad / n:.1%} > max_bad_fraction "
                f"{s.max_bad_fraction}); top reasons: " + ", ".join(f"{r} ×{c}" for r, c in top)
                + f"; e.g. {facts['examples']}"
                + "".join(f". Hint: {REASON_HINTS[r]}" for r, _ in top[:1] if r in REASON_HINTS))


# ---- 2. groups ---------------------------------------------------------------------------------------


def index_with_group(batch: pa.Table, n_groups: int) -> pa.Table:
    """The planning columns of a block, with each row's planning group."""
    table = batch.select(INDEX_COLUMNS)
    keys = row_keys(table.column("sample_id").to_pylist(), table.column("copy").to_pylist())
    return table.append_column(GROUP, pa.array(group_of(keys, n_groups)))


GROUP_SUMMARY_SCHEMA = pa.schema([("group", pa.int32()), ("rows", pa.int64()), ("n_steps", pa.int64()),
                                  ("lower_bound", pa.int64()), ("leftovers", pa.binary()), ("node", pa.string())])


def this_node() -> str:
    """The Ray node id this task runs on ('' outside Ray)."""
    return next(iter(stages.node_batches("x")), "").rsplit(".", 1)[-1]
PLAN_ROWS_SCHEMA = pa.schema([*[LEDGER_SCHEMA.field(n) for n in INDEX_COLUMNS if n in LEDGER_SCHEMA.names],
                              ("local_pack", pa.int64()), ("position", pa.int32())])


def _ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _from_ipc(data: bytes) -> pa.Table:
    return pa.ipc.open_stream(pa.BufferReader(data)).read_all()


def _commit_parquet(path: Path, table: pa.Table) -> IndexPart:
    from packer.shards import commit_file

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", write_statistics=True)
    data = sink.getvalue().to_pybytes()
    digest = commit_file(path, data)
    return IndexPart(path=str(path), sha256=digest, bytes=len(data), rows=table.num_rows)


def group_files(plan_dir: Path, group: int) -> tuple[Path, Path]:
    base = Path(plan_dir) / "groups"
    return base / f"group-{group:05d}.rows.parquet", base / f"group-{group:05d}.packs.parquet"


def plan_group_rows(table: pa.Table, cfg: JobConfig, group: int):
    """One group planned: (PLAN_ROWS_SCHEMA rows sorted by (sample_id, copy), GroupPlan). Pure."""
    table = table.sort_by([("sample_id", "ascending"), ("copy", "ascending")])
    plan = plan_group(table, cfg.pack, cfg.seed, group)
    rows = table.select([n for n in PLAN_ROWS_SCHEMA.names if n in table.column_names])
    rows = rows.set_column(rows.schema.get_field_index("status"), "status", pa.array(plan.status.tolist(), pa.string()))
    rows = rows.set_column(rows.schema.get_field_index("reason"), "reason", pa.array(plan.reason.tolist(), pa.string()))
    rows = rows.append_column("local_pack", pa.array(plan.local_pack)).append_column(
        "position", pa.array(plan.position.astype(np.int32))).cast(PLAN_ROWS_SCHEMA)
    return rows, plan


def plan_one_group(table: pa.Table, cfg: JobConfig, plan_dir: str) -> pa.Table:
    """Plan one group (all its rows), write it under `plan_dir`, return its summary row."""
    g = int(table.column(GROUP)[0].as_py())
    rows, plan = plan_group_rows(table.drop_columns([GROUP]), cfg, g)
    rows_path, packs_path = group_files(Path(plan_dir), g)
    _commit_parquet(rows_path, rows)
    ckpt.maybe_kill_worker("plan")  # (a test's fault: the worker dies between the group's two files)
    _commit_parquet(packs_path, plan.packs)
    leftovers = plan.packs.filter(pc.equal(plan.packs.column("step"), -1))
    return pa.table({"group": [g], "rows": [table.num_rows], "n_steps": [plan.n_steps],
                     "lower_bound": [plan.lower_bound], "leftovers": [_ipc(leftovers)], "node": [this_node()]},
                    schema=GROUP_SUMMARY_SCHEMA)


def plan_in_process(cfg: JobConfig, index: pa.Table, n_groups: int | None = None) -> list[GroupParts]:
    """The whole plan of `index` (planning columns of every row) in this process: what the job
    does on Ray, for tests and small tools. Returns the parts of every group."""
    if n_groups is None:
        n_groups = group_count(index.num_rows, int(pc.sum(pc.binary_length(index.column("sample_id"))).as_py() or 0),
                               cfg.pack)
    keys = row_keys(index.column("sample_id").to_pylist(), index.column("copy").to_pylist())
    gid = group_of(keys, n_groups)
    planned = {}
    counts = np.zeros(n_groups, np.int64)
    leftovers = [GROUP_PACK_SCHEMA.empty_table()]
    for g in range(n_groups):
        sub = index.filter(pa.array(gid == g))
        if not sub.num_rows:
            continue
        rows, plan = plan_group_rows(sub.select(INDEX_COLUMNS), cfg, g)
        planned[g] = (rows, plan.packs)
        counts[g] = plan.n_steps
        leftovers.append(plan.packs.filter(pc.equal(plan.packs.column("step"), -1)))
    rem = plan_leftovers(pa.concat_tables(leftovers), cfg.pack, cfg.seed)
    summary = JobPlanSummary(n_groups=n_groups, step_counts=[*counts.tolist(), rem.n_steps], lower_bound=0,
                             placement=rem.placement, counters={}, sources={})
    return [group_parts(rows, packs, summary, cfg, g) for g, (rows, packs) in sorted(planned.items())]


# ---- 3. the whole plan, small --------------------------------------------------------------------------


@dataclass
class JobPlanSummary:
    """What the driver keeps of the plan: O(groups)."""

    n_groups: int
    step_counts: list[int]  # per group, then the remainder group
    lower_bound: int
    placement: pa.Table  # LEFTOVER_PLACEMENT_SCHEMA (O(groups · packs per step))
    counters: dict
    sources: dict
    nodes: dict = field(default_factory=dict)  # node id -> planning groups it planned

    @property
    def n_steps(self) -> int:
        return int(sum(self.step_counts))


def save_summary(plan_dir: Path, s: JobPlanSummary) -> None:
    from packer.shards import commit_file

    commit_file(Path(plan_dir) / "leftovers.arrow", _ipc(s.placement))
    ckpt.mark_complete(Path(plan_dir), {"n_groups": s.n_groups, "step_counts": s.step_counts,
                                        "lower_bound": s.lower_bound, "counters": s.counters, "sources": s.sources,
                                        "nodes": s.nodes})


def load_summary(plan_dir: Path) -> JobPlanSummary:
    info = json.loads((Path(plan_dir) / ckpt.SUCCESS).read_text())
    placement = _from_ipc((Path(plan_dir) / "leftovers.arrow").read_bytes())
    return JobPlanSummary(n_groups=info["n_groups"], step_counts=info["step_counts"], lower_bound=info["lower_bound"],
                          placement=placement, counters=info["counters"], sources=info["sources"],
                          nodes=info.get("nodes", {}))


def plan_rows(cfg: JobConfig, ds, plan_dir: Path) -> JobPlanSummary:
    """Steps 1–3 of the module docstring over the processed rows `ds` (or their checkpoint)."""
    import ray

    from jobs.shuffle import MAX_PARTITIONS, grouped_by

    plan_dir = Path(plan_dir)
    if ckpt.is_complete(plan_dir):
        return load_summary(plan_dir)
    summary = RowsSummary()
    for t in ray.get(ds.map_batches(block_summary, batch_format="pyarrow", batch_size=None).to_arrow_refs()):
        for row in t.to_pylist():
            summary.add(row)
    try:
        check_bad_fraction(cfg, summary)
    except PlanError as err:
        from jobs.pipeline import JobError

        raise JobError(str(err)) from None
    n_groups = group_count(summary.rows, summary.id_bytes, cfg.pack)
    index = ds.map_batches(index_with_group, fn_kwargs={"n_groups": n_groups}, batch_format="pyarrow",
                           batch_size=None)
    planned = grouped_by(index, GROUP, min(n_groups, MAX_PARTITIONS)).map_groups(
        plan_one_group, fn_kwargs={"cfg": cfg, "plan_dir": str(plan_dir)}, batch_format="pyarrow")
    groups = pa.concat_tables([t for t in ray.get(planned.to_arrow_refs()) if t.num_rows]
                              or [GROUP_SUMMARY_SCHEMA.empty_table()]).sort_by("group")
    counts = np.zeros(n_groups, np.int64)
    counts[groups.column("group").to_numpy()] = groups.column("n_steps").to_numpy()
    leftovers = pa.concat_tables([_from_ipc(b) for b in groups.column("leftovers").to_pylist()]
                                 or [GROUP_PACK_SCHEMA.empty_table()])
    rem = plan_leftovers(leftovers, cfg.pack, cfg.seed)
    result = JobPlanSummary(n_groups=n_groups, step_counts=[*counts.tolist(), rem.n_steps],
                            lower_bound=int(pc.sum(groups.column("lower_bound")).as_py() or 0),
                            placement=rem.placement, counters=summary.counters, sources=summary.sources,
                            nodes=dict(Counter(groups.column("node").to_pylist())))
    save_summary(plan_dir, result)
    return result


# ---- 4. parts ----------------------------------------------------------------------------------------


def _place(summary: JobPlanSummary, cfg: JobConfig, group: int, packs: pa.Table):
    """Global (step, rank, micro) of each of a group's packs (step -1: dropped as remainder),
    and the repeats of its packs placed as fillers: (local_pack, step, rank, micro) arrays."""
    n_groups = summary.n_groups
    step = packs.column("step").to_numpy().astype(np.int64)
    rank = packs.column("rank").to_numpy().astype(np.int64)
    micro = packs.column("micro").to_numpy().astype(np.int64)
    gstep = np.full(len(step), -1, np.int64)
    gstep[step >= 0] = global_steps(summary.step_counts, group, step[step >= 0])
    mine = summary.placement.filter(pc.equal(summary.placement.column("group"), group))
    lp = mine.column("local_pack").to_numpy().astype(np.int64)
    pstep = mine.column("step").to_numpy().astype(np.int64)
    filler = mine.column("is_filler").to_numpy(zero_copy_only=False)
    pg = np.full(len(pstep), -1, np.int64)
    pg[pstep >= 0] = global_steps(summary.step_counts, n_groups, pstep[pstep >= 0])
    orig = ~filler
    gstep[lp[orig]] = pg[orig]
    rank[lp[orig]] = mine.column("rank").to_numpy()[orig]
    micro[lp[orig]] = mine.column("micro").to_numpy()[orig]
    repeats = (lp[filler], pg[filler], mine.column("rank").to_numpy()[filler].astype(np.int64),
               mine.column("micro").to_numpy()[filler].astype(np.int64))
    return gstep, rank, micro, repeats


def _packs_rows(packs: pa.Table, idx: np.ndarray, step, rank, micro, cfg: JobConfig, *, is_filler: bool,
                repeat_of: np.ndarray | None = None) -> pa.Table:
    """PACKS_SCHEMA rows for the packs `idx` of a group's pack table placed at (step, rank, micro)."""
    pid = pack_number(step, rank, micro, cfg.pack)
    shard = shard_index(step, micro, cfg.pack)
    sub = packs.take(pa.array(idx, pa.int64()))
    return pa.table({
        "pack_id": pa.array(pid, pa.int64()), "step": pa.array(step, pa.int64()), "rank": pa.array(rank, pa.int32()),
        "micro": pa.array(micro, pa.int32()),
        "shard": pa.array([shard_name(int(r), int(s)) for r, s in zip(rank, shard)], pa.string()),
        "key": pa.array([pack_key(int(p)) for p in pid], pa.string()),
        "n_samples": sub.column("n_samples"), "n_images": sub.column("n_images"),
        "real_tokens": pc.cast(sub.column("real_tokens"), pa.int32()), "seq_len": sub.column("seq_len"),
        "vit_patches": pc.cast(sub.column("vit_patches"), pa.int32()), "vit_bucket": sub.column("vit_bucket"),
        "loss_tokens": pc.cast(sub.column("loss_tokens"), pa.int32()), "attn_cost": sub.column("attn_cost"),
        "vit_cost": sub.column("vit_cost"), "is_filler": pa.array(np.full(len(idx), is_filler)),
        "cost": sub.column("cost"),
        "repeat_of": pa.array(repeat_of if repeat_of is not None else np.full(len(idx), -1, np.int64), pa.int64()),
    }, schema=PACKS_SCHEMA)


def _assign_rows(rows: pa.Table, packs_part: pa.Table, local_of_pack: np.ndarray) -> pa.Table:
    """One ASSIGN_SCHEMA row per (sample, output pack) of a group: rows whose local pack is
    `local_of_pack[i]` go into output pack i of `packs_part`."""
    lp = rows.column("local_pack").to_numpy()
    order = np.lexsort((rows.column("position").to_numpy(), lp))
    sorted_lp = lp[order]
    lo = np.searchsorted(sorted_lp, local_of_pack, "left")
    hi = np.searchsorted(sorted_lp, local_of_pack, "right")
    take = np.concatenate([order[a:b] for a, b in zip(lo, hi)]) if len(local_of_pack) else np.zeros(0, np.int64)
    out_of = np.repeat(np.arange(len(local_of_pack)), hi - lo)
    sub = rows.take(pa.array(take, pa.int64()))
    p = packs_part.take(pa.array(out_of, pa.int64()))
    return pa.table({
        "sample_id": sub.column("sample_id"), "copy": sub.column("copy"), "shard": p.column("shard"),
        "pack_id": p.column("pack_id"), "position": sub.column("position"), "step": p.column("step"),
        "rank": p.column("rank"), "micro": p.column("micro"), "n_samples": p.column("n_samples"),
        "real_tokens": p.column("real_tokens"), "seq_len": p.column("seq_len"),
    }, schema=ASSIGN_SCHEMA)


@dataclass
class GroupParts:
    ledger: pa.Table  # LEDGER_SCHEMA, sorted by (sample_id, copy)
    packs: pa.Table  # PACKS_SCHEMA, sorted by pack_id
    assign: pa.Table  # ASSIGN_SCHEMA
    n_packed: int
    n_input_rows: int


def group_parts(rows: pa.Table, packs: pa.Table, summary: JobPlanSummary, cfg: JobConfig, group: int) -> GroupParts:
    """A group's ledger, packs and assignment, from its plan (PLAN_ROWS_SCHEMA rows sorted by
    (sample_id, copy), GROUP_PACK_SCHEMA packs) and the job's summary. Pure."""
    gstep, rank, micro, repeats = _place(summary, cfg, group, packs)
    n_packs = packs.num_rows
    placed = np.flatnonzero(gstep >= 0)
    part = _packs_rows(packs, placed, gstep[placed], rank[placed], micro[placed], cfg, is_filler=False)
    local_of_pack = placed
    pid_of_local = np.full(n_packs, -1, np.int64)
    pid_of_local[placed] = part.column("pack_id").to_numpy()
    if repeats[0].size:
        rep = _packs_rows(packs, repeats[0], repeats[1], repeats[2], repeats[3], cfg, is_filler=True,
                          repeat_of=pid_of_local[repeats[0]])
        part = pa.concat_tables([part, rep])
        local_of_pack = np.concatenate((placed, repeats[0]))
    order = np.argsort(part.column("pack_id").to_numpy(), kind="stable")
    part = part.take(pa.array(order))
    local_of_pack = local_of_pack[order]

    lp = rows.column("local_pack").to_numpy()
    status = np.array(rows.column("status").to_pylist(), dtype=object)
    reason = np.array(rows.column("reason").to_pylist(), dtype=object)
    in_pack = lp >= 0
    pack_id = np.full(len(lp), -1, np.int64)
    pack_id[in_pack] = pid_of_local[lp[in_pack]]
    dropped = in_pack & (pack_id < 0)
    status[dropped] = Status.remainder.value
    reason[dropped] = "pack.remainder_dropped"
    packed = in_pack & (pack_id >= 0)
    status[packed] = Status.packed.value
    if (status == STATUS_OK).any():  # a programming error: every row must have a fate
        raise RuntimeError(f"group {group}: rows with no fate after planning, "
                           f"e.g. {rows.column('sample_id').filter(pa.array(status == STATUS_OK))[:3].to_pylist()}")
    ledger = {n: rows.column(n) for n in LEDGER_SCHEMA.names if n in rows.column_names}
    ledger["status"] = pa.array(status.tolist(), pa.string())
    ledger["reason"] = pa.array(reason.tolist(), pa.string())
    ledger["pack_id"] = pa.array(np.where(packed, pack_id, 0), pa.int64(), mask=~packed)
    ledger = pa.table({n: ledger[n] for n in LEDGER_SCHEMA.names}, schema=LEDGER_SCHEMA)
    return GroupParts(ledger=ledger, packs=part, assign=_assign_rows(rows, part, local_of_pack),
                      n_packed=int(packed.sum()), n_input_rows=int(np.sum(rows.column("copy").to_numpy() == 0)))


def finalize_group(group: int, summary: JobPlanSummary, cfg: JobConfig, out_dir: str, plan_dir: str) -> dict:
    """Write the group's ledger part, packs part and assignment part; return their IndexParts
    (paths relative to the output) and the group's counts."""
    rows_path, packs_path = group_files(Path(plan_dir), group)
    parts = group_parts(pq.read_table(rows_path), pq.read_table(packs_path), summary, cfg, group)
    out = Path(out_dir)
    ledger_part = _commit_parquet(out / index_part_path("ledger", group), parts.ledger)
    ckpt.maybe_kill_worker("index")  # (a test's fault: the worker dies between the group's index parts)
    packs_part = _commit_parquet(out / index_part_path("packs", group), parts.packs)
    _commit_parquet(Path(plan_dir) / "assign" / f"part-{group:05d}.parquet", parts.assign)
    return {"ledger": _relative(ledger_part, out), "packs": _relative(packs_part, out),
            "n_packs": parts.packs.num_rows, "n_packed": parts.n_packed, "n_input_rows": parts.n_input_rows,
            "node": this_node()}


def _relative(part: IndexPart, out: Path) -> dict:
    return part.model_copy(update={"path": str(Path(part.path).relative_to(out))}).model_dump()


def finalize_fillers(summary: JobPlanSummary, cfg: JobConfig, out_dir: str, plan_dir: str) -> dict | None:
    """The padding fillers of the remainder group (packs with no samples): their packs part
    (numbered after the groups') and their assignment rows."""
    p = summary.placement
    pads = p.filter(pc.equal(p.column("group"), -1))
    if not pads.num_rows:
        return None
    g = summary.n_groups
    step = global_steps(summary.step_counts, g, pads.column("step").to_numpy().astype(np.int64))
    rank = pads.column("rank").to_numpy().astype(np.int64)
    micro = pads.column("micro").to_numpy().astype(np.int64)
    n = pads.num_rows
    zeros = np.zeros(n, np.int64)
    empty = pa.table({"n_samples": pa.array(zeros, pa.int32()), "n_images": pa.array(zeros, pa.int32()),
                      "real_tokens": pa.array(zeros), "seq_len": pa.array(np.full(n, min(cfg.pack.llm_buckets)), pa.int32()),
                      "vit_patches": pa.array(zeros), "vit_bucket": pa.array(zeros, pa.int32()),
                      "loss_tokens": pa.array(zeros), "attn_cost": pa.array(zeros.astype(float)),
                      "vit_cost": pa.array(zeros.astype(float)), "cost": pa.array(zeros.astype(float))})
    part = _packs_rows(empty, np.arange(n), step, rank, micro, cfg, is_filler=True)
    part = part.take(pa.array(np.argsort(part.column("pack_id").to_numpy(), kind="stable")))
    assign = pa.table({
        "sample_id": pa.nulls(n, pa.string()), "copy": pa.nulls(n, pa.int32()), "shard": part.column("shard"),
        "pack_id": part.column("pack_id"), "position": pa.nulls(n, pa.int32()), "step": part.column("step"),
        "rank": part.column("rank"), "micro": part.column("micro"), "n_samples": part.column("n_samples"),
        "real_tokens": part.column("real_tokens"), "seq_len": part.column("seq_len")}, schema=ASSIGN_SCHEMA)
    out = Path(out_dir)
    packs_part = _commit_parquet(out / index_part_path("packs", g), part)
    _commit_parquet(Path(plan_dir) / "assign" / f"part-{g:05d}.parquet", assign)
    return {"packs": _relative(packs_part, out), "n_packs": n}


@dataclass
class IndexResult:
    parts: dict[str, list[IndexPart]]
    n_packs: int
    n_packed: int
    n_input_rows: int
    assign_paths: list[str]
    nodes: dict = field(default_factory=dict)  # node id -> index parts it wrote


def write_index_parts(summary: JobPlanSummary, cfg: JobConfig, out: Path, plan_dir: Path) -> IndexResult:
    """Step 4: one Ray task per group (and one for the padding fillers)."""
    import ray

    cfg_ref, summary_ref = ray.put(cfg), ray.put(summary)
    task = ray.remote(scheduling_strategy="SPREAD")(finalize_group)
    results = ray.get([task.remote(g, summary_ref, cfg_ref, str(out), str(plan_dir))
                       for g in range(summary.n_groups) if group_files(plan_dir, g)[0].exists()])
    fillers = finalize_fillers(summary, cfg, str(out), str(plan_dir))
    parts: dict[str, list[IndexPart]] = {"ledger": [], "packs": []}
    for r in results:
        parts["ledger"].append(IndexPart(**r["ledger"]))
        parts["packs"].append(IndexPart(**r["packs"]))
    if fillers:
        parts["packs"].append(IndexPart(**fillers["packs"]))
    assign = sorted(str(p) for p in (Path(plan_dir) / "assign").glob("part-*.parquet"))
    return IndexResult(parts=parts, n_packs=sum(r["n_packs"] for r in results) + (fillers["n_packs"] if fillers else 0),
                       n_packed=sum(r["n_packed"] for r in results),
                       n_input_rows=sum(r["n_input_rows"] for r in results), assign_paths=assign,
                       nodes=dict(Counter(r["node"] for r in results)))
