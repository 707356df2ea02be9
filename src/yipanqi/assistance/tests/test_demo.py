"""The demo requests: loaded through the services, idempotent, in every state and kind, with lights of every colour,
escalated 委托执行 cases, and histories moved into the past that the deadline engine agrees with."""

from __future__ import annotations

import copy
import datetime
import hashlib
import io
import time
from collections import Counter

import pytest
from django.core.management import call_command
from django.utils import timezone

from yipanqi.assistance import deadlines, selectors, services
from yipanqi.assistance.analytics import Filters, on_time, region_pairs, requests_in
from yipanqi.assistance.demo import ROUTES, demo_requests, load_assistance_demo
from yipanqi.assistance.models import (
    AssistanceRequest,
    EventKind,
    Receipt,
    RequestEvent,
    RequestHop,
    RequestKind,
    RequestStatus,
    Urgency,
)
from yipanqi.core.models import AuditEvent
from yipanqi.core.testing.shared import shared_writes
from yipanqi.directory.models import Circle, User

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _counts():
    return {
        "requests": AssistanceRequest.objects.count(),
        "events": RequestEvent.objects.count(),
        "hops": RequestHop.objects.count(),
        "receipts": Receipt.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def _load():
    before = _counts()
    started = time.perf_counter()
    created = load_assistance_demo()
    print(f"assistance demo loaded in {time.perf_counter() - started:.1f} s")
    return before, created, _counts()


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo requests, loaded once for the tests of this module (each test's own writes still roll back after it).

    Loading takes seconds, reading milliseconds."""
    with shared_writes(django_db_blocker, tmp_path_factory.mktemp("media"), _load) as counts:
        yield counts


def test_loads_once_and_a_second_run_changes_nothing(loaded):
    before, created, after = loaded
    assert _counts() == after
    assert created["requests"] == sum(route.count for route in ROUTES) == after["requests"] - before["requests"]
    assert 250 <= created["requests"] <= 350
    assert created["escalated"] >= 3
    assert after["events"] > 4 * created["requests"] and after["audit"] > before["audit"]

    assert load_assistance_demo() == {"requests": 0, "escalated": 0}
    out = io.StringIO()
    call_command("demo", "--quiet-logins", stdout=out)  # the command loads the requests too: nothing new
    assert "演示请求已存在，未改动" in out.getvalue()
    assert {key: value for key, value in _counts().items() if key != "audit"} == {
        key: value for key, value in after.items() if key != "audit"
    }
    assert demo_requests().count() == created["requests"]


def test_every_state_kind_and_light_with_histories_in_the_past(loaded):
    now = timezone.now()
    requests = list(demo_requests().select_related("kind", "receiver", "escalated_to"))

    # Every status and every kind; every light; urgent ones.
    assert set(Counter(r.status for r in requests)) == set(RequestStatus.values)
    assert {r.kind.code for r in requests} == set(RequestKind.objects.values_list("code", flat=True))
    lights = Counter(deadlines.light(r, now) for r in requests)
    assert {"red", "yellow", "green", "paused"} <= set(lights)
    assert lights["red"] >= 10 and lights["yellow"] >= 5
    assert sum(r.urgency == Urgency.URGENT for r in requests) >= 10

    # 委托执行 left unfinished six months after acceptance went up to the receiving court's superior.
    escalated = [r for r in requests if r.escalated_to_id]
    assert len(escalated) >= 3
    for request in escalated:
        assert request.kind.code == "entrusted_execution" and request.status == RequestStatus.IN_PROGRESS
        assert request.escalated_to_id == request.receiver.parent_id and request.escalation_level >= 1
        assert request.accepted_at < now - datetime.timedelta(days=180) and request.finish_due_at < now
    assert {r.escalated_to.name for r in escalated} >= {"四川省高级人民法院", "重庆市高级人民法院"}

    # Returns with reasons, forwarding chains, extensions asked and granted, pauses, withdrawals, reopening.
    by_id = {r.pk: r for r in requests}
    returned = RequestEvent.objects.filter(request__in=by_id, kind=EventKind.RETURNED)
    assert returned.count() >= 15 and all(event.data["reason"] for event in returned)
    assert all(r.return_reason for r in requests if r.status == RequestStatus.RETURNED)
    chains = Counter(RequestHop.objects.filter(request__in=by_id).values_list("request_id", flat=True))
    forwarded = [by_id[pk] for pk, hops in chains.items() if hops >= 2 and by_id[pk].status != RequestStatus.DRAFT]
    assert any(RequestHop.objects.filter(request=r).exclude(reason="").exists() for r in forwarded)
    assert any(r.extension_asked_days for r in requests) and any(r.extended_days for r in requests)
    for kind in (EventKind.REOPENED, EventKind.RESUMED, EventKind.EXTENSION_REFUSED, EventKind.MESSAGE):
        assert RequestEvent.objects.filter(request__in=by_id, kind=kind).exists(), kind

    # The histories lie in the past, step after step, and the stored clocks are the deadline engine's.
    events = {}
    for event in RequestEvent.objects.filter(request__in=by_id).order_by("request_id", "id"):
        events.setdefault(event.request_id, []).append(event)
    for request in requests:
        moments = [event.at for event in events[request.pk]]
        assert moments == sorted(moments) and moments[-1] <= now, request.idempotency_key
        assert request.created_at == moments[0]
        steps = [request.sent_at, request.received_at, request.accepted_at, request.answered_at, request.closed_at]
        present = [moment for moment in steps if moment is not None]
        assert present == sorted(present), request.idempotency_key
        if request.sent_at:
            sends = [e.at for e in events[request.pk] if e.kind in (EventKind.SENT, EventKind.FORWARDED)]
            last = max(sends)
            if request.status == RequestStatus.SENT:
                assert request.sign_due_at == deadlines.due(last, request.kind.sign_within, request.kind.sign_unit)
        recomputed = copy.copy(request)
        deadlines.set_current(request.kind, recomputed)
        assert (recomputed.due_at, recomputed.warn_at) == (request.due_at, request.warn_at)
    oldest = now - datetime.timedelta(days=330)
    assert not AssistanceRequest.objects.filter(pk__in=by_id, created_at__lt=oldest).exists()

    # Receipts carry the moved moment, and their digest is that of their contents.
    for receipt in Receipt.objects.filter(request__in=by_id).select_related("event"):
        assert receipt.payload["at"] == receipt.event.at.isoformat()
        assert receipt.digest == hashlib.sha256(services.canonical(receipt.payload)).hexdigest()


def test_the_demo_people_have_lively_inboxes_and_circles_full_of_figures(loaded):
    now = timezone.now()
    people = {u.username: u for u in User.objects.filter(username__in=["sc_court", "cq_court", "cd_court"])}
    for name in ("sc_court", "cq_court"):
        user = people[name]
        inbox, outbox = list(selectors.inbox(user)), list(selectors.outbox(user))
        assert len(inbox) >= 20 and len(outbox) >= 20, name
        inbox_lights = Counter(deadlines.light(r, now) for r in inbox)
        assert inbox_lights["red"] and inbox_lights["green"], name
        assert any(r.urgency == Urgency.URGENT for r in inbox + outbox), name
        escalated = list(selectors.escalated(user))  # overdue 委托执行 of their intermediate courts
        assert escalated and all(r.escalated_to_id == user.agency_id for r in escalated), name
        assert not any(r.escalated_to_id == user.agency_id and r.receiver_id != user.agency_id for r in inbox), name
        # They did their own agency's steps themselves.
        sent = RequestEvent.objects.filter(kind=EventKind.SENT, request__sender_id=user.agency_id)
        assert set(sent.values_list("actor__username", flat=True)) == {name}
    assert selectors.inbox(people["cd_court"]).exists() and selectors.outbox(people["cd_court"]).exists()
    # Agencies without a demo person act as the system.
    others = RequestEvent.objects.filter(kind=EventKind.SENT, request__sender__name="四川省公安厅")
    assert others.exists() and not others.exclude(actor=None).exists()

    # Each circle's coordinator sees flows both ways between its provinces, and agencies that differ in pace.
    for slug, username in (("chengyu", "chengyu_coord"), ("yangtze-delta", "yrd_coord"), ("jingjinji", "jjj_coord")):
        coordinator = User.objects.get(username=username)
        queryset = requests_in(coordinator, Filters(circle=Circle.objects.get(slug=slug)))
        pairs = region_pairs(queryset)
        assert len(pairs.pairs) >= 2 and len(pairs.senders) >= 2, slug
        rates = {row["finish_rate"] for row in on_time(queryset, now) if row["finish_rate"] is not None}
        assert len(rates) >= 2, slug
