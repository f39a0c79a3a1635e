"""Golden values of the packer's deterministic choices: `seeded_hash`, and the pack and step
assignment of a small plan in each remainder mode; and LPT dealing on its own (no swap rounds).

These are stored outputs, not recomputed ones. A failure here means that the same inputs, config and
seed now give different shards: if that is deliberate, update the values in the same commit and say
so in its message (the old outputs can no longer be resumed or reproduced byte for byte).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from packer.packing import plan_packs
from packer.steps import assemble_steps, deal_step, seeded_hash
from schemas.pack_config import PackConfig


def test_seeded_hash_golden_values():
    assert [hex(int(x)) for x in seeded_hash(0, np.arange(4))] == [
        "0xe220a8397b1dcdaf", "0x6e789e6aa1b965f4", "0x6c45d188009454f", "0xf88bb8a8724c81ec"]
    assert [hex(int(x)) for x in seeded_hash(7, np.array([5, 2**40]))] == ["0x42fdc2800981573e", "0xc0dff300b60faf4a"]
    assert hex(int(seeded_hash(-1, np.array([1]))[0])) == "0xa841aeebb63525b7"  # seeds wrap to 64 bits
    assert int(seeded_hash(7, np.array([5], np.int32))[0]) == 0x42FDC2800981573E  # any integer dtype


# 23 samples: tokens, ViT patches, images; sample 20 (300 tokens) is over the 256-token context
TOKENS = [200, 37, 120, 64, 250, 18, 90, 140, 33, 75, 160, 12, 230, 55, 101, 180, 44, 66, 128, 9, 300, 111, 47]
PATCHES = [0, 0, 256, 0, 512, 0, 64, 0, 0, 128, 0, 0, 768, 0, 0, 256, 0, 0, 64, 0, 0, 0, 512]
IMAGES = [0, 0, 1, 0, 2, 0, 1, 0, 0, 1, 0, 0, 3, 0, 0, 1, 0, 0, 1, 0, 0, 0, 2]
PACK_OF = [2, 8, 7, 4, 0, 1, 7, 5, 6, 8, 4, 8, 1, 2, 6, 3, 7, 3, 8, 3, -1, 5, 6]
POSITION = [0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 1, 2, 1, 1, 1, 0, 2, 1, 3, 2, -1, 1, 2]
# per remainder mode, per output pack: plan pack, step, rank, micro, shard; then dropped, repeat_of
STEPS = {
    "drop": ([0, 5, 3, 2, 1, 4, 7, 8], [0, 0, 0, 0, 1, 1, 1, 1], [0, 0, 1, 1, 0, 0, 1, 1], [0, 1, 0, 1, 0, 1, 0, 1],
             [0, 0, 0, 0, 1, 1, 1, 1], [6], [-1] * 8),
    "repeat": ([1, 4, 1, 5, 0, 2, 7, 6, 3, 6, 7, 8], [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2],
               [0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1], [0, 1] * 6, [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2], [],
               [-1, -1, 0, -1, -1, -1, -1, -1, -1, 7, 6, -1]),
    "pad": ([7, 4, 6, 2, 0, -1, 3, -1, 1, -1, 8, 5], [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2],
            [0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1], [0, 1] * 6, [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2], [], [-1] * 12),
}


def _cfg(remainder: str) -> PackConfig:
    return PackConfig(context_length=256, max_vit_patches=1024, max_images_per_pack=4, dp_size=2, grad_accum=2,
                      remainder=remainder, packs_per_shard=2)


@pytest.mark.parametrize("remainder", sorted(STEPS))
def test_small_plan_golden_assignment(remainder):
    plan = plan_packs(TOKENS, PATCHES, IMAGES, _cfg(remainder))
    assert plan.n_packs == 9
    assert plan.pack_of.tolist() == PACK_OF
    assert plan.position.tolist() == POSITION
    assert np.flatnonzero(plan.too_long).tolist() == [20]
    sp = assemble_steps(plan, _cfg(remainder), 11)
    got = (sp.pack.tolist(), sp.step.tolist(), sp.rank.tolist(), sp.micro.tolist(), sp.shard.tolist(),
           sp.dropped_packs.tolist(), sp.repeat_of.tolist())
    assert got == STEPS[remainder]


def _lpt(scalar: list[int], dp: int, k: int) -> list[int]:
    """LPT with a cardinality limit, written plainly: packs largest first (ties: lower index), a tier
    of dp at a time, each tier to the ranks from the least to the most loaded (ties: lower rank)."""
    order = sorted(range(len(scalar)), key=lambda i: (-scalar[i], i))
    load, rank = [0] * dp, [0] * len(scalar)
    for t in range(k):
        tier = order[t * dp:(t + 1) * dp]
        for i, r in zip(tier, sorted(range(dp), key=lambda r: (load[r], r))):
            rank[i] = r
        for i in tier:
            load[rank[i]] += scalar[i]
    return rank


def test_lpt_alone_deals_largest_first():
    # 4 3 | 2 1: the two largest open the ranks, the smaller of the next tier joins the larger load
    # (deal_step takes each pack's ViT and LLM cost and deals on their sum)
    assert deal_step(np.zeros(4), np.array([1.0, 2, 3, 4]), 2, 2, 0).tolist() == [0, 1, 1, 0]


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 6), st.integers(1, 5), st.data())
def test_lpt_alone_matches_a_plain_implementation(dp, k, data):
    scalar = data.draw(st.lists(st.integers(0, 1000), min_size=dp * k, max_size=dp * k))
    arr = np.asarray(scalar, dtype=np.float64)
    assert deal_step(np.zeros(dp * k), arr, dp, k, 0).tolist() == _lpt(scalar, dp, k)
