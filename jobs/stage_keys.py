"""What each stage reads, declared in one place, and the fingerprint of each stage's result.

A stage's fingerprint hashes its name, its `version`, the config values it reads (`reads`) and the
fingerprints of its inputs (the source files for the per-file stages, else the stage before). A
cached result whose fingerprint matches is the result the stage would compute, so it is reused;
any change to what a stage reads re-runs it and everything after it, and nothing before it.

    stage   reads                                                        input
    files   its source (but path, weight, max_bad_fraction, fingerprint), one source file
            read, tasks, probe, filters (but scorers), grounding
    score   filters.scorers (when a scorer is on)                        every file's result
    dedup   dedup, and seed when dedup.seed is unset                     score (or files)
    tokens  tokens, seed (caption prompts, video frame rates)            dedup
    mix     sources' weights, mix, seed                                  tokens
    plan    pack, seed (context_length decides too_long: it is here)     mix

Bump a stage's version when its code changes what it writes for the same inputs and config;
`tests/jobs/test_stage_keys.py` holds a golden digest of each stage's output on a fixed corpus and
fails on a change of output without a bump.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from filters.junk_model import DEFAULT_MODEL as DEFAULT_JUNK_MODEL
from schemas.config import JobConfig, SourceConfig

# The source fields that only say how a file is found, weighed or tolerated, not what its rows become.
SOURCE_FIELDS_NOT_READ = {"path", "weight", "max_bad_fraction", "fingerprint"}

Reads = Callable[[JobConfig], dict]


def _dump(cfg: JobConfig, section: str, exclude: set | None = None):
    return getattr(cfg, section).model_dump(mode="json", exclude=exclude)


@dataclass(frozen=True)
class StageSpec:
    name: str
    version: int
    reads: Reads


def _files_reads(cfg: JobConfig, source: SourceConfig | None = None) -> dict:
    out = {"read": _dump(cfg, "read"), "tasks": {k: v.model_dump(mode="json") for k, v in cfg.tasks.items()},
           "probe": _dump(cfg, "probe"), "filters": _dump(cfg, "filters", {"scorers"}),
           "grounding": _dump(cfg, "grounding")}
    learned = cfg.filters.rules.learned_junk
    if cfg.filters.enabled and learned.enabled:  # the model's bytes, not only its path
        out["learned_junk_model"] = hashlib.sha256(Path(learned.model_path or DEFAULT_JUNK_MODEL).read_bytes()).hexdigest()
    if source is not None:
        out["source"] = source.model_dump(mode="json", exclude=SOURCE_FIELDS_NOT_READ)
    return out


STAGES: dict[str, StageSpec] = {spec.name: spec for spec in (
    # 2: the filter's clean step and new rules (issue 17); 3: lang / lang_score left null on the rows a
    # text rule rejects before language id; 4: mojibake of every code page ftfy tries reaches ftfy, and
    # a site name alone of any length is stripped; 5: mojibake repaired before control characters go,
    # stray joiners removed, new junk rules (keyword soup, single-byte Cyrillic misreads, phone numbers,
    # shell commands, more refusals and page furniture) and the language rule's function-word check;
    # 6: held-out junk kinds (code-page misreads, dates, EXIF dumps, ads, refusals in more languages),
    # repairs made idempotent; 7: the rules after 6 (Latin code-page misreads, camera bodies, more ad
    # calls), boilerplate phrases matched from a word start, CSS judged apart, a text mostly in a
    # script of no allowed language rejected however short, more refusals and EXIF fields, not-found
    # notices only at a text's ends, function words of more languages, paragraphs of one sentence joined,
    # INI files as code; 8: licence, broken-image and gallery notices, "shot on <phone>" credits and
    # unlabelled EXIF names, code around quotes (HTML attributes, shortcodes) and calls with keyword
    # arguments, loops anywhere and "of a of a", list items split at "・" and "،", Czech "Ř" misreads
    # 9: no-image notices in every allowed language, RE2 word bounds next to non-ASCII letters mended,
    # camera bodies named with model and lens lines only, push processing, German date abbreviations
    # 10: "shot on" in the other allowed languages and phones named alone, illustration disclaimers and cookie
    # notices in the allowed languages, template tags, phone export names, Czech "č" misreads
    # 11: credit lines alone, rights notices, shop buttons, login walls and free downloads in the allowed
    # languages, more refusal word orders, camera watermarks and labels, a domain a sign is said to show kept;
    # read/load more, click here, coupons, free films and money from home in the allowed languages, Polish,
    # Czech and Thai dates, short texts lid.176 gives to no allowed language, names like "The The" kept;
    # errors, sign-in, newsletters, show more, discounts and today-only offers in the allowed languages,
    # screenshot names in more languages, feed counters
    # 12: preambles that only promise a description, share buttons and "loading" or "could not be loaded"
    # notices in more languages, notices in a row, "copyright belongs to", one-click buying, WhatsApp names
    # in more languages, Korean screenshot times, Shift-JIS kana read as GBK, title-case product titles;
    # doubled capitalised names in sentence case and enumerations ending "... x and y" kept
    # 13: follow, like and subscribe prompts, newsletters, app stores, next-day delivery, not-found and removed
    # notices, "© name" and file-photo credits, "photo by X on Unsplash" in more languages, licence sentences,
    # more preambles and refusals, camera labels in the allowed languages, Indonesian screenshot times, a
    # phone watermark after "shot on"; kept: a species named after its genus in brackets, Czech "ý", texts
    # lid.176 scores low with one function word (two letters or more) of its best allowed guess, and a
    # contested text (an allowed language at 0.3 or more) with two function words of an allowed language
    # 14: click-the-image-to-enlarge word orders, free shipping from, out of stock, press photos, cookies and app
    # prompts in more languages, price drops, 404 sentences, more preambles and refusals, screenshot times in
    # pt, th, ar; kept: species in brackets for repeated words too, Indonesian verbs in short keyword runs
    # 15: the learned junk score (`filters.junk_model`) after the other text rules, iPhone photo names
    # with AM/PM, Shift-JIS read as GBK with the kana apart, UTF-8 read as Latin-1 with "?" for lost
    # bytes, Japanese and Chinese stock sites as suffixes
    # 16: the learned junk score written to the ledger (`junk_score`)
    # 17: shortcodes repaired, breadcrumbs and tax small print, foreign languages that share the score, the
    # model trained with set Y
    # 18: ratings, pagination, stock counters, instalments, price labels, sales that end, subscribe prompts and
    # empty titles as boilerplate; Korean and numbered Han/Kana tag runs; cut-off preambles; the model with set Z
    # 19: shop-word runs, catalogue entries kept, bare hashtags, giveaways, contact spam, more instalments,
    # cut-off "The image shows a", Latin Extended-A read as Windows-1252 read back, letters lost to "?";
    # the model with set AA
    # 20: classified-ad small print, video and app-store furniture, cut-off model descriptions in the allowed
    # languages and special tokens, page builders' shortcodes, Korean particles in list items; the model with set AB
    # 21: Vietnamese "click the image to see it full size", Japanese caption preambles; the model with set AC
    # 22: site names before a caption, after "by"/"via" or in brackets; phrases and particles written
    # twice; model failure messages; Shift-JIS and Vietnamese mojibake; keyword soups in Latin letters
    # with marks; letters only a foreign top language writes; credits after a sentence; product names in
    # title case with a small "with"; function words of more languages written twice; server errors,
    # readers' comments and resellers' small print; more sites' names and domains; reasoning chatter; the
    # models with sets AD-AG
    # 23: neighbour languages lid.176 takes for allowed ones, told by their words and letters; credits with a
    # strong mark and no sentence end or opening a caption; stock listings' ids and forum tags; iStock titles;
    # stock agencies' bare names; more sites; readers' laughter and thanks; the model with set AH
    # 24: readers' comments on a post, out-of-stock notices, listing heads and named image ids, "のの" before a
    # hiragana word kept, French letters no misread; two-word captions kept (too_short.min_words 2), figure
    # labels, menus and short praise as boilerplate; the model with set AI
    # 25: credits in brackets and credit lines opening a caption, more listing leftovers and sites; the model
    # with set AJ
    # 26: praise that opens a short comment in more languages and forms, loan, betting and side-job spam,
    # "Source:" only opening a text or after a mark; listing leftovers in more languages and several in a
    # row, a site's domain after a separator, credits "for" an outlet, with their rights or "Courtesy of";
    # property, travel, sports, car and recipe sites; the model with set AK
    # 27: birthday wishes and readers' questions, praise with a question or a particle after it, sports
    # betting, a price alone, cut-off "A photo of a ..." and hedging models; site names that say what they are
    # ("... | Tasty Travels Blog"), more credit forms and stock listing words, more English prepositions as
    # function words for the language rule; the model with set AL
    # 28: a word listed three times apart by commas kept ("hearts, hearts, hearts"), readers' wishes, thanks
    # and questions in more forms, sign-up bonus spam, Gemma's turn tokens, alt-text preambles; credits of
    # news agencies in brackets and Chinese reporters', "Fot. AGENCY/Name"; more shops; the model with set AM
    # 29: photo sites' and classifieds' furniture, praise of a shot, sign-up and gold-buying spam, several
    # numbered captions in one text, a visual question's prompt or one-word answer, descriptions that commit to
    # nothing; a doubled word across a colon kept; credits "Photo: Name / ...", "Foto ANP / Name", Chinese and
    # Japanese agencies' and reporters', shop labels in 【】, stock labels opening a caption, shop furniture and
    # Amazon's categories after a title; more sites; the model with set AN
    # 30: a caption's words tell a neighbour language from an allowed one by their frequencies in each
    # (`filters.word_frequencies`); descriptions broken off on an article or a conjunction, unfilled
    # templates' placeholders, multiple-choice answers, condolences, prize, essay, insurance and loan spam,
    # a file's bytes, coordinates alone, slash-separated tags; credits by a photographer or "courtesy of",
    # stock labels in more languages, delivery, travel, fashion, game and car sites; the model with set AO;
    # messaging exports, wishes and condolences with words after them, price questions, mask tokens, visual
    # question transcripts, prompts as captions, casino spam in more languages, Chinese and Japanese text
    # broken off, n-gram loops from 0.25; "Photograph ©", "Credit:" first, stock labels and ids as
    # sentences, UTF-8 Cyrillic read as Windows-1251 read back; the model with set AP; pages still loading,
    # guaranteed returns, Italian marks no misreading, letters lost as "??"; credits after a camera emoji or
    # by an agency in lowercase, stock titles that name the caption; the model with set AQ
    # 31: readers asking the others, agreeing or praising the shot, thanks for sharing in more languages,
    # recipe steps, buyers' feedback, bought followers and money online, multiple-choice answers anywhere,
    # questions left without their answer, Japanese polite verbs cut short, letters lost as "?" at a word's
    # edge, "la la" and Korean subjects doubled, "EV -0.3", SEO lists repeating their keyword, a sign's text
    # after a colon quoted, an unopened "</s>" kept for the rules, lid.176 again in lowercase after the
    # words; credits "Photo AFP" and "。摄影：", a photo site's credit first, a section before a site; the
    # model with set AR; buyers' feedback and questions to sellers across the marketplaces' languages, prices
    # in instalments, visual questions' answers, BLIP's "arafed", output switching script word by word,
    # phrases of three words doubled in any language, Arabic, Thai, Turkish and Indonesian doublings, selling
    # words of marketplace titles, commas between digits, errors with a description after them, the words
    # keeping an allowed caption lid.176 takes for a neighbour, short noun phrases in sentence case outside
    # English; press credits in Korean, Russian, Arabic, Chinese and Japanese, stock sites' kinds and ids;
    # the model with set AS; "read more", greetings, buyers' disappointment, wishes to go there, yen and
    # trading giveaways, instruction templates' markers, prompts in more languages, descriptions cut after
    # "says", titles written twice, RE2's ASCII-only "\b" beside other scripts dropped; credits "Photo Name /
    # AFP", "Foto: privat", "NASA/...:", "for The New York Times", free-photo labels, licences in brackets;
    # the language rule's contested tops read for their words; the model with set AT; thanks to everyone or
    # for the party, congratulations with a line after them, "mix all ingredients", review sites' small print,
    # "Q: ... A: ...", Spanish ordinals no misreading, Vietnamese words doubled; "| Credit: ...",
    # "Lizenzfreies Bild:"; the model with set AU
    # 32: a yes or no with its sentence after it in the allowed languages, reasoning about the picture,
    # options of a multiple-choice item, the prompt asking for a length, listings' small print, prices on
    # request, photos taken down, opening hours, ads' labels, a training run's log, descriptions cut inside
    # their last word, Belarusian by its letters; a screenshot's name needs its date; "Zdroj:" and the other
    # sources' credits, "Image courtesy of NOAA.", archives' and maps' sites; the model with set AV; a model
    # talking about or announcing its caption, a request for one, class-name placeholders, disclaimers,
    # bookings' terms, Lua, clauses' first words and an article with an adjective at the end, words cut in
    # the other languages wordfreq lists, output in two scripts, numbered loops, Danish letters beside a
    # weak top; Unsplash credits in the allowed languages, "© Photo Name / AFP"; the model with set AW;
    # image-generation prompts, options in a run, answers' openers, colour disclaimers, red-packet spam,
    # "courtesy of the author", wallpaper sites; the model with set AX
    # 33: descriptions cut on an article, a possessive or a preposition in the allowed languages, tag lists
    # with a decade, Korean tags with a noun ending in a particle's syllable, prompts labelled as such,
    # questions with their answers, four lettered options, "choose the best caption", semicolon records,
    # German "klicken Sie hier"; kept: a described button, a game's main menu, "before it goes into the
    # oven", a thing's own website, a reference number in a description, Indonesian words under a weak
    # allowed top; "photo courtesy of Name" after a dash, "| Image: Name", stock sites by their domain;
    # the model with sets AY and AZ; labelled questions and answers, a photo site's name alone, shops' hurry
    # and royalty-free labels in more languages; kept: a film stock in a description, a poster "with the web
    # address ..."; Dutch "Beeld:" credits; the model with set BA; colour disclaimers, a request for an
    # Instagram caption, hedging about nothing and watermark talk, a visual question alone, a circled answer,
    # a source named alone, a phone's watermark, 3D-render prompts, Norwegian and Danish by their words;
    # kept: code in backticks, hyphenated verbs, an address painted on or a file named in a screen; "Fot."
    # credits, Can Stock Photo; the model with set BB
    # 34: captions in a language lid.176 cannot place with no word of an allowed one, captions that say
    # nothing about their picture, a lone letter, "by" after a participle or a lowercase possessive at the end,
    # English stubs of common words, lowercase keyword runs with verb forms or one function word, prompt
    # templates' empty slots, seeds and requests for a picture, options in brackets, license labels,
    # systemctl; kept: a described query, an address named as someone's site; "Image courtesy of the ..."
    # credits; the model with sets BC and BD; captions under a foreign top label with fewer than half their
    # words an allowed language's, an adjective after a preposition at the end, numbered questions and
    # explanations, gaps to fill, a template's named slots, "in the style of", requests for a logo, contact
    # by messenger, single CSS rules, an Italian refusal; kept: English with loanwords read as a misread
    # code page, addresses after "says ... at", "directs ... to", "the link", "the page" and in other
    # languages, files with "names like"; joiners beside Han, Kana or Hangul removed; "courtesy of the
    # publisher"; the model with sets BE and BF; a copy's numbered name, a log line's level and source,
    # choices after a question, "near me" keywords, a Telegram handle anywhere, "swipe", an adjective of
    # its own ending or a colour after an article at the end; kept: a hedged caption "judging by" its
    # details, Czech words with "íž", a quoted "why? why?", a description's clauses closed by "。",
    # addresses after "a website," and in Turkish and Indonesian, files "saved as" or named "to" another;
    # the model with sets BG and BH; Russian price-by-DM spam, DreamBooth's "sks person", "against", a
    # participle or "silver" after "a" and Japanese "に" at the end; kept: an address after "die Webseite",
    # "adresem strony", "s adresou" and any "www." domain; joiners beside Latin, Cyrillic or Greek letters
    # removed; the model with sets BI and BJ
    # 35: a reader's remark that names nothing (rule `remark`), two or three words sure of a language not
    # allowed with none of an allowed one, "in" after "a" and a noun, a verb "to be" after a noun, a colour
    # after a size, an adjective needing its noun and two consonants at the end, a Python loop with its
    # body, Midjourney's quality and stylize switches, an acronym in a keyword run, captions saying nothing
    # in German, Chinese or Japanese, Spanish and Portuguese stock labels; kept: described code, a domain
    # stamped on a thing or named as a site's, files named as files or as what a screen says, a meter's
    # reading in its unit; the model with sets BK and BL
    # 36: a German adjective after "ein" and "die" at the end, "in" or "on" after a participle needing its
    # place, "while" and its subject, "d'un" at the end, a model talking of a mood and a viewer, two named
    # slots in braces, "/imagine", a stock agency's licence and releases, SEO lists saying their keyword again,
    # Chinese in UTF-8 read as GBK with a byte lost; kept: an address named as a link or a page from a site;
    # the model with sets BM and BN
    # 37: "under" or "beside" at the end, German "den", a quote opened and cut, a labelled answer, a gallery's
    # similar images, LoRA tags and "<sks>", a wholesaler's MOQ, XML after the HTML repair, a remark's face or
    # heart and a post's verbs, a foreign letter of lid.176's second language, a lost letter's "??", a stray
    # "â€", a model's talk of the frame and lighting; kept: a betting app's screen, a Korean product's size;
    # the model with sets BO and BP
    # 38: German "eines" and "while" with its subject at the end, CSV rows, an SEO item that is another item
    # and a few words more, Afrikaans by "die", a remark of a post's own words; kept: www. addresses on longer
    # top-level domains, files a folder contains; the model with sets BQ and BR
    # 39: what a thing is made of after "a" and a size, "是一" at the end, SEO keywords said again, Chinese tags
    # with an age range, a slot in angle brackets, a price asked by DM in Japanese, Chinese and Korean, a model
    # naming width and height, remarks in every hiragana, two words lid.176 is all but certain of; kept: a
    # Czech list joined by "a", a camera's file name on its screen, a link to an address; the model with sets
    # BS and BT
    # 40: "an" and "al" at the end, numbered choices after a question, anime and Pixar styles among a prompt's
    # terms, more remarks and German talk of not making the picture out; kept: four function words of an
    # allowed language against any top language, Dutch plurals with "'s", a coupon code field, an address to
    # visit or a page at a site, a file named in French; the model with sets BU and BV
    StageSpec("files", 40, _files_reads),
    StageSpec("score", 1, lambda cfg: {"filters": {"enabled": cfg.filters.enabled,
                                                   "scorers": _dump(cfg.filters, "scorers")}}),
    StageSpec("dedup", 1, lambda cfg: {"dedup": _dump(cfg, "dedup"),
                                       **({"seed": cfg.seed} if cfg.dedup.seed is None else {})}),
    # 2: the rows keep their rendering (compact) for the shard writer
    StageSpec("tokens", 2, lambda cfg: {"tokens": _dump(cfg, "tokens"), "seed": cfg.seed}),
    StageSpec("mix", 1, lambda cfg: {"sources": {s.name: {"weight": s.weight} for s in cfg.sources},
                                     "mix": _dump(cfg, "mix"), "seed": cfg.seed}),
    # 3: mix mode at one pack per rank per step: a few heavy packs to a step where gathering them until
    # each step balances breaks the mix (`packer.heavy_steps`)
    StageSpec("plan", 3, lambda cfg: {"pack": _dump(cfg, "pack"), "seed": cfg.seed}),
)}
ORDER = ("files", "score", "dedup", "tokens", "mix", "plan")


def fingerprints(stage: str, reads: dict, upstreams: list[list[str]]) -> list[str]:
    """The fingerprint of a stage's result for each of `upstreams` (its inputs' fingerprints): the
    sha256 of {"reads", "stage", "upstream", "version"} as sorted, compact, ASCII JSON; what every
    key shares is written once (a job has a key per source file)."""
    spec = STAGES[stage]

    def dump(value) -> str:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)

    head = dump({"reads": reads, "stage": stage})[:-1] + ',"upstream":'
    tail = "," + dump({"version": spec.version})[1:]
    return [hashlib.sha256((head + dump(up) + tail).encode()).hexdigest()[:24] for up in upstreams]


def fingerprint(stage: str, reads: dict, upstream: list[str]) -> str:
    return fingerprints(stage, reads, [upstream])[0]


@dataclass(frozen=True)
class StageKey:
    stage: str
    key: str
    reads: dict  # what it read, for saying why it re-runs
    upstream: tuple[str, ...]


def stage_keys(cfg: JobConfig, file_keys: list[str], *, scorers_on: bool) -> dict[str, StageKey]:
    """The fingerprint of every stage after the per-file stages, from the per-file keys."""
    keys: dict[str, StageKey] = {}
    upstream = tuple(sorted(file_keys))
    chain = [s for s in ORDER[1:] if s != "score" or scorers_on]
    for stage in chain:
        reads = STAGES[stage].reads(cfg)
        key = fingerprint(stage, reads, list(upstream))
        keys[stage] = StageKey(stage, key, reads, upstream)
        upstream = (key,)
    return keys


def flatten(values: dict, prefix: str = "") -> dict[str, object]:
    """{"pack": {"context_length": 8192}} -> {"pack.context_length": 8192}."""
    out: dict[str, object] = {}
    for k, v in values.items():
        path = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict) and v:
            out.update(flatten(v, path))
        else:
            out[path] = v
    return out


def changed_fields(old: dict, new: dict, limit: int = 3) -> list[str]:
    """The fields whose values differ, as `path: old → new`, at most `limit`."""
    a, b = flatten(old), flatten(new)
    diffs = [f"{p}: {json.dumps(a.get(p))} → {json.dumps(b.get(p))}" for p in sorted(a.keys() | b.keys())
             if a.get(p) != b.get(p)]
    return diffs[:limit] + ([f"and {len(diffs) - limit} more"] if len(diffs) > limit else [])
