"""Curation statistics from the ledger: rows per repair, score histograms, thresholds per source and
the rows nearest each threshold."""

from __future__ import annotations

import pyarrow as pa

from packer.curation_stats import curation_summary
from packer.partial_stats import part_stats
from schemas.config import parse_job_config
from schemas.manifest import LEDGER_SCHEMA, PACKS_SCHEMA


def ledger_of(columns: dict) -> pa.Table:
    """A ledger part with `columns`; every other ledger column filtered-row defaults or null."""
    n = len(columns["sample_id"])
    defaults = {"task": ["caption"] * n, "status": ["filtered"] * n, "reason": ["filter.too_short"] * n}
    return pa.table({f.name: columns[f.name] if f.name in columns else
                     pa.array(defaults[f.name], f.type) if f.name in defaults else pa.nulls(n, f.type)
                     for f in LEDGER_SCHEMA}, schema=LEDGER_SCHEMA)


def test_repairs_and_scores_from_the_ledger(tmp_path):
    (tmp_path / "lm").mkdir()
    (tmp_path / "lm" / "config.json").write_text("{}")
    cfg = parse_job_config({"sources": [{"name": "a", "format": "jsonl", "path": "/a"},
                                        {"name": "b", "format": "jsonl", "path": "/b"}],
                            "filters": {"scorers": {"nsfw": {"enabled": True, "max_score": 0.5, "thresholds": {"b": 0.2}},
                                                    "lm": {"model_path": str(tmp_path / "lm")}}}})
    n = 8
    ledger = ledger_of({
        "sample_id": [f"s{i}" for i in range(n)], "copy": [0] * (n - 1) + [1], "source": ["a", "b"] * 4,
        "repairs": [["html"], [], ["html", "site_suffix"], None, [], ["mojibake"], [], ["html"]],
        "nsfw_score": pa.array([0.1, 0.3, 0.45, 0.15, 0.6, None, 0.9, 0.55], pa.float32()),
        "clip_score": pa.nulls(n, pa.float32()),
        "lm_perplexity": pa.array([10, 20, 30, 40, 50, 60, 70, 80], pa.float32()),
        "lm_repetition": pa.nulls(n, pa.float32()),
    })
    out = curation_summary(part_stats(ledger, PACKS_SCHEMA.empty_table(), cfg), cfg)
    assert out["repairs"] == {"rows_repaired": 4, "by_repair": {"html": 3, "mojibake": 1, "site_suffix": 1}}
    assert set(out["scores"]) == {"nsfw_score", "lm_perplexity"}  # columns never scored are left out
    nsfw = out["scores"]["nsfw_score"]
    assert nsfw["distribution"]["count"] == 6 and nsfw["fails_when"] == "above"  # copy 1 and null left out
    assert nsfw["thresholds"] == {"a": 0.5, "b": 0.2}
    a = nsfw["examples_at_threshold"]["a"]
    assert [x["sample_id"] for x in a if x["side"] == "failed"] == ["s4", "s6"]  # nearest 0.5 first
    assert [x["sample_id"] for x in a if x["side"] == "kept"] == ["s2", "s0"]
    assert out["scores"]["lm_perplexity"]["thresholds"] == {"a": None, "b": None}  # recorded, not judged
    assert out["scores"]["lm_perplexity"]["examples_at_threshold"] == {}


def test_the_learned_junk_score_reports_its_threshold_and_takes_the_fate_from_the_reason():
    """The junk score fails at its threshold (0.85 by default, for every source); which side a row
    is on is the ledger's reason, since the rule compared the unrounded score (a float32 score of
    0.85 may be a kept 0.84999999)."""
    cfg = parse_job_config({"sources": [{"name": "a", "format": "jsonl", "path": "/a"},
                                        {"name": "b", "format": "jsonl", "path": "/b"}]})
    ledger = ledger_of({
        "sample_id": ["s0", "s1", "s2", "s3", "s4", "s5"], "copy": [0] * 6, "source": ["a"] * 5 + ["b"],
        "status": ["filtered", "packed", "filtered", "packed", "filtered", "packed"],
        "reason": ["filter.learned_junk", None, "filter.learned_junk", "dedup.near", "filter.language", None],
        "junk_score": pa.array([0.97, 0.2, 0.85, 0.85, None, 0.5], pa.float32()),
    })
    out = curation_summary(part_stats(ledger, PACKS_SCHEMA.empty_table(), cfg), cfg)
    junk = out["scores"]["junk_score"]
    assert junk["distribution"]["count"] == 5 and junk["fails_when"] == "above"
    assert junk["thresholds"] == {"a": 0.85, "b": 0.85}
    a = junk["examples_at_threshold"]["a"]
    assert [x["sample_id"] for x in a if x["side"] == "failed"] == ["s2", "s0"]
    assert [x["sample_id"] for x in a if x["side"] == "kept"] == ["s3", "s1"]  # a later stage's reason is kept here
    off = parse_job_config({"sources": [{"name": "a", "format": "jsonl", "path": "/a"}],
                            "filters": {"rules": {"learned_junk": False}}})
    assert curation_summary(part_stats(ledger, PACKS_SCHEMA.empty_table(), off), off)["scores"]["junk_score"][
        "thresholds"] == {"a": None, "b": None}
