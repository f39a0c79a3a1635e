"""The whole dedup in one process over one Arrow table: the same steps `jobs/dedup_stage.py` runs
on Ray, composed in memory, with the driver-side union-find (`banding.CandidateGraph`) where the
Ray stage runs large-star / small-star rounds. For tests, small inputs, and as the reference the
Ray stage must match."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa

from filters.dedup.banding import CandidateGraph, band_rows, bucket_edges
from filters.dedup.marking import located_duplicates, mark_duplicates, with_location
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
    found, component = graph.component_of(rows.node)
    vrows = with_location(verify_rows(rows, found, component, n_vshards=1), 0, rows.positions[found])
    clusters = resolve_clusters(vrows, graph.pair_left, graph.pair_right, plan) if vrows.num_rows else \
        CLUSTER_ROW_SCHEMA.empty_table()
    marked = mark_duplicates(table, located_duplicates(clusters, vrows))
    return marked, dedup_statistics(clusters, dict(Counter(rows.source)), plan)
