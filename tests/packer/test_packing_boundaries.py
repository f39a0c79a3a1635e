"""Pack capacities at, just below and just above each limit: a sample of exactly the context length
(or the ViT patch or image limit) is packed alone, one more is too_long; two samples that fill a
capacity exactly share a pack, one more and they do not."""

from __future__ import annotations

import pytest

from packer.packing import plan_packs
from schemas.pack_config import PackConfig

CFG = PackConfig(context_length=256, max_vit_patches=1024, max_images_per_pack=4)


def _plan(tokens, patches=None, images=None):
    n = len(tokens)
    return plan_packs(tokens, patches or [0] * n, images or [0] * n, CFG)


@pytest.mark.parametrize(("tokens", "patches", "images", "too_long"), [
    ([255], [0], [0], False), ([256], [0], [0], False), ([257], [0], [0], True),
    ([10], [1023], [1], False), ([10], [1024], [1], False), ([10], [1025], [1], True),
    ([10], [4], [3], False), ([10], [4], [4], False), ([10], [4], [5], True),
])
def test_one_sample_at_each_capacity(tokens, patches, images, too_long):
    plan = _plan(tokens, patches, images)
    assert plan.too_long.tolist() == [too_long]
    assert plan.n_packs == (0 if too_long else 1)


@pytest.mark.parametrize(("tokens", "patches", "images", "n_packs"), [
    ([100, 155], [0, 0], [0, 0], 1), ([100, 156], [0, 0], [0, 0], 1), ([100, 157], [0, 0], [0, 0], 2),
    ([10, 10], [500, 523], [1, 1], 1), ([10, 10], [500, 524], [1, 1], 1), ([10, 10], [500, 525], [1, 1], 2),
    ([10, 10], [4, 4], [1, 2], 1), ([10, 10], [4, 4], [1, 3], 1), ([10, 10], [4, 4], [2, 3], 2),
])
def test_two_samples_fill_a_capacity_exactly(tokens, patches, images, n_packs):
    plan = _plan(tokens, patches, images)
    assert not plan.too_long.any()
    assert plan.n_packs == n_packs
    assert (plan.pack_tokens <= CFG.context_length).all() and (plan.pack_patches <= CFG.max_vit_patches).all()
    assert (plan.pack_images <= CFG.max_images_per_pack).all()
