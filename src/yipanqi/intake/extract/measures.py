"""Measure lists under their headings, and the agenda topics of a meeting.

``find(context)`` builds the measure tree from the content lines of ``context.text.simple``:

- numbered lines in any of the usual styles ("第一章", "第一条", "一、", "(一)", "1.", "1、", "(1)", "①", "第一,",
  "一是", "首先 / 其次 / 此外", bullets such as "✍", "➤", "•" when several follow each other) nest by their style: a
  style not seen yet in the current list opens a level below the item before it, unless the conventional order of
  Chinese official writing ranks it higher ("第一章" > "一、" > "第一条" > "(一)" > "1." > "(1)" > "①" > "一是" >
  bullets), in which case it starts a new list;
- a heading line (short, no final punctuation: "监狱工作方面", "加强平安建设合作  打造…") or an announcing line
  ("…重点是开展四个深化合作——", "某某表示——") directly above a list becomes an area node holding it;
- paragraphs led by a short sentence ("深化维稳安保合作。建立健全…") become area nodes when at least two follow each
  other and they are announced by the line above or all start with a cooperation verb;
- lists written inside one paragraph ("一是…二是…", "首先…其次…", "(1)…(2)…") become the children of the item or
  area whose paragraph holds them, or an area of their own (lead-in as its text) in an ordinary paragraph; lists
  inside quoted speech (“…”) are left alone.

Numbers are checked: a gap ("Item 5 is missing.") or a step back is a warning on the item after it. Every node's
``span`` covers its number and text in the original text; areas built from a heading span the heading.

``topics(context)`` reads the agenda: the list after "围绕…等问题/议题", "会议研究了/审议了/听取了…" and
"议题包括…".
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from ..draft import Measure, Topic

# ---------------------------------------------------------------------------------------------------------------
# Numbers and markers

_CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN = "一二三四五六七八九十"
_CIRCLED = {chr(0x2460 + i): i + 1 for i in range(20)}  # ① … ⑳ (NFKC folds them to digits in ``simple``)
_CIRCLED.update({chr(0x2776 + i): i + 1 for i in range(10)})  # ❶ … ❿ (kept by NFKC)
_CIRCLED.update({chr(0x2780 + i): i + 1 for i in range(10)})  # ➀ … ➉
_CIRCLED.update({chr(0x278A + i): i + 1 for i in range(10)})  # ➊ … ➓
_CIRCLED_BY_NUMBER = {number: char for char, number in list(_CIRCLED.items())[:20]}


def chinese_number(digits: str) -> int | None:
    """一 → 1, 十 → 10, 十四 → 14, 二十三 → 23 (the numbers lists use); None when it is not such a number."""
    if not digits:
        return None
    if digits.isdigit() and digits.isascii():
        return int(digits)
    if "十" not in digits:
        if len(digits) == 1 and digits in _CN_DIGIT:
            return _CN_DIGIT[digits]
        return None
    tens, _sep, units = digits.partition("十")
    if len(tens) > 1 or len(units) > 1 or any(c not in _CN_DIGIT for c in tens + units):
        return None
    return (_CN_DIGIT[tens] if tens else 1) * 10 + (_CN_DIGIT[units] if units else 0)


def _written(style: str, number: int) -> str:
    """A number the way ``style`` writes it (for warnings about missing items)."""
    chinese = _to_chinese(number)
    written = {
        "一、": chinese,
        "(一)": f"({chinese})",
        "一是": f"{chinese}是",
        "第一": f"第{chinese}",
        "其一": f"其{chinese}",
        "第一条": f"第{chinese}条",
        "(1)": f"({number})",
        "①": _CIRCLED_BY_NUMBER.get(number, str(number)),
    }
    return written.get(style, str(number))


def _to_chinese(number: int) -> str:
    digits = "零一二三四五六七八九"
    if number < 10:
        return digits[number]
    tens, units = divmod(number, 10)
    return (digits[tens] if tens > 1 else "") + "十" + (digits[units] if units else "")


# Line-start markers, tried in order at the start of a line (after a bullet, if any). Group "n" is the number.
_LINE_MARKERS = [
    ("第一章", re.compile(rf"第(?P<n>[{_CN}]{{1,3}})(?:章|部分|编)\s*")),
    ("第一节", re.compile(rf"第(?P<n>[{_CN}]{{1,3}})节\s*")),
    ("第一条", re.compile(rf"第(?P<n>[{_CN}]{{1,3}})条\s*")),
    ("(一)", re.compile(rf"[(]\s*(?P<n>[{_CN}]{{1,3}})\s*[)]\s*")),
    ("(1)", re.compile(r"[(]\s*(?P<n>\d{1,2})\s*[)]\s*")),
    ("一、", re.compile(rf"(?P<n>[{_CN}]{{1,3}})\s*[、.]\s*")),
    ("1.", re.compile(r"(?P<n>\d{1,2})\s*\.(?!\d)\s*")),
    ("1、", re.compile(r"(?P<n>\d{1,2})\s*、(?!\d)\s*")),
    ("1)", re.compile(r"(?P<n>\d{1,2})\s*\)\s*")),
    ("第一", re.compile(rf"第(?P<n>[{_CN}]{{1,3}})\s*[,、:]\s*")),
    ("一是", re.compile(rf"(?P<n>[{_CN}]{{1,2}})是\s*[,:]?\s*")),
    ("其一", re.compile(rf"其(?P<n>[{_CN}])\s*[,、:]\s*")),
    ("首先", re.compile(r"(?P<n>首先|其次|再次|然后|此外|另外|最后|同时)\s*[,、:]?\s*")),
]
_SEQUENCE_WORDS = {"首先": 1, "其次": 2, "再次": 3}  # 然后 / 此外 / 另外 / 最后 / 同时: one more than the item before
_BULLETS = "✍➤•·●○◆◇■□▪▶►★☆✓✔➢➣❖◎※▸◉"
_BULLET = re.compile(rf"[{_BULLETS}]\s*")

# The conventional hierarchy of Chinese official writing: a lower rank is a higher level.
_RANK = {
    "第一章": -2,
    "第一节": -1,
    "一、": 0,
    "第一条": 0.5,
    "(一)": 1,
    "lead": 1.5,
    "1.": 2,
    "1、": 2,
    "1)": 3,
    "(1)": 3,
    "①": 4,
    "第一": 5,
    "一是": 5,
}
_RANK.update({"其一": 5, "首先": 5, "bullet": 6})

_FINAL = "。.!?;:,、…"
_CJK = re.compile(r"[\u4e00-\u9fff]")
_SPACES = re.compile(r"\s+")
_QUOTE_OPEN, _QUOTE_CLOSE = "“", "”"

# A heading: short, one phrase, no final punctuation ("监狱工作方面", "加强平安建设合作  打造更高水平平安长三角").
_HEADING_MAX = 40
# An announcing line ends with a dash or colon ("重点是开展四个深化合作——", "某某表示——", "主要措施如下:").
_INTRO_END = re.compile(r"(——|—|--|:)\s*$")
_SPEECH = re.compile(
    r"(表示|指出|强调|谈到|说|提出|认为|希望|要求|介绍|回答|坦言|感慨)\s*(道|说|到)?\s*(——|—|--|:)\s*$"
)
_ANNOUNCES = re.compile(
    rf"(以下|如下|下列|主要有|包括|(?:[{_CN}两几]|\d+)\s*(?:个|项|条|大)\s*(?:方面|重点|领域|任务|措施|举措|合作|板块|内容))"
)
# Lead sentences: short, one clause; verb-initial with a cooperation verb when nothing announces them.
_LEAD_MAX = 30
_LEAD_VERB_MAX = 20
_COOPERATION_VERBS = re.compile(
    r"^(加强|深化|推进|建立|健全|完善|探索|推动|强化|开展|统一|共建|共享|打造|构建|促进|创新|提升|落实|实施|搭建|建设|"
    r"优化|规范|拓展|加快|做好|做实|坚持|协同|联合|共同|加大|严格|全面|持续|积极|着力|扎实|聚焦|助力|服务)"
)
# Signing statements are agreements, not measures: a bullet list of them is left to extract.agreements.
_SIGNING = re.compile(r"(签订|签署|签约|共签|签定).{0,6}《|《.{2,80}》.{0,4}(签订|签署)")
_REPEATED_LINE = 3  # a line seen this often is page furniture (a headline repeated between sections)
# The sections of minutes ("一、会议听取了…", "二、会议研究了…", "三、会议议定事项") tell what the meeting did; they are
# no measures (what the meeting decided is read by extract.decisions).
_MINUTES_SECTION = re.compile(
    r"^(?:会议|会上|与会人员|与会各方|与会代表)(?:还|并|先后|集中|重点|主要|首先|认真|一致)?"
    r"(?:听取|研究|审议|讨论|通报|议定|明确|同意|认为|指出|强调|决定|商定|要求|传达|学习|交流)"
    r"|^(?:会议)?(?:议定|商定|决定)事项$"
)
# A field line ("甲方：某某人民检察院", "签订日期：2023年5月12日", "参加人员：…"): a label and its value, no heading.
_FIELD_LINE = re.compile(r"^[^:]{1,12}:\s*\S")
# A list of problems ("存在标准不一的问题，一是…二是…"), not of measures.
_PROBLEMS_LEAD = re.compile(r"问题|不足|短板|困难|差距|原因|分歧|难点|堵点|薄弱")


# ---------------------------------------------------------------------------------------------------------------
# Lines


@dataclass
class _Row:
    """A content line as the tree builder sees it."""

    start: int
    end: int
    text: str
    kind: str = "text"  # item | lead | heading | intro | text
    style: str = ""
    number: int | None = None
    label: str = ""  # the number as written
    marker_start: int = 0  # where the item's number starts (its bullet when it has no other)
    body_start: int = 0  # where the item's text starts (after its number)
    lead_end: int = 0  # for leads: end of the lead sentence (before 。)
    bullet: bool = False


@dataclass
class _Entry:
    style: str
    rank: float
    node: Measure
    number: int | None


@dataclass
class _Builder:
    context: object
    roots: list[Measure] = field(default_factory=list)
    stack: list[_Entry] = field(default_factory=list)
    block_parent: Measure | None = None
    block_confidence: float = 0.9
    block_last: dict[str, int] = field(default_factory=dict)
    pending: list[_Row] = field(default_factory=list)  # heading and/or announcing line above the next list
    previous_last: dict[str, int] = field(default_factory=dict)  # the last numbers of the list before


def _is_cjk_text(text: str) -> bool:
    return len(_CJK.findall(text)) >= 2


def _classify(context, row: _Row) -> None:
    """Set ``row.kind``/``style``/``number`` from the line's start; bullets and sequence words are checked later."""
    text = row.text
    offset = 0
    bullet = _BULLET.match(text)
    if bullet:
        offset = bullet.end()
        row.bullet = True
    marker = _match_marker(context, row.start + offset, text[offset:])
    if marker:
        style, number, label, length = marker
        body = text[offset + length :].strip()
        if _MINUTES_SECTION.search(body):
            return  # a section of minutes: text
        row.kind, row.style, row.number, row.label = "item", style, number, label
        row.marker_start, row.body_start = row.start + offset, row.start + offset + length
        return
    if row.bullet:
        row.kind, row.style, row.number, row.label = "item", "bullet", None, ""
        row.marker_start, row.body_start = row.start, row.start + offset
        return
    stripped = text.rstrip()
    if _FIELD_LINE.match(stripped) and not _INTRO_END.search(stripped):
        return  # "甲方:…", "签订日期:…": text
    if _INTRO_END.search(stripped):
        row.kind = "intro"
    elif (
        len(stripped) <= _HEADING_MAX and stripped[-1] not in _FINAL and "。" not in stripped and _is_cjk_text(stripped)
    ):
        row.kind = "heading"


def _match_marker(context, position: int, text: str) -> tuple[str, int | None, str, int] | None:
    """(style, number, number as written, length of the marker) of a numbered line starting at ``position``."""
    if not text:
        return None
    original = context.text.original
    first = original[context.text.to_original[position]] if position < len(context.text.to_original) - 1 else ""
    if first in _CIRCLED:
        # ① is folded to "1" in ``simple``: skip the digits it became and any separator after them.
        length = 0
        while length < len(text) and context.text.to_original[position + length] == context.text.to_original[position]:
            length += 1
        while length < len(text) and text[length] in " 、.":
            length += 1
        if length >= len(text):
            return None  # a number alone on its line
        return "①", _CIRCLED[first], first, length
    for style, pattern in _LINE_MARKERS:
        match = pattern.match(text)
        if not match:
            continue
        raw = match.group("n")
        if style == "首先":
            number = _SEQUENCE_WORDS.get(raw, 0)
            label = raw
        else:
            number = chinese_number(raw)
            if number is None or number == 0:
                continue
            label = {
                "(一)": f"({raw})",
                "(1)": f"({raw})",
                "一是": f"{raw}是",
                "第一": f"第{raw}",
                "其一": f"其{raw}",
                "第一章": match.group(0).strip(),
                "第一节": match.group(0).strip(),
                "第一条": match.group(0).strip(),
            }.get(style, raw)
        rest = text[match.end() :]
        if not rest or (not _CJK.match(rest[:1]) and rest[:1] not in '“《"('):
            continue  # a number followed by nothing, or by more figures ("3.5亿"), is no list marker
        return style, number, label, match.end()
    return None


def _rows(context) -> list[_Row]:
    lines = context.text.content()
    counts = Counter(line.text for line in lines)
    rows = [
        _Row(start=line.start, end=line.end, text=line.text)
        for line in lines
        if counts[line.text] < _REPEATED_LINE or len(line.text) > 60
    ]
    for row in rows:
        _classify(context, row)
    _check_bullets(rows)
    _check_sequences(rows)
    _find_leads(rows)
    return rows


def _check_bullets(rows: list[_Row]) -> None:
    """Bulleted lines are a list only as a run of two or more real sentences that are not signing statements."""
    index = 0
    while index < len(rows):
        if not rows[index].bullet:
            index += 1
            continue
        end = index
        while end < len(rows) and rows[end].bullet:
            end += 1
        run: list[_Row] = []
        for row in [*rows[index:end], None]:
            if row is not None and len(_CJK.findall(row.text)) >= 8:
                run.append(row)
                continue
            _settle_bullet_run(run)
            run = []
            if row is not None and row.style == "bullet":
                row.kind, row.style = "text", ""  # "• 微信", "• 来源: …": no sentence
        index = end


def _settle_bullet_run(run: list[_Row]) -> None:
    signing = sum(1 for row in run if _SIGNING.search(row.text))
    if signing * 2 >= len(run) and run:
        for row in run:
            row.kind, row.style = "text", ""
    elif len(run) < 2:
        for row in run:
            if row.style == "bullet":
                row.kind, row.style = "text", ""


def _check_sequences(rows: list[_Row]) -> None:
    """ "首先" starts a sequence that "其次 / 再次 / 此外 / 最后 …" continue; "第一" and "其一" must start at one."""
    previous: _Row | None = None
    for row in rows:
        if row.kind != "item" or row.style not in ("首先", "第一", "其一", "一是"):
            previous = row if row.kind == "item" else None
            continue
        continues = previous is not None and previous.kind == "item" and previous.style == row.style
        if row.style == "首先":
            if row.label == "首先":
                row.number = 1
            elif continues:
                row.number = row.number or (previous.number or 0) + 1
                if row.number <= (previous.number or 0):
                    row.number = (previous.number or 0) + 1
            else:
                row.kind, row.style = "text", ""
        elif not continues and row.number != 1:
            row.kind, row.style = "text", ""
        previous = row if row.kind == "item" else None


def _find_leads(rows: list[_Row]) -> None:
    """Mark runs of two or more paragraphs led by a short sentence ("深化反恐怖合作。完善…") as lead areas: a whole
    run when the line above announces it, else its stretches of two or more short verb-initial leads."""
    candidates = [_lead_end(row) for row in rows]
    index = 0
    while index < len(rows):
        if candidates[index] is None:
            index += 1
            continue
        end = index
        while end < len(rows) and candidates[end] is not None:
            end += 1
        if index > 0 and _announces(rows[index - 1].text):
            stretches = [range(index, end)]
        else:
            stretches, stretch = [], []
            for i in [*range(index, end), None]:
                verb_led = i is not None and (
                    candidates[i] - rows[i].start <= _LEAD_VERB_MAX and _COOPERATION_VERBS.match(rows[i].text)
                )
                if verb_led:
                    stretch.append(i)
                    continue
                stretches.append(stretch)
                stretch = []
        for stretch in stretches:
            if len(stretch) < 2:
                continue
            for i in stretch:
                row = rows[i]
                row.kind, row.style, row.label, row.number = "lead", "lead", "", None
                row.body_start, row.lead_end = row.start, candidates[i]
        index = end


def _lead_end(row: _Row) -> int | None:
    """Where the paragraph's lead sentence ends, if it has one (short, one clause, followed by more text)."""
    if row.kind != "text" or row.bullet:
        return None
    stop = row.text.find("。")
    if stop < 2 or stop > _LEAD_MAX:
        return None
    lead = row.text[:stop]
    if any(mark in lead for mark in ",;:!?()") or lead.count(_QUOTE_OPEN) != lead.count(_QUOTE_CLOSE):
        return None
    if lead[0].isdigit() or not _CJK.match(lead[0]):
        return None
    return row.start + stop


def _announces(text: str) -> bool:
    return bool(_INTRO_END.search(text) or _ANNOUNCES.search(text[-30:]))


# ---------------------------------------------------------------------------------------------------------------
# The tree


def find(context) -> list[Measure]:
    rows = _rows(context)
    builder = _Builder(context=context)
    title = _headline_row(context, rows)
    for index, row in enumerate(rows):
        if row.kind in ("item", "lead"):
            _place(builder, rows, index)
        elif row.kind == "heading":
            _close(builder)
            builder.pending = [row]
        elif row.kind == "intro":
            if builder.stack and _continues(builder, rows, index):
                _inline_into(builder, row)
                continue
            _close(builder)
            kept = [pending for pending in builder.pending[-1:] if pending is not title]  # the text's title is no area
            builder.pending = [*kept, row]
            _standalone_inline(builder, row)
        else:
            if builder.stack and _continues(builder, rows, index):
                _inline_into(builder, row)
                continue
            _close(builder)
            builder.pending = []
            _standalone_inline(builder, row)
    _close(builder)
    return builder.roots


def _headline_row(context, rows: list[_Row]) -> _Row | None:
    """The article's headline: a first heading followed by its byline ("来源: …", a date stamp), which labels no
    list below the paragraph that follows it."""
    if not rows or rows[0].kind != "heading":
        return None
    lines = context.text.lines
    following = [line for line in lines if line.start >= rows[0].end]
    return rows[0] if following and following[0].furniture else None


def _continues(builder: _Builder, rows: list[_Row], index: int) -> bool:
    """Whether the list goes on after the unnumbered line ``rows[index]`` (the line then belongs to its item)."""
    for ahead in rows[index + 1 : index + 4]:
        if ahead.kind == "heading":
            return False
        if ahead.kind not in ("item", "lead"):
            continue
        if ahead.number == 1 and _rank(ahead.style) > builder.stack[-1].rank:
            return True  # a list below the item above ("(一)…", a paragraph, then "1.…")
        for entry in builder.stack:
            if entry.style != ahead.style:
                continue
            if entry.number is None or ahead.number is None:
                return True
            return ahead.number == entry.number + 1
        return False
    return False


def _place(builder: _Builder, rows: list[_Row], index: int) -> None:
    row = rows[index]
    rank = _rank(row.style)
    if not builder.stack:
        _start(builder, row, rank)
        return
    position = next((i for i, entry in enumerate(builder.stack) if entry.style == row.style), None)
    if position is not None:
        entry = builder.stack[position]
        if row.number == 1 and entry.number is not None and entry.number >= 1 and position == 0:
            _close(builder)  # numbering starts again: a new list
            _start(builder, row, rank)
            return
        del builder.stack[position + 1 :]
        node = _node(builder, row)
        _check_number(node, row, entry.number)
        parent = builder.stack[position - 1].node if position else builder.block_parent
        _attach(builder, parent, node)
        entry.node, entry.number = node, row.number
        _remember(builder, row)
        return
    if rank < builder.stack[0].rank:
        _close(builder)  # a higher level than the list's own: a new list
        _start(builder, row, rank)
        return
    while builder.stack and builder.stack[-1].rank >= rank:
        builder.stack.pop()
    if not builder.stack:
        _close(builder)
        _start(builder, row, rank)
        return
    node = _node(builder, row)
    _check_number(node, row, builder.block_last.get(row.style, 0) if row.number and row.number > 1 else 0)
    parent = builder.stack[-1].node
    parent.children.append(node)
    parent.area = True  # it groups the lines below it
    builder.stack.append(_Entry(row.style, rank, node, row.number))
    _remember(builder, row)


def _rank(style: str) -> float:
    return _RANK.get(style, _RANK["bullet"])


def _start(builder: _Builder, row: _Row, rank: float) -> None:
    """Open a list at ``row``, under an area made from the heading or announcing line above it, if any."""
    area = _label_area(builder)
    builder.block_parent = area
    builder.block_last = {}
    if area is not None:
        builder.roots.append(area)
    node = _node(builder, row)
    if row.number is not None:
        previous = builder.previous_last.get(row.style, 0)  # numbered on across a heading: 1–4, heading, 5–8
        _check_number(node, row, previous if previous < row.number else 0)
    _attach(builder, area, node)
    builder.stack = [_Entry(row.style, rank, node, row.number)]
    _remember(builder, row)


def _label_area(builder: _Builder) -> Measure | None:
    pending, builder.pending = builder.pending, []
    if not pending:
        builder.block_confidence = 0.8
        return None
    heading = next((row for row in pending if row.kind == "heading"), None)
    text = builder.context.text
    if heading is not None:
        builder.block_confidence = 0.9
        return Measure(
            number="",
            text=_area_text(heading.text),
            span=text.span(heading.start, heading.end),
            area=True,
            confidence=0.9,
        )
    intro = pending[-1]
    label = _INTRO_END.sub("", intro.text).strip()
    start = intro.start
    if "。" in label or len(label) > _HEADING_MAX:  # a paragraph announcing: its last sentence or clause names it
        cut = max(label.rfind(mark) for mark in ("。,;" if len(label) > _HEADING_MAX else "。")) + 1
        start += cut
        label = label[cut:].strip()
    area = Measure(number="", text=label, span=text.span(start, start + len(label)), area=True, confidence=0.6)
    builder.block_confidence = 0.6
    if _SPEECH.search(intro.text):
        builder.block_confidence = 0.4
        area.confidence = 0.4
        area.warnings.append(_("Introduced as what someone said: check whether these are measures of an agreement."))
    return area


def _area_text(heading: str) -> str:
    text = _SPACES.sub(" ", heading).strip()
    if text.endswith("方面") and len(text) > 2:
        text = text[: -len("方面")]
    return text


def _node(builder: _Builder, row: _Row) -> Measure:
    text = builder.context.text
    if row.kind == "lead":
        start, end = row.start, row.lead_end
        body = text.simple[start:end]
        node = Measure(number="", text=body, span=text.span(start, end), area=True)
        node.confidence = max(builder.block_confidence - 0.1, 0.5)
    else:
        end = row.end
        while end > row.body_start and text.simple[end - 1] in "。;,、 ":
            end -= 1
        body = _SPACES.sub(" ", text.simple[row.body_start : end]).strip()
        span = text.span(row.marker_start, end)
        node = Measure(number=row.label, text=body, span=span, confidence=builder.block_confidence)
    first_marker = _inline_children(builder, node, row.body_start if row.kind != "lead" else row.lead_end + 1, row.end)
    if row.kind != "lead" and first_marker is not None:
        _name_by_lead_in(builder, node, row, first_marker)
    return node


_AREA_PHRASE = re.compile(r"^(?:在|从|就)(?P<area>.{2,20}?)(?:方面|领域)$")


def _name_by_lead_in(builder: _Builder, node: Measure, row: _Row, first_marker: int) -> None:
    """An item whose text lists its own measures ("首先，在治安防控方面：一是…；二是…") is an area named by its
    lead-in ("治安防控"); its span still covers the whole item."""
    simple = builder.context.text.simple
    lead_end = first_marker
    while lead_end > row.body_start and simple[lead_end - 1] in ",:;、 —":
        lead_end -= 1
    lead = simple[row.body_start : lead_end].strip()
    if not lead or len(lead) > _LEAD_MAX or any(mark in lead for mark in "。;"):
        return
    phrase = _AREA_PHRASE.match(lead)
    node.text = phrase.group("area") if phrase else lead
    node.area = True


def _attach(builder: _Builder, parent: Measure | None, node: Measure) -> None:
    (parent.children if parent is not None else builder.roots).append(node)


def _remember(builder: _Builder, row: _Row) -> None:
    if row.number is not None:
        builder.block_last[row.style] = row.number


def _check_number(node: Measure, row: _Row, previous: int | None) -> None:
    """Warn about a gap or a step back between ``previous`` and this item's number."""
    if row.number is None or previous is None or row.style == "首先":
        return
    expected = previous + 1
    if row.number == expected:
        return
    if row.number < expected:
        node.warnings.append(_("Item %(number)s is out of order.") % {"number": row.label})
    elif row.number == expected + 1:
        node.warnings.append(_("Item %(number)s is missing.") % {"number": _written(row.style, expected)})
    else:
        node.warnings.append(
            _("Items %(first)s to %(last)s are missing.")
            % {"first": _written(row.style, expected), "last": _written(row.style, row.number - 1)}
        )
    node.confidence = round(max(node.confidence - 0.2, 0.3), 2)


def _close(builder: _Builder) -> None:
    if builder.stack:
        builder.previous_last = dict(builder.block_last)
    builder.stack = []
    builder.block_parent = None
    builder.block_last = {}


# ---------------------------------------------------------------------------------------------------------------
# Lists inside one paragraph

_INLINE = [
    ("一是", re.compile(rf"(?P<n>[{_CN}]{{1,2}})(?:是|要)\s*[,:]?")),
    ("第一", re.compile(rf"第(?P<n>[{_CN}]{{1,2}})\s*[,、:]")),
    ("首先", re.compile(r"(?P<n>首先|其次|再次|然后|此外|另外|最后)\s*[,、:]")),
    ("(1)", re.compile(r"[(]\s*(?P<n>\d{1,2})\s*[)]")),
    ("(一)", re.compile(rf"[(]\s*(?P<n>[{_CN}]{{1,2}})\s*[)]")),
]
_INLINE_BOUNDARY = "。;,:!?、 “”\n"


@dataclass
class _InlineItem:
    start: int  # the marker
    body_start: int
    label: str
    number: int


def _inline_lists(context, start: int, end: int) -> list[list[_InlineItem]]:
    """Lists written inside ``simple[start:end]``: two or more markers of one family numbered from one."""
    simple = context.text.simple
    found: list[list[_InlineItem]] = []
    for style, pattern in _INLINE:
        items: list[_InlineItem] = []
        for match in pattern.finditer(simple, start, end):
            at = match.start()
            if at > start and simple[at - 1] not in _INLINE_BOUNDARY:
                continue
            raw = match.group("n")
            if style == "首先":
                number = _SEQUENCE_WORDS.get(raw, items[-1].number + 1 if items else 0)
            else:
                number = chinese_number(raw) or 0
            label = {
                "一是": match.group(0).rstrip(",: "),
                "第一": f"第{raw}",
                "(1)": f"({raw})",
                "(一)": f"({raw})",
            }.get(style, raw)
            if style == "一是":
                label = label[: len(raw) + 1]
            item = _InlineItem(start=at, body_start=match.end(), label=label, number=number)
            if items and number == items[-1].number + 1:
                items.append(item)
            elif number == 1:
                if len(items) >= 2:
                    found.append(items)
                items = [item]
        if len(items) >= 2:
            found.append(items)
    found = [
        items
        for items in found
        if not _inside_quotes(simple, start, items[0].start) and not _lists_problems(simple, start, items[0].start)
    ]
    found.sort(key=lambda items: items[0].start)
    kept: list[list[_InlineItem]] = []
    for items in found:  # one list per stretch of text: "一是" lists may hold "(1)" lists, not the other way round
        if kept and items[0].start < kept[-1][-1].start:
            continue
        kept.append(items)
    return kept


def _lists_problems(simple: str, start: int, position: int) -> bool:
    """Whether the clause leading into a list at ``position`` announces problems ("仍存在标准不一的问题，一是…")."""
    lead_in = simple[start:position]
    sentence = re.split(r"[。;!?]", lead_in)[-1]
    return bool(_PROBLEMS_LEAD.search(sentence))


def _inside_quotes(simple: str, start: int, position: int) -> bool:
    before = simple[start:position]
    return before.count(_QUOTE_OPEN) > before.count(_QUOTE_CLOSE)


def _inline_nodes(context, items: list[_InlineItem], end: int, confidence: float) -> list[Measure]:
    simple, text = context.text.simple, context.text
    one_sentence = "。" not in simple[items[0].start : items[-1].start]
    nodes = []
    for index, item in enumerate(items):
        if index + 1 < len(items):
            stop = items[index + 1].start
        else:
            stop = end
            if one_sentence:
                sentence_end = simple.find("。", item.body_start, end)
                stop = sentence_end if sentence_end != -1 else end
        while stop > item.body_start and simple[stop - 1] in "。;,、 ":
            stop -= 1
        body = simple[item.body_start : stop].strip()
        if not body:
            continue
        nodes.append(Measure(number=item.label, text=body, span=text.span(item.start, stop), confidence=confidence))
    return nodes


def _inline_children(builder: _Builder, node: Measure, start: int, end: int) -> int | None:
    """Add the lists written inside ``simple[start:end]`` to ``node``; where the first of them starts (or None)."""
    first = None
    for items in _inline_lists(builder.context, start, end):
        children = _inline_nodes(builder.context, items, end, max(node.confidence - 0.1, 0.4))
        if children and first is None:
            first = items[0].start
        node.children.extend(children)
    return first


def _inline_into(builder: _Builder, row: _Row) -> None:
    """A paragraph inside a list (an item's second paragraph): its inline lists belong to the item above."""
    if builder.stack:
        _inline_children(builder, builder.stack[-1].node, row.start, row.end)


def _standalone_inline(builder: _Builder, row: _Row) -> None:
    """An inline list in an ordinary paragraph: an area of its own, its text the lead-in before the first marker."""
    context = builder.context
    simple = context.text.simple
    for items in _inline_lists(context, row.start, row.end):
        first = items[0].start
        sentence_start = max(simple.rfind(mark, row.start, first) for mark in "。;!?") + 1
        sentence_start = max(sentence_start, row.start)
        lead_end = first
        while lead_end > sentence_start and simple[lead_end - 1] in ",:;、 —":
            lead_end -= 1
        if lead_end <= sentence_start and sentence_start > row.start:  # "…。一是…": the sentence before leads in
            lead_end = sentence_start - 1
            sentence_start = max(max(simple.rfind(mark, row.start, lead_end) for mark in "。;!?") + 1, row.start)
        lead = simple[sentence_start:lead_end].strip()
        area = Measure(
            number="",
            text=lead,
            span=context.text.span(sentence_start, lead_end if lead else first),
            area=True,
            confidence=0.5,
            warnings=[_("A list found inside a paragraph: check whether these are measures.")],
        )
        area.children = _inline_nodes(context, items, row.end, 0.5)
        if len(area.children) >= 2:
            builder.roots.append(area)


# ---------------------------------------------------------------------------------------------------------------
# Agenda topics

_DISCUSSION = r"(?:交流|讨论|研讨|座谈|探讨|协商|会商|研究|磋商|沟通|对话|发言)"
_TOPIC_PATTERNS = [
    # 围绕A、B、C等问题进行了深入交流 / 围绕A和B进行研讨: the discussion verb closes the clause
    re.compile(
        r"围绕(?:着)?(?P<list>[^。;!?,]{2,200}?)(?:等)?(?P<noun>问题|议题|事项|课题|主题|工作|内容)?\s*"
        r"(?:进行了?|开展了?|展开了?|作了?)?\s*(?:深入|充分|广泛|热烈|认真)?\s*(?:的)?\s*"
        rf"{_DISCUSSION}+(?=[,。;!]|了|$)"
    ),
    # 围绕A、B等问题/议题
    re.compile(r"围绕(?:着)?(?P<list>[^。;!?,]{2,200}?)等(?P<noun>问题|议题)"),
    # 会议研究了… / 会议审议了… / 会议听取了…
    re.compile(
        r"(?:会议|会上|座谈会|联席会议?|会商会)(?:还|并|先后|集中|重点|主要|首先)?"
        r"(?:研究|审议|听取|讨论|通报|学习|传达)(?!通过)了?(?P<list>[^。]{2,300})"
    ),
    # 议题包括… / 主要议题有…
    re.compile(r"议题(?:主要)?(?:包括|有|为|是)[:]?(?P<list>[^。]{2,300})"),
]
_TOPIC_SPLIT = re.compile(r"[、;]|,(?:并|还|同时)?(?:研究|审议|听取|讨论|通报)了?")
_TOPIC_VERB = re.compile(r"(?:并|还|同时)?(?:研究|审议|听取|讨论|通报|学习|传达)(?!通过)了?")


_TOPIC_TRAILING = re.compile(r"等(?:问题|议题|事项|课题|主题|工作|内容|方面)?(?:进行了?|作了?)?$")


def topics(context) -> list[Topic]:
    simple, text = context.text.simple, context.text
    found: list[Topic] = []
    covered: list[tuple[int, int]] = []
    for line in context.text.content():
        for pattern in _TOPIC_PATTERNS:
            for match in pattern.finditer(simple, line.start, line.end):
                start, end = match.span("list")
                if any(s < end and start < e for s, e in covered):
                    continue
                pieces = _split_topics(simple, start, end)
                if not pieces:
                    continue
                covered.append((start, end))
                for piece_start, piece_end in pieces:
                    found.append(
                        Topic(
                            text=simple[piece_start:piece_end],
                            span=text.span(piece_start, piece_end),
                            confidence=0.7 if len(pieces) > 1 else 0.5,
                        )
                    )
    return found


def _split_topics(simple: str, start: int, end: int) -> list[tuple[int, int]]:
    pieces = []
    cursor = start
    for separator in [*_TOPIC_SPLIT.finditer(simple, start, end), None]:
        piece_end = separator.start() if separator else end
        piece_start = cursor
        while piece_start < piece_end and simple[piece_start] in " ,:“":
            piece_start += 1
        verb = _TOPIC_VERB.match(simple, piece_start, piece_end)
        if verb:  # "…;审议了督办办法": the next verb of the same list
            piece_start = verb.end()
        while piece_end > piece_start and simple[piece_end - 1] in " ,:”":
            piece_end -= 1
        trailing = _TOPIC_TRAILING.search(simple, piece_start, piece_end)
        if trailing:  # "…虚假诉讼协同治理等问题": the list's closing noun
            piece_end = trailing.start()
        if piece_end - piece_start >= 2:
            pieces.append((piece_start, piece_end))
        if separator:
            cursor = separator.end()
    return pieces
