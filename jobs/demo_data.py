"""A small, realistic, deterministic demo corpus for `vlpack demo`.

Six sources in four formats, made with Pillow and numpy from one seed:
- ``web_alt``      img2dataset-style tars (JPEG/PNG/WebP, EXIF-rotated JPEGs, width/height in
                   key.json for most, not all): noisy web alt-text, exact and near duplicates,
                   a few non-English captions.
- ``coco_style``   canonical JSONL, short caption form, no sizes (the probe reads the headers),
                   with a few very large and very small images.
- ``llava_vqa``    LLaVA conversation JSON with ``<image>`` placeholders, multi-turn.
- ``grounding``    canonical JSONL with answers in the report's tag grammar, some malformed.
- ``video``        videos given by metadata (fps, frames, duration) over directories of frames.
- ``text_only``    text-only instruction data.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import yaml
from PIL import Image

ADJ = ["red", "small", "old", "wooden", "bright", "quiet", "busy", "snowy", "green", "tall", "rusty", "striped",
       "sleepy", "colorful", "empty", "crowded", "shiny", "ancient", "modern", "foggy"]
NOUN = ["dog", "cat", "bicycle", "lighthouse", "market", "bridge", "teapot", "sailboat", "tractor", "garden",
        "violin", "train", "kitchen", "mountain", "street", "horse", "library", "umbrella", "castle", "fox"]
PLACE = ["on a beach", "in a park", "next to a river", "under a bridge", "in the city", "at sunset",
         "in the snow", "on a wooden table", "near the harbor", "in a field of flowers", "beside a road",
         "inside a museum", "on a hill", "in the rain", "at night"]
VERB = ["sits", "stands", "rests", "waits", "is shown", "is parked", "glows", "leans", "lies", "appears"]
DETAIL = ["with soft light", "surrounded by people", "with mountains behind it", "in warm colors",
          "seen from above", "with a blue sky", "covered in leaves", "reflected in the water", "", ""]
FOREIGN = [
    "ein roter Hund sitzt auf einer Holzbank im Park",
    "un petit chat dort sur le rebord de la fenêtre",
    "un tren antiguo cruza un puente de piedra al atardecer",
    "一只小猫坐在窗台上晒太阳",
    "un vecchio faro bianco sulla scogliera al tramonto",
    "古い木造の家が雪に覆われている",
]
NOISY = [
    "IMG_{n:04d}.jpg",
    "stock photo of a {adj} {noun}",
    "Click here to buy the {adj} {noun} now",
    "http://www.example.com/images/{noun}-{n}.png",
    "{n}{n}{n}{n}",
    "2019-05-{d:02d}",
    "a {noun} {place} {place} {place} {place}",
    "{noun} {noun} {noun} {noun}",
    "!!! ### $$$ ***",
    "image may contain: {noun}",
    "dsc",
]
QUESTIONS = ["What is in the picture?", "What color is the {noun}?", "Where was this photo taken?",
             "How many objects can you see?", "Describe the scene briefly."]
TEXT_PROMPTS = ["Explain why the sky is blue.", "Write a haiku about {noun}s.", "Give three tips for packing a bag.",
                "Summarise the idea of offline data packing.", "What is the capital of France?"]


def _caption(rng: np.random.Generator) -> str:
    c = f"a {rng.choice(ADJ)} {rng.choice(NOUN)} {rng.choice(VERB)} {rng.choice(PLACE)}"
    d = rng.choice(DETAIL)
    return f"{c} {d}".strip()


def _typo(rng: np.random.Generator, text: str) -> str:
    i = int(rng.integers(2, max(3, len(text) - 2)))
    return text[:i] + text[i + 1] + text[i] + text[i + 2:] if i + 2 <= len(text) else text + "s"


def _noisy(rng: np.random.Generator) -> str:
    tmpl = str(rng.choice(NOISY))
    return tmpl.format(n=int(rng.integers(10, 9999)), d=int(rng.integers(1, 28)), adj=rng.choice(ADJ),
                       noun=rng.choice(NOUN), place=rng.choice(PLACE))


def _image(rng: np.random.Generator, w: int, h: int) -> Image.Image:
    """A smooth random picture: gradients plus a few blobs (compresses like a photo)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = rng.uniform(0, 255, size=3)
    gx, gy = rng.uniform(-0.6, 0.6, size=(2, 3)) * 255 / max(w, h)
    img = base[None, None, :] + xx[..., None] * gx + yy[..., None] * gy
    for _ in range(3):
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.1, 0.4) * max(w, h)
        col = rng.uniform(-120, 120, size=3)
        img += col * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))[..., None]
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")


def _encode(img: Image.Image, fmt: str, orientation: int | None = None) -> bytes:
    buf = io.BytesIO()
    if fmt == "JPEG":
        kw = {"quality": 85}
        if orientation:
            exif = Image.Exif()
            exif[0x0112] = orientation
            kw["exif"] = exif.tobytes()
        img.save(buf, "JPEG", **kw)
    elif fmt == "PNG":
        img.save(buf, "PNG", optimize=False)
    else:
        img.save(buf, "WEBP", quality=80, method=0)
    return buf.getvalue()


class _ImagePool:
    """A pool of distinct encoded images; samples reuse them (as web corpora reuse pictures)."""

    def __init__(self, rng: np.random.Generator, n: int):
        self.items = []
        for i in range(n):
            kind = rng.random()
            if kind < 0.04:
                w, h = int(rng.integers(12, 40)), int(rng.integers(12, 40))  # very small
            elif kind < 0.07:
                w, h = int(rng.integers(2400, 3200)), int(rng.integers(1800, 2400))  # very large
            else:
                w, h = int(rng.integers(96, 900)), int(rng.integers(96, 900))
            fmt = ["JPEG", "JPEG", "PNG", "WEBP"][i % 4]
            orientation = int(rng.choice([3, 6, 8, 5, 7, 2, 4])) if fmt == "JPEG" and rng.random() < 0.15 else None
            stored = _image(rng, w, h)
            upright = (h, w) if orientation in (5, 6, 7, 8) else (w, h)
            self.items.append({"bytes": _encode(stored, fmt, orientation), "ext": {"JPEG": "jpg", "PNG": "png",
                               "WEBP": "webp"}[fmt], "upright": upright, "orientation": orientation})


def _tar_add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), 0, 0o644
    tar.addfile(info, io.BytesIO(data))


def _box(rng: np.random.Generator) -> tuple[int, int, int, int]:
    x1, y1 = int(rng.integers(0, 800)), int(rng.integers(0, 800))
    return x1, y1, int(rng.integers(x1 + 5, 1000)), int(rng.integers(y1 + 5, 1000))


def _grounding_answer(rng: np.random.Generator) -> tuple[str, str]:
    noun = str(rng.choice(NOUN))
    x1, y1, x2, y2 = _box(rng)
    x2, y2 = min(x2, 999), min(y2, 999)
    good = f"<|object_ref_start|>{noun}<|object_ref_end|><|box_start|>({x1},{y1}),({x2},{y2})<|box_end|>"
    r = rng.random()
    if r < 0.06:
        return noun, good.replace("<|box_end|>", "")  # unbalanced
    if r < 0.10:
        return noun, f"<|object_ref_start|>{noun}<|object_ref_end|><|box_start|>({x2},{y2}),({x1},{y1})<|box_end|>"
    if r < 0.13:
        return noun, good.replace(f"({x1},{y1})", f"({x1}, {y1})")  # whitespace inside
    if r < 0.15:
        return noun, good.replace(f"{x2},{y2})", "1000,1000)")  # out of range
    if r < 0.35:
        px, py = int(rng.integers(0, 1000)), int(rng.integers(0, 1000))
        return noun, f"<|object_ref_start|>{noun}<|object_ref_end|><|point_start|>({px},{py})<|point_end|>"
    return noun, good


def _write(path: Path, data: bytes | str) -> None:
    """Write `path` unless it already holds exactly `data`: a second `vlpack demo` leaves the files,
    and so the job's input fingerprint, as they were, and finds its output complete."""
    data = data.encode() if isinstance(data, str) else data
    if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
        return
    path.write_bytes(data)


def make_demo_dataset(out: str | Path, *, samples: int = 2000, seed: int = 0, progress=None) -> Path:
    """Write the demo corpus and its job.yaml under `out`; return the job.yaml path. The corpus is a
    function of (samples, seed); files that already hold the right bytes are not rewritten.

    `progress(what)`, if given, is called as each part starts (for the `demo` command's status)."""
    out = Path(out)
    say = progress or (lambda what: None)
    say(f"images (a pool of {max(24, min(160, samples // 12))})")
    data = out / "data"
    (data / "images").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    pool = _ImagePool(rng, max(24, min(160, samples // 12)))
    for i, item in enumerate(pool.items):
        _write(data / "images" / f"img{i:04d}.{item['ext']}", item["bytes"])

    n_web = int(samples * 0.40)
    n_coco = int(samples * 0.17)
    n_llava = int(samples * 0.17)
    n_ground = int(samples * 0.12)
    n_video = max(2, int(samples * 0.01))
    n_text = max(1, samples - n_web - n_coco - n_llava - n_ground - n_video)

    # web_alt: img2dataset-style tars
    say(f"web_alt ({n_web:,} samples)")
    (data / "web").mkdir(exist_ok=True)
    captions: list[str] = []
    per_tar = 250
    for t in range(0, n_web, per_tar):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
            for k in range(t, min(n_web, t + per_tar)):
                r = rng.random()
                if r < 0.08 and captions:
                    cap = captions[int(rng.integers(0, len(captions)))]  # exact duplicate
                elif r < 0.16 and captions:
                    cap = _typo(rng, captions[int(rng.integers(0, len(captions)))])  # near duplicate
                elif r < 0.34:
                    cap = _noisy(rng)
                elif r < 0.38:
                    cap = str(rng.choice(FOREIGN))
                else:
                    cap = _caption(rng)
                captions.append(cap)
                item = pool.items[int(rng.integers(0, len(pool.items)))]
                key = f"{k:08d}"
                _tar_add(tar, f"{key}.{item['ext']}", item["bytes"])
                _tar_add(tar, f"{key}.txt", cap.encode())
                if rng.random() < 0.85:
                    w, h = item["upright"]
                    meta = {"width": w, "height": h, "url": f"https://example.org/{key}.{item['ext']}"}
                    _tar_add(tar, f"{key}.json", json.dumps(meta).encode())
        _write(data / "web" / f"{t // per_tar:05d}.tar", buf.getvalue())

    # coco_style: canonical short caption JSONL with no sizes
    say(f"coco_style ({n_coco:,} samples)")
    lines = []
    for k in range(n_coco):
        i = int(rng.integers(0, len(pool.items)))
        lines.append(json.dumps({"id": f"c{k:06d}", "image": f"images/img{i:04d}.{pool.items[i]['ext']}",
                                 "caption": _caption(rng) + "."}) + "\n")
    _write(data / "coco_style.jsonl", "".join(lines))

    # llava_vqa: LLaVA conversations
    say(f"llava_vqa ({n_llava:,} samples)")
    convs = []
    for k in range(n_llava):
        i = int(rng.integers(0, len(pool.items)))
        noun = str(rng.choice(NOUN))
        turns = [{"from": "human", "value": "<image>\n" + str(rng.choice(QUESTIONS)).format(noun=noun)},
                 {"from": "gpt", "value": f"It shows {_caption(rng)}."}]
        if rng.random() < 0.4:
            turns += [{"from": "human", "value": "Anything else?"},
                      {"from": "gpt", "value": f"There is also a {rng.choice(ADJ)} {rng.choice(NOUN)} nearby."}]
        convs.append({"id": f"q{k:06d}", "image": f"images/img{i:04d}.{pool.items[i]['ext']}",
                      "conversations": turns})
    _write(data / "llava_vqa.json", json.dumps(convs))

    # grounding: canonical full form, tag grammar answers
    say(f"grounding ({n_ground:,} samples)")
    lines = []
    for k in range(n_ground):
        i = int(rng.integers(0, len(pool.items)))
        noun, answer = _grounding_answer(rng)
        w, h = pool.items[i]["upright"]
        lines.append(json.dumps({
            "id": f"g{k:06d}", "task": "grounding",
            "media": [{"uri": f"images/img{i:04d}.{pool.items[i]['ext']}", "width": w, "height": h}],
            "turns": [{"role": "user", "segments": [{"kind": "image", "media": 0},
                                                     {"kind": "text", "text": f"Locate the {noun}."}]},
                      {"role": "assistant", "segments": [{"kind": "text", "text": answer}]}],
        }) + "\n")
    _write(data / "grounding.jsonl", "".join(lines))

    # video: frame directories with metadata
    say(f"video ({n_video:,} samples)")
    lines = []
    for k in range(n_video):
        vdir = data / "videos" / f"v{k:03d}"
        vdir.mkdir(parents=True, exist_ok=True)
        n_frames, fps = int(rng.integers(12, 40)), 2.0
        w, h = int(rng.choice([320, 480])), int(rng.choice([240, 360]))
        base = _image(rng, w, h)
        for f in range(n_frames):
            frame = base.rotate(f * 3, fillcolor=(0, 0, 0))
            _write(vdir / f"{f:05d}.jpg", _encode(frame, "JPEG"))
        lines.append(json.dumps({
            "id": f"v{k:04d}", "task": "video",
            "media": [{"uri": f"videos/v{k:03d}", "kind": "video", "width": w, "height": h, "fps": fps,
                       "frames": n_frames, "duration": n_frames / fps}],
            "turns": [{"role": "user", "segments": [{"kind": "video", "media": 0},
                                                     {"kind": "text", "text": "What happens in this video?"}]},
                      {"role": "assistant", "segments": [{"kind": "text", "text":
                                                          f"The camera slowly turns around a {rng.choice(NOUN)}."}]}],
        }) + "\n")
    _write(data / "video.jsonl", "".join(lines))

    # text_only
    say(f"text_only ({n_text:,} samples)")
    lines = []
    for k in range(n_text):
        q = str(rng.choice(TEXT_PROMPTS)).format(noun=rng.choice(NOUN))
        a = " ".join(_caption(rng) + "." for _ in range(int(rng.integers(2, 30))))
        lines.append(json.dumps({"id": f"t{k:06d}", "task": "text", "turns": [
            {"role": "user", "segments": [{"kind": "text", "text": q}]},
            {"role": "assistant", "segments": [{"kind": "text", "text": a}]}], "media": []}) + "\n")
    _write(data / "text_only.jsonl", "".join(lines))

    job = {
        "seed": seed,
        "sources": [
            {"name": "web_alt", "format": "wds", "path": "data/web", "task": "caption", "weight": 1.0},
            {"name": "coco_style", "format": "jsonl", "path": "data/coco_style.jsonl", "root": "data",
             "task": "caption", "weight": 1.0},
            {"name": "llava_vqa", "format": "llava", "path": "data/llava_vqa.json", "root": "data", "task": "vqa"},
            {"name": "grounding", "format": "jsonl", "path": "data/grounding.jsonl", "root": "data",
             "task": "grounding", "weight": 1.5},
            {"name": "video", "format": "jsonl", "path": "data/video.jsonl", "root": "data", "task": "video"},
            {"name": "text_only", "format": "jsonl", "path": "data/text_only.jsonl", "root": "data",
             "task": "text", "weight": 0.5},
        ],
        "pack": {"context_length": 8192, "dp_size": 2, "micro_batch": 1, "grad_accum": 2, "packs_per_shard": 8},
        "output": {"dir": "out", "overwrite": True},
    }
    path = out / "job.yaml"
    _write(path, yaml.safe_dump(job, sort_keys=False))
    return path
