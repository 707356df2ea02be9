"""The bell and the notification list in a real headless browser (Debian's chromium through Playwright).

The 四川 court liaison sees the unread count under the bell, opens the list, follows a notification to its page
(which marks it read), and marks the rest read; no console or CSP errors on the way.
"""

from __future__ import annotations

import re

import pytest
from django.db import transaction

from yipanqi.core.testing.browser import ARTIFACTS, ensure_demo, new_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo():
    from yipanqi.core.models import Notification
    from yipanqi.core.notifications import notify
    from yipanqi.directory.models import User

    ensure_demo()
    liaison = User.objects.get(username="sc_court")
    with transaction.atomic():
        (report,) = notify([liaison], kind="test.browser", title="浏览器测试：请报送举措进展", url="/ledger/my/")
        notify([liaison], kind="test.browser", title="浏览器测试：督办单已答复", body="重庆高院已答复。")
    return {"report": report.pk, "unread": Notification.objects.filter(recipient=liaison, read_at=None).count()}


def test_liaison_follows_a_notification_and_marks_the_rest_read(browser, demo, live_server):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    base = live_server.url
    problems: list[str] = []
    page = new_page(browser, problems)

    sign_in(page, base, "sc_court")
    badge = page.locator("#notifications-unread-count")
    expect(badge).to_have_text(str(demo["unread"]) if demo["unread"] < 100 else "99+")

    page.locator("#notifications-bell").click()
    page.wait_for_url(f"{base}/notifications/")
    item = page.locator(f'[data-notification="{demo["report"]}"]')
    expect(item).to_contain_text("浏览器测试：请报送举措进展")
    expect(item).to_have_class(re.compile(r"\byq-notification-unread\b"))
    expect(page.locator(".yq-notification-unread")).to_have_count(min(demo["unread"], 30))
    page.screenshot(path=str(ARTIFACTS / "browser-notifications-zh.png"), full_page=True)

    item.click()
    page.wait_for_url(f"{base}/ledger/my/")
    if demo["unread"] > 1:
        expect(badge).to_have_text(str(demo["unread"] - 1) if demo["unread"] <= 100 else "99+")

    page.goto(f"{base}/notifications/")
    expect(page.locator(f'[data-notification="{demo["report"]}"]')).not_to_have_class(
        re.compile(r"\byq-notification-unread\b")
    )
    page.locator("#notifications-read-all").click()
    page.wait_for_url(f"{base}/notifications/")
    expect(page.locator(".yq-notification-unread")).to_have_count(0)
    expect(badge).to_have_count(0)
    expect(page.locator("#notifications-read-all")).to_have_count(0)

    csp = [p for p in problems if "Content Security Policy" in p or "Content-Security-Policy" in p]
    assert not csp, csp
    assert not problems, problems
