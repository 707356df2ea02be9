"""Dates, the event and the next meeting (extract/dates.py)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import translation

from yipanqi.intake import furniture
from yipanqi.intake.extract import agencies, dates
from yipanqi.intake.extract.dates import chinese_number, date_before, find_dates, resolve_date
from yipanqi.intake.pipeline import Context
from yipanqi.intake.tests.conftest import PUBLISHED, seed_text
from yipanqi.intake.text import prepare


def context_of(original: str, published: datetime.date | None = None, *, with_agencies: bool = False) -> Context:
    text = prepare(original)
    furniture.mark(text)
    context = Context(text=text, published=published)
    if with_agencies:
        context.index = agencies.AgencyIndex.current()
        context.agencies = agencies.find(context)
    return context


def seed_context(prefix: str, *, published: bool = True) -> Context:
    day = datetime.date.fromisoformat(PUBLISHED[prefix]) if published else None
    return context_of(seed_text(prefix), day, with_agencies=True)


D = datetime.date


# -- numbers and single expressions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("二十三", 23),
        ("十", 10),
        ("十二", 12),
        ("三十一", 31),
        ("二〇二〇", 2020),
        ("一百零五", 105),
        ("三万五千", 35000),
    ],
)
def test_chinese_number(written, value):
    assert chinese_number(written) == value


def test_chinese_number_rejects_other_text():
    assert chinese_number("") is None
    assert chinese_number("三个") is None


@pytest.mark.parametrize(
    ("written", "published", "expected"),
    [
        ("2020年9月23日", None, ("2020-09-23", "")),
        ("二〇二〇年九月二十三日", None, ("2020-09-23", "")),
        ("2020-09-23", None, ("2020-09-23", "")),
        ("2020年9月", None, ("2020-09", "")),
        ("2022年", None, ("2022", "")),
        ("2018年—2020年", None, ("2018", "2020")),
        ("9月23日", D(2020, 10, 9), ("2020-09-23", "")),
        ("九月二十三日", D(2020, 10, 9), ("2020-09-23", "")),
        # more than a month after publication: the year before
        ("12月28日", D(2021, 1, 5), ("2020-12-28", "")),
        # an announced date a few weeks ahead stays in the publication year
        ("10月20日", D(2020, 10, 9), ("2020-10-20", "")),
        ("6月17日—18日", D(2020, 6, 19), ("2020-06-17", "2020-06-18")),
        ("6月17—18日", D(2020, 6, 19), ("2020-06-17", "2020-06-18")),
        ("6月17日至18日", D(2020, 6, 19), ("2020-06-17", "2020-06-18")),
        ("6月17日-7月2日", D(2020, 7, 3), ("2020-06-17", "2020-07-02")),
        ("12月30日至1月2日", D(2021, 1, 5), ("2020-12-30", "2021-01-02")),
        ("去年11月", D(2020, 5, 14), ("2019-11", "")),
        ("今年4月", D(2020, 5, 14), ("2020-04", "")),
        ("今年4月23日", D(2020, 5, 14), ("2020-04-23", "")),
        ("明年", D(2020, 5, 14), ("2021", "")),
        ("上月", D(2020, 1, 10), ("2019-12", "")),
        ("上月15日", D(2020, 5, 14), ("2020-04-15", "")),
        ("昨天", D(2020, 5, 14), ("2020-05-13", "")),
        ("近日", D(2020, 5, 14), ("2020-05-14", "")),
        ("日前", D(2020, 5, 14), ("2020-05-14", "")),
        ("近期", D(2020, 5, 14), ("2020-05-14", "")),
    ],
)
def test_resolve_date(written, published, expected):
    assert resolve_date(written, published) == expected


@pytest.mark.parametrize("written", ["9月23日", "去年11月", "近日", "上月", "没有日期", "2月30日"])
def test_resolve_date_unresolved(written):
    assert resolve_date(written, None) is None


def test_resolve_date_rejects_impossible_dates():
    assert resolve_date("2021年2月29日") is None
    assert resolve_date("2020年2月29日") == ("2020-02-29", "")


# -- every date of a text ---------------------------------------------------------------------------------------


def test_find_dates_offsets_and_values():
    context = context_of("据悉，2020年9月23日，会议召开。\n次日，双方签署协议；去年11月曾有先例。", D(2020, 10, 9))
    mentions = find_dates(context)
    assert [m.text for m in mentions] == ["2020年9月23日", "次日", "去年11月"]
    for mention in mentions:
        assert context.text.simple[mention.start : mention.end] == mention.text
    assert [m.date for m in mentions] == ["2020-09-23", "2020-09-24", "2019-11"]
    assert [m.precision for m in mentions] == ["day", "day", "month"]
    assert mentions[0].explicit_year and mentions[0].confidence > mentions[2].confidence


def test_full_width_digits_are_folded_before_matching():
    context = context_of("２０２０年９月２３日，座谈会召开。")
    (mention,) = find_dates(context)
    assert mention.date == "2020-09-23"
    # the span is in the original text
    assert context.text.span(mention.start, mention.end) == [0, 10]


def test_vague_dates_take_the_publication_date_with_a_warning():
    context = context_of("近日，两地法院签署合作协议。", D(2020, 5, 14))
    (mention,) = find_dates(context)
    assert mention.vague and mention.date == "2020-05-14"
    assert mention.confidence <= 0.3
    assert mention.warnings


def test_without_publication_date_a_yearless_day_takes_the_nearest_written_year():
    with translation.override("en"):
        context = context_of("2020年8月20日，座谈会召开。\n9月23日，书记座谈会在安徽合肥召开。")
        mentions = find_dates(context)
    assert mentions[1].date == "2020-09-23"
    assert "2020" in mentions[1].warnings[0]
    assert mentions[1].confidence < mentions[0].confidence


def test_without_publication_date_or_written_year_the_day_stays_unresolved():
    with translation.override("en"):
        context = context_of("9月23日，书记座谈会在安徽合肥召开。去年11月签订协议。")
        mentions = find_dates(context)
    assert [m.date for m in mentions] == ["", ""]
    assert "no year" in mentions[0].warnings[0]
    assert "no publication date" in mentions[1].warnings[0]


def test_page_date_stands_in_for_the_publication_date():
    context = context_of("标题\n发布时间：2021-10-09 09:05\n9月23日，座谈会在安徽合肥召开。")
    assert dates.page_date(context) == D(2021, 10, 9)
    assert [m.date for m in find_dates(context) if m.text == "9月23日"] == ["2021-09-23"]
    assert dates.page_date(context_of("2020年05月14日 07时57分\n正文。")) == D(2020, 5, 14)
    assert dates.page_date(context_of("2020-08-14\n正文。")) is None  # a bare date is no stamp


def test_dates_inside_titles_are_marked_and_skipped_by_date_before():
    context = context_of("2019年11月，双方签订了《2020年—2022年合作规划》。", D(2020, 5, 14))
    mentions = find_dates(context)
    assert [(m.text, m.in_title) for m in mentions] == [("2019年11月", False), ("2020年—2022年", True)]
    title_end = context.text.simple.index("》")
    assert date_before(mentions, title_end).text == "2019年11月"
    assert date_before(mentions, 3) is None
    assert date_before(mentions, title_end, within=5) is None


def test_day_only_takes_the_month_of_the_previous_date():
    context = context_of("6月17日，考察组抵达重庆。18日上午，双方举行签约仪式。", D(2020, 6, 19))
    mentions = find_dates(context)
    assert [m.date for m in mentions] == ["2020-06-17", "2020-06-18"]


def test_durations_and_counts_are_not_dates():
    context = context_of("经过6个月的筹备，受理后7日内立案，共13年，节日前后加强值守。", D(2020, 6, 19))
    assert find_dates(context) == []


# -- the event --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "published", "kind", "day", "place"),
    [
        ("2021年3月5日，四川省高院与重庆市高院在成都签署《合作协议》。", D(2021, 3, 8), "签约", "2021-03-05", "成都"),
        ("9月23日，长三角地区党委政法委书记座谈会在安徽合肥召开。", D(2020, 10, 9), "会议", "2020-09-23", "安徽合肥"),
        ("5月10日，司法厅厅长带队赴重庆开展学习考察。", D(2020, 5, 12), "考察", "2020-05-10", "重庆"),
        ("6月1日，省委政法委印发《实施方案》。", D(2020, 6, 2), "发布", "2020-06-01", ""),
        ("10月8日，两地检察院召开联席会议，研究协作事项。", D(2020, 10, 9), "会议", "2020-10-08", ""),
    ],
)
def test_event_kinds(body, published, kind, day, place):
    event = dates.event(context_of(body, published))
    assert (event.kind, event.date, event.place) == (kind, day, place)
    assert event.date_text in body
    assert event.confidence > 0.5


def test_event_prefers_the_recent_report_to_background_and_announcements():
    body = (
        "2020年8月20日，总书记在安徽合肥主持召开座谈会。\n"
        "9月23日，书记座谈会在浙江杭州召开。\n"
        "双方还将于10月20日召开联席会议。"
    )
    event = dates.event(context_of(body, D(2021, 10, 9)))
    assert (event.kind, event.date, event.place) == ("会议", "2021-09-23", "浙江杭州")


def test_event_kind_follows_the_headline():
    body = "刘某带队赴重庆学习考察\n6月17日—18日，考察组赴重庆开展学习考察。\n6月18日，双方举行会议暨签约仪式。"
    event = dates.event(context_of(body, D(2020, 6, 19)))
    assert event.title == "刘某带队赴重庆学习考察"
    assert (event.kind, event.date, event.end_date, event.date_text) == (
        "考察",
        "2020-06-17",
        "2020-06-18",
        "6月17日—18日",
    )


def test_event_span_is_the_event_sentence_in_the_original():
    original = "標題行\n2020年6月18日，雙方在成都簽署合作協議。"
    context = context_of(original)
    event = dates.event(context)
    start, end = event.span
    assert original[start:end] == "2020年6月18日，雙方在成都簽署合作協議。"
    assert (event.kind, event.date, event.place) == ("签约", "2020-06-18", "成都")


def test_headline_skips_dates_bylines_and_site_names():
    context = context_of(
        "2020-08-14\n中共某某县委政法委员会\n某某长安网\n两地签署协议 携手共建\n正文第一段，内容很长。"
    )
    assert dates.headline(context)[0] == "两地签署协议 携手共建"
    assert dates.headline(context_of("2020年5月1日，双方签署协议。")) is None


def test_event_without_date_or_kind_says_so():
    with translation.override("en"):
        context = context_of("两地政法部门加强合作，共同维护公平正义。")
        event = dates.event(context)
    assert event.kind == "" and event.date == ""
    assert any("No date" in warning for warning in event.warnings)
    assert any("not recognised" in warning.message for warning in context.warnings)


def test_event_with_unresolved_date_keeps_the_text_and_warns():
    context = context_of("5月10日，司法厅厅长带队赴重庆开展学习考察。")
    event = dates.event(context)
    assert (event.kind, event.date, event.date_text) == ("考察", "", "5月10日")
    assert event.warnings and event.confidence < 0.5


# -- the next meeting -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_next_meeting_with_year_place_and_host():
    body = "9月23日，座谈会召开。\n会议商定，2022年长三角地区座谈会在江苏省召开，由江苏省委政法委承办。"
    context = context_of(body, D(2021, 10, 9), with_agencies=True)
    meeting = dates.event(context).next_meeting
    assert (meeting.year, meeting.place) == (2022, "江苏省")
    assert meeting.host.text == "江苏省委政法委"
    assert context.text.simple[slice(*meeting.span)].startswith("会议商定")


@pytest.mark.django_db
def test_next_meeting_named_as_the_next_session():
    context = context_of("下一次会议由重庆市司法局承办。", D(2020, 6, 19), with_agencies=True)
    meeting = dates.next_meeting(context)
    assert meeting.host.text == "重庆市司法局"
    assert meeting.year is None


@pytest.mark.django_db
def test_next_meeting_by_rotation_next_year():
    context = context_of("明年的联席会议轮值方为四川省公安厅。", D(2020, 6, 19), with_agencies=True)
    meeting = dates.next_meeting(context)
    assert meeting.year == 2021
    assert meeting.host.text == "四川省公安厅"


@pytest.mark.django_db
def test_next_meeting_host_named_before_the_rotation():
    context = context_of("会议确定四川省公安厅为下一届轮值单位。", D(2020, 6, 19), with_agencies=True)
    meeting = dates.next_meeting(context)
    assert meeting.host.text == "四川省公安厅"
    start, end = meeting.host.span
    assert context.text.original[start:end] == "四川省公安厅"


@pytest.mark.django_db
def test_past_hosting_is_no_next_meeting():
    body = "安徽高院自2012年加入以来，先后在黄山、合肥承办三届工作会议。四地高院每年轮值举办司法论坛。"
    assert dates.next_meeting(context_of(body, D(2021, 10, 9), with_agencies=True)) is None


# -- the seeds --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_seed_000_last_november_and_the_signing():
    context = seed_context("000")
    mentions = find_dates(context)
    last_november = [m for m in mentions if m.text == "去年11月"]
    assert last_november and last_november[0].date == "2019-11"
    assert {m.date for m in mentions if m.text in ("4月23日", "4月28日")} == {"2020-04-23", "2020-04-28"}
    event = dates.event(context)
    assert event.kind == "签约"
    assert event.date == "2020-04-23"


@pytest.mark.django_db
def test_seed_001_visit_over_two_days_in_chongqing():
    event = dates.event(seed_context("001"))
    assert (event.date, event.end_date) == ("2020-06-17", "2020-06-18")
    assert event.date_text == "6月17日—18日"
    assert event.kind == "考察"
    assert event.place == "重庆"
    assert "学习考察" in event.title


@pytest.mark.django_db
def test_seed_002_meeting_and_next_host():
    context = seed_context("002")
    event = dates.event(context)
    assert (event.kind, event.place) == ("会议", "安徽合肥")
    assert event.date.endswith("-09-23")
    meeting = event.next_meeting
    assert meeting is not None and meeting.year == 2022
    assert "江苏" in meeting.place
    assert meeting.host is not None and "江苏" in meeting.host.text and "政法委" in meeting.host.text
    if meeting.host.agency_id:
        assert meeting.host.name == "中共江苏省委政法委员会"


@pytest.mark.django_db
def test_seed_002_without_publication_date_uses_the_page_stamp():
    with translation.override("en"):
        context = seed_context("002", published=False)
        event = dates.event(context)
    assert event.date == "2021-09-23"
    assert any("2021-10-09" in warning.message for warning in context.warnings)


# -- generalised on other documents (tests/genres) ------------------------------------------------------------------


def test_a_span_of_months_is_no_date():
    text = "1至8月，全市法院审结刑事案件3126件；1—8月同比上升。9月26日召开会议。"
    found = find_dates(context_of(text, D(2023, 9, 28)))
    assert [(mention.text, mention.date) for mention in found] == [("9月26日", "2023-09-26")]


def test_a_news_dateline_before_the_date_counts_as_the_lead():
    body = (
        "【大公报讯】记者李思远广州报道：11月3日，两省高院在广州举行签约仪式，签署《框架协议》。"
        "同日，两地中院签订了《合作备忘录》。"
    )
    event = dates.event(context_of(body, D(2023, 11, 4)))
    assert (event.kind, event.date, event.date_text, event.place) == ("签约", "2023-11-03", "11月3日", "广州")


def test_会签_is_a_signing_and_its_place_is_read():
    event = dates.event(context_of("两省检察院于7月18日在长沙会签《关于建立协作机制的意见》。", D(2023, 7, 20)))
    assert (event.kind, event.date, event.place) == ("签约", "2023-07-18", "长沙")


def test_a_visit_to_several_places():
    event = dates.event(context_of("9月12日至13日，考察组赴浙江省杭州市、绍兴市考察交流。", D(2023, 9, 15)))
    assert (event.kind, event.end_date, event.place) == ("考察", "2023-09-13", "浙江省杭州市、绍兴市")


def test_traditional_variants_opencc_leaves_read_as_simplified():
    event = dates.event(context_of("11月3日，兩院在廣州擧行簽約儀式。", D(2023, 11, 4)))
    assert (event.kind, event.place) == ("签约", "广州")


@pytest.mark.django_db
def test_headline_skips_a_line_of_issuing_agencies():
    context = context_of(
        "南昌市中级人民法院 南昌市人民检察院\n2023年第二次法检联席会议纪要\n2023年9月26日，两院召开联席会议。\n",
        with_agencies=True,
    )
    assert dates.headline(context)[0] == "2023年第二次法检联席会议纪要"
