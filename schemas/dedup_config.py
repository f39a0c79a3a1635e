"""Config for exact and near-duplicate caption removal.

Exact dedup compares normalised captions (NFKC, lowercase, punctuation stripped, whitespace
collapsed). Near dedup compares MinHash signatures over character n-grams of the normalised
caption; LSH bands × rows are derived from `threshold` and the two error weights (the maths of
datasketch's `_optimal_param`), among the shapes under which a pair at exactly J = threshold is a
candidate with probability at least `min_candidate_probability`, unless `bands` and `rows` are
given. Every candidate pair is verified by its exact n-gram Jaccard, so false positives cost time,
not quality. The defaults give 13 bands × 7 rows at threshold 0.8: a pair at J = 0.80 is a
candidate with probability 0.953 (the unconstrained optimum, 14 × 9, found it 87% of the time),
and only 91 of the 128 permutations are computed.

Within a cluster the representative kept is the cleanest copy, not the longest (see
`filters.dedup.clusters.quality_order`).

`scope: source` dedups within each source only. `key: caption+image` makes the image content
(a hash of the media bytes) part of the key: captions are exact or near duplicates only when
their images are byte-identical too. `image_exact` additionally marks rows whose media bytes equal
another row's, whatever their captions (reason `dedup.image`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from schemas.config_base import ConfigSection

MAX_BANDS = 250  # band ids above this are reserved for the exact and image buckets


class DedupConfig(ConfigSection):
    enabled: bool = True
    exact: bool = True
    near: bool = True
    threshold: float = Field(default=0.8, gt=0.0, le=1.0)
    ngram: int = Field(default=5, ge=1, le=32)
    num_perm: int = Field(default=128, ge=8, le=1024)
    scope: Literal["global", "source"] = "global"
    key: Literal["caption", "caption+image"] = "caption"
    image_exact: bool = False
    tasks: tuple[str, ...] = ("caption",)
    # Seed of the MinHash permutations; None: derived from the job seed.
    seed: int | None = Field(default=None, ge=0, le=2**63 - 1)
    # Weights of the false-positive / false-negative areas when choosing bands × rows.
    false_positive_weight: float = Field(default=0.1, ge=0.0, le=1.0)
    false_negative_weight: float = Field(default=0.9, ge=0.0, le=1.0)
    # Smallest candidate probability of a pair at exactly J = threshold when choosing bands × rows.
    min_candidate_probability: float = Field(default=0.95, ge=0.0, lt=1.0)
    # Explicit LSH shape; both or neither.
    bands: int | None = Field(default=None, ge=1, le=MAX_BANDS)
    rows: int | None = Field(default=None, ge=1, le=1024)

    @model_validator(mode="after")
    def _lsh_shape(self) -> "DedupConfig":
        if (self.bands is None) != (self.rows is None):
            raise ValueError(f"bands ({self.bands}) and rows ({self.rows}) must be given together or not at all")
        if self.bands is not None and self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands × rows = {self.bands} × {self.rows} = {self.bands * self.rows} must be "
                             f"<= num_perm ({self.num_perm})")
        if self.false_positive_weight + self.false_negative_weight <= 0.0:
            raise ValueError("false_positive_weight + false_negative_weight must be > 0, got "
                             f"{self.false_positive_weight} + {self.false_negative_weight}")
        return self
