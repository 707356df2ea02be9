"""Bulletins (定期通报): content over a period, the documents, the API permission matrix, schedules and reminders."""

from __future__ import annotations

import datetime
import io

import docx
import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from yipanqi.core.models import Notification
from yipanqi.ledger import bulletins, jobs, services
from yipanqi.ledger.models import Bulletin, BulletinSchedule, BulletinStatus, MeasureOwner

pytestmark = pytest.mark.django_db
D = datetime.date


def _this_month():
    today = timezone.localdate()
    return today.replace(day=1), today


@pytest.fixture
def eventful(tree, coordinator, owner, partner):
    """The tree with an overdue item, reports from both courts, and a 督办单 answered by 四川高院."""
    today = timezone.localdate()
    with transaction.atomic():
        services.update_measure(
            acting_user=coordinator,
            measure=tree["leaf"],
            start_on=today - datetime.timedelta(days=120),
            due_on=today - datetime.timedelta(days=2),
        )
        services.file_report(acting_user=owner, owner=tree["lead"], text="已建立查控专线", progress=70)
        services.file_report(acting_user=partner, owner=tree["co"], text="完成系统对接测试", progress=40)
        supervision = services.issue_supervision(
            acting_user=coordinator, owner=tree["lead"], message="请于期限内报送整改情况", reply_due_on=today
        )
        services.reply_supervision(acting_user=owner, supervision=supervision, reply="已加派专人推进，本周完成")
    return tree


def _bulletin(coordinator, chengyu, **fields):
    first, last = _this_month()
    with transaction.atomic():
        return bulletins.create_bulletin(
            acting_user=coordinator, circle=chengyu, period_start=first, period_end=last, **fields
        )


def test_bulletin_content_and_docx(eventful, coordinator, chengyu):
    bulletin = _bulletin(coordinator, chengyu, agreement=eventful["leaf"].agreement, doc_number="成渝政法协〔2026〕7号")
    content = bulletins.bulletin_content(bulletin)
    assert content.measures_total == 2  # 一、1 and 一、2
    assert content.overdue == 1 and content.overdue_items[0].number == "一、1"
    assert content.overdue_items[0].owners.startswith(("主办", "Lead"))
    assert content.reports_in_period == 2
    assert content.supervisions_issued == content.supervisions_replied == 1
    ranking = {row.agency: row for row in content.agencies}
    assert ranking["四川省高级人民法院"].progress == 70 and ranking["四川省高级人民法院"].rank == 1
    assert ranking["重庆市高级人民法院"].progress == 40

    rendered = bulletins.render_now(bulletin.pk)
    assert rendered.status == BulletinStatus.READY and rendered.progress == 100
    assert rendered.figures["overdue"] == 1 and rendered.figures["reports"] == 2
    document = docx.Document(io.BytesIO(rendered.docx.read()))
    text = "\n".join(p.text for p in document.paragraphs)
    cells = "\n".join(cell.text for table in document.tables for row in table.rows for cell in row.cells)
    assert "成渝政法协〔2026〕7号" in text
    assert bulletin.title in text
    assert bulletin.issuer.name in text
    assert "四川省高级人民法院" in cells and "重庆市高级人民法院" in cells
    assert "一、1" in cells and "异地财产查控" in cells  # the overdue item
    assert "已加派专人推进，本周完成" in cells  # the 督办 reply
    assert rendered.pdf.read(5) == b"%PDF-"
    # the coordinators are told the bulletin is ready
    assert Notification.objects.filter(recipient=coordinator, kind="ledger.bulletin").exists()


def test_bulletin_defaults_and_refusals(tree, coordinator, owner, chengyu):
    bulletin = _bulletin(coordinator, chengyu)
    assert bulletin.status == BulletinStatus.QUEUED
    assert bulletin.issuer_id == chengyu.coordinating_agency_id
    assert bulletin.title and bulletin.doc_number
    second = _bulletin(coordinator, chengyu)
    assert second.doc_number != bulletin.doc_number  # the next free 文号
    with pytest.raises(PermissionError), transaction.atomic():
        bulletins.create_bulletin(
            acting_user=owner, circle=chengyu, period_start=D(2026, 1, 1), period_end=D(2026, 1, 31)
        )
    with pytest.raises(Exception) as refused, transaction.atomic():
        bulletins.create_bulletin(
            acting_user=coordinator, circle=chengyu, period_start=D(2026, 2, 1), period_end=D(2026, 1, 31)
        )
    assert "period_end" in refused.value.message_dict
    with pytest.raises(Exception) as duplicate, transaction.atomic():
        _bulletin(coordinator, chengyu, doc_number=bulletin.doc_number)
    assert "doc_number" in duplicate.value.message_dict
    assert Bulletin.objects.filter(circle=chengyu).count() == 2


# --------------------------------------------------------------------------- API permission matrix


def test_api_matrix(tree, coordinator, owner, partner, outsider, api, chengyu, client):
    first, last = _this_month()
    payload = {"circle": chengyu.pk, "period_start": first.isoformat(), "period_end": last.isoformat()}
    created = api(coordinator).post("/api/v1/bulletins/", payload, format="json", HTTP_IDEMPOTENCY_KEY="b-1")
    assert created.status_code == 201, created.content
    again = api(coordinator).post("/api/v1/bulletins/", payload, format="json", HTTP_IDEMPOTENCY_KEY="b-1")
    assert again.json()["id"] == created.json()["id"]  # a retried request creates nothing new
    pk = created.json()["id"]
    bulletins.render_now(pk)
    for who in (coordinator, owner, partner):  # the coordinator and agencies of the circle
        client_api = api(who)
        assert pk in [row["id"] for row in client_api.get("/api/v1/bulletins/").json()["results"]]
        body = client_api.get(f"/api/v1/bulletins/{pk}/").json()
        assert body["status"] == "ready" and body["docx_url"].endswith(f"/api/v1/bulletins/{pk}/docx/")
        download = client_api.get(f"/api/v1/bulletins/{pk}/docx/")
        assert download.status_code == 200
        assert b"".join(download.streaming_content)[:2] == b"PK"
    assert api(outsider).get(f"/api/v1/bulletins/{pk}/").status_code == 404
    assert api(outsider).get(f"/api/v1/bulletins/{pk}/pdf/").status_code == 404
    assert pk not in [row["id"] for row in api(outsider).get("/api/v1/bulletins/").json()["results"]]
    assert client.get(f"/api/v1/bulletins/{pk}/").status_code in (401, 403)
    refused = api(owner).post("/api/v1/bulletins/", payload, format="json")
    assert refused.status_code == 403
    bad = api(coordinator).post("/api/v1/bulletins/", {**payload, "period_end": "2000-01-01"}, format="json")
    assert bad.status_code == 400 and "period_end" in bad.json()["error"]["fields"]
    assert Bulletin.objects.filter(circle=chengyu).count() == 1


# --------------------------------------------------------------------------- schedules and daily jobs


def test_schedule_prepares_the_last_months_bulletin(tree, coordinator, owner, chengyu):
    with transaction.atomic():
        schedule = bulletins.create_schedule(
            acting_user=coordinator, circle=chengyu, number_prefix="成渝政法协", day_of_month=3
        )
    assert schedule.next_run_on > timezone.localdate() - datetime.timedelta(days=1)
    with pytest.raises(PermissionError), transaction.atomic():
        bulletins.create_schedule(acting_user=owner, circle=chengyu, number_prefix="x")
    day = schedule.next_run_on
    assert bulletins.run_schedules(day) == 1
    assert bulletins.run_schedules(day) == 0  # once per period
    bulletin = Bulletin.objects.get(schedule=schedule)
    first, last = bulletins.period_before("monthly", day)
    assert (bulletin.period_start, bulletin.period_end) == (first, last)
    assert last.month != day.month and bulletin.doc_number.startswith("成渝政法协")
    schedule.refresh_from_db()
    assert schedule.next_run_on > day
    with transaction.atomic():
        bulletins.stop_schedule(acting_user=coordinator, schedule=schedule)
    assert bulletins.run_schedules(schedule.next_run_on) == 0
    assert not BulletinSchedule.objects.get(pk=schedule.pk).is_active


def test_next_run_dates():
    assert bulletins.next_run("monthly", 3, D(2026, 11, 21)) == D(2026, 12, 3)
    assert bulletins.next_run("monthly", 3, D(2026, 12, 2)) == D(2026, 12, 3)
    assert bulletins.next_run("quarterly", 5, D(2026, 11, 21)) == D(2027, 1, 5)
    assert bulletins.period_before("quarterly", D(2027, 1, 5)) == (D(2026, 10, 1), D(2026, 12, 31))


def test_reminders_for_due_and_missing_reports(tree, owner, partner, settings):
    settings.LEDGER_REMIND_WORKDAYS = 3
    lead = MeasureOwner.objects.get(pk=tree["lead"].pk)
    co = MeasureOwner.objects.get(pk=tree["co"].pk)
    day = lead.report_due_on  # the lead's report falls due that day: it is reminded
    mail.outbox.clear()
    outcome = jobs.send_reminders(day)
    assert Notification.objects.filter(recipient=owner, kind="ledger.report-due").exists(), outcome
    # a week later, nobody reported: both agencies' liaisons hear the reports are overdue, once per week
    later = day + datetime.timedelta(days=7)
    jobs.send_reminders(later)
    jobs.send_reminders(later)
    assert Notification.objects.filter(recipient=owner, kind="ledger.report-missing").count() == 1
    assert Notification.objects.filter(recipient=partner, kind="ledger.report-missing").count() == 1
    assert co.report_due_on < later


def test_supervision_notifies_the_owner_and_the_reply_the_coordinator(tree, coordinator, owner):
    with transaction.atomic():
        supervision = services.issue_supervision(
            acting_user=coordinator, owner=tree["lead"], message="请加快进度", reply_due_on=timezone.localdate()
        )
    assert Notification.objects.filter(recipient=owner, kind="ledger.supervision").exists()
    with transaction.atomic():
        services.reply_supervision(acting_user=owner, supervision=supervision, reply="已推进")
    assert Notification.objects.filter(recipient=coordinator, kind="ledger.supervision-reply").exists()


def test_snapshots_feed_the_trend(eventful, chengyu):
    from yipanqi.ledger.board import backfill_snapshots, take_snapshots
    from yipanqi.ledger.models import BoardSnapshot

    today = timezone.localdate()
    assert take_snapshots(today) >= 2  # the circle and the agreement
    assert take_snapshots(today) >= 2  # idempotent: updated in place
    snap = BoardSnapshot.objects.get(agreement=eventful["leaf"].agreement, day=today)
    assert (snap.measures, snap.red, snap.reports) == (2, 1, 2)
    backfill_snapshots(today, 3)
    assert BoardSnapshot.objects.filter(agreement=eventful["leaf"].agreement).count() == 4


def test_a_bulletin_left_rendering_by_a_dead_worker_can_be_prepared_again(tree, coordinator, chengyu):
    bulletin = _bulletin(coordinator, chengyu)
    Bulletin.objects.filter(pk=bulletin.pk).update(status=BulletinStatus.RENDERING, started_at=timezone.now())
    with pytest.raises(Exception) as refused, transaction.atomic():
        bulletins.rerender_bulletin(acting_user=coordinator, bulletin=bulletin)
    assert "status" in refused.value.message_dict
    stale = timezone.now() - bulletins.STALE_RENDERING - datetime.timedelta(minutes=1)
    Bulletin.objects.filter(pk=bulletin.pk).update(started_at=stale)
    with transaction.atomic():
        again = bulletins.rerender_bulletin(acting_user=coordinator, bulletin=bulletin)
    assert again.status == BulletinStatus.QUEUED
