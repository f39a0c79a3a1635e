"""Peak memory of the statistics step (issue 15, item 3) on a committed output.

Each role of `jobs.pipeline.output_statistics` runs in its own fresh process, as Ray runs it in a
worker: a part task per (ledger part, packs part), a bucket task per hash bucket, and the driver's
merge of what they return; the bench reports each role's peak RSS (the largest over its tasks) and
seconds. Beside them, the whole indexes in one process (`compute_stats` over the concatenated
tables: what one task did before). With `--parts N` the output's rows are first split into N part
pairs the way planning writes them (a pack and the rows in it in one part), and the stats.json of
every split is checked to be identical.

    .venv/bin/python bench/bench_stats_parts.py OUT [--parts 1 16] [--buckets B (default: as the job)]
"""

from __future__ import annotations

import argparse
import json
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _peak_mb() -> float:
    """This process's peak RSS: VmHWM, which a fresh exec starts anew (ru_maxrss keeps the
    parent's peak across fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _job(out: Path):
    from schemas.config import load_job_config

    cfg = load_job_config(out / "job.yaml")
    stats = json.loads((out / "report" / "stats.json").read_text())
    return cfg, dict(counters=stats.get("counters", {}), dedup=stats.get("dedup", {}).get("stage", {}),
                     timings=stats.get("timings_s", {}), n_files=stats["input"]["files"])


def role_whole(out: Path, result: Path) -> None:
    from packer.stats import compute_stats
    from schemas.manifest import load_index

    cfg, common = _job(out)
    t0 = time.perf_counter()
    packs = load_index(out, "packs", verify=False).sort_by("pack_id")
    ledger = load_index(out, "ledger", verify=False)
    stats = compute_stats(packs, ledger, cfg=cfg, **common)
    _finish(result, stats, t0)


def role_part(out: Path, ledger: str, packs: str, buckets: int, result: Path) -> None:
    from jobs.pipeline import part_statistics

    cfg, _ = _job(out)
    t0 = time.perf_counter()
    got = part_statistics(str(out), ledger or None, packs or None, cfg, buckets)
    result.with_suffix(".pkl").write_bytes(pickle.dumps(got[0]))
    for b, table in enumerate(got[1:]):  # each bucket's rows, as the bucket task alone receives them
        result.with_suffix(f".b{b}.pkl").write_bytes(pickle.dumps(table))
    _finish(result, None, t0)


def role_bucket(inputs: list[str], index: int, result: Path) -> None:
    from packer.partial_stats import keyed_stats

    t0 = time.perf_counter()
    tables = [pickle.loads(Path(f).with_suffix(f".b{index}.pkl").read_bytes()) for f in inputs]
    result.with_suffix(".pkl").write_bytes(pickle.dumps(keyed_stats(*tables)))
    _finish(result, None, t0)


def role_driver(out: Path, parts: list[str], buckets: list[str], result: Path) -> None:
    """What the driver holds: each part's PartStats (as ray.get returns it) merged one at a time,
    and the buckets' KeyedStats."""
    from packer.partial_stats import KeyedStats, PartStats
    from packer.stats import stats_of_parts

    cfg, common = _job(out)
    part_stats = [Path(f).read_bytes() for f in parts]  # each part task's PartStats, pickled
    t0 = time.perf_counter()
    merged, keyed = PartStats(), KeyedStats()
    for blob in part_stats:
        merged = merged.merge(pickle.loads(blob))
    for f in buckets:
        keyed = keyed.merge(pickle.loads(Path(f).read_bytes()))
    stats = stats_of_parts(merged, keyed, cfg=cfg, **common)
    _finish(result, stats, t0, extra={"part_stats_bytes": max(len(b) for b in part_stats)})


def _finish(result: Path, stats, t0: float, extra: dict | None = None) -> None:
    if stats is not None:
        stats["time"].pop("process_wall_s", None)
        result.with_suffix(".stats.json").write_text(json.dumps(stats, sort_keys=True, default=float))
    result.write_text(json.dumps({"peak_rss_mb": round(_peak_mb(), 1), "seconds": round(time.perf_counter() - t0, 2),
                                  **(extra or {})}))


def _run(args: list[str]) -> dict:
    result = Path(args[args.index("--result") + 1])
    subprocess.run([sys.executable, __file__, *args], check=True)
    return json.loads(result.read_text())


def split_output(out: Path, n_parts: int, dest: Path) -> list[tuple[str, str]]:
    """The output's ledger and packs as `n_parts` part pairs under `dest`: each pack, with the
    ledger rows in it, in the part of a hash of its pack id; other rows by a hash of their id."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from schemas.manifest import load_index

    ledger, packs = load_index(out, "ledger", verify=False), load_index(out, "packs", verify=False)
    part_of_pack = (packs.column("pack_id").to_numpy() * 2654435761) % n_parts
    pid = np.asarray(ledger.column("pack_id").fill_null(-1).to_numpy(), np.int64)
    rows = np.arange(ledger.num_rows)
    ids, at = packs.column("pack_id").to_numpy(), None
    order = np.argsort(ids)
    at = np.searchsorted(ids[order], pid).clip(0, len(ids) - 1)
    found = (pid >= 0) & (ids[order][at] == pid)
    row_part = np.where(found, part_of_pack[order][at], (rows * 40503) % n_parts)
    pairs = []
    for i in range(n_parts):
        lp, pp = f"index/ledger/part-{i:05d}.parquet", f"index/packs/part-{i:05d}.parquet"
        for rel, table in ((lp, ledger.filter(pa.array(row_part == i))), (pp, packs.filter(pa.array(part_of_pack == i)))):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, dest / rel, compression="zstd")
        pairs.append((lp, pp))
    for name in ("job.yaml", "report"):
        src = out / name
        (dest / name).symlink_to(src, target_is_directory=src.is_dir())
    return pairs


def bench(out: Path, parts_list: list[int], max_buckets: int) -> dict:
    from jobs.pipeline import paired_parts, stat_buckets
    from schemas.manifest import MANIFEST_NAME, Manifest

    res: dict = {"output": str(out)}
    tmp = Path(tempfile.mkdtemp(prefix="bench-stats-"))
    res["whole_indexes_one_process"] = _run(["whole", str(out), "--result", str(tmp / "whole.json")])
    want = (tmp / "whole.stats.json").read_text()
    for n in parts_list:
        if n == 1:
            where = out
            pairs = paired_parts(Manifest.model_validate_json((out / MANIFEST_NAME).read_text()))
        else:
            where = tmp / f"split{n}"
            pairs = split_output(out, n, where)
        buckets = max_buckets or stat_buckets(Manifest.model_validate_json((out / MANIFEST_NAME).read_text()))
        part_runs = [_run(["part", str(where), "--ledger", lp or "", "--packs", pp or "", "--buckets", str(buckets),
                           "--result", str(tmp / f"p{n}-{i}.json")]) for i, (lp, pp) in enumerate(pairs)]
        part_files = [str(tmp / f"p{n}-{i}.pkl") for i in range(len(pairs))]
        bucket_runs = [_run(["bucket", *part_files, "--index", str(b), "--result", str(tmp / f"b{n}-{b}.json")])
                       for b in range(buckets)]
        driver = _run(["driver", str(where), "--parts", *part_files, "--buckets",
                       *[str(tmp / f"b{n}-{b}.pkl") for b in range(buckets)], "--result", str(tmp / f"d{n}.json")])
        got = (tmp / f"d{n}.stats.json").read_text()
        res[f"{n}_parts"] = {
            "part_tasks": len(part_runs), "part_task_peak_rss_mb_max": max(r["peak_rss_mb"] for r in part_runs),
            "part_task_seconds_sum": round(sum(r["seconds"] for r in part_runs), 2),
            "bucket_tasks": buckets, "bucket_task_peak_rss_mb_max": max(r["peak_rss_mb"] for r in bucket_runs),
            "bucket_task_seconds_sum": round(sum(r["seconds"] for r in bucket_runs), 2),
            "driver_peak_rss_mb": driver["peak_rss_mb"], "driver_seconds": driver["seconds"],
            "largest_part_stats_bytes": driver["part_stats_bytes"], "stats_equal_to_whole": got == want}
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("role_or_out")
    ap.add_argument("rest", nargs="*")
    ap.add_argument("--parts", nargs="*", default=[])
    ap.add_argument("--buckets", nargs="*", default=[])
    ap.add_argument("--ledger", default="")
    ap.add_argument("--packs", default="")
    ap.add_argument("--index", type=int, default=0)
    ap.add_argument("--result", default="")
    a = ap.parse_args()
    result = Path(a.result) if a.result else None
    if a.role_or_out == "whole":
        role_whole(Path(a.rest[0]), result)
    elif a.role_or_out == "part":
        role_part(Path(a.rest[0]), a.ledger, a.packs, int(a.buckets[0]), result)
    elif a.role_or_out == "bucket":
        role_bucket(a.rest, a.index, result)
    elif a.role_or_out == "driver":
        role_driver(Path(a.rest[0]), a.parts, a.buckets, result)
    else:
        print(json.dumps(bench(Path(a.role_or_out), [int(x) for x in a.parts or [1, 16]],
                               int(a.buckets[0]) if a.buckets else 0)))


if __name__ == "__main__":
    main()
