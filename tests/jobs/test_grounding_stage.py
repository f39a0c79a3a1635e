"""The grounding stage over a WORK_SCHEMA table, its config, and `vlpack validate-grounding`."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
import typer
from pydantic import ValidationError
from typer.testing import CliRunner

from jobs.commands import grounding as grounding_command
from jobs.grounding_stage import validate_grounding_batch
from schemas.config import ConfigError, parse_job_config
from schemas.grounding_config import GroundingConfig
from schemas.sample import WORK_SCHEMA, Media, Sample, Segment, Turn, records_to_table, with_work_columns

REF = "<|object_ref_start|>{}<|object_ref_end|>"
BOX = "<|box_start|>({},{}),({},{})<|box_end|>"


def sample(
    sid: str,
    answer: str,
    *,
    task: str = "grounding",
    prompt: str = "Where is the cat?",
    size: tuple[int, int] | None = (640, 480),
) -> Sample:
    media = [Media(uri=f"/data/{sid}.jpg", width=size[0], height=size[1])] if size else []
    user = [Segment(kind="image", media=0), Segment(text=prompt)] if size else [Segment(text=prompt)]
    return Sample(
        sample_id=sid,
        source="s",
        task=task,
        turns=[Turn(role="user", segments=user), Turn(role="assistant", segments=[Segment(text=answer)])],
        media=media,
    )


ROWS = [
    sample("good", "It is " + REF.format("cat") + BOX.format(10, 20, 300, 400) + "."),
    sample("swapped", REF.format("cat") + BOX.format(300, 400, 10, 20)),
    sample("unbalanced", REF.format("cat") + "<|box_start|>(10,20),(300,400)"),
    sample("spaced", REF.format("cat") + "<|box_start|>(10, 20),(300,400)<|box_end|>"),
    sample("thousand", REF.format("cat") + BOX.format(10, 20, 1000, 400)),
    sample("degenerate", REF.format("cat") + BOX.format(10, 20, 10, 400)),
    sample("json", '```json\n[{"bbox_2d": [64, 48, 320, 240], "label": "cat"}]\n```'),
    sample("caption", "A cat on a sofa.", task="caption"),
    sample("negative", "There is no " + REF.format("dog") + " in the image.", prompt="Find the dog."),
    sample(
        "prompt_tags",
        "Yes.",
        task="vqa",
        prompt="Is " + REF.format("it") + BOX.format(1, 2, 0, 4) + " a cat?",
    ),
    sample("no_image", REF.format("cat") + BOX.format(1, 2, 3, 4), size=None),
]


def table() -> pa.Table:
    t = with_work_columns(records_to_table(ROWS))
    status = t.column("status").to_pylist()
    status[ROWS.index(next(r for r in ROWS if r.sample_id == "no_image"))] = "filtered"
    return t.set_column(t.schema.get_field_index("status"), WORK_SCHEMA.field("status"), pa.array(status))


def fates(t: pa.Table) -> dict[str, tuple[str, str | None]]:
    return {
        r["sample_id"]: (r["status"], r["reason"])
        for r in t.select(["sample_id", "status", "reason"]).to_pylist()
    }


def answer(t: pa.Table, sid: str) -> str:
    row = next(r for r in t.to_pylist() if r["sample_id"] == sid)
    return row["turns"][1]["segments"][0]["text"]


def test_reject_mode_marks_each_bad_row_with_its_code():
    t0 = table()
    out, counts = validate_grounding_batch(t0, GroundingConfig(mode="reject", coords="auto"))
    assert out.schema == WORK_SCHEMA and out.num_rows == t0.num_rows
    assert out.column("sample_id").to_pylist() == t0.column("sample_id").to_pylist()
    assert fates(out) == {
        "good": ("ok", None),
        "swapped": ("invalid", "grounding.box_order"),
        "unbalanced": ("invalid", "grounding.unbalanced_tag"),
        "spaced": ("invalid", "grounding.whitespace_in_label"),
        "thousand": ("invalid", "grounding.out_of_range"),
        "degenerate": ("invalid", "grounding.degenerate_box"),
        "json": ("ok", None),
        "caption": ("ok", None),
        "negative": ("ok", None),
        "prompt_tags": ("invalid", "grounding.box_order"),  # tags in any turn are checked
        "no_image": ("filtered", None),  # only "ok" rows are touched
    }
    assert counts["grounding.checked"] == 9
    assert counts["grounding.box_order"] == 2 and counts["grounding.unbalanced_tag"] == 1
    assert out.column("turns").equals(t0.column("turns"))  # reject never rewrites


def test_repair_mode_fixes_the_unambiguous_and_rejects_the_rest():
    out, counts = validate_grounding_batch(
        table(), GroundingConfig(mode="repair", coords="auto", zero_pad=True)
    )
    f = fates(out)
    assert f["swapped"] == f["spaced"] == f["thousand"] == f["json"] == f["good"] == ("ok", None)
    assert f["unbalanced"] == ("invalid", "grounding.unbalanced_tag")
    assert f["degenerate"] == ("invalid", "grounding.degenerate_box")
    assert f["prompt_tags"] == ("ok", None)  # the user turn's box is repaired too
    assert answer(out, "swapped") == REF.format("cat") + BOX.format("010", "020", "300", "400")
    assert answer(out, "spaced") == REF.format("cat") + BOX.format("010", "020", "300", "400")
    assert answer(out, "thousand") == REF.format("cat") + BOX.format("010", "020", "999", "400")
    assert answer(out, "json") == REF.format("cat") + BOX.format("100", "100", "500", "500")
    assert answer(out, "good") == "It is " + REF.format("cat") + BOX.format("010", "020", "300", "400") + "."
    assert answer(out, "unbalanced") == ROWS[2].turns[1].segments[0].text  # a rejected row keeps its text
    prompt = next(r for r in out.to_pylist() if r["sample_id"] == "prompt_tags")["turns"][0]["segments"][1][
        "text"
    ]
    assert prompt == "Is " + REF.format("it") + BOX.format("000", "002", "001", "004") + " a cat?"
    assert counts["grounding.repair.swap_corners"] == 2
    assert counts["grounding.repair.strip_whitespace"] == 1
    assert counts["grounding.repair.clamp_1000"] == 1
    assert (
        counts["grounding.repair.json_to_tags"] == 1
        and counts["grounding.repair.absolute_to_normalized"] == 1
    )
    assert counts["grounding.repair.zero_pad"] == 5
    assert counts["grounding.repaired"] == 6
    assert out.schema == WORK_SCHEMA and out.num_rows == len(ROWS)


def test_off_mode_passes_through():
    t0 = table()
    out, counts = validate_grounding_batch(t0, GroundingConfig(mode="off"))
    assert out.equals(t0) and counts == {}


def test_absolute_coordinates_use_the_first_image_size():
    rows = [
        sample("abs", REF.format("cat") + BOX.format(64, 48, 640, 480), size=(640, 480)),
        sample("abs_rot", REF.format("cat") + BOX.format(64, 48, 640, 480), size=(480, 640)),
    ]
    t0 = with_work_columns(records_to_table(rows))
    out, _ = validate_grounding_batch(t0, GroundingConfig(coords="absolute"))
    assert fates(out) == {"abs": ("ok", None), "abs_rot": ("invalid", "grounding.outside_image")}
    out, counts = validate_grounding_batch(t0, GroundingConfig(mode="repair", coords="absolute"))
    assert answer(out, "abs") == REF.format("cat") + BOX.format(100, 100, 999, 999)
    assert fates(out)["abs_rot"] == ("invalid", "grounding.outside_image")


def test_require_labels_rejects_a_grounding_sample_without_labels():
    t0 = with_work_columns(
        records_to_table([sample("none", "I cannot tell."), sample("ref", REF.format("a cat"))])
    )
    out, _ = validate_grounding_batch(t0, GroundingConfig(require_labels=True))
    assert fates(out) == {"none": ("invalid", "grounding.no_labels"), "ref": ("ok", None)}
    out, _ = validate_grounding_batch(t0, GroundingConfig())
    assert fates(out) == {"none": ("ok", None), "ref": ("ok", None)}


def test_config_is_checked_where_it_enters():
    with pytest.raises(ValidationError, match="allowed"):
        GroundingConfig(extra_shapes=("circle",))
    assert GroundingConfig(extra_shapes=("polygon",)).shapes == ("point", "box", "quad", "polygon")
    base = {"sources": [{"name": "a", "format": "jsonl", "path": "a.jsonl"}]}
    with pytest.raises(ConfigError, match="grounding.clamp_tolerance = 2"):
        parse_job_config({**base, "grounding": {"clamp_tolerance": 2}})
    with pytest.raises(ConfigError, match="grounding.mode"):
        parse_job_config({**base, "grounding": {"mode": "fix"}})


# ---- the CLI ---------------------------------------------------------------------------------------


@pytest.fixture
def cli():
    app = typer.Typer()
    app.callback()(lambda: None)  # keep the command a sub-command, as under `vlpack`
    grounding_command.register(app)
    return app


def test_cli_reports_errors_with_spans_and_exits_1(cli, tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text(
        "fine " + REF.format("cat") + BOX.format(1, 2, 3, 4) + "\n"
        "\n"
        "bad " + "<|box_start|>(1, 2),(3,4)<|box_end|>\n"
    )
    result = CliRunner().invoke(cli, ["validate-grounding", str(path)])
    assert result.exit_code == 1, result.output
    assert "line 3: [whitespace_in_label] 20-21" in result.output
    assert "1 of 2 lines valid" in result.output


def test_cli_reads_jsonl_with_sizes_from_stdin(cli):
    lines = [
        json.dumps({"text": '[{"bbox_2d": [10, 10, 600, 400]}]', "width": 640, "height": 480}),
        json.dumps({"text": REF.format("cat") + BOX.format(1, 2, 3, 4)}),
    ]
    result = CliRunner().invoke(
        cli, ["validate-grounding", "-", "--coords", "auto"], input="\n".join(lines) + "\n"
    )
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(
        cli,
        ["validate-grounding", "-", "--coords", "auto", "--width", "100", "--height", "100"],
        input=lines[0],
    )
    assert result.exit_code == 0  # the record's own size wins over --width/--height
    result = CliRunner().invoke(
        cli,
        ["validate-grounding", "-", "--coords", "auto", "--width", "100", "--height", "100"],
        input='[{"bbox_2d": [10, 10, 600, 400]}]\n',
    )
    assert result.exit_code == 1 and "outside_image" in result.output


def test_cli_rejects_bad_options(cli):
    assert CliRunner().invoke(cli, ["validate-grounding", "-", "--coords", "px"], input="x\n").exit_code == 2
    assert CliRunner().invoke(cli, ["validate-grounding", "/no/such/file"]).exit_code == 2
    result = CliRunner().invoke(
        cli,
        ["validate-grounding", "-", "--shape", "polygon"],
        input="<|polygon_start|>(1,2),(3,4),(5,0)<|polygon_end|>\n",
    )
    assert result.exit_code == 0, result.output


QUAD_CW = "<|quad_start|>(10,10),(100,10),(100,100),(10,100)<|quad_end|>"
QUAD_CCW = "<|quad_start|>(10,10),(10,100),(100,100),(100,10)<|quad_end|>"


def test_a_json_line_without_text_is_invalid(cli):
    result = CliRunner().invoke(cli, ["validate-grounding", "-"], input='{"label": "<|box_start|>(1,2),(3,4)<|box_end|>"}\n')
    assert result.exit_code == 1 and "[no_text]" in result.output and "0 of 1 lines valid" in result.output


def test_counter_clockwise_quad_fails_unless_any_order_is_allowed(cli):
    result = CliRunner().invoke(cli, ["validate-grounding", "-"], input=QUAD_CCW + "\n" + QUAD_CW + "\n")
    assert result.exit_code == 1 and "line 1: [quad_order] 0-61: quad corners are counter-clockwise" in result.output
    assert "line 2" not in result.output.replace("1 of 2 lines valid", "")
    result = CliRunner().invoke(cli, ["validate-grounding", "-", "--quad-order", "any"], input=QUAD_CCW + "\n")
    assert result.exit_code == 0, result.output


def test_quad_order_errors_name_the_quad_and_the_canonical_order():
    from jobs.grounding_stage import quad_order_errors
    from schemas.grounding import validate

    text = "a " + REF.format("sign") + QUAD_CW + QUAD_CCW + " and <|quad_start|>(100,10),(100,100),(10,100),(10,10)<|quad_end|>"
    errors = quad_order_errors(text, validate(text))
    assert [text[a:b] for a, b in (e.span for e in errors)] == [
        QUAD_CCW, "<|quad_start|>(100,10),(100,100),(10,100),(10,10)<|quad_end|>"]
    assert "counter-clockwise" in errors[0].message and "not starting at the upper-left" in errors[1].message
    assert all(e.code == "quad_order" and "(10,10),(100,10),(100,100),(10,100)" in e.message for e in errors)


def test_sample_rows_are_checked_segment_by_segment_with_their_image_size(cli, tmp_path):
    """Spans point into the segment's own text (not the escaped JSON line); the row's image size wins."""
    full = {"id": "c", "task": "grounding", "media": [{"uri": "x.jpg", "width": 100, "height": 50}],
            "turns": [{"role": "user", "segments": [{"kind": "image", "media": 0}, {"kind": "text", "text": "Where?"}]},
                      {"role": "assistant", "segments": [
                          {"kind": "text", "text": 'here [{"bbox_2d": [10, 10, 120, 40]}] ok'}]}]}
    short = {"id": "s", "image": "x.jpg", "width": 640, "height": 480, "prompt": "Find it.",
             "answer": 'at [{"bbox_2d": [10, 10, 120, 40]}]'}
    msgs = {"id": "m", "images": ["x.jpg"], "messages": [
        {"role": "user", "content": "<image>Find the sign."},
        {"role": "assistant", "content": REF.format("sign") + QUAD_CCW}]}
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in (full, short, msgs)) + "\n")
    result = CliRunner().invoke(cli, ["validate-grounding", str(path), "--coords", "auto",
                                      "--width", "1000", "--height", "1000"])
    assert result.exit_code == 1, result.output
    out = result.output
    assert "line 1, turn 2 (assistant), text 1: [outside_image] 5-37:" in out and "100x50 image" in out
    assert "line 2" not in out.replace("1 of 3 lines valid", "")  # 640x480: the box fits
    assert "line 3, turn 2 (assistant), text 1: [quad_order] 42-103" in out  # no size: normalised tags
    assert "1 of 3 lines valid" in out


def test_an_unreadable_sample_row_names_the_reader_reason(cli):
    row = {"id": "g", "task": "grounding", "image": "x.jpg", "caption": "<|box_start|>(1,2),(3,4)<|box_end|>"}
    result = CliRunner().invoke(cli, ["validate-grounding", "-"], input=json.dumps(row) + "\n")
    assert result.exit_code == 1 and "[read.missing_prompt]" in result.output


def _mixed_table(seed: int, n: int = 400) -> pa.Table:
    """Many rows in random order: the rows above, plain captions and VQA rows, some with a trigger
    only in a segment that is not text, some not "ok"; as several chunks, sliced."""
    import random

    rng = random.Random(seed)
    plain = [sample(f"c{k}", f"A photo of a {w} on a sofa, the box_2d key aside.", task=t)
             for k, (w, t) in enumerate([("cat", "caption"), ("dog", "vqa"), ("lamp", "caption")])]
    rows = []
    for k in range(n):
        base = rng.choice(ROWS + plain * 6)
        rows.append(base.model_copy(update={"sample_id": f"{base.sample_id}-{k}"}))
    t = with_work_columns(records_to_table(rows))
    status = t.column("status").to_pylist()
    for k in rng.sample(range(n), n // 10):
        status[k] = "filtered"
    t = t.set_column(t.schema.get_field_index("status"), WORK_SCHEMA.field("status"), pa.array(status))
    cut = sorted(rng.sample(range(1, n), 3))
    chunks = [t.slice(a, b - a) for a, b in zip([0] + cut, cut + [n])]
    return pa.concat_tables(chunks).slice(5, n - 10)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("mode", ["reject", "repair"])
def test_a_large_mixed_batch_gives_each_row_what_it_gets_alone(seed, mode):
    from jobs.grounding_stage import has_grounding, rows_with_grounding, text_segments

    t = _mixed_table(seed)
    expected = [any(has_grounding(seg["text"]) for _, _, seg in text_segments(turns))
                for turns in t.column("turns").to_pylist()]
    assert rows_with_grounding(t.column("turns")).tolist() == expected
    cfg = GroundingConfig(mode=mode, coords="auto", zero_pad=True)
    out, counts = validate_grounding_batch(t, cfg)
    alone = [validate_grounding_batch(t.slice(i, 1), cfg) for i in range(t.num_rows)]
    assert out.schema == WORK_SCHEMA
    assert out.to_pylist() == [row for o, _ in alone for row in o.to_pylist()]
    summed: dict = {}
    for _, c in alone:
        for k, v in c.items():
            summed[k] = summed.get(k, 0) + v
    assert counts == dict(sorted(summed.items())) and counts["grounding.checked"] > 0


def test_a_null_row_whose_offsets_span_turns_does_not_shift_the_screen():
    """A null list entry may still span values in Arrow (its offsets are not empty); the screen
    must attach each segment to the row the flatten takes it from, not to the null row."""
    from schemas.sample import TURN_TYPE

    bad = "<|box_start|>(10,20),(5<|box_end|>"
    values = pa.array([{"role": "assistant", "segments": [{"kind": "text", "text": t, "media": None}]}
                       for t in ("hidden plain", "hidden plain 2", bad)], TURN_TYPE)
    turns = pa.ListArray.from_arrays(pa.array([0, 2, 3], pa.int32()), values, mask=pa.array([True, False]))
    cols = {f.name: pa.nulls(2, f.type) for f in WORK_SCHEMA}
    cols.update(sample_id=pa.array(["a", "b"]), source=pa.array(["s", "s"]), task=pa.array(["caption"] * 2),
                status=pa.array(["ok"] * 2), copy=pa.array([0, 0], pa.int32()),
                turns=turns.cast(WORK_SCHEMA.field("turns").type),
                media=pa.array([[], []], WORK_SCHEMA.field("media").type))
    out, counts = validate_grounding_batch(pa.table(cols, schema=WORK_SCHEMA), GroundingConfig(mode="reject"))
    assert out.column("status").to_pylist() == ["ok", "invalid"]
    assert counts["grounding.checked"] == 1
