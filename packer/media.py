"""Access to media bytes by URI, without extracting archives.

Two URI forms exist:
- an absolute local path (a file, or for video a directory of frame images);
- a member of a tar archive: ``tar:/abs/path/shard.tar?member=key.jpg&offset=1536&size=40213``.
  `offset`/`size` locate the member's data inside the archive (from the reader's one pass over
  the tar headers), so reading it is one seek and one read.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

TAR_SCHEME = "tar:"
FRAME_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")


class MediaNotFound(FileNotFoundError):
    pass


def tar_member_uri(tar_path: str, member: str, offset: int, size: int) -> str:
    return f"{TAR_SCHEME}{quote(tar_path)}?member={quote(member)}&offset={offset}&size={size}"


def parse_tar_uri(uri: str) -> tuple[str, str, int, int]:
    parts = urlsplit(uri)
    q = parse_qs(parts.query)
    from urllib.parse import unquote

    return unquote(parts.path), q["member"][0], int(q["offset"][0]), int(q["size"][0])


def is_tar_uri(uri: str) -> bool:
    return uri.startswith(TAR_SCHEME)


def media_name(uri: str) -> str:
    """The file name a URI refers to (the member name for tar URIs)."""
    if is_tar_uri(uri):
        return parse_tar_uri(uri)[1]
    return os.path.basename(uri.rstrip("/"))


def read_media_bytes(uri: str) -> bytes:
    """All bytes of one media file. Raises `MediaNotFound` naming the URI if it is missing."""
    if is_tar_uri(uri):
        tar_path, member, offset, size = parse_tar_uri(uri)
        try:
            with open(tar_path, "rb") as fh:
                fh.seek(offset)
                data = fh.read(size)
        except FileNotFoundError:
            raise MediaNotFound(f"archive {tar_path} (member {member}) is missing") from None
        if len(data) != size:
            raise MediaNotFound(f"archive {tar_path} is shorter than its member {member} claims")
        return data
    try:
        with open(uri, "rb", buffering=0) as fh:  # one read of the whole file: no buffer between
            return fh.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise MediaNotFound(f"media file {uri} is missing") from None


def open_media(uri: str) -> io.BufferedIOBase:
    """A readable binary stream over one media file (tar members are read into memory)."""
    if is_tar_uri(uri):
        return io.BytesIO(read_media_bytes(uri))
    try:
        return open(uri, "rb")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise MediaNotFound(f"media file {uri} is missing") from None


def media_size(uri: str) -> int:
    if is_tar_uri(uri):
        return parse_tar_uri(uri)[3]
    return os.path.getsize(uri)


def frame_files(directory: str) -> list[str]:
    """The frame images of a video stored as a directory, sorted by name."""
    d = Path(directory)
    return sorted(str(p) for p in d.iterdir() if p.suffix.lower() in FRAME_SUFFIXES and p.is_file())


def extension_for(uri: str, fmt: str | None) -> str:
    """The member suffix to store a media file under: from its format, else its name."""
    by_format = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif", "BMP": "bmp", "TIFF": "tiff"}
    if fmt and fmt.upper() in by_format:
        return by_format[fmt.upper()]
    ext = os.path.splitext(media_name(uri))[1].lower().lstrip(".")
    return {"jpeg": "jpg"}.get(ext, ext) or "bin"
