"""Decisions of a meeting: "会议商定/议定/决定/同意/明确…" sentences, the lists they announce, "议定事项" sections and
inline "一是…二是…" lists; their lead agency, helpers and deadline. Opinions and exhortations are no decisions."""

from __future__ import annotations

import datetime

import pytest

from yipanqi.intake.pipeline import analyse
from yipanqi.intake.tests.conftest import PUBLISHED, seed_text

pytestmark = pytest.mark.django_db

MINUTES = (
    "川渝高级人民法院执行工作联席会议纪要\n"
    "2021年9月16日，川渝高级人民法院执行工作第二次联席会议在重庆召开。四川省高级人民法院、重庆市高级人民法院分管领导参加会议。\n"
    "会议听取了两地法院执行协作工作情况的汇报，研究了跨域执行财产查控、执行案件委托等问题。\n"
    "经认真研究，会议议定如下：\n"
    "一、建立川渝执行线索移送机制，由四川省高级人民法院牵头，重庆市高级人民法院配合，2021年12月底前出台具体办法。\n"
    "二、两地法院互相开放执行指挥中心查询端口。\n"
    "（一）先行在成都、重庆主城开展试点；\n"
    "（二）试点经验于2022年6月前总结推广。\n"
    "三、下一次联席会议于2022年在四川省召开，由四川省高级人民法院承办。\n"
    "会议认为，川渝执行协作成效明显。会议要求，两地法院要进一步加强沟通协调。会议强调，要狠抓落实。\n"
    "与会各方一致同意，将执行协作纳入年度考核。经会商，双方同意建立常态化联络员制度，年底前确定联络员名单。\n"
)


def _decisions(text: str, published=None) -> list[dict]:
    return analyse(text, published=published).as_json()["decisions"]


def _at(text: str, decision: dict) -> str:
    start, end = decision["span"]
    return text[start:end]


def test_a_list_announced_by_the_meeting_gives_one_decision_per_item_with_owners_and_deadline():
    found = _decisions(MINUTES)
    first, second, third = found[:3]
    assert first["text"].startswith("建立川渝执行线索移送机制")
    assert first["lead"]["name"] == "四川省高级人民法院"
    assert [ref["name"] for ref in first["co_owners"]] == ["重庆市高级人民法院"]
    assert first["due_date"] == "2021-12-31"
    assert first["confidence"] >= 0.75
    # The (一)(二) items below item 二 belong to it; its deadline is the one they give.
    assert second["text"].startswith("两地法院互相开放执行指挥中心查询端口")
    assert "试点经验" in second["text"]
    assert second["due_date"] == "2022-06-30"
    assert third["lead"]["name"] == "四川省高级人民法院"
    assert third["due_date"] == ""


def test_sentences_of_the_members_deciding_are_decisions_and_opinions_are_not():
    texts = [decision["text"] for decision in _decisions(MINUTES)]
    assert "将执行协作纳入年度考核" in texts
    assert "建立常态化联络员制度,年底前确定联络员名单" in texts
    assert len(texts) == 5
    assert not any("成效明显" in text or "沟通协调" in text or "狠抓落实" in text for text in texts)


def test_year_end_deadlines_take_the_year_of_the_meeting():
    liaison = next(d for d in _decisions(MINUTES) if d["text"].startswith("建立常态化联络员制度"))
    assert liaison["due_date"] == "2021-12-31"


def test_every_decision_span_points_at_its_text_in_the_original():
    for decision in _decisions(MINUTES):
        original = _at(MINUTES, decision)
        assert original.replace("，", ",").replace("；", ";").replace("（", "(").replace("）", ")") == decision["text"]


def test_a_decisions_heading_announces_the_items_below_it():
    text = (
        "长三角检察机关公益诉讼协作会商纪要\n"
        "一、会商情况\n"
        "2022年3月8日，沪苏浙皖检察机关在杭州会商跨区域公益诉讼协作工作。\n"
        "二、议定事项\n"
        "（一）建立跨省流域公益诉讼线索双向移送机制。\n"
        "（二）联合开展长江禁捕专项监督，由浙江省人民检察院牵头，2022年9月底前完成。\n"
        "（三）每年轮流召开一次会商会议。\n"
        "三、其他事项\n"
        "各地检察院按照本纪要抓好落实。\n"
    )
    found = _decisions(text)
    assert [d["text"] for d in found] == [
        "建立跨省流域公益诉讼线索双向移送机制",
        "联合开展长江禁捕专项监督,由浙江省人民检察院牵头,2022年9月底前完成",
        "每年轮流召开一次会商会议",
    ]
    assert found[1]["lead"]["name"] == "浙江省人民检察院"
    assert found[1]["due_date"] == "2022-09-30"


def test_an_inline_list_after_the_verb_gives_one_decision_per_item():
    text = (
        "2023年5月10日，川渝两地司法行政机关召开联席会议。"
        "会议议定：一是共建法律援助协作平台；二是互认律师执业培训学时；三是联合开展普法宣传。\n"
    )
    assert [d["text"] for d in _decisions(text)] == [
        "共建法律援助协作平台",
        "互认律师执业培训学时",
        "联合开展普法宣传",
    ]


def test_traditional_chinese_decisions_keep_their_original_spans():
    text = (
        "2021年11月3日，粵閩兩省高級人民法院召開聯席會議。"
        "會議商定，由廣東省高級人民法院牽頭建立跨域立案協作機制，2022年6月底前試運行。\n"
    )
    (decision,) = _decisions(text)
    assert decision["lead"]["name"] == "广东省高级人民法院"
    assert decision["due_date"] == "2022-06-30"
    assert _at(text, decision) == "由廣東省高級人民法院牽頭建立跨域立案協作機制，2022年6月底前試運行"


def test_seed_002_decides_the_next_host():
    text = seed_text("002")
    found = _decisions(text, datetime.date.fromisoformat(PUBLISHED["002"]))
    assert len(found) == 1
    assert found[0]["text"].startswith("2022年长三角地区党委政法委书记座谈会在江苏省召开")
    assert found[0]["lead"]["name"] == "中共江苏省委政法委员会"
    assert "会议商定" in text[found[0]["span"][0] - 10 : found[0]["span"][0]]


@pytest.mark.parametrize("seed", ["000", "001"])
def test_signing_reports_have_no_decisions(seed):
    assert _decisions(seed_text(seed), datetime.date.fromisoformat(PUBLISHED[seed])) == []


def test_a_bare_verb_without_the_meeting_as_subject_is_no_decision():
    text = "2021年5月6日，两地法院举行座谈。同意的意见较多。明确责任是关键。确定了座谈主题。\n"
    assert _decisions(text, datetime.date(2021, 5, 7)) == []


def test_a_decisions_section_written_as_prose_counts_what_the_meeting_requires():
    """The joint meeting of a court and a procuratorate (tests/genres): "三、会议议定事项" followed by sentences, not a
    numbered list; there "会议要求，…一是…" lists decisions too, while outside such a section it would not."""
    from pathlib import Path

    text = (Path(__file__).parent / "genres" / "nanchang_court_procuratorate_joint_meeting_minutes.txt").read_text()
    found = _decisions(text)
    texts = [d["text"] for d in found]
    assert texts[0].startswith("两院要建立量刑建议沟通机制")
    assert "建立常态化信息共享机制" in texts and "联合开展同堂培训" in texts
    assert found[1]["lead"]["name"] == "南昌市人民检察院"
    assert texts[-1].startswith("下一次法检联席会议于2024年3月召开")
    assert len(found) == 6


def test_what_the_meeting_requires_outside_a_decisions_section_is_no_decision():
    assert _decisions("2021年5月6日，两地法院召开联席会议。会议要求，一是加强沟通；二是狠抓落实。\n") == []
