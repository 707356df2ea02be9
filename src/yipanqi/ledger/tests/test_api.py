"""Ledger API: permission matrix (owner, partner, outsider, anonymous; plus the coordinator), writes, bad input."""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction

from yipanqi.directory.models import Agency
from yipanqi.directory.services import issue_api_key
from yipanqi.ledger.models import Agreement, Measure, ProgressReport, Supervision

pytestmark = pytest.mark.django_db

# In the tree fixture the owner (四川高院) leads 一、1, the partner (重庆高院) co-owns it; both sign the agreement.
# The outsider (黑龙江公安) has nothing to do with it.


def _who(request, role):
    return None if role == "anonymous" else request.getfixturevalue(role)


MATRIX = [("owner", 200), ("partner", 200), ("coordinator", 200), ("outsider", 404), ("anonymous", 401)]


@pytest.mark.parametrize(("role", "expected"), MATRIX)
def test_read_matrix(request, api, tree, role, expected):
    client = api(_who(request, role))
    agreement = tree["leaf"].agreement
    with transaction.atomic():
        from yipanqi.ledger import services

        report = services.file_report(
            acting_user=request.getfixturevalue("owner"), owner=tree["lead"], text="ok", progress=20
        )
    for url in (
        f"/api/v1/agreements/{agreement.pk}/",
        f"/api/v1/measures/{tree['leaf'].pk}/",
        f"/api/v1/progress-reports/{report.pk}/",
    ):
        assert client.get(url).status_code == expected, url
    listing = client.get(f"/api/v1/measures/?agreement={agreement.pk}")
    if role == "anonymous":
        assert listing.status_code == 401
    else:
        assert (listing.json()["count"] == 3) is (expected == 200)


@pytest.mark.parametrize(
    ("role", "expected"),
    [("coordinator", 201), ("owner", 403), ("partner", 403), ("outsider", 400), ("anonymous", 401)],
)
def test_only_coordinators_add_measures(request, api, tree, role, expected):
    before = Measure.objects.count()
    response = api(_who(request, role)).post(
        "/api/v1/measures/",
        {"agreement": tree["leaf"].agreement_id, "number": "二", "title": "律师协作"},
        format="json",
    )
    assert response.status_code == expected
    assert Measure.objects.count() == before + (1 if expected == 201 else 0)


@pytest.mark.parametrize(
    ("role", "expected"),
    [("owner", 201), ("partner", 201), ("coordinator", 400), ("outsider", 400), ("anonymous", 401)],
)
def test_reports_by_owners_only(request, api, tree, role, expected):
    response = api(_who(request, role)).post(
        "/api/v1/progress-reports/",
        {"measure": tree["leaf"].pk, "text": "已建立联络机制", "progress": 50},
        format="json",
    )
    assert response.status_code == expected, response.content
    assert ProgressReport.objects.count() == (1 if expected == 201 else 0)


def test_report_retry_with_idempotency_key(api, tree, owner):
    client = api(owner)
    payload = {"measure": tree["leaf"].pk, "text": "第二季度进展", "progress": 35}
    first = client.post("/api/v1/progress-reports/", payload, format="json", HTTP_IDEMPOTENCY_KEY="q2-2026")
    second = client.post("/api/v1/progress-reports/", payload, format="json", HTTP_IDEMPOTENCY_KEY="q2-2026")
    assert first.json()["id"] == second.json()["id"] and ProgressReport.objects.count() == 1


def test_agency_system_reads_and_reports_with_scopes(api, tree, owner):
    with transaction.atomic():
        token = issue_api_key(
            acting_user=owner, agency=owner.agency, name="审判系统", scopes=["ledger:read", "ledger:write"]
        ).token
        read_only = issue_api_key(acting_user=owner, agency=owner.agency, name="只读", scopes=["ledger:read"]).token
    client = api(None)
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {token}")
    assert client.get(f"/api/v1/measures/?owner={owner.agency_id}").json()["count"] == 1
    response = client.post(
        "/api/v1/progress-reports/", {"measure": tree["leaf"].pk, "text": "系统推送", "progress": 10}, format="json"
    )
    assert response.status_code == 201
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {read_only}")
    assert (
        client.post(
            "/api/v1/progress-reports/", {"measure": tree["leaf"].pk, "text": "x", "progress": 10}, format="json"
        ).status_code
        == 403
    )


def test_supervision_api_cycle(api, tree, coordinator, owner, partner):
    due = (datetime.date.today() + datetime.timedelta(days=5)).isoformat()
    issued = api(coordinator).post(
        "/api/v1/supervisions/",
        {"owner": tree["lead"].pk, "message": "请于五日内答复", "reply_due_on": due},
        format="json",
    )
    assert issued.status_code == 201
    pk = issued.json()["id"]
    assert (
        api(owner)
        .post("/api/v1/supervisions/", {"owner": tree["lead"].pk, "message": "x", "reply_due_on": due}, format="json")
        .status_code
        == 403
    )
    assert api(partner).post(f"/api/v1/supervisions/{pk}/reply/", {"reply": "x"}, format="json").status_code == 403
    assert api(owner).post(f"/api/v1/supervisions/{pk}/reply/", {"reply": "已落实"}, format="json").status_code == 200
    assert api(coordinator).post(f"/api/v1/supervisions/{pk}/close/").status_code == 200
    assert Supervision.objects.get(pk=pk).status == "closed"


def test_create_agreement_api_validates(api, coordinator, chengyu):
    sichuan = Agency.objects.get(name="四川省司法厅")
    heilongjiang = Agency.objects.get(name="黑龙江省公安厅")
    response = api(coordinator).post(
        "/api/v1/agreements/",
        {
            "title": "《川渝司法行政合作协议》",
            "circle": chengyu.pk,
            "signatories": [sichuan.pk, heilongjiang.pk],
        },
        format="json",
    )
    assert response.status_code == 400 and "黑龙江省公安厅" in str(response.json()["error"]["fields"])
    assert not Agreement.objects.filter(title="《川渝司法行政合作协议》").exists()
    chongqing = Agency.objects.get(name="重庆市司法局")
    response = api(coordinator).post(
        "/api/v1/agreements/",
        {
            "title": "《川渝司法行政合作协议》",
            "circle": chengyu.pk,
            "signatories": [sichuan.pk, chongqing.pk],
            "kind": "cooperation",
            "status": "in_force",
            "signed_on": "2026-05-20",
        },
        format="json",
    )
    assert response.status_code == 201


def test_close_share_and_confirm_via_api(api, tree, owner, partner, coordinator):
    leaf = tree["leaf"].pk
    assert (
        api(owner).post(f"/api/v1/measures/{leaf}/close-share/", {"results": "完成"}, format="json").status_code == 200
    )
    assert (
        api(partner).post(f"/api/v1/measures/{leaf}/close-share/", {"results": "完成"}, format="json").status_code
        == 200
    )
    assert api(owner).post(f"/api/v1/measures/{leaf}/confirm-closure/", {}, format="json").status_code == 403
    response = api(coordinator).post(
        f"/api/v1/measures/{leaf}/confirm-closure/", {"results": "两地对接"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "done" and response.json()["light"] == "done"
