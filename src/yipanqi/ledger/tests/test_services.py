"""Ledger services: the tree, shared ownership, roll-up, closure (销号), supervision (督办) and their rules."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from yipanqi.core.models import AuditEvent
from yipanqi.directory.models import Agency
from yipanqi.ledger import services
from yipanqi.ledger.models import Measure, MeasureStatus, ProgressReport, ShareStatus, SupervisionStatus

pytestmark = pytest.mark.django_db


def _fresh(measure):
    return Measure.objects.get(pk=measure.pk)


def _report(user, owner, progress, **kw):
    with transaction.atomic():
        return services.file_report(acting_user=user, owner=owner, text=f"进展 {progress}", progress=progress, **kw)


def test_tree_paths_and_leaves(tree):
    area, leaf, other = (_fresh(tree[k]) for k in ("area", "leaf", "other"))
    assert (area.depth, leaf.depth) == (0, 1)
    assert leaf.path.startswith(area.path) and leaf.path < other.path
    assert not area.is_leaf and leaf.is_leaf


def test_roll_up_from_shares_to_area(tree, owner, partner):
    _report(owner, tree["lead"], 40)
    _report(partner, tree["co"], 80)
    assert _fresh(tree["leaf"]).progress == 60  # mean of the two shares
    assert _fresh(tree["area"]).progress == 30  # mean of 一、1 (60) and 一、2 (0)


def test_owner_reports_only_on_its_own_share(tree, owner, partner, outsider):
    for user in (partner, outsider):
        with pytest.raises(PermissionError), transaction.atomic():
            services.file_report(acting_user=user, owner=tree["lead"], text="x", progress=10)
    assert not ProgressReport.objects.exists()


@pytest.mark.parametrize(
    ("text", "progress", "field"), [("", 10, "text"), ("ok", 101, "progress"), ("ok", -1, "progress")]
)
def test_bad_reports_write_nothing(tree, owner, text, progress, field):
    with pytest.raises(ValidationError) as exc, transaction.atomic():
        services.file_report(acting_user=owner, owner=tree["lead"], text=text, progress=progress)
    assert field in exc.value.message_dict
    assert not ProgressReport.objects.exists() and _fresh(tree["leaf"]).progress == 0


def test_idempotent_report(tree, owner):
    first = _report(owner, tree["lead"], 30, idempotency_key="sync-2026-06")
    again = _report(owner, tree["lead"], 30, idempotency_key="sync-2026-06")
    assert first.pk == again.pk and ProgressReport.objects.count() == 1


def test_closure_needs_every_share_then_the_coordinator(tree, owner, partner, coordinator):
    with transaction.atomic():
        services.close_share(acting_user=owner, owner=tree["lead"], results="建立查控专线")
    assert _fresh(tree["leaf"]).status == MeasureStatus.OPEN
    with pytest.raises(ValidationError), transaction.atomic():
        services.confirm_closure(acting_user=coordinator, measure=tree["leaf"])
    with transaction.atomic():
        services.close_share(acting_user=partner, owner=tree["co"], results="对接完成")
    assert _fresh(tree["leaf"]).status == MeasureStatus.CLOSING
    with pytest.raises(PermissionError), transaction.atomic():
        services.confirm_closure(acting_user=owner, measure=tree["leaf"])  # not the coordinator
    with transaction.atomic():
        services.confirm_closure(acting_user=coordinator, measure=tree["leaf"], results="两地执行查控全面对接")
    leaf = _fresh(tree["leaf"])
    assert leaf.status == MeasureStatus.DONE and leaf.progress == 100 and leaf.closed_at
    assert _fresh(tree["area"]).progress == 50 and _fresh(tree["area"]).status == MeasureStatus.OPEN


def test_closure_by_all_signatories(tree, owner, partner, coordinator, agreement):
    with transaction.atomic():
        services.update_agreement(acting_user=coordinator, agreement=agreement, closure_rule="signatories")
        services.close_share(acting_user=owner, owner=tree["lead"], results="a")
        services.close_share(acting_user=partner, owner=tree["co"], results="b")
        services.confirm_closure(acting_user=owner, measure=tree["leaf"])
    assert _fresh(tree["leaf"]).status == MeasureStatus.CLOSING  # 重庆 has not confirmed yet
    with transaction.atomic():
        services.confirm_closure(acting_user=partner, measure=tree["leaf"])
    assert _fresh(tree["leaf"]).status == MeasureStatus.DONE


def test_only_coordinators_shape_the_ledger(agreement, owner, courts):
    with pytest.raises(PermissionError), transaction.atomic():
        services.add_measure(acting_user=owner, agreement=agreement, number="二", title="x")
    assert not Measure.objects.filter(agreement=agreement).exists()


def test_agreement_validation_names_the_outsider(coordinator, chengyu, courts):
    outside = Agency.objects.get(name="黑龙江省公安厅")
    with pytest.raises(ValidationError) as exc, transaction.atomic():
        services.create_agreement(acting_user=coordinator, title="x", circle=chengyu, signatories=[courts[0], outside])
    assert "黑龙江省公安厅" in str(exc.value.message_dict["signatories"])
    with pytest.raises(ValidationError), transaction.atomic():
        services.create_agreement(acting_user=coordinator, title="x", circle=chengyu, signatories=[courts[0]])


def test_owner_rules(tree, coordinator, courts):
    procuratorate = Agency.objects.get(name="重庆市人民检察院")
    with pytest.raises(ValidationError) as exc, transaction.atomic():
        services.assign_owner(acting_user=coordinator, measure=tree["area"], agency=procuratorate)
    assert "measure" in exc.value.message_dict  # owners go to the lowest level
    with pytest.raises(ValidationError) as exc, transaction.atomic():
        services.assign_owner(acting_user=coordinator, measure=tree["leaf"], agency=procuratorate, role="lead")
    assert "role" in exc.value.message_dict  # one lead only
    with pytest.raises(ValidationError) as exc, transaction.atomic():
        services.add_measure(
            acting_user=coordinator,
            agreement=tree["leaf"].agreement,
            parent=tree["leaf"],
            number="一、1、(1)",
            title="x",
        )
    assert "parent" in exc.value.message_dict  # a measure with owners gets no sub-items


def test_supervision_cycle(tree, coordinator, owner, partner):
    due = datetime.date.today() + datetime.timedelta(days=7)
    with transaction.atomic():
        notice = services.issue_supervision(
            acting_user=coordinator, owner=tree["lead"], message="请加快进度", reply_due_on=due
        )
    assert notice.light in ("green", "blue", "yellow", "red")
    with pytest.raises(PermissionError), transaction.atomic():
        services.reply_supervision(acting_user=partner, supervision=notice, reply="x")
    with transaction.atomic():
        services.reply_supervision(acting_user=owner, supervision=notice, reply="已召开专题会，本月完成")
        services.close_supervision(acting_user=coordinator, supervision=notice)
    notice.refresh_from_db()
    assert notice.status == SupervisionStatus.CLOSED and notice.reply.startswith("已召开")
    actions = list(AuditEvent.objects.for_object(notice).order_by("id").values_list("action", flat=True))
    assert actions == ["ledger.supervision.issue", "ledger.supervision.reply", "ledger.supervision.close"]


def test_closed_share_takes_no_reports(tree, owner):
    with transaction.atomic():
        services.close_share(acting_user=owner, owner=tree["lead"], results="完成")
    with pytest.raises(ValidationError), transaction.atomic():
        services.file_report(acting_user=owner, owner=tree["lead"], text="x", progress=50)
    assert tree["lead"].__class__.objects.get(pk=tree["lead"].pk).status == ShareStatus.CLOSED


def test_import_tree_builds_audits_and_rolls_up_once(coordinator, agreement, courts):
    sichuan, chongqing = courts
    area = services.ImportNode(number="一", title="执行", row=2)
    nodes = [area] + [
        services.ImportNode(
            number=f"一、{i}", title=f"事项{i}", parent=area, lead=sichuan, co_owners=[chongqing], row=i + 2
        )
        for i in range(1, 4)
    ]
    with transaction.atomic():
        created = services.import_tree(acting_user=coordinator, agreement=agreement, nodes=nodes)
    assert [m.number for m in created] == ["一", "一、1", "一、2", "一、3"]
    root = _fresh(created[0])
    assert not root.is_leaf and all(_fresh(m).is_leaf for m in created[1:])
    assert (
        AuditEvent.objects.filter(action="ledger.measure.create", object_id__in=[str(m.pk) for m in created]).count()
        == 4
    )
    assert AuditEvent.objects.filter(action="ledger.owner.assign").count() == 6
    with transaction.atomic():
        services.file_report(acting_user=None, owner=created[1].owners.get(agency=sichuan), text="x", progress=90)
    assert _fresh(created[0]).progress == 15  # (45 + 0 + 0) / 3
    with pytest.raises(ValidationError) as exc, transaction.atomic():
        services.import_tree(
            acting_user=coordinator,
            agreement=agreement,
            nodes=[services.ImportNode(number="一、2", title="重复", row=7)],
        )
    assert exc.value.error_dict["measures"][0].params == {"row": 7}


def test_a_duplicate_number_is_an_error_on_the_number(tree, coordinator, api):
    with pytest.raises(ValidationError) as refused, transaction.atomic():
        services.add_measure(acting_user=coordinator, agreement=tree["leaf"].agreement, number="一、1", title="重复")
    assert list(refused.value.message_dict) == ["number"]
    with pytest.raises(ValidationError) as refused, transaction.atomic():
        services.update_measure(acting_user=coordinator, measure=tree["other"], number="一、1")
    assert list(refused.value.message_dict) == ["number"]
    payload = {"agreement": tree["leaf"].agreement_id, "parent": tree["area"].pk, "number": "一、1", "title": "重复"}
    response = api(coordinator).post("/api/v1/measures/", payload, format="json")
    assert response.status_code == 400 and "number" in response.json()["error"]["fields"]
