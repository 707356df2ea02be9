"""Dates in the text and the event they belong to: kind (签约 / 会议 / 考察 / 发布), date(s), place, headline, and the
next meeting when the text announces one.

``find_dates(context)`` lists every date expression of the content lines with its resolved ISO date(s) and its
offsets in ``text.simple``: absolute dates ("2020年9月23日", "9月23日", "二〇二〇年九月二十三日", "2020-09-23"),
ranges ("6月17日—18日", "6月17日至18日", "6月17日-7月2日", "2018年—2020年"), dates relative to the publication date
("去年11月", "今年4月", "上月", "昨天"), to the previous date ("当天", "次日"), and vague ones ("近日", "日前",
"近期": the publication date, low confidence, a warning). A date without a year takes the publication date's year
(the year before when that would put it more than a month after publication). Without a publication date, the
page's own date stamp ("2020年05月14日 07时57分", "发布时间：2021-10-09") stands in for it; without either, the year
comes from the nearest date written with its year, else the date stays unresolved with a warning.

``resolve_date(text, published)`` resolves one expression; ``date_before(mentions, offset)`` is the nearest
resolved date before an offset (what the agreements extractor dates an agreement with). ISO strings throughout:
"2020-06-17" for a day, "2019-11" for a month, "2022" for a year.
"""

from __future__ import annotations

import bisect
import datetime
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from ..draft import Event, NextMeeting
from . import agencies

# -- numbers ---------------------------------------------------------------------------------------------------

CHINESE_DIGITS = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
CHINESE_UNITS = {"十": 10, "百": 100, "千": 1000}
CHINESE_BIG_UNITS = {"万": 10**4, "亿": 10**8}


def chinese_number(text: str) -> int | None:
    """The value of a number written in Chinese numerals or Arabic digits: "二十三" → 23, "二〇二〇" → 2020 (digit by
    digit when there is no unit character), "三万五千" → 35000, "18" → 18; None when it is not a number."""
    if not text:
        return None
    if text.isdigit() and text.isascii():
        return int(text)
    if all(char in CHINESE_DIGITS for char in text):
        value = 0
        for char in text:
            value = value * 10 + CHINESE_DIGITS[char]
        return value
    total = section = number = 0
    for char in text:
        if char in CHINESE_DIGITS:
            number = CHINESE_DIGITS[char]
        elif char in CHINESE_UNITS:
            section += (number or 1) * CHINESE_UNITS[char]
            number = 0
        elif char == "万":
            total += (section + number) * 10**4
            section = number = 0
        elif char == "亿":
            total = (total + section + number) * 10**8
            section = number = 0
        else:
            return None
    return total + section + number


# -- date expressions ------------------------------------------------------------------------------------------

_CN_YEAR = r"[〇零一二三四五六七八九]{4}"
_YEAR = rf"(?:\d{{4}}|{_CN_YEAR})"
_CN_MONTH = r"十[一二]?|[一二三四五六七八九]"
_CN_DAY = r"三十一?|二十[一二三四五六七八九]?|十[一二三四五六七八九]?|[一二三四五六七八九]"
_MONTH = rf"(?:\d{{1,2}}|{_CN_MONTH})"
_DAY = rf"(?:\d{{1,2}}|{_CN_DAY})"
_SEP = r"\s*(?:—+|–|-|~|至|到)\s*"
_PART_OF_MONTH = r"上旬|中旬|下旬|初|底|末"

DATE_PATTERN = re.compile(
    # 2020-09-23, 2020/9/23, 2020.09.23
    r"(?<![\d.])(?P<num_y>\d{4})[-/.](?P<num_m>\d{1,2})[-/.](?P<num_d>\d{1,2})(?![\d.])"
    # [2020年]9月[23日][上旬] [— [2020年][10月]2日]
    rf"|(?<!\d)(?<!\d至)(?<!\d到)(?<!\d-)(?<!\d—)(?<!\d~)(?:(?P<y>{_YEAR})年)?(?P<m>{_MONTH})月份?"
    rf"(?:(?P<d>{_DAY})[日号]|(?P<d_bare>\d{{1,2}}|{_CN_DAY})(?={_SEP}))?(?P<part>{_PART_OF_MONTH})?"
    rf"(?:(?P<sep>{_SEP})(?:(?:(?P<y2>{_YEAR})年)?(?P<m2>{_MONTH})月(?:(?P<d2m>{_DAY})[日号])?|(?P<d2>{_DAY})[日号]))?"
    # 去年11月, 今年4月1日, 明年
    rf"|(?P<rel_year>今年|去年|前年|明年|(?<!以)上年|(?<![以之])后年|本年)(?:(?P<rel_m>{_MONTH})月份?(?:(?P<rel_d>{_DAY})[日号])?)?"
    # 上月, 本月15日
    rf"|(?P<rel_month>上个月|上月|本月|下个月|下月)(?:(?P<rel_month_d>{_DAY})[日号])?"
    r"|(?P<rel_day>今天|今日|昨天|昨日|前天|明天|明日)"
    r"|(?P<same_day>当天|当日|同日|同一天|次日|翌日)"
    r"|(?P<vague>近日|(?<![节假生末今昨当每])日前|近期|近来|不久前|前不久|最近)"
    # 2022年, 2018年—2020年
    rf"|(?<!\d)(?P<year_only>{_YEAR})年(?:(?P<year_sep>{_SEP})(?P<year_only2>{_YEAR})年)?"
    # 18日，… (a day of the month under discussion)
    r"|(?<![\d月.])(?P<day_only>\d{1,2})日(?=上午|下午|晚上|晚间|早上|凌晨|中午|，|,)"
)

_RELATIVE_YEARS = {"今年": 0, "本年": 0, "去年": -1, "上年": -1, "前年": -2, "明年": 1, "后年": 2}
_RELATIVE_MONTHS = {"上个月": -1, "上月": -1, "本月": 0, "下个月": 1, "下月": 1}
_RELATIVE_DAYS = {"今天": 0, "今日": 0, "昨天": -1, "昨日": -1, "前天": -2, "明天": 1, "明日": 1}
_SAME_DAYS = {"当天": 0, "当日": 0, "同日": 0, "同一天": 0, "次日": 1, "翌日": 1}

# A date more than this far after the publication date is taken to be in the year before (a "12月28日" in an
# article of 5 January); announced events a few weeks ahead stay in the same year.
FUTURE_TOLERANCE = datetime.timedelta(days=31)


@dataclass
class DateMention:
    """A date expression: ``text`` as written at ``start``:``end`` of ``text.simple``; ``date`` / ``end_date`` ISO
    ("" when unresolved; ``end_date`` only for a range); ``precision`` day / month / year; ``vague`` for "近日";
    ``in_title`` when inside 《》."""

    text: str
    start: int
    end: int
    date: str = ""
    end_date: str = ""
    precision: str = "day"
    explicit_year: bool = False
    vague: bool = False
    in_title: bool = False
    confidence: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def resolved(self) -> bool:
        return bool(self.date)

    def first_day(self) -> datetime.date | None:
        return _first_day(self.date)


@dataclass
class _Parts:
    """One match taken apart before resolving: year (None when not written), month, day, the range's end and how
    the expression refers to something else (publication date, previous date)."""

    year: int | None = None
    month: int | None = None
    day: int | None = None
    end_year: int | None = None
    end_month: int | None = None
    end_day: int | None = None
    end_is_year: bool = False
    relative_year: int | None = None
    relative_month: int | None = None
    relative_day: int | None = None
    same_day: int | None = None
    vague: bool = False
    day_only: bool = False
    valid_end: int | None = None  # where the match really ends when its range part was not a range


def _parts(match: re.Match) -> _Parts | None:
    g = match.groupdict()
    if g["num_y"]:
        return _Parts(year=int(g["num_y"]), month=int(g["num_m"]), day=int(g["num_d"]))
    if g["m"]:
        parts = _Parts(
            year=chinese_number(g["y"]) if g["y"] else None,
            month=chinese_number(g["m"]),
            day=chinese_number(g["d"] or g["d_bare"]) if (g["d"] or g["d_bare"]) else None,
        )
        if g["sep"]:
            end_day = g["d2m"] or g["d2"]
            if g["m2"] or (end_day and parts.day):
                parts.end_year = chinese_number(g["y2"]) if g["y2"] else None
                parts.end_month = chinese_number(g["m2"]) if g["m2"] else None
                parts.end_day = chinese_number(end_day) if end_day else None
            else:
                parts.valid_end = match.start("sep")
        if g["d_bare"] and parts.end_day is None:
            return None  # "6月17" followed by a dash that is no range
        return parts
    if g["rel_year"]:
        return _Parts(
            relative_year=_RELATIVE_YEARS[g["rel_year"]],
            month=chinese_number(g["rel_m"]) if g["rel_m"] else None,
            day=chinese_number(g["rel_d"]) if g["rel_d"] else None,
        )
    if g["rel_month"]:
        return _Parts(
            relative_month=_RELATIVE_MONTHS[g["rel_month"]],
            day=chinese_number(g["rel_month_d"]) if g["rel_month_d"] else None,
        )
    if g["rel_day"]:
        return _Parts(relative_day=_RELATIVE_DAYS[g["rel_day"]])
    if g["same_day"]:
        return _Parts(same_day=_SAME_DAYS[g["same_day"]])
    if g["vague"]:
        return _Parts(vague=True)
    if g["year_only"]:
        year = chinese_number(g["year_only"])
        if not year or not 1900 <= year <= 2100:
            return None
        parts = _Parts(year=year)
        if g["year_only2"]:
            end_year = chinese_number(g["year_only2"])
            if end_year and year < end_year <= 2100:
                parts.end_year, parts.end_is_year = end_year, True
            else:
                parts.valid_end = match.start("year_sep")
        return parts
    if g["day_only"]:
        return _Parts(day=int(g["day_only"]), day_only=True)
    return None


def _make_date(year: int | None, month: int | None, day: int | None) -> datetime.date | None:
    if year is None or month is None:
        return None
    try:
        return datetime.date(year, month, day or 1)
    except ValueError:
        return None


def _iso(year: int, month: int | None = None, day: int | None = None) -> str:
    if month is None:
        return f"{year:04d}"
    if day is None:
        return f"{year:04d}-{month:02d}"
    return f"{year:04d}-{month:02d}-{day:02d}"


def _first_day(iso: str) -> datetime.date | None:
    if not iso:
        return None
    pieces = [int(piece) for piece in iso.split("-")]
    try:
        return datetime.date(pieces[0], pieces[1] if len(pieces) > 1 else 1, pieces[2] if len(pieces) > 2 else 1)
    except ValueError:
        return None


def _year_near(month: int, day: int | None, reference: datetime.date) -> int:
    """The year of a month/day written without one, seen from ``reference`` (the publication date)."""
    candidate = _make_date(reference.year, month, day if day else 1)
    if candidate is not None and candidate - reference > FUTURE_TOLERANCE:
        return reference.year - 1
    return reference.year


def _shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def _fill(mention: DateMention, parts: _Parts, year: int) -> bool:
    """Set ``mention``'s ISO dates from ``parts`` with ``year`` for the start; False when that is no real date."""
    month, day = parts.month, parts.day
    if month is None:
        mention.date, mention.precision = _iso(year), "year"
        if parts.end_is_year and parts.end_year:
            mention.end_date = _iso(parts.end_year)
        return True
    if _make_date(year, month, day) is None:
        return False
    mention.date = _iso(year, month, day)
    mention.precision = "day" if day else "month"
    if parts.end_month is not None or parts.end_day is not None:
        end_month = parts.end_month or month
        end_year = parts.end_year or year
        if parts.end_year is None and end_month < month:
            end_year += 1  # "12月30日至1月2日"
        end_day = parts.end_day if (parts.end_day or day) else None
        end = _make_date(end_year, end_month, end_day)
        start = _make_date(year, month, day)
        if end is not None and start is not None and end >= start:
            mention.end_date = _iso(end_year, end_month, end_day)
    return True


def _resolve(mention: DateMention, parts: _Parts, reference: datetime.date | None, previous: DateMention | None):
    """Resolve what needs only the expression, the reference date and the previous mention; yearless dates
    without a reference are left for the nearest written year (``_resolve_from_anchors``)."""
    text = mention.text
    if parts.vague:
        mention.vague = True
        if reference is None:
            mention.warnings.append(
                _("“%(text)s” is relative and there is no publication date: left unresolved.") % {"text": text}
            )
            return
        mention.date, mention.confidence = reference.isoformat(), 0.3
        mention.warnings.append(_("“%(text)s” is vague; the publication date was used.") % {"text": text})
        return
    if parts.same_day is not None:
        base = previous.first_day() if previous and previous.precision == "day" and previous.resolved else None
        if base is None:
            return
        if previous.end_date and parts.same_day:
            base = _first_day(previous.end_date) or base
        mention.date = (base + datetime.timedelta(days=parts.same_day)).isoformat()
        mention.confidence = 0.6
        return
    if parts.relative_day is not None:
        if reference is None:
            mention.warnings.append(
                _("“%(text)s” is relative and there is no publication date: left unresolved.") % {"text": text}
            )
            return
        mention.date = (reference + datetime.timedelta(days=parts.relative_day)).isoformat()
        mention.confidence = 0.75
        return
    if parts.relative_month is not None:
        if reference is None:
            mention.warnings.append(
                _("“%(text)s” is relative and there is no publication date: left unresolved.") % {"text": text}
            )
            return
        year, month = _shift_month(reference.year, reference.month, parts.relative_month)
        parts.month = month
        if _fill(mention, parts, year):
            mention.confidence = 0.8
        return
    if parts.relative_year is not None:
        if reference is None:
            mention.warnings.append(
                _("“%(text)s” is relative and there is no publication date: left unresolved.") % {"text": text}
            )
            return
        if _fill(mention, parts, reference.year + parts.relative_year):
            mention.confidence = 0.8
        return
    if parts.day_only:
        base = previous.first_day() if previous and previous.resolved and previous.precision != "year" else reference
        if base is None:
            mention.warnings.append(
                _("“%(text)s” has no year and there is no publication date: left unresolved.") % {"text": text}
            )
            return
        if _make_date(base.year, base.month, parts.day) is not None:
            mention.date, mention.confidence = _iso(base.year, base.month, parts.day), 0.5
            mention.warnings.append(
                _("“%(text)s” gives only the day; the month was taken from the context.") % {"text": text}
            )
        return
    if parts.year is not None:
        mention.explicit_year = True
        if _fill(mention, parts, parts.year):
            mention.confidence = 0.95
        return
    if (
        reference is not None
        and parts.month is not None
        and _fill(mention, parts, _year_near(parts.month, parts.day, reference))
    ):
        mention.confidence = 0.85


def _resolve_from_anchors(mentions: list[DateMention], pending: list[tuple[DateMention, _Parts]]) -> None:
    """Without a publication date: a month/day without year takes the year of the nearest date written with its
    year and month (the nearest one before it, else after it); else it stays unresolved with a warning."""
    anchors = [m for m in mentions if m.explicit_year and m.precision in ("day", "month") and m.resolved]
    starts = [anchor.start for anchor in anchors]
    for mention, parts in pending:
        index = bisect.bisect_left(starts, mention.start)
        anchor = anchors[index - 1] if index > 0 else (anchors[index] if index < len(anchors) else None)
        if anchor is None or parts.month is None:
            mention.warnings.append(
                _("“%(text)s” has no year and there is no publication date: left unresolved.") % {"text": mention.text}
            )
            continue
        year = int(anchor.date[:4])
        if _fill(mention, parts, year):
            mention.confidence = 0.6
            mention.warnings.append(
                _("No publication date: the year of “%(text)s” was taken from %(year)s in the text.")
                % {"text": mention.text, "year": year}
            )


def _title_ranges(line: str) -> list[tuple[int, int]]:
    ranges, depth, opened = [], 0, 0
    for index, char in enumerate(line):
        if char == "《":
            if depth == 0:
                opened = index
            depth += 1
        elif char == "》" and depth:
            depth -= 1
            if depth == 0:
                ranges.append((opened, index + 1))
    return ranges


def _mentions_in(line_text: str, offset: int) -> list[tuple[DateMention, _Parts]]:
    found = []
    titles = None
    for match in DATE_PATTERN.finditer(line_text):
        parts = _parts(match)
        if parts is None:
            continue
        end = parts.valid_end if parts.valid_end is not None else match.end()
        text = line_text[match.start() : end].rstrip()
        if titles is None:
            titles = _title_ranges(line_text)
        in_title = any(start <= match.start() < stop for start, stop in titles)
        mention = DateMention(
            text=text,
            start=offset + match.start(),
            end=offset + match.start() + len(text),
            precision="day"
            if parts.day or parts.vague or parts.relative_day is not None
            else "month"
            if parts.month
            else "year",
            in_title=in_title,
        )
        if parts.same_day is not None:
            mention.precision = "day"
        found.append((mention, parts))
    return found


def reference_date(context) -> datetime.date | None:
    """The publication date, or when none was given the page's own date stamp (``page_date``)."""
    return context.published or page_date(context)


_STAMP_DATE = r"\d{4}(?:年|[-/.])\d{1,2}(?:月|[-/.])\d{1,2}日?"
PAGE_DATE_PATTERN = re.compile(
    rf"(?:发布时间|发布日期|发表时间|发表日期|创建时间|更新时间|日期|时间)\s*[:：]?\s*(?P<labelled>{_STAMP_DATE})"
    rf"|(?P<timed>{_STAMP_DATE})\s+(?:\d{{1,2}}[:：]\d{{2}}|\d{{1,2}}时\d{{1,2}}分)"
)


def page_date(context) -> datetime.date | None:
    """The date a web page or document states for itself: a date with a clock time ("2020年05月14日 07时57分") or
    labelled as the publication / creation time ("发布时间：2021-10-09"), in any line, furniture included."""
    for line in context.text.lines:
        match = PAGE_DATE_PATTERN.search(line.text)
        if match:
            year, month, day = (
                int(number) for number in re.findall(r"\d+", match.group("labelled") or match.group("timed"))
            )
            found = _make_date(year, month, day)
            if found is not None:
                return found
    return None


def find_dates(context) -> list[DateMention]:
    """Every date expression in the content lines, in text order, resolved against the publication date (found
    once per context: the event, the agreements and the next meeting all ask)."""
    cached = getattr(context, "dates", None)
    if cached is not None:
        return cached
    context.dates = _find_dates(context)
    return context.dates


def _find_dates(context) -> list[DateMention]:
    reference = reference_date(context)
    raw: list[tuple[DateMention, _Parts]] = []
    for line in context.text.content():
        raw.extend(_mentions_in(line.text, line.start))
    mentions, pending, previous = [], [], None
    for mention, parts in raw:
        _resolve(mention, parts, reference, previous)
        if not mention.resolved and reference is None and parts.month is not None and not mention.warnings:
            pending.append((mention, parts))
        mentions.append(mention)
        if mention.resolved and mention.precision == "day":
            previous = mention
    if pending:
        _resolve_from_anchors(mentions, pending)
    return mentions


def resolve_date(text: str, published: datetime.date | None = None) -> tuple[str, str] | None:
    """The ISO date (and end date of a range, else "") of the first date expression in ``text``, seen from
    ``published``: ``resolve_date("6月17日—18日", date(2020, 6, 19))`` → ("2020-06-17", "2020-06-18"); None when
    ``text`` has no date expression or it cannot be resolved (a yearless day without publication date)."""
    for mention, parts in _mentions_in(text, 0):
        _resolve(mention, parts, published, None)
        return (mention.date, mention.end_date) if mention.resolved else None
    return None


def date_before(mentions: list[DateMention], offset: int, *, within: int | None = None) -> DateMention | None:
    """The nearest resolved, non-vague-if-possible date mention ending at or before ``offset`` (``text.simple``),
    not inside a 《》 title; ``within`` limits how far back (characters)."""
    best = None
    for mention in mentions:
        if mention.end > offset:
            break
        if not mention.resolved or mention.in_title:
            continue
        if within is not None and offset - mention.end > within:
            continue
        best = mention
    return best


# -- sentences -------------------------------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"[。！？!?]+|$")


@dataclass
class Sentence:
    start: int
    end: int
    text: str


def sentences(context) -> list[Sentence]:
    """The content lines cut at 。！？ (offsets in ``text.simple``)."""
    found = []
    for line in context.text.content():
        position = 0
        for match in _SENTENCE_END.finditer(line.text):
            end = match.end()
            if end > position:
                chunk = line.text[position:end]
                stripped = chunk.strip()
                if stripped:
                    start = line.start + position + chunk.index(stripped)
                    found.append(Sentence(start=start, end=start + len(stripped), text=stripped))
            position = end
            if match.start() == len(line.text):
                break
    return found


# -- the event -------------------------------------------------------------------------------------------------

_MEETING_NOUN = (
    r"(?:会议|座谈会|联席会|会商会|推进会|协调会|研讨会|工作会|交流会|对接会|恳谈会|论坛|年会|峰会)"
    r"(?!纪要|精神|室|材料)"
)
KIND_PATTERNS = {
    "签约": re.compile(r"签署|签订|签约|签定|共签|会签|缔结"),
    "会议": re.compile(
        rf"(?:召开|举行|举办|主持召开)[^，,。；;]{{0,40}}?{_MEETING_NOUN}|{_MEETING_NOUN}[^，,。；;]{{0,30}}?(?:召开|举行|举办|开幕)"
    ),
    "考察": re.compile(r"学习考察|考察|调研|走访|观摩"),
    "发布": re.compile(r"发布|印发|出台|公布|颁布"),
}
_FUTURE = re.compile(r"将于|将要|即将|还将|拟于|拟|计划|准备|将")
# A news dateline before the lead's date: "【大公报讯】记者某某广州报道:", "本报讯(记者 某某)", "新华社北京6月8日电".
_DATELINE = re.compile(
    r"\s*(?:[【\[][^】\]]{1,20}[】\]])?\s*(?:[^,。;:!?]{0,30}?(?:讯|电|报道)\s*(?:\([^()]{0,20}\))?\s*:?)?\s*"
)
_BACKGROUND = re.compile(r"以来|此前|曾经|先后|历届|迄今")
_PLACE_STOP = r"[^\s，,。、；;：:“”《》()（）!！?？]"
PLACE_PATTERNS = [
    re.compile(rf"在(?P<place>{_PLACE_STOP}{{1,12}}?)(?:主持)?(?:召开|举行|举办|开幕|签署|签订|会签|开展|进行)"),
    # 赴浙江省杭州市、绍兴市考察: a list of places
    re.compile(
        rf"赴(?P<place>{_PLACE_STOP}{{1,10}}?(?:、{_PLACE_STOP}{{1,10}}?)*)"
        r"(?:开展|进行|参加|出席|学习|考察|调研|走访|参观|交流|对接|洽谈|签署|签订)"
    ),
    re.compile(rf"(?:来到|前往|抵达)(?P<place>{_PLACE_STOP}{{1,10}}?)(?=[，,。；;]|$)"),
]
_NOT_PLACES = re.compile(
    r"^(?:会上|会议上|此|这里|这|那里|现场|期间|线上|网上|云端|视频|当地|本地|此次|会)$|[上中时后前间]$"
)

# A line that names a site or an organisation is no headline: "某县长安网", "中共XX县委政法委员会".
_NOT_HEADLINE = re.compile(
    r"^[^，,。！!？?\s]{2,24}(?:委员会|政法委|人民法院|人民检察院|公安厅|公安局|司法厅|司法局|人民政府|办公厅|办公室|网|日报|晚报|电视台|新闻)$"
    r"|^[\d\s:：年月日时分/.\-]+$"
    r"|^(?:来源|作者|记者|编辑|责任编辑|发布时间|时间|日期|字体)"
    r"|\s{2,}\S+\s{2,}"
)


def _kind_in(text: str) -> tuple[str, int] | None:
    """The kind of event ``text`` states and where (the first keyword wins)."""
    best = None
    for kind, pattern in KIND_PATTERNS.items():
        match = pattern.search(text)
        if match and (best is None or match.start() < best[1]):
            best = (kind, match.start())
    return best


def headline(context) -> tuple[str, int, int] | None:
    """The first content line when it reads as a headline (short, not a sentence), skipping the date, byline and
    site-name lines above it; None when the text starts straight with a paragraph."""
    agency_spans = getattr(context, "agency_spans", [])
    for line in context.text.content():
        text = line.text.strip(" •·*-")
        if not text or _NOT_HEADLINE.search(text) or _only_agency_names(line, agency_spans):
            continue
        if DATE_PATTERN.fullmatch(text):
            continue
        if len(text) <= 40 and not text.endswith("。") and re.search(r"[\u4e00-\u9fff]", text):
            return text, line.start, line.end
        return None
    return None


def _only_agency_names(line, agency_spans) -> bool:
    """Whether ``line`` holds nothing but agency names: the issuing agencies above a document's title ("南昌市中级人民
    法院 南昌市人民检察院"), no headline."""
    chars = list(line.text)
    found = False
    for start, end, _ref in agency_spans:
        if line.start <= start and end <= line.end:
            chars[start - line.start : end - line.start] = " " * (end - start)
            found = True
    return found and not re.sub(r"[\s、,和与及]", "", "".join(chars))


def _place_in(text: str) -> str:
    for pattern in PLACE_PATTERNS:
        for match in pattern.finditer(text):
            place = match.group("place")
            if not _NOT_PLACES.search(place) and not re.search(_MEETING_NOUN, place):
                return place
    return ""


@dataclass
class _Candidate:
    score: float
    sentence: Sentence
    kind: str
    mention: DateMention


def _candidates(context, mentions: list[DateMention], reference, headline_kind: str) -> list[_Candidate]:
    found = []
    starts = [mention.start for mention in mentions]
    for sentence in sentences(context):
        first = bisect.bisect_left(starts, sentence.start)
        dated = [m for m in mentions[first:] if m.start < sentence.end] if first < len(mentions) else []
        dated = [m for m in dated if not m.in_title and (m.resolved or not m.vague)]
        if not dated:
            continue
        stated = _kind_in(sentence.text)
        if stated is None:
            continue
        kind, at = stated
        if headline_kind and kind != headline_kind:
            other = KIND_PATTERNS[headline_kind].search(sentence.text)
            if other:
                kind, at = headline_kind, other.start()
        at += sentence.start
        before = [m for m in dated if m.start < at]
        mention = before[-1] if before else dated[0]
        score = {"day": 1.0, "month": 0.6, "year": 0.2}[mention.precision]
        if mention.vague:
            score = 0.3
        elif not mention.resolved:
            score -= 0.3
        day = mention.first_day()
        if reference is not None and day is not None:
            delta = (reference - day).days
            score += 1 if -7 <= delta <= 45 or (mention.precision != "day" and -7 <= delta <= 366) else -1
        clause = sentence.text[: at - sentence.start]
        if _FUTURE.search(clause[mention.end - sentence.start :] if mention.end > sentence.start else clause):
            score -= 1.5
        if _BACKGROUND.search(sentence.text):
            score -= 0.5
        if mention.start - sentence.start <= 2 or _DATELINE.fullmatch(sentence.text[: mention.start - sentence.start]):
            score += 0.3
        if headline_kind and kind == headline_kind:
            score += 2
        found.append(_Candidate(score=score, sentence=sentence, kind=kind, mention=mention))
    return found


def event(context) -> Event:
    """The event the text reports: the best dated sentence that states a kind (the headline's kind first; recent
    dates before background and announced ones), with its date(s), place and the headline."""
    text = context.text
    mentions = find_dates(context)
    reference = reference_date(context)
    if context.published is None and reference is not None:
        context.warn(
            _("No publication date given: the page's date %(date)s was used to resolve dates.")
            % {"date": reference.isoformat()}
        )
    title = headline(context)
    headline_kind = ""
    if title:
        stated = _kind_in(title[0])
        headline_kind = stated[0] if stated else ""
    candidates = _candidates(context, mentions, reference, headline_kind)
    result = Event(span=[0, 0], title=title[0] if title else "")
    if candidates:
        best = max(candidates, key=lambda c: c.score)  # max keeps the first of equals: the earliest sentence
        mention = best.mention
        result.span = text.span(best.sentence.start, best.sentence.end)
        result.kind, result.date, result.end_date, result.date_text = (
            best.kind,
            mention.date,
            mention.end_date,
            mention.text,
        )
        result.place = _place_in(best.sentence.text) or (_place_in(title[0]) if title else "")
        result.confidence = round(
            min(0.9, max(0.2, 0.35 + 0.12 * best.score)) * (0.5 if mention.vague or not mention.resolved else 1.0), 2
        )
        result.warnings.extend(mention.warnings)
    else:
        result.kind = headline_kind
        if title:
            result.span = text.span(title[1], title[2])
            result.place = _place_in(title[0])
        result.confidence = 0.2 if headline_kind else 0.0
        result.warnings.append(_("No date found for the event."))
    if not result.kind:
        result.warnings.append(_("The kind of event (signing, meeting, visit, release) was not recognised."))
    for warning in result.warnings:
        context.warn(warning, *_simple_span(context, result.span))
    result.next_meeting = next_meeting(context, mentions)
    return result


def _simple_span(context, span: list[int]) -> tuple[int | None, int | None]:
    """``span`` (original offsets) back in ``text.simple`` offsets, for ``context.warn``."""
    if span == [0, 0]:
        return None, None
    to_original = context.text.to_original
    return bisect.bisect_left(to_original, span[0]), bisect.bisect_left(to_original, span[1])


# -- the next meeting ------------------------------------------------------------------------------------------

_NEXT_WORDS = re.compile(r"下一次|下次|下届|下一届|下一轮|下轮|明年|后年|来年")
_DECIDED = re.compile(r"商定|约定|决定|确定|议定|明确")
_HOST = re.compile(rf"由(?P<host>{_PLACE_STOP}{{2,30}}?)(?:负责|牵头)?(?:承办|主办|轮值|召集|举办)")
_ROTATION_HOST = re.compile(
    rf"轮值(?:方|单位|主席单位|主席|东道主)?(?:为|是|：|:)(?P<host>{_PLACE_STOP}{{2,30}}?)(?=[，,。；;]|$)"
    rf"|(?P<host2>{_PLACE_STOP}{{2,30}}?)(?:为|担任)(?:下一?[届次轮])?(?:会议)?轮值"
)
# What may open a host's name caught from the start of a clause ("会议确定四川省公安厅为下一届轮值单位").
_HOST_LEAD = re.compile(r".*(?:商定|约定|决定|确定|议定|明确|同意|由)")
_MEETING_PLACE = re.compile(rf"在(?P<place>{_PLACE_STOP}{{1,12}}?)(?:召开|举行|举办)")


def next_meeting(context, mentions: list[DateMention] | None = None) -> NextMeeting | None:
    """The next meeting when the text announces it: a sentence naming who hosts (由…承办 / 轮值) or where it will be
    held, for a later year ("2022年…在江苏省召开，由江苏省委政法委承办") or the next session ("下一次会议由…承办")."""
    mentions = find_dates(context) if mentions is None else mentions
    reference = reference_date(context)
    for sentence in sentences(context):
        host_match = _HOST.search(sentence.text) or _ROTATION_HOST.search(sentence.text)
        place_match = _MEETING_PLACE.search(sentence.text)
        if not host_match and not (place_match and re.search(_MEETING_NOUN, sentence.text)):
            continue
        dated = [m for m in mentions if sentence.start <= m.start < sentence.end and m.resolved]
        year = max(int(m.date[:4]) for m in dated) if dated else None
        next_words = _NEXT_WORDS.search(sentence.text)
        decided = _DECIDED.search(sentence.text) is not None
        later = year is not None and (
            (reference is None and decided)
            or (reference is not None and (year > reference.year or (year == reference.year and decided)))
        )
        if not (next_words or later):
            continue
        if year is None and next_words and reference is not None:
            word = next_words.group(0)
            year = reference.year + (2 if word == "后年" else 1) if word in ("明年", "后年", "来年") else None
        found = NextMeeting(text=sentence.text, span=context.text.span(sentence.start, sentence.end), year=year)
        day = next((m for m in dated if m.precision == "day"), None)
        found.date = day.date if day else ""
        if place_match and not _NOT_PLACES.search(place_match.group("place")):
            found.place = place_match.group("place")
        if host_match:
            group = "host" if host_match.groupdict().get("host") else "host2"
            name, start = host_match.group(group), host_match.start(group)
            lead = _HOST_LEAD.match(name)
            if lead and len(name) - lead.end() >= 2:
                name, start = name[lead.end() :], start + lead.end()
            found.host = agencies.resolve(context, name, sentence.start + start)
        found.confidence = 0.8 if (found.host and (found.year or found.place)) else 0.5
        return found
    return None
