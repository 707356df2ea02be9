"""Races between real connections (PostgreSQL): the row locks and constraints the services rely on, under load.

Each test starts its threads together at a barrier, every thread on its own database connection, and then checks
what the database holds — not what one thread believed. SQLite serialises writers, so the races cannot happen there.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from yipanqi.assistance import services
from yipanqi.assistance.models import AssistanceRequest, EventKind, Receipt, RequestEvent, RequestKind, RequestStatus
from yipanqi.core.errors import Conflict
from yipanqi.directory.models import Agency, Region, Role, RoleGrant, User

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks need PostgreSQL; SQLite serialises writers"
    ),
    pytest.mark.django_db(transaction=True),
]


AGENCIES_OF_ONE_REGION = 6


def _cast():
    """Own data: transactional tests start from whatever the database holds (a flush may have removed the kinds the
    data migration loads) and leave it flushed. Two courts of one region; two handlers at the receiving court."""
    region, _ = Region.objects.get_or_create(
        code="990100", defaults={"name": "测试市", "kind": "地级市", "level": "city", "path": "/990100/"}
    )
    sender, receiver = (
        Agency.objects.create(name=name, type="court", level="city", region=region)
        for name in ("并发测试发函法院", "并发测试收函法院")
    )
    kind, _ = RequestKind.objects.get_or_create(
        code="concurrency-test",
        defaults={"name": "并发测试事项", "sender_types": ["court"], "receiver_types": ["court"]},
    )
    people = {}
    for username, agency in (("writer", sender), ("taker1", receiver), ("taker2", receiver)):
        person = User.objects.create(username=f"concurrent-{username}", agency=agency)
        RoleGrant.objects.create(user=person, role=Role.HANDLER)
        people[username] = person
    return sender, receiver, kind, people


def _draft(person, kind, sender, receiver, title="并发测试函"):
    return services.create_request(acting_user=person, kind=kind, sender=sender, receiver=receiver, title=title)


def _race(jobs):
    """Run each ``(callable, args)`` in its own thread, all released at once; return (results, errors) by job."""
    barrier = threading.Barrier(len(jobs))
    results, errors = [None] * len(jobs), [None] * len(jobs)

    def run(index, fn, args):
        try:
            barrier.wait(timeout=10)
            results[index] = fn(*args)
        except Exception as exc:  # collected and asserted on by the test
            errors[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, fn, args)) for i, (fn, args) in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck (lock never released?)"
    return results, errors


def test_two_people_accepting_at_once_one_wins():
    sender, receiver, kind, people = _cast()
    request = services.send(acting_user=people["writer"], request=_draft(people["writer"], kind, sender, receiver))

    def accept(username):
        person = User.objects.get(username=f"concurrent-{username}")
        return services.accept(acting_user=person, request=AssistanceRequest.objects.get(pk=request.pk))

    results, errors = _race([(accept, ("taker1",)), (accept, ("taker2",))])

    winners = [i for i, result in enumerate(results) if result is not None]
    assert len(winners) == 1, (results, errors)
    loser = 1 - winners[0]
    assert isinstance(errors[loser], Conflict), errors[loser]
    request.refresh_from_db()
    assert request.status == RequestStatus.ACCEPTED
    assert request.assignee.username == f"concurrent-taker{winners[0] + 1}"
    assert RequestEvent.objects.filter(request=request, kind=EventKind.ACCEPTED).count() == 1
    assert Receipt.objects.filter(request=request, kind=EventKind.ACCEPTED).count() == 1


def test_concurrent_sends_by_one_agency_get_distinct_numbers():
    sender, receiver, kind, people = _cast()
    drafts = [_draft(people["writer"], kind, sender, receiver, title=f"并发测试函{i}") for i in range(4)]

    def send(pk):
        person = User.objects.get(username="concurrent-writer")
        return services.send(acting_user=person, request=AssistanceRequest.objects.get(pk=pk)).number

    results, errors = _race([(send, (draft.pk,)) for draft in drafts])

    assert errors == [None] * 4
    stored = sorted(AssistanceRequest.objects.filter(sender=sender).values_list("number", flat=True))
    assert sorted(results) == stored
    assert len(set(stored)) == 4
    assert all(number.startswith("990100-") for number in stored)
    assert AssistanceRequest.objects.filter(sender=sender, status=RequestStatus.SENT).count() == 4


def test_concurrent_sends_by_agencies_of_one_region_get_distinct_numbers():
    """Numbers go by the sender's region code, so agencies of one region draw from one counter."""
    sender, receiver, kind, _people = _cast()
    drafts = []
    for i in range(AGENCIES_OF_ONE_REGION):
        neighbour = Agency.objects.create(name=f"并发测试邻院{i}", type="court", level="city", region=sender.region)
        writer = User.objects.create(username=f"concurrent-neighbour{i}", agency=neighbour)
        RoleGrant.objects.create(user=writer, role=Role.HANDLER)
        drafts.append(_draft(writer, kind, neighbour, receiver, title=f"并发测试函{i}"))

    def send(pk):
        request = AssistanceRequest.objects.get(pk=pk)
        person = User.objects.get(agency_id=request.sender_id)
        return services.send(acting_user=person, request=request).number

    results, errors = _race([(send, (draft.pk,)) for draft in drafts])

    assert errors == [None] * AGENCIES_OF_ONE_REGION
    assert len(set(results)) == AGENCIES_OF_ONE_REGION


def test_a_retried_create_from_two_threads_makes_one_request():
    sender, receiver, kind, _people = _cast()

    def create():
        person = User.objects.get(username="concurrent-writer")
        return services.create_request(
            acting_user=person,
            kind=kind,
            sender=Agency.objects.get(pk=sender.pk),
            receiver=receiver,
            title="重试的协查函",
            idempotency_key="retry-7f3a",
        ).pk

    results, errors = _race([(create, ()), (create, ())])

    assert errors == [None, None]
    assert AssistanceRequest.objects.filter(sender=sender, idempotency_key="retry-7f3a").count() == 1
    assert results[0] == results[1] == AssistanceRequest.objects.get(sender=sender).pk
    assert RequestEvent.objects.filter(request_id=results[0], kind=EventKind.CREATED).count() == 1
