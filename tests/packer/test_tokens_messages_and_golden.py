"""Token counting: the exact error messages (they name the field, the value and the fix), the input
forms of the column functions, and golden values of the seeded video plan (a change here changes
which frames a video trains on: update deliberately)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from packer.tokens import (
    AspectRatioError,
    MediaTokenError,
    SampleError,
    image_tokens,
    image_tokens_np,
    plan_video,
    resized_size_np,
    sample_fps_for,
    stable_unit,
)
from schemas.tokens_config import TokensConfig

CFG = TokensConfig()


def _video_cfg(**video) -> TokensConfig:
    return CFG.model_copy(update={"video": CFG.video.model_copy(update=video)})


def _plan(cfg=CFG, **kw):
    args = dict(duration=60.0, fps=30.0, frames=None, width=640, height=480, sample_id="v0", seed=0,
                task="video", cfg=cfg)
    return plan_video(**{**args, **kw})


def test_sample_error_message_is_reason_then_message():
    err = SampleError("tokens.bad_size", "width=0 must be > 0")
    assert str(err) == "tokens.bad_size: width=0 must be > 0" and err.reason == "tokens.bad_size"


def test_aspect_ratio_messages():
    with pytest.raises(AspectRatioError) as info:
        image_tokens(2001, 10, max_aspect_ratio=200.0)
    assert str(info.value) == "tokens.aspect_ratio: aspect ratio 200.1 of 2001x10 exceeds max_aspect_ratio=200.0"
    with pytest.raises(AspectRatioError) as info:  # a video frame: the same limit, inclusive
        _plan(width=2001, height=10)
    assert str(info.value).endswith("aspect ratio 200.1 of 2001x10 exceeds max_aspect_ratio=200.0")
    assert _plan(width=2000, height=10).tokens > 0


@pytest.mark.parametrize(("kw", "message"), [
    ({"duration": -1.0}, "video duration=-1.0 must be finite and > 0"),
    ({"fps": float("nan")}, "video fps=nan must be finite and > 0"),
    ({"duration": None, "frames": 0}, "video frames=0 must be finite and > 0"),
    ({"duration": None, "frames": 2.5}, "video frames=2.5 is not whole"),
    ({"duration": None, "fps": None, "frames": None}, "video has neither duration nor frames"),
    ({"duration": 3.0, "fps": None, "frames": None}, "video has a duration but neither fps nor frames"),
])
def test_bad_video_metadata_messages(kw, message):
    with pytest.raises(MediaTokenError) as info:
        _plan(**kw)
    assert str(info.value) == f"tokens.bad_video_metadata: {message}"


def test_frames_without_timing_message_names_the_fix():
    with pytest.raises(MediaTokenError) as info:
        _plan(cfg=_video_cfg(assumed_source_fps=None), duration=None, fps=None, frames=40)
    assert str(info.value) == ("tokens.bad_video_metadata: video has frames but neither duration nor fps "
                               "(set tokens.video.assumed_source_fps to accept it)")


def test_budget_message():
    with pytest.raises(MediaTokenError) as info:
        _plan(cfg=_video_cfg(token_budget=100))
    assert str(info.value) == ("tokens.video_budget: one temporal group of 364x252 costs 117 tokens, over "
                               "video.token_budget=100")


def test_column_lengths_must_match():
    with pytest.raises(ValueError) as info:
        resized_size_np([1, 2], [1])
    assert str(info.value) == "widths and heights differ in length: (2,) vs (1,)"


@pytest.mark.parametrize("widths", [[640, None, 0], pa.array([640, None, 0]), pa.chunked_array([[640], [None, 0]]),
                                    np.array([640.0, np.nan, 0.0])])
def test_columns_with_missing_sizes(widths):
    tokens, bad = image_tokens_np(widths, [480, 480, 480])
    assert bad.tolist() == [False, True, True]
    assert tokens.dtype == np.int64 and tokens.tolist() == [image_tokens(640, 480), 0, 0]


@pytest.mark.parametrize("kw", [{"merge_size": 1}, {"patch_size": 7, "merge_size": 4}, {"max_aspect_ratio": 20.0}])
def test_column_form_honours_every_option(kw):
    sizes = [(640, 480), (1000, 50), (1000, 49), (28, 28), (3000, 2000)]
    tokens, bad = image_tokens_np([w for w, _ in sizes], [h for _, h in sizes], **kw)
    want = []
    for w, h in sizes:
        try:
            want.append(image_tokens(w, h, **kw))
        except MediaTokenError:
            want.append(None)
    assert [None if b else t for t, b in zip(tokens.tolist(), bad.tolist())] == want
    assert tokens.dtype == np.int64


def test_stable_unit_and_sample_fps_golden_values():
    assert stable_unit(0, "v0", "video_fps") == 0.9689370399129321
    assert stable_unit(7, "clip/1", "video_fps") == 0.1400149659557982
    assert sample_fps_for("video", "v0", 0, CFG) == 1.9534055598693982  # 0.5 + 1.5 x the draw above
    assert sample_fps_for("video_temporal", "v0", 0, CFG) == 1.0


def _summary(p) -> tuple:
    return p.n_frames, p.width, p.height, p.grid_thw, p.tokens, p.sample_fps, p.source_frames, p.frame_indices[:4]


@pytest.mark.parametrize(("kw", "cfg", "expected"), [
    # an hour at 1 fps would be 3600 frames: the budget takes it to 340 frames of 336 x 336
    ({"duration": 3600.0, "width": 64, "height": 64, "task": "video_temporal"}, CFG,
     (340, 336, 336, (170, 24, 24), 24480, 1.0, 108000, [0, 319, 637, 956])),
    # with room in the budget, max_frames caps it
    ({"duration": 3600.0, "width": 64, "height": 64, "task": "video_temporal"}, _video_cfg(token_budget=1_000_000),
     (768, 336, 336, (384, 24, 24), 55296, 1.0, 108000, [0, 141, 282, 422])),
    # an odd max_frames is floored to whole temporal groups
    ({"duration": 3600.0, "width": 64, "height": 64, "task": "video_temporal"},
     _video_cfg(token_budget=1_000_000, max_frames=7), (6, 336, 336, (3, 24, 24), 432, 1.0, 108000, [0, 21600, 43200, 64799])),
    # an untimed task at the seeded fps
    ({"duration": 600.0, "width": 1920, "height": 1080}, CFG,
     (408, 420, 224, (204, 16, 30), 24480, 1.9534055598693982, 18000, [0, 44, 88, 133])),
    # 0.4 s at 2 fps is one source frame: it is repeated to fill the temporal group
    ({"duration": 0.4, "fps": 2.0, "width": 640, "height": 480, "task": "video_temporal"}, CFG,
     (2, 644, 476, (1, 34, 46), 391, 1.0, 1, [0, 0])),
])
def test_video_plan_golden_values(kw, cfg, expected):
    p = _plan(cfg=cfg, **kw)
    assert _summary(p) == expected
    ints = [p.n_frames, p.width, p.height, p.tokens, p.vit_patches, p.source_frames, *p.grid_thw, *p.frame_indices]
    assert all(type(v) is int for v in ints)  # counts, never floats


@pytest.mark.parametrize(("w", "h", "message"), [
    (None, 10, "tokens.missing_size: width is missing"),
    (10, None, "tokens.missing_size: height is missing"),
    (2.5, 10, "tokens.bad_size: width=2.5 is not a whole number"),
    (10, float("inf"), "tokens.bad_size: height=inf is not a whole number"),
    (0, 10, "tokens.bad_size: width=0 must be > 0"),
    (10, -3, "tokens.bad_size: height=-3 must be > 0"),
])
def test_bad_size_messages_name_the_side(w, h, message):
    with pytest.raises(MediaTokenError) as info:
        image_tokens(w, h)
    assert str(info.value) == message


def test_resize_arguments_at_their_limits():
    # the smallest allowed patch and pixel bounds, and equal bounds, are accepted
    assert image_tokens(28, 28, patch_size=1, merge_size=1, min_pixels=1, max_pixels=1) == 1
    assert image_tokens(56, 56, min_pixels=56 * 56, max_pixels=56 * 56) == 4
    for kw in ({"patch_size": 0}, {"merge_size": 0}, {"min_pixels": 0}, {"min_pixels": 10, "max_pixels": 9}):
        with pytest.raises(ValueError):
            image_tokens(28, 28, **kw)


def test_bad_rows_resize_to_zero():
    w, h, bad = resized_size_np([640, 0, None], [480, 480, 480])
    assert bad.tolist() == [False, True, True]
    assert w.tolist()[1:] == [0, 0] and h.tolist()[1:] == [0, 0]
