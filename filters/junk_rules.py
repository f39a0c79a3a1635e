"""Rules for text that is not a description at all: file names, model refusals, code, camera
settings and keyword lists. Each is a pure `(CaptionBatch, cfg) -> keep mask`.

A cheap RE2 pass over the whole array picks the few candidate rows; only those are looked at
further. Quoted spans are exempt where it matters: a caption may quote the code on a screen or
the text of a sign.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from filters.caption_text import DIGITS, LIST_SEPARATORS_ASCII, CaptionBatch
from filters.repairs import ascii_char_counts, ascii_hits, ascii_set_counts, rows_of, token_starts, utf8_bytes
from filters.pattern_search import bool_mask as _np, first_match_starts, search
from filters.rule_spec import text_rule
from filters.word_frequencies import available, most_common_completion, starts_a_common_word, word_zipf, zipf_table
from filters.unicode_classes import BIT, char_classes
from schemas.filter_config import CameraSettingsRule, CodeRule, FileNameRule, KeywordListRule, RefusalRule, RemarkRule



# ---------------------------------------------------------------- file names

_SCREENSHOT = (
    r"screenshot|screen ?shot|screen capture|bildschirmfoto|capture d['’]écran|captura de (?:pantalla|tela)|"
    r"skärmavbild|знімок екрана|tangkapan layar|ảnh chụp màn hình|لقطة شاشة|ภาพหน้าจอ|"
    r"schermata|schermafbeelding|skärmbild|zrzut ekranu|snímek obrazovky|снимок экрана|скриншот|"
    r"ekran görüntüsü|スクリーンショット|スクショ|截屏|截图|屏幕截图|螢幕擷取畫面|스크린샷"
)
_MESSENGER = (
    r"whatsapp (?:image|video|audio|photo)|imagen de whatsapp|image whatsapp|whatsapp[- ]bild|foto de whatsapp|"
    r"imagem do whatsapp|immagine (?:di )?whatsapp|whatsapp[- ]afbeelding|(?:zdjęcie|obraz) (?:z )?whatsapp|"
    r"изображение whatsapp|зображення whatsapp|whatsapp görsel|obrázek (?:z )?whatsapp|"
    r"gambar whatsapp|ảnh whatsapp|صورة واتساب|"
    r"fb_img|mmexport|received_|signal-\d|telegram|photo_\d|video_\d|snapchat-|inshot_|picsart_|"
    r"wechat(?:image|img)?_|微信图片|微信截图|qq图片|line_\d|viber_|messenger_"
)
_CAMERA = (
    r"img|dsc|dscn|dscf|dcim|pict|pic|photo|image|picture|p|pxl|gopr|gp|dji|mvimg|imag|vid|video|mov|pano|"
    r"burst|portrait|sam|wp|camera|cam|scan|scanned|untitled(?: design| document| image)?|copy of image|"
    r"capture|clip|frame|export|edit|img copy"
)
# The whole text is a file-name stem (with its extension or without).
FILE_NAME = (
    # (a word between a screenshot's date and time is followed by digits: "Screenshot 2021-03-04 at 10.15.22",
    # not "screenshot of mobile banking app")
    rf"(?i)^\s*(?:(?:{_SCREENSHOT})(?:[\s_\-.()]*(?:(?:at|um|à|às|a las|alle|om|в|from|de|von|เวลา|في|م|ص|am|pm|o|kl|v|о|"
    rf"saat|lúc|pukul|上午|下午|午前|午後|오전|오후)[\s_\-.()]*)?\d(?:[\d\s_.:\-/()]|[年月日号時时分秒])*)+[\s\w\-]{{0,20}}"
    rf"|(?:{_MESSENGER})[\s_\-.]*[\w\sà\-.:()]*\d[\w\sà\-.:()]*"
    rf"|(?:{_CAMERA})[\s_\-]*\(?\d[\d\s_\-]*\)?(?:[\s_\-]*(?:copy|edit|edited|final|wa\d+|\(\d+\)|[a-z]?\d+))*"
    r"|(?:img|vid|pxl|dsc|mvimg)[\s_\-]*\d{4,}[\w\-]*"
    r"|\d{8}[_\- ]\d{6}(?:[_\-]\w+)?(?:\s*\(\d+\))?"
    # a copy an editor made of a file, numbered ("Copy of Solar Farm Graphic (1)")
    r"|copy of [\w\s\-]{1,60}\(\d+\)"
    # a phone's "Photo <date>, <time>" export name ("Фото 12.05.2023, 14 26 45", "Photo 3-9-22, 8 05 11 PM")
    r"|(?:фото|photo|foto|bild|image|img|zdjęcie|ảnh)[\s_\-]?\d{1,4}[.\-]\d{1,2}[.\-]\d{2,4}(?:,?[\s_\-]\d{1,2}[\s.:_\-]\d{2}"
    r"(?:[\s.:_\-]\d{2})?(?:\s?[ap]m)?)?"
    r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{20,}"
    r"|[a-z0-9]+(?:_[a-z0-9]+){2,}|[a-z]+(?:[_\-][a-z]+)*[_\-]\d{2,}(?:x\d+)?(?:[_\-][a-z0-9]+)*"
    r")(?:\.(?:jpe?g|png|gif|webp|heic|heif|bmp|tiff?|dng|raw|cr2|nef|arw|mp4|mov|avi|mkv|3gp|pdf))?\s*$"
)


@text_rule("file_name")
def file_name_rule(batch: CaptionBatch, cfg: FileNameRule) -> np.ndarray:
    """Fails a caption that is a file-name stem: screenshot, messenger export, camera or scanner
    name, a hash, or a slug of words joined by underscores."""
    return ~_np(pc.match_substring_regex(batch.text, FILE_NAME))


# ---------------------------------------------------------------- refusals


def _among(values: pa.Array, words) -> np.ndarray:
    """Per value: one of `words` (a collection of strings)."""
    return _np(pc.is_in(values, value_set=pa.array(sorted(words), pa.string())))


@lru_cache(maxsize=8)
def _joined(patterns: tuple[str, ...]) -> str:
    return "|".join(f"(?:{p})" for p in patterns)


# No screen (`filters.rule_spec`): with the refusals in many languages, the shared search of the
# screens outgrew what RE2's DFA keeps cached on varied text, and cost more than searching apart.
@text_rule("refusal")
def refusal_rule(batch: CaptionBatch, cfg: RefusalRule) -> np.ndarray:
    """Fails model refusals, "as an AI" disclaimers and chat preambles (outside quoted spans),
    descriptions broken off on an article, a conjunction or a preposition (`unfinished`), and captions
    that say nothing about their picture (`says_nothing`)."""
    pattern = _joined(cfg.patterns) if cfg.patterns else None
    ok = np.ones(len(batch), dtype=bool) if pattern is None else ~batch.unquoted_lower_matches(pattern)
    if cfg.unfinished_min_words and cfg.unfinished_words:
        ok &= ~unfinished(batch, ok, cfg)
    if cfg.unfinished_min_chars:
        ok &= ~unfinished_unspaced(batch, ok, cfg)
    if cfg.cut_min_words:
        ok &= ~cut_inside_a_word(batch, ok, cfg)
    if cfg.script_switches:
        ok &= ~switching_scripts(batch, ok, cfg.script_switches)
    if cfg.two_scripts_min_letters:
        ok &= ~two_scripts(batch, ok, cfg.two_scripts_min_letters)
    if cfg.nothing_said_min_words and cfg.nothing_said_words:
        ok &= ~says_nothing(batch, ok, cfg)
    return ok


# The scripts a model's glitch switches between, by the first letter of a word (Latin with its marks,
# Greek, Cyrillic, Arabic, Hebrew, Thai, Hangul, and Han with Kana as one)
_SCRIPTS = ((r"[a-zA-Z\u00c0-\u024f\u1e00-\u1eff]", "latin"), (r"[\u0370-\u03ff]", "greek"),
            (r"[\u0400-\u04ff]", "cyrillic"), (r"[\u0600-\u06ff]", "arabic"), (r"[\u0590-\u05ff]", "hebrew"),
            (r"[\u0e00-\u0e7f]", "thai"), (r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]", "hangul"),
            (r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]", "han"))
_SCRIPT_RUN = re.compile("|".join(f"(?P<{name}>{cls}+)" for cls, name in _SCRIPTS))
# a non-Latin letter, then a word of ASCII letters, then a non-Latin letter: the rows looked at
_SWITCHING = r"[^\x00-\x{24F}\x{1E00}-\x{1EFF}][^\n]*?\b[a-z]{2,}\b[^\n]*?[^\x00-\x{24F}\x{1E00}-\x{1EFF}\s\pP\pS\pN]"
# English words a glitch leaves between the other script's ("一个女人 standing 在 the 海滩上 with 她的 dog")
_GLITCH_WORDS = frozenset(("the", "a", "an", "on", "in", "at", "with", "and", "of", "is", "are", "to", "his", "her", "its"))


def switching_scripts(batch: CaptionBatch, rows: np.ndarray, switches: int) -> np.ndarray:
    """Per row (of the `rows` mask, outside quotes): a model's output that switches language and script
    mid-sentence, word by word: `switches` changes of script or more between its runs of letters with
    two of its English words function words ("一个女人 standing 在 the 海滩上 with 她的 dog"), or three
    scripts or more with `switches` - 1 changes ("รูปภาพแสดง a man กำลัง 走在 street", "Ein Hund sitzt
    auf dem 沙发 and looks at the камера"). A caption in one script with a brand or a name in another
    ("一杯 Starbucks 的咖啡") changes script twice."""
    out = np.zeros(len(batch), dtype=bool)
    maybe = np.flatnonzero(rows & _np(batch.non_ascii))
    if maybe.size == 0:
        return out
    text = batch.unquoted_lower.take(pa.array(maybe))
    found = _np(pc.match_substring_regex(text, _SWITCHING))
    for i, t in zip(maybe[found].tolist(), text.filter(pa.array(found)).to_pylist()):
        runs = [(m.lastgroup, m.group()) for m in _SCRIPT_RUN.finditer(t)]
        changes = sum(a[0] != b[0] for a, b in zip(runs, runs[1:]))
        english = sum(word in _GLITCH_WORDS for script, word in runs if script == "latin")
        out[i] = (changes >= switches and english >= 2) or (changes >= switches - 1 and len({s for s, _ in runs}) >= 3
                                                            and english >= 1)
    return out


# Latin letters (lowercase), and three words of them in a row: the rows `two_scripts` looks at
_LATIN_LETTERS = r"a-z\x{e0}-\x{24f}"
_LATIN_WORDS = rf"[{_LATIN_LETTERS}]{{2,}}\s+[{_LATIN_LETTERS}]{{2,}}\s+[{_LATIN_LETTERS}]{{2,}}"
# two of the English function words a glitch leaves: a sentence's, not a brand's or a name's
_ENGLISH_WORD = r"\b(?:" + "|".join(sorted(_GLITCH_WORDS)) + r")\b"
_TWO_ENGLISH = f"{_ENGLISH_WORD}.*{_ENGLISH_WORD}"
_TWO_SCRIPTS_SHARE = 0.3  # the smaller script's share of the letters


def says_nothing(batch: CaptionBatch, rows: np.ndarray, cfg: RefusalRule) -> np.ndarray:
    """Per row (of the `rows` mask): `nothing_said_min_words` words or more, every one of them one of
    `nothing_said_words` (function words, and words about pictures in general): a model's caption
    that names nothing in its picture ("This photo was taken at some point in time and shows a view.")."""
    out = np.zeros(len(batch), dtype=bool)
    words = batch.words
    maybe = rows & (words.counts >= cfg.nothing_said_min_words)
    if not maybe.any():
        return out
    listed = _np(pc.is_in(words.dictionary, value_set=pa.array(sorted(cfg.nothing_said_words), pa.string())))
    other = np.bincount(words.row, weights=~listed[words.ids], minlength=len(batch))
    rows = np.flatnonzero(maybe & (other == 0))
    if rows.size:  # three different words at least: one word over and over is a stutter ("photo photo photo")
        sub = words.subset(rows)
        distinct = np.unique(sub.row * (int(sub.ids.max(initial=0)) + 1) + sub.ids) // (int(sub.ids.max(initial=0)) + 1)
        out[rows[np.bincount(distinct, minlength=rows.size) >= _NOTHING_SAID_DISTINCT]] = True
    return out


_NOTHING_SAID_DISTINCT = 3


def two_scripts(batch: CaptionBatch, rows: np.ndarray, min_letters: int) -> np.ndarray:
    """Per row (of the `rows` mask, outside quotes): a model's output given twice, in two languages of
    two scripts, or cut over to another language ("The runner crosses the finish line 이 사진에서 선수는
    결승선을", "Children are playing ... 孩子们在地板上玩玩具。"): Latin letters and the other scripts' each
    `min_letters` or more (Han and Hangul characters count twice) and the fewer `_TWO_SCRIPTS_SHARE` of
    them or more, two English function words among the Latin ones. A caption with a name or a sign's
    words in another script ("东京塔 Tokyo Tower at night", "Street sign for 명동 in Seoul") has too few
    letters of it, a brand's name in Latin letters no function words ("Смартфон Xiaomi Redmi Note 13")."""
    out = np.zeros(len(batch), dtype=bool)
    maybe = np.flatnonzero(rows & _np(batch.non_ascii))
    if maybe.size == 0 or not min_letters:
        return out
    text = batch.unquoted_lower.take(pa.array(maybe))
    found = _np(pc.match_substring_regex(text, _LATIN_WORDS)) & _np(pc.match_substring_regex(text, _TWO_ENGLISH))
    maybe, text = maybe[found], text.filter(pa.array(found))
    if maybe.size == 0:
        return out

    def letters(cls: str) -> np.ndarray:
        return pc.utf8_length(pc.replace_substring_regex(text, f"[^{cls}]+", "")).to_numpy(zero_copy_only=False)

    latin = letters(_LATIN_LETTERS)
    other = 2 * letters(r"\p{Han}\p{Hangul}") + letters(r"\p{Hiragana}\p{Katakana}\p{Cyrillic}\p{Arabic}\p{Thai}"
                                                      r"\p{Greek}\p{Hebrew}")
    fewer = np.minimum(latin, other)
    out[maybe[(fewer >= min_letters) & (fewer >= _TWO_SCRIPTS_SHARE * (latin + other))]] = True
    return out


# before an adjective of `unfinished_adjectives` at the end: an article, or a preposition ("... sorting bottles into large")
_BEFORE_AN_ADJECTIVE = frozenset(("a", "an", "the", "into", "onto", "with", "of", "in", "on", "from", "for", "under",
                                  "between", "among"))
# A lone lowercase letter at the end, after a word of letters, is a word cut after its first letter
# ("... covered in hundreds of b"), unless it is a variable ("... solve for x") or what a word before
# it names ("the letter b", "vitamin c", "plan b")
_VARIABLES = frozenset("xyzn")
# English words of adjectives' own endings or a hyphened participle: no caption ends on one after an article or a
# preposition ("... going up a snowy", "... and a half-finished"); nor on a colour after "a" or "an" ("... a woman in
# a blue"; "... highlighted in red" and "... brown among the white" end well)
_ADJECTIVAL = re.compile(r"[a-z]{3,}(?:ous|less)|[a-z]+-[a-z]+ed|snowy|sunny|rainy|cloudy|foggy|rocky|sandy|grassy|leafy|"
                         r"both")
_COLOURS = frozenset(("red", "blue", "green", "yellow", "black", "white", "grey", "gray", "brown", "orange", "pink",
                      "purple", "silver", "golden"))
# ... nor on a participle after "a" or "an" ("... a pocket watch with a cracked"; not "a hundred")
_PARTICIPLE_AFTER_A = re.compile(r"[a-z]{3,}ed")
_NOT_PARTICIPLES = frozenset(("hundred", "seabed", "flowerbed", "riverbed", "seed", "bed", "shed", "sled"))
_INDEFINITE = frozenset(("a", "an"))


def _looks_adjectival(words: pa.Array) -> np.ndarray:
    return _np(pc.or_(pc.match_substring_regex(words, "^(?:" + _ADJECTIVAL.pattern + "|" + _PARTICIPLE_AFTER_A.pattern + ")$"),
                      pc.is_in(words, value_set=pa.array(sorted(_COLOURS), pa.string()))))
# "by" after a participle needs its agent ("... partly covered by"), after a lead its margin ("... the home
# team leading by"); a verb of motion may end on it ("... a cyclist rides by", "... people walking by")
_PARTICIPLE_ENDS = ("ed", "en")
_BY_A_MARGIN = frozenset(("leading", "trailing", "winning", "losing", "ahead", "behind"))
_BY = "by"
# an English possessive in lowercase needs its noun ("... holding the machine over a client's")
_POSSESSIVE = r"^[a-z]+['’]s$"
_POSSESSIVE_WORD = re.compile(_POSSESSIVE)
_TO_A_PLACE = frozenset(("at", "to", "from", "in", "into"))  # ... unless it names a place ("lunch at grandma's")
# A word left hanging at the end, judged by the two before it (`_left_hanging`): "in" after "a" or "an" and a
# noun ("... sheared in a barn by a man in"; "... with the lights on" and "... moving in" end well), a verb
# "to be" after a noun ("... and a worker in a green shirt is"; not "... as it is", "Sold as is"), a colour
# after "a" or "an" and a word of size ("... printing a small blue"; "... painted a bright blue" ends well)
_HANGING_IN = "in"
# ... "in" or "on" after a participle that needs its place ("... a brush dipped in", "... a camera mounted on";
# "... with the lights switched on" ends well)
_HANGING_ON = "on"
_NEEDS_ITS_PLACE = frozenset(("covered", "dipped", "wrapped", "dressed", "clad", "written", "painted", "printed",
                              "decorated", "soaked", "coated", "immersed", "submerged", "framed", "engraved", "carved",
                              "stitched", "embroidered", "served", "mounted", "placed", "perched", "parked", "stacked",
                              "displayed", "pinned", "taped", "balanced", "propped", "resting", "sitting", "standing",
                              "lying", "seated", "leaning", "hanging", "drawn", "etched", "set"))
# ... and in German: a word in lowercase after an indefinite article ("... neben einem großen": an adjective,
# a German noun is written with a capital) or "die" or "den" after two German function words ("... während im
# Hintergrund die", "... mit Blick auf den")
_GERMAN_INDEFINITE = frozenset(("ein", "eine", "einem", "einen", "einer", "eines"))
_GERMAN_FUNCTION = frozenset(("der", "das", "dem", "den", "und", "mit", "im", "auf", "ein", "eine", "einem", "einen",
                              "einer", "während", "neben", "vor", "hinter", "ist", "sind", "zwei", "drei", "von"))
_GERMAN_ARTICLES = frozenset(("die", "den"))
# ... "under" or "beside" with nothing after it ("... a woman waiting under"; "... the ship going under"
# ends well)
_UNDER = frozenset(("under", "beside"))
_GOING = frozenset(("go", "goes", "going", "went", "gone", "and"))
# ... a clause opened by "while" that stops on its subject ("... how to fold dumplings while students"; not
# "... while driving", "... while seated")
_WHILE = frozenset(("while", "whilst"))
_WHILE_SUBJECTS = frozenset(("the", "a", "an", "his", "her", "their", "its", "our", "my", "two", "three", "some"))
_TO_BE = frozenset(("is", "are", "was", "were"))
_NOT_A_SUBJECT_NOUN = frozenset(("it", "this", "that", "what", "who", "where", "how", "as", "there", "here", "he", "she",
                                 "they", "we", "you", "i", "which", "whoever", "whatever", "why", "when", "so", "is"))
_SIZES = frozenset(("small", "large", "big", "little", "tall", "huge", "tiny", "long", "wide", "narrow", "short", "old",
                    "young"))
# ... or what a thing is made of after "a" and a size ("... and a small wooden"; "... a bowl of little wooden" is no
# article's)
_WORDS_OF_MATTER = frozenset(("wooden", "metal", "plastic", "glass", "stone", "brick", "paper", "leather", "woolen",
                              "woollen", "cotton", "silk", "ceramic", "golden", "silver", "copper", "iron", "steel"))
_NAMES_A_LETTER = frozenset(("letter", "letters", "variable", "vitamin", "plan", "grade", "type", "option", "size",
                             "point", "row", "gate", "zone", "section", "platform", "exit", "block", "level"))

# What may follow a broken-off word: spaces, a comma or colon, a dash, an ellipsis
_AFTER_LAST = frozenset(",:;…-–—")


def _before_the_end_marks(text: str) -> str:
    """`text` without what may follow a broken-off word: spaces and `_AFTER_LAST` marks, around one "...",
    or a quote opened after a space and cut before its text ('... a sign that says "')."""
    text = _strip_marks(text)
    if text.endswith(_OPENING_QUOTES) and len(text) > 1 and text[-2].isspace():
        text = _strip_marks(text[:-1])
    return _strip_marks(text[:-3]) if text.endswith("...") else text


_OPENING_QUOTES = ('"', "“", "«", "„", "「")


def _strip_marks(text: str) -> str:
    end = len(text)
    while end and (text[end - 1].isspace() or text[end - 1] in _AFTER_LAST):
        end -= 1
    return text[:end]


def unfinished(batch: CaptionBatch, rows: np.ndarray, cfg: RefusalRule) -> np.ndarray:
    """Per row (of the `rows` mask): `unfinished_min_words` words or more, and the last written in
    lowercase and one of `unfinished_words` (or a lone lowercase letter after a word, "by" after a
    participle, a lowercase possessive: `_VARIABLES`, `_BY`, `_POSSESSIVE`), with nothing but spaces, a
    comma, a colon, a dash or an ellipsis after it: "A woman in a blue dress is standing next to a",
    "Two dogs playing with a ball and". The last word as written, so that "... in Hoi An" or "Platform
    A" is a name."""
    out = np.zeros(len(batch), dtype=bool)
    words = batch.words
    last = words.starts + words.counts - 1
    maybe = np.flatnonzero(rows & (words.counts >= cfg.unfinished_min_words))
    if maybe.size == 0:
        return out
    # the rows' last words, each distinct one judged once
    used, at = np.unique(words.ids[last[maybe]], return_inverse=True)
    ends = words.dictionary.take(pa.array(used))
    listed = _among(ends, cfg.unfinished_words)[at]
    # ... or an article and an adjective that needs its noun ("... standing next to a large")
    adjective = _among(ends, cfg.unfinished_adjectives)[at]
    before = words.dictionary.take(pa.array(words.ids[last[maybe] - 1]))
    article = _among(before, _BEFORE_AN_ADJECTIVE)
    hanging = _among(before, _GERMAN_INDEFINITE | _WHILE)
    # ("while" two words before the end: "... while the editor"; `unfinished_min_words` leaves room)
    two_before = words.dictionary.take(pa.array(words.ids[np.maximum(last[maybe] - 2, words.starts[maybe])]))
    hanging |= _among(two_before, _WHILE) & _among(before, _WHILE_SUBJECTS)
    # ... or a lone letter, "by" or a possessive (judged below)
    other = _np(pc.or_(pc.or_(pc.and_(pc.equal(pc.utf8_length(ends), 1), pc.utf8_is_alpha(ends)), pc.equal(ends, _BY)),
                       pc.match_substring_regex(ends, _POSSESSIVE)))[at]
    # ... or a word left hanging (`_left_hanging`), where the words before it may leave it so
    end_words = ends.take(pa.array(at))
    hanging |= _among(end_words, _TO_BE | _GERMAN_ARTICLES | _UNDER)
    hanging |= _among(end_words, _COLOURS | _WORDS_OF_MATTER) & _among(before, _SIZES)
    hanging |= _among(end_words, {_HANGING_IN, _HANGING_ON}) & _among(before, _NEEDS_ITS_PLACE)
    hanging |= _among(end_words, {_HANGING_IN}) & _among(two_before, _INDEFINITE)
    maybe = maybe[listed | ((adjective | _looks_adjectival(ends)[at]) & article) | other | hanging]
    if maybe.size == 0:
        return out
    texts = batch.text.take(pa.array(maybe)).to_pylist()
    allowed = frozenset(cfg.unfinished_words)
    adjectives = frozenset(cfg.unfinished_adjectives)
    for i, text in zip(maybe.tolist(), texts):
        body = _before_the_end_marks(text).split()
        out[i] = bool(body) and (body[-1] in allowed or _possessive_needs_its_noun(body) or _left_hanging(body)
                                 or (len(body) >= 2 and _needs_what_follows(body[-2], body[-1], adjectives)))
    return out


def _left_hanging(body: list[str]) -> bool:
    """The last word (as written) needs what follows, judged by the two words before it (`_HANGING_IN`,
    `_NEEDS_ITS_PLACE`, `_TO_BE`, a colour after a size, `_GERMAN_INDEFINITE`, `_GERMAN_ARTICLES`, `_UNDER`, `_WHILE`)."""
    if len(body) < 3:
        return False
    if body[-1] in _GERMAN_ARTICLES:
        return sum(w.lower() in _GERMAN_FUNCTION for w in body[:-1]) >= 2
    if body[-1] in _UNDER:
        return body[-2].lower() not in _GOING
    if not body[-2].isalpha() or not body[-2].islower():
        return False
    first, noun, last = body[-3].lower(), body[-2], body[-1]
    if noun in _GERMAN_INDEFINITE:
        return last.isalpha() and last.islower()
    if noun in _WHILE:
        return last.isalpha() and last.islower() and not last.endswith(("ing", "ed", "en"))
    if first in _WHILE and noun in _WHILE_SUBJECTS:  # "... while the editor"
        return last.isalpha() and last.islower() and not last.endswith(("ing", "ed"))
    if last in (_HANGING_IN, _HANGING_ON) and noun in _NEEDS_ITS_PLACE:
        return True
    if last == _HANGING_IN:
        return first in _INDEFINITE
    if last in _TO_BE:
        return noun not in _NOT_A_SUBJECT_NOUN
    return (last in _COLOURS or last in _WORDS_OF_MATTER) and noun in _SIZES and first in _INDEFINITE


def _needs_what_follows(before: str, last: str, adjectives: frozenset[str]) -> bool:
    """The last two words (as written) of a text that has more: an adjective after an article or a preposition,
    a colour or a participle after "a", a lone letter, "by" after a participle or a lead."""
    return _needs_its_noun(before.lower(), last, adjectives) or _cut_to_a_letter(before, last) or (
        last == _BY and (before.lower().endswith(_PARTICIPLE_ENDS) or before.lower() in _BY_A_MARGIN))


def _needs_its_noun(before: str, last: str, adjectives: frozenset[str]) -> bool:
    if before in _BEFORE_AN_ADJECTIVE and (last in adjectives or _ADJECTIVAL.fullmatch(last)):
        return True
    return before in _INDEFINITE and (last in _COLOURS or (
        _PARTICIPLE_AFTER_A.fullmatch(last) is not None and last not in _NOT_PARTICIPLES))


def _cut_to_a_letter(before: str, last: str) -> bool:
    return (len(last) == 1 and last.islower() and last not in _VARIABLES and before.isalpha()
            and before.lower() not in _NAMES_A_LETTER)


def _possessive_needs_its_noun(body: list[str]) -> bool:
    # (in an English text: Dutch writes plurals so, "Laadpaal voor elektrische auto's")
    return (_POSSESSIVE_WORD.fullmatch(body[-1]) is not None and (len(body) < 2 or body[-2].lower() not in _TO_A_PLACE)
            and any(w.lower() in _GLITCH_WORDS for w in body[:-1]))


# the allowed languages written with spaces whose words wordfreq lists, for `cut_inside_a_word` (not Turkish
# or Vietnamese: a rare inflection or syllable there may well start a common word)
_CUT_LANGUAGES = ("en", "de", "fr", "es", "it", "pt", "nl", "pl", "cs", "sv", "ru", "uk", "id")
_CUT_COVERAGE = 0.8  # this share of the other words common in the text's language


def cut_inside_a_word(batch: CaptionBatch, rows: np.ndarray, cfg: RefusalRule) -> np.ndarray:
    """Per row (of the `rows` mask): a description of `cut_min_words` words or more ending on a
    lowercase letter, `_CUT_COVERAGE` of whose other words are common in one of `_CUT_LANGUAGES` (the
    text's language, for this) and whose last word (as written) is not, is rarer there than
    `cut_word_zipf` and starts a common word of it: cut inside a word ("... and a flag flying above the entra", "... neben dem großen Spielpla"; not "... a bowl
    of shakshuka")."""
    out = np.zeros(len(batch), dtype=bool)
    words = batch.words
    maybe = np.flatnonzero(rows & (words.counts >= cfg.cut_min_words))
    if maybe.size:
        maybe = maybe[_np(pc.match_substring_regex(batch.text.take(pa.array(maybe)), r"\p{Ll}$"))]
    codes = tuple(c for c in _CUT_LANGUAGES if c in available())
    if maybe.size == 0 or not codes:
        return out
    # the words of those rows, each distinct one judged once: common (in the small list) per language
    in_rows = np.zeros(len(batch), dtype=bool)
    in_rows[maybe] = True
    sel = np.flatnonzero(in_rows[words.row])
    unique, inverse = np.unique(words.ids[sel], return_inverse=True)
    used = words.dictionary.take(pa.array(unique))
    table = zipf_table(used.to_pylist(), codes)[inverse]
    common = table > 0
    last = sel == (words.starts + words.counts - 1)[words.row[sel]]
    slot = np.searchsorted(maybe, words.row[sel])
    # the share of the other words common in each language; the last word's own
    hits = np.stack([np.bincount(slot[~last], weights=common[~last, j], minlength=maybe.size)
                     for j in range(len(codes))], axis=1)
    last_zipf = np.zeros((maybe.size, len(codes)), dtype=np.float32)
    last_zipf[slot[last]] = table[last]
    last_letters = np.zeros(maybe.size, dtype=np.int64)
    last_letters[slot[last]] = _np(pc.utf8_length(used)).astype(np.int64)[inverse][last]
    coverage = hits / np.maximum(words.counts[maybe] - 1, 1)[:, None]
    best = np.argmax(coverage, axis=1)
    at = np.arange(maybe.size)
    english = codes.index("en") if "en" in codes else -1
    # the last word rare there, or (in English) perhaps a common stub (`_stub`)
    rare = last_zipf[at, best] == 0
    stub = (best == english) & (last_letters <= _STUB_LETTERS) & ((last_zipf[at, best] < _STUB_ZIPF) | (last_letters == 2))
    keep = (coverage[at, best] >= _CUT_COVERAGE) & (rare | stub)
    maybe, best, rare = maybe[keep], best[keep], rare[keep]
    for i, b, r, text in zip(maybe.tolist(), best.tolist(), rare.tolist(), batch.text.take(pa.array(maybe)).to_pylist()):
        last, code = text.split()[-1], codes[b]
        # in lowercase as written, or a German noun's capital ("... neben dem großen Spielpla")
        written = last.islower() or (code == "de" and last[:1].isupper() and last[1:].islower())
        if not (last.isalpha() and written):
            continue
        out[i] = (r and word_zipf(last.lower(), code) < cfg.cut_word_zipf and starts_a_common_word(last.lower(), code)) or (
            b == english and _stub(last))
    return out


# An English word cut to a stub that is a word of its own, rare beside the common word it starts: at most
# `_STUB_LETTERS` letters, rarer than `_STUB_ZIPF`, and a word starting with it `_STUB_GAP` Zipf more common
# (fifty times: "... a large scr" for "screen", "... the tot" for "total", "... their liv"); not a noun's
# singular, whose plural is used too ("moth", "boar" and "germ" start "mother", "board" and "german")
_STUB_LETTERS = 4
_VOWELS = frozenset("aeiouy")
# abbreviations of two consonants that may end an English caption
_TWO_CONSONANT_WORDS = frozenset(("st", "dr", "mr", "ms", "tv", "pc", "dj", "km", "kg", "cm", "mm", "ml", "hp", "ft", "pm",
                                  "nd", "rd", "lb", "vs", "bc", "dc", "ct", "nj", "nw", "sw", "hq", "gt", "rv", "pt", "cd",
                                  "wc", "tx", "xl", "xs", "sf", "ss", "ll"))
_STUB_ZIPF = 4.1
_STUB_GAP = 1.7
_PLURAL_ZIPF = 2.5


@lru_cache(maxsize=4096)
def _stub(word: str) -> bool:
    if len(word) == 2 and not set(word) & _VOWELS:  # two consonants ("... smoke and fl"), not "... on the tv"
        return word not in _TWO_CONSONANT_WORDS
    zipf = word_zipf(word, "en")
    return (len(word) <= _STUB_LETTERS and zipf < _STUB_ZIPF
            and most_common_completion(word, "en") - zipf >= _STUB_GAP
            and word_zipf(word + ("es" if word.endswith(("s", "x", "z", "ch", "sh")) else "s"), "en") < _PLURAL_ZIPF)


def unfinished_unspaced(batch: CaptionBatch, rows: np.ndarray, cfg: RefusalRule) -> np.ndarray:
    """Per row (of the `rows` mask): text in a script without spaces, `unfinished_min_chars`
    characters or more, that stops on one of `unfinished_endings` (a particle, a conjunction or a
    measure word that needs what follows: "她站在雨中，看起来很", "窓の外を見ている女性が")."""
    out = np.zeros(len(batch), dtype=bool)
    maybe = np.flatnonzero(rows & _np(batch.non_ascii))
    if maybe.size == 0 or not cfg.unfinished_endings:
        return out
    sub = batch.text.take(pa.array(maybe))
    long = pc.greater_equal(pc.utf8_length(sub), cfg.unfinished_min_chars)
    endings = "|".join(re.escape(e) for e in cfg.unfinished_endings)
    hit = _np(pc.and_(long, pc.match_substring_regex(sub, rf"(?:{endings})[\s,，、…\.]*$")))
    out[maybe[hit]] = True
    return out


# ---------------------------------------------------------------- readers' remarks

# a remark's feeling in its marks: "!" or a face or a heart ("Monday again 🙄", "love you guys ❤️")
_SHOUTED = (r"[!\x{FF01}\x{1F600}-\x{1F64F}\x{1F910}-\x{1F92F}\x{1F970}-\x{1F97A}\x{2764}\x{1F493}-\x{1F49F}"
            r"\x{1F90D}\x{1F90E}\x{1F9E1}]")


@text_rule("remark")
def remark_rule(batch: CaptionBatch, cfg: RemarkRule) -> np.ndarray:
    """Fails a reader's remark posted with a picture, which names nothing in it ("Good times with
    good people", "so blessed", "Endlich Wochenende!"): at most `max_words` words, each word with a
    letter one of `words` or `feelings` (typographic apostrophes read as "'"; emoji and numbers
    count for nothing), and one of `feelings` among them or a "!", a face or a heart in the text (`_SHOUTED`). A thing in the
    picture is a word outside both lists ("Happy family", "Winter fun")."""
    out = np.zeros(len(batch), dtype=bool)
    if not cfg.max_words or not cfg.feelings:
        return ~out
    words = batch.words
    maybe = (words.counts >= 1) & (words.counts <= cfg.max_words)
    if not maybe.any():
        return ~out
    said = pc.replace_substring(words.dictionary, "\u2019", "'")
    feeling = _among(said, cfg.feelings)
    listed = feeling | _among(said, cfg.words)
    lettered = char_classes(said).count(BIT["letter"]) > 0  # (the class table: RE2 builds \pL anew each call)
    n = len(batch)
    other = np.bincount(words.row, weights=(lettered & ~listed)[words.ids], minlength=n)
    if cfg.recall_words and cfg.recalled_words:  # a look back: its seasons and holidays are a remark's words
        recall = _among(said, cfg.recall_words)
        recalled = _among(said, cfg.recalled_words)
        back = np.bincount(words.row, weights=recall[words.ids], minlength=n) > 0
        other[back] -= np.bincount(words.row, weights=(recalled & ~listed)[words.ids], minlength=n)[back]
        feeling |= recall
    felt = np.bincount(words.row, weights=feeling[words.ids], minlength=n)
    lettered_words = np.bincount(words.row, weights=lettered[words.ids], minlength=n)
    rows = np.flatnonzero(maybe & (other == 0) & (lettered_words > 0))
    if rows.size:
        shouted = np.zeros(n, dtype=bool)
        shouted[rows] = _np(pc.match_substring_regex(batch.text.take(pa.array(rows)), _SHOUTED))
        out[rows[(felt[rows] > 0) | shouted[rows]]] = True
    return ~out


# ---------------------------------------------------------------- code

# Any one of these is code.
_CODE_STRONG = (
    r"\bselect\s+(?:\*|distinct\b|[\w.]+(?:\s*,\s*[\w.]+)*)\s+from\s+\w",
    r"\binsert\s+into\s+\w+", r"\bupdate\s+\w+\s+set\s+\w+\s*=", r"\bdelete\s+from\s+\w+",
    r"\b(?:create|drop|alter)\s+(?:table|index|view|database)\b",
    r"\bdef\s+\w+\s*\([^)]*\)\s*(?:->\s*[\w\[\]]+\s*)?:", r"\bfunction\s*\w*\s*\([^)]*\)\s*\{",
    r"#include\s*[<\"]", r"<\?xml\b", r"\bpublic\s+(?:static\s+)?(?:void|class|int)\b",
    # CSV: two rows of three fields or more, no space after a comma, the first a header of names
    # ("ward,beds,occupied A1,24,22 ...", its lines joined by the whitespace repair)
    r"(?:^|\s)[a-z_][\w.-]*(?:,[\w.-]+){2,}\s+[\w.-]+(?:,[\w.-]+){2,}(?:\s|$)",
    # XML: two closing tags the HTML repair left (not HTML's: "<listing><rooms>3</rooms> 72 </listing>")
    r"</[a-z][\w-]*>[^\n]*</[a-z][\w-]*>", r"\bimport\s+[\w.]+\s+as\s+\w+",
    r"\bfrom\s+[\w.]+\s+import\s+\w", r"\bconsole\.log\s*\(", r"\bsystem\.out\.print", r"<\?php",
    r"\bstd::\w", r"^\s*#!\s*/", r"\b(?:var|let|const)\s+\w+\s*=\s*[\w\"'\[{(]", r"\bprint\s*\(\s*[\"'f]",
    r"^\s*[\[{]\s*\"[^\"]+\"\s*:", r"=>\s*\{", r"\bfor\s*\(\s*(?:int|let|var)?\s*\w+\s*=",
    r"\$\w+\s*=\s*[\w\"'\[$]", r"\bif\s+__name__\s*==",
    r"\bpip install\b|\bnpm install\b|\bsudo apt|\bsystemctl (?:start|stop|restart|reload|enable|disable|status) \S",
    r"\bfor\s+\w+\s+in\s+(?:range|enumerate|zip|sorted)\s*\(", r"\btraceback \(most recent call last\)",
    # a Python loop whose body calls on the same line ("for cow in herd: print(cow.id)")
    r"\bfor\s+[a-z_]\w*\s+in\s+[a-z_][\w.]*\s*:\s*[a-z_][\w.]*\s*\(",
    r"\bexception in thread\b|\bjava\.lang\.\w+|^\s*\[(?:info|debug|warn|warning|error|trace|fatal)\]"
    r"|^\s*(?:info|debug|warn|warning|error|trace|fatal)\s*\[[\w.:-]+\]",
    # an assignment from a call ("x = torch.randn(3, 224)"), a package manager's or a database's error
    r"^\s*[a-z_][\w.]*\s*=\s*[a-z_][\w.]*\([^()]*\)\s*;?\s*$", r"^\s*(?:npm|yarn|pip) err!?|^\s*error \d{3,5} \(\w+\):",
    # a Lua local ("local hp = player:getHealth() ...")
    r"^\s*local\s+[a-z_]\w*\s*=\s*\S",
    # an HTTP status page, a crash
    r"^\W*(?:(?:http|error|status)\s*)?(?:40[0-9]|41\d|42\d|50[0-9])\W+(?:forbidden|not found|bad request|unauthori[sz]ed|"
    r"internal server error|bad gateway|service unavailable|gateway time-?out|too many requests)\b|\bsegmentation "
    r"fault\b|\(core dumped\)|\bkernel panic\b|\bfatal error:",
    # a template's tags ("{% include 'partials/figure.html' %}", "{{ page.title | upper }}")
    r"\{%-?\s*(?:include|extends|block|endblock|if|endif|for|endfor|load|url|static|set|macro|with|trans)\b|\{\{\s*[a-z_][\w.]*"
    r"(?:\s*\|\s*\w+)*\s*\}\}",
    # a call with keyword arguments ("Retry(total=4, connect=None, ...)")
    r"\b[a-z_]\w*\(\w+=[^,()\s]{1,30},\s*\w+=",
    # a configuration file: an INI section and a key set under it
    r"^\s*\[[a-z0-9_.\- ]+\]\s*[a-z_][\w.\-]*\s*=\s*\S",
    # a runtime error message, a log line (a level and an ISO timestamp)
    r"\b(?:uncaught |unhandled )?(?:type|reference|syntax|range|value|key|index|attribute|name|runtime|import|"
    r"zerodivision|filenotfound|permission|assertion|nullpointer|illegalargument|illegalstate)(?:error|exception)\s*:",
    r"^\s*\[?(?:trace|debug|info|warn|warning|error|err|fatal|critical)\]?:?\s+\d{4}-\d{2}-\d{2}[t ]\d{2}:\d{2}|"
    r"^\s*\[?\d{4}-\d{2}-\d{2}[t ]\d{2}:\d{2}(?::\d{2})?[^\s]*\]?\s+\[?(?:trace|debug|info|warn|warning|error|err|"
    r"fatal|critical)\b",
    # a shell command line: a tool and its subcommand, or a common command and a flag or path
    r"^\s*(?:\$\s*|sudo\s+)?(?:git\s+(?:clone|commit|push|pull|checkout|add|status|log|merge|rebase|init|diff|reset|"
    r"stash|fetch|branch)\b|pip3?\s+install\b|npm\s+(?:install|run|i)\b|yarn\s+(?:add|install)\b|docker(?:-compose)?\s+"
    r"(?:run|build|pull|push|exec|compose|ps)\b|kubectl\s+\w|apt(?:-get)?\s+install\b|brew\s+install\b|conda\s+"
    r"(?:install|create|activate)\b|(?:curl|wget)\s+(?:-\w|https?:)|(?:cd|ls|mkdir|rm|chmod|chown|cat|grep|echo|"
    r"export|python3?|node|make|ssh|scp)\s+(?:-{1,2}\w|[~./$]))",
)
# Two different ones of these are code.
_CODE_WEAK = (
    r"[{}]", r";\s*(?:$|\n)", r"==|!=|&&|\|\||\+=|-=|->|::|\+\+", r"\b[a-z_]\w*\([^()\s]*\)",
    r"\breturn\s+[\w\[({\"']", r"\b(?:if|while|for|switch|catch)\s*\(", r"\b(?:null|none|nil|undefined|nan)\b\W*$",
    r"\b[a-z]+_[a-z_]+\b", r"\w\[[\w\"']*\]", r"//|/\*|\*/", r"</?[a-z]+>", r"\b[a-z]\w*\.[a-z]\w*\(",
    r"\b(?:int|str|float|bool|void|char|string)\s+\w+\s*[=;(,)]", r"^\s*(?:#|//)\s*\w",
)
# A strong signal too, looked for apart in the texts with two ";" and two ":" (in the shared search of
# every row, its bounded runs made RE2's DFA cache overflow on varied text: `filters.pattern_search`).
# CSS declarations, or one rule with its selector ("body { background: url('mill.jpg') no-repeat; }")
_CSS = (r"[a-z-]+\s*:\s*[^;:]{1,40};\s*[a-z-]+\s*:\s*[^;:]{1,40};|(?:^|[\s}])[.#]?[a-z][\w-]*\s*\{\s*[a-z-]+\s*:\s*"
        r"[^;:{}]{1,80};?\s*\}")
# Code whose own syntax holds the quotes, so that no quoted text is to be exempted: two HTML attributes
# in a row (`alt="" title="" loading="lazy"`), a CMS shortcode (`[caption id="..."]`, `[/gallery]`)
_CODE_AROUND_QUOTES = (r"(?:\b[a-z][a-z-]*=\"[^\"]*\"\s*){2}|\[/?(?:caption|gallery|embed|video|audio|playlist|"
                       r"vc_[a-z_]+|et_pb_[a-z_]+|su_[a-z_]+|wp_[a-z_]+)\b[^\]]*\]")
_CODE_ANY = "|".join(_CODE_STRONG + _CODE_WEAK)
_CODE_ANY_STRONG = "|".join(f"(?:{p})" for p in _CODE_STRONG)
# A data record, a line of a CSV file written with semicolons ("ts-0042;blumentopf terrakotta 20 cm;12,99;38;auf
# lager"): `_RECORD_FIELDS` short fields or more, two of them numbers, the whole text
_RECORD_FIELDS = 4
_RECORD_NUMBER = re.compile(r"\s*[-+]?[\d.,]*\d[\d.,]*\s*[%€$£¥₽]?\s*")


def _data_record(text: str) -> bool:
    fields = text.split(";")
    return (len(fields) >= _RECORD_FIELDS and "\n" not in text and max(map(len, fields)) <= 60
            and sum(bool(_RECORD_NUMBER.fullmatch(f)) for f in fields) >= 2)


def _code_signals(texts: pa.Array, rows: np.ndarray, min_signals: int) -> np.ndarray:
    """Rows with one strong code signal (`_CSS` among them) or `min_signals` different weak ones;
    `rows` are those that `_CODE_ANY` matches (sorted), the only ones that can have another."""
    out = np.zeros(len(texts), dtype=bool)
    counts = ascii_set_counts(texts, (";", ":", "{"))
    css = np.flatnonzero((counts[:, :2] >= 2).all(axis=1) | (counts >= 1).all(axis=1))
    if css.size:
        out[css] = _np(pc.match_substring_regex(texts.take(pa.array(css)), _CSS))
    records = np.flatnonzero(~out & (counts[:, 0] >= _RECORD_FIELDS - 1))
    if records.size:
        out[records] = [_data_record(t) for t in texts.take(pa.array(records)).to_pylist()]
    rows = rows[~out[rows]]
    if rows.size == 0:
        return out
    strong = search(texts.take(pa.array(rows)), _CODE_ANY_STRONG)
    out[rows[strong]] = True
    rows = rows[~strong]  # the weak signals decide the others
    if rows.size == 0:
        return out
    sub = texts.take(pa.array(rows))
    weak = np.zeros(rows.size, dtype=np.int64)
    for p in _CODE_WEAK:
        weak += _np(pc.match_substring_regex(sub, p))
    out[rows[weak >= min_signals]] = True
    return out


@text_rule("code", screen=lambda cfg: _CODE_ANY)
def code_rule(batch: CaptionBatch, cfg: CodeRule) -> np.ndarray:
    """Fails source code, SQL, shell or JSON: one strong signal, or `min_signals` different weak
    ones. A description that quotes code is kept: no signal outside its quotes, and three words or
    more there."""
    n, quoted = len(batch), batch.quoted_rows  # without a quoted span, the text outside is the text
    on_lower, outside_hit = batch.lower_and_unquoted_matches(_CODE_ANY)
    rows = np.flatnonzero(on_lower)
    if quoted.size == 0:
        return ~_code_around_quotes(batch, _unframed(batch, _code_signals(batch.lower, rows, cfg.min_signals)))
    # the texts and the quoted ones' text outside their quotes judged in one go (one compile of each pattern)
    outside = batch.unquoted_lower.take(pa.array(quoted))
    signals = _code_signals(pa.concat_arrays([batch.lower, outside]),
                            np.concatenate((rows, n + np.flatnonzero(outside_hit))), cfg.min_signals)
    code = signals[:n]
    outside_code = np.zeros(n, dtype=bool)
    outside_code[quoted] = signals[n:]
    rows = np.flatnonzero(code)
    quiet = rows[np.isin(rows, quoted) & ~outside_code[rows]]
    if quiet.size:
        words = _letter_runs(batch.unquoted_lower.take(pa.array(quiet)))
        code[quiet[words >= 3]] = False
    return ~_code_around_quotes(batch, _unframed(batch, code))


def _unframed(batch: CaptionBatch, code: np.ndarray) -> np.ndarray:
    """`code` without the rows that describe the code they show (`_framed_code`)."""
    rows = np.flatnonzero(code)
    if rows.size:
        code[rows[_framed_code(batch.lower.take(pa.array(rows)))]] = False
    return code


# A description that names the code it shows before the code itself ("Screen in a computer lab showing a SQL
# query SELECT title FROM books in a tutorial."): this frame, and `_FRAMED_WORDS` words of letters before it
_CODE_FRAME = (r"\b(?:showing|shows|displaying|displays|with|reads|reading|projecting|projects)\s+(?:(?:a|an|the|some)\s+)?"
               r"(?:[a-z-]+\s+){0,2}(?:query|command|statement|snippet|function|script|terminal|console|code|loop|program"
               r"|programme|traceback|one-liner)\b")
_FRAMED_WORDS = 2


def _framed_code(texts: pa.Array) -> np.ndarray:
    """Per (lowercased) text: it opens on `_FRAMED_WORDS` words of letters or more, then `_CODE_FRAME`,
    and the first code signal comes after the frame (RE2 both, byte offsets)."""
    frame, first = first_match_starts(texts, _CODE_FRAME), first_match_starts(texts, _CODE_ANY)
    out = (frame >= 0) & ((first < 0) | (first >= frame))
    for i in np.flatnonzero(out).tolist():
        opening = texts[i].as_py().encode("utf-8")[: frame[i]].decode("utf-8", errors="ignore")
        out[i] = len(re.findall(r"[a-z]{2,}", opening)) >= _FRAMED_WORDS
    return out


def _code_around_quotes(batch: CaptionBatch, code: np.ndarray) -> np.ndarray:
    """`code`, and the rows with `_CODE_AROUND_QUOTES`, looked for in the texts with two '"' or a "["."""
    rows = np.flatnonzero(~code & ((ascii_char_counts(batch.lower, '"') >= 2) | (ascii_char_counts(batch.lower, "[") > 0)))
    if rows.size:
        code[rows] = _np(pc.match_substring_regex(batch.lower.take(pa.array(rows)), _CODE_AROUND_QUOTES))
    return code


def _letter_runs(texts: pa.Array) -> np.ndarray:
    """Per text: its runs of two letters (`\\pL`) or more. ASCII texts are counted with the ASCII
    letters, the same set there, which RE2 compiles far faster than `\\pL`; others are read off the
    class table (`filters.unicode_classes`)."""
    out = pc.count_substring_regex(texts, r"[A-Za-z]{2,}").to_numpy(zero_copy_only=False).astype(np.int64)
    wide = np.flatnonzero(~_np(pc.string_is_ascii(texts)))
    if wide.size:
        out[wide] = char_classes(texts.take(pa.array(wide))).runs_at_least(BIT["letter"], 2)
    return out


# ---------------------------------------------------------------- camera settings

_SETTINGS = {
    "aperture": r"(?:\bf|ƒ)\s?/\s?\d{1,2}(?:[.,]\d)?\b|\bf\d{1,2}[.,]\d\b|\baperture\b",
    "shutter": r"\b1\s?/\s?\d{1,5}\s?(?:s|sec|secs|seconds?)?\b|\b1\s?/\s?\d{1,5}\s?(?:秒|초)|\b\d{1,2}(?:\.\d)?\s?(?:s|sec)\b(?:\s*exposure)?"
               r"|\bshutter(?: speed)?\b|\bexposure(?: time)?\b",
    "iso": r"\biso\s?:?\s?\d{2,6}\b|\biso\b|\biso\s?(?:感度|感光度|감도)|\b(?:pushed|pulled) (?:to |\+|-)?\d{2,4}\b",  # (push processing: a film's ISO)
    "focal": r"\b\d{1,4}(?:[.,]\d)?\s?mm\b|\bfocal length\b",
    "bias": r"[+\-±]\s?\d(?:[.,]\d)?\s?ev\b|\bev\s?[+\-±]\s?\d(?:[.,]\d)?\b|\bexposure (?:bias|compensation)\b",
    "body": r"\b(?:canon|nikon|sony|fujifilm|fuji|olympus|panasonic|lumix|leica|pentax|hasselblad|ricoh|"
            r"gopro|dji|eos|ilce-?\w+|nikkor|zuiko|sigma|tamron|zeiss|iphone(?: \d+)?(?: pro)?(?: max)?|"
            r"pixel \d\w*|galaxy s\d+\w*|mavic|a7\s?r?\s?(?:i{1,3}|iv|v)?|d\d{3,4}|x-t\d+|x100\w*|5d mark \w+)\b",
    "exif": r"\b(?:exif|white balance|metering(?: mode)?|flash (?:did not fire|fired|off|on)|auto ?focus|"
            r"raw|jpeg fine|color space|srgb|adobe rgb|wb)\b"
            # a phone's lens as EXIF names it ("iPhone 13 Pro back triple camera 5.7mm f/1.5"); a lens's
            # maker designation ("EF-S18-55mm f/3.5-5.6 IS STM", "XF35mmF1.4 R", "DG HSM"); a lens put on a
            # body ("A7III + Sigma 35mm")
            r"|\b(?:back|front|rear)(?: (?:dual|triple|quad|wide|ultra ?wide|telephoto))* camera\b"
            r"|\b(?:is stm|is usm|usm|stm|dg hsm|dg dn|hsm|oss|g master|gm oss|ed vr|af-s|af-p|vr ii|lm wr|r lm wr|"
            r"di iii|di ii|vc usd|ef-s\d+|ef-m\d+|ef\d+|rf\d+|xf\d+|xc\d+|fe \d+|\d+mmf\d)"
            r"|\+\s*(?:sigma|tamron|zeiss|samyang|rokinon|viltrox|tokina|laowa|voigtlander|\d{2,3}\s?mm)\b",
    # a film stock: a setting of its own, not the exposure's ("A Leica M6 loaded with a roll of Kodak Portra 400"
    # describes a camera; "Leica M6, Portra 400, f/2, 1/500" is a settings string by its aperture and shutter)
    "film": r"\b(?:portra|ektar|ektachrome|kodachrome|tri-x|hp5|fp4|delta \d{3,4}|superia|cinestill|velvia|provia|ilford|"
            r"ultramax|gold \d{3})\b",
}
_SETTING_ANY = "|".join(f"(?:{p})" for p in _SETTINGS.values())
_EXPOSURE = frozenset(("shutter", "iso", "bias", "exif"))
_DESCRIBING = re.compile(r"\b(?:a|an|the|of|with|in|on|into|inside)\b")
_SETTING_RE = {k: re.compile(v) for k, v in _SETTINGS.items()}
_ANY_SETTING_RE = re.compile(_SETTING_ANY)
_WORD = re.compile(r"[^\W\d_]{2,}")
_FILLER = frozenset(("shot", "on", "with", "at", "and", "taken", "lens", "camera", "mark", "ii", "iii", "iv",
                     "pro", "max", "mm", "sec", "s", "ev", "by", "f", "the", "a", "photo", "settings",
                     "mode", "speed", "time", "length", "auto", "manual", "priority", "mp",
                     # EXIF tag names of a metadata dump ("Make=Apple Model=iPhone 12 FNumber=1.6")
                     "back", "front", "rear", "dual", "triple", "quad", "wide", "ultra", "telephoto", "apple",
                     "exif", "make", "model", "fnumber", "exposuretime", "exposure", "focallength",
                     "isospeedratings", "datetime", "datetimeoriginal", "lensmodel", "software", "whitebalance",
                     "flash", "meteringmode", "orientation",
                     # what a Software field names
                     "adobe", "photoshop", "lightroom", "classic", "windows", "macintosh", "macos", "ios", "android",
                     "gimp", "snapseed", "vsco", "darktable", "luminar", "picasa",
                     # EXIF labels in Japanese, Chinese and Korean ("絞り値 f/8 シャッタースピード 1/250秒")
                     "絞り値", "絞り", "シャッタースピード", "シャッター速度", "感度", "iso感度", "焦点距離", "露出補正", "露出",
                     "光圈", "快门", "快门速度", "感光度", "焦距", "曝光", "曝光补偿", "조리개", "셔터", "셔터스피드",
                     "셔터속도", "감도", "초점거리", "노출",
                     # a lens after a camera named in other languages ("objectif 24-120 mm")
                     "appareil", "objectif", "objektiv", "objetivo", "obiettivo", "obiektyw", "объектив", "hdr", "ai",
                     # camera, lens, aperture, shutter and exposure labels in the other allowed languages
                     "câmera", "câmara", "cámara", "kamera", "камера", "fotocamera", "fotoaparát", "aparat", "lente",
                     "lensa", "objektif", "abertura", "apertura", "ouverture", "blende", "diaframma", "diafragma",
                     "przysłona", "clona", "bländare", "diyafram", "bukaan", "диафрагма", "діафрагма", "velocidade",
                     "velocidad", "vitesse", "obturador", "obturación", "obturation", "otturatore", "tempo", "verschlusszeit",
                     "belichtungszeit", "sluitertijd", "migawka", "czas", "naświetlania", "závěrka", "slutartid",
                     "enstantane", "kecepatan", "rana", "выдержка", "витримка", "exposição", "exposición", "exposition",
                     "esposizione", "belichtung", "belichting", "ekspozycja", "expozice", "exponering", "pozlama",
                     "eksposur", "focale", "focal", "distância", "distancia", "brennweite", "brandpuntsafstand",
                     "ogniskowa", "ohnisková", "brännvidd", "odak", "sensibilité", "об", "єктив", "máy", "ảnh", "ống",
                     "kính", "khẩu", "độ", "tốc", "màn", "trập", "กล้อง", "เลนส์", "รูรับแสง", "สปีดชัตเตอร์",
                     "ความเร็วชัตเตอร์", "كاميرا", "عدسة", "العدسة", "فتحة", "سرعة", "الغالق", "ملم", "كانون", "نيكون",
                     "سوني"))


# A metadata dump names its fields: two of these fields followed by ":" or "=", or one EXIF tag name
# ("DateTimeOriginal: 2019:07:04 14:23:55", "White balance: Auto, Flash: Off, Metering: Pattern").
_EXIF_FIELD = (
    r"(?:^|[\s,;|(/])(?:exposure(?: time| program| mode| bias| compensation| index)?|aperture|f-?number|"
    r"iso(?: speed)?(?: rating)?|shutter(?: speed)?|focal length|lens(?: model)?|camera(?: model| make| maker)?|"
    r"make|model|white balance|wb|mode|flash|metering(?: mode)?|date taken|date/time(?: original)?|date time(?: original)?|"
    r"colou?r space|orientation|software|scene (?:type|mode|capture type)|gps(?: latitude| longitude| altitude)?|"
    r"focus mode|drive mode|image size|resolution|dimensions|bit depth|bits per sample|compression|exif(?: version)?)"
    r"\s*[:=]"
)
# model-line and lens-line names that follow a camera maker's name
_CAMERA_LINES = (
    r"(?:eos|rebel|alpha|lumix|coolpix|powershot|cyber-?shot|xf|xc|ef|ef-s|ef-m|rf|rf-s|fe|mark|ii|iii|iv|black|silver|"
    r"chrome|body|kit|lens|camera|mirrorless|dslr|digital|summilux|summicron|noctilux|elmarit|elmar|apo|asph|leica|"
    r"zeiss|sigma|tamron|samyang|viltrox|tokina|laowa|voigtlander|nikkor|zuiko|usm|stm|vr|ed|oss|gm|wr|lm|art|"
    r"contemporary|sports|macro|zoom|wide|linear|superview|hero|max|pro|mini|instax|monochrom|rangefinder|gr|xcd|hd|"
    r"fa|da|dfa|pentax|galaxy|note|ultra|plus|mate|pixel|iphone|redmi|quad|triple|dual|xperia|fov|ai|corporation|corp|"
    r"imaging|nikon|canon|sony|fujifilm|olympus|panasonic|hs|is|elph|ixus|mavic|osmo|pocket|action|avata)(?:-[a-z]{1,3})?"
)
_EXIF_TAG_NAMES = (
    r"(?:exposuretime|fnumber|isospeedratings|photographicsensitivity|datetimeoriginal|datetimedigitized|"
    r"focallength(?:in35mmfilm)?|lensmodel|lensmake|whitebalance|meteringmode|exposureprogram|exposurebiasvalue|"
    r"exposuremode|shutterspeedvalue|aperturevalue|maxaperturevalue|exifversion|flashpixversion|colorspace|"
    r"pixelxdimension|pixelydimension|xresolution|yresolution|resolutionunit|ycbcrpositioning|scenecapturetype|"
    r"gpslatitude|gpslongitude|gpsaltitude|subjectdistance|digitalzoomratio|brightnessvalue|sensingmethod)"
)
# a phone or camera named as what took the photo, and nothing else: its model, its lens and its mode
# ("Shot on iPhone 13 Pro", "Shot with Pixel 7 Pro, 5x telephoto"; "Shot on iPhone at the lake" is a caption)
_SHOT_ON = (r"^[\s!-/:-@\[-\x60{-~]*(?:shot|taken|captured|photographed|filmed|recorded) (?:on|with|using|by) (?:an? |my |the )?(?:iphone|ipad|"
            r"pixel|galaxy|samsung|huawei|honor|xiaomi|redmi|mi|oneplus|oppo|vivo|realme|nokia|motorola|moto|sony|xperia|"
            r"canon|nikon|fujifilm|fuji|olympus|om system|panasonic|lumix|leica|pentax|gopro|dji|hasselblad|ricoh|"
            rf"insta360|mavic)\b(?:[ ,/+&·|-]+(?:[a-z.]*\d[a-z0-9.]*|[a-z]|{_CAMERA_LINES}|lite|se|neo|edge|fold|flip|"
            r"tele|telephoto|ultrawide|main|cam|front|back|rear|selfie|portrait|night|sight|astrophotography|motion|mode|"
            r"hdr|raw|proraw|cinematic|optical|sensor|ai|dual|triple|quad|penta|camera))*[\s.,;:!?()\[\]\"'…-]*$")
# ASCII punctuation and spaces a text may open with (RE2's \\W would take any non-ASCII letter too)
_LEAD = r"[\s!-/:-@\[-\x60{-~]*"
_DEVICE = (r"(?:iphone|ipad|google pixel|pixel|galaxy|samsung|huawei|honor|xiaomi|redmi|oneplus|oppo|vivo|realme|nokia|motorola|sony|"
           r"xperia|canon|nikon|fujifilm|fuji|olympus|panasonic|lumix|leica|pentax|gopro|dji|hasselblad|ricoh|insta360|"
           r"华为|小米|三星|苹果)")
# the same in the other allowed languages ("Снято на Samsung Galaxy S21", "iPhone 15 Pro Maxで撮影",
# "Aufgenommen mit dem iPhone 13"), with no more than a model after the device
_SHOT_ON_WIDE = (
    rf"^{_LEAD}(?:(?:zdjęcie|foto|photo|ảnh|bild|фото) )?(?:gemaakt met(?: een| de)?|拍摄于|拍攝於|摄于|攝於|снято на|снято с помощью|знято на|aufgenommen mit(?: dem| der| einem| einer)?|fotografiert mit(?: dem| der)?|"
    rf"pris avec(?: un| une| le| la)?|photographié avec(?: un| une| le| la)?|tomada con(?: un| una| el| la)?|tomado con(?: un| "
    rf"una| el)?|hecha con(?: un| una| el)?|tirada com(?: um| uma| o| a)?|scattata con(?: un| una| il| lo)?|genomen met(?: een| "
    rf"de| het)?|zrobione (?:telefonem |aparatem )?|pořízeno (?:na|s|telefonem)|çekildi|chụp bằng|diambil dengan|"
    rf"用)\s?{_DEVICE}[a-z0-9 .,/+·|-]{{0,30}}(?:拍摄|で撮影|로 촬영|ile çekildi|で撮りました)?[\s.,;:!?()\[\]\"'…。-]*$"
    rf"|^{_LEAD}{_DEVICE}[a-z0-9 .+-]{{0,30}}(?:拍摄|拍攝|で撮影|로 촬영|ile çekildi)[\s.,;:!?()\[\]\"'…。-]*$"
)
# a phone's watermark alone ("HDR AI CAMERA", "AI QUAD CAMERA"); a camera named after a label ("Appareil : Nikon Z6")
_WATERMARK = (rf"^\W*(?:{_DEVICE}[a-z0-9 .+-]{{0,20}}\s*[·|•,-]?\s*)?(?:(?:hdr|ai|dual|triple|quad|penta|night|portrait|"
              rf"ultra ?wide|\d{{2,3}} ?mp)\s+){{1,4}}(?:camera|cam)(?:\s*[·|•,-]\s*{_DEVICE}[a-z0-9 .+-]{{0,20}})?\W*$"
              r"|^\W*(?:camera|kamera|appareil(?: photo)?|cámara|câmera|fotocamera|aparat|fotoaparát|камера|カメラ|相机|카메라)"
              r"\s*[:：]\s*(?:canon|nikon|sony|fujifilm|fuji|olympus|panasonic|lumix|leica|pentax|ricoh|hasselblad|sigma|gopro|"
              r"dji|iphone|pixel|samsung|galaxy|huawei|xiaomi|apple)\b")
_EXIF_TAG = (
    rf"\b{_EXIF_TAG_NAMES}\s*[:=]|\b{_EXIF_TAG_NAMES}\b[^:=\n]{{0,40}}\b{_EXIF_TAG_NAMES}\b"  # or two names, unlabelled
    rf"|{_SHOT_ON}|{_SHOT_ON_WIDE}|{_WATERMARK}"
    r"|^\W*gps\W*-?\d{1,3}\.\d+"  # a photo's coordinates
    # the Software and Model fields: an editor's stamp, a camera body named alone
    r"|^\W*(?:created|edited|made|processed|exported|retouched) (?:with|in|using|by) (?:adobe |the )?(?:photoshop|"
    r"lightroom|gimp|snapseed|vsco|canva|picsart|capture one|affinity photo|darktable|luminar)\b|\bvsco (?:preset|filter)\b"
    r"|\b\d{2,4} ?dpi\b|^\W*exif\b"  # a text labelled as EXIF
    r"|^\W*software\s*[:=]\s*(?:adobe |the )?(?:photoshop|lightroom|gimp|snapseed|vsco|capture one|affinity photo|"
    r"darktable|luminar|picasa|\d)"
    # a camera body (and its lens) named alone: a maker, then model designations (with a digit), model-line
    # and lens-line names ("Leica M10-R, Summilux 50", "Fujifilm X-T4 | XF 35mm f/1.4 R")
    r"|^\W*(?:canon|nikon|sony|fujifilm|olympus|panasonic|leica|pentax|casio|ricoh|kodak|minolta|konica minolta|"
    rf"hasselblad|sigma|gopro|dji|samsung|huawei|xiaomi|apple|google|oneplus|oppo|vivo|honor)(?:[ ,|+/&·.]+(?:[a-z0-9\-./:()]*\d[a-z0-9\-./:()]*|[a-z]|{_CAMERA_LINES})){{1,8}}"
    r"[\s.,;:!?()\[\]\"'…-]*$"
)
_EXIF_DUMP_FIELDS = 2
# the `_EXIF_TAG` forms without ":" or "=": how such a text starts, or a resolution
_EXIF_BARE = (r"^\W*(?:gps|exif|created|edited|made|processed|exported|retouched|canon|nikon|sony|fujifilm|olympus|"
              r"panasonic|leica|pentax|casio|ricoh|kodak|minolta|konica|hasselblad|sigma|gopro|dji)\b|\bvsco\b|\bdpi\b"
              rf"|^\W*(?:shot|taken|captured|photographed|filmed|recorded) |\b{_EXIF_TAG_NAMES}\b|{_SHOT_ON_WIDE}"
              r"|^\W*(?:samsung|huawei|xiaomi|apple|google|oneplus|oppo|vivo|honor)\b"
              rf"|{_WATERMARK}")
_EXIF_NAMES_RE = re.compile(f"{_EXIF_FIELD}|{_EXIF_TAG}")


def _exif_dumps(text: pa.Array, max_other_words: int) -> np.ndarray:
    """Per text: a metadata dump (`_EXIF_FIELD`, `_EXIF_TAG`) with at most `max_other_words` words
    besides the fields, their values and the settings (a description with the photo's settings
    after it is kept), looked for in the texts with ":" or "=" or a bare form (`_EXIF_BARE`)."""
    out = np.zeros(len(text), dtype=bool)
    rows = np.flatnonzero((ascii_char_counts(text, ":=") > 0) | search(text, _EXIF_BARE))
    if rows.size:
        sub = text.take(pa.array(rows))
        fields = pc.count_substring_regex(sub, _EXIF_FIELD).to_numpy(zero_copy_only=False)
        rows = rows[(fields >= _EXIF_DUMP_FIELDS) | search(sub, _EXIF_TAG)]
    for i, t in zip(rows.tolist(), text.take(pa.array(rows)).to_pylist()):
        rest = [w for w in _WORD.findall(_EXIF_NAMES_RE.sub(" ", _ANY_SETTING_RE.sub(" ", t))) if w not in _FILLER]
        out[i] = len(rest) <= max_other_words
    return out


@text_rule("camera_settings")
def camera_settings_rule(batch: CaptionBatch, cfg: CameraSettingsRule) -> np.ndarray:
    """Fails EXIF / camera-setting strings: at least `min_settings` kinds of setting and at most
    `max_other_words` other words; or a metadata dump naming two camera fields ("White balance:
    Auto, Flash: Off") or one EXIF tag ("ExposureTime=1/320")."""
    text = batch.unquoted_lower
    keep = ~_exif_dumps(text, cfg.max_other_words)
    rows = np.flatnonzero(keep & (batch.unquoted_ascii_counts(DIGITS) > 0))  # an f-number, a shutter speed, ISO or a focal length has digits
    if rows.size:
        rows = rows[search(text.take(pa.array(rows)), _SETTING_ANY)]
    for i, t in zip(rows.tolist(), text.take(pa.array(rows)).to_pylist()):
        found = {k for k, p in _SETTING_RE.items() if p.search(t)}
        if len(found) < cfg.min_settings:
            continue
        rest = [w for w in _WORD.findall(_ANY_SETTING_RE.sub(" ", t)) if w not in _FILLER]
        # a body, a focal length and an f-number with words around them describe a camera or a lens
        # ("Nikon D750 with a 50mm f/1.8 lens on a tripod"); settings strings give an exposure
        # (with a film stock, an article or a preposition too: "... loaded with a roll of Kodak Portra 400";
        # not "Leica M6, Summicron 35mm, Kodak Portra 400")
        keep[i] = len(rest) > cfg.max_other_words or (not found & _EXPOSURE and bool(rest) and (
            "film" not in found or _DESCRIBING.search(t) is not None))
    return keep


# ---------------------------------------------------------------- keyword lists

# (The lookahead changes no match: it lets the search skip the other characters fast.)
# (a "/" between Han or Kana characters parts items too: "レディース/トップス/長袖/無地")
# (a comma between two digits is a decimal or thousands mark: "27,5 cm", "4,500원")
_ITEM_SEPARATOR = re.compile(r"(?=[\s,;、，；|｜・،؛/])\s*(?:(?<!\d),|,(?!\d)|[;、，；・،؛]|\s[|/·•»>]\s|[|｜]|\s-\s"
                             r"|(?<=[\u3040-\u30ff\u3400-\u9fff])/(?=[\u3040-\u30ff\u3400-\u9fff]))\s*")
_STRONG_SEPARATOR = re.compile(r"[|｜/·•»>]")
# a slash between two letters: items when there are as many of them as a list has ("black/white" is one)
_TIGHT_SLASH = re.compile(r"(?<=[^\W\d_])/(?=[^\W\d_])")
_HASHTAG = r"(?:^|\s)#[^\s#]{2,}"
# Chinese particles and Japanese ones (written in kana): an item holding one is a phrase, not a keyword
_FUNCTION_CHARS = frozenset("的在和着了是有与及把被从向のはがをにでへ")
# "and" and "or" in the allowed languages: an enumeration whose last item joins two words with one is
# a sentence's ("... peynir, zeytin, bal, kaymak ve yumurta"); a tag list runs on without one. (Not
# the words that are also articles or prepositions of another: Czech "a", judged apart by `_last_item_joined`,
# Dutch "en" and "of".)
_LAST_ITEM_CONJUNCTIONS = frozenset((
    "and", "or", "und", "oder", "et", "ou", "y", "e", "i", "oraz", "lub", "и", "или", "і", "або", "ve", "veya",
    "nebo", "och", "eller", "dan", "atau", "và", "hoặc", "و", "أو", "และ", "หรือ", "및", "그리고",
))


# Every `_ITEM_SEPARATOR` match holds one of these characters, and every `_STRONG_SEPARATOR` match is one.
_SEPARATOR_ASCII, _SEPARATOR_WIDE = ",;|/>-", "[、，；｜·•»・،؛]"
_STRONG_ASCII, _STRONG_WIDE = "|/>", "[｜·•»]"


_ASCII_ALNUM = "".join(c for c in map(chr, range(128)) if c.isalnum())


def _ascii_word_starts(texts: pa.Array) -> np.ndarray:
    """Per text: its whitespace-separated tokens that start with an ASCII letter or digit."""
    data, offsets = utf8_bytes(texts)
    starts = token_starts(data, offsets)
    return rows_of(offsets, starts[ascii_hits(data[starts], _ASCII_ALNUM)])


# letters only Vietnamese writes among the allowed languages
_VIETNAMESE = re.compile("[ơƠưƯđĐ\u1ea0-\u1ef9]")


def _may_be_keyword_lists(text: pa.Array, rows: np.ndarray, cfg: KeywordListRule) -> np.ndarray:
    """Those of `rows` that can split into as many items as `keyword_list_rule` needs (k separator
    characters make k + 1 items at most) with few enough words per item: every whitespace-separated
    token is at least one word of an item when it starts with an ASCII letter or digit (and an SEO list's
    items hold a word more: `keyword_list_rule`)."""
    if rows.size == 0:
        return rows
    sub = text.take(pa.array(rows))
    marks = ascii_char_counts(sub, _SEPARATOR_ASCII)
    strong = ascii_char_counts(sub, _STRONG_ASCII) > 0
    wide = np.flatnonzero(_np(pc.invert(pc.string_is_ascii(sub))))
    if wide.size:
        wide_sub = sub.take(pa.array(wide))
        marks[wide] += pc.count_substring_regex(wide_sub, _SEPARATOR_WIDE).to_numpy(zero_copy_only=False)
        strong[wide] |= _np(pc.match_substring_regex(wide_sub, _STRONG_WIDE))
    most_items = marks + 1
    possible = most_items >= np.where(strong, cfg.min_items - 1, cfg.min_items)
    if possible.any():
        words = _ascii_word_starts(sub)
        possible &= words <= (cfg.max_item_words + 1) * most_items  # (an SEO list's items may hold a word more)
    return rows[possible]


def _runs_or_lists(batch: CaptionBatch, cfg: KeywordListRule) -> np.ndarray:
    """Per row: no list separator at all (outside quotes), or as many as a list has (`min_items` -
    1); one or two make clauses or a title's parts ("... 180 x 90 cm, seats six people
    comfortably", "Oak Dining Table - Seats Six - Natural Finish")."""
    separators = batch.unquoted_ascii_counts(LIST_SEPARATORS_ASCII)
    dashed = np.flatnonzero(batch.unquoted_ascii_counts("-") > 0)  # " - " sets a title's parts apart too
    if dashed.size:
        separators[dashed] += pc.count_substring(batch.unquoted_lower.take(pa.array(dashed)), " - ").to_numpy(
            zero_copy_only=False)
    return (separators == 0) | (separators >= cfg.min_items - 1)


# Latin letters with or without marks (and punctuation): the script of the `soup_languages`
_LATIN_TEXT = r"^[\x00-\x{24F}\x{1E00}-\x{1EFF}\x{2000}-\x{206F}]*$"


_SENTENCE_CASE = re.compile(r"\s*[A-Z][a-z]*(?:[^A-Za-z]+[a-z0-9][a-z0-9]*)+[^A-Za-z]*$")


_SOUP_LOWERCASE_MORE = 2
# ... (small letters and spaces, and an acronym in capitals: "... network hardware rack cables technology IT
# infrastructure")
_SMALL_LETTERS = r"^ *(?:[a-z]+|[A-Z]{2,5})(?: +(?:[a-z]+|[A-Z]{2,5}))* *$"


def _keyword_soup(batch: CaptionBatch, cfg: KeywordListRule) -> np.ndarray:
    """Per row: ASCII text of at least `min_soup_words` words (outside quoted spans) without a single
    function word, not ending a sentence ("." "!" "?"), with no list separator or as many as a list
    has (`min_items` - 1): keywords run together. A description of that length has an article, a
    preposition, a conjunction or a verb. Text in Latin letters with marks counts as ASCII text
    where lid.176 reads it as one of `soup_languages` ("Hund Welpe Haustier süß Tier Fell braun")."""
    words = batch.unquoted_words
    least = min(w for w in (cfg.min_soup_words, cfg.min_short_soup_words) if w) if cfg.min_soup_words else 0
    long_enough = words.counts >= least
    latin = ~_np(batch.non_ascii)
    marked = np.flatnonzero(long_enough & ~latin) if cfg.soup_languages else np.zeros(0, dtype=np.int64)
    if marked.size:
        latin[marked] = _np(pc.match_substring_regex(batch.text.take(pa.array(marked)), _LATIN_TEXT))
    out = long_enough & latin & _runs_or_lists(batch, cfg)
    # in small letters and spaces alone (`_SMALL_LETTERS`: no mark, no digit: an SEO run as typed), a run of
    # `_SOUP_LOWERCASE_MORE` words over `min_short_soup_words` may hold verb forms ("podcast studio microphone
    # radio broadcast audio recording mic headphones"), and one of `min_soup_words` a function word ("hotel
    # reception lobby front desk check in hospitality hotel interior luxury hotel service")
    small = np.zeros(len(batch), dtype=bool)
    maybe_small = np.flatnonzero(out)
    if maybe_small.size:
        small[maybe_small] = _np(pc.match_substring_regex(batch.text.take(pa.array(maybe_small)), _SMALL_LETTERS))
    # shorter runs (the verb forms are English ones): no digit, no verb form, and no word making up
    # half of it (that is for the repetition rules)
    short = out & (words.counts < cfg.min_soup_words)
    if short.any():
        out[short & (batch.unquoted_ascii_counts(DIGITS) > 0)] = False
        verbs = _verb_forms(words.dictionary)
        verb_rows = np.bincount(words.row, weights=verbs[words.ids], minlength=len(batch)) > 0
        out[short & verb_rows & ~(small & (words.counts >= cfg.min_short_soup_words + _SOUP_LOWERCASE_MORE))] = False
    rows = np.flatnonzero(out)
    if rows.size == 0:
        return out
    data, offsets = utf8_bytes(batch.text)
    last = data[offsets[rows + 1] - 1]  # every such row is non-empty
    out[rows[(last == ord(".")) | (last == ord("!")) | (last == ord("?"))]] = False
    if out.any():
        function = _np(pc.is_in(words.dictionary, value_set=_function_word_set(cfg.function_words)))
        hits = np.bincount(words.row, weights=function[words.ids], minlength=len(batch))
        out &= (hits == 0) | (small & (hits <= 1) & (words.counts >= cfg.min_soup_words))
    marked = np.flatnonzero(out & _np(batch.non_ascii))
    if marked.size:  # the language of these few rows only
        lang = batch.language_of(marked)[0]
        out[marked[~_np(pc.is_in(lang, value_set=pa.array(cfg.soup_languages, pa.string())))]] = False
    # a shorter run in ASCII written as a sentence (a capital first, none after) in a language other than
    # English and the `soup_languages`: Indonesian, Malay or Turkish describe with nouns alone ("Sepatu kulit
    # pria warna cokelat tua"; their keyword runs are in small letters: "pemandangan alam pantai sunset ...")
    plain = np.flatnonzero(short & out & ~_np(batch.non_ascii))
    if plain.size:
        plain = plain[[_SENTENCE_CASE.match(t) is not None for t in batch.text.take(pa.array(plain)).to_pylist()]]
    if plain.size:
        lang = batch.language_of(plain)[0]
        out[plain[~_np(pc.is_in(lang, value_set=pa.array(("en",) + tuple(cfg.soup_languages), pa.string())))]] = False
    starts = np.cumsum(words.counts) - words.counts  # a row's words are contiguous
    for i in np.flatnonzero(short & out).tolist():  # the few shorter runs left
        ids = words.ids[starts[i] : starts[i] + words.counts[i]]
        if 2 * np.unique(ids, return_counts=True)[1].max() >= ids.size:  # one word half the run: a repetition
            out[i] = False
    return out


# A word that starts with a capital letter, and one that starts with any letter, in a text after a
# space (Arrow counts from where the last match ended, and "^" would match there again).
_CAPITAL_START = r"\s[\p{Lu}\p{Lt}]"
_LETTER_START = r"\s\pL"


_LONG_TITLE = 12  # words: a title this long with a function word in it is a listing's run of keywords


def _title_case_run(batch: CaptionBatch, cfg: KeywordListRule) -> np.ndarray:
    """Per row: a product or stock title with every word capitalised ("Robe Femme Été Longue Bohème
    Fleurie Plage", "Wireless Bluetooth Earbuds Noise Cancelling ... for iPhone Android"): at least
    `min_title_case_words` words, `title_case_share` or more of those that start with a letter
    starting with a capital, at most one function word in seven (and where there is one, written
    with a capital or in a title of `_LONG_TITLE` words or more), no digit (a model's name: "Apple
    iPhone 15 Pro Max Natural Titanium 256GB"), no sentence end (".", "!", "?") and no list
    separator, or as many as a list has (`_runs_or_lists`).
    Function words, which a title may leave in small letters, do not count towards the share. A
    title of a work or a place has its articles and prepositions ("Portrait of a Young Woman with a
    Pearl Earring"), a stock photo's title a verb before one ("... Puppy Playing In Autumn Leaves");
    German capitalises its nouns, not its verbs, adjectives and articles."""
    out = np.zeros(len(batch), dtype=bool)
    if not cfg.min_title_case_words:
        return out
    words = batch.unquoted_words
    rows = np.flatnonzero((words.counts >= cfg.min_title_case_words) & _runs_or_lists(batch, cfg)
                          & (batch.unquoted_ascii_counts(DIGITS) == 0))
    if rows.size == 0:
        return out
    data, offsets = utf8_bytes(batch.text)
    last = data[np.maximum(offsets[rows + 1] - 1, 0)]
    rows = rows[(last != ord(".")) & (last != ord("!")) & (last != ord("?"))]
    if rows.size == 0:
        return out
    sub = pc.binary_join_element_wise(" ", batch.text.take(pa.array(rows)), "")
    capital = pc.count_substring_regex(sub, _CAPITAL_START).to_numpy(zero_copy_only=False)
    enough = capital >= cfg.min_title_case_words - 1  # (the share cannot be met with fewer)
    rows, sub, capital = rows[enough], sub.filter(pa.array(enough)), capital[enough]
    if rows.size == 0:
        return out
    lettered = pc.count_substring_regex(sub, _LETTER_START).to_numpy(zero_copy_only=False)
    function = _np(pc.is_in(words.dictionary, value_set=_function_word_set(cfg.function_words)))
    hits = np.bincount(words.row, weights=function[words.ids], minlength=len(batch))[rows]
    # the share among the words other than function words, which a title may leave in small letters
    titled = ((lettered >= cfg.min_title_case_words) & (capital >= cfg.title_case_share * (lettered - hits))
              & (7 * hits <= lettered))
    # a function word in small letters in a short title joins a phrase, as a product's own name has it
    # ("Canvas Tote Bag with Printed Lemon Pattern"); a listing capitalises it too ("... Boho Na Wesele")
    # or runs on ("... Headphones with Charging Case for iPhone Android")
    titled &= (hits == 0) | (capital >= lettered) | (lettered >= _LONG_TITLE)
    verb = _verb_forms(words.dictionary)
    starts = np.cumsum(words.counts) - words.counts
    for i in rows[titled].tolist():
        # a verb form before a function word is a clause ("Golden Retriever Puppy Playing In Autumn Leaves")
        ids = words.ids[starts[i] : starts[i] + words.counts[i]]
        out[i] = not (verb[ids[:-1]] & function[ids[1:]]).any()
    return out


# Korean writes its particles and verb endings onto the word before them ("마을의", "책을", "있다"):
# a run of Hangul words none of which ends in one is a tag run ("여름 원피스 여성 의류 데일리룩").
# (Nouns ending in these syllables, "고양이", "제주도", keep a run; the rule errs towards keeping.)
_HANGUL_ENDINGS = "의을를이가은는에와과로도서고며다요한된던게지면께랑든만들"


def _hangul_syllables_but(chars: str) -> str:
    """An RE2 class of the Hangul syllables (U+AC00-U+D7A3) and digits but `chars`."""
    cut = sorted(ord(c) for c in chars)
    runs, start = [], 0xAC00
    for c in cut + [0xD7A4]:
        if c > start:
            runs.append(f"\\x{{{start:X}}}-\\x{{{c - 1:X}}}")
        start = c + 1
    return "[0-9" + "".join(runs) + "]"


def _korean_particle(word: str) -> bool:
    """A Hangul word ending in a particle or verb ending (`_HANGUL_ENDINGS`): "위에", "화분이", "있다"."""
    return "\uac00" <= word[-1:] <= "\ud7a3" and word[-1] in _HANGUL_ENDINGS


_HANGUL_TAG = rf"[0-9\x{{AC00}}-\x{{D7A3}}]*{_hangul_syllables_but(_HANGUL_ENDINGS)}"
# A size, a century or a decade among the items: a catalogue entry ("Ceramic bowl, 12 cm diameter,
# glazed stoneware, 1960s", "Икона, дерево, темпера, XV век", "色絵皿、有田焼、江戸時代、径21.5cm"), not tags
_CATALOGUE_FACT = re.compile(
    r"\d(?:[.,]\d+)? ?(?:cm|inch(?:es)?|인치|센티미터|インチ|センチ|英寸|厘米)(?!\w)|\b1\d{3}s\b|\b1\d{3}年代|(?<![a-z])[xvi]{1,5} (?:век|ст\.|century|"
    r"siècle|secolo|siglo|jh\.|wiek|století)|\b\d{1,2}(?:th|st|nd|rd) century\b|世紀|世纪|時代|时代|\bcirca\b|\bc\. ?1\d{3}\b")
_DESCRIPTION_WORDS = 4
_SHORT_TAG = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]{1,3}")
_HAN_KANA_WORD = r"[0-9a-z]{0,4}[\p{Han}\p{Hiragana}\p{Katakana}ー][\p{Han}\p{Hiragana}\p{Katakana}ー0-9a-z]{0,7}"
_TAG_LABEL = (
    r"^\W*(?:tags?|tagged|keywords?|key words|hashtags?|labels?|categories|schlagwörter|stichwörter|etiquetas|"
    r"palabras clave|mots[- ]clés|parole chiave|trefwoorden|ключевые слова|теги|标签|关键词|關鍵詞|タグ|キーワード|태그|"
    r"키워드)\s*[:：]"
)
# English "-ing" and "-ed" forms, and Indonesian verbs made with a prefix and "-kan" or "-i"
# ("diselimuti", "menampilkan")
_VERB_FORM = r"^(?:[a-z]+-)?[a-z]{2,}(?:ing|ed)$|^(?:di|me[mn]?g?|ber|ter)[a-z]{3,}(?:kan|i)$"
# words in "-ing" or "-ed" that a keyword run has as nouns or adjectives
_ING_NOUN_WORDS = (
    "wedding building clothing morning evening ring spring king thing things painting drawing ceiling meeting "
    "swimming camping fishing hiking skiing surfing cycling running shopping cooking baking gardening gaming "
    "learning training reading writing coding streaming "
    "sailing boating dancing bedding lighting roofing flooring parking housing marketing branding "
    "wrapping packaging printing engineering landscaping sunning stunning amazing interesting relaxing "
    "bodybuilding banking investing trading accounting consulting recycling farming mining hunting climbing boxing "
    "wrestling skating snowboarding skateboarding jogging bowling sewing knitting crafting scrapbooking blogging "
    "networking computing manufacturing plumbing heating cleaning catering tutoring parenting nursing healing "
    "rowing kayaking canoeing rafting diving snorkeling golfing hairstyling styling modeling modelling backpacking trekking hitchhiking breathing "
    "pudding dumpling earring earrings offspring sibling seedling duckling darling shed bed red sled seed weed "
    "reed feed speed breed need steed tweed bred hundred sacred naked wicked rugged ragged jagged crooked "
    "beloved handcrafted handmade colored coloured textured isolated assorted mixed"
)
_ING_NOUNS = pa.array(sorted(set(_ING_NOUN_WORDS.split())))


def _verb_forms(dictionary: pa.Array) -> np.ndarray:
    """Per distinct word: a verb form (`_VERB_FORM`) and none of the nouns `_ING_NOUNS` lists."""
    verb = _np(pc.match_substring_regex(dictionary, _VERB_FORM))
    verb[verb] = ~_np(pc.is_in(dictionary.filter(pa.array(verb)), value_set=_ING_NOUNS))
    return verb


@lru_cache(maxsize=8)
def _shop_word_patterns(words: tuple[str, ...]) -> tuple[str, str, re.Pattern]:
    """(RE2 screens for the lowercased texts holding any of `words`: anywhere, then as a whole
    word; a Python pattern finding each as a whole word). A word of Han, Kana or Hangul counts
    anywhere: those scripts run words together."""
    cjk = [w for w in words if _CJK_START.match(w)]
    spaced = "|".join(f"(?:{w})" for w in words if not _CJK_START.match(w)) or "(?!)"
    anywhere = "|".join(f"(?:{w})" for w in words)
    found = rf"(?<![^\W_])(?:{spaced})(?![^\W_])" + "".join(f"|(?:{w})" for w in cjk)
    bounded = rf"(?:^|[^\pL\pN])(?:{spaced})(?:$|[^\pL\pN])" + "".join(f"|(?:{w})" for w in cjk)
    return anywhere, bounded, re.compile(found, re.IGNORECASE)


_CJK_START = re.compile("[\u1100-\u11ff\u3040-\u30ff\u3400-\u9fff\uac00-\ud7a3]")


def _shop_word_runs(batch: CaptionBatch, cfg: KeywordListRule) -> np.ndarray:
    """Per row: `min_shop_words` different shop words (`shop_words`) outside quoted spans, and no
    closing ".", "!" or "?"."""
    out = np.zeros(len(batch), dtype=bool)
    if not cfg.min_shop_words or not cfg.shop_words:
        return out
    anywhere, bounded, finder = _shop_word_patterns(cfg.shop_words)
    text = batch.unquoted_lower
    # one scan for the words anywhere (literals: fast), then the few rows it finds for whole words
    rows = np.flatnonzero(search(text, anywhere, _np(batch.non_ascii)))
    if rows.size:
        rows = rows[search(text.take(pa.array(rows)), bounded)]
    for i, t in zip(rows.tolist(), text.take(pa.array(rows)).to_pylist()):
        end = t.rstrip()[-1:]
        out[i] = end not in (".", "!", "?") and len({m.group(0) for m in finder.finditer(t)}) >= cfg.min_shop_words
    return out


@lru_cache(maxsize=8)
def _function_word_set(words: tuple[str, ...]) -> pa.Array:
    return pa.array(sorted(set(words)), pa.string())


@text_rule("keyword_list")
def keyword_list_rule(batch: CaptionBatch, cfg: KeywordListRule) -> np.ndarray:
    """Fails tag or keyword lists: `min_hashtags` hashtags, or at least `min_items` short items
    (one fewer with pipes, slashes or bullets) of which few hold a function word, none of them a
    phrase of four words or more built with one; or `min_soup_words` words or more run together
    without a function word (`_keyword_soup`); or text that labels itself a tag list ("tags: ..."); or
    Han/Kana words (with ASCII letters or digits) of at most eight characters, `min_items` + 1 or
    more and no particle among them, set apart by spaces (Chinese and Japanese are written without
    them): "夕日 海 ビーチ 夏 旅行". Slashes between letters part items where there are `min_items` - 1
    of them or more ("apartment/interior/living room/sofa/minimalist")."""
    keep = np.ones(len(batch), dtype=bool)
    if cfg.min_soup_words:
        keep &= ~_keyword_soup(batch, cfg)
    keep &= ~_title_case_run(batch, cfg)
    keep &= ~_shop_word_runs(batch, cfg)
    text = batch.unquoted_lower
    spaced = np.flatnonzero(keep & _np(batch.non_ascii) & (ascii_char_counts(text, " ") >= cfg.min_items))
    if spaced.size:  # each of its words has a Han or Kana character (or "ー"): read off the class table first
        spaced, classes = batch.wide_classes_of(spaced)
        spaced = spaced[classes.count(BIT["per_char_word"]) + classes.count_chars("ー") >= cfg.min_items + 2]
    if spaced.size:
        # (a year or a number among the tags, "... 碎花 2024", or a short Latin one, "... 元素 png", "4k")
        word = rf"(?:{_HAN_KANA_WORD}|[0-9]{{1,4}}(?:-[0-9]{{1,4}}\p{{Han}}?)?|[0-9]{{0,2}}[a-z][a-z0-9]{{0,4}})"
        pattern = rf"^\s*{word}(?:\s+{word}){{{cfg.min_items},}}\s*$"
        listed = spaced[search(text.take(pa.array(spaced)), pattern)]
        # (a particle set apart is a sentence spaced out: "東京 タワー の 夜景 を 撮影"; with one word
        # fewer than the list has, each a tag of Han or Kana alone, three characters at most: a product's
        # title spaces out longer words and sizes, "レディース ウールコート ロング丈 ベージュ Mサイズ")
        keep[[i for i, t in zip(listed.tolist(), text.take(pa.array(listed)).to_pylist())
              if not _FUNCTION_CHARS.intersection(t.split())
              and (len(t.split()) > cfg.min_items + 1 or all(_SHORT_TAG.fullmatch(w) for w in t.split()))]] = False
    if cfg.min_short_soup_words:
        hangul = np.flatnonzero(keep & _np(batch.non_ascii) & (batch.unquoted_words.counts >= cfg.min_short_soup_words))
        if hangul.size:
            pattern = rf"^\s*{_HANGUL_TAG}(?:\s+{_HANGUL_TAG}){{{cfg.min_short_soup_words - 1},}}\s*$"
            sub = text.take(pa.array(hangul))
            run = _np(pc.match_substring_regex(sub, pattern))
            # with a word more, one of them may be a noun that ends in a particle's syllable ("... 회의 비즈니스
            # 팀워크 업무 일러스트": a meeting), but not the last (a sentence ends on its verb)
            longer = ~run & (batch.unquoted_words.counts[hangul] > cfg.min_short_soup_words)
            if longer.any():
                one_ending = rf"^\s*(?:{_HANGUL_TAG}\s+)*[0-9\x{{AC00}}-\x{{D7A3}}]+(?:\s+{_HANGUL_TAG})+\s*$"
                run[longer] = _np(pc.match_substring_regex(sub.filter(pa.array(longer)), one_ending))
            keep[hangul] = ~run
    labelled = np.flatnonzero(keep & ((batch.unquoted_ascii_counts(":") > 0) | _np(batch.non_ascii)))  # "：" is not ASCII
    if labelled.size:
        keep[labelled] = ~_np(pc.match_substring_regex(text.take(pa.array(labelled)), _TAG_LABEL))
    tagged = np.flatnonzero(batch.unquoted_ascii_counts("#"))
    if tagged.size:
        hashtags = pc.count_substring_regex(text.take(pa.array(tagged)), _HASHTAG).to_numpy(zero_copy_only=False)
        some = hashtags >= min(2, cfg.min_hashtags)
        tagged, hashtags = tagged[some], hashtags[some]
        # a description with its tags after it is kept: tags alone, or more tags than other words, are a
        # list; two tags are one when nothing but tags and symbols is there ("#blessed 🙏 #grateful")
        others = np.array([sum(not w.startswith("#") and any(c.isalnum() for c in w) for w in t.split())
                           for t in text.take(pa.array(tagged)).to_pylist()], dtype=np.int64)
        listed = (hashtags >= cfg.min_hashtags) & ((others < _DESCRIPTION_WORDS) | (hashtags > others))
        keep[tagged[listed | (others == 0)]] = False
    separators = batch.unquoted_ascii_counts(LIST_SEPARATORS_ASCII)
    wide = np.flatnonzero(_np(batch.non_ascii))
    if wide.size:
        separators[wide] += pc.count_substring_regex(text.take(pa.array(wide)), r"[、，；｜·•・،؛]").to_numpy(
            zero_copy_only=False)
    enough = separators >= cfg.min_items - 2
    dashed = np.flatnonzero(~enough & (batch.unquoted_ascii_counts("-") > 0))
    if dashed.size:  # " - " separates items too
        enough[dashed] = _np(pc.match_substring(text.take(pa.array(dashed)), " - "))
    rows = _may_be_keyword_lists(text, np.flatnonzero(enough & keep), cfg)
    function = frozenset(cfg.function_words)
    for i, t in zip(rows.tolist(), text.take(pa.array(rows)).to_pylist()):
        split = _ITEM_SEPARATOR.split(t.replace("#", " "))
        if len(_TIGHT_SLASH.findall(t)) >= cfg.min_items - 1:  # "apartment/interior/living room/sofa"
            split = [x for s in split for x in _TIGHT_SLASH.split(s)]
        items = [x for x in (s.strip(" .!?。！:：-") for s in split) if x]
        need = cfg.min_items - 1 if _STRONG_SEPARATOR.search(t) else cfg.min_items
        # (Chinese or Japanese phrases parted by "，" and closed by "。" are a description's clauses)
        if len(items) < need or (t.rstrip().endswith(("。", "！")) and "，" in t):
            continue
        words = [x.split() for x in items]
        # a catalogue entry names its facts in a few items of a few words; twice the items a list needs,
        # three in four of them one word, are tags with a decade among them ("... | sepia | 1920s | archive")
        if _CATALOGUE_FACT.search(t) and not (len(items) >= 2 * cfg.min_items
                                              and sum(len(w) == 1 for w in words) * 4 >= 3 * len(items)):
            continue
        # ("before and after" ends a list with semicolons: a sentence enumerates with commas)
        if (len(words[-1]) >= 3 and _last_item_joined(words[-1], function)
                and not _STRONG_SEPARATOR.search(t) and ";" not in t and "；" not in t):
            continue
        # (a Korean particle only in an item of two words or more: a one-word tag may end in the same syllable)
        has_function = [any(w in function or (len(ws) > 1 and _korean_particle(w)) for w in ws)
                        or bool(_FUNCTION_CHARS & set(x)) for ws, x in zip(words, items)]
        # a phrase: four words or more with a function word, or (in a script without spaces) six
        # characters or more with a particle ("福岡の夜景を撮影した写真")
        # (not one that says another item's keyword again: "food truck for sale" beside "food truck menu")
        phrase = any(f and (len(ws) >= 4 or (len(ws) == 1 and len(x) >= 6 and not x.isascii()))
                     and not _repeats_a_keyword(n, words, function)
                     for n, (f, ws, x) in enumerate(zip(has_function, words, items)))
        # Vietnamese sets its syllables apart, about two to a word ("hình nền điện thoại" is two words)
        mean_words = sum(map(len, words)) / len(items) / (2 if _VIETNAMESE.search(t) else 1)
        share = sum(has_function) / len(items)
        # an SEO list says its keyword again and again ("receita fácil, bolo de chocolate, sobremesa, bolo
        # caseiro, receita de bolo"): where half its items share a word with another, twice the share
        # (and its items are its keyword and a word or two more: a word more per item on average)
        seo = _items_sharing_a_word(words, function) * 2 >= len(items)
        limit = cfg.max_function_share * (2 if seo else 1)
        if not phrase and mean_words <= cfg.max_item_words + seo and share <= limit:
            keep[i] = False
    return keep


def _last_item_joined(last: list[str], function: frozenset[str]) -> bool:
    """The list's last item joins two of its things with a conjunction (`_LAST_ITEM_CONJUNCTIONS`), or with
    Czech or Slovak "a" between two words that are no function words ("pravítko a ořezávátko"; not "on a
    pillow", English's article)."""
    inner = last[1:-1]
    return bool(_LAST_ITEM_CONJUNCTIONS.intersection(inner)) or any(
        w == _CZECH_AND and last[k] not in function and last[k + 2] not in function for k, w in enumerate(inner))


_CZECH_AND = "a"


def _repeats_a_keyword(n: int, words: list[list[str]], function: frozenset[str]) -> bool:
    """Item `n` holds two words of three letters or more, not function words, that another item holds too,
    or starts with another item whole and goes on with `_KEYWORD_MORE` words at most, the first not a function
    word ("matelas mémoire de forme" beside "matelas"; not "white on a freshly mown pitch" beside "white",
    nor "yellow tiles lining the edge of a pool" beside "yellow")."""
    own = {w for w in words[n] if len(w) >= 3 and w not in function}
    # its keyword in two other items or more ("easy crafts for kids" beside "paper plate crafts"), the items
    # all different (a pattern named colour by colour says its items again: "white, black, white, black")
    if (sum(bool(own.intersection(ws)) for m, ws in enumerate(words) if m != n) >= _KEYWORD_ITEMS
            and len({tuple(ws) for ws in words}) == len(words)):
        return True
    return any(len(own.intersection(ws)) >= 2 or (len(ws) < len(words[n]) <= len(ws) + _KEYWORD_MORE
                                                  and words[n][: len(ws)] == ws and len(ws[0]) >= 3
                                                  and words[n][len(ws)] not in function)
               for m, ws in enumerate(words) if m != n and ws)


_KEYWORD_MORE = 3  # words an SEO list's item adds to its keyword ("matelas mémoire de forme")
_KEYWORD_ITEMS = 2  # ... or the other items that say a word of it again


def _items_sharing_a_word(words: list[list[str]], function: frozenset[str]) -> int:
    """How many items hold a word of three letters or more, not a function word, that another item holds too."""
    seen: dict[str, set[int]] = {}
    for n, ws in enumerate(words):
        for w in ws:
            if len(w) >= 3 and w not in function:
                seen.setdefault(w, set()).add(n)
    return len(set().union(*(items for items in seen.values() if len(items) > 1)))
