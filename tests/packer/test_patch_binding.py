"""Where patches bind (image-caption data): the deal by patches, the trade of its left-over items,
and the choice between that plan and levelled best fit (`packer.best_fit`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from packer.best_fit import (_best_fit_runs, best_fit_decreasing, binding, deal_by_patches, deal_media,
                             exchange_leftovers)
from packer.packing import lower_bound, plan_packs
from schemas.pack_config import PackConfig

CFG = PackConfig(max_vit_patches=73728)  # 3 patches per token of context: captions of images bind by patches


def image_pool_captions(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The scale bench's kind of image-caption data, as bench/bench_packing.py makes it: one image
    per caption from a pool of 64 images of 64–640 px a side (Qwen2-VL grids); small images are
    token-heavy, large ones patch-heavy."""
    spec = importlib.util.spec_from_file_location("bench_packing", Path(__file__).parents[2] / "bench" / "bench_packing.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench.image_captions(n, seed, px=(64, 640), pool=64)


def bins_of(out: np.ndarray) -> int:
    return int(np.unique(out).shape[0])


def assert_within_limits(out, t, p, m, C, P, M) -> None:
    assert (out >= 0).all()
    nb = int(out.max()) + 1
    assert (np.bincount(out, weights=t, minlength=nb) <= C).all()
    assert (np.bincount(out, weights=p, minlength=nb) <= P).all()
    assert (np.bincount(out, weights=m, minlength=nb) <= M).all()


@pytest.mark.parametrize("n, seed", [(100_000, 0), (100_000, 1), (200_000, 2)])
def test_image_caption_mix_packs_within_a_thousandth_of_the_bound(n, seed):
    # levelled best fit alone left 887 / 864 / 1,793 packs here (LB 885 / 861 / 1,789): its last
    # bins fill up with the smallest, token-heavy images and run out of tokens with patches to spare
    t, p, m = image_pool_captions(n, seed)
    assert binding(t, p, m, CFG.context_length, CFG.max_vit_patches, CFG.max_images_per_pack) == "patches"
    plan = plan_packs(t, p, m, CFG)
    lb = lower_bound(t, p, CFG, images=m)
    assert plan.n_packs <= lb * 1.001 + 1, (plan.n_packs, lb)
    assert (plan.pack_tokens <= CFG.context_length).all() and (plan.pack_patches <= CFG.max_vit_patches).all()


@pytest.mark.parametrize("seed", [1, 2, 6])
def test_the_trade_places_the_left_over_small_images_in_the_dealt_bins(seed):
    t, p, m = image_pool_captions(200_000, seed)
    C, P, M = CFG.context_length, CFG.max_vit_patches, CFG.max_images_per_pack
    bins = {}
    for trade in (False, True):
        out, R, Q, Im = deal_media(t, p, m, C, P, M, None, by_patches=True)
        left = np.flatnonzero(out < 0)
        assert left.size > 100 and int(t[left].sum()) * P > int(p[left].sum()) * C  # token-heavy left-overs
        rest = exchange_leftovers(t, p, m, out, R, Q, Im, C, P) if trade else left
        placed = out >= 0
        nb = len(R)  # the room of every bin is what its items leave
        np.testing.assert_array_equal(np.asarray(R), C - np.bincount(out[placed], weights=t[placed], minlength=nb))
        np.testing.assert_array_equal(np.asarray(Q), P - np.bincount(out[placed], weights=p[placed], minlength=nb))
        np.testing.assert_array_equal(np.asarray(Im), M - np.bincount(out[placed], weights=m[placed], minlength=nb))
        assert (np.asarray(R) >= 0).all() and (np.asarray(Q) >= 0).all() and (np.asarray(Im) >= 0).all()
        out[rest] = _best_fit_runs(t[rest], p[rest], m[rest], C, P, M, None, "plain", R, Q, Im)
        assert_within_limits(out, t, p, m, C, P, M)
        bins[trade] = bins_of(out)
    # without the trade the left-overs open bins their tokens fill (1,720 / 1,793 / 1,888 bins)
    assert bins[True] < bins[False]


def test_patch_binding_keeps_the_plan_with_fewer_bins():
    C, P, M = CFG.context_length, CFG.max_vit_patches, CFG.max_images_per_pack
    for seed in range(3):
        t, p, m = image_pool_captions(30_000, seed)
        levelled = _best_fit_runs(t, p, m, C, P, M, None, "scarce", [], [], [])
        dealt = deal_by_patches(t, p, m, C, P, M, None)
        kept = best_fit_decreasing(t, p, m, C, P, M)
        assert bins_of(kept) == min(bins_of(levelled), bins_of(dealt))
        np.testing.assert_array_equal(kept, dealt if bins_of(dealt) < bins_of(levelled) else levelled)
    # a tie keeps levelled best fit: a few captions fill one bin either way
    t, p, m = image_pool_captions(40, 3)
    kept = best_fit_decreasing(t, p, m, C, P, M)
    assert bins_of(kept) == bins_of(deal_by_patches(t, p, m, C, P, M, None)) == 1
    np.testing.assert_array_equal(kept, _best_fit_runs(t, p, m, C, P, M, None, "scarce", [], [], []))
    # large images: the deal's last laps leave large left-overs, and levelled best fit is kept
    rng = np.random.default_rng(7)
    p = (np.round(rng.integers(224, 2048, 20_000) / 28) * 2 * np.round(rng.integers(224, 2048, 20_000) / 28) * 2)
    p = p.astype(np.int64)
    t = p // 4 + rng.integers(10, 60, 20_000)
    m = np.ones(20_000, np.int64)
    kept = best_fit_decreasing(t, p, m, C, P, M)
    assert bins_of(kept) <= bins_of(_best_fit_runs(t, p, m, C, P, M, None, "scarce", [], [], []))
    assert_within_limits(kept, t, p, m, C, P, M)


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(1, 300),
    seed=st.integers(0, 2**32 - 1),
    small_share=st.floats(0.0, 1.0),
    M=st.sampled_from([1, 2, 3, 5, 64]),
    text_share=st.floats(0.0, 0.2),
)
def test_deal_by_patches_places_every_item_within_every_limit(n, seed, small_share, M, text_share):
    # small bins so that a few hundred items fill many of them; patches bind through large P use
    C, P = 512, 1024
    rng = np.random.default_rng(seed)
    small = rng.random(n) < small_share
    p = np.where(small, rng.integers(4, 40, n), rng.integers(40, 700, n)).astype(np.int64)
    t = (p // 4 + rng.integers(1, 30, n)).astype(np.int64)
    m = np.minimum(rng.integers(1, 3, n), M).astype(np.int64)
    text = rng.random(n) < text_share
    p, m = np.where(text, 0, p), np.where(text, 0, m)
    t = np.where(text, rng.integers(1, C + 1, n), t)
    out = deal_by_patches(t, p, m, C, P, M, None)
    assert_within_limits(out, t, p, m, C, P, M)
    assert (np.diff(np.unique(out)) == 1).all() and int(out.min()) == 0  # bins numbered without gaps
    np.testing.assert_array_equal(out, deal_by_patches(t, p, m, C, P, M, None))  # deterministic
    kept = best_fit_decreasing(t, p, m, C, P, M)
    assert_within_limits(kept, t, p, m, C, P, M)


def test_narrow_integer_inputs_plan_as_int64_ones():
    # sizes times limits and token sums (t * P, (p - least) * left-over tokens) overflow int32; the
    # engine widens its inputs first. Long captions on every 50th sample leave many left-over tokens.
    C, P, M = CFG.context_length, CFG.max_vit_patches, CFG.max_images_per_pack
    t, p, m = image_pool_captions(200_000, 1)
    t[::50] += 3000
    narrow = [a.astype(np.int32) for a in (t, p, m)]
    np.testing.assert_array_equal(deal_by_patches(*narrow, C, P, M, None), deal_by_patches(t, p, m, C, P, M, None))
    np.testing.assert_array_equal(best_fit_decreasing(*narrow, C, P, M), best_fit_decreasing(t, p, m, C, P, M))
