"""The language rule's script check (`filters.scripts`): a caption mostly in a script no allowed
language is written in is rejected however short; every lid.176 label has its script listed."""

from __future__ import annotations

import numpy as np
import pytest

from filters.caption_text import CaptionBatch
from filters.language import language_rule, lid_model
from filters.scripts import _RANGES, SCRIPT_LANGUAGES, SCRIPTS, script_ids, scripts_outside
from schemas.filter_config import LanguageRule


def test_every_lid176_label_has_a_script():
    labels = {label.removeprefix("__label__") for label in lid_model().get_labels()}
    listed = {code for codes in SCRIPT_LANGUAGES.values() for code in codes.split()}
    assert labels - listed == set()
    assert listed - labels == set()  # no code the model cannot give


def test_script_ranges_do_not_overlap_and_name_listed_scripts():
    ranges = sorted(_RANGES)
    assert all(a[1] < b[0] for a, b in zip(ranges, ranges[1:]))
    assert {r[2] for r in ranges} == set(SCRIPTS)


@pytest.mark.parametrize("char, script", [
    ("a", "latin"), ("é", "latin"), ("ệ", "latin"), ("Σ", "greek"), ("ж", "cyrillic"), ("ა", "georgian"),
    ("ש", "hebrew"), ("ب", "arabic"), ("क", "devanagari"), ("த", "tamil"), ("ก", "thai"), ("ກ", "lao"),
    ("中", "han"), ("𠀀", "han"), ("あ", "kana"), ("ア", "kana"), ("한", "hangul"), ("ሀ", "ethiopic"), ("ក", "khmer"),
])  # fmt: skip
def test_script_of_a_letter(char, script):
    assert SCRIPTS[script_ids(np.array([ord(char)]))[0]] == script


def test_a_symbol_has_no_script():
    assert script_ids(np.array([ord(c) for c in "€1 -"])).tolist() == [-1] * 4


def test_scripts_outside_the_allowed_languages():
    default = LanguageRule()
    outside = {s for s, out in zip(SCRIPTS, scripts_outside(set(default.allow), default.macro_languages)) if out}
    assert {"greek", "georgian", "hebrew", "armenian", "devanagari", "tamil", "lao", "khmer", "ethiopic"} <= outside
    assert not outside & {"latin", "cyrillic", "arabic", "thai", "hangul", "han", "kana"}
    # a variety allows its script through its macro-language: Cantonese is zh
    assert not scripts_outside({"zh"}, default.macro_languages)[SCRIPTS.index("han")]


FOREIGN_SHORT = ["ძაღლი თოვლში თამაშობს", "Σκύλος στο χιόνι", "Շուն ձյան մեջ", "बर्फ में कुत्ता खेलता है",
                 "பனியில் விளையாடும் நாய்", "ውሻ በበረዶ ውስጥ ይጫወታል", "ឆ្កែនៅក្នុងព្រិល", "ໝາຢູ່ໃນຫິມະ",
                 "כלב משחק בשלג", "Ταβέρνα στην Αθήνα τη νύχτα"]  # fmt: skip
ALLOWED_OR_MIXED = ["كلب في الثلج", "สุนัขในหิมะ", "눈 속의 개", "Собака в снегу", "雪の中の犬",
                    "A taverna sign reading Ταβέρνα in a narrow street of Athens at night", "The Greek letter Ω on a blackboard", "A mug with 愛 printed on it",
                    "Ω", "Zwei Hunde im Schnee"]  # fmt: skip


def test_short_captions_in_a_script_of_no_allowed_language_are_rejected():
    keep = language_rule(CaptionBatch.from_texts(FOREIGN_SHORT + ALLOWED_OR_MIXED), LanguageRule())
    assert keep.tolist() == [False] * len(FOREIGN_SHORT) + [True] * len(ALLOWED_OR_MIXED)


def test_the_script_check_follows_the_allow_list_and_can_be_turned_off():
    greek = ["Σκύλος στο χιόνι", "Ταβέρνα"]  # short: lid.176 does not judge them
    batch = CaptionBatch.from_texts(greek)
    assert language_rule(batch, LanguageRule(allow=("en", "el"))).tolist() == [True, True]
    # (with the short captions' word check off too: lid.176 is sure the first is Greek, and no word is an allowed one's)
    assert language_rule(batch, LanguageRule(foreign_script_min_letters=0, short_foreign_score=0)).tolist() == [True, True]
    assert language_rule(batch, LanguageRule(allow=None)).tolist() == [True, True]
    # one letter is not enough at the default of two; a single word of two is
    assert language_rule(CaptionBatch.from_texts(["Ω", "Ωμέγα"]), LanguageRule()).tolist() == [True, False]
