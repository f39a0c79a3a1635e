"""Languages lid.176 takes for their allowed neighbours, with the real model: told apart by their own
words and letters (`filters.neighbour_languages`), while the allowed neighbours' own short captions,
foreign names in them included, are kept."""

from __future__ import annotations

import pytest

from filters.caption_text import CaptionBatch
from filters.language import language_rule
from filters.neighbour_languages import (NEIGHBOUR_MARKS, allowed_evidence, neighbour_language, text_words)
from schemas.filter_config import DEFAULT_LANGUAGES, LanguageRule

ALLOW = frozenset(DEFAULT_LANGUAGES) | {"ms"}

# captions in languages outside the default allow list that lid.176 gives to an allowed one or
# spreads too thin to reach the length threshold
NEIGHBOURS = [
    "Deti sa hrajú na snehu pred chatou.",  # Slovak: "sa"
    "Babka predáva zeleninu cez okno stánku.",  # Slovak: "cez"
    "Stará žena kŕmi mačku na dvore.",  # Slovak: "ŕ"
    "Turisti se slikaju ispred katedrale u Zagrebu.",  # Croatian: "ispred", "u"
    "Ribari krpaju mreže u luci kod Splita.",  # Croatian: "kod"
    "Мъжът чете вестник във влака.",  # Bulgarian: "във", "-ът"
    "Децата играят със снежни топки.",  # Bulgarian: "със"
    "Дедо носи кошница со грозје.",  # Macedonian: "ѓ"-free, "со", "ј"
    "Дзеці катаюцца на санках каля ракі.",  # Belarusian: "каля", "дзе"
    "Малы хлопчык і сабака на лузе.",  # Belarusian: "і" and "ы" (be 0.44; "і", "на" are Ukrainian words too)
    "Gutten og hunden leker i snøen.",  # Norwegian: "og", "ø"
    "Een vrou sit met 'n koppie koffie op die stoep.",  # Afrikaans: "'n"
    "Un noi passeja amb el gos pels carrers del barri.",  # Catalan: "amb", "pels"
    "Unha nena xoga coa súa bicicleta no parque.",  # Galician: "unha", "coa"
    "O pisică doarme pe canapea în sufragerie.",  # Romanian: "pe", "în"
]

# captions in allowed languages that share words or letters with a neighbour
ALLOWED = [
    "Kot spit na divane",  # Russian transliterated: no marks
    "Кот спит на диване",  # Russian, four words, Bulgarian to lid.176 at 0.83
    "Кошка сидит на подоконнике и смотрит в окно.",
    "Smørrebrød på en restaurang i Köpenhamn.",  # Swedish with a Danish dish
    "Papan kayu bertuliskan \"Awas Anjing Galak\" di depan pagar rumah",  # Indonesian "nj"
    "Výhled na Vysoké Tatry ze slovenské strany.",  # Czech naming Slovakia
    "Dívka krmí kachny u rybníka.",
    "Dziewczynka karmi kaczki nad stawem.",
    "Una niña juega con su perro en el parque de Barcelona.",
    "Uma menina brinca com o cachorro na praia.",
    "Il gatto dorme sul divano accanto alla finestra.",
    "Cyklister på väg upp mot Trollstigen i Norge.",
    "Een meisje fietst langs de gracht in Amsterdam.",
    "Дівчинка годує качок біля ставка.",
    "A jersey with a red dragon of Wales on it.",
    "Smørrebrød on a plate",  # Danish to lid.176 at 0.70, and "ø" is Danish; "on", "a" are English
]


@pytest.mark.parametrize("caption", NEIGHBOURS)
def test_neighbour_language_captions_are_rejected(caption):
    assert language_rule(CaptionBatch.from_texts([caption]), LanguageRule()).tolist() == [False]


@pytest.mark.parametrize("caption", ALLOWED)
def test_allowed_neighbours_are_kept(caption):
    assert language_rule(CaptionBatch.from_texts([caption]), LanguageRule()).tolist() == [True]


def test_marks_off_keeps_what_only_they_reject():
    caption = "Starší pán sedí na lavičke pri fontáne."  # Slovak "pri"; lid.176 is unsure between cs and sk
    batch = CaptionBatch.from_texts([caption])
    assert language_rule(batch, LanguageRule()).tolist() == [False]
    off = LanguageRule(neighbour_min_score=0.0, word_frequency_margin=0.0)
    assert language_rule(CaptionBatch.from_texts([caption]), off).tolist() == [True]
    # its words are Slovak too ("starší", "lavičke" and "fontáne" are Slovak words and no Czech
    # ones: `filters.word_frequencies`), which reject it with the marks off
    marks_off = LanguageRule(neighbour_min_score=0.0)
    assert language_rule(CaptionBatch.from_texts([caption]), marks_off).tolist() == [False]


def test_evidence_on_each_side():
    # one Slovak mark and no Czech one: foreign; a Czech letter beside it: not with one mark alone
    assert neighbour_language("deti sa hrajú vonku", {"cs": 0.5, "sk": 0.4}, ALLOW, 0.1) == "sk"
    assert neighbour_language("děti sa hrají venku", {"cs": 0.5, "sk": 0.4}, ALLOW, 0.1) is None
    # two marks against one
    assert neighbour_language("děti sa hrajú pri cesta", {"cs": 0.5, "sk": 0.4}, ALLOW, 0.1) == "sk"
    # the neighbour must be in sight of lid.176
    assert neighbour_language("deti sa hrajú vonku", {"cs": 0.95, "sk": 0.04}, ALLOW, 0.1) is None
    # an allowed language is never a neighbour
    assert neighbour_language("deti sa hrajú vonku", {"sk": 0.9}, ALLOW | {"sk"}, 0.1) is None
    # of two, the one with more marks
    assert neighbour_language("gutten og hunden i snøen", {"no": 0.3, "da": 0.3, "sv": 0.3}, ALLOW, 0.1) in ("no", "da")


def test_words_split_at_apostrophes_and_keep_the_afrikaans_article():
    assert {"mae", "r", "'n", "d'un", "d", "un"} <= text_words("mae'r ci 'n hond d'un")


def test_shared_letters_are_no_evidence_for_the_allowed_side():
    # Belarusian writes "ы" as Russian does
    assert allowed_evidence("хлопчык едзе на ровары", ALLOW, "be") == 0
    assert allowed_evidence("мальчик едет на велосипеде, мы смотрим", ALLOW) >= 1


def test_every_neighbour_mark_word_is_lowercase_and_no_allowed_function_word():
    from filters.language import FUNCTION_WORDS

    allowed_words = set().union(*(set(w.split()) for w in FUNCTION_WORDS.values()))
    for code, marks in NEIGHBOUR_MARKS.items():
        assert all(w == w.lower() for w in marks.words), code
        assert not marks.words & allowed_words, (code, marks.words & allowed_words)


def test_the_screen_finds_every_text_with_a_mark():
    import json
    import re
    from pathlib import Path

    from filters.neighbour_languages import MARKS_SCREEN, has_neighbour_marks

    screen = re.compile(MARKS_SCREEN)
    data = Path(__file__).resolve().parents[2] / "filters" / "data" / "caption_training.jsonl"
    texts = [json.loads(line)["text"].lower() for line in data.open(encoding="utf-8")] + [t.lower() for t in NEIGHBOURS]
    for text in texts:
        if has_neighbour_marks(text):
            assert screen.search(text), text


def test_norwegian_and_danish_are_told_by_their_own_words():
    """Swedish writes "vit", "några", "mycket"; Norwegian "hvit", "noen", "mye" and Danish "hvid",
    "nogle", "meget": lid.176 spreads its belief over the three on short captions."""
    from filters.neighbour_languages import NEIGHBOUR_MARKS

    assert {"hvit", "noen", "mye"} <= NEIGHBOUR_MARKS["no"].words
    assert {"hvid", "nogle", "meget"} <= NEIGHBOUR_MARKS["da"].words
    assert not ({"vit", "några", "mycket"} & (NEIGHBOUR_MARKS["no"].words | NEIGHBOUR_MARKS["da"].words))
