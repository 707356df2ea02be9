"""Ledger Excel in and out (台账导入导出): a documented template, an import with a full preview, an export of any view.

The file format (documented in docs/ledger-excel.md) is the first worksheet of an .xlsx workbook: row 1 holds the
headers of ``TEMPLATE_COLUMNS`` (in any order, extra columns ignored), every later non-blank row is one node of the
agreement's tree (方面 → 举措 → 子项 …), linked to its parent by ``上级编号``. An export writes the same columns, so
export → import gives the same tree; its extra columns (进度%, 状态, 灯色) are read-only and ignored on import.

The import is two steps. ``parse_workbook`` reads and validates the whole file — file type and size, template,
every row, the tree (duplicates, unknown parents, cycles, owners on rows that have sub-items), agency names — and
writes nothing. ``commit_import`` refuses a preview with errors; otherwise it creates the measures parents first
and assigns their owners through the ledger services, in one transaction: all rows or none.
"""

from __future__ import annotations

import datetime
import difflib
import io
import logging
import os
import re
import unicodedata
import warnings
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.properties import Outline

from yipanqi.directory.models import Agency
from yipanqi.directory.text import normalise_chinese

from . import services
from .models import Agreement, Measure, MeasureCategory, MeasureOwner, MeasureStatus, OwnerRole
from .selectors import light_for

logger = logging.getLogger(__name__)

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000  # data rows in one file
MAX_LEVELS = 10  # 方面 → 举措 → 子项 … at most this many levels below the agreement
MAX_ERRORS = 1000  # reported errors; a file with more gets a final "and more" line
MAX_SUGGESTED_NAMES = 50  # unknown agency names looked up for close matches (each costs a few queries)
UNPACKED_FACTOR = 20  # an .xlsx may expand to this many times the size limit (guards against zip bombs)
MAX_SIBLINGS = 9999  # the tree path numbers siblings with four digits
HEADER_SEARCH_ROWS = 5  # the header row may sit below a title row or two

DATA_SHEET = "台账"
HELP_SHEET = "说明"
EXAMPLE_SHEET = "示例"
EXPORT_INFO_SHEET = "导出信息"
DATE_FORMAT = "yyyy-mm-dd"


def max_import_bytes() -> int:
    return getattr(settings, "LEDGER_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)


# --------------------------------------------------------------------------- the columns


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the Chinese header in row 1: part of the file format, never translated
    width: int
    help: Any  # a lazy translated explanation, shown in the 说明 sheet and as the header's comment
    required: bool = False


TEMPLATE_COLUMNS: tuple[Column, ...] = (
    Column(
        "number",
        "编号",
        12,
        gettext_lazy(
            "Required. The number as written in the agreement (一, 一、1, （一）2 …), unique within the agreement. "
            "Keep the column formatted as text so that 1.10 stays 1.10."
        ),
        required=True,
    ),
    Column(
        "parent",
        "上级编号",
        12,
        gettext_lazy(
            "The number of the row this one belongs to: another row of the file, or a measure already in the "
            "agreement. Empty for a top-level area (方面). Rows may come in any order; the parents are created first."
        ),
    ),
    Column("title", "标题", 36, gettext_lazy("Required. The measure's title, at most 300 characters."), required=True),
    Column("text", "内容", 48, gettext_lazy("The full text of the measure as written in the agreement.")),
    Column(
        "category",
        "类别",
        10,
        gettext_lazy(
            "完成类 (done, publicise the results), 启动类 (to be launched), 调研类 (under study) or 常规 (regular); "
            "the codes done, launch, study and regular are accepted too. Empty means 常规."
        ),
    ),
    Column(
        "lead",
        "主办单位",
        26,
        gettext_lazy(
            "The lead agency (主办), by its full name in the directory, e.g. 四川省高级人民法院; traditional "
            "characters are accepted. Only on rows without sub-items: owners are assigned to the lowest level."
        ),
    ),
    Column(
        "co_owners",
        "协办单位",
        34,
        gettext_lazy(
            "Co-owning agencies (协办), full names separated by 、 or ; or a line break. Only on rows without "
            "sub-items, and not the lead agency again."
        ),
    ),
    Column(
        "start_on",
        "开始日期",
        12,
        gettext_lazy("The start date: an Excel date, or text such as 2026-03-01, 2026/3/1 or 2026年3月1日."),
    ),
    Column(
        "due_on",
        "完成时限",
        12,
        gettext_lazy("The deadline, written like the start date; not before the start."),
    ),
    Column("expected_outcome", "预期成效", 36, gettext_lazy("What the measure should achieve (预期成效).")),
)
READ_ONLY_COLUMNS: tuple[Column, ...] = (
    Column("progress", "进度%", 8, gettext_lazy("Exported only: the derived progress; ignored on import.")),
    Column("status", "状态", 12, gettext_lazy("Exported only: the measure's status; ignored on import.")),
    Column("light", "灯色", 10, gettext_lazy("Exported only: the supervision light; ignored on import.")),
)
COLUMNS_BY_KEY = {c.key: c for c in TEMPLATE_COLUMNS}

CATEGORY_LABELS = {
    MeasureCategory.DONE: "完成类",
    MeasureCategory.LAUNCH: "启动类",
    MeasureCategory.STUDY: "调研类",
    MeasureCategory.REGULAR: "常规",
}
LIGHT_LABELS = {
    "red": gettext_lazy("red: overdue"),
    "yellow": gettext_lazy("yellow: behind"),
    "blue": gettext_lazy("blue: due soon"),
    "green": gettext_lazy("green: on track"),
    "done": gettext_lazy("grey: closed"),
}
LIGHT_COLOURS = {"red": "F8696B", "yellow": "FFE699", "blue": "9DC3E6", "green": "A9D08E", "done": "D9D9D9"}
OWNER_SEPARATORS = re.compile(r"[、;；,，\n\r]+")


# --------------------------------------------------------------------------- the preview


@dataclass(frozen=True)
class RowError:
    """One problem: ``row`` is the Excel row number (1 is the header row), ``column`` its header or None."""

    row: int
    column: str | None
    message: str
    code: str = "invalid"

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "code": self.code, "message": self.message}


@dataclass(eq=False)
class ImportRow:
    row: int
    number: str
    parent_number: str
    title: str
    text: str = ""
    category: str = MeasureCategory.REGULAR
    start_on: datetime.date | None = None
    due_on: datetime.date | None = None
    expected_outcome: str = ""
    lead_name: str = ""
    co_names: list[str] = field(default_factory=list)
    lead: Agency | None = None
    co_owners: list[Agency] = field(default_factory=list)
    level: int | None = None  # 0 for a top-level area; None when the tree around the row is broken
    parent_row: ImportRow | None = field(default=None, repr=False)
    parent_measure_id: int | None = None  # the parent is a measure already in the agreement
    children: list[ImportRow] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict:
        return {
            "row": self.row,
            "number": self.number,
            "parent": self.parent_number,
            "level": self.level,
            "title": self.title,
            "category": self.category,
            "lead": self.lead.name if self.lead else None,
            "co_owners": [a.name for a in self.co_owners],
            "start_on": self.start_on.isoformat() if self.start_on else None,
            "due_on": self.due_on.isoformat() if self.due_on else None,
        }


@dataclass
class ImportPreview:
    agreement: Agreement
    rows: list[ImportRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    truncated: bool = False

    @property
    def is_valid(self) -> bool:
        return not self.errors

    def add(self, row: int, column: str | None, message: str, code: str = "invalid") -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(RowError(row, column, message, code))
        elif not self.truncated:
            self.truncated = True
            self.errors.append(
                RowError(
                    row,
                    None,
                    _("More than %(count)s errors: only the first ones are listed.") % {"count": MAX_ERRORS},
                    "too_many_errors",
                )
            )

    def as_dict(self, *, with_rows: bool = False) -> dict:
        data = {"rows": len(self.rows), "valid": self.is_valid, "errors": [e.as_dict() for e in self.errors]}
        if with_rows:
            data["measures"] = [r.as_dict() for r in self.rows]
        return data


class LedgerImportError(Exception):
    """The import was refused: ``errors`` says why, row by row. Nothing was written."""

    def __init__(self, errors: list[RowError]):
        super().__init__("; ".join(f"{e.row}: {e.message}" for e in errors[:5]))
        self.errors = errors


# --------------------------------------------------------------------------- reading cells


def _fold(value: str) -> str:
    """Full-width forms folded, traditional converted, all whitespace removed: for headers and categories."""
    return re.sub(r"\s+", "", normalise_chinese(value))


def _header_key(value) -> str:
    return _fold(str(value)).strip("*") if value is not None else ""


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})[日号]?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_TRAILING_MIDNIGHT = re.compile(r"[ T]0{1,2}:00(:00)?$")
MIN_YEAR, MAX_YEAR = 1990, 2100
EXCEL_SERIAL_RANGE = (32874, 73415)  # 1990-01-01 … 2100-12-31 as Excel serial day numbers


def _parse_date(value) -> datetime.date | None:
    """A cell as a date; ``ValueError`` for anything that is not clearly one. Blank gives None."""
    if _blank(value):
        return None
    if isinstance(value, datetime.datetime):
        day = value.date()
    elif isinstance(value, datetime.date):
        day = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if not EXCEL_SERIAL_RANGE[0] <= value <= EXCEL_SERIAL_RANGE[1]:
            return _parse_date(_text(value))  # 20260301 typed as a number; anything else is refused there
        day = from_excel(value).date()
    else:
        text = _TRAILING_MIDNIGHT.sub("", unicodedata.normalize("NFKC", str(value)).strip())
        text = re.sub(r"\s+", "", text)
        for pattern in _DATE_PATTERNS:
            match = pattern.match(text)
            if match:
                day = datetime.date(*(int(g) for g in match.groups()))  # ValueError for 2026-02-30
                break
        else:
            raise ValueError(value)
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise ValueError(value)
    return day


def _category_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for code, label in CATEGORY_LABELS.items():
        lookup[code] = code
        lookup[label] = code
        lookup[label.removesuffix("类")] = code
    lookup["常规类"] = MeasureCategory.REGULAR
    for code, label in MeasureCategory.choices:  # the labels in the current language
        lookup.setdefault(_fold(str(label)).lower(), code)
    return lookup


def _split_names(value) -> list[str]:
    return [n.strip() for n in OWNER_SEPARATORS.split(_text(value)) if n.strip()]


# --------------------------------------------------------------------------- agencies by name


def _name_keys(name: str) -> list[str]:
    """The raw name (full-width folded) and its simplified form: converting every traditional character is not
    always right (乾安县 would become 干安县), so both are looked up."""
    raw = re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))
    simplified = normalise_chinese(raw)
    return [raw] if simplified == raw else [raw, simplified]


class _AgencyResolver:
    def __init__(self, principal):
        self.queryset = Agency.objects.all() if principal is None else Agency.objects.visible_to(principal)
        self.by_name: dict[str, list[Agency]] = defaultdict(list)
        self.by_short_name: dict[str, list[Agency]] = defaultdict(list)
        self._suggestions: dict[str, list[str]] = {}

    def load(self, names: set[str]) -> None:
        keys = sorted({key for name in names for key in _name_keys(name)})
        seen: set[int] = set()
        for start in range(0, len(keys), 400):
            chunk = keys[start : start + 400]
            found = self.queryset.filter(Q(name__in=chunk) | Q(short_name__in=chunk)).select_related("region")
            for agency in found.order_by("pk"):
                if agency.pk in seen:
                    continue
                seen.add(agency.pk)
                self.by_name[agency.name].append(agency)
                if agency.short_name:
                    self.by_short_name[agency.short_name].append(agency)

    def resolve(self, name: str) -> tuple[Agency | None, list[Agency]]:
        """(the agency, []) when the name is clear; (None, the candidates) when it is ambiguous or unknown."""
        keys = _name_keys(name)
        for index in (self.by_name, self.by_short_name):
            found = list({a.pk: a for key in keys for a in index.get(key, ())}.values())
            if len(found) == 1:
                return found[0], []
            if found:
                return None, found
        return None, []

    def suggest(self, name: str) -> list[str]:
        """Up to three close names from the directory, or none once MAX_SUGGESTED_NAMES names were looked up."""
        if name in self._suggestions:
            return self._suggestions[name]
        if len(self._suggestions) >= MAX_SUGGESTED_NAMES:
            return []
        simplified = _name_keys(name)[-1]
        active = self.queryset.filter(is_active=True)
        contained = list(active.search(simplified).values_list("name", flat=True)[:50])
        if contained:  # the name is part of real names (a short form): the closest of them
            matches = sorted(contained, key=lambda n: -difflib.SequenceMatcher(None, simplified, n).ratio())[:3]
        else:  # a misspelling: compare with the agencies whose names start alike (usually the same region)
            matches = []
            for prefix in dict.fromkeys((simplified[:3], simplified[:2])):
                if len(prefix) < 2:
                    continue
                pool = list(active.search(prefix).values_list("name", flat=True)[:1000])
                matches = difflib.get_close_matches(simplified, pool, n=3, cutoff=0.5)
                if matches:
                    break
        self._suggestions[name] = matches
        return matches


# --------------------------------------------------------------------------- parse


def _open_source(file) -> tuple[Any, bool]:
    """A seekable binary file object and whether we opened it (and must close it)."""
    if isinstance(file, bytes | bytearray | memoryview):
        return io.BytesIO(bytes(file)), True
    if isinstance(file, str | os.PathLike):
        return open(file, "rb"), True  # closed by parse_workbook
    return file, False


def _size_of(handle) -> int:
    size = getattr(handle, "size", None)
    if isinstance(size, int):
        return size
    position = handle.tell()
    handle.seek(0, io.SEEK_END)
    size = handle.tell()
    handle.seek(position)
    return size


def _check_container(handle, preview: ImportPreview) -> bool:
    """Size, file type and zip structure: one error and False when the file cannot be a ledger workbook."""
    limit = max_import_bytes()
    size = _size_of(handle)
    if size > limit:
        preview.add(
            0,
            None,
            _("The file has %(size)s bytes; at most %(limit)s bytes are accepted.") % {"size": size, "limit": limit},
            "file_too_large",
        )
        return False
    handle.seek(0)
    magic = handle.read(8)
    handle.seek(0)
    if not magic:
        preview.add(0, None, _("The file is empty."), "empty_file")
        return False
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        preview.add(
            0,
            None,
            _("This is an old .xls workbook or a password-protected one: save it as .xlsx, without a password."),
            "not_xlsx",
        )
        return False
    if not magic.startswith(b"PK\x03\x04"):
        preview.add(0, None, _("This is not an .xlsx workbook: download the template and fill it in."), "not_xlsx")
        return False
    try:
        with zipfile.ZipFile(handle) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        preview.add(0, None, _("The .xlsx file is damaged and cannot be read."), "corrupt_file")
        return False
    finally:
        handle.seek(0)
    if "xl/workbook.xml" not in {e.filename for e in entries}:
        preview.add(0, None, _("This is not an .xlsx workbook: download the template and fill it in."), "not_xlsx")
        return False
    if sum(e.file_size for e in entries) > limit * UNPACKED_FACTOR:
        preview.add(
            0,
            None,
            _("The workbook unpacks to more than %(limit)s bytes; split it into smaller files.")
            % {"limit": limit * UNPACKED_FACTOR},
            "file_too_large",
        )
        return False
    return True


def parse_workbook(file, *, agreement: Agreement, principal) -> ImportPreview:
    """Read and check a ledger workbook for ``agreement``; write nothing.

    ``file``: an uploaded file, any seekable binary file object, bytes, or a path. ``principal`` looks up the
    agencies (None: the system). The preview's ``errors`` list every problem found, by Excel row and column.
    """
    preview = ImportPreview(agreement=agreement)
    handle, opened = _open_source(file)
    try:
        if not _check_container(handle, preview):
            return preview
        raw_rows = _read_rows(handle, preview)
    finally:
        if opened:
            handle.close()
    if preview.errors:
        return preview
    if not raw_rows:
        preview.add(2, None, _("The first sheet has no measure rows below the header."), "no_rows")
        return preview
    categories = _category_lookup()
    rows = [_parse_row(n, cells, preview, categories) for n, cells in raw_rows]
    _check_tree(rows, preview)
    _resolve_agencies(rows, preview, principal)
    order = {c.header: i for i, c in enumerate(TEMPLATE_COLUMNS)}
    preview.errors.sort(key=lambda e: (e.code == "too_many_errors", e.row, order.get(e.column, -1) if e.column else -1))
    preview.rows = rows
    return preview


def _read_rows(handle, preview: ImportPreview) -> list[tuple[int, dict[str, Any]]]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about extensions and styles it drops
            workbook = load_workbook(handle, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged workbook
        logger.info("ledger import: unreadable workbook", exc_info=True)
        preview.add(0, None, _("The .xlsx file is damaged and cannot be read."), "corrupt_file")
        return []
    try:
        return _read_sheet(workbook, preview)
    except Exception:
        logger.info("ledger import: unreadable worksheet", exc_info=True)
        preview.errors = []
        preview.add(0, None, _("The .xlsx file is damaged and cannot be read."), "corrupt_file")
        return []
    finally:
        workbook.close()


def _read_sheet(workbook, preview: ImportPreview) -> list[tuple[int, dict[str, Any]]]:
    """The data rows of the first sheet, keyed by column. The header is row 1 — or one of the first
    HEADER_SEARCH_ROWS rows, so that a title row above it (common in offices' ledgers) does no harm."""
    sheet = workbook.worksheets[0] if workbook.worksheets else None
    head = list(sheet.iter_rows(min_row=1, max_row=HEADER_SEARCH_ROWS, max_col=200, values_only=True)) if sheet else []
    wanted = {_header_key(c.header): c for c in TEMPLATE_COLUMNS}
    header_row, positions, missing = 1, {}, [c.header for c in TEMPLATE_COLUMNS]
    for row_number, values in enumerate(head, start=1):
        found: dict[str, int] = {}
        for index, value in enumerate(values or ()):
            found.setdefault(_header_key(value), index)
        lacking = [c.header for key, c in wanted.items() if key not in found]
        if len(lacking) < len(missing):
            header_row, positions, missing = row_number, found, lacking
        if not lacking:
            break
    if missing:
        preview.add(
            header_row,
            None,
            _(
                "This is not the ledger template: the first sheet needs a header row (row 1, or below a title "
                "row) with the columns %(expected)s; missing: %(missing)s. Download the template and copy your rows "
                "into it."
            )
            % {"expected": "、".join(c.header for c in TEMPLATE_COLUMNS), "missing": "、".join(missing)},
            "wrong_template",
        )
        return []
    columns = {c.key: positions[key] for key, c in wanted.items()}
    width = max(columns.values()) + 1
    rows: list[tuple[int, dict[str, Any]]] = []
    first = header_row + 1
    for number, values in enumerate(sheet.iter_rows(min_row=first, max_col=width, values_only=True), start=first):
        if not values or all(_blank(v) for v in values):
            continue
        if len(rows) >= MAX_ROWS:
            preview.add(
                number,
                None,
                _("The file has more than %(count)s rows; split it into several files.") % {"count": MAX_ROWS},
                "too_many_rows",
            )
            return []
        rows.append((number, {key: values[i] if i < len(values) else None for key, i in columns.items()}))
    return rows


def _parse_row(number: int, cells: dict[str, Any], preview: ImportPreview, categories: dict[str, str]) -> ImportRow:
    col = {key: c.header for key, c in COLUMNS_BY_KEY.items()}
    row = ImportRow(
        row=number,
        number=_text(cells["number"]),
        parent_number=_text(cells["parent"]),
        title=_text(cells["title"]),
        text=_text(cells["text"]),
        expected_outcome=_text(cells["expected_outcome"]),
        lead_name=_text(cells["lead"]),
        co_names=_split_names(cells["co_owners"]),
    )
    if not row.number:
        preview.add(number, col["number"], _("The number is missing."), "required")
    elif len(row.number) > Measure._meta.get_field("number").max_length:
        preview.add(number, col["number"], _("The number is longer than 30 characters."), "too_long")
    if not row.title:
        preview.add(number, col["title"], _("The title is missing."), "required")
    elif len(row.title) > Measure._meta.get_field("title").max_length:
        preview.add(number, col["title"], _("The title is longer than 300 characters."), "too_long")
    category = _text(cells["category"])
    if category:
        code = categories.get(_fold(category).lower())
        if code is None:
            preview.add(
                number,
                col["category"],
                _("Unknown category “%(value)s”: use %(choices)s.")
                % {"value": category, "choices": "、".join(CATEGORY_LABELS.values())},
                "unknown_category",
            )
        else:
            row.category = code
    for key in ("start_on", "due_on"):
        try:
            setattr(row, key, _parse_date(cells[key]))
        except (ValueError, TypeError, OverflowError):
            preview.add(
                number,
                col[key],
                _("“%(value)s” is not a date: write 2026-03-01 or 2026年3月1日, or use an Excel date.")
                % {"value": _text(cells[key])},
                "bad_date",
            )
    if row.start_on and row.due_on and row.due_on < row.start_on:
        preview.add(number, col["due_on"], _("The deadline is before the start."), "deadline_before_start")
    return row


def _check_tree(rows: list[ImportRow], preview: ImportPreview) -> None:
    """Numbers unique (in the file and the agreement), parents known, no cycles, depth, owners only on leaves."""
    col = {key: c.header for key, c in COLUMNS_BY_KEY.items()}
    agreement = preview.agreement
    existing = {
        m["number"]: m for m in Measure.objects.filter(agreement=agreement).values("id", "number", "depth", "parent_id")
    }
    existing_children = dict(
        Measure.objects.filter(agreement=agreement)
        .values("parent_id")
        .annotate(n=Count("id"))
        .values_list("parent_id", "n")
        .order_by()
    )
    by_number: dict[str, ImportRow] = {}
    for row in rows:
        if not row.number:
            continue
        if row.number in existing:
            preview.add(
                row.row,
                col["number"],
                _("%(number)s is already a measure of this agreement.") % {"number": row.number},
                "duplicate_number",
            )
        if row.number in by_number:
            preview.add(
                row.row,
                col["number"],
                _("The number %(number)s is already used on row %(row)s.")
                % {"number": row.number, "row": by_number[row.number].row},
                "duplicate_number",
            )
        else:
            by_number[row.number] = row

    existing_parents = {existing[r.parent_number]["id"] for r in rows if r.parent_number in existing}
    parents_with_owners: set[str] = set()
    if existing_parents:
        owned = MeasureOwner.objects.filter(measure_id__in=sorted(existing_parents))
        parents_with_owners = set(owned.values_list("measure__number", flat=True))
    for row in rows:
        if not row.parent_number:
            continue
        if row.parent_number in by_number:
            row.parent_row = by_number[row.parent_number]
            row.parent_row.children.append(row)
        elif row.parent_number in existing:
            row.parent_measure_id = existing[row.parent_number]["id"]
            if row.parent_number in parents_with_owners:
                preview.add(
                    row.row,
                    col["parent"],
                    _("%(number)s has owners: a measure with owners cannot get sub-items.")
                    % {"number": row.parent_number},
                    "parent_has_owners",
                )
        else:
            preview.add(
                row.row,
                col["parent"],
                _("Unknown parent number %(number)s: it is neither a row of this file nor a measure of the agreement.")
                % {"number": row.parent_number},
                "unknown_parent",
            )

    def root_level(row: ImportRow) -> int | None:
        if not row.parent_number:
            return 0
        if row.parent_measure_id is not None:
            return existing[row.parent_number]["depth"] + 1
        return None  # unknown parent

    done: set[int] = set()
    for start in rows:
        if id(start) in done:
            continue
        trail: list[ImportRow] = []
        position: dict[int, int] = {}
        node: ImportRow | None = start
        while node is not None and id(node) not in done and id(node) not in position:
            position[id(node)] = len(trail)
            trail.append(node)
            node = node.parent_row
        if node is not None and id(node) in position:  # back on the trail: a cycle
            cycle = trail[position[id(node)] :]
            chain = " → ".join([r.number for r in reversed(cycle)] + [cycle[-1].number])
            for member in cycle:
                member.level = None
                done.add(id(member))
                preview.add(
                    member.row,
                    col["parent"],
                    _("The parent numbers form a cycle: %(chain)s.") % {"chain": chain},
                    "cycle",
                )
            trail = trail[: position[id(node)]]
        for member in reversed(trail):
            if member.parent_row is None:
                member.level = root_level(member)
            else:
                member.level = None if member.parent_row.level is None else member.parent_row.level + 1
            done.add(id(member))
            if member.level is not None and member.level >= MAX_LEVELS:
                preview.add(
                    member.row,
                    col["parent"],
                    _("The tree is deeper than %(levels)s levels.") % {"levels": MAX_LEVELS},
                    "too_deep",
                )

    siblings: dict[Any, list[ImportRow]] = defaultdict(list)
    for row in rows:
        if row.parent_row is not None:
            siblings[("row", id(row.parent_row))].append(row)
        elif row.level is not None:
            siblings[("measure", row.parent_measure_id)].append(row)
    for (kind, key), group in siblings.items():
        already = existing_children.get(key, 0) if kind == "measure" else 0
        if already + len(group) > MAX_SIBLINGS:
            preview.add(
                group[0].row,
                col["parent"],
                _("More than %(count)s items under one parent.") % {"count": MAX_SIBLINGS},
                "too_many_children",
            )

    for row in rows:
        if row.children and (row.lead_name or row.co_names):
            preview.add(
                row.row,
                col["lead"] if row.lead_name else col["co_owners"],
                _(
                    "%(number)s has sub-items in this file (row %(child)s): owners are assigned to the items of the "
                    "lowest level only."
                )
                % {"number": row.number, "child": row.children[0].row},
                "owner_on_parent",
            )


def _resolve_agencies(rows: list[ImportRow], preview: ImportPreview, principal) -> None:
    col = {key: c.header for key, c in COLUMNS_BY_KEY.items()}
    names = {r.lead_name for r in rows if r.lead_name} | {n for r in rows for n in r.co_names}
    if not names:
        return
    resolver = _AgencyResolver(principal)
    resolver.load(names)

    def resolve(row: ImportRow, name: str, column: str) -> Agency | None:
        agency, candidates = resolver.resolve(name)
        if agency is not None and not agency.is_active:
            preview.add(
                row.row,
                column,
                _("%(name)s is no longer an active agency.") % {"name": agency.name},
                "inactive_agency",
            )
            return None
        if agency is not None:
            return agency
        if candidates:
            preview.add(
                row.row,
                column,
                _("“%(name)s” matches several agencies (%(candidates)s): write the full name.")
                % {"name": name, "candidates": "、".join(f"{a.name}（{a.region.name}）" for a in candidates[:5])},
                "ambiguous_agency",
            )
            return None
        suggestions = resolver.suggest(name)
        if suggestions:
            message = _("Unknown agency “%(name)s”. Did you mean: %(suggestions)s?") % {
                "name": name,
                "suggestions": "、".join(suggestions),
            }
        else:
            message = _("Unknown agency “%(name)s”: write its full name as in the directory.") % {"name": name}
        preview.add(row.row, column, message, "unknown_agency")
        return None

    for row in rows:
        if row.lead_name:
            row.lead = resolve(row, row.lead_name, col["lead"])
        seen = {row.lead.pk} if row.lead else set()
        for name in row.co_names:
            agency = resolve(row, name, col["co_owners"])
            if agency is None:
                continue
            if agency.pk in seen:
                preview.add(
                    row.row,
                    col["co_owners"],
                    _("%(name)s is listed twice for %(number)s.") % {"name": agency.name, "number": row.number},
                    "duplicate_owner",
                )
                continue
            seen.add(agency.pk)
            row.co_owners.append(agency)


# --------------------------------------------------------------------------- commit


def commit_import(preview: ImportPreview, *, acting_user) -> list[Measure]:
    """Create the previewed measures (parents first) and their owners: one transaction, all or nothing.

    Raises ``LedgerImportError`` for a preview with errors or when a service refuses a row (e.g. a number taken
    since the preview), ``PermissionError`` unless ``acting_user`` coordinates the agreement.
    """
    if preview.errors:
        raise LedgerImportError(preview.errors)
    if not services.is_coordinator_of(acting_user, preview.agreement):
        raise PermissionError(_("Only the circle's coordinators may change this agreement."))
    existing = {
        m.pk: m
        for m in Measure.objects.filter(
            agreement=preview.agreement, pk__in=[r.parent_measure_id for r in preview.rows if r.parent_measure_id]
        )
    }
    nodes: dict[int, services.ImportNode] = {}
    for row in sorted(preview.rows, key=lambda r: r.level or 0):  # parents first; file order among siblings
        nodes[id(row)] = services.ImportNode(
            number=row.number,
            title=row.title,
            parent=nodes[id(row.parent_row)] if row.parent_row is not None else None,
            parent_measure=existing.get(row.parent_measure_id) if row.parent_measure_id else None,
            text=row.text,
            category=row.category,
            start_on=row.start_on,
            due_on=row.due_on,
            expected_outcome=row.expected_outcome,
            lead=row.lead,
            co_owners=list(row.co_owners),
            row=row.row,
        )
    try:
        return services.import_tree(
            acting_user=acting_user, agreement=preview.agreement, nodes=[nodes[id(r)] for r in preview.rows]
        )
    except ValidationError as exc:
        found = exc.error_dict.get("measures", []) if hasattr(exc, "error_dict") else exc.error_list
        errors = [RowError((e.params or {}).get("row", 0), None, " ".join(e.messages), "rejected") for e in found]
        raise LedgerImportError(errors or [RowError(0, None, " ".join(exc.messages), "rejected")]) from exc


# --------------------------------------------------------------------------- writing workbooks

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill(fill_type="solid", fgColor="DDEBF7")
_READ_ONLY_FILL = PatternFill(fill_type="solid", fgColor="EDEDED")
_HEADER_ALIGNMENT = Alignment(horizontal="center", vertical="center", wrap_text=True)
_WRAP = Alignment(vertical="top", wrap_text=True)
_LIGHT_FILLS = {light: PatternFill(fill_type="solid", fgColor=colour) for light, colour in LIGHT_COLOURS.items()}
_INDENTS = [Alignment(vertical="top", wrap_text=True, indent=level) for level in range(16)]


def _style_header(cell, column: Column) -> None:
    cell.font = _HEADER_FONT
    cell.fill = _READ_ONLY_FILL if column in READ_ONLY_COLUMNS else _HEADER_FILL
    cell.alignment = _HEADER_ALIGNMENT
    comment = Comment(str(column.help), "yipanqi")
    comment.width, comment.height = 320, 120
    cell.comment = comment


def _setup_sheet(sheet, columns) -> None:
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"


def _category_validation(rows: int) -> DataValidation:
    index = [c.key for c in TEMPLATE_COLUMNS].index("category") + 1
    letter = get_column_letter(index)
    validation = DataValidation(
        type="list",
        formula1='"{}"'.format(",".join(CATEGORY_LABELS.values())),
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=str(COLUMNS_BY_KEY["category"].header),
        error=_("Choose 完成类, 启动类, 调研类 or 常规."),
    )
    validation.add(f"{letter}2:{letter}{max(rows, 2) + 1}")
    return validation


EXCEL_CELL_MAX_CHARS = 32767


def _cell_text(value: str) -> str:
    """Text Excel can hold: control characters (a vertical tab pasted from Word) dropped, at most 32,767 chars."""
    return ILLEGAL_CHARACTERS_RE.sub("", value)[:EXCEL_CELL_MAX_CHARS]


def _as_text(cell) -> None:
    """A string cell stays a string: a title starting with "=" is text, never a formula (no formula injection)."""
    if isinstance(cell.value, str):
        cell.data_type = "s"


EXAMPLE_ROWS = (
    ("一", "", "执行协作", "", "常规", "", "", None, None, ""),
    (
        "一、1",
        "一",
        "异地财产查控",
        "建立川渝法院执行财产查控联动机制，相互协助查询、冻结被执行人财产。",
        "完成类",
        "四川省高级人民法院",
        "重庆市高级人民法院",
        datetime.date(2027, 1, 1),
        datetime.date(2027, 6, 30),
        "查控反馈时间缩短至7个工作日内",
    ),
    (
        "一、2",
        "一",
        "委托执行案件移送",
        "统一委托执行函格式和移送材料清单。",
        "启动类",
        "重庆市高级人民法院",
        "四川省高级人民法院",
        "2027年3月1日",
        "2027-12-31",
        "",
    ),
    ("二", "", "公共法律服务协作", "", "常规", "", "", None, None, ""),
    ("二、1", "二", "律师异地阅卷", "", "调研类", "", "", None, None, ""),
    (
        "二、1、(1)",
        "二、1",
        "电子卷宗相互查阅规则",
        "研究律师跨省查阅电子卷宗的授权和留痕规则。",
        "调研类",
        "四川省司法厅",
        "重庆市司法局；四川省高级人民法院",
        datetime.date(2027, 2, 1),
        datetime.date(2027, 9, 30),
        "形成调研报告",
    ),
)


def build_template() -> bytes:
    """The import template: an empty 台账 sheet to fill in, the 说明 sheet, and an importable 示例 sheet."""
    workbook = Workbook()
    data = workbook.active
    data.title = DATA_SHEET
    example = workbook.create_sheet(EXAMPLE_SHEET)
    for sheet in (data, example):
        _setup_sheet(sheet, TEMPLATE_COLUMNS)
        for index, column in enumerate(TEMPLATE_COLUMNS, start=1):
            cell = sheet.cell(row=1, column=index, value=column.header)
            _style_header(cell, column)
            if column.key in ("number", "parent"):
                sheet.column_dimensions[get_column_letter(index)].number_format = "@"
            if column.key in ("start_on", "due_on"):
                sheet.column_dimensions[get_column_letter(index)].number_format = DATE_FORMAT
        sheet.add_data_validation(_category_validation(MAX_ROWS))
    for row_index, values in enumerate(EXAMPLE_ROWS, start=2):
        for col_index, value in enumerate(values, start=1):
            if value in (None, ""):
                continue
            cell = example.cell(row=row_index, column=col_index, value=value)
            _as_text(cell)
            if isinstance(value, datetime.date):
                cell.number_format = DATE_FORMAT
            elif TEMPLATE_COLUMNS[col_index - 1].key == "title":
                cell.alignment = _INDENTS[min(values[0].count("、"), 15)]

    notes = workbook.create_sheet(HELP_SHEET)
    notes.column_dimensions["A"].width = 14
    notes.column_dimensions["B"].width = 10
    notes.column_dimensions["C"].width = 100
    notes.append([_("Column"), _("Required"), _("How to fill it in")])
    for cell in notes[1]:
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
    for column in TEMPLATE_COLUMNS:
        notes.append([column.header, _("yes") if column.required else "", str(column.help)])
    notes.append([])
    for line in (
        _("Fill in the first sheet (台账): one row per area, measure or sub-item; keep row 1 as it is."),
        _(
            "The hierarchy comes from 上级编号: an area has none, a measure names its area, a sub-item its measure, "
            "to any depth (at most %(levels)s levels)."
        )
        % {"levels": MAX_LEVELS},
        _("Owners (主办单位, 协办单位) go on the rows without sub-items only."),
        _("The import first shows every problem by row and column and writes nothing until the file is clean."),
        _(
            "At most %(rows)s rows and %(size)s MB per file. The 示例 sheet is an importable example: move it to "
            "the front to try it."
        )
        % {"rows": MAX_ROWS, "size": max_import_bytes() // (1024 * 1024)},
        _("A workbook exported from yipanqi has the same columns and can be imported again."),
    ):
        notes.append(["", "", line])
    for row in notes.iter_rows(min_row=2):
        row[2].alignment = _WRAP
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _export_rows(source, today: datetime.date, lights: set[str] | None):
    """The measures to export, in tree order, with their lights, owners and agreements — in constant queries."""
    fields = (
        "id",
        "agreement_id",
        "parent_id",
        "number",
        "path",
        "depth",
        "is_leaf",
        "title",
        "text",
        "category",
        "start_on",
        "due_on",
        "expected_outcome",
        "status",
        "progress",
        "last_report_at",
        "blue_from",
        "yellow_from",
        "red_from",
    )
    if isinstance(source, Agreement):
        agreements = {source.pk: source}
        queryset = Measure.objects.filter(agreement=source)
        owners = MeasureOwner.objects.filter(measure__agreement=source)
    elif isinstance(source, QuerySet) and source.model is Measure:
        queryset = source
        owners = MeasureOwner.objects.filter(measure__in=source.order_by().values("pk"))
        agreements = None
    else:
        raise TypeError("export_workbook takes an Agreement or a queryset of measures")
    measures = list(queryset.annotate(parent_number=F("parent__number")).only(*fields).order_by("agreement_id", "path"))
    if agreements is None:
        agreements = Agreement.objects.in_bulk({m.agreement_id for m in measures})
    light_of = {m.pk: light_for(m, today) for m in measures}
    if lights:
        measures = [m for m in measures if light_of[m.pk] in lights]
    # Keep the hierarchy: add the ancestors a filtered view left out (one query per agreement).
    have = {(m.agreement_id, m.path) for m in measures}
    missing: dict[int, set[str]] = defaultdict(set)
    for m in measures:
        for level in range(1, m.depth + 1):
            path = m.path[: level * (services.PATH_STEP + 1)]
            if (m.agreement_id, path) not in have:
                missing[m.agreement_id].add(path)
    for agreement_id, paths in missing.items():
        ancestors = list(
            Measure.objects.filter(agreement_id=agreement_id, path__in=sorted(paths))
            .annotate(parent_number=F("parent__number"))
            .only(*fields)
        )
        for m in ancestors:
            light_of[m.pk] = light_for(m, today)
        measures.extend(ancestors)
    measures.sort(key=lambda m: (m.agreement_id, m.path))
    owner_names: dict[int, tuple[str, list[str]]] = {}
    if measures:
        for measure_id, role, name in owners.order_by("measure_id", "id").values_list(
            "measure_id", "role", "agency__name"
        ):
            lead, co = owner_names.get(measure_id, ("", []))
            if role == OwnerRole.LEAD:
                lead = name
            else:
                co.append(name)
            owner_names[measure_id] = (lead, co)
    return measures, light_of, owner_names, agreements


def export_workbook(source, *, today: datetime.date | None = None, lights=None) -> bytes:
    """An .xlsx of an agreement's ledger or of any queryset of measures (a filtered view): the template's columns
    (so the file imports again), then 进度%, 状态 and 灯色 (coloured), rows indented and outlined by level.

    ``lights`` keeps only measures with those lights (their ancestors are added to keep the hierarchy). The queries
    do not depend on the number of measures (one for the measures, one for the owners, one for missing ancestors
    per agreement). Metadata goes to a second sheet, so the first one stays importable.
    """
    today = today or timezone.localdate()
    measures, light_of, owner_names, agreements = _export_rows(source, today, set(lights) if lights else None)
    status_labels = {value: str(label) for value, label in MeasureStatus.choices}
    light_labels = {value: str(label) for value, label in LIGHT_LABELS.items()}
    columns = TEMPLATE_COLUMNS + READ_ONLY_COLUMNS

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(DATA_SHEET)
    sheet.sheet_properties.outlinePr = Outline(summaryBelow=False, summaryRight=True)
    _setup_sheet(sheet, columns)
    sheet.data_validations.append(_category_validation(len(measures)))
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column.header)
        _style_header(cell, column)
        header.append(cell)
    sheet.append(header)

    def text(value: str):
        if not value:
            return None
        cell = WriteOnlyCell(sheet, value=_cell_text(value))
        _as_text(cell)
        return cell

    def day(value: datetime.date | None):
        if value is None:
            return None
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
        return cell

    for row_index, m in enumerate(measures, start=2):
        if m.depth:
            sheet.row_dimensions[row_index].outline_level = min(m.depth, 7)
        title = text(m.title)
        if title is not None:
            title.alignment = _INDENTS[min(m.depth, 15)]
        lead, co = owner_names.get(m.pk, ("", []))
        light = light_of[m.pk]
        light_cell = WriteOnlyCell(sheet, value=light_labels[light])
        light_cell.fill = _LIGHT_FILLS[light]
        sheet.append(
            [
                text(m.number),
                text(m.parent_number or ""),
                title,
                text(m.text),
                CATEGORY_LABELS.get(m.category, m.category),
                text(lead),
                text("、".join(co)),
                day(m.start_on),
                day(m.due_on),
                text(m.expected_outcome),
                m.progress,
                status_labels.get(m.status, m.status),
                light_cell,
            ]
        )

    info = workbook.create_sheet(EXPORT_INFO_SHEET)
    info.column_dimensions["A"].width = 18
    info.column_dimensions["B"].width = 70
    now = timezone.localtime(timezone.now(), ZoneInfo("Asia/Shanghai"))
    titles = "；".join(a.title for a in agreements.values()) if agreements else ""
    for label, value in (
        (_("Agreement"), titles),
        (_("Agreement id"), ", ".join(str(pk) for pk in agreements)),
        (_("Exported at"), now.strftime("%Y-%m-%d %H:%M:%S") + " (Asia/Shanghai)"),
        (_("Lights as of"), today.isoformat()),
        (_("Rows"), len(measures)),
        (
            _("Note"),
            _(
                "The first sheet can be edited and imported again (into another agreement, or after removing the "
                "rows already there); the last three columns (progress, status, light) are read-only and ignored "
                "on import."
            ),
        ),
    ):
        label_cell = WriteOnlyCell(info, value=label)
        label_cell.font = _HEADER_FONT
        value_cell = WriteOnlyCell(info, value=_cell_text(value) if isinstance(value, str) else value)
        _as_text(value_cell)
        value_cell.alignment = _WRAP
        info.append([label_cell, value_cell])
    info.append([])
    for light, label in light_labels.items():
        cell = WriteOnlyCell(info, value=label)
        cell.fill = _LIGHT_FILLS[light]
        info.append([None, cell])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


__all__ = [
    "MAX_ROWS",
    "TEMPLATE_COLUMNS",
    "XLSX_CONTENT_TYPE",
    "ImportPreview",
    "ImportRow",
    "LedgerImportError",
    "RowError",
    "build_template",
    "commit_import",
    "export_workbook",
    "max_import_bytes",
    "parse_workbook",
]
