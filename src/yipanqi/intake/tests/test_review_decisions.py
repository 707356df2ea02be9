"""The review page's meeting part: the decisions panel (include, title, topic, owners and deadline), the meeting the
topics and decisions go to, recording the reported meeting as held, the commit and its result; who may edit."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yipanqi.directory.models import Agency
from yipanqi.intake import services
from yipanqi.intake.models import DocumentStatus, IntakeDocument
from yipanqi.intake.tests.test_decisions import MINUTES
from yipanqi.meetings import services as meetings
from yipanqi.meetings.models import Decision, Meeting, MeetingStatus

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def courts(db):
    return Agency.objects.get(name="四川省高级人民法院"), Agency.objects.get(name="重庆市高级人民法院")


@pytest.fixture
def series(coordinator, chengyu, courts):
    return meetings.create_series(
        acting_user=coordinator, title="川渝高院执行工作联席会议", kind="joint", circle=chengyu, members=list(courts)
    )


@pytest.fixture
def document(owner, chengyu):
    """The minutes of a joint meeting, taken in by 四川高院's liaison for 成渝."""
    return services.take_in_text(
        acting_user=owner, text=MINUTES, name="联席会议纪要", published=datetime.date(2021, 9, 20), circle=chengyu
    )


def _edit(client, document, op, data, htmx=True):
    return client.post(reverse("intake:edit", args=[document.pk, op]), data, **(HTMX if htmx else {}))


def _reload(document) -> IntakeDocument:
    return IntakeDocument.objects.get(pk=document.pk)


def test_the_review_page_shows_the_decisions_highlighted_and_editable(web, owner, document):
    page = web(owner).get(reverse("intake:review", args=[document.pk])).content.decode()
    assert 'id="panel-decisions"' in page
    assert page.count('class="list-group-item decision-row') == 5
    assert "yq-hl-decision" in page and 'data-kinds="decision' in page
    assert 'id="meeting-record-form"' in page
    assert 'value="2021-09-16"' in page  # the event's day proposed for the meeting to record
    assert 'value="重庆"' in page
    assert _("Work for %(lead)s, due %(due)s") % {"lead": "四川省高级人民法院", "due": "2021-12-31"} in page


def test_decision_edits_include_title_topic_and_owners(web, owner, document, courts):
    client = web(owner)
    response = _edit(client, document, "decision", {"index": "1", "title": "开放执行指挥中心查询端口", "topic": ""})
    assert response.status_code == 200
    item = _reload(document).reviewed["decisions"]["items"][1]
    assert item["include"] is False and item["title"] == "开放执行指挥中心查询端口" and item["topic"] is None
    _edit(client, document, "decision", {"index": "1", "include": "on", "title": "开放查询端口", "topic": "1"})
    item = _reload(document).reviewed["decisions"]["items"][1]
    assert item["include"] is True and item["topic"] == 1

    _edit(
        client,
        document,
        "decision-owners",
        {"index": "1", "lead": "重庆市高级人民法院", "due_on": "2022-06-30", "co_owner": ["四川省高级人民法院", ""]},
    )
    item = _reload(document).reviewed["decisions"]["items"][1]
    assert item["lead"]["agency_id"] == courts[1].pk and item["due_on"] == "2022-06-30"
    assert [ref["agency_id"] for ref in item["co_owners"]] == [courts[0].pk]

    _edit(client, document, "decision-owners", {"index": "1", "lead": "", "due_on": ""})
    item = _reload(document).reviewed["decisions"]["items"][1]
    assert item["lead"] is None and item["co_owners"] == [] and item["due_on"] is None


@pytest.mark.parametrize(
    "op, data, message",
    [
        (
            "decision-owners",
            {"index": "0", "lead": "四川省高级人民法院", "due_on": ""},
            "Give both the lead agency and the deadline, or neither.",
        ),
        (
            "decision-owners",
            {"index": "0", "lead": "", "due_on": "2022-01-01"},
            "Give both the lead agency and the deadline, or neither.",
        ),
        (
            "decision-owners",
            {"index": "0", "lead": "", "co_owner": "四川省高级人民法院"},
            "Co-owners need a lead agency.",
        ),
        ("decision", {"index": "9", "include": "on", "title": "x"}, "There is no such decision."),
        (
            "meeting-record",
            {"series": "", "date": "2021-09-16", "host": "四川省高级人民法院"},
            "This field is required.",
        ),
    ],
)
def test_refused_edits_say_why_and_change_nothing(web, owner, document, series, op, data, message):
    before = _reload(document).reviewed
    response = _edit(web(owner), document, op, data, htmx=False)
    assert response.status_code == 400
    assert _(message) in response.content.decode()
    assert _reload(document).reviewed == before


def test_a_decision_under_a_topic_the_draft_does_not_have_is_refused(web, owner, document):
    before = _reload(document).reviewed
    response = _edit(
        web(owner), document, "decision", {"index": "0", "include": "on", "title": "x", "topic": "9"}, htmx=False
    )
    assert response.status_code == 400
    message = _("Select a valid choice. %(value)s is not one of the available choices.") % {"value": "9"}
    assert message in response.content.decode()
    assert _reload(document).reviewed == before


def test_a_future_meeting_cannot_be_recorded_as_held(web, owner, document, series):
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    data = {"series": str(series.pk), "date": tomorrow, "place": "重庆", "host": "四川省高级人民法院"}
    response = _edit(web(owner), document, "meeting-record", data, htmx=False)
    assert response.status_code == 400
    assert _("A meeting recorded as held must have taken place already.") in response.content.decode()
    assert _reload(document).reviewed["topics"]["record"] is None


def test_record_the_reported_meeting_then_commit_it_with_its_decisions(web, coordinator, document, series, courts):
    client = web(coordinator)
    data = {"series": str(series.pk), "date": "2021-09-16", "place": "重庆", "host": "四川省高级人民法院"}
    assert _edit(client, document, "meeting-record", data).status_code == 200
    record = _reload(document).reviewed["topics"]["record"]
    assert record == {"series": series.pk, "date": "2021-09-16", "place": "重庆", "host": courts[0].pk}
    page = client.get(reverse("intake:review", args=[document.pk])).content.decode()
    assert 'id="meeting-record" open' in page

    response = client.post(reverse("intake:commit", args=[document.pk]))
    assert response.status_code == 302, re.findall(r"<li[^>]*>([^<]*)</li>", response.content.decode())
    meeting = Meeting.objects.get(series=series)
    assert meeting.status == MeetingStatus.HELD and meeting.host == courts[0]
    assert meeting.minutes_as_agreement  # the series has no standing agreement to hold the work decided
    assert Decision.objects.filter(meeting=meeting).count() == 5
    assert _reload(document).status == DocumentStatus.COMMITTED

    result = client.get(response["Location"]).content.decode()
    assert reverse("meetings:meeting", args=[meeting.pk]) in result
    assert result.count('data-model="meetings.decision"') == 5
    assert 'data-model="meetings.meeting"' in result


def test_choosing_an_existing_meeting_clears_the_record_and_lists_held_meetings(web, coordinator, document, series):
    held = meetings.record_held_meeting(
        acting_user=coordinator,
        series=series,
        starts_at=timezone.now() - datetime.timedelta(days=3),
        host=series.seats.first().agency,
    )
    client = web(coordinator)
    _edit(
        client,
        document,
        "meeting-record",
        {"series": str(series.pk), "date": "2021-09-16", "host": "四川省高级人民法院"},
    )
    page = client.get(reverse("intake:review", args=[document.pk])).content.decode()
    assert f'<option value="{held.pk}"' in page
    _edit(client, document, "topic-meeting", {"meeting": str(held.pk)})
    topics = _reload(document).reviewed["topics"]
    assert topics["meeting"] == held.pk and topics["record"] is None


@pytest.mark.parametrize("op", ["decision", "decision-owners", "meeting-record"])
@pytest.mark.parametrize("who", ["partner", "outsider"])
def test_other_agencies_cannot_edit_the_decisions(request, web, document, op, who):
    before = _reload(document).reviewed
    response = _edit(web(request.getfixturevalue(who)), document, op, {"index": "0", "title": "x"})
    assert response.status_code == 404
    assert _reload(document).reviewed == before


@pytest.mark.parametrize("op", ["decision", "decision-owners", "meeting-record"])
def test_anonymous_visitors_cannot_edit_the_decisions(web, document, op):
    response = _edit(web(None), document, op, {"index": "0", "title": "x"})
    assert response.status_code == 302 and response["Location"].startswith("/login/")
