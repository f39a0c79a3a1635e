"""The per-file stages over many small files: staged in groups (`jobs.file_stages.file_groups`, the
default) against every file staged alone, side by side in one run, on the embedded local runtime.

Run: `python bench/bench_small_files.py [--files 200] [--rows 500]`. Prints one JSON line:
- per mode (`grouped`, `alone`): row-stage tasks, wall time of the per-file phase, and each row
  stage's CPU seconds per 1k samples (the workers' process CPU: what the cores pay); a first,
  grouped run that is not counted starts the workers and their imports for both;
- filter_captions_per_s_per_core per mode: samples over the filter stage's CPU seconds;
- chain_one_batch_captions_per_s_per_core: the filter stage's own function (`run_filters`) over all
  the rows as one table in this process: what no per-batch cost dilutes (the lower bound of the
  filter's CPU per sample);
- grouped_over_alone: the per-file phase's wall time and the filter's CPU, grouped / alone.
The outputs of both modes are compared byte for byte (`outputs_identical`).
The rows are `bench_filters`' synthetic captions (text task, no images), one JSONL file each.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_filters import make_captions  # noqa: E402


def write_files(folder: Path, n_files: int, rows: int) -> int:
    captions = make_captions(n_files * rows, seed=1)
    for k in range(n_files):
        with (folder / f"part-{k:05d}.jsonl").open("w") as fh:
            for j in range(rows):
                fh.write(json.dumps({"id": f"{k}-{j}", "messages": [
                    {"role": "user", "content": "Describe the image."},
                    {"role": "assistant", "content": captions[k * rows + j]}]}) + "\n")
    return n_files * rows


def job(data: Path, out: Path):
    from schemas.config import parse_job_config

    return parse_job_config({
        "sources": [{"name": "web", "format": "jsonl", "path": str(data), "task": "text"}],
        "pack": {"context_length": 4096, "dp_size": 1, "micro_batch": 1, "grad_accum": 1},
        "filters": {"tasks": ["text"]}, "dedup": {"enabled": False},
        "output": {"dir": str(out), "overwrite": True}})


def digest(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not {"report", ".vlpack"} & set(p.relative_to(root).parts) and p.name != "job.yaml"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--rows", type=int, default=500)
    args = ap.parse_args()

    import pyarrow as pa
    import ray

    from jobs import file_stages
    from jobs.inputs import input_files
    from jobs.pipeline import run_job
    from jobs.readers import read_source_file

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    out: dict = {"bench": "small_files", "files": args.files, "rows_per_file": args.rows}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        n = write_files(data, args.files, args.rows)
        out["samples"] = n
        digests = {}
        for mode in ("warm-up", "grouped", "alone"):
            saved = file_stages.GROUP_BYTES
            if mode == "alone":
                file_stages.GROUP_BYTES = 1
            try:
                cfg = job(data, Path(tmp) / mode)
                tasks = len(file_stages.file_groups(cfg, input_files(cfg)))
                result = run_job(cfg, force=True)
            finally:
                file_stages.GROUP_BYTES = saved
            cpu = result.stats["stage_cpu_seconds"]
            row = {"row_stage_tasks": tasks,
                   "per_file_phase_wall_s": round(result.timings["read_probe_filter_grounding"], 3),
                   "cpu_s_per_1k_samples": {s: round(cpu.get(s, 0.0) / n * 1e3, 4)
                                            for s in ("read", "probe", "filter", "grounding")},
                   "filter_captions_per_s_per_core": round(n / cpu["filter"], 1)}
            if mode != "warm-up":
                out[mode] = row
                digests[mode] = digest(result.out_dir)
        out["outputs_identical"] = digests["grouped"] == digests["alone"]

        from filters.chain import run_filters

        cfg = job(data, Path(tmp) / "x")
        source = cfg.sources[0]
        table = pa.concat_tables([read_source_file(f.path, source) for f in input_files(cfg)])
        pa.set_cpu_count(1)
        best = float("inf")
        for _ in range(3):
            t0 = time.process_time()
            run_filters(table, cfg.filters)
            best = min(best, time.process_time() - t0)
        out["chain_one_batch_captions_per_s_per_core"] = round(n / best, 1)
    g, a = out["grouped"], out["alone"]
    out["grouped_over_alone"] = {
        "per_file_phase_wall": round(g["per_file_phase_wall_s"] / a["per_file_phase_wall_s"], 3),
        "filter_cpu": round(a["filter_captions_per_s_per_core"] / g["filter_captions_per_s_per_core"], 3)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
