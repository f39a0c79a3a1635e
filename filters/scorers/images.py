"""Decode the images the image scorers look at: one read and one decode per image, shared by all
of them. Only these optional stages decode pixels; the default job reads headers only."""

from __future__ import annotations

import warnings


def decode_rgb(uri: str, max_side: int):
    """The upright RGB image at `uri` (a path or a tar member URI), reduced so that its longer side
    is at most about `max_side` (JPEG draft mode decodes at 1/2, 1/4 or 1/8 scale directly).
    Returns None for a file that cannot be decoded."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    from packer.media import open_media

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with open_media(uri) as fh, Image.open(fh) as im:
                im.draft("RGB", (max_side, max_side))
                im = ImageOps.exif_transpose(im)
                im = im.convert("RGB")
                if max(im.size) > max_side:
                    im.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
                return im.copy()
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError, EOFError, Image.DecompressionBombError):
        return None
