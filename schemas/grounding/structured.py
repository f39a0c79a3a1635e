"""Structured grounding outputs: JSON lists of `bbox_2d` / `point_2d` objects (report §3.2 (iii)).

Accepted forms, bare in the text or inside a ``` / ```json code fence:

    [{"bbox_2d": [x1, y1, x2, y2], "label": "cat"}, {"point_2d": [x, y], "label": "dog"}]
    {"bbox_2d": [x1, y1, x2, y2], "label": "cat"}

Each object becomes one `RawLabel` (name = "label", one box or point), so the same checks as the
tag form apply. A JSON block that mentions a key but does not parse, or has the wrong form, is
`bad_json`.
"""

from __future__ import annotations

import json
import re

from schemas.grounding.report import BAD_JSON, EMPTY_OBJECT_NAME, NON_INTEGER, WRONG_POINT_COUNT
from schemas.grounding.scanner import RawLabel, RawShape, _err
from schemas.grounding.shapes import SHAPES

JSON_KEYS = {"bbox_2d": "box", "point_2d": "point"}
JSON_KEY = re.compile(r'"(bbox_2d|point_2d)"')
FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\r?\n?(.*?)```", re.DOTALL)
OPENER = re.compile(r"[\[{]")
LABEL_KEY = "label"
NUMBER_TYPES = frozenset({int, float})  # not bool: `type(True) is bool`
_DECODER = json.JSONDecoder()


class JsonBlock:
    """One JSON structured output: its span in the text and the labels it holds."""

    __slots__ = ("end", "extra_keys", "labels", "start")

    def __init__(self, start: int, end: int) -> None:
        self.start = start
        self.end = end
        self.labels: list[RawLabel] = []
        self.extra_keys = False  # objects carry keys beyond label/bbox_2d/point_2d (kept as JSON on repair)


def scan_json(text: str, errors: list) -> list[JsonBlock]:
    """JSON grounding blocks in text order; an unparsable or malformed one is reported as `bad_json`."""
    if "_2d" not in text:
        return []
    keys = [m.start() for m in JSON_KEY.finditer(text)]
    if not keys:
        return []
    blocks: list[JsonBlock] = []
    covered: list[tuple[int, int]] = []
    for m in FENCE.finditer(text):
        body = m.group(1)
        if not JSON_KEY.search(body):
            continue
        covered.append((m.start(), m.end()))
        try:
            value = json.loads(body)
        except ValueError as e:
            _err(errors, BAD_JSON, f"code fence does not hold valid JSON: {e}", m.start(), m.end())
            continue
        block = _block(value, m.start(), m.end(), errors)
        if block is not None:
            blocks.append(block)
    for k in keys:
        if any(s <= k < e for s, e in covered):
            continue
        block_span = _bare_json(text, k, covered)
        if block_span is None:
            line_end = text.find("\n", k)
            _err(
                errors,
                BAD_JSON,
                "a bbox_2d/point_2d key outside any parsable JSON value",
                k,
                len(text) if line_end < 0 else line_end,
            )
            covered.append((k, k + 1))
            continue
        s, e, value = block_span
        covered.append((s, e))
        block = _block(value, s, e, errors)
        if block is not None:
            blocks.append(block)
    blocks.sort(key=lambda b: b.start)
    return blocks


def _bare_json(text: str, key: int, covered: list) -> tuple[int, int, object] | None:
    """The outermost JSON value (array or object) that starts before `key` and contains it.

    A `[` directly followed by an object that does not parse as an array (unclosed, or a
    bad element later on) makes the whole thing unparsable: the inner object alone is not taken.
    """
    lo = max((e for s, e in covered if e <= key), default=0)
    broken_array_item = -1
    for m in OPENER.finditer(text, lo, key):
        p = m.start()
        try:
            value, end = _DECODER.raw_decode(text, p)
        except ValueError:
            if text[p] == "[":
                nxt = len(text) - len(text[p + 1 :].lstrip())
                if nxt < len(text) and text[nxt] == "{":
                    broken_array_item = nxt
            continue
        if end > key:
            if p == broken_array_item:
                return None
            return p, end, value
    return None


def _block(value: object, start: int, end: int, errors: list) -> JsonBlock | None:
    items = value if isinstance(value, list) else [value]
    block = JsonBlock(start, end)
    for idx, item in enumerate(items):
        where = f"item {idx}" if isinstance(value, list) else "object"
        if not isinstance(item, dict):
            _err(
                errors,
                BAD_JSON,
                f"{where} is {type(item).__name__}, not an object with bbox_2d/point_2d",
                start,
                end,
            )
            return None
        keys = [k for k in JSON_KEYS if k in item]
        if len(keys) != 1:
            _err(
                errors,
                BAD_JSON,
                f"{where} must have exactly one of bbox_2d / point_2d, has {keys or 'none'}",
                start,
                end,
            )
            return None
        key = keys[0]
        if set(item) - {key, LABEL_KEY}:
            block.extra_keys = True
        name = item.get(LABEL_KEY)
        if name is not None and not isinstance(name, str):
            _err(errors, BAD_JSON, f"{where}: label must be a string, got {type(name).__name__}", start, end)
            return None
        label = RawLabel(start, name, None, source="json")
        label.end = end
        if name is not None and not name.strip():
            _err(errors, EMPTY_OBJECT_NAME, f"{where}: empty label", start, end)
        spec = SHAPES[JSON_KEYS[key]]
        coords = item[key]
        values = None
        if not isinstance(coords, list) or not all(map(NUMBER_TYPES.__contains__, map(type, coords))):
            _err(errors, BAD_JSON, f"{where}: {key} must be a list of numbers, got {coords!r}", start, end)
            return None
        if len(coords) != 2 * spec.points:
            _err(
                errors,
                WRONG_POINT_COUNT,
                f"{where}: {key} needs {2 * spec.points} numbers, got {len(coords)}",
                start,
                end,
            )
        else:
            values = list(coords)
        label.shapes.append(RawShape(spec, values, (start, end), "", False))
        block.labels.append(label)
    return block


def require_integers(block: JsonBlock, errors: list) -> None:
    """Normalised JSON coordinates must be integers (absolute pixels may be fractional)."""
    for label in block.labels:
        for shape in label.shapes:
            v = shape.values
            if v is not None and float in set(map(type, v)):
                bad = next(c for c in v if isinstance(c, float))
                _err(
                    errors,
                    NON_INTEGER,
                    f"normalised coordinate {bad!r} is not an integer",
                    block.start,
                    block.end,
                )
                shape.values = None
