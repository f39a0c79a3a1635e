"""Reading each input form of docs/input-formats.md, against the JSON parse alone.

    python bench/bench_readers.py [--rows 50000] [--seed 0]

For every row form (short caption, short prompt/answer, full turns/segments, LLaVA conversations in
JSONL, ShareGPT messages with typed parts) it writes `--rows` rows to a JSONL file and times
`jobs.readers.read_jsonl` (parse, form dispatch, checks, the Arrow table) against a lower bound
measured side by side on the same file: `json.loads` of every line and nothing else. Best of 3.
Reports rows/s per form, the ratio to the lower bound, and the worst form.

Prints exactly one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_tokens import best_of  # noqa: E402  (this directory is on sys.path when run as a script)
from jobs.readers import read_jsonl  # noqa: E402
from schemas.config import SourceConfig  # noqa: E402

BOX = "<|object_ref_start|>cat<|object_ref_end|><|box_start|>(145,425),(735,970)<|box_end|>"


def make_row(form: str, i: int) -> dict:
    img = f"images/img{i % 160:04d}.jpg"
    if form == "short_caption":
        return {"id": i, "image": img, "caption": f"a small red cat number {i} sleeps on a sofa", "width": 640,
                "height": 480}
    if form == "short_prompt_answer":
        return {"id": i, "image": img, "task": "grounding", "prompt": "Locate the cat.", "answer": BOX}
    if form == "full":
        return {"id": i, "task": "vqa", "media": [{"uri": img, "width": 640, "height": 480}],
                "turns": [{"role": "user", "segments": [{"kind": "image", "media": 0},
                                                         {"kind": "text", "text": "What is it?"}]},
                          {"role": "assistant", "segments": [{"kind": "text", "text": f"A cat, {i}."}]}]}
    if form == "llava":
        return {"id": i, "image": img, "conversations": [{"from": "human", "value": "<image>\nWhat is it?"},
                                                         {"from": "gpt", "value": f"A cat, {i}."}]}
    return {"id": i, "images": [img], "messages": [
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is it?"}]},
        {"role": "assistant", "content": f"A cat, {i}."}]}


FORMS = ("short_caption", "short_prompt_answer", "full", "llava", "sharegpt")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    out: dict = {"bench": "readers", "rows_per_form": args.rows}
    worst = None
    with tempfile.TemporaryDirectory() as tmp:
        for form in FORMS:
            path = Path(tmp) / f"{form}.jsonl"
            path.write_text("".join(json.dumps(make_row(form, i)) + "\n" for i in range(args.rows)))
            source = SourceConfig(name="b", format="jsonl", path=str(path), root=tmp)
            table = read_jsonl(str(path), source)
            ok = sum(s == "ok" for s in table.column("status").to_pylist())

            def parse_only(p=path):
                with open(p, "rb") as fh:
                    for line in fh:
                        json.loads(line)

            t_ours = best_of(lambda p=path, s=source: read_jsonl(str(p), s))
            t_base = best_of(parse_only)
            ours, base = args.rows / t_ours, args.rows / t_base
            out[f"{form}_rows_per_s"] = round(ours)
            out[f"{form}_json_parse_rows_per_s"] = round(base)
            out[f"{form}_ratio_to_parse_alone"] = round(ours / base, 3)
            out[f"{form}_rows_ok"] = ok
            if worst is None or ours < worst[1]:
                worst = (form, ours, ours / base)
    out["worst_form"] = worst[0]
    out["worst_rows_per_s"] = round(worst[1])
    out["worst_ratio_to_parse_alone"] = round(worst[2], 3)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
