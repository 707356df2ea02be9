"""Supervision lights (三色督办), computed on read with the Chinese working-day calendar."""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from yipanqi.core.workdays import workdays_between
from yipanqi.ledger import services
from yipanqi.ledger.models import Measure, MeasureStatus
from yipanqi.ledger.selectors import light_for

pytestmark = pytest.mark.django_db
D = datetime.date


def _measure(agreement, **fields):
    defaults = {"number": "x", "title": "x", "is_leaf": True, "path": "9999.", "progress": 0}
    return Measure(agreement=agreement, **{**defaults, **fields})


def test_red_when_overdue(agreement):
    assert light_for(_measure(agreement, due_on=D(2026, 6, 30)), D(2026, 7, 1)) == "red"


def test_done_beats_everything(agreement):
    assert light_for(_measure(agreement, due_on=D(2026, 6, 30), status=MeasureStatus.DONE), D(2026, 7, 1)) == "done"


def test_blue_counts_working_days_over_national_day(agreement, settings):
    """On 2026-09-29 a deadline of 2026-10-12 is 13 calendar days away but few working days (国庆 holidays)."""
    settings.LEDGER_NEAR_WORKDAYS = 5
    measure = _measure(agreement, due_on=D(2026, 10, 12), last_report_at=timezone.now())
    today = D(2026, 9, 29)
    assert workdays_between(today, D(2026, 10, 12)) <= 5
    assert light_for(measure, today) == "blue"
    # the same span in calendar days without a holiday is not near
    plain = _measure(agreement, due_on=D(2026, 11, 25), last_report_at=timezone.now())
    assert light_for(plain, D(2026, 11, 12)) == "green"


def test_yellow_when_behind_plan(agreement, settings):
    settings.LEDGER_BEHIND_MARGIN = 20
    measure = _measure(
        agreement, start_on=D(2026, 1, 1), due_on=D(2026, 12, 31), progress=10, last_report_at=timezone.now()
    )
    assert light_for(measure, D(2026, 7, 1)) == "yellow"  # half the time gone, 10 % done
    measure.progress = 40
    assert light_for(measure, D(2026, 7, 1)) == "green"  # within the margin


def test_yellow_when_a_report_is_missed(agreement):
    today = timezone.localdate()
    measure = _measure(
        agreement,
        start_on=today - datetime.timedelta(days=200),
        due_on=today + datetime.timedelta(days=300),
        progress=90,
        last_report_at=timezone.now() - datetime.timedelta(days=60),
    )
    assert light_for(measure, today) == "yellow"  # monthly cycle, last report two months ago


def test_lights_in_the_api_follow_reports(tree, owner, partner, api):
    leaf = Measure.objects.get(pk=tree["leaf"].pk)
    with transaction.atomic():
        services.update_measure(
            acting_user=None,
            measure=leaf,
            due_on=timezone.localdate() - datetime.timedelta(days=1),
            start_on=timezone.localdate() - datetime.timedelta(days=100),
        )
    body = api(owner).get(f"/api/v1/measures/{leaf.pk}/").json()
    assert body["light"] == "red"
