"""The writing system of each letter, and the lid.176 languages written in each.

A caption whose letters are mostly of a script that none of the allowed languages is written in
(Georgian, Greek, Hebrew, the Indic scripts ... when they are not allowed) is in none of them,
however short: lid.176 is not needed to say so, and the language rule's length exemption, made for
Latin-script captions it misreads ("blue sky" comes out German), does not apply.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

# (first, last code point, script) of the letters of each script (blocks; the letters inside them
# are told by the class table). Letters outside every range are of no listed script.
_RANGES = (
    (0x41, 0x5A, "latin"), (0x61, 0x7A, "latin"), (0xC0, 0x2AF, "latin"), (0x370, 0x3FF, "greek"),
    (0x400, 0x52F, "cyrillic"), (0x530, 0x58F, "armenian"), (0x590, 0x5FF, "hebrew"), (0x600, 0x6FF, "arabic"),
    (0x750, 0x77F, "arabic"), (0x780, 0x7BF, "thaana"), (0x870, 0x8FF, "arabic"), (0x900, 0x97F, "devanagari"),
    (0x980, 0x9FF, "bengali"), (0xA00, 0xA7F, "gurmukhi"), (0xA80, 0xAFF, "gujarati"), (0xB00, 0xB7F, "oriya"),
    (0xB80, 0xBFF, "tamil"), (0xC00, 0xC7F, "telugu"), (0xC80, 0xCFF, "kannada"), (0xD00, 0xD7F, "malayalam"),
    (0xD80, 0xDFF, "sinhala"), (0xE00, 0xE7F, "thai"), (0xE80, 0xEFF, "lao"), (0xF00, 0xFFF, "tibetan"),
    (0x1000, 0x109F, "myanmar"), (0x10A0, 0x10FF, "georgian"), (0x1100, 0x11FF, "hangul"),
    (0x1200, 0x139F, "ethiopic"), (0x1780, 0x17FF, "khmer"), (0x19E0, 0x19FF, "khmer"),
    (0x1C80, 0x1C8F, "cyrillic"), (0x1C90, 0x1CBF, "georgian"), (0x1E00, 0x1EFF, "latin"), (0x1F00, 0x1FFF, "greek"),
    (0x2C60, 0x2C7F, "latin"), (0x2D00, 0x2D2F, "georgian"), (0x2D80, 0x2DDF, "ethiopic"),
    (0x2DE0, 0x2DFF, "cyrillic"), (0x2E80, 0x2FDF, "han"), (0x3005, 0x3007, "han"), (0x3040, 0x30FF, "kana"),
    (0x3130, 0x318F, "hangul"), (0x31F0, 0x31FF, "kana"), (0x3400, 0x4DBF, "han"), (0x4E00, 0x9FFF, "han"),
    (0xA640, 0xA69F, "cyrillic"), (0xA720, 0xA7FF, "latin"), (0xA8E0, 0xA8FF, "devanagari"), (0xA960, 0xA97F, "hangul"),
    (0xA9E0, 0xA9FF, "myanmar"), (0xAA60, 0xAA7F, "myanmar"), (0xAB00, 0xAB2F, "ethiopic"), (0xAB30, 0xAB6F, "latin"),
    (0xAC00, 0xD7FF, "hangul"), (0xF900, 0xFAFF, "han"), (0xFB00, 0xFB06, "latin"), (0xFB13, 0xFB17, "armenian"),
    (0xFB1D, 0xFB4F, "hebrew"), (0xFB50, 0xFDFF, "arabic"), (0xFE70, 0xFEFF, "arabic"), (0xFF21, 0xFF3A, "latin"),
    (0xFF41, 0xFF5A, "latin"), (0xFF66, 0xFF9F, "kana"), (0x20000, 0x323AF, "han"),
)  # fmt: skip

# Every lid.176 label under each script it is written in (tests check that none is left out).
SCRIPT_LANGUAGES = {
    "latin": (
        "af als an ast az bar bcl br bs ca cbk ceb co cs cy da de diq dsb eml en eo es et eu fi fr frr fy ga "
        "gd gl gn gv hif hr hsb ht hu ia id ie ilo io is it jbo jv ku kw la lb li lmo lt lv mg min ms mt mwl "
        "nah nap nds nl nn no oc pam pfl pl pms pt qu rm ro sc scn sco sh sk sl so sq sr su sv sw tk tl tr "
        "uz vec vep vi vls vo wa war yo"
    ),
    "cyrillic": (
        "av ba be bg bs bxr ce cv kk krc kv ky lez mhr mk mn mrj myv os ru rue sah sh sr tg tt tyv uk uz xal"
    ),
    "greek": "el",
    "armenian": "hy",
    "georgian": "ka xmf",
    "hebrew": "he yi",
    "arabic": "ar arz azb ckb fa ku lrc mzn pnb ps sd ug ur",
    "thaana": "dv",
    "devanagari": "bh dty gom hi mai mr ne new sa",
    "bengali": "as bn bpy",
    "gurmukhi": "pa",
    "gujarati": "gu",
    "oriya": "or",
    "tamil": "ta",
    "telugu": "te",
    "kannada": "gom kn",
    "malayalam": "ml",
    "sinhala": "si",
    "thai": "th",
    "lao": "lo",
    "tibetan": "bo",
    "myanmar": "my",
    "khmer": "km",
    "ethiopic": "am",
    "hangul": "ko",
    "han": "ja wuu yue zh",
    "kana": "ja",
}
SCRIPTS = tuple(SCRIPT_LANGUAGES)


@lru_cache(maxsize=1)
def _bounds() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ranges = sorted(_RANGES)
    first = np.array([r[0] for r in ranges], dtype=np.int64)
    last = np.array([r[1] for r in ranges], dtype=np.int64)
    script = np.array([SCRIPTS.index(r[2]) for r in ranges], dtype=np.int64)
    return first, last, script


def script_ids(code_points: np.ndarray) -> np.ndarray:
    """Per code point: the index of its script in `SCRIPTS`, or -1 (none listed)."""
    first, last, script = _bounds()
    at = np.searchsorted(first, code_points, side="right") - 1
    inside = (at >= 0) & (code_points <= last[np.maximum(at, 0)])
    return np.where(inside, script[np.maximum(at, 0)], -1)


def scripts_outside(allow: set[str], macro: dict[str, str]) -> np.ndarray:
    """Per script of `SCRIPTS`: none of its languages is allowed (itself or its macro-language)."""
    return np.array([not any(x in allow or macro.get(x, x) in allow for x in SCRIPT_LANGUAGES[s].split())
                     for s in SCRIPTS], dtype=bool)


def mostly_foreign_script(code_points: np.ndarray, letter: np.ndarray, starts: np.ndarray, foreign: np.ndarray,
                          min_letters: int) -> np.ndarray:
    """Per text (its characters are `code_points[starts[r]:starts[r + 1]]`, `letter` marking the
    letters): more than half of its letters, and `min_letters` at least, are of one script that
    `foreign` marks."""
    n = len(starts) - 1
    pos = np.flatnonzero(letter)
    text_of = np.searchsorted(starts, pos, side="right") - 1
    ids = script_ids(code_points[pos].astype(np.int64))
    letters = np.bincount(text_of, minlength=n)
    hit = ids >= 0
    hit[hit] = foreign[ids[hit]]
    per_script = np.zeros((n, len(SCRIPTS)), dtype=np.int64)
    np.add.at(per_script, (text_of[hit], ids[hit]), 1)
    most = per_script.max(axis=1) if n else np.zeros(0, dtype=np.int64)
    return (most >= max(min_letters, 1)) & (2 * most > letters)
