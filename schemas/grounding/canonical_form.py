"""The fast path: recognise a text whose every label is already canonical, in one regex call.

Most texts in a training set are valid. For them the whole grammar is one compiled pattern,
written as Friedl's unrolled loop `normal* (special normal*)*` so that it matches in linear time
and can never backtrack catastrophically:

- normal  = `[^<]` (free text);
- special = exactly one tag part: a trimmed, non-empty object reference (not followed by
  whitespace and a shape), a shape of an enabled kind with 1-3 digit coordinates and the right
  point count, a pass-through special token, or a `<` that starts no tag-like text.

A text that matches has balanced, unnested, known tags, no whitespace inside labels and every
coordinate in [0, 999]. What is left are the shapes' own rules (box order, degeneracy), checked on
the numbers pulled out by one `findall` per shape kind that has a rule. Anything else — and every
text with an error — goes to the full scanner, which finds and locates each problem. The property
tests check that the two paths agree.
"""

from __future__ import annotations

import re
from schemas.grounding.shapes import OBJECT_REF, PASSTHROUGH_TAGS, ShapeSet, ShapeSpec

NUM = r"\d{1,3}"
POINT_RE = rf"\({NUM},{NUM}\)"
GROUNDING_WORDS = "object_ref|box|quad|point|polygon|polyline"


class CanonicalForm:
    __slots__ = ("checks", "pattern")

    def __init__(self, specs: tuple[ShapeSpec, ...]) -> None:
        shape_starts = "|".join(re.escape(s.name) for s in specs)
        passthrough = "|".join(sorted(PASSTHROUGH_TAGS)) + r"|extra_\d{1,3}"
        ref = (
            rf"<\|{OBJECT_REF}_start\|>[^<\s](?:[^<]*[^<\s])?<\|{OBJECT_REF}_end\|>"
            rf"(?!\s+<\|(?:{shape_starts})_start\|>)"
        )
        shapes = []
        self.checks = []
        for s in specs:
            if s.points is not None:
                body = ",".join([POINT_RE] * s.points)
                grab = ",".join([rf"\(({NUM}),({NUM})\)"] * s.points)
            else:
                body = rf"(?:{POINT_RE},){{{s.min_points - 1},}}{POINT_RE}"
                grab = rf"((?:{POINT_RE},)*{POINT_RE})"
            shapes.append(rf"<\|{s.name}_start\|>{body}<\|{s.name}_end\|>")
            if s.check is not None:
                finder = re.compile(rf"<\|{s.name}_start\|>{grab}<\|{s.name}_end\|>")
                self.checks.append((s, finder))
        stray = rf"<(?!\|)(?![ \t]*[A-Za-z_]*(?:{GROUNDING_WORDS})_(?:start|end))"
        special = "|".join([ref, *shapes, rf"<\|(?:{passthrough})\|>", stray])
        self.pattern = re.compile(rf"[^<]*(?:(?:{special})[^<]*)*")

    def accepts(self, text: str) -> bool:
        """True if every label in `text` is canonical and passes its shape's rule."""
        if self.pattern.fullmatch(text) is None:
            return False
        for spec, finder in self.checks:
            check = spec.check
            passes = spec.passes
            if passes is not None and spec.points is not None:
                if not passes(finder.findall(text)):
                    return False
            elif spec.points is not None:
                for groups in finder.findall(text):
                    it = iter(map(int, groups))
                    if check(tuple(zip(it, it))) is not None:
                        return False
            else:
                for body in finder.findall(text):
                    it = iter(map(int, re.findall(r"\d+", body)))
                    if check(tuple(zip(it, it))) is not None:
                        return False
        return True


def canonical_form(shapes: ShapeSet) -> CanonicalForm:
    """Kept on the shape set (rebuilt whenever the registry changes)."""
    form = shapes.cache.get("canonical_form")
    if form is None:
        form = shapes.cache["canonical_form"] = CanonicalForm(shapes.specs)
    return form
