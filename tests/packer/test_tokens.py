"""Image token counts: agreement with qwen-vl-utils' smart_resize as an independent oracle."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from packer.tokens import (
    AspectRatioError,
    MediaTokenError,
    SampleError,
    image_tokens,
    image_tokens_np,
    resized_size,
    resized_size_np,
)

# ---------------------------------------------------------------------------------------------
# Oracle. Copied verbatim (only these four pure functions, with MAX_RATIO) from qwen-vl-utils
# 0.0.14, qwen_vl_utils/vision_process.py (https://github.com/QwenLM/Qwen2-VL/tree/main/qwen-vl-utils),
# Copyright Alibaba Qwen team, Apache-2.0. The module itself imports torchvision at import time,
# which does not install beside the CPU torch here, so it cannot be imported.

MAX_RATIO = 200


def round_by_factor(number: int, factor: int) -> int:
    """Returns the closest integer to 'number' that is divisible by 'factor'."""
    return round(number / factor) * factor


def ceil_by_factor(number: int, factor: int) -> int:
    """Returns the smallest integer greater than or equal to 'number' that is divisible by 'factor'."""
    return math.ceil(number / factor) * factor


def floor_by_factor(number: int, factor: int) -> int:
    """Returns the largest integer less than or equal to 'number' that is divisible by 'factor'."""
    return math.floor(number / factor) * factor


def smart_resize(height, width, factor, min_pixels=None, max_pixels=None):
    max_pixels = max_pixels if max_pixels is not None else (16384 * factor ** 2)
    min_pixels = min_pixels if min_pixels is not None else (4 * factor ** 2)
    assert max_pixels >= min_pixels, "The max_pixels of image must be greater than or equal to min_pixels."
    if max(height, width) / min(height, width) > MAX_RATIO:
        raise ValueError(
            f"absolute aspect ratio must be smaller than {MAX_RATIO}, got {max(height, width) / min(height, width)}"
        )
    h_bar = max(factor, round_by_factor(height, factor))
    w_bar = max(factor, round_by_factor(width, factor))
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = floor_by_factor(height / beta, factor)
        w_bar = floor_by_factor(width / beta, factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = ceil_by_factor(height * beta, factor)
        w_bar = ceil_by_factor(width * beta, factor)
    return h_bar, w_bar


# ---------------------------------------------------------------------------------------------

MIN_PX, MAX_PX = 56 * 56, 1344 * 1344
# (min_pixels, max_pixels, patch_size, merge_size): the defaults, video-frame bounds, Qwen2.5 limits
CONFIGS = [
    (MIN_PX, MAX_PX, 14, 2),
    (128 * 28 * 28, 768 * 28 * 28, 14, 2),
    (4 * 28 * 28, 16384 * 28 * 28, 14, 2),
    (256 * 32 * 32, 1280 * 32 * 32, 16, 2),
]


def oracle_wh(w, h, min_px, max_px, factor):
    """(w, h) from the oracle, or None where it rejects the aspect ratio."""
    try:
        oh, ow = smart_resize(h, w, factor, min_px, max_px)
    except ValueError:
        return None
    return ow, oh


def random_sizes(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    w = np.exp(rng.uniform(0, math.log(40000), n)).astype(np.int64) + 1
    # half with an independent height, half near a common aspect ratio (3:2, 4:3, 16:9 ...)
    h_free = np.exp(rng.uniform(0, math.log(40000), n)).astype(np.int64) + 1
    ratios = rng.choice([1.0, 4 / 3, 3 / 2, 16 / 9, 3 / 4, 2 / 3, 9 / 16, 199.0, 1 / 199], n)
    h_ratio = np.maximum(1, np.rint(w / ratios)).astype(np.int64)
    h = np.where(rng.random(n) < 0.5, h_free, h_ratio)
    return w, h


@pytest.mark.parametrize("min_px,max_px,patch,merge", CONFIGS)
def test_agrees_with_oracle_on_10000_random_sizes(min_px, max_px, patch, merge):
    factor = patch * merge
    ws, hs = random_sizes(10_000, seed=factor + min_px)
    vw, vh, bad = resized_size_np(ws, hs, min_pixels=min_px, max_pixels=max_px, patch_size=patch, merge_size=merge)
    vt, vbad = image_tokens_np(ws, hs, min_pixels=min_px, max_pixels=max_px, patch_size=patch, merge_size=merge)
    rejected = 0
    for i, (w, h) in enumerate(zip(ws.tolist(), hs.tolist())):
        expected = oracle_wh(w, h, min_px, max_px, factor)
        kw = {"min_pixels": min_px, "max_pixels": max_px, "patch_size": patch, "merge_size": merge}
        if expected is None:
            rejected += 1
            with pytest.raises(AspectRatioError):
                resized_size(w, h, **kw)
            assert bad[i] and vbad[i] and vt[i] == 0
            continue
        assert resized_size(w, h, **kw) == expected, (w, h)
        assert (int(vw[i]), int(vh[i])) == expected and not bad[i], (w, h)
        assert image_tokens(w, h, **kw) == int(vt[i]) == (expected[0] // factor) * (expected[1] // factor)
    assert 0 < rejected < 2_000  # both branches exercised


EDGE_SIZES = [
    # tiny
    (1, 1), (1, 2), (2, 1), (3, 3), (13, 13), (14, 14), (27, 28), (28, 28), (29, 29), (42, 42), (55, 57),
    (56, 56), (1, 199), (1, 200), (199, 1),
    # huge
    (100_000, 100_000), (65_535, 65_535), (50_000, 300), (300, 50_000), (1_000_000, 5_000),
    # 200:1 boundary
    (200, 1), (201, 1), (5600, 28), (5601, 28), (28, 5600), (20_000, 100), (20_001, 100), (100, 20_001),
    # exact multiples and the max/min boundary
    (28, 28 * 4), (1344, 1344), (1372, 1344), (1344 * 2, 1344 // 2), (2688, 2688), (28 * 48, 28 * 49),
    (448, 448), (560, 560), (644, 476), (1920, 1080), (1080, 1920), (4032, 3024), (3024, 4032),
    # half-way rounding (x.5 * 28 rounds to even)
    (14, 28 * 10), (42, 28 * 10), (70, 28 * 10), (98, 28 * 10), (28 * 10 + 14, 28 * 10 + 42),
]


@pytest.mark.parametrize("w,h", EDGE_SIZES)
@pytest.mark.parametrize("min_px,max_px,patch,merge", CONFIGS[:2])
def test_agrees_with_oracle_on_edge_cases(w, h, min_px, max_px, patch, merge):
    factor = patch * merge
    expected = oracle_wh(w, h, min_px, max_px, factor)
    kw = {"min_pixels": min_px, "max_pixels": max_px, "patch_size": patch, "merge_size": merge}
    vw, vh, bad = resized_size_np([w], [h], **kw)
    if expected is None:
        with pytest.raises(AspectRatioError) as info:
            image_tokens(w, h, **kw)
        assert info.value.reason == "tokens.aspect_ratio"
        assert bad[0]
        return
    assert resized_size(w, h, **kw) == expected
    assert (int(vw[0]), int(vh[0])) == expected and not bad[0]


def test_report_table_2_range():
    assert image_tokens(56, 56) == 4
    assert image_tokens(1344, 1344) == 2304
    assert image_tokens(1, 1) == 4  # upscaled to the minimum
    assert image_tokens(100_000, 100_000) == 2304  # downscaled to the maximum
    assert resized_size(1920, 1080) == oracle_wh(1920, 1080, MIN_PX, MAX_PX, 28)


def test_half_way_rounds_to_even_like_python_round():
    # 42 / 28 = 1.5 -> 2 (even); 70 / 28 = 2.5 -> 2 (even); 98 / 28 = 3.5 -> 4
    assert resized_size(42, 280) == (56, 280)
    assert resized_size(70, 280) == (56, 280)
    assert resized_size(98, 280) == (112, 280)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 200_000), st.integers(1, 200_000))
def test_tokens_within_table_2_bounds_or_rejected(w, h):
    """Property: any size within the aspect limit costs 4..2304 tokens; sides are multiples of 28."""
    if max(w, h) / min(w, h) > 200:
        with pytest.raises(AspectRatioError):
            image_tokens(w, h)
        return
    rw, rh = resized_size(w, h)
    assert rw % 28 == 0 and rh % 28 == 0
    assert 4 <= image_tokens(w, h) <= 2304
    assert (rw, rh) == oracle_wh(w, h, MIN_PX, MAX_PX, 28)


def test_error_hierarchy_and_reasons():
    assert issubclass(AspectRatioError, MediaTokenError)
    assert issubclass(MediaTokenError, SampleError) and issubclass(MediaTokenError, ValueError)
    for w, h, reason in [(0, 10, "tokens.bad_size"), (-5, 10, "tokens.bad_size"), (None, 10, "tokens.missing_size"),
                         (float("nan"), 10, "tokens.bad_size"), (10.5, 10, "tokens.bad_size"),
                         (np.float32(10.5), 10, "tokens.bad_size"),
                         (1000, 2, "tokens.aspect_ratio")]:
        with pytest.raises(MediaTokenError) as info:
            image_tokens(w, h)
        assert info.value.reason == reason


def test_numpy_scalars_are_accepted():
    assert image_tokens(np.int32(640), np.int64(480)) == image_tokens(640, 480) == image_tokens(640.0, np.float32(480))


def test_bad_config_arguments_are_errors_not_sample_faults():
    with pytest.raises(ValueError, match="min_pixels"):
        image_tokens(100, 100, min_pixels=10_000, max_pixels=100)
    with pytest.raises(ValueError, match="patch_size"):
        resized_size_np([100], [100], patch_size=0)


def test_vectorised_bad_mask_covers_every_scalar_rejection():
    widths = pa.array([640, None, 0, -3, 1000, 10, 1920], pa.int32())
    heights = pa.array([480, 480, 480, 480, 2, None, 1080], pa.int32())
    tokens, bad = image_tokens_np(widths, heights)
    assert bad.tolist() == [False, True, True, True, True, True, False]
    assert tokens.tolist() == [image_tokens(640, 480), 0, 0, 0, 0, 0, image_tokens(1920, 1080)]
    t2, b2 = image_tokens_np(np.array([640.0, np.nan, 10.5]), np.array([480.0, 480.0, 10.0]))
    assert b2.tolist() == [False, True, True] and t2[0] == image_tokens(640, 480)
    t3, b3 = image_tokens_np([], [])
    assert t3.size == 0 and b3.size == 0
