"""More of the text chain's fast paths (issue 17), each against the slow definition it replaces:
Han/Kana characters set apart as words with the class table instead of an RE2 replacement, and
the end-anchored screen that picks the rows worth the site-suffix pattern."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from filters.caption_text import PER_CHAR_WORD, CaptionBatch
from filters.repairs import site_suffix_ending, site_suffix_pattern
from filters.unicode_classes import BIT, char_classes
from schemas.filter_config import CleanConfig, SiteSuffixRepair

# Han, Hiragana, Katakana (with the marks and symbols around them), Hangul, fullwidth forms, astral
# Han and emoji, combining marks, ASCII and whitespace.
_CJK = "日本語の猫ネコｶﾀｶﾅーゝヽ々〆〇㐀\U00020000\U0002a6d6한국어ㄱ・「」、。ＡＢ１\U0001f600\u0301é a\n\t"


def _spaced_by_re2(texts: pa.Array) -> pa.Array:
    return pc.replace_substring_regex(texts, f"({PER_CHAR_WORD})", r" \1 ")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(alphabet=_CJK, max_size=40), st.text(max_size=15)), min_size=1, max_size=30),
       st.integers(min_value=0, max_value=5))
def test_spaced_characters_match_the_re2_replacement(texts, cut):
    arr = pa.array(texts, pa.string()).slice(min(cut, len(texts) - 1))
    got = char_classes(arr).spaced(BIT["per_char_word"])
    got.validate(full=True)
    assert got.to_pylist() == _spaced_by_re2(arr).to_pylist()


def test_words_of_cjk_text_are_split_as_before():
    """Word counts and ids of mixed-script captions: every Han/Kana character a word of its own."""
    texts = ["一只小猫坐在窗台上", "夜の東京の街並み", "猫 cat 猫", "カタカナ and ひらがな, 漢字。", "한국어 문장", "",
             "\U00020000\U00020001 x", "a 日本 b"] * 3
    batch = CaptionBatch.from_texts(texts)
    spaced = _spaced_by_re2(batch.lower)
    expected = [len([t for t in s.split() if t.strip("。、，,")]) for s in spaced.to_pylist()]
    assert batch.words.counts.tolist() == expected
    assert batch.words.counts[0] == 9 and batch.words.counts[2] == 3


_SEPARATORS = ["|", "｜", "¦", "-", "–", "—", ":", "·", "•", "~", "/", "\\", "»", ">", " | ", " - ", "  ||  "]
_TAILS = ["", ".", "!", " .", "  ", " 12345", " id 9876", " ID#4567", " #123", "\n", " 12", ".com", ".COM"]


def _suffixed(names: list[str]) -> st.SearchStrategy[str]:
    name = st.sampled_from(names).flatmap(
        lambda s: st.sampled_from([s, s.upper(), s.title(), s.replace(" ", "  "), s.replace(" ", "\n")]))
    part = st.tuples(st.sampled_from(_SEPARATORS), name, st.sampled_from(_TAILS)).map("".join)
    lead = st.sampled_from(["", "A red barn in the snow", "stock photo of a dog", " ", "日本の猫", "x"])
    return st.tuples(lead, st.lists(part, min_size=0, max_size=3), st.sampled_from(_TAILS),
                     st.text(alphabet="ab .|-", max_size=4)).map(lambda t: t[0] + "".join(t[1]) + t[2] + t[3])


@settings(max_examples=400, deadline=None)
@given(st.lists(_suffixed(list(SiteSuffixRepair().suffixes)), min_size=1, max_size=20))
def test_site_suffix_ending_picks_every_text_the_suffix_pattern_changes(texts):
    suffixes = SiteSuffixRepair().suffixes
    arr = pa.array(texts, pa.string())
    changed = pc.not_equal(pc.replace_substring_regex(arr, site_suffix_pattern(suffixes), ""), arr)
    changed = changed.to_numpy(zero_copy_only=False)
    screened = pc.match_substring_regex(arr, site_suffix_ending(suffixes)).to_numpy(zero_copy_only=False)
    assert not (changed & ~screened).any()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="ab. -+*?()[]{}|\\$^日 ", min_size=1, max_size=8), min_size=1, max_size=4),
       st.lists(st.text(alphabet="ab. -|日\n", max_size=10), min_size=1, max_size=4))
def test_site_suffix_ending_holds_for_any_configured_suffix(suffixes, leads):
    """Suffixes with spaces, regex metacharacters and non-ASCII letters, written as the config
    would have them, and texts ending in them."""
    suffixes = tuple(dict.fromkeys(suffixes))
    texts = [lead + sep + s + tail for lead in leads for s in suffixes for sep in (" | ", "-", "")
             for tail in ("", " 1234", ".")]
    arr = pa.array(texts, pa.string())
    changed = pc.not_equal(pc.replace_substring_regex(arr, site_suffix_pattern(suffixes), ""), arr)
    screened = pc.match_substring_regex(arr, site_suffix_ending(suffixes))
    assert not (changed.to_numpy(zero_copy_only=False) & ~screened.to_numpy(zero_copy_only=False)).any()
    re.compile(site_suffix_ending(suffixes).replace("(?i)", ""))  # a well-formed pattern


def test_site_suffix_repair_unchanged_by_the_screen():
    """The repair with the screen gives what the suffix pattern alone gives, on texts near it."""
    from filters.repairs import _site_suffix

    cfg = CleanConfig().site_suffix
    texts = ["A red barn | Shutterstock", "A red barn | Shutterstock 123456", "Stock Photo", "photo",
             "a photo of stock", "Cats - Flickr.", "Cats - flickr!", "x | Getty  Images", "x | getty\nimages",
             "x | Amazon.com", "x | amazon", "x - stock photos - alamy id 12345", "free", "royalty-free",
             "a - b", "pinterest board of cats", "Cats｜Pinterest", "Cats » Etsy", "日本の猫 - Pixabay"] * 2
    arr = pa.array(texts, pa.string())
    context = {"touched": np.zeros(len(arr), dtype=bool), "non_ascii": ~pc.string_is_ascii(arr).to_numpy(zero_copy_only=False)}
    got = _site_suffix(arr, cfg, context)
    stripped = pc.replace_substring_regex(arr, site_suffix_pattern(cfg.suffixes), "")
    expected = [pc.utf8_trim_whitespace(pa.array([s])).to_pylist()[0] if s != t else t
                for s, t in zip(stripped.to_pylist(), texts)]
    assert got.to_pylist() == expected
    assert sum(a != b for a, b in zip(got.to_pylist(), texts)) >= 20


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(alphabet="a†‡ 日é1.\u0301Ж‐", max_size=12), st.text(max_size=8)),
                min_size=1, max_size=30))
def test_letter_before_dagger_matches_reading_every_character(texts):
    from filters.text_rules import _letter_before_dagger

    arr = pa.array(texts, pa.string())
    expected = char_classes(arr).any_followed_by(BIT["letter"], "†‡")
    assert _letter_before_dagger(arr).tolist() == expected.tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.text(alphabet="aZ1 ٣日ไทยé\u0301†.", max_size=12), st.text(max_size=6)), min_size=1, max_size=40),
       st.lists(st.booleans(), min_size=40, max_size=40), st.lists(st.booleans(), min_size=40, max_size=40))
def test_shared_character_classes_are_those_of_each_batch_and_subset(texts, first_cut, second_cut):
    """`wide_classes`, read once and handed down to subsets, gives what reading the subset's own
    non-ASCII rows gives; the rules that use it answer as the class table does on each text."""
    from filters.text_rules import digit_run_rule, no_letters_rule, special_chars_rule
    from schemas.filter_config import DigitRunRule, NoLettersRule, SpecialCharsRule

    batch = CaptionBatch.from_texts(texts)
    wide, classes = batch.wide_classes  # read on the whole batch, then cut twice
    assert classes.starts.size == wide.size + 1
    rows = np.flatnonzero(first_cut[: len(texts)])
    part = batch.subset(rows)
    part = part.subset(np.flatnonzero(second_cut[: len(part)]))
    for b in (batch, part):
        wide, classes = b.wide_classes
        assert wide.tolist() == np.flatnonzero(~pc.string_is_ascii(b.text).to_numpy(zero_copy_only=False)).tolist()
        fresh = char_classes(b.text.take(pa.array(wide, pa.int64())))
        assert classes.code_points.tolist() == fresh.code_points.tolist()
        assert classes.bits.tolist() == fresh.bits.tolist() and classes.starts.tolist() == fresh.starts.tolist()
        every = char_classes(b.text)
        assert no_letters_rule(b, NoLettersRule()).tolist() == (every.count(BIT["letter"]) > 0).tolist()
        digits = DigitRunRule(max_digits=2)
        got = digit_run_rule(b, digits)
        alone = CaptionBatch(raw=b.text, text=b.text, invalid_utf8=np.zeros(len(b), dtype=bool))  # nothing shared
        assert got.tolist() == digit_run_rule(alone, digits).tolist()
        # non-ASCII rows (any script's digits), unless digit groups may decide: the class table's runs
        table_rows = ~pc.string_is_ascii(b.text).to_numpy(zero_copy_only=False) & (b.ascii_digits < 8)
        assert got[table_rows].tolist() == (every.runs_at_least(BIT["digit"], 3) == 0)[table_rows].tolist()
        assert b.unspaced.tolist() == (every.count(BIT["unspaced"]) > 0).tolist()
        special_chars_rule(b, SpecialCharsRule())

