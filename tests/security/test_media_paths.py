"""Media paths and sample ids from hostile rows (docs/bad-inputs.md, "Archives and paths"): a path
may not leave the source root, by `..`, an absolute name or a symlink; a sample id is only ever a
string in the ledger, never a file name."""

from __future__ import annotations

import os

import pytest
from hostile_inputs import ANSWER, CAPTION, fate, fates_with_good, jpeg, job_config, jsonl_source, write_jsonl


@pytest.mark.parametrize("path", ["../outside.jpg", "sub/../../outside.jpg", "OUTSIDE_ABS", "/etc/passwd"],
                         ids=["dotdot", "nested-dotdot", "absolute-outside", "etc-passwd"])
def test_media_path_leaving_the_root_is_invalid(tmp_path, path):
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(jpeg())
    root = tmp_path / "root"
    root.mkdir()
    path = str(outside) if path == "OUTSIDE_ABS" else path
    ledger = fates_with_good(jsonl_source(root, [{"id": "x", "image": path, "caption": CAPTION}]))
    assert ledger["s/x"] == ("invalid", "read.path_escapes_root")


def test_absolute_path_inside_the_root_is_fine(tmp_path):
    ledger = fates_with_good(jsonl_source(tmp_path, [{"id": "x", "image": str(tmp_path / "a.jpg"), "caption": CAPTION}]))
    assert ledger["s/x"] == ("packed", None)


def test_symlink_escaping_the_root_is_invalid_and_one_inside_is_fine(tmp_path):
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(jpeg())
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    os.symlink(outside, root / "escape.jpg")
    os.symlink(tmp_path, root / "sub" / "updir")  # a directory link out, then down again
    records = [{"id": "link", "image": "escape.jpg", "caption": CAPTION},
               {"id": "dirlink", "image": "sub/updir/outside.jpg", "caption": CAPTION},
               {"id": "inside", "image": "sub/in.jpg", "caption": CAPTION}]
    source = jsonl_source(root, records)
    os.symlink(root / "a.jpg", root / "sub" / "in.jpg")
    ledger = fates_with_good(source)
    assert ledger["s/link"] == ledger["s/dirlink"] == ("invalid", "read.path_escapes_root")
    assert ledger["s/inside"] == ("packed", None)


def test_llava_image_path_leaving_the_root_is_invalid(tmp_path):
    from hostile_inputs import llava_source

    conv = {"id": "x", "image": "../../etc/hosts", "conversations": [{"from": "human", "value": "<image>"}, ANSWER]}
    assert fates_with_good(llava_source(tmp_path, [conv]))["l/x"] == ("invalid", "read.path_escapes_root")


@pytest.mark.parametrize("path", ["a.jpg\x00.png", "", 17, ["a.jpg", None]], ids=["nul", "empty", "number", "list"])
def test_malformed_media_path_is_invalid(tmp_path, path):
    ledger = fates_with_good(jsonl_source(tmp_path, [{"id": "x", "image": path, "caption": CAPTION}]))
    assert ledger["s/x"][0] == "invalid" and ledger["s/x"][1] in ("read.bad_media_path", "read.bad_media")


def test_duplicate_ids_within_a_file_keep_the_first_and_mark_the_rest(tmp_path):
    records = [{"id": "dup", "image": "a.jpg", "caption": CAPTION},
               {"id": "dup", "image": "a.jpg", "caption": "A different caption about a cat on a sofa."}]
    ledger = fates_with_good(jsonl_source(tmp_path, records))
    assert ledger["s/dup"] == ("packed", None)
    assert ledger["s/d.jsonl:3"] == ("invalid", "read.duplicate_id")


def test_path_like_sample_ids_never_become_file_names(tmp_path):
    """A hostile id only names a ledger row: reading and planning write no file (the end-to-end
    test, tests/bad_inputs/test_broken_source_job.py, checks a whole job writes only under OUT)."""
    root = tmp_path / "deep" / "er" / "src"
    root.mkdir(parents=True)
    (root / "a.jpg").write_bytes(jpeg())
    ids = ["../../../escape", "/etc/passwd", "..", "a/../../b", "x\\..\\y"]
    write_jsonl(root / "d.jsonl", [{"id": i, "image": "a.jpg", "caption": CAPTION} for i in ids])
    before = sorted(tmp_path.rglob("*"))
    ledger = fate(job_config([{"name": "s", "format": "jsonl", "path": str(root / "d.jsonl")}]))
    assert ledger == {f"s/{i}": ("packed", None) for i in ids}
    assert sorted(tmp_path.rglob("*")) == before
