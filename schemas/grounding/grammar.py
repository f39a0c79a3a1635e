"""`validate` (text -> report) and `format_label` (label -> canonical text), inverse of each other."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from schemas.grounding.canonical_form import canonical_form
from schemas.grounding.report import GroundingLabel, GroundingReport, Shape
from schemas.grounding.scanner import NORM_MAX, check_shape, scan_tags
from schemas.grounding.shapes import (
    OBJECT_REF,
    SHAPES,
    ShapeSet,
    ShapeSpec,
    clockwise_from_upper_left,
    default_shape_set,
    shape_set,
)
from schemas.grounding.structured import require_integers, scan_json

Coords = Literal["normalized", "absolute", "auto"]
COORDS = ("normalized", "absolute", "auto")

REF_START = f"<|{OBJECT_REF}_start|>"
REF_END = f"<|{OBJECT_REF}_end|>"


def resolve_shapes(shapes: Iterable[str] | None) -> ShapeSet:
    return default_shape_set() if shapes is None else shape_set(tuple(shapes))


def check_coords(coords: str) -> None:
    if coords not in COORDS:
        raise ValueError(f"coords = {coords!r}; allowed: {', '.join(COORDS)}")


def coords_absolute(coords: str) -> tuple[bool, bool]:
    """(tag coordinates are pixels, JSON coordinates are pixels) for a `coords` mode.

    `auto` follows the common conventions: the tag form is normalised (report A.2), JSON
    `bbox_2d` / `point_2d` are absolute pixels (Qwen2.5-VL style).
    """
    check_coords(coords)
    return coords == "absolute", coords != "normalized"


def validate(
    text: str,
    *,
    width: int | None = None,
    height: int | None = None,
    coords: Coords = "normalized",
    shapes: Iterable[str] | None = None,
) -> GroundingReport:
    """Check every grounding label (tag form and JSON boxes/points) in `text`.

    `width`/`height` are the upright image size; they are needed for absolute coordinates only.
    `shapes` names the enabled shapes (default: point, box, quad). The report has `.ok`,
    `.errors` (code, message, character span; sorted by span) and `.labels` (normalised points).
    Labels of a failing text hold only the shapes that passed their own checks.
    """
    if coords == "normalized":
        tags_abs = json_abs = False
    else:
        tags_abs, json_abs = coords_absolute(coords)
    errors: list = []
    labels: list = []
    rescan = None
    sset = resolve_shapes(shapes)
    if "<" in text:
        if not tags_abs and canonical_form(sset).accepts(text):

            def rescan() -> list:
                return scan_tags(text, sset, [])

        else:
            labels = scan_tags(text, sset, errors, tags_abs, width, height)
            if tags_abs:
                for label in labels:
                    label.absolute = True
    if "_2d" in text:
        blocks = scan_json(text, errors)
        for block in blocks:
            if not json_abs:
                require_integers(block, errors)
            for label in block.labels:
                label.absolute = json_abs
                for shape in label.shapes:
                    check_shape(shape, json_abs, width, height, errors)
                labels.append(label)
        if blocks:
            labels.sort(key=lambda lab: lab.start)
    if len(errors) > 1:
        errors.sort(key=lambda e: e.span)
    return GroundingReport(errors, labels, rescan)


def format_label(
    label: GroundingLabel | None = None,
    *,
    name: str | None = None,
    shapes: Iterable[Shape | tuple[str, Iterable[Iterable[int]]]] = (),
    zero_pad: bool = False,
    quad_clockwise: bool = False,
) -> str:
    """The canonical tag text of one label: the inverse of `validate(...).labels`.

    Pass a `GroundingLabel`, or `name` and `shapes` (`Shape` models or `(kind, points)` pairs).
    `zero_pad` writes three-digit coordinates ("008"); `quad_clockwise` reorders quad corners
    clockwise from the upper-left (report Table 5, A.2.2). Raises ValueError on a label the
    grammar cannot express (unknown shape, wrong point count, coordinate outside [0, 999]).
    """
    if label is not None:
        name, shapes = label.name, label.shapes
    parts = []
    for shape in shapes:
        kind, points = (shape.kind, shape.points) if isinstance(shape, Shape) else shape
        spec = SHAPES.get(kind)
        if spec is None:
            raise ValueError(f"shape kind {kind!r} is not registered; registered: {sorted(SHAPES)}")
        pts = tuple((int(x), int(y)) for x, y in points)
        if not spec.count_ok(len(pts)):
            raise ValueError(f"{kind} needs {spec.count_rule()} point(s), got {len(pts)}")
        for x, y in pts:
            if not (0 <= x <= NORM_MAX and 0 <= y <= NORM_MAX):
                raise ValueError(f"{kind} point ({x},{y}) outside the normalised range [0, {NORM_MAX}]")
        parts.append((spec, pts))
    if name is not None and (not name or name != name.strip() or "<|" in name):
        raise ValueError(f"object name {name!r} must be non-empty, without surrounding whitespace or tags")
    return render_label(name, parts, zero_pad=zero_pad, quad_clockwise=quad_clockwise)


def render_label(
    name: str | None, parts: list[tuple[ShapeSpec, tuple]], *, zero_pad: bool, quad_clockwise: bool
) -> str:
    """Tag text from already-checked parts (no validation)."""
    out = [REF_START, name, REF_END] if name is not None else []
    for spec, pts in parts:
        if quad_clockwise and spec.clockwise:
            pts = clockwise_from_upper_left(pts)
        if zero_pad:
            body = ",".join(f"({x:03d},{y:03d})" for x, y in pts)
        else:
            body = ",".join(f"({x},{y})" for x, y in pts)
        out.append(f"<|{spec.name}_start|>{body}<|{spec.name}_end|>")
    return "".join(out)
