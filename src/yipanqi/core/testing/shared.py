"""Data written once for several tests: loading a demo takes seconds to tens of seconds, reading it takes milliseconds.

``shared_writes`` opens a transaction that outlives one test (a module- or class-scoped fixture holds it): what the
fixture writes in it is seen by each test, whose own transaction pytest-django nests in it as a savepoint (so what a
test writes is still rolled back after that test), and it is rolled back when the fixture ends. Only for tests that run
inside a transaction (``django_db`` without ``transaction=True``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


@contextmanager
def shared_writes(django_db_blocker, media_root, load: Callable[[], T]) -> Iterator[T]:
    """Runs ``load()`` in a transaction kept open (its files go to ``media_root``); yields what it returned, then
    rolls everything back."""
    from django.db import transaction
    from django.test import override_settings

    with override_settings(MEDIA_ROOT=str(media_root)):
        with django_db_blocker.unblock():
            outer = transaction.atomic()
            outer.__enter__()
            try:
                result = load()
            except BaseException:
                transaction.set_rollback(True)
                outer.__exit__(None, None, None)
                raise
        try:
            yield result
        finally:
            with django_db_blocker.unblock():
                transaction.set_rollback(True)
                outer.__exit__(None, None, None)
