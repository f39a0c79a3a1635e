"""Every threshold of the caption rules at, just below and just above its limit.

Each case is (rule, config, [(text, kept)...]): the texts sit one unit below, at and one unit above
the limit, so a `<` written for `<=` (or `>` for `>=`) flips exactly one of them."""

from __future__ import annotations

import numpy as np
import pytest

from filters.caption_text import CaptionBatch
from filters.catalogue import rule
from schemas.filter_config import RulesConfig


def _words(n: int, word: str = "w") -> str:
    return " ".join(f"{word}{i}" for i in range(n))


CASES = [
    # digit_run: a run of max_digits digits is allowed, one more is not
    ("digit_run", {"max_digits": 5}, [("id 1234 x", True), ("id 12345 x", True), ("id 123456 x", False)]),
    # digit_run: the run counts, not the digits in all (6 digits, the longest run 5, 4 and 6)
    ("digit_run", {"max_digits": 5}, [("id 12345 x 6", True), ("1234 56", True), ("id 123456 x 7", False)]),
    # bad_encoding: a Windows-1251 reading of UTF-8 ("Рџ") is mojibake from its second occurrence (with
    # a character Windows-1251 has no byte for, "✓", the repair cannot read the text back)
    ("bad_encoding", {"max_replacement_chars": 0},
     [("a Рџ sign ✓", True), ("Рџ and Рџ ✓", False), ("Рџ, Рџ, Рџ ✓", False)]),
    # bad_encoding: up to max_replacement_chars U+FFFD
    ("bad_encoding", {"max_replacement_chars": 1},
     [("a cat", True), ("a \ufffd cat", True), ("a \ufffd\ufffd cat", False)]),
    # too_short: at least min_words words ...
    ("too_short", {"min_words": 3, "min_chars": 1}, [("aa bb", False), ("aa bb cc", True), ("aa bb cc dd", True)]),
    # ... and at least min_chars characters
    ("too_short", {"min_words": 1, "min_chars": 6}, [("abcde", False), ("abcdef", True), ("abcdefg", True)]),
    # too_long: at most max_words words ...
    ("too_long", {"max_words": 4, "max_chars": 1000}, [("a b c", True), ("a b c d", True), ("a b c d e", False)]),
    # ... and at most max_chars characters (spaces count)
    ("too_long", {"max_words": 1000, "max_chars": 20},
     [("a" * 9 + " " + "b" * 9, True), ("a" * 10 + " " + "b" * 9, True), ("a" * 10 + " " + "b" * 10, False)]),
    # ... and an empty text is not too long (the chain's `empty` rule names it; this rule keeps it)
    ("too_long", {"max_words": 1, "max_chars": 1}, [("", True), ("a", True), ("ab", False)]),
    # special_chars: judged only from min_chars visible characters (here every text is half special)
    ("special_chars", {"min_chars": 8, "max_ratio": 0.3},
     [("!!!abc !", True), ("!!!!abcd", False), ("!!!!abcd e", False)]),
    # special_chars: at most max_ratio of the visible characters (8 visible, 0.25 -> 2 allowed)
    ("special_chars", {"min_chars": 1, "max_ratio": 0.25},
     [("abc!defg", True), ("ab!!cdef", True), ("a!!!cdef", False)]),
    # repeated_words: a word at most max_run times in a row
    ("repeated_words", {"max_run": 2, "pair_words": ()},
     [("a dog sits", True), ("a dog dog sits", True), ("a dog dog dog sits", False)]),
    # tail_repetition: a period-2 loop min_repeats times at the end
    ("tail_repetition", {"min_repeats": 3, "max_period": 8},
     [("look at " + "red car " * 2, True), ("look at " + "red car " * 3, False), ("look at " + "red car " * 4, False)]),
    # tail_repetition: loops of up to max_period words (distinct words, repeated three times)
    ("tail_repetition", {"min_repeats": 3, "max_period": 8},
     [("start " + (_words(7) + " ") * 3, False), ("start " + (_words(8) + " ") * 3, False),
      ("start " + (_words(9) + " ") * 3, True)]),
    # sentence_repetition: one sentence at most max_repeats times
    ("sentence_repetition", {"max_repeats": 2, "min_chars": 12},
     [("a big red dog runs. " * 2 + "end", True), ("a big red dog runs. " * 3 + "end", False),
      ("a big red dog runs. " * 4 + "end", False)]),
    # sentence_repetition: only sentences of at least min_chars characters count
    ("sentence_repetition", {"max_repeats": 1, "min_chars": 12},
     [("abcd efgh i. abcd efgh i. end", True), ("abcd efgh ij. abcd efgh ij. end", False),
      ("abcd efgh ijk. abcd efgh ijk. end", False)]),
    # ngram_repetition (unigrams): repeats / words at most max_ratio (12 words, 0.25 -> 3 repeats allowed)
    ("ngram_repetition", {"n": 1, "max_ratio": 0.25, "min_words": 12},
     [(_words(10) + " w0 w1", True), (_words(9) + " w0 w1 w2", True), (_words(8) + " w0 w1 w2 w3", False)]),
    # ngram_repetition: judged only from min_words words (all-repeat texts)
    ("ngram_repetition", {"n": 1, "max_ratio": 0.25, "min_words": 12},
     [("w " * 11, True), ("w " * 12, False), ("w " * 13, False)]),
]


@pytest.mark.parametrize(("name", "params", "cases"), CASES,
                         ids=[f"{n}-{'-'.join(p)}" for n, p, _ in CASES])
def test_threshold_at_below_and_above(name, params, cases):
    cfg = getattr(RulesConfig(), name).model_copy(update=params)
    texts = [t for t, _ in cases]
    got = rule(name).fn(CaptionBatch.from_texts(texts), cfg).tolist()
    assert got == [k for _, k in cases], list(zip(texts, got))


def test_the_cases_sit_where_they_claim():
    """The counts the rules see, so a case cannot drift off its limit unnoticed."""
    b = CaptionBatch.from_texts(["a b c d", "a" * 10 + " " + "b" * 9, "!!!!abcd", "ab!!cdef", "abcd efgh ij"])
    assert b.n_words.tolist()[0] == 4
    assert b.n_chars.tolist()[1:] == [20, 8, 8, 12]


def test_language_score_threshold_is_inclusive():
    """A not-allowed language is rejected when its real lid.176 score reaches the threshold."""

    batch = CaptionBatch.from_texts(["Le chat noir dort sur le canapé rouge du salon ce matin"])
    lang, score = batch.language
    assert lang.to_pylist() == ["fr"]
    s = float(score[0])
    base = RulesConfig().language
    for threshold, kept in ((s, False), (float(np.nextafter(s, 0.0)), False), (float(np.nextafter(s, 1.0)), True)):
        cfg = base.model_copy(update={"allow": ("en",), "min_score": threshold, "short_min_score": threshold,
                                      "uncertain_min_words": 100_000, "unsure_allowed_score": 0.0,
                                      "foreign_total_allowed_score": 0.0, "word_frequency_margin": 0.0})
        # (the score threshold alone decides)
        assert rule("language").fn(batch, cfg).tolist() == [kept], threshold


def test_language_exempts_up_to_exempt_words():
    from filters.language import language_threshold

    cfg = RulesConfig().language.model_copy(update={"exempt_words": 3, "long_words": 10, "min_score": 0.5,
                                                    "short_min_score": 0.9})
    thr = language_threshold(np.array([2, 3, 4, 9, 10, 11]), cfg).tolist()
    assert thr[:2] == [float("inf")] * 2  # at and below exempt_words: never rejected
    assert thr[2] == 0.9 and thr[4:] == [0.5, 0.5]  # just above: the short-text score; long_words on: min_score
    assert 0.5 < thr[3] < 0.9


def _mask(name: str, texts: list[str], **params) -> list[bool]:
    cfg = getattr(RulesConfig(), name).model_copy(update=params)
    mask = rule(name).fn(CaptionBatch.from_texts(texts), cfg)
    assert mask.dtype == np.bool_ and mask.shape == (len(texts),)
    return mask.tolist()


def test_line_breaks_are_not_visible_characters():
    # 11 characters, 3 of them line breaks: 8 visible, 4 special -> half of them
    text = "ab\n\ncd!!\n!!"
    assert _mask("special_chars", [text], min_chars=1, max_ratio=0.45) == [False]
    assert _mask("special_chars", [text], min_chars=1, max_ratio=0.5) == [True]
    assert _mask("special_chars", [text], min_chars=9, max_ratio=0.0) == [True]  # 8 visible: not judged
    assert _mask("special_chars", [text], min_chars=8, max_ratio=0.0) == [False]


def test_a_single_visible_character_is_judged_by_itself():
    assert _mask("special_chars", ["!", "a", "a!"], min_chars=1, max_ratio=0.5) == [False, True, True]


def test_two_words_in_a_whole_batch_are_still_judged():
    assert _mask("repeated_words", ["dog dog"], max_run=1, pair_words=()) == [False]
    assert _mask("repeated_words", ["dog", "dog"], max_run=1, pair_words=()) == [True, True]  # not across rows


def test_no_boilerplate_phrases_keeps_everything_as_a_bool_mask():
    assert _mask("boilerplate", ["Stock photo", "a cat"], phrases=()) == [True, True]


@pytest.mark.parametrize(("text", "kept"), [
    ("see http://x", False), ("see ftp://x", False), ("HTTPS://X", False), ("see http:/x", True),
    ("visit www1.foo", False), ("WWW.FOO", False), ("a www.", True),
    ("mail a.b@gmail.cd", False), ("MAIL A@B.CD", False), ("a @ b.cd", True),
])
def test_each_url_pattern_on_its_own(text, kept):
    """Domains, file names and camera names off: what is left must catch its own kind alone."""
    assert _mask("url", [text], tlds=(), file_extensions=(), camera_file_names=False) == [kept]


def test_only_nul_is_a_bad_byte_not_its_neighbours():
    assert _mask("bad_encoding", ["an X-ray of a hand", "XX", "a\x00b"]) == [True, True, False]


def test_boilerplate_phrases_and_patterns_each_fire_alone():
    texts = ["Stock photo of a cat", "Follow us on the web", "a cat"]
    assert _mask("boilerplate", texts, patterns=()) == [False, True, True]
    assert _mask("boilerplate", texts, phrases=()) == [True, False, True]
    assert _mask("boilerplate", texts, phrases=(), patterns=()) == [True, True, True]  # an empty pattern matches all


def test_special_characters_outside_ascii_count():
    # 11 characters, 10 visible, 5 of them stars: half special
    assert _mask("special_chars", ["★★★★★ abcde", "Ça brûle déjà", "→ 東京タワー"], min_chars=1, max_ratio=0.3) == [
        False, True, True]


def test_only_spaces_and_line_breaks_are_invisible():
    # 12 characters, 11 visible, 3 special: within 0.3 whatever the letters are
    assert _mask("special_chars", ["XXXXXXXX !!!", "xxxxxxxx !!!"], min_chars=1, max_ratio=0.3) == [True, True]


def test_an_empty_text_before_one_that_starts_with_a_letter_has_no_letter():
    """`no_letters` keeps a text on its first byte when that is an ASCII letter: an empty text has
    no first byte (the next text's first letter is not its own), so it fails."""
    assert _mask("no_letters", ["abc", "", "def", "12"]) == [True, False, True, False]
    assert _mask("no_letters", ["", "abc"]) == [False, True]


def test_language_rejects_a_short_text_no_allowed_language_is_near():
    """Above `exempt_words`, lid.176 sure enough of a language outside `allow` and no allowed
    language at `unsure_allowed_score`: rejected, unless one function word of an allowed language
    is there ("of": lid.176 reads "Kids slice of lemon." as Esperanto)."""
    texts = ["Senas medinis namas prie ežero.", "Kids slice of lemon.", "Кот спит на диване"]
    assert _mask("language", texts) == [False, True, True]
    # (the foreign languages' summed score rejects the first too: `foreign_total_score`)
    # (and its words, Lithuanian ones: `word_frequency_margin`; none of them an allowed language's: `unplaced_top_score`)
    assert _mask("language", texts, unsure_allowed_score=0.0, foreign_total_score=1.0,
                 word_frequency_margin=0.0, unplaced_top_score=0.0) == [True, True, True]
    assert _mask("language", texts[:1], unsure_top_score=1.0, foreign_total_score=1.0, word_frequency_margin=0.0,
                 unplaced_top_score=0.0) == [True]


def test_repeated_names_capitalised_inside_a_sentence_are_kept():
    texts = ["Fans of the band The The outside a record shop", "A marquee showing Tora! Tora! Tora! at night",
             "The The dog runs", "ein Fahrrad Fahrrad vor dem Haus", "a bus bus on the road"]
    assert _mask("repeated_words", texts[:3]) == [True, True, False]
    assert _mask("stutter", texts[3:]) == [False, False]


def test_a_title_next_to_capitals_is_no_stutter_where_nouns_are_lowercase():
    texts = ["Children sing Chitty Chitty Bang Bang at a school concert", "Ein alter Hund Hund liegt vor dem Haus"]
    assert _mask("stutter", texts) == [True, False]
