"""The shard format, byte for byte: fixed tar metadata (a golden checksum), little-endian int32
token arrays whatever the input dtype, and `commit_file`, the atomic write every index, statistic,
checkpoint and manifest goes through."""

from __future__ import annotations

import io
import tarfile

import numpy as np
import pytest

from packer.shards import PackPayload, ShardCommitError, commit_file, file_sha256, npy_bytes, tar_bytes, write_shard
from schemas.manifest import PackLayout, SampleLayout


def _pack(pid: int) -> PackPayload:
    layout = PackLayout(pack_id=pid, step=0, rank=0, micro=pid, seq_len=4, real_tokens=3,
                        samples=[SampleLayout(id=f"s/{pid}", source="s", task="caption", offset=0, length=3,
                                              loss_tokens=1)])
    return PackPayload(key=f"pack-{pid:09d}", layout=layout, input_ids=np.array([5, 6, 7, 0]),
                       labels=np.array([-100, -100, 7, -100]), media=[("0.jpg", b"\xff\xd8not-a-real-jpeg")])


# a change of this checksum changes every shard vlpack writes: update it deliberately
GOLDEN_SHA256 = "c0d89cbfcf3da066d46ba91f88dcd06088cd9be4792471c849cf299e707ab8a8"


def test_golden_shard_bytes(tmp_path):
    written = write_shard(tmp_path / "s.tar", [_pack(0), _pack(1)])
    assert written.sha256 == file_sha256(tmp_path / "s.tar") == GOLDEN_SHA256
    assert (written.path, written.bytes, written.n_packs) == (tmp_path / "s.tar", 10240, 2)
    assert (tmp_path / "s.tar").read_bytes() == tar_bytes([_pack(0), _pack(1)])


def test_members_have_fixed_metadata(tmp_path):
    data = tar_bytes([_pack(0)])
    assert data[257:263] == b"ustar\x00"  # POSIX ustar, not GNU or PAX headers
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == ["pack-000000000.json", "pack-000000000.tokens.npy",
                                         "pack-000000000.labels.npy", "pack-000000000.0.jpg"]
    for m in members:
        assert (m.mtime, m.mode, m.uid, m.gid, m.uname, m.gname, m.type) == (0, 0o644, 0, 0, "", "", tarfile.REGTYPE)


@pytest.mark.parametrize("dtype", [np.int64, np.int16, np.uint8, np.dtype(">i4")])
def test_token_arrays_are_little_endian_int32(dtype):
    data = npy_bytes(np.array([1, 2, 3], dtype=dtype))
    assert data == npy_bytes(np.array([1, 2, 3], dtype="<i4"))
    loaded = np.load(io.BytesIO(data), allow_pickle=False)
    assert loaded.dtype == np.dtype("<i4") and loaded.tolist() == [1, 2, 3]


def test_commit_file_writes_atomically_into_new_directories(tmp_path):
    target = tmp_path / "index" / "packs" / "part-00000.parquet"
    seen = []

    def look(tmp):  # just before the rename: the complete temp file sits beside the target
        seen.append((tmp.parent == target.parent, tmp.read_bytes(), target.exists()))

    digest = commit_file(target, b"payload", before_rename=look)
    assert seen == [(True, b"payload", False)]
    assert target.read_bytes() == b"payload" and digest == file_sha256(target)
    assert sorted(p.name for p in target.parent.iterdir()) == ["part-00000.parquet"]
    write_shard(tmp_path / "a" / "b" / "s.tar", [_pack(0)])  # shards too, two levels down


def test_commit_file_failure_leaves_nothing(tmp_path):
    def fail(tmp):
        raise OSError(28, "No space left on device")

    with pytest.raises(ShardCommitError, match="stats.json"):
        commit_file(tmp_path / "stats.json", b"{}", before_rename=fail)
    assert list(tmp_path.iterdir()) == []


def test_cleanup_tolerates_a_temp_file_already_gone(tmp_path):
    def vanish(tmp):  # e.g. a concurrent cleanup of stale temp files removed it
        tmp.unlink()
        raise OSError(2, "gone")

    with pytest.raises(ShardCommitError, match="s.tar"):
        write_shard(tmp_path / "s.tar", [_pack(0)], before_rename=vanish)
    assert list(tmp_path.iterdir()) == []
