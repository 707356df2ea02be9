"""The ledger's daily jobs, run by the worker (docs/worker.md): the board's snapshot, reminders, scheduled bulletins.

Reminders (in-app notifications, and e-mail to people with an address), each sent once thanks to its dedupe key:
- a share's report falls due within ``LEDGER_REMIND_WORKDAYS`` working days: the owning agency's liaisons and the
  share's responsible person, one notice per agency and due date;
- a share's report is overdue (the reporting calendar in ledger/lights.py): the same people, once a week;
- an item turned red today: its owners' liaisons;
- a 督办单's reply is overdue: the owning agency's liaisons, once per notice.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import override

from yipanqi.core.notifications import notify
from yipanqi.core.scheduling import daily_job
from yipanqi.core.workdays import add_workdays
from yipanqi.directory.models import Role, User

from . import board, bulletins
from .models import MeasureOwner, MeasureStatus, ShareStatus, Supervision, SupervisionStatus


@daily_job("ledger.snapshots")
def take_snapshots(day: date) -> str:
    return f"{board.take_snapshots(day)} snapshots"


@daily_job("ledger.bulletins")
def prepare_scheduled_bulletins(day: date) -> str:
    return f"{bulletins.run_schedules(day)} bulletins queued"


def _liaisons(agency_ids) -> dict[int, list[int]]:
    people: dict[int, list[int]] = defaultdict(list)
    for pk, agency_id in (
        User.objects.filter(agency_id__in=set(agency_ids), is_active=True, role_grants__role=Role.LIAISON)
        .values_list("pk", "agency_id")
        .distinct()
    ):
        people[agency_id].append(pk)
    return people


@daily_job("ledger.reminders")
def send_reminders(day: date) -> str:
    sent = 0
    with override(settings.LANGUAGE_CODE), transaction.atomic():
        soon = add_workdays(day, settings.LEDGER_REMIND_WORKDAYS)
        open_shares = MeasureOwner.objects.exclude(status=ShareStatus.CLOSED).exclude(
            measure__status=MeasureStatus.DONE
        )
        due: dict[tuple[int, date], set[int]] = defaultdict(set)
        late: dict[int, set[int]] = defaultdict(set)
        for agency_id, due_on, person_id in open_shares.filter(report_due_on__lte=soon).values_list(
            "agency_id", "report_due_on", "person_id"
        ):
            people = {person_id} if person_id else set()
            if due_on >= day:
                due[(agency_id, due_on)] |= people
            else:
                late[agency_id] |= people
        red_today: dict[int, list[str]] = defaultdict(list)
        for agency_id, number in open_shares.filter(measure__red_from=day).values_list("agency_id", "measure__number"):
            red_today[agency_id].append(number)
        late_replies = list(
            Supervision.objects.filter(status=SupervisionStatus.OPEN, reply_due_on__lt=day).select_related(
                "measure", "owner"
            )
        )
        liaisons = _liaisons(
            [a for a, _d in due] + list(late) + list(red_today) + [s.owner.agency_id for s in late_replies]
        )
        my_url = reverse("ledger:my")
        week = day.isocalendar()
        for (agency_id, due_on), people in due.items():
            sent += len(
                notify(
                    [*liaisons.get(agency_id, []), *people],
                    kind="ledger.report-due",
                    title=_("Progress reports due by %(date)s") % {"date": due_on.isoformat()},
                    body=_("Some of your agency's measures owe a progress report under the reporting calendar."),
                    url=my_url,
                    dedupe_key=f"report-due-{agency_id}-{due_on:%Y%m%d}",
                )
            )
        for agency_id, people in late.items():
            sent += len(
                notify(
                    [*liaisons.get(agency_id, []), *people],
                    kind="ledger.report-missing",
                    title=_("Progress reports are overdue"),
                    body=_("Your agency has measures whose progress report is overdue; they show a yellow light."),
                    url=my_url,
                    dedupe_key=f"report-missing-{agency_id}-{week[0]}-{week[1]}",
                )
            )
        for agency_id, numbers in red_today.items():
            sent += len(
                notify(
                    liaisons.get(agency_id, []),
                    kind="ledger.overdue",
                    title=_("Measures past their deadline: %(numbers)s") % {"numbers": "、".join(sorted(numbers))},
                    url=my_url,
                    dedupe_key=f"measure-red-{agency_id}-{day:%Y%m%d}",
                )
            )
        for supervision in late_replies:
            sent += len(
                notify(
                    liaisons.get(supervision.owner.agency_id, []),
                    kind="ledger.supervision-late",
                    title=_("The reply to a supervision notice on %(number)s is overdue")
                    % {"number": supervision.measure.number},
                    url=reverse("ledger:measure", args=[supervision.measure_id]),
                    dedupe_key=f"supervision-late-{supervision.pk}",
                )
            )
    return f"{sent} notifications"
