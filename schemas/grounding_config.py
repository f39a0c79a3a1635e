"""Config for the grounding validation stage (report §3.2, A.2; grammar in `schemas.grounding`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from schemas.config_base import ConfigSection
from schemas.grounding.shapes import DEFAULT_SHAPES, SHAPES


class GroundingConfig(ConfigSection):
    """How the `grounding` stage treats grounding labels.

    - `mode`: `reject` marks a sample with any grounding error `invalid` (reason
      `grounding.<code>`); `repair` first fixes what is unambiguous (see `schemas.grounding.repair`)
      and rewrites the text into the canonical tag form, then rejects what is left; `off` skips
      the stage.
    - `coords`: how coordinates are read. `normalized`: integers in [0, 999] everywhere;
      `absolute`: pixels of the upright image everywhere; `auto`: tags normalised, JSON
      `bbox_2d`/`point_2d` in pixels (the Qwen2.5-VL convention).
    - `zero_pad`, `quad_clockwise`: the canonical form a repair writes (report Table 5, A.2.2).
    - `clamp_tolerance`: on repair, an absolute coordinate at most this fraction of the image side
      outside the image is clamped onto the edge; further out it is rejected.
    - `json_to_tags`: on repair, JSON boxes/points are rewritten in the tag form.
    - `extra_shapes`: registered shapes enabled beyond point/box/quad (e.g. `polygon`).
    - `require_labels`: a `grounding`-task sample without any label is rejected (`no_labels`).
    """

    mode: Literal["reject", "repair", "off"] = "reject"
    coords: Literal["normalized", "absolute", "auto"] = "normalized"
    zero_pad: bool = False
    quad_clockwise: bool = True
    clamp_tolerance: float = Field(default=0.02, ge=0.0, le=0.5)
    json_to_tags: bool = True
    extra_shapes: tuple[str, ...] = ()
    require_labels: bool = False

    @field_validator("extra_shapes")
    @classmethod
    def _known_shapes(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        allowed = sorted(n for n in SHAPES if n not in DEFAULT_SHAPES)
        bad = [n for n in v if n not in allowed]
        if bad:
            raise ValueError(f"unknown or already-enabled shape(s) {bad}; allowed: {allowed}")
        return tuple(dict.fromkeys(v))

    @property
    def shapes(self) -> tuple[str, ...]:
        """The enabled shapes: the report's three plus `extra_shapes`."""
        return DEFAULT_SHAPES + self.extra_shapes
