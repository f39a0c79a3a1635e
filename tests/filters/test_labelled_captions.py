"""The chain on a hand-labelled set of captions: per-rule precision/recall, and few clean rejections.

`data/labelled_captions.jsonl`: one caption a line, `{"text", "expect", "group"[, "style"]}` where
`expect` is "keep" or the reason code the default config should give (the first failing rule in the
documented order, after the default repairs) and `group` is "clean", "short_clean" (a clean
1-2-word caption: too short by the default rule, but language id must not drop it) or "noisy".
`style` names the kind of caption: coco, alt, long, ocr (quoting text in the image), cjk, rtl,
spaceless, multi (other languages), repaired (clean once the repairs ran: HTML, site suffix,
mojibake, invisible characters), reduplication, and for noisy rows the kind of junk. The set was
written for this project, not taken from any issue or dataset.

Print the table: `python tests/filters/test_labelled_captions.py` (or pytest -s).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import pytest

from filters.caption_text import CaptionBatch
from filters.chain import first_failing_text_rule
from filters.catalogue import TEXT_RULES
from schemas.filter_config import FilterConfig

DATA = Path(__file__).parent / "data" / "labelled_captions.jsonl"


def load_labelled() -> list[dict]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]


def judge(rows: list[dict], cfg: FilterConfig) -> list[str]:
    reasons = first_failing_text_rule(CaptionBatch.from_texts([r["text"] for r in rows]), cfg)
    return [r or "keep" for r in reasons]


def precision_recall(expected: list[str], got: list[str]) -> dict[str, tuple[int, int, int, float, float]]:
    """Per label: (labelled, predicted, agreed, precision, recall)."""
    out = {}
    for label in sorted(set(expected) | set(got)):
        n_exp = sum(e == label for e in expected)
        n_got = sum(g == label for g in got)
        tp = sum(e == g == label for e, g in zip(expected, got))
        out[label] = (n_exp, n_got, tp, tp / n_got if n_got else 1.0, tp / n_exp if n_exp else 1.0)
    return out


def format_table(stats: dict[str, tuple[int, int, int, float, float]]) -> str:
    lines = [f"{'label':28s} {'labelled':>8s} {'flagged':>8s} {'agree':>6s} {'precision':>9s} {'recall':>7s}"]
    for label, (n_exp, n_got, tp, p, r) in stats.items():
        lines.append(f"{label:28s} {n_exp:8d} {n_got:8d} {tp:6d} {p:9.2f} {r:7.2f}")
    return "\n".join(lines)


def print_report(rows: list[dict], got: list[str]) -> None:
    print("\n" + format_table(precision_recall([r["expect"] for r in rows], got)))
    misses = [(r["expect"], g, r["text"]) for r, g in zip(rows, got) if r["expect"] != g]
    for exp, g, text in misses:
        print(f"  expected {exp:26s} got {g:26s} {text[:70]!r}")


@pytest.fixture(scope="module")
def labelled():
    rows = load_labelled()
    return rows, judge(rows, FilterConfig())


def test_the_set_is_big_and_covers_every_rule(labelled):
    rows, _ = labelled
    assert len(rows) >= 500
    groups = Counter(r["group"] for r in rows)
    assert groups["clean"] >= 300 and groups["short_clean"] >= 10 and groups["noisy"] >= 250
    styles = Counter(r.get("style") for r in rows if r["group"] == "clean")
    for style in ("coco", "alt", "long", "ocr", "cjk", "rtl", "spaceless", "multi", "repaired"):
        assert styles[style] >= 6, style
    noisy = Counter(r["expect"] for r in rows if r["group"] == "noisy")
    assert {f"filter.{name}" for name in TEXT_RULES} <= set(noisy)
    short_words = [r for r in rows if r["group"] == "clean" and len(r["text"].split()) <= 3]
    assert len(short_words) >= 20  # clean 1-3-word captions are well represented
    langs = CaptionBatch.from_texts([r["text"] for r in rows if r["group"] == "clean"]).language[0]
    assert len(set(langs.to_pylist())) >= 10


def test_clean_captions_are_rarely_rejected(labelled):
    rows, got = labelled
    print_report(rows, got)
    clean = [(r, g) for r, g in zip(rows, got) if r["group"] == "clean"]
    false_rejections = [r["text"] for r, g in clean if g != "keep"]
    assert len(false_rejections) / len(clean) <= 0.02, false_rejections


def test_keyword_list_precision_on_coco_style_captions(labelled):
    rows, got = labelled
    coco = [g for r, g in zip(rows, got) if r.get("style") == "coco" or r["group"] == "clean"]
    flagged = sum(g == "filter.keyword_list" for g in coco)
    lists = [g for r, g in zip(rows, got) if r["expect"] == "filter.keyword_list"]
    true_lists = sum(g == "filter.keyword_list" for g in lists)
    precision = true_lists / max(1, true_lists + flagged)
    print(f"\nkeyword_list: {true_lists}/{len(lists)} lists caught, {flagged}/{len(coco)} clean captions flagged, "
          f"precision {precision:.3f}")
    assert precision >= 0.95 and true_lists / len(lists) >= 0.9


def test_repaired_captions_are_kept_and_written_repaired():
    rows = [r for r in load_labelled() if r.get("style") == "repaired"]
    batch = CaptionBatch.from_texts([r["text"] for r in rows])
    assert [r or "keep" for r in first_failing_text_rule(batch, FilterConfig())] == ["keep"] * len(rows)
    for text in batch.text.to_pylist():
        assert "<" not in text and "&amp;" not in text and "Ã" not in text and "â€" not in text, text
        assert "shutterstock" not in text.lower() and "flickr" not in text.lower(), text
        assert "\u200b" not in text and "\ufeff" not in text and "  " not in text, text


def test_noisy_captions_are_caught(labelled):
    rows, got = labelled
    noisy = [(r, g) for r, g in zip(rows, got) if r["group"] == "noisy"]
    caught = sum(g != "keep" for _, g in noisy)
    right_reason = sum(g == r["expect"] for r, g in noisy)
    assert caught / len(noisy) >= 0.95
    assert right_reason / len(noisy) >= 0.9


def test_language_id_does_not_drop_short_clean_captions():
    rows = [r for r in load_labelled() if r["group"] in ("short_clean", "clean")]
    relaxed = FilterConfig(rules={"too_short": {"min_words": 1, "min_chars": 1}})
    got = judge(rows, relaxed)
    assert [r["text"] for r, g in zip(rows, got) if g != "keep" and r["group"] == "short_clean"] == []
    english_only = FilterConfig(rules={"too_short": False, "language": {"allow": ["en"]}})
    short_en = [r for r in rows if len(r["text"].split()) <= 3 and r["text"].isascii()]
    assert len(short_en) >= 30
    assert [r["text"] for r, g in zip(short_en, judge(short_en, english_only)) if g != "keep"] == []


if __name__ == "__main__":
    rows = load_labelled()
    print_report(rows, judge(rows, FilterConfig()))
    sys.exit(0)
