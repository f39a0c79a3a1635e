"""Stream packed shards into torch / torch_npu and compute the balanced loss. Never imports Ray.

`import trainer_bridge` stays light (no torch): the public names load on first use.
    PackedShardDataset, PackLoader      trainer_bridge.dataset
    balanced_loss, global_step_scale, next_token_targets   trainer_bridge.loss
    packed_attention, select_device     trainer_bridge.device
    reassign_ranks                      trainer_bridge.rank_plan
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
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'trainer_bridge' has no attribute {name!r}")
