"""JPEG quality from the header's quantization tables: no pixel is decoded.

The probe (`packer.probe`) estimates it while it reads each header, and the filter's compression
rule (`filters.image_rules`) judges it, so an image file is read once.
"""

from __future__ import annotations

import functools

import numpy as np

# The IJG (libjpeg) standard luminance quantization table, the base of the quality scale.
_IJG_LUMA = np.array(
    [16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
     14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
     49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99],
    dtype=np.int64,
)  # fmt: skip


def _ijg_tables() -> np.ndarray:
    """Row q-1: the standard table as libjpeg scales it for quality q (baseline, clamped to 1..255), sorted."""
    q = np.arange(1, 101)
    scale = np.where(q < 50, 5000 // q, 200 - 2 * q)[:, None]
    return np.sort(np.clip((_IJG_LUMA[None, :] * scale + 50) // 100, 1, 255), axis=1)


_IJG_TABLES = _ijg_tables()


def estimate_jpeg_quality(quantization: dict[int, list[int]] | None) -> float | None:
    """The IJG quality (1-100) whose scaled standard luminance table is nearest the file's.

    Read from the header's quantization tables (`im.quantization` on a lazily opened JPEG); nothing
    is decoded. Tables are compared sorted, so their storage order (zigzag or natural) does not
    matter. Encoders with their own tables get the nearest IJG quality.
    """
    if not quantization:
        return None
    table = quantization.get(0) or next(iter(quantization.values()))
    if len(table) != 64:
        return None
    return _quality_of(table if type(table) is tuple else tuple(map(int, table)))  # the probe's walk: ints


@functools.lru_cache(maxsize=4096)
def _quality_of(table: tuple[int, ...]) -> float:
    """Memoised: images from one encoder at one setting share their tables."""
    dist = np.abs(_IJG_TABLES - np.sort(np.asarray(table, dtype=np.int64))[None, :]).sum(axis=1)
    return float(np.argmin(dist) + 1)
