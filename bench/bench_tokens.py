"""Token counting from metadata, header probing and text tokenization, each against a baseline.

    python bench/bench_tokens.py [--rows 1000000] [--files 2000] [--texts 20000] [--seed 0]

(a) `image_tokens_np` over `--rows` metadata rows (one core) vs the scalar `image_tokens` loop.
(b) `probe_image` + `image_tokens` vs a decode-and-resize baseline (PIL open, convert("RGB"),
    resize to the planned size) on the same `--files` real JPEG/PNG/WebP/GIF/BMP files of mixed
    sizes (some with EXIF rotation) generated in a temp dir; the page cache is warmed first, so
    both sides are CPU-bound. Also `probe_batch` rows/s over a table of those files, and a check
    that header counts equal counts from the decoded, EXIF-transposed image on a subset.
(c) `TextTokenizer.encode_batch` (bundled Qwen BPE) tokens/s vs tiktoken's thread-pool
    `Encoding.encode_batch`, and `count_tokens_batch` (full chat render) rows/s.

Prints exactly one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from packer.chat import count_tokens_batch  # noqa: E402
from packer.probe import probe_batch, probe_image  # noqa: E402
from packer.tokenizer import load_tokenizer  # noqa: E402
from packer.tokens import image_tokens, image_tokens_np, resized_size  # noqa: E402
from schemas.sample import Media, Sample, Segment, Turn, records_to_table, with_work_columns  # noqa: E402
from schemas.tokens_config import ProbeConfig, TokensConfig  # noqa: E402


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


# ---------------------------------------------------------------------------------------------
# (a) vectorised counting


def bench_vectorised(rows: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    w = np.exp(rng.uniform(np.log(32), np.log(8000), rows)).astype(np.int32)
    aspect = np.exp(rng.normal(0, 0.5, rows))
    h = np.clip(np.rint(w * aspect), 1, None).astype(np.int32)
    t_vec = best_of(lambda: image_tokens_np(w, h))
    n_scalar = min(rows, 100_000)
    ws, hs = w[:n_scalar].tolist(), h[:n_scalar].tolist()

    def scalar():
        for a, b in zip(ws, hs):
            with contextlib.suppress(ValueError):
                image_tokens(a, b)

    t_scalar = best_of(scalar, repeat=1)
    tokens, bad = image_tokens_np(w, h)
    return {
        "a_rows": rows,
        "a_images_per_s_per_core": round(rows / t_vec),
        "a_scalar_images_per_s": round(n_scalar / t_scalar),
        "a_ratio_vs_scalar": round((rows / t_vec) / (n_scalar / t_scalar), 1),
        "a_target_2M_met": rows / t_vec >= 2_000_000,
        "a_mean_tokens": round(float(tokens[~bad].mean()), 1),
    }


# ---------------------------------------------------------------------------------------------
# (b) header probing vs decode-and-resize


def make_files(root: Path, n: int, seed: int) -> list[tuple[str, str]]:
    """`n` real image files of mixed formats and sizes (64 px to 2600 px a side, some EXIF-rotated).

    Content is a photo-like texture (smooth colour field plus grain) cropped per file; lossless
    formats are written at a fast compression level (writing is not what is measured)."""
    from PIL import Image

    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    textures = []
    for _ in range(4):
        low = nrng.integers(0, 255, (12, 16, 3), dtype=np.uint8)
        base = np.asarray(Image.fromarray(low).resize((2600, 2600), Image.BICUBIC), dtype=np.int16)
        grain = nrng.integers(-12, 13, (2600, 2600, 3), dtype=np.int16)
        textures.append(Image.fromarray(np.clip(base + grain, 0, 255).astype(np.uint8)))
    formats = [("JPEG", "jpg")] * 10 + [("PNG", "png")] * 4 + [("WEBP", "webp")] * 4 + [("GIF", "gif"), ("BMP", "bmp")]
    files = []
    for i in range(n):
        fmt, ext = rng.choice(formats)
        w = int(np.exp(rng.uniform(np.log(64), np.log(2600))))
        h = min(2600, max(16, int(w * np.exp(rng.gauss(0, 0.45)))))
        if fmt in ("PNG", "BMP", "GIF"):  # keep lossless files to a realistic size
            w, h = min(w, 1400), min(h, 1400)
        x, y = rng.randrange(0, 2600 - w + 1), rng.randrange(0, 2600 - h + 1)
        im = rng.choice(textures).crop((x, y, x + w, y + h))
        path = root / f"{i:05d}.{ext}"
        kw = {}
        if fmt == "JPEG":
            kw["quality"] = rng.choice([75, 85, 95])
            if rng.random() < 0.25:
                exif = Image.Exif()
                exif[0x0112] = rng.choice([3, 6, 8])
                kw["exif"] = exif
        elif fmt == "WEBP":
            kw.update(quality=80, method=0)
        elif fmt == "PNG":
            kw["compress_level"] = 1
        elif fmt == "GIF":
            im = im.quantize(64)
        im.save(path, fmt, **kw)
        files.append((str(path), fmt))
    return files


def bench_probe(n_files: int, seed: int) -> dict:
    from PIL import Image, ImageOps

    cfg = ProbeConfig()
    with tempfile.TemporaryDirectory(prefix="bench_tokens_") as tmp:
        t0 = time.perf_counter()
        files = make_files(Path(tmp), n_files, seed)
        t_make = time.perf_counter() - t0
        paths = [p for p, _ in files]
        total_bytes = sum(os.path.getsize(p) for p in paths)
        for p in paths:  # warm the page cache for both sides
            Path(p).read_bytes()

        def ours():
            out = []
            for p in paths:
                r = probe_image(p, cfg)
                out.append(image_tokens(r.width, r.height))
            return out

        def baseline():
            out = []
            for p in paths:
                with Image.open(p) as im:
                    rgb = im.convert("RGB")
                    tw, th = resized_size(*rgb.size)
                    rgb.resize((tw, th), Image.BICUBIC)
                    out.append((tw // 28) * (th // 28))
            return out

        t_ours = best_of(ours, repeat=3)
        t_base = best_of(baseline, repeat=1)

        # exactness: header counts equal the counts of the decoded, EXIF-transposed image
        sub = paths[:: max(1, len(paths) // 200)]
        header = {p: image_tokens(probe_image(p, cfg).width, probe_image(p, cfg).height) for p in sub}
        mismatches = 0
        for p in sub:
            with Image.open(p) as im:
                mismatches += image_tokens(*ImageOps.exif_transpose(im).size) != header[p]

        table = with_work_columns(records_to_table([
            Sample(sample_id=f"b{i}", source="bench", media=[Media(uri=p)],
                   turns=[Turn(role="assistant", segments=[Segment(text="x")])])
            for i, p in enumerate(paths)
        ]))
        t_batch = best_of(lambda: probe_batch(table, cfg), repeat=2)
        _, counters = probe_batch(table, cfg)

    fmts: dict[str, int] = {}
    for _, f in files:
        fmts[f.lower()] = fmts.get(f.lower(), 0) + 1
    return {
        "b_files": n_files,
        "b_formats": fmts,
        "b_mean_file_kb": round(total_bytes / n_files / 1024, 1),
        "b_probe_files_per_s": round(n_files / t_ours),
        "b_decode_resize_files_per_s": round(n_files / t_base, 1),
        "b_ratio": round(t_base / t_ours, 1),
        "b_target_20x_met": t_base / t_ours >= 20,
        "b_probe_batch_rows_per_s": round(n_files / t_batch),
        "b_probe_batch_invalid": sum(v for k, v in counters.items() if k != "probe.headers_read"),
        "b_exactness_checked": len(sub),
        "b_exactness_mismatches": int(mismatches),
        "b_make_files_s": round(t_make, 1),
    }


# ---------------------------------------------------------------------------------------------
# (c) text


_WORD_TEXT = (
    "a an the cat dog man woman child red blue green small large old new wooden stone sits stands "
    "runs walks on in near under next to behind with holding wearing street park beach kitchen table "
    "sofa window car bus bicycle tree sky water building sign photo of view shows there is are two three "
    "people group sunny cloudy night bright dark white black yellow"
)
WORDS = tuple(_WORD_TEXT.split(" "))


def captions(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words = [rng.choice(WORDS) for _ in range(rng.randint(6, 80))]
        if rng.random() < 0.2:
            words.insert(rng.randrange(len(words)), f"<|box_start|>({rng.randint(0, 999):03d},"
                                                     f"{rng.randint(0, 999):03d}),(999,999)<|box_end|>")
        if rng.random() < 0.1:
            words.append("这是一张照片，天气很好。")
        out.append(" ".join(words).capitalize() + ".")
    return out


def bench_text(n: int, seed: int) -> dict:
    tok = load_tokenizer("qwen")
    texts = captions(n, seed)
    n_tokens = sum(len(ids) for ids in tok.encode_batch(texts))
    t_ours = best_of(lambda: tok.encode_batch(texts))
    enc = tok._enc  # the same tiktoken Encoding, through tiktoken's thread-pool batch API
    assert enc.encode_batch(texts[:100], allowed_special="all") == tok.encode_batch(texts[:100])
    t_tiktoken = best_of(lambda: enc.encode_batch(texts, allowed_special="all"))

    cfg = TokensConfig()
    rng = random.Random(seed)
    table = with_work_columns(records_to_table([
        Sample(sample_id=f"t{i}", source="bench", media=[Media(uri="/x.jpg", width=rng.randint(64, 4000),
                                                               height=rng.randint(64, 4000))],
               turns=[Turn(role="assistant", segments=[Segment(text=t)])])
        for i, t in enumerate(texts)
    ]))
    t_rows = best_of(lambda: count_tokens_batch(table, tok, cfg, seed), repeat=2)
    return {
        "c_texts": n,
        "c_tokens": n_tokens,
        "c_tokens_per_s": round(n_tokens / t_ours),
        "c_tiktoken_threadpool_tokens_per_s": round(n_tokens / t_tiktoken),
        "c_ratio_vs_tiktoken_threadpool": round(t_tiktoken / t_ours, 2),
        "c_count_tokens_batch_rows_per_s": round(n / t_rows),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--texts", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    result = {"bench": "tokens"}
    result.update(bench_vectorised(args.rows, args.seed))
    result.update(bench_probe(args.files, args.seed))
    result.update(bench_text(args.texts, args.seed))
    result["cpus"] = os.cpu_count()
    result["load_avg_1m"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
