"""`jobs.dedup_stage.dedupe` on a real local Ray runtime (2 CPUs, shared by the session)."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "filters"))

from dedup_corpus import labelled_captions, work_table  # noqa: E402
from filters.dedup import dedupe_table  # noqa: E402
from jobs import dedup_stage  # noqa: E402
from jobs.dedup_stage import dedupe  # noqa: E402
from schemas.dedup_config import DedupConfig  # noqa: E402

MARK_COLUMNS = ["sample_id", "status", "reason", "dup_of"]


@pytest.fixture(scope="module")
def ray_data(ray_local):
    ctx = ray_local.data.DataContext.get_current()
    saved = ctx.execution_options.preserve_order, ctx.enable_progress_bars
    ctx.execution_options.preserve_order = True
    ctx.enable_progress_bars = False
    yield ray_local
    ctx.execution_options.preserve_order, ctx.enable_progress_bars = saved


@pytest.fixture(scope="module")
def corpus():
    captions, _, _, = labelled_captions(250, seed=11)
    n = len(captions)
    table = work_table(captions, sources=[f"src{i % 2}" for i in range(n)],
                       lang_scores=[(i * 37 % 11) / 10 for i in range(n)],
                       tasks=["vqa" if i % 17 == 0 else "caption" for i in range(n)],
                       statuses=["filtered" if i % 13 == 0 else "ok" for i in range(n)])
    # a column a previous stage carries along must come through untouched
    return table.append_column("_counters", pa.array([f'{{"row": {i}}}' for i in range(n)], pa.string()))


def run(ray, table: pa.Table, blocks: int, cfg: DedupConfig, **kwargs) -> tuple[pa.Table, dict]:
    ds = ray.data.from_arrow(table).repartition(blocks)
    out, stats = dedupe(ds, cfg, seed=4, **kwargs)
    return pa.concat_tables(ray.get(out.to_arrow_refs())), stats


def test_matches_the_in_process_dedup_whatever_the_block_count(ray_data, corpus):
    cfg = DedupConfig()
    want, want_stats = dedupe_table(corpus, cfg, seed=4)
    assert sum(s == "duplicate" for s in want.column("status").to_pylist()) > 30
    runs = [run(ray_data, corpus, blocks, cfg) for blocks in (1, 7)]
    for got, stats in runs:
        assert got.schema == corpus.schema and got.num_rows == corpus.num_rows
        assert got.equals(want)  # same rows, same order, same marks, other columns untouched
        assert {k: v for k, v in stats.items() if k not in ("banding", "timings_s")} == want_stats
        assert stats["banding"]["bytes_per_caption_per_pass"] <= 128 and stats["banding"]["passes"] == 2
    assert runs[0][1]["banding"] == runs[1][1]["banding"]


def test_partition_counts_and_block_groups_do_not_change_the_result(ray_data, corpus, monkeypatch):
    cfg = DedupConfig(threshold=0.7, ngram=4)
    want, want_stats = dedupe_table(corpus, cfg, seed=4)
    monkeypatch.setattr(dedup_stage, "MAX_GROUPS", 3)  # 7 blocks in groups of 3, 3 and 1
    monkeypatch.setattr(dedup_stage, "VERIFY_ROWS_PER_SHARD", 16)  # resolve calls of a few components
    for parts, vshards in ((1, 1), (8, 16)):
        got, stats = run(ray_data, corpus, 7, cfg, parts=parts, vshards=vshards)
        assert got.equals(want)
        assert {k: v for k, v in stats.items() if k not in ("banding", "timings_s")} == want_stats
        assert stats["timings_s"]["block_groups"] == 3 and stats["timings_s"]["node_partitions"] == parts


def test_blocks_without_duplicates_pass_through_untouched(ray_data, corpus):
    clean = work_table([f"caption number {i} of a unique kind {i * 7919}" for i in range(40)],
                       sample_ids=[f"u{i:03d}" for i in range(40)])
    table = pa.concat_tables([clean, corpus.select(clean.column_names).cast(clean.schema)])
    ds = ray_data.data.from_arrow_refs([ray_data.put(table.slice(0, 40)), ray_data.put(table.slice(40))])
    blocks = ds.to_arrow_refs()
    out, stats = dedupe(ds, DedupConfig(), seed=4)
    refs = out.to_arrow_refs()
    assert stats["duplicates"] > 30
    assert refs[0] == blocks[0] and refs[1] != blocks[1]  # the clean block is the same object
    want, _ = dedupe_table(table, DedupConfig(), seed=4)
    assert pa.concat_tables(ray_data.get(refs)).equals(want)


def test_a_giant_component_and_boilerplate(ray_data):
    """Chains of near duplicates that link into one component of hundreds of captions (each
    caption differs from the one before by one word), plus a boilerplate caption repeated 300 times:
    the star rounds, the join and the resolve give what the in-process union-find gives."""
    words = [f"w{i}" for i in range(400)]
    chain = [" ".join(words[i:i + 24]) for i in range(0, 330)]
    boiler = ["click here to see the full size image of this product photo"] * 300
    rng = random.Random(5)
    captions = chain + boiler + [" ".join(rng.choice(words) for _ in range(15)) for _ in range(200)]
    rng.shuffle(captions)
    table = work_table(captions)
    cfg = DedupConfig(threshold=0.85)
    want, want_stats = dedupe_table(table, cfg, seed=4)
    got, stats = run(ray_data, table, 5, cfg, parts=4, vshards=2)
    assert got.equals(want)
    assert {k: v for k, v in stats.items() if k not in ("banding", "timings_s")} == want_stats
    assert want_stats["largest_cluster"] >= 300 and want_stats["by_reason"]["dedup.exact"] >= 299


def test_every_duplicate_is_accounted_for(ray_data, corpus):
    got, stats = run(ray_data, corpus, 3, DedupConfig(scope="source"))
    rows = got.to_pylist()
    kept = {r["sample_id"]: r for r in rows if r["status"] == "ok"}
    dups = [r for r in rows if r["status"] == "duplicate"]
    assert len(dups) == stats["duplicates"] == sum(stats["by_reason"].values())
    for r in dups:
        rep = kept[r["dup_of"]]
        assert rep["dup_of"] is None and rep["source"] == r["source"] and rep["task"] == "caption"
        assert r["reason"] in ("dedup.exact", "dedup.near")
    before = {r["sample_id"]: r for r in corpus.to_pylist()}
    for r in rows:
        if r["status"] != "duplicate":
            assert r == before[r["sample_id"]]


def test_nothing_to_do(ray_data, corpus):
    filtered = corpus.set_column(corpus.schema.get_field_index("status"), "status",
                                 pa.array(["filtered"] * corpus.num_rows))
    got, stats = run(ray_data, filtered, 2, DedupConfig())
    assert got.equals(filtered) and stats["considered"] == 0 and stats["duplicates"] == 0
    ds = ray_data.data.from_arrow(corpus)
    same, stats = dedupe(ds, DedupConfig(enabled=False), seed=0)
    assert same is ds and stats == {"enabled": False}


def test_look_alike_captions_are_verified_before_they_chain_into_one_component(ray_data):
    """Template captions ("... scene N of the NOUN series") share enough n-grams to be LSH candidates
    of one another and chain into one candidate component of nearly every caption, but few pairs are
    near duplicates: the pairs are verified before the components are found, so the largest
    component the resolve step sees is the largest cluster, not the whole corpus."""
    from filters.dedup.banding import CandidateGraph, band_rows, bucket_edges
    from filters.dedup.plan import DedupPlan, caption_rows

    rng = random.Random(8)
    things = ["red car", "old boat", "small dog", "tall tree", "blue door", "white horse"]
    places = ["on a quiet street", "near the harbor", "in a green field", "under a stone bridge"]
    captions = [f"a {rng.choice(things)} {rng.choice(places)} scene {i} of the {rng.choice(['cat', 'dog'])} series"
                for i in range(600)]
    captions += captions[:5]  # and 5 exact copies
    table = work_table(captions)
    cfg = DedupConfig()
    want, want_stats = dedupe_table(table, cfg, seed=4)
    plan = DedupPlan.build(cfg, 4)
    graph = CandidateGraph.from_edges(bucket_edges(band_rows(caption_rows(table, plan), plan, n_shards=1)))
    unverified_largest = int(np.bincount(graph.component).max())
    got, stats = run(ray_data, table, 4, cfg, parts=2, vshards=4)
    assert got.equals(want)
    assert {k: v for k, v in stats.items() if k not in ("banding", "timings_s")} == want_stats
    banding = stats["banding"]
    assert unverified_largest > 200  # what the resolve step would have had to take in one call
    assert banding["near_pairs"] > 5 * banding["near_pairs_verified"] > 0
    # global scope, caption key: a component of verified pairs is a cluster
    assert 10 * banding["largest_candidate_component"] == 10 * want_stats["largest_cluster"] < unverified_largest


@pytest.mark.parametrize("options", [
    {"scope": "source", "exact": False},
    {"key": "caption+image", "image_exact": True},
    {"image_exact": True, "threshold": 0.7, "ngram": 3},
])
def test_verified_near_pairs_with_scopes_images_and_near_only(ray_data, options, tmp_path):
    """Pairs are verified on their nodes' texts whatever their scope or image (resolve checks those
    again): the marks and statistics equal the in-process dedup for every way of keying and scoping."""
    captions, _, _ = labelled_captions(120, seed=3)
    n = len(captions)
    for k in range(40):
        (tmp_path / f"img{k}.jpg").write_bytes(f"image {k % 30}".encode())  # 30 distinct contents
    media = [[str(tmp_path / f"img{i % 40}.jpg")] if i % 3 else [] for i in range(n)]  # shared images link captions
    table = work_table(captions, sources=[f"src{i % 2}" for i in range(n)], media=media)
    cfg = DedupConfig(**options)
    want, want_stats = dedupe_table(table, cfg, seed=4)
    assert want_stats["duplicates"] > 20 and want_stats["by_reason"]["dedup.near"] > 0
    assert want_stats["by_reason"]["dedup.image"] > 0 or not cfg.image_exact
    got, stats = run(ray_data, table, 5, cfg, parts=4, vshards=4)
    assert got.equals(want)
    assert {k: v for k, v in stats.items() if k not in ("banding", "timings_s")} == want_stats
