"""Broken and unusual images (docs/bad-inputs.md, "Images").

A broken file becomes one ledger row with its reason — with or without width/height in the
metadata, since the probe opens every image file (`ProbeConfig.check_files`). An odd but valid one
(EXIF orientation, CMYK / 16-bit / palette / alpha modes, animation) is planned at its upright
size, and the trainer bridge decodes it to exactly that size with the right colours.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from hostile_inputs import (
    animated,
    exif_jpeg,
    fate,
    first_media,
    garbage,
    image_source,
    jpeg,
    job_config,
    mode_image,
    picture,
    png,
    truncated,
    write_tar,
)
from PIL import Image

from packer.tokens import resized_size
from trainer_bridge.pixels import MediaDecodeError, decode_rgb

WITH_AND_WITHOUT_SIZE = pytest.mark.parametrize("meta", [None, {"width": 320, "height": 240}],
                                                ids=["no-metadata", "with-metadata"])


def _fate_of(tmp_path, name: str, data: bytes | None, meta=None, **sections):
    cfg = job_config([image_source(tmp_path, {name: data, "good.jpg": jpeg()}, meta=meta)], **sections)
    ledger = fate(cfg)
    assert ledger["s/good.jpg"] == ("packed", None)  # one bad file never takes a good one with it
    return ledger[f"s/{name}"]


@WITH_AND_WITHOUT_SIZE
@pytest.mark.parametrize("name, data", [("cut.jpg", truncated(jpeg())), ("cut.png", truncated(png()))])
def test_truncated_image_with_an_intact_header_is_invalid(tmp_path, name, data, meta):
    assert Image.open(io.BytesIO(data)).size == (320, 240)  # the header alone still reads
    assert _fate_of(tmp_path, name, data, meta) == ("invalid", "probe.truncated")
    with pytest.raises(MediaDecodeError, match=name):  # and the bridge would have failed on it
        decode_rgb(data, name)


def test_truncated_image_inside_a_tar_shard_is_invalid(tmp_path):
    write_tar(tmp_path / "00000.tar", [("k.jpg", truncated(jpeg())), ("k.txt", b"a dog in a park, running fast"),
                                      ("k.json", b'{"width": 320, "height": 240}')])
    cfg = job_config([{"name": "w", "format": "wds", "path": str(tmp_path)}])
    assert fate(cfg) == {"w/00000/k": ("invalid", "probe.truncated")}


@WITH_AND_WITHOUT_SIZE
@pytest.mark.parametrize("name", ["noise.jpg", "noise.png", "noise.webp"])
def test_garbage_bytes_with_an_image_extension_are_invalid(tmp_path, name, meta):
    assert _fate_of(tmp_path, name, garbage(), meta) == ("invalid", "probe.unreadable")


@WITH_AND_WITHOUT_SIZE
def test_zero_byte_file_is_invalid(tmp_path, meta):
    assert _fate_of(tmp_path, "empty.jpg", b"", meta) == ("invalid", "probe.empty")


def test_zero_byte_tar_member_is_invalid(tmp_path):
    write_tar(tmp_path / "00000.tar", [("k.jpg", b""), ("k.txt", b"a dog in a park, running fast")])
    cfg = job_config([{"name": "w", "format": "wds", "path": str(tmp_path)}])
    assert fate(cfg) == {"w/00000/k": ("invalid", "read.empty_media")}


@WITH_AND_WITHOUT_SIZE
def test_missing_file_is_invalid(tmp_path, meta):
    assert _fate_of(tmp_path, "gone.jpg", None, meta) == ("invalid", "probe.missing")


def test_a_directory_named_like_an_image_is_invalid(tmp_path):
    (tmp_path / "dir.jpg").mkdir()
    assert _fate_of(tmp_path, "dir.jpg", None) == ("invalid", "probe.unreadable")


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_plans_and_decodes_the_upright_size(tmp_path, orientation):
    data = exif_jpeg(orientation, 320, 160)
    cfg = job_config([image_source(tmp_path, {"r.jpg": data})])
    assert fate(cfg)["s/r.jpg"] == ("packed", None)
    m = first_media(cfg, "s/r.jpg")
    upright = (160, 320) if orientation >= 5 else (320, 160)
    assert (m["width"], m["height"], m["orientation"]) == (*upright, orientation)
    decoded = decode_rgb(data, "r.jpg")
    assert decoded.size == upright
    width, height = resized_size(*upright)  # the size the bridge resizes to: still upright
    assert (width > height) == (orientation < 5)


def _grey(im: Image.Image) -> np.ndarray:
    return np.asarray(im.convert("L"), dtype=np.int16)


@pytest.mark.parametrize("mode", ["CMYK", "I;16", "P", "LA", "RGBA"])
def test_unusual_modes_are_planned_and_converted_by_the_bridge(tmp_path, mode):
    data, ext = mode_image(mode)
    stored = Image.open(io.BytesIO(data))
    assert stored.mode == mode
    cfg = job_config([image_source(tmp_path, {f"m.{ext}": data})])
    assert fate(cfg)[f"s/m.{ext}"] == ("packed", None)
    assert (first_media(cfg, f"s/m.{ext}")["width"], first_media(cfg, f"s/m.{ext}")["height"]) == (200, 150)

    rgb = decode_rgb(data, f"m.{ext}")
    assert rgb.mode == "RGB" and rgb.size == (200, 150)
    got = np.asarray(rgb, dtype=np.int16)
    source_grey = np.asarray(picture(200, 150).convert("L"), dtype=np.int16)
    if mode == "I;16":  # 16-bit scaled by 255/65535, not clipped to white
        assert np.abs(got[..., 0] - source_grey).max() <= 1
        assert got.std() > 10
    elif mode == "LA":  # alpha 128 composited on white, not dropped
        expected = source_grey * (128 / 255) + 255 * (1 - 128 / 255)
        assert np.abs(got[..., 0] - expected).max() <= 2
    elif mode == "RGBA":  # opaque: the colours themselves
        assert np.array_equal(got, np.asarray(picture(200, 150), dtype=np.int16))
    elif mode == "P":  # the palette expanded, not its indices
        assert np.array_equal(got, np.asarray(stored.convert("RGB"), dtype=np.int16))
    else:  # CMYK: converted, not inverted
        assert np.abs(_grey(rgb) - source_grey).mean() < 8


@pytest.mark.parametrize("fmt, ext", [("GIF", "gif"), ("WEBP", "webp"), ("PNG", "png")], ids=["gif", "webp", "apng"])
def test_animated_images(tmp_path, fmt, ext):
    data = animated(fmt)
    name = f"anim.{ext}"
    # default: the image rules drop animation
    assert _fate_of(tmp_path / "a", name, data) == ("filtered", "filter.animated")
    # the probe can refuse it outright
    assert _fate_of(tmp_path / "b", name, data, probe={"animated": "reject"}) == ("invalid", "probe.animated")
    # or keep it: planned and decoded as its first frame
    keep = {"rules": {"animated": {"policy": "keep"}}}
    assert _fate_of(tmp_path / "c", name, data, filters=keep) == ("packed", None)
    first = np.asarray(decode_rgb(data, name), dtype=np.float32)
    assert first.shape == (150, 200, 3)
    frames = [np.asarray(picture(200, 150, seed=i), dtype=np.float32) for i in range(2)]
    assert np.abs(first - frames[0]).mean() < np.abs(first - frames[1]).mean()


def test_extension_that_lies_about_the_format(tmp_path):
    cfg = job_config([image_source(tmp_path, {"really_png.jpg": png()})])
    assert fate(cfg)["s/really_png.jpg"] == ("packed", None)
    assert first_media(cfg, "s/really_png.jpg")["format"] == "png"
