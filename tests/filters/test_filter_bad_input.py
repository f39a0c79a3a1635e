"""Bad input never crashes the chain: arbitrary Unicode, arbitrary bytes (also as invalid UTF-8 inside
Arrow strings), and arbitrary bytes in image files."""

from __future__ import annotations

import unicodedata

import numpy as np
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from filters.caption_text import CaptionBatch, normalize_captions
from filters.chain import first_failing_text_rule, run_filters
from schemas.filter_config import FilterConfig
from schemas.sample import WORK_SCHEMA, SAMPLE_SCHEMA, assistant_text, with_work_columns

ALL_RULES_ON = FilterConfig(rules={"blank": True})
# Everything a Python str can hold and Arrow can store (lone surrogates cannot be UTF-8 encoded).
unicode_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80)
tricky_text = st.one_of(
    unicode_text,
    st.lists(st.sampled_from(["a", "the", " ", "\n", ".", "&amp;", "\x00", "\ufffd", "猫", "ๆ", "1", "www.", "Ã©"]),
             max_size=40).map("".join),
)  # fmt: skip


def caption_table(texts: list[str | None]) -> pa.Table:
    rows = [
        {"sample_id": str(i), "source": "s", "task": "caption",
         "turns": [{"role": "assistant", "segments": [{"kind": "text", "text": t, "media": None}]}], "media": []}
        for i, t in enumerate(texts)
    ]  # fmt: skip
    return with_work_columns(pa.Table.from_pylist(rows, schema=SAMPLE_SCHEMA))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(tricky_text, min_size=1, max_size=12))
def test_arbitrary_unicode_never_crashes_the_chain(texts):
    batch = CaptionBatch.from_texts(texts)
    reasons = first_failing_text_rule(batch, ALL_RULES_ON)
    assert len(reasons) == len(texts)
    table = caption_table(texts)
    out, counts = run_filters(table, ALL_RULES_ON)
    assert out.schema.equals(WORK_SCHEMA) and out.num_rows == len(texts)
    assert out.column("reason").to_pylist() == reasons.tolist()
    assert counts["filter.checked"] == len(texts)
    # language id runs on the rows no earlier text rule rejected, and only there
    reached = [r in (None, "filter.language") for r in reasons.tolist()]
    assert [lang is not None for lang in out.column("lang").to_pylist()] == reached
    # what was judged is what is stored
    stored = [assistant_text(t) for t in out.column("turns").to_pylist()]
    assert stored == batch.text.to_pylist()


def _strings_from_raw_bytes(values: list[bytes]) -> pa.Array:
    """An Arrow string array holding these exact bytes, valid UTF-8 or not (no validation)."""
    offsets = np.concatenate(([0], np.cumsum([len(v) for v in values]))).astype(np.int32)
    return pa.Array.from_buffers(pa.string(), len(values), [None, pa.py_buffer(offsets.tobytes()),
                                                            pa.py_buffer(b"".join(values))])  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(st.binary(max_size=60), min_size=1, max_size=10))
def test_arbitrary_bytes_as_caption_text_never_crash_and_invalid_utf8_is_flagged(values):
    texts = _strings_from_raw_bytes(values)
    seg = pa.StructArray.from_arrays(
        [pa.array(["text"] * len(values)), texts, pa.nulls(len(values), pa.int32())],
        names=["kind", "text", "media"],
    )
    turn = pa.StructArray.from_arrays(
        [pa.array(["assistant"] * len(values)),
         pa.ListArray.from_arrays(pa.array(np.arange(len(values) + 1, dtype=np.int32)), seg)],
        names=["role", "segments"],
    )  # fmt: skip
    turns = pa.ListArray.from_arrays(pa.array(np.arange(len(values) + 1, dtype=np.int32)), turn)
    table = caption_table([""] * len(values))
    table = table.set_column(
        table.schema.get_field_index("turns"), "turns", turns.cast(WORK_SCHEMA.field("turns").type)
    )
    out, _ = run_filters(table, ALL_RULES_ON)
    assert out.num_rows == len(values)
    for v, reason in zip(values, out.column("reason").to_pylist()):
        try:
            v.decode("utf-8")
        except UnicodeDecodeError:
            assert reason == "filter.bad_encoding"
    out.column("turns").validate(full=True)  # what was written back is valid UTF-8


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.binary(max_size=400),
    prefix=st.sampled_from([b"", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF89a"]),
)
def test_arbitrary_bytes_as_image_files_never_crash(tmp_path, data, prefix):
    path = tmp_path / "x.jpg"
    path.write_bytes(prefix + data)
    table = caption_table(["A dog running along the beach at sunset."])
    media = pa.array([[{"uri": str(path), "kind": "image"}]], WORK_SCHEMA.field("media").type)
    table = table.set_column(table.schema.get_field_index("media"), "media", media)
    out, _ = run_filters(table, ALL_RULES_ON)
    assert out.column("reason").to_pylist()[0] in (None, "filter.image_unreadable", "filter.blank",
                                                   "filter.image_too_small", "filter.aspect_ratio",
                                                   "filter.compression", "filter.image_too_large")  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(tricky_text, min_size=1, max_size=8))
def test_normalisation_is_idempotent_and_leaves_no_odd_whitespace_or_controls(texts):
    once = normalize_captions(pa.array(texts))
    assert normalize_captions(once).equals(once)
    for t in once.to_pylist():
        assert t == t.strip() and "  " not in t and "\n\n\n" not in t and "\x00" not in t
        assert not any(unicodedata.category(c) == "Cc" and c != "\n" for c in t)
        assert unicodedata.is_normalized("NFC", t)
