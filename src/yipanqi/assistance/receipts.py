"""Receipts (回执) as files: the JSON a system keeps and re-checks, and a printable PDF for the paper file.

A receipt's ``payload`` (who did what when to which request, and the SHA-256 of what was sent) was hashed when the
event happened: ``digest = sha256(canonical(payload))``, where ``canonical`` is JSON with sorted keys, no spaces, in
UTF-8 (``services.canonical``). The JSON download carries the payload as stored and the digest, so anyone can
recompute it; the PDF prints the same fields, the digest and the canonical text it was taken over, and says whether
they still match (a changed row in the database would show as a mismatch).

The PDF borrows the bulletin's page, fonts and table style (``yipanqi.ledger.documents``: A4, Noto Serif / Sans CJK),
as the minutes do (``yipanqi.meetings.documents``), with a few rules of its own for a one-page form. Every fixed text
is translated under the active language.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass, field
from functools import cache

from django.template.loader import render_to_string
from django.utils import formats, timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from yipanqi.ledger import charts
from yipanqi.ledger.documents import PDF_CONTENT_TYPE, SANS, SERIF, _clean, _stylesheets

from .models import EventKind, Receipt
from .services import canonical

__all__ = ["FORMATS", "document", "file_stem", "prepare", "render_json", "render_pdf", "verify"]

JSON_CONTENT_TYPE = "application/json"
FORMATS = {"json": JSON_CONTENT_TYPE, "pdf": PDF_CONTENT_TYPE}
TEMPLATE = "assistance/receipt_pdf.html"
CANONICAL_FORM = "JSON, keys sorted, no whitespace, UTF-8 (RFC 8259)"
TITLES = {
    EventKind.SENT: gettext_lazy("Receipt of dispatch (发文回执)"),
    EventKind.SIGNED: gettext_lazy("Receipt of signing for (签收回执)"),
    EventKind.ACCEPTED: gettext_lazy("Receipt of acceptance (受理回执)"),
    EventKind.ANSWERED: gettext_lazy("Receipt of the answer (答复回执)"),
}
# A one-page form on top of the bulletin's stylesheet (which sets the page, the fonts, h1.title and table.grid).
RECEIPT_CSS = """
@page { margin: 30mm 26mm 30mm 28mm; }
html { font-size: 12pt; line-height: 20pt; }
p { text-indent: 0; }
.subtitle { text-align: center; margin: -18pt 0 18pt; }
table.grid { font-size: 11pt; line-height: 16pt; }
table.grid th.field { width: 42mm; text-align: left; }
table.grid td.hash, pre.canonical { font-family: "Noto Sans CJK SC", sans-serif; word-break: break-all; }
table.grid td.hash { font-size: 8pt; }  /* 64 hex digits on one line */
pre.canonical { white-space: pre-wrap; font-size: 8pt; line-height: 11pt; border: 0.25pt solid #000; padding: 4pt; }
.check { font-family: "Noto Sans CJK SC", sans-serif; margin: 8pt 0; }
.check.ok { color: #2e7d32; }
.check.bad { color: #c00000; }
.note { font-size: 10pt; line-height: 15pt; }
"""


def computed_digest(receipt: Receipt) -> str:
    return hashlib.sha256(canonical(receipt.payload)).hexdigest()


def verify(receipt: Receipt) -> bool:
    """Whether the stored digest is still the SHA-256 of the stored payload."""
    return computed_digest(receipt) == receipt.digest


def document(receipt: Receipt) -> dict:
    """The JSON download: the payload as hashed, its digest, and how to recompute it."""
    request = receipt.request
    return {
        "receipt": receipt.pk,
        "request": request.number,
        "request_id": request.pk,
        "kind": receipt.kind,
        "issued_by": receipt.issued_by.name,
        "issued_to": receipt.issued_to.name,
        "issued_at": receipt.created_at.isoformat() if receipt.created_at else None,
        "payload": receipt.payload,
        "digest": receipt.digest,
        "digest_algorithm": "SHA-256",
        "canonical_form": CANONICAL_FORM,
    }


def render_json(receipt: Receipt) -> bytes:
    return json.dumps(document(receipt), ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")


def file_stem(receipt: Receipt) -> str:
    """ "回执 510000-2026-00001 签收": the download's name without its extension."""
    return _("Receipt %(number)s %(event)s") % {
        "number": receipt.request.number or receipt.request_id,
        "event": receipt.get_kind_display(),
    }


def _moment(value: str | datetime.datetime | None) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value)
        except ValueError:
            return value
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    local = timezone.localtime(value)
    return f"{formats.date_format(local, 'DATE_FORMAT')} {local:%H:%M:%S}"


@dataclass
class Prepared:
    """Everything the PDF prints, in the active language."""

    language: str
    title: str
    subtitle: str
    rows: list[tuple[str, str, bool]]  # (label, value, is a hash)
    canonical: str
    digest: str
    valid: bool
    check: str
    notes: list[str] = field(default_factory=list)


def prepare(receipt: Receipt) -> Prepared:
    payload = receipt.payload or {}
    request = receipt.request
    valid = verify(receipt)
    rows = [
        (_("Request number"), _clean(payload.get("request") or request.number), False),
        (_("Kind"), _clean(request.kind.name), False),
        (_("Subject"), _clean(request.title), False),
        (_("Case number (案号)"), _clean(request.case_number) or "—", False),
        (_("Event"), str(EventKind(receipt.kind).label) if receipt.kind in EventKind.values else receipt.kind, False),
        (_("Time"), _moment(payload.get("at")), False),
        (_("By"), _clean(payload.get("by")) or "—", False),
        (_("Receipt issued by"), _clean(payload.get("by_agency") or receipt.issued_by.name), False),
        (_("Receipt issued to"), _clean(payload.get("to_agency") or receipt.issued_to.name), False),
        (_("SHA-256 of what was sent"), payload.get("content_sha256", ""), True),
        (_("SHA-256 of this receipt"), receipt.digest, True),
        (_("Receipt number"), str(receipt.pk), False),
    ]
    return Prepared(
        language=get_language() or "zh-hans",
        title=str(TITLES.get(receipt.kind, _("Receipt"))),
        subtitle=f"{_clean(request.number)} · {_clean(request.kind.name)}",
        rows=rows,
        canonical=canonical(payload).decode("utf-8"),
        digest=receipt.digest,
        valid=valid,
        check=_("The digest matches the receipt's contents.")
        if valid
        else _("The digest does NOT match the receipt's contents: the receipt was changed after it was issued."),
        notes=[
            _(
                "The SHA-256 of this receipt is taken over its contents written as canonical JSON (keys sorted, no "
                "spaces, UTF-8), printed below; anyone can recompute it."
            ),
            _(
                "The SHA-256 of what was sent covers the request's number, kind, subject, case number, parties, "
                "urgency, details, the two agencies, the answer and the SHA-256 of every attachment at that moment."
            ),
        ],
    )


@cache
def _receipt_stylesheet():
    import weasyprint

    return weasyprint.CSS(string=RECEIPT_CSS)


def render_pdf(receipt: Receipt) -> bytes:
    """The receipt as a one-page PDF, in the active language."""
    import weasyprint
    from weasyprint.urls import URLFetcher

    charts.cjk_font(SERIF)  # FontMissing, with what to install, rather than boxes for every character
    charts.cjk_font(SANS)
    prepared = prepare(receipt)
    markup = render_to_string(TEMPLATE, {"doc": prepared})
    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)  # nothing is fetched
    bulletin_stylesheet = _stylesheets()[1]
    return weasyprint.HTML(string=markup, url_fetcher=fetcher).write_pdf(
        stylesheets=[bulletin_stylesheet, _receipt_stylesheet()]
    )
