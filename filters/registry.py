"""Rules by name, in the fixed order the chain applies them.

A rule is a small pure function `(batch, frozen rule config) -> keep mask` (numpy bool, one entry
per text row for a text rule, one per image for an image rule). Its name is its config field in
`schemas.filter_config.RulesConfig` and its reason code, `filter.<name>`. A row that fails several
rules gets the reason of the first one in `TEXT_RULES` order, then `IMAGE_RULES` order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

RuleKind = Literal["text", "image"]

# The documented order. `too_long` comes first: a text over its limit is judged by its length alone
# and never reaches the other rules (one huge caption must not cost a regex pass per rule). Specific
# pattern rules come before the generic short-text rule, so that "www.example.com" reads `url` and
# "=== SALE ===" reads `special_chars`, not `too_short`; then repetition; language id comes last.
TEXT_RULES = (
    "too_long",
    "empty",
    "bad_encoding",
    "url",
    "boilerplate",
    "date_only",
    "no_letters",
    "digit_run",
    "special_chars",
    "too_short",
    "repeated_words",
    "tail_repetition",
    "sentence_repetition",
    "ngram_repetition",
    "language",
)
IMAGE_RULES = (
    "image_unreadable",
    "image_too_small",
    "image_too_large",
    "aspect_ratio",
    "animated",
    "compression",
    "blank",
)


@dataclass(frozen=True)
class RuleSpec:
    name: str
    kind: RuleKind
    fn: Callable[[Any, Any], np.ndarray]

    @property
    def reason(self) -> str:
        return f"filter.{self.name}"


RULES: dict[str, RuleSpec] = {}


def register(name: str, kind: RuleKind) -> Callable:
    """Decorator: register `fn(batch, cfg) -> keep mask` under `name` (one of TEXT_RULES / IMAGE_RULES)."""
    order = TEXT_RULES if kind == "text" else IMAGE_RULES
    if name not in order:
        raise ValueError(f"rule {name!r} is not in the documented {kind} order {order}")

    def deco(fn: Callable[[Any, Any], np.ndarray]) -> Callable[[Any, Any], np.ndarray]:
        if name in RULES and RULES[name].fn is not fn:
            raise ValueError(f"rule {name!r} is registered twice")
        RULES[name] = RuleSpec(name, kind, fn)
        return fn

    return deco


def _load_builtin_rules() -> None:
    import filters.image_rules  # noqa: F401  (each module registers its rules on import)
    import filters.language  # noqa: F401
    import filters.repetition  # noqa: F401
    import filters.text_rules  # noqa: F401


def rule(name: str) -> RuleSpec:
    """A built-in rule by name."""
    _load_builtin_rules()
    if name not in RULES:
        raise KeyError(f"no filter rule {name!r}; known: {TEXT_RULES + IMAGE_RULES}")
    return RULES[name]


def rules_in_order(kind: RuleKind) -> list[RuleSpec]:
    """The built-in rules of one kind, in the documented order."""
    _load_builtin_rules()
    order = TEXT_RULES if kind == "text" else IMAGE_RULES
    return [RULES[name] for name in order]
