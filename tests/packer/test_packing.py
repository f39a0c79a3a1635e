"""plan_packs: capacities, accounting, determinism, quality against the lower bound, split mode."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from packer.packing import (
    lower_bound,
    pack_costs,
    plan_packs,
    sample_costs,
    shape_report,
)
from schemas.pack_config import PackConfig

SMALL = PackConfig(context_length=1024, max_vit_patches=2048, max_images_per_pack=6, buckets=(256, 512))


def check_plan(plan, t, p, m, cfg: PackConfig) -> None:
    t, p, m = (np.asarray(a, np.int64) for a in (t, p, m))
    over = (t > cfg.context_length) | (p > cfg.max_vit_patches) | (m > cfg.max_images_per_pack)
    # every sample is in exactly one pack, or too_long (or split into pieces)
    np.testing.assert_array_equal(plan.too_long, over & ~plan.split)
    assert ((plan.pack_of >= 0) ^ plan.too_long ^ plan.split).all()
    assert (plan.pack_of < plan.n_packs).all()
    # per-pack totals match the samples (and pieces) in them; nothing overfills
    whole = plan.pack_of >= 0
    for name, v in (("tokens", t), ("patches", p), ("images", m)):
        tot = np.bincount(plan.pack_of[whole], weights=v[whole], minlength=plan.n_packs)
        if name == "tokens" and plan.piece_pack.size:
            tot += np.bincount(plan.piece_pack, weights=plan.piece_tokens, minlength=plan.n_packs)
        np.testing.assert_array_equal(tot.astype(np.int64), getattr(plan, f"pack_{name}"))
    assert (plan.pack_tokens <= cfg.context_length).all()
    assert (plan.pack_patches <= cfg.max_vit_patches).all()
    assert (plan.pack_images <= cfg.max_images_per_pack).all()
    assert (plan.pack_samples >= 1).all()
    counts = np.bincount(plan.pack_of[whole], minlength=plan.n_packs)
    if plan.piece_pack.size:
        counts += np.bincount(plan.piece_pack, minlength=plan.n_packs)
    np.testing.assert_array_equal(counts, plan.pack_samples)
    # positions are 0..k-1 inside each pack, in sample order
    pos = np.concatenate((plan.position[whole], plan.piece_position))
    packs = np.concatenate((plan.pack_of[whole], plan.piece_pack))
    for b in range(plan.n_packs):
        assert sorted(pos[packs == b].tolist()) == list(range(plan.pack_samples[b]))
    assert (plan.position[~whole] == -1).all()
    # shapes: the smallest allowed bucket that holds the pack
    lb = np.asarray(cfg.llm_buckets)
    for tok, seq in zip(plan.pack_tokens.tolist(), plan.seq_len.tolist()):
        assert seq == min(b for b in lb if b >= tok)
    if cfg.vit_buckets:
        for pat, vb in zip(plan.pack_patches.tolist(), plan.vit_bucket.tolist()):
            assert vb == min(b for b in cfg.vit_buckets if b >= pat)
    else:
        np.testing.assert_array_equal(plan.vit_bucket, plan.pack_patches)
    assert plan.n_packs >= plan.lower_bound


def same_plan(a, b) -> bool:
    return all(
        np.array_equal(getattr(a, f), getattr(b, f))
        for f in ("pack_of", "too_long", "position", "pack_tokens", "pack_patches", "attn_cost", "vit_cost")
    ) and a.n_packs == b.n_packs


samples = st.integers(1, 300).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(1, 1200), min_size=n, max_size=n),
        st.lists(st.sampled_from([0, 0, 0, 16, 64, 256, 900, 1600, 2100]), min_size=n, max_size=n),
        st.lists(st.integers(0, 7), min_size=n, max_size=n),
    )
)


@settings(max_examples=150, deadline=None)
@given(samples, st.sampled_from([SMALL, SMALL.model_copy(update={"patch_buckets": (512, 1024)})]))
def test_plan_never_overfills_and_accounts_for_every_sample(data, cfg):
    t, p, m = data
    m = [0 if pp == 0 else mm for pp, mm in zip(p, m)]  # no images without patches...
    m = [max(1, mm) if pp else mm for pp, mm in zip(p, m)]  # ...and patches come with an image
    plan = plan_packs(t, p, m, cfg)
    check_plan(plan, t, p, m, cfg)
    assert same_plan(plan, plan_packs(t, p, m, cfg))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(1, 1024), min_size=1, max_size=400),
    st.lists(st.integers(0, 3000), min_size=400, max_size=400),
    st.lists(st.integers(0, 9), min_size=400, max_size=400),
)
def test_any_integer_input_is_valid(t, p, m):
    """Images without patches, patches without images, samples over every limit."""
    n = len(t)
    plan = plan_packs(t, p[:n], m[:n], SMALL)
    check_plan(plan, t, p[:n], m[:n], SMALL)


def test_too_long_is_marked_not_truncated():
    t = [100, 1025, 50, 1024, 10]
    p = [0, 0, 2049, 0, 0]
    m = [0, 0, 1, 0, 7]
    plan = plan_packs(t, p, m, SMALL)
    assert plan.too_long.tolist() == [False, True, True, False, True]
    assert plan.pack_of[[1, 2, 4]].tolist() == [-1, -1, -1]
    check_plan(plan, t, p, m, SMALL)


def lognormal(n: int, seed: int, image_fraction: float):
    rng = np.random.default_rng(seed)
    t = np.clip(np.round(rng.lognormal(np.log(1500) - 0.5, 1.0, n)), 1, 24576).astype(np.int64)
    has = rng.random(n) < image_fraction
    m = np.where(has, rng.integers(1, 3, n), 0)
    vision = np.minimum(m * rng.integers(4, 1200, n), t)
    return t, np.where(has, 4 * vision, 0), m


@pytest.mark.parametrize("image_fraction", [0.0, 0.3, 0.9])
def test_near_the_lower_bound(image_fraction):
    cfg = PackConfig()
    t, p, m = lognormal(20_000, seed=3, image_fraction=image_fraction)
    plan = plan_packs(t, p, m, cfg)
    check_plan(plan, t, p, m, cfg) if image_fraction == 0.3 else None
    lb = lower_bound(t, p, cfg)
    assert lb <= plan.n_packs <= lb * 1.001 + 1


def test_media_bound_data_is_packed_by_media():
    """Caption-like samples whose vision tokens dominate: patches bind, not tokens."""
    cfg = PackConfig()
    rng = np.random.default_rng(5)
    t = np.clip(np.round(rng.lognormal(np.log(1000), 0.8, 5000)), 8, 18000).astype(np.int64)
    p = (np.floor(t * rng.uniform(0.9, 0.98, t.shape[0])) * 4).astype(np.int64)
    m = np.ones_like(t)
    plan = plan_packs(t, p, m, cfg)
    check_plan(plan, t, p, m, cfg)
    lb = lower_bound(t, p, cfg)
    assert lb == -(-int(p.sum()) // cfg.max_vit_patches)
    assert plan.n_packs <= lb * 1.04 + 1


def test_ties_are_broken_by_index():
    t = [600, 600, 600, 400, 400]
    plan = plan_packs(t, [0] * 5, [0] * 5, SMALL)
    # sizes 600 cannot share; each 400 joins the first pack with room, in index order
    assert plan.pack_of.tolist() == [0, 1, 2, 0, 1]
    assert plan.position.tolist() == [0, 0, 0, 1, 1]


def test_empty_input():
    plan = plan_packs([], [], [], SMALL)
    assert plan.n_packs == 0 and plan.pack_of.shape == (0,)
    assert shape_report(plan).shapes == ()


@pytest.mark.parametrize(
    "args, field",
    [
        (([0, 5], [0, 0], [0, 0]), "tokens"),
        (([5, 5], [0, -1], [0, 0]), "patches"),
        (([5, 5], [0, 0], [0]), "images"),
        (([5.5], [0], [0]), "tokens"),
    ],
)
def test_bad_arrays_name_the_field(args, field):
    with pytest.raises(ValueError, match=field):
        plan_packs(*args, SMALL)


def test_costs_follow_the_compute_model():
    cfg = PackConfig()
    t = np.array([1000, 3000, 200])
    p = np.array([0, 4096, 400])
    m = np.array([0, 2, 1])
    plan = plan_packs(t, p, m, cfg)
    assert plan.n_packs == 1
    assert plan.attn_cost[0] == 1000**2 + 3000**2 + 200**2
    full, window = cfg.vit_full_attention_layers, cfg.vit_layers - cfg.vit_full_attention_layers
    vit = 0.0
    for n_patches, n_images in ((4096, 2), (400, 1)):
        sq = n_images * (n_patches / n_images) ** 2
        vit += cfg.vit_layers * cfg.vit_patch_cost * n_patches
        vit += full * cfg.vit_attention_cost * sq + window * cfg.vit_attention_cost * cfg.vit_window_patches * n_patches
    assert plan.vit_cost[0] == pytest.approx(vit)
    llm = cfg.llm_token_cost * t.sum() + cfg.llm_attention_cost * (t**2).sum()
    assert plan.cost[0] == pytest.approx(llm + vit)
    # exact per-image patch squares change only the ViT attention term
    exact = pack_costs(t, p, m, plan.pack_of, 1, cfg, patches_sq=[0, 4000**2 + 96**2, 400**2])
    assert exact.vit_cost[0] > plan.vit_cost[0]
    assert sample_costs(t, p, m, cfg).attn_cost.tolist() == [1e6, 9e6, 4e4]


def test_full_attention_is_quadratic_window_is_linear():
    cfg = PackConfig(vit_patch_cost=0.0)
    one_big = sample_costs([10], [8192], [1], cfg).vit_cost[0]
    two_half = sample_costs([10], [8192], [2], cfg).vit_cost[0]
    window_only = sample_costs([10], [8192], [1], cfg.model_copy(update={"vit_full_attention_layers": 0})).vit_cost[0]
    assert one_big > two_half
    assert window_only == pytest.approx(
        sample_costs([10], [8192], [2], cfg.model_copy(update={"vit_full_attention_layers": 0})).vit_cost[0]
    )


def test_shape_report_counts_shapes_and_padding():
    cfg = SMALL.model_copy(update={"patch_buckets": (1024,)})
    t = [1000, 300, 200, 100]
    p = [0, 800, 0, 0]
    m = [0, 1, 0, 0]
    plan = plan_packs(t, p, m, cfg)
    rep = shape_report(plan)
    assert sum(c for _, _, c in rep.shapes) == plan.n_packs
    assert rep.real_tokens == 1600
    assert rep.padded_tokens == int(plan.seq_len.sum())
    assert 0 <= rep.token_waste < 1 and 0 <= rep.patch_waste < 1
    assert {(a, b) for a, b, _ in rep.shapes} == set(zip(plan.seq_len.tolist(), plan.vit_bucket.tolist()))
    d = rep.as_dict()
    assert d["n_shapes"] == len(rep.shapes)


def test_lower_bound():
    cfg = SMALL
    assert lower_bound([1024, 1, 2000], [0, 0, 0], cfg) == 2  # the 2000 is too long, not counted
    assert lower_bound([10, 10], [2048, 1], cfg) == 2
    assert lower_bound([10] * 7, [1] * 7, cfg, images=[1] * 7) == 2


def test_split_text_only_cuts_at_turn_boundaries():
    cfg = SMALL.model_copy(update={"split_text_only": True})
    turns = [[300, 500, 400, 200], [100], [600, 1100], [50, 60]]
    t = [sum(x) for x in turns]  # 1400 (split), 100, 1700 (one turn too long), 110
    p = [0, 0, 0, 0]
    m = [0, 0, 0, 0]
    offsets = np.concatenate(([0], np.cumsum([len(x) for x in turns])))
    flat = [x for turn in turns for x in turn]
    plan = plan_packs(t, p, m, cfg, turn_offsets=offsets, turn_tokens=flat)
    assert plan.split.tolist() == [True, False, False, False]
    assert plan.too_long.tolist() == [False, False, True, False]
    assert plan.piece_sample.tolist() == [0, 0]
    assert list(zip(plan.piece_turn_start.tolist(), plan.piece_turn_stop.tolist())) == [(0, 2), (2, 4)]
    assert plan.piece_tokens.tolist() == [800, 600]
    check_plan(plan, t, p, m, cfg)
    # without the opt-in, the same sample is too_long
    plain = plan_packs(t, p, m, SMALL, turn_offsets=offsets, turn_tokens=flat)
    assert plain.too_long.tolist() == [True, False, True, False]
    with pytest.raises(ValueError, match="turn_tokens"):
        plan_packs(t, p, m, cfg, turn_offsets=offsets, turn_tokens=[x + 1 for x in flat])


def test_config_checks_name_the_field():
    with pytest.raises(ValidationError, match="patch_buckets"):
        PackConfig(max_vit_patches=1024, patch_buckets=(2048,))
    with pytest.raises(ValidationError, match="patch_buckets"):
        PackConfig(patch_buckets=(130,))
    with pytest.raises(ValidationError, match="vit_full_attention_layers"):
        PackConfig(vit_layers=4, vit_full_attention_layers=5)
    assert PackConfig(patch_buckets=(1024,)).vit_buckets == (1024, PackConfig().max_vit_patches)
