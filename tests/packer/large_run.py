"""A committed-looking output of a large run, made without Ray: a synthetic ledger and packs index
of `n_samples` samples over many steps, its real statistics (`packer.stats.compute_stats`), and
shard files of plausible sizes. The report tests draw it to check layouts that only show at scale
(hundreds of steps, many ranks), in milliseconds rather than the minutes a real 20k-sample job takes.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa

from packer.stats import compute_stats
from schemas.config import JobConfig
from schemas.manifest import LEDGER_SCHEMA, PACKS_SCHEMA, STATS_PATH

SOURCES = {"web_alt": ("caption", 1.0), "coco_style": ("caption", 1.0), "llava_vqa": ("vqa", 1.0),
           "grounding": ("grounding", 1.5), "video": ("video", 1.0), "text_only": ("text", 0.5)}


def _with_schema(n: int, schema: pa.Schema, columns: dict) -> pa.Table:
    """`columns` as a table of `schema`; columns the schema has and we do not (added since) are null."""
    return pa.table({f.name: pa.array(columns[f.name], f.type) if f.name in columns else pa.nulls(n, f.type)
                     for f in schema}, schema=schema)


def large_run_output(out: Path, n_samples: int = 20_000, samples_per_pack: int = 12, dp_size: int = 4,
                     grad_accum: int = 2, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    names = list(SOURCES)
    source = rng.choice(names, size=n_samples, p=[0.4, 0.17, 0.17, 0.12, 0.02, 0.12])
    status = rng.choice(["packed", "filtered", "invalid", "duplicate"], size=n_samples, p=[0.82, 0.1, 0.03, 0.05])
    reason = np.where(status == "filtered", "filter.url", np.where(status == "invalid", "grounding.box_order",
                                                                   np.where(status == "duplicate", "dedup.exact", None)))
    total = rng.integers(60, 900, size=n_samples)
    packed = np.flatnonzero(status == "packed")
    per_step = dp_size * grad_accum
    n_packs = (len(packed) // samples_per_pack) // per_step * per_step
    packed_used = packed[: n_packs * samples_per_pack]
    status[packed[n_packs * samples_per_pack:]] = "remainder"
    reason[packed[n_packs * samples_per_pack:]] = "pack.remainder_dropped"
    pack_id = np.full(n_samples, -1, dtype=np.int64)
    pack_id[packed_used] = np.arange(len(packed_used)) // samples_per_pack
    lang = rng.choice(["en", "de", "zh", "und", None], size=n_samples, p=[0.6, 0.05, 0.05, 0.05, 0.25])
    ledger = _with_schema(n_samples, LEDGER_SCHEMA, {
        "sample_id": [f"{s}/{i:07d}" for i, s in enumerate(source)], "copy": np.zeros(n_samples, np.int32),
        "source": source.tolist(), "task": [SOURCES[s][0] for s in source], "status": status.tolist(),
        "reason": reason.tolist(), "pack_id": pa.array(np.where(pack_id >= 0, pack_id, None).tolist(), pa.int64()),
        "dup_of": [None] * n_samples, "lang": lang.tolist(),
        "lang_score": [None if v is None else 0.9 for v in lang], "text_tokens": (total // 3).tolist(),
        "vision_tokens": (total - total // 3).tolist(), "loss_tokens": (total // 5).tolist(),
        "total_tokens": total.tolist(), "vit_patches": ((total - total // 3) * 4).tolist(),
        "n_images": np.ones(n_samples, np.int64).tolist(),
    })
    real = np.bincount(pack_id[packed_used], weights=total[packed_used], minlength=n_packs).astype(np.int64)
    seq_len = int(-(-real.max() // 128) * 128)
    pid = np.arange(n_packs)
    step, within = pid // per_step, pid % per_step
    rank = within % dp_size
    shard = [f"shards/rank-{r:05d}/shard-{s // 16:06d}.tar" for r, s in zip(rank, step)]
    packs = _with_schema(n_packs, PACKS_SCHEMA, {
        "pack_id": pid, "step": step, "rank": rank.astype(np.int32), "micro": (within // dp_size).astype(np.int32),
        "shard": shard, "key": [f"pack-{p:09d}" for p in pid],
        "n_samples": np.full(n_packs, samples_per_pack, np.int32), "n_images": np.full(n_packs, samples_per_pack, np.int32),
        "real_tokens": real.astype(np.int32), "seq_len": np.full(n_packs, seq_len, np.int32),
        "vit_patches": (real * 2).astype(np.int32), "vit_bucket": (real * 2).astype(np.int32),
        "loss_tokens": (real // 5).astype(np.int32), "attn_cost": (real.astype(float) ** 2),
        "vit_cost": real.astype(float) / 10, "is_filler": np.zeros(n_packs, bool), "cost": real.astype(float),
        "repeat_of": np.full(n_packs, -1, np.int64)})
    cfg = JobConfig.model_validate({
        "sources": [{"name": n, "format": "jsonl", "path": f"{n}.jsonl", "task": t, "weight": w}
                    for n, (t, w) in SOURCES.items()],
        "pack": {"context_length": seq_len, "dp_size": dp_size, "grad_accum": grad_accum}})
    counters = {"rows_in.read": 40, "rows_in.probe": n_samples, "rows_in.filter": n_samples,
                "rows_in.grounding": n_samples, "rows_in.tokens": n_samples, "rows_in.mix": n_samples,
                "time.read": 3.1, "time.probe": 41.5, "time.filter": 12.25, "time.grounding": 0.0213,
                "time.tokens": 18.0, "time.mix": 0.00021, "grounding.checked": 2400,
                "grounding.box_order": int((reason == "grounding.box_order").sum())}
    stats = compute_stats(packs, ledger, cfg=cfg, counters=counters,
                          dedup={"top_duplicated": [{"caption": "一只小猫坐在窗台上晒太阳", "size": 7}]},
                          timings={"read_probe_filter_grounding": 42894.0, "dedupe": 3.2, "total": 61.7,
                                   "pack_assemble": 0.12}, n_files=40)
    out.mkdir(parents=True, exist_ok=True)
    (out / STATS_PATH).parent.mkdir(parents=True, exist_ok=True)
    (out / STATS_PATH).write_text(json.dumps(stats, default=float))
    import pyarrow.parquet as pq

    from packer.shards import file_sha256
    from schemas.manifest import MANIFEST_NAME, IndexPart, Manifest, index_part_path

    part = out / index_part_path("packs", 0)
    part.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(packs, part)
    manifest = Manifest(vlpack_version="test", config_fingerprint="large-run", seed=0, dp_size=cfg.pack.dp_size,
                        micro_batch=cfg.pack.micro_batch, grad_accum=cfg.pack.grad_accum,
                        context_length=cfg.pack.context_length, n_steps=int(max(packs.column("step").to_pylist()) + 1),
                        n_packs=packs.num_rows, n_samples_packed=0, n_input_rows=ledger.num_rows, shards=[],
                        index_parts={"packs": [IndexPart(path=index_part_path("packs", 0), sha256=file_sha256(part),
                                                         bytes=part.stat().st_size, rows=packs.num_rows)]},
                        tokenizer="qwen")
    (out / MANIFEST_NAME).write_text(manifest.model_dump_json())
    for i, rel in enumerate(sorted(set(shard))):
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(b"\0" * (1000 + 37 * i))
    return out
