"""Two gloo ranks x two accumulation steps give the gradient of one process over the same step."""

from __future__ import annotations

import torch

from trainer_bridge.device import exit_after_process_group
from trainer_bridge.loss import balanced_loss, global_step_scale

PACKS_PER_STEP = 4  # dp_size 2 x micro_batch 1 x grad_accum 2
VOCAB, DIM = 11, 6


def step_packs():
    """Four packs of different sizes and sample counts: (features, labels, cu_seqlens)."""
    g = torch.Generator().manual_seed(0)
    packs = []
    for lengths in ([5, 9, 2], [20], [3, 3, 3, 3, 4], [1, 30]):
        total = sum(lengths) + 4  # trailing padding segment
        x = torch.randn(total, DIM, generator=g, dtype=torch.float64)
        y = torch.randint(0, VOCAB, (total,), generator=g)
        y[torch.rand(total, generator=g) < 0.3] = -100
        y[-4:] = -100
        cu = torch.tensor([0, *torch.tensor(lengths).cumsum(0).tolist(), total], dtype=torch.int32)
        packs.append((x, y, cu))
    return packs


def make_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(DIM, 8), torch.nn.Tanh(), torch.nn.Linear(8, VOCAB)).double()


def pack_loss(model, pack):
    x, y, cu = pack
    token_loss = torch.nn.functional.cross_entropy(model(x), y.clamp(min=0), reduction="none")
    return balanced_loss(token_loss, y != -100, cu)


def single_process_grads():
    model = make_model()
    for pack in step_packs():
        (pack_loss(model, pack) * global_step_scale(PACKS_PER_STEP, 1)).backward()
    return [p.grad.clone() for p in model.parameters()]


def _ddp_worker(rank, world_size, out_dir):
    import torch.distributed as dist

    # a file rendezvous: no port to pick and lose to another process before rank 0 binds it
    dist.init_process_group("gloo", init_method=f"file://{out_dir}/rendezvous", rank=rank, world_size=world_size)
    try:
        model = torch.nn.parallel.DistributedDataParallel(make_model())
        mine = step_packs()[rank * 2 : rank * 2 + 2]  # this rank's two micro-steps of the global step
        scale = global_step_scale(PACKS_PER_STEP, world_size)
        with model.no_sync():
            (pack_loss(model, mine[0]) * scale).backward()
        (pack_loss(model, mine[1]) * scale).backward()
        torch.save([p.grad.clone() for p in model.parameters()], f"{out_dir}/grads-{rank}.pt")
    finally:
        dist.destroy_process_group()
    exit_after_process_group(0)  # as trainer_bridge.train does: no finalization race with gloo's threads


def test_two_rank_ddp_with_accumulation_matches_one_process(tmp_path):
    import torch.multiprocessing as mp

    mp.spawn(_ddp_worker, args=(2, str(tmp_path)), nprocs=2, join=True)
    expected = single_process_grads()
    for rank in range(2):
        got = torch.load(tmp_path / f"grads-{rank}.pt")
        for a, b in zip(got, expected):
            assert torch.allclose(a, b, atol=1e-12, rtol=0), (a - b).abs().max()
