"""Grounding repair's clamp tolerance at, just inside and just outside its limit: an absolute
coordinate at most `clamp_tolerance` x the image side outside the image is clamped onto the edge."""

from __future__ import annotations

import json

import pytest

from schemas.grounding import repair

# a 500 x 400 image with a tolerance of 0.02: 10 pixels across, 8 down
W, H, TOL = 500, 400, 0.02


@pytest.mark.parametrize(("box", "clamped"), [
    ([-9, 10, 300, 200], True), ([-10, 10, 300, 200], True), ([-11, 10, 300, 200], False),
    ([10, 10, 509, 200], True), ([10, 10, 510, 200], True), ([10, 10, 511, 200], False),
    ([10, -8, 300, 200], True), ([10, -9, 300, 200], False),
    ([10, 10, 300, 408], True), ([10, 10, 300, 409], False),
])
def test_clamp_tolerance_limit(box, clamped):
    text = json.dumps([{"bbox_2d": box}])
    fixed, changes = repair(text, width=W, height=H, coords="auto", clamp_tolerance=TOL)
    if clamped:
        assert "clamp_to_image" in {c.kind for c in changes} and fixed != text
    else:
        assert (fixed, changes) == (text, [])
