"""Assistance-request write operations: one transaction each, the permission check first, then validation, then the
change, its event (feed entries, receipt) and its audit record; notifications go out on commit.

Lifecycle (docs/assistance.md)::

    draft → sent → received (签收) → accepted (受理) → in progress → answered (答复) → closed
                 ↘ returned (退回)   ↘ paused (补充材料) ↔ …          ↖ reopened ↙
    withdrawn by the sender before acceptance; forwarded (转办) by the receiver before acceptance;
    extension asked by the receiver, granted or refused by the sender.

A state that forbids the step raises ``Conflict`` (HTTP 409); a person or system that may not take it,
``PermissionError`` (403); bad input, ``ValidationError`` (400). Two people accepting one request at once: the row
lock makes the second find it accepted already (``Conflict``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime

import jsonschema
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from yipanqi.core.errors import Conflict
from yipanqi.core.notifications import notify
from yipanqi.core.services import record_event, snapshot
from yipanqi.directory.models import Agency, Circle, Department, Role, User

from . import deadlines, routing
from .models import (
    AssistanceRequest,
    Attachment,
    EventKind,
    FeedEntry,
    Receipt,
    RequestCounter,
    RequestEvent,
    RequestHop,
    RequestKind,
    RequestMessage,
    RequestStatus,
)

WRITE_SCOPE = "assistance:write"
RECEIPT_EVENTS = {EventKind.SENT, EventKind.SIGNED, EventKind.ACCEPTED, EventKind.ANSWERED}
BEFORE_ACCEPTANCE = (RequestStatus.SENT, RequestStatus.RECEIVED)
WORKING = (RequestStatus.ACCEPTED, RequestStatus.IN_PROGRESS)


# --------------------------------------------------------------------------- who may act


def acts_for(principal, agency_id: int | None) -> bool:
    """A liaison or case handler of the agency, or its system with ``assistance:write`` — or the system itself."""
    if principal is None:
        return True
    if agency_id is None or getattr(principal, "agency_id", None) != agency_id:
        return False
    if getattr(principal, "api_key_id", None):
        return WRITE_SCOPE in (principal.scopes or ())
    return principal.has_role(Role.LIAISON) or principal.has_role(Role.HANDLER)


def _require(principal, agency_id: int | None, message: str) -> None:
    if not acts_for(principal, agency_id):
        raise PermissionError(message)


def _as_sender(principal, request: AssistanceRequest) -> None:
    _require(principal, request.sender_id, _("Only the sending agency's liaisons and case handlers may do this."))


def _as_receiver(principal, request: AssistanceRequest) -> None:
    _require(principal, request.receiver_id, _("Only the receiving agency's liaisons and case handlers may do this."))


def _person(principal):
    return principal if getattr(principal, "pk", None) and not getattr(principal, "api_key_id", None) else None


def _lock(request: AssistanceRequest) -> AssistanceRequest:
    return (
        AssistanceRequest.objects.select_for_update(of=("self",))
        .select_related("kind", "sender__region", "receiver")
        .get(pk=request.pk)
    )


def _require_status(request: AssistanceRequest, *allowed: str) -> None:
    if request.status not in allowed:
        labels = "、".join(str(RequestStatus(s).label) for s in allowed)
        raise Conflict(
            _("The request is %(status)s; this can be done only when it is: %(allowed)s.")
            % {"status": request.get_status_display(), "allowed": labels}
        )


def _text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: [message]})
    return value


# --------------------------------------------------------------------------- events, feed, receipts


def canonical(data) -> bytes:
    """The bytes a receipt's hash is taken over: JSON with sorted keys, no spaces, UTF-8."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode("utf-8")


def content_digest(request: AssistanceRequest) -> str:
    """SHA-256 of what was sent: the request's fields and the hashes of its attachments."""
    content = {
        "number": request.number,
        "kind": request.kind.code,
        "title": request.title,
        "case_number": request.case_number,
        "parties": request.parties,
        "urgency": request.urgency,
        "fields": request.fields,
        "sender": request.sender_id,
        "receiver": request.receiver_id,
        "result": request.result,
        "attachments": sorted(request.attachments.values_list("sha256", flat=True)),
    }
    return hashlib.sha256(canonical(content)).hexdigest()


def _feed_agencies(request: AssistanceRequest) -> set[int]:
    """Who gets an event in its feed: the sender; once sent, the receiver, the chain and a superior it reached."""
    if request.status == RequestStatus.DRAFT:
        return {request.sender_id}
    ids = {request.sender_id, request.receiver_id, request.escalated_to_id}
    for from_id, to_id in RequestHop.objects.filter(request=request).values_list("from_agency_id", "to_agency_id"):
        ids.update((from_id, to_id))
    return {i for i in ids if i}


def _event(
    request, kind: str, acting_user, *, data: dict | None = None, at: datetime | None = None, also: tuple = ()
) -> RequestEvent:
    """The request's event, in the feed of every agency it concerns (and of ``also``: an agency it just left, such
    as the superior a further escalation passed by). The feed is also what tells a cached box count that it is
    out of date (``selectors.box_count``)."""
    agency_id = getattr(acting_user, "agency_id", None)
    event = RequestEvent.objects.create(
        request=request,
        kind=kind,
        at=at or timezone.now(),
        actor=_person(acting_user),
        actor_agency_id=agency_id,
        data=data or {},
    )
    agencies = _feed_agencies(request) | {a for a in also if a}
    FeedEntry.objects.bulk_create([FeedEntry(agency_id=a, event=event) for a in sorted(agencies)])
    if kind in RECEIPT_EVENTS:
        _receipt(request, event, acting_user)
    return event


def _receipt(request: AssistanceRequest, event: RequestEvent, acting_user) -> Receipt:
    by_sender = event.kind == EventKind.SENT
    issuer, recipient = (request.sender, request.receiver) if by_sender else (request.receiver, request.sender)
    person = _person(acting_user)
    payload = {
        "request": request.number,
        "kind": request.kind.code,
        "event": event.kind,
        "at": event.at.isoformat(),
        "by": (person.full_name or person.username) if person else "",
        "by_agency": issuer.name,
        "to_agency": recipient.name,
        "content_sha256": content_digest(request),
    }
    return Receipt.objects.create(
        request=request,
        event=event,
        kind=event.kind,
        issued_by=issuer,
        issued_to=recipient,
        payload=payload,
        digest=hashlib.sha256(canonical(payload)).hexdigest(),
    )


def _audit(acting_user, action: str, request: AssistanceRequest, before: dict | None = None) -> None:
    record_event(
        acting_user=acting_user, action=f"assistance.{action}", obj=request, before=before, after=_row(request)
    )


STATE_FIELDS = ["status", "receiver", "sign_due_at", "accept_due_at", "finish_due_at", "escalated_to", "assignee"]


def _row(request: AssistanceRequest) -> dict:
    return snapshot(request, [*STATE_FIELDS, "number", "extended_days"])


def _people_of(agency_ids: Iterable[int], *extra) -> list:
    liaisons = list(
        User.objects.filter(agency_id__in=[a for a in agency_ids if a], is_active=True, role_grants__role=Role.LIAISON)
        .values_list("pk", flat=True)
        .distinct()
    )
    return [*liaisons, *(p.pk for p in extra if p is not None)]


def _tell(request: AssistanceRequest, agency_ids, title: str, body: str = "", *extra_people, dedupe: str = "") -> None:
    notify(
        _people_of(agency_ids, *extra_people),
        kind="assistance.update",
        title=title,
        body=body,
        url=reverse("assistance:request", args=[request.pk]),
        dedupe_key=dedupe,
    )


def _title(request: AssistanceRequest) -> dict:
    return {"number": request.number or _("draft"), "title": request.title, "kind": request.kind.name}


# --------------------------------------------------------------------------- drafting and sending


def _check_fields(kind: RequestKind, fields: dict) -> dict:
    """The kind's JSON Schema over the details; each error on the field it concerns."""
    if not isinstance(fields, dict):
        raise ValidationError({"fields": [_("Details must be an object of named fields.")]})
    if not kind.fields_schema:
        return fields
    validator = jsonschema.Draft202012Validator(kind.fields_schema)
    errors: dict[str, list[str]] = {}
    for error in sorted(validator.iter_errors(fields), key=lambda e: list(e.path)):
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else ""
            title = kind.fields_schema.get("properties", {}).get(missing, {}).get("title", missing)
            errors.setdefault(f"fields.{missing}", []).append(_("%(field)s is required.") % {"field": title})
        else:
            name = ".".join(str(p) for p in error.path) or "fields"
            title = kind.fields_schema.get("properties", {}).get(name, {}).get("title", name)
            errors.setdefault(f"fields.{name}", []).append(
                _("%(field)s: %(problem)s") % {"field": title, "problem": error.message}
            )
    if errors:
        raise ValidationError(errors)
    return fields


def _check_sender(kind: RequestKind, sender: Agency) -> None:
    if not kind.is_active:
        raise ValidationError({"kind": [_("%(kind)s is no longer in use.") % {"kind": kind.name}]})
    if sender.type not in kind.sender_types:
        raise ValidationError(
            {"kind": [_("A %(type)s may not send %(kind)s.") % {"type": sender.get_type_display(), "kind": kind.name}]}
        )


DRAFT_FIELDS = (
    "title",
    "case_number",
    "parties",
    "urgency",
    "fields",
    "target_region",
    "receiver",
    "sender_department",
)


@transaction.atomic
def create_request(
    *,
    acting_user,
    kind: RequestKind,
    sender: Agency,
    title: str,
    idempotency_key: str = "",
    **fields,
) -> AssistanceRequest:
    """A draft. A retry with the same ``idempotency_key`` (per sending agency) returns the draft it created, marked
    ``replayed`` (also when the retry raced the first call and lost on the key's unique constraint)."""
    unknown = set(fields) - set(DRAFT_FIELDS)
    if unknown:
        raise ValidationError({f: [_("This field cannot be changed here.")] for f in unknown})
    _require(acting_user, sender.pk, _("Only the sending agency's liaisons and case handlers may write its requests."))
    if idempotency_key:
        existing = AssistanceRequest.objects.filter(sender=sender, idempotency_key=idempotency_key).first()
        if existing is not None:
            existing.replayed = True  # tells the API to answer 200, not 201
            return existing
    _check_sender(kind, sender)
    request = AssistanceRequest(
        kind=kind,
        sender=sender,
        title=(title or "").strip(),
        created_by=_person(acting_user),
        idempotency_key=idempotency_key,
        **fields,
    )
    if request.sender_department_id is None and getattr(acting_user, "department_id", None):
        request.sender_department_id = acting_user.department_id
    _check_draft(request)
    try:
        with transaction.atomic():  # a savepoint: a retry racing this one may have inserted the key meanwhile
            request.save()
    except IntegrityError:
        existing = AssistanceRequest.objects.filter(sender=sender, idempotency_key=idempotency_key).first()
        if not idempotency_key or existing is None:
            raise
        existing.replayed = True
        return existing
    _event(request, EventKind.CREATED, acting_user)
    _audit(acting_user, "request.create", request)
    return request


def _check_draft(request: AssistanceRequest) -> None:
    errors = {}
    try:
        request.full_clean(exclude=["number", "kind", "sender"], validate_constraints=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if request.sender_department_id and request.sender_department.agency_id != request.sender_id:
        errors["sender_department"] = [_("The department does not belong to the sending agency.")]
    if request.receiver_id and request.receiver_id == request.sender_id:
        errors["receiver"] = [_("An agency does not send a request to itself.")]
    try:
        request.fields = _check_fields(request.kind, request.fields or {}) if request.fields else request.fields
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def update_draft(*, acting_user, request: AssistanceRequest, **changes) -> AssistanceRequest:
    unknown = set(changes) - set(DRAFT_FIELDS)
    if unknown:
        raise ValidationError({f: [_("This field cannot be changed here.")] for f in unknown})
    request = _lock(request)
    _as_sender(acting_user, request)
    _require_status(request, RequestStatus.DRAFT, RequestStatus.RETURNED)  # a returned request is corrected, resent
    before = snapshot(request)
    for key, value in changes.items():
        setattr(request, key, value.strip() if isinstance(value, str) else value)
    _check_draft(request)
    request.save()
    record_event(
        acting_user=acting_user, action="assistance.request.update", obj=request, before=before, after=snapshot(request)
    )
    return request


def _number(request: AssistanceRequest, now: datetime) -> str:
    """ "510000-2026-00012": the sending agency's province code, the year, and the next count under that prefix (one
    counter row per prefix, locked until commit, so two sends at once get two numbers)."""
    prefix = f"{request.sender.region.code}-{timezone.localtime(now).year}-"
    counter = RequestCounter.objects.select_for_update().filter(prefix=prefix).first()
    if counter is None:  # the prefix's first send: start after any numbers given before counters existed
        existing = AssistanceRequest.objects.filter(number__startswith=prefix).count()
        RequestCounter.objects.get_or_create(prefix=prefix, defaults={"last": existing})
        counter = RequestCounter.objects.select_for_update().get(prefix=prefix)
    while True:
        counter.last += 1
        number = f"{prefix}{counter.last:05d}"
        if not AssistanceRequest.objects.filter(number=number).exists():
            counter.save(update_fields=["last"])
            return number


def _circle_of(sender: Agency, receiver: Agency) -> Circle | None:
    """The cooperation circle both agencies belong to (its coordinators watch the request), if any."""
    common = Circle.objects.containing_agency(sender).filter(
        pk__in=Circle.objects.containing_agency(receiver).values("pk")
    )
    return common.order_by("pk").first()


def _check_ready(request: AssistanceRequest) -> None:
    """What sending needs: a receiver the kind's routing allows, every required field and attachment."""
    kind = request.kind
    errors: dict[str, list[str]] = {}
    if request.receiver_id is None:
        errors["receiver"] = [_("Choose the receiving agency.")]
    else:
        problem = routing.refusal(kind, request.sender, request.receiver, request.target_region)
        if problem:
            errors["receiver"] = [problem]
    if not request.title:
        errors["title"] = [_("Give the request a subject.")]
    try:
        _check_fields(kind, request.fields or {})
    except ValidationError as exc:
        errors.update(exc.message_dict)
    have = set(request.attachments.exclude(label="").values_list("label", flat=True))
    missing = [label for label in kind.required_attachments if label not in have]
    if missing:
        errors["attachments"] = [_("Attach: %(documents)s") % {"documents": "、".join(missing)}]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def send(*, acting_user, request: AssistanceRequest) -> AssistanceRequest:
    """Send the draft: it gets its number, the first hop and the signing clock; the receiver is told."""
    request = _lock(request)
    _as_sender(acting_user, request)
    _require_status(request, RequestStatus.DRAFT, RequestStatus.RETURNED)
    _check_sender(request.kind, request.sender)
    _check_ready(request)
    before = _row(request)
    now = timezone.now()
    if not request.number:
        request.number = _number(request, now)
    request.status = RequestStatus.SENT
    request.sent_at = now
    request.received_at = request.accepted_at = None
    request.return_reason = ""
    request.circle = _circle_of(request.sender, request.receiver)
    request.sign_due_at = deadlines.due(now, request.kind.sign_within, request.kind.sign_unit)
    request.accept_due_at = request.finish_due_at = None
    deadlines.set_current(request.kind, request)
    request.save()
    RequestHop.objects.create(
        request=request, from_agency=request.sender, to_agency=request.receiver, by=_person(acting_user)
    )
    _event(request, EventKind.SENT, acting_user, at=now)
    _audit(acting_user, "request.send", request, before)
    _tell(
        request,
        [request.receiver_id],
        _("New %(kind)s from %(agency)s: %(title)s")
        % {"kind": request.kind.name, "agency": request.sender.name, "title": request.title},
    )
    return request


# --------------------------------------------------------------------------- the receiver's steps


@transaction.atomic
def sign(*, acting_user, request: AssistanceRequest) -> AssistanceRequest:
    """签收: the receiver acknowledges receipt (a receipt for the sender); the accepting clock starts."""
    request = _lock(request)
    _as_receiver(acting_user, request)
    _require_status(request, RequestStatus.SENT)
    before = _row(request)
    now = timezone.now()
    request.status = RequestStatus.RECEIVED
    request.received_at = now
    request.accept_due_at = deadlines.due(now, request.kind.accept_within, request.kind.accept_unit)
    deadlines.set_current(request.kind, request)
    request.save()
    _event(request, EventKind.SIGNED, acting_user, at=now)
    _audit(acting_user, "request.sign", request, before)
    _tell(
        request,
        [request.sender_id],
        _("%(number)s was signed for by %(agency)s") % {"number": request.number, "agency": request.receiver.name},
        "",
        request.created_by,
    )
    return request


def sign_many(*, acting_user, requests: Iterable[AssistanceRequest]) -> tuple[list, list]:
    """Bulk signing from the inbox: each request on its own (one refusal does not stop the others).
    Returns (signed, [(request, message)])."""
    signed, refused = [], []
    for request in requests:
        try:
            signed.append(sign(acting_user=acting_user, request=request))
        except ValidationError as exc:
            refused.append((request, " ".join(exc.messages)))
        except (Conflict, PermissionError) as exc:
            refused.append((request, str(exc)))
    return signed, refused


@transaction.atomic
def accept(*, acting_user, request: AssistanceRequest, department: Department | None = None, assignee=None):
    """受理 / 立案: the finishing clock starts (an urgent request: the kind's hours). Of two people accepting at once,
    the second finds it accepted already (``Conflict``)."""
    request = _lock(request)
    _as_receiver(acting_user, request)
    _require_status(request, RequestStatus.SENT, RequestStatus.RECEIVED)
    _check_assignment(request, department, assignee)
    before = _row(request)
    now = timezone.now()
    if request.received_at is None:  # accepted straight away: signing is implied
        request.received_at = now
    request.status = RequestStatus.ACCEPTED
    request.accepted_at = now
    request.receiver_department = department or request.receiver_department
    request.assignee = assignee or request.assignee or _person(acting_user)
    request.finish_due_at = deadlines.finish_clock(request.kind, request, now).due_at
    deadlines.set_current(request.kind, request)
    request.save()
    _event(request, EventKind.ACCEPTED, acting_user, at=now)
    _audit(acting_user, "request.accept", request, before)
    _tell(
        request,
        [request.sender_id],
        _("%(number)s was accepted by %(agency)s") % {"number": request.number, "agency": request.receiver.name},
        "",
        request.created_by,
    )
    return request


def _check_assignment(request: AssistanceRequest, department, assignee) -> None:
    errors = {}
    if department is not None and department.agency_id != request.receiver_id:
        errors["department"] = [_("The department does not belong to the receiving agency.")]
    if assignee is not None and assignee.agency_id != request.receiver_id:
        errors["assignee"] = [_("%(person)s is not a person of the receiving agency.") % {"person": assignee}]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def assign(*, acting_user, request: AssistanceRequest, department: Department | None = None, assignee=None):
    """The receiving agency's liaison gives the request to a department or a case handler."""
    request = _lock(request)
    _require(acting_user, request.receiver_id, _("Only the receiving agency assigns its requests."))
    _require_status(request, RequestStatus.RECEIVED, *WORKING, RequestStatus.PAUSED)
    _check_assignment(request, department, assignee)
    before = _row(request)
    request.receiver_department, request.assignee = department, assignee
    request.save(update_fields=["receiver_department", "assignee"])
    _event(
        request,
        EventKind.ASSIGNED,
        acting_user,
        data={"department": getattr(department, "pk", None), "assignee": getattr(assignee, "pk", None)},
    )
    _audit(acting_user, "request.assign", request, before)
    if assignee is not None:
        notify(
            [assignee],
            kind="assistance.assigned",
            title=_("Assigned to you: %(number)s %(title)s") % _title(request),
            url=reverse("assistance:request", args=[request.pk]),
        )
    return request


@transaction.atomic
def return_request(*, acting_user, request: AssistanceRequest, reason: str) -> AssistanceRequest:
    """退回: not competent or incomplete; the sender may revise it and send it again."""
    request = _lock(request)
    _as_receiver(acting_user, request)
    _require_status(request, *BEFORE_ACCEPTANCE)
    reason = _text(reason, "reason", _("Say why the request is returned."))
    before = _row(request)
    request.status = RequestStatus.RETURNED
    request.return_reason = reason
    request.sign_due_at = request.accept_due_at = None
    deadlines.set_current(request.kind, request)
    request.save()
    _event(request, EventKind.RETURNED, acting_user, data={"reason": reason})
    _audit(acting_user, "request.return", request, before)
    _tell(
        request,
        [request.sender_id],
        _("%(number)s was returned") % {"number": request.number},
        reason,
        request.created_by,
    )
    return request


@transaction.atomic
def forward(*, acting_user, request: AssistanceRequest, to: Agency, reason: str) -> AssistanceRequest:
    """转办: the receiver passes the request on to the competent agency; the chain stays visible to all in it."""
    request = _lock(request)
    _as_receiver(acting_user, request)
    _require_status(request, *BEFORE_ACCEPTANCE)
    reason = _text(reason, "reason", _("Say why the request is forwarded."))
    if to.pk in (request.receiver_id, request.sender_id):
        raise ValidationError({"to": [_("Forward to another agency.")]})
    problem = routing.refusal(request.kind, request.sender, to, request.target_region, forwarding=True)
    if problem:
        raise ValidationError({"to": [problem]})
    before = _row(request)
    previous = request.receiver
    now = timezone.now()
    RequestHop.objects.create(
        request=request, from_agency=previous, to_agency=to, reason=reason, by=_person(acting_user)
    )
    request.receiver = to
    request.receiver_department = request.assignee = None
    request.status = RequestStatus.SENT
    request.received_at = None
    request.sign_due_at = deadlines.due(now, request.kind.sign_within, request.kind.sign_unit)
    request.accept_due_at = None
    request.circle = request.circle or _circle_of(request.sender, to)
    deadlines.set_current(request.kind, request)
    request.save()
    _event(request, EventKind.FORWARDED, acting_user, data={"from": previous.pk, "to": to.pk, "reason": reason})
    _audit(acting_user, "request.forward", request, before)
    _tell(
        request,
        [to.pk, request.sender_id],
        _("%(number)s was forwarded from %(from)s to %(to)s")
        % {"number": request.number, "from": previous.name, "to": to.name},
        reason,
    )
    return request


@transaction.atomic
def start(*, acting_user, request: AssistanceRequest) -> AssistanceRequest:
    request = _lock(request)
    _as_receiver(acting_user, request)
    _require_status(request, RequestStatus.ACCEPTED)
    before = _row(request)
    request.status = RequestStatus.IN_PROGRESS
    request.save(update_fields=["status"])
    _event(request, EventKind.STARTED, acting_user)
    _audit(acting_user, "request.start", request, before)
    return request


@transaction.atomic
def answer(*, acting_user, request: AssistanceRequest, result: str) -> AssistanceRequest:
    """答复: the result (with any attachments added before); the sender closes or reopens it."""
    request = _lock(request)
    _as_receiver(acting_user, request)
    _require_status(request, *WORKING)
    result = _text(result, "result", _("Write the answer."))
    before = _row(request)
    now = timezone.now()
    request.status = RequestStatus.ANSWERED
    request.result = result
    request.answered_at = now
    deadlines.set_current(request.kind, request)
    request.save()
    _event(request, EventKind.ANSWERED, acting_user, at=now)
    _audit(acting_user, "request.answer", request, before)
    _tell(
        request,
        [request.sender_id],
        _("%(number)s was answered by %(agency)s") % {"number": request.number, "agency": request.receiver.name},
        "",
        request.created_by,
    )
    return request


# --------------------------------------------------------------------------- the sender's steps


@transaction.atomic
def close(*, acting_user, request: AssistanceRequest) -> AssistanceRequest:
    request = _lock(request)
    _as_sender(acting_user, request)
    _require_status(request, RequestStatus.ANSWERED)
    before = _row(request)
    request.status = RequestStatus.CLOSED
    request.closed_at = timezone.now()
    request.save(update_fields=["status", "closed_at"])
    _event(request, EventKind.CLOSED, acting_user)
    _audit(acting_user, "request.close", request, before)
    _tell(
        request,
        [request.receiver_id],
        _("%(number)s was closed by %(agency)s") % {"number": request.number, "agency": request.sender.name},
        "",
        request.assignee,
    )
    return request


@transaction.atomic
def reopen(*, acting_user, request: AssistanceRequest, reason: str) -> AssistanceRequest:
    """The answer does not settle it: back to the receiver, with a new finishing clock from now."""
    request = _lock(request)
    _as_sender(acting_user, request)
    _require_status(request, RequestStatus.ANSWERED, RequestStatus.CLOSED)
    reason = _text(reason, "reason", _("Say why the request is reopened."))
    before = _row(request)
    now = timezone.now()
    request.status = RequestStatus.IN_PROGRESS
    request.closed_at = request.answered_at = None
    request.finish_due_at = deadlines.finish_clock(request.kind, request, now).due_at
    deadlines.set_current(request.kind, request)
    request.save()
    _event(request, EventKind.REOPENED, acting_user, data={"reason": reason})
    _audit(acting_user, "request.reopen", request, before)
    _tell(
        request,
        [request.receiver_id],
        _("%(number)s was reopened") % {"number": request.number},
        reason,
        request.assignee,
    )
    return request


@transaction.atomic
def withdraw(*, acting_user, request: AssistanceRequest, reason: str = "") -> AssistanceRequest:
    """Withdrawn by the sender, before acceptance."""
    request = _lock(request)
    _as_sender(acting_user, request)
    _require_status(request, RequestStatus.DRAFT, RequestStatus.RETURNED, *BEFORE_ACCEPTANCE)
    before = _row(request)
    was_sent = request.status in BEFORE_ACCEPTANCE
    request.status = RequestStatus.WITHDRAWN
    request.sign_due_at = request.accept_due_at = None
    deadlines.set_current(request.kind, request)
    request.save()
    _event(request, EventKind.WITHDRAWN, acting_user, data={"reason": (reason or "").strip()})
    _audit(acting_user, "request.withdraw", request, before)
    if was_sent:
        _tell(
            request,
            [request.receiver_id],
            _("%(number)s was withdrawn by %(agency)s") % {"number": request.number, "agency": request.sender.name},
            reason,
        )
    return request


# --------------------------------------------------------------------------- extension and pause


@transaction.atomic
def request_extension(*, acting_user, request: AssistanceRequest, days: int, reason: str) -> AssistanceRequest:
    request = _lock(request)
    _as_receiver(acting_user, request)
    _require_status(request, *WORKING)
    reason = _text(reason, "reason", _("Say why more time is needed."))
    if request.extension_asked_days:
        raise Conflict(_("An extension was asked for already; wait for the sender's answer."))
    limit = request.kind.max_extension_days
    if not isinstance(days, int) or days < 1 or days > limit:
        raise ValidationError({"days": [_("Ask for 1 to %(limit)s days.") % {"limit": limit}]})
    before = _row(request)
    request.extension_asked_days, request.extension_reason = days, reason
    request.save(update_fields=["extension_asked_days", "extension_reason"])
    _event(request, EventKind.EXTENSION_REQUESTED, acting_user, data={"days": days, "reason": reason})
    _audit(acting_user, "request.extension_request", request, before)
    _tell(
        request,
        [request.sender_id],
        _("%(agency)s asks %(days)s more days for %(number)s")
        % {"agency": request.receiver.name, "days": days, "number": request.number},
        reason,
        request.created_by,
    )
    return request


@transaction.atomic
def decide_extension(*, acting_user, request: AssistanceRequest, grant: bool, note: str = "") -> AssistanceRequest:
    request = _lock(request)
    _as_sender(acting_user, request)
    if not request.extension_asked_days:
        raise Conflict(_("No extension is awaiting a decision."))
    before = _row(request)
    days = request.extension_asked_days
    if grant:
        request.extended_days += days
        if request.accepted_at:
            request.finish_due_at = (
                deadlines.due(request.finish_due_at, days, "days") if request.finish_due_at else None
            )
    request.extension_asked_days, request.extension_reason = None, ""
    deadlines.set_current(request.kind, request)
    request.save()
    kind = EventKind.EXTENSION_GRANTED if grant else EventKind.EXTENSION_REFUSED
    _event(request, kind, acting_user, data={"days": days, "note": (note or "").strip()})
    _audit(acting_user, "request.extension_grant" if grant else "request.extension_refuse", request, before)
    message = _("Extension of %(number)s granted") if grant else _("Extension of %(number)s refused")
    _tell(request, [request.receiver_id], message % {"number": request.number}, note, request.assignee)
    return request


_CLOCK_UNIT = {"sign_due_at": "sign_unit", "accept_due_at": "accept_unit", "finish_due_at": "finish_unit"}


@transaction.atomic
def pause(*, acting_user, request: AssistanceRequest, reason: str) -> AssistanceRequest:
    """补充材料: the receiver asks for more material; the clock stands still until the sender supplies it."""
    request = _lock(request)
    _as_receiver(acting_user, request)
    _require_status(request, RequestStatus.RECEIVED, *WORKING)
    reason = _text(reason, "reason", _("Say what material is missing."))
    before = _row(request)
    request.resume_status, request.status = request.status, RequestStatus.PAUSED
    request.paused_at = timezone.now()
    deadlines.set_current(request.kind, request)
    request.save()
    _event(request, EventKind.PAUSED, acting_user, data={"reason": reason})
    _audit(acting_user, "request.pause", request, before)
    _tell(
        request,
        [request.sender_id],
        _("%(agency)s asks for more material on %(number)s")
        % {"agency": request.receiver.name, "number": request.number},
        reason,
        request.created_by,
    )
    return request


@transaction.atomic
def resume(*, acting_user, request: AssistanceRequest, note: str = "") -> AssistanceRequest:
    """The sender supplies the material (attached or in the thread): the clocks move on by the time paused."""
    request = _lock(request)
    _as_sender(acting_user, request)
    _require_status(request, RequestStatus.PAUSED)
    before = _row(request)
    now = timezone.now()
    for field, unit_field in _CLOCK_UNIT.items():
        value = getattr(request, field)
        if value is not None:
            setattr(request, field, deadlines.shift(value, request.paused_at, now, getattr(request.kind, unit_field)))
    request.status, request.resume_status, request.paused_at = request.resume_status or RequestStatus.RECEIVED, "", None
    deadlines.set_current(request.kind, request)
    request.save()
    _event(request, EventKind.RESUMED, acting_user, data={"note": (note or "").strip()})
    _audit(acting_user, "request.resume", request, before)
    _tell(
        request,
        [request.receiver_id],
        _("Material supplied for %(number)s") % {"number": request.number},
        note,
        request.assignee,
    )
    return request


# --------------------------------------------------------------------------- thread and attachments


ALLOWED_TYPES = {
    "application/pdf": (".pdf",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (".xlsx",),
    "application/ofd": (".ofd",),  # 版式文件, the Chinese standard for official documents
    "text/plain": (".txt",),
    "application/zip": (".zip",),
}


def _party(principal, request: AssistanceRequest) -> int:
    """The agency (sender or receiver) on whose behalf the principal writes in the thread."""
    for agency_id in (request.sender_id, request.receiver_id):
        if agency_id and acts_for(principal, agency_id):
            return agency_id
    raise PermissionError(_("Only the two agencies' liaisons and case handlers write in the request's thread."))


def scan(uploaded) -> None:
    """The virus-scanning hook: ``ASSISTANCE_SCAN_HOOK`` names a callable(file) that raises ValidationError for a
    file it refuses (e.g. a ClamAV client); none by default."""
    hook = getattr(settings, "ASSISTANCE_SCAN_HOOK", "")
    if hook:
        import_string(hook)(uploaded)


def _check_upload(uploaded) -> tuple[str, str]:
    name = (getattr(uploaded, "name", "") or "").rsplit("/", 1)[-1].strip()
    limit = settings.ASSISTANCE_MAX_UPLOAD_BYTES
    if not name:
        raise ValidationError({"file": [_("The file has no name.")]})
    if uploaded.size > limit:
        raise ValidationError(
            {"file": [_("%(name)s is larger than %(limit)s MB.") % {"name": name, "limit": limit // (1024 * 1024)}]}
        )
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    content_type = next((t for t, suffixes in ALLOWED_TYPES.items() if suffix in suffixes), None)
    if content_type is None:
        allowed = " ".join(s for suffixes in ALLOWED_TYPES.values() for s in suffixes)
        raise ValidationError(
            {
                "file": [
                    _("%(name)s: files of this type are not accepted (%(allowed)s).")
                    % {"name": name, "allowed": allowed}
                ]
            }
        )
    scan(uploaded)
    return name, content_type


@transaction.atomic
def attach(*, acting_user, request: AssistanceRequest, uploaded, label: str = "", message=None) -> Attachment:
    """Store a file with its SHA-256 (size limit, type allow-list, scanning hook)."""
    request = _lock(request)
    agency_id = _party(acting_user, request)
    if request.status in (RequestStatus.CLOSED, RequestStatus.WITHDRAWN):
        raise Conflict(_("The request is %(status)s.") % {"status": request.get_status_display()})
    name, content_type = _check_upload(uploaded)
    digest = hashlib.sha256()
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    attachment = Attachment(
        request=request,
        message=message,
        label=(label or "").strip()[:100],
        name=name[:200],
        content_type=content_type,
        size=uploaded.size,
        sha256=digest.hexdigest(),
        agency_id=agency_id,
        uploaded_by=_person(acting_user),
    )
    attachment.file.save(f"{attachment.sha256[:16]}-{name[-80:]}", uploaded, save=False)
    attachment.save()
    record_event(
        acting_user=acting_user,
        action="assistance.attachment.add",
        obj=attachment,
        after=snapshot(attachment),
        subject_agency=agency_id,
    )
    return attachment


@transaction.atomic
def post_message(*, acting_user, request: AssistanceRequest, text: str, files=()) -> RequestMessage:
    request = _lock(request)
    agency_id = _party(acting_user, request)
    if request.status == RequestStatus.DRAFT:
        raise Conflict(_("Send the request before writing in its thread."))
    text = _text(text, "text", _("Write a message."))
    message = RequestMessage.objects.create(
        request=request, author=_person(acting_user), agency_id=agency_id, text=text
    )
    for uploaded in files:
        attach(acting_user=acting_user, request=request, uploaded=uploaded, message=message)
    _event(request, EventKind.MESSAGE, acting_user, data={"message": message.pk})
    record_event(
        acting_user=acting_user,
        action="assistance.message.post",
        obj=message,
        after=snapshot(message),
        subject_agency=agency_id,
    )
    other = request.receiver_id if agency_id == request.sender_id else request.sender_id
    _tell(request, [other], _("New message on %(number)s") % {"number": request.number}, text)
    return message


# --------------------------------------------------------------------------- deadlines over time


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Run by the worker: notify requests that turned yellow or red, and escalate overdue ones up the receiving
    agency's parent chain. Idempotent (dedupe keys; a level is applied once)."""
    now = now or timezone.now()
    counts = {"warned": 0, "overdue": 0, "escalated": 0}
    open_ = AssistanceRequest.objects.filter(
        status__in=[RequestStatus.SENT, RequestStatus.RECEIVED, RequestStatus.ACCEPTED, RequestStatus.IN_PROGRESS]
    )
    for request in open_.filter(warn_at__lte=now, due_at__gt=now).select_related("kind").iterator():
        with transaction.atomic():
            counts["warned"] += len(
                notify(
                    _people_of([request.receiver_id], request.assignee),
                    kind="assistance.deadline",
                    title=_("%(number)s is near its deadline (%(due)s)")
                    % {"number": request.number, "due": timezone.localtime(request.due_at).strftime("%Y-%m-%d %H:%M")},
                    url=reverse("assistance:request", args=[request.pk]),
                    dedupe_key=f"assistance.warn.{request.pk}.{request.due_at.isoformat()}",
                )
            )
    for request in open_.filter(due_at__lte=now).select_related("kind", "receiver").iterator():
        with transaction.atomic():
            counts["overdue"] += len(
                notify(
                    _people_of([request.receiver_id, request.sender_id], request.assignee),
                    kind="assistance.overdue",
                    title=_("%(number)s is past its deadline") % {"number": request.number},
                    url=reverse("assistance:request", args=[request.pk]),
                    dedupe_key=f"assistance.overdue.{request.pk}.{request.due_at.isoformat()}",
                )
            )
            counts["escalated"] += _escalate(request, now)
    return counts


def _escalate(request: AssistanceRequest, now: datetime) -> int:
    level = deadlines.escalation_level(request.kind, request, now)
    if level <= request.escalation_level:
        return 0
    request = _lock(request)
    chain, agency = [], request.receiver
    while agency.parent_id and len(chain) < level:
        agency = Agency.objects.get(pk=agency.parent_id)
        chain.append(agency)
    if not chain or (request.escalated_to_id == chain[-1].pk):
        return 0
    before, passed = _row(request), request.escalated_to_id
    request.escalated_to, request.escalation_level = chain[-1], level
    request.save(update_fields=["escalated_to", "escalation_level"])
    _event(request, EventKind.ESCALATED, None, data={"to": chain[-1].pk, "level": level}, also=(passed,))
    _audit(None, "request.escalate", request, before)
    _tell(
        request,
        [chain[-1].pk],
        _("Overdue request escalated to your agency: %(number)s %(title)s") % _title(request),
        _("%(agency)s has not finished it by %(due)s.")
        % {"agency": request.receiver.name, "due": timezone.localtime(request.finish_due_at).strftime("%Y-%m-%d")},
    )
    return 1
