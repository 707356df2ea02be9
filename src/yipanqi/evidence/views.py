"""Evidence pages (存证): checking a file or a hash (存证核验), depositing one (存证), the agency's deposits with their
receipts (存证证明, JSON and PDF), and the log itself (its checkpoint, key, witnesses and activity).

Reads start from ``Deposit.objects.visible_to(request.user)`` (not visible → 404), except the check, which answers
anyone signed in who holds a hash: found or not, when and by which agency, and the receipt. The deposit is written by
``services.deposit``: its ValidationError becomes a form error (nothing written), its PermissionError a 403. Times
are shown in China Standard Time (the project's time zone).
"""

from __future__ import annotations

import datetime
import json
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.db.models.functions import TruncDate
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from yipanqi.directory.forms import style_form

from . import keys, selectors, services
from .api.views import CheckpointView
from .forms import CheckForm, DepositForm, HashingUploadHandler
from .models import Checkpoint, Cosignature, Deposit, Witness

PAGE_SIZE = 20
RECENT_CHECKPOINTS = 10
ACTIVITY_DAYS = 30
FORMATS = {"json": "application/json", "pdf": "application/pdf"}

checkpoint_text = CheckpointView.as_view()  # /evidence/checkpoint: the log's stable URL, as the API serves it


def _hashing_uploads(view):
    """Uploaded files are hashed as they stream in and never stored: the handler must be in place before anything
    reads the body, so CSRF is checked after it is set (Django's documented pattern)."""
    protected = csrf_protect(view)

    def wrapped(request, *args, **kwargs):
        request.upload_handlers = [HashingUploadHandler(request)]
        return protected(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return csrf_exempt(wrapped)


def _lookup_query(deposit: Deposit) -> str:
    return urlencode({"hash": deposit.content_hash, "algorithm": deposit.algorithm, "index": deposit.index})


def _latest_size() -> int:
    latest = services.latest_checkpoint()
    return latest.size if latest else 0


# --------------------------------------------------------------------------- check


@login_required
@require_http_methods(["GET", "POST"])
@_hashing_uploads
def check(request):
    """存证核验: a file (hashed in the browser) or a hash → was it deposited, when, by whom, with its receipts."""
    posted = request.method == "POST"
    asked = posted or "hash" in request.GET
    form = CheckForm(
        request.POST if posted else (request.GET if asked else None),
        request.FILES if posted else None,
        auto_id="check-%s",
    )
    result = None
    status = 200
    if asked:
        if form.is_valid():
            content, algorithm = form.cleaned_data["hash"], form.cleaned_data["algorithm"]
            if posted:
                return redirect(f"{reverse('evidence:check')}?{urlencode({'hash': content, 'algorithm': algorithm})}")
            size = _latest_size()
            rows = [
                {
                    "deposit": deposit,
                    "query": _lookup_query(deposit),
                    "own": deposit.agency_id == request.user.agency_id,
                    "signed": deposit.index < size,
                    "picked": str(deposit.index) == request.GET.get("index"),  # the one a receipt's QR code names
                }
                for deposit in selectors.lookup(content, algorithm)
            ]
            result = {"hash": content, "algorithm": algorithm, "rows": rows}
        else:
            status = 400
    style_form(form)
    return render(
        request,
        "evidence/check.html",
        {"form": form, "result": result, "title": _("Evidence check")},
        status=status,
    )


# --------------------------------------------------------------------------- deposit


@login_required
@require_http_methods(["GET", "POST"])
@_hashing_uploads
def deposit_new(request):
    """存证: deposit a file's hash (or a pasted hash) for the person's agency, then show its receipt."""
    if not request.user.agency_id:
        raise PermissionDenied(_("Only people of an agency deposit evidence."))
    posted = request.method == "POST"
    form = DepositForm(request.POST if posted else None, request.FILES if posted else None, auto_id="deposit-%s")
    status = 200
    if posted:
        status = 400
        if form.is_valid():
            try:
                [(deposit, created)] = services.deposit(acting_user=request.user, items=[form.item()], source="web")
            except ValidationError as exc:
                form.add_error(None, [m for errors in exc.message_dict.values() for m in errors])
            except PermissionError as exc:
                raise PermissionDenied(str(exc)) from exc
            else:
                if created:
                    messages.success(request, _("Deposited as entry %(index)s of the log.") % {"index": deposit.index})
                else:
                    messages.info(
                        request,
                        _("Your agency deposited this before: here is the original deposit and its receipt."),
                    )
                return redirect("evidence:deposit", index=deposit.index)
    style_form(form)
    return render(request, "evidence/deposit_form.html", {"form": form, "title": _("Deposit evidence")}, status=status)


# --------------------------------------------------------------------------- the agency's deposits


@login_required
@require_GET
def deposit_list(request):
    deposits = Deposit.objects.visible_to(request.user).select_related("agency").order_by("-index")
    page = Paginator(deposits, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "evidence/deposit_list.html",
        {"page": page, "deposits": page.object_list, "title": _("Our deposits")},
    )


def _visible_deposit(request, index: int) -> Deposit:
    return get_object_or_404(Deposit.objects.visible_to(request.user).select_related("agency"), index=index)


@login_required
@require_GET
def deposit_detail(request, index: int):
    deposit = _visible_deposit(request, index)
    receipt = None
    latest = services.latest_checkpoint()
    if latest is not None and deposit.index < latest.size:
        receipt = selectors.receipt(deposit, latest)
    return render(
        request,
        "evidence/deposit_detail.html",
        {
            "deposit": deposit,
            "receipt": receipt,
            "checkpoint": latest,
            "root": selectors.b64(bytes(latest.root)) if latest else "",
            "file_stem": _file_stem(deposit),
            "title": _("Deposit %(index)s") % {"index": deposit.index},
        },
    )


def _file_stem(deposit: Deposit) -> str:
    return f"evidence-receipt-{deposit.index}"


def _receipt_download(deposit: Deposit, fmt: str) -> HttpResponse:
    if fmt not in FORMATS:
        raise Http404
    latest = services.latest_checkpoint()
    if latest is None or deposit.index >= latest.size:
        raise Http404(_("The log has not signed a checkpoint with this deposit yet."))
    receipt = selectors.receipt(deposit, latest)
    if fmt == "json":
        content = json.dumps(receipt, ensure_ascii=False, indent=2).encode() + b"\n"
    else:
        from .documents import receipt_pdf  # its QR code opens this site's check page (SITE_URL) for the hash

        content = receipt_pdf(receipt)
    response = HttpResponse(content, content_type=FORMATS[fmt])
    response["Content-Disposition"] = content_disposition_header(True, f"{_file_stem(deposit)}.{fmt}")
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def receipt_download(request, index: int, fmt: str):
    """The receipt of one of the agency's deposits (or of its circle's, for a coordinator), as JSON or PDF."""
    return _receipt_download(_visible_deposit(request, index), fmt)


@login_required
@require_GET
def lookup_receipt(request, fmt: str):
    """The receipt of a deposit found by its hash: holding the hash entitles anyone signed in to it."""
    form = CheckForm(request.GET)
    raw_index = request.GET.get("index", "")
    if not form.is_valid() or not raw_index.isdecimal() or len(raw_index) > 18:
        raise Http404
    deposit = get_object_or_404(
        Deposit.objects.select_related("agency"),
        index=int(raw_index),
        content_hash=form.cleaned_data["hash"],
        algorithm=form.cleaned_data["algorithm"],
    )
    return _receipt_download(deposit, fmt)


# --------------------------------------------------------------------------- the log


def _activity(days: int) -> list[dict]:
    """Deposits per day (China Standard Time) over the last ``days`` days, every day listed."""
    zone = timezone.get_current_timezone()
    today = timezone.localdate()
    start = today - datetime.timedelta(days=days - 1)
    since = datetime.datetime.combine(start, datetime.time.min, tzinfo=zone)
    counts = dict(
        Deposit.objects.filter(deposited_at__gte=since)
        .annotate(day=TruncDate("deposited_at", tzinfo=zone))
        .order_by()
        .values("day")
        .annotate(count=Count("index"))
        .values_list("day", "count")
    )
    return [
        {
            "name": (start + datetime.timedelta(days=n)).strftime("%m-%d"),
            "value": counts.get(start + datetime.timedelta(days=n), 0),
        }
        for n in range(days)
    ]


@login_required
@require_GET
def log(request):
    """The log: its latest checkpoint, the key it is signed with, its witnesses and their cosignatures of recent
    checkpoints, and its activity."""
    latest = services.latest_checkpoint()
    recent = list(
        Checkpoint.objects.order_by("-size").prefetch_related(
            Prefetch("cosignatures", queryset=Cosignature.objects.select_related("witness").order_by("id"))
        )[:RECENT_CHECKPOINTS]
    )
    for checkpoint in recent:
        checkpoint.root_b64 = selectors.b64(bytes(checkpoint.root))
    activity = _activity(ACTIVITY_DAYS)
    return render(
        request,
        "evidence/log.html",
        {
            "checkpoint": latest,
            "root": selectors.b64(bytes(latest.root)) if latest else "",
            "origin": settings.EVIDENCE_ORIGIN,
            "verifier_key": keys.verifier_key(),
            "previous_keys": list(settings.EVIDENCE_PREVIOUS_KEYS),
            "witnesses": list(Witness.objects.select_related("agency").order_by("name")),
            "recent": recent,
            "activity": activity,
            "activity_total": sum(item["value"] for item in activity),
            "title": _("The evidence log"),
        },
    )
