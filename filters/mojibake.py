r"""`ftfy.fix_encoding` for a batch of texts: the same results, with ftfy's costliest scan done by RE2.

ftfy fixes a text by repeating one step until the text stops changing. A step leaves a text as it
is unless ftfy's badness pattern (`ftfy.badness.BADNESS_RE`, Python `re`) finds mojibake in it,
and that search costs ~6 µs on a short caption it does not match, which is the case in the last
step of every fix: about half of the fix. Here each text gets ftfy's first step; the texts that
step changed are then searched at once with an RE2 pattern that matches *at least* every text
ftfy's pattern matches (`badness_screen`; ftfy's own test on each when they are few): one it does
not match is ftfy's fix (ftfy's next step would leave it as it is), and the others get ftfy's whole
fix from there (ftfy's steps from the first step's result are the rest of its fix of the text).

The translation (`re2_superset`) keeps every literal, class, branch and repeat; a class holding
`\s` or `\w` (whose Unicode tables RE2 and Python could draw differently) becomes any character,
and look-arounds are dropped: each change can only widen what matches, so a miss stays exact.
Anything it does not know makes it give up, and then ftfy's own test looks at each changed text;
without ftfy's step function (a private name that could change) ftfy's whole fix runs on each text.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyarrow as pa

from filters.pattern_search import search

try:  # Python >= 3.11
    from re import _constants as sre_constants
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants
    import sre_parse


def _char(code: int) -> str:
    return f"\\x{{{code:X}}}"


_ANY_CHAR = "[\\x{0}-\\x{10FFFF}]"


def _class(items) -> str:
    negate = any(op is sre_constants.NEGATE for op, _ in items)
    parts = []
    for op, av in items:
        if op is sre_constants.NEGATE:
            continue
        if op is sre_constants.LITERAL:
            parts.append(_char(av))
        elif op is sre_constants.RANGE:
            parts.append(f"{_char(av[0])}-{_char(av[1])}")
        elif op is sre_constants.CATEGORY and not negate:
            return _ANY_CHAR  # wider: the class matches at least what the category does
        else:
            raise ValueError(f"no RE2 translation for {op} in a character class")
    return f"[{'^' if negate else ''}{''.join(parts)}]"


def _re2(pattern) -> str:
    out = []
    for op, av in pattern:
        if op is sre_constants.LITERAL:
            out.append(_char(av))
        elif op is sre_constants.NOT_LITERAL:
            out.append(f"[^{_char(av)}]")
        elif op is sre_constants.ANY:
            out.append(".")  # without DOTALL: any character but "\n", in both
        elif op is sre_constants.IN:
            out.append(_class(av))
        elif op is sre_constants.BRANCH:
            out.append("(?:" + "|".join(_re2(p) for p in av[1]) + ")")
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            low, high, sub = av
            bound = "" if high is sre_constants.MAXREPEAT else str(high)
            out.append(f"(?:{_re2(sub)}){{{low},{bound}}}")
        elif op is sre_constants.SUBPATTERN:
            _group, add_flags, del_flags, sub = av
            if add_flags or del_flags:
                raise ValueError("no RE2 translation for inline flags")
            out.append(f"(?:{_re2(sub)})")
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            continue  # dropped: wider
        elif op is sre_constants.AT and av is sre_constants.AT_BEGINNING:
            out.append("^")  # without MULTILINE: the start of the text, in both
        else:
            raise ValueError(f"no RE2 translation for {op}")
    return "".join(out)


def re2_superset(regex) -> str:
    """An RE2 pattern that matches (searched) every text the compiled Python `regex` matches, and
    maybe more. ValueError when the pattern uses something the translation does not know."""
    unsupported = regex.flags & ~(sre_constants.SRE_FLAG_UNICODE | sre_constants.SRE_FLAG_VERBOSE)
    if unsupported:
        raise ValueError(f"no RE2 translation for flags {unsupported}")
    return _re2(sre_parse.parse(regex.pattern, regex.flags))


@lru_cache(maxsize=1)
def badness_screen() -> str | None:
    """RE2 superset of ftfy's badness pattern, or None if it cannot be translated."""
    from ftfy.badness import BADNESS_RE

    try:
        return re2_superset(BADNESS_RE)
    except ValueError:  # pragma: no cover - a future ftfy pattern with other constructs
        return None


@lru_cache(maxsize=1)
def suspect_pattern() -> str:
    """RE2 pattern of the text worth handing to ftfy: UTF-8 read in one of the code pages ftfy
    tries (`ftfy.chardata.CHARMAP_ENCODINGS`: Latin-1, Windows-1250..1257, ISO 8859-2, MacRoman,
    CP437). Per code page, a character it reads a UTF-8 lead byte (0xC2-0xF4) as, followed by one
    it reads a continuation byte (0x80-0xBF) as, or by U+FFFD where that byte was lost; a C1
    control; "Â" or "Ã" before a space (a no-break space whose second byte became a space).

    A screen, not ftfy's own test: measured on text misread in each of those code pages, it finds
    every text ftfy's fix changes (tests/filters/test_mojibake.py); clean text in other scripts
    rarely matches (a Cyrillic letter before "ё" does: ftfy then leaves the text as it is)."""
    import ftfy.bad_codecs  # noqa: F401 - registers the "sloppy-" code pages
    from ftfy.chardata import CHARMAP_ENCODINGS

    def chars(raw: bytes, encoding: str, extra: str = "") -> str:
        decoded = sorted(set(raw.decode(encoding, errors="ignore") + extra))
        return "[" + "".join(_char(ord(c)) for c in decoded) + "]"

    pairs = {chars(bytes(range(0xC2, 0xF5)), e) + chars(bytes(range(0x80, 0xC0)), e, "\ufffd")
             for e in CHARMAP_ENCODINGS}
    return "|".join(sorted(pairs) + ["[\\x{80}-\\x{9F}]", "[\\x{C2}\\x{C3}] "])


def _matches(texts: list[str], pattern: str) -> np.ndarray:
    return search(pa.array(texts, pa.string()), pattern)


def fix_encoding(texts: list[str]) -> list[str]:
    """`[ftfy.fix_encoding(t) for t in texts]`, computed as the module docstring says."""
    import ftfy

    from ftfy.badness import is_bad

    config = ftfy.TextFixerConfig(explain=False)
    step = getattr(ftfy, "_fix_encoding_one_step_and_explain", None)
    if step is None:  # pragma: no cover - ftfy versions without the step function
        return [ftfy.fix_encoding_and_explain(t, config).text for t in texts]
    out = [step(t, config).text for t in texts]
    moved = [i for i, (after, before) in enumerate(zip(out, texts)) if after != before]
    screen = badness_screen()
    if screen is not None and len(moved) >= _SCREEN_FROM_TEXTS:
        again = np.asarray(moved)[_matches([out[i] for i in moved], screen)].tolist()
    else:  # few texts (they cost less than building the RE2 pattern), or no translation: ftfy's own test
        again = [i for i in moved if is_bad(out[i])]
    for i in again:
        out[i] = ftfy.fix_encoding_and_explain(out[i], config).text
    return out


# Building `badness_screen` costs RE2 ~0.9 ms (Arrow builds it again at every call), ftfy's own
# test ~6 µs a short text: below this many texts, ftfy's test costs less.
_SCREEN_FROM_TEXTS = 128
