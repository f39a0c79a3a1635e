"""Image-text relevance (EVLM appendix A.1 rule 11): cosine similarity of CLIP embeddings, from a
local `transformers` CLIP checkpoint (model, tokenizer and image processor saved in one directory)."""

from __future__ import annotations

import numpy as np

from filters.scorers.devices import Accelerator, torch_device
from schemas.scorer_config import ClipScorer as ClipConfig


def _transformers():
    try:
        import torch
        import transformers
    except ImportError as err:
        raise ImportError("the clip scorer needs the `clip` extra: pip install 'vlpack[clip]' "
                          "(transformers)") from err
    return torch, transformers


class ClipModel:
    """Loaded once; `score(images, texts)` -> float32 cosine similarity per (image, text) pair."""

    def __init__(self, cfg: ClipConfig, accelerator: Accelerator = "cpu"):
        torch, tf = _transformers()
        self.torch = torch
        self.device = torch_device(accelerator)
        self.model = tf.CLIPModel.from_pretrained(cfg.model_path, local_files_only=True).to(self.device).eval()
        self.tokenizer = tf.AutoTokenizer.from_pretrained(cfg.model_path, local_files_only=True)
        self.processor = tf.AutoImageProcessor.from_pretrained(cfg.model_path, local_files_only=True)
        self.max_length = int(self.model.config.text_config.max_position_embeddings)

    def score(self, images: list, texts: list[str]) -> np.ndarray:
        out = np.full(len(images), np.nan, dtype=np.float32)
        ok = [i for i, im in enumerate(images) if im is not None]
        if not ok:
            return out
        torch = self.torch
        pixels = self.processor(images=[images[i] for i in ok], return_tensors="pt")["pixel_values"]
        tokens = self.tokenizer([texts[i] for i in ok], padding=True, truncation=True,
                                max_length=self.max_length, return_tensors="pt")
        with torch.inference_mode():
            image_emb = self.model.get_image_features(pixel_values=pixels.to(self.device))
            text_emb = self.model.get_text_features(input_ids=tokens["input_ids"].to(self.device),
                                                    attention_mask=tokens["attention_mask"].to(self.device))
            image_emb = _embedding(image_emb)
            text_emb = _embedding(text_emb)
            sim = torch.nn.functional.cosine_similarity(image_emb.float(), text_emb.float(), dim=-1)
        out[ok] = sim.cpu().numpy()
        return out


def _embedding(features):
    """The pooled embedding, whether transformers returns a tensor or a model output."""
    return getattr(features, "pooler_output", features)
