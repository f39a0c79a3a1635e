"""Broken and hostile inputs for the bad-input catalogue (docs/bad-inputs.md), made for real with
Pillow, zlib and tarfile, and a way to run the row-local stages and the planner in process.

`run_rows` runs read → probe → filter → grounding → tokens → mix exactly as the job does
(`jobs.stages.stage_plan` / `post_dedup_plan`, the same stage functions the Ray job maps over its
batches) but without Ray and without dedup, so one bad-input test costs milliseconds. `ledger_of`
adds the planner (`jobs.planning.plan_in_process`) and returns the ledger rows by sample_id.
"""

from __future__ import annotations

import io
import json
import struct
import tarfile
import zlib
from pathlib import Path

import numpy as np
import pyarrow as pa
from PIL import Image

CAPTION = "A small brown dog runs across a green park on a sunny afternoon."


# ---- images ---------------------------------------------------------------------------------------


def picture(w: int = 320, h: int = 240, seed: int = 0) -> Image.Image:
    """A noisy RGB picture: real entropy, so lossy files are not suspiciously small."""
    rng = np.random.default_rng(seed)
    base = np.linspace(0, 255, w, dtype=np.float32)[None, :, None] * np.ones((h, 1, 3), np.float32)
    noise = rng.normal(0, 40, (h, w, 3))
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8), "RGB")


def encode(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def jpeg(w: int = 320, h: int = 240, seed: int = 0, **kw) -> bytes:
    return encode(picture(w, h, seed), "JPEG", quality=90, **kw)


def png(w: int = 320, h: int = 240, seed: int = 0) -> bytes:
    return encode(picture(w, h, seed), "PNG")


def truncated(data: bytes, keep: float = 0.5) -> bytes:
    """The header intact, the pixel data cut."""
    return data[: int(len(data) * keep)]


def garbage(n: int = 4096, seed: int = 0) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes()


def png_chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data))


def png_bomb(width: int = 20000, height: int = 20000) -> bytes:
    """A valid PNG of a few hundred bytes whose header claims width × height RGB pixels: its
    deflate stream holds the first rows only (a decoder would allocate 1.2 GB before noticing)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (3 * width + 1) * 4, 9)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def png_text_bomb(megabytes: int = 200) -> bytes:
    """A small PNG with a zTXt chunk that inflates to `megabytes` MB of text before the pixels."""
    ihdr = struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0)
    text = zlib.compressobj(9)
    payload = b"".join(text.compress(b"\x00" * (1 << 20)) for _ in range(megabytes)) + text.flush()
    idat = zlib.compress(b"".join(b"\x00" + b"\x80" * 192 for _ in range(64)))
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"zTXt", b"Comment\x00\x00" + payload)
            + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b""))


def exif_jpeg(orientation: int, w: int = 320, h: int = 160) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(picture(w, h), "JPEG", quality=90, exif=exif.tobytes())


def animated(fmt: str, n: int = 3, w: int = 200, h: int = 150) -> bytes:
    """An animated GIF, WebP or APNG ("PNG") of `n` different frames."""
    frames = [picture(w, h, seed=i) for i in range(n)]
    return encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)


def mode_image(mode: str, w: int = 200, h: int = 150) -> tuple[bytes, str]:
    """An image stored in Pillow mode `mode` (CMYK as JPEG, the others as PNG) and its extension."""
    grey = np.asarray(picture(w, h).convert("L"))
    if mode == "I;16":
        im = Image.fromarray(grey.astype(np.uint16) * 257)  # the full 16-bit range
        assert im.mode == "I;16"
        return encode(im, "PNG"), "png"
    if mode == "CMYK":
        return encode(picture(w, h).convert("CMYK"), "JPEG", quality=90), "jpg"
    if mode == "LA":
        alpha = np.full_like(grey, 128)
        return encode(Image.fromarray(np.dstack([grey, alpha]), "LA"), "PNG"), "png"
    if mode == "RGBA":
        return encode(picture(w, h).convert("RGBA"), "PNG"), "png"
    if mode == "P":
        return encode(picture(w, h).convert("P"), "PNG"), "png"
    raise ValueError(mode)


# ---- files and sources ----------------------------------------------------------------------------


def write_jsonl(path: Path, records: list) -> Path:
    """One JSON value per line; `bytes` entries are written as they are (for broken lines)."""
    with open(path, "wb") as fh:
        for r in records:
            fh.write(r if isinstance(r, bytes) else json.dumps(r).encode())
            fh.write(b"\n")
    return path


def write_tar(path: Path, members: list) -> Path:
    """`members`: (name, bytes) for regular files, or ready `tarfile.TarInfo` objects (links)."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for m in members:
            if isinstance(m, tarfile.TarInfo):
                tar.addfile(m)
                continue
            name, data = m
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def job_config(sources: list[dict], **sections):
    """A `JobConfig` for bad-input tests: one rank, no dedup, and whatever `sections` override."""
    from schemas.config import parse_job_config

    data = {"sources": sources, "pack": {"dp_size": 1, "micro_batch": 1, "grad_accum": 1},
            "dedup": {"enabled": False}}
    data.update(sections)
    return parse_job_config(data)


# ---- running the stages without Ray ---------------------------------------------------------------


def run_rows(cfg) -> pa.Table:
    """Every source of `cfg` read and taken through the row-local stages, in process."""
    from jobs import stages
    from jobs.file_stages import read_rows
    from jobs.readers import list_source_files

    tables = [read_rows(path, s, cfg)[0] for s in cfg.sources for path in list_source_files(s)]
    table = pa.concat_tables(tables)
    n = table.num_rows
    for _, fn in stages.stage_plan(cfg) + stages.post_dedup_plan(cfg):
        table, _ = fn(table)
    assert table.num_rows >= n  # mix may add copies, never drop rows
    return table


def ledger_of(cfg) -> dict[str, dict]:
    """The job's ledger (status, reason, pack_id ...) by sample_id, planned in process."""
    from jobs.planning import INDEX_COLUMNS, plan_in_process

    index = run_rows(cfg).select(INDEX_COLUMNS)
    rows = [r for part in plan_in_process(cfg, index) for r in part.ledger.to_pylist()]
    by_id = {r["sample_id"]: r for r in rows if r["copy"] == 0}
    assert len(by_id) == sum(r["copy"] == 0 for r in rows), "a sample_id occurs twice"
    return by_id


def fate(cfg) -> dict[str, tuple[str, str | None]]:
    """(status, reason) of every sample, by sample_id."""
    return {sid: (r["status"], r["reason"]) for sid, r in ledger_of(cfg).items()}


def image_source(root: Path, images: dict[str, bytes | None], *, name: str = "s", meta: dict | None = None,
                 **source) -> dict:
    """A JSONL caption source with one sample per image, its id the file name (`None`: the file is
    missing); `meta` adds metadata fields (width, height ...) to every record."""
    root.mkdir(parents=True, exist_ok=True)
    records = []
    for fname, data in images.items():
        if data is not None:
            (root / fname).write_bytes(data)
        records.append({"id": fname, "image": fname, "caption": CAPTION, **(meta or {})})
    path = write_jsonl(root / f"{name}.jsonl", records)
    return {"name": name, "format": "jsonl", "path": str(path), "root": str(root), **source}


def first_media(cfg, sample_id: str) -> dict:
    """The first media item of one sample after the row-local stages (its probed size ...)."""
    rows = run_rows(cfg).to_pylist()
    return next(r for r in rows if r["sample_id"] == sample_id)["media"][0]


GOOD_RECORD = {"id": "good", "image": "a.jpg", "caption": CAPTION}
ASK = {"from": "human", "value": "<image>\nWhat is happening here?"}
ANSWER = {"from": "gpt", "value": "A small brown dog is running across a park."}


def jsonl_source(root: Path, records: list, **source) -> dict:
    """A JSONL source: a good caption sample `s/good` on `a.jpg`, then `records`."""
    (root / "a.jpg").write_bytes(jpeg())
    path = write_jsonl(root / "d.jsonl", [GOOD_RECORD, *records])
    return {"name": "s", "format": "jsonl", "path": str(path), "root": str(root), **source}


def llava_source(root: Path, conversations: list, **source) -> dict:
    """A LLaVA source (task vqa): a good conversation `l/good` on `a.jpg`, then `conversations`;
    `b.jpg` is there too."""
    (root / "a.jpg").write_bytes(jpeg())
    (root / "b.jpg").write_bytes(jpeg(seed=1))
    path = root / "l.json"
    path.write_text(json.dumps([{"id": "good", "image": "a.jpg", "conversations": [ASK, ANSWER]}, *conversations]))
    return {"name": "l", "format": "llava", "path": str(path), "root": str(root), "task": "vqa", **source}


def fates_with_good(*sources, **sections) -> dict[str, tuple[str, str | None]]:
    """`fate` of a job over `sources`, checking that their good samples were packed."""
    ledger = fate(job_config(list(sources), **sections))
    assert all(v == ("packed", None) for k, v in ledger.items() if k.endswith("/good"))
    return ledger


def gif_bomb(width: int = 65535, height: int = 65535) -> bytes:
    """A 1×1 GIF whose screen and image descriptor claim width × height."""
    data = bytearray(encode(Image.new("P", (1, 1)), "GIF"))
    data[6:10] = struct.pack("<HH", width, height)
    i = data.index(b"\x2c")  # image descriptor
    data[i + 5:i + 9] = struct.pack("<HH", width, height)
    return bytes(data)


def jpeg_bomb(width: int = 65500, height: int = 65500) -> bytes:
    """A 16×16 JPEG whose frame header (SOF0) claims width × height."""
    data = bytearray(jpeg(16, 16))
    i = data.index(b"\xff\xc0")
    data[i + 5:i + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def webp_bomb(width: int = 16383, height: int = 16383) -> bytes:
    """A 16×16 lossless WebP inside a VP8X canvas of width × height."""
    body = encode(picture(16, 16), "WEBP", lossless=True)[12:]
    vp8x = (b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little")
            + (height - 1).to_bytes(3, "little"))
    payload = b"WEBP" + vp8x + body
    return b"RIFF" + struct.pack("<I", len(payload)) + payload


# ---- a source with 30% broken samples --------------------------------------------------------------

_COLOURS = ["brown", "white", "black", "grey", "spotted", "striped", "golden"]
_SUBJECTS = ["dog runs across", "cat sleeps on", "horse stands in", "child plays in", "bird sits on the edge of"]
_PLACES = ["a green park", "a wooden table", "a sandy beach", "an old garden", "a quiet street", "a snowy field"]


def good_caption(i: int) -> str:
    return (f"A {_COLOURS[i % 7]} {_SUBJECTS[(i // 7) % 5]} {_PLACES[(i // 35) % 6]}"
            f" while the light of the late afternoon falls on it.")


# sample id -> (status, reason) that the broken samples of `broken_corpus` must get
BROKEN_FATES = {
    "cut_jpeg": ("invalid", "probe.truncated"),
    "cut_png": ("invalid", "probe.truncated"),
    "cut_with_size": ("invalid", "probe.truncated"),
    "noise": ("invalid", "probe.unreadable"),
    "empty": ("invalid", "probe.empty"),
    "gone": ("invalid", "probe.missing"),
    "bomb": ("invalid", "probe.too_many_pixels"),
    "nan_width": ("invalid", "read.bad_metadata"),
    "escape": ("invalid", "read.path_escapes_root"),
    "d.jsonl:1": ("invalid", "read.not_utf8"),  # keyed by position: the line cannot be read
    "d.jsonl:2": ("invalid", "read.bad_json"),
    "anim": ("filtered", "filter.animated"),
    "nul": ("filtered", "filter.bad_encoding"),
    "url": ("filtered", "filter.url"),
    "long": ("filtered", "filter.too_long"),
}


def broken_corpus(root: Path, n_good: int = 35) -> Path:
    """`root/src/d.jsonl`: the 15 broken samples of `BROKEN_FATES` (30% of 50 by default) around
    `n_good` good caption samples (ids g00 ...): a line that is not UTF-8 and one that is not JSON,
    bad images made with Pillow, bad metadata, a path out of the root, and captions the filters
    drop."""
    src = root / "src"
    src.mkdir(parents=True)
    (root / "outside.jpg").write_bytes(jpeg())
    records: list = [
        b'{"id": "latin1", "image": "ok.jpg", "caption": "caf\xe9 au lait on a small wooden table"}',
        b'{"id": "cut_json", "image": "ok.jpg", "capt',
    ]
    for i in range(n_good):
        (src / f"g{i:02d}.jpg").write_bytes(jpeg(seed=i))
        records.append({"id": f"g{i:02d}", "image": f"g{i:02d}.jpg", "caption": good_caption(i)})
    files = {"cut_jpeg.jpg": truncated(jpeg(seed=101)), "cut_png.png": truncated(png(seed=102)),
             "cut_with_size.jpg": truncated(jpeg(seed=103)), "noise.jpg": garbage(), "empty.jpg": b"",
             "bomb.png": png_bomb(), "anim.gif": animated("GIF"), "ok.jpg": jpeg(seed=104)}
    for name, data in files.items():
        (src / name).write_bytes(data)
    cap = good_caption(n_good)
    records += [
        {"id": "cut_jpeg", "image": "cut_jpeg.jpg", "caption": cap},
        {"id": "cut_png", "image": "cut_png.png", "caption": cap},
        {"id": "cut_with_size", "image": "cut_with_size.jpg", "caption": cap, "width": 320, "height": 240},
        {"id": "noise", "image": "noise.jpg", "caption": cap},
        {"id": "empty", "image": "empty.jpg", "caption": cap},
        {"id": "gone", "image": "gone.jpg", "caption": cap},
        {"id": "bomb", "image": "bomb.png", "caption": cap},
        {"id": "nan_width", "image": "ok.jpg", "caption": cap, "width": float("nan"), "height": 240},
        {"id": "escape", "image": "../outside.jpg", "caption": cap},
    ]
    records += [
        {"id": "anim", "image": "anim.gif", "caption": good_caption(n_good + 1)},
        {"id": "nul", "image": "ok.jpg", "caption": "A small\x00 dog runs across a green park today."},
        {"id": "url", "image": "ok.jpg", "caption": "Buy now at www.example-shop.com cheap dogs and cats"},
        {"id": "long", "image": "ok.jpg", "caption": "the dog runs and the cat sleeps " * 40_000},
    ]
    return write_jsonl(src / "d.jsonl", records)
