"""Stage fingerprints (issue 20): what each stage reads, and a golden digest of each stage's output on a
fixed corpus, so that a change of a stage's output without a bump of its version (which would serve
stale cached results) fails here.

When a stage's output changes on purpose: bump its version in `jobs/stage_keys.py`, then rewrite
the golden file with `VLPACK_UPDATE_GOLDEN=1 python -m pytest tests/jobs/test_stage_keys.py`.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pyarrow as pa
import pytest

from jobs.stage_keys import STAGES, changed_fields, stage_keys
from schemas.config import load_job_config

GOLDEN = Path(__file__).parent / "data" / "stage_golden.json"


def _digest(table: pa.Table, root: Path) -> str:
    """A digest of the rows (sorted), with the corpus directory written as <root>: media URIs are
    absolute paths."""
    cols = [c for c in table.column_names if not c.startswith("_")]
    rows = table.select(cols).sort_by([("sample_id", "ascending"), ("copy", "ascending")]).to_pylist()
    text = json.dumps(rows, sort_keys=True, default=str).replace(str(root), "<root>")
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """Each stage's output on a fixed demo corpus, in process (no Ray)."""
    from filters.dedup.local import dedupe_table
    from jobs import stages
    from jobs.file_stages import read_rows
    from jobs.demo_data import make_demo_dataset
    from jobs.planning import INDEX_COLUMNS, plan_in_process
    from jobs.readers import list_source_files

    root = tmp_path_factory.mktemp("golden")
    job = make_demo_dataset(root, samples=80, seed=11)
    cfg = load_job_config(job)
    tables = [read_rows(p, s, cfg)[0] for s in cfg.sources for p in list_source_files(s)]
    table = pa.concat_tables(tables, promote_options="permissive")
    for _, fn in stages.stage_plan(cfg):
        table, _ = fn(table)
    out = {"files": table}
    table, _ = dedupe_table(table, cfg.dedup, seed=cfg.seed)
    out["dedup"] = table
    post = dict(stages.post_dedup_plan(cfg))
    table, _ = post["tokens"](table)
    out["tokens"] = table
    table, _ = post["mix"](table)
    out["mix"] = table
    out["plan"] = pa.concat_tables([p.ledger for p in plan_in_process(cfg, table.select(INDEX_COLUMNS))])
    return {k: _digest(v, root.resolve()) for k, v in out.items()}


def test_no_stage_changes_its_output_without_a_version_bump(outputs):
    current = {name: {"version": STAGES[name].version, "digest": outputs[name]} for name in outputs}
    if os.environ.get("VLPACK_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
    golden = json.loads(GOLDEN.read_text())
    for name, now in current.items():
        was = golden[name]
        if now["version"] == was["version"]:
            assert now["digest"] == was["digest"], (
                f"stage {name!r} writes other output than at version {was['version']} but its version was not "
                f"bumped: cached results of the old code would be reused. Bump STAGES[{name!r}] in "
                f"jobs/stage_keys.py, then VLPACK_UPDATE_GOLDEN=1 python -m pytest {__file__}")
        else:
            assert now["version"] > was["version"], f"stage {name!r}: versions only go up"
            pytest.fail(f"stage {name!r} is at version {now['version']}: rewrite the golden file "
                        f"(VLPACK_UPDATE_GOLDEN=1 python -m pytest {__file__})")


def test_each_change_reaches_exactly_the_stages_that_read_it(demo_corpus):
    cfg = load_job_config(demo_corpus)
    files = ["f1", "f2"]
    base = {k: v.key for k, v in stage_keys(cfg, files, scorers_on=False).items()}

    def changed(**update) -> set[str]:
        new = cfg.model_copy(update=update)
        keys = {k: v.key for k, v in stage_keys(new, files, scorers_on=False).items()}
        return {k for k in keys if keys[k] != base[k]}

    weights = [s.model_copy(update={"weight": 2.0}) if i == 0 else s for i, s in enumerate(cfg.sources)]
    assert changed(sources=weights) == {"mix", "plan"}
    assert changed(mix=cfg.mix.model_copy(update={"task_weights": {"vqa": 2.0}})) == {"mix", "plan"}
    assert changed(pack=cfg.pack.model_copy(update={"context_length": 4096})) == {"plan"}
    assert changed(tokens=cfg.tokens.model_copy(update={"max_pixels": 512 * 28 * 28})) == {"tokens", "mix", "plan"}
    assert changed(dedup=cfg.dedup.model_copy(update={"threshold": 0.7})) == {"dedup", "tokens", "mix", "plan"}
    assert changed(seed=cfg.seed + 1) == {"dedup", "tokens", "mix", "plan"}
    assert changed(output=cfg.output.model_copy(update={"dir": "/elsewhere"}), ray=cfg.ray.model_copy(
        update={"batch_size": 7})) == set()
    # the per-file stages read filters, probe, grounding ...: their keys are per file (jobs.file_stages.file_key)
    assert set(STAGES["files"].reads(cfg)) == {"read", "tasks", "probe", "filters", "grounding", "learned_junk_model"}
    assert "scorers" not in STAGES["files"].reads(cfg)["filters"]


def test_the_files_stage_reads_the_junk_models_bytes(demo_corpus, tmp_path):
    """A model rewritten at the same path is new input: the per-file stage's key changes with it."""
    from filters.junk_model import JunkModel

    cfg = load_job_config(demo_corpus)
    model = tmp_path / "junk.tsv.gz"
    JunkModel({"w:spam": 1.0}, bias=0.0).save(model)

    def files_key(bias: float | None = None, enabled: bool = True) -> str:
        if bias is not None:
            JunkModel({"w:spam": 1.0}, bias=bias).save(model)
        rules = cfg.filters.rules.model_copy(update={"learned_junk": cfg.filters.rules.learned_junk.model_copy(
            update={"model_path": str(model), "enabled": enabled})})
        new = cfg.model_copy(update={"filters": cfg.filters.model_copy(update={"rules": rules})})
        return json.dumps(STAGES["files"].reads(new), sort_keys=True)

    first = files_key()
    assert files_key() == first
    assert files_key(bias=0.5) != first
    assert "learned_junk_model" not in files_key(enabled=False)


def test_the_field_that_changed_is_named():
    assert changed_fields({"pack": {"context_length": 8192, "dp_size": 2}},
                          {"pack": {"context_length": 4096, "dp_size": 2}}) == ["pack.context_length: 8192 → 4096"]


def test_fingerprints_are_the_sha256_of_the_whole_sorted_json():
    """`fingerprints` writes the JSON every key shares once; each key must still be the sha256 of
    the whole document (the formula cached results were stored under)."""
    import hashlib
    import json

    from jobs.stage_keys import STAGES, fingerprint, fingerprints

    reads = {"filters": {"b": [1, 2.5, None], "a": "é ✓"}, "read": {"x": True}}
    upstreams = [["/data/a.jsonl", "a.jsonl", "stat:1:2"], [], ["/data/é/ü.jsonl", "é/ü.jsonl", "sha256:ff"]]
    for stage in ("files", "dedup"):
        want = [hashlib.sha256(json.dumps(
            {"stage": stage, "version": STAGES[stage].version, "reads": reads, "upstream": up},
            sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()).hexdigest()[:24] for up in upstreams]
        assert fingerprints(stage, reads, upstreams) == want
        assert [fingerprint(stage, reads, up) for up in upstreams] == want
