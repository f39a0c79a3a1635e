"""The shard writer: byte-stable tars that stock webdataset reads, committed only by rename."""

from __future__ import annotations

import numpy as np
import pytest
import webdataset as wds

from packer.shards import PackPayload, ShardCommitError, file_sha256, write_shard
from schemas.manifest import PackLayout, SampleLayout


def _pack(pid: int) -> PackPayload:
    layout = PackLayout(pack_id=pid, step=0, rank=0, micro=pid, seq_len=8, real_tokens=3,
                        samples=[SampleLayout(id=f"s/{pid}", source="s", task="text", offset=0, length=3,
                                              loss_tokens=1)])
    ids = np.array([1, 2, 3, 0, 0, 0, 0, 0], np.int32)
    labels = np.array([-100, -100, 3, -100, -100, -100, -100, -100], np.int32)
    return PackPayload(key=f"pack-{pid:09d}", layout=layout, input_ids=ids, labels=labels,
                       media=[("0.jpg", b"\xff\xd8fakejpeg")])


def test_same_packs_same_bytes(tmp_path):
    a = write_shard(tmp_path / "a.tar", [_pack(0), _pack(1)])
    b = write_shard(tmp_path / "b.tar", [_pack(0), _pack(1)])
    assert a.sha256 == b.sha256 == file_sha256(tmp_path / "a.tar")
    assert (tmp_path / "a.tar").read_bytes() == (tmp_path / "b.tar").read_bytes()


def test_stock_webdataset_reads_it(tmp_path):
    write_shard(tmp_path / "s.tar", [_pack(0), _pack(1)])
    samples = list(wds.WebDataset(str(tmp_path / "s.tar"), shardshuffle=False).decode())
    assert [s["__key__"] for s in samples] == ["pack-000000000", "pack-000000001"]
    assert samples[0]["tokens.npy"].tolist() == [1, 2, 3, 0, 0, 0, 0, 0]
    assert samples[1]["json"]["pack_id"] == 1
    assert samples[0]["0.jpg"] is not None


def test_failed_rename_leaves_nothing_visible(tmp_path):
    def boom(tmp):
        raise OSError(5, "injected failure at rename")

    with pytest.raises(ShardCommitError, match="s.tar"):
        write_shard(tmp_path / "s.tar", [_pack(0)], before_rename=boom)
    assert list(tmp_path.iterdir()) == []
