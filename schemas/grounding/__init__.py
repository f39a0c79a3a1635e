"""The grounding-tag grammar of the openPangu-VL report (A.1, A.2; §3.2 validation; Table 5 formatting).

    validate(text, *, width=None, height=None, coords="normalized", shapes=None) -> GroundingReport
    format_label(label | name=..., shapes=..., *, zero_pad=False, quad_clockwise=False) -> str
    repair(text, *, width, height, coords, zero_pad, quad_clockwise, clamp_tolerance, json_to_tags)
        -> (fixed_text, [GroundingChange])
    register_shape(ShapeSpec(...))  # new shapes without touching the existing ones

Pure stdlib + pydantic; imports nothing from the other vlpack packages.
"""

from schemas.grounding.grammar import COORDS, format_label, validate
from schemas.grounding.repair import repair
from schemas.grounding.report import (
    ERROR_CODES,
    REPAIR_KINDS,
    GroundingChange,
    GroundingError,
    GroundingLabel,
    GroundingReport,
    Shape,
)
from schemas.grounding.shapes import (
    DEFAULT_SHAPES,
    SHAPES,
    ShapeSpec,
    clockwise_from_upper_left,
    register_shape,
)

__all__ = [
    "COORDS",
    "DEFAULT_SHAPES",
    "ERROR_CODES",
    "REPAIR_KINDS",
    "SHAPES",
    "GroundingChange",
    "GroundingError",
    "GroundingLabel",
    "GroundingReport",
    "Shape",
    "ShapeSpec",
    "clockwise_from_upper_left",
    "format_label",
    "register_shape",
    "repair",
    "validate",
]
