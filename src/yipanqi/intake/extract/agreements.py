"""Agreements, schemes and minutes named in the text, with their kind, parties, action and date.

Mentions:

- titles in 《》 (also 〈〉, and “…协议” in quotes), except laws, newspapers and books; titles next to each other
  ("审议通过了《A》《B》") share their verb and parties;
- agreements only described ("四川省高院、重庆市高院签署知识产权司法保护交流合作协议", "…联合签署协议，建立…机制"):
  the object of a signing verb that ends in 协议 / 协定 / 备忘录 / 纪要, unless it is announced ("将签署"), counted
  ("签订12项合作协议") or plural ("一系列合作协议").

For each mention: the ``action`` is the verb before the title (签订 / 签署 → "签署", 审议通过, 印发, 出台, 发布 …) or
after it ("《…》签订以来"); the ``kind`` comes from the title's ending; the parties are the agencies named in the clause
before the verb ("A与B签订了《…》"; "A与B、C与D分别签订了《X》" gives one agreement per pair), found with
``agencies.within`` and, for the names it does not cover, ``agencies.resolve`` on the names split at 与 / 和 / 、 / 及
("广安、广元…五市检察院" lends its type to every city); region abbreviations with a type ("沪苏浙皖政法委书记")
name one agency per region; "四地 / 三省一市 + type" takes the agencies of that type named in the text; "会议审议通过",
"两院会签", "双方签署" take the agencies that held the meeting told of before ("A、B举行了…会议"); a verb without a
subject ("…座谈会在合肥召开，签署《…》") takes the directory agencies named in the subject of the clause before. The
``date`` is the nearest date before the mention in its paragraph ("4月23日，…签署"; "近日" gives an approximate date
with a warning); an agreement signed at a ceremony or meeting described earlier takes that one's date.

A title mentioned again, or by its short name ("(以下简称《会议纪要》)", or the end of a title named before), is
one agreement with the parties of all its mentions.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from ..draft import AgencyRef, Agreement
from . import agencies
from .dates import DateMention, find_dates, headline

# ---------------------------------------------------------------------------------------------------------------
# Titles and kinds

_TITLE = re.compile(
    r"《(?P<angle>[^《》\n]{2,120})》|〈(?P<single>[^〈〉\n]{2,120})〉"
    r"|“(?P<quoted>[^“”《》\n]{4,80}?(?:协议书|协议|协定|备忘录|纪要))”"
)
_NOT_AGREEMENT = re.compile(
    r"(?:^中华人民共和国.*法$"  # laws
    r"|(?<![办方做想说用手技])法(?:典)?$|(?:条例|宪法|法案|司法解释)$"
    r"|(?<![通简情汇年公捷喜])报$|(?:杂志|周刊|月刊|期刊|画刊|文摘)$"  # newspapers and periodicals
    r"|(?:全集|选集|文集|文选|读本|词典|辞典|年鉴|丛书|教材|教程|谈治国理政|语录)"  # books
    r"|(?:白皮书|蓝皮书|报告|状况|典型案例|案例选|案例集)$)"  # reports and case collections
)
# Written right after a title: what the title names is a report ("《…状况(2023年)》白皮书").
_REPORT_AFTER = re.compile(r"\s*(?:白皮书|蓝皮书|报告|年报)")
_TRAILING_NOTE = re.compile(r"\s*[(][^()]{1,10}[)]$")  # "(试行)", "(草案)"


def kind_of(title: str) -> str:
    """The ledger ``AgreementKind`` value a title's ending suggests."""
    core = _TRAILING_NOTE.sub("", title).strip()
    if re.search(r"框架(?:协议书?|协定)$|合作框架$", core):
        return "framework"
    if core.endswith("纪要"):
        return "minutes"
    if core.endswith("备忘录"):
        return "memorandum"
    if re.search(r"行动(?:计划|方案)$", core) or core.endswith("计划"):
        return "action"
    if core.endswith("方案"):
        return "implementation"
    if re.search(r"(?:协议书?|协定|合同)$", core):
        return "cooperation"
    return "other"


def is_agreement_title(title: str) -> bool:
    """Whether a title in 《》 can name an agreement (not a law, a newspaper or a book)."""
    core = _TRAILING_NOTE.sub("", title).strip()
    return bool(core) and not _NOT_AGREEMENT.search(core)


# ---------------------------------------------------------------------------------------------------------------
# Verbs

_VERB_BEFORE = re.compile(
    r"(?P<verb>共同签署|联合签署|签订|签署|签定|共签|会签|缔结|形成|审议通过|审核通过|讨论通过|表决通过|通过|审议|联合印发|印发|"
    r"联合出台|出台|联合发布|发布|制定|制发|拟定|修订|落实|对照|执行|实施|贯彻|学习|解读)"
    r"(?P<gap>了|的|过)?\s*(?:一份|一项|两份|三份)?\s*$"
)
_VERB_AFTER = re.compile(r"\s*(?:的)?(?:正式|顺利)?(?P<verb>签订|签署|审议通过|通过|印发|出台|发布)")
_ACTIONS = {
    "签订": "签署",
    "签署": "签署",
    "签定": "签署",
    "共签": "签署",
    "会签": "签署",
    "形成": "形成",
    "缔结": "签署",
    "共同签署": "签署",
    "联合签署": "签署",
    "审议通过": "审议通过",
    "审核通过": "审议通过",
    "讨论通过": "审议通过",
    "表决通过": "审议通过",
    "通过": "审议通过",
    "审议": "审议",
    "印发": "印发",
    "联合印发": "印发",
    "出台": "出台",
    "联合出台": "出台",
    "发布": "发布",
    "联合发布": "发布",
    "制定": "制定",
    "制发": "印发",
    "拟定": "拟定",
    "修订": "修订",
}
_ACTION_STRENGTH = {"签署": 3, "审议通过": 2}
_FUTURE = re.compile(r"(?:将|拟|计划|准备|即将|有望|打算)")
_DESCRIBED = re.compile(
    r"(?P<verb>签订|签署|签定|共签|缔结)了?\s*"
    r"(?P<object>[^,。;:!?、《》“”()\s\d]{0,40}?(?:框架协议|合作协议|协议书|协议|协定|备忘录|会议纪要|纪要))"
)
_COUNTED_OBJECT = re.compile(
    r"^(?:[一二两三四五六七八九十百几多数若干]+[份项个批]|一系列|系列|多项|各类|各项|相关|有关)"
)
_COUNT_AFTER = re.compile(r"\s*(?:\d+|[一二两三四五六七八九十百]+)\s*[份项个]")
_MECHANISM_AFTER = re.compile(
    r"\s*[,]?\s*(?:共同|联合|正式)?(?:建立|构建|建成|形成|成立|搭建)(?:了)?"
    r"(?P<mechanism>[^,。;:!?]{2,40}?(?:机制|体系|平台|制度|联盟))"
)
_ALIAS_AFTER = re.compile(r"\s*\(\s*(?:以下)?简称\s*[《“]?(?P<alias>[^》”)]{1,20})[》”]?\s*\)")

# ---------------------------------------------------------------------------------------------------------------
# Parties

# The 简称 of the province-level regions: full name and whether it is a 直辖市 (police and justice are 局 there).
_PROVINCES = {
    "京": ("北京市", True),
    "津": ("天津市", True),
    "沪": ("上海市", True),
    "渝": ("重庆市", True),
    "冀": ("河北省", False),
    "晋": ("山西省", False),
    "蒙": ("内蒙古自治区", False),
    "辽": ("辽宁省", False),
    "吉": ("吉林省", False),
    "黑": ("黑龙江省", False),
    "苏": ("江苏省", False),
    "浙": ("浙江省", False),
    "皖": ("安徽省", False),
    "闽": ("福建省", False),
    "赣": ("江西省", False),
    "鲁": ("山东省", False),
    "豫": ("河南省", False),
    "鄂": ("湖北省", False),
    "湘": ("湖南省", False),
    "粤": ("广东省", False),
    "桂": ("广西壮族自治区", False),
    "琼": ("海南省", False),
    "川": ("四川省", False),
    "蜀": ("四川省", False),
    "黔": ("贵州省", False),
    "贵": ("贵州省", False),
    "滇": ("云南省", False),
    "云": ("云南省", False),
    "藏": ("西藏自治区", False),
    "陕": ("陕西省", False),
    "秦": ("陕西省", False),
    "甘": ("甘肃省", False),
    "陇": ("甘肃省", False),
    "青": ("青海省", False),
    "宁": ("宁夏回族自治区", False),
    "新": ("新疆维吾尔自治区", False),
}
# Type words as the text writes them → (AgencyRef.type, how to name a province's agency of that type).
_TYPE_WORDS = [
    ("党委政法委", "committee"),
    ("政法委", "committee"),
    ("高级人民法院", "court"),
    ("高院", "court"),
    ("法院", "court"),
    ("人民检察院", "procuratorate"),
    ("检察院", "procuratorate"),
    ("检察机关", "procuratorate"),
    ("公安厅", "police"),
    ("公安局", "police"),
    ("公安机关", "police"),
    ("公安部门", "police"),
    ("警方", "police"),
    ("司法厅", "justice"),
    ("司法局", "justice"),
    ("司法行政机关", "justice"),
    ("司法行政部门", "justice"),
    ("监狱管理局", "prison"),
    ("戒毒管理局", "rehab"),
    ("律师协会", "lawyers"),
    ("律协", "lawyers"),
    ("公证协会", "notaries"),
    ("司法鉴定协会", "forensic"),
]
_TYPE_PATTERN = "|".join(word for word, _type in _TYPE_WORDS)
_TYPE_OF = dict(_TYPE_WORDS)
_PEOPLE_AFTER_TYPE = r"(?:书记|副书记|领导|负责人|负责同志|主要负责同志|代表|院长|检察长|厅长|局长|会长)?"
_ABBREVIATIONS = re.compile(
    rf"^(?P<abbreviations>[{''.join(_PROVINCES)}]{{2,8}})(?:\([^()]*\))?\s*"
    rf"(?:[两二三四五六七八九十]地|[两二三四五六七八九十]省[一二两三]?市?|各地|等地)?\s*"
    rf"(?P<type>{_TYPE_PATTERN}){_PEOPLE_AFTER_TYPE}$"
)
_COLLECTIVE = re.compile(
    r"^(?:(?P<count>[两二三四五六七八九十])(?:地|方|省|市|院|家单位|家|个单位|部门)(?:(?P<extra>[一二两三四五])(?:市|省))?"
    r"|双方|各方|与会各方|各地)"
    rf"\s*(?P<type>{_TYPE_PATTERN})?{_PEOPLE_AFTER_TYPE}$"
)
_DISTRIBUTED = re.compile(
    r"^(?P<place>[\u4e00-\u9fff]{2,8}?)(?P<count>[两二三四五六七八九十]+)(?P<unit>市|县|区|省|州|地|家)(?P<type>[\u4e00-\u9fff]{2,12})$"
)
_AGENCY_ENDING = re.compile(
    r"(?:院|局|厅|委|会|所|中心|办|处|部|队|庭|室|协会|委员会|政府|机关|分院|分局|支队|大队|警方|高院|中院)$"
)
_BULLET_CHARS = "✍➤•·●○◆◇■□▪▶►★☆✓✔➢➣❖◎※▸◉"
_NOT_AN_AGENCY = re.compile(r"会议|座谈会|联席会|仪式|书记|论坛|研讨会|大会")
_MEETING_WORDS = re.compile(r"会议|会上|座谈会|联席会|会商会|与会")
_PREDICATE = re.compile(r"(?:在|于)[^,]{1,15}?(?:召开|举行|举办)|召开|举行|举办|共同|联合|分别|围绕|出席")
_MEETING_HELD = re.compile(r"(?:举行|召开|举办|主持召开|共同召开)了?")
_LEADING_WORDS = re.compile(
    rf"^(?:[\s{_BULLET_CHARS}]|期间|此外|同时|另外|会上|会后|其中|随后|当天|当日|近日|日前|今天|昨天|近期|近来|根据|依据|按照|经过?|由|自|并|还|在此基础上)+"
)
_TRAILING_WORDS = re.compile(
    r"(?:\s|还|也|已|已经|均|都|共同|联合|分别|正式|今天|当天|当日|日前|近日|一起|先后|再次|首次|又|将|拟|计划|"
    r"在[^与和、,]{1,12}|于[^与和、,]{1,12}|就[^与和、,]{1,20}|代表[^与和、,]{0,12})+$"
)
_PARENTHESIS = re.compile(r"\([^()]*\)")

# ---------------------------------------------------------------------------------------------------------------
# Dates

_EVENT_WORDS = re.compile(r"会议|会上|仪式|签约")
_EVENT_WITH_DATE = re.compile(r"签约|签署|签订|签字|仪式|会议|座谈会|联席会")


@dataclass
class _Mention:
    title: str
    start: int  # offsets in text.simple
    end: int
    quoted: bool
    action: str = ""
    future: bool = False
    parties: list[AgencyRef] = field(default_factory=list)
    date: str = ""
    date_warnings: list[str] = field(default_factory=list)
    confidence: float = 0.0
    warnings: list[str] = field(default_factory=list)


def find(context) -> list[Agreement]:
    simple = context.text.simple
    lines = context.text.content()
    dates = find_dates(context)
    aliases: dict[str, str] = {}
    mentions: list[_Mention] = []
    covered: list[tuple[int, int]] = []
    for line_index, line in enumerate(lines):
        for group in _title_groups(simple, line.start, line.end):
            covered.extend((start, end) for _title, start, end, _quoted in group)
            for title, _start, end, _quoted in group:
                alias = _ALIAS_AFTER.match(simple, end, min(end + 30, line.end))
                if alias:
                    aliases.setdefault(alias.group("alias").strip(), title)
            mentions.extend(_quoted_mentions(context, lines, line_index, group, dates))
        mentions.extend(_described_mentions(context, lines, line_index, covered, dates))
    own = _own_agreement(context, lines, dates)
    if own is not None:
        mentions.append(own)
    mentions.sort(key=lambda mention: mention.start)
    title = headline(context)
    headline_end = context.text.span(0, title[2])[1] if title else 0
    return _absorb_descriptions(_merge(context, mentions, aliases), headline_end)


# ---------------------------------------------------------------------------------------------------------------
# Mentions


def _title_groups(simple: str, start: int, end: int) -> list[list[tuple[str, int, int, bool]]]:
    """Titles in ``simple[start:end]``, those next to each other ("《A》《B》", "《A》、《B》和《C》") in one group."""
    groups: list[list[tuple[str, int, int, bool]]] = []
    previous_end = -1
    for match in _TITLE.finditer(simple, start, end):
        title = (match.group("angle") or match.group("single") or match.group("quoted") or "").strip()
        quoted_only = match.group("quoted") is not None
        if not is_agreement_title(title) or _REPORT_AFTER.match(simple, match.end()):
            previous_end = -1
            continue
        item = (_SPACES.sub(" ", title), match.start(), match.end(), quoted_only)
        if (
            groups
            and previous_end >= 0
            and re.fullmatch(r"\s*(?:、|,|和|及|以及|与|或)?\s*", simple[previous_end : match.start()])
        ):
            groups[-1].append(item)
        else:
            groups.append([item])
        previous_end = match.end()
    return groups


_SPACES = re.compile(r"\s+")


def _sentence_start(simple: str, line_start: int, position: int) -> int:
    return max(max(simple.rfind(mark, line_start, position) for mark in "。!?;") + 1, line_start)


def _clause_start(simple: str, sentence_start: int, position: int) -> int:
    """Where the clause holding ``position`` starts: after the last comma, colon or dash outside parentheses."""
    depth = 0
    for index in range(position - 1, sentence_start - 1, -1):
        char = simple[index]
        if char == ")":
            depth += 1
        elif char == "(":
            depth = max(depth - 1, 0)
        elif depth == 0 and (char in ",:" or simple.startswith("——", index)):
            return index + (2 if simple.startswith("——", index) else 1)
    return sentence_start


def _quoted_mentions(context, lines, line_index: int, group, dates) -> list[_Mention]:
    simple = context.text.simple
    line = lines[line_index]
    first_start, last_end = group[0][1], group[-1][2]
    sentence_start = _sentence_start(simple, line.start, first_start)
    clause_start = _clause_start(simple, sentence_start, first_start)
    before = simple[clause_start:first_start]
    verb = _VERB_BEFORE.search(before)
    action, parties_end, passive = "", clause_start, False
    if verb:
        action = _ACTIONS.get(verb.group("verb"), "")
        parties_end = clause_start + verb.start()
    else:
        after = _VERB_AFTER.match(simple, last_end, min(last_end + 10, line.end))
        if after:
            action, passive = _ACTIONS.get(after.group("verb"), ""), True
    future = bool(_FUTURE.search(simple[clause_start:parties_end]))
    groups, party_warnings, party_confidence = [], [], 0.0
    if action and not passive:
        groups, party_warnings, party_confidence = _parties(
            context, lines, line_index, clause_start, parties_end, dates
        )
    date, date_warnings = _date_for(context, lines, line_index, first_start, dates)
    mentions = []
    for parties in groups or [[]]:
        for title, start, end, quoted_only in group:
            mention = _Mention(title=title, start=start, end=end, quoted=True, action=action, future=future)
            mention.parties = list(parties)
            mention.date, mention.date_warnings = date, list(date_warnings)
            mention.warnings = list(party_warnings)
            if action in ("签署", "审议通过", "印发", "出台", "发布"):
                mention.confidence = 0.9 if parties else 0.7
                if parties and party_confidence:
                    mention.confidence = min(mention.confidence, party_confidence)
            elif action:
                mention.confidence = 0.6
            else:
                mention.confidence = 0.4
            if quoted_only:
                mention.confidence = round(mention.confidence - 0.1, 2)
            if future:
                mention.confidence = round(max(mention.confidence - 0.2, 0.2), 2)
                mention.warnings.append(_("Announced, not yet done."))
            mentions.append(mention)
    return mentions


def _described_mentions(context, lines, line_index: int, covered, dates) -> list[_Mention]:
    """Agreements only described: the object of a signing verb ("签署知识产权司法保护交流合作协议")."""
    simple = context.text.simple
    line = lines[line_index]
    mentions = []
    for match in _DESCRIBED.finditer(simple, line.start, line.end):
        start, end = match.span("object")
        if any(s < end and start < e for s, e in covered):
            continue
        title = match.group("object")
        if _COUNTED_OBJECT.match(title) or _COUNT_AFTER.match(simple, end, min(end + 6, line.end)):
            continue  # "签订12项合作协议", "一系列合作协议": a count, not one agreement
        sentence_start = _sentence_start(simple, line.start, match.start())
        clause_start = _clause_start(simple, sentence_start, match.start())
        if _FUTURE.search(simple[clause_start : match.start()]):
            continue  # "还将签署合作协议": not signed yet
        warnings: list[str] = []
        confidence = 0.7
        if title in ("协议", "协议书", "协定"):
            mechanism = _MECHANISM_AFTER.match(simple, end, min(end + 60, line.end))
            if mechanism:
                title = mechanism.group("mechanism") + "协议"
                warnings.append(_("Title made up from the mechanism the agreement sets up."))
            confidence = 0.5
        elif title in ("合作协议", "框架协议", "备忘录", "会议纪要", "纪要"):
            confidence = 0.6
        groups, party_warnings, party_confidence = _parties(
            context, lines, line_index, clause_start, match.start(), dates
        )
        date, date_warnings = _date_for(context, lines, line_index, match.start(), dates)
        for parties in groups or [[]]:
            mention = _Mention(title=title, start=start, end=end, quoted=False, action="签署")
            mention.parties = list(parties)
            mention.date, mention.date_warnings = date, list(date_warnings)
            mention.confidence = min(confidence, party_confidence) if party_confidence else confidence
            mention.warnings = [*warnings, *party_warnings]
            mentions.append(mention)
    return mentions


# ---------------------------------------------------------------------------------------------------------------
# Parties


@dataclass
class _Segment:
    """A name in the parties clause: ``simple[start:end]``, ``name`` to resolve (the text, or the type lent by a
    neighbour: "广安" → "广安市检察院"), ``alias`` = the span of a parenthesis after it ("(市戒毒管理局)")."""

    start: int
    end: int
    name: str
    group: int
    alias: tuple[int, int] | None = None


def _parties(
    context, lines, line_index: int, start: int, end: int, dates: list[DateMention]
) -> tuple[list[list[AgencyRef]], list[str], float]:
    """The parties named in ``simple[start:end]`` (the clause before the verb), as one list per agreement (several
    for "A与B、C与D分别签订"), with warnings and a confidence cap (0 when there is no cap)."""
    simple = context.text.simple
    clause = simple[start:end]
    respectively = "分别" in clause
    leading = _LEADING_WORDS.match(clause)
    if leading:
        start += leading.end()
    for date in dates:  # "4月23日，A与B…": a date opening the clause is no party
        if date.start == start:
            start = date.end
            while start < end and simple[start] in " ,":
                start += 1
    trailing = _TRAILING_WORDS.search(simple, start, end)
    if trailing and trailing.end() == end:
        end = trailing.start()
    if start >= end:
        return _parties_of_previous_clause(context, lines, line_index, start)
    text = simple[start:end]
    abbreviations = _ABBREVIATIONS.match(text)
    if abbreviations:  # before ``within``: "沪苏浙皖…政法委" is four agencies, not the one "政法委" of the context
        return [_parties_of_abbreviations(context, start, abbreviations)], [], 0.0
    refs = _refs_within(context, start, end)
    collective = _COLLECTIVE.match(text)
    if (collective or _MEETING_WORDS.search(text)) and not any(ref.agency_id for ref in refs):
        if collective and collective.group("type"):
            found, warnings = _parties_of_type(context, collective)
            return ([found] if found else []), warnings, 0.7
        found = _meeting_parties(context, lines, line_index, start)
        if found:
            return [found], [_("Parties taken from the meeting in the text.")], 0.7
        return [], [_("The parties could not be found.")], 0.0
    segments = _segments(simple, start, end, respectively)
    by_group: dict[int, list[AgencyRef]] = {}
    for segment in segments:
        for ref in _resolve_segment(context, segment, refs):
            by_group.setdefault(segment.group, []).append(ref)
    groups = [_unique(parties) for _group, parties in sorted(by_group.items())]
    groups = [parties for parties in groups if parties]
    if not respectively or len(groups) < 2 or any(len(parties) < 2 for parties in groups):
        groups = [_unique([ref for parties in groups for ref in parties])] if groups else []
    warnings = [] if groups else [_("The parties could not be found.")]
    warnings += _distribution_warnings(simple, segments)
    return groups, warnings, 0.0


def _parties_of_previous_clause(context, lines, line_index: int, position: int):
    """ "…座谈会召开，签署《…》": the verb has no subject in its clause; the agencies of the clause before, if any."""
    simple = context.text.simple
    line = lines[line_index]
    sentence_start = _sentence_start(simple, line.start, position)
    clause_end = position - 1
    while clause_end > sentence_start and simple[clause_end - 1] in " ,":
        clause_end -= 1
    clause_start = _clause_start(simple, sentence_start, clause_end)
    predicate = _PREDICATE.search(simple, clause_start, clause_end)
    if predicate:  # "A、B在天津召开…会议": the subject only
        clause_end = predicate.start()
    if clause_start >= clause_end:
        return [], [_("The parties could not be found.")], 0.0
    abbreviations = _ABBREVIATIONS.match(simple[clause_start:clause_end])
    if abbreviations:
        return [_parties_of_abbreviations(context, clause_start, abbreviations)], [], 0.7
    found = _unique([ref for ref in _refs_within(context, clause_start, clause_end) if ref.agency_id])
    if found:
        return [found], [], 0.7
    return [], [_("The parties could not be found.")], 0.0


def _parties_of_abbreviations(context, start: int, match: re.Match) -> list[AgencyRef]:
    """ "沪苏浙皖政法委": one agency of the type per region abbreviation, named the national way and resolved."""
    kind = _TYPE_OF[match.group("type")]
    parties = []
    for offset, char in enumerate(match.group("abbreviations")):
        province, municipality = _PROVINCES[char]
        name = _province_agency_name(province, municipality, kind)
        at = start + match.start("abbreviations") + offset
        parties.append(_resolve_name(context, name, at, at + 1))
    return _unique(parties)


def _province_agency_name(province: str, municipality: bool, kind: str) -> str:
    return {
        "committee": f"{province}{'党' if province.endswith('自治区') else ''}委政法委",
        "court": f"{province}高级人民法院",
        "procuratorate": f"{province}人民检察院",
        "police": f"{province}公安{'局' if municipality else '厅'}",
        "justice": f"{province}司法{'局' if municipality else '厅'}",
        "prison": f"{province}监狱管理局",
        "rehab": f"{province}戒毒管理局",
        "lawyers": f"{province}律师协会",
        "notaries": f"{province}公证协会",
        "forensic": f"{province}司法鉴定协会",
    }[kind]


def _parties_of_type(context, match: re.Match) -> tuple[list[AgencyRef], list[str]]:
    """ "四地政法委", "三省一市公安机关": the agencies of that type named in the text (province level first)."""
    kind = _TYPE_OF[match.group("type")]
    count = None
    if match.group("count"):
        count = _small_number(match.group("count")) + (
            _small_number(match.group("extra")) if match.group("extra") else 0
        )
    elif match.group(0).startswith("双方"):
        count = 2
    named = _unique([ref for ref in context.agencies if ref.type == kind and ref.agency_id])
    named.sort(key=lambda ref: not ref.region.endswith("0000"))  # stable: province level first, then text order
    found = named[:count] if count else named
    warnings = [_("Parties taken from the agencies named elsewhere in the text.")] if found else []
    if count and found and len(found) != count:
        warnings.append(_("%(count)s parties expected, %(found)s found.") % {"count": count, "found": len(found)})
    return found, warnings


def _small_number(text: str) -> int:
    return {"一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}.get(
        text, 0
    )


def _meeting_parties(context, lines, line_index: int, position: int) -> list[AgencyRef]:
    """The agencies that held the meeting told of before ``position`` ("A、B举行了…会议")."""
    simple = context.text.simple
    for index in range(line_index, -1, -1):
        line = lines[index]
        stop = min(line.end, position)
        if stop <= line.start:
            continue
        held = [match for match in _MEETING_HELD.finditer(simple, line.start, stop)]
        for match in reversed(held):
            sentence_start = _sentence_start(simple, line.start, match.start())
            clause_start = _clause_start(simple, sentence_start, match.start())
            end = match.start()
            trailing = _TRAILING_WORDS.search(simple, clause_start, end)
            if trailing and trailing.end() == end:
                end = trailing.start()
            found = _refs_within(context, clause_start, end)
            if not found:
                segments = _segments(simple, clause_start, end, False)
                found = [ref for segment in segments for ref in _resolve_segment(context, segment, [])]
            found = _unique(found)
            if found:
                return found
    return []


def _refs_within(context, start: int, end: int) -> list[AgencyRef]:
    try:
        return list(agencies.within(context, start, end))
    except Exception:  # a failing agency look-up leaves the raw names, never the whole draft
        return []


def _segments(simple: str, start: int, end: int, respectively: bool) -> list[_Segment]:
    """The names in ``simple[start:end]``, split at 与 / 和 / 及 / 、 outside parentheses; with ``respectively``
    ("A与B、C与D分别…") the 、-separated pairs are groups of their own."""
    cuts = _separators(simple, start, end)
    pieces: list[tuple[int, int, int]] = []  # start, end, group
    group = 0
    cursor = start
    for cut_start, cut_end, separator in [*cuts, (end, end, "")]:
        if cut_start > cursor:
            pieces.append((cursor, cut_start, group))
        if respectively and separator == "、":
            group += 1
        cursor = cut_end
    segments = []
    for piece_start, piece_end, piece_group in pieces:
        segment = _segment(simple, piece_start, piece_end, piece_group)
        if segment is not None:
            segments.append(segment)
    _distribute(simple, segments)
    return segments


def _separators(simple: str, start: int, end: int) -> list[tuple[int, int, str]]:
    cuts = []
    depth = 0
    index = start
    while index < end:
        char = simple[index]
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(depth - 1, 0)
        elif depth == 0:
            if simple.startswith("以及", index):
                cuts.append((index, index + 2, "及"))
                index += 2
                continue
            separator = char in "、与" or (char == "和" and _is_and(simple, index, start, end))
            if separator or (char == "及" and not simple.startswith("及时", index)):
                cuts.append((index, index + 1, char))
        index += 1
    return cuts


def _is_and(simple: str, index: int, start: int, end: int) -> bool:
    """和 as "and", not inside 共和国 / 和谐 / 和平."""
    before = simple[index - 1] if index > start else ""
    after = simple[index + 1] if index + 1 < end else ""
    return before != "共" and after not in "谐平解睦美"


def _segment(simple: str, start: int, end: int, group: int) -> _Segment | None:
    while start < end and simple[start] in " ,":
        start += 1
    while end > start and simple[end - 1] in " ,":
        end -= 1
    if start >= end:
        return None
    alias = None
    parenthesis = _PARENTHESIS.search(simple, start, end)
    main_end = end
    if parenthesis:
        alias = (parenthesis.start() + 1, parenthesis.end() - 1)
        main_end = parenthesis.start()
    name = _PARENTHESIS.sub("", simple[start:end]).strip()
    if not name:
        return None
    return _Segment(start=start, end=main_end if main_end > start else end, name=name, group=group, alias=alias)


def _distribute(simple: str, segments: list[_Segment]) -> None:
    """ "广安、广元、资阳五市检察院": the bare place names before a counted name take its type (广安市检察院)."""
    for index, segment in enumerate(segments):
        match = _DISTRIBUTED.match(segment.name)
        if not match or not _AGENCY_ENDING.search(match.group("type")):
            continue
        unit = match.group("unit") if match.group("unit") in "市县区省州" else ""
        segment.name = match.group("place") + unit + match.group("type")
        before = index - 1
        while before >= 0 and segments[before].group == segment.group and _is_bare_place(segments[before].name):
            segments[before].name = segments[before].name + unit + match.group("type")
            before -= 1


def _is_bare_place(name: str) -> bool:
    return 2 <= len(name) <= 6 and not _AGENCY_ENDING.search(name) and not _NOT_AN_AGENCY.search(name)


def _distribution_warnings(simple: str, segments: list[_Segment]) -> list[str]:
    warnings = []
    for segment in segments:
        match = _DISTRIBUTED.match(simple[segment.start : segment.end])
        if not match:
            continue
        count = _small_number(match.group("count"))
        named = sum(
            1 for other in segments if other.group == segment.group and other.name.endswith(match.group("type"))
        )
        if count and named and named != count:
            warnings.append(_("%(count)s parties expected, %(found)s found.") % {"count": count, "found": named})
    return warnings


def _resolve_segment(context, segment: _Segment, refs: list[AgencyRef]) -> list[AgencyRef]:
    """The agencies for one name: those ``within`` found on it (outside its parenthesis first), else resolved."""
    span_start, span_end = context.text.span(segment.start, segment.end)
    alias_span = context.text.span(*segment.alias) if segment.alias else None
    on_name, on_alias = [], []
    for ref in refs:
        ref_start, ref_end = ref.span
        if alias_span and ref_start >= alias_span[0] and ref_end <= alias_span[1]:
            on_alias.append(ref)
        elif ref_start < span_end and span_start < ref_end:
            on_name.append(ref)
    mapped = [ref for ref in on_name if ref.agency_id] or [ref for ref in on_alias if ref.agency_id]
    if mapped:
        return mapped
    if on_name:
        return on_name
    if not _AGENCY_ENDING.search(segment.name) or _NOT_AN_AGENCY.search(segment.name) or len(segment.name) > 40:
        return []
    ref = _resolve_name(context, segment.name, segment.start, segment.end)
    if ref.agency_id is None and segment.alias:
        alias_text = context.text.simple[segment.alias[0] : segment.alias[1]].strip()
        if _AGENCY_ENDING.search(alias_text):
            alias_ref = _resolve_name(context, alias_text, segment.alias[0], segment.alias[1])
            if alias_ref.agency_id is not None:
                return [alias_ref]
    return [ref]


def _resolve_name(context, name: str, start: int, end: int) -> AgencyRef:
    """``agencies.resolve`` for ``name`` standing at ``simple[start:end]``, as a copy spanning that stretch. A name
    the text does not spell out there ("广安" read as 广安市检察院, "沪" as 上海市委政法委) is resolved on its own,
    not as the mention that happens to overlap it."""
    if context.text.simple[start : start + len(name)] == name:
        ref = agencies.resolve(context, name, start)
    else:
        alone = copy.copy(context)
        alone.agency_spans = []
        ref = agencies.resolve(alone, name, start)
    return _copy(ref, span=context.text.span(start, end))


def _copy(ref: AgencyRef, **changes) -> AgencyRef:
    """A party of its own: the extractor's refs are shared with ``context.agencies``."""
    return dataclasses.replace(ref, circles=list(ref.circles), warnings=list(ref.warnings), **changes)


def _unique(refs: list[AgencyRef]) -> list[AgencyRef]:
    seen, unique = set(), []
    for ref in refs:
        key = ("id", ref.agency_id) if ref.agency_id else ("text", ref.name or ref.text)
        if key not in seen:
            seen.add(key)
            unique.append(ref)
    return unique


# ---------------------------------------------------------------------------------------------------------------
# Dates


def _date_for(context, lines, line_index: int, position: int, dates: list[DateMention]) -> tuple[str, list[str]]:
    """The nearest date before ``position`` in its paragraph; for an agreement signed at a ceremony or meeting
    (its paragraph, or the line announcing its list, says so) the date of the latest paragraph before it telling of
    a signing or meeting."""
    line = lines[line_index]
    before = [date for date in dates if line.start <= date.start and date.end <= position and not date.in_title]
    if before:
        date = before[-1]
        if date.vague and date.date:
            return date.date, [_("Approximate date: %(date)s.") % {"date": date.text}]
        if not date.date:
            return "", [_("The date %(date)s could not be resolved.") % {"date": date.text}]
        return date.date, []
    simple = context.text.simple
    announcing = line_index
    while announcing > 0 and _is_list_line(lines[announcing].text):
        announcing -= 1
    told = simple[line.start : position]
    if announcing != line_index:
        told += simple[lines[announcing].start : lines[announcing].end]
    if not _EVENT_WORDS.search(told):
        return "", []
    for precisions in (("day",), ("day", "month", "year")):  # the meeting's day before a month it reports on
        for index in range(line_index - 1, -1, -1):
            earlier = lines[index]
            if not _EVENT_WITH_DATE.search(earlier.text):
                continue
            in_line = [
                date
                for date in dates
                if earlier.start <= date.start < earlier.end
                and date.date
                and not date.vague
                and not date.in_title
                and date.precision in precisions
            ]
            if in_line:
                return in_line[-1].date, [_("Date taken from an earlier paragraph.")]
    return "", []


def _is_list_line(text: str) -> bool:
    return bool(re.match(rf"[{_BULLET_CHARS}]|\d{{1,2}}[.、]|[(][一二三四五六七八九十\d]{{1,3}}[)]", text))


# ---------------------------------------------------------------------------------------------------------------
# One agreement per title


def _merge(context, mentions: list[_Mention], aliases: dict[str, str]) -> list[Agreement]:
    found: list[Agreement] = []
    date_warnings: dict[int, list[str]] = {}
    text = context.text
    for mention in mentions:
        title = aliases.get(mention.title, mention.title)
        target = None
        for agreement in found:
            short_name = (
                mention.quoted
                and len(title) <= 10
                and len(title) < len(agreement.title)
                and agreement.title.endswith(title)
            )
            if (agreement.title == title or short_name) and _compatible(agreement.parties, mention.parties):
                target = agreement
                break
        if target is None:
            agreement = Agreement(
                title=title,
                span=text.span(mention.start, mention.end),
                kind=kind_of(title),
                parties=[_copy(ref) for ref in mention.parties],
                date=mention.date,
                action=mention.action,
                quoted=mention.quoted,
                confidence=mention.confidence,
                warnings=list(mention.warnings),
            )
            date_warnings[id(agreement)] = list(mention.date_warnings)
            found.append(agreement)
            continue
        target.parties = _unique([*target.parties, *(_copy(ref) for ref in mention.parties)])
        if not target.date and mention.date:
            target.date = mention.date
            date_warnings[id(target)] = list(mention.date_warnings)
        if _strength(mention.action) > _strength(target.action):
            target.action = mention.action
        target.quoted = target.quoted or mention.quoted
        target.confidence = max(target.confidence, mention.confidence)
        for warning in mention.warnings:
            if warning not in target.warnings:
                target.warnings.append(warning)
    not_found = _("The parties could not be found.")
    for agreement in found:
        agreement.warnings = [w for w in agreement.warnings if w != not_found]
        if not agreement.parties and agreement.action:
            agreement.warnings.append(not_found)
        agreement.warnings.extend(date_warnings.get(id(agreement), []))
    return found


def _strength(action: str) -> int:
    return _ACTION_STRENGTH.get(action, 1 if action else 0)


def _compatible(existing: list[AgencyRef], new: list[AgencyRef]) -> bool:
    """Mentions of one title are one agreement unless both name parties and they have none in common (the pairs
    of "A与B、C与D分别签订了《X》")."""
    if not existing or not new:
        return True
    return bool({_key(ref) for ref in existing} & {_key(ref) for ref in new})


def _key(ref: AgencyRef):
    return ("id", ref.agency_id) if ref.agency_id else ("text", ref.name or ref.text)


# ---------------------------------------------------------------------------------------------------------------
# The document itself: an agreement's or minutes' own text

# "甲方：湖北省宜昌市人民检察院", "乙方（盖章）：…": a party defined at the top or signing at the end.
_PARTY_DEFINITION = re.compile(
    r"^(?P<role>[甲乙丙丁戊己庚辛])方\s*(?:\([^()]{0,6}\))?\s*[:]\s*(?P<name>\S.{1,40}?)\s*$"
)
_OWN_TITLE_MAX = 60
_SIGNING_DATE = re.compile(r"(?:签订|签署|签约|签字)(?:日期|时间)|日期\s*:")
HEADER_LINES = 4  # lines at the top that may hold the issuing agencies and the title
_HEADLINE_VERB = re.compile(r"签署|签订|签定|签约|共签|会签|缔结|召开|举行|举办|发布|印发|出台|审议|通过")


def _own_agreement(context, lines, dates: list[DateMention]) -> _Mention | None:
    """The text is itself an agreement or minutes: its title (the first line, after a line of issuing agencies)
    ends like one ("…检察协作协议", "…联席会议纪要"). The parties are those defined as 甲方 / 乙方 …, else the
    agencies of the header line, else those that held the meeting told of; the date is the signing date at the end,
    else the first date of the text."""
    title_line = None
    header: list[AgencyRef] = []
    for index, line in enumerate(lines[:HEADER_LINES]):
        refs = _refs_within(context, line.start, line.end)
        if refs and _only_agencies(context, line, refs):
            header.extend(refs)
            continue
        text = line.text.strip()
        if (
            len(text) <= _OWN_TITLE_MAX
            and "。" not in text
            and not text.startswith("《")
            and not _HEADLINE_VERB.search(text)  # a news headline: "…签署…协议"
            and is_agreement_title(text)
            and kind_of(text) in ("cooperation", "framework", "memorandum", "minutes")
        ):
            title_line = (index, line)
        break
    if title_line is None:
        return None
    index, line = title_line
    title = _SPACES.sub(" ", line.text.strip())
    defined, seen_roles = [], set()
    for other in lines:
        match = _PARTY_DEFINITION.match(other.text)
        if not match or match.group("role") in seen_roles:
            continue
        seen_roles.add(match.group("role"))
        start = other.start + match.start("name")
        end = other.start + match.end("name")
        found = [ref for ref in _refs_within(context, start, end) if ref.agency_id] or [
            _resolve_name(context, match.group("name"), start, end)
        ]
        defined.extend(_copy(ref) for ref in found[:1])
    if not defined and not header and kind_of(title) != "minutes":
        return None  # an agreement's text defines its parties; minutes may leave them to the meeting told of
    mention = _Mention(title=title, start=line.start, end=line.end, quoted=True)
    if defined:
        mention.parties, mention.action = _unique(defined), "签署"
    elif header:
        mention.parties, mention.action = _unique([_copy(ref) for ref in header if ref.agency_id]), "形成"
    else:
        mention.parties = _meeting_parties(context, lines, min(index + 2, len(lines) - 1), lines[-1].end)
        mention.action = "形成" if mention.parties else ""
    mention.date = _own_date(context, lines, dates)
    mention.confidence = 0.9 if len(mention.parties) >= 2 and mention.date else 0.7
    if not mention.date:
        mention.date_warnings.append(_("The date of the agreement was not found."))
    return mention


def _only_agencies(context, line, refs: list[AgencyRef]) -> bool:
    """Whether a line is nothing but agency names (an issuing header: "南昌市中级人民法院 南昌市人民检察院")."""
    original = context.text.original
    start, end = context.text.span(line.start, line.end)
    rest = original[start:end]
    for ref in sorted(refs, key=lambda ref: -(ref.span[1] - ref.span[0])):
        rest = rest.replace(original[ref.span[0] : ref.span[1]], " ")
    return not re.sub(r"[\s、,，和与及]", "", rest)


def _own_date(context, lines, dates: list[DateMention]) -> str:
    """The signing date of the document: on a "签订日期" line or in its last lines, else its first dated day."""
    resolved = [date for date in dates if date.date and not date.vague and not date.in_title]
    for line in reversed(lines[-4:]):
        in_line = [date for date in resolved if line.start <= date.start < line.end and date.precision == "day"]
        if in_line and (_SIGNING_DATE.search(line.text) or len(line.text) <= 20):
            return in_line[-1].date
    days = [date for date in resolved if date.precision == "day"]
    return days[0].date if days else ""


def _absorb_descriptions(found: list[Agreement], headline_end: int) -> list[Agreement]:
    """An agreement only described ("…签署跨域司法协作框架协议" in the headline) that names one the text quotes
    ("《粤闽两省法院跨域诉讼服务协作框架协议》") is that one: described in the headline with the quoted one's kind,
    or its title a shortening of the quoted one's ("长江中游生态检察协作协议")."""
    quoted = [agreement for agreement in found if agreement.quoted]
    kept = []
    for agreement in found:
        target = None
        if not agreement.quoted:
            shortened = [other for other in quoted if _is_shortening(agreement.title, other.title)]
            in_headline = agreement.span[1] <= headline_end
            same_kind = [other for other in quoted if other.kind == agreement.kind] if in_headline else []
            target = next(iter(shortened or same_kind), None)
        if target is None:
            kept.append(agreement)
            continue
        if not target.parties:
            target.parties = agreement.parties
            target.warnings = [w for w in target.warnings if w != _("The parties could not be found.")]
        target.date = target.date or agreement.date
        target.confidence = max(target.confidence, min(agreement.confidence, 0.9))
    return kept


_GENERIC_ENDING = re.compile(r"(?:战略)?(?:合作)?(?:框架)?(?:协议书?|协定|备忘录|纪要)$")


def _is_shortening(short: str, full: str) -> bool:
    """Whether ``short`` is ``full`` with words left out: its characters in order, the ending the same, and more
    than a generic name ("合作协议" shortens no title)."""
    if len(short) >= len(full) or short[-2:] != full[-2:] or len(_GENERIC_ENDING.sub("", short)) < 4:
        return False
    position = 0
    for char in short:
        position = full.find(char, position) + 1
        if position == 0:
            return False
    return True
