"""The intake's pages: the list, the upload, the review page (highlighted text, the structure and its edits), the
commit and its result, the batch import with its progress; who may see what (owner, partner, outsider, anonymous).

The highlight builder and the edits of the reviewed draft are pure functions (``yipanqi.intake.review``): tested
here on small hand-made inputs, then through the pages.
"""

from __future__ import annotations

import copy
import datetime
import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from yipanqi.directory.models import Agency
from yipanqi.intake import review, services
from yipanqi.intake.models import BatchStatus, DocumentStatus, IntakeBatch, IntakeDocument
from yipanqi.intake.review import Highlight, ReviewError
from yipanqi.intake.tests.conftest import seed_text
from yipanqi.ledger.models import Agreement, Measure

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
# A short report written for these tests (not a seed): one agreement, two areas of measures.
ARTICLE = (
    "川渝两地高级法院签署执行协作协议\n"
    "6月18日，四川省高级人民法院与重庆市高级人民法院在重庆签订了《川渝法院执行协作框架协议》。协议明确：\n"
    "一、执行协作方面\n"
    "1.建立异地财产查控机制。\n"
    "2.推进委托执行案件移送和信息共享。\n"
    "二、信息共享方面\n"
    "1.建立执行数据共享平台。\n"
    "会议围绕执行协作、信息共享等问题进行了交流。\n"
)
AGREEMENT_TITLE = "川渝法院执行协作框架协议"


def _at(text: str, part: str) -> list[int]:
    start = ARTICLE.index(part)
    return [start, start + len(part)]


def _node(number, title, span_text, children=(), lead=None, co_owners=()):
    return {
        "number": number,
        "title": title,
        "text": "",
        "lead": lead,
        "co_owners": list(co_owners),
        "due_on": None,
        "span": _at(ARTICLE, span_text),
        "children": list(children),
    }


def crafted_review(sichuan: Agency, chongqing: Agency, circle_id: int) -> dict:
    """A reviewed draft of ARTICLE: the agreement of the two high courts, its two areas, one topic."""
    return {
        "circle": circle_id,
        "agreements": [
            {
                "key": "a1",
                "include": True,
                "title": AGREEMENT_TITLE,
                "kind": "framework",
                "status": "in_force",
                "signed_on": "2020-06-18",
                "signed_place": "重庆",
                "signatories": [
                    {"text": "四川省高级人民法院", "agency_id": sichuan.pk},
                    {"text": "重庆市高级人民法院", "agency_id": chongqing.pk},
                ],
                "span": _at(ARTICLE, f"《{AGREEMENT_TITLE}》"),
            }
        ],
        "measures": {
            "agreement": "a1",
            "nodes": [
                _node(
                    "一",
                    "执行协作方面",
                    "一、执行协作方面",
                    [
                        _node("一、1", "建立异地财产查控机制。", "1.建立异地财产查控机制。"),
                        _node("一、2", "推进委托执行案件移送和信息共享。", "2.推进委托执行案件移送和信息共享。"),
                    ],
                ),
                _node(
                    "二",
                    "信息共享方面",
                    "二、信息共享方面",
                    [_node("二、1", "建立执行数据共享平台。", "1.建立执行数据共享平台。")],
                ),
            ],
        },
        "topics": {
            "meeting": None,
            "items": [{"include": True, "title": "执行协作", "span": _at(ARTICLE, "执行协作、")}],
        },
    }


# --------------------------------------------------------------------------- the highlight builder

PIECE = re.compile(r"<(mark|span) ([^>]*)>(.*?)</\1>|([^<]+)", re.S)
ATTRIBUTE = re.compile(r'([\w-]+)="([^"]*)"')


def pieces(markup: str) -> list[dict]:
    """The highlighted text as pieces: tag ("" for plain text), attributes, the text (unescaped)."""
    found = []
    for match in PIECE.finditer(markup):
        if match.group(4) is not None:
            found.append({"tag": "", "attrs": {}, "text": html.unescape(match.group(4))})
        else:
            attrs = {k: html.unescape(v) for k, v in ATTRIBUTE.findall(match.group(2))}
            found.append({"tag": match.group(1), "attrs": attrs, "text": html.unescape(match.group(3))})
    assert "".join(re.sub(PIECE, "", markup).split()) == "", "markup outside the pieces"
    return found


def test_highlights_cut_at_every_boundary_and_give_back_the_text_exactly():
    text = "甲乙丙丁戊己庚辛壬癸"
    marks = [
        Highlight(0, 6, "measure", "measure-0", "Measure 1"),
        Highlight(2, 4, "agency", "agency-0", "Agency A"),  # nested in the measure
        Highlight(3, 8, "agreement", "agreement-0", "Agreement X"),  # overlaps both
    ]
    result = pieces(review.highlight_html(text, marks))
    assert "".join(p["text"] for p in result) == text
    covered = [p for p in result if p["tag"] == "mark"]
    assert [(int(p["attrs"]["data-start"]), int(p["attrs"]["data-end"])) for p in covered] == [
        (0, 2),
        (2, 3),
        (3, 4),
        (4, 6),
        (6, 8),
    ]
    for piece in covered:  # offsets exact: each piece is the text between its offsets
        assert piece["text"] == text[int(piece["attrs"]["data-start"]) : int(piece["attrs"]["data-end"])]
    by_start = {int(p["attrs"]["data-start"]): p for p in covered}
    assert by_start[3]["attrs"]["data-items"].split() == ["agency-0", "agreement-0", "measure-0"]
    assert "yq-hl-agency" in by_start[3]["attrs"]["class"]  # the innermost kind colours the piece
    assert by_start[4]["attrs"]["data-items"].split() == ["agreement-0", "measure-0"]
    assert by_start[6]["attrs"]["data-items"] == "agreement-0"
    assert by_start[3]["attrs"]["title"].split("\n") == ["Agency A", "Agreement X", "Measure 1"]
    assert result[-1] == {"tag": "", "attrs": {}, "text": "壬癸"}


def test_highlights_escape_the_text_and_the_labels():
    text = '<b onclick="x">A&B</b> 《协议》'
    quoted = text.index("《")
    marks = [
        Highlight(0, 9, "agency", "agency-0", 'Agency: <script>"'),
        Highlight(quoted, quoted + 4, "agreement", "a-0", "A"),
    ]
    markup = str(review.highlight_html(text, marks))
    assert "<b" not in markup and "<script>" not in markup and 'onclick="x"' not in markup
    assert ">&lt;b onclic</mark>k=&quot;x&quot;&gt;A&amp;B&lt;/b&gt; <mark" in markup
    assert 'title="Agency: &lt;script&gt;&quot;"' in markup
    assert "".join(p["text"] for p in pieces(markup)) == text


def test_highlights_clip_spans_to_the_text_and_drop_empty_ones():
    text = "一二三四五"
    marks = [Highlight(3, 99, "figure", "figure-0", "F"), Highlight(2, 2, "agency", "agency-0", "A")]
    result = pieces(review.highlight_html(text, marks))
    assert [(p["tag"], p["text"]) for p in result] == [("", "一二三"), ("mark", "四五")]
    assert review.highlight_html("", marks) == ""


def test_furniture_is_greyed_and_items_inside_it_are_marked_as_such():
    text = "正文内容。扫一扫分享到微信"
    marks = [
        Highlight(5, 13, "furniture", "furniture-0", "Furniture"),
        Highlight(8, 10, "agency", "agency-0", "A"),
    ]
    result = pieces(review.highlight_html(text, marks))
    assert [(p["tag"], p["text"]) for p in result] == [
        ("", "正文内容。"),
        ("span", "扫一扫"),
        ("mark", "分享"),
        ("span", "到微信"),
    ]
    assert result[1]["attrs"]["class"] == "yq-furniture"
    assert "yq-in-furniture" in result[2]["attrs"]["class"]


def test_draft_highlights_cover_every_kind_of_item_with_a_span():
    draft = {
        "event": {"span": [0, 4], "title": "标题", "next_meeting": {"span": [30, 34]}},
        "agencies": [{"text": "四川高院", "span": [5, 9], "agency_id": 1, "name": "四川省高级人民法院"}],
        "agreements": [{"title": "协议", "span": [10, 14]}],
        "measures": [
            {
                "number": "一",
                "text": "方面",
                "span": [15, 25],
                "children": [{"number": "1", "text": "甲", "span": [16, 18], "children": []}],
            }
        ],
        "topics": [{"text": "议题", "span": [20, 22]}],
        "figures": [{"text": "6.8亿条", "span": [22, 27], "counts": "数据"}],
        "declared_counts": [{"text": "20条", "span": [27, 29]}],
        "warnings": [{"message": "declared 20, found 18", "span": [27, 29]}, {"message": "no span", "span": None}],
        "source": {"furniture": [[35, 40]]},
    }
    keys = {h.key: h for h in review.draft_highlights(draft)}
    assert set(keys) == {
        "event",
        "next-meeting",
        "agency-0",
        "agreement-0",
        "measure-0",
        "measure-0.0",
        "topic-0",
        "figure-0",
        "count-0",
        "warning-0",
        "furniture-0",
    }
    assert (keys["measure-0.0"].start, keys["measure-0.0"].end) == (16, 18)
    assert "四川省高级人民法院" in keys["agency-0"].label and "数据" in keys["figure-0"].label


# --------------------------------------------------------------------------- the edits, as pure functions

SICHUAN = {"text": "四川省高院", "agency_id": 11}
CHONGQING = {"text": "重庆高院", "agency_id": None}


@pytest.fixture
def draft_review():
    return {
        "circle": 1,
        "agreements": [
            {
                "key": "a1",
                "include": True,
                "title": "甲协议",
                "kind": "cooperation",
                "status": "in_force",
                "signed_on": "2020-06-18",
                "signed_place": "重庆",
                "signatories": [dict(SICHUAN), dict(CHONGQING)],
                "span": [0, 10],
            }
        ],
        "measures": {
            "agreement": "a1",
            "nodes": [
                {
                    "number": "一",
                    "title": "监狱工作方面",
                    "text": "",
                    "lead": None,
                    "co_owners": [],
                    "due_on": None,
                    "span": [20, 26],
                    "children": [
                        {
                            "number": "一、1",
                            "title": "建立联席会议机制",
                            "text": "",
                            "lead": dict(CHONGQING),
                            "co_owners": [],
                            "due_on": None,
                            "span": [27, 35],
                            "children": [],
                        },
                        {
                            "number": "一、2",
                            "title": "加强信息共享互通数据",
                            "text": "",
                            "lead": None,
                            "co_owners": [{"text": "甲", "agency_id": 5}],
                            "due_on": "2021-06-30",
                            "span": [36, 46],
                            "children": [],
                        },
                    ],
                },
                {
                    "number": "二",
                    "title": "戒毒工作方面",
                    "text": "",
                    "lead": None,
                    "co_owners": [],
                    "due_on": None,
                    "span": [47, 53],
                    "children": [
                        {
                            "number": "二、1",
                            "title": "互派干部",
                            "text": "",
                            "lead": None,
                            "co_owners": [],
                            "due_on": None,
                            "span": [54, 58],
                            "children": [],
                        },
                    ],
                },
            ],
        },
        "topics": {"meeting": None, "items": [{"include": True, "title": "议题一", "span": [60, 63]}]},
    }


def _titles(reviewed):
    return [(path, node["number"], node["title"]) for path, node in review.walk_paths(reviewed)]


def test_merge_joins_an_item_into_the_previous_one_and_leaves_the_input_alone(draft_review):
    before = copy.deepcopy(draft_review)
    merged = review.merge_with_previous(draft_review, "0.1")
    assert draft_review == before
    first = review.node_at(merged, "0.0")
    assert first["title"] == "建立联席会议机制加强信息共享互通数据"
    assert first["span"] == [27, 46]
    assert first["lead"] == CHONGQING and first["co_owners"] == [{"text": "甲", "agency_id": 5}]
    assert first["due_on"] == "2021-06-30"
    assert [t[0] for t in _titles(merged)] == ["0", "0.0", "1", "1.0"]
    areas = review.merge_with_previous(draft_review, "1")
    assert [child["number"] for child in review.node_at(areas, "0")["children"]] == ["一、1", "一、2", "二、1"]
    with pytest.raises(ReviewError):
        review.merge_with_previous(draft_review, "0.0")


def test_split_cuts_an_item_at_the_marker_or_a_position(draft_review):
    source = "x" * 36 + "加强信息共享互通数据" + "y" * 20
    split = review.split_node(draft_review, "0.1", marked="加强信息共享|互通数据", source=source)
    first, second = review.node_at(split, "0.1"), review.node_at(split, "0.2")
    assert (first["number"], first["title"], first["span"]) == ("一、2", "加强信息共享", [36, 42])
    assert (second["number"], second["title"], second["span"]) == ("一、2-2", "互通数据", [42, 46])
    assert first["co_owners"] and not second["co_owners"] and second["children"] == []
    at = review.split_node(draft_review, "0.0", at=4)
    assert [review.node_at(at, p)["title"] for p in ("0.0", "0.1")] == ["建立联席", "会议机制"]
    assert review.node_at(at, "0.0")["span"][1] == review.node_at(at, "0.1")["span"][0]
    corrected = review.split_node(draft_review, "0.0", marked="建立联席会议| 制度")
    assert review.node_at(corrected, "0.1")["title"] == "制度"
    for bad in ({"marked": "两个|竖线|"}, {"marked": "|开头"}, {"at": 0}, {"at": 99}):
        with pytest.raises(ReviewError):
            review.split_node(draft_review, "0.0", **bad)


def test_split_numbers_stay_unique_in_the_tree(draft_review):
    once = review.split_node(draft_review, "0.0", at=2)
    twice = review.split_node(once, "0.0", at=1)
    numbers = [node["number"] for node in review.walk(twice)]
    assert len(numbers) == len(set(numbers))
    assert "一、1-2-2" in numbers


def test_delete_removes_a_subtree_or_only_its_heading(draft_review):
    gone = review.delete_node(draft_review, "1")
    assert [t[1] for t in _titles(gone)] == ["一", "一、1", "一、2"]
    ungrouped = review.delete_node(draft_review, "1", keep_children=True)
    assert [t[:2] for t in _titles(ungrouped)] == [("0", "一"), ("0.0", "一、1"), ("0.1", "一、2"), ("1", "二、1")]
    for path in ("2", "0.5", "x", "0..1", ""):
        with pytest.raises(ReviewError):
            review.delete_node(draft_review, path)


def test_edit_and_owners_of_an_item(draft_review):
    edited = review.edit_node(draft_review, "0.0", number=" 一、9 ", title=" 建立联席会议制度 ")
    assert (review.node_at(edited, "0.0")["number"], review.node_at(edited, "0.0")["title"]) == (
        "一、9",
        "建立联席会议制度",
    )
    with pytest.raises(ReviewError):
        review.edit_node(draft_review, "0.0", number="1", title=" ")
    lead = {"text": "四川省高级人民法院", "agency_id": 11}
    owned = review.set_owners(
        draft_review,
        "0.0",
        lead=lead,
        co_owners=[dict(lead), {"text": "乙", "agency_id": 7}, {"text": "乙", "agency_id": 7}],
        due_on="2021-12-31",
    )
    node = review.node_at(owned, "0.0")
    assert (
        node["lead"] == lead
        and node["co_owners"] == [{"text": "乙", "agency_id": 7}]
        and node["due_on"] == "2021-12-31"
    )
    cleared = review.set_owners(owned, "0.0", lead=None, co_owners=[], due_on=None)
    assert review.node_at(cleared, "0.0")["lead"] is None and review.node_at(cleared, "0.0")["due_on"] is None


def test_resolving_a_mention_fixes_every_reference_written_so(draft_review):
    assert len(review.unresolved(draft_review)) == 2  # the signatory and the lead of 一、1
    resolved = review.resolve_mention(draft_review, "重庆高院", {"text": "重庆高院", "agency_id": 22})
    assert resolved["agreements"][0]["signatories"][1] == {"text": "重庆高院", "agency_id": 22}
    assert review.node_at(resolved, "0.0")["lead"] == {"text": "重庆高院", "agency_id": 22}
    assert review.unresolved(resolved) == []
    with pytest.raises(ReviewError):
        review.resolve_mention(draft_review, "不存在", {"agency_id": 1})


def test_agreement_signatory_target_topic_and_circle_edits(draft_review):
    changed = review.update_agreement(
        draft_review,
        0,
        include=False,
        title="乙协议",
        kind="framework",
        signed_on=None,
        signed_place=" 成都 ",
        status="draft",
    )
    assert {
        k: changed["agreements"][0][k] for k in ("include", "title", "kind", "signed_on", "signed_place", "status")
    } == {
        "include": False,
        "title": "乙协议",
        "kind": "framework",
        "signed_on": None,
        "signed_place": "成都",
        "status": "draft",
    }
    assert review.unresolved(changed) == [review.unresolved(draft_review)[1]]  # an excluded agreement needs nothing
    with pytest.raises(ReviewError):
        review.update_agreement(draft_review, 0, include=True, title="", kind="other", signed_on=None)
    with pytest.raises(ReviewError):
        review.update_agreement(draft_review, 3, include=True, title="x", kind="other", signed_on=None)

    fixed = review.set_signatory(draft_review, 0, 1, {"text": "重庆市高级人民法院", "agency_id": 22})
    assert fixed["agreements"][0]["signatories"][1] == {"text": "重庆高院", "agency_id": 22}
    removed = review.remove_signatory(draft_review, 0, 0)
    assert removed["agreements"][0]["signatories"] == [CHONGQING]
    added = review.add_signatory(draft_review, 0, {"text": "丙", "agency_id": 33})
    assert added["agreements"][0]["signatories"][-1] == {"text": "丙", "agency_id": 33}
    with pytest.raises(ReviewError):
        review.add_signatory(draft_review, 0, dict(SICHUAN))
    with pytest.raises(ReviewError):
        review.set_signatory(draft_review, 0, 5, {"agency_id": 1})

    assert review.set_measures_agreement(draft_review, {"existing": 9})["measures"]["agreement"] == {"existing": 9}
    assert review.set_measures_agreement(draft_review, "a1")["measures"]["nodes"] == draft_review["measures"]["nodes"]
    for bad in ("a9", {"existing": "9"}, 5):
        with pytest.raises(ReviewError):
            review.set_measures_agreement(draft_review, bad)

    topic = review.update_topic(draft_review, 0, include=False, title=" 议题甲 ")
    assert topic["topics"]["items"][0] == {"include": False, "title": "议题甲", "span": [60, 63]}
    with pytest.raises(ReviewError):
        review.update_topic(draft_review, 1, include=True, title="x")
    assert review.set_topic_meeting(draft_review, 4)["topics"]["meeting"] == 4
    assert review.set_circle(draft_review, None)["circle"] is None
    assert draft_review["circle"] == 1 and draft_review["topics"]["meeting"] is None


# --------------------------------------------------------------------------- the cast and the documents


@pytest.fixture
def courts(db):
    return Agency.objects.get(name="四川省高级人民法院"), Agency.objects.get(name="重庆市高级人民法院")


@pytest.fixture
def document(owner, chengyu, courts):
    """ARTICLE taken in by 四川高院's liaison for 成渝, with the crafted review."""
    taken = services.take_in_text(
        acting_user=owner, text=ARTICLE, name="执行协作协议", published=datetime.date(2020, 6, 19), circle=chengyu
    )
    return services.save_review(acting_user=owner, document=taken, reviewed=crafted_review(*courts, chengyu.pk))


@pytest.fixture
def batch(owner, chengyu):
    return services.start_batch(
        acting_user=owner,
        name="川渝材料",
        files=[("执行协作.txt", ARTICLE.encode()), ("坏文件.txt", b"\x00\x01\x02\x03" * 50)],
        circle=chengyu,
    )


def _reload(document) -> IntakeDocument:
    return IntakeDocument.objects.get(pk=document.pk)


def _urls(document, batch):
    return {
        "review": ("get", reverse("intake:review", args=[document.pk])),
        "node-forms": ("get", reverse("intake:node-forms", args=[document.pk]) + "?path=0.0"),
        "agencies": ("get", reverse("intake:agency-options", args=[document.pk]) + "?agency=四川"),
        "edit": ("post", reverse("intake:edit", args=[document.pk, "node"])),
        "commit": ("post", reverse("intake:commit", args=[document.pk])),
        "discard": ("post", reverse("intake:discard", args=[document.pk])),
        "result": ("get", reverse("intake:result", args=[document.pk])),
        "batch": ("get", reverse("intake:batch", args=[batch.pk])),
        "progress": ("get", reverse("intake:batch-progress", args=[batch.pk])),
    }


PAGES = ["review", "node-forms", "agencies", "edit", "commit", "discard", "result", "batch", "progress"]


@pytest.mark.parametrize("who", ["partner", "outsider"])
@pytest.mark.parametrize("page", PAGES)
def test_other_agencies_get_404_for_a_document_and_a_batch_they_may_not_see(request, web, document, batch, who, page):
    method, url = _urls(document, batch)[page]
    client = web(request.getfixturevalue(who))
    response = getattr(client, method)(url, {"path": "0.0", "number": "1", "title": "x"} if method == "post" else None)
    assert response.status_code == 404
    assert _reload(document).status == DocumentStatus.ANALYSED and _reload(document).reviewed == document.reviewed


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(web, document, batch, page):
    method, url = _urls(document, batch)[page]
    response = getattr(web(None), method)(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize("name", ["intake:documents", "intake:document-new", "intake:batch-new"])
def test_anonymous_visitors_cannot_open_the_lists_and_forms(web, db, name):
    response = web(None).get(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_list_shows_each_person_what_they_may_see(web, document, owner, outsider, partner, coordinator):
    for user, sees in ((owner, True), (coordinator, True), (partner, False), (outsider, False)):
        response = web(user).get(reverse("intake:documents"))
        assert response.status_code == 200
        row = f'class="intake-row" data-id="{document.pk}" data-status="analysed"'
        assert (row in response.content.decode()) is sees, user.username
    page = web(owner).get(reverse("intake:documents")).content.decode()
    assert 'id="intake-new"' in page and 'id="intake-batch-new"' in page and "执行协作协议" in page


def test_the_list_is_paginated_by_twenty(web, owner, chengyu):
    for number in range(21):
        services.take_in_text(acting_user=owner, text=ARTICLE, name=f"文件{number:02d}")
    first = web(owner).get(reverse("intake:documents")).content.decode()
    assert first.count('class="intake-row"') == 20 and "文件20" in first and "文件00" not in first
    second = web(owner).get(reverse("intake:documents") + "?page=2").content.decode()
    assert second.count('class="intake-row"') == 1 and "文件00" in second


# --------------------------------------------------------------------------- taking one document in


def test_uploading_a_good_text_file_leads_to_its_review(web, owner, chengyu):
    upload = SimpleUploadedFile("协议.txt", ARTICLE.encode("utf-8"), content_type="text/plain")
    response = web(owner).post(
        reverse("intake:document-new"), {"file": upload, "published": "2020-06-19", "circle": chengyu.pk}
    )
    document = IntakeDocument.objects.get(name="协议.txt")
    assert response.status_code == 302 and response["Location"] == reverse("intake:review", args=[document.pk])
    assert document.uploaded_by == owner and document.circle == chengyu
    assert document.published == datetime.date(2020, 6, 19) and document.status == DocumentStatus.ANALYSED
    page = web(owner).get(response["Location"]).content.decode()
    assert '<mark class="yq-hl' in page and 'id="review-commit"' in page


def test_pasting_text_takes_it_in(web, owner):
    response = web(owner).post(reverse("intake:document-new"), {"text": ARTICLE, "name": "粘贴的报道"})
    document = IntakeDocument.objects.get(name="粘贴的报道")
    assert response.status_code == 302 and document.text == ARTICLE


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"file": b""}, "file"),  # empty
        ({"file": b"   \n\n  "}, "file"),  # blank
        ({"file": b"\x00\x01\x02\x03\xff\xfe" * 40}, "file"),  # binary
        ({"file": b"This is an English text without any Chinese in it at all, long enough to be judged. " * 3}, "file"),
        ({}, "__all__"),  # neither a file nor text
    ],
)
def test_a_bad_upload_shows_the_form_with_the_error_and_writes_nothing(web, owner, data, field):
    before = IntakeDocument.objects.count()
    post = {"file": SimpleUploadedFile("坏.txt", data["file"], content_type="text/plain")} if "file" in data else {}
    response = web(owner).post(reverse("intake:document-new"), post)
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors.get(field), form.errors
    message = str(form.errors[field][0])
    assert html.escape(message) in response.content.decode()
    assert IntakeDocument.objects.count() == before


def test_the_upload_offers_only_the_users_circles(web, owner, outsider, chengyu):
    assert chengyu.name in web(owner).get(reverse("intake:document-new")).content.decode()
    response = web(outsider).post(reverse("intake:document-new"), {"text": ARTICLE, "circle": chengyu.pk})
    assert response.status_code == 400 and response.context["form"].errors["circle"]
    assert not IntakeDocument.objects.filter(uploaded_by=outsider).exists()


# --------------------------------------------------------------------------- the review page


def test_the_review_page_highlights_the_text_beside_the_structure(web, owner, document):
    response = web(owner).get(reverse("intake:review", args=[document.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    source = page[page.index('id="source-text"') : page.index("</section>", page.index('id="source-text"'))]
    text = source[source.index(">") + 1 : source.rindex("</div>")]
    parts = pieces(text)
    assert "".join(p["text"] for p in parts) == ARTICLE
    for part in parts:
        if part["tag"]:
            assert part["text"] == ARTICLE[int(part["attrs"]["data-start"]) : int(part["attrs"]["data-end"])]
    assert any("agreement" in p["attrs"].get("data-kinds", "") for p in parts)
    # The structure: the agreement, both signatories matched, the tree, the topic; every span-bearing item locatable.
    assert f"《{AGREEMENT_TITLE}》" in page
    assert page.count("signatory-row") == 2 and page.count('data-resolved="1"') >= 2
    assert page.count('class="list-group-item yq-node') == 5
    start, end = _at(ARTICLE, "1.建立异地财产查控机制。")
    assert f'id="node-0.0" data-path="0.0" data-span="{start} {end}"' in page
    assert 'id="review-unresolved" data-count="0"' in page
    assert 'src="/static/yipanqi/intake.js"' in page


@pytest.mark.parametrize("seed", ["000", "001", "002"])
def test_a_real_report_is_highlighted_exactly(web, coordinator, chengyu, seed):
    """The seeds (real reports): every piece of the highlighted text is where its offsets say, every agreement the
    analysis proposes is highlighted and listed, every item of the tree is shown."""
    text = seed_text(seed)
    document = services.take_in_text(acting_user=coordinator, text=text, circle=chengyu)
    page = web(coordinator).get(reverse("intake:review", args=[document.pk])).content.decode()
    source = page[page.index('id="source-text"') : page.index("</section>", page.index('id="source-text"'))]
    parts = pieces(source[source.index(">") + 1 : source.rindex("</div>")])
    assert "".join(p["text"] for p in parts) == text
    marked = [p for p in parts if p["tag"]]
    assert len(marked) > 20
    for part in marked:
        assert part["text"] == text[int(part["attrs"]["data-start"]) : int(part["attrs"]["data-end"])]
    keys = {key for p in marked for key in p["attrs"].get("data-items", "").split()}
    agreements = document.draft["agreements"]
    assert agreements and {f"agreement-{i}" for i in range(len(agreements))} <= keys
    for agreement in document.reviewed["agreements"]:
        assert html.escape(agreement["title"]) in page
    assert page.count('class="list-group-item yq-node') == sum(1 for _node in review.walk(document.reviewed))


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm: the session, the versions of cached data
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_pages_cost_the_same_queries_however_long_the_document_or_the_list(web, coordinator, chengyu, document):
    client = web(coordinator)
    short = _queries(client, reverse("intake:review", args=[document.pk]))
    long = services.take_in_text(
        acting_user=coordinator, text=seed_text("001"), published=datetime.date(2020, 6, 19), circle=chengyu
    )
    assert _queries(client, reverse("intake:review", args=[long.pk])) == short
    one_page = _queries(client, reverse("intake:documents"))
    for number in range(3):
        services.take_in_text(acting_user=coordinator, text=ARTICLE, name=f"文件{number}", circle=chengyu)
    assert _queries(client, reverse("intake:documents")) == one_page


def test_the_review_page_lists_what_to_fix(web, owner, document, courts):
    reviewed = review.add_signatory(document.reviewed, 0, {"text": "某某协作单位", "agency_id": None})
    services.save_review(acting_user=owner, document=document, reviewed=reviewed)
    page = web(owner).get(reverse("intake:review", args=[document.pk])).content.decode()
    assert 'id="review-unresolved" data-count="1"' in page and "某某协作单位" in page


def test_the_node_editor_comes_with_the_page_when_asked_and_by_itself_under_htmx(web, owner, document):
    page = web(owner).get(reverse("intake:review", args=[document.pk]) + "?open=0.1").content.decode()
    assert 'id="node-title-0.1"' in page and 'id="node-title-0.0"' not in page
    fragment = web(owner).get(reverse("intake:node-forms", args=[document.pk]) + "?path=1.0", **HTMX)
    assert fragment.status_code == 200 and 'id="node-split-1.0"' in fragment.content.decode()
    assert web(owner).get(reverse("intake:node-forms", args=[document.pk]) + "?path=7").status_code == 404


def test_agency_options_search_the_directory_and_the_circle(web, owner, document):
    url = reverse("intake:agency-options", args=[document.pk])
    options = web(owner).get(url, {"agency": "四川省高级"}).content.decode()
    assert '<option value="四川省高级人民法院">' in options
    circle = web(owner).get(url, {"lead": "公安厅", "scope": "circle"}).content.decode()
    assert "四川省公安厅" in circle and "黑龙江省公安厅" not in circle
    assert web(owner).get(url).content == b""


# --------------------------------------------------------------------------- the edits, through the page


def _edit(client, document, op, data, htmx=True):
    return client.post(reverse("intake:edit", args=[document.pk, op]), data, **(HTMX if htmx else {}))


def test_an_htmx_edit_answers_with_the_structure_column(web, owner, document):
    response = _edit(
        web(owner), document, "node", {"path": "0.0", "number": "一、1", "title": "建立异地财产查控协作机制"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="review-structure"') and "<html" not in body
    assert review.node_at(_reload(document).reviewed, "0.0")["title"] == "建立异地财产查控协作机制"


def test_a_plain_edit_redirects_to_the_panel(web, owner, document):
    response = _edit(web(owner), document, "delete", {"path": "1"}, htmx=False)
    assert response.status_code == 302 and response["Location"].endswith("#panel-measures")
    assert [node["number"] for node in review.walk(_reload(document).reviewed)] == ["一", "一、1", "一、2"]


def test_merge_split_ungroup_and_delete_through_the_page(web, owner, document):
    client = web(owner)
    assert _edit(client, document, "merge", {"path": "0.1"}).status_code == 200
    merged = review.node_at(_reload(document).reviewed, "0.0")
    assert merged["title"] == "建立异地财产查控机制。推进委托执行案件移送和信息共享。"
    assert merged["span"] == [_at(ARTICLE, "1.建立")[0], _at(ARTICLE, "2.推进委托执行案件移送和信息共享。")[1]]
    _edit(
        client, document, "split", {"path": "0.0", "marked": "建立异地财产查控机制。|推进委托执行案件移送和信息共享。"}
    )
    reviewed = _reload(document).reviewed
    assert [review.node_at(reviewed, p)["title"] for p in ("0.0", "0.1")] == [
        "建立异地财产查控机制。",
        "推进委托执行案件移送和信息共享。",
    ]
    assert review.node_at(reviewed, "0.1")["span"][0] == ARTICLE.index("推进委托")
    by_position = _edit(client, document, "split", {"path": "1.0", "marked": "建立执行数据共享平台。", "position": "6"})
    assert "edit-error" not in by_position.content.decode()
    reviewed = _reload(document).reviewed
    assert [review.node_at(reviewed, p)["title"] for p in ("1.0", "1.1")] == ["建立执行数据", "共享平台。"]
    _edit(client, document, "merge", {"path": "1.1"})
    _edit(client, document, "ungroup", {"path": "1"})
    assert [n["number"] for n in _reload(document).reviewed["measures"]["nodes"]] == ["一", "二、1"]
    _edit(client, document, "delete", {"path": "1"})
    assert [n["number"] for n in review.walk(_reload(document).reviewed)] == ["一", "一、1", "一、1-2"]


def test_owners_and_deadline_through_the_page(web, owner, document, courts):
    sichuan, chongqing = courts
    response = _edit(
        web(owner),
        document,
        "owners",
        {"path": "0.0", "lead": "四川省高级人民法院", "co_owner": ["重庆市高级人民法院", ""], "due_on": "2020-12-31"},
    )
    assert response.status_code == 200 and "edit-error" not in response.content.decode()
    node = review.node_at(_reload(document).reviewed, "0.0")
    assert node["lead"]["agency_id"] == sichuan.pk and [r["agency_id"] for r in node["co_owners"]] == [chongqing.pk]
    assert node["due_on"] == "2020-12-31"


def test_an_owner_outside_the_circle_is_refused(web, owner, document):
    before = _reload(document).reviewed
    response = _edit(web(owner), document, "owners", {"path": "0.0", "lead": "黑龙江省公安厅"})
    assert response.status_code == 200 and "edit-error" in response.content.decode()
    assert _reload(document).reviewed == before
    plain = _edit(web(owner), document, "owners", {"path": "0.0", "lead": "黑龙江省公安厅"}, htmx=False)
    assert plain.status_code == 400 and "黑龙江省公安厅" in plain.content.decode()


def test_a_refused_edit_changes_nothing(web, owner, document):
    before = _reload(document).reviewed
    response = _edit(web(owner), document, "merge", {"path": "0.0"})
    assert response.status_code == 200 and 'class="alert alert-danger edit-error' in response.content.decode()
    assert _reload(document).reviewed == before
    assert _edit(web(owner), document, "merge", {"path": "0.0"}, htmx=False).status_code == 400
    assert _edit(web(owner), document, "split", {"path": "9.9", "marked": "a|b"}, htmx=False).status_code == 400
    assert _edit(web(owner), document, "no-such-edit", {}).status_code == 404
    assert _reload(document).reviewed == before


def test_agency_and_agreement_edits_through_the_page(web, owner, document, courts):
    sichuan, chongqing = courts
    client = web(owner)
    _edit(client, document, "signatory-add", {"index": "0", "agency": "四川省人民检察院"})
    signatories = _reload(document).reviewed["agreements"][0]["signatories"]
    assert signatories[-1] == {"text": "四川省人民检察院", "agency_id": Agency.objects.get(name="四川省人民检察院").pk}
    _edit(client, document, "signatory-remove", {"index": "0", "position": "2"})
    _edit(client, document, "signatory", {"index": "0", "position": "1", "agency": "四川省高级人民法院"})
    assert [r["agency_id"] for r in _reload(document).reviewed["agreements"][0]["signatories"]] == [sichuan.pk] * 2
    _edit(client, document, "mention", {"text": "重庆市高级人民法院", "agency": "重庆市高级人民法院"})
    assert [r["agency_id"] for r in _reload(document).reviewed["agreements"][0]["signatories"]] == [
        sichuan.pk,
        chongqing.pk,
    ]
    _edit(
        client,
        document,
        "agreement",
        {
            "index": "0",
            "title": "川渝执行协作协议",
            "kind": "cooperation",
            "status": "draft",
            "signed_on": "2020-06-17",
            "signed_place": "成都",
        },
    )
    agreement = _reload(document).reviewed["agreements"][0]
    assert (agreement["include"], agreement["title"], agreement["kind"], agreement["status"]) == (
        False,
        "川渝执行协作协议",
        "cooperation",
        "draft",
    )
    assert (agreement["signed_on"], agreement["signed_place"]) == ("2020-06-17", "成都")


def test_measures_target_topic_meeting_and_circle_edits(web, owner, coordinator, document, chengyu, courts):
    from yipanqi.ledger import services as ledger

    existing = ledger.create_agreement(
        acting_user=coordinator,
        title="川渝法院执行协作备忘录",
        circle=chengyu,
        signatories=list(courts),
        kind="memorandum",
    )
    client = web(coordinator)
    page = client.get(reverse("intake:review", args=[document.pk])).content.decode()
    assert f'value="existing:{existing.pk}"' in page
    _edit(client, document, "measures-target", {"target": f"existing:{existing.pk}"})
    assert _reload(document).reviewed["measures"]["agreement"] == {"existing": existing.pk}
    _edit(client, document, "topic", {"index": "0", "include": "on", "title": "执行协作机制"})
    assert _reload(document).reviewed["topics"]["items"][0]["title"] == "执行协作机制"
    _edit(client, document, "topic", {"index": "0", "title": "执行协作机制"})
    assert _reload(document).reviewed["topics"]["items"][0]["include"] is False
    _edit(client, document, "circle", {"circle": ""})
    assert _reload(document).reviewed["circle"] is None
    refused = _edit(client, document, "measures-target", {"target": "existing:999999"})
    assert "edit-error" in refused.content.decode()


def test_the_topics_go_to_a_meeting_of_the_circle(web, coordinator, document, chengyu, courts):
    from django.utils import timezone

    from yipanqi.meetings import services as meetings

    series = meetings.create_series(
        acting_user=coordinator, title="川渝高院执行协作联席会议", kind="joint", circle=chengyu, members=list(courts)
    )
    meeting = meetings.schedule_meeting(
        acting_user=coordinator, series=series, starts_at=timezone.now() + datetime.timedelta(days=20), place="成都"
    )
    page = web(coordinator).get(reverse("intake:review", args=[document.pk])).content.decode()
    assert f'<option value="{meeting.pk}"' in page
    _edit(web(coordinator), document, "topic-meeting", {"meeting": str(meeting.pk)})
    assert _reload(document).reviewed["topics"]["meeting"] == meeting.pk


# --------------------------------------------------------------------------- commit and discard


def test_a_refused_commit_lists_what_to_fix_and_changes_nothing(web, coordinator, document):
    reviewed = review.add_signatory(document.reviewed, 0, {"text": "某某协作单位", "agency_id": None})
    services.save_review(acting_user=coordinator, document=document, reviewed=reviewed)
    agreements, measures = Agreement.objects.count(), Measure.objects.count()
    response = web(coordinator).post(reverse("intake:commit", args=[document.pk]))
    assert response.status_code == 400
    page = response.content.decode()
    errors = re.findall(r'<li class="commit-error">(.*?)</li>', page)
    assert errors and any("某某协作单位" in html.unescape(error) for error in errors)
    assert (Agreement.objects.count(), Measure.objects.count()) == (agreements, measures)
    assert _reload(document).status == DocumentStatus.ANALYSED


def test_a_commit_creates_the_agreement_and_its_measures_and_lists_them(web, coordinator, document, courts):
    client = web(coordinator)
    services.save_review(
        acting_user=coordinator,
        document=document,
        reviewed=review.update_topic(document.reviewed, 0, include=False, title="执行协作"),
    )
    response = client.post(reverse("intake:commit", args=[document.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("intake:result", args=[document.pk])
    agreement = Agreement.objects.get(title=AGREEMENT_TITLE)
    assert set(agreement.signatories.all()) == set(courts)
    assert sorted(Measure.objects.filter(agreement=agreement).values_list("number", flat=True)) == [
        "一",
        "一、1",
        "一、2",
        "二",
        "二、1",
    ]
    page = client.get(response["Location"]).content.decode()
    assert f'href="{reverse("ledger:agreement", args=[agreement.pk])}"' in page
    assert page.count('data-model="ledger.measure"') == 5
    # Committed: the review is read-only, a new edit or commit is a conflict.
    review_page = client.get(reverse("intake:review", args=[document.pk])).content.decode()
    assert 'id="review-committed"' in review_page and 'id="review-commit"' not in review_page
    assert client.post(reverse("intake:commit", args=[document.pk])).status_code == 409
    conflict = _edit(client, document, "delete", {"path": "0"})
    assert conflict.status_code == 409 and 'id="conflict-message"' in conflict.content.decode()


def test_only_a_coordinator_of_the_circle_may_commit(web, owner, document):
    reviewed = review.update_topic(document.reviewed, 0, include=False, title="执行协作")
    services.save_review(acting_user=owner, document=document, reviewed=reviewed)
    agreements = Agreement.objects.count()
    response = web(owner).post(reverse("intake:commit", args=[document.pk]))
    assert response.status_code == 403
    assert Agreement.objects.count() == agreements and _reload(document).status == DocumentStatus.ANALYSED


def test_the_result_page_of_an_uncommitted_document_leads_back_to_its_review(web, owner, document):
    response = web(owner).get(reverse("intake:result", args=[document.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("intake:review", args=[document.pk])


def test_discarding_a_document(web, owner, document):
    response = web(owner).post(reverse("intake:discard", args=[document.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("intake:documents")
    assert _reload(document).status == DocumentStatus.DISCARDED
    assert web(owner).post(reverse("intake:discard", args=[document.pk])).status_code == 409


# --------------------------------------------------------------------------- batches


def test_importing_files_starts_a_batch_whose_page_polls_until_done(web, owner, chengyu):
    client = web(owner)
    files = [
        SimpleUploadedFile("执行协作.txt", ARTICLE.encode("utf-8")),
        SimpleUploadedFile("坏文件.txt", b"\x00\x01\x02\x03" * 50),
        SimpleUploadedFile(".DS_Store", b"\x00\x00"),
    ]
    response = client.post(reverse("intake:batch-new"), {"files": files, "name": "川渝材料", "circle": chengyu.pk})
    batch = IntakeBatch.objects.get(name="川渝材料")
    assert response.status_code == 302 and response["Location"] == reverse("intake:batch", args=[batch.pk])
    assert batch.total == 2 and batch.status == BatchStatus.QUEUED
    page = client.get(response["Location"]).content.decode()
    assert 'hx-trigger="every 2s"' in page and 'id="batch-bar"' in page and 'value="0"' in page

    services.run_batch(batch.pk)
    fragment = client.get(reverse("intake:batch-progress", args=[batch.pk]), **HTMX)
    body = fragment.content.decode()
    assert fragment.status_code == 200 and body.lstrip().startswith('<div id="batch-progress"')
    assert "hx-trigger" not in body and 'data-status="done"' in body and 'value="100"' in body
    good = IntakeDocument.objects.get(batch=batch, name="执行协作.txt")
    bad = IntakeDocument.objects.get(batch=batch, name="坏文件.txt")
    assert good.status == DocumentStatus.ANALYSED and bad.status == DocumentStatus.FAILED
    assert f'href="{reverse("intake:review", args=[good.pk])}"' in body
    assert html.escape(bad.error) in body and 'id="batch-failed-count"' in body
    failed = client.get(reverse("intake:review", args=[bad.pk])).content.decode()
    assert 'id="review-failed"' in failed and 'id="review-commit"' not in failed


def test_an_import_without_files_is_refused(web, owner):
    response = web(owner).post(reverse("intake:batch-new"), {"name": "空"})
    assert response.status_code == 400 and response.context["form"].non_field_errors()
    assert not IntakeBatch.objects.exists()


def test_the_batch_form_offers_a_folder_input(web, owner):
    page = web(owner).get(reverse("intake:batch-new")).content.decode()
    assert re.search(r'<input type="file" name="folder"[^>]*webkitdirectory', page)
    assert re.search(r'<input type="file" name="files"[^>]*multiple', page)
