"""Config for caption/text rules, language id and image-metadata rules."""

from __future__ import annotations

from pydantic import Field

from schemas.config_base import ConfigSection


class FilterConfig(ConfigSection):
    enabled: bool = True
    # Tasks whose assistant text the caption rules apply to.
    tasks: tuple[str, ...] = ("caption",)
    # Rule name -> parameters; a rule absent here uses its defaults, `false` disables it.
    rules: dict[str, dict | bool] = Field(default_factory=dict)
