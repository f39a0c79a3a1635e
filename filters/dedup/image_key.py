"""Content digests of a sample's media bytes, for exact image dedup and the caption+image key."""

from __future__ import annotations

import os
from pathlib import Path

import xxhash

_READ_BYTES = 1 << 20


class MediaReadError(OSError):
    """A media file named by a sample cannot be read; the message names the sample and the path."""


def _hash_file(digest: xxhash.xxh3_128, path: Path) -> None:
    with open(path, "rb") as f:
        while chunk := f.read(_READ_BYTES):
            digest.update(chunk)


def media_digest(sample_id: str, media: list[dict] | None) -> str | None:
    """xxh3-128 hex digest over the bytes of every media item of a sample, in order; None if it has
    no media. A directory (video frames) contributes its files in sorted relative-path order."""
    if not media:
        return None
    digest = xxhash.xxh3_128()
    for item in media:
        uri = item["uri"]
        path = Path(uri)
        try:
            if path.is_dir():
                files = sorted(p for p in path.rglob("*") if p.is_file())
                for p in files:
                    digest.update(os.fsencode(p.relative_to(path)) + b"\0")
                    _hash_file(digest, p)
            else:
                _hash_file(digest, path)
        except OSError as err:
            raise MediaReadError(f"sample {sample_id!r}: cannot read media {uri!r} for dedup: {err}") from err
        digest.update(b"\x1e")  # item separator
    return digest.hexdigest()
