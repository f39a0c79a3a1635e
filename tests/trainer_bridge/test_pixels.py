"""Image modes, EXIF orientation and Qwen2-VL patch order, on images made with Pillow."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from trainer_bridge.pixels import (
    CLIP_MEAN,
    CLIP_STD,
    MediaDecodeError,
    decode_rgb,
    normalised_pixels,
    patchify,
)


def saved(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def test_rgba_transparent_is_white_not_black():
    img = Image.new("RGBA", (8, 8), (255, 0, 0, 0))
    img.putpixel((0, 0), (255, 0, 0, 255))
    img.putpixel((1, 0), (0, 0, 255, 128))
    rgb = decode_rgb(saved(img, "PNG"), "t.png")
    assert rgb.mode == "RGB"
    assert rgb.getpixel((5, 5)) == (255, 255, 255)
    assert rgb.getpixel((0, 0)) == (255, 0, 0)
    r, g, b = rgb.getpixel((1, 0))
    assert abs(r - 127) <= 1 and abs(g - 127) <= 1 and b == 255


def test_la_composited_on_white():
    img = Image.new("LA", (4, 4), (0, 0))
    img.putpixel((0, 0), (0, 255))
    rgb = decode_rgb(saved(img, "PNG"), "t.png")
    assert rgb.getpixel((3, 3)) == (255, 255, 255) and rgb.getpixel((0, 0)) == (0, 0, 0)


def test_palette_is_expanded_and_transparency_honoured():
    img = Image.new("P", (4, 4), 0)
    img.putpalette([0, 0, 0, 10, 200, 30] + [0] * 762)
    img.putpixel((0, 0), 1)
    rgb = decode_rgb(saved(img, "PNG", transparency=0), "t.png")
    assert rgb.getpixel((0, 0)) == (10, 200, 30)
    assert rgb.getpixel((3, 3)) == (255, 255, 255)  # index 0 is transparent -> white
    opaque = decode_rgb(saved(img, "PNG"), "t.png")
    assert opaque.getpixel((3, 3)) == (0, 0, 0)


def test_sixteen_bit_is_scaled_not_clipped():
    arr = np.array([[0, 257 * 100, 32768, 65535]], dtype=np.uint16)
    rgb = decode_rgb(saved(Image.fromarray(arr), "PNG"), "t.png")
    values = [rgb.getpixel((x, 0))[0] for x in range(4)]
    assert values == [0, 100, 128, 255]  # a plain convert would clip 32768 and 25700 to 255


def test_cmyk_jpeg_converts():
    white = Image.new("CMYK", (16, 16), (0, 0, 0, 0))
    rgb = decode_rgb(saved(white, "JPEG", quality=95), "t.jpg")
    assert all(c >= 250 for c in rgb.getpixel((8, 8)))
    cyan = Image.new("CMYK", (16, 16), (255, 0, 0, 0))
    r, g, b = decode_rgb(saved(cyan, "JPEG", quality=95), "t.jpg").getpixel((8, 8))
    assert r < 10 and g > 245 and b > 245


def test_exif_rotation_gives_upright_image():
    img = Image.new("RGB", (40, 20), (0, 0, 0))
    img.paste((255, 0, 0), (0, 0, 10, 10))  # red block at the stored top-left
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    rgb = decode_rgb(saved(img, "JPEG", quality=95, exif=exif), "t.jpg")
    assert rgb.size == (20, 40)
    r, g, b = rgb.getpixel((15, 4))  # top-right after a clockwise turn
    assert r > 200 and g < 60 and b < 60


def test_grey_and_bilevel():
    assert decode_rgb(saved(Image.new("L", (3, 3), 77), "PNG"), "t.png").getpixel((1, 1)) == (77, 77, 77)
    assert decode_rgb(saved(Image.new("1", (3, 3), 1), "PNG"), "t.png").getpixel((1, 1)) == (255, 255, 255)


def test_garbage_names_the_member():
    with pytest.raises(MediaDecodeError, match="pack-000000007.0.jpg"):
        decode_rgb(b"not an image", "pack-000000007.0.jpg")


def test_resize_to_planned_size_and_normalise():
    img = Image.new("RGB", (100, 37), (255, 255, 255))
    px = normalised_pixels(img, (56, 84))
    assert px.shape == (3, 84, 56)
    assert np.allclose(px[:, 0, 0], (1 - CLIP_MEAN) / CLIP_STD, atol=1e-6)


def test_patch_order_matches_qwen2_vl():
    rng = np.random.default_rng(0)
    frame = rng.standard_normal((1, 3, 56, 84)).astype(np.float32)
    patches, grid = patchify(frame)
    assert grid == (1, 4, 6) and patches.shape == (24, 3 * 2 * 14 * 14)
    rows = patches.reshape(24, 3, 2, 14, 14)
    assert np.array_equal(rows[:, :, 0], rows[:, :, 1])  # a still image is repeated on t

    def patch(r, c):
        return frame[0, :, r * 14 : r * 14 + 14, c * 14 : c * 14 + 14]

    # 2x2 merge blocks in raster order; inside a block, w varies fastest
    expected = [(0, 0), (0, 1), (1, 0), (1, 1), (0, 2), (0, 3), (1, 2), (1, 3)]
    for i, (r, c) in enumerate(expected):
        assert np.array_equal(rows[i, :, 0], patch(r, c))
    assert np.array_equal(rows[12, :, 0], patch(2, 0))


def test_video_frames_pad_to_temporal_patch():
    frames = np.stack([np.full((3, 28, 28), k, dtype=np.float32) for k in range(3)])
    patches, grid = patchify(frames)
    assert grid == (2, 2, 2)
    rows = patches.reshape(8, 3, 2, 14, 14)
    assert rows[0, 0, 0, 0, 0] == 0 and rows[0, 0, 1, 0, 0] == 1
    assert rows[4, 0, 0, 0, 0] == 2 and rows[4, 0, 1, 0, 0] == 2  # last frame repeated
