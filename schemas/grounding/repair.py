"""`repair`: rewrite what is unambiguous, leave everything else as it was.

Fixed: whitespace inside a label, a normalised 1000 (-> 999), box corners in the wrong order,
absolute coordinates (-> normalised; just outside the image within `clamp_tolerance` -> clamped
onto the edge), padding (to the `zero_pad` choice), quad corner order (when `quad_clockwise`),
JSON boxes/points (-> tag form, when `json_to_tags`).

Never guessed: unbalanced, nested or unknown tags, non-integers, wrong point counts, degenerate
shapes, empty names, coordinates far outside the range. A label with any of these is left verbatim,
so validating the repaired text still reports it.
"""

from __future__ import annotations

from collections.abc import Iterable

from schemas.grounding.grammar import Coords, coords_absolute, render_label, resolve_shapes
from schemas.grounding.report import GroundingChange
from schemas.grounding.scanner import DIGITS, NORM_MAX, RawLabel, RawShape, normalize_coord, scan_tags
from schemas.grounding.shapes import clockwise_from_upper_left
from schemas.grounding.structured import JsonBlock, scan_json

JSON_LABEL_SEPARATOR = ", "


def repair(
    text: str,
    *,
    width: int | None = None,
    height: int | None = None,
    coords: Coords = "normalized",
    zero_pad: bool = False,
    quad_clockwise: bool = True,
    clamp_tolerance: float = 0.0,
    json_to_tags: bool = True,
    shapes: Iterable[str] | None = None,
) -> tuple[str, list[GroundingChange]]:
    """(fixed text, changes). Each change is one fix kind applied to one label or JSON block.

    `clamp_tolerance` is a fraction of the image side: an absolute coordinate at most that far
    outside the image is clamped onto its edge. Validate the fixed text to learn what is left.
    """
    if not 0.0 <= clamp_tolerance <= 0.5:
        raise ValueError(f"clamp_tolerance = {clamp_tolerance}; allowed: 0 <= x <= 0.5")
    tags_abs, json_abs = coords_absolute(coords)
    if "<" not in text and "_2d" not in text:
        return text, []
    fix = _Fixer(width, height, clamp_tolerance, zero_pad, quad_clockwise)
    errors: list = []  # the caller validates the result; scan errors are not needed here
    edits: list[tuple[int, int, str, set]] = []
    for label in (
        scan_tags(text, resolve_shapes(shapes), errors, tags_abs, width, height) if "<" in text else []
    ):
        out = fix.label(label, tags_abs, text)
        if out is not None:
            edits.append((label.start, label.end, out[0], out[1]))
    if json_to_tags and "_2d" in text:
        for block in scan_json(text, errors):
            out = fix.block(block, json_abs)
            if out is not None:
                edits.append((block.start, block.end, out[0], out[1]))
    if not edits:
        return text, []
    edits.sort(key=lambda e: e[0])
    pieces: list[str] = []
    changes: list[GroundingChange] = []
    pos = 0
    for start, end, new, kinds in edits:
        before = text[start:end]
        if new == before or start < pos:
            continue  # nothing to do, or overlapping an earlier edit (tags inside a JSON string)
        pieces.append(text[pos:start])
        pieces.append(new)
        pos = end
        for kind in sorted(kinds or {"reformat"}):
            changes.append(GroundingChange(kind=kind, span=(start, end), before=before, after=new))
    pieces.append(text[pos:])
    return "".join(pieces), changes


class _Fixer:
    def __init__(self, width, height, tolerance: float, zero_pad: bool, quad_clockwise: bool) -> None:
        self.width = width
        self.height = height
        self.tolerance = tolerance
        self.zero_pad = zero_pad
        self.quad_clockwise = quad_clockwise

    def label(self, label: RawLabel, absolute: bool, text: str) -> tuple[str, set] | None:
        kinds: set = set()
        name = self.name(label.name, kinds)
        if name is False:
            return None
        if label.gap_ws:
            kinds.add("strip_whitespace")
        parts = []
        for shape in label.shapes:
            fixed = self.shape(shape, absolute, kinds)
            if fixed is None:
                return None
            parts.append(fixed)
            if not absolute:
                self.padding(shape.content, kinds)
        return render_label(name, parts, zero_pad=self.zero_pad, quad_clockwise=False), kinds

    def block(self, block: JsonBlock, absolute: bool) -> tuple[str, set] | None:
        if block.extra_keys:
            return None  # converting would drop the other keys; leave the JSON as it is
        kinds = {"json_to_tags"}
        rendered: list[str] = []
        prev_name: object = object()
        group: list = []
        for label in block.labels:
            name = self.name(label.name, kinds)
            if name is False:
                return None
            shape = label.shapes[0]
            if shape.values is None or (not absolute and any(isinstance(v, float) for v in shape.values)):
                return None
            fixed = self.shape(shape, absolute, kinds)
            if fixed is None:
                return None
            if name == prev_name and name is not None:
                group.append(fixed)
                continue
            if group:
                rendered.append(render_label(prev_name, group, zero_pad=self.zero_pad, quad_clockwise=False))
            prev_name, group = name, [fixed]
        if group:
            rendered.append(render_label(prev_name, group, zero_pad=self.zero_pad, quad_clockwise=False))
        return JSON_LABEL_SEPARATOR.join(rendered), kinds

    @staticmethod
    def name(name: str | None, kinds: set):
        if name is None:
            return None
        stripped = name.strip()
        if not stripped or "<|" in stripped:
            return False
        if stripped != name:
            kinds.add("strip_whitespace")
        return stripped

    def shape(self, shape: RawShape, absolute: bool, kinds: set):
        v = shape.values
        if v is None:
            return None
        if shape.ws:
            kinds.add("strip_whitespace")
        out = []
        if absolute:
            w, h = self.width, self.height
            if not w or not h:
                return None
            for k, x in enumerate(v):
                side = w if k % 2 == 0 else h
                slack = self.tolerance * side
                if x < 0 or x > side:
                    if -slack <= x <= side + slack:
                        x = 0 if x < 0 else side
                        kinds.add("clamp_to_image")
                    else:
                        return None
                out.append(normalize_coord(x, side))
            kinds.add("absolute_to_normalized")
        else:
            for x in v:
                if x == NORM_MAX + 1:
                    x = NORM_MAX
                    kinds.add("clamp_1000")
                elif x < 0 or x > NORM_MAX:
                    return None
                out.append(x)
        spec = shape.spec
        pts = tuple(zip(out[0::2], out[1::2]))
        if spec.canonical is not None:
            canon = spec.canonical(pts)
            if canon != pts:
                kinds.add(spec.canonical_kind)
                pts = canon
        if self.quad_clockwise and spec.clockwise:
            ordered = clockwise_from_upper_left(pts)
            if ordered != pts:
                kinds.add("quad_clockwise")
                pts = ordered
        if spec.check is not None and spec.check(pts) is not None:
            return None
        return spec, pts

    def padding(self, content: str, kinds: set) -> None:
        for d in DIGITS.findall(content):
            if self.zero_pad and len(d) != 3:
                kinds.add("zero_pad")
                return
            if not self.zero_pad and len(d) > 1 and d[0] == "0":
                kinds.add("unpad")
                return
