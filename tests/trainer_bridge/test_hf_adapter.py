"""The HF adapter's behaviour on small real shards: what enable_packing switches, what model_inputs
refuses, the eager variant, labels for HF's own loss, and a model family vlpack has not checked."""

from __future__ import annotations

import warnings

import pytest
import torch

transformers = pytest.importorskip("transformers")

from hf_reference import sample_logits  # noqa: E402
from shard_builder import SPECIAL, build_out  # noqa: E402

from trainer_bridge.dataset import PackedShardDataset  # noqa: E402
from trainer_bridge.hf import (  # noqa: E402
    build_model,
    check_vocabulary,
    enable_packing,
    model_inputs,
    tiny_config,
)
from trainer_bridge.loss import next_token_targets  # noqa: E402


@pytest.fixture(scope="module")
def packs(tmp_path_factory):
    root = tmp_path_factory.mktemp("hf_adapter")
    build_out(root, dp_size=1, grad_accum=2, n_steps=2, seq_len=256)
    items = list(PackedShardDataset(root, 0, 1))
    return [p for p in items if len(p["sample_ids"]) >= 2 and p["media_kind"]]


def tiny(**kw):
    return build_model("tiny-qwen2-vl", SPECIAL).float().eval()


def test_packing_is_enabled_for_the_language_model_only():
    model = tiny()
    assert enable_packing(model) == "vlpack_packed_sdpa"
    assert model.config.text_config._attn_implementation == "vlpack_packed_sdpa"
    assert model.config.vision_config._attn_implementation == "sdpa"  # the ViT attends per image already


def test_plain_calls_still_use_the_models_own_attention():
    packed, reference = tiny(), tiny()
    enable_packing(packed)
    ids = torch.randint(0, 1000, (2, 12))
    with torch.no_grad():
        assert torch.equal(packed(input_ids=ids).logits, reference(input_ids=ids).logits)


def test_model_inputs_needs_enable_packing_and_mrope_positions(packs):
    model = tiny()
    with pytest.raises(ValueError, match="enable_packing"):
        model_inputs(packs[0], model)
    enable_packing(model)
    flat = dict(packs[0], position_ids=packs[0]["position_ids"][0])
    with pytest.raises(ValueError, match="mrope=False"):
        model_inputs(flat, model)


def test_eager_variant_equals_each_samples_own_forward(packs):
    packed, reference = tiny(), tiny()
    enable_packing(packed, "eager")
    assert packed.config.text_config._attn_implementation == "vlpack_packed_eager"
    pack = packs[0]
    with torch.no_grad():
        logits = packed(**model_inputs(pack, packed)).logits[0]
        for j in range(len(pack["sample_ids"])):
            a, b = pack["cu_seqlens_list"][j], pack["cu_seqlens_list"][j + 1]
            assert torch.allclose(logits[a:b], sample_logits(pack, j, reference), atol=1e-4)


def test_labels_for_hfs_own_loss_never_cross_samples(packs):
    model = tiny()
    enable_packing(model)
    pack = packs[0]
    with torch.no_grad():
        out = model(**model_inputs(pack, model, labels=True))
    targets = next_token_targets(pack["labels"], pack["cu_seqlens"])
    valid = targets != -100
    expected = torch.nn.functional.cross_entropy(out.logits[0][valid], targets[valid])
    assert float(out.loss) == pytest.approx(float(expected), rel=1e-5)


def test_vocabulary_mismatch_is_an_error():
    model = tiny()
    check_vocabulary(model, SPECIAL)
    with pytest.raises(ValueError, match="image_token_id"):
        check_vocabulary(model, {**SPECIAL, "<|image_pad|>": 151000})
    small = transformers.Qwen2VLForConditionalGeneration(tiny_config("qwen2_vl", SPECIAL, vocab_size=1000))
    with pytest.raises(ValueError, match="vocab_size=1000"):
        check_vocabulary(small, SPECIAL)


def test_sliding_window_layers_are_refused():
    config = tiny_config("qwen2_vl", SPECIAL, use_sliding_window=True, sliding_window=64, max_window_layers=0)
    model = transformers.Qwen2VLForConditionalGeneration(config)
    with pytest.raises(NotImplementedError, match="sliding"):
        enable_packing(model)


def test_a_family_vlpack_has_not_checked_warns_and_still_packs_exactly(tmp_path):
    """A text-only Qwen2 LM (1-D RoPE): a warning, and its packed logits equal its per-sample ones."""
    build_out(tmp_path, dp_size=1, grad_accum=1, n_steps=1, with_media=False)
    pack = next(iter(PackedShardDataset(tmp_path, 0, 1, mrope=False)))
    config = transformers.Qwen2Config(vocab_size=151936, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                      num_attention_heads=4, num_key_value_heads=2)
    torch.manual_seed(0)
    packed = transformers.Qwen2ForCausalLM(config).eval()
    reference = transformers.Qwen2ForCausalLM(config).eval()
    reference.load_state_dict(packed.state_dict())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        enable_packing(packed)
    assert any("not one vlpack has checked" in str(w.message) for w in caught)
    with torch.no_grad():
        logits = packed(**model_inputs(pack, packed)).logits[0]
        for j in range(len(pack["sample_ids"])):
            a, b = pack["cu_seqlens_list"][j], pack["cu_seqlens_list"][j + 1]
            own = reference(input_ids=pack["input_ids"][a:b][None]).logits[0]
            assert torch.allclose(logits[a:b], own, atol=1e-4)


def only_sample(pack, j):
    """A pack holding sample ``j`` of ``pack`` alone (no padding)."""
    from hf_reference import media_rows

    a, b = pack["cu_seqlens_list"][j], pack["cu_seqlens_list"][j + 1]
    mine = [i for i, s in enumerate(pack["media_sample"]) if s == j]
    rows = media_rows(pack)
    out = dict(pack, sample_ids=[pack["sample_ids"][j]], cu_seqlens_list=[0, b - a], real_tokens=b - a, seq_len=b - a)
    out["cu_seqlens"] = torch.tensor([0, b - a], dtype=torch.int32)
    for name in ("input_ids", "labels", "sample_index", "vision_mask"):
        out[name] = pack[name][a:b]
    out["position_ids"] = pack["position_ids"][:, a:b]
    out["pixel_values"] = torch.cat([pack["pixel_values"][rows[i][0] : rows[i][0] + rows[i][1]] for i in mine])
    out["image_grid_thw"] = pack["image_grid_thw"][mine]
    for name in ("media_kind", "media_fps", "media_sample"):
        out[name] = [pack[name][i] for i in mine]
    out["media_sample"] = [0] * len(mine)
    out["vit_pad_patches"] = 0
    return out


@pytest.mark.parametrize("model_type", ["qwen2_vl", "qwen2_5_vl"])
def test_a_pack_with_only_a_video(tmp_path, model_type):
    build_out(tmp_path, dp_size=1, grad_accum=1, n_steps=2, seq_len=256, video=True)
    pack = next(p for p in PackedShardDataset(tmp_path, 0, 1) if "video" in p["media_kind"])
    j = pack["media_sample"][pack["media_kind"].index("video")]
    video = only_sample(pack, j)
    assert video["media_kind"] == ["video"]
    spec = "tiny-qwen2-vl" if model_type == "qwen2_vl" else "tiny-qwen2.5-vl"
    packed, reference = (build_model(spec, SPECIAL).float().eval() for _ in range(2))
    enable_packing(packed)
    inputs = model_inputs(video, packed)
    assert "pixel_values" not in inputs and inputs["pixel_values_videos"].shape[0] == int(video["image_grid_thw"].prod())
    if model_type == "qwen2_5_vl":
        assert inputs["second_per_grid_ts"].tolist() == [2 / 2.0]  # temporal patch 2 / 2 sampled fps
    t = inputs["position_ids"][0, 0][video["vision_mask"]].unique()
    step = 2 if model_type == "qwen2_5_vl" else 1  # Qwen2.5-VL: tokens_per_second 2 x 1 s per temporal patch
    assert (t - t[0]).tolist() == [0, step]  # two temporal patches
    with torch.no_grad():
        assert torch.allclose(packed(**inputs).logits[0], sample_logits(video, 0, reference), atol=1e-4)
