"""The screens rules announce to a batch (`CaptionBatch.expect_lower_scans`): one search for all of
them together, then each pattern searched only in the rows that search matched. Each look-up is
checked against a plain search of `lower` / `unquoted_lower`, on batches and on subsets cut after
the shared search was made."""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from filters.caption_text import CaptionBatch
from filters.catalogue import rules_in_order
from filters.chain import first_failing_text_rule
from schemas.filter_config import FilterConfig

_RULES = FilterConfig().rules
# the screens of the built-in rules, as the chain announces them, and small patterns with anchors
_SCREENS = [spec.screen(getattr(_RULES, spec.name)) for spec in rules_in_order("text") if spec.screen]
_SMALL = [r"^a", r"b$", r"\bcat\b", r"x+y", r"[{}]", r"^\s*#", r"(?i)ok\W*$"]
_PIECES = [
    "a", "b", "cat", "x", "y", "{", "}", "#", " ", "\n", "ok", "OK!", "www.site.com", "foo.jpg", "IMG_1234",
    "as an ai language model", "i'm sorry, but i can't see", "select * from t", "def f(x):", "x = foo(1)",
    "2019-06-12", "june 12, 2019", '"', "'", "“", "”", "«", "»", "「", "」", "日本", "é", "Привет", "stock photo",
]
_TEXT = st.lists(st.sampled_from(_PIECES), max_size=8).map("".join)


def _plain(texts, pattern) -> list[bool]:
    return pc.fill_null(pc.match_substring_regex(texts, pattern), False).to_pylist()


@settings(max_examples=200, deadline=None)
@given(st.lists(_TEXT, min_size=1, max_size=25),
       st.lists(st.sampled_from(_SCREENS + _SMALL), min_size=1, max_size=5, unique=True),
       st.sampled_from(_SCREENS + _SMALL),
       st.lists(st.booleans(), min_size=25, max_size=25),
       st.booleans())
def test_screened_searches_match_plain_searches(texts, announced, other, keep, screen_first):
    batch = CaptionBatch.from_texts(texts)
    batch.expect_lower_scans(announced)
    if screen_first:  # the shared search made on the whole batch, then inherited by the subset
        batch.lower_matches(announced[0])
    rows = np.flatnonzero(np.array(keep[: len(texts)]))
    for part in (batch, batch.subset(rows)):
        quoted = part.quoted_rows
        for pattern in (*announced, other):
            on_lower = _plain(part.lower, pattern)
            on_unquoted = _plain(part.unquoted_lower, pattern)
            assert part.lower_matches(pattern).tolist() == on_lower
            assert part.unquoted_lower_matches(pattern).tolist() == on_unquoted
            both = part.lower_and_unquoted_matches(pattern)
            assert both[0].tolist() == on_lower
            assert both[1].tolist() == [on_unquoted[i] for i in quoted]


@settings(max_examples=100, deadline=None)
@given(st.lists(_TEXT, min_size=1, max_size=30))
def test_chain_reasons_do_not_depend_on_screens(texts):
    """The chain with the rules' screens announced gives each text the reason that each rule,
    called on its own (no screen: plain searches), gives it."""
    cfg = FilterConfig()
    reasons = first_failing_text_rule(CaptionBatch.from_texts(texts), cfg)
    expected = np.full(len(texts), None, dtype=object)
    for spec in rules_in_order("text"):
        rule_cfg = getattr(cfg.rules, spec.name)
        if not rule_cfg.enabled:
            continue
        failed = ~spec.fn(CaptionBatch.from_texts(texts), rule_cfg) & (expected == None)  # noqa: E711
        expected[failed] = spec.reason
    assert reasons.tolist() == expected.tolist()
