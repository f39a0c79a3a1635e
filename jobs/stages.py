"""Row-local stages as they run inside Ray workers, with exact per-batch counters.

Each stage is a pure function over a pyarrow batch with `WORK_SCHEMA` that returns the batch (same
rows, same order) and a dict of counters. `run_stage` wraps it for `map_batches`: the counters of a
batch are stored as JSON in the hidden `_counters` column of the batch's first row, so they travel
with the rows. A retried task recomputes its whole batch, so summing `_counters` over the final
table counts every row exactly once, whatever the retries or the number of workers.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from packer.collector import collector_paused
from schemas.config import JobConfig
from schemas.sample import STATUS_OK

COUNTERS = "_counters"
ROW_CHANGING_STAGES = {"read", "mix"}  # read turns file names into rows; mix repeats upsampled rows
StageFn = Callable[[pa.Table], tuple[pa.Table, dict]]


def run_stage(batch: pa.Table, name: str, fn: StageFn) -> pa.Table:
    from jobs.checkpoints import maybe_kill_worker

    maybe_kill_worker(name)
    n = batch.num_rows
    if COUNTERS in batch.column_names:
        carried = batch.column(COUNTERS).to_pylist()
        batch = batch.drop_columns([COUNTERS])
    else:
        carried = [None] * n
    t0, c0 = time.perf_counter(), time.process_time()
    with collector_paused():  # (see packer.collector)
        out, counts = fn(batch)
    elapsed = time.perf_counter() - t0
    counts = Counter({k: v for k, v in (counts or {}).items() if v})
    counts[f"time.{name}"] += elapsed
    counts[f"cpu.{name}"] += time.process_time() - c0  # CPU of the worker process: what a core pays
    counts[f"rows_in.{name}"] += n
    counts.update(node_batches(name))
    if name not in ROW_CHANGING_STAGES and out.num_rows != n:
        raise RuntimeError(f"stage {name} returned {out.num_rows} rows for a batch of {n}")
    from jobs.progress import report

    report(name, out.num_rows if name == "read" else n, files=n if name == "read" else 0, seconds=elapsed)
    # Every counter carried into this batch, plus this stage's, moves to the batch's first row:
    # sums are all that matter, and rows may have been repeated or created.
    merged: Counter = Counter()
    for c in carried:
        if c:
            merged.update(json.loads(c))
    merged.update(counts)
    if out.num_rows == 0:  # only a source file with no rows at all: nothing to count with it
        return out.append_column(COUNTERS, pa.array([], pa.string()))
    carried = [json.dumps(dict(sorted(merged.items())))] + [None] * (out.num_rows - 1)
    return out.append_column(COUNTERS, pa.array(carried, pa.string()))


NODE_PREFIX = "node."


def node_batches(stage: str) -> dict[str, int]:
    """`node.<stage>.<node id>: 1`: summed over batches, how many batches of each stage every Ray
    node ran (the statistics show that a stage spread over a cluster). Empty outside Ray."""
    try:
        import ray

        if not ray.is_initialized():
            return {}
        node = ray.get_runtime_context().get_node_id()
    except Exception:  # noqa: BLE001 - no runtime context: not in a Ray task
        return {}
    return {f"{NODE_PREFIX}{stage}.{node}": 1} if node else {}


def named_stage(name: str, fn: StageFn) -> Callable[[pa.Table], pa.Table]:
    """`run_stage` bound to one stage, named after it (Ray Data names operators and bars by it)."""

    def stage(batch: pa.Table) -> pa.Table:
        return run_stage(batch, name, fn)

    stage.__name__ = stage.__qualname__ = name
    return stage


def sum_counters(values: list[str | None]) -> dict[str, float]:
    total: Counter = Counter()
    for v in values:
        if v:
            total.update(json.loads(v))
    return dict(sorted(total.items()))


# ---- stage bodies -------------------------------------------------------------------------------


def probe_stage(cfg: JobConfig) -> StageFn:
    def fn(batch: pa.Table):
        from packer.probe import probe_batch

        return probe_batch(batch, cfg.probe)

    return fn


def filter_stage(cfg: JobConfig) -> StageFn:
    def fn(batch: pa.Table):
        from packer.probe import IMAGE_FACTS

        counts: dict = {}
        if cfg.filters.enabled:
            from filters.chain import run_filters

            batch, counts = run_filters(batch, cfg.filters)
        # the probe's header facts served the image rules; they go no further
        return (batch.drop_columns([IMAGE_FACTS]) if IMAGE_FACTS in batch.column_names else batch), counts

    return fn


def grounding_stage(cfg: JobConfig) -> StageFn:
    def fn(batch: pa.Table):
        if cfg.grounding.mode == "off":
            return batch, {}
        from jobs.grounding_stage import validate_grounding_batch

        return validate_grounding_batch(batch, cfg.grounding)

    return fn


def tokens_stage(cfg: JobConfig) -> StageFn:
    def fn(batch: pa.Table):
        from packer.chat import count_tokens_batch
        from packer.tokenizer import load_tokenizer

        # the rendering is kept (compact) for the shard writer, which then never renders again
        return count_tokens_batch(batch, load_tokenizer(cfg.tokens.tokenizer), cfg.tokens, cfg.seed,
                                  keep_rendered=True)

    return fn


def mix_copies(sample_ids: list[str], weights: np.ndarray, seed: int) -> np.ndarray:
    """How many copies of each sample the mix keeps: floor(w), plus one with probability frac(w).

    The draw is a stable hash of (seed, sample_id), so it never depends on order or workers.
    """
    u = np.fromiter(
        (xxhash.xxh64_intdigest(f"mix:{seed}:{s}".encode()) / 2.0**64 for s in sample_ids), dtype=np.float64, count=len(sample_ids)
    )
    base = np.floor(weights)
    return (base + (u < (weights - base))).astype(np.int64)


def mix_stage(cfg: JobConfig) -> StageFn:
    source_weight = {s.name: s.weight for s in cfg.sources}

    def fn(batch: pa.Table):
        n = batch.num_rows
        if n == 0:
            return batch, {}
        sources = batch.column("source").to_pylist()
        tasks = batch.column("task").to_pylist()
        weights = np.array(
            [source_weight.get(s, 1.0) * cfg.mix.task_weights.get(t, 1.0) for s, t in zip(sources, tasks)]
        )
        ok = pc.equal(batch.column("status"), STATUS_OK).to_numpy(zero_copy_only=False)
        ok = np.asarray(ok, dtype=bool) & ~np.isnan(weights)
        copies = np.where(ok, mix_copies(batch.column("sample_id").to_pylist(), weights, cfg.seed), 1)
        counts: Counter = Counter()
        status = batch.column("status").to_pylist()
        reason = batch.column("reason").to_pylist()
        for i in np.nonzero(ok & (copies == 0))[0]:
            status[i], reason[i] = "filtered", "mix.downsampled"
            counts["mix.downsampled"] += 1
        batch = batch.set_column(batch.schema.get_field_index("status"), "status", pa.array(status, pa.string()))
        batch = batch.set_column(batch.schema.get_field_index("reason"), "reason", pa.array(reason, pa.string()))
        reps = np.maximum(copies, 1)
        if np.all(reps == 1):
            return batch, counts
        idx = np.repeat(np.arange(n), reps)
        copy_no = np.concatenate([np.arange(r) for r in reps]).astype(np.int32)
        out = batch.take(pa.array(idx))
        out = out.set_column(out.schema.get_field_index("copy"), "copy", pa.array(copy_no, pa.int32()))
        counts["mix.upsampled_copies"] += int(reps.sum() - n)
        return out, counts

    return fn


def stage_plan(cfg: JobConfig) -> list[tuple[str, StageFn]]:
    """The row-local stages after reading, in the order of DESIGN.md (dedupe runs between them).
    The optional model-based scorers follow them as an actor stage (`jobs.scorer_stage`)."""
    return [("probe", probe_stage(cfg)), ("filter", filter_stage(cfg)), ("grounding", grounding_stage(cfg))]


def post_dedup_plan(cfg: JobConfig) -> list[tuple[str, StageFn]]:
    return [("tokens", tokens_stage(cfg)), ("mix", mix_stage(cfg))]


def fraction(a: float, b: float) -> float:
    return float(a) / float(b) if b else math.nan
