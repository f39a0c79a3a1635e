"""The character-class table agrees with RE2 on every code point, and its per-text answers agree
with the RE2 kernels the text rules used before it."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from filters.unicode_classes import BIT, CLASSES, _table, char_classes, every_code_point


def test_table_is_re2s_class_on_every_code_point():
    cps, arr = every_code_point()
    table = _table()[cps]
    for name, pattern in CLASSES.items():
        re2 = pc.match_substring_regex(arr, f"^{pattern}$").to_numpy(zero_copy_only=False)
        assert ((table & BIT[name]) != 0).tolist() == re2.tolist(), name


def _texts(n: int = 3_000) -> pa.Array:
    rng = random.Random(0)
    alphabet = "ab 1٣\t\n\r\x0b\x0c日カかÅ\u0301ǅ한ไ\u3000！x,.-😀\U00031350†‡"
    rows = ["".join(rng.choice(alphabet) for _ in range(rng.choice((0, 1, 3, 8, 20)))) for _ in range(n)]
    return pa.array([*rows, None, ""], pa.string()).slice(1)


def test_counts_and_runs_match_re2_kernels():
    texts = _texts()
    classes = char_classes(texts)

    def re2_count(pattern):
        return pc.fill_null(pc.count_substring_regex(texts, pattern), 0).to_numpy(zero_copy_only=False).tolist()

    letter, number, mark, space = BIT["letter"], BIT["number"], BIT["mark"], BIT["space"]
    assert classes.count(letter | number | mark | space, none_of=True).tolist() == re2_count(r"[^\pL\pN\pM\s]")
    assert classes.count(BIT["wide"]).tolist() == re2_count(CLASSES["wide"])
    assert classes.count(BIT["per_char_word"]).tolist() == re2_count(CLASSES["per_char_word"])
    assert classes.runs_at_least(letter, 2).tolist() == re2_count(r"\pL{2,}")
    letter_dagger = pc.fill_null(pc.match_substring_regex(texts, r"\pL[†‡]"), False).to_numpy(zero_copy_only=False)
    assert classes.any_followed_by(letter, "†‡").tolist() == letter_dagger.tolist() and letter_dagger.sum() > 50
    for k in (1, 2, 3):
        has_run = np.array(re2_count(rf"\p{{Nd}}{{{k}}}")) > 0
        assert (classes.runs_at_least(BIT["digit"], k) > 0).tolist() == has_run.tolist()
