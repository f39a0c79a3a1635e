"""`jobs.pack_dataset.read_packs`: a committed output's packs as a Ray Dataset, equal to what
`vlpack inspect` (and so a trainer) reads from the shards; and the read_webdataset setting it uses."""

from __future__ import annotations

import numpy as np
import pytest

from demo_output import committed_demo_output
from jobs.commands.inspect import load_manifest, read_pack, select_packs
from jobs.pack_dataset import _media_key, read_packs, shard_paths


@pytest.fixture(scope="module")
def demo_out(ray_local, demo_corpus, tmp_path_factory):
    return committed_demo_output(demo_corpus, tmp_path_factory)


def test_read_packs_gives_every_pack_with_its_tokens_labels_and_media(demo_out):
    manifest = load_manifest(demo_out)
    rows = read_packs(demo_out).take_all()
    assert sorted(r["pack_id"] for r in rows) == list(range(manifest.n_packs))
    by_id = {r["pack_id"]: r for r in rows}
    for pid in range(0, manifest.n_packs, max(1, manifest.n_packs // 6)):
        (index_row,) = select_packs(demo_out, pid, None, None, None)
        view = read_pack(demo_out, manifest, index_row)
        row = by_id[pid]
        assert row["key"] == index_row["key"] and row["shard"] == index_row["shard"]
        assert (row["step"], row["rank"], row["micro"]) == (index_row["step"], index_row["rank"], index_row["micro"])
        assert np.array_equal(row["input_ids"], view.input_ids) and np.array_equal(row["labels"], view.labels)
        assert sorted(row["media_names"]) == sorted(view.media)
        assert [len(b) for b in row["media"]] == [view.media[n] for n in row["media_names"]]
        expected = []  # the layout's order: each image, or each video's frames in frame order
        for im in view.layout.images:
            expected += [im.member] if im.frames is None else sorted(
                (k for k in view.media if k.startswith(im.member) and k != im.member), key=_media_key)
        assert row["media_names"] == expected


def test_read_packs_of_some_ranks_and_only_listed_shards(demo_out):
    rank0 = read_packs(demo_out, ranks=[0]).take_all()
    assert rank0 and {r["rank"] for r in rank0} == {0}
    (demo_out / "shards" / "rank-00000" / "stray.tar").write_bytes(b"")  # not in the manifest: never read
    try:
        assert all(p.endswith(".tar") and "stray" not in p for p in shard_paths(demo_out))
    finally:
        (demo_out / "shards" / "rank-00000" / "stray.tar").unlink()


def test_the_documented_read_webdataset_setting_reads_the_shards(demo_out):
    import ray

    rows = ray.data.read_webdataset(shard_paths(demo_out)[:1], decoder=None).take(2)
    assert rows and all(isinstance(r["json"], bytes) and isinstance(r["tokens.npy"], bytes) for r in rows)
