"""Loop-like repetition (report §3.2, after InternVL 2.5): three pure rules over a `CaptionBatch`.

All work on the batch's word ids outside quoted spans (`CaptionBatch.unquoted_words`) with numpy,
never per row in Python:
- `stutter`: a word written twice in a row ("a bus bus"; not a name capitalised inside a sentence:
  "a record by The The");
- `tail_repetition`: the text ends in the same unit of words again and again, or such a loop runs
  anywhere in it with nothing between its copies ("an image of an image of an image of a house");
- `sentence_repetition`: the same sentence comes back;
- `ngram_repetition`: too large a share of its word n-grams are repeats.
Quoted text is what the image shows (a sign may say "STOP STOP"), so it is never judged here.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from filters.caption_text import SENTENCE_ENDS_ASCII, CaptionBatch, text_width
from filters.pattern_search import bool_mask as _np
from filters.repairs import ascii_hits, utf8_bytes
from filters.unicode_classes import BIT, char_classes
from filters.rule_spec import text_rule
from schemas.filter_config import NgramRepetitionRule, SentenceRepetitionRule, StutterRule, TailRepetitionRule

_SENTENCE_END = r"[.!?。！？;；\n]+"


def _may_repeat_sentences(batch: CaptionBatch, max_repeats: int) -> np.ndarray:
    """Per row: the text outside quotes may hold `max_repeats` sentence ends followed by more text
    (a superset, from the shared ASCII counts of `text`). An ASCII row needs at least
    `max_repeats` sentence-end characters, and with one, that it is not the row's last byte;
    rows with non-ASCII characters are kept. Taking quoted spans out (`unquoted_lower`) removes
    characters before the last byte, never adds an end or the text after one."""
    ends = batch.ascii_counts(SENTENCE_ENDS_ASCII)
    maybe = _np(batch.non_ascii).copy()
    if max_repeats > 1:
        return maybe | (ends >= max_repeats)
    maybe |= ends >= 2
    one = np.flatnonzero((ends == 1) & ~maybe)
    if one.size:
        data, offsets = utf8_bytes(batch.text)
        maybe[one] = ~ascii_hits(data[offsets[one + 1] - 1], SENTENCE_ENDS_ASCII)
    return maybe


@text_rule("stutter")
def stutter_rule(batch: CaptionBatch, cfg: StutterRule) -> np.ndarray:
    """Fails a word of at least `min_chars` letters written twice in a row, or a phrase of 2 to
    `max_phrase_words` words written twice in a row, in a row whose language is in `languages`;
    `allowed` words may double. In any language, a particle of `particles`, a run of Han/Kana
    ending in a Kana particle, a Korean word ending in a particle, a Turkish word in the locative or
    ablative, a phrase of three words or more, or six Thai letters or more written twice fails too."""
    w = batch.unquoted_words
    keep = np.ones(len(batch), dtype=bool)
    # all words: a quote between them parts them
    keep[_doubled_particles(batch.words, cfg.particles, cfg.max_phrase_words)] = False
    keep[_doubled_thai(batch)] = False
    turkish = np.unique(_doubled_turkish_cases(w))
    if turkish.size:
        keep[turkish[_np(pc.equal(batch.language_of(turkish)[0], "tr"))]] = False
    phrases, words = _doubled_phrases(w, batch.unquoted_lower, cfg)
    if phrases.size:
        # (a phrase of three words or more in any language: "người đàn ông người đàn ông"; of two in Vietnamese,
        # whose words of two syllables are written apart: "con mèo con mèo")
        lang = batch.language_of(phrases)[0]
        keep[phrases[_np(pc.is_in(lang, value_set=pa.array(cfg.languages, pa.string()))) | (words >= 3)
                     | ((words == 2) & _np(pc.equal(lang, "vi")))]] = False
    same = w.doubled
    if not same.any():
        return keep
    # only the words written twice are judged
    pairs = np.flatnonzero(same)  # pair i: words i and i + 1
    doubled = np.unique(w.ids[pairs])
    words = w.dictionary.take(pa.array(doubled))
    ok = (_np(pc.greater_equal(pc.utf8_length(words), cfg.min_chars)) & _letters_only(words)
          & ~_np(pc.is_in(words, value_set=pa.array(cfg.allowed, pa.string()))))
    word_ok = np.zeros(len(w.dictionary), dtype=bool)
    word_ok[doubled] = ok
    hit = pairs[word_ok[w.ids[pairs]]]
    if hit.size == 0:
        return keep
    rows = np.unique(w.row[hit])
    # a sentence ends between them and the next one starts with the word: "... around it. It is
    # colored ..." is no stutter ("... a muddy pond. pond." is)
    take = pa.array(rows)
    lower, texts = batch.unquoted_lower.take(take).to_pylist(), batch.text.take(take).to_pylist()
    names = w.dictionary.to_pylist()
    row_words = [set() for _ in range(rows.size)]
    for r, word in zip(np.searchsorted(rows, w.row[hit]).tolist(), w.ids[hit].tolist()):
        row_words[r].add(names[word])
    stutters = [any(_stutters(x, low, text) for x in found) for low, text, found in zip(lower, texts, row_words)]
    texts = [t for t, hit in zip(texts, stutters) if hit]
    rows = rows[stutters]
    if rows.size == 0:
        return keep
    lang = batch.language_of(rows)[0]  # only these rows' language is needed
    in_languages = _np(pc.is_in(lang, value_set=pa.array(cfg.languages, pa.string())))
    names = [title_case_repeats_only(t, code not in _NOUNS_CAPITALISED) for t, code in zip(texts, lang.to_pylist())]
    keep[rows[in_languages & ~np.array(names, dtype=bool)]] = False
    return keep


def _doubled_particles(w, particles: tuple[str, ...], max_words: int) -> np.ndarray:
    """Rows where one of `particles` (Han/Kana characters, each a word of its own) is written twice in
    a row ("在在", "のの"), but not as half of a doubled pair of characters ("实实在在", "的的确确"); a
    run of 2..`max_words` Han/Kana characters ending in a Kana particle written twice ("公園で公園で");
    or a Korean word ending in a particle written twice ("해변에서 해변에서")."""
    out: list[np.ndarray] = [_doubled_korean_particles(w)]
    if not particles:
        return np.unique(np.concatenate(out))
    particle = _np(pc.is_in(w.dictionary, value_set=pa.array(particles, pa.string())))
    pairs = np.flatnonzero(w.doubled)
    pairs = pairs[particle[w.ids[pairs]]]
    # pair i is words i and i + 1; a doubled pair beside it (pair i - 2 or i + 2) makes "AABB"
    doubled = np.concatenate((w.doubled, [False, False]))
    aabb = doubled[pairs + 2] | ((pairs >= 2) & doubled[np.maximum(pairs - 2, 0)])
    # a Kana particle before a word that starts with it, written in hiragana: "ラーメン屋ののれん" (the
    # shop's noren), "鮭ののり巻き"
    kana_particles = [c for c in particles if "\u3040" <= c <= "\u30ff"]
    kana = _np(pc.is_in(w.dictionary, value_set=pa.array(kana_particles, pa.string())))
    after = pairs + 2
    inside = after < len(w.row)
    inside[inside] = w.row[after[inside]] == w.row[pairs[inside]]
    inside[inside] = kana[w.ids[pairs[inside]]]
    if inside.any():
        hiragana = _np(pc.match_substring_regex(w.dictionary, "^[\u3041-\u309f]$"))
        aabb[inside] |= hiragana[w.ids[after[inside]]]
    out.append(w.row[pairs[~aabb]])
    if not kana_particles:
        return np.unique(np.concatenate(out))
    one_char = None  # per word: one Han or Kana character, read only when a unit ends in a Kana particle
    for p in range(2, max_words + 1):
        for i, unit in _written_twice(w, p):
            ends = kana[unit[:, -1]]
            if ends.any():
                if one_char is None:
                    one_char = _np(pc.match_substring_regex(w.dictionary, "^[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]$"))
                out.append(w.row[i[ends & one_char[unit].all(axis=1)]])
    return np.unique(np.concatenate(out))


# Korean particles that end a word ("해변에서", "소파를"); 이, 가 and 로 end many nouns too ("고양이"), so
# with them a word of three syllables or more ("고양이가")
_KOREAN_PARTICLES = r"(?:에서|에게|으로|에|을|를|은|는|의|와|과|도)$|^[\x{ac00}-\x{d7a3}]{2,}(?:이|가|로)$"


# Thai writes a word twice with the mark "ๆ", not by writing it again: six letters or more (with their
# vowel and tone marks) written twice in a row are a stutter ("เด็กผู้หญิงเด็กผู้หญิง"; "ตุ๊กตุ๊ก", a tuk-tuk, is four)
_THAI_RUN = "[\u0e01-\u0e4e]"
_THAI_TWICE = re.compile(f"({_THAI_RUN}{{6,}})\\s*\\1")


def _doubled_thai(batch: CaptionBatch) -> np.ndarray:
    """Rows (outside quotes) where six Thai letters or more are written twice in a row."""
    rows = np.flatnonzero(_np(batch.non_ascii))
    if rows.size == 0:
        return rows
    text = batch.unquoted_lower.take(pa.array(rows))
    maybe = _np(pc.match_substring_regex(text, "[\\x{0E01}-\\x{0E4E}]{6,}\\s*[\\x{0E01}-\\x{0E4E}]{6,}"))
    return np.array([r for r, t in zip(rows[maybe].tolist(), text.filter(pa.array(maybe)).to_pylist())
                     if _THAI_TWICE.search(t)], dtype=np.int64)


# A Turkish word in the locative or ablative written twice ("sahilde sahilde", in a row lid.176 reads
# as Turkish): Turkish doubles bare words ("yavaş yavaş", "ev ev") and converbs ("koşa koşa"), not these
_TURKISH_CASES = r"^[a-zçğıöşü]{3,}(?:d|t)(?:a|e|an|en)$"


def _doubled_words(w, judge) -> np.ndarray:
    """Rows where a word that `judge` (the words written twice, an Arrow array -> bool mask) passes is
    written twice in a row."""
    pairs = np.flatnonzero(w.doubled)
    if pairs.size == 0:
        return pairs
    ids = np.unique(w.ids[pairs])
    word_ok = np.zeros(len(w.dictionary), dtype=bool)
    word_ok[ids[judge(w.dictionary.take(pa.array(ids)))]] = True
    return w.row[pairs[word_ok[w.ids[pairs]]]]


def _doubled_turkish_cases(w) -> np.ndarray:
    """Rows where a word of six letters or more in a Turkish case ending (`_TURKISH_CASES`) is written twice."""
    return _doubled_words(w, lambda words: _np(pc.match_substring_regex(words, _TURKISH_CASES))
                          & _np(pc.greater_equal(pc.utf8_length(words), 6)))


def _doubled_korean_particles(w) -> np.ndarray:
    """Rows where a Korean word of two syllables or more ending in a particle is written twice."""
    return _doubled_words(w, lambda words: _np(pc.match_substring_regex(words, "^[\uac00-\ud7a3]{2,}$"))
                          & _np(pc.match_substring_regex(words, _KOREAN_PARTICLES)))


def _written_twice(w, p: int):
    """(first words, their units of `p` word ids) of each run of `p` words that a row holds twice in
    a row and no third time, as one batch (none when there is no such run); a unit that repeats a
    shorter one ("gorilla gorilla") is left out."""
    m = w.ids.size - p
    if m < p:
        return
    same = (w.ids[:m] == w.ids[p:]) & (w.row[:m] == w.row[p:])  # word i is the word p after it
    edges = np.diff(np.concatenate(([0], same.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    twice = starts[(stops - starts) == p]  # words start .. start + 2p - 1: the unit twice, then another word
    if twice.size == 0:
        return
    unit = w.ids[twice[:, None] + np.arange(p)[None, :]]
    ok = np.ones(twice.size, dtype=bool)
    for q in range(1, p):
        if p % q == 0:
            ok &= ~(unit[:, : p - q] == unit[:, q:]).all(axis=1)
    if ok.any():
        yield twice[ok], unit[ok]


# a phrase opening with one of these, or ending in one of `_CHAIN_ENDS`, written twice may be a chain:
# "one after another after another", "one behind another behind another", "one by one"
_CHAIN_WORDS = ("after", "upon")
_CHAIN_ENDS = ("another", "other")


def _doubled_phrases(w, lower: pa.Array, cfg: StutterRule) -> tuple[np.ndarray, np.ndarray]:
    """Rows where a phrase of 2..`max_phrase_words` words is written twice in a row, with nothing
    but spaces within and between its copies (a phrase of three words or more may have a list's mark
    between them: "Modern bathroom with walk-in shower | Modern bathroom with walk-in shower"), and no
    third time ("a stove a stove and a fridge"; not "row after row after row", "up and up and up", "a
    kitchen. A kitchen." or "New York, New York"). The phrase is no word or shorter phrase repeated ("gorilla gorilla" twice), does not
    open with a `_CHAIN_WORDS` word or end in a `_CHAIN_ENDS` one, its words are not all `allowed`,
    and the row names no pattern (`pattern_words`: "alternating black and white black and white").
    `lower` is the lowercased text outside quotes of `w`'s rows. Returns (the rows, the words of the
    longest such phrase in each)."""
    allowed = _np(pc.is_in(w.dictionary, value_set=pa.array(cfg.allowed, pa.string())))
    chain = _np(pc.is_in(w.dictionary, value_set=pa.array(_CHAIN_WORDS, pa.string())))
    chain_end = _np(pc.is_in(w.dictionary, value_set=pa.array(_CHAIN_ENDS, pa.string())))
    found: dict[int, list[tuple[int, int]]] = {}  # row -> (first word, length) of each phrase written twice
    for p in range(2, cfg.max_phrase_words + 1):
        for twice, unit in _written_twice(w, p):
            ok = ~chain[unit[:, 0]] & ~chain_end[unit[:, -1]] & ~allowed[unit].all(axis=1)
            for i in twice[ok].tolist():
                found.setdefault(int(w.row[i]), []).append((i, p))
    none = np.zeros(0, dtype=np.int64)
    if not found:
        return none, none
    rows = np.array(sorted(found), dtype=np.int64)
    if cfg.pattern_words:
        rows = rows[~_names_pattern(w, int(w.row[-1]) + 1, cfg.pattern_words)[rows]]
    if rows.size == 0:
        return none, none
    names = w.dictionary.to_pylist()
    texts = lower.take(pa.array(rows)).to_pylist()
    longest = np.zeros(rows.size, dtype=np.int64)
    for j, (row, text) in enumerate(zip(rows.tolist(), texts)):
        for i, p in found[row]:
            unit = r"\s+".join(re.escape(names[x]) for x in w.ids[i : i + p].tolist())
            # (three words or more may have a list's mark between them: "the eiffel tower at night, the eiffel
            # tower at night", a title written twice; a comma only between copies of four words or more: "black
            # and white, black and white" lists a pattern)
            between = r"\s*[|,;/–—-]?\s*" if p >= 4 else r"\s*[|/–—-]?\s*" if p == 3 else r"\s+"
            if p > longest[j] and re.search(rf"(?<!\w){unit}{between}{unit}(?!\w)", text or ""):
                longest[j] = p
    return rows[longest > 0], longest[longest > 0]


_SPECIES = re.compile(r"\(\s*([^\W\d_]+)((?:\s+\1)+)\s*\)", re.IGNORECASE)


def without_species_names(lower: str, text: str) -> str:
    """`lower` (the lowercased `text`, or its part outside quotes) without the species named after
    their genus in brackets in `text`: "(Lynx lynx)", "(Gorilla gorilla gorilla)", the genus
    capitalised and the rest in small letters."""
    names = {m.group(0).lower() for m in _SPECIES.finditer(text)
             if m.group(1)[0].isupper() and m.group(2).strip()[0].islower()}
    for name in names:
        lower = lower.replace(name, " ")
    return lower


def _stutters(word: str, lower: str, text: str) -> bool:
    """`word` written twice in a row in `lower` (a text's lowercased words outside quotes) with
    nothing but spaces between, but for a species named after its genus in brackets ("(Lynx lynx)",
    "(Ciconia ciconia)"); or in `text` across a sentence end with the second one in small letters or
    last in the text (not across a colon: "Placa de posto de gasolina: gasolina R$ 5,89" names a label
    and its value)."""
    w = re.escape(word)
    if re.search(rf"(?<!\w){w}\s+{w}(?!\w)", lower) and re.search(rf"(?<!\w){w}\s+{w}(?!\w)",
                                                                   without_species_names(lower, text)):
        return True
    for m in re.finditer(rf"(?<!\w){w}[.!?;。！？]+\s*({w})(?!\w)", text, re.IGNORECASE):
        if m.group(1)[0].islower() or not text[m.end():].strip(" .!?;:\"'”’»)"):
            return True
    return False


_NOUNS_CAPITALISED = frozenset(("de", "lb", "gsw", "bar"))  # languages whose common nouns are capitalised
_TITLE_CASE_SHARE = 0.6  # a text with more capitalised words than this is written in title case
_REPEAT_RUN = re.compile(r"(?<!\w)(\w+)(?:[\s!?.,;:'\"-]+\1)+(?!\w)", re.IGNORECASE)
_TITLE_WORDS = frozenset(("the", "a", "an", "and", "of"))  # a band's or a title's doubled function word


def _in_sentence_case(text: str) -> bool:
    """At most `_TITLE_CASE_SHARE` of the text's words are capitalised: a capitalised word there is
    a name ("A Red Red Barn In The Snow" is written in title case)."""
    words = re.findall(r"[^\W\d_]+", text)
    return sum(w[0].isupper() for w in words) <= _TITLE_CASE_SHARE * len(words)


def title_case_repeats_only(text: str | None, nouns_lowercase: bool = False) -> bool:
    """Every run of a repeated word in `text` is a name or a title inside the text: capitalised words
    after the text's first word, set apart by punctuation ("Tora! Tora! Tora!") or an English function
    word ("The The"), or anywhere in a text written in sentence case where `nouns_lowercase` (the
    text's language writes common nouns in small letters: "a rabbit named Bun Bun", "Chitty Chitty
    Bang Bang"). A German noun written twice ("ein Hund Hund liegt") is none."""
    if not text:
        return False
    runs = list(_REPEAT_RUN.finditer(text))
    lead = len(text) - len(text.lstrip(" \t\n\"'“‘([-"))

    def name(m: re.Match) -> bool:
        words = re.findall(r"\w+", m.group(0))
        between = m.group(0)[len(words[0]):]
        return (m.start() > lead and all(x[0].isupper() for x in words)
                and (words[0].lower() in _TITLE_WORDS or bool(re.search(r"[!?.,;:]", between))
                     or (nouns_lowercase and _in_sentence_case(text))))

    return bool(runs) and all(name(m) for m in runs)


def _letters_only(words: pa.Array) -> np.ndarray:
    """Per word: nothing but letters (`\\pL`), and no Han/Kana character. An ASCII word is tested
    against the ASCII letters, the same set there; another is read off the class table
    (`filters.unicode_classes`), as RE2 compiles `\\pL` anew for every call."""
    out = _np(pc.match_substring_regex(words, r"^[A-Za-z]+$"))
    wide = np.flatnonzero(~_np(pc.string_is_ascii(words)))
    if wide.size:
        classes = char_classes(words.take(pa.array(wide)))
        chars = np.diff(classes.starts)
        out[wide] = ((chars > 0) & (classes.count(BIT["letter"]) == chars)
                     & (classes.count(BIT["per_char_word"]) == 0))
    return out


@text_rule("tail_repetition")
def tail_repetition_rule(batch: CaptionBatch, cfg: TailRepetitionRule) -> np.ndarray:
    """Fails when the last `min_repeats * p` words are periodic with period p, for some p <= max_period.

    The check also starts one word early, so a loop cut off mid-word ("on a beach on a beach on a bea")
    counts. A unit that ends at a comma or semicolon each time (an enumeration) needs
    `min_list_repeats` repeats.
    """
    w = batch.unquoted_words
    keep = np.ones(len(batch), dtype=bool)
    ends = w.starts + w.counts  # one past each row's last word
    for skip in (0, 1):
        for p in range(1, cfg.max_period + 1):
            failed = _periodic_tail(w, ends, skip, p, cfg.min_repeats)
            if failed.size == 0:
                continue
            if cfg.min_list_repeats > cfg.min_repeats:
                failed = _unless_described_pattern(w, batch, cfg, ends, skip, p, failed)
            keep[failed] = False
    keep[_inner_loops(w, len(batch), cfg.max_period, cfg.min_repeats)] = False
    return keep


def _inner_loops(w, n_rows: int, max_period: int, k: int) -> np.ndarray:
    """Rows where a unit of 2..`max_period` words comes `k` times back to back anywhere, no copy
    but the last ending at a list separator (an enumeration, "red and white, red and white, ...",
    is judged at the tail only)."""
    rows: list[np.ndarray] = []
    for p in range(2, max_period + 1):
        m = w.ids.size - p
        if m < (k - 1) * p:
            break
        same = (w.ids[:m] == w.ids[p:]) & (w.row[:m] == w.row[p:])  # word i is the word p after it
        edges = np.diff(np.concatenate(([0], same.astype(np.int8), [0])))
        starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        long = (stops - starts) >= (k - 1) * p  # words start .. stop - 1 + p repeat with period p
        if not long.any():
            continue
        list_ends = np.concatenate(([0], np.cumsum(w.list_ends[:m])))
        for a, b in zip(starts[long].tolist(), stops[long].tolist()):
            if list_ends[b] == list_ends[a]:
                rows.append(w.row[a : a + 1])
    return np.unique(np.concatenate(rows)) if rows else np.zeros(0, dtype=np.int64)


def _unless_described_pattern(w, batch, cfg: TailRepetitionRule, ends, skip, p, failed) -> np.ndarray:
    """Of the rows whose tail repeats `min_repeats` times, those that are not a described pattern
    (a `pattern_words` word in the text, every unit ending at a list separator), plus the described
    patterns that repeat `min_list_repeats` times."""
    last = ends[failed] - skip - 1
    listy = np.ones(failed.size, dtype=bool)
    for j in range(1, cfg.min_repeats):
        listy &= w.list_end(last - j * p)
    if listy.any():
        listy &= _names_pattern(w, len(batch), cfg.pattern_words)[failed]
    if not listy.any():
        return failed
    longer = _periodic_tail(w, ends, skip, p, cfg.min_list_repeats)
    return np.concatenate((failed[~listy], np.intersect1d(failed[listy], longer)))


def _names_pattern(w, n_rows: int, pattern_words: tuple[str, ...], words: np.ndarray | None = None) -> np.ndarray:
    """Rows holding one of `pattern_words` (among the words at `words`, when given)."""
    pattern = _np(pc.is_in(w.dictionary, value_set=pa.array(pattern_words, pa.string())))
    out = np.zeros(n_rows, dtype=bool)
    if words is None:
        out[np.unique(w.row[pattern[w.ids]])] = True
    else:
        out[np.unique(w.row[words[pattern[w.ids[words]]]])] = True
    return out


def _periodic_tail(w, ends: np.ndarray, skip: int, p: int, k: int) -> np.ndarray:
    """Rows whose last k*p words (after dropping `skip` final words) have period p."""
    rows = np.flatnonzero(w.counts - skip >= k * p)
    last = ends[rows] - skip - 1
    for j in range((k - 1) * p):  # compare each of the last (k-1)p words with the word p before it
        if rows.size == 0:
            break
        eq = w.ids[last - j] == w.ids[last - j - p]
        rows, last = rows[eq], last[eq]
    return rows


@text_rule("sentence_repetition")
def sentence_repetition_rule(batch: CaptionBatch, cfg: SentenceRepetitionRule) -> np.ndarray:
    """Fails when one sentence (case-insensitive, >= `min_chars` characters) occurs more than `max_repeats` times."""
    keep = np.ones(len(batch), dtype=bool)
    # Only texts with at least max_repeats sentence ends followed by more text can fail.
    rows = np.flatnonzero(_may_repeat_sentences(batch, cfg.max_repeats))
    if rows.size == 0:
        return keep
    texts = batch.unquoted_lower.take(pa.array(rows))
    if cfg.max_repeats == 1:
        inner = _np(pc.match_substring_regex(texts, _SENTENCE_END + r"\s*[^\s.!?。！？;；]"))
    else:
        inner = pc.count_substring_regex(texts, _SENTENCE_END).to_numpy(zero_copy_only=False) >= cfg.max_repeats
    rows = rows[inner]
    if rows.size == 0:
        return keep
    sentences = pc.split_pattern_regex(texts.filter(pa.array(inner)), _SENTENCE_END)
    flat = pc.utf8_trim_whitespace(sentences.flatten())
    parent = rows[pc.list_parent_indices(sentences).to_numpy()]
    long_enough = text_width(flat) >= cfg.min_chars
    if not long_enough.any():
        return keep
    ids = flat.filter(pa.array(long_enough)).dictionary_encode().indices.to_numpy().astype(np.int64)
    parent = parent[long_enough].astype(np.int64)
    key = parent * (int(ids.max()) + 1) + ids
    uniq, counts = np.unique(key, return_counts=True)
    keep[(uniq[counts > cfg.max_repeats] // (int(ids.max()) + 1))] = False
    return keep


_MIX = np.uint64(0x9E3779B97F4A7C15)


@text_rule("ngram_repetition")
def ngram_repetition_rule(batch: CaptionBatch, cfg: NgramRepetitionRule) -> np.ndarray:
    """Fails when (n-grams - distinct n-grams) / n-grams > `max_ratio`, for texts of >= `min_words` words."""
    w = batch.unquoted_words
    keep = np.ones(len(batch), dtype=bool)
    n = cfg.n
    judged = w.counts >= max(cfg.min_words, n)
    if not judged.any():
        return keep
    sel = np.flatnonzero(judged[w.row])  # the words of the judged rows
    described = _names_pattern(w, len(batch), cfg.pattern_words, sel)
    if described.any():
        words = sel[described[w.row[sel]]]
        enumerations = np.bincount(w.row[words[w.list_end(words)]], minlength=len(batch)) >= 2
        judged &= ~(enumerations & described)
        if not judged.any():
            return keep
        sel = sel[judged[w.row[sel]]]
    # numbers between the words count for nothing: a model's list loop numbers its items ("1. A cat 2. A dog
    # 3. A cat 4. A dog ...")
    numeric = _np(pc.match_substring_regex(w.dictionary, r"^\d+$"))
    if numeric.any():
        sel = sel[~numeric[w.ids[sel]]]
    ids, row = w.ids[sel].astype(np.uint64), w.row[sel]
    # n-gram i covers words i .. i+n-1 of the same row.
    m = ids.size - n + 1
    valid = row[:m] == row[n - 1 :]
    h = np.zeros(m, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for off in range(n):
            h = (h ^ ids[off : off + m]) * _MIX
            h ^= h >> np.uint64(29)
    # 40 bits of hash, row above them: equal keys are equal n-grams of one row (collisions ~ 2^-40).
    key = (row[:m][valid].astype(np.uint64) << np.uint64(40)) | (h[valid] & np.uint64((1 << 40) - 1))
    key.sort()
    dup_rows = (key[1:][key[1:] == key[:-1]] >> np.uint64(40)).astype(np.int64)
    dups = np.bincount(dup_rows, minlength=len(batch))
    total = np.maximum(np.bincount(row, minlength=len(batch)) - n + 1, 1)
    keep[judged & (dups > cfg.max_ratio * total)] = False
    return keep
