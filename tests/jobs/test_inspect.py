"""`vlpack inspect` over a real demo run: one pack decoded from its shard, checked against the ledger
and packs.parquet; clear failures without a manifest or for a pack that does not exist."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from jobs.commands.inspect import label_spans, load_manifest, read_pack, render_tokens, select_packs
from demo_output import committed_demo_output
from schemas.config import load_job_config
from schemas.manifest import load_index

WIDE = {"COLUMNS": "250", "NO_COLOR": "1"}


@pytest.fixture(scope="module")
def demo_out(ray_local, demo_corpus, tmp_path_factory):
    return committed_demo_output(demo_corpus, tmp_path_factory)


def _invoke(*args):
    from jobs.cli import app

    return CliRunner().invoke(app, ["inspect", *map(str, args)], env=WIDE)


def _content_packs(out):
    packs = load_index(out, "packs").to_pandas()
    return packs[~packs["is_filler"]]


def test_read_pack_matches_the_ledger_and_the_index(demo_out):
    manifest = load_manifest(demo_out)
    tok_special = manifest.special_tokens
    ledger = load_index(demo_out, "ledger").to_pandas()
    for pid in _content_packs(demo_out)["pack_id"].head(5):
        (row,) = select_packs(demo_out, int(pid), None, None, None)
        view = read_pack(demo_out, manifest, row)
        lay = view.layout
        assert (lay.pack_id, lay.step, lay.rank, lay.micro, lay.seq_len) == (
            row["pack_id"], row["step"], row["rank"], row["micro"], row["seq_len"])
        mine = ledger[ledger["pack_id"] == pid]
        assert sorted((s.id, s.copy_index) for s in lay.samples) == sorted(zip(mine["sample_id"], mine["copy"]))
        by_id = mine.set_index(["sample_id", "copy"])
        for s in lay.samples:
            r = by_id.loc[(s.id, s.copy_index)]
            assert (s.source, s.task, s.length, s.loss_tokens) == (r["source"], r["task"], r["total_tokens"],
                                                                   r["loss_tokens"])
            assert sum(b - a for a, b in label_spans(view.labels, s.offset, s.offset + s.length)) == s.loss_tokens
        assert len(view.input_ids) == len(view.labels) == lay.seq_len
        assert lay.real_tokens == row["real_tokens"] == sum(s.length for s in lay.samples)
        pads = {tok_special["<|image_pad|>"], tok_special["<|video_pad|>"]}
        for im in lay.images:
            assert set(view.input_ids[im.offset:im.offset + im.tokens].tolist()) <= pads
            if im.frames is None:
                assert im.member in view.media
            else:  # a video's sampled frames: KEY.<i>.f<frame>.<ext>
                assert len([k for k in view.media if k.startswith(im.member)]) == len(im.frames)


def test_inspect_shows_one_pack_decoded(demo_out):
    packs = _content_packs(demo_out)
    with_image = packs[packs["n_images"] > 0]
    pid = int((with_image if len(with_image) else packs)["pack_id"].iloc[0])
    res = _invoke(demo_out, "--pack", pid, "--max-chars", 100000)
    assert res.exit_code == 0, res.output
    manifest = load_manifest(demo_out)
    view = read_pack(demo_out, manifest, select_packs(demo_out, pid, None, None, None)[0])
    assert f"pack {pid}" in res.output and view.row["shard"] in res.output
    for s in view.layout.samples:
        assert s.id in res.output and s.source in res.output
        assert f"[{s.offset}, {s.offset + s.length})" in res.output
        for a, b in label_spans(view.labels, s.offset, s.offset + s.length):
            assert f"[{a}, {b})" in res.output
    assert "<|im_start|>" in res.output and "<|im_end|>" in res.output
    for im in view.layout.images:
        t, h, w = im.grid_thw
        assert f"({t}, {h}, {w})" in res.output and f"{im.target_size[0]} × {im.target_size[1]}" in res.output
    if view.layout.images:
        assert "pad|>×" in res.output
    assert "checks:" in res.output and "inconsistent" not in res.output


def test_inspect_by_step_and_rank_shows_every_micro_batch(demo_out):
    cfg = load_job_config(demo_out / "job.yaml")
    res = _invoke(demo_out, "--step", 0, "--rank", 1, "--no-text")
    assert res.exit_code == 0, res.output
    assert res.output.count("step 0  rank 1  micro") == cfg.pack.packs_per_rank_step
    assert "checks:" in res.output and "inconsistent" not in res.output


def test_inspect_fails_clearly(demo_out, tmp_path):
    res = _invoke(tmp_path / "missing")
    assert res.exit_code == 2 and "manifest.json" in res.output
    res = _invoke(tmp_path)
    assert res.exit_code == 2 and "manifest.json" in res.output and "not a committed vlpack output" in res.output
    n = load_manifest(demo_out).n_packs
    res = _invoke(demo_out, "--pack", n + 5)
    assert res.exit_code == 2 and f"pack {n + 5} does not exist" in res.output
    res = _invoke(demo_out, "--step", 0)
    assert res.exit_code == 2 and "--step and --rank go together" in res.output
    res = _invoke(demo_out, "--pack", 0, "--rank", 0, "--step", 0)
    assert res.exit_code == 2 and "not both" in res.output


def test_label_spans():
    labels = np.array([-100, 5, 6, -100, -100, 7, -100, 8, 9])
    assert label_spans(labels) == [(1, 3), (5, 6), (7, 9)]
    assert label_spans(labels, 2, 6) == [(2, 3), (5, 6)]
    assert label_spans(np.full(4, -100)) == []


def test_render_tokens_shows_special_tokens_and_collapses_pads():
    from packer.tokenizer import load_tokenizer

    tok = load_tokenizer("qwen")
    ids = np.array(tok.encode("<|im_start|>user\n<|vision_start|>") + [tok.special["<|image_pad|>"]] * 12
                   + tok.encode("<|vision_end|>hi<|im_end|>\n<|im_start|>assistant\nA cat.<|im_end|>"))
    labels = np.full(len(ids), -100)
    answer = len(ids) - len(tok.encode("A cat.<|im_end|>"))
    labels[answer:] = ids[answer:]
    text = render_tokens(ids, labels, tok, 10000)
    assert text.plain == ("<|im_start|>user\n<|vision_start|><|image_pad|>×12<|vision_end|>hi<|im_end|>\n"
                          "<|im_start|>assistant\nA cat.<|im_end|>")
    styled = {text.plain[s.start:s.end] for s in text.spans if s.style == "bold green"}
    assert styled == {"A cat.", "<|im_end|>"}


def test_inspect_without_a_selector_lists_packs_and_says_how_to_pick_one(demo_out):
    n = load_manifest(demo_out).n_packs
    res = _invoke(demo_out)
    assert res.exit_code == 0, res.output
    assert f"{n:,} packs" in res.output and "--pack ID" in res.output and "--step S --rank R" in res.output
    assert "── pack" not in res.output  # no pack is shown as if it had been asked for
    res = _invoke(demo_out, "--json")
    listed = json.loads(res.output)
    assert listed["n_packs"] == n and [p["pack_id"] for p in listed["packs"]] == list(range(min(n, 20)))


def test_inspect_json_is_one_object_per_pack_with_supervised_text(demo_out):
    packs = _content_packs(demo_out)
    pid = int(packs["pack_id"].iloc[0])
    res = _invoke(demo_out, "--pack", pid, "--json")
    assert res.exit_code == 0, res.output
    (obj,) = [json.loads(line) for line in res.output.splitlines()]
    view = read_pack(demo_out, load_manifest(demo_out), select_packs(demo_out, pid, None, None, None)[0])
    assert obj["pack"]["pack_id"] == pid and obj["consistent"] is True and obj["problems"] == []
    assert [s["id"] for s in obj["samples"]] == [s.id for s in view.layout.samples]
    for s, lay in zip(obj["samples"], view.layout.samples):
        assert s["supervised_spans"] == [list(x) for x in label_spans(view.labels, lay.offset, lay.offset + lay.length)]
        assert len(s["supervised_text"]) == len(s["supervised_spans"])
        assert all(t.endswith("<|im_end|>") or t for t in s["supervised_text"])


def test_inspect_piped_keeps_columns_whole_and_marks_supervised_text(demo_out):
    """Not a terminal and a narrow COLUMNS: no `sampl…`, and ⟦…⟧ around supervised text (no colour)."""
    from jobs.cli import app
    from jobs.commands.inspect import SUPERVISED_MARKS

    pid = int(_content_packs(demo_out)["pack_id"].iloc[0])
    res = CliRunner().invoke(app, ["inspect", str(demo_out), "--pack", str(pid), "--max-chars", "100000"],
                             env={"COLUMNS": "40", "NO_COLOR": "1"})
    assert res.exit_code == 0, res.output
    view = read_pack(demo_out, load_manifest(demo_out), select_packs(demo_out, pid, None, None, None)[0])
    assert "sample_id" in res.output and "…" not in res.output.split("text:")[0]
    for s in view.layout.samples:
        assert s.id in res.output
    assert res.output.count(SUPERVISED_MARKS[0]) >= len(view.layout.samples)
    assert res.output.count(SUPERVISED_MARKS[0]) == res.output.count(SUPERVISED_MARKS[1])


def test_render_tokens_marks_supervised_runs_once_each():
    from jobs.commands.inspect import SUPERVISED_MARKS
    from packer.tokenizer import load_tokenizer

    tok = load_tokenizer("qwen")
    ids = np.array(tok.encode("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nA cat.<|im_end|>"))
    labels = np.full(len(ids), -100)
    answer = len(ids) - len(tok.encode("A cat.<|im_end|>"))
    labels[answer:] = ids[answer:]
    a, b = SUPERVISED_MARKS
    assert render_tokens(ids, labels, tok, 10000, marks=True).plain == (
        f"<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n{a}A cat.<|im_end|>{b}")


def test_run_of_a_complete_output_says_so_once(demo_out):
    from jobs.cli import app

    res = CliRunner().invoke(app, ["run", str(demo_out / "job.yaml"), "--no-progress"], env=WIDE)
    assert res.exit_code == 0, res.output
    assert res.output.count("already complete") == 1
