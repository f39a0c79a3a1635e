"""What a filter rule is: a small pure function that declares its own name and kind.

A rule is `(batch, frozen rule config) -> keep mask` (numpy bool, one entry per text row for a
text rule, one per image for an image rule). Decorating it with `text_rule(name)` or
`image_rule(name)` attaches its `RuleSpec`; nothing is registered anywhere. `filters.catalogue`
imports the rule modules and lists their rules in the documented order, so the dependency is
one-way: catalogue -> rule modules -> this module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

RuleKind = Literal["text", "image"]
RuleFn = Callable[[Any, Any], np.ndarray]


@dataclass(frozen=True)
class RuleSpec:
    name: str
    kind: RuleKind
    fn: RuleFn

    @property
    def reason(self) -> str:
        return f"filter.{self.name}"


def _declare(name: str, kind: RuleKind) -> Callable[[RuleFn], RuleFn]:
    def deco(fn: RuleFn) -> RuleFn:
        if hasattr(fn, "rule_spec"):
            raise ValueError(f"{fn.__qualname__} is already declared as rule {fn.rule_spec.name!r}")
        fn.rule_spec = RuleSpec(name, kind, fn)
        return fn

    return deco


def text_rule(name: str) -> Callable[[RuleFn], RuleFn]:
    """Declare `fn(CaptionBatch, cfg) -> keep mask` as the text rule `name` (reason `filter.<name>`)."""
    return _declare(name, "text")


def image_rule(name: str) -> Callable[[RuleFn], RuleFn]:
    """Declare `fn(ImageBatch, cfg) -> keep mask` as the image rule `name` (reason `filter.<name>`)."""
    return _declare(name, "image")
