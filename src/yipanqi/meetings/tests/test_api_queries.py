"""The meetings API's lists and details cost a constant number of queries, however many topics and decisions they
show (each topic nests its decisions, each decision its state from the ledger)."""

from __future__ import annotations

import datetime

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yipanqi.core.versioning import forget_local_versions
from yipanqi.meetings import services

from .conftest import at

pytestmark = pytest.mark.django_db

N = 3


def _count(client, url):
    cache.clear()
    forget_local_versions()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), response.json()


def _meeting_with(series, n, *, host_user, partner_user, courts, leaf, approve=True):
    """A meeting of ``n`` topics, each linking a ledger measure and carrying two decisions (one creates a measure
    led by 四川高院 with 重庆高院 as co-owner, one moves the measure's deadline); its minutes approved by both."""
    sichuan, chongqing = courts
    due = timezone.localdate() + datetime.timedelta(days=90)
    with transaction.atomic():
        meeting = services.schedule_meeting(
            acting_user=host_user, series=series, host=sichuan, starts_at=at(timezone.localdate())
        )
        services.open_agenda(acting_user=host_user, meeting=meeting)
        topics = [
            services.propose_topic(
                acting_user=host_user if i % 2 else partner_user, meeting=meeting, title=f"议题{i}", measures=[leaf]
            )
            for i in range(n)
        ]
        services.close_agenda(acting_user=host_user, meeting=meeting)
        services.mark_held(acting_user=host_user, meeting=meeting)
        for i, topic in enumerate(topics):
            services.record_decision(
                acting_user=host_user,
                topic=topic,
                title=f"新举措{meeting.number}-{i}",
                kind="new",
                lead=sichuan,
                co_owners=[chongqing],
                due_on=due,
            )
            services.record_decision(
                acting_user=host_user, topic=topic, title=f"调整期限{i}", kind="update", measures=[leaf], new_due_on=due
            )
            services.set_topic_outcome(acting_user=host_user, topic=topic, outcome="concluded")
    if approve:
        with transaction.atomic():
            services.draft_minutes(acting_user=host_user, meeting=meeting)
            services.submit_minutes(acting_user=host_user, meeting=meeting)
        for liaison in (host_user, partner_user):
            with transaction.atomic():
                services.approve_minutes(acting_user=liaison, meeting=meeting)
    return meeting


@pytest.fixture
def meetings(series, meeting, owner, partner, courts, tree):
    """Meeting 2 with N topics and 2N decisions, meeting 3 with 3N and 6N (both approved: the decisions are in the
    ledger), meeting 4 planned; the fixture's meeting 1 stays planned and empty."""
    build = {"host_user": owner, "partner_user": partner, "courts": courts, "leaf": tree["leaf"]}
    small = _meeting_with(series, N, **build)
    large = _meeting_with(series, 3 * N, **build)
    with transaction.atomic():
        upcoming = services.schedule_meeting(
            acting_user=owner, series=series, host=courts[0], starts_at=at(timezone.localdate())
        )
    return small, large, upcoming


def test_topic_and_decision_lists_do_not_grow(api, owner, meetings):
    small, large, _ = meetings
    client = api(owner)
    for url in ("/api/v1/meeting-topics/?meeting={}", "/api/v1/meeting-decisions/?meeting={}"):
        few, few_body = _count(client, url.format(small.pk))
        many, many_body = _count(client, url.format(large.pk))
        assert few == many, url
        assert len(many_body["results"]) == 3 * len(few_body["results"])
    _, topics = _count(client, f"/api/v1/meeting-topics/?meeting={large.pk}")
    decisions = [d for t in topics["results"] for d in t["decisions"]]
    assert len(decisions) == 6 * N and all(d["state"]["code"] == "in_progress" for d in decisions)
    assert all(d["co_owners"][0]["name"] == "重庆市高级人民法院" for d in decisions if d["kind"] == "new")


def test_meeting_detail_and_minutes_do_not_grow(api, owner, meetings):
    small, large, _ = meetings
    client = api(owner)
    for url in ("/api/v1/meetings/{}/", "/api/v1/meetings/{}/minutes/"):
        few, _ = _count(client, url.format(small.pk))
        many, body = _count(client, url.format(large.pk))
        assert few == many, url
    _, body = _count(client, f"/api/v1/meetings/{large.pk}/")
    assert (body["topic_count"], body["decision_count"], len(body["approvals"])) == (3 * N, 6 * N, 2)


def test_open_decisions_do_not_grow(api, owner, meetings):
    """Meeting 3 opens with meeting 2's 2N decisions, meeting 4 with those and meeting 3's: 8N."""
    _, large, upcoming = meetings
    client = api(owner)
    few, few_body = _count(client, f"/api/v1/meetings/{large.pk}/open-decisions/")
    many, many_body = _count(client, f"/api/v1/meetings/{upcoming.pk}/open-decisions/?page_size=200")
    assert few == many
    assert (few_body["count"], many_body["count"]) == (2 * N, 8 * N)
    assert all(row["state"]["light"] for row in many_body["results"])


def test_meeting_and_series_lists_do_not_grow(api, owner, coordinator, chengyu, courts, meetings):
    client = api(owner)
    one, _ = _count(client, "/api/v1/meetings/?page_size=1")
    all_, body = _count(client, "/api/v1/meetings/?page_size=4")
    assert one == all_ and len(body["results"]) == 4
    with transaction.atomic():
        for i in range(2):
            other = services.create_series(
                acting_user=coordinator,
                title=f"川渝法院座谈会{i}",
                circle=chengyu,
                members=list(courts),
                kind="symposium",
            )
            services.schedule_meeting(acting_user=coordinator, series=other, starts_at=at(timezone.localdate()))
    one, _ = _count(client, "/api/v1/meeting-series/?page_size=1")
    all_, body = _count(client, "/api/v1/meeting-series/?page_size=3")
    assert one == all_ and len(body["results"]) == 3
    assert all(len(s["members"]) == 2 and s["proposed_next_host"] for s in body["results"])
