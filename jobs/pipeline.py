"""The pack job on Ray Data: read → probe → filter → grounding → dedupe → tokens → mix → pack →
assemble steps → write → report (DESIGN.md, "Data flow of a pack job").

Row-local stages run as `map_batches` over pyarrow batches. The global stages move only small
columns to the driver (ids, statuses, integer lengths): packing and step assembly are pure integer
planning (`packer.packing`, `packer.steps`). Writing regroups the rows by shard (a Ray Data
groupby) and each group renders and writes one shard; the driver then writes the indexes, the
statistics and, last, `manifest.json`.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from jobs import checkpoints as ckpt
from jobs import stages
from jobs.file_stages import FILES_DIR
from jobs.inputs import InputFile, input_files, input_fingerprint, job_fingerprint
from jobs.output_lock import OutputLock, sweep_temp_files
from jobs.readers import REASON_HINTS
from schemas.config import JobConfig
from schemas.manifest import (
    JOB_CONFIG_NAME,
    LEDGER_PATH,
    LEDGER_SCHEMA,
    MANIFEST_NAME,
    PACKS_PATH,
    PACKS_SCHEMA,
    STATS_PATH,
    Manifest,
    ShardEntry,
    Status,
)
from schemas.sample import STATUS_OK

log = logging.getLogger("vlpack")

INDEX_COLUMNS = [
    "sample_id", "copy", "source", "task", "status", "reason", "dup_of", "lang", "lang_score",
    "text_tokens", "vision_tokens", "loss_tokens", "total_tokens", "vit_patches", "n_images", "repairs",
]


class JobError(RuntimeError):
    """A job that cannot complete; the message says why and what to do."""


@dataclass
class JobResult:
    out_dir: Path
    manifest: Manifest
    stats: dict
    timings: dict[str, float] = field(default_factory=dict)
    already_complete: bool = False
    html: Path | None = None


def init_ray(cfg: JobConfig, address: str | None = None) -> bool:
    """Start the embedded local runtime (default) or connect to `address`. True if we started it."""
    import ray

    from jobs.progress import quiet_ray_logs, status

    if ray.is_initialized():
        return False
    address = address or cfg.ray.address
    quiet_ray_logs()
    status(f"connecting to the Ray cluster at {address}…" if address else
           f"starting local Ray ({cfg.ray.num_cpus or os.cpu_count()} CPUs)…")
    common = dict(include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
    root = Path(__file__).resolve().parent.parent
    if address:
        # Workers on other nodes cannot see this checkout: ship the project packages with the job.
        from jobs.submit import PROJECT_PACKAGES

        runtime_env = {"py_modules": [str(root / pkg) for pkg in PROJECT_PACKAGES],
                       "excludes": ["__pycache__", "*.pyc"]}
        ray.init(address=address, runtime_env=runtime_env, **common)
    else:
        env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
        ray.init(num_cpus=cfg.ray.num_cpus, object_store_memory=cfg.ray.object_store_memory,
                 runtime_env={"env_vars": env}, **common)
    return True


def configure_data_context(progress: bool) -> None:
    import ray

    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True
    ctx.enable_progress_bars = progress
    ctx.print_on_execution_start = False
    ctx.raise_original_map_exception = True  # a SourceFileError reaches the CLI as itself, naming the file
    from jobs.progress import quiet_ray_logs

    quiet_ray_logs()  # after importing ray.data, which sets up its loggers
    if not progress:
        logging.getLogger("ray.data").setLevel(logging.WARNING)


def committed_manifest(out: Path) -> Manifest | None:
    path = Path(out) / MANIFEST_NAME
    if not path.exists():
        return None
    try:
        return Manifest.model_validate_json(path.read_text())
    except ValueError as err:
        raise JobError(f"{path} is not a vlpack manifest ({str(err).splitlines()[0]}); move it away or choose "
                       f"another output.dir") from None


@dataclass(frozen=True)
class JobInputs:
    """What one run is made from: its source files and the fingerprints that name the output."""

    files: list[InputFile]
    fingerprint: str  # of the inputs
    job_fingerprint: str  # of the config and the inputs: names checkpoints, submissions, outputs

    @classmethod
    def of(cls, cfg: JobConfig) -> JobInputs:
        files = input_files(cfg)
        fp = input_fingerprint(files)
        return cls(files=files, fingerprint=fp, job_fingerprint=job_fingerprint(cfg.fingerprint(), fp))


def prepare_output(cfg: JobConfig, inputs: JobInputs, *, force: bool = False) -> Path:
    """Make `out` ready for this job; the caller holds the output lock.

    - A committed output of another config is replaced only with `output.overwrite`.
    - A committed output of this config made from other inputs (or damaged) is uncommitted and
      rebuilt; shards journaled for this job's fingerprint are kept for resuming.
    - Checkpoints of other job fingerprints are removed; per-file checkpoints stay (they are
      keyed by their own file) unless `force`.
    - Temporary files whose writer is gone are removed.
    """
    out = Path(cfg.output.dir)
    existing = committed_manifest(out)
    if existing is not None:
        if existing.config_fingerprint != cfg.fingerprint() and not cfg.output.overwrite:
            raise JobError(f"{out} already holds a committed output of another config "
                           f"({existing.config_fingerprint}); set output.overwrite: true or choose another output.dir")
        (out / MANIFEST_NAME).unlink()  # uncommit first, then clear what it listed
        if existing.job_fingerprint != inputs.job_fingerprint or force:
            for sub in ("shards", "index", "report"):
                shutil.rmtree(out / sub, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    state = out / ckpt.STATE_DIR
    if state.is_dir():  # intermediates of other jobs can never be reused
        for d in state.iterdir():
            if d.is_dir() and (d.name != inputs.job_fingerprint or force) and (d.name != FILES_DIR or force):
                shutil.rmtree(d, ignore_errors=True)
    removed = sweep_temp_files(out, all_writers_done=False)
    if removed:
        log.info("removed %d temporary files left by runs that ended", len(removed))
    return out


def run_job(cfg: JobConfig, *, address: str | None = None, progress: bool = False, force: bool = False) -> JobResult:
    """Run (or resume) a pack job. A committed output of the same config and the same inputs is
    returned as it is, after a check that its files are the ones it lists (`force`: recompute
    everything). Only one run writes an output directory at a time (`OutputLock`)."""
    import ray

    timings: dict[str, float] = {}
    t_job = time.perf_counter()
    inputs = preflight(cfg)  # paths, formats, readability: before any lock, directory or Ray
    out = Path(cfg.output.dir)
    with OutputLock(out, ckpt.STATE_DIR):
        existing = committed_manifest(out)
        if existing is not None and not force and existing.job_fingerprint == inputs.job_fingerprint:
            damage = ckpt.committed_damage(out, existing, inputs.job_fingerprint)
            if damage is None:
                stats = json.loads((out / STATS_PATH).read_text()) if (out / STATS_PATH).exists() else {}
                html = out / "report" / "report.html"
                return JobResult(out_dir=out, manifest=existing, stats=stats, already_complete=True,
                                 html=html if html.exists() else None)
            log.warning("%s does not match its manifest (%s); rebuilding what is damaged", out, damage)
        elif existing is not None and existing.config_fingerprint == cfg.fingerprint() and not force:
            log.warning("the inputs of %s changed since it was committed; recomputing what depends on them", out)
        out = prepare_output(cfg, inputs, force=force)
        state = ckpt.checkpoint_dir(out, inputs.job_fingerprint)
        started = init_ray(cfg, address)
        try:
            configure_data_context(False)  # our own per-stage progress replaces Ray Data's operator bars
            with _progress(cfg, progress, len(inputs.files)):
                return _run(cfg, inputs, out, state, timings, t_job)
        finally:
            if started:
                ray.shutdown()


def preflight(cfg: JobConfig) -> JobInputs:
    """The checks that need no Ray: every source has readable files of its format, the output
    directory can be made and written. Returns the fingerprinted inputs."""
    inputs = JobInputs.of(cfg)
    out = Path(cfg.output.dir)
    probe = out
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise JobError(f"output.dir {out}: {probe} is not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise JobError(f"output.dir {out}: {probe} is not writable")
    return inputs


def _progress(cfg: JobConfig, enabled: bool, n_files: int):
    import contextlib

    if not enabled:
        return contextlib.nullcontext()
    from jobs.progress import ProgressPrinter

    names = ["read"] + [n for n, _ in stages.stage_plan(cfg)] + [n for n, _ in stages.post_dedup_plan(cfg)] + ["write"]
    return ProgressPrinter(n_files, names)


def _run(cfg: JobConfig, inputs: JobInputs, out: Path, state: Path, timings: dict, t_job: float) -> JobResult:
    ds, dedup_stats, n_files = _processed_rows(cfg, inputs, out / ckpt.STATE_DIR, state / "rows", timings)

    t0 = time.perf_counter()
    plan = _plan(cfg, ds, state / "plan")
    timings["pack_assemble"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    shards = _write_shards(cfg, ds, plan, out, state / "journal")
    timings["write_shards"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    from packer.tokenizer import load_tokenizer

    tok = load_tokenizer(cfg.tokens.tokenizer)
    indexes = _write_indexes(out, plan)
    (out / JOB_CONFIG_NAME).write_text(cfg.to_yaml())
    timings["write_indexes"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - t_job
    stats = _write_stats(cfg, out, plan, plan.counters, dedup_stats, timings, n_files)
    from packer.report_html import write_report

    html = write_report(out)
    manifest = Manifest(
        vlpack_version=_version(),
        config_fingerprint=cfg.fingerprint(),
        input_fingerprint=inputs.fingerprint,
        job_fingerprint=inputs.job_fingerprint,
        n_input_files=len(inputs.files),
        input_bytes=sum(f.size for f in inputs.files),
        seed=cfg.seed,
        dp_size=cfg.pack.dp_size,
        micro_batch=cfg.pack.micro_batch,
        grad_accum=cfg.pack.grad_accum,
        context_length=cfg.pack.context_length,
        n_steps=plan.n_steps,
        n_packs=plan.packs.num_rows,
        n_samples_packed=int(np.sum(np.asarray(pc.equal(plan.ledger.column("status"), Status.packed.value)))),
        n_input_rows=int(np.sum(plan.ledger.column("copy").to_numpy() == 0)),
        shards=shards,
        indexes=indexes,
        tokenizer=tok.name,
        special_tokens=dict(sorted(tok.special.items())),
    )
    listed = {s.path for s in shards}
    for stale in (out / "shards").rglob("*.tar") if (out / "shards").is_dir() else []:
        if str(stale.relative_to(out)) not in listed:
            stale.unlink()
    # Every task of this run has ended: a temporary file left now is an orphan of a killed writer.
    sweep_temp_files(out, all_writers_done=True)
    try:
        ckpt.check_against_journal(out, shards, state / "journal")
    except ckpt.JournalMismatch as err:
        raise JobError(str(err)) from None
    ckpt.record_committed(out, state, manifest)
    _commit_manifest(out, manifest)
    return JobResult(out_dir=out, manifest=manifest, stats=stats, timings=timings, html=html)


def _processed_rows(cfg: JobConfig, inputs: JobInputs, state_root: Path, rows_dir: Path, timings: dict):
    """Read → probe → filter → grounding (per file, `jobs.file_stages`) → dedupe → tokens → mix,
    or the checkpoint of it."""
    import ray

    from jobs.file_stages import DuplicateIdError, per_file_rows

    if ckpt.is_complete(rows_dir):
        info = json.loads((rows_dir / ckpt.SUCCESS).read_text())
        ds = ray.data.read_parquet(str(rows_dir / "data")).materialize()
        timings["resumed_rows_checkpoint"] = 1.0
        return ds, info["dedup"], info["n_files"]
    n_files = len(inputs.files)
    t0 = time.perf_counter()
    try:
        file_rows = per_file_rows(cfg, inputs.files, state_root)
    except DuplicateIdError as err:
        raise JobError(str(err)) from None
    ds = ray.data.from_arrow_refs(file_rows.refs).materialize()
    timings["read_probe_filter_grounding"] = time.perf_counter() - t0
    timings["files_reused"] = float(file_rows.reused)
    timings["files_computed"] = float(file_rows.computed)
    ckpt.prune_file_checkpoints(state_root, keep=file_rows.keys)
    dedup_stats: dict = {}
    if cfg.dedup.enabled:
        from jobs.dedup_stage import dedupe

        t0 = time.perf_counter()
        ds, dedup_stats = dedupe(ds, cfg.dedup, seed=cfg.seed)
        ds = ds.materialize()
        timings["dedupe"] = time.perf_counter() - t0
    ds = _apply_stages(ds, stages.post_dedup_plan(cfg), batch_size=cfg.ray.batch_size)
    t0 = time.perf_counter()
    ds = ds.materialize()
    timings["tokens_mix"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    shutil.rmtree(rows_dir, ignore_errors=True)
    ds.write_parquet(str(rows_dir / "data"))
    ckpt.mark_complete(rows_dir, {"dedup": dedup_stats, "n_files": n_files})
    timings["checkpoint_rows"] = time.perf_counter() - t0
    return ds, dedup_stats, n_files


def _apply_stages(ds, plan: list, *, batch_size: int | None):
    for name, fn in plan:
        ds = ds.map_batches(stages.named_stage(name, fn), batch_format="pyarrow",
                            batch_size=batch_size, zero_copy_batch=False)
    return ds


def _plan(cfg: JobConfig, ds, plan_dir: Path) -> JobPlan:
    if ckpt.is_complete(plan_dir):
        tables, info = ckpt.load_tables(plan_dir, ["packs", "ledger", "assign"])
        return JobPlan(packs=tables["packs"], ledger=tables["ledger"], assign=tables["assign"],
                       n_steps=info["n_steps"], counters=info["counters"])
    index = _gather_index(ds)
    counters = stages.sum_counters(index.column(stages.COUNTERS).to_pylist())
    index = index.drop_columns([stages.COUNTERS])
    _check_unique_keys(index)
    _check_bad_fraction(cfg, index)
    plan = plan_job(cfg, index)
    plan.counters = counters
    ckpt.save_tables(plan_dir, {"packs": plan.packs, "ledger": plan.ledger, "assign": plan.assign},
                     {"n_steps": plan.n_steps, "counters": counters})
    return plan


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("vlpack")
    except Exception:  # noqa: BLE001 - running from a source tree without metadata
        return "0+unknown"


# ---- read ---------------------------------------------------------------------------------------


def _gather_index(ds) -> pa.Table:
    """The small columns of every row, sorted by (sample_id, copy): all the planning needs."""
    import ray

    refs = ds.select_columns(INDEX_COLUMNS + [stages.COUNTERS]).to_arrow_refs()
    tables = [t for t in ray.get(refs) if t.num_rows]
    index = pa.concat_tables(tables) if tables else pa.table({c: [] for c in INDEX_COLUMNS + [stages.COUNTERS]})
    return index.sort_by([("sample_id", "ascending"), ("copy", "ascending")])


def _check_unique_keys(index: pa.Table) -> None:
    ids = index.column("sample_id").to_numpy(zero_copy_only=False)
    copies = index.column("copy").to_numpy()
    same = (ids[1:] == ids[:-1]) & (copies[1:] == copies[:-1])
    if same.any():
        first = ids[1:][same][:5].tolist()
        raise JobError(f"{int(same.sum())} sample ids occur more than once across files, e.g. {first}; "
                       f"give every sample a unique id within its source")


def _check_bad_fraction(cfg: JobConfig, index: pa.Table) -> None:
    status = index.column("status").to_numpy(zero_copy_only=False)
    reason = index.column("reason").to_numpy(zero_copy_only=False)
    source = index.column("source").to_numpy(zero_copy_only=False)
    ids = index.column("sample_id").to_numpy(zero_copy_only=False)
    first_copy = index.column("copy").to_numpy() == 0
    for s in cfg.sources:
        mine = (source == s.name) & first_copy
        n = int(mine.sum())
        bad = mine & (status == Status.invalid.value)
        if n and bad.sum() / n > s.max_bad_fraction:
            top = Counter(reason[bad].tolist()).most_common(3)
            examples = ids[bad][:3].tolist()
            raise JobError(
                f"source {s.name!r}: {int(bad.sum())} of {n} samples are invalid "
                f"({bad.sum() / n:.1%} > max_bad_fraction {s.max_bad_fraction}); top reasons: "
                + ", ".join(f"{r} ×{c}" for r, c in top) + f"; e.g. {examples}"
                + "".join(f". Hint: {REASON_HINTS[r]}" for r, _ in top[:1] if r in REASON_HINTS)
            )


# ---- plan ---------------------------------------------------------------------------------------


@dataclass
class JobPlan:
    """The whole plan, small and integer-valued: packs table, ledger, and who goes where."""

    packs: pa.Table  # PACKS_SCHEMA, sorted by pack_id
    ledger: pa.Table  # LEDGER_SCHEMA, sorted by (sample_id, copy)
    assign: pa.Table  # jobs.shard_stage.ASSIGN_SCHEMA: (sample_id, copy) -> pack_id, position, shard
    n_steps: int
    counters: dict = field(default_factory=dict)


def plan_job(cfg: JobConfig, index: pa.Table) -> JobPlan:
    from packer.steps import assemble_steps

    from packer.packing import plan_packs

    pc_cfg = cfg.pack
    if pc_cfg.split_text_only:
        raise JobError("pack.split_text_only is planned on integers (packer.packing) but the pipeline does not "
                       "yet write split samples; set pack.split_text_only: false")
    status = np.array(index.column("status").to_pylist(), dtype=object)
    reason = np.array(index.column("reason").to_pylist(), dtype=object)
    ok_rows = np.nonzero(status == STATUS_OK)[0]
    tok = index.column("total_tokens").to_numpy(zero_copy_only=False)[ok_rows].astype(np.int64)
    pat = index.column("vit_patches").to_numpy(zero_copy_only=False)[ok_rows].astype(np.int64)
    img = index.column("n_images").to_numpy(zero_copy_only=False)[ok_rows].astype(np.int64)
    plan = plan_packs(tok, pat, img, pc_cfg)
    too_long = np.asarray(plan.too_long, dtype=bool)
    for r, t, p in zip(ok_rows[too_long], tok[too_long], pat[too_long]):
        status[r] = Status.too_long.value
        reason[r] = ("pack.too_many_tokens" if t > pc_cfg.context_length else
                     "pack.too_many_vit_patches" if p > pc_cfg.max_vit_patches else "pack.too_many_images")
    # group id per plan pack = its dominant (source, task), for keeping the mix even across steps
    source_task = np.array([f"{s}|{t}" for s, t in zip(index.column("source").to_pylist(),
                                                        index.column("task").to_pylist())], dtype=object)[ok_rows]
    pack_of = np.asarray(plan.pack_of)
    groups = _pack_groups(pack_of, source_task, plan.n_packs)
    steps = assemble_steps(plan, pc_cfg, cfg.seed, groups=groups)

    # members of each plan pack, in position order
    order = np.lexsort((np.asarray(plan.position), pack_of))
    order = order[pack_of[order] >= 0]
    bounds = np.searchsorted(pack_of[order], np.arange(plan.n_packs + 1))
    ids = index.column("sample_id").to_pylist()
    copies = index.column("copy").to_pylist()
    plan_members = [[(ids[ok_rows[k]], copies[ok_rows[k]]) for k in order[bounds[p]:bounds[p + 1]]]
                    for p in range(plan.n_packs)]
    for p in np.asarray(steps.dropped_packs, dtype=np.int64):
        for k in order[bounds[p]:bounds[p + 1]]:
            status[ok_rows[k]] = Status.remainder.value
            reason[ok_rows[k]] = "pack.remainder_dropped"

    out_pack = np.asarray(steps.pack, dtype=np.int64)
    n_out = len(out_pack)
    pack_id_of_row = np.full(index.num_rows, -1, dtype=np.int64)
    members: list[list[tuple[str, int]]] = []
    rows = {name: [] for name in PACKS_SCHEMA.names}
    bucket_of = np.asarray(plan.seq_len)
    for pid in range(n_out):
        p = int(out_pack[pid])
        rank = int(steps.rank[pid])
        shard = f"shards/rank-{rank:05d}/shard-{int(steps.shard[pid]):06d}.tar"
        mem = plan_members[p] if p >= 0 else []
        members.append(mem)
        if p >= 0 and not bool(steps.is_filler[pid]):
            for k in order[bounds[p]:bounds[p + 1]]:
                pack_id_of_row[ok_rows[k]] = pid
        rows["pack_id"].append(pid)
        rows["step"].append(int(steps.step[pid]))
        rows["rank"].append(rank)
        rows["micro"].append(int(steps.micro[pid]))
        rows["shard"].append(shard)
        rows["key"].append(f"pack-{pid:09d}")
        rows["n_samples"].append(len(mem))
        rows["n_images"].append(int(plan.pack_images[p]) if p >= 0 else 0)
        rows["real_tokens"].append(int(plan.pack_tokens[p]) if p >= 0 else 0)
        rows["seq_len"].append(int(bucket_of[p]) if p >= 0 else int(min(pc_cfg.llm_buckets)))
        rows["vit_patches"].append(int(plan.pack_patches[p]) if p >= 0 else 0)
        rows["vit_bucket"].append(int(plan.vit_bucket[p]) if p >= 0 else 0)
        rows["loss_tokens"].append(0)
        rows["attn_cost"].append(float(plan.attn_cost[p]) if p >= 0 else 0.0)
        rows["vit_cost"].append(float(plan.vit_cost[p]) if p >= 0 else 0.0)
        rows["cost"].append(float(plan.cost[p]) if p >= 0 else 0.0)
        rows["is_filler"].append(bool(steps.is_filler[pid]))
        rows["repeat_of"].append(int(steps.repeat_of[pid]))
    # loss tokens per pack from the per-sample counts
    loss = index.column("loss_tokens").to_numpy(zero_copy_only=False)
    row_of_key = {(ids[r], copies[r]): r for r in ok_rows}
    rows["loss_tokens"] = [int(sum(loss[row_of_key[m]] for m in mem)) for mem in members]
    packs = pa.table(rows, schema=PACKS_SCHEMA)

    packed = (status == STATUS_OK) & (pack_id_of_row >= 0)
    status[packed] = Status.packed.value
    leftover = (status == STATUS_OK)
    if leftover.any():  # a programming error: every row must have a fate
        raise JobError(f"{int(leftover.sum())} rows have no fate after packing, e.g. {np.array(ids)[leftover][:3]}")
    ledger_cols = {c: index.column(c) for c in LEDGER_SCHEMA.names if c in index.column_names}
    ledger_cols["status"] = pa.array(status.tolist(), pa.string())
    ledger_cols["reason"] = pa.array(reason.tolist(), pa.string())
    ledger_cols["pack_id"] = pa.array(np.where(pack_id_of_row >= 0, pack_id_of_row, None).tolist(), pa.int64())
    ledger = pa.table({c: ledger_cols[c] for c in LEDGER_SCHEMA.names}).cast(LEDGER_SCHEMA)
    n_steps = int(max(steps.step) + 1) if n_out else 0
    from jobs.shard_stage import assignment_table

    return JobPlan(packs=packs, ledger=ledger, assign=assignment_table(members, packs.column("shard").to_pylist()),
                   n_steps=n_steps)


def _pack_groups(pack_of: np.ndarray, labels: np.ndarray, n_packs: int) -> np.ndarray:
    """The most common (source|task) label of each pack, as a small int id (ties: smallest label)."""
    names = sorted(set(labels.tolist()))
    code = {n: i for i, n in enumerate(names)}
    counts = np.zeros((n_packs, max(1, len(names))), dtype=np.int64)
    valid = pack_of >= 0
    np.add.at(counts, (pack_of[valid], np.array([code[x] for x in labels[valid]], dtype=np.int64)), 1)
    return counts.argmax(axis=1).astype(np.int64)


# ---- write --------------------------------------------------------------------------------------


def _write_shards(cfg: JobConfig, ds, plan: JobPlan, out: Path, journal: Path) -> list[ShardEntry]:
    """Write every shard not already committed and verified; return all shard entries."""
    import ray

    from jobs.shard_stage import attach_assignment, write_shard_group, write_shard_packs

    shard_packs: dict[str, list[int]] = {}
    for pid, shard in enumerate(plan.packs.column("shard").to_pylist()):
        shard_packs.setdefault(shard, []).append(pid)
    done = ckpt.verified_shards(out, journal)
    todo = {s: p for s, p in shard_packs.items() if s not in done}
    keep = pc.is_in(plan.assign.column("shard"), pa.array(sorted(todo), pa.string()))
    assign = plan.assign.filter(keep)
    shared = {"packs": plan.packs, "shard_packs": todo, "journal": str(journal)}
    plan_ref, assign_ref = ray.put(shared), ray.put(assign)

    def attach(batch: pa.Table) -> pa.Table:
        return attach_assignment(batch, ray.get(assign_ref))

    def write(group: pa.Table) -> pa.Table:
        return write_shard_group(group, ray.get(plan_ref), cfg, str(out))

    if assign.num_rows:
        written = (ds.drop_columns([stages.COUNTERS])
                   .map_batches(attach, batch_format="pyarrow", batch_size=cfg.ray.batch_size, zero_copy_batch=False)
                   .groupby("shard", num_partitions=max(1, min(len(todo), 256)))
                   .map_groups(write, batch_format="pyarrow"))
        for t in ray.get(written.to_arrow_refs()):
            for r in t.to_pylist():
                done[r["path"]] = r
    # shards made only of filler packs have no rows to group: write them here
    for shard, pids in todo.items():
        if shard not in done:
            done[shard] = write_shard_packs(None, pids, shared, cfg, str(out), shard)
    return [ShardEntry(path=p, rank=int(r["rank"]), sha256=r["sha256"], bytes=int(r["bytes"]),
                       n_packs=int(r["n_packs"])) for p, r in sorted(done.items()) if p in shard_packs]


def _write_indexes(out: Path, plan: JobPlan) -> dict[str, str]:
    from packer.shards import commit_file

    digests = {}
    for rel, table in ((PACKS_PATH, plan.packs), (LEDGER_PATH, plan.ledger)):
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="zstd", write_statistics=True)
        digests[rel] = commit_file(out / rel, sink.getvalue().to_pybytes())
    return digests


def _write_stats(cfg, out, plan, counters, dedup_stats, timings, n_files) -> dict:
    from packer.shards import commit_file
    from packer.stats import compute_stats

    stats = compute_stats(plan.packs, plan.ledger, cfg=cfg, counters=counters, dedup=dedup_stats,
                          timings=timings, n_files=n_files)
    commit_file(out / STATS_PATH, json.dumps(stats, indent=1, sort_keys=True, default=float).encode())
    return stats


def _commit_manifest(out: Path, manifest: Manifest) -> None:
    from packer.shards import commit_file

    commit_file(out / MANIFEST_NAME, manifest.model_dump_json(indent=1).encode())
