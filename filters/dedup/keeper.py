"""Which copy of a duplicate cluster is kept: the cleanest, not the longest.

`quality_order` ranks rows best-first by, in this order:
1. defects in the (repaired) caption: words written twice in a row ("a bus bus"), a site-name
   suffix ("... | Pinterest") or a boilerplate phrase left in it, U+FFFD characters (fewer first);
2. repairs the copy needed (`repairs` column; fewer first: the copy that came clean);
3. LM perplexity, when the `lm` scorer ran (lower first; unscored rows after scored ones);
4. words no other member of its cluster has (fewer first: the consensus wording, so a typo such
   as "desertt" loses to the copies that agree on "desert");
5. language-id score (higher first; missing lowest);
6. length in characters (shorter first: near-duplicates differ by insertions, and insertions are
   where typos, suffixes and boilerplate live);
7. sample_id (smallest first), so the order is total and deterministic.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_WORD = re.compile(r"[^\W_]+")


@lru_cache(maxsize=1)
def _defect_patterns() -> tuple[str, str, frozenset]:
    from filters.repairs import site_suffix_pattern
    from filters.text_rules import boilerplate_pattern
    from schemas.filter_config import BoilerplateRule, SiteSuffixRepair, StutterRule

    bp, suffix, stutter = BoilerplateRule(), SiteSuffixRepair(), StutterRule()
    return site_suffix_pattern(suffix.suffixes), boilerplate_pattern(bp.phrases, bp.patterns), frozenset(stutter.allowed)


def defect_counts(captions: Sequence[str]) -> np.ndarray:
    """Per caption: doubled words + site suffix + boilerplate + U+FFFD characters."""
    suffix, boilerplate, allowed = _defect_patterns()
    texts = pa.array(list(captions), pa.string())
    lower = pc.utf8_lower(texts)
    out = pc.match_substring_regex(texts, suffix).to_numpy(zero_copy_only=False).astype(np.int64)
    out += pc.match_substring_regex(lower, boilerplate).to_numpy(zero_copy_only=False)
    out += pc.count_substring(texts, "\ufffd").to_numpy(zero_copy_only=False)
    for i, t in enumerate(lower.to_pylist()):
        words = _WORD.findall(t)
        out[i] += sum(a == b and len(a) > 1 and not a.isdigit() and a not in allowed for a, b in zip(words, words[1:]))
    return out


def unshared_word_counts(captions: Sequence[str], labels: np.ndarray) -> np.ndarray:
    """Per caption: its distinct words that no other member of its cluster (`labels`) has."""
    words = [frozenset(_WORD.findall(t.lower())) for t in captions]
    out = np.zeros(len(captions), dtype=np.int64)
    members: dict[int, list[int]] = {}
    for i, lab in enumerate(np.asarray(labels).tolist()):
        members.setdefault(lab, []).append(i)
    for rows in members.values():
        if len(rows) < 2:
            continue
        for i in rows:
            others = frozenset().union(*(words[j] for j in rows if j != i))
            out[i] = len(words[i] - others)
    return out


def quality_order(captions: Sequence[str], lang_score: np.ndarray, sample_ids: Sequence[str],
                  labels: np.ndarray | None = None, repairs: np.ndarray | None = None,
                  perplexity: np.ndarray | None = None) -> np.ndarray:
    """Row positions best-first (see the module docstring for the order)."""
    n = len(sample_ids)
    by_id = np.empty(n, dtype=np.int64)
    by_id[np.array(sorted(range(n), key=sample_ids.__getitem__), dtype=np.int64)] = np.arange(n)
    score = np.asarray(lang_score, dtype=np.float64)
    score = np.where(np.isnan(score), -np.inf, score)
    ppl = np.full(n, np.inf) if perplexity is None else np.asarray(perplexity, dtype=np.float64)
    ppl = np.where(np.isnan(ppl), np.inf, ppl)
    fixes = np.zeros(n, dtype=np.int64) if repairs is None else np.asarray(repairs, dtype=np.int64)
    labels = np.zeros(n, dtype=np.int64) if labels is None else labels
    length = np.fromiter(map(len, captions), dtype=np.int64, count=n)
    return np.lexsort((by_id, length, -score, unshared_word_counts(captions, labels), ppl, fixes,
                       defect_counts(captions)))
