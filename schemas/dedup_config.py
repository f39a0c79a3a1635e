"""Config for exact and near-duplicate caption removal."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.config_base import ConfigSection


class DedupConfig(ConfigSection):
    enabled: bool = True
    exact: bool = True
    near: bool = True
    threshold: float = Field(default=0.8, gt=0.0, le=1.0)
    ngram: int = Field(default=5, ge=1, le=32)
    num_perm: int = Field(default=128, ge=8, le=1024)
    scope: Literal["global", "source"] = "global"
    key: Literal["caption", "caption+image"] = "caption"
    image_exact: bool = False
    tasks: tuple[str, ...] = ("caption",)
