"""Which language's words are these? Word frequencies per language (the `wordfreq` package's
"small" lists, drawn from Wikipedia, subtitles, news, books and the web) tell a caption in a
language lid.176 confuses with an allowed neighbour apart from the neighbour's own captions.

lid.176 reads a short caption by its character n-grams, and a Slovak, Croatian, Catalan or
Norwegian one shares most of them with Czech, Spanish or Swedish: "Zasnežené štíty Vysokých
Tatier nad horským plesom." is Czech at 0.58 and Slovak at 0.40, "Un gos dorm a l'ombra d'un cotxe
aparcat al carrer." Catalan at 0.42 beside French at 0.38, and both are kept. Their words are
plainer evidence: "zasnežené", "štíty" and "plesom" are Slovak words and no Czech ones; "gos",
"cotxe" and "carrer" are Catalan. `foreign_words` (`foreign_by_words` for plain texts) scores
each word by its Zipf frequency (log10 of its uses per billion words; 0 where the list lacks it) in
every language with a list, and judges a caption foreign when a language outside the allow list
beats every allowed one by `margin` per word on average, with more of the text's common words (Zipf
`COMMON_ZIPF` or more) in that language alone than in the best allowed one alone, and fewer than
`_MIXED` words thirty times as common in that allowed one (those make a caption in two languages,
one of them allowed: "Sunset over the fjord in Lofoten tonight, så vakkert!"). A caption that an
allowed language explains as well, names and all, is kept: "Bratislavský hrad nad Dunajem" (Czech)
and "Fyren på Lindesnes i Norge" (Swedish) score 1.05 and 1.17 per word towards Slovak and Norwegian.

Words are looked up by their hash in one sorted index of every list, built once per process from
the package's lists (about 20 bytes an entry, where the package's dicts take a hundred). Languages whose lists
need their own tokenizer (Chinese, Japanese, Korean) are left out; Serbian written in Cyrillic is
looked up in the Serbo-Croatian list transliterated to Latin.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

import numpy as np

COMMON_ZIPF = 2.5  # a word this common in a language (about one use in 3 million words) is one of its words
_FAR_MORE = 1.5  # Zipf: thirty times as common
_MIXED = 2  # words far more common in an allowed language: this many make a text mixed, not foreign
# wordfreq's codes where lid.176's differ (the rest are the same)
LID_CODES = {"fil": "tl", "sh": "hbs", "nb": "no"}
# Lists that need a language's own tokenizer, not words split at spaces
_UNSPACED = frozenset({"zh", "ja", "ko"})
_CYRILLIC_TO_LATIN = dict(zip("абвгдђежзијклљмнњопрстћуфхцчџш",
                              ("a b v g d đ e ž z i j k l lj m n nj o p r s t ć u f h c č dž š").split()))
_TRANSLITERATE = str.maketrans(_CYRILLIC_TO_LATIN)
_LATIN_LISTS = frozenset({"sh"})  # lists in Latin letters of languages also written in Cyrillic
# A word: letters, with an apostrophe inside ("l'ombra", "d'estar")
LETTER_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


class _Lists(NamedTuple):
    codes: tuple[str, ...]
    words: np.ndarray  # sorted: the hash of each word in one list or more
    first: np.ndarray  # per word: its first entry (entries of a word are contiguous), and the end
    code: np.ndarray  # per entry: the list (index into `codes`)
    zipf: np.ndarray  # ... and the word's Zipf frequency there (float32)


_LISTS: dict[tuple[str, ...], _Lists] = {}
_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def available() -> tuple[str, ...]:
    """wordfreq's languages with a "small" list split at spaces (empty when wordfreq is absent);
    read once per process (the package finds its lists on disk)."""
    try:
        import wordfreq
    except ImportError:  # pragma: no cover - a declared dependency
        return ()
    return tuple(sorted(set(wordfreq.available_languages("small")) - _UNSPACED))


def _lists(codes: tuple[str, ...]) -> _Lists:
    """The lists of `codes` as one index, built on first use and kept for the life of the process
    (about 1.6 million entries for wordfreq's 39 lists: 30 MB)."""
    got = _LISTS.get(codes)
    if got is None:
        with _LOCK:
            got = _LISTS.get(codes)
            if got is None:
                import wordfreq

                paths = wordfreq.available_languages("small")
                hashes, code, zipf = [], [], []
                for j, c in enumerate(codes):
                    # (the package's own reader: its `get_frequency_dict` keeps every dict it builds)
                    buckets = wordfreq.read_cBpack(paths[c])  # bucket i: the words used 10^(-i/100) of the time
                    sizes = np.array([len(b) for b in buckets], dtype=np.int64)
                    hashes.append(np.fromiter((hash(w) for b in buckets for w in b), dtype=np.int64, count=int(sizes.sum())))
                    zipf.append(np.repeat(9.0 - np.arange(len(buckets)) / 100.0, sizes))
                    code.append(np.full(int(sizes.sum()), j, dtype=np.uint8))
                    del buckets
                h = np.concatenate(hashes)
                order = np.argsort(h, kind="stable")
                h = h[order]
                new = np.flatnonzero(np.concatenate(([True], h[1:] != h[:-1])))
                got = _LISTS[codes] = _Lists(codes, h[new], np.append(new, len(h)).astype(np.int64),
                                             np.concatenate(code)[order], np.concatenate(zipf)[order].astype(np.float32))
    return got


def _fill(out: np.ndarray, keys: np.ndarray, lists: _Lists, only: int | None = None) -> None:
    """Put each key's Zipf frequencies into its row of `out` (one column per list; `only`: that
    list's column alone)."""
    at = np.minimum(np.searchsorted(lists.words, keys), len(lists.words) - 1)
    rows = np.flatnonzero(lists.words[at] == keys)
    if rows.size == 0:
        return
    lo, hi = lists.first[at[rows]], lists.first[at[rows] + 1]
    n = hi - lo
    entry = np.repeat(lo - np.concatenate(([0], np.cumsum(n)[:-1])), n) + np.arange(int(n.sum()))
    row = np.repeat(rows, n)
    col = lists.code[entry]
    if only is not None:
        pick = col == only
        entry, row, col = entry[pick], row[pick], col[pick]
    out[row, col] = lists.zipf[entry]


def zipf_table(words: list[str], codes: tuple[str, ...]) -> np.ndarray:
    """(len(words), len(codes)): each word's Zipf frequency in each language (0: not in its list)."""
    out = np.zeros((len(words), len(codes)), dtype=np.float32)
    if not words:
        return out
    lists = _lists(codes)
    _fill(out, np.fromiter((hash(w) for w in words), dtype=np.int64, count=len(words)), lists)
    for j, code in enumerate(codes):
        if code in _LATIN_LISTS:
            moved = [i for i, w in enumerate(words) if w.translate(_TRANSLITERATE) != w]
            if moved:
                part = np.zeros((len(moved), len(codes)), dtype=np.float32)
                _fill(part, np.fromiter((hash(words[i].translate(_TRANSLITERATE)) for i in moved), dtype=np.int64,
                                        count=len(moved)), lists, only=j)
                out[moved, j] = part[:, j]
    return out


def foreign_by_words(texts: list[str], allowed: frozenset[str], macro: dict[str, str], margin: float,
                     min_words: int) -> np.ndarray:
    """Per (lowercase) text: its words are a language outside `allowed` (`foreign_words`)."""
    words = [LETTER_WORD.findall(t) for t in texts]
    uniq = list(dict.fromkeys(w for ws in words for w in ws))
    index = {w: j for j, w in enumerate(uniq)}
    ids = np.fromiter((index[w] for ws in words for w in ws), dtype=np.int64)
    row = np.repeat(np.arange(len(texts)), [len(ws) for ws in words])
    return foreign_words(lambda used: [uniq[i] for i in used.tolist()], ids, row, len(texts), allowed, macro, margin,
                         min_words)


def foreign_words(vocabulary: Callable[[np.ndarray], list[str | None]], ids: np.ndarray, row: np.ndarray, n: int, allowed: frozenset[str],
                  macro: dict[str, str], margin: float, min_words: int) -> np.ndarray:
    """Per text (of `n`; its words, lowercase: word `ids[i]` in text `row[i]`, texts' words
    contiguous, `vocabulary(ids)` the words of (sorted, distinct) ids): its words are a language outside `allowed` (lid.176 codes, with their
    macro-languages) by `margin` Zipf per word on average over the best allowed language, it has
    more common words of that language alone than of that allowed one alone, and fewer than
    `_MIXED` far more common in that allowed one. Only words of letters count (a word with a digit,
    or a `None` entry, does not), and texts of fewer than `min_words` of them are kept."""
    out = np.zeros(n, dtype=bool)
    codes = available()
    if n == 0 or not codes or margin <= 0 or ids.size == 0:
        return out
    lid = [LID_CODES.get(c, c) for c in codes]
    is_allowed = np.array([c in allowed or macro.get(c, c) in allowed for c in lid])
    if is_allowed.all() or not is_allowed.any():
        return out
    used = np.unique(ids)
    vocab = vocabulary(used)
    letters = np.array([w is not None and LETTER_WORD.fullmatch(w) is not None for w in vocab], dtype=bool)
    used, vocab = used[letters], [w for w, ok in zip(vocab, letters.tolist()) if ok]
    word = np.isin(ids, used)  # (a sorted `used`)
    ids, row = ids[word], row[word]
    counts = np.bincount(row, minlength=n)
    long = counts >= min_words
    if not long.any():
        return out
    token = long[row]
    ids, row = ids[token], row[token]
    # (languages × words: summing each language's row over a text's words is six times as fast as
    # summing the other way round)
    table = np.ascontiguousarray(zipf_table(vocab, codes).T).take(np.searchsorted(used, ids), axis=1)
    rows = np.flatnonzero(long)
    totals = np.add.reduceat(table, np.searchsorted(row, rows), axis=1).T  # (each long row has words)
    allowed_cols, foreign_cols = np.flatnonzero(is_allowed), np.flatnonzero(~is_allowed)
    best_allowed = np.full(n, -1)
    best_foreign = np.full(n, -1)
    best_allowed[rows] = allowed_cols[totals[:, allowed_cols].argmax(axis=1)]
    best_foreign[rows] = foreign_cols[totals[:, foreign_cols].argmax(axis=1)]
    pick = np.arange(len(rows))
    lead = (totals[pick, best_foreign[rows]] - totals[pick, best_allowed[rows]]) / counts[rows]
    token = np.arange(len(ids))
    f_col, a_col = table[best_foreign[row], token], table[best_allowed[row], token]
    only_foreign = np.bincount(row, weights=(f_col >= COMMON_ZIPF) & (a_col == 0), minlength=n)[rows]
    only_allowed = np.bincount(row, weights=(a_col >= COMMON_ZIPF) & (f_col == 0), minlength=n)[rows]
    # words an allowed language has far more use for (English "the", "in", "tonight" in Norwegian
    # text beside "så vakkert"): a caption in two languages, one of them allowed
    allowed_words = np.bincount(row, weights=a_col - f_col >= _FAR_MORE, minlength=n)[rows]
    out[rows] = (lead >= margin) & (only_foreign >= 1) & (only_foreign > only_allowed) & (allowed_words < _MIXED)
    return out


# ---------------------------------------------------------------- words cut short

COMMON_WORDS = 20_000  # a language's words a cut-off word may be the start of


@lru_cache(maxsize=64)
def _common_words(code: str) -> tuple[str, ...]:
    """wordfreq's most common words of language ``code`` written in letters, sorted (empty without it)."""
    if code not in available():
        return ()
    import wordfreq

    return tuple(sorted({w for w in wordfreq.top_n_list(code, COMMON_WORDS) if w.isalpha()}))


def word_zipf(word: str, code: str) -> float:
    """The word's Zipf frequency in wordfreq's full list of ``code`` (0: not in it, or no wordfreq)."""
    if code not in available():
        return 0.0
    import wordfreq

    return float(wordfreq.zipf_frequency(word, code))


def starts_a_common_word(word: str, code: str) -> bool:
    """Whether a longer common word of ``code`` (`COMMON_WORDS`) starts with ``word`` ("buil": "building")."""
    common = _common_words(code)
    i = bisect_left(common, word)
    while i < len(common) and common[i].startswith(word):
        if len(common[i]) > len(word):
            return True
        i += 1
    return False


def most_common_completion(word: str, code: str) -> float:
    """The Zipf frequency of the most common longer word of ``code`` (`COMMON_WORDS`) that starts with
    ``word`` ("scr": "screen", 4.85); 0 where none does."""
    common = _common_words(code)
    i = bisect_left(common, word)
    best = 0.0
    while i < len(common) and common[i].startswith(word):
        if len(common[i]) > len(word):
            best = max(best, word_zipf(common[i], code))
        i += 1
    return best
