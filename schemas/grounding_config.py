"""Config for the grounding validation stage."""

from __future__ import annotations

from typing import Literal

from schemas.config_base import ConfigSection


class GroundingConfig(ConfigSection):
    mode: Literal["reject", "repair", "off"] = "reject"
    coords: Literal["normalized", "absolute", "auto"] = "normalized"
    zero_pad: bool = False
    quad_clockwise: bool = True
