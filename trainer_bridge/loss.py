"""The per-sample / per-token balanced loss of the openPangu-VL report, §4.4 equation (1).

For one pack holding J samples (those with at least one supervised token)::

    w_ji   = w_ord_ji + w_mag_ji
    w_ord  = 1 / ln(e + tau_order * i)                  i: the token's position in its sample
    w_mag  = 2 * sigmoid(tau_magnitude * L_ji - 0.5)    (the report's typesetting, read literally)
    L_t    = sum_j sum_i w_ji L_ji / sum_j sum_i w_ji
    L_s    = 1/J sum_j ( sum_i w_ji L_ji / sum_i w_ji )
    L      = lambda_token * L_t + lambda_sample * L_s

Only supervised tokens (``valid``) carry weight. A segment with no supervised token (a prompt-only
sample, or the pack's trailing padding, which ``cu_seqlens`` keeps as its own segment) is not one of
the J samples.

Position ``i``
    ``order_over="labels"`` (default) counts i over the sample's supervised tokens only: the first
    answer token has i = 0 and weight 1. ``order_over="tokens"`` counts i from the sample's first
    token, so an answer that follows a 2,304-token image starts at 1/ln(e + 230.4) = 0.18 — the
    order weight would then mostly measure how large the image was.

Why ``detach_magnitude=True``
    w_mag is a function of the loss itself. Differentiating through it, the gradient of the
    weighted mean ``M = sum w L / sum w`` with respect to one token's loss is
    ``(w_k + w_k' * (L_k - M)) / sum w`` with ``w_k' = d w_mag / d L_k > 0``. For an easy token
    (L_k well below M) the second term is negative and can outweigh the first, so gradient descent
    would *raise* that token's loss: the model is rewarded for getting easy tokens wrong, which
    raises their weight. Detaching makes w_mag a pure re-weighting (a focal-loss-like emphasis on
    hard tokens), the gradient for every token stays positive, and it is what the report describes.

Gradient accumulation and data parallelism stay exact
    Equation (1) is defined per pack. The objective of one global step is the mean of the pack
    losses over the P packs of the step, ``P = dp_size * micro_batch * grad_accum`` (the manifest's
    figures; ``PackedShardDataset.packs_per_step``). Each rank therefore back-propagates
    ``sum over its packs of balanced_loss(pack) * global_step_scale(P, world_size)``, i.e. each pack
    loss times ``world_size / P``. DDP averages gradients over ``world_size`` ranks, so the summed
    gradient is exactly ``grad (1/P) sum_p L_p`` — the same as one process seeing all P packs,
    whatever the split into ranks and accumulation steps, because the packer gives every rank the
    same number of packs per step. Normalising by tokens instead (a mean over all tokens of the
    micro-batch) would weight a pack by how many labels its rank happened to see, and change with
    the split. ``tests/trainer_bridge/test_loss_ddp.py`` checks this with two gloo processes.
"""

from __future__ import annotations

import math
from typing import Literal

ORDER_OVER = ("labels", "tokens")


def _check_args(token_loss, valid, cu_seqlens, order_over: str, tau_order: float) -> None:
    if token_loss.dim() != 1:
        raise ValueError(
            f"token_loss: expected a 1-D tensor over the pack's T tokens, got shape {tuple(token_loss.shape)}"
        )
    if valid.shape != token_loss.shape:
        raise ValueError(
            f"valid: shape {tuple(valid.shape)} must equal token_loss's shape {tuple(token_loss.shape)}"
        )
    if cu_seqlens.dim() != 1 or cu_seqlens.numel() < 2:
        raise ValueError(
            f"cu_seqlens: expected 1-D [n_segments + 1] boundaries, got shape {tuple(cu_seqlens.shape)}"
        )
    if order_over not in ORDER_OVER:
        raise ValueError(f"order_over: {order_over!r} is not allowed; use one of {ORDER_OVER}")
    if tau_order < 0:
        raise ValueError(f"tau_order: {tau_order} must be >= 0")


def segment_ids(cu_seqlens, total: int):
    """Segment index of every token, from boundaries [0, e_1, ..., total]; empty segments allowed."""
    import torch

    cu = cu_seqlens.to(device=cu_seqlens.device, dtype=torch.long)
    if int(cu[0]) != 0 or int(cu[-1]) != total:
        raise ValueError(
            f"cu_seqlens: must start at 0 and end at the token count {total}, got {int(cu[0])} .. {int(cu[-1])}"
        )
    marks = torch.zeros(total + 1, dtype=torch.long, device=cu.device)
    marks.index_add_(0, cu[1:-1], torch.ones(cu.numel() - 2, dtype=torch.long, device=cu.device))
    return torch.cumsum(marks[:total], 0)


def token_order(valid, cu_seqlens, seg, order_over: str):
    """Position i of every token inside its sample (over supervised tokens, or over all tokens)."""
    import torch

    cu = cu_seqlens.to(dtype=torch.long)
    if order_over == "tokens":
        return torch.arange(valid.numel(), device=valid.device) - cu[seg]
    counts = valid.to(torch.long)
    before = torch.cumsum(counts, 0) - counts  # supervised tokens strictly before each token
    before_end = torch.cat([before, before.new_tensor([int(counts.sum())])])
    return before - before_end[cu[:-1]][seg]


def balanced_loss(
    token_loss,
    valid,
    cu_seqlens,
    *,
    lambda_token: float = 1.0,
    lambda_sample: float = 1.0,
    tau_order: float = 0.1,
    tau_magnitude: float = 2.0,
    detach_magnitude: bool = True,
    order_over: Literal["labels", "tokens"] = "labels",
):
    """Equation (1) for one pack: a scalar tensor.

    token_loss: [T] per-token loss (e.g. ``cross_entropy(..., reduction="none")``); any value at
        unsupervised positions is ignored (NaN included).
    valid: [T] bool, True where the token is supervised (``labels != -100`` after the shift).
    cu_seqlens: [n_segments + 1] int boundaries of the pack's samples (and trailing padding).

    Vectorised: segment ids, a cumulative sum for the order index and ``index_add`` per segment —
    no Python loop over samples. Returns 0 (still attached to the graph) when nothing is supervised.
    """
    import torch

    _check_args(token_loss, valid, cu_seqlens, order_over, tau_order)
    if token_loss.dtype in (torch.float16, torch.bfloat16):  # weights and sums in float32
        token_loss = token_loss.float()
    total = token_loss.numel()
    cu = cu_seqlens.to(device=token_loss.device)
    n_seg = cu.numel() - 1
    valid = valid.to(device=token_loss.device, dtype=torch.bool)
    seg = segment_ids(cu, total)

    loss = torch.where(valid, token_loss, torch.zeros((), dtype=token_loss.dtype, device=token_loss.device))
    order = token_order(valid, cu, seg, order_over).to(token_loss.dtype)
    w_ord = 1.0 / torch.log(math.e + tau_order * order)
    mag_input = loss.detach() if detach_magnitude else loss
    w_mag = 2.0 * torch.sigmoid(tau_magnitude * mag_input - 0.5)
    w = torch.where(valid, w_ord + w_mag, torch.zeros((), dtype=token_loss.dtype, device=token_loss.device))

    num = torch.zeros(n_seg, dtype=token_loss.dtype, device=token_loss.device).index_add_(0, seg, w * loss)
    den = torch.zeros(n_seg, dtype=token_loss.dtype, device=token_loss.device).index_add_(0, seg, w)
    n_valid = torch.zeros(n_seg, dtype=torch.long, device=token_loss.device).index_add_(
        0, seg, valid.to(torch.long)
    )
    has = n_valid > 0
    n_samples = int(has.sum())
    if n_samples == 0:
        return loss.sum() * 0.0

    loss_token = num.sum() / den.sum()
    per_sample = num[has] / den[has]
    loss_sample = per_sample.sum() / n_samples
    return lambda_token * loss_token + lambda_sample * loss_sample


def next_token_targets(labels, cu_seqlens, ignore_index: int = -100):
    """Targets for next-token prediction in a pack: target[t] = labels[t + 1] inside a segment.

    The shard's labels are aligned with input_ids (not shifted). The last token of each segment
    predicts nothing, so no sample learns to predict the first token of the next one.
    """
    import torch

    total = labels.numel()
    targets = torch.full_like(labels, ignore_index)
    if total > 1:
        targets[:-1] = labels[1:]
    ends = cu_seqlens.to(device=labels.device, dtype=torch.long)[1:] - 1
    targets[ends[ends >= 0]] = ignore_index
    return targets


def global_step_scale(packs_per_step: int, world_size: int = 1) -> float:
    """The factor each pack loss is multiplied by before ``backward`` (see the module docstring).

    ``packs_per_step`` is the global pack count of one optimizer step (dp_size x micro_batch x
    grad_accum from the manifest); ``world_size`` the number of ranks whose gradients DDP averages.
    """
    if packs_per_step < 1:
        raise ValueError(f"packs_per_step: {packs_per_step} must be >= 1")
    if world_size < 1 or packs_per_step % world_size:
        raise ValueError(
            f"world_size: {world_size} must be >= 1 and divide packs_per_step ({packs_per_step}), "
            "so every rank holds the same number of packs per step"
        )
    return world_size / packs_per_step
