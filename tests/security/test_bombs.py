"""Decompression bombs (docs/bad-inputs.md, "Images"): a few hundred bytes that claim billions of
pixels are refused from their header, by the probe, before any decoder runs; the trainer bridge
refuses them too, with an error naming the member."""

from __future__ import annotations

import warnings

import pytest
from hostile_inputs import (
    CAPTION,
    fate,
    gif_bomb,
    image_source,
    jpeg_bomb,
    job_config,
    png_bomb,
    png_text_bomb,
    webp_bomb,
    write_tar,
)
from PIL import ImageFile

from trainer_bridge.pixels import MediaDecodeError, decode_rgb

BOMBS = {"bomb.png": png_bomb, "bomb.gif": gif_bomb, "bomb.jpg": jpeg_bomb, "bomb.webp": webp_bomb}


@pytest.fixture
def no_decoding(monkeypatch):
    """A tripwire: any pixel decoding while the job reads, probes, filters and plans fails the test."""

    def refuse(self, *a, **k):
        raise AssertionError(f"pixels of {self.format} were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


@pytest.mark.parametrize("meta", [None, {"width": 320, "height": 240}], ids=["no-metadata", "lying-metadata"])
@pytest.mark.parametrize("name", sorted(BOMBS))
def test_bomb_is_refused_from_its_header(tmp_path, name, meta, no_decoding):
    data = BOMBS[name]()
    assert len(data) < 2048
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not even a DecompressionBombWarning
        ledger = fate(job_config([image_source(tmp_path, {name: data}, meta=meta)]))
    assert ledger == {f"s/{name}": ("invalid", "probe.too_many_pixels")}


def test_the_issue_bomb_is_a_tiny_png_claiming_20000_squared(tmp_path, no_decoding):
    data = png_bomb(20000, 20000)
    assert len(data) < 1024
    ledger = fate(job_config([image_source(tmp_path, {"bomb.png": data})]))
    assert ledger == {"s/bomb.png": ("invalid", "probe.too_many_pixels")}


def test_bomb_inside_a_tar_shard(tmp_path, no_decoding):
    write_tar(tmp_path / "00000.tar", [("k.png", png_bomb()), ("k.txt", CAPTION.encode()),
                                      ("k.json", b'{"width": 64, "height": 64}')])
    ledger = fate(job_config([{"name": "w", "format": "wds", "path": str(tmp_path)}]))
    assert ledger == {"w/00000/k": ("invalid", "probe.too_many_pixels")}


def test_compressed_text_chunk_bomb_is_a_bad_header(tmp_path):
    data = png_text_bomb(200)  # 200 MB of zTXt in a 200 KB file, before the pixels
    assert len(data) < 1_000_000
    ledger = fate(job_config([image_source(tmp_path, {"text.png": data})]))
    assert ledger == {"s/text.png": ("invalid", "probe.bad_header")}


def test_our_pixel_limit_is_configurable(tmp_path):
    source = image_source(tmp_path, {"big.png": png_bomb(4000, 3000)})
    assert fate(job_config([source], probe={"max_header_pixels": 10_000_000})) == {
        "s/big.png": ("invalid", "probe.too_many_pixels")}


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_the_bridge_refuses_a_bomb_naming_the_member(name):
    with pytest.raises(MediaDecodeError, match=f"pack-7.0.{name}"):
        decode_rgb(BOMBS[name](), f"pack-7.0.{name}")
