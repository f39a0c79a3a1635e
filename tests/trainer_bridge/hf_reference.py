"""Per-sample references for the HF adapter tests: each sample of a pack through the unmodified model.

The unpacked forward gets only what a user of plain transformers would pass for that one sample
(its tokens, its media and ``mm_token_type_ids``), so the model computes its own positions and mask.
"""

from __future__ import annotations

import math

import torch

from trainer_bridge.hf import build_model, tiny_config
from trainer_bridge.loss import next_token_targets

FAMILIES = ("qwen2_vl", "qwen2_5_vl")


def save_tiny_model(model_type: str, special_tokens: dict, path) -> str:
    """A tiny random model of ``model_type`` written as a local checkpoint (no hub)."""
    from trainer_bridge.hf import FAMILIES as ADAPTER_FAMILIES

    import transformers

    config = tiny_config(model_type, special_tokens)
    torch.manual_seed(0)
    model = getattr(transformers, ADAPTER_FAMILIES[model_type].model_class)(config)
    model.save_pretrained(path)
    return str(path)


def load(path: str):
    return build_model(path, dtype=torch.float32).eval()


def media_rows(pack) -> list[tuple[int, int]]:
    sizes = [int(g.prod()) for g in pack["image_grid_thw"][: len(pack["media_kind"])]]
    starts = [0]
    for n in sizes[:-1]:
        starts.append(starts[-1] + n)
    return list(zip(starts, sizes))


def per_sample_inputs(pack: dict, j: int, model) -> dict:
    """forward kwargs of sample ``j`` on its own, as plain transformers usage would build them."""
    a, b = pack["cu_seqlens_list"][j], pack["cu_seqlens_list"][j + 1]
    ids = pack["input_ids"][a:b][None]
    types = torch.zeros_like(ids, dtype=torch.int)
    types[ids == model.config.image_token_id] = 1
    types[ids == model.config.video_token_id] = 2
    kw = {"input_ids": ids, "mm_token_type_ids": types, "use_cache": False}
    rows = media_rows(pack)
    for kind, pix, grid in (("image", "pixel_values", "image_grid_thw"), ("video", "pixel_values_videos", "video_grid_thw")):
        mine = [i for i, (k, s) in enumerate(zip(pack["media_kind"], pack["media_sample"])) if k == kind and s == j]
        if mine:
            kw[pix] = torch.cat([pack["pixel_values"][rows[i][0] : rows[i][0] + rows[i][1]] for i in mine])
            kw[grid] = pack["image_grid_thw"][mine]
            if kind == "video" and model.config.model_type == "qwen2_5_vl":
                tp = model.config.vision_config.temporal_patch_size
                kw["second_per_grid_ts"] = torch.tensor([tp / pack["media_fps"][i] for i in mine])
    return kw


def sample_logits(pack: dict, j: int, model) -> torch.Tensor:
    return model(**per_sample_inputs(pack, j, model)).logits[0]


def equation_1(per_sample_losses: list[torch.Tensor], per_sample_valid: list[torch.Tensor],
               tau_order=0.1, tau_magnitude=2.0) -> torch.Tensor:
    """Equation (1) written out sample by sample (position i over each sample's supervised tokens)."""
    num_all, den_all, sample_terms = 0.0, 0.0, []
    for loss, valid in zip(per_sample_losses, per_sample_valid):
        losses = loss[valid]
        if losses.numel() == 0:
            continue
        i = torch.arange(losses.numel(), dtype=losses.dtype)
        w = 1.0 / torch.log(math.e + tau_order * i) + 2.0 * torch.sigmoid(tau_magnitude * losses - 0.5)
        num_all = num_all + (w * losses).sum()
        den_all = den_all + w.sum()
        sample_terms.append((w * losses).sum() / w.sum())
    return num_all / den_all + sum(sample_terms) / len(sample_terms)


def sample_token_losses(pack: dict, j: int, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Next-token CE of sample ``j`` from its own logits [L, V], and the supervised mask."""
    a, b = pack["cu_seqlens_list"][j], pack["cu_seqlens_list"][j + 1]
    labels = pack["labels"][a:b]
    targets = next_token_targets(labels, torch.tensor([0, b - a]))
    valid = targets != -100
    loss = torch.nn.functional.cross_entropy(logits.float(), targets.clamp(min=0), reduction="none")
    return loss, valid
