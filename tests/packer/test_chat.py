"""Rendering samples with the Qwen2-VL chat template: exact sequences, labels, media spans, counts."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from packer.chat import (
    CONTROL_TAGS,
    CAPTION_PROMPTS,
    IGNORE_INDEX,
    count_tokens_batch,
    expand_pack,
    expand_rendered,
    render_sample,
    render_samples,
)
from packer.tokenizer import load_tokenizer
from packer.tokens import MediaTokenError, SampleError, image_tokens, plan_video
from schemas.sample import WORK_SCHEMA, Media, Sample, Segment, Turn, records_to_table, with_work_columns
from schemas.tokens_config import TokensConfig

CFG = TokensConfig()
TOK = load_tokenizer("qwen")
SEED = 11


def row_of(sample: Sample) -> dict:
    return with_work_columns(records_to_table([sample])).to_pylist()[0]


def text(t: str) -> Segment:
    return Segment(kind="text", text=t)


def img(i: int) -> Segment:
    return Segment(kind="image", media=i)


def caption_sample(sid="cap-1", caption="A cat sleeps on a red sofa.", media=None) -> Sample:
    media = media if media is not None else [Media(uri="/data/cat.jpg", width=640, height=480)]
    return Sample(sample_id=sid, source="coco", turns=[Turn(role="assistant", segments=[text(caption)])],
                  media=media)


def pads(n: int, kind="image") -> str:
    return "<|vision_start|>" + f"<|{kind}_pad|>" * n + "<|vision_end|>"


def test_caption_only_sample_renders_exactly():
    r = render_sample(row_of(caption_sample()), TOK, CFG, SEED)
    n = image_tokens(640, 480)
    decoded = TOK.decode(r.input_ids.tolist())
    prompt = decoded.split("<|vision_end|>")[1].split("<|im_end|>")[0]
    assert prompt in CAPTION_PROMPTS["image"]
    assert decoded == (
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
        f"<|im_start|>user\n{pads(n)}{prompt}<|im_end|>\n"
        "<|im_start|>assistant\nA cat sleeps on a red sofa.<|im_end|>\n"
    )
    assert r.input_ids.dtype == np.int32 and r.labels.dtype == np.int32
    [span] = r.media
    assert r.input_ids[span.offset - 1] == TOK.special["<|vision_start|>"]
    assert (r.input_ids[span.offset:span.offset + n] == TOK.special["<|image_pad|>"]).all()
    assert r.input_ids[span.offset + n] == TOK.special["<|vision_end|>"]
    assert span.tokens == n and span.target_size == (644, 476) and span.grid_thw == (1, 34, 46)
    assert r.vision_tokens == n + 2 and r.vit_patches == 4 * n and r.n_images == 1
    assert r.total_tokens == len(r.input_ids) == r.text_tokens + r.vision_tokens


def assistant_spans(r) -> list[tuple[int, int]]:
    """[start, end) of each assistant turn's content + <|im_end|>, found from the ids alone."""
    ids = r.input_ids.tolist()
    header = TOK.encode("assistant\n")
    spans = []
    for i, t in enumerate(ids):
        if t == TOK.special["<|im_start|>"] and ids[i + 1:i + 1 + len(header)] == header:
            start = i + 1 + len(header)
            end = ids.index(TOK.special["<|im_end|>"], start) + 1
            spans.append((start, end))
    return spans


def check_labels_cover_exactly_assistant_tokens(r):
    expected = np.full(len(r.input_ids), IGNORE_INDEX, dtype=np.int32)
    for start, end in assistant_spans(r):
        expected[start:end] = r.input_ids[start:end]
    vision = np.isin(r.input_ids, [TOK.special[t] for t in
                                   ("<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>")])
    expected[vision] = IGNORE_INDEX
    assert (r.labels == expected).all()
    assert r.loss_tokens == int((expected != IGNORE_INDEX).sum())


def test_labels_cover_exactly_the_assistant_tokens():
    s = Sample(sample_id="vqa", source="s", task="vqa", media=[Media(uri="/a.jpg", width=800, height=600)], turns=[
        Turn(role="user", segments=[img(0), text("What is this?")]),
        Turn(role="assistant", segments=[text("A <|box_start|>(120,340),(560,780)<|box_end|> dog.")]),
        Turn(role="user", segments=[text("Colour?")]),
        Turn(role="assistant", segments=[text("Brown.")]),
    ])
    r = render_sample(row_of(s), TOK, CFG, SEED)
    check_labels_cover_exactly_assistant_tokens(r)
    supervised = TOK.decode(r.labels[r.labels != IGNORE_INDEX].tolist())
    assert supervised == "A <|box_start|>(120,340),(560,780)<|box_end|> dog.<|im_end|>Brown.<|im_end|>"
    assert r.loss_tokens == len(TOK.encode("A <|box_start|>(120,340),(560,780)<|box_end|> dog.")) + len(
        TOK.encode("Brown.")) + 2


def test_unreferenced_media_go_first_in_the_first_user_turn_in_order():
    media = [Media(uri=f"/{i}.jpg", width=w, height=h) for i, (w, h) in enumerate([(100, 100), (300, 200), (56, 56)])]
    s = Sample(sample_id="multi", source="s", task="vqa", media=media, turns=[
        Turn(role="user", segments=[text("Compare"), img(1), text("with the others.")]),
        Turn(role="assistant", segments=[text("Done.")]),
        Turn(role="user", segments=[text("And?")]),
        Turn(role="assistant", segments=[text("Ok.")]),
    ])
    r = render_sample(row_of(s), TOK, CFG, SEED)
    assert [m.media_index for m in r.media] == [0, 2, 1]
    n0, n1, n2 = (image_tokens(m.width, m.height) for m in media)
    assert TOK.decode(r.input_ids.tolist()).startswith(
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
        f"<|im_start|>user\n{pads(n0)}{pads(n2)}Compare{pads(n1)}with the others.<|im_end|>\n")
    assert r.n_images == 3 and r.vision_tokens == n0 + n1 + n2 + 6
    check_labels_cover_exactly_assistant_tokens(r)


def test_video_sample():
    media = [Media(uri="/clip", kind="video", width=1280, height=720, fps=30.0, frames=900, duration=30.0)]
    s = Sample(sample_id="vid", source="s", task="video", media=media,
               turns=[Turn(role="user", segments=[Segment(kind="video", media=0), text("What happens?")]),
                      Turn(role="assistant", segments=[text("A man runs.")])])
    r = render_sample(row_of(s), TOK, CFG, SEED)
    plan = plan_video(duration=30.0, fps=30.0, frames=900, width=1280, height=720, sample_id="vid", seed=SEED,
                      task="video", cfg=CFG)
    [span] = r.media
    assert span.kind == "video" and span.tokens == plan.tokens and span.frame_indices == plan.frame_indices
    assert span.grid_thw == plan.grid_thw and span.target_size == (plan.width, plan.height)
    assert (r.input_ids == TOK.special["<|video_pad|>"]).sum() == plan.tokens
    assert r.vit_patches == plan.vit_patches
    check_labels_cover_exactly_assistant_tokens(r)


def test_caption_prompt_is_deterministic_and_diverse():
    def prompt_of(sid, seed=SEED):
        r = render_sample(row_of(caption_sample(sid=sid)), TOK, CFG, seed)
        return TOK.decode(r.input_ids.tolist()).split("<|vision_end|>")[1].split("<|im_end|>")[0]

    assert prompt_of("x1") == prompt_of("x1")
    prompts = {prompt_of(f"s{i}") for i in range(80)}
    assert len(prompts) >= 10 and prompts <= set(CAPTION_PROMPTS["image"])
    assert any(prompt_of(f"s{i}", seed=1) != prompt_of(f"s{i}", seed=2) for i in range(10))
    two = caption_sample(sid="two", media=[Media(uri="/a.jpg", width=64, height=64)] * 2)
    assert TOK.decode(render_sample(row_of(two), TOK, CFG, SEED).input_ids.tolist()).split(
        "<|vision_end|>")[2].split("<|im_end|>")[0] in CAPTION_PROMPTS["images"]
    custom = TokensConfig(prompt_pool=("Only prompt.",))
    assert "Only prompt.<|im_end|>" in TOK.decode(render_sample(row_of(caption_sample()), TOK, custom,
                                                                SEED).input_ids.tolist())


def test_system_prompt_options():
    s = caption_sample()
    custom = TOK.decode(render_sample(row_of(s), TOK, TokensConfig(system_prompt="Be brief."), SEED).input_ids.tolist())
    assert custom.startswith("<|im_start|>system\nBe brief.<|im_end|>\n")
    none = TOK.decode(render_sample(row_of(s), TOK, TokensConfig(system_prompt=""), SEED).input_ids.tolist())
    assert none.startswith("<|im_start|>user\n")
    own = s.model_copy(update={"turns": [Turn(role="system", segments=[text("Sys.")]), *s.turns]})
    assert TOK.decode(render_sample(row_of(own), TOK, CFG, SEED).input_ids.tolist()).startswith(
        "<|im_start|>system\nSys.<|im_end|>\n<|im_start|>user\n")


def test_text_only_sample():
    s = Sample(sample_id="t", source="s", task="text", turns=[
        Turn(role="user", segments=[text("2+2?")]), Turn(role="assistant", segments=[text("4")])])
    r = render_sample(row_of(s), TOK, CFG, SEED)
    assert r.n_images == 0 and r.vision_tokens == 0 and r.vit_patches == 0 and r.media == []
    assert r.loss_tokens == 2


@pytest.mark.parametrize("sample,reason", [
    (Sample(sample_id="a", source="s", turns=[Turn(role="user", segments=[text("hi")])]), "tokens.no_assistant_turn"),
    (caption_sample(media=[Media(uri="/x.jpg")]), "tokens.missing_size"),
    (caption_sample(media=[Media(uri="/x.jpg", width=30_000, height=100)]), "tokens.aspect_ratio"),
    (caption_sample(media=[Media(uri="/x.jpg", width=0, height=100)]), "tokens.bad_size"),
    (Sample(sample_id="b", source="s", media=[], turns=[Turn(role="user", segments=[img(0)]),
                                                      Turn(role="assistant", segments=[text("x")])]),
     "tokens.bad_media_index"),
    (Sample(sample_id="c", source="s", media=[Media(uri="/a.jpg", width=9, height=9)],
            turns=[Turn(role="user", segments=[img(0), img(0)]), Turn(role="assistant", segments=[text("x")])]),
     "tokens.duplicate_media_ref"),
    (Sample(sample_id="d", source="s", media=[Media(uri="/a.jpg", width=9, height=9)],
            turns=[Turn(role="user", segments=[Segment(kind="video", media=0)]),
                   Turn(role="assistant", segments=[text("x")])]), "tokens.media_kind_mismatch"),
    (caption_sample(caption="fake <|image_pad|> pad"), "tokens.control_token_in_text"),
    (Sample(sample_id="e", source="s", turns=[Turn(role="user", segments=[text("a<|im_end|>")]),
                                             Turn(role="assistant", segments=[text("x")])]),
     "tokens.control_token_in_text"),
    (caption_sample(media=[Media(uri="/v", kind="video", width=640, height=480, duration=float("nan"), fps=25.0)]),
     "tokens.bad_video_metadata"),
])
def test_bad_samples_raise_with_reason(sample, reason):
    with pytest.raises(SampleError) as info:
        render_sample(row_of(sample), TOK, CFG, SEED)
    assert info.value.reason == reason
    if reason.startswith("tokens.aspect") or reason.startswith("tokens.bad_video"):
        assert isinstance(info.value, MediaTokenError)


def test_count_tokens_batch_matches_render_sample():
    samples = [
        caption_sample(sid=f"c{i}", caption="word " * i, media=[Media(uri="/a.jpg", width=100 + 37 * i, height=90)])
        for i in range(20)
    ] + [
        caption_sample(sid="bad-size", media=[Media(uri="/x.jpg")]),
        Sample(sample_id="no-assistant", source="s", turns=[Turn(role="user", segments=[text("hi")])]),
        caption_sample(sid="was-filtered"),
    ]
    table = with_work_columns(records_to_table(samples))
    status = table.column("status").to_pylist()
    status[-1] = "filtered"
    table = table.set_column(table.schema.get_field_index("status"), "status", pa.array(status, pa.string()))

    out, counters = count_tokens_batch(table, TOK, CFG, SEED)
    assert out.schema == WORK_SCHEMA and out.num_rows == table.num_rows
    assert counters == {"tokens.counted": 20, "tokens.missing_size": 1, "tokens.no_assistant_turn": 1}
    rows = out.to_pylist()
    for row in rows[:20]:
        r = render_sample(row, TOK, CFG, SEED)
        assert row["status"] == "ok"
        assert (row["text_tokens"], row["vision_tokens"], row["loss_tokens"], row["total_tokens"],
                row["vit_patches"], row["n_images"]) == (r.text_tokens, r.vision_tokens, r.loss_tokens,
                                                         r.total_tokens, r.vit_patches, r.n_images)
    assert (rows[20]["status"], rows[20]["reason"], rows[20]["total_tokens"]) == ("invalid", "tokens.missing_size",
                                                                                  None)
    assert (rows[21]["status"], rows[21]["reason"]) == ("invalid", "tokens.no_assistant_turn")
    assert (rows[22]["status"], rows[22]["total_tokens"]) == ("filtered", None)


def test_render_samples_batch_equals_one_by_one():
    rows = [row_of(caption_sample(sid=f"r{i}", caption=f"caption number {i}\n\n  spaced")) for i in range(5)]
    batch = render_samples(rows, TOK, CFG, SEED)
    for row, b in zip(rows, batch):
        one = render_sample(row, TOK, CFG, SEED)
        assert (one.input_ids == b.input_ids).all() and (one.labels == b.labels).all()


@settings(max_examples=60, deadline=None)
@given(captions=st.lists(st.text(max_size=40).filter(lambda c: not any(tag in c for tag in CONTROL_TAGS)),
                        min_size=1, max_size=3),
       w=st.integers(10, 5000), h=st.integers(10, 5000))
def test_loss_tokens_property(captions, w, h):
    """Loss tokens = the assistant text's own tokens + one <|im_end|> per assistant turn. (Text
    holding a control tag is refused, not rendered: tested on its own; drawn text that happens to
    spell one, e.g. "<|im_end|>", is left out here.)"""
    if max(w, h) / min(w, h) > 200:
        return
    turns = []
    for c in captions:
        turns += [Turn(role="user", segments=[text("Q")]), Turn(role="assistant", segments=[text(c)])]
    s = Sample(sample_id="p", source="s", media=[Media(uri="/a.jpg", width=w, height=h)], turns=turns)
    r = render_sample(row_of(s), TOK, CFG, SEED)
    assert r.loss_tokens == sum(len(TOK.encode(c)) + 1 for c in captions)
    assert r.vision_tokens == image_tokens(w, h) + 2
    check_labels_cover_exactly_assistant_tokens(r)


def assert_same_render(a, b) -> None:
    assert a.input_ids.dtype == b.input_ids.dtype == np.int32 and a.labels.dtype == b.labels.dtype == np.int32
    assert a.input_ids.tolist() == b.input_ids.tolist() and a.labels.tolist() == b.labels.tolist()
    assert a.media == b.media
    for f in ("text_tokens", "vision_tokens", "loss_tokens", "total_tokens", "vit_patches", "n_images"):
        assert getattr(a, f) == getattr(b, f), f


@st.composite
def any_sample(draw) -> Sample:
    """Any renderable sample: 0-3 images or videos of any size, referenced or not, system, user and
    assistant turns in any order (at least one assistant), empty texts, grounding tags."""
    media = []
    for _ in range(draw(st.integers(0, 3))):
        w, h = draw(st.integers(28, 3000)), draw(st.integers(28, 3000))
        if draw(st.booleans()):
            media.append(Media(uri="/v", kind="video", width=w, height=h, fps=draw(st.sampled_from([1.0, 24.0, 30.0])),
                               frames=draw(st.integers(2, 900)), duration=None))
        else:
            media.append(Media(uri="/i.jpg", width=w, height=h))
    refs = draw(st.permutations(range(len(media))))[:draw(st.integers(0, len(media)))]
    words = st.sampled_from(["", "A dog.", "What is this?", " spaced  ", "<|box_start|>(1,2),(3,4)<|box_end|>",
                             "多语言 caption", "line\nbreak"])
    turns = []
    for role in draw(st.lists(st.sampled_from(["system", "user", "assistant"]), min_size=0, max_size=5)) + ["assistant"]:
        segs = [text(draw(words)) for _ in range(draw(st.integers(0, 2)))]
        if role == "user" and refs:
            i = refs.pop()
            segs.insert(draw(st.integers(0, len(segs))), Segment(kind=media[i].kind or "image", media=i))
        turns.append(Turn(role=role, segments=segs))
    if refs:  # references left: one more user turn holds them
        turns.insert(0, Turn(role="user", segments=[Segment(kind=media[i].kind or "image", media=i) for i in refs]))
    return Sample(sample_id=draw(st.text("abc123", min_size=1, max_size=6)), source="s", task="vqa", media=media,
                  turns=turns)


@settings(max_examples=150, deadline=None)
@given(samples=st.lists(any_sample(), min_size=1, max_size=4), system=st.sampled_from([None, "", "Be brief."]))
def test_the_compact_form_expands_to_the_rendered_sample(samples, system):
    """What the token stage keeps (`keep_rendered`) expands to exactly what `render_sample` gives:
    ids, labels, media spans (offsets, grids, frames, fps) and counts."""
    cfg = TokensConfig(system_prompt=system)
    table = with_work_columns(records_to_table(samples))
    out, _ = count_tokens_batch(table, TOK, cfg, SEED, keep_rendered=True)
    assert out.schema.names == [*WORK_SCHEMA.names, "rendered"]
    plain, _ = count_tokens_batch(table, TOK, cfg, SEED)
    assert out.drop_columns(["rendered"]).equals(plain)
    for row in out.to_pylist():
        if row["status"] != "ok":
            assert row["rendered"] is None
            continue
        assert_same_render(expand_rendered(row["rendered"], cfg), render_sample(row, TOK, cfg, SEED))



@settings(max_examples=100, deadline=None)
@given(samples=st.lists(any_sample(), min_size=0, max_size=6), system=st.sampled_from([None, "Be brief."]))
def test_a_pack_expands_to_its_samples_end_to_end(samples, system):
    """`expand_pack` (the writer's one pass over a pack) gives each sample's `expand_rendered`,
    laid end to end: ids, labels, where each sample starts, its supervised tokens and its media
    spans (offsets within the sample). Samples sit next to each other, so one's last label run
    meets the next one's first."""
    cfg = TokensConfig(system_prompt=system)
    out, _ = count_tokens_batch(with_work_columns(records_to_table(samples)), TOK, cfg, SEED, keep_rendered=True)
    blobs = [b for b in out.column("rendered").to_pylist() if b is not None]
    each = [expand_rendered(b, cfg) for b in blobs]
    pack = expand_pack(blobs)
    assert pack.input_ids.dtype == pack.labels.dtype == np.int32
    joined_ids = np.concatenate([r.input_ids for r in each]) if each else np.zeros(0, np.int32)
    joined_labels = np.concatenate([r.labels for r in each]) if each else np.zeros(0, np.int32)
    assert pack.input_ids.tolist() == joined_ids.tolist() and pack.labels.tolist() == joined_labels.tolist()
    assert pack.offsets.tolist() == np.concatenate([[0], np.cumsum([r.total_tokens for r in each])]).tolist()
    assert pack.loss_tokens.tolist() == [r.loss_tokens for r in each]
    assert pack.media == [r.media for r in each]


@settings(max_examples=200, deadline=None)
@given(media=st.lists(st.one_of(
    st.tuples(st.integers(0, 9), st.just("image"), st.integers(0, 10**6), st.integers(0, 10**5),
              st.lists(st.integers(0, 5000), min_size=3, max_size=3), st.lists(st.integers(0, 10**5), min_size=2, max_size=2),
              st.none(), st.none()),
    st.tuples(st.integers(0, 9), st.just("video"), st.integers(0, 10**6), st.integers(0, 10**5),
              st.lists(st.integers(0, 5000), min_size=3, max_size=3), st.lists(st.integers(0, 10**5), min_size=2, max_size=2),
              st.one_of(st.none(), st.lists(st.integers(0, 10**4), max_size=5)),
              st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)))).map(list), min_size=1, max_size=4))
def test_media_facts_are_the_json_of_the_media_list(media):
    """The compact form's media facts, written directly for images, are byte for byte what json writes."""
    import json

    from packer.chat import _media_json

    assert _media_json(media) == json.dumps(media, separators=(",", ":")).encode()
