"""Tiny randomly initialised checkpoints for the scorer tests, built from configs (no download):
a byte-level BPE tokenizer trained on a few captions, a 2-layer Qwen2-style causal LM and a
2-layer CLIP with its image processor, each saved with `save_pretrained` into a directory."""

from __future__ import annotations

from pathlib import Path

CORPUS = ["a dog on a beach", "a cat on a sofa", "two people walking in the park", "a red car near a house",
          "a bowl of soup on a table", "children playing football in a field"] * 8


def tokenizer():
    import transformers as tf
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=320, special_tokens=["<unk>", "<|endoftext|>", "<|startoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS, trainer)
    return tf.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<|endoftext|>",
                                      bos_token="<|startoftext|>", pad_token="<|endoftext|>")


def save_tiny_lm(path: Path, seed: int = 0) -> Path:
    import torch
    import transformers as tf

    tok = tokenizer()
    torch.manual_seed(seed)
    cfg = tf.Qwen2Config(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    tf.Qwen2ForCausalLM(cfg).save_pretrained(path)
    tok.save_pretrained(path)
    return path


def save_tiny_clip(path: Path, seed: int = 0) -> Path:
    import torch
    import transformers as tf

    tok = tokenizer()
    torch.manual_seed(seed)
    text = dict(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                max_position_embeddings=77, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                pad_token_id=tok.pad_token_id)
    vision = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, image_size=32,
                  patch_size=8)
    tf.CLIPModel(tf.CLIPConfig(text_config=text, vision_config=vision, projection_dim=16)).save_pretrained(path)
    tok.save_pretrained(path)
    tf.CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(path)
    return path


def write_images(folder: Path, n: int, seed: int = 0) -> list[Path]:
    """Real JPEG/PNG files with varied content: gradients, noise, flat colour, skin-toned shapes."""
    import numpy as np
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        w, h = int(rng.integers(60, 200)), int(rng.integers(60, 200))
        base = np.linspace(0, 255, w * h * 3).reshape(h, w, 3) + rng.normal(0, 30, (h, w, 3))
        im = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
        draw = ImageDraw.Draw(im)
        for _ in range(3):
            x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
            draw.ellipse((x, y, x + w // 3, y + h // 2), fill=(224, 172, 140))
        path = folder / f"img{i}.{'png' if i % 3 == 0 else 'jpg'}"
        im.save(path)
        paths.append(path)
    return paths
