"""Figures (numbers with their unit and what they count) and declared counts (how many measures or areas the
text says there are), compared with the measure tree.

``find(context)``: "推送各类数据6.8亿条" → 680000000 条 of 数据; "协破案件143件" → 143 件 of 协破案件; "24个典型案例" →
24 个 of 典型案例; "受理案件5万余件" → 50000 件, approximate; "近1000亿元" → 1e11 元; "增长30%" → 30 %. Arabic
numbers need a measure word, a 万/亿 multiplier or a % sign; Chinese numerals ("三类服务") count only when a measure
word and a noun of the domain follow. Dates, years, durations, times, ordinals (第一次), list numbers, phone numbers
and anything inside 《》 or quotation marks are not figures, nor are the declared counts.

``declared_counts(context, tree)``: "22条…举措", "20条举措", "从6个方面", "12个大项100个小项", "五个协作重点" →
count, unit, of; "N条/项 举措/措施/事项" is compared with the numbered items of the list that follows (under the area
the sentence names, else the list right after it, else the whole tree when it is one list after the declaration),
"N个方面" with the areas; a difference is a warning on the item and on the draft.
"""

from __future__ import annotations

import bisect
import functools
import logging
import re
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from ..draft import DeclaredCount, Figure, Measure
from .dates import chinese_number, find_dates
from .names import AGENCY_LIKE

_AR = r"\d+(?:,\d{3})*(?:\.\d+)?"
_CN = r"[〇零一二两三四五六七八九十百千万亿]+"
_CN_DIGIT_PAIR = re.compile(r"[〇零一二两三四五六七八九]{2}")
_APPROXIMATE_BEFORE = r"将近|接近|大约|超过|近|约|逾|超"
_APPROXIMATE_AFTER = r"以上|左右|上下|余|多"
# Measure words, longest first; what counts a thing, not a span of time.
_UNITS = (
    r"个百分点|百分点|人次|件次|户次|批次|平方公里|平方米|公里|千米|%|‰|"
    r"个|件|条|项|家|名|人|次|起|宗|份|篇|类|批|场|所|户|元|台|套|部|处|辆|吨|米|亩|位|支|张|本|册|笔|例|座|间|艘|架|枚|"
    r"届|期|轮|组|队|种|首"
)
_DURATIONS = re.compile(r"^(?:余|多)?(?:周年|个月|个小时|小时|分钟|星期|年|月|日|天|周|秒|岁|号|时|分|点)")
# A measure word that starts a word instead ("5部门", "两单位"): no measure word then.
_UNIT_COMPOUNDS = frozenset(
    (
        "部门",
        "部署",
        "部分",
        "单位",
        "处理",
        "处置",
        "所有",
        "所在",
        "期间",
        "组织",
        "组成",
        "家庭",
        "名录",
        "名单",
        "名义",
        "起诉",
        "起来",
        "次日",
        "场所",
        "场景",
        "种类",
        "位置",
        "支持",
        "本市",
        "本地",
        "本省",
        "本部",
        "条件",
        "条例",
        "项目",
        "台账",
        "批准",
        "批复",
        "户籍",
        "人员",
        "人民",
        "人才",
        "人口",
        "张贴",
        "队伍",
        "轮值",
        "届时",
        "类型",
        "类似",
        "元素",
        "座谈",
        "间隔",
        "篇章",
        "首批",
        "首次",
        "首个",
        "期限",
        "起点",
        "件事",
    )
)
FIGURE_PATTERN = re.compile(
    rf"(?P<before>{_APPROXIMATE_BEFORE})?"
    rf"(?:(?<![\d.,A-Za-z])(?P<ar>{_AR})(?P<mult>万亿|亿|万|千)?|(?<![第每统唯单同逐之初周星])(?P<cn>{_CN}))"
    rf"(?P<after>余|多)?(?P<unit>{_UNITS})?(?P<after2>以上|左右|上下|余)?"
)
PERCENT_WORDS = re.compile(rf"百分之(?P<cn>{_CN}|{_AR})")
_MULTIPLIERS = {"万亿": 10**12, "亿": 10**8, "万": 10**4, "千": 10**3}

# Nouns a Chinese-numeral quantity must count to be a figure ("三类服务", "三届…会议"; not "两个关键").
_DOMAIN_NOUNS = re.compile(
    r"(?:案件|案例|协议|备忘录|纪要|方案|意见|机制|平台|机构|法院|检察院|公安局|公安厅|司法局|司法厅|单位|部门|人员|律师|律所|"
    r"事务所|中心|基地|数据|服务|会议|论坛|文件|清单|标准|制度|系统|队伍|专家|项目|线索|罪犯|嫌疑人|团伙|窗口|站|庭|院|"
    r"库|工作站|法庭|检察室|警务室|调解室|组织|协会|委员会|资金|经费|证据|判决|裁定|文书|报告|活动|培训|课程)$"
)
# Where the noun phrase before a number starts: after these words ("推送各类数据" → 数据).
_CUT_WORDS = frozenset(
    (
        "各类",
        "各种",
        "各项",
        "各级",
        "全部",
        "所有",
        "首批",
        "共计",
        "累计",
        "总计",
        "合计",
        "共",
        "达到",
        "达",
        "其中",
        "包括",
        "分别",
        "同比",
        "已",
        "均",
        "的",
        "了",
        "等",
        "和",
        "与",
        "及",
        "全年",
        "全省",
        "全市",
        "当年",
        "今年",
        "去年",
        "上半年",
        "下半年",
        "期间",
    )
)
_STOP_FLAGS = frozenset(("p", "c", "x", "m", "q", "r", "d", "f", "y", "e", "o", "uj", "ul", "uz", "ug", "ud", "u", "w"))
_PUNCTUATION = "，,。；;：:！!？?、()（）—-~"
_QUOTES = {"《": "》", "“": "”", "‘": "’", "「": "」", "『": "』", '"': '"'}


@functools.cache
def _posseg():
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    return jieba.posseg


def _quoted_ranges(line: str) -> list[tuple[int, int]]:
    """``[start, end)`` of 《…》 and quotation-mark spans in ``line`` (the innermost pairs and nested titles alike)."""
    ranges, stack = [], []
    for index, char in enumerate(line):
        if stack and char == _QUOTES[line[stack[-1]]]:
            ranges.append((stack.pop(), index + 1))
        elif char in _QUOTES:
            stack.append(index)
    return ranges


def _inside(ranges: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(begin <= start and end <= stop for begin, stop in ranges)


# A quotation longer than this is speech, whose figures count; a shorter one is a name ("“3中心+10仲裁院”", "“12309”").
QUOTED_NAME_LENGTH = 14


def _names(line: str) -> list[tuple[int, int]]:
    """The 《》 titles and the short quotations of ``line``: numbers inside them are part of a name."""
    return [
        (begin, stop)
        for begin, stop in _quoted_ranges(line)
        if line[begin] == "《" or stop - begin <= QUOTED_NAME_LENGTH
    ]


def _value(number: str, multiplier: str | None) -> float | None:
    if number[0].isdigit():
        value = Decimal(number.replace(",", ""))
    else:
        if _CN_DIGIT_PAIR.search(number) or not re.search(r"[〇零一二两三四五六七八九十]", number):
            return None  # "唯一一家", "二〇二〇", "千年": no count
        parsed = chinese_number(number)
        if parsed is None:
            return None
        value = Decimal(parsed)
    if multiplier:
        value *= _MULTIPLIERS[multiplier]
    return float(value)


def _noun_after(text: str) -> str:
    """The noun phrase that opens ``text`` ("典型案例，统一…" → 典型案例; "沪苏浙法院缔结为…" → 沪苏浙法院)."""
    text = re.split(rf"[{re.escape(_PUNCTUATION)}“”《》\s\d]", text[:16], maxsplit=1)[0]
    if not text:
        return ""
    words = []
    for pair in _posseg().lcut(text):
        if pair.flag in _STOP_FLAGS or pair.word in _CUT_WORDS:
            break
        if pair.flag == "v" and words and words[-1].flag.startswith(("n", "j")):
            break  # the noun's own verb follows: "21个中级人民法院接入…" → 中级人民法院
        words.append(pair)
    while words and not (
        words[-1].flag.startswith(("n", "j")) or words[-1].flag == "vn" or _DOMAIN_NOUNS.search(words[-1].word)
    ):
        words.pop()
    return "".join(pair.word for pair in words)[:12]


# Words between a noun and its number ("判赔金额共计5.6亿元", "满意率达98.6%", "案件已有37件"): not part of the noun.
_LINKING_WORDS = re.compile(
    r"(?:已经有|已有|共有|还有|只有|仅有|已达到|已达|达到|高达|多达|共计|累计|合计|总计|共|计|达|为|是|有|约|近|超过|逾|分别|均|已|了)+$"
)
# A change ("同比上升12.3%", "较去年下降3.2个百分点"): the figure counts the change, as the text words it.
_CHANGE_BEFORE = re.compile(
    r"(?:同比|环比|比上年同期|较上年同期|比上年|比去年|较上年|较去年|比上一年|较上一年)(?:分别)?"
    r"(?P<change>上升|增长|增加|下降|减少|降低|提高|提升|下滑|回落|上涨|下跌)了?(?:约|近|超过)?$"
)
_CLOSING_QUOTE_NAME = re.compile(r"“(?P<name>[^“”]{2,14})”$")
# A figure right after another ("156件312人"): the same things counted another way.
_AFTER_FIGURE = re.compile(rf"\d(?:{_UNITS})$")


def _noun_before(text: str) -> str:
    """The noun phrase that ends ``text``: from the last punctuation, number or cut word ("互相推送各类数据" → 数据),
    without the verb of a longer object ("审结涉沪苏浙企业民商事案件" → 涉沪苏浙企业民商事案件; "协破案件",
    "受托执行案件" stay) or the linking words before the number ("判赔金额共计" → 判赔金额), a quoted name ("建成
    “枫桥式公安派出所”218个") as it is; at most 12 characters in whole words. A year-on-year change counts the change
    ("同比上升12.3%" → 上升)."""
    change = _CHANGE_BEFORE.search(text[-12:])
    if change:
        return change.group("change")
    if _AFTER_FIGURE.search(text[-4:]):
        return ""
    text = _LINKING_WORDS.sub("", text)
    quoted = _CLOSING_QUOTE_NAME.search(text[-16:])
    if quoted:
        return quoted.group("name")
    text = re.split(rf"[{re.escape(_PUNCTUATION)}“”《》\s\d%]", text[-24:])[-1]
    if not text:
        return ""
    pairs = _posseg().lcut(text)
    for index in range(len(pairs) - 1, -1, -1):
        if pairs[index].word in _CUT_WORDS:
            pairs = pairs[index + 1 :]
            break
    while len(pairs) > 2 and pairs[0].flag == "v" and pairs[1].flag != "v":
        pairs = pairs[1:]  # the verb of a longer object: "审结涉…案件" → 涉…案件; "协破案件" stays
    while pairs and len("".join(pair.word for pair in pairs)) > 12:
        pairs = pairs[1:]
    return "".join(pair.word for pair in pairs)


def _skip_number(line: str, start: int, end: int, match: re.Match) -> bool:
    """Whether the number at ``line[start:end]`` is no figure: an ordinal, a list number, a time, a phone number,
    part of an identifier, a duration."""
    before = line[start - 1] if start else ""
    after = line[end : end + 3]
    if before and (before == "第" or before in "-/+#" or (before.isascii() and before.isalpha())):
        return True
    if after[:1] in ("-", "/", "+", "#") or (after[:1].isascii() and after[:1].isalpha()):
        return True
    if re.match(r"[:：]\d|时\d|点\d", after):
        return True
    bare = match.group("ar") and not match.group("unit") and not match.group("mult")
    if bare and re.match(r"[.、)）]", after) and (start == 0 or line[start - 1] in "(（ " + _PUNCTUATION):
        return True  # a list number: "1.", "2、", "(3)"
    digits = match.group("ar") or ""
    return len(digits) >= 7 and "," not in digits and "." not in digits and not match.group("unit")


def _numbers(context):
    """Every figure-like number in the content lines as (match, line, the line's name ranges), match offsets
    relative to the line — before the rules that drop dates, titles and declared counts."""
    for line in context.text.content():
        quoted = None
        for match in FIGURE_PATTERN.finditer(line.text):
            if not (match.group("ar") or match.group("cn")):
                continue
            if quoted is None:
                quoted = _names(line.text)
            yield match, line, quoted


def find(context) -> list[Figure]:
    """The figures of the content lines, in text order."""
    text = context.text
    date_spans = [(mention.start, mention.end) for mention in find_dates(context)]
    date_starts = [start for start, _end in date_spans]
    declared_spans = [span for _item, span in _declared_in(context)]
    figures = []
    for match, line, quoted in _numbers(context):
        line_text = line.text
        number_group = "ar" if match.group("ar") else "cn"
        start, end = match.start(number_group), match.end(number_group)
        number_end = max(end, match.end("mult"), match.end("after"))
        unit = match.group("unit") or ""
        if _inside(quoted, match.start(), match.end()) or _skip_number(line_text, start, end, match):
            continue
        if _DURATIONS.match(line_text[number_end:]):
            continue  # "13年", "6个月", "100周年", "7日"
        index = bisect.bisect_right(date_starts, line.start + end) - 1
        if index >= 0 and date_spans[index][1] > line.start + start:
            continue
        if any(begin < line.start + end and line.start + start < stop for begin, stop in declared_spans):
            continue
        if len(unit) == 1 and line_text[match.start("unit") : match.start("unit") + 2] in _UNIT_COMPOUNDS:
            unit = ""  # "5部门": 部 opens the noun
        unit_end = match.start("unit") + len(unit) if unit else number_end
        multiplier = match.group("mult") if number_group == "ar" else None
        value = _value(match.group(number_group), multiplier)
        if value is None:
            continue
        if number_group == "cn":
            if not unit or unit in ("%", "‰") or value == 1:
                continue
            counted = _noun_after(line_text[unit_end:])
            if not counted or not _DOMAIN_NOUNS.search(counted):
                continue  # "两个关键", "五市": no quantity of the domain
        elif not unit and not multiplier:
            continue  # a bare number: a code, a hotline, a model number
        else:
            counted = ""
            if unit not in ("%", "‰", "个百分点", "百分点"):
                counted = _noun_after(line_text[unit_end:])
            if not counted:
                counted = _noun_before(line_text[: match.start()])
        approximate = match.group("before") or match.group("after") or (match.group("after2") if unit else "") or ""
        figure_end = match.end("after2") if (match.group("after2") and unit) else unit_end
        figure = Figure(
            text=line_text[match.start() : figure_end],
            span=text.span(line.start + match.start(), line.start + figure_end),
            value=value,
            unit=unit,
            counts=counted,
            confidence=0.8 if number_group == "ar" else 0.6,
        )
        if not counted:
            figure.confidence -= 0.3
        if approximate:
            figure.confidence -= 0.2
            figure.warnings.append(_("Approximate figure (“%(word)s”).") % {"word": approximate})
        figure.confidence = round(figure.confidence, 2)
        figures.append(figure)
    figures.extend(_percent_words(context))
    figures.sort(key=lambda item: item.span[0])
    return figures


def _percent_words(context) -> list[Figure]:
    """ "百分之三十" → 30 %."""
    found = []
    for line in context.text.content():
        for match in PERCENT_WORDS.finditer(line.text):
            value = _value(match.group("cn"), None)
            if value is None:
                continue
            found.append(
                Figure(
                    text=match.group(0),
                    span=context.text.span(line.start + match.start(), line.start + match.end()),
                    value=value,
                    unit="%",
                    counts=_noun_before(line.text[: match.start()]),
                    confidence=0.7,
                )
            )
    return found


# -- declared counts -------------------------------------------------------------------------------------------

_COUNT_NUMBER = r"(?<![\d.第每统唯单同逐之初周星近约逾超])(?P<number>\d+|[一二两三四五六七八九十百]+)"
_BOUNDARY = rf"(?=[{re.escape(_PUNCTUATION)}”》和与及等]|$)"
# Leaf nouns: compared with the numbered items; area nouns: with the areas; the rest are kept, not compared.
LEAF_NOUNS = ("举措", "措施", "事项", "任务", "项目", "条款", "小项", "小类")
AREA_NOUNS = ("方面", "领域", "板块", "大项", "大类")
_STRUCTURAL_NOUNS = "举措|措施|事项|任务|意见|要求|规定|条款|重点|机制|平台|制度|项目|目标|行动|合作|协作|工程|原则"
DECLARED_PATTERN = re.compile(
    rf"{_COUNT_NUMBER}(?P<unit>个|大)?(?P<of>方面|领域|板块|大项|小项|大类|小类)(?!余|多)"
    rf"|{_COUNT_NUMBER.replace('number', 'number2')}(?P<unit2>条|项|个|类|大)(?!余|多)"
    rf"(?P<phrase>[^{re.escape(_PUNCTUATION)}“”《》\s\d]{{0,24}}?)(?P<of2>{_STRUCTURAL_NOUNS}){_BOUNDARY}"
)


def _declared_in(context) -> list[tuple[DeclaredCount, tuple[int, int]]]:
    """The declared counts of the content lines with their offsets in ``text.simple``."""
    found = []
    for line in context.text.content():
        titles = None
        for match in DECLARED_PATTERN.finditer(line.text):
            if titles is None:
                titles = [r for r in _quoted_ranges(line.text) if line.text[r[0]] == "《"]
            if _inside(titles, match.start(), match.end()):
                continue
            number = match.group("number") or match.group("number2")
            if _CN_DIGIT_PAIR.search(number):
                continue
            count = chinese_number(number)
            if not count or count == 1:
                continue
            if match.group("of"):
                unit, of = match.group("unit") or "", match.group("of")
            else:
                unit, phrase, noun = match.group("unit2"), match.group("phrase"), match.group("of2")
                if AGENCY_LIKE.search(phrase):
                    continue  # "21个中级人民法院接入…平台": agencies counted, no declaration
                of = noun if ("的" in phrase or len(phrase) > 4) else phrase + noun
            start, end = line.start + match.start(), line.start + match.end()
            item = DeclaredCount(text=match.group(0), span=context.text.span(start, end), count=count, unit=unit, of=of)
            found.append((item, (start, end)))
    return found


def _family(item: DeclaredCount) -> str:
    if item.of.endswith(AREA_NOUNS):
        return "area"
    if item.of.endswith(LEAF_NOUNS) and (item.unit in ("条", "项", "个", "") or item.of in ("小项", "小类")):
        return "leaf"
    return ""


@dataclass
class _Node:
    node: Measure
    parent: int | None
    start: int  # original offset


def _flatten(tree: list[Measure]) -> list[_Node]:
    nodes: list[_Node] = []

    def visit(node: Measure, parent: int | None) -> None:
        nodes.append(_Node(node=node, parent=parent, start=node.span[0] if node.span else 0))
        index = len(nodes) - 1
        for child in node.children:
            visit(child, index)

    for root in tree:
        visit(root, None)
    return nodes


def _numbered_leaves(nodes: list[Measure]) -> int:
    total = 0
    for node in nodes:
        if node.children:
            total += _numbered_leaves(node.children)
        elif node.number:
            total += 1
    return total


def _area_key(text: str) -> str:
    return re.sub(r"(?:工作)?方面$|工作$", "", text.strip(" 。.:：;；,，")).strip()


# How many content lines may stand between a declaration and the list it announces (a heading, a lead sentence).
LINES_BEFORE_LIST = 1


def _group_for(context, item: DeclaredCount, simple: tuple[int, int], nodes: list[_Node], bound: int | None):
    """The measures ``item`` speaks of: the children of the area its sentence names, else the run of sibling nodes
    right after it (at most one line between, before the next declaration), else the whole tree when it is one list that
    follows the declaration; None when nothing matches."""
    text = context.text
    line = text.line_at(simple[0])
    clause = text.simple[line.start if line else 0 : simple[0]]
    clause = re.split(r"[。!?！？;；]", clause)[-1]
    named = [
        entry
        for entry in nodes
        if entry.node.area and len(_area_key(entry.node.text)) >= 2 and _area_key(entry.node.text) in clause
    ]
    if len(named) == 1:  # "其中戒毒工作共14项": that area; a sentence naming several areas speaks of them all
        return named[0].node.children
    end = item.span[1]
    following = [index for index, entry in enumerate(nodes) if entry.start >= end]
    if following:
        first = following[0]
        node_simple = bisect.bisect_left(text.to_original, nodes[first].start)
        between = [ln for ln in text.content() if simple[1] <= ln.start < node_simple]
        if len(between) <= LINES_BEFORE_LIST:
            parent = nodes[first].parent
            siblings = [
                entry.node
                for entry in nodes[first:]
                if entry.parent == parent and (bound is None or entry.start < bound)
            ]
            return siblings
    tree_roots = [entry for entry in nodes if entry.parent is None]
    one_list = len(tree_roots) == 1 or all(not entry.node.children for entry in tree_roots)
    if tree_roots and one_list and tree_roots[0].start >= end:
        return [entry.node for entry in tree_roots]
    return None


def declared_counts(context, tree: list[Measure]) -> list[DeclaredCount]:
    """The counts the text declares, each compared with the measure tree where it speaks of a list that is there."""
    declared = _declared_in(context)
    nodes = _flatten(tree or [])
    results = []
    for position, (item, simple) in enumerate(declared):
        family = _family(item)
        item.confidence = 0.5
        if not family or not nodes:
            results.append(item)
            continue
        bound = next((later.span[0] for later, _s in declared[position + 1 :] if _family(later) == family), None)
        group = _group_for(context, item, simple, nodes, bound)
        while group and len(group) == 1 and group[0].area and not group[0].number and len(group[0].children) > 1:
            group = group[0].children  # an announcing line's area around the list ("各方将重点推进以下工作:")
        if group:
            found = (
                _numbered_leaves(group) if family == "leaf" else sum(1 for node in group if node.area or node.children)
            )
            if found:
                item.found = found
        if item.found is None:
            results.append(item)
            continue
        if item.found == item.count:
            item.confidence = 0.9
        else:
            item.confidence = 0.6
            message = _("Declared %(count)s %(unit)s %(of)s, found %(found)s.") % {
                "count": item.count,
                "unit": item.unit,
                "of": item.of,
                "found": item.found,
            }
            item.warnings.append(message)
            context.warn(message, *simple)
        results.append(item)
    return results
