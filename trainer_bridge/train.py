"""A small real training loop over committed vlpack shards: ``python -m trainer_bridge.train OUT --steps N``.

A Hugging Face Qwen2-VL / Qwen2.5-VL model (``--model``: a local checkpoint directory, or
``tiny-qwen2-vl`` / ``tiny-qwen2.5-vl`` for a small random one with vlpack's token ids) trains on the
packs with exact packed attention (``trainer_bridge.hf``) and the balanced loss of equation (1):

- bf16 autocast where the device supports it (CUDA with bf16, NPU), float32 on CPU (``--precision``);
- AdamW, linear warm-up then cosine decay to ``--min-lr-ratio`` of ``--lr`` at ``--steps``;
- gradient clipping to ``--clip`` (global L2 norm);
- checkpoints every ``--save-every`` steps in ``--ckpt-dir`` (model, optimizer, scheduler, step, loss
  history and every rank's data position; written to a temporary name and renamed, so a kill never
  leaves a torn checkpoint). Started again with the same ``--ckpt-dir``, the run resumes from it and
  continues the same loss curve; under another world size the data resumes elastically;
- DDP under torchrun (hccl / nccl / gloo)::

    torchrun --nproc-per-node 2 -m trainer_bridge.train OUT --steps 30 --model tiny-qwen2-vl

Every optimizer step consumes exactly the packs of one global step, each rank its share with gradient
accumulation; each pack loss is scaled by ``global_step_scale`` so DDP's gradient average is the mean
pack loss of the global step. One JSON line per logged step: loss (mean pack loss of the global step),
lr, grad_norm, tokens/s (real tokens of all ranks), the per-rank balance of tokens and attention cost.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from contextlib import nullcontext
from pathlib import Path

from trainer_bridge.dataset import PackedShardDataset, PackLoader
from trainer_bridge.device import exit_after_process_group, select_device, synchronize
from trainer_bridge.loss import balanced_loss, global_step_scale, next_token_targets

CHECKPOINT_NAME = "checkpoint.pt"
PRECISIONS = ("auto", "bf16", "fp32")


def lr_factor(step: int, total: int, warmup: int, min_ratio: float) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine from 1 to ``min_ratio`` at ``total``."""
    if step < warmup:
        return (step + 1) / warmup
    span = max(1, total - warmup)
    progress = min(1.0, (step - warmup) / span)
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def autocast_dtype(precision: str, device):
    """bf16 where the device runs it well (``auto``), or as asked; None means float32."""
    import torch

    if precision not in PRECISIONS:
        raise ValueError(f"precision: {precision!r} is not allowed; use one of {PRECISIONS}")
    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    if device.type == "npu":
        return torch.bfloat16
    return None


def pack_loss(model, item: dict, autocast_to, device):
    """Balanced loss (equation (1)) of one pack through the HF model, in float32.

    Logits are computed only where a next token is supervised (``logits_to_keep``): the [T, vocab]
    matrix of a 152k vocabulary is most of a small model's memory, and the other rows carry no loss.
    """
    import torch

    from trainer_bridge.hf import model_inputs

    cu = item["cu_seqlens"].to(device)
    targets = next_token_targets(item["labels"].to(device), cu)
    valid = targets != -100
    keep = valid.nonzero().flatten()
    ctx = torch.autocast(device_type=device.type, dtype=autocast_to) if autocast_to is not None else nullcontext()
    inputs = model_inputs(item, model)
    with ctx:
        logits = model(**inputs, logits_to_keep=keep).logits[0]
    kept_loss = torch.nn.functional.cross_entropy(logits.float(), targets[keep], reduction="none")
    token_loss = torch.zeros(targets.shape, dtype=kept_loss.dtype, device=device).index_put((keep,), kept_loss)
    return balanced_loss(token_loss, valid, cu)


def attention_cost(cu_list: list[int], real_tokens: int) -> float:
    return float(sum((e - s) ** 2 for s, e in zip(cu_list[:-1], cu_list[1:]) if s < real_tokens))


def save_checkpoint(path: Path, payload: dict) -> None:
    """torch.save to a temporary name, fsync, then rename: a kill leaves the old or the new file."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        torch.save(payload, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _gather(obj, distributed: bool, world: int) -> list:
    if not distributed or world == 1:
        return [obj]
    import torch.distributed as dist

    out = [None] * world
    dist.all_gather_object(out, obj)
    return out


def train(
    out_dir,
    steps: int,
    *,
    model: str = "tiny-qwen2-vl",
    dp_rank: int = 0,
    dp_size: int = 1,
    lr: float = 1e-3,
    warmup: int = 2,
    min_lr_ratio: float = 0.1,
    weight_decay: float = 0.0,
    clip: float = 1.0,
    precision: str = "auto",
    num_workers: int = 1,
    device: str | None = None,
    ckpt_dir=None,
    save_every: int = 0,
    seed: int = 0,
    log=print,
    log_every: int = 1,
) -> list[float]:
    """Train until ``steps`` optimizer steps are done (resuming from ``ckpt_dir`` if it holds a
    checkpoint); returns the mean pack loss of every step of the run, resumed steps included."""
    import torch
    import torch.distributed as dist

    from trainer_bridge.hf import build_model, check_vocabulary, enable_packing

    distributed = dist.is_available() and dist.is_initialized()
    world = dist.get_world_size() if distributed else 1
    choice = select_device(device)
    dev = choice.device(int(os.environ.get("LOCAL_RANK", "0")))
    dataset = PackedShardDataset(out_dir, dp_rank, dp_size, seed=seed)
    if dataset.packs_per_rank_step < 1 or len(dataset) == 0:
        raise ValueError(f"{out_dir}: rank {dp_rank} of {dp_size} has no packs to train on")
    ckpt = Path(ckpt_dir) / CHECKPOINT_NAME if ckpt_dir is not None else None
    state = torch.load(ckpt, map_location="cpu", weights_only=False) if ckpt is not None and ckpt.is_file() else None
    if state is not None:
        data_states = state["data"]
        dataset.load_state_dict(data_states[dp_rank] if len(data_states) == dp_size else data_states[0])
    loader = PackLoader(dataset, num_workers=num_workers)

    def epoch_stream():
        if len(loader) == 0:  # this rank's epoch is over (a run resumed at its end): the next epoch
            dataset.set_epoch(dataset.epoch + 1)
        return iter(loader)  # the workers start now and decode ahead

    stream = epoch_stream()  # before the model is built: the first packs are decoded meanwhile
    net = build_model(model, dataset.manifest.special_tokens, seed=seed).to(dev)
    check_vocabulary(net, dataset.manifest.special_tokens)
    enable_packing(net)
    net.train()
    ddp = (
        torch.nn.parallel.DistributedDataParallel(net, find_unused_parameters=True)  # text-only packs skip the ViT
        if distributed and world > 1
        else net
    )
    autocast_to = autocast_dtype(precision, dev)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    schedule = {"steps": steps, "lr": lr, "warmup": warmup, "min_lr_ratio": min_lr_ratio,
                "weight_decay": weight_decay}
    history: list[float] = []
    start = 0
    if state is not None:
        net.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        start, history = int(state["step"]), list(state["history"])
        torch.set_rng_state(state["rng"])
        changed = {k: (v, schedule[k]) for k, v in state.get("schedule", {}).items() if schedule.get(k) != v}
        if changed and log is not None and dp_rank == 0:
            log(json.dumps({"resumed_at_step": start, "schedule_changed": changed,
                            "note": "the learning rate follows the new schedule from this step"}))
        for group in opt.param_groups:  # this run's schedule, from the step it resumes at
            group["initial_lr"], group["weight_decay"] = lr, weight_decay
        del state
    # (resumed: `last_epoch` makes the scheduler's first rate the new schedule's at step `start`)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(s, steps, warmup, min_lr_ratio),
                                              last_epoch=start - 1)

    def next_pack():
        nonlocal stream
        item = next(stream)
        if len(loader) == 0:  # the epoch's last pack: the next epoch's workers start beside its step
            stream = epoch_stream()
        return item

    for step in range(start, steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss_sum, tokens, attn, n_packs = 0.0, 0.0, 0.0, 0
        for micro in range(dataset.packs_per_rank_step):
            item = next_pack()
            last = micro == dataset.packs_per_rank_step - 1
            sync = ddp.no_sync() if (ddp is not net and not last) else nullcontext()
            with sync:
                loss = pack_loss(ddp, item, autocast_to, dev)
                (loss * global_step_scale(item["step_packs"], world)).backward()
            loss_sum += float(loss.detach())
            tokens += item["real_tokens"]
            attn += attention_cost(item["cu_seqlens_list"], item["real_tokens"])
            n_packs += 1
        grad_norm = float(torch.nn.utils.clip_grad_norm_(net.parameters(), clip)) if clip > 0 else float("nan")
        lr_used = sched.get_last_lr()[0]
        opt.step()
        sched.step()
        stats = torch.tensor([loss_sum, tokens, attn, n_packs], dtype=torch.float64)
        per_rank = torch.stack(_gather(stats, distributed, world))
        synchronize(dev)
        elapsed = time.perf_counter() - t0
        mean_loss = float(per_rank[:, 0].sum() / per_rank[:, 3].sum())
        history.append(mean_loss)
        if ckpt is not None and save_every and ((step + 1) % save_every == 0 or step + 1 == steps):
            data_states = _gather(dataset.state_dict(), distributed, world)
            if dp_rank == 0:
                save_checkpoint(
                    ckpt,
                    {
                        "step": step + 1,
                        "model": net.state_dict(),
                        "optimizer": opt.state_dict(),
                        "scheduler": sched.state_dict(),
                        "schedule": schedule,
                        "history": history,
                        "data": data_states,
                        "rng": torch.get_rng_state(),
                        "model_spec": model,
                    },
                )
            if distributed and world > 1:
                dist.barrier()
        if log is not None and dp_rank == 0 and (step % log_every == 0 or step == steps - 1):
            tok, cost = per_rank[:, 1], per_rank[:, 2]
            log(
                json.dumps(
                    {
                        "step": step,
                        "loss": mean_loss,
                        "lr": lr_used,
                        "grad_norm": round(grad_norm, 6),
                        "tokens_per_s": round(float(tok.sum()) / elapsed, 1),
                        "balance_tokens_max_mean": round(float(tok.max() / tok.mean()), 4) if tok.mean() > 0 else None,
                        "balance_attn_max_mean": round(float(cost.max() / cost.mean()), 4) if cost.mean() > 0 else None,
                        "device": choice.kind,
                        "precision": "bf16" if autocast_to is not None else "fp32",
                        "world": world,
                    }
                )
            )
    return history


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainer_bridge.train", description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="a committed vlpack output directory")
    parser.add_argument("--steps", type=int, required=True, help="optimizer steps (global steps of packs) to reach")
    parser.add_argument(
        "--model", default="tiny-qwen2-vl", help="a local HF checkpoint directory, tiny-qwen2-vl or tiny-qwen2.5-vl"
    )
    parser.add_argument("--dp", type=int, default=None, help="data-parallel size (default: WORLD_SIZE, or 1)")
    parser.add_argument("--dp-rank", type=int, default=None, help="this process's rank (default: RANK, or 0)")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--warmup", type=int, default=2, help="warm-up steps")
    parser.add_argument("--min-lr-ratio", type=float, default=0.1, help="final lr of the cosine, as a fraction of --lr")
    parser.add_argument("--weight-decay", type=float, default=0.0)
    parser.add_argument("--clip", type=float, default=1.0, help="gradient norm clip (0: off)")
    parser.add_argument("--precision", choices=PRECISIONS, default="auto")
    parser.add_argument("--ckpt-dir", type=Path, default=None, help="save checkpoints here, and resume from them")
    parser.add_argument("--save-every", type=int, default=0, help="save every N steps (and at the end)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--num-workers", type=int, default=1,
        help="loader worker processes that decode packs beside training (0: in the main process, between steps)",
    )
    parser.add_argument("--device", choices=("npu", "cuda", "cpu"), default=None)
    parser.add_argument("--log-every", type=int, default=1)
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error(f"--steps: {args.steps} must be >= 1")
    if args.save_every < 0 or args.warmup < 0:
        parser.error("--save-every and --warmup must be >= 0")
    if args.save_every and args.ckpt_dir is None:
        parser.error("--save-every needs --ckpt-dir")

    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world > 1:
        dist.init_process_group(select_device(args.device).backend)
    dp_size = args.dp if args.dp is not None else world
    dp_rank = args.dp_rank if args.dp_rank is not None else rank
    if world > 1 and dp_size != world:
        parser.error(f"--dp: {dp_size} must equal WORLD_SIZE ({world}) under torchrun")
    try:
        train(
            args.out,
            args.steps,
            model=args.model,
            dp_rank=dp_rank,
            dp_size=dp_size,
            lr=args.lr,
            warmup=args.warmup,
            min_lr_ratio=args.min_lr_ratio,
            weight_decay=args.weight_decay,
            clip=args.clip,
            precision=args.precision,
            num_workers=args.num_workers,
            device=args.device,
            ckpt_dir=args.ckpt_dir,
            save_every=args.save_every,
            seed=args.seed,
            log_every=args.log_every,
            log=lambda line: print(line, flush=True),
        )
    finally:
        if world > 1:
            dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    code = main()
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        exit_after_process_group(code)  # a gloo rank can abort in finalization after its work is done
    sys.exit(code)
