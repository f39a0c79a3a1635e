"""Loop-like repetition (report §3.2, after InternVL 2.5): three pure rules over a `CaptionBatch`.

All three work on the batch's word ids (`CaptionBatch.words`) with numpy, never per row in Python:
- `tail_repetition`: the text ends in the same unit of words again and again;
- `sentence_repetition`: the same sentence comes back;
- `ngram_repetition`: too large a share of its word n-grams are repeats.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from filters.caption_text import CaptionBatch, text_width
from filters.registry import register
from schemas.filter_config import NgramRepetitionRule, SentenceRepetitionRule, TailRepetitionRule

_SENTENCE_END = r"[.!?。！？;；\n]+"


def _np(mask: pa.Array) -> np.ndarray:
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False)


@register("tail_repetition", "text")
def tail_repetition_rule(batch: CaptionBatch, cfg: TailRepetitionRule) -> np.ndarray:
    """Fails when the last `min_repeats * p` words are periodic with period p, for some p <= max_period.

    The check also starts one word early, so a loop cut off mid-word ("on a beach on a bea") counts.
    """
    w = batch.words
    keep = np.ones(len(batch), dtype=bool)
    ends = w.starts + w.counts  # one past each row's last word
    k = cfg.min_repeats
    for skip in (0, 1):
        for p in range(1, cfg.max_period + 1):
            rows = np.flatnonzero(w.counts - skip >= k * p)
            last = ends[rows] - skip - 1
            for j in range((k - 1) * p):  # compare each of the last (k-1)p words with the word p before it
                if rows.size == 0:
                    break
                eq = w.ids[last - j] == w.ids[last - j - p]
                rows, last = rows[eq], last[eq]
            keep[rows] = False
    return keep


@register("sentence_repetition", "text")
def sentence_repetition_rule(batch: CaptionBatch, cfg: SentenceRepetitionRule) -> np.ndarray:
    """Fails when one sentence (case-insensitive, >= `min_chars` characters) occurs more than `max_repeats` times."""
    keep = np.ones(len(batch), dtype=bool)
    # Only texts with at least max_repeats sentence ends followed by more text can fail.
    if cfg.max_repeats == 1:
        inner = _np(pc.match_substring_regex(batch.lower, _SENTENCE_END + r"\s*[^\s.!?。！？;；]"))
    else:
        inner = (
            pc.count_substring_regex(batch.lower, _SENTENCE_END).to_numpy(zero_copy_only=False)
            >= cfg.max_repeats
        )
    rows = np.flatnonzero(inner)
    if rows.size == 0:
        return keep
    sentences = pc.split_pattern_regex(batch.lower.take(rows), _SENTENCE_END)
    flat = pc.utf8_trim_whitespace(sentences.flatten())
    parent = rows[pc.list_parent_indices(sentences).to_numpy()]
    long_enough = text_width(flat) >= cfg.min_chars
    if not long_enough.any():
        return keep
    ids = flat.filter(pa.array(long_enough)).dictionary_encode().indices.to_numpy().astype(np.int64)
    parent = parent[long_enough].astype(np.int64)
    key = parent * (int(ids.max()) + 1) + ids
    uniq, counts = np.unique(key, return_counts=True)
    keep[(uniq[counts > cfg.max_repeats] // (int(ids.max()) + 1))] = False
    return keep


_MIX = np.uint64(0x9E3779B97F4A7C15)


@register("ngram_repetition", "text")
def ngram_repetition_rule(batch: CaptionBatch, cfg: NgramRepetitionRule) -> np.ndarray:
    """Fails when (n-grams - distinct n-grams) / n-grams > `max_ratio`, for texts of >= `min_words` words."""
    w = batch.words
    keep = np.ones(len(batch), dtype=bool)
    n = cfg.n
    judged = w.counts >= max(cfg.min_words, n)
    if not judged.any():
        return keep
    sel = judged[w.row]
    ids, row = w.ids[sel].astype(np.uint64), w.row[sel]
    # n-gram i covers words i .. i+n-1 of the same row.
    m = ids.size - n + 1
    valid = row[:m] == row[n - 1 :]
    h = np.zeros(m, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for off in range(n):
            h = (h ^ ids[off : off + m]) * _MIX
            h ^= h >> np.uint64(29)
    # 40 bits of hash, row above them: equal keys are equal n-grams of one row (collisions ~ 2^-40).
    key = (row[:m][valid].astype(np.uint64) << np.uint64(40)) | (h[valid] & np.uint64((1 << 40) - 1))
    key.sort()
    dup_rows = (key[1:][key[1:] == key[:-1]] >> np.uint64(40)).astype(np.int64)
    dups = np.bincount(dup_rows, minlength=len(batch))
    total = np.maximum(w.counts - n + 1, 1)
    keep[judged & (dups > cfg.max_ratio * total)] = False
    return keep
