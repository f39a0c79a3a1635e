"""LLM-based text quality and loop detection (openPangu §3.2) with a local causal LM.

For each caption, one teacher-forced forward pass gives the probability of every token given the
ones before it (after the tokenizer's BOS token, or its EOS token when it has no BOS):
- perplexity: exp(mean negative log-likelihood of the caption's tokens);
- repetition: sum, over the tokens that complete an n-gram already seen earlier in the caption, of
  the probability the model gives them, divided by the number of predicted tokens. A model that has
  caught a loop predicts the repeats with confidence, so a looping caption scores near 1; a normal
  caption, with few repeated n-grams, near 0.
"""

from __future__ import annotations

import numpy as np

from filters.scorers.devices import Accelerator, torch_device
from schemas.scorer_config import LmScorer as LmConfig


def repeated_ngram_mask(ids: list[int], n: int) -> np.ndarray:
    """Per token: it completes an n-gram (ending at it) that occurred earlier in `ids`."""
    out = np.zeros(len(ids), dtype=bool)
    seen: set[tuple[int, ...]] = set()
    for end in range(n - 1, len(ids)):
        gram = tuple(ids[end - n + 1:end + 1])
        out[end] = gram in seen
        seen.add(gram)
    return out


class LanguageModel:
    """Loaded once; `score(texts)` -> (perplexity, repetition) float32 arrays (NaN for empty text)."""

    def __init__(self, cfg: LmConfig, accelerator: Accelerator = "cpu"):
        try:
            import torch
            import transformers as tf
        except ImportError as err:
            raise ImportError("the lm scorer needs the `hf` extra: pip install 'vlpack[hf]' (transformers)") from err
        self.torch = torch
        self.device = torch_device(accelerator)
        self.model = tf.AutoModelForCausalLM.from_pretrained(cfg.model_path, local_files_only=True)
        self.model = self.model.to(self.device).eval()
        self.tokenizer = tf.AutoTokenizer.from_pretrained(cfg.model_path, local_files_only=True)
        start = self.tokenizer.bos_token_id
        self.start = self.tokenizer.eos_token_id if start is None else start
        if self.start is None:
            raise ValueError(f"the tokenizer at {cfg.model_path} has neither a BOS nor an EOS token")
        self.pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.start
        self.max_tokens = cfg.max_tokens
        self.ngram = cfg.repetition_ngram

    def score(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        torch = self.torch
        n = len(texts)
        ppl = np.full(n, np.nan, dtype=np.float32)
        rep = np.full(n, np.nan, dtype=np.float32)
        ids = [self.tokenizer(t, add_special_tokens=False)["input_ids"][: self.max_tokens] for t in texts]
        rows = [i for i in range(n) if ids[i]]
        if not rows:
            return ppl, rep
        seqs = [[self.start] + ids[i] for i in rows]
        width = max(map(len, seqs))
        input_ids = torch.full((len(seqs), width), self.pad, dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for j, s in enumerate(seqs):  # right padding: positions of real tokens do not depend on the batch
            input_ids[j, : len(s)] = torch.tensor(s)
            mask[j, : len(s)] = 1
        with torch.inference_mode():
            logits = self.model(input_ids=input_ids.to(self.device), attention_mask=mask.to(self.device)).logits
            logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
            token_logp = logp.gather(-1, input_ids[:, 1:].to(self.device).unsqueeze(-1)).squeeze(-1).cpu().numpy()
        for j, i in enumerate(rows):
            lp = token_logp[j, : len(ids[i])].astype(np.float64)
            ppl[i] = np.exp(-lp.mean())
            repeated = repeated_ngram_mask(ids[i], self.ngram)
            rep[i] = np.exp(lp[repeated]).sum() / len(lp)
        return ppl, rep
