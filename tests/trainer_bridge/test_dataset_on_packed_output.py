"""The bridge over shards the packer really wrote: a small demo pack job on the session's local Ray
(shared with the report tests), read back rank by rank and checked against the job's own indexes.

The planned and the trained figures must agree exactly: tokens, loss tokens, ViT patches, images
and the samples of every pack."""

from __future__ import annotations

import pytest

from demo_output import committed_demo_output
from schemas.manifest import MANIFEST_NAME, Manifest, load_index
from trainer_bridge.dataset import PackedShardDataset


@pytest.fixture(scope="module")
def packed(ray_local, demo_corpus, tmp_path_factory):
    out = committed_demo_output(demo_corpus, tmp_path_factory)
    manifest = Manifest.model_validate_json((out / MANIFEST_NAME).read_text())
    packs = load_index(out, "packs").to_pandas().set_index("pack_id")
    ledger = load_index(out, "ledger").to_pandas()
    items = {}
    for rank in range(manifest.dp_size):
        for item in PackedShardDataset(out, rank, manifest.dp_size):
            n_pixels = item["pixel_values"].shape[0]
            item = {k: v for k, v in item.items() if k != "pixel_values"}  # keep the module's memory small
            items[int(item["pack_id"])] = (rank, item, n_pixels)
    return out, manifest, packs, ledger, items


def test_every_pack_reaches_its_rank_in_step_order(packed):
    _, manifest, packs, _, items = packed
    assert manifest.n_packs > 0 and sorted(items) == sorted(packs.index) and len(items) == manifest.n_packs
    for rank in range(manifest.dp_size):
        mine = packs[packs["rank"] == rank].sort_values(["step", "micro"])
        got = sorted((it["step"], it["micro"], pid) for pid, (r, it, _) in items.items() if r == rank)
        assert got == list(zip(mine["step"], mine["micro"], mine.index))


def test_tensors_match_the_plan(packed):
    _, _, packs, _, items = packed
    for pid, (_, item, n_pixels) in items.items():
        row = packs.loc[pid]
        ids, labels, cu = item["input_ids"], item["labels"], item["cu_seqlens_list"]
        assert ids.shape == labels.shape == (row["seq_len"],), pid
        assert item["real_tokens"] == row["real_tokens"] and int((item["sample_index"] >= 0).sum()) == row["real_tokens"]
        # every supervised label inside the real tokens, none in the padding
        assert int((labels != -100).sum()) == row["loss_tokens"] and bool((labels[row["real_tokens"]:] == -100).all())
        # ViT patches and images as planned: the trainer resizes to the planned grid, then pads the
        # ViT input to the pack's bucket with one dummy image (test_static_shapes.py)
        pad = item["vit_pad_patches"]
        assert n_pixels == row["vit_patches"] + pad == int(item["image_grid_thw"].prod(-1).sum()), pid
        assert pad == (row["vit_bucket"] - row["vit_patches"] if row["vit_bucket"] else 0), pid
        assert int(item["vision_mask"].sum()) * 4 == row["vit_patches"]
        assert len(item["image_grid_thw"]) == row["n_images"] + (pad > 0)
        # one segment per sample, plus the trailing padding
        assert cu[0] == 0 and cu[-1] == row["seq_len"]
        assert len(cu) - 1 == row["n_samples"] + (1 if row["real_tokens"] < row["seq_len"] else 0)


def test_samples_match_the_ledger(packed):
    _, _, packs, ledger, items = packed
    placed = ledger[ledger["status"] == "packed"]
    by_pack = placed.groupby("pack_id")
    assert set(by_pack.groups) == {pid for pid in items if not packs.loc[pid, "is_filler"]}
    for pid, group in by_pack:
        _, item, _ = items[int(pid)]
        assert sorted(item["sample_ids"]) == sorted(group["sample_id"]), pid
        assert int(group["total_tokens"].sum()) == packs.loc[pid, "real_tokens"]
        assert int(group["loss_tokens"].sum()) == packs.loc[pid, "loss_tokens"]


def test_another_dp_size_splits_the_packs_evenly(packed):
    out, manifest, packs, _, _ = packed
    dp = 2 * manifest.dp_size
    assert manifest.n_packs % dp == 0  # the demo's step count is even
    sizes = [len(PackedShardDataset(out, r, dp)) for r in range(dp)]
    assert sizes == [manifest.n_packs // dp] * dp
    first = next(iter(PackedShardDataset(out, dp - 1, dp)))  # and a re-dealt pack reads back whole
    assert first["input_ids"].shape == (packs.loc[int(first["pack_id"]), "seq_len"],)
