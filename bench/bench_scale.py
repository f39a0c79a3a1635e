"""Scale runs of the whole pack job on a synthetic metadata-only corpus (issues 10 and 15).

N caption samples in JSONL files of 10k rows, given by metadata (width, height, bytes) over a pool
of small real image files, ~5% exact duplicates. For each size, in a fresh process, the job runs on
the embedded local runtime and the bench measures: wall time, samples/s per core, CPU seconds per
sample of every row stage (process CPU of the workers) and wall seconds per phase, the driver's
peak RSS and the largest worker's, object-store spill, and bins against the lower bound. Side by
side, measured in the same run over the same files: the *essential work* done by a plain
single-process script (`essential_work`: parse each line, read its image header, tokenise its
caption, copy the image bytes and the tokens into a tar), the lower bound of any pipeline. The
driver's growth in bytes per sample between sizes, and an extrapolation to 1B samples on a stated
cluster, close the JSON line.

    .venv/bin/python bench/bench_scale.py --samples 100000 1000000 [--keep DIR]
    .venv/bin/python bench/bench_scale.py --samples 50000 10000000 --pool-px 112 128 --keep DIR  # 10M on a small disk (the image rules refuse under 112×112)
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


def make_corpus(root: Path, n: int, seed: int = 0, pool_px: tuple[int, int] = (64, 640)) -> Path:
    import numpy as np
    import yaml

    from jobs.demo_data import ADJ, DETAIL, NOUN, PLACE, VERB, _image

    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True, exist_ok=True)
    pool = []
    for i in range(64):
        w, h = int(rng.integers(*pool_px)), int(rng.integers(*pool_px))
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
    """Sequential write + fsync rate of this disk: the lower bound of the shard-writing phase.
    Measured over as many MB as the shards hold (up to 4 GiB): a short write lands in the page cache
    and the device's cache at several times the rate a long one keeps (1.8 GB/s for 256 MiB against
    401 MB/s for 4 GiB with `dd ... conv=fsync` on the bench machine)."""
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


def essential_work(root: Path, limit: int) -> dict:
    """The essential work over the first `limit` samples, in this process, one core: JSON parse,
    image header read (Pillow, lazy: size only), tokenise the caption with the job's tokenizer,
    copy the image bytes and the token ids into a tar. Returns seconds per sample."""
    import numpy as np
    from PIL import Image

    from packer.shards import TarStream, npy_bytes
    from packer.tokenizer import load_tokenizer

    tok = load_tokenizer("qwen")
    tok.encode_batch(["warm up"])
    out = root / "essential.tar"
    n = 0
    t0 = time.process_time()
    with open(out, "wb") as fh:
        tar = TarStream(fh)
        for f in sorted((root / "captions").glob("*.jsonl")):
            with open(f, "rb") as lines:
                for line in lines:
                    row = json.loads(line)
                    path = root / row["image"]
                    with Image.open(path) as im:
                        _ = im.size
                    ids = np.asarray(tok.encode_batch([row["caption"]])[0], dtype=np.int32)
                    tar.add(f"{n:09d}.tokens.npy", npy_bytes(ids))
                    tar.add(f"{n:09d}.{path.suffix[1:]}", path.read_bytes())
                    n += 1
                    if n >= limit:
                        break
            if n >= limit:
                break
        tar.close()
        fh.flush()
        os.fsync(fh.fileno())
    cpu = time.process_time() - t0
    out.unlink()
    return {"samples": n, "cpu_s_per_sample": cpu / n, "samples_per_s_per_core": n / cpu}


def run_one(root: Path, n: int) -> dict:
    """The job over the corpus at `root` (N samples), in this process: the measurements."""
    import ray

    from jobs.pipeline import run_job
    from schemas.config import load_job_config

    cfg = load_job_config(root / "job.yaml")
    cfg = cfg.model_copy(update={"output": cfg.output.model_copy(update={"dir": str(root / "out")})})
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
    mon = RssMonitor()
    mon.start()
    t0 = time.perf_counter()
    result = run_job(cfg, force=True)
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
    s = result.stats
    shard_mb = sum(e.bytes for e in result.manifest.shards) / 2**20
    cpus = os.cpu_count()
    disk_mb_s = disk_write_mb_per_s(root, min(4096, max(256, round(shard_mb))))
    write_s = s["timings_s"]["write_shards"] + s["timings_s"].get("spool_rows", 0.0)  # the write's whole cost
    return {
        "samples": n,
        "wall_s": round(wall, 1),
        "samples_per_s_per_core": round(n / wall / cpus, 1),
        "stage_cpu_us_per_sample": {k: round(v / n * 1e6, 2) for k, v in s.get("stage_cpu_seconds", {}).items()},
        "phase_wall_s": s.get("timings_s"),
        "driver_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "worker_peak_rss_mb": round(mon.peak_worker / 2**20, 1),
        "workers_total_peak_rss_mb": round(mon.peak_workers_total / 2**20, 1),
        "object_store_spill": spilled,
        "bins": s["packing"].get("n_packs"),
        "bins_over_lower_bound": s["packing"].get("bins_over_lower_bound"),
        "planning_groups": len(result.manifest.index_parts.get("ledger", [])),
        "shard_mb": round(shard_mb, 1),
        "disk_write_mb_per_s": round(disk_mb_s, 1),
        "write_shards_mb_per_s": round(shard_mb / max(write_s, 1e-9), 1),
        "write_over_disk_lower_bound_s": round(write_s / max(shard_mb / disk_mb_s, 1e-9), 2),
        "status": s["funnel"].get("status"),
    }


def extrapolate(runs: list[dict], essential: dict, nodes: int = 32, cores: int = 64) -> dict:
    """1B samples on `nodes` × `cores`, stage by stage, from the largest run's per-sample costs:
    every stage runs as tasks over the cluster, none is bounded by the driver."""
    big = max(runs, key=lambda r: r["samples"])
    n, total = 1_000_000_000, nodes * cores
    per_stage = {k: round(v * 1e-6 * n / total / 60, 1) for k, v in big["stage_cpu_us_per_sample"].items()}
    whole = n / (big["samples_per_s_per_core"] * total) / 60
    return {"cluster": f"{nodes} nodes x {cores} cores", "samples": n,
            "row_stage_minutes": per_stage, "whole_job_minutes_at_measured_rate": round(whole, 1),
            "essential_work_minutes": round(n * essential["cpu_s_per_sample"] / total / 60, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--keep", type=Path, default=None, help="corpora go here (reused when present)")
    ap.add_argument("--pool-px", type=int, nargs=2, default=[64, 640], metavar=("MIN", "MAX"),
                    help="side lengths of the 64 pool images (smaller: a 10M run's tars fit a small disk)")
    ap.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)  # the child process of one size
    args = ap.parse_args()

    base = args.keep or Path(tempfile.mkdtemp(prefix="vlpack-scale-"))
    if args.one is not None:
        print(json.dumps(run_one(base / f"n{args.one}", args.one)))
        return
    import subprocess

    runs = []
    for n in sorted(args.samples):
        root = base / f"n{n}"
        if not (root / "job.yaml").exists():
            make_corpus(root, n, pool_px=tuple(args.pool_px))
        proc = subprocess.run([sys.executable, __file__, "--one", str(n), "--keep", str(base)], capture_output=True,
                              text=True)
        if proc.returncode:
            sys.exit(f"run of {n} samples failed:\n{proc.stderr[-4000:]}")
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    small = min(args.samples)
    essential = essential_work(base / f"n{small}", min(small, 100_000))
    for r in runs:
        r["over_essential_work_per_core"] = round(r["samples_per_s_per_core"] / essential["samples_per_s_per_core"], 3)
    growth = None
    if len(runs) >= 2:
        a, b = runs[0], runs[-1]
        growth = round((b["driver_peak_rss_mb"] - a["driver_peak_rss_mb"]) * 2**20 / (b["samples"] - a["samples"]), 1)
    print(json.dumps({"bench": "scale", "cpus": os.cpu_count(), "runs": runs, "essential_work": essential,
                      "driver_growth_bytes_per_sample": growth, "extrapolation_1b": extrapolate(runs, essential)}))


if __name__ == "__main__":
    main()
