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


def partial_statistics(clusters: pa.Table, top_captions: int = 20) -> dict:
    """Mergeable statistics of some cluster rows (CLUSTER_ROW_SCHEMA, whole clusters): counts, the
    size histogram, duplicates per source and reason, and the `top_captions` largest clusters whose
    caption is shown. Its size does not grow with the rows: sources × reasons and top_captions."""
    reps = clusters.filter(pc.is_null(clusters.column("dup_of")))
    dups = clusters.filter(pc.is_valid(clusters.column("dup_of")))
    sizes = reps.column("cluster_size").to_numpy(zero_copy_only=False).astype(np.int64)
    per_source: dict[str, dict[str, int]] = {}
    for src, reason in zip(dups.column("source").to_pylist(), dups.column("reason").to_pylist()):
        entry = per_source.setdefault(src, {"duplicates": 0, **{r: 0 for r in REASONS}})
        entry["duplicates"] += 1
        entry[reason] += 1
    shown = reps.filter(pc.is_valid(reps.column("caption")))
    top = [{"caption": c, "size": n, "sample_id": i, "source": s} for c, n, i, s in zip(
        *(shown.column(k).to_pylist() for k in ("caption", "cluster_size", "sample_id", "source")))]
    return {
        "clusters": int(reps.num_rows),
        "duplicates": int(dups.num_rows),
        "largest_cluster": int(sizes.max()) if sizes.size else 0,
        "cluster_size_histogram": dict(Counter(size_bin(int(s)) for s in sizes)),
        "per_source": per_source,
        "top_duplicated": sorted(top, key=_top_order)[:top_captions],
    }


def _top_order(entry: dict) -> tuple:
    return -entry["size"], entry["sample_id"]


def merge_statistics(partials: list[dict], considered: dict[str, int], plan: DedupPlan,
                     top_captions: int = 20) -> dict:
    """Statistics of one dedup run from the `partial_statistics` of disjoint sets of whole clusters
    and the number of considered rows per source. JSON-ready; keys are sorted where order is free;
    the same whatever way the clusters were split."""
    cfg = plan.cfg
    hist: Counter = Counter()
    per_source: dict[str, dict[str, int]] = {
        s: {"considered": int(n), "duplicates": 0, **{r: 0 for r in REASONS}} for s, n in considered.items()}
    for part in partials:
        hist.update(part["cluster_size_histogram"])
        for src, counts in part["per_source"].items():
            entry = per_source.setdefault(src, {"considered": 0, "duplicates": 0, **{r: 0 for r in REASONS}})
            for k, n in counts.items():
                entry[k] += n
    by_reason = {r: sum(e[r] for e in per_source.values()) for r in REASONS}
    top = sorted((t for part in partials for t in part["top_duplicated"]), key=_top_order)[:top_captions]
    return {
        "enabled": True,
        "considered": int(sum(considered.values())),
        "duplicates": sum(p["duplicates"] for p in partials),
        "by_reason": by_reason,
        "clusters": sum(p["clusters"] for p in partials),
        "largest_cluster": max((p["largest_cluster"] for p in partials), default=0),
        "cluster_size_histogram": dict(sorted(hist.items(), key=lambda kv: int(kv[0].split("-")[0]))),
        "top_duplicated": top,
        "per_source": dict(sorted(per_source.items())),
        "lsh": {"threshold": cfg.threshold, "ngram": cfg.ngram, "num_perm": cfg.num_perm, "bands": plan.bands,
                "rows": plan.rows, "candidate_probability_at_threshold":
                    round(float(candidate_probability(cfg.threshold, plan.bands, plan.rows)), 4)},
        "options": {"exact": cfg.exact, "near": cfg.near, "image_exact": cfg.image_exact, "scope": cfg.scope,
                    "key": cfg.key, "tasks": list(cfg.tasks)},
    }


def dedup_statistics(clusters: pa.Table, considered: dict[str, int], plan: DedupPlan,
                     top_captions: int = 20) -> dict:
    """Statistics of one dedup run from all its cluster rows (CLUSTER_ROW_SCHEMA) and the number
    of considered rows per source: `merge_statistics` of one part."""
    return merge_statistics([partial_statistics(clusters, top_captions)], considered, plan, top_captions)
