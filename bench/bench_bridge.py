"""Trainer bridge benchmark: loader packs/s (0 and 2 workers) and balanced_loss cost at T = 24576.

    python bench/bench_bridge.py [--packs 64] [--tokens 24576] [--vocab 4096] [--repeats 7]

Prints one JSON line. The loader reads shards this script writes in a temp dir (tests' shard builder:
real JPEG/PNG images of several modes, 300-900 px, resized to 224-672 px, a 4-frame video every third pack). The loss figures compare, side by
side in the same process, a forward+backward of
    baseline: cross_entropy(logits, targets) (plain token mean)
    ours:     cross_entropy(..., reduction="none") followed by balanced_loss (equation (1))
on the same [T, vocab] logits with ~30 samples per pack (best of --repeats, interleaved); target\nratio <= 1.5.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "trainer_bridge"))


IMAGE_TARGETS = [(448, 336), (336, 336), (224, 448), (672, 448)]  # 192 to 384 tokens per image


def loader_rate(out: Path, workers: int) -> tuple[float, int]:
    from trainer_bridge.dataset import PackedShardDataset, PackLoader

    ds = PackedShardDataset(out, 0, 1)
    t0 = time.perf_counter()
    n = sum(1 for _ in PackLoader(ds, num_workers=workers))
    return n / (time.perf_counter() - t0), n


def loss_timings(tokens: int, vocab: int, repeats: int) -> dict:
    import torch

    from trainer_bridge.loss import balanced_loss

    g = torch.Generator().manual_seed(0)
    lengths = torch.randint(200, 1400, (64,), generator=g)
    lengths = lengths[torch.cumsum(lengths, 0) < tokens - 1]
    cu = torch.cat([torch.zeros(1, dtype=torch.long), torch.cumsum(lengths, 0)])
    cu = torch.cat([cu, torch.tensor([tokens])]).to(torch.int32)  # trailing padding segment
    logits0 = torch.randn(tokens, vocab, generator=g)
    targets = torch.randint(0, vocab, (tokens,), generator=g)
    targets[torch.rand(tokens, generator=g) < 0.4] = -100  # prompts and image pads
    targets[int(cu[-2]) :] = -100
    valid = targets != -100
    token_loss0 = torch.rand(tokens, generator=g) * 5

    def baseline():
        logits = logits0.clone().requires_grad_(True)
        torch.nn.functional.cross_entropy(logits, targets, ignore_index=-100).backward()

    def ours():
        logits = logits0.clone().requires_grad_(True)
        tl = torch.nn.functional.cross_entropy(logits, targets.clamp(min=0), reduction="none")
        balanced_loss(tl, valid, cu).backward()

    def loss_only():
        tl = token_loss0.clone().requires_grad_(True)
        balanced_loss(tl, valid, cu).backward()

    times: dict[str, list[float]] = {"baseline": [], "ours": [], "loss_only": []}
    for fn in (baseline, ours, loss_only):  # warm-up
        fn()
    for _ in range(repeats):  # interleaved, so load changes hit both sides alike
        for name, fn in (("baseline", baseline), ("ours", ours), ("loss_only", loss_only)):
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    med = {k: min(v) for k, v in times.items()}  # best of n: the machine is shared, noise only adds
    return {
        "tokens": tokens,
        "vocab": vocab,
        "samples_per_pack": len(lengths),
        "mean_ce_fwd_bwd_ms": round(med["baseline"] * 1e3, 2),
        "balanced_ce_fwd_bwd_ms": round(med["ours"] * 1e3, 2),
        "balanced_vs_mean_ce_ratio": round(med["ours"] / med["baseline"], 3),
        "balanced_loss_only_fwd_bwd_ms": round(med["loss_only"] * 1e3, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--packs", type=int, default=64)
    parser.add_argument("--seq-len", type=int, default=4096)
    parser.add_argument("--tokens", type=int, default=24576)
    parser.add_argument("--vocab", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    from shard_builder import build_out

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        built = build_out(
            out,
            dp_size=1,
            micro_batch=1,
            grad_accum=4,
            n_steps=max(1, args.packs // 4),
            seq_len=args.seq_len,
            packs_per_shard=8,
            targets=IMAGE_TARGETS,
            source_px=(300, 900),
        )
        n_images = sum(len(p.layout.images) for p in built)
        runs = {0: [], 2: []}
        for workers in (0, 2, 0, 2):  # interleaved, best of two: the machine is shared
            rate, n = loader_rate(out, workers)
            runs[workers].append(rate)
        rate0, rate2 = max(runs[0]), max(runs[2])
    result = {
        "bench": "bridge",
        "loader_packs": n,
        "loader_images": n_images,
        "loader_packs_per_s_workers0": round(rate0, 1),
        "loader_packs_per_s_workers2": round(rate2, 1),
        "loader_workers2_vs_workers0": round(rate2 / rate0, 3),
        **loss_timings(args.tokens, args.vocab, args.repeats),
    }
    result["cpu_count"] = os.cpu_count()
    result["load_avg_1m"] = round(os.getloadavg()[0], 2)
    result["loss_target_ratio"] = 1.5
    result["loss_target_met"] = result["balanced_vs_mean_ce_ratio"] <= 1.5
    print(json.dumps(result))


if __name__ == "__main__":
    main()
