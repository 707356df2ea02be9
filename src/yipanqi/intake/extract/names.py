"""The general vocabulary of agency names in Chinese 政法 writing, as data: the words that end an agency's name and
what they mean ("高院" → the court at province level, "检察一分院" → the procuratorate's first branch), the
one-character abbreviations of the 34 provinces ("川" → 四川省, "沪" → 上海市), the region placeholders that stand for
"this text's province / city" ("省委政法委", "市中院"), count words ("两地", "五市", "三省一市"), the endings of
agency-like names the directory may not hold, and the national agencies (not in the regional directory).

Nothing here is specific to one text: ``agencies.py`` combines these rules with the directory's names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The provinces' one-character abbreviations (简称), with the region codes of GB/T 2260; 蜀 贵 云 秦 陇 are the
# second abbreviations of 四川 贵州 云南 陕西 甘肃.
PROVINCE_ABBREVIATIONS: dict[str, str] = {
    "京": "110000",
    "津": "120000",
    "冀": "130000",
    "晋": "140000",
    "蒙": "150000",
    "辽": "210000",
    "吉": "220000",
    "黑": "230000",
    "沪": "310000",
    "苏": "320000",
    "浙": "330000",
    "皖": "340000",
    "闽": "350000",
    "赣": "360000",
    "鲁": "370000",
    "豫": "410000",
    "鄂": "420000",
    "湘": "430000",
    "粤": "440000",
    "桂": "450000",
    "琼": "460000",
    "渝": "500000",
    "川": "510000",
    "蜀": "510000",
    "黔": "520000",
    "贵": "520000",
    "滇": "530000",
    "云": "530000",
    "藏": "540000",
    "陕": "610000",
    "秦": "610000",
    "甘": "620000",
    "陇": "620000",
    "青": "630000",
    "宁": "640000",
    "新": "650000",
    "台": "710000",
    "港": "810000",
    "澳": "820000",
}

# Abbreviations that name their province even alone before an agency word ("渝检察院"); the others are common
# characters of their own ("新法院" is a new court, "青" "云" "吉" …) and count only in a run of two or more ("云贵川").
ABBREVIATIONS_ALONE = frozenset("京津冀晋辽沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川黔滇陕陇")


@dataclass(frozen=True)
class AgencyWord:
    """A word that ends an agency's name. ``level``: the level the agency must have ("" = the level of the region
    it follows); ``rank``: the branch number (第一中级人民法院 → 1); ``confidence`` when the text is not the
    directory's name itself; ``generic``: it names a region's system as much as one agency ("四川法院");
    ``contextual``: it may stand without a region, which then comes from the context ("公安厅", "高院")."""

    text: str
    type: str
    level: str = ""
    rank: int = 0
    confidence: float = 0.9
    generic: bool = False
    contextual: bool = False
    suffix: bool = False  # the agency's name ends with it (公安厅 is no 公安局): checked when the region is a guess
    # it names agencies only after several regions or a count ("三省一市公安机关", "川渝检察机关"); after one region
    # it is that region's system, no single agency ("上海市检察机关")
    collective: bool = False


_NUMERALS = "一二三四五六七八九十"


def _numbered(template: str, type_: str, level: str, confidence: float) -> list[AgencyWord]:
    return [
        AgencyWord(template.format(n=numeral), type_, level, rank, confidence)
        for rank, numeral in enumerate(_NUMERALS, start=1)
    ]


def _agency_words() -> dict[str, AgencyWord]:
    words = [
        # courts
        AgencyWord("高级人民法院", "court", "province", confidence=1.0, contextual=True),
        AgencyWord("高级法院", "court", "province", contextual=True),
        AgencyWord("高院", "court", "province", contextual=True),
        AgencyWord("中级人民法院", "court", "city", confidence=1.0),
        AgencyWord("中级法院", "court", "city"),
        AgencyWord("中院", "court", "city"),
        AgencyWord("人民法院", "court", confidence=1.0),
        AgencyWord("法院", "court", confidence=0.85, generic=True),
        *_numbered("第{n}中级人民法院", "court", "city", 1.0),
        *_numbered("第{n}中级法院", "court", "city", 0.9),
        *_numbered("第{n}中院", "court", "city", 0.9),
        *_numbered("{n}中院", "court", "city", 0.9),
        # procuratorates
        AgencyWord("人民检察院", "procuratorate", confidence=1.0),
        AgencyWord("检察院", "procuratorate"),
        *_numbered("人民检察院第{n}分院", "procuratorate", "city", 1.0),
        *_numbered("检察院第{n}分院", "procuratorate", "city", 0.9),
        *_numbered("检察院{n}分院", "procuratorate", "city", 0.9),
        *_numbered("检察{n}分院", "procuratorate", "city", 0.9),
        *_numbered("检{n}分院", "procuratorate", "city", 0.9),
        # public security and justice administration (厅 at province level, 局 below and in the 直辖市)
        AgencyWord("公安厅", "police", "province", confidence=1.0, contextual=True, suffix=True),
        AgencyWord("公安局", "police", confidence=1.0, suffix=True),
        AgencyWord("公安分局", "police", "county"),
        AgencyWord("司法厅", "justice", "province", confidence=1.0, contextual=True, suffix=True),
        AgencyWord("司法局", "justice", confidence=1.0, suffix=True),
        # 党委政法委: after a region written with its suffix ("四川省" + "委政法委员会"), or after its party
        # committee ("四川省委" is split as 四川省 + 委…), or as 政法委 of a region
        AgencyWord("委政法委员会", "committee", confidence=1.0),
        AgencyWord("委政法委", "committee"),
        AgencyWord("党委政法委员会", "committee"),
        AgencyWord("党委政法委", "committee", contextual=True),
        AgencyWord("政法委员会", "committee"),
        AgencyWord("政法委", "committee", contextual=True),
        # directly administered bodies and associations, usually at province level
        AgencyWord("监狱管理局", "prison", confidence=1.0),
        AgencyWord("监狱局", "prison"),
        AgencyWord("戒毒管理局", "rehab", confidence=1.0),
        AgencyWord("戒毒局", "rehab"),
        AgencyWord("律师协会", "lawyers", confidence=1.0),
        AgencyWord("律协", "lawyers"),
        AgencyWord("公证协会", "notaries", confidence=1.0),
        AgencyWord("公证员协会", "notaries"),
        AgencyWord("司法鉴定协会", "forensic", confidence=1.0),
        AgencyWord("司法鉴定人协会", "forensic"),
        AgencyWord("仲裁委员会", "arbitration", confidence=1.0),
        AgencyWord("仲裁委", "arbitration"),
        AgencyWord("人民调解员协会", "mediation", confidence=1.0),
        AgencyWord("调解员协会", "mediation"),
        # the systems of several regions ("三省一市公安机关", "渝鄂湘三地检察机关"): each region's agency of that
        # type at the region's level stands for its system
        AgencyWord("公安机关", "police", confidence=0.8, generic=True, collective=True),
        AgencyWord("检察机关", "procuratorate", confidence=0.8, generic=True, collective=True),
        AgencyWord("审判机关", "court", confidence=0.8, generic=True, collective=True),
        AgencyWord("司法行政机关", "justice", confidence=0.8, generic=True, collective=True),
    ]
    return {word.text: word for word in words}


AGENCY_WORDS: dict[str, AgencyWord] = _agency_words()
# Longest first, grouped by first character, for matching at a position.
AGENCY_WORDS_BY_FIRST: dict[str, tuple[AgencyWord, ...]] = {}
for _word in sorted(AGENCY_WORDS.values(), key=lambda w: -len(w.text)):
    AGENCY_WORDS_BY_FIRST.setdefault(_word.text[0], ())
    AGENCY_WORDS_BY_FIRST[_word.text[0]] += (_word,)


def agency_word_at(text: str, position: int) -> AgencyWord | None:
    """The longest agency word starting at ``position`` of ``text``."""
    if position >= len(text):
        return None
    for word in AGENCY_WORDS_BY_FIRST.get(text[position], ()):
        if text.startswith(word.text, position):
            return word
    return None


def agency_word_ending_at(text: str, end: int) -> AgencyWord | None:
    """An agency word ending at ``end`` of ``text`` (the longest)."""
    for word in sorted(AGENCY_WORDS.values(), key=lambda w: -len(w.text)):
        if end >= len(word.text) and text.endswith(word.text, 0, end):
            return word
    return None


# Region placeholders: "省委政法委", "市中院", "区检察院" stand for the province (city, district …) the text is about.
# Each says which regions it can stand for: (level, kind) → bool.
PLACEHOLDERS = {
    "省": lambda level, kind: level == "province" and kind == "省",
    "市": lambda level, kind: kind in ("直辖市", "地级市", "县级市"),
    "区": lambda level, kind: kind in ("市辖区", "自治区"),
    "县": lambda level, kind: kind in ("县", "自治县"),
    "州": lambda level, kind: kind == "自治州",
    "旗": lambda level, kind: kind in ("旗", "自治旗"),
}
# "我省公安厅", "本市检察院": the text's own province or city.
OWN_PREFIXES = frozenset("我本该")
# "各省高院", "全市法院", "外省公安厅", "兄弟省市": not one agency.
GENERIC_PREFIXES = frozenset("各全外每多跨诸两三四五六七八九十几省市县区地")

# Counts of regions before an agency word: "两地", "五市", "三省一市", "沪苏浙三地".
_COUNT_NUMERAL = r"(?:[一二两三四五六七八九十]{1,3}|\d{1,2})"
COUNT_WORD = re.compile(rf"(?:{_COUNT_NUMERAL}个?(?:省区市|省市区|省市|省区|区县|县区|省|市|地|区|县|州|盟|旗))+")
_COUNT_PART = re.compile(rf"({_COUNT_NUMERAL})个?(省区市|省市区|省市|省区|区县|县区|省|市|地|区|县|州|盟|旗)")
# What a count's unit says about the level of the regions counted (a preference; None: any level).
COUNT_UNIT_LEVELS = {"省": "province", "市": "city", "地": None, "区": None, "县": "county", "州": "city", "盟": "city"}
# Written between a group of regions and the agency word: "川渝地区法院", "长三角区域检察机关".
AREA_WORDS = ("地区", "区域", "两地", "三地", "四地")


def chinese_number(text: str) -> int | None:
    """1–99 written in digits or Chinese numerals ("两" = 2, "十二", "二十")."""
    if text.isdigit():
        return int(text)
    digits = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"两": 2}
    if "十" in text:
        tens, _, units = text.partition("十")
        if (tens and tens not in digits) or (units and units not in digits):
            return None
        return (digits[tens] if tens else 1) * 10 + (digits[units] if units else 0)
    if len(text) == 1 and text in digits:
        return digits[text]
    return None


def count_of(word: str) -> tuple[int, str] | None:
    """The number of regions a count word names and the unit of its last part ("三省一市" → (4, "市"))."""
    total, unit = 0, ""
    for match in _COUNT_PART.finditer(word):
        number = chinese_number(match.group(1))
        if number is None:
            return None
        total += number
        unit = match.group(2)[-1]
    return (total, unit) if total else None


# Endings of agency-like names: a region followed by a few characters and one of these is reported even when the
# directory does not hold it ("重庆市教育矫治局" …, with agency_id None).
AGENCY_LIKE_ENDINGS = (
    "人民法院",
    "法院",
    "法庭",
    "人民检察院",
    "检察院",
    "检察分院",
    "公安局",
    "公安厅",
    "公安分局",
    "司法局",
    "司法厅",
    "委员会",
    "协会",
    "管理局",
    "监狱",
    "戒毒所",
    "看守所",
    "派出所",
)
AGENCY_LIKE = re.compile("(?:" + "|".join(sorted(AGENCY_LIKE_ENDINGS, key=len, reverse=True)) + ")")
# Looser endings of an institution's name, accepted only when a known agency follows in parentheses: "重庆市教育
# 矫治局(市戒毒管理局)".
INSTITUTION_ENDINGS = ("局", "厅", "院", "委", "会", "所", "处", "署", "中心", "办公室")
# Characters that do not occur inside an agency's name but between two names ("重庆市委宣传部和市公安局").
NOT_IN_NAMES = frozenset("和与及同在的向对把将等为是了并或以从于、，,。；;：:！!？?“”\"'‘’《》()（）[]【】 \t")
MAX_NAME_MIDDLE = 10  # characters between the region and the ending of an agency-like name


def guess_type(name: str) -> str:
    """The agency type an unknown name's ending suggests ("" when none)."""
    for ending, type_ in (
        ("检察", "procuratorate"),
        ("法院", "court"),
        ("法庭", "court"),
        ("公安", "police"),
        ("政法委", "committee"),
        ("司法厅", "justice"),
        ("司法局", "justice"),
        ("司法部", "justice"),
        ("监狱", "prison"),
        ("戒毒", "rehab"),
        ("律师协会", "lawyers"),
        ("公证", "notaries"),
        ("司法鉴定", "forensic"),
        ("仲裁", "arbitration"),
        ("调解", "mediation"),
    ):
        if ending in name:
            return type_
    return ""


# National agencies: not in the regional directory, reported with agency_id None. Short form → (full name, type).
NATIONAL_AGENCIES = {
    "最高人民法院": ("最高人民法院", "court"),
    "最高法院": ("最高人民法院", "court"),
    "最高法": ("最高人民法院", "court"),
    "最高人民检察院": ("最高人民检察院", "procuratorate"),
    "最高检察院": ("最高人民检察院", "procuratorate"),
    "最高检": ("最高人民检察院", "procuratorate"),
    "公安部": ("公安部", "police"),
    "司法部": ("司法部", "justice"),
    "中共中央政法委员会": ("中共中央政法委员会", "committee"),
    "中央政法委员会": ("中共中央政法委员会", "committee"),
    "中央政法委": ("中共中央政法委员会", "committee"),
}
