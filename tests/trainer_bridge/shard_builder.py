"""Build a small committed vlpack output directory in the shard format, for tests and the benchmark.

Written with Python's tarfile directly (trainer_bridge must not depend on the packer): OUT/manifest.json,
OUT/index/packs.parquet and OUT/shards/rank-RRRRR/shard-SSSSSS.tar with KEY.json, KEY.tokens.npy,
KEY.labels.npy and KEY.<i>.<ext> (or KEY.<i>.f<j>.jpg frames for a video).
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from schemas.manifest import (
    PACKS_PATH,
    PACKS_SCHEMA,
    ImageLayout,
    Manifest,
    PackLayout,
    SampleLayout,
    pack_key,
    shard_name,
)

SPECIAL = {
    "<|endoftext|>": 151643,
    "<|vision_start|>": 151652,
    "<|vision_end|>": 151653,
    "<|image_pad|>": 151655,
    "<|video_pad|>": 151656,
}
PAD, VSTART, VEND, IMAGE_PAD, VIDEO_PAD = (SPECIAL[k] for k in SPECIAL)
TARGETS = [(56, 56), (84, 56), (56, 112), (112, 84)]  # (w, h), multiples of 28
MODES = ["RGB", "RGBA", "L", "P", "LA", "CMYK", "I;16"]


def encode_image(mode: str, size: tuple[int, int], rng: np.random.Generator) -> tuple[bytes, str]:
    """A small real image of ``mode`` (JPEG for RGB/L/CMYK, PNG for the rest, TIFF for I;16)."""
    w, h = size
    base = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    img = Image.fromarray(base, "RGB")
    buf = io.BytesIO()
    if mode in ("RGB", "L", "CMYK"):
        img.convert(mode).save(buf, "JPEG", quality=90)
        return buf.getvalue(), "jpg"
    if mode == "I;16":
        arr = (rng.integers(0, 65536, (h, w))).astype(np.uint16)
        Image.fromarray(arr).save(buf, "PNG")
        return buf.getvalue(), "png"
    if mode == "P":
        img.convert("P", palette=Image.Palette.ADAPTIVE, colors=16).save(buf, "PNG")
        return buf.getvalue(), "png"
    alpha = Image.fromarray(rng.integers(0, 256, (h, w), dtype=np.uint8), "L")
    conv = img.convert("RGBA" if mode == "RGBA" else "LA")
    conv.putalpha(alpha)
    conv.save(buf, "PNG")
    return buf.getvalue(), "png"


@dataclass
class BuiltPack:
    layout: PackLayout
    members: dict[str, bytes] = field(default_factory=dict)


def make_pack(
    pack_id: int,
    step: int,
    rank: int,
    micro: int,
    seq_len: int,
    rng: np.random.Generator,
    *,
    with_media: bool = True,
    video: bool = False,
    targets: list[tuple[int, int]] = TARGETS,
    source_px: tuple[int, int] = (40, 160),
) -> BuiltPack:
    ids: list[int] = []
    labels: list[int] = []
    samples, images, members = [], [], {}
    n_samples = int(rng.integers(1, 4))
    for j in range(n_samples):
        start = len(ids)
        prompt = rng.integers(10, 1000, int(rng.integers(3, 10))).tolist()
        ids += prompt
        labels += [-100] * len(prompt)
        if with_media and rng.random() < 0.7:
            i = len(images)
            target = targets[int(rng.integers(len(targets)))]
            is_video = video and i == 0
            grid_t = 2 if is_video else 1
            tokens = grid_t * (target[0] // 28) * (target[1] // 28)
            ids.append(VSTART)
            offset = len(ids)
            ids += [VIDEO_PAD if is_video else IMAGE_PAD] * tokens
            ids.append(VEND)
            labels += [-100] * (tokens + 2)
            src = (int(rng.integers(*source_px)), int(rng.integers(*source_px)))
            if is_video:
                frames = [0, 5, 10, 15]
                for f in frames:
                    members[f"{i}.f{f}.jpg"], _ = encode_image("RGB", src, rng)
                member = f"{i}.mp4"
            else:
                data, ext = encode_image(MODES[int(rng.integers(len(MODES)))], src, rng)
                member = f"{i}.{ext}"
                members[member] = data
                frames = None
            images.append(
                ImageLayout(
                    sample=j,
                    member=member,
                    kind="video" if is_video else "image",
                    offset=offset,
                    tokens=tokens,
                    grid_thw=(grid_t, target[1] // 14, target[0] // 14),
                    target_size=target,
                    frames=frames,
                    fps=2.0 if is_video else None,
                )
            )
        answer = rng.integers(10, 1000, int(rng.integers(2, 9))).tolist()
        ids += answer
        labels += answer
        loss_tokens = len(answer)
        samples.append(
            SampleLayout(
                id=f"s{pack_id}-{j}",
                source="test",
                task="caption",
                offset=start,
                length=len(ids) - start,
                loss_tokens=loss_tokens,
            )
        )
    real = len(ids)
    assert real <= seq_len, (real, seq_len)
    ids += [PAD] * (seq_len - real)
    labels += [-100] * (seq_len - real)
    layout = PackLayout(
        pack_id=pack_id,
        step=step,
        rank=rank,
        micro=micro,
        seq_len=seq_len,
        real_tokens=real,
        samples=samples,
        images=images,
    )
    members["json"] = layout.model_dump_json().encode()
    members["tokens.npy"] = npy(np.asarray(ids, dtype=np.int32))
    members["labels.npy"] = npy(np.asarray(labels, dtype=np.int32))
    return BuiltPack(layout, members)


def npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def write_tar(path: Path, packs: list[BuiltPack]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    order = ["json", "tokens.npy", "labels.npy"]
    with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as tar:
        for pack in packs:
            key = pack_key(pack.layout.pack_id)
            suffixes = order + sorted(s for s in pack.members if s not in order)
            for suffix in suffixes:
                data = pack.members[suffix]
                info = tarfile.TarInfo(f"{key}.{suffix}")
                info.size, info.mtime, info.mode = len(data), 0, 0o644
                tar.addfile(info, io.BytesIO(data))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_out(
    out: Path,
    *,
    dp_size: int = 2,
    micro_batch: int = 1,
    grad_accum: int = 2,
    n_steps: int = 3,
    seq_len: int = 256,
    packs_per_shard: int = 2,
    seed: int = 0,
    with_media: bool = True,
    video: bool = True,
    **pack_options,
) -> list[BuiltPack]:
    """Write a committed OUT; returns the packs in pack_id order."""
    rng = np.random.default_rng(seed)
    out = Path(out)
    per_rank = micro_batch * grad_accum
    built: list[BuiltPack] = []
    by_rank: dict[int, list[BuiltPack]] = {r: [] for r in range(dp_size)}
    pack_id = 0
    for step in range(n_steps):
        for rank in range(dp_size):
            for micro in range(per_rank):
                pack = make_pack(
                    pack_id,
                    step,
                    rank,
                    micro,
                    seq_len,
                    rng,
                    with_media=with_media,
                    video=video and pack_id % 3 == 1,
                    **pack_options,
                )
                built.append(pack)
                by_rank[rank].append(pack)
                pack_id += 1
    rows, shards = [], []
    for rank, packs in by_rank.items():
        for index in range(0, len(packs), packs_per_shard):
            chunk = packs[index : index + packs_per_shard]
            rel = shard_name(rank, index // packs_per_shard)
            write_tar(out / rel, chunk)
            shards.append(
                {
                    "path": rel,
                    "rank": rank,
                    "sha256": sha256(out / rel),
                    "bytes": (out / rel).stat().st_size,
                    "n_packs": len(chunk),
                }
            )
            for p in chunk:
                lay = p.layout
                patches = sum(4 * im.tokens for im in lay.images)
                rows.append(
                    {
                        "pack_id": lay.pack_id,
                        "step": lay.step,
                        "rank": lay.rank,
                        "micro": lay.micro,
                        "shard": rel,
                        "key": pack_key(lay.pack_id),
                        "n_samples": len(lay.samples),
                        "n_images": len(lay.images),
                        "real_tokens": lay.real_tokens,
                        "seq_len": lay.seq_len,
                        "vit_patches": patches,
                        "vit_bucket": patches,
                        "loss_tokens": sum(s.loss_tokens for s in lay.samples),
                        "attn_cost": float(sum(s.length**2 for s in lay.samples)),
                        "vit_cost": float(patches),
                        "is_filler": False,
                        "repeat_of": -1,
                    }
                )
    rows.sort(key=lambda r: r["pack_id"])
    (out / "index").mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=PACKS_SCHEMA), out / PACKS_PATH)
    manifest = Manifest(
        vlpack_version="0.1.0",
        config_fingerprint=f"test-{seed}",
        seed=seed,
        dp_size=dp_size,
        micro_batch=micro_batch,
        grad_accum=grad_accum,
        context_length=seq_len,
        n_steps=n_steps,
        n_packs=len(built),
        n_samples_packed=sum(len(p.layout.samples) for p in built),
        n_input_rows=0,
        shards=shards,
        indexes={PACKS_PATH: sha256(out / PACKS_PATH)},
        tokenizer="qwen",
        special_tokens=SPECIAL,
    )
    (out / "manifest.json").write_text(manifest.model_dump_json(indent=1))
    return built
