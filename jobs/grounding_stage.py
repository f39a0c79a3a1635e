"""Pipeline step 4, validate grounding: check every grounding label against the grammar.

A pure function over a `WORK_SCHEMA` table (no Ray). For each row whose status is "ok" and whose
text (any turn) holds grounding tags or JSON boxes/points, or whose task is "grounding", every text
segment is validated with `schemas.grounding`, using the size of the row's first image (media
sizes are upright, after EXIF orientation).

- `reject`: a row with an error becomes `invalid`, reason `grounding.<code>` (its first error).
- `repair`: each segment is first repaired (only unambiguous fixes, see `schemas.grounding.repair`)
  and rewritten into the canonical tag form; a row still failing is rejected and keeps its
  original text.
- `off`: rows pass through untouched.

Counters (for the report): `grounding.checked` rows validated, `grounding.<code>` rows rejected per
reason, `grounding.repaired` rows rewritten and `grounding.repair.<kind>` rows per kind of fix.

Quad corner order: the report (A.2.2) *prefers* corners clockwise from the upper-left, so the stage
accepts any order (`repair` with `quad_clockwise` rewrites them into that order); `quad_order_errors`
finds the quads that are not in it, for `vlpack validate-grounding --quad-order clockwise`.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from schemas.grounding import GroundingError, GroundingReport, clockwise_from_upper_left, repair, validate
from schemas.grounding.report import NO_LABELS
from schemas.grounding_config import GroundingConfig
from schemas.sample import STATUS_OK, WORK_SCHEMA, Task

STAGE = "grounding"
STATUS_INVALID = "invalid"
QUAD_ORDER = "quad_order"  # a quad whose corners are not clockwise from the upper-left (validate-grounding)


_TRIGGERS = ("<|", "_2d", "_start", "_end")


def has_grounding(text: str) -> bool:
    """Cheap trigger: anything that may be a grounding tag (well-formed or not) or a JSON box/point."""
    return any(t in text for t in _TRIGGERS)


def rows_with_grounding(turns: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Per row of a `turns` column: a text segment of some turn has a trigger (`has_grounding`),
    found in Arrow, without making Python objects of the rows."""
    if isinstance(turns, pa.ChunkedArray):
        turns = turns.combine_chunks()
    out = np.zeros(len(turns), dtype=bool)
    turn_row = _flattened_parents(turns)
    segments = pc.struct_field(pc.list_flatten(turns), "segments")
    seg_turn = _flattened_parents(segments)
    flat = pc.list_flatten(segments)
    if len(flat) == 0:
        return out
    text = pc.struct_field(flat, "text")
    hit = pc.and_(pc.equal(pc.struct_field(flat, "kind"), "text"),
                  pc.match_substring_regex(text, "|".join(t.replace("|", "\\|") for t in _TRIGGERS)))
    hit = pc.fill_null(hit, False).to_numpy(zero_copy_only=False)
    out[turn_row[seg_turn[hit]]] = True
    return out


def _flattened_parents(lists: pa.Array) -> np.ndarray:
    """For each value `pc.list_flatten(lists)` gives, the index of its list. (A null list is
    skipped by the flatten even when its offsets span values, which `list_parent_indices` would
    count: the parents are taken from the lengths the flatten sees.)"""
    lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False)
    return np.repeat(np.arange(len(lists)), lengths)


def text_segments(turns: list[dict] | None) -> list[tuple[int, str, dict]]:
    """(turn index, role, segment) of every non-empty text segment of a row, in order."""
    return [(t, turn["role"], seg) for t, turn in enumerate(turns or []) for seg in turn["segments"] or []
            if seg["kind"] == "text" and seg["text"]]


def quad_order_errors(text: str, report: GroundingReport) -> list[GroundingError]:
    """An error for each quad of `text` whose corners are not clockwise from the upper-left (report
    A.2.2; image space, y down), with the span of its `<|quad_start|>...<|quad_end|>`."""
    errors = []
    for label in report.labels:
        quads = [sh for sh in label.shapes if sh.kind == "quad"]
        if not quads:
            continue
        start, end = label.span
        spans, at = [], start
        while (j := text.find("<|quad_start|>", at, end)) >= 0:
            k = text.find("<|quad_end|>", j, end)
            k = end if k < 0 else k + len("<|quad_end|>")
            spans.append((j, k))
            at = k
        for n, quad in enumerate(quads):
            want = clockwise_from_upper_left(quad.points)
            if tuple(quad.points) == want:
                continue
            pts = quad.points
            area2 = sum(pts[i][0] * pts[(i + 1) % 4][1] - pts[(i + 1) % 4][0] * pts[i][1] for i in range(4))
            how = "counter-clockwise" if area2 < 0 else "clockwise but not starting at the upper-left corner"
            errors.append(GroundingError(
                code=QUAD_ORDER, span=spans[n] if n < len(spans) else label.span,
                message=f"quad corners are {how}; the canonical order (report A.2.2) is clockwise from the "
                        f"upper-left: " + ",".join(f"({x},{y})" for x, y in want)))
    return errors


def first_image_size(media: list[dict] | None) -> tuple[int | None, int | None]:
    for m in media or []:
        if (m.get("kind") or "image") == "image":
            return m.get("width"), m.get("height")
    return None, None


def validate_grounding_batch(table: pa.Table, cfg: GroundingConfig) -> tuple[pa.Table, dict[str, int]]:
    """The stage body: same schema, row count and order; counters per error code and repair kind."""
    counts: Counter[str] = Counter()
    if cfg.mode == "off" or table.num_rows == 0:
        return table, {}
    ok = pc.fill_null(pc.equal(table.column("status"), STATUS_OK), False).to_numpy(zero_copy_only=False)
    task = pc.fill_null(pc.equal(table.column("task"), Task.grounding.value), False).to_numpy(zero_copy_only=False)
    # only the rows that may hold grounding become Python objects
    rows = np.flatnonzero(ok & (task | rows_with_grounding(table.column("turns"))))
    if rows.size == 0:
        return table, {}
    take = pa.array(rows)
    turns_col = table.column("turns").take(take).to_pylist()
    media_col = table.column("media").take(take).to_pylist()
    statuses: dict[int, str] = {}
    reasons: dict[int, str] = {}
    rewritten = np.zeros(rows.size, dtype=bool)
    for j, i in enumerate(rows.tolist()):
        segments = [seg for _, _, seg in text_segments(turns_col[j])]
        grounding_task = bool(task[i])
        if not grounding_task and not any(has_grounding(seg["text"]) for seg in segments):
            continue  # (a trigger in a segment of another kind)
        width, height = first_image_size(media_col[j])
        counts[f"{STAGE}.checked"] += 1
        code, fixed, kinds, n_labels = _check_row(segments, width, height, cfg)
        if code is None and cfg.require_labels and grounding_task and n_labels == 0:
            code = NO_LABELS
        if code is not None:
            statuses[i] = STATUS_INVALID
            reasons[i] = f"{STAGE}.{code}"
            counts[reasons[i]] += 1
            continue
        if fixed:
            for seg, text in fixed:
                seg["text"] = text
            rewritten[j] = True
            counts[f"{STAGE}.repaired"] += 1
            for kind in kinds:
                counts[f"{STAGE}.repair.{kind}"] += 1
    if statuses:
        table = _set(table, "status", _with(table.column("status"), statuses, pa.string()))
        table = _set(table, "reason", _with(table.column("reason"), reasons, pa.string()))
    if rewritten.any():
        changed = {int(rows[j]): turns_col[j] for j in np.flatnonzero(rewritten)}
        table = _set(table, "turns", _with(table.column("turns"), changed, WORK_SCHEMA.field("turns").type))
    return table, dict(sorted(counts.items()))


def _check_row(segments: list[dict], width, height, cfg: GroundingConfig):
    """(first error code or None, [(segment, new text)], repair kinds, number of labels)."""
    shapes = cfg.shapes
    fixed: list[tuple[dict, str]] = []
    kinds: set[str] = set()
    n_labels = 0
    for seg in segments:
        text = seg["text"]
        report = validate(text, width=width, height=height, coords=cfg.coords, shapes=shapes)
        if cfg.mode == "repair":
            new, changes = repair(
                text,
                width=width,
                height=height,
                coords=cfg.coords,
                zero_pad=cfg.zero_pad,
                quad_clockwise=cfg.quad_clockwise,
                clamp_tolerance=cfg.clamp_tolerance,
                json_to_tags=cfg.json_to_tags,
                shapes=shapes,
            )
            # A label with anything unfixable is left verbatim, so its errors lie outside every change.
            left = [e for e in report.errors if not any(_inside(e.span, c.span) for c in changes)]
            if left:
                return left[0].code, [], set(), 0
            if changes:
                fixed.append((seg, new))
                kinds.update(c.kind for c in changes)
                # Rewritten labels are normalised tags now; untouched JSON keeps its convention.
                after = "normalized" if cfg.coords == "normalized" else "auto"
                report = validate(new, width=width, height=height, coords=after, shapes=shapes)
        if not report.ok:
            return report.errors[0].code, [], set(), 0
        if cfg.require_labels:
            n_labels += len(report.raw_labels)
    return None, fixed, sorted(kinds), n_labels


def _inside(span: tuple[int, int], outer: tuple[int, int]) -> bool:
    return outer[0] <= span[0] and span[1] <= outer[1]


def _with(column: pa.ChunkedArray | pa.Array, values: dict[int, object], type_: pa.DataType) -> pa.Array:
    """`column` with the rows in `values` (row -> new value) replaced."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    rows = np.fromiter(values, dtype=np.int64, count=len(values))
    index = np.arange(len(column), dtype=np.int64)
    index[rows] = len(column) + np.arange(rows.size)
    return pa.concat_arrays([column.cast(type_), pa.array(list(values.values()), type_)]).take(pa.array(index))


def _set(table: pa.Table, name: str, column: pa.Array) -> pa.Table:
    return table.set_column(table.schema.get_field_index(name), WORK_SCHEMA.field(name), column)
