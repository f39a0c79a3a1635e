"""Every example row in docs/input-formats.md and the README reads as a valid sample, in the form
and with the task the docs say, and every `read.*` reason the docs list is one the readers give."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from jobs.readers import REASON_HINTS, canonical_row, conversation_row, row_form
from schemas.config import SourceConfig

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "input-formats.md"


def _json_examples(path: Path) -> list[dict]:
    """Every JSON object in the ```json blocks of a markdown file (one per line or spread over lines)."""
    objs = []
    for block in re.findall(r"```json\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S):
        text, dec = block.strip(), json.JSONDecoder()
        while text:
            obj, end = dec.raw_decode(text)
            objs.append(obj)
            text = text[end:].strip()
    return objs


@pytest.mark.parametrize("path", [DOC, ROOT / "README.md"], ids=["input-formats", "README"])
def test_every_documented_row_reads_as_a_valid_sample(tmp_path, path):
    examples = _json_examples(path)
    assert len(examples) >= 6
    source = SourceConfig(name="doc", format="jsonl", path=str(tmp_path / "d.jsonl"), root=str(tmp_path))
    for obj in examples:
        row = canonical_row(obj, source, str(tmp_path), str(obj.get("id", "x")))
        assert row["status"] == "ok" and row_form(obj) != "unknown", obj
        assert row["task"] == obj.get("task", "caption" if obj.get("image") or obj.get("images") else "text"), obj
        assert any(t["role"] == "assistant" for t in row["turns"])
        if obj.get("task") in ("vqa", "grounding"):
            assert row["turns"][0]["role"] == "user", obj


def test_conversation_examples_also_read_as_a_llava_source(tmp_path):
    source = SourceConfig(name="doc", format="llava", path=str(tmp_path / "d.json"), root=str(tmp_path))
    convs = [o for o in _json_examples(DOC) if row_form(o) == "conversation"]
    assert {("conversations" in o) for o in convs} == {True, False}
    for obj in convs:
        assert conversation_row(obj, source, str(tmp_path), "x")["status"] == "ok"


def test_the_documented_read_reasons_exist():
    documented = set(re.findall(r"`(read\.[a-z_]+)`", DOC.read_text(encoding="utf-8")))
    code = (ROOT / "jobs" / "readers.py").read_text(encoding="utf-8")
    given = set(re.findall(r'"(read\.[a-z_]+)"', code))
    assert documented <= given, documented - given
    assert set(REASON_HINTS) <= given
