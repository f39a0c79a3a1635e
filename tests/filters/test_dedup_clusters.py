"""Union-find / connected components, representatives, candidate edges (no Ray)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from filters.dedup import CandidateGraph, bucket_edges, connected_components, quality_order, representatives
from filters.dedup.banding import ALL_PAIRS_MAX, BAND_ROW_SCHEMA
from filters.dedup.clusters import dense_ranks, index_ranks, run_members, run_products, sorted_runs
from filters.dedup.minhash import BAND_SHIFT
from filters.dedup.plan import EXACT_BAND, IMAGE_BAND


def bfs_components(n: int, edges: list[tuple[int, int]]) -> list[int]:
    adj: dict[int, list[int]] = {i: [] for i in range(n)}
    for a, b in edges:
        adj[a].append(b)
        adj[b].append(a)
    label = [-1] * n
    for s in range(n):
        if label[s] < 0:
            todo, label[s] = [s], s
            while todo:
                for v in adj[todo.pop()]:
                    if label[v] < 0:
                        label[v] = s
                        todo.append(v)
    return label


@given(st.integers(1, 40).flatmap(
    lambda n: st.tuples(st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=80))))
@settings(max_examples=300, deadline=None)
def test_connected_components_match_bfs(case):
    n, edges = case
    left = np.array([a for a, _ in edges], dtype=np.int64)
    right = np.array([b for _, b in edges], dtype=np.int64)
    assert connected_components(n, left, right).tolist() == bfs_components(n, edges)


def test_connected_components_long_chain_and_star():
    n = 5000
    perm = np.random.default_rng(0).permutation(n)
    labels = connected_components(n, perm[:-1], perm[1:])  # a path in random order
    assert (labels == 0).all()
    star = connected_components(n, np.zeros(n - 1, int), np.arange(1, n))
    assert (star == 0).all()


def test_representative_is_the_cleanest_copy_in_a_stated_order():
    def keep(captions, lang=None, ids=None, **kw):
        n = len(captions)
        lang = np.full(n, 0.9) if lang is None else np.asarray(lang, dtype=np.float64)
        ids = ids or [f"s{i}" for i in range(n)]
        return int(quality_order(captions, lang, ids, np.zeros(n, dtype=np.int64), **kw)[0])

    # 1. defects: a site suffix, a doubled word, boilerplate lose to the clean copy, however long
    assert keep(["a market stall with fresh fruit | Pinterest", "a market stall with fresh fruit"]) == 1
    assert keep(["a red bus bus on the road at night", "a red bus on the road"]) == 1
    assert keep(["stock photo of a lake at dawn", "photo of a lake at dawn"]) == 1
    # 2. fewer repairs, 3. lower perplexity (unscored last)
    assert keep(["a lake at dawn", "a lake at dawn"], repairs=np.array([2, 0])) == 1
    assert keep(["a lake at dawn"] * 3, perplexity=np.array([np.nan, 40.0, 12.0])) == 2
    # 4. the consensus wording: the typo is the word no other copy has
    assert keep(["desertt highway at dusk", "desert highway at dusk", "Desert highway at dusk."]) == 1
    # 5. language score, 6. shorter, 7. smallest sample_id
    assert keep(["desertt highway", "desert highway"], lang=[0.5, 0.5]) == 1
    assert keep(["desert highway", "desert highway!!"], lang=[0.4, 0.8]) == 1
    assert keep(["a cat", "a cat"], ids=["y", "x"]) == 1


def test_representatives_take_the_best_member_of_each_component():
    captions = ["a b", "a b c", "a b c d", "x", "x y"]
    labels = np.array([0, 0, 0, 3, 3])
    rep = representatives(labels, quality_order(captions, np.full(5, 0.5), list("abcde"), labels))
    assert rep.tolist() == [0, 0, 0, 3, 3]


def _band_table(rows: list[tuple[int, int, int]]) -> pa.Table:
    bucket = np.array([(band << BAND_SHIFT) | h for band, h, _ in rows], dtype=np.uint64)
    node = np.array([n for _, _, n in rows], dtype=np.uint64)
    return pa.table([pa.array(np.zeros(len(rows), np.uint16)), pa.array(bucket), pa.array(node)],
                    schema=BAND_ROW_SCHEMA)


def test_bucket_edges_kinds():
    rows = [
        (0, 7, 1), (0, 7, 2), (0, 7, 2), (0, 7, 3),  # near bucket: nodes 1,2,3 (2 twice: same text)
        (1, 9, 4),  # singleton
        (EXACT_BAND, 5, 2), (EXACT_BAND, 5, 2),  # node 2 seen twice: a self edge
        (EXACT_BAND, 6, 4),
        (IMAGE_BAND, 8, 5), (IMAGE_BAND, 8, 6), (IMAGE_BAND, 8, 7),  # same image, three texts
    ]
    edges = bucket_edges(_band_table(rows))
    got = sorted(zip(edges.column("left").to_pylist(), edges.column("right").to_pylist(),
                     edges.column("near").to_pylist()))
    assert got == [(1, 2, True), (1, 3, True), (2, 2, False), (2, 3, True), (5, 6, False), (5, 7, False)]
    graph = CandidateGraph.from_edges(edges)
    assert graph.nodes.tolist() == [1, 2, 3, 5, 6, 7]
    found, comp = graph.component_of(np.array([1, 2, 3, 4, 5, 7], dtype=np.uint64))
    assert found.tolist() == [True, True, True, False, True, True]
    assert comp[[0, 1, 2, 4, 5]].tolist() == [1, 1, 1, 5, 5]  # the smallest node of the component
    assert sorted(zip(graph.pair_left.tolist(), graph.pair_right.tolist())) == [(1, 2), (1, 3), (2, 3)]


def test_big_bucket_is_linked_without_all_pairs():
    n = ALL_PAIRS_MAX + 10
    edges = bucket_edges(_band_table([(3, 1, i) for i in range(n)]))
    assert edges.num_rows == 2 * (n - 1) - 1  # star plus chain, (0, 1) once
    graph = CandidateGraph.from_edges(edges)
    assert len(set(graph.component.tolist())) == 1


@given(st.lists(st.integers(0, 12), max_size=30), st.lists(st.integers(0, 14), max_size=30))
@settings(max_examples=200, deadline=None)
def test_sorted_runs_and_index_ranks_match_their_searches(values, keys):
    """`sorted_runs` is the pair of searchsorted calls (left, right - left) with 0 for an absent
    key; `index_ranks` is `dense_ranks` of small non-negative indices."""
    ranked = np.sort(np.array(values, dtype=np.uint64))
    k = np.array(keys, dtype=np.uint64)
    first, count = sorted_runs(ranked, k)
    lo, hi = np.searchsorted(ranked, k, side="left"), np.searchsorted(ranked, k, side="right")
    assert count.tolist() == (hi - lo).tolist()
    assert first[count > 0].tolist() == lo[count > 0].tolist()
    idx = np.array(keys, dtype=np.int64)
    assert [a.tolist() for a in index_ranks(idx, 15)] == [a.tolist() for a in dense_ranks(idx)]


@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 4), st.integers(0, 20), st.integers(0, 4)), max_size=12))
@settings(max_examples=200, deadline=None)
def test_run_members_and_products_list_every_member_and_combination(runs):
    """`run_members` lists each run's positions in order; `run_products` every (a, b) of a member of
    the left run with a member of the right run, pair by pair, left member major."""
    lo = np.array([r[0] for r in runs], dtype=np.int64)
    n_lo = np.array([r[1] for r in runs], dtype=np.int64)
    hi = np.array([r[2] for r in runs], dtype=np.int64)
    n_hi = np.array([r[3] for r in runs], dtype=np.int64)
    owner, at = run_members(lo, n_lo)
    assert list(zip(owner.tolist(), at.tolist())) == [(k, f + j) for k, (f, c) in enumerate(zip(lo, n_lo)) for j in range(c)]
    pair, a, b = run_products(lo, n_lo, hi, n_hi)
    want = [(k, lo[k] + i, hi[k] + j) for k in range(len(runs)) for i in range(n_lo[k]) for j in range(n_hi[k])]
    assert list(zip(pair.tolist(), a.tolist(), b.tolist())) == want
