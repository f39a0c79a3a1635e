"""Image-metadata rules on real JPEG/PNG/GIF files made with Pillow in tmp_path."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from filters.chain import first_failing_image_rule
from filters.image_rules import ImageBatch, estimate_jpeg_quality, image_grey_std, read_image_header
from filters.catalogue import IMAGE_RULES, rule, rules_in_order
from schemas.filter_config import FilterConfig, RulesConfig


def photo(w: int, h: int, seed: int = 0) -> Image.Image:
    """A photo-like image: smooth gradients plus noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([xx * 255 / max(w, 1), yy * 255 / max(h, 1), (xx + yy) * 127 / max(w + h, 1)], axis=-1)
    return Image.fromarray(np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8))


def save(img: Image.Image, path, **kw) -> str:
    img.save(path, **kw)
    return str(path)


def batch_of(paths: list[str], with_size: bool = True) -> ImageBatch:
    sizes = [Image.open(p).size if with_size else (np.nan, np.nan) for p in paths]
    return ImageBatch(
        row=np.arange(len(paths)),
        uri=list(paths),
        width=np.array([s[0] for s in sizes], dtype=np.float64),
        height=np.array([s[1] for s in sizes], dtype=np.float64),
        bytes_size=np.full(len(paths), np.nan),
        format=[None] * len(paths),
    )


def check(name: str, keep: list[str], reject: list[str], **params) -> None:
    cfg = getattr(RulesConfig(), name).model_copy(update=params)
    mask = rule(name).fn(batch_of(keep + reject), cfg)
    assert mask.dtype == np.bool_ and mask.shape == (len(keep) + len(reject),)
    assert mask[: len(keep)].all(), [p for p, m in zip(keep, mask) if not m]
    assert not mask[len(keep) :].any(), [p for p, m in zip(reject, mask[len(keep) :]) if m]


def test_every_image_rule_is_registered_in_order():
    assert [s.name for s in rules_in_order("image")] == list(IMAGE_RULES)


def test_image_too_small(tmp_path):
    ok = [save(photo(200, 150), tmp_path / "ok.jpg"), save(photo(56, 300), tmp_path / "edge.png")]
    bad = [save(photo(40, 400), tmp_path / "thin.png"), save(photo(100, 100), tmp_path / "few.jpg")]
    check("image_too_small", ok, bad)
    check("image_too_small", bad[1:], [], min_pixels=10_000)


def test_image_too_large(tmp_path):
    ok = [save(photo(100, 100), tmp_path / "a.png")]
    bad = [save(photo(400, 300), tmp_path / "b.png")]
    check("image_too_large", ok, bad, max_pixels=100 * 100)


def test_aspect_ratio(tmp_path):
    ok = [save(photo(400, 100), tmp_path / "wide.jpg"), save(photo(60, 1200), tmp_path / "tall20.png")]
    bad = [save(photo(1300, 60), tmp_path / "banner.png")]
    check("aspect_ratio", ok, bad)
    check("aspect_ratio", [ok[0]], [ok[1]], max_ratio=4.0)


@pytest.mark.parametrize("quality", [10, 25, 50, 75, 90, 95])
def test_jpeg_quality_is_estimated_from_the_header(tmp_path, quality):
    path = save(photo(128, 96), tmp_path / "q.jpg", quality=quality)
    header = read_image_header(path)
    assert header.format == "JPEG" and header.readable
    assert header.jpeg_quality == pytest.approx(quality, abs=2)


def test_quality_estimate_edge_cases():
    assert estimate_jpeg_quality(None) is None
    assert estimate_jpeg_quality({0: [1] * 64}) == pytest.approx(100, abs=1)
    assert estimate_jpeg_quality({0: [255] * 64}) < 5


def test_compression_rejects_a_low_quality_jpeg_and_starved_bytes(tmp_path):
    good = save(photo(256, 192), tmp_path / "good.jpg", quality=85)
    png = save(Image.new("RGB", (256, 192), (200, 10, 10)), tmp_path / "flat.png")  # lossless: bpp not judged
    low_q = save(photo(256, 192), tmp_path / "low.jpg", quality=10)
    check("compression", [good, png], [low_q])
    # bytes per pixel: a flat JPEG at decent quality is tiny; with a high bar it fails, a PNG never does
    flat = save(Image.new("RGB", (512, 512), (90, 90, 90)), tmp_path / "flat.jpg", quality=80)
    check("compression", [good, png], [flat], min_bytes_per_pixel=0.05)


def test_blank_uses_a_reduced_decode(tmp_path):
    busy = [
        save(photo(640, 480), tmp_path / "busy.jpg", quality=80),
        save(photo(100, 80), tmp_path / "busy.png"),
    ]
    blank = [
        save(Image.new("RGB", (640, 480), (255, 255, 255)), tmp_path / "white.jpg", quality=80),
        save(Image.new("L", (300, 200), 17), tmp_path / "grey.png"),
        save(Image.fromarray(np.full((300, 300, 3), 128, np.uint8) + np.uint8(1)), tmp_path / "near.jpg"),
    ]
    check("blank", busy, blank)
    assert image_grey_std(busy[0], 16) > 10


def test_animated_policy(tmp_path):
    frames = [photo(80, 80, seed=i) for i in range(3)]
    gif = tmp_path / "anim.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=100, loop=0)
    still_gif = save(frames[0], tmp_path / "still.gif")
    apng = tmp_path / "anim.png"
    frames[0].save(apng, save_all=True, append_images=frames[1:], duration=100)
    still = save(photo(80, 80), tmp_path / "still.jpg")
    check("animated", [still, still_gif], [str(gif), str(apng)])
    check("animated", [still, str(gif), str(apng)], [], policy="keep")


def test_unreadable_files(tmp_path):
    good = save(photo(100, 100), tmp_path / "good.jpg")
    garbage = tmp_path / "garbage.jpg"
    garbage.write_bytes(b"this is not an image at all")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    missing = str(tmp_path / "missing.jpg")
    cfg = RulesConfig().image_unreadable
    batch = ImageBatch(
        row=np.arange(4),
        uri=[good, str(garbage), str(empty), missing],
        width=np.full(4, np.nan),
        height=np.full(4, np.nan),
        bytes_size=np.full(4, np.nan),
        format=[None] * 4,
    )
    assert rule("image_unreadable").fn(batch, cfg).tolist() == [True, False, False, False]
    assert "FileNotFoundError" in batch.headers[3].error


def test_size_falls_back_to_the_header(tmp_path):
    path = save(photo(30, 300), tmp_path / "thin.jpg")
    batch = batch_of([path], with_size=False)
    assert [float(v[0]) for v in batch.size] == [30.0, 300.0]
    assert rule("image_too_small").fn(batch, RulesConfig().image_too_small).tolist() == [False]


def test_first_failing_image_rule_per_row(tmp_path):
    ok = save(photo(200, 200), tmp_path / "ok.jpg", quality=90)
    small = save(photo(20, 20), tmp_path / "small.jpg", quality=90)
    low_q = save(photo(200, 200), tmp_path / "low.jpg", quality=5)
    # row 0: two good images; row 1: a good one and a tiny one; row 2: tiny and low quality
    batch = batch_of([ok, ok, ok, small, small, low_q])
    batch = ImageBatch(batch.row * 0 + np.array([0, 0, 1, 1, 2, 2]), batch.uri, batch.width, batch.height,
                       batch.bytes_size, batch.format)  # fmt: skip
    reasons = first_failing_image_rule(batch, FilterConfig(), 3)
    assert reasons.tolist() == [None, "filter.image_too_small", "filter.image_too_small"]
    disabled = FilterConfig(rules={"image_too_small": False})
    assert first_failing_image_rule(batch, disabled, 3).tolist() == [None, None, "filter.compression"]
