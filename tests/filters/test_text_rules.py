"""Every text rule: captions it must keep and captions it must reject, plus its config knobs."""

from __future__ import annotations

import numpy as np
import pytest

from filters.caption_text import CaptionBatch
from filters.catalogue import TEXT_RULES, rule, rules_in_order
from schemas.filter_config import RulesConfig

# rule -> (must keep, must reject), judged by that rule alone with its default config.
CASES: dict[str, tuple[list[str], list[str]]] = {
    "empty": (["A cat on a mat", "x"], ["", "   ", "\n\t\u00a0"]),
    "bad_encoding": (
        # the mojibake repair (ftfy) fixes the last three before the rule sees them
        ["Café au lait on a table", "São Paulo at night", "Ça va? Très bien", "Ångström units", "A — dash",
         "Straße „Am Fluß“ im Regen", "Ã©tÃ© Ã  Paris", "Itâ€™s sunny", "Â\u00a0A cat", "МегаФон открыл новый офис в Москве", "iPhone и MacBook лежат на столе", "Мальчик кормит уток. Một người phụ nữ bán trái cây", "เด็กผู้หญิงกำลังกินไอศกรีม. Кот спит"],
        ["Caf\ufffd on a corner", "a dog\x00 in the park", "锟斤拷锟斤拷 a cat", "Ð¡Ð¾Ð±Ð°Ðº? Ð±ÐµÐ³Ð°ÐµÑ?",
         "縺ｯ縺ｯ a sign", "Красивый закат над морем".encode("koi8_r").decode("cp1251"), "Żółty tramwaj na ulicy w Łodzi".encode("cp1250").decode("cp1251"), "Ένα μικρό σπίτι στο νησί".encode("cp1253").decode("cp1251")],
    ),
    "url": (
        [
            "A cat sitting on a chair",
            "St. Louis arch at dusk",
            "A 3.5 inch disk",
            "Dr. Who poster",
            "U.S. flag on a pole",
            "A co-worker at the desk",
            "e.g. a red apple",
            "The JPEG format explained",
        ],
        [
            "www.example.com",
            "see http://x.org/a",
            "https://t.co/abc",
            "IMG_1234",
            "DSC01234 beach",
            "sunset.jpg",
            "my photo.PNG here",
            "shop.de deals",
            "mail me: a.b@gmail.com",
            "example.com/path",
            "PXL_20210704_183501",
            "ftp://files.net/pics",
        ],
    ),  # fmt: skip
    "boilerplate": (
        ["A stock of firewood by the cabin", "Here is a clique of friends", "A photo taken by the lake", "A shop window with a sale poster", "A tourist buying fruit at a market stall",
         # a phrase starts a word: "act now" is not in "tract now", nor "sign up" in "design updated"
         "A tract now covered in wildflowers along the river", "A kitchen design updated with green tiles",
         "A smartphone showing a 404 page not found error"],
        [
            "Stock photo of a family",
            "CLICK HERE for more",
            "Oops! 404 - page not found",
            "Image may contain: 2 people",
            "Royalty-free cat",
            "a man with a dog (Getty Images via AP)",
            "免费下载 高清壁纸",
            "Please enable JavaScript to watch this video", "(Reuters/Jane Smith)", "Save 40% on all garden furniture this weekend", "Shop our new arrivals today!", "Wholesale supplier of LED bulbs, factory direct",
        ],
    ),  # fmt: skip
    "date_only": (
        [
            "A party on June 12, 2019 in the garden",
            "Monday morning traffic",
            "May flowers in bloom",
            "12345",
            "3.14",
            "Room 101",
        ],
        [
            "June 12, 2019",
            "2019-06-12 14:32",
            "12/06/2019",
            "10:30 AM",
            "2019年6月12日",
            "Posted on May 5, 2018",
            "2021-07-04T18:35:01Z",
            "Monday, 3 March 2020",
            "3 de junio de 2015",
            "12. Dezember 2017",
            "3 сентября 2021 г.", "平成31年4月30日", "15 maggio 2018",
        ],
    ),  # fmt: skip
    "no_letters": (
        ["A 100% cotton shirt", "一只猫", "R2-D2", "x"],
        ["12345", "!!! ???", "🙂🙂", "3.14", "", "$ 25.00"],
    ),
    "digit_run": (
        ["Route 66 sign", "Year 2019 in review", "Bib 12345 at the finish", "1,000,000 people",
         "Rolex Submariner 126610LN on a steel bracelet", "Taken 2019-06-12 at 14:32 by the lake",
         'A sign reading "CALL 06 12 34 56 78" on a van', "Model 3 parked outside a house", "Item 42 on the auction table"],
        ["Call 5551234567", "ID 123456", "order 20190612123456", "code ١٢٣٤٥٦٧", "tel. 06 12 34 56 78",
         "Reservations (212) 555-0147", "Item No. 40293 8812 9930", "Tel. 040 / 123 45 67", "SKU: 77120-RED", "Item #400215", "Ref. A7-3320/B"],
    ),
    "special_chars": (
        [
            "A cat, a dog, and a bird.",
            "Rock 'n' roll!",
            "Dogs :)",
            "A cup of tea (green) with lemon.",
            "一只猫，在睡觉。",
            "Price: $19.99 - on sale",
        ],
        ["@#$% a ^&*( b )_+ c {}|:", "=== SALE === %%% OFF %%% !!!", "(((((( dog ))))))", "a|b|c|d|e|f|g|h"],
    ),  # fmt: skip
    "too_short": (
        ["A red car", "Blue sky today", "一只猫", "小狗在草地上", "แมวนอนอยู่บนโซฟา", "Dog on beach", "blue sky", "Cherry blossoms"],
        ["sky", "Sunset", "cat", "a b", "ok", "图片", "I do", "Eiffel-Tower"],
    ),
    "too_long": (["A dog " * 100, "猫" * 500], ["word " * 513, "a" * 4097, "猫" * 2049]),
    "file_name": (
        ["A screenshot of a weather app showing rain", "Photo of a dog at the beach", "Image of the month: a fox",
         "A 2019 photo of the old bridge", "Seven_Wonders board game box"],
        ["Screenshot 2020-10-02 at 11.22.33", "Screen Shot 2018-01-09 at 5.01.12 AM", "WhatsApp Image 2020-05-05 at 09.11.02",
         "FB_IMG_1591234567890", "mmexport1590000000000", "IMG 0042", "DSC-1182 (2)", "20200101_101010",
         "Bildschirmfoto 2022-07-01 um 10.00.00", "截屏2021-05-06 上午10.11.12", "Untitled design (3)",
         "image (2)", "photo_2020-02-02_10-10-10", "sunset_beach_final_v2", "a3f9c2d1e4b5a6c7d8e9f0a1"],
    ),
    "refusal": (
        ["A woman apologising to her friend on a park bench", "A robot toy on a shelf",
         "An AI generated painting of a castle", "A sign saying \"Sorry, we're closed\"",
         "Here comes the bride walking down the aisle", "Claro que sí, dijo el niño al abrir la puerta",
         "Obraz vytvořený jako AI umění na výstavě v Praze", "En tavla målad som AI-konst på ett galleri i Malmö",
         "Üzgünüm yazan bir tabela ve yanında kırmızı bir bank", "Người đàn ông này là ai trong bức ảnh cũ",
         "Here are some ducks swimming in a pond"],
        ["As an AI language model I can't see the image.", "I'm sorry, but I cannot help with that request.",
         "Unfortunately, I am unable to view images.", "Sure! Here's a caption: a cat on a mat.",
         "Here is a detailed description of the image: two dogs.", "A red barn. Let me know if you need more help!",
         "作为一个AI助手，我无法查看图片。", "Lo siento, pero no puedo ver la imagen.", "No puedo visualizar la imagen que has enviado.", "Voici une description de la photo :", "Certo! Ecco una descrizione dell'immagine:",
         "Üzgünüm, görüntüleri göremiyorum.", "Maaf, saya tidak dapat melihat gambar ini.", "Xin lỗi, tôi không thể xem hình ảnh này.",
         "ขออภัยครับ ผมไม่สามารถดูภาพนี้ได้", "Tyvärr, jag kan inte se bilden.", "Omlouvám se, ale nemohu zobrazit tento obrázek.",
         "Вибачте, але я не можу переглядати зображення.", "Het spijt me, maar ik kan de afbeelding niet zien.",
         "Dabei kann ich dir leider nicht helfen.", "Desculpe, não consigo ajudar com isso.",
         "Here are a few caption options you could use:"],
    ),
    "code": (
        ["A programmer typing on a laptop in a dark room", "A screen showing the text \"def main():\" in an editor",
         "A sign that reads 'if (door == open) { close it; }'", "Select a seat from the front row",
         "The return of the king poster", "A chalkboard with x + y = 5 written on it", "A laptop screen with an error dialog",
         "Menu: soup; salad. Dessert: cake", "Ingredients:\nflour: 200 g", "[Photo] A dog = happy"],
        ["SELECT id FROM photos WHERE score > 0.5", "def f(x): return x + 1", "while (true) { i++; }",
         "import numpy as np", "let x = [1, 2, 3];", "{\"caption\": \"a dog\", \"id\": 7}",
         "#include <stdio.h>", "print('hello world')", "$name = $_GET['q'];", "ReferenceError: foo is not defined", "2023-04-01 10:22:31 ERROR could not open file", "INFO 2021-06-30T12:00:00Z server started on port 8080",
         "color: #333; font-size: 14px;", ".hero img { width: 100%; height: auto; }", "[mysqld]\nport = 3306\nuser = mysql"],
    ),
    "camera_settings": (
        ["A photographer holding a Canon camera at a wedding", "A 50mm lens lying on a wooden table",
         "Close-up of a camera dial showing ISO settings", "A girl taking a selfie with an iPhone", "A hiker standing on a rocky ridge above the clouds at dawn. Exposure: 1/250 sec, Aperture: f/8, ISO 100", "Make: the batter fluffy and light, then bake it",
         "Compression socks on a table next to running shoes"],
        ["f/5.6 1/250s ISO 100", "ISO 3200, 1/30 sec, f/2.0", "Nikon Z6, 70-200mm, f/4, 1/800",
         "Shot on Pixel 7, f/1.9, 1/60s", "Aperture f/11 | Shutter 1/125 | ISO 200 | 24mm", "Lens: 35mm, Flash: did not fire, White Balance: Manual", "FocalLength=50 ExposureBiasValue=0", "Samsung Galaxy S21 back wide camera 5.4mm f/1.8",
         "Software: Adobe Photoshop Lightroom Classic 12.2 (Windows)", "Color Space: sRGB, Bit Depth: 8, Compression: JPEG"],
    ),
    "keyword_list": (
        ["A table with plates, cups, forks, knives and napkins.", "Bananas, apples, oranges and grapes in a bowl",
         "A dog, a cat, a rabbit and a hamster sitting together", "Red, white and blue balloons at a party",
         "Paris, France", "A man wearing a hat, sunglasses, a scarf and gloves in the snow",
         "A mural with the words \"#love #peace #unity\" painted on a wall", "Fresh bread loaves cooling beside the oven", "Grandpa sleeping hammock garden Sunday afternoon", "Apple iPhone 15 Pro Max Natural Titanium 256GB Unlocked",
         "Vista panoramica delle Cinque Terre dal sentiero"],
        ["sunset, sea, sky, clouds, evening", "cat | kitten | pet | cute", "#beach #summer #sun",
         "tree; forest; green; nature; outdoor", "猫、可爱、宠物、动物、家", "kitchen, interior, modern, home design, wood", "mountain lake forest reflection nature scenic calm wilderness", "Keywords: autumn, leaves, park", "Tags: beach sunset"],
    ),
    "stutter": (
        ["Bye bye summer", "A very very old tree", "Walla Walla onions", "New York, New York",
         "Kura-kura di pantai", "Anak anak bermain bola di lapangan", "A 10 10 score on the board",
         "A sign reading \"STOP STOP\" on a pole", "妈妈和宝宝", "Tickets for Talk Talk at the Royal Albert Hall",
         "Vintage Duran Duran concert poster on a bedroom wall"],
        ["a bus bus on the road", "A red red apple on a plate", "Ein Hund Hund im Garten", "Ein Hund Hund läuft über die Wiese",
         "A Red Red Barn In The Snow",
         "Une maison maison blanche", "A boy boy riding a bike"],
    ),
    "repeated_words": (
        [
            "Bye bye summer",
            "A very very old tree",
            "Walla Walla onions",
            "妈妈和宝宝",
            "New York, New York",
            "I know that that is true",
            "La La Land poster",
        ],
        [
            "the the dog",
            "A cat cat cat",
            "dog dog dog dog",
            "a a house",
            "Un chat et et un chien",
            "wow wow wow",
            "哈哈哈哈",
        ],
    ),  # fmt: skip
    # a reader's remark: only words of the day, its people and feelings; a thing named keeps it
    "remark": (
        ["Happy family on a picnic blanket", "Sunday morning", "Winter fun", "Proud father holding his newborn",
         "Best friends forever bracelet", "Happy birthday cake with candles", 'A sign that says "Good vibes only"',
         "Une belle journée à la plage", "Gracias escrito en la arena", "Fröhliche Kinder im Garten",
         "Two friends laughing together at a cafe table", "2024"],
        ["Best weekend ever!", "love you guys", "So grateful for these moments", "Cheers to another year!",
         "Merci à tous pour cette soirée", "Was für eine Woche!", "Qué noche, gracias a todos", "Feels good to be home",
         "Can’t wait for Friday 😍", "Grazie a tutti, che giornata!", "Eindelijk weekend!", "omg 😭"],
    ),  # fmt: skip
}


@pytest.mark.parametrize("name", [n for n in TEXT_RULES if n in CASES])
def test_rule_keeps_clean_and_rejects_noise(name):
    keep, reject = CASES[name]
    batch = CaptionBatch.from_texts(keep + reject)
    mask = rule(name).fn(batch, getattr(RulesConfig(), name))
    assert mask.dtype == np.bool_ and mask.shape == (len(batch),)
    wrongly_rejected = [t for t, m in zip(keep, mask[: len(keep)]) if not m]
    wrongly_kept = [t for t, m in zip(reject, mask[len(keep) :]) if m]
    assert not wrongly_rejected, f"{name} rejected clean captions: {wrongly_rejected}"
    assert not wrongly_kept, f"{name} kept noisy captions: {wrongly_kept}"


def test_every_text_rule_has_cases_here_or_in_its_own_file():
    # the repetition rules, language id and the learned junk score have their own test files
    own_files = {"tail_repetition", "sentence_repetition", "ngram_repetition", "language", "learned_junk"}
    assert set(TEXT_RULES) == set(CASES) | own_files
    assert [s.name for s in rules_in_order("text")] == list(TEXT_RULES)


def _mask(name: str, texts: list[str], **params) -> list[bool]:
    cfg = getattr(RulesConfig(), name).model_copy(update=params)
    return rule(name).fn(CaptionBatch.from_texts(texts), cfg).tolist()


def test_digit_run_threshold_is_configurable():
    assert _mask("digit_run", ["gate 1234", "gate 123"], max_digits=3) == [False, True]


def test_too_short_relaxed_keeps_one_word_captions():
    assert _mask("too_short", ["Sunset", "cat", ""], min_words=1, min_chars=1) == [True, True, False]


def test_too_short_counts_punctuation_free_words_and_wide_characters():
    batch = CaptionBatch.from_texts(["— a — b —", "don't stop", "一只猫", "  "])
    assert batch.n_words.tolist() == [2, 2, 3, 0]
    assert batch.n_chars.tolist() == [9, 10, 6, 0]


def test_repeated_words_knobs():
    texts = ["the the dog", "a cat cat sits", "dog dog dog"]
    assert _mask("repeated_words", texts, pair_words=()) == [True, True, False]
    assert _mask("repeated_words", texts, max_run=1, pair_words=()) == [False, False, False]
    assert _mask("repeated_words", texts, max_run=5) == [False, True, True]


def test_repeated_words_ignores_case_and_punctuation_but_not_row_boundaries():
    assert _mask("repeated_words", ["The, the dog", "dog", "dog", "The end."]) == [False, True, True, True]


def test_special_chars_short_texts_are_not_judged():
    assert _mask("special_chars", ["!?!", "!?!?!?!?!?"]) == [True, False]
    assert _mask("special_chars", ["!?!?!?!?!?"], max_ratio=1.0) == [True]


def test_boilerplate_phrases_are_configurable_and_literal():
    assert _mask("boilerplate", ["a.b c", "axb c", "Stock photo"], phrases=("a.b",)) == [False, True, True]
    assert _mask("boilerplate", ["Stock photo"], phrases=()) == [True]


def test_url_options():
    assert _mask("url", ["IMG_1234 at home"], camera_file_names=False) == [True]
    assert _mask("url", ["shop.de deals"], tlds=("com",)) == [True]
    assert _mask("url", ["scan.tif"], file_extensions=("png",)) == [True]


def test_bad_encoding_options():
    assert _mask("bad_encoding", ["one \ufffd here", "two \ufffd\ufffd"], max_replacement_chars=1) == [
        True,
        False,
    ]
    assert _mask("bad_encoding", ["锟斤拷 a cat"], mojibake=False) == [True]


def test_repeated_words_and_boilerplate_ignore_quoted_spans():
    texts = ['a power switch with "ON" on the top', "a sign with 'the the' misprinted on it",
             'A mug printed with “Click here”', "A power switch with ON on the top"]
    assert _mask("repeated_words", texts) == [True, True, True, False]
    assert _mask("boilerplate", texts) == [True, True, True, True]
    assert _mask("boilerplate", ["Click here to see a cat"]) == [False]


def test_keyword_list_knobs():
    texts = ["red, green, blue", "red, green, blue, yellow", "#a1 #b2 a red barn"]
    assert _mask("keyword_list", texts) == [True, False, True]
    assert _mask("keyword_list", texts, min_items=3, min_hashtags=2) == [False, False, False]
    assert _mask("keyword_list", ["#a1 #b2", "#a1 🙂 #b2"]) == [False, False]  # two tags and nothing else


def test_stutter_only_in_languages_that_do_not_double_words():
    texts = ["Seorang anak anak bermain di pantai yang indah", "A little little dog sleeping on a sofa"]
    assert _mask("stutter", texts) == [True, False]
    assert _mask("stutter", texts, languages=()) == [True, True]
    assert _mask("stutter", texts[1:], allowed=("little",)) == [True]


def test_a_phrase_written_twice_is_a_stutter_but_a_chain_or_a_list_is_not():
    stutters = ["A kitchen with a kettle a kettle and a toaster", "Two girls flying a kite two girls flying a kite on a hill",
                "Ein Mann fährt Fahrrad ein Mann fährt Fahrrad im Park", "Un chat noir un chat noir dort sur le lit"]
    kept = ["Row after row after row of grapevines", "Cups on cups on cups stacked on a shelf",
            "one after another after another, across the square", "New York, New York at night",
            "A cat on a mat. A cat on a mat.",  # a sentence again: `sentence_repetition`'s to judge
            "alternating black and white black and white floor tiles", "A mug saying \"good luck good luck\"",
            "A clock going tick tock tick tock", "A Western lowland gorilla (Gorilla gorilla gorilla) eating leaves"]
    assert _mask("stutter", stutters + kept) == [False] * len(stutters) + [True] * len(kept)
    assert _mask("stutter", stutters, max_phrase_words=0) == [True] * len(stutters)
    assert _mask("stutter", stutters[:1], max_phrase_words=1) == [True]  # "a kettle" is two words


def test_a_doubled_particle_is_a_stutter_in_any_language_but_not_a_doubled_pair():
    texts = ["一只小狗在在草地上奔跑。", "桌子的的上面有一个苹果", "公園のの中で子供が遊んでいる。", "窓をを開けた部屋",
             "他实实在在地做完了工作。", "的的确确是一只黑猫", "葛飾北斎の「富嶽三十六景」の一枚", "一只猫在沙发上睡觉"]
    assert _mask("stutter", texts) == [False] * 4 + [True] * 4
    assert _mask("stutter", texts[:4], particles=()) == [True] * 4
    with pytest.raises(ValueError, match="particles"):
        RulesConfig(stutter={"particles": ["ab"]})


def test_code_and_camera_knobs():
    assert _mask("code", ["x == y && z"], min_signals=2) == [True]  # one weak kind of signal
    assert _mask("code", ["x == y && z;"], min_signals=2) == [False]
    assert _mask("camera_settings", ["f/2.8 ISO 100 on a sunny summer day at the quiet mountain lake"]) == [True]
    assert _mask("camera_settings", ["f/2.8 ISO 100 on a sunny summer day at the quiet mountain lake"], max_other_words=10) == [False]


# Held-out junk kinds (issue 17): each rule, on kinds of text it missed before.
MORE_REJECTS: dict[str, list[str]] = {
    "date_only": ["2021년 9월 14일", "2020年5月3日 午前10時", "2019/11/02 (金) 08:15", "5 days ago",
                  "Last updated: 4 hours ago", "ngày 2 tháng 8 năm 2019"],
    "digit_run": ["1920 x 1080", "640×480 px"],
    "camera_settings": ["GPS 51.5007, -0.1246", "Aperture: f/2.8, Shutter speed: 1/60"],
    "code": ["npm ERR! missing script: start", "ERROR 1146 (42S02): Table 'shop.users' doesn't exist",
             "model = nn.Linear(768, 10)"],
    "boilerplate": ["Please accept cookies to view this content", "Pin on Home decor ideas", "Open in app",
                    "Livraison gratuite sur toutes les commandes", "Frete grátis em todo o site",
                    "Get 100 free spins with your welcome bonus", "全场五折，限时特价", "送料無料でお届けします"],
    "keyword_list": ["sunset ocean waves beach summer tropical", "山 湖 森林 风景 自然 旅游",
                     "vintage retro poster design illustration graphic", "online learning education student laptop study"],
    "stutter": ["A cat sleeping on the the sofa", "Sunset over the lake. lake.", "A red bus on a bridge. Bridge."],
    "refusal": ["I am unable to create a caption for this image.", "That request goes against my guidelines."],
}
MORE_REJECTS["date_only"] += ["5. März 2019, 14:30 Uhr", "12 Şubat 2021 Cumartesi", "mercredi 4 juin 2014"]
MORE_REJECTS["digit_run"] += ["Lot 118 / Batch 22C", "SKU 4401, EAN 4006381333931"]
MORE_REJECTS["camera_settings"] += ["Sony FE 24-70mm F2.8 GM OSS", "Tamron 28-75mm f/2.8 Di III RXD",
                                    "Ilford HP5 Plus, Leica M6, 50mm f/2"]
MORE_REJECTS["code"] += ["502 Bad Gateway", "Fatal error: Allowed memory size exhausted"]
MORE_REJECTS["boilerplate"] += ["Image courtesy of the museum", "Download full-size image",
                                "This video is not available in your country", "Klicken zum Vergrößern",
                                "Crypto signals – join our Telegram channel", "Compra ahora y ahorra hasta 50%"]
MORE_KEEPS: dict[str, list[str]] = {
    "date_only": ["A calendar page showing March 2021", "Fireworks over the harbour 3 hours after sunset"],
    "digit_run": ["A 1920 x 1080 monitor on a wooden desk"],
    "camera_settings": ["A GPS unit mounted on a bicycle handlebar"],
    "code": ["A programmer typing code on a laptop at night"],
    "boilerplate": ["A baker taking fresh cookies out of the oven", "Colourful pins on a corkboard map"],
    "keyword_list": ["Sunset over calm ocean waves", "Cat Cat Cat Cat Cat Cat", "一只小猫在窗台上晒太阳",
                     "Pemandangan Gunung Bromo saat matahari terbit"],
    "stutter": ["A kite high above it. It flies over the beach", "She said no. No one argued with her"],
    "refusal": ["A robot toy that cannot walk on sand"],
}
MORE_KEEPS["camera_settings"] += ["A photographer loading Portra 400 film into a camera on a rooftop at dawn"]
MORE_KEEPS["keyword_list"] += ["Morning fog over the harbour from our balcony #travel #lisbon #sunrise",
                               "MEN'S RUNNING SHOE - NAVY BLUE - SIZE 42", "厨房 里 有 一只 猫"]
MORE_REJECTS["keyword_list"] += ["#food #foodie #yum #instafood nice", "连衣裙 夏季 显瘦 2024新款 碎花 长裙",
                                 "レディース ワンピース 春 夏 ロング 体型カバー"]
MORE_KEEPS["url"] = ["A delivery van with \"www.fastbikes.com\" painted on its side"]
MORE_REJECTS["url"] = ["Order at www.fastbikes.com today"]
MORE_REJECTS["boilerplate"] += ["Add to wishlist", "Default product image", "Sorry, this photo is currently unavailable",
                                "Unlimited gems mod APK no root"]
MORE_REJECTS["refusal"] += ["It seems the image did not load, please try again", "Unable to generate caption."]
# set AD's kinds (issue 17): a captioning model's failure message, UTF-8 Japanese read as Shift-JIS,
# Vietnamese read as Windows-1252 and partly mended, tag-a-friend prompts, "reproduction prohibited"
MORE_REJECTS["refusal"] += ["Error: the captioning model timed out while processing the image.",
                            "[Model did not return any output]", "No caption was generated",
                            "El modelo no devolvió ninguna descripción.", "模型未返回任何描述"]
MORE_REJECTS.setdefault("bad_encoding", []).extend(["縺薙・蜀咏悄縺ｯ", "蜀咏悄逕ｻ蜒上・豬ｷ縺ｮ", "Chợ Bến Thành ở Sài Gòn Ä‘ẹp"])
MORE_REJECTS["keyword_list"] += ["Katze Kätzchen Haustier flauschig grau Fell niedlich",
                                  "montaña nieve invierno paisaje frío naturaleza España"]
MORE_KEEPS["keyword_list"] += ["Staré město v Praze za úsvitu", "Sahilde koşan kızıl saçlı genç kadın",
                               "Cô gái mặc áo dài đứng bên hồ sen", "Kinder bauen einen Schneemann im Garten"]
# set AE: a product's own name in title case keeps its small "with"; a listing capitalises it or runs on
MORE_KEEPS["keyword_list"] += ["Linen Apron with Two Front Pockets", "Oak Bedside Table with Woven Rattan Drawer"]
MORE_REJECTS["keyword_list"] += ["Bluza Damska Oversize Z Kapturem Ciepła Bawełna Sportowa",
                                 "Kids Rain Jacket Waterproof Lightweight Hooded Raincoat with Reflective Strips Boys Girls Outdoor"]
MORE_REJECTS["boilerplate"] += ["Hình ảnh chỉ mang tính chất minh họa cho bài viết", "Sent from my Samsung Galaxy",
                                "Posted on 2 May 2019 by editor", "Kış indirimi başladı, kargo bedava!"]
MORE_REJECTS["refusal"] += ["The user wants me to describe this photo. Let me look at the details first.",
                            "Okay, let me think about what is in this image."]
MORE_REJECTS["bad_encoding"] += ["Zamek Kr?lewski nocą"]
MORE_REJECTS["stutter"] += ["Sunset over the bay over the bay with boats", "駅で駅で待っている人々", "공원에서 공원에서 뛰는 개"]
MORE_REJECTS["keyword_list"] += ["giày nữ, giày cao gót, giày công sở, giày đẹp, giá rẻ"]
MORE_KEEPS["refusal"] += ["A poster that says let me think about it", "A notice posted on the door by the manager"]
MORE_KEEPS["stutter"] += ["好的好的，我们马上出发", "빨리 빨리 뛰어가는 아이들"]
# set AF's kinds: function words written twice in the other allowed languages, Han/Kana tags apart by
# "/" or with a short Latin tag, server errors with their code, readers' comments, resellers' small print
MORE_REJECTS["repeated_words"] = ["Rower stoi przy przy ścianie domu", "Một chiếc xe đạp dựng trên trên vỉa hè",
                                   "رجل يجلس في في المقهى"]
MORE_KEEPS["repeated_words"] = ["La La Land poster on a cinema wall", "A toddler shaking his head: no, no"]
MORE_REJECTS["keyword_list"] += ["メンズ/シャツ/長袖/綿/白/夏", "风景 壁纸 高清 手机 电脑 4k"]
MORE_KEEPS["keyword_list"] += ["東京/大阪間を走る新幹線"]
MORE_REJECTS["boilerplate"] += ["Ошибка 502: сервер не отвечает", "エラーが発生しました。再度お試しください。",
                                "求链接！！", "Đẹp quá, cho xin link với", "카톡 문의 환영합니다"]
MORE_KEEPS["boilerplate"] += ["A screen showing the number 404 in large digits"]
# set AG's kinds: reasoning chatter, "back to top" and sales "up to -60 %" in more languages
MORE_REJECTS["refusal"] += ["Hmm, wait, let me check the colours again.", "Thinking... the user wants a short caption."]
MORE_REJECTS["boilerplate"] += ["Powrót na górę", "Rebajas de verano: hasta -50 %"]
MORE_KEEPS["boilerplate"] += ["A shop window sign advertising discounts up to 70%"]
MORE_KEEPS["stutter"] += ["Kites flying one behind another behind another over the dunes"]
MORE_REJECTS["boilerplate"] += ["Tag someone who would love this view!", "Markiere einen Freund, der das sehen muss",
                                "Foto di Marco Rossi, riproduzione vietata", "Перепечатка запрещена без ссылки"]
MORE_REJECTS["date_only"] += ["Captured 12.05.2021 • 08:15"]
MORE_REJECTS["camera_settings"] += ["Nikon Z6 + Tamron 70-180mm @ f/2.8"]
MORE_KEEPS["language"] = ["茶餐廳嘅菠蘿包同奶茶", "喺維港海邊睇日落"]
MORE_REJECTS["language"] = ["Egy idős férfi sétál a kutyájával a Duna partján reggel."]
# a letter only the top (foreign) language writes settles a short text: Azerbaijani "ə", Danish "ø"
MORE_REJECTS["language"] += ["Pişik pəncərədə yatır.", "Hunden løber efter bolden"]
MORE_KEEPS["language"] += ["The Ørsund bridge at dusk", "Smørrebrød on a plate"]
MORE_REJECTS["bad_encoding"] = ["Żółw pływa w małym stawie".encode("cp1250").decode("cp1252"),
                                "Güneşli bir günde sahilde yürüyüş".encode("cp1254").decode("cp1252"),
                                "Ночь над старой площадью".encode("cp1251").decode("cp866"),
                                "Ранок на вулиці, кава".encode("cp1251").decode("iso8859_5")]
MORE_KEEPS["bad_encoding"] = ["Ørsted wind turbines near Tromsø", "Mère et fils au cœur de Nîmes", "Київ — Киев",
                              "Dvořák statue in Prague at dusk"]
MORE_REJECTS["camera_settings"] += ["Canon PowerShot G7 X", "Edited with Lightroom, VSCO preset A6", "300 dpi, 6000 x 4000"]
MORE_REJECTS["refusal"] += ["Caption generation failed.", "Response blocked by safety filter"]
MORE_REJECTS["boilerplate"] += ["Default profile picture", "Caption goes here", "Kein Bild vorhanden",
                                "Share to win a weekend for two", "Diskon 70% hari ini saja, gratis ongkir"]
MORE_REJECTS["date_only"] += ["1 มกราคม 2566", "Thứ Sáu, 03/05/2024"]
MORE_REJECTS["keyword_list"] += ["dog cute dog puppy dogs pet animal friend"]
MORE_KEEPS["code"] += ["A server room with blinking lights and cables"]
# breadcrumbs (a home page's name, then a trail; or three short steps apart by "»", "›", "→"), a
# shop's tax and shipping small print, and a Japanese preamble that only promises a description
MORE_REJECTS["boilerplate"] += ["Startseite » Fahrräder » Zubehör", "Головна › Новини › Спорт", "หน้าแรก > สินค้า > รองเท้า",
                                "Beranda > Resep > Kue", "首頁 > 相簿", "Outdoor › Zelte › Kuppelzelte",
                                "Preis: 12,99 € inkl. 19% MwSt.", "Tous les prix TTC, frais de port offerts"]
MORE_KEEPS["boilerplate"] += ["A road sign with arrows: Lyon → Paris", "Ice → water → steam drawn on a classroom board",
                              "Un panneau « Sortie » et une flèche vers la gauche", "Home office desk by a sunny window"]
MORE_REJECTS["refusal"] += ["はい！こちらが写真の説明です。", "Based on this picture, there are"]
# ratings, pagination, stock counters, instalments, price labels, sales that end, giveaways, subscribe
# prompts and empty titles in the allowed languages
MORE_REJECTS["boilerplate"] += ["4,1 z 5 gwiazdek", "Valutazione: 4,5 su 5", "1.204 Bewertungen", "Strana 4 z 7",
                                "← Précédent | Suivant →", "Plus que 3 en stock !", "Zostały tylko 2 sztuki",
                                "10 taksit imkanı", "Ціна: 850 грн", "Oferta termina hoy a medianoche",
                                "Win a free gift card today", "Подпишитесь на наш канал", "Senza titolo 2",
                                "Zonder titel (3)"]
MORE_KEEPS["boilerplate"] += ["A 1/5 scale model of a steam locomotive", "Next to the river, a row of houseboats",
                              "Untitled No. 7 by an abstract painter, oil on canvas, 1962, hanging in a gallery"]
MORE_REJECTS["keyword_list"] += ["주방 수납 정리 인테리어 아이템 추천", "和風 旅館 温泉 露天風呂 紅葉 2022"]
MORE_KEEPS["keyword_list"] += ["골목길 벽화 앞에서 사진을 찍는 학생들", "고양이 한 마리 창가 햇살 오후 낮잠"]
MORE_REJECTS["bad_encoding"] += ["Красивый закат Ñ? морем"]
MORE_KEEPS["bad_encoding"] += ["¿ESPAÑA? A banner in Madrid"]
# shop-word runs, catalogue entries, bare hashtags, giveaways, contact spam, instalments, lossy "?"
MORE_REJECTS["keyword_list"] += ["laptop gaming murah terbaru grosir", "zapatillas running baratas comprar online",
                                 "sofa cama barato oferta envío gratis", "#tbt ✨ #memories"]
MORE_KEEPS["keyword_list"] += ["A market stall selling cheap sunglasses and hats",
                               "Vase, blown glass, 34 cm high, Murano, 1950s",
                               "Bronze figure of a horse, 18th century, gilded base"]
MORE_REJECTS["boilerplate"] += ["Gran sorteo: comenta y gana", "Tag 3 friends to enter", "DM me for price",
                                "微信号 shop888", "Pay in 4 interest-free payments", "Paiement en 4 fois sans frais",
                                "Compre em 10x sem juros"]
MORE_REJECTS["refusal"] += ["This photograph depicts the", "The picture shows an"]
MORE_KEEPS["refusal"] += ["The image shows a child feeding ducks at a pond"]
MORE_REJECTS["bad_encoding"] += ["Kraków w zimie, wid?k na Wis?? i Wawel".replace("ó", "?"),
                                 "Zam\u00c4\u2026r nad jeziorem i \u20ac"]
MORE_KEEPS["bad_encoding"] += ["What? A cat? On the roof?", "Malmö Ås at night by the harbour"]
# classified-ad small print opening a text, video and app-store furniture, cut-off model descriptions,
# special tokens
MORE_REJECTS["boilerplate"] += ["Serious buyers only, no lowballers", "Prezzo fisso, solo ritiro a mano",
                                "Самовывоз, торг возможен", "Up next: 10 easy dinner recipes", "Contains ads",
                                "Get it on Google Play", "Bug fixes and performance improvements."]
MORE_KEEPS["boilerplate"] += ["Altes Sofa mit Kissen im Wohnzimmer, Zustand gut, nur Abholung.",
                              "A boxer rings the bell in the corner of the ring"]
MORE_REJECTS["refusal"] += ["La imagen muestra a un hombre con", "Na zdjęciu widać kobietę z", "这张照片中有一个",
                            "写真には子供たちが", "A red kite over the hills<|endoftext|>", "Two dogs on a sofa <|eot_id|>"]
MORE_REJECTS["boilerplate"] += ["Nhấn vào ảnh để xem ảnh gốc"]
MORE_REJECTS["refusal"] += ["はい、こちらが写真のキャプションです。"]
MORE_KEEPS["refusal"] += ["La imagen muestra a un hombre con un paraguas rojo bajo la lluvia",
                          "写真には子供たちが公園で遊んでいる様子が写っている"]


@pytest.mark.parametrize("name", sorted(MORE_REJECTS))
def test_rule_rejects_the_kinds_a_held_out_set_found(name):
    keep = MORE_KEEPS.get(name, [])
    mask = _mask(name, keep + MORE_REJECTS[name])
    assert mask[: len(keep)] == [True] * len(keep), [t for t, m in zip(keep, mask) if not m]
    assert not any(mask[len(keep):]), [t for t, m in zip(MORE_REJECTS[name], mask[len(keep):]) if m]
# set AH: readers' comments (laughter that opens or ends a short text, praise after "wow"), thanks for
# sharing, Ukrainian shop and copyright lines
MORE_REJECTS["boilerplate"] += ["hahaha so true 😂", "jajaja qué bueno", "kkkkk que isso", "wkwkwk ngakak parah",
                                "mdr j'en peux plus", "ахахаха лучшее", "ㅋㅋㅋㅋ 대박", "哈哈哈哈太好笑了",
                                "this is me every monday lol", "wow so beautiful 😍😍", "Thank you for sharing this!",
                                "Додати до кошика", "Усі права захищено"]
MORE_KEEPS["boilerplate"] += ["Lake Haha in the mountains", "A 555 timer chip on a breadboard", "The XD logo on a camera",
                              "A T-shirt printed with \"HAHA\" in red letters", "Wow, a beautiful sunset over the sea",
                              "A lollipop on a table"]
# set AI: readers' comments on the post (not the image) in the allowed languages, out-of-stock notices, money
# from home; kept: a French description with "œ", "è" and "ê"
MORE_REJECTS["boilerplate"] += ["Great post, thanks for sharing the tips!", "Vielen Dank für den Beitrag!",
                                "Merci pour ce partage", "Спасибо за обзор, всё понятно", "좋은 글 감사합니다",
                                "谢谢分享，收藏了", "Terima kasih infonya gan", "Bedankt voor het delen!",
                                "Momentan nicht verfügbar", "Esgotado", "Sin stock",
                                "Evden para kazan, hemen DM at"]
MORE_KEEPS["boilerplate"] += ["Un coureur agotado? No: a runner resting after a marathon in Madrid",
                              "A thank-you card on a desk next to a coffee cup"]
MORE_KEEPS.setdefault("bad_encoding", []).append(
    "Un cœur en pâte d'amande sur une tarte, à côté d'une fenêtre et de la lumière du soir")
# a Kana particle before a hiragana word that starts with it is no stutter ("屋ののれん": the shop's noren)
MORE_KEEPS["stutter"] += ["ラーメン屋ののれんが風に揺れている", "鮭ののり巻きが皿にのっている"]
MORE_REJECTS.setdefault("stutter", []).append("公園ののベンチに猫が座っている")
# sets AK-AM: praise and questions that open a short comment, birthday wishes, loan, betting and sign-up
# spam, a price alone, cut-off model openers, hedging, alt-text preambles, turn tokens; kept: captions that
# start like them, a word listed three times
MORE_REJECTS["boilerplate"] += ["Che meraviglia!!", "Keren banget kak!", "太美了吧！！", "สวยมากค่ะ", "Wie schön! 😍",
                                "Nádhera, kde to je?", "와 대박 너무 예뻐요 ㅠㅠ", "Happy birthday buddy!! 🎉",
                                "How much did it cost?", "Where did you get that lamp?? asking for a friend",
                                "Szybka pożyczka bez BIK, zadzwoń teraz!", "Займы онлайн без отказа и проверок",
                                "Apuestas deportivas: bono de bienvenida", "지금 가입하면 3만원 쿠폰 증정!", "89 руб.",
                                "This made my day 😂😂"]
MORE_KEEPS["boilerplate"] += ["Wat mooi huis aan de gracht in Amsterdam", "Happy birthday balloons",
                              "A birthday cake with candles that says happy birthday",
                              "Where is the cat? A poster in a shop window", "Casino building in Macau at night",
                              "Pie chart of electricity generation by source: gas 38%, coal 19%, wind 17%"]
MORE_REJECTS["refusal"] += ["A photo of a woman standing next to a", "The image is a close-up of a", "この画像には、",
                            "It is not possible to say with certainty what is depicted, but it could be a house.",
                            "As requested, here is the alt text in under 125 characters:", "<start_of_turn>model A",
                            "Omlouvám se, ale s tímto požadavkem vám nemohu pomoci."]
MORE_KEEPS["refusal"] += ["A photo of a dog sleeping on a red sofa", "この画像には、桜の木の下で遊ぶ子供たちが写っています。",
                          "The image is slightly blurry but shows a red car"]
MORE_KEEPS["repeated_words"] += ["A knitted scarf with a pattern of hearts, hearts, hearts along its whole length."]
MORE_REJECTS.setdefault("repeated_words", []).extend(["a dog dog dog on the beach", "一个男人在在在在在骑自行车"])
# set AN: photo sites' and classifieds' furniture, praise of a shot, sign-up and gold-buying spam, several
# numbered captions, a visual question's prompt or answer, descriptions that commit to nothing; kept: a
# doubled word across a colon (a label and its value), captions that start like them
MORE_REJECTS["boilerplate"] += ["Great shot! Love the colours 😍", "Thanks for the fave!", "Seen in the group: Macro",
                                "Sold, thanks everyone", "Compro oro y plata, pago al instante, llame ya",
                                "Vydělejte si až 2000 Kč denně z pohodlí domova!", "รับทำเงินออนไลน์ รายได้วันละ 3,000 บาท"]
MORE_KEEPS["boilerplate"] += ["A sold sign in front of a house", "Sold out concert at the stadium", "Sold rose",
                              "Great shot of the harbour at dusk by a local photographer"]
MORE_REJECTS["refusal"] += ["1. A cat. 2. A cat on a sofa. 3. A grey cat on a sofa.", "Answer: yes",
                            "Answer the question using a single word or phrase.",
                            "Légende 1 : Un chat sur un canapé. Légende 2 : Un chat gris dort.",
                            "The image appears to be a photograph of something, possibly indoors or outdoors."]
MORE_KEEPS["refusal"] += ["A list of steps: 1. mix flour 2. add eggs 3. bake"]
MORE_KEEPS["stutter"] += ["Placa de posto de gasolina: gasolina R$ 5,89, etanol R$ 3,99."]
# set AO's kinds: descriptions broken off, unfilled templates, multiple-choice answers, condolences, prize,
# essay, insurance and loan spam, a file's bytes, coordinates alone, slash-separated and spaced Han tags
MORE_REJECTS["refusal"] += ["Three children are building a sandcastle with a", "Ein Mann repariert sein Fahrrad mit einem und",
                            "A bowl of ramen topped with egg and", "Um gato dorme em cima de uma",
                            "A postcard of [location] at sunset", "Answer: C", "Option 1: A red barn. Option 2: A silo."]
MORE_KEEPS["refusal"] += ["Lanterns over the old town of Hoi An", "Passengers boarding at Gate A",
                          "A sign that reads 'Welcome to the'", "A fox peeking out of its den",
                          "A quiz show screen listing Option A: Paris and Option B: Rome"]
MORE_REJECTS["boilerplate"] += ["Congrats!! You have won a free iPhone 15, claim now", "Cheap essay writing help for students",
                                "Autokredit jetzt online vergleichen", "Pożyczka na dowód i kredyt bez BIK w 10 minut",
                                "Lose 7 kg in 2 weeks with this drink", "Proudly powered by Squarespace",
                                "GIF89a", "RIP legend 🕊️", "Descansa en paz, abuelo", "安息吧", "41°24′12″ N, 2°10′26″ E",
                                "That's my favourite spot in the whole world!", "美しすぎる…", "好可爱！！"]
MORE_KEEPS["boilerplate"] += ["A headstone engraved with the words rest in peace", "Compass rose showing 90° E on a chart",
                              "A poster for an essay competition on climate change", "Baggage claim here, says the sign"]
MORE_REJECTS["keyword_list"] += ["kitchen/modern/white cabinets/marble/island", "紅葉 京都 寺 秋 旅"]
MORE_KEEPS["keyword_list"] += ["A black/white cat on the stairs", "メンズ ダウンジャケット 軽量 撥水 Lサイズ"]
MORE_KEEPS["digit_run"] = ["CCTV frame stamped 2023-11-08 22:17 of a car park"]


def test_unfinished_descriptions_are_configurable():
    cut = ["A man walking his dog along the", "Zwei kleine Kinder spielen im Garten mit einem Ball und"]
    assert _mask("refusal", cut) == [False, False]
    assert _mask("refusal", cut, unfinished_min_words=0) == [True, True]  # off
    assert _mask("refusal", cut, unfinished_min_words=9) == [True, False]  # seven words, then ten
    assert _mask("refusal", cut, unfinished_words=("und",)) == [True, False]
    # the last word as written: a capital makes it a name or a label
    assert _mask("refusal", ["Queue of buses at bay The", "Boarding pass for seat row A"]) == [True, True]


def test_a_caption_that_says_nothing_is_configurable():
    said = ["The photo shows some objects in the background.", "The photo shows a kettle in the background."]
    assert _mask("refusal", said) == [False, True]
    assert _mask("refusal", said, nothing_said_min_words=0) == [True, True]  # off
    assert _mask("refusal", said, nothing_said_min_words=9) == [True, True]  # eight words
    assert _mask("refusal", said, nothing_said_words=("the", "photo", "shows", "some", "in", "background")) == [True, True]


def test_a_readers_remark_is_configurable():
    said = ["Good times with good people", "Good times with good people at the lake"]
    assert _mask("remark", said) == [False, True]
    assert _mask("remark", said, max_words=0) == [True, True]  # off
    assert _mask("remark", said, max_words=4) == [True, True]  # five words
    assert _mask("remark", said, feelings=("happy",)) == [True, True]  # "good" is no longer a feeling
    assert _mask("remark", ["What a day", "What a day!"]) == [True, False]  # no feeling, but a "!"


def test_remark_words_config_names_the_field():
    from pydantic import ValidationError
    with pytest.raises(ValidationError, match="feelings are single lowercase words"):
        RulesConfig.model_validate({"remark": {"feelings": ["Happy"]}})


def test_unfinished_words_config_names_the_field():
    from pydantic import ValidationError

    from schemas.filter_config import RefusalRule

    for bad in (("The",), ("next to",), ("",)):
        with pytest.raises(ValidationError, match="unfinished_words"):
            RefusalRule(unfinished_words=bad)
    with pytest.raises(ValidationError, match="unfinished_min_words"):
        RefusalRule(unfinished_min_words=-1)


# set AP's kinds: messaging exports, wishes and condolences with words after them, price questions,
# mask tokens, visual question transcripts, prompts as captions, people-recognition refusals, casino
# and betting spam in more languages, semicolon tag lists, Chinese and Japanese text broken off, list loops
MORE_REJECTS["boilerplate"] += ["<Medien ausgeschlossen>", "video omitted", "Congratulations Anna!! So proud of you 🎓",
                                "Feliz cumpleaños hermana, te quiero mucho ❤️", "RIP, gone too soon",
                                "How much is it? Do you ship to Spain?", "Quanto custa? Entrega em SP?",
                                "Jak słodko! Skąd go macie?", "Bonus sans dépôt pour nouveaux joueurs", "slot gacor hari ini",
                                "cheapest locksmith near me open now"]
MORE_KEEPS["boilerplate"] += ["A graduation cake that says Congratulations Anna", "A cheap hotel near the station at night",
                              "A florist arranging a wreath that reads rest in peace"]
MORE_REJECTS["refusal"] += ["[MASK] riding a [MASK] on the beach", "Question: How many dogs? Answer: two",
                            "Please describe this image.", "请描述这张图片。", "I can't identify people based on their faces.",
                            "一位老人坐在公园的长椅上看报纸，旁边有一只", "海辺で遊んでいる子供たちを"]
MORE_KEEPS["refusal"] += ["A teacher's worksheet with Question: 2 + 2 = ? and Answer: 4 written below",
                          "公园里的小狗和小猫", "市場でいろいろな野菜を売っている"]
MORE_REJECTS["keyword_list"] += ["garden; patio; decking; outdoor lighting; before and after"]
MORE_REJECTS["ngram_repetition"] = ["On the desk there is a laptop, a mug, a pen, a notebook, a lamp, a phone, a pen, a "
                                    "notebook, a lamp, a phone, a pen, a notebook, a lamp"]
MORE_KEEPS["ngram_repetition"] = ["A long table set for a feast with plates, glasses, candles and flowers, and guests "
                                  "arriving through the garden gate as the sun sets behind the old barn"]


def test_set_ap_kinds_after_the_parametrised_test():
    """The kinds above that the parametrised test (collected before them) does not list."""
    for name in ("ngram_repetition",):
        keep = MORE_KEEPS.get(name, [])
        mask = _mask(name, keep + MORE_REJECTS[name])
        assert mask == [True] * len(keep) + [False] * len(MORE_REJECTS[name]), name


# set AQ's kinds: a page still loading, guaranteed returns, a reasoning model's second thoughts
MORE_REJECTS["boilerplate"] += ["Caricamento in corso...", "Загрузка…", "Guaranteed returns of 20% a month, DM now",
                                "Яка краса!"]
MORE_REJECTS["refusal"] += ["Wait, actually, the animal is a fox, not a dog. Let me reconsider the colours."]
MORE_KEEPS["bad_encoding"] += ["La città più bella è Firenze", "Straße in Köln"]
MORE_REJECTS["bad_encoding"] += ["Gro??e Stra??e in M??nchen"]


# set AR's kinds: readers asking the others, agreeing, praising the shot; thanks for sharing in more
# languages; a recipe's step; buyers' feedback; bought followers and money online; multiple-choice
# answers anywhere, a question waiting for its answer; a Japanese polite verb cut short; letters lost
# as "?" at a word's edge; an article doubled ("la la"); a Korean subject doubled; EV written first;
# an SEO list saying its keyword again; a sign's text after a colon counts as quoted
MORE_REJECTS["boilerplate"] += ["Does anybody know what breed this is?", "Czy ktoś wie, gdzie to jest?", "Merci du partage !",
                                "感谢分享", "Gorgeous shot, mate!", "Schönes Foto!", "Preheat your oven to 200 degrees first",
                                "Tell me below which one you like best", "Fast shipping, great seller, recommend!",
                                "Comprar seguidores Instagram baratos", "Ganar dinero por internet desde casa",
                                "Totally agree with you on this one", "Banner ad template: buy now 50% off",
                                "Can anybody identify this moth? Found it on my porch"]
MORE_KEEPS["boilerplate"] += ["Lovely photo of a heron on a post", "Shop window poster: 30% off all shoes, today only",
                              "A chef preheating the oven in a busy kitchen"]
MORE_REJECTS["refusal"] += ["The correct answer is (C) a lighthouse.", "Réponse : (B) un chat",
                            "Q: What colour is the car? Answer:", "猫がソファの上で寝ていま", "正解は B"]
MORE_KEEPS["refusal"] += ["A teacher pointing at the answer written on a whiteboard"]
MORE_REJECTS["bad_encoding"] += ["Wycieczka do ?odzi i okolic", "Ch?opiec je? na rowerze po parku"]
MORE_KEEPS["bad_encoding"] += ["Is this the way? Yes, follow the signs"]
MORE_REJECTS["stutter"] += ["Des enfants jouent sur la la plage", "강아지가 강아지가 공원에서 뛰어요"]
MORE_KEEPS["stutter"] += ["A cinema poster for La La Land"]
MORE_REJECTS["camera_settings"] += ["EV -0.3, WB Auto, Metering: Spot"]
MORE_REJECTS["keyword_list"] += ["vestido de noiva, vestido longo, noiva, vestido de festa, casamento"]
MORE_KEEPS["keyword_list"] += ["Red apples, green apples and yellow pears in a wooden crate at the market"]


# set AS's kinds: buyers' feedback and questions to the seller across the marketplaces' languages, a shop's
# order and contact lines, prices in instalments; a visual question's answer, a model's made-up words and
# its output switching script word by word; Chinese broken off on "正在"; phrases of three words doubled in
# any language, Arabic and Thai doublings, Turkish locatives, Indonesian and Vietnamese function words;
# marketplace titles' selling words; a comma between digits is no list separator; an error code with a
# description after it is a caption
MORE_REJECTS["boilerplate"] += ["Paket sudah diterima, sesuai deskripsi, terima kasih seller",
                                "Giao hàng nhanh, đóng gói cẩn thận", "已收到货，物流很快", "Fiyatı ne kadar?",
                                "Còn size M không shop?", "이 가방 얼마예요?", "Hubungi admin untuk pemesanan",
                                "R$ 129,90 à vista", "12x sem juros no cartão", "Скільки коштує?"]
MORE_KEEPS["boilerplate"] += ["A courier handing a parcel to a customer at the door",
                              "Error 500 message shown on a monitor in a dark office"]
MORE_REJECTS["refusal"] += ["Yes, there is a dog on the sofa.", "Không, trong ảnh không có xe.", "Resposta: 3 pessoas",
                            "The colour of the bus is yellow.", "arafed man holding a surfboard",
                            "一个男孩 riding 在 the 草地上 with 他的 kite", "画面中的老人正在"]
MORE_KEEPS["refusal"] += ["No parking sign on a brick wall", "A restaurant sign reading 北京烤鸭 above the door",
                          "一杯 Starbucks 的咖啡和一台 MacBook"]
MORE_REJECTS["stutter"] += ["Dua ekor kucing dua ekor kucing tidur di sofa", "ชายคนหนึ่งชายคนหนึ่งกำลังวิ่ง",
                            "رجل رجل يجلس على المقعد", "Parkta parkta oynayan çocuklar"]
MORE_KEEPS["stutter"] += ["Yavaş yavaş batan güneş", 'Uma placa escrita "GELADA GELADA"']
MORE_REJECTS["repeated_words"] += ["Seorang anak sedang sedang bermain layang-layang", "Hai con mèo đang đang ngủ"]
MORE_REJECTS["keyword_list"] += ["2023新款韩版显瘦百搭T恤女", "เสื้อเชิ้ตผู้ชาย ราคาถูก พร้อมส่ง",
                                 "Áo khoác nam form rộng hot trend giá rẻ"]
MORE_KEEPS["keyword_list"] += ["Tas kulit wanita warna merah marun", "Кросівки Nike розмір 42, устілка 26,5 см, вигляд зверху"]


# set AT's kinds: "read more" in more languages, congratulations with more words after them, greetings to
# the readers, a buyer's disappointment, thanks for an article, asking the poster where it is, wishing to go;
# giveaways of yen and trading "without experience"; an instruction template's markers, the prompt in more
# languages, a description cut after "says"; a title written twice with a list's mark between; Thai written
# twice with a space between
MORE_REJECTS["boilerplate"] += ["Czytaj więcej", "Congratulations to the proud new parents!",
                                "Happy Monday everyone!", "The strap broke after a week, really disappointed",
                                "Спасибо за статью, очень интересно", "Cho mình xin link mua với", "Hier wil ik ook naartoe!",
                                "LINE登録で5万円もらえる", "اربح آلاف الريالات من التداول"]
MORE_KEEPS["boilerplate"] += ["Happy holidays card on a mantelpiece", "Happy Monday mug on an office desk"]
MORE_REJECTS["refusal"] += ["### Instruction: Describe the picture. ### Response:", "Opisz zdjęcie szczegółowo.",
                            "a bus stop with a poster on the wall that says"]
MORE_REJECTS["stutter"] += ["Cozy living room with fireplace | Cozy living room with fireplace",
                            "ตลาดน้ำยามเช้า ตลาดน้ำยามเช้า"]
MORE_KEEPS["stutter"] += ["Zebra crossing, black and white, black and white, seen from above"]


# set AU's kinds: thanks to everyone or for the party, congratulations with a line after the mark, a recipe's
# "mix all ingredients", a review site's small print, "would stay again", a question after an exclamation in
# Spanish, "Q: ... A: ...", "as a helpful assistant"; Spanish "ñ" with an ordinal is no misreading; two-word
# phrases doubled in Vietnamese
MORE_REJECTS["boilerplate"] += ["Thanks to everyone who came to the opening!", "Danke für den schönen Abend!",
                                "Félicitations! Tous mes vœux de bonheur", "Mix all the ingredients in a bowl",
                                "Lovely rooms and great pool, would stay here again", "¡Qué lindo! ¿Dónde queda?"]
MORE_KEEPS["boilerplate"] += ["Thank you card propped on a shelf", "Recipe card: 200 g sugar, 3 eggs, bake at 175°C for 40 minutes"]
MORE_REJECTS["refusal"] += ["Q: How many people are there? A: Three.", "As a helpful assistant, I can describe the scene."]
MORE_KEEPS["bad_encoding"] += ["Ático de 2 habitaciones en la 5ª planta con vistas al mar", "Año nuevo en la 1ª fila"]
MORE_REJECTS["stutter"] += ["Cô gái cô gái đang đọc sách"]
MORE_KEEPS["stutter"] += ["Xanh xanh đỏ đỏ những chiếc đèn lồng"]
MORE_REJECTS["boilerplate"] += ["Win a brand-new iPhone today!", "Leather boots clearance sale 70% off"]
MORE_KEEPS["boilerplate"] += ["Shoppers queue outside a store with 50% off signs"]

# set AV's kinds: a yes or no to a question with its sentence after it, in the allowed languages; reasoning
# about the picture ("judging by", "based on the map,"); an item's options; the prompt asking for a length;
# listings' small print, prices on request, a photo taken down, opening hours and an ad's label; a run's log;
# a description cut inside its last word
MORE_REJECTS["refusal"] += ["No, the shop appears to be closed.", "Nein, es gibt keinen Hund auf dem Foto.",
                            "Oui, il y a deux vélos devant la maison.", "Sí, hay tres personas en la foto.",
                            "Нет, на фото нет машин.", "不是，这是一张旧地图。", "The answer is seven.",
                            "It is probably a summer evening, judging by the light on the water.",
                            "Based on the map, the lake lies north of the town.",
                            "Choices: (A) red (B) blue (C) green", "Describe the photo in three words.",
                            "A narrow canal in Venice with gondolas moored below the old cathedr"]
MORE_KEEPS["refusal"] += ["Yes sign painted on a wall in a Lisbon alley", "A chef tossing noodles in a wok",
                          "No entry sign at the end of a gravel road", "Карпатські гори в тумані, на схилі пасуться вівці.",
                          "A bowl of shakshuka with crusty bread on a wooden table by the window at breakfast time"]
MORE_REJECTS["boilerplate"] += ["Floor plan for illustrative purposes only.", "Preis auf Anfrage",
                                "Reviewed in the United Kingdom on 2 May 2022", "This image has been removed by the author",
                                "Opening hours: Mon-Sat 10:00-18:00", "Sponsored", "RuntimeError: CUDA out of memory.",
                                "Zobacz więcej zdjęć tego mieszkania"]
MORE_KEEPS["boilerplate"] += ["A shop window with a sign listing its opening hours", "A sponsored float in a city parade"]
MORE_KEEPS["file_name"] = ["Screenshot of a weather app showing rain all week"]
MORE_REJECTS["file_name"] = ["Screenshot 2022-11-30 at 08.14.55", "Bildschirmfoto 2023-01-02 um 17.45.10",
                             "スクリーンショット 2024-05-06 午後3.12.40"]


def test_set_av_kinds_after_the_parametrised_test():
    """A screenshot's date and time is a file name; "screenshot of" and a description is not."""
    keep = MORE_KEEPS["file_name"]
    assert _mask("file_name", keep + MORE_REJECTS["file_name"]) == [True] * len(keep) + [False] * len(
        MORE_REJECTS["file_name"])


def test_a_description_cut_inside_a_word_needs_the_start_of_a_common_word():
    """The last word rarer than `cut_word_zipf` and the start of a common English word ("entra":
    "entrance"), after a description of common words; not a rare word of its own ("shakshuka"), not a
    short text, not one with an end mark, not one cut on a common word (the limit of this check)."""
    texts = ["Two cyclists ride past the old railway station towards the main entra",
             "Two cyclists ride past the old railway station towards the main entra.",
             "Cyclists at the entra",
             "A bowl of shakshuka with crusty bread on a wooden table by the window at breakfast time",
             "Two cyclists ride past the old railway station towards the main do"]
    assert _mask("refusal", texts) == [False, True, True, True, True]
    assert _mask("refusal", texts[:1], cut_min_words=0) == [True]

# set AW's kinds: a model talking about its caption, announcing it in Japanese, asked for one; a class-name
# placeholder; disclaimers, bookings' terms, login walls in Turkish; a Lua line; descriptions cut on a clause's
# first word, an article and an adjective, or inside a word in another language; output in two scripts; a
# numbered list that loops
MORE_REJECTS["refusal"] += ["This caption captures the mood of the evening in a few words.", "かしこまりました！以下に写真の説明を書きます。",
                            "Write a short caption for this photo.", "An illustration of a [OBJECT] on a table",
                            "Два студента сидят в библиотеке и читают книгу, которую",
                            "Ein Fischer repariert sein Netz am Hafen, während",
                            "A tourist takes a selfie on the bridge next to the small",
                            "Eine Frau fährt mit dem Fahrrad durch den Park neben dem großen Spielpla",
                            "A chef slices vegetables on a wooden board. 厨师在木板上切菜，准备做晚饭。"]
MORE_KEEPS["refusal"] += ["Смартфон Xiaomi Redmi Note 13, чёрный, вид спереди и сзади", "东京塔 Tokyo Tower at night",
                          "Two kittens on a rug, one of them very small", "A large crowd gathers in front of the old town hall"]
MORE_REJECTS["boilerplate"] += ["Prices subject to change without notice.", "Free cancellation · Pay at the property",
                                "Bu fotoğrafı görmek için giriş yapın", "Consult your doctor before starting a new diet."]
MORE_REJECTS["code"] += ["local score = game:getScore() print(score)"]
MORE_REJECTS["ngram_repetition"] += ["The picture shows: 1. a bowl 2. a spoon 3. a bowl 4. a spoon 5. a bowl 6. a spoon "
                                     "7. a bowl 8. a spoon 9. a bowl"]

# set AX's kinds: image-generation prompts; options in a run, an option named first, answers' openers;
# colour and views disclaimers, a disclaimer labelled as one, red-packet spam
MORE_REJECTS["boilerplate"] += ["old lighthouse on a cliff, stormy sea, volumetric lighting, 8k, concept art",
                                "portrait of a knight, (detailed armor:1.3), dramatic light", "koi pond at dawn --ar 16:9",
                                "Colors may vary from the photo.", "Disclaimer: prices are indicative.", "点击链接领取优惠券"]
MORE_KEEPS["boilerplate"] += ["A highly detailed model of a steam locomotive in a museum",
                              "A 4K television on a stand in a living room, showing a football match"]
MORE_REJECTS["refusal"] += ["A) car B) bike C) bus", "What is on the table? A. cup B. bowl C. plate", "Option B: a red kite",
                            "Because it is raining.", "It depends on the angle.", "Maybe a heron, hard to tell."]
MORE_KEEPS["refusal"] += ["Plan A) and plan B) drawn on a whiteboard", "Because I Love You neon sign in a cafe window"]

# set AY's kinds: descriptions cut on an article, a possessive or a preposition that needs its noun in the
# allowed languages; a tag list with a decade among many one-word tags; Korean tags with one noun ending in
# a particle's syllable; a prompt labelled as one; a visual question with its answer after it
MORE_REJECTS["refusal"] += ["Zwei Kinder spielen im Garten mit ihrem", "Un homme répare son vélo devant la porte de",
                            "A crowd of fans waiting outside the stadium at", "Rybáři opravují sítě na břehu před",
                            "Nelayan menarik jaring ke perahu pada"]
MORE_KEEPS["refusal"] += ["A delivery driver loading parcels into a white van", "Kinder räumen den Tisch ab, die Mutter hört zu",
                          "Bốn chú vịt dưới ao"]
MORE_REJECTS["keyword_list"] += ["ruins | ancient | temple | stone | history | travel | 1890s | photo",
                                 "반려동물 고양이 귀여운 사진 일상 힐링 배경 무료"]
MORE_KEEPS["keyword_list"] += ["어린 아이들이 공원에서 연을 날리며 즐겁게 놀고 있다"]
MORE_REJECTS["boilerplate"] += ["Prompt: cozy cabin in the woods, snow, warm light", "Are the lights on? No",
                                "Hat der Hund ein Halsband? Ja", "What animal is this? A fox"]
MORE_KEEPS["boilerplate"] += ["A tablet showing an online store with a Buy Now button under the price",
                              "A screenshot of a video page with a red Subscribe button below the player"]

# set AZ's kinds: four lettered options, a request to choose a caption, a semicolon record, German "click
# here"; kept: a game's main menu, "before it goes into the oven", a thing's own website, a reference
# number in a description
MORE_REJECTS["refusal"] += ["A. harbour B. airport C. station D. market", "Select the correct caption: (a) a bus (b) a tram"]
MORE_REJECTS["code"] += ["SKU-118;Keramiktasse blau;8,50;120;verfügbar"]
MORE_REJECTS["boilerplate"] += ["Klicken Sie hier für die Bildergalerie"]
MORE_KEEPS["boilerplate"] += ["The main menu of a puzzle game with buttons for Play, Options and Quit",
                              "A cook brushes egg wash over the pie before it goes into the oven"]
MORE_KEEPS["url"] += ["A delivery van with its website, www.greenleafflowers.com, printed along the side"]
MORE_KEEPS["digit_run"] += ["Omega Speedmaster ref. 311305, 42 mm, on a leather strap beside its box"]
MORE_KEEPS["code"] += ["A whiteboard list: milk; eggs; bread; 2 apples"]

# set BA's kinds: a question or an answer labelled as one, a photo site's name alone, a shop's hurry and a
# royalty-free label in other languages, a quiz's last option; kept: a film stock in a description, a poster
# with the web address it shows
MORE_REJECTS["boilerplate"] += ["Q: What colour is the tram?", "A: two", "via Pexels", "Giảm giá sốc, số lượng có hạn!",
                                "Stok terbatas, buruan order", "Alle Fotos lizenzfrei", "All of the above"]
MORE_KEEPS["camera_settings"] += ["A Pentax K1000 on a shelf next to a box of Ilford HP5 film"]
MORE_REJECTS["camera_settings"] += ["Pentax K1000, Ilford HP5, 50mm"]
MORE_KEEPS["url"] += ["A lorry with the web address movefast.co.uk painted on its tailgate"]
MORE_REJECTS["refusal"] += ["Twee kinderen voeren de eendjes in het park met een oud stuk brood en", "駅前の広場で待ち合わせをする人々と"]

# set BB's kinds: colour disclaimers, a request for a caption of a kind, a model hedging about nothing or
# talking about a watermark, a visual question alone, a circled answer, a source named alone, a phone's
# watermark, 3D-render prompts; kept: code in backticks, a hyphenated verb in a short caption, an address
# painted on a van, files named on a screen, a phone named in a description
MORE_REJECTS["boilerplate"] += ["Product colour may vary slightly due to screen settings", "How many cups are visible in the photo?",
                                "正解は②", "Quelle: dpa", "Shot on Xiaomi 13 | Leica camera",
                                "cozy reading nook, isometric, low poly, pastel colours"]
MORE_REJECTS["refusal"] += ["Suggest three short captions for this picture.", "The photo may or may not show a dog.",
                            "这张图片有水印，看不清楚细节。"]
MORE_KEEPS["code"] += ["A mug printed with `git commit -m \"coffee\"` on the counter"]
MORE_KEEPS["keyword_list"] += ["Barber hand-shaving a customer's neck"]
MORE_KEEPS["url"] += ["A box van with www.quickmoves.co.uk printed on the roller door",
                      "A tablet screen listing files named invoice_march.pdf and invoice_april.pdf"]
MORE_KEEPS["boilerplate"] += ["Shot on iPhone at golden hour, a fishing boat returning to the harbour"]

# sets BC and BD's kinds: captions that say nothing about their picture, a lone letter, "by" after a participle
# or a lowercase possessive at the end, English stubs of common words, lowercase keyword runs with verb forms
# or one function word, prompt templates' empty slots, seeds and requests for a picture, options in brackets,
# license labels, systemctl; kept: a described query, an address named as someone's site, a noun whose plural
# is common, "by" after a verb of motion, a possessive naming a place
MORE_REJECTS["refusal"] += ["This picture shows some things in a certain place.", "It appears to be an image of something.",
                            "A tray of freshly baked croissants cooling on a wire rack near the window, dusted with s",
                            "A ferry crossing the bay at dawn with gulls circling overhead, followed by",
                            "Two carpenters measuring a plank on the workbench before cutting it for the customer's",
                            "A laptop on a kitchen table next to a mug of coffee and a stack of pap",
                            "(A) lighthouse (B) windmill (C) water tower (D) silo"]
MORE_KEEPS["refusal"] += ["A cyclist in a yellow raincoat waving as the tram rolls by",
                          "A close-up of a pale green luna moth resting on the bark of an old oak",
                          "Three generations of a family gathered for Sunday dinner at grandma's",
                          "A chalkboard in a maths class asking the pupils to solve for x"]
MORE_REJECTS["keyword_list"] += ["kayak lake paddling summer adventure outdoor nature calm water",
                                 "wedding venue barn rustic decor string lights in countryside celebration party"]
MORE_KEEPS["keyword_list"] += ["kids paddling a red kayak across a calm lake in summer"]
MORE_REJECTS["boilerplate"] += ["A close-up photo of a {} on a {}.", "misty pine forest, film grain, anamorphic, seed 48213",
                                "Create an illustration of a lighthouse in a storm, dramatic lighting",
                                "Royalty-free image, extended license on request"]
MORE_REJECTS["code"] += ["sudo systemctl enable nginx"]
MORE_KEEPS["code"] += ["A laptop in a classroom showing a simple query SELECT name FROM pupils on the projector"]
MORE_KEEPS["url"] += ["A food truck displaying the owner's website, www.tacoloco.example.com, above the hatch"]

# sets BE and BF's kinds: an adjective after a preposition at the end, numbered questions and explanations,
# gaps to fill, a template's named slots, "in the style of", requests for a logo, contact by messenger,
# single CSS rules, an Italian refusal; kept: English with loanwords that a code page would misread,
# addresses a sign says, directs to or names as a link or a page, or names in another language, files
# with "names like"
MORE_REJECTS["refusal"] += ["Volunteers stacking sandbags along the riverbank with several", "Question 12: What colour is the bus?",
                            "Solution: see the table above.", "Complete the sentence: The ferry leaves at ____.",
                            "Mi dispiace, non sono in grado di descrivere questa foto.",
                            "Ein Gärtner schneidet die Hecke vor dem Rathaus mit einigen"]
MORE_REJECTS["boilerplate"] += ["portrait of <person> as a medieval knight, in the style of an oil painting",
                                "Design a poster for a jazz night, retro, bold type, two colours",
                                "DM us on WhatsApp for bulk orders", "Telegram: @vintage_lamps_store",
                                "Farmhouse kitchen icon set, line art"]
MORE_REJECTS["code"] += [".card { border-radius: 8px; }"]
MORE_KEEPS["bad_encoding"] += ["A bistro blackboard offering crème brûlée, café au lait and piña colada"]
MORE_KEEPS["url"] += ["A leaflet on the counter that says order online at pizzaroma.co.uk before noon",
                      "A museum guide that points visitors to the page collections.example.org/ceramics",
                      "A folder window with names like scan_001.pdf and scan_002.pdf",
                      "Een poster op het station met de website treinreizen.nl onderaan"]

# sets BG and BH's kinds: a copy's numbered file name, a log line's level and source, choices after a question,
# "near me" keywords, a Telegram handle, "swipe", an adjective of its own ending or a colour after an article at
# the end; kept: a hedged caption judging by its details, a colour after a preposition, Czech words with "íž",
# a quoted "why? why?", a description's clauses closed by "。", addresses after "a website," or in Turkish and
# Indonesian, files saved as or named to another
MORE_REJECTS["file_name"] = ["Copy of Harbour Banner Final (2)"]
MORE_REJECTS["code"] += ["ERROR [upload-worker] connection reset by peer"]
MORE_REJECTS["refusal"] += ["Which animal is this? Choices: fox, wolf, dog", "A lighthouse keeper climbing the stairs of a famous",
                            "Two children on a beach building a sandcastle next to a red"]
MORE_REJECTS["boilerplate"] += ["plumber near me, emergency plumber, boiler repair near me", "Order via Telegram @bakery_drops",
                                "Swipe for more"]
MORE_KEEPS["refusal"] += ["Probably a fishing village, judging by the nets drying on the quay",
                          "A school map with the fire exits marked in green"]
MORE_KEEPS["bad_encoding"] += ["Dívka projíždí na kole kolem nádraží a mává na vlak.",
                               "A poster with the question \"why? why? why?\" in big letters"]
MORE_KEEPS["keyword_list"] += ["简约风台灯，暖光护眼，三档调光，适合卧室和书房使用。"]
MORE_KEEPS["url"] += ["A window sticker advertising a website, bikerepairs.example.com, in white letters",
                      "Kamyonun kapısında firmanın web adresi www.ornekkargo.com.tr yazıyor.",
                      "A laptop screen showing a scan saved as receipt_0412.jpg in a folder"]

# sets BI and BJ's kinds: Russian price-by-DM spam, DreamBooth's placeholder token, "against", a participle or
# "silver" after "a" and Japanese "に" at the end; kept: addresses named in German, Polish and Czech, a
# participle used as a noun ("the wounded"), "a hundred"
MORE_REJECTS["boilerplate"] += ["Цена по запросу, пишите в лс", "portrait of sks woman in a rainy street, 50mm"]
MORE_REJECTS["refusal"] += ["Two climbers pausing on a narrow ledge halfway up a weathered", "A tabletop with a teapot and a silver",
                            "The home side celebrating a late goal in the derby against", "夕暮れの港に停泊している漁船の横に"]
MORE_KEEPS["refusal"] += ["Medics in a field tent caring for the wounded", "Runners at the start line, more than a hundred"]
MORE_KEEPS["url"] += ["Ein Flyer im Schaufenster nennt die Webseite www.baeckerei-muster.de.",
                      "Ulotka na drzwiach z adresem strony www.naprawyrowerow.pl u dołu.",
                      "Leták na nástěnce s adresou www.knihovna-mesto.cz pro více informací."]

# sets BK and BL's kinds: "in" after "a" and a noun, a verb "to be" after a noun, a colour after a size, an
# adjective that needs its noun and two consonants at the end; a Python loop with its body; Midjourney's
# quality and stylize switches; a keyword run with an acronym; a caption saying nothing in German, Chinese or
# Japanese; kept: code a screen shows named as code, a domain stamped on a thing or named as a site's, files
# named as files or as what a screen says, a meter's reading in its unit
MORE_REJECTS["refusal"] += ["A ferry pulling away from the pier with a man in",
                            "Three cyclists wait at the lights while a courier on a scooter is",
                            "A hiker resting on a rock beside a tiny red", "A diver exploring a coral reef near the upper",
                            "Steam rising from a bowl of noodles beside a pair of wooden ch",
                            "这张照片里有一些东西。", "Auf dem Bild sind einige Dinge zu sehen."]
MORE_KEEPS["refusal"] += ["A street musician packing up his guitar as the crowd moves in",
                          "The vintage radio on the shelf was sold as is", "The boat hull is painted a deep green",
                          "A family of four sitting on the couch watching a show on the tv"]
MORE_REJECTS["code"] += ["for item in cart: total(item.price)"]
MORE_KEEPS["code"] += ["A classroom whiteboard showing a Python loop: for row in grid: draw(row)"]
MORE_REJECTS["boilerplate"] += ["a lighthouse on a cliff at dusk, volumetric fog, ultra detailed --q 2 --s 250"]
MORE_REJECTS["keyword_list"] += ["office desk laptop workspace business technology PC monitor keyboard mouse"]
MORE_KEEPS["url"] += ["A delivery crate stamped with orchardfresh.nl on its side",
                      "A laptop screen showing filenames like survey_04.csv and survey_05.csv",
                      "An error popup that says backup.zip is corrupted"]
MORE_KEEPS["digit_run"] += ["A gas meter in a cellar reading 0048217 cubic metres"]


# sets BM and BN's kinds: a German adjective after an indefinite article and "die" at the end, "in" or "on"
# after a participle that needs its place, "while" and its subject, "d'un" at the end, a model talking of a
# mood and a viewer, two named slots in braces, Midjourney's "/imagine", a stock agency's licence and
# releases, an SEO list saying its keyword again with a word or two more; kept: an address named as a link
# after a few words or as a page from a site, "while" and a participle, "on" after "switched"
MORE_REJECTS["refusal"] += ["Ein Junge sitzt auf der Treppe neben einem kleinen",
                            "Eine Katze liegt auf dem Sofa, während im Hintergrund die",
                            "A baker dusting loaves with flour while apprentices",
                            "Lanterns over a night market, their paper shades printed in",
                            "A porcelain vase with a bouquet of tulips placed on",
                            "Une fillette joue dans le jardin à côté d'une",
                            "The picture conveys a certain atmosphere to the viewer.",
                            "a drawing of a {animal} wearing a {hat}, watercolour"]
MORE_KEEPS["refusal"] += ["A lighthouse keeper waves from the gallery while walking",
                          "A stall selling lanterns with the lights switched on", "Ein Ball liegt im Gras, die Kinder spielen",
                          "A whiteboard with the formula \\frac{a}{b} written in blue"]
MORE_REJECTS["boilerplate"] += ["/imagine prompt: a lighthouse made of candy, whimsical", "Model released. Rights managed."]
MORE_REJECTS["keyword_list"] += ["garden shed, garden shed ideas, garden shed for sale, wooden garden shed, shed plans"]
MORE_KEEPS["keyword_list"] += ["A market stall with red apples, green pears, ripe plums and a basket of figs for sale"]
MORE_KEEPS["url"] += ["A flyer on the notice board lists the sign-up link signup.chessclub.example on its lower half.",
                      "A tablet showing a recipe page from bakewell.example.com propped on a mixing bowl"]
# Chinese in UTF-8 read as GBK with a byte lost on the way (one character it cannot read); Chinese as written keeps
MORE_REJECTS["bad_encoding"] += ["我们在山顶看日出".encode("utf-8")[:-1].decode("gbk", errors="replace")]
MORE_KEEPS["bad_encoding"] += ["我们在山顶看日出，云海就在脚下。"]

# sets BO and BP's kinds: "under" or "beside" at the end, German "den" after German words, a quote opened and
# cut, a labelled answer, a gallery's similar images, a LoRA tag and "<sks>", a wholesaler's MOQ, XML left after
# the HTML repair, a remark with a face or a heart and a post's verbs, Kazakh read second to Ukrainian, a lost
# letter's "??" and a stray "â€"; kept: "going under", a betting app's screen, a Korean product's size in
# centimetres
MORE_REJECTS["refusal"] += ["A diver resting on the sand with a turtle swimming under", "Ein Fahrrad steht im Hof neben den",
                            "A kiosk with magazines and a poster that says “"]
MORE_KEEPS["refusal"] += ["A fishing boat sinking slowly, going under"]
MORE_REJECTS["boilerplate"] += ["ans: 4", "Related images: sailing, regatta, yacht, sea",
                                "portrait of a knight, <lora:armor_v2:0.7>, dramatic", "A photo of a <sks> dog at the beach",
                                "Wholesale gym mats, MOQ: 100, OEM welcome"]
MORE_KEEPS["boilerplate"] += ["A screenshot of a betting app listing the odds for tonight's match"]
MORE_REJECTS["code"] += ["<feed><entry>1</entry><entry>2</entry></feed>"]
MORE_REJECTS["remark"] = ["See you all next week ❤️", "Monday again 🙄", "Had so much fun today with the crew"]
MORE_KEEPS["remark"] = ["Sunday morning ☀️", "A red bicycle ❤️"]
MORE_KEEPS["keyword_list"] += ["접이식 캠핑 의자, 50센티미터, 알루미늄, 파란색."]
MORE_REJECTS["bad_encoding"] += ["Équipe de ro?? sur la rivière", "“†’… â€"]
MORE_KEEPS["bad_encoding"] += ["A sign that asks Why?? in red letters"]

# sets BQ and BR's kinds: German "eines" and "while" with its subject's article at the end, CSV rows joined by
# the whitespace repair, an SEO item that is another item and a few words more, a remark of a post's own words;
# kept: a www. address on a top-level domain of more than six letters, files a folder contains, stripes named
# colour by colour
MORE_REJECTS["refusal"] += ["Ein Hund schläft vor der Tür eines", "A pianist plays on stage while the conductor"]
MORE_REJECTS["code"] += ["id,name,price\n1,tea,2.50\n2,cake,3.00"]
MORE_REJECTS["keyword_list"] += ["moto, moto cross, moto électrique, casque, gants moto, équipement"]
MORE_KEEPS["keyword_list"] += ["Bunting in green, white, green, white strung across a village square for the festival.",
                               "Blue, yellow, blue, yellow tiles lining the edge of a hotel swimming pool."]
MORE_REJECTS["remark"] += ["check this out!!!", "so proud of myself today"]
MORE_KEEPS["url"] += ["A bakery window with the shop's website www.crumbandco.example stencilled on the glass",
                      "A laptop window containing invoice_0042.pdf and logo_final.png"]

# sets BS and BT's kinds: what a thing is made of after "a" and a size at the end, "是一" at the end, an SEO
# keyword said again in two other items, Chinese tags with an age range, a slot in angle brackets after an
# article, a price asked by DM in Japanese, a model naming the picture's width and height; kept: a Czech list
# joined by "a", a camera's file name on its screen, a link to an address, stripes named colour by colour
MORE_REJECTS["refusal"] += ["Pine trees along the river and a small stone", "一只猫坐在窗台上，旁边是一",
                            "The image has a width and a height.", "Ein Kind spielt im Garten, und auf dem Tisch liegt die",
                            "A drawing of a <creature> on a <texture> background"]
MORE_KEEPS["refusal"] += ["A bowl of little wooden beads on a desk"]
MORE_REJECTS["keyword_list"] += ["gardening tools, garden tools for women, best garden tools, tool set, gifts",
                                 "手机壳 苹果 透明 防摔 男女 情侣 2-3天"]
MORE_KEEPS["keyword_list"] += ["V penálu jsou pastelky, tužka, guma, pravítko a ořezávátko.",
                               "Piano keys in close-up: white, black, white, black, white."]
MORE_REJECTS["boilerplate"] += ["私信で価格をお問い合わせください"]
MORE_KEEPS["url"] += ["A camera's rear screen displays the file name IMG_4471 over a photo of a kingfisher.",
                      "A museum label gives the species name and a link to naturalhistory.example.org."]

# sets BU and BV's kinds: "an" and Spanish "al" at the end, numbered choices after a question, anime and
# Pixar styles among a prompt's terms, a remark that it was worth it or "頑張ろう", a model unable to make the
# picture out in German; kept: Dutch plurals written with "'s", a coupon code field on a screen, an address
# a screen asks one to visit or a page at a site, a file named in French
MORE_REJECTS["refusal"] += ["Road workers are repairing a section of the motorway near an", "Una fila de coches aparcados junto al",
                            "Which sign means a level crossing? 1, 2, 3 or 4",
                            "Das Bild zeigt etwas, das ich nicht genau erkennen kann."]
MORE_KEEPS["refusal"] += ["Laadpaal voor elektrische auto's", "Oude foto's en menu's"]
MORE_REJECTS["boilerplate"] += ["lighthouse at dusk, anime style, pastel colours, 4k wallpaper"]
MORE_KEEPS["boilerplate"] += ["A checkout page on a laptop with the coupon code field highlighted in red"]
MORE_REJECTS["remark"] += ["So worth it 😍😍😍", "今日も一日頑張ろう"]
MORE_KEEPS["url"] += ["A TV screen showing a message to visit example.tv/activate and enter a code",
                      "A phone browser open to a product page at m.example.com/earbuds-pro",
                      "Un écran affichant un fichier nommé facture_mars.pdf ouvert dans le navigateur."]
