"""The whole dedup in one process (`dedupe_table`): quality on a labelled set, options, accounting
and determinism (no Ray)."""

from __future__ import annotations

import itertools
import json
import zlib

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from dedup_corpus import kept_index, labelled_captions, work_table
from filters.dedup import (CandidateGraph, DedupPlan, band_rows, bucket_edges, caption_rows, dedup_statistics,
                           dedupe_table, mark_duplicates, merge_statistics, normalise_captions, partial_statistics,
                           resolve_clusters, text_pair_jaccard, verify_rows)
from filters.dedup.banding import band_passes, pass_bytes_per_caption
from filters.dedup.marking import DUPLICATE_SCHEMA
from schemas.dedup_config import DedupConfig
from schemas.sample import WORK_SCHEMA


@pytest.fixture(scope="module")
def labelled():
    captions, family, kind = labelled_captions(700, seed=5)
    table = work_table(captions, sources=[f"src{i % 3}" for i in range(len(captions))],
                       lang_scores=[0.5 + (i % 7) / 20 for i in range(len(captions))])
    return captions, family, kind, table


def assert_accounted(table: pa.Table, out: pa.Table) -> None:
    """Same rows, order and schema; every duplicate names a kept, considered row."""
    assert out.schema == table.schema and out.num_rows == table.num_rows
    assert out.column("sample_id").equals(table.column("sample_id"))
    rows = out.to_pylist()
    by_id = {r["sample_id"]: r for r in rows}
    for before, after in zip(table.to_pylist(), rows):
        if after["status"] == "duplicate":
            assert before["status"] == "ok" and after["reason"] in ("dedup.exact", "dedup.near", "dedup.image")
            rep = by_id[after["dup_of"]]
            assert rep["status"] == "ok" and rep["dup_of"] is None and rep["task"] == after["task"]
        else:
            assert after == before


def test_recall_and_precision_on_planted_duplicates(labelled):
    captions, family, kind, table = labelled
    cfg = DedupConfig()
    out, stats = dedupe_table(table, cfg, seed=0)
    assert_accounted(table, out)
    kept = np.array(kept_index(out))
    norm = normalise_captions(captions)
    # positives: every pair within a planted family whose true Jaccard is >= threshold + 0.05
    members: dict[int, list[int]] = {}
    for i, f in enumerate(family):
        if f >= 0:
            members.setdefault(f, []).append(i)
    pairs = np.array([p for m in members.values() for p in itertools.combinations(m, 2)])
    jac = text_pair_jaccard(norm, pairs[:, 0], pairs[:, 1], cfg.ngram)
    positive = pairs[jac >= cfg.threshold + 0.05]
    assert len(positive) > 250
    recall = float(np.mean(kept[positive[:, 0]] == kept[positive[:, 1]]))
    assert recall >= 0.95, recall
    # precision: a reported duplicate is right if it belongs to its representative's family, or is
    # at least `threshold` similar to it
    dups = np.flatnonzero(kept != np.arange(len(kept)))
    same_family = np.array([family[d] >= 0 and family[d] == family[kept[d]] for d in dups])
    similar = text_pair_jaccard(norm, dups, kept[dups], cfg.ngram) >= cfg.threshold
    precision = float(np.mean(same_family | similar))
    assert precision >= 0.99, precision
    # the hard negatives (templated rewrites) stay
    rewrites = [i for i, k in enumerate(kind) if k == "rewrite"]
    assert len(rewrites) > 100
    assert all(kept[i] == i or family[kept[i]] == -1 for i in rewrites)
    # every case/punctuation variant is clustered with its original; a duplicate's reason is
    # "dedup.exact" exactly when its normalised caption equals its representative's
    original = {f: i for i, (f, k) in enumerate(zip(family, kind)) if k == "original"}
    for i, k in enumerate(kind):
        if k == "exact":
            assert kept[i] == kept[original[family[i]]]
    for d in dups:
        want = "dedup.exact" if norm[d] == norm[kept[d]] else "dedup.near"
        assert out.column("reason")[int(d)].as_py() == want
    assert stats["duplicates"] == len(dups)
    json.dumps(stats)


def test_stats_describe_clusters(labelled):
    _, _, _, table = labelled
    out, stats = dedupe_table(table, DedupConfig(), seed=0)
    n_dup = sum(s == "duplicate" for s in out.column("status").to_pylist())
    assert stats["considered"] == table.num_rows and stats["duplicates"] == n_dup
    assert sum(stats["by_reason"].values()) == n_dup
    assert sum(s["duplicates"] for s in stats["per_source"].values()) == n_dup
    assert sum(s["considered"] for s in stats["per_source"].values()) == table.num_rows
    assert set(stats["per_source"]) == {"src0", "src1", "src2"}
    hist = stats["cluster_size_histogram"]
    assert sum(hist.values()) == stats["clusters"] and "2" in hist
    top = stats["top_duplicated"]
    assert top and top[0]["size"] == stats["largest_cluster"]
    assert [t["size"] for t in top] == sorted((t["size"] for t in top), reverse=True)
    assert stats["lsh"]["bands"] * stats["lsh"]["rows"] <= 128


def test_result_does_not_depend_on_row_order(labelled):
    _, _, _, table = labelled
    out, stats = dedupe_table(table, DedupConfig(), seed=3)
    perm = np.random.default_rng(1).permutation(table.num_rows)
    out2, stats2 = dedupe_table(table.take(pa.array(perm)), DedupConfig(), seed=3)
    key = ["sample_id", "status", "reason", "dup_of"]
    assert out.select(key).take(pa.array(perm)).equals(out2.select(key))
    assert stats == stats2


def test_band_shards_do_not_change_candidates(labelled):
    _, _, _, table = labelled
    plan = DedupPlan.build(DedupConfig(), seed=0)
    rows = caption_rows(table, plan)
    whole = CandidateGraph.from_edges(bucket_edges(band_rows(rows, plan, 1)))
    bands = band_rows(rows, plan, 8)
    shards = [bucket_edges(bands.filter(pa.compute.equal(bands.column("shard"), s))) for s in range(8)]
    split = CandidateGraph.from_edges(pa.concat_tables(shards))
    assert np.array_equal(whole.nodes, split.nodes) and np.array_equal(whole.component, split.component)
    assert np.array_equal(whole.pair_left, split.pair_left) and np.array_equal(whole.pair_right, split.pair_right)


@pytest.mark.parametrize("cfg", [DedupConfig(), DedupConfig(image_exact=True, bands=16, rows=8)])
def test_band_passes_find_the_same_candidates(labelled, cfg):
    _, _, _, table = labelled
    plan = DedupPlan.build(cfg, seed=0)
    rows = caption_rows(table, plan)
    whole = CandidateGraph.from_edges(bucket_edges(band_rows(rows, plan, 1)))
    passes = band_passes(plan, 128)
    assert len(passes) > 1 and max(pass_bytes_per_caption(plan, b) for b in passes) <= 128
    assert [b for p in passes for b in p] == list(range(plan.bands))
    split = CandidateGraph.from_edges(pa.concat_tables([bucket_edges(band_rows(rows, plan, 4, b)) for b in passes]))
    assert np.array_equal(whole.nodes, split.nodes) and np.array_equal(whole.component, split.component)
    assert np.array_equal(whole.pair_left, split.pair_left) and np.array_equal(whole.pair_right, split.pair_right)


def test_only_considered_rows_are_touched():
    caps = ["a dog on a red boat near the river"] * 6
    table = work_table(caps, tasks=["caption", "caption", "vqa", "caption", "caption", "caption"],
                       statuses=["ok", "ok", "ok", "filtered", "ok", "ok"], copies=[0, 0, 0, 0, 1, 0])
    out, stats = dedupe_table(table, DedupConfig(), seed=0)
    assert_accounted(table, out)
    assert out.column("status").to_pylist() == ["ok", "duplicate", "ok", "filtered", "ok", "duplicate"]
    assert out.column("dup_of").to_pylist() == [None, "s00000", None, None, None, "s00000"]
    assert stats["considered"] == 3


def test_representative_of_equally_clean_copies_has_the_best_language_score():
    caps = ["A red car parked by the old stone bridge", "a red car parked by the old stone bridge!!",
            "A red car, parked by the old stone bridge.", "a red car parked by the old stone bridge"]
    table = work_table(caps, lang_scores=[0.9, 0.5, 0.8, 0.99], sample_ids=["d", "c", "b", "a"])
    out, _ = dedupe_table(table, DedupConfig(), seed=0)
    assert out.column("dup_of").to_pylist() == ["a", "a", "a", None]
    assert set(out.column("reason").to_pylist()) == {"dedup.exact", None}


def test_duplicates_point_at_the_kept_row_with_their_relation_to_it():
    base = "two children playing with a kite on the sunny beach in summer"
    caps = [base, base.upper(), base.replace("kite", "kites"), "a bowl of soup on the kitchen table"]
    out, stats = dedupe_table(work_table(caps), DedupConfig(), seed=0)
    # the consensus wording is kept ("kites" is the word no other copy has), not the longer caption
    assert out.column("status").to_pylist() == ["ok", "duplicate", "duplicate", "ok"]
    assert out.column("dup_of").to_pylist() == [None, "s00000", "s00000", None]
    assert out.column("reason").to_pylist() == [None, "dedup.exact", "dedup.near", None]
    assert stats["clusters"] == 1 and stats["cluster_size_histogram"] == {"3-4": 1}


def test_scope_source_keeps_copies_in_other_sources():
    caps = ["a white horse standing in a green field"] * 4
    table = work_table(caps, sources=["a", "b", "a", "b"])
    out, _ = dedupe_table(table, DedupConfig(scope="source"), seed=0)
    assert out.column("dup_of").to_pylist() == [None, None, "s00000", "s00001"]
    out, _ = dedupe_table(table, DedupConfig(), seed=0)
    assert out.column("dup_of").to_pylist() == [None, "s00000", "s00000", "s00000"]


def test_switches(labelled):
    _, _, _, table = labelled
    full, _ = dedupe_table(table, DedupConfig(), seed=0)
    only_exact, s_exact = dedupe_table(table, DedupConfig(near=False), seed=0)
    only_near, s_near = dedupe_table(table, DedupConfig(exact=False), seed=0)
    assert set(only_exact.column("reason").to_pylist()) == {"dedup.exact", None}
    assert set(only_near.column("reason").to_pylist()) == {"dedup.near", None}
    assert s_exact["duplicates"] < s_near["duplicates"] <= sum(
        s == "duplicate" for s in full.column("status").to_pylist())
    off, s_off = dedupe_table(table, DedupConfig(enabled=False), seed=0)
    assert off is table and s_off == {"enabled": False}


@pytest.fixture()
def image_table(tmp_path):
    Image.new("RGB", (32, 24), (200, 20, 20)).save(tmp_path / "red.png")
    Image.new("RGB", (32, 24), (200, 20, 20)).save(tmp_path / "red_again.png")  # same bytes
    Image.new("RGB", (32, 24), (20, 20, 200)).save(tmp_path / "blue.png")
    Image.new("RGB", (32, 24), (20, 200, 20)).save(tmp_path / "green.jpg", quality=90)
    caps = ["a small bird on a fence", "a small bird on a fence", "a tall tree in the snow", "a cup of coffee"]
    media = [[str(tmp_path / "red.png")], [str(tmp_path / "blue.png")], [str(tmp_path / "red_again.png")],
             [str(tmp_path / "green.jpg")]]
    return work_table(caps, media=media)


def test_caption_plus_image_key(image_table):
    out, _ = dedupe_table(image_table, DedupConfig(), seed=0)
    assert out.column("dup_of").to_pylist() == [None, "s00000", None, None]
    out, _ = dedupe_table(image_table, DedupConfig(key="caption+image"), seed=0)
    assert out.column("status").to_pylist() == ["ok"] * 4  # same caption, other image


def test_exact_image_dedup(image_table):
    out, stats = dedupe_table(image_table, DedupConfig(image_exact=True), seed=0)
    assert_accounted(image_table, out)
    assert out.column("dup_of").to_pylist() == [None, "s00000", "s00000", None]
    assert out.column("reason").to_pylist() == [None, "dedup.exact", "dedup.image", None]
    assert stats["by_reason"]["dedup.image"] == 1


@given(st.lists(st.sampled_from(["a red car", "A red car!", "a red cat", "a red car parked outside", "",
                                 "a blue car", "?"]), min_size=1, max_size=12),
       st.lists(st.sampled_from(["ok", "filtered"]), min_size=12, max_size=12),
       st.sampled_from(["global", "source"]))
@settings(max_examples=60, deadline=None)
def test_every_duplicate_is_accounted_for(caps, statuses, scope):
    table = work_table(caps, statuses=statuses[: len(caps)], sources=[f"s{i % 2}" for i in range(len(caps))])
    out, stats = dedupe_table(table, DedupConfig(threshold=0.6, ngram=3, scope=scope), seed=1)
    assert_accounted(table, out)
    assert stats["duplicates"] == sum(s == "duplicate" for s in out.column("status").to_pylist())


def test_repeated_sample_id_is_an_error():
    table = work_table(["a dog on a boat", "a dog on a boat"], sample_ids=["x", "x"])
    with pytest.raises(ValueError, match="sample_id 'x' is on two considered rows"):
        dedupe_table(table, DedupConfig(), seed=0)


def test_schema_is_work_schema(labelled):
    _, _, _, table = labelled
    out, _ = dedupe_table(table, DedupConfig(), seed=0)
    assert out.schema == WORK_SCHEMA


def test_signing_in_batches_gives_the_same_result(labelled):
    _, _, _, table = labelled
    whole = dedupe_table(table, DedupConfig(), seed=2)
    for batch_rows in (1, 97, 4096):
        out, stats = dedupe_table(table, DedupConfig(), seed=2, batch_rows=batch_rows)
        assert out.equals(whole[0]) and stats == whole[1]


def _clusters(table: pa.Table, cfg: DedupConfig) -> tuple[pa.Table, dict, DedupPlan]:
    plan = DedupPlan.build(cfg, seed=0)
    rows = caption_rows(table, plan)
    graph = CandidateGraph.from_edges(bucket_edges(band_rows(rows, plan, 1)))
    found, component = graph.component_of(rows.node)
    vrows = verify_rows(rows, found, component, 1)
    considered = {s: rows.source.count(s) for s in set(rows.source)}
    return resolve_clusters(vrows, graph.pair_left, graph.pair_right, plan, top_captions=10**6), considered, plan


@pytest.mark.parametrize("n_parts", [1, 2, 7, 50])
def test_statistics_merged_from_parts_equal_the_whole(labelled, n_parts):
    """Partial statistics of any split of the clusters (whole clusters per part, as the resolve
    tasks make them) merge into the statistics of all of them, byte for byte."""
    _, _, _, table = labelled
    clusters, considered, plan = _clusters(table, DedupConfig(scope="source"))
    want = dedup_statistics(clusters, considered, plan)
    rep = [d or s for s, d in zip(clusters.column("sample_id").to_pylist(), clusters.column("dup_of").to_pylist())]
    part = np.array([zlib.crc32(f"{n_parts}:{r}".encode()) % n_parts for r in rep])
    partials = [partial_statistics(clusters.filter(pa.array(part == q))) for q in range(n_parts)]
    got = merge_statistics(partials, considered, plan)
    assert json.dumps(got) == json.dumps(want)
    assert want["clusters"] > 100 and len(want["top_duplicated"]) == 20
    assert len(json.dumps(partials[0])) < 20_000  # sources × reasons and 20 captions, not rows


def test_duplicates_marked_by_position():
    table = work_table(["a cat", "a dog", "a cow", "a hen"])
    dups = pa.table({"block": pa.array([0, 0], pa.int32()), "position": pa.array([3, 1], pa.int32()),
                     "dup_of": ["s00000", "s00002"], "reason": ["dedup.near", "dedup.exact"]}, schema=DUPLICATE_SCHEMA)
    out = mark_duplicates(table, dups)
    assert out.schema == table.schema
    assert out.column("status").to_pylist() == ["ok", "duplicate", "ok", "duplicate"]
    assert out.column("dup_of").to_pylist() == [None, "s00002", None, "s00000"]
    assert out.column("reason").to_pylist() == [None, "dedup.exact", None, "dedup.near"]
    assert mark_duplicates(table, dups.slice(0, 0)) is table
    with pytest.raises(ValueError, match=r"positions must be in \[0, 4\)"):
        mark_duplicates(table, dups.set_column(1, "position", pa.array([4, 0], pa.int32())))
