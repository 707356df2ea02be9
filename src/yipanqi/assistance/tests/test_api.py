"""Assistance API: the permission matrix of every endpoint and transition, agency systems' API keys, department
visibility for case handlers, bad input (nothing changed on refusal), idempotent creation, filters, bulk signing,
the thread and attachments.

The cast (conftest): ``owner`` (sc_court) is a liaison and case handler of 四川高院, the sender; ``partner``
(cq_court) of 重庆高院, the receiver; ``coordinator`` (chengyu_coord) coordinates 成渝 and so reads its requests
but takes no step; ``outsider`` (hlj_police) shares nothing; ``cd_court`` is a case handler (not a liaison) in the
执行局 of 成都中院, who sees only his own and his department's requests."""

from __future__ import annotations

import datetime
import hashlib
import threading

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections, transaction
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from yipanqi.assistance import services
from yipanqi.assistance.models import (
    AssistanceRequest,
    Attachment,
    FeedEntry,
    Receipt,
    RequestEvent,
    RequestHop,
    RequestKind,
    RequestMessage,
)
from yipanqi.core.models import AuditEvent
from yipanqi.directory.factories import UserFactory
from yipanqi.directory.models import Agency, Department, Region, Role, RoleGrant, User
from yipanqi.directory.services import issue_api_key

from .conftest import EXECUTION_FIELDS, draft_execution, pdf

pytestmark = pytest.mark.django_db

URL = "/api/v1/assistance-requests/"
ROLES = ["owner", "partner", "coordinator", "outsider", "cd_court", "anonymous"]


@pytest.fixture
def cd_court(db):
    return User.objects.select_related("agency").get(username="cd_court")


def _who(request, role):
    return None if role == "anonymous" else request.getfixturevalue(role)


def _error(response) -> dict:
    return response.json()["error"]


def _key(issuer, agency, *scopes) -> str:
    with transaction.atomic():
        return issue_api_key(acting_user=issuer, agency=agency, name="业务系统", scopes=list(scopes)).token


def _system(api, token):
    client = api(None)
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {token}")
    return client


def world() -> list[int]:
    """Row counts of every table a write could touch: equal before and after a refusal means nothing was written."""
    models = (AssistanceRequest, RequestHop, RequestEvent, FeedEntry, Receipt, RequestMessage, Attachment, AuditEvent)
    return [m.objects.count() for m in models]


def row(request) -> dict:
    return AssistanceRequest.objects.filter(pk=request.pk).values().get()


def shanghai_court():
    return Agency.objects.get(name="上海市高级人民法院")


def department(agency, name):
    return Department.objects.get(agency=agency, name=name)


# --------------------------------------------------------------------------- states


def _state(name, owner, partner, courts, kind):
    """A request of 四川高院 to 重庆高院 in the named state, reached through the services."""
    request = draft_execution(owner, courts, kind)
    if name == "draft":
        return request
    services.send(acting_user=owner, request=request)
    if name == "sent":
        return request
    services.sign(acting_user=partner, request=request)
    if name == "received":
        return request
    if name == "paused":
        return services.pause(acting_user=partner, request=request, reason="请补充财产线索")
    services.accept(acting_user=partner, request=request)
    if name == "extension":
        return services.request_extension(acting_user=partner, request=request, days=10, reason="需异地查控")
    if name == "answered":
        return services.answer(acting_user=partner, request=request, result="已执行到位")
    assert name == "accepted"
    return request


# (step, the state it needs, body, who may take it, what it leads to)
STEPS = [
    ("send", "draft", None, "owner", {"status": "sent"}),
    ("sign", "sent", None, "partner", {"status": "received"}),
    ("accept", "sent", {}, "partner", {"status": "accepted"}),
    ("return", "sent", {"reason": "不属于本院管辖"}, "partner", {"status": "returned"}),
    ("forward", "sent", {"to": "shanghai", "reason": "被执行人财产在上海"}, "partner", {"status": "sent"}),
    ("withdraw", "sent", {"reason": "当事人已和解"}, "owner", {"status": "withdrawn"}),
    ("pause", "received", {"reason": "请补充财产线索"}, "partner", {"status": "paused"}),
    ("resume", "paused", {"note": "已补充"}, "owner", {"status": "received"}),
    ("start", "accepted", None, "partner", {"status": "in_progress"}),
    ("answer", "accepted", {"result": "已执行到位"}, "partner", {"status": "answered", "result": "已执行到位"}),
    ("extension", "accepted", {"days": 10, "reason": "需异地查控"}, "partner", {"extension_asked_days": 10}),
    ("extension-decision", "extension", {"grant": True}, "owner", {"extended_days": 10}),
    ("assign", "accepted", {"department": "执行局"}, "partner", {"status": "accepted"}),
    ("close", "answered", None, "owner", {"status": "closed"}),
    ("reopen", "answered", {"reason": "答复不完整"}, "owner", {"status": "in_progress"}),
]


def _body(body, courts):
    if body is None:
        return None
    body = dict(body)
    if body.get("to") == "shanghai":
        body["to"] = shanghai_court().pk
    if "department" in body:
        body["department"] = department(courts[1], body["department"]).pk
    return body


def _refusal(role, state, actor):
    """What each role gets for a step it may not take: 401 anonymous; 404 whoever cannot see the request (a draft
    is not yet in the circle, so its coordinator does not see it); 403 whoever sees it but is the wrong side."""
    if role == "anonymous":
        return {401}
    if role in ("outsider", "cd_court") or (role == "coordinator" and state == "draft"):
        return {404}
    if role == "partner" and state == "draft":
        # The receiver named in a draft: see the report on RequestQuerySet (drafts should be the sender's alone).
        return {403, 404}
    return {403}


@pytest.mark.parametrize(("step", "state", "body", "actor", "outcome"), STEPS, ids=[s[0] for s in STEPS])
def test_transition_matrix(request, api, owner, partner, courts, kind, step, state, body, actor, outcome):
    target = _state(state, owner, partner, courts, kind)
    body = _body(body, courts)
    url = f"{URL}{target.pk}/{step}/"
    before, counts = row(target), world()
    for role in ROLES:
        if role == actor:
            continue
        response = api(_who(request, role)).post(url, body, format="json")
        assert response.status_code in _refusal(role, state, actor), (role, response.content)
        assert _error(response)["code"]
        assert row(target) == before and world() == counts, role
    response = api(_who(request, actor)).post(url, body, format="json")
    assert response.status_code == 200, response.content
    after = row(target)
    assert {k: after[k] for k in outcome} == outcome
    assert response.json()["status"] == after["status"]
    assert world() != counts  # the step left its event (and audit record) behind


# --------------------------------------------------------------------------- reads


@pytest.mark.parametrize("role", ROLES)
def test_read_matrix(request, api, sent, role):
    client = api(_who(request, role))
    attachment, receipt = sent.attachments.first(), sent.receipts.first()
    sees = role in ("owner", "partner", "coordinator")
    expected = 200 if sees else {"anonymous": 401}.get(role, 404)
    for url in (
        f"{URL}{sent.pk}/",
        f"{URL}{sent.pk}/messages/",
        f"{URL}{sent.pk}/attachments/",
        f"{URL}{sent.pk}/receipts/",
        f"/api/v1/assistance-attachments/{attachment.pk}/",
        f"/api/v1/assistance-attachments/{attachment.pk}/download/",
        f"/api/v1/assistance-receipts/{receipt.pk}/",
    ):
        assert client.get(url).status_code == expected, (url, role)
    listed = client.get(URL)
    if role == "anonymous":
        assert listed.status_code == 401
        assert client.get("/api/v1/request-kinds/").status_code == 401
        assert client.get("/api/v1/assistance-events/").status_code == 401
        return
    assert [r["id"] for r in listed.json()["results"]] == ([sent.pk] if sees else [])
    assert client.get("/api/v1/request-kinds/").json()["count"] == RequestKind.objects.filter(is_active=True).count()
    feed = client.get("/api/v1/assistance-events/").json()
    # The feed is the caller's agency's: the coordinator reads the request through the circle, but his agency (the
    # 政法委) is no party to it, so nothing of it reaches his agency's feed.
    party = role in ("owner", "partner")
    assert {item["request"]["id"] for item in feed["results"]} == ({sent.pk} if party else set())


def test_detail_shows_chain_light_clocks_receipts_and_attachments(api, sent, owner, partner, courts):
    with transaction.atomic():
        services.forward(acting_user=partner, request=sent, to=shanghai_court(), reason="被执行人财产在上海")
    body = api(owner).get(f"{URL}{sent.pk}/").json()
    assert [(h["from_agency"]["id"], h["to_agency"]["id"]) for h in body["hops"]] == [
        (courts[0].pk, courts[1].pk),
        (courts[1].pk, shanghai_court().pk),
    ]
    assert body["hops"][1]["reason"] == "被执行人财产在上海"
    assert body["light"] == "green" and body["clocks"]["running"] == "sign"
    assert body["clocks"]["due_at"] == body["due_at"]
    assert [r["kind"] for r in body["receipts"]] == ["sent"]
    assert sorted(a["label"] for a in body["attachments"]) == sorted(sent.kind.required_attachments)
    download = body["attachments"][0]["links"]["download"]
    assert download.endswith(f"/api/v1/assistance-attachments/{body['attachments'][0]['id']}/download/")
    assert body["attachments"][0]["links"]["web"].endswith(f"/assistance/attachments/{body['attachments'][0]['id']}/")
    # The forwarding agency keeps seeing the chain; the new receiver sees it too.
    assert api(partner).get(f"{URL}{sent.pk}/").status_code == 200
    shanghai = UserFactory(agency=shanghai_court(), roles=[Role.LIAISON])
    assert api(shanghai).get(f"{URL}{sent.pk}/").json()["receiver"]["id"] == shanghai_court().pk


def test_download_serves_the_bytes_with_their_digest(api, sent, partner):
    attachment = sent.attachments.first()
    response = api(partner).get(f"/api/v1/assistance-attachments/{attachment.pk}/download/")
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    assert hashlib.sha256(content).hexdigest() == attachment.sha256
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert response["Repr-Digest"].startswith("sha-256=:")


def test_receipt_digest_is_over_its_payload(api, sent, partner):
    receipt = api(partner).get(f"{URL}{sent.pk}/receipts/").json()["results"][0]
    assert receipt["kind"] == "sent" and receipt["number"] == sent.number
    assert receipt["payload"]["content_sha256"] == services.content_digest(sent)
    assert hashlib.sha256(services.canonical(receipt["payload"])).hexdigest() == receipt["digest"]
    assert api(partner).get(receipt["url"]).json() == receipt


# --------------------------------------------------------------------------- drafts: create and change


def _create(client, courts, **extra):
    payload = {
        "kind": "entrusted_execution",
        "title": "委托执行：重庆某建材有限公司",
        "case_number": "（2026）川执456号",
        "parties": "成都某商贸有限公司；重庆某建材有限公司",
        "receiver": courts[1].pk,
        "fields": dict(EXECUTION_FIELDS),
        **extra,
    }
    headers = {}
    if "key" in payload:
        headers["HTTP_IDEMPOTENCY_KEY"] = payload.pop("key")
    return client.post(URL, payload, format="json", **headers)


@pytest.mark.parametrize(
    ("role", "expected"),
    [("owner", 201), ("partner", 403), ("coordinator", 403), ("outsider", 403), ("cd_court", 403), ("anonymous", 401)],
)
def test_create_for_sichuan_matrix(request, api, courts, role, expected):
    counts = world()
    response = _create(api(_who(request, role)), courts, sender=courts[0].pk)
    assert response.status_code == expected, response.content
    if expected != 201:
        assert world() == counts
        return
    body = response.json()
    assert body["status"] == "draft" and body["number"] == "" and body["sender"]["id"] == courts[0].pk
    assert body["sender_department"]["name"] == "研究室"  # the writer's department by default
    assert body["created_by"]["id"] == request.getfixturevalue(role).pk


def test_sender_defaults_to_the_callers_agency(api, partner, courts):
    response = _create(api(partner), (courts[1], courts[0]))
    assert response.status_code == 201 and response.json()["sender"]["id"] == courts[1].pk


@pytest.mark.parametrize(("role", "expected"), [("owner", 200), ("partner", {403, 404}), ("coordinator", 404)])
def test_change_draft_matrix(request, api, owner, courts, kind, role, expected):
    draft = draft_execution(owner, courts, kind)
    before = row(draft)
    response = api(_who(request, role)).patch(f"{URL}{draft.pk}/", {"title": "委托执行（修改）"}, format="json")
    assert response.status_code in ({expected} if isinstance(expected, int) else expected)
    if role == "owner":
        assert response.json()["title"] == "委托执行（修改）" == row(draft)["title"]
    else:
        assert row(draft) == before


def test_sent_request_is_no_longer_a_draft(api, sent, owner):
    response = api(owner).patch(f"{URL}{sent.pk}/", {"title": "改"}, format="json")
    assert response.status_code == 409 and _error(response)["code"] == "conflict"


def test_kind_and_sender_stay(api, owner, courts, kind):
    draft = draft_execution(owner, courts, kind)
    for change in ({"kind": "investigation"}, {"sender": courts[0].pk}):
        response = api(owner).patch(f"{URL}{draft.pk}/", change, format="json")
        assert response.status_code == 400 and set(change) <= set(_error(response)["fields"])
    assert api(owner).put(f"{URL}{draft.pk}/", {"title": "x"}, format="json").status_code == 405


# --------------------------------------------------------------------------- idempotency


def test_retried_create_answers_the_first_request(api, owner, partner, courts):
    client = api(owner)
    first = _create(client, courts, key="sc-exec-0001")
    second = _create(client, courts, key="sc-exec-0001", title="重试时改了标题")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()
    assert AssistanceRequest.objects.filter(sender=courts[0], idempotency_key="sc-exec-0001").count() == 1
    assert _create(client, courts, key="sc-exec-0002").status_code == 201
    # The key is the sending agency's: another agency's identical key is another request.
    assert _create(api(partner), (courts[1], courts[0]), key="sc-exec-0001").status_code == 201
    assert AssistanceRequest.objects.filter(idempotency_key="sc-exec-0001").count() == 2


def test_key_of_a_colleagues_request_is_a_conflict(api, cd_court, kind):
    """A case handler who may not see the request his colleague created under the same key learns nothing of it."""
    court = cd_court.agency
    colleague = UserFactory(agency=court, department=department(court, "立案庭"), roles=[Role.HANDLER])
    receiver = Agency.objects.get(name="重庆市第一中级人民法院")
    first = _create(api(colleague), (court, receiver), key="cd-1")
    assert first.status_code == 201
    counts = world()
    response = _create(api(cd_court), (court, receiver), key="cd-1")
    assert response.status_code == 409 and first.json()["title"] not in response.content.decode()
    assert world() == counts


def test_overlong_idempotency_key_is_refused(api, owner, courts):
    counts = world()
    response = _create(api(owner), courts, key="k" * 65)
    assert response.status_code == 400 and "Idempotency-Key" in _error(response)["fields"]
    assert world() == counts


# --------------------------------------------------------------------------- bad input


def test_bad_input_answers_400_naming_the_field_and_writes_nothing(api, owner, partner, courts, kind, sent):
    draft = draft_execution(owner, courts, kind)
    bare = services.create_request(acting_user=owner, kind=kind, sender=courts[0], title="尚未填写", receiver=courts[1])
    city_court = Agency.objects.get(name="成都市中级人民法院")
    counts, rows = world(), [row(r) for r in (draft, bare, sent)]
    cases = [
        # a required field of the kind's schema, named by its path and its Chinese title
        (
            owner,
            "post",
            URL,
            {"kind": "entrusted_execution", "title": "x", "fields": {"basis_number": "1"}},
            "fields.debtor",
        ),
        (owner, "post", URL, {"kind": "entrusted_execution", "title": "x", "fields": {"debtor": 5}}, "fields.debtor"),
        (owner, "post", URL, {"kind": "entrusted_execution", "title": "x", "fields": ["a"]}, "fields"),
        # a kind a court may not send (追逃协作: police and procuratorates)
        (owner, "post", URL, {"kind": "fugitive", "title": "追逃", "fields": {"person": "张某"}}, "kind"),
        (owner, "post", URL, {"kind": "no-such-kind", "title": "x"}, "kind"),
        (owner, "post", URL, {"kind": "entrusted_execution"}, "title"),
        (owner, "post", URL, {"kind": "entrusted_execution", "title": "x", "receiver": 99999999}, "receiver"),
        (owner, "post", URL, {"kind": "entrusted_execution", "title": "x", "target_region": "999999"}, "target_region"),
        (owner, "post", URL, {"kind": "entrusted_execution", "title": "x", "urgency": "yesterday"}, "urgency"),
        (owner, "post", URL, {"kind": "entrusted_execution", "title": "x", "receiver": courts[0].pk}, "receiver"),
        (
            owner,
            "post",
            URL,
            {"kind": "entrusted_execution", "title": "x", "sender_department": department(courts[1], "执行局").pk},
            "sender_department",
        ),
        (owner, "patch", f"{URL}{draft.pk}/", {"fields": {"basis_number": ""}}, "fields.basis_number"),
        (owner, "patch", f"{URL}{draft.pk}/", {"title": ""}, "title"),
        # sending checks the kind's fields, the routing and the required documents
        (owner, "post", f"{URL}{bare.pk}/send/", None, "fields.basis_number"),
        (owner, "post", f"{URL}{bare.pk}/send/", None, "attachments"),
        (partner, "post", f"{URL}{sent.pk}/return/", {"reason": "  "}, "reason"),
        (partner, "post", f"{URL}{sent.pk}/return/", {}, "reason"),
        (partner, "post", f"{URL}{sent.pk}/forward/", {"to": city_court.pk, "reason": "x"}, "to"),
        (partner, "post", f"{URL}{sent.pk}/forward/", {"to": courts[0].pk, "reason": "x"}, "to"),
        (partner, "post", f"{URL}{sent.pk}/accept/", {"department": department(courts[0], "执行局").pk}, "department"),
        (partner, "post", f"{URL}{sent.pk}/accept/", {"assignee": owner.pk}, "assignee"),
        (owner, "post", f"{URL}sign/", {"ids": []}, "ids"),
        (owner, "post", f"{URL}sign/", {"ids": "1,2"}, "ids"),
        (owner, "post", f"{URL}{sent.pk}/messages/", {"text": " "}, "text"),
        (owner, "post", f"{URL}{sent.pk}/attachments/", {"label": "无文件"}, "file"),
    ]
    for user, method, url, payload, field in cases:
        response = getattr(api(user), method)(url, payload, format="json")
        assert response.status_code == 400, (url, payload, response.content)
        error = _error(response)
        assert error["code"] and field in error["fields"] and error["fields"][field], (url, payload, error)
    title = _error(api(owner).post(f"{URL}{bare.pk}/send/"))["fields"]["fields.basis_number"][0]
    assert "执行依据文书号" in title  # the schema's Chinese title names the field
    response = api(owner).post(f"{URL}{sent.pk}/messages/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert world() == counts and [row(r) for r in (draft, bare, sent)] == rows


def test_wrong_level_receiver_is_refused_at_sending(api, owner, courts, kind):
    draft = draft_execution(owner, (courts[0], Agency.objects.get(name="重庆市第一中级人民法院")), kind)
    counts = world()
    response = api(owner).post(f"{URL}{draft.pk}/send/")
    assert response.status_code == 400 and "receiver" in _error(response)["fields"]
    assert world() == counts and row(draft)["status"] == "draft"


def test_steps_out_of_order_are_conflicts(api, sent, owner, partner):
    counts, before = world(), row(sent)
    cases = [
        (partner, "answer", {"result": "已办结"}),  # answer before accept
        (partner, "start", None),
        (partner, "extension", {"days": 5, "reason": "x"}),
        (owner, "close", None),
        (owner, "reopen", {"reason": "x"}),
        (owner, "resume", None),
        (owner, "extension-decision", {"grant": True}),
        (owner, "send", None),
    ]
    for user, step, body in cases:
        response = api(user).post(f"{URL}{sent.pk}/{step}/", body, format="json")
        assert response.status_code == 409, (step, response.content)
        assert _error(response)["code"] == "conflict" and _error(response)["message"], step
    assert world() == counts and row(sent) == before


def test_extension_beyond_the_kinds_limit(api, owner, partner, courts, kind):
    accepted = _state("accepted", owner, partner, courts, kind)
    counts = world()
    too_long = kind.max_extension_days + 1
    response = api(partner).post(f"{URL}{accepted.pk}/extension/", {"days": too_long, "reason": "x"}, format="json")
    assert response.status_code == 400 and "days" in _error(response)["fields"]
    assert world() == counts


def test_second_acceptance_is_a_conflict(api, sent, partner):
    assert api(partner).post(f"{URL}{sent.pk}/accept/", {}, format="json").status_code == 200
    counts = world()
    assert api(partner).post(f"{URL}{sent.pk}/accept/", {}, format="json").status_code == 409
    assert world() == counts


# --------------------------------------------------------------------------- attachments and the thread


def test_upload_limits_and_allow_list(api, owner, sent):
    url = f"{URL}{sent.pk}/attachments/"
    counts = world()
    with override_settings(ASSISTANCE_MAX_UPLOAD_BYTES=1024):
        big = SimpleUploadedFile("财产清单.pdf", b"%PDF" + b"0" * 2048, content_type="application/pdf")
        response = api(owner).post(url, {"file": big, "label": "财产线索"}, format="multipart")
        assert response.status_code == 400 and "file" in _error(response)["fields"]
    for name in ("病毒.exe", "无后缀"):
        refused = SimpleUploadedFile(name, b"MZ\x90\x00", content_type="application/octet-stream")
        response = api(owner).post(url, {"file": refused}, format="multipart")
        assert response.status_code == 400 and "file" in _error(response)["fields"], name
    empty = SimpleUploadedFile("空.pdf", b"", content_type="application/pdf")
    assert api(owner).post(url, {"file": empty}, format="multipart").status_code == 400
    assert world() == counts


@pytest.mark.parametrize(
    ("role", "expected"), [("owner", 201), ("partner", 201), ("coordinator", 403), ("outsider", 404), ("cd_court", 404)]
)
def test_attach_matrix(request, api, sent, role, expected):
    counts = world()
    response = api(_who(request, role)).post(
        f"{URL}{sent.pk}/attachments/", {"file": pdf("补充材料.pdf"), "label": "补充材料"}, format="multipart"
    )
    assert response.status_code == expected, response.content
    if expected != 201:
        assert world() == counts
        return
    body = response.json()
    user = request.getfixturevalue(role)
    assert body["agency"]["id"] == user.agency_id and body["label"] == "补充材料"
    assert body["sha256"] == hashlib.sha256(b"%PDF-1.4 test").hexdigest() and body["size"] == len(b"%PDF-1.4 test")
    listed = api(user).get(f"{URL}{sent.pk}/attachments/").json()
    assert body["id"] in [a["id"] for a in listed["results"]]


@pytest.mark.parametrize(
    ("role", "expected"), [("owner", 201), ("partner", 201), ("coordinator", 403), ("outsider", 404), ("cd_court", 404)]
)
def test_message_matrix(request, api, sent, role, expected):
    counts = world()
    response = api(_who(request, role)).post(f"{URL}{sent.pk}/messages/", {"text": "请尽快办理"}, format="json")
    assert response.status_code == expected, response.content
    if expected != 201:
        assert world() == counts
        return
    user = request.getfixturevalue(role)
    assert response.json()["agency"]["id"] == user.agency_id and response.json()["author"]["id"] == user.pk
    thread = api(request.getfixturevalue("coordinator")).get(f"{URL}{sent.pk}/messages/").json()
    assert [m["text"] for m in thread["results"]] == ["请尽快办理"]


def test_message_with_files_in_multipart(api, sent, partner):
    files = [pdf("查询结果.pdf"), pdf("回执.pdf", b"%PDF-1.4 other")]
    response = api(partner).post(
        f"{URL}{sent.pk}/messages/", {"text": "查询结果见附件", "files": files}, format="multipart"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert sorted(a["name"] for a in body["attachments"]) == ["回执.pdf", "查询结果.pdf"]
    assert all(a["message"] == body["id"] for a in body["attachments"])


def test_drafts_have_no_thread(api, owner, courts, kind):
    draft = draft_execution(owner, courts, kind)
    assert api(owner).post(f"{URL}{draft.pk}/messages/", {"text": "x"}, format="json").status_code == 409


# --------------------------------------------------------------------------- case handlers see their department's


@pytest.fixture
def chengdu(cd_court, kind):
    """成都中院 (cd_court: 执行局) and 重庆一中院: two requests sent by 成都中院 (by the 立案庭 and by the 执行局)
    and two received (assigned to the 执行局 and to the 立案庭)."""
    court = cd_court.agency
    other = Agency.objects.get(name="重庆市第一中级人民法院")
    filing, enforcement = department(court, "立案庭"), department(court, "执行局")
    filing_clerk = UserFactory(agency=court, department=filing, roles=[Role.HANDLER])
    enforcement_clerk = UserFactory(agency=court, department=enforcement, roles=[Role.HANDLER])
    liaison = UserFactory(agency=court, roles=[Role.LIAISON])
    chongqing = UserFactory(agency=other, roles=[Role.LIAISON, Role.HANDLER])
    sent = {}
    for name, clerk in (("filing_out", filing_clerk), ("enforcement_out", enforcement_clerk)):
        sent[name] = services.send(acting_user=clerk, request=draft_execution(clerk, (court, other), kind))
    for name, dept in (("enforcement_in", enforcement), ("filing_in", filing)):
        received = services.send(acting_user=chongqing, request=draft_execution(chongqing, (other, court), kind))
        sent[name] = services.accept(acting_user=liaison, request=received, department=dept)
    return sent


def test_case_handler_sees_his_departments_requests_only(api, cd_court, chengdu):
    client = api(cd_court)
    mine = {chengdu["enforcement_out"].pk, chengdu["enforcement_in"].pk}
    assert {r["id"] for r in client.get(URL).json()["results"]} == mine
    assert [r["id"] for r in client.get(f"{URL}?box=inbox").json()["results"]] == [chengdu["enforcement_in"].pk]
    assert [r["id"] for r in client.get(f"{URL}?box=outbox").json()["results"]] == [chengdu["enforcement_out"].pk]
    for name in ("filing_out", "filing_in"):
        request = chengdu[name]
        assert client.get(f"{URL}{request.pk}/").status_code == 404
        assert client.post(f"{URL}{request.pk}/start/").status_code == 404
    assert client.post(f"{URL}{chengdu['enforcement_in'].pk}/start/").status_code == 200
    feed = client.get("/api/v1/assistance-events/?limit=500").json()
    assert {item["request"]["id"] for item in feed["results"]} == mine
    assert feed["next_cursor"] == FeedEntry.objects.filter(agency=cd_court.agency).latest("id").pk
    # The agency's system reads the whole agency's.
    system = _system(
        api, _key(UserFactory(agency=cd_court.agency, roles=[Role.LIAISON]), cd_court.agency, "assistance:read")
    )
    assert system.get(URL).json()["count"] == 4


def test_handler_who_assigns_away_still_gets_the_outcome(api, cd_court, chengdu):
    request = chengdu["enforcement_in"]
    filing = department(cd_court.agency, "立案庭")
    response = api(cd_court).post(f"{URL}{request.pk}/assign/", {"department": filing.pk}, format="json")
    assert response.status_code == 200 and response.json()["receiver_department"]["id"] == filing.pk
    assert api(cd_court).get(f"{URL}{request.pk}/").status_code == 404


# --------------------------------------------------------------------------- agency systems (API keys)


def test_api_keys_need_the_assistance_scopes(api, sent, owner, partner, outsider, courts):
    police = Agency.objects.get(name="黑龙江省公安厅")
    reader = _system(api, _key(partner, courts[1], "assistance:read"))
    writer = _system(api, _key(partner, courts[1], "assistance:read", "assistance:write"))
    meetings_only = _system(api, _key(partner, courts[1], "meetings:read", "meetings:write"))
    stranger = _system(api, _key(outsider, police, "assistance:read", "assistance:write"))
    detail = f"{URL}{sent.pk}/"

    assert reader.get(detail).status_code == 200
    assert reader.get(URL).json()["count"] == 1
    assert reader.get("/api/v1/request-kinds/").status_code == 200
    assert reader.get("/api/v1/assistance-events/").status_code == 200
    for url in (detail, URL, "/api/v1/request-kinds/", "/api/v1/assistance-events/", f"{detail}receipts/"):
        assert meetings_only.get(url).status_code == 403, url
    assert stranger.get(detail).status_code == 404
    assert stranger.get(URL).json()["count"] == 0
    assert stranger.get("/api/v1/assistance-events/").json() == {"results": [], "next_cursor": 0}

    counts = world()
    assert reader.post(f"{detail}sign/").status_code == 403  # no assistance:write
    assert meetings_only.post(f"{detail}sign/").status_code == 403
    assert stranger.post(f"{detail}sign/").status_code == 404
    assert reader.post(f"{detail}messages/", {"text": "x"}, format="json").status_code == 403
    assert world() == counts
    response = writer.post(f"{detail}sign/")
    assert response.status_code == 200 and response.json()["status"] == "received"
    signed = Receipt.objects.get(request=sent, kind="signed")
    assert signed.payload["by"] == "" and signed.payload["by_agency"] == courts[1].name
    # The receiver's system may not take the sender's steps.
    assert writer.post(f"{detail}withdraw/", {}, format="json").status_code == 403


def test_agency_systems_run_a_request_end_to_end(api, owner, partner, courts):
    sichuan = _system(api, _key(owner, courts[0], "assistance:read", "assistance:write"))
    chongqing = _system(api, _key(partner, courts[1], "assistance:read", "assistance:write"))
    created = _create(sichuan, courts, key="sys-0001")
    assert created.status_code == 201, created.content
    request = created.json()
    assert request["created_by"] is None and request["sender"]["id"] == courts[0].pk
    url = f"{URL}{request['id']}/"
    for label in RequestKind.objects.get(code="entrusted_execution").required_attachments:
        upload = sichuan.post(f"{url}attachments/", {"file": pdf(f"{label}.pdf"), "label": label}, format="multipart")
        assert upload.status_code == 201, upload.content
    assert sichuan.post(f"{url}send/").json()["status"] == "sent"
    assert chongqing.post(f"{url}accept/", {}, format="json").json()["status"] == "accepted"
    answered = chongqing.post(f"{url}answer/", {"result": "已扣划执行款"}, format="json").json()
    assert answered["status"] == "answered" and answered["assignee"] is None
    closed = sichuan.post(f"{url}close/").json()
    assert closed["status"] == "closed"
    assert [r["kind"] for r in closed["receipts"]] == ["sent", "accepted", "answered"]  # accepting implies signing
    kinds = [item["kind"] for item in chongqing.get("/api/v1/assistance-events/").json()["results"]]
    assert kinds[-3:] == ["accepted", "answered", "closed"]


# --------------------------------------------------------------------------- bulk signing


def test_bulk_sign(api, owner, partner, courts, kind, sent):
    second = services.send(acting_user=owner, request=draft_execution(owner, courts, kind))
    signed_already = services.send(acting_user=owner, request=draft_execution(owner, courts, kind))
    services.sign(acting_user=partner, request=signed_already)
    police = Agency.objects.get(name="黑龙江省公安厅")
    hidden = services.create_request(
        acting_user=None, kind=RequestKind.objects.get(code="investigation"), sender=police, title="黑龙江协查"
    )
    ids = [sent.pk, second.pk, signed_already.pk, hidden.pk, 99999999, sent.pk]
    response = api(partner).post(f"{URL}sign/", {"ids": ids}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["signed"] == [sent.pk, second.pk]
    assert [r["id"] for r in body["refused"]] == [signed_already.pk, hidden.pk, 99999999]
    assert body["refused"][1]["message"] == body["refused"][2]["message"]  # unseen is refused like missing
    assert {row(r)["status"] for r in (sent, second)} == {"received"}
    # The sender's liaison may not sign for the receiver: each refused, nothing signed.
    third = services.send(acting_user=owner, request=draft_execution(owner, courts, kind))
    body = api(owner).post(f"{URL}sign/", {"ids": [third.pk]}, format="json").json()
    assert body["signed"] == [] and body["refused"][0]["id"] == third.pk and row(third)["status"] == "sent"


# --------------------------------------------------------------------------- filters


def _ids(client, **query) -> list[int]:
    response = client.get(URL, query)
    assert response.status_code == 200, (query, response.content)
    return [r["id"] for r in response.json()["results"]]


def test_filters(api, owner, partner, coordinator, courts, kind, sent):
    investigation = RequestKind.objects.get(code="investigation")
    police_sc = Agency.objects.get(name="四川省公安厅")
    police_cq = Agency.objects.get(name="重庆市公安局")
    sc_officer = UserFactory(agency=police_sc, roles=[Role.LIAISON])
    lookup = services.create_request(
        acting_user=sc_officer,
        kind=investigation,
        sender=police_sc,
        receiver=police_cq,
        title="协查：王某某",
        parties="王某某",
        fields={"subject": "王某某", "matters": "核查身份及住址"},
    )
    services.send(acting_user=sc_officer, request=lookup)
    answered = _state("answered", owner, partner, courts, kind)
    received = api(partner)
    assert _ids(received, box="inbox") == [answered.pk, sent.pk]
    assert _ids(received, counterpart_region="510000") == [answered.pk, sent.pk]
    assert _ids(received, box="inbox", counterpart_region="51") == [answered.pk, sent.pk]
    assert _ids(received, box="outbox") == []

    draft = draft_execution(owner, courts, kind)
    client = api(owner)
    assert _ids(client, box="outbox") == [draft.pk, answered.pk, sent.pk]
    assert _ids(client, box="inbox") == []
    assert _ids(received, box="inbox") == [answered.pk, sent.pk]  # drafts are never in an inbox
    assert _ids(client, status="answered") == [answered.pk]
    assert _ids(client, status=["answered", "sent"]) == [answered.pk, sent.pk]
    assert _ids(client, light="green") == [sent.pk]
    assert _ids(client, light="red") == []
    # counterpart region: the other side's region, by code or code prefix
    assert _ids(client, counterpart_region="500000") == [draft.pk, answered.pk, sent.pk]
    assert _ids(client, counterpart_region="50") == [draft.pk, answered.pk, sent.pk]
    assert _ids(client, counterpart_region="510000") == []
    after = sent.sent_at - datetime.timedelta(seconds=1)
    assert _ids(client, sent_after=after.isoformat()) == [answered.pk, sent.pk]
    assert _ids(client, sent_before=after.isoformat()) == []
    assert _ids(client, ordering="id") == [sent.pk, answered.pk, draft.pk]

    coordinated = api(coordinator)
    assert _ids(coordinated, kind="investigation") == [lookup.pk]
    assert _ids(coordinated, kind="entrusted_execution") == [answered.pk, sent.pk]
    assert _ids(coordinated, q=sent.number) == [sent.pk]
    assert _ids(coordinated, q="王某") == [lookup.pk]
    assert _ids(coordinated, q="川执123号") == [answered.pk, sent.pk]
    assert _ids(coordinated, q="協查") == [lookup.pk]  # 繁體 input is normalised
    assert _ids(coordinated, counterpart_region="500000") == [answered.pk, lookup.pk, sent.pk]

    for name, bad in (
        ("light", "purple"),
        ("box", "trash"),
        ("counterpart_region", "abc"),
        ("sent_after", "yesterday"),
        ("status", "lost"),
    ):
        response = client.get(URL, {name: bad})
        assert response.status_code == 400, name
        assert name in _error(response)["fields"], name


def test_light_filter_follows_the_clocks(api, owner, partner, courts, kind):
    now = timezone.now()
    with time_machine.travel(now - datetime.timedelta(days=20), tick=False):
        late = services.send(acting_user=owner, request=draft_execution(owner, courts, kind))
    near = services.send(acting_user=owner, request=draft_execution(owner, courts, kind))
    with time_machine.travel(now + datetime.timedelta(days=10), tick=False):
        fresh = services.send(acting_user=owner, request=draft_execution(owner, courts, kind))
    paused = _state("paused", owner, partner, courts, kind)
    near.refresh_from_db()
    client = api(None)
    client.force_authenticate(partner)  # a session would expire on the journey
    with time_machine.travel(near.warn_at + datetime.timedelta(minutes=1), tick=False):
        assert _ids(client, light="red") == [late.pk]
        assert _ids(client, light="yellow") == [near.pk]
        assert _ids(client, light="green") == [fresh.pk]
        assert _ids(client, light="paused") == [paused.pk]
        lights = {r["id"]: r["light"] for r in client.get(URL).json()["results"]}
    assert lights == {late.pk: "red", near.pk: "yellow", fresh.pk: "green", paused.pk: "paused"}


# --------------------------------------------------------------------------- kinds


def test_kinds_with_schema_documents_and_policy(api, owner, partner, courts):
    body = api(owner).get("/api/v1/request-kinds/entrusted_execution/").json()
    assert body["name"] == "委托执行" and body["required_attachments"] == ["委托执行函", "执行依据文书"]
    assert body["fields_schema"]["required"] == ["basis_number", "debtor", "applicant"]
    assert (body["policy"]["accept"]["within"], body["policy"]["accept"]["unit"]) == (7, "days")
    assert body["policy"]["finish"]["within"] == 6 and body["policy"]["finish"]["unit"] == "months"
    assert body["policy"]["escalate_overdue"] is True
    proposals = api(owner).get("/api/v1/request-kinds/entrusted_execution/receivers/?region=500000").json()
    assert proposals[0]["agency"]["id"] == courts[1].pk  # the court of the same level
    response = api(owner).get("/api/v1/request-kinds/entrusted_execution/receivers/?region=xyz")
    assert response.status_code == 400 and "region" in _error(response)["fields"]
    RequestKind.objects.filter(code="file_access").update(is_active=False)
    assert api(owner).get("/api/v1/request-kinds/file_access/").status_code == 404
    codes = [k["code"] for k in api(owner).get("/api/v1/request-kinds/").json()["results"]]
    assert "file_access" not in codes and codes[0] == "investigation"


# --------------------------------------------------------------------------- concurrent retries (PostgreSQL)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_create_one_request():
    """A client that times out and retries while its first POST is still running: one request, both answered."""
    region, _ = Region.objects.get_or_create(
        code="990300", defaults={"name": "测试市", "kind": "地级市", "level": "city", "path": "/990300/"}
    )
    court = Agency.objects.create(name="幂等测试法院", type="court", level="city", region=region)
    kind = RequestKind.objects.create(code="idempotency-test", name="幂等测试", sender_types=["court"])
    clerk = User.objects.create(username="idempotent-clerk", agency=court)
    RoleGrant.objects.create(user=clerk, role=Role.HANDLER)
    barrier, answers = threading.Barrier(3), []

    def post():
        try:
            client = APIClient()
            client.force_authenticate(clerk)
            barrier.wait(timeout=10)
            response = client.post(
                URL, {"kind": kind.code, "title": "同一请求"}, format="json", HTTP_IDEMPOTENCY_KEY="retry-1"
            )
            answers.append((response.status_code, response.json().get("id")))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    created = AssistanceRequest.objects.filter(sender=court, idempotency_key="retry-1")
    assert created.count() == 1
    assert sorted(code for code, _ in answers) == [200, 200, 201]
    assert {pk for _, pk in answers} == {created.get().pk}
