"""Decisions of a meeting, as minutes and reports of meetings write them.

Three forms:
- a sentence whose subject is the meeting or its members and whose verb decides: "会议商定，2022年座谈会在江苏省召开",
  "经会商，双方一致同意建立…", "与会各方明确…"; the decision is what follows the verb, to the end of the sentence;
- a list announced by such a sentence ending in a colon ("会议议定如下：", "会议明确了以下事项：") or by a heading
  ("议定事项", "二、会议议定事项"): each numbered item of the first numbering style is a decision, items of other
  styles below it belong to it;
- an inline list after such a verb: "会议议定：一是…；二是…".

Each decision carries its lead agency when the text says who carries it out ("由四川省高级人民法院牵头", "江苏省委政法委
承办"), the agencies that help ("…配合"), and its deadline when a date is followed by 前 / 底前 / 之前.

Opinions and exhortations ("会议认为", "会议强调", "会议要求") are not decisions and are left out.
"""

from __future__ import annotations

import calendar
import datetime
import re

from ..draft import AgencyRef, Decision
from . import dates

_SUBJECT = r"(?:本次会议|会议|会上|与会各方|与会单位|与会人员|各方|双方|[两二三四五六七八九十]+(?:方|地|家单位|家))"
_VERB = r"(?:一致)?(?:商定|议定|决定|原则同意|同意|明确|确定)"
_STRONG = ("商定", "议定", "决定")
# "会议商定，…", "经会商，双方一致同意…", "会议研究决定：…"
_SENTENCE = re.compile(
    rf"\s*(?:经(?:认真|充分|集体)?(?:研究|讨论|协商|会商|磋商|商议)[,]?)?"
    rf"(?P<subject>{_SUBJECT})?(?:经?(?:认真|充分|集体)?(?:研究|讨论|协商|会商|磋商)[,]?)?"
    rf"(?P<verb>{_VERB})(?:了|如下|以下事项|以下)*(?P<colon>:)?\s*"
)
# Inside a "议定事项" section written as prose, what the meeting requires is decided too ("会议要求，一是…").
_SECTION_SENTENCE = re.compile(rf"\s*(?P<subject>{_SUBJECT})(?P<verb>要求|提出)(?:了)?(?P<colon>:)?[,]?\s*")
_HEADING = re.compile(rf"^(?:{_SUBJECT})?(?:议定|商定|决定|明确)(?:的)?事项(?:如下)?[:]?$")
_MARKER = re.compile(
    r"^\s*(?:(?P<cn>[一二三四五六七八九十]{1,3})[、.]|\((?P<paren>[一二三四五六七八九十]{1,3})\)"
    r"|(?P<digit>\d{1,2})[.、](?!\d)|\((?P<pdigit>\d{1,2})\)|(?P<ordinal>[一二三四五六七八九十]{1,3})是)\s*"
)
# Outer to inner: "一、" above "(一)" above "1." above "(1)"; "一是" lists sit inside a paragraph.
_RANK = {"cn": 0, "paren": 1, "digit": 2, "pdigit": 3, "ordinal": 4}
_INLINE = re.compile(r"(?:^|(?<=[;。,:]))\s*(?:[一二三四五六七八九十]{1,3}是|第[一二三四五六七八九十]{1,3}[,,])")
_LEAD = re.compile(r"^\s*(?:牵头|负责|承办|组织|具体负责|主办|主责)")
_HELPS = re.compile(r"^\s*(?:配合|协助|协办|参与)")
_HELPS_SOON = re.compile(r"^[^。;,]{0,25}?(?:配合|协助|协办|参与)")
_LEADS_SOON = re.compile(r"^[^。;,]{0,8}?(?:牵头|负责|承办|组织)")
_DUE = re.compile(r"^\s*(?:底|年底|月底)?(?:前|之前|以前)")
_YEAR_END = re.compile(r"(?:年底|年末)(?:前|之前)")
_END = "。!?"
_SENTENCE_BREAK = re.compile(r"[。;!?]")


def _sentence_end(simple: str, start: int, limit: int) -> int:
    position = start
    while position < limit and simple[position] not in _END:
        position += 1
    return position


def _sentence_starts(simple: str, start: int, end: int) -> list[int]:
    return [start, *(m.end() for m in _SENTENCE_BREAK.finditer(simple, start, end))]


def _trim(simple: str, start: int, end: int) -> tuple[int, int]:
    while start < end and simple[start] in " ,:;“\u3000":
        start += 1
    while end > start and simple[end - 1] in " ,:;。”\u3000":
        end -= 1
    return start, end


def _style(match: re.Match) -> str:
    return next(name for name, value in match.groupdict().items() if value)


def _owners(context, start: int, end: int) -> tuple[AgencyRef | None, list[AgencyRef]]:
    """The lead ("由A牵头", "A负责") and the helpers ("A、B配合") named inside ``start``:``end``."""
    simple = context.text.simple
    lead, helpers = None, []
    for span_start, span_end, ref in context.agency_spans:
        if span_start < start or span_end > end:
            continue
        after = simple[span_end : span_end + 30]
        led = _LEAD.match(after) or (simple[span_start - 1 : span_start] == "由" and _LEADS_SOON.match(after))
        if lead is None and led:
            lead = ref
        elif (_HELPS.match(after) or (after[:1] in "、和与及" and _HELPS_SOON.match(after))) and all(
            ref is not other for other in helpers
        ):
            helpers.append(ref)
    return lead, helpers


def _last_day(iso: str) -> str:
    parts = [int(p) for p in iso.split("-")]
    if len(parts) == 1:
        return f"{parts[0]:04d}-12-31"
    if len(parts) == 2:
        return f"{parts[0]:04d}-{parts[1]:02d}-{calendar.monthrange(parts[0], parts[1])[1]:02d}"
    return datetime.date(*parts).isoformat()


def _due(context, mentions, start: int, end: int, year: int | None) -> str:
    simple = context.text.simple
    for mention in mentions:
        if mention.start < start or mention.end > end or not mention.resolved:
            continue
        if _DUE.match(simple[mention.end : mention.end + 4]):
            return _last_day(mention.end_date or mention.date)
    if year is not None and _YEAR_END.search(simple, start, end):
        return f"{year:04d}-12-31"
    return ""


def _year(context, mentions) -> int | None:
    for mention in mentions:
        if mention.resolved and not mention.in_title:
            return int(mention.date[:4])
    return context.published.year if context.published else None


class _Collector:
    def __init__(self, context) -> None:
        self.context = context
        self.mentions = dates.find_dates(context)
        self.year = _year(context, self.mentions)
        self.found: list[Decision] = []
        self.covered: list[tuple[int, int]] = []

    def taken(self, start: int, end: int) -> bool:
        return any(s < end and start < e for s, e in self.covered)

    def add(self, start: int, end: int, confidence: float) -> None:
        simple, text = self.context.text.simple, self.context.text
        start, end = _trim(simple, start, end)
        if end - start < 4 or self.taken(start, end):
            return
        self.covered.append((start, end))
        lead, helpers = _owners(self.context, start, end)
        self.found.append(
            Decision(
                text=simple[start:end],
                span=text.span(start, end),
                lead=lead,
                co_owners=helpers,
                due_date=_due(self.context, self.mentions, start, end, self.year),
                confidence=confidence,
            )
        )


def _list_after(collector: _Collector, lines, index: int, confidence: float) -> int:
    """The numbered items following ``lines[index]``: returns how many lines were read."""
    top = None
    current: tuple[int, int] | None = None
    read = 0
    for line in lines[index + 1 :]:
        marker = _MARKER.match(line.text)
        if marker is None:
            break
        style = _style(marker)
        if top is None:
            top = style
        if _RANK[style] < _RANK[top]:
            break  # an outer level: the next section of the minutes
        if style == top:
            if current:
                collector.add(*current, confidence)
            current = (line.start + marker.end(), line.end)
        elif current:
            current = (current[0], line.end)
        read += 1
    if current:
        collector.add(*current, confidence)
    return read


def _inline_items(collector: _Collector, start: int, end: int, confidence: float) -> bool:
    simple = collector.context.text.simple
    starts = [m for m in _INLINE.finditer(simple, start, end)]
    if len(starts) < 2:
        return False
    for here, following in zip(starts, [*starts[1:], None], strict=False):
        collector.add(here.end(), following.start() if following else end, confidence)
    return True


def find(context) -> list[Decision]:
    collector = _Collector(context)
    simple = context.text.simple
    lines = context.text.content()
    skip = 0
    section = False  # inside a "议定事项" section written as prose
    for index, line in enumerate(lines):
        if skip:
            skip -= 1
            continue
        body = line.text
        marker = _MARKER.match(body)
        heading_text = body[marker.end() :] if marker else body
        if _HEADING.match(heading_text.strip()):
            skip = _list_after(collector, lines, index, 0.8)
            section = not skip
            continue
        if marker and marker.group("cn"):
            section = False  # the next section of the minutes
        for sentence_start in _sentence_starts(simple, line.start, line.end):
            match = _SENTENCE.match(simple, sentence_start, line.end)
            if match is None and section:
                match = _SECTION_SENTENCE.match(simple, sentence_start, line.end)
            if match is None:
                continue
            if match.group("subject") is None and not simple[match.start() : match.start("verb")].strip():
                continue  # a bare "同意…" / "明确…" starting a sentence is no decision of the meeting
            strong = any(word in match.group("verb") for word in _STRONG)
            confidence = 0.75 if strong else 0.6
            content_start = match.end()
            end = _sentence_end(simple, content_start, line.end)
            if match.group("colon") and end >= line.end - 1 and content_start >= line.end - 1:
                skip = _list_after(collector, lines, index, confidence + 0.05)
                break
            if _inline_items(collector, content_start, end, confidence):
                continue
            collector.add(content_start, end, confidence)
    return sorted(collector.found, key=lambda decision: decision.span[0])
