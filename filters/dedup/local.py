"""The whole dedup in one process over one Arrow table: the same steps `jobs/dedup_stage.py` runs
on Ray, composed in memory, with the driver-side union-find (`banding.CandidateGraph`) where the
Ray stage runs large-star / small-star rounds. For tests, small inputs, and as the reference the
Ray stage must match."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa

from filters.dedup.banding import CandidateGraph, band_rows, bucket_edges
from filters.dedup.marking import located_duplicates, mark_duplicates, with_location
from filters.dedup.plan import DedupPlan, caption_rows
from filters.dedup.resolve import CLUSTER_ROW_SCHEMA, resolve_clusters, verify_rows
from filters.dedup.stats import dedup_statistics
from schemas.dedup_config import DedupConfig


def dedupe_table(table: pa.Table, cfg: DedupConfig, *, seed: int, batch_rows: int | None = None
                 ) -> tuple[pa.Table, dict]:
    """(table with duplicates marked, statistics). Same rows, same order, same schema. With
    `batch_rows`, captions are signed that many at a time (less memory, same result)."""
    plan = DedupPlan.build(cfg, seed)
    if not plan.active:
        return table, {"enabled": False}
    step = batch_rows or max(1, table.num_rows)
    band, nodes, positions, considered = [], [], [], Counter()
    for lo in range(0, max(1, table.num_rows), step):
        rows = caption_rows(table.slice(lo, step), plan)
        band.append(band_rows(rows, plan, n_shards=1))
        nodes.append(rows.node)
        positions.append(rows.positions + lo)
        considered.update(rows.source)
    graph = CandidateGraph.from_edges(bucket_edges(pa.concat_tables(band)))
    found, component = graph.component_of(np.concatenate(nodes))
    at = np.concatenate(positions)[found]
    vrows = with_location(verify_rows(caption_rows(table, plan, at), np.ones(at.size, bool), component[found],
                                      n_vshards=1), 0, at)
    clusters = resolve_clusters(vrows, graph.pair_left, graph.pair_right, plan) if vrows.num_rows else \
        CLUSTER_ROW_SCHEMA.empty_table()
    marked = mark_duplicates(table, located_duplicates(clusters, vrows))
    return marked, dedup_statistics(clusters, dict(considered), plan)
