"""Language id with the real lid.176 model: recorded per row, and short captions are safe."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from filters.caption_text import CaptionBatch
from filters.language import identify_languages, language_rule, language_threshold, lid_model
from schemas.filter_config import LanguageRule


def test_model_is_loaded_once():
    assert lid_model() is lid_model()


def test_identify_languages_batch():
    texts = pa.array(["A man riding a horse on the beach.", "Ein Hund läuft über die Wiese.", "一只小猫坐在窗台上晒太阳",
                      "line one\nline two in English", "", None])  # fmt: skip
    lang, score = identify_languages(texts)
    assert lang.to_pylist()[:2] == ["en", "de"]
    assert lang.to_pylist()[2] in ("zh", "ja", "wuu")
    assert lang.to_pylist()[4:] == ["und", "und"] and score[4:].tolist() == [0.0, 0.0]
    assert lang.null_count == 0 and score.dtype == np.float32
    assert ((score >= 0) & (score <= 1)).all()


def test_language_rule_keeps_allowed_and_rejects_confident_foreign():
    keep = ["A man riding a horse on the beach at sunset.", "Un chat noir dort sur le canapé du salon.",
            "一只小猫坐在窗台上晒太阳。"]  # fmt: skip
    reject = ["Koira juoksee rannalla auringonlaskun aikaan ja nauttii vapaudesta.",
              "Ang aso ay tumatakbo sa dalampasigan habang lumulubog ang araw."]  # fmt: skip
    mask = language_rule(CaptionBatch.from_texts(keep + reject), LanguageRule())
    assert mask.tolist() == [True] * len(keep) + [False] * len(reject)


@pytest.mark.parametrize(
    "caption", ["blue sky", "BLUE SKY", "old wooden door", "Hund", "Tapas bar", "sunset"]
)
def test_short_captions_are_exempt_even_with_an_english_only_allowlist(caption):
    batch = CaptionBatch.from_texts([caption])
    lang, _ = batch.language
    assert language_rule(batch, LanguageRule(allow=("en",))).tolist() == [True], lang.to_pylist()


def test_blue_sky_would_be_dropped_as_german_without_the_exemption():
    batch = CaptionBatch.from_texts(["blue sky"])
    assert batch.language[0].to_pylist() == ["de"]
    strict = LanguageRule(allow=("en",), exempt_words=0, short_min_score=0.0, min_score=0.0, long_words=1)
    assert language_rule(batch, strict).tolist() == [False]


def test_threshold_falls_with_length_and_exempts_short():
    cfg = LanguageRule()
    thr = language_threshold(np.array([0, 3, 4, 7, 10, 50]), cfg)
    assert np.isinf(thr[:2]).all()
    assert thr[2] == pytest.approx(cfg.short_min_score)
    assert thr[4] == pytest.approx(cfg.min_score) and thr[5] == pytest.approx(cfg.min_score)
    assert thr[2] > thr[3] > thr[4]


def test_allow_none_allows_every_language():
    batch = CaptionBatch.from_texts(["Koira juoksee rannalla auringonlaskun aikaan ja nauttii vapaudesta."])
    assert language_rule(batch, LanguageRule(allow=None)).tolist() == [True]
    assert batch.language[0].to_pylist() == ["fi"]  # still recorded


def test_foreign_languages_that_share_the_score_reject_together():
    """lid.176 can split a short text between two foreign languages (Estonian 0.39 with German
    0.26 beside it), so no one of them reaches the length's threshold; together they are over
    `foreign_total_score` with no allowed language at `foreign_total_allowed_score`. A function word
    of an allowed language keeps a text ("A quokka smiling widely" is Finnish at 0.51)."""
    reject = ["Tüdruk loeb raamatut pargipingil"]
    keep = ["A quokka smiling widely", "Rainbow lorikeet feeding nectar", "Gamla stan i Stockholm i snö",
            "Kanelbullar som precis kommit ut ur ugnen.", "Tatry w porannej mgle"]
    texts = reject + keep
    assert language_rule(CaptionBatch.from_texts(texts), LanguageRule()).tolist() == [False] + [True] * len(keep)
    off = LanguageRule(foreign_total_score=1.0)  # the clause off: the first was kept
    assert language_rule(CaptionBatch.from_texts(texts), off).tolist() == [True] * len(texts)
