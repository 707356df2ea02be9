"""Supervision lights (三色督办) and the reporting calendar: transition dates stored on write, lights read on any day
with the Chinese working-day calendar (节假日 and 调休)."""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from yipanqi.core.workdays import workdays_between
from yipanqi.ledger import lights, selectors, services
from yipanqi.ledger.models import Measure, MeasureOwner, MeasureStatus

pytestmark = pytest.mark.django_db
D = datetime.date


def _light(day, **dates):
    return lights.own_schedule(
        **{"progress": 0, "start_on": None, "due_on": None, "report_due": None, **dates}
    ).light_on(day)


# --------------------------------------------------------------------------- the rules, as pure functions


def test_red_from_the_day_after_the_deadline():
    assert _light(D(2026, 6, 30), due_on=D(2026, 6, 30)) == "blue"
    assert _light(D(2026, 7, 1), due_on=D(2026, 6, 30)) == "red"


def test_done_beats_everything():
    schedule = lights.own_schedule(progress=0, start_on=None, due_on=D(2026, 6, 30), report_due=None)
    assert schedule.light_on(D(2026, 7, 1), done=True) == "done"


def test_blue_counts_working_days_over_national_day(settings):
    """On 2026-09-29 a deadline of 2026-10-12 is 13 calendar days away but few working days (国庆 holidays)."""
    settings.LEDGER_NEAR_WORKDAYS = 5
    assert workdays_between(D(2026, 9, 29), D(2026, 10, 12)) <= 5
    assert _light(D(2026, 9, 29), due_on=D(2026, 10, 12)) == "blue"
    # the same span in calendar days without a holiday is not near
    assert _light(D(2026, 11, 12), due_on=D(2026, 11, 25)) == "green"


def test_blue_from_is_the_first_day_within_the_working_days(settings):
    settings.LEDGER_NEAR_WORKDAYS = 3
    due = D(2026, 10, 12)  # Monday after 国庆 (10-01…10-07 off, Saturday 10-10 a 调休 working day)
    first = lights.near_from(due)
    assert workdays_between(first, due) <= 3 < workdays_between(first - datetime.timedelta(days=1), due)


def test_a_make_up_saturday_counts_as_a_working_day(settings):
    """2026-02-14 (Saturday) is a 调休 working day before 春节: it counts towards "within N working days"."""
    settings.LEDGER_NEAR_WORKDAYS = 1
    due = D(2026, 2, 14)
    assert _light(D(2026, 2, 13), due_on=due) == "blue"  # Friday: one working day (the Saturday) to go
    assert _light(D(2026, 2, 12), due_on=due) == "green"  # Thursday: two working days to go


def test_yellow_when_behind_plan(settings):
    settings.LEDGER_BEHIND_MARGIN = 20
    dates = {"start_on": D(2026, 1, 1), "due_on": D(2026, 12, 31)}
    assert _light(D(2026, 7, 1), progress=10, **dates) == "yellow"  # half the time gone, 10 % done
    assert _light(D(2026, 7, 1), progress=40, **dates) == "green"  # within the margin
    assert lights.behind_from(90, **dates) is None  # 90 % + 20 never trails before the deadline


def test_behind_from_is_the_first_day_progress_trails(settings):
    settings.LEDGER_BEHIND_MARGIN = 20
    start, due = D(2026, 1, 1), D(2026, 1, 11)  # a ten-day span: each day is 10 points
    first = lights.behind_from(10, start, due)  # 10 % + 20 allow 3 days: behind once 4 days have passed
    assert first == D(2026, 1, 5)
    assert _light(first - datetime.timedelta(days=1), progress=10, start_on=start, due_on=due) == "blue"  # near
    assert _light(first, progress=10, start_on=start, due_on=due) == "yellow"


def test_a_parent_takes_the_most_urgent_light_of_its_children():
    red_child = lights.own_schedule(progress=50, start_on=None, due_on=D(2026, 3, 1), report_due=None)
    green_child = lights.own_schedule(progress=50, start_on=None, due_on=D(2026, 12, 1), report_due=None)
    own = lights.own_schedule(progress=50, start_on=None, due_on=D(2026, 12, 31), report_due=None)
    parent = lights.merge(own, [red_child, green_child])
    assert parent.light_on(D(2026, 6, 1)) == "red"
    assert own.light_on(D(2026, 6, 1)) == "green"


def test_monthly_reporting_calendar(settings):
    settings.LEDGER_REPORT_GRACE_DAYS = 5
    calendar = lights.Calendar("monthly")
    assert calendar.period(D(2026, 2, 14)) == (D(2026, 2, 1), D(2026, 2, 28))
    # never reported: the month it started is due five days after it ends
    assert calendar.report_due(last_report=None, since=D(2026, 1, 15)) == D(2026, 2, 5)
    # a report on 3 February counts for January (within the grace days): February's is due on 5 March
    assert calendar.report_due(last_report=D(2026, 2, 3), since=D(2026, 1, 1)) == D(2026, 3, 5)
    # a report on 20 February counts for February: March's is due on 5 April
    assert calendar.report_due(last_report=D(2026, 2, 20), since=D(2026, 1, 1)) == D(2026, 4, 5)


def test_quarterly_and_custom_calendars(settings):
    settings.LEDGER_REPORT_GRACE_DAYS = 0
    quarterly = lights.Calendar("quarterly")
    assert quarterly.period(D(2026, 11, 21)) == (D(2026, 10, 1), D(2026, 12, 31))
    assert quarterly.report_due(last_report=D(2026, 5, 1), since=D(2026, 1, 1)) == D(2026, 9, 30)
    every_ten = lights.Calendar("custom", 10, D(2026, 3, 1))
    assert every_ten.period(D(2026, 3, 15)) == (D(2026, 3, 11), D(2026, 3, 20))
    assert every_ten.period(D(2026, 2, 25)) == (D(2026, 2, 19), D(2026, 2, 28))  # before the anchor too
    assert [row[2] for row in every_ten.upcoming(D(2026, 3, 15), 2)] == [D(2026, 3, 20), D(2026, 3, 30)]


# --------------------------------------------------------------------------- stored by the services


def _fresh(measure):
    return Measure.objects.get(pk=measure.pk)


def test_services_store_the_transition_dates(tree, coordinator):
    today = timezone.localdate()
    with transaction.atomic():
        services.update_measure(
            acting_user=coordinator,
            measure=tree["leaf"],
            start_on=today - datetime.timedelta(days=100),
            due_on=today - datetime.timedelta(days=1),
        )
    leaf, area = _fresh(tree["leaf"]), _fresh(tree["area"])
    assert leaf.red_from == today
    assert selectors.light_for(leaf) == "red"
    assert selectors.light_for(area) == "red"  # the area shows its overdue measure
    assert Measure.objects.filter(selectors.light_filter("red", today), pk__in=[leaf.pk, area.pk]).count() == 2
    annotated = Measure.objects.filter(pk=area.pk).annotate(light=selectors.light_case(today)).get()
    assert annotated.light == "red"


def test_a_missed_report_turns_the_share_and_the_measure_yellow(tree, owner, settings):
    settings.LEDGER_REPORT_GRACE_DAYS = 5
    today = timezone.localdate()
    with transaction.atomic():
        services.update_measure(
            acting_user=None,
            measure=tree["leaf"],
            start_on=today - datetime.timedelta(days=200),
            due_on=today + datetime.timedelta(days=300),
        )
        for share in (tree["lead"], tree["co"]):  # far ahead of plan: only the reports can make it yellow
            MeasureOwner.objects.filter(pk=share.pk).update(progress=95)
        services.recompute_agreement(tree["leaf"].agreement)
    lead = MeasureOwner.objects.select_related("measure").get(pk=tree["lead"].pk)
    assert lead.report_due_on < today  # never reported since a start 200 days ago
    assert selectors.share_light_for(lead) == "yellow"
    assert selectors.light_for(lead.measure) == "yellow"
    assert lead in selectors.missing_reports(today)
    with transaction.atomic():
        services.file_report(acting_user=owner, owner=lead, text="已完成对接", progress=96)
    lead = MeasureOwner.objects.select_related("measure").get(pk=tree["lead"].pk)
    assert lead.report_due_on > today
    assert selectors.share_light_for(lead) == "green"
    assert selectors.light_for(lead.measure) == "yellow"  # the co-owner still owes its report
    assert lead not in selectors.missing_reports(today)


def test_a_new_reporting_cycle_moves_every_due_date(tree, coordinator):
    with transaction.atomic():
        services.update_agreement(
            acting_user=coordinator, agreement=tree["leaf"].agreement, reporting_cycle="quarterly"
        )
    share = MeasureOwner.objects.get(pk=tree["lead"].pk)
    quarter_end = lights.Calendar("quarterly").period(tree["leaf"].start_on)[1]
    assert share.report_due_on == quarter_end + datetime.timedelta(days=5)


def test_closing_clears_the_schedule(tree, owner, partner, coordinator):
    with transaction.atomic():
        services.close_share(acting_user=owner, owner=tree["lead"], results="查控机制运行")
        services.close_share(acting_user=partner, owner=tree["co"], results="已对接")
        services.confirm_closure(acting_user=coordinator, measure=tree["leaf"])
    leaf = _fresh(tree["leaf"])
    assert leaf.status == MeasureStatus.DONE
    assert (leaf.blue_from, leaf.yellow_from, leaf.red_from) == (None, None, None)
    assert MeasureOwner.objects.get(pk=tree["lead"].pk).report_due_on is None
    assert selectors.light_for(leaf, D(2099, 1, 1)) == "done"


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
    area = api(owner).get(f"/api/v1/measures/{tree['area'].pk}/").json()
    assert area["light"] == "red"  # one definition everywhere: a parent shows the most urgent light below it


def test_ledger_recompute_command_restores_the_dates(tree):
    from io import StringIO

    from django.core.management import CommandError, call_command

    Measure.objects.filter(pk=tree["leaf"].pk).update(red_from=None, blue_from=None, yellow_from=None, progress=0)
    MeasureOwner.objects.filter(measure=tree["leaf"]).update(report_due_on=None)
    out = StringIO()
    call_command("ledger_recompute", agreement=tree["leaf"].agreement_id, stdout=out)
    assert "measures changed" in out.getvalue()
    leaf = Measure.objects.get(pk=tree["leaf"].pk)
    assert leaf.red_from == tree["leaf"].due_on + datetime.timedelta(days=1)
    assert not MeasureOwner.objects.filter(measure=leaf, report_due_on__isnull=True).exists()
    with pytest.raises(CommandError):
        call_command("ledger_recompute", agreement=999999, stdout=out)
