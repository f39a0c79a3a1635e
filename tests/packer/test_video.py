"""The video frame-budget rule (report §2.4): frames, per-frame resolution, enforced token budget."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from packer.tokens import AspectRatioError, MediaTokenError, plan_video, sample_fps_for
from schemas.tokens_config import TokensConfig, VideoConfig

CFG = TokensConfig()
DURATIONS = [1, 2, 3.5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 10_800]
SIZES = [(1920, 1080), (3840, 2160), (640, 480), (480, 854), (100, 3000), (28, 28), (7680, 4320)]


def plan(duration=60.0, fps=30.0, frames=None, width=1920, height=1080, sample_id="v0", seed=0,
         task="video", cfg=CFG):
    return plan_video(duration=duration, fps=fps, frames=frames, width=width, height=height,
                      sample_id=sample_id, seed=seed, task=task, cfg=cfg)


def check_invariants(p, cfg=CFG):
    tp = cfg.temporal_patch_size
    factor = cfg.patch_size * cfg.merge_size
    n = len(p.frame_indices)
    assert n % tp == 0 and n >= tp
    assert p.width % factor == 0 and p.height % factor == 0
    assert p.tokens == math.ceil(n / tp) * (p.height // factor) * (p.width // factor)
    assert p.grid_thw == (n // tp, p.height // cfg.patch_size, p.width // cfg.patch_size)
    assert p.vit_patches == p.grid_thw[0] * p.grid_thw[1] * p.grid_thw[2] == p.tokens * cfg.merge_size**2
    assert p.tokens <= cfg.video.token_budget
    assert all(0 <= i < p.source_frames for i in p.frame_indices)
    assert p.frame_indices == sorted(p.frame_indices)


@pytest.mark.parametrize("task", ["video", "video_temporal"])
@pytest.mark.parametrize("width,height", SIZES)
def test_budget_holds_from_1s_to_3h(task, width, height):
    for duration in DURATIONS:
        p = plan(duration=duration, width=width, height=height, task=task, sample_id=f"v{duration}")
        check_invariants(p)


def test_known_overshoot_is_fixed():
    """qwen-vl-utils' rule floors per-frame pixels at 1.05 x min_pixels, so 1800 s at fps 1
    (768 frames) gives 384 x 120 = 46,080 tokens against 24,576. We drop frames instead."""
    factor, budget, min_px = 28, 24576, 128 * 28 * 28
    nframes = 768
    total_pixels = budget * factor * factor
    max_px = max(min(768 * 28 * 28, total_pixels / nframes * 2), int(min_px * 1.05))
    # smart resize exactly as in test_tokens' oracle (qwen-vl-utils)
    beta = math.sqrt(1920 * 1080 / max_px)
    h, w = math.floor(1080 / beta / factor) * factor, math.floor(1920 / beta / factor) * factor
    assert (nframes // 2) * (h // factor) * (w // factor) == 46_080

    p = plan(duration=1800, fps=30, width=1920, height=1080, task="video_temporal")
    check_invariants(p)
    assert p.sample_fps == 1.0
    assert 24_000 <= p.tokens <= 24_576
    assert p.width * p.height >= CFG.video.min_pixels * 0.9  # resolution kept near its floor


def test_resolution_falls_as_frames_rise():
    prev_frames, prev_pixels = 0, math.inf
    for duration in [4, 8, 16, 32, 64, 128, 256]:
        p = plan(duration=duration, task="video_temporal")
        assert len(p.frame_indices) >= prev_frames
        assert p.width * p.height <= prev_pixels
        prev_frames, prev_pixels = len(p.frame_indices), p.width * p.height
    assert prev_pixels < plan(duration=4, task="video_temporal").width * plan(duration=4, task="video_temporal").height


def test_short_clip_uses_max_resolution_and_min_frames():
    p = plan(duration=1, fps=30, task="video_temporal")
    assert len(p.frame_indices) == CFG.video.min_frames
    assert p.width * p.height <= CFG.video.max_pixels
    check_invariants(p)


def test_temporal_tasks_use_constant_fps_and_untimed_draw_seeded_fps():
    assert sample_fps_for("temporal_grounding", "x", 0, CFG) == CFG.video.temporal_fps
    lo, hi = CFG.video.fps_range
    draws = {sample_fps_for("video", f"s{i}", 7, CFG) for i in range(200)}
    assert all(lo <= f <= hi for f in draws) and len(draws) > 150
    assert sample_fps_for("video", "s1", 7, CFG) == sample_fps_for("video", "s1", 7, CFG)
    assert sample_fps_for("video", "s1", 7, CFG) != sample_fps_for("video", "s1", 8, CFG)
    a = plan(duration=100, sample_id="same", seed=3)
    b = plan(duration=100, sample_id="same", seed=3)
    assert a == b


def test_frame_count_follows_sample_fps():
    p = plan(duration=20, fps=25, task="video_temporal")  # 20 frames at 1 fps
    assert len(p.frame_indices) == 20
    assert p.frame_indices[0] == 0 and p.frame_indices[-1] == 499
    gaps = {b - a for a, b in zip(p.frame_indices, p.frame_indices[1:])}
    assert gaps <= {26, 27}


def test_source_with_fewer_frames_than_a_group_repeats_frames():
    p = plan(duration=None, fps=None, frames=1, width=640, height=480)
    assert p.frame_indices == [0, 0]
    p3 = plan(duration=None, fps=10, frames=3, width=640, height=480)
    assert len(p3.frame_indices) == 2


def test_frame_directory_timing():
    p = plan(duration=None, fps=None, frames=40, width=640, height=480, task="video_temporal")
    assert p.source_frames == 40 and len(p.frame_indices) == 20  # 40 frames at the assumed 2 fps = 20 s
    strict = TokensConfig(video=VideoConfig(assumed_source_fps=None))
    with pytest.raises(MediaTokenError) as info:
        plan(duration=None, fps=None, frames=40, cfg=strict)
    assert info.value.reason == "tokens.bad_video_metadata"


@pytest.mark.parametrize("kw,reason", [
    ({"duration": float("nan")}, "tokens.bad_video_metadata"),
    ({"duration": 0}, "tokens.bad_video_metadata"),
    ({"duration": -3}, "tokens.bad_video_metadata"),
    ({"fps": float("inf")}, "tokens.bad_video_metadata"),
    ({"fps": 0.0}, "tokens.bad_video_metadata"),
    ({"frames": -1}, "tokens.bad_video_metadata"),
    ({"frames": 2.5}, "tokens.bad_video_metadata"),
    ({"duration": None, "frames": None}, "tokens.bad_video_metadata"),
    ({"duration": 10, "fps": None, "frames": None}, "tokens.bad_video_metadata"),
    ({"width": None}, "tokens.missing_size"),
    ({"height": 0}, "tokens.bad_size"),
    ({"width": float("nan")}, "tokens.bad_size"),
    ({"width": 30_000, "height": 100}, "tokens.aspect_ratio"),
])
def test_bad_metadata_is_a_reason(kw, reason):
    with pytest.raises(MediaTokenError) as info:
        plan(**kw)
    assert info.value.reason == reason
    if reason == "tokens.aspect_ratio":
        assert isinstance(info.value, AspectRatioError)


def test_budget_too_small_for_one_group_is_rejected():
    cfg = TokensConfig(video=VideoConfig(token_budget=100))  # one group at min_pixels costs ~128
    with pytest.raises(MediaTokenError) as info:
        plan(duration=10, cfg=cfg)
    assert info.value.reason == "tokens.video_budget"


@settings(max_examples=200, deadline=None)
@given(
    duration=st.floats(0.5, 3 * 3600),
    fps=st.floats(1, 120),
    width=st.integers(28, 8000),
    height=st.integers(28, 8000),
    budget=st.integers(512, 200_000),
    task=st.sampled_from(["video", "video_temporal"]),
)
def test_budget_property(duration, fps, width, height, budget, task):
    if max(width, height) / min(width, height) > 200:
        return
    cfg = TokensConfig(video=VideoConfig(token_budget=budget))
    check_invariants(plan(duration=duration, fps=fps, width=width, height=height, task=task, cfg=cfg), cfg)


@pytest.mark.parametrize("budget", [300, 1000, 1001, 2047, 5000])
@pytest.mark.parametrize("width,height", [(1920, 1080), (1000, 999), (333, 1777), (4000, 30)])
def test_frame_size_is_smart_resize_under_the_budget_cap(budget, width, height):
    """Step 3 exactly: per-frame pixels capped at token_budget * factor**2 // groups (whole
    pixels), the video max, the min floor; then the same resize as an image."""
    from packer.tokens import resized_size

    cfg = TokensConfig(video=VideoConfig(token_budget=budget))
    v, factor = cfg.video, cfg.patch_size * cfg.merge_size
    p = plan(duration=37.0, fps=25.0, width=width, height=height, cfg=cfg)
    groups = p.grid_thw[0]
    cap = min(v.max_pixels, budget * factor * factor // groups)
    assert (p.width, p.height) == resized_size(width, height, min_pixels=v.min_pixels,
                                               max_pixels=max(v.min_pixels, cap), patch_size=cfg.patch_size,
                                               merge_size=cfg.merge_size, max_aspect_ratio=cfg.max_aspect_ratio)
    assert p.duration == 37.0 and p.source_frames == 925


def test_derived_duration_is_reported():
    assert plan(duration=None, fps=10.0, frames=45).duration == 4.5
