"""The reference loop: it learns, its CLI logs JSON lines, and DDP reproduces one process exactly."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from shard_builder import build_out

from trainer_bridge.train import main, train

SMALL = {"vocab": 512, "dim": 64, "layers": 1, "heads": 2, "lr": 1e-2}


@pytest.fixture
def one_thread():
    """Two cores shared with other test processes: one intra-op thread avoids oversubscription."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    root = tmp_path_factory.mktemp("train")
    build_out(root, dp_size=2, micro_batch=1, grad_accum=2, n_steps=3, seq_len=256)
    return root


def test_training_lowers_the_loss_on_cpu(shards, one_thread):
    history = train(shards, 15, dp_rank=0, dp_size=1, device="cpu", log=None, **SMALL)
    assert len(history) == 15
    assert sum(history[-3:]) / 3 < 0.7 * history[0]


def test_cli_logs_loss_tokens_per_second_and_balance(shards, one_thread, capsys):
    assert (
        main([str(shards), "--steps", "2", "--dp", "1", "--vocab", "256", "--dim", "16", "--layers", "1"])
        == 0
    )
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["step"] for x in lines] == [0, 1]
    assert {"loss", "tokens_per_s", "balance_tokens_max_mean", "balance_attn_max_mean"} <= set(lines[0])


def _ddp_train(rank, world, port, out_dir, result_dir):
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    try:
        history = train(out_dir, 4, dp_rank=rank, dp_size=world, device="cpu", log=None, **SMALL)
    finally:
        dist.destroy_process_group()
    Path(result_dir, f"h{rank}.json").write_text(json.dumps(history))


def test_two_gloo_ranks_train_like_one_process(shards, tmp_path, one_thread):
    """Same packs per global step (P = 4), so the same parameters after every optimizer step."""
    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(_ddp_train, args=(2, port, str(shards), str(tmp_path)), nprocs=2, join=True)
    single = train(shards, 4, dp_rank=0, dp_size=1, device="cpu", log=None, **SMALL)
    for rank in range(2):
        ddp = json.loads((tmp_path / f"h{rank}.json").read_text())
        assert ddp == pytest.approx(single, rel=1e-4)


@pytest.mark.slow
def test_training_on_demo_shards_lowers_the_loss(tmp_path, one_thread):
    subprocess.run(  # this checkout's CLI (the console script may belong to another install)
        [sys.executable, "-m", "jobs.cli", "demo", "--out", str(tmp_path), "--samples", "200", "--no-progress"],
        check=True,
        capture_output=True,
        timeout=None,
    )
    out = tmp_path / "out"
    history = train(out, 30, dp_rank=0, dp_size=1, device="cpu", log=None, **SMALL)
    assert sum(history[-5:]) / 5 < 0.8 * sum(history[:5]) / 5
