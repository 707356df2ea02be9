"""Assistance reads: inbox and outbox, the light in SQL, search, the event feed."""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.core.cache import cache
from django.db.models import Case, CharField, Q, Value, When

from yipanqi.directory.text import normalise_chinese

from .models import AssistanceRequest, FeedEntry, RequestStatus

RUNNING = (RequestStatus.SENT, RequestStatus.RECEIVED, RequestStatus.ACCEPTED, RequestStatus.IN_PROGRESS)


def light_case(now: datetime) -> Case:
    """``deadlines.light`` as SQL over the stored ``due_at`` / ``warn_at``."""
    return Case(
        When(status=RequestStatus.PAUSED, then=Value("paused")),
        When(~Q(status__in=RUNNING) | Q(due_at__isnull=True), then=Value("")),
        When(due_at__lt=now, then=Value("red")),
        When(warn_at__lte=now, then=Value("yellow")),
        default=Value("green"),
        output_field=CharField(),
    )


def light_filter(light: str, now: datetime) -> Q:
    """Requests whose light is ``light`` now, as an indexable filter."""
    running = Q(status__in=RUNNING, due_at__isnull=False)
    if light == "paused":
        return Q(status=RequestStatus.PAUSED)
    if light == "red":
        return running & Q(due_at__lt=now)
    if light == "yellow":
        return running & Q(due_at__gte=now, warn_at__lte=now)
    if light == "green":
        return running & Q(due_at__gte=now) & (Q(warn_at__isnull=True) | Q(warn_at__gt=now))
    return Q(pk__in=[])


OPEN = (*RUNNING, RequestStatus.PAUSED)  # the requests that can carry a light


def inbox(principal):
    """收文: requests sent to the principal's agency, visible to the principal.

    Requests escalated to the agency as the receiver's superior are not here but in ``escalated``: the superior
    supervises them (督办) and does not handle them. Keeping the inbox to ``receiver = agency`` lets PostgreSQL count
    and light it from the covering index ``request_inbox_idx`` alone (an OR of two columns would read the table)."""
    agency_id = getattr(principal, "agency_id", None)
    if not agency_id:
        return AssistanceRequest.objects.none()
    return (
        AssistanceRequest.objects.visible_to(principal)
        .filter(receiver_id=agency_id)
        .exclude(status=RequestStatus.DRAFT)
    )


def escalated(principal):
    """督办: overdue requests escalated to the principal's agency as a superior of their receiver."""
    agency_id = getattr(principal, "agency_id", None)
    if not agency_id:
        return AssistanceRequest.objects.none()
    return (
        AssistanceRequest.objects.visible_to(principal)
        .filter(escalated_to_id=agency_id)
        .exclude(status=RequestStatus.DRAFT)
    )


def outbox(principal):
    """Requests the principal's agency sends (drafts included), visible to the principal."""
    agency_id = getattr(principal, "agency_id", None)
    if not agency_id:
        return AssistanceRequest.objects.none()
    return AssistanceRequest.objects.visible_to(principal).filter(sender_id=agency_id)


BOX_COUNT_TTL = 120  # seconds; see box_count


def box_count(queryset, agency_id: int) -> int:
    """``queryset.count()`` for a box (inbox, outbox, escalated) of ``agency_id``, cached until the agency's feed
    moves on.

    A busy court's inbox holds tens of thousands of requests, and counting them costs more than the rest of the
    page (bench/README.md, bench_assistance). Every change to a request that can move it into or out of an agency's
    box writes an event into that agency's feed (``services._event``), so the newest feed entry versions the count.
    The key is the count's SQL with its parameters: who asks (visible_to), which box and which filters are all in
    it. A count taken while another transaction is committing can be one off until the next event or the TTL; the
    rows themselves are always read live."""
    sql, params = queryset.query.sql_with_params()
    version = FeedEntry.objects.filter(agency_id=agency_id).order_by("-id").values_list("id", flat=True).first()
    digest = hashlib.sha256(repr((sql, params, version)).encode()).hexdigest()
    key = f"assistance:box-count:{digest}"
    count = cache.get(key)
    if count is None:
        count = queryset.count()
        cache.set(key, count, BOX_COUNT_TTL)
    return count


def search(queryset, term: str):
    """By number, case number (案号), party names or subject; traditional Chinese is normalised first."""
    raw = (term or "").strip()
    if not raw:
        return queryset
    normalised = normalise_chinese(raw).strip()
    # Normalising turns the full-width brackets of a case number (（2026）川执123号) into ASCII ones: try both.
    q = Q(pk__in=[])
    for value in {raw, normalised, normalised.replace("(", "（").replace(")", "）")}:
        q |= Q(number__icontains=value) | Q(case_number__icontains=value) | Q(parties__icontains=value)
        q |= Q(title__icontains=value)
    return queryset.filter(q)


def feed(agency_id: int, after: int = 0, limit: int = 100):
    """The agency's events after the cursor ``after`` (a FeedEntry id), oldest first: poll with the last id seen."""
    return (
        FeedEntry.objects.filter(agency_id=agency_id, id__gt=after)
        .select_related("event__request__kind", "event__actor_agency")
        .order_by("id")[:limit]
    )
