"""Assistance pages: the permission matrix of every page and POST endpoint, the request form (kinds the agency may
send, the routing proposals, the kind's details from its JSON Schema, the documents), the steps through the services
(form errors with nothing written, 409 when the state forbids), the thread and attachments, bulk signing, the inbox's
filters and constant queries, and the .xlsx export.

Cast (src/yipanqi/conftest.py): ``owner`` = 四川高院 liaison (the sender), ``partner`` = 重庆高院 liaison (the
receiver), ``coordinator`` = 成渝 coordination office (reads, never acts), ``outsider`` = 黑龙江 police liaison,
``cd_court`` = case handler of 成都中院 (执行局), who sees only what is his or his department's.
"""

from __future__ import annotations

import datetime
import io
import re

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from yipanqi.assistance import services
from yipanqi.assistance.forms import schema_fields
from yipanqi.assistance.models import (
    AssistanceRequest,
    Attachment,
    EventKind,
    Receipt,
    RequestEvent,
    RequestKind,
    RequestMessage,
    RequestStatus,
)
from yipanqi.assistance.tests.conftest import EXECUTION_FIELDS, draft_execution, pdf
from yipanqi.directory.factories import UserFactory
from yipanqi.directory.models import Agency, Department, Role, User

pytestmark = pytest.mark.django_db

ROLES = ("owner", "partner", "coordinator", "outsider", "anonymous")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _who(request, role):
    return None if role == "anonymous" else request.getfixturevalue(role)


def _client(web, request, role):
    return web(_who(request, role))


def _assert_status(response, expected, what):
    if expected == "login":
        assert response.status_code == 302, (what, response.status_code)
        assert response["Location"].startswith(reverse("login")), (what, response["Location"])
    else:
        assert response.status_code == expected, (what, response.status_code)


def _fresh(obj) -> AssistanceRequest:
    return AssistanceRequest.objects.get(pk=obj.pk)


def _page(response) -> str:
    return response.content.decode()


def _step(obj, step):
    return reverse("assistance:step", args=[obj.pk, step])


def _messages(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


@pytest.fixture
def signed(sent, partner):
    return services.sign(acting_user=partner, request=sent)


@pytest.fixture
def accepted(signed, partner):
    return services.accept(acting_user=partner, request=signed)


# --------------------------------------------------------------------------- permission matrix


def test_every_page_answers_each_role_as_it_should(request, web, owner, sent, courts, kind):
    draft = draft_execution(owner, courts, kind)
    attachment = sent.attachments.first()
    receipt = Receipt.objects.get(request=sent, kind=EventKind.SENT)
    urls = {
        "inbox": reverse("assistance:inbox"),
        "outbox": reverse("assistance:outbox"),
        "export": reverse("assistance:export"),
        "new": reverse("assistance:request-new"),
        "detail": reverse("assistance:request", args=[sent.pk]),
        "draft": reverse("assistance:request", args=[draft.pk]),
        "edit": reverse("assistance:request-edit", args=[draft.pk]),
        "return": _step(sent, "return"),
        "forward": _step(sent, "forward"),
        "withdraw": _step(sent, "withdraw"),
        "attachment": reverse("assistance:attachment", args=[attachment.pk]),
        "receipt": reverse("assistance:receipt", args=[receipt.pk, "json"]),
    }
    expected = {
        "owner": {"return": 403, "forward": 403},
        "partner": {"draft": 404, "edit": 404, "withdraw": 403},
        "coordinator": {"draft": 404, "edit": 404, "return": 403, "forward": 403, "withdraw": 403, "receipt": 403},
        "outsider": {
            "detail": 404,
            "draft": 404,
            "edit": 404,
            "return": 404,
            "forward": 404,
            "withdraw": 404,
            "attachment": 404,
            "receipt": 404,
        },
    }
    for role in ROLES:
        client = _client(web, request, role)
        for name, url in urls.items():
            want = "login" if role == "anonymous" else expected[role].get(name, 200)
            _assert_status(client.get(url), want, (role, name))


def test_posts_refuse_all_but_the_side_that_may_act_and_change_nothing(request, web, sent):
    sign = _step(sent, "sign")
    message = reverse("assistance:message-new", args=[sent.pk])
    upload = reverse("assistance:attachment-new", args=[sent.pk])
    for role, want in (("anonymous", "login"), ("outsider", 404), ("coordinator", 403), ("owner", 403)):
        client = _client(web, request, role)
        _assert_status(client.post(sign), want, (role, "sign"))
        assert _fresh(sent).status == RequestStatus.SENT
        if role != "owner":
            _assert_status(client.post(message, {"text": "你好"}), want, (role, "message"))
            _assert_status(client.post(upload, {"file": pdf("补充.pdf")}), want, (role, "attachment"))
    assert not RequestMessage.objects.filter(request=sent).exists()
    assert Attachment.objects.filter(request=sent).count() == 2
    response = _client(web, request, "partner").post(sign)
    assert response.status_code == 302 and response["Location"] == reverse("assistance:request", args=[sent.pk])
    assert _fresh(sent).status == RequestStatus.RECEIVED


def test_direct_steps_are_posts(web, partner, sent):
    assert web(partner).get(_step(sent, "sign")).status_code == 405
    assert web(partner).get(reverse("assistance:step", args=[sent.pk, "fly"])).status_code == 404


def test_bulk_sign_signs_only_the_inbox_of_the_one_who_acts(request, web, sent):
    url = reverse("assistance:bulk-sign")
    for role, want in (("anonymous", "login"), ("outsider", 302), ("coordinator", 302), ("owner", 302)):
        response = _client(web, request, role).post(url, {"ids": [sent.pk]})
        _assert_status(response, want, role)
        assert _fresh(sent).status == RequestStatus.SENT, role
    response = _client(web, request, "owner").post(url, {"ids": [sent.pk]}, follow=True)
    levels = [m.level_tag for m in response.wsgi_request._messages]
    assert levels == ["error"]  # not found in the owner's inbox: nothing signed
    _client(web, request, "partner").post(url, {"ids": [sent.pk]})
    assert _fresh(sent).status == RequestStatus.RECEIVED


def test_a_viewer_only_handler_is_refused_writes(web, sent, courts):
    viewer = UserFactory(agency=courts[1], roles=[Role.VIEWER])
    assert web(viewer).get(reverse("assistance:request", args=[sent.pk])).status_code == 200
    assert web(viewer).post(_step(sent, "sign")).status_code == 403
    assert web(viewer).post(reverse("assistance:bulk-sign"), {"ids": [sent.pk]}).status_code == 403
    assert web(viewer).get(reverse("assistance:request-new")).status_code == 403
    assert _fresh(sent).status == RequestStatus.SENT


# --------------------------------------------------------------------------- a case handler's narrowed view


@pytest.fixture
def to_chengdu(db, kind):
    """A 委托执行 from 重庆一中院 to 成都中院 (same level), signed by 成都中院's liaison, not yet assigned."""
    chongqing = Agency.objects.get(name="重庆市第一中级人民法院")
    chengdu = Agency.objects.get(name="成都市中级人民法院")
    writer = UserFactory(agency=chongqing, roles=[Role.LIAISON])
    liaison = UserFactory(agency=chengdu, roles=[Role.LIAISON])
    draft = draft_execution(writer, (chongqing, chengdu), kind)
    sent = services.send(acting_user=writer, request=draft)
    services.sign(acting_user=liaison, request=sent)
    return {"request": _fresh(sent), "liaison": liaison}


def test_a_case_handler_sees_only_his_departments_requests(web, to_chengdu):
    handler = User.objects.get(username="cd_court")
    obj = to_chengdu["request"]
    client = web(handler)
    detail = reverse("assistance:request", args=[obj.pk])
    assert client.get(detail).status_code == 404
    assert f'data-number="{obj.number}"' not in _page(client.get(reverse("assistance:inbox")))
    assert client.post(_step(obj, "accept")).status_code == 404

    department = Department.objects.get(agency=obj.receiver, name="执行局")
    liaison_client = web(to_chengdu["liaison"])
    response = liaison_client.post(_step(obj, "assign"), {"department": department.pk, "assignee": ""})
    assert response.status_code == 302
    assert _fresh(obj).receiver_department == department

    inbox = _page(client.get(reverse("assistance:inbox")))
    assert f'data-number="{obj.number}"' in inbox
    assert 'class="step-' not in inbox
    page = _page(client.get(detail))
    assert "step-accept" in page
    assert client.post(_step(obj, "accept")).status_code == 302
    assert _fresh(obj).status == RequestStatus.ACCEPTED
    mine = _page(client.get(reverse("assistance:inbox") + "?scope=mine"))
    assert f'data-number="{obj.number}"' in mine  # accepting made him the handler


# --------------------------------------------------------------------------- the request page


def test_the_request_page_shows_everything_with_the_ids_the_browser_test_uses(web, owner, partner, coordinator, sent):
    page = _page(web(partner).get(reverse("assistance:request", args=[sent.pk])))
    assert 'id="request-status"' in page and 'data-status="sent"' in page
    assert re.search(r'id="request-light"[^>]*data-light="green"', page) or re.search(
        r'data-light="green"[^>]*id="request-light"', page
    )
    steps = page.split('id="request-steps"')[1].split("</section>")[0]
    for step in ("sign", "accept", "return", "forward"):
        assert f"step-{step}" in steps
    assert "step-answer" not in steps and "step-close" not in steps
    assert 'class="list-group-item receipt-row" data-kind="sent"' in page
    assert 'id="message-form"' in page and 'id="attachment-form"' in page
    for attachment in sent.attachments.all():
        assert attachment.sha256 in page
    assert "执行依据文书号" in page and EXECUTION_FIELDS["debtor"] in page
    assert "receipt-json" in page and "receipt-pdf" in page
    assert "hop-row" in page and "event-row" in page and 'data-clock="sign"' in page

    own = _page(web(owner).get(reverse("assistance:request", args=[sent.pk])))
    steps = own.split('id="request-steps"')[1].split("</section>")[0]
    assert "step-withdraw" in steps and "step-sign" not in steps

    read_only = _page(web(coordinator).get(reverse("assistance:request", args=[sent.pk])))
    assert 'id="request-steps"' not in read_only
    assert 'id="message-form"' not in read_only and 'id="attachment-form"' not in read_only
    assert "receipt-json" not in read_only  # the receipts are the two agencies'
    assert 'data-kind="sent"' in read_only


def test_the_request_page_costs_the_same_with_a_long_thread(web, owner, partner, sent):
    url = reverse("assistance:request", args=[sent.pk])
    client = web(partner)
    services.post_message(acting_user=owner, request=sent, text="第一条", files=[pdf()])
    client.get(url)
    with CaptureQueriesContext(connection) as short:
        client.get(url)
    for i in range(5):
        services.post_message(acting_user=owner if i % 2 else partner, request=sent, text=f"第{i}条", files=[pdf()])
    with CaptureQueriesContext(connection) as long:
        response = client.get(url)
    assert _page(response).count("message-row") == 6
    assert len(short) == len(long)


# --------------------------------------------------------------------------- writing a request


def test_the_kind_picker_offers_only_what_the_agency_may_send(web, owner):
    page = _page(web(owner).get(reverse("assistance:request-new")))
    picker = page.split('id="start-kind"')[1].split("</select>")[0]
    assert "委托执行" in picker and "跨域立案" in picker
    assert "社区矫正个案协调" not in picker and "刑满释放衔接" not in picker
    assert 'id="request-form"' not in page

    correction = RequestKind.objects.get(code="community_correction")
    response = web(owner).get(reverse("assistance:request-new"), {"kind": correction.pk, "region": "重庆市"})
    assert 'id="request-form"' not in _page(response)
    assert list(response.context["start"].errors) == ["kind"]
    assert not AssistanceRequest.objects.filter(kind=correction).exists()


def test_the_form_proposes_receivers_and_renders_the_kinds_fields(web, owner, kind):
    response = web(owner).get(reverse("assistance:request-new"), {"kind": kind.pk, "region": "500000"})
    page = _page(response)
    receiver = page.split('id="request-receiver"')[1].split("</select>")[0]
    options = re.findall(r'<option value="(\d+)"[^>]*>([^<]*)</option>', receiver)
    assert options and options[0][1].startswith("重庆市高级人民法院")
    assert "（" in options[0][1]  # with the reasons
    for title in ("执行依据文书号", "被执行人", "申请执行人", "财产线索"):
        assert title in page
    assert re.search(r'<label class="form-label required" for="request-f_debtor">', page)
    assert re.search(r'<textarea[^>]*name="f_property_clues"', page)  # a long text
    assert 'name="doc_0"' in page and 'name="doc_1"' in page and "委托执行函" in page and "执行依据文书" in page


def test_schema_fields_map_types_to_inputs():
    schema = RequestKind.objects.get(code="release_handover").fields_schema
    fields = dict(schema_fields(schema))
    assert fields["release_on"].widget.input_type == "date"
    assert fields["person"].required and not fields["residence"].required
    assert fields["needs"].widget.__class__.__name__ == "Textarea"
    assert fields["person"].label == "服刑人员"
    enum = dict(schema_fields(RequestKind.objects.get(code="lead_transfer").fields_schema))["field"]
    assert [value for value, _label in enum.choices][1:] == ["公益诉讼", "扫黑除恶", "职务犯罪", "经济犯罪", "其他"]


def _new_data(kind, to, **extra):
    data = {
        "kind": kind.pk,
        "region": "500000",
        "receiver": to.pk,
        "title": "委托执行：重庆某建材有限公司",
        "case_number": "（2026）川执123号",
        "parties": "成都某商贸有限公司；重庆某建材有限公司",
        "urgency": "normal",
        "f_basis_number": EXECUTION_FIELDS["basis_number"],
        "f_debtor": EXECUTION_FIELDS["debtor"],
        "f_applicant": EXECUTION_FIELDS["applicant"],
        "f_property_clues": "",
        "idempotency_key": "form-key-1",
        "doc_0": pdf("委托执行函.pdf"),
        "doc_1": pdf("判决书.pdf"),
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def test_a_draft_is_saved_with_its_documents_then_sent_from_its_page(web, owner, partner, courts, kind):
    client = web(owner)
    url = reverse("assistance:request-new") + f"?kind={kind.pk}&region=500000"
    response = client.post(url, _new_data(kind, courts[1]))
    assert response.status_code == 302
    draft = AssistanceRequest.objects.get(idempotency_key="form-key-1")
    assert response["Location"] == reverse("assistance:request", args=[draft.pk])
    assert draft.status == RequestStatus.DRAFT and draft.receiver == courts[1]
    assert draft.target_region.code == "500000"
    assert draft.fields == EXECUTION_FIELDS
    assert sorted(draft.attachments.values_list("label", flat=True)) == sorted(kind.required_attachments)
    # The same form sent twice writes nothing more.
    assert client.post(url, _new_data(kind, courts[1]))["Location"] == response["Location"]
    assert AssistanceRequest.objects.filter(sender=courts[0]).count() == 1
    assert Attachment.objects.filter(request=draft).count() == 2
    # The receiver does not see a draft.
    assert web(partner).get(response["Location"]).status_code == 404

    sent = client.post(_step(draft, "send"))
    assert sent.status_code == 302
    draft = _fresh(draft)
    assert draft.status == RequestStatus.SENT and draft.number
    assert Receipt.objects.filter(request=draft, kind=EventKind.SENT).exists()
    assert web(partner).get(reverse("assistance:request", args=[draft.pk])).status_code == 200


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"f_debtor": ""}, "f_debtor"),
        ({"title": ""}, "title"),
        ({"receiver": "999999"}, "receiver"),
        ({"doc_0": "virus.exe"}, "doc_0"),
    ],
)
def test_bad_input_is_a_field_error_and_writes_nothing(web, owner, courts, kind, change, field):
    if "doc_0" in change:
        from django.core.files.uploadedfile import SimpleUploadedFile

        change = {"doc_0": SimpleUploadedFile("virus.exe", b"MZ...", content_type="application/octet-stream")}
    before = (AssistanceRequest.objects.count(), Attachment.objects.count(), RequestEvent.objects.count())
    url = reverse("assistance:request-new") + f"?kind={kind.pk}&region=500000"
    response = web(owner).post(url, _new_data(kind, courts[1], **change))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors, errors
    assert (AssistanceRequest.objects.count(), Attachment.objects.count(), RequestEvent.objects.count()) == before


def test_a_draft_is_edited_and_only_a_draft(web, owner, partner, courts, kind, sent):
    draft = draft_execution(owner, courts, kind)
    client = web(owner)
    url = reverse("assistance:request-edit", args=[draft.pk])
    page = _page(client.get(url))
    assert EXECUTION_FIELDS["debtor"] in page and "委托执行：重庆某建材有限公司" in page
    assert page.count('<span class="badge bg-green-lt ms-1">') == 2  # both documents attached already
    data = _new_data(kind, courts[1], title="委托执行：改后的事项", doc_0=None, doc_1=None)
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["form"].errors
    assert _fresh(draft).title == "委托执行：改后的事项"
    assert Attachment.objects.filter(request=draft).count() == 2

    bad = client.post(url, _new_data(kind, courts[1], f_applicant="", doc_0=None, doc_1=None))
    assert bad.status_code == 400 and "f_applicant" in bad.context["form"].errors
    assert _fresh(draft).fields["applicant"] == EXECUTION_FIELDS["applicant"]

    conflict = client.get(reverse("assistance:request-edit", args=[sent.pk]))
    assert conflict.status_code == 409 and 'id="conflict-message"' in _page(conflict)
    assert web(partner).get(reverse("assistance:request-edit", args=[sent.pk])).status_code == 403


# --------------------------------------------------------------------------- steps


def test_returning_needs_a_reason(web, partner, sent):
    client = web(partner)
    response = client.post(_step(sent, "return"), {"reason": "  "})
    assert response.status_code == 400 and "reason" in response.context["form"].errors
    assert _fresh(sent).status == RequestStatus.SENT
    assert client.post(_step(sent, "return"), {"reason": "不属于本院管辖"}).status_code == 302
    obj = _fresh(sent)
    assert obj.status == RequestStatus.RETURNED and obj.return_reason == "不属于本院管辖"


def test_a_step_the_state_forbids_is_a_409_page(web, partner, owner, sent):
    response = web(partner).get(_step(sent, "answer"))
    assert response.status_code == 409
    assert 'id="conflict-message"' in _page(response) and 'id="conflict-back"' in _page(response)
    response = web(partner).post(_step(sent, "answer"), {"result": "已执行完毕"})
    assert response.status_code == 409
    assert _fresh(sent).status == RequestStatus.SENT and not _fresh(sent).result
    assert web(owner).post(_step(sent, "close")).status_code == 409


def test_forwarding_offers_competent_agencies_elsewhere(web, partner, owner, sent):
    client = web(partner)
    page = _page(client.get(_step(sent, "forward") + "?region=610000"))
    shaanxi = Agency.objects.get(name="陕西省高级人民法院")
    assert f'<option value="{shaanxi.pk}"' in page
    assert "重庆市高级人民法院（" not in page  # not back to itself
    response = client.post(_step(sent, "forward"), {"region": "610000", "to": shaanxi.pk, "reason": ""})
    assert response.status_code == 400 and "reason" in response.context["form"].errors
    response = client.post(
        _step(sent, "forward"), {"region": "610000", "to": shaanxi.pk, "reason": "被执行人财产在陕西"}
    )
    assert response.status_code == 302
    obj = _fresh(sent)
    assert obj.receiver == shaanxi and obj.status == RequestStatus.SENT
    page = _page(web(owner).get(reverse("assistance:request", args=[sent.pk])))
    assert page.count("hop-row") == 2 and "被执行人财产在陕西" in page
    # 重庆高院 stays in the chain: it sees the request, but no longer acts on it.
    chain = _page(client.get(reverse("assistance:request", args=[sent.pk])))
    assert 'id="request-steps"' not in chain


def test_the_whole_lifecycle_through_the_pages(web, owner, partner, sent):
    receiver, sender = web(partner), web(owner)
    for step in ("sign", "accept", "start"):
        assert receiver.post(_step(sent, step)).status_code == 302, step
    assert _fresh(sent).status == RequestStatus.IN_PROGRESS

    limit = sent.kind.max_extension_days
    too_long = receiver.post(_step(sent, "extension"), {"days": limit + 1, "reason": "财产处置需时"})
    assert too_long.status_code == 400 and "days" in too_long.context["form"].errors
    assert receiver.post(_step(sent, "extension"), {"days": 10, "reason": "财产处置需时"}).status_code == 302
    due = _fresh(sent).finish_due_at
    assert sender.post(_step(sent, "extension-grant")).status_code == 302
    assert _fresh(sent).finish_due_at == due + datetime.timedelta(days=10)

    assert receiver.post(_step(sent, "pause"), {"reason": "请补充财产线索"}).status_code == 302
    assert _fresh(sent).status == RequestStatus.PAUSED
    assert 'data-light="paused"' in _page(sender.get(reverse("assistance:request", args=[sent.pk])))
    assert sender.post(_step(sent, "resume")).status_code == 302
    assert _fresh(sent).status == RequestStatus.IN_PROGRESS

    answer = {"result": "已查封被执行人名下房产一处。", "file": pdf("查封裁定.pdf"), "label": "查封裁定"}
    assert receiver.post(_step(sent, "answer"), answer).status_code == 302
    obj = _fresh(sent)
    assert obj.status == RequestStatus.ANSWERED and obj.attachments.filter(label="查封裁定").exists()
    assert sender.post(_step(sent, "close")).status_code == 302
    assert _fresh(sent).status == RequestStatus.CLOSED
    assert sender.post(_step(sent, "reopen"), {"reason": "尚有存款未冻结"}).status_code == 302
    assert _fresh(sent).status == RequestStatus.IN_PROGRESS
    kinds = set(Receipt.objects.filter(request=sent).values_list("kind", flat=True))
    assert kinds == {EventKind.SENT, EventKind.SIGNED, EventKind.ACCEPTED, EventKind.ANSWERED}


def test_an_answer_with_a_refused_file_is_not_given(web, partner, accepted):
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile("answer.exe", b"MZ", content_type="application/octet-stream")
    response = web(partner).post(_step(accepted, "answer"), {"result": "已办结", "file": bad})
    assert response.status_code == 400 and "file" in response.context["form"].errors
    obj = _fresh(accepted)
    assert obj.status == RequestStatus.ACCEPTED and not obj.result


def test_assigning_to_a_handler_and_withdrawing(web, owner, partner, signed, courts, kind):
    handler = UserFactory(agency=courts[1], roles=[Role.HANDLER])
    client = web(partner)
    page = _page(client.get(_step(signed, "assign")))
    assert str(handler.full_name) in page
    empty = client.post(_step(signed, "assign"), {"department": "", "assignee": ""})
    assert empty.status_code == 400
    assert client.post(_step(signed, "assign"), {"department": "", "assignee": handler.pk}).status_code == 302
    assert _fresh(signed).assignee == handler

    other = services.send(acting_user=owner, request=draft_execution(owner, courts, kind))
    assert web(owner).post(_step(other, "withdraw"), {"reason": ""}).status_code == 302
    assert _fresh(other).status == RequestStatus.WITHDRAWN
    assert web(owner).get(_step(other, "withdraw")).status_code == 409


def test_send_with_a_document_missing_says_what_is_missing(web, owner, courts, kind):
    draft = services.create_request(
        acting_user=owner,
        kind=kind,
        sender=courts[0],
        receiver=courts[1],
        title="委托执行：缺材料",
        fields=dict(EXECUTION_FIELDS),
    )
    response = web(owner).post(_step(draft, "send"), follow=True)
    assert any("委托执行函" in m for m in _messages(response))
    assert _fresh(draft).status == RequestStatus.DRAFT and not _fresh(draft).number


# --------------------------------------------------------------------------- thread and attachments


def test_messages_with_files_and_bad_input(web, owner, partner, sent):
    url = reverse("assistance:message-new", args=[sent.pk])
    client = web(partner)
    empty = client.post(url, {"text": ""})
    assert empty.status_code == 400 and "text" in empty.context["message_form"].errors
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = client.post(url, {"text": "附件见后", "files": [SimpleUploadedFile("x.exe", b"MZ")]})
    assert bad.status_code == 400 and "files" in bad.context["message_form"].errors
    assert not RequestMessage.objects.filter(request=sent).exists()
    response = client.post(
        url, {"text": "请提供被执行人身份证号码。", "files": [pdf("a.pdf"), pdf("b.pdf", b"%PDF-1.4 b")]}
    )
    assert response.status_code == 302 and response["Location"].endswith("#thread")
    message = RequestMessage.objects.get(request=sent)
    assert message.agency == partner.agency and message.attachments.count() == 2
    page = _page(web(owner).get(reverse("assistance:request", args=[sent.pk])))
    assert "请提供被执行人身份证号码。" in page and page.count("message-attachment") == 2


def test_attachments_are_uploaded_and_served_only_through_the_check(web, owner, partner, outsider, sent):
    url = reverse("assistance:attachment-new", args=[sent.pk])
    response = web(partner).post(url, {"file": pdf("送达回证.pdf", b"%PDF-1.4 served"), "label": "送达回证"})
    assert response.status_code == 302
    attachment = Attachment.objects.get(request=sent, label="送达回证")
    download = web(owner).get(reverse("assistance:attachment", args=[attachment.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 served"
    disposition = download["Content-Disposition"]
    assert disposition.startswith("attachment") and "filename*=utf-8''" in disposition
    assert download["Repr-Digest"].startswith("sha-256=:") and download["Content-Type"] == "application/pdf"
    assert web(outsider).get(reverse("assistance:attachment", args=[attachment.pk])).status_code == 404
    assert attachment.file.url not in _page(web(owner).get(reverse("assistance:request", args=[sent.pk])))

    from django.core.files.uploadedfile import SimpleUploadedFile

    count = Attachment.objects.count()
    bad = web(partner).post(url, {"file": SimpleUploadedFile("x.bat", b"echo"), "label": ""})
    assert bad.status_code == 400 and "file" in bad.context["attachment_form"].errors
    assert Attachment.objects.count() == count


# --------------------------------------------------------------------------- inbox and outbox


def _send_many(owner, courts, kind, count, **extra):
    return [
        services.send(acting_user=owner, request=draft_execution(owner, courts, kind, **extra)) for _ in range(count)
    ]


def test_the_inbox_lists_lights_and_filters(web, owner, partner, courts, kind, sent):
    others = _send_many(owner, courts, kind, 2)
    services.sign(acting_user=partner, request=others[0])
    client = web(partner)
    page = _page(client.get(reverse("assistance:inbox")))
    for obj in (sent, *others):
        assert f'data-number="{_fresh(obj).number}"' in page
    assert 'id="inbox-table"' in page and 'id="bulk-sign"' in page
    received = _page(client.get(reverse("assistance:inbox"), {"status": "received"}))
    assert received.count('class="request-row"') == 1 and f'data-number="{_fresh(others[0]).number}"' in received
    assert _page(client.get(reverse("assistance:inbox"), {"light": "red"})).count('class="request-row"') == 0
    assert _page(client.get(reverse("assistance:inbox"), {"light": "green"})).count('class="request-row"') == 3
    # 案号 and parties, in traditional characters too.
    assert _page(client.get(reverse("assistance:inbox"), {"q": "重慶某建材"})).count('class="request-row"') == 3
    assert _page(client.get(reverse("assistance:inbox"), {"q": sent.number})).count('class="request-row"') == 1
    sichuan = Agency.objects.get(name="四川省高级人民法院").region
    by_region = client.get(reverse("assistance:inbox"), {"region": sichuan.pk})
    assert _page(by_region).count('class="request-row"') == 3
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    assert _page(client.get(reverse("assistance:inbox"), {"sent_from": tomorrow})).count('class="request-row"') == 0
    bad = client.get(reverse("assistance:inbox"), {"sent_from": "2026-13-40"})
    assert bad.status_code == 200 and 'id="box-errors"' in _page(bad)
    # The sender's outbox has them; the receiver's has none.
    assert _page(web(owner).get(reverse("assistance:outbox"))).count('class="request-row"') == 3
    assert _page(client.get(reverse("assistance:outbox"))).count('class="request-row"') == 0


def test_the_inbox_and_outbox_cost_the_same_for_n_and_3n_rows(web, owner, partner, courts, kind):
    def counts():
        result = {}
        for user, name in ((partner, "assistance:inbox"), (owner, "assistance:outbox")):
            client = web(user)
            client.get(reverse(name))
            with CaptureQueriesContext(connection) as queries:
                response = client.get(reverse(name))
            assert response.status_code == 200
            result[name] = (len(queries), _page(response).count('class="request-row"'))
        return result

    _send_many(owner, courts, kind, 2)
    small = counts()
    for obj in _send_many(owner, courts, kind, 4):
        services.accept(acting_user=partner, request=obj, assignee=UserFactory(agency=courts[1], roles=[Role.HANDLER]))
    big = counts()
    assert small["assistance:inbox"][1] == 2 and big["assistance:inbox"][1] == 6
    assert small["assistance:inbox"][0] == big["assistance:inbox"][0], (small, big)
    assert small["assistance:outbox"][0] == big["assistance:outbox"][0], (small, big)


def test_bulk_signing_reports_each_row(web, owner, partner, courts, kind):
    first, second, third = _send_many(owner, courts, kind, 3)
    services.sign(acting_user=partner, request=third)
    response = web(partner).post(
        reverse("assistance:bulk-sign"), {"ids": [first.pk, second.pk, third.pk, 999999]}, follow=True
    )
    texts = _messages(response)
    assert _fresh(first).status == _fresh(second).status == RequestStatus.RECEIVED
    assert any(_fresh(first).number in t for t in texts) and any(_fresh(third).number in t for t in texts)
    assert len(texts) == 4  # two signed, one refused (signed already), one not found
    assert Receipt.objects.filter(request__in=[first, second], kind=EventKind.SIGNED).count() == 2


def test_the_export_is_the_filtered_list_as_xlsx(web, owner, partner, courts, kind, sent):
    others = _send_many(owner, courts, kind, 2)
    services.sign(acting_user=partner, request=others[1])
    response = web(partner).get(reverse("assistance:export"), {"status": "sent", "box": "inbox"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert "filename*=utf-8''" in response["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    numbers = {row[0] for row in rows[1:]}
    assert numbers == {_fresh(sent).number, _fresh(others[0]).number}
    assert rows[1][1] == "委托执行" and rows[1][6] == "四川省高级人民法院"
    info = {row[0]: row[1] for row in workbook.worksheets[1].iter_rows(values_only=True)}
    assert 2 in info.values()
    outbox = web(owner).get(reverse("assistance:export"), {"box": "outbox"})
    assert len(list(openpyxl.load_workbook(io.BytesIO(outbox.content)).worksheets[0].iter_rows())) == 4
    assert web(partner).get(reverse("assistance:export"), {"sent_to": "nonsense"}).status_code == 400
    nothing = web(User.objects.get(username="hlj_police")).get(reverse("assistance:export"), {"box": "outbox"})
    assert len(list(openpyxl.load_workbook(io.BytesIO(nothing.content)).worksheets[0].iter_rows())) == 1


def test_the_navigation_has_the_assistance_menu(web, owner):
    page = _page(web(owner).get(reverse("assistance:inbox")))
    menu = page.split('id="assistance-menu"')[1].split("</li>")[0]
    names = ("assistance:inbox", "assistance:outbox", "assistance:escalated", "assistance:request-new")
    for name in (*names, "assistance:analytics"):
        assert f'href="{reverse(name)}"' in menu
