"""Materialising a planned pack: lay its samples end to end, pad to the bucket, attach media.

Planning (`packer.packing`, `packer.steps`) knows only integers; this is the second half that
turns one planned pack and its sample rows into a `PackPayload` for the shard writer. The samples
come as the token-count stage rendered them (kept compact, expanded together by
`packer.chat.expand_pack`), so the tokens written are exactly the tokens planned; any difference
is a `PlanMismatchError` naming the pack. The layout is validated once, as one nested structure.
"""

from __future__ import annotations

import numpy as np

from packer.chat import IGNORE_INDEX, ExpandedPack
from packer.media import extension_for, frame_files, read_media_bytes
from packer.shards import PackPayload
from schemas.manifest import PackLayout, pack_key


class PlanMismatchError(RuntimeError):
    """The rendered pack differs from its plan (a programming error, never a data fault)."""


def materialize_pack(pack: dict, rows: list[dict], rendered: ExpandedPack, pad_id: int) -> PackPayload:
    """`pack` is one packs.parquet row (dict); `rows` its samples (WORK_SCHEMA dicts) in order and
    `rendered` their renderings end to end (`packer.chat.expand_pack` of what the token stage
    kept); `pad_id` fills the pack up to its bucket (the tokenizer's `<|endoftext|>`)."""
    pid = int(pack["pack_id"])
    key = pack_key(pid)
    seq_len = int(pack["seq_len"])
    offsets = rendered.offsets.tolist()
    loss = rendered.loss_tokens.tolist()
    if len(rows) != len(offsets) - 1:
        raise PlanMismatchError(f"pack {key}: {len(rows)} samples but {len(offsets) - 1} renderings")
    samples: list[dict] = []
    images: list[dict] = []
    media: list[tuple[str, bytes]] = []
    for si, row in enumerate(rows):
        offset = offsets[si]
        n = offsets[si + 1] - offset
        if n != row["total_tokens"]:
            raise PlanMismatchError(
                f"pack {key}: sample {row['sample_id']} renders to {n} tokens but {row['total_tokens']} were planned"
            )
        samples.append({"id": row["sample_id"], "copy_index": row["copy"], "source": row["source"],
                        "task": row["task"], "offset": offset, "length": n, "loss_tokens": loss[si]})
        for span in rendered.media[si]:
            m = row["media"][span.media_index]
            idx = len(images)
            if span.kind == "video" and span.frame_indices is not None:
                files = frame_files(m["uri"])
                for j in span.frame_indices:
                    name = files[j]
                    media.append((f"{idx}.f{j:05d}.{extension_for(name, None)}", read_media_bytes(name)))
                member = f"{idx}.f"
            else:
                member = f"{idx}.{extension_for(m['uri'], m.get('format'))}"
                media.append((member, read_media_bytes(m["uri"])))
            images.append({"sample": si, "member": member, "kind": span.kind, "offset": offset + span.offset,
                           "tokens": span.tokens, "grid_thw": span.grid_thw, "target_size": span.target_size,
                           "frames": span.frame_indices, "fps": span.fps})
    real = offsets[-1]
    if real != int(pack["real_tokens"]):
        raise PlanMismatchError(f"pack {key}: {real} real tokens rendered, {pack['real_tokens']} planned")
    if real > seq_len:
        raise PlanMismatchError(f"pack {key}: {real} tokens do not fit its bucket {seq_len}")
    input_ids = np.full(seq_len, pad_id, dtype=np.int32)
    labels = np.full(seq_len, IGNORE_INDEX, dtype=np.int32)
    input_ids[:real] = rendered.input_ids
    labels[:real] = rendered.labels
    layout = PackLayout.model_validate({"pack_id": pid, "step": int(pack["step"]), "rank": int(pack["rank"]),
                                        "micro": int(pack["micro"]), "seq_len": seq_len, "real_tokens": real,
                                        "samples": samples, "images": images})
    return PackPayload(key=key, layout=layout, input_ids=input_ids, labels=labels, media=media)
