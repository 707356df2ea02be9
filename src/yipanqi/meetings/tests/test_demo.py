"""The demo meetings: they load on top of the ledger demo, are idempotent, and show the whole loop in every circle."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from yipanqi.assistance.demo import load_assistance_demo
from yipanqi.core.models import AuditEvent
from yipanqi.core.testing.shared import shared_writes
from yipanqi.directory.models import User
from yipanqi.evidence.demo import load_evidence_demo
from yipanqi.ledger.demo import CHENGYU_COURTS, YANGTZE, load_ledger_demo
from yipanqi.ledger.models import AgreementKind, Measure, MeasureOwner, OwnerRole
from yipanqi.ledger.selectors import light_for
from yipanqi.meetings import selectors
from yipanqi.meetings.demo import CHENGYU, JIALING, SERIES, YANGTZE_DELTA, demo_series, load_meetings_demo
from yipanqi.meetings.models import (
    Decision,
    DecisionKind,
    Meeting,
    MeetingSeries,
    MeetingStatus,
    MinutesApproval,
    MinutesStatus,
    Topic,
    TopicOutcome,
)

pytestmark = pytest.mark.django_db


def _counts():
    return {
        "series": MeetingSeries.objects.count(),
        "meetings": Meeting.objects.count(),
        "topics": Topic.objects.count(),
        "decisions": Decision.objects.count(),
        "approvals": MinutesApproval.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def _load():
    load_ledger_demo()
    before = _counts()
    created = load_meetings_demo()
    return before, created, _counts()


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker, tmp_path_factory):
    """The ledger and meetings demos, loaded once for both tests (each test's own writes still roll back after it).

    Loading takes seconds, reading milliseconds."""
    with shared_writes(django_db_blocker, tmp_path_factory.mktemp("media"), _load) as counts:
        yield counts


def test_loads_once_and_a_second_run_changes_nothing(loaded):
    before, created, after = loaded
    assert _counts() == after
    assert created["series"] == 4 and created["meetings"] == 12
    for key in ("series", "meetings", "topics", "decisions"):
        assert after[key] - before[key] == created[key], key
    assert created["measures"] == Decision.objects.filter(created_measure__isnull=False).count() > 0
    assert after["audit"] > before["audit"]

    assert load_meetings_demo() == dict.fromkeys(created, 0)
    load_assistance_demo()  # the command loads the assistance requests after the meetings,
    load_evidence_demo()  # and the evidence log's deposits (with their audit events): count from there
    after = _counts()
    out = io.StringIO()
    call_command("demo", "--quiet-logins", stdout=out)  # the command loads the meetings too: still nothing new
    assert _counts() == after
    for spec in SERIES:
        assert f"《{spec.title}》已存在，未改动" in out.getvalue()


def test_every_demo_circle_has_a_current_series_with_the_whole_loop(loaded):
    now = timezone.now()
    today = timezone.localdate()
    assert demo_series().count() == len(SERIES) == 4
    for spec in SERIES:
        series = MeetingSeries.objects.get(title=spec.title)
        assert series.circle.slug == spec.circle
        members = selectors.member_ids(series)
        assert len(members) == len(spec.members)
        first, second, planned = series.meetings.order_by("number")
        for held in (first, second):
            assert held.status == MeetingStatus.MINUTES_APPROVED and held.minutes_status == MinutesStatus.APPROVED
            assert held.starts_at < now and held.minutes_text.strip()
            assert set(held.approvals.values_list("agency_id", flat=True)) == members
        assert first.starts_at < second.starts_at
        assert planned.status == MeetingStatus.PLANNED and planned.starts_at > now

        # Decisions that created measures gave them owners: the lead and the co-owners, with the decided deadline
        # (unless a later decision moved it).
        created = Decision.objects.filter(meeting__series=series, kind=DecisionKind.NEW_MEASURES)
        assert created.exists()
        for decision in created.select_related("created_measure"):
            measure = decision.created_measure
            assert measure is not None
            moved = Decision.objects.filter(kind=DecisionKind.UPDATE_MEASURES, measures=measure).first()
            assert measure.due_on == (moved.new_due_on if moved else decision.due_on)
            owners = dict(MeasureOwner.objects.filter(measure=measure).values_list("agency_id", "role"))
            assert owners.pop(decision.lead_id) == OwnerRole.LEAD
            assert set(owners) == set(decision.co_owners.values_list("pk", flat=True))
            assert set(owners.values()) <= {OwnerRole.CO}
        assert Decision.objects.filter(meeting__series=series, kind=DecisionKind.INFORMATION).exists()
        for decision in Decision.objects.filter(meeting__series=series, kind=DecisionKind.UPDATE_MEASURES):
            assert decision.applied_at is not None
            assert {m.due_on for m in decision.measures.all()} == {decision.new_due_on}

        # The planned meeting opens with the open decisions of the held ones, some of them overdue (red).
        states = [selectors.decision_state(d, today) for d in selectors.open_decisions(planned)]
        assert "red" in {state["light"] for state in states}

        # An unfinished topic of the second meeting waits on the planned meeting's agenda.
        carried = planned.topics.get(carried_from__isnull=False)
        assert carried.carried_from.meeting == second
        assert carried.carried_from.outcome == TopicOutcome.UNFINISHED

    moved = Decision.objects.filter(meeting__series__in=demo_series(), kind=DecisionKind.UPDATE_MEASURES)
    assert moved.count() >= 2
    # The ledger demo's red examples stay red: meetings extend only measures behind plan.
    for title, number in ((CHENGYU_COURTS.title, "二、1"), (YANGTZE.title, "五、2")):
        assert light_for(Measure.objects.get(agreement__title=title, number=number), today) == "red"
    # 长三角: the fixed rotation 沪→苏→浙→皖 proposed 江苏 after 上海, as the second meeting decided.
    yangtze = MeetingSeries.objects.get(title=YANGTZE_DELTA.title)
    assert yangtze.meetings.get(status=MeetingStatus.PLANNED).host.name == "中共江苏省委政法委员会"

    # The 嘉陵江 minutes became agreements of kind 会议纪要, signed by every member; their measures are followed.
    jialing = MeetingSeries.objects.get(title=JIALING.title)
    for meeting in jialing.meetings.filter(status=MeetingStatus.MINUTES_APPROVED):
        agreement = meeting.minutes_agreement
        assert agreement is not None and agreement.kind == AgreementKind.MINUTES
        assert set(agreement.signatories.values_list("pk", flat=True)) == selectors.member_ids(jialing)
    assert selectors.series_measures(jialing).filter(decisions__meeting__series=jialing).count() >= 2

    # The court liaisons see their series and approved its minutes in person; outsiders see no demo series.
    sc_court, cq_court, outsider = (User.objects.get(username=name) for name in ("sc_court", "cq_court", "hlj_police"))
    courts = MeetingSeries.objects.get(title=CHENGYU.title)
    for user in (sc_court, cq_court):
        assert MeetingSeries.objects.visible_to(user).filter(pk=courts.pk).exists()
        approvals = MinutesApproval.objects.filter(meeting__series=courts, agency_id=user.agency_id)
        assert approvals.count() == 2
        assert set(approvals.values_list("approved_by", flat=True)) == {user.pk}
    assert not MeetingSeries.objects.visible_to(outsider).filter(pk__in=demo_series()).exists()
    # Approvals for agencies without a demo liaison were recorded on their behalf (given on paper).
    assert MinutesApproval.objects.filter(meeting__series__title=JIALING.title, approved_by__isnull=True).count() == 12
