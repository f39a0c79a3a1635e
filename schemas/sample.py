"""The canonical sample record: one training example with its conversation and media.

Every reader maps its source format onto this record, and every later stage reads and
annotates the matching Arrow table (`SAMPLE_SCHEMA` plus the stage columns in
`WORK_SCHEMA`). The pydantic models are the readable, validated form; the Arrow schema is
the columnar form that flows through the pipeline. `records_to_table` / `table_to_records`
convert between them without loss.
"""

from __future__ import annotations

from enum import Enum
from typing import Literal

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field


class Task(str, Enum):
    """The tasks the stages know. A job may declare more under `tasks:` (`schemas.config.TaskSpec`);
    any other task name, in the config or in a row, is an error, never a silent default."""

    caption = "caption"
    vqa = "vqa"
    grounding = "grounding"
    ocr = "ocr"
    video = "video"
    video_temporal = "video_temporal"  # timed video tasks: frames at the constant temporal fps
    temporal_grounding = "temporal_grounding"
    text = "text"
    other = "other"


BUILTIN_TASKS = tuple(t.value for t in Task)


Role = Literal["system", "user", "assistant"]
SegmentKind = Literal["text", "image", "video"]
MediaKind = Literal["image", "video"]


class Media(BaseModel):
    """One image or video referenced by a sample.

    `width`/`height` are the upright (displayed) size, after EXIF orientation has been applied;
    `orientation` records the EXIF tag for information. `uri` is an absolute local path once a
    reader has resolved it; for video it may be a file or a directory of frame images.
    """

    model_config = ConfigDict(extra="forbid")

    uri: str
    kind: MediaKind = "image"
    width: int | None = None
    height: int | None = None
    orientation: int | None = Field(default=None, description="EXIF orientation 1-8; 5-8 swap width/height")
    format: str | None = None
    bytes_size: int | None = None
    fps: float | None = None
    frames: int | None = None
    duration: float | None = None


class Segment(BaseModel):
    """A piece of a turn: text, or a reference (by index into `Sample.media`) to an image or video."""

    model_config = ConfigDict(extra="forbid")

    kind: SegmentKind = "text"
    text: str | None = None
    media: int | None = None


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    segments: list[Segment]


class Sample(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sample_id: str
    source: str
    task: str = Task.caption.value
    turns: list[Turn]
    media: list[Media] = Field(default_factory=list)


MEDIA_TYPE = pa.struct(
    [
        ("uri", pa.string()),
        ("kind", pa.string()),
        ("width", pa.int32()),
        ("height", pa.int32()),
        ("orientation", pa.int8()),
        ("format", pa.string()),
        ("bytes_size", pa.int64()),
        ("fps", pa.float32()),
        ("frames", pa.int32()),
        ("duration", pa.float32()),
    ]
)
SEGMENT_TYPE = pa.struct([("kind", pa.string()), ("text", pa.string()), ("media", pa.int32())])
TURN_TYPE = pa.struct([("role", pa.string()), ("segments", pa.list_(SEGMENT_TYPE))])

SAMPLE_SCHEMA = pa.schema(
    [
        ("sample_id", pa.string()),
        ("source", pa.string()),
        ("task", pa.string()),
        ("turns", pa.list_(TURN_TYPE)),
        ("media", pa.list_(MEDIA_TYPE)),
    ]
)

# Columns the pipeline adds to each row. `status` is "ok" until a stage marks the row; a marked
# row keeps flowing (so the ledger sees it) but later stages skip it.
WORK_FIELDS = [
    ("copy", pa.int32()),  # 0 for the original, 1.. for upsampled copies
    ("status", pa.string()),
    ("reason", pa.string()),
    # What the reason is about, where the row alone does not say: the media file a probe failed on.
    ("detail", pa.string()),
    ("dup_of", pa.string()),
    ("lang", pa.string()),
    ("lang_score", pa.float32()),
    ("text_tokens", pa.int32()),
    ("vision_tokens", pa.int32()),
    ("loss_tokens", pa.int32()),
    ("total_tokens", pa.int32()),
    ("vit_patches", pa.int32()),
    ("n_images", pa.int32()),
    # What a stage changed in the sample, as `stage.code`s (e.g. `probe.metadata_size_mismatch`:
    # the header's size replaced the metadata's; `clean.html`: the filter's clean step stripped
    # markup from the text); null when nothing was changed.
    ("repairs", pa.list_(pa.string())),
    ("nsfw_score", pa.float32()),  # optional model-based scores (filters.scorers); null when not scored
    ("clip_score", pa.float32()),
    ("lm_perplexity", pa.float32()),
    ("lm_repetition", pa.float32()),
    # The learned junk score (`filters.junk_model`) of the rows that reached that rule, the last text
    # rule: the rows it kept or rejected; null on the others and when the rule is off.
    ("junk_score", pa.float32()),
]
WORK_SCHEMA = pa.schema(list(SAMPLE_SCHEMA) + [pa.field(n, t) for n, t in WORK_FIELDS])
# Added to the rows by the token stage: each counted sample as rendered, in a compact form
# (`packer.chat.expand_rendered`), so that the shard writer does not render it again.
RENDERED_FIELD = pa.field("rendered", pa.binary())

STATUS_OK = "ok"


def records_to_table(samples: list[Sample]) -> pa.Table:
    """Canonical pydantic samples -> an Arrow table with `SAMPLE_SCHEMA`."""
    rows = [s.model_dump() for s in samples]
    return pa.Table.from_pylist(rows, schema=SAMPLE_SCHEMA)


def table_to_records(table: pa.Table) -> list[Sample]:
    cols = [n for n in SAMPLE_SCHEMA.names]
    return [Sample.model_validate({k: row[k] for k in cols}) for row in table.select(cols).to_pylist()]


def with_work_columns(table: pa.Table) -> pa.Table:
    """Add the stage columns (all null, status "ok", copy 0) to a canonical table."""
    n = table.num_rows
    for name, typ in WORK_FIELDS:
        if name in table.column_names:
            continue
        if name == "status":
            col = pa.array([STATUS_OK] * n, typ)
        elif name == "copy":
            col = pa.array([0] * n, typ)
        else:
            col = pa.nulls(n, typ)
        table = table.append_column(pa.field(name, typ), col)
    return table.select(WORK_SCHEMA.names).cast(WORK_SCHEMA)


def assistant_text(turns: list[dict] | None) -> str:
    """The supervised text of a sample (all assistant text segments), as filters and dedup see it."""
    parts: list[str] = []
    for turn in turns or []:
        if turn["role"] != "assistant":
            continue
        for seg in turn["segments"] or []:
            if seg["kind"] == "text" and seg["text"]:
                parts.append(seg["text"])
    return "\n".join(parts)


def assistant_text_column(table: pa.Table) -> pa.Array:
    """`assistant_text` over a whole table, as a string array aligned with its rows."""
    return pa.array([assistant_text(t) for t in table.column("turns").to_pylist()], pa.string())
