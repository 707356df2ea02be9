"""Strict environment parsing: a bad value stops start-up with a message naming the variable."""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a boolean; use one of: {', '.join(sorted(_TRUE | _FALSE - {''}))}"
    )


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum {minimum}")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name}={value} is above the maximum {maximum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = os.environ.get(name, default).strip()
    if raw not in choices:
        raise ImproperlyConfigured(f"{name}={raw!r} must be one of: {', '.join(choices)}")
    return raw


def env_url(name: str, default: str, *, schemes: tuple[str, ...] = ("http", "https")) -> str:
    """An absolute URL with one of ``schemes`` and a host, without a trailing slash."""
    raw = os.environ.get(name, default).strip()
    parts = urlsplit(raw)
    if parts.scheme not in schemes or not parts.netloc or parts.query or parts.fragment:
        raise ImproperlyConfigured(
            f"{name}={raw!r} must be an absolute URL like {schemes[-1]}://yipanqi.example.cn (no query or fragment)"
        )
    return raw.rstrip("/")


_TIME_OF_DAY = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


def env_time(name: str, default: str) -> str:
    """A time of day as ``HH:MM`` (24-hour clock), normalised to two-digit hours."""
    raw = os.environ.get(name, default).strip()
    match = _TIME_OF_DAY.fullmatch(raw)
    if not match:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a time of day; use HH:MM on the 24-hour clock, e.g. 07:00")
    return f"{int(match[1]):02d}:{match[2]}"
