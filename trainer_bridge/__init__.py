"""Stream packed shards into torch / torch_npu and compute the balanced loss. Never imports Ray.

`import trainer_bridge` stays light (no torch): the public names load on first use.
    PackedShardDataset, PackLoader      trainer_bridge.dataset
    balanced_loss, global_step_scale, next_token_targets   trainer_bridge.loss
    packed_attention, select_device     trainer_bridge.device
    reassign_ranks                      trainer_bridge.rank_plan
    enable_packing, model_inputs        trainer_bridge.hf (needs the hf extra: transformers)
    assign_images, balance_step         trainer_bridge.vit_balance
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "PackedShardDataset": "trainer_bridge.dataset",
    "PackLoader": "trainer_bridge.dataset",
    "ShardFormatError": "trainer_bridge.dataset",
    "balanced_loss": "trainer_bridge.loss",
    "global_step_scale": "trainer_bridge.loss",
    "next_token_targets": "trainer_bridge.loss",
    "packed_attention": "trainer_bridge.device",
    "select_device": "trainer_bridge.device",
    "reassign_ranks": "trainer_bridge.rank_plan",
    "enable_packing": "trainer_bridge.hf",
    "model_inputs": "trainer_bridge.hf",
    "assign_images": "trainer_bridge.vit_balance",
    "balance_step": "trainer_bridge.vit_balance",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'trainer_bridge' has no attribute {name!r}")
