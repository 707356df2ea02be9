"""The periodic bulletin (定期通报) as a Word (.docx) and a PDF document in the look of an official document.

Pure rendering: ``BulletinContent`` (plain dataclasses, filled elsewhere from the ledger) in, bytes out, no database.
The layout adapts GB/T 9704-2012 (党政机关公文格式): A4 with a 156 × 225 mm type area; the issuing authority's mark
(发文机关标志) in red, large and centred, the document number (发文字号) below it and a red separator line; the
title in a bold serif; the addressees (主送); the body in 16 pt serif (三号) with section headings 一、二、… in sans
(黑体); the signature (发文机关署名, 成文日期) right-aligned; the colophon (版记: 抄送, 印发) between rules; page
numbers "— 1 —" at the bottom. Serif text is set in Noto Serif CJK SC, headings in Noto Sans CJK SC.

Sections: 一 overall situation (a narrative generated from the figures, with charts of the lights, the progress of the
first agencies of the ranking and the trend over the period), 二 the ranking of the agencies, 三 overdue items (red),
四 items behind plan (yellow), 五 supervision notices (督办) and their replies, 六 standard requirements.

Every fixed text is translated with ``gettext`` under the active language (English msgids; callers activate zh-hans).

API: ``render_docx(content)`` and ``render_pdf(content)`` return the file's bytes (``with_charts=False`` leaves the
charts out). Both go through ``prepare(content)``, which translates and formats everything once (and draws the
charts); to produce both files from one content, prepare once and call ``docx_from_prepared`` and
``pdf_from_prepared``, so the two say the same thing and the charts are drawn once.

Speed (a bulletin over 10,000 measures holds thousands of table rows; see bench/bulletin_sample.py): the .docx tables
are written as one XML string per table and parsed once, not cell by cell through python-docx. WeasyPrint's time grows
with the number of table cells, so a cell holds related fields on lines of their own (number, title and agreement of
a measure), every cell has a uniform border (drawn as one rectangle), the user-agent stylesheet is cut to what the
template uses, the body rows arrive pre-escaped, and the garbage collector is paused while the PDF is laid out.
"""

from __future__ import annotations

import base64
import gc
import html
import io
import re
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path

from django.template.loader import render_to_string
from django.utils import formats
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from . import charts

# --------------------------------------------------------------------------------------------------------------------
# Content


@dataclass
class AgencyRow:
    """One agency of the ranking (best first)."""

    rank: int
    agency: str
    region: str
    shares: int  # shares of measures the agency holds (主办 or 协办)
    closed: int
    progress: int  # mean progress of its shares, %, 0-100
    red: int
    yellow: int
    missing_reports: int


@dataclass
class ItemRow:
    """One measure in the list of overdue (red) or behind-plan (yellow) items."""

    number: str
    title: str
    agreement: str
    owners: str  # "主办A；协办B、C"
    due_on: date | None
    progress: int
    light: str  # red / yellow / blue / green / done
    light_label: str
    days_overdue: int  # 0 if not overdue


@dataclass
class SupervisionRow:
    """One supervision notice (督办单) and its reply."""

    number: str
    title: str
    agency: str
    issued_on: date
    reply_due_on: date
    status_label: str
    reply: str
    replied_on: date | None


@dataclass
class CountRow:
    label: str
    count: int
    key: str = ""  # e.g. the light's name, for its colour


@dataclass
class TrendPoint:
    day: date
    reports: int
    closed_total: int
    progress: int


@dataclass
class BulletinContent:
    title: str  # 标题
    doc_number: str  # 文号, e.g. "成渝政法协〔2026〕3号"
    issuer: str  # 发文单位
    issuer_header: str  # 发文机关标志, e.g. "成渝地区政法协作联席会议办公室"
    issued_on: date
    period_start: date
    period_end: date
    scope: str  # the circle's or the agreement's name
    recipients: str  # 主送, e.g. "各成员单位："
    cc: str = ""  # 抄送
    measures_total: int = 0
    closed: int = 0
    closing: int = 0
    open: int = 0
    overdue: int = 0
    avg_progress: int = 0
    reports_in_period: int = 0
    missing_reports: int = 0
    supervisions_issued: int = 0
    supervisions_replied: int = 0
    lights: list[CountRow] = field(default_factory=list)
    categories: list[CountRow] = field(default_factory=list)
    agencies: list[AgencyRow] = field(default_factory=list)  # ranking, best first
    overdue_items: list[ItemRow] = field(default_factory=list)  # red (overdue)
    behind_items: list[ItemRow] = field(default_factory=list)  # yellow
    supervisions: list[SupervisionRow] = field(default_factory=list)
    trend: list[TrendPoint] = field(default_factory=list)


DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_CONTENT_TYPE = "application/pdf"

# --------------------------------------------------------------------------------------------------------------------
# Layout constants (GB/T 9704-2012, adapted)

SERIF = charts.SERIF_FAMILY
SANS = charts.SANS_FAMILY
PAGE_MM = (210, 297)
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}  # type area 156 × 225 mm
TEXT_WIDTH_MM = PAGE_MM[0] - MARGINS_MM["left"] - MARGINS_MM["right"]
BODY_PT = 16  # 三号
LINE_PT = 28.95  # 22 lines in the 225 mm type area
TITLE_PT = 22  # 二号
TABLE_PT = 9  # 小五
COLOPHON_PT = 14  # 四号
RED = "FF0000"
TONES = {  # light → (text colour, cell fill)
    "red": ("C00000", "FBE3E3"),
    "yellow": ("8A5A00", "FFF1CC"),
    "blue": ("1F4E9A", "DDEBF7"),
    "green": ("2E7D32", "E2F0D9"),
    "done": ("595959", "EDEDED"),
}
HEADER_FILL = "E7E6E6"
TOP_AGENCIES = charts.TOP_AGENCIES
CSS_PATH = Path(__file__).resolve().parent / "templates" / "ledger" / "bulletin_document.css"
TEMPLATE = "ledger/bulletin_document.html"

_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(value) -> str:
    """Text safe for XML: control characters dropped, line ends normalised to "\\n"."""
    text = "" if value is None else str(value)
    return _ILLEGAL_XML.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()


# --------------------------------------------------------------------------------------------------------------------
# The prepared document: every text in the active language, shared by both renderers


@dataclass
class Column:
    label: str
    width_mm: float
    align: str = "left"  # left / center / right


@dataclass
class Table:
    name: str  # "agencies", "overdue", "behind", "supervisions" (CSS class, tests)
    columns: list[Column]
    rows: list[list[tuple[str, str]]]  # per row, per cell: (text, tone: a light's name or "")


@dataclass
class Figure:
    png: bytes
    caption: str

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@dataclass
class Section:
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    table: Table | None = None


@dataclass
class Prepared:
    language: str
    content: BulletinContent
    header: str
    header_pt: int
    doc_number: str
    title: str
    recipients: str
    opening: str
    sections: list[Section]
    signature: str
    signed_on: str
    signature_indent_em: float  # right indents, in characters of the body text (GB/T 9704 7.3.5.1)
    signed_on_indent_em: float
    cc_line: str
    printer: str
    printed_on: str


def long_date(value: date | None) -> str:
    """A date as an official document writes it under the active language: "2026年11月21日" in Chinese."""
    return formats.date_format(value, "DATE_FORMAT") if value else ""


def _short_date(value: date | None) -> str:
    return value.isoformat() if value else "—"


def _join_sentences(sentences: list[str]) -> str:
    """Sentences of one paragraph: no space after a Chinese full stop, one after a Latin one."""
    text = ""
    for sentence in sentences:
        if text and not text.endswith(("。", "；", "！", "？", "：")):
            text += " "
        text += sentence
    return text


def _join_list(items) -> str:
    """The items of a list joined as the language joins them: "a, b, c" in English, "a、b、c" in Chinese."""
    text = ""
    for item in items:
        text = _("%(list)s, %(item)s") % {"list": text, "item": item} if text else item
    return text


def _count_of(rows: list[CountRow], key: str, default: int) -> int:
    for row in rows:
        if row.key == key:
            return row.count
    return default


def _narrative(content: BulletinContent) -> list[str]:
    """一、总体情况: the figures of the ledger and of the period, in words."""
    ledger = [
        _(
            "As of %(date)s, the ledger of %(scope)s holds %(total)s measures: %(closed)s closed, %(closing)s awaiting "
            "confirmation of closure and %(open)s in progress, with an average progress of %(progress)s%%."
        )
        % {
            "date": long_date(content.period_end),
            "scope": _clean(content.scope),
            "total": content.measures_total,
            "closed": content.closed,
            "closing": content.closing,
            "open": content.open,
            "progress": content.avg_progress,
        }
    ]
    lights = [row for row in content.lights if row.count]
    if lights:
        ledger.append(
            _("By light: %(lights)s.")
            % {
                "lights": _join_list(
                    _("%(label)s %(count)s") % {"label": _clean(r.label), "count": r.count} for r in lights
                )
            }
        )
    period = []
    dates = {"start": long_date(content.period_start), "end": long_date(content.period_end)}
    if content.missing_reports:
        period.append(
            _(
                "From %(start)s to %(end)s the owning agencies filed %(reports)s progress reports; %(missing)s reports "
                "due in the period were not filed."
            )
            % {**dates, "reports": content.reports_in_period, "missing": content.missing_reports}
        )
    else:
        period.append(
            _(
                "From %(start)s to %(end)s the owning agencies filed %(reports)s progress reports; every report due "
                "in the period was filed."
            )
            % {**dates, "reports": content.reports_in_period}
        )
    behind = _count_of(content.lights, "yellow", len(content.behind_items))
    if content.overdue or behind:
        period.append(
            _(
                "%(overdue)s measures are past their deadline and not closed (red light), and %(behind)s are behind "
                "plan or missed a report (yellow light)."
            )
            % {"overdue": content.overdue, "behind": behind}
        )
    else:
        period.append(_("No measure is past its deadline or behind plan."))
    if content.supervisions_issued:
        period.append(
            _(
                "The coordination office issued %(issued)s supervision notices in the period; %(replied)s have been "
                "answered and %(pending)s await a reply."
            )
            % {
                "issued": content.supervisions_issued,
                "replied": content.supervisions_replied,
                "pending": max(0, content.supervisions_issued - content.supervisions_replied),
            }
        )
    else:
        period.append(_("No supervision notice was issued in the period."))
    return [_join_sentences(ledger), _join_sentences(period)]


def _figures(content: BulletinContent) -> list[Figure]:
    figures = []
    if content.lights or content.categories:
        caption = _("Measures by light and by category") if content.categories else _("Measures by light")
        figures.append(Figure(charts.lights_chart(content.lights, content.categories), caption))
    if content.agencies:
        shown = min(TOP_AGENCIES, len(content.agencies))
        figures.append(
            Figure(
                charts.agency_progress_chart(content.agencies, TOP_AGENCIES),
                _("Average progress of the first %(count)s agencies of the ranking") % {"count": shown},
            )
        )
    if content.trend:
        figures.append(
            Figure(charts.trend_chart(content.trend), _("Closed measures, progress and reports over the period"))
        )
    for number, figure in enumerate(figures, 1):
        figure.caption = _("Figure %(number)s  %(caption)s") % {"number": number, "caption": figure.caption}
    return figures


def _pct(value: int) -> str:
    return f"{value}%"


def _agency_table(rows: list[AgencyRow]) -> Table:
    columns = [
        Column(_("Rank"), 11, "center"),
        Column(_("Agency"), 42, "left"),
        Column(_("Region"), 26, "left"),
        Column(_("Shares held"), 14, "center"),
        Column(_("Closed shares"), 13, "center"),
        Column(_("Average progress"), 15, "center"),
        Column(_("Red lights"), 11, "center"),
        Column(_("Yellow lights"), 11, "center"),
        Column(_("Reports missed"), 13, "center"),
    ]
    return Table(
        "agencies",
        columns,
        [
            [
                (str(row.rank), ""),
                (_clean(row.agency), ""),
                (_clean(row.region), ""),
                (str(row.shares), ""),
                (str(row.closed), ""),
                (_pct(row.progress), ""),
                (str(row.red), "red" if row.red else ""),
                (str(row.yellow), "yellow" if row.yellow else ""),
                (str(row.missing_reports), ""),
            ]
            for row in rows
        ],
    )


def _numbered(number: str, title: str) -> str:
    """A measure as the ledger names it: "三、5 异地财产查控"."""
    number, title = _clean(number), _clean(title)
    return _("%(number)s %(title)s") % {"number": number, "title": title} if number else title


# A cell holds several fields on separate lines rather than a column each: a bulletin has thousands of rows, and
# WeasyPrint's time grows with the number of cells more than with the lines in them.


def _item_table(name: str, rows: list[ItemRow], *, overdue: bool) -> Table:
    last = Column(_("Days overdue"), 15, "center") if overdue else Column(_("Light"), 15, "center")
    columns = [
        Column(_("Measure (agreement)"), 60, "left"),
        Column(_("Owners"), 48, "left"),
        Column(_("Deadline"), 18, "center"),
        Column(_("Progress %"), 15, "center"),
        last,
    ]
    table_rows = []
    for row in rows:
        measure = _numbered(row.number, row.title)
        agreement = _clean(row.agreement)
        table_rows.append(
            [
                (f"{measure}\n{agreement}" if agreement else measure, ""),
                (_clean(row.owners), ""),
                (_short_date(row.due_on), ""),
                (_pct(row.progress), ""),
                (str(row.days_overdue), row.light) if overdue else (_clean(row.light_label), row.light),
            ]
        )
    return Table(name, columns, table_rows)


def _supervision_table(rows: list[SupervisionRow]) -> Table:
    columns = [
        Column(_("Measure"), 36, "left"),
        Column(_("Agency urged"), 30, "left"),
        Column(_("Issued on"), 18, "center"),
        Column(_("Reply due"), 18, "center"),
        Column(_("Status"), 14, "center"),
        Column(_("Reply"), 40, "left"),
    ]
    table_rows = []
    for row in rows:
        reply = _clean(row.reply)
        if row.replied_on:
            replied = _("(answered on %(date)s)") % {"date": _short_date(row.replied_on)}
            reply = f"{reply}\n{replied}" if reply else replied
        table_rows.append(
            [
                (_numbered(row.number, row.title), ""),
                (_clean(row.agency), ""),
                (_short_date(row.issued_on), ""),
                (_short_date(row.reply_due_on), ""),
                (_clean(row.status_label), ""),
                (reply or "—", ""),
            ]
        )
    return Table("supervisions", columns, table_rows)


def _requirements() -> list[str]:
    return [
        _(
            "(1) Clear the overdue items. For every overdue item the lead agency shall, within 5 working days of "
            "receiving this bulletin, explain the causes in writing to the coordination office and state its remedial "
            "measures and a new completion date."
        ),
        _(
            "(2) Speed up the items behind plan. The owning agencies shall schedule the remaining work backwards from "
            "the deadline, the lead and co-owning agencies shall keep in close contact, and every item shall be "
            "completed on time."
        ),
        _(
            "(3) Report on time and answer supervision notices. Every member agency shall report the progress of its "
            "shares accurately within each reporting cycle and answer supervision notices by their reply date; "
            "difficulties that need coordination across regions shall be referred to the coordination office without "
            "delay."
        ),
    ]


def _width_em(text: str) -> float:
    """The width of a text in characters of its size: Chinese and full-width 1, Latin letters and digits ½."""
    return sum(1 if unicodedata.east_asian_width(char) in "WF" else 0.5 for char in text)


def _signature_indents(issuer: str, signed_on: str) -> tuple[float, float]:
    """GB/T 9704 7.3.5.1 (no seal): the issuer 2 characters from the right edge, the date on the next line starting
    2 characters to the right of the issuer's first; a date longer than that keeps 2 characters and pushes the issuer
    left."""
    issuer_em, date_em = _width_em(issuer), _width_em(signed_on)
    issuer_indent = 2.0
    date_indent = issuer_indent + issuer_em - 2 - date_em
    if date_indent < 2:
        date_indent = 2.0
        issuer_indent = date_indent + date_em + 2 - issuer_em
    return issuer_indent, date_indent


def _header_pt(text: str) -> int:
    """The size of the issuing authority's mark: as large as fits one line of the type area, 22 to 36 pt."""
    width_pt = TEXT_WIDTH_MM / 25.4 * 72
    return max(22, min(36, int(width_pt / max(1.0, _width_em(text)) * 0.9)))


def prepare(content: BulletinContent, *, with_charts: bool = True) -> Prepared:
    """Everything the renderers print, as text in the active language (and the charts as PNG)."""
    as_of = {"date": long_date(content.period_end)}
    overview = Section(_("I. Overall situation"), _narrative(content))
    if with_charts:
        overview.figures = _figures(content)

    ranking = Section(_("II. Progress by agency"))
    if content.agencies:
        ranking.paragraphs.append(
            _(
                "The agencies are ranked by the average progress of the shares they hold. Red and yellow count their "
                "shares with that light; reports missed counts the reports due in the period but not filed."
            )
        )
        ranking.table = _agency_table(content.agencies)
    else:
        ranking.paragraphs.append(_("No agency holds a share of a measure in this scope."))

    overdue = Section(_("III. Overdue items (red light)"))
    if content.overdue_items:
        overdue.paragraphs.append(
            _("As of %(date)s, %(count)s measures are past their deadline and not closed:")
            % {**as_of, "count": len(content.overdue_items)}
        )
        overdue.table = _item_table("overdue", content.overdue_items, overdue=True)
    else:
        overdue.paragraphs.append(_("As of %(date)s, no measure is past its deadline.") % as_of)

    behind = Section(_("IV. Items behind plan (yellow light)"))
    if content.behind_items:
        behind_total = max(_count_of(content.lights, "yellow", 0), len(content.behind_items))
        behind.paragraphs.append(
            _("As of %(date)s, %(count)s measures are behind plan or missed a progress report:")
            % {**as_of, "count": behind_total}
        )
        if behind_total > len(content.behind_items):
            behind.paragraphs.append(
                _("The %(listed)s that have been behind longest are listed below; the ledger lists them all.")
                % {"listed": len(content.behind_items)}
            )
        behind.table = _item_table("behind", content.behind_items, overdue=False)
    else:
        behind.paragraphs.append(_("As of %(date)s, no measure is behind plan.") % as_of)

    supervision = Section(_("V. Supervision"))
    if content.supervisions:
        supervision.paragraphs.append(
            _("In the period %(issued)s supervision notices were issued and %(replied)s answered:")
            % {
                "issued": max(content.supervisions_issued, len(content.supervisions)),
                "replied": content.supervisions_replied,
            }
        )
        supervision.table = _supervision_table(content.supervisions)
    else:
        supervision.paragraphs.append(_("No supervision notice was issued in the period."))

    requirements = Section(_("VI. Requirements for the next stage"), _requirements())

    header = _clean(content.issuer_header)
    signature, signed_on = _clean(content.issuer), long_date(content.issued_on)
    signature_indent, signed_on_indent = _signature_indents(signature, signed_on)
    return Prepared(
        language=get_language() or "zh-hans",
        content=content,
        header=header,
        header_pt=_header_pt(header),
        doc_number=_clean(content.doc_number),
        title=_clean(content.title),
        recipients=_clean(content.recipients),
        opening=_(
            "To keep the measures of the ledger of %(scope)s moving, their progress from %(start)s to %(end)s is "
            "reported as follows."
        )
        % {
            "scope": _clean(content.scope),
            "start": long_date(content.period_start),
            "end": long_date(content.period_end),
        },
        sections=[overview, ranking, overdue, behind, supervision, requirements],
        signature=signature,
        signed_on=signed_on,
        signature_indent_em=signature_indent,
        signed_on_indent_em=signed_on_indent,
        cc_line=_("Copy to: %(recipients)s") % {"recipients": _clean(content.cc)} if _clean(content.cc) else "",
        printer=_clean(content.issuer),
        printed_on=_("Issued on %(date)s") % {"date": long_date(content.issued_on)},
    )


# --------------------------------------------------------------------------------------------------------------------
# .docx


W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W = f'xmlns:w="{W_NS}"'


def _twips(mm: float) -> int:
    return round(mm / 25.4 * 1440)


def _xml(text: str) -> str:
    """Run content: escaped text, line breaks as <w:br/>."""
    escaped = html.escape(text, quote=False)
    if "\n" in escaped:
        escaped = escaped.replace("\n", '</w:t><w:br/><w:t xml:space="preserve">')
    return f'<w:t xml:space="preserve">{escaped}</w:t>'


def _rpr(font: str, size_pt: float, *, bold: bool = False, color: str = "000000") -> str:
    half_points = round(size_pt * 2)
    weight = "<w:b/><w:bCs/>" if bold else '<w:b w:val="0"/><w:bCs w:val="0"/>'
    return (
        f'<w:rPr><w:rFonts w:ascii="{font}" w:hAnsi="{font}" w:eastAsia="{font}" w:cs="{font}"/>{weight}'
        f'<w:color w:val="{color}"/><w:sz w:val="{half_points}"/><w:szCs w:val="{half_points}"/>'
        '<w:lang w:val="en-US" w:eastAsia="zh-CN"/></w:rPr>'
    )


def _ppr(
    *,
    align: str = "both",
    first_line_pt: float = 0,
    line_pt: float | None = LINE_PT,
    before_pt: float = 0,
    after_pt: float = 0,
    left_pt: float = 0,
    right_pt: float = 0,
    keep_next: bool = False,
    outline: int | None = None,
    extra: str = "",
) -> str:
    spacing = f'w:before="{round(before_pt * 20)}" w:after="{round(after_pt * 20)}"'
    if line_pt:
        spacing += f' w:line="{round(line_pt * 20)}" w:lineRule="exact"'
    else:
        spacing += ' w:line="240" w:lineRule="auto"'
    return (
        "<w:pPr>"
        + ("<w:keepNext/>" if keep_next else "")
        + extra
        + f"<w:spacing {spacing}/>"
        + f'<w:ind w:left="{round(left_pt * 20)}" w:right="{round(right_pt * 20)}" '
        f'w:firstLine="{round(first_line_pt * 20)}"/>'
        + f'<w:jc w:val="{align}"/>'
        + (f'<w:outlineLvl w:val="{outline}"/>' if outline is not None else "")
        + "</w:pPr>"
    )


# style id → (name, paragraph properties, run properties)
DOCX_STYLES = {
    "YQHeader": (
        "YQ Issuing authority",
        _ppr(align="center", line_pt=None),
        _rpr(SERIF, 30, bold=True, color=RED),
    ),
    "YQDocNumber": (
        "YQ Document number",
        # The red separator line, 4 mm below the number (GB/T 9704 7.2.3).
        _ppr(
            align="center",
            before_pt=LINE_PT * 2,
            after_pt=LINE_PT * 2,
            extra=f'<w:pBdr><w:bottom w:val="single" w:sz="12" w:space="11" w:color="{RED}"/></w:pBdr>',
        ),
        _rpr(SERIF, BODY_PT),
    ),
    "YQTitle": (
        "YQ Title",
        _ppr(align="center", line_pt=TITLE_PT * 1.6, after_pt=LINE_PT),
        _rpr(SERIF, TITLE_PT, bold=True),
    ),
    "YQRecipients": ("YQ Addressees", _ppr(align="left"), _rpr(SERIF, BODY_PT)),
    "YQCaption": ("YQ Caption", _ppr(align="center", line_pt=None, after_pt=8), _rpr(SANS, 12)),
    "YQFigure": ("YQ Figure", _ppr(align="center", line_pt=None, before_pt=6, keep_next=True), _rpr(SERIF, BODY_PT)),
    "YQTableText": ("YQ Table text", _ppr(align="left", line_pt=None), _rpr(SERIF, TABLE_PT)),
    "YQTableHead": ("YQ Table header", _ppr(align="center", line_pt=None), _rpr(SANS, TABLE_PT, bold=True)),
    "YQSignature": ("YQ Signature", _ppr(align="right", right_pt=BODY_PT * 4), _rpr(SERIF, BODY_PT)),
    "YQEnd": ("YQ End", _ppr(align="left", line_pt=1), _rpr(SERIF, 1)),
    "YQColophon": (
        "YQ Colophon",
        _ppr(align="left", line_pt=COLOPHON_PT * 1.8, left_pt=COLOPHON_PT, right_pt=COLOPHON_PT),
        _rpr(SERIF, COLOPHON_PT),
    ),
}


def _set_style(style_element, ppr: str, rpr: str) -> None:
    from docx.oxml import parse_xml

    for tag in ("w:pPr", "w:rPr"):
        for old in style_element.findall(f"{{{W_NS}}}{tag[2:]}"):
            style_element.remove(old)
    style_element.append(parse_xml(ppr.replace("<w:pPr>", f"<w:pPr {W}>", 1)))
    style_element.append(parse_xml(rpr.replace("<w:rPr>", f"<w:rPr {W}>", 1)))


def _docx_styles(document) -> None:
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml import parse_xml

    styles = document.styles
    # Document defaults and Normal: the body text (正文), 16 pt serif, 2 characters' first-line indent.
    defaults = styles.element.find(f"{{{W_NS}}}docDefaults")
    if defaults is not None:
        styles.element.remove(defaults)
    styles.element.insert(
        0,
        parse_xml(
            f"<w:docDefaults {W}><w:rPrDefault>{_rpr(SERIF, BODY_PT)}</w:rPrDefault>"
            f"<w:pPrDefault>{_ppr(align='both', line_pt=None)}</w:pPrDefault></w:docDefaults>"
        ),
    )
    _set_style(styles["Normal"].element, _ppr(first_line_pt=BODY_PT * 2), _rpr(SERIF, BODY_PT))
    # Heading 1: 一、二、… in sans (黑体), not bold, in the body's line pitch; level 1 in the navigation pane.
    _set_style(
        styles["Heading 1"].element,
        _ppr(first_line_pt=BODY_PT * 2, keep_next=True, outline=0),
        _rpr(SANS, BODY_PT),
    )
    _set_style(styles["Footer"].element, _ppr(align="center", line_pt=None), _rpr(SERIF, COLOPHON_PT))
    for style_id, (name, ppr, rpr) in DOCX_STYLES.items():
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.element.set(f"{{{W_NS}}}styleId", style_id)
        style.base_style = styles["Normal"]
        _set_style(style.element, ppr, rpr)


def _cell_xml(text: str, width: int, align: str, tone: str, *, header: bool = False) -> str:
    style = "YQTableHead" if header else "YQTableText"
    fill = HEADER_FILL if header else (TONES[tone][1] if tone in TONES else "")
    shading = f'<w:shd w:val="clear" w:color="auto" w:fill="{fill}"/>' if fill else ""
    run_props = f'<w:rPr><w:color w:val="{TONES[tone][0]}"/></w:rPr>' if tone in TONES and not header else ""
    return (
        f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/>{shading}<w:vAlign w:val="center"/></w:tcPr>'
        f'<w:p><w:pPr><w:pStyle w:val="{style}"/><w:jc w:val="{align}"/></w:pPr>'
        f"<w:r>{run_props}{_xml(text)}</w:r></w:p></w:tc>"
    )


def _table_xml(table: Table) -> str:
    """A whole table as WordprocessingML: fixed layout, header row repeated on every page, rows kept whole."""
    total = _twips(TEXT_WIDTH_MM)
    scale = TEXT_WIDTH_MM / sum(column.width_mm for column in table.columns)
    widths = [_twips(column.width_mm * scale) for column in table.columns]
    widths[-1] += total - sum(widths)
    aligns = [column.align for column in table.columns]
    border = '<w:{side} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
    borders = "".join(border.format(side=side) for side in ("top", "left", "bottom", "right", "insideH", "insideV"))
    parts = [
        f'<w:tbl {W}><w:tblPr><w:tblW w:w="{total}" w:type="dxa"/><w:jc w:val="center"/>'
        f'<w:tblBorders>{borders}</w:tblBorders><w:tblLayout w:type="fixed"/>'
        '<w:tblCellMar><w:top w:w="28" w:type="dxa"/><w:left w:w="57" w:type="dxa"/>'
        '<w:bottom w:w="28" w:type="dxa"/><w:right w:w="57" w:type="dxa"/></w:tblCellMar>'
        '<w:tblLook w:val="0020" w:firstRow="1" w:lastRow="0" w:firstColumn="0" w:lastColumn="0" w:noHBand="1" '
        'w:noVBand="1"/></w:tblPr><w:tblGrid>',
        "".join(f'<w:gridCol w:w="{width}"/>' for width in widths),
        "</w:tblGrid><w:tr><w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>",
        "".join(
            _cell_xml(column.label, width, "center", "", header=True)
            for column, width in zip(table.columns, widths, strict=True)
        ),
        "</w:tr>",
    ]
    row_start = "<w:tr><w:trPr><w:cantSplit/></w:trPr>"
    for row in table.rows:
        parts.append(row_start)
        for (text, tone), width, align in zip(row, widths, aligns, strict=True):
            parts.append(_cell_xml(text, width, align, tone))
        parts.append("</w:tr>")
    parts.append("</w:tbl>")
    return "".join(parts)


def _colophon_xml(prepared: Prepared) -> str:
    """版记: 抄送 and 印发 between a thick rule above, thin rules between and a thick rule below."""
    total = _twips(TEXT_WIDTH_MM)
    half = total // 2
    thick = '<w:{side} w:val="single" w:sz="8" w:space="0" w:color="000000"/>'
    thin = '<w:{side} w:val="single" w:sz="5" w:space="0" w:color="000000"/>'
    nil = '<w:{side} w:val="nil"/>'
    borders = (
        thick.format(side="top")
        + nil.format(side="left")
        + thick.format(side="bottom")
        + nil.format(side="right")
        + thin.format(side="insideH")
        + nil.format(side="insideV")
    )

    def paragraph(text: str, align: str) -> str:
        return f'<w:p><w:pPr><w:pStyle w:val="YQColophon"/><w:jc w:val="{align}"/></w:pPr><w:r>{_xml(text)}</w:r></w:p>'

    rows = []
    if prepared.cc_line:
        rows.append(
            f'<w:tr><w:trPr><w:cantSplit/></w:trPr><w:tc><w:tcPr><w:tcW w:w="{total}" w:type="dxa"/>'
            f'<w:gridSpan w:val="2"/></w:tcPr>{paragraph(prepared.cc_line, "left")}</w:tc></w:tr>'
        )
    rows.append(
        f'<w:tr><w:trPr><w:cantSplit/></w:trPr><w:tc><w:tcPr><w:tcW w:w="{half}" w:type="dxa"/></w:tcPr>'
        f'{paragraph(prepared.printer, "left")}</w:tc><w:tc><w:tcPr><w:tcW w:w="{total - half}" w:type="dxa"/>'
        f"</w:tcPr>{paragraph(prepared.printed_on, 'right')}</w:tc></w:tr>"
    )
    return (
        f'<w:tbl {W}><w:tblPr><w:tblW w:w="{total}" w:type="dxa"/><w:jc w:val="center"/>'
        f'<w:tblBorders>{borders}</w:tblBorders><w:tblLayout w:type="fixed"/>'
        '<w:tblCellMar><w:left w:w="0" w:type="dxa"/><w:right w:w="0" w:type="dxa"/></w:tblCellMar>'
        f'</w:tblPr><w:tblGrid><w:gridCol w:w="{half}"/><w:gridCol w:w="{total - half}"/></w:tblGrid>'
        + "".join(rows)
        + "</w:tbl>"
    )


# Where Noto CJK is not installed (most Windows desktops), Word substitutes a font of the same character set and
# family; the alternate names point it at the usual official-document faces, 宋体 for the serif and 黑体 for the sans.
FONT_TABLE_ENTRIES = {
    SERIF: ("宋体", "roman", "02010600030101010101"),
    SANS: ("黑体", "modern", "02010609060101010101"),
}


def _declare_fonts(document) -> None:
    from lxml import etree

    for part in document.part.package.iter_parts():
        if str(part.partname) == "/word/fontTable.xml" and hasattr(part, "_blob"):
            fonts = etree.fromstring(part.blob)
            for name, (alternate, family, panose) in FONT_TABLE_ENTRIES.items():
                fonts.append(
                    etree.fromstring(
                        f'<w:font {W} w:name="{name}"><w:altName w:val="{alternate}"/>'
                        f'<w:panose1 w:val="{panose}"/><w:charset w:val="86"/><w:family w:val="{family}"/>'
                        '<w:pitch w:val="variable"/></w:font>'
                    )
                )
            part._blob = etree.tostring(fonts, xml_declaration=True, encoding="UTF-8", standalone=True)


def _page_number_footer(section) -> None:
    """The page number, "— 1 —" centred at the bottom: a PAGE field between em dashes."""
    from docx.oxml import parse_xml

    paragraph = section.footer.paragraphs[0]
    paragraph.style = "Footer"
    for xml in (
        f'<w:r {W}><w:t xml:space="preserve">— </w:t></w:r>',
        f'<w:r {W}><w:fldChar w:fldCharType="begin"/></w:r>',
        f'<w:r {W}><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>',
        f'<w:r {W}><w:fldChar w:fldCharType="separate"/></w:r>',
        f"<w:r {W}><w:t>1</w:t></w:r>",
        f'<w:r {W}><w:fldChar w:fldCharType="end"/></w:r>',
        f'<w:r {W}><w:t xml:space="preserve"> —</w:t></w:r>',
    ):
        paragraph._p.append(parse_xml(xml))


def render_docx(content: BulletinContent, *, with_charts: bool = True) -> bytes:
    """The bulletin as a Word document (.docx), in the active language."""
    return docx_from_prepared(prepare(content, with_charts=with_charts))


def new_docx(*extra_styles):
    """An empty Word document set up as an official document: page, margins, styles (``extra_styles``: more
    functions that take the document and add theirs), fonts and page numbers; returns (document, section)."""
    from docx import Document
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.shared import Mm

    document = Document()
    # python-docx's default template carries a thumbnail of some other document: drop it.
    package_rels = document.part.package.rels
    for r_id, rel in list(package_rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            package_rels.pop(r_id)
    _docx_styles(document)
    for add_styles in extra_styles:
        add_styles(document)
    _declare_fonts(document)
    section = document.sections[0]
    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
    section.header_distance, section.footer_distance = Mm(15), Mm(21)
    _page_number_footer(section)
    return document, section


def docx_from_prepared(prepared: Prepared) -> bytes:
    from docx.oxml import parse_xml
    from docx.shared import Mm, Pt

    document, _section = new_docx()

    properties = document.core_properties
    properties.title = prepared.title
    properties.author = prepared.signature
    properties.subject = prepared.doc_number
    properties.language = prepared.language
    properties.comments = ""
    properties.keywords = ""
    properties.last_modified_by = prepared.signature
    properties.revision = 1
    properties.created = properties.modified = datetime.combine(prepared.content.issued_on, datetime.min.time())

    body = document.element.body
    sect_pr = body.find(f"{{{W_NS}}}sectPr")

    def append(xml: str) -> None:
        element = parse_xml(xml)
        if sect_pr is not None:
            sect_pr.addprevious(element)
        else:
            body.append(element)

    header = document.add_paragraph(style="YQ Issuing authority")
    header.add_run(prepared.header).font.size = Pt(prepared.header_pt)
    document.add_paragraph(prepared.doc_number, style="YQ Document number")
    document.add_paragraph(prepared.title, style="YQ Title")
    document.add_paragraph(prepared.recipients, style="YQ Addressees")
    document.add_paragraph(prepared.opening)
    for part in prepared.sections:
        document.add_paragraph(part.heading, style="Heading 1")
        for text in part.paragraphs:
            document.add_paragraph(text)
        for figure in part.figures:
            picture = document.add_paragraph(style="YQ Figure")
            picture.add_run().add_picture(io.BytesIO(figure.png), width=Mm(TEXT_WIDTH_MM - 6))
            document.add_paragraph(figure.caption, style="YQ Caption")
        if part.table is not None:
            append(_table_xml(part.table))
            document.add_paragraph("", style="YQ Table text")
    # The signature stays on the page of the last lines of the body (GB/T 9704 7.3.5: no page of signature alone).
    last_body = document.paragraphs[-1] if not prepared.sections[-1].table else None
    if last_body is not None:
        last_body.paragraph_format.keep_with_next = True
    signature = document.add_paragraph(prepared.signature, style="YQ Signature")
    signature.paragraph_format.space_before = Pt(LINE_PT)
    signature.paragraph_format.right_indent = Pt(BODY_PT * prepared.signature_indent_em)
    signature.paragraph_format.keep_with_next = True
    signed_on = document.add_paragraph(prepared.signed_on, style="YQ Signature")
    signed_on.paragraph_format.right_indent = Pt(BODY_PT * prepared.signed_on_indent_em)
    spacer = document.add_paragraph("", style="YQ Table text")
    spacer.paragraph_format.space_before = Pt(LINE_PT * 2)
    append(_colophon_xml(prepared))
    document.add_paragraph("", style="YQ End")  # a document ends with a paragraph, not a table

    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------------------------------
# PDF


def _html_text(text: str) -> str:
    """Escaped text; line breaks stay "\\n", which the stylesheet keeps (white-space: pre-line) in table cells."""
    return html.escape(text, quote=False)


def _html_table(table: Table) -> dict:
    """A table for the template; its body rows are written here, escaped, as one string (thousands of rows: a
    template loop over every cell would cost more than the rest of the template)."""
    scale = 100 / sum(column.width_mm for column in table.columns)
    aligns = [{"center": "c", "right": "r"}.get(column.align, "") for column in table.columns]
    rows = []
    for row in table.rows:
        cells = []
        for (text, tone), align in zip(row, aligns, strict=True):
            css = f"{align} t-{tone}".strip() if tone else align
            cells.append(f'<td class="{css}">{_html_text(text)}</td>' if css else f"<td>{_html_text(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return {
        "name": table.name,
        "columns": [(column.label, f"{column.width_mm * scale:.2f}%") for column in table.columns],
        "body": SafeString("\n".join(rows)),
    }


def render_pdf(content: BulletinContent, *, with_charts: bool = True) -> bytes:
    """The bulletin as a PDF, in the active language."""
    return pdf_from_prepared(prepare(content, with_charts=with_charts))


# WeasyPrint's HTML5 user-agent stylesheet has some 250 rules, many of them (attribute and :is() selectors) matched
# against every element; with tens of thousands of table cells that cascade is a noticeable share of the rendering.
# The bulletin's template uses a dozen elements, so it gets only the user-agent rules they need.
UA_CSS = """
html, body, header, section, div, p, h1, h2, figure, figcaption { display: block }
head, title, meta, style, link, script { display: none }
table { display: table; box-sizing: border-box; border-spacing: 2px; border-collapse: separate; text-indent: initial }
colgroup { display: table-column-group }
col { display: table-column }
thead { display: table-header-group; vertical-align: middle }
tbody { display: table-row-group; vertical-align: middle }
tr { display: table-row; vertical-align: inherit }
td, th { display: table-cell; vertical-align: inherit; padding: 1px }
th { font-weight: bold }
img { overflow: hidden }
br::before { content: "\\A"; white-space: pre-line }
h1 { bookmark-level: 1 }
h2 { bookmark-level: 2 }
h1, h2 { bookmark-label: content(text); break-after: avoid; break-inside: avoid }
"""


@cache
def _stylesheets():
    """The parsed user-agent and author stylesheets (read-only once parsed, shared between renderings)."""
    import weasyprint

    return weasyprint.CSS(string=UA_CSS), weasyprint.CSS(string=CSS_PATH.read_text(encoding="utf-8"))


@contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector while a large PDF is laid out.

    WeasyPrint allocates hundreds of thousands of boxes that stay alive until the end; every full collection walks
    them all again, which costs a fifth of the rendering time of a 10,000-measure bulletin. Nothing is lost: the
    collector runs as usual afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def pdf_from_prepared(prepared: Prepared) -> bytes:
    import weasyprint
    from weasyprint.urls import URLFetcher

    charts.cjk_font(SERIF)
    charts.cjk_font(SANS)
    ua_stylesheet, stylesheet = _stylesheets()

    class BulletinHTML(weasyprint.HTML):
        def _ua_stylesheets(self, forms=False):
            return [ua_stylesheet]

    sections = [
        {
            "heading": part.heading,
            "paragraphs": part.paragraphs,
            "figures": part.figures,
            "table": _html_table(part.table) if part.table is not None else None,
        }
        for part in prepared.sections
    ]
    markup = render_to_string(TEMPLATE, {"doc": prepared, "sections": sections})
    # Only the data: URIs of the charts are loaded: never a file or the network; a failure stops the rendering.
    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    with _gc_paused():
        document = BulletinHTML(string=markup, url_fetcher=fetcher)
        return document.write_pdf(stylesheets=[stylesheet])
