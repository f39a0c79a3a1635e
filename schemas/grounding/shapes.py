"""The shape registry: every geometric primitive the grounding grammar knows (report A.1, goal 2).

A shape is a `ShapeSpec`: its tag name (`box` gives `<|box_start|>` / `<|box_end|>`), how many
points it takes, a semantic check and an unambiguous canonical ordering. The scanner, the
formatter and the repairer read only this registry, so a new shape is one `register_shape` call
and never an edit of the existing ones.

The report's shapes (point, box, quad) are registered and enabled by default. `polygon` and
`polyline` are registered as examples of extension but are *not* in `DEFAULT_SHAPES`: a text
that uses them is rejected with `unknown_tag` unless the caller enables them
(`validate(text, shapes=DEFAULT_SHAPES + ("polygon",))`, or `GroundingConfig.extra_shapes`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

Point = tuple[int, int]
Points = tuple[Point, ...]
# A semantic check returns None, or (error code, message) for the first problem it finds.
ShapeCheck = Callable[[Points], "tuple[str, str] | None"]

SHAPE_NAME = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
OBJECT_REF = "object_ref"
RESERVED_NAMES = frozenset({OBJECT_REF, "vision", "im", "tool_call", "audio", "fim"})


@dataclass(frozen=True)
class ShapeSpec:
    """One geometric primitive of the grammar.

    - `name`: the tag stem; the tags are `<|{name}_start|>` and `<|{name}_end|>`.
    - `points`: the exact number of (x, y) points, or None for a variable count of at least
      `min_points`.
    - `check`: semantic rule on the normalised points (order, degeneracy), or None.
    - `canonical`: reorders the points into the unambiguous canonical order a repair may apply
      (a box's corners become upper-left, lower-right), or None. Its change is counted as
      `canonical_kind`.
    - `clockwise`: the shape's corners may be reordered clockwise from the upper-left when the
      `quad_clockwise` formatting option is on (report A.2.2 and Table 5).
    - `passes`: optional fast predicate for a fixed-size shape, over *all* its shapes in a text,
      each given as its coordinates in digit strings (("10", "20", "300", "400"), ...): True
      exactly when `check` finds nothing in any of them. The fast path (`canonical_form`) uses it
      instead of building points for `check`.
    """

    name: str
    points: int | None
    min_points: int = 1
    check: ShapeCheck | None = None
    canonical: Callable[[Points], Points] | None = None
    canonical_kind: str = "reorder_points"
    clockwise: bool = False
    passes: Callable[[list[tuple[str, ...]]], bool] | None = None

    def __post_init__(self) -> None:
        if not SHAPE_NAME.match(self.name) or self.name in RESERVED_NAMES:
            raise ValueError(
                f"shape name {self.name!r} must be lower_snake_case letters/digits and not one of "
                f"{sorted(RESERVED_NAMES)}"
            )
        if self.points is not None and self.points < 1:
            raise ValueError(f"shape {self.name!r}: points = {self.points}; allowed: >= 1 or None")
        if self.min_points < 1:
            raise ValueError(f"shape {self.name!r}: min_points = {self.min_points}; allowed: >= 1")

    @property
    def start_tag(self) -> str:
        return f"<|{self.name}_start|>"

    @property
    def end_tag(self) -> str:
        return f"<|{self.name}_end|>"

    def count_ok(self, n: int) -> bool:
        return n == self.points if self.points is not None else n >= self.min_points

    def count_rule(self) -> str:
        return f"exactly {self.points}" if self.points is not None else f"at least {self.min_points}"


# --- checks and orderings of the built-in shapes -------------------------------------------------


def _box_check(p: Points) -> tuple[str, str] | None:
    (x1, y1), (x2, y2) = p
    if x1 > x2 or y1 > y2:
        return (
            "box_order",
            f"box corners out of order: ({x1},{y1}),({x2},{y2}); the first corner must be the upper-left",
        )
    if x1 == x2 or y1 == y2:
        return "degenerate_box", f"degenerate box ({x1},{y1}),({x2},{y2}): zero width or height"
    return None


def _boxes_pass(boxes: list[tuple[str, ...]]) -> bool:  # a loop: faster than all(<genexpr>)
    for x1, y1, x2, y2 in boxes:  # noqa: SIM110
        if int(x1) >= int(x2) or int(y1) >= int(y2):
            return False
    return True


def _box_canonical(p: Points) -> Points:
    (x1, y1), (x2, y2) = p
    return ((min(x1, x2), min(y1, y2)), (max(x1, x2), max(y1, y2)))


def _collinear(p: Points) -> bool:
    x0, y0 = p[0]
    for i in range(1, len(p)):
        for j in range(i + 1, len(p)):
            if (p[i][0] - x0) * (p[j][1] - y0) - (p[i][1] - y0) * (p[j][0] - x0) != 0:
                return False
    return True


def _area_check(p: Points) -> tuple[str, str] | None:
    if _collinear(p):
        return "degenerate_shape", f"degenerate shape: its {len(p)} points are collinear (zero area)"
    return None


def _polyline_check(p: Points) -> tuple[str, str] | None:
    if len(set(p)) < 2:
        return "degenerate_shape", "degenerate polyline: all its points coincide"
    return None


def clockwise_from_upper_left(p: Points) -> Points:
    """Corners in clockwise order (image space: y grows downwards), starting from the upper-left.

    Sorted by angle around the centroid; the start is the corner with the smallest x + y (ties:
    smaller y, then smaller x). Deterministic for any input order.
    """
    n = len(p)
    cx = sum(x for x, _ in p) / n
    cy = sum(y for _, y in p) / n
    ring = sorted(p, key=lambda q: (math.atan2(q[1] - cy, q[0] - cx), q[1], q[0]))
    start = min(range(n), key=lambda i: (ring[i][0] + ring[i][1], ring[i][1], ring[i][0]))
    return tuple(ring[start:] + ring[:start])


POINT = ShapeSpec("point", points=1)
BOX = ShapeSpec(
    "box",
    points=2,
    check=_box_check,
    canonical=_box_canonical,
    canonical_kind="swap_corners",
    passes=_boxes_pass,
)
QUAD = ShapeSpec("quad", points=4, check=_area_check, clockwise=True)
POLYGON = ShapeSpec("polygon", points=None, min_points=3, check=_area_check, clockwise=False)
POLYLINE = ShapeSpec("polyline", points=None, min_points=2, check=_polyline_check)

SHAPES: dict[str, ShapeSpec] = {}
DEFAULT_SHAPES: tuple[str, ...] = ("point", "box", "quad")


def register_shape(spec: ShapeSpec, *, replace: bool = False) -> ShapeSpec:
    """Add a shape to the registry. It is used wherever a caller enables it by name."""
    if spec.name in SHAPES and not replace:
        raise ValueError(f"shape {spec.name!r} is already registered; pass replace=True to override it")
    SHAPES[spec.name] = spec
    shape_set.cache_clear()
    _DEFAULT_SET.clear()
    return spec


# Special tokens that are not grounding tags but may legitimately appear in text. A grounding label
# ends at one of them; they are never reported as unknown.
PASSTHROUGH_TAGS = frozenset(
    {
        "endoftext",
        "im_start",
        "im_end",
        "vision_start",
        "vision_end",
        "vision_pad",
        "image_pad",
        "video_pad",
        "fim_prefix",
        "fim_middle",
        "fim_suffix",
        "fim_pad",
        "repo_name",
        "file_sep",
        "audio_start",
        "audio_end",
        "audio_pad",
    }
)


@dataclass(frozen=True)
class ShapeSet:
    """The shapes enabled for one validation: a lookup from tag name to its role.

    `tags` maps a tag name (without `<|`/`|>`) to (spec or None for the object reference,
    is_start, end tag name, compiled fast-path pattern of the coordinate list or None).
    """

    names: tuple[str, ...]
    specs: tuple[ShapeSpec, ...]
    tags: dict
    registered_off: frozenset  # tag names of registered shapes that are not enabled here
    cache: dict = field(default_factory=dict, compare=False, hash=False)  # derived objects (fast path)


_DEFAULT_SET: list[ShapeSet] = []


def default_shape_set() -> ShapeSet:
    """`shape_set(DEFAULT_SHAPES)`, without the cache lookup (this is on every validation)."""
    if not _DEFAULT_SET:
        _DEFAULT_SET.append(shape_set(DEFAULT_SHAPES))
    return _DEFAULT_SET[0]


def _points_pattern(spec: ShapeSpec) -> re.Pattern:
    """The exact canonical coordinate list of a fixed-size shape, one group per number.

    A variable-size shape gets the generic `(x,y)(,(x,y))*` pattern without groups.
    """
    if spec.points is None:
        return re.compile(r"\(\d+,\d+\)(?:,\(\d+,\d+\))*")
    return re.compile(",".join([r"\((\d+),(\d+)\)"] * spec.points))


@lru_cache(maxsize=64)
def shape_set(names: tuple[str, ...] = DEFAULT_SHAPES) -> ShapeSet:
    unknown = [n for n in names if n not in SHAPES]
    if unknown:
        raise ValueError(f"shapes = {list(names)}: unknown shape(s) {unknown}; registered: {sorted(SHAPES)}")
    tags: dict = {
        f"{OBJECT_REF}_start": (None, True, f"{OBJECT_REF}_end", None),
        f"{OBJECT_REF}_end": (None, False, None, None),
    }
    for n in names:
        spec = SHAPES[n]
        tags[f"{n}_start"] = (spec, True, f"{n}_end", _points_pattern(spec))
        tags[f"{n}_end"] = (spec, False, None, None)
    off = frozenset(f"{n}_{e}" for n in SHAPES if n not in names for e in ("start", "end"))
    return ShapeSet(tuple(names), tuple(SHAPES[n] for n in names), tags, off)


for _spec in (POINT, BOX, QUAD, POLYGON, POLYLINE):
    register_shape(_spec)
