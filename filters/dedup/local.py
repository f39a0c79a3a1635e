"""The whole dedup in one process over one Arrow table: the same steps `jobs/dedup_stage.py` runs
on Ray, composed in memory. For tests, small inputs, and as the reference the Ray stage must match."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa

from filters.dedup.banding import CandidateGraph, band_rows, bucket_edges
from filters.dedup.marking import DuplicateIndex
from filters.dedup.plan import DedupPlan, caption_rows
from filters.dedup.resolve import CLUSTER_ROW_SCHEMA, resolve_clusters, verify_rows
from filters.dedup.stats import dedup_statistics
from schemas.dedup_config import DedupConfig


def dedupe_table(table: pa.Table, cfg: DedupConfig, *, seed: int) -> tuple[pa.Table, dict]:
    """(table with duplicates marked, statistics). Same rows, same order, same schema."""
    plan = DedupPlan.build(cfg, seed)
    if not plan.active:
        return table, {"enabled": False}
    rows = caption_rows(table, plan)
    graph = CandidateGraph.from_edges(bucket_edges(band_rows(rows, plan, n_shards=1)))
    vrows = verify_rows(rows, graph, n_vshards=1)
    clusters = resolve_clusters(vrows, graph.pair_left, graph.pair_right, plan) if vrows.num_rows else \
        CLUSTER_ROW_SCHEMA.empty_table()
    marked = DuplicateIndex.from_clusters(clusters).mark(table, cfg)
    return marked, dedup_statistics(clusters, dict(Counter(rows.source)), plan)
