"""Intake writes: take a document in (read, analyse, store), keep the reviewer's edits, commit them to the ledger and
the meetings in one transaction, discard; batches of documents read by the worker.

The reviewed draft (``IntakeDocument.reviewed``), which the review page edits and ``commit`` consumes::

    {
      "circle": 3,                                   # the agreements' circle (the committer coordinates it)
      "agreements": [
        {"key": "a1", "include": true, "title": "…", "kind": "cooperation", "status": "in_force",
         "signed_on": "2020-06-18" | null, "signed_place": "重庆",
         "signatories": [{"text": "四川省监狱管理局", "agency_id": 812}, …], "span": [s, e] | null}
      ],
      "measures": {
        "agreement": "a1",                           # a key of "agreements", or {"existing": <agreement id>}
        "nodes": [                                   # the tree: numbers as written, titles, owners, deadlines
          {"number": "1", "title": "…", "text": "", "lead": {"text": "…", "agency_id": 812} | null,
           "co_owners": [{"text": "…", "agency_id": 813}], "due_on": "2021-06-30" | null, "span": [s, e] | null,
           "children": [ … ]}
        ]
      },
      "topics": {
        "meeting": <meeting id> | null,              # an existing meeting, or
        "record": {"series": <series id>, "date": "2021-09-16", "place": "重庆", "host": <agency id> | null} | null,
                                                     # the meeting the document reports, recorded as held
        "items": [{"include": true, "title": "…", "span": [s, e] | null}]
      },
      "decisions": {
        "items": [{"include": true, "title": "…", "text": "", "topic": <1-based position in topics.items> | null,
                   "lead": {"text": "…", "agency_id": 812} | null, "co_owners": […], "due_on": "2021-12-31" | null,
                   "span": [s, e] | null}]
      }
    }

Topics go to a meeting that is planned or has its agenda open or closed (proposed, ``propose_topic``) or to a held
one (recorded as discussed, ``record_topic``); decisions need a meeting whose agenda is closed or that was held, and
are recorded on their topic (``record_decision``; without a topic, on one topic "会议议定事项" made for them). A
decision with a lead and a deadline gives that work to the lead (a new measure when the minutes are approved);
without them it is for information. A lead without a deadline, or a deadline without a lead, is refused.

An agency reference with ``agency_id`` null is unresolved: ``commit`` refuses the whole draft and lists them.
``reviewed_from_draft`` prefills this from the intake's draft: every agreement included, its parties as signatories,
the measure tree (numbers made unique in the tree: a child's number is prefixed with its parent's, "一、1", "一、1.2";
unnumbered nodes are numbered by position; titles longer than the ledger allows are cut at the first sentence, the
whole item kept in ``text``) under the first agreement, the topics. ``clean_review`` checks the shape (types, keys,
ISO dates, agency / circle / meeting / agreement ids that exist and are visible) and returns a normalised copy:
unknown keys are dropped, missing ones get their defaults, "" dates become null.

Batches: ``start_batch`` keeps the batch's files in ONE zip, ``IntakeBatch.archive``: an uploaded .zip is stored as
it came (after the zip-bomb checks), separate files are packed into a new zip. ``run_batch`` (the worker's task,
``jobs.run_intake_batch``) reads the archive's documents one after another; a document already taken in for the batch
(same name) is skipped, so a task that is run again resumes where it stopped.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import logging
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from yipanqi.core.errors import Conflict
from yipanqi.core.services import record_event, snapshot
from yipanqi.core.tasks import enqueue_on_commit
from yipanqi.directory.models import Agency, Circle

from . import furniture, reading
from .models import BatchStatus, DocumentStatus, IntakeBatch, IntakeDocument
from .pipeline import analyse

logger = logging.getLogger(__name__)

# A batch: at most this many archive members, and this many bytes once unpacked (zip bombs are refused).
MAX_BATCH_FILES = 500
MAX_BATCH_BYTES = 50 * 1024 * 1024
# The ledger's limits (Agreement.title, Measure.title, Measure.number; Topic.title).
AGREEMENT_TITLE_LENGTH = 200
MEASURE_TITLE_LENGTH = 300
MEASURE_NUMBER_LENGTH = 30
TOPIC_TITLE_LENGTH = 300
DECISION_TITLE_LENGTH = 300
MEETING_PLACE_LENGTH = 200
# The draft's decisions are included at first only when the document reports a meeting.
MEETING_EVENT = "会议"
# How deep a reviewed measure tree may go, and how many nodes it may have.
MAX_TREE_DEPTH = 8
MAX_TREE_NODES = 5000
# A document's name when none was given for pasted text: its first line, cut to this length.
PASTED_NAME_LENGTH = 60

DOCUMENT_AUDIT_FIELDS = ["name", "file", "size", "sha256", "batch", "agency", "circle", "published", "status", "error"]
AGREEMENT_KINDS = ("framework", "cooperation", "minutes", "memorandum", "implementation", "action", "other")
AGREEMENT_STATUSES = ("draft", "in_force", "expired", "superseded")


# --------------------------------------------------------------------------- who may do what


def _require_person_with_agency(acting_user) -> None:
    if acting_user is None or not getattr(acting_user, "is_authenticated", False):
        raise PermissionError(_("Sign in to take in documents."))
    if not getattr(acting_user, "agency_id", None) and not getattr(acting_user, "is_platform_admin", False):
        raise PermissionError(_("Only people of an agency may take in documents."))


def _circle(circle) -> Circle | None:
    """A Circle, given as one or by its id."""
    if circle is None or isinstance(circle, Circle):
        return circle
    return Circle.objects.get(pk=circle)


def _require_circle(acting_user, circle: Circle | None) -> None:
    if circle is None or getattr(acting_user, "is_platform_admin", False):
        return
    allowed = set(acting_user.coordinated_circle_ids) | set(acting_user.member_circle_ids)
    if circle.pk not in allowed:
        raise PermissionError(_("You may take in documents only for circles you coordinate or your agency belongs to."))


def _require_visible(acting_user, document: IntakeDocument) -> None:
    if not IntakeDocument.objects.visible_to(acting_user).filter(pk=document.pk).exists():
        raise PermissionError(_("This document was taken in by another agency."))


# --------------------------------------------------------------------------- taking documents in

_UNSAFE_NAME = re.compile(r"[^\w.\-]+")


def _file_name(name: str, default_suffix: str = "") -> str:
    """A name the file storage accepts: the last path component, unsafe characters replaced."""
    base = PurePosixPath((name or "").replace("\\", "/")).name
    path = PurePosixPath(base)
    suffix = path.suffix.lower() if len(path.suffix) <= 10 else ""
    stem = _UNSAFE_NAME.sub("_", path.stem if suffix else base).strip("._")[:80] or "document"
    return f"{stem}{suffix or default_suffix}"


def _published(original: str, published: datetime.date | None) -> datetime.date | None:
    if published is not None:
        return published
    from_byline = getattr(furniture, "published_from_byline", None)
    if from_byline is None:
        return None
    try:
        return from_byline(original)
    except Exception:  # the byline is a hint: a failure to read it must not refuse the document
        logger.exception("could not read the publication date of a document")
        return None


def _store(
    *,
    acting_user,
    name: str,
    file_name: str,
    data: bytes,
    circle,
    batch,
    published,
    original: str = "",
    draft: dict | None = None,
    error: str = "",
) -> IntakeDocument:
    document = IntakeDocument(
        name=name[:255],
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        batch=batch,
        uploaded_by=acting_user if getattr(acting_user, "pk", None) else None,
        agency_id=getattr(acting_user, "agency_id", None),
        circle=circle,
        published=published,
        text=original,
        draft=draft or {},
        reviewed=reviewed_from_draft(draft, circle) if draft is not None else {},
        status=DocumentStatus.FAILED if error else DocumentStatus.ANALYSED,
        error=error,
    )
    with transaction.atomic():
        document.file.save(file_name, ContentFile(data), save=False)
        document.save()
        record_event(
            acting_user=acting_user,
            action="intake.document.take_in",
            obj=document,
            after=snapshot(document, DOCUMENT_AUDIT_FIELDS),
        )
    return document


def take_in(
    *, acting_user, name: str, data: bytes, published: datetime.date | None = None, circle=None, batch=None
) -> IntakeDocument:
    """Read, analyse and store one uploaded document (status ``analysed``, ``reviewed`` prefilled from the draft).
    A document that cannot be read raises ``reading.IntakeError`` and nothing is written — except in a batch, where
    it is stored with status ``failed`` and the error, so the batch can report it."""
    _require_person_with_agency(acting_user)
    circle = _circle(circle)
    _require_circle(acting_user, circle)
    file_name = _file_name(name)
    try:
        original = reading.read(data, name)
    except reading.IntakeError as exc:
        if batch is None:
            raise
        return _store(
            acting_user=acting_user,
            name=name,
            file_name=file_name,
            data=data,
            circle=circle,
            batch=batch,
            published=published,
            error=str(exc),
        )
    published = _published(original, published)
    draft = analyse(original, published=published).as_json()
    return _store(
        acting_user=acting_user,
        name=name,
        file_name=file_name,
        data=data,
        circle=circle,
        batch=batch,
        published=published,
        original=original,
        draft=draft,
    )


def _read_pasted(text: str) -> str:
    read_text = getattr(reading, "read_text", None)
    if read_text is not None:
        return read_text(text)
    return reading.read(text.encode("utf-8"), "pasted.txt")  # the same checks through the file reader


def _pasted_name(original: str, draft: dict) -> str:
    title = (draft.get("event") or {}).get("title") or ""
    if not title:
        title = next((line.strip() for line in original.split("\n") if line.strip()), "")
    title = " ".join(title.split())
    if len(title) > PASTED_NAME_LENGTH:
        title = title[: PASTED_NAME_LENGTH - 1] + "…"
    return title or _("Pasted text")


def take_in_text(
    *, acting_user, text: str, name: str = "", published: datetime.date | None = None, circle=None
) -> IntakeDocument:
    """``take_in`` for pasted text: stored as a UTF-8 .txt file (which a commit attaches to the agreements); the
    document is named after ``name``, else the text's headline or first line."""
    _require_person_with_agency(acting_user)
    circle = _circle(circle)
    _require_circle(acting_user, circle)
    original = _read_pasted(text or "")
    published = _published(original, published)
    draft = analyse(original, published=published).as_json()
    name = (name or "").strip() or _pasted_name(original, draft)
    return _store(
        acting_user=acting_user,
        name=name,
        file_name=_file_name(name if name.lower().endswith(".txt") else f"{name}.txt", ".txt"),
        data=original.encode("utf-8"),
        circle=circle,
        batch=None,
        published=published,
        original=original,
        draft=draft,
    )


# --------------------------------------------------------------------------- the reviewed draft, prefilled

_CHINESE_DIGITS = "零一二三四五六七八九"
_NUMBER_AS_WRITTEN = re.compile(r"^[(（]?[0-9０-９一二三四五六七八九十百零〇]{1,6}[)）]?$")
_NUMBER_END = re.compile(r"[\s、.．,，:：;；]+$|是$")
_SENTENCE_END = re.compile(r"[。；;！!？?]")


def chinese_numeral(value: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 105 → 一百零五 (positions of unnumbered areas)."""
    if value < 10:
        return _CHINESE_DIGITS[value]
    if value < 100:
        tens, units = divmod(value, 10)
        return ("" if tens == 1 else _CHINESE_DIGITS[tens]) + "十" + (_CHINESE_DIGITS[units] if units else "")
    hundreds, rest = divmod(value, 100)
    if not rest:
        return _CHINESE_DIGITS[hundreds] + "百"
    middle = "零" if rest < 10 else ("一" if rest < 20 else "")
    return _CHINESE_DIGITS[hundreds] + "百" + middle + chinese_numeral(rest)


def _own_number(written: str, position: int, depth: int) -> str:
    number = _NUMBER_END.sub("", (written or "").strip())
    if _NUMBER_AS_WRITTEN.match(number):
        return number
    return chinese_numeral(position) if depth == 0 else str(position)


_CJK_CHAR = r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef“”‘’《》]"
_HALF_WIDTH_PUNCTUATION = re.compile(rf"(?<={_CJK_CHAR})([,:;!?()])|([,:;!?()])(?={_CJK_CHAR})")
_FULL_WIDTH = {",": "，", ":": "：", ";": "；", "!": "！", "?": "？", "(": "（", ")": "）"}


def chinese_punctuation(text: str) -> str:
    """The analysis folds full-width punctuation to ASCII (NFKC); titles written to the ledger get it back where it
    touches Chinese text ("建立机制,共享线索" → "建立机制，共享线索"; "1,000" stays)."""
    return _HALF_WIDTH_PUNCTUATION.sub(lambda m: _FULL_WIDTH[m.group(1) or m.group(2)], text)


def _title_and_text(text: str, limit: int) -> tuple[str, str]:
    """A title within ``limit`` characters and, when the text does not fit, the whole text."""
    text = chinese_punctuation(" ".join((text or "").split()))
    if len(text) <= limit:
        return text, ""
    end = _SENTENCE_END.search(text)
    if end and end.start() + 1 <= limit:
        return text[: end.start() + 1], text
    return text[: limit - 1] + "…", text


def _reference(ref: dict | None) -> dict:
    ref = ref or {}
    return {"text": ref.get("text") or ref.get("name") or "", "agency_id": ref.get("agency_id")}


def _measure_nodes(measures: list[dict], prefix: str, depth: int, used: set[str]) -> list[dict]:
    nodes = []
    for position, measure in enumerate(measures or [], 1):
        own = _own_number(measure.get("number", ""), position, depth)
        number = own if not prefix else (f"{prefix}、{own}" if depth == 1 else f"{prefix}.{own}")
        unique, copy = number, 1
        while unique in used:
            copy += 1
            unique = f"{number}-{copy}"
        used.add(unique)
        title, text = _title_and_text(measure.get("text", ""), MEASURE_TITLE_LENGTH)
        nodes.append(
            {
                "number": unique,
                "title": title,
                "text": text,
                "lead": None,
                "co_owners": [],
                "due_on": None,
                "span": measure.get("span"),
                "children": _measure_nodes(measure.get("children") or [], unique, depth + 1, used),
            }
        )
    return nodes


def _guess_circle(agreements: list[dict], agencies: list[dict]) -> int | None:
    """The one circle every resolved party of the agreements (else every agency named) belongs to."""
    for refs in ([p for a in agreements for p in a.get("parties") or []], agencies):
        resolved = [ref for ref in refs if ref.get("agency_id")]
        if not resolved:
            continue
        common = set.intersection(*(set(ref.get("circles") or []) for ref in resolved))
        if len(common) == 1:
            return Circle.objects.filter(slug=common.pop()).values_list("pk", flat=True).first()
        return None
    return None


def reviewed_from_draft(draft: dict, circle=None) -> dict:
    """The reviewed draft a reviewer starts from (see the module docstring): ``draft`` is ``Draft.as_json()``,
    ``circle`` a Circle, its id, or None (then the one circle all the agreements' parties share, if any)."""
    draft = draft or {}
    event = draft.get("event") or {}
    found = draft.get("agreements") or []
    agreements = []
    for index, agreement in enumerate(found, 1):
        signatories, seen = [], set()
        for party in agreement.get("parties") or []:
            ref = _reference(party)
            marker = ref["agency_id"] or ref["text"]
            if marker in seen:
                continue
            seen.add(marker)
            signatories.append(ref)
        title, _text = _title_and_text(agreement.get("title", ""), AGREEMENT_TITLE_LENGTH)
        agreements.append(
            {
                "key": f"a{index}",
                "include": True,
                "title": title,
                "kind": agreement.get("kind") if agreement.get("kind") in AGREEMENT_KINDS else "cooperation",
                "status": "in_force",
                "signed_on": agreement.get("date") or None,
                "signed_place": (event.get("place") or "")[:100],
                "signatories": signatories,
                "span": agreement.get("span"),
            }
        )
    if isinstance(circle, Circle):
        circle_id = circle.pk
    elif circle is not None:
        circle_id = int(circle)
    else:
        circle_id = _guess_circle(found, draft.get("agencies") or [])
    topics = []
    for topic in draft.get("topics") or []:
        title, _text = _title_and_text(topic.get("text", ""), TOPIC_TITLE_LENGTH)
        topics.append({"include": True, "title": title, "span": topic.get("span")})
    decisions = []
    a_meeting = event.get("kind") == MEETING_EVENT or any(a.get("kind") == "minutes" for a in found)
    for decision in draft.get("decisions") or []:
        title, text = _title_and_text(decision.get("text", ""), DECISION_TITLE_LENGTH)
        lead = _reference(decision["lead"]) if decision.get("lead") else None
        due_on = (
            decision.get("due_date") if re.fullmatch(r"\d{4}-\d{2}-\d{2}", decision.get("due_date") or "") else None
        )
        owned = lead is not None and due_on is not None  # work for an agency needs both
        decisions.append(
            {
                "include": a_meeting,
                "title": title,
                "text": text,
                "topic": None,
                "lead": lead if owned else None,
                "co_owners": [_reference(ref) for ref in decision.get("co_owners") or []] if owned else [],
                "due_on": due_on if owned else None,
                "span": decision.get("span"),
            }
        )
    return {
        "circle": circle_id,
        "agreements": agreements,
        "measures": {
            "agreement": agreements[0]["key"] if agreements else {"existing": None},
            "nodes": _measure_nodes(draft.get("measures") or [], "", 0, set()),
        },
        "topics": {"meeting": None, "record": None, "items": topics},
        "decisions": {"items": decisions},
    }


# --------------------------------------------------------------------------- the reviewed draft, checked


class _Problems:
    """Messages per section of the reviewed draft, raised together as one ValidationError."""

    def __init__(self) -> None:
        self.by_section: dict[str, list[str]] = {}

    def add(self, section: str, message: str) -> None:
        self.by_section.setdefault(section, []).append(message)

    def raise_any(self) -> None:
        if self.by_section:
            raise ValidationError(self.by_section)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value, problems: _Problems, section: str, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        problems.add(section, _("%(what)s must be text.") % {"what": what})
        return ""
    return value.strip()


def _flag(value, problems: _Problems, section: str, what: str) -> bool:
    if value is None:
        return True
    if not isinstance(value, bool):
        problems.add(section, _("%(what)s must be true or false.") % {"what": what})
        return True
    return value


def _iso_date(value, problems: _Problems, section: str, what: str) -> str | None:
    if value in (None, ""):
        return None
    try:
        if not isinstance(value, str):
            raise TypeError
        return datetime.date.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        problems.add(
            section, _("%(what)s: %(value)s is not a date (YYYY-MM-DD).") % {"what": what, "value": str(value)}
        )
        return None


def _span(value, problems: _Problems, section: str, what: str) -> list[int] | None:
    if value is None:
        return None
    if isinstance(value, list | tuple) and len(value) == 2 and all(_is_int(v) and v >= 0 for v in value):
        return [value[0], value[1]]
    problems.add(section, _("%(what)s: the source span must be two offsets [start, end].") % {"what": what})
    return None


def _list(value, problems: _Problems, section: str, what: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        problems.add(section, _("%(what)s must be a list.") % {"what": what})
        return []
    return value


def _dict(value, problems: _Problems, section: str, what: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.add(section, _("%(what)s must be an object.") % {"what": what})
        return {}
    return value


def _agency_ref(value, problems: _Problems, section: str, what: str, agency_ids: set[int]) -> dict | None:
    if not isinstance(value, dict):
        problems.add(section, _("%(what)s: an agency must be given as {text, agency_id}.") % {"what": what})
        return None
    agency_id = value.get("agency_id")
    if agency_id is not None and not _is_int(agency_id):
        problems.add(section, _("%(what)s: the agency id must be a number.") % {"what": what})
        agency_id = None
    if agency_id is not None:
        agency_ids.add(agency_id)
    return {"text": _text(value.get("text"), problems, section, what), "agency_id": agency_id}


@dataclass
class _Counter:
    nodes: int = 0
    numbers: list[str] = field(default_factory=list)


def _clean_nodes(value, problems: _Problems, agency_ids: set[int], depth: int, counter: _Counter) -> list[dict]:
    section = "measures"
    nodes = []
    for raw in _list(value, problems, section, _("The measures")):
        counter.nodes += 1
        if counter.nodes > MAX_TREE_NODES:
            problems.add(section, _("The measure tree has more than %(count)s items.") % {"count": MAX_TREE_NODES})
            return nodes
        what = _("Measure %(position)s") % {"position": counter.nodes}
        raw = _dict(raw, problems, section, what)
        number = _text(raw.get("number"), problems, section, what)
        if number:
            what = _("Measure %(number)s") % {"number": number}
        counter.numbers.append(number)
        lead = raw.get("lead")
        co_owners = [
            ref
            for ref in (
                _agency_ref(item, problems, section, what, agency_ids)
                for item in _list(raw.get("co_owners"), problems, section, what)
            )
            if ref is not None
        ]
        children = raw.get("children")
        if depth + 1 >= MAX_TREE_DEPTH and children:
            problems.add(section, _("The measure tree is deeper than %(depth)s levels.") % {"depth": MAX_TREE_DEPTH})
            children = None
        nodes.append(
            {
                "number": number,
                "title": _text(raw.get("title"), problems, section, what),
                "text": _text(raw.get("text"), problems, section, what),
                "lead": _agency_ref(lead, problems, section, what, agency_ids) if lead is not None else None,
                "co_owners": co_owners,
                "due_on": _iso_date(raw.get("due_on"), problems, section, what),
                "span": _span(raw.get("span"), problems, section, what),
                "children": _clean_nodes(children, problems, agency_ids, depth + 1, counter),
            }
        )
    return nodes


def _clean_agreements(value, problems: _Problems, agency_ids: set[int]) -> list[dict]:
    section = "agreements"
    agreements, keys = [], set()
    for position, raw in enumerate(_list(value, problems, section, _("The agreements")), 1):
        what = _("Agreement %(position)s") % {"position": position}
        raw = _dict(raw, problems, section, what)
        key = raw.get("key")
        if not isinstance(key, str) or not key.strip():
            key = f"a{position}"
        key = key.strip()
        if key in keys:
            problems.add(section, _("%(what)s: the key %(key)s is used twice.") % {"what": what, "key": key})
        keys.add(key)
        kind = raw.get("kind") or "cooperation"
        if kind not in AGREEMENT_KINDS:
            problems.add(section, _("%(what)s: unknown kind %(kind)s.") % {"what": what, "kind": str(kind)})
            kind = "cooperation"
        status = raw.get("status") or "in_force"
        if status not in AGREEMENT_STATUSES:
            problems.add(section, _("%(what)s: unknown status %(status)s.") % {"what": what, "status": str(status)})
            status = "in_force"
        signatories = [
            ref
            for ref in (
                _agency_ref(item, problems, section, what, agency_ids)
                for item in _list(raw.get("signatories"), problems, section, what)
            )
            if ref is not None
        ]
        agreements.append(
            {
                "key": key,
                "include": _flag(raw.get("include"), problems, section, what),
                "title": _text(raw.get("title"), problems, section, what),
                "kind": kind,
                "status": status,
                "signed_on": _iso_date(raw.get("signed_on"), problems, section, what),
                "signed_place": _text(raw.get("signed_place"), problems, section, what),
                "signatories": signatories,
                "span": _span(raw.get("span"), problems, section, what),
            }
        )
    return agreements


def _clean_record(value, problems: _Problems, acting_user) -> dict | None:
    """``topics.record``: the meeting the document reports, to be recorded as held."""
    if value is None:
        return None
    section, what = "topics", _("The meeting to record")
    value = _dict(value, problems, section, what)
    series_id, host_id = value.get("series"), value.get("host")
    if series_id is not None and not _is_int(series_id):
        problems.add(section, _("The series must be given by its id."))
        series_id = None
    if series_id is not None:
        from yipanqi.meetings.models import MeetingSeries

        if not MeetingSeries.objects.visible_to(acting_user).filter(pk=series_id).exists():
            problems.add(section, _("Unknown meeting series."))
    if host_id is not None and not _is_int(host_id):
        problems.add(section, _("The host must be given by its agency id."))
        host_id = None
    return {
        "series": series_id,
        "date": _iso_date(value.get("date"), problems, section, what),
        "place": _text(value.get("place"), problems, section, what),
        "host": host_id,
    }


def _clean_decisions(value, problems: _Problems, agency_ids: set[int], topic_count: int) -> list[dict]:
    section = "decisions"
    value = _dict(value, problems, section, _("The decisions"))
    decisions = []
    for position, raw in enumerate(_list(value.get("items"), problems, section, _("The decisions")), 1):
        what = _("Decision %(position)s") % {"position": position}
        raw = _dict(raw, problems, section, what)
        topic = raw.get("topic")
        if topic is not None and not (_is_int(topic) and 1 <= topic <= topic_count):
            problems.add(
                section, _("%(what)s: the topic must be the position of a topic of the draft.") % {"what": what}
            )
            topic = None
        lead = raw.get("lead")
        decisions.append(
            {
                "include": _flag(raw.get("include"), problems, section, what),
                "title": _text(raw.get("title"), problems, section, what),
                "text": _text(raw.get("text"), problems, section, what),
                "topic": topic,
                "lead": _agency_ref(lead, problems, section, what, agency_ids) if lead is not None else None,
                "co_owners": [
                    ref
                    for ref in (
                        _agency_ref(item, problems, section, what, agency_ids)
                        for item in _list(raw.get("co_owners"), problems, section, what)
                    )
                    if ref is not None
                ],
                "due_on": _iso_date(raw.get("due_on"), problems, section, what),
                "span": _span(raw.get("span"), problems, section, what),
            }
        )
    return decisions


def clean_review(reviewed, *, acting_user) -> dict:
    """The reviewed draft checked for shape and normalised (see the module docstring); raises ValidationError with
    every problem, by section ("circle", "agreements", "measures", "topics", "decisions"). Completeness (unresolved
    agencies, a target for the measures, a meeting for the topics and decisions) is checked by ``commit``."""
    problems = _Problems()
    if not isinstance(reviewed, dict):
        raise ValidationError({"reviewed": [_("The reviewed draft must be an object.")]})
    agency_ids: set[int] = set()

    circle_id = reviewed.get("circle")
    if circle_id is not None and not _is_int(circle_id):
        problems.add("circle", _("The circle must be given by its id."))
        circle_id = None
    if circle_id is not None and not Circle.objects.visible_to(acting_user).filter(pk=circle_id).exists():
        problems.add("circle", _("Unknown cooperation circle."))

    agreements = _clean_agreements(reviewed.get("agreements"), problems, agency_ids)

    measures_in = _dict(reviewed.get("measures"), problems, "measures", _("The measures"))
    target = measures_in.get("agreement")
    if isinstance(target, str):
        if target not in {a["key"] for a in agreements}:
            message = _("The measures are put under %(key)s, which is not an agreement of the draft.")
            problems.add("measures", message % {"key": target})
    elif isinstance(target, dict) and set(target) <= {"existing"}:
        existing = target.get("existing")
        if existing is not None and not _is_int(existing):
            problems.add("measures", _("The existing agreement must be given by its id."))
            existing = None
        if existing is not None:
            from yipanqi.ledger.models import Agreement

            if not Agreement.objects.visible_to(acting_user).filter(pk=existing).exists():
                problems.add("measures", _("Unknown agreement."))
        target = {"existing": existing}
    elif target is None:
        target = {"existing": None}
    else:
        problems.add("measures", _("The measures' agreement must be a key of the draft or {existing: id}."))
        target = {"existing": None}
    counter = _Counter()
    nodes = _clean_nodes(measures_in.get("nodes"), problems, agency_ids, 0, counter)

    topics_in = _dict(reviewed.get("topics"), problems, "topics", _("The topics"))
    meeting_id = topics_in.get("meeting")
    if meeting_id is not None and not _is_int(meeting_id):
        problems.add("topics", _("The meeting must be given by its id."))
        meeting_id = None
    if meeting_id is not None:
        from yipanqi.meetings.models import Meeting

        if not Meeting.objects.visible_to(acting_user).filter(pk=meeting_id).exists():
            problems.add("topics", _("Unknown meeting."))
    record = _clean_record(topics_in.get("record"), problems, acting_user)
    if record is not None and meeting_id is not None:
        problems.add("topics", _("Choose an existing meeting or record a new one, not both."))
    items = []
    for position, raw in enumerate(_list(topics_in.get("items"), problems, "topics", _("The topics")), 1):
        what = _("Topic %(position)s") % {"position": position}
        raw = _dict(raw, problems, "topics", what)
        items.append(
            {
                "include": _flag(raw.get("include"), problems, "topics", what),
                "title": _text(raw.get("title"), problems, "topics", what),
                "span": _span(raw.get("span"), problems, "topics", what),
            }
        )
    decisions = _clean_decisions(reviewed.get("decisions"), problems, agency_ids, len(items))

    if agency_ids:
        known = set(Agency.objects.visible_to(acting_user).filter(pk__in=agency_ids).values_list("pk", flat=True))
        unknown = sorted(agency_ids - known)
        if unknown:
            problems.add("agencies", _("Unknown agencies: %(ids)s") % {"ids": ", ".join(str(pk) for pk in unknown)})
    problems.raise_any()
    return {
        "circle": circle_id,
        "agreements": agreements,
        "measures": {"agreement": target, "nodes": nodes},
        "topics": {"meeting": meeting_id, "record": record, "items": items},
        "decisions": {"items": decisions},
    }


def _lock(document: IntakeDocument) -> IntakeDocument:
    return IntakeDocument.objects.select_for_update().get(pk=document.pk)


def _require_open(document: IntakeDocument) -> None:
    if document.status == DocumentStatus.COMMITTED:
        raise Conflict(_("This document is already committed."))
    if document.status == DocumentStatus.DISCARDED:
        raise Conflict(_("This document was discarded."))
    if document.status == DocumentStatus.FAILED:
        raise Conflict(_("This document could not be read: there is nothing to review."))


def _summary(reviewed: dict) -> dict:
    def count(nodes):
        return sum(1 + count(node["children"]) for node in nodes)

    return {
        "agreements": sum(1 for a in reviewed["agreements"] if a["include"]),
        "measures": count(reviewed["measures"]["nodes"]),
        "topics": sum(1 for t in reviewed["topics"]["items"] if t["include"]),
        "decisions": sum(1 for d in reviewed["decisions"]["items"] if d["include"]),
    }


def save_review(*, acting_user, document: IntakeDocument, reviewed: dict) -> IntakeDocument:
    """Store the reviewer's edits (validated for shape, not yet for completeness) without committing."""
    with transaction.atomic():
        _require_visible(acting_user, document)
        document = _lock(document)
        _require_open(document)
        document.reviewed = clean_review(reviewed, acting_user=acting_user)
        document.save(update_fields=["reviewed"])
        record_event(
            acting_user=acting_user,
            action="intake.document.review",
            obj=document,
            after=_summary(document.reviewed),
        )
    return document


# --------------------------------------------------------------------------- commit


def _walk(nodes: list[dict], parent: dict | None = None):
    for node in nodes:
        yield node, parent
        yield from _walk(node["children"], node)


def _unresolved(ref: dict, where: str) -> str:
    return _("%(text)s (in %(where)s)") % {"text": ref["text"] or _("an unnamed agency"), "where": where}


def _check_complete(reviewed: dict, acting_user) -> None:
    """Every problem that would stop the commit, at once: unresolved agencies first, then the rest."""
    problems = _Problems()
    included = [a for a in reviewed["agreements"] if a["include"]]
    nodes = reviewed["measures"]["nodes"]
    items = [t for t in reviewed["topics"]["items"] if t["include"]]
    decisions = [d for d in reviewed["decisions"]["items"] if d["include"]]
    if not (included or nodes or items or decisions):
        problems.add("reviewed", _("Nothing to commit: include an agreement, a measure, a topic or a decision."))

    for agreement in included:
        where = _("the signatories of %(title)s") % {"title": agreement["title"] or agreement["key"]}
        for ref in agreement["signatories"]:
            if ref["agency_id"] is None:
                problems.add("agencies", _unresolved(ref, where))
    for node, _parent in _walk(nodes):
        if node["lead"] is not None and node["lead"]["agency_id"] is None:
            problems.add(
                "agencies", _unresolved(node["lead"], _("the lead of %(number)s") % {"number": node["number"]})
            )
        for ref in node["co_owners"]:
            if ref["agency_id"] is None:
                problems.add(
                    "agencies", _unresolved(ref, _("the co-owners of %(number)s") % {"number": node["number"]})
                )

    for position, decision in enumerate(reviewed["decisions"]["items"], 1):
        if not decision["include"]:
            continue
        where = _("the owners of decision %(position)s") % {"position": position}
        for ref in ([decision["lead"]] if decision["lead"] else []) + decision["co_owners"]:
            if ref["agency_id"] is None:
                problems.add("agencies", _unresolved(ref, where))

    if included and reviewed["circle"] is None and not getattr(acting_user, "is_platform_admin", False):
        problems.add("circle", _("Choose the cooperation circle of the agreements."))
    for agreement in included:
        title = agreement["title"] or agreement["key"]
        if not agreement["title"]:
            problems.add("agreements", _("%(key)s: the agreement needs a title.") % {"key": agreement["key"]})
        elif len(agreement["title"]) > AGREEMENT_TITLE_LENGTH:
            problems.add(
                "agreements",
                _("%(title)s: the title is longer than %(limit)s characters.")
                % {"title": title[:40], "limit": AGREEMENT_TITLE_LENGTH},
            )
        if len({ref["agency_id"] or ref["text"] for ref in agreement["signatories"]}) < 2:
            problems.add(
                "agreements", _("%(title)s: an agreement needs at least two signatory agencies.") % {"title": title}
            )

    if nodes:
        target = reviewed["measures"]["agreement"]
        if isinstance(target, str):
            if target not in {a["key"] for a in included}:
                problems.add("measures", _("The measures are put under an agreement that is not included."))
        elif target.get("existing") is None:
            problems.add("measures", _("Choose the agreement the measures belong to."))
        seen: set[str] = set()
        for node, _parent in _walk(nodes):
            label = node["number"] or node["title"][:20]
            if not node["number"]:
                problems.add("measures", _("%(title)s: the measure needs a number.") % {"title": label})
            elif node["number"] in seen:
                problems.add("measures", _("Number %(number)s is used twice.") % {"number": node["number"]})
            elif len(node["number"]) > MEASURE_NUMBER_LENGTH:
                problems.add(
                    "measures",
                    _("%(number)s: the number is longer than %(limit)s characters.")
                    % {"number": node["number"], "limit": MEASURE_NUMBER_LENGTH},
                )
            seen.add(node["number"])
            if not node["title"]:
                problems.add("measures", _("%(number)s: the measure needs a title.") % {"number": label})
            elif len(node["title"]) > MEASURE_TITLE_LENGTH:
                problems.add(
                    "measures",
                    _("%(number)s: the title is longer than %(limit)s characters.")
                    % {"number": label, "limit": MEASURE_TITLE_LENGTH},
                )
            owners = ([node["lead"]] if node["lead"] else []) + node["co_owners"]
            if owners and node["children"]:
                problems.add(
                    "measures",
                    _("Owners are assigned to the items of the lowest level, not to %(number)s.") % {"number": label},
                )
            owner_ids = [ref["agency_id"] for ref in owners if ref["agency_id"] is not None]
            if len(owner_ids) != len(set(owner_ids)):
                problems.add(
                    "measures", _("%(number)s: an agency is named twice among its owners.") % {"number": label}
                )

    if items or decisions:
        _check_meeting_target(reviewed, bool(decisions), acting_user, problems)
    if items:
        for position, item in enumerate(items, 1):
            if not item["title"]:
                problems.add("topics", _("Topic %(position)s needs a title.") % {"position": position})
            elif len(item["title"]) > TOPIC_TITLE_LENGTH:
                problems.add(
                    "topics",
                    _("Topic %(position)s: the title is longer than %(limit)s characters.")
                    % {"position": position, "limit": TOPIC_TITLE_LENGTH},
                )
    _check_decisions(reviewed, problems)
    problems.raise_any()


def _check_meeting_target(reviewed: dict, has_decisions: bool, acting_user, problems: _Problems) -> None:
    """The topics and decisions need a meeting: an existing one that takes them, or one to record as held."""
    from yipanqi.meetings.models import Meeting, MeetingSeries, MeetingStatus, MinutesStatus

    topics = reviewed["topics"]
    record = topics["record"]
    if topics["meeting"] is None and record is None:
        problems.add("topics", _("Choose the meeting the topics and decisions belong to, or record the meeting."))
        return
    if record is not None:
        if record["series"] is None:
            problems.add("topics", _("Choose the series of the meeting to record."))
        if record["date"] is None:
            problems.add("topics", _("Give the date of the meeting to record."))
        elif datetime.date.fromisoformat(record["date"]) > timezone.localdate():
            problems.add("topics", _("A meeting recorded as held must have taken place already."))
        if record["host"] is None:
            problems.add("topics", _("Choose the host agency of the meeting to record."))
        elif record["series"] is not None:
            series = MeetingSeries.objects.visible_to(acting_user).filter(pk=record["series"]).first()
            if series is not None and not series.seats.filter(agency_id=record["host"]).exists():
                problems.add("topics", _("The host must be a member agency of the series."))
        if len(record["place"]) > MEETING_PLACE_LENGTH:
            problems.add(
                "topics", _("The place is longer than %(limit)s characters.") % {"limit": MEETING_PLACE_LENGTH}
            )
        return
    meeting = Meeting.objects.visible_to(acting_user).filter(pk=topics["meeting"]).first()
    if meeting is None:
        return
    if meeting.minutes_status in (MinutesStatus.PENDING, MinutesStatus.APPROVED):
        problems.add("topics", _("The minutes of this meeting are submitted: nothing more can be added to it."))
    elif has_decisions and meeting.status not in (MeetingStatus.AGENDA_CLOSED, MeetingStatus.HELD):
        problems.add(
            "decisions",
            _(
                "Decisions are recorded on a meeting whose agenda is closed or that was held: choose one, or record "
                "the meeting."
            ),
        )


def _check_decisions(reviewed: dict, problems: _Problems) -> None:
    items = reviewed["topics"]["items"]
    for position, decision in enumerate(reviewed["decisions"]["items"], 1):
        if not decision["include"]:
            continue
        label = _("Decision %(position)s") % {"position": position}
        if not decision["title"]:
            problems.add("decisions", _("%(what)s needs a title.") % {"what": label})
        elif len(decision["title"]) > DECISION_TITLE_LENGTH:
            problems.add(
                "decisions",
                _("%(what)s: the title is longer than %(limit)s characters.")
                % {"what": label, "limit": DECISION_TITLE_LENGTH},
            )
        if decision["topic"] is not None and not items[decision["topic"] - 1]["include"]:
            problems.add("decisions", _("%(what)s belongs to a topic that is not included.") % {"what": label})
        if (decision["lead"] is None) != (decision["due_on"] is None):
            problems.add(
                "decisions",
                _(
                    "%(what)s: give both the lead agency and the deadline (work for an agency), or neither (for "
                    "information)."
                )
                % {"what": label},
            )
        elif decision["lead"] is None and decision["co_owners"]:
            problems.add("decisions", _("%(what)s: co-owners need a lead agency.") % {"what": label})


def _agencies_of(reviewed: dict) -> dict[int, Agency]:
    ids = {ref["agency_id"] for a in reviewed["agreements"] if a["include"] for ref in a["signatories"]}
    for node, _parent in _walk(reviewed["measures"]["nodes"]):
        ids |= {ref["agency_id"] for ref in ([node["lead"]] if node["lead"] else []) + node["co_owners"]}
    for decision in reviewed["decisions"]["items"]:
        if decision["include"]:
            ids |= {
                ref["agency_id"] for ref in ([decision["lead"]] if decision["lead"] else []) + decision["co_owners"]
            }
    record = reviewed["topics"]["record"]
    if record is not None:
        ids.add(record["host"])
    ids.discard(None)
    return Agency.objects.in_bulk(ids)


def _import_nodes(nodes: list[dict], agencies: dict[int, Agency]):
    from yipanqi.ledger.services import ImportNode

    made = []
    by_node: dict[int, ImportNode] = {}
    for row, (node, parent) in enumerate(_walk(nodes), 1):
        item = ImportNode(
            number=node["number"],
            title=node["title"],
            text=node["text"],
            parent=by_node[id(parent)] if parent is not None else None,
            due_on=datetime.date.fromisoformat(node["due_on"]) if node["due_on"] else None,
            lead=agencies[node["lead"]["agency_id"]] if node["lead"] else None,
            co_owners=[agencies[ref["agency_id"]] for ref in node["co_owners"]],
            row=row,
        )
        by_node[id(node)] = item
        made.append(item)
    return made


def _attach_source(acting_user, document: IntakeDocument, agreements: list) -> None:
    """A copy of the document's file as each new agreement's source document, through the ledger's own service
    (after everything else succeeded, so that a refused commit leaves no copies behind)."""
    if not agreements or not document.file:
        return
    from yipanqi.ledger import services as ledger

    with document.file.open("rb") as handle:
        data = handle.read()
    name = PurePosixPath(document.file.name).name
    for agreement in agreements:
        ledger.update_agreement(
            acting_user=acting_user, agreement=agreement, source_document=ContentFile(data, name=name)
        )


def _meeting_day(iso: str) -> datetime.datetime:
    """A recorded meeting's start: the morning of its day (the document gives the day, not the hour)."""
    return timezone.make_aware(datetime.datetime.combine(datetime.date.fromisoformat(iso), datetime.time(9)))


def _attach_to_meeting(acting_user, document: IntakeDocument, meeting) -> None:
    """The document as the source of a meeting it recorded (or of one that has none yet), when the committer runs
    that meeting; through the meetings' own service."""
    from yipanqi.meetings import services as meetings

    if meeting is None or not document.file or meeting.source_document or not meetings.runs(acting_user, meeting):
        return
    with document.file.open("rb") as handle:
        data = handle.read()
    meetings.update_meeting(
        acting_user=acting_user,
        meeting=meeting,
        source_document=ContentFile(data, name=PurePosixPath(document.file.name).name),
    )


def _commit_meeting(acting_user, reviewed: dict, agencies: dict[int, Agency]) -> tuple[list[dict], object]:
    """The included topics and decisions on their meeting (recorded first when the document reports a new one);
    returns what was created and the meeting (None when there was nothing for one)."""
    from yipanqi.meetings import services as meetings
    from yipanqi.meetings.models import DecisionKind, Meeting, MeetingSeries, MeetingStatus

    items = [(position, item) for position, item in enumerate(reviewed["topics"]["items"], 1) if item["include"]]
    decisions = [d for d in reviewed["decisions"]["items"] if d["include"]]
    if not (items or decisions):
        return [], None
    created = []
    record = reviewed["topics"]["record"]
    if record is not None:
        series = MeetingSeries.objects.visible_to(acting_user).get(pk=record["series"])
        meeting = meetings.record_held_meeting(
            acting_user=acting_user,
            series=series,
            starts_at=_meeting_day(record["date"]),
            host=agencies[record["host"]],
            place=record["place"],
            # Work given to agencies goes to the series' standing agreement; without one, the minutes become the
            # agreement that holds it once every member approves them.
            minutes_as_agreement=not series.standing_agreement_id and any(d["lead"] for d in decisions),
        )
        created.append({"model": "meetings.meeting", "id": meeting.pk})
    else:
        meeting = Meeting.objects.visible_to(acting_user).get(pk=reviewed["topics"]["meeting"])

    def add_topic(title: str):
        if meeting.status == MeetingStatus.HELD:
            topic = meetings.record_topic(acting_user=acting_user, meeting=meeting, title=title)
        else:
            topic = meetings.propose_topic(acting_user=acting_user, meeting=meeting, title=title)
        created.append({"model": "meetings.topic", "id": topic.pk})
        return topic

    topics = {position: add_topic(item["title"]) for position, item in items}
    general = None
    for decision in decisions:
        topic = topics.get(decision["topic"]) if decision["topic"] is not None else None
        if topic is None:
            if general is None:
                general = add_topic(_("Decisions of the meeting"))
            topic = general
        owned = decision["lead"] is not None
        made = meetings.record_decision(
            acting_user=acting_user,
            topic=topic,
            title=decision["title"],
            text=decision["text"],
            kind=DecisionKind.NEW_MEASURES if owned else DecisionKind.INFORMATION,
            lead=agencies[decision["lead"]["agency_id"]] if owned else None,
            co_owners=[agencies[ref["agency_id"]] for ref in decision["co_owners"]],
            due_on=datetime.date.fromisoformat(decision["due_on"]) if owned else None,
        )
        created.append({"model": "meetings.decision", "id": made.pk})
    return created, meeting


def commit(*, acting_user, document: IntakeDocument, reviewed: dict | None = None) -> IntakeDocument:
    """Create what the reviewed draft says, in one transaction, audited: the included agreements (ledger
    ``create_agreement``, the source file attached as ``source_document``), the measure tree under the chosen
    agreement (ledger ``import_tree`` with leads, co-owners and deadlines), the included topics and decisions on the
    chosen meeting or on the meeting recorded as held (see the module docstring). Refused (ValidationError listing
    every unresolved agency and every other problem, nothing written) when anything is missing. Sets ``status``
    committed, ``created``, ``committed_at``/``_by``.
    ``reviewed``, when given, replaces the stored reviewed draft (kept only if the commit succeeds)."""
    from yipanqi.ledger import services as ledger
    from yipanqi.ledger.models import Agreement

    with transaction.atomic():
        _require_visible(acting_user, document)
        document = _lock(document)
        _require_open(document)
        reviewed = clean_review(document.reviewed if reviewed is None else reviewed, acting_user=acting_user)
        _check_complete(reviewed, acting_user)
        agencies = _agencies_of(reviewed)
        circle = Circle.objects.get(pk=reviewed["circle"]) if reviewed["circle"] is not None else None

        created: list[dict] = []
        new_agreements = {}
        for entry in reviewed["agreements"]:
            if not entry["include"]:
                continue
            agreement = ledger.create_agreement(
                acting_user=acting_user,
                title=entry["title"],
                signatories=[agencies[ref["agency_id"]] for ref in entry["signatories"]],
                circle=circle,
                kind=entry["kind"],
                status=entry["status"],
                signed_on=datetime.date.fromisoformat(entry["signed_on"]) if entry["signed_on"] else None,
                signed_place=entry["signed_place"][:100],
            )
            new_agreements[entry["key"]] = agreement
            created.append({"model": "ledger.agreement", "id": agreement.pk})

        nodes = reviewed["measures"]["nodes"]
        if nodes:
            target = reviewed["measures"]["agreement"]
            if isinstance(target, str):
                agreement = new_agreements[target]
            else:
                agreement = Agreement.objects.visible_to(acting_user).get(pk=target["existing"])
            measures = ledger.import_tree(
                acting_user=acting_user, agreement=agreement, nodes=_import_nodes(nodes, agencies)
            )
            created += [{"model": "ledger.measure", "id": measure.pk} for measure in measures]

        made, meeting = _commit_meeting(acting_user, reviewed, agencies)
        created += made

        _attach_source(acting_user, document, list(new_agreements.values()))
        _attach_to_meeting(acting_user, document, meeting)
        before = snapshot(document, ["status"])
        document.reviewed = reviewed
        document.created = created
        document.status = DocumentStatus.COMMITTED
        document.committed_at = timezone.now()
        document.committed_by = acting_user if getattr(acting_user, "pk", None) else None
        document.save(update_fields=["reviewed", "created", "status", "committed_at", "committed_by"])
        record_event(
            acting_user=acting_user,
            action="intake.document.commit",
            obj=document,
            before=before,
            after={"status": document.status, "created": created},
        )
    return document


def discard(*, acting_user, document: IntakeDocument) -> IntakeDocument:
    """Set a document aside (awaiting review or unreadable): nothing is created; the file stays for the trail."""
    with transaction.atomic():
        _require_visible(acting_user, document)
        document = _lock(document)
        if document.status == DocumentStatus.COMMITTED:
            raise Conflict(_("This document is already committed."))
        if document.status == DocumentStatus.DISCARDED:
            return document
        before = snapshot(document, ["status"])
        document.status = DocumentStatus.DISCARDED
        document.save(update_fields=["status"])
        record_event(
            acting_user=acting_user,
            action="intake.document.discard",
            obj=document,
            before=before,
            after={"status": document.status},
        )
    return document


# --------------------------------------------------------------------------- batches

_SYSTEM_FILES = {"thumbs.db", "desktop.ini"}


def _member_name(info: zipfile.ZipInfo) -> str:
    """The member's name; names written without the UTF-8 flag (Windows archivers) are tried as UTF-8 and GB18030
    before zipfile's cp437."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            raw = name.encode("cp437")
        except UnicodeEncodeError:
            return name
        for encoding in ("utf-8", "gb18030"):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                continue
    return name


def _wanted(name: str) -> bool:
    """Not a folder, a macOS resource fork (__MACOSX), a hidden file (".…") or a Windows system file."""
    parts = [part for part in name.replace("\\", "/").split("/") if part]
    if not parts or name.endswith("/"):
        return False
    if any(part == "__MACOSX" or part.startswith(".") for part in parts):
        return False
    return parts[-1].lower() not in _SYSTEM_FILES


def _too_big_batch() -> ValidationError:
    return ValidationError(
        {
            "files": [
                _("A batch may hold at most %(count)s files and %(size)s MB once unpacked; split it.")
                % {"count": MAX_BATCH_FILES, "size": MAX_BATCH_BYTES // (1024 * 1024)}
            ]
        },
    )


def batch_members(archive: zipfile.ZipFile) -> list[tuple[zipfile.ZipInfo, str]]:
    """The documents of a batch's archive, as (member, name), in the archive's order; refuses zip bombs (more than
    ``MAX_BATCH_FILES`` members or ``MAX_BATCH_BYTES`` unpacked, as the archive declares)."""
    infos = archive.infolist()
    if len(infos) > MAX_BATCH_FILES or sum(info.file_size for info in infos) > MAX_BATCH_BYTES:
        raise _too_big_batch()
    members = []
    for info in infos:
        if info.is_dir():
            continue
        name = _member_name(info)
        if _wanted(name):
            members.append((info, name.replace("\\", "/").lstrip("/")))
    return members


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise ValidationError({"files": [_("The zip archive is damaged and cannot be unpacked.")]}) from None


def _relative_name(name: str) -> str:
    parts = [part for part in (name or "").replace("\\", "/").split("/") if part not in ("", ".", "..")]
    return "/".join(parts)


def _pack(files: list[tuple[str, bytes]]) -> tuple[bytes, int]:
    """Separate files as one zip (names made unique); returns the zip and how many documents it holds."""
    wanted = [(_relative_name(name), data) for name, data in files if _wanted(_relative_name(name))]
    if len(wanted) > MAX_BATCH_FILES or sum(len(data) for _name, data in wanted) > MAX_BATCH_BYTES:
        raise _too_big_batch()
    buffer = io.BytesIO()
    used: set[str] = set()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in wanted:
            unique, copy = name, 1
            while unique in used:
                copy += 1
                path = PurePosixPath(name)
                unique = str(path.with_name(f"{path.stem} ({copy}){path.suffix}"))
            used.add(unique)
            archive.writestr(unique, data)
    return buffer.getvalue(), len(wanted)


def start_batch(
    *, acting_user, name: str, files: list[tuple[str, bytes]], published: datetime.date | None = None, circle=None
) -> IntakeBatch:
    """A batch of files (a zip's members are given as separate files by the caller, or one ``.zip`` file is unpacked
    here), read by the worker one after another (``run_batch`` queued on commit); ``done`` counts progress."""
    from . import jobs

    _require_person_with_agency(acting_user)
    circle = _circle(circle)
    _require_circle(acting_user, circle)
    files = list(files)
    if len(files) == 1 and files[0][0].lower().endswith(".zip"):
        archive_name, data = _file_name(files[0][0], ".zip"), files[0][1]
        with _open_zip(data) as archive:
            total = len(batch_members(archive))
    else:
        archive_name = "documents.zip"
        data, total = _pack(files)
    if not total:
        raise ValidationError({"files": [_("There are no documents to read in this batch.")]})
    batch = IntakeBatch(
        name=((name or "").strip() or PurePosixPath(files[0][0]).name)[:200],
        uploaded_by=acting_user if getattr(acting_user, "pk", None) else None,
        agency_id=getattr(acting_user, "agency_id", None),
        circle=circle,
        published=published,
        total=total,
    )
    with transaction.atomic():
        batch.archive.save(archive_name, ContentFile(data), save=False)
        batch.save()
        record_event(
            acting_user=acting_user,
            action="intake.batch.start",
            obj=batch,
            subject_agency=batch.agency_id,
            after=snapshot(batch, ["name", "archive", "agency", "circle", "published", "status", "total"]),
        )
        enqueue_on_commit(jobs.run_intake_batch, batch.pk)
    return batch


def _take_in_member(acting_user, batch: IntakeBatch, archive: zipfile.ZipFile, info, name: str) -> None:
    try:
        with archive.open(info) as handle:
            data = handle.read(reading.MAX_BYTES + 1)  # one byte more is enough to say it is too big
    except (RuntimeError, zipfile.BadZipFile, NotImplementedError, OSError, EOFError) as exc:
        logger.warning("batch %s: cannot unpack %s: %s", batch.pk, name, exc)
        _store(
            acting_user=acting_user,
            name=name,
            file_name=_file_name(name),
            data=b"",
            circle=batch.circle,
            batch=batch,
            published=batch.published,
            error=_("The file cannot be unpacked from the archive (damaged or password-protected)."),
        )
        return
    try:
        take_in(
            acting_user=acting_user,
            name=name,
            data=data,
            published=batch.published,
            circle=batch.circle,
            batch=batch,
        )
    except (ValidationError, PermissionError):
        raise
    except Exception as exc:  # an analysis failure on one document must not lose the others
        logger.exception("batch %s: could not analyse %s", batch.pk, name)
        _store(
            acting_user=acting_user,
            name=name,
            file_name=_file_name(name),
            data=data,
            circle=batch.circle,
            batch=batch,
            published=batch.published,
            error=_("The document could not be analysed (%(error)s).") % {"error": type(exc).__name__},
        )


def run_batch(batch_id: int) -> None:
    """The worker's task: each stored file → ``take_in(..., batch=batch)``; ``done`` after each; status done.
    Unreadable documents become ``failed`` documents of the batch; anything else that goes wrong fails the batch,
    with the error stored on it, and is raised again for the worker's record."""
    batch = IntakeBatch.objects.select_related("circle", "uploaded_by__agency").get(pk=batch_id)
    if batch.status == BatchStatus.DONE:
        return
    IntakeBatch.objects.filter(pk=batch_id).update(status=BatchStatus.RUNNING, error="")
    try:
        with translation.override(settings.LANGUAGE_CODE):
            acting_user = batch.uploaded_by
            if acting_user is None:
                raise PermissionError(_("The person who started this batch no longer exists."))
            taken = set(batch.documents.values_list("name", flat=True))
            with batch.archive.open("rb") as handle, zipfile.ZipFile(handle) as archive:
                members = batch_members(archive)
                done = len(taken)
                IntakeBatch.objects.filter(pk=batch_id).update(total=len(members), done=done)
                for info, name in members:
                    if name[:255] in taken:
                        continue
                    _take_in_member(acting_user, batch, archive, info, name)
                    done += 1
                    IntakeBatch.objects.filter(pk=batch_id).update(done=done)
    except Exception as exc:
        logger.exception("intake batch %s failed", batch_id)
        IntakeBatch.objects.filter(pk=batch_id).update(
            status=BatchStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=timezone.now()
        )
        raise
    with transaction.atomic():
        IntakeBatch.objects.filter(pk=batch_id).update(status=BatchStatus.DONE, finished_at=timezone.now())
        batch.refresh_from_db()
        record_event(
            acting_user=None,
            action="intake.batch.done",
            obj=batch,
            subject_agency=batch.agency_id,
            after={
                "status": batch.status,
                "total": batch.total,
                "done": batch.done,
                "failed": batch.documents.filter(status=DocumentStatus.FAILED).count(),
            },
        )
