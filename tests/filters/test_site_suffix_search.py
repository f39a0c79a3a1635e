"""The site-suffix repair strips what its pattern's leftmost match (one RE2 search) starts, instead
of replacing the matches, then a name that opens the text (`site_prefix_pattern`): checked against
the two replacements on texts ending in configured suffixes,
in any case and spacing, with nulls, and for suffixes with metacharacters and non-ASCII letters."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from filters.repairs import site_names, site_prefix_pattern, site_suffix_pattern
from schemas.filter_config import SiteSuffixRepair

_SEPARATORS = ["|", "｜", "¦", "-", "–", "—", ":", "·", "•", "~", "/", "\\", "»", ">", " | ", " - ", "  ||  ", ""]
_TAILS = ["", ".", "!", " .", "  ", " 12345", " id 9876", " ID#4567", " #123", "\n", " 12", ".com", ".COM", "\t"]
_LEADS = ["", "A red barn in the snow", "stock photo of a dog", " ", "日本の猫", "x", "Привет", "a\n", "é "]


def _by_replacement(texts: pa.Array, suffixes: tuple[str, ...]) -> list:
    """The suffix replaced (and the rest trimmed where it was), then the prefix replaced."""
    stripped = pc.replace_substring_regex(texts, site_suffix_pattern(suffixes), "")
    trimmed = pc.utf8_trim_whitespace(stripped)
    out = [t if s == t else u for s, t, u in zip(stripped.to_pylist(), texts.to_pylist(), trimmed.to_pylist())]
    return pc.replace_substring_regex(pa.array(out, texts.type), site_prefix_pattern(suffixes), "").to_pylist()


def _repaired(texts: pa.Array, suffixes: tuple[str, ...]) -> list:
    cfg = SiteSuffixRepair(suffixes=suffixes)
    context = {"touched": np.zeros(len(texts), dtype=bool),
               "non_ascii": ~pc.fill_null(pc.string_is_ascii(texts), True).to_numpy(zero_copy_only=False)}
    return site_names(texts, cfg, context).to_pylist()


def _texts(names: list[str]) -> st.SearchStrategy[str]:
    name = st.sampled_from(names).flatmap(
        lambda s: st.sampled_from([s, s.upper(), s.title(), s.replace(" ", "  "), s.replace(" ", "\n")]))
    part = st.tuples(st.sampled_from(_SEPARATORS), name, st.sampled_from(_TAILS)).map("".join)
    return st.tuples(st.sampled_from(_LEADS), st.lists(part, max_size=3), st.sampled_from(_TAILS),
                     st.text(alphabet="ab .|-", max_size=4)).map(lambda t: t[0] + "".join(t[1]) + t[2] + t[3])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), _texts(list(SiteSuffixRepair().suffixes))), min_size=1, max_size=20),
       st.integers(min_value=0, max_value=3))
def test_site_suffix_strip_matches_the_replacement(texts, cut):
    suffixes = SiteSuffixRepair().suffixes
    arr = pa.array(texts, pa.string()).slice(min(cut, len(texts) - 1))
    assert _repaired(arr, suffixes) == _by_replacement(arr, suffixes)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet="ab. -+*?()[]{}|\\$^日Жé ", min_size=1, max_size=8), min_size=1, max_size=4),
       st.lists(st.text(alphabet="ab. -|日\n", max_size=10), min_size=1, max_size=4))
def test_site_suffix_strip_matches_the_replacement_for_any_suffix(suffixes, leads):
    suffixes = tuple(dict.fromkeys(s for s in suffixes if s.strip()))
    if not suffixes:
        return
    texts = [lead + sep + s + tail for lead in leads for s in suffixes for sep in (" | ", "-", "", "  ")
             for tail in ("", " 1234", ".", " ")]
    arr = pa.array(texts, pa.large_string())
    assert _repaired(arr, suffixes) == _by_replacement(arr, suffixes)


def test_a_site_name_alone_of_any_length_is_stripped_through_the_clean_step():
    """A text that is only site names (repeated, with an id) is stripped whatever its length: the
    rows worth the repair are picked by a name at the start, not by a length bound."""
    from filters.repairs import may_need_repair, repair_texts
    from schemas.filter_config import CleanConfig

    texts = ["Shutterstock Shutterstock Shutterstock 12345", "iStock   Getty Images   id 123456789",
             "... aa日日  ... aa日日 1234", "A red barn in the snow at dawn, shutterstock fans",
             "shutterstock photographers at work in a busy office"]  # fmt: skip
    cfg = CleanConfig(site_suffix={"suffixes": ["shutterstock", "istock", "getty images", "... aa日日"]})
    assert may_need_repair(pa.array(texts), cfg).tolist()[:3] == [True, True, True]
    repaired = repair_texts(pa.array(texts), cfg)
    assert repaired.text.to_pylist() == ["", "", ""] + texts[3:]
    assert repaired.changed["site_suffix"].tolist() == [True, True, True, False, False]
    assert repaired.text.to_pylist() == _by_replacement(pa.array(texts), cfg.site_suffix.suffixes)


def test_a_site_name_alone_after_a_stripped_row_is_stripped_too():
    # Hyperscan's line-start scan with "^\s*" missed the second row's name (a property run found it)
    suffixes = SiteSuffixRepair().suffixes
    arr = pa.array(["|클립아트코리아 12345", " istock"], pa.string())
    assert _repaired(arr, suffixes) == _by_replacement(arr, suffixes) == ["", ""]
