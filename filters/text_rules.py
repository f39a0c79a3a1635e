"""Caption text rules (EVLM appendix A.1, report §3.2): each a pure `(CaptionBatch, cfg) -> keep mask`.

All matching is done with pyarrow's RE2 kernels over whole arrays. The rules judge the repaired
text (`filters.repairs`); `bad_encoding` also looks at the raw text for bytes that were not UTF-8
and NUL. `boilerplate` and `repeated_words` ignore quoted spans (OCR content).
"""

from __future__ import annotations

import re
import string
import unicodedata
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from filters.caption_text import SPECIAL_ASCII, CaptionBatch
from filters.language import reads_as
from filters.repairs import CYRILLIC_MISREAD, LATIN_EXTENDED_MISREAD, ascii_char_counts, utf8_bytes
from filters.pattern_search import bool_mask as _np, search
from filters.repetition import title_case_repeats_only, without_species_names
from filters.rule_spec import text_rule
from filters.unicode_classes import BIT, char_class_bits, char_classes
from filters.word_frequencies import available, zipf_table
from schemas.filter_config import (
    BadEncodingRule,
    BoilerplateRule,
    DateOnlyRule,
    DigitRunRule,
    EmptyRule,
    NoLettersRule,
    RepeatedWordsRule,
    SpecialCharsRule,
    TooLongRule,
    TooShortRule,
    UrlRule,
)



@text_rule("empty")
def empty_rule(batch: CaptionBatch, cfg: EmptyRule) -> np.ndarray:
    return _np(pc.greater(pc.binary_length(batch.text), 0))


# Mojibake that ftfy (the `mojibake` repair) leaves: UTF-8 read as Latin-1/cp1252 ("Ã©", "â€™",
# "Â "), a BOM read as Latin-1, the lossy CJK round trips, and Shift-JIS readings of UTF-8.
_MOJIBAKE = (
    r"Ã[\x{80}-\x{BF}]|Â[\x{80}-\x{BF}]|â€[\x{80}-\x{BF}\x{2018}-\x{201E}\x{2122}\x{153}\x{161}\x{17E}\x{2DC}\x{20AC}]"
    r"|ï»¿|锟斤拷|烫烫烫|屯屯屯|[\x{7E3A}\x{7E67}\x{7E5D}][\x{FF61}-\x{FF9F}]"
    # what a partial repair leaves: Latin-1 letters glued to Cyrillic (and a dagger glued to a word,
    # `\pL[†‡]`, read off the class table: RE2 would build `\pL` anew at every call)
    r"|\p{Cyrillic}[\x{C0}-\x{FF}]|[\x{C0}-\x{FF}]\p{Cyrillic}"
    # a Latin-1 letter no Vietnamese word has glued to a Vietnamese letter: UTF-8 Vietnamese read as
    # Windows-1252 and partly mended ("Äức" was "Đức": its second byte, 0x90, was lost)
    r"|[\x{C4}-\x{C7}\x{CB}\x{CF}-\x{D1}\x{D6}-\x{D8}\x{DE}-\x{E0}\x{E4}-\x{E7}\x{EB}\x{EF}-\x{F1}\x{F6}-\x{F8}"
    r"\x{FE}\x{FF}][\x{1EA0}-\x{1EF9}]"
    # UTF-8 Japanese read as Shift-JIS (cp932): hiragana and katakana start with the bytes of 縺, 繧 or
    # 繝 ("縺薙・逕ｻ蜒上・" was この画像は), twice; or a half-width kana between two Han characters, twice
    r"|[\x{7E3A}\x{7E67}\x{7E5D}][^\n]*[\x{7E3A}\x{7E67}\x{7E5D}]"
    r"|\p{Han}[\x{FF61}-\x{FF9F}]\p{Han}[^\n]*\p{Han}[\x{FF61}-\x{FF9F}]\p{Han}"
)


def _gbk_rows(leads: range) -> str:
    """A class of the Han characters whose GBK code starts with one of ``leads``."""
    codes = sorted({ord(c) for lead in leads for trail in range(0x40, 0xFF) if trail != 0x7F
                    for c in bytes((lead, trail)).decode("gbk", errors="ignore") if ord(c) >= 0x2E80})
    runs, start = [], codes[0]
    for a, b in zip(codes, codes[1:] + [-1]):
        if b != a + 1:
            runs.append(f"\\x{{{start:X}}}" + (f"-\\x{{{a:X}}}" if a != start else ""))
            start = b
    return "[" + "".join(runs) + "]"


# Japanese in Shift-JIS read as GBK: kana and the long-vowel mark (lead bytes 0x81-0x84) become rare
# Han characters of GBK's first rows ("偐傢偄偄" was かわいい, "僞儚乕偺" タワーの). Three in a row:
# Chinese, simplified or traditional, has at most two ("兩個").
_GBK_KANA_ROWS = _gbk_rows(range(0x81, 0x85))
# (and UTF-8 read as Latin-1 with "?" for what it lost: "Ã?Â", and after ftfy mended the rest of a
# Cyrillic text, a word that was "Ñ?" on its own, "Свадебное платье Ñ? кружевом")
_MOJIBAKE += "|" + _GBK_KANA_ROWS + "{3}" + r"|Ã\?[Ââ]|\p{Cyrillic}\s[\x{D0}\x{D1}]\?"
# (and Latin Extended-A read as Windows-1252 that the repair could not read back: `LATIN_EXTENDED_MISREAD`)
_MOJIBAKE += "|" + LATIN_EXTENDED_MISREAD
# (and the first two bytes of a UTF-8 quote or dash read as Windows-1252, the third lost: "â€" at a word's end)
_MOJIBAKE += r"|â€(?:\s|$)"
# Text whose non-ASCII letters were each saved as "?" (a lossy conversion to ASCII or a code page):
# a "?" between two letters ("?stanbul Bo?az?'nda g?n bat?m?", "Zamek Kr?lewski w Warszawie"; none of
# the 12,000 clean captions of the junk model's data and the labelled set has one). ASCII text too.
# letters lost as "?": inside a word ("Stra??e": a letter of two bytes lost as two "?"), opening one
# ("na ?niegu"), or ending two words with more after them ("bawi? si? na"), or a letter of two bytes lost at a
# word's end, with more after it ("équipe de ro?? sur la")
_LOST_LETTERS = (r"\pL\?+\pL|(?:^|\s)\?+\pL|(?:\pL\?[ \t]+\p{Ll}[^?]*){2}"
                 # (in a text with a letter beyond ASCII: "Why?? in red letters" is English as written)
                 r"|[^\x00-\x7F][^\n]*\p{Ll}\?\?[ \t]+\p{Ll}|\p{Ll}\?\?[ \t]+\p{Ll}[^\n]*[^\x00-\x7F]")
_HIRAGANA = re.compile("[\u3041-\u309f]")
_HALF_WIDTH_KANA = re.compile("[\uff61-\uff9f]")
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]")


def _misread_as_gbk(texts: pa.Array) -> np.ndarray:
    """Per text: Japanese or Chinese bytes read as GBK, which the text encoded as GBK undoes:
    Shift-JIS with its kana apart ("晉巑嶳偲嶗偺晽宨", which was 富士山と桜の風景: it reads as
    Shift-JIS with a hiragana and no half-width kana) or UTF-8 ("涓婃捣澶栨哗澶滄櫙鐓х墖", 上海外滩夜景照片:
    it reads as UTF-8 with two Han characters or more, or all but one character of it does). Chinese text holds GBK codes that neither
    reads ("兩個" stops Shift-JIS at 0x82 0x80; GB2312's two-byte codes are no UTF-8), and
    Japanese text's kana read as half-width kana; none of 456 clean Chinese and Japanese captions
    of the junk model's data or the labelled set reads either way."""
    out = np.zeros(len(texts), dtype=bool)
    rows = np.flatnonzero(pc.count_substring_regex(texts, r"\p{Han}").to_numpy(zero_copy_only=False) >= 2)
    for i, text in zip(rows.tolist(), texts.take(pa.array(rows)).to_pylist()):
        try:
            raw = text.encode("gbk")
        except UnicodeError:
            continue
        try:
            out[i] = len(_HAN.findall(raw.decode("utf-8"))) >= 2
            continue
        except UnicodeError:
            pass
        # ... or UTF-8 that lost a byte on the way ("浣犲ソ锛屾垜鏄潰鍖呭笀": 你好，我是面包师 with one
        # character broken): at most one character it does not read, and Han characters where two in
        # three of the text's would be (three bytes of UTF-8 for two of GBK)
        lenient = raw.decode("utf-8", errors="replace")
        han = len(_HAN.findall(lenient))
        if lenient.count("\ufffd") <= 1 and han >= 3 and han >= len(_HAN.findall(text)) / 3:
            out[i] = True
            continue
        try:
            japanese = raw.decode("shift_jis")
        except UnicodeError:
            continue
        out[i] = bool(_HIRAGANA.search(japanese)) and not _HALF_WIDTH_KANA.search(japanese)
    return out


# Sequences that mean mojibake only when they come back: a lead byte of UTF-8 read as Latin-1
# followed by a continuation byte ("Ð¿", "å¤"), and UTF-8 Cyrillic read as Windows-1251 ("Рџ").
_MOJIBAKE_PAIR = (
    r"[\x{C2}-\x{F4}][\x{80}-\x{BF}\x{152}\x{153}\x{160}\x{161}\x{178}\x{17D}\x{17E}\x{192}\x{2C6}\x{2DC}"
    r"\x{2013}\x{2014}\x{2018}-\x{201E}\x{2020}-\x{2022}\x{2026}\x{2030}\x{2039}\x{203A}\x{20AC}\x{2122}]|"
    + CYRILLIC_MISREAD
)


@text_rule("bad_encoding")
def bad_encoding_rule(batch: CaptionBatch, cfg: BadEncodingRule) -> np.ndarray:
    """Fails bytes that were not UTF-8, NUL, more than `max_replacement_chars` U+FFFD, and the
    mojibake left after the repairs."""
    bad = batch.invalid_utf8 | (ascii_char_counts(batch.raw, "\x00") > 0)
    # U+FFFD and mojibake are non-ASCII: only those rows are searched.
    rows = np.flatnonzero(_np(batch.non_ascii))
    if rows.size:
        text = batch.text.take(rows)
        replacement = pc.count_substring(text, "\ufffd").to_numpy(zero_copy_only=False)
        hit = replacement > cfg.max_replacement_chars
        if cfg.mojibake:
            hit |= search(text, _MOJIBAKE)
            hit |= _letter_before_dagger(text)
            hit |= _mojibake_pairs(text) >= 2
            hit |= _single_byte_misread(text)
            hit |= _code_page_misread(text)
            hit |= _latin_misread(text)
            hit |= _misread_as_gbk(text)
        bad[rows[hit]] = True
    if cfg.mojibake:
        rows = np.flatnonzero(~bad & (batch.ascii_counts("?") >= 1))  # (from the rules' shared pass)
        if rows.size:
            rows = rows[_np(pc.match_substring_regex(batch.text.take(pa.array(rows)), _LOST_LETTERS))]
            # ... outside quoted spans: a quoted "why? why? why?" is what a note says
            quoted = rows[np.isin(rows, batch.quoted_rows)]
            if quoted.size:
                rows = np.setdiff1d(rows, quoted[~_np(pc.match_substring_regex(
                    batch.unquoted_lower.take(pa.array(quoted)), _LOST_LETTERS))])
            bad[rows] = True
    return ~bad


# Letters of Czech, Slovak and other Central European languages that no misread UTF-8 leaves whole: in text with
# one, "íž" or "áš" is two letters of a word ("projíždí", "zpáteční"), not a lead byte and a continuation
_CENTRAL_WHOLE = r"[ěřůťďňčľĺŕĚŘŮŤĎŇČĽĹŔ]"
_PAIR_ENDS_IN_A_LETTER = r"[\x{C2}-\x{F4}][\x{160}\x{161}\x{17D}\x{17E}]"


def _mojibake_pairs(texts: pa.Array) -> np.ndarray:
    """Per text: its `_MOJIBAKE_PAIR`s, not counting a letter before "š" or "ž" in text with a letter of
    `_CENTRAL_WHOLE`."""
    pairs = pc.count_substring_regex(texts, _MOJIBAKE_PAIR).to_numpy(zero_copy_only=False).astype(np.int64)
    rows = np.flatnonzero(pairs >= 2)
    if rows.size:
        sub = texts.take(pa.array(rows))
        central = _np(pc.match_substring_regex(sub, _CENTRAL_WHOLE))
        if central.any():
            letters = pc.count_substring_regex(sub, _PAIR_ENDS_IN_A_LETTER).to_numpy(zero_copy_only=False)
            pairs[rows[central]] -= letters[central]
    return pairs


# Letters of the Latin-1 Supplement (À..ÿ but × and ÷): text in a single-byte Cyrillic code page
# (Windows-1251, KOI8-R) read as Latin-1 or Windows-1252 is made of them ("Êðàñèâûé çàêàò",
# "óÏÂÁËÁ"), which ftfy cannot undo (no UTF-8 was misread). In real text of any language written
# with them they are a minority of the letters (Icelandic, about one in five).
_LATIN1_LETTER = r"[\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{FF}]"
_MIN_MISREAD_LETTERS = 4


def _single_byte_misread(texts: pa.Array) -> np.ndarray:
    """Per text: at least `_MIN_MISREAD_LETTERS` Latin-1 Supplement letters, and no fewer than its
    ASCII letters."""
    latin1 = pc.count_substring_regex(texts, _LATIN1_LETTER).to_numpy(zero_copy_only=False)
    out = np.zeros(len(texts), dtype=bool)
    rows = np.flatnonzero(latin1 >= _MIN_MISREAD_LETTERS)
    if rows.size:
        ascii_letters = ascii_char_counts(texts.take(pa.array(rows)), string.ascii_letters)
        out[rows] = latin1[rows] >= ascii_letters
    return out


# Text in one single-byte code page read in another Cyrillic one: KOI8-R read as Windows-1251 turns
# case around ("уФБТЩК ДПН" is "Старый дом"), Polish (Windows-1250) or Greek (Windows-1253) read
# as Windows-1251 mixes scripts in a word or puts a capital after small letters ("samochуd",
# "впхнЬ"). Such a word is an oddity; text with one is judged misread when the code-page pair
# that undoes the misreading leaves none and gives plausible text (another script, or far fewer
# capitals); with two or more, it is misread either way.
_CODE_PAGE_PAIRS = (("cp1251", "koi8_r"), ("koi8_r", "cp1251"), ("cp1251", "cp1250"), ("cp1251", "cp1253"))
# Where a word can be odd (`_odd_word`) in text with Cyrillic: a Cyrillic letter next to a Latin one,
# a small Cyrillic letter before a capital, or a symbol of the Windows-1251 upper half between two
# Cyrillic letters; or a letter of a Cyrillic alphabet other than Russian (`_CYRILLIC_ALPHABETS`).
# Only the texts this finds are read word by word.
_CYRILLIC = r"[\x{400}-\x{4FF}]"
_MAYBE_ODD = (
    rf"[A-Za-z\x{{C0}}-\x{{24F}}]{_CYRILLIC}|{_CYRILLIC}[A-Za-z\x{{C0}}-\x{{24F}}]|[\x{{430}}-\x{{45F}}][\x{{400}}-\x{{42F}}]"
    rf"|{_CYRILLIC}[„…†‡€‰‹›•™¤¦§©¬®°±µ¶·№]{_CYRILLIC}|[їєґЇЄҐђћџљњѓќЂЋЏЉЊЃЌ]"
)


def _script(c: str) -> str:
    """"L" Latin (Vietnamese's letters too), "C" Cyrillic, "G" Greek, "O" another letter, "S" a
    symbol; "" a digit, a combining mark, punctuation or a space."""
    if c.isalpha():
        o = ord(c)
        if o < 0x250 or 0x1E00 <= o <= 0x1EFF:
            return "L"
        return "C" if 0x400 <= o <= 0x4FF else "G" if 0x370 <= o <= 0x3FF else "O"
    return "" if c.isdecimal() or unicodedata.category(c)[0] in "PZM" else "S"


def _odd_words(text: str) -> int:
    """Words that mix Latin, Cyrillic and Greek letters, hold a symbol between two letters, or put
    a non-ASCII capital right after a non-ASCII small letter ("iPhone" is not odd)."""
    return sum(map(_odd_word, text.split()))


class _CharTable(dict):
    """A `str.translate` table that works each character's entry out on first sight."""

    def __init__(self, entry) -> None:
        super().__init__()
        self._entry = entry

    def __missing__(self, code: int) -> str:
        self[code] = value = self._entry(chr(code))
        return value


# per character: its `_script` ("." for ""); and "l" / "u" for a non-ASCII small / capital letter
_KINDS = _CharTable(lambda c: _script(c) or ".")
_CASES = _CharTable(lambda c: "." if c.isascii() else "l" if c.islower() else "u" if c.isupper() else ".")
_SYMBOL_INSIDE = re.compile("[LCGO]S[LCGO]")
_MIXED_SCRIPTS = ({"L", "C"}, {"L", "G"}, {"C", "G"})


def _odd_word(word: str) -> bool:
    # punctuation is of no kind and no case: at a word's edges it changes nothing
    kinds = word.translate(_KINDS)
    present = set(kinds)
    return (any(pair <= present for pair in _MIXED_SCRIPTS)
            or ("S" in present and _SYMBOL_INSIDE.search(kinds) is not None)
            or (not word.isascii() and "lu" in word.translate(_CASES)))


def _share(text: str, test) -> float:
    letters = [c for c in text if c.isalpha()]
    return sum(map(test, letters)) / max(len(letters), 1)


# Letters of one Cyrillic alphabet only: Russian (ы э ъ ё), Ukrainian (ї є ґ), Serbian and Macedonian
# (ђ ћ џ љ њ ѓ ќ). Text with letters of two of them was read through the wrong code page.
_CYRILLIC_ALPHABETS = (frozenset("ыэъёЫЭЪЁ"), frozenset("їєґЇЄҐ"), frozenset("ђћџљњѓќЂЋЏЉЊЃЌ"))


def _misread_text(text: str) -> bool:
    """Cyrillic text read through the wrong single-byte code page: letters of two Cyrillic
    alphabets, two odd words (`_odd_word`), or one that the code-page pair which made it undoes."""
    if sum(any(c in alphabet for c in text) for alphabet in _CYRILLIC_ALPHABETS) >= 2:
        return True
    odd = _odd_words(text)
    if odd == 0:
        return False
    if odd >= 2:
        return True
    capitals = _share(text, str.isupper)
    for read_as, written_in in _CODE_PAGE_PAIRS:
        try:
            undone = text.encode(read_as).decode(written_in)
        except UnicodeError:
            continue
        if undone != text and _odd_words(undone) == 0 and (
                _share(undone, lambda c: 0x400 <= ord(c) <= 0x4FF) < 0.5 or _share(undone, str.isupper) <= capitals - 0.3):
            return True
    return False


# Central European (Windows-1250, ISO 8859-2) or Turkish (Windows-1254) text read as Windows-1252:
# "p³ywa" (pływa), "Veèerní" (Večerní), "güneþin" (güneşin). Such text has these characters, and
# read back through the right code page it gains letters only those languages have.
# (`_latin_misread` counts the marks with RE2; `_latin_misread_text` finds them with Python's re.)
_LATIN_MISREAD_MARKS = r"[³¹¼¾¿¯¥ªºœŸþðýøØèìòÊæñù]"  # (Ø: Ř; Danish and Norwegian are not allowed)
_NEVER_IN_WORDS = frozenset("³¹¼¾¿¯¥ªºþðý")  # a letter of no allowed language's words, or no letter
_LATIN_PAGES = ("cp1250", "cp1254")
_FRENCH_MARKS = frozenset("œèùæ")
_ITALIAN_MARKS = frozenset("èéàòùì")
_ORDINAL_MARKS = frozenset("ñªº")  # Spanish "ñ" and the ordinal marks of Spanish, Portuguese and Italian ("4ª planta")
_CENTRAL_LETTERS = frozenset("łśźżąęńćőűřěůťďňĺľşğıİŁŚŹŻĄĘŃĆŐŰŘĚŮŤĎŇĹĽŞĞ")
# "č" ("è" read back through Windows-1250) counts as such a letter only in text with a letter of
# Czech or Slovak besides: French "Mère ... cœur" gives "č" and "ś" back, no Czech text
_CZECH_LETTERS, _CZECH_C = frozenset("ěřůťďňĚŘŮŤĎŇ"), frozenset("čČ")
# Czech and Slovak write "ý" (Turkish "ı" read as Windows-1252 gives it too): text whose only mark is
# "ý" is Czech or Slovak when it has another of their letters ("Vinný sklep ... ve výklencích")
_CZECH_SLOVAK_LETTERS = frozenset("áíéúůčďěňřšťžľĺôäÁÍÉÚŮČĎĚŇŘŠŤŽĽĹÔÄ")


def _central_letters(text: str) -> int:
    """Letters only Central European or Turkish languages write (`_CENTRAL_LETTERS`, and "č" in Czech)."""
    n = sum(c in _CENTRAL_LETTERS for c in text)
    if n and not _CZECH_LETTERS.isdisjoint(text):
        n += sum(c in _CZECH_C for c in text)
    return n


def _latin_misread_text(text: str) -> bool:
    """Two different marks (`_LATIN_MISREAD_MARKS`; one alone is a Danish "ø" or a French "è"), or
    one twice that no allowed language writes in words, and a code page that gives back two of the
    letters only those languages have."""
    marks = re.findall(_LATIN_MISREAD_MARKS, text)
    # (a capital and its small letter are one mark: "Ørsted ... Tromsø" has one)
    if len({m.lower() for m in marks}) < 2 and not (len(marks) >= 2 and marks[0] in _NEVER_IN_WORDS):
        return False
    if {m.lower() for m in marks} == {"ý"} and not _CZECH_SLOVAK_LETTERS.isdisjoint(text):
        return False
    # French writes "œ", "è" and "ù" in its words (and "ê", read back through Windows-1250 as "ę"):
    # "... un panier d'œufs ... la lumière ... une petite fenêtre" with French function words is French
    if {m.lower() for m in marks} <= _FRENCH_MARKS and reads_as(text.lower(), ("fr",)):
        return False
    # ... and Italian "è", "ù", "ò", "ì" ("Il caffè più buono di Napoli")
    if {m.lower() for m in marks} <= _ITALIAN_MARKS and reads_as(text.lower(), ("it",)):
        return False
    # ... and Spanish "ñ" with an ordinal's "ª" or "º" ("Piso de 3 habitaciones, 2 baños, 4ª planta")
    if {m.lower() for m in marks} <= _ORDINAL_MARKS and reads_as(text.lower(), ("es", "pt", "it")):
        return False
    for page in _LATIN_PAGES:
        try:
            undone = text.encode("cp1252").decode(page)
        except UnicodeError:
            continue
        gained = _central_letters(undone) - _central_letters(text)
        if gained >= 2 and _odd_words(undone) <= _odd_words(text) and _as_many_words_undone(text, undone):
            return True
    return False


def _as_many_words_undone(text: str, undone: str) -> bool:
    """Of the words the code page changes, as many are words of a language with a word list
    (`filters.word_frequencies`) read back as written: English with loanwords ("... crème brûlée and
    jalapeño nachos": "crème" is a word, "crčme" none) is no misread."""
    pairs = [(a.lower(), b.lower()) for a, b in zip(text.split(), undone.split()) if a != b]
    if not pairs:
        return True
    known = zipf_table([w for pair in pairs for w in pair], available()).max(axis=1) > 0
    return int(known[1::2].sum()) >= int(known[0::2].sum())


def _latin_misread(texts: pa.Array) -> np.ndarray:
    """Per text: Central European or Turkish text read as Windows-1252 (`_latin_misread_text`)."""
    out = np.zeros(len(texts), dtype=bool)
    rows = np.flatnonzero(pc.count_substring_regex(texts, _LATIN_MISREAD_MARKS).to_numpy(zero_copy_only=False) >= 2)
    if rows.size:
        out[rows] = [_latin_misread_text(t) for t in texts.take(pa.array(rows)).to_pylist()]
    return out


def _code_page_misread(texts: pa.Array) -> np.ndarray:
    """Per text: Cyrillic read through the wrong single-byte code page (`_misread_text`), looked at
    in the texts where a word may be odd (`_MAYBE_ODD`) only."""
    out = np.zeros(len(texts), dtype=bool)
    rows = np.flatnonzero(_np(pc.match_substring_regex(texts, _MAYBE_ODD)))
    if rows.size:
        out[rows] = [_misread_text(t) for t in texts.take(pa.array(rows)).to_pylist()]
    return out


def _letter_before_dagger(texts: pa.Array) -> np.ndarray:
    """Per text: a letter (`\\pL`) right before "†" or "‡", read off the class table, only in the
    texts that have one of the two (reading every text's characters costs more than a search)."""
    out = np.zeros(len(texts), dtype=bool)
    rows = np.flatnonzero(_np(pc.match_substring_regex(texts, "[†‡]")))
    if rows.size:
        out[rows] = char_classes(texts.take(pa.array(rows))).any_followed_by(BIT["letter"], "†‡")
    return out


@lru_cache(maxsize=16)
def url_pattern(file_extensions: tuple[str, ...], tlds: tuple[str, ...], camera_file_names: bool) -> str:
    parts = [
        r"\b(?:https?|ftp)://",
        r"\bwww\d{0,3}\.[a-z0-9-]",
        r"[a-z0-9_.+-]@[a-z0-9-]+\.[a-z]{2,}",  # e-mail
    ]
    if tlds:
        parts.append(r"[a-z0-9]\.(?:" + "|".join(tlds) + r")(?:\b|/)")
    if file_extensions:
        # `[\pL\pN_)-]\.ext` on lowercased text: `[a-z0-9_)-]` is that set within ASCII (lowercasing
        # leaves no A-Z), and `url_rule` looks for a non-ASCII letter or number before `.ext` apart
        parts.append(r"[a-z0-9_)-]\.(?:" + "|".join(file_extensions) + r")\b")
    if camera_file_names:
        parts.append(_CAMERA_FILE)
    return "|".join(parts)


_CAMERA_FILE = r"\b(?:img|dsc|dscn|dscf|dcim|pxl|vid|mvimg|imag|screenshot)[_-]?\d{3,}"


def _url_screen(cfg: UrlRule) -> str:
    return url_pattern(cfg.file_extensions, cfg.tlds, cfg.camera_file_names)


@text_rule("url", screen=_url_screen)
def url_rule(batch: CaptionBatch, cfg: UrlRule) -> np.ndarray:
    """Fails URLs, `www.`, bare domains, e-mail addresses and file names. One only inside quoted
    spans is kept when the text outside them is a description of `_QUOTING_WORDS` words or more
    (a caption may quote the address painted on a van)."""
    hit, outside = batch.lower_and_unquoted_matches(_url_screen(cfg))
    quoted = batch.quoted_rows
    inside_only = quoted[hit[quoted] & ~outside]
    if inside_only.size:
        around = pc.count_substring_regex(batch.unquoted_lower.take(pa.array(inside_only)), _WORD_OR_HAN)
        hit[inside_only[around.to_numpy(zero_copy_only=False) >= _QUOTING_WORDS]] = False
    if cfg.tlds or cfg.file_extensions:  # an address or a file the text says the image shows ("a billboard
        # displaying the address x.com", "a van with www.x.co.uk painted on its door", "a file named a.pdf")
        rows = np.flatnonzero(hit & (batch.unquoted_words.counts >= _QUOTING_WORDS + 1))
        if rows.size:
            sub = batch.unquoted_lower.take(pa.array(rows))
            rest = pc.replace_substring_regex(sub, _shown_address(cfg.tlds, cfg.file_extensions), " ")
            shown = ~_np(pc.equal(rest, sub))
            if shown.any():
                hit[rows[shown][~_np(pc.match_substring_regex(rest.filter(pa.array(shown)), _url_screen(cfg)))]] = False
    if cfg.file_extensions:  # a file name whose stem ends in a non-ASCII letter or number ("фото.jpg")
        rows = np.flatnonzero(~hit & _np(batch.non_ascii))
        if rows.size:
            extension = r"\.(?:" + "|".join(cfg.file_extensions) + r")\b"
            rows = rows[_np(pc.match_substring_regex(batch.lower.take(pa.array(rows)), r"[^\x00-\x7F]" + extension))]
            hit[rows] = [_letter_or_number_before(t, extension) for t in batch.lower.take(pa.array(rows)).to_pylist()]
    return ~hit


_QUOTING_WORDS = 5
# a verb that says a sign, a screen or a print shows an address, before a bare domain (no scheme), or the
# address named as a thing's own or as a part of it ("a food truck with its website, www.x.com, painted on
# the side", "a poster with the web address x.org at the bottom")
_SHOWS = (r"(?:\b(?:reads|reading|saying|says|showing|shows|displaying|displays|printed|painted|written|lettered|bearing|"
          r"bears|crediting|credits|promoting|promotes|advertising|advertises|naming|names|stamped|embossed|engraved|etched"
          r"|lists|listing)"
          r"\s+(?:with\s+)?(?:the\s+|its\s+)?(?:web\s+)?(?:address|url|website|domain|(?:site|domain) name)?\s*:?\s*"
          # ... or a few words after such a verb, a pointer or the text named as such ("a sticker that says shop
          # online at x.com", "a manual that directs users to support.x.com", "the text visit www.x.com for recipes",
          # "the address bar with x.org/menu")
          r"|\b(?:reads|reading|says|saying|displays|displaying|shows|showing|advertising|advertises|promoting|promotes"
          r"|printed|inviting|invites)\s+(?:[a-z'’-]+\s+){1,4}?(?:at|to|on)\s+(?:visit\s+)?"
          r"|\b(?:direct(?:s|ing)?|point(?:s|ing)?|send(?:s|ing)?|refer(?:s|ring)?|links?|linking)\s+(?:[a-z'’-]+\s+){0,3}?to\s+"
          r"|\bthe\s+(?:text|words|line|slogan|message|caption)\s+(?:[a-z'’-]+\s+){0,3}?"
          r"|\b(?:address|url|search|location) bar\s+(?:with|showing|reading|that reads)\s+"
          # ... or named as someone's but the writer's ("the developer's website, x.co.uk,", "the registration site
          # x.org", "and the address github.com/..."; not "our website" or "my site": a shop's own voice)
          r"|\b(?:(?:its|their|his|her)|with\s+(?:the|a)|(?:the|an?)(?:\s+[a-z-]+){0,2}|[a-z]+['’]s(?:\s+[a-z-]+)?)\s+(?:web\s*)?"
          r"(?:address|url|website|site|domain|(?:site|domain) name|homepage|link|page)\s*[,:]?\s*"
          # ... or a site's page named by whose it is ("the homepage of an observatory at x.edu")
          r"|\b(?:homepage|home page|website|web page|site) of\s+(?:[a-z'’-]+\s+){1,4}?(?:at|on)\s+"
          # ... or a page taken from a site ("a map page from muralfest.org")
          r"|\b(?:page|pages|post|article|listing|profile|feed|map) (?:from|at)\s+"
          # ... the same named in the other allowed languages ("met het adres x.nl", "con l'indirizzo www.x.it", "renvoie
          # au site x.fr", "mit der Adresse x.de")
          r"|\b(?:het adres|de website|l['’]indirizzo|il sito|au site|le site|l['’]adresse|der adresse|die adresse|die website"
          r"|la dirección|la web|el sitio|o endereço|o site|adresem|adres|адрес(?:ом)?|сайт|(?:internet |web )?adresi"
          r"|alamat(?: situs| web)?|(?:die )?webseite|adresem(?: strony)?|adresou(?: stránky)?|strony)\s*[,:]?\s*)")


@lru_cache(maxsize=16)
def _shown_address(tlds: tuple[str, ...], extensions: tuple[str, ...]) -> str:
    """A domain after `_SHOWS` or before a verb of writing ("... www.x.co.uk painted on its side"), or
    file names after a word that names them ("... a folder with files named img_0412.jpg and img_0413.jpg")."""
    parts = []
    if tlds:
        # (after "www." any top-level domain: "www.pomagamy.pl")
        domain = (r"(?:www\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,12}\b|(?:www\.)?[a-z0-9]"
                  r"(?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.(?:" + "|".join(tlds) + r")\b)")
        parts += [_SHOWS + domain, domain + r"\s+(?:painted|printed|written|stencil+ed|lettered|displayed|shown)\b"]
    if extensions:
        # (a camera's name without its extension too: "the file name IMG_4471")
        file = r"(?:[a-z0-9_\-.]+\.(?:" + "|".join(extensions) + r")\b|" + _CAMERA_FILE + ")"
        # ... or named as a file, or as what a screen says ("filenames like x.tif", "the file x.pdf", "a dialog that
        # says report.pdf could not be opened")
        parts.append(rf"\b(?:named|called|titled|labell?ed|saved as|(?:file ?)?names?(?: like| such as)?|(?:the |a )?file"
                     rf"|nommée?|appelée?|intitulée?|llamad[oa]|chamad[oa]|genannt|namens|denominat[oa]|nazwan[ya]|s názvem"
                     rf"|says|saying|reads|reading|shows|showing|displays|displaying|containing|contains)\s+{file}"
                     rf"(?:\s*(?:,|and|or|to|through)\s*{file})*")
    return "|".join(parts)


# a word as `CaptionBatch.words` counts them: a Han/Kana character, or a run of other non-space characters
_WORD_OR_HAN = r"[\p{Han}\p{Hiragana}\p{Katakana}]|[^\s\p{Han}\p{Hiragana}\p{Katakana}]+"


def _letter_or_number_before(text: str, extension: str) -> bool:
    """`text` has `extension` (a dot, ASCII letters and digits, RE2's ASCII word boundary) right
    after a `\\pL` or `\\pN` character: Python's `re` in ASCII mode matches the same there, and
    the class table (`filters.unicode_classes`) tells the character before."""
    starts = [m.start() for m in re.finditer(extension, text, re.ASCII) if m.start() > 0]
    if not starts:
        return False
    before = np.array([ord(text[i - 1]) for i in starts], dtype=np.uint32)
    return bool((char_class_bits(before) & (BIT["letter"] | BIT["number"])).any())


@lru_cache(maxsize=16)
def boilerplate_pattern(phrases: tuple[str, ...], patterns: tuple[str, ...]) -> str:
    """The phrases (each at a word start, when it starts with a letter, digit or "_") and the
    patterns, as one RE2 pattern on lowercased text."""
    return "|".join([(r"\b" if re.match(r"\w", p, re.ASCII) else "") + re.escape(p.lower()) for p in phrases]
                    + [f"(?:{p})" for p in patterns])


# No screen (`filters.rule_spec`): the largest pattern of all, it made the shared search of the
# screens costlier than searching it apart, and searching it again in that search's rows costs
# its compile again (measured on the bench's and the labelled set's captions).
@text_rule("boilerplate")
def boilerplate_rule(batch: CaptionBatch, cfg: BoilerplateRule) -> np.ndarray:
    """Fails any configured phrase or pattern, case-insensitive, outside quoted spans."""
    if not cfg.phrases and not cfg.patterns:
        return np.ones(len(batch), dtype=bool)
    pattern = boilerplate_pattern(cfg.phrases, cfg.patterns)
    hit = search(batch.unquoted_lower, pattern, _np(batch.non_ascii))
    rows = np.flatnonzero(hit)
    if rows.size:  # a button a screen shows, described: its words are no page's copy
        text = batch.unquoted_lower.take(pa.array(rows))
        described = pc.match_substring_regex(text, _DESCRIBED_BUTTON)
        if pc.any(described).as_py():
            rows = rows[_np(described)]
            hit[rows] = search(pc.replace_substring_regex(text.filter(described), _DESCRIBED_BUTTON, " "), pattern)
    return ~hit


# "... with the price and an Add to Cart button", "a mural of a Subscribe button": one to four words
# between an indefinite article and the button (copy pasted from a page says "Click the Buy Now button")
_DESCRIBED_BUTTON = r"\ban?\s+(?:[^\s,.;:!?]+\s+){1,4}?(?:button|icon|badge|banner|sticker)s?\b"


_MONTH = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
    r"|januar|februar|märz|mai|juni|juli|oktober|dezember|jän|mär|okt|dez"
    r"|janvier|février|mars|avril|juin|juillet|août|septembre|octobre|novembre|décembre"
    r"|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre"
    r"|gennaio|febbraio|aprile|maggio|giugno|luglio|settembre|ottobre|dicembre"
    r"|janeiro|fevereiro|março|maio|junho|julho|setembro|outubro|dezembro"
    r"|januari|februari|maart|mei|augustus|ocak|mart|nisan|haziran|temmuz|ekim"
    # Polish, Czech, Swedish and Indonesian names written in ASCII (nominative and genitive)
    r"|stycznia|luty|lutego|marzec|marca|kwietnia|maj|maja|czerwca|lipiec|lipca|sierpnia|listopad|listopada|grudnia"
    r"|leden|ledna|duben|dubna|srpen|srpna|listopadu|prosinec|prosince|augusti|maret|agustus|desember"
)
# Month and weekday names looked for without RE2's `\b` (ASCII word characters cannot bound them, or
# they were added with them): Russian and Ukrainian months (nominative and genitive), the Japanese era
# names a date may open with ("令和5年"), Turkish, Thai and Vietnamese names, German, French and
# Spanish weekdays. `DATE_ONLY` holds the whole text to date tokens, so no bound is needed there.
_MONTH_WIDE = (
    r"январ[ья]|феврал[ья]|марта?|апрел[ья]|ма[йя]|июн[ья]|июл[ья]|августа?|сентябр[ья]|октябр[ья]|ноябр[ья]"
    r"|декабр[ья]|січ(?:ень|ня)|лют(?:ий|ого)|берез(?:ень|ня)|квіт(?:ень|ня)|трав(?:ень|ня)|черв(?:ень|ня)"
    r"|лип(?:ень|ня)|серп(?:ень|ня)|верес(?:ень|ня)|жовт(?:ень|ня)|листопада?|груд(?:ень|ня)"
    r"|令和|平成|昭和|大正|明治|元年"
    r"|şubat|mayıs|ağustos|eylül|kasım|aralık|pazartesi|salı|çarşamba|perşembe|cuma(?:rtesi)?|pazar"
    r"|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|lundi|mardi|mercredi|jeudi|vendredi|samedi"
    r"|dimanche|lunes|martes|miércoles|jueves|viernes|sábado|domingo"
    r"|มกราคม|กุมภาพันธ์|มีนาคม|เมษายน|พฤษภาคม|มิถุนายน|กรกฎาคม|สิงหาคม|กันยายน|ตุลาคม|พฤศจิกายน|ธันวาคม"
    r"|styczeń|kwiecień|czerwiec|sierpień|wrzesień|września|październik|października|grudzień"
    r"|únor|února|březen|března|květen|května|červen|června|červenec|července|září|říjen|října"
    r"|thứ (?:hai|ba|tư|năm|sáu|bảy)|chủ nhật"
)
_WEEKDAY = (r"mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?"
            r"|mo|di|mi|do|fr|sa|so")  # (and German weekdays cut short: "Mo., 4. Okt. 2021")
_CJK_DATE = (
    r"[年月日号號时時分秒点點]|星期[一二三四五六日天]|周[一二三四五六日天]|[（(][月火水木金土日][)）]|午前|午後|上午|下午"
    r"|[년월일시분초]|오전|오후|tháng|năm|ngày|giờ"
)
# "3 hours ago", "2 days ago": when a page showed it, not what the image shows
_AGO = r"\d{1,3} (?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?) ago"
_DATE_TOKEN = (
    rf"\d{{1,4}}(?:st|nd|rd|th)?|[๐-๙]{{1,4}}|{_MONTH}|{_MONTH_WIDE}|{_WEEKDAY}|a\.?m\.?|p\.?m\.?|utc|gmt|{_CJK_DATE}|t|z|de|of|"
    rf"the|at|le|am|el|il|der|den|del|du|um|à|г|года?|р|року|et|est|edt|pst|pdt|cet|cest|bst|ist|jst|kst|uhr|h|heures?|horas?|ore|{_AGO}"
)
_DATE_PREFIX = (
    r"(?:(?:(?:last )?(?:date|posted|updated|taken|uploaded|published|created|modified|edited|captured|shot|"
    r"photographed|recorded))(?: on| at)?\s*:?\s*"
    r"|日期[:：]?)?"
)
DATE_ONLY = rf"^{_DATE_PREFIX}(?:{_DATE_TOKEN}|[\s,./:\-–—+•·|])+$"
# Something that makes it a date/time and not just a number.
DATE_EVIDENCE = (
    rf"\b(?:{_MONTH}|{_WEEKDAY})\b|{_MONTH_WIDE}|{_CJK_DATE}|{_AGO}|\d{{1,4}}[-/.]\d{{1,2}}[-/.]\d{{1,4}}|\d{{1,2}}:\d{{2}}"
)


@text_rule("date_only")
def date_only_rule(batch: CaptionBatch, cfg: DateOnlyRule) -> np.ndarray:
    """Fails text that is only a date and/or time (with an optional "posted on"-style prefix)."""
    only = search(batch.lower, DATE_ONLY)
    if only.any():
        rows = np.flatnonzero(only)
        only[rows] = search(batch.lower.take(pa.array(rows)), DATE_EVIDENCE)
    return ~only


@text_rule("no_letters")
def no_letters_rule(batch: CaptionBatch, cfg: NoLettersRule) -> np.ndarray:
    """Fails text with no letter: only numbers, punctuation, symbols or emoji."""
    data, offsets = utf8_bytes(batch.text)
    keep = np.zeros(len(batch), dtype=bool)
    some = np.flatnonzero(offsets[1:] > offsets[:-1])
    keep[some] = _ASCII_LETTER[data[offsets[some]]]  # most texts start with a letter
    wide, classes = batch.wide_classes  # the non-ASCII rows' characters, read once for several rules
    keep[wide] = classes.count(BIT["letter"]) > 0
    rows = np.flatnonzero(~keep & ~_np(batch.non_ascii))
    if rows.size:  # ASCII rows that do not start with a letter
        keep[rows] = char_classes(batch.text.take(pa.array(rows))).count(BIT["letter"]) > 0
    return keep


_ASCII_LETTER = np.array([chr(b).isascii() and chr(b).isalpha() for b in range(256)])


# Outside quoted spans (a sign may show a phone number): four groups of 2-4 ASCII digits or more
# joined by one space, dot or dash (after an optional "+33 " or "(0)"), a North American number
# (3-3-4), three groups of 3-5, or a number after "tel"/"phone": a phone number or an ID, not a date
# (4-2-2), a time or a measurement.
_DIGIT_GROUPS = (
    # (not a date and the hour of a time after it: "2022-03-15 08:41")
    r"(?:^|[^\d.,])(?:\+\d{1,3}[ .-]?)?\(?\d{2,4}\)?(?:[ .-]\d{2,4}){3,}(?:$|[^\d:])"
    r"|(?:^|[^\d.,])\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}(?:$|[^\d])"
    r"|(?:^|[^\d.,])\d{3,5}(?:[ .-]\d{3,5}){2,}(?:$|[^\d:])"  # three groups of 3-5: "40293 8812 9930"
    r"|\b(?:tel|telephone|phone|ph|mobile|mob|fax|call us)\b\.?:?\s*\+?\(?\d[\d ()./-]{6,}\d"  # a labelled number
)


@text_rule("digit_run")
def digit_run_rule(batch: CaptionBatch, cfg: DigitRunRule) -> np.ndarray:
    """Fails more than `max_digits` decimal digits in a row (any script's digits; in ASCII text not
    glued to a letter, as in the model code "126610LN"), or a phone
    number or ID written in groups (`_DIGIT_GROUPS`: "06 12 34 56 78", "+1 415-555-0199")."""
    keep = np.ones(len(batch), dtype=bool)
    # a run of more than `max_digits` \p{Nd} characters, read off the class table: in the non-ASCII
    # texts (other scripts' digits are non-ASCII), and in the ASCII texts with that many digits in all
    wide, classes = batch.wide_classes
    keep[wide] = classes.runs_at_least(BIT["digit"], cfg.max_digits + 1) == 0
    # in ASCII text, a run glued to a letter is part of a model code ("126610LN", "SM-G998B"), not a number
    rows = np.flatnonzero((batch.ascii_digits > cfg.max_digits) & ~_np(batch.non_ascii))
    if rows.size:
        standalone = rf"(?:^|[^A-Za-z0-9])[0-9]{{{cfg.max_digits + 1},}}(?:$|[^A-Za-z0-9])"
        keep[rows] = ~_np(pc.match_substring_regex(batch.text.take(pa.array(rows)), standalone))
        # a reference number named as one in a description ("Rolex Submariner ref. 124060, 41 mm, black dial
        # ...", "... oil on canvas, inv. 203145"): the thing's, not a phone number or an ID for its own sake
        named = rows[~keep[rows] & (batch.words.counts[rows] >= _DESCRIPTION_WITH_REF)]
        if named.size:
            rest = pc.replace_substring_regex(batch.text.take(pa.array(named)), _NAMED_REFERENCE, " ")
            keep[named] = ~_np(pc.match_substring_regex(rest, standalone))
    grouped = np.flatnonzero(keep & (batch.ascii_digits >= 8))
    if grouped.size:
        keep[grouped] = ~_np(pc.match_substring_regex(batch.unquoted_lower.take(pa.array(grouped)), _DIGIT_GROUPS))
    coded = np.flatnonzero(keep & (batch.ascii_digits >= 3))
    if coded.size:
        keep[coded] = ~_np(pc.match_substring_regex(batch.lower.take(pa.array(coded)), _LABELLED_CODE))
    return keep


_DESCRIPTION_WITH_REF = 6  # words
_NAMED_REFERENCE = (r"(?i)\b(?:ref|reference|inv|cat|art)\.?\s*(?:no\.?\s*)?#?\s*[0-9]+\b"
                    # ... or a meter's reading in its unit ("a water meter reading 003417 cubic metres", "an odometer
                    # at 184302 km")
                    r"|\b[0-9]+\s*(?:kms?|mi|miles|kwh|m3|m³|cubic (?:metres|meters|feet)|litres|liters|gallons|kilomet(?:re|er)s"
                    r"|steps)\b")
# The whole text is a labelled code ("Part No. 9X-4471-002-B", "SKU: 88213-BLK", "Item #40021") or an
# image's dimensions ("2048 x 1536").
_LABELLED_CODE = (
    r"^\s*\d{2,5}\s*[x×]\s*\d{2,5}(?:\s*(?:px|pixels))?\s*$|"  # image dimensions alone
    r"^\s*(?:(?:part|model|item|sku|ref(?:erence)?|art(?:icle)?|product|prod|serial|cat(?:alog(?:ue)?)?|upc|ean|"
    r"isbn|order|style|lot|batch|stock|asin|mpn|gtin|barcode|id|code|no)\.?\s*(?:no|nr|num|number|code|id|#)?\.?"
    r"\s*[:#=]?\s*[a-z0-9\-/._]*\d[a-z0-9\-/._]*(?:\s*[,;|/]\s*|\s+|$))+\s*$"
)


@text_rule("too_short")
def too_short_rule(batch: CaptionBatch, cfg: TooShortRule) -> np.ndarray:
    """Fails too few words or characters; Thai/Lao/Khmer/Myanmar text is judged by characters only."""
    return ((batch.n_words >= cfg.min_words) | batch.unspaced) & batch.width_within(cfg.min_chars, np.inf)


@text_rule("too_long")
def too_long_rule(batch: CaptionBatch, cfg: TooLongRule) -> np.ndarray:
    """Fails too many words or characters."""
    return batch.words_at_most(cfg.max_words) & batch.width_within(0, cfg.max_chars)


# Special: not \pL, \pN, \pM or RE2's \s ([\t\n\f\r ]), read off the class table.
_NOT_SPECIAL = BIT["letter"] | BIT["number"] | BIT["mark"] | BIT["space"]
# The same set within ASCII (`caption_text.SPECIAL_ASCII`) is counted in ASCII text.


@text_rule("special_chars")
def special_chars_rule(batch: CaptionBatch, cfg: SpecialCharsRule) -> np.ndarray:
    """Fails when more than `max_ratio` of the non-space characters are not letters/digits/marks."""
    text = batch.text
    special = batch.ascii_counts(SPECIAL_ASCII)
    wide, classes = batch.wide_classes
    special[wide] = classes.count(_NOT_SPECIAL, none_of=True)
    # Each word holds non-space characters of its own (`visible >= n_words`): a text with no more
    # special characters than `max_ratio` of its words passes whatever its spaces, and only the
    # other texts' spaces are counted.
    keep = special <= cfg.max_ratio * np.maximum(batch.n_words, 1)
    rows = np.flatnonzero(~keep)
    if rows.size:
        visible = batch.n_code_points[rows] - ascii_char_counts(text.take(pa.array(rows)), " \n")
        keep[rows] = (visible < cfg.min_chars) | (special[rows] <= cfg.max_ratio * np.maximum(visible, 1))
    return keep


@text_rule("repeated_words")
def repeated_words_rule(batch: CaptionBatch, cfg: RepeatedWordsRule) -> np.ndarray:
    """Fails a word repeated more than `max_run` times in a row, a `pair_words` word twice in a
    row, or two of them twice in a row ("of a of a"), outside quoted spans."""
    w = batch.unquoted_words
    keep = np.ones(len(batch), dtype=bool)
    pair = (_np(pc.is_in(w.dictionary, value_set=pa.array(cfg.pair_words, pa.string()))) if cfg.pair_words
            else np.zeros(len(w.dictionary), dtype=bool))
    if w.ids.size >= 4 and cfg.pair_words:  # two of `pair_words` twice in a row: "a close up of a of a pizza"
        first, second = w.ids[:-3], w.ids[1:-2]
        twice = ((first == w.ids[2:-1]) & (second == w.ids[3:]) & (first != second) & pair[first] & pair[second]
                 & (w.row[:-3] == w.row[3:]))
        keep[w.row[:-3][twice]] = False
    same = w.doubled
    if not same.any():
        return keep
    # Runs of equal neighbours: a run of k "same" links is k + 1 equal words.
    edges = np.diff(np.concatenate(([0], same.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    words_in_run = ends - starts + 1
    keep[w.row[starts[words_in_run > cfg.max_run]]] = False
    if cfg.pair_words:
        keep[w.row[starts[pair[w.ids[starts]]]]] = False
    # a name or title that repeats a word, capitalised inside a sentence ("a record by The The", "a poster
    # for Tora! Tora! Tora!"), or a word repeated as a list ("a pattern of hearts, hearts, hearts"): the
    # few failing rows are read again in their own case
    rows = np.flatnonzero(~keep)
    if rows.size:
        keep[rows] = [title_case_repeats_only(t) or _species_names_only(t) or _listed_repeats_only(t)
                      for t in batch.text.take(pa.array(rows)).to_pylist()]
    return keep


_DOUBLED_PAIR = re.compile(r"(?<!\w)(\w+\s+\w+)\s+\1(?!\w)")  # two words twice in a row ("of a of a")
_LISTED = re.compile(r"(?<!\w)(\w+)(?:\s*[,;:—–]\s*\1(?!\w)){2,}")  # a word listed three times ("hearts, hearts, hearts")


def _listed_repeats_only(text: str) -> bool:
    """`text` lists a word three times or more, set apart by commas or marks ("hearts, hearts,
    hearts"), and has no word, nor two words, twice in a row with only spaces between (nor, in a
    script without spaces, a character run: those have no list)."""
    lower = text.lower()
    return bool(_LISTED.search(lower)) and not _DOUBLED.search(lower) and not _DOUBLED_PAIR.search(lower)


_DOUBLED = re.compile(r"(?<!\w)(\w+)\s+\1(?!\w)")  # a word twice in a row (on lowercased text)


def _species_names_only(text: str) -> bool:
    """`text` holds a species named after its genus in brackets ("American bison (Bison bison)"), and
    no word twice in a row once those are left out."""
    lower = text.lower()
    rest = without_species_names(lower, text)
    return rest != lower and not _DOUBLED.search(rest)
