"""The grounding grammar: round trips, mutations rejected with the right code, tricky cases, registry."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from schemas.grounding import (
    DEFAULT_SHAPES,
    ERROR_CODES,
    GroundingLabel,
    Shape,
    ShapeSpec,
    clockwise_from_upper_left,
    format_label,
    register_shape,
    validate,
)
from schemas.grounding.scanner import scan_tags
from schemas.grounding.shapes import SHAPES, shape_set

REF = "<|object_ref_start|>{}<|object_ref_end|>"
BOX = "<|box_start|>({},{}),({},{})<|box_end|>"
POINT = "<|point_start|>({},{})<|point_end|>"
QUAD = "<|quad_start|>({},{}),({},{}),({},{}),({},{})<|quad_end|>"

coord = st.integers(0, 999)
names = (
    st.text(
        st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="<|>"), min_size=1, max_size=20
    )
    .map(str.strip)
    .filter(bool)
)


def num(v: int, pad: bool) -> str:
    return f"{v:03d}" if pad else str(v)


@st.composite
def boxes(draw, pad=False):
    x1, x2 = sorted(draw(st.lists(coord, min_size=2, max_size=2, unique=True)))
    y1, y2 = sorted(draw(st.lists(coord, min_size=2, max_size=2, unique=True)))
    return ("box", ((x1, y1), (x2, y2)))


@st.composite
def points(draw):
    return ("point", ((draw(coord), draw(coord)),))


@st.composite
def quads(draw):
    """A rectangle rotated by 0 < angle <= 45 degrees, on integer corners, clockwise from the
    upper-left (image space, y down): p0, p0 + u, p0 + u + v, p0 + v with u = (a, b), a >= b >= 1,
    and v = m (-b, a) / gcd(a, b) perpendicular to it. With a >= b the corner p0 has the smallest
    x + y (ties at 45 degrees: the smaller y), so the expected order is known without the code
    under test. Never collinear."""
    a = draw(st.integers(1, 300))
    b = draw(st.integers(1, a))
    g = math.gcd(a, b)
    vx, vy = -b // g, a // g
    m = draw(st.integers(1, max(1, min((999 - b) // vy, (999 - a) // -vx))))
    x0 = draw(st.integers(-m * vx, 999 - a))
    y0 = draw(st.integers(0, 999 - b - m * vy))
    p0 = (x0, y0)
    p1 = (x0 + a, y0 + b)
    p2 = (x0 + a + m * vx, y0 + b + m * vy)
    p3 = (x0 + m * vx, y0 + m * vy)
    return ("quad", (p0, p1, p2, p3))


shapes_st = st.one_of(boxes(), points(), quads())


@st.composite
def canonical_labels(draw):
    """(text written by hand, name, shapes, pad) for a canonical label."""
    pad = draw(st.booleans())
    name = draw(st.none() | names)
    shapes = draw(st.lists(shapes_st, min_size=0 if name else 1, max_size=4))
    text = REF.format(name) if name is not None else ""
    for kind, pts in shapes:
        body = ",".join(f"({num(x, pad)},{num(y, pad)})" for x, y in pts)
        text += f"<|{kind}_start|>{body}<|{kind}_end|>"
    return text, name, shapes, pad


# ---- round trips ---------------------------------------------------------------------------------


@given(canonical_labels())
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_format_of_parse_is_identity_for_canonical_labels(case):
    text, name, shapes, pad = case
    report = validate(text)
    assert report.ok, report.errors
    (label,) = report.labels
    assert label.name == name
    assert [(s.kind, s.points) for s in label.shapes] == [(k, p) for k, p in shapes]
    assert label.span == (0, len(text))
    assert format_label(label, zero_pad=pad) == text


@given(
    st.lists(canonical_labels(), min_size=1, max_size=5),
    st.lists(st.sampled_from(["", " ", ". ", "\n", "a<b "])),
)
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
def test_labels_in_prose_round_trip_and_keep_their_spans(cases, fillers):
    pieces, expected = ["Look: "], []
    for k, (text, _name, _shapes, pad) in enumerate(cases):
        start = sum(map(len, pieces))
        pieces.append(text)
        expected.append((start, text, pad))
        pieces.append("; then " + (fillers[k % len(fillers)] if fillers else ""))
    full = "".join(pieces)
    report = validate(full)
    assert report.ok, report.errors
    assert len(report.labels) == len(cases)
    for label, (start, text, pad) in zip(report.labels, expected):
        assert label.span == (start, start + len(text))
        assert full[label.span[0] : label.span[1]] == text
        assert format_label(label, zero_pad=pad) == text


@given(st.none() | names, st.lists(shapes_st, min_size=1, max_size=4), st.booleans())
def test_parse_of_format_gives_the_label_back(name, shapes, pad):
    text = format_label(name=name, shapes=shapes, zero_pad=pad)
    (label,) = validate(text).labels
    assert label.name == name and [(s.kind, s.points) for s in label.shapes] == shapes


# ---- the fast path and the full scanner agree --------------------------------------------------

NOISE = st.sampled_from(
    [
        "<",
        "|",
        ">",
        " ",
        "\n",
        ",",
        "(",
        ")",
        "0",
        "5",
        "1000",
        "-",
        ".",
        "_start",
        "_end",
        "<|",
        "|>",
        "<|box_start|>",
        "<|box_end|>",
        "<|point_start|>",
        "<|point_end|>",
        "<|object_ref_start|>",
        "<|object_ref_end|>",
        "<|quad_start|>",
        "<|quad_end|>",
        "<|im_end|>",
        "<|foo|>",
        "<box_start>",
        "cat",
    ]
)


@given(
    st.lists(canonical_labels(), max_size=3), st.lists(NOISE, max_size=12), st.randoms(use_true_random=False)
)
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_fast_path_agrees_with_the_full_scanner(cases, noise, rnd):
    pieces = [c[0] for c in cases] + noise
    rnd.shuffle(pieces)
    text = "".join(pieces)
    fast = validate(text)
    errors: list = []
    scan_tags(text, shape_set(DEFAULT_SHAPES), errors)
    assert fast.ok == (not errors), (text, fast.errors, errors)


# ---- mutations are rejected with the right code ------------------------------------------------

GOOD = REF.format("cat") + BOX.format(10, 20, 300, 400)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (GOOD.replace("<|box_end|>", ""), "unbalanced_tag"),
        (GOOD.replace("<|box_start|>", ""), "unbalanced_tag"),
        (GOOD.replace("<|object_ref_end|>", ""), "nested_tag"),
        (GOOD.replace("<|box_end|>", "<|quad_end|>"), "unbalanced_tag"),
        ("<|box_start|>(1,2)<|point_start|>(3,4)<|point_end|>,(5,6)<|box_end|>", "nested_tag"),
        (GOOD.replace("box_start", "bbox_start"), "unknown_tag"),
        (GOOD.replace("<|box_start|>", "<box_start>"), "unknown_tag"),
        (GOOD.replace("<|box_start|>", "<|box_start>"), "unknown_tag"),
        (GOOD.replace("(10,20)", "(10, 20)"), "whitespace_in_label"),
        (GOOD.replace("<|box_start|>", " <|box_start|>"), "whitespace_in_label"),
        (GOOD.replace("cat", " cat"), "whitespace_in_label"),
        (GOOD.replace("(10,20)", "(10.5,20)"), "non_integer"),
        (GOOD.replace("(10,20)", "(ten,20)"), "non_integer"),
        (GOOD.replace("(10,20)", "(+10,20)"), "non_integer"),
        (GOOD.replace("(300,400)", "(300,1000)"), "out_of_range"),
        (GOOD.replace("(10,20)", "(-1,20)"), "out_of_range"),
        (GOOD.replace("(10,20),", ""), "wrong_point_count"),
        (GOOD.replace("(300,400)", "(300,400),(5,6)"), "wrong_point_count"),
        (GOOD.replace("(10,20),(300,400)", ""), "wrong_point_count"),
        (GOOD.replace("(10,20),(300,400)", "10,20,300,400"), "bad_coordinates"),
        (GOOD.replace("(10,20),(300,400)", "(10,20,300,400)"), "bad_coordinates"),
        (GOOD.replace("(10,20),(300,400)", "[10,20],[300,400]"), "bad_coordinates"),
        (GOOD.replace("(10,20),(300,400)", "(300,20),(10,400)"), "box_order"),
        (GOOD.replace("(10,20),(300,400)", "(10,400),(300,20)"), "box_order"),
        (GOOD.replace("(10,20),(300,400)", "(10,20),(10,400)"), "degenerate_box"),
        (GOOD.replace("(10,20),(300,400)", "(10,20),(300,20)"), "degenerate_box"),
        (GOOD.replace("cat", ""), "empty_object_name"),
        (GOOD.replace("cat", "  "), "empty_object_name"),
        (QUAD.format(0, 0, 5, 5, 10, 10, 20, 20), "degenerate_shape"),
        (POINT.format(1, 2).replace("(1,2)", "(1,2),(3,4)"), "wrong_point_count"),
    ],
)
def test_mutation_is_rejected_with_its_code(text, code):
    report = validate(text)
    assert not report.ok
    assert code in report.codes, report.errors
    assert code in ERROR_CODES
    for e in report.errors:
        assert 0 <= e.span[0] <= e.span[1] <= len(text)


# Each inserted before the first coordinate of the first shape, each with the code it must cause.
# ("-" alone is not one: the scanner reads "-0" as 0 and accepts it; see the closing note of issue 21.)
COORDINATE_MUTATIONS = [(" ", "whitespace_in_label"), ("1.", "non_integer"), ("1000", "out_of_range"),
                        ("-1", "out_of_range"), ("+", "non_integer")]


@given(canonical_labels(), st.sampled_from(COORDINATE_MUTATIONS))
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_any_single_mutation_of_a_coordinate_is_caught(case, mutation):
    text, name, shapes, _pad = case
    assume(shapes)  # a bare reference has no coordinate to mutate
    after_ref = text.index("<|object_ref_end|>") if name is not None else 0
    i = text.index("(", text.index("_start|>", after_ref)) + 1
    inserted, code = mutation
    report = validate(text[:i] + inserted + text[i:])
    assert not report.ok
    assert code in report.codes, report.errors


# ---- hand-written tricky cases ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ok", "n_labels"),
    [
        ("no grounding here", True, 0),
        ("", True, 0),
        ("a < b and c > d, x<|y", True, 0),
        (REF.format("the cat"), True, 1),  # a bare reference: prompts and negatives stay valid
        (REF.format("the cat") + " is not in the image.", True, 1),
        (REF.format("cat") + BOX.format(0, 0, 999, 999), True, 1),
        (REF.format("cat") + BOX.format("000", "000", "999", "999"), True, 1),
        (
            REF.format("cats") + BOX.format(1, 2, 3, 4) + BOX.format(5, 6, 7, 8),
            True,
            1,
        ),  # one object, two boxes
        (REF.format("cat") + BOX.format(1, 2, 3, 4) + POINT.format(2, 3), True, 1),  # mixed shapes
        (BOX.format(1, 2, 3, 4) + " " + BOX.format(5, 6, 7, 8), True, 2),  # no reference: two labels
        (POINT.format(5, 5) + "\n" + POINT.format(6, 6), True, 2),
        (REF.format("a") + REF.format("b") + BOX.format(1, 2, 3, 4), True, 2),
        (REF.format("a, b & c (left)") + POINT.format(0, 999), True, 1),
        (REF.format("猫") + POINT.format(10, 10), True, 1),
        ("<|im_start|>assistant\n" + REF.format("cat") + POINT.format(1, 1) + "<|im_end|>", True, 1),
        (QUAD.format(10, 10, 20, 10, 20, 20, 10, 20), True, 1),
        (QUAD.format(10, 20, 20, 20, 20, 10, 10, 10), True, 1),  # counter-clockwise is allowed
        (REF.format("cat") + "\n" + BOX.format(1, 2, 3, 4), False, 1),  # newline inside a label
        ("<|box_start|><|box_end|>", False, 1),
        ("<|box_end|><|box_start|>(1,2),(3,4)", False, 0),
        (REF.format("cat") + "<|box_start|>(1,2),(3,4)<|box_end|><|box_end|>", False, 1),
        ("<|polygon_start|>(1,2),(3,4),(5,0)<|polygon_end|>", False, 0),  # not enabled by default
        ("<|Box_Start|>(1,2),(3,4)<|Box_End|>", False, 0),
        ("<|box_start|>(1,2),(3,4)<|box_end|", False, 0),
        ("<|box_start|>(0001,2),(3,4)<|box_end|>", True, 1),  # leading zeros beyond 3 digits are just zeros
        ("<|box_start|>(1,2),(3,4),<|box_end|>", False, 1),
        ("<|box_start|>((1,2),(3,4))<|box_end|>", False, 1),
    ],
)
def test_tricky_cases(text, ok, n_labels):
    report = validate(text)
    assert report.ok == ok, report.errors
    assert len(report.labels) == n_labels


def test_errors_carry_spans_into_the_text():
    text = "The " + REF.format("dog") + "<|box_start|>(10,20),(50, 40)<|box_end|> and more."
    (err,) = validate(text).errors
    assert err.code == "whitespace_in_label"
    assert text[err.span[0] : err.span[1]] == " "
    text = "x <|box_end|> y"
    (err,) = validate(text).errors
    assert err.code == "unbalanced_tag" and text[err.span[0] : err.span[1]] == "<|box_end|>"


def test_labels_of_a_failing_text_keep_the_good_shapes():
    text = REF.format("cat") + BOX.format(1, 2, 3, 4) + BOX.format(9, 2, 3, 4)
    report = validate(text)
    assert report.codes == ["box_order"]
    (label,) = report.labels
    assert label.shapes == (Shape(kind="box", points=((1, 2), (3, 4))),)


def test_validate_rejects_bad_arguments():
    with pytest.raises(ValueError, match="coords = 'pixels'"):
        validate("x", coords="pixels")
    with pytest.raises(ValueError, match="unknown shape"):
        validate("x", shapes=("box", "circle"))


# ---- formatting options ------------------------------------------------------------------------


def test_zero_padding_writes_three_digits():
    label = GroundingLabel(name="cat", shapes=(Shape(kind="box", points=((8, 20), (300, 999))),))
    assert format_label(label, zero_pad=True) == REF.format("cat") + BOX.format("008", "020", "300", "999")
    assert format_label(label) == REF.format("cat") + BOX.format(8, 20, 300, 999)


@given(quads())
def test_quad_corners_are_reordered_clockwise_from_the_upper_left(q):
    _kind, pts = q
    ul, ur, lr, ll = pts
    for perm in [(lr, ll, ul, ur), (ul, ll, lr, ur), (ur, ul, ll, lr)]:
        assert clockwise_from_upper_left(perm) == (ul, ur, lr, ll)
        text = format_label(shapes=[("quad", perm)], quad_clockwise=True)
        assert validate(text).labels[0].shapes[0].points == (ul, ur, lr, ll)


def test_rotated_quad_is_ordered_clockwise():
    diamond = ((10, 50), (50, 90), (90, 50), (50, 10))  # left, bottom, right, top
    # top and left tie on x + y; the smaller y (top) starts, then clockwise: right, bottom, left
    assert clockwise_from_upper_left(diamond) == ((50, 10), (90, 50), (50, 90), (10, 50))


def test_format_label_refuses_what_the_grammar_cannot_say():
    with pytest.raises(ValueError, match="outside the normalised range"):
        format_label(shapes=[("box", ((0, 0), (1000, 5)))])
    with pytest.raises(ValueError, match="needs exactly 2"):
        format_label(shapes=[("box", ((0, 0),))])
    with pytest.raises(ValueError, match="not registered"):
        format_label(shapes=[("circle", ((0, 0),))])
    with pytest.raises(ValueError, match="object name"):
        format_label(name=" cat", shapes=[("point", ((0, 0),))])


# ---- the shape registry ------------------------------------------------------------------------


def test_polygon_is_registered_but_off_by_default():
    text = REF.format("lake") + "<|polygon_start|>(1,2),(30,4),(5,60),(2,50)<|polygon_end|>"
    assert validate(text).codes == ["unknown_tag"]
    report = validate(text, shapes=DEFAULT_SHAPES + ("polygon",))
    assert report.ok
    assert report.labels[0].shapes[0].points == ((1, 2), (30, 4), (5, 60), (2, 50))
    assert format_label(report.labels[0]) == text
    short = "<|polygon_start|>(1,2),(3,4)<|polygon_end|>"
    assert validate(short, shapes=("polygon",)).codes == ["wrong_point_count"]
    flat = "<|polygon_start|>(1,1),(2,2),(3,3)<|polygon_end|>"
    assert validate(flat, shapes=("polygon",)).codes == ["degenerate_shape"]


def test_a_new_shape_registers_without_touching_the_others():
    name = "arrow"
    if name not in SHAPES:
        register_shape(
            ShapeSpec(
                name, points=2, check=lambda p: None if p[0] != p[1] else ("degenerate_shape", "same ends")
            )
        )
    with pytest.raises(ValueError, match="already registered"):
        register_shape(ShapeSpec(name, points=2))
    text = REF.format("wind") + "<|arrow_start|>(1,2),(30,40)<|arrow_end|>" + BOX.format(1, 2, 3, 4)
    assert validate(text, shapes=DEFAULT_SHAPES + (name,)).ok
    assert validate(text.replace("(30,40)", "(1,2)"), shapes=(*DEFAULT_SHAPES, name)).codes == [
        "degenerate_shape"
    ]
    assert validate(BOX.format(1, 2, 3, 4)).ok  # the defaults are unchanged
    with pytest.raises(ValueError, match="lower_snake_case"):
        ShapeSpec("Bad-Name", points=1)
    with pytest.raises(ValueError, match="object_ref"):
        ShapeSpec("object_ref", points=1)
