"""Page furniture: the lines of a web page or document that are not the article, flagged so extractors skip them.

``mark(text)`` sets ``line.furniture`` to a short reason on the lines of ``text`` (a prepared ``Text``: NFKC-folded
and simplified, so traditional input and full-width punctuation match the same vocabularies):

- "navigation": breadcrumbs and menus (网站首页, 当前位置, 上一篇 / 下一篇, 网站地图 …), and the site's name lines
  above the first navigation row;
- "share": share buttons and page tools (扫一扫在手机打开当前页, 分享到, 微信, 微博, 客户端, 头条号, 手机版,
  【字体:大 中 小】, 播报, 打印, 关闭窗口 …);
- "byline": 来源:, 责任编辑:, 作者:, 发布时间: and the like, "(记者 某某)" on its own line, a lone date with a time
  ("2020年05月14日 07时57分"), a lone numeric date at the very top (a crawl date);
- "footer": site footers (主办单位 / 承办单位 / 运行维护单位 after the article, 版权所有, ICP备, 联系我们, page numbers,
  "Baidu" / "map"), and every short line after the article once the footer has begun;
- "duplicate": a run of lines that repeats an earlier run (a second copy of the article);
- "repeated": a headline repeated between sections (the title's later copies; any other line seen 3+ times keeps
  its first occurrence).

A line is furniture only when it consists of such items: a sentence that mentions 微信 or 来源 inside a paragraph is
content. Bullet markers ("•", "➤" …) at the start of a line are ignored when matching.

``published_from_byline(text)`` reads the publication date from the byline ("2020年05月14日 07时57分" next to
"来源: …", or "发布时间: 2020-05-14") for when no publication date is given.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict

from .text import Line, Text, prepare

NAVIGATION = "navigation"
SHARE = "share"
BYLINE = "byline"
FOOTER = "footer"
DUPLICATE = "duplicate"
REPEATED = "repeated"

# Lines longer than this are never navigation / share / footer rows, whatever words they contain.
MAX_FURNITURE_LENGTH = 100
# A line at least this long, or one holding a full stop, is a paragraph of the article.
PARAGRAPH_LENGTH = 50
# Lines above a navigation row (the site's name, its menu) within this many lines of the top, before the article's
# first paragraph, are navigation.
HEADER_LINES = 60
# A run of lines repeating an earlier run is a second copy when it has at least this many lines and characters, or
# at least DUPLICATE_MIN_CHARACTERS on its own.
DUPLICATE_MIN_LINES = 2
DUPLICATE_MIN_RUN_CHARACTERS = 40
DUPLICATE_MIN_CHARACTERS = 100
# A line (other than the title) seen this many times is a repeated banner: its later copies are furniture.
REPEATED_MIN_COUNT = 3
REPEATED_MIN_LENGTH = 4

_BULLET = re.compile(r"^[\s•·●○◦◆◇■□▪▫►▶▸▹➤➢➣➔→✍✎✓✔★☆※]+")
_SENTENCE_END = re.compile(r"[。!?]")
_BLANKS = re.compile(r"\s+")

# Items a navigation / share / footer row consists of (matched on the bullet-stripped line, in simplified form).
_SHARE_ITEMS = (
    r"扫一扫(?:在?手机上?(?:打开|阅读|浏览)(?:当前页|本页|此页|文章)?)?",
    r"在?手机上?(?:打开|阅读|浏览)(?:当前页|本页|此页)",
    r"(?:手机)?扫(?:描)?(?:二维码|码)(?:阅读|分享|关注|打开)?",
    r"分享(?:到|至)?:?",
    r"(?:微信|QQ|qq)(?:好友|朋友圈|空间|公众号|扫一扫)?",
    r"(?:新浪|腾讯)?微博",
    r"朋友圈|人人网|豆瓣|客户端|头条号|抖音号?|快手号?|百家号|企鹅号|视频号|学习强国|今日头条",
    r"收藏(?:本页)?|复制(?:链接|网址)|二维码|手机版|电脑版|移动版|手机阅读|无障碍(?:阅读|浏览)?|长者模式|关怀版",
    r"字[体号]\s*:?(?:\s*[大中小](?![\u4e00-\u9fff]))*",
    r"(?:语音)?播报|朗读|听新闻|打印(?:本页|此页|文章)?|关闭(?:窗口|本页|此页)?|返回顶部|我要纠错|纠错|保存本页",
)
_NAVIGATION_ITEMS = (
    r"网站首页|返回首页|首页",
    r"(?:您(?:现在)?的?(?:当前)?|当前|所在)(?:所在)?位置\s*:?",
    r"网站地图|站点地图|高级检索|搜索|登录|注册|English|ENGLISH|繁体版?|简体版?",
    r"返回(?:列表|上一页)?|更多(?:>>|»)?",
    r"相关(?:链接|阅读|新闻|文章|稿件|推荐)\s*:?",
)
_FOOTER_ITEMS = (
    r"Baidu|map|百度地图",
    r"版权所有\s*:?|Copyright|All\s+Rights\s+Reserved|©",
    r"\S{0,6}ICP[备证]\S*|\S{0,6}公网安备\S*|网站标识码\s*:?\s*\w*",
    r"联系我们|关于我们|网站声明|免责声明|隐私(?:声明|政策)|使用帮助|网站纠错",
)
_ITEMS = re.compile(
    "|".join(
        f"(?P<{name}>{'|'.join(items)})"
        for name, items in ((SHARE, _SHARE_ITEMS), (NAVIGATION, _NAVIGATION_ITEMS), (FOOTER, _FOOTER_ITEMS))
    )
)
_ITEM_SEPARATORS = re.compile(r"[\s|/\\<>«»·•,、;\[\]()【】〔〕「」『』\-—–_=+*#]+")

# A row of a breadcrumb / menu: starts with the home link or "you are here".
_NAVIGATION_ROW = re.compile(
    r"^(?:网站首页|首页|返回首页|(?:您(?:现在)?的?(?:当前)?|当前|所在)(?:所在)?位置)(?:\s|:|>|»|/|\||$)"
)
_PREVIOUS_NEXT = re.compile(r"^[\[【(]?(?:上|下)一(?:篇|条|页|则)\s*[:\]】)]")

# Labels that start a byline line: "来源: 某某日报", "责任编辑: 张三", "发布时间:2020-05-14 10:00".
_DATE = r"(?P<year>\d{4})\s*[-/.年]\s*(?P<month>\d{1,2})\s*[-/.月]\s*(?P<day>\d{1,2})\s*日?"
_TIME = r"\d{1,2}\s*[:时]\s*\d{1,2}(?:\s*[:分](?:\s*\d{1,2}\s*秒?)?)?"
_WEEKDAY = r"(?:星期|周|礼拜)[一二三四五六日天]"
_BYLINE_LABELS = (
    r"责任编辑|责编|编辑|主编|审核|审校|审稿|校对|终审|初审|复审|签发|作者|记者|通讯员|撰稿|撰文|供稿|摄影|摄像"
    r"|图片|图|文|来源|信息来源|稿件来源|文章来源|新闻来源|转载自?|出处"
    r"|发布(?:时间|日期|者|人|机构|单位)|发表(?:时间|日期)|发稿(?:时间|日期)|发文(?:时间|日期)|刊发时间"
    r"|创建时间|更新时间|修改时间|录入(?:者|人)?|浏览(?:次数|量)|阅读(?:次数|量)|点击(?:数|量|次数|率)|访问(?:量|次数)"
)
_BYLINE_ROW = re.compile(
    rf"^(?:{_DATE}\s*(?:{_WEEKDAY})?\s*(?:{_TIME})?\s*)?[\[【(]?(?:{_BYLINE_LABELS})\s*[:]"
    r"|^(?:文|图|文字|摄影)(?:/(?:文|图))?\s*/"
)
_NAME = r"[\u4e00-\u9fff·]{2,4}"
_REPORTER_ROLE = r"(?:本报|本台|本网|新华社|中新社)?(?:特约|见习|实习|全媒体)?(?:记者|通讯员|实习生)"
_REPORTERS = rf"{_NAME}(?:[\s、,]+(?:{_REPORTER_ROLE}\s*)?{_NAME})*"
# "(记者 王五)", "(记者王五)", "本报记者 张三 李四" on a line of their own (a name without a space only in brackets).
_REPORTER = re.compile(rf"^[(\[【]{_REPORTER_ROLE}\s*{_REPORTERS}[)\]】]$|^{_REPORTER_ROLE}\s+{_REPORTERS}$")
_LONE_DATE_TIME = re.compile(rf"^{_DATE}\s*(?:{_WEEKDAY})?\s*{_TIME}$")
_LONE_NUMERIC_DATE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}$")
_LONE_DATE_WEEKDAY = re.compile(rf"^{_DATE}\s*{_WEEKDAY}$")
# Footer labels that are also words of a notice (a meeting's "主办单位: …"): furniture after the article only.
_FOOTER_LABEL = re.compile(
    r"^(?:主办|承办|协办|主管|运行维护|运维|维护|技术支持|建设)(?:单位)?\s*:|^(?:地址|邮编|联系电话|电话|传真|E-?mail)\s*:"
    r"|^(?:主办|承办|运行维护|技术支持)(?:单位)?\s*[\u4e00-\u9fff]",
    re.I,
)
_PAGE_NUMBER = re.compile(
    r"^(?:[-—–]\s*\d{1,4}\s*[-—–]|第\s*\d{1,4}\s*页(?:\s*[,/]?\s*共\s*\d{1,4}\s*页)?|共\s*\d{1,4}\s*页)$"
)


def mark(text: Text) -> None:
    """Set ``line.furniture`` (the reason) on every line of ``text`` that is not content."""
    lines = text.lines
    if not lines:
        return
    stripped = [_strip_bullets(line.text) for line in lines]
    for line, body in zip(lines, stripped, strict=True):
        line.furniture = _vocabulary_reason(body)
    _mark_top(lines, stripped)
    _mark_tail(lines, stripped)
    _mark_duplicates(lines, stripped)
    _mark_repeated(lines, stripped)


def _strip_bullets(line: str) -> str:
    return _BULLET.sub("", line).strip()


def _key(body: str) -> str:
    return _BLANKS.sub("", body)


def _is_paragraph(body: str) -> bool:
    return len(body) >= PARAGRAPH_LENGTH or bool(_SENTENCE_END.search(body))


def _vocabulary_reason(body: str) -> str:
    """The reason a line is furniture judged by itself (what it consists of), or ""."""
    if not body:
        return ""
    if _LONE_DATE_TIME.match(body):
        return BYLINE
    if len(body) > MAX_FURNITURE_LENGTH:
        return ""
    sentence = bool(_SENTENCE_END.search(body))
    if not sentence and (_BYLINE_ROW.match(body) or _REPORTER.match(body)):
        return BYLINE
    if _PREVIOUS_NEXT.match(body):
        return NAVIGATION
    if not sentence and _NAVIGATION_ROW.match(body):
        return NAVIGATION
    if _PAGE_NUMBER.match(body):
        return FOOTER
    return _items_reason(body)


def _items_reason(body: str) -> str:
    """The reason when ``body`` consists only of navigation / share / footer items and separators, else ""."""
    reasons: list[str] = []

    def record(match: re.Match) -> str:
        reasons.append(match.lastgroup or "")
        return " "

    remainder = _ITEMS.sub(record, body)
    if reasons and not _ITEM_SEPARATORS.sub("", remainder):
        return reasons[0]
    return ""


def _mark_top(lines: list[Line], stripped: list[str]) -> None:
    """The site's name and menu above its navigation row (breadcrumb), and a lone crawl date above the title."""
    anchor = None
    for index, body in enumerate(stripped[:HEADER_LINES]):
        if _is_paragraph(body):
            break
        if lines[index].furniture == NAVIGATION and _NAVIGATION_ROW.match(body):
            anchor = index  # the last one above the article: the breadcrumb, below the menu
    if anchor is not None:
        for above in lines[:anchor]:
            if not above.furniture:
                above.furniture = NAVIGATION
    for index, body in enumerate(stripped[:3]):
        if lines[index].furniture:
            continue
        if _LONE_NUMERIC_DATE.match(body) or _LONE_DATE_WEEKDAY.match(body):
            lines[index].furniture = BYLINE
            continue
        break  # the title: what follows is the article


def _mark_tail(lines: list[Line], stripped: list[str]) -> None:
    """After the article's last paragraph: site footer labels, and once the footer has begun, every line."""
    last_paragraph = max((index for index, body in enumerate(stripped) if _is_paragraph(body)), default=None)
    if last_paragraph is None:
        return
    footer_started = False
    for line, body in zip(lines[last_paragraph + 1 :], stripped[last_paragraph + 1 :], strict=True):
        if not line.furniture and _FOOTER_LABEL.match(body):
            line.furniture = FOOTER
        if line.furniture:
            footer_started = True
        elif footer_started:
            line.furniture = FOOTER


def _mark_duplicates(lines: list[Line], stripped: list[str]) -> None:
    """A run of content lines identical to an earlier run (a second copy of the article) is "duplicate"."""
    indices = [index for index, line in enumerate(lines) if line.is_content]
    keys = [_key(stripped[index]) for index in indices]
    seen: dict[str, list[int]] = defaultdict(list)
    position = 0
    while position < len(keys):
        best = 0
        for earlier in seen.get(keys[position], ())[-50:]:
            length = 0
            while (
                position + length < len(keys)
                and earlier + length < position
                and keys[earlier + length] == keys[position + length]
            ):
                length += 1
            best = max(best, length)
        characters = sum(len(key) for key in keys[position : position + best])
        is_copy = (best >= DUPLICATE_MIN_LINES and characters >= DUPLICATE_MIN_RUN_CHARACTERS) or (
            best >= 1 and characters >= DUPLICATE_MIN_CHARACTERS
        )
        step = best if is_copy else 1
        for offset in range(step):
            seen[keys[position + offset]].append(position + offset)
            if is_copy:
                lines[indices[position + offset]].furniture = DUPLICATE
        position += step


def _mark_repeated(lines: list[Line], stripped: list[str]) -> None:
    """The title's later copies, and later copies of any line seen REPEATED_MIN_COUNT times, are "repeated"."""
    content = [index for index, line in enumerate(lines) if line.is_content]
    if not content:
        return
    occurrences: dict[str, list[int]] = defaultdict(list)
    for index in content:
        occurrences[_key(stripped[index])].append(index)
    title_key = _key(stripped[content[0]])
    for key, found in occurrences.items():
        if len(key) < REPEATED_MIN_LENGTH:
            continue
        if (key == title_key and len(found) >= 2) or len(found) >= REPEATED_MIN_COUNT:
            for index in found[1:]:
                lines[index].furniture = REPEATED


# --------------------------------------------------------------------------- publication date

_PUBLISHED_LABEL = re.compile(rf"(?:发布|发表|发稿|发文|刊发)(?:时间|日期)\s*:\s*{_DATE}")
_LEADING_DATE = re.compile(rf"^{_DATE}\s*(?:{_WEEKDAY})?\s*(?:{_TIME})?")
_SOURCE_LABEL = re.compile(r"(?:^|\s)[\[【(]?(?:来源|信息来源|稿件来源|文章来源|作者|责任编辑|编辑|记者)\s*:")
# How many lines around a lone date-time line to look for "来源:" and the like.
BYLINE_NEIGHBOURHOOD = 2


def published_from_byline(text: Text | str) -> datetime.date | None:
    """The publication date the byline gives: "发布时间: 2020-05-14", or a date (with a time) on the line of or next to
    "来源: …" / "作者: …" / "责任编辑: …". ``None`` when there is no such byline (a "创建时间" alone is the page's
    record in the site's system, not the publication date)."""
    if isinstance(text, str):
        text = prepare(text)
    bodies = [_strip_bullets(line.text) for line in text.lines]
    for index, body in enumerate(bodies):
        if len(body) > MAX_FURNITURE_LENGTH:
            continue
        labelled = _PUBLISHED_LABEL.search(body)
        if labelled:
            found = _date(labelled)
            if found:
                return found
        leading = _LEADING_DATE.match(body)
        if not leading:
            continue
        rest = body[leading.end() :]
        if rest.strip():
            near = bool(_SOURCE_LABEL.search(" " + rest))
        else:
            neighbours = bodies[max(0, index - BYLINE_NEIGHBOURHOOD) : index + BYLINE_NEIGHBOURHOOD + 1]
            near = bool(_LONE_DATE_TIME.match(body)) and any(_SOURCE_LABEL.search(other) for other in neighbours)
        if near:
            found = _date(leading)
            if found:
                return found
    return None


def _date(match: re.Match) -> datetime.date | None:
    try:
        found = datetime.date(int(match.group("year")), int(match.group("month")), int(match.group("day")))
    except ValueError:
        return None
    return found if 1949 <= found.year <= 2100 else None
