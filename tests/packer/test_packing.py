"""plan_packs: capacities, accounting, determinism, quality against the lower bound, exact
image limits, merged packs, copies, the proportional remainder, shapes, split mode."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from packer.packing import (
    assign_shapes,
    choose_shape_buckets,
    image_lower_bound,
    lower_bound,
    pack_costs,
    patch_histogram,
    plan_packs,
    sample_costs,
    shape_report,
    token_histogram,
)
from packer.best_fit import big_item_bins, deal_media
from packer.buckets import merge_histograms
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
    # remainder "drop": the packs that will not fill the last step are named
    S = cfg.packs_per_step
    expect = plan.n_packs % S if cfg.remainder == "drop" else 0
    assert plan.remainder_packs.shape == (expect,) and len(set(plan.remainder_packs.tolist())) == expect
    kept = np.setdiff1d(np.arange(plan.n_packs), plan.remainder_packs)
    # shapes: the smallest allowed bucket that holds the pack; no ViT input, no ViT bucket
    lb = np.asarray(cfg.llm_buckets)
    for tok, seq in zip(plan.pack_tokens.tolist(), plan.seq_len.tolist()):
        assert seq == min(b for b in lb if b >= tok)
    assert ((plan.vit_bucket == 0) == (plan.pack_patches == 0)).all()
    assert (plan.vit_bucket >= plan.pack_patches).all()
    if cfg.vit_buckets:
        for pat, vb in zip(plan.pack_patches.tolist(), plan.vit_bucket.tolist()):
            assert vb == (min(b for b in cfg.vit_buckets if b >= pat) if pat else 0)
    elif cfg.patch_buckets == "auto":
        used = set(plan.vit_bucket[kept].tolist()) - {0}
        assert all(b % cfg.patch_granule == 0 or b == cfg.max_vit_patches for b in used)
        assert len(set(zip(plan.seq_len[kept].tolist(), plan.vit_bucket[kept].tolist()))) <= max(
            cfg.max_shapes, len(set(plan.seq_len[kept].tolist())) * 2)
    else:
        np.testing.assert_array_equal(plan.vit_bucket, plan.pack_patches)
    assert plan.n_packs >= plan.lower_bound


def mergeable_pairs(plan, cfg: PackConfig) -> list[tuple[int, int]]:
    """Every pair of packs that a three-limit first fit would put together (brute force)."""
    T, P, M = plan.pack_tokens, plan.pack_patches, plan.pack_images
    return [(a, b) for a, b in itertools.combinations(range(plan.n_packs), 2)
            if T[a] + T[b] <= cfg.context_length and P[a] + P[b] <= cfg.max_vit_patches
            and M[a] + M[b] <= cfg.max_images_per_pack]


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
    assert not mergeable_pairs(plan, cfg)


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
    assert not mergeable_pairs(plan, SMALL)


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
    """Linear terms on the padded shapes (seq_len, vit_bucket), attention on the real samples and
    images. (Before shape buckets were chosen from the data, the linear terms were on the real
    tokens: a pack is computed at its padded shape on Ascend, so that is what it costs.)"""
    cfg = PackConfig()
    t = np.array([1000, 3000, 200])
    p = np.array([0, 4096, 400])
    m = np.array([0, 2, 1])
    plan = plan_packs(t, p, m, cfg)
    assert plan.n_packs == 1
    assert plan.attn_cost[0] == 1000**2 + 3000**2 + 200**2
    assert plan.seq_len[0] == cfg.context_length
    assert plan.vit_bucket[0] == 4608  # 4496 real patches, next multiple of the 512-patch granule
    full, window = cfg.vit_full_attention_layers, cfg.vit_layers - cfg.vit_full_attention_layers
    sq = 2 * (4096 / 2) ** 2 + 400**2
    vit = cfg.vit_layers * cfg.vit_patch_cost * 4608 + full * cfg.vit_attention_cost * sq
    vit += window * cfg.vit_attention_cost * cfg.vit_window_patches * 4608
    assert plan.vit_cost[0] == pytest.approx(vit)
    llm = cfg.llm_token_cost * cfg.context_length + cfg.llm_attention_cost * (t**2).sum()
    assert plan.llm_cost[0] == pytest.approx(llm)
    assert plan.cost[0] == pytest.approx(llm + vit)
    # on the real sizes (no padding), and with exact per-image patch squares
    real = pack_costs(t, p, m, plan.pack_of, 1, cfg)
    assert real.llm_cost[0] == pytest.approx(cfg.llm_token_cost * t.sum() + cfg.llm_attention_cost * (t**2).sum())
    exact = pack_costs(t, p, m, plan.pack_of, 1, cfg, patches_sq=[0, 4000**2 + 96**2, 400**2])
    assert exact.vit_cost[0] > real.vit_cost[0]
    assert sample_costs(t, p, m, cfg).attn_cost.tolist() == [1e6, 9e6, 4e4]
    # without ViT padding the ViT input is the real patch total
    plain = plan_packs(t, p, m, cfg.model_copy(update={"patch_buckets": ()}))
    assert plain.vit_bucket[0] == 4496 and plain.vit_cost[0] < plan.vit_cost[0]


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


# ---- exact image limits (issue 16) ---------------------------------------------------------------


def test_an_exact_fit_on_the_image_limit_is_found():
    """C/M is not an integer here: rounding image needs up and room down used to give 2 packs."""
    cfg = PackConfig(max_images_per_pack=10)
    plan = plan_packs([300, 300, 300, 300, 3000, 200], [100] * 6, [2, 2, 2, 2, 1, 1], cfg)
    assert plan.n_packs == 1 == plan.lower_bound


def test_the_image_limit_does_not_inflate_a_samples_size():
    """A one-image sample joins a pack with free image room but little token room."""
    cfg = PackConfig(context_length=8192, max_vit_patches=8192, max_images_per_pack=4)
    t = [8000, 150]
    plan = plan_packs(t, [0, 100], [0, 1], cfg)
    assert plan.n_packs == 1


def tiny_instances():
    return st.integers(1, 7).flatmap(lambda n: st.tuples(
        st.lists(st.integers(1, 1024), min_size=n, max_size=n),
        st.lists(st.sampled_from([0, 4, 64, 300, 700, 1024, 2048]), min_size=n, max_size=n),
        st.lists(st.integers(0, 4), min_size=n, max_size=n)))


def optimum(t, p, m, C, P, M) -> int:
    """The least number of bins, by brute force over set partitions (n <= 7)."""
    n = len(t)
    best = n

    def rec(i, bins):
        nonlocal best
        if len(bins) >= best:
            return
        if i == n:
            best = len(bins)
            return
        for b in bins:
            if b[0] + t[i] <= C and b[1] + p[i] <= P and b[2] + m[i] <= M:
                b[0] += t[i]
                b[1] += p[i]
                b[2] += m[i]
                rec(i + 1, bins)
                b[0] -= t[i]
                b[1] -= p[i]
                b[2] -= m[i]
        bins.append([t[i], p[i], m[i]])
        rec(i + 1, bins)
        bins.pop()

    rec(0, [])
    return best


@settings(max_examples=300, deadline=None)
@given(tiny_instances(), st.sampled_from([3, 4, 5, 7]))
# found by random runs (5 packs, optimum 3): items over half a bin in different limits (tokens;
# patches; images) each opened a bin of their own in the deal (`deal_media`), where they fit
# together; patches bind in the first (the deal by patches), tokens in the second
@example(([25, 325, 1000, 350, 1, 1, 674], [700, 4, 300, 700, 1024, 2048, 0], [0, 0, 0, 2, 0, 0, 0]), 3)
@example(([673, 360, 516, 49, 316, 365, 388], [700, 4, 0, 0, 64, 1024, 2048], [0, 0, 4, 3, 4, 4, 1]), 7)
# putting them together takes the token room a one-token sample of many patches needed (5 packs)
@example(([1, 862, 163, 163, 1, 1, 861], [700, 700, 0, 700, 1024, 2048, 0], [0, 0, 2, 0, 0, 0, 0]), 3)
# both plans where patches bind leave 5 bins; the deal's merge to 4, levelled best fit's do not
@example(([2, 1023, 350, 325, 1, 1, 674], [700, 300, 0, 700, 1024, 2048, 0], [0, 0, 2, 0, 0, 0, 0]), 3)
# images bind: best fit levelling images left 5 bins (optimum 3); the deal by patches, now tried
# there too, finds 3
@example(([673, 360, 516, 49, 316, 365, 388], [700, 4, 0, 0, 64, 1024, 2048], [3, 0, 4, 3, 4, 4, 1]), 7)
def test_against_an_exact_packer_on_small_instances(data, M):
    """No pack is left that a three-limit first fit would merge, and on instances small enough
    for brute force the plan is within one pack of the optimum."""
    t, p, m = data
    cfg = PackConfig(context_length=1024, max_vit_patches=2048, max_images_per_pack=M, dp_size=1)
    plan = plan_packs(t, p, m, cfg)
    check_plan(plan, t, p, m, cfg)
    assert not mergeable_pairs(plan, cfg)
    ok = [i for i in range(len(t)) if not plan.too_long[i]]
    opt = optimum([t[i] for i in ok], [p[i] for i in ok], [m[i] for i in ok], 1024, 2048, M)
    assert plan.n_packs <= opt + 1


def test_items_over_half_a_bin_in_different_limits_share_a_bin_in_the_deal():
    """A long text, a sample over half the patches and one over half the images fit in one bin:
    the deal opened one bin each, more than the lower bound. While such items are no more than
    the bound, each still opens its own (the plan is as it was)."""
    C, P, M = 1024, 2048, 3
    t = np.array([900, 60, 60, 2, 2], np.int64)  # 1,024 tokens: one bin
    p = np.array([0, 1500, 100, 10, 10], np.int64)
    m = np.array([0, 1, 2, 0, 0], np.int64)
    out, R, Q, Im = deal_media(t, p, m, C, P, M, None)
    assert out.tolist() == [0] * 5 and (R, Q, Im) == ([0], [428], [0])
    # four bins' worth of text besides: five bins are opened anyway, one per item over half a bin
    t5 = np.concatenate((t, [400] * 10))
    p5, m5 = np.concatenate((p, [0] * 10)), np.concatenate((m, [0] * 10))
    out5, R5, _, _ = deal_media(t5, p5, m5, C, P, M, None)
    assert out5[:3].tolist() == [0, 1, 2] and len(R5) == 5
    assert big_item_bins(t[:3], p[:3], m[:3], C, P, M, bound=3).tolist() == [0, 1, 2]
    assert big_item_bins(t[:3], p[:3], m[:3], C, P, M, bound=1).tolist() == [0, 0, 0]


@pytest.mark.parametrize("M", [7, 10, 16, 64, 256])
def test_near_the_lower_bound_under_image_limits(M):
    cfg = PackConfig(max_images_per_pack=M)
    t, p, m = lognormal(20_000, seed=11, image_fraction=0.3)
    plan = plan_packs(t, p, m, cfg)
    check_plan(plan, t, p, m, cfg)
    lb = lower_bound(t, p, cfg, images=m)
    if M > 7:
        assert plan.n_packs <= lb * 1.001 + 1
    else:
        # images bind: texts too long for any image sample beside them need packs of their own
        # (image_lower_bound counts them), and a pack holding a long text has token room for only
        # a few short image samples: a few packs short of 7 images are hard to avoid
        refined = image_lower_bound(t, p, m, cfg)
        assert lb <= refined <= plan.n_packs <= refined * 1.001 + 3


# ---- copies and the remainder -------------------------------------------------------------------


def test_copies_of_a_sample_go_to_different_packs():
    rng = np.random.default_rng(4)
    base = np.clip(np.round(rng.lognormal(np.log(60), 0.6, 400)), 1, 1024).astype(np.int64)
    copies = rng.integers(1, 4, base.shape[0])  # 1 to 3 copies of each sample
    t = np.repeat(base, copies)
    group = np.repeat(np.arange(base.shape[0]), copies)
    zeros = np.zeros_like(t)
    plan = plan_packs(t, zeros, zeros, SMALL, copy_group=group)
    check_plan(plan, t, zeros, zeros, SMALL)
    pairs = {(int(g), int(b)) for g, b in zip(group, plan.pack_of)}
    assert len(pairs) == t.shape[0]  # no two copies of one sample share a pack
    assert plan.copies_sharing_pack == 0
    # without copy groups best fit puts equal sizes side by side
    plain = plan_packs(t, zeros, zeros, SMALL)
    assert len({(int(g), int(b)) for g, b in zip(group, plain.pack_of)}) < t.shape[0]


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 16))
@example(2941, 16)  # found by a random run: one-for-one trades found no partner, single moves settle it
def test_the_remainder_follows_the_label_mix(seed, dp):
    """The samples of the left-out packs are each label's share of them, within one sample."""
    rng = np.random.default_rng(seed)
    n = 3000
    label = rng.choice(3, n, p=[0.6, 0.3, 0.1])
    # labels differ in length, so the least-filled packs would hold mostly one of them
    t = np.where(label == 2, rng.integers(20, 60, n), rng.integers(100, 900, n)).astype(np.int64)
    zeros = np.zeros(n, np.int64)
    cfg = SMALL.model_copy(update={"dp_size": dp})
    plan = plan_packs(t, zeros, zeros, cfg, labels=label)
    check_plan(plan, t, zeros, zeros, cfg)
    out = np.isin(plan.pack_of, plan.remainder_packs)
    share = np.bincount(label, minlength=3) / n
    dev = np.abs(np.bincount(label[out], minlength=3) - share * out.sum())
    assert (dev < 1.0 + 1e-9).all(), (dev, out.sum())


def test_the_remainder_follows_two_label_kinds_at_once():
    rng = np.random.default_rng(2)
    n = 4000
    source = rng.choice(4, n)
    task = (source + rng.choice(2, n)) % 3
    t = (rng.integers(30, 700, n) * (1 + (source == 0))).astype(np.int64)
    zeros = np.zeros(n, np.int64)
    cfg = SMALL.model_copy(update={"dp_size": 16})
    plan = plan_packs(t, zeros, zeros, cfg, labels=np.stack((source, task), axis=1))
    out = np.isin(plan.pack_of, plan.remainder_packs)
    assert out.sum() > 20
    for lab in (source, task):
        share = np.bincount(lab) / n
        assert (np.abs(np.bincount(lab[out], minlength=share.size) - share * out.sum()) < 2.0).all()


# ---- shapes (issue 22) --------------------------------------------------------------------------


def test_auto_buckets_are_few_granule_multiples_with_little_padding():
    cfg = PackConfig()
    t, p, m = lognormal(60_000, seed=8, image_fraction=0.3)
    plan = plan_packs(t, p, m, cfg)
    check_plan(plan, t, p, m, cfg)
    kept = np.setdiff1d(np.arange(plan.n_packs), plan.remainder_packs)
    vb = plan.vit_bucket[kept]
    assert len(set(vb.tolist())) <= cfg.max_shapes
    assert len(set(zip(plan.seq_len[kept].tolist(), vb.tolist()))) <= cfg.max_shapes
    waste = (vb.sum() - plan.pack_patches[kept].sum()) / plan.pack_patches[kept].sum()
    assert waste <= 0.05
    # no more packs than without ViT buckets
    plain = plan_packs(t, p, m, cfg.model_copy(update={"patch_buckets": ()}))
    assert plan.n_packs <= plain.n_packs


def test_planning_groups_share_one_set_of_buckets():
    """Each group's histogram is exact; merged, they choose what one plan over all packs would."""
    cfg = PackConfig()
    t, p, m = lognormal(30_000, seed=9, image_fraction=0.4)
    halves = [slice(0, 15_000), slice(15_000, 30_000)]
    plans = [plan_packs(t[h], p[h], m[h], cfg) for h in halves]
    merged_p = merge_histograms([patch_histogram(pl, cfg) for pl in plans])
    merged_t = merge_histograms([token_histogram(pl, cfg) for pl in plans])
    shapes = choose_shape_buckets(merged_t, merged_p, cfg)
    both = np.concatenate([pl.pack_patches for pl in plans])
    from packer import buckets as bk

    assert shapes.vit == bk.choose_buckets(bk.size_histogram(both, cfg.patch_granule), len(shapes.vit),
                                           cap=cfg.max_vit_patches)
    for pl in plans:
        again = assign_shapes(pl, cfg, shapes)
        assert set(again.vit_bucket.tolist()) <= set(shapes.vit) | {0}
        assert (again.vit_bucket >= again.pack_patches).all()
        assert np.array_equal(again.pack_of, pl.pack_of)
        # the same buckets given up front give a plan padded to them
        direct = plan_packs(t[halves[0]], p[halves[0]], m[halves[0]], cfg, shapes=shapes)
        assert set(direct.vit_bucket.tolist()) <= set(shapes.vit) | {0}


def test_fixed_buckets_and_no_buckets():
    cfg = PackConfig(patch_buckets=(8192, 16384))
    t, p, m = lognormal(5_000, seed=1, image_fraction=0.3)
    plan = plan_packs(t, p, m, cfg)
    check_plan(plan, t, p, m, cfg)
    assert set(plan.vit_bucket.tolist()) <= {0, 8192, 16384, cfg.max_vit_patches}
    none = plan_packs(t, p, m, cfg.model_copy(update={"patch_buckets": ()}))
    check_plan(none, t, p, m, cfg.model_copy(update={"patch_buckets": ()}))


def test_bucket_aware_filling_drops_a_pack_into_a_smaller_bucket():
    """Two packs: one just over the 1024-patch edge, one under its bucket with room; moving one
    small image drops the first to 1024 and leaves the second in its bucket."""
    cfg = PackConfig(context_length=1024, max_vit_patches=4096, max_images_per_pack=8, dp_size=1,
                     patch_buckets=(1024, 2048), remainder="pad")
    # pack A: 900 tokens of text + images of 1000 and 40 patches (1040 > 1024)
    # pack B: 1000 tokens with 1500 patches (bucket 2048, 548 slack), room for 24 tokens
    t = [600, 200, 20, 990, 10]
    p = [0, 1000, 40, 0, 1500]
    m = [0, 1, 1, 0, 1]
    plan = plan_packs(t, p, m, cfg)
    check_plan(plan, t, p, m, cfg)
    assert plan.n_packs == 2
    assert sorted(plan.vit_bucket.tolist()) == [1024, 2048]
    off = plan_packs(t, p, m, cfg.model_copy(update={"bucket_aware": False}))
    assert off.n_packs == 2 and sorted(off.vit_bucket.tolist()) == [2048, 2048]


def test_config_checks_name_the_field():
    with pytest.raises(ValidationError, match="patch_buckets"):
        PackConfig(max_vit_patches=1024, patch_buckets=(2048,))
    with pytest.raises(ValidationError, match="patch_buckets"):
        PackConfig(patch_buckets=(130,))
    with pytest.raises(ValidationError, match="vit_full_attention_layers"):
        PackConfig(vit_layers=4, vit_full_attention_layers=5)
    with pytest.raises(ValidationError, match="balance"):
        PackConfig(balance="speed")
    assert PackConfig(patch_buckets=(1024,)).vit_buckets == (1024, PackConfig().max_vit_patches)
    assert PackConfig().patch_buckets == "auto" and PackConfig().patch_bucketing
    assert not PackConfig(patch_buckets=()).patch_bucketing
