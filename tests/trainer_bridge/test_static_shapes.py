"""Static shapes (issue 22, the bridge half): every tensor of every pack of a real demo run has the shape
planned in packs.parquet, and the padding that makes it so changes neither the loss nor the gradients."""

from __future__ import annotations

import pytest
import torch

from schemas.manifest import load_index
from trainer_bridge.dataset import PackedShardDataset, vit_pad_grid
from trainer_bridge.loss import balanced_loss, next_token_targets

PATCH_DIM = 3 * 2 * 14 * 14


@pytest.fixture(scope="module")
def planned(demo_out):
    return {row["pack_id"]: row for row in load_index(demo_out, "packs").to_pylist()}


@pytest.mark.parametrize("pad_to_bucket", [True, False])
def test_every_tensor_of_every_pack_has_the_planned_shape(demo_out, planned, pad_to_bucket):
    seen = set()
    for rank in range(2):  # the packed dp size: each rank's own shards
        for item in PackedShardDataset(demo_out, rank, 2, pad_to_bucket=pad_to_bucket):
            row = planned[item["pack_id"]]
            seen.add(item["pack_id"])
            seq = row["seq_len"]
            for name in ("input_ids", "labels", "sample_index", "vision_mask"):
                assert item[name].shape == (seq,), (name, row)
            assert item["position_ids"].shape == (3, seq)
            assert item["cu_seqlens_list"][-1] == seq and item["real_tokens"] == row["real_tokens"]
            real, bucket = row["vit_patches"], row["vit_bucket"]
            rows = bucket if (pad_to_bucket and bucket) else real
            assert item["pixel_values"].shape == (rows, PATCH_DIM), row
            assert int(item["image_grid_thw"].prod(-1).sum()) == rows
            pad = rows - real
            assert item["vit_pad_patches"] == pad
            assert item["image_grid_thw"].shape == (row["n_images"] + (pad > 0), 3)
            if pad:
                assert tuple(item["image_grid_thw"][-1].tolist()) == vit_pad_grid(pad) == (1, 2, pad // 2)
                assert torch.all(item["pixel_values"][real:] == 0)
            assert int(item["vision_mask"].sum()) == real // 4  # only real media fill tokens
    assert seen == set(planned)
    assert any(r["vit_bucket"] > r["vit_patches"] for r in planned.values()), "no pack was padded"


def hf_model(demo_out):
    pytest.importorskip("transformers")
    from trainer_bridge.hf import build_model, enable_packing

    special = PackedShardDataset(demo_out, 0, 2).manifest.special_tokens
    model = build_model("tiny-qwen2-vl", special, seed=1).float().train()
    enable_packing(model)
    return model


def loss_and_grads(model, pack):
    from trainer_bridge.hf import model_inputs

    model.zero_grad(set_to_none=True)
    logits = model(**model_inputs(pack, model)).logits[0]
    targets = next_token_targets(pack["labels"], pack["cu_seqlens"])
    token_loss = torch.nn.functional.cross_entropy(logits, targets.clamp(min=0), reduction="none")
    loss = balanced_loss(token_loss, targets != -100, pack["cu_seqlens"])
    loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


def assert_same(a, b):
    loss_a, grads_a = a
    loss_b, grads_b = b
    assert torch.equal(loss_a, loss_b)
    assert grads_a.keys() == grads_b.keys()
    worst = max(float((grads_a[n] - grads_b[n]).abs().max() / (grads_b[n].abs().max() + 1e-30)) for n in grads_a)
    # float32: the padded ViT input has more rows, so the weight gradients are summed in other blocks
    # (measured up to 1.4e-6 relative); a leak of the padding into real tokens would be of order 1
    assert worst <= 1e-5, worst


def trimmed(pack):
    """The same pack without its trailing LLM padding (the unpadded sequence)."""
    real = pack["real_tokens"]
    bounds = [b for b in pack["cu_seqlens_list"] if b <= real]
    out = dict(pack)
    for name in ("input_ids", "labels", "sample_index", "vision_mask"):
        out[name] = pack[name][:real]
    out["position_ids"] = pack["position_ids"][..., :real]
    out["cu_seqlens_list"] = bounds
    out["cu_seqlens"] = torch.tensor(bounds, dtype=torch.int32)
    out["seq_len"] = real
    return out


def test_padding_changes_neither_loss_nor_gradients_through_the_hf_adapter(demo_out):
    """ViT padding to the bucket, and LLM padding to seq_len, against the same pack unpadded."""
    model = hf_model(demo_out)
    padded = {it["pack_id"]: it for it in PackedShardDataset(demo_out, 0, 2)}
    plain = {it["pack_id"]: it for it in PackedShardDataset(demo_out, 0, 2, pad_to_bucket=False)}
    pid = next(
        pid for pid, it in padded.items() if it["vit_pad_patches"] and it["sample_ids"] and it["real_tokens"] < it["seq_len"]
    )
    pack = padded[pid]
    assert pack["pixel_values"].shape[0] > plain[pid]["pixel_values"].shape[0]
    reference = loss_and_grads(model, pack)
    assert_same(loss_and_grads(model, plain[pid]), reference)  # the ViT sees the real patches only
    assert_same(loss_and_grads(model, trimmed(plain[pid])), reference)  # and the LLM the real tokens only
