"""PackedShardDataset on real tar shards written in the output contract's format."""

from __future__ import annotations

import hashlib
import io
import json

import numpy as np
import pytest
import torch
from shard_builder import IMAGE_PAD, PAD, VIDEO_PAD, build_out, make_pack, npy, write_tar

from schemas.manifest import Manifest, pack_key
from trainer_bridge.dataset import PackedShardDataset, PackLoader, ShardFormatError


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    root = tmp_path_factory.mktemp("out")
    build_out(root, dp_size=2, micro_batch=1, grad_accum=2, n_steps=3, packs_per_shard=2)
    return root


def ids_of(items):
    return [int(x["pack_id"]) for x in items]


def test_rank_reads_its_packs_in_step_order(out):
    packs = list(PackedShardDataset(out, 1, 2))
    assert [(p["step"], p["micro"]) for p in packs] == [(s, m) for s in range(3) for m in range(2)]
    assert ids_of(packs) == [2, 3, 6, 7, 10, 11]  # rank 1's packs in the builder's plan


def test_pack_tensors_match_the_layout(out):
    built = {b.layout.pack_id: b for b in build_out(out.parent / "again", dp_size=2, n_steps=3)}
    for item in PackedShardDataset(out, 0, 2, mrope=False):
        lay = built[item["pack_id"]].layout
        ids = item["input_ids"]
        assert ids.dtype == torch.int64 and ids.shape == (lay.seq_len,)
        assert torch.all(ids[lay.real_tokens :] == PAD)
        cu = item["cu_seqlens"]
        assert cu.dtype == torch.int32 and cu.tolist() == item["cu_seqlens_list"]
        ends = [s.offset + s.length for s in lay.samples]
        assert cu.tolist() == [0, *ends, lay.seq_len]  # trailing padding is its own segment
        pos = item["position_ids"]
        for a, b in zip(cu.tolist()[:-1], cu.tolist()[1:]):
            assert pos[a:b].tolist() == list(range(b - a))
        assert item["sample_index"][lay.real_tokens :].eq(-1).all()
        n_pads = int(((ids == IMAGE_PAD) | (ids == VIDEO_PAD)).sum())
        assert item["pixel_values"].shape == (4 * n_pads, 3 * 2 * 14 * 14)
        assert int(item["vision_mask"].sum()) == n_pads
        assert torch.all((ids[item["vision_mask"]] == IMAGE_PAD) | (ids[item["vision_mask"]] == VIDEO_PAD))
        grids = item["image_grid_thw"]
        assert grids.shape == (len(lay.images), 3)
        assert int(grids.prod(-1).sum()) == item["pixel_values"].shape[0]
        for im, kind in zip(lay.images, item["media_kind"]):
            assert kind == im.kind


def test_video_frames_become_temporal_patches(out):
    videos = [it for r in range(2) for it in PackedShardDataset(out, r, 2) if "video" in it["media_kind"]]
    assert videos, "the builder puts a 4-frame video in every third pack"
    item = videos[0]
    k = item["media_kind"].index("video")
    assert int(item["image_grid_thw"][k][0]) == 2


def test_mrope_is_the_default_for_the_qwen2_vl_layout(out):
    item = next(iter(PackedShardDataset(out, 0, 2)))
    assert item["position_ids"].shape == (3, item["seq_len"])
    assert next(iter(PackedShardDataset(out, 0, 2, mrope=False)))["position_ids"].shape == (item["seq_len"],)


def test_mrope_positions_follow_the_image_grid(out):
    ds = PackedShardDataset(out, 0, 2, mrope=True)
    for item in ds:
        pos = item["position_ids"]
        assert pos.shape == (3, item["seq_len"])
        mask = item["vision_mask"]
        if not mask.any():
            continue
        first = int(mask.nonzero()[0])
        grid = item["image_grid_thw"][0].tolist()
        tokens = grid[0] * (grid[1] // 2) * (grid[2] // 2)
        block = pos[:, first : first + tokens]
        base = int(pos[0, first - 1]) + 1
        assert block[0].min() == base and block[1].max() == base + grid[1] // 2 - 1
        assert block[2].max() == base + grid[2] // 2 - 1
        after = pos[:, first + tokens]  # <|vision_end|> continues at max + 1
        assert torch.all(after == base + max(grid[0], grid[1] // 2, grid[2] // 2))
        return
    pytest.fail("no pack with an image")


@pytest.mark.parametrize("workers", [0, 2])
def test_workers_do_not_change_the_order(out, workers):
    reference = ids_of(PackedShardDataset(out, 0, 2))
    assert ids_of(PackLoader(PackedShardDataset(out, 0, 2), num_workers=workers)) == reference


@pytest.mark.parametrize(("workers", "taken"), [(0, 3), (2, 3), (2, 1), (2, 5), (2, 4)])
def test_resume_mid_epoch_yields_exactly_the_rest(out, workers, taken):
    full = ids_of(PackedShardDataset(out, 0, 2))
    loader = PackLoader(PackedShardDataset(out, 0, 2), num_workers=workers)
    seen = []
    for item in loader:
        seen.append(int(item["pack_id"]))
        if len(seen) == taken:
            break
    state = json.loads(json.dumps(loader.state_dict()))  # checkpoints are plain JSON
    assert state["position"] == taken
    resumed = PackLoader(PackedShardDataset(out, 0, 2), num_workers=workers)
    resumed.load_state_dict(state)
    assert seen + ids_of(resumed) == full


def test_resume_state_from_another_output_is_refused(out, tmp_path):
    other = tmp_path / "other"
    build_out(other, seed=5)
    state = PackedShardDataset(out, 0, 2).state_dict()
    with pytest.raises(ValueError, match="config_fingerprint"):
        PackedShardDataset(other, 0, 2).load_state_dict(state)


def test_shuffle_steps_keeps_steps_whole_and_ranks_aligned(out):
    a = [list(PackedShardDataset(out, r, 2, shuffle_steps=True, epoch=1, seed=3)) for r in range(2)]
    steps = [[int(x["step"]) for x in ranks] for ranks in a]
    assert steps[0] == steps[1] and sorted(steps[0]) == sorted([0, 0, 1, 1, 2, 2])
    assert all(steps[0][i] == steps[0][i + 1] for i in range(0, 6, 2))


@pytest.mark.parametrize(("new_dp", "packs_per_step"), [(1, None), (2, None), (4, None), (3, 12), (6, 6), (12, 12)])
def test_reassignment_is_complete_disjoint_and_even(out, new_dp, packs_per_step):
    per_rank = [list(PackedShardDataset(out, r, new_dp, packs_per_step=packs_per_step)) for r in range(new_dp)]
    all_ids = [i for items in per_rank for i in ids_of(items)]
    assert sorted(all_ids) == list(range(12)) and len(set(all_ids)) == 12
    counts = {(r, int(x["step"])) for r, items in enumerate(per_rank) for x in items}
    steps = sorted({s for _, s in counts})
    for s in steps:
        sizes = [sum(1 for x in items if int(x["step"]) == s) for items in per_rank]
        assert len(set(sizes)) == 1, (s, sizes)
    ds = PackedShardDataset(out, 0, new_dp, packs_per_step=packs_per_step)
    assert ds.packs_per_step == (packs_per_step or 4)  # the global batch changes only when asked to
    assert all(x["step_packs"] == ds.packs_per_step for items in per_rank for x in items)


@pytest.mark.parametrize("new_dp", [3, 5, 6, 8])
def test_dp_size_that_does_not_divide_the_global_batch_is_refused(out, new_dp):
    with pytest.raises(ValueError, match=rf"dp_size: {new_dp} does not divide the global batch of 4 .*\[1, 2, 4\]"):
        PackedShardDataset(out, 0, new_dp)


def test_plain_dataloader_with_workers_is_refused(out):
    from torch.utils.data import DataLoader

    ds = PackedShardDataset(out, 0, 2)
    with pytest.raises(RuntimeError, match="PackLoader"):
        list(DataLoader(ds, batch_size=None, num_workers=1))
    assert len(list(DataLoader(ds, batch_size=None, num_workers=0))) == 6  # main process: tracked
    assert ds.state_dict()["position"] == 6


def run_ranks(out, dp, steps, **kw):
    """Train-like lockstep: every rank takes its packs of ``steps`` global steps; returns (ids, states)."""
    seen, states = [], []
    for rank in range(dp):
        ds = PackedShardDataset(out, rank, dp, **kw)
        loader = PackLoader(ds)
        for i, item in enumerate(loader):
            seen.append(int(item["pack_id"]))
            if i + 1 == steps * ds.packs_per_rank_step:
                break
        states.append(json.loads(json.dumps(loader.state_dict())))
    return seen, states


@pytest.mark.parametrize(("old_dp", "new_dp", "steps"), [(2, 1, 1), (2, 4, 2), (4, 2, 1), (1, 4, 1), (4, 1, 2)])
@pytest.mark.parametrize("shuffle", [False, True])
def test_elastic_resume_trains_every_remaining_pack_exactly_once(out, old_dp, new_dp, steps, shuffle):
    kw = {"shuffle_steps": shuffle, "seed": 7, "epoch": 1}
    seen, states = run_ranks(out, old_dp, steps, **kw)
    assert {s["global_position"] for s in states} == {4 * steps} and all(s["mid_step"] == 0 for s in states)
    rest = []
    for rank in range(new_dp):
        ds = PackedShardDataset(out, rank, new_dp, **kw)
        ds.load_state_dict(states[rank % old_dp])  # any rank's state: they agree on the global position
        assert len(ds) == (12 - 4 * steps) // new_dp
        rest += ids_of(ds)
    assert sorted(seen + rest) == list(range(12))
    # the same as an uninterrupted run's global sequence: nothing skipped, nothing repeated, same order of steps
    whole = PackedShardDataset(out, 0, 1, **kw)
    assert set(seen) == set(ids_of(whole)[: 4 * steps])


def test_elastic_resume_mid_step_is_refused_but_same_dp_resumes_exactly(out):
    ds = PackedShardDataset(out, 0, 2)
    loader = PackLoader(ds)
    it = iter(loader)
    next(it)  # one pack into a step of two packs per rank
    state = loader.state_dict()
    assert state["mid_step"] == 1
    with pytest.raises(ValueError, match="step boundary"):
        PackedShardDataset(out, 0, 4).load_state_dict(state)
    again = PackedShardDataset(out, 0, 2)
    again.load_state_dict(state)
    assert ids_of(again) == ids_of(PackedShardDataset(out, 0, 2))[1:]


def test_state_from_another_rank_is_refused_under_the_same_dp(out):
    state = PackedShardDataset(out, 1, 2).state_dict()
    with pytest.raises(ValueError, match="dp_rank"):
        PackedShardDataset(out, 0, 2).load_state_dict(state)


def rewrite_shard(root, rank_shard: str, edit):
    """Rewrite one shard after editing its packs, and re-commit the manifest."""
    manifest = Manifest.model_validate_json((root / "manifest.json").read_bytes())
    entry = next(s for s in manifest.shards if s.path == rank_shard)
    packs = edit()
    write_tar(root / rank_shard, packs)
    data = (root / rank_shard).read_bytes()
    entry.sha256, entry.bytes = hashlib.sha256(data).hexdigest(), len(data)
    (root / "manifest.json").write_text(manifest.model_dump_json())


def corrupt(root, rel, at=700):
    shard = root / rel
    data = bytearray(shard.read_bytes())
    data[at] ^= 0xFF
    shard.write_bytes(bytes(data))


def test_corrupt_shard_is_named_when_first_opened(tmp_path):
    build_out(tmp_path)
    corrupt(tmp_path, "shards/rank-00001/shard-000001.tar")
    ds = PackedShardDataset(tmp_path, 1, 2)  # lazy: starts at once, hashes a shard when it opens it
    seen = []
    with pytest.raises(ShardFormatError, match="shard shards/rank-00001/shard-000001.tar: sha256.*stopped before"):
        for item in ds:
            seen.append(item["pack_id"])
    assert seen == [2, 3]  # the packs of the intact first shard; none of the corrupt one
    assert len(list(PackedShardDataset(tmp_path, 0, 2))) == 6  # rank 0 reads none of it
    with pytest.raises(ShardFormatError, match="shard shards/rank-00001/shard-000001.tar: sha256"):
        PackedShardDataset(tmp_path, 1, 2, verify="full")  # the optional full pass, up front
    with pytest.raises(ShardFormatError, match="shard-000001.tar pack pack-000000006"):
        list(PackedShardDataset(tmp_path, 1, 2, verify=False))  # unverified, the bad bytes are still named


@pytest.mark.parametrize("workers", [0, 2])
def test_corrupt_shard_stops_a_worker_loader_too(tmp_path, workers):
    build_out(tmp_path)
    corrupt(tmp_path, "shards/rank-00000/shard-000002.tar")
    seen = []
    with pytest.raises(ShardFormatError, match="shard-000002.tar: sha256"):
        for item in PackLoader(PackedShardDataset(tmp_path, 0, 2), num_workers=workers):
            seen.append(item["pack_id"])
    assert 8 not in seen and 9 not in seen  # the corrupt shard's packs never reach the trainer


def test_each_shard_is_hashed_once_per_dataset(tmp_path, monkeypatch):
    import trainer_bridge.dataset as dataset_module

    out = tmp_path / "out"
    build_out(out)
    log = tmp_path / "hashed.log"  # the DataLoader workers are forked: they log to a file
    real = dataset_module.sha256_file

    def logged(path):
        with open(log, "a") as fh:
            fh.write(path.name + "\n")
        return real(path)

    monkeypatch.setattr(dataset_module, "sha256_file", logged)
    ds = PackedShardDataset(out, 0, 2)
    log.unlink()  # the index, hashed when the dataset is made
    loader = PackLoader(ds, num_workers=2)
    list(loader)
    ds.set_epoch(1)
    list(loader)  # the workers of the second epoch know what the first epoch's workers verified
    hashed = log.read_text().split()
    assert sorted(set(hashed)) == ["shard-000000.tar", "shard-000001.tar", "shard-000002.tar"]
    assert len(hashed) <= 2 * 3  # at most once per worker in the first epoch, never again


def test_missing_manifest_says_not_committed(tmp_path):
    build_out(tmp_path)
    (tmp_path / "manifest.json").unlink()
    with pytest.raises(FileNotFoundError, match="not committed"):
        PackedShardDataset(tmp_path, 0, 2)


def test_pad_count_mismatch_names_the_pack(tmp_path):
    build_out(tmp_path, dp_size=1, grad_accum=1, n_steps=1, packs_per_shard=1)
    rng = np.random.default_rng(1)
    pack = make_pack(0, 0, 0, 0, 256, rng)
    while not pack.layout.images:
        pack = make_pack(0, 0, 0, 0, 256, rng)
    im = pack.layout.images[0]
    ids = np.load(io.BytesIO(pack.members["tokens.npy"]))
    ids[im.offset] = 42  # one pad token lost: pixels give one token more than input_ids hold
    pack.members["tokens.npy"] = npy(ids)
    rewrite_shard(tmp_path, "shards/rank-00000/shard-000000.tar", lambda: [pack])
    with pytest.raises(ShardFormatError, match=f"pack {pack_key(0)}.*pad tokens"):
        list(PackedShardDataset(tmp_path, 0, 1))


def test_manifest_path_outside_out_is_refused(tmp_path):
    build_out(tmp_path)
    m = json.loads((tmp_path / "manifest.json").read_text())
    m["shards"][0]["path"] = "../escape.tar"
    (tmp_path / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ShardFormatError):
        PackedShardDataset(tmp_path, 0, 2)
