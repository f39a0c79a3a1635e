"""Config for bin packing, shape buckets, step assembly and sharding."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from schemas.config_base import ConfigSection


class PackConfig(ConfigSection):
    context_length: int = Field(default=24576, ge=128, le=1_048_576, multiple_of=128)
    max_vit_patches: int = Field(default=4 * 2304 * 8, ge=4, le=100_000_000)
    max_images_per_pack: int = Field(default=64, ge=1, le=100_000)
    # Allowed padded LLM lengths (multiples of 128). Empty means one bucket: context_length.
    buckets: tuple[int, ...] = ()
    # Allowed padded ViT patch totals. Empty means no patch bucketing (pad to a multiple of 4 only).
    patch_buckets: tuple[int, ...] = ()
    dp_size: int = Field(default=8, ge=1, le=65_536)
    micro_batch: int = Field(default=1, ge=1, le=4096)
    grad_accum: int = Field(default=1, ge=1, le=4096)
    remainder: Literal["drop", "pad", "repeat"] = "drop"
    packs_per_shard: int = Field(default=64, ge=1, le=1_000_000)
    split_text_only: bool = False

    @model_validator(mode="after")
    def _check(self) -> "PackConfig":
        for b in self.buckets:
            if b % 128 or b <= 0 or b > self.context_length:
                raise ValueError(
                    f"buckets: {b} is not allowed; each bucket must be a positive multiple of 128 "
                    f"and <= context_length ({self.context_length})"
                )
        return self

    @property
    def llm_buckets(self) -> tuple[int, ...]:
        return tuple(sorted(set(self.buckets) | {self.context_length}))

    @property
    def packs_per_step(self) -> int:
        return self.dp_size * self.micro_batch * self.grad_accum
