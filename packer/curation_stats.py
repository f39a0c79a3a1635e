"""Statistics of the clean step, the model scorers and the learned junk score, from the ledger's
`repairs` and score columns as `packer.partial_stats` gathers them per part: rows per repair, and
per score a histogram, the thresholds in force and the rows nearest each source's threshold on
either side (the examples to look at when tuning it)."""

from __future__ import annotations

SCORES = {  # column -> (scorer section, threshold field, rows fail when above the threshold?)
    "nsfw_score": ("nsfw", "max_score", True),
    "clip_score": ("clip", "min_similarity", False),
    "lm_perplexity": ("lm", "max_perplexity", True),
    "lm_repetition": ("lm", "max_repetition", True),
    # the text rule `learned_junk` (`filters.junk_model`): fails at its threshold or above, for every source
    "junk_score": ("learned_junk", "threshold", True),
}
# The scores whose failures the ledger's reason tells (the rule compares the unrounded score; the
# ledger's float32 may round a score just under the threshold onto it). The others fail beyond it.
FAILED_BY_REASON = {"junk_score": "filter.learned_junk"}
EXAMPLES_AT_THRESHOLD = 5
BINS = 30


def threshold_of(cfg, column: str, source: str) -> float | None:
    section, field, _ = SCORES[column]
    if column == "junk_score":
        rule = cfg.filters.rules.learned_junk
        return getattr(rule, field) if cfg.filters.enabled and rule.enabled else None
    scorer = getattr(cfg.filters.scorers, section)
    if column == "lm_repetition":
        return scorer.repetition_thresholds.get(source, scorer.max_repetition)
    return scorer.threshold(source, getattr(scorer, field))


def score_summary(p, cfg, column: str) -> dict | None:
    """A score's distribution over first copies, the thresholds per source and the rows nearest
    each threshold (smallest distance, then sample id) from merged part statistics; None when no
    row has the score."""
    from packer.stats import distribution_of

    s = p.scores.get(column)
    if s is None or not s["non_null"]:
        return None
    above = SCORES[column][2]
    out = {"distribution": distribution_of(s["dist"], BINS), "fails_when": "above" if above else "below",
           "thresholds": {}, "examples_at_threshold": {}}
    for source in sorted(p.score_sources.get(column, ())):
        limit = threshold_of(cfg, column, source)
        out["thresholds"][source] = limit
        if limit is None:
            continue
        out["examples_at_threshold"][source] = [
            {"sample_id": sid, "score": round(score, 4), "side": side}
            for side in ("failed", "kept") for _, sid, score in p.score_examples.get((column, source, side), [])]
    return out


def curation_summary(p, cfg) -> dict:
    """`{"repairs": ..., "scores": {column: ...}}` for stats.json, from merged `PartStats`."""
    by_repair = {k: int(v) for k, v in sorted((k, v) for k, v in p.repairs.items() if k is not None)}
    scores = {c: s for c in SCORES if (s := score_summary(p, cfg, c)) is not None}
    return {"repairs": {"rows_repaired": int(p.repairs.get(None, 0)), "by_repair": by_repair}, "scores": scores}
