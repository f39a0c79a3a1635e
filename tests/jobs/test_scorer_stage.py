"""The scorers as a Ray Data actor-pool stage on a real local Ray runtime: the pipeline's
`_apply_stages` runs an `ActorStage`, models load once per actor, rows keep their order, the
counters contract holds and the output does not depend on the pool size."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "filters"))

from scorer_models import save_tiny_lm, write_images  # noqa: E402

from jobs import stages  # noqa: E402
from jobs.scorer_stage import ActorStage, ScorerActor, scorer_plan, scorer_stage  # noqa: E402
from schemas.config import parse_job_config  # noqa: E402
from schemas.sample import Sample, records_to_table, with_work_columns  # noqa: E402

pytest.importorskip("transformers")
pytest.importorskip("nudenet")


@pytest.fixture(scope="module")
def lm_path(tmp_path_factory):
    return save_tiny_lm(tmp_path_factory.mktemp("scorer_lm") / "lm")


@pytest.fixture(scope="module")
def job_parts(tmp_path_factory):
    root = tmp_path_factory.mktemp("scorer_stage")
    lm = None
    images = write_images(root / "images", 12, seed=5)
    words = ["a dog on a beach", "a cat on a sofa", "two people walking in the park", "a red car near a house"]
    samples = [Sample(sample_id=f"s{i:03d}", source="web", task="caption", media=[{"uri": str(p), "kind": "image"}],
                      turns=[{"role": "user", "segments": [{"kind": "image", "media": 0}]},
                             {"role": "assistant", "segments": [{"kind": "text", "text": words[i % 4] + f" {i}"}]}])
               for i, p in enumerate(images)]
    return lm, with_work_columns(records_to_table(samples))


def job(lm_path, **scorers):
    lm = {"model_path": str(lm_path)} if lm_path else False
    return parse_job_config({"sources": [{"name": "web", "format": "jsonl", "path": "/x.jsonl"}],
                             "filters": {"scorers": {"nsfw": True, "lm": lm, "batch_size": 2, **scorers}}})


def run(ray, table: pa.Table, cfg, blocks: int) -> pa.Table:
    from jobs.pipeline import _apply_stages

    ds = ray.data.from_arrow(table).repartition(blocks)
    plan = scorer_plan(cfg)
    return pa.concat_tables(ray.get(_apply_stages(ds, plan, batch_size=None).to_arrow_refs()))


def test_scorer_plan_is_an_actor_stage_only_when_enabled():
    lm = None
    cfg = job(lm, concurrency=3, accelerator="npu", accelerators_per_actor=0.5)
    assert [n for n, _ in scorer_plan(cfg)] == ["score"]
    assert [n for n, _ in stages.stage_plan(cfg)] == ["probe", "filter", "grounding"]  # the per-file task stages
    stage = scorer_stage(cfg)
    assert isinstance(stage, ActorStage) and stage.cls is ScorerActor
    assert (stage.concurrency, stage.num_gpus, stage.resources) == (3, 0.0, {"NPU": 0.5})
    assert scorer_stage(job(lm, accelerator="gpu")).num_gpus == 1.0
    default = parse_job_config({"sources": [{"name": "web", "format": "jsonl", "path": "/x.jsonl"}]})
    assert scorer_stage(default) is None and scorer_plan(default) == []


@pytest.mark.slow
def test_actor_pool_scores_every_row_in_order_whatever_the_pool_size(ray_local, job_parts, lm_path):
    lm, table = lm_path, job_parts[1]
    ctx = ray_local.data.DataContext.get_current()
    saved = ctx.execution_options.preserve_order
    ctx.execution_options.preserve_order = True
    try:
        one = run(ray_local, table, job(lm, concurrency=1), blocks=4)
        two = run(ray_local, table, job(lm, concurrency=2, num_cpus=0.5), blocks=4)
    finally:
        ctx.execution_options.preserve_order = saved
    assert one.column("sample_id").to_pylist() == table.column("sample_id").to_pylist()
    body = [c for c in one.column_names if c != stages.COUNTERS]
    assert one.select(body).equals(two.select(body))  # byte-identical scores, statuses and order
    for column in ("nsfw_score", "lm_perplexity", "lm_repetition"):
        assert one.column(column).null_count == 0
    assert one.column("clip_score").null_count == table.num_rows  # not enabled
    for out, actors in ((one, 1), (two, 2)):
        counters = stages.sum_counters(out.column(stages.COUNTERS).to_pylist())
        assert counters["rows_in.score"] == table.num_rows
        assert counters["score.nsfw.scored"] == counters["score.lm.scored"] == table.num_rows
        assert 1 <= counters["score.models_loaded"] <= actors < 4  # once per actor, not per batch


def test_in_process_scores_match_the_actor_pool(ray_local, job_parts):
    """NSFW only (onnxruntime, no torch in the actor), so the default suite stays quick."""
    from filters.scorers.scoring import LoadedScorers, score_table

    lm, table = job_parts
    cfg = job(None)
    got = run(ray_local, table, cfg, blocks=3)
    assert got.column("sample_id").to_pylist() == table.column("sample_id").to_pylist()
    counters = stages.sum_counters(got.column(stages.COUNTERS).to_pylist())
    assert counters["rows_in.score"] == counters["score.nsfw.scored"] == table.num_rows
    assert counters["score.models_loaded"] == 1  # one actor, three batches
    want, _ = score_table(table, LoadedScorers.load(cfg.filters.scorers))
    for column in ("nsfw_score",):
        np.testing.assert_allclose(np.array(got.column(column).to_pylist()),
                                   np.array(want.column(column).to_pylist()), rtol=1e-6)


@pytest.mark.slow
def test_job_with_scorers_survives_a_killed_actor_with_identical_output(tmp_path):
    """A whole `vlpack run` with the NSFW and LM scorers, twice: once plain, once with the scorer
    actor killed on its first batch (Ray restarts it and retries); the committed outputs match, and
    the ledger carries the scores and the repairs."""
    import os
    import subprocess

    import pyarrow.compute as pc
    import yaml

    from jobs.demo_data import make_demo_dataset
    from schemas.manifest import load_index

    corpus = make_demo_dataset(tmp_path / "corpus", samples=120, seed=5)
    lm = save_tiny_lm(tmp_path / "lm")
    outs = {}
    for name, fault in (("plain", None), ("killed", f"kill_worker_once:score:{tmp_path / 'marker'}")):
        data = yaml.safe_load(corpus.read_text())
        for s in data["sources"]:
            s["path"] = str(corpus.parent / s["path"])
            if "root" in s:
                s["root"] = str(corpus.parent / s["root"])
        data["output"] = {"dir": str(tmp_path / name)}
        data["ray"] = {"num_cpus": 2}
        data.setdefault("filters", {})["scorers"] = {"nsfw": True, "lm": {"model_path": str(lm)},
                                                     "num_cpus": 0.5}
        job_file = tmp_path / f"{name}.yaml"
        job_file.write_text(yaml.safe_dump(data))
        env = {k: v for k, v in os.environ.items() if k != "VLPACK_FAULT"} | ({"VLPACK_FAULT": fault} if fault else {})
        proc = subprocess.run([sys.executable, "-m", "jobs.cli", "run", str(job_file), "--no-progress"],
                              capture_output=True, text=True, env=env, timeout=1500)
        assert proc.returncode == 0, proc.stderr[-3000:]
        outs[name] = {str(p.relative_to(tmp_path / name)): p.read_bytes() for p in sorted((tmp_path / name).rglob("*"))
                      if p.is_file() and p.name != "job.yaml"
                      and not ({".vlpack", "report"} & set(p.relative_to(tmp_path / name).parts))}
    assert (tmp_path / "marker").exists(), "the fault hook never fired"
    assert outs["plain"] == outs["killed"]
    ledger = load_index(tmp_path / "plain", "ledger")
    scored = ledger.filter(pc.is_valid(ledger.column("lm_perplexity")))
    assert scored.num_rows > 0 and ledger.column("nsfw_score").null_count < ledger.num_rows
    assert "repairs" in ledger.column_names
