"""Readers: each maps one source file onto canonical rows (`schemas.sample.WORK_SCHEMA`).

`docs/input-formats.md` documents every accepted form with a field table and an example row.

Formats
- ``jsonl`` / ``parquet``: one sample per row, in any of the row forms below, told apart by
  their keys (`row_form`):
  - full: ``{"id", "task"?, "turns": [{"role", "segments": [{"kind", "text"?, "media"?}]}],
    "media": [...]}``;
  - short: ``{"id", "image" | "images"?, "caption" | "text"}`` (a caption; with no image a
    text-only row) or ``{"id", "image" | "images"?, "prompt" | "question", "answer"}`` (a
    question and its answer: VQA, grounding, OCR). Tasks in `PROMPT_TASKS` need the prompt;
  - conversation: LLaVA ``{"conversations": [{"from", "value"}]}`` or ShareGPT/OpenAI style
    ``{"messages": [{"role", "content"}]}``, with ``<image>`` / ``<video>`` placeholders.
- ``llava``: a JSON list of conversation rows, or a JSONL file of them (``.jsonl``); image
  paths are relative to the source root.
- ``wds``: img2dataset-style tars, ``key.jpg`` + ``key.txt`` and/or ``key.json`` (caption,
  width, height). Media stay inside the tar and are addressed by offset (`packer.media`).

A record larger than the limits of `schemas.config.ReadConfig` (a JSONL line, a Parquet cell, a
caption or JSON member of a tar) becomes a ``read.line_too_large`` / ``read.cell_too_large`` row
and is read no further than the limit, so one hostile record cannot exhaust a worker's memory.

A row that cannot be read becomes a row with status ``invalid`` and a ``read.*`` reason, never an
exception: every input sample is accounted for, and every row of one file has its own
``sample_id`` (a repeated id within a file keeps its first row; later ones become
``read.duplicate_id`` rows keyed by their position). A file that cannot be opened at all raises
`SourceFileError` naming the file. Media paths that escape the source root (``..``, absolute
paths elsewhere, symlinks pointing outside) are rejected. The catalogue of bad inputs and what
happens to each is `docs/bad-inputs.md`.
"""

from __future__ import annotations

import functools
import glob
import json
import math
import os
import re
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from packer.media import tar_member_uri
from schemas.config import ReadConfig, SourceConfig
from schemas.sample import STATUS_OK, WORK_SCHEMA

IMAGE_EXTS = {"jpg", "jpeg", "png", "webp", "gif", "bmp", "tif", "tiff"}
VIDEO_EXTS = {"mp4", "webm", "mkv", "avi", "mov"}
SOURCE_FILE_EXTS = {"jsonl": (".jsonl",), "parquet": (".parquet",), "llava": (".json", ".jsonl"), "wds": (".tar",)}
DEFAULT_LIMITS = ReadConfig()
IMAGE_PLACEHOLDER = "<image>"
VIDEO_PLACEHOLDER = "<video>"
LLAVA_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "system": "system"}
MEDIA_KINDS = ("image", "video")
# Tasks whose short rows must carry the question: their answer means nothing without it (a box
# answer after a caption prompt teaches the wrong thing).
PROMPT_TASKS = frozenset({"vqa", "grounding"})
PROMPT_KEYS = ("prompt", "question")
ANSWER_KEYS = ("answer", "caption", "text")
CONVERSATION_KEYS = ("conversations", "messages")
ACCEPTED_FORMS = (
    "accepted row forms: full {id, task?, media, turns: [{role, segments}]}; "
    "short {id, image|images?, caption|text} or {id, image|images?, prompt|question, answer}; "
    "LLaVA {id, image?, conversations: [{from, value}]}; ShareGPT {id, images?, messages: [{role, content}]}"
    " (docs/input-formats.md)"
)
# What to do about a row rejected with a `read.*` code that means "this is not a form we read".
REASON_HINTS = {
    "read.unknown_form": ACCEPTED_FORMS,
    "read.missing_text": "a caption row needs `caption` or `text`; a wds sample needs key.txt or a caption "
                         "in key.json; " + ACCEPTED_FORMS,
    "read.missing_answer": "a row with `prompt`/`question` needs its `answer`; " + ACCEPTED_FORMS,
    "read.missing_prompt": f"short rows of tasks {sorted(PROMPT_TASKS)} need `prompt` (or `question`) and "
                           "`answer`; without them the answer would follow a caption prompt",
    "read.empty_conversation": "`conversations` (LLaVA) or `messages` (ShareGPT) must be a non-empty list",
}
# A JSON escape of a UTF-16 surrogate; only these can decode to a string that is not valid Unicode.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
# What `json.loads` raises on bad input besides JSONDecodeError: integers over Python's digit
# limit (ValueError) and nesting deeper than the interpreter's recursion limit.
_JSON_ERRORS = (ValueError, RecursionError)


class SourceFileError(OSError):
    """A source file that cannot be read at all; the message names the file."""


class RowError(ValueError):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def list_source_files(source: SourceConfig) -> list[str]:
    """The files of one source, sorted, so reading order never depends on the file system."""
    exts = SOURCE_FILE_EXTS[source.format]
    p = Path(source.path)
    if p.is_file():
        return [str(p)]
    if p.is_dir():
        files = [str(f) for f in p.rglob("*") if f.is_file() and f.name.endswith(exts)]
    else:
        files = [f for f in glob.glob(source.path, recursive=True) if os.path.isfile(f)]
    if not files:
        if not p.exists() and not glob.has_magic(source.path):
            raise SourceFileError(f"source {source.name!r}: {source.path} does not exist")
        raise SourceFileError(f"source {source.name!r}: no {'/'.join(exts)} files at {source.path}")
    for f in files:
        if not _encodable(f):
            raise SourceFileError(f"source {source.name!r}: file name {f!r} is not valid UTF-8; rename it")
    return sorted(files)


def check_parquet_container(path: str, source: SourceConfig) -> None:
    """A file that is not Parquet at all (a JSON or CSV file named .parquet, a truncated copy) is
    refused by name before Ray starts: a Parquet file begins and ends with `PAR1`. Only those eight
    bytes are read; what is inside is the reader's to judge."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            head = fh.read(4)
            fh.seek(max(0, size - 4))
            tail = fh.read(4)
    except OSError as err:
        raise SourceFileError(f"source {source.name!r}: cannot read {path}: {err.strerror or err}") from None
    if size < 12 or head != b"PAR1" or tail != b"PAR1":
        raise SourceFileError(f"source {source.name!r}: cannot read parquet {path}: not a Parquet file (it does not "
                              f"begin and end with PAR1)")


def relative_name(path: str, source: SourceConfig) -> str:
    """`path` relative to the source: its base name for a one-file source, else its path under the
    source directory (or under the fixed part of a glob), with '/' separators."""
    p = Path(source.path)
    if p.is_file():
        return os.path.basename(path)
    base = source.path
    if not p.is_dir():
        fixed = []
        for part in Path(source.path).parts:
            if glob.has_magic(part):
                break
            fixed.append(part)
        base = str(Path(*fixed)) if fixed else "."
    rel = os.path.relpath(path, base)
    return rel.replace(os.sep, "/")


def source_root(source: SourceConfig) -> str:
    if source.root:
        return os.path.realpath(source.root)
    p = Path(source.path)
    return os.path.realpath(p if p.is_dir() else p.parent)


@functools.lru_cache(maxsize=16384)
def _real_dir(path: str) -> str:
    return os.path.realpath(path)


def _realpath(path: str) -> str:
    """`os.path.realpath(path)`, with the directory part resolved once per directory: realpath
    resolves a path's components in order, so realpath(d/b) == realpath(realpath(d)/b), and when
    b is a plain name that is not a symlink, that is realpath(d)/b (one lstat instead of one per
    component)."""
    head, base = os.path.split(path)
    if base in ("", ".", "..") or not head:
        return os.path.realpath(path)
    candidate = os.path.join(_real_dir(head), base)
    return os.path.realpath(candidate) if os.path.islink(candidate) else candidate


def resolve_media_path(root: str, rel: str) -> str:
    """The absolute, symlink-resolved path of `rel` under `root`; raises RowError if it escapes."""
    if not isinstance(rel, str) or not rel or "\x00" in rel or not _encodable(rel):
        raise RowError("read.bad_media_path", repr(rel))
    candidate = _realpath(os.path.join(root, rel))
    if candidate != root and not candidate.startswith(root.rstrip(os.sep) + os.sep):
        raise RowError("read.path_escapes_root", f"{rel!r} resolves outside {root}")
    if not _encodable(candidate):  # a symlink inside the root pointing at a non-UTF-8 name
        raise RowError("read.bad_media_path", repr(rel))
    return candidate


def _encodable(text: str) -> bool:
    """True if `text` is valid Unicode (no lone surrogates), so Arrow can store it as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _printable_name(text: str) -> str:
    """A UTF-8-safe rendering of a name that may hold undecodable bytes (as surrogates)."""
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "backslashreplace")


def _has_lone_surrogate(value: Any) -> bool:
    """True if any string (or object key) inside a decoded JSON value is not valid Unicode."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if not _encodable(v):
                return True
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return False


def _media_kind(name: str, default: str = "image") -> str:
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext in VIDEO_EXTS:
        return "video"
    if ext in IMAGE_EXTS:
        return "image"
    return default


def _positive_int(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
        isinstance(value, float) and not math.isfinite(value)
    ):
        raise RowError("read.bad_metadata", f"{field}={value!r}")
    if value <= 0 or value != int(value) or value > 2**31 - 1:
        raise RowError("read.bad_metadata", f"{field}={value!r}")
    return int(value)


def _positive_float(value: Any, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise RowError("read.bad_metadata", f"{field}={value!r}")
    return float(value)


def make_media(uri: str, entry: dict | None = None, kind: str | None = None) -> dict:
    entry = entry or {}
    kind = kind or entry.get("kind") or _media_kind(uri)
    if kind not in MEDIA_KINDS:
        raise RowError("read.bad_media", f"kind={kind!r}")
    orientation = entry.get("orientation")
    if isinstance(orientation, bool) or not isinstance(orientation, int) or not 1 <= orientation <= 8:
        orientation = None  # unknown: the probe reads it from the header when it reads the size
    return {
        "uri": uri,
        "kind": kind,
        "width": _positive_int(entry.get("width"), "width"),
        "height": _positive_int(entry.get("height"), "height"),
        "orientation": orientation,
        "format": entry.get("format") if isinstance(entry.get("format"), str) else None,
        "bytes_size": _positive_int(entry.get("bytes_size"), "bytes_size"),
        "fps": _positive_float(entry.get("fps"), "fps"),
        "frames": _positive_int(entry.get("frames"), "frames"),
        "duration": _positive_float(entry.get("duration"), "duration"),
    }


def _text_seg(text: str) -> dict:
    return {"kind": "text", "text": text, "media": None}


def _media_seg(kind: str, index: int) -> dict:
    return {"kind": kind, "text": None, "media": index}


def row(sample_id: str, source: str, task: str, turns: list, media: list, *, status=STATUS_OK, reason=None) -> dict:
    return {
        "sample_id": sample_id,
        "source": source,
        "task": task,
        "turns": turns,
        "media": media,
        "copy": 0,
        "status": status,
        "reason": reason,
    }


def bad_row(sample_id: str, source: SourceConfig, reason: str) -> dict:
    return row(sample_id, source.name, source.task, [], [], status="invalid", reason=reason)


def to_table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=WORK_SCHEMA)


def _sample_key(obj: Any, fallback: str) -> str:
    key = obj.get("id", obj.get("sample_id")) if isinstance(obj, dict) else None
    if isinstance(key, (str, int)) and not isinstance(key, bool) and str(key).strip() and _encodable(str(key)):
        return str(key)
    return fallback


def _list_field(value: Any, reason: str, field: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise RowError(reason, f"{field} must be a list, got {type(value).__name__}")
    return value


def unique_rows(rows: list[dict], positions: list[str], source: SourceConfig) -> list[dict]:
    """Every row of one file with its own sample_id: the first row with an id keeps it; a later
    one becomes an `invalid` row `read.duplicate_id`, keyed by its position in the file."""
    seen: set[str] = set()
    out = []
    for r, pos in zip(rows, positions):
        sid = r["sample_id"]
        if sid in seen:
            base = sid = f"{source.name}/{pos}"
            n = 1
            while sid in seen:
                n += 1
                sid = f"{base}#{n}"
            r = bad_row(sid, source, "read.duplicate_id")
        seen.add(sid)
        out.append(r)
    return out


def _conversation_checks(turns: list[dict]) -> None:
    if not turns:
        raise RowError("read.empty_conversation", "no turns")
    if not any(t["role"] == "assistant" for t in turns):
        raise RowError("read.no_assistant_turn", "conversation has no assistant turn")


def _check_text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise RowError("read.bad_text", f"{field} is {type(value).__name__}, not a string")
    return value


# ---- canonical -------------------------------------------------------------------------------


def canonical_row(obj: Any, source: SourceConfig, root: str, key: str) -> dict:
    if not isinstance(obj, dict):
        raise RowError("read.not_an_object", type(obj).__name__)
    sid = f"{source.name}/{key}"
    task = obj.get("task") or source.task
    if not isinstance(task, str):
        raise RowError("read.bad_task", repr(task))
    if "turns" in obj:
        media = []
        for i, m in enumerate(_list_field(obj.get("media"), "read.bad_media", "media")):
            if not isinstance(m, dict) or not isinstance(m.get("uri"), str):
                raise RowError("read.bad_media", f"media[{i}]")
            media.append(make_media(resolve_media_path(root, m["uri"]), m))
        turns = []
        for t in _list_field(obj["turns"], "read.bad_turn", "turns"):
            if not isinstance(t, dict) or not isinstance(t.get("role"), str) or t["role"] not in ("system", "user", "assistant"):
                raise RowError("read.bad_turn", repr(t)[:80])
            segs = []
            for s in _list_field(t.get("segments"), "read.bad_segment", "segments"):
                kind = s.get("kind", "text") if isinstance(s, dict) else None
                index = s.get("media") if isinstance(s, dict) else None
                if kind == "text":
                    segs.append(_text_seg(_check_text(s.get("text"), "segment.text")))
                elif kind in MEDIA_KINDS and isinstance(index, int) and not isinstance(index, bool):
                    if not 0 <= index < len(media):
                        raise RowError("read.bad_media_index", f"segment refers to media {index}")
                    segs.append(_media_seg(kind, index))
                else:
                    raise RowError("read.bad_segment", repr(s)[:80])
            turns.append({"role": t["role"], "segments": segs})
        _conversation_checks(turns)
        return row(sid, source.name, task, turns, media)
    if any(k in obj for k in CONVERSATION_KEYS):
        return conversation_row(obj, source, root, key)
    return short_row(obj, source, root, key, task)


def row_form(obj: Any) -> str:
    """Which accepted form a parsed row is read as: "full", "conversation", "short" or "unknown"."""
    if not isinstance(obj, dict):
        return "unknown"
    if "turns" in obj:
        return "full"
    if any(k in obj for k in CONVERSATION_KEYS):
        return "conversation"
    if any(k in obj for k in PROMPT_KEYS + ANSWER_KEYS):
        return "short"
    return "unknown"


def _first_present(obj: dict, keys: tuple[str, ...]) -> tuple[str | None, Any]:
    for k in keys:
        if obj.get(k) is not None:
            return k, obj[k]
    return None, None


def short_row(obj: dict, source: SourceConfig, root: str, key: str, task: str) -> dict:
    """`{image(s)?, caption|text}` (a caption, or text only) or `{image(s)?, prompt|question, answer}`."""
    sid = f"{source.name}/{key}"
    if row_form(obj) == "unknown" and "image" not in obj and "images" not in obj:
        raise RowError("read.unknown_form", f"keys {sorted(obj)[:8]}")
    images = obj.get("images", obj.get("image"))
    if images is None:
        images = []
    if isinstance(images, str):
        images = [images]
    if not isinstance(images, list) or not all(isinstance(i, str) for i in images):
        raise RowError("read.bad_media", "image(s) must be a path or a list of paths")
    prompt_key, prompt = _first_present(obj, PROMPT_KEYS)
    answer_key, answer = _first_present(obj, ANSWER_KEYS)
    if answer is None:
        raise RowError("read.missing_answer" if prompt is not None else "read.missing_text",
                       f"no {'/'.join(ANSWER_KEYS)} field")
    answer = _check_text(answer, answer_key)
    if prompt is None and task in PROMPT_TASKS:
        raise RowError("read.missing_prompt", f"task {task!r} needs {' or '.join(PROMPT_KEYS)}")
    meta = {k: obj.get(k) for k in ("width", "height", "orientation", "bytes_size", "fps", "frames", "duration")}
    media = [make_media(resolve_media_path(root, p), meta if len(images) == 1 else None) for p in images]
    if not media and task == "caption":
        task = "text"
    turns = [{"role": "assistant", "segments": [_text_seg(answer)]}]
    if prompt is not None:
        turns.insert(0, {"role": "user", "segments": [_text_seg(_check_text(prompt, prompt_key))]})
    return row(sid, source.name, task, turns, media)


def _bounded_lines(fh, limit: int):
    """(line number, bytes) per line of a binary file, or (line number, None) for a line of more
    than `limit` bytes (newline excluded), which is skipped without being held in memory."""
    lineno = 0
    while raw := fh.readline(limit + 1):
        lineno += 1
        if len(raw) > limit and not raw.endswith(b"\n"):
            while (rest := fh.readline(1 << 20)) and not rest.endswith(b"\n"):
                pass
            yield lineno, None
        else:
            yield lineno, raw


def read_jsonl(path: str, source: SourceConfig, limits: ReadConfig = DEFAULT_LIMITS,
               max_rows: int | None = None) -> pa.Table:
    return _read_json_lines(path, source, canonical_row, limits, max_rows)


def _read_json_lines(path: str, source: SourceConfig, build, limits: ReadConfig = DEFAULT_LIMITS,
                     max_rows: int | None = None) -> pa.Table:
    """One row per non-blank line, built by `build(obj, source, root, key)`."""
    root = source_root(source)
    rel = relative_name(path, source)
    rows, positions = [], []
    try:
        fh = open(path, "rb")
    except OSError as err:
        raise SourceFileError(f"source {source.name!r}: cannot open {path}: {err.strerror}") from None
    with fh:
        for lineno, raw in _bounded_lines(fh, limits.max_line_bytes):
            if raw is not None and not raw.strip():
                continue
            if max_rows is not None and len(rows) >= max_rows:
                break
            fallback = f"{rel}:{lineno}"
            positions.append(fallback)
            if raw is None:
                rows.append(bad_row(f"{source.name}/{fallback}", source, "read.line_too_large"))
                continue
            try:
                obj = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                rows.append(bad_row(f"{source.name}/{fallback}", source, "read.not_utf8"))
                continue
            except _JSON_ERRORS:
                rows.append(bad_row(f"{source.name}/{fallback}", source, "read.bad_json"))
                continue
            key = _sample_key(obj, fallback)
            rows.append(_build_row(build, obj, source, root, key,
                                   check_surrogates=_SURROGATE_ESCAPE.search(raw) is not None))
    return to_table(unique_rows(rows, positions, source))


def _build_row(build, obj, source: SourceConfig, root: str, key: str, *, check_surrogates: bool) -> dict:
    """One parsed object as a canonical row, or as an `invalid` row with the `read.*` reason."""
    if check_surrogates and _has_lone_surrogate(obj):
        return bad_row(f"{source.name}/{key}", source, "read.not_utf8")
    try:
        return build(obj, source, root, key)
    except RowError as err:
        return bad_row(f"{source.name}/{key}", source, err.reason)


def cell_bytes(arr: pa.Array) -> np.ndarray:
    """Bytes of data in each element of `arr` (strings and binaries by length, nested values
    summed over their children), without converting a single value to Python."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    t = arr.type
    n = len(arr)
    if pa.types.is_dictionary(t):
        return cell_bytes(arr.dictionary_decode())
    if pa.types.is_string(t) or pa.types.is_binary(t) or pa.types.is_large_string(t) or pa.types.is_large_binary(t):
        return np.asarray(pc.fill_null(pc.binary_length(arr), 0).to_numpy(zero_copy_only=False), dtype=np.int64)
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        child = arr.flatten()
        parents = np.asarray(pc.list_parent_indices(arr).to_numpy(zero_copy_only=False), dtype=np.int64)
        return np.bincount(parents, weights=cell_bytes(child), minlength=n).astype(np.int64)
    if pa.types.is_struct(t):
        total = np.zeros(n, dtype=np.int64)
        for child in arr.flatten():
            total += cell_bytes(child)
        return total
    if pa.types.is_map(t):
        return cell_bytes(pa.ListArray.from_arrays(arr.offsets, pa.StructArray.from_arrays(
            [arr.keys, arr.items], ["k", "v"])))
    try:
        width = max(1, t.bit_width // 8)
    except ValueError:  # null, or another type without a fixed width: count a byte per value
        width = 1
    return np.full(n, width, dtype=np.int64)


def read_parquet(path: str, source: SourceConfig, limits: ReadConfig = DEFAULT_LIMITS,
                 max_rows: int | None = None) -> pa.Table:
    """Row group by row group; a row with a cell over `limits.max_cell_bytes` becomes a
    `read.cell_too_large` row without its values being converted."""
    import pyarrow.parquet as pq

    root = source_root(source)
    rel = relative_name(path, source)
    rows, positions = [], []
    try:
        pf = pq.ParquetFile(path)
        for batch in pf.iter_batches(batch_size=4096 if max_rows is None else max_rows):
            if max_rows is not None and len(rows) >= max_rows:
                break
            too_large = np.zeros(batch.num_rows, dtype=bool)
            for col in batch.columns:
                too_large |= cell_bytes(col) > limits.max_cell_bytes
            objs = iter(batch.filter(pa.array(~too_large)).to_pylist())
            for big in too_large:
                positions.append(f"{rel}:{len(positions)}")
                if big:
                    rows.append(bad_row(f"{source.name}/{positions[-1]}", source, "read.cell_too_large"))
                    continue
                obj = next(objs)
                key = _sample_key(obj, positions[-1])
                rows.append(_build_row(canonical_row, obj, source, root, key, check_surrogates=False))
    except (OSError, pa.ArrowException) as err:
        raise SourceFileError(f"source {source.name!r}: cannot read parquet {path}: {err}") from None
    return to_table(unique_rows(rows, positions, source))


# ---- LLaVA -----------------------------------------------------------------------------------


def conversation_row(obj: Any, source: SourceConfig, root: str, key: str) -> dict:
    """A LLaVA row (`conversations: [{from, value}]`) or a ShareGPT/OpenAI-style row (`messages:
    [{role, content}]`, content a string or a list of `{type: text|image|video}` parts). Media come
    from `image`/`images`/`video`/`videos` and are placed by `<image>`/`<video>` placeholders (or
    image/video parts) in order; media without any placeholder go before the first user text."""
    if not isinstance(obj, dict):
        raise RowError("read.not_an_object", type(obj).__name__)
    sid = f"{source.name}/{key}"
    paths: list[tuple[str, str]] = []
    for field, kind in (("image", "image"), ("images", "image"), ("video", "video"), ("videos", "video")):
        v = obj.get(field)
        if v is None:
            continue
        for p in [v] if isinstance(v, str) else v if isinstance(v, list) else [None]:
            if not isinstance(p, str):
                raise RowError("read.bad_media", f"{field} must be a path or a list of paths")
            paths.append((kind, p))
    media = [make_media(resolve_media_path(root, p), kind=kind) for kind, p in paths]
    messages = "messages" in obj and "conversations" not in obj
    convs = obj.get("messages" if messages else "conversations")
    if not isinstance(convs, list) or not convs:
        raise RowError("read.empty_conversation", "no conversations" if not messages else "no messages")
    turns = []
    next_media = {"image": [i for i, m in enumerate(media) if m["kind"] == "image"],
                  "video": [i for i, m in enumerate(media) if m["kind"] == "video"]}
    used = {"image": 0, "video": 0}
    for c in convs:
        role, pieces = _message_pieces(c) if messages else _llava_pieces(c)
        segs = []
        for piece in pieces:
            if piece in (IMAGE_PLACEHOLDER, VIDEO_PLACEHOLDER):
                kind = "image" if piece == IMAGE_PLACEHOLDER else "video"
                if used[kind] >= len(next_media[kind]):
                    raise RowError("read.placeholder_mismatch", f"more {piece} than {kind}s")
                segs.append(_media_seg(kind, next_media[kind][used[kind]]))
                used[kind] += 1
            elif piece.strip():
                segs.append(_text_seg(piece.strip("\n") if segs and segs[-1]["kind"] != "text" else piece))
        turns.append({"role": role, "segments": segs})
    for kind in ("image", "video"):
        if used[kind] != len(next_media[kind]) and used[kind] != 0:
            raise RowError("read.placeholder_mismatch", f"{used[kind]} placeholders for {len(next_media[kind])} {kind}s")
    _conversation_checks(turns)
    task = obj.get("task") if isinstance(obj.get("task"), str) else source.task
    return row(sid, source.name, task, turns, media)


def _llava_pieces(c: Any) -> tuple[str, list[str]]:
    if not isinstance(c, dict) or not isinstance(c.get("from"), str) or c["from"] not in LLAVA_ROLES:
        raise RowError("read.bad_turn", repr(c)[:80])
    return LLAVA_ROLES[c["from"]], _split_placeholders(_check_text(c.get("value"), "conversations.value"))


def _message_pieces(c: Any) -> tuple[str, list[str]]:
    if not isinstance(c, dict) or not isinstance(c.get("role"), str) or c["role"] not in LLAVA_ROLES:
        raise RowError("read.bad_turn", repr(c)[:80])
    content = c.get("content")
    if isinstance(content, str):
        return LLAVA_ROLES[c["role"]], _split_placeholders(content)
    if not isinstance(content, list):
        raise RowError("read.bad_text", f"messages.content is {type(content).__name__}, not a string or a list")
    pieces: list[str] = []
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            pieces.extend(_split_placeholders(_check_text(part.get("text"), "messages.content.text")))
        elif kind in ("image", "image_url"):
            pieces.append(IMAGE_PLACEHOLDER)
        elif kind in ("video", "video_url"):
            pieces.append(VIDEO_PLACEHOLDER)
        else:
            raise RowError("read.bad_segment", repr(part)[:80])
    return LLAVA_ROLES[c["role"]], pieces


def _split_placeholders(text: str) -> list[str]:
    out, i = [], 0
    while i < len(text):
        j_img, j_vid = text.find(IMAGE_PLACEHOLDER, i), text.find(VIDEO_PLACEHOLDER, i)
        hits = [j for j in (j_img, j_vid) if j >= 0]
        if not hits:
            out.append(text[i:])
            break
        j = min(hits)
        if j > i:
            out.append(text[i:j])
        tag = IMAGE_PLACEHOLDER if j == j_img else VIDEO_PLACEHOLDER
        out.append(tag)
        i = j + len(tag)
    return out


def read_llava(path: str, source: SourceConfig, limits: ReadConfig = DEFAULT_LIMITS,
               max_rows: int | None = None) -> pa.Table:
    """A JSON list of conversation rows, or (`.jsonl`) one conversation row per line."""
    if path.endswith(".jsonl"):
        return _read_json_lines(path, source, conversation_row, limits, max_rows)
    root = source_root(source)
    try:
        size = os.path.getsize(path)
        if size > limits.max_json_file_bytes:
            raise SourceFileError(f"source {source.name!r}: {path} is {size:,} bytes, over read.max_json_file_bytes "
                                  f"({limits.max_json_file_bytes:,}); a LLaVA .json file is parsed whole: split it, "
                                  f"or convert it to JSON lines, or raise the limit")
        with open(path, "rb") as fh:
            raw = fh.read()
        data = json.loads(raw.decode("utf-8"))
    except OSError as err:
        raise SourceFileError(f"source {source.name!r}: cannot open {path}: {err.strerror}") from None
    except (UnicodeDecodeError, *_JSON_ERRORS) as err:
        raise SourceFileError(f"source {source.name!r}: {path} is not a JSON list of conversations: "
                              f"{str(err)[:200]}") from None
    if not isinstance(data, list):
        raise SourceFileError(f"source {source.name!r}: {path} must hold a JSON list, got {type(data).__name__}")
    check_surrogates = _SURROGATE_ESCAPE.search(raw) is not None
    del raw
    rel = relative_name(path, source)
    rows, positions = [], []
    for i, obj in enumerate(data):
        positions.append(f"{rel}:{i}")
        key = _sample_key(obj, positions[-1])
        rows.append(_build_row(conversation_row, obj, source, root, key, check_surrogates=check_surrogates))
    return to_table(unique_rows(rows, positions, source))


# ---- webdataset (img2dataset) ----------------------------------------------------------------


def _safe_member_name(name: str) -> bool:
    return not (name.startswith("/") or name.startswith("\\") or ".." in name.replace("\\", "/").split("/"))


def _member_problem(m: tarfile.TarInfo) -> str | None:
    """Why a tar member cannot be part of a sample, or None for a plain file with a safe name."""
    if not _encodable(m.name):
        return "read.bad_member_name"  # bytes that are not UTF-8
    if not _safe_member_name(m.name):
        return "read.unsafe_member_name"  # `../` or an absolute name
    if m.issym() or m.islnk() or m.ischr() or m.isblk() or m.isfifo():
        return "read.unsafe_member_type"  # links and devices are never followed
    if m.issparse():
        return "read.unsupported_member"  # its data is not one contiguous run of bytes
    return None


def _tail_is_padding(tar: tarfile.TarFile, path: str) -> bool:
    """True if nothing but zero blocks follows the last member tarfile could read. tarfile stops
    quietly at a corrupt header in the middle of an archive; the samples after it are lost."""
    end = tar.offset
    with open(path, "rb") as fh:
        fh.seek(end)
        while chunk := fh.read(1 << 16):
            if chunk.count(0) != len(chunk):
                return False
    return True


def read_wds(path: str, source: SourceConfig, limits: ReadConfig = DEFAULT_LIMITS) -> pa.Table:
    """One pass over the tar headers; captions/JSON are read, images are referenced by offset.

    A sample is the members sharing a key (`dir/key.ext`). Members with a bad name or type are
    never read; each becomes its own `invalid` row (or poisons the sample of its key when the name
    itself is safe). An archive that ends early or has a corrupt header mid-way gets one
    `read.truncated_archive` row: the samples after that point cannot be listed.
    """
    groups: dict[str, dict[str, Any]] = {}  # key -> {ext: caption bytes | (member, offset, size)}
    problems: dict[str, str] = {}  # key -> the reason of its first bad member
    order: list[str] = []
    unsafe: list[tuple[str, str]] = []  # (printable member name, reason)
    truncated = False
    try:
        tar = tarfile.open(path, mode="r:")
    except (OSError, tarfile.TarError, ValueError, EOFError) as err:
        raise SourceFileError(f"source {source.name!r}: cannot open tar {path}: {err}") from None
    abs_tar = os.path.realpath(path)
    with tar:
        try:
            for m in tar:
                if m.isdir():
                    continue
                problem = _member_problem(m)
                if problem in ("read.bad_member_name", "read.unsafe_member_name"):
                    unsafe.append((_printable_name(m.name), problem))
                    continue
                base = os.path.basename(m.name)
                if "." not in base:
                    continue
                key, ext = base.split(".", 1)
                key = os.path.join(os.path.dirname(m.name), key)
                ext = ext.lower()
                if key not in groups:
                    groups[key] = {}
                    order.append(key)
                g = groups[key]
                if problem is None and ext in g:
                    problem = "read.duplicate_key"  # the same key.ext twice: which one is meant?
                if problem is not None:
                    problems.setdefault(key, problem)
                    continue
                if ext in ("txt", "json"):
                    if m.size > limits.max_cell_bytes:
                        problems.setdefault(key, "read.cell_too_large")  # never read into memory
                        continue
                    fh = tar.extractfile(m)
                    g[ext] = fh.read() if fh else b""
                else:
                    g[ext] = (m.name, m.offset_data, m.size)
            truncated = not _tail_is_padding(tar, path)
        except (tarfile.TarError, EOFError, ValueError, UnicodeError):
            # A truncated or corrupt archive: keep what was read, and say so in one row.
            truncated = True
    shard = os.path.splitext(relative_name(path, source))[0]
    rows, positions = [], []
    for i, (name, reason) in enumerate(unsafe):
        rows.append(bad_row(f"{source.name}/{shard}/{name}", source, reason))
        positions.append(f"{shard}/<member {i}>")
    for key in order:
        g = groups[key]
        sid = f"{source.name}/{shard}/{key}"
        positions.append(f"{shard}/{key}")
        if key in problems:
            rows.append(bad_row(sid, source, problems[key]))
        else:
            try:
                rows.append(_wds_row(g, sid, source, abs_tar))
            except RowError as err:
                rows.append(bad_row(sid, source, err.reason))
    if truncated:
        rows.append(bad_row(f"{source.name}/{shard}/<truncated-archive>", source, "read.truncated_archive"))
        positions.append(f"{shard}/<truncated-archive>")
    return to_table(unique_rows(rows, positions, source))


def _wds_row(g: dict, sid: str, source: SourceConfig, abs_tar: str) -> dict:
    meta: dict = {}
    if "json" in g:
        try:
            meta = json.loads(g["json"].decode("utf-8"))
        except UnicodeDecodeError:
            raise RowError("read.not_utf8", "key.json is not UTF-8") from None
        except _JSON_ERRORS:
            raise RowError("read.bad_json", "key.json is not valid JSON") from None
        if not isinstance(meta, dict):
            raise RowError("read.bad_json", "key.json must be an object")
        if _SURROGATE_ESCAPE.search(g["json"]) and _has_lone_surrogate(meta):
            raise RowError("read.not_utf8", "key.json holds a lone UTF-16 surrogate")
    caption = None
    if "txt" in g:
        try:
            caption = g["txt"].decode("utf-8")
        except UnicodeDecodeError:
            raise RowError("read.not_utf8", "key.txt is not UTF-8") from None
    if caption is None:
        caption = meta.get("caption")
    if caption is None:
        raise RowError("read.missing_text", "no key.txt and no caption in key.json")
    caption = _check_text(caption, "caption")
    image_exts = [e for e in g if e in IMAGE_EXTS]
    if not image_exts:
        raise RowError("read.missing_media", "no image member for this key")
    member, offset, size = g[sorted(image_exts)[0]]
    entry = {k: meta.get(k) for k in ("width", "height", "orientation")}
    entry["bytes_size"] = size if size > 0 else None
    media = [make_media(tar_member_uri(abs_tar, member, offset, size), entry, kind="image")]
    if size == 0:
        raise RowError("read.empty_media", f"member {member} is empty")
    turns = [{"role": "assistant", "segments": [_text_seg(caption)]}]
    return row(sid, source.name, source.task, turns, media)


READERS = {"jsonl": read_jsonl, "parquet": read_parquet, "llava": read_llava, "wds": read_wds}


def read_source_file(path: str, source: SourceConfig, limits: ReadConfig = DEFAULT_LIMITS) -> pa.Table:
    return READERS[source.format](path, source, limits)


def first_rows(path: str, source: SourceConfig, limits: ReadConfig = DEFAULT_LIMITS, n: int = 1) -> pa.Table:
    """The first rows of a source file, reading no more of it than needed (JSONL and Parquet stop
    early; a LLaVA file is one JSON document and a tar's samples need its header pass)."""
    if source.format in ("jsonl", "parquet") or (source.format == "llava" and path.endswith(".jsonl")):
        return READERS[source.format](path, source, limits, max_rows=n)
    return read_source_file(path, source, limits).slice(0, n)


FORM_NAMES = {"full": "full (turns/segments)", "conversation": "conversation", "short": "short",
              "unknown": "no accepted form"}


def first_row_form(path: str, source: SourceConfig, limits: ReadConfig = DEFAULT_LIMITS) -> str:
    """Which input form the first row of a source file is read as (docs/input-formats.md), for
    `vlpack check`: e.g. "short", "conversation (messages)", "img2dataset tar"."""
    if source.format == "wds":
        return "img2dataset tar"
    obj: Any = None
    if source.format == "parquet":
        import pyarrow.parquet as pq

        batch = next(pq.ParquetFile(path).iter_batches(batch_size=1), None)
        obj = batch.to_pylist()[0] if batch is not None and batch.num_rows else None
    elif source.format == "llava" and not path.endswith(".jsonl"):
        return "conversation (LLaVA JSON list)"
    else:
        with open(path, "rb") as fh:
            for _, raw in _bounded_lines(fh, limits.max_line_bytes):
                if raw is None or raw.strip():
                    try:
                        obj = json.loads(raw.decode("utf-8")) if raw is not None else None
                    except (UnicodeDecodeError, *_JSON_ERRORS):
                        obj = None
                    break
    form = row_form(obj)
    if form == "conversation":
        return "conversation (" + ("LLaVA conversations" if "conversations" in obj else "ShareGPT messages") + ")"
    if form == "short":
        return "short (" + ("prompt + answer" if any(k in obj for k in PROMPT_KEYS) else "caption") + ")"
    return FORM_NAMES[form]


def mark_unknown_tasks(table: pa.Table, known: tuple[str, ...]) -> tuple[pa.Table, int]:
    """Rows whose task (from the row itself) is neither built in nor declared in the job become
    `invalid` with `read.unknown_task`: a misspelt task must not silently skip the filters."""
    ok = pc.fill_null(pc.equal(table.column("status"), STATUS_OK), False)
    unknown = pc.and_(ok, pc.invert(pc.is_in(table.column("task"), value_set=pa.array(list(known), pa.string()))))
    n = int(pc.sum(unknown).as_py() or 0)
    if not n:
        return table, 0
    status = pc.if_else(unknown, "invalid", table.column("status"))
    reason = pc.if_else(unknown, "read.unknown_task", table.column("reason"))
    table = table.set_column(table.schema.get_field_index("status"), "status", status)
    return table.set_column(table.schema.get_field_index("reason"), "reason", reason), n
