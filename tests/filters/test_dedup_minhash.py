"""MinHash signatures, shingles, LSH parameters and band keys (no Ray)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from datasketch import MinHash
from datasketch.lsh import _optimal_param
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup_corpus import WORDS
from filters.dedup import (MinHasher, band_bucket_keys, candidate_probability, char_shingle_hashes, lsh_params,
                           text_pair_jaccard, unique_shingles)
from filters.dedup.minhash import EMPTY
from filters.dedup.shingles import shingle_sets, shingle_sketches
from filters.dedup.verify import pairs_at_least


def shingle_set(text: str, n: int) -> set[str]:
    if len(text) < n:
        return {text} if text else set()
    return {text[i:i + n] for i in range(len(text) - n + 1)}


def test_shingle_hashes_match_python_shingles():
    texts = ["a red car", "", "abc", "a red car", "zzzzzzzz", "éèê ünï"]
    hashes, offsets = char_shingle_hashes(texts, 5)
    assert offsets.tolist() == [0, 5, 5, 6, 11, 15, 18]
    ids, uoff = unique_shingles(hashes, offsets)
    for i, t in enumerate(texts):
        assert uoff[i + 1] - uoff[i] == len(shingle_set(t, 5))
    # equal shingles hash equal, across texts
    assert hashes[0:5].tolist() == hashes[6:11].tolist()
    assert len(set(hashes[11:15].tolist())) == 1  # "zzzzz" four times


@given(st.lists(st.text(alphabet="ab cé\0", max_size=12), min_size=1, max_size=6), st.integers(1, 6),
       st.none() | st.integers(1, 8))
@settings(max_examples=200, deadline=None)
def test_unique_shingle_counts_and_jaccard_match_sets(texts, n, chunk):
    """Counts and Jaccard against Python sets, comparing the pairs all at once or `chunk` at a time."""
    ids, offsets = unique_shingles(*char_shingle_hashes(texts, n))
    for i, t in enumerate(texts):
        assert offsets[i + 1] - offsets[i] == len(shingle_set(t, n))
    left = np.repeat(np.arange(len(texts)), len(texts))
    right = np.tile(np.arange(len(texts)), len(texts))
    got = text_pair_jaccard(texts, left, right, n, chunk=chunk)
    assert got.shape == left.shape
    for g, a, b in zip(got, left, right):
        sa, sb = shingle_set(texts[a], n), shingle_set(texts[b], n)
        want = len(sa & sb) / len(sa | sb) if sa | sb else 1.0
        assert g == pytest.approx(want)


@given(st.lists(st.text(max_size=40), min_size=1, max_size=12), st.integers(0, 11))
@settings(max_examples=100, deadline=None)
def test_signature_of_a_text_does_not_depend_on_its_batch(texts, pick):
    hasher = MinHasher(64, seed=3)
    together = hasher.text_signatures(texts, 3)
    i = pick % len(texts)
    alone = hasher.text_signatures([texts[i]], 3)
    assert np.array_equal(together[i], alone[0])


def test_signatures_span_tiles_and_empty_texts():
    rng = random.Random(0)
    long_text = " ".join(rng.choice(WORDS) for _ in range(4000))  # > one tile of shingles
    texts = ["", long_text, "short", ""]
    hasher = MinHasher(128, seed=1)
    sig = hasher.text_signatures(texts, 5)
    assert sig.shape == (4, 128) and sig.dtype == np.uint32
    assert (sig[0] == EMPTY).all() and (sig[3] == EMPTY).all()
    hashes, _ = char_shingle_hashes([long_text], 5)
    x = (hashes >> np.uint64(32)).astype(np.uint32)
    want = ((hasher.a[:, None] * x[None, :]) + hasher.b[:, None]).min(axis=1)  # uint32 wraps like the tiles
    assert np.array_equal(sig[1], want)


def test_seed_changes_permutations_deterministically():
    assert np.array_equal(MinHasher(32, 5).a, MinHasher(32, 5).a)
    assert not np.array_equal(MinHasher(32, 5).a, MinHasher(32, 6).a)
    assert (MinHasher(32, 5).a % 2 == 1).all()


def test_jaccard_estimate_as_good_as_datasketch():
    """Same shingle sets, 128 permutations: our error is no worse than datasketch.MinHash's."""
    rng = random.Random(7)
    pairs = []
    for _ in range(300):
        words = [rng.choice(WORDS) for _ in range(rng.randint(8, 24))]
        other = list(words)
        for _ in range(rng.randint(0, len(words) // 2)):
            other[rng.randrange(len(other))] = rng.choice(WORDS)
        pairs.append((" ".join(words), " ".join(other)))
    texts = [t for p in pairs for t in p]
    sig = MinHasher(128, seed=11).text_signatures(texts, 5)
    ours, theirs, truth = [], [], []
    for k, (a, b) in enumerate(pairs):
        sa, sb = shingle_set(a, 5), shingle_set(b, 5)
        truth.append(len(sa & sb) / len(sa | sb))
        ours.append(float((sig[2 * k] == sig[2 * k + 1]).mean()))
        ma, mb = MinHash(num_perm=128, seed=11), MinHash(num_perm=128, seed=11)
        ma.update_batch([s.encode() for s in sa])
        mb.update_batch([s.encode() for s in sb])
        theirs.append(ma.jaccard(mb))
    truth = np.array(truth)
    rmse_ours = float(np.sqrt(np.mean((np.array(ours) - truth) ** 2)))
    rmse_theirs = float(np.sqrt(np.mean((np.array(theirs) - truth) ** 2)))
    assert truth.min() < 0.4 and truth.max() == 1.0  # a spread of similarities
    assert rmse_ours <= rmse_theirs * 1.15 + 0.005, (rmse_ours, rmse_theirs)
    assert abs(float(np.mean(np.array(ours) - truth))) < 0.01  # unbiased
    # the binomial standard error at 128 permutations bounds both
    assert rmse_ours < 0.05


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.8, 0.85, 0.9])
@pytest.mark.parametrize("weights", [(0.5, 0.5), (0.1, 0.9), (0.3, 0.7)])
@pytest.mark.parametrize("num_perm", [64, 128])
def test_lsh_params_match_datasketch_optimiser(threshold, weights, num_perm):
    assert lsh_params(threshold, num_perm, *weights) == _optimal_param(threshold, num_perm, *weights)


def test_default_lsh_shape_gives_recall_above_threshold():
    bands, rows = lsh_params(0.8, 128, 0.1, 0.9)
    assert bands * rows <= 128
    assert candidate_probability(0.85, bands, rows) > 0.97
    assert candidate_probability(0.3, bands, rows) < 1e-3


def test_band_keys_collide_exactly_on_equal_bands_within_a_scope():
    hasher = MinHasher(128, seed=0)
    sig = hasher.text_signatures(["a dog on the beach", "a dog on the beach", "a cat in the snow"], 5)
    scope = np.array([1, 1, 1], dtype=np.uint64)
    keys = band_bucket_keys(sig, 16, 8, scope)
    assert keys.shape == (3, 16)
    assert np.array_equal(keys[0], keys[1])
    assert not np.intersect1d(keys[0], keys[2]).size
    assert ((keys >> np.uint64(56)) == np.arange(16, dtype=np.uint64)).all()  # band id in the top byte
    other_scope = band_bucket_keys(sig, 16, 8, np.array([2, 2, 2], dtype=np.uint64))
    assert not np.intersect1d(keys[0], other_scope[0]).size
    with pytest.raises(ValueError, match="exceeds num_perm"):
        band_bucket_keys(sig, 17, 8, scope)


@given(st.lists(st.text(alphabet="ab cé\0", max_size=12), max_size=9), st.integers(1, 6), st.integers(1, 10))
@settings(max_examples=200, deadline=None)
def test_shingle_sets_are_the_unique_shingles_of_all_texts_at_once(texts, n, texts_per_chunk):
    """Shingled a few texts at a time, each text's set holds the ids `unique_shingles` gives when
    every text is shingled at once: ranks among the distinct hashes of all the texts."""
    want_ids, want_offsets = unique_shingles(*char_shingle_hashes(texts, n))
    ids, offsets = shingle_sets(texts, n, texts_per_chunk)
    assert ids.dtype == np.uint32 and offsets.tolist() == want_offsets.tolist()
    assert ids.tolist() == want_ids.tolist()


@given(st.lists(st.text(alphabet="ab cé\0", max_size=14), min_size=1, max_size=8), st.integers(1, 5),
       st.sampled_from([0.05, 0.3, 0.5, 0.8, 1.0]), st.integers(1, 4), st.none() | st.integers(1, 9))
@settings(max_examples=300, deadline=None)
def test_pairs_at_least_is_the_exact_jaccard_against_the_threshold(texts, n, threshold, texts_per_chunk, chunk):
    """The sketch bound only spares work: every verdict is the exact Jaccard against the threshold,
    and the bound is never below the exact Jaccard."""
    import filters.dedup.shingles as shingles

    left = np.repeat(np.arange(len(texts)), len(texts))
    right = np.tile(np.arange(len(texts)), len(texts))
    exact = text_pair_jaccard(texts, left, right, n)
    sketch = shingle_sketches(texts, n, texts_per_chunk)
    assert not sketch.unbounded.any()
    assert sketch.sizes.tolist() == np.diff(unique_shingles(*char_shingle_hashes(texts, n))[1]).tolist()
    shared = np.minimum(sketch.counts[left], sketch.counts[right]).sum(axis=1)
    union = sketch.sizes[left] + sketch.sizes[right] - shared
    assert (np.where(union > 0, shared / np.maximum(union, 1), 1.0) >= exact).all()
    old = shingles.TEXTS_PER_CHUNK
    shingles.TEXTS_PER_CHUNK = texts_per_chunk
    try:
        got = pairs_at_least(texts, left, right, n, threshold, chunk=chunk)
    finally:
        shingles.TEXTS_PER_CHUNK = old
    assert got.tolist() == (exact >= threshold).tolist()


def test_texts_of_more_shingles_than_a_sketch_counts_are_verified_exactly():
    """A text of more than 65535 shingles has clipped sketch counts, so its pairs skip the bound
    and get the exact Jaccard."""
    rng = np.random.default_rng(3)
    long_text = "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz"), 70_000))
    texts = [long_text, long_text[:69_000] + "z" * 1000, long_text[::-1], "short"]
    sketch = shingle_sketches(texts, 5)
    assert sketch.unbounded.tolist() == [True, True, True, False] and sketch.counts.dtype == np.uint16
    left, right = np.array([0, 0, 0, 3]), np.array([1, 2, 3, 3])
    exact = text_pair_jaccard(texts, left, right, 5)
    assert pairs_at_least(texts, left, right, 5, 0.9).tolist() == (exact >= 0.9).tolist() == [True, False, False, True]
