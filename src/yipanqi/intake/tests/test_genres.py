"""The extractors on documents of the seeds' genres that they were not written against: a 繁體 signing report and a
繁體 announcement with a numbered list (as Hong Kong and Macao outlets print them), court–procuratorate minutes, an
agreement's own text (甲方 / 乙方, 第一条 …), a study visit, a press conference, a police cooperation report with
首先 / 其次 and declared counts, and a procuratorate agreement with short names and regions from the context.

The documents in genres/ are our own compositions (no real article is copied); each test states what a careful
reader extracts from one of them.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.utils import translation

from yipanqi.intake.pipeline import analyse

pytestmark = pytest.mark.django_db

GENRES = Path(__file__).parent / "genres"


def _analyse(name: str, published: str | None):
    original = (GENRES / f"{name}.txt").read_text(encoding="utf-8")
    with translation.override("en"):
        draft = analyse(original, published=datetime.date.fromisoformat(published) if published else None)
    return original, draft


def _written(original: str, item) -> str:
    return original[item.span[0] : item.span[1]]


def _names(refs) -> list[str]:
    return [ref.name for ref in refs]


def _figures(draft) -> list[tuple[str, float, str, str]]:
    return [(figure.text, figure.value, figure.unit, figure.counts) for figure in draft.figures]


def _shape(nodes) -> list[tuple[str, str, int]]:
    return [(node.number, node.text, len(node.children)) for node in nodes]


@pytest.mark.parametrize("path", sorted(GENRES.glob("*.txt")), ids=lambda path: path.stem)
def test_the_corpus_documents_are_of_article_length(path):
    text = path.read_text(encoding="utf-8")
    assert 600 <= len(text) <= 3000


@pytest.mark.parametrize("path", sorted(GENRES.glob("*.txt")), ids=lambda path: path.stem)
def test_every_span_lies_in_the_original(path):
    original = path.read_text(encoding="utf-8")
    with translation.override("en"):
        draft = analyse(original, published=datetime.date(2024, 5, 1))
    items = [
        *draft.agencies,
        *draft.agreements,
        *(party for agreement in draft.agreements for party in agreement.parties),
        *draft.topics,
        *draft.figures,
        *draft.declared_counts,
    ]
    stack = list(draft.measures)
    while stack:
        node = stack.pop()
        items.append(node)
        stack.extend(node.children)
    assert items
    for item in items:
        start, end = item.span
        assert 0 <= start < end <= len(original)
        assert original[start:end].strip() == original[start:end]


# -- 1. a 繁體 report of a signing between two provinces' high courts --------------------------------------------


def test_traditional_signing_report():
    original, draft = _analyse("hk_yue_min_courts_signing", "2023-11-04")
    assert draft.source["traditional"]
    event = draft.event
    assert (event.kind, event.date, event.date_text, event.place) == ("签约", "2023-11-03", "11月3日", "广州")
    assert _written(original, event).startswith("【大公報訊】記者李思遠廣州報道：11月3日，廣東省高級人民法院")

    framework, memorandum = draft.agreements  # the headline's "跨域司法协作框架协议" is the framework agreement
    assert (framework.title, framework.kind, framework.action, framework.date) == (
        "粤闽两省法院跨域诉讼服务协作框架协议",
        "framework",
        "签署",
        "2023-11-03",
    )
    assert _written(original, framework) == "《粵閩兩省法院跨域訴訟服務協作框架協議》"
    assert _names(framework.parties) == ["广东省高级人民法院", "福建省高级人民法院"]  # "双方": the ceremony's hosts
    assert (memorandum.title, memorandum.kind, memorandum.date) == (
        "深厦两地法院涉外商事审判合作备忘录",
        "memorandum",
        "2023-11-03",
    )
    assert _names(memorandum.parties) == ["深圳市中级人民法院", "厦门市中级人民法院"]
    assert [_written(original, party) for party in memorandum.parties] == ["深圳市中級人民法院", "廈門市中級人民法院"]

    assert set(_names(draft.agencies)) == {
        "广东省高级人民法院",
        "福建省高级人民法院",
        "深圳市中级人民法院",
        "厦门市中级人民法院",
    }
    assert _figures(draft) == [
        ("1.6万件", 16000, "件", "办理跨域立案"),
        ("12.3%", 12.3, "%", "上升"),
        ("4,218件", 4218, "件", "委托送达法律文书"),
        ("3.2亿元", 320_000_000, "元", "协助执行到位金额"),
        ("37件", 37, "件", "海事纠纷案件"),
        ("42名", 42, "名", "入库专家"),
        ("10件", 10, "件", "跨域诉讼服务典型案例"),
        ("21个", 21, "个", "中级人民法院"),
    ]
    assert [_written(original, figure) for figure in draft.figures[:4]] == ["1.6萬件", "12.3%", "4,218件", "3.2億元"]
    assert draft.declared_counts == []  # "21個中級人民法院接入…平台" counts courts, declares nothing


# -- 2. a 繁體 announcement with a numbered measure list --------------------------------------------------------


def test_traditional_announcement_with_a_numbered_list():
    original, draft = _analyse("macau_yue_xiang_procuratorates_opinion", "2023-07-20")
    assert draft.source["traditional"]
    event = draft.event
    assert (event.kind, event.date, event.place) == ("签约", "2023-07-18", "长沙")  # 會簽

    (opinion,) = draft.agreements
    assert (opinion.title, opinion.kind, opinion.action, opinion.date) == (
        "关于建立粤湘检察机关跨区域协作机制的意见",
        "other",
        "签署",
        "2023-07-18",
    )
    assert _names(opinion.parties) == ["广东省人民检察院", "湖南省人民检察院"]
    assert [_written(original, party) for party in opinion.parties] == ["廣東省人民檢察院", "湖南省人民檢察院"]

    (announced,) = draft.measures  # the headline above the byline labels nothing
    assert announced.text == "意见全文如下" and announced.area
    areas = announced.children
    assert _shape(areas) == [("一", "建立办案协作机制", 3), ("二", "加强公益诉讼协作", 2), ("三", "强化保障措施", 3)]
    assert all(area.area for area in areas)
    assert [item.number for item in areas[0].children] == ["(一)", "(二)", "(三)"]
    assert areas[0].children[0].text.startswith("建立异地协助调查机制。")
    assert _written(original, areas[0]) == "一、建立辦案協作機制"
    assert _written(original, areas[0].children[0]).startswith("（一）建立異地協助調查機制。對需要在對方轄區")
    basin = areas[1].children[0]
    assert [(item.number, item.text) for item in basin.children] == [
        ("1", "建立流域检察官联络员制度"),
        ("2", "每年至少开展一次联合巡查"),
        ("3", "共享流域生态环境监测数据"),
    ]
    assert _written(original, basin.children[2]) == "3.共享流域生態環境監測數據"
    assert not any(node.warnings for area in areas for node in area.children)

    (aspects,) = draft.declared_counts
    assert (aspects.count, aspects.unit, aspects.of, aspects.found) == (3, "个", "方面", 3)
    assert _written(original, aspects) == "三個方面" and not aspects.warnings
    assert draft.figures == []  # "十五日內", "每年" are no figures


# -- 3. court–procuratorate joint meeting minutes ----------------------------------------------------------------


def test_court_procuratorate_joint_meeting_minutes():
    original, draft = _analyse("nanchang_court_procuratorate_joint_meeting_minutes", "2023-09-28")
    event = draft.event
    assert (event.kind, event.date, event.title) == ("会议", "2023-09-26", "2023年第二次法检联席会议纪要")
    assert _names(draft.agencies) == ["南昌市中级人民法院", "南昌市人民检察院"]  # 市中院, 市检察院 included

    minutes, referred, drafted = draft.agreements
    assert (minutes.title, minutes.kind, minutes.date) == ("2023年第二次法检联席会议纪要", "minutes", "2023-09-26")
    assert _names(minutes.parties) == ["南昌市中级人民法院", "南昌市人民检察院"]  # the issuing header
    assert _written(original, minutes) == "2023年第二次法检联席会议纪要"
    assert referred.title == "关于加强法检协作配合的若干意见" and not referred.action and not referred.parties
    assert (drafted.title, drafted.action, drafted.date) == ("虚假诉讼案件线索移送和协同处置办法", "制定", "2023-09-26")
    assert _names(drafted.parties) == ["南昌市中级人民法院", "南昌市人民检察院"]

    assert [topic.text for topic in draft.topics] == [
        "两院关于今年以来法检协作工作情况的通报",
        "认罪认罚案件量刑建议采纳",
        "涉企案件羁押必要性审查",
        "虚假诉讼协同治理",
        "量刑建议精准化",
        "涉案企业合规改革",
        "民事虚假诉讼线索移送",
    ]
    assert _written(original, draft.topics[3]) == "虚假诉讼协同治理"

    # The minutes' sections (会议听取了 / 研究了 / 议定事项) and the problems found are no measures.
    (required,) = draft.measures
    assert required.text == "会议要求,两院要加强工作衔接"
    assert [(item.number, item.text) for item in required.children] == [
        ("一是", "建立常态化信息共享机制"),
        ("二是", "定期开展类案研讨"),
        ("三是", "联合开展同堂培训"),
    ]

    assert _figures(draft) == [
        ("3,126件", 3126, "件", "法院审结刑事案件"),
        ("2,604件", 2604, "件", "适用认罪认罚从宽制度审结"),
        ("83.3%", 83.3, "%", "适用率"),
        ("5.1个百分点", 5.1, "个百分点", "提高"),
        ("46件", 46, "件", "民事执行活动提出检察建议"),
        ("44件", 44, "件", "法院采纳"),
    ]
    upcoming = event.next_meeting
    assert upcoming is not None and upcoming.year == 2024
    assert upcoming.host is not None and upcoming.host.name == "南昌市人民检察院"
    assert _written(original, upcoming.host) == "市检察院"


# -- 4. an agreement's own text ----------------------------------------------------------------------------------


def test_an_agreements_own_text():
    original, draft = _analyse("yichang_yueyang_procuratorates_agreement_text", None)
    event = draft.event
    assert (event.kind, event.date) == ("签约", "2023-05-12")

    (agreement,) = draft.agreements
    assert (agreement.title, agreement.kind, agreement.action, agreement.date) == (
        "长江中游生态环境保护检察协作协议",
        "cooperation",
        "签署",
        "2023-05-12",
    )
    assert _names(agreement.parties) == ["宜昌市人民检察院", "岳阳市人民检察院"]  # 甲方, 乙方
    assert [_written(original, party) for party in agreement.parties] == [
        "湖北省宜昌市人民检察院",
        "湖南省岳阳市人民检察院",
    ]
    assert agreement.confidence >= 0.9 and not agreement.warnings

    (articles,) = draft.measures  # "…达成如下协议:" announces the articles; 甲方 / 乙方 lines label nothing
    assert articles.text == "达成如下协议"
    assert [node.number for node in articles.children] == [f"第{n}条" for n in "一二三四五六七八九"]
    joint = articles.children[2]
    assert joint.text == "双方在以下领域开展联合办案:" and joint.area
    assert [node.number for node in joint.children] == ["(一)", "(二)", "(三)"]
    assert _written(original, articles.children[0]).startswith("第一条  甲乙双方建立长江中游")
    assert not any(node.warnings for node in articles.children)
    assert draft.figures == [] and draft.declared_counts == []


# -- 5. a study visit --------------------------------------------------------------------------------------------


def test_a_study_visit():
    original, draft = _analyse("jiangxi_police_study_visit_zhejiang", "2023-09-15")
    event = draft.event
    assert (event.kind, event.date, event.end_date, event.date_text) == (
        "考察",
        "2023-09-12",
        "2023-09-13",
        "9月12日至13日",
    )
    assert event.place == "浙江省杭州市、绍兴市"

    assert set(_names(draft.agencies)) == {
        "江西省公安厅",
        "浙江省公安厅",
        "杭州市公安局",
        "绍兴市公安局",
        "诸暨市公安局",
        "福建省公安厅",  # "与浙江、福建、广东等省公安厅": each province's department
        "广东省公安厅",
    }
    assert draft.agreements == []
    assert [topic.text for topic in draft.topics] == [
        "基层派出所建设",
        "矛盾纠纷源头化解",
        "数据警务赋能实战",
        "跨省警务协作",
    ]
    (plans,) = draft.measures
    assert [(item.number, item.text) for item in plans.children] == [
        ("一是", "推进派出所主防工作"),
        ("二是", "建设全省统一的警务数据平台"),
        ("三是", "深化与浙江在打击电信网络诈骗等方面的协作"),
    ]
    assert _figures(draft) == [
        ("218个", 218, "个", "枫桥式公安派出所"),
        ("12.6万起", 126_000, "起", "通过警务平台化解矛盾纠纷"),
        ("98.6%", 98.6, "%", "群众满意率"),
        ("4批次", 4, "批次", "考察组"),
    ]
    assert _written(original, draft.figures[0]) == "218个"


# -- 6. a press conference ---------------------------------------------------------------------------------------


def test_a_press_conference_releasing_typical_cases():
    original, draft = _analyse("guangzhou_court_ip_press_conference", "2024-04-26")
    event = draft.event
    assert (event.kind, event.date) == ("发布", "2024-04-25")
    assert draft.agreements == []  # a white paper is no agreement
    assert _names(draft.agencies) == [
        "广州市中级人民法院",
        "广东省高级人民法院",
        "广州知识产权法院",
        "广州市公安局",
        "广州市人民检察院",
    ]  # "“广州微法院”小程序" is no agency
    assert _figures(draft) == [
        ("3.8万件", 38_000, "件", "知识产权案件"),
        ("1.2万件", 12_000, "件", "审结"),
        ("12.3%", 12.3, "%", "上升"),
        ("412件", 412, "件", "港澳台知识产权案件"),
        ("8.7%", 8.7, "%", "增长"),
        ("5.6亿元", 560_000_000, "元", "判赔金额"),
        ("3.2%", 3.2, "%", "下降"),
        ("26件", 26, "件", "案件"),
        ("92.4%", 92.4, "%", "一审服判息诉率"),
        ("61.5%", 61.5, "%", "著作权案件占比"),
        ("24.8%", 24.8, "%", "商标权案件占比"),
        ("9.1%", 9.1, "%", "专利权案件占比"),
        ("135件", 135, "件", "受理涉数据权益纠纷案件"),
        ("47.3%", 47.3, "%", "上升"),
        ("3,000万元", 30_000_000, "元", "合理开支"),
    ]
    assert all(_written(original, figure) == figure.text for figure in draft.figures)


# -- 7. police cooperation: 首先 / 其次 areas and declared counts ---------------------------------------------------


def test_police_cooperation_with_sequence_words_and_declared_counts():
    original, draft = _analyse("yangtze_delta_police_cooperation", "2023-06-09")
    event = draft.event
    assert (event.kind, event.date, event.place) == ("会议", "2023-06-08", "安徽省合肥市")
    police = ["上海市公安局", "江苏省公安厅", "浙江省公安厅", "安徽省公安厅"]
    assert _names(draft.agencies) == police  # "长三角三省一市公安机关": the four departments of the circle

    (agreement,) = draft.agreements  # the headline's "区域警务一体化合作协议" is the one signed
    assert (agreement.title, agreement.kind, agreement.action, agreement.date) == (
        "长三角区域警务一体化发展合作协议",
        "cooperation",
        "签署",
        "2023-06-08",
    )
    assert _names(agreement.parties) == police and not agreement.warnings

    (announced,) = draft.measures
    assert _shape(announced.children) == [
        ("首先", "治安防控", 4),
        ("其次", "打击犯罪", 4),
        ("再次", "交通管理", 3),
        ("此外", "政务服务", 4),
        ("最后", "队伍建设", 3),
    ]
    assert all(area.area for area in announced.children)
    assert _written(original, announced.children[0]).startswith("首先，在治安防控方面：一是")
    assert [item.number for item in announced.children[0].children] == ["一是", "二是", "三是", "四是"]
    assert announced.children[1].children[0].text == "建立跨区域案件协查“绿色通道”"

    aspects, measures = draft.declared_counts
    assert (aspects.count, aspects.of, aspects.found) == (5, "方面", 5)
    assert (measures.count, measures.unit, measures.of, measures.found) == (18, "条", "具体措施", 18)
    assert not aspects.warnings and not measures.warnings
    assert not [warning for warning in draft.warnings if "Declared" in warning.message]

    assert _figures(draft) == [
        ("1,236名", 1236, "名", "逃犯"),
        ("2,418起", 2418, "起", "跨省电信网络诈骗案件"),
        ("4.7亿元", 470_000_000, "元", "追缴赃款"),
    ]
    assert event.next_meeting is not None and event.next_meeting.host.name == "浙江省公安厅"


# -- 8. procuratorates by short names, regions from the context --------------------------------------------------


def test_procuratorates_named_by_short_names():
    original, draft = _analyse("yu_e_xiang_procuratorates_river_agreement", "2023-03-24")
    event = draft.event
    assert (event.kind, event.date, event.end_date, event.place) == ("会议", "2023-03-22", "2023-03-23", "湖北省宜昌市")

    (agreement,) = draft.agreements
    assert (agreement.title, agreement.kind, agreement.action, agreement.date) == (
        "长江中游生态环境公益诉讼检察协作协议",
        "cooperation",
        "签署",
        "2023-03-22",
    )
    assert _names(agreement.parties) == ["重庆市人民检察院第一分院", "宜昌市人民检察院", "岳阳市人民检察院"]
    assert [_written(original, party) for party in agreement.parties] == [
        "重庆市检察一分院",
        "宜昌市检察院",
        "岳阳市检察院",
    ]

    by_text = {ref.text: ref for ref in draft.agencies}
    assert by_text["重庆市检察一分院"].name == "重庆市人民检察院第一分院"
    assert by_text["江西省九江市检察院"].name == "九江市人民检察院"
    police = by_text["省公安厅"]  # "江西检察机关…九江市检察院联合省公安厅": 江西
    assert police.name == "江西省公安厅" and police.confidence < 0.9 and police.warnings

    (required,) = draft.measures
    assert [item.number for item in required.children] == ["一是", "二是", "三是", "四是"]
    assert required.children[3].text == "建立专业人才库和专家咨询机制"

    assert _figures(draft) == [
        ("23件", 23, "件", "两院共同办理公益诉讼案件"),
        ("1.8万吨", 18_000, "吨", "清理固体废物"),
        ("156件", 156, "件", "非法捕捞犯罪案件"),
        ("312人", 312, "人", ""),  # the people of those cases
        ("1名", 1, "名", "分管领导"),
        ("1名", 1, "名", "联络员"),
    ]
    upcoming = event.next_meeting
    assert (upcoming.year, upcoming.place, upcoming.host.name) == (2024, "湖南省岳阳市", "岳阳市人民检察院")
