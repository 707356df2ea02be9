"""The assistance API's lists cost a constant number of queries: the same for N requests as for 3N (inbox, outbox,
every filter, every kind of principal), and the same for a request with N messages, attachments, receipts or feed
events as with 3N."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from yipanqi.assistance import services
from yipanqi.core.versioning import forget_local_versions
from yipanqi.directory.factories import UserFactory
from yipanqi.directory.models import Agency, Department, Role
from yipanqi.directory.services import issue_api_key

from .conftest import draft_execution, pdf

pytestmark = pytest.mark.django_db

N = 3
URL = "/api/v1/assistance-requests/"


def _count(client, url, params=None):
    cache.clear()
    forget_local_versions()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), response.json()


def _requests(n, owner, partner, courts, kind, chengdu):
    """n requests in every state from 四川高院 to 重庆高院 (accepted ones with a department, a case handler and
    messages), and n from 成都中院's 执行局 to 重庆一中院."""
    execution = Department.objects.get(agency=courts[1], name="执行局")
    for i in range(n):
        sent = services.send(acting_user=owner, request=draft_execution(owner, courts, kind))
        services.sign(acting_user=partner, request=sent)
        accepted = services.send(acting_user=owner, request=draft_execution(owner, courts, kind))
        services.accept(acting_user=partner, request=accepted, department=execution, assignee=partner)
        services.post_message(acting_user=owner, request=accepted, text=f"请尽快办理{i}")
        answered = services.answer(acting_user=partner, request=accepted, result="已执行")
        if i % 2:
            services.close(acting_user=owner, request=answered)
        draft_execution(owner, courts, kind)  # a draft
        clerk, receiver = chengdu
        services.send(acting_user=clerk, request=draft_execution(clerk, (clerk.agency, receiver), kind))


@pytest.fixture
def chengdu(cd_court_user):
    clerk = UserFactory(
        agency=cd_court_user.agency,
        department=Department.objects.get(agency=cd_court_user.agency, name="执行局"),
        roles=[Role.HANDLER],
    )
    return clerk, Agency.objects.get(name="重庆市第一中级人民法院")


@pytest.fixture
def cd_court_user(db):
    from yipanqi.directory.models import User

    return User.objects.select_related("agency").get(username="cd_court")


LISTS = [
    {},
    {"box": "inbox"},
    {"box": "outbox"},
    {"box": "inbox", "light": "green", "counterpart_region": "51"},
    {"kind": "entrusted_execution", "status": ["sent", "accepted", "answered"], "q": "川执"},
    {"counterpart_region": "500000", "ordering": "-due_at"},
]


def test_request_lists_do_not_grow(api, owner, partner, coordinator, courts, kind, chengdu, cd_court_user):
    with transaction.atomic():
        token = issue_api_key(acting_user=partner, agency=courts[1], name="业务系统", scopes=["assistance:read"]).token
    system = api(None)
    system.credentials(HTTP_AUTHORIZATION=f"Api-Key {token}")
    clients = {
        "owner": api(owner),
        "partner": api(partner),
        "coordinator": api(coordinator),
        "cd_court": api(cd_court_user),
        "system": system,
    }
    for client in clients.values():
        client.get(URL)  # the API key's first use is stamped on it (one write per resolution period)
    _requests(N, owner, partner, courts, kind, chengdu)
    small = {(who, str(p)): _count(client, URL, p) for who, client in clients.items() for p in LISTS}
    _requests(2 * N, owner, partner, courts, kind, chengdu)
    for who, client in clients.items():
        for params in LISTS:
            queries, body = _count(client, URL, params)
            before, smaller = small[(who, str(params))]
            assert queries == before, (who, params, before, queries)
            if smaller["count"]:
                assert body["count"] > smaller["count"], (who, params)
    # The lists were not trivially empty.
    assert _count(clients["partner"], URL, {"box": "inbox"})[1]["count"] == 6 * N
    assert _count(clients["cd_court"], URL)[1]["count"] == 3 * N
    assert _count(clients["coordinator"], URL)[1]["count"] == 9 * N  # 成渝: not the drafts


def test_kinds_list_does_not_grow(api, owner):
    small, body = _count(api(owner), "/api/v1/request-kinds/", {"page_size": 2})
    large, _ = _count(api(owner), "/api/v1/request-kinds/", {"page_size": 13})
    assert small == large and body["count"] >= 13


def _with_material(request, owner, partner, n):
    """n messages each with a file, and n more attachments."""
    for i in range(n):
        services.post_message(acting_user=partner, request=request, text=f"第{i}次补充", files=[pdf(f"说明{i}.pdf")])
        services.attach(acting_user=owner, request=request, uploaded=pdf(f"材料{i}.pdf"), label=f"材料{i}")


def test_thread_attachments_and_detail_do_not_grow(api, owner, partner, sent):
    client = api(partner)
    urls = [f"{URL}{sent.pk}/", f"{URL}{sent.pk}/messages/", f"{URL}{sent.pk}/attachments/"]
    _with_material(sent, owner, partner, N)
    small = [_count(client, url) for url in urls]
    _with_material(sent, owner, partner, 2 * N)
    large = [_count(client, url) for url in urls]
    assert [q for q, _ in small] == [q for q, _ in large]
    assert len(large[0][1]["attachments"]) == 2 + 6 * N
    assert len(large[1][1]["results"]) == 3 * N and all(len(m["attachments"]) == 1 for m in large[1][1]["results"])


def _resend(request, owner, partner, times):
    """Returned and sent again ``times`` times: a receipt and a hop each time."""
    for _ in range(times):
        services.return_request(acting_user=partner, request=request, reason="材料不全")
        services.send(acting_user=owner, request=request)


def test_receipts_and_hops_do_not_grow(api, owner, partner, sent):
    client = api(owner)
    urls = [f"{URL}{sent.pk}/receipts/", f"{URL}{sent.pk}/"]
    _resend(sent, owner, partner, N)
    small = [_count(client, url)[0] for url in urls]
    _resend(sent, owner, partner, 2 * N)
    large = [_count(client, url) for url in urls]
    assert small == [q for q, _ in large]
    assert large[0][1]["count"] == 1 + 3 * N and len(large[1][1]["hops"]) == 1 + 3 * N


def test_feed_does_not_grow(api, owner, partner, courts, kind, chengdu, cd_court_user):
    clients = [api(owner), api(partner), api(cd_court_user)]
    _requests(N, owner, partner, courts, kind, chengdu)
    small = [_count(client, "/api/v1/assistance-events/", {"limit": 500})[0] for client in clients]
    _requests(2 * N, owner, partner, courts, kind, chengdu)
    large = [_count(client, "/api/v1/assistance-events/", {"limit": 500}) for client in clients]
    assert small == [q for q, _ in large]
    assert all(body["results"] for _, body in large)
