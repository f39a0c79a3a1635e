"""Stream packed shards into torch / torch_npu and compute the balanced loss. Never imports Ray."""
