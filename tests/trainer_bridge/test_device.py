"""Device selection and packed attention on CPU against per-sample attention."""

from __future__ import annotations

import math

import pytest
import torch

from trainer_bridge.device import block_diagonal_attention, npu_available, packed_attention, select_device


def per_sample_attention(q, k, v, cu, causal):
    """Plain softmax attention, one sample at a time."""
    outs = []
    for s, e in zip(cu[:-1].tolist(), cu[1:].tolist()):
        qs, ks, vs = q[s:e].transpose(0, 1), k[s:e].transpose(0, 1), v[s:e].transpose(0, 1)
        scores = qs @ ks.transpose(-1, -2) / math.sqrt(q.shape[-1])
        if causal:
            scores = scores.masked_fill(torch.ones(e - s, e - s, dtype=torch.bool).triu(1), float("-inf"))
        outs.append((scores.softmax(-1) @ vs).transpose(0, 1))
    return torch.cat(outs)


@pytest.mark.parametrize("impl", ["sdpa", "sdpa_tiles", "eager"])
@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("kv_heads", [4, 2])
def test_packed_attention_equals_per_sample(causal, kv_heads, impl):
    g = torch.Generator().manual_seed(3)
    cu = torch.tensor([0, 5, 6, 20, 20, 31, 40], dtype=torch.int32)  # an empty segment too
    q = torch.randn(40, 4, 8, generator=g, dtype=torch.float64, requires_grad=True)
    k = torch.randn(40, kv_heads, 8, generator=g, dtype=torch.float64, requires_grad=True)
    v = torch.randn(40, kv_heads, 8, generator=g, dtype=torch.float64, requires_grad=True)
    out = packed_attention(q, k, v, cu, causal=causal, impl=impl)
    rep = 4 // kv_heads
    ref = per_sample_attention(q, k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1), cu, causal)
    assert out.shape == (40, 4, 8)
    assert torch.allclose(out, ref, atol=1e-12)
    grads = torch.autograd.grad(out.sum(), (q, k, v))
    ref_grads = torch.autograd.grad(ref.sum(), (q, k, v))
    for a, b in zip(grads, ref_grads):
        assert torch.allclose(a, b, atol=1e-10)


@pytest.mark.parametrize("tile", [1, 4, 7, 64])
@pytest.mark.parametrize("causal", [True, False])
def test_query_tiles_do_not_change_the_result(tile, causal):
    g = torch.Generator().manual_seed(5)
    cu = torch.tensor([0, 9, 9, 10, 25, 33], dtype=torch.int32)
    q, k, v = (torch.randn(33, 2, 4, generator=g, dtype=torch.float64) for _ in range(3))
    out = block_diagonal_attention(q, k, v, cu, causal=causal, tile=tile)
    assert torch.allclose(out, per_sample_attention(q, k, v, cu, causal), atol=1e-12)


def test_tokens_never_see_other_samples():
    cu = torch.tensor([0, 3, 7], dtype=torch.int32)
    q = torch.randn(7, 1, 4)
    k = torch.randn(7, 1, 4)
    v = torch.zeros(7, 1, 4)
    v[:3] = 1.0  # the first sample's values
    out = packed_attention(q, k, v, cu, causal=False, cu_seqlens_list=cu.tolist())
    assert torch.all(out[3:] == 0) and torch.allclose(out[:3], torch.ones(3, 1, 4))


def test_select_device_on_this_machine(monkeypatch):
    monkeypatch.delenv("VLPACK_DEVICE", raising=False)
    # the documented preference, npu -> cuda -> cpu, on whatever this machine has
    if npu_available():
        expected = ("npu", "hccl")
    elif torch.cuda.is_available():
        expected = ("cuda", "nccl")
    else:
        expected = ("cpu", "gloo")
    choice = select_device()
    assert (choice.kind, choice.backend) == expected
    assert (select_device("cpu").kind, select_device("cpu").backend) == ("cpu", "gloo")
    with pytest.raises(ValueError, match="device"):
        select_device("tpu")


def test_unknown_impl_is_named():
    x = torch.randn(4, 1, 2)
    with pytest.raises(ValueError, match="impl"):
        packed_attention(x, x, x, torch.tensor([0, 4]), impl="xla")
