"""The hand-written scanner of the tag grammar (report A.1 / A.2).

    label  := [ <|object_ref_start|> NAME <|object_ref_end|> ] shape*
    shape  := <|S_start|> (x,y)[,(x,y)]* <|S_end|>      for each enabled shape S
    NAME   := non-empty text without tags and without leading/trailing whitespace

Free text surrounds labels. A label's parts follow each other with nothing in between; whitespace
between an object reference and its first shape is `whitespace_in_label`, while text (or
whitespace) between two shapes with no reference in front starts a new, reference-less label.

The text is split once on `<|name|>` with a compiled regex (C speed), then walked as a list of
(tag, following text) pairs: one dict lookup per tag and one `fullmatch` per shape, with a
diagnostic slow path only for malformed content. `validate` runs this full scanner only when the
one-regex fast path (`canonical_form`) does not accept the text, or when labels are asked for.
"""

from __future__ import annotations

import re

from schemas.grounding.report import (
    BAD_COORDINATES,
    EMPTY_OBJECT_NAME,
    MISSING_IMAGE_SIZE,
    NESTED_TAG,
    NON_INTEGER,
    OUT_OF_RANGE,
    OUTSIDE_IMAGE,
    UNBALANCED_TAG,
    UNKNOWN_TAG,
    WHITESPACE_IN_LABEL,
    WRONG_POINT_COUNT,
    GroundingError,
    GroundingLabel,
    Shape,
)
from schemas.grounding.shapes import PASSTHROUGH_TAGS, ShapeSet, ShapeSpec

TAG_SPLIT = re.compile(r"<\|([A-Za-z0-9_]{1,48})\|>")
# A grounding-looking tag that is not exactly `<|name|>` (a missing bar, stray spaces, capitals).
MALFORMED_TAG = re.compile(
    r"<(?!\|[A-Za-z0-9_]{1,48}\|>)\|?[ \t]*[A-Za-z_]*(?:object_ref|box|quad|point|polygon|polyline)"
    r"_(?:start|end)[ \t]*\|?>"
)
STRICT_POINTS = re.compile(r"\(\d+,\d+\)(?:,\(\d+,\d+\))*")
DIGITS = re.compile(r"\d+")
LOOSE_POINTS = re.compile(r"\([^()]*\)(?:,\([^()]*\))*")
PAIR = re.compile(r"\(([^()]*)\)")
INTEGER = re.compile(r"-?\d+")
DECIMAL = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?")
WHITESPACE = re.compile(r"\s+")

NORM_MAX = 999


class RawShape:
    """A shape as scanned: raw values (None if unparsable), normalised points once checked."""

    __slots__ = ("content", "norm", "span", "spec", "values", "ws")

    def __init__(self, spec: ShapeSpec, values: list | None, span: tuple[int, int], content: str, ws: bool):
        self.spec = spec
        self.values = values
        self.span = span  # the whole shape, tags included
        self.content = content  # the text between the tags, as written
        self.ws = ws
        self.norm: tuple | None = None

    def to_model(self) -> Shape:
        return Shape.model_construct(kind=self.spec.name, points=self.norm)


class RawLabel:
    __slots__ = ("absolute", "end", "gap_ws", "name", "name_span", "shapes", "source", "start")

    def __init__(self, start: int, name: str | None, name_span: tuple[int, int] | None, source: str = "tags"):
        self.start = start
        self.end = start
        self.name = name
        self.name_span = name_span
        self.shapes: list[RawShape] = []
        self.gap_ws = False  # whitespace between the reference and the first shape
        self.source = source
        self.absolute = False

    def to_model(self) -> GroundingLabel:
        shapes = tuple(s.to_model() for s in self.shapes if s.norm is not None)
        return GroundingLabel.model_construct(
            name=self.name, shapes=shapes, span=(self.start, self.end), source=self.source
        )


def _err(errors: list, code: str, message: str, start: int, end: int) -> None:
    errors.append(GroundingError(code=code, message=message, span=(start, end)))


def scan_tags(
    text: str,
    shapes: ShapeSet,
    errors: list,
    absolute: bool = False,
    width: int | None = None,
    height: int | None = None,
) -> list[RawLabel]:
    """Labels in tag form, in text order, each shape checked (`check_shape`); errors go to `errors`."""
    if "<" not in text:
        return []
    parts = TAG_SPLIT.split(text)
    n = len(parts)
    if text.count("<") != n >> 1 and ("_start" in text or "_end" in text):
        for m in MALFORMED_TAG.finditer(text):
            _err(
                errors,
                UNKNOWN_TAG,
                f"malformed grounding tag {m.group()!r}; tags are written <|name|>",
                m.start(),
                m.end(),
            )
    labels: list[RawLabel] = []
    if n == 1:
        return labels
    tags = shapes.tags
    pos = len(parts[0])
    label: RawLabel | None = None  # the label that a following shape may join
    join_ws = False  # the text since `label` ended is whitespace that may still join (after a reference)
    i = 1
    while i < n:
        tag = parts[i]
        after = parts[i + 1]
        tstart = pos
        tend = pos + len(tag) + 4
        role = tags.get(tag)
        if role is not None and role[1] and i + 2 < n and parts[i + 2] == role[2]:
            # A complete part: start tag, content, its own end tag.
            spec = role[0]
            cend = tend + len(after)
            pend = cend + len(role[2]) + 4
            if spec is None:
                label = RawLabel(tstart, after, (tend, cend))
                label.end = pend
                if not after or after[0].isspace() or after[-1].isspace():
                    _object_ref_problem(after, tstart, tend, cend, pend, errors)
                labels.append(label)
                join_ws = True
            else:
                m = role[3].fullmatch(after)
                if m is not None and spec.points is not None:
                    # Fast path: canonical coordinates of a fixed-size shape.
                    values = list(map(int, m.groups()))
                    shape = RawShape(spec, values, (tstart, pend), after, False)
                    if absolute or max(values) > NORM_MAX:
                        check_shape(shape, absolute, width, height, errors)
                    else:
                        it = iter(values)
                        pts = tuple(zip(it, it))
                        problem = spec.check(pts) if spec.check is not None else None
                        if problem is None:
                            shape.norm = pts
                        else:
                            _err(errors, problem[0], problem[1], tstart, pend)
                else:
                    shape = _shape(spec, after, tstart, tend, pend, errors)
                    check_shape(shape, absolute, width, height, errors)
                if label is not None and label.end == tstart:
                    label.shapes.append(shape)
                elif label is not None and join_ws and not label.shapes and label.end < tstart:
                    label.gap_ws = True
                    _err(
                        errors,
                        WHITESPACE_IN_LABEL,
                        "whitespace between the object reference and its shape",
                        label.end,
                        tstart,
                    )
                    label.shapes.append(shape)
                else:
                    label = RawLabel(tstart, None, None)
                    label.shapes.append(shape)
                    labels.append(label)
                label.end = pend
                join_ws = False
            gap = parts[i + 3]
            if join_ws and gap and not gap.isspace():
                join_ws = False
            pos = pend + len(gap)
            i += 4
            continue
        label = None
        join_ws = False
        if role is None:
            if tag not in PASSTHROUGH_TAGS and not tag.startswith("extra_"):
                if tag in shapes.registered_off:
                    msg = f"tag <|{tag}|> belongs to a registered shape that is not enabled here"
                else:
                    msg = f"unknown tag <|{tag}|>"
                _err(errors, UNKNOWN_TAG, msg, tstart, tend)
            pos = tend + len(after)
            i += 2
        elif not role[1]:
            _err(errors, UNBALANCED_TAG, f"<|{tag}|> without a matching start tag", tstart, tend)
            pos = tend + len(after)
            i += 2
        else:
            i, pos = _broken_part(parts, i, tstart, tend, role[2], tags, errors)
    return labels


def _broken_part(parts: list, i: int, tstart: int, tend: int, end_name: str, tags: dict, errors: list):
    """A start tag whose next tag is not its end: nested, mismatched or unclosed. Returns (i, pos)."""
    tag = parts[i]
    n = len(parts)
    if i + 2 >= n:
        _err(errors, UNBALANCED_TAG, f"<|{tag}|> is never closed by <|{end_name}|>", tstart, tend)
        return i + 2, tend + len(parts[i + 1])
    nxt = parts[i + 2]
    nstart = tend + len(parts[i + 1])
    nend = nstart + len(nxt) + 4
    role = tags.get(nxt)
    if role is not None and role[1]:
        # Another grounding tag opens inside this part: nested. Skip to this part's end if it has one.
        _err(errors, NESTED_TAG, f"<|{nxt}|> opened inside <|{tag}|>", nstart, nend)
        pos = nstart
        j = i + 2
        while j < n:
            if parts[j] == end_name:
                return j + 2, pos + len(parts[j]) + 4 + len(parts[j + 1])
            pos += len(parts[j]) + 4 + len(parts[j + 1])
            j += 2
        _err(errors, UNBALANCED_TAG, f"<|{tag}|> is never closed by <|{end_name}|>", tstart, tend)
        return i + 4, nend + len(parts[i + 3])
    if role is not None:
        _err(errors, UNBALANCED_TAG, f"<|{tag}|> closed by <|{nxt}|> instead of <|{end_name}|>", tstart, nend)
        return i + 4, nend + len(parts[i + 3])
    _err(errors, UNBALANCED_TAG, f"<|{tag}|> is never closed by <|{end_name}|>", tstart, tend)
    return i + 2, nstart


def _object_ref_problem(name: str, tstart: int, cstart: int, cend: int, pend: int, errors: list) -> None:
    if not name or name.isspace():
        _err(errors, EMPTY_OBJECT_NAME, "empty object name", tstart, pend)
    elif name[0].isspace() or name[-1].isspace():
        _err(
            errors,
            WHITESPACE_IN_LABEL,
            f"object name {name!r} has leading or trailing whitespace",
            cstart,
            cend,
        )


def _shape(spec: ShapeSpec, content: str, tstart: int, cstart: int, pend: int, errors: list) -> RawShape:
    """A shape off the fast path: variable size, wrong point count, or malformed content."""
    if STRICT_POINTS.fullmatch(content):
        shape = RawShape(spec, [int(v) for v in DIGITS.findall(content)], (tstart, pend), content, False)
    else:
        shape = _diagnose(spec, content, tstart, cstart, pend, errors)
        if shape.values is None:
            return shape
    if not spec.count_ok(len(shape.values) >> 1):
        _err(
            errors,
            WRONG_POINT_COUNT,
            f"{spec.name} needs {spec.count_rule()} point(s), got {len(shape.values) >> 1}",
            cstart,
            cstart + len(content),
        )
        shape.values = None
    return shape


def _diagnose(spec: ShapeSpec, content: str, tstart: int, cstart: int, pend: int, errors: list) -> RawShape:
    """The slow path: say precisely what is wrong with a shape's coordinate list."""
    cend = cstart + len(content)
    ws = False
    body = content
    m = WHITESPACE.search(content)
    if m:
        ws = True
        _err(
            errors,
            WHITESPACE_IN_LABEL,
            f"whitespace inside <|{spec.name}_start|> ... <|{spec.name}_end|>",
            cstart + m.start(),
            cstart + m.end(),
        )
        body = WHITESPACE.sub("", content)
    shape = RawShape(spec, None, (tstart, pend), content, ws)
    if not body:
        _err(
            errors,
            WRONG_POINT_COUNT,
            f"{spec.name} has no coordinates; needs {spec.count_rule()} point(s)",
            cstart,
            cend,
        )
        return shape
    if STRICT_POINTS.fullmatch(body):
        shape.values = [int(v) for v in DIGITS.findall(body)]
        return shape
    if not LOOSE_POINTS.fullmatch(body):
        _err(
            errors, BAD_COORDINATES, f"coordinates {content!r} are not written (x,y),(x,y),...", cstart, cend
        )
        return shape
    values: list = []
    problem = None
    for pair in PAIR.findall(body):
        items = pair.split(",")
        if len(items) != 2:
            _err(errors, BAD_COORDINATES, f"point ({pair}) must have exactly two coordinates", cstart, cend)
            return shape
        for item in items:
            if INTEGER.fullmatch(item):
                values.append(int(item))
            elif problem is None:
                kind = "a decimal" if DECIMAL.fullmatch(item) else "not a plain integer"
                problem = f"coordinate {item!r} is {kind}; coordinates are integers (digits only)"
    if problem is not None:
        _err(errors, NON_INTEGER, problem, cstart, cend)
        return shape
    shape.values = values
    return shape


def check_shape(shape: RawShape, absolute: bool, width: int | None, height: int | None, errors: list) -> None:
    """Range (normalised) or image bounds (absolute), then the shape's own rule; sets `shape.norm`."""
    v = shape.values
    if v is None:
        return
    s, e = shape.span
    if absolute:
        if not width or not height:
            _err(errors, MISSING_IMAGE_SIZE, "absolute coordinates need the image width and height", s, e)
            return
        xs = v[0::2]
        ys = v[1::2]
        if min(xs) < 0 or min(ys) < 0 or max(xs) > width or max(ys) > height:
            _err(
                errors,
                OUTSIDE_IMAGE,
                f"{shape.spec.name} {_fmt_values(v)} lies outside the {width}x{height} image",
                s,
                e,
            )
            return
        v = [normalize_coord(x, width if k % 2 == 0 else height) for k, x in enumerate(v)]
    elif max(v) > NORM_MAX or min(v) < 0:
        bad = next(x for x in v if x < 0 or x > NORM_MAX)
        _err(errors, OUT_OF_RANGE, f"coordinate {bad} outside the normalised range [0, {NORM_MAX}]", s, e)
        return
    pts = tuple(zip(v[0::2], v[1::2]))
    check = shape.spec.check
    if check is not None:
        problem = check(pts)
        if problem is not None:
            _err(errors, problem[0], problem[1], s, e)
            return
    shape.norm = pts


def normalize_coord(v: float, side: int) -> int:
    """Pixel coordinate in [0, side] -> normalised integer in [0, 999]: floor(v * 1000 / side), capped."""
    return min(NORM_MAX, int(v * 1000 // side))


def _fmt_values(v: list) -> str:
    return ",".join(f"({v[k]},{v[k + 1]})" for k in range(0, len(v) - 1, 2))
