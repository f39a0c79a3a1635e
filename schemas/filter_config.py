"""Config for caption/text rules, language id and image-metadata rules (the job YAML's `filters:`).

Every rule has its own frozen section under `filters.rules`, named exactly like the rule in
`filters.registry` and like its reason code (`filter.<name>`). A rule left out uses its defaults; a
rule set to `false` is disabled (`true` means "on, with defaults"). The defaults are tuned for
captions, not for long documents: a three-word caption is fine, and language id never rejects a
caption of three words or fewer.

```yaml
filters:
  tasks: [caption]
  rules:
    too_short: {min_words: 2}
    language: {allow: [en, zh]}
    blank: true            # opt-in: reads pixels (reduced-size decode)
    boilerplate: false
```
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from schemas.config_base import ConfigSection


class RuleConfig(ConfigSection):
    """Common to every rule: `enabled`. `rules.<name>: false` is shorthand for `{enabled: false}`."""

    enabled: bool = True

    @model_validator(mode="before")
    @classmethod
    def _bool_shorthand(cls, data: Any) -> Any:
        if isinstance(data, bool):
            return {"enabled": data}
        return data


def _nonempty_strings(values: tuple[str, ...], what: str) -> tuple[str, ...]:
    bad = [v for v in values if not v.strip()]
    if bad:
        raise ValueError(f"{what} must be non-empty strings; got {bad!r}")
    return values


# ---------------------------------------------------------------- text rules (fixed order)


class EmptyRule(RuleConfig):
    """The assistant text is empty after normalisation."""


class BadEncodingRule(RuleConfig):
    """Bytes that were not UTF-8, U+FFFD replacement characters, NUL, and UTF-8-read-as-Latin-1 mojibake.

    Judged on the raw text, before normalisation removes the evidence.
    """

    max_replacement_chars: int = Field(default=0, ge=0, le=1000)
    mojibake: bool = True


DEFAULT_FILE_EXTENSIONS = (
    "jpg", "jpeg", "png", "gif", "webp", "bmp", "tif", "tiff", "heic", "svg",
    "mp4", "mov", "avi", "pdf", "doc", "docx", "htm", "html", "php", "asp", "aspx",
)  # fmt: skip
DEFAULT_TLDS = (
    "com", "net", "org", "edu", "gov", "io", "co", "info", "biz", "xyz", "top", "cn", "de", "uk",
    "ru", "jp", "fr", "nl", "au", "ca", "br", "tv", "me", "ly",
)  # fmt: skip
_EXT = re.compile(r"^[a-z0-9]{1,10}$")


class UrlRule(RuleConfig):
    """URLs (`http://`, `www.`), bare domains (`example.com`), e-mail addresses and file names
    (`IMG_1234`, `photo.jpg`). Case-insensitive."""

    file_extensions: tuple[str, ...] = DEFAULT_FILE_EXTENSIONS
    tlds: tuple[str, ...] = DEFAULT_TLDS
    camera_file_names: bool = True  # IMG_1234, DSC01234, PXL_2021...

    @field_validator("file_extensions", "tlds")
    @classmethod
    def _suffixes(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [s for s in v if not _EXT.match(s)]
        if bad:
            raise ValueError(
                f"each entry must be 1-10 lowercase letters or digits without a dot; got {bad!r}"
            )
        return v


DEFAULT_BOILERPLATE = (
    "stock photo", "stock image", "stock picture", "stock footage", "royalty free", "royalty-free",
    "click here", "click to enlarge", "click to view", "image may contain", "may contain:",
    "photo credit", "image credit", "image courtesy", "all rights reserved", "getty images",
    "shutterstock", "alamy", "dreamstime", "istockphoto", "depositphotos", "123rf", "adobe stock",
    "free download", "download free", "free vector", "no description", "no image available",
    "image not found", "image not available", "image unavailable", "placeholder image",
    "read more", "learn more", "buy now", "add to cart", "free shipping", "sign up",
    "subscribe", "lorem ipsum", "view larger", "view full size", "see more", "loading...",
    "点击查看", "点击进入", "图片来源", "版权所有", "免费下载", "高清大图", "图片仅供参考",
)  # fmt: skip


class BoilerplateRule(RuleConfig):
    """Any of these phrases, case-insensitive, anywhere in the text."""

    phrases: tuple[str, ...] = DEFAULT_BOILERPLATE

    @field_validator("phrases")
    @classmethod
    def _phrases(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return _nonempty_strings(v, "phrases")


class DateOnlyRule(RuleConfig):
    """The text is only a date and/or time ("June 12, 2019", "2019-06-12 14:32", "2019年6月12日")."""


class NoLettersRule(RuleConfig):
    """The text has no letter at all: only numbers, punctuation, symbols or emoji."""


class DigitRunRule(RuleConfig):
    """A run of more than `max_digits` consecutive digits (phone numbers, IDs, timestamps)."""

    max_digits: int = Field(default=5, ge=1, le=500)


class TooShortRule(RuleConfig):
    """Fewer than `min_words` words or fewer than `min_chars` characters.

    A word is a whitespace-separated token with punctuation trimmed from its ends; every Han,
    Hiragana or Katakana character counts as one word. Text in a script without spaces (Thai, Lao,
    Khmer, Myanmar) is judged by characters only. Characters are counted with East-Asian wide
    characters counting two, spaces included. The defaults reject "≤ 2 words or ≤ 5 characters".
    """

    min_words: int = Field(default=3, ge=1, le=10_000)
    min_chars: int = Field(default=6, ge=1, le=100_000)


class TooLongRule(RuleConfig):
    """More than `max_words` words or `max_chars` characters (same counting as `too_short`)."""

    max_words: int = Field(default=512, ge=1, le=1_000_000)
    max_chars: int = Field(default=4096, ge=1, le=10_000_000)


class SpecialCharsRule(RuleConfig):
    """The share of non-space characters that are not letters, digits or marks exceeds `max_ratio`.

    Texts with fewer than `min_chars` non-space characters are not judged (a short caption with
    one exclamation mark is fine).
    """

    max_ratio: float = Field(default=0.3, ge=0.0, le=1.0)
    min_chars: int = Field(default=8, ge=1, le=100_000)


DEFAULT_PAIR_WORDS = (
    "the", "a", "an", "of", "in", "on", "at", "to", "and", "with", "is", "are", "for", "from", "by",
    "der", "die", "das", "und", "ein", "eine", "le", "les", "un", "une", "et", "el", "los", "las",
)  # fmt: skip


class RepeatedWordsRule(RuleConfig):
    """The same word more than `max_run` times in a row ("dog dog dog"), or any of `pair_words`
    twice in a row ("the the"). Case-insensitive, punctuation ignored. Reduplication such as
    "bye bye" or 妈妈 stays (runs of two are allowed for other words)."""

    max_run: int = Field(default=2, ge=1, le=1000)
    pair_words: tuple[str, ...] = DEFAULT_PAIR_WORDS

    @field_validator("pair_words")
    @classmethod
    def _words(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(w.lower() for w in _nonempty_strings(v, "pair_words"))


class TailRepetitionRule(RuleConfig):
    """Loop-like tail: the text ends in a unit of 1..`max_period` words repeated at least
    `min_repeats` times ("a dog on a beach on a beach on a beach"); a cut-off last word is
    tolerated."""

    max_period: int = Field(default=8, ge=1, le=64)
    min_repeats: int = Field(default=3, ge=2, le=1000)


class SentenceRepetitionRule(RuleConfig):
    """The same sentence (case-insensitive, at least `min_chars` characters counted like
    `too_short`: wide characters two) appears more than `max_repeats` times."""

    max_repeats: int = Field(default=1, ge=1, le=1000)
    min_chars: int = Field(default=12, ge=1, le=10_000)


class NgramRepetitionRule(RuleConfig):
    """Share of word `n`-grams that repeat an earlier n-gram of the same text is above `max_ratio`.

    Only texts of at least `min_words` words are judged.
    """

    n: int = Field(default=3, ge=1, le=16)
    max_ratio: float = Field(default=0.3, gt=0.0, le=1.0)
    min_words: int = Field(default=12, ge=2, le=100_000)


DEFAULT_LANGUAGES = (
    "en", "zh", "ja", "ko", "de", "fr", "es", "it", "pt", "nl", "ru", "pl", "tr", "ar", "vi", "th",
    "id", "uk", "cs", "sv",
)  # fmt: skip
_LANG = re.compile(r"^[a-z]{2,3}$")


class LanguageRule(RuleConfig):
    """fastText lid.176 language id, made for captions.

    A caption is rejected only when fastText is confident it is a language outside `allow`: its top
    language is not allowed and its score is at least the length-dependent threshold. Captions of
    `exempt_words` words or fewer are never rejected (lid.176 is unreliable on them: "blue sky" comes
    out German). The threshold falls linearly from `short_min_score` (just above `exempt_words`) to
    `min_score` (at `long_words` words and beyond). `allow: null` allows every language; the
    language and score are recorded on every checked row either way.
    """

    allow: tuple[str, ...] | None = DEFAULT_LANGUAGES
    min_score: float = Field(default=0.5, ge=0.0, le=1.0)
    short_min_score: float = Field(default=0.9, ge=0.0, le=1.0)
    exempt_words: int = Field(default=3, ge=0, le=10_000)
    long_words: int = Field(default=10, ge=1, le=100_000)

    @field_validator("allow")
    @classmethod
    def _codes(cls, v: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if v is None:
            return v
        bad = [c for c in v if not _LANG.match(c)]
        if bad:
            raise ValueError(
                f"language codes are 2-3 lowercase letters as in lid.176 (en, zh, yue); got {bad!r}"
            )
        return v

    @model_validator(mode="after")
    def _ordered(self) -> "LanguageRule":
        if self.long_words <= self.exempt_words:
            raise ValueError(
                f"long_words ({self.long_words}) must be greater than exempt_words ({self.exempt_words})"
            )
        if self.short_min_score < self.min_score:
            raise ValueError(
                f"short_min_score ({self.short_min_score}) must be >= min_score ({self.min_score}): "
                "shorter captions need more confidence, not less"
            )
        return self


# ---------------------------------------------------------------- image-metadata rules (fixed order)


class ImageUnreadableRule(RuleConfig):
    """The image file cannot be opened, or its header cannot be parsed."""


class ImageTooSmallRule(RuleConfig):
    """Shorter side below `min_side` or fewer than `min_pixels` pixels."""

    min_side: int = Field(default=56, ge=1, le=100_000)
    min_pixels: int = Field(default=112 * 112, ge=1, le=10**10)


class ImageTooLargeRule(RuleConfig):
    """More than `max_pixels` pixels (default: Pillow's decompression-bomb limit)."""

    max_pixels: int = Field(default=89_478_485, ge=1, le=10**12)


class AspectRatioRule(RuleConfig):
    """Long side / short side above `max_ratio` (smart-resize itself refuses ratios above 200)."""

    max_ratio: float = Field(default=20.0, ge=1.0, le=200.0)


class AnimatedRule(RuleConfig):
    """Animated GIF/PNG/WebP: `drop` rejects them; `keep` keeps them (later stages see frame 0)."""

    policy: Literal["drop", "keep"] = "drop"


class CompressionRule(RuleConfig):
    """Heavy compression: file bytes per pixel below `min_bytes_per_pixel` (lossy formats only), or a
    JPEG quality, estimated from the header's quantization tables, below `min_jpeg_quality`.

    Bytes per pixel depends on content as much as on compression (a smooth sky at WebP q80 can be
    0.008 B/px, a photo at JPEG q10 0.03), so its default floor is low: it catches only extreme
    cases; the JPEG quality estimate is the sharper signal."""

    min_bytes_per_pixel: float = Field(default=0.004, ge=0.0, le=16.0)
    min_jpeg_quality: int = Field(default=30, ge=0, le=100)
    lossy_formats: tuple[str, ...] = ("JPEG", "WEBP")


class BlankRule(RuleConfig):
    """Blank or near-blank image: the grey-level standard deviation of a reduced-size decode (JPEG
    draft mode, at most `sample_size` pixels a side) is below `max_std`. Opt-in: it reads pixels."""

    enabled: bool = False
    max_std: float = Field(default=3.0, ge=0.0, le=128.0)
    sample_size: int = Field(default=64, ge=8, le=1024)


class RulesConfig(ConfigSection):
    """One section per rule; field names are the rule names and reason codes."""

    too_long: TooLongRule = TooLongRule()
    empty: EmptyRule = EmptyRule()
    bad_encoding: BadEncodingRule = BadEncodingRule()
    url: UrlRule = UrlRule()
    boilerplate: BoilerplateRule = BoilerplateRule()
    date_only: DateOnlyRule = DateOnlyRule()
    no_letters: NoLettersRule = NoLettersRule()
    digit_run: DigitRunRule = DigitRunRule()
    special_chars: SpecialCharsRule = SpecialCharsRule()
    too_short: TooShortRule = TooShortRule()
    repeated_words: RepeatedWordsRule = RepeatedWordsRule()
    tail_repetition: TailRepetitionRule = TailRepetitionRule()
    sentence_repetition: SentenceRepetitionRule = SentenceRepetitionRule()
    ngram_repetition: NgramRepetitionRule = NgramRepetitionRule()
    language: LanguageRule = LanguageRule()
    image_unreadable: ImageUnreadableRule = ImageUnreadableRule()
    image_too_small: ImageTooSmallRule = ImageTooSmallRule()
    image_too_large: ImageTooLargeRule = ImageTooLargeRule()
    aspect_ratio: AspectRatioRule = AspectRatioRule()
    animated: AnimatedRule = AnimatedRule()
    compression: CompressionRule = CompressionRule()
    blank: BlankRule = BlankRule()


class FilterConfig(ConfigSection):
    enabled: bool = True
    # Tasks whose assistant text the caption rules apply to. Image rules apply to every task.
    tasks: tuple[str, ...] = ("caption",)
    rules: RulesConfig = RulesConfig()
