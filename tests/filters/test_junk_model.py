"""The learned junk score (`filters.junk_model`): features, training, the shipped model, the rule."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from filters.caption_text import CaptionBatch
from filters.chain import first_failing_text_rule
from filters.junk_model import (DEFAULT_MODEL, JunkModel, junk_model, train_junk_model, training_rows,
                                training_selection, word_features)
from schemas.filter_config import FilterConfig, LearnedJunkRule

LABELLED = Path(__file__).parent / "data" / "labelled_captions.jsonl"
WITHOUT_MODEL = FilterConfig(rules={"learned_junk": False})

# Written for this test (in none of the training sets): notices, shop and gallery text that no rule
# names, in ten languages, and captions of every length, some with the words those notices use.
FRESH_JUNK = [
    "Изображение временно недоступно", "Image for illustration purposes only", "Actual product may vary from image shown",
    "Nenhuma imagem encontrada", "Podgląd zdjęcia niedostępny", "Produktfoto kann abweichen",
    "Toque para ver a imagem em tamanho real", "사진을 클릭하면 원본을 볼 수 있습니다",
]
FRESH_CLEAN = [
    "A boy in yellow boots feeding ducks by a pond", "Zwei Kinder bauen eine Sandburg am Strand",
    "Un vieux tramway jaune dans une rue de Lisbonne", "夕焼けの空を飛ぶ鳥の群れ", "一位老人在公园里下象棋",
    "Kot śpi na parapecie w słońcu", "Red bicycle against brick wall", "Two cats sitting on the beach.",
    "Children playing in the snow.", "A photo of the product on a white table", "Close-up image of a bee on a flower",
    "Screenshot of a chat app showing two messages", "Click beetle on a leaf", "Free-range chickens in a farmyard",
]


def test_word_features_are_the_word_and_its_marked_ngrams():
    assert word_features("ab") == ["w:ab", "g:<a", "g:ab", "g:b>", "g:<ab", "g:ab>", "g:<ab>"]
    assert word_features("a") == ["w:a", "g:<a", "g:a>", "g:<a>"]
    assert len(word_features("aaaa")) == len(set(word_features("aaaa")))  # each n-gram once


def test_a_text_scores_the_mean_of_its_words():
    model = JunkModel({"w:spam": 2.0, "g:<e": -1.0, "w:eggs": 0.5}, bias=-0.25)
    got = model.scores(CaptionBatch.from_texts(["spam eggs spam", "eggs", ""]))
    # "eggs": 0.5 - 1.0 (its n-gram "<e"); "spam": 2.0, twice; the empty text: the bias alone
    want = 1 / (1 + np.exp(-np.array([-0.25 + (2.0 - 0.5 + 2.0) / 3, -0.25 - 0.5, -0.25])))
    np.testing.assert_allclose(got, want)


def test_training_is_deterministic_and_learns_the_labels(tmp_path):
    texts = [f"special offer number {i} click here" for i in range(30)] + [
        f"a dog number {i} runs across the green field" for i in range(30)]
    junk = [True] * 30 + [False] * 30
    a, b = train_junk_model(texts, junk, min_count=1), train_junk_model(texts, junk, min_count=1)
    assert a.weights == b.weights and a.bias == b.bias
    a.save(tmp_path / "a.tsv.gz")
    b.save(tmp_path / "b.tsv.gz")
    assert (tmp_path / "a.tsv.gz").read_bytes() == (tmp_path / "b.tsv.gz").read_bytes()
    again = JunkModel.load(tmp_path / "a.tsv.gz")
    assert again.weights == a.weights and again.bias == a.bias
    scores = again.scores(CaptionBatch.from_texts(["click here for the special offer", "a dog runs in a field"]))
    assert scores[0] > 0.9 and scores[1] < 0.1


def test_training_data_is_large_labelled_and_apart_from_the_test_set():
    rows = training_rows()
    assert len(rows) >= 10_000
    assert len({r["set"] for r in rows}) >= 63  # sixty-two held-out sets and the terse clean captions
    assert 0.3 <= np.mean([r["label"] == "junk" for r in rows]) <= 0.5
    labelled = {json.loads(line)["text"] for line in LABELLED.read_text(encoding="utf-8").splitlines() if line.strip()}
    assert not labelled & {r["text"] for r in rows}
    assert not (set(FRESH_JUNK) | set(FRESH_CLEAN)) & {r["text"] for r in rows}


def test_training_leaves_out_junk_rejected_for_its_form():
    texts = ["a dog sitting on a sofa sitting on a sofa sitting on a sofa sitting on a sofa",  # repetition
             "Share this photo with your friends on Facebook",  # boilerplate: its wording
             "A dog sleeping on a red sofa by the window", "IMG_2041.JPG"]
    assert training_selection(texts, [True, True, False, True]).tolist() == [False, True, True, True]
    # a stutter no rule rejects is left out by its kind: its words are a clean caption's
    thai = ["แมวนอนอยู่บนบนโซฟา", "แมวนอนอยู่บนโซฟา"]
    assert training_selection(thai, [True, False], ["stutter_th", "clean_th"]).tolist() == [False, True]


def test_the_shipped_model_is_the_one_the_shipped_data_trains():
    rows = training_rows()
    used = training_selection([r["text"] for r in rows], [r["label"] == "junk" for r in rows], [r.get("kind") for r in rows])
    rows = [r for r, u in zip(rows, used) if u]
    retrained = train_junk_model([r["text"] for r in rows], [r["label"] == "junk" for r in rows])
    texts = FRESH_JUNK + FRESH_CLEAN
    np.testing.assert_allclose(retrained.scores(CaptionBatch.from_texts(texts)),
                               junk_model().scores(CaptionBatch.from_texts(texts)), atol=1e-9,
                               err_msg="the shipped model is not what its data trains (the training data or the "
                                       "rules that select it changed): python -m filters.junk_model train")


def test_the_rule_catches_fresh_notices_the_other_rules_miss_and_keeps_captions():
    without = first_failing_text_rule(CaptionBatch.from_texts(FRESH_JUNK + FRESH_CLEAN), WITHOUT_MODEL)
    assert list(without) == [None] * len(FRESH_JUNK + FRESH_CLEAN)
    got = first_failing_text_rule(CaptionBatch.from_texts(FRESH_JUNK + FRESH_CLEAN), FilterConfig())
    caught = [g == "filter.learned_junk" for g in got[: len(FRESH_JUNK)]]
    # (the model trained with sets L-X caught 6 of them; with Y-AB added 4, two more scoring 0.84-0.85: the
    # threshold stays at 0.85, where no held-out model rejects a labelled clean caption)
    assert sum(caught) >= 4, list(zip(FRESH_JUNK, caught))
    assert list(got[len(FRESH_JUNK):]) == [None] * len(FRESH_CLEAN)


def test_the_rule_judges_only_what_the_other_rules_kept():
    texts = ["IMG_2041.JPG", "Image for illustration purposes only"]
    assert list(first_failing_text_rule(CaptionBatch.from_texts(texts), FilterConfig())) == [
        "filter.file_name", "filter.learned_junk"]


def test_threshold_and_model_path_config(tmp_path):
    texts = ["Image for illustration purposes only"]
    assert first_failing_text_rule(CaptionBatch.from_texts(texts), FilterConfig(
        rules={"learned_junk": {"threshold": 1.0}}))[0] is None
    with pytest.raises(ValidationError, match="threshold"):
        LearnedJunkRule(threshold=0.0)
    with pytest.raises(ValidationError, match="model_path .*not a local junk model file"):
        LearnedJunkRule(model_path=str(tmp_path / "missing.tsv.gz"))
    assert LearnedJunkRule(enabled=False, model_path=str(tmp_path / "missing.tsv.gz")).enabled is False
    # a model of one's own: here "zebra" is junk
    own = JunkModel({"w:zebra": 40.0}, bias=-4.0)
    own.save(tmp_path / "own.tsv.gz")
    cfg = FilterConfig(rules={"learned_junk": {"model_path": str(tmp_path / "own.tsv.gz")}})
    got = first_failing_text_rule(CaptionBatch.from_texts(["A zebra grazing on the savanna", *texts]), cfg)
    assert list(got) == ["filter.learned_junk", None]


def test_a_file_that_is_not_a_model_names_itself(tmp_path):
    (tmp_path / "bad.tsv.gz").write_bytes(__import__("gzip").compress(b"w:a\t1.0\n"))
    with pytest.raises(ValueError, match="bad.tsv.gz: not a junk model"):
        JunkModel.load(tmp_path / "bad.tsv.gz")


def test_default_model_ships_inside_the_package():
    assert DEFAULT_MODEL.is_file() and DEFAULT_MODEL.parent.name == "data"
    assert len(junk_model().weights) > 10_000


# the training sets are held out this many at a time (round-robin by name): one model per fold, not per set,
# keeps the slow suite's time flat as sets are added
_FOLDS = 12


@pytest.mark.slow
def test_leave_sets_out():
    """The training sets held out a fold at a time (`_FOLDS` folds of three to five sets): the rules,
    then a model trained on the other folds. The held-out figure of the shipped threshold: junk caught
    and clean captions rejected, over all sets (each set's rows judged by a model that never saw them
    nor the other sets of its fold)."""
    rows = training_rows()
    texts = [r["text"] for r in rows]
    junk = np.array([r["label"] == "junk" for r in rows])
    rule_rejects = np.array([x is not None for x in first_failing_text_rule(CaptionBatch.from_texts(texts), WITHOUT_MODEL)])
    used = training_selection(texts, junk, [r.get("kind") for r in rows])
    threshold = LearnedJunkRule().threshold
    flagged = rule_rejects.copy()
    sets = np.array([r["set"] for r in rows])
    names = sorted(set(sets))
    at = {name: i for i, name in enumerate(names)}
    fold = np.array([at[x] % _FOLDS for x in sets])
    for held in range(min(_FOLDS, len(names))):
        train = used & (fold != held)
        model = train_junk_model([t for t, u in zip(texts, train) if u], junk[train])
        rows_held = np.flatnonzero(fold == held)
        scores = model.scores(CaptionBatch.from_texts([texts[i] for i in rows_held]))
        flagged[rows_held] |= scores >= threshold
    caught, rejected = flagged[junk].mean(), flagged[~junk].mean()
    print(f"\nleave sets out ({min(_FOLDS, len(names))} folds of {len(names)} sets): junk caught {caught:.3f}, "
          f"clean rejected {rejected:.4f}")
    assert caught >= 0.95 and rejected <= 0.01
