"""Shared pieces of the browser tests: Debian's chromium driven by Playwright against pytest-django's live server.

Playwright's sync API runs an event loop in the test's thread, so tests make every ORM call before the browser starts
and close the browser before pytest-django flushes the database (the ``browser`` fixture in the root conftest does).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

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
TIMEOUT_MS = 15_000


def require(condition: bool, message: str) -> None:
    """Missing system parts fail the run in CI and skip it on a developer's machine."""
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def ensure_demo() -> None:
    """Built assets, compiled translations and the demo cast (put back if a transactional test flushed it: from the
    session's snapshot, see yipanqi.core.testing.snapshot, or loaded again without one)."""
    from django.contrib.staticfiles import finders

    from yipanqi.core.testing import snapshot
    from yipanqi.directory.demo import load_demo
    from yipanqi.directory.models import Circle, Region

    assert finders.find("vendor/htmx/htmx.min.js"), "front-end assets missing: run `make assets`"
    mo = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.mo"
    assert mo.exists(), "translations not compiled: run `make messages`"
    if snapshot.available() and not Region.objects.exists():
        snapshot.restore()
    if not Circle.objects.filter(slug="chengyu").exists():
        load_demo()


def new_page(browser, problems: list[str], width: int = 1280):
    """A Chinese-speaking visitor's tab; console errors and page errors are collected into ``problems``."""
    context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return page


def sign_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label(re.compile("用户名|Username")).fill(username)
    from yipanqi.directory.demo import DEMO_PASSWORD

    page.get_by_label(re.compile("密码|Password")).fill(DEMO_PASSWORD)
    page.get_by_role("button", name=re.compile("^(登录|Sign in)$")).click()
    page.wait_for_url(f"{base_url}/")
