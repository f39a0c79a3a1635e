"""What the job reads: every source file, its fingerprint, and the fingerprint of all of them.

A file's fingerprint is, by default, its absolute path, size and modification time (`stat`: fast,
one `stat` call per file); a source with `fingerprint: content` uses the sha256 of the file's
bytes instead (one full read per file per run; use it where files are rewritten in place with
their old mtime, e.g. copied with preserved times). A change to any file changes the job's input
fingerprint, so a committed output is never served for inputs it was not made from, and the
per-file checkpoints of unchanged files stay valid.

Media that a JSONL, Parquet or LLaVA row points to outside its own file (images beside the
file) are not part of the fingerprint: change an image in place and run with `--force`.
Images inside webdataset tars are covered, being bytes of the tar.
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

from jobs.readers import SourceFileError, list_source_files, relative_name
from schemas.config import JobConfig, SourceConfig


@dataclass(frozen=True)
class InputFile:
    """One source file as the job reads it."""

    source: str
    path: str  # absolute
    rel: str  # relative to the source (what sample ids are built from)
    size: int
    digest: str  # "stat:<size>:<mtime_ns>" or "sha256:<hex>"


def _content_digest(path: str, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return f"sha256:{h.hexdigest()}"


def _input_file(path: str, source: SourceConfig) -> InputFile:
    try:
        st = os.stat(path)
        digest = (_content_digest(path) if source.fingerprint == "content"
                  else f"stat:{st.st_size}:{st.st_mtime_ns}")
    except PermissionError:
        raise SourceFileError(f"source {source.name!r}: cannot read {path}: permission denied") from None
    except OSError as err:
        raise SourceFileError(f"source {source.name!r}: cannot read {path}: {err.strerror}") from None
    return InputFile(source=source.name, path=os.path.abspath(path), rel=relative_name(path, source),
                     size=st.st_size, digest=digest)


def input_files(cfg: JobConfig) -> list[InputFile]:
    """Every source file of the job, in source order then file order, fingerprinted."""
    tasks = [(p, s) for s in cfg.sources for p in list_source_files(s)]
    if any(s.fingerprint == "content" for s in cfg.sources):
        with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
            return list(pool.map(lambda t: _input_file(*t), tasks))
    return [_input_file(p, s) for p, s in tasks]


def input_fingerprint(files: list[InputFile]) -> str:
    """sha256 (hex, 16 chars) over every file's source, path and digest."""
    h = hashlib.sha256()
    for f in files:
        h.update(json.dumps([f.source, f.path, f.digest], ensure_ascii=True).encode())
        h.update(b"\n")
    return h.hexdigest()[:16]


def job_fingerprint(config_fingerprint: str, inputs_fingerprint: str) -> str:
    """What an output is made from: the config's fingerprint and the inputs' together."""
    return hashlib.sha256(f"{config_fingerprint}:{inputs_fingerprint}".encode()).hexdigest()[:16]


def as_dicts(files: list[InputFile]) -> list[dict]:
    return [asdict(f) for f in files]
