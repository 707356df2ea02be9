"""Agencies named in a text, mapped to the directory (extract/agencies.py, extract/names.py)."""

from __future__ import annotations

import pytest
from django.utils import translation

from yipanqi.core.versioning import bump_version
from yipanqi.intake.extract import agencies, names
from yipanqi.intake.pipeline import Context, analyse
from yipanqi.intake.tests.conftest import seed_text
from yipanqi.intake.text import prepare

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def context_of(original: str) -> Context:
    return Context(text=prepare(original), index=agencies.AgencyIndex.current())


def mentions(original: str) -> list[tuple[str, str, float, list[str]]]:
    """(text as written, directory name or "", confidence, warnings) of every mention, in text order."""
    context = context_of(original)
    agencies.find(context)
    return [(ref.text, ref.name, ref.confidence, ref.warnings) for _s, _e, ref in context.agency_spans]


def found_names(original: str) -> list[str]:
    context = context_of(original)
    return [ref.name for ref in agencies.find(context)]


# -- the vocabulary -----------------------------------------------------------------------------------------------


def test_count_words():
    assert names.count_of("五市") == (5, "市")
    assert names.count_of("两地") == (2, "地")
    assert names.count_of("三省一市") == (4, "市")
    assert names.chinese_number("十二") == 12
    assert names.chinese_number("两") == 2
    assert names.chinese_number("百") is None


def test_agency_words_match_the_longest():
    assert names.agency_word_at("人民检察院第一分院", 0).rank == 1
    assert names.agency_word_at("检察院的", 0).text == "检察院"
    assert names.agency_word_at("高院", 0).level == "province"
    assert names.agency_word_at("一中院", 0).rank == 1
    assert names.agency_word_at("统一", 0) is None


def test_the_34_provinces_have_abbreviations():
    assert len(set(names.PROVINCE_ABBREVIATIONS.values())) == 34
    assert names.PROVINCE_ABBREVIATIONS["川"] == "510000"
    assert names.PROVINCE_ABBREVIATIONS["渝"] == "500000"


# -- the index ------------------------------------------------------------------------------------------------------


def test_index_holds_the_directory(django_assert_num_queries):
    with django_assert_num_queries(5):
        index = agencies.AgencyIndex.from_database()
    assert len(index.agencies) > 16000
    assert [region.name for region in index.region_names.items["四川"]] == ["四川省"]
    assert {region.level for region in index.region_names.items["广安"]} == {"city", "county"}
    court = index.agency_names.items["四川省高级人民法院"]
    assert index.circles_of(court) == ["chengyu"]
    procuratorate = index.agency_names.items["广安市人民检察院"]
    assert set(index.circles_of(procuratorate)) == {"chengyu", "jialing-river"}


def test_index_is_cached_per_directory_version():
    first = agencies.AgencyIndex.current()
    assert agencies.AgencyIndex.current() is first
    bump_version("directory")
    second = agencies.AgencyIndex.current()
    assert second is not first
    assert second.version != first.version


def test_find_makes_no_queries(django_assert_num_queries):
    context = context_of("四川省高院与重庆市高院签署协议。")
    with django_assert_num_queries(0):
        found = agencies.find(context)
    assert [ref.circles for ref in found] == [["chengyu"], ["chengyu"]]


# -- names written out and their aliases ----------------------------------------------------------------------------


def test_directory_names_are_exact():
    assert mentions("四川省高级人民法院与重庆市人民检察院第一分院签署协议") == [
        ("四川省高级人民法院", "四川省高级人民法院", 1.0, []),
        ("重庆市人民检察院第一分院", "重庆市人民检察院第一分院", 1.0, []),
    ]


@pytest.mark.parametrize(
    ("written", "name"),
    [
        ("四川省高院", "四川省高级人民法院"),
        ("重庆市高院", "重庆市高级人民法院"),
        ("安徽高院", "安徽省高级人民法院"),
        ("广安市中院", "广安市中级人民法院"),
        ("重庆一中院", "重庆市第一中级人民法院"),
        ("北京二中院", "北京市第二中级人民法院"),
        ("四川省检察院", "四川省人民检察院"),
        ("重庆市检察一分院", "重庆市人民检察院第一分院"),
        ("重庆市检一分院", "重庆市人民检察院第一分院"),
        ("上海市检察院第二分院", "上海市人民检察院第二分院"),
        ("四川司法厅", "四川省司法厅"),
        ("江苏省委政法委", "中共江苏省委政法委员会"),
        ("中共江苏省委政法委", "中共江苏省委政法委员会"),
        ("四川省委政法委员会", "中共四川省委政法委员会"),
        ("上海市委政法委", "中共上海市委政法委员会"),
        ("四川省监狱局", "四川省监狱管理局"),
        ("重庆律协", "重庆市律师协会"),
        ("成都市锦江区公安局", "成都市公安局锦江区分局"),
        ("上海青浦区人民检察院", "上海市青浦区人民检察院"),
        ("浦东新区检察院", "上海市浦东新区人民检察院"),
        ("中江县法院", "四川省中江县人民法院"),
    ],
)
def test_aliases(written, name):
    assert mentions(f"今天，{written}召开会议。") == [(written, name, pytest.approx(0.9, abs=0.051), [])]


def test_region_with_or_without_its_suffix():
    assert found_names("重庆检察院与广安检察院") == ["重庆市人民检察院", "广安市人民检察院"]
    assert found_names("重庆市检察院与广安市检察院") == ["重庆市人民检察院", "广安市人民检察院"]


def test_region_names_are_read_on_word_boundaries():
    """jieba cuts 协议 | 中 | 江苏省 | 高院: the county 中江 is not read across the word."""
    assert found_names("签订合作协议中江苏省高院表示") == ["江苏省高级人民法院"]


def test_a_county_short_name_alone_counts_only_in_the_texts_provinces():
    text = "安徽省高级人民法院与合肥市中级人民法院签署协议，缔结为友好法院。"
    assert found_names(text) == ["安徽省高级人民法院", "合肥市中级人民法院"]


def test_an_ambiguous_region_is_chosen_by_the_texts_provinces():
    assert found_names("朝阳区法院与北京市海淀区人民检察院签署协议") == [
        "北京市朝阳区人民法院",
        "北京市海淀区人民检察院",
    ]
    assert found_names("朝阳区法院与长春市人民检察院签署协议") == ["长春市朝阳区人民法院", "长春市人民检察院"]


def test_an_ambiguous_region_without_context_is_flagged():
    [(written, name, confidence, warnings)] = mentions("朝阳区法院签署协议")
    assert (written, name, confidence) == ("朝阳区法院", "北京市朝阳区人民法院", 0.75)
    assert warnings == ["The region name is ambiguous; taken as 北京市朝阳区"]


# -- groups of regions -----------------------------------------------------------------------------------------


def test_enumeration_sharing_a_suffix():
    found = mentions("近日，广安、广元、南充、遂宁、资阳五市检察院与重庆市检察一分院联合签署协议。")
    assert [(written, name) for written, name, _c, _w in found] == [
        ("广安", "广安市人民检察院"),
        ("广元", "广元市人民检察院"),
        ("南充", "南充市人民检察院"),
        ("遂宁", "遂宁市人民检察院"),
        ("资阳五市检察院", "资阳市人民检察院"),
        ("重庆市检察一分院", "重庆市人民检察院第一分院"),
    ]
    assert {confidence for _w, _n, confidence, _ in found[:5]} == {0.85}


def test_provincial_abbreviations_before_an_agency_word():
    assert found_names("川渝两地法院将联合发布典型案例") == ["四川省高级人民法院", "重庆市高级人民法院"]
    assert found_names("沪苏浙皖政法委书记出席会议") == [
        "中共上海市委政法委员会",
        "中共江苏省委政法委员会",
        "中共浙江省委政法委员会",
        "中共安徽省委政法委员会",
    ]


def test_one_abbreviation_before_an_agency_word():
    assert found_names("苏高院与浙高院签署协议") == ["江苏省高级人民法院", "浙江省高级人民法院"]


def test_abbreviations_that_are_common_characters_need_company():
    assert found_names("新法院大楼落成，云检察院") == []


def test_counted_regions_from_the_context():
    text = "根据沪苏浙皖(以下简称四地)政法委书记共同签署的纪要，四地党委政法委定期召开座谈会。"
    found = mentions(text)
    counted = [m for m in found if m[0] == "四地党委政法委"]
    assert [name for _w, name, _c, _warnings in counted] == [
        "中共上海市委政法委员会",
        "中共江苏省委政法委员会",
        "中共浙江省委政法委员会",
        "中共安徽省委政法委员会",
    ]
    assert counted[0][2] == 0.6
    assert counted[0][3] == ["Regions taken from the context: 上海市、江苏省、浙江省、安徽省"]


def test_counted_regions_are_left_out_when_the_context_is_ambiguous():
    assert found_names("四川省高院、重庆市高院、贵州省高院出席。两地法院将加强合作。")[3:] == []


def test_the_two_regions_of_a_text_make_two_places():
    text = "四川省高级人民法院与重庆市高级人民法院签署协议。两地法院将定期会商。"
    assert [m[1] for m in mentions(text)][2:] == ["四川省高级人民法院", "重庆市高级人民法院"]


def test_a_circle_names_its_regions():
    found = mentions("长三角地区党委政法委书记座谈会在合肥召开")
    assert [name for _w, name, _c, _warnings in found] == [
        "中共上海市委政法委员会",
        "中共江苏省委政法委员会",
        "中共浙江省委政法委员会",
        "中共安徽省委政法委员会",
    ]
    assert found[0][2] == 0.7


# -- parentheses ----------------------------------------------------------------------------------------------------


def test_the_agency_in_parentheses_when_the_first_name_is_unknown():
    assert mentions("重庆市教育矫治局(市戒毒管理局)与四川省戒毒管理局签订了协议") == [
        (
            "重庆市教育矫治局(市戒毒管理局)",
            "重庆市戒毒管理局",
            0.8,
            ["Not in the directory: 重庆市教育矫治局; the name in parentheses was used"],
        ),
        ("四川省戒毒管理局", "四川省戒毒管理局", 1.0, []),
    ]


def test_another_name_in_parentheses_after_a_known_agency_is_no_second_mention():
    assert [m[1] for m in mentions("重庆市戒毒管理局（市教育矫治局）出席")] == ["重庆市戒毒管理局"]


# -- the context ----------------------------------------------------------------------------------------------------


def test_a_name_without_region_takes_the_nearest_region_of_its_paragraph():
    text = "4月23日，四川省高院、重庆市高院签署协议。4月28日，公安厅与重庆市公安局签署合作协议。"
    found = mentions(text)
    # 重庆市 is nearer, but a 直辖市 has a 公安局, not a 公安厅
    assert found[2] == ("公安厅", "四川省公安厅", 0.65, ["Region taken from the context: 四川省"])
    assert found[3] == ("重庆市公安局", "重庆市公安局", 1.0, [])


def test_a_placeholder_takes_the_region_of_its_sentence():
    found = mentions("安徽省副省长、省公安厅厅长出席会议。")
    assert found == [("省公安厅", "安徽省公安厅", 0.7, ["Region taken from the context: 安徽省"])]
    found = mentions("上海市检察机关在市委政法委的领导下推进工作。")
    assert found == [("市委政法委", "中共上海市委政法委员会", 0.7, ["Region taken from the context: 上海市"])]


def test_placeholders_of_a_municipality():
    found = mentions("重庆市司法局表示，市高院、市中院、市检察院将参加。")
    assert [(written, name) for written, name, _c, _w in found] == [
        ("重庆市司法局", "重庆市司法局"),
        ("市高院", "重庆市高级人民法院"),
        ("市中院", ""),  # 重庆 has five intermediate courts
        ("市检察院", "重庆市人民检察院"),
    ]


def test_without_a_region_in_the_paragraph_the_dominant_province():
    text = "近日，记者从省委政法委获悉，合作继续深化。\n四川省高院与重庆市高院签署协议，重庆市公安局参加。"
    found = mentions(text)
    # 重庆 is named more often, but "省委" is a province's committee, and 重庆 is a 直辖市
    assert found[0] == ("省委政法委", "中共四川省委政法委员会", 0.6, ["Region taken from the context: 四川省"])


def test_a_bare_word_of_a_type_list_names_no_agency():
    text = "四川省委政法委常务副书记、高级人民法院、人民检察院、公安厅(局)负责同志参加会议。"
    assert found_names(text) == ["中共四川省委政法委员会"]


def test_generic_words_name_no_agency():
    assert found_names("各省高院参加会议。完善律师协会交流协作机制。检察院加强监督。") == []


# -- not in the directory -------------------------------------------------------------------------------------------


def test_unknown_agency_like_names():
    context = context_of("广安市律师协会与重庆市中院签署协议，最高人民法院指导。")
    found = agencies.find(context)
    assert [(ref.text, ref.agency_id, ref.confidence) for ref in found] == [
        ("广安市律师协会", None, 0.3),
        ("重庆市中院", None, 0.3),
        ("最高人民法院", None, 0.3),
    ]
    assert found[0].region == "511600"
    assert found[0].type == "lawyers"
    assert found[0].warnings == ["Not found in the directory"]
    assert found[1].warnings[1].startswith("Several agencies of the directory match: 重庆市第一中级人民法院")
    assert found[2].type == "court"


def test_national_agencies_are_not_in_the_directory():
    context = context_of("落实最高人民法院的部署，在最高法领导下，公安部参加。")
    found = agencies.find(context)
    assert [(ref.text, ref.agency_id, ref.type) for ref in found] == [
        ("最高人民法院", None, "court"),
        ("公安部", None, "police"),
    ]
    assert len(context.agency_spans) == 3


def test_common_words_are_not_agencies():
    assert found_names("川渝公安部门将建立统一的执法标准体系，四川日报记者") == []


# -- offsets, traditional input, the API ------------------------------------------------------------------------------


def test_traditional_input_spans_point_into_the_original():
    original = "㈠四川省高級人民法院與重慶市檢察一分院簽署協議"
    context = context_of(original)
    found = agencies.find(context)
    assert [ref.name for ref in found] == ["四川省高级人民法院", "重庆市人民检察院第一分院"]
    for ref in found:
        assert original[ref.span[0] : ref.span[1]] == ref.text
    assert [ref.text for ref in found] == ["四川省高級人民法院", "重慶市檢察一分院"]
    simple_start, simple_end, _ref = context.agency_spans[1]
    assert context.text.simple[simple_start:simple_end] == "重庆市检察一分院"


def test_every_mention_in_agency_spans_and_each_agency_once():
    text = "四川省高院与重庆市高院签署协议。四川省高级人民法院表示，将深化合作。"
    context = context_of(text)
    found = agencies.find(context)
    assert [(s, e, ref.name) for s, e, ref in context.agency_spans] == [
        (0, 5, "四川省高级人民法院"),
        (6, 11, "重庆市高级人民法院"),
        (16, 25, "四川省高级人民法院"),
    ]
    assert [(ref.name, ref.span, ref.confidence) for ref in found] == [
        ("四川省高级人民法院", [0, 5], 1.0),  # the first mention, the best confidence
        ("重庆市高级人民法院", [6, 11], 0.9),
    ]


@pytest.mark.parametrize("original", ["", "Hello, world.", "今天天气很好。"])
def test_texts_without_agencies(original):
    context = context_of(original)
    assert agencies.find(context) == []
    assert context.agency_spans == []


def test_page_furniture_is_not_read():
    context = context_of("主办单位：四川省高级人民法院\n重庆市高院发布典型案例。")
    context.text.lines[0].furniture = "footer"
    assert [ref.name for ref in agencies.find(context)] == ["重庆市高级人民法院"]


def test_within():
    text = "四川省高院与重庆市高院签署协议。公安厅与重庆市公安局签署协议。"
    context = context_of(text)
    agencies.find(context)
    second = text.index("公安厅")
    assert [ref.name for ref in agencies.within(context, second, len(text))] == ["四川省公安厅", "重庆市公安局"]


def test_resolve_a_mention_found():
    text = "会议商定，2022年座谈会在江苏省召开，由江苏省委政法委承办。"
    context = context_of(text)
    agencies.find(context)
    start = text.index("江苏省委政法委")
    ref = agencies.resolve(context, "江苏省委政法委", start)
    assert (ref.name, ref.span) == ("中共江苏省委政法委员会", [start, start + 7])


def test_resolve_reads_words_alone_with_the_texts_context():
    text = "四川省高院与重庆市高院签署协议。\n公安厅"
    context = context_of(text)
    agencies.find(context)
    start = text.index("公安厅")
    context.agency_spans = []  # as if find() had not seen it
    ref = agencies.resolve(context, "公安厅", start)
    assert (ref.name, ref.confidence) == ("四川省公安厅", 0.6)


def test_resolve_unknown_words():
    context = context_of("由某某研究会承办")
    agencies.find(context)
    ref = agencies.resolve(context, "某某研究会", 1)
    assert (ref.agency_id, ref.text, ref.span) == (None, "某某研究会", [1, 6])
    assert ref.warnings == ["Not found in the directory"]


def test_warnings_are_translated():
    with translation.override("zh-hans"):
        found = mentions("4月23日，四川省高院签署协议。公安厅与重庆市公安局签署合作协议。")
    assert found[1][1] == "四川省公安厅"
    assert "四川省" in found[1][3][0]


# -- the seeds, through the pipeline --------------------------------------------------------------------------------


def draft_names(prefix: str) -> set[str]:
    return {ref.name for ref in analyse(seed_text(prefix)).agencies if ref.agency_id is not None}


def test_seed_000():
    draft = analyse(seed_text("000"))
    found = {ref.name: ref for ref in draft.agencies}
    assert {
        "四川省高级人民法院",
        "重庆市高级人民法院",
        "四川省公安厅",
        "重庆市公安局",
        "广安市人民检察院",
        "广元市人民检察院",
        "南充市人民检察院",
        "遂宁市人民检察院",
        "资阳市人民检察院",
        "重庆市人民检察院第一分院",
    } <= set(found)
    police = found["四川省公安厅"]
    assert police.text == "公安厅"
    assert police.warnings == ["Region taken from the context: 四川省"]
    assert found["重庆市公安局"].confidence == 1.0
    assert found["四川省高级人民法院"].circles == ["chengyu"]
    assert found["四川省高级人民法院"].region == "510000"
    # nothing from elsewhere in the country
    assert {ref.region[:2] for ref in draft.agencies if ref.agency_id} == {"51", "50"}


def test_seed_001():
    assert {
        "四川省司法厅",
        "重庆市司法局",
        "重庆市监狱管理局",
        "四川省监狱管理局",
        "重庆市戒毒管理局",
        "四川省戒毒管理局",
        "重庆市律师协会",
        "四川省律师协会",
        "重庆市公证协会",
        "四川省公证协会",
        "重庆市司法鉴定协会",
        "四川省司法鉴定协会",
    } <= draft_names("001")


def test_seed_002():
    draft = analyse(seed_text("002"))
    found = {ref.name for ref in draft.agencies}
    assert {
        "中共上海市委政法委员会",
        "中共江苏省委政法委员会",
        "中共浙江省委政法委员会",
        "中共安徽省委政法委员会",
    } <= found
    assert {ref.region[:2] for ref in draft.agencies if ref.agency_id} == {"31", "32", "33", "34"}
    spans = [ref.span for ref in draft.agencies]
    original = seed_text("002")
    assert all(original[start:end] == ref.text for (start, end), ref in zip(spans, draft.agencies, strict=True))


# -- generalised on other documents (tests/genres) ------------------------------------------------------------------


def test_a_counted_system_takes_the_regions_listed_before_it():
    text = "一年来，江苏、浙江、安徽、上海三省一市紧扣一体化。三省一市公安机关联合出台《区域警务协作行动计划》。"
    counted = [m for m in mentions(text) if m[0] == "三省一市公安机关"]
    assert [name for _w, name, _c, _warnings in counted] == [
        "江苏省公安厅",
        "浙江省公安厅",
        "安徽省公安厅",
        "上海市公安局",
    ]
    assert counted[0][3] == ["Regions taken from the context: 江苏省、浙江省、安徽省、上海市"]


def test_a_circle_with_a_count_names_the_system_of_each_region():
    found = mentions("长三角三省一市公安机关签署合作协议")
    assert [(written, name) for written, name, _c, _w in found] == [
        ("长三角三省一市公安机关", "上海市公安局"),
        ("长三角三省一市公安机关", "江苏省公安厅"),
        ("长三角三省一市公安机关", "浙江省公安厅"),
        ("长三角三省一市公安机关", "安徽省公安厅"),
    ]


def test_abbreviations_before_a_system_word():
    assert found_names("渝鄂湘三地检察机关签署协议") == ["重庆市人民检察院", "湖北省人民检察院", "湖南省人民检察院"]


def test_a_list_of_regions_before_等省_and_an_agency_word():
    assert found_names("江西省公安厅已与浙江、福建、广东等省公安厅建立联络员制度。") == [
        "江西省公安厅",
        "浙江省公安厅",
        "福建省公安厅",
        "广东省公安厅",
    ]


def test_a_placeholder_may_be_an_agency_the_sentence_names_when_not_listed_with_it():
    found = mentions("南昌市中级人民法院与南昌市人民检察院在市中院召开联席会议。")
    assert [(written, name) for written, name, _c, _w in found] == [
        ("南昌市中级人民法院", "南昌市中级人民法院"),
        ("南昌市人民检察院", "南昌市人民检察院"),
        ("市中院", "南昌市中级人民法院"),
    ]
    # listed with it, it is another one: "我省公安厅与贵州省公安厅" (see above) and here
    found = mentions("安徽省合肥市公安局、市中院与市检察院召开座谈会。")
    assert [name for _w, name, _c, _warnings in found] == ["合肥市公安局", "合肥市中级人民法院", "合肥市人民检察院"]


def test_a_city_placeholder_without_a_city_in_its_paragraph_takes_the_texts_city():
    text = "南昌市中级人民法院 南昌市人民检察院\n会议纪要\n会议商定，下一次会议由市检察院承办。\n"
    found = mentions(text)
    assert found[-1][:2] == ("市检察院", "南昌市人民检察院")
    assert found[-1][2] == 0.6


def test_a_quoted_name_is_no_agency():
    assert found_names("当事人可通过“广州微法院”小程序查询案件进度。") == []


def test_traditional_variants_opencc_leaves():
    context = context_of("廣東省高級人民法院與福建省高級人民法院在廣州擧行簽約儀式")
    assert context.text.simple == "广东省高级人民法院与福建省高级人民法院在广州举行签约仪式"
    assert [ref.name for ref in agencies.find(context)] == ["广东省高级人民法院", "福建省高级人民法院"]
