"""Test set-up shared by every app: the national directory and the demo cast are loaded once per session.

The fixed cast (see DESIGN.md): ``owner`` is the 四川 court liaison (四川省高级人民法院), ``partner`` the 重庆 court
liaison (another region of the same circle, 成渝), ``outsider`` a 黑龙江 police liaison (no shared circle),
``anonymous`` nobody. ``coordinator`` coordinates 成渝; ``admin`` is a platform admin.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The directory demo, committed once; a snapshot of it puts it back after transactional tests flush it."""
    from yipanqi.core.testing import snapshot
    from yipanqi.directory.demo import load_demo

    with django_db_blocker.unblock():
        load_demo()
        snapshot.take()


@pytest.fixture(autouse=True)
def _directory_after_flush(request):
    """A transactional test starts from the database the session set up, as the first one would, even when an
    earlier one ended with a flush (which empties every table): the snapshot is put back in well under a second
    instead of loading the directory again (10–15 s)."""
    marker = request.node.get_closest_marker("django_db")
    transactional = {"transactional_db", "live_server"} & set(request.fixturenames) or (
        marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))
    )
    if not transactional:
        return
    request.getfixturevalue("transactional_db")
    from yipanqi.core.testing import snapshot
    from yipanqi.directory.models import Region

    if snapshot.available() and not Region.objects.exists():
        snapshot.restore()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploaded files (demo attachments, bulletins, minutes) go to the test's own folder, never to var/media."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(autouse=True)
def _fresh_caches(settings):
    """Database writes roll back after each test; cached reads must not outlive them.

    Every write in a test runs in this process, and a write forgets the versions this process read
    (``versioning.bump_version``), so the versions need no time limit here: with one, whether a request re-reads a
    version would depend on how long the previous one took, and query counts would vary from run to run."""
    from django.core.cache import cache

    from yipanqi.core.versioning import forget_local_versions

    settings.DATA_VERSION_TTL_SECONDS = 24 * 3600
    cache.clear()
    forget_local_versions()
    yield
    cache.clear()
    forget_local_versions()


def _user(username):
    from yipanqi.directory.models import User

    return User.objects.select_related("agency").get(username=username)


@pytest.fixture
def owner(db):
    return _user("sc_court")


@pytest.fixture
def partner(db):
    return _user("cq_court")


@pytest.fixture
def outsider(db):
    return _user("hlj_police")


@pytest.fixture
def coordinator(db):
    return _user("chengyu_coord")


@pytest.fixture
def admin_user(db):
    return _user("admin")


@pytest.fixture
def chengyu(db):
    from yipanqi.directory.models import Circle

    return Circle.objects.get(slug="chengyu")


@pytest.fixture
def api():
    """An API client factory: ``api(user)`` is signed in as that user, ``api(None)`` is anonymous."""

    def make(user=None):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user=None)
            client.force_login(user)
        return client

    return make


@pytest.fixture
def web(client):
    """A browser-like Django test client factory for pages."""
    from django.test import Client

    def make(user=None):
        c = Client()
        if user is not None:
            c.force_login(user)
        return c

    return make


@pytest.fixture
def demo():
    """What a browser test needs in the database; test modules override it to return what they look up."""
    from yipanqi.core.testing.browser import ensure_demo

    ensure_demo()


@pytest.fixture
def browser(demo, live_server):
    """Debian's chromium through Playwright (see yipanqi.core.testing.browser); missing chromium fails under CI=true.

    It depends on ``demo`` so that every ORM call is made before Playwright starts its event loop in this thread."""
    from yipanqi.core.testing.browser import CHROMIUM, CHROMIUM_ARGS, require

    require(CHROMIUM.exists(), f"{CHROMIUM} is missing: install Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()
