"""A caption's words tell a neighbour language from an allowed one (`filters.word_frequencies`,
the `wordfreq` package's lists), where lid.176 reads it as the allowed one or is torn between them."""

import numpy as np
import pyarrow as pa
import pytest
from pydantic import ValidationError

from filters.caption_text import CaptionBatch
from filters.language import language_rule, top_languages
from filters.word_frequencies import available, foreign_by_words, zipf_table
from schemas.filter_config import LanguageRule

CONFIG = LanguageRule()
MACRO = CONFIG.macro_languages
ALLOWED = frozenset(set(CONFIG.allow) | {MACRO.get(a, a) for a in CONFIG.allow})

# Each of these is kept with the words not looked at (word_frequency_margin 0): lid.176 reads the
# first two as Swedish or Norwegian and Swedish, Danish and Norwegian, the Bulgarian one as Russian
# at 0.57, the Slovak one as Czech beside Slovak, the Catalan one as Catalan beside Spanish.
NEIGHBOURS = [
    "Gutten sykler langs fjorden en solrik ettermiddag.",  # Norwegian
    "Pigen leger med sin hund i haven bag huset.",  # Danish
    "Децата играят футбол в двора на училището.",  # Bulgarian
    "Rybár sedí na lodi a čaká na úlovok.",  # Slovak
    "El forner treu el pa del forn de bon matí.",  # Catalan
]
# Their allowed neighbours, and others, say the same things
ALLOWED_CAPTIONS = [
    "Rybář sedí na lodi a čeká na úlovek.",
    "Dědeček opravuje plot u zahrady.",
    "El abuelo arregla la valla del jardín.",
    "Morfar reparerar staketet vid trädgården.",
    "Pojken cyklar längs fjorden en solig eftermiddag.",
    "Дедушка чинит забор возле сада.",
    "Dziadek naprawia płot przy ogrodzie.",
    "O avô conserta a cerca perto do jardim.",
    "Il nonno ripara la recinzione vicino al giardino.",
    "De opa repareert het hek bij de tuin.",
    # two languages, one of them allowed: English's "the", "on", "before" say so
    "Morning coffee on the balcony before work, så skönt!",
]


def test_wordfreq_lists_are_there():
    codes = available()
    for code in ("en", "cs", "sk", "sh", "sl", "ca", "es", "nb", "da", "sv", "bg", "ru"):
        assert code in codes
    assert not {"zh", "ja", "ko"} & set(codes)  # those need their own tokenizer


def test_zipf_table_reads_the_lists():
    codes = ("en", "ca", "es", "sh")
    z = zipf_table(["the", "carrer", "calle", "мост", "qxzvbn"], codes)
    assert z[0, 0] > 7.0  # "the": about one word in twenty of English
    assert z[1, 1] > 3.5 and z[1, 2] == 0.0  # "carrer" is a Catalan word and no Spanish one
    assert z[2, 2] > z[2, 1] + 1.5  # "calle" is Spanish (Catalan text quotes it now and then)
    assert z[3, 3] > 3.5  # Serbian in Cyrillic: looked up in the Serbo-Croatian list as "most"
    assert not z[4].any()


def test_the_language_rule_rejects_neighbours_by_their_words():
    texts = NEIGHBOURS + ALLOWED_CAPTIONS
    keep = language_rule(CaptionBatch.from_texts(texts), CONFIG)
    # (with the words not looked at, by this check or by the unplaced-language one)
    blind = language_rule(CaptionBatch.from_texts(texts), LanguageRule(word_frequency_margin=0, unplaced_top_score=0))
    assert blind.all(), [t for t, k in zip(texts, blind) if not k]
    assert not keep[: len(NEIGHBOURS)].any(), [t for t, k in zip(NEIGHBOURS, keep) if k]
    assert keep[len(NEIGHBOURS):].all(), [t for t, k in zip(ALLOWED_CAPTIONS, keep[len(NEIGHBOURS):]) if not k]


def test_foreign_by_words_on_its_own():
    lower = [t.lower() for t in NEIGHBOURS + ALLOWED_CAPTIONS]
    got = foreign_by_words(lower, ALLOWED, MACRO, margin=1.25, min_words=4)
    assert got[: len(NEIGHBOURS)].all()
    assert not got[len(NEIGHBOURS):].any()
    assert not foreign_by_words(lower, ALLOWED, MACRO, margin=0.0, min_words=4).any()  # off
    # too few words of letters to judge ("42" and "°c" are not words)
    assert not foreign_by_words(["gutten sykler 42 °c"], ALLOWED, MACRO, margin=1.25, min_words=4).any()
    # every language allowed: nothing is foreign
    everything = frozenset(available()) | {"no", "hbs", "tl"}
    assert not foreign_by_words(lower, everything, MACRO, margin=1.25, min_words=4).any()
    assert foreign_by_words([], ALLOWED, MACRO, margin=1.25, min_words=4).shape == (0,)


def test_rows_the_words_judge_are_the_same_in_any_batch():
    texts = NEIGHBOURS + ALLOWED_CAPTIONS
    alone = np.array([language_rule(CaptionBatch.from_texts([t]), CONFIG)[0] for t in texts])
    assert (alone == language_rule(CaptionBatch.from_texts(texts * 3), CONFIG)[: len(texts)]).all()


@pytest.mark.parametrize("field, value", [("word_frequency_margin", -0.5), ("word_frequency_margin", 25.0),
                                          ("word_frequency_min_foreign", 1.5)])
def test_config_names_the_field_and_range(field, value):
    with pytest.raises(ValidationError) as err:
        LanguageRule(**{field: value})
    assert field in str(err.value)


def test_lid_looks_again_in_lowercase_after_the_words():
    """lid.176 gives the languages outside the allow list 0.036 of this Catalan caption as written
    (Spanish, Italian and Portuguese lead) and 0.059 in lowercase: the second look reads both."""
    text = "Un gat dormint al terrat de casa."
    labels, probs = top_languages(pa.array([text, text.lower()]), CONFIG.top_k)
    foreign = [sum(p for lab, p in zip(row, ps) if lab not in ALLOWED) for row, ps in zip(labels, probs)]
    assert foreign[0] < CONFIG.word_frequency_min_foreign <= foreign[1]
    assert not language_rule(CaptionBatch.from_texts([text]), CONFIG)[0]


def test_the_words_keep_an_allowed_caption_lid_takes_for_a_neighbour():
    """lid.176 reads this Portuguese caption as Catalan at 0.79; "criança", "brincando" and "areia"
    are common Portuguese words and no Catalan ones. Without the words it is rejected."""
    texts = ["Criança brincando na areia de Maceió", "Un gat dormint al terrat de casa."]
    assert language_rule(CaptionBatch.from_texts(texts), CONFIG).tolist() == [True, False]
    assert not language_rule(CaptionBatch.from_texts(texts[:1]), LanguageRule(word_frequency_margin=0))[0]


def test_the_words_keep_a_caption_under_a_weak_allowed_top_only_in_a_language_lid_names():
    """lid.176 is unsure of both (no label over 0.2): the Indonesian caption's words are common
    Indonesian ones, and Indonesian is among its top labels; the Galician one's are Portuguese words,
    and Portuguese is not among them. Without the words both are rejected."""
    texts = ["Pendaki beristirahat di puncak Gunung Merapi.", "Polbo á feira cun pouco de pemento"]
    labels, probs = top_languages(pa.array(texts), CONFIG.top_k)
    assert max(probs[0]) < 0.5 and max(probs[1]) < 0.5 and "pt" not in labels[1]
    assert language_rule(CaptionBatch.from_texts(texts), CONFIG).tolist() == [True, False]
    assert not language_rule(CaptionBatch.from_texts(texts[:1]), LanguageRule(word_frequency_margin=0))[0]


def test_a_cut_word_starts_a_common_word():
    from filters.word_frequencies import starts_a_common_word, word_zipf

    assert starts_a_common_word("buil", "en") and starts_a_common_word("entra", "en")
    assert starts_a_common_word("jou", "fr") and starts_a_common_word("samoch", "pl")
    assert not starts_a_common_word("shakshuka", "en") and not starts_a_common_word("qzxv", "en")
    assert word_zipf("building", "en") > 4 > word_zipf("buil", "en") > word_zipf("qzxv", "en") == 0
    assert word_zipf("dog", "xx") == 0.0 and not starts_a_common_word("do", "xx")


# lid.176 cannot place these (top label under 0.6), and no allowed language's list has a word of
# them; the other checks keep them
UNPLACED = [
    "Inkomo zidla utshani eduze komfula.",  # Zulu
    "Umfana udlala nenja yakhe egcekeni.",  # Zulu
    "Wanafunzi wanasoma darasani asubuhi.",  # Swahili
    "Mtu anauza samaki sokoni.",  # Swahili
    # ... or fewer than half of them in a list, under a top label not allowed
    "Feles alba in fenestra dormit.",  # Latin: "alba", "in", "fenestra" are allowed languages' words
    "Mulier panem in furno coquit.",  # Latin
]
# ... and these keep: a run of names; allowed words among rare ones; too few words
PLACED = [
    "Hallstatt Dachstein Salzkammergut Oberösterreich Traunsee",
    "Kanga na kitenge zinauzwa sokoni, a market stall in Mombasa",
    "Tunturissa.",
]
# Two or three words, none in an allowed language's list, two in lowercase, that lid.176 gives a language
# not allowed at `short_foreign_score` or more: rejected (shorter captions are otherwise never judged)
SHORT_FOREIGN = ["Lumisateessa poroja tunturissa.", "Tuulimylly pellon laidalla", "Kiskutya játszik kertben"]
# ... kept: a run of names, a word of an allowed language among them, one word
SHORT_KEPT = ["Hagia Sophia", "Kaffee und Kuchen", "blue sky", "Tunturissa."]


def test_a_caption_in_a_language_lid_cannot_place_with_no_allowed_word_is_rejected():
    labels, probs = top_languages(pa.array(UNPLACED), CONFIG.top_k)
    assert all(p[0] < CONFIG.unplaced_top_score for p in probs)
    assert not language_rule(CaptionBatch.from_texts(UNPLACED), CONFIG).any()
    assert language_rule(CaptionBatch.from_texts(PLACED), CONFIG).all()
    # the switch
    assert language_rule(CaptionBatch.from_texts(UNPLACED), LanguageRule(unplaced_top_score=0)).all()


def test_a_short_caption_sure_of_a_language_not_allowed_with_no_allowed_word_is_rejected():
    assert not language_rule(CaptionBatch.from_texts(SHORT_FOREIGN), CONFIG).any()
    assert language_rule(CaptionBatch.from_texts(SHORT_KEPT), CONFIG).all()
    assert language_rule(CaptionBatch.from_texts(SHORT_FOREIGN), LanguageRule(short_foreign_score=0)).all()  # off


def test_a_neighbours_shared_words_are_no_evidence_of_an_allowed_language():
    # Afrikaans at 0.58 and no allowed language at 0.1: "die" is Afrikaans as much as German
    assert not language_rule(CaptionBatch.from_texts(["Werkers laai bokse in die pakhuis."]), CONFIG).any()
    assert language_rule(CaptionBatch.from_texts(["Die Kinder spielen im Garten mit einem Ball."]), CONFIG).all()


def test_two_words_lid_is_all_but_certain_of_need_one_in_lowercase():
    # Finnish at 1.0 with one word in lowercase; a run of names keeps
    assert not language_rule(CaptionBatch.from_texts(["Kaunis syysmetsä"]), CONFIG).any()
    assert language_rule(CaptionBatch.from_texts(["Hagia Sophia", "Sagrada Familia"]), CONFIG).all()
