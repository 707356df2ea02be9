"""Meeting services: rotation, the agenda's lifecycle, decisions → ledger measures, carry-over, approval by all."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from yipanqi.core.errors import Conflict
from yipanqi.core.models import AuditEvent, Notification
from yipanqi.directory.models import Agency
from yipanqi.ledger.models import AgreementKind, Measure, MeasureOwner, OwnerRole
from yipanqi.meetings import selectors, services
from yipanqi.meetings.models import (
    Decision,
    Meeting,
    MeetingStatus,
    MinutesApproval,
    MinutesStatus,
    Topic,
    TopicOutcome,
)

from .conftest import at, run_to_held

pytestmark = pytest.mark.django_db

IN_A_MONTH = timezone.localdate() + datetime.timedelta(days=30)


def _agencies(*names):
    return [Agency.objects.get(name=name) for name in names]


def _schedule(user, series, days=40, **kwargs):
    return services.schedule_meeting(
        acting_user=user, series=series, starts_at=at(timezone.localdate() + datetime.timedelta(days=days)), **kwargs
    )


def _finish(meeting, host_user, approvers):
    services.draft_minutes(acting_user=host_user, meeting=meeting)
    services.submit_minutes(acting_user=host_user, meeting=meeting)
    for user in approvers:
        services.approve_minutes(acting_user=user, meeting=meeting)
    return Meeting.objects.get(pk=meeting.pk)


# --------------------------------------------------------------------------- rotation


@pytest.fixture
def four(db):
    """The four 长三角 committees, in the order 沪苏浙皖."""
    return _agencies(
        "中共上海市委政法委员会", "中共江苏省委政法委员会", "中共浙江省委政法委员会", "中共安徽省委政法委员会"
    )


def _yrd_series(four, rule, members=None):
    from yipanqi.directory.models import Circle

    return services.create_series(
        acting_user=None,
        title="长三角地区党委政法委书记座谈会",
        kind="symposium",
        circle=Circle.objects.get(slug="yangtze-delta"),
        members=members or four,
        rotation_rule=rule,
    )


def test_fixed_rotation_follows_the_given_order_and_wraps(four):
    series = _yrd_series(four, "fixed", members=[four[1], four[0], four[3], four[2]])  # 苏沪皖浙
    hosts = []
    for _i in range(5):
        meeting = _schedule(None, series)
        hosts.append(meeting.host)
    assert hosts == [four[1], four[0], four[3], four[2], four[1]]


def test_rotation_by_joining_order_puts_a_late_member_last(four):
    series = _yrd_series(four, "joining", members=four[:3])
    assert [_schedule(None, series).host for _i in range(2)] == [four[0], four[1]]
    services.update_series(acting_user=None, series=series, members=[four[3], *four[:3]])  # 皖 joins, listed first
    # Joining order, not list order: 浙 is next, then the newcomer 皖, then round again to 沪.
    assert [_schedule(None, series).host for _i in range(3)] == [four[2], four[3], four[0]]


def test_chosen_each_time_proposes_who_hosted_least_recently_and_a_named_host_wins(four):
    series = _yrd_series(four, "chosen")
    _schedule(None, series, host=four[2])
    _schedule(None, series, host=four[0])
    assert selectors.proposed_host(series) == four[1]  # never hosted, first in joining order
    # "2022年…在江苏省召开，由江苏省委政法委承办" — named at the meeting: overrides, once.
    services.update_series(acting_user=None, series=series, next_host=four[3])
    series.refresh_from_db()
    assert selectors.proposed_host(series) == four[3]
    assert _schedule(None, series).host == four[3]
    series.refresh_from_db()
    assert series.next_host is None
    assert selectors.proposed_host(series) == four[1]


def test_a_named_next_host_must_be_a_member(four, outsider):
    series = _yrd_series(four, "fixed", members=four[:2])
    with pytest.raises(ValidationError) as exc:
        services.update_series(acting_user=None, series=series, next_host=four[3])
    assert "next_host" in exc.value.message_dict


def test_members_must_belong_to_the_circle_and_the_error_names_them(coordinator, chengyu, courts):
    hlj = Agency.objects.get(name="黑龙江省公安厅")
    with pytest.raises(ValidationError) as exc:
        services.create_series(
            acting_user=coordinator, title="x", circle=chengyu, members=[*courts, hlj], rotation_rule="fixed"
        )
    assert "黑龙江省公安厅" in exc.value.message_dict["members"][0]
    assert not AuditEvent.objects.filter(action="meetings.series.create").exists()


def test_only_coordinators_set_up_a_circle_series(owner, chengyu, courts):
    with pytest.raises(PermissionError):
        services.create_series(acting_user=owner, title="x", circle=chengyu, members=courts)


def test_a_series_outside_circles_is_set_up_by_a_member_liaison(owner, partner, outsider, courts):
    series = services.create_series(acting_user=owner, title="法院执行会商会", members=courts, kind="consultation")
    assert services.manages_series(partner, series)  # a member's liaison manages a series without a circle
    assert not services.manages_series(outsider, series)
    with pytest.raises(PermissionError):
        services.create_series(acting_user=outsider, title="x", members=courts)


# --------------------------------------------------------------------------- agenda lifecycle


def test_agenda_lifecycle_and_who_may_do_what(meeting, owner, partner, outsider, coordinator):
    with pytest.raises(Conflict):  # the agenda is not open yet: members wait
        services.propose_topic(acting_user=partner, meeting=meeting, title="早了")
    with pytest.raises(PermissionError):
        services.open_agenda(acting_user=partner, meeting=meeting)  # a member, not the host
    services.open_agenda(acting_user=owner, meeting=meeting)
    first = services.propose_topic(acting_user=partner, meeting=meeting, title="跨域立案材料清单统一")
    second = services.propose_topic(acting_user=owner, meeting=meeting, title="执行案款跨域划拨")
    third = services.propose_topic(acting_user=coordinator, meeting=meeting, title="协调办议题")
    assert first.proposed_by_agency.name == "重庆市高级人民法院"
    assert third.proposed_by_agency is None or third.proposed_by_agency_id in selectors.member_ids(meeting.series)
    with pytest.raises(PermissionError):
        services.propose_topic(acting_user=outsider, meeting=meeting, title="局外")
    # Only the host orders the agenda: not the member who proposed, not the circle's coordinator.
    for user in (partner, coordinator):
        with pytest.raises(PermissionError):
            services.order_topics(acting_user=user, meeting=meeting, topic_ids=[third.pk, second.pk, first.pk])
    with pytest.raises(ValidationError):
        services.order_topics(acting_user=owner, meeting=meeting, topic_ids=[third.pk, second.pk])  # one missing
    services.order_topics(acting_user=owner, meeting=meeting, topic_ids=[third.pk, second.pk, first.pk])
    assert list(meeting.topics.order_by("position").values_list("pk", flat=True)) == [third.pk, second.pk, first.pk]
    services.close_agenda(acting_user=owner, meeting=meeting)
    with pytest.raises(Conflict):
        services.propose_topic(acting_user=partner, meeting=meeting, title="晚了")
    with pytest.raises(Conflict):
        services.open_agenda(acting_user=owner, meeting=meeting)  # no step back
    services.mark_held(acting_user=owner, meeting=meeting)
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.HELD and meeting.held_at is not None
    actions = set(AuditEvent.objects.filter(action__startswith="meetings.").values_list("action", flat=True))
    assert {
        "meetings.agenda.open",
        "meetings.topic.propose",
        "meetings.agenda.order",
        "meetings.meeting.held",
    } <= actions


def test_agenda_open_and_close_notify_member_liaisons(meeting, owner, partner):
    services.open_agenda(acting_user=owner, meeting=meeting)
    services.close_agenda(acting_user=owner, meeting=meeting)
    kinds = set(Notification.objects.filter(recipient=partner).values_list("kind", flat=True))
    assert {"meetings.agenda_open", "meetings.agenda_closed"} <= kinds
    url = Notification.objects.filter(recipient=partner, kind="meetings.agenda_open").get().url
    assert url == f"/meetings/{meeting.pk}/"


def test_a_topic_links_only_the_series_measures_and_red_ones_are_offered(meeting, owner, tree, coordinator, courts):
    leaf = tree["leaf"]
    from yipanqi.ledger import services as ledger

    ledger.update_measure(
        acting_user=coordinator, measure=leaf, start_on=datetime.date(2025, 1, 1), due_on=datetime.date(2025, 6, 30)
    )
    assert [m.pk for m in selectors.offered_measures(meeting.series)] == [leaf.pk]
    services.open_agenda(acting_user=owner, meeting=meeting)
    topic = services.propose_topic(acting_user=owner, meeting=meeting, title="逾期事项", measures=[leaf])
    assert list(topic.measures.all()) == [leaf]
    other = ledger.create_agreement(
        acting_user=coordinator, title="另一协议", circle=meeting.series.circle, signatories=list(courts)
    )
    foreign = ledger.add_measure(acting_user=coordinator, agreement=other, number="1", title="别处的举措")
    with pytest.raises(ValidationError) as exc:
        services.propose_topic(acting_user=owner, meeting=meeting, title="别处的", measures=[foreign])
    assert foreign.number in exc.value.message_dict["measures"][0]


def test_a_retried_proposal_with_the_same_key_creates_one_topic(meeting, owner):
    services.open_agenda(acting_user=owner, meeting=meeting)
    a = services.propose_topic(acting_user=owner, meeting=meeting, title="一次", idempotency_key="k-1")
    b = services.propose_topic(acting_user=owner, meeting=meeting, title="一次", idempotency_key="k-1")
    assert a.pk == b.pk and meeting.topics.count() == 1


def test_a_topic_with_decisions_cannot_be_withdrawn(meeting, owner, partner):
    topics = run_to_held(meeting, owner, partner)
    services.record_decision(acting_user=owner, topic=topics[0], title="知悉")
    with pytest.raises(Conflict):
        services.withdraw_topic(acting_user=owner, topic=topics[0])


# --------------------------------------------------------------------------- decisions → ledger


def test_decisions_enter_the_ledger_when_every_member_approves(meeting, owner, partner, courts, tree):
    sichuan, chongqing = courts
    topics = run_to_held(meeting, owner, partner)
    new = services.record_decision(
        acting_user=owner,
        topic=topics[0],
        title="建立执行联动机制",
        text="两地执行局建立常态化联络。",
        kind="new",
        lead=chongqing,
        co_owners=[sichuan],
        due_on=datetime.date(2027, 6, 30),
    )
    update = services.record_decision(
        acting_user=owner,
        topic=topics[1],
        title="异地财产查控延期至明年一季度",
        kind="update",
        measures=[tree["leaf"]],
        new_due_on=datetime.date(2027, 3, 31),
    )
    info = services.record_decision(acting_user=owner, topic=topics[1], title="通报了执行协作情况")
    assert not Measure.objects.filter(decisions=new).exists()  # nothing enters the ledger before approval
    meeting = _finish(meeting, owner, [owner])
    assert meeting.minutes_status == MinutesStatus.PENDING  # one of two members approved
    meeting = _finish_last(meeting, partner)
    assert meeting.status == MeetingStatus.MINUTES_APPROVED and meeting.is_frozen
    new.refresh_from_db()
    measure = new.created_measure
    assert measure.agreement_id == meeting.series.standing_agreement_id
    assert measure.due_on == datetime.date(2027, 6, 30) and measure.parent.depth == 0
    roles = dict(MeasureOwner.objects.filter(measure=measure).values_list("agency__name", "role"))
    assert roles == {"重庆市高级人民法院": OwnerRole.LEAD, "四川省高级人民法院": OwnerRole.CO}
    tree["leaf"].refresh_from_db()
    assert tree["leaf"].due_on == datetime.date(2027, 3, 31)
    for decision in (new, update, info):
        decision.refresh_from_db()
        assert decision.applied_at is not None
    work = Notification.objects.filter(recipient=partner, kind="meetings.decision_work")
    assert work.filter(url=f"/ledger/measures/{measure.pk}/").exists()


def _finish_last(meeting, approver):
    services.approve_minutes(acting_user=approver, meeting=meeting)
    return Meeting.objects.get(pk=meeting.pk)


def test_a_decision_cannot_give_work_outside_the_series_and_the_error_names_the_agency(meeting, owner, partner):
    topics = run_to_held(meeting, owner, partner)
    chengdu = Agency.objects.get(name="成都市中级人民法院")  # in the circle, not in the series
    with pytest.raises(ValidationError) as exc:
        services.record_decision(
            acting_user=owner, topic=topics[0], title="x", kind="new", lead=chengdu, due_on=IN_A_MONTH
        )
    assert "成都市中级人民法院" in exc.value.message_dict["lead"][0]
    with pytest.raises(ValidationError) as exc:
        services.record_decision(
            acting_user=owner,
            topic=topics[0],
            title="x",
            kind="new",
            lead=meeting.host,
            co_owners=[chengdu],
            due_on=IN_A_MONTH,
        )
    assert "成都市中级人民法院" in exc.value.message_dict["co_owners"][0]
    assert not Decision.objects.exists()


def test_a_new_measure_needs_a_lead_and_a_deadline(meeting, owner, partner):
    topics = run_to_held(meeting, owner, partner)
    with pytest.raises(ValidationError) as exc:
        services.record_decision(acting_user=owner, topic=topics[0], title="x", kind="new")
    assert {"lead", "due_on"} <= set(exc.value.message_dict)


def test_minutes_become_an_agreement_of_kind_minutes_with_the_members_as_signatories(meeting, owner, partner, courts):
    topics = run_to_held(meeting, owner, partner)
    services.update_meeting(acting_user=owner, meeting=meeting, minutes_as_agreement=True)
    decision = services.record_decision(
        acting_user=owner,
        topic=topics[0],
        title="共建执行协作平台",
        kind="new",
        target="minutes",
        lead=courts[0],
        due_on=IN_A_MONTH,
    )
    meeting = _finish(meeting, owner, [owner, partner])
    agreement = meeting.minutes_agreement
    assert agreement.kind == AgreementKind.MINUTES
    assert set(agreement.signatories.all()) == set(courts)
    assert agreement.circle_id == meeting.series.circle_id
    decision.refresh_from_db()
    assert decision.created_measure.agreement_id == agreement.pk and decision.created_measure.number == "1"


def test_the_next_meeting_opens_with_the_open_decisions_of_earlier_ones(meeting, owner, partner, courts, coordinator):
    topics = run_to_held(meeting, owner, partner)
    services.record_decision(
        acting_user=owner, topic=topics[0], title="开放事项", kind="new", lead=courts[1], due_on=IN_A_MONTH
    )
    services.record_decision(acting_user=owner, topic=topics[0], title="仅通报")
    second = _schedule(coordinator, meeting.series)
    [waiting] = selectors.open_decisions(second)
    assert selectors.decision_state(waiting)["code"] == "awaiting_minutes"
    _finish(meeting, owner, [owner, partner])
    [open_one] = selectors.open_decisions(second)
    state = selectors.decision_state(open_one)
    assert open_one.title == "开放事项" and state["code"] == "in_progress" and state["light"] in ("green", "blue")


# --------------------------------------------------------------------------- carry-over


def test_unfinished_topics_carry_over_to_the_next_meeting(meeting, owner, partner, coordinator, tree):
    services.open_agenda(acting_user=owner, meeting=meeting)
    done = services.propose_topic(acting_user=owner, meeting=meeting, title="已议结")
    open_ = services.propose_topic(acting_user=partner, meeting=meeting, title="未议完", measures=[tree["leaf"]])
    left = services.propose_topic(acting_user=partner, meeting=meeting, title="未讨论")
    services.close_agenda(acting_user=owner, meeting=meeting)
    services.mark_held(acting_user=owner, meeting=meeting)
    services.set_topic_outcome(acting_user=owner, topic=done, outcome=TopicOutcome.CONCLUDED)
    services.set_topic_outcome(acting_user=owner, topic=open_, outcome=TopicOutcome.UNFINISHED)
    # No next meeting yet: the topic waits; scheduling one brings it along.
    second = _schedule(coordinator, meeting.series)
    carried = Topic.objects.get(meeting=second, carried_from=open_)
    assert carried.title == "未议完" and list(carried.measures.all()) == [tree["leaf"]]
    assert carried.proposed_by_agency.name == "重庆市高级人民法院"
    # A topic nobody got to is unfinished once the minutes are final, and goes on too.
    _finish(meeting, owner, [owner, partner])
    assert Topic.objects.get(pk=left.pk).outcome == TopicOutcome.UNFINISHED
    assert Topic.objects.filter(meeting=second, carried_from=left).exists()
    assert not Topic.objects.filter(meeting=second, carried_from=done).exists()
    # Carrying over twice changes nothing.
    assert services._carry_over(meeting.series) == 0


# --------------------------------------------------------------------------- minutes


def test_only_member_liaisons_approve_and_each_agency_once(meeting, owner, partner, coordinator, outsider):
    from yipanqi.directory.models import User

    run_to_held(meeting, owner, partner)
    services.draft_minutes(acting_user=owner, meeting=meeting)
    services.submit_minutes(acting_user=owner, meeting=meeting)
    assert Notification.objects.filter(recipient=partner, kind="meetings.minutes_approval").exists()
    handler = User.objects.get(username="cd_court")  # a handler of a non-member court
    for user in (coordinator, outsider, handler):
        with pytest.raises(PermissionError):
            services.approve_minutes(acting_user=user, meeting=meeting)
    services.approve_minutes(acting_user=owner, meeting=meeting)
    with pytest.raises(Conflict):
        services.approve_minutes(acting_user=owner, meeting=meeting)
    assert MinutesApproval.objects.filter(meeting=meeting).count() == 1


def test_sending_back_voids_the_approvals_and_editing_needs_a_draft(meeting, owner, partner):
    run_to_held(meeting, owner, partner)
    services.draft_minutes(acting_user=owner, meeting=meeting)
    services.submit_minutes(acting_user=owner, meeting=meeting)
    services.approve_minutes(acting_user=owner, meeting=meeting)
    with pytest.raises(Conflict):
        services.edit_minutes(acting_user=owner, meeting=meeting, text="改")
    with pytest.raises(ValidationError):
        services.return_minutes(acting_user=partner, meeting=meeting, comment="  ")
    services.return_minutes(acting_user=partner, meeting=meeting, comment="第二项表述需调整")
    meeting.refresh_from_db()
    assert meeting.minutes_status == MinutesStatus.DRAFT and not meeting.approvals.exists()
    assert Notification.objects.filter(recipient=owner, kind="meetings.minutes_returned").exists()
    services.edit_minutes(acting_user=owner, meeting=meeting, text="新的纪要正文")
    meeting = _finish_after_edit(meeting, owner, partner)
    approval = meeting.approvals.get(agency=partner.agency)
    assert approval.text_digest == services.digest("新的纪要正文")


def _finish_after_edit(meeting, owner, partner):
    services.submit_minutes(acting_user=owner, meeting=meeting)
    services.approve_minutes(acting_user=owner, meeting=meeting)
    services.approve_minutes(acting_user=partner, meeting=meeting)
    return Meeting.objects.get(pk=meeting.pk)


FROZEN = "The minutes of this meeting are approved by every member: it can no longer be changed."


def test_approved_minutes_freeze_the_meeting(meeting, owner, partner, coordinator):
    topics = run_to_held(meeting, owner, partner)
    meeting = _finish(meeting, owner, [owner, partner])
    before = AuditEvent.objects.count()
    attempts = [
        lambda: services.update_meeting(acting_user=owner, meeting=meeting, place="重庆"),
        lambda: services.edit_minutes(acting_user=owner, meeting=meeting, text="改"),
        lambda: services.record_decision(acting_user=owner, topic=topics[0], title="补一条"),
        lambda: services.update_topic(acting_user=owner, topic=topics[0], title="改"),
        lambda: services.set_topic_outcome(acting_user=owner, topic=topics[0], outcome="concluded"),
        lambda: services.return_minutes(acting_user=partner, meeting=meeting, comment="再改"),
        lambda: services.draft_minutes(acting_user=coordinator, meeting=meeting, regenerate=True),
    ]
    for attempt in attempts:
        with pytest.raises(Conflict) as exc:
            attempt()
        assert str(exc.value) == gettext(FROZEN)
    assert AuditEvent.objects.count() == before


def test_the_draft_lists_topics_decisions_and_the_next_host(meeting, owner, partner, courts):
    topics = run_to_held(meeting, owner, partner)
    services.record_decision(
        acting_user=owner, topic=topics[0], title="建立联络员制度", kind="new", lead=courts[1], due_on=IN_A_MONTH
    )
    services.draft_minutes(acting_user=owner, meeting=meeting)
    text = Meeting.objects.get(pk=meeting.pk).minutes_text
    for piece in ("执行协作", "财产查控", "建立联络员制度", "重庆市高级人民法院", "成都"):
        assert piece in text
    assert text.index("执行协作") < text.index("财产查控")


def test_a_failing_approval_changes_nothing(meeting, owner, partner, courts, coordinator):
    """If entering a decision in the ledger fails, the last approval and everything before it roll back."""
    topics = run_to_held(meeting, owner, partner)
    services.record_decision(
        acting_user=owner, topic=topics[0], title="需挂常设协议", kind="new", lead=courts[0], due_on=IN_A_MONTH
    )
    services.update_series(acting_user=coordinator, series=meeting.series, standing_agreement=None)
    services.draft_minutes(acting_user=owner, meeting=meeting)
    services.submit_minutes(acting_user=owner, meeting=meeting)
    services.approve_minutes(acting_user=owner, meeting=meeting)
    with pytest.raises(ValidationError), transaction.atomic():
        services.approve_minutes(acting_user=partner, meeting=meeting)
    meeting.refresh_from_db()
    assert meeting.minutes_status == MinutesStatus.PENDING and meeting.approvals.count() == 1
