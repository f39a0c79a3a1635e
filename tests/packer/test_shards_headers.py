"""Corners of the shard writer the common path does not reach: member names past ustar's 100-byte
name field, the largest member size ustar can state, the stream's byte count, the hashing stream
behind every commit, and the temporary names a later run reads back to find orphans."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import tarfile

import pytest

from packer.shards import (
    TarStream,
    _HashingFile,
    _member_header,
    commit_file,
    file_sha256,
    tar_bytes,
    temp_owner,
    temp_path,
    write_shard,
)

from test_shards_format import _pack


def _tarfile_bytes(members: list[tuple[str, bytes]]) -> bytes:
    """What `tarfile` itself writes for these members with the metadata the shard format fixes
    (built here, not with the writer's own `_tar_member`, so the two can disagree)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode, info.type = len(data), 0, 0o644, tarfile.REGTYPE
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _written(members: list[tuple[str, bytes]]) -> tuple[bytes, int]:
    buf = io.BytesIO()
    tar = TarStream(buf)
    for name, data in members:
        tar.add(name, data)
    tar.close()
    return buf.getvalue(), tar.offset


# names of 99, 100 and 101 bytes, and 150 bytes split into ustar's prefix and name fields at a "/";
# "é" is two bytes in UTF-8, so the limit counts bytes, not characters
LONG = [
    "d" * 90 + "/" + "pack.json",  # 100 bytes: the whole name field, no terminating NUL
    "d" * 89 + "/" + "pack.json",  # 99 bytes
    "d" * 91 + "/" + "pack.json",  # 101 bytes: needs the prefix field
    "é" * 45 + "/" + "pack.json",  # 100 bytes, 55 characters
    "é" * 46 + "/" + "pack.json",  # 102 bytes, 56 characters
    "rank-00003/" + "x" * 80 + "/" + "pack-000000007.tokens.npy" + "y" * 30,  # 147 bytes
]


@pytest.mark.parametrize("name", LONG, ids=lambda n: f"{len(n.encode())}B")
def test_names_at_and_past_the_ustar_name_field(name):
    members = [(name, b"0123456789" * 70), ("pack-000000000.json", b"{}")]
    data, offset = _written(members)
    assert data == _tarfile_bytes(members)
    assert offset == len(data) == tarfile.RECORDSIZE
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        got = [(m.name, m.size, m.offset_data, tar.extractfile(m).read()) for m in tar]
        for m in tar.getmembers():
            assert (m.mtime, m.mode, m.uid, m.gid, m.uname, m.gname, m.type) == \
                (0, 0o644, 0, 0, "", "", tarfile.REGTYPE)
    assert got == [(name, 700, 512, b"0123456789" * 70), ("pack-000000000.json", 2, 512 + 1024 + 512, b"{}")]


def test_a_long_name_without_a_slash_is_an_error_not_a_corrupt_tar(tmp_path):
    with pytest.raises(ValueError, match="too long"):
        TarStream(io.BytesIO()).add("x" * 101, b"data")
    # through the writer: the error surfaces and nothing is left under the shard's name
    pack = _pack(0)
    pack.media = [("y" * 100 + ".jpg", b"\xff\xd8")]
    with pytest.raises(ValueError, match="too long"):
        write_shard(tmp_path / "s.tar", [pack])
    assert list(tmp_path.iterdir()) == []


def test_the_largest_member_size_ustar_can_state():
    """ustar's size field holds 11 octal digits: 8**11 - 1 bytes is the most a member can have;
    one byte more is an error (it would overflow the header, not silently corrupt the shard)."""
    largest = 8**11 - 1
    want = tarfile.TarInfo("pack-000000000.mp4")
    want.size, want.mtime, want.mode, want.type = largest, 0, 0o644, tarfile.REGTYPE
    head = _member_header("pack-000000000.mp4", largest)
    assert len(head) == tarfile.BLOCKSIZE and head == want.tobuf(tarfile.USTAR_FORMAT)
    assert tarfile.TarInfo.frombuf(head, "utf-8", "surrogateescape").size == largest
    with pytest.raises(ValueError, match="overflow"):
        _member_header("pack-000000000.mp4", 8**11)


@pytest.mark.parametrize("sizes", [[], [0], [1], [512], [513, 7], [9 * 1024 - 512], [9 * 1024], [10_000] * 3])
def test_offset_counts_every_byte_written(sizes):
    """`TarStream.offset` is the stream position: after each member and after `close`, which pads
    the archive to whole 10 KiB records."""
    buf = io.BytesIO()
    tar = TarStream(buf)
    for i, n in enumerate(sizes):
        tar.add(f"m{i}.bin", bytes([i % 251]) * n)
        assert tar.offset == buf.tell() and tar.offset % tarfile.BLOCKSIZE == 0
    tar.close()
    assert tar.offset == buf.tell() == len(buf.getvalue())
    assert tar.offset % tarfile.RECORDSIZE == 0 and tar.offset >= 1024 + 512 * len(sizes) + sum(sizes)
    assert buf.getvalue() == _tarfile_bytes([(f"m{i}.bin", bytes([i % 251]) * n) for i, n in enumerate(sizes)])


def test_the_hashing_stream_is_a_writable_raw_stream(tmp_path):
    """Whatever writes through the commit stream (here a buffered writer on top, as `io` layers
    and libraries that ask `writable()` do) is hashed and counted exactly as it reaches the file."""
    chunks = [b"a" * 3000, b"", b"b" * 70_000, b"c"]
    with open(tmp_path / "f.bin", "wb") as fh:
        raw = _HashingFile(fh)
        assert raw.writable() and not raw.readable()
        with io.BufferedWriter(raw, buffer_size=4096) as buffered:
            for c in chunks:
                buffered.write(c)
            buffered.flush()
            assert raw.size == sum(map(len, chunks))
    body = b"".join(chunks)
    assert raw.sha.hexdigest() == hashlib.sha256(body).hexdigest() == file_sha256(tmp_path / "f.bin")
    assert (tmp_path / "f.bin").read_bytes() == body


class _TakesAFew(io.RawIOBase):
    """A raw file that takes at most `most` bytes per write (as a raw OS write may: a pipe, a signal,
    a network file system), over a real file."""

    def __init__(self, fh, most: int) -> None:
        self.fh, self.most = fh, most

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        return self.fh.write(bytes(memoryview(b)[:self.most]))


@pytest.mark.parametrize("most", [1, 7, 4096])
def test_a_raw_file_that_takes_part_of_a_write_is_hashed_as_it_took_it(tmp_path, most):
    """The hashing stream hashes and counts only what the file took; the buffered writer above it
    sends the rest again, so every byte is hashed once, in order."""
    chunks = [b"head" * 300, b"x", bytes(range(256)) * 40, b""]
    with open(tmp_path / "f.bin", "wb", buffering=0) as fh:
        raw = _HashingFile(_TakesAFew(fh, most))
        with io.BufferedWriter(raw, buffer_size=512) as buffered:
            for c in chunks:
                buffered.write(c)
            buffered.flush()
    body = b"".join(chunks)
    assert raw.size == len(body) == (tmp_path / "f.bin").stat().st_size
    assert raw.sha.hexdigest() == hashlib.sha256(body).hexdigest() == file_sha256(tmp_path / "f.bin")


def test_an_empty_write_counts_nothing(tmp_path):
    with open(tmp_path / "f.bin", "wb", buffering=0) as fh:
        raw = _HashingFile(fh)
        assert raw.write(b"") == 0 and raw.write(b"ab") == 2 and raw.write(b"") == 0
    assert raw.size == 2 and raw.sha.hexdigest() == hashlib.sha256(b"ab").hexdigest()


@pytest.mark.parametrize("media_bytes", [5000, 2 * (1 << 20) - 5000])  # the second ends the tar with a short write
def test_fsync_comes_after_every_byte_reached_the_file(tmp_path, monkeypatch, media_bytes):
    """Crash safety: when the shard is fsynced, all its bytes are in the file already (none wait in
    a buffer to be written at close, after the fsync). The real fsync runs; the test only records
    the file's size at that moment."""
    seen = []
    real_fsync = os.fsync

    def recording_fsync(fd):
        seen.append(os.fstat(fd).st_size)
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    pack = _pack(0)
    pack.media = [("0.bin", b"z" * media_bytes)]
    written = write_shard(tmp_path / "s.tar", [pack])
    assert seen and seen[0] == written.bytes == (tmp_path / "s.tar").stat().st_size


def test_written_shard_reports_the_file_it_wrote(tmp_path):
    packs = [_pack(i) for i in range(3)]
    w = write_shard(tmp_path / "r0" / "shard-000001.tar", iter(packs))  # a generator: one pass
    body = (tmp_path / "r0" / "shard-000001.tar").read_bytes()
    assert body == tar_bytes(packs)
    assert (w.sha256, w.bytes, w.n_packs) == (hashlib.sha256(body).hexdigest(), len(body), 3)
    assert commit_file(tmp_path / "copy.tar", body) == w.sha256


def test_the_temp_name_names_its_writer(tmp_path):
    final = tmp_path / "rank-00001" / "shard-000003.tar"
    tmp = temp_path(final)
    assert tmp.parent == final.parent and tmp.name.startswith(".shard-000003.tar.tmp-")
    assert temp_owner(tmp.name) == (socket.gethostname(), os.getpid())


@pytest.mark.parametrize("name, owner", [
    (".shard-000003.tar.tmp-node-7-a-1234", ("node-7-a", 1234)),  # host names may hold dashes
    (".manifest.json.tmp-h-0", ("h", 0)),
    (".a.tmp-b.tmp-gpu01-99", ("b.tmp-gpu01", 99)),  # the last "-<digits>" is the pid
    ("shard-000003.tar.tmp-node-1234", None),  # not hidden: not one of ours
    (".shard-000003.tar.tmp-node-12x", None),  # no pid at the end
    (".shard-000003.tar", None),
    ("shard-000003.tar", None),
    ("", None),
])
def test_temp_owner_reads_host_and_pid_back(name, owner):
    assert temp_owner(name) == owner
