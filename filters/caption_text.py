"""Caption text as the rules see it: UTF-8 repair, normalisation, and the features rules share.

Everything here works on whole pyarrow string arrays. The expensive steps are applied only to the
rows that need them (a prefilter regex or `string_is_ascii` picks them), so a clean ASCII caption
costs a few vectorised passes and nothing more.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Scripts written without spaces between words: every character counts as one word.
PER_CHAR_WORD = r"[\p{Han}\p{Hiragana}\p{Katakana}]"
# Trimmed from both ends of each whitespace-separated token; a token left empty is not a word.
_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~“”‘’«»„‚‹›…–—·•、，。！？：；（）【】《》〈〉「」『』～"
# Scripts written without spaces whose characters are letters, not words: word counts mean nothing.
UNSPACED_SCRIPT = r"[\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}]"
# East-Asian wide characters count two when measuring length.
WIDE_CHAR = r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}\x{3000}-\x{303F}\x{FF01}-\x{FF60}]"

_ENTITY = r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"
_LINE_BREAK = r"\r\n?|[\x{85}\x{2028}\x{2029}]"
# C0/C1 controls (but tab, LF, VT, FF, CR, NEL) and invisible format characters. ZWJ/ZWNJ stay:
# emoji sequences and several scripts need them.
_CONTROL = (
    r"[\x00-\x08\x0E-\x1F\x7F-\x84\x86-\x9F\x{AD}\x{200B}\x{2060}\x{FEFF}\x{202A}-\x{202E}\x{2066}-\x{2069}]"
)
_HSPACE = r"[\t\x0B\x0C\p{Zs}]"
# Every \p{Zs} but the ASCII space, plus tab, VT and FF.
_ODD_SPACE = r"[\t\x0B\x0C\x{A0}\x{1680}\x{2000}-\x{200A}\x{202F}\x{205F}\x{3000}]"
# A row needs the whitespace/control pass when it has any of these.
_NEEDS_CLEANUP = "|".join((_CONTROL, _LINE_BREAK, _ODD_SPACE, "  ", " \n", "\n ", "\n\n\n", r"^\s", r"\s$"))


def repair_utf8(texts: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Make a string array valid UTF-8: bad bytes become U+FFFD. Returns it and the rows that had them.

    Arrow normally guarantees valid UTF-8, but a string column built from raw buffers may not
    have it, and the string kernels must never see such bytes.
    """
    bad = np.zeros(len(texts), dtype=bool)
    try:
        texts.validate(full=True)
        return texts, bad
    except pa.ArrowInvalid:
        pass
    fixed = []
    for i, b in enumerate(texts.cast(pa.binary()).to_pylist()):
        if b is None:
            fixed.append(None)
            continue
        try:
            fixed.append(b.decode("utf-8"))
        except UnicodeDecodeError:
            bad[i] = True
            fixed.append(b.decode("utf-8", errors="replace"))
    return pa.array(fixed, pa.string()), bad


def _on_rows(texts: pa.Array, mask: pa.Array, fn) -> pa.Array:
    """Apply `fn` (array -> array) to the rows where `mask` is true; other rows are untouched."""
    mask = pc.fill_null(mask, False)
    if not pc.any(mask).as_py():
        return texts
    return pc.replace_with_mask(texts, mask, fn(texts.filter(mask)))


def _unescape_html(texts: pa.Array) -> pa.Array:
    # Twice: web alt text is often escaped twice ("&amp;amp;").
    return pa.array([html.unescape(html.unescape(t)) for t in texts.to_pylist()], pa.string())


def _clean_whitespace(texts: pa.Array) -> pa.Array:
    texts = pc.replace_substring_regex(texts, _LINE_BREAK, "\n")
    texts = pc.replace_substring_regex(texts, _CONTROL, "")
    texts = pc.replace_substring_regex(texts, _HSPACE + "+", " ")
    # Spaces around line breaks go; runs of blank lines shrink to one blank line.
    texts = pc.replace_substring_regex(texts, r" *(\n) *(?:(\n)[ \n]*)?", r"\1\2")
    return pc.utf8_trim_whitespace(texts)


def normalize_captions(texts: pa.Array) -> pa.Array:
    """Unicode NFC, HTML entities, control/invisible characters, and whitespace.

    Horizontal whitespace (tabs, NBSP, ideographic space ...) becomes one space, line breaks become
    "\\n" (at most one blank line in a row), and the ends are trimmed. Input must be valid UTF-8
    (`repair_utf8`); nulls stay null.
    """
    texts = _on_rows(texts, pc.match_substring_regex(texts, _ENTITY), _unescape_html)
    texts = _on_rows(texts, pc.match_substring_regex(texts, _NEEDS_CLEANUP), _clean_whitespace)
    # NFC last: removing a control character can bring a letter and its combining mark together.
    return _on_rows(texts, pc.invert(pc.string_is_ascii(texts)), lambda t: pc.utf8_normalize(t, "NFC"))


def text_width(texts: pa.Array) -> np.ndarray:
    """Characters per text, spaces included, East-Asian wide characters counting two."""
    n = pc.utf8_length(texts).to_numpy(zero_copy_only=False).astype(np.int64)
    rows = np.flatnonzero(pc.invert(pc.string_is_ascii(texts)).to_numpy(zero_copy_only=False))
    if rows.size:
        n[rows] += pc.count_substring_regex(texts.take(rows), WIDE_CHAR).to_numpy(zero_copy_only=False)
    return n


@dataclass(frozen=True)
class Words:
    """All words of a batch, flattened: `row[i]` is the row of word `i`, `ids[i]` its id in the
    batch's dictionary of lowercased words. Rows' words are contiguous and in order."""

    row: np.ndarray  # int64
    ids: np.ndarray  # int32
    dictionary: pa.Array
    counts: np.ndarray  # words per row

    @cached_property
    def starts(self) -> np.ndarray:
        """Index of each row's first word (rows without words: where their first word would be)."""
        return np.cumsum(self.counts) - self.counts


@dataclass(frozen=True)
class CaptionBatch:
    """The texts a batch of text rules judges, plus features computed once and shared.

    `raw` is the assistant text as read (after UTF-8 repair), `text` the normalised text. A word is
    a whitespace-separated token with punctuation trimmed from both ends ("don't" and "3.5" are one
    word, "—" none); every Han/Hiragana/Katakana character is a word by itself.
    """

    raw: pa.Array
    text: pa.Array
    invalid_utf8: np.ndarray = field(repr=False)

    @classmethod
    def from_texts(cls, texts) -> CaptionBatch:
        """From a list of str or a string array (used by tests and benchmarks)."""
        raw = texts if isinstance(texts, pa.Array) else pa.array(texts, pa.string())
        raw, bad = repair_utf8(raw)
        raw = pc.fill_null(raw, "")
        return cls(raw=raw, text=normalize_captions(raw), invalid_utf8=bad)

    def __len__(self) -> int:
        return len(self.text)

    @cached_property
    def lower(self) -> pa.Array:
        return pc.utf8_lower(self.text)

    @cached_property
    def non_ascii(self) -> pa.Array:
        return pc.invert(pc.string_is_ascii(self.text))

    @cached_property
    def words(self) -> Words:
        low = self.lower
        # Han/Kana characters become words of their own; only non-ASCII rows can have them.
        rows = np.flatnonzero(self.non_ascii.to_numpy(zero_copy_only=False))
        if rows.size:
            has = pc.match_substring_regex(low.take(rows), PER_CHAR_WORD).to_numpy(zero_copy_only=False)
            mask = np.zeros(len(self), dtype=bool)
            mask[rows[has]] = True
            low = _on_rows(
                low, pa.array(mask), lambda t: pc.replace_substring_regex(t, f"({PER_CHAR_WORD})", r" \1 ")
            )
        tokens = pc.ascii_split_whitespace(low)
        flat = pc.utf8_trim(tokens.flatten(), _PUNCTUATION)
        row = pc.list_parent_indices(tokens).to_numpy()
        keep = pc.greater(pc.binary_length(flat), 0)
        flat = flat.filter(keep)
        row = row[keep.to_numpy(zero_copy_only=False)]
        enc = flat.dictionary_encode()
        ids = enc.indices.to_numpy().astype(np.int32, copy=False)
        counts = np.bincount(row, minlength=len(self)).astype(np.int64)
        return Words(row=row.astype(np.int64, copy=False), ids=ids, dictionary=enc.dictionary, counts=counts)

    @property
    def n_words(self) -> np.ndarray:
        return self.words.counts

    @cached_property
    def n_chars(self) -> np.ndarray:
        """Characters, spaces included, East-Asian wide characters counting two."""
        return text_width(self.text)

    @cached_property
    def unspaced(self) -> np.ndarray:
        """Rows written in a script without spaces between words (Thai, Lao, Khmer, Myanmar)."""
        out = np.zeros(len(self), dtype=bool)
        rows = np.flatnonzero(self.non_ascii.to_numpy(zero_copy_only=False))
        if rows.size:
            out[rows] = pc.match_substring_regex(self.text.take(rows), UNSPACED_SCRIPT).to_numpy(
                zero_copy_only=False
            )
        return out

    @cached_property
    def language(self) -> tuple[pa.Array, np.ndarray]:
        """(top lid.176 language, its score) per row."""
        from filters.language import identify_languages

        return identify_languages(self.text)
