"""Agreements named in a text: titles and kinds, parties by every phrasing, described agreements, actions, dates,
one agreement per title, what is not an agreement, traditional input, and the seeds."""

from __future__ import annotations

import datetime

import opencc
import pytest
from django.utils import translation

from yipanqi.intake.extract.agreements import is_agreement_title, kind_of
from yipanqi.intake.pipeline import analyse
from yipanqi.intake.tests.conftest import PUBLISHED, seed_text

pytestmark = pytest.mark.django_db


def _draft(text: str, published: str | None = None):
    with translation.override("en"):
        return text, analyse(text, published=datetime.date.fromisoformat(published) if published else None)


def _seed(prefix: str):
    return _draft(seed_text(prefix), PUBLISHED[prefix])


def _names(agreement) -> list[str]:
    return [party.name for party in agreement.parties]


def _titled(agreements, title: str) -> list:
    return [agreement for agreement in agreements if agreement.title == title]


# -- titles and kinds ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("川渝政法工作战略合作框架协议", "framework"),
        ("关于推进监狱工作协同发展合作协议", "cooperation"),
        ("知识产权司法保护协定", "cooperation"),
        ("长三角地区党委政法委书记座谈会会议纪要", "minutes"),
        ("推进长三角一体化科技创新知识产权保护备忘录", "memorandum"),
        ("川渝地区调解工作合作共建实施方案", "implementation"),
        ("成渝地区双城经济圈普法依法治理工作合作方案", "implementation"),
        ("2018年—2020年第一个三年行动计划", "action"),
        ("跨区域联合执法行动方案", "action"),
        ("川渝司法行政区域合作重点推进项目清单", "other"),
        ("社区服刑人员外出管理办法(试行)", "other"),
    ],
)
def test_kind_from_the_title_ending(title, kind):
    assert is_agreement_title(title)
    assert kind_of(title) == kind


@pytest.mark.parametrize(
    "title",
    ["中华人民共和国民事诉讼法", "长江保护法", "民法典", "信访工作条例", "四川日报", "检察日报", "习近平谈治国理政"],
)
def test_laws_newspapers_and_books_are_no_agreements(title):
    assert not is_agreement_title(title)


def test_a_law_in_the_text_does_not_become_an_agreement():
    _original, draft = _draft(
        "据《四川日报》报道，两地法院依据《中华人民共和国民事诉讼法》和《中华人民共和国长江保护法》开展协作。\n"
    )
    assert draft.agreements == []


# -- parties ---------------------------------------------------------------------------------------------------


def test_a_与_b_签订了_title():
    original, draft = _draft("6月18日，四川省高级人民法院与重庆市高级人民法院签订了《关于加强执行协作的合作协议》。\n")
    (agreement,) = draft.agreements
    assert agreement.title == "关于加强执行协作的合作协议" and agreement.kind == "cooperation"
    assert agreement.action == "签署" and agreement.quoted
    assert original[agreement.span[0] : agreement.span[1]] == "《关于加强执行协作的合作协议》"
    assert [party.text for party in agreement.parties] == ["四川省高级人民法院", "重庆市高级人民法院"]
    assert _names(agreement) == ["四川省高级人民法院", "重庆市高级人民法院"]
    assert [original[p.span[0] : p.span[1]] for p in agreement.parties] == ["四川省高级人民法院", "重庆市高级人民法院"]
    assert agreement.confidence >= 0.8
    assert agreement.date == "" and agreement.warnings == ["The date 6月18日 could not be resolved."]  # no year known


def test_a_和_b_签署_title_in_single_angle_brackets():
    _original, draft = _draft("四川省公安厅和重庆市公安局签署〈川渝警务协作备忘录〉。\n")
    (agreement,) = draft.agreements
    assert agreement.title == "川渝警务协作备忘录" and agreement.kind == "memorandum"
    assert _names(agreement) == ["四川省公安厅", "重庆市公安局"]


def test_several_parties_联合签署_a_quoted_agreement():
    _original, draft = _draft(
        "四川省人民检察院、重庆市人民检察院、贵州省人民检察院联合签署“赤水河流域检察协作协议”。\n"
    )
    (agreement,) = draft.agreements
    assert agreement.title == "赤水河流域检察协作协议" and agreement.kind == "cooperation"
    assert _names(agreement) == ["四川省人民检察院", "重庆市人民检察院", "贵州省人民检察院"]


def test_pairs_分别签订_one_title_give_one_agreement_per_pair():
    _original, draft = _draft(
        "重庆市律师协会与四川省律师协会、重庆市公证协会与四川省公证协会分别签订了《关于服务双城经济圈建设合作协议》。\n"
    )
    assert [agreement.title for agreement in draft.agreements] == ["关于服务双城经济圈建设合作协议"] * 2
    assert [_names(agreement) for agreement in draft.agreements] == [
        ["重庆市律师协会", "四川省律师协会"],
        ["重庆市公证协会", "四川省公证协会"],
    ]


def test_region_abbreviations_with_a_type_name_one_party_per_region():
    _original, draft = _draft("根据沪苏浙皖(以下简称四地)政法委书记共同签署的《区域合作会议纪要》，四地将加强合作。\n")
    (agreement,) = draft.agreements
    assert agreement.kind == "minutes" and agreement.action == "签署"
    assert sorted(_names(agreement)) == sorted(
        ["中共上海市委政法委员会", "中共江苏省委政法委员会", "中共浙江省委政法委员会", "中共安徽省委政法委员会"]
    )


def test_四地_with_a_type_takes_the_agencies_named_in_the_text():
    _original, draft = _draft(
        "上海市委政法委、江苏省委政法委、浙江省委政法委、安徽省委政法委负责同志出席会议。\n"
        "会后，四地政法委书记共同签署了《区域合作会议纪要》。\n"
    )
    (agreement,) = draft.agreements
    assert sorted(_names(agreement)) == sorted(
        ["中共上海市委政法委员会", "中共江苏省委政法委员会", "中共浙江省委政法委员会", "中共安徽省委政法委员会"]
    )


def test_a_counted_list_of_places_lends_its_type_to_each():
    original, draft = _draft("近日，广安、广元、南充三市检察院与重庆市检察一分院联合签署《嘉陵江流域检察协作协议》。\n")
    (agreement,) = draft.agreements
    assert _names(agreement) == ["广安市人民检察院", "广元市人民检察院", "南充市人民检察院", "重庆市人民检察院第一分院"]
    assert original[agreement.parties[0].span[0] : agreement.parties[0].span[1]] == "广安"


def test_an_alias_in_parentheses_is_one_party():
    _original, draft = _draft(
        "重庆市教育矫治局(市戒毒管理局)与四川省戒毒管理局签订了《关于推进戒毒工作协同发展合作协议》\n"
    )
    (agreement,) = draft.agreements
    assert len(agreement.parties) == 2
    assert agreement.parties[0].text.startswith("重庆市教育矫治局")
    assert _names(agreement) == ["重庆市戒毒管理局", "四川省戒毒管理局"]


def test_schemes_审议通过_by_a_meeting_take_the_meeting_s_agencies():
    _original, draft = _draft(
        "6月18日，四川省司法厅、重庆市司法局举行了协调小组第一次会议。\n"
        "会议审议通过了《川渝调解工作合作共建实施方案》《川渝普法工作方案》，推动合作升级。\n"
    )
    assert [(a.title, a.kind, a.action) for a in draft.agreements] == [
        ("川渝调解工作合作共建实施方案", "implementation", "审议通过"),
        ("川渝普法工作方案", "implementation", "审议通过"),
    ]
    for agreement in draft.agreements:
        assert _names(agreement) == ["四川省司法厅", "重庆市司法局"]
        assert agreement.confidence < 0.9 and "Parties taken from the meeting in the text." in agreement.warnings
        assert agreement.date == ""  # no publication date: "6月18日" has no year


def test_印发_and_出台_are_actions():
    _original, draft = _draft(
        "四川省高级人民法院印发《执行协作工作方案》。重庆市公安局出台《跨区域联合执法行动计划》。\n"
    )
    assert [(a.title, a.action, a.kind) for a in draft.agreements] == [
        ("执行协作工作方案", "印发", "implementation"),
        ("跨区域联合执法行动计划", "出台", "action"),
    ]
    assert [_names(a) for a in draft.agreements] == [["四川省高级人民法院"], ["重庆市公安局"]]


def test_a_title_only_referred_to_has_no_action_and_low_confidence():
    _original, draft = _draft("两地将深入落实《川滇黔渝人民调解联调协作协议》。\n")
    (agreement,) = draft.agreements
    assert agreement.action == "" and agreement.parties == [] and agreement.confidence <= 0.5


# -- described agreements --------------------------------------------------------------------------------------


def test_an_agreement_described_without_a_title_mark():
    original, draft = _draft(
        "4月23日，四川省高院、重庆市高院签署知识产权司法保护交流合作协议，构建互联互通体系。\n", "2020-05-14"
    )
    (agreement,) = draft.agreements
    assert agreement.title == "知识产权司法保护交流合作协议" and not agreement.quoted
    assert agreement.kind == "cooperation" and agreement.action == "签署" and agreement.date == "2020-04-23"
    assert original[agreement.span[0] : agreement.span[1]] == "知识产权司法保护交流合作协议"
    assert _names(agreement) == ["四川省高级人民法院", "重庆市高级人民法院"]


def test_a_bare_协议_takes_its_title_from_the_mechanism_it_sets_up():
    _original, draft = _draft("广安市人民检察院与南充市人民检察院联合签署协议，建立跨区域生态保护公益诉讼协作机制。\n")
    (agreement,) = draft.agreements
    assert agreement.title == "跨区域生态保护公益诉讼协作机制协议" and not agreement.quoted
    assert agreement.confidence <= 0.5
    assert "Title made up from the mechanism the agreement sets up." in agreement.warnings
    assert _names(agreement) == ["广安市人民检察院", "南充市人民检察院"]


def test_announced_counted_and_plural_agreements_are_not_agreements():
    _original, draft = _draft(
        "近日，川渝政法部门还将召开联席会议并签署合作协议。全省7家法院与外省法院签订12项合作协议。"
        "要推动分行业签订一系列合作协议。四地高院签署整体性、指导性框架协议8份。\n"
    )
    assert draft.agreements == []


# -- dates and duplicates --------------------------------------------------------------------------------------


def test_the_date_is_the_nearest_before_the_mention_in_its_paragraph():
    _original, draft = _draft(
        "4月23日，四川省高院与重庆市高院签署《知识产权协作协议》。4月28日，四川省公安厅与重庆市公安局签署《警务合作协议》。\n"
        "自去年11月《川渝政法工作战略合作框架协议》签订以来，合作不断深化。\n",
        "2020-05-14",
    )
    dates = {agreement.title: (agreement.date, agreement.kind, agreement.action) for agreement in draft.agreements}
    assert dates == {
        "知识产权协作协议": ("2020-04-23", "cooperation", "签署"),
        "警务合作协议": ("2020-04-28", "cooperation", "签署"),
        "川渝政法工作战略合作框架协议": ("2019-11", "framework", "签署"),
    }


def test_a_ceremony_s_agreements_take_the_ceremony_s_date():
    _original, draft = _draft(
        "6月18日，专项合作签约仪式举行。\n两地负责人出席。\n签约仪式现场——\n"
        "• 重庆市监狱管理局与四川省监狱管理局签订了《关于推进监狱工作协同发展合作协议》\n",
        "2020-06-19",
    )
    (agreement,) = draft.agreements
    assert agreement.date == "2020-06-18"
    assert agreement.warnings == ["Date taken from an earlier paragraph."]


def test_a_title_mentioned_again_or_by_its_short_name_is_one_agreement():
    _original, draft = _draft(
        "9月23日，座谈会在合肥召开，签署《长三角地区政法委书记座谈会会议纪要》(以下简称《纪要》)。\n"
        "《纪要》明确，四地将加强合作。解读《会议纪要》核心要义。\n"
        "上海市委政法委与江苏省委政法委共同签署的《长三角地区政法委书记座谈会会议纪要》已印发。\n",
        "2020-10-09",
    )
    (agreement,) = draft.agreements
    assert agreement.title == "长三角地区政法委书记座谈会会议纪要" and agreement.kind == "minutes"
    assert agreement.date == "2020-09-23"
    assert _names(agreement) == ["中共上海市委政法委员会", "中共江苏省委政法委员会"]


def test_traditional_input():
    simplified = "四川省高级人民法院与重庆市高级人民法院签订了《关于加强执行协作的合作协议》。\n"
    traditional = opencc.OpenCC("s2t").convert(simplified)
    assert traditional != simplified
    original, draft = _draft(traditional)
    (agreement,) = draft.agreements
    assert agreement.title == "关于加强执行协作的合作协议"
    assert original[agreement.span[0] : agreement.span[1]] == "《關於加強執行協作的合作協議》"
    assert _names(agreement) == ["四川省高级人民法院", "重庆市高级人民法院"]


# -- the seeds -------------------------------------------------------------------------------------------------

CEREMONY_001 = [
    ("关于推进监狱工作协同发展合作协议", ["重庆市监狱管理局", "四川省监狱管理局"]),
    ("关于推进戒毒工作协同发展合作协议", ["重庆市戒毒管理局", "四川省戒毒管理局"]),
    ("关于服务“成渝地区双城经济圈建设”合作协议", ["重庆市律师协会", "四川省律师协会"]),
    ("关于服务“成渝地区双城经济圈建设”合作协议", ["重庆市公证协会", "四川省公证协会"]),
    ("关于服务“成渝地区双城经济圈建设”合作协议", ["重庆市司法鉴定协会", "四川省司法鉴定协会"]),
]


def test_seed_001_the_five_agreements_signed_at_the_ceremony():
    _original, draft = _seed("001")
    signed = [agreement for agreement in draft.agreements if agreement.action == "签署"]
    assert [agreement.title for agreement in signed] == [title for title, _parties in CEREMONY_001]
    for agreement in signed:
        assert agreement.kind == "cooperation" and agreement.quoted and agreement.confidence >= 0.8
        assert agreement.date == "2020-06-18"
        assert len(agreement.parties) == 2 and agreement.parties[0].text.startswith("重庆市")
    assert [_names(agreement) for agreement in signed] == [parties for _title, parties in CEREMONY_001]


def test_seed_001_the_two_schemes_approved():
    _original, draft = _seed("001")
    approved = [agreement for agreement in draft.agreements if agreement.action == "审议通过"]
    assert [(a.title, a.kind) for a in approved] == [
        ("成渝地区双城经济圈普法依法治理工作合作方案", "implementation"),
        ("川渝地区调解工作合作共建实施方案", "implementation"),
    ]
    for agreement in approved:
        assert agreement.confidence < 0.9 and agreement.date == "2020-06-18"
        assert _names(agreement) == ["四川省司法厅", "重庆市司法局"]


def test_seed_001_titles_only_referred_to_are_kept_with_low_confidence():
    _original, draft = _seed("001")
    referred = [agreement for agreement in draft.agreements if not agreement.action]
    assert {agreement.kind for agreement in referred} <= {"other", "cooperation"}
    assert all(agreement.confidence <= 0.5 for agreement in referred)
    assert len(draft.agreements) == len(CEREMONY_001) + 2 + len(referred)


def test_seed_000_agreements():
    _original, draft = _seed("000")
    (ip,) = _titled(draft.agreements, "知识产权司法保护交流合作协议")
    assert ip.date == "2020-04-23" and not ip.quoted and ip.kind == "cooperation"
    assert _names(ip) == ["四川省高级人民法院", "重庆市高级人民法院"]
    (police,) = _titled(draft.agreements, "合作协议")
    assert police.date == "2020-04-28" and not police.quoted
    assert [party.text for party in police.parties] == ["公安厅", "重庆市公安局"]
    assert _names(police) == ["四川省公安厅", "重庆市公安局"]
    (river,) = [agreement for agreement in draft.agreements if "嘉陵江" in agreement.title]
    assert not river.quoted and river.confidence <= 0.5
    assert _names(river) == [
        "广安市人民检察院",
        "广元市人民检察院",
        "南充市人民检察院",
        "遂宁市人民检察院",
        "资阳市人民检察院",
        "重庆市人民检察院第一分院",
    ]
    (framework,) = _titled(draft.agreements, "川渝政法工作战略合作框架协议")
    assert framework.kind == "framework" and framework.date == "2019-11" and framework.quoted
    assert len(draft.agreements) == 4  # the article's second copy adds nothing


def test_seed_002_minutes_counted_once_with_four_parties():
    _original, draft = _seed("002")
    (minutes,) = [agreement for agreement in draft.agreements if agreement.kind == "minutes"]
    assert minutes.title == "长三角地区党委政法委书记座谈会会议纪要"
    assert minutes.action == "签署" and minutes.confidence >= 0.8 and minutes.date.endswith("-09-23")
    assert sorted(_names(minutes)) == sorted(
        ["中共上海市委政法委员会", "中共江苏省委政法委员会", "中共浙江省委政法委员会", "中共安徽省委政法委员会"]
    )
    assert not _titled(draft.agreements, "会议纪要")


def test_a_signing_without_subject_takes_the_agencies_holding_the_meeting_in_the_clause_before():
    _original, draft = _draft(
        "北京市高级人民法院、天津市高级人民法院在天津召开执行协作联席会议，共同签署了《京津法院执行联动协作框架协议》。"
        "两院还会签了《关于委托执行的实施方案》。\n"
    )
    framework, scheme = draft.agreements
    assert framework.kind == "framework" and framework.action == "签署"
    assert _names(framework) == ["北京市高级人民法院", "天津市高级人民法院"]
    assert scheme.kind == "implementation" and scheme.action == "签署"
    assert _names(scheme) == ["北京市高级人民法院", "天津市高级人民法院"]  # "两院": those who held the meeting


# -- generalised on other documents (tests/genres) ------------------------------------------------------------------


def test_an_agreements_own_text_with_甲方_and_乙方():
    original, draft = _draft(
        "长江中游生态环境保护检察协作协议\n甲方：湖北省宜昌市人民检察院\n乙方：湖南省岳阳市人民检察院\n"
        "为加强协作，经协商一致，达成如下协议：\n第一条  双方建立协作机制。\n第二条  本协议自签订之日起生效。\n"
        "甲方（盖章）：湖北省宜昌市人民检察院\n乙方（盖章）：湖南省岳阳市人民检察院\n签订日期：2023年5月12日\n"
    )
    (agreement,) = draft.agreements
    assert (agreement.title, agreement.kind, agreement.action, agreement.date) == (
        "长江中游生态环境保护检察协作协议",
        "cooperation",
        "签署",
        "2023-05-12",
    )
    assert _names(agreement) == ["宜昌市人民检察院", "岳阳市人民检察院"]
    assert original[agreement.span[0] : agreement.span[1]] == "长江中游生态环境保护检察协作协议"


def test_minutes_own_text_takes_the_issuing_agencies_and_the_meeting_day():
    _original, draft = _draft(
        "南昌市中级人民法院 南昌市人民检察院\n2023年第二次法检联席会议纪要\n"
        "2023年9月26日，两院在市中院召开联席会议。1至8月，两院协作成效明显。\n",
        "2023-09-28",
    )
    (minutes,) = draft.agreements
    assert (minutes.title, minutes.kind, minutes.date) == ("2023年第二次法检联席会议纪要", "minutes", "2023-09-26")
    assert _names(minutes) == ["南昌市中级人民法院", "南昌市人民检察院"]


def test_a_news_headline_is_not_the_texts_own_agreement():
    _original, draft = _draft(
        "长三角三省一市公安机关签署区域警务一体化合作协议\n"
        "6月8日，上海市公安局、江苏省公安厅、浙江省公安厅、安徽省公安厅签署《长三角区域警务一体化发展合作协议》。\n",
        "2023-06-09",
    )
    (agreement,) = draft.agreements  # the headline only describes the agreement quoted below
    assert agreement.title == "长三角区域警务一体化发展合作协议" and agreement.date == "2023-06-08"
    assert _names(agreement) == ["上海市公安局", "江苏省公安厅", "浙江省公安厅", "安徽省公安厅"]


def test_a_described_agreement_shortening_a_quoted_title_is_that_agreement():
    _original, draft = _draft(
        "会上，重庆市检察一分院与宜昌市检察院签订了《长江中游生态环境公益诉讼检察协作协议》。"
        "长江中游生态检察协作协议签署后，两院将每季度通报情况。两院还签署合作协议。\n",
        "2023-03-24",
    )
    titles = [agreement.title for agreement in draft.agreements]
    assert titles == ["长江中游生态环境公益诉讼检察协作协议", "合作协议"]  # "合作协议" shortens nothing


def test_a_counted_system_signs_with_the_regions_it_counts():
    _original, draft = _draft(
        "一年来，江苏、浙江、安徽、上海三省一市紧扣一体化。三省一市公安机关联合出台《区域警务协作三年行动计划》。\n",
        "2021-10-09",
    )
    (plan,) = draft.agreements
    assert plan.kind == "action" and plan.action == "出台"
    assert _names(plan) == ["江苏省公安厅", "浙江省公安厅", "安徽省公安厅", "上海市公安局"]
    assert not plan.warnings


def test_a_white_paper_is_no_agreement():
    _original, draft = _draft(
        "4月25日，广州中院发布《广州法院知识产权司法保护状况（2023年）》白皮书和《2023年度典型案例》。\n", "2024-04-26"
    )
    assert draft.agreements == []


def test_traditional_双方_takes_the_hosts_of_the_ceremony():
    _original, draft = _draft(
        "11月3日，廣東省高級人民法院與福建省高級人民法院在廣州擧行簽約儀式，雙方簽署《粵閩兩省法院協作框架協議》。\n",
        "2023-11-04",
    )
    (framework,) = draft.agreements
    assert framework.title == "粤闽两省法院协作框架协议" and framework.kind == "framework"
    assert _names(framework) == ["广东省高级人民法院", "福建省高级人民法院"]


@pytest.mark.parametrize(
    "sentence",
    [
        "3月5日，川渝黔两省一市检察机关在贵阳签署《赤水河流域生态环境保护检察协作协议》。",
        "四川、贵州、重庆两省一市携手治水。3月5日，两省一市检察机关在贵阳签署《赤水河流域生态环境保护检察协作协议》。",
    ],
)
def test_两省一市_parties(sentence):
    _original, draft = _draft(sentence + "\n", "2023-03-06")
    (agreement,) = draft.agreements
    assert sorted(_names(agreement)) == sorted(["四川省人民检察院", "贵州省人民检察院", "重庆市人民检察院"])


def test_seed_002_the_action_plan_of_the_three_provinces_and_one_city_has_four_parties():
    _original, draft = _seed("002")
    (plan,) = [agreement for agreement in draft.agreements if agreement.kind == "action"]
    assert sorted(_names(plan)) == sorted(["上海市公安局", "江苏省公安厅", "浙江省公安厅", "安徽省公安厅"])
    assert not plan.warnings
