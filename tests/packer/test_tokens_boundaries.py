"""The limits of token counting at, just below and just above each one: the aspect ratio, the
pixel bounds of smart resize (scalar and column forms agree), and a video's token budget."""

from __future__ import annotations

import pytest

from packer.tokens import MediaTokenError, image_tokens, image_tokens_np, plan_video
from schemas.tokens_config import TokensConfig


def _both(w: int, h: int, **kw):
    """The scalar result (or the error's reason) and the column result, which must agree."""
    tokens, bad = image_tokens_np([w], [h], **kw)
    try:
        scalar = image_tokens(w, h, **kw)
    except MediaTokenError as err:
        assert bad.tolist() == [True]
        return err.reason
    assert bad.tolist() == [False] and tokens.tolist() == [scalar]
    return scalar


@pytest.mark.parametrize(("w", "h", "allowed"), [
    (1999, 10, True),  # just below 200:1
    (2000, 10, True),  # at the limit
    (2001, 10, False),  # just above
    (10, 2000, True),
    (10, 2001, False),
])
def test_aspect_ratio_limit(w, h, allowed):
    got = _both(w, h, max_aspect_ratio=200.0)
    assert got == "tokens.aspect_ratio" if not allowed else isinstance(got, int) and got > 0


@pytest.mark.parametrize(("w", "h", "expected"), [
    # rounded to 1344 x 1344 = max_pixels exactly: kept as it is (a `>=` would shrink it to 47 x 48)
    (1340, 1350, 48 * 48),
    (1344, 1344, 48 * 48),
    (1344, 1372, 47 * 48),  # rounded one factor over max_pixels: scaled down
    (1344, 1316, 47 * 48),
    # rounded to 56 x 56 = min_pixels exactly: kept (a `<=` would grow it to 2 x 3)
    (50, 60, 2 * 2),
    (56, 56, 4),
    (28, 56, 2 * 3),  # under min_pixels: x sqrt(2), each side rounded up: 56 x 84
])
def test_pixel_limits_of_smart_resize(w, h, expected):
    assert _both(w, h, min_pixels=56 * 56, max_pixels=1344 * 1344) == expected


def _video_tokens(budget: int) -> int | str:
    cfg = TokensConfig().model_copy(update={"video": TokensConfig().video.model_copy(update={
        "token_budget": budget, "min_frames": 2, "max_frames": 2, "min_pixels": 28 * 28 * 4,
        "max_pixels": 28 * 28 * 4})})
    try:
        return plan_video(duration=1.0, fps=2.0, frames=None, width=56, height=56, sample_id="v", seed=0,
                          task="temporal", cfg=cfg).tokens
    except MediaTokenError as err:
        return err.reason


def test_video_token_budget():
    # one temporal group of 56 x 56 frames costs 2 x 2 = 4 tokens
    assert _video_tokens(5) == 4
    assert _video_tokens(4) == 4  # exactly the budget: allowed
    assert _video_tokens(3) == "tokens.video_budget"


def test_a_python_list_with_missing_sizes():
    """A list column with None (not only pyarrow nulls or NaN) marks those rows bad."""
    from packer.tokens import resized_size, resized_size_np

    w, h, bad = resized_size_np([640, None, 1000], [480, 480, None])
    assert bad.tolist() == [False, True, True]
    assert (int(w[0]), int(h[0])) == resized_size(640, 480) and w[1:].tolist() == h[1:].tolist() == [0, 0]
