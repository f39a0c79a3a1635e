"""Unicode classes of characters read off one table, instead of RE2 class patterns.

RE2 builds the automaton of a class like `\\pL` anew for every Arrow kernel call (about 0.5 ms
for `\\pL`, 0.8 ms for `[^\\pL\\pN\\pM\\s]`), which costs more than matching the few rows such a call
looks at. The code-point ranges in `unicode_classes_data` are RE2's own, written by
scripts/make_unicode_classes.py from these very patterns and checked against RE2 on every code point
by tests/filters/test_unicode_classes.py, so a test on the table answers what the pattern answers.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from filters.repairs import utf8_bytes

# One character of each class, in RE2's syntax (RE2's \s is [\t\n\f\r ]); a class's bit in the
# table is 1 << (its place here).
CLASSES = {
    "letter": r"\pL",
    "number": r"\pN",
    "mark": r"\pM",
    "digit": r"\p{Nd}",
    "space": r"\s",
    # scripts written without spaces between words: every character counts as one word
    "per_char_word": r"[\p{Han}\p{Hiragana}\p{Katakana}]",
    # East-Asian wide characters count two when measuring length
    "wide": r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}\x{3000}-\x{303F}\x{FF01}-\x{FF60}]",
    # scripts without spaces whose characters are letters, not words
    "unspaced": r"[\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}]",
}
BIT = {name: np.uint8(1 << i) for i, name in enumerate(CLASSES)}


def every_code_point() -> tuple[np.ndarray, pa.Array]:
    """Every Unicode scalar value (surrogates left out) and a string array of them, one per row."""
    cps = np.arange(0x110000, dtype=np.uint32)
    cps = cps[(cps < 0xD800) | (cps > 0xDFFF)]
    data = cps.astype("<u4").tobytes().decode("utf-32-le").encode("utf-8")
    lengths = np.select([cps < 0x80, cps < 0x800, cps < 0x10000], [1, 2, 3], 4).astype(np.int32)
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int32)
    return cps, pa.StringArray.from_buffers(len(cps), pa.py_buffer(offsets.tobytes()), pa.py_buffer(data))


@lru_cache(maxsize=1)
def _table() -> np.ndarray:
    from filters.unicode_classes_data import RANGES

    table = np.zeros(0x110000, dtype=np.uint8)
    for name, bit in BIT.items():
        bounds = RANGES[name]
        for first, last in zip(bounds[::2], bounds[1::2]):
            table[first : last + 1] |= bit
    return table


def char_class_bits(code_points: np.ndarray) -> np.ndarray:
    """The class bits of each code point."""
    return _table()[code_points]


class CharClasses:
    """The class bits of every character of some texts: `bits[i]` (and `code_points[i]`) for the
    i-th character of all of them in order; text r's characters are `bits[starts[r]:starts[r + 1]]`
    (a null is empty)."""

    def __init__(self, texts: pa.Array) -> None:
        data, offsets = utf8_bytes(texts)
        self.code_points = np.frombuffer(data.tobytes().decode("utf-8").encode("utf-32-le"), dtype=np.uint32)
        self.bits = _table()[self.code_points]
        # a character starts at every byte that is not a UTF-8 continuation byte
        starts = np.zeros(data.size + 1, dtype=np.int64)
        np.cumsum((data & 0xC0) != 0x80, out=starts[1:])
        self.starts = starts[offsets]

    def take(self, texts: np.ndarray) -> CharClasses:
        """The classes of the texts at `texts` (indices into these texts) only, in that order."""
        lengths = np.diff(self.starts)[texts]
        starts = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(lengths, out=starts[1:])
        chars = np.arange(starts[-1]) + np.repeat(self.starts[texts] - starts[:-1], lengths)
        out = object.__new__(CharClasses)
        out.code_points, out.bits, out.starts = self.code_points[chars], self.bits[chars], starts
        return out

    def count(self, mask: int, *, none_of: bool = False) -> np.ndarray:
        """Per text: its characters with any bit of `mask` (with none, if `none_of`)."""
        hit = (self.bits & mask) == 0 if none_of else (self.bits & mask) != 0
        return np.diff(np.searchsorted(np.flatnonzero(hit), self.starts))

    def count_chars(self, chars: str) -> np.ndarray:
        """Per text: its characters among `chars`."""
        hit = np.isin(self.code_points, [ord(c) for c in chars])
        return np.diff(np.searchsorted(np.flatnonzero(hit), self.starts))

    def any_followed_by(self, mask: int, chars: str) -> np.ndarray:
        """Per text: a character with a bit of `mask` comes right before one of `chars`."""
        out = np.zeros(len(self.starts) - 1, dtype=bool)
        pos = np.flatnonzero(np.isin(self.code_points, [ord(c) for c in chars]))
        text_of = np.searchsorted(self.starts, pos, side="right") - 1
        after = (pos > self.starts[text_of]) & ((self.bits[pos - 1] & mask) != 0)  # pos > start: pos - 1 >= 0
        out[text_of[after]] = True
        return out

    def runs_at_least(self, mask: int, k: int) -> np.ndarray:
        """Per text: how many maximal runs of at least `k` characters with a bit of `mask` it has."""
        pos = np.flatnonzero((self.bits & mask) != 0)
        out = np.zeros(len(self.starts) - 1, dtype=np.int64)
        if pos.size == 0:
            return out
        text_of = np.searchsorted(self.starts, pos, side="right") - 1
        # a run breaks where the next hit is not the next character, or is in another text
        new_run = np.ones(pos.size, dtype=bool)
        new_run[1:] = (np.diff(pos) != 1) | (np.diff(text_of) != 0)
        first = np.flatnonzero(new_run)
        length = np.diff(np.append(first, pos.size))
        np.add.at(out, text_of[first[length >= k]], 1)
        return out

    def spaced(self, mask: int) -> pa.Array:
        """The texts with a space put before and after each character with a bit of `mask` (what
        replacing the class's characters `c` by `" c "` with RE2 gives, nulls made empty)."""
        hit = (self.bits & mask) != 0
        ends = np.cumsum(1 + 2 * hit.astype(np.int64))  # each such character becomes three
        slots = np.concatenate(([0], ends))
        code_points = np.full(int(slots[-1]), 0x20, dtype=np.uint32)
        code_points[slots[:-1] + hit] = self.code_points
        data = code_points.tobytes().decode("utf-32-le").encode("utf-8")
        utf8_lengths = 1 + (code_points >= 0x80).astype(np.int64) + (code_points >= 0x800) + (code_points >= 0x10000)
        byte_offsets = np.concatenate(([0], np.cumsum(utf8_lengths)))[slots[self.starts]]
        return pa.StringArray.from_buffers(len(self.starts) - 1, pa.py_buffer(byte_offsets.astype(np.int32).tobytes()),
                                           pa.py_buffer(data))


def char_classes(texts: pa.Array) -> CharClasses:
    return CharClasses(pc.fill_null(texts, "") if texts.null_count else texts)
