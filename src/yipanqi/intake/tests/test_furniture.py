"""Page furniture on the real seeds (a second copy of the article, a headline repeated between sections, a site
header) and each rule on small texts, simplified and traditional; the publication date read from a byline."""

from __future__ import annotations

import datetime

from yipanqi.intake import furniture
from yipanqi.intake.tests.conftest import seed_text
from yipanqi.intake.text import Text, prepare

PARAGRAPH = (
    "近日，四川省高级人民法院与重庆市高级人民法院签署知识产权司法保护交流合作协议，构建知识产权司法互联互通体系，"
    "共建知识产权双城保护圈。"
)
SECOND_PARAGRAPH = (
    "川渝检察机关将进一步建立政策、行动协同机制，统一跨区域犯罪案件法律适用、证据标准、刑事政策把握尺度。"
)


def marked(original: str) -> Text:
    text = prepare(original)
    furniture.mark(text)
    return text


def reasons(original: str) -> dict[str, str]:
    """Each line's text (as in ``Text.simple``) → its reason ("" for content); later copies under the same text
    overwrite earlier ones, so use ``lines_with`` for repeated lines."""
    return {line.text: line.furniture for line in marked(original).lines}


def lines_with(text: Text, fragment: str) -> list[str]:
    return [line.furniture for line in text.lines if fragment in line.text]


# --------------------------------------------------------------------------- the seeds


def test_seed_000_second_copy_and_footer_are_furniture_first_copy_is_content():
    text = marked(seed_text("000"))
    by_reason = {line.furniture for line in text.lines}
    assert {"duplicate", "byline", "share", "footer"} <= by_reason
    paragraphs = [line for line in text.lines if len(line.text) >= 50]
    half = len(paragraphs) // 2
    assert half >= 5
    first_copy, second_copy = paragraphs[:half], paragraphs[half:]
    assert all(line.is_content for line in first_copy)
    assert all(line.furniture == "duplicate" for line in second_copy)
    assert [line.text for line in first_copy] == [line.text for line in second_copy]
    # The title's first occurrence is content, its copy heading the second article is not.
    title = text.content()[0]
    assert "一盘棋" in title.text
    assert lines_with(text, title.text)[1:] and all(lines_with(text, title.text)[1:])
    # Everything after the last paragraph is furniture: byline, share row, site footer, map widget.
    tail = text.lines[text.lines.index(second_copy[-1]) + 1 :]
    assert len(tail) >= 8
    assert all(line.furniture for line in tail)
    assert {line.furniture for line in tail if line.text.startswith(("主办单位", "运行维护单位"))} == {"footer"}
    assert {line.furniture for line in tail if line.text in {"Baidu", "map"}} == {"footer"}
    # Above the article: the crawl date, the byline (date with time, source), the page tools.
    head = text.lines[: text.lines.index(first_copy[0])]
    assert head[0].furniture == "byline"  # "2020-08-14"
    assert [line.is_content for line in head].count(True) == 1  # only the title
    # The content is exactly the title and the first copy's paragraphs.
    assert text.content() == [title, *first_copy]


def test_seed_000_publication_date_from_byline():
    assert furniture.published_from_byline(seed_text("000")) == datetime.date(2020, 5, 14)
    assert furniture.published_from_byline(marked(seed_text("000"))) == datetime.date(2020, 5, 14)


def test_seed_001_repeated_headline_is_furniture_except_the_first():
    text = marked(seed_text("001"))
    title = text.lines[0]
    assert title.is_content
    copies = [line for line in text.lines[1:] if line.text == title.text]
    assert len(copies) >= 10
    assert {line.furniture for line in copies} == {"repeated"}
    # Nothing else in the body is furniture: the measure lists, headings and quotes stay content.
    others = [line for line in text.lines if line.furniture and line.text != title.text]
    assert [line.furniture for line in others] == ["byline"]  # the closing "来源: …" line
    assert others[0] is text.lines[-1]
    numbered = [line for line in text.lines if line.text[:2] in {"1.", "2.", "3."}]
    assert len(numbered) >= 20 and all(line.is_content for line in numbered)
    assert furniture.published_from_byline(text) is None  # its byline names no date


def test_seed_002_site_header_lines_are_furniture():
    text = marked(seed_text("002"))
    header = text.lines[:3]
    assert "长安网" in header[1].text
    assert header[2].text.startswith("网站首页")
    assert [line.furniture for line in header] == ["navigation"] * 3
    first_content = text.content()[0]
    assert len(first_content.text) > 100  # the article starts with its first paragraph
    # The body (paragraphs and section headings) is all content; only the page record at the end is furniture.
    body = text.lines[3 : text.lines.index(text.content()[-1]) + 1]
    assert all(line.is_content for line in body)
    assert len(body) > 40
    assert all(line.furniture for line in text.lines[text.lines.index(body[-1]) + 1 :])
    # "创建时间" is the page's record in the site's system, not a publication date.
    assert furniture.published_from_byline(text) is None


# --------------------------------------------------------------------------- vocabularies


def test_share_and_tool_rows():
    found = reasons(
        f"标题\n{PARAGRAPH}\n扫一扫在手机打开当前页\n分享到：微信 微博 QQ空间\n【字体：大 中 小】【打印】【关闭窗口】\n"
        f"• 播报\n{SECOND_PARAGRAPH}"
    )
    assert found["扫一扫在手机打开当前页"] == "share"
    assert found["分享到:微信 微博 QQ空间"] == "share"
    assert found["【字体:大 中 小】【打印】【关闭窗口】"] == "share"
    assert found["• 播报"] == "share"
    assert found[PARAGRAPH.replace("，", ",")] == ""
    assert found["标题"] == ""


def test_a_paragraph_mentioning_wechat_stays_content():
    sentence = "双方依托微信、微博和客户端发布典型案例，来源于两地法院的审判实践，并通过手机版页面方便群众查询。"
    found = reasons(f"标题\n{sentence}\n微信公众号“川渝政法”\n微信\n{PARAGRAPH}")
    assert found[sentence.replace("，", ",")] == ""
    assert found["微信公众号“川渝政法”"] == ""  # names an account: more than share buttons
    assert found["微信"] == "share"


def test_bylines():
    found = reasons(
        "标题\n2020年05月14日 07时57分\n来源：四川日报\n• 来源: 四川日报 作者：张三\n"
        "发布时间：2020-05-14 10:00  来源：四川长安网  浏览次数：1234\n"
        f"{PARAGRAPH}\n（记者 任鸿）\n本报记者 张三 李四\n责任编辑：张竞\n文/图 王五\n{SECOND_PARAGRAPH}"
    )
    for line in (
        "2020年05月14日 07时57分",
        "来源:四川日报",
        "• 来源: 四川日报 作者:张三",
        "发布时间:2020-05-14 10:00  来源:四川长安网  浏览次数:1234",
        "(记者 任鸿)",
        "本报记者 张三 李四",
        "责任编辑:张竞",
        "文/图 王五",
    ):
        assert found[line] == "byline", line


def test_byline_words_inside_sentences_are_content():
    lines = [
        "记者从省委政法委获悉，川渝政法系统互动升级。",
        "记者观察",
        "来源于群众的线索将及时移送。",
        "编辑出版典型案例汇编",
        "2020年4月23日",  # a signing date in the body, not a crawl date
        "时间：2020年9月23日",  # the meeting's time in minutes
        "地点：安徽合肥",
    ]
    found = reasons("标题\n" + PARAGRAPH + "\n" + "\n".join(lines) + "\n" + SECOND_PARAGRAPH)
    for line in lines:
        assert found[line.replace("，", ",").replace("：", ":")] == "", line


def test_lone_date_time_anywhere_and_crawl_date_only_at_the_top():
    text = marked(f"2020-08-14\n标题\n{PARAGRAPH}\n2020-05-14\n2020年5月14日 09:30\n{SECOND_PARAGRAPH}")
    assert [line.furniture for line in text.lines] == ["byline", "", "", "", "byline", ""]


def test_navigation_rows_and_site_name_above_them():
    found = reasons(
        "四川长安网\n中共四川省委政法委员会主办\n首页 > 新闻中心 > 政法要闻\n当前位置：首页 » 工作动态\n"
        f"川渝签署合作协议\n{PARAGRAPH}\n上一篇：川渝公安签署合作协议\n下一篇：长三角座谈会召开\n"
        f"网站地图 | 联系我们 | 网站声明\n{SECOND_PARAGRAPH}"
    )
    assert found["四川长安网"] == "navigation"
    assert found["中共四川省委政法委员会主办"] == "navigation"
    assert found["首页 > 新闻中心 > 政法要闻"] == "navigation"
    assert found["当前位置:首页 » 工作动态"] == "navigation"
    assert found["川渝签署合作协议"] == ""  # the title below the navigation
    assert found["上一篇:川渝公安签署合作协议"] == "navigation"
    assert found["下一篇:长三角座谈会召开"] == "navigation"
    assert found["网站地图 | 联系我们 | 网站声明"] == "navigation"


def test_site_menu_above_the_breadcrumb():
    menu = "\n".join(
        ["四川长安网", "首页", "新闻中心", "政法要闻", "平安四川", "法治四川", "政法队伍", "长安视频", "专题专栏"]
    )
    menu += "\n" + "\n".join(["政务公开", "网上信访", "举报中心", "图片新闻", "理论研究", "基层动态"])
    text = marked(f"{menu}\n当前位置:首页 > 政法要闻\n川渝签署合作协议\n{PARAGRAPH}\n{SECOND_PARAGRAPH}")
    assert len(text.lines) == 19
    assert all(line.furniture == "navigation" for line in text.lines[:16])
    assert all(line.is_content for line in text.lines[16:])


def test_short_lines_at_the_top_without_a_navigation_row_stay_content():
    found = reasons(f"川渝政法工作战略合作框架协议\n（2019年11月）\n{PARAGRAPH}")
    assert set(found.values()) == {""}


def test_site_footer_after_the_article():
    text = marked(
        f"标题\n{PARAGRAPH}\n{SECOND_PARAGRAPH}\n主办单位：四川省人民政府办公厅\n承办单位：四川省大数据中心\n"
        "版权所有 © 四川省人民政府 蜀ICP备05003828号-2\n川公网安备 51010402000507号\n网站标识码：5100000062\n"
        "建议使用1024×768分辨率浏览\nBaidu\nmap"
    )
    assert [line.furniture for line in text.lines[:3]] == ["", "", ""]
    assert all(line.furniture == "footer" for line in text.lines[3:])


def test_organiser_lines_inside_a_notice_are_content():
    notice = f"会议通知\n主办单位：四川省司法厅\n承办单位：成都市司法局\n{PARAGRAPH}\n{SECOND_PARAGRAPH}"
    assert all(line.is_content for line in marked(notice).lines)


def test_signature_block_after_the_last_paragraph_stays_content():
    agreement = f"合作协议\n{PARAGRAPH}\n{SECOND_PARAGRAPH}\n四川省高级人民法院\n重庆市高级人民法院\n2020年4月23日"
    assert all(line.is_content for line in marked(agreement).lines)


def test_page_numbers():
    found = reasons(f"标题\n{PARAGRAPH}\n— 1 —\n{SECOND_PARAGRAPH}\n第 2 页 共 3 页\n{PARAGRAPH}。")
    assert found["— 1 —"] == "footer"
    assert found["第 2 页 共 3 页"] == "footer"


# --------------------------------------------------------------------------- copies and repeats


def test_second_copy_of_a_run_is_duplicate():
    article = f"标题\n{PARAGRAPH}\n{SECOND_PARAGRAPH}"
    text = marked(f"{article}\n{article}")
    assert [line.furniture for line in text.lines] == ["", "", "", "duplicate", "duplicate", "duplicate"]


def test_single_long_paragraph_repeated_is_duplicate_short_ones_are_not():
    long_paragraph = PARAGRAPH + SECOND_PARAGRAPH  # over 100 characters
    text = marked(f"标题\n{long_paragraph}\n第二段内容。\n{long_paragraph}\n{PARAGRAPH}\n第三段内容。\n{PARAGRAPH}")
    assert [line.furniture for line in text.lines] == ["", "", "", "duplicate", "", "", ""]
    # Two short identical items under different headings are each section's content.
    lists = "监狱工作方面\n1.建立联席会议制度。\n2.加强信息共享。\n戒毒工作方面\n1.建立联席会议制度。\n2.加强信息共享。"
    text = marked(f"标题\n{PARAGRAPH}\n{lists}")
    assert all(line.is_content for line in text.lines)


def test_repeated_headline_keeps_the_title():
    headline = "川渝政法互动升级合作升温"
    text = marked(f"{headline}\n{PARAGRAPH}\n{headline}\n{SECOND_PARAGRAPH}\n{headline}\n第三段内容。")
    assert [line.furniture for line in text.lines] == ["", "", "repeated", "", "repeated", ""]


def test_line_seen_three_times_keeps_its_first_occurrence():
    banner = "法治护航成渝双城经济圈"
    text = marked(f"标题\n{banner}\n{PARAGRAPH}\n{banner}\n{SECOND_PARAGRAPH}\n{banner}")
    assert [line.furniture for line in text.lines] == ["", "", "", "repeated", "", "repeated"]
    # Seen twice only (and not the title): both are content.
    text = marked(f"标题\n{banner}\n{PARAGRAPH}\n{banner}\n{SECOND_PARAGRAPH}")
    assert all(line.is_content for line in text.lines)


# --------------------------------------------------------------------------- traditional input


def test_traditional_chinese_page():
    page = (
        "網站首頁 > 新聞中心\n川渝政法系統互動升級\n2020年05月14日 07時57分\n來源：四川日報\n【字體：大 中 小】\n"
        "近日，四川省高級人民法院與重慶市高級人民法院簽署知識產權司法保護交流合作協議，構建知識產權司法互聯互通體系。\n"
        "雙方通過微信、微博等平台聯合發布典型案例，統一裁判尺度，共同維護公平正義。\n"
        "責任編輯：張競\n掃一掃在手機打開當前頁\n分享到：微信 微博\n版權所有：四川省人民政府辦公廳\n"
    )
    text = marked(page)
    assert text.traditional
    assert [line.furniture for line in text.lines] == [
        "navigation",
        "",
        "byline",
        "byline",
        "share",
        "",
        "",
        "byline",
        "share",
        "share",
        "footer",
    ]
    assert furniture.published_from_byline(text) == datetime.date(2020, 5, 14)


# --------------------------------------------------------------------------- publication date


def test_published_from_byline_variants():
    published = furniture.published_from_byline
    assert published(f"标题\n发布时间：2021-03-05 10:20\n{PARAGRAPH}") == datetime.date(2021, 3, 5)
    assert published(f"标题\n发布日期：2021年3月5日\n{PARAGRAPH}") == datetime.date(2021, 3, 5)
    assert published(f"标题\n2021-03-05 10:20 来源：四川长安网\n{PARAGRAPH}") == datetime.date(2021, 3, 5)
    assert published(f"标题\n来源：四川长安网\n2021年03月05日 10时20分\n{PARAGRAPH}") == datetime.date(2021, 3, 5)
    # A lone date with a time but no byline next to it, a crawl date, a date inside the text: none of them.
    assert published(f"标题\n2021年03月05日 10时20分\n{PARAGRAPH}\n{SECOND_PARAGRAPH}") is None
    assert published(f"2020-08-14\n标题\n{PARAGRAPH}") is None
    assert published(f"标题\n{PARAGRAPH}2020年4月23日签署。") is None
    assert published(f"标题\n发布时间：2021-02-30\n{PARAGRAPH}") is None  # no such day


def test_mark_on_empty_text_does_nothing():
    text = prepare("")
    furniture.mark(text)
    assert text.lines == []
