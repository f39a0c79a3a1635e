"""Model-based scorers on real (tiny, randomly initialised) checkpoints and the NSFW model shipped
in the nudenet wheel: scores, thresholds, order, determinism, config errors. No Ray here; the
actor-pool stage is tested in tests/jobs/test_scorer_stage.py."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from PIL import Image
from pydantic import ValidationError

from filters.scorers.lm import repeated_ngram_mask
from filters.scorers.scoring import SCORE_COLUMNS, LoadedScorers, score_table
from schemas.config import ConfigError, parse_job_config
from schemas.sample import Sample, records_to_table, with_work_columns
from schemas.scorer_config import ScorersConfig
from scorer_models import save_tiny_clip, save_tiny_lm, write_images

pytest.importorskip("transformers")
pytest.importorskip("nudenet")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return {"clip": str(save_tiny_clip(root / "clip")), "lm": str(save_tiny_lm(root / "lm"))}


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    return write_images(tmp_path_factory.mktemp("images"), 7, seed=3)


@pytest.fixture(scope="module")
def scorers(models):
    cfg = ScorersConfig(nsfw=True, clip={"model_path": models["clip"]}, lm={"model_path": models["lm"]},
                        batch_size=3)
    return LoadedScorers.load(cfg)


def table_of(images, captions, sources=None, tasks=None, status=None):
    samples = []
    for i, (path, text) in enumerate(zip(images, captions)):
        media = [{"uri": str(p), "kind": "image"} for p in (path if isinstance(path, list) else [path])]
        turns = [{"role": "user", "segments": [{"kind": "image", "media": 0}]},
                 {"role": "assistant", "segments": [{"kind": "text", "text": text}]}]
        samples.append(Sample(sample_id=f"s{i}", source=(sources or ["web"] * len(captions))[i],
                              task=(tasks or ["caption"] * len(captions))[i], turns=turns, media=media))
    table = with_work_columns(records_to_table(samples))
    if status:
        table = table.set_column(table.schema.get_field_index("status"), "status", pa.array(status, pa.string()))
    return table


CAPTIONS = ["a dog on a beach", "a cat on a sofa", "two people walking in the park", "a red car near a house",
            "a bowl of soup on a table", "children playing football", "a dog on a beach on a beach on a beach"]


def test_nsfw_score_matches_nudenets_own_preprocessing(images, scorers):
    """Our batched letterbox + max over anchors equals what NudeNet's reader feeds the same model."""
    import nudenet.nudenet as nn

    model = scorers.nsfw
    for path in images[:4]:
        blob = nn._read_image(str(path), 320)[0]
        theirs = model.session.run(None, {model.input_name: blob})[0][:, model.class_index, :].max(axis=2)
        ours = model.class_scores([Image.open(path).convert("RGB")])
        np.testing.assert_allclose(ours, theirs, atol=0.03)
    scores = model.score([Image.open(p).convert("RGB") for p in images] + [None])
    assert scores.dtype == np.float32 and np.isnan(scores[-1])
    assert np.all((scores[:-1] >= 0) & (scores[:-1] <= 1))
    assert np.all(scores[:-1] < 0.5)  # drawn gradients and ellipses are not nudity


def test_lm_perplexity_is_the_models_own_loss_and_repetition_sees_loops(scorers):
    import torch

    lm = scorers.lm
    text = "two people walking in the park"
    ppl, rep = lm.score([text, "", "a dog on a beach on a beach on a beach"])
    ids = [lm.start] + lm.tokenizer(text, add_special_tokens=False)["input_ids"]
    with torch.inference_mode():
        loss = lm.model(input_ids=torch.tensor([ids]), labels=torch.tensor([ids])).loss.item()
    assert ppl[0] == pytest.approx(np.exp(loss), rel=1e-4)
    assert np.isnan(ppl[1]) and np.isnan(rep[1])
    assert rep[0] == 0.0 and rep[2] > 0.0  # no repeated trigram in the first; the loop has many


def test_repeated_ngram_mask():
    assert repeated_ngram_mask([1, 2, 3, 1, 2, 3, 1], 3).tolist() == [False] * 5 + [True, True]
    assert repeated_ngram_mask([1, 1, 1], 1).tolist() == [False, True, True]
    assert repeated_ngram_mask([1, 2], 3).tolist() == [False, False]


def test_score_table_fills_columns_keeps_rows_and_is_deterministic(images, scorers):
    table = table_of(images, CAPTIONS)
    out, counts = score_table(table, scorers)
    again, _ = score_table(table, scorers)
    assert out.equals(again) and out.schema.equals(table.schema) and out.num_rows == table.num_rows
    assert out.column("sample_id").to_pylist() == table.column("sample_id").to_pylist()
    for column in SCORE_COLUMNS:
        assert out.column(column).null_count == 0
    assert counts == {"score.nsfw.scored": 7, "score.clip.scored": 7, "score.lm.scored": 7, "score.nsfw": 0,
                      "score.clip": 0, "score.lm_perplexity": 0, "score.lm_repetition": 0}
    # a row's score does not depend on the other rows of its micro-batch (right padding, per-row maxima)
    single = score_table(table.slice(2, 1), scorers)[0]
    for column in SCORE_COLUMNS:
        assert single.column(column)[0].as_py() == pytest.approx(out.column(column)[2].as_py(), rel=1e-4)


def test_only_ok_rows_of_the_scored_tasks_get_scores(images, scorers):
    table = table_of(images[:4], CAPTIONS[:4], tasks=["caption", "vqa", "caption", "caption"],
                     status=["ok", "ok", "filtered", "ok"])
    out, counts = score_table(table, scorers)
    assert [v is not None for v in out.column("nsfw_score").to_pylist()] == [True, True, False, True]
    assert [v is not None for v in out.column("clip_score").to_pylist()] == [True, False, False, True]
    assert [v is not None for v in out.column("lm_perplexity").to_pylist()] == [True, False, False, True]
    assert counts["score.nsfw.scored"] == 3 and counts["score.lm.scored"] == 2


def test_thresholds_per_source_mark_rows_filtered_in_order(images, models):
    table = table_of([[images[0], images[1]], images[2], images[3], images[4]], CAPTIONS[:4],
                     sources=["a", "b", "a", "b"])
    base = LoadedScorers.load(ScorersConfig(clip={"model_path": models["clip"]}, lm={"model_path": models["lm"]}))
    scores, _ = score_table(table, base)
    clip = np.array(scores.column("clip_score").to_pylist())
    ppl = np.array(scores.column("lm_perplexity").to_pylist())
    mid = float(np.sort(clip)[1] + np.sort(clip)[2]) / 2  # two rows below, two above
    cfg = ScorersConfig(clip={"model_path": models["clip"], "min_similarity": mid, "thresholds": {"b": -1.0}},
                        lm={"model_path": models["lm"], "max_perplexity": float(ppl.max()) + 1,
                            "thresholds": {"b": float(ppl.min()) - 1}})
    out, counts = score_table(table, LoadedScorers(cfg, clip=base.clip, lm=base.lm))
    want = []
    for src, c in zip(["a", "b", "a", "b"], clip):
        if src == "a" and c < mid:
            want.append("score.clip")
        elif src == "b":
            want.append("score.lm_perplexity")  # every b row is above b's perplexity limit; clip off for b
        else:
            want.append(None)
    assert out.column("reason").to_pylist() == want
    assert out.column("status").to_pylist() == ["ok" if w is None else "filtered" for w in want]
    assert counts["score.clip"] == want.count("score.clip")
    np.testing.assert_array_equal(np.array(out.column("clip_score").to_pylist()), clip)  # scores always kept


def test_undecodable_images_get_no_score(tmp_path, images, scorers):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    out, _ = score_table(table_of([bad, [bad, images[0]]], CAPTIONS[:2]), scorers)
    assert out.column("nsfw_score").to_pylist()[0] is None and out.column("nsfw_score").to_pylist()[1] is not None
    assert out.column("status").to_pylist() == ["ok", "ok"]


def test_missing_model_path_is_a_config_error_naming_the_field(tmp_path):
    sources = [{"name": "s", "format": "jsonl", "path": "/data/a.jsonl"}]
    with pytest.raises(ConfigError, match=r"filters.scorers.clip.*not a local checkpoint directory"):
        parse_job_config({"sources": sources, "filters": {"scorers": {"clip": {"model_path": str(tmp_path / "no")}}}})
    with pytest.raises(ConfigError, match=r"filters.scorers.lm.*has no model_path"):
        parse_job_config({"sources": sources, "filters": {"scorers": {"lm": {"enabled": True}}}})
    with pytest.raises(ValidationError, match="accelerators_per_actor"):
        ScorersConfig(accelerators_per_actor=1.5)
    assert not ScorersConfig().any_enabled  # the default job loads no model


def test_relative_model_paths_resolve_against_the_job_file(tmp_path, models):
    import shutil

    shutil.copytree(models["lm"], tmp_path / "lm")
    job = parse_job_config({"sources": [{"name": "s", "format": "jsonl", "path": "a.jsonl"}],
                            "filters": {"scorers": {"lm": {"model_path": "lm"}}}}, base_dir=tmp_path)
    assert job.filters.scorers.lm.model_path == str((tmp_path / "lm").resolve())
    assert job.filters.scorers.lm.enabled
