"""Figures and declared counts (extract/figures.py)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import translation

from yipanqi.intake import furniture
from yipanqi.intake.draft import Measure
from yipanqi.intake.extract import figures
from yipanqi.intake.pipeline import Context
from yipanqi.intake.tests.conftest import PUBLISHED, seed_text
from yipanqi.intake.text import prepare


def context_of(original: str, published: datetime.date | None = None) -> Context:
    text = prepare(original)
    furniture.mark(text)
    return Context(text=text, published=published)


def only(original: str):
    found = figures.find(context_of(original))
    assert len(found) == 1, found
    return found[0]


# -- figures ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "written", "value", "unit", "counts"),
    [
        ("川渝警方互相推送各类数据6.8亿条，合力防控。", "6.8亿条", 680_000_000, "条", "数据"),
        ("疫情期间，协破案件143件，成效明显。", "143件", 143, "件", "协破案件"),
        ("两地警方共协破143件案件。", "143件", 143, "件", "案件"),
        ("审结民商事案件34590件。", "34590件", 34590, "件", "民商事案件"),
        ("受理委托执行案件18184件。", "18184件", 18184, "件", "委托执行案件"),
        ("2020年联合发布首批长三角法院典型案例24个，统一法律适用。", "24个", 24, "个", "长三角法院典型案例"),
        ("联合发布24个典型案例。", "24个", 24, "个", "典型案例"),
        ("共建司法链，电子存证47.3亿条。", "47.3亿条", 4_730_000_000, "条", "电子存证"),
        ("全省7家地市法院与沪苏浙法院签订协议。", "7家", 7, "家", "地市法院"),
        ("中心主要提供三类服务，一是法律事务服务。", "三类", 3, "类", "服务"),
        ("收案数同比增长30%。", "30%", 30, "%", "增长"),
        ("累计处置资金1,200万元。", "1,200万元", 12_000_000, "元", "处置资金"),
    ],
)
def test_figures(sentence, written, value, unit, counts):
    figure = only(sentence)
    assert (figure.text, figure.value, figure.unit, figure.counts) == (written, value, unit, counts)
    assert figure.confidence >= 0.6
    assert figure.warnings == []


def test_a_figure_at_the_start_of_a_line():
    figure = only("143件案件已全部办结。")
    assert (figure.value, figure.counts) == (143, "案件")


def test_figure_span_points_into_the_original():
    original = "協破案件１４３件，成效明顯。"
    figure = only(original)
    assert (figure.value, figure.unit, figure.counts) == (143, "件", "协破案件")
    assert original[slice(*figure.span)] == "１４３件"


@pytest.mark.parametrize(
    ("sentence", "value", "unit", "word"),
    [
        ("累计受理案件5万余件，运行良好。", 50_000, "件", "余"),
        ("受理案件争议标的额近1000亿元。", 100_000_000_000, "元", "近"),
        ("电子存证超47.3亿条。", 4_730_000_000, "条", "超"),
        ("建立省级交流平台10余个。", 10, "个", "余"),
    ],
)
def test_approximate_figures_warn_and_lose_confidence(sentence, value, unit, word):
    with translation.override("en"):
        figure = only(sentence)
    assert (figure.value, figure.unit) == (value, unit)
    assert figure.confidence < 0.8
    assert word in figure.warnings[0]


def test_percent_in_words():
    figure = only("结案率提高百分之三十。")
    assert (figure.value, figure.unit) == (30, "%")


@pytest.mark.parametrize(
    "sentence",
    [
        "2020年9月23日，座谈会召开。",  # a date
        "召开第一次会议，落实第22条规定。",  # ordinals and article numbers
        "对照《2018年—2020年第一个三年行动计划》推进。",  # inside a title
        "联系电话：028-12345678，手机13812345678。",  # phone numbers
        "2020年05月14日 07时57分，创建时间：09:05",  # times
        "1.开展两地监狱狱情分享交流合作。",  # a list number
        "迄今已经历13年，做好建党100周年安保，用时6个月。",  # durations and anniversaries
        "推动“12309”检察服务平台互联互通，建成“3中心+10仲裁院”体系。",  # numbers in names
        "广安、广元、南充、遂宁、资阳五市检察院紧扣两个关键。",  # Chinese numerals that count no domain noun
        "这是中西部地区唯一一家国家级机构，千年巴蜀同根同源。",
        "推进5G建设和COVID-19防控。",  # identifiers
    ],
)
def test_no_figures(sentence):
    assert figures.find(context_of(sentence)) == []


def test_speech_in_quotation_marks_keeps_its_figures():
    found = figures.find(context_of("他说：“我们今年共办理跨域立案994件，效果很好，还要继续努力。”"))
    assert [(f.value, f.unit) for f in found] == [(994, "件")]
    assert found[0].counts.endswith("跨域立案")


# -- declared counts --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("深化落实22条服务保障经济圈建设的具体举措。", [(22, "条", "举措")]),
        ("出台20条举措。", [(20, "条", "举措")]),
        ("从6个方面提出意见。", [(6, "个", "方面")]),
        ("确定12个大项100个小项重点任务。", [(12, "个", "大项"), (100, "个", "小项")]),
        (
            "突出五个协作重点、建立六项协作机制、搭建三类协作平台。",
            [(5, "个", "协作重点"), (6, "项", "协作机制"), (3, "类", "协作平台")],
        ),
        ("提出16条司法服务保障举措。", [(16, "条", "举措")]),
    ],
)
def test_declared_counts(sentence, expected):
    context = context_of(sentence)
    declared = figures.declared_counts(context, [])
    assert [(d.count, d.unit, d.of) for d in declared] == expected
    for item in declared:
        assert item.found is None and item.warnings == []
        assert context.text.simple[slice(*item.span)] == item.text
    # declared counts are not figures as well
    assert figures.find(context) == []


@pytest.mark.parametrize(
    "sentence", ["建立20余项协作机制。", "第22条举措", "每年确定一个监督专题。", "《关于20条措施的通知》"]
)
def test_not_declared_counts(sentence):
    assert figures.declared_counts(context_of(sentence), []) == []


def _at(context: Context, snippet: str) -> list[int]:
    start = context.text.simple.index(snippet)
    return context.text.span(start, start + len(snippet))


def leaf(context: Context, number: str, snippet: str) -> Measure:
    return Measure(number=number, text=snippet, span=_at(context, snippet))


def area(context: Context, snippet: str, children: list[Measure]) -> Measure:
    return Measure(number="", text=snippet, span=_at(context, snippet), children=children, area=True)


LIST_TEXT = "为此提出以下3条举措：\n1.共建平台。\n2.共享数据。\n3.联合培训。"


def test_declared_count_equal_to_the_list_has_no_warning():
    context = context_of(LIST_TEXT)
    tree = [leaf(context, str(n), text) for n, text in ((1, "共建平台。"), (2, "共享数据。"), (3, "联合培训。"))]
    (item,) = figures.declared_counts(context, tree)
    assert (item.count, item.found) == (3, 3)
    assert item.warnings == [] and context.warnings == []
    assert item.confidence >= 0.9


def test_declared_count_different_from_the_list_warns_on_item_and_draft():
    context = context_of(LIST_TEXT)
    tree = [leaf(context, "1", "共建平台。"), leaf(context, "2", "共享数据。")]
    with translation.override("en"):
        (item,) = figures.declared_counts(context, tree)
    assert (item.count, item.found) == (3, 2)
    assert item.warnings == ["Declared 3 条 举措, found 2."]
    assert [warning.message for warning in context.warnings] == ["Declared 3 条 举措, found 2."]
    assert context.warnings[0].span == item.span
    assert item.confidence < 0.9


def test_declared_count_without_a_list_is_kept_with_low_confidence():
    context = context_of("深化落实22条具体举措。\n其他内容。")
    (item,) = figures.declared_counts(context, [])
    assert item.found is None and item.warnings == [] and context.warnings == []
    assert item.confidence < 0.6


AREAS_TEXT = (
    "从2个方面提出5项措施：\n"
    "监狱工作方面\n1.狱情分享。\n2.远程会见。\n"
    "戒毒工作方面\n1.衔接帮扶。\n2.教育矫治。\n3.康复训练。\n"
    "其中戒毒工作共4项措施。"
)


def _areas_tree(context: Context) -> list[Measure]:
    prison = area(context, "监狱工作方面", [leaf(context, "1", "狱情分享。"), leaf(context, "2", "远程会见。")])
    detox = area(
        context,
        "戒毒工作方面",
        [leaf(context, "1", "衔接帮扶。"), leaf(context, "2", "教育矫治。"), leaf(context, "3", "康复训练。")],
    )
    return [prison, detox]


def test_areas_and_measures_across_areas_and_an_area_named_in_the_sentence():
    context = context_of(AREAS_TEXT)
    with translation.override("en"):
        aspects, measures, detox = figures.declared_counts(context, _areas_tree(context))
    assert (aspects.of, aspects.count, aspects.found, aspects.warnings) == ("方面", 2, 2, [])
    assert (measures.of, measures.count, measures.found, measures.warnings) == ("措施", 5, 5, [])
    # "戒毒工作…4项措施" speaks of the 戒毒 area: 3 found
    assert (detox.count, detox.found) == (4, 3)
    assert detox.warnings == ["Declared 4 项 措施, found 3."]
    assert len(context.warnings) == 1


def test_a_sentence_naming_several_areas_speaks_of_them_all():
    context = context_of(AREAS_TEXT.replace("从2个方面提出5项措施", "围绕监狱、戒毒工作提出5项措施"))
    declared = figures.declared_counts(context, _areas_tree(context))
    assert [(d.count, d.found) for d in declared] == [(5, 5), (4, 3)]


def test_nested_groups_count_their_numbered_leaves():
    context = context_of(
        "共提出7条举措：\n(一)执法合作\n1.甲。\n2.乙。\n(二)教育合作\n3.丙。\n4.丁。\n5.戊。\n说明：另有两项。"
    )
    first = area(context, "执法合作", [leaf(context, "1", "甲。"), leaf(context, "2", "乙。")])
    second = area(
        context, "教育合作", [leaf(context, "3", "丙。"), leaf(context, "4", "丁。"), leaf(context, "5", "戊。")]
    )
    (item,) = figures.declared_counts(context, [first, second])
    assert (item.count, item.found) == (7, 5)
    assert item.warnings and context.warnings


def test_a_list_far_before_the_declaration_is_not_compared():
    context = context_of("1.共建平台。\n2.共享数据。\n第二段。\n第三段。\n第四段。\n第五段。\n今后还将落实22条举措。")
    tree = [leaf(context, "1", "共建平台。"), leaf(context, "2", "共享数据。")]
    (item,) = figures.declared_counts(context, tree)
    assert item.found is None and context.warnings == []


def test_lists_further_down_are_not_what_a_declaration_announces():
    context = context_of(
        "确定12个大项100个小项重点任务。\n第二段。\n第三段。\n监狱工作方面\n1.狱情分享。\n戒毒工作方面\n1.衔接帮扶。"
    )
    tree = [
        area(context, "监狱工作方面", [leaf(context, "1", "狱情分享。")]),
        area(context, "戒毒工作方面", [leaf(context, "1", "衔接帮扶。")]),
    ]
    declared = figures.declared_counts(context, tree)
    assert [(d.of, d.found) for d in declared] == [("大项", None), ("小项", None)]
    assert context.warnings == []


def test_one_list_later_in_the_text_is_compared():
    context = context_of(
        "协议共有3条举措。\n第二段。\n第三段。\n第四段。\n第五段。\n1.共建平台。\n2.共享数据。\n3.联合培训。"
    )
    tree = [leaf(context, str(n), text) for n, text in ((1, "共建平台。"), (2, "共享数据。"), (3, "联合培训。"))]
    (item,) = figures.declared_counts(context, tree)
    assert (item.count, item.found, item.warnings) == (3, 3, [])


def test_counts_of_other_things_are_not_compared():
    context = context_of(LIST_TEXT.replace("3条举措", "五个协作重点"))
    tree = [leaf(context, "1", "共建平台。")]
    (item,) = figures.declared_counts(context, tree)
    assert item.of == "协作重点" and item.found is None and item.warnings == []


# -- the seeds --------------------------------------------------------------------------------------------------


def seed_context(prefix: str) -> Context:
    return context_of(seed_text(prefix), datetime.date.fromisoformat(PUBLISHED[prefix]))


def test_seed_000_figures_and_the_22_measures():
    context = seed_context("000")
    found = {(f.value, f.unit, f.counts) for f in figures.find(context)}
    assert (680_000_000, "条", "数据") in found
    assert (143, "件", "协破案件") in found
    declared = figures.declared_counts(context, [])
    measures = [d for d in declared if d.count == 22]
    assert measures and measures[0].unit == "条" and measures[0].of == "举措"
    assert measures[0].found is None and measures[0].warnings == []
    assert {(d.count, d.of) for d in declared} >= {(5, "协作重点"), (6, "协作机制"), (3, "协作平台")}


def test_seed_002_figures_with_what_they_count():
    found = figures.find(seed_context("002"))
    by_value = {f.value: f for f in found}
    for value, unit, counts in [
        (24, "个", "典型案例"),
        (34590, "件", "民商事案件"),
        (18184, "件", "委托执行案件"),
        (50575, "件", "受托执行案件"),
        (994, "件", "跨域立案"),
        (4_730_000_000, "条", "电子存证"),
    ]:
        figure = by_value[value]
        assert figure.unit == unit and figure.counts.endswith(counts), figure
    assert by_value[4_730_000_000].warnings  # "超47.3亿条": approximate
    assert not any(f.value in (2018, 2020, 2021, 2022) for f in found)


def test_seed_002_declared_counts():
    declared = figures.declared_counts(seed_context("002"), [])
    assert {(d.count, d.of) for d in declared} >= {(12, "大项"), (100, "小项"), (16, "举措"), (3, "方面")}


def test_performance_on_a_long_article():
    import time

    context = context_of(seed_text("002") * 1)
    figures.find(context)  # warm-up: jieba's dictionary
    started = time.perf_counter()
    figures.find(context)
    figures.declared_counts(context, [])
    assert time.perf_counter() - started < 0.15


# -- generalised on other documents (tests/genres) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "written", "value", "unit", "counts"),
    [
        ("全年判赔金额共计5.6亿元。", "5.6亿元", 560_000_000, "元", "判赔金额"),
        ("一审服判息诉率达92.4%。", "92.4%", 92.4, "%", "一审服判息诉率"),
        ("联合审理的海事纠纷案件已有37件。", "37件", 37, "件", "海事纠纷案件"),
        ("全省已建成“枫桥式公安派出所”218个。", "218个", 218, "个", "枫桥式公安派出所"),
        ("已先后组织4批次考察组赴外省学习。", "4批次", 4, "批次", "考察组"),
        ("适用率83.3%，同比提高5.1个百分点。", "5.1个百分点", 5.1, "个百分点", "提高"),
        ("目前已有21个中级人民法院接入平台。", "21个", 21, "个", "中级人民法院"),
        ("同比下降了3.2%。", "3.2%", 3.2, "%", "下降"),
    ],
)
def test_figures_read_past_linking_words_and_names(sentence, written, value, unit, counts):
    figure = [found for found in figures.find(context_of(sentence)) if found.text == written]
    assert [(f.text, f.value, f.unit, f.counts) for f in figure] == [(written, value, unit, counts)]


def test_a_figure_right_after_another_counts_nothing_of_its_own():
    found = figures.find(context_of("共起诉非法捕捞犯罪案件156件312人。"))
    assert [(figure.text, figure.counts) for figure in found] == [("156件", "非法捕捞犯罪案件"), ("312人", "")]


def test_traditional_figures_span_the_original():
    original = "去年，兩地法院共辦理跨域立案1.6萬件，協助執行到位金額3.2億元。"
    found = figures.find(context_of(original))
    assert [original[f.span[0] : f.span[1]] for f in found] == ["1.6萬件", "3.2億元"]
    assert [(f.value, f.counts) for f in found] == [(16_000, "办理跨域立案"), (320_000_000, "协助执行到位金额")]


def test_counted_agencies_are_no_declared_count():
    assert figures.declared_counts(context_of("两省已有21个中级人民法院接入跨域立案服务平台。"), []) == []


def test_a_declaration_compares_with_the_list_inside_an_announcing_area():
    context = context_of(
        "协议从2个方面提出5条措施。\n各方将重点推进以下工作：\n首先，在治安方面：一是联勤；二是巡防；三是安保。\n"
        "其次，在交通方面：一是互认；二是通办。\n"
    )
    first = Measure(
        number="首先",
        text="治安",
        span=_at(context, "首先"),
        area=True,
        children=[leaf(context, "一是", "联勤"), leaf(context, "二是", "巡防"), leaf(context, "三是", "安保")],
    )
    second = Measure(
        number="其次",
        text="交通",
        span=_at(context, "其次"),
        area=True,
        children=[leaf(context, "一是", "互认"), leaf(context, "二是", "通办")],
    )
    announced = area(context, "各方将重点推进以下工作", [first, second])
    aspects, measures = figures.declared_counts(context, [announced])
    assert (aspects.count, aspects.found) == (2, 2)
    assert (measures.count, measures.found) == (5, 5)
    assert context.warnings == []
