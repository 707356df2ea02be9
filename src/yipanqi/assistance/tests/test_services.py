"""Assistance services: the lifecycle, the deadline engine over time (working days with 调休, urgent hours, pause,
extension, the 6-month escalation of 委托执行), routing, permissions and idempotency."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import override_settings

from yipanqi.assistance import deadlines, routing, services
from yipanqi.assistance.models import (
    AssistanceRequest,
    EventKind,
    FeedEntry,
    Receipt,
    RequestEvent,
    RequestHop,
    RequestKind,
    RequestStatus,
)
from yipanqi.core.errors import Conflict
from yipanqi.core.models import AuditEvent, Notification
from yipanqi.directory.models import Agency, Region, User

from .conftest import EXECUTION_FIELDS, draft_execution, pdf

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(y, m, d, hour=10, minute=0) -> datetime.datetime:
    return datetime.datetime(y, m, d, hour, minute, tzinfo=SHANGHAI)


def end_of(y, m, d) -> datetime.datetime:
    return datetime.datetime(y, m, d, 23, 59, 59, 999999, tzinfo=SHANGHAI)


def _fresh(request):
    return AssistanceRequest.objects.get(pk=request.pk)


# --------------------------------------------------------------------------- lifecycle


def test_the_whole_lifecycle_with_events_receipts_feed_and_audit(sent, owner, partner, courts):
    sichuan, chongqing = courts
    assert sent.status == RequestStatus.SENT and sent.number.startswith("510000-")
    assert list(RequestHop.objects.filter(request=sent).values_list("from_agency", "to_agency")) == [
        (sichuan.pk, chongqing.pk)
    ]
    assert Notification.objects.filter(recipient=partner, kind="assistance.update").exists()
    request = services.sign(acting_user=partner, request=sent)
    request = services.accept(acting_user=partner, request=request)
    assert request.assignee == partner
    request = services.start(acting_user=partner, request=request)
    request = services.answer(acting_user=partner, request=request, result="已立案执行，查控到银行存款12万元。")
    request = services.close(acting_user=owner, request=request)
    assert request.status == RequestStatus.CLOSED and request.closed_at
    kinds = list(RequestEvent.objects.filter(request=request).values_list("kind", flat=True))
    assert kinds == ["created", "sent", "signed", "accepted", "started", "answered", "closed"]
    receipts = {r.kind: r for r in Receipt.objects.filter(request=request)}
    assert set(receipts) == {"sent", "signed", "accepted", "answered"}
    assert receipts["sent"].issued_to == chongqing and receipts["signed"].issued_to == sichuan
    assert receipts["answered"].payload["content_sha256"] == services.content_digest(request)
    # Each side's feed has every event after the first hop existed, in order.
    for agency in courts:
        feed = list(FeedEntry.objects.filter(agency=agency).order_by("id").values_list("event__kind", flat=True))
        assert feed[-6:] == ["sent", "signed", "accepted", "started", "answered", "closed"]
    actions = set(
        AuditEvent.objects.filter(object_id=str(request.pk), action__startswith="assistance.").values_list(
            "action", flat=True
        )
    )
    assert {"assistance.request.send", "assistance.request.accept", "assistance.request.close"} <= actions


def test_invalid_transitions_are_conflicts_and_change_nothing(sent, owner, partner):
    before = (RequestEvent.objects.count(), AuditEvent.objects.count())
    with pytest.raises(Conflict):
        services.answer(acting_user=partner, request=sent, result="先答复")  # answer before accept
    with pytest.raises(Conflict):
        services.close(acting_user=owner, request=sent)
    with pytest.raises(PermissionError):
        services.sign(acting_user=owner, request=sent)  # the sender does not sign its own request
    with pytest.raises(PermissionError):
        services.withdraw(acting_user=partner, request=sent)
    assert (RequestEvent.objects.count(), AuditEvent.objects.count()) == before
    assert _fresh(sent).status == RequestStatus.SENT


def test_returned_and_sent_again_keeps_its_number(sent, owner, partner):
    with pytest.raises(ValidationError):
        services.return_request(acting_user=partner, request=sent, reason=" ")
    request = services.return_request(acting_user=partner, request=sent, reason="缺少生效法律文书")
    assert request.status == RequestStatus.RETURNED and request.due_at is None
    again = services.send(acting_user=owner, request=request)
    assert again.number == sent.number and again.status == RequestStatus.SENT and again.return_reason == ""


def test_withdrawn_only_before_acceptance(sent, owner, partner, courts, kind):
    services.withdraw(acting_user=owner, request=sent, reason="当事人已和解")
    assert _fresh(sent).status == RequestStatus.WITHDRAWN
    other = services.send(acting_user=owner, request=draft_execution(owner, courts, kind))
    services.accept(acting_user=partner, request=other)
    with pytest.raises(Conflict):
        services.withdraw(acting_user=owner, request=other)


def test_reopen_after_an_answer_starts_a_new_finishing_clock(sent, owner, partner):
    request = services.accept(acting_user=partner, request=sent)
    request = services.answer(acting_user=partner, request=request, result="未发现可供执行财产")
    with pytest.raises(ValidationError):
        services.reopen(acting_user=owner, request=request, reason="")
    request = services.reopen(acting_user=owner, request=request, reason="申请人提供了新的财产线索")
    assert request.status == RequestStatus.IN_PROGRESS and request.due_at == request.finish_due_at


def test_a_retried_create_with_the_same_key_makes_one_draft(owner, courts, kind):
    a = services.create_request(acting_user=owner, kind=kind, sender=courts[0], title="一", idempotency_key="k-7")
    b = services.create_request(acting_user=owner, kind=kind, sender=courts[0], title="一", idempotency_key="k-7")
    assert a.pk == b.pk and AssistanceRequest.objects.filter(idempotency_key="k-7").count() == 1


# --------------------------------------------------------------------------- bad input


def test_required_fields_of_the_kind_are_named(owner, courts, kind):
    request = services.create_request(acting_user=owner, kind=kind, sender=courts[0], receiver=courts[1], title="缺项")
    for label in kind.required_attachments:
        services.attach(acting_user=owner, request=request, uploaded=pdf(f"{label}.pdf"), label=label)
    with pytest.raises(ValidationError) as exc:
        services.send(acting_user=owner, request=request)
    errors = exc.value.message_dict
    assert "fields.debtor" in errors and "被执行人" in errors["fields.debtor"][0]
    assert _fresh(request).status == RequestStatus.DRAFT and not _fresh(request).number


def test_missing_attachments_are_named(owner, courts, kind):
    request = services.create_request(
        acting_user=owner, kind=kind, sender=courts[0], receiver=courts[1], title="无附件", fields=EXECUTION_FIELDS
    )
    with pytest.raises(ValidationError) as exc:
        services.send(acting_user=owner, request=request)
    assert "执行依据文书" in exc.value.message_dict["attachments"][0]


def test_a_kind_the_agency_type_may_not_send(owner, courts):
    community = RequestKind.objects.get(code="community_correction")  # justice bureaus only
    with pytest.raises(ValidationError) as exc:
        services.create_request(acting_user=owner, kind=community, sender=courts[0], title="x")
    assert "社区矫正个案协调" in exc.value.message_dict["kind"][0]


def test_files_over_the_limit_or_of_a_refused_type_are_refused(sent, owner):
    with override_settings(ASSISTANCE_MAX_UPLOAD_BYTES=1024), pytest.raises(ValidationError):
        services.attach(acting_user=owner, request=sent, uploaded=pdf(body=b"x" * 2048))
    with pytest.raises(ValidationError) as exc:
        services.attach(acting_user=owner, request=sent, uploaded=pdf("木马.exe"))
    assert ".pdf" in exc.value.message_dict["file"][0]


def test_the_scanning_hook_can_refuse_a_file(sent, owner):
    hook = "yipanqi.assistance.tests.test_services.refuse_everything"
    with override_settings(ASSISTANCE_SCAN_HOOK=hook), pytest.raises(ValidationError) as exc:
        services.attach(acting_user=owner, request=sent, uploaded=pdf())
    assert exc.value.messages == ["病毒"]


def refuse_everything(uploaded):
    raise ValidationError("病毒")


def test_attachments_keep_their_sha256(sent, owner):
    import hashlib

    body = b"%PDF-1.4 evidence"
    attachment = services.attach(acting_user=owner, request=sent, uploaded=pdf("证据.pdf", body))
    assert attachment.sha256 == hashlib.sha256(body).hexdigest() and attachment.size == len(body)


# --------------------------------------------------------------------------- routing


def test_entrusted_execution_goes_only_to_a_court_of_the_same_level(owner, courts, kind):
    chongqing_intermediate = (
        Agency.objects.filter(type="court", level="city", region__code__startswith="50").first()
        or Agency.objects.filter(type="court", level="city").exclude(region__code__startswith="51").first()
    )
    assert routing.refusal(kind, courts[0], courts[1], None) == ""
    problem = routing.refusal(kind, courts[0], chongqing_intermediate, None)
    assert chongqing_intermediate.name in problem
    police = Agency.objects.get(name="重庆市公安局")
    assert "委托执行" in routing.refusal(kind, courts[0], police, None)


def test_routing_proposes_the_counterpart_of_the_same_level(owner, courts, kind):
    proposals = routing.propose(owner, kind, courts[0], Region.objects.get(code="500000"))
    assert proposals and proposals[0].agency == courts[1]


def test_cross_filing_goes_to_the_court_with_jurisdiction(owner, courts):
    kind = RequestKind.objects.get(code="cross_filing")
    chengdu = Region.objects.get(code="510100")
    chengdu_court = Agency.objects.get(name="成都市中级人民法院")
    assert routing.refusal(kind, courts[1], chengdu_court, chengdu) == ""
    far = Region.objects.get(code="230000")
    assert chengdu_court.name in routing.refusal(kind, courts[1], chengdu_court, far)
    assert routing.refusal(kind, courts[1], chengdu_court, None)  # the target region is needed


def test_forwarding_keeps_the_chain_visible_to_everyone_in_it(sent, owner, partner, courts):
    with pytest.raises(ValidationError):
        services.forward(acting_user=partner, request=sent, to=courts[0], reason="退回原处")
    wanted = Agency.objects.filter(type="court", level=courts[0].level).exclude(pk__in=[c.pk for c in courts]).first()
    with pytest.raises(ValidationError):
        services.forward(acting_user=partner, request=sent, to=wanted, reason=" ")
    request = services.forward(acting_user=partner, request=sent, to=wanted, reason="被执行人财产在该院辖区")
    assert request.receiver == wanted and request.status == RequestStatus.SENT
    chain = list(RequestHop.objects.filter(request=request).values_list("to_agency", flat=True))
    assert chain == [courts[1].pk, wanted.pk]
    assert AssistanceRequest.objects.visible_to(partner).filter(pk=request.pk).exists()  # it passed through 重庆
    with pytest.raises(PermissionError):
        services.sign(acting_user=partner, request=request)  # but 重庆 no longer holds it


# --------------------------------------------------------------------------- visibility


def test_who_sees_a_request(sent, owner, partner, outsider, coordinator):
    handler = User.objects.get(username="cd_court")  # a handler of 成都中院, not a party
    visible = AssistanceRequest.objects.filter(pk=sent.pk)
    for user in (owner, partner, coordinator):
        assert visible.visible_to(user).exists()
    for user in (outsider, handler):
        assert not visible.visible_to(user).exists()


# --------------------------------------------------------------------------- deadlines over time


def test_working_day_clocks_skip_the_national_day_week_and_count_the_make_up_saturday(owner, partner, courts):
    kind = RequestKind.objects.get(code="investigation")  # sign 1 working day, accept 2 working days
    police = Agency.objects.get(name="四川省公安厅"), Agency.objects.get(name="重庆市公安局")
    sender = User.objects.create_user("sc_police_test", agency=police[0])
    from yipanqi.directory.models import Role, RoleGrant

    RoleGrant.objects.create(user=sender, role=Role.HANDLER)
    fields = {"subject": "张某某", "matters": "核查其名下车辆及出行轨迹"}
    with time_machine.travel(at(2026, 9, 30, 16), tick=False):
        request = services.create_request(
            acting_user=sender, kind=kind, sender=police[0], receiver=police[1], title="协查", fields=fields
        )
        request = services.send(acting_user=sender, request=request)
    assert request.sign_due_at == end_of(2026, 10, 8)  # 10.1–10.7 off
    with time_machine.travel(at(2026, 10, 9, 9), tick=False):
        request = services.sign(acting_user=None, request=request)
    assert request.accept_due_at == end_of(2026, 10, 12)  # Sat 10.10 is a make-up workday, Sun 10.11 is not


def test_urgent_requests_count_in_hours_and_turn_yellow_then_red(owner, partner, courts):
    kind = RequestKind.objects.get(code="asset_control")  # urgent: finish within 24 hours
    with time_machine.travel(at(2026, 11, 2, 9), tick=False):
        request = services.create_request(
            acting_user=owner,
            kind=kind,
            sender=courts[0],
            receiver=courts[1],
            title="紧急冻结",
            urgency="urgent",
            fields={"asset_type": "银行存款", "measure": "冻结", "clues": "某银行账户"},
        )
        services.attach(acting_user=owner, request=request, uploaded=pdf(), label="协助查控通知书")
        request = services.send(acting_user=owner, request=request)
        request = services.accept(acting_user=partner, request=request)
    assert request.finish_due_at == at(2026, 11, 3, 9)
    assert deadlines.light(request, at(2026, 11, 2, 20)) == "green"
    assert deadlines.light(request, at(2026, 11, 3, 5)) == "yellow"  # the last 20 % of the 24 hours
    assert deadlines.light(request, at(2026, 11, 3, 10)) == "red"


def test_pausing_stops_the_clock_and_resuming_moves_it_on(sent, owner, partner):
    with time_machine.travel(at(2026, 12, 1), tick=False):
        request = services.accept(acting_user=partner, request=sent)
    due = request.finish_due_at
    with time_machine.travel(at(2026, 12, 10), tick=False):
        request = services.pause(acting_user=partner, request=request, reason="请补充执行依据生效证明")
        assert request.status == RequestStatus.PAUSED and deadlines.light(request) == "paused"
    with time_machine.travel(at(2026, 12, 15), tick=False):
        with pytest.raises(PermissionError):
            services.resume(acting_user=partner, request=request)  # the sender supplies the material
        request = services.resume(acting_user=owner, request=request, note="已补充")
    assert request.status == RequestStatus.ACCEPTED
    assert request.finish_due_at == due + datetime.timedelta(days=5)


def test_an_extension_is_asked_granted_and_moves_the_deadline(sent, owner, partner, kind):
    request = services.accept(acting_user=partner, request=sent)
    due = request.finish_due_at
    with pytest.raises(ValidationError):
        services.request_extension(acting_user=partner, request=request, days=kind.max_extension_days + 1, reason="x")
    request = services.request_extension(acting_user=partner, request=request, days=20, reason="财产处置需评估")
    with pytest.raises(Conflict):
        services.request_extension(acting_user=partner, request=request, days=5, reason="再延")
    with pytest.raises(PermissionError):
        services.decide_extension(acting_user=partner, request=request, grant=True)
    request = services.decide_extension(acting_user=owner, request=request, grant=True)
    assert request.finish_due_at.date() == (due + datetime.timedelta(days=20)).date()
    assert request.extended_days == 20 and request.due_at == request.finish_due_at
    assert RequestEvent.objects.filter(request=request, kind=EventKind.EXTENSION_GRANTED).exists()


def test_an_unfinished_entrusted_execution_escalates_after_six_months(owner, partner, courts, kind):
    """委托执行: filed within 7 days of receipt; not finished in 6 months → the receiving court's superior sees it."""
    intermediate = Agency.objects.get(name="成都市中级人民法院")
    basic = Agency.objects.filter(parent=intermediate, type="court").first()
    other_basic = Agency.objects.filter(type="court", level="county", region__code__startswith="50").first()
    # A basic court of 重庆 entrusts one of 成都 (same level); its superior is 成都中院.
    from yipanqi.directory.models import Role, RoleGrant

    liaison = User.objects.create_user("basic_liaison", agency=basic)
    RoleGrant.objects.create(user=liaison, role=Role.LIAISON)
    asker = User.objects.create_user("other_basic", agency=other_basic)
    RoleGrant.objects.create(user=asker, role=Role.HANDLER)
    superior = User.objects.create_user("intermediate_liaison", agency=intermediate)
    RoleGrant.objects.create(user=superior, role=Role.LIAISON)
    with time_machine.travel(at(2026, 3, 2), tick=False):
        request = draft_execution(asker, (other_basic, basic), kind)
        request = services.send(acting_user=asker, request=request)
        request = services.sign(acting_user=liaison, request=request)
    assert request.accept_due_at == end_of(2026, 3, 9)  # 7 days of receipt
    with time_machine.travel(at(2026, 3, 5), tick=False):
        request = services.accept(acting_user=liaison, request=request)
    assert request.finish_due_at == end_of(2026, 9, 5)
    assert services.sweep(at(2026, 9, 5, 12))["escalated"] == 0
    assert not AssistanceRequest.objects.filter(pk=request.pk).visible_to(superior).exists()
    counts = services.sweep(at(2026, 9, 6, 8))
    request = _fresh(request)
    assert counts["escalated"] == 1 and request.escalated_to == intermediate and request.escalation_level == 1
    assert services.sweep(at(2026, 9, 6, 9))["escalated"] == 0  # once per level
    assert AssistanceRequest.objects.filter(pk=request.pk).visible_to(superior).exists()  # 成都中院 sees it now
    assert Notification.objects.filter(recipient=superior, kind="assistance.update").exists()
    assert RequestEvent.objects.filter(request=request, kind=EventKind.ESCALATED).count() == 1
    # A further step past the deadline moves it one level up again (to 四川高院).
    services.sweep(at(2026, 10, 7, 8))
    assert _fresh(request).escalated_to == intermediate.parent


def test_sweep_warns_once_near_the_deadline(sent, partner):
    request = services.accept(acting_user=partner, request=sent)
    moment = request.warn_at + datetime.timedelta(hours=1)
    first = services.sweep(moment)
    assert first["warned"] >= 1 and services.sweep(moment)["warned"] == 0


def test_months_clamp_to_the_end_of_a_shorter_month():
    assert deadlines.add_months(datetime.date(2026, 8, 31), 6) == datetime.date(2027, 2, 28)
    assert deadlines.add_months(datetime.date(2027, 8, 31), 6) == datetime.date(2028, 2, 29)


# --------------------------------------------------------------------------- kinds as data


SHIPPED = (
    "协查 线索移送 取证协作 委托执行 事项委托（调查/送达/保全） 跨域立案 追逃协作 涉案财产查控 "
    "社区矫正个案协调 刑满释放衔接 公证异地核查 律师维权联动 卷宗查阅"
)


def test_every_shipped_kind_is_valid_data():
    kinds = list(RequestKind.objects.all())
    assert {k.name for k in kinds} >= set(SHIPPED.split())
    for kind in kinds:
        kind.full_clean()  # agency types, JSON Schema, documents
    execution = RequestKind.objects.get(code="entrusted_execution")
    assert (execution.accept_within, execution.accept_unit) == (7, "days")
    assert (execution.finish_within, execution.finish_unit, execution.escalate_overdue) == (6, "months", True)


def test_an_admin_edit_with_a_broken_schema_or_unknown_type_is_refused(kind):
    kind.fields_schema = {"type": "object", "properties": {"x": {"type": "nonsense"}}}
    kind.sender_types = ["court", "martians"]
    with pytest.raises(ValidationError) as exc:
        kind.full_clean()
    assert {"fields_schema", "sender_types"} <= set(exc.value.message_dict)
