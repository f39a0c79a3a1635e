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

The linear terms are counted on the padded shapes the accelerator runs: ``seq_len`` LLM tokens and
``vit_bucket`` patches (the real patch total without patch buckets); the attention terms on the real
samples and images. These fields are the per-model *profile*; set them for another model.

**Step time.** A rank's LLM phase costs its packs' ``llm_cost``, its ViT phase their ``vit_cost``.
With ``vit_phase: fused`` (default: plain data parallelism) each rank runs its ViT and LLM back to
back and a step takes the max over ranks of their sum; with ``separate`` (the ViT as its own
synchronised phase, as with the report's balanced encoder data parallelism, §6.1) a step takes
max over ranks of the ViT cost plus max over ranks of the LLM cost, so both phases are balanced.
Step assembly minimises that modelled step time; the report gives both and each dimension.

**Step composition** (``balance``), a trade-off the user chooses:

- ``mix`` (default): steps keep the plan's mix of sources and tasks: each label's share per step
  (in samples and in tokens) spreads across steps no wider than 1.2x dealing the packs at random,
  with no more steps beyond the tolerance (``mix_tolerance`` standard deviations of i.i.d.
  sampling of that step's samples) than there. Within that, the rank loads of cost mode (k packs
  of near-equal total cost) are dealt to steps so that each step's label shares add up to the
  plan's, leaning towards loads alike in cost as far as the mix allows (`packer.steps`). With k >= 2
  packs per rank (and a fused ViT phase) the planner packs light partners for its heavy packs
  apart (`packer.partner_packs`, at most 0.1% more packs, and only where a step holding one stays
  within the mix tolerance), so the loads come out near-equal: on
  bench_packing's bimodal mix, 0.6% mean / 2.6% worst step at dp 8 and 1.1% / 1.7% at dp 64 with
  k = 2, within 0.4% with 4 or more. With one pack per rank per step, where cost and mix go together
  (long text documents are the heavy packs), the slowest rank stays over the mean: the deal gives
  5% mean / 17% worst step at dp 8 and 18-20% at dp 64; swaps of packs between steps that keep the
  mix (``mix_swap_rounds``, `packer.step_swaps`) bring that to 1.9% / 8.2% at dp 8 and 10% / 17.6%
  at dp 64; the heavy packs gathered a few to a step with companions that keep its mix
  (`packer.heavy_steps`), then swapped, give 1.2% / 3.6% at dp 8 and 4.8% / 9.9% at dp 64, and no
  deal of those packs that keeps the mix has its worst step within 6.1% at dp 64
  (`packer.mix_balance_bound`). There the packs themselves are the limit: from dp 32 at one pack
  per rank (``compute_cap: auto``) the planner packs attention and ViT compute as a fourth limit,
  at (1 + ``compute_cap_slack``) × the mean pack's (`packer.compute_cap`), so no pack of many
  samples ends far over the others: 1.9% mean / 9.5% worst step at dp 64 for 0.4% more packs, and
  the modelled training time (the sum of the steps' slowest ranks) 1.8% shorter.
- ``cost``: steps are formed from packs of similar cost first (worst step within 2% of its mean on
  the benchmark mixes at any k); a step may then hold mostly one kind of data.

**Shapes.** ``patch_buckets: auto`` (default) chooses at most ``max_shapes`` ViT buckets (fewer when
there are several LLM buckets or text-only packs: the number of distinct (seq_len, vit_bucket)
shapes stays <= max_shapes), each a multiple of ``patch_granule`` (128 patches × the 2×2 merge
factor), minimising the padded patches exactly (`packer.buckets`). ``buckets: auto`` does the same
for LLM lengths with at most ``max_llm_buckets`` multiples of 128; the default ``()`` is one bucket,
the context length. An explicit tuple fixes the buckets; ``patch_buckets: ()`` turns ViT padding
off (a pack's ViT input is its real patch total).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from schemas.config_base import ConfigSection


class PackConfig(ConfigSection):
    context_length: int = Field(default=24576, ge=128, le=1_048_576, multiple_of=128)
    max_vit_patches: int = Field(default=4 * 2304 * 8, ge=4, le=100_000_000)
    max_images_per_pack: int = Field(default=256, ge=1, le=100_000)
    # Allowed padded LLM lengths (multiples of 128). Empty means one bucket: context_length;
    # "auto" chooses up to max_llm_buckets from the planned packs.
    buckets: Literal["auto"] | tuple[int, ...] = ()
    max_llm_buckets: int = Field(default=4, ge=1, le=1024)
    # Allowed padded ViT patch totals (multiples of 4). "auto" chooses them from the planned packs
    # (module docstring); empty means no patch bucketing: a pack's ViT input is its real patch
    # total. When given, max_vit_patches is always an allowed bucket.
    patch_buckets: Literal["auto"] | tuple[int, ...] = "auto"
    # Most distinct (seq_len, vit_bucket) shapes auto buckets may make (graph compilations).
    max_shapes: int = Field(default=8, ge=1, le=4096)
    patch_granule: int = Field(default=512, ge=4, le=1_000_000, multiple_of=4)
    # Fill packs up to their ViT bucket's edge: move an image to another pack with room when that
    # drops a pack into a smaller bucket, never adding a pack.
    bucket_aware: bool = True
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

    # Step assembly (module docstring): what comes first, the data mix of each step or its cost.
    balance: Literal["mix", "cost"] = "mix"
    # mix: the tolerance of a step's share of a source or task, in standard deviations of i.i.d.
    # sampling for a step of that many samples (the report warns beyond it).
    mix_tolerance: float = Field(default=3.0, gt=0.0, le=100.0)
    vit_phase: Literal["fused", "separate"] = "fused"
    # Step assembly: swap-refinement rounds per step after the initial deal (0 = no swaps).
    balance_swap_rounds: int = Field(default=256, ge=0, le=1_000_000)
    # Pack attention and ViT compute as a fourth limit, at (1 + compute_cap_slack) × a pack's mean
    # (`packer.compute_cap`): "auto" in mix mode at one pack per rank per step, dp >= 16, fused ViT.
    compute_cap: Literal["auto", "on", "off"] = "auto"
    compute_cap_slack: float = Field(default=0.05, ge=0.0, le=100.0)
    # mix mode, one pack per rank per step: rounds of swaps of packs between steps after the deal
    # (`packer.step_swaps`); 0 turns them off
    mix_swap_rounds: int = Field(default=4, ge=0, le=10_000)

    @model_validator(mode="after")
    def _check(self) -> "PackConfig":
        for b in self.fixed_llm_buckets or ():
            if b % 128 or b <= 0 or b > self.context_length:
                raise ValueError(
                    f"buckets: {b} is not allowed; each bucket must be a positive multiple of 128 "
                    f"and <= context_length ({self.context_length})"
                )
        for b in self.fixed_patch_buckets or ():
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
    def fixed_llm_buckets(self) -> tuple[int, ...] | None:
        """The configured LLM buckets; None when they are chosen from the data ("auto")."""
        return None if self.buckets == "auto" else tuple(self.buckets)

    @property
    def fixed_patch_buckets(self) -> tuple[int, ...] | None:
        """The configured ViT buckets; None when they are chosen from the data ("auto")."""
        return None if self.patch_buckets == "auto" else tuple(self.patch_buckets)

    @property
    def llm_buckets(self) -> tuple[int, ...]:
        """The fixed LLM buckets (with context_length); for "auto", the ones a plan may use are
        recorded in its seq_len (and in stats.json)."""
        return tuple(sorted(set(self.fixed_llm_buckets or ()) | {self.context_length}))

    @property
    def vit_buckets(self) -> tuple[int, ...]:
        """The fixed ViT buckets; empty for none and for "auto" (see `patch_bucketing`)."""
        fixed = self.fixed_patch_buckets
        if not fixed:
            return ()
        return tuple(sorted(set(fixed) | {self.max_vit_patches}))

    @property
    def patch_bucketing(self) -> bool:
        """Whether ViT inputs are padded to buckets (fixed or auto)."""
        return self.patch_buckets == "auto" or bool(self.patch_buckets)

    @property
    def packs_per_rank_step(self) -> int:
        return self.micro_batch * self.grad_accum

    @property
    def packs_per_step(self) -> int:
        return self.dp_size * self.micro_batch * self.grad_accum
