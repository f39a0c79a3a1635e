"""Benchmark dedup: MinHash signatures vs datasketch, and end-to-end dedup on local Ray.

Run: `python bench/bench_dedup.py [--n 100000] [--sig-captions 20000] [--datasketch-captions 3000]`.
Prints one JSON line:
- signatures: captions per second per core (process CPU time, best of 3) with character 5-grams
  and 128 permutations: ours from raw text (normalise + shingle + sign) and from the same shingle
  hashes, and `datasketch.MinHash.bulk` on the same shingles (as bytes); `ratio` = ours from text /
  datasketch.
- e2e: `jobs.dedup_stage.dedupe` over `--n` synthetic captions (about 10% planted near-duplicates,
  2.5% case/punctuation variants) on a 2-CPU local Ray runtime: wall time, peak RSS of the driver,
  peak PSS summed over the driver and every Ray process it started, band rows' bytes per caption,
  the growth of that summed PSS during the banding stage (signatures, band rows and their
  shuffle) per caption, and recall of planted duplicates whose true Jaccard is at least the
  threshold (and, separately, of those within 0.03 above it: the pairs LSH finds least often);
- lsh_shape: the default bands × rows (chosen so that a pair at J = threshold is a candidate with
  probability >= 0.95) against the unconstrained optimum of the same objective (14 × 9): candidate
  probability at the threshold, and the CPU cost per caption of signatures + band keys (process
  CPU time, best of 3) for each shape, side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from filters.dedup import MinHasher, char_shingle_hashes, normalise_captions, text_pair_jaccard  # noqa: E402
from schemas.dedup_config import DedupConfig  # noqa: E402
from schemas.sample import SAMPLE_SCHEMA, SEGMENT_TYPE, TURN_TYPE, with_work_columns  # noqa: E402

SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "ta", "shi", "po", "ve", "da", "gu", "ri", "so", "an", "el", "or",
             "ber", "tin", "cal", "mon", "dra", "ph", "st", "qu", "en", "ly", "ing", "ed", "er", "a"]  # fmt: skip


def vocabulary(rng: np.random.Generator, size: int = 30000) -> np.ndarray:
    words = set()
    while len(words) < size:
        k = int(rng.integers(1, 5))
        words.add("".join(SYLLABLES[i] for i in rng.integers(0, len(SYLLABLES), k)))
    return np.array(sorted(words), dtype=object)


def synthetic_captions(n: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """n captions; returns (captions, source index of each planted copy or -1)."""
    rng = np.random.default_rng(seed)
    vocab = vocabulary(rng)
    zipf = 1.0 / np.arange(1, vocab.size + 1) ** 0.9
    zipf /= zipf.sum()
    n_exact, n_near = n // 40, n // 10
    n_orig = n - n_exact - n_near
    lengths = rng.integers(8, 29, n_orig)
    words = vocab[rng.choice(vocab.size, int(lengths.sum()), p=zipf)]
    bounds = np.concatenate(([0], np.cumsum(lengths)))
    captions = [" ".join(words[bounds[i]:bounds[i + 1]]) for i in range(n_orig)]
    origin = np.full(n, -1, dtype=np.int64)
    sources = rng.integers(0, n_orig, n_exact + n_near)
    for j, src in enumerate(sources):
        text = captions[src]
        if j < n_exact:  # same text up to case and punctuation
            copy = text.capitalize() + "."
        else:
            toks = text.split()
            op = int(rng.integers(0, 4))
            at = int(rng.integers(0, len(toks)))
            if op == 0:  # typo: replace one character
                w = toks[at]
                c = int(rng.integers(0, len(w)))
                toks[at] = w[:c] + "xzq"[int(rng.integers(0, 3))] + w[c + 1:]
            elif op == 1:
                toks[at] = str(vocab[rng.integers(0, vocab.size)])
            elif op == 2 and len(toks) > 1:
                del toks[at]
            else:
                toks.insert(at, str(vocab[rng.integers(0, vocab.size)]))
            copy = " ".join(toks)
        captions.append(copy)
        origin[n_orig + j] = src
    order = rng.permutation(n)
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.arange(n)
    shuffled = [captions[i] for i in order]
    shuffled_origin = np.where(origin[order] >= 0, inverse[np.maximum(origin[order], 0)], -1)
    return shuffled, shuffled_origin


def work_table(captions: list[str]) -> pa.Table:
    """A WORK_SCHEMA table with one user image turn and one assistant caption turn per row."""
    n = len(captions)
    kinds = pa.array(["image", "text"] * n, pa.string())
    texts = pa.array([t for c in captions for t in (None, c)], pa.string())
    media = pa.array([m for _ in range(n) for m in (0, None)], pa.int32())
    segs = pa.StructArray.from_arrays([kinds, texts, media], fields=list(SEGMENT_TYPE))
    seg_lists = pa.ListArray.from_arrays(pa.array(np.arange(2 * n + 1, dtype=np.int32)), segs)
    roles = pa.array(["user", "assistant"] * n, pa.string())
    turns = pa.StructArray.from_arrays([roles, seg_lists], fields=list(TURN_TYPE))
    turn_lists = pa.ListArray.from_arrays(pa.array(np.arange(0, 2 * n + 1, 2, dtype=np.int32)), turns)
    table = pa.table({
        "sample_id": pa.array([f"syn-{i:08d}" for i in range(n)], pa.string()),
        "source": pa.array([f"src{i % 3}" for i in range(n)], pa.string()),
        "task": pa.array(["caption"] * n, pa.string()),
        "turns": turn_lists,
        "media": pa.array([[]] * n, SAMPLE_SCHEMA.field("media").type),
    }).cast(SAMPLE_SCHEMA)
    return with_work_columns(table)


def _cpu_rate(fn, items: int, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return items / best


def bench_signatures(n: int, n_datasketch: int, num_perm: int = 128, ngram: int = 5) -> dict:
    from datasketch import MinHash

    captions, _ = synthetic_captions(n, seed=1)
    hasher = MinHasher(num_perm, seed=1)
    norm = normalise_captions(captions)
    hashes, offsets = char_shingle_hashes(norm, ngram)
    ours_text = _cpu_rate(lambda: hasher.signatures(*char_shingle_hashes(normalise_captions(captions), ngram)), n)
    ours_shingles = _cpu_rate(lambda: hasher.signatures(hashes, offsets), n)
    sub = norm[:n_datasketch]
    shingles = [[t[i:i + ngram].encode() for i in range(max(1, len(t) - ngram + 1))] for t in sub]
    theirs = _cpu_rate(lambda: MinHash.bulk(shingles, num_perm=num_perm), len(sub), repeats=1)
    return {"captions": n, "num_perm": num_perm, "ngram": ngram,
            "mean_shingles": round(float(np.diff(offsets).mean()), 1),
            "ours_from_text_per_s_per_core": round(ours_text), "ours_from_shingles_per_s_per_core": round(ours_shingles),
            "datasketch_bulk_per_s_per_core": round(theirs), "ratio": round(ours_text / theirs, 2),
            "ratio_same_shingles": round(ours_shingles / theirs, 2)}


def bench_lsh_shape(n: int, threshold: float = 0.8, num_perm: int = 128) -> dict:
    """Default (constrained) shape vs the unconstrained optimum: probability at J = threshold and
    CPU per caption of signatures + band bucket keys."""
    from filters.dedup import candidate_probability, lsh_params
    from filters.dedup.minhash import band_bucket_keys

    cfg = DedupConfig()
    captions, _ = synthetic_captions(n, seed=3)
    hashes, offsets = char_shingle_hashes(normalise_captions(captions), cfg.ngram)
    hasher = MinHasher(num_perm, seed=3)
    scope = np.zeros(n, dtype=np.uint64)
    out = {}
    shapes = {"default": lsh_params(threshold, num_perm, cfg.false_positive_weight, cfg.false_negative_weight,
                                    cfg.min_candidate_probability),
              "unconstrained": lsh_params(threshold, num_perm, cfg.false_positive_weight, cfg.false_negative_weight)}
    for name, (b, r) in shapes.items():
        def run(b=b, r=r):
            sig = hasher.signatures(hashes, offsets, slice(0, b * r))
            band_bucket_keys(sig, b, r, scope)

        rate = _cpu_rate(run, n)
        out[name] = {"bands": b, "rows": r, "permutations_used": b * r,
                     "p_candidate_at_threshold": round(float(candidate_probability(threshold, b, r)), 4),
                     "p_candidate_at_threshold_minus_0.2": round(float(candidate_probability(threshold - 0.2, b, r)), 4),
                     "signature_and_band_keys_per_s_per_core": round(rate),
                     "cpu_us_per_caption": round(1e6 / rate, 2)}
    out["cpu_cost_ratio_default_vs_unconstrained"] = round(out["default"]["cpu_us_per_caption"]
                                                           / out["unconstrained"]["cpu_us_per_caption"], 3)
    out["band_rows_ratio_default_vs_unconstrained"] = round(out["default"]["bands"] / out["unconstrained"]["bands"], 3)
    return out


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def _pss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class MemorySampler(threading.Thread):
    """Samples (time, summed PSS) of this process tree: driver, raylet, object store, workers."""

    def __init__(self, interval: float = 0.25):
        super().__init__(daemon=True)
        self.interval, self.samples, self.stop = interval, [], threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.samples.append((time.perf_counter(), sum(_pss_bytes(p) for p in _descendants(os.getpid()))))
            self.stop.wait(self.interval)

    @property
    def peak(self) -> int:
        return max(p for _, p in self.samples)

    def growth(self, start: float, end: float) -> int:
        """Peak PSS within [start, end] minus the last sample at or before start."""
        before = [p for t, p in self.samples if t <= start] or [self.samples[0][1]]
        inside = [p for t, p in self.samples if start <= t <= end] or [before[-1]]
        return max(0, max(inside) - before[-1])


def bench_e2e(n: int, blocks: int, shuffle: str | None) -> dict:
    import ray

    cfg = DedupConfig()
    captions, origin = synthetic_captions(n, seed=2)
    table = work_table(captions)
    planted = np.flatnonzero(origin >= 0)
    norm = normalise_captions(captions)
    jac = text_pair_jaccard(norm, planted, origin[planted], cfg.ngram)
    target = planted[jac >= cfg.threshold]
    edge = planted[(jac >= cfg.threshold) & (jac < cfg.threshold + 0.03)]

    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=2 * 1024**3,
             logging_level="ERROR")
    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    from jobs.dedup_stage import dedupe

    ds = ray.data.from_arrow(table).repartition(blocks).materialize()
    base_pss = sum(_pss_bytes(p) for p in _descendants(os.getpid()))
    monitor = MemorySampler()
    monitor.start()
    time.sleep(0.5)
    t0 = time.perf_counter()
    out, stats = dedupe(ds, cfg, seed=0, **({"shuffle": shuffle} if shuffle else {}))
    result = pa.concat_tables(ray.get(out.to_arrow_refs()))
    wall = time.perf_counter() - t0
    monitor.stop.set()
    monitor.join()
    # the banding stage: band rows (signatures) and their shuffle, from the stage timings
    offsets, at = {}, t0
    for name, secs in stats["timings_s"].items():
        offsets[name] = (at, at + secs)
        at += secs
    banding = offsets["banding"]
    ray.shutdown()
    status = np.array(result.column("status").to_pylist())
    dup_of = result.column("dup_of").to_pylist()
    marked = status == "duplicate"
    index = {s: i for i, s in enumerate(result.column("sample_id").to_pylist())}
    # a planted pair is found when copy and origin end in the same cluster (same kept representative)
    kept = np.array([index[d] if d is not None else i for i, d in enumerate(dup_of)])
    found = kept[target] == kept[origin[target]]
    found_edge = kept[edge] == kept[origin[edge]]
    return {
        "captions": n, "blocks": blocks, "shuffle": shuffle or "default", "wall_s": round(wall, 2),
        "captions_per_s": round(n / wall),
        "duplicates": int(marked.sum()), "by_reason": stats["by_reason"], "clusters": stats["clusters"],
        "planted_copies": int(planted.size), "planted_at_or_above_threshold": int(target.size),
        "recall_planted": round(float(found.mean()), 4) if target.size else None,
        "planted_within_0.03_above_threshold": int(edge.size),
        "recall_within_0.03_above_threshold": round(float(found_edge.mean()), 4) if edge.size else None,
        "bands": stats["lsh"]["bands"], "rows": stats["lsh"]["rows"],
        "band_bytes_per_caption_per_pass": stats["banding"]["bytes_per_caption_per_pass"],
        "band_passes": stats["banding"]["passes"],
        "banding_stage_pss_growth_bytes_per_caption": round(monitor.growth(*banding) / n, 1),
        "banding": stats["banding"], "stage_timings_s": stats["timings_s"],
        "peak_rss_driver_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_pss_all_ray_processes_mb": round(monitor.peak / 2**20, 1),
        "baseline_pss_all_ray_processes_mb": round(base_pss / 2**20, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="captions for the end-to-end run")
    parser.add_argument("--blocks", type=int, default=16, help="input blocks for the end-to-end run")
    parser.add_argument("--sig-captions", type=int, default=20_000)
    parser.add_argument("--datasketch-captions", type=int, default=3_000)
    parser.add_argument("--shuffle", default=None, help="Ray Data shuffle strategy (default: dedupe's)")
    parser.add_argument("--skip-e2e", action="store_true")
    args = parser.parse_args()
    result = {"bench": "dedup", "signatures": bench_signatures(args.sig_captions, args.datasketch_captions),
              "lsh_shape": bench_lsh_shape(args.sig_captions)}
    if not args.skip_e2e:
        result["e2e"] = bench_e2e(args.n, args.blocks, args.shuffle)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
