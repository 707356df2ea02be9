"""Login: argon2 hashes, throttled failures, CSRF, security headers."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "yipanqi-demo"


def test_passwords_are_argon2(owner):
    assert owner.password.startswith("argon2")


def test_login_and_logout(owner):
    client = Client()
    response = client.post(reverse("login"), {"username": "sc_court", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    assert client.get(reverse("dashboard")).status_code == 200
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("dashboard")).status_code == 302


def test_failed_logins_are_throttled(owner, settings):
    client = Client(REMOTE_ADDR="10.9.8.7")
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(reverse("login"), {"username": "sc_court", "password": "wrong"})
        assert response.status_code == 200
    assert client.post(reverse("login"), {"username": "sc_court", "password": "wrong"}).status_code == 429
    locked = client.post(reverse("login"), {"username": "sc_court", "password": PASSWORD})
    assert locked.status_code == 429  # even the right password, until the cool-off ends
    assert client.get(reverse("dashboard")).status_code == 302  # not signed in


def test_login_requires_csrf_token(owner):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "sc_court", "password": PASSWORD})
    assert response.status_code == 403


def test_security_headers(web, owner):
    response = web(owner).get(reverse("dashboard"))
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_chinese_by_default_english_on_request(web, owner):
    zh = web(owner).get(reverse("directory:circles"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert zh["Content-Language"] == "zh-hans"  # a browser's language does not override the Chinese default
    client = web(owner)
    client.post(reverse("set_language"), {"language": "en", "next": reverse("directory:circles")})
    assert client.get(reverse("directory:circles"))["Content-Language"] == "en"
