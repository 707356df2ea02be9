"""Assistance reads: inbox and outbox, the light in SQL, search, the event feed."""

from __future__ import annotations

from datetime import datetime

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


def inbox(principal):
    """Requests the principal's agency receives (or received and forwarded), visible to the principal."""
    agency_id = getattr(principal, "agency_id", None)
    if not agency_id:
        return AssistanceRequest.objects.none()
    received = Q(receiver_id=agency_id) | Q(escalated_to_id=agency_id)
    return AssistanceRequest.objects.visible_to(principal).filter(received).exclude(status=RequestStatus.DRAFT)


def outbox(principal):
    """Requests the principal's agency sends (drafts included), visible to the principal."""
    agency_id = getattr(principal, "agency_id", None)
    if not agency_id:
        return AssistanceRequest.objects.none()
    return AssistanceRequest.objects.visible_to(principal).filter(sender_id=agency_id)


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
