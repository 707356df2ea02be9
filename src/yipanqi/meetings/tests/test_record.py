"""Entering a meeting afterwards: ``record_held_meeting`` (a meeting that took place, from its minutes or a report)
and ``record_topic`` (a topic discussed without being on the agenda, or entered from the minutes)."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from yipanqi.core.errors import Conflict
from yipanqi.core.models import AuditEvent
from yipanqi.meetings import services
from yipanqi.meetings.models import Meeting, MeetingStatus, Topic, TopicOutcome
from yipanqi.meetings.tests.conftest import at, run_to_held

pytestmark = pytest.mark.django_db


def past(days: int = 30) -> datetime.datetime:
    return at(timezone.localdate() - datetime.timedelta(days=days))


def test_record_held_meeting_as_coordinator(coordinator, series, courts):
    sichuan, chongqing = courts
    meeting = services.record_held_meeting(
        acting_user=coordinator, series=series, starts_at=past(), host=chongqing, place="重庆"
    )
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.HELD
    assert meeting.held_at is not None
    assert meeting.number == 1
    assert meeting.host == chongqing
    assert set(meeting.participant_agencies.all()) == {sichuan, chongqing}
    assert AuditEvent.objects.filter(action="meetings.meeting.record_held", object_id=str(meeting.pk)).exists()


def test_record_held_meeting_numbers_after_the_last(coordinator, series, meeting, courts):
    recorded = services.record_held_meeting(acting_user=coordinator, series=series, starts_at=past(), host=courts[0])
    assert recorded.number == meeting.number + 1


def test_record_held_meeting_by_the_host_liaison(owner, series, courts):
    meeting = services.record_held_meeting(acting_user=owner, series=series, starts_at=past(), host=courts[0])
    assert meeting.status == MeetingStatus.HELD


@pytest.mark.parametrize("who", ["partner", "outsider"])
def test_record_held_meeting_refused_to_others(request, who, series, courts):
    """The partner is a member but not the host it names; the outsider is no member."""
    user = request.getfixturevalue(who)
    with pytest.raises(PermissionError):
        services.record_held_meeting(acting_user=user, series=series, starts_at=past(), host=courts[0])
    assert not Meeting.objects.filter(series=series).exists()


def test_record_held_meeting_refuses_the_future(coordinator, series, courts):
    future = at(timezone.localdate() + datetime.timedelta(days=3))
    with pytest.raises(ValidationError) as caught:
        services.record_held_meeting(acting_user=coordinator, series=series, starts_at=future, host=courts[0])
    assert _("A meeting recorded as held must have taken place already.") in caught.value.message_dict["starts_at"]
    assert not Meeting.objects.filter(series=series).exists()


def test_record_held_meeting_refuses_a_host_outside_the_series(coordinator, series, outsider):
    with pytest.raises(ValidationError):
        services.record_held_meeting(acting_user=coordinator, series=series, starts_at=past(), host=outsider.agency)
    assert not Meeting.objects.filter(series=series).exists()


def test_record_topic_and_decision_on_a_recorded_meeting(coordinator, series, courts):
    meeting = services.record_held_meeting(acting_user=coordinator, series=series, starts_at=past(), host=courts[0])
    topic = services.record_topic(acting_user=coordinator, meeting=meeting, title="执行案件协作", agency=courts[1])
    assert topic.outcome == TopicOutcome.CONCLUDED
    assert topic.position == 1
    assert topic.proposed_by_agency == courts[1]
    decision = services.record_decision(acting_user=coordinator, topic=topic, title="建立执行线索移送机制")
    assert decision.meeting == meeting
    assert AuditEvent.objects.filter(action="meetings.topic.record", object_id=str(topic.pk)).exists()


def test_record_topic_is_idempotent(owner, series, courts):
    meeting = services.record_held_meeting(acting_user=owner, series=series, starts_at=past(), host=courts[0])
    first = services.record_topic(acting_user=owner, meeting=meeting, title="临时动议", idempotency_key="k-1")
    again = services.record_topic(acting_user=owner, meeting=meeting, title="临时动议", idempotency_key="k-1")
    assert again.pk == first.pk
    assert Topic.objects.filter(meeting=meeting).count() == 1


def test_record_topic_after_the_agenda_closed(owner, partner, meeting):
    run_to_held(meeting, owner, partner, topics=("执行协作",))
    topic = services.record_topic(acting_user=owner, meeting=meeting, title="临时动议：联合督办")
    assert topic.position == 2


def test_record_topic_refused_while_the_agenda_is_open(owner, meeting):
    services.open_agenda(acting_user=owner, meeting=meeting)
    with pytest.raises(Conflict):
        services.record_topic(acting_user=owner, meeting=meeting, title="临时动议")
    assert not meeting.topics.exists()


@pytest.mark.parametrize("who", ["partner", "outsider"])
def test_record_topic_refused_to_those_who_do_not_run_the_meeting(request, who, owner, series, courts):
    meeting = services.record_held_meeting(acting_user=owner, series=series, starts_at=past(), host=courts[0])
    with pytest.raises(PermissionError):
        services.record_topic(acting_user=request.getfixturevalue(who), meeting=meeting, title="临时动议")
    assert not meeting.topics.exists()


def test_record_topic_unfinished_goes_to_the_next_meeting(coordinator, series, courts):
    held = services.record_held_meeting(acting_user=coordinator, series=series, starts_at=past(), host=courts[0])
    upcoming = services.schedule_meeting(
        acting_user=coordinator, series=series, starts_at=at(timezone.localdate() + datetime.timedelta(days=10))
    )
    topic = services.record_topic(
        acting_user=coordinator, meeting=held, title="跨域执行协作", outcome=TopicOutcome.UNFINISHED
    )
    carried = Topic.objects.get(carried_from=topic)
    assert carried.meeting == upcoming


def test_record_topic_refuses_a_bad_outcome(coordinator, series, courts):
    meeting = services.record_held_meeting(acting_user=coordinator, series=series, starts_at=past(), host=courts[0])
    with pytest.raises(ValidationError):
        services.record_topic(acting_user=coordinator, meeting=meeting, title="议题", outcome="withdrawn")
    assert not meeting.topics.exists()
