"""The pieces of the balanced loss on their own: next-token targets, segment ids and order index,
the step scale, the lambda weights, and the exact error messages."""

from __future__ import annotations

import math

import pytest
import torch

from trainer_bridge.loss import balanced_loss, global_step_scale, next_token_targets, segment_ids, token_order


def test_next_token_targets_stop_at_every_sample_end():
    labels = torch.tensor([1, 2, 3, 4, 5, -100])
    cu = torch.tensor([0, 3, 5, 6], dtype=torch.int32)
    assert next_token_targets(labels, cu).tolist() == [2, 3, -100, 5, -100, -100]
    assert next_token_targets(labels, cu, ignore_index=-1).tolist() == [2, 3, -1, 5, -1, -1]
    assert next_token_targets(torch.tensor([7]), torch.tensor([0, 1])).tolist() == [-100]
    # an empty segment (two equal boundaries) changes nothing
    assert next_token_targets(labels, torch.tensor([0, 3, 3, 5, 6])).tolist() == [2, 3, -100, 5, -100, -100]


def test_segment_ids_and_order_index():
    cu = torch.tensor([0, 0, 3, 3, 5])
    seg = segment_ids(cu, 5)
    assert seg.tolist() == [1, 1, 1, 3, 3]
    valid = torch.tensor([False, True, True, False, True])
    assert token_order(valid, cu, seg, "tokens").tolist() == [0, 1, 2, 0, 1]
    assert token_order(valid, cu, seg, "labels").tolist() == [0, 0, 1, 0, 0]


def test_step_scale():
    assert global_step_scale(8) == 1 / 8
    assert global_step_scale(8, 2) == 0.25 and global_step_scale(1, 1) == 1.0


def test_lambdas_weigh_the_token_and_the_sample_means():
    loss = torch.tensor([1.0, 3.0, 2.0])
    valid = torch.ones(3, dtype=torch.bool)
    cu = torch.tensor([0, 1, 3])
    token = balanced_loss(loss, valid, cu, lambda_sample=0.0)
    sample = balanced_loss(loss, valid, cu, lambda_token=0.0)
    both = balanced_loss(loss, valid, cu, lambda_token=2.0, lambda_sample=3.0)
    assert math.isclose(float(both), 2 * float(token) + 3 * float(sample), rel_tol=1e-6)
    # one token per sample with equal weights: both means are the plain mean
    one = balanced_loss(torch.tensor([1.0, 3.0]), torch.ones(2, dtype=torch.bool), torch.tensor([0, 1, 2]),
                        lambda_sample=0.0, tau_magnitude=0.0)
    assert math.isclose(float(one), 2.0, rel_tol=1e-6)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_is_summed_in_float32(dtype):
    out = balanced_loss(torch.tensor([1.0, 2.0], dtype=dtype), torch.ones(2, dtype=torch.bool), torch.tensor([0, 2]))
    assert out.dtype == torch.float32


@pytest.mark.parametrize(("call", "message"), [
    (lambda: balanced_loss(torch.zeros(2, 2), torch.ones(2, 2, dtype=torch.bool), torch.tensor([0, 4])),
     "token_loss: expected a 1-D tensor over the pack's T tokens, got shape (2, 2)"),
    (lambda: balanced_loss(torch.zeros(4), torch.ones(3, dtype=torch.bool), torch.tensor([0, 4])),
     "valid: shape (3,) must equal token_loss's shape (4,)"),
    (lambda: balanced_loss(torch.zeros(4), torch.ones(4, dtype=torch.bool), torch.tensor([4])),
     "cu_seqlens: expected 1-D [n_segments + 1] boundaries, got shape (1,)"),
    (lambda: balanced_loss(torch.zeros(4), torch.ones(4, dtype=torch.bool), torch.tensor([[0, 4]])),
     "cu_seqlens: expected 1-D [n_segments + 1] boundaries, got shape (1, 2)"),
    (lambda: balanced_loss(torch.zeros(4), torch.ones(4, dtype=torch.bool), torch.tensor([0, 4]), order_over="pos"),
     "order_over: 'pos' is not allowed; use one of ('labels', 'tokens')"),
    (lambda: balanced_loss(torch.zeros(4), torch.ones(4, dtype=torch.bool), torch.tensor([0, 4]), tau_order=-0.5),
     "tau_order: -0.5 must be >= 0"),
    (lambda: balanced_loss(torch.zeros(4), torch.ones(4, dtype=torch.bool), torch.tensor([1, 4])),
     "cu_seqlens: must start at 0 and end at the token count 4, got 1 .. 4"),
    (lambda: balanced_loss(torch.zeros(4), torch.ones(4, dtype=torch.bool), torch.tensor([0, 3])),
     "cu_seqlens: must start at 0 and end at the token count 4, got 0 .. 3"),
    (lambda: global_step_scale(0), "packs_per_step: 0 must be >= 1"),
    (lambda: global_step_scale(8, 0), "world_size: 0 must be >= 1 and divide packs_per_step (8), so every rank "
                                      "holds the same number of packs per step"),
    (lambda: global_step_scale(8, 3), "world_size: 3 must be >= 1 and divide packs_per_step (8), so every rank "
                                      "holds the same number of packs per step"),
])
def test_error_messages(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert str(info.value) == message


def test_next_token_targets_of_two_tokens_and_of_a_one_token_first_sample():
    assert next_token_targets(torch.tensor([5, 6]), torch.tensor([0, 2])).tolist() == [6, -100]
    # a first sample of one token predicts nothing (its end is token 0), not the next sample's first token
    assert next_token_targets(torch.tensor([1, 2, 3]), torch.tensor([0, 1, 3])).tolist() == [-100, 3, -100]


def test_segment_ids_message_names_the_last_boundary():
    with pytest.raises(ValueError, match=r"got 0 \.\. 3$"):
        segment_ids(torch.tensor([0, 2, 3]), 4)


def test_tau_order_zero_weighs_every_position_alike():
    """tau_order = 0 is allowed (the bound is >= 0): every order weight is 1 / ln(e) = 1, so the loss
    does not depend on which token of its sample a loss sits at."""
    cu = torch.tensor([0, 4])
    valid = torch.ones(4, dtype=torch.bool)
    a = balanced_loss(torch.tensor([1.0, 2.0, 3.0, 4.0]), valid, cu, tau_order=0)
    b = balanced_loss(torch.tensor([4.0, 3.0, 2.0, 1.0]), valid, cu, tau_order=0)
    assert torch.isfinite(a) and float(a) == pytest.approx(float(b), rel=1e-6)
    c = balanced_loss(torch.tensor([4.0, 3.0, 2.0, 1.0]), valid, cu, tau_order=0.5)
    assert float(c) != pytest.approx(float(b), rel=1e-6)


def test_magnitude_weights_are_detached_by_default():
    cu = torch.tensor([0, 3, 5])
    valid = torch.ones(5, dtype=torch.bool)
    grads = {}
    for kw in ({}, {"detach_magnitude": True}, {"detach_magnitude": False}):
        x = torch.tensor([0.1, 2.0, 5.0, 0.3, 1.0], requires_grad=True)
        balanced_loss(x, valid, cu, **kw).backward()
        grads[tuple(kw.items())] = x.grad
    assert torch.equal(grads[()], grads[(("detach_magnitude", True),)])
    assert not torch.allclose(grads[()], grads[(("detach_magnitude", False),)])
