"""The inbox (收文), outbox (发文) or escalated box (督办) as an .xlsx workbook: the rows the page shows under the same
filters, every page.

One sheet of requests (number, kind, subject, 案号, parties, the two agencies and their regions, status, light,
running deadline and the lifecycle's dates, in Asia/Shanghai), the light cells coloured; a second sheet says what was
exported — which box, which filters, when, by whom, how many rows — so a file passed around stays explainable. Written
with openpyxl in write-only mode from one query (the rows with their kinds, agencies and regions joined), in the
ledger export's style (``yipanqi.ledger.excel``: header look, text cells that are never formulas).
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import PatternFill

from yipanqi.ledger.excel import (
    _HEADER_ALIGNMENT,
    _HEADER_FILL,
    _HEADER_FONT,
    _WRAP,
    XLSX_CONTENT_TYPE,
    _as_text,
    _cell_text,
)

from .models import RequestStatus, Urgency

__all__ = ["XLSX_CONTENT_TYPE", "describe_filters", "export_requests"]

SHANGHAI = ZoneInfo("Asia/Shanghai")
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
LIGHT_LABELS = {
    "red": gettext_lazy("red: overdue"),
    "yellow": gettext_lazy("yellow: near the deadline"),
    "green": gettext_lazy("green: in time"),
    "paused": gettext_lazy("paused: awaiting material"),
}
LIGHT_COLOURS = {"red": "F8696B", "yellow": "FFE699", "green": "A9D08E", "paused": "9DC3E6"}
_LIGHT_FILLS = {light: PatternFill(fill_type="solid", fgColor=colour) for light, colour in LIGHT_COLOURS.items()}


@dataclass(frozen=True)
class Column:
    key: str
    header: object  # translated when the file is written
    width: int


COLUMNS = (
    Column("number", gettext_lazy("Number"), 18),
    Column("kind", gettext_lazy("Kind"), 14),
    Column("title", gettext_lazy("Subject"), 36),
    Column("case_number", gettext_lazy("Case number (案号)"), 22),
    Column("parties", gettext_lazy("Parties"), 30),
    Column("urgency", gettext_lazy("Urgency"), 8),
    Column("sender", gettext_lazy("Sending agency"), 26),
    Column("sender_region", gettext_lazy("Sender's region"), 12),
    Column("receiver", gettext_lazy("Receiving agency"), 26),
    Column("receiver_region", gettext_lazy("Receiver's region"), 12),
    Column("status", gettext_lazy("Status"), 12),
    Column("light", gettext_lazy("Light"), 16),
    Column("due_at", gettext_lazy("Current deadline"), 17),
    Column("sent_at", gettext_lazy("Sent at"), 17),
    Column("assignee", gettext_lazy("Handled by"), 12),
)


def _local(value: datetime.datetime | None):
    """A naive Asia/Shanghai datetime (Excel has no time zones; the info sheet says which one)."""
    if value is None:
        return None
    return timezone.localtime(value, SHANGHAI).replace(tzinfo=None)


def describe_filters(form) -> list[tuple[str, str]]:
    """(label, value) of every filter in use, for the info sheet."""
    if not form.is_bound or not form.is_valid():
        return []
    described = []
    for name, value in form.cleaned_data.items():
        if value in (None, ""):
            continue
        field = form.fields[name]
        if hasattr(field, "choices") and not hasattr(value, "pk"):
            value = dict(field.choices).get(value, value)
        if isinstance(value, datetime.date):
            value = value.isoformat()
        described.append((str(field.label), str(value)))
    return described


def export_requests(rows, *, box: str, now: datetime.datetime, limit: int, filters=(), user=None) -> bytes:
    """The workbook of ``rows`` (a queryset annotated with ``light``, with kind, agencies and regions joined); at
    most ``limit`` rows (the info sheet says when more matched)."""
    statuses = {value: str(label) for value, label in RequestStatus.choices}
    urgencies = {value: str(label) for value, label in Urgency.choices}
    lights = {value: str(label) for value, label in LIGHT_LABELS.items()}
    chosen = list(rows[: limit + 1])
    cut = len(chosen) > limit
    chosen = chosen[:limit]

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Requests"))
    for index, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[_letter(index)].width = column.width
    sheet.freeze_panes = "A2"
    header = []
    for column in COLUMNS:
        cell = WriteOnlyCell(sheet, value=str(column.header))
        cell.font, cell.fill, cell.alignment = _HEADER_FONT, _HEADER_FILL, _HEADER_ALIGNMENT
        header.append(cell)
    sheet.append(header)

    def text(value: str):
        if not value:
            return None
        cell = WriteOnlyCell(sheet, value=_cell_text(value))
        _as_text(cell)
        return cell

    def moment(value):
        if value is None:
            return None
        cell = WriteOnlyCell(sheet, value=_local(value))
        cell.number_format = DATETIME_FORMAT
        return cell

    for row in chosen:
        light = getattr(row, "light", "") or ""
        light_cell = None
        if light in lights:
            light_cell = WriteOnlyCell(sheet, value=lights[light])
            light_cell.fill = _LIGHT_FILLS[light]
        assignee = row.assignee.full_name or row.assignee.username if row.assignee_id else ""
        sheet.append(
            [
                text(row.number),
                text(row.kind.name),
                text(row.title),
                text(row.case_number),
                text(row.parties),
                urgencies.get(row.urgency, row.urgency),
                text(row.sender.name),
                text(row.sender.region.name),
                text(row.receiver.name if row.receiver_id else ""),
                text(row.receiver.region.name if row.receiver_id else ""),
                statuses.get(row.status, row.status),
                light_cell,
                moment(row.due_at if light else None),
                moment(row.sent_at),
                text(assignee),
            ]
        )

    info = workbook.create_sheet(_("Export"))
    info.column_dimensions["A"].width = 18
    info.column_dimensions["B"].width = 70
    box_label = {"inbox": _("Inbox (收文)"), "outbox": _("Outbox (发文)")}.get(box) or _("Escalated to us (督办)")
    lines = [
        (_("List"), box_label),
        (_("Agency"), user.agency.name if user is not None and user.agency_id else ""),
        (_("Exported by"), (user.full_name or user.username) if user is not None else ""),
        (_("Exported at"), timezone.localtime(now, SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") + " (Asia/Shanghai)"),
        (_("Rows"), len(chosen)),
        *filters,
    ]
    if cut:
        lines.append(
            (
                _("Note"),
                _("More than %(limit)s requests matched; narrow the filters to export the rest.") % {"limit": limit},
            )
        )
    lines.append((_("Times"), _("Dates and times are China Standard Time (UTC+8).")))
    for label, value in lines:
        label_cell = WriteOnlyCell(info, value=str(label))
        label_cell.font = _HEADER_FONT
        value_cell = WriteOnlyCell(info, value=_cell_text(value) if isinstance(value, str) else value)
        _as_text(value_cell)
        value_cell.alignment = _WRAP
        info.append([label_cell, value_cell])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)
