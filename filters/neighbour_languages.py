"""Languages lid.176 takes for their allowed neighbours, told apart by their own words and letters.

On a short caption lid.176 spreads its belief over related languages: a Slovak caption is Czech at
0.5 and Slovak at 0.41, a Galician one Spanish at 0.8, a Bulgarian one Russian at 0.5 and Bulgarian
at 0.4, a Croatian one (typed without its marks) Polish at 0.92. No score threshold separates them
from the allowed language's own short captions, which lid.176 reads as unsurely ("Кот спит на
диване" is Bulgarian at 0.83). What does separate them is what a reader notices first: the
neighbour's function words ("sa", "cez", "alebo" are Slovak; "og", "ikke" Norwegian or Danish;
"unha", "coa" Galician; "във", "със", "ще" Bulgarian) and letters or spellings its allowed
neighbour never writes (Slovak "ľ", Belarusian "ў", Macedonian "ќ", Catalan "l·l", a Bulgarian "ъ"
before a consonant, a Croatian "lj" or "dj").

`NEIGHBOUR_MARKS` holds, per lid.176 label of such a language, its marks: common words that are
no word of its allowed neighbours (nor common ones of the other allowed languages) and a pattern of
its own letters. `ALLOWED_MARKS` holds the same for the allowed languages, the evidence on the
other side ("ř", "ě", "ů" are Czech; "och", "är", "från" Swedish; "ы", "э", "ё" Russian).
`neighbour_language` judges a caption foreign when a neighbour lid.176 gives some belief to
(``min_score``) has a mark in it and the allowed languages have fewer (none, for one mark).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

# A word: letters with an apostrophe or a Catalan middle dot inside ("d'un", "col·lecció"); the
# pieces either side of an apostrophe count as words too ("mae'r": "mae", "r"; Afrikaans "'n").
_WORD = re.compile(r"[\w'’·]+")


class Marks(NamedTuple):
    words: frozenset[str]
    letters: re.Pattern | None  # letters or spellings of the language alone
    triggers: frozenset[str]  # characters every match of `letters` holds one of (empty: look always)


def _marks(words: str, letters: str | None = None, triggers: str = "") -> Marks:
    return Marks(frozenset(words.split()), re.compile(letters) if letters else None, frozenset(triggers))


# lid.176 labels (macro-languages join them in `neighbour_language`). Words are lowercase; a
# word here is never a common word of an allowed language ("in", "et", "da", "er", "die" are left
# out: English, French, Portuguese, German).
NEIGHBOUR_MARKS = {
    "sk": _marks("sa sú pri cez alebo aj zo vo počas ktorý ktorá ktoré ktorí veľmi medzi sme bol bola "
                 "bolo ešte vedľa spolu", r"[ľĺŕ]", "ľĺŕ"),
    "hr": _marks("iz kod uz ili koji koja koje što šta su nije ispred iznad pored tokom kao preko prema dok "
                 "sa ljeti zimi noću", r"đ|\w(?:lj|dj)|\blj", "đj"),
    "sl": _marks("ob ki tudi ter ponoči kjer zraven pri", r"\wlj|\blj", "j"),
    "ca": _marks("amb els dels pels molt dins davant sota aquest aquesta aquests aquestes seva són és "
                 "damunt perquè", r"l·l", "·"),
    "gl": _marks("unha unhas dun dunha nun nunha coa coas cos á ás pola tamén xunto enriba"),
    "no": _marks("og ikke fra til hvor også jeg ved mellom etter sammen hvit hvite hvitt noen mye veldig gjennom hjemme",
                 r"[øæ]", "øæ"),
    "da": _marks("og ikke fra til hvor også jeg ved af mellem ud sammen hvid hvide nogle meget gennem hjemme", r"[øæ]", "øæ"),
    "af": _marks("'n nie vir hulle sy kinders hul", None),
    "lb": _marks("ass mat vun eng fir gëtt sinn hien hir dës ënner iwwer nieft"),
    "cy": _marks("yr yn mae gyda ac wrth dros mewn ger ym yng ei eu r", r"[ŵŷ]", "ŵŷ"),
    "la": _marks("sunt cum atque quae quod apud ab", None),
    "sw": _marks("kwa katika ya wa ni za cha vya juu huko mwa wake yake", None),
    "tl": _marks("ang ng mga ay nang habang kay sina", None),
    "ro": _marks("și în pe cu din pentru lângă sunt într dintr spre unei unui sau", r"[șțş]", "șțş"),
    "oc": _marks("amb dins sus dins jos", None),
    "eu": _marks("eta bat dira ere baina hau hori dago daude batzuk", r"tx", "x"),
    "be": _marks("каля гэта ля пад ёсць", r"ў|дз[еяію]|і.*ы|ы.*і", "ўдіы"),
    "bg": _marks("се са е ще във със към съм", r"ъ(?=[бвгджзклмнпрстфхцчшщ])|ът\b", "ъ"),
    "mk": _marks("се е од ги ќе", r"[ѓќѕљњџј]", "ѓќѕљњџј"),
}

# Macro-languages whose labels share marks (`macro_languages` of the language rule maps to them).
NEIGHBOUR_MARKS["sr"] = NEIGHBOUR_MARKS["bs"] = NEIGHBOUR_MARKS["sh"] = NEIGHBOUR_MARKS["hbs"] = NEIGHBOUR_MARKS["hr"]
NEIGHBOUR_MARKS["nb"] = NEIGHBOUR_MARKS["nn"] = NEIGHBOUR_MARKS["no"]
_ALL_NEIGHBOURS = tuple({id(m): m for m in NEIGHBOUR_MARKS.values()}.values())

ALLOWED_MARKS = {
    "cs": _marks("se ve ze při pro jsou který která které jako nebo také mezi během velmi", r"[ěřů]", "ěřů"),
    "pl": _marks("jest się przy oraz który która które podczas obok przez", r"[ąęłńśźż]|rz|sz|cz", "ąęłńśźżz"),
    "es": _marks("y los las con están para por muy sobre hay", r"[ñ¿¡]", "ñ¿¡"),
    "pt": _marks("um uma com não em pelo pela são", r"[ãõ]", "ãõ"),
    "it": _marks("il gli della nel sul con è sono degli alla dello questo", None),
    "fr": _marks("le du au aux est sont avec dans sur pour", None),
    "sv": _marks("och är från till ett vid också inte", r"[äö]", "äö"),
    "nl": _marks("het een zijn wordt niet voor naar ook bij aan", r"ij(?![aeou])", "j"),
    "de": _marks("der die das und ist mit ein eine auf im vom zum sich nicht", r"[ßüö]", "ßüö"),
    "ru": _marks("это около", r"[ыэё]", "ыэё"),
    "uk": _marks("під біля це та", r"[їєґ]", "їєґ"),
    "en": _marks("the and with of is are", None),
    "ms": _marks("yang dengan dan ini itu dari sebuah seorang sedang", None),
    "tr": _marks("bir ve ile için bu", r"[ğı]", "ğı"),
    "vi": _marks("của một và những các là", "[ơư\u1ea0-\u1ef9]"),
}


# Function words a neighbour shares with its allowed languages: no evidence of the allowed one when
# the neighbour is lid.176's best guess ("Deda čita novine na klupi.": Serbian at 0.66, and "na" is
# Czech and Polish too)
_SLAVIC = "na v u z s i o a do od po pod za nad pred pri k"
_CYRILLIC = "и в на с по за до от под над у из"
_IBERIAN = "de la el a en un una con e o os as da do no na dos das"
_NORDIC = "en i på med under et av til"
SHARED_WORDS = {code: frozenset(words.split()) for code, words in {
    "sk": _SLAVIC, "hbs": _SLAVIC, "sl": _SLAVIC, "bg": _CYRILLIC, "mk": _CYRILLIC, "be": _CYRILLIC,
    "ca": _IBERIAN, "gl": _IBERIAN, "oc": _IBERIAN, "no": _NORDIC, "da": _NORDIC, "af": "en in op met van is die",
}.items()}
# ... and letters: Belarusian writes "ы", "э", "ё" as Russian does, Galician "ñ" as Spanish does
SHARED_LETTERS = {"be": "ыэё", "gl": "ñ"}


@lru_cache(maxsize=64)
def _allowed_marks(allow: frozenset[str]) -> tuple[Marks, ...]:
    return tuple(ALLOWED_MARKS[a] for a in sorted(allow) if a in ALLOWED_MARKS)


def text_words(lower: str) -> set[str]:
    """The words of a lowercased text, and the pieces of those with an apostrophe."""
    out: set[str] = set()
    for w in _WORD.findall(lower):
        w = w.strip("'’")
        out.add(w)
        if "'" in w or "’" in w:
            out.update(p for p in re.split(r"['’]", w) if p)
    if _AFRIKAANS_ARTICLE.search(lower):
        out.add("'n")
    return out


_AFRIKAANS_ARTICLE = re.compile(r"(?:^|\s)['’]n(?=\s|$)")


def allowed_evidence(lower: str, allow: frozenset[str], neighbour: str | None = None) -> int:
    """How many words and letters of the allowed languages (`ALLOWED_MARKS`) a lowercased text holds,
    not counting the words and letters a `neighbour` language writes too (`SHARED_WORDS`: Afrikaans
    "die" is no German word's evidence; `SHARED_LETTERS`)."""
    if neighbour in SHARED_LETTERS:
        lower = lower.translate(dict.fromkeys(map(ord, SHARED_LETTERS[neighbour])))
    words = text_words(lower) - SHARED_WORDS.get(neighbour, frozenset())
    return sum(_mark_counts(lower, words, _allowed_owners(allow)).values())


def _mark_counts(lower: str, words: set[str], owners: "_Owners") -> dict[int, int]:
    """Per language of `owners` (its index) with marks in the text: how many of its words are in it,
    plus one for its letters (looked for only where the text holds one of their `triggers`)."""
    counts: dict[int, int] = {}
    for w in words & owners.words.keys():
        for i in owners.words[w]:
            counts[i] = counts.get(i, 0) + 1
    for i in {i for c in set(lower) & owners.triggers.keys() for i in owners.triggers[c]} | owners.always:
        if owners.marks[i].letters.search(lower):
            counts[i] = counts.get(i, 0) + 1
    return counts


def has_neighbour_marks(lower: str) -> bool:
    """The lowercased text holds a word or letter of some neighbour language (`NEIGHBOUR_MARKS`)."""
    return bool(_mark_counts(lower, text_words(lower), _NEIGHBOUR_OWNERS))


class _Owners(NamedTuple):
    marks: tuple[Marks, ...]
    words: dict[str, tuple[int, ...]]  # word -> the languages it is a mark of
    triggers: dict[str, tuple[int, ...]]  # character -> the languages whose letters it may start
    always: frozenset[int]  # languages whose letters have no triggers


def _owners(marks: tuple[Marks, ...]) -> _Owners:
    words: dict[str, list[int]] = {}
    triggers: dict[str, list[int]] = {}
    for i, m in enumerate(marks):
        for w in m.words:
            words.setdefault(w, []).append(i)
        for c in m.triggers if m.letters is not None else ():
            triggers.setdefault(c, []).append(i)
    always = frozenset(i for i, m in enumerate(marks) if m.letters is not None and not m.triggers)
    return _Owners(marks, {w: tuple(v) for w, v in words.items()}, {c: tuple(v) for c, v in triggers.items()}, always)


@lru_cache(maxsize=64)
def _allowed_owners(allow: frozenset[str]) -> _Owners:
    return _owners(_allowed_marks(allow))


def may_be_neighbour(lower: str, allow: frozenset[str]) -> bool:
    """`neighbour_language` can hold for some scores: the marks of some neighbour language outweigh
    the allowed languages' (what lid.176 makes of the text is not needed to rule it out)."""
    words = text_words(lower)
    theirs = max(_mark_counts(lower, words, _NEIGHBOUR_OWNERS).values(), default=0)
    return theirs > 0 and _outweigh(theirs, sum(_mark_counts(lower, words, _allowed_owners(allow)).values()))


def _outweigh(theirs: int, ours: int) -> bool:
    """A neighbour's marks outweigh the allowed languages': more of them, and two at least where
    the allowed languages have any."""
    return theirs > ours and (ours == 0 or theirs >= 2)


def neighbour_language(lower: str, scores: dict[str, float], allow: frozenset[str], min_score: float) -> str | None:
    """The neighbour language a caption (lowercased) is in, if any: one of those lid.176 gives
    `min_score` or more (`scores`, per label) that is not allowed and has marks in it
    (`NEIGHBOUR_MARKS`), more than the allowed languages have (`ALLOWED_MARKS`), and at least two
    where the allowed ones have any. Of several, the one with the most marks."""
    foreign = [code for code, p in scores.items() if p >= min_score and code not in allow and code in NEIGHBOUR_MARKS]
    if not foreign:
        return None
    words = text_words(lower)
    counts = _mark_counts(lower, words, _NEIGHBOUR_OWNERS)
    theirs, code = max((counts.get(_NEIGHBOUR_INDEX[c], 0), c) for c in foreign)
    if theirs == 0:
        return None
    return code if _outweigh(theirs, sum(_mark_counts(lower, words, _allowed_owners(allow)).values())) else None


# The letters of `NEIGHBOUR_MARKS` as plain RE2, each pattern's letters or the spellings it looks
# for around them, with no look-around: what `MARKS_SCREEN` looks for
_SCREEN_LETTERS = "[ľĺŕđøæŵŷșțşўъѓќѕљњџј]|lj|dj|l·l|tx|дз[еяію]|і.*ы|ы.*і"
# RE2: a text holding a mark of any neighbour language, and perhaps more (its word boundaries are
# ASCII ones: a non-ASCII letter next to a word counts as a boundary); `neighbour_language` judges
# the texts it finds
MARKS_SCREEN = "(?:^|[^a-z0-9_])(?:" + "|".join(
    re.escape(w) for w in sorted(frozenset().union(*(m.words for m in NEIGHBOUR_MARKS.values())), key=lambda w: (-len(w), w))
) + ")(?:[^a-z0-9_]|$)|" + _SCREEN_LETTERS


_NEIGHBOUR_OWNERS = _owners(_ALL_NEIGHBOURS)
# a label's index in `_ALL_NEIGHBOURS` (labels of one macro-language share their marks)
_NEIGHBOUR_INDEX = {code: next(i for i, m in enumerate(_ALL_NEIGHBOURS) if m is marks) for code, marks in NEIGHBOUR_MARKS.items()}
