"""The measure tree and the agenda topics: every numbering style, nesting, lists inside a paragraph, areas written as
a paragraph's lead sentence, what must not become a measure, traditional input, and the seeds."""

from __future__ import annotations

import datetime

import opencc
import pytest
from django.utils import translation

from yipanqi.intake.pipeline import analyse
from yipanqi.intake.tests.conftest import PUBLISHED, seed_text

pytestmark = pytest.mark.django_db


def _draft(text: str, prefix: str | None = None):
    published = datetime.date.fromisoformat(PUBLISHED[prefix]) if prefix else None
    with translation.override("en"):
        return text, analyse(text, published=published)


def _area(measures, text):
    found = [node for node in measures if node.text == text]
    assert len(found) == 1, [node.text for node in measures]
    return found[0]


def _written(original: str, node) -> str:
    return original[node.span[0] : node.span[1]]


# -- numbering styles ------------------------------------------------------------------------------------------

STYLES = [
    ("1.", ["1.", "2.", "3."], ["1", "2", "3"]),
    ("1、", ["1、", "2、", "3、"], ["1", "2", "3"]),
    ("(1)", ["(1)", "(2)", "(3)"], ["(1)", "(2)", "(3)"]),
    ("（1）", ["（1）", "（2）", "（3）"], ["(1)", "(2)", "(3)"]),
    ("①", ["①", "②", "③"], ["①", "②", "③"]),
    ("一、", ["一、", "二、", "三、"], ["一", "二", "三"]),
    ("(一)", ["(一)", "(二)", "(三)"], ["(一)", "(二)", "(三)"]),
    ("（一）", ["（一）", "（二）", "（三）"], ["(一)", "(二)", "(三)"]),
    ("一是", ["一是", "二是", "三是"], ["一是", "二是", "三是"]),
    ("第一,", ["第一，", "第二，", "第三，"], ["第一", "第二", "第三"]),
    ("首先", ["首先，", "其次，", "最后，"], ["首先", "其次", "最后"]),
    ("•", ["• ", "• ", "• "], ["", "", ""]),
    ("➤", ["➤", "➤", "➤"], ["", "", ""]),
]
ITEMS = ["建立案件协查联动机制。", "推进执法信息互联共享。", "开展干部交流挂职锻炼。"]


@pytest.mark.parametrize(("style", "markers", "numbers"), STYLES, ids=[style for style, _m, _n in STYLES])
def test_every_numbering_style_makes_a_list_under_its_heading(style, markers, numbers):
    lines = [f"{marker}{item}" for marker, item in zip(markers, ITEMS, strict=True)]
    original, draft = _draft("两地合作取得新进展。\n\n协查工作方面\n\n" + "\n\n".join(lines) + "\n")
    assert len(draft.measures) == 1
    area = draft.measures[0]
    assert area.area and area.text == "协查工作" and area.number == ""
    assert _written(original, area) == "协查工作方面"
    assert [child.number for child in area.children] == numbers
    assert [child.text for child in area.children] == [item.rstrip("。") for item in ITEMS]
    for child, line in zip(area.children, lines, strict=True):
        assert _written(original, child) == line.rstrip("。").strip()  # number and text, in the original
        assert not child.warnings and child.confidence >= 0.8


def test_chinese_groups_contain_numbered_items_numbered_on_across_groups():
    _original, draft = _draft(
        "执法工作方面\n"
        "(一)加强执法管理合作，实现协同高效\n1.建立安全管理一体化机制。\n2.畅通执法信息交流渠道。\n"
        "(二)加强教育矫治合作，实现优势互补\n3.建立教育矫治工作交流机制。\n4.建立医疗工作交流机制。\n5.共建研究基地。\n"
    )
    area = _area(draft.measures, "执法工作")
    assert [group.number for group in area.children] == ["(一)", "(二)"]
    assert all(group.area for group in area.children)
    assert area.children[0].text == "加强执法管理合作,实现协同高效"  # NFKC: the comma as in text.simple
    assert [[item.number for item in group.children] for group in area.children] == [["1", "2"], ["3", "4", "5"]]
    assert not any(item.warnings for group in area.children for item in group.children)


def test_three_levels_nest_by_the_conventional_order():
    _original, draft = _draft(
        "一、总体合作\n(一)加强执法协作\n1.建立联席会议制度。\n2.建立信息通报制度。\n(二)加强司法协作\n1.统一裁判尺度。\n"
        "二、保障措施\n(一)加强组织领导\n1.成立协调小组。\n"
    )
    assert [(node.number, node.text, node.area) for node in draft.measures] == [
        ("一", "总体合作", True),
        ("二", "保障措施", True),
    ]
    first, second = draft.measures
    assert [group.number for group in first.children] == ["(一)", "(二)"]
    assert [len(group.children) for group in first.children] == [2, 1]
    assert second.children[0].children[0].text == "成立协调小组"
    assert not any(item.warnings for group in first.children for item in group.children)


def test_a_gap_in_the_numbering_is_a_warning_on_the_item_after_it():
    _original, draft = _draft("1.建立联席会议制度。\n2.建立信息通报制度。\n4.建立干部交流制度。\n7.建立督办制度。\n")
    items = draft.measures
    assert [item.number for item in items] == ["1", "2", "4", "7"]
    assert items[2].warnings == ["Item 3 is missing."]
    assert items[3].warnings == ["Items 5 to 6 are missing."]
    assert items[2].confidence < items[1].confidence


def test_an_item_with_a_second_paragraph_keeps_its_list_going():
    _original, draft = _draft(
        "合作事项如下:\n1.建立联席会议制度。\n联席会议每年召开一次，由双方轮流承办。\n2.建立信息通报制度。\n"
    )
    area = draft.measures[0]
    assert area.text == "合作事项如下" and [item.number for item in area.children] == ["1", "2"]


# -- lists inside a paragraph ----------------------------------------------------------------------------------


def test_inline_list_in_an_ordinary_paragraph_is_an_area_led_by_its_lead_in():
    original, draft = _draft(
        "双方商定，一是建立联席会议制度；二是互派干部挂职锻炼；三是共享执法办案信息。会议还通报了有关情况。\n"
    )
    assert len(draft.measures) == 1
    area = draft.measures[0]
    assert area.area and area.text == "双方商定" and area.confidence <= 0.5
    assert area.warnings == ["A list found inside a paragraph: check whether these are measures."]
    assert [(item.number, item.text) for item in area.children] == [
        ("一是", "建立联席会议制度"),
        ("二是", "互派干部挂职锻炼"),
        ("三是", "共享执法办案信息"),
    ]
    assert _written(original, area.children[2]) == "三是共享执法办案信息"  # the list ends with its sentence


def test_inline_sequence_words_and_numbers_inside_an_item_are_its_children():
    _original, draft = _draft(
        "1.加强信息共享。首先，建立数据标准；其次，搭建共享平台；最后，定期通报共享情况。\n"
        "2.加强人员交流。(1)互派干部挂职；(2)联合开展培训。\n"
    )
    first, second = draft.measures
    assert first.text.startswith("加强信息共享") and not first.area
    assert [(child.number, child.text) for child in first.children] == [
        ("首先", "建立数据标准"),
        ("其次", "搭建共享平台"),
        ("最后", "定期通报共享情况"),
    ]
    assert [(child.number, child.text) for child in second.children] == [
        ("(1)", "互派干部挂职"),
        ("(2)", "联合开展培训"),
    ]


def test_a_list_inside_quoted_speech_is_left_alone():
    _original, draft = _draft(
        "“中心主要提供三类服务，一是法律事务服务，二是专项事务推荐，三是政策咨询。”工作人员回答。\n"
    )
    assert draft.measures == []


def test_统一是_is_no_list_marker():
    _original, draft = _draft("标准统一是关键，二是也不行。各方认为执法尺度统一是目标。\n")
    assert draft.measures == []


# -- areas as a paragraph's lead sentence ---------------------------------------------------------------------


def test_lead_sentence_paragraphs_under_a_heading_and_an_announcement():
    original, draft = _draft(
        "加强法治领域合作  打造更高水平法治高地\n"
        "四地将进一步加强法治领域合作。突出体现在三个方面——\n"
        "加强区域立法协同。探索构建同步调研、同步起草的立法工作模式。\n"
        "加强区域执法司法协作。推动建立跨区域诉讼协作机制，一是推进诉讼平台对接；二是实现司法数据互通。\n"
        "加强区域法律服务合作。探索建立律师异地阅卷协作机制。\n"
        "会议商定，明年座谈会在江苏召开。\n"
    )
    assert len(draft.measures) == 1
    heading = draft.measures[0]
    assert heading.area and heading.text == "加强法治领域合作 打造更高水平法治高地"
    assert [(area.number, area.text, area.area) for area in heading.children] == [
        ("", "加强区域立法协同", True),
        ("", "加强区域执法司法协作", True),
        ("", "加强区域法律服务合作", True),
    ]
    assert _written(original, heading.children[0]) == "加强区域立法协同"
    assert [child.number for child in heading.children[1].children] == ["一是", "二是"]


def test_lead_sentences_not_announced_need_a_cooperation_verb():
    _original, draft = _draft(
        "加强行政立法协同。建立立法项目协商机制。\n深化执法司法协作。推动执法标准统一。\n"
        "放管服改革走深走实。推进一网通办。\n社会治理试点互学互鉴。鼓励建立交流机制。\n"
    )
    assert [node.text for node in draft.measures] == ["加强行政立法协同", "深化执法司法协作"]


def test_lead_sentences_announced_by_the_line_above_need_no_verb():
    _original, draft = _draft(
        "提出在两个方面加以推进——\n放管服改革走深走实。推进一网通办。\n社会治理试点互学互鉴。鼓励建立交流机制。\n"
    )
    area = draft.measures[0]
    assert area.text == "提出在两个方面加以推进"
    assert [child.text for child in area.children] == ["放管服改革走深走实", "社会治理试点互学互鉴"]


def test_narrative_paragraphs_are_not_measures():
    _original, draft = _draft(
        "会议由张德宽主持。与会人员听取了情况汇报。\n"
        "与会人员参观了展览。随后召开座谈会。\n"
        "立足司法协作，主动对接法治建设。突出跨域协作总抓手，夯实协作机制基础。\n"
        "深化一体化协作，提升检察服务保障能级。推进区域检察协作平台机制系统集成。\n"
        "深化反恐怖合作。完善区域协作平台实战功能。\n"
        "此外，会议还审议通过了两个方案。\n"
    )
    assert draft.measures == []


def test_signing_statements_in_bullets_are_not_measures():
    _original, draft = _draft(
        "签约仪式现场——\n"
        "• 重庆市监狱管理局与四川省监狱管理局签订了《关于推进监狱工作协同发展合作协议》\n"
        "• 重庆市律师协会与四川省律师协会签订了《关于服务双城经济圈建设合作协议》\n"
    )
    assert draft.measures == []


def test_a_list_introduced_as_speech_is_kept_apart_with_a_warning():
    _original, draft = _draft(
        "张德宽表示——\n➤首先，希望双方着重项目推进，共同把工作落实落细。\n➤其次，希望双方着眼重大战略，合力推动产业发展。\n"
    )
    area = draft.measures[0]
    assert area.text == "张德宽表示" and area.confidence < 0.5
    assert area.warnings == ["Introduced as what someone said: check whether these are measures of an agreement."]
    assert [child.number for child in area.children] == ["首先", "其次"]


# -- traditional input -----------------------------------------------------------------------------------------


def test_traditional_input_gives_the_same_tree_with_spans_in_the_original():
    simplified = (
        "律师工作方面\n1.健全完善律师协会交流协作机制。\n2.联合组建律师专家服务团。\n"
        "调解工作方面\n①加强行业性专业性调解组织建设。\n②探索行政调解一体化运行模式。\n"
    )
    traditional = opencc.OpenCC("s2t").convert(simplified)
    assert traditional != simplified
    original, draft = _draft(traditional)
    _s, expected = _draft(simplified)
    shape = [(area.text, [(item.number, item.text) for item in area.children]) for area in draft.measures]
    assert shape == [(area.text, [(item.number, item.text) for item in area.children]) for area in expected.measures]
    assert [area.text for area in draft.measures] == ["律师工作", "调解工作"]
    second = draft.measures[1].children[1]
    assert _written(original, second) == "②探索行政調解一體化運行模式"


# -- the seeds -------------------------------------------------------------------------------------------------

SEED_001_AREAS = {
    "监狱工作": 9,
    "戒毒工作": 4,
    "律师工作": 8,
    "公证工作": 8,
    "司法鉴定工作": 7,
    "普法依法治理工作": 3,
    "调解工作": 3,
}


def test_seed_001_areas_and_their_lists():
    original, draft = _draft(seed_text("001"), "001")
    for text, count in SEED_001_AREAS.items():
        area = _area(draft.measures, text)
        assert area.area and len(area.children) == count, text
        assert _written(original, area) == text + "方面"
        if text != "戒毒工作":
            assert [item.number for item in area.children] == [str(n) for n in range(1, count + 1)]
        assert all(not item.warnings and item.confidence >= 0.8 for item in area.children)
    prison = _area(draft.measures, "监狱工作")
    assert prison.children[0].text == "开展两地监狱狱情分享交流合作"
    assert _written(original, prison.children[0]) == "1.开展两地监狱狱情分享交流合作"
    assert prison.children[4].text == "开展两地监狱远程视频会见合作"  # the item without a final 。


def test_seed_001_drug_rehabilitation_has_four_groups_numbered_on():
    original, draft = _draft(seed_text("001"), "001")
    rehab = _area(draft.measures, "戒毒工作")
    assert [group.number for group in rehab.children] == ["(一)", "(二)", "(三)", "(四)"]
    assert [len(group.children) for group in rehab.children] == [4, 4, 3, 3]
    numbers = [item.number for group in rehab.children for item in group.children]
    assert numbers == [str(n) for n in range(1, 15)]
    assert all(group.area for group in rehab.children)
    assert rehab.children[0].text.startswith("加强执法管理合作")
    assert _written(original, rehab.children[3].children[-1]).startswith("14.搭建")


def test_seed_001_expectations_are_a_sequence_in_an_area_of_their_own():
    _original, draft = _draft(seed_text("001"), "001")
    sequences = [node for node in draft.measures if [c.number for c in node.children] == ["首先", "其次", "此外"]]
    assert len(sequences) == 1
    expectations = sequences[0]
    assert expectations.area and expectations.confidence < 0.5 and expectations.warnings
    assert expectations.text.endswith("表示")
    assert expectations.children[0].text.startswith("希望双方着重项目推进")
    # the agreements' areas are the others, at full confidence
    assert {node.text for node in draft.measures if node.confidence >= 0.9} == set(SEED_001_AREAS)


def test_seed_001_quoted_answer_is_no_list():
    _original, draft = _draft(seed_text("001"), "001")
    texts = [child.text for node in draft.measures for child in node.children]
    assert not any("法律事务服务" in text for text in texts)


SEED_002_AREAS = [
    ("加强平安建设合作", ["深化维稳安保合作", "深化反恐怖合作", "深化打击犯罪合作", "深化“平安边界”合作"]),
    ("加强社会治理合作", 3),
    ("加强法治领域合作", 3),
    ("加强政法队伍建设合作", 3),
]


def test_seed_002_areas_under_its_four_headings():
    original, draft = _draft(seed_text("002"), "002")
    headings = [node for node in draft.measures if node.children and node.children[0].number == ""]
    headings = [node for node in headings if node.confidence >= 0.9]
    assert len(headings) == 4
    for heading, (start, expected) in zip(headings, SEED_002_AREAS, strict=True):
        assert heading.text.startswith(start) and heading.area
        assert all(area.area and area.number == "" for area in heading.children)
        if isinstance(expected, list):
            assert [area.text for area in heading.children] == expected
        else:
            assert len(heading.children) == expected
    assert _written(original, headings[0].children[0]) == "深化维稳安保合作"
    assert headings[2].children[0].text == "加强区域立法协同和促进适法标准统一"


def test_seed_002_reports_are_not_areas_but_its_inline_list_is_found():
    _original, draft = _draft(seed_text("002"), "002")
    texts = [node.text for node in draft.measures] + [c.text for node in draft.measures for c in node.children]
    assert not any(text.startswith(("立足", "擦亮", "筑牢", "强化“共同体”", "以全方位")) for text in texts)
    inline = [node for node in draft.measures if [c.number for c in node.children] == ["一是", "二是", "三是"]]
    assert len(inline) == 1
    assert inline[0].confidence <= 0.5 and inline[0].children[0].text.startswith("强化使命担当")


def test_seed_000_has_no_measure_list():
    _original, draft = _draft(seed_text("000"), "000")
    assert draft.measures == []


# -- topics ----------------------------------------------------------------------------------------------------


def test_topics_after_围绕_等问题():
    original, draft = _draft("双方围绕案件协查、信息共享、人员交流等问题进行了深入交流。\n")
    assert [topic.text for topic in draft.topics] == ["案件协查", "信息共享", "人员交流"]
    assert [original[t.span[0] : t.span[1]] for t in draft.topics] == ["案件协查", "信息共享", "人员交流"]


def test_topics_the_meeting_studied_and_reviewed():
    _original, draft = _draft("会议研究了联席会议制度、年度工作要点；审议了督办办法。\n")
    assert [topic.text for topic in draft.topics] == ["联席会议制度", "年度工作要点", "督办办法"]


def test_topics_listed_as_agenda():
    _original, draft = _draft("本次会议议题包括：协作机制建设、典型案例发布。\n")
    assert [topic.text for topic in draft.topics] == ["协作机制建设", "典型案例发布"]


def test_no_topics_in_ordinary_text_or_approved_schemes():
    _original, draft = _draft(
        "围绕全面落实法治建设规划，推动建立健全区域统筹、协作、交流机制。\n会议还审议通过了《合作方案》。\n"
    )
    assert draft.topics == []


def test_articles_of_an_agreement_under_its_chapters():
    _original, draft = _draft(
        "第一章 总则\n第一条 为加强两地执法司法协作，制定本协议。\n第二条 双方建立联席会议制度。\n"
        "第二章 协作事项\n第三条 双方开展以下协作：\n(一)案件协查；\n(二)信息共享。\n第五条 本协议自签署之日起生效。\n"
    )
    assert [(node.number, node.text, node.area) for node in draft.measures] == [
        ("第一章", "总则", True),
        ("第二章", "协作事项", True),
    ]
    first, second = draft.measures
    assert [article.number for article in first.children] == ["第一条", "第二条"]
    assert [article.number for article in second.children] == ["第三条", "第五条"]
    assert [item.text for item in second.children[0].children] == ["案件协查", "信息共享"]
    assert second.children[1].warnings == ["Item 第四条 is missing."]


def test_numbering_on_across_unnumbered_headings_is_no_gap():
    _original, draft = _draft(
        "执法管理合作\n1.建立安全管理一体化机制。\n2.畅通执法信息交流渠道。\n"
        "教育戒治合作\n3.建立教育矫治工作交流机制。\n4.建立戒毒医疗工作交流机制。\n"
    )
    assert [(area.text, [item.number for item in area.children]) for area in draft.measures] == [
        ("执法管理合作", ["1", "2"]),
        ("教育戒治合作", ["3", "4"]),
    ]
    assert not any(item.warnings for area in draft.measures for item in area.children)


def test_a_bulleted_item_spans_its_marker_not_its_bullet():
    original, draft = _draft("张德宽表示——\n➤首先，希望双方着重项目推进。\n➤其次，希望双方着眼重大战略。\n")
    first = draft.measures[0].children[0]
    assert original[first.span[0] : first.span[1]] == "首先，希望双方着重项目推进"


# -- generalised on other documents (tests/genres) ------------------------------------------------------------------


def test_the_sections_of_minutes_are_no_measures():
    _original, draft = _draft(
        "一、会议听取了两院关于法检协作工作情况的通报\n会议认为，协作成效明显。\n"
        "二、会议研究了量刑建议采纳等问题\n会议认为，仍存在标准不一的问题，一是幅度把握不统一，二是沟通不及时。\n"
        "三、会议议定事项\n会议要求，两院要加强工作衔接，一是建立信息共享机制，二是定期开展类案研讨。\n"
    )
    (required,) = draft.measures  # the problems found are no measures either
    assert required.text == "会议要求,两院要加强工作衔接"
    assert [(node.number, node.text) for node in required.children] == [
        ("一是", "建立信息共享机制"),
        ("二是", "定期开展类案研讨"),
    ]
    assert [topic.text for topic in draft.topics] == ["两院关于法检协作工作情况的通报", "量刑建议采纳"]


def test_an_agreements_articles_under_the_parties_it_defines():
    original, draft = _draft(
        "某某检察协作协议\n甲方：湖北省宜昌市人民检察院\n乙方：湖南省岳阳市人民检察院\n"
        "为加强协作，经协商一致，达成如下协议：\n"
        "第一条  双方建立协作机制。\n第二条  双方在以下领域开展联合办案：\n（一）非法捕捞案件；\n（二）非法采砂案件。\n"
        "第三条  本协议自签订之日起生效。\n甲方（盖章）：湖北省宜昌市人民检察院\n签订日期：2023年5月12日\n"
    )
    (articles,) = draft.measures
    assert articles.text == "为加强协作,经协商一致,达成如下协议"  # no "甲方:…" line labels the list
    shape = [(node.number, len(node.children)) for node in articles.children]
    assert shape == [("第一条", 0), ("第二条", 2), ("第三条", 0)]
    assert _written(original, articles.children[1].children[0]) == "（一）非法捕捞案件"


def test_an_item_listing_its_own_measures_is_an_area_named_by_its_lead_in():
    original, draft = _draft(
        "各方将重点推进以下工作：\n首先，在治安防控方面：一是共建联勤机制；二是共享卡口数据。\n"
        "其次，在交通管理方面：一是推行异地处理；二是统一处理规范。\n"
    )
    (announced,) = draft.measures
    assert [(node.number, node.text, node.area, len(node.children)) for node in announced.children] == [
        ("首先", "治安防控", True, 2),
        ("其次", "交通管理", True, 2),
    ]
    assert _written(original, announced.children[0]) == "首先，在治安防控方面：一是共建联勤机制；二是共享卡口数据"


def test_the_headline_above_its_byline_labels_no_list():
    _original, draft = _draft(
        "两省检察机关建立协作机制\n发布时间：2023-07-20  来源：某某报\n"
        "为推进区域协调发展，两省检察院会签协作意见。意见全文如下：\n一、建立办案协作机制\n二、强化保障措施\n"
    )
    (announced,) = draft.measures
    assert announced.text == "意见全文如下"
    assert [node.text for node in announced.children] == ["建立办案协作机制", "强化保障措施"]


def test_topics_lose_their_closing_noun():
    _original, draft = _draft("会议研究了涉企案件羁押必要性审查、虚假诉讼协同治理等问题。\n")
    assert [topic.text for topic in draft.topics] == ["涉企案件羁押必要性审查", "虚假诉讼协同治理"]
