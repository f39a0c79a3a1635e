"""Fuzz of every reader (docs/bad-inputs.md, "Readers under fuzzing").

Whatever the bytes, JSON values or tar members, a reader either returns one row per input sample
— every sample accounted for, each with its own sample_id, `ok` or `invalid` with a `read.*`
reason — or, for a file it cannot read at all, raises `SourceFileError` naming the file. Rows a
reader returns also pass through the row-local stages without an exception or a lost row.
"""

from __future__ import annotations

import itertools
import json
import os
import tarfile
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hostile_inputs import CAPTION, jpeg, job_config, png_bomb, run_rows, write_tar

from jobs.readers import SourceFileError, read_jsonl, read_llava, read_parquet, read_wds
from packer.media import is_tar_uri, parse_tar_uri
from schemas.config import SourceConfig

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
_counter = itertools.count()

KEYS = ["id", "sample_id", "image", "images", "video", "caption", "text", "width", "height", "orientation",
        "bytes_size", "fps", "frames", "duration", "task", "turns", "media", "role", "segments", "kind", "uri",
        "conversations", "from", "value", "format"]
STRINGS = st.sampled_from(["a.jpg", "bomb.png", "missing.jpg", "../a.jpg", "/etc/passwd", "sub/../a.jpg",
                           "clip.mp4", "a.jpg\x00", "", "<image>", "<image>\n" + CAPTION, "<video>", "human", "gpt",
                           "user", "assistant", "system", "image", "video", "text", "caption", "<|im_end|>",
                           "\ud800", "x\udcff"]) | st.text(max_size=12)
NUMBERS = st.integers(-3, 3) | st.sampled_from([2**31, 2**63, -(2**63), 10**30]) | st.floats(allow_nan=True)
SCALARS = st.none() | st.booleans() | NUMBERS | STRINGS
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), inner,
                                                                 max_size=6),
    max_leaves=25,
)
# Near-schema objects: every known key with a plausible or a hostile value.
CANONICAL = st.fixed_dictionaries({}, optional={
    "id": st.integers(0, 5) | st.sampled_from(["k", "k", "d.jsonl:2", "", " "]) | JSON,
    "image": STRINGS | JSON, "images": st.lists(STRINGS, max_size=3) | JSON,
    "caption": STRINGS | JSON, "text": STRINGS, "width": NUMBERS | JSON, "height": NUMBERS, "fps": NUMBERS,
    "duration": NUMBERS, "frames": NUMBERS, "orientation": NUMBERS | JSON, "task": STRINGS | JSON,
    "turns": st.lists(st.fixed_dictionaries({"role": STRINGS | JSON}, optional={"segments": st.lists(
        st.fixed_dictionaries({"kind": STRINGS | JSON}, optional={"text": STRINGS | JSON, "media": NUMBERS | JSON}),
        max_size=3) | JSON}), max_size=3) | JSON,
    "media": st.lists(st.fixed_dictionaries({"uri": STRINGS | JSON}, optional={
        "kind": STRINGS | JSON, "width": NUMBERS, "height": NUMBERS, "orientation": NUMBERS | JSON,
        "format": STRINGS | JSON}), max_size=2) | JSON,
})
LLAVA = st.fixed_dictionaries({}, optional={
    "id": st.integers(0, 5) | STRINGS | JSON, "image": STRINGS | JSON, "images": st.lists(STRINGS, max_size=3),
    "video": STRINGS, "task": STRINGS | JSON,
    "conversations": st.lists(st.fixed_dictionaries({}, optional={"from": STRINGS | JSON, "value": STRINGS | JSON}),
                              max_size=4) | JSON,
})
LINE_BYTES = st.binary(max_size=60).map(lambda b: b.replace(b"\n", b""))


def _root() -> Path:
    """A fresh source directory holding a good image, a bomb and a video stand-in."""
    root = Path(tempfile.mkdtemp(prefix=f"fuzz{next(_counter)}-", dir=_BASE))
    (root / "a.jpg").write_bytes(_JPEG)
    (root / "bomb.png").write_bytes(png_bomb())
    (root / "clip.mp4").write_bytes(b"\x00" * 64)
    return root


_BASE = tempfile.mkdtemp(prefix="vlpack-fuzz-")
_JPEG = jpeg(96, 64)


def _check_rows(table: pa.Table, n_samples: int | None, root: Path) -> None:
    rows = table.to_pylist()
    if n_samples is not None:
        assert len(rows) == n_samples
    ids = [r["sample_id"] for r in rows]
    assert len(set(ids)) == len(ids), "two rows share a sample_id"
    for r in rows:
        assert r["status"] in ("ok", "invalid")
        if r["status"] == "invalid":
            assert r["reason"].startswith("read.")
        for m in r["media"]:
            assert m["kind"] in ("image", "video")
            # a tar member URI names the shard it lies in; that shard, like a file, is under the root
            path = parse_tar_uri(m["uri"])[0] if is_tar_uri(m["uri"]) else m["uri"]
            assert path.startswith(str(root.resolve()) + os.sep), m["uri"]


def _stages_keep_every_row(table: pa.Table, source: dict) -> None:
    """The rows go on through probe → filter → grounding → tokens → mix without an error or a loss."""
    cfg = job_config([source])
    out = run_rows(cfg)
    assert set(out.column("sample_id").to_pylist()) == set(table.column("sample_id").to_pylist())


def _source(root: Path, fmt: str, path: Path, **kw) -> SourceConfig:
    return SourceConfig(name="fz", format=fmt, path=str(path), root=str(root), **kw)


# ---- JSONL --------------------------------------------------------------------------------------


@given(st.lists(CANONICAL | JSON | LINE_BYTES, max_size=8))
@FUZZ
def test_jsonl_accounts_for_every_line(values):
    root = _root()
    lines = [v if isinstance(v, bytes) else json.dumps(v, allow_nan=True).encode() for v in values]
    path = root / "d.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    table = read_jsonl(str(path), _source(root, "jsonl", path))
    _check_rows(table, sum(1 for line in lines if line.strip()), root)


@given(st.lists(CANONICAL, min_size=1, max_size=5))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_jsonl_rows_survive_every_stage(values):
    root = _root()
    path = root / "d.jsonl"
    path.write_bytes(b"\n".join(json.dumps(v, allow_nan=True).encode() for v in values) + b"\n")
    table = read_jsonl(str(path), _source(root, "jsonl", path))
    _stages_keep_every_row(table, {"name": "fz", "format": "jsonl", "path": str(path), "root": str(root)})


# ---- Parquet ------------------------------------------------------------------------------------


def _column(values: list) -> pa.Array:
    try:
        return pa.array(values)
    except (pa.ArrowException, OverflowError, TypeError, ValueError):
        return pa.array([json.dumps(v) for v in values])  # mixed types: store the JSON text


@given(st.lists(CANONICAL, min_size=1, max_size=6))
@FUZZ
def test_parquet_accounts_for_every_row(objs):
    root = _root()
    keys = sorted({k for o in objs for k in o})
    if not keys:
        keys = ["caption"]
    path = root / "d.parquet"
    try:
        pq.write_table(pa.table({k: _column([o.get(k) for o in objs]) for k in keys}), path)
    except (pa.ArrowException, UnicodeEncodeError):  # a type Parquet cannot hold: JSON text instead
        pq.write_table(pa.table({k: pa.array([json.dumps(o.get(k)) for o in objs]) for k in keys}), path)
    out = read_parquet(str(path), _source(root, "parquet", path))
    _check_rows(out, len(objs), root)


# ---- LLaVA --------------------------------------------------------------------------------------


@given(st.lists(LLAVA | JSON, max_size=6) | JSON)
@FUZZ
def test_llava_accounts_for_every_conversation(data):
    root = _root()
    path = root / "l.json"
    path.write_text(json.dumps(data, allow_nan=True))
    src = _source(root, "llava", path, task="vqa")
    if not isinstance(data, list):
        with pytest.raises(SourceFileError, match="l.json"):
            read_llava(str(path), src)
        return
    _check_rows(read_llava(str(path), src), len(data), root)


@given(st.lists(LLAVA, min_size=1, max_size=4))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_llava_rows_survive_every_stage(data):
    root = _root()
    path = root / "l.json"
    path.write_text(json.dumps(data, allow_nan=True))
    table = read_llava(str(path), _source(root, "llava", path, task="vqa"))
    _stages_keep_every_row(table, {"name": "fz", "format": "llava", "path": str(path), "root": str(root),
                                   "task": "vqa"})


# ---- webdataset ---------------------------------------------------------------------------------

MEMBER_NAMES = st.builds(
    lambda d, k, e: f"{d}{k}{e}",
    st.sampled_from(["", "sub/", "../", "/abs/", "a/../", "./"]),
    st.sampled_from(["k1", "k2", "k.3", "", "__truncated__", "\udcff"]),
    st.sampled_from([".jpg", ".JPG", ".png", ".txt", ".json", ".cls", "", ".tar.gz"]),
)
CONTENTS = st.sampled_from([_JPEG, _JPEG[:300], b"", CAPTION.encode(), b"\xff\xfe caption",
                            b'{"caption": "from json", "width": 96, "height": 64}', b'{"width": NaN}',
                            b'{"caption": "\\ud800"}', b"[1, 2]", png_bomb()]) | st.binary(max_size=40)
LINK_TYPES = st.sampled_from([tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.FIFOTYPE, tarfile.CHRTYPE])


def _member(name: str, data: bytes | None, link_type: bytes):
    if data is not None:
        return name, data
    info = tarfile.TarInfo(name)
    info.type = link_type
    info.linkname = "/etc/passwd"
    return info


_GOOD_PAIR = [("k1.jpg", _JPEG, tarfile.SYMTYPE), ("k1.txt", CAPTION.encode(), tarfile.SYMTYPE)]


@given(st.lists(st.tuples(MEMBER_NAMES, CONTENTS | st.none(), LINK_TYPES), max_size=10), st.none() | st.floats(0, 1))
@example(_GOOD_PAIR, None)  # a valid image + caption pair: the `ok` branch below always runs at least once
@example(_GOOD_PAIR + [("../k2.jpg", _JPEG, tarfile.SYMTYPE), ("sub/k2.txt", None, tarfile.SYMTYPE)], None)
@FUZZ
def test_wds_accounts_for_every_member(members, cut):
    root = _root()
    path = root / "00000.tar"
    try:
        write_tar(path, [_member(*m) for m in members])
    except UnicodeEncodeError:
        return  # tarfile cannot write this name; nothing to read
    if cut is not None:
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * cut)])
    src = _source(root, "wds", path)
    try:
        table = read_wds(str(path), src)
    except SourceFileError as err:
        assert "00000.tar" in str(err)
        return
    _check_rows(table, None, root)
    ids = set(table.column("sample_id").to_pylist())
    if cut is None:  # every member is in a row: its key's, or one of its own
        reasons = table.column("reason").to_pylist()
        # a bad name repeated gets a row of its own too, keyed by its position
        n_unsafe = sum(r in ("read.unsafe_member_name", "read.bad_member_name", "read.duplicate_id")
                       for r in reasons)
        keys = set()
        named = 0
        for name, _, _ in members:
            base = os.path.basename(name)
            safe = not (name.startswith("/") or ".." in name.split("/")) and "\udcff" not in name
            if not safe:
                named += 1
            elif "." in base:
                keys.add(f"fz/00000/{os.path.join(os.path.dirname(name), base.split('.', 1)[0])}")
        assert keys <= ids
        assert n_unsafe == named
        assert len(ids) == len(keys) + named
    if members[:2] == _GOOD_PAIR and cut is None:
        assert "ok" in table.column("status").to_pylist()
    if any(r == "ok" for r in table.column("status").to_pylist()):
        _stages_keep_every_row(table, {"name": "fz", "format": "wds", "path": str(path), "root": str(root)})


# ---- arbitrary bytes as a whole file ------------------------------------------------------------

READERS = {"jsonl": (read_jsonl, "d.jsonl"), "parquet": (read_parquet, "d.parquet"),
           "llava": (read_llava, "l.json"), "wds": (read_wds, "00000.tar")}


@pytest.mark.parametrize("fmt", sorted(READERS))
@given(data=st.binary(max_size=2048) | st.sampled_from([b"", b"PAR1", b"PAR1" * 3, b"\x00" * 1024, b"[]", b"{}"]))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_arbitrary_bytes_give_rows_or_an_error_naming_the_file(fmt, data):
    root = _root()
    reader, name = READERS[fmt]
    path = root / name
    path.write_bytes(data)
    try:
        table = reader(str(path), _source(root, fmt, path))
    except SourceFileError as err:
        assert name in str(err)
        return
    _check_rows(table, None, root)
