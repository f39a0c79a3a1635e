"""Apply the enabled scorers to a WORK_SCHEMA table: scores to their columns, thresholds to status.

Rows are scored when their status is "ok" and their task is one the scorer scores. The table is
cut into micro-batches of `batch_size` rows by position, so a row's score depends only on the
rows of its own micro-batch, which are the same on every run for the same input block. Each image
is read and decoded once (`images.decode_rgb`) and shared by the NSFW and CLIP scorers. A row's
image score is the highest of its images' (an image that cannot be decoded has none: the image
rules judge such files). A score beyond its threshold (per source) marks the row "filtered" with
reason `score.nsfw`, `score.clip`, `score.lm_perplexity` or `score.lm_repetition`, in that order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from filters.dedup.plan import caption_texts
from filters.scorers.images import decode_rgb
from schemas.sample import STATUS_OK
from schemas.scorer_config import ScorersConfig

SCORE_COLUMNS = ("nsfw_score", "clip_score", "lm_perplexity", "lm_repetition")
STATUS_FILTERED = "filtered"


@dataclass
class LoadedScorers:
    """The enabled scorers' models, loaded once (an actor holds one of these)."""

    cfg: ScorersConfig
    nsfw: object | None = None
    clip: object | None = None
    lm: object | None = None

    @classmethod
    def load(cls, cfg: ScorersConfig, threads: int = 1) -> LoadedScorers:
        out = cls(cfg)
        if cfg.nsfw.enabled:
            from filters.scorers.nsfw import NsfwModel

            out.nsfw = NsfwModel(cfg.nsfw, cfg.accelerator, threads)
        if cfg.clip.enabled:
            from filters.scorers.clip import ClipModel

            out.clip = ClipModel(cfg.clip, cfg.accelerator)
        if cfg.lm.enabled:
            from filters.scorers.lm import LanguageModel

            out.lm = LanguageModel(cfg.lm, cfg.accelerator)
        return out


def _rows_for(tasks: tuple[str, ...] | None, ok: np.ndarray, task: pa.Array) -> np.ndarray:
    if tasks is None:
        return ok.copy()
    return ok & pc.fill_null(pc.is_in(task, value_set=pa.array(list(tasks), pa.string())), False).to_numpy(
        zero_copy_only=False)


def _image_uris(media: list | None) -> list[str]:
    return [m["uri"] for m in media or [] if m and m.get("uri") and (m.get("kind") or "image") == "image"]


def _best(values: list[float]) -> float:
    finite = [v for v in values if np.isfinite(v)]
    return max(finite) if finite else np.nan


def score_table(table: pa.Table, scorers: LoadedScorers) -> tuple[pa.Table, dict[str, int]]:
    """Fill the score columns of the rows each enabled scorer scores and apply its thresholds.
    Same rows, order and schema out as in."""
    cfg = scorers.cfg
    n = table.num_rows
    counts: dict[str, int] = {}
    if n == 0:
        return table, counts
    ok = pc.fill_null(pc.equal(table.column("status"), STATUS_OK), False).to_numpy(zero_copy_only=False)
    task = pc.fill_null(table.column("task").combine_chunks(), "")
    text = caption_texts(table.column("turns")).to_pylist()
    has_text = np.array([bool(t) for t in text], dtype=bool)
    media = table.column("media").to_pylist()
    uris = [_image_uris(m) for m in media]
    has_image = np.array([bool(u) for u in uris], dtype=bool)
    scores = {c: np.full(n, np.nan, dtype=np.float32) for c in SCORE_COLUMNS}
    todo = {
        "nsfw": _rows_for(cfg.nsfw.tasks, ok, task) & has_image if scorers.nsfw else np.zeros(n, bool),
        "clip": _rows_for(cfg.clip.tasks, ok, task) & has_image & has_text if scorers.clip else np.zeros(n, bool),
        "lm": _rows_for(cfg.lm.tasks, ok, task) & has_text if scorers.lm else np.zeros(n, bool),
    }
    for lo in range(0, n, cfg.batch_size):
        part = np.arange(lo, min(n, lo + cfg.batch_size))
        _score_part(part, todo, scorers, text, uris, scores)
    for name, rows in todo.items():
        counts[f"score.{name}.scored"] = int(rows.sum())
    return _apply_thresholds(table, scores, ok, cfg, counts)


def _score_part(part, todo, scorers: LoadedScorers, text, uris, scores) -> None:
    image_rows = [i for i in part if todo["nsfw"][i] or todo["clip"][i]]
    images = {i: [decode_rgb(u, scorers.cfg.max_image_side) for u in uris[i]] for i in image_rows}
    if scorers.nsfw is not None:
        rows = [i for i in part if todo["nsfw"][i]]
        flat = [im for i in rows for im in images[i]]
        if flat:
            values = iter(scorers.nsfw.score(flat).tolist())
            for i in rows:
                scores["nsfw_score"][i] = _best([next(values) for _ in images[i]])
    if scorers.clip is not None:
        rows = [i for i in part if todo["clip"][i]]
        flat = [im for i in rows for im in images[i]]
        if flat:
            values = iter(scorers.clip.score(flat, [text[i] for i in rows for _ in images[i]]).tolist())
            for i in rows:
                scores["clip_score"][i] = _best([next(values) for _ in images[i]])
    if scorers.lm is not None:
        rows = [i for i in part if todo["lm"][i]]
        if rows:
            ppl, rep = scorers.lm.score([text[i] for i in rows])
            scores["lm_perplexity"][rows] = ppl
            scores["lm_repetition"][rows] = rep


def _apply_thresholds(table: pa.Table, scores: dict, ok: np.ndarray, cfg: ScorersConfig,
                      counts: dict) -> tuple[pa.Table, dict]:
    n = table.num_rows
    sources = table.column("source").to_pylist()
    reasons = np.full(n, None, dtype=object)
    checks = (  # (column, reason, per-source threshold, fails when the score is above it?)
        ("nsfw_score", "score.nsfw", lambda s: cfg.nsfw.threshold(s, cfg.nsfw.max_score), True),
        ("clip_score", "score.clip", lambda s: cfg.clip.threshold(s, cfg.clip.min_similarity), False),
        ("lm_perplexity", "score.lm_perplexity", lambda s: cfg.lm.threshold(s, cfg.lm.max_perplexity), True),
        ("lm_repetition", "score.lm_repetition",
         lambda s: cfg.lm.repetition_thresholds.get(s, cfg.lm.max_repetition), True),
    )
    for column, reason, threshold_of, above in checks:
        limits = {s: threshold_of(s) for s in set(sources)}
        limit = np.array([np.nan if limits[s] is None else limits[s] for s in sources], dtype=np.float64)
        value = scores[column].astype(np.float64)
        with np.errstate(invalid="ignore"):
            failed = (value > limit) if above else (value < limit)
        failed &= ok & (reasons == None)  # noqa: E711 (elementwise)
        reasons[failed] = reason
        counts[reason] = int(failed.sum())
    for column in SCORE_COLUMNS:
        values = scores[column]
        table = _set(table, column, pa.array(values, pa.float32(), mask=np.isnan(values)))
    hit = reasons != None  # noqa: E711
    if hit.any():
        status = np.array(table.column("status").to_pylist(), dtype=object)
        reason = np.array(table.column("reason").to_pylist(), dtype=object)
        status[hit], reason[hit] = STATUS_FILTERED, reasons[hit]
        table = _set(table, "status", pa.array(status.tolist(), pa.string()))
        table = _set(table, "reason", pa.array(reason.tolist(), pa.string()))
    return table, counts


def _set(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    i = table.schema.get_field_index(name)
    return table.set_column(i, table.schema.field(i), values.cast(table.schema.field(i).type))
