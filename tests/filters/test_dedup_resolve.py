"""`resolve_clusters` and the verify shuffle, case by case on hand-made rows: each option of the
config, the sentinel cases (empty captions, rows without an image digest, a 64-bit node collision),
the reasons and the captions shown for the largest clusters."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest

from filters.dedup import DedupPlan, resolve_clusters
from filters.dedup.resolve import CLUSTER_ROW_SCHEMA, VERIFY_ROW_SCHEMA, verify_shard_of
from filters.dedup.verify import node_pairs_at_least, node_text_table, node_texts, pair_jaccard, text_pair_jaccard
from schemas.dedup_config import DedupConfig


def rows(captions, *, nodes=None, sources=None, digests=None, lang=None, repairs=None, perplexity=None) -> pa.Table:
    n = len(captions)
    return pa.table([
        pa.array([0] * n, pa.uint16()), pa.array([0] * n, pa.int64()),
        pa.array(np.asarray(nodes if nodes is not None else np.arange(1, n + 1), np.uint64)),
        pa.array([f"s/{i}" for i in range(n)]), pa.array(sources or ["a"] * n), pa.array(captions),
        pa.array(lang or [0.9] * n, pa.float32()), pa.array(digests or [None] * n, pa.string()),
        pa.array(repairs or [0] * n, pa.int32()), pa.array(perplexity or [None] * n, pa.float32()),
    ], schema=VERIFY_ROW_SCHEMA)


def resolve(table, pairs=(), **cfg) -> dict[str, tuple]:
    """sample_id -> (dup_of, reason) for every clustered row."""
    plan = DedupPlan.build(DedupConfig(**{"ngram": 1, "threshold": 0.5, **cfg}), seed=0)
    left = np.array([p[0] for p in pairs], np.uint64)
    right = np.array([p[1] for p in pairs], np.uint64)
    out = resolve_clusters(table, left, right, plan)
    assert out.schema == CLUSTER_ROW_SCHEMA
    return {r["sample_id"]: (r["dup_of"], r["reason"]) for r in out.to_pylist()}


NEAR = ["abcdefgh", "abcdefxy"]  # 1-gram Jaccard 0.6


def test_verify_shards_are_in_range_and_spread():
    shard = verify_shard_of(np.arange(10_000, dtype=np.int64), 8)
    assert shard.dtype == np.uint16
    assert shard.min() == 0 and shard.max() == 7
    assert (np.bincount(shard, minlength=8) > 1000).all()


def test_empty_pair_lists_give_an_empty_float_array():
    from filters.dedup.shingles import char_shingle_hashes, unique_shingles

    sets = unique_shingles(*char_shingle_hashes(NEAR, 1))
    got = pair_jaccard(*sets, [], [])
    assert got.dtype == np.float64 and got.shape == (0,)
    got = text_pair_jaccard(NEAR, [], [], 1)
    assert got.dtype == np.float64 and got.shape == (0,)


@pytest.mark.parametrize("dtype", [np.uint64, np.uint32, np.int32, np.int64])
def test_pair_indices_of_any_integer_dtype(dtype):
    """Row indices come as uint64 from Arrow and hash tables: mixed with int64 they must not turn
    into floats (which cannot index the texts)."""
    texts = NEAR + ["abcdefgh"]
    got = text_pair_jaccard(texts, np.array([0, 0, 2], dtype), np.array([1, 2, 1], dtype), 1)
    assert got.dtype == np.float64 and got.tolist() == [0.6, 1.0, 0.6]


def test_no_rows_no_clusters():
    assert resolve(rows([])) == {}


def test_a_candidate_pair_near_enough_is_joined():
    assert resolve(rows(NEAR), [(1, 2)]) == {"s/0": (None, None), "s/1": ("s/0", "dedup.near")}


def test_near_off_ignores_candidate_pairs():
    assert resolve(rows(NEAR), [(1, 2)], near=False) == {}


def test_with_exact_off_equal_captions_join_as_near():
    # equal normalised captions share one node, so no candidate pair links them: the exact edges do
    table = rows(["a red cat", "A red cat!"], nodes=[5, 5])  # the cleaner (here: shorter) copy is kept
    assert resolve(table, exact=False) == {"s/0": (None, None), "s/1": ("s/0", "dedup.near")}
    assert resolve(table) == {"s/0": (None, None), "s/1": ("s/0", "dedup.exact")}
    assert resolve(table, exact=False, near=False, image_exact=True) == {}  # only images count then


def test_pairs_across_scopes_are_not_joined():
    table = rows(NEAR, sources=["a", "b"])
    assert resolve(table, [(1, 2)], scope="source") == {}
    assert resolve(table, [(1, 2)], scope="global") != {}


def test_empty_captions_are_never_exact_duplicates():
    assert resolve(rows(["", "...", "  "], nodes=[7, 7, 7])) == {}


def test_caption_and_image_key_needs_both_equal():
    table = rows(["a red cat", "a red cat", "a red cat"], nodes=[5, 5, 5], digests=["d1", "d2", "d1"])
    assert resolve(table, key="caption+image") == {"s/0": (None, None), "s/2": ("s/0", "dedup.exact")}
    assert resolve(table, key="caption") == {"s/0": (None, None), "s/1": ("s/0", "dedup.exact"),
                                             "s/2": ("s/0", "dedup.exact")}


def test_image_exact_joins_equal_digests_only():
    table = rows(["a cat", "a dog", "a cow", "a pig"], digests=["d1", "d1", None, None])
    assert resolve(table, image_exact=True) == {"s/0": (None, None), "s/1": ("s/0", "dedup.image")}


def test_reason_is_how_a_row_joined_its_representative():
    # s/1 and s/2 share a caption, s/0 and s/1 an image; s/2 is the best copy (highest language score)
    table = rows(["cat", "dog", "dog"], nodes=[1, 2, 2], digests=["d1", "d1", "d2"], lang=[0.5, 0.5, 0.9])
    assert resolve(table, image_exact=True) == {
        "s/0": ("s/2", "dedup.image"), "s/1": ("s/2", "dedup.exact"), "s/2": (None, None)}


def test_a_node_collision_pairs_every_class_of_the_node():
    # s/0 and s/1 differ but share node 1 (a 64-bit exact-key collision); s/2 is near s/1 only, and
    # a second candidate pair (2, 3) joins nothing
    table = rows(["zzzzzzzz", "abcdefgh", "abcdefxy", "qrstuvwx"], nodes=[1, 1, 2, 3])
    assert resolve(table, [(1, 2), (2, 3)]) == {"s/1": (None, None), "s/2": ("s/1", "dedup.near")}
    assert resolve(table, [(2, 3), (1, 2)]) == {"s/1": (None, None), "s/2": ("s/1", "dedup.near")}
    table = rows(["abcdefxy", "zzzzzzzz", "abcdefgh"], nodes=[2, 1, 1])  # the collision on the right side
    assert resolve(table, [(2, 1)]) == {"s/0": (None, None), "s/2": ("s/0", "dedup.near")}


@pytest.mark.parametrize("size", [2, 3])
def test_representatives_of_clusters_show_their_caption(size):
    plan = DedupPlan.build(DedupConfig(), seed=0)
    table = rows(["a red cat"] * size + ["a blue dog", "a blue dog!"], nodes=[5] * size + [6, 6])
    out = {r["sample_id"]: r for r in resolve_clusters(table, np.zeros(0, np.uint64), np.zeros(0, np.uint64),
                                                       plan, top_captions=1).to_pylist()}
    assert out["s/0"]["caption"] == "a red cat" and out["s/0"]["cluster_size"] == size
    # only the representative of the largest cluster (ties: the smaller id) shows its caption
    assert [r["caption"] for k, r in sorted(out.items()) if k != "s/0"] == [None] * (size + 1)


def test_the_kept_copy_needed_fewest_repairs_then_has_the_lowest_perplexity():
    # three copies of one caption: s/0 needed a repair (though its perplexity is lowest), s/1 and
    # s/2 came clean; of those, s/2 reads better to the LM
    table = rows(["a red bus"] * 3, nodes=[7] * 3, repairs=[1, 0, 0], perplexity=[1.0, 9.0, 3.0])
    assert resolve(table) == {"s/2": (None, None), "s/0": ("s/2", "dedup.exact"), "s/1": ("s/2", "dedup.exact")}
    # unscored copies come after scored ones
    table = rows(["a red bus"] * 3, nodes=[7] * 3, perplexity=[None, 9.0, None])
    assert resolve(table)["s/1"] == (None, None)


def test_unshared_words_are_counted_within_the_cluster_only():
    # s/0 and s/1 are near copies that differ by one word each; "zebra" also occurs in s/2, which is
    # in no cluster, so it does not make s/0 the consensus wording: the shorter s/1 is kept
    table = rows(["red bus zebra", "red bus yak", "zebra lion"])
    assert resolve(table, [(1, 2)]) == {"s/1": (None, None), "s/0": ("s/1", "dedup.near")}


def test_only_representatives_show_a_caption():
    plan = DedupPlan.build(DedupConfig(), seed=0)
    table = rows(["a red cat"] * 3 + ["a blue dog"] * 2 + ["alone"], nodes=[5] * 3 + [6] * 2 + [7])
    out = resolve_clusters(table, np.zeros(0, np.uint64), np.zeros(0, np.uint64), plan).to_pylist()
    assert [(r["sample_id"], r["dup_of"], r["cluster_size"], r["caption"]) for r in out] == [
        ("s/0", None, 3, "a red cat"), ("s/1", "s/0", 3, None), ("s/2", "s/0", 3, None),
        ("s/3", None, 2, "a blue dog"), ("s/4", "s/3", 2, None)]


@pytest.mark.parametrize("texts_per_chunk,per_chunk", [(10_000, 20_000), (40, 7), (40, 1000), (6, 3), (1, 1)])
def test_near_pairs_are_verified_alike_however_their_texts_are_chunked(monkeypatch, texts_per_chunk, per_chunk):
    """A giant candidate component's pairs are verified from each text's shingle sketch and, where
    its bound allows, its exact shingle set, each made once (`TEXTS_PER_CHUNK` texts shingled at a
    time) however many pairs name the text: the verdict of every pair is the Jaccard of its two
    texts against the threshold, the same for every chunking, the first pair (a text with itself)
    included; at most PAIRS_PER_CHUNK pairs are compared at a time, only those the bound lets
    through."""
    from filters.dedup import resolve, shingles, verify

    rng = np.random.default_rng(7)
    words = ["red", "bus", "on", "a", "street", "the", "blue", "car", "near", "park"]
    texts = [" ".join(rng.choice(words, rng.integers(3, 7))) for _ in range(120)]
    a, b = rng.integers(0, 120, 3000), rng.integers(0, 120, 3000)
    b[0] = a[0]
    plan = DedupPlan.build(DedupConfig(ngram=3, threshold=0.6), seed=0)
    want = text_pair_jaccard(texts, a, b, 3) >= 0.6
    monkeypatch.setattr(shingles, "TEXTS_PER_CHUNK", texts_per_chunk)
    monkeypatch.setattr(resolve, "PAIRS_PER_CHUNK", per_chunk)
    shingled, compared = [], []
    shingle = shingles.char_shingle_hashes

    def recorded_shingles(chunk, ngram):  # the real shingling, with what it was given
        shingled.append(list(chunk))
        return shingle(chunk, ngram)

    def recorded_pairs(ids, offsets, left, right):
        compared.append(left.size)
        return pair_jaccard(ids, offsets, left, right)

    monkeypatch.setattr(shingles, "char_shingle_hashes", recorded_shingles)
    monkeypatch.setattr(verify, "pair_jaccard", recorded_pairs)
    got = resolve._verified(texts, a, b, plan)
    assert got.dtype == bool and np.array_equal(got, want) and want[0] and 0 < want.sum() < want.size
    used = sorted(texts[i] for i in np.unique(np.concatenate((a, b))))
    sketched = -(-len(used) // texts_per_chunk)  # the first calls make the sketches: every text once
    assert sorted(t for chunk in shingled[:sketched] for t in chunk) == used
    exact = [t for chunk in shingled[sketched:] for t in chunk]
    assert len(exact) == len(set(exact)) <= len(used)  # a text's exact set is made at most once
    assert want.sum() <= sum(compared) < a.size and max(compared) <= per_chunk  # the bound spared some pairs


@pytest.mark.parametrize("per_call", [1, 2, 7, 1000])
def test_candidate_pairs_resolve_alike_however_many_go_per_call(monkeypatch, per_call):
    """A giant candidate component's pairs are expanded and verified CANDIDATE_PAIRS_PER_CALL at a
    time (their temporaries are ~150 bytes a pair): the clusters, representatives and reasons are
    those of one call, node collisions and pairs across scopes included."""
    from filters.dedup import resolve as resolve_module

    rng = np.random.default_rng(per_call)
    words = ["red", "bus", "on", "a", "street", "the", "blue", "car", "near", "park"]
    captions = [" ".join(rng.choice(words, rng.integers(3, 7))) for _ in range(90)]
    captions[5] = captions[4]  # an exact pair
    nodes = rng.integers(1, 70, size=90).astype(np.uint64)  # some nodes own several rows (collisions)
    sources = [["a", "b"][i % 5 == 0] for i in range(90)]
    table = rows(captions, nodes=nodes, sources=sources)
    pairs = [(int(x), int(y)) for x, y in rng.integers(1, 70, size=(400, 2)) if x != y]
    whole = resolve(table, pairs, ngram=3, threshold=0.5, scope="source")
    monkeypatch.setattr(resolve_module, "CANDIDATE_PAIRS_PER_CALL", per_call)
    assert resolve(table, pairs, ngram=3, threshold=0.5, scope="source") == whole
    assert sum(reason == "dedup.near" for _, reason in whole.values()) >= 3  # near pairs were verified


def test_node_pairs_pass_when_some_text_of_each_node_is_near_the_other():
    """`node_pairs_at_least` judges a pair of nodes by the texts `node_texts` gives them: a node
    with two texts (a 64-bit key collision) passes a pair when either text is near the other
    node's, and a node without a text fails every pair; the answers are the exact Jaccard's."""
    base = "a small red boat tied to a wooden pier at sunset"
    near, far = base + " today", "three children play football on a sandy beach"
    table = node_text_table(np.array([7, 9, 9, 4, 7, 12], np.uint64), [base, near, far, far, base, ""])
    nodes, texts = node_texts([table, table.slice(1, 2)])  # (node, text) pairs once each, sorted
    assert nodes.tolist() == [4, 7, 9, 9] and texts == [far, base, near, far]
    pairs = np.array([[7, 4, 4, 7, 12], [9, 9, 7, 4, 7]], np.uint64)
    got = node_pairs_at_least(pairs, nodes, texts, ngram=5, threshold=0.8)
    j = text_pair_jaccard([base, near, far], np.array([0, 2, 2, 0]), np.array([1, 2, 0, 2]), 5)
    assert j[0] >= 0.8 and j[1] == 1.0 and j[2] < 0.8 and j[3] < 0.8
    # 7-9: base~near passes; 4-9: far==far (9's other text); 4-7 and 7-4: far vs base fail; 12 has no text
    assert got.tolist() == [True, True, False, False, False]


@pytest.mark.parametrize("per_call", [1, 2, 3, None])
def test_node_pairs_are_judged_alike_however_many_go_per_call(per_call):
    """`node_pairs_at_least` in calls of `per_call` pairs (each text sketched once for all calls)
    gives the answers of one call over all pairs, collisions included."""
    rng = random.Random(7)
    words = ["red", "boat", "pier", "sunset", "small", "wooden", "tied", "old", "harbor", "calm"]
    base = [" ".join(rng.choice(words) for _ in range(9)) for _ in range(6)]
    texts = base + [t + " x" for t in base]  # each text has a near twin
    node = np.array([3, 5, 8, 13, 21, 34, 40, 41, 42, 43, 44, 5], np.uint64)  # node 5 has two texts
    nodes, sorted_texts = node_texts([node_text_table(node, texts)])
    pairs = np.array([[3, 5, 8, 13, 21, 34, 3, 5, 99], [40, 41, 42, 43, 44, 40, 41, 44, 3]], np.uint64)
    whole = node_pairs_at_least(pairs, nodes, sorted_texts, ngram=3, threshold=0.7)
    assert whole.any() and not whole.all()
    got = node_pairs_at_least(pairs, nodes, sorted_texts, ngram=3, threshold=0.7, per_call=per_call)
    assert got.tolist() == whole.tolist()
