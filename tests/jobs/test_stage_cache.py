"""Per-stage caching (issue 20): a change re-runs exactly the stages that read it, the output is
byte-identical to a run from scratch, damaged entries are recomputed, the cache is shared and
bounded."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from schemas.config import load_job_config

PRE_PLAN = ("files", "dedup", "tokens", "mix")


def _cfg(job: Path, out: Path, cache: Path | None = None, **sections):
    cfg = load_job_config(job)
    update = {"output": cfg.output.model_copy(update={"dir": str(out), "overwrite": True})}
    if cache is not None:
        update["cache"] = cfg.cache.model_copy(update={"dir": str(cache)})
    for name, change in sections.items():
        section = getattr(cfg, name)
        if name == "sources":
            update[name] = [s.model_copy(update=change.get(s.name, {})) for s in cfg.sources]
        elif name == "filters":
            rules = section.rules.model_copy(update={k: getattr(section.rules, k).model_copy(update=v)
                                                     for k, v in change.items()})
            update[name] = section.model_copy(update={"rules": rules})
        else:
            update[name] = section.model_copy(update=change)
    return cfg.model_copy(update=update)


def _digest(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not {"report", ".vlpack"} & set(p.relative_to(root).parts) and p.name != "job.yaml"}


def _ran(result) -> dict:
    return result.stats["stages_run"]


CHANGES = {
    # what changes -> the stages that must run again (all others reused)
    "weights": ({"sources": {"web_alt": {"weight": 2.0}, "text_only": {"weight": 0.25}}}, {"mix"}),
    "pack": ({"pack": {"context_length": 4096, "dp_size": 1}}, {"mix"}),
    "tokens": ({"tokens": {"system_prompt": "You see images."}}, {"tokens", "mix"}),
    "filter": ({"filters": {"too_short": {"min_words": 4}}}, {"files", "dedup", "tokens", "mix"}),
}


@pytest.fixture(scope="module")
def cached(ray_local, demo_corpus, tmp_path_factory):
    from jobs.pipeline import run_job

    base = tmp_path_factory.mktemp("cache")
    first = run_job(_cfg(demo_corpus, base / "out", base / "cache"))
    return base, first


def _check(kind: str, demo_corpus, base: Path, tmp_path: Path, *, compare: bool) -> None:
    from jobs.pipeline import run_job

    change, rerun = CHANGES[kind]
    again = run_job(_cfg(demo_corpus, tmp_path / "again", base / "cache", **change))
    ran = _ran(again)
    computed = {s for s in PRE_PLAN if ran.get(s) == "computed"} | ({"files"} if again.timings["files_computed"] else set())
    assert computed == rerun, (kind, ran)
    if compare:
        scratch = run_job(_cfg(demo_corpus, tmp_path / "scratch", tmp_path / "own-cache", **change), force=True)
        a, b = _digest(again.out_dir), _digest(scratch.out_dir)
        assert [k for k in a.keys() | b.keys() if a.get(k) != b.get(k)] == [], kind


def test_changing_only_the_weights_reruns_only_the_mix_and_matches_a_run_from_scratch(cached, demo_corpus, tmp_path):
    base, first = cached
    assert _ran(first)["tokens"] == "computed" and first.timings["files_computed"] == first.manifest.n_input_files
    _check("weights", demo_corpus, base, tmp_path, compare=True)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["pack", "tokens", "filter"])
def test_each_kind_of_change_reruns_what_reads_it_and_matches_a_run_from_scratch(kind, cached, demo_corpus, tmp_path):
    base, _ = cached
    _check(kind, demo_corpus, base, tmp_path, compare=True)


def test_a_damaged_entry_is_recomputed_with_a_warning_naming_it(cached, demo_corpus, tmp_path, caplog):
    from jobs.pipeline import run_job
    from jobs.stage_cache import StageCache

    base, first = cached
    cache = StageCache(base / "cache", 1 << 40)
    entry = max((cache.root / "tokens").iterdir(), key=lambda p: p.stat().st_mtime)
    part = next(entry.glob("part-*.parquet"))
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0xFF
    part.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="vlpack"):
        again = run_job(_cfg(demo_corpus, tmp_path / "again", base / "cache"))
    assert any(str(entry) in r.getMessage() and "damaged" in r.getMessage() for r in caplog.records)
    assert _ran(again)["tokens"] == "computed"
    assert _digest(again.out_dir) == _digest(first.out_dir)


def test_eviction_keeps_what_the_run_uses_and_drops_the_least_recently_used(tmp_path):
    import os
    import time

    from jobs.stage_cache import ENTRY, StageCache

    cache = StageCache(tmp_path, max_bytes=2500)
    for i, stage in enumerate(("dedup", "tokens", "score")):
        d = tmp_path / stage / f"k{i}"
        d.mkdir(parents=True)
        (d / "part-x.parquet").write_bytes(b"x" * 1000)
        (d / ENTRY).write_text("{}")
        os.utime(d / ENTRY, (time.time() - 100 + i, time.time() - 100 + i))
    cache.touch(tmp_path / "dedup" / "k0")  # oldest on disk until now; used by this run
    removed = cache.evict()
    assert removed == [tmp_path / "tokens" / "k1"]
    assert (tmp_path / "dedup" / "k0").exists() and (tmp_path / "score" / "k2").exists()


def test_plan_says_what_would_rerun_and_why_and_previews_without_writing(cached, demo_corpus, tmp_path):
    import json

    import yaml
    from typer.testing import CliRunner

    from jobs.cli import app

    base, first = cached
    data = yaml.safe_load(demo_corpus.read_text())
    for s in data["sources"]:
        s["path"] = str(demo_corpus.parent / s["path"])
        if "root" in s:
            s["root"] = str(demo_corpus.parent / s["root"])
    data["output"] = {"dir": str(base / "out"), "overwrite": True}
    data["cache"] = {"dir": str(base / "cache")}
    data["sources"][0]["weight"] = 2.0
    job = tmp_path / "job.yaml"
    job.write_text(yaml.safe_dump(data))
    before = {p: p.stat().st_mtime_ns for p in (base / "out").rglob("*") if p.is_file()}
    result = CliRunner().invoke(app, ["plan", str(job), "--json"])
    assert result.exit_code == 0, result.output
    got = json.loads(result.output)
    actions = {d["stage"]: d["action"] for d in got["stages"]}
    assert actions["tokens"] == "reused" and actions["mix"] == "re-run" and actions["dedup"] == "not needed"
    p = got["preview"]
    assert p["packs"] > 0 and 1.0 <= p["bins_over_lower_bound"] < 1.5
    assert abs(sum(v["samples"] for v in p["share_by_source"].values()) - 1.0) < 1e-3
    assert {q: q.stat().st_mtime_ns for q in (base / "out").rglob("*") if q.is_file()} == before  # wrote nothing
    assert got["output"]["run_refused"] is False and "another config" in got["output"]["state"]
    # without output.overwrite, a run would refuse: plan (and check) say so and exit non-zero
    data["output"]["overwrite"] = False
    job.write_text(yaml.safe_dump(data))
    for command in (["plan", str(job), "--json"], ["check", str(job)]):
        refused = CliRunner().invoke(app, command)
        assert refused.exit_code == 1 and "would refuse" in refused.output, (command, refused.output)
    data["output"]["overwrite"] = True
    data["filters"] = {"rules": {"too_short": {"min_words": 4}}}
    job.write_text(yaml.safe_dump(data))
    got = json.loads(CliRunner().invoke(app, ["plan", str(job), "--json"]).output)
    files = next(d for d in got["stages"] if d["stage"] == "files")
    assert files["action"] == "re-run" and "filters.rules.too_short.min_words: 2 → 4" in files["why"], files
    assert got["preview"] is None


def test_a_second_save_of_a_key_leaves_only_the_parts_its_entry_lists(ray_local, tmp_path):
    """`--force` saves a key again, maybe with other block boundaries (other part names): the
    parts of the earlier save are removed, the entry lists every part on disk and loads whole."""
    import time

    import pyarrow as pa
    import pyarrow.parquet as pq
    import ray

    from jobs.stage_cache import StageCache

    table = pa.table({"sample_id": [f"s{i}" for i in range(1000)], "x": list(range(1000))})
    cache = StageCache(tmp_path, max_bytes=1 << 30)
    cache.save("tokens", "k", ray.data.from_arrow([table.slice(0, 500), table.slice(500)]), {})
    first = sorted(p.name for p in (tmp_path / "tokens" / "k").glob("part-*.parquet"))
    time.sleep(0.05)  # mtimes of the first save's parts fall before the second begins
    cache.save("tokens", "k", ray.data.from_arrow([table.slice(0, 300), table.slice(300, 400), table.slice(700)]), {})
    on_disk = sorted(p.name for p in (tmp_path / "tokens" / "k").glob("part-*.parquet"))
    paths, _ = cache.load("tokens", "k")
    assert len(first) == 2 and len(on_disk) == 3 and not set(first) & set(on_disk)
    assert sorted(Path(p).name for p in paths) == on_disk
    assert pa.concat_tables([pq.read_table(p) for p in sorted(paths)]).num_rows == 1000
