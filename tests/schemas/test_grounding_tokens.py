"""The report's "3-token" encoding with the bundled Qwen BPE: each tag is one token, each
coordinate three digit tokens (report A.2, Table 5)."""

from __future__ import annotations

import pytest

from schemas.grounding import format_label, validate

TAGS = [
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|point_start|>",
    "<|point_end|>",
]


@pytest.fixture(scope="module")
def tokenizer():
    from packer.tokenizer import load_tokenizer

    return load_tokenizer("qwen")


def test_each_grounding_tag_is_a_single_token(tokenizer):
    ids = {tag: tokenizer.encode(tag) for tag in TAGS}
    for tag, toks in ids.items():
        assert len(toks) == 1, (tag, toks)
    assert ids["<|object_ref_start|>"] == [151646] and ids["<|quad_end|>"] == [151651]
    assert len({t[0] for t in ids.values()}) == len(TAGS)


@pytest.mark.parametrize("zero_pad", [True, False])
def test_a_padded_coordinate_is_three_digit_tokens(tokenizer, zero_pad):
    text = format_label(
        name="cat", shapes=[("box", ((8, 20), (300, 999))), ("point", ((123, 7),))], zero_pad=zero_pad
    )
    assert validate(text).ok
    ids = tokenizer.encode(text)
    pieces = [tokenizer.decode([i]) for i in ids]
    digits = [p for p in pieces if p.isdigit()]
    assert all(len(p) == 1 for p in digits), pieces  # one token per digit
    if zero_pad:
        # 6 coordinates x 3 digits, every coordinate exactly three tokens ("008" -> "0", "0", "8")
        assert "".join(digits) == "008020300999123007" and len(digits) == 18
    else:
        assert "".join(digits) == "820300999123" + "7"
    specials = [i for i in ids if i >= 151643]
    assert [tokenizer.decode([i]) for i in specials] == [
        "<|object_ref_start|>",
        "<|object_ref_end|>",
        "<|box_start|>",
        "<|box_end|>",
        "<|point_start|>",
        "<|point_end|>",
    ]
    assert tokenizer.decode(ids) == text
