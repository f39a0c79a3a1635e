"""The text chain's shortcuts (bounds before features, features shared with subsets, fast paths
for ASCII text) change no verdict: on random captions from a wide alphabet, the chain gives each
text the reason of the first rule, in catalogue order, that fails it when every rule judges the
whole batch afresh, with `too_long` and `too_short` read off the exact word and width counts."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from filters.caption_text import CaptionBatch
from filters.chain import _enabled, first_failing_text_rule
from schemas.filter_config import FilterConfig

_ALPHABET = ("abcdefXYZ019 .,;:!?-_/|#@&<>\"'()[]{}=\n\t\u00a0"
             "日本語中文カかЖыжЯé𝓐😀🎉\u200b\u0301ÃÂ©€™")
_PIECES = ("https://example.com/a.jpg", "www.photo.net", "IMG_20190612_123456", "<p>", "</b>", "&amp;",
           "f/2.8 ISO 200 1/250s", "SELECT * FROM t;", "def f(x):", "I'm sorry, but", "Stock photo",
           "| Shutterstock", "a dog", "the the", "on a beach on a beach", "sunset, beach, palm", "2019-06-12",
           "12:30", "“quoted”", "'single'", "一只小猫", "Кот на диване", "cafÃ©", "5551234567", "!!! ###")
_CAPTION = st.lists(st.one_of(st.text(alphabet=_ALPHABET, min_size=1, max_size=12), st.sampled_from(_PIECES)),
                    max_size=14).map(" ".join)
_CONFIGS = (FilterConfig(), FilterConfig(rules={"too_long": {"max_words": 6, "max_chars": 30},
                                                "too_short": {"min_words": 2, "min_chars": 9}}))


def _rule_by_rule(texts: list[str], cfg: FilterConfig) -> list[str | None]:
    reasons: list[str | None] = [None] * len(texts)
    for spec, rule_cfg in _enabled("text", cfg):
        batch = CaptionBatch.from_texts(texts)
        if spec.name == "too_long":
            keep = (batch.n_words <= rule_cfg.max_words) & (batch.n_chars <= rule_cfg.max_chars)
        elif spec.name == "too_short":
            keep = ((batch.n_words >= rule_cfg.min_words) | batch.unspaced) & (batch.n_chars >= rule_cfg.min_chars)
        else:
            keep = spec.fn(batch, rule_cfg)
        for i in np.flatnonzero(~keep):
            reasons[i] = reasons[i] or spec.reason
    return reasons


@settings(max_examples=60, deadline=None)
@given(st.lists(_CAPTION, min_size=1, max_size=25), st.sampled_from(_CONFIGS))
def test_the_chain_gives_the_reasons_of_the_rules_applied_one_by_one(texts, cfg):
    got = first_failing_text_rule(CaptionBatch.from_texts(texts), cfg).tolist()
    assert got == _rule_by_rule(texts, cfg)
