"""The base class every config section derives from: frozen, strict about unknown fields."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ConfigSection(BaseModel):
    """Frozen and closed: an unknown or misspelt field is an error that names it."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)
