"""Image-metadata rules (report §3.2, EVLM appendix A.1): each a pure `(ImageBatch, cfg) -> keep mask`,
one entry per image. A row fails a rule when any of its images does.

Sizes come from the `media` metadata (upright width/height, bytes); the file header is read, without
decoding, when a rule needs it (JPEG quantization tables, animation, unreadable files) or when the
metadata lacks the size. Only the opt-in `blank` rule reads pixels, from a reduced-size decode.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from filters.rule_spec import image_rule
from packer.jpeg_quality import estimate_jpeg_quality
from schemas.filter_config import (
    AnimatedRule,
    AspectRatioRule,
    BlankRule,
    CompressionRule,
    ImageTooLargeRule,
    ImageTooSmallRule,
    ImageUnreadableRule,
)

@dataclass(frozen=True)
class ImageHeader:
    """What the file header says, read with Pillow's lazy open (no pixel decoding)."""

    readable: bool
    width: int | None = None
    height: int | None = None
    format: str | None = None
    file_bytes: int | None = None
    jpeg_quality: float | None = None
    animated: bool = False
    bomb: bool = False  # above Pillow's hard decompression-bomb limit: not even opened
    error: str | None = None


def read_image_header(path: str) -> ImageHeader:
    from PIL import Image, UnidentifiedImageError

    from packer.media import media_size, open_media

    try:
        file_bytes = media_size(path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with open_media(path) as fh, Image.open(fh) as im:
                fmt = im.format
                quality = estimate_jpeg_quality(getattr(im, "quantization", None)) if fmt == "JPEG" else None
                animated = bool(getattr(im, "is_animated", False))
                return ImageHeader(True, im.width, im.height, fmt, file_bytes, quality, animated)
    except Image.DecompressionBombError as err:
        return ImageHeader(True, bomb=True, error=str(err))
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError, EOFError) as err:
        return ImageHeader(False, error=f"{type(err).__name__}: {err}")


def image_grey_std(path: str, sample_size: int) -> float:
    """Standard deviation of grey levels of a reduced-size decode (JPEG draft mode: DCT scaling)."""
    from PIL import Image

    from packer.media import open_media

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with open_media(path) as fh, Image.open(fh) as im:
            im.draft("L", (sample_size, sample_size))
            im.thumbnail((sample_size, sample_size))
            return float(np.asarray(im.convert("L"), dtype=np.float32).std())


@dataclass(frozen=True)
class ImageBatch:
    """The images of a batch of rows, flattened: `row[i]` is the table row image `i` belongs to.

    `width`/`height`/`bytes_size` come from `media` (NaN where unknown).
    """

    row: np.ndarray
    uri: list[str]
    width: np.ndarray
    height: np.ndarray
    bytes_size: np.ndarray
    format: list[str | None] = field(repr=False)

    def __len__(self) -> int:
        return len(self.uri)

    def subset(self, keep: np.ndarray) -> ImageBatch:
        """The images where `keep` is true; headers already read are carried over, not read again."""
        idx = np.flatnonzero(keep)
        sub = ImageBatch(
            row=self.row[idx],
            uri=[self.uri[i] for i in idx],
            width=self.width[idx],
            height=self.height[idx],
            bytes_size=self.bytes_size[idx],
            format=[self.format[i] for i in idx],
        )
        if "headers" in self.__dict__:
            sub.__dict__["headers"] = [self.headers[i] for i in idx]
        return sub

    @cached_property
    def headers(self) -> list[ImageHeader]:
        return [read_image_header(u) for u in self.uri]

    @cached_property
    def size(self) -> tuple[np.ndarray, np.ndarray]:
        """(width, height) from metadata, falling back to the header where metadata lacks them."""
        w, h = self.width.copy(), self.height.copy()
        for i in np.flatnonzero(np.isnan(w) | np.isnan(h)):
            hd = self.headers[i]
            if hd.width is not None:
                w[i], h[i] = hd.width, hd.height
        return w, h

    @cached_property
    def file_bytes(self) -> np.ndarray:
        b = self.bytes_size.copy()
        for i in np.flatnonzero(np.isnan(b)):
            fb = self.headers[i].file_bytes
            b[i] = np.nan if fb is None else fb
        return b

    @cached_property
    def file_format(self) -> list[str | None]:
        return [hd.format or (f.upper() if f else None) for hd, f in zip(self.headers, self.format)]


@image_rule("image_unreadable")
def image_unreadable_rule(images: ImageBatch, cfg: ImageUnreadableRule) -> np.ndarray:
    return np.fromiter((hd.readable for hd in images.headers), dtype=bool, count=len(images))


@image_rule("image_too_small")
def image_too_small_rule(images: ImageBatch, cfg: ImageTooSmallRule) -> np.ndarray:
    w, h = images.size
    with np.errstate(invalid="ignore"):
        small = (np.minimum(w, h) < cfg.min_side) | (w * h < cfg.min_pixels)
    return ~small  # unknown sizes (NaN) compare False: kept


@image_rule("image_too_large")
def image_too_large_rule(images: ImageBatch, cfg: ImageTooLargeRule) -> np.ndarray:
    """Fails images above `max_pixels` by their metadata *or* their header: metadata claiming a
    small size does not let a decompression bomb through to the trainer's decoder."""
    w, h = images.size
    header = np.array([np.nan if hd.width is None else float(hd.width) * float(hd.height) for hd in images.headers],
                      dtype=np.float64)
    with np.errstate(invalid="ignore"):
        large = (w * h > cfg.max_pixels) | (header > cfg.max_pixels)
    bomb = np.fromiter((hd.bomb for hd in images.headers), dtype=bool, count=len(images))
    return ~(large | bomb)


@image_rule("aspect_ratio")
def aspect_ratio_rule(images: ImageBatch, cfg: AspectRatioRule) -> np.ndarray:
    w, h = images.size
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.maximum(w, h) / np.minimum(w, h)
        return ~(ratio > cfg.max_ratio)


@image_rule("animated")
def animated_rule(images: ImageBatch, cfg: AnimatedRule) -> np.ndarray:
    if cfg.policy == "keep":
        return np.ones(len(images), dtype=bool)
    return ~np.fromiter((hd.animated for hd in images.headers), dtype=bool, count=len(images))


@image_rule("compression")
def compression_rule(images: ImageBatch, cfg: CompressionRule) -> np.ndarray:
    """Fails lossy images below `min_bytes_per_pixel`, and JPEGs whose estimated quality is below
    `min_jpeg_quality`."""
    w, h = images.size
    lossy = np.array([f in cfg.lossy_formats for f in images.file_format], dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        starved = lossy & (images.file_bytes / (w * h) < cfg.min_bytes_per_pixel)
    quality = np.array(
        [np.nan if hd.jpeg_quality is None else hd.jpeg_quality for hd in images.headers], dtype=np.float64
    )
    with np.errstate(invalid="ignore"):
        low_quality = quality < cfg.min_jpeg_quality
    return ~(starved | low_quality)


@image_rule("blank")
def blank_rule(images: ImageBatch, cfg: BlankRule) -> np.ndarray:
    keep = np.ones(len(images), dtype=bool)
    for i, (uri, hd) in enumerate(zip(images.uri, images.headers)):
        if not hd.readable or hd.bomb:
            continue
        try:
            keep[i] = image_grey_std(uri, cfg.sample_size) >= cfg.max_std
        except (OSError, SyntaxError, ValueError, EOFError):
            keep[i] = False  # the header read but the pixels do not: nothing to learn from it
    return keep
