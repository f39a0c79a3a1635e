"""The HF adapter is exact: packed logits equal each sample's own unpacked forward through the
unmodified transformers model (tiny random Qwen2-VL / Qwen2.5-VL, float32, real demo packs), samples
never influence each other, and balanced_loss on packed logits is equation (1) of the per-sample
forwards."""

from __future__ import annotations

import pytest
import torch

transformers = pytest.importorskip("transformers")

from hf_reference import (  # noqa: E402
    FAMILIES,
    equation_1,
    load,
    sample_logits,
    sample_token_losses,
    save_tiny_model,
)

from trainer_bridge.dataset import PackedShardDataset  # noqa: E402
from trainer_bridge.hf import enable_packing, model_inputs  # noqa: E402
from trainer_bridge.loss import balanced_loss, next_token_targets  # noqa: E402

TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def demo_packs(demo_out):
    """Every pack of the demo output (dp 1 reads all of them), in order."""
    return list(PackedShardDataset(demo_out, 0, 1))


# Qwen2.5-VL runs in the slow suite (CI's bounded step): each family's forwards over the 151k-token
# vocabulary cost ~10 s, and the default suite keeps to 6 minutes on a 2-core machine.
@pytest.fixture(scope="module", params=[FAMILIES[0], *(pytest.param(f, marks=pytest.mark.slow) for f in FAMILIES[1:])])
def models(request, demo_out, tmp_path_factory):
    """(packed, reference): the same tiny checkpoint loaded twice; only the first gets enable_packing."""
    special = PackedShardDataset(demo_out, 0, 1).manifest.special_tokens
    path = save_tiny_model(request.param, special, tmp_path_factory.mktemp(request.param))
    packed, reference = load(path), load(path)
    enable_packing(packed)
    return packed, reference


def covering(packs):
    """A few packs that between them hold a video, a ViT-padded pack, several samples and a filler."""
    chosen = {}
    for p in packs:
        if "video" in p["media_kind"]:
            chosen.setdefault("video", p)
        if p["vit_pad_patches"] and len(p["sample_ids"]) >= 3:
            chosen.setdefault("padded", p)
        if not p["sample_ids"]:
            chosen.setdefault("filler", p)
    assert {"video", "padded", "filler"} <= set(chosen), "the demo output lacks a kind of pack"
    return list({id(p): p for p in chosen.values()}.values())


def worst_logit_difference(pack, packed, reference) -> float:
    worst = 0.0
    with torch.no_grad():
        logits = packed(**model_inputs(pack, packed)).logits[0]
        assert logits.shape == (pack["seq_len"], packed.config.text_config.vocab_size)
        for j in range(len(pack["sample_ids"])):
            a, b = pack["cu_seqlens_list"][j], pack["cu_seqlens_list"][j + 1]
            worst = max(worst, float((logits[a:b] - sample_logits(pack, j, reference)).abs().max()))
    return worst


def test_packed_logits_equal_each_samples_own_forward(demo_packs, models):
    packed, reference = models
    for pack in covering(demo_packs):
        assert worst_logit_difference(pack, packed, reference) <= TOLERANCE, pack["pack_id"]


@pytest.mark.slow
def test_packed_logits_equal_per_sample_logits_on_every_pack(demo_packs, models):
    packed, reference = models
    worst = {p["pack_id"]: worst_logit_difference(p, packed, reference) for p in demo_packs}
    assert max(worst.values()) <= TOLERANCE, worst


def busiest(packs):
    return max(packs, key=lambda p: (len(p["sample_ids"]), len(p["media_kind"])))


def test_changing_one_sample_leaves_every_other_sample_bit_identical(demo_packs, models):
    packed, _ = models
    pack = busiest(demo_packs)
    assert len(pack["sample_ids"]) >= 3
    bounds = pack["cu_seqlens_list"]
    changed = dict(pack)
    changed["input_ids"] = pack["input_ids"].clone()
    answer = (pack["labels"][bounds[0] : bounds[1]] != -100).nonzero()[0, 0]  # one answer token of sample 0
    changed["input_ids"][answer] = (changed["input_ids"][answer] + 1) % 1000
    if 0 in pack["media_sample"]:  # and the pixels of sample 0's first image
        changed["pixel_values"] = pack["pixel_values"].clone()
        changed["pixel_values"][: int(pack["image_grid_thw"][0].prod())] += 0.5
    with torch.no_grad():
        before = packed(**model_inputs(pack, packed)).logits[0]
        after = packed(**model_inputs(changed, packed)).logits[0]
    assert not torch.equal(before[: bounds[1]], after[: bounds[1]])  # the change is seen by its sample
    assert torch.equal(before[bounds[1] :], after[bounds[1] :])  # and by nobody else, to the bit


def test_balanced_loss_on_packed_logits_is_equation_1_of_per_sample_forwards(demo_packs, models):
    packed, reference = models
    pack = busiest(demo_packs)
    logits = packed(**model_inputs(pack, packed)).logits[0]
    targets = next_token_targets(pack["labels"], pack["cu_seqlens"])
    valid = targets != -100
    token_loss = torch.nn.functional.cross_entropy(logits.float(), targets.clamp(min=0), reduction="none")
    ours = balanced_loss(token_loss, valid, pack["cu_seqlens"])
    with torch.no_grad():
        per_sample = [sample_token_losses(pack, j, sample_logits(pack, j, reference)) for j in range(len(pack["sample_ids"]))]
    expected = equation_1([loss for loss, _ in per_sample], [v for _, v in per_sample])
    assert ours.detach().item() == pytest.approx(float(expected), rel=1e-5)
    ours.backward()  # the packed loss is differentiable end to end (vision tower included)
    assert packed.model.visual.patch_embed.proj.weight.grad.abs().sum() > 0
    packed.zero_grad(set_to_none=True)
