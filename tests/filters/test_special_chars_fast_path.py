"""special_chars counts a text's spaces only when its special characters exceed `max_ratio` of its
words (each word holds non-space characters of its own): checked against counting every text's
spaces, on batches and subsets, for texts of punctuation, symbols, spaces, tabs, Han, letters whose
lowercase is longer (İ), quotes and empty texts, and for any ratio and minimum."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from filters.caption_text import CaptionBatch
from filters.repairs import ascii_char_counts
from filters.caption_text import SPECIAL_ASCII
from filters.text_rules import _NOT_SPECIAL, special_chars_rule
from schemas.filter_config import SpecialCharsRule

_ALPHABET = "ab1 .,!?-—#$%&*()[]\"'\t\n日本İ\u0301é★😀 \u3000、。"


def _counting_every_space(batch: CaptionBatch, cfg: SpecialCharsRule) -> np.ndarray:
    visible = batch.n_code_points - ascii_char_counts(batch.text, " \n")
    special = ascii_char_counts(batch.text, SPECIAL_ASCII)
    wide, classes = batch.wide_classes
    special[wide] = classes.count(_NOT_SPECIAL, none_of=True)
    return (visible < cfg.min_chars) | (special <= cfg.max_ratio * np.maximum(visible, 1))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=_ALPHABET, max_size=30), min_size=1, max_size=30),
       st.floats(min_value=0.0, max_value=1.0), st.integers(min_value=1, max_value=20),
       st.lists(st.booleans(), min_size=30, max_size=30))
def test_special_chars_matches_counting_every_space(texts, ratio, min_chars, keep):
    cfg = SpecialCharsRule(max_ratio=ratio, min_chars=min_chars)
    batch = CaptionBatch.from_texts(texts)
    assert special_chars_rule(batch, cfg).tolist() == _counting_every_space(batch, cfg).tolist()
    batch.words  # noqa: B018  (a subset then takes its words from this batch)
    part = batch.subset(np.flatnonzero(np.array(keep[: len(texts)])))
    assert special_chars_rule(part, cfg).tolist() == _counting_every_space(part, cfg).tolist()


def test_spaces_decide_when_special_characters_outnumber_words():
    cfg = SpecialCharsRule(max_ratio=0.3, min_chars=8)
    texts = ["a ! ! ! ! ! b", "a!!!b     ", "!!! ??? ###", "word, word; word.", "a\tb\tc !!", ""]
    batch = CaptionBatch.from_texts(texts)
    assert special_chars_rule(batch, cfg).tolist() == _counting_every_space(batch, cfg).tolist()
    assert special_chars_rule(CaptionBatch.from_texts(["!!! ??? ###"]), cfg).tolist() == [False]
    assert pa.array(texts).null_count == 0
    # words made of symbols: as many special characters as words, and as many as visible characters
    stars = ["★ ★ ★ ★ ★ ★ ★ ★", "★★ ★★ ★★ ★★", "a★ b★ c★ d★ e★"]
    for ratio in (0.3, 0.6, 0.9, 1.0):
        cfg = SpecialCharsRule(max_ratio=ratio, min_chars=4)
        batch = CaptionBatch.from_texts(stars)
        assert special_chars_rule(batch, cfg).tolist() == _counting_every_space(batch, cfg).tolist()
