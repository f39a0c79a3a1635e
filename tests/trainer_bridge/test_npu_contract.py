"""The NPU branch against a plain-torch stand-in of npu_fusion_attention's documented contract
(tests/trainer_bridge/fake_torch_npu.py): the arguments it passes, and an output equal to SDPA per
sample. Nothing here runs on Ascend hardware."""

from __future__ import annotations

import math

import fake_torch_npu
import pytest
import torch

import trainer_bridge.device as device
from trainer_bridge.device import packed_attention


@pytest.fixture
def fake_npu(monkeypatch):
    fake_torch_npu.calls.clear()
    monkeypatch.setattr(device, "torch_npu_module", lambda: fake_torch_npu.module)
    return fake_torch_npu


def sdpa_per_sample(q, k, v, bounds, scale=None):
    outs = []
    rep = q.shape[1] // k.shape[1]
    for a, b in zip(bounds[:-1], bounds[1:]):
        qs, ks, vs = (x[a:b].transpose(0, 1) for x in (q, k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1)))
        outs.append(torch.nn.functional.scaled_dot_product_attention(qs, ks, vs, is_causal=True, scale=scale).transpose(0, 1))
    return torch.cat(outs)


@pytest.mark.parametrize("kv_heads", [4, 2])
@pytest.mark.parametrize("scale", [None, 0.3])
def test_npu_path_equals_sdpa_per_sample(fake_npu, kv_heads, scale):
    g = torch.Generator().manual_seed(0)
    bounds = [0, 7, 8, 30, 30, 41, 64]
    q = torch.randn(64, 4, 16, generator=g)
    k = torch.randn(64, kv_heads, 16, generator=g)
    v = torch.randn(64, kv_heads, 16, generator=g)
    cu = torch.tensor(bounds, dtype=torch.int32)
    out = packed_attention(q, k, v, cu, cu_seqlens_list=bounds, scale=scale, impl="npu")
    assert torch.allclose(out, sdpa_per_sample(q, k, v, bounds, scale), atol=1e-6)
    call = fake_npu.calls[-1]
    assert call["scale"] == (scale if scale is not None else 1 / math.sqrt(16))  # never the operator's 1.0
    assert call["actual_seq_qlen"] == bounds[1:] and call["sparse_mode"] == 3 and call["head_num"] == 4


def test_causal_mask_is_built_once_per_device(fake_npu):
    x = torch.randn(10, 2, 16)
    cu = torch.tensor([0, 4, 10], dtype=torch.int32)
    packed_attention(x, x, x, cu, cu_seqlens_list=[0, 4, 10], impl="npu")
    packed_attention(x, x, x, cu, cu_seqlens_list=[0, 4, 10], impl="npu")
    assert fake_npu.calls[0]["atten_mask"] is fake_npu.calls[1]["atten_mask"]


def test_boundaries_go_to_the_operator_as_host_ints_without_a_device_sync(fake_npu):
    class NoSync(torch.Tensor):  # a cu_seqlens whose host copy would be a device-to-host sync
        def tolist(self):
            raise AssertionError("cu_seqlens was read back from the device")

    x = torch.randn(6, 1, 16)
    cu = torch.tensor([0, 2, 6], dtype=torch.int32).as_subclass(NoSync)
    packed_attention(x, x, x, cu, cu_seqlens_list=[0, 2, 6], impl="npu")
    assert fake_npu.calls[-1]["actual_seq_qlen"] == [2, 6]


def test_unscaled_call_would_be_refused_by_the_operator():
    x = torch.randn(4, 1, 16)
    with pytest.raises(TypeError, match="scale"):
        fake_torch_npu.npu_fusion_attention(x, x, x, 1, "TND", scale=None, actual_seq_qlen=[4], actual_seq_kvlen=[4])


def test_hf_model_through_the_npu_path_matches_sdpa(fake_npu, tmp_path):
    pytest.importorskip("transformers")
    from shard_builder import SPECIAL, build_out

    from trainer_bridge.dataset import PackedShardDataset
    from trainer_bridge.hf import build_model, enable_packing, model_inputs

    build_out(tmp_path, dp_size=1, grad_accum=1, n_steps=1, video=False)
    pack = next(iter(PackedShardDataset(tmp_path, 0, 1)))
    on_npu, reference = (build_model("tiny-qwen2-vl", SPECIAL).eval() for _ in range(2))
    enable_packing(on_npu, "npu")
    enable_packing(reference, "sdpa")
    with torch.no_grad():
        a = on_npu(**model_inputs(pack, on_npu)).logits
        b = reference(**model_inputs(pack, reference)).logits
    assert fake_npu.calls and all(c["scale"] == on_npu.model.language_model.layers[0].self_attn.scaling for c in fake_npu.calls)
    assert torch.allclose(a, b, atol=1e-5)
