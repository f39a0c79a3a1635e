"""The output contract between the packer and the trainer (DESIGN.md, "Output directory").

OUT/manifest.json                       `Manifest`, written last: its presence commits the output
OUT/index/packs/part-PPPPP.parquet      `PACKS_SCHEMA`, one row per pack (a partitioned dataset)
OUT/index/ledger/part-PPPPP.parquet     `LEDGER_SCHEMA`, one row per input sample copy
OUT/shards/rank-RRRRR/shard-SSSSSS.tar

Each index is a Parquet dataset of parts, each written by the task that owns its rows and listed
in the manifest with its sha256, bytes and rows (`IndexPart`); `read_index` reads one, checking
every part. Outputs of format 1 had one file per index (`index/packs.parquet`,
`index/ledger.parquet`, listed in `Manifest.indexes`); `read_index` reads those too.

In a shard, one pack is one webdataset sample: KEY.json (`PackLayout`), KEY.tokens.npy,
KEY.labels.npy and KEY.<i>.<ext> for the pack's media in order.
"""

from __future__ import annotations

import hashlib
import os
from enum import Enum

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from schemas.sample import WORK_FIELDS

MANIFEST_NAME = "manifest.json"
JOB_CONFIG_NAME = "job.yaml"
PACKS_PATH = "index/packs.parquet"  # format 1 only
LEDGER_PATH = "index/ledger.parquet"  # format 1 only
INDEX_DIRS = {"packs": "index/packs", "ledger": "index/ledger"}
STATS_PATH = "report/stats.json"
FORMAT_VERSION = 2


def index_part_path(kind: str, part: int) -> str:
    """The relative path of one part of an index (`kind`: "packs" or "ledger")."""
    return f"{INDEX_DIRS[kind]}/part-{part:05d}.parquet"


class Status(str, Enum):
    packed = "packed"
    filtered = "filtered"
    invalid = "invalid"
    duplicate = "duplicate"
    too_long = "too_long"
    remainder = "remainder"


# The per-sample facts the stages record (dup_of, lang, lang_score, text/vision/loss/total tokens,
# vit_patches, n_images), in the work table's order.
SAMPLE_FACTS = [(n, t) for n, t in WORK_FIELDS if n not in ("copy", "status", "reason")]

LEDGER_SCHEMA = pa.schema(
    [
        ("sample_id", pa.string()),
        ("copy", pa.int32()),
        ("source", pa.string()),
        ("task", pa.string()),
        ("status", pa.string()),
        ("reason", pa.string()),
        ("pack_id", pa.int64()),
        *SAMPLE_FACTS,
    ]
)

PACKS_SCHEMA = pa.schema(
    [
        ("pack_id", pa.int64()),
        ("step", pa.int64()),
        ("rank", pa.int32()),
        ("micro", pa.int32()),
        ("shard", pa.string()),
        ("key", pa.string()),
        ("n_samples", pa.int32()),
        ("n_images", pa.int32()),
        ("real_tokens", pa.int32()),
        ("seq_len", pa.int32()),
        ("vit_patches", pa.int32()),
        ("vit_bucket", pa.int32()),
        ("loss_tokens", pa.int32()),
        ("attn_cost", pa.float64()),
        ("vit_cost", pa.float64()),
        ("is_filler", pa.bool_()),
        ("cost", pa.float64()),  # total compute under the config's cost model (what step assembly balances)
        ("repeat_of", pa.int64()),  # remainder="repeat": the pack this one repeats, else -1
    ]
)


class ShardEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str  # relative to the output directory
    rank: int
    sha256: str
    bytes: int
    n_packs: int


class IndexPart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str  # relative to the output directory
    sha256: str
    bytes: int
    rows: int


class Manifest(BaseModel):
    """The commit marker. Readers trust only what it lists."""

    model_config = ConfigDict(extra="forbid")

    format_version: int = FORMAT_VERSION
    vlpack_version: str
    config_fingerprint: str
    # What the output is made from (`jobs.inputs`): the source files' fingerprint, and the job's,
    # which hashes the config's and the inputs' together. Empty in outputs of vlpack 0.1.
    input_fingerprint: str = ""
    job_fingerprint: str = ""
    n_input_files: int = 0
    input_bytes: int = 0
    seed: int
    dp_size: int
    micro_batch: int
    grad_accum: int
    context_length: int
    n_steps: int
    n_packs: int
    n_samples_packed: int
    n_input_rows: int
    shards: list[ShardEntry]
    # the parts of each index ("packs", "ledger"), in part order
    index_parts: dict[str, list[IndexPart]] = Field(default_factory=dict)
    indexes: dict[str, str] = Field(default_factory=dict)  # format 1: relative path -> sha256
    tokenizer: str
    special_tokens: dict[str, int] = Field(default_factory=dict)


class ImageLayout(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sample: int  # index into PackLayout.samples
    member: str  # tar member suffix, e.g. "0.jpg"
    kind: str = "image"  # image | video
    offset: int  # first pad token position in the pack
    tokens: int  # number of pad tokens
    grid_thw: tuple[int, int, int]  # in ViT patches (t, h/14, w/14)
    target_size: tuple[int, int]  # (width, height) the trainer resizes to, after EXIF transpose
    frames: list[int] | None = None  # for video: sampled frame indices
    fps: float | None = None  # for video: sampled frames per second of video time (frames / duration)


class SampleLayout(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    copy_index: int = 0
    source: str
    task: str
    offset: int
    length: int
    loss_tokens: int


class PackLayout(BaseModel):
    """KEY.json in a shard."""

    model_config = ConfigDict(extra="forbid")

    pack_id: int
    step: int
    rank: int
    micro: int
    seq_len: int
    real_tokens: int
    samples: list[SampleLayout]
    images: list[ImageLayout] = Field(default_factory=list)


def shard_name(rank: int, index: int) -> str:
    return f"shards/rank-{rank:05d}/shard-{index:06d}.tar"


def pack_key(pack_id: int) -> str:
    return f"pack-{pack_id:09d}"


class IndexPartError(ValueError):
    """An index part that is missing or does not match the manifest; the message names it."""


def index_files(manifest: Manifest, kind: str) -> list[tuple[str, str]]:
    """(relative path, sha256) of every file of one index, in order, for either format."""
    if manifest.index_parts:
        return [(p.path, p.sha256) for p in manifest.index_parts.get(kind, [])]
    legacy = {"packs": PACKS_PATH, "ledger": LEDGER_PATH}[kind]
    return [(legacy, manifest.indexes[legacy])] if legacy in manifest.indexes else []


def read_index(out_dir, manifest: Manifest, kind: str, columns: list[str] | None = None,
               verify: bool = True):
    """One index of a committed output as a single pyarrow Table (parts in order), each part
    checked against its sha256 in the manifest (`verify`). Raises `IndexPartError` naming the part."""
    from pathlib import Path

    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = PACKS_SCHEMA if kind == "packs" else LEDGER_SCHEMA
    tables = []
    for rel, digest in index_files(manifest, kind):
        path = Path(out_dir) / rel
        try:
            data = path.read_bytes()
        except OSError as err:
            raise _unreadable(rel, err) from None
        if verify and hashlib.sha256(data).hexdigest() != digest:
            raise _changed(rel)
        table = pq.read_table(pa.BufferReader(data), columns=columns)
        tables.append(table)
    if not tables:
        names = columns or schema.names
        return pa.schema([schema.field(n) for n in names]).empty_table()
    return pa.concat_tables(tables, promote_options="permissive")


def _unreadable(rel: str, err: OSError) -> IndexPartError:
    return IndexPartError(f"{rel}: cannot be read ({err.strerror}); the output is incomplete: re-run the job")


def _changed(rel: str) -> IndexPartError:
    return IndexPartError(f"{rel}: sha256 does not match the manifest; the output was changed after it was "
                          f"committed: re-run the job to rebuild it")


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """The sha256 (hex) of a file, read in chunks (never held whole): what a manifest records of
    every file it names. Shared by the writer (`packer.shards`), the checkpoints, `verify_index`
    and the trainer bridge."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def verify_index(out_dir, manifest: Manifest, chunk: int = 1 << 22) -> None:
    """Check every part of both indexes (packs, ledger) of a committed output against its sha256 in
    the manifest, reading each in chunks (a part is never held whole). Raises `IndexPartError`
    naming the first part that is missing or changed."""
    from pathlib import Path

    for kind in ("packs", "ledger"):
        for rel, digest in index_files(manifest, kind):
            try:
                got = file_sha256(Path(out_dir) / rel, chunk)
            except OSError as err:
                raise _unreadable(rel, err) from None
            if got != digest:
                raise _changed(rel)


def load_index(out_dir, kind: str, columns: list[str] | None = None, verify: bool = True):
    """`read_index` of a committed output, from its manifest on disk. `kind`: "packs" or "ledger"."""
    from pathlib import Path

    path = Path(out_dir) / MANIFEST_NAME
    if not path.exists():
        raise IndexPartError(f"{out_dir} has no {MANIFEST_NAME}: it is not a committed vlpack output")
    return read_index(out_dir, Manifest.model_validate_json(path.read_text()), kind, columns=columns, verify=verify)
