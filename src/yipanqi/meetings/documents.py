"""The minutes (会议纪要) as a Word (.docx) and a PDF document, in the look of the ledger's bulletins.

The text is the meeting's edited minutes, or the generated draft (``minutes.draft_text``) while none is written, so a
document can be read at every step. It is typeset as the host wrote it, line by line: the first line is the title
(centred, large), followed by a line naming the series, the meeting's number and its date; a line opening with a
Chinese section number "一、" is a level-1 heading (黑体), "（一）" a level-2 heading, anything else (the numbered
decisions "1." included) a body paragraph. At the end every member agency is listed with the day it approved the
minutes, or "待审批".

A document that is not final says so on every page ("草稿" in the page header and as a watermark across the page) so a
printed draft is never taken for the approved text; final minutes are marked "定稿" and end with the SHA-256 digest of
their text, the digest every member's approval recorded (``MinutesApproval.text_digest``), so a copy can be checked
against the platform.

Page, fonts, styles, tables and page numbers are the bulletin's (``yipanqi.ledger.documents``, GB/T 9704-2012 adapted:
Noto Serif CJK for the body and the title, Noto Sans CJK for headings), imported rather than copied, so the two kinds of
document stay alike. ``render_docx(meeting)`` and ``render_pdf(meeting)`` read the database once through
``prepare(meeting)``; every fixed text is translated under the active language.
"""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from yipanqi.ledger import charts
from yipanqi.ledger.documents import (
    BODY_PT,
    DOCX_CONTENT_TYPE,
    LINE_PT,
    PDF_CONTENT_TYPE,
    SANS,
    SERIF,
    W_NS,
    Column,
    Table,
    W,
    _clean,
    _ppr,
    _rpr,
    _set_style,
    _stylesheets,
    _table_xml,
    long_date,
    new_docx,
)

from . import minutes, selectors
from .models import Meeting, MinutesApproval, MinutesStatus
from .services import digest

__all__ = ["DOCX_CONTENT_TYPE", "PDF_CONTENT_TYPE", "prepare", "render_docx", "render_pdf"]

TEMPLATE = "meetings/minutes_document.html"
CSS_PATH = Path(__file__).resolve().parent / "templates" / "meetings" / "minutes_document.css"
DRAFT_RED = "C00000"
NUMERALS = "一二三四五六七八九十百千零"
HEADING = re.compile(rf"^[{NUMERALS}]+、")  # 一、 (level 1, 黑体)
SUBHEADING = re.compile(rf"^[（(][{NUMERALS}]+[）)]")  # （一） (level 2)


@dataclass
class Block:
    kind: str  # "heading" (一、), "subheading" (（一）) or "paragraph"
    text: str


@dataclass
class Prepared:
    """Everything both renderers print, in the active language."""

    language: str
    title: str
    subtitle: str  # series · 第N次会议 · date
    blocks: list[Block]
    final: bool
    label: str  # 草稿 / 定稿
    approvals_heading: str
    approvals: Table
    notes: list[str] = field(default_factory=list)
    digest: str = ""  # SHA-256 of the approved text; final minutes only
    author: str = ""
    dated: date | None = None


def split_text(text: str) -> tuple[str, list[Block]]:
    """The title (first non-empty line) and the blocks of the rest, one per non-empty line."""
    lines = [line.strip() for line in _clean(text).split("\n")]
    lines = [line for line in lines if line]
    if not lines:
        return "", []
    blocks = []
    for line in lines[1:]:
        kind = "heading" if HEADING.match(line) else "subheading" if SUBHEADING.match(line) else "paragraph"
        blocks.append(Block(kind, line))
    return lines[0], blocks


def _approvals(meeting: Meeting) -> Table:
    """Every member agency (in the rotation's order) with the day it approved the minutes, or 待审批. An approval by
    an agency that has left the series since still counts, and is listed after the members."""
    approvals = {
        a.agency_id: a for a in MinutesApproval.objects.filter(meeting=meeting).select_related("agency").order_by("id")
    }
    agencies = [seat.agency for seat in selectors.seats(meeting.series)]
    seated = {agency.pk for agency in agencies}
    agencies += [a.agency for a in approvals.values() if a.agency_id not in seated]
    rows = []
    for agency in agencies:
        approval = approvals.get(agency.pk)
        if approval is None:
            rows.append([(_clean(agency.name), ""), (_("Awaiting approval"), "")])
        else:
            rows.append([(_clean(agency.name), ""), (long_date(timezone.localdate(approval.approved_at)), "green")])
    return Table("approvals", [Column(_("Member agency"), 110), Column(_("Approved on"), 46, "center")], rows)


def prepare(meeting: Meeting) -> Prepared:
    """Read the meeting's minutes (or their draft) and approvals and phrase the document in the active language."""
    text = meeting.minutes_text if meeting.minutes_text.strip() else minutes.draft_text(meeting)
    title, blocks = split_text(text)
    held_on = timezone.localdate(meeting.starts_at)
    final = meeting.minutes_status == MinutesStatus.APPROVED
    notes, text_digest = [], ""
    if final:
        approved_on = timezone.localdate(meeting.minutes_approved_at) if meeting.minutes_approved_at else None
        notes.append(
            _("These minutes were approved by every member agency and became final on %(date)s.")
            % {"date": long_date(approved_on)}
        )
        text_digest = digest(meeting.minutes_text)
    else:
        notes.append(_("This is a draft: the minutes become final once every member agency has approved them."))
    return Prepared(
        language=get_language() or "zh-hans",
        title=title or _("Minutes of %(meeting)s") % {"meeting": meeting.display_title},
        subtitle=_("%(series)s · meeting no. %(number)s · %(date)s")
        % {"series": _clean(meeting.series.title), "number": meeting.number, "date": long_date(held_on)},
        blocks=blocks,
        final=final,
        label=_("Final version") if final else _("Draft"),
        approvals_heading=_("Approval by the member agencies"),
        approvals=_approvals(meeting),
        notes=notes,
        digest=text_digest,
        author=_clean(meeting.host.name),
        dated=held_on,
    )


def render_docx(meeting: Meeting) -> bytes:
    """The minutes as a Word document (.docx), in the active language."""
    return docx_from_prepared(prepare(meeting))


def render_pdf(meeting: Meeting) -> bytes:
    """The minutes as a PDF, in the active language."""
    return pdf_from_prepared(prepare(meeting))


# --------------------------------------------------------------------------------------------------------------------
# .docx

# style id → (name, paragraph properties, run properties); the bulletin's styles (Normal, Heading 1, YQ Title, the
# table styles, Footer) come with ``_docx_styles``.
MINUTES_STYLES = {
    "YQMinutesSubtitle": ("YQ Minutes subtitle", _ppr(align="center", after_pt=LINE_PT), _rpr(SERIF, BODY_PT)),
    "YQHeading2": (
        "YQ Heading 2",
        _ppr(first_line_pt=BODY_PT * 2, keep_next=True, outline=1),
        _rpr(SERIF, BODY_PT, bold=True),
    ),
    "YQApprovalsHeading": (
        "YQ Approvals heading",
        _ppr(align="center", before_pt=LINE_PT, keep_next=True),
        _rpr(SANS, BODY_PT),
    ),
    "YQMinutesNote": ("YQ Minutes note", _ppr(align="left", line_pt=None, before_pt=8), _rpr(SERIF, 12)),
    "YQDigest": ("YQ Digest", _ppr(align="left", line_pt=None, before_pt=2), _rpr(SANS, 9)),
    "YQLabel": ("YQ Label", _ppr(align="right", line_pt=None), _rpr(SANS, 14, bold=True)),
}

VML = 'xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office"'

# The text watermark Word itself writes (设计 → 水印): WordArt shape type 136 in the page header, centred on the page,
# rotated, pale. LibreOffice shows it too.
WATERMARK_XML = (
    f"<w:r {W} {VML}><w:rPr><w:noProof/></w:rPr><w:pict>"
    '<v:shapetype id="_x0000_t136" coordsize="21600,21600" o:spt="136" adj="10800" '
    'path="m@7,l@8,m@5,21600l@6,21600e"><v:formulas>'
    '<v:f eqn="sum #0 0 10800"/><v:f eqn="prod #0 2 1"/><v:f eqn="sum 21600 0 @1"/><v:f eqn="sum 0 0 @2"/>'
    '<v:f eqn="sum 21600 0 @3"/><v:f eqn="if @0 @3 0"/><v:f eqn="if @0 21600 @1"/><v:f eqn="if @0 0 @2"/>'
    '<v:f eqn="if @0 @4 21600"/><v:f eqn="mid @5 @6"/><v:f eqn="mid @8 @5"/><v:f eqn="mid @7 @8"/>'
    '<v:f eqn="mid @6 @7"/><v:f eqn="sum @6 0 @5"/></v:formulas>'
    '<v:path textpathok="t" o:connecttype="custom" o:connectlocs="@9,0;@10,10800;@11,21600;@12,10800" '
    'o:connectangles="270,180,90,0"/><v:textpath on="t" fitshape="t"/>'
    '<v:handles><v:h position="#0,bottomRight" xrange="6629,14971"/></v:handles>'
    '<o:lock v:ext="edit" text="t" shapetype="t"/></v:shapetype>'
    '<v:shape id="YQWatermark" o:spid="_x0000_s2049" type="#_x0000_t136" '
    'style="position:absolute;margin-left:0;margin-top:0;width:360pt;height:180pt;rotation:315;z-index:-251657216;'
    "mso-position-horizontal:center;mso-position-horizontal-relative:margin;mso-position-vertical:center;"
    'mso-position-vertical-relative:margin" o:allowincell="f" fillcolor="#{colour}" stroked="f">'
    '<v:fill opacity=".25"/><v:textpath style="font-family:&quot;{font}&quot;;font-size:1pt" string="{text}"/>'
    "</v:shape></w:pict></w:r>"
)


def _minutes_styles(document) -> None:
    from docx.enum.style import WD_STYLE_TYPE

    styles = document.styles
    for style_id, (name, ppr, rpr) in MINUTES_STYLES.items():
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.element.set(f"{{{W_NS}}}styleId", style_id)
        style.base_style = styles["Normal"]
        _set_style(style.element, ppr, rpr)


def _label_header(section, prepared: Prepared) -> None:
    """草稿 / 定稿 at the top right of every page; a draft also gets the watermark across every page."""
    from docx.oxml import parse_xml
    from docx.shared import RGBColor

    paragraph = section.header.paragraphs[0]
    paragraph.style = "YQ Label"
    run = paragraph.add_run(prepared.label)
    if not prepared.final:
        run.font.color.rgb = RGBColor.from_string(DRAFT_RED)
        text = html.escape(prepared.label, quote=True)
        paragraph._p.append(parse_xml(WATERMARK_XML.format(colour=DRAFT_RED, font=SANS, text=text)))


def docx_from_prepared(prepared: Prepared) -> bytes:
    from docx.oxml import parse_xml

    document, section = new_docx(_minutes_styles)
    _label_header(section, prepared)

    properties = document.core_properties
    properties.title = prepared.title
    properties.subject = prepared.subtitle
    properties.author = properties.last_modified_by = prepared.author
    properties.language = prepared.language
    properties.keywords = prepared.label
    properties.comments = prepared.digest
    properties.revision = 1
    if prepared.dated:
        properties.created = properties.modified = datetime.combine(prepared.dated, datetime.min.time())

    document.add_paragraph(prepared.title, style="YQ Title")
    document.add_paragraph(prepared.subtitle, style="YQ Minutes subtitle")
    styles = {"heading": "Heading 1", "subheading": "YQ Heading 2", "paragraph": None}
    for block in prepared.blocks:
        document.add_paragraph(block.text, style=styles[block.kind])
    document.add_paragraph(prepared.approvals_heading, style="YQ Approvals heading")
    body = document.element.body
    sect_pr = body.find(f"{{{W_NS}}}sectPr")
    table = parse_xml(_table_xml(prepared.approvals))
    if sect_pr is not None:
        sect_pr.addprevious(table)
    else:  # pragma: no cover - python-docx's template always has one
        body.append(table)
    for note in prepared.notes:
        document.add_paragraph(note, style="YQ Minutes note")
    if prepared.digest:
        document.add_paragraph(f"SHA-256: {prepared.digest}", style="YQ Digest")

    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------------------------------
# PDF


@cache
def _minutes_stylesheet():
    import weasyprint

    return weasyprint.CSS(string=CSS_PATH.read_text(encoding="utf-8"))


def layout_pdf(prepared: Prepared):
    """The laid-out document (``weasyprint.Document``: its ``pages``), before it is written as PDF.

    The bulletin's stylesheet sets the page, the fonts, the title, headings and tables; ``minutes_document.css`` adds
    the label, the watermark and the approval block."""
    import weasyprint
    from weasyprint.urls import URLFetcher

    charts.cjk_font(SERIF)  # FontMissing, with what to install, rather than boxes for every character
    charts.cjk_font(SANS)
    bulletin_stylesheet = _stylesheets()[1]
    markup = render_to_string(TEMPLATE, {"doc": prepared, "columns": prepared.approvals.columns})
    # Nothing is fetched: no file, no network.
    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    return weasyprint.HTML(string=markup, url_fetcher=fetcher).render(
        stylesheets=[bulletin_stylesheet, _minutes_stylesheet()]
    )


def pdf_from_prepared(prepared: Prepared) -> bytes:
    return layout_pdf(prepared).write_pdf()
