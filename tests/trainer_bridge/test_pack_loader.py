"""PackLoader's hand-over from its workers: one shared buffer per pack, workers started by iter(),
and shards hashed ahead of need; the packs the trainer gets are the main process's packs, bit for bit."""

from __future__ import annotations

import threading

import pytest
import torch
from shard_builder import build_out

from trainer_bridge.dataset import ONE_STORAGE_KEY, PackedShardDataset, PackLoader, from_one_storage, one_storage


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    root = tmp_path_factory.mktemp("out")
    build_out(root, dp_size=2, micro_batch=1, grad_accum=2, n_steps=3, packs_per_shard=2)
    return root


def assert_same_pack(got: dict, want: dict) -> None:
    assert got.keys() == want.keys()
    for key, value in want.items():
        if isinstance(value, torch.Tensor):
            assert got[key].dtype == value.dtype and got[key].shape == value.shape, key
            assert torch.equal(got[key], value), key
        else:
            assert got[key] == value, key


def test_one_storage_round_trip_keeps_every_tensor_and_field():
    item = {
        "input_ids": torch.arange(37, dtype=torch.int64),
        "cu_seqlens": torch.tensor([0, 5, 37], dtype=torch.int32),
        "vision_mask": torch.tensor([True, False, True]),
        "position_ids": torch.arange(3 * 37).reshape(3, 37),
        "pixel_values": torch.randn(12, 1176),
        "no_pixels": torch.zeros((0, 1176)),
        "strided": torch.arange(20.0).reshape(4, 5).t(),  # not contiguous
        "sample_ids": ["a", "b"],
        "seq_len": 37,
    }
    wire = one_storage(dict(item))
    buffer, _ = wire[ONE_STORAGE_KEY]
    assert not any(isinstance(v, torch.Tensor) for k, v in wire.items() if k != ONE_STORAGE_KEY)
    back = from_one_storage(wire)
    assert_same_pack(back, item)
    storages = {t.untyped_storage().data_ptr() for t in back.values() if isinstance(t, torch.Tensor)}
    assert storages == {buffer.untyped_storage().data_ptr()}  # one buffer crosses the process boundary


@pytest.mark.parametrize("workers", [1, 2])
def test_worker_packs_equal_main_process_packs(out, workers):
    want = list(PackedShardDataset(out, 0, 2))
    got = list(PackLoader(PackedShardDataset(out, 0, 2), num_workers=workers))
    assert len(got) == len(want) == 6
    for g, w in zip(got, want):
        g.pop("verified_shards"), w.pop("verified_shards")  # which worker hashed which shard
        assert_same_pack(g, w)
    assert any(w["media_kind"] for w in want) and any("video" in w["media_kind"] for w in want)


def test_iter_starts_the_workers_before_the_first_pack_is_asked_for(out):
    loader = PackLoader(PackedShardDataset(out, 0, 2), num_workers=2)
    stream = iter(loader)
    workers = stream._packs._workers  # the DataLoader iterator's processes, made by iter()
    assert len(workers) == 2 and all(w.is_alive() for w in workers)
    assert loader.state_dict()["position"] == 0  # nothing reached the trainer yet
    assert int(next(stream)["pack_id"]) == int(PackedShardDataset(out, 0, 2).load_pack(0)["pack_id"])
    assert loader.state_dict()["position"] == 1


def test_next_shard_is_hashed_in_the_background_before_it_is_opened(tmp_path, monkeypatch):
    import trainer_bridge.dataset as dataset_module

    build_out(tmp_path, dp_size=2, micro_batch=1, grad_accum=2, n_steps=3, packs_per_shard=2)
    real = dataset_module.sha256_file
    hashed: list[tuple[str, str]] = []

    def logged(path):
        hashed.append((path.name, threading.current_thread().name))
        return real(path)

    monkeypatch.setattr(dataset_module, "sha256_file", logged)
    ds = PackedShardDataset(tmp_path, 0, 2)
    hashed.clear()  # the index, hashed when the dataset is made
    assert len(list(ds)) == 6
    names = [name for name, _ in hashed]
    assert sorted(names) == ["shard-000000.tar", "shard-000001.tar", "shard-000002.tar"]  # each once
    threads = dict(hashed)
    assert threads["shard-000000.tar"] == threading.main_thread().name  # the first: needed at once
    for later in ("shard-000001.tar", "shard-000002.tar"):  # hashed ahead, beside the decoding
        assert threads[later].startswith("vlpack-sha256")
