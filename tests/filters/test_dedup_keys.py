"""Caption normalisation, exact keys, caption extraction and media digests (no Ray)."""

from __future__ import annotations

import unicodedata

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from filters.dedup import caption_texts, exact_keys, media_digest, normalise_caption
from filters.dedup.caption_key import _separator_runs, scope_keys
from filters.dedup.image_key import MediaReadError
from schemas.sample import TURN_TYPE, assistant_text


@pytest.mark.parametrize("raw, want", [
    ("A red car.", "a red car"),
    ("  A   RED\tcar!!!\n", "a red car"),
    ("a red-car", "a red car"),
    ("“Quoted” — dash…", "quoted dash"),
    ("Ｆｕｌｌｗｉｄｔｈ ＣＡＲ", "fullwidth car"),  # NFKC
    ("ﬁne", "fine"),  # ligature, NFKC
    ("price: $5 + tax", "price $5 + tax"),  # symbols are not punctuation
    ("café\u00a0au\u200blait", "café au lait"),  # no-break space, zero-width (Cf)
    ("", ""),
    ("?!.", ""),
])
def test_normalise_caption(raw, want):
    assert normalise_caption(raw) == want


@given(st.text(max_size=60))
@settings(max_examples=400, deadline=None)
def test_ascii_fast_path_equals_the_general_rule(text):
    general = _separator_runs().sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()
    assert normalise_caption(text) == general


@given(st.text(max_size=40))
@settings(max_examples=300, deadline=None)
def test_normalisation_is_idempotent_and_collapsed(text):
    once = normalise_caption(text)
    assert normalise_caption(once) == once
    assert "  " not in once and once == once.strip()


def test_exact_keys_equal_only_within_a_scope():
    texts = ["a red car", "a red car", "a blue car"]
    same = scope_keys(["", "", ""])
    keys = exact_keys(texts, same)
    assert keys[0] == keys[1] != keys[2]
    split = exact_keys(texts, scope_keys(["web", "books", "web"]))
    assert split[0] != split[1]
    with_image = exact_keys(texts, scope_keys(["", "", ""], ["d1", "d2", None]))
    assert with_image[0] != with_image[1]
    assert keys.dtype == np.uint64


SEGMENT = st.fixed_dictionaries({
    "kind": st.sampled_from(["text", "image", "video"]),
    "text": st.one_of(st.none(), st.text(max_size=8)),
    "media": st.one_of(st.none(), st.integers(0, 3)),
})
TURN = st.fixed_dictionaries({"role": st.sampled_from(["system", "user", "assistant"]),
                              "segments": st.one_of(st.none(), st.lists(SEGMENT, max_size=4))})


@given(st.lists(st.one_of(st.none(), st.lists(TURN, max_size=4)), min_size=1, max_size=8), st.integers(0, 7))
@settings(max_examples=200, deadline=None)
def test_caption_texts_equals_assistant_text(rows, start):
    arr = pa.array(rows, pa.list_(TURN_TYPE))
    start = start % len(rows)
    assert caption_texts(arr.slice(start)).to_pylist() == [assistant_text(t) for t in rows[start:]]


def test_media_digest_hashes_bytes_not_paths(tmp_path):
    red = Image.new("RGB", (16, 12), (200, 10, 10))
    red.save(tmp_path / "a.png")
    red.save(tmp_path / "b.png")  # same bytes, other name
    Image.new("RGB", (16, 12), (10, 10, 200)).save(tmp_path / "c.png")
    frames = tmp_path / "clip"
    frames.mkdir()
    red.save(frames / "0001.png")
    d = {name: media_digest("s", [{"uri": str(tmp_path / name)}]) for name in ("a.png", "b.png", "c.png")}
    assert d["a.png"] == d["b.png"] != d["c.png"]
    assert media_digest("s", []) is None
    two = media_digest("s", [{"uri": str(tmp_path / "a.png")}, {"uri": str(tmp_path / "c.png")}])
    swapped = media_digest("s", [{"uri": str(tmp_path / "c.png")}, {"uri": str(tmp_path / "a.png")}])
    assert two != swapped and len(two) == 32
    assert media_digest("s", [{"uri": str(frames)}]) not in (None, d["a.png"])
    with pytest.raises(MediaReadError, match=r"sample 'x9'.*missing\.jpg"):
        media_digest("x9", [{"uri": str(tmp_path / "missing.jpg")}])
