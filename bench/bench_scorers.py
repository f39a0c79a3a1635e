"""Benchmark the model-based scorers: throughput per actor, and the actor pool against a plain loop.

Run: `python bench/bench_scorers.py [--rows 192] [--blocks 6]`. Prints one JSON line:
- per_scorer_rows_per_s: each scorer alone, in this process, one thread, over the same rows
  (`score_table`: decode + model + thresholds). NSFW is NudeNet's shipped ONNX detector; CLIP and
  the LM are tiny randomly initialised checkpoints built from configs (their figures measure the
  plumbing, not a production model);
- plain_loop_rows_per_s: all three scorers in one `score_table` loop over the blocks, in process;
- actor_pool: the same rows through `ActorStage` on a local Ray runtime with one actor of one CPU
  (the stage the pipeline runs): wall time with and without the actor's start-up (model load), rows
  per second per actor, and overhead = pool time / plain-loop time (1.0 = no overhead).
Everything runs on the CPU.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "filters"))

from scorer_models import save_tiny_clip, save_tiny_lm, write_images  # noqa: E402

from schemas.config import parse_job_config  # noqa: E402
from schemas.sample import Sample, records_to_table, with_work_columns  # noqa: E402

WORDS = ["a dog on a beach", "a cat on a sofa", "two people walking in the park", "a red car near a house",
         "a bowl of soup on a table", "children playing football in a field"]


def table_of(images: list[Path], n: int) -> pa.Table:
    samples = [Sample(sample_id=f"s{i:05d}", source="web", task="caption",
                      media=[{"uri": str(images[i % len(images)]), "kind": "image"}],
                      turns=[{"role": "user", "segments": [{"kind": "image", "media": 0}]},
                             {"role": "assistant", "segments": [{"kind": "text", "text": f"{WORDS[i % 6]} {i}"}]}])
               for i in range(n)]
    return with_work_columns(records_to_table(samples))


def job(models: dict, **scorers):
    return parse_job_config({"sources": [{"name": "web", "format": "jsonl", "path": "/x.jsonl"}],
                             "filters": {"scorers": {"batch_size": 16, **scorers}},
                             "ray": {"num_cpus": 2}})


def plain(table: pa.Table, cfg, blocks: int) -> float:
    from filters.scorers.scoring import LoadedScorers, score_table

    scorers = LoadedScorers.load(cfg.filters.scorers)
    step = -(-table.num_rows // blocks)
    t0 = time.perf_counter()
    for lo in range(0, table.num_rows, step):
        score_table(table.slice(lo, step), scorers)
    return time.perf_counter() - t0


def pool(table: pa.Table, cfg, blocks: int) -> tuple[float, float]:
    """(wall seconds of the first pass, including the actor's model load; of a second pass on a
    fresh pool, minus that pool's start-up measured on a one-row dataset)."""
    import ray

    from jobs.scorer_stage import scorer_stage

    stage = scorer_stage(cfg)
    ds = ray.data.from_arrow(table).repartition(blocks).materialize()
    t0 = time.perf_counter()
    stage.apply(ds).materialize()
    first = time.perf_counter() - t0
    tiny = ray.data.from_arrow(table.slice(0, 1)).materialize()
    t0 = time.perf_counter()
    stage.apply(tiny).materialize()
    startup = time.perf_counter() - t0
    return first, max(first - startup, 1e-9)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=192)
    ap.add_argument("--blocks", type=int, default=6)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        models = {"clip": str(save_tiny_clip(root / "clip")), "lm": str(save_tiny_lm(root / "lm"))}
        table = table_of(write_images(root / "images", 48, seed=1), args.rows)
        alone = {"nsfw": job(models, nsfw=True), "clip": job(models, clip={"model_path": models["clip"]}),
                 "lm": job(models, lm={"model_path": models["lm"]})}
        per_scorer = {name: round(args.rows / plain(table, cfg, args.blocks), 1) for name, cfg in alone.items()}
        every = job(models, nsfw=True, clip={"model_path": models["clip"]}, lm={"model_path": models["lm"]})
        t_plain = plain(table, every, args.blocks)

        import ray

        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True
        ctx.enable_progress_bars = False
        try:
            t_first, t_steady = pool(table, every, args.blocks)
        finally:
            ray.shutdown()
    print(json.dumps({
        "bench": "scorers", "rows": args.rows, "blocks": args.blocks, "device": "cpu",
        "per_scorer_rows_per_s": per_scorer,
        "plain_loop_rows_per_s": round(args.rows / t_plain, 1),
        "actor_pool": {"actors": 1, "cpus_per_actor": 1, "wall_s_with_startup": round(t_first, 2),
                       "wall_s_steady": round(t_steady, 2),
                       "rows_per_s_per_actor_steady": round(args.rows / t_steady, 1),
                       "rows_per_s_per_actor_with_startup": round(args.rows / t_first, 1),
                       "overhead_vs_plain_loop_steady": round(t_steady / t_plain, 3),
                       "overhead_vs_plain_loop_with_startup": round(t_first / t_plain, 3)},
        "note": "clip and lm are tiny random checkpoints: their rates measure plumbing, not a real model",
    }))


if __name__ == "__main__":
    main()
