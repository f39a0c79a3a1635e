"""Planning in groups: pack and assemble steps per planning group, then number every pack of the
job without any process holding the whole corpus (DESIGN.md, steps 8 and 9).

1. `group_count` splits the rows into G planning groups by a stable hash of (sample_id, copy):
   each group is at most about `pack.plan_group_samples` rows (and `pack.plan_group_bytes` of
   planning columns) and is planned alone.
2. `plan_group` packs one group (`packer.packing.plan_packs`) and assembles its full steps
   (`packer.steps.assemble_steps`, remainder "drop"): the packs that do not fill a whole step of
   the group are its *leftovers*, fewer than one step's worth.
3. `plan_leftovers` assembles the leftover packs of every group into the steps of one more group,
   the remainder group (index G), and applies `pack.remainder` to what is left of them: the job as a
   whole drops, pads or repeats less than one step, as a single plan would.
4. `global_steps` interleaves the groups' steps: step s of a group of S steps sits at the fraction
   (2s + 1) / 2S of the run, ties broken by group. Every group is a hash sample of the corpus, so
   the mix of sources and tasks is the same throughout the run. The global step of any (group,
   step) is computed from the G + 1 step counts alone, in O(G).
5. A pack's id and shard follow from (global step, rank, micro): pack_id = step·S + rank·k + micro
   with S = dp_size·k packs per step, and a rank's packs go to its shards in (step, micro) order,
   `packs_per_shard` at a time (`pack_number`, `shard_index`).

Everything here is pure numpy / pyarrow over one group's small columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from packer.buckets import SizeHistogram, size_histogram
from packer.packing import PackPlan, ShapeBuckets, plan_packs, shape_of
from packer.steps import assemble_steps
from schemas.manifest import Status
from schemas.pack_config import PackConfig
from schemas.sample import STATUS_OK

# Per-pack columns of a group's plan (one row per pack the group packed).
GROUP_PACK_SCHEMA = pa.schema([
    ("group", pa.int32()), ("local_pack", pa.int64()), ("n_samples", pa.int32()), ("n_images", pa.int32()),
    ("real_tokens", pa.int64()), ("seq_len", pa.int32()), ("vit_patches", pa.int64()), ("vit_bucket", pa.int32()),
    ("loss_tokens", pa.int64()), ("attn_cost", pa.float64()), ("vit_cost", pa.float64()), ("llm_cost", pa.float64()),
    ("cost", pa.float64()), ("mix_label", pa.string()),
    # where the group's own step assembly put it; step -1: a leftover, placed by `plan_leftovers`
    ("step", pa.int64()), ("rank", pa.int32()), ("micro", pa.int32()),
])


PLAN_ROW_BYTES = 96  # what a row's planning columns take besides its sample_id, about


def group_count(n_rows: int, id_bytes: int, cfg: PackConfig) -> int:
    """How many planning groups `n_rows` rows (whose sample ids take `id_bytes`) make: the fewest
    of at most `plan_group_samples` rows and `plan_group_bytes` bytes each (one for an empty job).
    A function of the data and the config alone, so the plan is too."""
    by_rows = -(-int(n_rows) // cfg.plan_group_samples)
    by_bytes = -(-(int(id_bytes) + PLAN_ROW_BYTES * int(n_rows)) // cfg.plan_group_bytes)
    return max(1, by_rows, by_bytes)


def group_of(key64: np.ndarray, n_groups: int) -> np.ndarray:
    """The planning group of each row, from its 64-bit (sample_id, copy) hash: the high bits, so
    that groups and any power-of-two split of the key space stay independent."""
    return ((np.asarray(key64, dtype=np.uint64) >> np.uint64(11)) % np.uint64(n_groups)).astype(np.int32)


@dataclass
class GroupPlan:
    """One group planned: per row its fate and place, per pack its shape, cost and step."""

    status: np.ndarray  # object per row: unchanged, or too_long
    reason: np.ndarray  # object per row
    local_pack: np.ndarray  # int64 per row: its pack in the group, -1 for none
    position: np.ndarray  # int64 per row: order inside its pack, -1 for none
    packs: pa.Table  # GROUP_PACK_SCHEMA
    n_steps: int  # full steps of the group
    lower_bound: int


def _too_long_reason(tokens: int, patches: int, cfg: PackConfig) -> str:
    if tokens > cfg.context_length:
        return "pack.too_many_tokens"
    return "pack.too_many_vit_patches" if patches > cfg.max_vit_patches else "pack.too_many_images"


def mix_labels(source: np.ndarray, task: np.ndarray) -> np.ndarray:
    return np.array([f"{s}|{t}" for s, t in zip(source.tolist(), task.tolist())], dtype=object)


def _dominant(pack_of: np.ndarray, labels: np.ndarray, n_packs: int) -> np.ndarray:
    """The most common label of each pack (ties: the smallest label)."""
    names = sorted(set(labels.tolist()))
    code = {n: i for i, n in enumerate(names)}
    counts = np.zeros((n_packs, max(1, len(names))), dtype=np.int64)
    valid = pack_of >= 0
    np.add.at(counts, (pack_of[valid], np.array([code[x] for x in labels[valid]], dtype=np.int64)), 1)
    best = counts.argmax(axis=1)
    return np.array([names[i] for i in best], dtype=object) if names else np.full(n_packs, "", dtype=object)


def planner_labels(index: pa.Table, ok_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row to plan: (source id, task id) — the mix the remainder and the steps keep — and its
    copy group (the first row of its sample_id when the sample has upsampled copies here, else -1).
    `index` is sorted by (sample_id, copy), so copies are adjacent."""
    cols = []
    for name in ("source", "task"):
        enc = pc.dictionary_encode(pc.fill_null(index.column(name).combine_chunks(), ""))
        cols.append(np.asarray(enc.indices.to_numpy(zero_copy_only=False), np.int64)[ok_rows])
    ids = index.column("sample_id").to_numpy(zero_copy_only=False)
    first = np.concatenate(([True], ids[1:] != ids[:-1])) if len(ids) else np.zeros(0, bool)
    start = np.maximum.accumulate(np.where(first, np.arange(len(ids)), 0))
    size = np.bincount(start, minlength=len(ids))[start]
    group = np.where(size > 1, start, -1)[ok_rows]
    return np.stack(cols, axis=1).astype(np.int64).reshape(len(ok_rows), 2), group.astype(np.int64)


def plan_group(index: pa.Table, cfg: PackConfig, seed: int, group: int) -> GroupPlan:
    """Pack one planning group and assemble its full steps.

    `index` holds the group's rows, sorted by (sample_id, copy), with at least
    sample_id, copy, source, task, status, reason, total_tokens, vit_patches, n_images and
    loss_tokens. Rows whose status is not "ok" keep it and get no pack."""
    if cfg.split_text_only:
        raise ValueError("pack.split_text_only is planned on integers (packer.packing) but the pipeline does not "
                         "yet write split samples; set pack.split_text_only: false")
    n = index.num_rows
    status = np.array(index.column("status").to_pylist(), dtype=object)
    reason = np.array(index.column("reason").to_pylist(), dtype=object)
    ok_rows = np.flatnonzero(status == STATUS_OK)

    def col(name: str) -> np.ndarray:
        return index.column(name).to_numpy(zero_copy_only=False)[ok_rows].astype(np.int64)

    tok, pat, img, loss = col("total_tokens"), col("vit_patches"), col("n_images"), col("loss_tokens")
    drop = cfg.model_copy(update={"remainder": "drop"})  # the packs short of a step are the group's leftovers
    mix, copy_group = planner_labels(index, ok_rows)
    plan = plan_packs(tok, pat, img, drop, labels=mix, copy_group=copy_group)
    too_long = np.asarray(plan.too_long, dtype=bool)
    for r, t, p in zip(ok_rows[too_long], tok[too_long], pat[too_long]):
        status[r] = Status.too_long.value
        reason[r] = _too_long_reason(int(t), int(p), cfg)
    labels = mix_labels(np.asarray(index.column("source").to_pylist(), dtype=object)[ok_rows],
                        np.asarray(index.column("task").to_pylist(), dtype=object)[ok_rows])
    pack_of = np.asarray(plan.pack_of, dtype=np.int64)
    label_of_pack = _dominant(pack_of, labels, plan.n_packs)  # what the remainder group keeps mixed
    steps = assemble_steps(plan, drop, seed)

    local_pack = np.full(n, -1, np.int64)
    position = np.full(n, -1, np.int64)
    local_pack[ok_rows] = pack_of
    position[ok_rows] = np.asarray(plan.position, dtype=np.int64)
    step = np.full(plan.n_packs, -1, np.int64)
    rank = np.full(plan.n_packs, -1, np.int32)
    micro = np.full(plan.n_packs, -1, np.int32)
    real = np.asarray(steps.pack) >= 0
    placed = np.asarray(steps.pack)[real]
    step[placed] = np.asarray(steps.step)[real]
    rank[placed] = np.asarray(steps.rank)[real]
    micro[placed] = np.asarray(steps.micro)[real]
    loss_per_pack = np.bincount(pack_of[pack_of >= 0], weights=loss[pack_of >= 0], minlength=plan.n_packs)
    packs = pa.table({
        "group": pa.array(np.full(plan.n_packs, group, np.int32)),
        "local_pack": pa.array(np.arange(plan.n_packs, dtype=np.int64)),
        "n_samples": pa.array(np.asarray(plan.pack_samples, np.int32)),
        "n_images": pa.array(np.asarray(plan.pack_images, np.int32)),
        "real_tokens": pa.array(np.asarray(plan.pack_tokens, np.int64)),
        "seq_len": pa.array(np.asarray(plan.seq_len, np.int32)),
        "vit_patches": pa.array(np.asarray(plan.pack_patches, np.int64)),
        "vit_bucket": pa.array(np.asarray(plan.vit_bucket, np.int32)),
        "loss_tokens": pa.array(loss_per_pack.astype(np.int64)),
        "attn_cost": pa.array(np.asarray(plan.attn_cost, np.float64)),
        "vit_cost": pa.array(np.asarray(plan.vit_cost, np.float64)),
        "llm_cost": pa.array(np.asarray(plan.llm_cost, np.float64)),
        "cost": pa.array(np.asarray(plan.cost, np.float64)),
        "mix_label": pa.array(label_of_pack.tolist(), pa.string()),
        "step": pa.array(step), "rank": pa.array(rank), "micro": pa.array(micro),
    }, schema=GROUP_PACK_SCHEMA)
    return GroupPlan(status=status, reason=reason, local_pack=local_pack, position=position, packs=packs,
                     n_steps=int(steps.n_steps), lower_bound=int(plan.lower_bound))


# ---- one set of shapes for the job -------------------------------------------------------------------


def group_histograms(packs: pa.Table, cfg: PackConfig) -> tuple[SizeHistogram, SizeHistogram]:
    """A group's exact histograms of pack tokens (128-token bins) and patches (patch_granule bins),
    GROUP_PACK_SCHEMA rows in: a few hundred integers whatever the group's size. The driver sums
    them over the groups (`packer.buckets.merge_histograms`) and chooses the job's buckets with
    `packer.packing.choose_shape_buckets`."""
    return (size_histogram(packs.column("real_tokens").to_numpy(), 128),
            size_histogram(packs.column("vit_patches").to_numpy(), cfg.patch_granule))


def apply_shapes(packs: pa.Table, cfg: PackConfig, shapes: ShapeBuckets) -> pa.Table:
    """GROUP_PACK_SCHEMA rows padded to the job's buckets: seq_len and vit_bucket from their real
    totals, and the linear terms of the LLM and ViT costs moved to the new padded sizes (exact: the
    attention terms do not depend on padding)."""
    seq_old = packs.column("seq_len").to_numpy().astype(np.float64)
    vb_old = packs.column("vit_bucket").to_numpy().astype(np.float64)
    seq_len, vit_bucket = shape_of(packs.column("real_tokens").to_numpy(), packs.column("vit_patches").to_numpy(),
                                   cfg, shapes)
    d_llm = cfg.llm_token_cost * (seq_len - seq_old)
    window_layers = cfg.vit_layers - cfg.vit_full_attention_layers
    per_patch = cfg.vit_layers * cfg.vit_patch_cost + window_layers * cfg.vit_attention_cost * cfg.vit_window_patches
    d_vit = per_patch * (vit_bucket - vb_old)
    out = packs
    for name, values in (("seq_len", pa.array(seq_len.astype(np.int32))), ("vit_bucket", pa.array(vit_bucket.astype(np.int32))),
                         ("llm_cost", pa.array(packs.column("llm_cost").to_numpy() + d_llm)),
                         ("vit_cost", pa.array(packs.column("vit_cost").to_numpy() + d_vit)),
                         ("cost", pa.array(packs.column("cost").to_numpy() + d_llm + d_vit))):
        out = out.set_column(out.schema.get_field_index(name), name, values)
    return out.cast(packs.schema)


# ---- the remainder group ---------------------------------------------------------------------------

# Where each leftover pack (and each filler) goes in the remainder group.
LEFTOVER_PLACEMENT_SCHEMA = pa.schema([
    ("group", pa.int32()), ("local_pack", pa.int64()),  # the pack's own group; -1, -1 for a padding filler
    ("step", pa.int64()), ("rank", pa.int32()), ("micro", pa.int32()),  # step -1: dropped as remainder
    ("is_filler", pa.bool_()),  # a padding filler, or a repeat of a pack placed elsewhere
    ("attn_cost", pa.float64()), ("vit_cost", pa.float64()), ("cost", pa.float64()),
])


@dataclass
class LeftoverPlan:
    placement: pa.Table  # LEFTOVER_PLACEMENT_SCHEMA: every leftover pack once, then fillers
    n_steps: int
    # repeat fillers: the (group, local_pack) they repeat is in `placement`; a row with
    # is_filler and group >= 0 is a repeat of that pack


def plan_leftovers(leftovers: pa.Table, cfg: PackConfig, seed: int) -> LeftoverPlan:
    """Assemble the leftover packs of every group (GROUP_PACK_SCHEMA rows, any order) into the
    steps of the remainder group, with `cfg.remainder` applied to the last partial step."""
    leftovers = leftovers.sort_by([("group", "ascending"), ("local_pack", "ascending")])
    n = leftovers.num_rows

    def arr(name: str, dtype) -> np.ndarray:
        return leftovers.column(name).to_numpy(zero_copy_only=False).astype(dtype)

    plan = PackPlan(
        pack_of=np.zeros(0, np.int64), too_long=np.zeros(0, bool), position=np.zeros(0, np.int64), n_packs=n,
        pack_tokens=arr("real_tokens", np.int64), pack_patches=arr("vit_patches", np.int64),
        pack_images=arr("n_images", np.int64), pack_samples=arr("n_samples", np.int64),
        seq_len=arr("seq_len", np.int64), vit_bucket=arr("vit_bucket", np.int64),
        attn_cost=arr("attn_cost", np.float64), vit_cost=arr("vit_cost", np.float64),
        llm_cost=arr("llm_cost", np.float64), cost=arr("cost", np.float64), lower_bound=0)
    labels = leftovers.column("mix_label").to_pylist()
    codes = {name: i for i, name in enumerate(sorted(set(labels)))}
    steps = assemble_steps(plan, cfg, seed ^ 0x7E3A1D, groups=np.array([codes[x] for x in labels], dtype=np.int64))
    grp, lp = arr("group", np.int32), arr("local_pack", np.int64)
    out_pack = np.asarray(steps.pack)
    real = out_pack >= 0
    src = np.where(real, out_pack, 0)
    rows = {
        "group": np.where(real, grp[src] if n else -1, -1).astype(np.int32),
        "local_pack": np.where(real, lp[src] if n else -1, -1).astype(np.int64),
        "step": np.asarray(steps.step, np.int64), "rank": np.asarray(steps.rank, np.int32),
        "micro": np.asarray(steps.micro, np.int32), "is_filler": np.asarray(steps.is_filler, bool),
        "attn_cost": np.asarray(steps.attn_cost, np.float64), "vit_cost": np.asarray(steps.vit_cost, np.float64),
        "cost": np.asarray(steps.cost, np.float64),
    }
    dropped = np.asarray(steps.dropped_packs, np.int64)
    if dropped.size:
        for name, fill in (("group", grp[dropped]), ("local_pack", lp[dropped])):
            rows[name] = np.concatenate((rows[name], fill))
        for name in ("step", "rank", "micro"):
            rows[name] = np.concatenate((rows[name], np.full(dropped.size, -1, rows[name].dtype)))
        rows["is_filler"] = np.concatenate((rows["is_filler"], np.zeros(dropped.size, bool)))
        for name in ("attn_cost", "vit_cost", "cost"):
            rows[name] = np.concatenate((rows[name], getattr(plan, name)[dropped]))
    placement = pa.table({k: pa.array(v) for k, v in rows.items()}, schema=LEFTOVER_PLACEMENT_SCHEMA)
    return LeftoverPlan(placement=placement, n_steps=int(steps.n_steps))


# ---- the global sequence ---------------------------------------------------------------------------


def global_steps(step_counts, group: int, local_steps) -> np.ndarray:
    """The global step of `group`'s local steps, interleaving groups of `step_counts` steps.

    Step s of a group of S steps has the key (2s + 1) / 2S; all steps of all groups ordered by key
    (ties: by group) are the global sequence. Exact in integers."""
    counts = np.asarray(step_counts, dtype=np.int64)
    s = np.asarray(local_steps, dtype=np.int64)
    sg = int(counts[group])
    out = np.zeros(s.shape, dtype=np.int64)
    if s.size == 0:
        return out
    if sg == 0:
        raise ValueError(f"group {group} has no steps")
    for h, sh in enumerate(counts.tolist()):
        if sh == 0:
            continue
        if h == group:
            out += s
            continue
        a = (2 * s + 1) * sh  # key(h, t) < key(g, s)  <=>  (2t + 1)·S_g < (2s + 1)·S_h = a
        less = np.clip((a - sg + 2 * sg - 1) // (2 * sg), 0, sh)
        less = np.where(a - sg <= 0, 0, less)
        if h < group:  # equal keys: the smaller group first
            q, r = np.divmod(a, sg)
            equal = (r == 0) & (q % 2 == 1) & ((q - 1) // 2 < sh)
            less = less + equal
        out += less
    return out


def pack_number(step, rank, micro, cfg: PackConfig) -> np.ndarray:
    """pack_id of each (global step, rank, micro): packs numbered in (step, rank, micro) order."""
    k = cfg.packs_per_rank_step
    return (np.asarray(step, np.int64) * (cfg.dp_size * k) + np.asarray(rank, np.int64) * k
            + np.asarray(micro, np.int64))


def shard_index(step, micro, cfg: PackConfig) -> np.ndarray:
    """The shard (within its rank) of each (global step, micro): a rank's packs in (step, micro)
    order, `packs_per_shard` per shard."""
    return (np.asarray(step, np.int64) * cfg.packs_per_rank_step + np.asarray(micro, np.int64)) // cfg.packs_per_shard
