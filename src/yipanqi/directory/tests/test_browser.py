"""The web UI in a real headless browser: Debian's chromium driven by Playwright against a live server.

A 四川 court liaison opens the 成渝 circle, then a 重庆 agency from it, looks up a counterpart, switches the
interface to English and back; an outsider (黑龙江 police) gets a 404 for the same circle. Screenshots are kept
in ``test-artifacts/`` at the repository root.

The browser fixture and helpers are shared with the other browser tests (yipanqi.core.testing.browser).
"""

from __future__ import annotations

import re

import pytest

from yipanqi.core.testing.browser import ARTIFACTS, ensure_demo, new_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo():
    from yipanqi.directory.models import Agency, Circle

    ensure_demo()
    chengyu = Circle.objects.get(slug="chengyu")
    return {
        "chengyu_name": chengyu.name,
        "chengyu_path": f"/directory/circles/{chengyu.slug}/",
        "cq_court_pk": Agency.objects.get(name="重庆市高级人民法院").pk,
    }


def _switch_language(page, language: str) -> None:
    page.locator("#language-switch").click()
    with page.expect_navigation():
        page.locator(f'button[name="language"][value="{language}"]').click()


def test_liaison_opens_circle_and_partner_agency_in_both_languages(browser, demo, live_server):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    base = live_server.url
    problems: list[str] = []
    page = new_page(browser, problems)

    sign_in(page, base, "sc_court")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", name="我的协作区")).to_be_visible()
    page.locator("[data-chart-ready]").first.wait_for()  # ECharts drew from json_script data (CSP-safe)

    # The 成渝 circle from the dashboard, then a 重庆 agency from the circle's board.
    page.get_by_role("link", name=re.compile(demo["chengyu_name"])).first.click()
    page.wait_for_url(f"{base}{demo['chengyu_path']}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(demo["chengyu_name"])
    expect(page.get_by_role("heading", name="成员单位（按地区）")).to_be_visible()
    page.locator("#circle-board").get_by_role("link", name="重庆市高级人民法院", exact=True).click()
    page.wait_for_url(f"{base}/directory/agencies/{demo['cq_court_pk']}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("重庆市高级人民法院")
    expect(page.locator(".breadcrumb")).to_contain_text("重庆市")

    # The counterpart of 重庆高院 in 四川 is 四川高院, ranked first.
    page.get_by_label("目标区划（名称或代码）").fill("四川省")
    page.get_by_role("button", name="查找", exact=True).click()
    first = page.locator("#counterpart-results tbody tr").first
    expect(first).to_contain_text("四川省高级人民法院")
    expect(first).to_contain_text("同级")
    page.screenshot(path=str(ARTIFACTS / "browser-agency-zh.png"), full_page=True)

    # English and back: the interface text changes language both ways, the data stays Chinese.
    nav = page.get_by_role("navigation", name=re.compile("主菜单|Main menu"))
    expect(nav.get_by_role("link", name="工作台")).to_be_visible()
    _switch_language(page, "en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(nav.get_by_role("link", name="Dashboard")).to_be_visible()
    expect(page.get_by_role("heading", name="Find the counterpart in another region")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("重庆市高级人民法院")
    page.screenshot(path=str(ARTIFACTS / "browser-agency-en.png"), full_page=True)
    _switch_language(page, "zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(nav.get_by_role("link", name="工作台")).to_be_visible()
    expect(page.get_by_role("heading", name="查找其他地区的对口单位")).to_be_visible()
    expect(page.get_by_text("Find the counterpart in another region")).to_have_count(0)

    # The region tree opens a level with htmx.
    page.goto(f"{base}/directory/regions/")
    page.locator("summary", has_text="重庆市").click()
    expect(page.get_by_role("link", name="渝中区")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "browser-regions-zh.png"))

    csp = [p for p in problems if "Content Security Policy" in p or "Content-Security-Policy" in p]
    assert not csp, csp
    assert not problems, problems


def test_outsider_gets_404_for_the_circle(browser, demo, live_server):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    base = live_server.url
    problems: list[str] = []
    page = new_page(browser, problems)

    sign_in(page, base, "hlj_police")
    response = page.goto(f"{base}{demo['chengyu_path']}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="页面不存在", exact=True)).to_be_visible()
    expect(page.get_by_text(demo["chengyu_name"])).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "browser-outsider-404.png"))
    # The browser logs the 404 response itself; nothing else may go wrong.
    assert [p for p in problems if "404" not in p] == []
