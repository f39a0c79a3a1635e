"""Statistics of the clean step and the model scorers, from the ledger (`repairs` and the score
columns): rows per repair, and per score a histogram, the thresholds in force and the rows nearest
each source's threshold on either side (the examples to look at when tuning it)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SCORES = {  # column -> (scorer section, threshold field, rows fail when above the threshold?)
    "nsfw_score": ("nsfw", "max_score", True),
    "clip_score": ("clip", "min_similarity", False),
    "lm_perplexity": ("lm", "max_perplexity", True),
    "lm_repetition": ("lm", "max_repetition", True),
}
EXAMPLES_AT_THRESHOLD = 5
BINS = 30


def _threshold(cfg, column: str, source: str) -> float | None:
    section, field, _ = SCORES[column]
    scorer = getattr(cfg.filters.scorers, section)
    if column == "lm_repetition":
        return scorer.repetition_thresholds.get(source, scorer.max_repetition)
    return scorer.threshold(source, getattr(scorer, field))


def repairs_summary(ledger: pa.Table) -> dict:
    if "repairs" not in ledger.column_names:
        return {"rows_repaired": 0, "by_repair": {}}
    lists = ledger.column("repairs")
    names = pc.list_flatten(lists).to_pylist()
    counts: dict[str, int] = {}
    for n in names:
        counts[n] = counts.get(n, 0) + 1
    repaired = pc.fill_null(pc.greater(pc.list_value_length(lists), 0), False)
    return {"rows_repaired": int(pc.sum(repaired).as_py() or 0), "by_repair": dict(sorted(counts.items()))}


def score_summary(ledger: pa.Table, cfg, column: str) -> dict | None:
    if column not in ledger.column_names or ledger.column(column).null_count == ledger.num_rows:
        return None
    from packer.stats import distribution

    first = pc.equal(ledger.column("copy"), 0)
    table = ledger.filter(pc.and_(first, pc.is_valid(ledger.column(column))))
    values = table.column(column).to_numpy(zero_copy_only=False).astype(np.float64)
    sources = table.column("source").to_pylist()
    ids = table.column("sample_id").to_pylist()
    above = SCORES[column][2]
    out = {"distribution": distribution(values, bins=BINS), "fails_when": "above" if above else "below",
           "thresholds": {}, "examples_at_threshold": {}}
    for source in sorted(set(sources)):
        limit = _threshold(cfg, column, source)
        out["thresholds"][source] = limit
        if limit is None:
            continue
        mine = np.flatnonzero(np.array([s == source for s in sources]))
        v = values[mine]
        failing = v > limit if above else v < limit
        near = []
        for side, sel in (("failed", failing), ("kept", ~failing)):
            idx = mine[sel][np.argsort(np.abs(v[sel] - limit), kind="stable")[:EXAMPLES_AT_THRESHOLD]]
            near += [{"sample_id": ids[i], "score": round(float(values[i]), 4), "side": side} for i in idx]
        out["examples_at_threshold"][source] = near
    return out


def curation_summary(ledger: pa.Table, cfg) -> dict:
    """`{"repairs": ..., "scores": {column: ...}}` for stats.json."""
    scores = {c: s for c in SCORES if (s := score_summary(ledger, cfg, c)) is not None}
    return {"repairs": repairs_summary(ledger), "scores": scores}
