"""The meetings' daily job, run by the worker (docs/worker.md): an agenda closes by itself after the day its topics
were due (``agenda_deadline``), with the usual notification to the members' liaisons; and the host is reminded a
week before a meeting whose agenda is still not open."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import override

from yipanqi.core.notifications import notify
from yipanqi.core.scheduling import daily_job
from yipanqi.ledger.selectors import day_bounds

from . import selectors, services
from .models import Meeting, MeetingStatus

REMIND_DAYS = 7


@daily_job("meetings.agenda")
def close_due_agendas(day: date) -> str:
    closed = reminded = 0
    with override(settings.LANGUAGE_CODE):
        for meeting in Meeting.objects.filter(status=MeetingStatus.AGENDA_OPEN, agenda_deadline__lt=day):
            with transaction.atomic():
                services.close_agenda(acting_user=None, meeting=meeting)
            closed += 1
        soon = day_bounds(day, day + timedelta(days=REMIND_DAYS))
        for meeting in Meeting.objects.filter(
            status=MeetingStatus.PLANNED, starts_at__gte=soon[0], starts_at__lt=soon[1]
        ).select_related("series"):
            with transaction.atomic():
                reminded += len(
                    notify(
                        selectors.liaisons_of([meeting.host_id]),
                        kind="meetings.agenda_reminder",
                        title=_("%(meeting)s is within a week and its agenda is not open yet")
                        % {"meeting": meeting.display_title},
                        url=services.meeting_url(meeting),
                        dedupe_key=f"meetings.agenda_reminder.{meeting.pk}",
                    )
                )
    return f"{closed} agendas closed, {reminded} hosts reminded"
