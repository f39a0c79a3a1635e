"""The training loop: it learns, logs JSON lines, follows its LR schedule, resumes after a kill with
the same loss curve, and DDP over two gloo ranks (then resumed under one rank) equals one process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from shard_builder import build_out

pytest.importorskip("transformers")

from trainer_bridge.train import lr_factor, main, pack_loss, train  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FAST = {"lr": 5e-3, "warmup": 1, "device": "cpu", "log": None}


@pytest.fixture
def one_thread():
    """Two cores shared with other test processes: one intra-op thread avoids oversubscription."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    """Two ranks, one pack each per step (P = 2), three steps."""
    root = tmp_path_factory.mktemp("train")
    build_out(root, dp_size=2, micro_batch=1, grad_accum=1, n_steps=3, seq_len=256)
    return root


@pytest.fixture(scope="module")
def one_pack(tmp_path_factory):
    """A single pack, seen again every step: a tiny model must memorise it quickly."""
    root = tmp_path_factory.mktemp("one_pack")
    build_out(root, dp_size=1, micro_batch=1, grad_accum=1, n_steps=1, seq_len=256)
    return root


def test_lr_warms_up_then_follows_a_cosine_to_the_floor():
    factors = [lr_factor(s, 10, 2, 0.1) for s in range(10)]
    assert factors[:2] == [0.5, 1.0]
    assert all(a >= b for a, b in zip(factors[1:], factors[2:]))
    assert lr_factor(10, 10, 2, 0.1) == pytest.approx(0.1)


def test_pack_loss_keeps_only_supervised_logits_and_equals_the_full_computation(one_pack):
    from shard_builder import SPECIAL

    from trainer_bridge.dataset import PackedShardDataset
    from trainer_bridge.hf import build_model, enable_packing, model_inputs
    from trainer_bridge.loss import balanced_loss, next_token_targets

    item = next(iter(PackedShardDataset(one_pack, 0, 1)))
    model = build_model("tiny-qwen2-vl", SPECIAL).float()
    enable_packing(model)
    ours = pack_loss(model, item, None, torch.device("cpu"))
    logits = model(**model_inputs(item, model)).logits[0]
    targets = next_token_targets(item["labels"], item["cu_seqlens"])
    token_loss = torch.nn.functional.cross_entropy(logits, targets.clamp(min=0), reduction="none")
    full = balanced_loss(token_loss, targets != -100, item["cu_seqlens"])
    assert ours.detach().item() == pytest.approx(float(full.detach()), rel=1e-6)


def test_training_lowers_the_loss_on_cpu(one_pack, one_thread):
    history = train(one_pack, 5, dp_size=1, **{**FAST, "lr": 3e-2})
    assert len(history) == 5
    assert history[-1] < 0.6 * history[0]


def test_cli_logs_loss_lr_grad_norm_tokens_per_second_and_balance(one_pack, one_thread, capsys):
    assert main([str(one_pack), "--steps", "2", "--device", "cpu"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["step"] for x in lines] == [0, 1]
    assert {"loss", "lr", "grad_norm", "tokens_per_s", "balance_tokens_max_mean", "balance_attn_max_mean"} <= set(lines[0])
    assert lines[0]["precision"] == "fp32"  # CPU: no autocast unless asked
    assert lines[0]["lr"] == pytest.approx(lines[1]["lr"] / 2)  # the first of two warm-up steps


def run_cli(args, kill_after_step=None):
    """``python -m trainer_bridge.train``; with ``kill_after_step``, SIGKILL once that step is logged."""
    cmd = [sys.executable, "-m", "trainer_bridge.train", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines = []
    for line in proc.stdout:
        lines.append(json.loads(line))
        if kill_after_step is not None and lines[-1]["step"] == kill_after_step:
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait()
    if kill_after_step is None:
        assert proc.returncode == 0, proc.stderr.read()
    return lines


@pytest.mark.slow
def test_killed_run_resumes_with_the_same_loss_curve(shards, tmp_path):
    args = [str(shards), "--steps", "5", "--dp", "1", "--device", "cpu", "--lr", "5e-3", "--warmup", "1"]  # 6 packs
    whole = run_cli(args)
    ckpt = ["--ckpt-dir", str(tmp_path / "ckpt"), "--save-every", "1"]
    first = run_cli(args + ckpt, kill_after_step=2)
    assert first[-1]["step"] == 2
    rest = run_cli(args + ckpt)
    assert rest and rest[0]["step"] in (2, 3) and rest[-1]["step"] == 4  # from the last complete checkpoint
    resumed = {x["step"]: x["loss"] for x in first} | {x["step"]: x["loss"] for x in rest}
    assert [resumed[s] for s in range(5)] == [x["loss"] for x in whole]  # to the bit: same curve


@pytest.mark.slow
def test_torchrun_two_gloo_ranks_train_like_one_process_and_resume_under_one(shards, tmp_path, one_thread):
    """torchrun, 2 CPU ranks (gloo), P = 2: the same losses as one process; the checkpoint of the
    2-rank run then resumes under one rank (elastic) and continues the one-process curve."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
           "-m", "trainer_bridge.train", str(shards), "--steps", "2", "--device", "cpu", "--lr", "5e-3",
           "--warmup", "1", "--ckpt-dir", str(tmp_path / "ckpt"), "--save-every", "2"]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=None)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [json.loads(x) for x in done.stdout.splitlines() if x.startswith("{")]
    assert [x["world"] for x in lines] == [2, 2]  # logged by rank 0 only
    single = train(shards, 3, dp_size=1, **FAST)
    assert [x["loss"] for x in lines] == pytest.approx(single[:2], rel=1e-4)
    resumed = train(shards, 3, dp_size=1, ckpt_dir=tmp_path / "ckpt", **FAST)  # 2 ranks -> 1: elastic
    assert resumed == pytest.approx(single, rel=1e-4)


def test_a_run_resumed_with_more_steps_follows_the_new_schedule_and_says_so(one_pack, one_thread, tmp_path):
    """Resuming with a larger --steps (or another --lr) is how a run is extended: the first resumed
    step's learning rate is the new schedule's at that step, not the old schedule's last one."""
    logs: list[str] = []
    ckpt = tmp_path / "ckpt"
    common = {**FAST, "warmup": 1, "lr": 1e-3, "ckpt_dir": ckpt, "save_every": 1, "log": logs.append}
    train(one_pack, 3, dp_size=1, **common)
    logs.clear()
    train(one_pack, 5, dp_size=1, **common)
    notice, *steps = [json.loads(x) for x in logs]
    assert notice["resumed_at_step"] == 3 and notice["schedule_changed"] == {"steps": [3, 5]}
    assert [x["step"] for x in steps] == [3, 4]
    assert steps[0]["lr"] == pytest.approx(1e-3 * lr_factor(3, 5, 1, 0.1))  # the default min_lr_ratio
    assert steps[1]["lr"] < steps[0]["lr"]  # still decaying
