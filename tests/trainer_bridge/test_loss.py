"""balanced_loss against a per-sample loop written straight from equation (1) of report §4.4."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from trainer_bridge.loss import balanced_loss, global_step_scale


def naive_balanced_loss(
    token_loss,
    valid,
    cu,
    *,
    lambda_token=1.0,
    lambda_sample=1.0,
    tau_order=0.1,
    tau_magnitude=2.0,
    detach_magnitude=True,
    order_over="labels",
):
    """One sample at a time, one token at a time: the equation as printed."""
    num_all, den_all, per_sample = 0.0, 0.0, []
    for j in range(len(cu) - 1):
        start, end = int(cu[j]), int(cu[j + 1])
        num, den, i_label = 0.0, 0.0, 0
        for t in range(start, end):
            if not bool(valid[t]):
                continue
            i = i_label if order_over == "labels" else t - start
            i_label += 1
            w_ord = 1.0 / math.log(math.e + tau_order * i)
            mag_in = token_loss[t].detach() if detach_magnitude else token_loss[t]
            w = w_ord + 2.0 * torch.sigmoid(tau_magnitude * mag_in - 0.5)
            num = num + w * token_loss[t]
            den = den + w
        if i_label == 0:
            continue  # no supervised token: not one of the J samples
        num_all, den_all = num_all + num, den_all + den
        per_sample.append(num / den)
    return lambda_token * num_all / den_all + lambda_sample * sum(per_sample) / len(per_sample)


def make_pack(lengths, seed, dtype, *, empty_label_samples=(), pad=0):
    g = torch.Generator().manual_seed(seed)
    total = sum(lengths) + pad
    cu = torch.tensor(
        [0, *torch.tensor(lengths).cumsum(0).tolist()] + ([total] if pad else []), dtype=torch.int32
    )
    loss = (torch.rand(total, generator=g, dtype=torch.float64) * 6).to(dtype)
    valid = torch.rand(total, generator=g) < 0.6
    for j in empty_label_samples:
        valid[int(cu[j]) : int(cu[j + 1])] = False
    if pad:
        valid[-pad:] = False
        loss[-pad:] = float("nan")  # whatever sits at unsupervised positions must not leak in
    return loss, valid, cu


@pytest.mark.parametrize("order_over", ["labels", "tokens"])
@pytest.mark.parametrize("detach", [True, False])
def test_matches_naive_float32(order_over, detach):
    loss, valid, cu = make_pack([7, 30, 1, 12, 50], 1, torch.float32, empty_label_samples=(2,), pad=9)
    kw = {"order_over": order_over, "detach_magnitude": detach, "lambda_token": 0.7, "lambda_sample": 1.3}
    ours = balanced_loss(loss, valid, cu, **kw)
    ref = naive_balanced_loss(loss, valid, cu, **kw)
    assert abs(float(ours) - float(ref)) <= 1e-6 * max(1.0, abs(float(ref)))


@pytest.mark.parametrize("order_over", ["labels", "tokens"])
@pytest.mark.parametrize("detach", [True, False])
def test_gradients_match_naive_float64(order_over, detach):
    loss, valid, cu = make_pack([5, 17, 3, 40, 9], 2, torch.float64, empty_label_samples=(0, 2), pad=6)
    kw = {"order_over": order_over, "detach_magnitude": detach, "tau_order": 0.3, "tau_magnitude": 1.5}
    a = loss.clone().requires_grad_(True)
    b = loss.clone().requires_grad_(True)
    balanced_loss(a, valid, cu, **kw).backward()
    naive_balanced_loss(b, valid, cu, **kw).backward()
    ga = torch.nan_to_num(a.grad)
    gb = b.grad if b.grad is not None else torch.zeros_like(ga)
    assert torch.allclose(ga, gb, atol=1e-9, rtol=0)
    assert torch.all(ga[~valid] == 0)


@settings(max_examples=40, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 40), min_size=1, max_size=8),
    pad=st.integers(0, 10),
    seed=st.integers(0, 2**16),
)
def test_matches_naive_random_packs(lengths, pad, seed):
    loss, valid, cu = make_pack(lengths, seed, torch.float64, pad=pad)
    ours = balanced_loss(loss, valid, cu)
    if not bool(valid.any()):
        assert float(ours) == 0.0
        return
    assert abs(float(ours) - float(naive_balanced_loss(loss, valid, cu))) <= 1e-9


def test_labels_order_starts_answer_at_weight_one():
    """An answer after a long image gets w_ord = 1 at its first token with order_over='labels'."""
    n_prompt, n_answer = 2304 + 20, 4
    valid = torch.zeros(n_prompt + n_answer, dtype=torch.bool)
    valid[n_prompt:] = True
    cu = torch.tensor([0, n_prompt + n_answer], dtype=torch.int32)
    loss = torch.zeros(n_prompt + n_answer, dtype=torch.float64)
    loss[n_prompt] = 1.0  # only the first answer token has loss; L = w_0 / sum w
    by_labels = balanced_loss(loss, valid, cu, lambda_sample=0.0)
    by_tokens = balanced_loss(loss, valid, cu, lambda_sample=0.0, order_over="tokens")
    w_mag0, w_mag = (
        2 * torch.sigmoid(torch.tensor(1.5, dtype=torch.float64)),
        2 * torch.sigmoid(torch.tensor(-0.5, dtype=torch.float64)),
    )
    w_ord = [1 / math.log(math.e + 0.1 * i) for i in range(4)]
    expected = (w_ord[0] + w_mag0) / (w_ord[0] + w_mag0 + sum(w_ord[1:]) + 3 * w_mag)
    assert float(by_labels) == pytest.approx(float(expected), abs=1e-12)
    assert 1 / math.log(math.e + 0.1 * n_prompt) < 0.19
    assert float(by_tokens) != pytest.approx(float(by_labels))


def test_without_detach_gradient_raises_easy_token_loss():
    """The documented reason for detach_magnitude=True: an easy token gets a negative gradient."""
    loss = torch.tensor([0.01, 8.0, 8.0, 8.0], dtype=torch.float64)
    valid = torch.ones(4, dtype=torch.bool)
    cu = torch.tensor([0, 4], dtype=torch.int32)
    grads = {}
    for detach in (True, False):
        x = loss.clone().requires_grad_(True)
        balanced_loss(x, valid, cu, detach_magnitude=detach).backward()
        grads[detach] = x.grad
    assert torch.all(grads[True] > 0)
    assert grads[False][0] < 0  # descent would push the easy token's loss up


def test_samples_without_labels_are_not_counted_in_j():
    loss = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64)
    valid = torch.tensor([True, True, False, False])
    with_empty = balanced_loss(loss, valid, torch.tensor([0, 2, 4]), lambda_token=0.0)
    alone = balanced_loss(loss[:2], valid[:2], torch.tensor([0, 2]), lambda_token=0.0)
    assert float(with_empty) == pytest.approx(float(alone), abs=1e-12)


def test_nothing_supervised_is_zero_and_differentiable():
    x = torch.rand(6, dtype=torch.float64, requires_grad=True)
    out = balanced_loss(x, torch.zeros(6, dtype=torch.bool), torch.tensor([0, 3, 6]))
    out.backward()
    out = out.detach()
    assert out.item() == 0.0 and torch.all(x.grad == 0)


def test_bad_arguments_are_named():
    x = torch.rand(4)
    with pytest.raises(ValueError, match="order_over"):
        balanced_loss(x, torch.ones(4, dtype=torch.bool), torch.tensor([0, 4]), order_over="pos")
    with pytest.raises(ValueError, match="cu_seqlens"):
        balanced_loss(x, torch.ones(4, dtype=torch.bool), torch.tensor([0, 3]))
    with pytest.raises(ValueError, match="valid"):
        balanced_loss(x, torch.ones(3, dtype=torch.bool), torch.tensor([0, 4]))
    with pytest.raises(ValueError, match="world_size"):
        global_step_scale(8, 3)


def test_half_precision_losses_are_weighed_in_float32():
    loss, valid, cu = make_pack([30, 40, 20], 4, torch.float32, pad=5)
    full = balanced_loss(loss, valid, cu)
    half = balanced_loss(loss.to(torch.bfloat16), valid, cu)
    assert half.dtype == torch.float32
    assert abs(float(half) - float(full)) < 2e-2
