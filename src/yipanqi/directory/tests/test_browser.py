"""The web UI in a real headless browser: Debian's chromium driven by Playwright against a live server.

A 四川 court liaison opens the 成渝 circle, then a 重庆 agency from it, looks up a counterpart, switches the
interface to English and back; an outsider (黑龙江 police) gets a 404 for the same circle. Screenshots are kept
in ``test-artifacts/`` at the repository root.

Browser fixtures live here rather than in a conftest so they cannot clash with the shared ones. Playwright's
sync API runs an event loop in this thread, so every ORM call is made before the browser starts and the browser
is closed before pytest-django flushes the database.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPO_ROOT = Path(__file__).resolve().parents[4]
ARTIFACTS = REPO_ROOT / "test-artifacts"
PASSWORD = "yipanqi-demo"
TIMEOUT_MS = 15_000


def _require(condition: bool, message: str) -> None:
    """Missing system parts fail the run in CI and skip it on a developer's machine."""
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def demo():
    """The demo directory and cast (loaded once per session by the shared conftest; reloaded if flushed)."""
    from django.contrib.staticfiles import finders

    from yipanqi.directory.demo import load_demo
    from yipanqi.directory.models import Agency, Circle

    assert finders.find("vendor/htmx/htmx.min.js"), "front-end assets missing: run `make assets`"
    mo = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.mo"
    assert mo.exists(), "translations not compiled: run `make messages`"
    if not Circle.objects.filter(slug="chengyu").exists():
        load_demo()
    chengyu = Circle.objects.get(slug="chengyu")
    return {
        "chengyu_name": chengyu.name,
        "chengyu_path": f"/directory/circles/{chengyu.slug}/",
        "cq_court_pk": Agency.objects.get(name="重庆市高级人民法院").pk,
    }


@pytest.fixture
def browser(demo, live_server):
    _require(CHROMIUM.exists(), f"{CHROMIUM} is missing: install Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


def _new_page(browser, problems: list[str]):
    """A Chinese-speaking visitor's tab at desktop width; console errors and page errors are collected."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return page


def _sign_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label(re.compile("用户名|Username")).fill(username)
    page.get_by_label(re.compile("密码|Password")).fill(PASSWORD)
    page.get_by_role("button", name=re.compile("^(登录|Sign in)$")).click()
    page.wait_for_url(f"{base_url}/")


def _switch_language(page, language: str) -> None:
    page.locator("#language-switch").click()
    with page.expect_navigation():
        page.locator(f'button[name="language"][value="{language}"]').click()


def test_liaison_opens_circle_and_partner_agency_in_both_languages(browser, demo, live_server):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    base = live_server.url
    problems: list[str] = []
    page = _new_page(browser, problems)

    _sign_in(page, base, "sc_court")
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
    page = _new_page(browser, problems)

    _sign_in(page, base, "hlj_police")
    response = page.goto(f"{base}{demo['chengyu_path']}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="页面不存在", exact=True)).to_be_visible()
    expect(page.get_by_text(demo["chengyu_name"])).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "browser-outsider-404.png"))
    # The browser logs the 404 response itself; nothing else may go wrong.
    assert [p for p in problems if "404" not in p] == []
