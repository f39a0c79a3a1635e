"""The clean step: repairs applied to caption text before the rules judge it.

Each repair is a pure function `(texts, cfg, context) -> texts` over a whole string array, applied
only to the rows a cheap vectorised prefilter picks (and marked in `context["touched"]`, so that
only those are compared to find the rows it changed), in the order of `REPAIRS`:
1. `html`: markup stripped and entities unescaped with the standard library's HTML parser;
2. `shortcode`: forum BBCode and CMS shortcode tags ("[b]...[/b]", "[caption id=...]") stripped;
3. `mojibake`: `ftfy.fix_encoding` (`filters.mojibake`), before the control characters go: a C1
   control is often the last byte of a misread character ("â€\x9d" is a right quote); a single
   Latin Extended-A letter read as Windows-1252, which ftfy leaves, is read back;
4. `whitespace`: control / zero-width characters, runs of spaces, line breaks, then NFC;
5. `zh_t2s`: traditional -> simplified Chinese with OpenCC, for the configured sources only;
6. `site_suffix`: a trailing " | Shutterstock", " - Flickr", ... stripped.
`repair_texts` returns the repaired texts and, per repair, the rows it changed: the ledger lists
them (`repairs`) and the stage counts them (`clean.<name>`).
"""

from __future__ import annotations

import html
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from filters.mojibake import fix_encoding, suspect_pattern
from filters.pattern_search import bool_mask, cut_at_match, first_match_starts, search, search_within
from schemas.filter_config import NEWS_AGENCIES, CleanConfig

REPAIRS = ("html", "shortcode", "mojibake", "whitespace", "zh_t2s", "site_suffix")

# ---------------------------------------------------------------- html

# Elements whose tags are markup, not content. Anything else in angle brackets is kept as written.
_INLINE = (
    "a", "abbr", "b", "bdi", "bdo", "big", "cite", "code", "data", "del", "dfn", "em", "font", "i", "img",
    "ins", "kbd", "mark", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup", "time", "tt",
    "u", "var", "wbr", "picture", "source", "label", "nobr",
)  # fmt: skip
_BLOCK = (
    "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details", "dialog",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
    "h6", "head", "header", "hgroup", "hr", "html", "li", "main", "meta", "link", "nav", "ol", "p", "pre",
    "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "title", "tr", "ul", "button",
    "input", "select", "option", "textarea", "iframe", "video", "audio", "canvas", "svg", "path", "g",
    "embed", "object", "param", "track", "area", "map", "base", "col", "colgroup", "frame", "frameset",
)  # fmt: skip
_BREAK = ("br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "hr")
_DROP_CONTENT = ("script", "style", "noscript", "template")
_ELEMENTS = frozenset(_INLINE + _BLOCK + _BREAK + _DROP_CONTENT)
_ELEMENT_NAMES = "|".join(sorted(_ELEMENTS, key=len, reverse=True))
HTML_MARKUP = rf"(?i)</?(?:{_ELEMENT_NAMES})(?:\s[^<>]*)?/?>|<!--"
HTML_ENTITY = r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"


class _MarkupStripper(HTMLParser):
    """Text of an HTML fragment: known elements' tags removed (block elements leave a space or a
    line break), script/style content dropped, comments dropped, other tags kept verbatim. A "</s>"
    that no "<s>" opened is a language model's end of sequence, not strikethrough: it stays, for the
    rules to judge ("... em uma rua de</s>")."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0
        self.struck = 0

    def _tag(self, tag: str, end: bool) -> None:
        if tag == "s":
            if end and not self.struck:
                self.parts.append("</s>")
            self.struck = max(0, self.struck + (-1 if end else 1))
        elif tag in _DROP_CONTENT:
            self.hidden = max(0, self.hidden + (-1 if end else 1))
        elif tag in _BREAK:
            self.parts.append("\n")
        elif tag in _BLOCK:
            self.parts.append(" ")
        elif tag not in _ELEMENTS and not self.hidden:
            self.parts.append(f"</{tag}>" if end else self.get_starttag_text() or "")

    def handle_starttag(self, tag, attrs):
        self._tag(tag, end=False)

    def handle_startendtag(self, tag, attrs):
        if tag not in _DROP_CONTENT:
            self._tag(tag, end=False)

    def handle_endtag(self, tag):
        self._tag(tag, end=True)

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)

    def text(self, fragment: str) -> str:
        self.parts, self.hidden, self.struck = [], 0, 0
        self.reset()
        self.feed(fragment)
        self.close()
        return "".join(self.parts)


_STRIPPER = threading.local()


def strip_markup(fragment: str) -> str:
    """`fragment` without HTML markup, entities unescaped (twice: "&amp;amp;" is common)."""
    stripper = getattr(_STRIPPER, "parser", None)
    if stripper is None:
        stripper = _STRIPPER.parser = _MarkupStripper()
    return html.unescape(stripper.text(fragment))


_MARKUP_RE = re.compile(HTML_MARKUP.replace("(?i)", ""), re.IGNORECASE)


def _unescape(text: str) -> str:
    """Entities unescaped (twice), and the markup that was escaped ("&lt;b&gt;Sunset&lt;/b&gt;")
    stripped as markup."""
    out = html.unescape(html.unescape(text))
    return strip_markup(out) if _MARKUP_RE.search(out) else out


def _html(texts: pa.Array, cfg, context) -> pa.Array:
    rows = np.flatnonzero(ascii_char_counts(texts, "<&"))
    if rows.size == 0:
        return texts
    sub = texts.take(pa.array(rows))
    markup = _np(pc.match_substring_regex(sub, HTML_MARKUP))
    entity = _np(pc.match_substring_regex(sub, HTML_ENTITY))
    if not (markup | entity).any():
        return texts
    touched = context.get("touched")
    out = with_rows_mapped(texts, rows[markup], strip_markup, touched)
    out = with_rows_mapped(out, rows[entity & ~markup], _unescape, touched)
    if not markup.any():
        return out
    # the breaks and spaces the markup leaves are part of this repair, not of `whitespace`
    stripped = np.zeros(len(texts), dtype=bool)
    stripped[rows[markup]] = True
    return on_rows(out, pa.array(stripped), _clean_whitespace, touched)


# ---------------------------------------------------------------- shortcodes

# Forum BBCode and CMS (WordPress) shortcodes around a caption: "[b]Horses in a paddock[/b]",
# '[caption id="attachment_9" align="alignright"]A potter at the wheel[/caption]'.
_SHORTCODE_NAMES = (
    "b", "i", "u", "s", "strike", "center", "left", "right", "justify", "color", "colour", "size", "font",
    "quote", "url", "email", "img", "spoiler", "highlight", "sup", "sub", "h1", "h2", "h3",
    "caption", "wp_caption", "gallery", "embed", "video", "audio", "playlist",
)  # fmt: skip
# and page builders' shortcodes, named with an underscore ("[et_pb_text]", "[vc_column_text]", "[fusion_text]")
_SHORTCODE_ALT = "|".join(sorted(_SHORTCODE_NAMES, key=len, reverse=True)) + "|[a-z]+_[a-z0-9_]+"
# a closing tag, or an opening one with a value or attributes ("[color=red]", '[caption id="a_9"]', not
# "[Caption could not be generated]")
_WITH_VALUE = rf"\[(?:{_SHORTCODE_ALT})(?:=[^\[\]\n]{{1,300}}|\s+[a-z_][a-z0-9_-]*\s*=[^\[\]\n]{{0,300}})\]"
SHORTCODE = rf"(?i)\[/(?:{_SHORTCODE_ALT})\]|{_WITH_VALUE}"
_CLOSING_RE = re.compile(rf"\[/({_SHORTCODE_ALT})\]", re.IGNORECASE)
_WITH_VALUE_RE = re.compile(_WITH_VALUE, re.IGNORECASE)


def strip_shortcodes(text: str) -> str:
    """`text` without its shortcode tags (`_SHORTCODE_NAMES`): every tag with a value or attributes,
    and the plain tags of the names that are closed somewhere in it ("[b]...[/b]"); a lone "[B]"
    (an option's letter, a label) is kept. Tags part what they stood between by a space."""
    closed = {m.lower() for m in _CLOSING_RE.findall(text)}
    out = _WITH_VALUE_RE.sub(" ", text)
    if closed:
        names = "|".join(re.escape(n) for n in sorted(closed, key=len, reverse=True))
        out = re.sub(rf"\[/?(?:{names})\]", " ", out, flags=re.IGNORECASE)
    return out


def _shortcode(texts: pa.Array, cfg, context) -> pa.Array:
    rows = np.flatnonzero(ascii_char_counts(texts, "[") > 0)
    if rows.size == 0:
        return texts
    rows = rows[search(texts.take(pa.array(rows)), SHORTCODE)]
    if rows.size == 0:
        return texts
    touched = context.get("touched")
    out = with_rows_mapped(texts, rows, strip_shortcodes, touched)
    # the spaces the tags leave are part of this repair, not of `whitespace`
    stripped = np.zeros(len(texts), dtype=bool)
    stripped[rows] = True
    return on_rows(out, pa.array(stripped), _clean_whitespace, touched)


# ---------------------------------------------------------------- mojibake


# UTF-8 of Latin Extended-A (Turkish, Polish, Czech ... letters: lead bytes C4, C5) read as Windows-1252:
# "Ä" or "Å" and a character of a continuation byte ("BoÄŸaz" was "Boğaz", "Å‚" was "ł"). ftfy leaves
# one such pair in a short text as it is (too little evidence for its heuristics).
LATIN_EXTENDED_MISREAD = (
    "[\u00c4\u00c5][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014"
    "\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)
_LATIN_EXTENDED_MISREAD_RE = re.compile(LATIN_EXTENDED_MISREAD)


# UTF-8 Cyrillic read as Windows-1251: every letter's lead byte (0xD0, 0xD1) reads "Р" or "С", and
# its second byte one of these ("РџСЂРёРІРµС‚"; ftfy leaves such text as it is). Literal characters,
# so that Python's `re` and RE2 read the class alike (`filters.text_rules` counts it for mojibake).
CYRILLIC_MISREAD = (
    "[РС][\u0402\u0403\u0453\u0409\u040a\u040c\u040b\u040f\u0452\u0459\u045a\u045c\u045b\u045f\u040e"
    "\u045e\u0408\u0490\u0401\u0404\u0407\u0406\u0456\u0491\u0451\u0454\u0458\u0405\u0455\u0457\u2116"
    "\u00a0-\u00bf\u2018-\u201e\u2020-\u2022\u2026\u2030\u20ac\u2122]"
)
_CYRILLIC_MISREAD_RE = re.compile(CYRILLIC_MISREAD)


def undo_windows_1251(text: str) -> str:
    """`text` read back as the UTF-8 whose Windows-1251 reading it is, when it is one (two misread
    Cyrillic letters, `CYRILLIC_MISREAD`, at least; every character has a Windows-1251 byte and those
    bytes are valid UTF-8); else `text`."""
    if len(_CYRILLIC_MISREAD_RE.findall(text)) < 2:
        return text
    try:
        return text.encode("cp1251").decode("utf-8")
    except UnicodeError:
        return text


def undo_windows_1252(text: str) -> str:
    """`text` read back as the UTF-8 whose Windows-1252 reading it is, when it is one (every
    character has a Windows-1252 byte and those bytes are valid UTF-8); else `text`."""
    try:
        return text.encode("cp1252").decode("utf-8")
    except UnicodeError:
        return text


def _mojibake(texts: pa.Array, cfg, context) -> pa.Array:
    rows = _candidates(texts, suspect_pattern(), maybe_non_ascii(texts, context))
    if rows.size == 0:
        return texts
    before = texts.take(pa.array(rows)).to_pylist()
    # "â€" + U+FFFD: a right double quote (E2 80 9D) whose last byte, undefined in Windows-1252, was
    # lost; put the byte back so that ftfy can undo the rest
    after = fix_encoding([t.replace("â€\ufffd", "â€\x9d") if "â€\ufffd" in t else t for t in before])
    after = [undo_windows_1252(a) if a == b and _LATIN_EXTENDED_MISREAD_RE.search(a) else
             undo_windows_1251(a) if a == b and ("Р" in a or "С" in a) else a for a, b in zip(after, before)]
    changed = np.fromiter((a != b for a, b in zip(after, before)), dtype=bool, count=len(before))
    if not changed.any():
        return texts
    fixed = np.zeros(len(texts), dtype=bool)
    fixed[rows[changed]] = True
    return with_values(texts, fixed, pa.array([a for a, c in zip(after, changed) if c], texts.type),
                       context.get("touched"))


# ---------------------------------------------------------------- whitespace

_LINE_BREAK = r"\r\n?|[\x{85}\x{2028}\x{2029}]"
# C0/C1 controls (but tab, LF, VT, FF, CR, NEL) and invisible format characters. ZWJ/ZWNJ stay
# where they may join something (`_STRAY_JOINERS`): emoji sequences and several scripts need them.
_CONTROL = (
    r"[\x00-\x08\x0E-\x1F\x7F-\x84\x86-\x9F\x{AD}\x{200B}\x{2060}\x{FEFF}\x{202A}-\x{202E}\x{2066}-\x{2069}"
    r"\x{180E}\x{200E}\x{200F}]"
)
_HSPACE = r"[\t\x0B\x0C\p{Zs}]"
# Every \p{Zs} but the ASCII space, plus tab, VT and FF.
_ODD_SPACE = r"[\t\x0B\x0C\x{A0}\x{1680}\x{2000}-\x{200A}\x{202F}\x{205F}\x{3000}]"
# ZWJ/ZWNJ next to a Latin, Cyrillic, Greek, Han, Kana or Hangul character (or at an end) join nothing:
# the scripts and emoji sequences that need them (Arabic, Persian, the Indic scripts) are none of these.
_STRAY_JOINER = r"[\x{200C}\x{200D}]"
_JOINS_NOTHING = r"[\x00-\x7F\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}\p{Cyrillic}\p{Greek}\p{Latin}]"
_STRAY_JOINERS = (rf"{_JOINS_NOTHING}{_STRAY_JOINER}|{_STRAY_JOINER}{_JOINS_NOTHING}|^{_STRAY_JOINER}|{_STRAY_JOINER}$")
# Their runs, removed in one pass (the neighbour is kept: group 1 or 2, the other is empty).
_STRAY_JOINER_RUNS = (rf"^{_STRAY_JOINER}+|{_STRAY_JOINER}+$|({_JOINS_NOTHING}){_STRAY_JOINER}+|"
                      rf"{_STRAY_JOINER}+({_JOINS_NOTHING})")
# A line break (or a blank line) inside a sentence (not after a sentence end) before a small ASCII
# letter or a digit.
_WRAPPED_LINE = r"([^\s.!?:;。！？：；])\n\n?([a-z0-9])"
# A row needs the whitespace/control pass when it has any of these.
_NEEDS_CLEANUP = "|".join((_CONTROL, _LINE_BREAK, _ODD_SPACE, _STRAY_JOINERS, "  ", " \n", "\n ", "\n\n\n", r"^\s",
                           r"\s$", _WRAPPED_LINE))


def _clean_whitespace(texts: pa.Array) -> pa.Array:
    texts = pc.replace_substring_regex(texts, _LINE_BREAK, "\n")
    texts = pc.replace_substring_regex(texts, _CONTROL, "")
    texts = pc.replace_substring_regex(texts, _STRAY_JOINER_RUNS, r"\1\2")
    texts = pc.replace_substring_regex(texts, _HSPACE + "+", " ")
    # Spaces around line breaks go; runs of blank lines shrink to one blank line.
    texts = pc.replace_substring_regex(texts, r" *(\n) *(?:(\n)[ \n]*)?", r"\1\2")
    # A line that goes on in small letters or digits after a break inside a sentence was wrapped by
    # the page ("A bowl of\nfresh cherries", "<p>Kids on a beach</p><p>at low tide</p>"): the break
    # (or blank line) becomes a space. Twice: a match takes the character after its break, which may
    # come right before the next break.
    for _ in range(2):
        texts = pc.replace_substring_regex(texts, _WRAPPED_LINE, r"\1 \2")
    return pc.utf8_trim_whitespace(texts)


def _whitespace(texts: pa.Array, cfg, context) -> pa.Array:
    touched = context.get("touched")
    texts = on_rows(texts, pc.match_substring_regex(texts, _NEEDS_CLEANUP), _clean_whitespace, touched)
    # NFC last: removing a control character can bring a letter and its combining mark together.
    return on_rows(texts, pa.array(maybe_non_ascii(texts, context)), lambda t: pc.utf8_normalize(t, "NFC"), touched)


# ---------------------------------------------------------------- traditional -> simplified Chinese

_CONVERTERS: dict[str, object] = {}
_CONVERTER_LOCK = threading.Lock()


def opencc_converter(conversion: str):
    """An OpenCC converter (`t2s`, `tw2s`, ...), made once per process."""
    with _CONVERTER_LOCK:
        if conversion not in _CONVERTERS:
            try:
                import opencc
            except ImportError as err:
                raise ImportError("filters.clean.zh_t2s needs the `opencc` package: pip install opencc") from err
            _CONVERTERS[conversion] = opencc.OpenCC(f"{conversion}.json")
    return _CONVERTERS[conversion]


def _zh_t2s(texts: pa.Array, cfg, context) -> pa.Array:
    sources = context.get("sources")
    rows = np.flatnonzero(_np(pc.match_substring_regex(texts, r"\p{Han}")))
    if "*" not in cfg.sources:
        if sources is None:
            return texts
        in_sources = _np(pc.is_in(sources, value_set=pa.array(list(cfg.sources), pa.string())))
        rows = rows[in_sources[rows]]
    if rows.size == 0:
        return texts
    return with_rows_mapped(texts, rows, opencc_converter(cfg.conversion).convert, context.get("touched"))


# ---------------------------------------------------------------- site-name suffixes

_SUFFIX_SEPARATOR = r"[|｜¦\-–—:·•~/\\»>_]"
# stock agencies whose name ends a caption with nothing before it ("... in the grass Getty Images")
_BARE_SITE_NAMES = (r"(?:getty\s+images|gettyimages|shutterstock|istockphoto|alamy\s+stock\s+photo|dreamstime\.com|depositphotos"
                    r"|(?:download\s+)?(?:premium|free)\s+(?:photo|vector))")
# a site's domain after its name: "Chefkoch.de", "Lazada.co.th", "Amazon.com" (not a file's extension)
_DOMAIN = (r"(?:\.(?:com?\.)?(?:com|net|org|info|io|de|fr|es|it|pl|cz|sk|ru|ua|by|kz|tr|nl|be|se|no|dk|fi|pt|br|"
           r"mx|ar|cl|pe|co|jp|kr|cn|tw|hk|vn|th|id|my|sg|ph|in|au|nz|uk|us|ca|at|ch|ie|gr|hu|ro|bg|rs|hr|si|lt|lv|ee|"
           r"il|ae|sa|eg|ma|za))?")
# the kind of asset a stock site's title names before the site's own name
_ASSET = (r"(?:(?:photo|image|picture|footage|vector|illustration|png)s?|fotos?|фото|фотография|bild|imagen"
          r"|immagine|zdjęcie|fotoğraf|图片|照片|写真|사진|ảnh|高清图片|高清圖片|免费图片|素材)")
# a site's country edition after its name ("| Etsy UK")
_COUNTRY = r"(?:\s+(?:uk|us|usa|de|fr|it|es|nl|au|ca|in|jp|br|mx))?"
_SUFFIX_SEPARATOR_RARE = r"[｜¦–—:·•~/\\»>]"
_SUFFIX_SEPARATOR_ASCII = "-|:~/\\>_"  # the ASCII characters of both


def _names(suffixes: tuple[str, ...]) -> str:
    """The suffixes as one RE2 alternation, longest first, any run of spaces where one is written."""
    return "|".join(re.escape(s).replace(r"\ ", r"\s+") for s in sorted(suffixes, key=len, reverse=True))


def _site_name(suffixes: tuple[str, ...]) -> str:
    """One or more site names in a row (with ".com", a country edition, an id after them)."""
    one = rf"(?:www\.)?(?:{_names(suffixes)}){_DOMAIN}{_COUNTRY}"
    return rf"{one}(?:\s+{one})*(?:\s+(?:id\s*)?#?\d{{3,}})?"


@lru_cache(maxsize=8)
def site_suffix_pattern(suffixes: tuple[str, ...]) -> str:
    name = _site_name(suffixes)
    # a stock-site listing title puts the kind of asset before the site: "... Stock Photo - Alamy",
    # "... · Free Stock Photo - Pexels", "... | Free Photo - Unsplash", "... — Фото - Depositphotos"
    # iStock's titles add "Download Image Now" and keywords ("... Stock Photo - Download Image Now -
    # Animal, Autumn, Hedgehog - iStock") or, in German, Spanish and Italian, "and more pictures of
    # ..." ("... Stockfoto und mehr Bilder von Bayern - iStock"); "Foto stock" is the Italian order
    more = (r"(?:\s+(?:und mehr bilder von|y más banco de imágenes de|e altre immagini di|et plus d'images de"
            r"|and more pictures of)\s+[^|｜–—]{1,120}"
            r"|\s*[-|–—]\s*(?:download image now|jetzt herunterladen|descargar imagen ahora|scarica subito l'immagine"
            r"|télécharger l'image maintenant)(?:\s*[-|–—]\s*[^|｜–—]{1,200}?)?)?")
    kind = (rf"(?:\s+(?:(?:royalty[- ]free\s+)?stock\s+{_ASSET}|stock(?:foto|bild)|(?:foto|photo|immagine|imagen)\s+"
            rf"(?:de\s+)?stock){more}"
            rf"|\s*{_SUFFIX_SEPARATOR}+\s*(?:(?:royalty[- ]free|free)\s+)?(?:stock\s+)?{_ASSET})?")
    # a name after a separator, after "by" or "via" ("... by iStock"), or in brackets ("... (Getty Images)")
    # ... and a stock agency's name needs nothing before it ("... chewing a stick in the grass Getty Images")
    one = (rf"(?:\s*{_SUFFIX_SEPARATOR}+\s*{name}|\s+(?:by|via)\s+{name}|\s*[(\[]\s*{name}\s*[)\]]"
           rf"|[,;]?\s+{_BARE_SITE_NAMES})")
    return rf"(?i){kind}(?:{one}\s*[.!]?)+\s*$|^\s*{name}\s*$"


@lru_cache(maxsize=8)
def site_prefix_pattern(suffixes: tuple[str, ...]) -> str:
    """A site name that opens the text, set off by a separator and a space: "Alamy - Old stone
    bridge", "Stock Photo - A farmer", "Photo: A dog" ("Flickr-style filters" keeps its name)."""
    return rf"(?i)^\s*{_site_name(suffixes)}\s*{_SUFFIX_SEPARATOR}+\s+"


@lru_cache(maxsize=8)
def site_name_start(suffixes: tuple[str, ...]) -> str:
    """A site name at the start of a text or of a line in it, after optional spaces: wider than
    `site_suffix_start` (and far cheaper), the screen of `may_need_repair`. (Not "^\\s*": Hyperscan's
    line-start scan with it missed " istock" on the line after "|클립아트코리아 12345".)"""
    return rf"(?:^|\n)[ \t\r\f\v]*(?i:{_names(suffixes)})"


@lru_cache(maxsize=8)
def site_suffix_start(suffixes: tuple[str, ...]) -> str:
    """How every text that is a site name alone (the second alternative of `site_suffix_pattern`,
    of any length: names repeat, and may carry an id), or that opens with one
    (`site_prefix_pattern`), starts: names, then the end or a separator. RE2 runs it anchored at
    the start, where it fails on the first letters of nearly every caption ("Photo of a dog" too)."""
    return rf"(?i)^\s*{_site_name(suffixes)}\s*(?:$|{_SUFFIX_SEPARATOR})"


@lru_cache(maxsize=8)
def site_suffix_ending(suffixes: tuple[str, ...]) -> str:
    """How every text that `site_suffix_pattern` matches ends: the last word of a suffix (its
    other words are split off at spaces, as that pattern splits them), then what may follow a
    name. This pattern, anchored at the end and searched with `search` (compiled once per process),
    picks the rows worth the large pattern (whose build costs more than the rows do) at little cost."""
    last = "|".join(sorted({re.escape(s.split(" ")[-1]) for s in suffixes}))
    return rf"(?i)(?:{last}){_DOMAIN}{_COUNTRY}(?:\s+(?:id\s*)?#?\d{{3,}})?\s*[)\]]?\s*[.!]?\s*$"


# a name after "by" or "via", or in brackets, may end a text with no separator in it (about 2 ms per
# 10,000 captions: a byte screen for brackets and " by " before it costs more)
_SUFFIX_WITHOUT_SEPARATOR = (r"(?i)(?:\s(?:by|via)\s+\S+(?:\s+\S+){0,3}|[(\[][^()\[\]]{1,60}[)\]]|\s"
                             rf"{_BARE_SITE_NAMES})\s*[.!]?\s*$")


# A news agency's photo credit after the caption: "... on March 3. Photo: Jane Doe/AFP via Getty
# Images", "... (AP Photo/Evan Vucci)", "... Credit: John Smith/Reuters".
_CREDIT = (
    rf"(?i)\s*(?:©\s*)?[(\[]?\s*(?:(?:photo|image|picture|foto|photograph)s?(?: credit)?|credit)\s*(?::|by|©|\s)\s*[^():;/]{{2,60}}?"
    rf"\s*/\s*{NEWS_AGENCIES}(?:\s+(?:via\s+)?getty images)?\s*[)\]]?\s*$"
    rf"|(?i)\s*[(\[]\s*{NEWS_AGENCIES} photo\s*/\s*[^()\[\]]{{2,60}}[)\]]\s*$"
)
# A credit after a sentence ends, kept with its full stop (one with "/", ":", ")" or "©" in it):
# "... March 3, 2021. REUTERS/Jane Holt",
# "... in Madrid. (EFE/Luis Moreno)", "... le 12 mars. (Photo AFP)", "... of Mars. Image: NASA/JPL-Caltech",
# "... at dawn. Photo credit: Tom Becker", "... the river. © Anna Kowalska", "... straganie. Fot. Adam Nowak /
# Agencja Wyborcza.pl" (a name: it starts with a
# capital or a digit, "Photo: the entrance at night" is a caption); and a stock listing's
# keywords and id after its title: "... raspberries Stock Image - Image of dessert, sweet: 118834527".
_CREDIT_WORDS = (r"(?:(?:photo(?:graph)?|image|picture|foto|bild|beeld|imagen|immagine|zdjęcie|фото)s?(?: credits?)?|credits?|"
                 r"crédits? photo|photo credits?|image courtesy|courtesy(?: of)?|source|photographer|photographe|fotograf|"
                 r"fotógraf[oa]|fotograf[oa]|fotografi[ae]|fotografía|фотограф|zdroj|źródło|quelle|fuente|fonte|bron|"
                 r"источник|джерело|kaynak|källa|sumber|nguồn)")
_CREDIT_AFTER_SENTENCE = (
    rf"(?i)([.!?])\s+[(\[]?\s*(?:(?:(?:photo|foto)\s*:?\s+|fot\.\s*)?{NEWS_AGENCIES}(?:\s+(?:photo|foto))?(?:\s*/\s*[^()\[\]/.!?]{{2,60}})?"
    rf"|(?:{_CREDIT_WORDS}\s*(?::|©)|fot\.|©|\(c\)|copyright)\s*(?-i:[\p{{Lu}}\d])(?:[^()\[\].!?]|\.[a-z]{{2,4}}\b){{1,50}}"
    r")\s*[)\]]?\s*$"
    rf"|(?i)()\s+stock (?:photo|image|picture|illustration|vector)s?\s*[-|–]\s*image of [^:]{{1,120}}:\s*\d{{4,}}\s*$"
    # a Korean or Japanese newspaper's credit after the sentence ("... 있다. /사진=김민수 기자")
    r"|()\s+(?:/\s*(?:사진|写真|撮影|图片)\s*[=:：]|(?:사진|写真|撮影|图片)\s*=)\s*[^()\[\].!?/=:：]+$"
    # a Chinese reporter's after it ("...参观。新华社记者 王磊 摄")
    r"|()(?:新华社|中新社|新華社)?记者\s*[\p{Han}·\s]{1,10}?\s*摄\s*$"
)
# ... and a Chinese or Japanese photographer's after a full stop ("...拍照留念。摄影：王伟"); the stop is kept
_CJK_CREDIT_AFTER_SENTENCE = (r"([。！？])\s*(?:摄影|攝影|撮影|写真|图片来源|圖片來源|图文|圖文|图|圖)\s*[:：/／]\s*[^()\[\]（）。！？:：]{1,20}$"
                              # a Japanese paper's agency after "＝" ("雪の中を走る新幹線＝ロイター")
                              r"|()\s*[＝=]\s*(?:ロイター|共同|時事|AFP時事|EPA時事|AP|新華社|聯合|ゲッティ|共同通信)\s*$")


# A photographer's credit ending a caption with no sentence end before it, set off by a strong mark:
# "... on a slate board © John Smith", "... in Lisbon | Photo © Pedro Alves", "... at dawn (c) 2019
# Mark Ellis Photography", "... of Bali (Photo credit: Made Wirawan)", "... the coast — photo by
# @greenwaves", "... under the Milky Way. Photo by Jane Doe on Unsplash", "... appena sfornata.
# Foto di Marco Rossi", "Morskie Oko latem | Fot. Shutterstock", "... a sea cave. Photograph: Tom
# Jamieson/The Guardian", "东京タワーの夜景 撮影：山田太郎", "... تصوير: أحمد علي". The name: one to four
# words with capitals (two at least after a mark that a caption may also end with, "foto de"), a
# handle, or Han, Kana, Hangul or Arabic letters; the caption's last character is kept (group 1).
_CAPITALISED = r"(?-i:[\p{Lu}\d][\p{L}\p{M}'’.\-]*)"
_CREDIT_NAME = (rf"(?:{NEWS_AGENCIES}\b|(?:privat|private|supplied|handout|archiv|archive|zvg|archivo|arquivo|divulgação"
                rf"|reprodução)\b|{_CAPITALISED}(?:\s+(?:{_CAPITALISED}|de|da|van|von|der|di|del|la|le|bin|al-?\S*|&)){{0,4}}"
                r"|@[\w.]{2,30}|[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}]{2,8}|\p{Arabic}+(?:\s+\p{Arabic}+){0,3}"
                r"|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,6})")
_CREDIT_TWO_NAMES = rf"(?:{_CAPITALISED}(?:\s+(?:{_CAPITALISED}|de|da|van|von|der|di|del)){{1,4}}|@[\w.]{{2,30}})"
_CREDIT_MARK = (r"(?:(?:photo(?:graph)?(?:y|s)?|image|picture)\s*(?:by|credits?\s*:|©|:\s*©|courtesy\s+of(?:\s+the)?)|photographed by|credits?\s*:|(?:photography|photograph|photo"
                r"|foto|picture|image)\s*:|ph\."
                r"|©|\(c\)|copyright|crédits? photo\s*:|fot\.|bild\s*:|beeld\s*:|fotoğraf\s*:|ảnh\s*:|фото\s*:|📷|📸"
                r"|(?:撮影|摄影|攝影|写真|图片来源|圖片來源|사진)\s*[:：=/]|(?:تصوير|صورة)\s*:)")
_CREDIT_WEAK_MARK = r"(?:foto(?:s|grafía|grafia)?\s+(?:di|de|von|van|par|by)|photo\s+(?:de|par))"
# the photo site a credit names, in the allowed languages ("... on Unsplash", "Foto di ... su Unsplash")
_ON_PHOTO_SITE = r"(?:\s+(?:on|su|auf|sur|en|em|op|na|på|di|trên|на|в)\s+(?:unsplash|pexels|pixabay|flickr|instagram|freepik))?"
_CREDIT_TAIL = (
    rf"(?i)([^\s|｜¦–—·•(\[（,;©-])(?:\s*[|｜¦–—·•,;-]\s*[(\[（]?|\s+[(\[（]?|\s*[（(])\s*"
    rf"(?:{_CREDIT_MARK}\s*(?:©\s*)?(?:\d{{4}}\s+)?{_CREDIT_NAME}|{_CREDIT_WEAK_MARK}\s+{_CREDIT_TWO_NAMES})"
    r"(?:\s*/\s*[^()\[\]/.!?]{2,40})?" + _ON_PHOTO_SITE +
    # the outlet it was taken for, and the rights ("... Photograph: Ana Lindqvist for The Guardian",
    # "... ©2019 David Mwangi Photography, all rights reserved")
    rf"(?:\s+for\s+(?:the\s+)?{_CAPITALISED}(?:\s+{_CAPITALISED}){{0,3}})?(?:,?\s+\d{{4}})?(?:\s*[(（][^()（）]{{1,30}}[)）])?"
    r"(?:\s*[,.]?\s*all rights reserved\.?)?"
    r"\s*[)\]）]?\s*$"
)
# a credit in brackets that ends or opens a caption: "... (Image: RSPB/Ben Andrew)", "... (foto ANSA/Ciro
# Fusco)", "... (ภาพ: สมชาย ใจดี)", "(Photo by Emily Carter) A heron ...", "(Foto: EFE/Juan Carlos Hidalgo) ..."
_BRACKETED_CREDIT = (r"(?:[(\[（]\s*(?:(?:photo(?:graph)?s?|foto|image|bild|picture|credits?|crédits?)(?:\s+by|\s+credit)?\b|fot\."
                     r"|фото|ภาพ|사진|写真|撮影|摄影|攝影|图片|圖片|©)\s*[:：=・]?\s*[^()\[\]（）]{1,60}[)\]）]"
                     # a news agency's ("(AFP via Getty Images)"), a Chinese reporter's ("（新华社记者 李明 摄）")
                     rf"|[(\[]\s*{NEWS_AGENCIES}(?:\s+(?:photo|foto))?(?:\s*/\s*[^()\[\]]{{1,40}}|\s+via\s+getty images)?\s*[)\]]"
                     r"|[（(][^()（）]{1,20}摄[）)]|[（(](?:共同|時事|ロイター|AFP時事|EPA時事|新华社|新華社|연합뉴스)[）)]"
                     # "（图/视觉中国）"; an Arabic or a Russian agency ("(رويترز)", "(ТАСС)")
                     r"|[（(](?:图|圖)\s*[/／:：]\s*[^()（）]{1,20}[）)]|[(\[](?:رويترز|فرانس برس|أ ?ف ?ب|الأناضول|أسوشيتد برس|وام|واس|"
                     r"тасс|риа новости|интерфакс|укрінформ|уніан)(?:\s*/\s*[^()\[\]]{1,30})?[)\]])")
_BRACKETED_CREDIT_TAIL = rf"(?i)([^\s(\[（])\s*{_BRACKETED_CREDIT}\s*\.?\s*$"
# a credit line opening a caption with no separator after it but its agency or site: "Fot. Jakub
# Kamiński/PAP Rolnicy blokują ...", "Foto: Reprodução/Instagram Ponte estaiada ...", "사진=연합뉴스 서울 ..."
_AGENCY_HEAD = (rf"(?i)^\s*(?:{_BRACKETED_CREDIT}\s+|[（(](?:图|圖|摄影|攝影|写真)\s*[/／:：][^()（）]{{1,20}}[)）]\s*"
                rf"|(?:fot\.|foto\s*:|photo\s*:|фото\s*:)\s*[^/()]{{2,40}}/\s*"
                rf"(?:{NEWS_AGENCIES}|тасс|риа новости|интерфакс|коммерсантъ|укрінформ|уніан|instagram|facebook|twitter|reprodução"
                rf"|divulgação|arquivo)\s+|사진\s*=\s*\S+\s+"
                # a space agency's credit ("NASA/JPL-Caltech: Artist's concept of ...")
                r"|(?:nasa|esa|eso|noaa|jaxa|usgs)(?:\s*/\s*[\w.-]+){0,3}\s*:\s+"
                # a Korean agency's dateline ("(서울=연합뉴스) 김도훈 기자 = ...")
                r"|[(（][^()（）=]{1,10}=(?:연합뉴스|뉴스1|뉴시스)[)）]\s*(?:\S{2,4}\s*(?:기자|특파원)\s*=\s*)?"
                rf"|(?:foto|photo|bild|фото)\s*:\s*{NEWS_AGENCIES}\s*/\s*[^./|()]{{2,40}}\.\s+"
                r"|(?:撮影|摄影|攝影|写真)\s*[:：]\s*\S{1,8}\s+)")
# every text the tail and head patterns match holds one of these
_CREDIT_MARKS = (rf"(?i){_CREDIT_MARK}|{_CREDIT_WEAK_MARK}|(?:photo(?:graph)?|image|picture|foto)\s+(?:by|di|de|von|van)\s"
                 r"|^\s*(?:photo|foto|bild|image|picture|credits?)\s*:|^\s*(?:nasa|esa|eso|noaa|jaxa|usgs)\s*[/:]|[(\[（]\s*(?:photo|foto|fot\.|image|bild|picture|фото|ภาพ|사진|写真|撮影|摄影|攝影|图片|圖片"
                 rf"|credit|crédit|©)|摄[）)]|[(\[]\s*{NEWS_AGENCIES}\b|[（(](?:共同|時事|ロイター|新华社|新華社|연합뉴스)|^\s*사진\s*=|"
                 r"[（(](?:图|圖)\s*[/／:：]|[(\[](?:رويترز|فرانس برس|أ ?ف ?ب|الأناضول|أسوشيتد برس|وام|واس|тасс|риа новости|интерфакс|"
                 r"укрінформ|уніан)|=(?:연합뉴스|뉴스1|뉴시스)[)）]|^\s*(?:撮影|摄影|攝影|写真)\s*[:：]|^\s*(?:(?:photo|image|picture)\s+)?courtesy\s")
# ... or opening it: "Photo by Priya Nair: Two friends sharing earbuds on a city bus"
_CREDIT_HEAD = (rf"(?i)^\s*(?:(?:(?:instagram|flickr|unsplash|pexels|facebook|twitter|tiktok)\s+)?(?:photo(?:graph)?|image|picture|foto)\s+(?:by|di|de|von|van)\s+{_CREDIT_TWO_NAMES}"
                rf"|(?:{_CREDIT_MARK}|(?:photo|foto|bild|image|credits?)\s*:)\s*{_CREDIT_NAME}"
                # "Courtesy of the National Archives: Women workers ..."
                rf"|(?:(?:photo|image|picture)\s+)?courtesy\s+of\s+(?:the\s+)?{_CAPITALISED}(?:\s+(?:{_CAPITALISED}|of|and|&)){{0,5}})"
                rf"(?:\s*[/,]\s*[^./|()–—,]{{2,40}}|\s+for\s+(?:the\s+)?{_CAPITALISED}(?:\s+{_CAPITALISED}){{0,3}})?"
                rf"{_ON_PHOTO_SITE}\s*[.:|｜–—/-]\s+")


# ... and a credit "courtesy of" someone, a stock site's label or an image's id as a sentence of its own
# ("... development. Image courtesy of Dr. Lena Park, University of Oslo", "... windows. High quality
# stock photo, free for commercial use", "... students. Photo #8842193 by photoguy88"), apart: in one
# pattern with the credits above, Hyperscan finds it too large
_COURTESY_AFTER_SENTENCE = (r"(?i)([.!?])\s+(?:(?:photo|image|picture)s?\s+)?courtesy of\s+(?:(?:dr|prof|mr|mrs|ms)\.\s*)?"
                            r"(?:(?:the\s+)?(?-i:[\p{Lu}\d])[^()\[\].!?]+|the (?:[a-z]+ )?(?:author|artist|photographer|owner|family|"
                            r"museum|archive|library|estate|seller|agent|publisher|company|manufacturer|brand|band|label|studio|gallery|"
                            r"organi[sz]ers?|council|department|university|school|club|team|hotel|park|city))\.?\s*$")
# ... and a photographer's "for" a paper ("... in Newark. Lena Fischer for The New York Times")
_OUTLET_WORDS = (r"(?:Times|Post|Journal|Guardian|News|Herald|Tribune|Magazine|Observer|Telegraph|Independent|Globe|Chronicle"
                 r"|Gazette|Review|Press|Today|Bloomberg|Reuters|Insider|Atlantic|Economist|Mail)")
_FOR_OUTLET_AFTER_SENTENCE = (rf"([.!?])\s+{_CAPITALISED}(?:\s+{_CAPITALISED}){{1,3}}\s+for\s+(?:the\s+)?(?:{_CAPITALISED}\s+){{0,3}}"
                              rf"(?-i:{_OUTLET_WORDS})\s*\.?\s*$")
# (the two apart: together, Hyperscan 0.7's scan misses texts RE2 matches)
_LABEL_AFTER_SENTENCE = (
    r"(?i)([.!?])\s+(?:(?:(?:high[- ]quality|free|hd|premium)\s+)?stock (?:photo|image|picture)s?(?:\s*[,.–-]\s*free for "
    r"(?:commercial|personal) use)?\s*\.?|(?:photo|image|picture)\s*#?\s*\d{4,}(?:\s+by\s+\S+)?)\s*$"
)
_LABEL_WORDS = r"stock (?:photo|image|picture)|(?:photo|image|picture)\s*#?\s*\d{4,}"


def _credit(texts: pa.Array, context) -> pa.Array:
    """`texts` without a photo credit: at the end, a news agency's (`_CREDIT`, looked for in the texts
    with a "/"), one after a sentence ends (`_CREDIT_AFTER_SENTENCE`, in the texts with a "/", ":",
    ")" or a non-ASCII character), one after a strong mark (`_CREDIT_TAIL`) or in brackets
    (`_BRACKETED_CREDIT_TAIL`); at the start, one set off by a separator (`_CREDIT_HEAD`) or by its
    agency or brackets (`_AGENCY_HEAD`). The last four are judged by RE2 in the rows their marks
    (`_CREDIT_MARKS`) pick: their names make them too large for Hyperscan."""
    # a credit after a sentence (or a listing's id) holds "/", ":", ")" or a non-ASCII "©"
    # ... or ends on a news agency after "Photo" ("... Parc des Princes. Photo AFP")
    wide = maybe_non_ascii(texts, context)
    after_sentence = np.flatnonzero((ascii_char_counts(texts, "/:)") > 0) | wide | _np(
        pc.match_substring_regex(texts, rf"(?i)(?:photo|foto)\s+{NEWS_AGENCIES}\s*$")))
    cjk = np.flatnonzero(wide)
    labelled = np.flatnonzero(_np(pc.match_substring_regex(texts, _LABEL_WORDS, ignore_case=True)))
    courtesy = np.flatnonzero(_np(pc.match_substring(texts, "courtesy of", ignore_case=True)))
    for pattern, rows in ((_CREDIT, np.flatnonzero(ascii_char_counts(texts, "/") > 0)),
                          (_CREDIT_AFTER_SENTENCE, after_sentence), (_CJK_CREDIT_AFTER_SENTENCE, cjk),
                          (_COURTESY_AFTER_SENTENCE, courtesy),
                          (_FOR_OUTLET_AFTER_SENTENCE, np.flatnonzero(_np(pc.match_substring(texts, " for ")))),
                          (_LABEL_AFTER_SENTENCE, labelled)):
        found = np.zeros(len(texts), dtype=bool)
        if rows.size:
            found[rows[search(texts.take(pa.array(rows)), pattern)]] = True
        # (each pattern is anchored at the end: the text before its match, and the sentence end it kept)
        texts = _cut_matches(texts, found, pattern, context)
    # the name patterns are too large for Hyperscan: their marks pick the rows RE2 judges
    for pattern, after in ((_CREDIT_TAIL, False), (_BRACKETED_CREDIT_TAIL, False), (_CREDIT_HEAD, True),
                           (_AGENCY_HEAD, True)):
        texts = _cut_matches(texts, search_within(texts, _CREDIT_MARKS, pattern), pattern, context, after=after)
    return texts


def _cut_matches(texts: pa.Array, found: np.ndarray, pattern: str, context, after: bool = False,
                 trim: bool = True) -> pa.Array:
    """`texts` with the rows `found` marks cut at their match of `pattern` (`cut_at_match`: before it,
    or with `after` after it), trimmed unless `trim` is false."""
    if not found.any():
        return texts
    cut = cut_at_match(texts.filter(pa.array(found)), pattern, after=after)
    return with_values(texts, found, pc.utf8_trim_whitespace(cut) if trim else cut, context.get("touched"))


def _site_suffix(texts: pa.Array, cfg, context) -> pa.Array:
    """Photo credits (`_credit`), then site names (`site_names`), then what a stock listing or a photo
    forum leaves (`_listing_tail`)."""
    texts = _listing_tail(site_names(_credit(texts, context), cfg, context), context)
    return _cut_matches(texts, search(texts, _SITE_LIKE_SUFFIX), _SITE_LIKE_SUFFIX, context)


def site_names(texts: pa.Array, cfg, context) -> pa.Array:
    """`texts` without the site names of `cfg.suffixes` at their end (`site_suffix_pattern`) or start
    (`site_prefix_pattern`)."""
    # a suffix needs a separator (a hyphen or bar in nearly every case), "by" or "via" or brackets, or
    # the text is a site name alone; a prefix is a name at the start
    # (the names' patterns are too large for Hyperscan: a name at the start picks the rows RE2 judges)
    name_start = site_name_start(cfg.suffixes)
    start = search_within(texts, name_start, site_suffix_start(cfg.suffixes))
    possible = (ascii_char_counts(texts, _SUFFIX_SEPARATOR_ASCII) > 0) | start
    possible |= _np(pc.match_substring_regex(texts, _SUFFIX_WITHOUT_SEPARATOR))
    wide = np.flatnonzero(~possible & maybe_non_ascii(texts, context))
    if wide.size:
        possible[wide] = _np(pc.match_substring_regex(texts.take(pa.array(wide)), _SUFFIX_SEPARATOR_RARE))
    rows = np.flatnonzero(possible)
    if rows.size:
        rows = rows[search(texts.take(pa.array(rows)), site_suffix_ending(cfg.suffixes))]
    texts = _strip_suffixes(texts, rows, site_suffix_pattern(cfg.suffixes), context)
    rows = np.flatnonzero(start)
    found = np.zeros(len(texts), dtype=bool)
    if rows.size:
        found[rows[search_within(texts.take(pa.array(rows)), name_start, site_prefix_pattern(cfg.suffixes))]] = True
    return _cut_matches(texts, found, site_prefix_pattern(cfg.suffixes), context, after=True, trim=False)


# What a stock listing or a photo forum leaves after a caption once its site name is gone: the kind
# of asset with an id ("... - Stock Image - C038/4471", "... stock photo #A1B2C3", "千本鳥居 写真素材
# [48213907]"), "royalty free stock photo" alone, an image id ("(Image ID: 77120498)", "... view.
# Image 663512009.", "... ID 1092837465", a bare number of seven digits or more after a dash: "... in
# blue scrubs - 2156783321"), and a forum's tags ("... of Tuscany [OC] [4032x3024]"). The caption's
# last character is kept (group 1).
_LISTING_ID = r"(?:#\s*[a-z0-9]{4,}|№\s*\d{3,}|编号\s*\d{4,}|[(\[]?\s*(?:id\s*:?\s*)?[a-z]?\d{3,}(?:/\d+)?\s*[)\]]?)"
# "Foto de stock", "Ilustración de stock", "Vector de stock", "Imagem de stock", "Photo de stock"
_DE_STOCK = (r"(?:fotos?|photos?|fotograf[íi]as?|ilustraci[óo]n(?:es)?|ilustra[çc](?:ão|ões)|illustrations?|im[áa]gen(?:es)?"
             r"|imag(?:em|ens)|images?|vector(?:es)?|vetor(?:es)?|vecteurs?|v[íi]deos?) de stock")
# the kind of asset a listing names, in the allowed languages ("Foto de archivo", "Stockfoto")
_LISTING_KIND = (r"(?:(?:royalty[- ]free\s+)?stock photo(?:s|graphy)?,\s*images?,?\s*(?:and|&)?\s*pictures?"
                 r"(?:\s*(?:and|&)\s*royalty[- ]free\s+images?)?"
                 r"|stock photo\s*©\s*[\w.-]+(?:\s*#\s*\d{4,})?"
                 r"|(?:(?:royalty[- ]free|free|editorial)\s+)?stock\s+(?:photo(?:graph(?:y|s)?)?|image|picture|footage|vector|illustration"
                 r"|video(?:\s+(?:frame|clip|footage))?)s?|foto de archivo|stock-?foto|foto stock"
                 rf"|{_DE_STOCK}"
                 r"|photo stock|archivbild|zdjęcie stockowe|стоковое фото|stok fotoğraf|写真素材|图片素材|素材图片|free stock"
                 r"|ảnh stock|lizenzfreie bilder|banco de imagens|banco de imágenes|스톡 사진|(?:正版)?商用图片|ストックフォト|(?:正版|高清)?图片素材(?:下载)?|lizenzfreies\s+stock-?foto"
                 r"|foto grátis|foto gratis|free photo|kostenloses foto|photo gratuite|[(\[]\s*royalty[- ]free(?:\s+(?:stock\s+)?"
                 r"(?:image|photo|picture|vector|illustration))?\s*[)\]])"
                 # its licence after it ("Photo de stock libre de droits", "Stockfoto rechtenvrij", "Foto de stock gratuita")
                 r"(?:\s+(?:libre de droits|gratuita|gratuite|gratis|rechtenvrij|lizenzfrei|royalty[- ]free))?")
# an image's id, named ("Image ID: 77120498", "Bild-ID 2284710", "Image ID: JX4Y2R") or as "#1029384756"
_IMAGE_ID = (r"[(\[]?\s*(?:(?:image|photo|stock|asset|file|bild|foto|imagen|immagine|obraz|фото|ภาพ|dreamstime|shutterstock|"
             r"alamy|istock|123rf|depositphotos|pixta|getty images)\s*-?\s*"
             r"(?:(?:id|no\.?|number|nr\.?|#|№|หมายเลข)\s*[:#]?\s*(?:\d{5,}|[a-z]+\d[a-z0-9]{2,}|\d+[a-z][a-z0-9]*)|[:#]?\s*\d{6,})"
             r"|(?:id|№|หมายเลข|编号|番号)\s*[:#：]?\s*\d{5,}|#\d{7,}|\[\d{6,}\])\s*[)\]]?")
_LISTING_TAIL = (
    r"(?i)([^\s|｜¦–—·•(\[/-])(?:\s*[-|｜–—:·•,]\s*|\s+/\s+|\s+)(?:"
    rf"{_LISTING_KIND}(?:\s*[-|｜–—:·•]?\s*{_LISTING_ID})?"
    r"|royalty[- ]free\s+(?:stock\s+)?(?:photo|image|picture|footage|vector|illustration)s?"
    # a stock photographer's credit whose site was cut ("... Stock photography by monkeybiz on")
    r"|stock\s+(?:photo(?:graph(?:y|s)?)?|images?)\s+(?:by|from)\s+[^\s|]+(?:\s+on)?"
    rf"|{_IMAGE_ID}"
    r"|(?:\[\s*(?:oc|\d{3,5}\s*[x×]\s*\d{3,5})\s*\]\s*)+|r/[a-z0-9_]{2,30}"
    rf"|editorial use only\.?(?:\s*{_IMAGE_ID})?"
    r"|fiyatı,?\s*(?:yorumları|özellikleri)|gebraucht\s+kaufen|günstig kaufen|купить\s+в\s+\S+(?:\s+(?:на|в)\s+\S+)?"
    r")\s*\.?\s*$"
)
# ... after a separator only: a bare id, a licence or a resolution, a site's domain ("... - Cars.com",
# "... - Batdongsan.com.vn"), a travel site's "Picture of <place>, <town>" ("... - Picture of Hotel
# Marina, Dubrovnik", its site's name cut before)
_LISTING_AFTER_SEPARATOR = (
    r"(?i)([^\s|｜¦–—·•(\[/✓✔-])(?:(?:\s*[|｜–—,✓✔]\s*|\s+[-/]\s+)(?:\d{7,}|royalty[- ]free|high[- ]res(?:olution)?"
    r"|(?:4k|8k|uhd|full hd|hd|1080p|2160p)(?:\s+(?:uhd|resolution|quality))?"
    r"|in stock|auf lager|free (?:delivery|shipping)|kostenloser versand|versand in \d+\s*h|envío gratis|livraison gratuite"
    r"|(?:buy|shop|order) now|jetzt kaufen|add to (?:cart|basket)|in den warenkorb"
    rf"|[a-z0-9][a-z0-9-]+{_DOMAIN[:-1]})"
    r"|\s+[-|–—]\s+(?:picture of|photo de|foto de|foto di|bild von|zdjęcie|фото) [^-|–—,]+, [^-|–—,]+"
    # a stock site's label whose credit was cut ("... - stock photo by Depositphotos": "... - stock")
    r"|\s+[-|–—]\s+stock"
    # Amazon's title and category ("... : Amazon.co.uk: Toys & Games")
    r"|\s+:\s+amazon\.(?:com|co\.uk|de|fr|es|it|ca|co\.jp|in|com\.au|nl|pl|se|com\.tr|com\.br|com\.mx)\s*:\s*[^:|]+)"
    r"\s*\.?\s*$"
)
# ... or before it: "Image 58812330: Golden wheat field", "写真素材：雨の日の東京タワー"
_LISTING_HEAD = (r"(?i)^\s*(?:(?:gratis|free|kostenloses|lizenzfreies|royalty[- ]free|premium|darmowe|бесплатное)\s+)?"
                 rf"(?:(?:(?:image|photo|stock photo|foto|stockfoto|{_DE_STOCK})\s*(?:id|nummer|number|nr\.?|no\.?)?\s*[:#]?\s*\d{{5,}}"
                 r"|写真素材|图片素材|素材图片|ストックフォト|banco de imagens|banco de imágenes|фотобанк(?:\s+\S+)?|lizenzfreies (?:foto|bild)"
                 r"|kostenloses foto|free photo|foto grátis"
                 r"|foto stok|ảnh stock|스톡 사진|stock photo|stockfoto|foto de stock|photo de stock"
                 r"|fotografia (?:de )?stock|fotografía de stock|(?:foto|immagine) stock)\s*[:：|｜–—-]\s*"
                 # a stock site's kind and id before the caption, set off by a space ("PIXTA 写真素材 No.12345678 桜並木と川",
                 # "站酷海洛 正版图片 编号：1029384756 故宫角楼雪景", "ภาพสต็อก ทุ่งนา...")
                 r"|(?:(?:pixta|ピクスタ|站酷海洛|视觉中国|图虫|shutterstock|adobe stock)\s*)?(?:写真素材|图片素材|素材图片|正版图片|ストックフォト|ภาพสต็อก)"
                 r"(?:\s*(?:no\.?|编号|番号|หมายเลข)\s*[:：]?\s*\d{4,})?(?:\s*[:：|｜–—-]\s*|\s+)"
                 # a stock site's title that names the caption ("Foto de stock de Playa ...", "Photo libre de droit de Vue ...")
                 r"|(?:foto|fotografía|imagen) de stock de\s+|(?:photo|image) libre de droits? de\s+"
                 # a shop's label in lenticular brackets ("【楽天市場】北欧風 木製スツール", "【送料無料】...")
                 r"|【[^】]{1,20}】\s*)")


# A site's name that says what it is, after a separator: a title-cased name ending in a word such as
# "Blog", "News", "Times" ("... — Tasty Travels Blog", "... | NY Daily Post", "... - Local News 8",
# "... :: WildlifeDaily"), one opening with a word for recipes or news ("... | Receitas da Vovó"), or
# Han/Kana ending in "news" or "guide" ("... | 京都観光ナビ", "故宫雪景_新浪新闻"); the caption's last character is kept
_SITE_WORDS = (r"(?:blog|news|times|magazine|journal|gazette|herald|tribune|weekly|tv|wiki|recipes|daily|post|online"
               r"|правда|новости|новини|haberleri|nieuws|notizie|noticias|nachrichten|zeitung|actualités|wiadomości|zprávy"
               r"|berita)")
_SITE_LIKE_SUFFIX = (
    r"(?i)([^\s|｜¦–—·•(\[/:_-])(?:(?:\s*[|｜–—]\s*|\s+-\s+|\s*::\s*)(?:"
    rf"(?-i:[\p{{Lu}}\d])[\p{{L}}\d'’&.]*(?:\s+[\p{{L}}\d'’&.]+){{0,3}}?(?:\s|\p{{Ll}}){_SITE_WORDS}(?:\s+\d{{1,2}})?"
    r"|(?:receitas|recetas|ricette|rezepte|recettes|przepisy|recepty|resep|notícias|noticias|news)(?:\s+[\p{L}'’.]+){0,3})"
    r"|\s*[|｜_–—-]\s*[\p{Han}\p{Katakana}\p{Hiragana}ー]{1,10}(?:新闻|新聞|ニュース|ナビ|navi|ガイド|网|網|食谱|レシピ))\s*$"
)
# a licence word left alone at the end once a site's name after a bare hyphen went ("... office. Royalty-free
# stock image" loses "-free stock image" to the site names first)
# ... and "Stock" after a sentence, its credit cut ("... at sunrise. Stock photo by Rawpixel")
_DANGLING_LICENCE = r"(?i)(?:([.!?])\s+(?:royalty|lizenzfreies?|stock)|(?:\s+[-|–—]\s+|\s+)(?:royalty|lizenzfreies?))\s*$"
# ... and a Chinese or Japanese stock label joined to the caption, with its id ("...笔记本电脑图片素材-编号30582147")
_CJK_LISTING_TAIL = (r"()(?:高清|正版)?(?:图片素材|写真素材|素材图片|图片下载|正版图片)(?:\s*[-_|｜–—:：]?\s*(?:编号|番号|no\.?)?\s*[:：]?"
                     r"\s*\d{4,})?\s*$")
# a listing's label and nothing else ("Ilustración de stock 401928", "Stock Image - C038/4471"): cut whole,
# before the tail patterns would cut its id and leave a word ("Ilustración de")
_LISTING_ONLY = rf"(?i)^\s*{_LISTING_KIND}\s*[-|｜–—:·•]?\s*(?:{_LISTING_ID})?\s*\.?\s*$"
LISTING_ROUNDS = 3  # a listing may leave several such parts in a row ("... Stock photo 5539201, royalty free, high resolution")


def _listing_tail(texts: pa.Array, context) -> pa.Array:
    """`texts` without what a stock listing or a photo forum leaves at the end (`_LISTING_TAIL`,
    `_LISTING_AFTER_SEPARATOR`: again in the rows cut, up to `LISTING_ROUNDS` times) or start
    (`_LISTING_HEAD`)."""
    texts = _cut_matches(texts, search(texts, _LISTING_ONLY), _LISTING_ONLY, context, after=True)
    rows = np.arange(len(texts))
    for _ in range(LISTING_ROUNDS):
        cut = np.zeros(len(texts), dtype=bool)
        for pattern in (_LISTING_AFTER_SEPARATOR, _LISTING_TAIL, _CJK_LISTING_TAIL):
            found = np.zeros(len(texts), dtype=bool)
            if rows.size:
                found[rows[search(texts.take(pa.array(rows)) if rows.size < len(texts) else texts, pattern)]] = True
            texts = _cut_matches(texts, found, pattern, context)
            cut |= found
        rows = np.flatnonzero(cut)
        if not rows.size:
            break
    texts = _cut_matches(texts, search(texts, _DANGLING_LICENCE), _DANGLING_LICENCE, context)
    return _cut_matches(texts, search(texts, _LISTING_HEAD), _LISTING_HEAD, context, after=True)


def _strip_suffixes(texts: pa.Array, rows: np.ndarray, pattern: str, context) -> pa.Array:
    """`texts` with the match of the site-suffix `pattern` cut off the end of those of `rows` it matches."""
    if rows.size == 0:
        return texts
    # every match holds a name, so a row changes exactly when the pattern matches it; and every match
    # runs to the end of the text (both alternatives end in `$`), so a row holds one match at most and
    # stripping it keeps the bytes before the leftmost match's start: one RE2 search (which compiles
    # this large pattern for less than a replacement does) both finds and places the suffixes
    start = first_match_starts(texts.take(pa.array(rows)), pattern)
    changed = start >= 0
    if not changed.any():
        return texts
    rows, start = rows[changed], start[changed]
    data, offsets = utf8_bytes(texts)
    kept = [data[i : i + n].tobytes() for i, n in zip(offsets[rows].tolist(), start.tolist())]
    after = pa.array(kept, pa.binary()).cast(texts.type)
    hit = np.zeros(len(texts), dtype=bool)
    hit[rows] = True
    return with_values(texts, hit, pc.utf8_trim_whitespace(after), context.get("touched"))


# ---------------------------------------------------------------- the step

_FUNCTIONS = {"html": _html, "shortcode": _shortcode, "mojibake": _mojibake, "whitespace": _whitespace,
              "zh_t2s": _zh_t2s, "site_suffix": _site_suffix}


@dataclass(frozen=True)
class Repaired:
    text: pa.Array  # repaired texts (valid UTF-8; nulls stay null)
    changed: dict[str, np.ndarray]  # repair name -> rows it changed


def _ascii_class(chars: str) -> str:
    return "".join(c if c.isalnum() else "\\" + c for c in chars)


# A text no repair can change matches none of these: every repair looks only at rows with a
# character outside printable ASCII (controls, line breaks, odd spaces, mojibake, Han), with "<" or
# "&" (`html`), "[" (`shortcode`), two spaces in a row or a space at either end (`whitespace`), or
# with a separator character or a site name at the start (`site_suffix`, which only judges those rows,
# and the rows that end in a name after "by" or "via" or in brackets: `_SUFFIX_WITHOUT_SEPARATOR`).
_MAY_NEED_REPAIR = (
    rf"[^\x20-\x7E]|[{_ascii_class('<&[' + _SUFFIX_SEPARATOR_ASCII)}]|  |^\s|\s$"
    r"|(?i:\(c\)|copyright|fot\.|(?:photo|foto|image|picture)s?\s+(?:by|di|de|von|van|par)\s|stock|royalty|courtesy of)"
    r"|\d{5,}\.?\s*$"
    rf"|(?i:(?:photo|foto)\s+{NEWS_AGENCIES}\s*$)|\sfor (?:the |The )?(?:[A-Z]\S* ){{0,3}}{_OUTLET_WORDS}\.?\s*$"
)


def may_need_repair(texts: pa.Array, cfg: CleanConfig | None = None) -> np.ndarray:
    """Per text: a repair of `cfg` (default: every default repair) may change it
    (`_MAY_NEED_REPAIR`, or a site name at the start); null: False."""
    cfg = cfg or CleanConfig()
    out = _np(pc.match_substring_regex(texts, _MAY_NEED_REPAIR))
    if cfg.site_suffix.enabled:
        # a name at the start (wider than `site_suffix_start`, and cheaper), searched apart: the names'
        # alternation is compiled once per process there, where Arrow compiles a pattern on every call
        out |= search(texts, site_name_start(cfg.site_suffix.suffixes))
        out |= _np(pc.match_substring_regex(texts, _SUFFIX_WITHOUT_SEPARATOR))
    return out


def repair_texts(texts: pa.Array, cfg: CleanConfig, sources: pa.Array | None = None) -> Repaired:
    """Apply the enabled repairs in order. `texts` must be valid UTF-8 (`caption_text.repair_utf8`);
    nulls stay null. `sources` (aligned with `texts`) selects the rows of `zh_t2s`.

    The repairs run on the rows that one cheap pass (`may_need_repair`) finds a repair may change
    (on most captions none can), and those rows are put back in one step."""
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    if not cfg.enabled:
        return Repaired(texts, {})
    rows = np.flatnonzero(may_need_repair(texts, cfg))
    if rows.size == len(texts):
        return _repair_all(texts, cfg, sources)
    changed = {name: np.zeros(len(texts), dtype=bool) for name in REPAIRS if getattr(cfg, name).enabled}
    if rows.size == 0:
        return Repaired(texts, changed)
    take = pa.array(rows)
    part = _repair_all(texts.take(take), cfg, None if sources is None else sources.take(take))
    for name, hit in part.changed.items():
        changed[name][rows[hit]] = True
    if not any(hit.any() for hit in part.changed.values()):
        return Repaired(texts, changed)
    mask = np.zeros(len(texts), dtype=bool)
    mask[rows] = True
    return Repaired(pc.replace_with_mask(texts, pa.array(mask), part.text), changed)


# Rounds of repairs again on the rows where removing characters left mojibake (`_repair_all`).
_SETTLE_ROUNDS = 3


def _repair_all(texts: pa.Array, cfg: CleanConfig, sources: pa.Array | None) -> Repaired:
    """`repair_texts` on every row of `texts` (an Array). Removing an invisible character can join
    two halves of mojibake ("\xadÀ\x86": once the soft hyphen is gone, "À†" is a misread UTF-8
    pair): the rows where `whitespace` changed a text that still looks like mojibake get the repairs
    again, until they stop changing, so that repairing repaired text changes nothing."""
    out = _repair_once(texts, cfg, sources)
    if not (cfg.mojibake.enabled and cfg.whitespace.enabled):
        return out
    rows = np.arange(len(texts))
    for _ in range(_SETTLE_ROUNDS):
        rows = rows[out.changed["whitespace"][rows]]
        if rows.size:
            rows = rows[_candidates(out.text.take(pa.array(rows)), suspect_pattern(), np.ones(rows.size, dtype=bool))]
        if rows.size == 0:
            break
        take = pa.array(rows)
        again = _repair_once(out.text.take(take), cfg, None if sources is None else sources.take(take))
        moved = ~_np(pc.equal(again.text, out.text.take(take)))
        if not moved.any():
            break
        rows = rows[moved]
        text = pc.replace_with_mask(out.text, pa.array(np.isin(np.arange(len(texts)), rows)),
                                    again.text.filter(pa.array(moved)))
        for name, hit in again.changed.items():
            out.changed[name][rows] |= hit[moved]
        out = Repaired(text, out.changed)
    return out


def _repair_once(texts: pa.Array, cfg: CleanConfig, sources: pa.Array | None) -> Repaired:
    """Each enabled repair once, in order, on every row of `texts`."""
    changed: dict[str, np.ndarray] = {}
    non_ascii = _np(pc.invert(pc.string_is_ascii(texts)))  # per row, brought up to date after each repair
    for name in REPAIRS:
        repair_cfg = getattr(cfg, name)
        if not repair_cfg.enabled:
            continue
        touched = np.zeros(len(texts), dtype=bool)  # the rows the repair may have changed
        out = _FUNCTIONS[name](texts, repair_cfg, {"sources": sources, "touched": touched, "non_ascii": non_ascii})
        changed[name] = np.zeros(len(texts), dtype=bool)
        if out is not texts and touched.any():
            rows = np.flatnonzero(touched)
            take = pa.array(rows)
            after = out.take(take)
            changed[name][rows] = ~_np(pc.equal(after, texts.take(take)))
            non_ascii[rows] = _np(pc.invert(pc.string_is_ascii(after)))
        texts = out
    return Repaired(texts, changed)


# ---------------------------------------------------------------- array plumbing


_np = bool_mask


def _candidates(texts: pa.Array, pattern: str, non_ascii: np.ndarray) -> np.ndarray:
    """Rows of non-ASCII texts (`non_ascii`: those rows, or more) matching a pattern that only
    non-ASCII text can match."""
    rows = np.flatnonzero(non_ascii)
    if rows.size == 0:
        return rows
    return rows[search(texts.take(pa.array(rows)), pattern)]


def maybe_non_ascii(texts: pa.Array, context) -> np.ndarray:
    """The rows of `texts` that may hold a non-ASCII character: the ones `repair_texts` knew of
    before this repair plus those it has touched so far, or else measured here."""
    if "non_ascii" in context:
        return context["non_ascii"] | context["touched"]
    return _np(pc.invert(pc.string_is_ascii(texts)))


def with_rows_mapped(texts: pa.Array, rows: np.ndarray, fn, touched: np.ndarray | None = None) -> pa.Array:
    """`texts` with `fn` (str -> str) applied to the (non-null) texts at `rows`; only those rows
    are converted to Python strings. `rows` are marked in `touched`, when given."""
    if rows.size == 0:
        return texts
    if touched is not None:
        touched[rows] = True
    mask = np.zeros(len(texts), dtype=bool)
    mask[rows] = True
    values = [fn(t) for t in texts.take(pa.array(rows)).to_pylist()]
    return pc.replace_with_mask(texts, pa.array(mask), pa.array(values, texts.type))


def utf8_bytes(texts: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The UTF-8 bytes of a string array (a view, no copy) and the offsets of its rows in them
    (`len(texts) + 1` of them; row i is `bytes[offsets[i]:offsets[i + 1]]`, a null row is empty)."""
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    n = len(texts)
    if texts.type not in (pa.string(), pa.large_string()):
        texts = texts.cast(pa.string())
    _, offsets_buf, data_buf = texts.buffers()
    offset_type = np.dtype(np.int64 if texts.type == pa.large_string() else np.int32)
    offsets = np.frombuffer(offsets_buf, dtype=offset_type, count=n + 1, offset=texts.offset * offset_type.itemsize)
    if data_buf is None or n == 0:
        return np.zeros(0, dtype=np.uint8), np.zeros(n + 1, dtype=np.int64)
    data = np.frombuffer(data_buf, dtype=np.uint8)[offsets[0] : offsets[-1]]
    return data, (offsets - offsets[0]).astype(np.int64)


# Arrow's ASCII whitespace (`ascii_split_whitespace`, `ascii_rtrim_whitespace`)
_ASCII_SPACE = "\t\n\x0b\x0c\r "


def token_starts(data: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Where in `data` (`utf8_bytes`'s bytes and row offsets) a whitespace-separated token starts:
    a byte that is no ASCII whitespace, after whitespace or at its row's start (sorted)."""
    if data.size == 0:
        return np.zeros(0, dtype=np.int64)
    space = ascii_hits(data, _ASCII_SPACE).view(np.int8)
    start = np.empty(data.size, dtype=np.int8)
    np.subtract(space[:-1], space[1:], out=start[1:])  # 1: whitespace, then none
    row_starts = offsets[:-1][offsets[:-1] < data.size]  # (includes 0: data holds the first row's bytes)
    start[row_starts] = 1 - space[row_starts]
    return np.flatnonzero(start > 0)


def rows_of(offsets: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Per row: how many of `positions` (into `utf8_bytes`'s bytes) fall in it."""
    return np.bincount(np.searchsorted(offsets, positions, side="right") - 1, minlength=len(offsets) - 1)


def ascii_char_counts(texts: pa.Array, chars: str) -> np.ndarray:
    """Per text: how many of its characters are in `chars` (ASCII only). Counted with numpy over the
    array's UTF-8 bytes, one pass for any number of characters (an ASCII byte is always the
    character itself in UTF-8). Nulls count 0."""
    if not chars.isascii():
        raise ValueError(f"ascii_char_counts counts ASCII characters only, not {chars!r}")
    data, offsets = utf8_bytes(texts)
    hit = ascii_hits(data, chars)
    found = np.count_nonzero(hit)
    if found == 0:
        return np.zeros(len(offsets) - 1, dtype=np.int64)
    if found * 32 < hit.size:  # few: find them and count per row
        return rows_of(offsets, np.flatnonzero(hit))
    # many: summed per row; each non-empty row's bytes run from its first byte to the next such row's
    filled = np.flatnonzero(offsets[1:] > offsets[:-1])
    counts = np.zeros(len(offsets) - 1, dtype=np.int64)
    # summed in the narrowest type no row's length can overflow (numpy sums narrow types faster)
    longest = int((offsets[1:] - offsets[:-1]).max())
    dtype = np.uint16 if longest < 1 << 16 else np.int32 if longest < 1 << 31 else np.int64
    counts[filled] = np.add.reduceat(hit.view(np.uint8), offsets[filled], dtype=dtype)
    return counts


def ascii_set_counts(texts: pa.Array, sets: tuple[str, ...]) -> np.ndarray:
    """Per text and per set of ASCII characters in `sets`: how many of its characters are in that
    set ((len(texts), len(sets)) int64: `ascii_char_counts` of each set), counted in one pass over
    the UTF-8 bytes. Each byte becomes its *atom* (the sets it is in, by `bytes.translate`), the
    bytes in some set are counted per row and atom, and a set's count is the sum of its atoms'."""
    table, members = _atoms(sets)
    data, offsets = utf8_bytes(texts)
    n = len(offsets) - 1
    if members.shape[0] == 0:
        return np.zeros((n, len(sets)), dtype=np.int64)
    codes = np.frombuffer(data.tobytes().translate(table), dtype=np.uint8)
    at = np.flatnonzero(codes != 0)
    rows = np.searchsorted(offsets, at, side="right") - 1
    atoms = members.shape[0]
    per_atom = np.bincount(rows * atoms + (codes[at] - 1), minlength=n * atoms).reshape(n, atoms)
    return per_atom @ members


@lru_cache(maxsize=16)
def _atoms(sets: tuple[str, ...]) -> tuple[bytes, np.ndarray]:
    """(a `bytes.translate` table mapping each ASCII byte that is in some set to its atom, 1..,
    and every other byte to 0; (atoms, sets) int64: 1 where the set holds the atom)."""
    for chars in sets:
        if not chars.isascii():
            raise ValueError(f"ascii_set_counts counts ASCII characters only, not {chars!r}")
    atom_of: dict[tuple[bool, ...], int] = {}
    table = bytearray(256)
    for code in range(128):
        key = tuple(chr(code) in chars for chars in sets)
        if any(key):
            table[code] = atom_of.setdefault(key, len(atom_of) + 1)
    members = np.array(list(atom_of), dtype=np.int64).reshape(len(atom_of), len(sets))
    members.flags.writeable = False
    return bytes(table), members


def ascii_hits(data: np.ndarray, chars: str) -> np.ndarray:
    """Per byte of `data`: it is one of the ASCII `chars`."""
    codes = sorted(set(chars.encode("ascii")))
    runs = np.split(np.array(codes, dtype=np.uint8), np.flatnonzero(np.diff(codes) > 1) + 1)  # contiguous ranges
    if len(runs) <= 2:  # a comparison per range ("0123456789": one) beats a table look-up per byte
        hit = scratch = None
        for run in runs:
            if run.size == 1:
                scratch = np.equal(data, run[0], out=scratch)
            else:
                scratch = np.less(data - run[0], run.size, out=scratch)
            if hit is None:
                hit, scratch = scratch, None
            else:
                hit |= scratch
        return hit
    # a table look-up, done by bytes.translate (several times faster than numpy's take on bytes)
    return np.frombuffer(data.tobytes().translate(_byte_table(bytes(codes))), dtype=bool)


@lru_cache(maxsize=64)
def _byte_table(codes: bytes) -> bytes:
    """A `bytes.translate` table mapping the bytes in `codes` to 1 and every other byte to 0."""
    table = bytearray(256)
    for b in codes:
        table[b] = 1
    return bytes(table)


def with_values(texts: pa.Array, hit: np.ndarray, values: pa.Array, touched: np.ndarray | None = None) -> pa.Array:
    """`texts` with the rows where `hit` is true set to `values` (in order), marked in `touched`."""
    if touched is not None:
        touched |= hit
    return pc.replace_with_mask(texts, pa.array(hit), values)


def on_rows(texts: pa.Array, mask, fn, touched: np.ndarray | None = None) -> pa.Array:
    """Apply `fn` (array -> array) to the rows where `mask` is true; other rows are untouched.
    When `fn` changes none of them, `texts` itself comes back (callers test `out is texts`). The
    rows it changes are marked in `touched`, when given."""
    rows = np.flatnonzero(_np(mask))
    if rows.size == 0:
        return texts
    before = texts.take(pa.array(rows))
    after = fn(before)
    changed = ~_np(pc.equal(after, before))
    if not changed.any():
        return texts
    hit = np.zeros(len(texts), dtype=bool)
    hit[rows[changed]] = True
    return with_values(texts, hit, after.filter(pa.array(changed)), touched)
