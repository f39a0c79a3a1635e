"""The catalogue of built-in rules, in the fixed order the chain applies them.

Rule modules declare their rules (`filters.rule_spec`); this module imports them and lists the
rules, so dependencies point one way: catalogue -> rule modules -> rule_spec. A rule's name is
its config field in `schemas.filter_config.RulesConfig` and its reason code, `filter.<name>`. A
row that fails several rules gets the reason of the first one in `TEXT_RULES` order, then
`IMAGE_RULES` order.

The order: `too_long` first (a text over its limit is judged by its length alone and never
reaches the other rules); then what a text *is* (empty, broken encoding, a file name, a URL, boilerplate, a refusal,
code, camera settings, a date, no letters, a number, a keyword list) comes before what it looks like
(symbols, too short), then repetition, then a reader's remark that names nothing; then language id, and
last the learned junk score (`filters.junk_model`), which judges only what every rule kept.
"""

from __future__ import annotations

from filters import image_rules, junk_model, junk_rules, language, repetition, text_rules
from filters.rule_spec import RuleKind, RuleSpec

_TEXT = (
    text_rules.too_long_rule,
    text_rules.empty_rule,
    text_rules.bad_encoding_rule,
    junk_rules.file_name_rule,  # before `url`: a caption that is a file name ("DSC_0042.JPG") is one
    text_rules.url_rule,
    text_rules.boilerplate_rule,
    junk_rules.refusal_rule,
    junk_rules.code_rule,
    junk_rules.camera_settings_rule,
    text_rules.date_only_rule,
    text_rules.no_letters_rule,
    text_rules.digit_run_rule,
    junk_rules.keyword_list_rule,
    text_rules.special_chars_rule,
    text_rules.too_short_rule,
    text_rules.repeated_words_rule,
    repetition.stutter_rule,
    repetition.tail_repetition_rule,
    repetition.sentence_repetition_rule,
    repetition.ngram_repetition_rule,
    junk_rules.remark_rule,  # a reader's remark: no thing named, once the repeats are judged
    language.language_rule,
    junk_model.learned_junk_rule,  # the learned score judges what every rule kept
)
_IMAGE = (
    image_rules.image_unreadable_rule,
    image_rules.image_too_small_rule,
    image_rules.image_too_large_rule,
    image_rules.aspect_ratio_rule,
    image_rules.animated_rule,
    image_rules.compression_rule,
    image_rules.blank_rule,
)
_SPECS: dict[str, RuleSpec] = {fn.rule_spec.name: fn.rule_spec for fn in _TEXT + _IMAGE}
TEXT_RULES = tuple(fn.rule_spec.name for fn in _TEXT)
IMAGE_RULES = tuple(fn.rule_spec.name for fn in _IMAGE)


def rule(name: str) -> RuleSpec:
    """A built-in rule by name."""
    if name not in _SPECS:
        raise KeyError(f"no filter rule {name!r}; known: {TEXT_RULES + IMAGE_RULES}")
    return _SPECS[name]


def rules_in_order(kind: RuleKind) -> list[RuleSpec]:
    """The built-in rules of one kind, in the documented order."""
    return [_SPECS[name] for name in (TEXT_RULES if kind == "text" else IMAGE_RULES)]
