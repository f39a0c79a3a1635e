"""Scale run of the whole pack job on a synthetic metadata-only corpus (issue 10).

N caption samples in JSONL files of 10k rows, given by metadata (width, height, bytes) over a pool
of small real image files, ~5% exact duplicates. Measures wall time, samples/s, peak RSS of the
driver and of the Ray workers (polled), object-store spill, and time per phase. Prints one JSON
line; side by side, the lower bound of reading the same files (JSON parse only).

    .venv/bin/python bench/bench_scale.py --samples 100000 [--keep DIR]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROWS_PER_FILE = 10_000


def make_corpus(root: Path, n: int, seed: int = 0) -> Path:
    import numpy as np
    import yaml

    from jobs.demo_data import ADJ, DETAIL, NOUN, PLACE, VERB, _image

    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True, exist_ok=True)
    pool = []
    for i in range(64):
        w, h = int(rng.integers(64, 640)), int(rng.integers(64, 640))
        fmt, ext = [("JPEG", "jpg"), ("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp")][i % 4]
        img = _image(rng, w, h)  # smooth, photo-like: web-typical bytes per pixel
        buf = io.BytesIO()
        img.save(buf, fmt, **({"quality": 85} if fmt == "JPEG" else {}))
        name = f"images/p{i:03d}.{ext}"
        (root / name).write_bytes(buf.getvalue())
        pool.append((name, w, h, len(buf.getvalue())))
    (root / "captions").mkdir(exist_ok=True)
    words = [ADJ, NOUN, VERB, PLACE, DETAIL]
    for f in range(0, n, ROWS_PER_FILE):
        lines = []
        for k in range(f, min(n, f + ROWS_PER_FILE)):
            name, w, h, b = pool[int(rng.integers(0, len(pool)))]
            if k > 100 and rng.random() < 0.05:
                cap = f"a {words[0][k % 20]} {words[1][(k // 3) % 20]} {words[2][0]} {words[3][0]}"
            else:
                cap = (" ".join(str(rng.choice(ws)) for ws in words).strip()
                       + f" scene {k % 99991} of the {NOUN[(k // 99991) % len(NOUN)]} series")
            lines.append(json.dumps({"id": f"s{k:09d}", "image": name, "caption": "a " + cap,
                                     "width": w, "height": h, "bytes_size": b}))
        (root / "captions" / f"part-{f // ROWS_PER_FILE:05d}.jsonl").write_text("\n".join(lines) + "\n")
    job = {
        "seed": seed,
        "sources": [{"name": "synthetic", "format": "jsonl", "path": str(root / "captions"), "root": str(root),
                     "task": "caption"}],
        "filters": {"rules": {"compression": False}},
        "pack": {"context_length": 24576, "dp_size": 8, "micro_batch": 1, "grad_accum": 4, "packs_per_shard": 64},
        "output": {"dir": str(root / "out"), "overwrite": True},
        "ray": {"batch_size": 4096},
    }
    (root / "job.yaml").write_text(yaml.safe_dump(job))
    return root / "job.yaml"


class RssMonitor(threading.Thread):
    """Polls the peak RSS of Ray worker processes (and the raylet/GCS) every 0.5 s."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak_worker = 0
        self.peak_workers_total = 0
        self.stop = threading.Event()

    def run(self) -> None:
        import psutil

        me = os.getpid()
        while not self.stop.is_set():
            total = 0
            for p in psutil.process_iter(["pid", "cmdline", "memory_info"]):
                try:
                    cmd = " ".join(p.info["cmdline"] or [])
                    if p.info["pid"] == me or "ray" not in cmd:
                        continue
                    rss = p.info["memory_info"].rss
                except (psutil.Error, TypeError, AttributeError):
                    continue
                if "default_worker" in cmd or cmd.startswith("ray::"):
                    self.peak_worker = max(self.peak_worker, rss)
                    total += rss
            self.peak_workers_total = max(self.peak_workers_total, total)
            self.stop.wait(0.5)


def disk_write_mb_per_s(directory: Path, mb: int = 256) -> float:
    """Sequential write + fsync rate of this disk: the lower bound of the shard-writing phase."""
    block = os.urandom(1 << 20)
    path = directory / "disk-probe.bin"
    t0 = time.perf_counter()
    with open(path, "wb") as fh:
        for _ in range(mb):
            fh.write(block)
        fh.flush()
        os.fsync(fh.fileno())
    rate = mb / (time.perf_counter() - t0)
    path.unlink()
    return rate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=100_000)
    ap.add_argument("--keep", type=Path, default=None)
    args = ap.parse_args()

    import ray

    from jobs.pipeline import run_job
    from schemas.config import load_job_config

    tmp = args.keep or Path(tempfile.mkdtemp(prefix="vlpack-scale-"))
    t0 = time.perf_counter()
    job = make_corpus(tmp, args.samples)
    make_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for f in sorted((tmp / "captions").glob("*.jsonl")):
        with open(f, "rb") as fh:
            for line in fh:
                json.loads(line)
    parse_only = time.perf_counter() - t0

    disk_rate = disk_write_mb_per_s(tmp)
    cfg = load_job_config(job)
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
    mon = RssMonitor()
    mon.start()
    t0 = time.perf_counter()
    result = run_job(cfg)
    wall = time.perf_counter() - t0
    try:
        from ray._private.internal_api import memory_summary

        summary = memory_summary(address=ray.get_runtime_context().gcs_address, stats_only=True)
        spilled = [ln.strip() for ln in summary.splitlines() if "Spilled" in ln]
    except Exception as err:  # noqa: BLE001 - diagnostics only
        spilled = [f"unavailable: {err}"]
    mon.stop.set()
    mon.join()
    ray.shutdown()
    driver_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    s = result.stats
    shard_mb = sum(e.bytes for e in result.manifest.shards) / 2**20
    write_s = s["timings_s"]["write_shards"]
    print(json.dumps({
        "bench": "scale",
        "samples": args.samples,
        "cpus": os.cpu_count(),
        "wall_s": round(wall, 1),
        "samples_per_s": round(args.samples / wall, 1),
        "json_parse_only_s": round(parse_only, 2),
        "wall_over_parse_only": round(wall / parse_only, 1),
        "driver_peak_rss_mb": round(driver_peak / 2**20, 1),
        "worker_peak_rss_mb": round(mon.peak_worker / 2**20, 1),
        "workers_total_peak_rss_mb": round(mon.peak_workers_total / 2**20, 1),
        "object_store_spill": spilled,
        "phase_wall_s": s.get("timings_s"),
        "stage_cpu_s": s.get("stage_cpu_seconds"),
        "shard_mb": round(shard_mb, 1),
        "write_mb_per_s": round(shard_mb / write_s, 1),
        "disk_write_mb_per_s": round(disk_rate, 1),
        "write_over_disk_lower_bound": round(write_s / (shard_mb / disk_rate), 2),
        "packs": s["packing"]["n_packs"],
        "fill": round(s["packing"]["fill"], 5),
        "status": s["funnel"].get("status"),
        "corpus_make_s": round(make_s, 1),
    }))


if __name__ == "__main__":
    main()
