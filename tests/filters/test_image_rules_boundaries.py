"""Every threshold of the image rules at, just below and just above its limit, on real PNG/JPEG
files made with Pillow (the metadata sizes are the files' own)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from filters.image_rules import ImageBatch
from filters.catalogue import rule
from schemas.filter_config import RulesConfig


def _png(tmp_path, w: int, h: int, pixels: np.ndarray | None = None) -> str:
    path = tmp_path / f"{w}x{h}-{0 if pixels is None else int(pixels.sum())}.png"
    img = Image.fromarray(pixels) if pixels is not None else Image.new("RGB", (w, h), (90, 120, 150))
    img.save(path)
    return str(path)


def _keep(name: str, paths: list[str], bytes_size=None, **params) -> list[bool]:
    sizes = [Image.open(p).size for p in paths]
    batch = ImageBatch(row=np.arange(len(paths)), uri=paths,
                       width=np.array([s[0] for s in sizes], np.float64),
                       height=np.array([s[1] for s in sizes], np.float64),
                       bytes_size=np.full(len(paths), np.nan) if bytes_size is None else np.asarray(bytes_size, float),
                       format=[None] * len(paths))
    cfg = getattr(RulesConfig(), name).model_copy(update=params)
    return rule(name).fn(batch, cfg).tolist()


@pytest.mark.parametrize(("name", "params", "sizes", "kept"), [
    ("image_too_small", {"min_side": 56, "min_pixels": 1}, [(55, 200), (56, 200), (57, 200)], [False, True, True]),
    ("image_too_small", {"min_side": 1, "min_pixels": 1000}, [(37, 27), (40, 25), (7, 143)], [False, True, True]),
    ("image_too_large", {"max_pixels": 8000}, [(100, 79), (100, 80), (100, 81)], [True, True, False]),
    ("aspect_ratio", {"max_ratio": 20.0}, [(399, 20), (400, 20), (401, 20)], [True, True, False]),
    ("aspect_ratio", {"max_ratio": 20.0}, [(20, 399), (20, 400), (20, 401)], [True, True, False]),
])
def test_size_limits(tmp_path, name, params, sizes, kept):
    paths = [_png(tmp_path, w, h) for w, h in sizes]
    assert _keep(name, paths, **params) == kept


def test_bytes_per_pixel_limit(tmp_path):
    path = str(tmp_path / "a.jpg")
    Image.new("RGB", (100, 50), (200, 10, 10)).save(path, quality=95)
    # 0.004 bytes per pixel of 5000 pixels: 20 bytes
    assert _keep("compression", [path] * 3, bytes_size=[19, 20, 21], min_bytes_per_pixel=0.004,
                 min_jpeg_quality=0) == [False, True, True]


def test_jpeg_quality_limit(tmp_path):
    paths = []
    for q in (29, 30, 31):
        paths.append(str(tmp_path / f"q{q}.jpg"))
        Image.fromarray(np.random.default_rng(q).integers(0, 255, (64, 64, 3), np.uint8)).save(paths[-1], quality=q)
    assert _keep("compression", paths, min_bytes_per_pixel=0.0, min_jpeg_quality=30) == [False, True, True]


def test_blank_limit(tmp_path):
    # grey levels half 0, half 6: a standard deviation of exactly 3
    pixels = np.zeros((8, 8), np.uint8)
    pixels[4:] = 6
    path = _png(tmp_path, 8, 8, pixels)
    for max_std, kept in ((3.0, True), (float(np.nextafter(3.0, 0)), True), (float(np.nextafter(3.0, 4)), False)):
        assert _keep("blank", [path], max_std=max_std) == [kept], max_std
