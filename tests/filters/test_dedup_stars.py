"""Connected components by large-star / small-star rounds (`filters.dedup.stars`) against the
driver-side union-find (`clusters.connected_components`), on the same graphs (no Ray)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup_corpus import labelled_captions, work_table
from filters.dedup import CandidateGraph, DedupPlan, band_rows, bucket_edges, caption_rows
from filters.dedup.banding import band_passes, shard_edges
from filters.dedup.clusters import connected_components, dense_ranks
from filters.dedup.stars import (LARGE, SMALL, component_labels, contract, lookup_labels, merge_summaries, node_part,
                                 relink, split_by_node, split_table, star_components, summaries)
from schemas.dedup_config import DedupConfig

U64 = np.uint64


def union_find(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted nodes, label) by the driver-side union-find, the label as a node id."""
    nodes, inverse = dense_ranks(np.concatenate((left, right)).astype(U64))
    return nodes, nodes[connected_components(nodes.size, inverse[:left.size], inverse[left.size:])]


def assert_same_components(left, right, n_parts: int, n_edge_parts: int, local_contraction: bool) -> int:
    left, right = np.asarray(left, U64), np.asarray(right, U64)
    nodes, labels, rounds = star_components(left, right, n_parts, n_edge_parts, local_contraction=local_contraction)
    want_nodes, want_labels = union_find(left, right)
    assert nodes.tolist() == want_nodes.tolist()
    assert labels.tolist() == want_labels.tolist()
    return rounds


def _ids(draw, n: int) -> np.ndarray:
    """n distinct node ids anywhere in uint64, so hashing and ordering are exercised."""
    return np.array(draw(st.lists(st.integers(0, 2**64 - 1), min_size=n, max_size=n, unique=True)), dtype=U64)


@st.composite
def graphs(draw) -> tuple[np.ndarray, np.ndarray]:
    """Edge lists of the shapes dedup meets: random, chains in any order, stars around any node,
    cliques, many small components, one giant component; self edges and repeated edges mixed in."""
    shape = draw(st.sampled_from(["random", "chain", "star", "clique", "small", "giant"]))
    n = draw(st.integers(1, 60))
    ids = _ids(draw, n)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if shape == "random":
        m = draw(st.integers(0, 120))
        a, b = rng.integers(0, n, m), rng.integers(0, n, m)
    elif shape == "chain":
        order = rng.permutation(n)
        a, b = order[:-1], order[1:]
    elif shape == "star":
        centre = int(rng.integers(0, n))
        a, b = np.full(n, centre), np.arange(n)
    elif shape == "clique":
        k = min(n, 12)
        a, b = np.triu_indices(k, 1)
    elif shape == "small":
        size = draw(st.integers(2, 4))
        a = np.arange(0, n - 1)
        a, b = a[(a + 1) % size != 0], a[(a + 1) % size != 0] + 1
    else:  # a random spanning tree plus random extra edges: one component
        parent = np.array([int(rng.integers(0, i)) if i else 0 for i in range(n)])
        extra = draw(st.integers(0, 30))
        a = np.concatenate((np.arange(1, n), rng.integers(0, n, extra)))
        b = np.concatenate((parent[1:], rng.integers(0, n, extra)))
    selfs = rng.integers(0, n, draw(st.integers(0, 3)))
    again_a, again_b = b[:2], a[:2]  # a few repeated edges, reversed
    a = np.concatenate((a, selfs, again_a)).astype(np.int64)
    b = np.concatenate((b, selfs, again_b)).astype(np.int64)
    flip = rng.random(a.size) < 0.5
    a, b = np.where(flip, b, a), np.where(flip, a, b)
    return ids[a], ids[b]


@given(graphs(), st.sampled_from([1, 2, 4, 16]), st.sampled_from([1, 3]), st.booleans())
@settings(max_examples=400, deadline=None)
def test_labels_equal_the_union_find(graph, n_parts, n_edge_parts, local_contraction):
    assert_same_components(*graph, n_parts, n_edge_parts, local_contraction)


def test_long_chain_in_random_order_needs_rounds_but_converges():
    rng = np.random.default_rng(0)
    ids = rng.choice(2**62, 3000, replace=False).astype(U64)
    order = ids[rng.permutation(ids.size)]
    rounds = assert_same_components(order[:-1], order[1:], 8, 4, local_contraction=False)
    assert 3 <= rounds <= 40  # O(log² n) at worst
    # contracted first (as one banding reducer would), the same chain is one round
    assert assert_same_components(order[:-1], order[1:], 8, 1, local_contraction=True) == 1


def test_no_edges_and_only_self_edges():
    empty = np.zeros(0, U64)
    nodes, labels, rounds = star_components(empty, empty, 4)
    assert nodes.size == labels.size == rounds == 0
    loops = np.array([7, 3, 7], U64)
    nodes, labels, rounds = star_components(loops, loops, 4)
    assert nodes.tolist() == [3, 7] and labels.tolist() == [3, 7] and rounds == 0


def _step(edge_parts: list[np.ndarray], step: str, n_parts: int = 2):
    told = [summaries(e, step, n_parts) for e in edge_parts]
    merged = [merge_summaries([t[p] for t in told], step) for p in range(n_parts)]
    relinked = [relink(e, [m[0][i] for m in merged], step) for i, e in enumerate(edge_parts)]
    return relinked, sum(m[1] for m in merged), merged


def _edge_set(parts: list[np.ndarray]) -> list[tuple[int, int]]:
    return sorted(set(zip(*np.concatenate(parts, axis=1).tolist())))


def test_a_stable_round_leaves_stars_and_counts_nothing():
    # two stars around their smallest nodes, dealt to two edge partitions: nothing to do
    parts = [np.array([[1, 1, 5], [2, 9, 6]], U64), np.array([[1, 5], [3, 7]], U64)]
    after, unstable, merged = _step(parts, LARGE)
    assert unstable == 0 and _edge_set(after) == _edge_set(parts)
    labelled = np.concatenate([m[2] for m in merged], axis=1)
    assert sorted(zip(*labelled.tolist())) == [(1, 1), (2, 1), (3, 1), (5, 5), (6, 5), (7, 5), (9, 1)]
    again, unstable, _ = _step(after, SMALL)
    assert unstable == 0 and _edge_set(again) == _edge_set(parts)


def test_large_star_relinks_larger_neighbours_to_the_smallest():
    # 4 has neighbours 2 (smaller) and 6, 9 (larger), seen by different edge partitions: a middle node
    parts = [np.array([[2], [4]], U64), np.array([[4, 4], [6, 9]], U64)]
    after, unstable, _ = _step(parts, LARGE)
    assert unstable == 1
    assert _edge_set(after) == [(2, 4), (2, 6), (2, 9)]


def test_small_star_links_smaller_neighbours_to_the_smallest():
    # 9's smaller neighbours 5, 2, 7 are in three edge partitions: two different ones make it unstable
    parts = [np.array([[5], [9]], U64), np.array([[2], [9]], U64), np.array([[7], [9]], U64)]
    after, unstable, _ = _step(parts, SMALL)
    assert unstable == 1
    assert _edge_set(after) == [(2, 5), (2, 7), (2, 9)]
    # the same smaller neighbour seen by two edge partitions is one neighbour: stable
    _, unstable, _ = _step([np.array([[5], [9]], U64), np.array([[5], [9]], U64)], SMALL)
    assert unstable == 0


def test_a_node_of_any_degree_sends_one_summary_per_edge_partition():
    """The centre of a star of 10,000 leaves, its edges dealt to 4 edge partitions: each node
    partition receives at most one record per (node, edge partition), never the centre's edges."""
    leaves = np.arange(2, 10_002, dtype=U64)
    parts = [np.stack((np.ones(k.size, U64), k)) for k in np.array_split(leaves, 4)]
    told = [summaries(e, LARGE, 2) for e in parts]
    centre = [int(np.count_nonzero(t[p][0] == 1)) for t in told for p in range(2)]
    assert sum(centre) == 4
    assert max(t[p].shape[1] for t in told for p in range(2)) < 2_600


def test_partitioning_keeps_every_row_once_where_its_node_belongs():
    rng = np.random.default_rng(3)
    pairs = rng.integers(0, 2**63, (2, 5000)).astype(U64)
    parts = split_by_node(pairs, 8)
    assert sum(p.shape[1] for p in parts) == pairs.shape[1]
    for q, part in enumerate(parts):
        assert (node_part(part[0], 8) == q).all()
    assert sorted(map(tuple, np.concatenate(parts, axis=1).T.tolist())) == sorted(map(tuple, pairs.T.tolist()))
    table = pa.table({"x": np.arange(10)})
    split = split_table(table, np.array([3, 0, 3, 1, 0, 3, 3, 1, 0, 0]), 4)
    assert [t.column("x").to_pylist() for t in split] == [[1, 4, 8, 9], [3, 7], [], [0, 2, 5, 6]]
    with pytest.raises(ValueError, match="power of two"):
        node_part(pairs[0], 6)


def test_contract_keeps_components_with_fewer_edges():
    left = np.array([5, 9, 9, 12, 30, 30, 31], U64)
    right = np.array([9, 12, 5, 20, 31, 32, 32], U64)
    edges = contract(left, right)
    assert sorted(zip(*edges.tolist())) == [(5, 9), (5, 12), (5, 20), (30, 31), (30, 32)]
    assert union_find(*edges)[1].tolist() == union_find(left, right)[1].tolist()


def test_labels_of_a_partition_and_their_lookup():
    labelled = [np.array([[2, 1, 3, 8], [1, 1, 1, 7]], U64)]
    nodes, labels = component_labels(labelled, [np.array([5, 2], U64)])
    assert nodes.tolist() == [1, 2, 3, 5, 8] and labels.tolist() == [1, 1, 1, 5, 7]
    found, label = lookup_labels(nodes, labels, np.array([8, 4, 1], U64))
    assert found.tolist() == [True, False, True] and label[found].tolist() == [7, 1]


@pytest.mark.parametrize("cfg", [DedupConfig(), DedupConfig(threshold=0.6, ngram=3), DedupConfig(near=False)])
def test_real_candidate_graph_same_labels(cfg):
    """Candidate edges of a labelled dedup corpus, banded in passes and shards as the Ray stage
    bands them: the star rounds give every node the label of the union-find."""
    captions, _, _ = labelled_captions(600, seed=21)
    table = work_table(captions, sources=[f"src{i % 2}" for i in range(len(captions))])
    plan = DedupPlan.build(cfg, seed=2)
    rows = caption_rows(table, plan)
    edges = pa.concat_tables([shard_edges(band_rows(rows, plan, 8, b)) for b in band_passes(plan, 128)])
    left, right = edges.column("left").to_numpy(), edges.column("right").to_numpy()
    graph = CandidateGraph.from_edges(bucket_edges(band_rows(rows, plan, 1)))
    for n_parts, n_edge_parts, local_contraction in ((1, 1, True), (4, 8, False), (32, 3, False)):
        nodes, labels, _ = star_components(left, right, n_parts, n_edge_parts, local_contraction=local_contraction)
        assert nodes.tolist() == graph.nodes.tolist()
        assert labels.tolist() == graph.labels.tolist()
    assert len(set(graph.labels.tolist())) > 10  # (at J >= 0.6 on 3-grams most of the corpus is one component)
