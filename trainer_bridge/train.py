"""A reference training loop over committed vlpack shards: ``python -m trainer_bridge.train OUT --steps N``.

A tiny VLM (patch embedding + MLP projector over 2x2-merged patches + a small causal decoder that
uses ``packed_attention``) trains with ``balanced_loss`` on whatever device is present (NPU, CUDA,
CPU). Distributed runs read torchrun's env vars (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT)::

    torchrun --nproc-per-node 2 -m trainer_bridge.train OUT --steps 30

Every optimizer step consumes exactly the packs of one global step (packs_per_step), each rank its
packs_per_rank_step of them with gradient accumulation; each pack loss is scaled by
``global_step_scale`` so DDP's gradient average gives the mean pack loss of the global step.
One JSON line per logged step: loss (mean pack loss over the global step), tokens/s (real tokens of
all ranks), and the per-rank balance of tokens and attention cost (max/mean over ranks).

The model is a toy: token ids are folded into ``--vocab`` buckets (id mod vocab) so the output layer
stays small on CPU. See trainer_bridge/README.md for plugging in a real model.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from contextlib import nullcontext
from pathlib import Path

from trainer_bridge.dataset import PackedShardDataset, PackLoader
from trainer_bridge.device import packed_attention, select_device, synchronize
from trainer_bridge.loss import balanced_loss, global_step_scale, next_token_targets
from trainer_bridge.pixels import MERGE_SIZE, PATCH_SIZE, TEMPORAL_PATCH_SIZE

PATCH_DIM = 3 * TEMPORAL_PATCH_SIZE * PATCH_SIZE * PATCH_SIZE


def build_model(vocab: int, dim: int, layers: int, heads: int, max_positions: int):
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
            self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
            self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

        def forward(self, x, cu_seqlens, cu_list):
            q, k, v = self.qkv(self.norm1(x)).view(x.shape[0], 3, heads, dim // heads).unbind(1)
            attn = packed_attention(q, k, v, cu_seqlens, causal=True, cu_seqlens_list=cu_list)
            x = x + self.proj(attn.reshape(x.shape[0], dim))
            return x + self.mlp(self.norm2(x))

    class TinyVLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.vocab = vocab
            self.patch_embed = nn.Linear(PATCH_DIM, dim)
            merged = MERGE_SIZE * MERGE_SIZE * dim
            self.projector = nn.Sequential(nn.Linear(merged, dim), nn.GELU(), nn.Linear(dim, dim))
            self.embed = nn.Embedding(vocab, dim)
            self.pos = nn.Embedding(max_positions, dim)
            self.blocks = nn.ModuleList(Block() for _ in range(layers))
            self.norm = nn.LayerNorm(dim)
            self.head = nn.Linear(dim, vocab)

        def forward(self, batch):
            x = self.embed(batch["input_ids"] % self.vocab)
            # run the vision path even for a text-only pack (0 patches): every parameter then gets a
            # (zero) gradient, which DDP needs to finish its all-reduce without find_unused_parameters
            patches = self.patch_embed(batch["pixel_values"].to(x.dtype))
            merged = self.projector(patches.reshape(-1, MERGE_SIZE * MERGE_SIZE * patches.shape[-1]))
            x = x.masked_scatter(batch["vision_mask"][:, None], merged)
            x = x + self.pos(batch["position_ids"].clamp(max=self.pos.num_embeddings - 1))
            for block in self.blocks:
                x = block(x, batch["cu_seqlens"], batch["cu_seqlens_list"])
            return self.head(self.norm(x))

    torch.manual_seed(0)
    return TinyVLM()


def pack_loss(model, batch, vocab: int):
    import torch

    logits = model(batch)
    targets = next_token_targets(batch["labels"], batch["cu_seqlens"])
    valid = targets != -100
    token_loss = torch.nn.functional.cross_entropy(
        logits.float(), torch.where(valid, targets % vocab, 0), reduction="none"
    )
    return balanced_loss(token_loss, valid, batch["cu_seqlens"])


def attention_cost(cu_list: list[int], real_tokens: int) -> float:
    return float(sum((e - s) ** 2 for s, e in zip(cu_list[:-1], cu_list[1:]) if s < real_tokens))


def to_device(item: dict, device) -> dict:
    return {k: (v.to(device, non_blocking=True) if hasattr(v, "to") else v) for k, v in item.items()}


def train(
    out_dir,
    steps: int,
    *,
    dp_rank: int = 0,
    dp_size: int = 1,
    vocab: int = 4096,
    dim: int = 64,
    layers: int = 2,
    heads: int = 4,
    lr: float = 3e-3,
    num_workers: int = 0,
    device: str | None = None,
    log=print,
    log_every: int = 1,
) -> list[float]:
    """Train for ``steps`` optimizer steps; returns the mean pack loss of each global step."""
    import torch
    import torch.distributed as dist

    distributed = dist.is_available() and dist.is_initialized()
    world = dist.get_world_size() if distributed else 1
    choice = select_device(device)
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    dev = choice.device(local_rank)
    dataset = PackedShardDataset(out_dir, dp_rank, dp_size)
    if dataset.packs_per_rank_step < 1 or len(dataset) == 0:
        raise ValueError(f"{out_dir}: rank {dp_rank} of {dp_size} has no packs to train on")
    max_positions = max(dataset.manifest.context_length, 1)
    model = build_model(vocab, dim, layers, heads, max_positions).to(dev)
    ddp_model = torch.nn.parallel.DistributedDataParallel(model) if distributed and world > 1 else model
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    scale = global_step_scale(dataset.packs_per_step, world)
    loader = PackLoader(dataset, num_workers=num_workers)
    stream = iter(loader)
    history: list[float] = []

    def next_pack():
        nonlocal stream
        try:
            return next(stream)
        except StopIteration:
            dataset.set_epoch(dataset.epoch + 1)
            stream = iter(loader)
            return next(stream)

    for step in range(steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss_sum, tokens, attn = 0.0, 0.0, 0.0
        for micro in range(dataset.packs_per_rank_step):
            item = next_pack()
            batch = to_device(item, dev)
            last = micro == dataset.packs_per_rank_step - 1
            sync = ddp_model.no_sync() if (ddp_model is not model and not last) else nullcontext()
            with sync:
                loss = pack_loss(ddp_model, batch, vocab)
                (loss * scale).backward()
            loss_sum += float(loss.detach())
            tokens += item["real_tokens"]
            attn += attention_cost(item["cu_seqlens_list"], item["real_tokens"])
        opt.step()
        stats = torch.tensor([loss_sum, tokens, attn], dtype=torch.float64)
        if distributed and world > 1:
            gathered = [torch.zeros_like(stats) for _ in range(world)]
            dist.all_gather(gathered, stats)
            per_rank = torch.stack(gathered)
        else:
            per_rank = stats[None]
        synchronize(dev)
        elapsed = time.perf_counter() - t0
        mean_loss = float(per_rank[:, 0].sum()) / (dataset.packs_per_rank_step * per_rank.shape[0])
        history.append(mean_loss)
        if log is not None and dp_rank == 0 and (step % log_every == 0 or step == steps - 1):
            tok = per_rank[:, 1]
            cost = per_rank[:, 2]
            log(
                json.dumps(
                    {
                        "step": step,
                        "loss": round(mean_loss, 5),
                        "tokens_per_s": round(float(tok.sum()) / elapsed, 1),
                        "balance_tokens_max_mean": round(float(tok.max() / tok.mean()), 4)
                        if tok.mean() > 0
                        else None,
                        "balance_attn_max_mean": round(float(cost.max() / cost.mean()), 4)
                        if cost.mean() > 0
                        else None,
                        "device": choice.kind,
                        "world": world,
                    }
                )
            )
    return history


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m trainer_bridge.train", description=__doc__.splitlines()[0]
    )
    parser.add_argument("out", type=Path, help="a committed vlpack output directory")
    parser.add_argument("--steps", type=int, required=True, help="optimizer steps (global steps of packs)")
    parser.add_argument(
        "--dp",
        type=int,
        default=None,
        help="data-parallel size to read the shards for (default: WORLD_SIZE, or 1)",
    )
    parser.add_argument("--dp-rank", type=int, default=None, help="this process's rank (default: RANK, or 0)")
    parser.add_argument("--vocab", type=int, default=4096)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--num-workers", type=int, default=0)
    parser.add_argument("--device", choices=("npu", "cuda", "cpu"), default=None)
    parser.add_argument("--log-every", type=int, default=1)
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error(f"--steps: {args.steps} must be >= 1")

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
            dp_rank=dp_rank,
            dp_size=dp_size,
            vocab=args.vocab,
            dim=args.dim,
            layers=args.layers,
            heads=args.heads,
            lr=args.lr,
            num_workers=args.num_workers,
            device=args.device,
            log_every=args.log_every,
            log=lambda line: print(line, flush=True),
        )
    finally:
        if world > 1:
            dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
