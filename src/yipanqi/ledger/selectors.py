"""Ledger reads: supervision lights (三色督办) and the measures a principal works on.

Lights, computed on read, never stored (documented in docs/ledger.md):
- ``done``: closed (销号).
- ``red``: past the deadline and not closed.
- ``yellow``: behind plan — progress below the share of time elapsed by more than ``LEDGER_BEHIND_MARGIN``
  percentage points, or no report within the agreement's reporting cycle (plus a grace of a few days).
- ``blue``: the deadline is within ``LEDGER_NEAR_WORKDAYS`` Chinese working days.
- ``green``: otherwise.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.utils import timezone

from yipanqi.core.workdays import workdays_between

from .models import Agreement, Measure, MeasureOwner, MeasureStatus, ReportingCycle

LIGHTS = ("red", "yellow", "blue", "green", "done")
CYCLE_DAYS = {ReportingCycle.MONTHLY: 31, ReportingCycle.QUARTERLY: 92}


def reporting_interval(agreement: Agreement) -> int:
    if agreement.reporting_cycle == ReportingCycle.CUSTOM and agreement.reporting_every_days:
        return agreement.reporting_every_days
    return CYCLE_DAYS.get(agreement.reporting_cycle, 31)


def light_for(measure: Measure, today: date | None = None, *, agreement: Agreement | None = None) -> str:
    today = today or timezone.localdate()
    if measure.status == MeasureStatus.DONE:
        return "done"
    if measure.due_on and today > measure.due_on:
        return "red"
    if measure.start_on and measure.due_on and measure.due_on > measure.start_on and today > measure.start_on:
        elapsed = (today - measure.start_on).days / (measure.due_on - measure.start_on).days
        if measure.progress < elapsed * 100 - settings.LEDGER_BEHIND_MARGIN:
            return "yellow"
    if measure.is_leaf and measure.status == MeasureStatus.OPEN:
        agreement = agreement or measure.agreement
        since = measure.last_report_at.date() if measure.last_report_at else measure.start_on
        if since and today - since > timedelta(days=reporting_interval(agreement) + settings.LEDGER_REPORT_GRACE_DAYS):
            return "yellow"
    if measure.due_on and workdays_between(today, measure.due_on) <= settings.LEDGER_NEAR_WORKDAYS:
        return "blue"
    return "green"


def my_shares(principal):
    """The shares of measures owned by the principal's agency, with their measures and agreements."""
    if not getattr(principal, "agency_id", None):
        return MeasureOwner.objects.none()
    return (
        MeasureOwner.objects.filter(agency_id=principal.agency_id)
        .filter(measure__in=Measure.objects.visible_to(principal).values("pk"))
        .select_related("measure__agreement", "agency")
        .order_by("measure__due_on", "measure_id")
    )
