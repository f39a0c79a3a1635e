"""End-to-end pack job on demo data: samples/s and time per stage, on the embedded local runtime.

Prints one JSON line. Side by side: the job's wall time against the time to only read the
sources (the lower bound of any pipeline over the same files).

    .venv/bin/python bench/bench_e2e.py [--samples 2000]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from jobs.demo_data import make_demo_dataset
    from jobs.pipeline import run_job
    from jobs.readers import list_source_files, read_source_file
    from schemas.config import load_job_config

    with tempfile.TemporaryDirectory() as tmp:
        job = make_demo_dataset(tmp, samples=args.samples, seed=args.seed)
        cfg = load_job_config(job)
        t0 = time.perf_counter()
        n_rows = sum(read_source_file(f, s).num_rows for s in cfg.sources for f in list_source_files(s))
        read_only = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = run_job(cfg)
        wall = time.perf_counter() - t0
        stats = result.stats
    print(json.dumps({
        "bench": "e2e_demo",
        "samples": n_rows,
        "wall_s": round(wall, 3),
        "samples_per_s": round(n_rows / wall, 1),
        "read_only_s": round(read_only, 3),
        "wall_over_read_only": round(wall / read_only, 2),
        "phase_wall_s": stats["timings_s"],
        "stage_cpu_s": stats["stage_cpu_seconds"],
        "packs": stats["packing"]["n_packs"],
        "fill": round(stats["packing"]["fill"], 4),
    }))


if __name__ == "__main__":
    main()
