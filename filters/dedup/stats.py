"""Dedup statistics for the report: clusters, size histogram, top duplicated captions, per source."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from filters.dedup.minhash import candidate_probability
from filters.dedup.plan import DedupPlan
from filters.dedup.resolve import REASON_EXACT, REASON_IMAGE, REASON_NEAR

REASONS = (REASON_EXACT, REASON_NEAR, REASON_IMAGE)


def size_bin(size: int) -> str:
    """Histogram bin of a cluster size: 2, 3-4, 5-8, 9-16, ..."""
    if size <= 2:
        return str(size)
    hi = 1 << (size - 1).bit_length()
    return f"{hi // 2 + 1}-{hi}"


def dedup_statistics(clusters: pa.Table, considered: dict[str, int], plan: DedupPlan,
                     top_captions: int = 20) -> dict:
    """Statistics of one dedup run from its cluster rows (CLUSTER_ROW_SCHEMA) and the number of
    considered rows per source. JSON-ready; keys are sorted where order is free."""
    cfg = plan.cfg
    reps = clusters.filter(pc.is_null(clusters.column("dup_of")))
    dups = clusters.filter(pc.is_valid(clusters.column("dup_of")))
    sizes = reps.column("cluster_size").to_numpy(zero_copy_only=False).astype(np.int64)
    hist = Counter(size_bin(int(s)) for s in sizes)
    by_reason = Counter(dups.column("reason").to_pylist())
    per_source: dict[str, dict[str, int]] = {
        s: {"considered": int(n), "duplicates": 0, **{r: 0 for r in REASONS}} for s, n in considered.items()}
    for src, reason in zip(dups.column("source").to_pylist(), dups.column("reason").to_pylist()):
        entry = per_source.setdefault(src, {"considered": 0, "duplicates": 0, **{r: 0 for r in REASONS}})
        entry["duplicates"] += 1
        entry[reason] += 1
    shown = reps.filter(pc.is_valid(reps.column("caption")))
    order = sorted(range(shown.num_rows), key=lambda i: (-shown.column("cluster_size")[i].as_py(),
                                                          shown.column("sample_id")[i].as_py()))
    top = [{"caption": shown.column("caption")[i].as_py(), "size": shown.column("cluster_size")[i].as_py(),
            "sample_id": shown.column("sample_id")[i].as_py(), "source": shown.column("source")[i].as_py()}
           for i in order[:top_captions]]
    return {
        "enabled": True,
        "considered": int(sum(considered.values())),
        "duplicates": int(dups.num_rows),
        "by_reason": {r: int(by_reason.get(r, 0)) for r in REASONS},
        "clusters": int(reps.num_rows),
        "largest_cluster": int(sizes.max()) if sizes.size else 0,
        "cluster_size_histogram": dict(sorted(hist.items(), key=lambda kv: int(kv[0].split("-")[0]))),
        "top_duplicated": top,
        "per_source": dict(sorted(per_source.items())),
        "lsh": {"threshold": cfg.threshold, "ngram": cfg.ngram, "num_perm": cfg.num_perm, "bands": plan.bands,
                "rows": plan.rows, "candidate_probability_at_threshold":
                    round(float(candidate_probability(cfg.threshold, plan.bands, plan.rows)), 4)},
        "options": {"exact": cfg.exact, "near": cfg.near, "image_exact": cfg.image_exact, "scope": cfg.scope,
                    "key": cfg.key, "tasks": list(cfg.tasks)},
    }
