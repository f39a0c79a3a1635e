"""What a validation returns: labels (pydantic models), errors with character spans, repairs."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

# Error codes. A rejected sample's ledger reason is `grounding.<code>`.
UNBALANCED_TAG = "unbalanced_tag"  # a start tag without its end, an end without its start, or a mismatch
NESTED_TAG = "nested_tag"  # a tag opened inside an open label part
UNKNOWN_TAG = "unknown_tag"  # a <|...|> tag that is not part of the grammar, or a malformed grounding tag
WHITESPACE_IN_LABEL = "whitespace_in_label"  # inside a shape, around a name, or between a label's tags
NON_INTEGER = "non_integer"  # a coordinate that is not an integer
OUT_OF_RANGE = "out_of_range"  # a normalised coordinate outside [0, 999]
OUTSIDE_IMAGE = "outside_image"  # an absolute coordinate outside the image
MISSING_IMAGE_SIZE = "missing_image_size"  # absolute coordinates but no image size to normalise with
WRONG_POINT_COUNT = "wrong_point_count"  # e.g. a box with one or three points
BAD_COORDINATES = "bad_coordinates"  # the coordinate list is not `(x,y),(x,y)...`
BOX_ORDER = "box_order"  # box corners not upper-left then lower-right
DEGENERATE_BOX = "degenerate_box"  # zero width or height
DEGENERATE_SHAPE = "degenerate_shape"  # quad/polygon with collinear points, polyline of one point
EMPTY_OBJECT_NAME = "empty_object_name"
BAD_JSON = "bad_json"  # a structured output (bbox_2d / point_2d) that does not parse or has the wrong form
NO_LABELS = "no_labels"  # (stage only) a grounding-task sample without any label, when required

ERROR_CODES = frozenset(
    {
        UNBALANCED_TAG,
        NESTED_TAG,
        UNKNOWN_TAG,
        WHITESPACE_IN_LABEL,
        NON_INTEGER,
        OUT_OF_RANGE,
        OUTSIDE_IMAGE,
        MISSING_IMAGE_SIZE,
        WRONG_POINT_COUNT,
        BAD_COORDINATES,
        BOX_ORDER,
        DEGENERATE_BOX,
        DEGENERATE_SHAPE,
        EMPTY_OBJECT_NAME,
        BAD_JSON,
        NO_LABELS,
    }
)

# Repair kinds (what `repair` may change), counted per row by the stage as `repair.<kind>`.
REPAIR_KINDS = frozenset(
    {
        "strip_whitespace",  # whitespace inside a label removed
        "clamp_1000",  # a normalised 1000 written as 999
        "clamp_to_image",  # an absolute coordinate just outside the image moved onto its edge
        "absolute_to_normalized",  # pixel coordinates converted to [0, 999]
        "swap_corners",  # box corners reordered to upper-left, lower-right
        "quad_clockwise",  # quad corners reordered clockwise from the upper-left
        "zero_pad",  # coordinates written with three digits
        "unpad",  # zero padding removed
        "json_to_tags",  # a JSON box/point list rewritten in the tag form
        "reformat",  # any other rewrite into the canonical form
    }
)

Span = tuple[int, int]


class Shape(BaseModel):
    """One geometric primitive with normalised integer points in [0, 999]."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    points: tuple[tuple[int, int], ...]


class GroundingLabel(BaseModel):
    """An optional object name followed by zero or more shapes (zero: a bare reference)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = None
    shapes: tuple[Shape, ...] = ()
    span: Span = (0, 0)
    source: Literal["tags", "json"] = "tags"


class GroundingError(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    message: str
    span: Span

    def __str__(self) -> str:
        return f"[{self.code}] {self.span[0]}-{self.span[1]}: {self.message}"


class GroundingChange(BaseModel):
    """One kind of fix applied to one label (or one JSON block) by `repair`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    span: Span  # in the original text
    before: str
    after: str


class GroundingReport:
    """The result of `validate`. `labels` are built lazily, so a plain ok/error check stays fast."""

    __slots__ = ("_labels", "_raw", "_rescan", "errors")

    def __init__(self, errors: list[GroundingError], raw_labels: list, rescan=None) -> None:
        self.errors = errors
        self._raw = raw_labels
        self._rescan = rescan  # a valid text taken by the fast path is scanned again only if asked
        self._labels: list[GroundingLabel] | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def codes(self) -> list[str]:
        """Error codes in text order, each once."""
        return list(dict.fromkeys(e.code for e in self.errors))

    @property
    def raw_labels(self) -> list:
        """The scanner's labels (internal form, used by `repair`)."""
        if self._rescan is not None:
            self._raw = sorted(self._rescan() + self._raw, key=lambda r: r.start)
            self._rescan = None
        return self._raw

    @property
    def labels(self) -> list[GroundingLabel]:
        if self._labels is None:
            self._labels = [r.to_model() for r in self.raw_labels]
        return self._labels

    def __repr__(self) -> str:
        return f"GroundingReport(ok={self.ok}, labels={len(self.labels)}, errors={self.codes})"
