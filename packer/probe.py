"""Header-only media probing: upright size, format and orientation without decoding pixels.

`probe_image` identifies a file with Pillow's format plugins (the same lazy open `Image.open`
does: the header is parsed, pixel data is never read) and applies our own pixel limit from the
header *before* any of Pillow's decompression-bomb checks can fire. The EXIF orientation is read
the way `ImageOps.exif_transpose` reads it (so the trainer's transposed image has exactly the
size we report); orientations 5-8 swap width and height. WebP headers, and JPEG and PNG headers
of the plain kinds most files are (`_probe_plain_jpeg`, `_probe_plain_png`), are read from their
segments or chunks directly, giving the probe Pillow's path gives, field for field (a
differential test holds them to it); any other file goes through Pillow.

Every failure is a reason code, never an exception: `probe.missing`, `probe.empty`,
`probe.unreadable` (not an image in an accepted format), `probe.truncated`, `probe.bad_header`,
`probe.too_many_pixels`, `probe.too_many_bytes`, `probe.animated`, `probe.no_frames`.

`probe_batch` fills missing media metadata of a WORK_SCHEMA table and marks rows whose media
cannot be probed as `invalid`.
"""

from __future__ import annotations

import functools
import io
import os
import re
import stat
import struct
import threading
import warnings
import zlib
from collections import Counter
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
from PIL import Image, ImageFile, PngImagePlugin

from packer.jpeg_quality import estimate_jpeg_quality
from packer.media import frame_files, is_tar_uri, parse_tar_uri
from schemas.sample import STATUS_OK, WORK_SCHEMA
from schemas.tokens_config import ProbeConfig

SWAPPING_ORIENTATIONS = frozenset({5, 6, 7, 8})
_ANIMATED_FORMATS = frozenset({"GIF", "PNG", "WEBP"})  # MPO extra frames are not animation
# Pillow's TIFF plugin already reports the upright size (and transposes on load).
_UPRIGHT_SIZE_FORMATS = frozenset({"TIFF"})
_FORMAT_ALIASES = {"jpg": "jpeg", "tif": "tiff"}


@dataclass(frozen=True)
class ImageProbe:
    """What a header says about one image (or a directory of video frames)."""

    width: int | None  # upright: after the EXIF orientation
    height: int | None
    orientation: int | None  # EXIF orientation 1-8 (1 when absent)
    format: str | None  # Pillow's format name, lower case ("jpeg", "png", ...)
    bytes_size: int | None
    n_frames: int = 1  # animation frames, or frame files in a frame directory
    reason: str | None = None
    jpeg_quality: float | None = None  # IJG quality estimated from the quantization tables (JPEG)

    @property
    def ok(self) -> bool:
        return self.reason is None


def _failed(reason: str, bytes_size: int | None = None, **kw) -> ImageProbe:
    base = {"width": None, "height": None, "orientation": None, "format": None, "bytes_size": bytes_size}
    base.update(kw)
    return ImageProbe(**base, reason=reason)


_plugins_ready = False


def _plugins():
    global _plugins_ready
    if not _plugins_ready:
        Image.init()
        _plugins_ready = True
    return Image.OPEN


def probe_image(path: str, cfg: ProbeConfig) -> ImageProbe:
    """Probe one image from its header: a local file, or a tar member URI (`packer.media`).
    Never raises for bad data; see `ImageProbe.reason`."""
    if is_tar_uri(path):
        return _probe_tar_member(path, cfg)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return _failed("probe.missing")
    except OSError:
        return _failed("probe.unreadable")
    if stat.S_ISDIR(st.st_mode):
        return _failed("probe.unreadable")
    if st.st_size == 0:
        return _failed("probe.empty", 0)
    try:
        with open(path, "rb") as fp:
            return _probe_open_file(fp, path, st.st_size, cfg)
    except OSError:  # permission, I/O error while opening or reading the file itself
        return _failed("probe.unreadable", st.st_size)


def _probe_tar_member(uri: str, cfg: ProbeConfig) -> ImageProbe:
    try:
        tar_path, member, offset, size = parse_tar_uri(uri)
    except (KeyError, ValueError):
        return _failed("probe.unreadable")
    if size == 0:
        return _failed("probe.empty", 0)
    try:
        with open(tar_path, "rb") as raw:
            raw.seek(0, os.SEEK_END)
            if raw.tell() < offset + size:
                return _failed("probe.truncated", size)  # the archive ends inside the member
            with io.BufferedReader(_MemberWindow(raw, offset, size)) as fp:
                return _probe_open_file(fp, member, size, cfg)
    except FileNotFoundError:
        return _failed("probe.missing")
    except OSError:
        return _failed("probe.unreadable", size)


class _MemberWindow(io.RawIOBase):
    """A seekable read-only view of `size` bytes at `offset` of an open archive."""

    def __init__(self, raw, offset: int, size: int) -> None:
        self._raw, self._start, self._size, self._pos = raw, offset, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self._size}[whence]
        self._pos = max(0, base + pos)
        return self._pos

    def readinto(self, buf) -> int:
        n = max(0, min(len(buf), self._size - self._pos))
        if n == 0:
            return 0
        self._raw.seek(self._start + self._pos)
        data = self._raw.read(n)
        buf[: len(data)] = data
        self._pos += len(data)
        return len(data)


def _probe_open_file(fp, path: str, size: int, cfg: ProbeConfig) -> ImageProbe:
    prefix = fp.read(16)
    if prefix[:4] == b"RIFF" and prefix[8:12] == b"WEBP" and "WEBP" in cfg.formats:
        # Pillow's WebP open builds a libwebp animation decoder over the whole file (~ms);
        # the RIFF chunk headers say the same in microseconds.
        return _probe_webp(fp, size, cfg)
    return _bomb_warnings_raised(_probe_with_pillow, fp, path, prefix, size, cfg)


_guard = threading.local()  # .on: this thread is inside `_bomb_warnings_raised`


def _bomb_warnings_raised(fn, *args):
    """`fn(*args)` with warnings ignored, except Pillow's decompression-bomb warning, which is
    raised (our own limits decide). The filters change once however deeply this nests:
    `probe_batch` holds them over a whole batch instead of twice per header."""
    if getattr(_guard, "on", False):
        return fn(*args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        _guard.on = True
        try:
            return fn(*args)
        finally:
            _guard.on = False


def _probe_with_pillow(fp, path: str, prefix: bytes, size: int, cfg: ProbeConfig) -> ImageProbe:
    """The header through Pillow's format plugins (under `_bomb_warnings_raised`); a plain JPEG
    or PNG through `_probe_plain_jpeg` / `_probe_plain_png`, which give the same probe without
    Pillow's per-segment Python."""
    plain = None
    if prefix[:3] == b"\xff\xd8\xff" and _first_format(prefix, cfg) == "JPEG":
        plain = _probe_plain_jpeg(fp, size, cfg)
    elif prefix[:8] == _PNG_MAGIC and _first_format(prefix, cfg) == "PNG":
        plain = _probe_plain_png(fp, size, cfg)
    return plain if plain is not None else _probe_through_plugins(fp, path, prefix, size, cfg)


def _probe_through_plugins(fp, path: str, prefix: bytes, size: int, cfg: ProbeConfig) -> ImageProbe:
    opened = _open_header(fp, path, prefix, cfg)
    if isinstance(opened, str):
        return _failed(opened, size)
    im = opened
    fmt = (im.format or "").upper()
    w, h = im.size
    if w <= 0 or h <= 0:
        return _failed("probe.bad_header", size, format=fmt.lower())
    if w * h > cfg.max_header_pixels:
        return _failed("probe.too_many_pixels", size, width=w, height=h, format=fmt.lower())

    try:
        n_frames = 1
        if fmt in _ANIMATED_FORMATS and getattr(im, "is_animated", False):
            n_frames = int(getattr(im, "n_frames", 2))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return _failed("probe.too_many_pixels", size, width=w, height=h, format=fmt.lower())
    except (OSError, EOFError, SyntaxError, struct.error, ValueError, IndexError):
        return _failed("probe.truncated", size, format=fmt.lower())
    if n_frames > 1 and cfg.animated == "reject":
        return _failed("probe.animated", size, width=w, height=h, format=fmt.lower(), n_frames=n_frames)

    if cfg.check_tail and not _tail_complete(fp, fmt, size):
        return _failed("probe.truncated", size, format=fmt.lower())

    if fmt == "PNG" and "exif" not in im.info:
        # PngImageFile.getexif() decodes the image to reach an eXIf chunk stored after the
        # pixel data; walk the chunk headers instead (seeks only) and hand it the bytes.
        im.info["exif"] = _png_exif_after_idat(fp) or b""
    try:
        orientation = int(im.getexif().get(0x0112, 1))
    except Exception:  # noqa: BLE001 - corrupt EXIF is data, not a bug: treat as upright
        orientation = 1
    if orientation not in range(1, 9):
        orientation = 1  # exif_transpose ignores unknown values
    if orientation in SWAPPING_ORIENTATIONS and fmt not in _UPRIGHT_SIZE_FORMATS:
        w, h = h, w
    quality = estimate_jpeg_quality(getattr(im, "quantization", None)) if fmt in ("JPEG", "MPO") else None
    return ImageProbe(width=w, height=h, orientation=orientation, format=fmt.lower(),
                      bytes_size=size, n_frames=n_frames, jpeg_quality=quality)


def _first_format(prefix: bytes, cfg: ProbeConfig) -> str | None:
    """The format `_open_header` tries first for these leading bytes."""
    return _first_accepting(prefix, tuple(cfg.formats))


@functools.lru_cache(maxsize=1024)
def _first_accepting(prefix: bytes, formats: tuple[str, ...]) -> str | None:
    """Memoised: the plugins' accept tests read only these bytes, and files of one encoder share
    their first 16 (a PNG's signature and IHDR header; a JPEG's SOI and first segment header)."""
    plugins = _plugins()
    for fmt in formats:
        entry = plugins.get(fmt.upper())
        if entry is None:
            continue
        accept = entry[1]
        res = not accept or accept(prefix)
        if res and not isinstance(res, str):
            return fmt.upper()
    return None


# JPEG markers of a plain header: frame headers (Pillow's `SOF` handler; not DHP), and segments it
# skips (DHT, DAC, DNL, DRI, EXP); APPn, COM, DQT and SOS are handled apart.
_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_JPEG_SKIPPED = frozenset({0xC4, 0xCC, 0xDC, 0xDD, 0xDF, 0xFE})
_HEAD_READ = 4096  # a plain header's first read; most fit in it


def _head_upto(buf: bytes, fp, end: int) -> bytes | None:
    """`buf` (the file's first bytes) grown to at least `end` bytes, or None if the file is shorter."""
    if end <= len(buf):
        return buf
    buf += fp.read(max(_HEAD_READ, end - len(buf)))
    return buf if end <= len(buf) else None


def _probe_plain_jpeg(fp, size: int, cfg: ProbeConfig) -> ImageProbe | None:
    """The probe `_probe_through_plugins` gives a plain JPEG, from one pass over its segments in
    memory, or None where the header is anything but plain; Pillow then reads it. Plain: every
    marker follows its segment directly (no fill bytes or junk), one 8-bit frame of 1, 3 or 4
    components, the scan header whole, no EXIF, XMP or MPF segment (orientation 1, not an MPO),
    and none of the application segments whose short forms make Pillow fail (JFIF, Adobe, ICC;
    Photoshop at all). The tail check and the pixel limit are the same code as for any file."""
    try:
        frame, tables = _plain_jpeg_header(fp)
    except OSError:  # an I/O error: Pillow's reading says what it is
        return None
    if frame is None:
        return None
    w, h = frame
    if w * h > cfg.max_header_pixels:
        return _failed("probe.too_many_pixels", size, width=w, height=h, format="jpeg")
    if cfg.check_tail and not _tail_complete(fp, "JPEG", size):
        return _failed("probe.truncated", size, format="jpeg")
    return ImageProbe(width=w, height=h, orientation=1, format="jpeg", bytes_size=size, n_frames=1,
                      jpeg_quality=estimate_jpeg_quality(tables))


def _plain_jpeg_header(fp) -> tuple[tuple[int, int] | None, dict[int, tuple]]:
    """((width, height), quantization tables by id) of a plain JPEG header (`_probe_plain_jpeg`),
    or (None, ...) where the header is not plain. Only the segments it judges are sliced out."""
    fp.seek(0)
    buf = fp.read(_HEAD_READ)
    pos = 2
    frame = None
    tables: dict[int, tuple] = {}
    while True:
        if pos + 4 > len(buf):
            buf = _head_upto(buf, fp, pos + 4)
            if buf is None:
                return None, tables
        if buf[pos] != 0xFF:
            return None, tables
        marker = buf[pos + 1]
        length = (buf[pos + 2] << 8) | buf[pos + 3]
        if length < 2:
            return None, tables
        start, end = pos + 4, pos + 2 + length
        if end > len(buf):
            buf = _head_upto(buf, fp, end)
            if buf is None:
                return None, tables
        pos = end
        if marker in _JPEG_SKIPPED:
            continue
        if 0xE0 <= marker <= 0xEF:
            if ((marker == 0xE1 and (buf.startswith(b"Exif\0\0", start, end)
                                     or buf.startswith(b"http://ns.adobe.com/xap/1.0/\x00", start, end)))
                    or (marker == 0xE2 and buf.startswith(b"MPF\0", start, end))
                    or (marker == 0xE2 and buf.startswith(b"ICC_PROFILE\0", start, end) and length - 2 < 14)
                    or (marker == 0xE0 and buf.startswith(b"JFIF", start, end) and length - 2 < 12)
                    or (marker == 0xEE and buf.startswith(b"Adobe", start, end) and length - 2 < 12)
                    or (marker == 0xED and buf.startswith(b"Photoshop 3.0\x00", start, end))):
                return None, tables
        elif marker == 0xDB:
            body = buf[start:end]
            while body:
                wide = body[0] >= 16
                n = 129 if wide else 65
                if len(body) < n:
                    return None, tables
                tables[body[0] & 15] = struct.unpack(">64H", body[1:n]) if wide else tuple(body[1:n])
                body = body[n:]
        elif marker in _JPEG_SOF:
            body = buf[start:end]
            # Pillow reads (id, sampling, table) per component up to the segment's end
            if (frame is not None or len(body) < 6 or (len(body) - 6) % 3 or body[0] != 8
                    or body[5] not in (1, 3, 4)):
                return None, tables
            frame = ((body[3] << 8) | body[4], (body[1] << 8) | body[2])
        elif marker == 0xDA:
            break
        else:
            return None, tables
    if frame is None or frame[0] <= 0 or frame[1] <= 0:
        return None, tables
    return frame, tables


_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# Chunks a plain PNG header may hold before its first IDAT, with the least length at which
# Pillow's reader accepts each.
_PNG_PLAIN_CHUNKS = {b"PLTE": 0, b"gAMA": 4, b"cHRM": 32, b"sRGB": 1, b"pHYs": 9}


def _probe_plain_png(fp, size: int, cfg: ProbeConfig) -> ImageProbe | None:
    """The probe `_probe_through_plugins` gives a plain PNG, from its chunks in memory, or None
    where the PNG is anything but plain; Pillow then reads it. Plain: IHDR first (13 bytes, a
    colour type and depth Pillow reads, filter method 0), then only PLTE, gAMA, cHRM, sRGB or pHYs
    chunks of lengths Pillow accepts, every checksum right, up to the first IDAT; no eXIf chunk
    anywhere (orientation 1), no text, colour profile or animation chunk."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:  # Pillow then skips checks: let it decide
        return None
    try:
        w, h = _plain_png_header(fp)
        if w <= 0 or h <= 0:
            return None
        if w * h > cfg.max_header_pixels:
            return _failed("probe.too_many_pixels", size, width=w, height=h, format="png")
        reached_end, exif = _png_walk(fp)  # what the tail check and the EXIF lookup both read
    except OSError:  # an I/O error: Pillow's reading says what it is
        return None
    if cfg.check_tail and not reached_end:
        return _failed("probe.truncated", size, format="png")
    if exif is not None:
        return None
    return ImageProbe(width=w, height=h, orientation=1, format="png", bytes_size=size, n_frames=1)


def _plain_png_header(fp) -> tuple[int, int]:
    """(width, height) from the IHDR of a plain PNG header (`_probe_plain_png`), or (0, 0)."""
    fp.seek(0)
    buf = fp.read(_HEAD_READ)
    pos = 8
    dims = None
    while True:
        end = pos + 8
        buf = _head_upto(buf, fp, end)
        if buf is None:
            return 0, 0
        length, cid = struct.unpack_from(">I4s", buf, pos)
        if cid == b"IDAT":
            return dims or (0, 0)
        if length > 1 << 16:  # none of the plain chunks is near this (nor read whole, unbounded)
            return 0, 0
        end = pos + 8 + length + 4
        buf = _head_upto(buf, fp, end)
        if buf is None:
            return 0, 0
        data = buf[pos + 8:end - 4]
        if zlib.crc32(data, zlib.crc32(cid)) != struct.unpack_from(">I", buf, end - 4)[0]:
            return 0, 0
        if cid == b"IHDR":
            if (dims is not None or length != 13 or data[11] != 0
                    or (data[8], data[9]) not in PngImagePlugin._MODES):
                return 0, 0
            dims = struct.unpack_from(">II", data)
        elif dims is None or length < _PNG_PLAIN_CHUNKS.get(cid, length + 1):
            return 0, 0
        pos = end


def _open_header(fp, path: str, prefix: bytes, cfg: ProbeConfig):
    """Pillow's identification loop (as in `Image.open`) restricted to `cfg.formats`, without
    its decompression-bomb check, so our own limit decides. Returns the lazy image or a reason.
    Runs under `_bomb_warnings_raised`."""
    plugins = _plugins()
    recognised_error: str | None = None
    for fmt in cfg.formats:
        entry = plugins.get(fmt.upper())
        if entry is None:
            continue
        factory, accept = entry
        res = not accept or accept(prefix)
        if not res or isinstance(res, str):
            continue
        fp.seek(0)
        try:
            return factory(fp, path)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            return "probe.too_many_pixels"
        except (OSError, EOFError, struct.error, IndexError) as e:
            # The magic matched but the header ran out of data.
            recognised_error = "probe.truncated" if _short_read(e) else "probe.bad_header"
        except (SyntaxError, TypeError, ValueError, KeyError, ZeroDivisionError, OverflowError):
            recognised_error = recognised_error or "probe.bad_header"
    if recognised_error is None:
        return "probe.unreadable"
    if recognised_error == "probe.bad_header" and _header_short(fp):
        return "probe.truncated"
    return recognised_error


def _short_read(e: BaseException) -> bool:
    if isinstance(e, (EOFError, struct.error, IndexError)):
        return True
    msg = str(e).lower()
    return "truncated" in msg or "not enough" in msg or "eof" in msg or "could not create decoder" in msg


def _header_short(fp) -> bool:
    """A file too short to hold even a minimal header: a cut-off download, not a corrupt header."""
    fp.seek(0, os.SEEK_END)
    return fp.tell() < 1024


def _tail_complete(fp, fmt: str, size: int) -> bool:
    """Cheap end-of-file checks that catch truncated files without decoding."""
    if fmt in ("JPEG", "MPO"):
        # EOI marker near the end. Inside entropy-coded data 0xFF is always followed by 0x00 or
        # a restart marker, so FF D9 there means a real end of image.
        fp.seek(max(0, size - 4096))
        return b"\xff\xd9" in fp.read()
    if fmt == "PNG":
        return _png_walk(fp)[0]
    if fmt == "WEBP":
        fp.seek(4)
        riff = fp.read(4)
        return len(riff) == 4 and struct.unpack("<I", riff)[0] + 8 <= size
    return True


def _png_walk(fp) -> tuple[bool, bytes | None]:
    """Walk PNG chunk headers (seeking over data). Returns (reached IEND, eXIf payload)."""
    fp.seek(8)
    exif = None
    while True:
        head = fp.read(8)
        if len(head) < 8:
            return False, exif
        length, ctype = struct.unpack(">I4s", head)
        if ctype == b"IEND":
            return True, exif
        if ctype == b"eXIf" and exif is None:
            exif = fp.read(length)
            if len(exif) < length:
                return False, None
            fp.seek(4, os.SEEK_CUR)
        else:
            fp.seek(length + 4, os.SEEK_CUR)


def _probe_webp(fp, size: int, cfg: ProbeConfig) -> ImageProbe:
    """WebP from its RIFF chunks: canvas size (VP8X) or frame header (VP8 / VP8L), ANMF frame
    count, and orientation from the EXIF chunk (else XMP), as Pillow's WebP plugin reports them."""
    fp.seek(4)
    riff_size = struct.unpack("<I", fp.read(4))[0]
    end = min(size, riff_size + 8)
    if cfg.check_tail and riff_size + 8 > size:
        return _failed("probe.truncated", size, format="webp")
    pos = 12
    w = h = None
    frames = 0
    exif = xmp = None
    while pos + 8 <= end:
        fp.seek(pos)
        fourcc, length = struct.unpack("<4sI", fp.read(8))
        data_end = pos + 8 + length
        if data_end > end:
            return _failed("probe.truncated", size, format="webp")
        if w is None:
            head = fp.read(min(length, 10))
            if fourcc == b"VP8X" and len(head) >= 10:
                w = 1 + int.from_bytes(head[4:7], "little")
                h = 1 + int.from_bytes(head[7:10], "little")
            elif fourcc == b"VP8 " and len(head) >= 10 and head[3:6] == b"\x9d\x01\x2a":
                w = struct.unpack("<H", head[6:8])[0] & 0x3FFF
                h = struct.unpack("<H", head[8:10])[0] & 0x3FFF
            elif fourcc == b"VP8L" and len(head) >= 5 and head[0] == 0x2F:
                bits = struct.unpack("<I", head[1:5])[0]
                w, h = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
            elif fourcc in (b"VP8 ", b"VP8L", b"VP8X"):
                return _failed("probe.bad_header", size, format="webp")
        if fourcc == b"ANMF":
            frames += 1
        elif fourcc == b"EXIF" and exif is None:
            fp.seek(pos + 8)
            exif = fp.read(length)
        elif fourcc == b"XMP " and xmp is None:
            fp.seek(pos + 8)
            xmp = fp.read(length)
        pos = data_end + (length & 1)
    if w is None:
        return _failed("probe.truncated" if end < 64 else "probe.bad_header", size, format="webp")
    if w <= 0 or h <= 0:
        return _failed("probe.bad_header", size, format="webp")
    if w * h > cfg.max_header_pixels:
        return _failed("probe.too_many_pixels", size, width=w, height=h, format="webp")
    n_frames = max(1, frames)
    if n_frames > 1 and cfg.animated == "reject":
        return _failed("probe.animated", size, width=w, height=h, format="webp", n_frames=n_frames)
    orientation = _orientation_from(exif, xmp)
    if orientation in SWAPPING_ORIENTATIONS:
        w, h = h, w
    return ImageProbe(width=w, height=h, orientation=orientation, format="webp", bytes_size=size,
                      n_frames=n_frames)


def _orientation_from(exif: bytes | None, xmp: bytes | None) -> int:
    """EXIF orientation the way `Image.getexif` resolves it: the EXIF tag, else XMP's."""
    orientation = None
    if exif:
        try:
            ex = Image.Exif()
            ex.load(exif)
            orientation = ex.get(0x0112)
        except Exception:  # noqa: BLE001 - corrupt EXIF is data, not a bug: treat as absent
            orientation = None
    if orientation is None and xmp:
        match = re.search(rb'tiff:Orientation(="|>)([0-9])', xmp)
        orientation = int(match[2]) if match else None
    try:
        orientation = int(orientation) if orientation is not None else 1
    except (TypeError, ValueError):
        orientation = 1
    return orientation if 1 <= orientation <= 8 else 1


def _png_exif_after_idat(fp) -> bytes | None:
    return _png_walk(fp)[1]


def probe_frame_dir(path: str, cfg: ProbeConfig) -> ImageProbe:
    """A video stored as a directory of frame images: size from the first frame (by name), and
    the number of frames. `bytes_size` is the total of the frame files."""
    try:
        files = frame_files(path)  # the same listing the shard writer indexes frames into
        total = sum(os.path.getsize(f) for f in files)
    except FileNotFoundError:
        return _failed("probe.missing")
    except OSError:
        return _failed("probe.unreadable")
    if not files:
        return _failed("probe.no_frames")
    first = probe_image(files[0], cfg)
    if not first.ok:
        return first
    return ImageProbe(width=first.width, height=first.height, orientation=first.orientation,
                      format=first.format, bytes_size=total, n_frames=len(files))


# ---------------------------------------------------------------------------------------------
# Tables


def _norm_format(f: str | None) -> str | None:
    if f is None:
        return None
    f = f.lower().lstrip(".")
    return _FORMAT_ALIASES.get(f, f)


def _needs_any_probe(table: pa.Table, cfg: ProbeConfig) -> bool:
    ok = pc.equal(table.column("status"), STATUS_OK)
    ok_rows = table.filter(pc.fill_null(ok, False))
    if ok_rows.num_rows == 0:
        return False
    media = pc.list_flatten(ok_rows.column("media"))
    if len(media) == 0:
        return False
    if cfg.verify_metadata or cfg.check_files:
        return True
    fields = {n: pc.struct_field(media, n) for n in ("width", "height", "frames", "kind")}
    missing = pc.or_(pc.is_null(fields["width"]), pc.is_null(fields["height"]))
    video_no_frames = pc.and_(pc.equal(fields["kind"], "video"), pc.is_null(fields["frames"]))
    return bool(pc.any(pc.or_(missing, pc.fill_null(video_no_frames, False))).as_py())


def probe_batch(table: pa.Table, cfg: ProbeConfig) -> tuple[pa.Table, dict[str, int]]:
    """Fill missing media metadata from headers for the rows whose status is "ok".

    - An image (or a video frame directory) without width/height is probed; with
      `cfg.check_files` (the default) or `cfg.verify_metadata` every such media item is probed.
    - A probe failure marks the row `invalid` with the probe's reason (the first failing media),
      and its `detail` names that media item's uri.
    - Where metadata and header disagree on the upright size, `probe.metadata_disagrees` is
      counted and the header wins (unless `cfg.header_wins` is off): the row's `repairs` list
      gets `probe.metadata_size_mismatch`, and tokens and image rules use the header's size.
    - A file with more bytes than `cfg.max_image_bytes`, or than `cfg.max_bytes_per_pixel` per
      upright pixel plus 1 MiB, is `probe.too_many_bytes`.
    - A video file (not a directory) cannot be probed here; without width/height it is
      `probe.video_no_size`.
    Returns the table with `WORK_SCHEMA` and counters per reason (plus `probe.headers_read`).
    """
    counters: Counter[str] = Counter()
    table = table.select(WORK_SCHEMA.names).cast(WORK_SCHEMA)
    if table.num_rows == 0 or not _needs_any_probe(table, cfg):
        return table, dict(counters)

    statuses = table.column("status").to_pylist()
    reasons = table.column("reason").to_pylist()
    details = table.column("detail").to_pylist()
    media_col = table.column("media").to_pylist()
    repairs = table.column("repairs").to_pylist()
    # one entry per media item of every row (None where no header was read): aligned with `media`
    facts: list[list] = [[None] * len(media or []) for media in media_col]
    _bomb_warnings_raised(_probe_rows, statuses, (reasons, details), media_col, repairs, facts, cfg, counters)

    table = table.set_column(table.schema.get_field_index("media"), WORK_SCHEMA.field("media"),
                             pa.array(media_col, WORK_SCHEMA.field("media").type))
    table = table.set_column(table.schema.get_field_index("status"), WORK_SCHEMA.field("status"),
                             pa.array(statuses, pa.string()))
    table = table.set_column(table.schema.get_field_index("reason"), WORK_SCHEMA.field("reason"),
                             pa.array(reasons, pa.string()))
    table = table.set_column(table.schema.get_field_index("detail"), WORK_SCHEMA.field("detail"),
                             pa.array(details, pa.string()))
    table = table.set_column(table.schema.get_field_index("repairs"), WORK_SCHEMA.field("repairs"),
                             pa.array(repairs, WORK_SCHEMA.field("repairs").type))
    return table.append_column(IMAGE_FACTS, pa.array(facts, IMAGE_FACTS_TYPE)), dict(counters)


def _probe_rows(statuses: list, why: tuple[list, list], media_col: list, repairs: list, facts: list,
                cfg: ProbeConfig, counters: Counter) -> None:
    """`probe_batch`'s pass over the rows, in place; `why` is (reasons, details)."""
    reasons, details = why
    for i, (status, media) in enumerate(zip(statuses, media_col)):
        if status != STATUS_OK or not media:
            continue
        row_facts = facts[i]
        for j, m in enumerate(media):
            reason = _probe_media(m, cfg, counters, row_facts, j)
            if reason == METADATA_SIZE_MISMATCH:
                if METADATA_SIZE_MISMATCH not in (repairs[i] or []):
                    repairs[i] = [*(repairs[i] or []), METADATA_SIZE_MISMATCH]
                continue
            if reason is not None:
                statuses[i] = "invalid"
                reasons[i] = reason
                details[i] = m.get("uri")
                counters[reason] += 1
                break


METADATA_SIZE_MISMATCH = "probe.metadata_size_mismatch"
# What the header read told beyond the media metadata, per media item of each row (null where no
# header was read), for the filter's image rules: the file is read once. A hidden column the
# filter stage drops (`jobs.stages`); it never reaches a checkpoint or an index.
IMAGE_FACTS = "_image_facts"
IMAGE_FACTS_TYPE = pa.list_(pa.struct([("jpeg_quality", pa.float32()), ("frames", pa.int32())]))


def too_many_bytes(bytes_size: int | None, width: int | None, height: int | None, cfg: ProbeConfig) -> bool:
    """More bytes than an image of this upright size can need (`probe.too_many_bytes`)."""
    if bytes_size is None:
        return False
    if bytes_size > cfg.max_image_bytes:
        return True
    return width is not None and height is not None and bytes_size > cfg.max_bytes_per_pixel * width * height + (1 << 20)


def _probe_media(m: dict, cfg: ProbeConfig, counters: Counter, facts: list | None = None, j: int = 0) -> str | None:
    """Probe one media dict in place. Returns a reason on failure, or `METADATA_SIZE_MISMATCH`
    when the header's upright size replaced a different one from the metadata. What the header
    says beyond the metadata goes to `facts[j]`."""
    missing_size = m.get("width") is None or m.get("height") is None
    uri = m.get("uri") or ""
    is_video = m.get("kind") == "video"
    is_dir = is_video and not is_tar_uri(uri) and os.path.isdir(uri)
    if is_video and not is_dir:
        return "probe.video_no_size" if missing_size else None
    if not (missing_size or cfg.check_files or cfg.verify_metadata or (is_dir and m.get("frames") is None)):
        # metadata trusted without a header read: still judge the bytes it declares
        return "probe.too_many_bytes" if too_many_bytes(m.get("bytes_size"), m["width"], m["height"], cfg) else None

    probe = probe_frame_dir(uri, cfg) if is_dir else probe_image(uri, cfg)
    counters["probe.headers_read"] += 1
    if not probe.ok:
        return probe.reason
    if facts is not None and not is_dir:
        facts[j] = {"jpeg_quality": probe.jpeg_quality, "frames": probe.n_frames}
    if not is_dir and too_many_bytes(probe.bytes_size, probe.width, probe.height, cfg):
        return "probe.too_many_bytes"

    corrected = False
    if missing_size:
        m["width"], m["height"], m["orientation"] = probe.width, probe.height, probe.orientation
    elif (m["width"], m["height"]) != (probe.width, probe.height):
        counters["probe.metadata_disagrees"] += 1
        if cfg.header_wins:
            m["width"], m["height"], m["orientation"] = probe.width, probe.height, probe.orientation
            counters[METADATA_SIZE_MISMATCH] += 1
            corrected = True
    if m.get("orientation") is None:
        m["orientation"] = probe.orientation
    meta_format = _norm_format(m.get("format"))
    if meta_format is None or (cfg.header_wins and meta_format != probe.format):
        m["format"] = probe.format
    if m.get("bytes_size") is None or cfg.header_wins:
        m["bytes_size"] = probe.bytes_size
    if is_dir:
        if m.get("frames") is None:
            m["frames"] = probe.n_frames
        elif m["frames"] != probe.n_frames:
            counters["probe.metadata_disagrees"] += 1
            if cfg.header_wins:
                m["frames"] = probe.n_frames
    return METADATA_SIZE_MISMATCH if corrected else None
