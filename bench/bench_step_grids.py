"""Memory of the merged per-step statistics (issue 15): synthetic index parts of S steps ×
R ranks (one pack per rank and step, three packed samples of three sources per step, non-integer
costs), each part owning `--part-steps` consecutive steps as a planning group does.

For each step count, in fresh processes: `parts` computes every part's `PartStats` (as the part
tasks do) and pickles it (as `ray.get` hands it over); `driver` unpickles them one at a time,
merges them into one and makes stats.json as `jobs.pipeline.merged_statistics` does. That merge
ran on the job's driver until it became a Ray task of its own: the driver now receives only
stats.json (per-step detail bounded by ``output.per_step_detail_max_steps``). It
prints the merged statistics' pickled size (and per (step, rank) cell), the driver's peak RSS
(VmHWM) after the merge and after stats.json, and stats.json's size. `--code DIR` runs another
checkout's packer (e.g. main before this change) on the same synthetic parts.

    .venv/bin/python bench/bench_step_grids.py --steps 492 10000 100000 [--ranks 8] [--code DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("web", "ocr_docs", "charts")


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _cfg(ranks: int):
    from schemas.config import JobConfig

    return JobConfig.model_validate({
        "sources": [{"name": s, "format": "jsonl", "path": s, "task": "caption"} for s in SOURCES],
        "pack": {"context_length": 8192, "dp_size": ranks}})


def _tables(first_step: int, n_steps: int, ranks: int, seed: int):
    """A ledger part and a packs part: the packs of steps [first_step, first_step + n_steps)."""
    import numpy as np
    import pyarrow as pa

    from schemas.manifest import LEDGER_SCHEMA, PACKS_SCHEMA

    rng = np.random.default_rng(seed)
    n = n_steps * ranks
    step = first_step + np.arange(n) // ranks
    pack_id = first_step * ranks + np.arange(n)
    real = rng.integers(4000, 8192, n)
    packs = {"pack_id": pack_id, "step": step, "rank": np.arange(n) % ranks, "micro": np.zeros(n, np.int64),
             "shard": np.full(n, "s"), "key": pack_id.astype(str), "n_samples": np.full(n, 3),
             "n_images": np.ones(n, np.int64), "real_tokens": real, "seq_len": np.full(n, 8192),
             "vit_patches": rng.integers(0, 4096, n), "vit_bucket": np.zeros(n, np.int64), "loss_tokens": real // 2,
             "attn_cost": real.astype(np.float64) ** 2 * rng.random(n), "vit_cost": rng.random(n) * 1e6,
             "is_filler": np.zeros(n, bool), "cost": rng.random(n) * 1e7, "repeat_of": np.full(n, -1)}
    m = 3 * n_steps  # three packed samples a step, one per source, in the packs of ranks 0..2
    s = np.arange(m)
    cols = {"sample_id": np.char.add("x/", (first_step * 3 + s).astype(str)), "copy": np.zeros(m, np.int64),
            "source": np.asarray(SOURCES)[s % 3], "task": np.full(m, "caption"), "status": np.full(m, "packed"),
            "pack_id": first_step * ranks + (s // 3) * ranks + s % 3, "total_tokens": rng.integers(100, 2000, m),
            "text_tokens": rng.integers(100, 1000, m), "vision_tokens": np.zeros(m, np.int64),
            "loss_tokens": rng.integers(10, 100, m), "vit_patches": np.zeros(m, np.int64),
            "n_images": np.zeros(m, np.int64), "lang": np.full(m, "en"), "lang_score": rng.random(m)}
    ledger = pa.table({f.name: pa.array(cols[f.name], f.type) if f.name in cols else pa.nulls(m, f.type)
                       for f in LEDGER_SCHEMA}, schema=LEDGER_SCHEMA)
    return ledger, pa.table({f.name: pa.array(packs[f.name], f.type) for f in PACKS_SCHEMA}, schema=PACKS_SCHEMA)


def role_parts(steps: int, ranks: int, part_steps: int, dest: Path) -> None:
    from packer.partial_stats import part_stats

    cfg = _cfg(ranks)
    for i, first in enumerate(range(0, steps, part_steps)):
        ledger, packs = _tables(first, min(part_steps, steps - first), ranks, i)
        (dest / f"part-{i:05d}.pkl").write_bytes(pickle.dumps(part_stats(ledger, packs, cfg)))


def role_driver(ranks: int, dest: Path) -> dict:
    from packer.partial_stats import KeyedStats, PartStats
    from packer.stats import stats_of_parts

    cfg = _cfg(ranks)
    base = _peak_mb()
    t0 = time.perf_counter()
    merged = PartStats()
    for f in sorted(dest.glob("part-*.pkl")):  # one part's statistics at a time, as ray.wait hands them over
        merged = merged.merge(pickle.loads(f.read_bytes()))
    t_merge = time.perf_counter() - t0
    after_merge = _peak_mb()
    stats = stats_of_parts(merged, KeyedStats(), cfg=cfg, counters={}, dedup={}, timings={}, n_files=1)
    stats["time"].pop("process_wall_s", None)  # the one figure that differs from run to run
    blob = json.dumps(stats, indent=1, sort_keys=True, default=float).encode()
    after_stats = _peak_mb()  # the driver's peak: before the measurement below pickles the merged statistics
    merged_bytes = len(pickle.dumps(merged))
    return {"merged_pickle_bytes": merged_bytes, "peak_rss_mb_after_imports": round(base, 1),
            "peak_rss_mb_after_merge": round(after_merge, 1), "peak_rss_mb_after_stats": round(after_stats, 1),
            "stats_json_bytes": len(blob), "stats_json_sha256": hashlib.sha256(blob).hexdigest()[:16],
            "merge_seconds": round(t_merge, 2),
            "stats_seconds": round(time.perf_counter() - t0 - t_merge, 2),
            "summarised": "per_step_detail" in stats}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, nargs="+", default=[492, 10_000])
    ap.add_argument("--ranks", type=int, default=8)
    ap.add_argument("--part-steps", type=int, default=2_500)  # a planning group of ~5M samples
    ap.add_argument("--code", default=str(ROOT), help="the checkout whose packer to run")
    ap.add_argument("--role", default="")
    ap.add_argument("--dest", default="")
    a = ap.parse_args()
    sys.path.insert(0, a.code)
    if a.role == "parts":
        return role_parts(a.steps[0], a.ranks, a.part_steps, Path(a.dest))
    if a.role == "driver":
        return print(json.dumps(role_driver(a.ranks, Path(a.dest))))
    for steps in a.steps:
        with tempfile.TemporaryDirectory(prefix="bench-grids-") as tmp:
            common = ["--steps", str(steps), "--ranks", str(a.ranks), "--part-steps", str(a.part_steps),
                      "--code", a.code, "--dest", tmp]
            t0 = time.perf_counter()
            subprocess.run([sys.executable, __file__, "--role", "parts", *common], check=True, cwd=a.code)
            t_parts = time.perf_counter() - t0
            out = subprocess.run([sys.executable, __file__, "--role", "driver", *common], check=True, cwd=a.code,
                                 capture_output=True, text=True).stdout
            res = json.loads(out.strip().splitlines()[-1])
            cells = steps * a.ranks
            res.update(steps=steps, ranks=a.ranks, cells=cells, parts=-(-steps // a.part_steps),
                       parts_seconds=round(t_parts, 1), merged_bytes_per_cell=round(res["merged_pickle_bytes"] / cells, 1),
                       code=a.code)
            print(json.dumps(res), flush=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
