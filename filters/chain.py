"""The filter stage: caption rules, language id and image-metadata rules over a WORK_SCHEMA table.

Order of work for the rows whose `status` is "ok":
1. Rows whose `task` is in `cfg.tasks` are *text-checked*: their assistant text segments are
   repaired (`filters.repairs`: HTML, mojibake, whitespace, optional traditional -> simplified
   Chinese, site-name suffixes) and written back into `turns`, and the repairs are listed in the
   `repairs` column; the joined text (`schemas.sample.assistant_text`) goes through the text rules
   in `filters.catalogue.TEXT_RULES` order, each rule judging only the texts no earlier rule
   failed. `lang` / `lang_score` are filled for the rows that reach language id (the last text
   rule): the rows it keeps or rejects. A row an earlier text rule rejects is never language-
   checked (fastText is the costliest step of the chain) and keeps both null, like the rows of
   other tasks. `junk_score` is filled likewise for the rows that reach the learned junk score
   (`filters.junk_model`), the rule after language id.
2. Rows still ok that have images go through the image rules in `IMAGE_RULES` order (every task).
A failing row gets status "filtered" and reason `filter.<first failing rule>`; nothing is dropped.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from filters.assistant_segments import AssistantSegments
from filters.caption_text import CaptionBatch, repair_utf8
from filters.catalogue import rules_in_order
from filters.image_rules import ImageBatch, ImageHeader
from filters.repairs import REPAIRS, repair_texts
from filters.rule_spec import RuleSpec
from packer.probe import IMAGE_FACTS
from schemas.filter_config import FilterConfig
from schemas.sample import STATUS_OK

STATUS_FILTERED = "filtered"
CHECKED = "filter.checked"
# A text rule's batch is cut down to the texts still alive once fewer than this share of it is.
_SUBSET_SHARE = 0.9
_LANGUAGE = "filter.language"


def _enabled(kind: str, cfg: FilterConfig) -> list[tuple[RuleSpec, object]]:
    out = []
    for spec in rules_in_order(kind):
        rule_cfg = getattr(cfg.rules, spec.name)
        if rule_cfg.enabled:
            out.append((spec, rule_cfg))
    return out


def first_failing_text_rule(batch: CaptionBatch, cfg: FilterConfig) -> np.ndarray:
    """Per text: the reason code of the first failing text rule, or None.

    A rule judges only the texts no earlier rule has failed. Every rule judges each text on its
    own, so this changes no reason; the batch is cut down (`CaptionBatch.subset`) once enough texts
    have failed, and always before language id, the costliest rule.
    """
    reasons = np.full(len(batch), None, dtype=object)
    part, rows = batch, np.arange(len(batch))  # `part` holds the texts at `rows` of `batch`
    alive = np.ones(len(batch), dtype=bool)  # per text of `part`: no rule has failed it
    rules = _enabled("text", cfg)
    batch.expect_lower_scans(spec.screen(rule_cfg) for spec, rule_cfg in rules if spec.screen is not None)
    for spec, rule_cfg in rules:
        left = int(alive.sum())
        if left == 0:
            break
        if left < len(part) and (left < _SUBSET_SHARE * len(part) or spec.reason == _LANGUAGE):
            keep = np.flatnonzero(alive)
            part, rows, alive = part.subset(keep), rows[keep], np.ones(left, dtype=bool)
        failed = ~spec.fn(part, rule_cfg) & alive
        reasons[rows[failed]] = spec.reason
        alive &= ~failed
    return reasons


def first_failing_image_rule(images: ImageBatch, cfg: FilterConfig, n_rows: int) -> np.ndarray:
    """Per table row: the reason code of the first image rule that one of its images fails, or None.

    A rule sees only the images of rows that no earlier rule has failed.
    """
    reasons = np.full(n_rows, None, dtype=object)
    for spec, rule_cfg in _enabled("image", cfg):
        alive = reasons[images.row] == None  # noqa: E711
        if not alive.any():
            break
        batch = images if alive.all() else images.subset(alive)
        failed_rows = np.unique(batch.row[~spec.fn(batch, rule_cfg)])
        reasons[failed_rows] = spec.reason
    return reasons


def _image_batch(table: pa.Table, rows: np.ndarray) -> ImageBatch | None:
    """The images (media of kind "image") of the rows where `rows` is true."""
    media = pa.concat_arrays(table.column("media").chunks) if table.column("media").num_chunks else None
    if media is None:
        return None
    items = media.flatten()  # respects slicing, unlike .values
    if len(items) == 0:
        return None
    media_row = pc.list_parent_indices(media).to_numpy()
    kind = pc.fill_null(items.field("kind"), "image")
    sel = pc.equal(kind, "image").to_numpy(zero_copy_only=False) & rows[media_row]
    sel &= items.field("uri").is_valid().to_numpy(zero_copy_only=False)
    if not sel.any():
        return None
    idx = pa.array(np.flatnonzero(sel))

    def num(name: str) -> np.ndarray:
        return pc.cast(items.field(name).take(idx), pa.float64()).to_numpy(zero_copy_only=False)

    images = ImageBatch(
        row=media_row[sel],
        uri=items.field("uri").take(idx).to_pylist(),
        width=num("width"),
        height=num("height"),
        bytes_size=num("bytes_size"),
        format=items.field("format").take(idx).to_pylist(),
    )
    if IMAGE_FACTS in table.column_names:
        facts_col = table.column(IMAGE_FACTS)
        facts = (pa.concat_arrays(facts_col.chunks) if facts_col.num_chunks else None)
        if facts is not None:
            per_item = facts.flatten().take(idx).to_pylist()
            if all(f is not None for f in per_item):  # every image's header was read by the probe
                images.__dict__["headers"] = [
                    ImageHeader(True, int(w), int(h), (fmt or "").upper() or None, int(b) if b == b else None,
                                f["jpeg_quality"], (f["frames"] or 1) > 1)
                    for f, w, h, fmt, b in zip(per_item, images.width, images.height, images.format, images.bytes_size)]
    return images


def _with_values(table: pa.Table, name: str, rows: np.ndarray, values: pa.Array) -> pa.Table:
    """`table` with column `name` set to `values` at the rows where `rows` is true."""
    column = table.column(name)
    col = pa.concat_arrays(column.chunks) if column.num_chunks else pa.array([], column.type)
    col = pc.replace_with_mask(col, pa.array(rows), values.cast(column.type))
    return table.set_column(table.schema.get_field_index(name), name, col)


def _surely_too_long(segments: AssistantSegments, rows: np.ndarray, cfg: FilterConfig) -> np.ndarray:
    """Rows whose assistant text has more than 4 bytes per allowed character: more characters than
    `too_long.max_chars` whatever the text, so `too_long` (the first text rule) fails them."""
    rule = cfg.rules.too_long
    if not rule.enabled:
        return np.zeros(len(rows), dtype=bool)
    seg = segments.segment_index(rows)
    lengths = pc.fill_null(pc.binary_length(segments.texts.take(pa.array(seg, pa.int64()))), 0)
    per_row = np.bincount(segments.seg_row[seg], weights=lengths.to_numpy(zero_copy_only=False), minlength=len(rows))
    return rows & (per_row > 4 * rule.max_chars + 4)


def _record_repairs(table: pa.Table, seg_rows: np.ndarray,
                    changed: dict[str, np.ndarray]) -> tuple[pa.Table, dict[str, int]]:
    """Append `clean.<repair>` to the `repairs` of each row a repair changed (in `REPAIRS` order,
    after what earlier stages recorded) and count the rows per repair."""
    names = [k for k in REPAIRS if k in changed]
    per_row = np.zeros((table.num_rows, len(names)), dtype=bool)
    for j, k in enumerate(names):
        per_row[seg_rows[changed[k]], j] = True
    hit = np.flatnonzero(per_row.any(axis=1))
    if hit.size:
        repairs = table.column("repairs").to_pylist()
        for i in hit.tolist():
            codes = [f"clean.{k}" for j, k in enumerate(names) if per_row[i, j]]
            repairs[i] = [*(repairs[i] or []), *(c for c in codes if c not in (repairs[i] or []))]
        i = table.schema.get_field_index("repairs")
        table = table.set_column(i, table.schema.field(i), pa.array(repairs, table.schema.field(i).type))
    return table, {f"clean.{k}": int(per_row[:, j].sum()) for j, k in enumerate(names)}


def run_filters(table: pa.Table, cfg: FilterConfig) -> tuple[pa.Table, dict[str, int]]:
    """Mark failing rows "filtered" with `filter.<rule>`; same columns, rows and order out as in.

    Returns the table and counts: rows newly filtered per reason (every enabled rule listed, 0 if
    none), `filter.checked`, the ok rows that were text-checked or had images, and `clean.<repair>`,
    the text-checked rows each repair changed.
    """
    counts = {CHECKED: 0}
    n = table.num_rows
    if not cfg.enabled or n == 0:
        return table, counts
    text_rules, image_rules = _enabled("text", cfg), _enabled("image", cfg)
    counts.update({spec.reason: 0 for spec, _ in text_rules + image_rules})
    ok = pc.fill_null(pc.equal(table.column("status"), STATUS_OK), False).to_numpy(zero_copy_only=False)
    in_tasks = pc.is_in(table.column("task"), value_set=pa.array(list(cfg.tasks), pa.string()))
    text_rows = ok & pc.fill_null(in_tasks, False).to_numpy(zero_copy_only=False)
    reasons = np.full(n, None, dtype=object)

    if text_rows.any():
        segments = AssistantSegments.from_column(table.column("turns"))
        too_long = _surely_too_long(segments, text_rows, cfg)
        if too_long.any():  # judged by length alone, before any normalisation or other rule
            reasons[too_long] = "filter.too_long"
            text_rows &= ~too_long
        seg_index = segments.segment_index(text_rows)
        raw_segs, bad_segs = repair_utf8(segments.texts.take(pa.array(seg_index, pa.int64())))
        seg_rows = segments.seg_row[seg_index]
        seg_sources = table.column("source").take(pa.array(seg_rows, pa.int64()))
        repaired = repair_texts(raw_segs, cfg.clean, pa.concat_arrays(seg_sources.chunks)
                                if isinstance(seg_sources, pa.ChunkedArray) else seg_sources)
        norm_segs = repaired.text
        bad_rows = np.zeros(n, dtype=bool)
        bad_rows[seg_rows[bad_segs]] = True
        table, repair_counts = _record_repairs(table, seg_rows, repaired.changed)
        counts.update(repair_counts)
        rows = np.flatnonzero(text_rows)
        take = pa.array(rows)
        batch = CaptionBatch(
            raw=segments.joined(seg_index, raw_segs, n).take(take),
            text=segments.joined(seg_index, norm_segs, n).take(take),
            invalid_utf8=bad_rows[rows],
        )
        reasons[rows] = first_failing_text_rule(batch, cfg)
        # the language of the rows that reached language id (identified there already, unless that rule is off)
        reached = np.flatnonzero((reasons[rows] == None) | (reasons[rows] == _LANGUAGE))  # noqa: E711
        lang, score = batch.language_of(reached)
        lang_rows = np.zeros(n, dtype=bool)
        lang_rows[rows[reached]] = True
        table = _with_values(table, "lang", lang_rows, lang)
        table = _with_values(table, "lang_score", lang_rows, pa.array(score, pa.float32()))
        scored = ~np.isnan(batch.junk_scores)  # the rows the learned junk score judged
        if scored.any():
            junk_rows = np.zeros(n, dtype=bool)
            junk_rows[rows[scored]] = True
            table = _with_values(table, "junk_score", junk_rows, pa.array(batch.junk_scores[scored], pa.float32()))
        changed = bool(bad_segs.any()) or any(m.any() for m in repaired.changed.values())
        if seg_index.size and changed:
            turns = segments.with_texts(seg_index, norm_segs)
            table = table.set_column(table.schema.get_field_index("turns"), "turns", turns)

    images = _image_batch(table, ok) if image_rules else None
    checked = text_rows.copy()
    if images is not None:
        checked[images.row] = True
        candidates = reasons[images.row] == None  # noqa: E711  (images of rows the text rules kept)
        if candidates.any():
            batch = images if candidates.all() else images.subset(candidates)
            image_reasons = first_failing_image_rule(batch, cfg, n)
            hit = image_reasons != None  # noqa: E711
            reasons[hit] = image_reasons[hit]

    counts[CHECKED] = int(checked.sum())
    failed = reasons != None  # noqa: E711
    if failed.any():
        for reason, k in zip(*np.unique(reasons[failed].astype(str), return_counts=True)):
            counts[str(reason)] = int(k)
        table = _with_values(table, "status", failed, pa.array([STATUS_FILTERED] * int(failed.sum())))
        table = _with_values(table, "reason", failed, pa.array(reasons[failed].tolist(), pa.string()))
    return table, counts
