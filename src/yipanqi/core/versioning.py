"""Version counters for cached reads of slowly changing data (the directory, API keys).

Every audited write of an app whose reads are cached (``VERSIONED_APPS``) bumps its app's counter in the same
transaction (``record_event`` does it), so the new version becomes visible to other processes exactly when the
data does. Other apps' writes do not: the counter's row is locked until commit, and bumping it for every ledger
report or assistance request would make all writes of an app wait for each other for nothing.

Readers key their caches by the version; each process re-reads the counter at most every
``DATA_VERSION_TTL_SECONDS`` (default 1 s), and immediately after a write of its own. So a cached directory
page or API-key check is at most that old in another app server.
"""

from __future__ import annotations

import secrets
import threading
import time

from django.conf import settings

from .models import DataVersion

# The apps whose reads are keyed by their version: the working-day calendar (core) and the directory.
VERSIONED_APPS = frozenset({"core", "directory"})

_lock = threading.Lock()
_local: dict[str, tuple[int, float]] = {}  # key -> (version, monotonic time read)


def current_version(key: str) -> int:
    ttl = getattr(settings, "DATA_VERSION_TTL_SECONDS", 1.0)
    now = time.monotonic()
    cached = _local.get(key)
    if cached is not None and now - cached[1] < ttl:
        return cached[0]
    version = DataVersion.objects.filter(key=key).values_list("version", flat=True).first() or 0
    with _lock:
        _local[key] = (version, now)
    return version


def bump_if_versioned(key: str) -> None:
    """``bump_version`` for the apps in ``VERSIONED_APPS``; nothing for the others."""
    if key in VERSIONED_APPS:
        bump_version(key)


def bump_version(key: str) -> None:
    """Call inside the writing transaction: the new version commits (or rolls back) with the data.

    Versions are random, not counted up, so a number from a rolled-back write is never used again.
    """
    DataVersion.objects.update_or_create(key=key, defaults={"version": secrets.randbits(62)})
    forget_local_versions()


def forget_local_versions() -> None:
    with _lock:
        _local.clear()
