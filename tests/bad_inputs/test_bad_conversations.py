"""Broken conversations (docs/bad-inputs.md, "Text and conversations"): empty, no assistant turn,
`<image>` placeholders that do not match the images, media references out of range."""

from __future__ import annotations

import pytest
from hostile_inputs import ANSWER, ASK, fate, fates_with_good, job_config, jsonl_source, llava_source, run_rows


@pytest.mark.parametrize("conv", [{"conversations": []}, {}, {"conversations": None}],
                         ids=["empty-list", "missing", "null"])
def test_empty_llava_conversation_is_invalid(tmp_path, conv):
    ledger = fates_with_good(llava_source(tmp_path, [{"id": "e", "image": "a.jpg", **conv}]))
    assert ledger["l/e"] == ("invalid", "read.empty_conversation")


def test_empty_canonical_turns_are_invalid(tmp_path):
    ledger = fates_with_good(jsonl_source(tmp_path, [{"id": "e", "turns": [], "media": []}]))
    assert ledger["s/e"] == ("invalid", "read.empty_conversation")


def test_llava_conversation_without_an_assistant_turn_is_invalid(tmp_path):
    again = {"from": "human", "value": "And now?"}
    ledger = fates_with_good(llava_source(tmp_path, [{"id": "q", "image": "a.jpg", "conversations": [ASK, again]}]))
    assert ledger["l/q"] == ("invalid", "read.no_assistant_turn")


def test_canonical_turns_without_an_assistant_turn_are_invalid(tmp_path):
    turns = [{"role": "user", "segments": [{"kind": "image", "media": 0}, {"kind": "text", "text": "What?"}]}]
    rec = {"id": "q", "media": [{"uri": "a.jpg"}], "turns": turns}
    assert fates_with_good(jsonl_source(tmp_path, [rec]))["s/q"] == ("invalid", "read.no_assistant_turn")


@pytest.mark.parametrize("images, prompt", [
    (["a.jpg"], "<image><image>\nCompare."),  # more placeholders than images
    (["a.jpg", "b.jpg"], "<image>\nWhat is this?"),  # fewer (but some)
    ([], "<image>\nWhat is this?"),  # placeholders and no image at all
], ids=["more", "fewer", "no-images"])
def test_image_placeholder_count_not_matching_the_images_is_invalid(tmp_path, images, prompt):
    conv = {"id": "m", "images": images, "conversations": [{"from": "human", "value": prompt}, ANSWER]}
    assert fates_with_good(llava_source(tmp_path, [conv]))["l/m"] == ("invalid", "read.placeholder_mismatch")


def test_no_placeholder_puts_the_images_before_the_first_question(tmp_path):
    conv = {"id": "m", "images": ["a.jpg", "b.jpg"],
            "conversations": [{"from": "human", "value": "What is this?"}, ANSWER]}
    cfg = job_config([llava_source(tmp_path, [conv])])
    assert fate(cfg)["l/m"] == ("packed", None)
    row = next(r for r in run_rows(cfg).to_pylist() if r["sample_id"] == "l/m")
    assert row["n_images"] == 2


def test_canonical_segment_pointing_at_a_missing_media_item_is_invalid(tmp_path):
    turns = [{"role": "user", "segments": [{"kind": "image", "media": 3}]},
             {"role": "assistant", "segments": [{"kind": "text", "text": "A dog."}]}]
    rec = {"id": "idx", "media": [{"uri": "a.jpg"}], "turns": turns}
    assert fates_with_good(jsonl_source(tmp_path, [rec]))["s/idx"] == ("invalid", "read.bad_media_index")
