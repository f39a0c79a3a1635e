"""The text chain's fast paths (issue 17) give what the plain RE2 kernels they replace give, on
random strings built from the characters that matter to each."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from filters.caption_text import (
    _LIST_END,
    _PUNCTUATION,
    _SINGLE_QUOTED,
    QUOTED_SPAN,
    split_words,
    whitespace_tokens,
    without_quotes,
)
from filters.junk_rules import _ascii_word_starts, _letter_runs
from filters.repairs import ascii_char_counts, ascii_hits, utf8_bytes
from filters.repetition import _letters_only


def _random_texts(alphabet: str, n: int, lengths: tuple[int, ...], seed: int = 0) -> list[str | None]:
    rng = random.Random(seed)
    out: list[str | None] = []
    for _ in range(n):
        size = rng.choice(lengths)
        out.append("".join(rng.choice(alphabet) if rng.random() < 0.3 else "a" for _ in range(size)))
    return out + [None, ""]


def test_without_quotes_matches_the_re2_replacement():
    # quoted spans around the 300-character limit, every kind of quote and of whitespace RE2 and Python disagree on
    texts = pa.array(_random_texts("ab '\"“”„«»‹›「」『』‘’《》\n\t\x0b\x0c\r\x85\xa0\u2028([{:.,;!?)]}x", 20_000,
                                   (3, 10, 50, 299, 300, 301, 302)))
    expected = pc.replace_substring_regex(pc.replace_substring_regex(texts, QUOTED_SPAN, " "), _SINGLE_QUOTED, r"\1 \2")
    got, rows = without_quotes(texts)
    assert got.to_pylist() == expected.to_pylist()
    changed = pc.fill_null(pc.not_equal(expected, texts), False).to_numpy(zero_copy_only=False)
    assert rows.tolist() == np.flatnonzero(changed).tolist() and rows.size > 1_000


def test_ascii_char_counts_match_count_substring_on_slices():
    texts = pa.array(_random_texts("ab,;|/é日 \n-", 5_000, (0, 1, 5, 40)))
    large = texts.cast(pa.large_string())
    chunked = pa.chunked_array([texts.slice(0, 100), texts.slice(100)])
    for arr in (texts, texts.slice(7, 3_000), texts.slice(4_990), large.slice(3), chunked):
        expected = sum(pc.fill_null(pc.count_substring(arr, c), 0).to_numpy(zero_copy_only=False) for c in ",;|/")
        assert ascii_char_counts(arr, ",;|/").tolist() == expected.tolist()
        # more than a few characters take the table path
        many = "0123456789,;|/"
        expected = sum(pc.fill_null(pc.count_substring(arr, c), 0).to_numpy(zero_copy_only=False) for c in many)
        assert ascii_char_counts(arr, many).tolist() == expected.tolist()


def test_word_list_ends_match_the_regex_on_joined_tokens():
    """A word ends an enumeration item when its token, with loose punctuation after it joined on,
    ends with a separator; trailing spaces make empty tokens, which join as nothing."""
    texts = pa.array(_random_texts("ab ,;，、；.!日", 5_000, (1, 4, 12, 30)) + ["{ : 1920,  ", "red , white", "红 ， 绿"])
    words = split_words(pc.utf8_lower(pc.fill_null(texts, "")), np.ones(len(texts), dtype=bool))
    tokens = pc.ascii_split_whitespace(pc.replace_substring_regex(
        pc.utf8_lower(pc.fill_null(texts, "")), r"([\p{Han}\p{Hiragana}\p{Katakana}])", r" \1 ")).to_pylist()
    expected = []
    for row in tokens:
        merged: list[str] = []
        for tok in row:
            if tok.strip(_PUNCTUATION):
                merged.append(tok)
            elif merged and merged[-1] is not None:
                merged[-1] += tok
                merged.append(None)  # loose punctuation joins only the word right before it
            else:
                merged.append(None)
        expected += [t for t in merged if t is not None]
    want = pc.match_substring_regex(pa.array(expected, pa.string()), _LIST_END).to_numpy(zero_copy_only=False)
    assert words.list_ends.tolist() == want.tolist()


_WIDE = "ab ,;|/-#\"'0123456789é日本Жы😀\n\t\x0b\x00<>&:~\\"
_CHAR_SETS = (" \n", "\n", "0123456789", "-|:~/\\>", ",;|/", "\"'", "#", "\x00", " \t\n\x0b\x0c\r",
              "".join(c for c in map(chr, range(128)) if c.isalnum()),
              "".join(c for c in map(chr, range(128)) if not c.isalnum() and c not in "\t\n\f\r "))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(alphabet=_WIDE, max_size=60), st.text(max_size=20)), max_size=40),
       st.sampled_from(_CHAR_SETS), st.integers(0, 5))
def test_ascii_char_counts_match_count_substring_on_any_text(texts, chars, cut):
    """Every way of counting (comparisons per range, table look-up, few hits found one by one,
    many summed per row) gives what Arrow's substring count gives, slices and empty rows included."""
    arr = pa.array(texts, pa.string()).slice(min(cut, len(texts)))
    expected = sum((pc.fill_null(pc.count_substring(arr, c), 0).to_numpy(zero_copy_only=False) for c in chars),
                   np.zeros(len(arr), dtype=np.int64))
    assert ascii_char_counts(arr, chars).tolist() == expected.tolist()
    data, _ = utf8_bytes(arr)
    assert ascii_hits(data, chars).tolist() == [chr(b) in chars for b in data.tolist()]


_WORDY = "abcXYZ _-1é日本カかЖы😀ǅªʰ\u0301"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=_WORDY, max_size=12), max_size=30))
def test_letter_tests_match_the_unicode_classes(texts):
    """The ASCII shortcuts for `\\pL` give what the Unicode class gives, on ASCII and other text."""
    arr = pa.array(texts, pa.string())
    want_runs = pc.count_substring_regex(arr, r"\pL{2,}").to_numpy(zero_copy_only=False)
    assert _letter_runs(arr).tolist() == want_runs.tolist()
    want_letters = pc.and_(pc.match_substring_regex(arr, r"^\pL+$"),
                           pc.invert(pc.match_substring_regex(arr, r"[\p{Han}\p{Hiragana}\p{Katakana}]")))
    assert _letters_only(arr).tolist() == want_letters.to_numpy(zero_copy_only=False).tolist()


def test_repairs_skip_only_rows_no_repair_changes():
    """`repair_texts` repairs only the rows its one-pass screen picks; every repair run on every
    row gives the same texts and the same changed rows, for rows near each repair's triggers."""
    from filters.repairs import _repair_all, may_need_repair, repair_texts
    from schemas.filter_config import CleanConfig

    alphabet = "ab <>&;|-:~/\\>  \t\n\r\x0b\x0c\x00\x7fé日Ã©â€™\u200b\u00a0\u3000#p"
    texts = _random_texts(alphabet, 20_000, (0, 1, 5, 29, 30, 31, 60))
    texts += _random_texts("ab .,'!?()", 20_000, (29, 30, 31, 45), seed=1)  # many a repair leaves alone
    texts += ["<p>A boat</p>", "Fish &amp; chips", "A red barn in the snow | Shutterstock", "Shutterstock",
              "A dog on the grass in the morning light ", " A dog on the grass in the morning light",
              "A dog on the grass in  the morning light", "cafÃ© tables on a sunny square in the old town"]
    arr = pa.array(texts, pa.string())
    sources = pa.array(["web"] * len(texts))
    for cfg in (CleanConfig(), CleanConfig(zh_t2s={"enabled": True, "sources": ["*"]})):
        fast, every = repair_texts(arr, cfg, sources), _repair_all(arr, cfg, sources)
        assert fast.text.to_pylist() == every.text.to_pylist()
        assert {k: v.tolist() for k, v in fast.changed.items()} == {k: v.tolist() for k, v in every.changed.items()}
        assert sum(v.sum() for v in every.changed.values()) > 1_000
    assert (~may_need_repair(arr)).sum() > 5_000


def test_ascii_counts_shared_by_rules_match_counts_of_each_text():
    """`ascii_counts` (each set of `COUNTED_ASCII` counted in one pass over the text) and
    `unquoted_ascii_counts` give the counts of `lower` and `unquoted_lower`, inside and outside
    quotes, with line breaks, NUL and non-ASCII text, and on a batch's subsets (taken before and
    after the counts); a set outside `COUNTED_ASCII` is counted apart."""
    from filters.caption_text import COUNTED_ASCII, CaptionBatch

    texts = [t or "" for t in _random_texts("12 \"'“”«»abKİ7,;|/-#\n\x00.!é语", 5_000, (1, 6, 20, 40))]
    texts += ['a sign saying "1/250" aperture iso shutter speed', "f/2.8 '1/200s' ISO 400", "#tag, #b | c - d"]
    batch = CaptionBatch.from_texts(texts)
    early = batch.subset(np.arange(1, len(batch), 5))
    for b in (batch, batch.subset(np.arange(0, len(batch), 3)), early):
        for chars in COUNTED_ASCII + ("<&",):
            assert b.ascii_counts(chars).tolist() == ascii_char_counts(b.lower, chars).tolist(), repr(chars)
            assert b.unquoted_ascii_counts(chars).tolist() == ascii_char_counts(b.unquoted_lower, chars).tolist()
        assert b.ascii_counts("xyzK").tolist() == ascii_char_counts(b.text, "xyzK").tolist()
        assert b.ascii_digits.tolist() == ascii_char_counts(b.text, "0123456789").tolist()
    with pytest.raises(ValueError):
        batch.unquoted_ascii_counts("aB")  # lowercasing changes letters: not counted on `text`
    assert batch.quoted_rows.size > 200
    assert sum(batch.ascii_counts("\n") > 0) > 100  # (a break before a small letter is mostly joined)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.text(alphabet=st.sampled_from(list("ab ,.;-#\n\x00\x7f19é语\"'")), max_size=30), max_size=40),
    st.lists(st.text(alphabet=st.characters(max_codepoint=127), min_size=1, max_size=12), max_size=6),
)
def test_ascii_set_counts_is_ascii_char_counts_of_each_set(texts, sets):
    from filters.repairs import ascii_set_counts

    arr = pa.array(texts + [None], pa.string())
    got = ascii_set_counts(arr, tuple(sets))
    assert got.shape == (len(arr), len(sets))
    for i, chars in enumerate(sets):
        assert got[:, i].tolist() == ascii_char_counts(arr, chars).tolist()


def test_url_rule_matches_the_unicode_class_pattern():
    """`url` fails what the pattern with `[\\pL\\pN_)-]` before a file extension fails: the ASCII
    class in the pattern plus the non-ASCII letters and numbers looked up apart."""
    from filters.caption_text import CaptionBatch
    from filters.text_rules import url_pattern, url_rule
    from schemas.filter_config import UrlRule

    cfg = UrlRule()
    rng = random.Random(0)
    pieces = ["фото", "Ж", "é", "日", "٣", "²", "Ⅻ", "\u0301", "😀", "a", "Z", "_", ")", "-", " ", ".jpg", ".png",
              ".jpgs", ".JPG", "．jpg", ".txt", "!"]
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 6))) for _ in range(20_000)]
    texts += ["фото.jpg", "фото .jpg", "Ⅻ.png", "²．jpg", "Ж.jpgs", "日.jpg!", "É.JPG", ".jpg"]
    batch = CaptionBatch.from_texts(texts)
    unicode_pattern = url_pattern(cfg.file_extensions, cfg.tlds, cfg.camera_file_names).replace(
        "[a-z0-9_)-]", r"[\pL\pN_)-]")
    expected = ~pc.fill_null(pc.match_substring_regex(batch.lower, unicode_pattern), False).to_numpy(zero_copy_only=False)
    got = url_rule(batch, cfg)
    assert got.tolist() == expected.tolist()
    assert (~got).sum() > 1_000 and (~got[-8:]).tolist() == [True, False, True, False, False, True, True, False]
    assert (~got & pc.invert(pc.string_is_ascii(batch.lower)).to_numpy(zero_copy_only=False)).sum() > 500


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=_WIDE + " ab\n", max_size=40), max_size=30), st.data())
def test_width_from_shared_readings_is_text_width_of_a_batch_and_of_its_subsets(texts, data):
    from filters.caption_text import CaptionBatch, text_width

    batch = CaptionBatch.from_texts(texts)
    assert batch.n_chars.tolist() == text_width(batch.text).tolist()
    rows = np.array(sorted(data.draw(st.sets(st.integers(0, max(len(texts) - 1, 0)), max_size=len(texts)))
                           if texts else []), dtype=np.int64)
    part = CaptionBatch.from_texts(texts).subset(rows)  # a subset that reads its width itself
    assert part.n_chars.tolist() == text_width(part.text).tolist()


_SPACED = "ab,. 1-\t\n\x0b\x0c\r\x1c\x85\xa0\u3000红"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(alphabet=_SPACED, max_size=30)), max_size=30), st.data())
def test_whitespace_tokens_are_arrows_whitespace_split(texts, data):
    # on a slice too (its bytes start past the buffer's start); \x1c, NEL, NBSP and U+3000 split nothing
    full = pa.array(["  x y ", *texts, "z  "], pa.string())
    start = data.draw(st.integers(0, len(full)))
    array = full.slice(start, data.draw(st.integers(0, len(full) - start)))
    tokens, counts = whitespace_tokens(array)
    # Arrow's split also gives an empty token for whitespace at either end; those are no words
    expected = [[t for t in row if t] for row in pc.ascii_split_whitespace(pc.fill_null(array, "")).to_pylist()]
    assert counts.tolist() == [len(row) for row in expected]
    assert pc.ascii_rtrim_whitespace(tokens).to_pylist() == [t for row in expected for t in row]
    # each token runs on to the next one's start: only whitespace is added
    assert all(not t[len(t.rstrip(" \t\n\x0b\x0c\r")):].strip(" \t\n\x0b\x0c\r") for t in tokens.to_pylist())
    # the keyword-list screen counts the tokens that start with an ASCII letter or digit from the same starts
    assert _ascii_word_starts(pc.fill_null(array, "")).tolist() == [
        sum(t[0].isascii() and t[0].isalnum() for t in row) for row in expected]
