"""Loop-like repetition rules: repeated tail, repeated sentence, repeated n-grams."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from filters.caption_text import CaptionBatch
from filters.catalogue import rule
from schemas.filter_config import RulesConfig

CASES: dict[str, tuple[list[str], list[str]]] = {
    "tail_repetition": (
        [
            "A dog on a beach.",
            "A dog on a beach on a sunny day",
            "Bora Bora island",
            "ha ha",
            "runs and runs and runs fast",
            "on a beach on a beach",
        ],
        [
            "a dog on a beach on a beach on a beach",
            "A red car near the road near the road near the road near the ro",
            "A woman holding an umbrella, an umbrella, an umbrella",
            "一只猫在沙发上睡觉睡觉睡觉",
            "and then and then and then and then",
        ],
    ),  # fmt: skip
    "sentence_repetition": (
        [
            "A cat sleeps. A dog barks. A bird sings.",
            "Yes. Yes. Yes.",
            "It is red. It is big.",
            "The cat sleeps on the sofa",
            "A cat sleeps on the sofa. The cat sleeps on a sofa.",
        ],
        [
            "The cat sleeps on the sofa. A dog barks. The cat sleeps on the sofa.",
            "There is a red car! THERE IS A RED CAR. It is parked.",
            "这是一只可爱的小猫。它在睡觉。这是一只可爱的小猫。",
        ],
    ),  # fmt: skip
    "ngram_repetition": (
        [
            "A man riding a horse on the beach at sunset while children play in the sand nearby",
            "A red car and a blue car parked on a quiet street next to a small bakery",
            "short text short text short text",
        ],
        [
            "a red car and a blue car and a red car and a blue car next to a red car and a blue car",
            "sun and sea and sand and sun and sea and sand and sun and sea and sand everywhere",
            "high quality photo, high resolution photo, high quality photo, high resolution photo, best quality photo",
        ],
    ),  # fmt: skip
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_repetition_rule_keeps_clean_and_rejects_loops(name):
    keep, reject = CASES[name]
    mask = rule(name).fn(CaptionBatch.from_texts(keep + reject), getattr(RulesConfig(), name))
    assert mask[: len(keep)].all(), [t for t, m in zip(keep, mask) if not m]
    assert not mask[len(keep) :].any(), [t for t, m in zip(reject, mask[len(keep) :]) if m]


def _mask(name: str, texts: list[str], **params) -> list[bool]:
    cfg = getattr(RulesConfig(), name).model_copy(update=params)
    return rule(name).fn(CaptionBatch.from_texts(texts), cfg).tolist()


def test_tail_repetition_knobs():
    text = "a dog on a beach on a beach"
    assert _mask("tail_repetition", [text]) == [True]
    assert _mask("tail_repetition", [text], min_repeats=2) == [False]
    long_unit = "x " + "one two three four five six seven eight nine " * 3
    assert _mask("tail_repetition", [long_unit]) == [True]
    assert _mask("tail_repetition", [long_unit], max_period=9) == [False]


def test_tail_repetition_does_not_cross_rows():
    # each row alone is not a loop; together they would be
    assert _mask("tail_repetition", ["on a beach", "on a beach", "on a beach"]) == [True, True, True]


def test_sentence_repetition_knobs():
    text = "Yes it is. Yes it is. Fine."
    assert _mask("sentence_repetition", [text]) == [True]  # "yes it is" is 9 characters < 12
    assert _mask("sentence_repetition", [text], min_chars=5) == [False]
    assert _mask("sentence_repetition", [text], min_chars=5, max_repeats=2) == [True]
    assert _mask("sentence_repetition", [text + " Yes it is."], min_chars=5, max_repeats=2) == [False]


def test_ngram_repetition_knobs():
    text = "a b c d a b c d e f g h i j k l"  # 16 words, 14 trigrams, 2 repeats
    assert _mask("ngram_repetition", [text]) == [True]
    assert _mask("ngram_repetition", [text], max_ratio=0.1) == [False]
    assert _mask("ngram_repetition", [text], max_ratio=0.1, min_words=17) == [True]
    assert _mask("ngram_repetition", [text], max_ratio=0.1, n=5) == [True]


_END_PIECES = ["A cat sits here", "a cat sits here", ".", "!", "?", ";", "\n", " ", "...", "。", "！", "；",
               '"Stop. Stop."', "'no. no.'", "x", "Да.", "ok", "  "]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_END_PIECES), max_size=8).map("".join), min_size=1, max_size=20),
       st.integers(1, 3))
def test_sentence_screen_keeps_every_row_the_search_would_find(texts, max_repeats):
    """`_may_repeat_sentences` (shared ASCII counts and the last byte) never drops a row that the
    plain search over `unquoted_lower` would pick, and the rule judges as without it."""
    import pyarrow.compute as pc

    from filters.repetition import _SENTENCE_END, _may_repeat_sentences

    batch = CaptionBatch.from_texts(texts)
    texts_out = batch.unquoted_lower
    if max_repeats == 1:
        plain = pc.fill_null(pc.match_substring_regex(texts_out, _SENTENCE_END + r"\s*[^\s.!?。！？;；]"), False)
        plain = plain.to_numpy(zero_copy_only=False)
    else:
        plain = pc.count_substring_regex(texts_out, _SENTENCE_END).to_numpy(zero_copy_only=False) >= max_repeats
    screen = _may_repeat_sentences(batch, max_repeats)
    assert not (plain & ~screen).any()
