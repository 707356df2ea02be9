"""Notifications: notify() and its de-duplication, the mail task (also through the real worker), the pages, the API.

Cast (see the root conftest): ``owner`` (四川高院 liaison) receives; ``partner`` (重庆高院) is another person who must
neither see nor mark the owner's notifications; anonymous visitors are sent to the login.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from yipanqi.core.context_processors import notifications as notifications_context
from yipanqi.core.models import Notification
from yipanqi.core.notifications import mark_all_read, notify, send_notification_emails
from yipanqi.core.testing.worker import run_worker
from yipanqi.directory.models import User

SEND_TASK = "yipanqi.core.notifications.send_notification_emails"


def _notify(*recipients, **kwargs) -> list[Notification]:
    kwargs.setdefault("kind", "test.ping")
    kwargs.setdefault("title", "测试通知")
    with transaction.atomic():
        return notify(recipients, **kwargs)


def _with_email(user, address=None):
    user.email = address or f"{user.username}@example.cn"
    User.objects.filter(pk=user.pk).update(email=user.email)
    return user


# --- notify() -----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_notify_writes_one_row_per_person_with_their_agency(owner, partner):
    created = _notify(
        owner, partner, owner, partner.pk, None, title="督办提醒", body="请于三个工作日内答复。", url="/ledger/"
    )
    assert sorted(n.recipient_id for n in created) == sorted([owner.pk, partner.pk])
    row = Notification.objects.get(recipient=owner)
    assert (row.agency_id, row.kind, row.title, row.body, row.url) == (
        owner.agency_id,
        "test.ping",
        "督办提醒",
        "请于三个工作日内答复。",
        "/ledger/",
    )
    assert row.read_at is None and row.emailed_at is None
    assert Notification.objects.get(recipient=partner).agency_id == partner.agency_id


@pytest.mark.django_db
def test_dedupe_key_gives_each_person_one_notification(owner, partner):
    key = "ledger.overdue:measure-1:2026-11-20"
    assert len(_notify(owner, dedupe_key=key)) == 1
    again = _notify(owner, partner, dedupe_key=key)
    assert [n.recipient_id for n in again] == [partner.pk]
    assert _notify(owner, partner, dedupe_key=key) == []
    assert Notification.objects.filter(dedupe_key=key).count() == 2
    # A blank key never de-duplicates.
    _notify(owner)
    _notify(owner)
    assert Notification.objects.filter(recipient=owner, dedupe_key="").count() == 2


@pytest.mark.django_db
def test_the_database_enforces_the_dedupe_key(owner):
    Notification.objects.create(recipient=owner, kind="test.ping", title="一", dedupe_key="k")
    Notification.objects.create(recipient=owner, kind="test.ping", title="二")
    Notification.objects.create(recipient=owner, kind="test.ping", title="三")  # blank keys may repeat
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(recipient=owner, kind="test.ping", title="四", dedupe_key="k")


@pytest.mark.django_db
def test_inactive_people_are_not_notified(owner, partner):
    User.objects.filter(pk=partner.pk).update(is_active=False)
    created = _notify(owner.pk, partner.pk)
    assert [n.recipient_id for n in created] == [owner.pk]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"url": "https://evil.example/phish"}, "local path"),
        ({"url": "//evil.example/phish"}, "local path"),
        ({"url": "javascript:alert(1)"}, "local path"),
        ({"url": "ledger/"}, "local path"),
        ({"kind": "Ledger Overdue"}, "kind"),
        ({"title": "  \n "}, "title"),
    ],
)
def test_notify_refuses_bad_input_and_writes_nothing(owner, kwargs, message):
    with pytest.raises(ValueError, match=message):
        _notify(owner, **kwargs)
    assert not Notification.objects.filter(recipient=owner).exists()


@pytest.mark.django_db
def test_title_is_one_line_and_fits(owner):
    (created,) = _notify(owner, title="关于\n举措  进展\t的通报" + "长" * 300)
    assert "\n" not in created.title and "\t" not in created.title
    assert created.title.startswith("关于 举措 进展 的通报")
    assert len(created.title) == 200 and created.title.endswith("…")


# --- mail: queued on commit, sent once ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_mail_is_queued_after_the_commit_for_people_with_an_address(owner, partner, django_capture_on_commit_callbacks):
    _with_email(owner)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        created = _notify(owner, partner)
        assert not DBTaskResult.objects.filter(task_path=SEND_TASK).exists()  # not before the commit
    assert len(callbacks) == 1
    callbacks[0]()
    task_row = DBTaskResult.objects.get(task_path=SEND_TASK)
    owners_row = next(n for n in created if n.recipient_id == owner.pk)
    assert task_row.args_kwargs == {"args": [[owners_row.pk]], "kwargs": {}}
    assert task_row.status == TaskResultStatus.READY


@pytest.mark.django_db
def test_nothing_is_queued_without_addresses_or_when_mail_is_off(owner, partner, django_capture_on_commit_callbacks):
    _with_email(owner)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _notify(partner)  # no address
        _notify(owner, email=False)
    assert callbacks == []


@pytest.mark.django_db
def test_rolled_back_notify_queues_nothing(owner, django_capture_on_commit_callbacks):
    _with_email(owner)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notify([owner], kind="test.ping", title="回滚")
        raise RuntimeError("the service failed later")
    assert callbacks == []
    assert not Notification.objects.filter(title="回滚").exists()


@pytest.mark.django_db
def test_mail_task_sends_once_with_an_absolute_link(owner, partner, mailoutbox, settings):
    settings.SITE_URL = "https://yipanqi.example.cn"
    _with_email(owner, "liaison@court.sc.example.cn")
    created = _notify(owner, partner, title="举措即将到期", body="第三项举措将于 11 月 30 日到期。", url="/ledger/my/")
    ids = [n.pk for n in created]
    assert send_notification_emails.call(ids) == 1  # the partner has no address
    (message,) = mailoutbox
    assert message.subject == "举措即将到期"
    assert message.to == ["liaison@court.sc.example.cn"]
    assert "第三项举措将于 11 月 30 日到期。" in message.body
    assert "https://yipanqi.example.cn/ledger/my/" in message.body
    assert "https://yipanqi.example.cn/notifications/" in message.body
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"
    emailed = Notification.objects.get(recipient=owner)
    assert emailed.emailed_at is not None
    assert Notification.objects.get(recipient=partner).emailed_at is None
    # A retry (or a second worker) mails nobody twice.
    assert send_notification_emails.call(ids) == 0
    assert len(mailoutbox) == 1
    assert Notification.objects.get(recipient=owner).emailed_at == emailed.emailed_at


class BouncingBackend(LocmemBackend):
    """Django's test mail backend, refusing one address: a mail server that rejects a recipient."""

    def send_messages(self, messages):
        if any("bounce" in address for m in messages for address in m.to):
            raise OSError("550 mailbox unavailable")
        return super().send_messages(messages)


@pytest.mark.django_db
def test_failed_mail_is_left_for_a_retry_and_the_others_go_out(owner, partner, mailoutbox, settings):
    settings.EMAIL_BACKEND = f"{__name__}.BouncingBackend"
    _with_email(owner)
    _with_email(partner, "bounce@example.cn")
    ids = [n.pk for n in _notify(owner, partner)]
    with pytest.raises(RuntimeError, match="could not mail"):
        send_notification_emails.call(ids)
    assert [m.to for m in mailoutbox] == [[owner.email]]
    assert Notification.objects.get(recipient=owner).emailed_at is not None
    assert Notification.objects.get(recipient=partner).emailed_at is None  # retried by the next run
    _with_email(partner)
    assert send_notification_emails.call(ids) == 1
    assert len(mailoutbox) == 2


# --- the pages ----------------------------------------------------------------------------------------------------


def _items(html: str) -> list[str]:
    return re.findall(r'data-notification="(\d+)"', html)


@pytest.mark.django_db
def test_list_shows_own_notifications_newest_first_unread_highlighted(web, owner, partner):
    (first,) = _notify(owner, title="第一条通知")
    (second,) = _notify(owner, title="第二条通知")
    (foreign,) = _notify(partner, title="别人的通知")
    Notification.objects.filter(pk=first.pk).update(read_at=first.created_at)
    response = web(owner).get(reverse("notifications"))
    assert response.status_code == 200
    html = response.content.decode()
    assert _items(html) == [str(second.pk), str(first.pk)]
    assert "别人的通知" not in html and str(foreign.pk) not in _items(html)
    assert html.count("yq-notification-unread") == 1
    assert 'id="notifications-read-all"' in html
    assert re.search(r'id="notifications-unread-count">\s*1\s*<', html)  # the bell
    unread_only = web(owner).get(reverse("notifications"), {"show": "unread"}).content.decode()
    assert _items(unread_only) == [str(second.pk)]


@pytest.mark.django_db
def test_list_is_paginated_and_its_queries_do_not_grow(web, owner):
    client = web(owner)
    _notify(owner)
    client.get(reverse("notifications"))  # warm up: session, translations
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("notifications"))
    for i in range(40):
        _notify(owner, title=f"通知{i}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("notifications"))
    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(_items(response.content.decode())) == 30
    assert re.search(r'id="notifications-unread-count">\s*41\s*<', response.content.decode())
    second = client.get(reverse("notifications"), {"page": 2}).content.decode()
    assert len(_items(second)) == 11


@pytest.mark.django_db
def test_bell_counts_unread_in_one_query_and_caps_at_99_plus(rf, owner, partner, django_assert_num_queries):
    for i in range(3):
        _notify(owner, title=f"通知{i}")
    _notify(partner)
    request = rf.get("/")
    request.user = owner
    context = notifications_context(request)
    with django_assert_num_queries(1):
        assert context["nav_unread_notifications"]() == 3
    request.user = AnonymousUser()
    with django_assert_num_queries(0):
        assert notifications_context(request) == {}
    Notification.objects.bulk_create(
        [Notification(recipient=owner, kind="test.ping", title=f"批量{i}") for i in range(120)]
    )
    with django_assert_num_queries(1):
        assert context["nav_unread_notifications"]() == 100
    html = _page(owner)
    assert re.search(r'id="notifications-unread-count">\s*99\+\s*<', html)


def _page(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.get(reverse("audit-list")).content.decode()


@pytest.mark.django_db
def test_no_badge_without_unread(web, owner):
    html = web(owner).get(reverse("audit-list")).content.decode()
    assert 'id="notifications-bell"' in html
    assert 'id="notifications-unread-count"' not in html


@pytest.mark.django_db
def test_opening_marks_read_and_goes_to_the_local_page(web, owner):
    (notification,) = _notify(owner, url="/ledger/my/?tab=overdue")
    client = web(owner)
    response = client.get(reverse("notification-open", args=[notification.pk]))
    assert response.status_code == 302 and response["Location"] == "/ledger/my/?tab=overdue"
    notification.refresh_from_db()
    read_at = notification.read_at
    assert read_at is not None
    response = client.post(reverse("notification-open", args=[notification.pk]))  # POST works too; stays read
    assert response.status_code == 302
    notification.refresh_from_db()
    assert notification.read_at == read_at


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["https://evil.example/x", "//evil.example/x", "javascript:alert(1)", "/\\evil.example", ""]
)
def test_opening_never_leaves_the_site(web, owner, url):
    notification = Notification.objects.create(recipient=owner, kind="test.ping", title="外链", url=url)
    response = web(owner).get(reverse("notification-open", args=[notification.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("notifications")
    notification.refresh_from_db()
    assert notification.read_at is not None


@pytest.mark.django_db
def test_someone_elses_notification_is_404_and_stays_unread(web, owner, partner, admin_user):
    (notification,) = _notify(owner, url="/ledger/")
    url = reverse("notification-open", args=[notification.pk])
    assert web(partner).get(url).status_code == 404
    assert web(partner).post(url).status_code == 404
    assert web(admin_user).get(url).status_code == 404  # personal: platform admins included
    assert str(notification.pk) not in _items(web(partner).get(reverse("notifications")).content.decode())
    notification.refresh_from_db()
    assert notification.read_at is None


@pytest.mark.django_db
def test_mark_all_read_touches_only_ones_own(web, owner, partner):
    _notify(owner)
    _notify(owner)
    (others,) = _notify(partner)
    client = web(owner)
    assert client.get(reverse("notifications-read-all")).status_code == 405
    response = client.post(reverse("notifications-read-all"))
    assert response.status_code == 302 and response["Location"] == reverse("notifications")
    assert not Notification.objects.filter(recipient=owner, read_at__isnull=True).exists()
    others.refresh_from_db()
    assert others.read_at is None
    html = client.get(reverse("notifications")).content.decode()
    assert 'id="notifications-read-all"' not in html and 'id="notifications-unread-count"' not in html


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_the_login(client, owner):
    (notification,) = _notify(owner)
    for method, url in [
        ("get", reverse("notifications")),
        ("post", reverse("notifications-read-all")),
        ("get", reverse("notification-open", args=[notification.pk])),
    ]:
        response = getattr(client, method)(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")
    notification.refresh_from_db()
    assert notification.read_at is None


@pytest.mark.django_db
def test_admin_shows_notifications_read_only(web, admin_user, owner):
    (notification,) = _notify(owner)
    client = web(admin_user)
    assert client.get(reverse("admin:core_notification_changelist")).status_code == 200
    assert client.get(reverse("admin:core_notification_change", args=[notification.pk])).status_code == 200
    assert client.get(reverse("admin:core_notification_add")).status_code == 403
    assert client.get(reverse("admin:core_dailyjobrun_changelist")).status_code == 200


# --- the API ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_lists_own_notifications_and_filters_unread(api, owner, partner):
    (first,) = _notify(owner, title="一", url="/ledger/")
    (second,) = _notify(owner, title="二")
    _notify(partner, title="别人的")
    Notification.objects.filter(pk=first.pk).update(read_at=first.created_at)
    client = api(owner)
    body = client.get("/api/v1/notifications/").json()
    assert body["count"] == 2
    assert [n["id"] for n in body["results"]] == [second.pk, first.pk]
    assert body["results"][1]["url"] == "/ledger/" and body["results"][1]["is_read"] is True
    assert body["results"][1]["agency_id"] == owner.agency_id
    assert [n["id"] for n in client.get("/api/v1/notifications/?unread=true").json()["results"]] == [second.pk]
    assert [n["id"] for n in client.get("/api/v1/notifications/?unread=false").json()["results"]] == [first.pk]
    assert client.get("/api/v1/notifications/?page_size=1").json()["next"]


@pytest.mark.django_db
def test_api_marks_read(api, owner, partner):
    (mine,) = _notify(owner)
    _notify(owner)
    (others,) = _notify(partner)
    client = api(owner)
    response = client.post(f"/api/v1/notifications/{mine.pk}/read/")
    assert response.status_code == 200 and response.json()["is_read"] is True
    assert client.post(f"/api/v1/notifications/{mine.pk}/read/").status_code == 200  # again: unchanged
    assert client.post("/api/v1/notifications/read-all/").json() == {"marked": 1}
    assert client.post("/api/v1/notifications/read-all/").json() == {"marked": 0}
    others.refresh_from_db()
    assert others.read_at is None


@pytest.mark.django_db
def test_api_someone_elses_notification_is_404(api, owner, partner, admin_user):
    (notification,) = _notify(owner)
    for user in (partner, admin_user):
        client = api(user)
        assert client.get(f"/api/v1/notifications/{notification.pk}/").status_code == 404
        assert client.post(f"/api/v1/notifications/{notification.pk}/read/").status_code == 404
        assert client.get("/api/v1/notifications/").json()["count"] == 0
    notification.refresh_from_db()
    assert notification.read_at is None


@pytest.mark.django_db
def test_api_refuses_anonymous_and_api_keys(api, owner):
    from yipanqi.directory.services import issue_api_key

    (notification,) = _notify(owner)
    anonymous = api(None)
    assert anonymous.get("/api/v1/notifications/").status_code == 401
    assert anonymous.post("/api/v1/notifications/read-all/").status_code == 401
    with transaction.atomic():
        token = issue_api_key(acting_user=owner, agency=owner.agency, name="审判系统", scopes=["directory:read"]).token
    system = api(None)
    system.credentials(HTTP_AUTHORIZATION=f"Api-Key {token}")
    assert system.get("/api/v1/notifications/").status_code == 403  # a system is no person
    assert system.post(f"/api/v1/notifications/{notification.pk}/read/").status_code == 403
    assert system.post("/api/v1/notifications/read-all/").status_code == 403
    # The queryset itself agrees: no person, no notifications.
    assert not Notification.objects.visible_to(None).exists()


@pytest.mark.django_db
def test_mark_all_read_service_counts(owner):
    _notify(owner)
    _notify(owner)
    assert mark_all_read(acting_user=owner) == 2
    assert mark_all_read(acting_user=owner) == 0


# --- the real worker (transactional: runs after the tests above, brings its own people, leaves the database empty) --


def _person(username: str, email: str = "") -> User:
    return User.objects.create(username=username, email=email, full_name=username)


@pytest.mark.django_db(transaction=True)
def test_notify_demands_a_transaction():
    person = _person("notify_no_tx")
    with pytest.raises(RuntimeError, match="transaction"):
        notify([person], kind="test.ping", title="无事务")
    assert not Notification.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_worker_mails_notifications_after_the_commit(mailoutbox, settings):
    settings.SITE_URL = "https://yipanqi.example.cn"
    reader = _person("notify_worker_reader", "reader@example.cn")
    no_address = _person("notify_worker_no_address")
    with transaction.atomic():
        created = notify([reader, no_address], kind="test.ping", title="委托执行函待签收", url="/ledger/")
        assert not DBTaskResult.objects.exists()  # nothing for the worker before the commit
    task_row = DBTaskResult.objects.get(task_path=SEND_TASK)
    assert mailoutbox == []

    run_worker()

    task_row.refresh_from_db()
    assert task_row.status == TaskResultStatus.SUCCESSFUL, task_row.traceback
    assert task_row.return_value == 1
    (message,) = mail.outbox
    assert message.subject == "委托执行函待签收" and message.to == ["reader@example.cn"]
    assert "https://yipanqi.example.cn/ledger/" in message.body
    rows = {n.recipient_id: n for n in Notification.objects.filter(pk__in=[n.pk for n in created])}
    assert rows[reader.pk].emailed_at is not None
    assert rows[no_address.pk].emailed_at is None

    # Run again (a retry of the same task): nobody is mailed twice.
    send_notification_emails.enqueue([n.pk for n in created])
    run_worker()
    assert len(mail.outbox) == 1
    assert DBTaskResult.objects.filter(status=TaskResultStatus.SUCCESSFUL).count() == 2


@pytest.mark.django_db(transaction=True)
def test_rolled_back_notify_gives_the_worker_nothing(mailoutbox):
    reader = _person("notify_rollback_reader", "reader@example.cn")
    with pytest.raises(RuntimeError), transaction.atomic():
        notify([reader], kind="test.ping", title="回滚的通知")
        raise RuntimeError("the service failed later")
    assert not DBTaskResult.objects.exists()
    run_worker()
    assert mailoutbox == []
    assert not Notification.objects.exists()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL; SQLite serialises them"
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_notify_with_one_key_keeps_one_per_person():
    """B checks for the key while A's insert is not yet committed, so B's insert collides: B still adds the person
    A did not notify, and nobody gets two."""
    import threading
    import time

    from django.db import connections

    first, second = _person("race_first"), _person("race_second")
    inserted = threading.Event()
    results, errors = {}, []

    def a():
        try:
            with transaction.atomic():
                results["a"] = notify([first], kind="test.race", title="甲", dedupe_key="race")
                inserted.set()
                time.sleep(0.5)  # B checks and inserts meanwhile, and waits on our row
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def b():
        try:
            inserted.wait(10)
            with transaction.atomic():
                results["b"] = notify([first, second], kind="test.race", title="乙", dedupe_key="race")
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert [n.recipient_id for n in results["a"]] == [first.pk]
    assert [n.recipient_id for n in results["b"]] == [second.pk]
    assert sorted(Notification.objects.filter(dedupe_key="race").values_list("recipient_id", "title")) == sorted(
        [(first.pk, "甲"), (second.pk, "乙")]
    )
