"""Every text rule: captions it must keep and captions it must reject, plus its config knobs."""

from __future__ import annotations

import numpy as np
import pytest

from filters.caption_text import CaptionBatch
from filters.catalogue import TEXT_RULES, rule, rules_in_order
from schemas.filter_config import RulesConfig

# rule -> (must keep, must reject), judged by that rule alone with its default config.
CASES: dict[str, tuple[list[str], list[str]]] = {
    "empty": (["A cat on a mat", "x"], ["", "   ", "\n\t\u00a0"]),
    "bad_encoding": (
        ["Café au lait on a table", "São Paulo at night", "Ça va? Très bien", "Ångström units", "A — dash"],
        ["Ã©tÃ© Ã  Paris", "Itâ€™s sunny", "Caf\ufffd on a corner", "a dog\x00 in the park", "Â\u00a0A cat"],
    ),
    "url": (
        [
            "A cat sitting on a chair",
            "St. Louis arch at dusk",
            "A 3.5 inch disk",
            "Dr. Who poster",
            "U.S. flag on a pole",
            "A co-worker at the desk",
            "e.g. a red apple",
            "The JPEG format explained",
        ],
        [
            "www.example.com",
            "see http://x.org/a",
            "https://t.co/abc",
            "IMG_1234",
            "DSC01234 beach",
            "sunset.jpg",
            "my photo.PNG here",
            "shop.de deals",
            "mail me: a.b@gmail.com",
            "example.com/path",
            "PXL_20210704_183501",
            "ftp://files.net/pics",
        ],
    ),  # fmt: skip
    "boilerplate": (
        ["A stock of firewood by the cabin", "Here is a clique of friends", "A photo taken by the lake"],
        [
            "Stock photo of a family",
            "CLICK HERE for more",
            "Image may contain: 2 people",
            "Royalty-free cat",
            "Getty Images / a man",
            "免费下载 高清壁纸",
        ],
    ),  # fmt: skip
    "date_only": (
        [
            "A party on June 12, 2019 in the garden",
            "Monday morning traffic",
            "May flowers in bloom",
            "12345",
            "3.14",
            "Room 101",
        ],
        [
            "June 12, 2019",
            "2019-06-12 14:32",
            "12/06/2019",
            "10:30 AM",
            "2019年6月12日",
            "Posted on May 5, 2018",
            "2021-07-04T18:35:01Z",
            "Monday, 3 March 2020",
            "3 de junio de 2015",
            "12. Dezember 2017",
        ],
    ),  # fmt: skip
    "no_letters": (
        ["A 100% cotton shirt", "一只猫", "R2-D2", "x"],
        ["12345", "!!! ???", "🙂🙂", "3.14", "", "$ 25.00"],
    ),
    "digit_run": (
        ["Route 66 sign", "Year 2019 in review", "Bib 12345 at the finish", "1,000,000 people"],
        ["Call 5551234567", "ID 123456", "order 20190612123456", "code ١٢٣٤٥٦٧"],
    ),
    "special_chars": (
        [
            "A cat, a dog, and a bird.",
            "Rock 'n' roll!",
            "Dogs :)",
            "A cup of tea (green) with lemon.",
            "一只猫，在睡觉。",
            "Price: $19.99 - on sale",
        ],
        ["@#$% a ^&*( b )_+ c {}|:", "=== SALE === %%% OFF %%% !!!", "(((((( dog ))))))", "a|b|c|d|e|f|g|h"],
    ),  # fmt: skip
    "too_short": (
        ["A red car", "Blue sky today", "一只猫", "小狗在草地上", "แมวนอนอยู่บนโซฟา", "Dog on beach"],
        ["blue sky", "Sunset", "cat", "a b", "ok", "图片", "I do", "Eiffel-Tower"],
    ),
    "too_long": (["A dog " * 100, "猫" * 500], ["word " * 513, "a" * 4097, "猫" * 2049]),
    "repeated_words": (
        [
            "Bye bye summer",
            "A very very old tree",
            "Walla Walla onions",
            "妈妈和宝宝",
            "New York, New York",
            "I know that that is true",
            "La La Land poster",
        ],
        [
            "the the dog",
            "A cat cat cat",
            "dog dog dog dog",
            "a a house",
            "Un chat et et un chien",
            "wow wow wow",
            "哈哈哈哈",
        ],
    ),  # fmt: skip
}


@pytest.mark.parametrize("name", [n for n in TEXT_RULES if n in CASES])
def test_rule_keeps_clean_and_rejects_noise(name):
    keep, reject = CASES[name]
    batch = CaptionBatch.from_texts(keep + reject)
    mask = rule(name).fn(batch, getattr(RulesConfig(), name))
    assert mask.dtype == np.bool_ and mask.shape == (len(batch),)
    wrongly_rejected = [t for t, m in zip(keep, mask[: len(keep)]) if not m]
    wrongly_kept = [t for t, m in zip(reject, mask[len(keep) :]) if m]
    assert not wrongly_rejected, f"{name} rejected clean captions: {wrongly_rejected}"
    assert not wrongly_kept, f"{name} kept noisy captions: {wrongly_kept}"


def test_every_text_rule_has_cases_here_or_in_its_own_file():
    # the repetition rules and language id have their own test files
    own_files = {"tail_repetition", "sentence_repetition", "ngram_repetition", "language"}
    assert set(TEXT_RULES) == set(CASES) | own_files
    assert [s.name for s in rules_in_order("text")] == list(TEXT_RULES)


def _mask(name: str, texts: list[str], **params) -> list[bool]:
    cfg = getattr(RulesConfig(), name).model_copy(update=params)
    return rule(name).fn(CaptionBatch.from_texts(texts), cfg).tolist()


def test_digit_run_threshold_is_configurable():
    assert _mask("digit_run", ["id 1234", "id 123"], max_digits=3) == [False, True]


def test_too_short_relaxed_keeps_one_word_captions():
    assert _mask("too_short", ["Sunset", "cat", ""], min_words=1, min_chars=1) == [True, True, False]


def test_too_short_counts_punctuation_free_words_and_wide_characters():
    batch = CaptionBatch.from_texts(["— a — b —", "don't stop", "一只猫", "  "])
    assert batch.n_words.tolist() == [2, 2, 3, 0]
    assert batch.n_chars.tolist() == [9, 10, 6, 0]


def test_repeated_words_knobs():
    texts = ["the the dog", "a cat cat sits", "dog dog dog"]
    assert _mask("repeated_words", texts, pair_words=()) == [True, True, False]
    assert _mask("repeated_words", texts, max_run=1, pair_words=()) == [False, False, False]
    assert _mask("repeated_words", texts, max_run=5) == [False, True, True]


def test_repeated_words_ignores_case_and_punctuation_but_not_row_boundaries():
    assert _mask("repeated_words", ["The, the dog", "dog", "dog", "The end."]) == [False, True, True, True]


def test_special_chars_short_texts_are_not_judged():
    assert _mask("special_chars", ["!?!", "!?!?!?!?!?"]) == [True, False]
    assert _mask("special_chars", ["!?!?!?!?!?"], max_ratio=1.0) == [True]


def test_boilerplate_phrases_are_configurable_and_literal():
    assert _mask("boilerplate", ["a.b c", "axb c", "Stock photo"], phrases=("a.b",)) == [False, True, True]
    assert _mask("boilerplate", ["Stock photo"], phrases=()) == [True]


def test_url_options():
    assert _mask("url", ["IMG_1234 at home"], camera_file_names=False) == [True]
    assert _mask("url", ["shop.de deals"], tlds=("com",)) == [True]
    assert _mask("url", ["scan.tif"], file_extensions=("png",)) == [True]


def test_bad_encoding_options():
    assert _mask("bad_encoding", ["one \ufffd here", "two \ufffd\ufffd"], max_replacement_chars=1) == [
        True,
        False,
    ]
    assert _mask("bad_encoding", ["Ã©tÃ©"], mojibake=False) == [True]
