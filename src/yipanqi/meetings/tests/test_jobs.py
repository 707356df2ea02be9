"""The meetings' daily job: agendas close after their deadline; hosts are reminded of an agenda not yet open."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from yipanqi.core.models import Notification
from yipanqi.meetings import jobs, services
from yipanqi.meetings.models import MeetingStatus

pytestmark = pytest.mark.django_db


def test_an_agenda_closes_the_day_after_its_deadline_once(meeting, owner, partner):
    today = timezone.localdate()
    services.update_meeting(acting_user=owner, meeting=meeting, agenda_deadline=today)
    services.open_agenda(acting_user=owner, meeting=meeting)
    assert jobs.close_due_agendas(today).startswith("0 agendas closed")
    assert jobs.close_due_agendas(today + datetime.timedelta(days=1)).startswith("1 agendas closed")
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.AGENDA_CLOSED
    assert Notification.objects.filter(recipient=partner, kind="meetings.agenda_closed").count() == 1
    assert jobs.close_due_agendas(today + datetime.timedelta(days=2)).startswith("0 agendas closed")


def test_the_host_is_reminded_once_of_an_agenda_not_open_a_week_before(meeting, owner, partner):
    day = timezone.localtime(meeting.starts_at).date() - datetime.timedelta(days=jobs.REMIND_DAYS)
    jobs.close_due_agendas(day - datetime.timedelta(days=1))
    jobs.close_due_agendas(day)
    jobs.close_due_agendas(day)
    reminders = Notification.objects.filter(kind="meetings.agenda_reminder")
    assert list(reminders.values_list("recipient__username", flat=True)) == ["sc_court"]
