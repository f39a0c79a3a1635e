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


# ---- the row forms of docs/input-formats.md ---------------------------------------------------


def _jsonl(tmp_path, rows, name="d.jsonl"):
    p = tmp_path / name
    p.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return p


def test_short_form_with_prompt_and_answer_needs_no_turns(tmp_path):
    (tmp_path / "a.jpg").write_bytes(_jpeg())
    box = "<|object_ref_start|>cat<|object_ref_end|><|box_start|>(10,20),(300,400)<|box_end|>"
    p = _jsonl(tmp_path, [
        {"id": "g1", "image": "a.jpg", "prompt": "Locate the cat.", "answer": box},
        {"id": "q1", "image": "a.jpg", "question": "What color?", "answer": "red", "task": "vqa"},
    ])
    g, q = read_jsonl(str(p), _src(tmp_path, "jsonl", p, task="grounding")).to_pylist()
    assert g["status"] == "ok" and g["task"] == "grounding"
    assert [t["role"] for t in g["turns"]] == ["user", "assistant"]
    assert g["turns"][0]["segments"][0]["text"] == "Locate the cat."
    assert g["turns"][1]["segments"][0]["text"] == box
    assert q["turns"][0]["segments"][0]["text"] == "What color?" and q["task"] == "vqa"


def test_grounding_and_vqa_short_rows_without_a_prompt_are_invalid(tmp_path):
    """The caption prompt must never stand in front of a box or an answer to an unknown question."""
    (tmp_path / "a.jpg").write_bytes(_jpeg())
    p = _jsonl(tmp_path, [{"id": "g", "image": "a.jpg", "text": "<|box_start|>(1,2),(3,4)<|box_end|>"},
                          {"id": "v", "image": "a.jpg", "text": "red", "task": "vqa"},
                          {"id": "c", "image": "a.jpg", "text": "a red square", "task": "caption"},
                          {"id": "p", "image": "a.jpg", "prompt": "Where is it?"}])
    rows = read_jsonl(str(p), _src(tmp_path, "jsonl", p, task="grounding")).to_pylist()
    assert [(r["sample_id"], r["reason"]) for r in rows] == [
        ("s/g", "read.missing_prompt"), ("s/v", "read.missing_prompt"), ("s/c", None), ("s/p", "read.missing_answer")]


def test_rows_of_no_accepted_form_say_so_and_the_hint_names_the_fields(tmp_path):
    from jobs.readers import REASON_HINTS, row_form

    p = _jsonl(tmp_path, [{"id": "u", "img": "a.jpg", "label": "cat"}])
    (row,) = read_jsonl(str(p), _src(tmp_path, "jsonl", p)).to_pylist()
    assert row["reason"] == "read.unknown_form"
    hint = REASON_HINTS["read.unknown_form"]
    for field in ("turns", "caption", "prompt", "answer", "conversations", "messages"):
        assert field in hint
    assert row_form({"img": 1}) == "unknown" and row_form({"turns": []}) == "full"
    assert row_form({"messages": []}) == "conversation" and row_form({"caption": "x"}) == "short"


def test_llava_conversations_one_per_line_read_as_jsonl_and_as_llava(tmp_path):
    (tmp_path / "a.jpg").write_bytes(_jpeg())
    conv = {"id": "l1", "image": "a.jpg", "conversations": [{"from": "human", "value": "<image>\nWhat is it?"},
                                                           {"from": "gpt", "value": "A square."}]}
    p = _jsonl(tmp_path, [conv])
    for fmt in ("jsonl", "llava"):
        (row,) = (read_jsonl if fmt == "jsonl" else read_llava)(str(p), _src(tmp_path, fmt, p, task="vqa")).to_pylist()
        assert row["status"] == "ok", fmt
        assert row["turns"][0]["segments"] == [{"kind": "image", "text": None, "media": 0},
                                               {"kind": "text", "text": "What is it?", "media": None}]
        assert row["turns"][1] == {"role": "assistant", "segments": [{"kind": "text", "text": "A square.",
                                                                       "media": None}]}


def test_llava_source_lists_jsonl_files(tmp_path):
    from jobs.readers import list_source_files

    (tmp_path / "a.json").write_text("[]")
    (tmp_path / "b.jsonl").write_text("")
    assert [os.path.basename(f) for f in list_source_files(_src(tmp_path, "llava", tmp_path))] == ["a.json", "b.jsonl"]


def test_sharegpt_messages_with_role_and_content(tmp_path):
    (tmp_path / "a.jpg").write_bytes(_jpeg())
    (tmp_path / "b.jpg").write_bytes(_jpeg())
    rows_in = [
        {"id": "m1", "images": ["a.jpg"], "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "<image>Which animal?"},
            {"role": "assistant", "content": "A cat."}]},
        {"id": "m2", "images": ["a.jpg", "b.jpg"], "messages": [
            {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "and"}, {"type": "image"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "two squares"}]}]},
        {"id": "m3", "messages": [{"role": "robot", "content": "hi"}]},
        {"id": "m4", "messages": []},
    ]
    p = _jsonl(tmp_path, rows_in)
    m1, m2, m3, m4 = read_jsonl(str(p), _src(tmp_path, "jsonl", p, task="vqa")).to_pylist()
    assert m1["status"] == "ok" and [t["role"] for t in m1["turns"]] == ["system", "user", "assistant"]
    assert m1["turns"][1]["segments"][0] == {"kind": "image", "text": None, "media": 0}
    assert [s["kind"] for s in m2["turns"][0]["segments"]] == ["image", "text", "image"]
    assert [s["media"] for s in m2["turns"][0]["segments"]] == [0, None, 1]
    assert (m3["reason"], m4["reason"]) == ("read.bad_turn", "read.empty_conversation")


def test_job_error_for_rows_of_no_accepted_form_hints_at_the_fields():
    import pyarrow as pa

    from jobs.planning import PlanError, RowsSummary, block_summary, check_bad_fraction
    from schemas.config import parse_job_config

    cfg = parse_job_config({"sources": [{"name": "s", "format": "jsonl", "path": "/x.jsonl"}]})
    block = pa.table({"sample_id": [f"s/{i}" for i in range(4)], "copy": [0] * 4, "source": ["s"] * 4,
                      "status": ["invalid"] * 4, "reason": ["read.unknown_form"] * 4})
    summary = RowsSummary()
    summary.add(block_summary(block).to_pylist()[0])
    with pytest.raises(PlanError, match=r"4 of 4 samples are invalid.*Hint: accepted row forms.*messages"):
        check_bad_fraction(cfg, summary)


def test_first_row_form_names_the_form_vlpack_check_reads(tmp_path):
    from jobs.readers import first_row_form

    cases = {
        "short.jsonl": ({"id": 1, "image": "a.jpg", "caption": "c"}, "jsonl", "short (caption)"),
        "qa.jsonl": ({"id": 1, "image": "a.jpg", "question": "q?", "answer": "a"}, "jsonl", "short (prompt + answer)"),
        "full.jsonl": ({"id": 1, "turns": []}, "jsonl", "full (turns/segments)"),
        "llava.jsonl": ({"id": 1, "conversations": []}, "llava", "conversation (LLaVA conversations)"),
        "chat.jsonl": ({"id": 1, "messages": []}, "jsonl", "conversation (ShareGPT messages)"),
        "odd.jsonl": ({"id": 1, "img": "a.jpg"}, "jsonl", "no accepted form"),
    }
    for name, (obj, fmt, want) in cases.items():
        p = _jsonl(tmp_path, [obj], name)
        assert first_row_form(str(p), _src(tmp_path, fmt, p)) == want, name
    (tmp_path / "l.json").write_text("[]")
    assert first_row_form(str(tmp_path / "l.json"), _src(tmp_path, "llava", tmp_path / "l.json")).startswith("conversation")
