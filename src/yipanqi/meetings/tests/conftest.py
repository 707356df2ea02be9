"""A 成渝 court series for the meeting tests: 四川高院 (owner, sc_court) and 重庆高院 (partner, cq_court), with the
ledger tests' framework agreement as its standing agreement. The host of meeting 1 is 四川高院."""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from yipanqi.ledger.tests.conftest import agreement, courts, tree  # noqa: F401  (shared fixtures)
from yipanqi.meetings import services


def at(day: datetime.date, hour: int = 9) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@pytest.fixture
def series(coordinator, chengyu, courts, agreement):  # noqa: F811
    with transaction.atomic():
        return services.create_series(
            acting_user=coordinator,
            title="川渝高级法院执行协作联席会议",
            kind="joint",
            circle=chengyu,
            members=list(courts),
            standing_agreement=agreement,
            rotation_rule="fixed",
        )


@pytest.fixture
def meeting(coordinator, series):
    with transaction.atomic():
        return services.schedule_meeting(
            acting_user=coordinator,
            series=series,
            starts_at=at(timezone.localdate() + datetime.timedelta(days=20)),
            place="成都",
        )


def run_to_held(meeting, host_user, partner_user, *, topics=("执行协作", "财产查控")):
    """Open the agenda, let both sides propose, close it and record the meeting as held; returns the topics."""
    made = []
    with transaction.atomic():
        services.open_agenda(acting_user=host_user, meeting=meeting)
    for i, title in enumerate(topics):
        who = host_user if i % 2 == 0 else partner_user
        with transaction.atomic():
            made.append(services.propose_topic(acting_user=who, meeting=meeting, title=title))
    with transaction.atomic():
        services.close_agenda(acting_user=host_user, meeting=meeting)
        services.mark_held(acting_user=host_user, meeting=meeting)
    return made
