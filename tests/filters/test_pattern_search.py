"""`filters.pattern_search`: both ways of searching (Hyperscan's scan of the joined texts, then
RE2 on the rows it found; and the fallback, a pattern split into its wide alternatives (every
match holds a non-ASCII character) and the others) find exactly what Arrow's RE2 finds, row by
row, on random patterns and texts and on every pattern the default rules search for."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from filters.caption_text import CaptionBatch
from filters.junk_rules import _CODE_ANY, _joined
from filters import pattern_search
from filters.pattern_search import alternatives, first_match_starts, is_wide, screened_pattern, search, width_split
from filters.text_rules import _url_screen, boilerplate_pattern
from schemas.filter_config import FilterConfig

LABELLED = Path(__file__).parent / "data" / "labelled_captions.jsonl"


def _plain(texts: pa.Array, pattern: str) -> list[bool]:
    return pc.fill_null(pc.match_substring_regex(texts, pattern), False).to_pylist()


# ---- the split


def test_alternatives_open_whole_groups_but_not_classes_escapes_or_repeated_groups():
    assert alternatives(r"a|(?:b|(?:c|d))|e") == ["a", "b", "c", "d", "e"]
    assert alternatives(r"[|(]x|\|y|\(z") == ["[|(]x", r"\|y", r"\(z"]
    assert alternatives(r"[]|]a|b") == ["[]|]a", "b"]
    assert alternatives(r"(?:a|b)+|c") == ["(?:a|b)+", "c"]
    assert alternatives(r"(?:a)(?:b|c)") == ["(?:a)(?:b|c)"]


def test_a_flag_for_the_whole_pattern_keeps_it_whole():
    assert alternatives(r"(?i)a|b") == []
    assert width_split(r"(?i)ab|中文") == (r"(?i)ab|中文", None)


def test_a_group_of_wide_and_narrow_alternatives_is_split_in_two():
    assert alternatives(r"^(?:voici|以下是) x") == ["^(?:voici) x", "^(?:以下是) x"]
    # the narrow part splits again on a later group; the wide part stays whole
    assert alternatives(r"(?:a|中)(?:b|文)") == ["(?:a)(?:b)", "(?:a)(?:文)", "(?:中)(?:b|文)"]
    assert alternatives(r"(?:a|中)?b") == ["(?:a|中)?b"]  # optional: neither part needs its group


@pytest.mark.parametrize("alternative, wide", [
    ("中文", True), ("a中", True), (r"\b以下是\s*x", True), ("[中文]", True), ("(?:中|文)b", True),
    ("a", False), ("[a中]", False), ("['’]s", False), ("(?:中)?a", False), ("中*", False), ("(?:a|中)", False),
    (r"[^a]", False), (".", False), (r"\p{Han}", False), (r"\x{4E2D}", False), ("(?i:ſ)", False),
    ("(?i)ſ", False), ("[:：]x", False),
])  # fmt: skip
def test_wide_means_every_match_holds_a_non_ascii_character(alternative, wide):
    assert is_wide(alternative) is wide


# ---- the same matches


@pytest.fixture(params=["screened", "split"])
def engine(request, monkeypatch, tmp_path_factory):
    """Each test below runs with Hyperscan's screen (for patterns of any length, kept in a cache
    of the test's own) and with the fallback (Hyperscan absent)."""
    if request.param == "split":
        monkeypatch.setattr(pattern_search, "hyperscan", None)
    else:
        monkeypatch.setattr(pattern_search, "SCREEN_MIN_CHARS", 0)
        monkeypatch.setenv("VLPACK_PATTERN_CACHE", str(tmp_path_factory.mktemp("patterns")))
    screened_pattern.cache_clear()
    yield request.param
    screened_pattern.cache_clear()


_ATOMS = ["a", "b", "ab", "中", "文", "é", "ж", "K", "ſ", " ", r"\b", "^", "$", "[a中]", "[中文]", "[^a]", ".", r"\s",
          "['’]", r"\w", "(?i:k)", r"\n", r"\B", r"\A", r"\z", r"\W", "(?i:ж)", "(?s:.)"]  # fmt: skip
_SEQUENCE = st.lists(st.sampled_from(_ATOMS), min_size=1, max_size=4).map("".join)


def _group(branches: list[str], quantifier: str) -> str:
    return "(?:" + "|".join(branches) + ")" + quantifier


_PART = st.one_of(_SEQUENCE, st.builds(_group, st.lists(_SEQUENCE, min_size=1, max_size=3),
                                       st.sampled_from(["", "", "?", "*", "+", "{1,2}"])))
_ALTERNATIVE = st.lists(_PART, min_size=1, max_size=3).map("".join)
_PATTERN = st.builds(lambda flag, alts: flag + "|".join(alts), st.sampled_from(["", "", "", "(?i)"]),
                     st.lists(_ALTERNATIVE, min_size=1, max_size=4))
_TEXT = st.one_of(st.none(), st.lists(st.sampled_from(["a", "b", "x", "中", "文", "é", "ж", " ", "A", "K", "ſ", "K", "'", "’",
                                                       "\n"]), max_size=8).map("".join))  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_PATTERN, st.lists(_TEXT, min_size=1, max_size=12), st.booleans())
def test_search_finds_what_the_whole_pattern_finds(engine, pattern, texts, give_mask):
    texts = pa.array(texts, pa.string())
    mask = None
    if give_mask:  # the caller's mark of the non-ASCII rows (it may mark more)
        mask = ~pc.fill_null(pc.string_is_ascii(texts), True).to_numpy(zero_copy_only=False)
        mask[::3] = True
    assert search(texts, pattern, mask).tolist() == _plain(texts, pattern)


def _rule_patterns() -> list[str]:
    rules = FilterConfig().rules
    return [boilerplate_pattern(rules.boilerplate.phrases, rules.boilerplate.patterns),
            _joined(rules.refusal.patterns), _CODE_ANY, _url_screen(rules.url)]


def test_the_rules_patterns_find_the_same_rows_on_the_labelled_captions(engine):
    lowered = CaptionBatch.from_texts([json.loads(x)["text"] for x in LABELLED.read_text(encoding="utf-8").splitlines()
                                       if x.strip()]).lower
    for i, pattern in enumerate(_rule_patterns()):
        if i < 2:  # boilerplate and refusals have alternatives in other scripts, searched apart
            assert width_split(pattern)[1] is not None
        assert (screened_pattern(pattern) is not None) == (engine == "screened")
        found = search(lowered, pattern)
        assert found.tolist() == _plain(lowered, pattern)
        assert found.any()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(alphabet=st.sampled_from(list("abcdeiklmnoprstuy :;'’.,/@-_01中图片以下是ка暂无é")), max_size=40),
                min_size=1, max_size=20))
def test_the_rules_patterns_find_the_same_rows_on_random_text(engine, texts):
    texts = pa.array(texts, pa.string())
    for pattern in _rule_patterns():
        assert search(texts, pattern).tolist() == _plain(texts, pattern)


def test_large_strings_are_searched_alike(engine):
    texts = pa.array(["a stock photo", None, "x"], pa.large_string())
    assert search(texts, r"\bstock photo|^x$").tolist() == [True, False, True]
    assert first_match_starts(texts, "photo").tolist() == [8, -1, -1]


def test_nulls_are_not_matches(engine):
    texts = pa.array([None, "以下是 x", "voici x", None], pa.string())
    assert search(texts, r"^(?:voici|以下是) x").tolist() == [False, True, True, False]
    assert search(texts, r"^(?:voici|以下是) x", np.ones(4, dtype=bool)).tolist() == [False, True, True, False]


def test_compiled_patterns_are_kept_on_disk_and_a_bad_copy_is_compiled_again(tmp_path, monkeypatch):
    if pattern_search.hyperscan is None:
        pytest.skip("hyperscan is not installed")
    monkeypatch.setenv("VLPACK_PATTERN_CACHE", str(tmp_path / "patterns"))
    texts = pa.array(["a stock photo of x", "a dog", None, "x\nstock photo"], pa.string())
    monkeypatch.setattr(pattern_search, "SCREEN_MIN_CHARS", 0)
    pattern = r"\bstock photo|^x$"
    screened_pattern.cache_clear()
    assert search(texts, pattern).tolist() == _plain(texts, pattern) == [True, False, False, True]
    (kept,) = (tmp_path / "patterns").iterdir()
    kept.write_bytes(b"not a database")  # a copy another machine or version left, or a torn one
    screened_pattern.cache_clear()
    assert search(texts, pattern).tolist() == [True, False, False, True]
    assert kept.read_bytes() != b"not a database"
    monkeypatch.setenv("VLPACK_PATTERN_CACHE", str(kept))  # a file where the folder should be: not writable
    screened_pattern.cache_clear()
    assert search(texts, pattern).tolist() == [True, False, False, True]
    screened_pattern.cache_clear()


@settings(max_examples=300, deadline=None)
@given(_PATTERN, st.lists(_TEXT, min_size=1, max_size=12))
def test_first_match_starts_are_arrows_find(pattern, texts):
    texts = pa.array(texts, pa.string())
    expected = pc.fill_null(pc.find_substring_regex(texts, pattern), -1).to_pylist()
    assert first_match_starts(texts, pattern).tolist() == expected


@pytest.mark.parametrize("pattern", [r"(?i)\w", r"(?i)σ\w", r"(?i)s", r"(?i)k", r"(?i)é", r"(?i)ж+", r"(?i)σ"])
def test_case_insensitive_patterns_fold_beyond_ascii_as_re2_does(engine, pattern):
    """Under "(?i)" RE2's "\\w" takes "ſ" and the Kelvin sign (they fold to "s" and "k") and Hyperscan's
    does not, so such rows go to RE2 (hypothesis found "(?i)\\w" on "ſ"); other folds agree."""
    texts = pa.array(["ſ", "\u212a", "É", "Ж", "x", None, "中", "σſ", "ς"])
    assert search(texts, pattern).tolist() == pc.match_substring_regex(texts, pattern).fill_null(False).to_pylist()


def test_word_bounds_are_left_out_of_the_scan_only():
    assert pattern_search.without_word_bounds(r"\bcat\b|a\Bb|[\b]x|\\bx|[]\b]q\b|[^\]\b]") == r"cat|ab|[\b]x|\\bx|[]\b]q|[^\]\b]"
    # Vectorscan misses this match after the first line when it keeps the bounds: without them the
    # scan finds it, and RE2 judges it as it would alone
    pattern = (r"\b(?:photo|image|picture|photograph|captured|shot|taken|foto|imagen|imagem|bild|immagine)(?:graphy)? "
               r"(?:by|from|via|courtesy of|de|di|von|van|od|av) .{1,60} (?:on|via|from|sur|en|su|auf|op|na|no|em) "
               r"(?:unsplash|pexels)\b")
    texts = pa.array(["this image is licensed under cc by 2.0", "shot by @nomad.lens on unsplash", "a cat by the door"])
    assert search(texts, pattern).tolist() == _plain(texts, pattern) == [False, True, False]


def test_search_within_judges_the_rows_its_screen_finds_as_arrow_would():
    from filters.pattern_search import search_within
    from filters.repairs import site_name_start, site_prefix_pattern, site_suffix_start
    from schemas.filter_config import SiteSuffixRepair

    names = SiteSuffixRepair().suffixes
    texts = pa.array(["Alamy - Old stone bridge", "alamy", "Getty Images iStock | A dog", "A dog | Alamy", None, "",
                      "Photo: A dog", "Stock Photo - A farmer", "  Flickr-style filters", "写真素材 - 猫"])
    for pattern in (site_suffix_start(names), site_prefix_pattern(names)):
        want = pc.fill_null(pc.match_substring_regex(texts, pattern), False).to_numpy(zero_copy_only=False)
        assert search_within(texts, site_name_start(names), pattern).tolist() == want.tolist()


# fragments of larger patterns, never searched alone (Hyperscan's "\p{Arabic}" leaves out the
# Arabic-Indic digits that RE2's takes)
_FRAGMENTS = {"_CREDIT_NAME"}


@pytest.mark.slow
def test_every_screened_pattern_finds_what_re2_finds_on_the_training_captions():
    """Hyperscan's scan is a screen: a row it misses is a row RE2 never judges. Two patterns that
    each screen right can miss rows together (a credit "courtesy of" someone and a stock label in one
    pattern did), so every long pattern of the rule and repair modules is checked on the shipped
    training captions, as written and lowercased, against RE2 alone (about a minute)."""
    from filters import junk_rules, repairs, text_rules

    texts = pa.array([json.loads(x)["text"] for x in
                      (Path(__file__).parents[2] / "filters" / "data" / "caption_training.jsonl").read_text(
                          encoding="utf-8").splitlines() if x.strip()], pa.string())
    rules = FilterConfig().rules
    patterns = {"boilerplate": boilerplate_pattern(rules.boilerplate.phrases, rules.boilerplate.patterns),
                "refusal": _joined(rules.refusal.patterns)}
    for module in (repairs, junk_rules, text_rules):
        for name, value in vars(module).items():
            if isinstance(value, str) and len(value) > 200 and name not in _FRAGMENTS:
                patterns[f"{module.__name__}.{name}"] = value
    screened = {k: p for k, p in patterns.items() if screened_pattern(p) is not None}
    assert len(screened) >= 20
    for which in (texts, pc.utf8_lower(texts)):
        for name, pattern in screened.items():
            found = search(which, pattern)
            assert found.tolist() == _plain(which, pattern), name
