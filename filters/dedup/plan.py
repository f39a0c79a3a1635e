"""What dedup looks at in a batch of WORK_SCHEMA rows, and the plan derived from the config.

`DedupPlan` fixes everything that depends on (config, job seed): the MinHash permutations and the
LSH shape. `caption_rows` picks the rows dedup considers (status "ok", copy 0, task in
`cfg.tasks`) and computes their caption, normalised caption, scope and keys.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from filters.dedup.caption_key import exact_keys, normalise_captions, scope_keys, string_keys
from filters.dedup.image_key import media_digest
from filters.dedup.minhash import MinHasher, lsh_params
from schemas.dedup_config import MAX_BANDS, DedupConfig
from schemas.sample import STATUS_OK

EXACT_BAND = MAX_BANDS + 4  # reserved band ids: the exact-text bucket and the image bucket
IMAGE_BAND = MAX_BANDS + 5


@dataclass(frozen=True)
class DedupPlan:
    cfg: DedupConfig
    bands: int
    rows: int
    hasher: MinHasher

    @classmethod
    def build(cls, cfg: DedupConfig, seed: int) -> "DedupPlan":
        perm_seed = cfg.seed if cfg.seed is not None else xxhash.xxh3_64_intdigest(f"dedup.minhash:{seed}".encode())
        if cfg.bands is not None:
            bands, rows = cfg.bands, cfg.rows
        else:
            bands, rows = lsh_params(cfg.threshold, cfg.num_perm, cfg.false_positive_weight,
                                     cfg.false_negative_weight, cfg.min_candidate_probability)
        return cls(cfg=cfg, bands=bands, rows=rows, hasher=MinHasher(cfg.num_perm, perm_seed))

    @property
    def caption_dedup(self) -> bool:
        return self.cfg.exact or self.cfg.near

    @property
    def active(self) -> bool:
        return self.cfg.enabled and (self.caption_dedup or self.cfg.image_exact)

    @property
    def needs_image_digest(self) -> bool:
        return self.cfg.key == "caption+image" or self.cfg.image_exact

    @property
    def buckets_per_caption(self) -> int:
        """Band rows emitted per considered caption, at most."""
        return (self.bands if self.cfg.near else int(self.cfg.exact)) + int(self.cfg.image_exact)


def eligible_mask(table: pa.Table, cfg: DedupConfig) -> np.ndarray:
    """Rows dedup considers: status ok, copy 0, task in cfg.tasks."""
    ok = pc.equal(table.column("status"), STATUS_OK)
    first_copy = pc.equal(pc.fill_null(table.column("copy"), 0), 0)
    task = pc.is_in(table.column("task"), value_set=pa.array(list(cfg.tasks), pa.string()))
    mask = pc.and_kleene(pc.and_kleene(ok, first_copy), task)
    return np.asarray(pc.fill_null(mask, False), dtype=bool)


def caption_texts(turns: pa.Array | pa.ChunkedArray) -> pa.Array:
    """`schemas.sample.assistant_text` of every row, vectorised: the assistant text segments of a
    row joined by newlines ("" when there are none)."""
    if isinstance(turns, pa.ChunkedArray):
        turns = turns.combine_chunks()
    n_rows = len(turns)
    turn_row = np.asarray(pc.list_parent_indices(turns))
    flat_turns = turns.flatten()
    segments = flat_turns.field("segments")
    seg_turn = np.asarray(pc.list_parent_indices(segments))
    flat_segs = segments.flatten()
    is_assistant = np.asarray(pc.fill_null(pc.equal(flat_turns.field("role"), "assistant"), False), dtype=bool)
    text = flat_segs.field("text")
    keep = (is_assistant[seg_turn]
            & np.asarray(pc.fill_null(pc.equal(flat_segs.field("kind"), "text"), False), dtype=bool)
            & np.asarray(pc.fill_null(pc.greater(pc.binary_length(text), 0), False), dtype=bool))
    kept = np.flatnonzero(keep)
    rows = turn_row[seg_turn[kept]]
    offsets = np.zeros(n_rows + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=offsets[1:])
    # segments come in row order already (flatten keeps order), so offsets index them directly
    parts = pa.ListArray.from_arrays(pa.array(offsets), text.take(pa.array(kept)))
    return pc.binary_join(parts, "\n")


@dataclass
class CaptionRows:
    """The considered rows of one batch, with everything dedup derives from them."""

    positions: np.ndarray  # row positions in the batch
    sample_id: list[str]
    source: list[str]
    caption: list[str]
    normalised: list[str]
    caption_len: np.ndarray  # int32, characters of the raw caption
    lang_score: np.ndarray  # float32, NaN when missing
    n_repairs: np.ndarray  # int32, repairs the clean step made (0 without a `repairs` column)
    lm_perplexity: np.ndarray  # float32, NaN when not scored
    image_digest: list[str | None]
    scope_key: np.ndarray  # uint64: scope (global or source) [+ image digest under caption+image]
    node: np.ndarray  # uint64 exact key; unique per row when the normalised caption is empty
    image_node: np.ndarray  # uint64 key of (scope, image digest); 0 without media

    @property
    def has_text(self) -> np.ndarray:
        return np.fromiter((bool(t) for t in self.normalised), dtype=bool, count=len(self.normalised))

    @property
    def has_image(self) -> np.ndarray:
        return np.fromiter((d is not None for d in self.image_digest), dtype=bool, count=len(self.image_digest))


def row_scopes(sources: list[str], cfg: DedupConfig) -> list[str]:
    return list(sources) if cfg.scope == "source" else [""] * len(sources)


def caption_rows(table: pa.Table, plan: DedupPlan, positions: np.ndarray | None = None) -> CaptionRows:
    """CaptionRows for the considered rows of `table` (or for `positions`, already chosen)."""
    cfg = plan.cfg
    if positions is None:
        positions = np.flatnonzero(eligible_mask(table, cfg))
    sub = table.take(pa.array(positions, pa.int64()))
    sample_id = sub.column("sample_id").to_pylist()
    source = sub.column("source").to_pylist()
    caption = caption_texts(sub.column("turns")).to_pylist()
    normalised = normalise_captions(caption)
    lang_score = (np.asarray(pc.fill_null(sub.column("lang_score"), np.nan), dtype=np.float32)
                  if "lang_score" in sub.column_names else np.full(len(positions), np.nan, dtype=np.float32))
    n_repairs = (np.asarray(pc.fill_null(pc.list_value_length(sub.column("repairs")), 0), dtype=np.int32)
                 if "repairs" in sub.column_names else np.zeros(len(positions), dtype=np.int32))
    lm_perplexity = (np.asarray(pc.fill_null(sub.column("lm_perplexity"), np.nan), dtype=np.float32)
                     if "lm_perplexity" in sub.column_names else np.full(len(positions), np.nan, dtype=np.float32))
    if plan.needs_image_digest:
        digests = [media_digest(s, m) for s, m in zip(sample_id, sub.column("media").to_pylist())]
    else:
        digests = [None] * len(positions)
    scopes = row_scopes(source, cfg)
    scope_key = scope_keys(scopes, digests if cfg.key == "caption+image" else None)
    node = exact_keys(normalised, scope_key)
    empty = np.fromiter((not t for t in normalised), dtype=bool, count=len(normalised))
    if empty.any():
        node[empty] = string_keys([s for s, e in zip(sample_id, empty) if e], seed=0x656D707479)
    image_node = scope_keys(scopes, digests)
    image_node[[d is None for d in digests]] = 0
    return CaptionRows(positions=positions, sample_id=sample_id, source=source, caption=caption,
                       normalised=normalised,
                       caption_len=np.fromiter(map(len, caption), dtype=np.int32, count=len(caption)),
                       lang_score=lang_score, n_repairs=n_repairs, lm_perplexity=lm_perplexity,
                       image_digest=digests, scope_key=scope_key, node=node,
                       image_node=image_node)
