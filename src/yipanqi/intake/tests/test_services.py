"""The intake's writes: taking documents in, the reviewed draft (prefilled, checked, saved), commit to the ledger and
the meetings in one transaction, discard. The cast: ``coordinator`` coordinates 成渝 (``chengyu``), ``owner`` is
四川高院, ``partner`` 重庆高院, ``outsider`` 黑龙江公安 (outside every circle)."""

from __future__ import annotations

import copy
import datetime
import hashlib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from yipanqi.core.errors import Conflict
from yipanqi.core.models import AuditEvent
from yipanqi.directory.models import Agency
from yipanqi.intake import reading, services
from yipanqi.intake.models import DocumentStatus, IntakeDocument
from yipanqi.intake.tests.conftest import seed_text
from yipanqi.ledger.models import Agreement, Measure, MeasureOwner, OwnerRole
from yipanqi.ledger.tests.conftest import agreement, courts  # noqa: F401  (shared fixtures)
from yipanqi.meetings.models import Topic
from yipanqi.meetings.tests.conftest import meeting, series  # noqa: F401  (shared fixtures)

pytestmark = pytest.mark.django_db

ARTICLE = (
    "川渝两地法院签署执行协作协议\n"
    "发布时间：2021-03-02 来源：四川法院网\n"
    "3月1日，四川省高级人民法院与重庆市高级人民法院在成都签订了《川渝法院执行协作协议》。协议明确了以下举措：\n"
    "1.建立异地财产查控协作机制，共享被执行人财产线索。\n"
    "2.完善委托执行案件移送流程，提高委托执行效率。\n"
)


def _agency(name: str) -> Agency:
    return Agency.objects.get(name=name)


def _media_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def _intake_audit() -> list[str]:
    return list(AuditEvent.objects.filter(action__startswith="intake.").values_list("action", flat=True))


def _take_in(user, text=ARTICLE, name="协作协议.txt", **kwargs) -> IntakeDocument:
    return services.take_in(acting_user=user, name=name, data=text.encode("utf-8"), **kwargs)


# --------------------------------------------------------------------------- taking documents in


def test_take_in_of_a_text_file_stores_the_file_the_text_the_draft_and_a_prefilled_review(owner):
    data = ARTICLE.encode("utf-8")
    document = services.take_in(acting_user=owner, name="协作协议.txt", data=data)

    document.refresh_from_db()
    assert document.status == DocumentStatus.ANALYSED and document.error == ""
    assert document.name == "协作协议.txt"
    assert document.uploaded_by == owner and document.agency_id == owner.agency_id and document.circle is None
    assert document.size == len(data) and document.sha256 == hashlib.sha256(data).hexdigest()
    assert document.text == ARTICLE
    with document.file.open("rb") as handle:
        assert handle.read() == data
    assert document.file.name.startswith("intake/") and document.file.name.endswith(".txt")
    assert {"event", "agencies", "agreements", "measures", "topics", "figures", "warnings"} <= set(document.draft)
    assert document.reviewed == services.reviewed_from_draft(document.draft, None)
    assert set(document.reviewed) == {"circle", "agreements", "measures", "topics", "decisions"}
    # The byline's date is the publication date when none is given.
    assert document.published == datetime.date(2021, 3, 2)
    assert document.draft["source"]["published"] == "2021-03-02"
    event = AuditEvent.objects.get(action="intake.document.take_in")
    assert event.object_id == str(document.pk) and event.actor == owner
    assert event.subject_agency_id == owner.agency_id
    assert event.after["status"] == "analysed" and event.after["sha256"] == document.sha256
    assert "text" not in event.after and "draft" not in event.after


def test_take_in_of_a_real_article_with_a_given_publication_date(owner, chengyu):
    text = seed_text("000")
    document = services.take_in(
        acting_user=owner,
        name="000.txt",
        data=text.encode("utf-8"),
        published=datetime.date(2020, 5, 14),
        circle=chengyu,
    )
    assert document.published == datetime.date(2020, 5, 14) and document.circle == chengyu
    assert document.text == reading.read(text.encode("utf-8"), "000.txt")
    assert document.draft["source"]["published"] == "2020-05-14"
    assert document.reviewed["circle"] == chengyu.pk
    numbers = [node["number"] for node, _parent in services._walk(document.reviewed["measures"]["nodes"])]
    assert len(numbers) == len(set(numbers)) and all(numbers)


def test_take_in_of_pasted_text_names_it_after_its_headline_and_stores_it_as_utf8_text(partner, chengyu):
    pasted = ARTICLE.replace("\n", "\r\n")
    document = services.take_in_text(acting_user=partner, text=pasted, circle=chengyu)

    assert document.status == DocumentStatus.ANALYSED
    assert document.name == "川渝两地法院签署执行协作协议"
    assert document.text == ARTICLE  # line ends normalised
    assert document.file.name.endswith(".txt")
    with document.file.open("rb") as handle:
        assert handle.read().decode("utf-8") == ARTICLE
    assert document.agency_id == partner.agency_id and document.circle == chengyu
    assert document.reviewed["circle"] == chengyu.pk
    assert _intake_audit() == ["intake.document.take_in"]

    named = services.take_in_text(acting_user=partner, text=ARTICLE, name="会议通稿")
    assert named.name == "会议通稿" and named.file.name.endswith(".txt")


@pytest.mark.parametrize(
    "name, data, code",
    [
        ("empty.txt", b"", "empty"),
        ("blank.txt", b" \n\n ", "empty"),
        ("picture.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "unsupported"),
        ("binary.txt", b"\x00\x01\x02\x03" * 500, "binary"),
        ("english.txt", b"This is a plain English text without any Chinese in it. " * 20, "not_chinese"),
        ("huge.txt", "协作".encode() * (reading.MAX_BYTES // 6 + 1), "too_big"),
    ],
)
def test_a_document_that_cannot_be_read_is_refused_and_nothing_is_written(owner, name, data, code):
    with pytest.raises(reading.IntakeError) as refused:
        services.take_in(acting_user=owner, name=name, data=data)
    assert refused.value.code == code and str(refused.value)
    assert isinstance(refused.value, ValidationError)
    assert not IntakeDocument.objects.exists()
    assert _intake_audit() == [] and _media_files() == []


def test_pasted_text_that_cannot_be_read_is_refused_and_nothing_is_written(owner):
    for text in ("", "   \n", "Only English here, nothing Chinese at all. " * 5):
        with pytest.raises(reading.IntakeError):
            services.take_in_text(acting_user=owner, text=text)
    assert not IntakeDocument.objects.exists() and _media_files() == []


def test_only_people_of_an_agency_take_documents_in_and_only_for_their_circles(
    owner, partner, coordinator, outsider, admin_user, chengyu
):
    with pytest.raises(PermissionError):
        _take_in(None)
    with pytest.raises(PermissionError):  # 黑龙江 is not in 成渝
        _take_in(outsider, circle=chengyu)
    with pytest.raises(PermissionError):
        services.take_in_text(acting_user=outsider, text=ARTICLE, circle=chengyu)
    assert not IntakeDocument.objects.exists() and _media_files() == []

    assert _take_in(outsider).agency_id == outsider.agency_id  # for its own agency, without a circle
    assert _take_in(owner, circle=chengyu).circle == chengyu  # a member agency
    assert _take_in(partner, circle=chengyu.pk).circle == chengyu  # the circle may be given by its id
    assert _take_in(coordinator, circle=chengyu).circle == chengyu  # the coordinator
    assert _take_in(admin_user, circle=chengyu).circle == chengyu


# --------------------------------------------------------------------------- the reviewed draft, prefilled


def _ref(text, agency_id=None, circles=()):
    return {"text": text, "span": [0, len(text)], "agency_id": agency_id, "circles": list(circles)}


def _measure(number, text, children=()):
    return {"number": number, "text": text, "span": [10, 20], "children": list(children), "area": False}


def test_reviewed_from_draft_includes_every_agreement_with_its_parties_and_numbers_the_tree_uniquely(chengyu):
    sichuan, chongqing = _agency("四川省高级人民法院"), _agency("重庆市高级人民法院")
    draft = {
        "event": {"place": "成都", "date": "2021-03-01"},
        "agencies": [],
        "agreements": [
            {
                "title": "川渝法院执行协作协议",
                "span": [40, 52],
                "kind": "cooperation",
                "date": "2021-03-01",
                "parties": [
                    _ref("四川高院", sichuan.pk, ["chengyu"]),
                    _ref("重庆高院", chongqing.pk, ["chengyu"]),
                    _ref("四川省高院", sichuan.pk, ["chengyu"]),  # the same agency named twice
                    _ref("某某协会"),  # unresolved: kept, for the reviewer to resolve
                ],
            },
            {"title": "实施方案", "span": [60, 64], "kind": "", "date": "", "parties": []},
        ],
        "measures": [
            _measure("(一)", "执行协作方面", [_measure("1.", "建立财产查控机制。"), _measure("2、", "完善移送流程")]),
            _measure("", "审判协作方面", [_measure("首先", "统一裁判尺度"), _measure("1", "共享典型案例")]),
            _measure("三", "加强队伍建设。" + "内容" * 200),
        ],
        "topics": [{"text": "执行难问题", "span": [70, 75]}],
    }
    reviewed = services.reviewed_from_draft(draft, chengyu)

    assert reviewed["circle"] == chengyu.pk
    first, second = reviewed["agreements"]
    assert first == {
        "key": "a1",
        "include": True,
        "title": "川渝法院执行协作协议",
        "kind": "cooperation",
        "status": "in_force",
        "signed_on": "2021-03-01",
        "signed_place": "成都",
        "signatories": [
            {"text": "四川高院", "agency_id": sichuan.pk},
            {"text": "重庆高院", "agency_id": chongqing.pk},
            {"text": "某某协会", "agency_id": None},
        ],
        "span": [40, 52],
    }
    assert second["key"] == "a2" and second["kind"] == "cooperation" and second["signed_on"] is None
    assert reviewed["measures"]["agreement"] == "a1"
    nodes = reviewed["measures"]["nodes"]
    assert [(n["number"], n["title"]) for n in nodes] == [
        ("(一)", "执行协作方面"),
        ("二", "审判协作方面"),  # unnumbered area: numbered by position
        ("三", "加强队伍建设。"),  # too long for a title: the first sentence, the whole text kept
    ]
    assert nodes[2]["text"].startswith("加强队伍建设。内容") and len(nodes[2]["text"]) == 407
    assert [c["number"] for c in nodes[0]["children"]] == ["(一)、1", "(一)、2"]
    assert [c["number"] for c in nodes[1]["children"]] == ["二、1", "二、1-2"]  # 首先 → 1, then a second "1"
    assert nodes[0]["children"][0] == {
        "number": "(一)、1",
        "title": "建立财产查控机制。",
        "text": "",
        "lead": None,
        "co_owners": [],
        "due_on": None,
        "span": [10, 20],
        "children": [],
    }
    assert reviewed["topics"] == {
        "meeting": None,
        "record": None,
        "items": [{"include": True, "title": "执行难问题", "span": [70, 75]}],
    }
    assert reviewed["decisions"] == {"items": []}


def test_reviewed_from_draft_guesses_the_circle_all_parties_share_and_targets_no_agreement_without_one(chengyu):
    sichuan, chongqing = _agency("四川省高级人民法院"), _agency("重庆市高级人民法院")
    parties = [_ref("四川高院", sichuan.pk, ["chengyu", "west"]), _ref("重庆高院", chongqing.pk, ["chengyu"])]
    draft = {"event": {}, "agreements": [{"title": "协议", "span": [0, 2], "parties": parties}]}
    assert services.reviewed_from_draft(draft)["circle"] == chengyu.pk
    assert services.reviewed_from_draft(draft, chengyu.pk)["circle"] == chengyu.pk

    empty = services.reviewed_from_draft({"event": {}, "measures": [_measure("1", "一项举措")]})
    assert empty["circle"] is None and empty["agreements"] == []
    assert empty["measures"]["agreement"] == {"existing": None}
    assert empty["measures"]["nodes"][0]["number"] == "1"


def test_chinese_numerals_of_positions():
    assert [services.chinese_numeral(n) for n in (1, 9, 10, 11, 20, 21, 100, 105, 110, 123)] == [
        "一",
        "九",
        "十",
        "十一",
        "二十",
        "二十一",
        "一百",
        "一百零五",
        "一百一十",
        "一百二十三",
    ]


# --------------------------------------------------------------------------- saving the review


def _node(number, title, lead=None, co_owners=(), due_on=None, children=()):
    return {
        "number": number,
        "title": title,
        "text": "",
        "lead": lead,
        "co_owners": list(co_owners),
        "due_on": due_on,
        "span": None,
        "children": list(children),
    }


def _ref_of(agency: Agency) -> dict:
    return {"text": agency.name, "agency_id": agency.pk}


def _reviewed(chengyu, *, signatories=None, nodes=None, topics=None, meeting_id=None) -> dict:
    """A hand-built reviewed draft: one 成渝 agreement of the two high courts and a 2-level measure tree."""
    sichuan, chongqing = _agency("四川省高级人民法院"), _agency("重庆市高级人民法院")
    procuratorate = _agency("四川省人民检察院")
    if signatories is None:
        signatories = [_ref_of(sichuan), _ref_of(chongqing)]
    if nodes is None:
        nodes = [
            _node(
                "一",
                "执行协作",
                children=[
                    _node("一、1", "异地财产查控", _ref_of(sichuan), [_ref_of(chongqing)], "2021-12-31"),
                    _node("一、2", "委托执行案件移送", _ref_of(chongqing), due_on="2022-06-30"),
                ],
            ),
            _node("二", "审判协作", children=[_node("二、1", "统一裁判尺度", _ref_of(procuratorate))]),
        ]
    return {
        "circle": chengyu.pk,
        "agreements": [
            {
                "key": "a1",
                "include": True,
                "title": "川渝法院执行协作协议",
                "kind": "cooperation",
                "status": "in_force",
                "signed_on": "2021-03-01",
                "signed_place": "成都",
                "signatories": signatories,
                "span": [40, 52],
            },
            {  # left out by the reviewer: its unresolved party does not matter
                "key": "a2",
                "include": False,
                "title": "实施方案",
                "kind": "implementation",
                "signed_on": None,
                "signed_place": "",
                "signatories": [{"text": "某某协会", "agency_id": None}],
                "span": None,
            },
        ],
        "measures": {"agreement": "a1", "nodes": nodes},
        "topics": {"meeting": meeting_id, "items": topics or []},
    }


def test_save_review_stores_a_normalised_copy_and_audits_it(coordinator, chengyu):
    document = _take_in(coordinator)
    reviewed = _reviewed(chengyu)
    reviewed["extra"] = "dropped"
    reviewed["agreements"][0]["signed_on"] = ""
    reviewed["agreements"][0]["note"] = "dropped"
    assert "status" not in reviewed["agreements"][1]  # missing: the default

    saved = services.save_review(acting_user=coordinator, document=document, reviewed=reviewed)
    saved.refresh_from_db()
    assert "extra" not in saved.reviewed and "note" not in saved.reviewed["agreements"][0]
    assert saved.reviewed["agreements"][0]["signed_on"] is None
    assert saved.reviewed["agreements"][1]["status"] == "in_force"
    assert saved.reviewed["measures"]["nodes"][0]["children"][0]["due_on"] == "2021-12-31"
    assert saved.status == DocumentStatus.ANALYSED
    event = AuditEvent.objects.get(action="intake.document.review")
    assert event.after == {"agreements": 1, "measures": 5, "topics": 0, "decisions": 0}
    assert services.clean_review(saved.reviewed, acting_user=coordinator) == saved.reviewed  # stable


@pytest.mark.parametrize(
    "change, section, fragment",
    [
        (lambda r: r.update(circle="chengyu"), "circle", "by its id"),
        (lambda r: r.update(circle=999999), "circle", "Unknown cooperation circle"),
        (lambda r: r.update(agreements={"a1": {}}), "agreements", "must be a list"),
        (lambda r: r["agreements"][0].update(signed_on="2021-13-01"), "agreements", "2021-13-01"),
        (lambda r: r["agreements"][0].update(kind="treaty"), "agreements", "treaty"),
        (lambda r: r["agreements"][0].update(include="yes"), "agreements", "true or false"),
        (lambda r: r["agreements"][0].update(title=12), "agreements", "must be text"),
        (lambda r: r["agreements"][1].update(key="a1"), "agreements", "used twice"),
        (lambda r: r["agreements"][0]["signatories"].append("四川高院"), "agreements", "{text, agency_id}"),
        (lambda r: r["agreements"][0]["signatories"][0].update(agency_id="12"), "agreements", "a number"),
        (lambda r: r["agreements"][0]["signatories"][0].update(agency_id=99999999), "agencies", "99999999"),
        (lambda r: r["agreements"][0].update(span=[3]), "agreements", "[start, end]"),
        (lambda r: r["measures"].update(agreement="a9"), "measures", "a9"),
        (lambda r: r["measures"].update(agreement={"existing": 99999999}), "measures", "Unknown agreement"),
        (lambda r: r["measures"].update(agreement=3), "measures", "{existing: id}"),
        (lambda r: r["measures"]["nodes"][0]["children"][0].update(due_on="31.12.2021"), "measures", "31.12.2021"),
        (lambda r: r["measures"]["nodes"][0].update(children="none"), "measures", "must be a list"),
        (lambda r: r["measures"]["nodes"][1]["children"][0].update(lead="检察院"), "measures", "{text, agency_id}"),
        (lambda r: r["topics"].update(meeting=99999999), "topics", "Unknown meeting"),
        (lambda r: r["topics"].update(items=[{"include": True, "title": ["议题"]}]), "topics", "must be text"),
    ],
)
def test_save_review_refuses_a_draft_of_the_wrong_shape(coordinator, chengyu, change, section, fragment):
    document = _take_in(coordinator)
    stored = copy.deepcopy(document.reviewed)
    reviewed = _reviewed(chengyu)
    change(reviewed)
    with translation_in_english(), pytest.raises(ValidationError) as refused:
        services.save_review(acting_user=coordinator, document=document, reviewed=reviewed)
    messages = refused.value.message_dict[section]
    assert any(fragment in message for message in messages), messages
    document.refresh_from_db()
    assert document.reviewed == stored
    assert not AuditEvent.objects.filter(action="intake.document.review").exists()


def translation_in_english():
    from django.utils import translation

    return translation.override("en")


def test_save_review_refuses_what_is_not_an_object_and_other_agencies_documents(owner, outsider, chengyu):
    document = _take_in(owner)
    with pytest.raises(ValidationError):
        services.save_review(acting_user=owner, document=document, reviewed=["not", "an", "object"])
    with pytest.raises(PermissionError):
        services.save_review(acting_user=outsider, document=document, reviewed=document.reviewed)
    with pytest.raises(ValidationError) as refused:  # a circle the person cannot see
        services.save_review(acting_user=outsider, document=_take_in(outsider), reviewed={"circle": chengyu.pk})
    assert "circle" in refused.value.message_dict


# --------------------------------------------------------------------------- commit


def test_commit_creates_the_agreement_its_measures_and_owners_in_one_audited_transaction(coordinator, chengyu):
    sichuan, chongqing = _agency("四川省高级人民法院"), _agency("重庆市高级人民法院")
    procuratorate = _agency("四川省人民检察院")
    document = _take_in(coordinator, circle=chengyu)
    services.save_review(acting_user=coordinator, document=document, reviewed=_reviewed(chengyu))

    committed = services.commit(acting_user=coordinator, document=document)

    committed.refresh_from_db()
    assert committed.status == DocumentStatus.COMMITTED
    assert committed.committed_by == coordinator and committed.committed_at is not None
    created_agreement = Agreement.objects.get()
    assert created_agreement.title == "川渝法院执行协作协议" and created_agreement.circle == chengyu
    assert created_agreement.kind == "cooperation" and created_agreement.status == "in_force"
    assert created_agreement.signed_on == datetime.date(2021, 3, 1) and created_agreement.signed_place == "成都"
    assert set(created_agreement.signatories.all()) == {sichuan, chongqing}
    assert created_agreement.created_by == coordinator
    with created_agreement.source_document.open("rb") as source, document.file.open("rb") as original:
        assert source.read() == original.read() == ARTICLE.encode("utf-8")
    assert created_agreement.source_document.name.startswith("agreements/")

    measures = {m.number: m for m in Measure.objects.filter(agreement=created_agreement)}
    assert list(measures) == ["一", "一、1", "一、2", "二", "二、1"]
    assert measures["一、1"].parent == measures["一"] and measures["二、1"].parent == measures["二"]
    assert measures["一"].parent is None and not measures["一"].is_leaf and measures["一、1"].is_leaf
    assert measures["一、1"].title == "异地财产查控" and measures["一、1"].due_on == datetime.date(2021, 12, 31)
    assert measures["一、2"].due_on == datetime.date(2022, 6, 30) and measures["二"].due_on is None
    owners = {(o.measure.number, o.agency_id, o.role) for o in MeasureOwner.objects.select_related("measure")}
    assert owners == {
        ("一、1", sichuan.pk, OwnerRole.LEAD),
        ("一、1", chongqing.pk, OwnerRole.CO),
        ("一、2", chongqing.pk, OwnerRole.LEAD),
        ("二、1", procuratorate.pk, OwnerRole.LEAD),
    }

    assert committed.created == [
        {"model": "ledger.agreement", "id": created_agreement.pk},
        *({"model": "ledger.measure", "id": m.pk} for m in sorted(measures.values(), key=lambda m: (m.depth, m.pk))),
    ]
    assert committed.reviewed["agreements"][0]["key"] == "a1"
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions.count("ledger.agreement.create") == 1
    assert actions.count("ledger.measure.create") == 5 and actions.count("ledger.owner.assign") == 4
    assert actions.count("ledger.agreement.update") == 1  # the source document
    assert actions[-1] == "intake.document.commit"
    event = AuditEvent.objects.get(action="intake.document.commit")
    assert event.actor == coordinator and event.object_id == str(document.pk)
    assert event.before == {"status": "analysed"}
    assert event.after == {"status": "committed", "created": committed.created}


def test_commit_takes_the_reviewed_draft_given_and_puts_measures_under_an_existing_agreement(
    coordinator,
    chengyu,
    agreement,  # noqa: F811
):
    document = _take_in(coordinator)
    sichuan = _agency("四川省高级人民法院")
    reviewed = {
        "circle": None,
        "agreements": [],
        "measures": {"agreement": {"existing": agreement.pk}, "nodes": [_node("九", "新增事项", _ref_of(sichuan))]},
        "topics": {"meeting": None, "items": []},
    }
    committed = services.commit(acting_user=coordinator, document=document, reviewed=reviewed)

    measure = Measure.objects.get(agreement=agreement, number="九")
    assert measure.owners.get().agency == sichuan
    assert committed.created == [{"model": "ledger.measure", "id": measure.pk}]
    assert committed.reviewed["measures"]["agreement"] == {"existing": agreement.pk}
    assert not agreement.source_document  # an existing agreement keeps its own source


def test_commit_is_refused_while_agencies_are_unresolved_and_lists_every_one(coordinator, chengyu):
    sichuan, chongqing = _agency("四川省高级人民法院"), _agency("重庆市高级人民法院")
    reviewed = _reviewed(
        chengyu,
        signatories=[_ref_of(sichuan), {"text": "渝高院", "agency_id": None}],
        nodes=[
            _node(
                "一",
                "执行协作",
                children=[
                    _node("一、1", "异地财产查控", {"text": "川高院", "agency_id": None}, [_ref_of(chongqing)]),
                    _node("一、2", "委托执行", _ref_of(sichuan), [{"text": "某中院", "agency_id": None}]),
                ],
            )
        ],
    )
    document = _take_in(coordinator)
    with translation_in_english(), pytest.raises(ValidationError) as refused:
        services.commit(acting_user=coordinator, document=document, reviewed=reviewed)

    assert refused.value.message_dict["agencies"] == [
        "渝高院 (in the signatories of 川渝法院执行协作协议)",
        "川高院 (in the lead of 一、1)",
        "某中院 (in the co-owners of 一、2)",
    ]
    assert not Agreement.objects.exists() and not Measure.objects.exists()
    document.refresh_from_db()
    assert document.status == DocumentStatus.ANALYSED and document.created == []
    assert not AuditEvent.objects.filter(action__in=["intake.document.commit", "ledger.agreement.create"]).exists()
    assert not any(path.is_relative_to(Path(settings.MEDIA_ROOT) / "agreements") for path in _media_files())


@pytest.mark.parametrize(
    "change, section, fragment",
    [
        (lambda r: r.update(agreements=[], measures={"agreement": None, "nodes": []}), "reviewed", "Nothing"),
        (lambda r: r.update(circle=None), "circle", "circle"),
        (lambda r: r["agreements"][0].update(title=""), "agreements", "title"),
        (lambda r: r["agreements"][0].update(title="协" * 201), "agreements", "200"),
        (lambda r: r["agreements"][0]["signatories"].pop(), "agreements", "two signatory"),
        (lambda r: r["agreements"][0].update(include=False), "measures", "not included"),
        (lambda r: r["measures"].update(agreement={"existing": None}), "measures", "Choose the agreement"),
        (lambda r: r["measures"]["nodes"][1].update(number="一"), "measures", "used twice"),
        (lambda r: r["measures"]["nodes"][1].update(number=""), "measures", "needs a number"),
        (lambda r: r["measures"]["nodes"][1].update(number="1" * 31), "measures", "30"),
        (lambda r: r["measures"]["nodes"][1].update(title=" "), "measures", "needs a title"),
        (lambda r: r["measures"]["nodes"][1].update(lead=r["agreements"][0]["signatories"][0]), "measures", "lowest"),
        (lambda r: r["topics"]["items"].append({"include": True, "title": "议题"}), "topics", "Choose the meeting"),
    ],
)
def test_commit_is_refused_when_the_draft_is_incomplete(coordinator, chengyu, change, section, fragment):
    reviewed = _reviewed(chengyu)
    change(reviewed)
    document = _take_in(coordinator)
    with translation_in_english(), pytest.raises(ValidationError) as refused:
        services.commit(acting_user=coordinator, document=document, reviewed=reviewed)
    messages = refused.value.message_dict[section]
    assert any(fragment in message for message in messages), messages
    assert not Agreement.objects.exists() and not Measure.objects.exists()
    assert IntakeDocument.objects.get(pk=document.pk).status == DocumentStatus.ANALYSED


def test_an_error_of_the_ledger_rolls_everything_back(coordinator, chengyu):
    reviewed = _reviewed(chengyu)
    reviewed["agreements"][1] = {
        **reviewed["agreements"][0],
        "key": "a2",
        "title": "川黑协作协议",
        "signatories": [_ref_of(_agency("四川省公安厅")), _ref_of(_agency("黑龙江省公安厅"))],  # outside 成渝
    }
    document = _take_in(coordinator)
    with translation_in_english(), pytest.raises(ValidationError) as refused:
        services.commit(acting_user=coordinator, document=document, reviewed=reviewed)

    assert "黑龙江省公安厅" in " ".join(refused.value.message_dict["signatories"])
    assert not Agreement.objects.exists() and not Measure.objects.exists() and not MeasureOwner.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="ledger.").exists()
    document.refresh_from_db()
    assert document.status == DocumentStatus.ANALYSED and document.committed_at is None
    assert not any(path.is_relative_to(Path(settings.MEDIA_ROOT) / "agreements") for path in _media_files())


def test_commit_needs_the_circles_coordinator(owner, chengyu):
    document = _take_in(owner, circle=chengyu)
    with pytest.raises(PermissionError):
        services.commit(acting_user=owner, document=document, reviewed=_reviewed(chengyu))
    assert not Agreement.objects.exists()
    assert IntakeDocument.objects.get(pk=document.pk).status == DocumentStatus.ANALYSED


def test_a_committed_document_cannot_be_committed_again_reviewed_or_discarded(coordinator, chengyu):
    document = _take_in(coordinator)
    services.commit(acting_user=coordinator, document=document, reviewed=_reviewed(chengyu))
    with pytest.raises(Conflict):
        services.commit(acting_user=coordinator, document=document, reviewed=_reviewed(chengyu))
    with pytest.raises(Conflict):
        services.save_review(acting_user=coordinator, document=document, reviewed=_reviewed(chengyu))
    with pytest.raises(Conflict):
        services.discard(acting_user=coordinator, document=document)
    assert Agreement.objects.count() == 1 and Measure.objects.count() == 5


def test_topics_are_committed_onto_a_meeting_of_a_series_the_committer_runs(coordinator, chengyu, meeting):  # noqa: F811
    document = _take_in(coordinator)
    reviewed = {
        "circle": chengyu.pk,
        "agreements": [],
        "measures": {"agreement": {"existing": None}, "nodes": []},
        "topics": {
            "meeting": meeting.pk,
            "items": [
                {"include": True, "title": "执行难问题", "span": [1, 5]},
                {"include": False, "title": "不要的议题", "span": None},
                {"include": True, "title": "财产查控协作", "span": None},
            ],
        },
    }
    committed = services.commit(acting_user=coordinator, document=document, reviewed=reviewed)

    topics = list(Topic.objects.filter(meeting=meeting).order_by("position"))
    assert [t.title for t in topics] == ["执行难问题", "财产查控协作"]
    assert all(t.proposed_by == coordinator for t in topics)
    assert committed.created == [{"model": "meetings.topic", "id": t.pk} for t in topics]
    assert AuditEvent.objects.filter(action="meetings.topic.propose").count() == 2


def test_topics_on_a_meeting_the_committer_cannot_see_are_refused(outsider, meeting):  # noqa: F811
    document = _take_in(outsider)
    reviewed = {"topics": {"meeting": meeting.pk, "items": [{"include": True, "title": "议题"}]}}
    with pytest.raises(ValidationError) as refused:
        services.commit(acting_user=outsider, document=document, reviewed=reviewed)
    assert "topics" in refused.value.message_dict
    assert not Topic.objects.filter(meeting=meeting).exists()


# --------------------------------------------------------------------------- discard


def test_discard_sets_a_document_aside_once_and_then_it_cannot_be_committed(owner, partner, coordinator, chengyu):
    document = _take_in(owner)
    with pytest.raises(PermissionError):  # another agency's document
        services.discard(acting_user=partner, document=document)
    discarded = services.discard(acting_user=owner, document=document)
    assert IntakeDocument.objects.get(pk=document.pk).status == DocumentStatus.DISCARDED
    assert services.discard(acting_user=owner, document=discarded).status == DocumentStatus.DISCARDED
    assert AuditEvent.objects.filter(action="intake.document.discard").count() == 1
    with pytest.raises(Conflict):
        services.commit(acting_user=owner, document=document, reviewed=_reviewed(chengyu))
    with pytest.raises(Conflict):
        services.save_review(acting_user=owner, document=document, reviewed=_reviewed(chengyu))
    with transaction.atomic():  # the document file stays for the trail
        assert IntakeDocument.objects.get(pk=document.pk).file.storage.exists(document.file.name)


@pytest.mark.parametrize(
    "folded, written",
    [
        ("建立机制,共享线索;完善流程", "建立机制，共享线索；完善流程"),
        ("议定:(一)试点", "议定：（一）试点"),
        ("审结案件1,000件", "审结案件1,000件"),
        ("Article 3, clause (a)", "Article 3, clause (a)"),
        ("“一站式”,多元解纷", "“一站式”，多元解纷"),
    ],
)
def test_titles_get_chinese_punctuation_back(folded, written):
    assert services.chinese_punctuation(folded) == written


def test_the_agreements_source_document_is_served_to_those_who_see_the_agreement(
    coordinator, owner, outsider, chengyu, web
):
    from django.urls import reverse

    document = _take_in(coordinator)
    services.commit(acting_user=coordinator, document=document, reviewed=_reviewed(chengyu))
    committed = Agreement.objects.get()
    url = reverse("ledger:agreement-source", args=[committed.pk])
    response = web(owner).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).decode("utf-8") == ARTICLE
    assert web(outsider).get(url).status_code == 404
    assert web(None).get(url).status_code == 302
    assert 'id="agreement-source"' in web(owner).get(reverse("ledger:agreement", args=[committed.pk])).content.decode()
    bare = Agreement.objects.create(title="无附件协议", circle=chengyu)
    assert web(coordinator).get(reverse("ledger:agreement-source", args=[bare.pk])).status_code == 404
