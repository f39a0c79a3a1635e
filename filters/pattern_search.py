"""Searching a batch of texts for a large RE2 pattern, split by the width of what it matches.

The rules look for long alternations (boilerplate phrases, refusals in many languages, code
signals). Arrow runs RE2 on each row with a lazily built DFA whose cache is bounded (RE2's default
8 MiB per pattern). A pattern whose alternatives hold non-ASCII letters (Chinese, Cyrillic, Thai
...) splits the byte range into many more classes, so every DFA state is larger; on text as
varied as real captions (every row new, not a template repeated) the cache then fills, is thrown
away and rebuilt again and again, and the search falls from about 2 to over 50 ns a byte.

So a pattern is split into its *wide* alternatives, those every match of which holds a non-ASCII
character, and the others. The others are searched in every row; the wide ones only in the rows
with a non-ASCII character that the first search did not match. Whether a text matches is
unchanged: RE2's partial match of `a|b` is a match of `a` or of `b`.

An alternative is judged wide from Python's own parse of it (`re._parser`, which reads the RE2
syntax the rules use alike); one it cannot parse (`\\p{Han}`, `\\x{...}`), or one under
case-insensitive matching (RE2 folds "ſ" to "s" and the Kelvin sign to "k"), counts as narrow:
searched in every row, which is always right.

Where the `hyperscan` package is installed (a core dependency; it ships Intel's Hyperscan, or
Vectorscan on ARM), `search` goes another way, and the split above is only its fallback: the
pattern is compiled once per process for Hyperscan and for RE2 (the `google-re2` binding, with a
cache large enough for these patterns). Hyperscan scans all the texts at once, joined by line
breaks, with "^" and "$" matching at every line break and "." matching a line break too, so that
it finds every row the pattern matches and perhaps a few more (a match across two rows, or at a
line start inside one); RE2 then judges each of those rows alone, exactly as Arrow's
`match_substring_regex` would. A pattern Hyperscan cannot compile, or one anchored at the start
or end of the whole text, keeps the RE2 path. Hyperscan takes a second or two to compile the
largest patterns, so what it compiles is kept on disk (`pattern_cache_dir`) and later processes
on the machine (Ray's workers, the next job) load it in milliseconds.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import threading
from functools import lru_cache
from pathlib import Path
from re import _constants as sre_c
from re import _parser as sre_parse

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

try:  # optional at run time: without them, the searches keep to Arrow's RE2 alone
    import hyperscan
except ImportError:  # pragma: no cover - a declared dependency
    hyperscan = None
try:
    from re2 import _re2
except ImportError:  # pragma: no cover - a declared dependency
    _re2 = None

# RE2 syntax that Python's parser reads differently or not at all: the alternative counts as narrow.
_OTHER_SYNTAX = re.compile(r"\\[pPCzQExX]|\[:\^?[a-z]+:\]")


def bool_mask(mask) -> np.ndarray:
    """A boolean Arrow array (or chunked array) as a numpy bool array, null as False."""
    if mask.null_count:
        mask = pc.fill_null(mask, False)
    return mask.to_numpy(zero_copy_only=False)


def alternatives(pattern: str) -> list[str]:
    """The top-level alternatives of `pattern`, each one that is a whole non-capturing group
    ("(?:a|b)") opened into its own alternatives, and each group of wide and narrow alternatives
    inside one split in two (`_by_width`). Empty when the pattern sets a flag for all of itself
    ("(?i)a|b"), which splitting would lose."""
    out: list[str] = []
    for alt in _split_top(pattern):
        if alt is None:
            return []
        groups = list(_top_groups(alt))
        if groups and groups[0] == (0, len(alt) - 1) and (parts := alternatives(alt[3:-1])):
            out.extend(parts)  # "(?:a|b)" as a whole
        else:
            out.extend(_by_width(alt))
    return out


def _structure(pattern: str):
    """(index, character, depth before it) of each "(", ")" and "|" of `pattern` that is neither
    escaped nor inside a character class."""
    depth, i, in_class = 0, 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            i += 1 + pattern.startswith("^", i + 1)
            i += pattern.startswith("]", i)  # a "]" first in a class is a literal
            continue
        elif c in "()|":
            yield i, c, depth
            depth += (c == "(") - (c == ")")
        i += 1


def _split_top(pattern: str) -> list[str | None]:
    """The alternatives at depth 0, or [None] when the pattern opens with a flag for all of it."""
    parts, start = [], 0
    for i, c, depth in _structure(pattern):
        if depth == 0 and c == "(" and re.match(r"\(\?[a-zA-Z]+\)", pattern[i:]):
            return [None]
        if depth == 0 and c == "|":
            parts.append(pattern[start:i])
            start = i + 1
    return [*parts, pattern[start:]]


def _top_groups(alt: str):
    """(start, end) of each non-capturing group "(?:...)" at the top level of `alt` that no
    quantifier follows."""
    start = -1
    for i, c, depth in _structure(alt):
        if c == "(" and depth == 0:
            start = i if alt.startswith("(?:", i) else -1
        elif c == ")" and depth == 1 and start >= 0 and alt[i + 1 : i + 2] not in ("?", "*", "+", "{"):
            yield start, i


def _by_width(alt: str) -> list[str]:
    """`alt` as one or more alternatives: a group in it (not repeated) whose own alternatives are
    some wide and some narrow makes two, "P(?:wide)S" and "P(?:narrow)S" ("\\b(?:voici|以下是)"
    holds "\\b(?:voici)" and "\\b(?:以下是)"), so that the wide part can go with the others."""
    for start, end in _top_groups(alt):
        branches = _split_top(alt[start + 3 : end])
        if None in branches or len(branches) < 2:
            continue
        narrow, wide = _narrow_and_wide(branches)
        if wide and narrow:
            head, tail = alt[:start], alt[end + 1 :]
            # the wide part is wide as it is (its group must match); the narrow part may split again
            return [*_by_width(f"{head}(?:{'|'.join(narrow)}){tail}"), f"{head}(?:{'|'.join(wide)}){tail}"]
    return [alt]


def is_wide(alternative: str) -> bool:
    """Every match of `alternative` holds a non-ASCII character (see the module's docstring for
    what counts as narrow when in doubt)."""
    if _OTHER_SYNTAX.search(alternative):
        return False
    try:
        parsed = sre_parse.parse(alternative)
    except (re.error, OverflowError, RecursionError):
        return False
    if parsed.state.flags & re.IGNORECASE:
        return False
    return _sequence_wide(parsed)


def _sequence_wide(items) -> bool:
    return any(_item_wide(op, av) for op, av in items)


def _item_wide(op, av) -> bool:
    if op is sre_c.LITERAL:
        return av > 0x7F
    if op is sre_c.IN:
        return all((o is sre_c.LITERAL and a > 0x7F) or (o is sre_c.RANGE and a[0] > 0x7F) for o, a in av)
    if op is sre_c.SUBPATTERN:
        _, add_flags, _, items = av
        return not add_flags & re.IGNORECASE and _sequence_wide(items)
    if op is sre_c.BRANCH:
        return all(_sequence_wide(b) for b in av[1])
    if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, sre_c.POSSESSIVE_REPEAT):
        low, _, items = av
        return low >= 1 and _sequence_wide(items)
    return False


@lru_cache(maxsize=256)
def width_split(pattern: str) -> tuple[str | None, str | None]:
    """(the narrow alternatives of `pattern` joined, its wide ones joined); (pattern, None) when
    it has no wide alternative or cannot be split."""
    narrow, wide = _narrow_and_wide(alternatives(pattern))
    if not wide:
        return pattern, None
    return ("|".join(narrow) if narrow else None), "|".join(wide)


def _narrow_and_wide(alts: list[str]) -> tuple[list[str], list[str]]:
    """`alts` parted into the narrow and the wide ones (`is_wide`), each in its order."""
    wide = [is_wide(a) for a in alts]
    return [a for a, w in zip(alts, wide) if not w], [a for a, w in zip(alts, wide) if w]


def search(texts: pa.Array, pattern: str, maybe_wide: np.ndarray | None = None) -> np.ndarray:
    """Per text: the RE2 `pattern` matches somewhere in it (null: False), as
    `pc.match_substring_regex`. With Hyperscan, the rows it may match are found in one scan and
    RE2 judges them (see the module's docstring); else the wide alternatives are searched only in
    the texts with a non-ASCII character: those `maybe_wide` marks (it may mark more), or else
    measured here."""
    screened = screened_pattern(pattern) if len(pattern) >= SCREEN_MIN_CHARS else None
    if screened is not None:
        return screened.search(texts)
    narrow, wide = width_split(pattern)
    if wide is None:
        return bool_mask(pc.match_substring_regex(texts, pattern))
    out = bool_mask(pc.match_substring_regex(texts, narrow)) if narrow else np.zeros(len(texts), dtype=bool)
    if maybe_wide is None:
        maybe_wide = ~bool_mask(pc.string_is_ascii(texts)) & bool_mask(pc.is_valid(texts))
    rows = np.flatnonzero(maybe_wide & ~out)
    if rows.size:
        out[rows] = bool_mask(pc.match_substring_regex(texts.take(pa.array(rows)), wide))
    return out


def search_within(texts: pa.Array, screen: str, pattern: str) -> np.ndarray:
    """Per text: the RE2 `pattern` matches, judged by RE2 (compiled once per process) in the rows
    where `screen` matches (`search`): for a pattern too large for Hyperscan whose every match
    `screen`, a smaller one, matches too (a site name, then what may follow it)."""
    out = search(texts, screen)
    rows = np.flatnonzero(out)
    if rows.size:
        sub = texts.take(pa.array(rows))
        exact = compiled_re2(pattern)
        if exact is None:
            out[rows] = bool_mask(pc.match_substring_regex(sub, pattern))
        else:
            out[rows] = [spans is not None for _, spans in _first_matches(sub, exact)]
    return out


# Hyperscan's flags for the screening scan: UTF-8 text; "^"/"$" at every line break (the rows'
# starts and ends in the joined text); "." matches a line break, as it may nowhere in RE2's
# default, so the scan only finds more. Not UCP: "\b" and "\w" stay ASCII, as in RE2.
_SCAN_FLAGS = 0 if hyperscan is None else hyperscan.HS_FLAG_UTF8 | hyperscan.HS_FLAG_MULTILINE | hyperscan.HS_FLAG_DOTALL
# RE2's memory budget per pattern for the exact check (its default, 8 MiB, is what makes the
# DFA cache overflow on the large patterns: see the module's docstring)
_RE2_MAX_MEM = 256 << 20
# The shortest pattern searched with Hyperscan: a short pattern costs Arrow's RE2 less to compile
# than joining the texts costs (timed call by call in one process, the rules' short patterns ran as
# fast or faster on Arrow alone), and each pattern Hyperscan compiles is kept on disk.
SCREEN_MIN_CHARS = 200
# Syntax whose meaning in the joined text differs from one row's: text start/end anchors
_WHOLE_TEXT_ANCHOR = re.compile(r"\\[AzZ]")


class ScreenedPattern:
    """An RE2 pattern compiled for Hyperscan (the rows that may match, in one scan over all of
    them) and for RE2 (each of those rows judged exactly)."""

    def __init__(self, pattern: str, database, exact) -> None:
        self.pattern, self._database, self._exact = pattern, database, exact
        self._local = threading.local()  # Hyperscan's scratch space is one thread's
        # under "(?i)" RE2's "\w" takes "ſ" and the Kelvin sign too (they fold to "s" and "k"),
        # Hyperscan's does not: rows holding either are RE2's to judge (its other folds agree)
        self._folds = "(?i" in pattern and "\\w" in pattern

    def candidates(self, texts: pa.Array) -> np.ndarray:
        """Sorted rows of `texts` (null ones too) that the pattern may match: every row it
        matches, and perhaps others."""
        offsets, data = _joined(texts)
        ends: list[int] = []
        if data is not None and data.size:
            scratch = getattr(self._local, "scratch", None)
            if scratch is None:
                scratch = self._local.scratch = hyperscan.Scratch(self._database)
            self._database.scan(memoryview(data), match_event_handler=lambda _id, _start, end, _f, _c: ends.append(end),
                                scratch=scratch)
        # the rows that hold a match's last byte (a row's own "\n" included) and the byte after it
        # (where an empty match at a row's start ends)
        ends_at = np.array(ends, dtype=np.int64)
        rows = np.searchsorted(offsets, np.concatenate([ends_at - 1, ends_at]), side="right") - 1
        rows = np.clip(rows, 0, max(len(texts) - 1, 0)) if ends else np.zeros(0, dtype=np.int64)
        if self._folds and len(texts):
            rows = np.concatenate([rows, np.flatnonzero(self._case_folded_rows(texts))])
        return np.unique(rows)

    def _case_folded_rows(self, texts: pa.Array) -> np.ndarray:
        """Rows holding "ſ" or the Kelvin sign (see `__init__`)."""
        return bool_mask(pc.match_substring_regex(texts, "[\u017f\u212a]"))

    def search(self, texts: pa.Array) -> np.ndarray:
        """Per text: the pattern matches somewhere in it (null: False)."""
        out = np.zeros(len(texts), dtype=bool)
        rows = self.candidates(texts)
        if rows.size:
            match, unanchored, none = self._exact.Match, _re2.RE2.Anchor.UNANCHORED, (-1, -1)
            found = [t is not None and match(unanchored, t, 0, len(t))[0] != none
                     for t in texts.take(pa.array(rows)).cast(pa.binary()).to_pylist()]
            out[rows] = found
        return out


# The texts last joined (`_joined`), with their offsets and bytes: the same array is often searched
# for several patterns (`CaptionBatch.lower` by several rules)
_JOINED: list[tuple[pa.Array, np.ndarray, pa.Buffer | None]] = []
_JOINED_KEPT = 4
_JOINED_LOCK = threading.Lock()


def _joined(texts: pa.Array) -> tuple[np.ndarray, pa.Buffer | None]:
    """(offsets, bytes) of `texts` joined, each text followed by "\n" (a null as an empty text)."""
    with _JOINED_LOCK:
        for kept, offsets, data in _JOINED:
            if kept is texts:
                return offsets, data
    joined = pc.binary_join_element_wise(pc.fill_null(texts, ""), pa.scalar("", texts.type), pa.scalar("\n", texts.type))
    offsets = np.frombuffer(joined.buffers()[1], dtype=np.int64 if pa.types.is_large_string(joined.type) else np.int32,
                            count=len(joined) + 1)
    data = joined.buffers()[2]
    with _JOINED_LOCK:
        _JOINED.insert(0, (texts, offsets, data))
        del _JOINED[_JOINED_KEPT:]
    return offsets, data


@lru_cache(maxsize=512)
def screened_pattern(pattern: str) -> ScreenedPattern | None:
    """`pattern` compiled for the screened search, once per process; None without Hyperscan,
    when either engine cannot compile it, when it matches an empty text, or when it anchors at
    the start or end of the whole text (`\\A`, `\\z`)."""
    if hyperscan is None or _WHOLE_TEXT_ANCHOR.search(pattern):
        return None
    exact = compiled_re2(pattern)
    if exact is None:
        return None
    database = _hyperscan_database(pattern)
    return None if database is None else ScreenedPattern(pattern, database, exact)


@lru_cache(maxsize=512)
def compiled_re2(pattern: str):
    """`pattern` compiled by RE2 (`google-re2`) once per process; None without the package or
    when RE2 cannot compile it."""
    if _re2 is None:
        return None
    options = _re2.RE2.Options()
    options.max_mem = _RE2_MAX_MEM
    options.log_errors = False
    exact = _re2.RE2(pattern.encode(), options)
    return exact if exact.ok() else None


def _first_matches(texts: pa.Array, exact) -> list:
    """Per text (as UTF-8 bytes): (the text, the spans of the leftmost match of the compiled RE2
    `exact` and of its groups), the spans None where it has no match or the text is null."""
    match, unanchored = exact.Match, _re2.RE2.Anchor.UNANCHORED
    out = []
    for t in texts.cast(pa.binary()).to_pylist():
        spans = None if t is None else match(unanchored, t, 0, len(t))
        out.append((t, spans if spans and spans[0][0] >= 0 else None))
    return out


def first_match_starts(texts: pa.Array, pattern: str) -> np.ndarray:
    """Per text: the byte offset where the leftmost match of the RE2 `pattern` starts, -1 where
    it has none (or the text is null), as `pc.find_substring_regex` (which compiles the pattern
    again on every call)."""
    exact = compiled_re2(pattern)
    if exact is None:
        return pc.fill_null(pc.find_substring_regex(texts, pattern), -1).to_numpy(zero_copy_only=False)
    return np.array([-1 if spans is None else spans[0][0] for _, spans in _first_matches(texts, exact)], dtype=np.int64)


def cut_at_match(texts: pa.Array, pattern: str, after: bool = False) -> pa.Array:
    """Per text: its bytes before the leftmost match of the RE2 `pattern`, then what the pattern's
    first group matched (where it did), or with `after` its bytes after that match; a text it does
    not match stays whole. With a pattern anchored at the end (or with `after`, at the start) this
    is `pc.replace_substring_regex(texts, pattern, r"\\1")`, with the pattern compiled once per
    process instead of on every call (a large pattern costs milliseconds to compile)."""
    exact = compiled_re2(pattern)
    if exact is None:
        return pc.replace_substring_regex(texts, pattern, r"\1" if re.compile(pattern).groups and not after else "")
    out = []
    for t, spans in _first_matches(texts, exact):
        if spans is None:
            out.append(t)
        elif after:
            out.append(t[spans[0][1] :])
        else:
            group = spans[1] if len(spans) > 1 and spans[1][0] >= 0 else (0, 0)
            out.append(t[: spans[0][0]] + t[group[0] : group[1]])
    return pa.array(out, pa.binary()).cast(texts.type)


def pattern_cache_dir() -> Path:
    """Where compiled Hyperscan databases are kept: `$VLPACK_PATTERN_CACHE`, else
    `$XDG_CACHE_HOME/vlpack/patterns` (`~/.cache/vlpack/patterns`)."""
    if os.environ.get("VLPACK_PATTERN_CACHE"):
        return Path(os.environ["VLPACK_PATTERN_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vlpack" / "patterns"


def without_word_bounds(pattern: str) -> str:
    """`pattern` without its word-bound assertions (``\\b``, ``\\B``; not inside a class, where
    ``[\\b]`` is a backspace): the scan then finds at least what it found with them, and RE2 judges
    each row it finds. The Vectorscan of the `hyperscan` 0.9.1 wheel misses some matches of a
    ``\\b`` before an alternation after other text in the joined rows: ``\\b(?:photo|image|...|bild)
    (?:graphy)? (?:by|...) .{1,60} (?:on|...) (?:unsplash|pexels)\\b`` finds nothing in "this image
    is licensed under cc by 2.0\\nshot by @nomad.lens on unsplash\\n", though it finds the second
    line alone."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            if not in_class and pattern[i + 1] in "bB":
                i += 2
                continue
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if c == "[" and not in_class:
            in_class = True
            if pattern[i + 1 : i + 2] == "^":
                out.append("[^")
                i += 2
                if pattern[i : i + 1] == "]":  # a "]" first in a class is a literal
                    out.append("]")
                    i += 1
                continue
            if pattern[i + 1 : i + 2] == "]":
                out.append("[]")
                i += 2
                continue
        elif c == "]" and in_class:
            in_class = False
        out.append(c)
        i += 1
    return "".join(out)


def _hyperscan_database(pattern: str):
    """`pattern` compiled for the screening scan, from the disk cache when a usable copy is
    there; None when Hyperscan cannot compile it. A cache that cannot be read or written is
    passed by (the pattern is compiled here)."""
    key = f"{hyperscan.__version__}|{platform.machine()}|{_SCAN_FLAGS}|split|unbounded|{pattern}"
    path = pattern_cache_dir() / f"{hashlib.sha256(key.encode()).hexdigest()}.hsdb"
    try:
        database = hyperscan.loadb(path.read_bytes(), hyperscan.HS_MODE_BLOCK)
        hyperscan.Scratch(database)  # fails for a database built for another CPU
        return database
    except (OSError, hyperscan.error):
        pass
    # each top-level alternative an expression of its own (Hyperscan limits an expression's length,
    # and compiles a union of many such faster), any of them a match of the whole; without its word
    # bounds (`without_word_bounds`)
    expressions = [without_word_bounds(alt).encode() for alt in (alternatives(pattern) or [pattern])]
    database = hyperscan.Database()
    try:
        database.compile(expressions=expressions, flags=[_SCAN_FLAGS] * len(expressions))
    except hyperscan.error:  # unsupported syntax, a pattern that may match empty text, too large
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.part")
        part.write_bytes(hyperscan.dumpb(database))
        os.replace(part, path)  # whole or not at all, whichever process writes last
    except OSError:
        pass
    return database
