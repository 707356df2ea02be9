"""Notifications: what a person should look at, shown under the bell and mailed once (docs/worker.md).

Services call :func:`notify` inside their transaction; the mails go out from the task worker after the commit.
Titles and bodies arrive already translated (the caller knows the recipients' language: zh-Hans by default).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django_tasks import task

from .models import Notification, code_validator
from .tasks import enqueue_on_commit

logger = logging.getLogger(__name__)

TITLE_MAX = Notification._meta.get_field("title").max_length
URL_MAX = Notification._meta.get_field("url").max_length
KIND_MAX = Notification._meta.get_field("kind").max_length
DEDUPE_KEY_MAX = Notification._meta.get_field("dedupe_key").max_length
# The bell counts up to this many unread notifications and then shows "99+".
UNREAD_COUNT_LIMIT = 100


def is_local_url(url: str) -> bool:
    """A path on this site (``/ledger/…``), never another host or a scheme like ``javascript:``."""
    return url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=None)


def _one_line(text: str, limit: int) -> str:
    text = re.sub(r"\s+", " ", str(text)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _people(recipients) -> list:
    """Distinct active users, in the given order; ``recipients`` holds users or user ids (None is skipped)."""
    from yipanqi.directory.models import User

    people: dict[int, object] = {}
    ids: list[int] = []
    for recipient in recipients:
        if recipient is None:
            continue
        if isinstance(recipient, int):
            ids.append(recipient)
            people.setdefault(recipient, None)
        else:
            people.setdefault(recipient.pk, recipient)
    if ids:
        fetched = User.objects.filter(pk__in=ids).only("id", "agency_id", "email", "is_active")
        for user in fetched:
            if people.get(user.pk) is None:
                people[user.pk] = user
    return [user for user in people.values() if user is not None and user.is_active]


def notify(
    recipients: Iterable,
    *,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    dedupe_key: str = "",
    email: bool = True,
) -> list[Notification]:
    """Notify each of ``recipients`` (users or user ids; inactive people are skipped) once; returns the new rows.

    ``kind`` is a short code (``ledger.overdue``); ``title`` and ``body`` are already translated; ``url`` is a local
    path (``reverse(...)``). A recipient who already has a notification with the same non-blank ``dedupe_key`` gets no
    new one. Must run inside the caller's ``transaction.atomic()``; with ``email`` the recipients who have an e-mail
    address are mailed by the worker after the commit.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("notify must run inside the service's transaction.atomic()")
    try:
        code_validator(kind)
    except ValidationError:
        raise ValueError(f"notification kind {kind!r}: use lower-case letters, digits and . _ -") from None
    if len(kind) > KIND_MAX or len(dedupe_key) > DEDUPE_KEY_MAX:
        raise ValueError("notification kind or dedupe_key is too long")
    if url and (not is_local_url(url) or len(url) > URL_MAX):
        raise ValueError(f"notification url {url!r} must be a local path (/…) of at most {URL_MAX} characters")
    title = _one_line(title, TITLE_MAX)  # also the mail subject: one line
    if not title:
        raise ValueError("a notification needs a title")

    people = _people(recipients)
    if dedupe_key and people:
        already = set(
            Notification.objects.filter(recipient__in=[p.pk for p in people], dedupe_key=dedupe_key).values_list(
                "recipient_id", flat=True
            )
        )
        people = [p for p in people if p.pk not in already]
    if not people:
        return []
    now = timezone.now()
    rows = [
        Notification(
            recipient=person,
            agency_id=person.agency_id,
            kind=kind,
            title=title,
            body=str(body),
            url=url,
            dedupe_key=dedupe_key,
            created_at=now,
        )
        for person in people
    ]
    try:
        with transaction.atomic():
            created = Notification.objects.bulk_create(rows)
    except IntegrityError:
        # Another transaction notified some of them under the same key in the meantime: insert one by one.
        created = []
        for row in rows:
            row.pk = None
            try:
                with transaction.atomic():
                    row.save(force_insert=True)
            except IntegrityError:
                continue
            created.append(row)
    if email:
        ids = [n.pk for n in created if n.recipient.email]
        if ids:
            enqueue_on_commit(send_notification_emails, ids)
    return created


def mark_read(*, acting_user, notification: Notification) -> bool:
    """Mark one of the acting person's notifications read; returns whether it was unread."""
    if notification.recipient_id != getattr(acting_user, "pk", None):
        raise PermissionError(_("This is not your notification."))
    now = timezone.now()
    changed = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
    if changed:
        notification.read_at = now
    return bool(changed)


def mark_all_read(*, acting_user) -> int:
    """Mark all the acting person's notifications read; returns how many were unread."""
    return Notification.objects.visible_to(acting_user).unread().update(read_at=timezone.now())


def unread_count(user) -> int:
    """Unread notifications of ``user``, counted up to UNREAD_COUNT_LIMIT (one query on a partial index)."""
    return Notification.objects.visible_to(user).unread().order_by()[:UNREAD_COUNT_LIMIT].count()


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _message(notification: Notification, connection) -> mail.EmailMessage:
    parts = [notification.body.strip()] if notification.body.strip() else []
    if notification.url:
        parts.append(_("Open it in yipanqi: %(url)s") % {"url": absolute_url(notification.url)})
    footer = _("yipanqi sent you this mail. All your notifications: %(url)s") % {
        "url": absolute_url(reverse("notifications"))
    }
    parts.append(f"-- \n{footer}")
    return mail.EmailMessage(
        subject=notification.title,
        body="\n\n".join(parts) + "\n",
        to=[notification.recipient.email],
        connection=connection,
        headers={"Auto-Submitted": "auto-generated"},
    )


@task()
def send_notification_emails(ids: list[int]) -> int:
    """Mail the notifications ``ids`` to their recipients; returns how many mails went out.

    Each notification is claimed (``emailed_at`` set) before it is sent, so a retry or a second worker never mails it
    twice; a failed send is unclaimed again and the task fails after trying the others, so it can be run again.
    """
    pending = list(
        Notification.objects.filter(pk__in=ids, emailed_at__isnull=True).select_related("recipient").order_by("pk")
    )
    pending = [n for n in pending if n.recipient.email and n.recipient.is_active]
    if not pending:
        return 0
    sent, failed = 0, []
    with translation.override(settings.LANGUAGE_CODE), mail.get_connection() as connection:
        for notification in pending:
            claimed = Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(
                emailed_at=timezone.now()
            )
            if not claimed:
                continue
            try:
                _message(notification, connection).send()
            except Exception:
                logger.exception("could not mail notification %s", notification.pk)
                Notification.objects.filter(pk=notification.pk).update(emailed_at=None)
                failed.append(notification.pk)
            else:
                sent += 1
    if failed:
        raise RuntimeError(f"could not mail notifications {failed} ({sent} sent); run the task again to retry them")
    return sent
