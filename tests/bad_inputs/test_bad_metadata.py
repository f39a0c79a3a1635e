"""Bad media metadata (docs/bad-inputs.md, "Metadata"): NaN, negative or zero sizes, fps and
durations are `read.bad_metadata`; metadata that disagrees with the file header is counted, and the
header decides (`probe.header_wins`, on by default) and the row records the correction."""

from __future__ import annotations

import math

import pytest
from hostile_inputs import (
    CAPTION,
    fate,
    first_media,
    image_source,
    jpeg,
    job_config,
    png_bomb,
    write_jsonl,
    write_tar,
)

from jobs import stages
from jobs.readers import read_source_file

BAD = {"nan": math.nan, "negative": -1, "zero": 0, "inf": math.inf, "fraction": 1.5, "string": "12", "bool": True}
BAD_VALUES = pytest.mark.parametrize("value", list(BAD.values()), ids=list(BAD))
# a fractional fps or duration is fine; a fractional frame count is not
BAD_TIMING = [pytest.param(field, value, id=f"{field}-{name}") for field in ("fps", "duration", "frames")
              for name, value in BAD.items() if not (field != "frames" and name == "fraction")]


@BAD_VALUES
@pytest.mark.parametrize("field", ["width", "height"])
def test_bad_image_size_is_invalid(tmp_path, field, value):
    meta = {"width": 320, "height": 240, field: value}
    ledger = fate(job_config([image_source(tmp_path, {"a.jpg": jpeg()}, meta=meta)]))
    assert ledger == {"s/a.jpg": ("invalid", "read.bad_metadata")}


@pytest.mark.parametrize("field, value", BAD_TIMING)
def test_bad_video_timing_is_invalid(tmp_path, field, value):
    (tmp_path / "clip.mp4").write_bytes(b"\x00" * 64)  # never decoded: video is planned from metadata
    good = {"image": "clip.mp4", "caption": CAPTION, "width": 320, "height": 240, "fps": 2.0, "duration": 3.0}
    write_jsonl(tmp_path / "v.jsonl", [{"id": "ok", **good}, {"id": "bad", **good, field: value}])
    ledger = fate(job_config([{"name": "v", "format": "jsonl", "path": str(tmp_path / "v.jsonl")}]))
    assert ledger == {"v/ok": ("packed", None), "v/bad": ("invalid", "read.bad_metadata")}


@pytest.mark.parametrize("json_meta", [b'{"width": NaN, "height": 240}', b'{"width": -320, "height": 240}',
                                       b'{"width": 0, "height": 240}'], ids=["nan", "negative", "zero"])
def test_bad_size_in_a_tar_sidecar_is_invalid(tmp_path, json_meta):
    write_tar(tmp_path / "00000.tar", [("k.jpg", jpeg()), ("k.txt", CAPTION.encode()), ("k.json", json_meta)])
    assert fate(job_config([{"name": "w", "format": "wds", "path": str(tmp_path)}])) == {
        "w/00000/k": ("invalid", "read.bad_metadata")}


def _probe_counters(cfg) -> dict:
    (source,) = cfg.sources
    table = read_source_file(source.path, source)
    _, counters = dict(stages.stage_plan(cfg))["probe"](table)
    return counters


def test_metadata_disagreeing_with_the_header_is_overruled_and_recorded(tmp_path):
    # metadata says 5000x5000 for a real 160x120 image; planning 2,304 tokens from it would make
    # the bridge upsample the image many times over
    source = image_source(tmp_path, {"a.jpg": jpeg(160, 120)}, meta={"width": 5000, "height": 5000})
    cfg = job_config([source])
    assert fate(cfg) == {"s/a.jpg": ("packed", None)}
    m = first_media(cfg, "s/a.jpg")
    assert (m["width"], m["height"]) == (160, 120)  # tokens are planned from the header
    counters = _probe_counters(cfg)
    assert counters["probe.metadata_disagrees"] == 1 and counters["probe.metadata_size_mismatch"] == 1
    from hostile_inputs import run_rows

    (row,) = run_rows(cfg).to_pylist()
    from packer.tokens import image_tokens

    assert row["repairs"] == ["probe.metadata_size_mismatch"]
    assert row["vision_tokens"] == image_tokens(160, 120) + 2 < image_tokens(5000, 5000)


def test_metadata_disagreeing_with_the_header_is_kept_when_the_header_does_not_win(tmp_path):
    source = image_source(tmp_path, {"a.jpg": jpeg(320, 240)}, meta={"width": 1000, "height": 1000})
    cfg = job_config([source], probe={"header_wins": False})
    assert fate(cfg) == {"s/a.jpg": ("packed", None)}
    m = first_media(cfg, "s/a.jpg")
    assert (m["width"], m["height"]) == (1000, 1000)
    assert _probe_counters(cfg)["probe.metadata_disagrees"] == 1


def test_metadata_claiming_a_small_size_does_not_let_a_huge_image_through(tmp_path):
    # 90 M pixels: under the probe's own limit (100 M), over the image rule's (Pillow's 89.5 M)
    source = image_source(tmp_path, {"big.png": png_bomb(9500, 9500)}, meta={"width": 320, "height": 240})
    assert fate(job_config([source])) == {"s/big.png": ("filtered", "filter.image_too_large")}
