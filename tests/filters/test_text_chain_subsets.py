"""The text chain judges each rule's texts on a subset of the batch (the texts no earlier rule
failed), so every text rule must judge a text on its own: the same verdict in a subset as in the
whole batch, whatever features the subset took over from it."""

from __future__ import annotations

import numpy as np
import pytest

from filters.caption_text import CaptionBatch
from filters.catalogue import rules_in_order
from schemas.filter_config import FilterConfig
from tests.filters.test_text_chain_golden import generated_captions, load_labelled

CFG = FilterConfig()


@pytest.fixture(scope="module")
def batch() -> CaptionBatch:
    return CaptionBatch.from_texts(load_labelled() + generated_captions(3_000, seed=5))


@pytest.mark.parametrize("spec", rules_in_order("text"), ids=lambda s: s.name)
def test_a_rule_gives_a_subset_the_verdicts_it_gives_the_whole_batch(batch, spec):
    rule_cfg = getattr(CFG.rules, spec.name)
    whole = spec.fn(batch, rule_cfg)
    rows = np.flatnonzero(np.random.default_rng(3).random(len(batch)) < 0.6)
    fresh = batch.subset(rows)  # the subset computes its own features
    assert spec.fn(fresh, rule_cfg).tolist() == whole[rows].tolist()
    # a subset of a subset, after the whole batch computed every feature: features are taken over
    again = batch.subset(rows).subset(np.arange(0, len(rows), 2))
    assert spec.fn(again, rule_cfg).tolist() == whole[rows[::2]].tolist()
    assert (~whole).any() or spec.name in ("empty", "too_long"), "the set should make every rule fail somewhere"


def test_language_ids_are_shared_between_a_batch_and_its_subsets():
    batch = CaptionBatch.from_texts(load_labelled()[:60])
    sub = batch.subset(np.arange(10, 40))
    lang, score = sub.language
    assert batch.languages.known[10:40].all() and not batch.languages.known[:10].any()
    whole_lang, whole_score = batch.language_of(np.arange(10, 40))  # identified once: read back
    assert whole_lang.to_pylist() == lang.to_pylist() and whole_score.tolist() == score.tolist()
    all_lang, _ = batch.language  # the others are identified now, the same as a fresh batch would
    assert all_lang.to_pylist() == CaptionBatch.from_texts(load_labelled()[:60]).language[0].to_pylist()
