"""Config of the optional model-based scorers (the job YAML's `filters.scorers`).

Three scorers, all off by default; the default job loads no model and decodes no image:
- `nsfw`: NudeNet's ONNX detector (shipped in the `nudenet` wheel, extra `nsfw`);
- `clip`: image-text cosine similarity of a CLIP checkpoint (EVLM appendix A.1 rule 11; extra `clip`);
- `lm`: per-caption perplexity and a loop score from a causal LM (openPangu §3.2; extra `hf`).

Models come from local paths only (relative paths resolve against the job file); a missing path
is a config error, raised when the config is loaded, before Ray starts. Every scorer writes its
score column to the ledger whether or not it has a threshold; a threshold marks the row
`filtered` with reason `score.<name>`. `thresholds` overrides the threshold per source.

```yaml
filters:
  scorers:
    concurrency: 2          # actors in the pool
    accelerator: gpu        # cpu | gpu | npu (a custom "NPU" Ray resource)
    nsfw: {enabled: true, max_score: 0.6}
    clip: {model_path: models/clip-vit-b32, min_similarity: 0.24, thresholds: {laion: 0.28}}
    lm: {model_path: models/qwen2-0.5b, max_perplexity: 400, max_repetition: 0.4}
```
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from schemas.config_base import ConfigSection


class ScorerConfig(ConfigSection):
    """Common to every scorer: `enabled`, the tasks it scores, per-source thresholds. A section
    with a `model_path` and no `enabled` is on; `false` is shorthand for `{enabled: false}`."""

    enabled: bool = False
    tasks: tuple[str, ...] = ("caption",)
    thresholds: dict[str, float] = Field(default_factory=dict)  # source name -> threshold

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, bool):
            return {"enabled": data}
        if isinstance(data, dict) and "enabled" not in data and data.get("model_path"):
            return {**data, "enabled": True}
        return data

    def threshold(self, source: str, default: float | None) -> float | None:
        return self.thresholds.get(source, default)


def _check_model_dir(path: str | None, enabled: bool, what: str) -> str | None:
    if not enabled:
        return path
    if not path:
        raise ValueError(f"{what} is enabled but has no model_path; give the local directory of a "
                         "saved checkpoint (no hub download at run time)")
    p = Path(path)
    if not p.is_dir() or not (p / "config.json").is_file():
        raise ValueError(f"model_path {path!r} is not a local checkpoint directory with a config.json "
                         "(save one with save_pretrained; nothing is downloaded at run time)")
    return path


NSFW_CLASSES = (
    "FEMALE_BREAST_EXPOSED", "FEMALE_GENITALIA_EXPOSED", "MALE_GENITALIA_EXPOSED", "BUTTOCKS_EXPOSED",
    "ANUS_EXPOSED",
)  # fmt: skip


class NsfwScorer(ScorerConfig):
    """NudeNet's detector: the score of an image is the highest confidence of any detection of one
    of `classes`; a row's score is the highest of its images'. `max_score`: rows scoring above it
    are filtered (`score.nsfw`). `model_path`: another NudeNet-format ONNX file (default: the
    `320n.onnx` inside the `nudenet` wheel). Scores every task's images (`tasks: null`)."""

    tasks: tuple[str, ...] | None = None
    model_path: str | None = None
    max_score: float | None = Field(default=0.6, ge=0.0, le=1.0)
    classes: tuple[str, ...] = NSFW_CLASSES
    input_size: int = Field(default=320, ge=32, le=2048)

    @model_validator(mode="after")
    def _model(self) -> "NsfwScorer":
        if self.enabled and self.model_path is not None and not Path(self.model_path).is_file():
            raise ValueError(f"model_path {self.model_path!r} is not a local ONNX file")
        return self


class ClipScorer(ScorerConfig):
    """CLIP image-text relevance (EVLM A.1 rule 11): cosine similarity of the image and caption
    embeddings of a local `transformers` CLIP checkpoint; a row with several images takes the best.
    Rows below `min_similarity` are filtered (`score.clip`). Similarities depend on the checkpoint:
    set the threshold for yours (about 0.28 for OpenAI ViT-B/32 on web alt text)."""

    model_path: str | None = None
    min_similarity: float | None = Field(default=None, ge=-1.0, le=1.0)

    @model_validator(mode="after")
    def _model(self) -> "ClipScorer":
        _check_model_dir(self.model_path, self.enabled, "clip")
        return self


class LmScorer(ScorerConfig):
    """LLM-based text quality and loop detection (openPangu §3.2) with a local causal LM.

    `perplexity`: exp of the mean negative log-likelihood of the caption's tokens (each given the
    ones before it, after the tokenizer's BOS or EOS token). `repetition`: the share of the
    caption's predicted tokens that repeat an earlier `repetition_ngram`-gram of the caption,
    weighted by the probability the model gives them: a model that has caught a loop predicts the
    repeats with confidence, so a looping caption scores near 1 and a normal one near 0. Rows above
    `max_perplexity` (`score.lm_perplexity`) or `max_repetition` (`score.lm_repetition`) are
    filtered. Captions are cut at `max_tokens` tokens."""

    model_path: str | None = None
    max_perplexity: float | None = Field(default=None, gt=1.0, le=1e9)
    max_repetition: float | None = Field(default=None, ge=0.0, le=1.0)
    repetition_thresholds: dict[str, float] = Field(default_factory=dict)
    repetition_ngram: int = Field(default=3, ge=1, le=16)
    max_tokens: int = Field(default=256, ge=8, le=8192)

    @model_validator(mode="after")
    def _model(self) -> "LmScorer":
        _check_model_dir(self.model_path, self.enabled, "lm")
        return self


class ScorersConfig(ConfigSection):
    """The scorers run in one Ray actor-pool stage after the filter rules: each actor loads the
    enabled models once and scores batches of `batch_size` rows (images decoded once per row and
    shared by the image scorers). `accelerator: gpu` asks Ray for `accelerators_per_actor` GPUs per
    actor (`num_gpus`), `npu` for that much of a custom `NPU` resource (start Ray with
    `--resources '{"NPU": 8}'`), `cpu` for `num_cpus` CPUs only."""

    nsfw: NsfwScorer = NsfwScorer()
    clip: ClipScorer = ClipScorer()
    lm: LmScorer = LmScorer()
    concurrency: int = Field(default=1, ge=1, le=10_000)
    batch_size: int = Field(default=16, ge=1, le=100_000)
    num_cpus: float = Field(default=1.0, gt=0.0, le=1024.0)
    accelerator: Literal["cpu", "gpu", "npu"] = "cpu"
    accelerators_per_actor: float = Field(default=1.0, gt=0.0, le=64.0)
    max_image_side: int = Field(default=448, ge=32, le=8192)  # decode at most this size (draft mode)

    @field_validator("accelerators_per_actor")
    @classmethod
    def _fraction(cls, v: float) -> float:
        if v > 1 and v != int(v):
            raise ValueError(f"accelerators_per_actor above 1 must be a whole number, got {v}")
        return v

    @property
    def any_enabled(self) -> bool:
        return self.nsfw.enabled or self.clip.enabled or self.lm.enabled
