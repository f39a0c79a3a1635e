"""Config for bin packing, shape buckets, step assembly, sharding and the compute model.

The compute model estimates what one pack costs on a rank, so step assembly can balance ranks on
compute rather than on tokens (report §6.1, "Balanced Encoder Data Parallelism"):

- LLM: ``llm_token_cost · Σ len + llm_attention_cost · Σ len²`` over the samples of a pack
  (attention is per sample: packed samples do not attend to each other).
- ViT, per image of ``n`` patches: every layer costs ``vit_patch_cost · n``; a full-attention
  layer adds ``vit_attention_cost · n²``, a window layer ``vit_attention_cost · n · vit_window_patches``.
  openPangu-ViT has 26 layers, 4 of them full attention (report Table 1).

The unit is the forward cost of the dense layers for one LLM token (≈ 2 · 7e9 FLOPs); the defaults
are rough FLOP ratios for a 7B LLM (≈ 34 layers × 4096 hidden: causal attention ≈ 2.8e5 · len²)
and openPangu-ViT (615M params / 26 layers ≈ 4.7e7 per patch per layer; attention with
16 heads × 96 ≈ 6.1e3 · n² per layer).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from schemas.config_base import ConfigSection


class PackConfig(ConfigSection):
    context_length: int = Field(default=24576, ge=128, le=1_048_576, multiple_of=128)
    max_vit_patches: int = Field(default=4 * 2304 * 8, ge=4, le=100_000_000)
    max_images_per_pack: int = Field(default=256, ge=1, le=100_000)
    # Allowed padded LLM lengths (multiples of 128). Empty means one bucket: context_length.
    buckets: tuple[int, ...] = ()
    # Allowed padded ViT patch totals (multiples of 4). Empty means no patch bucketing: a pack's
    # ViT input is its real patch total. When given, max_vit_patches is always an allowed bucket.
    patch_buckets: tuple[int, ...] = ()
    dp_size: int = Field(default=8, ge=1, le=65_536)
    micro_batch: int = Field(default=1, ge=1, le=4096)
    grad_accum: int = Field(default=1, ge=1, le=4096)
    remainder: Literal["drop", "pad", "repeat"] = "drop"
    packs_per_shard: int = Field(default=64, ge=1, le=1_000_000)
    # Planning groups (`packer.group_plan`): the packable rows are split by a stable hash of
    # (sample_id, copy) into groups of at most this many rows, each planned by its own Ray task,
    # so that no process holds the whole corpus. Part of the fingerprint: it changes the plan.
    plan_group_samples: int = Field(default=5_000_000, ge=1, le=1_000_000_000)
    # ... and of at most this many bytes of planning columns (ids and integers, about 100 bytes
    # a row), so that a group always fits one task's memory whatever its ids.
    plan_group_bytes: int = Field(default=1 << 30, ge=1 << 10, le=1 << 40)
    # Opt-in: a text-only sample longer than context_length is cut at turn boundaries into pieces
    # that each fit (the caller passes the per-turn token lengths); otherwise it is `too_long`.
    split_text_only: bool = False

    # Compute model (see the module docstring); costs are in LLM-token units.
    llm_token_cost: float = Field(default=1.0, ge=0.0, le=1e6)
    llm_attention_cost: float = Field(default=2.0e-5, ge=0.0, le=1e6)
    vit_layers: int = Field(default=26, ge=0, le=1000)
    vit_full_attention_layers: int = Field(default=4, ge=0, le=1000)
    vit_patch_cost: float = Field(default=3.4e-3, ge=0.0, le=1e6)
    vit_attention_cost: float = Field(default=4.4e-7, ge=0.0, le=1e6)
    vit_window_patches: int = Field(default=64, ge=1, le=1_000_000)

    # Step assembly: swap-refinement rounds per step after LPT (0 = LPT only).
    balance_swap_rounds: int = Field(default=256, ge=0, le=1_000_000)

    @model_validator(mode="after")
    def _check(self) -> "PackConfig":
        for b in self.buckets:
            if b % 128 or b <= 0 or b > self.context_length:
                raise ValueError(
                    f"buckets: {b} is not allowed; each bucket must be a positive multiple of 128 "
                    f"and <= context_length ({self.context_length})"
                )
        for b in self.patch_buckets:
            if b % 4 or b <= 0 or b > self.max_vit_patches:
                raise ValueError(
                    f"patch_buckets: {b} is not allowed; each patch bucket must be a positive multiple "
                    f"of 4 and <= max_vit_patches ({self.max_vit_patches})"
                )
        if self.vit_full_attention_layers > self.vit_layers:
            raise ValueError(
                f"vit_full_attention_layers: {self.vit_full_attention_layers} is not allowed; it must be "
                f"<= vit_layers ({self.vit_layers})"
            )
        return self

    @property
    def llm_buckets(self) -> tuple[int, ...]:
        return tuple(sorted(set(self.buckets) | {self.context_length}))

    @property
    def vit_buckets(self) -> tuple[int, ...]:
        """Allowed padded ViT patch totals; empty means no patch bucketing."""
        if not self.patch_buckets:
            return ()
        return tuple(sorted(set(self.patch_buckets) | {self.max_vit_patches}))

    @property
    def packs_per_rank_step(self) -> int:
        return self.micro_batch * self.grad_accum

    @property
    def packs_per_step(self) -> int:
        return self.dp_size * self.micro_batch * self.grad_accum
