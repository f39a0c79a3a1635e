"""Trainer bridge benchmark, one JSON line. Everything is measured side by side in the same run.

    python bench/bench_bridge.py [--packs 64] [--tokens 24576] [--vocab 4096] [--repeats 7]
                                 [--hf-packs 8] [--demo-samples 200] [--skip-hf]

1. Loader packs/s with 0 and 2 workers, on shards this script writes in a temp dir (tests' shard
   builder: real JPEG/PNG images of several modes, 300-900 px, resized to 224-672 px, a 4-frame video
   every third pack).
2. balanced_loss cost at T = --tokens: forward+backward of cross_entropy + equation (1) against a
   plain mean cross_entropy on the same [T, vocab] logits (~30 samples per pack); target ratio <= 1.5.
3. The HF adapter on a real demo output (the pack job on local Ray; 1024-token context, ViT buckets),
   tiny random Qwen2-VL (real ~152k vocabulary), float32 on CPU, per pack:
   - bridge overhead = loading (decode, resize, patchify, one pack in the main process, no workers:
     the worst case) + collation (model_inputs) + the attention wrapper (packed fwd+bwd minus the same
     fwd+bwd through the unmodified model's SDPA on the same tensors), as a fraction of that unmodified
     fwd+bwd; target <= 5% (worst pack reported, and the mean);
   - tokens/s: ours (load + collate + packed fwd+bwd, real tokens) against plain HF fwd+bwd on the
     same samples as one padded batch (HF's own mask, positions and label loss).
4. Balanced encoder DP (trainer_bridge.vit_balance): max/mean ViT cost over the devices of an encoder
   group, balanced against naive per-rank encoding, per step (worst and mean) on the demo output's
   steps (2 ranks as packed, and 4 ranks) and on synthetic steps (8 ranks, 1-12 images per rank,
   4-2304 tokens per image, log-uniform: openPangu-VL Table 2's range).
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


def hf_overhead(out: Path, n_packs: int) -> dict:
    import torch

    from trainer_bridge.dataset import PackedShardDataset
    from trainer_bridge.hf import build_model, enable_packing, model_inputs
    from trainer_bridge.loss import balanced_loss, next_token_targets

    ds = PackedShardDataset(out, 0, 1)
    special = ds.manifest.special_tokens
    packed = build_model("tiny-qwen2-vl", special).float().train()
    stock = build_model("tiny-qwen2-vl", special).float().train()  # the same weights, unmodified
    enable_packing(packed)

    def fwd_bwd(model, inputs, item):
        model.zero_grad(set_to_none=True)
        t0 = time.perf_counter()
        logits = model(**inputs).logits[0]
        targets = next_token_targets(item["labels"], item["cu_seqlens"])
        token_loss = torch.nn.functional.cross_entropy(logits, targets.clamp(min=0), reduction="none")
        balanced_loss(token_loss, targets != -100, item["cu_seqlens"]).backward()
        return time.perf_counter() - t0

    def padded_batch(item):
        """The pack's samples as one right-padded batch, as plain transformers usage builds it."""
        bounds, n = item["cu_seqlens_list"], len(item["sample_ids"])
        lengths = [bounds[j + 1] - bounds[j] for j in range(n)]
        width = max(lengths)
        ids = torch.full((n, width), special["<|endoftext|>"], dtype=torch.long)
        mask = torch.zeros((n, width), dtype=torch.long)
        labels = torch.full((n, width), -100, dtype=torch.long)
        for j, length in enumerate(lengths):
            ids[j, :length] = item["input_ids"][bounds[j] : bounds[j + 1]]
            labels[j, :length] = item["labels"][bounds[j] : bounds[j + 1]]
            mask[j, :length] = 1
        types = torch.zeros_like(ids, dtype=torch.int)
        types[(ids == stock.config.image_token_id) & mask.bool()] = 1
        types[(ids == stock.config.video_token_id) & mask.bool()] = 2
        inputs = {"input_ids": ids, "attention_mask": mask, "labels": labels, "mm_token_type_ids": types,
                  "use_cache": False}
        kinds, grids, start = item["media_kind"], item["image_grid_thw"], 0
        chunks: dict[str, list] = {"image": [], "video": []}
        for k, g in zip(kinds, grids):
            size = int(g.prod())
            chunks[k].append((item["pixel_values"][start : start + size], g))
            start += size
        for kind, pix, grid in (("image", "pixel_values", "image_grid_thw"), ("video", "pixel_values_videos", "video_grid_thw")):
            if chunks[kind]:
                inputs[pix] = torch.cat([c for c, _ in chunks[kind]])
                inputs[grid] = torch.stack([g for _, g in chunks[kind]])
        return inputs, n * width

    rows = []
    for position in range(min(n_packs, len(ds))):
        t0 = time.perf_counter()
        item = ds.load_pack(position)
        load = time.perf_counter() - t0
        if not item["sample_ids"]:
            continue
        t0 = time.perf_counter()
        inputs = model_inputs(item, packed, static_shapes=False)
        collate = time.perf_counter() - t0
        stock_inputs = {k: v for k, v in inputs.items() if k != "attention_mask"}
        best = {"packed": [], "stock": [], "padded": []}
        batch, batch_tokens = padded_batch(item)
        for _ in range(2):  # interleaved, best of two: the machine is shared
            best["packed"].append(fwd_bwd(packed, inputs, item))
            best["stock"].append(fwd_bwd(stock, stock_inputs, item))
            stock.zero_grad(set_to_none=True)
            t0 = time.perf_counter()
            stock(**batch).loss.backward()
            best["padded"].append(time.perf_counter() - t0)
        t = {k: min(v) for k, v in best.items()}
        wrapper = max(0.0, t["packed"] - t["stock"])
        rows.append(
            {
                "real_tokens": item["real_tokens"],
                "seq_len": item["seq_len"],
                "padded_batch_tokens": batch_tokens,
                "load": load,
                "collate": collate,
                "wrapper": wrapper,
                "overhead": (load + collate + wrapper) / t["stock"],
                "ours_tokens_per_s": item["real_tokens"] / (load + collate + t["packed"]),
                "padded_tokens_per_s": item["real_tokens"] / t["padded"],
            }
        )
    def mean(key):
        return sum(r[key] for r in rows) / len(rows)

    return {
        "hf_packs": len(rows),
        "hf_overhead_worst": round(max(r["overhead"] for r in rows), 4),
        "hf_overhead_mean": round(mean("overhead"), 4),
        "hf_overhead_load_ms_mean": round(1e3 * mean("load"), 1),
        "hf_overhead_collate_ms_mean": round(1e3 * mean("collate"), 1),
        "hf_overhead_wrapper_ms_mean": round(1e3 * mean("wrapper"), 1),
        "hf_overhead_target": 0.05,
        "hf_overhead_target_met": max(r["overhead"] for r in rows) <= 0.05,
        "hf_ours_tokens_per_s_mean": round(mean("ours_tokens_per_s"), 1),
        "hf_padded_batch_tokens_per_s_mean": round(mean("padded_tokens_per_s"), 1),
        "hf_ours_vs_padded_worst": round(min(r["ours_tokens_per_s"] / r["padded_tokens_per_s"] for r in rows), 3),
        "hf_padded_batch_tokens_over_real": round(sum(r["padded_batch_tokens"] for r in rows) / sum(r["real_tokens"] for r in rows), 3),
        "hf_seq_len_over_real": round(sum(r["seq_len"] for r in rows) / sum(r["real_tokens"] for r in rows), 3),
    }


def vit_balance_figures(out: Path | None) -> dict:
    import numpy as np

    from trainer_bridge.vit_balance import balance_step

    def summarise(name, steps):
        pairs = [balance_step(g) for g in steps if sum(len(x) for x in g)]
        naive = [p[1].max_over_mean for p in pairs]
        ours = [p[0].max_over_mean for p in pairs]
        return {
            f"vit_{name}_steps": len(pairs),
            f"vit_{name}_naive_max_mean_worst": round(max(naive), 3),
            f"vit_{name}_balanced_max_mean_worst": round(max(ours), 3),
            f"vit_{name}_naive_max_mean_mean": round(float(np.mean(naive)), 3),
            f"vit_{name}_balanced_max_mean_mean": round(float(np.mean(ours)), 3),
        }

    result = {}
    if out is not None:
        from trainer_bridge.dataset import PackedShardDataset

        for dp in (2, 4):
            steps: dict[int, list[list]] = {}
            for rank in range(dp):
                for item in PackedShardDataset(out, rank, dp):
                    grids = item["image_grid_thw"][: len(item["media_kind"])].tolist()
                    steps.setdefault(item["step"], [[] for _ in range(dp)])[rank] += [tuple(g) for g in grids]
            result.update(summarise(f"demo_dp{dp}", list(steps.values())))
    rng = np.random.default_rng(0)
    synthetic = []
    for _ in range(64):
        ranks = []
        for _ in range(8):
            tokens = np.exp(rng.uniform(np.log(4), np.log(2304), int(rng.integers(1, 13)))).astype(int)
            ranks.append([(1, 2, 2 * int(t)) for t in tokens])  # 4 patches per token
        synthetic.append(ranks)
    result.update(summarise("synthetic_dp8", synthetic))
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--packs", type=int, default=64)
    parser.add_argument("--seq-len", type=int, default=4096)
    parser.add_argument("--tokens", type=int, default=24576)
    parser.add_argument("--vocab", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--hf-packs", type=int, default=8)
    parser.add_argument("--demo-samples", type=int, default=200)
    parser.add_argument("--skip-hf", action="store_true", help="skip the demo pack job and the HF figures")
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
    with tempfile.TemporaryDirectory() as tmp:
        demo = None
        if not args.skip_hf:
            import contextlib

            from demo_packs import make_demo_output

            with contextlib.redirect_stdout(sys.stderr):  # the pack job's logs stay off the JSON line
                demo = make_demo_output(Path(tmp), samples=args.demo_samples)
            result.update(hf_overhead(demo, args.hf_packs))
        result.update(vit_balance_figures(demo))
    result["cpu_count"] = os.cpu_count()
    result["load_avg_1m"] = round(os.getloadavg()[0], 2)
    result["loss_target_ratio"] = 1.5
    result["loss_target_met"] = result["balanced_vs_mean_ce_ratio"] <= 1.5
    print(json.dumps(result))


if __name__ == "__main__":
    main()
