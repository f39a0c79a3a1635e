"""The typed `filters:` section: defaults, YAML, shorthand, and errors that name field and range."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from filters.catalogue import IMAGE_RULES, TEXT_RULES
from schemas.config import ConfigError, load_job_config, parse_job_config
from schemas.filter_config import FilterConfig, LanguageRule, RulesConfig

SOURCES = [{"name": "s", "format": "jsonl", "path": "/data/a.jsonl"}]


def job(filters: dict):
    return parse_job_config({"sources": SOURCES, "filters": filters})


def test_one_config_section_per_registered_rule_in_order():
    assert tuple(RulesConfig.model_fields) == TEXT_RULES + IMAGE_RULES


def test_caption_friendly_defaults():
    r = FilterConfig().rules
    assert (r.too_short.min_words, r.too_short.min_chars) == (2, 6)  # rejects one word or <= 5 chars
    assert r.language.exempt_words == 3 and "en" in r.language.allow and "zh" in r.language.allow
    assert r.blank.enabled is False  # opt-in: reads pixels
    assert all(getattr(r, name).enabled for name in TEXT_RULES + IMAGE_RULES if name != "blank")


def test_yaml_section(tmp_path):
    path = tmp_path / "job.yaml"
    path.write_text(
        "sources: [{name: s, format: jsonl, path: a.jsonl}]\n"
        "filters:\n"
        "  tasks: [caption, ocr]\n"
        "  rules:\n"
        "    too_short: {min_words: 2}\n"
        "    language: {allow: [en, zh], min_score: 0.6}\n"
        "    blank: true\n"
        "    boilerplate: false\n"
    )
    cfg = load_job_config(path).filters
    assert cfg.tasks == ("caption", "ocr")
    assert cfg.rules.too_short.min_words == 2 and cfg.rules.too_short.min_chars == 6
    assert cfg.rules.language.allow == ("en", "zh") and cfg.rules.language.min_score == 0.6
    assert cfg.rules.blank.enabled and not cfg.rules.boilerplate.enabled


def test_frozen():
    cfg = FilterConfig()
    with pytest.raises(ValidationError):
        cfg.rules.too_short.min_words = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    "filters, field, allowed",
    [
        ({"rules": {"too_short": {"min_words": 0}}}, "filters.rules.too_short.min_words = 0", "1 <= x <= 10000"),
        ({"rules": {"language": {"min_score": 1.5}}}, "filters.rules.language.min_score = 1.5", "0.0 <= x <= 1.0"),
        ({"rules": {"aspect_ratio": {"max_ratio": 500}}}, "filters.rules.aspect_ratio.max_ratio = 500",
         "1.0 <= x <= 200.0"),
        ({"rules": {"compression": {"min_jpeg_quality": 101}}},
         "filters.rules.compression.min_jpeg_quality = 101", "0 <= x <= 100"),
    ],
)  # fmt: skip
def test_bad_value_names_field_value_and_range(filters, field, allowed):
    with pytest.raises(ConfigError) as err:
        job(filters)
    assert field in str(err.value) and allowed in str(err.value)


def test_unknown_rule_or_parameter_is_named():
    with pytest.raises(ConfigError, match=r"filters\.rules\.too_shrt"):
        job({"rules": {"too_shrt": {"min_words": 2}}})
    with pytest.raises(ConfigError, match=r"filters\.rules\.url\.domains"):
        job({"rules": {"url": {"domains": True}}})


def test_cross_field_checks():
    with pytest.raises(ValidationError, match="long_words"):
        LanguageRule(exempt_words=5, long_words=5)
    with pytest.raises(ValidationError, match="short_min_score"):
        LanguageRule(min_score=0.9, short_min_score=0.5)
    with pytest.raises(ValidationError, match="language codes"):
        LanguageRule(allow=("english",))
    with pytest.raises(ValidationError, match="without a dot"):
        FilterConfig(rules={"url": {"file_extensions": [".jpg"]}})
    with pytest.raises(ValidationError, match="non-empty"):
        FilterConfig(rules={"boilerplate": {"phrases": ["  "]}})


def test_fingerprint_changes_with_a_rule_parameter():
    a = job({})
    b = job({"rules": {"digit_run": {"max_digits": 7}}})
    assert a.fingerprint() != b.fingerprint()
    assert a.fingerprint() == job({"rules": {"digit_run": {"max_digits": 5}}}).fingerprint()
