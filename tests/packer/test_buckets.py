"""Shape buckets chosen from the data: the choice is exact (equal to brute force), histograms of
planning groups merge into the histogram of the whole, and buckets hold every pack."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from packer.buckets import bucket_of, choose_buckets, merge_histograms, padded_size, size_histogram


def brute_force(sizes: np.ndarray, granule: int, k: int, cap: int | None) -> int:
    """The least padded size over every choice of at most k granule-multiple buckets that hold
    the largest pack."""
    occupied = sorted({int(-(-x // granule)) * granule for x in sizes.tolist() if x > 0})
    if cap is not None:
        occupied = sorted({min(e, cap) for e in occupied})
    if not occupied:
        return 0
    best = None
    top = occupied[-1]
    for r in range(min(k, len(occupied))):
        for comb in itertools.combinations(occupied[:-1], r):
            b = np.asarray(list(comb) + [top])
            v = int(b[np.searchsorted(b, sizes[sizes > 0], side="left")].sum())
            best = v if best is None else min(best, v)
    return best


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 5000), max_size=40), st.sampled_from([1, 4, 128, 512]), st.integers(1, 6),
       st.booleans())
def test_choice_equals_brute_force(sizes, granule, k, capped):
    x = np.asarray(sizes, np.int64)
    cap = int(x.max()) if capped and x.size and x.max() > 0 else None
    h = size_histogram(x, granule)
    chosen = choose_buckets(h, k, cap=cap)
    assert len(chosen) <= k
    if not (x > 0).any():
        assert chosen == ()
        return
    assert all(b % granule == 0 or b == cap for b in chosen)
    assert padded_size(h, chosen, cap) == brute_force(x, granule, k, cap)
    padded = bucket_of(x, chosen)
    assert ((padded >= x) & ((padded == 0) == (x == 0))).all()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.integers(0, 70_000), max_size=30), min_size=1, max_size=5), st.integers(1, 8))
def test_histograms_of_planning_groups_merge_exactly(groups, k):
    """Each group's histogram, merged on the driver, chooses exactly what one histogram of all the
    packs would: the driver never needs the packs themselves."""
    hs = [size_histogram(np.asarray(g, np.int64), 512) for g in groups]
    merged = merge_histograms(hs)
    whole = size_histogram(np.asarray([x for g in groups for x in g], np.int64), 512)
    assert np.array_equal(merged.bins, whole.bins) and np.array_equal(merged.counts, whole.counts)
    assert merged.zeros == whole.zeros
    assert choose_buckets(merged, k) == choose_buckets(whole, k)


def test_more_buckets_never_pad_more():
    rng = np.random.default_rng(0)
    x = rng.integers(1, 73_728, 5000)
    h = size_histogram(x, 512)
    pads = [padded_size(h, choose_buckets(h, k)) for k in range(1, 12)]
    assert all(a >= b for a, b in zip(pads, pads[1:]))
    assert pads[-1] - x.sum() < pads[0] - x.sum()


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="granule"):
        size_histogram([1, 2], 0)
    with pytest.raises(ValueError, match="max_buckets"):
        choose_buckets(size_histogram([1, 2], 4), 0)
    with pytest.raises(ValueError, match="granules differ"):
        merge_histograms([size_histogram([1], 4), size_histogram([1], 8)])
    with pytest.raises(ValueError, match="over the largest bucket"):
        bucket_of([5000], [1024])
