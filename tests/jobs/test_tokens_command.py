"""`vlpack tokens`: image and video forms, JSON output, rejections."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from jobs.commands.tokens import register
from packer.tokens import image_tokens


def app() -> typer.Typer:
    a = typer.Typer()
    register(a)

    @a.command("noop")  # a second command keeps typer in multi-command mode, as in `vlpack`
    def noop() -> None:
        pass

    return a


def invoke(*args: str):
    return CliRunner().invoke(app(), ["tokens", *args])


def test_image_json_and_table():
    res = invoke("--width", "1920", "--height", "1080", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["pad_tokens"] == image_tokens(1920, 1080) == 2304
    assert out["resized"] == [1792, 1008] and out["vision_tokens"] == 2306 and out["vit_patches"] == 9216
    table = invoke("--width", "640", "--height", "480")
    assert table.exit_code == 0 and "pad tokens" in table.output and "391" in table.output
    small = json.loads(invoke("-W", "1920", "-H", "1080", "--max-pixels", str(448 * 448), "--json").output)
    assert small["pad_tokens"] == image_tokens(1920, 1080, max_pixels=448 * 448)


def test_video_json_respects_budget():
    res = invoke("-W", "1920", "-H", "1080", "--video", "--duration", "1800", "--fps", "30",
                 "--task", "video_temporal", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["sample_fps"] == 1.0 and out["pad_tokens"] <= out["token_budget"] == 24576
    assert out["sampled_frames"] % 2 == 0 and out["grid_thw"][0] == out["sampled_frames"] // 2


def test_rejections():
    res = invoke("-W", "3000", "-H", "10", "--json")
    assert res.exit_code == 1 and json.loads(res.output)["reason"] == "tokens.aspect_ratio"
    assert invoke("-W", "10", "-H", "10", "--min-pixels", "5000", "--max-pixels", "1000").exit_code == 2


def test_a_bad_option_value_is_one_error_line_naming_the_option():
    res = invoke("--width", "10", "--height", "10", "--patch-size", "0")
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --patch-size = 0: ") and "1 <= x" in lines[0]
    assert "pydantic" not in res.output and "http" not in res.output
