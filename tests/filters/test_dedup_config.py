"""DedupConfig validation: errors name the field, the value and the allowed range."""

from __future__ import annotations

import pytest

from filters.dedup import DedupPlan, candidate_probability
from schemas.config import ConfigError, parse_job_config
from schemas.dedup_config import DedupConfig

SOURCES = [{"name": "web", "format": "jsonl", "path": "/data/web.jsonl"}]


@pytest.mark.parametrize("dedup, expected", [
    ({"threshold": 1.5}, r"dedup\.threshold = 1\.5: .*allowed: 0\.0 < x <= 1\.0"),
    ({"num_perm": 4}, r"dedup\.num_perm = 4: .*allowed: 8 <= x <= 1024"),
    ({"bands": 20, "rows": 9}, r"bands × rows = 20 × 9 = 180 must be <= num_perm \(128\)"),
    ({"bands": 20}, r"bands \(20\) and rows \(None\) must be given together"),
    ({"false_positive_weight": 0, "false_negative_weight": 0}, r"must be > 0"),
    ({"scope": "shard"}, r"dedup\.scope = 'shard'"),
    ({"treshold": 0.7}, r"dedup\.treshold = 0\.7: unknown field"),
])
def test_bad_dedup_config_names_field_and_range(dedup, expected):
    with pytest.raises(ConfigError, match=expected):
        parse_job_config({"sources": SOURCES, "dedup": dedup})


def test_plan_from_config():
    plan = DedupPlan.build(DedupConfig(), seed=0)
    # the best shape under which a pair at J = threshold is a candidate with probability >= 0.95
    assert (plan.bands, plan.rows) == (13, 7) and plan.buckets_per_caption == 13
    assert candidate_probability(0.8, 13, 7) >= 0.95 > candidate_probability(0.8, 14, 9)
    assert DedupPlan.build(DedupConfig(min_candidate_probability=0.0), seed=0).rows == 9  # the unconstrained optimum
    with pytest.raises(ValueError, match="no bands × rows"):
        DedupPlan.build(DedupConfig(threshold=0.1, num_perm=8, min_candidate_probability=0.99), seed=0)
    explicit = DedupPlan.build(DedupConfig(bands=16, rows=8, image_exact=True), seed=0)
    assert (explicit.bands, explicit.rows) == (16, 8) and explicit.buckets_per_caption == 17
    assert DedupPlan.build(DedupConfig(near=False), seed=0).buckets_per_caption == 1
    # the permutations follow the job seed unless the config pins them
    assert (DedupPlan.build(DedupConfig(), seed=1).hasher.a != plan.hasher.a).any()
    pinned = [DedupPlan.build(DedupConfig(seed=9), seed=s).hasher.a for s in (1, 2)]
    assert (pinned[0] == pinned[1]).all()


def test_fingerprint_follows_dedup_fields():
    a = parse_job_config({"sources": SOURCES})
    b = parse_job_config({"sources": SOURCES, "dedup": {"false_negative_weight": 0.8}})
    assert a.fingerprint() != b.fingerprint()
