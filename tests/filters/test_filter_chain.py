"""`run_filters` over WORK_SCHEMA tables: the contract the pipeline relies on."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from PIL import Image

from filters.caption_text import CaptionBatch, normalize_captions
from filters.chain import first_failing_text_rule, run_filters
from schemas.filter_config import FilterConfig
from schemas.sample import WORK_SCHEMA, Sample, assistant_text, records_to_table, with_work_columns


def sample(i, texts, task="caption", media=(), user="Describe the image."):
    turns = [
        {"role": "system", "segments": [{"kind": "text", "text": "  You   are helpful. "}]},
        {"role": "user", "segments": [{"kind": "image", "media": 0}, {"kind": "text", "text": user}]},
    ]
    turns += [{"role": "assistant", "segments": [{"kind": "text", "text": t}]} for t in texts]
    return Sample(sample_id=f"s{i}", source="src", task=task, turns=turns, media=list(media))


def table_of(samples) -> pa.Table:
    return with_work_columns(records_to_table(samples))


def image(tmp_path, name, w, h, quality=90):
    rng = np.random.default_rng(0)
    path = tmp_path / name
    Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(path, quality=quality)
    return {"uri": str(path), "kind": "image", "width": w, "height": h, "format": "JPEG"}


def test_marks_rows_with_reasons_and_keeps_shape_order_and_columns(tmp_path):
    good = image(tmp_path, "good.jpg", 300, 200)
    tiny = image(tmp_path, "tiny.jpg", 20, 20)
    samples = [
        sample(0, ["A black cat sleeping on a wooden windowsill."], media=[good]),
        sample(1, ["www.example.com"], media=[good]),
        sample(2, ["A dog running along the beach at sunset."], media=[tiny]),
        sample(3, ["www.example.com"], task="vqa", media=[good]),  # not a caption task: text not judged
        sample(4, ["yes"], task="vqa", media=[tiny]),  # ...but image rules apply to every task
        sample(5, ["sky"]),
    ]
    table = table_of(samples)
    out, counts = run_filters(table, FilterConfig())
    assert out.schema.equals(WORK_SCHEMA) and out.num_rows == table.num_rows
    assert out.column("sample_id").to_pylist() == table.column("sample_id").to_pylist()
    assert out.column("status").to_pylist() == ["ok", "filtered", "filtered", "ok", "filtered", "filtered"]
    assert out.column("reason").to_pylist() == [
        None, "filter.url", "filter.image_too_small", None, "filter.image_too_small", "filter.too_short"
    ]  # fmt: skip
    assert counts["filter.checked"] == 6
    assert (
        counts["filter.url"] == 1
        and counts["filter.image_too_small"] == 2
        and counts["filter.too_short"] == 1
    )
    assert counts["filter.language"] == 0  # every enabled rule is listed
    assert "filter.blank" not in counts  # opt-in, off
    # lang is filled on the text-checked rows that reached language id: not on rows of other tasks,
    # nor on rows an earlier text rule rejected (1: url, 5: too_short); row 2 failed an image rule only
    lang = out.column("lang").to_pylist()
    assert lang[0] == "en" and all(lang[i] for i in (0, 2)) and all(lang[i] is None for i in (1, 3, 4, 5))
    assert [s is None for s in out.column("lang_score").to_pylist()] == [lang is None for lang in lang]
    assert all(0 <= s <= 1 for s in out.column("lang_score").to_pylist() if s is not None)
    # untouched columns stay identical
    for name in ("sample_id", "source", "task", "media", "copy", "dup_of", "text_tokens"):
        assert out.column(name).equals(table.column(name))


def test_the_learned_junk_score_is_written_for_the_rows_that_reached_it():
    """`junk_score` is the score `learned_junk` judged by: on the rows it kept or rejected, the
    model's score as float32; null on rows an earlier rule rejected, rows of other tasks, and when
    the rule is off."""
    from filters.junk_model import junk_model

    texts = ["A black cat sleeping on a wooden windowsill.", "www.example.com",
             "Ein alter Mann liest eine Zeitung im Park.", "Click here to view the full size image gallery now",
             "Kuva ladattu palvelimelle eilen illalla kello kymmenen."]
    samples = [sample(i, [t]) for i, t in enumerate(texts)] + [sample(9, ["A dog on the sofa."], task="vqa")]
    out, counts = run_filters(table_of(samples), FilterConfig())
    reasons = out.column("reason").to_pylist()
    scores = out.column("junk_score").to_pylist()
    reached = [i for i, r in enumerate(reasons[:5]) if r in (None, "filter.learned_junk")]
    assert reasons[1] == "filter.url" and reasons[4] == "filter.language" and 0 in reached and 2 in reached
    assert [i for i, s in enumerate(scores) if s is not None] == reached  # not rows 1, 4 nor the vqa row
    expected = junk_model().scores(CaptionBatch.from_texts([texts[i] for i in reached]))
    assert np.array_equal(np.array([scores[i] for i in reached], np.float32), expected.astype(np.float32))
    for i in reached:
        assert (reasons[i] == "filter.learned_junk") == (expected[reached.index(i)] >= 0.85)
    off, _ = run_filters(table_of(samples), FilterConfig(rules={"learned_junk": False}))
    assert off.column("junk_score").null_count == off.num_rows


def test_only_ok_rows_are_touched():
    table = table_of([sample(0, ["www.example.com"]), sample(1, ["www.example.com"])])
    status = pa.array(["invalid", "ok"])
    table = table.set_column(table.schema.get_field_index("status"), "status", status)
    table = table.set_column(
        table.schema.get_field_index("reason"), "reason", pa.array(["probe.truncated", None])
    )
    out, counts = run_filters(table, FilterConfig())
    assert out.column("status").to_pylist() == ["invalid", "filtered"]
    assert out.column("reason").to_pylist() == ["probe.truncated", "filter.url"]
    assert out.column("lang").to_pylist()[0] is None
    assert counts["filter.checked"] == 1


def test_normalisation_is_written_back_into_assistant_segments_only():
    raw = [
        "  A  cat &amp; a dog\u00a0on   the sofa.\r\n\r\n\r\nThey sleep.\u200b ",
        "Cafe\u0301 tables outside.",
    ]
    table = table_of([sample(0, raw, user="  keep   my  spacing  ")])
    out, _ = run_filters(table, FilterConfig())
    turns = out.column("turns").to_pylist()[0]
    answers = [seg["text"] for turn in turns[2:] for seg in turn["segments"]]
    assert answers == ["A cat & a dog on the sofa.\n\nThey sleep.", "Café tables outside."]
    assert turns[1]["segments"][1]["text"] == "  keep   my  spacing  "  # user text untouched
    assert turns[0]["segments"][0]["text"] == "  You   are helpful. "  # system text untouched
    assert turns[1]["segments"][0] == {"kind": "image", "text": None, "media": 0}
    # the text the rules judged is assistant_text() of the rewritten turns
    assert assistant_text(turns) == "A cat & a dog on the sofa.\n\nThey sleep.\nCafé tables outside."


def test_rows_of_other_tasks_keep_their_text_untouched():
    table = table_of([sample(0, ["  two   spaces  "], task="vqa")])
    out, _ = run_filters(table, FilterConfig())
    assert out.column("turns").equals(table.column("turns"))


def test_tasks_setting_selects_rows():
    table = table_of([sample(0, ["www.example.com"], task="vqa"), sample(1, ["www.example.com"])])
    out, _ = run_filters(table, FilterConfig(tasks=("vqa",)))
    assert out.column("reason").to_pylist() == ["filter.url", None]


def test_disabled_filters_return_the_table_unchanged():
    table = table_of([sample(0, ["www.example.com"])])
    out, counts = run_filters(table, FilterConfig(enabled=False))
    assert out is table and counts == {"filter.checked": 0}


def test_disabled_rule_is_skipped():
    table = table_of([sample(0, ["www.example.com is my site"])])
    out, counts = run_filters(table, FilterConfig(rules={"url": False, "learned_junk": False}))
    assert out.column("status").to_pylist() == ["ok"] and "filter.url" not in counts


def test_empty_table_and_rows_without_assistant_text():
    empty = table_of([])
    out, counts = run_filters(empty, FilterConfig())
    assert out.num_rows == 0 and counts["filter.checked"] == 0
    no_answer = Sample(
        sample_id="x", source="s", turns=[{"role": "user", "segments": [{"kind": "text", "text": "hi"}]}]
    )
    out, _ = run_filters(table_of([no_answer]), FilterConfig())
    assert out.column("reason").to_pylist() == ["filter.empty"]


def test_chunked_and_sliced_tables_give_the_same_result():
    texts = [
        "A red car parked by a lake.",
        "www.x.com",
        "blue sky",
        "Ein Hund läuft über die Wiese.",
        "the the cat",
    ]
    table = table_of([sample(i, [t]) for i, t in enumerate(texts)])
    whole, _ = run_filters(table, FilterConfig())
    chunked = pa.concat_tables([table.slice(0, 2), table.slice(2)])
    assert chunked.column("turns").num_chunks == 2
    out, _ = run_filters(chunked, FilterConfig())
    assert out.combine_chunks().equals(whole.combine_chunks())
    part, _ = run_filters(table.slice(1, 3), FilterConfig())
    assert part.combine_chunks().equals(whole.slice(1, 3).combine_chunks())


def test_first_failing_rule_follows_the_documented_order():
    # url, too_short and language would all fail "www.x.com"; the first in order wins
    batch = CaptionBatch.from_texts(["www.x.com", "=== !!! ==="])
    assert first_failing_text_rule(batch, FilterConfig()).tolist() == ["filter.url", "filter.no_letters"]


def test_deterministic():
    texts = ["A red car.", "www.x.com", "一只小猫坐在窗台上晒太阳", "dog dog dog"]
    table = table_of([sample(i, [t]) for i, t in enumerate(texts)])
    a, ca = run_filters(table, FilterConfig())
    b, cb = run_filters(table, FilterConfig())
    assert a.equals(b) and ca == cb


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("e\u0301te\u0301", "été"),  # NFC
        ("e\x00\u0301 and e&#x301;", "é and é"),  # NFC after removing controls and unescaping
        ("Tom &amp;amp; Jerry &lt;3 &#233; &#x4E00;", "Tom & Jerry <3 é 一"),  # entities, twice escaped
        ("a\x00b\x07c\x1bd\u200be\ufeff", "abcde"),  # controls and invisible characters
        ("👨\u200d👩\u200d👧 family", "👨\u200d👩\u200d👧 family"),  # ZWJ kept
        ("a\t\tb\u3000c\u00a0d", "a b c d"),
        ("Line1  \r\n  Line2\u2028Line3\n\n\n\nLine4", "Line1\nLine2\nLine3\n\nLine4"),
        ("Line3\n\n\n\nline4", "Line3 line4"),  # a sentence split into paragraphs goes on
        ("line1  \r\n  line2\u2028line3", "line1 line2 line3"),  # a break before a small letter: a wrapped line
        ("  \n padded \n  ", "padded"),
        ("plain ascii stays", "plain ascii stays"),
    ],
)
def test_normalize_captions(raw, expected):
    assert normalize_captions(pa.array([raw])).to_pylist() == [expected]


def test_normalize_keeps_nulls_and_is_idempotent():
    arr = pa.array([None, "  a  &amp; b ", "x"])
    once = normalize_captions(arr)
    assert once.to_pylist() == [None, "a & b", "x"]
    assert pc.all(pc.equal(normalize_captions(once), once)).as_py()
