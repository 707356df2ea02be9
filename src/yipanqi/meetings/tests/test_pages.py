"""Meeting pages: the permission matrix of every page and POST endpoint, the forms writing through the services, the
409 of a frozen meeting, the host's ordering, the liaisons' approval, and the meeting page's constant queries.

Cast (see src/yipanqi/conftest.py): ``owner`` = 四川高院 liaison (host of meeting 1), ``partner`` = 重庆高院 liaison
(member), ``coordinator`` = 成渝 coordination office (manages the series), ``outsider`` = 黑龙江 police liaison.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from yipanqi.directory.factories import UserFactory
from yipanqi.directory.models import Agency, Role
from yipanqi.ledger.models import Agreement, Measure
from yipanqi.meetings import selectors, services
from yipanqi.meetings.models import (
    Decision,
    DecisionKind,
    Meeting,
    MeetingSeries,
    MeetingStatus,
    MinutesApproval,
    MinutesStatus,
    SeriesMember,
    Topic,
    TopicOutcome,
)
from yipanqi.meetings.tests.conftest import at, run_to_held
from yipanqi.meetings.views import proposed_host_from

pytestmark = pytest.mark.django_db

ROLES = ("owner", "partner", "coordinator", "outsider", "anonymous")


def _who(request, role):
    return None if role == "anonymous" else request.getfixturevalue(role)


def _assert_status(response, expected, what):
    if expected == 302:
        assert response.status_code == 302, what
        assert response["Location"].startswith(reverse("login")), (what, response["Location"])
    else:
        assert response.status_code == expected, (what, response.status_code)


def _fresh(meeting) -> Meeting:
    return Meeting.objects.get(pk=meeting.pk)


def _day(days: int) -> str:
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


@pytest.fixture
def held(meeting, owner, partner, courts):
    """Meeting 1 held: topic 1 by 四川高院 (the host), topic 2 by 重庆高院, a decision on topic 1."""
    topics = run_to_held(meeting, owner, partner)
    with transaction.atomic():
        decision = services.record_decision(
            acting_user=owner,
            topic=topics[0],
            title="建立执行联动机制",
            kind=DecisionKind.NEW_MEASURES,
            lead=courts[1],
            co_owners=[courts[0]],
            due_on=timezone.localdate() + datetime.timedelta(days=90),
        )
    return {"meeting": _fresh(meeting), "topics": topics, "decision": decision}


def _approve_all(meeting, owner, partner, *, as_agreement=False):
    with transaction.atomic():
        services.draft_minutes(acting_user=owner, meeting=meeting)
    if as_agreement:
        with transaction.atomic():
            services.edit_minutes(
                acting_user=owner, meeting=meeting, text=_fresh(meeting).minutes_text, as_agreement=True
            )
    with transaction.atomic():
        services.submit_minutes(acting_user=owner, meeting=meeting)
    for user in (owner, partner):
        with transaction.atomic():
            services.approve_minutes(acting_user=user, meeting=meeting)
    return _fresh(meeting)


@pytest.fixture
def frozen(held, owner, partner):
    held["meeting"] = _approve_all(held["meeting"], owner, partner, as_agreement=True)
    return held


# --------------------------------------------------------------------------- permission matrix


def _page_urls(held):
    meeting, (own_topic, partner_topic), decision = held["meeting"], held["topics"], held["decision"]
    series = meeting.series
    return {
        "series-list": reverse("meetings:series-list"),
        "series-new": reverse("meetings:series-new"),
        "series": reverse("meetings:series", args=[series.pk]),
        "series-edit": reverse("meetings:series-edit", args=[series.pk]),
        "meeting-new": reverse("meetings:meeting-new", args=[series.pk]),
        "meeting": reverse("meetings:meeting", args=[meeting.pk]),
        "meeting-page-2": reverse("meetings:meeting", args=[meeting.pk]) + "?page=2",
        "meeting-edit": reverse("meetings:meeting-edit", args=[meeting.pk]),
        "topic-new": reverse("meetings:topic-new", args=[meeting.pk]),
        "topic-edit-own": reverse("meetings:topic-edit", args=[own_topic.pk]),
        "topic-edit-partner": reverse("meetings:topic-edit", args=[partner_topic.pk]),
        "decision-new": reverse("meetings:decision-new", args=[own_topic.pk]),
        "decision-edit": reverse("meetings:decision-edit", args=[decision.pk]),
        "minutes": reverse("meetings:minutes", args=[meeting.pk]),
        "minutes-return": reverse("meetings:minutes-return", args=[meeting.pk]),
    }


# page → expected status for owner (host liaison), partner (member liaison), coordinator, outsider, anonymous
PAGE_MATRIX = {
    "series-list": (200, 200, 200, 200, 302),
    "series-new": (403, 403, 200, 403, 302),
    "series": (200, 200, 200, 404, 302),
    "series-edit": (403, 403, 200, 404, 302),
    "meeting-new": (200, 200, 200, 404, 302),  # a member's liaison schedules the meetings its agency hosts
    "meeting": (200, 200, 200, 404, 302),
    "meeting-page-2": (200, 200, 200, 404, 302),
    "meeting-edit": (200, 403, 200, 404, 302),
    "topic-new": (200, 200, 200, 404, 302),
    "topic-edit-own": (200, 403, 200, 404, 302),
    "topic-edit-partner": (200, 200, 200, 404, 302),
    "decision-new": (200, 403, 200, 404, 302),
    "decision-edit": (200, 403, 200, 404, 302),
    "minutes": (200, 403, 200, 404, 302),
    "minutes-return": (200, 200, 200, 404, 302),
}


@pytest.mark.parametrize("role", ROLES)
def test_page_matrix(request, web, held, role):
    client = web(_who(request, role))
    urls = _page_urls(held)
    index = ROLES.index(role)
    for page, statuses in PAGE_MATRIX.items():
        _assert_status(client.get(urls[page]), statuses[index], page)


def _post_urls(held):
    meeting, (own_topic, _partner_topic), decision = held["meeting"], held["topics"], held["decision"]
    return {
        "series-new": reverse("meetings:series-new"),
        "series-edit": reverse("meetings:series-edit", args=[meeting.series_id]),
        "meeting-new": reverse("meetings:meeting-new", args=[meeting.series_id]),
        "meeting-edit": reverse("meetings:meeting-edit", args=[meeting.pk]),
        "step": reverse("meetings:step", args=[meeting.pk, "open-agenda"]),
        "topic-new": reverse("meetings:topic-new", args=[meeting.pk]),
        "topic-order": reverse("meetings:topic-order", args=[meeting.pk]),
        "topic-edit": reverse("meetings:topic-edit", args=[own_topic.pk]),
        "topic-withdraw": reverse("meetings:topic-withdraw", args=[own_topic.pk]),
        "topic-outcome": reverse("meetings:topic-outcome", args=[own_topic.pk]),
        "decision-new": reverse("meetings:decision-new", args=[own_topic.pk]),
        "decision-edit": reverse("meetings:decision-edit", args=[decision.pk]),
        "decision-delete": reverse("meetings:decision-delete", args=[decision.pk]),
        "minutes": reverse("meetings:minutes", args=[meeting.pk]),
        "minutes-draft": reverse("meetings:minutes-draft", args=[meeting.pk]),
        "minutes-submit": reverse("meetings:minutes-submit", args=[meeting.pk]),
        "minutes-approve": reverse("meetings:minutes-approve", args=[meeting.pk]),
        "minutes-return": reverse("meetings:minutes-return", args=[meeting.pk]),
    }


# POST endpoint → expected status of a refused POST for owner (the host), partner, coordinator, outsider, anonymous
# (None: allowed, tested with the forms below)
POST_MATRIX = {
    "series-new": (403, 403, None, 403, 302),
    "series-edit": (403, 403, None, 404, 302),
    "meeting-edit": (None, 403, None, 404, 302),
    "step": (None, 403, None, 404, 302),
    "topic-order": (None, 403, 403, 404, 302),  # only the host orders the agenda, not even the coordinators
    "topic-edit": (None, 403, None, 404, 302),
    "topic-withdraw": (None, 403, None, 404, 302),
    "topic-outcome": (None, 403, None, 404, 302),
    "decision-new": (None, 403, None, 404, 302),
    "decision-edit": (None, 403, None, 404, 302),
    "decision-delete": (None, 403, None, 404, 302),
    "minutes": (None, 403, None, 404, 302),
    "minutes-draft": (None, 403, None, 404, 302),
    "minutes-submit": (None, 403, None, 404, 302),
    "minutes-approve": (None, None, 403, 404, 302),  # only the members' liaisons approve
    "minutes-return": (None, None, None, 404, 302),
    "topic-new": (None, None, None, 404, 302),
    "meeting-new": (None, None, None, 404, 302),
}


def _snapshot(meeting):
    meeting = _fresh(meeting)
    return (
        meeting.status,
        meeting.minutes_status,
        meeting.minutes_text,
        MeetingSeries.objects.count(),
        Meeting.objects.count(),
        sorted(Topic.objects.filter(meeting=meeting).values_list("pk", "title", "position", "outcome")),
        sorted(Decision.objects.filter(meeting=meeting).values_list("pk", "title", "kind")),
        MinutesApproval.objects.count(),
        list(SeriesMember.objects.filter(series=meeting.series).values_list("agency_id", "position")),
    )


@pytest.mark.parametrize("role", ROLES)
def test_refused_posts_write_nothing(request, web, held, courts, role):
    client = web(_who(request, role))
    meeting = held["meeting"]
    urls = _post_urls(held)
    body = {
        "title": "改过的标题",
        "text": "纪要",
        "comment": "请修改",
        "outcome": "concluded",
        "move": f"{held['topics'][1].pk}:up",
        "kind": "info",
        "members": [courts[1].pk, courts[0].pk],
        "rotation_rule": "fixed",
        "starts_at": "2030-01-01T09:00",
        "host": courts[0].pk,
    }
    before = _snapshot(meeting)
    index = ROLES.index(role)
    for name, statuses in POST_MATRIX.items():
        expected = statuses[index]
        if expected is None:
            continue
        _assert_status(client.post(urls[name], body), expected, name)
        assert _snapshot(meeting) == before, name


def test_unknown_step_is_404(web, meeting, owner):
    response = web(owner).post(reverse("meetings:step", args=[meeting.pk, "approve"]))
    assert response.status_code == 404
    assert _fresh(meeting).status == MeetingStatus.PLANNED


def test_nav_offers_meetings(web, series, owner, coordinator):
    page = web(owner).get(reverse("meetings:series-list")).content.decode()
    assert 'id="meetings-menu"' in page and 'id="meetings-calendar-link"' in page
    assert 'id="meetings-new-series-link"' not in page
    assert 'id="meetings-new-series-link"' in web(coordinator).get(reverse("dashboard")).content.decode()


# --------------------------------------------------------------------------- series


def test_series_list_shows_members_next_meeting_and_proposed_host(web, meeting, owner, outsider, courts):
    page = web(owner).get(reverse("meetings:series-list")).content.decode()
    assert "川渝高级法院执行协作联席会议" in page
    assert reverse("meetings:meeting", args=[meeting.pk]) in page  # the next meeting
    # Meeting 1 is hosted by 四川高院: 重庆高院 hosts next.
    proposed = page.split('class="series-proposed-host"')[1].split("</td>")[0]
    assert courts[1].name in proposed
    assert "川渝高级法院执行协作联席会议" not in web(outsider).get(reverse("meetings:series-list")).content.decode()


@pytest.mark.parametrize("rule", ["fixed", "joining", "chosen"])
def test_the_list_proposes_the_same_host_as_the_selector(coordinator, series, owner, courts, rule):
    with transaction.atomic():
        services.update_series(acting_user=coordinator, series=series, rotation_rule=rule)
    for host in (courts[0], courts[1], courts[1]):
        with transaction.atomic():
            services.schedule_meeting(
                acting_user=coordinator, series=series, starts_at=at(timezone.localdate()), host=host
            )
        series = MeetingSeries.objects.get(pk=series.pk)
        seats = list(SeriesMember.objects.filter(series=series).select_related("agency"))
        meetings = list(Meeting.objects.filter(series=series))
        assert proposed_host_from(series, seats, meetings) == selectors.proposed_host(series)
    with transaction.atomic():
        services.update_series(acting_user=coordinator, series=series, next_host=courts[0])
    series = MeetingSeries.objects.get(pk=series.pk)
    assert proposed_host_from(series, seats, meetings) == selectors.proposed_host(series) == courts[0]


def test_series_page_highlights_the_next_host_for_every_member(web, meeting, owner, partner, courts):
    for user in (owner, partner):
        page = web(user).get(reverse("meetings:series", args=[meeting.series_id])).content.decode()
        assert f'id="next-host" data-agency="{courts[1].name}"' in page
        rotation = page.split('id="rotation"')[1].split("</ol>")[0]
        assert rotation.index(courts[0].name) < rotation.index(courts[1].name)  # fixed order: 四川 then 重庆
        assert f'is-next-host active" data-agency="{courts[1].name}"' in rotation
        assert 'class="meeting-row" data-number="1"' in page


def test_coordinator_creates_a_series_with_members_in_rotation_order(web, coordinator, chengyu, courts, agreement):
    sichuan, chongqing = courts
    client = web(coordinator)
    page = client.get(reverse("meetings:series-new"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="id_members_0"' in html and agreement.title in html
    response = client.post(
        reverse("meetings:series-new"),
        {
            "circle": chengyu.pk,
            "title": "川渝法院院长联席会议",
            "kind": "joint",
            "members": [chongqing.pk, "", sichuan.pk],
            "rotation_rule": "fixed",
            "next_host": "",
            "standing_agreement": agreement.pk,
            "description": "每年一次",
        },
    )
    series = MeetingSeries.objects.get(title="川渝法院院长联席会议")
    assert response.status_code == 302 and response["Location"] == reverse("meetings:series", args=[series.pk])
    assert [a.pk for a in selectors.rotation(series)] == [chongqing.pk, sichuan.pk]
    assert series.standing_agreement == agreement and series.circle == chengyu
    assert selectors.proposed_host(series) == chongqing


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"members": ["four"]}, "members"),  # not a choice
        ({"members": [1]}, "members"),  # an agency outside the circle's candidates
        ({"title": ""}, "title"),
        ("one member", "members"),  # the service wants two
        ("twice", "members"),
    ],
)
def test_series_form_errors_write_nothing(web, coordinator, chengyu, courts, change, field):
    data = {"circle": chengyu.pk, "title": "新会议", "kind": "joint", "members": [courts[0].pk, courts[1].pk]}
    data["rotation_rule"] = "fixed"
    if change == "one member":
        data["members"] = [courts[0].pk]
    elif change == "twice":
        data["members"] = [courts[0].pk, courts[0].pk]
    else:
        data.update(change)
    count = MeetingSeries.objects.count()
    response = web(coordinator).post(reverse("meetings:series-new"), data)
    assert response.status_code == 200
    assert response.context["form"].errors.get(field), response.context["form"].errors
    assert "invalid-feedback" in response.content.decode()
    assert MeetingSeries.objects.count() == count


def test_coordinator_reorders_members_and_names_the_next_host(web, coordinator, series, courts):
    sichuan, chongqing = courts
    client = web(coordinator)
    page = client.get(reverse("meetings:series-edit", args=[series.pk])).content.decode()
    assert f'<option value="{sichuan.pk}" selected>' in page.split('id="id_members_0"')[1].split("</select>")[0]
    response = client.post(
        reverse("meetings:series-edit", args=[series.pk]),
        {
            "title": series.title,
            "kind": "consultation",
            "members": [chongqing.pk, sichuan.pk],
            "rotation_rule": "fixed",
            "next_host": sichuan.pk,
            "standing_agreement": series.standing_agreement_id,
        },
    )
    assert response.status_code == 302
    series.refresh_from_db()
    assert series.kind == "consultation" and series.next_host == sichuan
    assert [a.pk for a in selectors.rotation(series)] == [chongqing.pk, sichuan.pk]


# --------------------------------------------------------------------------- meetings


def test_coordinator_schedules_the_first_meeting_with_the_proposed_host(web, coordinator, series, courts):
    page = web(coordinator).get(reverse("meetings:series", args=[series.pk])).content.decode()
    assert 'id="schedule-form"' in page
    response = web(coordinator).post(
        reverse("meetings:meeting-new", args=[series.pk]),
        {
            "starts_at": "2030-05-20T09:30",
            "ends_at": "2030-05-20T17:00",
            "place": "重庆",
            "host": "",
            "agenda_deadline": "2030-05-10",
            "participant_agencies": [courts[0].pk, courts[1].pk],
        },
    )
    meeting = Meeting.objects.get(series=series)
    assert response.status_code == 302 and response["Location"] == reverse("meetings:meeting", args=[meeting.pk])
    assert meeting.number == 1 and meeting.host == courts[0] and meeting.place == "重庆"
    assert timezone.localtime(meeting.starts_at).strftime("%Y-%m-%d %H:%M") == "2030-05-20 09:30"
    assert set(meeting.participant_agencies.values_list("pk", flat=True)) == {courts[0].pk, courts[1].pk}


def test_a_member_liaison_schedules_only_the_meetings_its_agency_hosts(web, partner, series, courts):
    page = web(partner).get(reverse("meetings:meeting-new", args=[series.pk])).content.decode()
    host_select = page.split('name="host"')[1].split("</select>")[0]
    assert courts[1].name in host_select and courts[0].name not in host_select
    response = web(partner).post(
        reverse("meetings:meeting-new", args=[series.pk]), {"starts_at": "2030-05-20T09:30", "host": courts[0].pk}
    )
    assert response.status_code == 200 and response.context["form"].errors.get("host")
    assert not Meeting.objects.filter(series=series).exists()
    response = web(partner).post(
        reverse("meetings:meeting-new", args=[series.pk]), {"starts_at": "2030-05-20T09:30", "host": courts[1].pk}
    )
    assert response.status_code == 302
    assert Meeting.objects.get(series=series).host == courts[1]


def test_schedule_form_errors_write_nothing(web, coordinator, series):
    response = web(coordinator).post(
        reverse("meetings:meeting-new", args=[series.pk]),
        {"starts_at": "2030-05-20T09:30", "ends_at": "2030-05-19T09:30", "host": ""},
    )
    assert response.status_code == 200 and response.context["form"].errors.get("ends_at")
    response = web(coordinator).post(reverse("meetings:meeting-new", args=[series.pk]), {"starts_at": "soon"})
    assert response.status_code == 200 and response.context["form"].errors.get("starts_at")
    assert not Meeting.objects.filter(series=series).exists()


def test_host_edits_the_meeting(web, meeting, owner, courts):
    response = web(owner).post(
        reverse("meetings:meeting-edit", args=[meeting.pk]),
        {
            "title": "第一次联席会议",
            "starts_at": "2030-06-01T09:00",
            "place": "成都市",
            "host": courts[0].pk,
            "participant_agencies": [courts[0].pk, courts[1].pk],
            "minutes_as_agreement": "on",
        },
    )
    assert response.status_code == 302
    meeting = _fresh(meeting)
    assert meeting.title == "第一次联席会议" and meeting.place == "成都市" and meeting.minutes_as_agreement


def test_stepper_and_steps_through_the_cycle(web, meeting, owner, partner):
    client = web(owner)
    url = reverse("meetings:meeting", args=[meeting.pk])
    page = client.get(url).content.decode()
    assert 'data-step="planned" aria-current="step"' in page
    assert "step-open-agenda" in page and "step-close-agenda" not in page
    assert "step-open-agenda" not in web(partner).get(url).content.decode()  # members do not run the meeting
    for slug, status in (
        ("open-agenda", MeetingStatus.AGENDA_OPEN),
        ("close-agenda", MeetingStatus.AGENDA_CLOSED),
        ("held", MeetingStatus.HELD),
    ):
        response = client.post(reverse("meetings:step", args=[meeting.pk, slug]))
        assert response.status_code == 302
        assert _fresh(meeting).status == status
    page = client.get(url).content.decode()
    assert 'data-step="held" aria-current="step"' in page and 'id="minutes-box"' in page
    # A step out of turn is a conflict, not a crash.
    response = client.post(reverse("meetings:step", args=[meeting.pk, "open-agenda"]))
    assert response.status_code == 409
    assert 'id="conflict-message"' in response.content.decode()


# --------------------------------------------------------------------------- agenda


def test_partner_proposes_a_topic_with_an_offered_measure(web, meeting, owner, partner, tree, courts):
    Measure.objects.filter(pk=tree["leaf"].pk).update(red_from=timezone.localdate() - datetime.timedelta(days=3))
    with transaction.atomic():
        services.open_agenda(acting_user=owner, meeting=meeting)
    client = web(partner)
    url = reverse("meetings:meeting", args=[meeting.pk])
    page = client.get(url).content.decode()
    form = page.split('id="topic-form"')[1].split("</form>")[0]
    offered = form.split("<optgroup")[1]
    assert f'value="{tree["leaf"].pk}"' in offered  # the red measure comes first
    response = client.post(
        reverse("meetings:topic-new", args=[meeting.pk]),
        {"title": "异地财产查控提速", "description": "请议", "measures": [tree["leaf"].pk], "idempotency_key": "k1"},
    )
    assert response.status_code == 302
    topic = Topic.objects.get(meeting=meeting, title="异地财产查控提速")
    assert topic.proposed_by_agency == courts[1] and list(topic.measures.all()) == [tree["leaf"]]
    # The same form sent twice proposes once.
    client.post(
        reverse("meetings:topic-new", args=[meeting.pk]), {"title": "异地财产查控提速", "idempotency_key": "k1"}
    )
    assert Topic.objects.filter(meeting=meeting).count() == 1
    page = client.get(url).content.decode()
    assert f'id="topic-{topic.pk}"' in page and 'data-light="red"' in page


def test_topic_form_errors_write_nothing(web, meeting, owner, partner, tree):
    with transaction.atomic():
        services.open_agenda(acting_user=owner, meeting=meeting)
    url = reverse("meetings:topic-new", args=[meeting.pk])
    response = web(partner).post(url, {"title": ""})
    assert response.status_code == 200 and response.context["form"].errors.get("title")
    response = web(partner).post(url, {"title": "议题", "measures": [999999]})
    assert response.status_code == 200 and response.context["form"].errors.get("measures")
    assert not Topic.objects.filter(meeting=meeting).exists()


def test_members_propose_only_while_the_agenda_is_open(web, meeting, partner):
    url = reverse("meetings:meeting", args=[meeting.pk])
    assert 'id="topic-form"' not in web(partner).get(url).content.decode()
    response = web(partner).post(reverse("meetings:topic-new", args=[meeting.pk]), {"title": "太早的议题"})
    assert response.status_code == 409
    assert not Topic.objects.filter(meeting=meeting).exists()


def test_only_the_host_sees_and_uses_the_ordering(web, meeting, owner, partner, coordinator):
    with transaction.atomic():
        services.open_agenda(acting_user=owner, meeting=meeting)
    topics = []
    for title in ("一号议题", "二号议题", "三号议题"):
        with transaction.atomic():
            topics.append(services.propose_topic(acting_user=partner, meeting=meeting, title=title))
    url = reverse("meetings:meeting", args=[meeting.pk])
    assert 'id="order-form"' in web(owner).get(url).content.decode()
    for user in (partner, coordinator):
        page = web(user).get(url).content.decode()
        assert 'id="order-form"' not in page and "move-up" not in page
    order_url = reverse("meetings:topic-order", args=[meeting.pk])

    def order():
        return list(Topic.objects.filter(meeting=meeting).order_by("position").values_list("pk", flat=True))

    assert web(partner).post(order_url, {"move": f"{topics[2].pk}:up"}).status_code == 403
    assert web(coordinator).post(order_url, {"topics": [t.pk for t in reversed(topics)]}).status_code == 403
    assert order() == [t.pk for t in topics]
    response = web(owner).post(order_url, {"move": f"{topics[2].pk}:up", "next": url})
    assert response.status_code == 302 and response["Location"] == url
    assert order() == [topics[0].pk, topics[2].pk, topics[1].pk]
    web(owner).post(order_url, {"topics": [topics[1].pk, topics[0].pk, topics[2].pk]})
    assert order() == [topics[1].pk, topics[0].pk, topics[2].pk]
    # An incomplete list is refused with a message and changes nothing.
    response = web(owner).post(order_url, {"topics": [topics[0].pk]}, follow=True)
    assert order() == [topics[1].pk, topics[0].pk, topics[2].pk]
    assert "alert-danger" in response.content.decode()
    page = web(owner).get(url).content.decode()
    agenda = page.split('id="agenda"')[1]
    assert agenda.index("二号议题") < agenda.index("一号议题") < agenda.index("三号议题")


def test_topic_edit_and_withdraw(web, meeting, owner, partner):
    with transaction.atomic():
        services.open_agenda(acting_user=owner, meeting=meeting)
        topic = services.propose_topic(acting_user=partner, meeting=meeting, title="原议题")
    response = web(partner).post(reverse("meetings:topic-edit", args=[topic.pk]), {"title": "新议题"})
    assert response.status_code == 302
    topic.refresh_from_db()
    assert topic.title == "新议题"
    assert web(partner).post(reverse("meetings:topic-withdraw", args=[topic.pk])).status_code == 302
    topic.refresh_from_db()
    assert topic.outcome == TopicOutcome.WITHDRAWN
    page = web(owner).get(reverse("meetings:meeting", args=[meeting.pk])).content.decode()
    assert 'data-outcome="withdrawn"' in page


def test_outcomes_after_the_meeting(web, held, owner):
    meeting, topic = held["meeting"], held["topics"][1]
    page = web(owner).get(reverse("meetings:meeting", args=[meeting.pk])).content.decode()
    assert "outcome-unfinished" in page
    response = web(owner).post(reverse("meetings:topic-outcome", args=[topic.pk]), {"outcome": "unfinished"})
    assert response.status_code == 302
    topic.refresh_from_db()
    assert topic.outcome == TopicOutcome.UNFINISHED
    response = web(owner).post(reverse("meetings:topic-outcome", args=[topic.pk]), {"outcome": "bogus"}, follow=True)
    topic.refresh_from_db()
    assert topic.outcome == TopicOutcome.UNFINISHED and "alert-danger" in response.content.decode()


# --------------------------------------------------------------------------- decisions


def test_host_records_edits_and_deletes_decisions(web, held, owner, courts):
    meeting, topic = held["meeting"], held["topics"][1]
    client = web(owner)
    url = reverse("meetings:decision-new", args=[topic.pk])
    page = client.get(url).content.decode()
    assert 'name="co_owners"' in page and 'name="idempotency_key"' in page
    response = client.post(
        url,
        {
            "kind": "new",
            "title": "开展联合执行专项行动",
            "lead": courts[0].pk,
            "co_owners": [courts[1].pk],
            "due_on": _day(60),
            "idempotency_key": "d1",
        },
    )
    assert response.status_code == 302
    decision = Decision.objects.get(topic=topic)
    assert decision.lead == courts[0] and list(decision.co_owners.all()) == [courts[1]]
    response = client.post(reverse("meetings:decision-edit", args=[decision.pk]), {"kind": "info", "title": "知悉"})
    assert response.status_code == 302
    decision.refresh_from_db()
    assert decision.kind == "info" and decision.lead is None
    page = client.get(reverse("meetings:meeting", args=[meeting.pk])).content.decode()
    assert f'id="decision-{decision.pk}" data-kind="info"' in page and "decision-edit" in page
    edit_page = client.get(reverse("meetings:decision-edit", args=[decision.pk])).content.decode()
    assert 'id="decision-delete-form"' in edit_page
    assert client.post(reverse("meetings:decision-delete", args=[decision.pk])).status_code == 302
    assert not Decision.objects.filter(pk=decision.pk).exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "new", "title": "无主办", "due_on": "2031-01-01"}, "lead"),  # the service names the field
        ({"kind": "new", "title": "无期限", "lead": "LEAD"}, "due_on"),
        (
            {"kind": "new", "title": "外单位", "lead": "LEAD", "co_owners": ["OUTSIDER"], "due_on": "2031-01-01"},
            "co_owners",
        ),
        ({"kind": "update", "title": "未选举措"}, "measures"),
        ({"kind": "info", "title": ""}, "title"),
        ({"kind": "new", "title": "坏日期", "lead": "LEAD", "due_on": "明年"}, "due_on"),
    ],
)
def test_decision_form_errors_write_nothing(web, held, owner, outsider, courts, data, field):
    topic = held["topics"][1]
    data = dict(data)
    if data.get("lead") == "LEAD":
        data["lead"] = courts[0].pk
    if data.get("co_owners") == ["OUTSIDER"]:
        data["co_owners"] = [outsider.agency_id]
    count = Decision.objects.count()
    response = web(owner).post(reverse("meetings:decision-new", args=[topic.pk]), data)
    assert response.status_code == 200
    assert response.context["form"].errors.get(field), response.context["form"].errors
    assert "invalid-feedback" in response.content.decode()
    assert Decision.objects.count() == count


def test_open_decisions_of_earlier_meetings_open_the_next_one(web, held, owner, partner, coordinator, courts):
    meeting = held["meeting"]
    with transaction.atomic():
        second = services.schedule_meeting(
            acting_user=coordinator,
            series=meeting.series,
            starts_at=at(timezone.localdate() + datetime.timedelta(days=60)),
        )
    page = web(partner).get(reverse("meetings:meeting", args=[second.pk])).content.decode()
    table = page.split('id="earlier-decisions"')[1].split("</table>")[0]
    assert "建立执行联动机制" in table and 'data-state="awaiting_minutes"' in table


# --------------------------------------------------------------------------- minutes


def test_minutes_cycle_to_final_and_agreement(web, held, owner, partner, coordinator):
    meeting = held["meeting"]
    url = reverse("meetings:meeting", args=[meeting.pk])
    host = web(owner)
    page = host.get(url).content.decode()
    assert 'id="minutes-draft"' in page and 'id="minutes-submit"' not in page
    response = host.post(reverse("meetings:minutes-draft", args=[meeting.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("meetings:minutes", args=[meeting.pk])
    assert _fresh(meeting).minutes_status == MinutesStatus.DRAFT
    page = host.get(reverse("meetings:minutes", args=[meeting.pk])).content.decode()
    assert 'id="minutes-form"' in page and "建立执行联动机制" in page and 'id="minutes-regenerate"' in page
    text = _fresh(meeting).minutes_text + "\n（经会议确认）"
    response = host.post(reverse("meetings:minutes", args=[meeting.pk]), {"text": text, "as_agreement": "on"})
    assert response.status_code == 302
    assert _fresh(meeting).minutes_as_agreement and "（经会议确认）" in _fresh(meeting).minutes_text
    assert host.post(reverse("meetings:minutes-submit", args=[meeting.pk])).status_code == 302
    assert _fresh(meeting).minutes_status == MinutesStatus.PENDING
    # Only the members' liaisons see the approve button.
    assert 'id="minutes-approve"' in web(partner).get(url).content.decode()
    assert 'id="minutes-approve"' not in web(coordinator).get(url).content.decode()
    assert (
        web(partner).post(reverse("meetings:minutes-approve", args=[meeting.pk]), {"comment": "同意"}).status_code
        == 302
    )
    page = host.get(url).content.decode()
    assert 'id="minutes-approvals-count"' in page and 'data-approved="1" data-total="2"' in page
    assert 'data-state="approved"' in page and 'id="minutes-approve"' in page
    assert 'id="minutes-approve"' not in web(partner).get(url).content.decode()  # approved already
    assert host.post(reverse("meetings:minutes-approve", args=[meeting.pk])).status_code == 302
    meeting = _fresh(meeting)
    assert meeting.minutes_status == MinutesStatus.APPROVED and meeting.minutes_agreement is not None
    for user in (owner, partner, coordinator):
        page = web(user).get(url).content.decode()
        assert 'id="minutes-final"' in page
        assert (
            f'href="{reverse("ledger:agreement", args=[meeting.minutes_agreement_id])}" id="minutes-agreement-link"'
            in page
        )
        assert 'id="minutes-docx"' in page and 'id="minutes-pdf"' in page
        assert "step-" not in page.split('id="step-buttons"')[-1][:0] and 'id="step-buttons"' not in page
    assert Agreement.objects.filter(pk=meeting.minutes_agreement_id, kind="minutes").exists()


def test_a_handler_of_a_member_does_not_see_the_approve_button(web, held, owner, courts):
    meeting = held["meeting"]
    with transaction.atomic():
        services.draft_minutes(acting_user=owner, meeting=meeting)
        services.submit_minutes(acting_user=owner, meeting=meeting)
    handler = UserFactory(agency=courts[1], roles=[Role.HANDLER])
    url = reverse("meetings:meeting", args=[meeting.pk])
    assert 'id="minutes-approve"' not in web(handler).get(url).content.decode()
    assert web(handler).post(reverse("meetings:minutes-approve", args=[meeting.pk])).status_code == 403
    assert not MinutesApproval.objects.filter(meeting=meeting).exists()


def test_minutes_sent_back_need_a_comment(web, held, owner, partner):
    meeting = held["meeting"]
    with transaction.atomic():
        services.draft_minutes(acting_user=owner, meeting=meeting)
        services.submit_minutes(acting_user=owner, meeting=meeting)
    # Pending minutes are not edited: they go back to draft first.
    assert web(owner).get(reverse("meetings:minutes", args=[meeting.pk])).status_code == 409
    url = reverse("meetings:minutes-return", args=[meeting.pk])
    response = web(partner).post(url, {"comment": "  "})
    assert response.status_code == 200 and response.context["form"].errors.get("comment")
    assert _fresh(meeting).minutes_status == MinutesStatus.PENDING
    response = web(partner).post(url, {"comment": "第二项请写明期限"})
    assert response.status_code == 302
    assert _fresh(meeting).minutes_status == MinutesStatus.DRAFT


def test_empty_minutes_are_refused(web, held, owner):
    meeting = held["meeting"]
    response = web(owner).post(reverse("meetings:minutes", args=[meeting.pk]), {"text": "   "})
    assert response.status_code == 200 and response.context["form"].errors.get("text")
    assert _fresh(meeting).minutes_status == MinutesStatus.NONE


# --------------------------------------------------------------------------- frozen: 409


def test_a_frozen_meeting_answers_409_to_every_change(web, frozen, owner, partner, coordinator, courts):
    urls = _post_urls(frozen)
    before = _snapshot(frozen["meeting"])
    body = {"title": "改", "text": "改", "comment": "改", "outcome": "concluded", "kind": "info", "move": "1:up"}
    body.update({"starts_at": "2030-01-01T09:00", "host": courts[0].pk})
    skip = {"series-new", "series-edit", "meeting-new"}  # the series lives on; its next meeting can be scheduled
    for user in (owner, coordinator):
        client = web(user)
        for name, url in urls.items():
            if name in skip:
                continue
            response = client.post(url, body)
            if user == coordinator and name == "topic-order":
                assert response.status_code == 403, name  # never theirs to do, frozen or not
            else:
                assert response.status_code == 409, (name, response.status_code)
                assert 'id="conflict-message"' in response.content.decode()
            assert _snapshot(frozen["meeting"]) == before, name
        for name in ("meeting-edit", "topic-new", "topic-edit", "decision-new", "decision-edit", "minutes"):
            assert client.get(urls[name]).status_code == 409, name
    assert web(partner).post(urls["minutes-approve"]).status_code == 409
    assert web(partner).post(urls["minutes-return"], {"comment": "改"}).status_code == 409
    page = web(owner).get(reverse("meetings:meeting", args=[frozen["meeting"].pk])).content.decode()
    for button in ("meeting-edit", "step-buttons", "minutes-draft", "minutes-edit", "minutes-submit", "order-form"):
        assert f'id="{button}"' not in page, button
    assert "decision-new" not in page and "outcome-concluded" not in page


# --------------------------------------------------------------------------- performance: constant queries


def _big_meeting(series, topics: int, decisions: int, owner, partner, tree, courts):
    """A held meeting of ``series`` with ``topics`` topics and ``decisions`` decisions spread over them, each kind
    represented with measures, co-owners and created measures, the bulk written directly (as the bench does)."""
    with transaction.atomic():
        meeting = services.schedule_meeting(
            acting_user=owner, series=series, starts_at=at(timezone.localdate() + datetime.timedelta(days=5))
        )
    run_to_held(meeting, owner, partner, topics=("第一议题",))
    first = Topic.objects.get(meeting=meeting)
    with transaction.atomic():
        services.record_decision(
            acting_user=owner, topic=first, title="旧事项", kind="new", lead=courts[1], due_on=_day(30)
        )
    rows = Topic.objects.bulk_create(
        [
            Topic(meeting=meeting, position=i + 2, title=f"议题{i}", proposed_by_agency=courts[i % 2])
            for i in range(topics - 1)
        ]
    )
    all_topics = [first, *rows]
    Topic.measures.through.objects.bulk_create(
        [Topic.measures.through(topic_id=t.pk, measure_id=tree["leaf"].pk) for t in all_topics]
    )
    kinds = [DecisionKind.INFORMATION, DecisionKind.NEW_MEASURES, DecisionKind.UPDATE_MEASURES]
    now = timezone.now()
    made = Decision.objects.bulk_create(
        [
            Decision(
                meeting=meeting,
                topic=all_topics[i % len(all_topics)],
                position=i + 2,
                kind=kinds[i % 3],
                title=f"事项{i}",
                lead=courts[0] if kinds[i % 3] == DecisionKind.NEW_MEASURES else None,
                due_on=timezone.localdate() if kinds[i % 3] == DecisionKind.NEW_MEASURES else None,
                created_measure=tree["leaf"] if kinds[i % 3] == DecisionKind.NEW_MEASURES else None,
                applied_at=now if i % 2 else None,
            )
            for i in range(decisions - 1)
        ]
    )
    Decision.co_owners.through.objects.bulk_create(
        [Decision.co_owners.through(decision_id=d.pk, agency_id=courts[1].pk) for d in made if d.lead_id]
    )
    Decision.measures.through.objects.bulk_create(
        [
            Decision.measures.through(decision_id=d.pk, measure_id=tree["leaf"].pk)
            for d in made
            if d.kind == DecisionKind.UPDATE_MEASURES
        ]
    )
    return meeting


def test_meeting_page_queries_do_not_grow_with_the_agenda(
    web, series, coordinator, owner, partner, tree, courts, chengyu
):
    with transaction.atomic():
        other = services.create_series(
            acting_user=coordinator,
            title="川渝法院第二联席会议",
            circle=chengyu,
            members=list(courts),
            standing_agreement=tree["leaf"].agreement,
        )
    small = _big_meeting(series, 3, 5, owner, partner, tree, courts)
    big = _big_meeting(other, 200, 1000, owner, partner, tree, courts)
    assert Decision.objects.filter(meeting=big).count() == 1000
    client = web(owner)
    counts = {}
    for name, meeting in (("small", small), ("big", big), ("big page 4", big)):
        url = reverse("meetings:meeting", args=[meeting.pk]) + ("?page=4" if name == "big page 4" else "")
        client.get(url)  # warm the caches (sessions, navigation) alike
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        counts[name] = len(queries)
    assert counts["small"] == counts["big"] == counts["big page 4"], counts
    page = response.content.decode()
    assert page.count('class="list-group-item topic') == 50 and 'data-page="4"' in page
    assert 'data-state="in_progress"' in page and 'data-state="awaiting_minutes"' in page


def test_series_list_queries_do_not_grow_with_the_series(web, series, coordinator, chengyu, courts):
    client = web(coordinator)
    url = reverse("meetings:series-list")
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for i in range(5):
        with transaction.atomic():
            extra = services.create_series(
                acting_user=coordinator, title=f"会商会{i}", circle=chengyu, members=list(courts)
            )
            services.schedule_meeting(acting_user=coordinator, series=extra, starts_at=at(timezone.localdate()))
    with CaptureQueriesContext(connection) as six:
        response = client.get(url)
    assert response.content.decode().count('class="series-row"') == 6
    assert len(one) == len(six)


def test_agency_member_picker_offers_the_circles_agencies(web, coordinator, chengyu):
    page = web(coordinator).get(reverse("meetings:series-new")).content.decode()
    rows = page.split('id="id_members"')[1]
    assert rows.count("<select") >= 4
    assert Agency.objects.get(name="四川省高级人民法院").name in rows and "<optgroup" in rows


def test_open_decisions_of_earlier_meetings_come_a_page_at_a_time(
    web, series, coordinator, owner, partner, tree, courts
):
    first = _big_meeting(series, 10, 60, owner, partner, tree, courts)
    with transaction.atomic():
        second = services.schedule_meeting(
            acting_user=coordinator, series=series, starts_at=at(timezone.localdate() + datetime.timedelta(days=40))
        )
    total = selectors.open_decisions(second).count()
    assert total > 30 and not selectors.open_decisions(first).exists()
    url = reverse("meetings:meeting", args=[second.pk])
    page = web(partner).get(url).content.decode()
    assert f'id="earlier-count">{total}<' in page and 'id="earlier-pages"' in page
    assert page.count('class="earlier-decision"') == 30
    rest = web(partner).get(url + "?earlier=2").content.decode()
    assert rest.count('class="earlier-decision"') == total - 30
