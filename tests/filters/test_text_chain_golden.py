"""Golden digests of the text chain's decisions (issue 17): speed work on the clean step, the text
rules and language id must not change what any caption gets.

Two sets go through `run_filters` with the default config: the labelled set
(`data/labelled_captions.jsonl`) and a generated set of captions made from it by random edits that
reach the rules' edge cases (quoted spans near the 300-character limit, apostrophes, separators,
hashtags, repeats, markup, entities, mojibake, invisible characters, digits, code, mixed scripts).
Each digest covers, per caption, the status, reason, repaired text, repairs, language and score.

When the chain's output changes on purpose, bump the filter stage's version in `jobs/stage_keys.py`
and rewrite the golden file with `VLPACK_UPDATE_GOLDEN=1 python -m pytest tests/filters/test_text_chain_golden.py`.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest

from filters.caption_text import CaptionBatch
from filters.chain import first_failing_text_rule, run_filters
from schemas.filter_config import FilterConfig
from schemas.sample import SAMPLE_SCHEMA, assistant_text, with_work_columns

DATA = Path(__file__).parent / "data"
GOLDEN = DATA / "text_chain_golden.json"

_QUOTES = [('"', '"'), ("'", "'"), ("“", "”"), ("„", "“"), ("«", "»"), ("‹", "›"), ("「", "」"), ("『", "』"),
           ("‘", "’"), ("《", "》")]  # fmt: skip
_SEPARATORS = [" ", ", ", "; ", " | ", " - ", "\n", ". ", " / ", " > ", "、", "，", " · ", "|", " \n\n\n "]
_INSERTS = ["\u200b", "\u00a0", "\t", "  ", "Ã©", "â€™", "<b>", "</p>", "<br>", "&amp;", "&quot;", "&#39;", "#tag",
            " #sunset", "!!!", "...", "2019-06-12", "12:30", "f/2.8", "ISO 200", "1/250s", "50mm", "http://x.co/a",
            "www.site.com", "IMG_1234", ".jpg", "def f(x):", "{", "}", ";", "==", "x_y_z", "1234567890", "’s",
            "'s", " dog's ", "s' ", "(", ")", "[", "]", "：", "。", "？", "一只猫", "カタカナ", "ภาษาไทย", "Привет",
            "\x00", "\ufffd", " | Shutterstock", " - Flickr", "ð\x9f", "РџСЂ"]  # fmt: skip


def load_labelled() -> list[str]:
    lines = (DATA / "labelled_captions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in lines if line.strip()]


def generated_captions(n: int, seed: int = 17) -> list[str]:
    """`n` captions made from the labelled ones by random edits (deterministic for a seed)."""
    base = load_labelled()
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        text = rng.choice(base)
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            op = rng.randrange(8)
            words = text.split(" ")
            if op == 0:  # join another caption
                text = text + rng.choice(_SEPARATORS) + rng.choice(base)
            elif op == 1:  # quote a span of words
                i = rng.randrange(len(words))
                j = min(len(words), i + rng.randint(1, 8))
                q = rng.choice(_QUOTES)
                words[i:j] = [q[0] + " ".join(words[i:j]) + q[1]]
                text = " ".join(words)
            elif op == 2:  # a quoted span around the 300-character limit
                q = rng.choice(_QUOTES)
                body = ""
                while len(body) < rng.randint(280, 320):
                    body += rng.choice(base) + " "
                text = f"{text} {q[0]}{body[: rng.randint(295, 305)]}{q[1]} {rng.choice(base)}"
            elif op == 3:  # repeat a word or the tail
                i = rng.randrange(len(words))
                if rng.random() < 0.5:
                    words[i:i] = [words[i]] * rng.randint(1, 4)
                    text = " ".join(words)
                else:
                    text = text + (" " + " ".join(words[i:])) * rng.randint(1, 4)
            elif op == 4:  # insert something the repairs or rules look for
                k = rng.randrange(len(text) + 1)
                text = text[:k] + rng.choice(_INSERTS) + text[k:]
            elif op == 5:  # a list of words
                text = rng.choice(_SEPARATORS).join(rng.sample(words, min(len(words), rng.randint(2, 8))))
            elif op == 6:  # cut
                text = text[: rng.randint(0, len(text))]
            else:  # case
                text = text.upper() if rng.random() < 0.5 else text.lower()
        out.append(text)
    return out


def _table(captions: list[str]) -> pa.Table:
    rows = [{"sample_id": f"s{i}", "source": "golden", "task": "caption",
             "turns": [{"role": "user", "segments": [{"kind": "image", "text": None, "media": 0}]},
                       {"role": "assistant", "segments": [{"kind": "text", "text": c, "media": None}]}],
             "media": []} for i, c in enumerate(captions)]  # fmt: skip
    return with_work_columns(pa.Table.from_pylist(rows, schema=SAMPLE_SCHEMA))


def chain_outcome(captions: list[str]) -> dict:
    """The digest of what `run_filters` and `first_failing_text_rule` give each caption, and the
    number of captions per reason."""
    cfg = FilterConfig()
    table, _ = run_filters(_table(captions), cfg)
    reasons = first_failing_text_rule(CaptionBatch.from_texts(captions), cfg)
    rows = [
        [r["status"], r["reason"], assistant_text(r["turns"]), r["repairs"], r["lang"],
         None if r["lang_score"] is None else round(r["lang_score"], 6), chain_reason]
        for r, chain_reason in zip(table.to_pylist(), reasons.tolist())
    ]
    digest = hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()[:16]
    return {"digest": digest, "reasons": dict(sorted(Counter(r[1] or "keep" for r in rows).items()))}


@pytest.fixture(scope="module")
def outcomes() -> dict:
    return {"labelled": chain_outcome(load_labelled()), "generated": chain_outcome(generated_captions(20_000))}


def test_text_chain_decisions_match_the_golden_digests(outcomes):
    if os.environ.get("VLPACK_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(outcomes, indent=1, sort_keys=True) + "\n")
    golden = json.loads(GOLDEN.read_text())
    for name, now in outcomes.items():
        assert now["reasons"] == golden[name]["reasons"], name
        assert now["digest"] == golden[name]["digest"], f"{name}: same reason counts, other texts/languages/reasons"


def test_generated_set_reaches_every_default_text_rule(outcomes):
    """The generated set is worth its time only if it exercises the rules."""
    reasons = outcomes["generated"]["reasons"]
    assert reasons["keep"] > 2_000
    assert sum(1 for r in reasons if r.startswith("filter.")) >= 15, reasons
