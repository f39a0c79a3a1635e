"""Structured outputs (JSON bbox_2d / point_2d), absolute pixel coordinates, and `repair`."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.grounding import REPAIR_KINDS, format_label, repair, validate

REF = "<|object_ref_start|>{}<|object_ref_end|>"
BOX = "<|box_start|>({},{}),({},{})<|box_end|>"
POINT = "<|point_start|>({},{})<|point_end|>"
QUAD = "<|quad_start|>({},{}),({},{}),({},{}),({},{})<|quad_end|>"


# ---- JSON ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '[{"bbox_2d": [10, 20, 300, 400], "label": "cat"}]',
        'Sure:\n```json\n[{"bbox_2d": [10, 20, 300, 400], "label": "cat"}]\n```\nDone.',
        '```\n{"bbox_2d": [10, 20, 300, 400], "label": "cat"}\n```',
        'The cat is at {"bbox_2d": [10, 20, 300, 400], "label": "cat"} (approx).',
    ],
)
def test_json_boxes_parse_bare_or_fenced(text):
    report = validate(text)
    assert report.ok, report.errors
    (label,) = report.labels
    assert label.source == "json" and label.name == "cat"
    assert label.shapes[0].kind == "box" and label.shapes[0].points == ((10, 20), (300, 400))
    assert text[label.span[0] : label.span[1]].strip().startswith(("[", "{", "```"))


def test_json_points_and_mixed_lists():
    text = json.dumps(
        [{"point_2d": [5, 6], "label": "eye"}, {"bbox_2d": [1, 2, 30, 40]}, {"point_2d": [7, 8]}]
    )
    report = validate(text)
    assert report.ok
    assert [(lab.name, lab.shapes[0].kind) for lab in report.labels] == [
        ("eye", "point"),
        (None, "box"),
        (None, "point"),
    ]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('[{"bbox_2d": [10, 20, 300], "label": "cat"}]', "wrong_point_count"),
        ('[{"point_2d": [10], "label": "cat"}]', "wrong_point_count"),
        ('[{"bbox_2d": [10, 20, 300, 400], "label": ""}]', "empty_object_name"),
        ('[{"bbox_2d": [300, 20, 10, 400]}]', "box_order"),
        ('[{"bbox_2d": [10, 20, 10, 400]}]', "degenerate_box"),
        ('[{"bbox_2d": [10, 20, 300, 1000]}]', "out_of_range"),
        ('[{"bbox_2d": [10.5, 20, 300, 400]}]', "non_integer"),
        ('[{"bbox_2d": [10, 20, 300, 400], "label": "cat"}', "bad_json"),  # unclosed
        ('```json\n[{"bbox_2d": [10, 20, 300, 400],}]\n```', "bad_json"),  # trailing comma
        ('[{"bbox_2d": "10,20,300,400"}]', "bad_json"),
        ('[{"bbox_2d": [1, 2, 3, 4], "point_2d": [1, 2]}]', "bad_json"),
        ('[{"bbox_2d": [1, 2, 3, 4]}, 7]', "bad_json"),
        ('[{"bbox_2d": [true, 2, 3, 4]}]', "bad_json"),
        ('[{"bbox_2d": [1, 2, 3, 4], "label": 5}]', "bad_json"),
    ],
)
def test_bad_json_is_rejected_with_its_code(text, code):
    report = validate(text)
    assert code in report.codes, report.errors


def test_json_converts_to_the_tag_form():
    text = 'Answer: [{"bbox_2d": [10, 20, 300, 400], "label": "cat"}, {"bbox_2d": [5, 6, 7, 8], "label": "cat"}, {"point_2d": [1, 2], "label": "dog"}]'
    fixed, changes = repair(text)
    assert fixed == (
        "Answer: "
        + REF.format("cat")
        + BOX.format(10, 20, 300, 400)
        + BOX.format(5, 6, 7, 8)
        + ", "
        + REF.format("dog")
        + POINT.format(1, 2)
    )
    assert {c.kind for c in changes} == {"json_to_tags"}
    labels = validate(fixed).labels
    assert [(lab.name, len(lab.shapes)) for lab in labels] == [("cat", 2), ("dog", 1)]


def test_json_with_other_keys_is_kept_as_json():
    text = '[{"bbox_2d": [10, 20, 300, 400], "label": "cat", "score": 0.9}]'
    assert validate(text).ok
    assert repair(text) == (text, [])


# ---- absolute coordinates ------------------------------------------------------------------------


def test_absolute_pixels_normalise_with_the_upright_size():
    # a 640x480 (upright) image: x / 640 * 1000, y / 480 * 1000, floored; the far edge maps to 999
    text = '```json\n[{"bbox_2d": [64, 48, 640, 480], "label": "cat"}]\n```'
    report = validate(text, width=640, height=480, coords="auto")
    assert report.ok
    assert report.labels[0].shapes[0].points == ((100, 100), (999, 999))
    fixed, changes = repair(text, width=640, height=480, coords="auto", zero_pad=True)
    assert fixed == REF.format("cat") + BOX.format("100", "100", "999", "999")
    assert {c.kind for c in changes} == {"json_to_tags", "absolute_to_normalized"}
    # the same pixels on the rotated (portrait) image are a different box
    assert validate(text, width=480, height=640, coords="auto").codes == ["outside_image"]


def test_absolute_tags_and_missing_size():
    text = REF.format("cat") + BOX.format(32, 24, 320, 240)
    assert validate(text, width=640, height=480, coords="absolute").labels[0].shapes[0].points == (
        (50, 50),
        (500, 500),
    )
    assert validate(text, coords="absolute").codes == ["missing_image_size"]
    assert validate(text, width=100, height=100, coords="absolute").codes == ["outside_image"]
    assert validate(text, coords="auto").ok  # tags are normalised under auto


def test_outside_image_is_clamped_only_within_tolerance():
    text = '[{"bbox_2d": [-3, 10, 645, 470]}]'
    assert validate(text, width=640, height=480, coords="auto").codes == ["outside_image"]
    fixed, changes = repair(text, width=640, height=480, coords="auto", clamp_tolerance=0.02)
    assert fixed == BOX.format(0, 20, 999, 979)
    assert "clamp_to_image" in {c.kind for c in changes}
    far = '[{"bbox_2d": [-30, 10, 700, 470]}]'
    assert repair(far, width=640, height=480, coords="auto", clamp_tolerance=0.02) == (far, [])


@given(
    st.integers(1, 5000),
    st.integers(1, 5000),
    st.floats(0, 1),
    st.floats(0, 1),
)
def test_normalised_pixels_stay_in_range(w, h, fx, fy):
    x, y = fx * w, fy * h
    report = validate(json.dumps({"point_2d": [x, y]}), width=w, height=h, coords="auto")
    assert report.ok
    ((px, py),) = report.labels[0].shapes[0].points
    assert 0 <= px <= 999 and 0 <= py <= 999


# ---- repair ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kwargs", "expected", "kinds"),
    [
        (
            REF.format("cat") + BOX.format(300, 400, 10, 20),
            {},
            REF.format("cat") + BOX.format(10, 20, 300, 400),
            {"swap_corners"},
        ),
        (BOX.format(10, 400, 300, 20), {}, BOX.format(10, 20, 300, 400), {"swap_corners"}),
        (BOX.format(10, 20, 1000, 1000), {}, BOX.format(10, 20, 999, 999), {"clamp_1000"}),
        (
            "<|box_start|>( 10, 20 ),(300,400)<|box_end|>",
            {},
            BOX.format(10, 20, 300, 400),
            {"strip_whitespace"},
        ),
        (
            REF.format(" cat ") + " " + POINT.format(1, 2),
            {},
            REF.format("cat") + POINT.format(1, 2),
            {"strip_whitespace"},
        ),
        (POINT.format(1, 22), {"zero_pad": True}, POINT.format("001", "022"), {"zero_pad"}),
        (POINT.format("001", "022"), {}, POINT.format(1, 22), {"unpad"}),
        (
            QUAD.format(20, 20, 10, 20, 10, 10, 20, 10),
            {},
            QUAD.format(10, 10, 20, 10, 20, 20, 10, 20),
            {"quad_clockwise"},
        ),
        (
            QUAD.format(20, 20, 10, 20, 10, 10, 20, 10),
            {"quad_clockwise": False},
            QUAD.format(20, 20, 10, 20, 10, 10, 20, 10),
            set(),
        ),
    ],
)
def test_repair_fixes_what_is_unambiguous(text, kwargs, expected, kinds):
    fixed, changes = repair("See " + text + " here.", **kwargs)
    assert fixed == "See " + expected + " here."
    assert {c.kind for c in changes} == kinds
    assert kinds <= REPAIR_KINDS
    assert validate(fixed).ok
    for c in changes:
        assert ("See " + text + " here.")[c.span[0] : c.span[1]] == c.before


@pytest.mark.parametrize(
    "text",
    [
        BOX.format(10, 20, 10, 400),  # degenerate
        BOX.format(10, 20, 1001, 400),  # beyond 1000
        BOX.format(-1, 20, 30, 400),
        "<|box_start|>(10.5,20),(30,40)<|box_end|>",
        "<|box_start|>(10,20)<|box_end|>",
        "<|box_start|>(10,20),(30,40)",
        "<|box_start|>(1,2)<|point_start|>(3,4)<|point_end|>,(5,6)<|box_end|>",
        REF.format("") + POINT.format(1, 2),
        "<|bbox_start|>(1,2),(3,4)<|bbox_end|>",
    ],
)
def test_repair_leaves_what_is_ambiguous(text):
    before = validate(text).codes
    assert before
    fixed, changes = repair(text)
    assert fixed == text and changes == []


def test_repair_fixes_good_labels_and_leaves_bad_ones():
    good = BOX.format(300, 400, 10, 20)
    bad = BOX.format(1, 2, 1, 5)
    fixed, changes = repair(good + " and " + bad)
    assert fixed == BOX.format(10, 20, 300, 400) + " and " + bad
    assert validate(fixed).codes == ["degenerate_box"]
    assert [c.kind for c in changes] == ["swap_corners"]


@given(st.lists(st.integers(0, 999), min_size=4, max_size=4))
def test_repair_is_idempotent_and_its_output_valid(v):
    x1, y1, x2, y2 = v
    text = "a " + BOX.format(x1, y1, x2, y2) + " b"
    fixed, _ = repair(text, zero_pad=True)
    if x1 == x2 or y1 == y2:
        assert fixed == text
        return
    assert validate(fixed).ok
    assert repair(fixed, zero_pad=True) == (fixed, [])
    assert (
        fixed
        == "a "
        + format_label(
            shapes=[("box", ((min(x1, x2), min(y1, y2)), (max(x1, x2), max(y1, y2))))], zero_pad=True
        )
        + " b"
    )


def test_repair_rejects_bad_tolerance():
    with pytest.raises(ValueError, match="clamp_tolerance = 0.9"):
        repair("x", clamp_tolerance=0.9)
