"""Fuzz of the grounding parser: `schemas.grounding.validate` and `repair` on arbitrary text never
raise, and what they return is well-formed (docs/bad-inputs.md, "Grounding labels")."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.grounding import ERROR_CODES, REPAIR_KINDS, repair, validate

FRAGMENTS = st.sampled_from([
    "<|box_start|>", "<|box_end|>", "<|point_start|>", "<|point_end|>", "<|quad_start|>", "<|quad_end|>",
    "<|polygon_start|>", "<|polygon_end|>", "<|object_ref_start|>", "<|object_ref_end|>", "<|im_end|>",
    "<|", "|>", "<", ">", "(", ")", ",", " ", "\n", "-", ".", "e", "0", "7", "999", "1000", "1e400",
    "99999999999999999999999", "NaN", "cat", "_start", "_end", "{", "}", "[", "]", ":", '"',
    '"bbox_2d"', '"point_2d"', '"label"', "```json", "```", "null", "true", "\x00", "\ud800", "🐈",
])
COORDS = st.sampled_from(["normalized", "absolute", "auto"])
SIZES = st.none() | st.integers(1, 5000)
TEXTS = st.lists(FRAGMENTS | st.text(max_size=8), max_size=40).map("".join)


@given(TEXTS, SIZES, SIZES, COORDS, st.booleans())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_validate_never_raises_and_reports_known_codes(text, width, height, coords, polygon):
    shapes = ("point", "box", "quad", "polygon") if polygon else None
    report = validate(text, width=width, height=height, coords=coords, shapes=shapes)
    assert report.ok == (not report.errors)
    for err in report.errors:
        assert err.code in ERROR_CODES
        start, end = err.span
        assert 0 <= start <= end <= len(text)


@given(TEXTS, SIZES, SIZES, COORDS, st.booleans(), st.booleans(), st.floats(0, 0.5), st.booleans())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_repair_never_raises_and_never_breaks_a_valid_text(text, width, height, coords, pad, clockwise,
                                                                         tolerance, json_to_tags):
    fixed, changes = repair(text, width=width, height=height, coords=coords, zero_pad=pad,
                            quad_clockwise=clockwise, clamp_tolerance=tolerance, json_to_tags=json_to_tags)
    assert isinstance(fixed, str)
    assert all(c.kind in REPAIR_KINDS for c in changes)
    if not changes:
        assert fixed == text
    before = validate(text, width=width, height=height, coords=coords)
    after = validate(fixed, width=width, height=height, coords=coords)
    assert after.ok or not before.ok  # a repair never breaks a text that was valid
