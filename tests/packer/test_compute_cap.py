"""The compute cap (`packer.compute_cap`): attention and ViT compute packed as virtual ViT patches
against a cap near the mean pack's, so that at one pack per rank per step no pack is far over the
others, while the real limits (tokens, patches, images) all hold."""

from __future__ import annotations

import numpy as np
import pytest
from test_steps import _bimodal, check_steps

from packer.compute_cap import AUTO_MIN_DP, capped_patches, caps_compute, patch_cost
from packer.packing import lower_bound, plan_packs, sample_costs
from packer.steps import assemble_steps, step_balance
from schemas.pack_config import PackConfig


@pytest.fixture(scope="module")
def bimodal():
    return _bimodal(60_000, seed=5)


@pytest.fixture(scope="module")
def plans(bimodal):
    t, p, m, labels = bimodal
    cfg = PackConfig(dp_size=64)
    return {cap: plan_packs(t, p, m, cfg.model_copy(update={"compute_cap": cap}), labels=labels)
            for cap in ("on", "off")}


def _excess(plan, t, p, m, cfg) -> np.ndarray:
    """Per pack: its compute beyond the linear LLM part, on the real samples."""
    e = sample_costs(t, p, m, cfg).cost - cfg.llm_token_cost * t
    ok = plan.pack_of >= 0
    return np.bincount(plan.pack_of[ok], weights=e[ok], minlength=plan.n_packs)


def test_auto_turns_the_cap_on_where_it_was_measured_to_pay():
    assert caps_compute(PackConfig(dp_size=AUTO_MIN_DP), True)
    assert caps_compute(PackConfig(dp_size=64), True)
    assert not caps_compute(PackConfig(dp_size=AUTO_MIN_DP - 1), True)  # the default dp 8
    assert not caps_compute(PackConfig(dp_size=64), False)  # text only: nothing to cap
    assert not caps_compute(PackConfig(dp_size=64, balance="cost"), True)
    assert not caps_compute(PackConfig(dp_size=64, grad_accum=2), True)  # light partners instead
    assert not caps_compute(PackConfig(dp_size=64, vit_phase="separate"), True)
    assert not caps_compute(PackConfig(dp_size=64, compute_cap="off"), True)
    assert caps_compute(PackConfig(dp_size=2, grad_accum=4, compute_cap="on"), True)
    assert not caps_compute(PackConfig(compute_cap="on", vit_layers=0, vit_full_attention_layers=0), True)


def test_capped_plan_keeps_every_real_limit_and_packs_every_sample(bimodal, plans):
    t, p, m, _ = bimodal
    cfg = PackConfig(dp_size=64)
    for plan in plans.values():
        assert (plan.pack_of >= 0).all()
        assert plan.pack_tokens.max() <= cfg.context_length
        assert plan.pack_patches.max() <= cfg.max_vit_patches
        assert plan.pack_images.max() <= cfg.max_images_per_pack
        assert np.array_equal(np.bincount(plan.pack_of, weights=t, minlength=plan.n_packs), plan.pack_tokens)
    on, off = plans["on"], plans["off"]
    assert on.n_packs <= off.n_packs * 1.01 + 1


def test_cap_cuts_the_heavy_tail_of_packs_not_holding_a_long_document(bimodal, plans):
    """Packs whose compute comes from many samples stay near the cap; only a pack holding one
    sample over the cap alone (a document of 18k tokens or more) may be over it, by its fillers'
    attention."""
    t, p, m, _ = bimodal
    cfg = PackConfig(dp_size=64)
    e = sample_costs(t, p, m, cfg).cost - cfg.llm_token_cost * t
    cap = capped_patches(t, p, e, lower_bound(t, p, cfg, images=m), cfg)
    limit = cap.limit * patch_cost(cfg)
    for name, plan in plans.items():
        ex = _excess(plan, t, p, m, cfg)
        biggest = np.zeros(plan.n_packs)
        np.maximum.at(biggest, plan.pack_of, e)
        mixed = biggest <= limit
        over = (ex[mixed] > 1.02 * limit).mean()
        if name == "on":
            assert over <= 0.002, over
        else:
            assert over >= 0.01, over  # what the cap removes
    assert plans["on"].cost.std() < plans["off"].cost.std()


def test_cap_brings_the_mix_steps_nearer_their_mean_at_dp_64(plans):
    cfg = PackConfig(dp_size=64)
    ratio = {}
    for name, plan in plans.items():
        sp = assemble_steps(plan, cfg.model_copy(update={"compute_cap": name}), 0)
        check_steps(sp, plan, cfg)
        ratio[name] = float(step_balance(sp.step, sp.rank, sp.cost, 64).mean())
    assert ratio["on"] < ratio["off"] - 0.005, ratio


def test_an_item_over_the_cap_leaves_its_room_to_short_texts():
    """A document far over the cap keeps one virtual patch per token of the room it leaves: short
    texts fill its pack, so the cap adds no pack here."""
    C = 8192
    rng = np.random.default_rng(2)
    short = rng.integers(20, 120, 3000)
    images = rng.integers(50, 150, 300)
    t = np.concatenate((np.full(5, 7800), short, images)).astype(np.int64)
    p = np.concatenate((np.zeros(3005, np.int64), 4 * images)).astype(np.int64)
    m = np.concatenate((np.zeros(3005, np.int64), np.ones(300, np.int64)))
    cfg = PackConfig(context_length=C, max_vit_patches=8192, dp_size=64, remainder="pad")
    e = sample_costs(t, p, m, cfg).cost - t
    cap = capped_patches(t, p, e, lower_bound(t, p, cfg, images=m), cfg)
    # over the cap, and near a full document's compute: room for texts, fewer patches than an image item's
    room = min(C - 7800, int(cap.patches[3005:].min()) - 1)
    assert cap is not None and (cap.patches[:5] == cap.limit - room).all()
    assert (cap.patches >= p).all() and cap.patches.max() <= cap.limit <= cfg.max_vit_patches
    on = plan_packs(t, p, m, cfg.model_copy(update={"compute_cap": "on"}))
    off = plan_packs(t, p, m, cfg.model_copy(update={"compute_cap": "off"}))
    assert on.n_packs <= off.n_packs + 1
    # fillers joined: the documents' packs hold at least half the room they left (none without the rule)
    assert on.pack_tokens[on.pack_of[:5]].sum() >= 5 * 7800 + 0.5 * 5 * (C - 7800)


def test_a_document_near_the_costliest_takes_no_image_but_one_far_from_it_does():
    """An image in a document's pack runs the ViT on the pack's padded patch bucket: a text over the
    cap whose compute is within a mean pack's patches of the costliest item's keeps room for texts
    only (no pack ends over a full-context document's cost), one far below it for images too."""
    C = 24576
    rng = np.random.default_rng(4)
    vis = rng.integers(64, 400, 20_000)
    t = np.concatenate((np.full(40, C), np.full(40, C - 700), np.full(40, 18000), rng.integers(150, 600, 20_000) + vis))
    p = np.concatenate((np.zeros(120, np.int64), 4 * vis)).astype(np.int64)
    m = np.concatenate((np.zeros(120, np.int64), np.ones(20_000, np.int64)))
    cfg = PackConfig(context_length=C, dp_size=64, remainder="pad", compute_cap="on")
    e = sample_costs(t, p, m, cfg).cost - cfg.llm_token_cost * t
    cap = capped_patches(t, p, e, lower_bound(t, p, cfg, images=m), cfg)
    assert cap is not None and (cap.patches[:120] > cap.limit - C).all()  # all three over the cap
    smallest_image = int(cap.patches[120:].min())
    assert (cap.limit - cap.patches[40:80] < smallest_image).all()  # near the top: texts only
    assert (cap.limit - cap.patches[80:120] == C - 18000).all()  # far from it: any filler
    plan = plan_packs(t, p, m, cfg)
    assert (plan.pack_images[plan.pack_of[40:80]] == 0).all()
    assert plan.pack_images[plan.pack_of[80:120]].sum() > 0
    assert plan.cost.max() <= plan.cost[plan.pack_of[:40]].max() * (1 + 1e-9)


def test_no_cap_where_it_would_be_over_the_patch_limit():
    """Where the mean pack's compute is already near max_vit_patches' worth, a cap could not also
    stand for the real patch limit: the plan packs without one."""
    t = np.full(100, 2000, np.int64)
    p = np.full(100, 7000, np.int64)
    m = np.ones(100, np.int64)
    cfg = PackConfig(context_length=4096, max_vit_patches=8192, dp_size=64)
    e = sample_costs(t, p, m, cfg).cost - t
    assert capped_patches(t, p, e, lower_bound(t, p, cfg, images=m), cfg) is None
    on = plan_packs(t, p, m, cfg.model_copy(update={"compute_cap": "on"}))
    off = plan_packs(t, p, m, cfg.model_copy(update={"compute_cap": "off"}))
    assert np.array_equal(on.pack_of, off.pack_of)


def test_capped_plan_is_deterministic(bimodal):
    t, p, m, labels = bimodal
    cfg = PackConfig(dp_size=64, compute_cap="on")
    a = plan_packs(t[:20_000], p[:20_000], m[:20_000], cfg, labels=labels[:20_000])
    b = plan_packs(t[:20_000], p[:20_000], m[:20_000], cfg, labels=labels[:20_000])
    assert np.array_equal(a.pack_of, b.pack_of) and np.array_equal(a.cost, b.cost)
