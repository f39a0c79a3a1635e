"""Recipe iteration (issue 20): a full run, then the same corpus with only the source weights
changed, twice, then `vlpack plan` of another recipe with a warm cache; side by side in one run.

The scale corpus (`bench_scale.make_corpus`) is read as two sources, its even and its odd files.
The full run weighs both 1.0. The two weight changes:
- `reweight`: 1.5 and 0.5, the kind of change a recipe iteration makes (shares move; the job
  writes about as many rows as before);
- `upsample`: 1.7 and 1.7, every sample about 1.7 times: the re-run writes ~1.7x the rows of the
  full run, so its time is mostly the extra write (the ratio per packed row is printed too).

Prints one JSON line: the wall times, each re-run and the plan as fractions of the full run
(targets 0.40 and 0.05), and which stages each re-run computed (none of read, probe, filter,
grounding, dedup or tokens may run again).

    .venv/bin/python bench/bench_recipe.py --samples 1000000 [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--keep", type=Path, default=None)
    args = ap.parse_args()

    import ray
    import yaml

    from bench_scale import make_corpus
    from jobs.pipeline import run_job
    from schemas.config import load_job_config

    root = (args.keep or Path(tempfile.mkdtemp(prefix="vlpack-recipe-"))) / f"n{args.samples}"
    if not (root / "job.yaml").exists():
        make_corpus(root, args.samples)
    data = yaml.safe_load((root / "job.yaml").read_text())
    data["cache"] = {"dir": str(root / "cache")}
    whole = data["sources"][0]
    data["sources"] = [{**whole, "name": "even", "path": str(Path(whole["path"]) / "part-*[02468].jsonl")},
                       {**whole, "name": "odd", "path": str(Path(whole["path"]) / "part-*[13579].jsonl")}]
    job = root / "recipe.yaml"

    def with_weights(even: float, odd: float) -> Path:
        data["sources"][0]["weight"], data["sources"][1]["weight"] = even, odd
        job.write_text(yaml.safe_dump(data))
        return job

    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)

    def timed(weights: tuple[float, float], force: bool = False):
        cfg = load_job_config(with_weights(*weights))
        start = os.getloadavg()[0]
        t0 = time.perf_counter()
        result = run_job(cfg, force=force)
        return result, time.perf_counter() - t0, (round(start, 1), round(os.getloadavg()[0], 1))

    first, full, load_full = timed((1.0, 1.0), force=True)
    changes = {"reweight": (1.5, 0.5), "upsample": (1.7, 1.7)}
    reruns = {name: timed(weights) for name, weights in changes.items()}
    ray.shutdown()

    with_weights(0.6, 1.2)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "jobs.cli", "plan", str(job), "--json"], capture_output=True,
                          text=True, cwd=ROOT)
    plan = time.perf_counter() - t0
    preview = json.loads(proc.stdout)["preview"] if proc.returncode == 0 else {"error": proc.stderr[-500:]}
    rows_full = first.manifest.n_samples_packed

    def phases(result) -> dict:
        return {k: round(v, 2) for k, v in result.timings.items() if isinstance(v, float)}

    out = {"bench": "recipe", "samples": args.samples, "cpus": os.cpu_count(), "full_run_s": round(full, 1),
           "full_packed_rows": rows_full, "full_load_average_1min": load_full, "full_phases_s": phases(first),
           "rerun_target": 0.40}
    for name, (again, seconds, load) in reruns.items():
        ran = again.stats["stages_run"]
        rows = again.manifest.n_samples_packed
        out[name] = {
            "weights": dict(zip(("even", "odd"), changes[name])),
            "rerun_s": round(seconds, 1), "rerun_over_full": round(seconds / full, 3),
            "packed_rows": rows, "rerun_over_full_per_packed_row": round(seconds / rows / (full / rows_full), 3),
            "load_average_1min": load,  # the machine is shared: wall times move with it
            "stages": ran, "files_computed": again.timings.get("files_computed"),
            "recomputed_none_before_mix": again.timings.get("files_computed") == 0 and all(
                v != "computed" for k, v in ran.items() if k in ("score", "dedup", "tokens")),
            "phases_s": phases(again),
        }
    out.update({
        "plan_warm_s": round(plan, 2), "plan_over_full": round(plan / full, 4), "plan_target": 0.05,
        "plan_preview": {k: preview.get(k) for k in ("packs", "steps", "bins_over_lower_bound",
                                                     "cost_balance_max_over_mean")} if preview else None,
    })
    print(json.dumps(out))


if __name__ == "__main__":
    main()
