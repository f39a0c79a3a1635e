"""Where a scorer runs: the torch device and the onnxruntime providers for an accelerator name."""

from __future__ import annotations

from typing import Literal

Accelerator = Literal["cpu", "gpu", "npu"]


def torch_device(accelerator: Accelerator) -> str:
    """"cuda" for gpu, "npu" for npu (torch_npu is imported to register it), else "cpu"."""
    if accelerator == "gpu":
        return "cuda"
    if accelerator == "npu":
        try:
            import torch_npu  # noqa: F401  (registers the "npu" device with torch)
        except ImportError as err:
            raise ImportError("scorers.accelerator: npu needs torch_npu installed on the workers") from err
        return "npu"
    return "cpu"


def onnx_providers(accelerator: Accelerator) -> list[str]:
    """onnxruntime execution providers for an accelerator, the CPU one last as the fallback."""
    import onnxruntime

    available = set(onnxruntime.get_available_providers())
    wanted = {"gpu": ["CUDAExecutionProvider"], "npu": ["CANNExecutionProvider"]}.get(accelerator, [])
    return [p for p in wanted if p in available] + ["CPUExecutionProvider"]
