"""What a filter rule is: a small pure function that declares its own name and kind.

A rule is `(batch, frozen rule config) -> keep mask` (numpy bool, one entry per text row for a
text rule, one per image for an image rule). Decorating it with `text_rule(name)` or
`image_rule(name)` attaches its `RuleSpec`; nothing is registered anywhere. `filters.catalogue`
imports the rule modules and lists their rules in the documented order, so the dependency is
one-way: catalogue -> rule modules -> this module.

A text rule may declare a *screen*: from its config, the RE2 pattern it looks for in
`CaptionBatch.lower` (`lower_matches`, or `unquoted_lower_matches` outside quoted spans). The
chain announces the enabled rules' screens to the batch, which then searches the whole batch once
for all of them together, and each rule's own pattern only in the rows that search matched.
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
    # cfg -> the RE2 pattern the rule looks for with `CaptionBatch.lower_matches` (None: none)
    screen: Callable[[Any], str | None] | None = None

    @property
    def reason(self) -> str:
        return f"filter.{self.name}"


def _declare(name: str, kind: RuleKind, screen: Callable[[Any], str | None] | None = None) -> Callable[[RuleFn], RuleFn]:
    def deco(fn: RuleFn) -> RuleFn:
        if hasattr(fn, "rule_spec"):
            raise ValueError(f"{fn.__qualname__} is already declared as rule {fn.rule_spec.name!r}")
        fn.rule_spec = RuleSpec(name, kind, fn, screen)
        return fn

    return deco


def text_rule(name: str, screen: Callable[[Any], str | None] | None = None) -> Callable[[RuleFn], RuleFn]:
    """Declare `fn(CaptionBatch, cfg) -> keep mask` as the text rule `name` (reason `filter.<name>`).
    `screen(cfg)`, when given, is the pattern `fn` passes to `CaptionBatch.lower_matches` (or None)."""
    return _declare(name, "text", screen)


def image_rule(name: str) -> Callable[[RuleFn], RuleFn]:
    """Declare `fn(ImageBatch, cfg) -> keep mask` as the image rule `name` (reason `filter.<name>`)."""
    return _declare(name, "image")
