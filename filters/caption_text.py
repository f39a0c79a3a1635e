"""Caption text as the rules see it: UTF-8 repair, normalisation, and the features rules share.

Everything here works on whole pyarrow string arrays. The expensive steps are applied only to the
rows that need them (a prefilter regex or `string_is_ascii` picks them), so a clean ASCII caption
costs a few vectorised passes and nothing more.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from filters.repairs import ascii_char_counts, ascii_set_counts, repair_texts, token_starts, utf8_bytes
from filters.pattern_search import bool_mask as _np, search
from filters.unicode_classes import BIT, CLASSES, CharClasses, char_classes
from schemas.filter_config import CleanConfig

# Scripts written without spaces between words: every character counts as one word.
PER_CHAR_WORD = CLASSES["per_char_word"]
# Trimmed from both ends of each whitespace-separated token; a token left empty is not a word.
_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~“”‘’«»„‚‹›…–—·•、，。！？：；（）【】《》〈〉「」『』～"
# Scripts written without spaces whose characters are letters, not words: word counts mean nothing.
UNSPACED_SCRIPT = CLASSES["unspaced"]
# East-Asian wide characters count two when measuring length.
WIDE_CHAR = CLASSES["wide"]

# Quoted spans: what the image shows (a sign, a label, a screen), exempt from the repetition,
# boilerplate, refusal and code rules. ASCII single quotes count only at word boundaries, so
# apostrophes ("dog's", "the dogs' bowls") never open a span; backticks quote code ("a T-shirt printed
# with `while(alive) { eat(); }`").
QUOTED_SPAN = (
    r'"[^"\n]{1,300}"|“[^”\n]{1,300}”|„[^“”\n]{1,300}[“”]|«[^»\n]{1,300}»|‹[^›\n]{1,300}›|「[^」]{1,300}」'
    r"|『[^』]{1,300}』|‘[^’\n]{1,300}’|《[^》]{1,300}》|`[^`\n]{1,300}`"
)
_SINGLE_QUOTED = r"(^|[\s(\[{:])'[^'\n]{1,300}'($|[\s.,;:!?)\]}])"
# The same spans without the length limit: every text with a quoted span matches it, and RE2 runs
# it as a small DFA. It picks the rows; the spans are cut in Python (`_QUOTED_SPAN_RE`), since
# RE2 builds the counted repeats anew for every kernel call, which costs more than the rows do.
_ANY_QUOTED_SPAN = "|".join((QUOTED_SPAN, _SINGLE_QUOTED)).replace("{1,300}", "+")
# The two patterns in Python's `re` with RE2's meaning: RE2's \s is [\t\n\f\r ], its ^ and $
# (no multi-line mode) the very start and end of the text.
_QUOTED_SPAN_RE = re.compile(QUOTED_SPAN)
_SINGLE_QUOTED_RE = re.compile(r"(\A|[\t\n\f\r (\[{:])'[^'\n]{1,300}'(\Z|[\t\n\f\r .,;:!?)\]}])")
# What a sign says after a colon, to the end of the text, is quoted too: "Sale poster in a shop window:
# 50% off all winter coats." The words before the colon (two to eight) name a sign, a poster, a
# screen or a label, in the allowed languages, and then where it is (a preposition after it), or end on
# it ("Shop window poster: ..."; "Banner ad template: buy now" names no sign in a scene); matched on
# lowercased text.
_SIGN_WORDS = (
    "sign", "signs", "signboard", "signpost", "poster", "posters", "banner", "billboard", "placard", "notice",
    "noticeboard", "flyer", "leaflet", "menu", "label", "sticker", "shirt", "t-shirt", "mug", "chalkboard",
    "blackboard", "whiteboard", "board", "screen", "display", "headline", "slogan", "inscription", "graffiti",
    "plaque", "scoreboard", "timetable", "note", "tag", "neon", "lettering", "schild", "plakat", "aufschrift",
    "tafel", "fahrplan", "anzeigetafel", "panneau", "affiche", "pancarte", "enseigne", "écriteau", "ardoise",
    "banderole", "cartel", "letrero", "pancarta", "pizarra", "rótulo", "marcador", "cartello", "insegna",
    "cartellone", "lavagna", "striscione", "tabellone", "placa", "cartaz", "faixa", "letreiro", "quadro", "placar",
    "bord", "spandoek", "scorebord", "tabliczka", "napis", "szyld", "baner", "tablica", "вывеска", "табличка",
    "плакат", "надпись", "баннер", "табло", "доска", "объявление", "вивіска", "напис", "tabela", "afiş", "pankart",
    "levha", "cedule", "nápis", "plakát", "tabule", "skylt", "affisch", "tavla", "tidtabell", "papan", "spanduk",
    "tulisan", "biển", "bảng",
)  # fmt: skip
_SIGN_PLACES = (
    "in", "on", "at", "above", "over", "outside", "inside", "near", "behind", "beside", "under", "by", "along", "of",
    "reading", "saying", "an", "am", "im", "auf", "über", "vor", "neben", "sur", "dans", "devant", "au", "en",
    "sobre", "del", "su", "sul", "sulla", "nel", "nella", "davanti", "em", "na", "no", "do", "op", "aan", "bij",
    "w", "przy", "nad", "на", "в", "у", "над", "біля", "v", "u", "på", "i", "vid", "di", "trên", "ở",
)  # fmt: skip
_SIGN_WORD_ALTERNATIVES = "(?:" + "|".join(map(re.escape, _SIGN_WORDS)) + ")"
_SIGN_WORD = "(?<![\\w-])" + _SIGN_WORD_ALTERNATIVES
_SIGN_TEXT_RE = re.compile(
    r"\A((?=[^:：\n]*" + _SIGN_WORD + r"(?:(?![\w-])[^:：\n]*?(?<![\w-])(?:" + "|".join(map(re.escape, _SIGN_PLACES))
    + r")(?![\w-])|[ \t]*[:：]))"
    r"[^\s:：]+(?:[ \t]+[^\s:：]+){1,7}[ \t]*[:：])[ \t]*\S[^\n]*\Z"
)
_SIGN_BEFORE_COLON = r"^[^:：\n]*" + _SIGN_WORD_ALTERNATIVES + r"[^:：\n]*[:：]"
# ASCII characters the rules count per row (`CaptionBatch.ascii_counts`), all in one pass. None
# is a letter, so each count is the same in `text` and in `lower`.
# Special: not a letter or digit, nor RE2's \s ([\t\n\f\r ]) (`special_chars`).
SPECIAL_ASCII = "".join(c for c in map(chr, range(128)) if not c.isalnum() and c not in "\t\n\f\r ")
DIGITS = "0123456789"
QUOTES = "\"'`"
LIST_SEPARATORS_ASCII = ",;|/>"  # (">": breadcrumbs, "Home > Shoes > Running")
SENTENCE_ENDS_ASCII = ".!?;\n"  # the ASCII characters of `sentence_repetition`'s sentence ends
COUNTED_ASCII = (SPECIAL_ASCII, DIGITS, QUOTES, LIST_SEPARATORS_ASCII, "-", "#", "\n", SENTENCE_ENDS_ASCII, "?")
# A word followed by one of these ends an item of an enumeration.
_LIST_END = r"[,;，、；]$"



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


def normalize_captions(texts: pa.Array, cfg: CleanConfig | None = None) -> pa.Array:
    """The repaired texts (`filters.repairs.repair_texts` with `cfg`, default: every default repair).
    Input must be valid UTF-8 (`repair_utf8`); nulls stay null."""
    return repair_texts(texts, cfg or CleanConfig()).text


def without_quotes(
    texts: pa.Array, non_ascii: np.ndarray | None = None, quotes: np.ndarray | None = None
) -> tuple[pa.Array, np.ndarray]:
    """`texts` with every quoted span replaced by a space, and the rows that had one (sorted).
    `non_ascii`, when given, marks the rows that may hold a non-ASCII character (or more rows);
    `quotes`, when given, is the count of ASCII quotes (`QUOTES`) per row."""
    # ASCII quotes are counted in numpy; the others can only be in non-ASCII rows
    if non_ascii is None:
        non_ascii = ~_np(pc.string_is_ascii(texts))
    if quotes is None:
        quotes = ascii_char_counts(texts, QUOTES)
    rows = np.flatnonzero((quotes > 0) | non_ascii)
    if rows.size:
        rows = rows[_np(pc.match_substring_regex(texts.take(pa.array(rows)), _ANY_QUOTED_SPAN))]
    # ... and a sign's text after a colon (RE2 picks the rows with a sign's word before a colon)
    colon = ascii_char_counts(texts, ":") > 0
    wide = np.flatnonzero(non_ascii & ~colon)
    if wide.size:  # (a full-width colon is not ASCII)
        colon[wide] = _np(pc.match_substring(texts.take(pa.array(wide)), "："))
    colon = np.flatnonzero(colon)
    if colon.size:
        colon = colon[_np(pc.match_substring_regex(texts.take(pa.array(colon)), _SIGN_BEFORE_COLON))]
        rows = np.union1d(rows, colon)
    if rows.size == 0:
        return texts, rows
    before = texts.take(pa.array(rows)).to_pylist()
    after = [_SIGN_TEXT_RE.sub(r"\1 ", _SINGLE_QUOTED_RE.sub(r"\1 \2", _QUOTED_SPAN_RE.sub(" ", t))) for t in before]
    changed = np.fromiter((a != b for a, b in zip(after, before)), dtype=bool, count=len(before))
    rows = rows[changed]
    if rows.size == 0:
        return texts, rows
    mask = np.zeros(len(texts), dtype=bool)
    mask[rows] = True
    return pc.replace_with_mask(texts, pa.array(mask), pa.array([a for a, c in zip(after, changed) if c], texts.type)), rows


def text_width(texts: pa.Array) -> np.ndarray:
    """Characters per text, spaces included, East-Asian wide characters counting two."""
    n = pc.utf8_length(texts).to_numpy(zero_copy_only=False).astype(np.int64)
    rows = np.flatnonzero(pc.invert(pc.string_is_ascii(texts)).to_numpy(zero_copy_only=False))
    if rows.size:
        n[rows] += char_classes(texts.take(pa.array(rows))).count(BIT["wide"])
    return n


@dataclass(frozen=True)
class Words:
    """All words of a batch, flattened: `row[i]` is the row of word `i`, `ids[i]` its id in the
    batch's dictionary of lowercased words. Rows' words are contiguous and in order. Ids compare
    equal words within a row (a merged batch may give one word two ids in different rows)."""

    row: np.ndarray  # int64
    ids: np.ndarray  # int32
    dictionary: pa.Array
    counts: np.ndarray  # words per row
    # makes `list_ends`, which few rules need, when one asks
    list_end_source: Callable[[], np.ndarray] = field(repr=False, compare=False)

    @cached_property
    def list_ends(self) -> np.ndarray:
        """Per word: followed by a comma, semicolon or "、" (it ends an enumeration item)."""
        return self.list_end_source()

    @cached_property
    def starts(self) -> np.ndarray:
        """Index of each row's first word (rows without words: where their first word would be)."""
        return np.cumsum(self.counts) - self.counts

    @cached_property
    def doubled(self) -> np.ndarray:
        """Per pair of neighbours (i, i+1): the same word twice in a row of one text."""
        if self.ids.size < 2:
            return np.zeros(0, dtype=bool)
        return (self.ids[1:] == self.ids[:-1]) & (self.row[1:] == self.row[:-1])

    def list_end(self, index: np.ndarray) -> np.ndarray:
        """`list_ends` of the words at `index`."""
        return self.list_ends[index]

    def subset(self, rows: np.ndarray) -> Words:
        """The words of `rows` (sorted row indices) only: row i of the result is row rows[i]."""
        counts = self.counts[rows]
        take = np.zeros(len(self.counts), dtype=bool)
        take[rows] = True
        words = np.repeat(take, self.counts)  # rows' words are contiguous and in order
        return Words(row=np.repeat(np.arange(len(rows), dtype=np.int64), counts), ids=self.ids[words],
                     dictionary=self.dictionary, counts=counts, list_end_source=lambda: self.list_ends[words])

    def with_rows(self, rows: np.ndarray, other: Words) -> Words:
        """These words, with the words of `rows` (sorted row indices) taken from `other`, the words
        of just those rows (its row i is row rows[i])."""
        keep = ~np.isin(self.row, rows)
        row = np.concatenate((self.row[keep], rows[other.row]))
        order = np.argsort(row, kind="stable")
        ids = np.concatenate((self.ids[keep], other.ids + len(self.dictionary)))[order]
        counts = self.counts.copy()
        counts[rows] = other.counts

        def list_ends() -> np.ndarray:
            return np.concatenate((self.list_ends[keep], other.list_ends))[order]

        return Words(row=row[order], ids=ids.astype(np.int32), dictionary=pa.concat_arrays(
            [self.dictionary, other.dictionary]), counts=counts, list_end_source=list_ends)


_LIST_END_BYTES = [ch.encode() for ch in "，、；"]
# The last byte of every `_LIST_END` character: a token ending in another byte ends no item.
_LIST_END_LAST = np.zeros(256, dtype=bool)
_LIST_END_LAST[[b[-1] for b in _LIST_END_BYTES + [b",", b";"]]] = True


def ends_enumeration_item(tokens: pa.Array) -> np.ndarray:
    """Per token: it ends with a comma, semicolon or "、" (`_LIST_END`), read off its last UTF-8 bytes."""
    data, offsets = utf8_bytes(tokens)
    ends = offsets[1:]
    out = np.zeros(len(tokens), dtype=bool)
    some = np.flatnonzero(ends > offsets[:-1])
    some = some[_LIST_END_LAST[data[ends[some] - 1]]]  # the few tokens that may end an item
    last = data[ends[some] - 1]
    out[some[(last == ord(",")) | (last == ord(";"))]] = True
    wide = some[ends[some] - offsets[some] >= 3]
    tail = np.stack([data[ends[wide] - 3], data[ends[wide] - 2], data[ends[wide] - 1]], axis=1)
    for b in _LIST_END_BYTES:
        out[wide[(tail == np.frombuffer(b, dtype=np.uint8)).all(axis=1)]] = True
    return out


def whitespace_tokens(texts: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """(the non-empty tokens `pc.ascii_split_whitespace` would give (it gives an empty one for
    whitespace at either end of a text), flattened, each running on to the next token's start: with
    the whitespace after it, which `pc.ascii_rtrim_whitespace` takes off; per row, how many). The
    tokens are a view of the texts' bytes: no list array is built."""
    if texts.type != pa.string():
        texts = texts.cast(pa.string())
    if texts.null_count:
        texts = pc.fill_null(texts, "")
    data, offsets = utf8_bytes(texts)
    if data.size == 0:
        return pa.array([], pa.string()), np.zeros(len(texts), dtype=np.int64)
    starts = token_starts(data, offsets)
    counts = np.diff(np.searchsorted(starts, offsets)).astype(np.int64)
    _, offsets_buf, data_buf = texts.buffers()
    first = int(np.frombuffer(offsets_buf, dtype=np.int32, count=1, offset=texts.offset * 4)[0])
    ends = (np.append(starts, data.size) + first).astype(np.int32)  # in the whole buffer
    return pa.StringArray.from_buffers(len(starts), pa.py_buffer(ends), data_buf), counts


def split_words(lower: pa.Array, non_ascii: np.ndarray) -> Words:
    """The words of lowercased texts (see `CaptionBatch`); `non_ascii` marks the rows that may hold
    Han/Kana characters."""
    n = len(lower)
    rows = np.flatnonzero(non_ascii)
    if rows.size:
        # Han/Kana characters become words of their own; only non-ASCII rows can have them.
        classes = char_classes(lower.take(pa.array(rows)))
        apart = np.flatnonzero(classes.count(BIT["per_char_word"]) > 0)
        rows = rows[apart]
        if rows.size:  # each of these rows has a character to set apart, so each changes
            mask = np.zeros(n, dtype=bool)
            mask[rows] = True
            # spaced with the class table (RE2 would build the class anew for every call)
            spaced = classes.take(apart).spaced(BIT["per_char_word"])
            lower = pc.replace_with_mask(lower, pa.array(mask), spaced)
    tokens, token_counts = whitespace_tokens(lower)
    # Tokens are trimmed and judged once per distinct token (a batch repeats its tokens many times).
    raw = tokens.dictionary_encode()
    raw_ids = raw.indices.to_numpy()
    distinct = pc.ascii_rtrim_whitespace(raw.dictionary)  # "dog " and "dog" are one token
    trimmed = pc.utf8_trim(distinct, _PUNCTUATION)
    words = trimmed.dictionary_encode()  # "dog," and "dog" are one word
    row = np.repeat(np.arange(n, dtype=np.int64), token_counts)
    word_like = pc.binary_length(trimmed).to_numpy(zero_copy_only=False) > 0  # per distinct token
    kept = np.ones(0, dtype=bool) if word_like.all() else word_like[raw_ids]  # per token (empty: all)
    loose = np.zeros(0, dtype=np.int64)
    if kept.size:
        # punctuation standing alone ("red , white", "红 ，") belongs to the word before it
        loose = np.flatnonzero(~kept)
        loose = loose[loose > 0]
        loose = loose[(row[loose - 1] == row[loose]) & kept[loose - 1]]
        raw_kept, row = raw_ids[kept], row[kept]
    else:
        raw_kept = raw_ids

    def list_ends() -> np.ndarray:
        ends = ends_enumeration_item(distinct)[raw_ids]
        # a word followed by loose punctuation ends where that punctuation does (if it is not empty)
        non_empty = pc.binary_length(distinct).to_numpy(zero_copy_only=False) > 0
        joined = loose[non_empty[raw_ids[loose]]]
        ends[joined - 1] = ends[joined]
        return ends[kept] if kept.size else ends

    ids = words.indices.to_numpy().astype(np.int32, copy=False)[raw_kept]
    if raw_kept is raw_ids:  # every token is a word
        counts = token_counts
    else:
        counts = np.bincount(row, minlength=n).astype(np.int64)
    return Words(row=row.astype(np.int64, copy=False), ids=ids, dictionary=words.dictionary, counts=counts,
                 list_end_source=list_ends)


def _classes_among(wide: np.ndarray, classes: CharClasses, rows: np.ndarray) -> tuple[np.ndarray, CharClasses]:
    """(per row of `rows`: it is among `wide` (sorted), the classes of those that are), `classes`
    being those of `wide`'s rows."""
    at = np.minimum(np.searchsorted(wide, rows), max(wide.size - 1, 0))
    mine = (wide[at] == rows) if wide.size else np.zeros(rows.size, dtype=bool)
    return mine, classes.take(at[mine])


class LanguageIds:
    """lid.176's top language and its score for the rows of a batch, identified when a rule first
    asks for a row, and shared with the batch's subsets (`CaptionBatch.subset`)."""

    def __init__(self, n: int) -> None:
        self._lang = pa.nulls(n, pa.string())
        # the (rows, languages) added since `_lang` was last brought up to date: the rows a later
        # call asks for are most often exactly the rows of the last one added
        self._added: list[tuple[np.ndarray, pa.Array]] = []
        self.score = np.zeros(n, dtype=np.float32)
        self.known = np.zeros(n, dtype=bool)

    def add(self, rows: np.ndarray, lang: pa.Array, score: np.ndarray) -> None:
        """Record the language of `rows` (sorted, none known yet)."""
        self._added.append((rows, lang))
        self.score[rows] = score
        self.known[rows] = True

    @property
    def lang(self) -> pa.Array:
        """The language of every row (null where not known)."""
        for rows, lang in self._added:
            if rows.size == len(self.known):
                self._lang = lang
            else:
                mask = np.zeros(len(self.known), dtype=bool)
                mask[rows] = True
                self._lang = pc.replace_with_mask(self._lang, pa.array(mask), lang)
        self._added = []
        return self._lang

    def of(self, rows: np.ndarray) -> tuple[pa.Array, np.ndarray]:
        """(language, score) of `rows`, all known."""
        if self._added and np.array_equal(self._added[-1][0], rows):
            return self._added[-1][1], self.score[rows]
        if rows.size == len(self.known):
            return self.lang, self.score.copy()
        return self.lang.take(pa.array(rows, pa.int64())), self.score[rows]


@dataclass(frozen=True)
class CaptionBatch:
    """The texts a batch of text rules judges, plus features computed once and shared.

    `raw` is the assistant text as read (after UTF-8 repair), `text` the repaired text
    (`filters.repairs`). A word is a whitespace-separated token with punctuation trimmed from both
    ends ("don't" and "3.5" are one word, "—" none); every Han/Hiragana/Katakana character is a
    word by itself. `unquoted` is the text without its quoted spans (`without_quotes`).
    `subset` makes a batch of some of the rows that keeps the features already computed.
    """

    raw: pa.Array
    text: pa.Array
    invalid_utf8: np.ndarray = field(repr=False)
    # rows of the batch this one was taken from (`subset`; None: this one), and the language ids
    # of that batch's rows
    root_rows: np.ndarray | None = field(default=None, repr=False, compare=False)
    languages: LanguageIds | None = field(default=None, repr=False, compare=False)
    # per row of that batch: the learned junk score, where that rule has scored it (else NaN);
    # shared with the subsets, as the language ids are
    junk_scores: np.ndarray | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.root_rows is None:
            object.__setattr__(self, "root_rows", np.arange(len(self.text)))
        if self.languages is None:
            object.__setattr__(self, "languages", LanguageIds(len(self.text)))
        if self.junk_scores is None:
            object.__setattr__(self, "junk_scores", np.full(len(self.text), np.nan))

    @classmethod
    def from_texts(cls, texts, clean: CleanConfig | None = None) -> CaptionBatch:
        """From a list of str or a string array, repaired with `clean` (default: every default
        repair). Used by tests and benchmarks."""
        raw = texts if isinstance(texts, pa.Array) else pa.array(texts, pa.string())
        raw, bad = repair_utf8(raw)
        raw = pc.fill_null(raw, "")
        return cls(raw=raw, text=normalize_captions(raw, clean), invalid_utf8=bad)

    def __len__(self) -> int:
        return len(self.text)

    def subset(self, rows: np.ndarray) -> CaptionBatch:
        """The rows at `rows` (sorted indices) as a batch of their own. A feature this batch (or
        one it was cut from) has computed is taken from it when the subset first needs it, not
        computed again; language ids are shared both ways."""
        take = pa.array(rows, pa.int64())
        out = CaptionBatch(raw=self.raw.take(take), text=self.text.take(take), invalid_utf8=self.invalid_utf8[rows],
                           root_rows=self.root_rows[rows], languages=self.languages, junk_scores=self.junk_scores)
        out.__dict__["_cut_from"] = (self, rows)
        if "_screens" in self.__dict__:
            out.__dict__["_screens"] = self.__dict__["_screens"]
        return out

    def _ancestor_with(self, name: str):
        """(feature `name` of the nearest batch this one was cut from that has computed it, the
        rows of this one in that one), or None."""
        rows, batch = None, self
        while "_cut_from" in batch.__dict__:
            batch, cut = batch.__dict__["_cut_from"]
            rows = cut if rows is None else cut[rows]
            if name in batch.__dict__:
                return batch.__dict__[name], rows
        return None

    def _inherited(self, name: str):
        """Feature `name` of these rows, taken from the nearest batch this one was cut from that
        has computed it, or None."""
        found = self._ancestor_with(name)
        if found is None:
            return None
        value, rows = found
        if isinstance(value, Words):
            return value.subset(rows)
        if isinstance(value, tuple):  # `_quote_free`: (texts, the rows that had a quoted span)
            text, changed = value
            changed = np.flatnonzero(np.isin(rows, changed))
            return (text.take(pa.array(rows, pa.int64())), changed) if changed.size else (self.lower, changed)
        if isinstance(value, np.ndarray):
            return value[rows]
        return value.take(pa.array(rows, pa.int64()))

    @cached_property
    def lower(self) -> pa.Array:
        got = self._inherited("lower")
        return pc.utf8_lower(self.text) if got is None else got

    @cached_property
    def non_ascii(self) -> pa.Array:
        got = self._inherited("non_ascii")
        return pc.invert(pc.string_is_ascii(self.text)) if got is None else got

    @cached_property
    def words(self) -> Words:
        got = self._inherited("words")
        return split_words(self.lower, self.non_ascii.to_numpy(zero_copy_only=False)) if got is None else got

    @cached_property
    def _quote_free(self) -> tuple[pa.Array, np.ndarray]:
        got = self._inherited("_quote_free")
        if got is not None:
            return got
        # lowercasing keeps ASCII text ASCII: the text's non-ASCII rows hold the lowercased text's
        return without_quotes(self.lower, _np(self.non_ascii), self.ascii_counts(QUOTES))

    def expect_lower_scans(self, patterns) -> None:
        """Announce the RE2 patterns rules will look for in `lower` (`lower_matches`). The first
        such look scans the whole batch once for all of them together (one pass over the texts
        instead of one per pattern); each pattern is then looked for only in the rows that pass
        matched. Subsets cut later inherit the announcement and that pass's result."""
        self.__dict__["_screens"] = tuple(dict.fromkeys(p for p in patterns if p))
        self.__dict__.pop("_lower_screen", None)

    @cached_property
    def _lower_screen(self) -> tuple[tuple[str, ...], np.ndarray]:
        """(the announced patterns (`expect_lower_scans`), per row: `lower` matches one of them)."""
        screens = self.__dict__["_screens"]
        found = self._ancestor_with("_lower_screen")
        if found is not None and found[0][0] == screens:
            return screens, found[0][1][found[1]]
        union = screens[0] if len(screens) == 1 else "|".join(f"(?:{p})" for p in screens)
        return screens, search(self.lower, union, _np(self.non_ascii))

    def lower_matches(self, pattern: str) -> np.ndarray:
        """Per row: the RE2 `pattern` matches `lower`. An announced pattern (`expect_lower_scans`)
        is looked for only in the rows where one of the announced patterns matches; another, in
        every row."""
        return self.lower_and_unquoted_matches(pattern, unquoted=False)[0]

    def unquoted_lower_matches(self, pattern: str) -> np.ndarray:
        """Per row: the RE2 `pattern` matches `unquoted_lower` (as in `lower_matches`, but for the
        `quoted_rows`, whose text outside quotes is searched)."""
        if pattern not in self.__dict__.get("_screens", ()):
            return search(self.unquoted_lower, pattern, _np(self.non_ascii))
        on_lower, on_unquoted = self.lower_and_unquoted_matches(pattern)
        on_lower[self.quoted_rows] = on_unquoted
        return on_lower

    def lower_and_unquoted_matches(self, pattern: str, unquoted: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """(per row: the RE2 `pattern` matches `lower` (`lower_matches`), per row of `quoted_rows`:
        it matches `unquoted_lower` there (with `unquoted`; else empty)), found with one search."""
        screens = self.__dict__.get("_screens", ())
        if pattern in screens and len(screens) == 1 and not unquoted:
            return self._lower_screen[1].copy(), np.zeros(0, dtype=bool)
        quoted = self.quoted_rows if unquoted else np.zeros(0, dtype=np.int64)
        if pattern in screens:  # only the rows of the screen's matches, and the quoted rows' text outside quotes
            rows = np.flatnonzero(self._lower_screen[1])
            texts = pa.concat_arrays([self.lower.take(pa.array(rows)), self.unquoted_lower.take(pa.array(quoted))])
        else:
            rows = np.arange(len(self))
            texts = self.lower if quoted.size == 0 else pa.concat_arrays(
                [self.lower, self.unquoted_lower.take(pa.array(quoted))])
        wide = _np(self.non_ascii)  # a text outside quotes is non-ASCII only where the text is
        found = search(texts, pattern, np.concatenate([wide[rows], wide[quoted]])) if len(texts) else np.zeros(0, dtype=bool)
        on_lower = np.zeros(len(self), dtype=bool)
        on_lower[rows] = found[: rows.size]
        return on_lower, found[rows.size :]

    @property
    def quoted_rows(self) -> np.ndarray:
        """The rows that have a quoted span (sorted): the only ones whose `unquoted_lower` differs."""
        return self._quote_free[1]

    @property
    def unquoted_lower(self) -> pa.Array:
        """The lowercased text without its quoted spans (the very `lower` array when none has one)."""
        return self._quote_free[0]

    @cached_property
    def unquoted_words(self) -> Words:
        """The words outside quoted spans (the very `words` when no row has a quoted span); only
        the rows that had one are split again."""
        text, changed = self._quote_free
        if changed.size == 0:
            return self.words
        got = self._inherited("unquoted_words")
        if got is not None:
            return got
        take = pa.array(changed)
        sub = split_words(text.take(take), self.non_ascii.to_numpy(zero_copy_only=False)[changed])
        return self.words.with_rows(changed, sub)

    @property
    def n_words(self) -> np.ndarray:
        if "words" not in self.__dict__:  # the counts alone, when the words are not split here yet
            found = self._ancestor_with("words")
            if found is not None:
                return found[0].counts[found[1]]
        return self.words.counts

    @cached_property
    def n_chars(self) -> np.ndarray:
        """Characters, spaces included, East-Asian wide characters counting two (`text_width`, from
        the code-point counts and character classes the batch shares with other rules)."""
        got = self._inherited("n_chars")
        if got is not None:
            return got
        width = self.n_code_points.copy()
        rows, classes = self.wide_classes
        width[rows] += classes.count(BIT["wide"])
        return width

    @cached_property
    def n_code_points(self) -> np.ndarray:
        """Characters (code points) per row."""
        got = self._inherited("n_code_points")
        return pc.utf8_length(self.text).to_numpy(zero_copy_only=False).astype(np.int64) if got is None else got

    def _known(self, name: str) -> bool:
        """Feature `name` is computed here or in a batch this one was cut from."""
        return name in self.__dict__ or self._ancestor_with(name) is not None

    def width_within(self, low: float, high: float) -> np.ndarray:
        """Per row: `low <= n_chars <= high`. Unless `n_chars` is known already, the exact width
        (`text_width`) is measured only on the rows its bounds leave open: it is at least the
        number of characters, and at most that for an ASCII row, twice that for another."""
        if self._known("n_chars"):
            return (self.n_chars >= low) & (self.n_chars <= high)
        chars = self.n_code_points
        most = np.where(self.non_ascii.to_numpy(zero_copy_only=False), 2 * chars, chars)
        inside = (chars >= low) & (most <= high)
        open_rows = np.flatnonzero(~inside & (most >= low) & (chars <= high))
        if open_rows.size:
            width = text_width(self.text.take(pa.array(open_rows)))
            inside[open_rows] = (width >= low) & (width <= high)
        return inside

    def words_at_most(self, limit: int) -> np.ndarray:
        """Per row: `n_words <= limit`. Unless the words are split already, only the rows with
        more UTF-8 bytes than `limit` are split (each word holds at least one byte of its own)."""
        if self._known("words"):
            return self.n_words <= limit
        sure = pc.binary_length(self.text).to_numpy(zero_copy_only=False) <= limit
        rows = np.flatnonzero(~sure)
        if rows.size:
            words = split_words(self.lower.take(pa.array(rows)), self.non_ascii.to_numpy(zero_copy_only=False)[rows])
            sure[rows] = words.counts <= limit
        return sure

    @cached_property
    def _ascii_set_counts(self) -> np.ndarray:
        """(rows, `COUNTED_ASCII`): the counts of each set in `text`, counted in one pass."""
        got = self._inherited("_ascii_set_counts")
        return ascii_set_counts(self.text, COUNTED_ASCII) if got is None else got

    def ascii_counts(self, chars: str) -> np.ndarray:
        """Per row: the characters of `text` in the ASCII set `chars` (a new array). The sets of
        `COUNTED_ASCII` come from one pass shared by the rules (and the same counts hold in
        `lower`); another set is counted apart."""
        if chars in COUNTED_ASCII:
            return self._ascii_set_counts[:, COUNTED_ASCII.index(chars)].copy()
        return ascii_char_counts(self.text, chars)

    def unquoted_ascii_counts(self, chars: str) -> np.ndarray:
        """Per row: the characters of `unquoted_lower` in the set `chars` (ASCII, no letters): the
        counts of `ascii_counts` but for the `quoted_rows`, counted again there."""
        if any(c.isalpha() for c in chars):  # lowercasing would change their counts
            raise ValueError(f"unquoted_ascii_counts counts characters other than letters, not {chars!r}")
        counts = self.ascii_counts(chars)
        quoted = self.quoted_rows
        if quoted.size:
            counts[quoted] = ascii_char_counts(self.unquoted_lower.take(pa.array(quoted)), chars)
        return counts

    @property
    def ascii_digits(self) -> np.ndarray:
        """ASCII digits per row (`ascii_counts(DIGITS)`)."""
        return self.ascii_counts(DIGITS)

    @cached_property
    def unspaced(self) -> np.ndarray:
        """Rows written in a script without spaces between words (Thai, Lao, Khmer, Myanmar)."""
        got = self._inherited("unspaced")
        if got is not None:
            return got
        out = np.zeros(len(self), dtype=bool)
        rows, classes = self.wide_classes
        out[rows] = classes.count(BIT["unspaced"]) > 0
        return out

    @cached_property
    def wide_classes(self) -> tuple[np.ndarray, CharClasses]:
        """(the non-ASCII rows of `text`, the class bits of their characters): read once and
        shared by the rules that look at those rows' characters (and by this batch's subsets)."""
        found = self._ancestor_with("wide_classes")
        if found is not None:
            (wide, classes), rows = found
            # this batch's non-ASCII rows: those of its rows (`rows` there) that are among `wide` there
            mine, classes = _classes_among(wide, classes, rows)
            return np.flatnonzero(mine), classes
        rows = np.flatnonzero(self.non_ascii.to_numpy(zero_copy_only=False))
        return rows, char_classes(self.text.take(pa.array(rows)))

    def wide_classes_of(self, rows: np.ndarray) -> tuple[np.ndarray, CharClasses]:
        """(those of `rows` (sorted) that are non-ASCII, the class bits of their characters), from
        `wide_classes`."""
        wide, classes = self.wide_classes
        mine, classes = _classes_among(wide, classes, rows)
        return rows[mine], classes

    @property
    def language(self) -> tuple[pa.Array, np.ndarray]:
        """(top lid.176 language, its score) per row."""
        return self.language_of(np.arange(len(self)))

    def language_of(self, rows: np.ndarray) -> tuple[pa.Array, np.ndarray]:
        """(top lid.176 language, its score) of the rows at `rows` (sorted indices); each row is
        identified once, by the first call that asks for it (on this batch, its subsets or the
        batch it was taken from)."""
        from filters.language import identify_languages

        ids, at = self.languages, self.root_rows[rows]
        missing = np.flatnonzero(~ids.known[at])
        if missing.size:
            # the line breaks from the shared counts when the rules have made them (else counted there)
            breaks = self.ascii_counts("\n")[rows[missing]] > 0 if self._known("_ascii_set_counts") else None
            texts = self.text if missing.size == len(self) else self.text.take(pa.array(rows[missing], pa.int64()))
            ids.add(at[missing], *identify_languages(texts, breaks))
        return ids.of(at)
