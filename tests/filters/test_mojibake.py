"""`filters.mojibake.fix_encoding` gives ftfy's fix of every text, and its RE2 screen never misses
a text ftfy's badness pattern finds."""

from __future__ import annotations

import random
import re

import ftfy
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from ftfy.badness import BADNESS_RE
from hypothesis import given, settings
from hypothesis import strategies as st

from filters import mojibake
from filters.mojibake import badness_screen, fix_encoding, re2_superset, suspect_pattern

# Text in many scripts, and the code pages its UTF-8 bytes get misread in.
_PIECES = ["café", "naïve", "It’s", "“quoted”", "Привет, мир", "日本語のテキスト", "こんにちは", "€100", "señor",
           "Straße", "crème brûlée", "…", "—", "½", "™", "Ωmega", "🙂", "ä ö ü", "a dog", "on the beach", "ﬁ",
           "\u00a0", "Å", "Ø", "中文字符", "한국어", "ελληνικά", "עברית", "العربية", "x", "1", "é", "à", "ç",
           "\ufeffBOM first", "São Paulo", "Kraków", "İstanbul", "ồ"]  # fmt: skip
_CODE_PAGES = ["latin-1", "cp1252", "cp1251", "shift_jis", "cp437", "macroman", "iso-8859-2", "cp1250",
               "cp1253", "cp1257", "koi8-r"]  # fmt: skip


def _misread(text: str, rng: random.Random) -> str:
    """`text`'s UTF-8 bytes read in a code page, once to three times (errors replaced or dropped)."""
    for _ in range(rng.choice([1, 1, 2, 3])):
        text = text.encode("utf-8").decode(rng.choice(_CODE_PAGES), errors=rng.choice(["replace", "ignore"]))
    return text


def _corpus(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        text = " ".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 6)))
        r = rng.random()
        if r < 0.6:
            text = _misread(text, rng)
        elif r < 0.8:  # clean text with a misread part
            text += " " + _misread(" ".join(rng.choice(_PIECES) for _ in range(2)), rng)
        elif r < 0.9:  # any characters at all
            text = "".join(chr(rng.randint(0x80, 0x2FFF)) for _ in range(rng.randint(1, 12)))
        out.append(text)
    return out


def _screen_finds(texts: list[str]) -> list[bool]:
    return pc.match_substring_regex(pa.array(texts, pa.string()), badness_screen()).to_pylist()


@pytest.mark.parametrize("seed", [0, 1])
def test_fix_encoding_is_ftfy_fix_encoding(seed):
    texts = _corpus(3000, seed)
    expected = [ftfy.fix_encoding(t) for t in texts]
    assert fix_encoding(texts) == expected
    # the corpus holds fixes of one step and of several
    assert sum(e != t for e, t in zip(expected, texts)) > 1000
    assert sum(ftfy.fix_encoding(e) != e for e in (ftfy.fix_encoding_and_explain(t).text for t in texts)) == 0


@pytest.mark.parametrize("n", [5, 127, 128, 400])
def test_fix_encoding_with_few_or_many_texts_to_check_again(n):
    """Below `_SCREEN_FROM_TEXTS` changed texts ftfy's own test picks the ones to fix further, from
    there the RE2 screen: the same results either way."""
    texts = [t for t in _corpus(4000, 11) if ftfy.fix_encoding_and_explain(t).explanation][:n]
    assert len(texts) == n
    assert fix_encoding(texts) == [ftfy.fix_encoding(t) for t in texts]


def test_fix_encoding_of_common_mojibake():
    texts = ["cafÃ© tables", "Itâ€™s raining", "ГўВЂВ™", "plain text", "", "naÃƒÂ¯ve", "Ð¿Ñ€Ð¸Ð²ÐµÑ‚"]
    assert fix_encoding(texts) == [ftfy.fix_encoding(t) for t in texts]
    assert fix_encoding(texts)[:2] == ["café tables", "It’s raining"]
    assert fix_encoding([]) == []


def test_without_the_screen_ftfy_fixes_every_text(monkeypatch):
    texts = _corpus(300, 7)
    # as when ftfy's pattern cannot be translated
    monkeypatch.setattr(mojibake, "badness_screen", lambda: None)
    assert fix_encoding(texts) == [ftfy.fix_encoding(t) for t in texts]


def test_screen_finds_every_text_ftfys_pattern_finds():
    texts = _corpus(4000, 3)
    found = _screen_finds(texts)
    assert all(f for t, f in zip(texts, found) if BADNESS_RE.search(t))
    assert sum(found) > 1000


# characters of ftfy's pattern, ASCII letters, spaces and punctuation, in any order
_ALPHABET = sorted(set(BADNESS_RE.pattern) - set("\n") | set("aZ .,!?\t\n\u00a0\u2003") | set("ÃÂâ€™ВГРСœ√‚"))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.text(alphabet=_ALPHABET, min_size=1, max_size=8), min_size=1, max_size=40))
def test_screen_is_wider_than_ftfys_pattern(texts):
    found = _screen_finds(texts)
    for text, hit in zip(texts, found):
        if BADNESS_RE.search(text):
            assert hit, text


@pytest.mark.parametrize(
    "pattern, matches, misses",
    [
        (r"[a-c]x\s?$", ["bx ", "cx"], ["dx"]),  # "$" is unknown: refused below
        (r"(?:ab|c)[^d]\w", ["abx1", "cxy"], ["cd1"]),
        (r"^Ã[\xa0¡]", ["Ã¡x"], ["xÃ¡"]),
        (r"a(?=b)", ["ab"], ["ac"]),
    ],
)
def test_translation_keeps_what_it_can_and_widens_the_rest(pattern, matches, misses):
    regex = re.compile(pattern)
    if "$" in pattern:
        with pytest.raises(ValueError):
            re2_superset(regex)
        return
    re2 = re2_superset(regex)
    got = pc.match_substring_regex(pa.array(matches + misses), re2).to_pylist()
    assert got[: len(matches)] == [True] * len(matches)
    # a look-ahead is dropped (wider); the rest keeps its meaning
    assert got[len(matches) :] == [bool(pattern.startswith("a(?="))] * len(misses)


def test_translation_refuses_inline_flags_and_back_references():
    for pattern in [r"(?i)abc", r"(a)\1"]:
        with pytest.raises(ValueError):
            re2_superset(re.compile(pattern))
    with pytest.raises(ValueError):
        re2_superset(re.compile("abc", re.IGNORECASE))


@pytest.mark.parametrize("code_page", ["latin-1", "cp1252", "cp1251", "cp1250", "cp1253", "cp1254", "cp1257",
                                       "iso-8859-2", "mac_roman", "cp437"])  # fmt: skip
def test_screen_picks_every_text_misread_in_a_code_page_ftfy_tries(code_page):
    """The rows the clean step hands to ftfy (`suspect_pattern`) hold every text, misread in one of
    the code pages ftfy tries (bytes lost or not), that ftfy's fix changes."""
    rng = random.Random(code_page)
    texts = []
    for _ in range(1500):
        text = " ".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 5)))
        texts.append(text.encode("utf-8").decode(code_page, errors=rng.choice(["replace", "ignore"])))
    changed = [t for t in texts if ftfy.fix_encoding(t) != t]
    assert len(changed) > 500
    picked = pc.match_substring_regex(pa.array(changed), suspect_pattern()).to_pylist()
    assert [t for t, p in zip(changed, picked) if not p] == []


def test_clean_step_repairs_mojibake_of_every_code_page_ftfy_tries():
    from filters.repairs import repair_texts
    from schemas.filter_config import CleanConfig

    clean = ["It’s raining — again…", "Привет, мир", "ελληνικά", "café on the square"]
    misread = [clean[0].encode().decode("cp1251"), clean[0].encode().decode("mac_roman"),
               clean[1].encode().decode("cp1251"), clean[2].encode().decode("cp1253", errors="replace"),
               clean[3].encode().decode("cp1251")]  # fmt: skip
    repaired = repair_texts(pa.array(misread + clean), CleanConfig())
    assert repaired.text.to_pylist() == [ftfy.fix_encoding(t) for t in misread] + clean
    # ftfy repairs the first four; "cafГ©" it leaves (one letter misread is not bad enough for it)
    assert repaired.text.to_pylist()[:5] == [clean[0], clean[0], clean[1], clean[2], misread[4]]
    assert repaired.changed["mojibake"].tolist() == [True] * 4 + [False] * 5
