"""The whole pack job on a real local Ray runtime, over the demo corpus."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import webdataset as wds
from typer.testing import CliRunner

from jobs.cli import app
from schemas.config import load_job_config
from schemas.manifest import MANIFEST_NAME, Manifest, load_index


def _run(job: Path, out: Path, pack: dict | None = None, **ray_overrides):
    from jobs.pipeline import run_job

    cfg = load_job_config(job)
    cfg = cfg.model_copy(update={
        "output": cfg.output.model_copy(update={"dir": str(out), "overwrite": True}),
        "ray": cfg.ray.model_copy(update=ray_overrides),
        "pack": cfg.pack.model_copy(update=pack or {}),
    })
    return run_job(cfg)


def _digest(root: Path) -> dict:
    files = sorted(p for p in root.rglob("*")
                   if p.is_file() and "report" not in p.parts and ".vlpack" not in p.parts)
    return {str(p.relative_to(root)): p.read_bytes() for p in files if p.name != "job.yaml"}


@pytest.fixture(scope="module")
def demo_run(ray_local, demo_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("run1")
    return _run(demo_corpus, out), demo_corpus


def _input_rows(job: Path) -> set[str]:
    from jobs.readers import list_source_files, read_source_file

    ids = set()
    for s in load_job_config(job).sources:
        for f in list_source_files(s):
            ids.update(read_source_file(f, s).column("sample_id").to_pylist())
    return ids


def test_manifest_lists_every_shard_with_its_checksum(demo_run):
    result, _ = demo_run
    out = result.out_dir
    m = Manifest.model_validate_json((out / MANIFEST_NAME).read_text())
    assert m.n_packs > 0 and m.shards
    from packer.shards import file_sha256

    for s in m.shards:
        assert file_sha256(out / s.path) == s.sha256
    on_disk = sorted(str(p.relative_to(out)) for p in (out / "shards").rglob("*.tar"))
    assert on_disk == sorted(s.path for s in m.shards)
    assert not list(out.rglob(".*tmp*"))


def test_stock_webdataset_reads_every_pack_and_packs_fit(demo_run):
    result, _ = demo_run
    out = result.out_dir
    m = Manifest.model_validate_json((out / MANIFEST_NAME).read_text())
    urls = [str(out / s.path) for s in m.shards]
    n = 0
    for sample in wds.WebDataset(urls, shardshuffle=False).decode():
        layout = sample["json"]
        tokens = sample["tokens.npy"]
        labels = sample["labels.npy"]
        assert len(tokens) == len(labels) == layout["seq_len"] <= m.context_length
        assert layout["real_tokens"] <= layout["seq_len"]
        for img in layout["images"]:
            if img["kind"] == "image":
                assert img["member"] in sample
        n += 1
    assert n == m.n_packs


def test_equal_packs_per_rank_and_step(demo_run):
    result, _ = demo_run
    packs = load_index(result.out_dir, "packs").to_pandas()
    counts = packs.groupby(["step", "rank"]).size()
    assert counts.nunique() == 1
    m = result.manifest
    assert counts.iloc[0] == m.micro_batch * m.grad_accum
    assert set(packs["rank"]) == set(range(m.dp_size))


def test_ledger_accounts_for_every_input_row(demo_run):
    result, job = demo_run
    ledger = load_index(result.out_dir, "ledger").to_pandas()
    assert set(ledger.loc[ledger["copy"] == 0, "sample_id"]) == _input_rows(job)
    assert not ledger.duplicated(["sample_id", "copy"]).any()
    assert set(ledger["status"]) <= {"packed", "filtered", "invalid", "duplicate", "too_long", "remainder"}
    assert ledger.loc[ledger["status"] != "packed", "reason"].notna().all()
    packs = load_index(result.out_dir, "packs").to_pandas()
    packed = ledger[ledger["status"] == "packed"]
    real = packs[~packs["is_filler"]]
    assert real["n_samples"].sum() == len(packed)
    per_pack = packed.groupby("pack_id")["total_tokens"].sum()
    assert (per_pack.sort_index().values == real.set_index("pack_id").loc[per_pack.index, "real_tokens"].values).all()


def test_two_runs_are_byte_identical(demo_run, tmp_path):
    result, job = demo_run
    again = _run(job, tmp_path / "run2", batch_size=17)
    a, b = _digest(result.out_dir), _digest(again.out_dir)
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []


@pytest.mark.slow  # two pack jobs (~12 s); tests/packer/test_group_plan.py covers the groups without Ray
def test_many_planning_groups_keep_every_promise_and_are_deterministic(ray_local, demo_corpus, tmp_path):
    """Planning groups of 80 rows: every group planned by its own task, the index parts written by
    the tasks; the output is whole, balanced, readable by the bridge, and byte-identical whatever
    the blocks."""
    from trainer_bridge import PackedShardDataset

    small = {"plan_group_samples": 80}
    first = _run(demo_corpus, tmp_path / "a", pack=small)
    m = first.manifest
    assert len(m.index_parts["ledger"]) >= 4 and len(m.index_parts["packs"]) >= 4
    packs = load_index(first.out_dir, "packs").to_pandas()
    assert sorted(packs["pack_id"]) == list(range(m.n_packs))
    counts = packs.groupby(["step", "rank"]).size()
    assert counts.nunique() == 1 and counts.iloc[0] == m.micro_batch * m.grad_accum
    assert packs["step"].nunique() == m.n_steps
    ledger = load_index(first.out_dir, "ledger").to_pandas()
    assert set(ledger.loc[ledger["copy"] == 0, "sample_id"]) == _input_rows(demo_corpus)
    dropped = (ledger["status"] == "remainder").sum()
    assert dropped < m.micro_batch * m.grad_accum * m.dp_size * packs["n_samples"].max()
    ds = PackedShardDataset(first.out_dir, dp_rank=0, dp_size=m.dp_size)
    assert sum(1 for _ in ds) == m.n_packs // m.dp_size
    again = _run(demo_corpus, tmp_path / "b", pack=small, batch_size=13)
    a, b = _digest(first.out_dir), _digest(again.out_dir)
    assert [k for k in a.keys() | b.keys() if a.get(k) != b.get(k)] == []


def test_bad_config_exits_nonzero_naming_the_field(tmp_path):
    job = tmp_path / "job.yaml"
    job.write_text("sources: [{name: a, format: jsonl, path: a.jsonl}]\npack: {dp_size: 0}\n")
    proc = subprocess.run([sys.executable, "-m", "jobs.cli", "run", str(job)], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "pack.dp_size = 0" in proc.stderr and "1 <= x" in proc.stderr


def test_cli_demo_completes(tmp_path):
    """With progress on (the default) and stderr not a terminal: plain progress lines, every stage
    done, and none of Ray's start-up noise."""
    proc = subprocess.run([sys.executable, "-m", "jobs.cli", "demo", "--out", str(tmp_path / "d"), "--samples", "120"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    err = proc.stderr
    assert "making demo data: web_alt" in err and "vlpack: starting local Ray" in err
    for stage in ("read", "probe", "filter", "grounding", "dedup", "tokens", "mix", "pack", "write"):
        assert re.search(rf"^progress \[[\d.]+ (s|min|h)\]: {stage} done", err, flags=re.M), (stage, err)
    for noise in ("Token authentication", "Progress bars disabled", "available CPUs", "Traceback", "WARNING"):
        assert noise not in err, (noise, err)
    assert (tmp_path / "d" / "out" / MANIFEST_NAME).exists()
    assert "packs" in proc.stdout
    stats = json.loads((tmp_path / "d" / "out" / "report" / "stats.json").read_text())
    assert stats["balance"]["packs_per_rank_per_step_equal"] is True
    rep = CliRunner().invoke(app, ["report", str(tmp_path / "d" / "out")], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert rep.exit_code == 0 and "fill" in rep.output
