"""Render one sample into the exact token sequence the trainer sees (Qwen2-VL chat template).

    <|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n
    <|im_start|>user\\n<|vision_start|><|image_pad|>*N<|vision_end|>Describe this image.<|im_end|>\\n
    <|im_start|>assistant\\nA cat on a sofa.<|im_end|>\\n

- Each image segment expands to `<|vision_start|>` + N x `<|image_pad|>` + `<|vision_end|>`, N
  from `packer.tokens.image_tokens`; video segments use `<|video_pad|>` and `plan_video`.
- Media that no segment references go at the start of the first user turn, in media order.
- A caption-only sample (assistant turn(s), no user turn) gets a user turn holding its media and
  a prompt drawn deterministically from a pool of varied caption questions (AuroraEdge §4.3).
- Labels equal input_ids on assistant text and its `<|im_end|>`, -100 elsewhere (not shifted;
  the trainer shifts). The role header `assistant\\n` is tokenized apart from the content, so the
  label boundary is always a token boundary.

`render_samples` is the one implementation. The token-counting stage calls it
(`count_tokens_batch`) and keeps each sample's rendering in a compact form (`expand_rendered`);
the shard writer expands that instead of rendering again, so planned counts equal written ones.
Text is encoded in one batch per call, with repeated strings (role headers, prompts) encoded once.
"""

from __future__ import annotations

import json
import struct
from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pyarrow as pa

from packer.tokenizer import TextTokenizer
from packer.tokens import MediaTokenError, SampleError, plan_video, resized_size, stable_unit
from schemas.sample import RENDERED_FIELD, STATUS_OK, WORK_SCHEMA
from schemas.tokens_config import TokensConfig

__all__ = [
    "CAPTION_PROMPTS",
    "CONTROL_TAGS",
    "DEFAULT_SYSTEM_PROMPT",
    "IGNORE_INDEX",
    "MediaSpan",
    "MediaTokenError",
    "RenderedSample",
    "SampleError",
    "caption_prompt",
    "count_tokens_batch",
    "ExpandedPack",
    "expand_pack",
    "expand_rendered",
    "render_sample",
    "render_samples",
]

IGNORE_INDEX = -100
DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant."
# Tags that only the renderer may place: in sample text they would break the turn structure or
# add image/video pads with no media behind them (the model counts pads to place features).
CONTROL_TAGS = ("<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|vision_start|>", "<|vision_end|>",
                "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>")

# Varied ways of asking for a caption (AuroraEdge §4.3: caption data has no query of its own;
# asking in many ways gives more diverse samples). Our own wording.
CAPTION_PROMPTS: dict[str, tuple[str, ...]] = {
    "image": (
        "Describe this image.",
        "What is in the picture?",
        "What do you see in this image?",
        "Give a short description of the image.",
        "Write a caption for this picture.",
        "Tell me what this image shows.",
        "Can you describe what is happening in this photo?",
        "Summarize the content of the image.",
        "What does this picture depict?",
        "Provide a brief caption for the image.",
        "Explain what can be seen here.",
        "How would you describe this scene?",
        "Look at the image and describe it.",
        "What is shown in this photo?",
        "Caption this image.",
        "Describe the main content of this picture.",
    ),
    "images": (
        "Describe these images.",
        "What do these pictures show?",
        "Write a caption for these images.",
        "Tell me what you see in these pictures.",
        "Summarize the content of the images.",
        "What is happening in these photos?",
        "Give a short description of the images.",
        "How would you describe these pictures?",
    ),
    "video": (
        "Describe this video.",
        "What happens in the video?",
        "Summarize the content of this clip.",
        "Tell me what this video shows.",
        "Write a caption for the video.",
        "What is going on in this footage?",
        "Give a short description of the video.",
        "Describe the events in this video.",
    ),
}


@dataclass(frozen=True)
class MediaSpan:
    """Where one image or video sits in the rendered sequence."""

    media_index: int  # index into the sample's media list
    kind: str  # "image" | "video"
    offset: int  # position of the first pad token in input_ids
    tokens: int  # number of pad tokens
    grid_thw: tuple[int, int, int]  # in ViT patches (t, h / patch, w / patch)
    target_size: tuple[int, int]  # (width, height) to resize the upright image / frames to
    frame_indices: list[int] | None = None  # video: the sampled source frames
    fps: float | None = None  # video: sampled frames per second of video time


@dataclass(frozen=True)
class RenderedSample:
    input_ids: np.ndarray  # int32
    labels: np.ndarray  # int32, IGNORE_INDEX where not supervised
    media: list[MediaSpan]
    text_tokens: int  # total_tokens - vision_tokens (template and role tokens included)
    vision_tokens: int  # pad tokens + <|vision_start|>/<|vision_end|> per media item
    loss_tokens: int  # labels != IGNORE_INDEX
    total_tokens: int
    vit_patches: int  # merge_size**2 per pad token
    n_images: int  # media items rendered (images and videos)


def caption_prompt(sample_id: str, seed: int, kinds: list[str], cfg: TokensConfig) -> str:
    """The prompt a caption-only sample gets: a stable draw keyed by (seed, sample_id)."""
    if isinstance(cfg.prompt_pool, tuple):
        pool = cfg.prompt_pool
    elif "video" in kinds:
        pool = CAPTION_PROMPTS["video"]
    elif len(kinds) > 1:
        pool = CAPTION_PROMPTS["images"]
    else:
        pool = CAPTION_PROMPTS["image"]
    return pool[int(stable_unit(seed, sample_id, "caption_prompt") * len(pool))]


# ---------------------------------------------------------------------------------------------
# Planning: a sample becomes a list of pieces, text still as strings.

_TEXT, _SPECIAL, _MEDIA = 0, 1, 2


class _MediaPlan(NamedTuple):  # one per media item of every sample: a tuple is the cheapest to make
    media_index: int
    kind: str
    tokens: int
    grid_thw: tuple[int, int, int]
    target_size: tuple[int, int]
    frame_indices: list[int] | None
    fps: float | None = None


def _plan_media(index: int, m: dict, row: dict, cfg: TokensConfig, seed: int) -> _MediaPlan:
    kind = m.get("kind") or "image"
    if m.get("width") is None or m.get("height") is None:
        raise MediaTokenError("tokens.missing_size", f"media {index} ({m.get('uri')}) has no width/height")
    if kind == "video":
        plan = plan_video(duration=m.get("duration"), fps=m.get("fps"), frames=m.get("frames"),
                          width=m["width"], height=m["height"], sample_id=row["sample_id"], seed=seed,
                          task=row.get("task") or "", cfg=cfg)
        return _MediaPlan(index, kind, plan.tokens, plan.grid_thw, (plan.width, plan.height),
                          plan.frame_indices, plan.frames_per_second or None)
    if kind != "image":
        raise MediaTokenError("tokens.bad_media_kind", f"media {index} has kind {kind!r}")
    w, h = resized_size(m["width"], m["height"], min_pixels=cfg.min_pixels, max_pixels=cfg.max_pixels,
                        patch_size=cfg.patch_size, merge_size=cfg.merge_size,
                        max_aspect_ratio=cfg.max_aspect_ratio)
    factor = cfg.patch_size * cfg.merge_size
    return _MediaPlan(index, kind, (w // factor) * (h // factor),
                      (1, h // cfg.patch_size, w // cfg.patch_size), (w, h), None)


def _plan_sample(row: dict, tok: TextTokenizer, cfg: TokensConfig, seed: int) -> list[tuple]:
    sp = tok.special
    media = row.get("media") or []
    turns = row.get("turns") or []  # never changed in place: a new list wherever a turn is added
    roles = [t["role"] for t in turns]
    if "assistant" not in roles:
        raise SampleError("tokens.no_assistant_turn", "sample has no assistant turn")

    referenced: set[int] = set()
    for t in turns:
        for seg in t["segments"] or []:
            if seg["kind"] == "text":
                body = seg.get("text") or ""
                if "<|" in body and any(tag in body for tag in CONTROL_TAGS):
                    tag = next(tag for tag in CONTROL_TAGS if tag in body)
                    raise SampleError("tokens.control_token_in_text", f"{t['role']} text contains {tag}")
                continue
            idx = seg.get("media")
            if idx is None or not 0 <= idx < len(media):
                raise SampleError("tokens.bad_media_index",
                                  f"{seg['kind']} segment refers to media {idx}, sample has {len(media)}")
            if idx in referenced:
                raise SampleError("tokens.duplicate_media_ref", f"media {idx} is referenced twice")
            if (media[idx].get("kind") or "image") != seg["kind"]:
                raise SampleError("tokens.media_kind_mismatch",
                                  f"{seg['kind']} segment refers to {media[idx].get('kind')} media {idx}")
            referenced.add(idx)
    plans = [_plan_media(i, m, row, cfg, seed) for i, m in enumerate(media)]
    unreferenced = [i for i in range(len(media)) if i not in referenced] if referenced else list(range(len(media)))

    # Caption-only: a user turn with the media and a prompt goes before the first assistant turn.
    if media and "user" not in roles:
        kinds = [plans[i].kind for i in unreferenced] or [p.kind for p in plans]
        prompt = caption_prompt(row["sample_id"], seed, kinds, cfg)
        first_assistant = roles.index("assistant")
        user = {"role": "user", "segments": [{"kind": "text", "text": prompt, "media": None}]}
        turns = turns[:first_assistant] + [user] + turns[first_assistant:]

    if "system" not in roles:
        system = DEFAULT_SYSTEM_PROMPT if cfg.system_prompt is None else cfg.system_prompt
        if system:
            turns = [{"role": "system", "segments": [{"kind": "text", "text": system, "media": None}]}, *turns]

    im_start = (_SPECIAL, sp["<|im_start|>"], False)
    im_end_id = sp["<|im_end|>"]
    pieces: list[tuple] = []
    append = pieces.append
    first_user_done = False
    for t in turns:
        role = t["role"]
        if role not in _ROLE_HEADERS:
            raise SampleError("tokens.bad_role", f"turn role {role!r}")
        labelled = role == "assistant"
        append(im_start)
        append(_ROLE_HEADERS[role])
        if role == "user" and not first_user_done:
            first_user_done = True
            pieces.extend((_MEDIA, plans[i], False) for i in unreferenced)
        segments = t["segments"] or []
        if len(segments) == 1 and segments[0]["kind"] == "text":  # the usual turn: one text
            append((_TEXT, segments[0].get("text") or "", labelled))
        else:
            text_run: list[str] = []
            for seg in segments:
                if seg["kind"] == "text":
                    text_run.append(seg.get("text") or "")
                    continue
                if text_run:
                    append((_TEXT, "".join(text_run), labelled))
                    text_run = []
                append((_MEDIA, plans[seg["media"]], False))
            if text_run:
                append((_TEXT, "".join(text_run), labelled))
        append((_SPECIAL, im_end_id, labelled))
        append(_TURN_END)
    return pieces


_ROLE_HEADERS = {role: (_TEXT, f"{role}\n", False) for role in ("system", "user", "assistant")}
_TURN_END = (_TEXT, "\n", False)


# ---------------------------------------------------------------------------------------------
# Assembly


def _assemble(pieces: list[tuple], encoded: dict[str, np.ndarray], tok: TextTokenizer,
              cfg: TokensConfig) -> RenderedSample:
    sp = tok.special
    v_start, v_end = sp["<|vision_start|>"], sp["<|vision_end|>"]
    pad_id = {"image": sp["<|image_pad|>"], "video": sp["<|video_pad|>"]}
    total = 0
    for kind, payload, _ in pieces:
        total += len(encoded[payload]) if kind == _TEXT else 1 if kind == _SPECIAL else payload.tokens + 2
    input_ids = np.empty(total, dtype=np.int32)
    labels = np.full(total, IGNORE_INDEX, dtype=np.int32)
    spans: list[MediaSpan] = []
    pos = vision = pads = loss = 0
    for kind, payload, labelled in pieces:
        if kind == _TEXT:
            toks = encoded[payload]
            n = len(toks)
            input_ids[pos:pos + n] = toks
        elif kind == _SPECIAL:
            n = 1
            input_ids[pos] = payload
        else:
            p: _MediaPlan = payload
            n = p.tokens + 2
            input_ids[pos] = v_start
            input_ids[pos + 1:pos + n - 1] = pad_id[p.kind]
            input_ids[pos + n - 1] = v_end
            spans.append(MediaSpan(p.media_index, p.kind, pos + 1, p.tokens, p.grid_thw, p.target_size,
                                   p.frame_indices, p.fps))
            vision += n
            pads += p.tokens
        if labelled:  # only text and <|im_end|> of assistant turns; media never
            labels[pos:pos + n] = input_ids[pos:pos + n]
            loss += n
        pos += n
    return RenderedSample(
        input_ids=input_ids,
        labels=labels,
        media=spans,
        text_tokens=total - vision,
        vision_tokens=vision,
        loss_tokens=loss,
        total_tokens=total,
        vit_patches=pads * cfg.merge_size * cfg.merge_size,
        n_images=len(spans),
    )


class TokenCounts(NamedTuple):
    """What the token-count stage records of a sample: `_assemble`'s counts, without its arrays
    (one per sample: a tuple is the cheapest to make; fields in `_COUNT_COLUMNS` order)."""

    text_tokens: int
    vision_tokens: int
    loss_tokens: int
    total_tokens: int
    vit_patches: int
    n_images: int


def _count(pieces: list[tuple], encoded: dict[str, np.ndarray], cfg: TokensConfig) -> TokenCounts:
    """The counts `_assemble` would report for `pieces`, from lengths alone (the token stage needs
    no arrays; the shard writer assembles them). Kept equal to `_assemble` by tests."""
    total = vision = pads = loss = images = 0
    for kind, payload, labelled in pieces:
        if kind == _TEXT:
            n = len(encoded[payload])
        elif kind == _SPECIAL:
            n = 1
        else:
            n = payload.tokens + 2
            vision += n
            pads += payload.tokens
            images += 1
        if labelled:
            loss += n
        total += n
    return _token_counts(total, vision, loss, pads, images, cfg)


def _token_counts(total: int, vision: int, loss: int, pads: int, images: int, cfg: TokensConfig) -> TokenCounts:
    """The counts of a sample from its running sums (tokens; vision tokens, pads included; labelled
    tokens; media pad tokens; media items), as `_count` and `_compact` tally them."""
    return TokenCounts(text_tokens=total - vision, vision_tokens=vision, loss_tokens=loss, total_tokens=total,
                       vit_patches=pads * cfg.merge_size * cfg.merge_size, n_images=images)


# ---------------------------------------------------------------------------------------------
# The compact form: what the token stage keeps of a rendered sample, so that the shard writer
# expands it instead of rendering again. Each media item's pad run is kept as one pad token; label
# runs and media facts sit beside the ids. Layout (little-endian): four int32 (ids, label runs,
# bytes of the media JSON, 0), the ids, the runs as [start, end) pairs over the ids, then per
# media item as JSON [media_index, kind, position of its pad among the ids, tokens, grid_thw,
# target_size, frame_indices, fps].

_COMPACT_HEAD = struct.Struct("<4i")


def _compact(pieces: list[tuple], encoded: dict[str, bytes], tok: TextTokenizer,
             cfg: TokensConfig) -> tuple[TokenCounts, bytes]:
    """The counts `_count` gives and the compact form, in one pass. `encoded`: each text's ids as
    little-endian int32 bytes (`_as_i32_bytes`); the form is laid out by joining bytes."""
    sp = tok.special
    pad_id = {"image": sp["<|image_pad|>"], "video": sp["<|video_pad|>"]}
    parts: list[bytes] = []
    runs: list[int] = []
    media: list[list] = []
    pos = total = vision = pads = loss = 0
    for kind, payload, labelled in pieces:
        if kind == _TEXT:
            ids = encoded[payload]
            n = tokens = len(ids) >> 2
        elif kind == _SPECIAL:
            ids = _I32.pack(payload)
            n = tokens = 1
        else:
            p: _MediaPlan = payload
            ids = _I32X3.pack(sp["<|vision_start|>"], pad_id[p.kind], sp["<|vision_end|>"])
            n = 3
            tokens = p.tokens + 2
            vision += tokens
            pads += p.tokens
            media.append([p.media_index, p.kind, pos + 1, p.tokens, list(p.grid_thw), list(p.target_size),
                          p.frame_indices, p.fps])
        parts.append(ids)
        total += tokens
        if labelled:
            loss += tokens
            if n:
                if runs and runs[-1] == pos:
                    runs[-1] = pos + n
                else:
                    runs += [pos, pos + n]
        pos += n
    facts = _media_json(media) if media else b""
    counts = _token_counts(total, vision, loss, pads, len(media), cfg)
    return counts, b"".join([_COMPACT_HEAD.pack(pos, len(runs) // 2, len(facts), 0), *parts,
                             struct.pack(f"<{len(runs)}i", *runs), facts])


def _media_json(media: list[list]) -> bytes:
    """`json.dumps(media, separators=(",", ":"))`, encoded; images (ints, no frames, no fps) formatted
    directly, as json writes them."""
    if all(m[1] == "image" and m[6] is None and m[7] is None for m in media):
        return ("[" + ",".join(f'[{m[0]:d},"image",{m[2]:d},{m[3]:d},[{m[4][0]:d},{m[4][1]:d},{m[4][2]:d}],'
                                f'[{m[5][0]:d},{m[5][1]:d}],null,null]' for m in media) + "]").encode()
    return json.dumps(media, separators=(",", ":")).encode()


_I32 = struct.Struct("<i")
_I32X3 = struct.Struct("<3i")


def _as_i32_bytes(encoded: dict[str, np.ndarray]) -> dict[str, bytes]:
    return {t: ids.astype("<i4", copy=False).tobytes() for t, ids in encoded.items()}


def expand_rendered(blob: bytes, cfg: TokensConfig) -> RenderedSample:
    """The `RenderedSample` that `render_sample` gives, from its compact form (`count_tokens_batch`
    with `keep_rendered`): ids, labels, spans and counts, equal field for field."""
    one = expand_pack([blob])
    media = one.media[0]
    pads = sum(m.tokens for m in media)
    vision = pads + 2 * len(media)
    total = int(one.input_ids.shape[0])
    return RenderedSample(input_ids=one.input_ids, labels=one.labels, media=media, text_tokens=total - vision,
                          vision_tokens=vision, loss_tokens=int(one.loss_tokens[0]), total_tokens=total,
                          vit_patches=pads * cfg.merge_size * cfg.merge_size, n_images=len(media))


@dataclass(frozen=True)
class ExpandedPack:
    """Several samples' renderings laid end to end: what `expand_rendered` gives each sample,
    concatenated in order (`offsets[i]:offsets[i + 1]` is sample i; span offsets are within the
    sample, as in `RenderedSample`)."""

    input_ids: np.ndarray  # int32, every sample's ids
    labels: np.ndarray  # int32
    offsets: np.ndarray  # int64, (n + 1,): where each sample starts, then the end
    loss_tokens: np.ndarray  # int64, (n,)
    media: list[list[MediaSpan]]  # per sample


def expand_pack(blobs: list[bytes]) -> ExpandedPack:
    """`expand_rendered` of each compact form, concatenated, with one pass of array work for the
    whole list instead of one per sample (the shard writer expands a pack's samples together)."""
    heads = [_COMPACT_HEAD.unpack_from(b) for b in blobs]
    at = _COMPACT_HEAD.size
    n_ids = np.fromiter((h[0] for h in heads), np.int64, len(heads))
    id_starts = np.zeros(len(heads) + 1, np.int64)
    np.cumsum(n_ids, out=id_starts[1:])
    total = int(id_starts[-1])
    ids = (np.concatenate([np.frombuffer(b, "<i4", h[0], at) for b, h in zip(blobs, heads)]) if heads
           else np.zeros(0, "<i4"))
    starts = id_starts.tolist()
    runs: list[np.ndarray] = []
    for k, (b, (ni, nr, _, _)) in enumerate(zip(blobs, heads)):
        if nr:
            runs.append(np.frombuffer(b, "<i4", 2 * nr, at + 4 * ni) + starts[k])
    # every sample's media JSON in one parse; each pad's place among the compact ids and its count
    with_media = [k for k, h in enumerate(heads) if h[2]]
    facts: list[list] = [[] for _ in heads]
    pads_at: list[int] = []
    pad_counts: list[int] = []
    if with_media:
        parsed = json.loads(b"[" + b",".join(blobs[k][at + 4 * (heads[k][0] + 2 * heads[k][1]):]
                                             for k in with_media) + b"]")
        for k, media in zip(with_media, parsed):
            facts[k] = media
            for m in media:
                pads_at.append(starts[k] + m[2])
                pad_counts.append(m[3])
    reps = np.ones(total, np.int64)
    reps[pads_at] = pad_counts
    # labelled ids: +1 where a label run starts, -1 where one ends (runs of adjacent samples may meet)
    edges = np.concatenate(runs) if runs else np.zeros(0, np.int64)
    depth = np.cumsum(np.bincount(edges[0::2], minlength=total + 1) - np.bincount(edges[1::2], minlength=total + 1))
    labelled = depth[:total] > 0
    input_ids = np.repeat(ids, reps).astype(np.int32)
    labels = np.where(np.repeat(labelled, reps), input_ids, IGNORE_INDEX).astype(np.int32)
    expanded_at = np.zeros(total + 1, np.int64)  # where each compact id starts once pads are expanded
    np.cumsum(reps, out=expanded_at[1:])
    offsets = expanded_at[id_starts]
    supervised = np.zeros(len(input_ids) + 1, np.int64)
    np.cumsum(labels != IGNORE_INDEX, out=supervised[1:])
    pad_starts = iter(expanded_at[pads_at].tolist())  # in the order of the facts
    sample_starts = offsets.tolist()
    spans = [[MediaSpan(m[0], m[1], next(pad_starts) - sample_starts[k], m[3], tuple(m[4]), tuple(m[5]), m[6], m[7])
              for m in media] for k, media in enumerate(facts)]
    return ExpandedPack(input_ids=input_ids, labels=labels, offsets=offsets,
                        loss_tokens=supervised[offsets[1:]] - supervised[offsets[:-1]], media=spans)


def render_samples(rows: list[dict], tokenizer: TextTokenizer, cfg: TokensConfig,
                   seed: int, *, counts_only: bool = False, compact: bool = False
                   ) -> list[RenderedSample | TokenCounts | tuple[TokenCounts, bytes] | SampleError]:
    """Render many rows with one batched text encode. A bad row yields its `SampleError`
    (a `MediaTokenError` for media faults) in its place; other exceptions propagate.
    `counts_only`: `TokenCounts` instead of the token and label arrays; `compact`: `TokenCounts`
    and the compact form (`expand_rendered`)."""
    plans: list[list[tuple] | SampleError] = []
    texts: dict[str, None] = {}
    for row in rows:
        try:
            pieces = _plan_sample(row, tokenizer, cfg, seed)
        except SampleError as e:
            plans.append(e)
            continue
        plans.append(pieces)
        for kind, payload, _ in pieces:
            if kind == _TEXT:
                texts[payload] = None
    unique = list(texts)
    encoded = {t: np.asarray(ids, dtype=np.int32)
               for t, ids in zip(unique, tokenizer.encode_batch(unique) if unique else [])}
    if compact:
        as_bytes = _as_i32_bytes(encoded)
        return [p if isinstance(p, SampleError) else _compact(p, as_bytes, tokenizer, cfg) for p in plans]
    if counts_only:
        return [p if isinstance(p, SampleError) else _count(p, encoded, cfg) for p in plans]
    return [p if isinstance(p, SampleError) else _assemble(p, encoded, tokenizer, cfg) for p in plans]


def render_sample(row: dict, tokenizer: TextTokenizer, cfg: TokensConfig, seed: int) -> RenderedSample:
    """Render one WORK_SCHEMA row dict (media sizes already probed). Raises `SampleError` /
    `MediaTokenError` with a `.reason` code for a bad sample."""
    out = render_samples([row], tokenizer, cfg, seed)[0]
    if isinstance(out, SampleError):
        raise out
    return out


_COUNT_COLUMNS = TokenCounts._fields


def count_tokens_batch(table: pa.Table, tokenizer: TextTokenizer, cfg: TokensConfig,
                       seed: int, *, keep_rendered: bool = False) -> tuple[pa.Table, dict[str, int]]:
    """Fill the token-count columns of the status-"ok" rows of a WORK_SCHEMA table.

    Bad rows become `invalid` with the reason code. Returns the table (WORK_SCHEMA, plus the
    `rendered` column with `keep_rendered`: each counted row's compact form, null elsewhere) and
    counters per reason plus `tokens.counted`.
    """
    table = table.select(WORK_SCHEMA.names).cast(WORK_SCHEMA)
    statuses = table.column("status").to_pylist()
    reasons = table.column("reason").to_pylist()
    ok_idx = [i for i, s in enumerate(statuses) if s == STATUS_OK]
    counters: Counter[str] = Counter()
    cols = {name: table.column(name).to_pylist() for name in _COUNT_COLUMNS}
    rendered: list[bytes | None] = [None] * table.num_rows
    if ok_idx:
        sub = table.take(pa.array(ok_idx, pa.int64())).select(["sample_id", "task", "turns", "media"])
        results = render_samples(sub.to_pylist(), tokenizer, cfg, seed, counts_only=True, compact=keep_rendered)
        columns = [cols[name] for name in _COUNT_COLUMNS]  # TokenCounts' fields, in order
        for i, r in zip(ok_idx, results):
            if isinstance(r, SampleError):
                statuses[i] = "invalid"
                reasons[i] = r.reason
                counters[r.reason] += 1
                for column in columns:
                    column[i] = None
                continue
            if keep_rendered:
                r, rendered[i] = r
            counters["tokens.counted"] += 1
            for column, value in zip(columns, r):
                column[i] = value
    for name, values in [("status", statuses), ("reason", reasons)] + list(cols.items()):
        field = WORK_SCHEMA.field(name)
        table = table.set_column(table.schema.get_field_index(name), field, pa.array(values, field.type))
    if keep_rendered:
        table = table.append_column(RENDERED_FIELD, pa.array(rendered, RENDERED_FIELD.type))
    return table, dict(counters)
