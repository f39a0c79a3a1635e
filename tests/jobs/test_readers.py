"""Readers map every source format onto canonical rows; bad rows become ledger rows, never crashes."""

from __future__ import annotations

import io
import json
import os
import tarfile

import pytest
from PIL import Image

from jobs.readers import SourceFileError, read_jsonl, read_llava, read_wds
from packer.media import read_media_bytes
from schemas.config import SourceConfig


def _jpeg(w=64, h=48) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (200, 10, 10)).save(buf, "JPEG")
    return buf.getvalue()


def _src(tmp_path, fmt, path, **kw):
    return SourceConfig(name="s", format=fmt, path=str(path), root=str(tmp_path), **kw)


def test_jsonl_short_and_full_forms(tmp_path):
    (tmp_path / "a.jpg").write_bytes(_jpeg())
    lines = [
        {"id": "x1", "image": "a.jpg", "caption": "a red square", "width": 64, "height": 48},
        {"id": "x2", "task": "vqa", "media": [{"uri": "a.jpg"}],
         "turns": [{"role": "user", "segments": [{"kind": "image", "media": 0}, {"kind": "text", "text": "q?"}]},
                   {"role": "assistant", "segments": [{"kind": "text", "text": "a."}]}]},
        {"id": "x3", "text": "plain text only"},
    ]
    p = tmp_path / "d.jsonl"
    p.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    rows = read_jsonl(str(p), _src(tmp_path, "jsonl", p)).to_pylist()
    assert [r["sample_id"] for r in rows] == ["s/x1", "s/x2", "s/x3"]
    assert all(r["status"] == "ok" for r in rows)
    assert rows[0]["media"][0]["uri"] == str(tmp_path / "a.jpg") and rows[0]["media"][0]["width"] == 64
    assert rows[1]["task"] == "vqa" and rows[1]["turns"][0]["segments"][0] == {"kind": "image", "text": None, "media": 0}
    assert rows[2]["task"] == "text" and rows[2]["media"] == []


def test_jsonl_bad_lines_become_rows_with_reasons(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_bytes(b'{"id": "ok", "text": "fine"}\n{not json\n\xff\xfe\n{"id": "neg", "image": "a.jpg", '
                  b'"caption": "c", "width": -3, "height": 10}\n{"id": "esc", "image": "../../etc/passwd", "caption": "c"}\n')
    rows = read_jsonl(str(p), _src(tmp_path, "jsonl", p)).to_pylist()
    assert [(r["sample_id"], r["status"], r["reason"]) for r in rows] == [
        ("s/ok", "ok", None),
        ("s/d.jsonl:2", "invalid", "read.bad_json"),
        ("s/d.jsonl:3", "invalid", "read.not_utf8"),
        ("s/neg", "invalid", "read.bad_metadata"),
        ("s/esc", "invalid", "read.path_escapes_root"),
    ]


def test_symlink_escaping_root_is_rejected(tmp_path):
    outside = tmp_path.parent / f"{tmp_path.name}-outside.jpg"
    outside.write_bytes(_jpeg())
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(outside, root / "link.jpg")
    p = root / "d.jsonl"
    p.write_text(json.dumps({"id": "l", "image": "link.jpg", "caption": "c"}) + "\n")
    src = SourceConfig(name="s", format="jsonl", path=str(p), root=str(root))
    (row,) = read_jsonl(str(p), src).to_pylist()
    assert row["reason"] == "read.path_escapes_root"


def test_llava_placeholders_map_to_image_segments(tmp_path):
    (tmp_path / "a.jpg").write_bytes(_jpeg())
    data = [
        {"id": 1, "image": "a.jpg", "conversations": [{"from": "human", "value": "<image>\nWhat is it?"},
                                                     {"from": "gpt", "value": "A square."}]},
        {"id": 2, "image": "a.jpg", "conversations": [{"from": "human", "value": "<image><image> two?"},
                                                     {"from": "gpt", "value": "no"}]},
        {"id": 3, "conversations": []},
        {"id": 4, "image": "a.jpg", "conversations": [{"from": "human", "value": "<image> hi"}]},
    ]
    p = tmp_path / "l.json"
    p.write_text(json.dumps(data))
    rows = read_llava(str(p), _src(tmp_path, "llava", p, task="vqa")).to_pylist()
    assert rows[0]["status"] == "ok"
    assert rows[0]["turns"][0]["segments"][0] == {"kind": "image", "text": None, "media": 0}
    assert rows[0]["turns"][1]["role"] == "assistant"
    assert [r["reason"] for r in rows[1:]] == ["read.placeholder_mismatch", "read.empty_conversation",
                                               "read.no_assistant_turn"]


def _tar(path, members):
    with tarfile.open(path, "w") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_wds_reads_pairs_and_addresses_images_by_offset(tmp_path):
    img = _jpeg(30, 20)
    p = tmp_path / "000.tar"
    _tar(p, [("k1.jpg", img), ("k1.txt", b"a red square"), ("k1.json", b'{"width": 30, "height": 20}'),
             ("k2.jpg", img), ("k2.json", b'{"caption": "from json"}'),
             ("k3.txt", b"no image"),
             ("../evil.jpg", img), ("/abs.txt", b"x")])
    rows = read_wds(str(p), _src(tmp_path, "wds", p)).to_pylist()
    by = {r["sample_id"]: r for r in rows}
    assert by["s/000/k1"]["status"] == "ok" and by["s/000/k1"]["media"][0]["width"] == 30
    assert read_media_bytes(by["s/000/k1"]["media"][0]["uri"]) == img
    assert by["s/000/k2"]["turns"][0]["segments"][0]["text"] == "from json"
    assert by["s/000/k3"]["reason"] == "read.missing_media"
    assert sorted(r["reason"] for r in rows if r["reason"] == "read.unsafe_member_name") == ["read.unsafe_member_name"] * 2


def test_wds_duplicate_keys_are_marked(tmp_path):
    p = tmp_path / "001.tar"
    _tar(p, [("k.jpg", _jpeg()), ("k.txt", b"one"), ("k.txt", b"two")])
    (row,) = read_wds(str(p), _src(tmp_path, "wds", p)).to_pylist()
    assert row["reason"] == "read.duplicate_key"


def test_unreadable_file_names_itself(tmp_path):
    p = tmp_path / "x.tar"
    p.write_bytes(b"not a tar at all" * 100)
    with pytest.raises(SourceFileError, match="x.tar"):
        read_wds(str(p), _src(tmp_path, "wds", p))
