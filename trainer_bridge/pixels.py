"""Media bytes -> normalised, Qwen2-VL-patchified pixels at the size the packer planned.

Decoding follows the probe (packer) exactly: EXIF orientation is applied first, so the planned
``target_size`` (width, height) refers to the upright image. Colour conversion does what a plain
``Image.convert("RGB")`` gets wrong:
- alpha (RGBA, LA, PA, palette with transparency) is composited on white, not dropped (a transparent
  PNG logo would otherwise come out as a black square);
- 16-bit greyscale (I;16*, and I holding values above 255) is scaled by 255/65535, not clipped;
- palette images are expanded; CMYK, YCbCr, 1-bit and L are converted.
Pixels are resized with bicubic to the planned size, scaled to [0, 1] and normalised with the CLIP
mean/std that Qwen2-VL uses, then cut into 14x14 patches with temporal patch 2 (a still image is
repeated on t) in the Qwen2-VL order, where each run of merge_size² consecutive rows is one LLM token.
"""

from __future__ import annotations

import io

import numpy as np

CLIP_MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
CLIP_STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)
PATCH_SIZE = 14
MERGE_SIZE = 2
TEMPORAL_PATCH_SIZE = 2
ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N")


class MediaDecodeError(ValueError):
    """Bytes that Pillow cannot decode into an RGB picture."""


def _grey_to_rgb(values: np.ndarray, scale: float):
    from PIL import Image

    grey = np.clip(np.rint(values.astype(np.float64) * scale), 0, 255).astype(np.uint8)
    return Image.fromarray(grey).convert("RGB")


def rgb_image(img):
    """Any Pillow mode -> RGB, compositing alpha on white and scaling high bit depths."""
    from PIL import Image

    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif img.mode in ("L", "1") and "transparency" in img.info:
        img = img.convert("LA")
    elif img.mode == "RGB" and "transparency" in img.info:
        img = img.convert("RGBA")
    mode = img.mode
    if mode == "RGB":
        return img
    if mode in ALPHA_MODES:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if mode in SIXTEEN_BIT_MODES:
        return _grey_to_rgb(np.asarray(img), 255.0 / 65535.0)
    if mode == "I":  # 32-bit ints: Pillow's older way of holding 16-bit PNGs
        values = np.asarray(img)
        return _grey_to_rgb(values, 255.0 / 65535.0 if values.max(initial=0) > 255 else 1.0)
    if mode == "F":
        values = np.asarray(img)
        return _grey_to_rgb(values, 255.0 if values.max(initial=0) <= 1.0 else 1.0)
    return img.convert("RGB")  # L, 1, CMYK, YCbCr, RGBX, HSV


def decode_rgb(data: bytes, name: str):
    """Decode media bytes to an upright RGB Pillow image; errors name the member."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        img = Image.open(io.BytesIO(data))
        img.seek(0)  # animated: first frame, as the probe counted it
        img.load()
        img = ImageOps.exif_transpose(img)
        return rgb_image(img)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        # DecompressionBombError (a header claiming more than twice Pillow's pixel limit) derives
        # from Exception only; the packer never plans such media, but a shard is still data.
        raise MediaDecodeError(f"{name}: cannot decode media: {exc}") from exc


def normalised_pixels(img, target_size: tuple[int, int]) -> np.ndarray:
    """Resize an RGB image to (width, height) with bicubic; float32 [3, H, W], CLIP-normalised."""
    from PIL import Image

    width, height = target_size
    if img.size != (width, height):
        img = img.resize((width, height), Image.Resampling.BICUBIC)
    arr = np.asarray(img, dtype=np.float32) / 255.0
    arr = (arr - CLIP_MEAN) / CLIP_STD
    return arr.transpose(2, 0, 1)


def patchify(
    frames: np.ndarray,
    *,
    patch_size: int = PATCH_SIZE,
    merge_size: int = MERGE_SIZE,
    temporal_patch_size: int = TEMPORAL_PATCH_SIZE,
) -> tuple[np.ndarray, tuple[int, int, int]]:
    """[F, C, H, W] -> ([t*h*w, C*tp*p*p], (t, h, w)) in Qwen2-VL's patch order.

    The frame count is padded to a multiple of ``temporal_patch_size`` by repeating the last frame
    (a still image becomes two identical frames).
    """
    n_frames, channels, height, width = frames.shape
    unit = patch_size * merge_size
    if height % unit or width % unit:
        raise ValueError(f"frames: size {width}x{height} is not a multiple of {unit} in both directions")
    if n_frames % temporal_patch_size:
        extra = temporal_patch_size - n_frames % temporal_patch_size
        frames = np.concatenate([frames, np.repeat(frames[-1:], extra, axis=0)], axis=0)
    grid_t = frames.shape[0] // temporal_patch_size
    grid_h, grid_w = height // patch_size, width // patch_size
    patches = frames.reshape(
        grid_t,
        temporal_patch_size,
        channels,
        grid_h // merge_size,
        merge_size,
        patch_size,
        grid_w // merge_size,
        merge_size,
        patch_size,
    )
    patches = patches.transpose(0, 3, 6, 4, 7, 2, 1, 5, 8)
    flat = patches.reshape(grid_t * grid_h * grid_w, channels * temporal_patch_size * patch_size * patch_size)
    return np.ascontiguousarray(flat), (grid_t, grid_h, grid_w)
