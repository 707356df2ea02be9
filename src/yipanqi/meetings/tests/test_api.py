"""Meetings API: the permission matrix of every endpoint and action, agency systems' API keys, bad input, frozen
minutes, idempotent retries.

The cast (conftest): the series is 四川高院 + 重庆高院 in the 成渝 circle. ``owner`` (sc_court) is a liaison of
四川高院, the host of meeting 1; ``partner`` (cq_court) a liaison of the other member; ``coordinator``
(chengyu_coord) coordinates 成渝 and so manages the series; ``outsider`` (hlj_police) shares no circle."""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from yipanqi.core.models import AuditEvent
from yipanqi.directory.factories import UserFactory
from yipanqi.directory.models import Agency, Role
from yipanqi.directory.services import issue_api_key
from yipanqi.ledger import services as ledger
from yipanqi.meetings import selectors, services
from yipanqi.meetings.models import Decision, Meeting, MeetingSeries, MinutesApproval, Topic

from .conftest import at, run_to_held

pytestmark = pytest.mark.django_db

ROLES = ["owner", "partner", "coordinator", "outsider", "anonymous"]
FROZEN = "it can no longer be changed"


def _who(request, role):
    return None if role == "anonymous" else request.getfixturevalue(role)


def _due(days: int = 60) -> str:
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


def _fields(response) -> dict:
    return response.json()["error"]["fields"]


@pytest.fixture
def held(meeting, owner, partner, courts):
    """Meeting 1 held, with a topic from each member and a decision giving 四川高院 work (重庆高院 co-owns it)."""
    topics = run_to_held(meeting, owner, partner)
    with transaction.atomic():
        decision = services.record_decision(
            acting_user=owner,
            topic=topics[0],
            title="建立异地执行联动机制",
            kind="new",
            lead=courts[0],
            co_owners=[courts[1]],
            due_on=timezone.localdate() + datetime.timedelta(days=90),
        )
    meeting.refresh_from_db()
    return {"meeting": meeting, "topics": topics, "decision": decision}


def _submit(meeting, owner):
    with transaction.atomic():
        services.draft_minutes(acting_user=owner, meeting=meeting)
    with transaction.atomic():
        services.submit_minutes(acting_user=owner, meeting=meeting)


@pytest.fixture
def approved(held, owner, partner):
    """The minutes of meeting 1 approved by both members' liaisons: the meeting is frozen."""
    meeting = held["meeting"]
    _submit(meeting, owner)
    for liaison in (owner, partner):
        with transaction.atomic():
            services.approve_minutes(acting_user=liaison, meeting=meeting)
    meeting.refresh_from_db()
    assert meeting.is_frozen
    return held


def _key(issuer, agency, *scopes) -> str:
    with transaction.atomic():
        return issue_api_key(acting_user=issuer, agency=agency, name="业务系统", scopes=list(scopes)).token


def _system(api, token):
    client = api(None)
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {token}")
    return client


# --------------------------------------------------------------------------- reads


@pytest.mark.parametrize("role", ROLES)
def test_read_matrix(request, api, held, role):
    client = api(_who(request, role))
    meeting, topic, decision = held["meeting"], held["topics"][0], held["decision"]
    expected = {"outsider": 404, "anonymous": 401}.get(role, 200)
    for url in (
        f"/api/v1/meeting-series/{meeting.series_id}/",
        f"/api/v1/meetings/{meeting.pk}/",
        f"/api/v1/meetings/{meeting.pk}/minutes/",
        f"/api/v1/meetings/{meeting.pk}/open-decisions/",
        f"/api/v1/meeting-topics/{topic.pk}/",
        f"/api/v1/meeting-decisions/{decision.pk}/",
    ):
        assert client.get(url).status_code == expected, url
    lists = {
        "/api/v1/meeting-series/": 1,
        "/api/v1/meetings/": 1,
        f"/api/v1/meeting-topics/?meeting={meeting.pk}": 2,
        f"/api/v1/meeting-decisions/?meeting={meeting.pk}": 1,
    }
    for url, count in lists.items():
        response = client.get(url)
        if role == "anonymous":
            assert response.status_code == 401, url
        else:
            assert response.json()["count"] == (0 if role == "outsider" else count), url


def test_representations(api, held, owner, courts):
    meeting, decision = held["meeting"], held["decision"]
    series = api(owner).get(f"/api/v1/meeting-series/{meeting.series_id}/").json()
    assert [m["name"] for m in series["members"]] == ["四川省高级人民法院", "重庆市高级人民法院"]
    assert series["proposed_next_host"] == {"id": courts[1].pk, "name": "重庆市高级人民法院"}
    assert series["meeting_counts"]["total"] == 1 and series["meeting_counts"]["held"] == 1
    body = api(owner).get(f"/api/v1/meetings/{meeting.pk}/").json()
    assert (body["status"], body["topic_count"], body["decision_count"]) == ("held", 2, 1)
    assert body["host"]["name"] == "四川省高级人民法院" and body["pending_agencies"] == []
    topics = api(owner).get(body["links"]["topics"]).json()["results"]
    assert [t["title"] for t in topics] == ["执行协作", "财产查控"]
    assert topics[0]["decisions"][0]["state"] == {"code": "awaiting_minutes", "light": "", "progress": None}
    assert topics[0]["decisions"][0]["co_owners"] == [{"id": courts[1].pk, "name": "重庆市高级人民法院"}]
    decisions = api(owner).get(body["links"]["decisions"]).json()["results"]
    assert [d["id"] for d in decisions] == [decision.pk] and decisions[0]["created_measure"] is None


def test_filters(api, held, owner, coordinator, courts):
    meeting = held["meeting"]
    with transaction.atomic():
        later = services.schedule_meeting(
            acting_user=coordinator,
            series=meeting.series,
            starts_at=at(timezone.localdate(), 9) + datetime.timedelta(days=200),
        )
    client = api(owner)

    def ids(url):
        return [row["id"] for row in client.get(url).json()["results"]]

    assert ids("/api/v1/meetings/?status=planned") == [later.pk]
    assert ids(f"/api/v1/meetings/?host={courts[1].pk}") == [later.pk]
    cut = (later.starts_at - datetime.timedelta(days=1)).date().isoformat()
    assert ids(f"/api/v1/meetings/?starts_after={cut}") == [later.pk]
    assert ids(f"/api/v1/meetings/?starts_before={cut}&series={meeting.series_id}") == [meeting.pk]
    assert ids("/api/v1/meeting-series/?kind=forum") == []
    assert ids(f"/api/v1/meeting-series/?circle={meeting.series.circle_id}&kind=joint") == [meeting.series_id]
    assert ids(f"/api/v1/meeting-topics/?meeting={meeting.pk}&outcome=withdrawn") == []
    assert ids(f"/api/v1/meeting-decisions/?topic={held['topics'][1].pk}") == []
    assert ids("/api/v1/meeting-decisions/?kind=new") == [held["decision"].pk]
    assert client.get("/api/v1/meetings/?status=bogus").status_code == 400


@pytest.mark.parametrize("rule", ["fixed", "joining", "chosen"])
def test_series_members_and_proposed_host_follow_the_selectors(api, coordinator, chengyu, courts, rule):
    procuratorate = Agency.objects.get(name="四川省人民检察院")
    members = [courts[1], procuratorate, courts[0]]
    with transaction.atomic():
        series = services.create_series(
            acting_user=coordinator, title="轮值测试", circle=chengyu, members=members, rotation_rule=rule
        )
    client = api(coordinator)

    def check():
        body = client.get(f"/api/v1/meeting-series/{series.pk}/").json()
        series.refresh_from_db()
        assert [m["id"] for m in body["members"]] == [s.agency_id for s in selectors.seats(series)]
        assert body["proposed_next_host"]["id"] == selectors.proposed_host(series).pk

    check()
    for host in (courts[1], courts[0]):
        with transaction.atomic():
            services.schedule_meeting(
                acting_user=coordinator, series=series, starts_at=at(timezone.localdate()), host=host
            )
        check()
    with transaction.atomic():
        services.update_series(acting_user=coordinator, series=series, next_host=courts[1])
    check()


# --------------------------------------------------------------------------- series and meetings


@pytest.mark.parametrize(
    ("role", "expected"),
    [("coordinator", 201), ("owner", 403), ("partner", 403), ("outsider", 400), ("anonymous", 401)],
)
def test_series_create_matrix(request, api, chengyu, courts, agreement, role, expected):
    response = api(_who(request, role)).post(
        "/api/v1/meeting-series/",
        {
            "title": "川渝法院院长联席会议",
            "kind": "joint",
            "circle": chengyu.pk,
            "members": [courts[1].pk, courts[0].pk],
            "standing_agreement": agreement.pk,
            "rotation_rule": "fixed",
        },
        format="json",
    )
    assert response.status_code == expected, response.content
    created = MeetingSeries.objects.filter(title="川渝法院院长联席会议")
    assert created.exists() is (expected == 201)
    if expected == 201:
        assert [m["id"] for m in response.json()["members"]] == [courts[1].pk, courts[0].pk]
    if role == "outsider":
        assert "circle" in _fields(response)


@pytest.mark.parametrize(
    ("role", "expected"),
    [("coordinator", 200), ("owner", 403), ("partner", 403), ("outsider", 404), ("anonymous", 401)],
)
def test_series_update_matrix(request, api, series, courts, role, expected):
    response = api(_who(request, role)).patch(
        f"/api/v1/meeting-series/{series.pk}/",
        {"description": "每年两次", "members": [courts[1].pk, courts[0].pk]},
        format="json",
    )
    assert response.status_code == expected
    series.refresh_from_db()
    assert (series.description == "每年两次") is (expected == 200)
    first = courts[1] if expected == 200 else courts[0]
    assert [s.agency_id for s in selectors.seats(series)] == [first.pk, *(c.pk for c in courts if c != first)]


@pytest.mark.parametrize(
    ("role", "expected"),
    [("coordinator", 201), ("partner", 201), ("owner", 403), ("outsider", 400), ("anonymous", 401)],
)
def test_schedule_matrix(request, api, meeting, courts, role, expected):
    """Meeting 2 goes to 重庆高院 in the rotation: its liaison may schedule it, 四川高院's may not."""
    response = api(_who(request, role)).post(
        "/api/v1/meetings/",
        {"series": meeting.series_id, "starts_at": "2027-03-01T09:00:00+08:00", "place": "重庆"},
        format="json",
    )
    assert response.status_code == expected, response.content
    assert Meeting.objects.filter(series=meeting.series).count() == (2 if expected == 201 else 1)
    if expected == 201:
        body = response.json()
        assert body["number"] == 2 and body["host"]["id"] == courts[1].pk and body["status"] == "planned"


@pytest.mark.parametrize(
    ("role", "expected"),
    [("owner", 200), ("coordinator", 200), ("partner", 403), ("outsider", 404), ("anonymous", 401)],
)
def test_meeting_update_matrix(request, api, meeting, role, expected):
    response = api(_who(request, role)).patch(f"/api/v1/meetings/{meeting.pk}/", {"place": "成都天府"}, format="json")
    assert response.status_code == expected
    meeting.refresh_from_db()
    assert (meeting.place == "成都天府") is (expected == 200)


@pytest.mark.parametrize(
    ("role", "expected"),
    [("owner", 200), ("coordinator", 200), ("partner", 403), ("outsider", 404), ("anonymous", 401)],
)
def test_agenda_steps_matrix(request, api, meeting, role, expected):
    client = api(_who(request, role))
    for step, status in (("open-agenda", "agenda_open"), ("close-agenda", "agenda_closed"), ("held", "held")):
        response = client.post(f"/api/v1/meetings/{meeting.pk}/{step}/")
        assert response.status_code == expected, step
        if expected == 200:
            assert response.json()["status"] == status
    meeting.refresh_from_db()
    assert meeting.status == ("held" if expected == 200 else "planned")


def test_steps_out_of_order_are_conflicts(api, meeting, owner):
    response = api(owner).post(f"/api/v1/meetings/{meeting.pk}/held/")
    assert response.status_code == 409 and response.json()["error"]["code"] == "conflict"


@pytest.mark.parametrize(
    ("role", "expected"),
    [("owner", 200), ("partner", 403), ("coordinator", 403), ("outsider", 404), ("anonymous", 401)],
)
def test_only_the_host_orders_the_agenda(request, api, meeting, owner, partner, role, expected):
    with transaction.atomic():
        services.open_agenda(acting_user=owner, meeting=meeting)
    first = services.propose_topic(acting_user=owner, meeting=meeting, title="一")
    second = services.propose_topic(acting_user=partner, meeting=meeting, title="二")
    response = api(_who(request, role)).post(
        f"/api/v1/meetings/{meeting.pk}/order/", {"topics": [second.pk, first.pk]}, format="json"
    )
    assert response.status_code == expected
    order = list(Topic.objects.filter(meeting=meeting).order_by("position").values_list("pk", flat=True))
    assert order == ([second.pk, first.pk] if expected == 200 else [first.pk, second.pk])
    if expected == 200:
        assert [t["id"] for t in response.json()] == order
    elif role == "partner":
        assert "四川省高级人民法院" in response.json()["error"]["message"]


# --------------------------------------------------------------------------- topics


@pytest.mark.parametrize(
    ("role", "expected"),
    [("owner", 201), ("partner", 201), ("coordinator", 201), ("outsider", 400), ("anonymous", 401)],
)
def test_propose_topic_matrix(request, api, meeting, owner, role, expected):
    with transaction.atomic():
        services.open_agenda(acting_user=owner, meeting=meeting)
    response = api(_who(request, role)).post(
        "/api/v1/meeting-topics/", {"meeting": meeting.pk, "title": "跨域立案协作"}, format="json"
    )
    assert response.status_code == expected, response.content
    assert Topic.objects.filter(meeting=meeting).count() == (1 if expected == 201 else 0)
    if role == "partner":
        assert response.json()["proposed_by_agency"]["name"] == "重庆市高级人民法院"


def test_members_propose_only_while_the_agenda_is_open(api, meeting, partner):
    response = api(partner).post("/api/v1/meeting-topics/", {"meeting": meeting.pk, "title": "早了"}, format="json")
    assert response.status_code == 409 and not Topic.objects.exists()


@pytest.mark.parametrize(
    ("role", "expected"),
    [("partner", 200), ("owner", 200), ("coordinator", 200), ("outsider", 404), ("anonymous", 401)],
)
def test_change_and_withdraw_a_partner_topic(request, api, meeting, owner, partner, role, expected):
    """The proposing agency, the host and the coordinators change or withdraw a topic."""
    with transaction.atomic():
        services.open_agenda(acting_user=owner, meeting=meeting)
    topic = services.propose_topic(acting_user=partner, meeting=meeting, title="财产查控")
    client = api(_who(request, role))
    response = client.patch(f"/api/v1/meeting-topics/{topic.pk}/", {"title": "异地财产查控"}, format="json")
    assert response.status_code == expected
    response = client.post(f"/api/v1/meeting-topics/{topic.pk}/withdraw/")
    assert response.status_code == expected
    topic.refresh_from_db()
    assert (topic.title, topic.outcome) == (
        ("异地财产查控", "withdrawn") if expected == 200 else ("财产查控", "pending")
    )


def test_partner_cannot_change_the_hosts_topic(api, meeting, owner, partner):
    with transaction.atomic():
        services.open_agenda(acting_user=owner, meeting=meeting)
    topic = services.propose_topic(acting_user=owner, meeting=meeting, title="执行协作")
    client = api(partner)
    assert client.patch(f"/api/v1/meeting-topics/{topic.pk}/", {"title": "x"}, format="json").status_code == 403
    assert client.post(f"/api/v1/meeting-topics/{topic.pk}/withdraw/").status_code == 403
    topic.refresh_from_db()
    assert (topic.title, topic.outcome) == ("执行协作", "pending")


@pytest.mark.parametrize(
    ("role", "expected"),
    [("owner", 200), ("coordinator", 200), ("partner", 403), ("outsider", 404), ("anonymous", 401)],
)
def test_outcome_matrix(request, api, held, role, expected):
    topic = held["topics"][1]
    response = api(_who(request, role)).post(
        f"/api/v1/meeting-topics/{topic.pk}/outcome/", {"outcome": "concluded"}, format="json"
    )
    assert response.status_code == expected
    topic.refresh_from_db()
    assert topic.outcome == ("concluded" if expected == 200 else "pending")


def test_unfinished_topic_is_carried_over(api, held, owner, coordinator):
    topic = held["topics"][1]
    assert (
        api(owner)
        .post(f"/api/v1/meeting-topics/{topic.pk}/outcome/", {"outcome": "unfinished"}, format="json")
        .status_code
        == 200
    )
    created = api(coordinator).post(
        "/api/v1/meetings/",
        {"series": held["meeting"].series_id, "starts_at": "2027-03-01T09:00:00+08:00"},
        format="json",
    )
    carried = api(owner).get(f"/api/v1/meeting-topics/?meeting={created.json()['id']}").json()["results"]
    assert [(t["title"], t["carried_from"]) for t in carried] == [("财产查控", topic.pk)]


# --------------------------------------------------------------------------- decisions


@pytest.mark.parametrize(
    ("role", "expected"),
    [("owner", 201), ("coordinator", 201), ("partner", 403), ("outsider", 400), ("anonymous", 401)],
)
def test_record_decision_matrix(request, api, held, courts, role, expected):
    response = api(_who(request, role)).post(
        "/api/v1/meeting-decisions/",
        {
            "topic": held["topics"][1].pk,
            "title": "互派干警挂职",
            "kind": "new",
            "lead": courts[1].pk,
            "due_on": _due(),
        },
        format="json",
    )
    assert response.status_code == expected, response.content
    assert Decision.objects.filter(title="互派干警挂职").exists() is (expected == 201)
    if expected == 201:
        body = response.json()
        assert body["lead"]["id"] == courts[1].pk and body["state"]["code"] == "awaiting_minutes"
        assert body["target"] == "standing"


@pytest.mark.parametrize(
    ("role", "expected"),
    [("owner", 200), ("coordinator", 200), ("partner", 403), ("outsider", 404), ("anonymous", 401)],
)
def test_change_and_delete_decision_matrix(request, api, held, role, expected):
    decision = held["decision"]
    client = api(_who(request, role))
    response = client.patch(f"/api/v1/meeting-decisions/{decision.pk}/", {"due_on": _due(120)}, format="json")
    assert response.status_code == expected
    decision.refresh_from_db()
    assert (decision.due_on.isoformat() == _due(120)) is (expected == 200)
    response = client.delete(f"/api/v1/meeting-decisions/{decision.pk}/")
    assert response.status_code == (204 if expected == 200 else expected)
    assert Decision.objects.filter(pk=decision.pk).exists() is (expected != 200)


def test_decision_cannot_give_work_outside_the_series(api, held, owner, courts):
    police = Agency.objects.get(name="黑龙江省公安厅")
    before = (Decision.objects.count(), AuditEvent.objects.count())
    payload = {"topic": held["topics"][1].pk, "title": "跨省追逃", "kind": "new", "due_on": _due()}
    response = api(owner).post("/api/v1/meeting-decisions/", {**payload, "lead": police.pk}, format="json")
    assert response.status_code == 400 and "黑龙江省公安厅" in _fields(response)["lead"][0]
    response = api(owner).post(
        "/api/v1/meeting-decisions/", {**payload, "lead": courts[0].pk, "co_owners": [police.pk]}, format="json"
    )
    assert response.status_code == 400 and "黑龙江省公安厅" in _fields(response)["co_owners"][0]
    response = api(owner).patch(
        f"/api/v1/meeting-decisions/{held['decision'].pk}/", {"co_owners": [police.pk]}, format="json"
    )
    assert response.status_code == 400 and "黑龙江省公安厅" in _fields(response)["co_owners"][0]
    assert (Decision.objects.count(), AuditEvent.objects.count()) == before
    assert list(held["decision"].co_owners.all()) == [courts[1]]


def test_open_decisions_of_earlier_meetings(api, approved, owner, coordinator):
    meeting = approved["meeting"]
    with transaction.atomic():
        later = services.schedule_meeting(
            acting_user=coordinator,
            series=meeting.series,
            starts_at=at(timezone.localdate() + datetime.timedelta(days=90)),
        )
    body = api(owner).get(f"/api/v1/meetings/{later.pk}/open-decisions/").json()
    assert body["count"] == 1
    row = body["results"][0]
    assert (row["id"], row["meeting_number"], row["topic_title"]) == (approved["decision"].pk, 1, "执行协作")
    assert row["created_measure"]["title"] == "建立异地执行联动机制"
    assert row["state"]["code"] == "in_progress" and row["state"]["light"] in ("green", "blue")
    assert api(owner).get(f"/api/v1/meetings/{meeting.pk}/open-decisions/").json()["count"] == 0


# --------------------------------------------------------------------------- minutes


@pytest.mark.parametrize(
    ("role", "expected"),
    [("owner", 200), ("coordinator", 200), ("partner", 403), ("outsider", 404), ("anonymous", 401)],
)
def test_minutes_drafting_matrix(request, api, held, role, expected):
    meeting = held["meeting"]
    client = api(_who(request, role))
    response = client.post(f"/api/v1/meetings/{meeting.pk}/minutes/draft/", {"regenerate": False}, format="json")
    assert response.status_code == expected
    if expected == 200:
        assert response.json()["status"] == "draft" and "建立异地执行联动机制" in response.json()["text"]
    response = client.patch(
        f"/api/v1/meetings/{meeting.pk}/minutes/", {"text": "会议纪要（修改稿）", "as_agreement": True}, format="json"
    )
    assert response.status_code == expected
    response = client.post(f"/api/v1/meetings/{meeting.pk}/minutes/submit/")
    assert response.status_code == expected
    meeting.refresh_from_db()
    if expected == 200:
        assert (meeting.minutes_status, meeting.minutes_text, meeting.minutes_as_agreement) == (
            "pending",
            "会议纪要（修改稿）",
            True,
        )
    else:
        assert (meeting.minutes_status, meeting.minutes_text) == ("", "")


def test_only_member_liaisons_approve_the_minutes(api, held, owner, partner, coordinator, outsider, courts):
    meeting = held["meeting"]
    _submit(meeting, owner)
    handler = UserFactory(agency=courts[0], roles=[Role.HANDLER])
    url = f"/api/v1/meetings/{meeting.pk}/minutes/approve/"
    assert api(coordinator).post(url, {}, format="json").status_code == 403
    assert api(handler).post(url, {}, format="json").status_code == 403
    assert api(outsider).post(url, {}, format="json").status_code == 404
    assert api(None).post(url, {}, format="json").status_code == 401
    system = _system(api, _key(owner, courts[0], "meetings:read", "meetings:write"))
    assert system.post(url, {}, format="json").status_code == 403
    assert not MinutesApproval.objects.exists()

    response = api(owner).post(url, {"comment": "同意"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert [a["agency"]["name"] for a in body["approvals"]] == ["四川省高级人民法院"]
    assert body["approvals"][0]["approved_by"] == str(owner) and body["approvals"][0]["digest"] == body["digest"]
    assert body["pending_agencies"] == [{"id": courts[1].pk, "name": "重庆市高级人民法院"}]
    assert api(owner).post(url, {}, format="json").status_code == 409  # once per agency
    response = api(partner).post(url, {}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["pending_agencies"]) == ("approved", [])
    meeting.refresh_from_db()
    assert meeting.status == "minutes_approved"
    decision = Decision.objects.get(pk=held["decision"].pk)
    assert decision.created_measure is not None and decision.applied_at is not None


def test_returned_minutes_need_a_comment_and_void_approvals(api, held, owner, partner):
    meeting = held["meeting"]
    _submit(meeting, owner)
    assert api(owner).post(f"/api/v1/meetings/{meeting.pk}/minutes/approve/", {}, format="json").status_code == 200
    url = f"/api/v1/meetings/{meeting.pk}/minutes/return/"
    response = api(partner).post(url, {"comment": "  "}, format="json")
    assert response.status_code == 400 and "comment" in _fields(response)
    assert MinutesApproval.objects.filter(meeting=meeting).count() == 1
    response = api(partner).post(url, {"comment": "第二项表述请修改"}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["approvals"]) == ("draft", [])


def test_approval_given_on_paper_has_no_approver(api, held, owner, courts):
    meeting = held["meeting"]
    _submit(meeting, owner)
    services.approve_on_behalf(meeting=meeting, agency=courts[1], comment="书面确认")
    body = api(owner).get(f"/api/v1/meetings/{meeting.pk}/minutes/").json()
    assert [(a["agency"]["id"], a["approved_by"]) for a in body["approvals"]] == [(courts[1].pk, None)]
    assert body["pending_agencies"] == [{"id": courts[0].pk, "name": "四川省高级人民法院"}]


# --------------------------------------------------------------------------- approved minutes are frozen


def test_approved_minutes_freeze_every_change(api, approved, owner, coordinator, courts):
    meeting, topic, decision = approved["meeting"], approved["topics"][1], approved["decision"]
    m = f"/api/v1/meetings/{meeting.pk}"
    attempts = [
        ("patch", f"{m}/", {"place": "重庆"}),
        ("post", f"{m}/open-agenda/", None),
        ("post", f"{m}/close-agenda/", None),
        ("post", f"{m}/held/", None),
        ("post", f"{m}/order/", {"topics": [topic.pk, approved["topics"][0].pk]}),
        ("patch", f"{m}/minutes/", {"text": "改写"}),
        ("post", f"{m}/minutes/draft/", {"regenerate": True}),
        ("post", f"{m}/minutes/submit/", None),
        ("post", f"{m}/minutes/approve/", {}),
        ("post", f"{m}/minutes/return/", {"comment": "再改"}),
        ("post", "/api/v1/meeting-topics/", {"meeting": meeting.pk, "title": "补充议题"}),
        ("patch", f"/api/v1/meeting-topics/{topic.pk}/", {"title": "改"}),
        ("post", f"/api/v1/meeting-topics/{topic.pk}/withdraw/", None),
        ("post", f"/api/v1/meeting-topics/{topic.pk}/outcome/", {"outcome": "concluded"}),
        ("post", "/api/v1/meeting-decisions/", {"topic": topic.pk, "title": "补充共识"}),
        ("patch", f"/api/v1/meeting-decisions/{decision.pk}/", {"title": "改"}),
        ("delete", f"/api/v1/meeting-decisions/{decision.pk}/", None),
    ]
    before = (Topic.objects.count(), Decision.objects.count(), AuditEvent.objects.count())
    for who in (owner, coordinator):
        client = api(who)
        for method, url, payload in attempts:
            response = getattr(client, method)(url, payload, format="json", HTTP_ACCEPT_LANGUAGE="en")
            assert response.status_code == 409, (method, url, response.content)
            assert FROZEN in response.json()["error"]["message"], url
    assert (Topic.objects.count(), Decision.objects.count(), AuditEvent.objects.count()) == before
    meeting.refresh_from_db()
    assert (meeting.place, meeting.minutes_status) == ("成都", "approved")


# --------------------------------------------------------------------------- idempotent retries


def test_topic_retry_with_idempotency_key(api, meeting, owner, partner):
    with transaction.atomic():
        services.open_agenda(acting_user=owner, meeting=meeting)
    client = api(partner)
    payload = {"meeting": meeting.pk, "title": "律师异地阅卷"}
    first = client.post("/api/v1/meeting-topics/", payload, format="json", HTTP_IDEMPOTENCY_KEY="cq-topic-1")
    second = client.post("/api/v1/meeting-topics/", payload, format="json", HTTP_IDEMPOTENCY_KEY="cq-topic-1")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json() and Topic.objects.filter(meeting=meeting).count() == 1
    other = client.post("/api/v1/meeting-topics/", payload, format="json", HTTP_IDEMPOTENCY_KEY="cq-topic-2")
    assert other.status_code == 201 and Topic.objects.filter(meeting=meeting).count() == 2


def test_decision_retry_with_idempotency_key(api, held, owner):
    client = api(owner)
    payload = {"topic": held["topics"][1].pk, "title": "定期互通执行信息", "kind": "info"}
    first = client.post("/api/v1/meeting-decisions/", payload, format="json", HTTP_IDEMPOTENCY_KEY="d-1")
    second = client.post("/api/v1/meeting-decisions/", payload, format="json", HTTP_IDEMPOTENCY_KEY="d-1")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert Decision.objects.filter(title="定期互通执行信息").count() == 1


# --------------------------------------------------------------------------- bad input


def test_bad_input_answers_400_and_writes_nothing(api, held, owner, coordinator, chengyu, courts):
    meeting = held["meeting"]
    topic = held["topics"][1]
    with transaction.atomic():
        foreign = ledger.create_agreement(
            acting_user=coordinator, title="《另一协议》", circle=chengyu, signatories=courts, status="in_force"
        )
        foreign_measure = ledger.add_measure(acting_user=coordinator, agreement=foreign, number="一", title="外部举措")

    def counts():
        models = (MeetingSeries, Meeting, Topic, Decision, AuditEvent)
        return [m.objects.count() for m in models]

    before = counts()
    cases = [
        (coordinator, "post", "/api/v1/meeting-series/", {"title": "x", "members": [99999999]}, "members"),
        (
            coordinator,
            "post",
            "/api/v1/meeting-series/",
            {"title": "x", "circle": chengyu.pk, "members": [courts[0].pk]},
            "members",
        ),
        (coordinator, "post", "/api/v1/meeting-series/", {"members": [courts[0].pk, courts[1].pk]}, "title"),
        (coordinator, "patch", f"/api/v1/meeting-series/{meeting.series_id}/", {"circle": None}, "circle"),
        (coordinator, "patch", f"/api/v1/meeting-series/{meeting.series_id}/", {"kind": "party"}, "kind"),
        (coordinator, "post", "/api/v1/meetings/", {"series": meeting.series_id}, "starts_at"),
        (
            coordinator,
            "post",
            "/api/v1/meetings/",
            {"series": meeting.series_id, "starts_at": "2027-03-02T09:00", "ends_at": "2027-03-01T09:00"},
            "ends_at",
        ),
        (
            coordinator,
            "post",
            "/api/v1/meetings/",
            {
                "series": meeting.series_id,
                "starts_at": "2027-03-02T09:00",
                "host": Agency.objects.get(name="黑龙江省公安厅").pk,
            },
            "host",
        ),
        (owner, "patch", f"/api/v1/meetings/{meeting.pk}/", {"series": meeting.series_id}, "series"),
        (owner, "post", "/api/v1/meeting-topics/", {"meeting": meeting.pk, "title": ""}, "title"),
        (owner, "patch", f"/api/v1/meeting-topics/{topic.pk}/", {"measures": [foreign_measure.pk]}, "measures"),
        (owner, "post", f"/api/v1/meeting-topics/{topic.pk}/outcome/", {"outcome": "bogus"}, "outcome"),
        (owner, "post", "/api/v1/meeting-decisions/", {"topic": topic.pk, "title": "x", "kind": "new"}, "due_on"),
        (owner, "post", "/api/v1/meeting-decisions/", {"topic": topic.pk, "title": "x", "kind": "update"}, "measures"),
        (owner, "patch", f"/api/v1/meeting-decisions/{held['decision'].pk}/", {"due_on": "soon"}, "due_on"),
        (owner, "patch", f"/api/v1/meetings/{meeting.pk}/minutes/", {"text": "   "}, "text"),
    ]
    for user, method, url, payload, field in cases:
        response = getattr(api(user), method)(url, payload, format="json")
        assert response.status_code == 400, (url, payload, response.content)
        error = response.json()["error"]
        assert error["code"] and field in error["fields"] and error["fields"][field], (url, payload, error)
    response = api(owner).post(
        f"/api/v1/meetings/{meeting.pk}/minutes/draft/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert counts() == before


def test_order_must_list_every_topic(api, meeting, owner, partner):
    with transaction.atomic():
        services.open_agenda(acting_user=owner, meeting=meeting)
    first = services.propose_topic(acting_user=owner, meeting=meeting, title="一")
    services.propose_topic(acting_user=partner, meeting=meeting, title="二")
    response = api(owner).post(f"/api/v1/meetings/{meeting.pk}/order/", {"topics": [first.pk]}, format="json")
    assert response.status_code == 400 and "topics" in _fields(response)
    response = api(owner).post(f"/api/v1/meetings/{meeting.pk}/order/", {"topics": "一,二"}, format="json")
    assert response.status_code == 400 and "topics" in _fields(response)


# --------------------------------------------------------------------------- agency systems (API keys)


def test_api_keys_need_the_meetings_scopes(api, meeting, owner, outsider, courts):
    police = Agency.objects.get(name="黑龙江省公安厅")
    reader = _system(api, _key(owner, courts[0], "meetings:read"))
    writer = _system(api, _key(owner, courts[0], "meetings:read", "meetings:write"))
    ledger_only = _system(api, _key(owner, courts[0], "ledger:read", "ledger:write"))
    stranger = _system(api, _key(outsider, police, "meetings:read", "meetings:write"))
    detail = f"/api/v1/meetings/{meeting.pk}/"

    assert reader.get(detail).status_code == 200
    assert reader.get("/api/v1/meeting-series/").json()["count"] == 1
    assert ledger_only.get(detail).status_code == 403
    assert ledger_only.get("/api/v1/meetings/").status_code == 403
    assert stranger.get(detail).status_code == 404
    assert stranger.get("/api/v1/meetings/").json()["count"] == 0

    assert reader.post(f"{detail}open-agenda/").status_code == 403  # no meetings:write
    assert stranger.post(f"{detail}open-agenda/").status_code == 404
    assert writer.post(f"{detail}open-agenda/").status_code == 200  # the host agency's system runs its meeting
    payload = {"meeting": meeting.pk, "title": "系统推送议题"}
    assert reader.post("/api/v1/meeting-topics/", payload, format="json").status_code == 403
    assert ledger_only.post("/api/v1/meeting-topics/", payload, format="json").status_code == 403
    assert stranger.post("/api/v1/meeting-topics/", payload, format="json").status_code == 400
    response = writer.post("/api/v1/meeting-topics/", payload, format="json", HTTP_IDEMPOTENCY_KEY="sys-1")
    assert response.status_code == 201 and response.json()["proposed_by_agency"]["id"] == courts[0].pk
    assert response.json()["proposed_by"] is None
    assert Topic.objects.filter(meeting=meeting).count() == 1
    # A system never manages a series.
    patched = writer.patch(f"/api/v1/meeting-series/{meeting.series_id}/", {"description": "x"}, format="json")
    assert patched.status_code == 403


def test_partner_system_proposes_but_does_not_run_the_meeting(api, meeting, owner, partner, courts):
    with transaction.atomic():
        services.open_agenda(acting_user=owner, meeting=meeting)
    system = _system(api, _key(partner, courts[1], "meetings:read", "meetings:write"))
    response = system.post("/api/v1/meeting-topics/", {"meeting": meeting.pk, "title": "重庆议题"}, format="json")
    assert response.status_code == 201
    assert system.post(f"/api/v1/meetings/{meeting.pk}/close-agenda/").status_code == 403
    assert (
        system.post(
            f"/api/v1/meetings/{meeting.pk}/order/", {"topics": [response.json()["id"]]}, format="json"
        ).status_code
        == 403
    )
    meeting.refresh_from_db()
    assert meeting.status == "agenda_open"


def test_openapi_schema_lists_the_meetings_api(api, owner):
    paths = api(owner).get("/api/schema/?format=json").json()["paths"]
    for path in (
        "/api/v1/meeting-series/",
        "/api/v1/meetings/{id}/open-decisions/",
        "/api/v1/meetings/{id}/minutes/approve/",
        "/api/v1/meeting-topics/{id}/outcome/",
        "/api/v1/meeting-decisions/{id}/",
    ):
        assert path in paths
