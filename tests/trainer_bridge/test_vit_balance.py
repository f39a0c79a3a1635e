"""Balanced encoder data parallelism: a partition of the step's images with a bounded maximum load."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from packer.packing import sample_costs
from schemas.pack_config import PackConfig
from trainer_bridge.vit_balance import ViTCostModel, assign_images, balance_step, image_patches


def test_cost_model_is_the_packers():
    cfg = PackConfig()
    patches = np.array([16, 576, 2304 * 4, 9216])
    ours = ViTCostModel.from_pack_config(cfg).cost(patches)
    theirs = sample_costs(np.zeros(4), patches, np.ones(4), cfg, patches_sq=patches.astype(float) ** 2).vit_cost
    assert np.allclose(ours, theirs, rtol=1e-12)
    assert ours[3] / ours[1] > 9216 / 576  # the n^2 term: 16x the patches cost more than 16x


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(0, 1e4), min_size=0, max_size=40), st.integers(1, 8))
def test_every_image_goes_to_one_device_and_the_max_is_bounded(costs, n_devices):
    costs = np.array(costs)
    plan = assign_images(costs, n_devices)
    assert plan.device.shape == costs.shape and np.all((plan.device >= 0) & (plan.device < n_devices))
    assert np.isclose(plan.loads.sum(), costs.sum())
    if len(costs):  # list scheduling's bound: mean load plus the largest image
        assert plan.loads.max() <= costs.sum() / n_devices + costs.max() + 1e-6


@pytest.mark.parametrize("seed", range(6))
def test_within_four_thirds_of_the_best_assignment(seed):
    rng = np.random.default_rng(seed)
    costs = rng.lognormal(0, 1.5, 9)
    best = min(
        np.bincount(np.array(dev), weights=costs, minlength=3).max()
        for dev in itertools.product(range(3), repeat=len(costs))
    )
    assert assign_images(costs, 3).loads.max() <= 4 / 3 * best + 1e-9


def test_balancing_beats_per_rank_encoding_on_a_skewed_step():
    grids = [[(1, 64, 64)] * 3, [(1, 8, 8)] * 12, [(1, 16, 16)] * 3, [(1, 48, 48), (1, 8, 8)]]
    balanced, naive = balance_step(grids)
    assert naive.max_over_mean > 2.0
    assert balanced.max_over_mean < 1.5
    big = ViTCostModel().cost(64 * 64)
    assert balanced.loads.max() == pytest.approx(big)  # one large image per device is the best there is
    assert image_patches([(2, 4, 6)]).tolist() == [48]


def test_deterministic():
    costs = np.random.default_rng(1).random(50)
    assert np.array_equal(assign_images(costs, 4).device, assign_images(costs, 4).device)
