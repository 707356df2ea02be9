"""Contract tests of the assistance API: what the OpenAPI schema (/api/schema/) documents is what the endpoints
answer — the paths and methods, the request bodies, the top-level fields of every representation — and the event
feed's cursor keeps its promise: polling never repeats or skips an event, however many there are and however they
interleave with the polls (on PostgreSQL: also while a write to the feed is still in flight)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction
from rest_framework.test import APIClient

from yipanqi.assistance import services
from yipanqi.assistance.api import serializers
from yipanqi.assistance.models import FeedEntry, RequestEvent, RequestKind
from yipanqi.directory.factories import UserFactory
from yipanqi.directory.models import Agency, Region, Role, RoleGrant, User

from .conftest import EXECUTION_FIELDS, draft_execution, pdf

pytestmark = pytest.mark.django_db

URL = "/api/v1/assistance-requests/"
FEED = "/api/v1/assistance-events/"

TRANSITIONS = {
    "send": None,
    "sign": None,
    "accept": "RequestAssignmentRequest",
    "return": "RequestReasonRequest",
    "forward": "RequestForwardRequest",
    "start": None,
    "answer": "RequestAnswerRequest",
    "close": None,
    "reopen": "RequestReasonRequest",
    "withdraw": "WithdrawRequest",
    "extension": "ExtensionRequestRequest",
    "extension-decision": "ExtensionDecisionRequest",
    "pause": "RequestReasonRequest",
    "resume": "ResumeRequest",
    "assign": "RequestAssignmentRequest",
}


@pytest.fixture
def schema(api, owner):
    response = api(owner).get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def _ref(node) -> str:
    """The component a request body or response refers to."""
    return node["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]


def _properties(schema, component) -> set[str]:
    return set(schema["components"]["schemas"][component]["properties"])


# --------------------------------------------------------------------------- the schema documents the endpoints


def test_schema_documents_every_endpoint(schema):
    paths = schema["paths"]
    expected = {
        "/api/v1/request-kinds/": {"get"},
        "/api/v1/request-kinds/{code}/": {"get"},
        "/api/v1/request-kinds/{code}/receivers/": {"get"},
        URL: {"get", "post"},
        URL + "{id}/": {"get", "patch"},
        URL + "sign/": {"post"},
        URL + "{id}/messages/": {"get", "post"},
        URL + "{id}/attachments/": {"get", "post"},
        URL + "{id}/receipts/": {"get"},
        "/api/v1/assistance-attachments/{id}/": {"get"},
        "/api/v1/assistance-attachments/{id}/download/": {"get"},
        "/api/v1/assistance-receipts/{id}/": {"get"},
        FEED: {"get"},
        **{f"{URL}{{id}}/{step}/": {"post"} for step in TRANSITIONS},
    }
    for path, methods in expected.items():
        assert path in paths, path
        documented = set(paths[path]) - {"parameters"}
        assert documented == methods, (path, documented)
    operation_ids = [op["operationId"] for path in expected for op in paths[path].values() if "operationId" in op]
    assert len(operation_ids) == len(set(operation_ids))


def test_schema_documents_bodies_filters_and_headers(schema):
    paths = schema["paths"]
    for step, body in TRANSITIONS.items():
        operation = paths[f"{URL}{{id}}/{step}/"]["post"]
        assert _ref(operation["responses"]["200"]) == "AssistanceRequestDetail", step
        if body is None:
            assert "requestBody" not in operation, step
        else:
            assert _ref(operation["requestBody"]) == body, step
    assert set(schema["components"]["schemas"]["RequestForwardRequest"]["required"]) == {"to", "reason"}
    assert schema["components"]["schemas"]["ExtensionDecisionRequest"]["required"] == ["grant"]

    create = paths[URL]["post"]
    assert _ref(create["requestBody"]) == "AssistanceRequestWriteRequest"
    assert {_ref(create["responses"][code]) for code in ("200", "201")} == {"AssistanceRequestDetail"}
    assert any(p["in"] == "header" and p["name"] == "Idempotency-Key" for p in create["parameters"])
    assert set(schema["components"]["schemas"]["AssistanceRequestWriteRequest"]["required"]) == {"kind", "title"}

    filters = {p["name"] for p in paths[URL]["get"]["parameters"]}
    assert {"box", "kind", "status", "light", "counterpart_region", "sent_after", "sent_before", "q", "page"} <= filters
    light = next(p for p in paths[URL]["get"]["parameters"] if p["name"] == "light")
    assert set(light["schema"]["enum"]) == {"red", "yellow", "green", "paused"}

    upload = paths[URL + "{id}/attachments/"]["post"]["requestBody"]["content"]
    assert set(upload) == {"multipart/form-data"}
    message = paths[URL + "{id}/messages/"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= set(message)
    bulk = paths[URL + "sign/"]["post"]
    assert _ref(bulk["requestBody"]) == "BulkSignRequest" and _ref(bulk["responses"]["200"]) == "BulkSignResult"
    download = paths["/api/v1/assistance-attachments/{id}/download/"]["get"]["responses"]["200"]["content"]
    assert "application/octet-stream" in download

    feed = paths[FEED]["get"]
    assert {p["name"] for p in feed["parameters"]} >= {"after", "limit"}
    assert _ref(feed["responses"]["200"]) == "AssistanceFeedPage"
    assert _properties(schema, "AssistanceFeedPage") == {"results", "next_cursor"}


# --------------------------------------------------------------------------- representations match the schema


def _keys_match(body: dict, serializer_class, schema, component):
    declared = set(serializer_class().fields)
    assert set(body) == declared, (component, set(body) ^ declared)
    assert declared == _properties(schema, component), component


def test_created_request_carries_exactly_the_documented_fields(api, owner, partner, courts, schema):
    response = api(owner).post(
        URL,
        {"kind": "entrusted_execution", "title": "委托执行", "receiver": courts[1].pk, "fields": EXECUTION_FIELDS},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    _keys_match(body, serializers.AssistanceRequestDetailSerializer, schema, "AssistanceRequestDetail")
    _keys_match(body["clocks"], serializers.RequestClocksSerializer, schema, "RequestClocks")
    assert set(body["kind"]) == _properties(schema, "KindRef")
    assert set(body["links"]) == set(
        schema["components"]["schemas"]["AssistanceRequestDetail"]["properties"]["links"]["properties"]
    )
    # A transition answers the same shape.
    pk = body["id"]
    for label in RequestKind.objects.get(code="entrusted_execution").required_attachments:
        upload = api(owner).post(f"{URL}{pk}/attachments/", {"file": pdf(), "label": label}, format="multipart")
        _keys_match(upload.json(), serializers.RequestAttachmentSerializer, schema, "RequestAttachment")
    sent = api(owner).post(f"{URL}{pk}/send/").json()
    _keys_match(sent, serializers.AssistanceRequestDetailSerializer, schema, "AssistanceRequestDetail")
    _keys_match(sent["hops"][0], serializers.RequestHopSerializer, schema, "RequestHop")
    _keys_match(sent["receipts"][0], serializers.RequestReceiptRefSerializer, schema, "RequestReceiptRef")
    _keys_match(sent["attachments"][0], serializers.RequestAttachmentSerializer, schema, "RequestAttachment")
    listed = api(partner).get(URL).json()
    assert set(listed) == _properties(schema, "PaginatedAssistanceRequestList")
    _keys_match(listed["results"][0], serializers.AssistanceRequestSerializer, schema, "AssistanceRequest")


def test_other_representations_carry_exactly_the_documented_fields(api, owner, partner, sent, schema):
    message = api(partner).post(f"{URL}{sent.pk}/messages/", {"text": "已收到"}, format="json").json()
    _keys_match(message, serializers.RequestMessageSerializer, schema, "RequestMessage")
    receipt = api(partner).get(f"{URL}{sent.pk}/receipts/").json()["results"][0]
    _keys_match(receipt, serializers.RequestReceiptSerializer, schema, "RequestReceipt")
    assert api(partner).get(receipt["url"]).json() == receipt
    kind = api(owner).get("/api/v1/request-kinds/entrusted_execution/").json()
    _keys_match(kind, serializers.RequestKindSerializer, schema, "RequestKind")
    assert set(kind["policy"]) == _properties(schema, "KindPolicy")
    feed = api(owner).get(FEED).json()
    assert set(feed) == {"results", "next_cursor"}
    _keys_match(feed["results"][0], serializers.AssistanceFeedItemSerializer, schema, "AssistanceFeedItem")
    assert set(feed["results"][0]["request"]) == _properties(schema, "FeedRequestRef")
    signed = api(partner).post(f"{URL}sign/", {"ids": [sent.pk, 99999999]}, format="json").json()
    assert set(signed) == _properties(schema, "BulkSignResult")
    assert set(signed["refused"][0]) == _properties(schema, "SignRefusal")


def test_errors_share_one_shape(api, owner, partner, outsider, sent):
    shape = {"code", "message", "fields", "request_id"}
    cases = [
        (api(None).get(URL), 401),
        (api(outsider).get(f"{URL}{sent.pk}/"), 404),
        (api(owner).post(f"{URL}{sent.pk}/sign/"), 403),
        (api(partner).post(f"{URL}{sent.pk}/answer/", {"result": "x"}, format="json"), 409),
        (api(owner).post(URL, {"kind": "entrusted_execution"}, format="json"), 400),
        (api(owner).get(FEED, {"limit": 0}), 400),
    ]
    for response, code in cases:
        assert response.status_code == code, response.content
        body = response.json()
        assert set(body) == {"error"} and set(body["error"]) == shape, body
        assert body["error"]["message"] and body["error"]["request_id"] == response["X-Request-ID"]
        assert (body["error"]["fields"] is not None) == (code == 400)


# --------------------------------------------------------------------------- the event feed's cursor


def _poll_all(client, after=0, limit=7, between=None) -> tuple[list[dict], int]:
    """Poll until the feed is drained, calling ``between()`` after each page (new events arrive meanwhile)."""
    items, polls = [], 0
    while True:
        response = client.get(FEED, {"after": after, "limit": limit})
        assert response.status_code == 200, response.content
        page = response.json()
        assert len(page["results"]) <= limit
        assert page["next_cursor"] >= after
        items += page["results"]
        if not page["results"]:
            assert page["next_cursor"] == after  # nothing new: the cursor stays
            return items, after
        after = page["next_cursor"]
        assert after == page["results"][-1]["cursor"]
        polls += 1
        if between is not None and polls <= 3:
            between()


def _run(owner, partner, courts, kind, n):
    """n requests through a full life (send, sign, accept, messages, answer, close): many events on both sides."""
    for i in range(n):
        request = services.send(acting_user=owner, request=draft_execution(owner, courts, kind))
        services.sign(acting_user=partner, request=request)
        services.post_message(acting_user=owner, request=request, text=f"请尽快办理{i}")
        services.accept(acting_user=partner, request=request)
        services.post_message(acting_user=partner, request=request, text="已立案")
        services.answer(acting_user=partner, request=request, result="已执行")
        services.close(acting_user=owner, request=request)


def test_polling_never_repeats_or_skips(api, owner, partner, courts, kind):
    _run(owner, partner, courts, kind, 4)
    arrivals = []

    def more_events():
        request = services.send(acting_user=owner, request=draft_execution(owner, courts, kind))
        services.sign(acting_user=partner, request=request)
        arrivals.append(request.pk)

    for user, agency in ((owner, courts[0]), (partner, courts[1])):
        items, last = _poll_all(api(user), between=more_events)
        cursors = [item["cursor"] for item in items]
        assert cursors == sorted(set(cursors)), "a cursor repeated or went back"
        expected = list(FeedEntry.objects.filter(agency=agency).order_by("id").values_list("id", "event_id"))
        assert [(item["cursor"], item["event"]) for item in items] == expected  # nothing skipped, in order
        assert last == expected[-1][0]
        # Resuming from any cursor gives exactly the rest.
        middle = cursors[len(cursors) // 2]
        rest, _ = _poll_all(api(user), after=middle, limit=500)
        assert [item["cursor"] for item in rest] == [c for c in cursors if c > middle]
    assert len(arrivals) == 6
    # The sender's feed has every event of its requests; the receiver's every one from sending on.
    sichuan = list(FeedEntry.objects.filter(agency=courts[0]).values_list("event_id", flat=True))
    chongqing = set(FeedEntry.objects.filter(agency=courts[1]).values_list("event_id", flat=True))
    assert sorted(sichuan) == sorted(RequestEvent.objects.values_list("pk", flat=True))
    assert chongqing >= set(RequestEvent.objects.exclude(kind="created").values_list("pk", flat=True))


def test_feed_items_describe_their_events(api, owner, partner, sent, courts):
    services.sign(acting_user=partner, request=sent)
    items = api(owner).get(FEED).json()["results"]
    assert [item["kind"] for item in items] == ["created", "sent", "signed"]
    signed = items[-1]
    event = RequestEvent.objects.get(pk=signed["event"])
    assert signed["request"] == {"id": sent.pk, "number": sent.number, "kind": "entrusted_execution"}
    assert signed["actor_agency"] == {"id": courts[1].pk, "name": courts[1].name}
    assert signed["data"] == event.data and signed["cursor"] > items[-2]["cursor"]


def test_forwarding_brings_the_new_receiver_into_the_feed(api, owner, partner, sent):
    shanghai = Agency.objects.get(name="上海市高级人民法院")
    services.forward(acting_user=partner, request=sent, to=shanghai, reason="被执行人在上海")
    clerk = UserFactory(agency=shanghai, roles=[Role.LIAISON, Role.HANDLER])
    services.sign(acting_user=clerk, request=sent)
    kinds = [item["kind"] for item in api(clerk).get(FEED).json()["results"]]
    assert kinds == ["forwarded", "signed"]  # from the hop that reached it onward
    assert [item["kind"] for item in api(partner).get(FEED).json()["results"]][-2:] == ["forwarded", "signed"]


def test_feed_refuses_bad_cursors_and_principals_without_an_agency(api, owner):
    for query, field in (({"after": -1}, "after"), ({"after": "x"}, "after"), ({"limit": 501}, "limit")):
        response = api(owner).get(FEED, query)
        assert response.status_code == 400 and field in response.json()["error"]["fields"], query
    nobody = UserFactory(agency=None, roles=[Role.LIAISON])
    response = api(nobody).get(FEED)
    assert response.status_code == 403 and response.json()["error"]["message"]


def _feed_cast():
    """Own data: a transactional test starts from whatever the database holds and leaves it flushed."""
    region, _ = Region.objects.get_or_create(
        code="990200", defaults={"name": "测试市", "kind": "地级市", "level": "city", "path": "/990200/"}
    )
    court = Agency.objects.create(name="并发测试法院", type="court", level="city", region=region)
    kind = RequestKind.objects.create(
        code="feed-concurrency", name="并发测试", sender_types=["court"], receiver_types=["court"]
    )
    reader = User.objects.create(username="feed-reader", agency=court)
    RoleGrant.objects.create(user=reader, role=Role.LIAISON)
    return court, kind, reader


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs one writer at a time, in id order")
@pytest.mark.django_db(transaction=True)
def test_poll_waits_for_a_feed_write_in_flight():
    """Ids are handed out at insert, not at commit: a later write can commit first. The poll must not answer the
    later entry (and move its cursor past the earlier one) while the earlier one is still uncommitted."""
    court, kind, reader = _feed_cast()
    first = services.create_request(acting_user=None, kind=kind, sender=court, title="先写入")
    inserted, release, errors, answer = threading.Event(), threading.Event(), [], {}

    def slow_writer():
        # A transaction that has written its feed entry and not committed yet (as a service between its event and
        # its commit).
        try:
            with transaction.atomic():
                event = RequestEvent.objects.create(request=first, kind="message", at=first.created_at, data={})
                FeedEntry.objects.create(agency=court, event=event)
                inserted.set()
                release.wait(20)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    def poll():
        try:
            client = APIClient()
            client.force_authenticate(reader)
            answer["body"] = client.get(FEED).json()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert inserted.wait(20)
    services.create_request(acting_user=None, kind=kind, sender=court, title="后写入，先提交")  # a higher feed id
    poller = threading.Thread(target=poll)
    poller.start()
    poller.join(1.5)
    waited = poller.is_alive()
    release.set()
    writer.join(20)
    poller.join(20)
    assert errors == []
    assert waited, "the poll answered while a lower feed id was uncommitted"
    cursors = [item["cursor"] for item in answer["body"]["results"]]
    assert cursors == sorted(FeedEntry.objects.filter(agency=court).values_list("id", flat=True))
    assert len(cursors) == 3 and answer["body"]["next_cursor"] == cursors[-1]
