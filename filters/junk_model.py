"""A learned junk score: logistic regression over a caption's words and their character n-grams.

The rules catch junk by what it is (a file name, a URL, a refusal, a tag list ...), one kind and
one phrasing at a time. Boilerplate has a long tail of phrasings in every language ("Ver imagen
ampliada", "Фото товара 2", "상품 상세 이미지", "thumbnail preview missing"), and fresh labelled
sets written outside the project kept landing at 87-92% of their junk caught by the rules of the
day. A linear model over the words of a caption and the character n-grams of those words
(2 to 5 characters, with "<" and ">" marking a word's ends, as fastText's subwords do) learns the
vocabulary of boilerplate, notices, refusals and markup across languages and spellings.

Features. Each word of a text (`CaptionBatch.words`: lowercased, punctuation trimmed, each Han or
Kana character a word of its own) has its own feature ``w:<word>`` and one ``g:<n-gram>`` per
distinct n-gram; a text's features are its words' summed, over its number of words. A word's score
is the sum of its features' weights, so a text's logit is the bias plus the mean of its words'
scores (the length of a text says nothing by itself): the model scores each distinct word of a
batch once (and remembers it per process), then averages per row with numpy.

Training (`train_junk_model`, ``python -m filters.junk_model train``) fits the weights by L-BFGS
on the mean log loss plus an L2 penalty, in float64 on one thread from zero weights, so the same
data gives the same model. The shipped model (`DEFAULT_MODEL`) is trained on
`filters/data/caption_training.jsonl`: sixty-two labelled sets of about 850-1,150 captions each,
written outside the project, each blind to the others, and 898 terse clean captions written apart ("Dog on
beach"); captions the repository's test set `tests/filters/data/labelled_captions.jsonl` holds are
left out of it. Training uses what `training_selection` keeps. The rule `learned_junk`
rejects a text the model scores at `threshold` or more, after every other text rule.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import re
import threading
from pathlib import Path

import numpy as np
import pyarrow as pa

from filters.rule_spec import text_rule
from schemas.filter_config import LearnedJunkRule

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_MODEL = DATA_DIR / "junk_model.tsv.gz"
TRAINING_DATA = DATA_DIR / "caption_training.jsonl"
NGRAMS = (2, 3, 4, 5)
L2 = 3e-6  # the penalty on the summed squared weights, beside the mean log loss
MIN_COUNT = 2  # a feature seen in fewer training texts gets no weight
_WORD_CACHE = 1 << 20  # distinct words whose score a model remembers, before it starts afresh


def word_features(word: str) -> list[str]:
    """The features of one word: itself and its distinct character n-grams (`NGRAMS`) of "<word>"."""
    marked = f"<{word}>"
    grams = dict.fromkeys(marked[i : i + n] for n in NGRAMS for i in range(max(1, len(marked) - n + 1)))
    return [f"w:{word}", *(f"g:{g}" for g in grams)]


def text_words(batch) -> list[list[str]]:
    """Per row of a `CaptionBatch`: its words, in order."""
    words = batch.words
    dictionary = words.dictionary.to_pylist()
    out: list[list[str]] = [[] for _ in range(len(batch))]
    for row, i in zip(words.row.tolist(), words.ids.tolist()):
        out[row].append(dictionary[i])
    return out


class JunkModel:
    """Feature weights and a bias; `scores` gives the probability that each text is junk."""

    def __init__(self, weights: dict[str, float], bias: float) -> None:
        self.weights = weights
        self.bias = float(bias)
        self._word_score: dict[str, float] = {}
        self._lock = threading.Lock()

    def word_scores(self, words: list[str]) -> np.ndarray:
        """The summed feature weights of each word."""
        known, weights = self._word_score, self.weights
        out = np.empty(len(words), dtype=np.float64)
        for j, word in enumerate(words):
            score = known.get(word)
            if score is None:
                score = math.fsum(weights.get(f, 0.0) for f in word_features(word))
                with self._lock:
                    if len(known) >= _WORD_CACHE:
                        known.clear()
                    known[word] = score
            out[j] = score
        return out

    def scores(self, batch) -> np.ndarray:
        """Per row of a `CaptionBatch`: the model's probability that the text is junk."""
        words = batch.words
        n = len(batch)
        if words.ids.size == 0:
            return np.full(n, _sigmoid(self.bias))
        # each distinct word of the batch scored once (a subset's dictionary may hold words of rows it left)
        used = np.flatnonzero(np.bincount(words.ids, minlength=len(words.dictionary)))
        score = np.zeros(len(words.dictionary), dtype=np.float64)
        score[used] = self.word_scores(words.dictionary.take(pa.array(used)).to_pylist())
        total = np.bincount(words.row, weights=score[words.ids], minlength=n)
        return _sigmoid(self.bias + total / np.maximum(words.counts, 1))

    def save(self, path: str | Path) -> None:
        """Write the model as gzipped TSV: a header line with the bias, then one feature and weight
        a line, features sorted (the same model gives the same bytes)."""
        lines = [f"#bias\t{self.bias!r}"] + [f"{f}\t{w!r}" for f, w in sorted(self.weights.items())]
        Path(path).write_bytes(gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), mtime=0))

    @classmethod
    def load(cls, path: str | Path) -> "JunkModel":
        text = gzip.decompress(Path(path).read_bytes()).decode("utf-8")
        weights: dict[str, float] = {}
        bias = None
        for line in text.splitlines():
            feature, _, weight = line.rpartition("\t")
            if feature == "#bias":
                bias = float(weight)
            elif feature:
                weights[feature] = float(weight)
        if bias is None:
            raise ValueError(f"{path}: not a junk model (no '#bias' line)")
        return cls(weights, bias)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))


def train_junk_model(texts: list[str], junk: list[bool] | np.ndarray, l2: float = L2,
                     min_count: int = MIN_COUNT) -> JunkModel:
    """Fit the weights on `texts` (repaired as the chain repairs them) labelled `junk` (module
    docstring). Deterministic for the same inputs."""
    import torch

    from filters.caption_text import CaptionBatch

    per_text = []  # per text: (feature, its count over the text's words)
    for words in text_words(CaptionBatch.from_texts(texts)):
        feats: dict[str, int] = {}
        for word in words:
            for f in word_features(word):
                feats[f] = feats.get(f, 0) + 1
        per_text.append((feats, len(words)))
    counts: dict[str, int] = {}
    for feats, _ in per_text:
        for f in feats:
            counts[f] = counts.get(f, 0) + 1
    vocab = {f: i for i, f in enumerate(sorted(f for f, c in counts.items() if c >= min_count))}
    index, value, offsets = [], [], [0]
    for feats, n_words in per_text:
        for f, c in sorted(feats.items()):
            if f in vocab:
                index.append(vocab[f])
                value.append(c / n_words)
        offsets.append(len(index))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        idx = torch.tensor(index, dtype=torch.int64)
        val = torch.tensor(value, dtype=torch.float64)
        row = torch.repeat_interleave(torch.arange(len(texts)), torch.tensor(np.diff(offsets), dtype=torch.int64))
        y = torch.tensor(np.asarray(junk, dtype=np.float64))
        w = torch.zeros(len(vocab), dtype=torch.float64, requires_grad=True)
        b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS([w, b], max_iter=300, tolerance_grad=1e-9, tolerance_change=1e-12,
                                line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            logit = torch.zeros(len(texts), dtype=torch.float64).index_add(0, row, w[idx] * val) + b
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logit, y) + l2 * (w * w).sum()
            loss.backward()
            return loss

        opt.step(closure)
    finally:
        torch.set_num_threads(threads)
    names = sorted(vocab, key=vocab.get)
    values = w.detach().numpy()
    return JunkModel({f: float(v) for f, v in zip(names, values) if v != 0.0}, float(b.detach()[0]))


def training_rows(path: str | Path = TRAINING_DATA) -> list[dict]:
    """The rows of a training file: JSON lines with "text" and "label" ("junk" or "clean")."""
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row.get("label") not in ("junk", "clean") or not isinstance(row.get("text"), str):
            raise ValueError(f"{path}:{n}: expected a text and a label 'junk' or 'clean'")
        rows.append(row)
    return rows


# Junk the rules reject for what it says: its words are what the model is to learn. Junk rejected
# for its form (repeated words, broken encoding, symbols, tag lists, length) is made of the words
# of any caption ("a dog sitting on a sofa sitting on a sofa ..."), and would teach the model that
# those words are junk; text in a language outside the allow list is the language rule's to judge,
# and would teach it the letters of those languages (Hungarian "hu", "hun" made German "Hund im
# Park" junk).
WORDING_REASONS = frozenset(("filter.boilerplate", "filter.refusal", "filter.url", "filter.file_name",
                             "filter.camera_settings", "filter.code"))


# A training row's kind that names junk by its form, a word or a phrase written twice or a loop, is
# left out even where no rule rejects it: the caption around the stutter is a clean one's words, and a
# Thai or Chinese stutter is one word with nearly the n-grams of the clean caption ("แมวนอนอยู่บนบนโซฟา"
# taught the model that "แมวนอนอยู่บนโซฟา..." is junk). So is a model's artifact (several numbered
# captions, a cut-off or looping description: "1. A cat. 2. A cat on a sofa. ..." made "Cat" junk).
FORM_KINDS = re.compile(r"stutter|loop|repeti|artifact")


def training_selection(texts: list[str], junk: list[bool] | np.ndarray, kinds: list[str] | None = None) -> np.ndarray:
    """Per labelled text: used for training. The model judges what every other text rule kept, so
    it learns from that: clean texts the rules keep, and junk the rules keep or reject for its
    wording (`WORDING_REASONS`), unless its kind (when given) names junk by its form (`FORM_KINDS`)."""
    from filters.caption_text import CaptionBatch
    from filters.chain import first_failing_text_rule
    from schemas.filter_config import FilterConfig

    reasons = first_failing_text_rule(CaptionBatch.from_texts(texts), FilterConfig(rules={"learned_junk": False}))
    junk = np.asarray(junk, dtype=bool)
    kept = np.array([r is None for r in reasons], dtype=bool)
    wording = np.array([r in WORDING_REASONS for r in reasons], dtype=bool)
    used = kept | (junk & wording)
    if kinds is not None:
        used &= ~(junk & np.array([bool(FORM_KINDS.search(k or "")) for k in kinds], dtype=bool))
    return used


_MODELS: dict[str, JunkModel] = {}
_MODELS_LOCK = threading.Lock()


def junk_model(path: str | None = None) -> JunkModel:
    """The model at `path` (default: the shipped one), loaded once per process."""
    key = str(path or DEFAULT_MODEL)
    model = _MODELS.get(key)
    if model is None:
        with _MODELS_LOCK:
            model = _MODELS.get(key)
            if model is None:
                model = _MODELS[key] = JunkModel.load(key)
    return model


@text_rule("learned_junk")
def learned_junk_rule(batch, cfg: LearnedJunkRule) -> np.ndarray:
    """Fails the texts the junk model (`model_path`, default the shipped one) scores at
    `threshold` or more. The scores are kept in `batch.junk_scores` (the ledger's `junk_score`)."""
    if len(batch) == 0:
        return np.ones(0, dtype=bool)
    scores = junk_model(cfg.model_path).scores(batch)
    batch.junk_scores[batch.root_rows] = scores
    return scores < cfg.threshold


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m filters.junk_model", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="fit a model on labelled captions and write it")
    train.add_argument("--data", default=str(TRAINING_DATA), help="JSON lines with text and label (junk|clean)")
    train.add_argument("--out", default=str(DEFAULT_MODEL))
    train.add_argument("--l2", type=float, default=L2)
    train.add_argument("--min-count", type=int, default=MIN_COUNT)
    args = ap.parse_args(argv)
    rows = training_rows(args.data)
    used = training_selection([r["text"] for r in rows], [r["label"] == "junk" for r in rows], [r.get("kind") for r in rows])
    rows = [r for r, u in zip(rows, used) if u]
    model = train_junk_model([r["text"] for r in rows], [r["label"] == "junk" for r in rows], args.l2, args.min_count)
    model.save(args.out)
    print(json.dumps({"rows": len(rows), "junk": sum(r["label"] == "junk" for r in rows),
                      "features": len(model.weights), "out": args.out}))


if __name__ == "__main__":
    main()
