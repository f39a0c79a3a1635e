"""Readers: each maps one source file onto canonical rows (`schemas.sample.WORK_SCHEMA`).

Formats
- ``jsonl`` / ``parquet``: canonical rows. Either the full form
  ``{"id", "task"?, "turns": [{"role", "segments": [{"kind", "text"?, "media"?}]}], "media": [...]}``
  or the short caption form ``{"id", "image" | "images", "caption" | "text", "width"?, "height"?}``
  (and text-only ``{"id", "text"}`` for task "text").
- ``llava``: a JSON list of ``{"id", "image"?, "video"?, "conversations": [{"from", "value"}]}``
  with ``<image>`` placeholders; image paths are relative to the source root.
- ``wds``: img2dataset-style tars, ``key.jpg`` + ``key.txt`` and/or ``key.json`` (caption,
  width, height). Media stay inside the tar and are addressed by offset (`packer.media`).

A row that cannot be read becomes a row with status ``invalid`` and a ``read.*`` reason, never an
exception: every input sample is accounted for. A file that cannot be opened at all raises
`SourceFileError` naming the file. Media paths that escape the source root (``..``, absolute
paths elsewhere, symlinks pointing outside) are rejected.
"""

from __future__ import annotations

import glob
import json
import math
import os
import tarfile
from pathlib import Path
from typing import Any

import pyarrow as pa

from packer.media import tar_member_uri
from schemas.config import SourceConfig
from schemas.sample import STATUS_OK, WORK_SCHEMA

IMAGE_EXTS = {"jpg", "jpeg", "png", "webp", "gif", "bmp", "tif", "tiff"}
VIDEO_EXTS = {"mp4", "webm", "mkv", "avi", "mov"}
SOURCE_FILE_EXTS = {"jsonl": (".jsonl",), "parquet": (".parquet",), "llava": (".json",), "wds": (".tar",)}
IMAGE_PLACEHOLDER = "<image>"
VIDEO_PLACEHOLDER = "<video>"
LLAVA_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "system": "system"}


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
        raise SourceFileError(f"source {source.name!r}: no {'/'.join(exts)} files at {source.path}")
    return sorted(files)


def source_root(source: SourceConfig) -> str:
    if source.root:
        return os.path.realpath(source.root)
    p = Path(source.path)
    return os.path.realpath(p if p.is_dir() else p.parent)


def resolve_media_path(root: str, rel: str) -> str:
    """The absolute, symlink-resolved path of `rel` under `root`; raises RowError if it escapes."""
    if not isinstance(rel, str) or not rel or "\x00" in rel:
        raise RowError("read.bad_media_path", repr(rel))
    candidate = os.path.realpath(os.path.join(root, rel))
    if candidate != root and not candidate.startswith(root.rstrip(os.sep) + os.sep):
        raise RowError("read.path_escapes_root", f"{rel!r} resolves outside {root}")
    return candidate


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
    return {
        "uri": uri,
        "kind": kind or entry.get("kind") or _media_kind(uri),
        "width": _positive_int(entry.get("width"), "width"),
        "height": _positive_int(entry.get("height"), "height"),
        "orientation": entry.get("orientation") if entry.get("orientation") in range(1, 9) else None,
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
    if isinstance(key, (str, int)) and not isinstance(key, bool) and str(key).strip():
        return str(key)
    return fallback


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
        for i, m in enumerate(obj.get("media") or []):
            if not isinstance(m, dict) or not isinstance(m.get("uri"), str):
                raise RowError("read.bad_media", f"media[{i}]")
            media.append(make_media(resolve_media_path(root, m["uri"]), m))
        turns = []
        for t in obj["turns"] or []:
            if not isinstance(t, dict) or t.get("role") not in ("system", "user", "assistant"):
                raise RowError("read.bad_turn", repr(t)[:80])
            segs = []
            for s in t.get("segments") or []:
                kind = s.get("kind", "text") if isinstance(s, dict) else None
                if kind == "text":
                    segs.append(_text_seg(_check_text(s.get("text"), "segment.text")))
                elif kind in ("image", "video") and isinstance(s.get("media"), int):
                    if not 0 <= s["media"] < len(media):
                        raise RowError("read.bad_media_index", f"segment refers to media {s['media']}")
                    segs.append(_media_seg(kind, s["media"]))
                else:
                    raise RowError("read.bad_segment", repr(s)[:80])
            turns.append({"role": t["role"], "segments": segs})
        return row(sid, source.name, task, turns, media)
    # short caption form
    images = obj.get("images", obj.get("image"))
    if images is None:
        images = []
    if isinstance(images, str):
        images = [images]
    if not isinstance(images, list) or not all(isinstance(i, str) for i in images):
        raise RowError("read.bad_media", "image(s) must be a path or a list of paths")
    text = obj.get("caption", obj.get("text"))
    if text is None:
        raise RowError("read.missing_text", "no caption/text field")
    text = _check_text(text, "caption")
    meta = {k: obj.get(k) for k in ("width", "height", "orientation", "bytes_size", "fps", "frames", "duration")}
    media = [make_media(resolve_media_path(root, p), meta if len(images) == 1 else None) for p in images]
    if not media and task == "caption":
        task = "text"
    turns = [{"role": "assistant", "segments": [_text_seg(text)]}]
    return row(sid, source.name, task, turns, media)


def read_jsonl(path: str, source: SourceConfig) -> pa.Table:
    root = source_root(source)
    rel = os.path.relpath(path, os.path.dirname(source.path) if os.path.isfile(source.path) else source.path)
    rows = []
    try:
        fh = open(path, "rb")
    except OSError as err:
        raise SourceFileError(f"source {source.name!r}: cannot open {path}: {err.strerror}") from None
    with fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            fallback = f"{rel}:{lineno}"
            try:
                obj = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                rows.append(bad_row(f"{source.name}/{fallback}", source, "read.not_utf8"))
                continue
            except json.JSONDecodeError:
                rows.append(bad_row(f"{source.name}/{fallback}", source, "read.bad_json"))
                continue
            key = _sample_key(obj, fallback)
            try:
                rows.append(canonical_row(obj, source, root, key))
            except RowError as err:
                rows.append(bad_row(f"{source.name}/{key}", source, err.reason))
    return to_table(rows)


def read_parquet(path: str, source: SourceConfig) -> pa.Table:
    import pyarrow.parquet as pq

    root = source_root(source)
    try:
        objs = pq.read_table(path).to_pylist()
    except (OSError, pa.ArrowInvalid) as err:
        raise SourceFileError(f"source {source.name!r}: cannot read parquet {path}: {err}") from None
    rel = os.path.basename(path)
    rows = []
    for i, obj in enumerate(objs):
        key = _sample_key(obj, f"{rel}:{i}")
        try:
            rows.append(canonical_row(obj, source, root, key))
        except RowError as err:
            rows.append(bad_row(f"{source.name}/{key}", source, err.reason))
    return to_table(rows)


# ---- LLaVA -----------------------------------------------------------------------------------


def llava_row(obj: Any, source: SourceConfig, root: str, key: str) -> dict:
    if not isinstance(obj, dict):
        raise RowError("read.not_an_object", type(obj).__name__)
    sid = f"{source.name}/{key}"
    paths: list[tuple[str, str]] = []
    for field, kind in (("image", "image"), ("images", "image"), ("video", "video")):
        v = obj.get(field)
        if v is None:
            continue
        for p in [v] if isinstance(v, str) else v if isinstance(v, list) else [None]:
            if not isinstance(p, str):
                raise RowError("read.bad_media", f"{field} must be a path or a list of paths")
            paths.append((kind, p))
    media = [make_media(resolve_media_path(root, p), kind=kind) for kind, p in paths]
    convs = obj.get("conversations")
    if not isinstance(convs, list) or not convs:
        raise RowError("read.empty_conversation", "no conversations")
    turns = []
    next_media = {"image": [i for i, m in enumerate(media) if m["kind"] == "image"],
                  "video": [i for i, m in enumerate(media) if m["kind"] == "video"]}
    used = {"image": 0, "video": 0}
    for c in convs:
        if not isinstance(c, dict) or c.get("from") not in LLAVA_ROLES:
            raise RowError("read.bad_turn", repr(c)[:80])
        value = _check_text(c.get("value"), "conversations.value")
        segs = []
        for piece in _split_placeholders(value):
            if piece in (IMAGE_PLACEHOLDER, VIDEO_PLACEHOLDER):
                kind = "image" if piece == IMAGE_PLACEHOLDER else "video"
                if used[kind] >= len(next_media[kind]):
                    raise RowError("read.placeholder_mismatch", f"more {piece} than {kind}s")
                segs.append(_media_seg(kind, next_media[kind][used[kind]]))
                used[kind] += 1
            elif piece.strip():
                segs.append(_text_seg(piece.strip("\n") if segs and segs[-1]["kind"] != "text" else piece))
        turns.append({"role": LLAVA_ROLES[c["from"]], "segments": segs})
    for kind in ("image", "video"):
        if used[kind] != len(next_media[kind]) and used[kind] != 0:
            raise RowError("read.placeholder_mismatch", f"{used[kind]} placeholders for {len(next_media[kind])} {kind}s")
    if not any(t["role"] == "assistant" for t in turns):
        raise RowError("read.no_assistant_turn", "conversation has no assistant turn")
    task = obj.get("task") if isinstance(obj.get("task"), str) else source.task
    return row(sid, source.name, task, turns, media)


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


def read_llava(path: str, source: SourceConfig) -> pa.Table:
    root = source_root(source)
    try:
        with open(path, "rb") as fh:
            data = json.loads(fh.read().decode("utf-8"))
    except OSError as err:
        raise SourceFileError(f"source {source.name!r}: cannot open {path}: {err.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SourceFileError(f"source {source.name!r}: {path} is not a JSON list of conversations: {err}") from None
    if not isinstance(data, list):
        raise SourceFileError(f"source {source.name!r}: {path} must hold a JSON list, got {type(data).__name__}")
    rel = os.path.basename(path)
    rows = []
    for i, obj in enumerate(data):
        key = _sample_key(obj, f"{rel}:{i}")
        try:
            rows.append(llava_row(obj, source, root, key))
        except RowError as err:
            rows.append(bad_row(f"{source.name}/{key}", source, err.reason))
    return to_table(rows)


# ---- webdataset (img2dataset) ----------------------------------------------------------------


def _safe_member_name(name: str) -> bool:
    return not (name.startswith("/") or name.startswith("\\") or ".." in name.replace("\\", "/").split("/"))


def read_wds(path: str, source: SourceConfig) -> pa.Table:
    """One pass over the tar headers; captions/JSON are read, images are referenced by offset."""
    groups: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    unsafe: list[str] = []
    try:
        tar = tarfile.open(path, mode="r:")
    except (OSError, tarfile.TarError) as err:
        raise SourceFileError(f"source {source.name!r}: cannot open tar {path}: {err}") from None
    abs_tar = os.path.realpath(path)
    with tar:
        try:
            for m in tar:
                if not m.isfile():
                    continue
                if not _safe_member_name(m.name):
                    unsafe.append(m.name)
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
                if ext in g:
                    g.setdefault("__dup__", True)
                if ext in ("txt", "json"):
                    fh = tar.extractfile(m)
                    g[ext] = fh.read() if fh else b""
                else:
                    g[ext] = (m.name, m.offset_data, m.size)
        except tarfile.TarError as err:
            # A truncated or corrupt archive: keep what was read, and say so per missing tail.
            groups.setdefault("__truncated__", {"error": str(err)})
    shard = os.path.splitext(os.path.basename(path))[0]
    rows = []
    for name in unsafe:
        rows.append(bad_row(f"{source.name}/{shard}/{name}", source, "read.unsafe_member_name"))
    seen: set[str] = set()
    for key in order:
        g = groups[key]
        sid = f"{source.name}/{shard}/{key}"
        if sid in seen or g.get("__dup__"):
            rows.append(bad_row(sid, source, "read.duplicate_key"))
            seen.add(sid)
            continue
        seen.add(sid)
        try:
            rows.append(_wds_row(g, sid, source, abs_tar))
        except RowError as err:
            rows.append(bad_row(sid, source, err.reason))
    if "__truncated__" in groups:
        rows.append(bad_row(f"{source.name}/{shard}/<truncated-archive>", source, "read.truncated_archive"))
    return to_table(rows)


def _wds_row(g: dict, sid: str, source: SourceConfig, abs_tar: str) -> dict:
    meta: dict = {}
    if "json" in g:
        try:
            meta = json.loads(g["json"].decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise RowError("read.bad_json", "key.json is not valid UTF-8 JSON") from None
        if not isinstance(meta, dict):
            raise RowError("read.bad_json", "key.json must be an object")
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


def read_source_file(path: str, source: SourceConfig) -> pa.Table:
    return READERS[source.format](path, source)
