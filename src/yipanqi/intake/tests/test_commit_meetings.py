"""Committing topics and decisions to the meetings: onto an existing meeting (proposed while it takes topics, recorded
once it was held) or onto the meeting the document reports, recorded as held; decisions for information, or with a
lead and a deadline (work for an agency); refusals that write nothing."""

from __future__ import annotations

import copy
import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from yipanqi.core.models import AuditEvent
from yipanqi.directory.models import Agency
from yipanqi.intake import services
from yipanqi.intake.models import DocumentStatus, IntakeDocument
from yipanqi.intake.tests.test_decisions import MINUTES
from yipanqi.ledger.tests.conftest import agreement, courts  # noqa: F401  (shared fixtures)
from yipanqi.meetings.models import Decision, DecisionKind, Meeting, MeetingStatus, Topic, TopicOutcome
from yipanqi.meetings.tests.conftest import meeting, run_to_held, series  # noqa: F401  (shared fixtures)

pytestmark = pytest.mark.django_db


def _take_in(user, text=MINUTES, name="联席会议纪要.txt") -> IntakeDocument:
    return services.take_in(acting_user=user, name=name, data=text.encode("utf-8"))


def _ref(name: str) -> dict:
    agency = Agency.objects.get(name=name)
    return {"text": agency.name, "agency_id": agency.pk}


def _reviewed(chengyu, *, meeting_id=None, record=None, topics=None, decisions=None) -> dict:
    return {
        "circle": chengyu.pk,
        "agreements": [],
        "measures": {"agreement": {"existing": None}, "nodes": []},
        "topics": {
            "meeting": meeting_id,
            "record": record,
            "items": topics
            if topics is not None
            else [
                {"include": True, "title": "执行协作工作情况", "span": None},
                {"include": True, "title": "跨域执行财产查控", "span": None},
            ],
        },
        "decisions": {
            "items": decisions
            if decisions is not None
            else [
                {
                    "include": True,
                    "title": "建立川渝执行线索移送机制",
                    "text": "",
                    "topic": 2,
                    "lead": _ref("四川省高级人民法院"),
                    "co_owners": [_ref("重庆市高级人民法院")],
                    "due_on": "2021-12-31",
                    "span": [120, 170],
                },
                {
                    "include": True,
                    "title": "将执行协作纳入年度考核",
                    "text": "",
                    "topic": None,
                    "lead": None,
                    "co_owners": [],
                    "due_on": None,
                    "span": None,
                },
                {"include": False, "title": "不要的决定", "topic": None, "lead": None, "due_on": None},
            ]
        },
    }


def _record(of_series, host="四川省高级人民法院", date="2021-09-16") -> dict:
    return {"series": of_series.pk, "date": date, "place": "重庆", "host": _ref(host)["agency_id"]}


def test_the_draft_of_minutes_proposes_its_decisions_included_with_owners_only_when_it_has_a_deadline(coordinator):
    document = _take_in(coordinator)
    items = document.reviewed["decisions"]["items"]
    assert len(items) == 5 and all(item["include"] for item in items)  # the document reports a meeting
    first, _second, third = items[:3]
    assert first["lead"]["text"] and first["lead"]["agency_id"] == _ref("四川省高级人民法院")["agency_id"]
    assert first["due_on"] == "2021-12-31"
    assert first["co_owners"] == [_ref("重庆市高级人民法院")]
    # "由四川省高级人民法院承办" without a deadline: for information, the owner left in the text.
    assert third["lead"] is None and third["due_on"] is None and third["co_owners"] == []
    assert document.reviewed["topics"]["record"] is None


def test_a_signing_report_proposes_no_decision_to_include(coordinator):
    text = "2021年3月1日，四川省高级人民法院与重庆市高级人民法院签订了《执行协作协议》。双方同意共享执行线索。\n"
    document = _take_in(coordinator, text=text, name="签约.txt")
    items = document.reviewed["decisions"]["items"]
    assert items and not any(item["include"] for item in items)


def test_commit_records_the_reported_meeting_with_its_topics_and_decisions(coordinator, chengyu, series):  # noqa: F811
    document = _take_in(coordinator)
    reviewed = _reviewed(chengyu, record=_record(series))
    committed = services.commit(acting_user=coordinator, document=document, reviewed=reviewed)

    recorded = Meeting.objects.get(series=series)
    assert recorded.status == MeetingStatus.HELD
    assert timezone.localtime(recorded.starts_at).date() == datetime.date(2021, 9, 16)
    assert recorded.place == "重庆" and recorded.host.name == "四川省高级人民法院"
    topics = list(recorded.topics.order_by("position"))
    assert [t.title for t in topics] == ["执行协作工作情况", "跨域执行财产查控", _("Decisions of the meeting")]
    assert all(t.outcome == TopicOutcome.CONCLUDED for t in topics)
    work, information = recorded.decisions.order_by("position")
    assert work.topic == topics[1] and work.kind == DecisionKind.NEW_MEASURES
    assert work.lead.name == "四川省高级人民法院" and work.due_on == datetime.date(2021, 12, 31)
    assert [a.name for a in work.co_owners.all()] == ["重庆市高级人民法院"]
    assert information.topic == topics[2] and information.kind == DecisionKind.INFORMATION
    assert committed.status == DocumentStatus.COMMITTED
    assert committed.created == [
        {"model": "meetings.meeting", "id": recorded.pk},
        *({"model": "meetings.topic", "id": t.pk} for t in topics[:2]),
        {"model": "meetings.decision", "id": work.pk},
        {"model": "meetings.topic", "id": topics[2].pk},  # made for the decision without a topic
        {"model": "meetings.decision", "id": information.pk},
    ]
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"meetings.meeting.record_held", "meetings.topic.record", "meetings.decision.record"} <= actions
    assert "intake.document.commit" in actions


def test_commit_records_topics_and_decisions_on_a_meeting_that_was_held(
    coordinator,
    owner,
    partner,
    chengyu,
    meeting,  # noqa: F811
):
    run_to_held(meeting, owner, partner, topics=("执行协作",))
    document = _take_in(coordinator)
    services.commit(acting_user=coordinator, document=document, reviewed=_reviewed(chengyu, meeting_id=meeting.pk))
    titles = list(meeting.topics.order_by("position").values_list("title", flat=True))
    assert titles == ["执行协作", "执行协作工作情况", "跨域执行财产查控", _("Decisions of the meeting")]
    assert meeting.decisions.count() == 2


def test_decisions_are_refused_on_a_meeting_still_taking_topics(coordinator, chengyu, meeting):  # noqa: F811
    document = _take_in(coordinator)
    with pytest.raises(ValidationError) as refused:
        services.commit(acting_user=coordinator, document=document, reviewed=_reviewed(chengyu, meeting_id=meeting.pk))
    assert refused.value.message_dict["decisions"] == [
        _(
            "Decisions are recorded on a meeting whose agenda is closed or that was held: choose one, or record the "
            "meeting."
        )
    ]
    assert not Topic.objects.filter(meeting=meeting).exists() and not Decision.objects.exists()
    assert IntakeDocument.objects.get(pk=document.pk).status == DocumentStatus.ANALYSED


def test_topics_alone_are_still_proposed_to_a_meeting_taking_topics(coordinator, chengyu, meeting):  # noqa: F811
    document = _take_in(coordinator)
    reviewed = _reviewed(chengyu, meeting_id=meeting.pk, decisions=[])
    services.commit(acting_user=coordinator, document=document, reviewed=reviewed)
    assert meeting.topics.count() == 2
    assert AuditEvent.objects.filter(action="meetings.topic.propose").count() == 2


def _lead_only(r):
    r["decisions"]["items"][1]["lead"] = _ref("四川省高级人民法院")


def _due_only(r):
    r["decisions"]["items"][1]["due_on"] = "2022-01-31"


def _helpers_only(r):
    r["decisions"]["items"][1]["co_owners"] = [_ref("重庆市高级人民法院")]


def _excluded_topic(r):
    r["topics"]["items"][1]["include"] = False


def _future(r):
    r["topics"]["record"]["date"] = (timezone.localdate() + datetime.timedelta(days=2)).isoformat()


def _no_series(r):
    r["topics"]["record"]["series"] = None


def _outside_host(r):
    r["topics"]["record"]["host"] = _ref("黑龙江省公安厅")["agency_id"]


def _unresolved_lead(r):
    r["decisions"]["items"][0]["lead"] = {"text": "某某法院", "agency_id": None}


def _no_meeting(r):
    r["topics"]["record"] = None


def _long_title(r):
    r["decisions"]["items"][1]["title"] = "决" * 301


@pytest.mark.parametrize(
    "change, section, message",
    [
        (_lead_only, "decisions", "give both the lead agency and the deadline"),
        (_due_only, "decisions", "give both the lead agency and the deadline"),
        (_helpers_only, "decisions", "co-owners need a lead agency"),
        (_excluded_topic, "decisions", "belongs to a topic that is not included"),
        (_future, "topics", "must have taken place already"),
        (_no_series, "topics", "Choose the series"),
        (_outside_host, "topics", "member agency of the series"),
        (_unresolved_lead, "agencies", "某某法院"),
        (_no_meeting, "topics", "Choose the meeting"),
        (_long_title, "decisions", "300"),
    ],
)
def test_incomplete_decisions_and_meetings_are_refused_and_nothing_is_written(
    coordinator,
    chengyu,
    series,  # noqa: F811
    change,
    section,
    message,
):
    reviewed = _reviewed(chengyu, record=_record(series))
    change(reviewed)
    document = _take_in(coordinator)
    with translation_in_english(), pytest.raises(ValidationError) as refused:
        services.commit(acting_user=coordinator, document=document, reviewed=reviewed)
    messages = refused.value.message_dict[section]
    assert any(message in text for text in messages), messages
    assert not Meeting.objects.filter(series=series).exists() and not Decision.objects.exists()
    assert IntakeDocument.objects.get(pk=document.pk).status == DocumentStatus.ANALYSED


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda r: r["decisions"]["items"][0].update(topic=7), "the topic must be the position of a topic"),
        (lambda r: r["decisions"]["items"][0].update(topic="2"), "the topic must be the position of a topic"),
        (lambda r: r["topics"].update(record={"series": "x"}), "The series must be given by its id."),
        (lambda r: r["topics"].update(record={"series": 99999999}), "Unknown meeting series."),
        (lambda r: r["topics"]["record"].update(date="16/9/2021"), "is not a date"),
        (lambda r: r["topics"].update(meeting=1), "not both"),
        (lambda r: r.update(decisions=[]), "must be an object"),
    ],
)
def test_malformed_decisions_and_records_are_refused_by_shape(coordinator, chengyu, series, change, message):  # noqa: F811
    reviewed = _reviewed(chengyu, record=_record(series))
    change(reviewed)
    with translation_in_english(), pytest.raises(ValidationError) as refused:
        services.clean_review(reviewed, acting_user=coordinator)
    assert any(message in text for text in refused.value.messages), refused.value.messages


def test_recording_a_meeting_needs_its_host_or_a_coordinator(partner, chengyu, series):  # noqa: F811
    """重庆高院 may not record a meeting hosted by 四川高院: the commit is refused and nothing is written."""
    document = _take_in(partner)
    reviewed = _reviewed(chengyu, record=_record(series), decisions=[])
    with pytest.raises(PermissionError):
        services.commit(acting_user=partner, document=document, reviewed=copy.deepcopy(reviewed))
    assert not Meeting.objects.filter(series=series).exists() and not Topic.objects.exists()
    # Its own meeting it may record.
    reviewed["topics"]["record"] = _record(series, host="重庆市高级人民法院")
    services.commit(acting_user=partner, document=document, reviewed=reviewed)
    assert Meeting.objects.get(series=series).host.name == "重庆市高级人民法院"


def test_an_outsider_cannot_record_a_meeting_of_a_series_it_cannot_see(outsider, chengyu, series):  # noqa: F811
    document = _take_in(outsider)
    reviewed = _reviewed(chengyu, record=_record(series), decisions=[])
    with pytest.raises(ValidationError) as refused:
        services.commit(acting_user=outsider, document=document, reviewed=reviewed)
    assert "topics" in refused.value.message_dict
    assert not Meeting.objects.filter(series=series).exists()


def translation_in_english():
    from django.utils import translation

    return translation.override("en")


def test_the_recorded_meeting_keeps_the_document_and_serves_it_to_members_only(
    coordinator,
    owner,
    partner,
    outsider,
    chengyu,
    series,  # noqa: F811
    web,
):
    from django.urls import reverse

    document = _take_in(coordinator)
    services.commit(acting_user=coordinator, document=document, reviewed=_reviewed(chengyu, record=_record(series)))
    recorded = Meeting.objects.get(series=series)
    assert recorded.source_document
    url = reverse("meetings:meeting-source", args=[recorded.pk])
    response = web(owner).get(url)
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content).decode("utf-8") == MINUTES
    assert web(partner).get(url).status_code == 200
    assert web(outsider).get(url).status_code == 404
    assert web(None).get(url).status_code == 302
    page = web(owner).get(reverse("meetings:meeting", args=[recorded.pk])).content.decode()
    assert 'id="meeting-source"' in page


def test_topics_proposed_to_someone_elses_meeting_leave_its_source_alone(owner, partner, chengyu, meeting):  # noqa: F811
    """重庆高院 proposes topics to a meeting 四川高院 hosts: it does not run that meeting, so it attaches nothing."""
    from yipanqi.meetings import services as meetings

    meetings.open_agenda(acting_user=owner, meeting=meeting)
    document = _take_in(partner)
    services.commit(
        acting_user=partner, document=document, reviewed=_reviewed(chengyu, meeting_id=meeting.pk, decisions=[])
    )
    meeting.refresh_from_db()
    assert meeting.topics.count() == 2 and not meeting.source_document
