"""Hugging Face transformers adapter: train Qwen2-VL / Qwen2.5-VL on packed shards, exactly.

Two steps, through transformers' own extension points (no modelling file is copied or patched)::

    from trainer_bridge.hf import enable_packing, model_inputs

    enable_packing(model)                      # once, after loading the model
    out = model(**model_inputs(pack, model))   # per pack from PackedShardDataset / PackLoader
    logits = out.logits[0]                     # [T, vocab]; then next_token_targets + balanced_loss

``enable_packing(model)`` registers a packed attention implementation in ``AttentionInterface`` (and
its mask builder in ``AttentionMaskInterface``) and selects it for the language model only (the vision
tower already attends per image). Each packed sample attends causally to itself alone, by the pack's
``cu_seqlens``, never to its neighbours. Three variants follow the model's configured attention:
- ``sdpa`` (default): ``trainer_bridge.device.packed_attention``: block-diagonal SDPA in query tiles
  on CPU, flash-attn varlen on CUDA in fp16/bf16 when installed, ``npu_fusion_attention`` (TND) on NPU;
- ``eager``: explicit float32 softmax per sample (the eager reference);
- ``flash``: flash-attn varlen (``flash_attention_2``/``_3`` models);
- ``npu``: ``torch_npu.npu_fusion_attention`` whatever the device (``sdpa`` picks it on NPU anyway).
Called without pack segments (a plain ``model(input_ids)`` or ``generate``), the registered function
hands over to the model's original attention, so the model still works as before.

``model_inputs(pack, model)`` builds the keyword arguments of ``forward``: ``input_ids`` [1, T], the
pack's segments in place of the attention mask (``attention_mask={"full_attention": PackSegments}``:
transformers passes a dict of prepared masks through to the attention functions), ``position_ids``
in the model's layout ([3, 1, T] mRoPE, each sample's positions computed by the model's own
``get_rope_index`` exactly as for that sample alone), ``pixel_values`` / ``image_grid_thw``,
``pixel_values_videos`` / ``video_grid_thw`` (+ ``second_per_grid_ts`` for Qwen2.5-VL's temporal
RoPE, from each video's sampled frames per second), ``use_cache=False``, and with ``labels=True`` the
labels (the first token of every sample set to -100, so HF's shifted loss never crosses samples).

Static ViT shapes: a pack padded to its ViT bucket (``PackedShardDataset(pad_to_bucket=True)``) ends in
a dummy image. ``model_inputs`` runs the model's vision encoder on all the padded patches (the planned
shape; the dummy attends only to itself) and passes the outputs of the real media to ``forward`` as
``mm_encoder_outputs``, so the dummy reaches neither the language model nor the loss.

Adding another model family: add a ``ModelFamily`` to ``FAMILIES`` under the model's
``config.model_type``: the ``transformers`` class to build it from, whether it uses mRoPE (then the
model must expose ``get_rope_index``), whether videos carry ``second_per_grid_ts``, and the config
names of the vision token ids. Then run tests/trainer_bridge/test_hf_exactness.py with a tiny config
of the family added to ``tiny_config``: it checks packed against per-sample logits on every sample.
"""

from __future__ import annotations

import inspect
import sys
import warnings
from dataclasses import dataclass
from functools import lru_cache

from trainer_bridge.device import eager_attention, packed_attention

PACKED_PREFIX = "vlpack_packed_"
BASES = ("sdpa", "eager", "flash", "npu")
TINY_MODELS = {"tiny-qwen2-vl": "qwen2_vl", "tiny-qwen2.5-vl": "qwen2_5_vl"}
SPECIAL_CONFIG_NAMES = {  # config attribute -> vlpack special token
    "image_token_id": "<|image_pad|>",
    "video_token_id": "<|video_pad|>",
    "vision_start_token_id": "<|vision_start|>",
    "vision_end_token_id": "<|vision_end|>",
}
QWEN_VOCAB = 151936  # Qwen2-VL-2B's padded vocabulary; vlpack's special ids end at 151666


@dataclass(frozen=True)
class ModelFamily:
    model_class: str  # the transformers class that builds a model of this type
    mrope: bool  # 3-D (t, h, w) rotary positions from the model's get_rope_index
    video_seconds: bool  # get_rope_index scales video time by second_per_grid_ts
    special_config_names: tuple[str, ...] = tuple(SPECIAL_CONFIG_NAMES)


FAMILIES = {
    "qwen2_vl": ModelFamily("Qwen2VLForConditionalGeneration", mrope=True, video_seconds=False),
    "qwen2_5_vl": ModelFamily("Qwen2_5_VLForConditionalGeneration", mrope=True, video_seconds=True),
}


@dataclass(frozen=True)
class PackSegments:
    """The pack's sample boundaries, passed where transformers passes a prepared attention mask."""

    cu_seqlens: object  # int32 tensor [S+1] on the model's device
    cu_seqlens_list: list[int]  # the same on the host (Ascend's actual_seq_qlen; no device sync)
    max_seqlen: int


def _require_transformers():
    try:
        import transformers
    except ImportError as exc:  # pragma: no cover - the hf extra is installed in CI
        raise ImportError(
            "trainer_bridge.hf needs transformers: pip install 'vlpack[hf]' (or transformers>=5)"
        ) from exc
    return transformers


def _text_config(config):
    return getattr(config, "text_config", None) or config


def family_of(model_or_config) -> ModelFamily | None:
    config = getattr(model_or_config, "config", model_or_config)
    return FAMILIES.get(getattr(config, "model_type", None))


# ----------------------------------------------------------------------------- attention functions
def _fallback(base: str, module):
    """The attention the model would use without packing (for calls that carry no PackSegments)."""
    if base == "eager":
        own = getattr(sys.modules.get(type(module).__module__), "eager_attention_forward", None)
        if own is not None:
            return own
    if base == "flash":
        from transformers.integrations.flash_attention import flash_attention_forward

        return flash_attention_forward
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    return sdpa_attention_forward


def _packed_attention_function(base: str):
    impl = {"sdpa": None, "eager": "eager", "flash": "flash", "npu": "npu"}[base]

    def attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
        if not isinstance(attention_mask, PackSegments):
            return _fallback(base, module)(
                module, query, key, value, attention_mask, scaling=scaling, dropout=dropout, **kwargs
            )
        if query.shape[0] != 1:
            raise ValueError(f"packed attention: one pack per forward (batch 1), got batch {query.shape[0]}")
        if dropout and module.training:
            raise NotImplementedError("packed attention: attention dropout is not supported; set it to 0")
        seg = attention_mask
        # HF hands [1, heads, T, head_dim]; packed attention works on TND [T, heads, head_dim]
        q, k, v = (x[0].transpose(0, 1) for x in (query, key, value))
        if impl == "eager":
            out = eager_attention(q, k, v, seg.cu_seqlens_list, causal=True, scale=scaling)
        else:
            out = packed_attention(
                q, k, v, seg.cu_seqlens, causal=True, cu_seqlens_list=seg.cu_seqlens_list, scale=scaling, impl=impl
            )
        return out.unsqueeze(0), None

    attention.__name__ = f"{PACKED_PREFIX}{base}"
    return attention


def _packed_mask_function(base: str):
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS

    key = {"sdpa": "sdpa", "eager": "eager", "flash": "flash_attention_2", "npu": "sdpa"}[base]
    return ALL_MASK_ATTENTION_FUNCTIONS[key]


@lru_cache(maxsize=1)
def register_packed_attention() -> tuple[str, ...]:
    """Register ``vlpack_packed_{sdpa,eager,flash,npu}`` with transformers (once per process)."""
    transformers = _require_transformers()
    from transformers.masking_utils import AttentionMaskInterface

    names = []
    for base in BASES:
        name = PACKED_PREFIX + base
        transformers.AttentionInterface.register(name, _packed_attention_function(base))
        AttentionMaskInterface.register(name, _packed_mask_function(base))
        names.append(name)
    return tuple(names)


def _base_of(implementation: str | None) -> str:
    implementation = implementation or "sdpa"
    if implementation.startswith(PACKED_PREFIX):
        return implementation[len(PACKED_PREFIX) :]
    if implementation == "eager":
        return "eager"
    if implementation.startswith("flash_attention"):
        return "flash"
    return "sdpa"


def enable_packing(model, attention: str | None = None) -> str:
    """Route the language model's attention through packed attention; returns the registered name.

    ``attention`` picks the variant (``"sdpa"``, ``"eager"``, ``"flash"``, ``"npu"``); by default it follows the
    model's configured attention. Warns for a model type vlpack has not checked.
    """
    register_packed_attention()
    config = model.config
    model_type = getattr(config, "model_type", None)
    if model_type not in FAMILIES:
        warnings.warn(
            f"enable_packing: model type {model_type!r} is not one vlpack has checked ({sorted(FAMILIES)}); "
            "packed attention is enabled, but model_inputs may not build what its forward expects "
            "(see trainer_bridge/README.md, 'Adding a model family')",
            stacklevel=2,
        )
    text = _text_config(config)
    if getattr(text, "use_sliding_window", False) or "sliding_attention" in (getattr(text, "layer_types", None) or ()):
        raise NotImplementedError("enable_packing: sliding-window attention layers are not supported")
    base = attention or _base_of(getattr(text, "_attn_implementation", None))
    if base not in BASES:
        raise ValueError(f"attention: {base!r} is not allowed; use one of {BASES}")
    name = PACKED_PREFIX + base
    if "text_config" in getattr(config, "sub_configs", {}):
        model.set_attn_implementation({"text_config": name})
    else:
        model.set_attn_implementation(name)
    if getattr(text, "_attn_implementation", None) != name:
        raise RuntimeError(
            f"enable_packing: {type(model).__name__} kept attention {text._attn_implementation!r}; it does not "
            "dispatch attention through transformers' AttentionInterface"
        )
    return name


def packing_enabled(model) -> bool:
    return str(getattr(_text_config(model.config), "_attn_implementation", "")).startswith(PACKED_PREFIX)


# ----------------------------------------------------------------------------- inputs
def _model_device(model):
    for p in model.parameters():
        return p.device
    import torch

    return torch.device("cpu")


def _rope_owner(model):
    inner = getattr(model, "model", None)
    if inner is not None and hasattr(inner, "get_rope_index"):
        return inner
    if hasattr(model, "get_rope_index"):
        return model
    raise ValueError(f"{type(model).__name__} has no get_rope_index; its family cannot use mRoPE positions here")


def _video_seconds(pack, kinds, model) -> list[float] | None:
    """second_per_grid_ts of each video: temporal patch size / sampled frames per second."""
    fps = [f for f, k in zip(pack.get("media_fps") or [None] * len(kinds), kinds) if k == "video"]
    if any(f is None or f <= 0 for f in fps):
        warnings.warn(
            "model_inputs: a video has no sampled fps in its shard layout (shards written before vlpack "
            "recorded it); Qwen2.5-VL's temporal positions fall back to 1 second per temporal patch",
            stacklevel=3,
        )
        return None
    temporal = getattr(getattr(model.config, "vision_config", None), "temporal_patch_size", 2)
    return [float(temporal) / f for f in fps]


def rope_positions(pack, model, grids, kinds, video_seconds=None):
    """[3, T] positions: each sample's own ``get_rope_index`` result, the padding as text from 0."""
    import torch

    bounds = pack["cu_seqlens_list"]
    n_samples = len(pack["sample_ids"])
    ids = pack["input_ids"].cpu()
    total = ids.shape[0]
    lengths = [bounds[j + 1] - bounds[j] for j in range(n_samples)]
    width = max(lengths, default=0)
    batch = torch.zeros((n_samples, width), dtype=torch.long)
    mask = torch.zeros((n_samples, width), dtype=torch.long)
    for j, n in enumerate(lengths):
        batch[j, :n] = ids[bounds[j] : bounds[j] + n]
        mask[j, :n] = 1
    vision_types = torch.zeros_like(batch, dtype=torch.int)
    config = model.config
    image_id, video_id = getattr(config, "image_token_id", None), getattr(config, "video_token_id", None)
    if image_id is not None:
        vision_types[(batch == image_id) & mask.bool()] = 1
    if video_id is not None:
        vision_types[(batch == video_id) & mask.bool()] = 2
    image_grids = [g for g, k in zip(grids, kinds) if k == "image"]
    video_grids = [g for g, k in zip(grids, kinds) if k == "video"]
    owner = _rope_owner(model)
    params = inspect.signature(owner.get_rope_index).parameters
    kwargs = {
        "input_ids": batch,
        "image_grid_thw": torch.stack(image_grids) if image_grids else None,
        "video_grid_thw": torch.stack(video_grids) if video_grids else None,
        "attention_mask": mask,
    }
    if "mm_token_type_ids" in params:
        kwargs["mm_token_type_ids"] = vision_types
    if "second_per_grid_ts" in params and video_seconds is not None:
        kwargs["second_per_grid_ts"] = torch.tensor(video_seconds)
    positions = torch.empty((3, total), dtype=torch.long)
    real = bounds[n_samples] if n_samples else 0
    if n_samples:
        with torch.no_grad():
            per_sample, _ = owner.get_rope_index(**kwargs)
        positions[:, :real] = per_sample[:, mask.bool()]
    positions[:, real:] = torch.arange(total - real)
    return positions


def _media_rows(grids, kinds, want: str):
    """Row indices of pixel_values belonging to media of kind ``want`` (in order)."""
    import torch

    sizes = [int(g.prod()) for g in grids]
    starts = [0]
    for n in sizes[:-1]:
        starts.append(starts[-1] + n)
    chunks = [torch.arange(s, s + n) for s, n, k in zip(starts, sizes, kinds) if k == want]
    return torch.cat(chunks) if chunks else torch.zeros(0, dtype=torch.long)


def _accepts(fn, name: str) -> bool:
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins
        return False


def _encoder_outputs(model, pixel_values, grids, kinds, vit_pad: int) -> dict:
    """Run the vision encoder on the padded patches (the planned static shape) and keep the outputs of
    the real media: ``mm_encoder_outputs`` for ``forward``. The dummy image is the last image."""
    out = {}
    all_kinds = [*kinds, "image"] if vit_pad else kinds
    for kind, method in (("image", model.get_image_features), ("video", model.get_video_features)):
        if kind not in all_kinds:
            continue
        rows = _media_rows(grids, all_kinds, kind)
        chunk = pixel_values if len(rows) == pixel_values.shape[0] else pixel_values.index_select(0, rows)
        kind_grids = grids[[i for i, k in enumerate(all_kinds) if k == kind]]
        encoded = method(chunk, kind_grids, return_dict=True)
        if kind == "image" and vit_pad:
            encoded.pooler_output = tuple(encoded.pooler_output)[:-1]
        out[kind] = encoded
    return out


def model_inputs(pack: dict, model, *, labels: bool = False, static_shapes: bool = True) -> dict:
    """Keyword arguments of ``model.forward`` for one pack (see the module docstring).

    A pack padded to its ViT bucket keeps that shape (``static_shapes=True``): the vision encoder runs
    here on the padded patches and its outputs for the real media go to ``forward`` as
    ``mm_encoder_outputs``, so call this where you call the forward (same autocast and grad mode).
    ``static_shapes=False`` drops the ViT padding instead.
    """
    import torch

    model = getattr(model, "module", model)  # DistributedDataParallel
    if not packing_enabled(model):
        raise ValueError(
            "model_inputs: call trainer_bridge.hf.enable_packing(model) first; without it attention "
            "crosses the samples of a pack"
        )
    family = family_of(model)
    mrope = family.mrope if family is not None else False
    pos = pack["position_ids"]
    if mrope and pos.dim() != 2:
        raise ValueError(
            f"model_inputs: {model.config.model_type} uses mRoPE, but the pack has 1-D position_ids: the dataset "
            "was made with mrope=False (for a 1-D RoPE model); use PackedShardDataset(..., mrope=True) or the default"
        )
    if not mrope and pos.dim() != 1:
        raise ValueError(
            f"model_inputs: {getattr(model.config, 'model_type', '?')} takes 1-D positions, but the pack has "
            "mRoPE position_ids [3, T]; make the dataset with mrope=False"
        )
    device = _model_device(model)
    bounds = list(pack["cu_seqlens_list"])
    kinds = list(pack["media_kind"])
    n_media = len(kinds)
    grids = pack["image_grid_thw"]
    pixel_values = pack["pixel_values"]
    vit_pad = int(pack.get("vit_pad_patches", 0))
    if vit_pad and static_shapes and not _accepts(model.forward, "mm_encoder_outputs"):
        warnings.warn(
            f"model_inputs: {type(model).__name__}.forward takes no mm_encoder_outputs (transformers < 5), so "
            "packs padded to a ViT bucket are fed without the padding",
            stacklevel=2,
        )
        static_shapes = False
    if vit_pad and not static_shapes:
        pixel_values, grids, vit_pad = pixel_values[: pixel_values.shape[0] - vit_pad], grids[:n_media], 0
    video_seconds = None
    if family is not None and family.video_seconds and "video" in kinds:
        video_seconds = _video_seconds(pack, kinds, model)
    inputs: dict = {"input_ids": pack["input_ids"][None]}
    if vit_pad:
        vision = _encoder_outputs(
            model, pixel_values.to(device, non_blocking=True), grids.to(device), kinds, vit_pad
        )
        inputs["mm_encoder_outputs"] = vision
    elif "image" in kinds and "video" not in kinds:
        inputs["pixel_values"] = pixel_values
    elif n_media:
        for kind, key in (("image", "pixel_values"), ("video", "pixel_values_videos")):
            if kind in kinds:
                inputs[key] = pixel_values.index_select(0, _media_rows(grids, kinds, kind))
    for kind, key in (("image", "image_grid_thw"), ("video", "video_grid_thw")):
        if kind in kinds:
            inputs[key] = grids[[i for i, k in enumerate(kinds) if k == kind]]
    if video_seconds is not None:
        inputs["second_per_grid_ts"] = torch.tensor(video_seconds)
    if mrope:
        inputs["position_ids"] = rope_positions(pack, model, grids[:n_media], kinds, video_seconds)[:, None]
    else:
        inputs["position_ids"] = pos[None]
    cu = pack["cu_seqlens"].to(device=device, dtype=torch.int32, non_blocking=True)
    max_seqlen = int(pack.get("max_seqlen") or max((b - a for a, b in zip(bounds, bounds[1:])), default=0))
    segments = PackSegments(cu, bounds, max_seqlen)
    layer_types = set(getattr(_text_config(model.config), "layer_types", None) or ("full_attention",))
    inputs["attention_mask"] = dict.fromkeys(layer_types | {"full_attention"}, segments)
    inputs["use_cache"] = False
    if labels:
        shifted_safe = pack["labels"].clone()
        shifted_safe[torch.tensor(bounds[:-1], dtype=torch.long)] = -100  # HF shifts: never predict a neighbour
        inputs["labels"] = shifted_safe[None]
    return {
        k: (v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v) for k, v in inputs.items()
    }


# ----------------------------------------------------------------------------- models
def check_vocabulary(model, special_tokens: dict[str, int]) -> None:
    """The model's vision token ids and vocabulary must match the ids vlpack wrote into the shards."""
    config = model.config
    wrong = []
    for attr, token in SPECIAL_CONFIG_NAMES.items():
        if token in special_tokens and getattr(config, attr, None) not in (None, special_tokens[token]):
            wrong.append(f"{attr}={getattr(config, attr)} but the shards use {token}={special_tokens[token]}")
    vocab = getattr(_text_config(config), "vocab_size", None)
    top = max(special_tokens.values(), default=0)
    if vocab is not None and top >= vocab:
        wrong.append(f"vocab_size={vocab} cannot hold the shards' token id {top}")
    if wrong:
        raise ValueError("model does not match the shards' vocabulary: " + "; ".join(wrong))


def tiny_config(model_type: str = "qwen2_vl", special_tokens: dict[str, int] | None = None, **text):
    """A small random-init config of a supported family, with vlpack's vision token ids."""
    transformers = _require_transformers()
    special = special_tokens or {}
    ids = {attr: special[tok] for attr, tok in SPECIAL_CONFIG_NAMES.items() if tok in special}
    text_config = {
        "vocab_size": max(QWEN_VOCAB, max(special.values(), default=0) + 1),
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "max_position_embeddings": 32768,
        "rope_parameters": {"rope_type": "default", "rope_theta": 1_000_000.0, "mrope_section": [2, 3, 3]},
        **text,
    }
    if model_type == "qwen2_vl":
        vision = {"depth": 2, "embed_dim": 32, "num_heads": 2, "mlp_ratio": 2, "hidden_size": text_config["hidden_size"]}
        return transformers.Qwen2VLConfig(text_config=text_config, vision_config=vision, **ids)
    if model_type == "qwen2_5_vl":
        vision = {
            "depth": 2,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_heads": 2,
            "out_hidden_size": text_config["hidden_size"],
            "fullatt_block_indexes": [1],
            "window_size": 56,
            "tokens_per_second": 2,
        }
        return transformers.Qwen2_5_VLConfig(text_config=text_config, vision_config=vision, **ids)
    raise ValueError(f"model_type: {model_type!r} has no tiny config; use one of {sorted(FAMILIES)}")


def build_model(spec: str, special_tokens: dict[str, int] | None = None, *, seed: int = 0, dtype=None):
    """``spec``: ``tiny-qwen2-vl`` / ``tiny-qwen2.5-vl`` (random weights, seeded) or a local checkpoint dir."""
    import torch

    transformers = _require_transformers()
    if spec in TINY_MODELS:
        config = tiny_config(TINY_MODELS[spec], special_tokens)
        cls = getattr(transformers, FAMILIES[config.model_type].model_class)
        torch.manual_seed(seed)
        model = cls(config)
        return model.to(dtype) if dtype is not None else model
    config = transformers.AutoConfig.from_pretrained(spec, local_files_only=True)
    family = FAMILIES.get(config.model_type)
    cls = getattr(transformers, family.model_class) if family else transformers.AutoModelForImageTextToText
    kwargs = {"dtype": dtype} if dtype is not None else {}
    return cls.from_pretrained(spec, local_files_only=True, **kwargs)
