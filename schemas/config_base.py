"""The base class every config section derives from: frozen, strict about unknown fields."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ConfigSection(BaseModel):
    """Frozen and closed: an unknown or misspelt field is an error that names it."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def did_you_mean(word: str, choices) -> str:
    """' did you mean X?' for the closest of `choices` to a misspelt `word`, or ''."""
    import difflib

    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" did you mean {close[0]!r}?" if close else ""
