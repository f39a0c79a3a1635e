"""Materialising a planned pack: render its samples, concatenate, pad to the bucket, attach media.

Planning (`packer.packing`, `packer.steps`) knows only integers; this is the second half that
turns one planned pack and its sample rows into a `PackPayload` for the shard writer. Each sample
comes as the token-count stage rendered it (kept compact, `packer.chat.expand_rendered`), so the
tokens written are exactly the tokens planned; any difference is a `PlanMismatchError` naming the
pack. The layouts are built from plain ints and
strings made here, so they skip pydantic's validation (`model_construct`); readers validate them.
"""

from __future__ import annotations

import numpy as np

from packer.chat import RenderedSample
from packer.media import extension_for, frame_files, read_media_bytes
from packer.shards import PackPayload
from schemas.manifest import ImageLayout, PackLayout, SampleLayout, pack_key

IGNORE_INDEX = -100


class PlanMismatchError(RuntimeError):
    """The rendered pack differs from its plan (a programming error, never a data fault)."""


def materialize_pack(pack: dict, rows: list[dict], rendered: list[RenderedSample], tokenizer) -> PackPayload:
    """`pack` is one packs.parquet row (dict); `rows` its samples (WORK_SCHEMA dicts) in order and
    `rendered` their renderings (`packer.chat.expand_rendered` of what the token stage kept);
    `tokenizer` gives the padding id."""
    pid = int(pack["pack_id"])
    key = pack_key(pid)
    seq_len = int(pack["seq_len"])
    pad_id = tokenizer.special["<|endoftext|>"]
    ids_parts, label_parts = [], []
    samples: list[SampleLayout] = []
    images: list[ImageLayout] = []
    media: list[tuple[str, bytes]] = []
    offset = 0
    for si, row in enumerate(rows):
        r = rendered[si]
        n = len(r.input_ids)
        if n != int(row["total_tokens"]):
            raise PlanMismatchError(
                f"pack {key}: sample {row['sample_id']} renders to {n} tokens but {row['total_tokens']} were planned"
            )
        ids_parts.append(np.asarray(r.input_ids, dtype=np.int32))
        label_parts.append(np.asarray(r.labels, dtype=np.int32))
        samples.append(SampleLayout.model_construct(
            id=row["sample_id"], copy_index=int(row["copy"]), source=row["source"], task=row["task"], offset=offset,
            length=n, loss_tokens=int(r.loss_tokens)))
        for span in r.media:
            m = row["media"][span.media_index]
            idx = len(images)
            if span.kind == "video" and span.frame_indices is not None:
                files = frame_files(m["uri"])
                suffix = f"{idx}.f"
                for j in span.frame_indices:
                    name = files[j]
                    media.append((f"{idx}.f{j:05d}.{extension_for(name, None)}", read_media_bytes(name)))
                member = suffix
            else:
                member = f"{idx}.{extension_for(m['uri'], m.get('format'))}"
                media.append((member, read_media_bytes(m["uri"])))
            images.append(ImageLayout.model_construct(
                sample=si, member=member, kind=span.kind, offset=offset + int(span.offset), tokens=int(span.tokens),
                grid_thw=tuple(int(x) for x in span.grid_thw), target_size=tuple(int(x) for x in span.target_size),
                frames=[int(j) for j in span.frame_indices] if span.frame_indices is not None else None,
                fps=span.fps,
            ))
        offset += n
    real = offset
    if real != int(pack["real_tokens"]):
        raise PlanMismatchError(f"pack {key}: {real} real tokens rendered, {pack['real_tokens']} planned")
    if real > seq_len:
        raise PlanMismatchError(f"pack {key}: {real} tokens do not fit its bucket {seq_len}")
    input_ids = np.full(seq_len, pad_id, dtype=np.int32)
    labels = np.full(seq_len, IGNORE_INDEX, dtype=np.int32)
    if ids_parts:
        input_ids[:real] = np.concatenate(ids_parts)
        labels[:real] = np.concatenate(label_parts)
    layout = PackLayout(pack_id=pid, step=int(pack["step"]), rank=int(pack["rank"]), micro=int(pack["micro"]),
                        seq_len=seq_len, real_tokens=real, samples=samples, images=images)
    return PackPayload(key=key, layout=layout, input_ids=input_ids, labels=labels, media=media)
