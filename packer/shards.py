"""Deterministic webdataset shard writing, committed by checksum and rename.

A shard is a plain ustar archive. Every member has fixed metadata (mtime 0, uid/gid 0, mode 0644,
no user names), and members are written in a fixed order, so the same packs give the same bytes.
The file is written under a temporary name in the same directory, flushed and fsynced, hashed,
then renamed into place: a reader never sees a half-written shard under its final name.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import socket
import tarfile
from dataclasses import dataclass, field
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from schemas.manifest import PackLayout
from schemas.manifest import file_sha256 as file_sha256  # re-exported: the writer, checkpoints and tests hash through it


@dataclass
class PackPayload:
    """One pack as it goes into a shard: layout, token arrays and media bytes in member order."""

    key: str
    layout: PackLayout
    input_ids: np.ndarray
    labels: np.ndarray
    media: list[tuple[str, bytes]] = field(default_factory=list)  # (member suffix, bytes)

    def members(self) -> list[tuple[str, bytes]]:
        layout_json = self.layout.model_dump_json().encode()
        return [
            (f"{self.key}.json", layout_json),
            (f"{self.key}.tokens.npy", npy_bytes(self.input_ids)),
            (f"{self.key}.labels.npy", npy_bytes(self.labels)),
            *[(f"{self.key}.{suffix}", data) for suffix, data in self.media],
        ]


@dataclass(frozen=True)
class WrittenShard:
    path: Path
    sha256: str
    bytes: int
    n_packs: int


class ShardCommitError(OSError):
    """Raised when a shard cannot be committed; the message names the shard."""


_TEMP_OWNER = re.compile(r"\.tmp-(?P<host>.+)-(?P<pid>\d+)$")


def temp_path(path: Path) -> Path:
    """The temporary name `path` is written under: hidden, beside it, naming its writer (host and
    pid) so that a later run can tell an orphan from a file another process is still writing."""
    return path.with_name(f".{path.name}.tmp-{socket.gethostname()}-{os.getpid()}")


def temp_owner(name: str) -> tuple[str, int] | None:
    """(host, pid) of the writer of a temporary file named by `temp_path`, or None."""
    m = _TEMP_OWNER.search(name)
    return (m["host"], int(m["pid"])) if m and name.startswith(".") else None


def npy_bytes(array: np.ndarray) -> bytes:
    """`np.save` bytes of a little-endian int32 array (the format is byte-stable)."""
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array, dtype="<i4"), allow_pickle=False)
    return buf.getvalue()


def _tar_member(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = 0
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.type = tarfile.REGTYPE
    return info


_BLOCK = tarfile.BLOCKSIZE
_RECORD = tarfile.RECORDSIZE
# A ustar header of a regular file with our fixed metadata (mode 0644, uid/gid 0, mtime 0, no user
# names), as tarfile writes it, with the name, size and checksum fields left to fill in.
_HEADER = bytearray(_tar_member("x", 0).tobuf(tarfile.USTAR_FORMAT))
_HEADER[0:100] = bytes(100)
_HEADER[148:156] = b" " * 8  # the checksum is computed with its own field as spaces
# The checksum is the sum of the header's bytes: the template's (name and size fields left out)
# plus those of the name and size filled in.
_HEADER_SUM = sum(_HEADER) - sum(_HEADER[124:136])


def _member_header(name: str, size: int) -> bytes:
    """The 512-byte ustar header tarfile would write for `_tar_member(name, size)`, built from a
    template (tarfile's own path costs ~70 µs a member). Names over 100 bytes go through tarfile."""
    raw = name.encode("utf-8")
    if len(raw) > 100 or size >= 8**11:
        return _tar_member(name, size).tobuf(tarfile.USTAR_FORMAT)
    size_field = b"%011o\0" % size
    head = bytearray(_HEADER)
    head[0:len(raw)] = raw
    head[124:136] = size_field
    head[148:155] = b"%06o\0" % (_HEADER_SUM + sum(raw) + sum(size_field))
    return bytes(head)


class TarStream:
    """Write ustar members to a binary stream, byte for byte as `tarfile` (USTAR_FORMAT) does."""

    def __init__(self, fh) -> None:
        self.fh = fh
        self.offset = 0

    def add(self, name: str, data: bytes) -> None:
        self.fh.write(_member_header(name, len(data)))
        self.fh.write(data)
        pad = -len(data) % _BLOCK
        if pad:
            self.fh.write(bytes(pad))
        self.offset += _BLOCK + len(data) + pad

    def close(self) -> None:
        """Two zero blocks, then zeros up to a whole record (tar's -b20), as `TarFile.close`."""
        self.offset += 2 * _BLOCK
        tail = 2 * _BLOCK + (-self.offset % _RECORD)
        self.fh.write(bytes(tail))
        self.offset += tail - 2 * _BLOCK


def _add_members(tar: TarStream, packs: Iterable[PackPayload]) -> int:
    n = 0
    for pack in packs:
        for name, data in pack.members():
            tar.add(name, data)
        n += 1
    return n


def tar_bytes(packs: Iterable[PackPayload]) -> bytes:
    buf = io.BytesIO()
    tar = TarStream(buf)
    _add_members(tar, packs)
    tar.close()
    return buf.getvalue()


_WRITE_BUFFER = 1 << 20


class _HashingFile(io.RawIOBase):
    """A write-only stream that hashes and counts what passes through to `fh`."""

    def __init__(self, fh):
        self.fh, self.sha, self.size = fh, hashlib.sha256(), 0

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        n = self.fh.write(b) or 0  # a raw file may take part of `b`: hash and count what it took
        self.sha.update(memoryview(b)[:n] if n < len(b) else b)
        self.size += n
        return n


def _commit(path: Path, fill, *, before_rename=None) -> tuple[str, int, object]:
    """Stream into a temporary name (hashing as it goes), fsync, then rename into place.

    `fill(stream)` writes the content and returns a value passed back. `before_rename(tmp)` is a
    fault-injection hook used by tests. If anything fails, the temporary file is removed and
    nothing is visible under `path`.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    try:
        with open(tmp, "wb", buffering=0) as fh:
            stream = _HashingFile(fh)
            # writers make many small writes (a tar header, a member, its padding): gather them so
            # the hash and the file see large blocks
            buffered = io.BufferedWriter(stream, buffer_size=_WRITE_BUFFER)
            result = fill(buffered)
            buffered.flush()
            buffered.detach()
            os.fsync(fh.fileno())
        if before_rename is not None:
            before_rename(tmp)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException as err:
        tmp.unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise ShardCommitError(f"cannot commit {path}: {err}") from err
        raise
    return stream.sha.hexdigest(), stream.size, result


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable: the directory entry, not only the file's bytes, reaches the disk."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a directory; the rename itself is still atomic
    finally:
        os.close(fd)


def commit_file(path: Path, data: bytes, *, before_rename=None) -> str:
    """Write `data` to `path` atomically (temp name, fsync, rename); return its sha256."""
    return _commit(Path(path), lambda stream: stream.write(data), before_rename=before_rename)[0]


def write_shard(path: str | os.PathLike, packs: Iterable[PackPayload], *, before_rename=None) -> WrittenShard:
    """Stream one shard of packs to disk atomically; memory stays at one pack, not one shard."""

    def fill(stream) -> int:
        tar = TarStream(stream)
        n = _add_members(tar, packs)
        tar.close()
        return n

    digest, size, n = _commit(Path(path), fill, before_rename=before_rename)
    return WrittenShard(path=Path(path), sha256=digest, bytes=size, n_packs=n)
