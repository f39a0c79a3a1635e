"""A stand-in for ``torch_npu`` whose ``npu_fusion_attention`` follows the operator's documented
contract in plain torch (torch_npu API reference, "torch_npu.npu_fusion_attention"):

    npu_fusion_attention(query, key, value, head_num, input_layout, pse=None, padding_mask=None,
        atten_mask=None, scale=1., keep_prob=1., pre_tockens=2147483647, next_tockens=2147483647,
        inner_precise=0, prefix=None, actual_seq_qlen=None, actual_seq_kvlen=None, sparse_mode=0,
        gen_mask_parallel=True, sync=False) -> (Tensor, Tensor, Tensor, Tensor, int, int, int)

- ``scale`` is a host float (schema ``float scale=1.``): None is a TypeError, and 1.0 is NOT 1/sqrt(d).
- ``input_layout="TND"``: q [T, N1, D], k/v [T, N2, D] with N2 dividing N1; ``actual_seq_qlen`` and
  ``actual_seq_kvlen`` are required host int lists of cumulative sequence ends (no leading 0).
- ``sparse_mode=3`` (rightDownCausal) takes the compressed 2048x2048 mask, True above the diagonal.
- ``atten_mask`` True means "masked out". Returns 7 outputs; the first is attention_out [T, N1, D].
Every call's arguments are recorded in ``calls``, so tests can check what the bridge passed.
"""

from __future__ import annotations

import types

import torch

calls: list[dict] = []


def _check_host_ints(name, value, total):
    if not isinstance(value, (list, tuple)) or not all(type(x) is int for x in value):
        raise TypeError(f"{name}: expected a host list of Python ints, got {type(value).__name__}")
    if not value or value[-1] != total or any(b < a for a, b in zip(value, value[1:])) or value[0] < 0:
        raise ValueError(f"{name}: cumulative ends must be non-decreasing and end at T={total}, got {value}")


def npu_fusion_attention(
    query, key, value, head_num, input_layout, pse=None, padding_mask=None, atten_mask=None, scale=1.0,
    keep_prob=1.0, pre_tockens=2147483647, next_tockens=2147483647, inner_precise=0, prefix=None,
    actual_seq_qlen=None, actual_seq_kvlen=None, sparse_mode=0, gen_mask_parallel=True, sync=False,
):
    if not isinstance(scale, (int, float)) or isinstance(scale, bool):
        raise TypeError(f"npu_fusion_attention(): argument 'scale' must be float, not {type(scale).__name__}")
    if input_layout != "TND":
        raise NotImplementedError("this stand-in implements the TND layout only")
    if query.dim() != 3 or key.dim() != 3 or value.dim() != 3:
        raise ValueError("TND: query, key and value must be [T, N, D]")
    total, n1, _ = query.shape
    n2 = key.shape[1]
    if head_num != n1 or n1 % n2:
        raise ValueError(f"head_num {head_num} must equal query heads {n1}, and key heads {n2} must divide it")
    _check_host_ints("actual_seq_qlen", actual_seq_qlen, total)
    _check_host_ints("actual_seq_kvlen", actual_seq_kvlen, total)
    if keep_prob != 1.0 or pse is not None or padding_mask is not None:
        raise NotImplementedError("dropout, pse and padding_mask are not part of this stand-in")
    if sparse_mode == 3:
        expected = torch.ones(2048, 2048, dtype=torch.bool, device=query.device).triu(1)
        if atten_mask is None or atten_mask.dtype != torch.bool or not torch.equal(atten_mask, expected):
            raise ValueError("sparse_mode 3 takes the compressed 2048x2048 upper-triangular bool mask")
    elif sparse_mode != 0 or atten_mask is not None:
        raise NotImplementedError("this stand-in implements sparse_mode 0 without a mask, and 3")
    calls.append({"scale": scale, "actual_seq_qlen": list(actual_seq_qlen), "sparse_mode": sparse_mode,
                  "atten_mask": atten_mask, "head_num": head_num})
    k = key.repeat_interleave(n1 // n2, dim=1)
    v = value.repeat_interleave(n1 // n2, dim=1)
    out = torch.zeros_like(query)
    starts = [0, *actual_seq_qlen[:-1]]
    for a, b in zip(starts, actual_seq_qlen):
        scores = torch.einsum("qnd,knd->nqk", query[a:b], k[a:b]).float() * scale
        if sparse_mode == 3:  # rightDownCausal; q and kv lengths are equal here, so plain causal
            scores = scores.masked_fill(torch.ones(b - a, b - a, dtype=torch.bool).triu(1), float("-inf"))
        out[a:b] = torch.einsum("nqk,knd->qnd", scores.softmax(-1).to(query.dtype), v[a:b])
    empty = query.new_zeros(0)
    return out, empty, empty, empty, 0, 0, 0


module = types.ModuleType("torch_npu")
module.npu_fusion_attention = npu_fusion_attention
