"""Config for caption/text rules, language id and image-metadata rules (the job YAML's `filters:`).

Every rule has its own frozen section under `filters.rules`, named exactly like the rule in
`filters.catalogue` and like its reason code (`filter.<name>`). A rule left out uses its defaults; a
rule set to `false` is disabled (`true` means "on, with defaults"). The defaults are tuned for
captions, not for long documents: a three-word caption is fine, and language id never rejects a
caption of three words or fewer.

Before the rules, `filters.clean` repairs the text (each repair with its own switch and counter
`clean.<name>`); the repaired text is what the rules judge and what later stages dedupe, tokenise
and write. `filters.scorers` (see `schemas.scorer_config`) adds optional model-based scores.

```yaml
filters:
  tasks: [caption]
  clean:
    zh_t2s: {sources: [web_zh]}   # traditional -> simplified Chinese for this source only
  rules:
    too_short: {min_words: 2}
    language: {allow: [en, zh]}
    blank: true            # opt-in: reads pixels (reduced-size decode)
    boilerplate: false
```
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from schemas.config_base import ConfigSection
from schemas.scorer_config import ScorersConfig


class RuleConfig(ConfigSection):
    """Common to every rule: `enabled`. `rules.<name>: false` is shorthand for `{enabled: false}`."""

    enabled: bool = True

    @model_validator(mode="before")
    @classmethod
    def _bool_shorthand(cls, data: Any) -> Any:
        if isinstance(data, bool):
            return {"enabled": data}
        return data


def _regexes(values: tuple[str, ...], what: str) -> tuple[str, ...]:
    """Compile-check patterns with Python's re (RE2 accepts a subset; pyarrow reports the rest)."""
    for v in values:
        try:
            re.compile(v)
        except re.error as err:
            raise ValueError(f"{what}: {v!r} is not a valid regular expression ({err})") from None
    return values


def _nonempty_strings(values: tuple[str, ...], what: str) -> tuple[str, ...]:
    bad = [v for v in values if not v.strip()]
    if bad:
        raise ValueError(f"{what} must be non-empty strings; got {bad!r}")
    return values


# ---------------------------------------------------------------- repairs (the clean step, fixed order)


class HtmlRepair(RuleConfig):
    """Strip HTML markup with the standard library's HTML parser (never a regex) and unescape
    entities. Only known HTML elements are removed (`<p>`, `<br/>`, `<a href=..>`, ...; the text of
    `<script>`/`<style>` goes with them); any other angle-bracket text, such as grounding tags
    (`<ref>`, `<box>`) or "<3", is kept verbatim. Entities are unescaped twice ("&amp;amp;")."""


class ShortcodeRepair(RuleConfig):
    """Strip forum BBCode and CMS shortcode tags of known names (`[b]`, `[url=...]`, `[color=...]`,
    `[caption id=...]`, `[gallery ...]`, ...) and page builders' (`[et_pb_text]`, `[vc_column_text]`:
    a name with an underscore; `filters.repairs`): every tag with a value or attributes, and the
    plain tags of the names closed somewhere in the text (a lone "[B]" stays)."""


class MojibakeRepair(RuleConfig):
    """Undo mojibake with `ftfy.fix_encoding` (UTF-8 read as Latin-1, Windows-1252, -1251, -1250,
    MacRoman ...). Only texts holding a lead character of such a sequence are handed to ftfy. A text
    ftfy leaves that holds a Latin Extended-A letter's UTF-8 read as Windows-1252 ("BoÄŸaz", one
    pair is too little for ftfy's heuristics) is read back when all of it reads back ("Boğaz")."""


class WhitespaceRepair(RuleConfig):
    """Whitespace and invisible characters: control and zero-width characters (U+200B, U+2060,
    U+FEFF, soft hyphen, bidi controls) removed, every run of horizontal space made one space, line
    breaks made "\\n" (at most one blank line), a break inside a sentence before a small ASCII letter
    or a digit made a space (the page wrapped the line there: "A bowl of\\nfresh cherries"), ends
    trimmed, then Unicode NFC. ZWJ/ZWNJ stay where they may join something (not next to an ASCII
    character or at an end)."""


class ZhT2sRepair(RuleConfig):
    """Traditional -> simplified Chinese with OpenCC (EVLM appendix A.1, rule 10), for the rows of
    the sources named in `sources` only ("*": every source). Off by default."""

    enabled: bool = False
    sources: tuple[str, ...] = ()
    conversion: Literal["t2s", "tw2s", "hk2s", "tw2sp"] = "t2s"

    @model_validator(mode="after")
    def _needs_sources(self) -> "ZhT2sRepair":
        if self.enabled and not self.sources:
            raise ValueError("zh_t2s is enabled but names no sources; list source names, or '*' for all")
        return self


DEFAULT_SITE_SUFFIXES = (
    "shutterstock", "istock", "istockphoto", "getty images", "gettyimages", "alamy", "dreamstime",
    "depositphotos", "123rf", "adobe stock", "stock.adobe", "can stock photo", "canstockphoto", "pond5", "vecteezy", "freepik", "pixabay", "pexels",
    "unsplash", "flickr", "pinterest", "instagram", "facebook", "twitter", "tumblr", "reddit",
    "imgur", "wikimedia commons", "wikipedia, the free encyclopedia", "wikipedia", "youtube", "etsy", "ebay",
    "amazon", "amazon.com",
    "aliexpress", "alibaba", "walmart", "houzz", "behance", "dribbble", "deviantart", "artstation",
    "picryl", "pxhere", "rawpixel", "canva", "tripadvisor", "yelp", "booking.com", "airbnb", "zillow",
    "realtor.com", "redfin", "trulia", "wayfair", "ikea", "google images", "photo sharing",
    "stock photo", "stock image", "stock photos",
    "stock images", "stock vector", "stock illustration", "royalty-free", "royalty free",
    "foto de stock", "fotografía de stock", "fotos de stock", "stockfoto", "stock-foto", "photo stock", "foto stock",
    "banque d'images", "image libre de droits",
    # photo communities, home and design magazines, shops, travel and news sites
    "500px", "smugmug", "we heart it", "weheartit", "tiktok", "linkedin", "giphy", "apartment therapy", "dezeen",
    "archdaily", "reverb", "reverb.com", "schöner wohnen", "imovirtual", "hürriyet seyahat", "hürriyet", "techradar",
    "designboom", "architectural digest", "elle decor", "the spruce", "redbubble", "society6",
    "zazzle", "teepublic", "poshmark", "mercari", "vinted", "craigslist", "gumtree", "overstock", "rightmove",
    "zoopla", "idealista", "expedia", "agoda", "trivago", "lonely planet", "national geographic", "allrecipes",
    "food network", "epicurious", "serious eats", "taste of home", "yummly", "bbc news", "cnn", "the guardian",
    "ap news", "huffpost", "buzzfeed",
    # archives, museums, maps and space agencies
    "europeana", "nasa earth observatory", "earth observatory", "nasa", "noaa", "usgs", "library of congress",
    "rijksmuseum", "wikiart", "google arts & culture", "google arts and culture", "artsy", "smithsonian",
    "metropolitan museum of art", "the met", "british museum", "google maps", "google earth", "openstreetmap",
    "bing maps", "sentinel hub", "copernicus", "gardeners' world", "bbc gardeners' world", "the spruce eats",
    "bbc good food", "good housekeeping", "wallpaper cave", "wallpaperaccess", "wallpaper flare", "wallpapersafari",
    "wallpaperswide", "wallhaven",
    # Japanese and Chinese stock sites
    "pixta", "photolibrary", "视觉中国", "图虫", "摄图网", "千图网", "昵图网", "包图网", "站酷",
    # "stock photo" and free-photo sites' titles in the allowed languages
    "vectorstock", "photo gratuite sur freepik", "foto gratis en freepik", "foto gratuita su freepik",
    "kostenloses foto auf freepik", "стоковое фото", "стоковые фото", "стоковая фотография", "стоковое изображение",
    "zdjęcie stockowe", "zdjęcia stockowe", "写真素材・ストックフォト", "写真素材", "ストックフォト", "图片素材", "素材图片",
    "게티이미지뱅크", "게티이미지", "스톡 사진", "stok fotoğraf", "stockfotografie", "stockbild", "travel + leisure",
    # a free-photo site's own label set apart like its name ("... | Premium Photo", "Free Photo | ...")
    "premium photo", "premium vector", "free photo", "free vector", "photo premium", "photo gratuite", "foto premium",
    "foto gratis", "foto gratuita", "kostenloses foto", "premium foto", "фотобанк лори", "фотобанк",
    # shops, classifieds, news and photo sites of the other allowed languages' web
    "olx", "avito", "авито", "allegro", "allegro.pl", "hepsiburada", "trendyol", "n11", "tokopedia", "shopee",
    "shopee việt nam", "shopee indonesia", "shopee malaysia", "shopee philippines", "shopee thailand", "shopee brasil",
    "lazada indonesia", "lazada vietnam", "lazada", "楽天ブログ", "ピクスタ", "이미지투데이", "티스토리", "站酷海洛", "豆瓣", "bukalapak", "tiki", "mercado libre", "mercadolivre", "mercado livre", "magazine luiza", "americanas",
    "rakuten", "楽天市場", "楽天", "amazon.co.jp", "coupang", "쿠팡", "11번가", "g마켓", "taobao", "淘宝", "淘宝网", "tmall",
    "天猫", "京东", "jd.com", "拼多多", "小红书", "微博", "知乎", "百度百科", "百度图片", "大众点评", "全景视觉", "全景网",
    "图虫创意", "痞客邦", "클립아트코리아", "네이버 블로그", "네이버", "naver", "daum", "vk", "вконтакте", "одноклассники",
    "яндекс", "yandex", "yandex images", "дзен", "лори", "fotolia", "bol", "bol.com", "marktplaats", "leboncoin", "nextdoor",
    "wallapop", "subito", "kleinanzeigen", "ebay kleinanzeigen", "otto", "zalando", "cdiscount", "fnac",
    "maisons du monde", "la redoute", "idealo", "chefkoch", "marmiton", "giallozafferano", "tudogostoso",
    "cookpad", "クックパッド", "ouest-france", "le figaro", "le monde", "el país", "spiegel", "bild.de", "repubblica",
    "corriere della sera", "folha", "g1", "hürriyet", "sabah", "aftonbladet", "expressen", "novinky.cz", "idnes",
    "seznam", "onet", "wp.pl", "vnexpress", "dân trí", "zing", "pantip", "sanook", "kompas", "detik", "tribunnews",
    "الجزيرة نت", "الجزيرة", "اليوم السابع", "ria", "риа новости", "lenta.ru", "укрінформ", "unian", "уніан",
    "yahoo", "yahoo!ニュース", "yahoo! news", "yahoo news", "ぱくたそ", "フリー素材 ぱくたそ", "写真ac", "いらすとや",
    "free stock photo", "free stock photos", "free stock image", "mostphotos", "colourbox", "scanpix",
    "新浪图片", "新浪", "搜狐", "网易", "腾讯新闻", "凤凰网", "chefkoch", "lazada",
    # more news, food and picture sites
    "bbc good food", "bbc food", "nbc news", "cbs news", "abc news", "fox news", "sky news", "npr",
    "usa today", "the new york times", "new york times", "the washington post", "daily mail", "mail online",
    "the independent", "the telegraph", "al jazeera", "bloomberg", "forbes", "business insider", "the verge",
    "wired", "cnet", "vogue", "harper's bazaar", "good housekeeping", "bon appétit", "bon appetit", "delish",
    "the kitchn", "simply recipes", "martha stewart", "better homes & gardens", "house beautiful",
    "country living", "real simple", "anadolu ajansı", "anadolu ajansi", "milliyet", "sözcü", "habertürk",
    "cnn türk", "тасс", "рбк", "коммерсантъ", "газета.ru", "tuổi trẻ", "thanh niên", "vietnamnet", "ไทยรัฐ",
    "มติชน", "cnn indonesia", "liputan6", "okezone", "gazeta.pl", "interia", "irozhlas", "aktuálně.cz",
    "nu.nl", "ad.nl", "faz", "süddeutsche zeitung", "zeit online", "tagesschau", "focus online", "stern",
    "20 minutes", "20minutos", "libération", "franceinfo", "le parisien", "la vanguardia", "clarín", "infobae",
    "la stampa", "il post", "uol", "estadão", "público", "花瓣网", "花瓣", "堆糖", "汇图网", "觅知网", "新华网",
    "人民网", "央视网", "中新网", "澎湃新闻", "연합뉴스", "뉴시스", "뉴스1", "朝日新聞デジタル", "毎日新聞",
    "読売新聞オンライン", "日本経済新聞", "nhk", "時事ドットコム", "بي بي سي عربي", "سكاي نيوز عربية", "العربية",
    # photo agencies; shops, classifieds and sites AJ's writer met
    "download free photo", "download premium photo", "photo libre de droits", "bergfex", "heureka", "imdb", "blocket", "tori.fi", "finn.no", "willhaben", "oferteo", "nun", "noon", "minne",
    "ハンドメイドマーケット minne", "creema", "오늘의집", "번개장터", "당근마켓", "메루카리", "メルカリ",
    "hollandse hoogte", "anp foto", "belga image", "ritzau scanpix", "ntb scanpix", "tt nyhetsbyrån", "profimedia",
    "east news", "agencja gazeta", "ullstein bild", "picture alliance", "picture-alliance", "imago images",
    "sz photo", "keystone", "lapresse", "europa press", "cover images", "abaca press", "maxppp", "rex features",
    "pa images", "zuma press", "sopa images", "nurphoto", "imaginechina", "aflo", "antara foto", "kyodo news",
    # property, travel, sports, cars, weddings, nature and recipe sites (AK's writer met some)
    "immobilienscout24", "immowelt", "seloger", "fotocasa", "immobiliare.it", "sreality", "hemnet", "otodom", "funda",
    "domain.com.au", "realestate.com.au", "suumo", "链家", "贝壳找房", "安居客", "batdongsan", "rumah123",
    "ddproperty", "hotels.com", "skyscanner", "holidaycheck", "楽天トラベル", "じゃらん", "携程", "马蜂窝",
    "espn", "bleacher report", "sky sports", "bbc sport", "l'équipe", "gazzetta dello sport",
    "the athletic", "autotrader", "cars.com", "mobile.de", "autoscout24", "sahibinden", "otomoto",
    "carousell", "dubizzle", "chợ tốt", "facebook marketplace", "the knot", "weddingwire",
    "audubon", "inaturalist", "ebird", "giallo zafferano", "directo al paladar", "recetasgratis", "küchengötter",
    "panelinha", "smulweb", "ah allerhande", "allerhande", "kwestia smaku", "kurashiru", "delish kitchen",
    "下厨房", "만개의레시피", "ويكيبيديا، الموسوعة الحرة", "ويكيبيديا", "kaidee", "bazoš", "bazos", "네이버 쇼핑", "네이버쇼핑",
    "rozetka", "yahoo!ショッピング", "editorial stock photo",
    "editorial stock image",
    # food delivery, travel booking, fashion shops, game, car and farm media (not those that are words
    # too: "Kayak", "Polygon", "Top Gear" alone are captions)
    "uber eats", "ubereats", "doordash", "grubhub", "deliveroo", "just eat", "thuisbezorgd", "lieferando", "glovo",
    "wolt", "foodpanda", "grabfood", "gofood", "swiggy", "zomato", "rappi", "ifood", "pedidosya", "talabat",
    "yemeksepeti", "getir", "美团外卖", "美团", "饿了么", "出前館", "배달의민족", "요기요", "shopeefood", "lineman",
    "postmates", "skipthedishes", "menulog", "яндекс еда", "delivery club", "pyszne.pl", "foodora", "bolt food",
    "traveloka", "trip.com", "ctrip", "携程旅行", "去哪儿", "飞猪", "priceline", "orbitz", "travelocity",
    "hostelworld", "vrbo", "じゃらんnet", "一休.com", "야놀자", "여기어때", "островок", "ostrovok", "tiket.com",
    "pegipegi", "opodo", "edreams", "lastminute.com", "ebookers", "check24", "momondo", "asos", "shein", "h&m",
    "uniqlo", "farfetch", "net-a-porter", "mytheresa", "ssense", "nordstrom", "macy's", "boohoo",
    "prettylittlething", "about you", "bonprix", "ign", "gamespot", "kotaku", "pc gamer", "eurogamer",
    "rock paper shotgun", "nintendo life", "push square", "game informer", "4gamer", "ファミ通", "famitsu",
    "游民星空", "巴哈姆特", "인벤", "루리웹", "igromania", "stopgame", "gry-online", "jeuxvideo.com", "gamekult",
    "multiplayer.it", "gamestar", "farm progress", "farmers weekly", "successful farming", "agriland", "top agrar",
    "agrarheute", "motor1", "autoblog", "car and driver", "motortrend", "autocar", "auto bild",
    "auto express", "carwow", "edmunds", "kelley blue book", "drom.ru", "дром", "auto.ru", "汽车之家", "懂车帝",
    "易车", "보배드림", "カーセンサー", "グーネット", "space.com", "phys.org", "sciencedaily",
    # property portals of Latin America and South-East Asia; encyclopedias and teaching sites
    "portal inmobiliario", "inmuebles24", "zonaprop", "argenprop", "properati", "vivareal", "zap imóveis", "imovelweb",
    "metrocuadrado", "fincaraiz", "lamudi", "propertyguru", "99.co", "rumah.com", "dotproperty", "hipflat",
    "nestoria", "britannica", "encyclopædia britannica", "encyclopedia britannica", "khan academy", "quizlet",
    "brainly", "study.com", "twinkl", "teachers pay teachers", "sciencedirect", "researchgate", "百度文库",
    "fewo-direkt", "decathlon", "netshoes", "dafiti", "centauro", "kabum", "casas bahia", "magalu", "onet podróże",
    "яндекс картинки", "яндекс.картинки", "яндекс маркет", "ozon", "wildberries", "lamoda", "mediamarkt", "saturn",
    "conrad", "fnac darty", "boulanger", "el corte inglés", "pccomponentes", "coolblue", "elgiganten", "komplett",
)  # fmt: skip


class SiteSuffixRepair(RuleConfig):
    """Strip a trailing site name set off by a separator ("... | Shutterstock", "... - Flickr",
    "... – Pinterest", "... | Stock Photo"), repeatedly, case-insensitive. A site name with ".com"
    after it is stripped too, and so is a news agency's photo credit at the end ("... Photo: Jane
    Doe/AFP via Getty Images", "... (AP Photo/Evan Vucci)"). What is left is judged; a text that is
    nothing but the site name or the credit becomes empty."""

    suffixes: tuple[str, ...] = DEFAULT_SITE_SUFFIXES

    @field_validator("suffixes")
    @classmethod
    def _suffixes(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(s.lower() for s in _nonempty_strings(v, "suffixes"))


class CleanConfig(ConfigSection):
    """The repairs, applied in this order to every text-checked segment before the rules. A
    repaired row lists its repairs in the ledger's `repairs` column; counter `clean.<name>`."""

    enabled: bool = True
    html: HtmlRepair = HtmlRepair()
    shortcode: ShortcodeRepair = ShortcodeRepair()
    mojibake: MojibakeRepair = MojibakeRepair()
    whitespace: WhitespaceRepair = WhitespaceRepair()
    zh_t2s: ZhT2sRepair = ZhT2sRepair()
    site_suffix: SiteSuffixRepair = SiteSuffixRepair()


# ---------------------------------------------------------------- text rules (fixed order)


class EmptyRule(RuleConfig):
    """The assistant text is empty after normalisation."""


class BadEncodingRule(RuleConfig):
    """Bytes that were not UTF-8 and NUL (judged on the raw text), and, on the repaired text, U+FFFD
    replacement characters and the mojibake `ftfy` could not undo: UTF-8 read as Latin-1 /
    Windows-1252 ("Ã©", "â€™"), as Windows-1251 ("РџСЂРёРІРµС‚"), as Shift-JIS ("縺ｯ"), a BOM read as
    Latin-1 ("ï»¿"), the classic lossy CJK round trips ("锟斤拷", "烫烫烫"), and Cyrillic text in a
    single-byte code page (Windows-1251, KOI8-R) read as Latin-1 ("Êðàñèâûé çàêàò": at least four
    Latin-1 Supplement letters, and no fewer than ASCII letters), a Latin Extended-A letter's UTF-8
    read as Windows-1252 that the repair could not read back ("Ä…"), and text whose non-ASCII
    letters were each saved as "?" (a "?" between two letters: "Bo?az?'nda g?n", "Kr?lewski", one
    opening a word, "na ?niegu", or two ending words with more after them, "bawi? si? na").
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
    (`IMG_1234`, `photo.jpg`) in a caption. Case-insensitive. (A caption that is a file name alone
    is `file_name`'s, which comes first.)"""

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


# News and photo agencies whose credit ("(AP Photo/Evan Vucci)", ".../AFP via Getty Images") names
# them: a credit alone is boilerplate, a credit after a caption is stripped (`filters.repairs`).
NEWS_AGENCIES = (r"(?:ap|afp|pap|reuters|epa|epa-efe|getty images|xinhua|anadolu(?: agency)?|dpa|ansa|efe|kyodo|yonhap|antara|"
                 r"tass|upi|pa|sipa|zuma|imago|eyevine|nurphoto|bloomberg|ap images|anp|belga|lusa|ntb|čtk|ctk)")

DEFAULT_BOILERPLATE = (
    "stock photo", "stock image", "stock picture", "stock footage", "royalty free", "royalty-free", "extended license",
    "standard license", "editorial license",
    "click here", "click to enlarge", "click to view", "image may contain", "may contain:",
    "photo credit", "image credit", "image courtesy", "all rights reserved", "getty images",
    "shutterstock", "alamy", "dreamstime", "istockphoto", "depositphotos", "123rf", "adobe stock",
    "free download", "download free", "free vector", "no description", "no image available",
    "image not found", "image not available", "image unavailable", "placeholder image",
    "read more", "learn more", "buy now", "add to cart", "free shipping", "sign up",
    "subscribe", "lorem ipsum", "view larger", "view full size", "see more", "loading...",
    # advertising copy
    "order now", "call now", "act now", "money back", "satisfaction guaranteed", "qualifying purchases",
    "affiliate link", "promo code", "discount code", "use coupon code", "coupon code:", "verify your identity",
    "your account has been",
    "contact our sales", "claim your", "online pharmacy", "no prescription", "hot singles", "singles in your area",
    "get rich quick", "one weird trick", "doctors hate", "you have been selected", "no credit check", "dm me",
    "don't miss out", "shop the sale", "link in bio", "dm for", "click the link", "make money fast",
    "make money from home", "no experience needed", "bad credit", "casino bonus", "followers instantly",
    "crypto giveaway", "daily signals", "viagra", "without prescription", "use code", "jetzt kaufen", "compra ya",
    "envío gratis",
    "点击查看", "点击进入", "图片来源", "版权所有", "免费下载", "高清大图", "图片仅供参考",
    # "the picture is only an illustration", as Japanese and Korean shops write it
    "画像はイメージです", "写真はイメージです", "イメージ画像です", "이미지는 예시", "사진은 예시",
    # page furniture: links, embeds, an e-mail client's broken image, click to enlarge in more languages
    "embedded image permalink", "may not have enough memory to open the image", "zum vergrößern klicken",
    "zum vergrössern klicken", "klicken zum vergrößern", "クリックで拡大", "クリックして拡大", "タップで拡大", "클릭하면 확대",
    "klik untuk memperbesar", "nhấn để phóng to", "büyütmek için tıklayın", "kliknij, aby powiększyć",
    "klikněte pro zvětšení", "klicka för att förstora", "اضغط للتكبير", "لتكبير الصورة", "คลิกเพื่อขยาย",
    "натисніть, щоб збільшити",
    # "illustrative picture only", as shops and news sites write it in the allowed languages
    "ảnh minh họa", "hình minh họa", "imagem meramente ilustrativa", "imagem ilustrativa", "imagen ilustrativa",
    "imagen de referencia", "immagine puramente indicativa", "immagine indicativa", "image non contractuelle",
    "photo non contractuelle", "abbildung ähnlich", "symbolbild", "beispielbild", "foto ilustrasi", "gambar ilustrasi",
    "zdjęcie poglądowe", "ilustrační foto", "ilustrační obrázek", "illustrationsbild", "temsili görsel", "görsel temsilidir",
    "gambar hanya ilustrasi", "foto hanya ilustrasi", "hanya ilustrasi", "mang tính chất minh họa", "mang tính minh họa",
    "chỉ mang tính chất minh họa", "image for illustration only", "for illustration only", "picture for illustration",
    "صورة توضيحية", "صورة تعبيرية", "ภาพประกอบ", "фото для иллюстрации", "иллюстративное фото", "ілюстративне фото",
    "afbeelding ter illustratie", "foto ter illustratie", "参考图片", "參考圖片", "사진은 참고용",
    # a shop's out-of-stock notices in the allowed languages (the words that also mean "exhausted",
    # "esgotado", "agotado", "esaurito", are patterns, the whole text)
    "derzeit nicht verfügbar", "momentan nicht verfügbar", "nicht auf lager", "chwilowo niedostępny",
    "produkt niedostępny", "rupture de stock", "sin stock", "fuera de stock", "non disponibile al momento",
    "uitverkocht", "niet op voorraad", "tükendi", "slutsåld", "tillfälligt slut", "vyprodáno", "غير متوفر حاليا",
    "غير متوفر حالياً", "品切れ", "售罄", "已售完", "暂时缺货", "kdv dahil",
    # page menus and players, readers' sign-offs, gambling spam, free-PNG listings
    "toggle navigation", "open menu", "close menu", "skip to content", "play episode",
    "replying to @", "saludos desde", "잘 보고 갑니다", "좋은 하루 되세요", "díky za sdílení", "dzięki za udostępnienie",
    "สล็อตเว็บตรง", "ฝากถอนไม่มีขั้นต่ำ", "เว็บพนัน", "먹튀검증", "토토사이트", "카지노사이트", "免费png", "png透明", "透明背景素材",
    "png免抠", "免抠素材", "resim bulunamadı", "görsel bulunamadı", "拡大表示", "baca juga:", "zdjęcie ilustracyjne",
    "انقر للتكبير", "تسجيل الدخول",
    # readers' thanks under a post
    "thanks for sharing", "thank you for sharing", "thx for sharing", "grazie per aver condiviso",
    "gracias por compartir", "merci pour le partage", "danke fürs teilen", "obrigado por compartilhar",
    "dzięki za udostępnienie", "спасибо, что поделились", "спасибо за пост", "дякую, що поділилися",
    "merci du partage", "merci de partager", "bedankt voor het delen", "tack för att du delar", "paylaşım için teşekkürler",
    "paylaştığın için teşekkürler", "paylaşım için teşekkür", "terima kasih sudah berbagi", "terima kasih telah berbagi",
    "cảm ơn bạn đã chia sẻ", "cám ơn bạn đã chia sẻ", "cảm ơn đã chia sẻ", "شكرا على المشاركة", "شكرا للمشاركة",
    "شكراً على المشاركة", "ขอบคุณที่แชร์", "感谢分享", "谢谢分享", "謝謝分享", "シェアありがとう", "공유 감사합니다",
    "공유해 주셔서 감사", "děkuji za sdílení", "díky za sdílení", "danke fürs zeigen", "grazie per la condivisione",
    "obrigada por compartilhar", "obrigado pela partilha", "дякую за допис",
    # a missing image, in Japanese; "read more" in more languages
    "画像は表示できません", "画像を表示できません", "czytaj dalej", "czytaj więcej", "ler mais", "leia mais", "xem thêm",
    "阅读全文", "閱讀全文", "číst dále", "читати далі", "더 보기", "อ่านต่อ",
    # a forum reader following the thread
    "following this thread", "watching this thread", "subscribing to this thread", "bump this thread",
    # rights notices in the allowed languages, and the stock ways of naming whose an image is
    "tous droits réservés", "todos los derechos reservados", "alle rechte vorbehalten", "tutti i diritti riservati",
    "todos os direitos reservados", "alle rechten voorbehouden", "wszelkie prawa zastrzeżone", "все права защищены",
    "всі права захищені", "усі права захищено", "усі права захищені", "всі права захищено", "tüm hakları saklıdır", "všechna práva vyhrazena", "alla rättigheter förbehållna",
    "hak cipta dilindungi", "bảo lưu mọi quyền", "جميع الحقوق محفوظة", "สงวนลิขสิทธิ์", "無断転載禁止", "無断転載を禁じ",
    "무단 전재", "무단전재", "禁止转载", "未经授权禁止", "respective owners", "used with permission",
    # "reproduction prohibited" in the allowed languages
    "vietata la riproduzione", "riproduzione vietata", "riproduzione riservata", "reproduction interdite",
    "reproduction prohibée", "prohibida su reproducción", "prohibida la reproducción", "reproducción prohibida",
    "proibida a reprodução", "reprodução proibida", "nachdruck verboten", "vervielfältigung verboten",
    "reproductie verboden", "kopiowanie zabronione", "zakaz kopiowania", "перепечатка запрещена",
    "копирование запрещено", "передрук заборонено", "kopírování zakázáno", "kopiering förbjuden",
    "izinsiz kullanılamaz", "dilarang menyalin", "cấm sao chép", "ห้ามคัดลอก", "禁止复制", "複製禁止",
    "reproduced with permission", "via wikimedia commons", "crédit photo", "crédits photo", "crédito de la foto",
    "crédito da foto", "foto cedida por", "fotografía cedida por", "imagen cedida por", "imagem cedida por",
    "per gentile concessione", "mit freundlicher genehmigung", "avec l'aimable autorisation", "bildnachweis",
    "fotonachweis", "źródło zdjęcia", "zdroj fotografie", "nguồn ảnh",
    # "add to cart" and other shop and page buttons in the allowed languages ("в корзину" alone may be a basket)
    "in den warenkorb", "añadir a la cesta", "añadir al carrito", "agregar al carrito", "ajouter au panier",
    "aggiungi al carrello", "adicionar ao carrinho", "in winkelwagen", "toevoegen aan winkelwagen", "dodaj do koszyka",
    "sepete ekle", "přidat do košíku", "vložit do košíku", "lägg i varukorgen", "tambah ke keranjang",
    "masukkan keranjang", "thêm vào giỏ hàng", "أضف إلى السلة", "أضف إلى عربة التسوق", "เพิ่มลงตะกร้า",
    "หยิบใส่ตะกร้า", "добавить в корзину", "додати в кошик", "додати до кошика", "додати у кошик", "加入购物车", "加入購物車", "カートに入れる", "カートに追加",
    "장바구니 담기", "장바구니에 담기", "leave a comment", "leave a reply", "post a comment", "choose an option",
    "select an option", "select options", "choose options", "クリックすると拡大",
    # a login wall in the allowed languages
    "로그인 후 이용", "zaloguj się, aby", "melde dich an, um", "connectez-vous pour", "inicia sesión para",
    "faça login para", "log in om", "inloggen om", "войдите, чтобы", "увійдіть, щоб", "ログインして", "登录后查看",
    "请登录", "登录后可", "přihlaste se", "logga in för att", "đăng nhập để", "سجل الدخول", "เข้าสู่ระบบเพื่อ",
    # downloads and streams offered for free
    "download for free", "free to download", "descarga gratis", "descargar gratis", "kostenlos herunterladen",
    "gratis herunterladen", "télécharger gratuitement", "téléchargement gratuit", "scarica gratis", "download grátis",
    "baixar grátis", "gratis downloaden", "pobierz za darmo", "darmowe pobieranie", "ücretsiz indir", "stáhnout zdarma",
    "ladda ner gratis", "unduh gratis", "tải miễn phí", "تحميل مجاني", "ดาวน์โหลดฟรี", "завантажити безкоштовно",
    "無料ダウンロード", "무료 다운로드", "watch full movie", "full movie online", "watch online free", "watch free online",
    "visit our store", "visit our shop", "visit our website",
    # listings, classifieds and apps
    "register to bid", "reply to this ad", "report this listing", "report this ad", "report this post",
    "report this image", "download our app", "download the app", "get our app", "คลิกเพื่อดู",
    "gana dinero", "ganar dinero desde casa", "escríbenos por whatsapp", "ganhe dinheiro", "gagnez de l'argent",
    "licensed under a creative commons", "licensed under creative commons", "licensed under the creative commons",
    # "read more", "load more" and "click here" in the allowed languages
    "weiterlesen", "lire la suite", "leer más", "leggi di più", "continua a leggere", "leia mais", "lees meer",
    "czytaj więcej", "читать далее", "читати далі", "devamını oku", "číst dále", "läs mer", "baca selengkapnya",
    "اقرأ المزيد", "อ่านต่อ", "続きを読む", "더 보기", "阅读更多", "查看更多", "load more", "muat lebih banyak",
    "mehr laden", "charger plus", "cargar más", "carica altri", "carregar mais", "meer laden", "załaduj więcej",
    "загрузить ещё", "daha fazla yükle", "načíst další", "ladda fler", "tải thêm", "تحميل المزيد", "โหลดเพิ่มเติม",
    "加载更多", "klicka här", "kliknij tutaj", "klik hier", "cliquez ici", "haga clic aquí", "clicca qui", "clique aqui",
    "hier klicken", "klicken sie hier", "klicke hier", "cliquer ici", "haz clic aquí", "pulsa aquí", "kliknij tu",
    "klikněte sem", "nhấp vào đây", "нажмите здесь", "натисніть тут", "buraya tıklayın", "klikněte zde", "klik di sini",
    "nhấn vào đây", "اضغط هنا", "คลิกที่นี่", "ここをクリック", "여기를 클릭", "点击这里", "zum warenkorb hinzufügen",
    "in den einkaufswagen",
    # a shop's hurry ("while stocks last", "Jual murah! Stok terbatas", "Bán gấp, inbox ngay"), royalty-free
    # labels, a quiz's last option
    "while stocks last", "solange der vorrat reicht", "hasta agotar existencias", "fino ad esaurimento scorte",
    "jusqu'à épuisement des stocks", "enquanto durarem os estoques", "do wyczerpania zapasów", "stoklarla sınırlı",
    "do vyprodání zásob", "så länge lagret räcker", "số lượng có hạn", "inbox ngay", "bán gấp", "giá rẻ bất ngờ",
    "jual murah", "stok terbatas", "order sekarang", "sebelum kehabisan", "限时抢购", "ปลอดค่าลิขสิทธิ์", "免版税",
    "lizenzfrei", "telifsiz", "bebas royalti", "miễn phí bản quyền", "ロイヤリティフリー", "none of the above",
    "all of the above", "sin derechos de autor", "livre de direitos", "sem direitos autorais", "icon set",
    # "image from the web, removed on request"
    "如有侵权", "图片来自网络", "图片源于网络", "侵删",
    # an unfilled description in the allowed languages
    "beschreibung hier", "hier einfügen", "description ici", "descripción aquí", "inserisci qui", "descrição aqui",
    "beschrijving hier", "opis tutaj", "описание здесь", "açıklama buraya", "popis zde", "beskrivning här",
    "deskripsi di sini", "mô tả ở đây", "ここに説明", "설명을 입력", "在此输入", "在这里输入",
    # coupon codes, bought followers, free films, gambling bonuses, money without work
    "gutscheincode", "rabattcode", "code promo", "código de descuento", "cupón de descuento", "codice sconto",
    "código promocional", "kod rabatowy", "промокод", "mã giảm giá", "kode promo", "indirim kodu", "slevový kód",
    "rabattkod", "كود خصم", "โค้ดส่วนลด", "优惠券", "クーポン", "할인 코드", "加微信", "限时秒杀", "film izle",
    "ดูหนังออนไลน์", "ดูหนังฟรี", "xem phim online", "xem phim miễn phí", "смотреть онлайн бесплатно",
    "guarda film gratis", "ver películas gratis", "assistir filmes grátis", "film streaming gratuit", "在线观看",
    "免费观看", "bonus deposit", "deposit bonus", "slot gacor", "judi online", "bonus new member",
    "without investment", "sin inversión", "senza investimento", "без вложений", "без вкладень", "không cần vốn",
    "tanpa modal", "bez wychodzenia z domu", "kiếm tiền online", "заработок в интернете", "заробіток в інтернеті",
    # page and app furniture: errors, sign-in, newsletters, "show more", sharing, in the allowed languages
    "something went wrong", "try again later", "enter your email", "your email address",
    "forgot your password", "forgot password", "sign in with google", "continue with google", "войти через",
    "увійти через", "ดูเพิ่มเติม", "zobrazit další", "visa fler", "mostrar más", "mostra altri", "mostrar mais",
    "toon meer", "pokaż więcej", "показать ещё", "показати більше", "daha fazla göster", "tampilkan lebih banyak",
    "hiển thị thêm", "عرض المزيد", "もっと見る", "더보기", "显示更多", "поділитися у", "поделиться в", "sdílet na",
    "dela på facebook", "bagikan ke", "chia sẻ lên", "udostępnij na", "delen op", "شارك على", "แชร์ไปยัง",
    "abonnez-vous", "newsletter abonnieren", "suscríbete a", "iscriviti alla newsletter",
    "inscreva-se", "abonneer je", "zapisz się do newslettera", "подпишитесь на", "підпишіться на", "bültenimize abone",
    "prenumerera på", "đăng ký nhận tin", "สมัครรับข่าวสาร", "contact for licensing",
    "contact us for licensing", "for licensing inquiries",
    # sales in the allowed languages: today only, free shipping, follow for follow, guaranteed returns
    "solo por hoy", "solo hoy", "nur heute", "solo oggi", "seulement aujourd'hui", "alleen vandaag", "tylko dziś",
    "tylko dzisiaj", "только сегодня", "лише сьогодні", "sadece bugün", "jen dnes", "endast idag", "hanya hari ini",
    "chỉ hôm nay", "วันนี้วันเดียว", "今日だけ", "오늘만", "仅限今日", "fri frakt", "follow for follow",
    "like for like", "returns guaranteed", "guaranteed returns",
    # clearance and free delivery in more words ("SALE -70% ALLES MUSS RAUS!!!", "kargo bedava")
    "alles muss raus", "tout doit disparaître", "todo debe irse", "liquidación total", "svuota tutto",
    "wyprzedaż totalna", "kargo bedava", "bedava kargo", "التوصيل مجاني", "توصيل مجاني", "شحن مجاني", "اطلب الآن",
    "miễn phí giao hàng", "gratis ongkir", "包邮", "免运费", "送料無料", "무료배송", "무료 배송", "ส่งฟรีทั่วประเทศ",
    "бесплатная доставка", "безкоштовна доставка", "darmowa dostawa", "doprava zdarma", "gratis verzending",
    "spedizione gratuita", "livraison offerte", "kostenloser versand", "frete grátis",
    # a phone's or a mail app's signature, a blog's byline left in place of the caption
    "sent from my iphone", "sent from my ipad", "sent from my android", "sent from my samsung", "sent from my phone",
    "von meinem iphone gesendet", "envoyé de mon iphone", "enviado desde mi iphone", "inviato da iphone",
    "enviado do meu iphone", "verzonden vanaf mijn iphone", "отправлено с iphone", "wysłane z iphone",
    "iphone'umdan gönderildi", "odesláno z iphonu", "skickat från min iphone", "iphone에서 보냄", "iphoneから送信",
    # buying in one click; "copyright belongs to"; "loading" and "not found" notices, in the allowed languages
    "buy in one click", "buy with one click", "1-click buy", "one-click buy", "купить в один клик", "купить в 1 клик",
    "купити в один клік", "mit einem klick kaufen", "acheter en un clic", "achat en un clic", "comprar con un clic",
    "compra con un clic", "compra in un clic", "comprar com um clique", "kopen met één klik", "kup jednym kliknięciem",
    "tek tıkla satın al", "koupit jedním kliknutím", "köp med ett klick", "beli dengan satu klik", "mua bằng một cú nhấp",
    "ワンクリックで購入", "一键购买", "一鍵購買", "원클릭 구매", "copyright belongs to", "copyrights belong to",
    "bản quyền thuộc về", "版权归", "版權歸", "著作権は", "저작권은", "авторские права принадлежат", "авторські права належать",
    "prawa autorskie należą do", "autorská práva náleží", "hak cipta milik", "telif hakları", "upphovsrätten tillhör",
    "画像が見つかりません", "画像が表示されません", "图片未找到", "图片不存在", "圖片不存在", "이미지를 불러올 수 없",
    "bild nicht verfügbar", "bild nicht gefunden", "bild kann nicht angezeigt werden", "l'image ne peut pas être affichée",
    "la imagen no se puede mostrar", "no se pudo cargar la imagen", "impossibile caricare l'immagine",
    "não foi possível carregar a imagem", "nie można wczytać obrazu", "не удалось загрузить изображение",
    "не вдалося завантажити зображення", "görsel yüklenemedi", "obrázek nelze načíst", "bilden kunde inte laddas",
    "gambar gagal dimuat", "không thể tải hình ảnh", "تعذر تحميل الصورة", "ไม่สามารถโหลดรูปภาพ",
    "auf pinterest merken", "bei pinterest merken", "auf pinterest pinnen", "enregistrer sur pinterest",
    "guardar en pinterest", "salva su pinterest", "salvar no pinterest", "lineで送る", "lineで共有", "lineに送る",
    "はてなブックマークに追加", "ツイートする", "分享到line", "카카오톡 공유", "카카오톡으로 공유",
    # follow, like and subscribe prompts; newsletters; app stores; next-day delivery; not-found notices
    "follow for more", "like and follow", "like & follow", "like & share", "like and share", "tap the bell",
    "hit the bell", "ring the bell", "smash that like", "síguenos en",
    "abonne-toi", "folge uns auf", "folgt uns auf", "seguici su", "siga-nos", "segue-nos",
    "volg ons op", "obserwuj nas", "подписывайтесь на", "підписуйтесь на", "bizi takip edin", "sledujte nás",
    "följ oss på", "ikuti kami di", "theo dõi chúng tôi", "ủng hộ page", "like và share", "กดไลก์", "กดแชร์",
    "กดติดตาม", "フォローお願いします", "フォローしてね", "いいね・フォロー", "いいねとフォロー", "구독 부탁", "좋아요와 구독",
    "구독과 좋아요", "点赞关注", "点赞 收藏", "点赞、收藏", "一键三连", "تابعونا على", "شارك هذا المنشور",
    "partagez cet article", "partagez cette photo", "comparte esta publicación", "condividi questo articolo",
    "compartilhe este post", "teile diesen beitrag", "in your inbox", "weekly digest", "get it on google play",
    "download on the app store", "available on the app store", "baixe o app", "baixe nosso app", "descarga la app",
    "descarga nuestra app", "téléchargez l'application", "lade die app", "scarica l'app", "download de app",
    "pobierz aplikację", "скачайте приложение", "завантажте застосунок", "uygulamayı indir", "stáhněte si aplikaci",
    "ladda ner appen", "unduh aplikasi", "tải ứng dụng", "حمل التطبيق", "ดาวน์โหลดแอป", "アプリをダウンロード",
    "앱 다운로드", "下载app", "下载应用", "vandaag besteld", "morgen in huis", "heute bestellt", "morgen geliefert",
    "commandé aujourd'hui", "livré demain", "изображение не найдено",
    "зображення не знайдено", "imagen no encontrada", "image introuvable", "immagine non trovata",
    "imagem não encontrada", "afbeelding niet gevonden", "nie znaleziono obrazu", "bilden hittades inte",
    "không tìm thấy hình ảnh", "removed by the owner", "removed by its owner", "removed by the uploader",
    # click the image to enlarge it, more word orders; free shipping from; out of stock; press photos; cookies
    "clicca sull'immagine per ingrandire", "clicca sull'immagine per ingrandirla", "클릭하시면 크게", "클릭하면 크게",
    "اضغط على الصورة لتكبيرها", "انقر على الصورة لتكبيرها", "nhấn vào ảnh để phóng to", "nhấp vào ảnh để phóng to",
    "bấm vào ảnh để xem", "nhấn vào ảnh để xem", "nhấp vào ảnh để xem", "xem kích thước đầy đủ",
    "cliquez sur l'image pour l'agrandir", "haz clic en la imagen para ampliarla", "clique na imagem para ampliar",
    "klik op de afbeelding om te vergroten", "kliknij w zdjęcie, aby powiększyć", "нажмите на изображение, чтобы",
    "натисніть на зображення, щоб", "klikněte na obrázek pro zvětšení",
    "klicka på bilden för att förstora", "klik gambar untuk memperbesar", "คลิกที่ภาพเพื่อขยาย",
    "点击图片放大", "versandkostenfrei ab",

    "нет в наличии", "немає в наявності", "brak w magazynie", "niet op voorraad",
    "ausverkauft", "stokta yok", "není skladem", "slut i lager", "stok habis", "hết hàng",
    "نفدت الكمية", "สินค้าหมด", "在庫切れ", "缺货", "품절", "materiały prasowe",
    "pressefoto", "photo de presse", "foto de prensa", "foto stampa", "korzysta z plików cookie", "çerezleri kabul et",
    "çerez kullanıyoruz", "používá cookies", "använder kakor", "menggunakan cookie", "sử dụng cookie",
    "baixe o nosso aplicativo", "baixe nosso aplicativo", "descarga nuestra aplicación", "scarica la nostra app",
    "téléchargez notre application", "laden sie unsere app", "download onze app", "pobierz naszą aplikację",
    # set AF's kinds in more languages: cookie banners, image load errors, "click to enlarge" word orders,
    # "illustrative only", page navigation, WeChat QR prompts, blog sign-offs, readers' comments asking for a
    # link, resellers' and classifieds' small print
    "используем файлы cookie", "використовуємо файли cookie", "utilizamos cookies", "usamos cookies",
    "nous utilisons des cookies", "wir verwenden cookies", "utilizziamo i cookie", "we gebruiken cookies",
    "lỗi tải ảnh", "không tải được ảnh", "图片加载失败", "圖片載入失敗", "画像の読み込みに失敗", "이미지를 불러올 수 없",
    "zum vergrößern anklicken", "zum vergrössern anklicken", "點擊圖片可放大", "点击图片可放大", "点击查看大图", "點擊看大圖",
    "носит иллюстративный характер", "має ілюстративний характер", "retour à l'accueil", "zurück zur übersicht",
    "zurück zur startseite", "volver al inicio", "torna alla home", "voltar ao início", "terug naar home",
    "back to top", "back to home", "previous post", "next post", "上一张", "下一张", "上一篇", "下一篇", "이전 글",
    "다음 글", "前の記事", "次の記事", "bài trước", "bài tiếp theo", "長按識別二維碼", "长按识别二维码", "扫码关注",
    "关注公众号", "關注公眾號", "공감과 댓글", "공감 부탁", "이웃 추가", "求链接", "求鏈接", "求同款", "楼主", "樓主",
    "xin link", "cho xin link", "wo kann man das kaufen", "where can i buy this", "link please", "link pls",
    "ellerinize sağlık", "ready stok", "harga grosir", "chat admin", "торг уместен", "пишите в личку",
    "假一赔十", "正品代购", "转发抽奖", "轉發抽獎", "关注+转发", "카톡 문의", "최저가 보장", "당일 발송",
    "voltar ao topo", "volver arriba", "torna su", "nach oben", "retour en haut", "terug naar boven",
    "powrót na górę", "yukarı çık", "zpět nahoru", "tillbaka till toppen", "kembali ke atas", "lên đầu trang",
    "กลับไปด้านบน", "トップへ戻る", "ページの先頭へ", "맨 위로", "返回顶部", "回到頂部", "العودة إلى الأعلى",
    # listings' and labels' small print: disclaimers, prices on request, trade-ins, nutrition estimates
    "for illustrative purposes only", "are not to scale", "angaben ohne gewähr", "irrtümer vorbehalten",
    "zwischenverkauf vorbehalten", "änderungen vorbehalten", "sous réserve d'erreurs", "salvo error u omisión", "e&oe",
    "e.&o.e.", "prices exclude", "price excludes", "on-road costs", "nutrition information is an estimate",
    "nutritional information is an estimate", "nutrition information is approximate", "verified purchase",
    "reviewed in the united states on", "reviewed in the united kingdom on", "reviewed in canada on",
    "reviewed in india on", "reviewed in australia on", "preis auf anfrage", "prix sur demande", "precio a consultar",
    "цена по запросу", "пишите в директ", "пишите в лс", "私信で", "dmでお問い合わせ", "価格はお問い合わせ",
    "お問い合わせください", "价格私信", "私信询价", "私聊询价", "가격 문의", "dm 문의",
    "prezzo su richiesta", "preço sob consulta", "prijs op aanvraag", "cena na zapytanie", "cena dohodou",
    "finanzierung möglich", "inzahlungnahme", "financing available", "part exchange welcome", "trade-ins welcome",
    "visit our showroom", "besuchen sie unseren showroom", "visitez notre showroom", "visita nuestro showroom",
    # a photo taken down
    "a été supprimée par son auteur", "a été supprimée par l'auteur", "has been removed by its author",
    "has been removed by the author", "has been deleted by its owner", "this photo has been removed",
    "this image has been removed", "this photo is no longer available", "dieses foto wurde entfernt",
    "foto ini telah dihapus", "esta foto fue eliminada", "questa foto è stata rimossa",
    # prizes and links in French; a stock site's French label; a training run's log
    "cliquez sur le lien", "cliquez vite sur", "gagnez un voyage", "gagnez une", "gagnez des", "libre de droits",
    "cuda out of memory", "tried to allocate", "segmentation fault (core dumped)",
    # more photos, and downloads in high resolution, offered in the allowed languages
    "zobacz więcej zdjęć", "ver más fotos", "voir plus de photos", "weitere fotos ansehen", "mehr fotos ansehen",
    "vedi altre foto", "ver mais fotos", "bekijk meer foto's", "daha fazla fotoğraf", "zobrazit další fotky",
    "visa fler bilder", "lihat foto lainnya", "xem thêm ảnh", "смотреть все фото", "дивитися всі фото",
    "baixar em alta resolução", "descargar en alta resolución", "télécharger en haute résolution",
    "in hoher auflösung herunterladen", "scarica in alta risoluzione", "download in high resolution",
    # disclaimers of shops, clinics, games and papers; bookings' terms; login walls and apps
    "subject to change without notice", "terms and conditions apply", "kann vom original abweichen",
    "results may vary", "consult your physician", "consult your doctor before", "may vary by platform",
    "views expressed are those of the author", "do not necessarily reflect", "free cancellation",
    "pay at the property", "book now from", "cena za noc", "prix par nuit", "precio por noche", "preis pro nacht",
    "giriş yapın", "in our app", "in the app", "visit us at", "id de la imagen", "id de l'image", "bild-id",
    "may differ slightly due to", "due to monitor settings", "colours may vary", "colors may vary",
    "colour may vary", "color may vary", "may vary slightly due to", "due to screen settings", "due to different monitors",
    "the views expressed", "editorial use only", "点击链接", "领取红包", "限时免费", "點擊連結", "領取紅包",
)  # fmt: skip
# ASCII punctuation and spaces around a whole-text notice (RE2's \\W would take any non-ASCII letter too:
# "Photo 12日" is no gallery label)
_EDGE = r"[\s!-/:-@\[-\x60{-~…–—]*"
# RE2 patterns, matched case-insensitively on the text outside quotes: page furniture, credits,
# sharing buttons, galleries, missing images and clip-art / stock listings, in several languages.
# a licence or copyright notice; the whole text may be a few of them in a row
_LICENCE_NOTICE = (
    r"(?:(?:sample(?: image| photo)?\W+)?(?:for )?(?:editorial use only|(?:for )?editorial use|not for (?:reproduction|"
    r"resale|commercial use|redistribution)|no commercial use|(?:strictly )?no (?:reproduction|redistribution)|"
    r"copyright(?:ed)? (?:protected )?(?:image|photo|picture|material|content)|copyright(?:ed)? protected|"
    r"(?:this |the )?(?:images?|photos?|pictures?) (?:is |are )?(?:copyright(?:ed)?|protected by copyright)|"
    r"(?:images? )?may be subject to copyright|do not (?:copy|reproduce|use|distribute)(?: (?:this|the|these) "
    r"(?:image|photo|picture|images|photos|pictures))? without (?:(?:the |our )?(?:prior |express )?(?:written )?permission|"
    r"(?:prior |express )?(?:written )?consent)|do not (?:copy|reproduce|use without permission)|reproduction "
    r"(?:prohibited|not permitted)|unauthori[sz]ed use prohibited|for illustrat(?:ion|ive) purposes only"
    # a stock agency's licence and releases ("Rights managed. Model released.")
    r"|rights[- ]managed|royalty[- ]free|(?:model|property) releas(?:ed|e available|e on file)|no (?:model|property) release))"
)
# Laughter as a reader writes it, in the allowed languages' webs: "haha", "jajaja", "kkkk" (Portuguese),
# "wkwk" (Indonesian), "rsrs", "mdr" (French), "555" (Thai), "ㅋㅋ", "哈哈", "ахаха", "ههههه"
_LAUGHTER = (r"(?:a?(?:ha){2,}h?|(?:he){2,}h?|(?:hi){3,}|(?:ja){2,}j?|(?:je){2,}|k{4,}|(?:wk){2,}w?|(?:rs){2,}|lo+l|"
             r"lmf?ao+|rofl|mdr+|x+d{2,}|x{2,}d+|5{4,}|w{3,}|(?:ах|ха){2,}х?а?|(?:хе){2,}|ه{3,}|ㅋ{2,}|ㅎ{2,}|哈{2,}|呵{2,})")
# an image-generation prompt's markers: one of the strong ones (weights "(masterpiece:1.2)", Midjourney's
# parameters, the artists and sites prompts name), or two of the weak ones with a comma between them
_PROMPT_STRONG = (r"trending on (?:artstation|cgsociety|behance|pixiv|pinterest|dribbble|instagram)|artstation hq|octane render|greg rutkowski|artgerm|"
                  r"\bwlop\b|sakimichan|masterpiece, best quality|best quality, masterpiece|\((?:masterpiece|best quality|"
                  r"[a-z][a-z ]{1,30}):[0-2](?:\.\d+)?\)|\s--(?:ar \d+:\d+|aspect \d+:\d+|niji|stylize \d+|chaos \d+|v [4-7]|seed \d+|no \w"
                  r"|q(?:uality)? [.\d]+|s \d{2,}|style raw|tile\b|iw [.\d]+|weird \d+|version \d)"
                  # a seed after a comma ("..., film grain, seed 12345"); a template's empty slots ("A picture of {}.
                  # It is a {} taken in {}.")
                  r"|,\s*seed\s*[:=]?\s*\d{3,}\b|\{\s*\}[^\n]*\{\s*\}|\bsks (?:person|man|woman|dog|cat|style)\b|<sks>"
                  # a LoRA's or an embedding's tag ("<lora:cityscape:0.8>")
                  r"|<(?:lora|lyco|hypernet|embedding):[^>]{1,60}>"
                  # ... Midjourney's command ("/imagine prompt: ...", "Imagine: a cheese shop run by cats, whimsical")
                  r"|^\W*/?imagine(?: prompt)?\s*:"
                  # a template's named slot ("movie poster of <character> in the style of ...")
                  r"|<(?:character|subject|object|name|artist|style|place|location|animal|person|item|product|scene|setting"
                  r"|class|noun|adjective|color|colour)>"
                  # a request for a picture ("Generate an image of a classroom, realistic, DSLR")
                  r"|^\W*(?:please )?(?:generate|create|render|draw|make|design) (?:me )?(?:an?|one|\d+) (?:[a-z-]+ )?(?:image|picture|photo"
                  r"|illustration|render|rendering|artwork|drawing|painting|wallpaper|logo|icon|poster|banner|sticker|mockup)"
                  r" (?:of|for)\b|^\W*(?:erstelle|generiere|zeichne) "
                  r"(?:ein|eine) (?:bild|foto|illustration)\b|^\W*(?:génère|genere|crée|dessine) (?:une|un) (?:image|photo|illustration)\b"
                  r"|^\W*(?:genera|crea|dibuja) (?:una|un) (?:imagen|foto|ilustración|immagine)\b|生成一张|画一张")
_PROMPT_WEAK = (r"(?:\b[48]k\b|\bultra[- ]detailed|\bhighly detailed|\bhyper[- ]?detailed|\bintricate details?\b|"
                r"\bsharp focus|\bconcept art\b|\bmatte painting|\bdigital art\b|\bunreal engine|\bcinematic lighting|"
                r"\bvolumetric lighting|\bgod rays|\bphotorealistic|\bhyperrealistic|\bultra realistic|\bartstation\b|"
                r"\bdeviantart\b|\bultra detailliert|\bmeisterwerk\b|\bby [a-z]+ [a-z]+ and [a-z]+ [a-z]+\b|\b4k wallpaper|::|"
                r"\b3d render\b|\blow poly\b|\bisometric\b|\binsanely detailed|\bfilm grain\b|\bcolou?r graded\b|\banamorphic\b"
                r"|,\s*intricate\s*,|\bimax\b|\bdramatic lighting\b|\brim light(?:ing)?\b|\bray[- ]tracing\b|\bultra hd\b"
                r"|\bepic composition\b|\baward[- ]winning (?:photo(?:graph|graphy)?|image|shot)\b|\bin the style of\b"
                r"|\b(?:cyberpunk|steampunk|vaporwave|synthwave|solarpunk)\b|\b[a-z]+ aesthetic\b|\b[48]k resolution\b"
                # a template's named slot and a mockup ("neon sign that says {text}, ..., mockup template")
                r"|\{[a-z][a-z_]{1,20}\}|\bmock-?up (?:template|psd)\b|\b(?:anime|manga|pixar|ghibli|chibi) style\b)")
DEFAULT_BOILERPLATE_PATTERNS = (
    # a disclaimer labelled as one; an image-generation prompt (`_PROMPT_STRONG`, `_PROMPT_WEAK`): "a cyberpunk
    # city street at night, neon lights, 8k, ultra detailed, trending on artstation"
    rf"^\W*disclaimer\s*:|{_PROMPT_STRONG}|{_PROMPT_WEAK}[^\n]*,[^\n]*{_PROMPT_WEAK}",
    # ... or one labelled as one ("Prompt: a red fox in the snow, watercolour", "Negative prompt: blurry")
    rf"^{_EDGE}(?:(?:positive|negative)\s+)?(?:prompt|промпт|提示词|提示詞|プロンプト|프롬프트)\s*[:：]",
    # a page's menu opening the text ("Main menu Home News Contact"; a game's main menu described is a screen);
    # a gallery's list of similar images ("Similar images: hotel room, bedroom, interior")
    rf"^{_EDGE}main menu\b|^{_EDGE}(?:similar|related) (?:images|photos|pictures|searches)\s*:",
    # a question or an answer labelled as one ("Q: How many surfers are in the water?", "A: lager"); a photo
    # site's name alone after its credit was cut ("on Unsplash")
    rf"^{_EDGE}(?:q|a|ans|answer|question|frage|pregunta|domanda|pergunta|vraag|pytanie|вопрос|питання|soru|otázka|fråga|"
    r"pertanyaan|câu hỏi|问题|問題|질문)\s*[:：]\s*\S|^\W*(?:on|via|from|auf|sur|en|su|em|op|na|di|trên|на)\s+(?:unsplash|pexels|"
    r"pixabay|flickr|instagram|freepik)\W*$",
    # a visual question alone, about the picture ("What time is displayed on the phone?"); a circled answer
    # ("正解は③"); a source named alone ("Source: Reuters", "المصدر: رويترز"); a phone's watermark ("Shot on
    # OnePlus 9 | Hasselblad Camera")
    rf"^{_EDGE}(?:what|which|who|where|how many|how much|is there|are there|does|do|can you)\s[^?\n]{{0,150}}\b(?:image|"
    r"picture|photo|photograph|shown|displayed|visible|pictured)\b[^?\n]*\?\s*$|(?:正解は|答えは|正确答案是|答案是)\s*[①-⑳]"
    rf"|^{_EDGE}(?:source|quelle|fuente|fonte|bron|источник|джерело|kaynak|källa|sumber|nguồn|zdroj|źródło|المصدر|来源|來源|"
    r"出典|출처)\s*[:：]\s*\S+(?:\s+\S+){0,3}\s*$"
    rf"|^{_EDGE}shot on (?:my )?(?:iphone|oneplus|xiaomi|redmi|huawei|honor|oppo|vivo|realme|samsung|galaxy|pixel|nokia|poco|"
    r"motorola|xperia)(?:\s+[a-z0-9+]+){0,3}(?:\s*[|·•,-]\s*(?:[a-z]+\s+){0,2}(?:camera|lens|edition))?\W*$",
    # a visual question with its answer after it: yes or no in the allowed languages ("Is the man wearing
    # glasses? Yes", "Ist das ein Hund? Ja."), or a word to three after a question in English ("How many
    # people are in the photo? Three", "What color is the car? Dark red.")
    r"[^\s?？][?？] ?(?:yes|no|ja|nein|oui|non|sí|si|sì|sim|não|да|нет|так|ні|evet|hayır|ya|tidak|có|không|tak|"
    r"nie|ano|ne|nej|nee|是|否|不是|是的|对|はい|いいえ|네|아니요|아니오|نعم|لا)[.!。]?\s*$|"
    rf"^{_EDGE}(?:is|are|does|do|did|was|were|can|what|which|who|where|how many|how much)\s[^?\n]{{3,150}}\?\s*"
    r"[^\s?]+(?:\s+[^\s?]+){0,2}[.!]?\s*$",
    # an ad's label alone ("Sponsored · Ad"); a shop's opening hours opening the text ("Open Mon–Fri
    # 9:00–17:00, 14 Harbour Road"; a sign's hours in a description come after its words)
    r"^\W*(?:sponsored|gesponsert|sponsorisé|patrocinado|sponsorizzato|gesponsord|sponsorowane)(?:\s*[·|•-]\s*"
    r"(?:ad|anzeige|annonce|anuncio|annuncio|advertentie|reklama))?\W*$|^\W*(?:open|opening hours|hours|öffnungszeiten|"
    r"horaires?|horario)\s*:?\s*(?:mon|tue|wed|thu|fri|sat|sun|daily|mo|di|lun|mar)[a-z]*\.?\s*[–-]\s*(?:mon|tue|wed|thu|"
    r"fri|sat|sun|fr|sa|so|ven|sam|dim|vie|sáb|dom)[a-z]*\.?\s*,?\s*\d{1,2}(?:[:.]\d{2})?\s*(?:am|pm|h)?\s*[–-]\s*\d{1,2}",
    # a reader's comment: laughter that opens or ends a text of at most seven words ("ahahah troppo
    # bello 😍", "kkkkkkkk muito bom", "so true hahaha 😂"; not "Lake Haha in the mountains"); praise
    # alone after "wow" or "omg" ("wow amazing 😍😍😍")
    rf"^[\s!-/:-@\[-\x60{{-~]*{_LAUGHTER}[!?.,…~]*(?:\s+\S+){{0,6}}\s*$"
    rf"|^[\s!-/:-@\[-\x60{{-~]*(?:\S+\s+){{0,6}}{_LAUGHTER}[!?.,…~]*(?:\s*[🌀-🫿☀-➿️‍])*\s*$"
    r"|^\s*(?:哈{3,}|呵{3,}|ㅋ{3,}|ㅎ{3,})",
    r"^[\s!-/:-@\[-\x60{-~]*(?:wow+|omg|o+h+ my god)[\s!.,]+(?:so+\s+|such\s+(?:an?\s+)?|very\s+)?(?:amazing|beautiful|"
    r"cute|gorgeous|stunning|lovely|awesome|nice|great|cool|perfect|adorable|incredible)(?:\s+(?:pic|shot|photo|picture|"
    r"one|view))?[\s!.]*(?:[^\x00-\x7f]\s*)*$",
    # a reader's comment on the post or article, not on an image, in the allowed languages
    r"\b(?:thanks?|thank you|thx)\b.{0,30}\b(?:article|post|blog|write-?up|tutorial|info|information)\b|"
    r"\b(?:nice|great|awesome|good|excellent|wonderful|informative|interesting|helpful) (?:blog|post|article|write-?up)\b|"
    r"\bkeep up the (?:good|great) work\b|\bcan you (?:do|make|post) a tutorial\b|\bi need this in my life\b|"
    r"\bdanke? für(?:s| den| diesen| deinen| ihren)? (?:beitrag|artikel|teilen|post|tipp)|\b(?:toller|super|schöner|guter|"
    r"interessanter) (?:beitrag|artikel|blogpost)\b|\bmerci (?:pour|de) (?:cet|ce|votre|ton) (?:article|billet|post|partage)"
    r"|\b(?:super|très bon|bel|excellent) (?:article|billet)\b|\bgracias por (?:el|este|tu|su) (?:artículo|post|aporte)|"
    r"\b(?:excelente|buen|gran) (?:artículo|aporte)\b|\bgrazie per (?:l'articolo|il post|la condivisione)|\b(?:ottimo|"
    r"bellissimo|bell') ?(?:articolo|post)\b|\bobrigad[oa] (?:pelo|pela|por) (?:post|artigo|conteúdo|dica)|\bonde compr[ao]\b|"
    r"\b(?:leuk|mooi|goed|interessant) (?:artikel|stuk|blog|bericht)\b|\bbedankt voor (?:het|dit|de|je) (?:artikel|delen|blog)|"
    r"\b(?:super|świetny|fajny|ciekawy) (?:wpis|artykuł)|\bdzięki za (?:wpis|artykuł)|\bpozdrawiam serdecznie\b|"
    r"\bdíky za (?:článek|příspěvek)|\b(?:pěkný|skvělý) (?:článek|příspěvek)\b|\btack för (?:att du delar|inlägget|"
    r"artikeln|tipset)|\b(?:elinize|ellerinize|eline|ellerine) sağlık\b|(?:^|[^0-9a-z_])paylaşım için teşekkür|спасибо (?:автору|за (?:статью|пост|обзор))|"
    r"дякую (?:автору|за (?:статтю|пост|огляд))|شكرا (?:على|لك على) (?:الموضوع|المقال)|ขอบคุณสำหรับ(?:ข้อมูล|บทความ)|"
    r"いつも楽しく拝見|更新ありがとうございます|좋은 (?:정보|글) 감사합니다|퍼가요|感谢分享|谢谢分享|谢谢楼主|"
    r"(?:^|[^0-9a-z_])cảm ơn (?:ad|admin|bạn đã chia sẻ)|\bbài viết hay\b|\bmantap gan\b|\bterima kasih "
    r"(?:infonya|artikelnya|atas (?:informasinya|artikelnya))|\bizin share\b",
    # a figure, plate or slide label, a source credit, a camera's default title, a reader's two words
    # ("my pic", "nice pic") or praise that opens a short comment ("Qué lindo!! Saludos desde Argentina",
    # "Trop beau !!! Bravo 👏"): the whole text
    r"^[\s!-/:-@\[-\x60{-~]*(?:fig(?:ure)?|abb(?:ildung)?|rys(?:unek)?|obr(?:ázek)?|рис(?:унок)?|şekil|hình|gambar|plate|slide"
    r"|exhibit|tab(?:le)?|tabelle|tabla)\.?\s*(?:\d+[a-z]?|[ivxlc]+|[a-z])(?:\s*/\s*\d+)?[.:)]?\s*$|"
    r"^[\s!-/:-@\[-\x60{-~]*(?:källa|bron|kaynak|quelle|fuente|fonte|źródło|источник|джерело|nguồn|sumber|source)\s*:\s*"
    r"\S+(?:\s+\S+)?\s*$|^\s*(?:sony dsc|olympus digital camera|nikon digital camera|map data)\s*$|"
    r"^[\s!-/:-@\[-\x60{-~]*(?:my (?:baby|pic|photo|favou?rite|love|view)|nice (?:pic|shot|one|photo)|hello world)[\s!.]*$|"
    r"^[\s!-/:-@\[-\x60{-~]*(?:qu[ée] (?:lind[oa]|bonit[oa]|hermos[oa]|bell[oa]|maravilla)|trop (?:beau|belle|bien|mignon|mignonne)"
    r"|đẹp quá(?: ạ)?|дуже гарно|очень красиво|как красиво|çok güzel|harika|muito (?:lind[oa]|bonit[oa])|wunderschön|sehr schön"
    r"|wie schön|che bell[oa]|che meraviglia|bellissim[oa]|prachtig|wat mooi|piękne|śliczne|pěkné|nádhera|så fint|vad fint"
    r"|cantik (?:banget|sekali)|keren banget|สวยมาก|너무 예뻐요|너무 예쁘다|(?:와\s+)?대박|太美了|好美啊|好漂亮|(?:めっちゃ|超)?(?:かわいい|可愛い)"
    r"|lind[oa] demais|perfeit[oa] demais|太好看了|好好看|太可爱了|好可爱|(?:かわい|可愛|すご|美し|綺麗|きれい)すぎ(?:る|ます|た)?"
    r"|wie süß|so süß|voll süß|trop mignon(?:ne)?|che carin[oa]|que fofo|que fofa|wat lief|как мило|çok tatlı|jak słodko|så sött"
    r"|какая красота|какая красотища|яка краса|як гарно"
    r"|lucu banget|dễ thương quá"
    r"|すごい|素敵|(?:これ)?欲しい|いいね|น่ารัก(?:มาก)?ก*|allah razı olsun|que saudade|ich will auch"
    r"|(?:great|nice|beautiful|amazing|awesome|lovely|stunning|superb|wonderful|fantastic|excellent) (?:shot|capture|click|pic)|"
    r"ما شاء الله|روعة)"
    # a particle or two words after it ("Keren banget kak!", "Đẹp quá trời luôn", "太美了吧！！", "สวยมากค่ะ"),
    # then marks, emoji and at most six more words
    r"(?:[吧啊呀啦了哦〜~ー]+|(?:ค่ะ|คะ|ครับ|จัง|จ้า)+)?(?:\s+[^\s.!?！]+){0,2}"
    r"(?:(?:\s*[!！.,、،~〜❤♥ㅠㅜ…]+|\s*[🌀-🫿☀-➿️‍]+)(?:\s*[^\s.!?？]+){0,6}[\s!！?？.~〜❤♥ㅠㅜ…🌀-🫿☀-➿️‍]*)?\s*$"
    # a comment on the post: it made the reader's day, brought back memories
    r"|^\W*(?:this|that|it|you)? ?(?:just )?made my (?:day|morning|night)\b|\bbrings? back (?:so many |such |great |good "
    r"|fond |a lot of )?memories\b",
    # birthday wishes, with a mark or an emoji after them ("Happy birthday buddy!! 🎉"; not "Happy birthday balloons")
    r"^[\s!-/:-@\[-\x60{-~]*(?:happy birthday|alles gute zum geburtstag|joyeux anniversaire|feliz cumpleaños|buon compleanno"
    r"|feliz aniversário|parabéns|gefeliciteerd|с (?:днём|днем) рождения|з днем народження|doğum günün kutlu olsun|"
    r"všechno nejlepší|grattis på födelsedagen|wszystkiego najlepszego|selamat ulang tahun|chúc mừng sinh nhật|"
    r"สุขสันต์วันเกิด|생일 축하(?:해|합니다|해요)|お誕生日おめでとう|生日快乐|عيد ميلاد سعيد)(?:\s+[^\s.!?]+){0,2}"
    r"(?:\s*[!！.,~❤♥]+|\s*[🌀-🫿☀-➿️‍]+)[\s!！.~❤♥🌀-🫿☀-➿️‍]*$",
    # a photo site's and a classified's furniture ("Seen in the group: ...", "Thanks for the fave!", "Sold, thanks everyone")
    r"^\W*seen in (?:the group|a group|my favorites)\b|^\W*(?:thanks|thank you|thx) (?:so much )?for the (?:fave|fav|faves|favs|"
    r"comment|comments|invite|add|visit|views)\b|^\W*(?:sold|verkauft|vendu|vendido|venduto|verkocht|sprzedane|продано|"
    r"satıldı|prodáno|såld|terjual|đã bán)\b[\s!.,]*(?:(?:thanks?|thank you|danke|merci|gracias|grazie|obrigad[oa]|bedankt|dzięki|"
    r"спасибо|teşekkürler|díky|tack|terima kasih|cảm ơn)(?:\s+\w+)?)?[\s!.]*$",
    # a reader's question about the place or the thing, the whole text ("How much did it cost?", "Kde to je?")
    r"^[\s!-/:-@\[-\x60{-~¿¡]*(?:[^\s.!?]+[\s,!¡¿]+){0,3}(?:how much (?:did|does|is|was) (?:it|this|that)|where (?:is|was) "
    r"(?:this|that|it)|where can i (?:buy|get|find)|what (?:camera|lens|app|filter) (?:did|do) you use|wo ist das|wo kann "
    r"(?:man|ich) (?:das|es)|où est-ce|c['’]est où|dónde (?:es|está|queda)(?: (?:esto|eso))?|dove si trova|dov['’]è|onde (?:fica|é) "
    r"(?:isso|esse|isto)|waar is dit|где это|де це|burası neresi|kde to je|var är det|di mana (?:ini|itu)|ở đâu (?:vậy|thế)"
    r"|这是哪里|在哪(?:里)?买|どこで買え|어디(?:예요|에요|인가요)|anyone know|does (?:this|it) come in|where did you (?:get|buy|find)"
    r"|is (?:this|it) (?:still )?available)[^.!?？]{0,40}[?？]+(?:\s*[^\s.!?？]+){0,5}\s*$",
    # out of stock in a word that also means "exhausted": the whole text
    r"^\W*(?:produto |producto |prodotto )?(?:esgotado|agotado|esaurito)[\s!.]*(?:avise-me[^.!?]*[.!?]?\s*)?$",
    # money from home, as Portuguese, Turkish and Vietnamese spam writes it
    r"\brenda extra\b|\btrabalhando em casa\b|\bchama no direct\b|\bevden para\b|\bdm at\b|\bvay tiền\b|"
    r"liên hệ zalo",
    # quick loans and credit "without checks", betting sites, invoices and papers for sale, side jobs
    r"\b(?:payday|instant|quick|fast) (?:loans?|cash)\b|\bno credit check\b|\bsofortkredit|\bkredit ohne schufa\b|"
    r"\b(?:crédit|prêt) rapide\b|\bpréstamos? (?:rápidos?|inmediatos?|sin buró)|\bprestiti? veloc|\bempréstimo rápido\b|"
    r"\bgeld lenen\b|\bzonder bkr\b|\bop je rekening\b|\bsnabblån\b|\blån utan uc\b|\b(?:szybka |szybkie )?pożyczk\w* "
    r"(?:bez bik|online|na dowód)|\bchwilówk|\brychl(?:á|é) půjčk|\bpůjčk\w* bez registr|\bpeníze (?:ještě )?dnes\b|"
    r"\bdeneme bonusu\b|\bbahis siteleri\b|\bgüncel giriş|\bhızlı kredi\b|\bpinjaman online\b|\bpinjol\b|"
    r"\bdana cepat cair\b|\bvay (?:online|nhanh)\b|\bgiải ngân trong ngày\b|займ[^\s]* (?:онлайн|на карту|без)|микрозайм|"
    r"без отказа и проверок|деньги на карту за|кредит онлайн|без довідок|гроші на картку|급전|당일 (?:입금|대출)|무직자 (?:대출|가능)|"
    r"대출 (?:상담|문의)|副業で|月収\d+万|LINE登録で|即日融資|代开发票|证件办理|联系微信|贷款秒批|网贷|สินเชื่อด่วน|กู้เงินด่วน|"
    r"\bapuestas deportivas\b|\bbono de bienvenida\b|\bapostas esportivas\b|\bscommesse sportive\b|\bparis sportifs\b|"
    r"\bsportwetten\b|\bzakłady bukmacherskie\b|ставки на спорт|букмекер|казино онлайн|онлайн[- ]казино|\bcá cược\b|"
    r"\bnhà cái\b|\btaruhan\b|đăng ký ngay nhận|nhận ngay \d+k|\bcompro oro\b|\bpago al instante\b|\bllame ya\b|"
    r"z pohodlí domova|\bvydělejte si\b|\bkredit tanpa jaminan\b|\bcair dalam \d+ menit\b|รับทำเงินออนไลน์|รายได้วันละ|ทักไลน์|nhận \d+k\b|無料でポイント|プロフィールのリンク|지금 가입하면|쿠폰 증정|링크 클릭|澳门(?:线上|网上|在线)|线上娱乐开户|开户送|彩金|日赚|百家乐|토토사이트|オンラインカジノ",
    r"\b(?:share|post|send|pin) (?:this )?(?:on|to|via|with) (?:facebook|twitter|x|pinterest|whatsapp|linkedin|"
    r"reddit|tumblr|e-?mail|telegram|vk|weibo|wechat)\b",
    r"\b(?:follow|like) us on\b|\bpin it\b|\btweet this\b|\bshare this (?:image|photo|picture|post|page)\b",
    r"\b(?:photo|image|picture|photograph)(?:graphy)? (?:by|from|via|courtesy of) .{1,60}? (?:on|via|from) "
    r"(?:unsplash|pexels|pixabay|flickr|instagram|wikimedia|freepik)\b",
    r"\b(?:photo|image|picture|pic|img|slide|item|product image|thumbnail|gallery image)s? ?#?\d{1,3} (?:of|/|out of) "
    r"\d{1,3}\b",
    r"\b(?:no|without) (?:photos?|images?|pictures?|preview|thumbnails?) (?:available|found|yet|to display)\b",
    r"\b(?:photos?|images?|pictures?|previews?|thumbnails?) (?:is |are )?(?:currently )?(?:not|un)(?: currently)? ?"
    r"(?:available|found|loaded|displayed)\b|\bimage coming soon\b|\bphoto coming soon\b",
    r"\b(?:free |hd )?png (?:images?|clipart|clip art|files?|icons?|transparent|download|pictures?|vectors?)\b"
    r"|\btransparent (?:background )?png\b|\bpng (?:with )?transparent background\b|\bfree png\b",
    r"\beps ?(?:8|10)\b|\bvector (?:eps|file|format|download|pack|set)\b|\b(?:ai|eps|svg|psd)(?:,| and| &) ?"
    r"(?:ai|eps|svg|psd|pdf|png|jpg)\b",
    r"\bclip ?art (?:png|free|download|images?|library|collection)\b|\bfree clip ?art\b",
    r"\b(?:download|view|see|browse|shop|explore|discover) (?:more|all|our|the full|similar|related) "
    r"(?:photos?|images?|pictures?|designs?|products?|collection|gallery|items?|wallpapers?)\b",
    r"\b(?:hd |4k |free )?wallpapers? (?:free )?(?:download|for (?:desktop|mobile|iphone|android|pc))\b",
    r"(?:©|\(c\)) ?(?:19|20)\d\d\b|\bcopyright (?:©|\(c\)|(?:19|20)\d\d)|\bwatermark(?:ed)?\b",
    r"\b(?:tap|click|swipe|scroll|hover|press)(?: (?:on )?(?:the |this )?(?:image|photo|picture|thumbnail|here))? (?:to|for) "
    r"(?:zoom|enlarge|expand|see|view|open|play|unmute|mute|retry|reload|try again|"
    r"watch|load|download|more|next)\b|\bzoom in\b|\bskip to (?:main )?content\b|\bskip navigation\b",
    r"\blike,? comment,? (?:and |& )?(?:share|subscribe)\b|\bdon['’]t forget to (?:like|subscribe|share|follow)\b|"
    r"\bposted (?:by|in) (?:admin|administrator|editor|staff)\b|\buncategori[sz]ed\b",
    r"\benlarge (?:this )?(?:image|photo|picture)\b|\bthumbnail for\b|^gallery:? \d+ (?:photos|images|pictures)\b|"
    r"\b(?:image|photo) placeholder\b|\bplaceholder (?:image|photo|picture)\b|\breplace with your own\b|"
    r"^\W*olympus digital camera\W*$",
    r"\b(?:photos?|images?|pictures?|videos?|files?|pages?|posts?|content) (?:is |are |has been |have been )?no "
    r"longer (?:available|exists?|online)\b|\b(?:photo|image|picture|video|content|post|file) has been (?:removed|"
    r"deleted|taken down)\b|\b(?:does not|doesn['’]t) exist or (?:has been|is no longer)\b",
    # a not-found notice: the text opens or ends with it ("Error 404 - Page not found", "Oops! Page not found.");
    # inside a text it is what a screen shows ("A phone showing a 404 page not found error")
    r"^\W*(?:error\s*)?(?:\b404\b.{0,12}not found|\b(?:page|file|image) not found)\b|(?:\b404\b.{0,12}not found|"
    r"\b(?:page|file|image) not found)\W*$",
    # cookie banners, login walls, page navigation, "continue reading", unfilled placeholders
    r"\b(?:we|site|website|page) uses? cookies\b|\baccept (?:all )?cookies\b|\b(?:read|see|view) our (?:cookie|"
    r"privacy) policy\b",
    # cookie notices in the other allowed languages
    r"\b(?:diese (?:website|seite)|wir) (?:verwendet|verwenden|nutzt|nutzen) cookies\b|\bcookies akzeptieren\b|\bce site "
    r"utilise (?:des )?cookies\b|\baccepter (?:les|tous les) cookies\b|\beste (?:sitio|sitio web) (?:utiliza|usa) cookies\b|"
    r"\baceptar (?:las |todas las )?cookies\b|\bquesto sito (?:utilizza|usa) (?:i )?cookie\b|\baccetta (?:i |tutti i )?"
    r"cookie\b|\beste (?:site|website) (?:utiliza|usa) cookies\b|\bdeze (?:website|site) (?:gebruikt|maakt gebruik van) "
    r"cookies\b|\bta strona (?:używa|wykorzystuje) (?:plików )?cookie|\bbu (?:site|web sitesi) çerez|\btato stránka "
    r"(?:používá|využívá) (?:soubory )?cookie|\bden här (?:webbplatsen|sidan) använder cookies\b|\bsitus ini menggunakan "
    r"cookie|trang web này sử dụng cookie|(?:^|[^0-9a-z_а-яёіїєґ])(?:этот сайт|сайт) использует (?:файлы )?cookie|"
    r"本网站使用cookie|このサイトはクッキー|이 사이트는 쿠키",
    r"\b(?:log|sign) ?in (?:to|or register to) (?:view|see|continue|access|download|comment|read|unlock)\b|\byou "
    r"(?:must|need to) be (?:logged|signed) in\b|\b(?:register|sign up|subscribe) (?:now|today|for free|to (?:view|"
    r"see|continue|read|access|unlock))\b|\bcreate (?:a free|an|your) account\b",
    r"^\W*(?:(?:previous|prev|next|back to|go to) (?:image|photo|picture|slide|page|post|article|story|gallery|top)"
    r"\W*)+$|^\W*\d{1,3} ?(?:of|/) ?\d{1,3}\W*$",
    r"\b(?:continue|keep) reading\b|\bread (?:the )?(?:full|whole|rest of the) (?:article|story|post)\b|"
    r"\b(?:article|story) continues below\b|\bscroll down (?:to|for)\b",
    r"^" + _EDGE + r"(?:insert|add|enter|type|write|your) (?:the |an? |your )?(?:image )?(?:alt[- ]?text|caption|description)"
    r"(?: here)?" + _EDGE + r"$|\balt[- ]?text here\b",
    r"\[(?:insert|your|add|enter|put|write) [^\]]{0,40}\]|\b(?:enter|insert|add|type|write) (?:an? |the |your )?"
    r"(?:image )?(?:description|caption|alt[- ]?text|title) here\b|\b(?:image|photo|picture) (?:description|"
    r"caption) here\b|\bcaption here\b|\b(?:insert|add|place|put|your) (?:an? |your )?(?:image|photo|picture|"
    r"logo|text) here\b",
    # "Source:" opening the text or after a mark ("... | Source: Eurostat"), not "electricity by source:"
    r"\b(?:image|photo|picture|data|chart|map) (?:source|via|credit)s?\s*:|\b(?:credit|credits|crédito|fuente|quelle|"
    r"源自|来源)\s*[:：]|(?:^|[^\w\s]\s*)source\s*[:：]",
    r"\b(?:buy|order|shop) (?:online|now|here|today)\b|\b(?:in stock|out of stock|best price|"
    r"free delivery|ships? (?:free|within))\b|\bprice:? ?[$€£¥]",
    r"\b(?:partager|teilen|compartir|condividi|compartilhar|compartilhe|deel|udostępnij|paylaş|sdílet|dela|bagikan|"
    r"chia sẻ) (?:sur|auf|en|su|no|na|in|op|on|ke|lên|via|über|per|por|через) (?:facebook|twitter|x|pinterest|whatsapp|"
    r"linkedin|telegram|reddit|e-?mail|messenger|threads|bluesky|line|vk|tumblr)\b|\bfoto de .{1,40}? en (?:unsplash|pexels)\b|\bimagen no disponible\b|\bkein bild verfügbar\b|"
    r"\bimage non disponible\b|\bimmagine non disponibile\b|(?:^|[^0-9a-z_а-яёіїєґ])нет (?:фото|изображения)(?:$|[^0-9a-z_а-яёіїєґ])",
    r"暂无图片|图片加载失败|图片暂缺|分享到(?:微信|微博|qq|朋友圈)|扫码关注|关注我们|画像はありません|画像がありません|"
    r"シェアする|이미지 없음|공유하기",
    r"\b(?:enable|accept|allow) cookies\b|\bopen in (?:the )?app\b|^\W*pin on [^.!?]{1,40}$|\bsave to (?:pinterest|"
    r"collection|board)\b",
    r"\badd to (?:wish ?list|favou?rites|bag|basket|compare)\b|\bdefault (?:product |profile |user |avatar )?(?:image|"
    r"photo|thumbnail|picture|avatar)\b|\b(?:alt[- ]?text|caption|description|image|title|text) goes here\b|\bkeine? "
    r"(?:bild|foto)s? (?:vorhanden|verfügbar)\b|\baucune (?:image|photo) disponible\b|\bsin imagen\b|\bnessuna "
    r"immagine\b|\bsem imagem\b|\bgeen afbeelding\b|скачать бесплатно|обои на рабочий стол|"
    r"^\W*(?:picture|image|photo) of (?:the |this )?(?:product|item)\W*$|图片加载中|正在加载|読み込み中",
    r"\b(?:photo|image|picture)s? courtesy(?: of)?\b|\bdownload (?:the |this )?(?:high[- ]res(?:olution)?|hi-res|full[- ]"
    r"(?:size|resolution)|original|large) (?:image|photo|picture|version|file|jpe?g|png|tiff?|pdf|raw|psd)\b|\bnot available in your (?:country|"
    r"region|location)\b|\bcliquez (?:ici )?pour (?:agrandir|voir|zoomer)\b|\bklicken (?:sie )?(?:zum|um zu) "
    r"(?:vergrößern|vergrössern)\b|\bzum (?:vergrößern|vergrössern)(?: \w+)? (?:an)?klicken\b|\b(?:haga|haz) clic (?:para|aquí para) (?:ampliar|agrandar|ver)\b|\bclicca per "
    r"ingrandire\b|\bclique para ampliar\b|\bklik om te vergroten\b|(?:^|[^0-9a-z_а-яёіїєґ])нажмите,? чтобы увеличить|点击(?:放大|查看大图)",
    # the whole text a licence or copyright notice ("Editorial use only", "SAMPLE - NOT FOR REPRODUCTION"), a
    # broken-image notice ("Image failed to load") or a gallery's own label ("View gallery (12 photos)",
    # "Main product photo"); inside a caption such words may be what a sign or a screen shows
    r"^" + _EDGE + _LICENCE_NOTICE + r"(?:[\s.,;:!–—-]+" + _LICENCE_NOTICE + r"){0,3}" + _EDGE + r"$",
    r"^" + _EDGE + r"(?:the )?(?:requested |selected )?(?:image|photo|picture|media|file|thumbnail|preview)s? (?:failed to load|could not be (?:loaded|"
    r"displayed)|cannot be (?:loaded|displayed)|did not load|is broken)" + _EDGE + r"$|^" + _EDGE + r"(?:error loading|unable to load|"
    r"failed to load|could not load) (?:the )?(?:image|photo|picture|media|file|preview)" + _EDGE + r"$",
    r"^" + _EDGE + r"(?:view|open|see|browse|launch) (?:the )?(?:full |photo |image )?(?:gallery|slideshow|album|lightbox)\b"
    r"|\(\d{1,4} (?:photos|images|pictures)\)" + _EDGE + r"$|^" + _EDGE + r"(?:main|primary|featured|alternate|alt|additional|secondary|"
    r"front|back|side) (?:product )?(?:image|photo|picture|thumbnail|view)" + _EDGE + r"$",
    # "no image available" in the other allowed languages
    r"\bingen bild (?:tillgänglig|finns|saknas)|\bbild saknas\b|\bgambar tidak (?:tersedia|ada|ditemukan)\b|\btidak ada "
    r"gambar\b|(?:chưa|không) có (?:hình ảnh|ảnh)|hình ảnh không (?:có sẵn|khả dụng)|\bafbeelding (?:niet beschikbaar|"
    r"ontbreekt)\b|الصورة غير (?:متوفرة|متاحة|موجودة)|لا توجد صورة|ไม่มีรูปภาพ|ไม่มีภาพ|ไม่พบรูปภาพ|\bresim yok\b|"
    r"\bgörsel (?:bulunamadı|mevcut değil|yok)|\bbrak (?:zdjęcia|zdjęć|obrazka|obrazu)|\bzdjęcie (?:niedostępne|"
    r"niedostępne)\b|\bobrázek (?:není k dispozici|nenalezen)\b|(?:^|[^0-9a-z_])žádný obrázek\b|(?:^|[^0-9a-z_а-яёіїєґ])(?:немає "
    r"(?:зображення|фото)|зображення (?:відсутнє|недоступне)|изображение (?:отсутствует|недоступно))|画像なし|无图片|"
    r"没有图片|이미지가 없습니다|이미지를 찾을 수 없",
    r"^" + _EDGE + r"(?:product |gallery |item |main )?(?:image|photo|picture|thumbnail|img)\s*#?\d{1,3}" + _EDGE + r"$",
    # a shop's or a feed's counters and labels as the whole text; discounts in the allowed languages
    r"^" + _EDGE + r"(?:on sale|sold out|(?:now )?in stock|out of stock|page\s*\d{1,4}\s*(?:of|/)\s*\d{1,4})" + _EDGE + r"$|"
    r"\bshowing \d+\s*[-–]\s*\d+ of \d+|\d[\d.,]*\s?[km]?\s+(?:likes?|comments?|views?|shares?)\b[^a-z]{0,5}\d[\d.,]*\s?[km]?\s+"
    r"(?:likes?|comments?|views?|shares?|reposts?)\b",
    r"\d{1,2} ?% (?:rabatt|sconto|de descuento|de réduction|de remise|korting|zniżki|rabatu|slevy|indirim|giảm|diskon|"
    r"скидк|знижк|rea)|(?:rabatt|sconto|descuento|réduction|remise|korting|zniżka|zniżki|rabat|sleva|indirim|giảm giá|"
    r"diskon|скидка|скидки|знижка|знижки|خصم|할인|ลดราคา|ลด)[^.!?]{0,15}\d{1,2} ?%|(?:^|\s)[-−]\d{1,2} ?% (?:sur|auf|en|su|"
    r"op|na|on)\b|\bcompra \d+ y llévate \d+|\bnu \d+ halen,? \d+ betalen\b",
    # a credit line as the whole text: a label, a colon and a name of at most four words ("Photo: John Smith",
    # "写真提供：共同通信社", "مصدر الصورة: رويترز"); a description after a label is longer
    r"^" + _EDGE + r"(?:photo|photos|photograph|picture|pictures|image|images|pic|foto|fotos|fotografía|fotografia|"
    r"fotografie|fotografi|zdjęcie|zdjęcia|фото|фотография|фотографія|світлина|bild|bilder|ảnh|hình ảnh|ภาพ|ภาพจาก|ภาพโดย|"
    r"ที่มาภาพ|写真|写真提供|写真出典|出典|撮影|照片|图片|圖片|图|摄影|攝影|사진|사진 제공|사진 출처|출처|صورة|الصورة|مصدر الصورة|تصوير|görsel|fotoğraf|"
    r"gambar|kredit foto|sumber foto|nguồn|fotokälla|foto credit|image source|photo source)\s*[:：]\s*"
    r"[^\s.!?:：。]{1,20}(?:\s+[^\s.!?:：。]{1,20}){0,3}\s*[.。]?$",
    # "Photo 5 of 20" in the allowed languages
    r"(?:^|[\s(\[])(?:foto|fotos|bild|imagen|imagem|immagine|zdjęcie|фото|изображение|зображення|obrázek|görsel|resim|"
    r"gambar|ảnh|hình|afbeelding|bilden)\s*#?\d{1,3}\s*(?:de|von|aus|di|van|z|ze|из|з|av|dari|trên|/)\s*\d{1,3}(?:$|[^0-9])",
    # a gallery link in the allowed languages, as the whole text
    r"^" + _EDGE + r"(?:(?:voir|afficher|ouvrir) (?:la |les )?(?:galerie|photos|diaporama)|(?:bilder)?galerie (?:ansehen|"
    r"öffnen|anzeigen)|(?:ver|abrir) (?:la |a )?(?:galería|galeria)|(?:vedi|apri) (?:la )?galleria|(?:bekijk|open) (?:de )?"
    r"(?:galerij|fotogalerij)|(?:zobacz|otwórz) galeri[eę]|смотреть галерею|открыть галерею|galeriyi (?:gör|aç)|"
    r"zobrazit galerii|visa galleriet|lihat galeri|xem (?:thư viện|album) ảnh)" + _EDGE + r"$",
    r"^" + _EDGE + r"(?:(?:this (?:work|image|photo|picture) is )?licen[cs]ed under (?:a |the )?|licen[cs]e:? )?(?:cc[ -](?:by|0|zero)(?:[ -](?:sa|nd|nc))*(?: \d\.\d)?|creative commons "
    r"(?:attribution|by|zero|license|licence)[^.!?]{0,40}|public domain(?: mark)?(?: \d\.\d)?)" + _EDGE + r"$",
    r"^" + _EDGE + r"(?:todo|fixme|tbd)\b\s*[:\-]|\badd alt[- ]?text\b|\balt[- ]?text (?:missing|needed|required)\b"
    r"|\bopens? (?:(?:the |this )?(?:link|image|photo|picture|video) )?in (?:a )?new (?:tab|window)\b",
    # a page that needs scripts; a photo agency's credit as the whole text ("(AP Photo/Evan Vucci)")
    r"^" + _EDGE + r"(?:loading|加载中|載入中|読み込み中|로딩 ?중|загрузка|завантаження|cargando|chargement|caricamento|"
    r"carregando|laden|ładowanie|yükleniyor|načítání|laddar|memuat|đang tải|جار التحميل|กำลังโหลด|รูปภาพ|ภาพถ่าย|"
    r"ไม่มีชื่อ)" + _EDGE + r"$|\[(?:no |image |photo )?(?:description|caption|alt[- ]?text)(?: (?:unavailable|missing|"
    r"not available|pending|to come|tbd))?\]",
    r"^" + _EDGE + r"(?:©|ⓒ|\(c\)) ?[^\s.!?:：。]{1,20}(?: [^\s.!?:：。]{1,20}){0,3}\s*[.。]?$",  # (single spaces: Hyperscan)
    r"^" + _EDGE + r"(?:file "
    r"photo|archive photo|foto di repertorio|foto de archivo|photo d['’]archives|archivbild|archivfoto|archiefbeeld|"
    r"zdjęcie archiwalne|архивное фото|архівне фото|arşiv fotoğrafı|archivní foto|arkivbild|foto arsip|ảnh tư liệu|"
    r"صورة أرشيفية|資料写真|资料图|资料照片|자료사진)(?:\s*[:/,-]?\s*[^\s.!?:：。]{1,20}){0,3}" + _EDGE + r"$",
    r"\b(?:captured|shot|taken) by \S{1,40} on (?:unsplash|pexels|pixabay|flickr|instagram)\b|\b(?:foto|photo|imagen|imagem|bild|"
    r"immagine) (?:de|di|von|van) [^.!?]{1,40} (?:sur|en|su|auf|op|no|em) (?:unsplash|pexels|pixabay)\b",
    r"\b(?:was|before|antes|avant|vorher|prima|era|voor|było|было|önceki) [$€£¥]\s?\d[\d.,]*\s*[-–—|/,]*\s*(?:now|ahora|"
    r"maintenant|jetzt|ora|agora|nu|teraz|сейчас|şimdi) [$€£¥]\s?\d|^\W*(?:error )?404\b.{0,80}(?:could not be found|not "
    r"found|no encontrada|introuvable|nicht gefunden|non trovata|não encontrada|niet gevonden|nie znaleziono|не найдена)",
    r"\b(?:enable|turn on|activate|allow) javascript\b|\bjavascript (?:is )?(?:disabled|required|must be enabled|"
    r"is turned off)\b|\byour browser (?:does not|doesn['’]t) support\b|\bplease (?:update|upgrade) your browser\b",
    rf"^\W*(?:(?:fot\.|foto:?|photo:?)\s*)?(?:\(?{NEWS_AGENCIES}(?: photo| images| wire| press)?\s*/\s*[^/()]+\)?)\W*$",
    # advertising copy: offers, prices, deadlines and calls to buy or book
    r"\b(?:save|get) (?:up to |an extra )?\d{1,2} ?%|\bup to \d{1,2} ?% off\b|\b\d{1,2} ?% off "
    r"(?:all|everything|your|sitewide|storewide|today|now|this)\b|\bbuy \d+,? get \d+\b|\bbogo\b|\b(?:this|today|"
    r"tonight|weekend|saturday|sunday)(?: weekend| week| month)? only\b|\b(?:limited|while) (?:time|stock|supplies)(?: offer| only| last)?\b|"
    r"(?:^|[.!,;:–-]\s*)(?:book|order|shop|buy|reserve|grab) (?:your|our|the|a|an|yours|one|online|it|them|tickets?)\b"
    r"[^.!?]*\b(?:now|today)\b|\b(?:lowest|unbeatable|"
    r"wholesale|factory|cheapest|discount|bargain|affordable) prices?\b|\bprices? guaranteed\b|\bguaranteed "
    r"(?:lowest|best|results)\b|\bfactory (?:direct|outlet)\b|\bcontact us\b|\b(?:direct|wholesale) supplier\b|"
    r"\blose \d+ ?(?:kg|kgs|lbs?|pounds|kilos)\b|\bone (?:simple|weird|strange) trick\b|\breplica (?:watches|bags|"
    r"handbags|shoes|jerseys)\b|\bcheap (?:flights|hotels|tickets|deals|holidays)\b|\b(?:worldwide|fast|express) "
    r"shipping\b|\border (?:before|by) (?:midnight|noon|\d)",
    # spam: easy money, crypto, gambling; and the commonest calls to buy in other languages
    r"\bearn \$?\d[\d,]* (?:a|per) (?:day|week|month)\b|\b(?:work|money) from home\b|\bairdrop\b|\bconnect your "
    r"wallet\b|\bbefore it (?:pumps|moons|goes (?:to the moon|parabolic|viral))\b|\b\d{2,4}x (?:gains?|returns?|profit)\b|\bonline (?:slots|casino)\b|"
    # (betting sold, not a betting app's screen described; a wholesaler's minimum order, "MOQ 50 pcs")
    r"\b(?:best|top|free|online|legal) sports betting\b|\bsports betting (?:tips|bonus|sites?|picks)\b|\bmoq\b\s*:?\s*\d|"
    r"\bwelcome bonus\b|\bfree spins\b|\bdropshipping\b|\bhot sale\b|\bnew arrivals?\b.{0,20}"
    r"\b(?:sale|wholesale|cheap)\b|\bachetez (?:maintenant|dès maintenant)\b|\blivraison (?:gratuite|offerte)\b|\bcompre "
    r"(?:agora|já)(?:$|[^0-9a-z_])|\bfrete grátis\b|\bkaufen sie jetzt\b|\bkostenloser versand\b|\bacquista ora\b|\bspedizione "
    r"gratuita\b|\bkoop nu\b|\bgratis verzending\b|\bhemen satın al\b|(?:^|[^0-9a-z_çğıöşü])ücretsiz kargo\b|\bkup teraz\b|\bdarmowa "
    r"dostawa\b|купите (?:сейчас|прямо сейчас)|доставка бесплатн|бесплатная доставка|со скидкой|包邮|限时特价|全场[一二三四五六七八九]折|"
    r"立即购买|送料無料|今すぐ購入|期間限定セール|무료 배송|지금 구매",
    r"\bjoin (?:our|my) (?:telegram|whatsapp|discord|group|channel|vip)\b|\bcrypto signals\b|\bsend \d+(?:\.\d+)? "
    r"(?:btc|eth|usdt|bitcoin)\b|\b(?:bitcoin|btc|crypto|eth) doubl|\bseo services\b|\brank #?1 on google\b|\bapply "
    r"(?:online|now|today)\b|\b(?:mortgage|loan|payday) (?:rates?|offers?|approval)\b|\bcheap(?:est)? prices?\b|"
    r"\bcompra (?:ahora|ya)\b|\bahorra hasta\b|\boferta exclusiva\b|\bjetzt bestellen\b|\bcommandez maintenant\b|"
    r"купить (?:дешево|недорого|со скидкой)|звоните|закажите (?:сейчас|прямо)|今すぐ登録|ポイントをゲット|立即注册|马上抢购",
    r"(?:^|[^0-9a-z_])(?:earn|guadagna|gana|ganhe|verdiene|gagnez|zarabiaj|зарабатывай|заробляй|заработок|"
    r"заробіток|kiếm|tjäna|kazan|vydělávejte|dapatkan|hasilkan|اربح)[^0-9a-z_][^.!?]{0,30}\d[^.!?]{0,30}"
    r"(?:per day|a day|al giorno|al día|por día|por dia|pro tag|am tag|par jour|dziennie|в день|на день|mỗi ngày|om dagen|"
    r"per dag|günde|günlük|denně|per hari|sehari|يوميا)|(?:money|dinero|soldi|dinheiro|geld|argent|pieniądze|деньги|"
    r"гроші|tiền|pengar|para|peníze|uang|المال)[^.!?]{0,20}(?:from home|desde casa|da casa|em casa|von zu hause|de chez "
    r"vous|z domu|из дома|вдома|hemifrån|evden|z domova|dari rumah|tại nhà|من المنزل)|\bbuy (?:instagram |tiktok |"
    r"youtube |twitter |real |cheap )?(?:followers|likes|views|subscribers)\b",
    r"\bmod apk\b|\bapk mod\b|\bunlimited (?:coins|gems|money|diamonds)\b|\bgift card generator\b|\bno survey\b|"
    r"\bno human verification\b|скидки до|успей(?:те)? купить|купить прямо сейчас",
    r"\b(?:like|share|comment|tag a friend) (?:and|&) (?:share|comment|follow|tag)\b.{0,40}\bwin\b|\bshare to win\b|"
    r"\bgiveaway\b|\bdiskon \d|\bgratis ongkir\b|\bburuan (?:checkout|beli|order)\b|\bpromo (?:gila|spesial|hari ini)\b|"
    r"giảm giá|miễn phí vận chuyển|đặt hàng ngay|ส่วนลด|สั่งซื้อเลย|ส่งฟรี",
    # a shop's tax and shipping small print ("€49,95 inkl. MwSt. zzgl. Versand", "prix TTC")
    r"\b(?:inkl\.?|zzgl\.?|exkl\.?) (?:\d+ ?% )?(?:mwst|ust|versand)\b|\bplus shipping\b|\b(?:incl\.?|excl\.?|including|"
    r"excluding) (?:\d+ ?% )?vat\b|\b(?:tva|iva) (?:incluse|incluida|inclusa|incluído|incluso)\b|\bprix ttc\b|"
    r"\b(?:frais de port|gastos de envío|spese di spedizione) (?:en sus|offerts|incluse|gratuit)",
    # ratings and review counts ("4,5 sur 5 étoiles", "3.9 out of 5 stars", "5つ星のうち4.3", "312 reviews")
    r"(?:^|[^0-9a-z_])\d(?:[.,]\d{1,2})? ?(?:/|out of|von|sur|de|su|z|из|з|van|av|üzerinden|trên|dari|จาก) ?5"
    r"(?: ?(?:stars?|sterne?n?|étoiles?|estrellas?|stelle|estrelas?|gwiazd(?:ek|ki|y)?|звезд(?:ы|ы)?|зір(?:ок|ки)|sterren|"
    r"stjärnor|yıldız|hvězd(?:iček|y)?|sao|bintang|ดาว)|[\s!-/:-@\[-\x60{-~…–—«»‹›“”„‘’·•←→。！？：、¡¿]*$)|5つ星のうち ?\d|별점 ?\d|(?:^|[^0-9a-z_])(?:bewertung|"
    r"rating|note|valoración|valutazione|avaliação|beoordeling|ocena|оценка|оцінка|puan|hodnocení|betyg|penilaian|"
    r"đánh giá)[:：] ?\d(?:[.,]\d)? ?(?:/|von|sur|de|su|z|из|з|van|av|of|out of) ?(?:5|10)\b|(?:^|[^0-9a-z_])\d[\d.,]* "
    r"(?:ratings|reviews|customer reviews|bewertungen|kundenrezensionen|avis clients|reseñas|valoraciones|recensioni|"
    r"avaliações|beoordelingen|opinii|отзыв(?:ов|а)|відгук(?:ів|и)|recensioner|değerlendirme|hodnocení|ulasan)\b",
    # pagination in the allowed languages ("Seite 2 von 9", "上一页 下一页")
    r"(?:^|[^0-9a-z_])(?:seite|página|pagina|strona|страница|сторінка|sayfa|strana|sida|halaman|trang) \d+ (?:von|de|di|"
    r"z|из|з|van|av|/) \d+\b|上一页|下一页|上一頁|下一頁|共\d+页|前のページ|次のページ|이전 페이지|다음 페이지|"
    r"(?:^|\s)(?:previous|next|zurück|weiter|précédent|suivant|anterior|siguiente|precedente|successivo|próximo|vorige|"
    r"volgende|poprzednia|następna|назад|далее|önceki|sonraki|předchozí|další|föregående|nästa|sebelumnya|"
    r"berikutnya|trước|tiếp theo) ?[|/·•] ?(?:next|weiter|suivant|siguiente|successivo|próximo|volgende|następna|"
    r"далее|вперёд|sonraki|další|nästa|berikutnya|tiếp theo)[\s!-/:-@\[-\x60{-~…–—«»‹›“”„‘’·•←→。！？：、¡¿]*$",
    # stock counters and instalments in the allowed languages ("Nur noch 3 Exemplare verfügbar", "12x sem juros")
    r"\b(?:nur )?noch \d+ (?:stück|exemplare?|artikel)\b|\bnur noch \d+\b|\b(?:plus que|il ne reste que) \d+\b|(?:^|[^0-9a-z_])(?:últimas?|"
    r"solo quedan) \d+ (?:unidades|piezas)|\bsolo \d+ (?:rimast[ie]|disponibili)\b|\bapenas \d+ (?:em estoque|"
    r"disponíve(?:l|is))\b|\bnog maar \d+ (?:op voorraad|beschikbaar)\b|\bzosta(?:ło|ły) (?:tylko )?\d+ (?:szt|sztuk)|"
    r"остал(?:ось|ся|ись) (?:всего |только )?\d+ ?шт|залишил(?:ось|ся) (?:лише |тільки )?\d+ ?шт|\bson \d+ (?:ürün|adet)"
    r"|\bposledn(?:í|ích) \d+ (?:kus|kusy|kusů)|\b(?:endast|bara) \d+ kvar\b|\btersisa \d+\b|\bchỉ còn \d+\b|"
    r"残り\d+(?:点|個)|仅剩\d+件|\d+개 남음|\b\d+x sem juros\b|\bem até \d+x\b|\b\d+ cuotas sin inter[eé]s\b|\bmeses sin "
    r"intereses\b|\braty 0 ?%|\b0 ?% (?:finanzierung|financing|apr)\b|\b\d+ taksit\b|\btrả góp 0 ?%|\bcicilan 0 ?%|"
    r"分期免息|分割払い",
    # a price alone in a currency word ("89 руб.", "2 500 Kč")
    r"^[\s!-/:-@\[-\x60{-~]*\d[\d\s.,]*\s*(?:руб|р|₽|грн|kč|zł|eur|euro|usd|tl|vnd|đ|円|元|원|บาท|kr|sek|lei|ريال|درهم|جنيه)\.?"
    r"[\s!-/:-@\[-\x60{-~]*$",
    # a price label alone ("Preis: 19,90 EUR", "Цена: 2 490 руб."), delivery across a country
    r"^[\s!-/:-@\[-\x60{-~…–—«»‹›“”„‘’·•←→。！？：、¡¿]*(?:price|preis|prix|precio|prezzo|preço|prijs|cena|цена|ціна|fiyat|pris|harga|giá|السعر|ราคา|价格|価格|가격)"
    r"\s*[:：]\s*(?:[$€£¥₽₴₺]|rp|r\$|us\$)?\s*\d|доставка по (?:всей )?(?:россии|стране|украине)|доставка по всій",
    # sales that end, giveaways and links elsewhere, subscribe prompts in the allowed languages
    r"\bflash sale\b|\b(?:sale|offer|deal|angebot|aktion|oferta|offre|offerta) (?:ends|endet|termina|se termine|finisce) "
    r"(?:in|tonight|today|heute|hoy|aujourd['’]hui|oggi|hoje|en|dans|tra|em)\b|\bends in \d{1,2}:\d{2}|(?:^|[^0-9a-z_])%"
    r"\d+ indirim|\bwin (?:a|an|this) (?:free )?(?:iphone|ipad|ps5|xbox|samsung|gift card|car|trip|voucher|prize)\b|\b(?:enter|"
    r"click) (?:now |here )?(?:at|via|through) the link\b|\blink (?:below|in (?:the )?description)\b|\blink in der "
    r"beschreibung\b|\blien dans la description\b|\benlace en la descripción\b|ссылк[аи] в описании|посилання в описі|"
    r"\bdale (?:like|me gusta)\b|\bsuscr[ií]bete (?:y|al|a mi|ya)\b|\babonnier(?:e|t) (?:meinen|unseren|den) kanal\b|подпиш(?:ись|итесь) на (?:канал|нас|наш)|підпиш(?:ись|іться) на "
    r"(?:канал|нас|наш)|\biscriviti al (?:canale|mio canale)\b|\babone ol(?:un)?\b|\bodebírejte\b|\bsubskrybuj\b|"
    r"\bprenumerera på (?:kanalen|min kanal)\b|đăng ký kênh\b|チャンネル登録|구독과 좋아요|关注我们|订阅频道",
    # giveaways, contact spam and subscribe prompts ("¡SORTEO! ... etiqueta a 2 amigos", "Inbox me for details",
    # "微信：abc123"), instalments and stock in more words ("4 interest-free payments", "在庫あと1点")
    r"(?:^|[^0-9a-z_])(?:sorteo|sorteio|gewinnspiel|розыгрыш|розіграш|çekiliş|give-away)(?:$|[^0-9a-z_])|"
    r"\b(?:etiqueta|marca|marque|tag|markiere|tagga|oznacz) (?:a )?\d+ (?:amig[oa]s|friends|freunde|amici|znajomych)\b|"
    r"\btag (?:a|your|that|the|an?) (?:friend|buddy|bestie|bff|mate|person|someone)\b|\btag someone (?:who|that)\b|"
    r"\b(?:etiqueta|menciona) a (?:(?:un|una|tu|tus) (?:amig|mejor amig|herman|novi|pareja)|alguien)|\bmarque (?:um|uma|seu|sua|"
    r"o seu|a sua) (?:amig|melhor amig|crush|namorad)|\bmarque alguém\b|\bmarkiere (?:einen|eine|deine?n?) (?:freund|freundin|"
    r"kumpel|bff|liebling)|\bmarkiere jemanden\b|\btagga (?:un|una|il tuo|la tua) (?:amic|migliore amic)|\bidentifie "
    r"(?:un|une|ton|ta) (?:ami|amie|pote|copain|copine|meilleur)|\boznacz (?:znajom|przyjaci|kogoś)|"
    r"\barkadaşını etiketle|\btag (?:een|je) (?:vriend|maat)|\btandai (?:teman|temanmu)|\btag (?:người bạn|bạn bè)|"
    r"\btagga (?:en|din) (?:vän|kompis)|\boznač(?:te)? (?:kamaráda|kamarádku|přítele)|친구(?:를|을)? ?태그|友達をタグ付け|"
    r"艾特(?:你的)?(?:朋友|好友|闺蜜)|@(?:你的)?(?:朋友|好友|闺蜜)|แท็กเพื่อน|"
    r"отмет(?:ь|ьте) (?:друга|друзей)|познач(?:те)? друз|プレゼントキャンペーン|쿠폰 받아|이벤트 참여|\binbox (?:me|us)\b|"
    r"\b(?:dm|pm|message) (?:me|us) for (?:details|price|prices|more|info)\b|\bprices? (?:in|via|by) (?:dm|pm|inbox)\b|"
    r"\b[a-z]+ near me\s*(?:,|$)|\btelegram\s*[:：]?\s*@\w|^\W*swipe(?: (?:left|right|up|for more|to see more))?\W*$|\b(?:call|text|whatsapp) or (?:call|text|whatsapp)\b"
    r"[^\n]{0,12}\d{3}[\s.-]?\d{4}\b|^\W*(?:telegram|whatsapp|wechat|line|kakao)\s*[:：]?\s*@\w|\b(?:message|dm|contact|text|inbox) (?:me|us) "
    r"(?:on|via|at) (?:instagram|insta|ig|whatsapp|facebook|fb|telegram|wechat|line|messenger)\b|\bprecios? (?:por|al|en) (?:inbox|interno|privado|dm|md)\b|"
    r"\bpreços? (?:no|por|via) (?:inbox|direct|privado|dm|direct)\b|\bprix (?:en|par) (?:mp|dm|inbox|message privé)\b|카톡 ?id|카카오톡 ?id|微信[:：]|微信号|"
    r"欢迎咨询|\bwechat[:：]|\bline id[:：]|\bcurta e compartilhe\b|\bjetzt abonnieren\b|keine folge (?:mehr )?verpassen|"
    r"اشترك في القناة|زر الجرس|\bsem juros\b|\binterest-free payments?\b|\b(?:with|via|mit|avec|con) "
    r"(?:afterpay|klarna|affirm|sezzle)\b|\bpaiement en \d+ ?(?:x|fois)\b|할인가|무료배송|在庫あと\d|在庫切れ|在庫残り",
    # classified-ad small print in the allowed languages opening a text ("Price is firm", "Nur Abholung", "Торг
    # уместен"; a description of the item before it is kept: "Damenfahrrad mit Korb, guter Zustand, nur Abholung.")
    r"^[\s!-/:-@\[-\x60{-~…–—«»“”„‘’·•。！？：、¡¿]*(?:"
    r"\bprice is firm\b|\bfirm price\b|\bfirst come,? first served\b|\bstill available\?|\bmust sell\b|\bwill not ship\b|"
    r"\b(?:local )?pick ?up only\b|\blocal pickup\b|\bno (?:trades|holds|lowballers|low ?ballers|time ?wasters)\b|"
    r"\bserious (?:buyers|inquiries) only\b|\bcash only\b|\bor best offer\b|非诚勿扰|可小刀|同城自提|同城面交|"
    r"\bnur abholung\b|\bnur selbstabholung\b|\bprivatverkauf\b|\bkeine garantie\b|\bkeine rücknahme\b|"
    r"\bprix ferme\b|\bpas d['’]échange\b|à venir chercher\b|\bremise en main propre\b|\bprecio fijo\b|\bno se aceptan "
    r"cambios\b|\bsolo recogida\b|\bprezzo fisso\b|\bno scambi\b|\bsolo ritiro\b|\bpreço fixo\b|\bnão aceito trocas\b|"
    r"\bretirar no local\b|\balleen ophalen\b|\bvaste prijs\b|\bgeen ruil\b|\bfast pris\b|\bhämtas\b|\bpouze osobní "
    r"odběr\b|\bcena pevná|торг уместен|торг возможен|без торга|звонить после|самовывоз|\btylko odbiór osobisty\b|"
    r"\bbez wysyłki\b|\bcena do negocjacji\b|pazarlık payı|takas düşünülmez|ノークレーム|ノーリターン|직거래만|네고 사절|"
    r"miễn trả giá|\bno nego\b|\bharga nett\b)",
    # video and app-store furniture ("Skip Ad", "Autoplay is paused", "Offers in-app purchases", "高評価")
    r"\bskip ad\b|\bautoplay is (?:on|off|paused)\b|\bup next\b|\bwatch later\b|\bnext video (?:in|starts|begins)\b|"
    r"\bvolgende video begint\b|\bnächstes video\b|\bvidéo suivante\b|reklam(?:ę|a) możesz pominąć|\bglocke aktivieren\b|"
    r"\b(?:abone olmayı|beğenmeyi) unutmayın\b|bấm chuông|\bsmash (?:that|the) like\b|关注我[，,]|"
    r"每天分享|高評価|コメントお待ちしています|\boffers in-app purchases\b|\bcontains ads\b|\bin-app "
    r"purchases\b|\bwhat['’]s new in version\b|\bbug fixes and performance improvements\b|\bdownload on the app store\b|"
    r"\bget it on google play\b|\bfree on ios and android\b|立即下载|免费使用|지금 바로 다운로드|무료 설치|"
    r"抽選で\d+名様|応募完了|フォロー[＆&](?:リポスト|rt)",
    # a server's or an app's error with its code in place of the caption ("Ошибка 403: доступ запрещён",
    # "エラーが発生しました（コード: 500）", "Error 404 page not found"; not "Error 404 page displayed on a laptop")
    r"(?:^|[^0-9a-z_])(?:error|erreur|fehler|errore|erro|ошибка|помилка|hata|chyba|fel|lỗi|خطأ|错误|錯誤|エラー|오류)"
    r"[\s:：（(]*(?:code|код|kod|コード|代码|代碼|코드)?[\s:：]*[45]\d\d(?:\s*$|\s*[^0-9\sa-z]|\s+[^\s]+\s+(?:found|not|nicht|"
    r"no|non|não|niet|не|bulunamadı|nenalezena|hittades|tidak|tìm)\b|\s+(?:not|forbidden|bad|internal|service|unauthori[sz]ed|"
    r"gateway|nicht|no|non|não|niet|не|[^\x00-\x7f]))|エラーが発生しました|发生错误|發生錯誤|"
    r"오류가 발생했습니다|произошла ошибка|сталася помилка|ein fehler ist aufgetreten|une erreur (?:s'est produite|est survenue)|"
    r"se ha producido un error|si è verificato un errore|ocorreu um erro|er is een fout opgetreden|wystąpił błąd|bir hata oluştu|"
    r"došlo k chybě|ett fel (?:har )?uppstod|terjadi kesalahan|đã xảy ra lỗi",
    # a sale's "up to -60 %" in the allowed languages ("Soldes d'hiver : jusqu'à -60 %")
    r"(?:up to|jusqu['’]à|hasta|bis zu|fino al?|até|tot|do|до|kadar|až|upp till|hingga|lên đến)\s*-\s*\d{1,2}\s*%",
    # a blog's byline in place of the caption ("Posted on 14 March 2017 by admin", "Publié le 3 mai par Marie")
    r"^\W*(?:posted|published|uploaded|written|added) (?:on|at) .{3,40}? by \S+\W*$|^\W*(?:publié|posté) le .{3,40}? par "
    r"\S+\W*$|^\W*(?:publicado|postado) (?:el|em|en) .{3,40}? por \S+\W*$|^\W*(?:veröffentlicht|gepostet) am .{3,40}? von "
    r"\S+\W*$|^\W*(?:pubblicato|postato) il .{3,40}? da \S+\W*$",
    # a title left empty ("Untitled", "无标题", "Sans titre", "未命名-1"), the whole text
    r"^[\s!-/:-@\[-\x60{-~…–—«»‹›“”„‘’·•←→。！？：、¡¿]*(?:untitled|no title|无标题|無標題|未命名|無題|名称未設定|제목 없음|sans titre|sin título|senza titolo|"
    r"sem título|ohne titel|zonder titel|bez tytułu|без названия|без назви|başlıksız|bez názvu|namnlös|tanpa judul|"
    r"không có tiêu đề|بدون عنوان|ไม่มีชื่อ)[\s\-_.#()0-9]*$",
    # a page's breadcrumbs: a home page's name, then the trail ("Главная » Каталог » Мебель",
    # "Trang chủ > Tin tức > Du lịch"), or three short steps or more apart by "»", "›" or "→"
    r"^[\s!-/:-@\[-\x60{-~…–—«»‹›“”„‘’·•←→。！？：、¡¿]*(?:home(?: ?page)?|startseite|startsida|startpagina|accueil|inicio|início|p[aá]gina (?:inicial|principal|"
    r"iniziale)|главная(?: страница)?|головна(?: сторінка)?|strona g[lł][oó]wna|[uú]vod|ana ?sayfa|trang ch[uủ]|"
    r"หน้าแรก|หน้าหลัก|beranda|الرئيسية|الصفحة الرئيسية|首页|主页|首頁|ホーム|トップ(?:ページ)?|홈|메인|voorpagina)"
    r"\s*(?:>>?|»|›|→)\s*[^\s>»›→]",
    r"^[\s!-/:-@\[-\x60{-~…–—«»‹›“”„‘’·•←→。！？：、¡¿]*[^\s»›→«]+(?: [^\s»›→«]+){0,3}(?: [»›→] [^\s»›→«]+(?: [^\s»›→«]+){0,3}){2,}[\s!-/:-@\[-\x60{-~…–—«»‹›“”„‘’·•←→。！？：、¡¿]*$",
    # prize and gift-card scams, essay mills, comparison and insurance ads, loans without a credit check,
    # weight-loss clickbait
    r"\bcongrat(?:ulation)?s?\W+you(?:['’]ve| have)? (?:just )?(?:won|been (?:selected|chosen))\b|\byou(?:['’]ve| have) "
    r"(?:just )?won (?:a |an )?(?:free |brand new )?(?:[$€£]\s?\d|\d|iphone|ipad|macbook|samsung|ps5|gift card|voucher|"
    r"prize|car|trip)|(?:^|[.!?,]\s*)claim (?:it |yours |your (?:prize|reward|gift) )?(?:here|now|today)\b|"
    r"\b(?:essay|assignment|homework|thesis|dissertation|term paper|coursework)s? (?:writing )?(?:service|help|writer)s?\b|"
    r"\bwrite my (?:essay|paper|assignment|thesis)\b|\bjetzt (?:online )?vergleichen\b|\bbis zu \d[\d.,]* ?(?:€|euro|eur|%) "
    r"(?:sparen|günstiger)\b|\bsave up to (?:[$€£]\s?)?\d|\bcompare (?:\w+ )?(?:insurance )?(?:quotes|prices|rates) "
    r"(?:now|online|today|and save)\b|\bcheap (?:car|auto|home|travel|life) insurance\b|\bgünstige (?:auto|kfz-)?versicherung\b|"
    r"\bkredyt\w* (?:bez bik|online|przez internet|na dowód)|\bbez bik\b|\bpieniądze w \d+ minut|\bgiảm \d+ ?kg\b|"
    r"\bxem ngay\b|\bbác sĩ tiết lộ|\b(?:lose|lost|drop|shed) \d+ ?(?:kg|kgs|lbs?|pounds|kilos) in (?:\d+|one|two|a) "
    r"(?:days?|weeks?|months?)\b|\b(?:abnehmen|perder|perdre|schudnij|schudnąć|zayıflayın|emagreça|emagrecer|dimagrire) "
    r"[^.!?]{0,20}\d+ ?kg\b|похуде[^\s]* на \d+ ?кг",
    # a site's engine credit ("Powered by WordPress"), a file's own bytes read as text ("ÿØÿà JFIF", "‰PNG IHDR")
    r"\b(?:proudly )?powered by (?:wordpress|shopify|wix|squarespace|blogger|tumblr|joomla|drupal|ghost|weebly|discourse|"
    r"vbulletin|phpbb|bigcommerce|woocommerce|prestashop|magento|jekyll|hugo)\b|ÿøÿ|‰png|\bihdr\b|\bgif8[79]a\b|%pdf-1\.\d",
    # map coordinates alone ("47.6062° N, 122.3321° W")
    r"^\W*-?\d+(?:[.,]\d+)?\s*°(?:\s*\d+(?:[.,]\d+)?\s*['′])?(?:\s*\d+(?:[.,]\d+)?\s*(?:\"|″|''))?\s*[nsew]?\s*[,;/]?\s*"
    r"-?\d+(?:[.,]\d+)?\s*°(?:\s*\d+(?:[.,]\d+)?\s*['′])?(?:\s*\d+(?:[.,]\d+)?\s*(?:\"|″|''))?\s*[nsew]?\W*$",
    # condolences, the whole text ("Rest in peace legend 🙏", "Descanse em paz")
    r"^[\s!-/:-@\[-\x60{-~]*(?:rest in peace|r\.i\.p\.?|rip|descanse (?:em|en) paz|descansa (?:em|en) paz|repose en paix|"
    r"ruhe in frieden|riposa in pace|rust zacht|rust in vrede|покойся с миром|спи спокойно|вечная память|спочивай з миром|"
    r"vila i frid|huzur içinde yat|spoczywaj w pokoju|odpočívej v pokoji|yên nghỉ|安息吧?|삼가 고인의 명복을 빕니다|ご冥福をお祈りします)"
    r"(?:,?\s+[^\s.!?,]+){0,3}[\s!.,🌀-🫿☀-➿️‍❤♥]*$",
    # a messaging app's export in place of the picture ("<Media omitted>", "image omitted", "<Medien ausgeschlossen>")
    r"<(?:media omitted|medien ausgeschlossen|multimedia omitido|médias omis|media omessi|mídia oculta|media weggelaten|"
    r"без медиафайлов|медіафайли пропущено|medya dahil edilmedi|media tidak disertakan|pominięto multimedia|"
    r"media vynechána|media utelämnad|媒体已省略|メディアは含まれていません|미디어 생략됨)>|^\W*(?:image|video|sticker|gif|audio|"
    r"document) omitted\W*$|\bthis message was deleted\b|<attached: [^>]+>",
    # betting, casinos and their sign-up calls in more languages; potency pills by WhatsApp; "near me" SEO
    r"\bcasino en ligne\b|\bbonus sans dépôt\b|\bcasinò online\b|\bkasyno online\b|\bcassino online\b|\bcasino siteleri\b|"
    r"онлайн[- ]казино|казино онлайн|แทงบอล|เว็บตรง|ไม่ผ่านเอเย่นต์|บาคาร่า|สล็อตออนไลน์|\bnhà cái\b|\bcá cược\b|\bnổ hũ|"
    r"\bslot gacor\b|\bjudi online\b|\bsitus slot\b|토토사이트|카지노사이트|网上赌场|博彩|时时彩|オンラインカジノ|\bobat kuat\b|"
    r"\bcod seluruh indonesia\b|\b(?:hubungi|order via|info) wa\b|\b(?:best|cheap|cheapest|top|emergency|affordable|24/7)\b"
    r"[^.!?]{0,40}\bnear me\b|\bnear me\b[^.!?]{0,40}\b(?:best|cheap|cheapest|emergency|24/7)\b",
    # congratulations and wishes to someone, with a mark or an emoji after them, or a few words more
    # ("Congrats you two!! 🎉", "Happy birthday mom, miss you every day ❤️", "Parabéns pelo trabalho, ficou lindo!")
    r"^[\s!-/:-@\[-\x60{-~]*(?:congrats|congratulations|félicitations|felicidades|felicitaciones|enhorabuena|"
    r"(?:herzlichen )?glückwunsch|complimenti|congratulazioni|parabéns|gefeliciteerd|proficiat|поздравляю|вітаю|tebrikler|"
    r"gratuluję|gratuluji|grattis|selamat ya|chúc mừng|おめでとう(?:ございます)?|恭喜|축하해요|축하합니다|مبروك|ยินดีด้วย|"
    r"happy birthday|feliz cumpleaños|joyeux anniversaire|alles gute|buon compleanno|feliz aniversário|с днём рождения|"
    r"doğum günün kutlu olsun|wszystkiego najlepszego)(?:\s+[^\s.!?,]+){0,5}(?:\s*[,!！.~]+\s*(?:[^\s.!?]+\s*){0,7})?"
    r"[\s!！.~❤♥🌀-🫿☀-➿️‍]*[!！❤♥🌀-🫿☀-➿️‍][\s!！.~❤♥🌀-🫿☀-➿️‍]*$",
    # condolences with a few words more ("Rest in peace, you will be missed")
    r"^\W*(?:rest in peace|rip|r\.i\.p\.?|descans[ae] (?:em|en) paz|repose en paix|ruhe in frieden|riposa in pace|rust zacht)"
    r"\W+(?:you will be (?:missed|remembered)|gone too soon|fly high|forever in our hearts|you will never be forgotten|"
    r"te extrañaremos|sempre nos nossos corações|tu nous manqueras|wir werden dich vermissen)\W*$|\byou will be (?:sorely )?"
    r"missed\W*$",
    # a reader asking the price or the shipping, the whole text ("Ile to kosztuje? Wysyłka możliwa?")
    r"^\W*(?:how much (?:is it|for this|does it cost)|ile (?:to )?kosztuje|wie ?viel kostet (?:das|es)|combien (?:ça|ca|c['’]est|"
    r"coûte)|cu[aá]nto cuesta|quanto costa|quanto custa|hoeveel kost (?:het|dit)|сколько стоит|скільки коштує|ne kadar|kolik to stojí|"
    r"vad kostar (?:den|det)|berapa harganya|giá bao nhiêu|多少钱|いくらですか|얼마(?:예요|에요|인가요))[^.!?]*[?？](?:[^.!?]*[?？])?\s*$",
    # a page still loading, the whole text ("Chargement en cours...", "Загрузка...")
    r"^\W*(?:chargement(?: en cours)?|cargando|caricamento(?: in corso)?|carregando|wird geladen|laden|загрузка|"
    r"завантаження|yükleniyor|načítání|načítá se|laddar|memuat|đang tải|加载中|載入中|読み込み中|로딩 중|جار[ٍي] التحميل|กำลังโหลด)"
    r"\s*(?:\.\.\.|…|\.)?\s*$",
    # guaranteed returns on crypto and investments
    r"\bguaranteed (?:profits?|returns?|income)\b|прибыл[^\s]* гарантирован|гарантированн[^\s]* (?:доход|прибыл)|"
    r"крипто ?инвестиц|\bgarantierte (?:rendite|gewinne)\b|\bganancias garantizadas\b|\blucro garantido\b|"
    r"\bgaranti kazanç|\bzysk gwarantowany\b|\bgwarantowany zysk\b",
    # a reader on their favourite place, the whole text ("This is my favourite place in the world")
    r"^\W*(?:this is|this was|it['’]s|that['’]s) (?:my|our) (?:all[- ]time )?favou?rite (?:place|spot|city|beach|view|photo|"
    r"picture|town)(?: (?:in the (?:whole )?world|on earth|ever))?[\s!.🌀-🫿☀-➿️‍❤♥]*$",
    # a reader asking the others, from the start ("Does anyone know where this is?", "Weiß jemand, ob ...?"),
    # perhaps with a line after it
    r"^[\s!-/:-@\[-\x60{-~¿]*(?:(?:does |do )?(?:any ?one|any ?body|someone|somebody) (?:know|knows|remember)|can (?:any ?one|"
    r"any ?body|someone|somebody) (?:identify|tell me|help me identify|id)|(?:weiß|weiss) "
    r"(?:jemand|einer|wer)|kennt jemand|quelqu['’]un (?:sait|connaît|connait|a une idée)|(?:alguien|alguém) (?:sabe|conoce|"
    r"conhece|tiene)|qualcuno (?:sa|conosce|ha)|weet iemand|kent iemand|(?:кто-нибудь|кто-то|кто) (?:знает|подскажет)|"
    r"хто(?:сь)? (?:знає|підкаже)|(?:czy )?(?:ktoś|ktos) (?:wie|zna)|bilen (?:var mı|biri)|ví (?:někdo|nekdo)|vet (?:någon|"
    r"ni)|có ai (?:biết|ở)|ada yang (?:tahu|tau)|誰か(?:知って|わかる)|有(?:人|谁)知道|아시는 ?분|아는 ?사람)[^.!?？]{0,80}"
    r"[?？]+(?:\s+[^?？]+)?[\s🌀-🫿☀-➿️‍]*$",
    # a reader agreeing with another ("I agree with you", "Je suis d'accord avec toi")
    r"\b(?:i (?:totally |completely |fully )?agree with (?:you|u|this|him|her)|(?:totally|completely|fully|so) agree "
    r"with (?:you|u))\b|\bd['’]accord avec (?:toi|vous)\b|\bstimme "
    r"(?:dir|ihnen|euch) (?:voll )?zu\b|\bde acuerdo contigo\b|\bsono d['’]accordo con te\b|\bconcordo com (?:você|vc|"
    r"voce)\b|\bben het (?:helemaal )?met je eens\b|\bzgadzam się z (?:tobą|toba|wami)\b|соглас(?:ен|на) с (?:вами|"
    r"тобой)|згод(?:ен|на) з (?:вами|тобою)|\bsana katılıyorum\b|\bsouhlasím s (?:tebou|vámi)\b|\bhåller med "
    r"(?:dig|er)\b|\bsetuju (?:banget |sekali )?dengan (?:kamu|anda)\b|đồng ý với bạn\b|同意你的(?:看法|观点)|"
    r"당신 말에 동의",
    # a reader praising the photo itself ("Lovely photo, reminds me of my childhood."; not "Lovely photo of a
    # lake"), or saying what it reminds them of
    r"^[\s!-/:-@\[-\x60{-~]*(?:(?:what an?|such an?|so+) )?(?:lovely|beautiful|great|nice|amazing|stunning|gorgeous|"
    r"awesome|fantastic|wonderful|cool|brilliant|superb|excellent|fabulous|magnificent|incredible|cute) (?:photo|shot|pic|"
    r"picture|capture|image|photograph|click)s?(?:\s*(?:[!,.;:…]|$)| (?:mate|man|buddy|dude|there|indeed|as always|"
    r"again|my friend)\b)|\breminds? me of (?:my|when|our|the (?:good )?old)\b|^[\s!-/:-@\[-\x60{-~]*(?:(?:que|qué|"
    r"quelle|che|wat een|jaka|какое|какая|ne) )?(?:linda|lindo|bela|belo|bonita|hermosa|precios[ao]|belle|"
    r"magnifique|superbe|bella|bellissima|splendida|mooie|prachtige|piękne|śliczne|красивое|чудесное|güzel|harika|krásná|"
    r"nádherná|fin|vacker|tolles|schönes|wunderschönes|super) (?:foto|photo|zdjęcie|фото|фотография|fotoğraf|fotka|bild|"
    r"bilde|plaatje)(?:\s*(?:[!,.;:…]|$))",
    # a recipe's or a manual's instruction instead of a caption ("Preheat the oven to 180°C ...")
    r"^\W*(?:(?:step )?\d{1,2}[.):]\s*)?(?:preheat (?:the |your )?oven|(?:den )?(?:back)?ofen (?:auf \S+ )?vorheizen|"
    r"(?:heizen sie|heize) den (?:back)?ofen|préchauffe[rz]? (?:le|votre) four|precalienta (?:el )?horno|precalentar (?:el )?"
    r"horno|preriscalda(?:re)? (?:il )?forno|pré-?aque(?:ça|cer|ce) o forno|verwarm de oven|oven voorverwarmen|"
    r"разогре(?:йте|ть|ваем) духовку|розігрі(?:йте|ти) духовку|rozgrzej piekarnik|nagrzej piekarnik|fırını \S+ "
    r"(?:derecede )?ısıt|předehřejte troubu|sätt ugnen på|förvärm ugnen|làm nóng (?:trước )?lò|panaskan oven|"
    r"オーブンを\S*予熱|烤箱预热|预热烤箱|오븐을 예열)",
    # a post asking its readers to comment ("Let me know in the comments!")
    r"\blet (?:me|us) know (?:in|down in|below in) the comments\b|\b(?:comment|tell me|tell us) (?:down )?below\b|"
    r"\bdrop a comment\b|\bschreib(?:t)? (?:es )?(?:mir|uns) in die kommentare|\bdites-(?:moi|nous) (?:tout )?en commentaires?"
    r"|\bdéj(?:a|en|ame|enme)(?:me)? (?:en )?(?:los |un )?comentarios?\b|\bfatemi sapere nei commenti|\bdeix(?:e|a|em)"
    r"(?:-me| nos)? (?:nos |seu |um )?coment[aá]rios?\b|\blaat het (?:me|ons) weten in de (?:comments|reacties)|"
    r"\bnapisz(?:cie)? w komentarz|пишите в комментари|пишіть у коментар|\byorumlara yaz|\bnapište (?:mi )?do "
    r"komentářů|\bskriv i kommentarerna|\btulis di kolom komentar|\bbình luận (?:bên )?dưới|留言告诉我|在评论区(?:告诉|留言)|"
    r"コメントで教えて|댓글로 알려",
    # a buyer's feedback on the seller or the delivery ("Great seller, fast delivery, would buy again A+++")
    r"\bwould (?:definitely |totally |100% )?(?:buy|order|stay|come|visit|eat|go) (?:from (?:them|him|her|this seller) |here |there )?again\b|"
    r"\bgreat seller\b|"
    r"\bseller (?:refunded|replied|was (?:great|helpful|quick))|\ba\+{3,}|\bpolecam (?:sprzedawcę|sprzedawce|sklep)|"
    r"\bprzesyłka (?:dotarła|doszła)|\bgerne wieder\b|\bvendeur (?:sérieux|au top|très réactif)|\bvenditore "
    r"(?:affidabile|serio|consigliato)|\bvendedor (?:confiável|recomendado|muy recomendado|excelente)|(?:рекомендую "
    r"продавца|продавца рекомендую)|\bsatıcıya teşekkür|\bhızlı kargo\b|\bshop (?:đóng gói|giao hàng) |\bseller "
    r"(?:ramah|fast respon|amanah)|卖家(?:发货|服务)(?:很|超|非常)?(?:快|好)|发货(?:速度)?(?:很|超|非常)快|発送が(?:早|迅速)|"
    r"배송(?:이)? (?:빨라요|빠르고|빨랐)|\bbarang (?:sudah )?(?:sampai|diterima)\b|\bsesuai (?:pesanan|deskripsi|gambar|foto)\b|"
    r"\b(?:makasih|terima ?kasih|mantap|thanks) (?:kak |gan )?seller\b|\bhàng (?:đẹp|ok|chất lượng)[,.!]|\bgiao (?:hàng )?nhanh\b|"
    r"\bshop (?:tư vấn|phục vụ|nhiệt tình)|đóng gói cẩn thận\b|\bsẽ ủng hộ shop\b|ส่งไว|ของดีมาก|แพ็คของดี|已收到|宝贝收到|"
    r"(?:质量|物流|发货)(?:很|超|非常|挺)(?:好|快|棒)|好评[!！]|届きました|梱包(?:も)?丁寧|잘 받았(?:습니다|어요)|\bsnelle levering\b|"
    r"\bschnelle lieferung\b|\bsuper verkäufer\b|\blivraison rapide\b|\benv[ií]o r[aá]pido\b|\bchegou (?:rápido|antes do prazo)\b|"
    r"\bentrega rápida\b|\brecomendo (?:o|a) (?:vendedor|loja)\b|\bszybka wysyłka\b|быстрая доставка|товар (?:пришел|пришёл|"
    r"получил)|спасибо продавцу|швидка доставка|дякую продавцю|ürün elime ulaştı|(?:素敵な|きれいな|綺麗な)?写真(?:を)?"
    r"ありがとう",
    # a buyer's question to the seller, the whole text (perhaps after another question): price, stock, size,
    # shipping ("Shop ơi còn size L không ạ?", "请问这件还有M码吗？", "كم السعر؟", "Fiyatı nedir? Kargo var mı?")
    r"^(?:[^.!?？؟]*[?？؟]\s*)?[^.!?？؟]*(?:fiyat[ıi]? (?:nedir|ne kadar)|kargo var m[ıi]|stokta var m[ıi]|كم السعر|بكم|"
    r"كم سعر|هل (?:هو )?متوفر|多少钱|怎么卖|还有[^?？]*(?:码|吗|货)|有货吗|包邮吗|얼마(?:예요|에요|인가요|죠)|어디서 (?:샀|사|구매)|"
    r"còn (?:size|hàng|màu|không)|bao nhiêu tiền|giá bao nhiêu|berapa (?:harga|harganya)|harganya berapa|masih ada (?:kak|gan|min)?|"
    r"ready (?:kak|gan|sis|min)|ile kosztuje|jaka (?:jest )?cena|сколько стоит|какая цена|есть в наличии|скільки коштує|яка ціна|"
    r"є в наявності|доставка [^?？]*(?:є|есть)|wat kost|quanto custa|qual (?:o|é o) preço|tem (?:em )?(?:estoque|tamanho)|"
    r"cuánto (?:cuesta|vale)|combien (?:ça coûte|coûte)|quanto costa|was kostet|wie viel kostet|vẫn còn (?:hàng|không))"
    r"[^.!?？؟]*[?？؟]+[\s🌀-🫿☀-➿️‍]*$",
    # a shop's price in instalments or for cash ("R$ 89,90 à vista ou 3x de R$ 32,00", "12 cuotas sin interés"), and
    # crypto and profile-link giveaways in Japanese
    r"r\$\s?\d[\d.,]* (?:à vista|no pix|no boleto)|\b\d{1,2}x (?:de )?r\$\s?\d|\bem até \d{1,2}x\b|\b\d{1,2}x sem juros\b|"
    r"\b\d{1,2} (?:cuotas|meses) sin inter[eé]s|プロフ(?:ィール)?の?リンク|仮想通貨(?:を)?プレゼント|詳しくはプロフ|"
    r"万円(?:が|を)?もらえる|line登録(?:は|で)|اربح آلاف|التداول بدون خبرة|"
    # a prize of a phone or a car, a discount ending the text ("Win a free phone! Only 3 left!!!", "... outlet
    # store 80% off")
    r"\bwin an? (?:free|brand[- ]new) (?:iphone|phone|smartphone|car|laptop|tv|gift card|ipad)\b|\b\d{1,2} ?% off\W*$|"
    # both app stores named: a download button's line in any language
    r"\bapp ?store\b.{0,60}\bgoogle play\b|\bgoogle play\b.{0,60}\bapp ?store\b",
    # a greeting to the readers ("Happy Friday everyone! Have a great weekend"), a buyer's disappointment, thanks
    # for an article, asking the poster where it is, wishing to go there
    r"^\W*happy (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|weekend|holidays)(?:\s+(?:everyone|everybody|all|"
    r"friends|folks|y['’]all))?\s*(?:[!,.🌀-🫿☀-➿️‍]|$)|\bhave a (?:great|nice|good|"
    r"lovely|wonderful|happy|blessed) (?:weekend|day|week|evening|friday|sunday)\b|\b(?:very|so|really) disappointed\b|"
    r"\bzgodn(?:e|y|a) z opisem\b|\bpolecam (?:tego|tę|ten) (?:sprzedawcę|sklep)|(?:полезная|интересная) статья|"
    r"спасибо за (?:статью|пост|информацию)|корисна стаття|\bcho mình xin (?:địa chỉ|giá|link|info)|"
    r"\bhier wil ik (?:ook )?(?:heen|naartoe)\b|\bda will ich (?:auch )?hin\b|\bj['’]ai trop envie d['’]y aller\b|"
    r"\bquiero ir\b|\bvoglio andarci\b|\bquero ir (?:aí|lá)|\bchcę tam (?:pojechać|jechać)|хочу туда|"
    r"\bi (?:want|need) to go (?:there|back)\b|行きたい[!！〜~]|好想去",
    # thanks to everyone, or for the party ("Merci à tous pour vos messages", "Danke für die tolle Party gestern"),
    # congratulations with a line after the mark ("Parabéns! Muitas felicidades"), a recipe's step ("Mix all
    # ingredients and bake for 20 minutes."; not every step: "Knead the dough ..." may caption its photo, and a
    # recipe card's "bake at 180°C for 25 minutes" is what the card says), a
    # review site's small print
    r"^\W*(?:thanks|thank you|danke|merci|gracias|grazie|obrigad[oa]|bedankt|dank je|dziękuję|dzięki|спасибо|дякую|teşekkürler|"
    r"děkuji|díky|tack|terima kasih|cảm ơn)[\s,]+(?:to )?(?:all|everyone|everybody|à tous|a todos|a tutti|an alle|allen|"
    r"iedereen|wszystkim|всем|всім|herkese|všem|alla|semua|mọi người)(?:\s|[!,.]|$)|^\W*(?:thanks|thank you|danke|merci|gracias|"
    r"grazie)\s+(?:für|for|pour|por|per)\s+(?:die |the |la |le |el |il |a |o |den |das )?(?:tolle |great |lovely |amazing |"
    r"wonderful |super |belle |bonita |bella |schöne |schönen |tollen |wunderbaren )?(?:party|feier|evening|abend|soirée|fiesta|"
    r"festa|weekend|wochenende|day|"
    r"time|einladung|invite|invitation)\b|^\W*(?:parabéns|congratulations|congrats|felicidades|félicitations|glückwunsch|"
    r"gefeliciteerd|gratuluję|tebrikler|поздравляю|вітаю|chúc mừng|恭喜|おめでとう)[!！]+\s*[^.!?]*$|^\W*mix all (?:the )?ingredients\b|"
    r"\breview collected in partnership\b|\breviews are the subjective opinion\b",
    # a shop's instructions to order or to contact it ("Pour commander, remplissez le formulaire ci-dessous")
    r"^\W*pour commander\b|\bremplissez le formulaire\b|\bfill (?:in|out) the form below\b|\bcompleta el formulario\b|"
    r"\bpreencha o formulário\b|\bfüllen sie das formular\b|\bhubungi (?:cs|admin|kami)\b|\bliên hệ (?:shop|cskh|hotline)\b|"
    r"ติดต่อ(?:แอดมิน|ร้านค้า)|\bcontact (?:our )?customer service for\b",
    # bought followers and likes, money made online, in the allowed languages
    r"накрутк[^\s]* (?:подписчик|лайк|просмотр|инстаграм|instagram|тикток)|раскрутк[^\s]* (?:инстаграм|instagram|аккаунт|"
    r"канал|групп)|накрутк[^\s]* підписник|\b(?:comprar|compre) seguidores\b|\bseguidores (?:baratos|reais|brasileiros)\b|"
    r"\bacheter des (?:followers|abonnés|likes)\b|\bfollower kaufen\b|\bfollowers? kopen\b|\bkup (?:obserwujących|"
    r"followersów|lajki)|\btakipçi (?:satın al|hilesi)|\bbeğeni satın al|\bkoupit (?:sledující|followery)|\bköp "
    r"följare\b|\bbeli followers\b|\bjasa (?:followers|like)\b|\btăng (?:follow|like|lượt theo dõi)|\bmua "
    r"(?:follow|like)\b|买粉|刷粉|刷赞|フォロワー(?:購入|を買う)|팔로워 (?:구매|늘리기)|زيادة (?:متابعين|المتابعين)|"
    r"ربح المال|الربح من (?:الانترنت|الإنترنت)|اربح (?:المال|من)|\bkiếm tiền (?:online|trên mạng|tại nhà)|"
    r"\b(?:gagner|gagnez) de l['’]argent (?:en ligne|sur internet|facilement)|\bgeld verdienen (?:im internet|online|"
    r"von zu hause)|\bganar dinero (?:por internet|en línea|online|desde casa|fácil)|\bguadagnare (?:soldi|online|da casa)|"
    r"\bganhar dinheiro (?:na internet|online|em casa|fácil)|\bgeld verdienen met\b|\bzarabianie (?:przez internet|"
    r"online|w domu)|заработок в интернете|заработ(?:ать|ай) (?:в интернете|онлайн|деньги)|\binternetten para "
    r"kazan|\bvydělávání (?:online|na internetu)|\btjäna pengar (?:online|hemifrån)|\bcara (?:dapat|menghasilkan) uang "
    r"(?:dari internet|online)|网上赚钱|在家赚钱|ネットで稼|온라인 (?:부업|수익)|หาเงินออนไลน์|\bmake money online\b",
)


class BoilerplateRule(RuleConfig):
    """Any of `phrases` (plain text, from the start of a word when it starts with a letter, digit
    or "_": "dm me" is not found in "admin me") or `patterns` (RE2), case-insensitive, anywhere in
    the text outside quoted spans (text in quotes is what the image shows: a sign, a screen, a
    label)."""

    phrases: tuple[str, ...] = DEFAULT_BOILERPLATE
    patterns: tuple[str, ...] = DEFAULT_BOILERPLATE_PATTERNS

    @field_validator("phrases")
    @classmethod
    def _phrases(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return _nonempty_strings(v, "phrases")

    @field_validator("patterns")
    @classmethod
    def _patterns(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return _regexes(_nonempty_strings(v, "patterns"), "patterns")


DEFAULT_REFUSALS = (
    # English: refusals, disclaimers about being a model, and chat preambles instead of a caption
    # (an apostrophe may be typographic: ['’])
    r"\bas an? (?:ai|artificial intelligence|language model|large language model|llm|text-based|virtual assistant|helpful assistant|"
    r"ai assistant|ai language model|ai model|text model)\b",
    r"\bi(?:['’]m| am) (?:sorry|afraid),? (?:but )?(?:i |as an )",
    r"\b(?:sorry|unfortunately|i apologi[sz]e),? (?:but )?i (?:can(?:no|['’])t|cannot|am unable|['’]m unable|"
    r"am not able|['’]m not able|do not|don['’]t|won['’]t|could(?:n['’]t| not)|was (?:unable|not able)|wasn['’]t able)\b",
    r"\bi(?: can(?:no|['’])t| cannot|(?:['’]m| am) (?:unable|not able) to| (?:do not|don['’]t) have the ability to) "
    r"(?:see|view|access|open|process|analy[sz]e|describe|identify|help|assist|provide|display|look at|interpret|"
    r"determine|tell|recogni[sz]e|make out|generate|create|produce|write|fulfill|fulfil|complete|comply)\b",
    r"\b(?:goes|go|is|are) against my (?:guidelines|policies|programming|principles)\b|\bthis request (?:goes against|"
    r"violates|is against)\b",
    r"\b(?:caption|description|alt[- ]text) generation (?:failed|error)\b|\bmodel refused\b|\b(?:blocked|flagged) by "
    r"(?:the |our |a )?(?:safety|content|moderation) (?:filter|system|policy|check)\b|\bdésolée?,? (?:mais )?je ne "
    r"(?:peux|suis pas en mesure)\b|\bje ne peux pas (?:aider|identifier|décrire|voir|analyser)\b",
    r"\bthe image (?:did not|didn['’]t|failed to|could not|couldn['’]t) (?:load|upload|come through|be loaded)\b|\bno "
    r"(?:image|picture|photo) (?:for me )?to (?:describe|analy[sz]e|caption)\b|\bi (?:do not|don['’]t) feel comfortable "
    r"(?:describing|discussing|captioning)\b|^\W*(?:error\W{0,3})?(?:unable|failed) to (?:generate|create|produce|load) (?:a |the )?"
    r"(?:caption|description|alt[- ]text|image)\b",
    r"\b(?:i (?:don['’]t|do not|can['’]t|cannot) (?:have|see) (?:access to|the ability to view|any) (?:the |any )?"
    r"(?:image|images|picture|photo|visual))|\bno (?:image|picture|photo|attachment)s? (?:was |were |has been |"
    r"have been |is |are )?(?:provided|uploaded|attached|shared|included)\b|\bthere (?:seems|appears) to be no "
    r"(?:image|picture|photo|attachment)\b",
    r"\b(?:please (?:provide|upload|share|attach|send) (?:the|an|a) (?:image|picture|photo))\b|\bcould you (?:please )?"
    r"(?:describe|provide|upload|share|send|re-?upload) (?:it|the|an|a)\b",
    r"\bi(?:['’]m| am) (?:just )?an? (?:ai|language model|chatbot|assistant)\b|\bmy (?:training|knowledge) "
    r"(?:data|cutoff)\b|\bi apologi[sz]e\b",
    r"^(?:sure|certainly|of course|absolutely|okay|ok|here you go|great question|good question|happy to help|"
    r"no problem|gladly)[!,.]* (?:here(?:['’]s| is| are)|below (?:is|are)|i(?:['’]d| would| can| will| have)|let me)",
    r"^(?:certainly|of course|absolutely|great question|good question|happy to help|gladly)[!.]",
    r"^here(?:['’]s| is) (?:a |an |the )?(?:possible |brief |short |detailed |concise )?(?:caption|description|"
    r"alt[- ]text)s?\b.{0,40}?[:：]",
    r"\b(?:below|above) (?:is|are) (?:a |an |the |some )?(?:possible |brief |short |detailed |concise |suggested )?"
    r"(?:caption|description|alt[- ]text)s?\b",
    r"\bthe (?:image|picture|photo|file)s? (?:you(?:['’]ve| have)? (?:uploaded|shared|provided|sent|attached)|"
    r"(?:was|were) not (?:attached|uploaded|included))\b",
    r"\b(?:i hope this helps|let me know if you(?:['’]d| would)? (?:need|have|would|want|like)|feel free to ask|"
    r"is there anything else|if you(?:['’]d| would) like (?:a|me|more|another))\b",
    r"\bcontent (?:policy|guidelines)\b|\bi (?:must|have to) (?:decline|refuse)\b|\bmay violate (?:my|our|the) "
    r"(?:usage |content )?(?:guidelines|polic(?:y|ies))\b|\bviolates? (?:my|our|the) "
    r"(?:guidelines|policy|policies)\b|\bi(?:['’]m| am) not comfortable (?:describing|discussing|sharing|"
    r"identifying|with)\b",
    # other languages
    r"作为(?:一个|一名)?(?:ai|人工智能|语言模型|ai语言模型|ai助手)|抱歉[，,]?\s*(?:我|作为)|我(?:无法|不能)(?:查看|看到|识别|"
    r"处理|访问|描述)|很抱歉|作為(?:一個)?(?:ai|人工智慧|語言模型)|我無法",
    r"申し訳(?:ありませんが|ございませんが)|aiとして|言語モデルとして|画像を(?:見る|表示する)ことができません|"
    r"죄송하지만|죄송합니다|ai(?:로서| 언어 모델로서)|이미지를 볼 수 없",
    r"\b(?:en tant qu[e'] ?(?:ia|intelligence artificielle|modèle de langage|assistant)|je suis désolé,? mais|"
    r"je ne (?:peux|suis pas en mesure de) (?:pas )?(?:voir|afficher|analyser|décrire))",
    r"\b(?:als (?:ki|künstliche intelligenz|sprachmodell|ki-sprachmodell|ki-assistent)|es tut mir leid,? aber|"
    r"ich kann (?:das bild |keine bilder )?(?:nicht )?(?:sehen|anzeigen|analysieren|beschreiben))\b",
    r"\b(?:como (?:una? )?(?:ia|inteligencia artificial|modelo de lenguaje|asistente virtual)|lo siento,? pero|"
    r"no puedo (?:ver|mostrar|analizar|describir|ayudar)|lo siento,? no puedo|como (?:um )?modelo de linguagem|como uma? "
    r"(?:ia|inteligência artificial|assistente virtual)|"
    r"desculpe,? mas|não posso (?:ver|ajudar|descrever))\b",
    r"\bnon sono in grado di (?:visualizzare|vedere|analizzare|descrivere|aprire)|\bnie mam możliwości "
    r"(?:oglądania|wyświetlania|zobaczenia|analizowania|otwarcia)|"
    r"\b(?:come (?:un )?(?:ia|intelligenza artificiale|modello linguistico)|mi dispiace,? (?:ma )?non (?:posso|sono in grado)|"
    r"mi dispiace,? ma|non posso (?:vedere|descrivere|analizzare|identificare))\b",
    r"\b(?:não consigo (?:ver|analisar|descrever|identificar)|przepraszam,? ale nie mogę|nie mogę (?:zobaczyć|"
    r"opisać|przeanalizować|zidentyfikować|wyświetlić|otworzyć|załadować|odczytać)|ik kan (?:de afbeelding |het beeld )?niet (?:zien|beschrijven|bekijken)|"
    r"ik kan geen (?:afbeelding(?:en)?|foto['’]?s?|beelden) (?:zien|bekijken|beschrijven|openen|analyseren)|"
    r"üzgünüm,? (?:ama )?(?:bu )?(?:görseli|resmi|fotoğrafı)|xin lỗi,? tôi không thể)",
    r"لا أستطيع (?:وصف|رؤية|تحليل|التعرف)|لا يمكنني (?:وصف|رؤية|تحليل|التعرف|تحديد)|عذراً?،? لا|عذرًا،? لا",
    r"\bje ne suis pas en mesure d['’](?:identifier|analyser|voir|décrire|ouvrir)|\bje ne suis pas en mesure de (?:voir|"
    r"décrire|reconnaître)|\bomlouvám se,? ale (?:ten |tento )?obrázek|\b(?:ten |tento )?obrázek nevidím\b|\bnevidím "
    r"(?:ten |tento )?obrázek\b|\bnemohu (?:vidět|zobrazit|popsat|otevřít) (?:ten |tento )?obrázek",
    r"\b(?:não (?:consigo|posso)|no (?:puedo|logro)|je ne (?:peux|parviens) pas|non (?:posso|riesco a)) (?:visualizar|"
    r"abrir|acessar|acceder|processar|procesar|interpretar|voir|ouvrir|visualiser|vedere|aprire|visualizzare) "
    r"(?:a |la |as |las |l[ae'] ?|les |i |gli )?(?:imagem|imagen|imagens|imágenes|image|images|immagine|immagini|"
    r"foto|fotos|photo|photos|arquivo|archivo|fichier|file)",
    r"^\W*(?:sure[!,.]?\s*|certainly[!,.]?\s*|of course[!,.]?\s*)?here(?:['’]s| is) (?:a |an |the |your |one )?[^.!?]{0,60}"
    r"(?:caption|description|alt[- ]?text)[^.!?]{0,30}:\s*$",
    r"^(?:claro|por supuesto|desde luego|bien sûr|certainement|certo|certamente|naturalmente|natürlich|gerne|sicher|"
    r"конечно|oczywiście|jasne|tabii|elbette|tentu|zeker|natuurlijk)\s*[!,.]*\s*(?:aquí (?:tienes|está|hay|te dejo)|"
    r"aqui (?:está|estão|vai|tem)|voici|voilà|ecco|hier (?:ist|sind|is)|вот|oto|işte|berikut|dit is)",
    r"^(?:(?:好的|当然可以|当然|没问题|可以|好|はい|もちろん|네|물론)[，,、！!。]?\s*)?(?:aquí (?:tienes|está)|aqui (?:está|vai)|voici|ecco|"
    r"hier ist|вот|oto|işte|berikut|以下是|这是|下面是|"
    r"以下は|다음은).{0,60}(?:descripción|description|descrizione|beschreibung|описание|opis|açıklama|descrição|"
    r"deskripsi|描述|说明|説明|설명|leyenda|légende|didascalia|bildunterschrift|подпись|legenda)[^.!?。]{0,30}[:：]\s*$",
    r"(?:как (?:ии|искусственный интеллект|языковая модель)|(?:извините|к сожалению),? (?:но )?я не могу|я не могу "
    r"(?:видеть|просматривать|открыть|описать|распознать|проанализировать) (?:это |данное )?изображени)",
    # more of the allowed languages: Ukrainian, Turkish, Indonesian/Malay, Vietnamese, Thai, Swedish, Czech,
    # Dutch, Polish, Japanese, Korean, Arabic
    r"(?:як (?:ші|штучний інтелект|мовна модель)|(?:вибачте|на жаль),? (?:але )?я не можу|я не можу (?:бачити|"
    r"переглядати|відкрити|описати) зображенн)",
    r"(?:^|[^0-9a-z_çğıöşü])(?:üzgünüm|maalesef|özür dilerim),? (?:ama |fakat )?(?:bu )?(?:görüntü|görsel|resim|fotoğraf)\w*|\b(?:görüntüyü|"
    r"görüntüleri|görseli|görselleri|resmi|fotoğrafı) (?:göremiyorum|görüntüleyemiyorum|açamıyorum|tanımlayamıyorum|"
    r"tarif edemiyorum|analiz edemiyorum)|\b(?:bir yapay zeka(?: dil modeli)?|yapay zeka dil modeli) olarak\b",
    r"\b(?:maaf|mohon maaf),? (?:tetapi |tapi |namun )?saya tidak (?:dapat|bisa|boleh|mampu)\b|\bsaya tidak (?:dapat|"
    r"bisa|mampu) (?:melihat|membuka|menampilkan|menganalisis|mendeskripsikan|menggambarkan) (?:gambar|foto)\b|"
    r"\bsebagai (?:sebuah )?(?:model bahasa|asisten ai|kecerdasan buatan)\b",
    r"\btôi không thể (?:xem|nhìn thấy|mở|mô tả|phân tích|nhận diện) (?:được )?(?:hình ảnh|ảnh|bức ảnh)|"
    r"\bvới tư cách là (?:một )?(?:ai|mô hình ngôn ngữ|trợ lý ai)\b|\blà một (?:mô hình ngôn ngữ|trợ lý ai)\b",
    r"(?:ขออภัย|ขอโทษ)(?:ครับ|ค่ะ|นะคะ|นะครับ)?\s*(?:แต่)?\s*(?:ฉัน|ผม|ดิฉัน)ไม่สามารถ|ไม่สามารถ(?:ดู|มองเห็น|เปิด|อธิบาย|"
    r"วิเคราะห์)(?:ภาพ|รูป)|ในฐานะ(?:ที่เป็น)?(?:ai|ปัญญาประดิษฐ์|โมเดลภาษา)",
    r"\b(?:tyvärr|förlåt),? (?:men )?kan jag inte\b|\bkan jag inte (?:se|visa|öppna|beskriva|analysera|identifiera)\b",
    r"\b(?:obrázek|obrázky|fotografii|fotku|snímek)\b[^.!?]{0,20}\b(?:nemohu|nedokážu|nemůžu) (?:popsat|zobrazit|otevřít|"
    r"vidět|analyzovat)|\b(?:omlouvám se|bohužel),? (?:ale )?[^.!?]{0,30}\b(?:nemohu|nedokážu|nemůžu) (?:popsat|zobrazit|"
    r"otevřít|vidět|analyzovat)",
    # a reasoning model's thoughts instead of its caption ("The user wants a caption for ... Let me think")
    r"\bthe user (?:asked|wants|is asking|requested) (?:for|me)\b|^\W*(?:thinking|reasoning)(?:\.\.\.|…|:)|^\W*hmm+[,.!…]*\s+"
    r"(?:wait|actually|let me|so|okay|ok|i think)\b|\bactually,? i should reconsider\b|\blet me reconsider\b|"
    r"^\W*wait,? actually\b|\blooking (?:at it )?again,? (?:the|it|i)\b|"
    r"^\W*the user (?:wants|is asking|asked|needs|would like|has (?:asked|provided|shared|uploaded))\b|(?:^|[.!?]\s+)let me (?:think|"
    r"analy[sz]e|look at|describe|start by|break (?:this|it) down)\b|^\W*(?:okay|ok|alright|hmm)[,.]? (?:so )?(?:the user|i need "
    r"to|let me)\b|</?think>|^\W*(?:用户|使用者)(?:想要|希望|要求|需要)|^\W*好的，用户",
    # a captioning model's failure written in place of the caption ("Error: the vision model timed out ...",
    # "[The model did not return a response]")
    r"\bmodel (?:did not|didn['’]t|failed to|could not|couldn['’]t) (?:return|produce|generate|respond|output|give)\b|"
    r"\btimed out (?:before|while|during) (?:producing|generating|returning|captioning|processing)\b|"
    r"\b(?:request|generation|inference|captioning) (?:timed out|timeout)\b|"
    r"^\W*(?:no|empty) (?:response|output|caption|description|result)s? (?:was )?(?:generated|returned|received)\W*$|"
    r"\bmodelo no (?:devolvió|generó|respondió|produjo)|\bmodèle n['’]a (?:pas |rien )?(?:renvoyé|généré|répondu|produit)|"
    r"\bmodell hat (?:keine antwort|nichts) (?:geliefert|zurückgegeben|erzeugt)|\bmodello non ha (?:restituito|generato|"
    r"risposto|prodotto)|\bmodelo não (?:retornou|gerou|respondeu|produziu)|модель не (?:вернула|сгенерировала|ответила)|"
    r"модель не (?:повернула|згенерувала|відповіла)|模型(?:未|没有|沒有)(?:返回|生成|响应|回應|回应)|モデル(?:が|から)(?:の)?"
    r"(?:応答|返答|出力)(?:が)?(?:ありません|しませんでした|なし)|모델이 (?:응답|출력)하지",
    r"\b(?:i|we) (?:would )?need (?:more|additional) (?:information|context|details) (?:about|on|regarding) (?:the|this|"
    r"your) (?:image|picture|photo)\b|\bi(?:['’]d| would) be (?:happy|glad) to help\b.{0,20}\b(?:however|but)\b",
    r"\b(?:tyvärr|jag är ledsen|förlåt),? (?:men )?jag kan inte\b|\bjag kan inte (?:se|visa|öppna|beskriva|analysera) "
    r"(?:bilden|bilder|fotot|fotografiet)\b|\bsom (?:en )?(?:språkmodell|ai-assistent|ai-språkmodell)\b",
    r"\b(?:omlouvám se|bohužel),? (?:ale )?(?:nemohu|nedokážu|nemůžu)\b|\b(?:nemohu|nedokážu|nemůžu) (?:vám )?(?:s tím )?"
    r"(?:pomoci|vyhovět)\b|\b(?:nemohu|nedokážu|nemůžu) (?:vidět|"
    r"zobrazit|otevřít|popsat|analyzovat) (?:obrázek|obrázky|fotografii|fotku)|\bjako (?:umělá inteligence|"
    r"jazykový model)\b",
    r"\b(?:het spijt me|sorry),? (?:maar )?ik kan (?:de |deze |het )?(?:afbeelding|foto|beeld)|\bals (?:een )?"
    r"(?:ai-taalmodel|taalmodel|ai-assistent)\b|\bjako (?:model językowy|sztuczna inteligencja)\b",
    r"画像を(?:見る|表示する|開く|確認する)ことが(?:できません|出来ません)|aiアシスタントとして|"
    r"이미지를 (?:볼|열|확인할) 수 없|언어 모델로서|بصفتي (?:نموذج|ذكاء اصطناعي)|كنموذج لغوي",
    # "I can't help with that", in the allowed languages
    r"\bnão (?:consigo|posso) ajudar com (?:isso|isto|essa|esta|esse|este)\b|\bno (?:puedo|podré) ayudar(?:te|le)? "
    r"con (?:eso|esto|esa|esta)\b|\bje ne (?:peux|pourrai) pas (?:vous |t['’])?aider (?:avec|pour|sur) (?:cela|ça|"
    r"cette|ceci)\b|\bnon posso aiutar(?:ti|la|vi) con (?:questo|questa|ciò)(?:$|[^0-9a-z_])|\bkann ich (?:dir |ihnen |euch )?"
    r"(?:leider )?nicht helfen\b|\bich kann (?:dir|ihnen|euch) (?:dabei |damit |hierbei )?(?:leider )?nicht helfen\b|"
    r"\b(?:daar|hier)(?:mee)? kan ik (?:je|u) niet(?: mee)? helpen\b|\bik kan (?:je|u) (?:daar|hier)(?:mee)? niet "
    r"(?:mee )?helpen\b|\bjag kan inte hjälpa (?:dig |er )?med (?:det|detta)\b|\bnie mogę (?:ci |pani |panu )?(?:w tym |"
    r"z tym )?pomóc\b|\bs tím (?:vám |ti )?nemohu pomoci\b|\bnemohu (?:vám |ti )?s tím pomoci\b|\bsaya tidak (?:dapat|"
    r"bisa) membantu (?:dengan )?(?:itu|ini|permintaan)\b|\btôi không thể giúp (?:bạn )?(?:với )?(?:việc này|điều "
    r"này|yêu cầu này)|(?:\bbu (?:isteğe|konuda|talebe)|\bbuna) yardımcı olamam",
    r"я не могу (?:вам |тебе )?(?:с этим )?помочь|я не можу (?:вам |тобі )?(?:з цим )?допомогти|我(?:无法|不能)(?:帮助|帮忙|"
    r"协助)|お手伝い(?:すること)?(?:は)?できません|도와드릴 수 없",
    # a preamble that ends where the caption should begin ("As requested, here is the alt text in under 125 characters:")
    r"^\W*(?:as requested,?\s*|sure,?\s*|okay,?\s*)?here(?:['’]s| is) (?:the|an?|your|my) (?:short |brief |concise )?"
    r"(?:alt[- ]?text|caption|description)\b[^.!?]{0,60}[:：]\s*$",
    # several captions offered in one text ("1. A cat. 2. A cat on a sofa. 3. ...", "Légende 1 : ... Légende 2 :")
    r"(?:^|\s)(?:caption|légende|leyenda|didascalia|legenda|bildunterschrift|beschriftung|подпись|altyazı|popisek|bildtext|"
    r"keterangan|chú thích|คำบรรยาย|标题|說明|说明|キャプション|캡션)\s*[1１]\s*[:：.)].{2,}?\s(?:caption|légende|leyenda|"
    r"didascalia|legenda|bildunterschrift|beschriftung|подпись|altyazı|popisek|bildtext|keterangan|chú thích|คำบรรยาย|标题|"
    r"說明|说明|キャプション|캡션)\s*[2２]\s*[:：.)]|^\W*1\.\s.{2,80}?\s2\.\s.{2,80}?\s3\.\s",
    # a visual-question prompt or its one-word answer left in ("Answer the question using a single word or phrase.")
    r"\banswer the question using a single word or phrase\b|^\W*(?:answer|a)\s*:\s*(?:yes|no|\d+)\W*$|"
    r"\b(?:answer|respond) with (?:a single|one) (?:word|letter)\b",
    # a description that commits to nothing ("a photograph of something, possibly indoors or outdoors")
    r"\bof something,? (?:possibly|perhaps|maybe)\b|\bpossibly indoors or outdoors\b|具体内容难以确定|难以确定(?:具体)?内容|"
    r"也可能是风景",
    # a list of captions offered instead of one
    r"^here are (?:a few |some |several |\d+ )?(?:possible |alternative |short |different )?(?:caption|description|"
    r"alt[- ]text)s?(?: options| ideas| suggestions| variations)?\b.{0,40}[:：]",
    # model output cut off after its opening words ("Based on the image, it appears that", "The image shows a")
    r"^[\s!-/:-@\[-\x60{-~…–—«»‹›“”„‘’·•←→。！？：、¡¿]*(?:the|this) (?:image|picture|photo|photograph) (?:shows|depicts|features|contains|is of|captures)(?: an?| the)?[\s!-/:-@\[-\x60{-~…–—«»‹›“”„‘’·•←→。！？：、¡¿]*$",
    # model output cut off after its opening words ("Based on the image, it appears that")
    r"^[\s!-/:-@\[-\x60{-~…–—«»‹›“”„‘’·•←→。！？：、¡¿]*based on (?:the|this) (?:image|picture|photo)(?: (?:provided|you (?:shared|sent|uploaded)))?,? (?:it (?:appears|"
    r"seems|looks)(?: like)?|i can see|i see|we can see|there (?:is|are))(?: that)?[\s!-/:-@\[-\x60{-~…–—«»‹›“”„‘’·•←→。！？：、¡¿]*$",
    # a preamble that promises a description and is the whole text ("Sure thing! Let me describe this picture
    # for you.", "¡Claro! Aquí tienes una descripción de la imagen:", "もちろんです！以下が画像の説明です。")
    r"^[\s!-/:-@\[-\x60{-~…–—。！：、¡¿]*(?:(?:sure(?: thing)?|certainly|of course|absolutely|okay|ok|alright|no problem|"
    r"happy to help|claro(?: que sí)?|por supuesto|desde luego|bien sûr|volontiers|certo|certamente|naturalmente|com "
    r"certeza|natürlich|gerne|klar|zeker|natuurlijk|oczywiście|jasne|конечно|звісно|звичайно|elbette|tabii ki|jistě|"
    r"samozřejmě|självklart|visst|tentu|tentu saja|chắc chắn rồi|tất nhiên|بالتأكيد|แน่นอน|もちろんです|もちろん|"
    r"承知しました|かしこまりました|当然|好的|没问题|물론입니다|물론이죠|네|sim|ja|tak|evet|ano|ya|vâng|نعم|ใช่|はい)[\s!,.。！、~]*)?"
    r"(?:(?:based on (?:the|this) (?:image|picture|photo)(?: (?:provided|you (?:shared|sent|uploaded)))?,? )?here(?:['’]s| is) "
    r"what i can (?:tell|see)(?: you)?(?: about it)?|segue(?: abaixo)? a descrição(?: da imagem| da foto)?|hier is een "
    r"beschrijving van de (?:afbeelding|foto)|(?:이미지|사진)에 대한 설명은 다음과 같습니다|إليك وصف(?:ا|اً)? لل(?:صورة|"
    r"الصورة)|dưới đây là (?:phần )?mô tả(?: chi tiết)? (?:về|của) (?:bức |tấm )?(?:ảnh|hình(?: ảnh)?)|här är en beskrivning "
    r"av (?:bilden|fotot)|berikut(?: adalah| ini)? deskripsi (?:gambar|foto)(?: tersebut| ini)?|işte (?:görselin|resmin|"
    r"fotoğrafın) açıklaması|zde je popis (?:obrázku|fotografie)|นี่คือคำอธิบาย(?:ของ)?ภาพ(?:นี้)?|let me describe what i "
    r"(?:see|can see) in (?:this|the) (?:image|picture|photo)|以下は(?:画像|写真)の説明です|إليك وصف(?:ًا|ا|اً) مفصل(?:ًا|ا|اً)? "
    r"لل(?:صورة|الصورة)|ось (?:детальний |докладний )?опис (?:зображення|фото)|вот (?:подробное )?описание (?:изображения|фото)|"
    r"(?:here(?:['’]s| is| you go)"
    r"[:,!]?\s*)?(?:a |an |the |my )?(?:detailed |brief |short |quick |full )?description(?: of (?:the|this|your) "
    r"(?:image|picture|photo))?|let me describe (?:this|the|your) (?:image|picture|photo)(?: for you)?|i(?:['’]d| "
    r"would| will|['’]ll) (?:be happy to |gladly )?describe (?:it|this|the image|the picture|the photo)(?: for you)?|"
    r"aquí (?:tienes|está|va) (?:una|la) descripción(?: de (?:la|esta) (?:imagen|foto))?|te describo (?:la|esta) "
    r"imagen|voici (?:une|la) description(?: de (?:l['’]|cette )(?:image|photo))?|je vais (?:vous |te )?décrire "
    r"(?:l['’]|cette )(?:image|photo)|hier ist (?:eine|die) beschreibung(?: des bildes| des fotos)?|ich beschreibe "
    r"(?:ihnen |dir )?das bild|ecco (?:una|la) descrizione(?: dell['’]immagine| della foto)?|aqui está (?:uma|a) "
    r"descrição(?: da imagem| da foto)?|oto opis(?: zdjęcia| obrazu)?|вот описание(?: изображения| фото)?|ось опис"
    r"(?: зображення| фото)?|(?:以下|こちら|これ)が(?:画像|写真)の(?:説明|キャプション)です|(?:画像|写真)の(?:説明|キャプション)は(?:以下|こちら)(?:の通り)?です|"
    r"(?:画像|写真)を説明します|"
    r"以下是(?:图片|图像|照片)的描述|这是(?:图片|图像|照片)的描述|我来描述(?:一下)?(?:这张)?(?:图片|图像|照片)|"
    r"(?:이미지|사진)에 대한 설명입니다|다음은 (?:이미지|사진)(?:에 대한)? 설명입니다)[\s!-/:-@\[-\x60{-~…–—。！：]*$",
    # a model's description cut off where it began: an opener in the allowed languages, then at most a
    # few words ending on an article, a preposition or a particle ("Das Bild zeigt eine Gruppe von",
    # "这张图片展示了一个", "画像には、女性が", "На изображении мы видим")
    r"^[\s!-/:-@\[-\x60{-~…–—«»“”„‘’。！？：、¡¿]*(?:(?:the|this) (?:image|picture|photo|photograph) (?:shows|depicts|features|"
    r"contains|is)|an? (?:photo|picture|image|photograph|close-up|view) of|in (?:the|this) (?:image|picture|photo),? (?:we see|there (?:is|are)|you can see)|(?:das (?:bild|foto)|die aufnahme) zeigt|auf dem "
    r"(?:bild|foto) (?:ist|sind|sieht man)|l['’](?:image|illustration) montre|la photo montre|sur (?:l['’]image|la photo),? on voit|"
    r"la (?:imagen|foto) muestra|en la (?:imagen|foto) se ve|l['’]immagine mostra|la foto mostra|nella foto si vede|a "
    r"(?:imagem|foto) mostra|na (?:imagem|foto),? (?:vemos|há)|de (?:afbeelding|foto) toont|op de foto (?:zie je|staat)|"
    r"(?:zdjęcie|obraz) przedstawia|na zdjęciu (?:widać|widzimy)|на (?:изображении|фото(?:графии)?)|изображение показывает|"
    r"на (?:зображенні|фото)|(?:görselde|resimde|fotoğrafta)|na (?:obrázku|fotografii)|bilden visar|på bilden|hình ảnh cho "
    r"thấy|bức ảnh cho thấy|gambar ini menunjukkan|dalam gambar(?: ini)?|تظهر الصورة|في الصورة|这张(?:图片|照片)(?:展示了|显示了|中)?|"
    r"(?:图片|照片)中|画像には|この(?:画像|写真)(?:に)?は|写真には|(?:이미지|사진)에는|이 (?:이미지|사진)은|ภาพนี้(?:แสดง(?:ให้เห็น)?)?"
    r"|ในภาพ(?:นี้)?(?:มี)?)(?:[^.!?。！？\n]{0,60}"
    r"(?:\s(?:a|an|the|of|with|and|ein|eine|einen|einem|einer|der|die|das|dem|den|des|von|mit|und|un|une|le|la|les|des|du|de|"
    r"et|qui|el|los|las|una|del|y|con|que|il|lo|gli|uno|della|di|e|um|uma|os|as|do|da|com|een|het|van|met|en|z|w|na|i|и|в|на|с|"
    r"мы видим|видно|ми бачимо|bir|ve|và|một|dan|sebuah|seorang|yang)|一个|一只|一位|一群|一张|的|が|は|の|を|に|と|で|는|은|이|가|"
    r"을|를))?[\s,:;…\-、，]*$",
    # a model hedging about what it sees instead of describing it
    r"\bit is (?:not possible|impossible|difficult|hard) to (?:say|tell|determine|know) (?:with (?:any )?certainty |for sure "
    r"|exactly )?what (?:is |this is |the image )?(?:depicted|shown|in the image)",
    # a model's special tokens left in its output ("A close-up of a<|endoftext|>")
    r"<\|(?:endoftext|im_start|im_end|eot_id|end|begin_of_text|start_header_id|end_header_id)\|>|<(?:start|end)_of_turn>|"
    r"\[/?inst\]|</s>|<unk>|"
    r"<pad>|<eos>|<bos>",
    r"(?:这里|以下)(?:有|是)几个(?:标题|描述|说明|选项)|供(?:你|您)参考",
    # a template's placeholders left unfilled ("A photo of {object} in {location}", "[object Object]") or a
    # masked model's mask tokens ("A photo of a [MASK] sitting on a [MASK].")
    r"[\[{<]\s*(?:object|location|subject|noun|adjective|verb|colou?r|place|item|animal|person|name|caption|description|"
    r"placeholder|insert [a-z ]+|mask|blank)\s*[\]}>]|\[object object\]",
    # ... or a slot of any name in angle brackets after an article, that the HTML repair
    # left ("An illustration of a <object> on a <background> background")
    r"\b(?:a|an|the)\s+<[a-z_]{2,20}>",
    # ... or two slots of any name in braces ("a photo of a {food} on a {surface}"; not TeX's "\frac{a}{b}")
    r"(?:^|[^\\\w}])\{[a-z][a-z_ ]{0,20}\}[^\n]*[^\\\w}]\{[a-z][a-z_ ]{0,20}\}",
    # a refusal to recognise the people in it
    r"\bi (?:can(?:not|['’]t)|am (?:not able|unable) to|won['’]t) (?:identify|recogni[sz]e|name) (?:the )?(?:people|persons|"
    r"individuals|real people|anyone|who)\b|\bnie mogę (?:rozpoznawać|rozpoznać|identyfikować|zidentyfikować) (?:osób|"
    r"ludzi|twarzy)|\bno puedo identificar a (?:las )?personas|\bje ne peux pas identifier (?:les |des )?personnes|\bich kann "
    r"(?:keine )?(?:personen|menschen) (?:nicht )?(?:identifizieren|erkennen)|\bnão posso identificar (?:as )?pessoas|"
    r"\bnon posso identificare (?:le )?persone|я не могу (?:распознавать|опознавать|идентифицировать|определить) (?:людей|лиц|"
    r"личност)|我(?:无法|不能)(?:识别|辨认)(?:图片中的)?(?:人物|人脸|身份)|人物を(?:特定|識別)(?:することは)?できません",
    # a visual question and its answer, as a transcript, from the start ("Question: What is in the image?
    # Answer: a bus ..."; "A quiz card: Question: ... Answer: Paris" describes a card)
    r"^\W*q\s*[:：][^\n]*\ba\s*[:：]|^\W*(?:question|frage|pregunta|domanda|pergunta|vraag|pytanie|вопрос|питання|soru|otázka|fråga|pertanyaan|"
    r"câu hỏi|问题|質問|질문)\s*[:：][^\n]*\b(?:answer|antwort|respuesta|réponse|risposta|resposta|antwoord|odpowiedź|"
    r"ответ|відповідь|cevap|odpověď|svar|jawaban|trả lời|答案|回答|答え|답변)\s*[:：]",
    # an exam's numbered question or its explanation, labelled ("Question 7: How many ...?", "Explanation: see figure 2."),
    # a gap to fill ("Fill in the blank: The tea is picked by ____.")
    r"^\W*fill in the blanks?\b|\b(?:complete|fill in) the (?:sentence|gap|gaps)\s*[:：]|\s_{3,}\W*$",
    r"^\W*(?:question|frage|pregunta|domanda|pergunta|vraag|pytanie|вопрос|питання|soru|otázka|fråga|pertanyaan|câu hỏi|"
    r"q)\s*\d{1,3}\s*[:.)：]|^\W*(?:explanation|solution|erklärung|explicación|explication|spiegazione|explicação|uitleg|wyjaśnienie|"
    r"объяснение|пояснення|açıklama|vysvětlení|förklaring|penjelasan|giải thích|解析|解説|해설)\s*[:：]",
    # the prompt itself as the caption ("Describe this image in detail.", "画像について説明してください。")
    r"^\W*(?:please )?describe (?:this|the) (?:image|picture|photo)(?: in detail| briefly)?[\s.!]*$|^\W*(?:この)?(?:画像|写真)"
    r"(?:の内容)?(?:について|を)(?:詳しく|簡単に)?説明してください[。.!！]*$|^\W*请(?:详细)?描述(?:一下)?(?:这张)?(?:图片|图像|照片)[。.!！]*$|^\W*(?:이 )?(?:이미지|사진)을 "
    r"설명해 ?(?:주세요|줘)[.!]*$|^\W*(?:beschreibe|beschreiben sie) (?:das|dieses) (?:bild|foto)[\s.!]*$|^\W*(?:décris|décrivez) "
    r"(?:l['’]image|cette image|la photo)[\s.!]*$|^\W*(?:describe|describa) (?:la|esta) (?:imagen|foto)[\s.!]*$",
    # a multiple-choice answer or its options instead of a caption ("Answer: B", "Option A: ... Option B: ..."
    # from the start: "A game menu showing Option A: Attack and Option B: Defend" describes a screen)
    r"^\W*(?:answer|antwort|respuesta|réponse|risposta|resposta|antwoord|odpowiedź|ответ|відповідь|cevap|odpověď|svar|"
    r"jawaban|đáp án|الإجابة|答案|答え|정답)\s*[:：]\s*\(?[a-e]\)?[\s.)]*$|^\W*(?:option|opción|opzione|opção|optie|opcja|"
    r"вариант|seçenek|možnost|alternativ|pilihan|lựa chọn|选项|選択肢) ?[a1]\s*[:.)：][^\n]*\b(?:option|opción|opzione|"
    r"opção|optie|opcja|вариант|seçenek|možnost|alternativ|pilihan|lựa chọn|选项|選択肢) ?[b-e2-4]\s*[:.)：]",
    # ... or the answer anywhere: "The answer is (B) a red bus.", "La respuesta correcta es la opción A.", "Odpowiedź:
    # (C) pies", "Options: A) cat B) dog ... Correct answer: B"
    r"\b(?:the )?(?:correct |right |best )?answer is:? \(?[a-e]\)|\b(?:the )?(?:correct|right|best) (?:answer|option|choice)"
    r"(?: is| would be|\s*[:：])\s*(?:option |choice )?\(?[a-e]\b|\brespuesta correcta es:? (?:la )?(?:opción |letra )?\(?[a-e]\b|"
    r"\bla bonne réponse est:? (?:la |l['’])?(?:option |réponse )?\(?[a-e]\b|\bdie richtige antwort ist:? (?:option )?\(?[a-e]\b|"
    r"\bla risposta (?:corretta|giusta) è:? (?:la )?(?:opzione )?\(?[a-e]\b|\ba resposta (?:correta|certa) é:? (?:a )?"
    r"(?:opção |alternativa )?\(?[a-e]\b|\bhet juiste antwoord is:? (?:optie )?\(?[a-e]\b|\bpoprawna odpowiedź(?: to|\s*:)\s*"
    r"(?:opcja )?\(?[a-e]\b|правильный ответ:? (?:вариант )?\(?[a-eа-д]\b|\bdoğru (?:cevap|yanıt):? (?:seçenek )?\(?[a-e]\b|"
    r"đáp án(?: đúng)?(?: là|\s*:)\s*\(?[a-e]\b|\bjawaban (?:yang )?(?:benar|tepat)(?: adalah|\s*:)\s*\(?[a-e]\b|"
    r"(?:正确)?答案(?:是|为|：|:)\s*\(?[a-e]\b|正解は\s*\(?[a-e]\b|정답은\s*\(?[a-e]\b|^\W*(?:answer|antwort|respuesta|"
    r"réponse|risposta|resposta|antwoord|odpowiedź|ответ|відповідь|cevap|odpověď|svar|jawaban|đáp án|答案|答え|정답)\s*[:：]"
    r"\s*\([a-e]\)",
    # a visual question's answer instead of a caption: "Yes, there are two people in the image.", "Có, trong ảnh
    # có một con mèo.", "Ответ: 2 человека", "The color of the car is red."
    r"^\W*(?:yes|no)[,.!]\s+(?:there (?:is|are)|it (?:is|does|isn['’]t|doesn['’]t)|the (?:image|picture|photo) (?:shows|contains|"
    r"does|has)|(?:this|the) (?:person|man|woman) (?:is|does))\b|^\W*(?:có|không)[,.]\s+(?:trong (?:ảnh|hình)|có)|"
    r"^\W*(?:sí|no)[,.]\s+(?:hay|en la imagen)\b|^\W*(?:oui|non)[,.]\s+(?:il y a|sur l['’]image)\b|^\W*(?:ja|nein)[,.]\s+"
    r"(?:es gibt|auf dem bild|im bild)\b|^\W*(?:sim|não)[,.]\s+(?:há|tem|na imagem)\b|^\W*(?:да|нет)[,.]\s+(?:на (?:изображении|"
    r"фото|картинке)|есть)|^\W*(?:так|ні)[,.]\s+(?:на (?:зображенні|фото)|є)|^\W*(?:evet|hayır)[,.]\s+(?:resimde|fotoğrafta|"
    r"görselde)|^\W*(?:ya|tidak)[,.]\s+(?:ada|di (?:gambar|foto))\b|^\W*(?:是的|不是|是|否)[，,。]\s*(?:图片|图中|照片|图像|有)|"
    r"^\W*(?:はい|いいえ)[、,。]\s*(?:画像|写真)|^\W*(?:네|예|아니요|아니오)[,.]\s*(?:이미지|사진)|^\W*(?:answer|antwort|respuesta|"
    r"réponse|risposta|resposta|antwoord|odpowiedź|ответ|відповідь|cevap|odpověď|svar|jawaban|đáp án|trả lời|الإجابة|答案|回答|"
    r"答え|정답|답변)\s*[:：]|^\W*the (?:colou?r|number|shape) of (?:the )?[^.,!?]{1,30} (?:is|are) [^.,!?]{1,25}[.!]?\s*$",
    # an instruction template's markers left in ("### Response: A dog ... ### Instruction:"), the prompt in
    # more languages ("Descreva a imagem em detalhes.")
    r"#{2,}\s*(?:instruction|response|input|assistant|human|user|system)\s*:|^\W*(?:descreva|descrivi|beschrijf|opisz|"
    r"опиши(?:те)?|açıkla|mô tả|jelaskan|describa|décrivez|beschreiben sie|beschreibe) (?:a |la |de |o |het |)?"
    r"(?:imagem|immagine|afbeelding|foto|obraz|zdjęcie|изображение|картинку|фото|resmi|görseli|hình ảnh|bức ảnh|gambar|imagen|image|"
    r"bild)(?: (?:em detalhes|in dettaglio|in detail|gedetailleerd|szczegółowo|подробно|detaylı|chi tiết|secara detail|en detalle|"
    r"en détail|im detail|detailliert))?[\s.!]*$",
    # a captioning model's made-up words ("araffe sitting on a bench", BLIP's "arafed")
    r"\b(?:arafed|araffe|araffed|araffes|arafly|arafe|arafed)\b",
    # a visual question left with its answer to come: the text ends on "Answer:"
    r"\b(?:answer|antwort|respuesta|réponse|risposta|resposta|antwoord|odpowiedź|ответ|відповідь|cevap|odpověď|svar|"
    r"jawaban|trả lời|đáp án)\s*[:：]\s*$|(?:答案|回答|答え|답변)\s*[:：]\s*$",
    # a yes or no to a visual question, with its sentence after it ("No, the factory does not appear to be
    # operating.", "Ja, das Dokument ist unterschrieben.", "Non, il n'y a pas de voiture dans l'image.", "是的，
    # 这是一份结婚证。"): the answer word, a comma or stop, and a pronoun, an article or a verb of the language
    # (from the start after ASCII marks only, `_EDGE`: RE2's \W takes any non-ASCII letter, "...тумані, на ...")
    rf"^{_EDGE}(?:(?:yes|no)[,.!]\s+(?:the|this|that|these|those|it|there|he|she|they|you|i|we)\s|(?:ja|nein)[,.!]\s+"
    r"(?:das|der|die|es|er|sie|man|dies|ich|wir)\s|(?:oui|non)[,.!]\s+(?:il|elle|ils|elles|c['’]est|ce|le|la|les|on|je|"
    r"nous)[\s'’]|(?:sí|si|no)[,.!]\s+(?:el|la|los|las|es|está|están|hay|se|lo|son|il|gli|le|è|c['’]è|ci sono|sono)[\s'’]"
    r"|(?:sim|não)[,.!]\s+(?:o|a|os|as|é|está|estão|há|tem|ele|ela)\s|sì[,.!]\s|(?:ja|nee)[,.!]\s+(?:de|het|er|dit|dat|"
    r"hij|zij)\s|(?:tak|nie)[,.!]\s+(?:na|to|jest|są|w)\s|(?:ano|ne)[,.!]\s+(?:na|to|je|jsou|v)\s|nej[,.!]\s|ja[,.!]\s+"
    r"(?:det|den|bilden|han|hon)\s|(?:да|нет)[,.!]\s+(?:это|он|она|они|здесь|тут|в|на)\s|(?:так|ні)[,.!]\s+(?:це|він|"
    r"вона|вони|тут|в|на)\s|(?:evet|hayır)[,.!]\s|(?:ya|tidak)[,.!]\s+(?:ini|itu|dia|mereka|ada)\s|(?:có|không)[,.!]\s"
    r"|(?:是的|不是|对的|没有)[，,。]|(?:はい|いいえ)[、,。]|(?:네|예|아니요|아니오)[,.]\s|(?:نعم|لا)[،,.]\s)",
    # reasoning about the picture instead of describing it ("It is probably a summer evening, judging by the light",
    # "..., judging by where he is standing"; "A karaoke room, judging by the microphones" describes), ("Based on the
    # floor plan, the total living area is ...", "It was probably taken in the late afternoon", "The answer is
    # 4.", "To make this dish, you will need ...")
    r"\bjudging (?:by|from) (?:how|where|what|whether)\s|^\W*it (?:is|was|must be) (?:probably|likely|most likely|possibly)"
    r"\b[^.!?]*\bjudging (?:by|from)\s|^\W*based on (?:the|this) (?:image|picture|photo|"
    r"photograph|floor ?plan|plan|map|chart|graph|diagram|document|table|screenshot|label|information|context)\b[^,\n]*,"
    r"|^\W*it (?:was|is) (?:probably|likely|most likely|possibly) (?:taken|shot|photographed|captured|painted|made)\s"
    r"|^\W*the (?:correct |right |final )?answer is\s|^\W*to make (?:this|the) (?:dish|recipe|cake|bread|soup|sauce|meal)\b",
    # a model talking about its caption or announcing it ("This caption highlights the key elements of the
    # scene ...", "もちろんです！以下に画像の説明を記載します。"); a request for one ("Provide a detailed caption
    # (50-80 words) covering ..."); a class-name placeholder left in ("A photo of a [CLASS].")
    r"^\W*this (?:caption|description) (?:highlights|captures|describes|focuses on|emphasi[sz]es|conveys|provides|"
    r"summari[sz]es|keeps)\s|^[\s!-/:-@\[-\x60{-~]*(?:もちろんです|かしこまりました|承知しました)[！!。、]|以下に(?:画像|写真)の"
    r"(?:説明|内容)|^\W*(?:please )?(?:provide|write|generate|give|create|produce|suggest) (?:a|an|one|some|two|three|five|\d+) (?:[a-z-]+ ){0,2}"
    r"(?:captions?|descriptions?|alt texts?)\b|\[(?:class|object|label|category|classname|class_name|obj)\]",
    # a model hedging about nothing ("The image may or may not contain a person", "something, perhaps a thing on
    # a surface, in some kind of setting") or talking about a watermark it cannot see past ("图片中有水印，无法看清")
    r"\bmay or may not (?:contain|show|include|be|depict)\b|\bsomething,? (?:perhaps|possibly|maybe) (?:a|an|some)\b"
    r"|\bsome kind of (?:setting|place|object|thing|background)\b|无法看清|看不清楚|無法看清|水印[，,].{0,20}(?:无法|看不)"
    r"|^\W*(?:この)?(?:画像|写真)に(?:は)?何か(?:が|の)|^\W*(?:这张)?(?:图片|照片|图像)(?:中|里)?有(?:一些|某种|某个)?(?:东西|物体)\W*$"
    r"|\b(?:bild|foto|image|picture|photo) (?:mit|with) (?:einem |a )?(?:wasserzeichen|watermark)\W*$",
    # a multiple-choice item's options in a run ("A) bus B) tram C) train", "Which animal is shown? A. dog B. fox
    # C. wolf", "Option D: the train is leaving", "Choices: yes / no"); an answer's openers ("Because the light
    # was red.", "It depends on the weather.", "Probably a Labrador, but hard to say.")
    r"(?:^|\s)a\)\s+\S[^\n]*\sb\)\s+\S[^\n]*\sc\)\s|\(a\)\s*\S[^\n]*\(b\)\s*\S[^\n]*\(c\)\s*\S|\?\s*a\.\s+\w[^\n]*\sb\.\s+\w[^\n]*\sc\.\s"
    r"|^\W*(?:option|choice)\s+[a-e]\s*[:.)]|^\W*(?:options|choices)\s*[:：]|^\W*because (?:the|it|he|she|they|there|of)\s"
    r"|^\W*it depends (?:on|whether)\b|\bhard to (?:say|tell)\b|\?\s*(?:options|choices|choose one|pick one)\s*[:：]"
    # ... or numbered choices after the question ("Which sign means road works? 1, 2, 3 or 4")
    r"|\?\s*(?:[1-9a-e][.)]?\s*,\s*){2,}[1-9a-e][.)]?\s*(?:or|,)\s*[1-9a-e][.)]?\W*$",
    # four options lettered from the start ("A. bakery B. library C. pharmacy D. zoo": initials of names
    # stop before D) or a request to choose one ("Choose the best caption: (1) ...")
    r"^\W*a\.\s+\S[^\n]*\sb\.\s+\S[^\n]*\sc\.\s+\S[^\n]*\sd\.\s+\S|^\W*(?:choose|select|pick) (?:the )?(?:best|correct|right|"
    r"most (?:accurate|appropriate|suitable)) (?:caption|answer|option|description|title)\b",
    # a multiple-choice item's options, or its answer letter anywhere ("Options: (A) yes (B) no. Answer: (A)")
    r"^\W*(?:options?|choices?|optionen|opciones|opzioni|opções|opties|opcje|варианты(?: ответа)?|варіанти|seçenekler|"
    r"možnosti|alternativ|pilihan|lựa chọn|选项|選択肢|보기)\s*[:：]\s*\(?[a-d1][).:]|\b(?:answer|antwort|respuesta|réponse|"
    r"risposta|resposta|antwoord|odpowiedź|cevap|odpověď|svar|jawaban)\s*[:：]\s*\([a-e]\)",
    # the prompt, asking for a length or a form ("Beschreibe das Bild in einem Satz.", "Describe the image in a
    # few words.", "Décris l'image en une phrase.")
    r"^\W*(?:please )?(?:describe|beschreibe|beschreiben sie|décris|décrivez|describa|descreva|descrivi|beschrijf|opisz|"
    r"опиши(?:те)?|açıkla|mô tả|jelaskan) (?:(?:this|the|das|dieses|cette|la|esta|a|o|het|de|una|uma|questa|deze|to|bu|này|"
    r"ini) )?(?:l['’])?(?:image|picture|photo|bild|foto|imagen|imagem|immagine|afbeelding|obraz|zdjęcie|изображение|"
    r"картинку|фото|resmi|görseli|hình ảnh|bức ảnh|gambar)\s+(?:in|en|em|w|trong|dalam|одним|tek|met|con|com) [^.!?\n]*[.!]?\s*$",
)


# Words no caption ends on (an article, a conjunction, a preposition that needs its noun), in the
# default allowed languages, as written in lowercase (a name's "La" or "De" has its capital); left
# out: words that end names or labels ("da", "do", Portuguese "o", "i"; "e" and "y" are in, "vitamin E"
# and "generation Y" have their capitals), prepositions and
# particles a verb can end on ("in", "on", "by", German "auf", "zu", Czech "se", Swedish "med", "på";
# Portuguese "para" and French "entre" are verbs too), words that are words of another allowed
# language or English ("den", "die", "con", "met", "van", "pro", "sue", "um", "im"; Spanish "dos" and
# Portuguese "onze" are numbers; Turkish "su" is water, Vietnamese "ao" a pond, "ai" who, "lo"
# worry; Polish "nas" is us, "uno" ends "uno contra uno") and lone letters that are units or names
# ("v", "w", "s", "z", "u"); "says" is in (a sign "that says" and nothing after it)
DEFAULT_UNFINISHED_WORDS = (
    "a", "the", "and", "of", "with", "to", "for", "from", "into", "onto", "its", "their", "his", "our", "your", "my",
    "an", "al", "or", "but", "says", "d'un", "d'une", "qu'un", "qu'une", "jusqu'au", "jusqu'à", "d’un", "d’une",
    "der", "das", "dem", "ein", "eine", "einem", "einen", "einer", "eines", "und", "mit", "für", "von", "vom", "zum", "zur",
    "une", "du", "et", "avec", "dans", "sur", "pour", "sous", "los", "las", "una", "unos", "unas", "sobre", "hacia",
    "desde", "gli", "della", "dello", "delle", "degli", "nel", "nella", "sul", "sulla", "tra", "fra", "uma", "pelo",
    "pela", "na", "het", "een", "и", "в", "на", "с", "со", "к", "по", "для", "из", "от", "у", "под", "над", "о", "об",
    "при", "без", "через", "і", "й", "та", "з", "із", "зі", "до", "від", "біля", "oraz", "ze", "dla", "od", "pod",
    "nad", "przy", "obok", "ve", "při", "vedle", "och", "ett", "ile", "và", "của", "với", "một", "những", "các",
    "dan", "dengan", "yang", "sebuah", "seorang", "و", "في", "من", "على", "مع", "إلى",
    # conjunctions and relative words that open a clause ("... while the instructor", "... als", "... как")
    "while", "because", "which", "whose", "dass", "weil", "während", "que", "qui", "dont", "lorsque", "cuando",
    "mientras", "che", "mentre", "enquanto", "terwijl", "omdat", "który", "która", "które", "że", "gdy", "podczas",
    "zatímco", "protože", "medan", "eftersom", "sambil", "karena", "ketika", "как", "который", "которая", "которое",
    "которые", "которую", "которого", "которой", "которым", "которых", "чтобы", "пока", "як", "який", "яка", "яке",
    "які", "яку", "якого", "якій", "яким", "яких", "поки",
    # articles, possessives and demonstratives that need their noun, and prepositions no verb ends on
    # ("... walking towards the", "... während seine", "... près de la", "... para a estação dos")
    "at", "towards", "toward", "than", "des", "beim", "seine", "seinen", "seinem", "seiner", "ihre", "ihren", "ihrem",
    "ihrer", "diese", "dieser", "diesem", "diesen", "le", "la", "les", "de", "ses", "ces", "cette", "leur", "leurs",
    "au", "aux", "vers", "chez", "el", "del", "esta", "estos", "estas", "il", "dei", "alla", "allo", "agli", "alle",
    "dal", "dalla", "dai", "nei", "negli", "nelle", "sui", "sugli", "sulle", "suo", "sua", "suoi", "questo", "questa",
    "quel", "quella", "per", "aos", "num", "numa", "seu", "seus", "suas", "pelos", "pelas", "esse", "essa", "naar",
    "deze", "swoim", "swoją", "swoje", "swojego", "swojej", "tym", "tej", "przez", "przed", "między", "svým", "svou",
    "svého", "své", "svém", "přes", "mezi", "před", "sitt", "sina", "bir", "di", "ke", "untuk", "dari", "pada", "oleh",
    "свой", "свою", "своей", "своим", "своего", "своих", "этот", "эта", "эти", "этой", "этого", "этим", "между",
    "перед", "среди", "свій", "своєю", "своїм", "свого", "своїх", "цей", "ця", "ці", "цього", "цим", "між", "серед",
    "عن", "بين", "حول", "عند", "أمام", "تحت", "e", "y", "un", "en", "some", "every", "seperti", "mehreren", "einigen",
    "against",
)  # fmt: skip


# English adjectives no caption ends on after an article or a preposition: "... next to a large", "... holding
# the small", "... into large"
DEFAULT_UNFINISHED_ADJECTIVES = (
    "large", "small", "big", "little", "tall", "huge", "tiny", "wide", "narrow", "long", "young", "beautiful",
    "wooden", "bright", "dark", "busy", "modern", "traditional", "colorful", "colourful", "several", "few", "old",
    "annual", "main", "famous", "entire", "various", "ancient", "massive", "typical", "upper", "lower", "inner",
    "outer", "protective", "decorative", "electric", "digital",
)  # fmt: skip


# The words a caption that says nothing about its picture is made of (English): function words, and words
# about pictures in general, their parts, and seeing them ("In this image we can see the image.", "It is an
# image with a foreground and a background.", "The image appears to be a picture taken with a camera.")
DEFAULT_NOTHING_SAID_WORDS = (
    "a", "an", "the", "of", "in", "on", "at", "with", "and", "or", "to", "from", "by", "for", "as", "into", "onto",
    "over", "under", "about", "around", "is", "are", "was", "were", "be", "been", "being", "it", "its", "it's", "this",
    "that", "these", "those", "there", "there's", "here", "i", "we", "you", "my", "our", "your", "me", "us", "which",
    "what", "some", "any", "one", "not", "just", "also", "very", "quite", "rather", "kind", "sort", "type", "bit",
    "image", "images", "picture", "pictures", "photo", "photos", "photograph", "photographs", "pic", "snapshot", "shot",
    "scene", "view", "camera", "colors", "colours", "color", "colour", "shapes", "shape", "foreground", "background",
    "thing", "things", "object", "objects", "something", "stuff", "item", "items", "setting", "content", "contents",
    "point", "time", "moment", "part", "parts", "area", "areas", "surface", "space", "place", "visible", "different",
    "various", "certain", "unclear", "blurry", "blurred", "appears", "appear", "seems", "seem", "shows", "show",
    "showing", "shown", "has", "have", "had", "contains", "contain", "containing", "depicts", "depict", "depicting",
    "features", "looks", "look", "taken", "captured", "can", "could", "may", "might", "see", "seen", "possibly",
    "perhaps", "maybe", "probably", "hard", "tell", "difficult", "determine", "describe", "identify", "exactly",
    "else", "other", "general", "overall", "subject", "subjects", "uploaded", "posted", "shared", "displayed",
    "orientation", "format", "frame", "conveys", "convey", "sense", "happening", "pixels", "pixel", "arranged",
    "rectangular", "elements", "element", "make", "makes", "up",
    # ... in French, German and Spanish ("L'image montre une scène avec des éléments.")
    "l'image", "montre", "une", "un", "des", "de", "du", "le", "la", "les", "avec", "scène", "éléments", "élément",
    "objets", "quelque", "chose", "choses", "il", "y", "est", "cette", "on", "voit", "das", "bild", "zeigt", "eine",
    "ein", "einen", "szene", "mit", "elementen", "objekten", "etwas", "dinge", "es", "ist", "man", "sieht", "und",
    "imagen", "muestra", "escena", "con", "elementos", "objetos", "algo", "cosas", "se", "ve", "el", "en",
    "angle", "angles", "detail", "details", "mood", "feeling", "feelings", "viewer", "viewers", "atmosphere",
    "impression", "captures", "capture", "evokes", "evoke", "aspects", "aspect", "composition", "perspective",
    "photographie", "couleur", "couleurs", "middle", "center", "centre", "left", "right", "side", "top", "bottom",
    "corner", "clear", "well", "composed", "good", "lighting", "quality", "several", "each", "contributing",
    "contributes", "nice",
    "width", "height", "size", "resolution", "dimensions", "pixels",
    "ich", "nicht", "genau", "erkennen", "kann", "je", "ne", "pas", "bien", "no", "puedo",
    # ... in Chinese and Japanese, character by character ("这张图片显示了一些内容。", "この画像には何かが写っています。")
    "way", "manner", "auf", "dem", "den", "der", "die", "zu", "sehen", "sind", "wird", "werden", "verschiedene",
    "einige", "im", "hier", "dieses", "diesem", "dieser", "diese", "dort", "sur", "dans", "quelques", "certains",
    "différents", "voir", "peut", "ce", "à", "être", "au", "sont", "las", "los", "una", "unos", "algunos", "varios",
    "diferentes", "ver", "puede", "que", "hay", "esta", "este", "cosa", "这", "那", "张", "幅", "图", "片", "像", "照", "显",
    "示", "展", "了", "一", "些", "内", "容", "东", "西", "物", "体", "是", "的", "有", "在", "中", "个", "种", "可", "以", "看", "到",
    "出", "某", "画", "面", "场", "景", "和", "与", "其", "他", "各", "不", "清", "楚", "似", "乎", "好", "也", "都", "颜", "色", "形",
    "状", "背", "前", "元", "素", "部", "分", "什", "么", "こ", "の", "に", "は", "が", "を", "て", "い", "ま", "す", "か", "も", "で",
    "し", "た", "る", "あ", "り", "っ", "写", "真", "何", "見", "え", "れ", "ら", "そ", "ど", "よ", "う", "な", "さ", "ん",
    "く", "つ", "ぎ", "ん", "や",
)  # fmt: skip

# The words of a reader's remark that says nothing of its picture (`junk_rules.remark_rule`): function
# words, the time of day or week, the people there and the day itself, in English, German, French, Spanish,
# Italian, Portuguese and Dutch (no seasons and no family: "Winter fun", "Happy family" describe a picture)
DEFAULT_REMARK_WORDS = (
    "a", "an", "the", "of", "in", "on", "at", "with", "and", "or", "to", "for", "from", "after", "before", "my",
    "our", "your", "me", "we", "i", "us", "you", "it", "its", "it's", "is", "was", "are", "am", "be", "been",
    "being", "this", "that", "what", "such", "so", "too", "very", "really", "just", "all", "again", "already",
    "still", "another", "every", "one", "ever", "more", "most", "much", "no", "not", "yet", "here", "there", "like",
    "how", "when", "who", "these", "those", "them", "they", "their", "his", "her", "he", "she", "day", "days",
    "night", "nights", "time", "times", "week", "weeks", "weekend", "weekends", "morning", "mornings", "evening",
    "today", "tonight", "yesterday", "tomorrow", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
    "sunday", "mondays", "fridays", "year", "years", "life", "lives", "moment", "moments", "memories", "memory",
    "people", "friends", "friend", "crew", "guys", "everyone", "everybody", "home", "back", "last", "first", "new",
    "long", "adventure", "adventures", "forever", "always", "never", "once", "way", "der", "die", "das", "dem",
    "den", "des", "ein", "eine", "einen", "einem", "und", "mit", "ist", "war", "schon", "wieder", "nur", "wir",
    "ich", "mein", "meine", "meinen", "unser", "unsere", "es", "noch", "mal", "ganz", "für", "wie", "heute",
    "gestern", "morgen", "tag", "tage", "woche", "wochenende", "montag", "freitag", "sonntag", "leben", "jahr",
    "alle", "euch", "dich", "mich", "le", "la", "les", "un", "une", "et", "avec", "est", "c'est", "ça", "ce",
    "cette", "ces", "quel", "quelle", "quelles", "que", "qui", "je", "j'ai", "nous", "mon", "ma", "mes", "si",
    "jour", "journée", "soir", "soirée", "vie", "semaine", "lundi", "vendredi", "dimanche", "week-end", "année",
    "tous", "toutes", "tout", "aujourd'hui", "hier", "encore", "el", "los", "las", "lo", "una", "unos", "y", "con",
    "fue", "qué", "tan", "muy", "por", "mi", "mis", "todos", "todo", "todas", "de", "del", "día", "días", "noche",
    "vida", "semana", "lunes", "viernes", "domingo", "fin", "año", "hoy", "ayer", "otra", "otro", "vez", "siempre",
    "il", "gli", "che", "uno", "e", "è", "sono", "mio", "mia", "miei", "per", "giorno", "giornata", "sera", "notte",
    "vita", "settimana", "lunedì", "venerdì", "domenica", "anno", "oggi", "ieri", "tutti", "ancora", "o", "os",
    "as", "um", "uma", "com", "é", "são", "meu", "minha", "dia", "noite", "segunda", "sexta", "ano", "hoje",
    "ontem", "do", "da", "mais", "het", "een", "en", "met", "wat", "zo", "dag", "nacht", "leven", "jaar", "vandaag",
    "iedereen", "mijn", "weer", "can't", "cant", "i'm", "im", "we're", "what's", "that's",
    "together", "à", "au", "aux", "pour", "dans", "ensemble", "zu", "bei", "auf", "zusammen", "para", "al",
    "juntos", "di", "insieme", "em", "na", "op", "voor", "aan", "samen", "nog", "ici", "aquí", "aqui",
    "same", "than", "now", "then", "everything", "nothing", "something",
    "place", "world", "whole",
    # ... and the verbs of a post ("Had so much fun today with the crew")
    "had", "have", "has", "did", "does", "done", "got", "get", "go", "going", "went", "come", "coming", "came",
    "made", "make", "see", "saw", "know", "let's", "stay", "soon", "next", "big", "things", "lot", "lots", "little",
    "bit", "can", "will", "would", "we've", "i've", "gonna",
    "geht's", "gehts", "geht", "weiter", "look", "myself", "ourselves", "right", "team", "check", "out",
    # ... and in Chinese and Japanese, character by character ("今天也是元气满满的一天", "今日も一日お疲れ様でした")
    "今", "天", "日", "也", "是", "的", "一", "真", "又", "这", "那", "个", "了", "呀", "啊", "吧", "哦", "元", "气", "满", "们", "我",
    "你", "大", "家", "都", "很", "太", "好", "到", "周", "末", "星", "期", "次", "年", "回", "再", "见", "本", "当", "毎", "週", "月",
    "曜", "様",
    "she's", "he's", "they're", "you're", "guy", "allen", "schnell", "zeit", "vergeht", "width", "height", "worth",
    "張",
    # (and every hiragana: a Japanese description names its things in kanji or katakana)
) + tuple(chr(c) for c in range(0x3041, 0x3097))  # fmt: skip

# ... and the feelings one such remark needs one of at least ("so blessed", "Was für ein Tag!" takes its "!")
DEFAULT_REMARK_FEELINGS = (
    "blessed", "grateful", "thankful", "proud", "happy", "happiest", "love", "loving", "loved", "lovin", "amazing",
    "awesome", "incredible", "unforgettable", "best", "great", "good", "perfect", "fun", "lovely", "crazy", "tired",
    "finally", "throwback", "tbt", "mood", "vibes", "vibe", "feels", "feeling", "miss", "missing", "believe", "wow",
    "omg", "lol", "lmao", "haha", "hahaha", "yay", "goals", "squad", "thanks", "thank", "prayers", "thoughts",
    "cheers", "congrats", "congratulations", "wait", "excited", "blessings", "beautiful", "cute", "nice", "cool",
    "epic", "legendary", "sweet", "dream", "dreams", "enjoy", "enjoying", "enjoyed", "relax", "chill", "chilling",
    "endlich", "einfach", "toll", "schön", "schöne", "schönes", "geil", "herrlich", "wunderbar", "super", "mega",
    "unvergesslich", "danke", "liebe", "lieben", "stolz", "glücklich", "enfin", "trop", "génial", "magnifique",
    "merci", "heureux", "heureuse", "fier", "fière", "belle", "beau", "bonne", "bon", "aime", "adore", "finalmente",
    "increíble", "genial", "gracias", "feliz", "orgulloso", "orgullosa", "bonito", "bonita", "hermoso", "hermosa",
    "quiero", "encanta", "bellissimo", "bellissima", "grazie", "felice", "fiero", "fiera", "bello", "bella", "amo",
    "incrível", "obrigado", "obrigada", "lindo", "linda", "saudade", "eindelijk", "geweldig", "heerlijk", "bedankt",
    "blij", "trots", "mooi", "fijn",
    "tbh", "ngl", "smh", "fr", "idk", "literally", "obsessed", "yes", "ugh", "sigh",
    "favourite", "favorite", "heerlijke", "fijne", "mooie", "leuk", "leuke", "schöner", "tolle", "tollen",
    "tuned",
    "repost", "reposting", "unglaublich", "頑",
    # ... in Chinese and Japanese ("好开心", "最高の一日")
    "开", "心", "忘", "难", "爱", "棒", "赞", "幸", "福", "累", "疲", "嬉", "楽", "乐", "感", "谢",
    "謝", "哇", "嗨", "耶", "哈", "最", "高",
)  # fmt: skip

# Endings no caption in a script without spaces stops on: Chinese "很" (very), "和", "与", "及" (and),
# "把", "被", "从", measure words after "一" (a), "正在" (is ...ing); Japanese "を", "が", "へ", "と" (and, with) and a polite verb cut short
# ("写っていま" of "写っています", "ており"); Thai "และ" (and; not "ของ",
# "of" and "things": "เลือกซื้อของ" is shopping); Korean "그리고" (and), "및" (not its particles: "사과"
# is an apple, "기와" a tile)
DEFAULT_UNFINISHED_ENDINGS = (
    "很", "和", "与", "及", "把", "被", "从", "一个", "一只", "一位", "一张", "一群", "一辆", "一些", "这个", "那个", "是一", "有一", "を", "が",
    "へ", "正在", "ていま", "ていまし", "ており", "และ", "그리고", "및", "关于", "對於", "对于", "以及", "并且", "因为", "但是",
    "或者", "と", "に",
)  # fmt: skip


def _single_lowercase_words(values: tuple[str, ...], field: str) -> tuple[str, ...]:
    """A list of words compared with a text's lowercased words: each one word, in lowercase."""
    values = _nonempty_strings(values, field)
    bad = [w for w in values if w != w.lower() or any(c.isspace() for c in w)]
    if bad:
        raise ValueError(f"{field} are single lowercase words; got {bad!r}")
    return values


class RefusalRule(RuleConfig):
    """Model refusals, "as an AI language model" disclaimers and chat preambles or sign-offs
    ("Sure! Here's a caption:", "I hope this helps") instead of, or around, a caption. RE2
    patterns, case-insensitive, outside quoted spans."""

    patterns: tuple[str, ...] = DEFAULT_REFUSALS
    # A description broken off (a model's, or alt text cut at a length): `unfinished_min_words`
    # words or more (0: off), the last one written in lowercase and one of these, nothing but
    # spaces, a comma, a colon, a dash or an ellipsis after it ("... standing next to a").
    unfinished_min_words: int = Field(default=4, ge=0, le=1000)
    unfinished_words: tuple[str, ...] = DEFAULT_UNFINISHED_WORDS
    # ... or on "a", "an", "the" or a preposition and one of these adjectives, in lowercase ("... next to a large")
    unfinished_adjectives: tuple[str, ...] = DEFAULT_UNFINISHED_ADJECTIVES
    # ... and in a script without spaces: `unfinished_min_chars` characters or more (0: off), ending on
    # one of `unfinished_endings` ("她站在雨中，看起来很")
    unfinished_min_chars: int = Field(default=6, ge=0, le=10_000)
    unfinished_endings: tuple[str, ...] = DEFAULT_UNFINISHED_ENDINGS
    # ... and a description cut inside its last word ("... parked in front of a modern glass buil", "...
    # pendant que les jou"): `cut_min_words` words or more (0: off), no end mark, the last word in lowercase
    # letters, common in no allowed language wordfreq lists, while four in five of its other words are
    # common in one (`junk_rules.cut_inside_a_word`), and there rarer than `cut_word_zipf` (Zipf, wordfreq's
    # full list: "buil" 1.9, "entra" 1.6; "pho" 2.9) and the start of a common word ("building";
    # "shakshuka" 1.6 starts none)
    cut_min_words: int = Field(default=8, ge=0, le=1000)
    cut_word_zipf: float = Field(default=2.5, ge=0.0, le=8.0)
    # A model's output switching language and script word by word (`junk_rules.switching_scripts`): this many
    # changes of script between its runs of letters or more (0: off), with two English function words
    # among them ("一个女人 standing 在 the 海滩上 with 她的 dog"), or one fewer across three scripts
    script_switches: int = Field(default=4, ge=0, le=1000)
    # ... or given in two languages of two scripts, or cut over to another (`junk_rules.two_scripts`): Latin
    # letters and one other script each this many or more (0: off; Han and Hangul count twice) and the
    # smaller three in ten of them or more ("The runner crosses the finish line 이 사진에서 선수는 결승선을")
    two_scripts_min_letters: int = Field(default=12, ge=0, le=10_000)
    # A caption that says nothing about its picture (`junk_rules.says_nothing`): `nothing_said_min_words` words
    # or more (0: off), every one of them one of `nothing_said_words` ("This image contains some objects and a
    # background.")
    nothing_said_min_words: int = Field(default=4, ge=0, le=1000)
    nothing_said_words: tuple[str, ...] = DEFAULT_NOTHING_SAID_WORDS

    @field_validator("patterns")
    @classmethod
    def _patterns(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return _regexes(_nonempty_strings(v, "patterns"), "patterns")

    @field_validator("unfinished_endings")
    @classmethod
    def _unfinished_endings(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return _nonempty_strings(v, "unfinished_endings")

    @field_validator("unfinished_words", "unfinished_adjectives", "nothing_said_words")
    @classmethod
    def _unfinished_words(cls, v: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        return _single_lowercase_words(v, info.field_name)


class RemarkRule(RuleConfig):
    """A reader's remark posted with the picture, not a description of it ("Good times with good
    people", "so blessed", "Endlich Wochenende!"): at most `max_words` words (0: off), every word with a
    letter one of `words` or `feelings`, and one of `feelings` or a "!" among them. A word for a thing
    in the picture keeps the caption ("Happy family", "Winter fun"). Beside one of `recall_words`, a
    post looking back, the `recalled_words` (seasons, holidays) are a remark's words too ("throwback
    to last summer"; "Summer holidays" alone names a picture's time)."""

    max_words: int = Field(default=16, ge=0, le=1000)
    words: tuple[str, ...] = DEFAULT_REMARK_WORDS
    feelings: tuple[str, ...] = DEFAULT_REMARK_FEELINGS
    recall_words: tuple[str, ...] = ("throwback", "tbt", "flashback", "memories", "rückblick", "souvenirs", "recuerdos",
                                     "ricordi", "lembranças", "herinneringen")
    recalled_words: tuple[str, ...] = ("summer", "winter", "spring", "autumn", "fall", "holiday", "holidays", "vacation",
                                       "trip", "sommer", "urlaub", "été", "hiver", "vacances", "verano", "invierno",
                                       "vacaciones", "estate", "inverno", "vacanze", "verão", "férias", "zomer",
                                       "vakantie")

    @field_validator("words", "feelings", "recall_words", "recalled_words")
    @classmethod
    def _single_words(cls, v: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        return _single_lowercase_words(v, info.field_name)


class FileNameRule(RuleConfig):
    """A file name, with its extension or without, as the caption: screenshots ("Screenshot
    2021-03-04 at 10.15.22", "Screen Shot ...", "Bildschirmfoto ...", "截屏 ..."), messenger exports
    ("WhatsApp Image 2021-07-12 at 18.32.11", "FB_IMG_...", "mmexport...", "signal-...",
    "photo_2021-...", "微信图片_..."), camera and phone names ("IMG 4512", "DSC_0042", "PXL_2021...",
    "20190612_123456", "image0 (3)", "Untitled-1") and scanner output ("Scan 12")."""


class CodeRule(RuleConfig):
    """Source code, SQL, markup or JSON as the caption: at least `min_signals` different code
    signals (keywords followed by code syntax, `{...}` blocks, `;` line ends, `==`/`=>`/`&&`,
    `function(...)` calls, JSON key-value pairs, SQL clauses ...), outside quoted spans."""

    min_signals: int = Field(default=2, ge=1, le=20)


class CameraSettingsRule(RuleConfig):
    """EXIF / camera-setting strings: at least `min_settings` settings (f-number, shutter speed,
    ISO, focal length, exposure bias, camera or lens model) and at most `max_other_words` other
    words ("f/2.8 1/200s ISO 400", "Canon EOS 5D Mark IV, 50mm, ISO 100"); with other words at all,
    one of them an exposure (shutter speed, ISO, bias or an EXIF field): "Nikon D750 with a 50mm
    f/1.8 lens on a tripod" describes a camera."""

    min_settings: int = Field(default=2, ge=1, le=20)
    max_other_words: int = Field(default=4, ge=0, le=1000)


DEFAULT_FUNCTION_WORDS = (
    # articles, prepositions, conjunctions, pronouns and common verbs: a sentence has them, a
    # keyword list has few
    "a", "an", "the", "of", "in", "on", "at", "to", "with", "and", "is", "are", "was", "were", "has", "have",
    "for", "from", "by", "into", "onto", "near", "under", "over", "behind", "next", "while", "its", "their",
    "his", "her", "this", "that", "there", "some", "two", "three", "several", "many", "who", "which",
    "be", "been", "being", "it", "as", "or", "but", "not", "can", "will", "he", "she", "they", "we", "you",
    "my", "your", "our", "these", "those", "up", "down", "out", "off", "above", "below", "between", "beside",
    "through", "around", "against", "along", "across", "during", "without", "after", "before", "one", "four",
    "since", "until", "inside", "outside", "beneath", "toward", "towards", "among", "within", "per", "via", "than",
    "about", "upon", "amid", "beyond", "underneath", "throughout",
    "le", "la", "les", "un", "une", "des", "du", "de", "et", "sur", "dans", "avec", "est", "sont",
    "der", "die", "das", "ein", "eine", "und", "mit", "auf", "im", "ist", "sind", "von", "einem", "einer",
    "einen", "eines", "den", "zu",
    "el", "los", "las", "una", "y", "con", "en", "del", "es", "está", "están", "unos", "unas",
    "il", "lo", "gli", "uno", "e", "di", "con", "sul", "nel", "è", "sono", "o", "os", "um", "uma", "com",
    "no", "na", "do", "da", "het", "een", "en", "op", "met", "van", "ligt", "staat", "и", "в", "на", "с",
    "под", "у", "по", "из", "за", "я", "є", "w", "z", "na", "i", "ze", "pod", "ve", "se", "och", "på", "med",
    "bir", "ve", "ile", "bir", "için", "của", "một", "và", "trên", "dan", "di", "yang", "dengan", "sebuah",
    "saat", "ketika", "ke", "dari", "pada", "untuk", "ini", "itu", "sedang", "seorang", "seekor", "para", "atau",
    "dalam", "oleh", "juga", "sambil", "bersama", "tanpa", "seperti",
    "的", "在", "和", "着", "了", "是", "有", "一个", "一只", "の", "が", "を", "に", "と", "で", "は",
    "이", "가", "을", "를", "에", "와", "과", "는", "은",
    # the other allowed languages written in Latin letters, whose captions are often ASCII alone:
    # contracted articles and prepositions (Italian, French, Spanish, Portuguese, German, Dutch,
    # Swedish, Polish, Czech, Turkish, Vietnamese)
    "al", "alla", "allo", "agli", "alle", "dal", "dalla", "dallo", "dai", "dalle", "della", "dello", "dei",
    "degli", "delle", "nella", "nello", "nei", "nelle", "sulla", "sullo", "sui", "sulle", "tra", "fra", "su", "au",
    "aux", "pour", "par", "sous", "chez", "entre", "vers", "leur", "près", "à", "por", "sobre", "bajo", "desde",
    "hacia", "sus", "muy", "ao", "aos", "pela", "pelo", "pelas", "pelos", "em", "nas", "nos", "dos", "sua", "seu",
    "numa", "num", "numas", "nuns", "dum", "duma", "dem", "am", "zum", "zur", "beim", "vor", "bei", "unter", "neben", "aus", "nach", "für", "über", "bij",
    "voor", "naar", "aan", "uit", "onder", "tussen", "ett", "av", "till", "vid", "från", "som", "är", "przy", "nad",
    "przed", "jest", "oraz", "od", "za", "je", "bu", "gibi", "với", "trong", "những", "các", "đang", "là", "ở",
)  # fmt: skip


# Shop and listing words of the allowed languages ("cheap", "günstig kaufen", "pas cher", "en venta",
# "tanie", "купить недорого", "激安"): SEO runs string them together; a description of a shop or a
# market stall has one at most. Regular expressions, matched as whole words, case-insensitive.
DEFAULT_SHOP_WORDS = (
    "cheap(?:est)?", "buy(?: now| online)?", "for sale", "on sale", "discounts?", "best price", "online (?:shop|store)",
    "wholesale", "deals?", "bargains?", "realtors?", "mls", "coupons?",
    "günstig(?:e|er|en)?", "billig(?:e|er|en)?", "kaufen", "bestellen", "angebote?", "online-?shop", "buchen",
    "preiswert(?:e|er)?", "rabatt",
    "pas cher", "acheter", "promo", "soldes", "boutique en ligne", "meilleur prix",
    "barat(?:o|a|os|as)", "comprar", "en venta", "ofertas?", "tienda (?:online|en línea)", "rebajas", "inmobiliaria",
    "mejor precio",
    "economic(?:o|a|i|he)", "acquista(?:re)?", "offert(?:a|e)", "negozio online", "saldi", "prezzi",
    "promoção", "loja (?:online|virtual)", "frete", "melhor preço",
    "goedkope?", "kopen", "aanbieding(?:en)?", "korting", "webshop", "uitverkoop",
    "tani(?:e|a|o)?", "kup(?:ić)?", "sklep internetowy", "wyprzedaż", "promocja",
    "levn(?:ě|é|á|ý)", "koupit", "e-shop", "výprodej",
    "billig(?:t|a)", "köp(?:a)?", "rea", "köp online", "erbjudande",
    "ucuz", "satın al", "kampanya",
    "купить", "недорого", "дешево", "интернет-? ?магазин", "распродажа", "купити", "інтернет-? ?магазин",
    "murah", "jual", "grosir", "terbaru", "giá rẻ", "khuyến mãi",
    "激安", "通販", "最安値", "便宜", "特价", "促销", "网店", "批发", "购买", "최저가", "할인", "쇼핑몰", "특가", "구매",
    # a marketplace title's selling words: "unisex", "hot trend", "slimming", "free shipping", "Korean style",
    # "petite", "card slots", "in stock" ...
    "unisex", "oversized?", "hot trend", "form rộng", "freeship", "nam nữ", "dámsk(?:é|á|ý)", "pánsk(?:é|á|ý)",
    "显瘦", "爆款", "包邮", "韩版", "百搭", "网红款", "小个子", "中长款", "送料無料", "大きいサイズ", "耐衝撃", "手帳型",
    "カード収納", "プチプラ", "ราคาถูก", "พร้อมส่ง",
)


class KeywordListRule(RuleConfig):
    """A list of keywords or tags instead of a description: at least `min_items` items separated
    by commas, pipes, semicolons, slashes or "、", with at most `max_item_words` words per item on
    average and at most `max_function_share` of the items holding a function word (article,
    preposition, conjunction, common verb: `function_words`; twice that where half the items share a
    word with another, as an SEO list repeats its keyword: "bolo de chocolate, bolo caseiro, receita
    de bolo, ..."), unless an item is a size, a century
    or a decade (a catalogue entry: "Ceramic bowl, 12 cm diameter, glazed stoneware, 1960s"); or at
    least `min_hashtags` hashtags with fewer than four other words, or more hashtags than other
    words (a description with its tags after it is kept), or two hashtags with no other word; or at least `min_soup_words` words of ASCII text run together without one function
    word and without a closing ".", "!" or "?" ("abstract background texture wallpaper pattern design
    art colorful"; 0: off); from `min_short_soup_words` words on, ASCII text of such a run is a soup
    too when it also has no digit and no verb form ("-ing", "-ed"; nouns such as "wedding" do not
    count): "dog puppy cute pet animal canine" (0: off); in small letters and spaces alone, a run two
    words longer may hold verb forms, and one of `min_soup_words` one function word ("podcast studio
    microphone radio broadcast audio recording mic headphones"); text in Latin letters with marks is judged
    so too where its language is one of `soup_languages` ("Hund Welpe Haustier süß Tier Fell braun
    Freund treu"; not Czech, Polish, Turkish or Vietnamese, whose captions often do without function
    words: "Karlův most v mlze brzy ráno"); or text that labels itself a tag list
    ("tags: ...", "keywords: ..."); or six Han/Kana words or more set apart by spaces ("夕日 海 ビーチ 夏 旅行 風景");
    or a title of `min_title_case_words` words or more (0: off), `title_case_share` of them capitalised,
    at most one function word in seven (one in small letters only in a title of 12 words or more:
    "Canvas Tote Bag with Printed Lemon Pattern" names a product), no digit and no closing ".", "!"
    or "?" ("Robe Femme Été Longue Bohème Fleurie Plage Décontractée"). Items may be set apart by "・" and "،" too. Or `min_shop_words`
    different `shop_words` (0: off) in a text that does not end a sentence: an SEO run of shop
    words ("Gartenmöbel Set Rattan günstig kaufen", "vestido de festa barato loja online")."""

    min_items: int = Field(default=4, ge=2, le=1000)
    max_item_words: float = Field(default=2.5, gt=0.0, le=100.0)
    max_function_share: float = Field(default=0.25, ge=0.0, le=1.0)
    min_hashtags: int = Field(default=3, ge=1, le=1000)
    min_soup_words: int = Field(default=10, ge=0, le=10_000)
    min_short_soup_words: int = Field(default=6, ge=0, le=10_000)
    min_title_case_words: int = Field(default=7, ge=0, le=10_000)
    title_case_share: float = Field(default=0.85, gt=0.0, le=1.0)
    function_words: tuple[str, ...] = DEFAULT_FUNCTION_WORDS
    min_shop_words: int = Field(default=2, ge=0, le=1000)
    shop_words: tuple[str, ...] = DEFAULT_SHOP_WORDS
    soup_languages: tuple[str, ...] = ("de", "fr", "es", "it", "pt", "nl", "sv")

    @field_validator("shop_words")
    @classmethod
    def _shop(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return _regexes(_nonempty_strings(v, "shop_words"), "shop_words")

    @field_validator("function_words")
    @classmethod
    def _words(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(w.lower() for w in _nonempty_strings(v, "function_words"))

    @field_validator("soup_languages")
    @classmethod
    def _soup_languages(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [x for x in v if not _LANG.match(x)]
        if bad:
            raise ValueError(f"soup_languages must be lid.176 language codes such as 'de', got {bad[0]!r}")
        return tuple(v)


class DateOnlyRule(RuleConfig):
    """The text is only a date and/or time ("June 12, 2019", "2019-06-12 14:32", "2019年6月12日")."""


class NoLettersRule(RuleConfig):
    """The text has no letter at all: only numbers, punctuation, symbols or emoji."""


class DigitRunRule(RuleConfig):
    """A run of more than `max_digits` consecutive digits (phone numbers, IDs, timestamps; not a run
    glued to a letter in ASCII text, as in the model code "126610LN"), or four
    groups of 2-4 digits or more joined by single spaces, dots or dashes ("06 12 34 56 78"), or a
    North American phone number ("415-555-0199"), outside quoted spans."""

    max_digits: int = Field(default=5, ge=1, le=500)


class TooShortRule(RuleConfig):
    """Fewer than `min_words` words or fewer than `min_chars` characters.

    A word is a whitespace-separated token with punctuation trimmed from its ends; every Han,
    Hiragana or Katakana character counts as one word. Text in a script without spaces (Thai, Lao,
    Khmer, Myanmar) is judged by characters only. Characters are counted with East-Asian wide
    characters counting two, spaces included. The defaults reject "one word or ≤ 5 characters": a
    caption of two words is kept ("Cherry blossoms", "Snowy cabin"); the two-word junk of page furniture,
    figure labels and readers' comments is the boilerplate rule's and the learned score's.
    """

    min_words: int = Field(default=2, ge=1, le=10_000)
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
    # articles and prepositions of the other allowed languages, which no grammar writes twice ("Pes leží
    # na na gauči", "trên trên ghế", "على على الأريكة"; not "no", "la": "no, no", "La La Land")
    "dem", "den", "einem", "mit", "auf", "im", "von", "zu", "du", "des", "de", "dans", "sur", "avec", "del",
    "con", "en", "il", "di", "della", "nel", "do", "da", "dos", "das", "em", "um", "uma", "com", "het", "een",
    "van", "op", "met", "och", "på", "med", "ett", "av", "till", "w", "z", "na", "od", "przy", "się", "v", "ve",
    "s", "se", "на", "в", "с", "и", "по", "из", "у", "за", "bir", "ve", "ile", "için", "di", "dan", "yang",
    "ke", "dari", "dengan", "untuk", "pada", "sedang", "sudah", "telah", "sebuah", "seorang", "adalah", "của", "trên",
    "với", "trong", "những", "các", "một", "và", "đang", "đã", "sẽ",
    "على", "في", "من", "إلى", "مع", "عن",
)  # fmt: skip


class RepeatedWordsRule(RuleConfig):
    """The same word more than `max_run` times in a row ("dog dog dog"), any of `pair_words`
    twice in a row ("the the"), or two of them twice in a row ("a close up of a of a pizza").
    Case-insensitive, punctuation ignored. Reduplication such as
    "bye bye" or 妈妈 stays (runs of two are allowed for other words)."""

    max_run: int = Field(default=2, ge=1, le=1000)
    pair_words: tuple[str, ...] = DEFAULT_PAIR_WORDS

    @field_validator("pair_words")
    @classmethod
    def _words(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(w.lower() for w in _nonempty_strings(v, "pair_words"))


DEFAULT_REDUPLICATIONS = (
    "bye", "very", "no", "so", "ha", "haha", "ho", "yeah", "yes", "oh", "tsk", "chop", "knock",
    "bora", "walla", "mahi", "baden", "pago", "sing", "bonbon", "tom", "dum", "tut", "hush", "pom", "choo",
    "duran", "talk", "wagga", "mau", "cous",  # names written twice (Duran Duran, Talk Talk, Wagga Wagga, couscous)
    "chow", "tuk", "agar", "ylang", "cha", "tse",  # a Chow Chow, a tuk tuk, agar agar, ylang ylang, cha cha, tse tse
    "quack", "woof", "meow", "beep", "tick", "tock", "ding", "dong", "clip", "clop", "boom", "bang", "blah", "wow",
    "go", "hip", "night",
    "tak", "da", "si", "sì", "oui", "non", "nein", "ja", "нет", "да", "hello", "hi", "hey", "yay", "ok",
    "okay", "help", "hurry", "again", "more", "bravo", "encore", "ciao", "hola", "merci", "danke",
)  # fmt: skip
# Han and Kana particles that no grammar writes twice in a row (not 了, 把 or 被: "不了了之", "把把脉",
# "被被子盖住"; not も: "もも" is a peach)
DEFAULT_DOUBLED_PARTICLES = ("的", "在", "和", "与", "从", "の", "を", "が", "に", "で", "へ")
_HAN_KANA = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
DEFAULT_STUTTER_LANGUAGES = (
    "en", "de", "fr", "es", "it", "pt", "nl", "sv", "da", "no", "nb", "pl", "cs", "sk", "ru", "uk", "ca",
    "ro", "hu", "fi", "el", "hr", "sr", "bg", "sl", "et", "lv", "lt", "ar",
)  # fmt: skip


# Words that announce a repetition the image shows (a pattern, a chant, a sign that repeats).
DEFAULT_PATTERN_WORDS = (
    "alternating", "alternate", "alternates", "repeating", "repeated", "repeats", "repetitive", "pattern",
    "patterned", "patterns", "stripes", "striped", "sequence", "rows", "layers", "layered", "checkered",
    "checkerboard", "chant", "chanting", "chants", "rhythm", "cycle", "loop", "abwechselnd", "muster",
    "streifen", "alterné", "alternées", "alternés", "motif", "rayures", "alternando", "alternadas",
    "patrón", "rayas", "alternate", "strisce", "padrão", "listras", "чередующиеся", "полосы", "узор",
)  # fmt: skip


class StutterRule(RuleConfig):
    """A word written twice in a row ("a bus bus", "on the the table" is `repeated_words`) in a
    language whose grammar does not double words: the row's detected language is in `languages`
    (reduplicating languages such as Indonesian, Turkish or Chinese are left alone), the word has
    at least `min_chars` letters, is not a number and is not in `allowed` ("bye bye", "very very",
    "Bora Bora", "Duran Duran"). In those languages a phrase of 2 to `max_phrase_words` words
    written twice in a row is one too ("a stove a stove and a fridge"; 0 turns it off), and one of three
    words or more in any language ("người đàn ông người đàn ông"), unless it
    comes a third time ("row after row after row"), its first copy of two words ends at a comma ("New York, New
    York", "one behind another behind another"), its words are all `allowed`, or the text names a
    pattern (`pattern_words`). In every language, one of `particles` written twice ("一只猫在在沙发上",
    "テーブルのの上"), unless it is half of a doubled pair ("实实在在", "的的确确"), a run of Han/Kana
    ending in a Kana particle written twice ("公園で公園で"), or a Korean word ending in a particle
    written twice ("해변에서 해변에서"). Quoted spans are exempt."""

    min_chars: int = Field(default=2, ge=1, le=100)
    languages: tuple[str, ...] = DEFAULT_STUTTER_LANGUAGES
    allowed: tuple[str, ...] = DEFAULT_REDUPLICATIONS
    max_phrase_words: int = Field(default=8, ge=0, le=64)
    pattern_words: tuple[str, ...] = DEFAULT_PATTERN_WORDS
    particles: tuple[str, ...] = DEFAULT_DOUBLED_PARTICLES

    @field_validator("allowed", "languages", "pattern_words")
    @classmethod
    def _words(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(w.lower() for w in _nonempty_strings(v, "entries"))

    @field_validator("particles")
    @classmethod
    def _particles(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [c for c in v if len(c) != 1 or not _HAN_KANA.match(c)]
        if bad:
            raise ValueError(f"particles must be single Han or Kana characters, got {bad[0]!r}")
        return tuple(v)


class TailRepetitionRule(RuleConfig):
    """Loop-like tail: the text ends in a unit of 1..`max_period` words repeated at least
    `min_repeats` times ("a dog on a beach on a beach on a beach"); a cut-off last word is
    tolerated. A unit of 2..`max_period` words repeated `min_repeats` times anywhere else, with no
    list separator between its copies, is a loop too ("an image of an image of an image of a house"). Quoted spans are exempt. A caption may describe a visual repetition: when the text
    has one of `pattern_words` and the unit each time ends at a comma or semicolon ("alternating
    stripes of red and white, red and white, red and white"), it needs `min_list_repeats`."""

    max_period: int = Field(default=8, ge=1, le=64)
    min_repeats: int = Field(default=3, ge=2, le=1000)
    min_list_repeats: int = Field(default=5, ge=2, le=1000)
    pattern_words: tuple[str, ...] = DEFAULT_PATTERN_WORDS

    @field_validator("pattern_words")
    @classmethod
    def _words(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(w.lower() for w in _nonempty_strings(v, "pattern_words"))


class SentenceRepetitionRule(RuleConfig):
    """The same sentence (case-insensitive, at least `min_chars` characters counted like
    `too_short`: wide characters two) appears more than `max_repeats` times."""

    max_repeats: int = Field(default=1, ge=1, le=1000)
    min_chars: int = Field(default=12, ge=1, le=10_000)


class NgramRepetitionRule(RuleConfig):
    """Share of word `n`-grams that repeat an earlier n-gram of the same text is above `max_ratio`.

    Only texts of at least `min_words` words (outside quoted spans) are judged. A text that names
    a visual pattern (one of `pattern_words`) in an enumeration (two or more list separators) is
    left to `tail_repetition`.
    """

    n: int = Field(default=3, ge=1, le=16)
    max_ratio: float = Field(default=0.25, gt=0.0, le=1.0)
    min_words: int = Field(default=12, ge=2, le=100_000)
    pattern_words: tuple[str, ...] = DEFAULT_PATTERN_WORDS

    @field_validator("pattern_words")
    @classmethod
    def _words(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(w.lower() for w in _nonempty_strings(v, "pattern_words"))


DEFAULT_LANGUAGES = (
    "en", "zh", "ja", "ko", "de", "fr", "es", "it", "pt", "nl", "ru", "pl", "tr", "ar", "vi", "th",
    "id", "uk", "cs", "sv",
)  # fmt: skip
_LANG = re.compile(r"^[a-z]{2,3}$")
# lid.176 labels of varieties, mapped to the macro-language an allow list names (ISO 639-3
# macro-languages, and Serbo-Croatian's standard varieties under "hbs").
DEFAULT_MACRO_LANGUAGES = {
    "yue": "zh", "wuu": "zh", "gan": "zh", "hak": "zh", "nan": "zh", "cdo": "zh", "cjy": "zh", "hsn": "zh",
    "arz": "ar", "ary": "ar", "apc": "ar", "acm": "ar", "ajp": "ar", "azb": "az", "ckb": "ku", "kmr": "ku",
    "pnb": "pa", "nb": "no", "nn": "no", "mhr": "chm", "mrj": "chm", "pes": "fa", "prs": "fa", "zsm": "ms", "id": "ms",
    "swh": "sw", "lvs": "lv", "ekk": "et", "khk": "mn", "uzn": "uz", "ydd": "yi", "diq": "zza",
    "sh": "hbs", "hr": "hbs", "sr": "hbs", "bs": "hbs",
}  # fmt: skip


class LearnedJunkRule(RuleConfig):
    """The learned junk score (`filters.junk_model`): a logistic model over a caption's words and
    their character n-grams, trained on labelled captions; a text it scores at `threshold` or more
    is rejected (after every other text rule). `model_path`: a local model file written by
    ``python -m filters.junk_model train --data your.jsonl --out model.tsv.gz`` (default: the one
    shipped in `filters/data`)."""

    threshold: float = Field(default=0.85, gt=0.0, le=1.0)
    model_path: str | None = None

    @model_validator(mode="after")
    def _model(self) -> "LearnedJunkRule":
        if self.enabled and self.model_path is not None and not Path(self.model_path).is_file():
            raise ValueError(f"model_path {self.model_path!r} is not a local junk model file "
                             "(write one with `python -m filters.junk_model train`)")
        return self


class LanguageRule(RuleConfig):
    """fastText lid.176 language id, made for captions.

    A caption is rejected only when fastText is confident it is a language outside `allow`: its top
    language is not allowed and its score is at least the length-dependent threshold. Captions of
    `exempt_words` words or fewer are not rejected by their score (lid.176 is unreliable on them: "blue
    sky" comes out German), but by their words: two or three words of letters (two of them in
    lowercase), none in an allowed language's word list, whose top language is not allowed and
    scores `short_foreign_score` or more (0: off; "Tuulimylly pellon laidalla" is Finnish). The threshold falls linearly from `short_min_score` (just above `exempt_words`) to
    `min_score` (at `long_words` words and beyond). `allow: null` allows every language; the
    language and score are recorded on every checked row either way.

    Varieties count as their macro-language (`macro_languages`: written Cantonese `yue` is `zh`;
    `hr`, `sr`, `bs` and `sh` are `hbs`, Indonesian `id` is Malay `ms`), and the scores of the top `top_k` labels are summed per
    macro-language. Text in a script without spaces (Thai, Lao, Khmer, Myanmar) is measured in
    words of `unspaced_chars_per_word` characters. A text of `uncertain_min_words` words or more
    whose best allowed language scores below `min_allowed_score` is rejected too (lid.176 does not
    know what it is, but it is none of the allowed languages), unless it has two common function
    words of one allowed language (`filters.language.FUNCTION_WORDS`: lid.176 is often unsure of
    plain English with rare nouns). Above `exempt_words`, a text whose top language is not allowed
    and scores `unsure_top_score` or more, with no allowed language at `unsure_allowed_score`
    ("Lapset rakentavat lumiukkoa pihalla.": fi 0.46, no allowed language over 0.1), is rejected
    unless it has one function word of an allowed language (lid.176 reads "Kids slice of lemon." as
    Esperanto at 0.83; "of" keeps it); "Кот спит на диване" is bg at 0.83 and ru at 0.13: kept.
    Likewise a text whose top `top_k` languages outside `allow` score `foreign_total_score` or more
    together, with no allowed language at `foreign_total_allowed_score`, unless it has one function
    word of an allowed language ("A quokka smiling widely" is fi 0.5, en 0.1; "a" keeps it): lid.176 splits a short Finnish caption
    between Estonian and Finnish ("Punainen mökki järven rannalla auringonlaskussa": et 0.42, fi
    0.29, de 0.25), so no one of them reaches the threshold. A rejected text with capital letters gets a second look in
    lowercase, which lid.176 reads far better ("SUNSET OVER THE OCEAN ..." is es at 0.20, and en
    at 0.95 lowercased): an allowed language scoring 0.5 or more there keeps it. A text of any
    length is rejected when more than half of its letters, and `foreign_script_min_letters` at
    least (0: off), are of one script that no allowed language is written in
    (`filters.scripts`: "ძაღლი თოვლში", Georgian, when `ka` is not allowed). A text of any length
    whose top language is not allowed and scores `foreign_letter_score` or more (0: off) is rejected
    when it holds a letter that language writes and no allowed language does
    (`filters.language.FOREIGN_LETTERS`: "Köpək sahildə qaçır." is az at 0.98, and "ə" is no allowed
    language's letter). Above `exempt_words`, a text is rejected when a language outside `allow` that
    lid.176 confuses with an allowed neighbour (Slovak, Croatian, Serbian, Bosnian, Slovenian,
    Bulgarian, Macedonian, Belarusian, Norwegian, Danish, Afrikaans, Catalan, Galician, Occitan,
    Romanian, Luxembourgish, Welsh, Latin, Swahili, Tagalog, Basque) scores `neighbour_min_score`
    or more among its top `top_k` labels and its own function words or letters are in the text,
    more of them than of the allowed languages (`filters.neighbour_languages`: "Starší pán sedí na
    lavičke pri fontáne." is Czech at 0.42 and Slovak at 0.40, and "pri" is Slovak); 0 turns
    this off. Where such a language is the best guess and no allowed language scores
    `unsure_allowed_score`, the function words it shares with its neighbours ("na", "u", "и",
    "de", "en") do not count as an allowed language's ("Deda čita novine na klupi." is Serbian
    at 0.66). Above `exempt_words`, a text is rejected too when its words are a language outside
    `allow` by their frequencies in each language (`filters.word_frequencies`, the `wordfreq`
    package's lists): that language beats every allowed one by `word_frequency_margin` Zipf per
    word on average (0 turns this off), with more common words of its own than of the best allowed
    one, where lid.176's top `top_k` languages outside `allow` score `word_frequency_min_foreign`
    or more together ("Zasnežené štíty Vysokých Tatier nad horským plesom." is Czech at 0.58 to
    lid.176, and its words are Slovak ones). A text whose top language (allowed or not) scores under
    `unplaced_top_score` (0: off) is rejected when none of its words is in an allowed language's list
    and it has four words of letters or more, two of them in lowercase (not a run of names): a
    language lid.176 does not know ("Abafana bagibela amahhashi emaphandleni.", Zulu, is Indonesian
    at 0.25); or, under a top language that is not allowed, when it has five such words or more and
    fewer than half of them are in those lists ("Feles alba in fenestra dormit.", Latin).
    """

    allow: tuple[str, ...] | None = DEFAULT_LANGUAGES
    min_score: float = Field(default=0.5, ge=0.0, le=1.0)
    short_min_score: float = Field(default=0.9, ge=0.0, le=1.0)
    exempt_words: int = Field(default=3, ge=0, le=10_000)
    unsure_top_score: float = Field(default=0.35, ge=0.0, le=1.0)
    unsure_allowed_score: float = Field(default=0.1, ge=0.0, le=1.0)
    foreign_total_score: float = Field(default=0.5, ge=0.0, le=1.0)
    foreign_total_allowed_score: float = Field(default=0.3, ge=0.0, le=1.0)
    long_words: int = Field(default=10, ge=1, le=100_000)
    min_allowed_score: float = Field(default=0.2, ge=0.0, le=1.0)
    uncertain_min_words: int = Field(default=6, ge=1, le=100_000)
    top_k: int = Field(default=5, ge=1, le=50)
    unspaced_chars_per_word: float = Field(default=4.0, gt=0.0, le=100.0)
    foreign_script_min_letters: int = Field(default=2, ge=0, le=10_000)
    foreign_letter_score: float = Field(default=0.4, ge=0.0, le=1.0)
    neighbour_min_score: float = Field(default=0.1, ge=0.0, le=1.0)
    word_frequency_margin: float = Field(default=1.25, ge=0.0, le=20.0)
    word_frequency_min_foreign: float = Field(default=0.05, ge=0.0, le=1.0)
    unplaced_top_score: float = Field(default=0.6, ge=0.0, le=1.0)
    short_foreign_score: float = Field(default=0.4, ge=0.0, le=1.0)
    macro_languages: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_MACRO_LANGUAGES))

    @field_validator("macro_languages")
    @classmethod
    def _macro(cls, v: dict[str, str]) -> dict[str, str]:
        bad = [f"{k}: {m}" for k, m in v.items() if not _LANG.match(k) or not _LANG.match(m)]
        if bad:
            raise ValueError(f"language codes are 2-3 lowercase letters; got {bad!r}")
        return dict(sorted(v.items()))

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
    file_name: FileNameRule = FileNameRule()
    url: UrlRule = UrlRule()
    boilerplate: BoilerplateRule = BoilerplateRule()
    refusal: RefusalRule = RefusalRule()
    code: CodeRule = CodeRule()
    camera_settings: CameraSettingsRule = CameraSettingsRule()
    date_only: DateOnlyRule = DateOnlyRule()
    no_letters: NoLettersRule = NoLettersRule()
    digit_run: DigitRunRule = DigitRunRule()
    keyword_list: KeywordListRule = KeywordListRule()
    special_chars: SpecialCharsRule = SpecialCharsRule()
    too_short: TooShortRule = TooShortRule()
    repeated_words: RepeatedWordsRule = RepeatedWordsRule()
    stutter: StutterRule = StutterRule()
    tail_repetition: TailRepetitionRule = TailRepetitionRule()
    sentence_repetition: SentenceRepetitionRule = SentenceRepetitionRule()
    ngram_repetition: NgramRepetitionRule = NgramRepetitionRule()
    remark: RemarkRule = RemarkRule()
    language: LanguageRule = LanguageRule()
    learned_junk: LearnedJunkRule = LearnedJunkRule()
    image_unreadable: ImageUnreadableRule = ImageUnreadableRule()
    image_too_small: ImageTooSmallRule = ImageTooSmallRule()
    image_too_large: ImageTooLargeRule = ImageTooLargeRule()
    aspect_ratio: AspectRatioRule = AspectRatioRule()
    animated: AnimatedRule = AnimatedRule()
    compression: CompressionRule = CompressionRule()
    blank: BlankRule = BlankRule()


class FilterConfig(ConfigSection):
    enabled: bool = True
    # Tasks whose assistant text is repaired and judged by the caption rules. Image rules apply to
    # every task.
    tasks: tuple[str, ...] = ("caption",)
    clean: CleanConfig = CleanConfig()
    rules: RulesConfig = RulesConfig()
    scorers: ScorersConfig = ScorersConfig()
