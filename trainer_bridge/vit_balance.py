"""Balanced encoder data parallelism (openPangu-VL report §6.1): who encodes which image in a step.

Packing balances the LLM work of the ranks of a step, but not their ViT work: one rank may hold a few
large images (ViT cost grows with patches², in its full-attention layers), another many small ones.
The ranks of an encoder group (often the whole data-parallel group, or the ranks of one node) pool the
images of a step and each encodes a share of equal ViT cost; the merged features then go back to the
rank whose pack holds the image (an all-to-all of pixel rows there and of features back).

Cost of one image of ``n`` patches, the packer's compute model (``schemas.pack_config.PackConfig``)::

    layers * patch_cost * n  +  full_layers * attention_cost * n^2
                             +  (layers - full_layers) * attention_cost * window_patches * n

``assign_images`` deals images to devices by longest-processing-time (largest cost first, each to the
least-loaded device; ties by index), then moves or swaps single images while that lowers the most
loaded device. It is deterministic: every rank computes the same plan from the same grids.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from schemas.pack_config import PackConfig


@dataclass(frozen=True)
class ViTCostModel:
    layers: int = PackConfig().vit_layers
    full_attention_layers: int = PackConfig().vit_full_attention_layers
    patch_cost: float = PackConfig().vit_patch_cost
    attention_cost: float = PackConfig().vit_attention_cost
    window_patches: int = PackConfig().vit_window_patches

    @classmethod
    def from_pack_config(cls, cfg: PackConfig) -> ViTCostModel:
        return cls(
            cfg.vit_layers,
            cfg.vit_full_attention_layers,
            cfg.vit_patch_cost,
            cfg.vit_attention_cost,
            cfg.vit_window_patches,
        )

    def cost(self, patches) -> np.ndarray:
        n = np.asarray(patches, dtype=np.float64)
        window = self.layers - self.full_attention_layers
        return (
            self.layers * self.patch_cost * n
            + self.full_attention_layers * self.attention_cost * n * n
            + window * self.attention_cost * self.window_patches * n
        )


def image_patches(grids) -> np.ndarray:
    """Patches per image from (t, h, w) grids in ViT patches."""
    g = np.asarray(grids, dtype=np.int64).reshape(-1, 3)
    return g.prod(axis=1)


@dataclass(frozen=True)
class EncoderPlan:
    device: np.ndarray  # int32 per image: the device of the encoder group that encodes it
    loads: np.ndarray  # float64 per device: ViT cost it carries

    @property
    def max_over_mean(self) -> float:
        mean = float(self.loads.mean()) if len(self.loads) else 0.0
        return float(self.loads.max()) / mean if mean > 0 else 1.0


def _loads(costs: np.ndarray, device: np.ndarray, n_devices: int) -> np.ndarray:
    return np.bincount(device, weights=costs, minlength=n_devices).astype(np.float64)


def _refine(costs: np.ndarray, device: np.ndarray, n_devices: int, rounds: int) -> np.ndarray:
    """Move or swap one image off the most loaded device while that lowers the maximum load."""
    loads = _loads(costs, device, n_devices)
    for _ in range(rounds):
        hi = int(np.argmax(loads))
        lo = int(np.argmin(loads))
        gap = loads[hi] - loads[lo]
        if gap <= 0:
            break
        on_hi = np.flatnonzero(device == hi)
        on_lo = np.flatnonzero(device == lo)
        # a move of image i from hi to lo helps when 0 < c_i < gap; best: c_i closest to gap / 2
        best_gain, best = 0.0, None
        for i in on_hi:
            c = costs[i]
            if 0 < c < gap:
                gain = min(c, gap - c)
                if gain > best_gain:
                    best_gain, best = gain, (i, None)
        # a swap of i (hi) with j (lo) helps when 0 < c_i - c_j < gap
        if len(on_hi) and len(on_lo):
            diff = costs[on_hi][:, None] - costs[on_lo][None, :]
            gain = np.where((diff > 0) & (diff < gap), np.minimum(diff, gap - diff), 0.0)
            k = int(np.argmax(gain))
            if gain.flat[k] > best_gain:
                best_gain = float(gain.flat[k])
                best = (on_hi[k // len(on_lo)], on_lo[k % len(on_lo)])
        if best is None or best_gain <= 1e-12 * max(gap, 1.0):
            break
        i, j = best
        device[i] = lo
        if j is not None:
            device[j] = hi
        loads = _loads(costs, device, n_devices)
    return device


def assign_images(costs, n_devices: int, *, refine_rounds: int = 64) -> EncoderPlan:
    """Deal images of the given ViT ``costs`` to ``n_devices`` so that the most loaded carries least."""
    costs = np.asarray(costs, dtype=np.float64)
    if n_devices < 1:
        raise ValueError(f"n_devices: {n_devices} must be >= 1")
    if np.any(costs < 0) or not np.all(np.isfinite(costs)):
        raise ValueError("costs: must be finite and >= 0")
    device = np.zeros(len(costs), dtype=np.int32)
    heap = [(0.0, d) for d in range(n_devices)]
    for i in np.lexsort((np.arange(len(costs)), -costs)):
        load, d = heapq.heappop(heap)
        device[i] = d
        heapq.heappush(heap, (load + float(costs[i]), d))
    device = _refine(costs, device, n_devices, refine_rounds)
    return EncoderPlan(device, _loads(costs, device, n_devices))


def per_rank_plan(costs, owner_rank, n_devices: int) -> EncoderPlan:
    """The naive plan: every rank encodes the images of its own packs."""
    costs = np.asarray(costs, dtype=np.float64)
    device = np.asarray(owner_rank, dtype=np.int32)
    return EncoderPlan(device, _loads(costs, device, n_devices))


def balance_step(grids_per_rank: list, cost_model: ViTCostModel | None = None) -> tuple[EncoderPlan, EncoderPlan]:
    """(balanced, naive) plans for one step of an encoder group.

    ``grids_per_rank[r]`` lists the (t, h, w) grids of the images in rank r's packs of the step, in
    the order its packs hold them; image k of the returned plans is the k-th of the concatenation.
    """
    model = cost_model or ViTCostModel()
    owner = np.concatenate(
        [np.full(len(g), r, dtype=np.int32) for r, g in enumerate(grids_per_rank)] or [np.zeros(0, np.int32)]
    )
    grids = [tuple(x) for g in grids_per_rank for x in g]
    costs = model.cost(image_patches(grids)) if grids else np.zeros(0)
    n = len(grids_per_rank)
    return assign_images(costs, n), per_rank_plan(costs, owner, n)
