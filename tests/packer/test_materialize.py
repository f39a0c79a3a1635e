"""A planned pack becomes the payload the shard writer commits: samples end to end from what the
token stage kept, padded to the bucket, media bytes read from the files; a pack that differs from
its plan is refused by name."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from packer.chat import IGNORE_INDEX, count_tokens_batch, expand_pack, expand_rendered
from packer.materialize import PlanMismatchError, materialize_pack
from packer.tokenizer import load_tokenizer
from schemas.sample import Media, Sample, Segment, Turn, records_to_table, with_work_columns
from schemas.tokens_config import TokensConfig

CFG = TokensConfig()
TOK = load_tokenizer("qwen")
PAD = TOK.special["<|endoftext|>"]
SEED = 3


def _image(path, w: int, h: int, fmt: str) -> None:
    rng = np.random.default_rng(w * h)
    Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(path, fmt)


@pytest.fixture
def rows(tmp_path):
    """Three counted rows: a caption with a JPEG, a text-only answer, a question over two images
    (a PNG and the JPEG again)."""
    jpg, png = tmp_path / "a.jpg", tmp_path / "b.png"
    _image(jpg, 320, 200, "JPEG")
    _image(png, 90, 400, "PNG")
    samples = [
        Sample(sample_id="cap", source="web", task="caption", media=[Media(uri=str(jpg), width=320, height=200)],
               turns=[Turn(role="user", segments=[Segment(kind="image", media=0)]),
                      Turn(role="assistant", segments=[Segment(kind="text", text="A red kite over the sea.")])]),
        Sample(sample_id="txt", source="docs", task="text", media=[],
               turns=[Turn(role="user", segments=[Segment(kind="text", text="Name a colour.")]),
                      Turn(role="assistant", segments=[Segment(kind="text", text="Blue.")])]),
        Sample(sample_id="two", source="web", task="vqa",
               media=[Media(uri=str(png), width=90, height=400, format="PNG"), Media(uri=str(jpg), width=320, height=200)],
               turns=[Turn(role="user", segments=[Segment(kind="image", media=0), Segment(kind="image", media=1),
                                                  Segment(kind="text", text="Which is taller?")]),
                      Turn(role="assistant", segments=[Segment(kind="text", text="The first.")])]),
    ]
    table, _ = count_tokens_batch(with_work_columns(records_to_table(samples)), TOK, CFG, SEED, keep_rendered=True)
    out = table.to_pylist()
    for r in out:
        r["copy"] = 0
    return out


def _pack(rows: list[dict], seq_len: int = 4096, **over) -> dict:
    plan = {"pack_id": 7, "step": 1, "rank": 0, "micro": 2, "n_samples": len(rows),
            "real_tokens": sum(r["total_tokens"] for r in rows), "seq_len": seq_len}
    return {**plan, **over}


def test_a_pack_is_its_samples_end_to_end_then_padding(rows):
    payload = materialize_pack(_pack(rows), rows, expand_pack([r["rendered"] for r in rows]), PAD)
    each = [expand_rendered(r["rendered"], CFG) for r in rows]
    real = sum(len(e.input_ids) for e in each)
    assert payload.key == "pack-000000007"
    assert payload.input_ids.dtype == payload.labels.dtype == np.int32 and payload.input_ids.shape == (4096,)
    assert payload.input_ids[:real].tolist() == np.concatenate([e.input_ids for e in each]).tolist()
    assert payload.labels[:real].tolist() == np.concatenate([e.labels for e in each]).tolist()
    assert set(payload.input_ids[real:].tolist()) == {TOK.special["<|endoftext|>"]}
    assert set(payload.labels[real:].tolist()) == {IGNORE_INDEX}
    layout = json.loads(payload.layout.model_dump_json())
    assert (layout["pack_id"], layout["step"], layout["rank"], layout["micro"], layout["seq_len"],
            layout["real_tokens"]) == (7, 1, 0, 2, 4096, real)
    starts = np.cumsum([0] + [len(e.input_ids) for e in each])
    assert [(s["id"], s["source"], s["task"], s["offset"], s["length"], s["loss_tokens"]) for s in layout["samples"]] == [
        (r["sample_id"], r["source"], r["task"], int(starts[i]), len(each[i].input_ids), each[i].loss_tokens)
        for i, r in enumerate(rows)]
    # images: numbered across the pack, offsets in the pack, bytes of the files
    assert [(im["sample"], im["member"], im["offset"], im["tokens"]) for im in layout["images"]] == [
        (0, "0.jpg", int(starts[0]) + each[0].media[0].offset, each[0].media[0].tokens),
        (2, "1.png", int(starts[2]) + each[2].media[0].offset, each[2].media[0].tokens),
        (2, "2.jpg", int(starts[2]) + each[2].media[1].offset, each[2].media[1].tokens)]
    for im in layout["images"]:
        pads = payload.input_ids[im["offset"]:im["offset"] + im["tokens"]]
        assert set(pads.tolist()) == {TOK.special["<|image_pad|>"]}
    files = {"0.jpg": rows[0]["media"][0]["uri"], "1.png": rows[2]["media"][0]["uri"], "2.jpg": rows[2]["media"][1]["uri"]}
    assert [m for m, _ in payload.media] == ["0.jpg", "1.png", "2.jpg"]
    for member, data in payload.media:
        assert data == open(files[member], "rb").read()
        Image.open(io.BytesIO(data)).verify()


@pytest.mark.parametrize("fault", ["sample_tokens", "real_tokens", "bucket", "renderings"])
def test_a_pack_that_differs_from_its_plan_is_refused_by_name(rows, fault):
    rendered = expand_pack([r["rendered"] for r in rows])
    pack, members = _pack(rows), [dict(r) for r in rows]
    if fault == "sample_tokens":
        members[1]["total_tokens"] += 1
        match = "sample txt renders to"
    elif fault == "real_tokens":
        pack["real_tokens"] += 1
        match = "real tokens rendered"
    elif fault == "bucket":
        pack = _pack(rows, seq_len=pack["real_tokens"] - 1)
        match = "do not fit its bucket"
    else:
        rendered = expand_pack([r["rendered"] for r in rows[:2]])
        match = "3 samples but 2 renderings"
    with pytest.raises(PlanMismatchError, match=f"pack pack-000000007: .*{match}"):
        materialize_pack(pack, members, rendered, PAD)


def test_a_pack_exactly_filling_its_bucket_has_no_padding(rows):
    real = sum(r["total_tokens"] for r in rows)
    payload = materialize_pack(_pack(rows, seq_len=real), rows, expand_pack([r["rendered"] for r in rows]), PAD)
    assert payload.input_ids.shape == (real,) and TOK.special["<|endoftext|>"] not in payload.input_ids.tolist()
