"""The pack job on Ray: read → probe → filter → grounding → dedupe → tokens → mix → pack →
assemble steps → write → report (DESIGN.md, "Data flow of a pack job").

Per-file stages run as one Ray task per source file (`jobs.file_stages`), the row-local stages
after dedup as `map_batches`. Planning runs per planning group as Ray tasks and the tasks that own
the rows write the index parts (`jobs.planning`); the write joins rows with the plan and regroups
them by shard (`jobs.shard_stage`). The driver holds the config, O(files + groups + shards) of
plan and results, and merged statistics; then it writes `manifest.json`, last.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path


from jobs import checkpoints as ckpt
from jobs import stages
from jobs.driver_memory import give_back_freed, limit_arenas
from jobs.inputs import InputFile, input_files, input_fingerprint, job_fingerprint
from jobs.output_lock import OutputLock, sweep_temp_files
from jobs.progress import shutdown_ray
from schemas.config import JobConfig
from schemas.manifest import (
    JOB_CONFIG_NAME,
    MANIFEST_NAME,
    STATS_PATH,
    Manifest,
    ShardEntry,
)

log = logging.getLogger("vlpack")
CACHE_DIR = "cache"  # OUT/.vlpack/cache: stage results, unless cache.dir names a shared one

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


# Ray spills objects the object store cannot hold into files of at least 100 MB, fusing many
# objects into one, and deletes a file only once every object in it is freed: a stage's freed rows
# stay on disk as long as one object of a later stage shares their file. One object per file frees
# the disk as the objects are freed: at 1M samples with a 1 GB object store the spill directory's
# peak went from 4,768 MB to 1,613 MB (set by environment) and 2,003 MB (set here); the 10M run
# stopped with 46.6 GB of it on disk. Set for the embedded runtime; a cluster's is set by its `ray start`.
SPILL_ONE_OBJECT_PER_FILE = {"min_spilling_size": 0, "max_fused_object_count": 1}


def init_ray(cfg: JobConfig, address: str | None = None) -> bool:
    """Start the embedded local runtime (default) or connect to `address`. True if we started it."""
    import ray

    from jobs.progress import quiet_ray_logs, status

    if ray.is_initialized():
        return False
    address = address or cfg.ray.address
    limit_arenas()  # before Ray starts the driver's threads (jobs.driver_memory)
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
                 runtime_env={"env_vars": env}, _system_config=SPILL_ONE_OBJECT_PER_FILE, **common)
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
            if d.is_dir() and (d.name != inputs.job_fingerprint or force) and d.name not in (CACHE_DIR, "logs"):
                shutil.rmtree(d, ignore_errors=True)
    removed = sweep_temp_files(out, all_writers_done=False)
    if removed:
        log.info("removed %d temporary files left by runs that ended", len(removed))
    return out


def run_job(cfg: JobConfig, *, address: str | None = None, progress: bool = False, force: bool = False) -> JobResult:
    """Run (or resume) a pack job. A committed output of the same config and the same inputs is
    returned as it is, after a check that its files are the ones it lists (`force`: recompute
    everything). Only one run writes an output directory at a time (`OutputLock`)."""

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
                return _run(cfg, inputs, out, state, timings, t_job, force=force)
        finally:
            if started:
                shutdown_ray()


def preflight(cfg: JobConfig) -> JobInputs:
    """The checks that need no Ray: every source has readable files of its format, the output
    directory can be made and written. Returns the fingerprinted inputs."""
    from jobs.readers import check_parquet_container

    inputs = JobInputs.of(cfg)
    sources = {s.name: s for s in cfg.sources}
    for f in inputs.files:
        if sources[f.source].format == "parquet":
            check_parquet_container(f.path, sources[f.source])
    out = Path(cfg.output.dir)
    probe = out
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise JobError(f"output.dir {out}: {probe} is not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise JobError(f"output.dir {out}: {probe} is not writable")
    if _foreign(out):
        raise JobError(f"output.dir {out} is not empty and holds nothing of a vlpack output (no "
                       f"{', '.join(sorted(_OUTPUT_NAMES))}); choose a new or empty directory")
    _check_scorer_cpus(cfg)
    return inputs


# What an output directory holds (`schemas.manifest`): one of these marks a vlpack output, even a
# run's that never committed.
_OUTPUT_NAMES = frozenset((MANIFEST_NAME, ckpt.STATE_DIR, "shards", "index", "report"))


def _foreign(out: Path) -> bool:
    """`out` is a directory with files in it, none of them part of a vlpack output."""
    if not out.is_dir():
        return False
    names = {p.name for p in out.iterdir()}
    return bool(names) and not names & _OUTPUT_NAMES


@dataclass(frozen=True)
class OutputState:
    """What a run would find in its output directory (`output_state`)."""

    text: str
    refused: bool  # a run would stop at once, writing nothing
    complete: bool  # a run would do nothing: the output is committed for this config and these inputs


def output_state(cfg: JobConfig, inputs: JobInputs) -> OutputState:
    """The state of `cfg`'s output directory as a run would judge it (no lock is taken)."""
    from jobs.output_lock import lock_holder

    out = Path(cfg.output.dir)
    holder = lock_holder(out) if out.is_dir() else None
    manifest = committed_manifest(out)
    if holder:
        return OutputState(f"being written now by {holder} (a run would refuse until it ends)", True, False)
    if manifest is None:
        if not out.exists() or not any(out.iterdir()):
            return OutputState("no committed output yet", False, False)
        return OutputState("not committed (a run would resume or start it)", False, False)
    if manifest.job_fingerprint == inputs.job_fingerprint:
        return OutputState("committed for this config and these inputs (a run would do nothing)", False, True)
    if manifest.config_fingerprint == cfg.fingerprint():
        return OutputState("committed for this config, but the inputs changed since (a run would recompute)",
                           False, False)
    if cfg.output.overwrite:
        return OutputState("committed for another config (a run replaces it: output.overwrite is on)", False, False)
    return OutputState("committed for another config (a run would refuse: set output.overwrite: true or choose "
                       "another output.dir)", True, False)


def _check_scorer_cpus(cfg: JobConfig) -> None:
    """On the embedded runtime, scorer actors that take every CPU leave none for the other
    stages and the job would hang: refuse before Ray starts."""
    from jobs.scorer_stage import scorer_plan

    plan = scorer_plan(cfg)
    if not plan or cfg.ray.address:
        return
    cpus = cfg.ray.num_cpus or os.cpu_count() or 1
    stage = plan[0][1]
    taken = stage.concurrency * stage.num_cpus
    if taken > cpus - 1:
        raise JobError(f"filters.scorers: {stage.concurrency} actors × {stage.num_cpus:g} CPUs take {taken:g} of the "
                       f"{cpus} CPUs of the embedded runtime and leave none for the other stages; lower "
                       f"filters.scorers.concurrency or num_cpus (at most {max(cpus - 1, 0)} CPUs in all), or raise "
                       f"ray.num_cpus")


def _progress(cfg: JobConfig, enabled: bool, n_files: int):
    import contextlib

    if not enabled:
        return contextlib.nullcontext()
    from jobs.progress import ProgressPrinter

    from jobs.scorer_stage import scorer_plan

    names = (["read"] + [n for n, _ in stages.stage_plan(cfg)] + [n for n, _ in scorer_plan(cfg)]
             + [n for n, _ in stages.post_dedup_plan(cfg)] + ["write"])
    return ProgressPrinter(n_files, names)


def _run(cfg: JobConfig, inputs: JobInputs, out: Path, state: Path, timings: dict, t_job: float,
         force: bool = False) -> JobResult:
    from jobs.planning import plan_rows, write_index_parts
    from jobs.shard_stage import planning_rows, spool_rows, write_shards

    ds, dedup_stats, ran = _processed_rows(cfg, inputs, out, timings, force=force)
    n_files = len(inputs.files)

    t0 = time.perf_counter()
    spool = spool_rows(ds, state / "spool")  # what writing needs, on disk: the store keeps planning's columns
    ds = planning_rows(ds)
    timings["spool_rows"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    summary = plan_rows(cfg, ds, state / "plan")
    del ds
    give_back_freed(time.perf_counter() - t0)
    timings["pack_assemble"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    index = write_index_parts(summary, cfg, out, state / "plan")
    timings["write_indexes"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    journal = state / "journal"
    written = write_shards(cfg, spool, index.assign_paths, out, journal, ckpt.verified_shards(out, journal),
                           n_packs=index.n_packs)
    shards = [ShardEntry(path=p, rank=int(r["rank"]), sha256=r["sha256"], bytes=int(r["bytes"]),
                         n_packs=int(r["n_packs"])) for p, r in sorted(written.items())]
    give_back_freed(time.perf_counter() - t0)
    timings["write_shards"] = time.perf_counter() - t0

    from packer.tokenizer import tokenizer_identity

    tok_name, tok_special = tokenizer_identity(cfg.tokens.tokenizer)
    (out / JOB_CONFIG_NAME).write_text(cfg.to_yaml())
    timings["total"] = time.perf_counter() - t_job
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
        n_steps=summary.n_steps,
        n_packs=index.n_packs,
        n_samples_packed=index.n_packed,
        n_input_rows=index.n_input_rows,
        shards=shards,
        index_parts=index.parts,
        tokenizer=tok_name,
        special_tokens=dict(sorted(tok_special.items())),
    )
    nodes = stage_nodes(summary.counters)
    nodes["plan"] = summary.nodes
    nodes["index"] = index.nodes
    nodes["write"] = dict(Counter(r["node"] for r in written.values() if r.get("node")))
    t0 = time.perf_counter()
    stats = _write_stats(cfg, out, manifest, summary, dedup_stats, timings, n_files, extra={
        "nodes": {k: v for k, v in sorted(nodes.items()) if v},  # per stage: Ray node id -> batches it ran
        "stages_run": ran,  # per stage before planning: computed by this run, or reused from the cache
    })
    give_back_freed(time.perf_counter() - t0)
    from packer.report_html import write_report

    html = write_report(out, manifest=manifest)
    listed = {s.path for s in shards}
    for stale in (out / "shards").rglob("*.tar") if (out / "shards").is_dir() else []:
        if str(stale.relative_to(out)) not in listed:
            stale.unlink()
    listed_parts = {p.path for parts in index.parts.values() for p in parts}
    for stale in (out / "index").rglob("*.parquet") if (out / "index").is_dir() else []:
        if str(stale.relative_to(out)) not in listed_parts:
            stale.unlink()
    # Every task of this run has ended: a temporary file left now is an orphan of a killed writer.
    sweep_temp_files(out, all_writers_done=True)
    try:
        ckpt.check_against_journal(out, shards, journal)
    except ckpt.JournalMismatch as err:
        raise JobError(str(err)) from None
    ckpt.record_committed(out, state, manifest)
    ckpt.maybe_fail_before_manifest()  # tests: everything but the manifest is on disk
    _commit_manifest(out, manifest)
    return JobResult(out_dir=out, manifest=manifest, stats=stats, timings=timings, html=html)


def stage_cache(cfg: JobConfig, out: Path):
    from jobs.stage_cache import StageCache

    root = Path(cfg.cache.dir) if cfg.cache.dir else Path(out) / ckpt.STATE_DIR / CACHE_DIR
    return StageCache(root, cfg.cache.max_bytes)


def _processed_rows(cfg: JobConfig, inputs: JobInputs, out: Path, timings: dict, *, force: bool = False):
    """Read → probe → filter → grounding (per file, `jobs.file_stages`) → score → dedupe →
    tokens → mix. Each stage's result is cached under its fingerprint (`jobs.stage_keys`): the run
    starts after the last stage whose result is cached (all of them with `force`)."""
    import ray

    from jobs.file_stages import DuplicateIdError, file_keys, per_file_rows
    from jobs.parquet_parts import read_parts
    from jobs.scorer_stage import scorer_plan
    from jobs.stage_keys import stage_keys

    cache = stage_cache(cfg, out)
    keys_of_files = file_keys(cfg, inputs.files)
    keys = stage_keys(cfg, keys_of_files, scorers_on=bool(scorer_plan(cfg)))
    chain = [s for s in ("score", "dedup", "tokens") if s in keys]
    ran: dict[str, str] = {}
    start, ds, meta = None, None, {}
    for stage in reversed(chain):  # the last stage whose result is cached
        found = None if force else cache.load(stage, keys[stage].key)
        if found is not None:
            paths, meta = found
            ds = read_parts(paths).materialize()
            start = stage
            ran[stage] = "reused"
            break
    dedup_stats: dict = meta.get("dedup_stats", {})
    todo = chain if start is None else chain[chain.index(start) + 1:]

    def save(stage: str, ds):
        k = keys[stage]
        cache.save(stage, k.key, ds, {"reads": k.reads, "upstream": list(k.upstream), "dedup_stats": dedup_stats})
        ran[stage] = "computed"

    if start is None:
        t0 = time.perf_counter()
        try:
            file_rows = per_file_rows(cfg, inputs.files, cache if not force else _NoReuse(cache),
                                      keys=keys_of_files)
        except DuplicateIdError as err:
            raise JobError(str(err)) from None
        ds = ray.data.from_arrow_refs(file_rows.refs).materialize()
        timings["read_probe_filter_grounding"] = time.perf_counter() - t0
        timings["files_reused"] = float(file_rows.reused)
        timings["files_computed"] = float(file_rows.computed)
        ran["files"] = f"{file_rows.computed} computed, {file_rows.reused} reused"
    else:
        timings["files_reused"] = float(len(inputs.files))
        timings["files_computed"] = 0.0
        ran["files"] = "not needed"
    for stage in todo:
        t0 = time.perf_counter()
        if stage == "score":
            ds = _apply_stages(ds, scorer_plan(cfg), batch_size=None).materialize()
        elif stage == "dedup":
            if cfg.dedup.enabled:
                from jobs.dedup_stage import dedupe

                ds, dedup_stats = dedupe(ds, cfg.dedup, seed=cfg.seed)
            ds = ds.materialize()
        else:
            ds = _spread_blocks(ds, cfg.ray.batch_size)
            ds = _apply_stages(ds, stages.post_dedup_plan(cfg)[:1], batch_size=cfg.ray.batch_size).materialize()
        stage_s = timings[{"score": "score", "dedup": "dedupe", "tokens": "tokens"}[stage]] = time.perf_counter() - t0
        t0 = time.perf_counter()
        save(stage, ds)
        give_back_freed(stage_s + time.perf_counter() - t0)
        timings[f"cache_{stage}"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    ds = _spread_blocks(ds, cfg.ray.batch_size)
    ds = _apply_stages(ds, stages.post_dedup_plan(cfg)[1:], batch_size=cfg.ray.batch_size).materialize()
    timings["mix"] = time.perf_counter() - t0
    ran["mix"] = "computed"
    cache.evict()
    give_back_freed(time.perf_counter() - t0)
    return ds, dedup_stats, ran


class _NoReuse:
    """A cache that writes results but reuses none (`--force`)."""

    def __init__(self, cache) -> None:
        self._cache = cache
        self.root = cache.root

    def file_path(self, key: str):
        return self._cache.file_path(key)

    def file_result(self, key: str):
        return None

    def check_files(self, paths):
        return []

    def touch(self, path) -> None:
        self._cache.touch(path)


def _spread_blocks(ds, batch_size: int):
    """The row stages after dedup run one task per block. Rows that reach them in fewer blocks than
    the cluster has CPUs (a small job: dedup marks small blocks together) are split into contiguous
    blocks of at least `batch_size` rows, up to two per CPU, so the stage spreads over the nodes.
    Row order and values are kept, so the output does not change; a large job keeps its blocks."""
    import ray

    cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
    want = min(2 * cpus, -(-ds.count() // batch_size))
    if ds.num_blocks() >= want:
        return ds
    return ds.repartition(want).materialize()


def _apply_stages(ds, plan: list, *, batch_size: int | None):
    from jobs.scorer_stage import ActorStage

    for name, fn in plan:
        if isinstance(fn, ActorStage):  # a stage that holds a model runs on an actor pool
            ds = fn.apply(ds, batch_size)
            continue
        ds = ds.map_batches(stages.named_stage(name, fn), batch_format="pyarrow",
                            batch_size=batch_size, zero_copy_batch=False)
    return ds


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("vlpack")
    except Exception:  # noqa: BLE001 - running from a source tree without metadata
        return "0+unknown"


def stage_nodes(counters: dict) -> dict[str, dict[str, int]]:
    """Per stage, the Ray nodes that ran its batches and how many (`node.<stage>.<node>` counters)."""
    nodes: dict[str, dict[str, int]] = {}
    for key, value in counters.items():
        if key.startswith(stages.NODE_PREFIX):
            stage, node = key[len(stages.NODE_PREFIX):].rsplit(".", 1)
            nodes.setdefault(stage, {})[node] = int(value)
    return nodes


def _write_stats(cfg, out, manifest, summary, dedup_stats, timings, n_files, extra: dict) -> dict:
    """stats.json from the merged statistics of the index parts (`output_statistics`): the
    driver never holds the ledger or the packs index, only O(parts) small statistics."""
    from packer.shards import commit_file
    from packer.stats import process_seconds

    counters = {k: v for k, v in summary.counters.items() if not k.startswith(stages.NODE_PREFIX)}
    stats = output_statistics(out, manifest, cfg, counters=counters, dedup=dedup_stats, timings=timings,
                              n_files=n_files)
    stats["time"]["process_wall_s"] = process_seconds()  # the driver's
    stats.update(extra)
    commit_file(out / STATS_PATH, json.dumps(stats, indent=1, sort_keys=True, default=float).encode())
    return stats


STATS_BATCH_ROWS = 262_144  # ledger rows a part task holds at a time
STATS_BUCKET_ROWS = 500_000  # ledger rows per hash bucket of the keyed statistics (dedup clusters, copies)
MAX_STAT_BUCKETS = 256  # one reduce task each


def stat_buckets(manifest: Manifest) -> int:
    """Hash buckets of the keyed statistics: one per STATS_BUCKET_ROWS ledger rows."""
    rows = sum(p.rows for p in manifest.index_parts.get("ledger", []))
    return max(1, min(-(-rows // STATS_BUCKET_ROWS), MAX_STAT_BUCKETS))


def paired_parts(manifest: Manifest) -> list[tuple[str | None, str | None]]:
    """(ledger part, packs part) paths of the manifest, paired by part number: a group's packed
    rows point at packs of its own packs part; the padding fillers' packs part has no ledger part."""
    ledger = {Path(p.path).name: p.path for p in manifest.index_parts.get("ledger", [])}
    packs = {Path(p.path).name: p.path for p in manifest.index_parts.get("packs", [])}
    return [(ledger.get(n), packs.get(n)) for n in sorted(set(ledger) | set(packs))]


def part_statistics(out: str, ledger_path: str | None, packs_path: str | None, cfg: JobConfig,
                    n_buckets: int) -> list:
    """One Ray task per (ledger part, packs part): [its `PartStats`, then its keyed rows per bucket].
    The ledger part is read STATS_BATCH_ROWS rows at a time and the batches' statistics merged, so
    the task holds the packs part, one batch and the keyed rows, not the whole ledger part."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from packer.partial_stats import KEYED_SCHEMA, keyed_rows, part_stats, step_of_rows
    from schemas.manifest import LEDGER_SCHEMA, PACKS_SCHEMA

    packs = pq.read_table(Path(out) / packs_path) if packs_path else PACKS_SCHEMA.empty_table()
    stats = part_stats(LEDGER_SCHEMA.empty_table(), packs, cfg)
    keyed: list[list] = [[] for _ in range(n_buckets)]
    if ledger_path:
        for batch in pq.ParquetFile(Path(out) / ledger_path).iter_batches(batch_size=STATS_BATCH_ROWS):
            ledger = pa.Table.from_batches([batch])
            steps = step_of_rows(ledger, packs)
            stats = stats.merge(part_stats(ledger, PACKS_SCHEMA.empty_table(), cfg, steps))
            for bucket, rows in zip(keyed, keyed_rows(ledger, steps, n_buckets)):
                bucket.append(rows)
    return [stats, *[pa.concat_tables(b) if b else KEYED_SCHEMA.empty_table() for b in keyed]]


def output_statistics(out, manifest: Manifest, cfg: JobConfig, *, counters: dict, dedup: dict, timings: dict,
                      n_files: int) -> dict:
    """stats.json of the output being committed: a Ray task per index part pair gathers its
    statistics and splits its keyed rows into buckets, a Ray task per bucket reduces them, and one
    more task merges what they return and makes stats.json (`merged_statistics`). The driver holds
    only object refs (O(parts + buckets)) and the finished stats.json, whose per-step detail is
    bounded by ``output.per_step_detail_max_steps``: the merged per-step grids, which grow with
    steps × ranks, never reach it."""
    import ray

    from packer.partial_stats import keyed_stats

    pairs = paired_parts(manifest)
    n_buckets = stat_buckets(manifest)
    cfg_ref = ray.put(cfg)
    mapper = ray.remote(part_statistics).options(num_returns=1 + n_buckets, scheduling_strategy="SPREAD")
    maps = [mapper.remote(str(out), ledger, packs, cfg_ref, n_buckets) for ledger, packs in pairs]
    part_refs = [m[0] for m in maps]
    bucket_refs = [m[1:] for m in maps]
    reducer = ray.remote(keyed_stats).options(scheduling_strategy="SPREAD")
    reduced = [reducer.remote(*[b[i] for b in bucket_refs]) for i in range(n_buckets)]
    # refs inside lists are passed as refs: the merging task fetches each part as it finishes
    merger = ray.remote(merged_statistics)
    return ray.get(merger.remote(part_refs, reduced, cfg_ref, counters=counters, dedup=dedup, timings=timings,
                                 n_files=n_files))


def merged_statistics(part_refs: list, bucket_refs: list, cfg: JobConfig, *, counters: dict, dedup: dict,
                      timings: dict, n_files: int) -> dict:
    """(A Ray task) stats.json from the statistics of every index part, merged one part at a time
    as they finish (the task holds the sum and one part's statistics), and of every bucket."""
    import ray

    from packer.partial_stats import KeyedStats, PartStats
    from packer.stats import stats_of_parts

    merged, keyed = PartStats(), KeyedStats()
    pending = list(part_refs)
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        merged = merged.merge(ray.get(done[0]))
    for r in bucket_refs:
        keyed = keyed.merge(ray.get(r))
    return stats_of_parts(merged, keyed, cfg=cfg, counters=counters, dedup=dedup, timings=timings, n_files=n_files)


def _commit_manifest(out: Path, manifest: Manifest) -> None:
    from packer.shards import commit_file

    commit_file(out / MANIFEST_NAME, manifest.model_dump_json(indent=1).encode())
