"""Bulletin pages (定期通报): ordering one on the page, the worker preparing it, reading and downloading it, schedules.

Cast (see src/yipanqi/conftest.py): ``coordinator`` = 成渝 coordination office, ``owner`` = 四川高院 liaison (a
signatory of the ``agreement`` fixture), ``outsider`` = 黑龙江 police liaison, anonymous. Real documents are rendered
twice in this module (weasyprint takes a second or more): once by ``bulletins.render_now`` (what the worker task
runs) and once by the real worker in the transactional test at the end.
"""

from __future__ import annotations

import datetime
import io
import re
from unittest import mock

import docx
import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from yipanqi.core.testing.worker import run_worker
from yipanqi.directory.models import Circle, User
from yipanqi.ledger import bulletins
from yipanqi.ledger.models import Bulletin, BulletinSchedule, BulletinStatus

pytestmark = pytest.mark.django_db

RENDER_TASK = "yipanqi.ledger.bulletins.render_bulletin"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MARCH = (datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))
POLLING = 'hx-trigger="every 2s"'


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Rendered documents go to a temporary directory, not var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _form_data(circle, /, *, agreement=None, start=MARCH[0], end=MARCH[1], **extra) -> dict:
    data = {
        "circle": circle.pk,
        "agreement": getattr(agreement, "pk", agreement or ""),
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "title": "",
        "doc_number": "",
        "recipients": "",
        "cc": "",
        "issued_on": "2026-04-03",
        "idempotency_key": "",
    }
    data.update(extra)
    return data


def _bulletin(coordinator, circle, *, agreement=None, doc_number="", **kwargs) -> Bulletin:
    with transaction.atomic():
        return bulletins.create_bulletin(
            acting_user=coordinator,
            circle=circle,
            agreement=agreement,
            period_start=MARCH[0],
            period_end=MARCH[1],
            issued_on=datetime.date(2026, 4, 3),
            doc_number=doc_number,
            **kwargs,
        )


def _urls(bulletin) -> dict[str, str]:
    return {
        "detail": reverse("ledger:bulletin", args=[bulletin.pk]),
        "status": reverse("ledger:bulletin-status", args=[bulletin.pk]),
        "docx": reverse("ledger:bulletin-download", args=[bulletin.pk, "docx"]),
        "pdf": reverse("ledger:bulletin-download", args=[bulletin.pk, "pdf"]),
    }


def _content(response) -> bytes:
    return b"".join(response.streaming_content)


# --------------------------------------------------------------------------- the whole way, page → worker → download


def test_coordinator_orders_a_bulletin_and_reads_and_downloads_it_when_ready(
    web, coordinator, owner, outsider, chengyu, agreement, tree, django_capture_on_commit_callbacks
):
    client = web(coordinator)
    form_page = client.get(reverse("ledger:bulletin-new"))
    assert form_page.status_code == 200
    html = form_page.content.decode()
    last_month = bulletins.period_before("monthly", timezone.localdate())
    assert f'name="period_start" value="{last_month[0]:%Y-%m-%d}"' in html
    assert f'name="period_end" value="{last_month[1]:%Y-%m-%d}"' in html
    assert f'name="issued_on" value="{timezone.localdate():%Y-%m-%d}"' in html
    key = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', html).group(1)

    data = _form_data(
        chengyu, agreement=agreement, doc_number="川渝法院协〔2026〕7号", cc="最高人民法院", idempotency_key=key
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("ledger:bulletin-new"), data)
    bulletin = Bulletin.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("ledger:bulletin", args=[bulletin.pk])
    assert bulletin.status == BulletinStatus.QUEUED
    assert bulletin.agreement == agreement and bulletin.issuer_id == chengyu.coordinating_agency_id
    with translation.override("zh-hans"):  # blank → the standard title, in the documents' language
        assert bulletin.title == bulletins.default_title(agreement.title, *MARCH)
    assert "川渝法院执行协作框架协议" in bulletin.title
    (task,) = DBTaskResult.objects.filter(task_path=RENDER_TASK)
    assert task.status == TaskResultStatus.READY and task.args_kwargs["args"] == [bulletin.pk]

    # Resending the same form (a double click) orders nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(reverse("ledger:bulletin-new"), data)
    assert again["Location"] == response["Location"] and Bulletin.objects.count() == 1

    urls = _urls(bulletin)
    page = client.get(urls["detail"]).content.decode()
    assert POLLING in page and 'data-status="queued"' in page and "<progress" in page
    assert 'data-figure="measures"' not in page and urls["docx"] not in page
    assert client.get(urls["docx"]).status_code == 404  # not prepared yet
    partial = client.get(urls["status"], headers={"HX-Request": "true"})
    assert POLLING in partial.content.decode() and "HX-Refresh" not in partial

    bulletins.render_now(bulletin.pk)  # what the worker's task runs

    page = client.get(urls["detail"]).content.decode()
    assert POLLING not in page and 'data-status="ready"' in page
    assert urls["docx"] in page and urls["pdf"] in page
    figures = Bulletin.objects.get(pk=bulletin.pk).figures
    assert figures["measures"] == 2
    assert re.search(r'data-figure="measures">\s*<div class="card-body">\s*<div class="h1 mb-0">2</div>', page)
    assert 'id="bulletin-lights"' in page
    # The polling block, asked once more, stops polling and reloads the page (which then shows the figures) …
    partial = client.get(urls["status"], headers={"HX-Request": "true"})
    assert POLLING not in partial.content.decode() and partial["HX-Refresh"] == "true"
    # … while a row of the list just stops.
    compact = client.get(urls["status"] + "?compact=1", headers={"HX-Request": "true"})
    assert "HX-Refresh" not in compact and urls["docx"] in compact.content.decode()

    response = client.get(urls["docx"])
    assert response.status_code == 200 and response["Content-Type"] == DOCX_TYPE
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=utf-8''" in disposition
    assert ".docx" in disposition and "%E3%80%957%E5%8F%B7" in disposition  # "〕7号", percent-encoded
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(_content(response))).paragraphs)
    assert bulletin.title in text and "川渝法院协〔2026〕7号" in text

    response = client.get(urls["pdf"])
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert _content(response).startswith(b"%PDF") and ".pdf" in response["Content-Disposition"]

    # The owner signed the agreement: it reads and downloads the bulletin. The outsider learns nothing.
    reader = web(owner)
    assert bulletin.title in reader.get(reverse("ledger:bulletins")).content.decode()
    page = reader.get(urls["detail"]).content.decode()
    assert 'data-figure="measures"' in page and 'id="rerender"' not in page
    assert _content(reader.get(urls["docx"]))[:2] == b"PK"
    assert reader.post(reverse("ledger:bulletin-rerender", args=[bulletin.pk])).status_code == 403
    stranger = web(outsider)
    for url in urls.values():
        assert stranger.get(url).status_code == 404, url
    assert stranger.post(reverse("ledger:bulletin-rerender", args=[bulletin.pk])).status_code == 404
    assert bulletin.title not in stranger.get(reverse("ledger:bulletins")).content.decode()
    for url in [reverse("ledger:bulletins"), *urls.values()]:
        response = web(None).get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url


def test_a_missing_file_or_an_unknown_format_is_404(web, coordinator, chengyu):
    bulletin = _bulletin(coordinator, chengyu)
    client = web(coordinator)
    Bulletin.objects.filter(pk=bulletin.pk).update(status=BulletinStatus.READY, docx="bulletins/2026/gone.docx")
    assert client.get(reverse("ledger:bulletin-download", args=[bulletin.pk, "docx"])).status_code == 404
    assert client.get(reverse("ledger:bulletin-download", args=[bulletin.pk, "pdf"])).status_code == 404
    assert client.get(reverse("ledger:bulletin-download", args=[bulletin.pk, "xlsx"])).status_code == 404
    assert client.get(reverse("ledger:bulletin-download", args=[bulletin.pk + 1000, "pdf"])).status_code == 404


def test_a_failed_bulletin_shows_its_error_and_the_coordinator_prepares_it_again(
    web, coordinator, owner, chengyu, agreement, django_capture_on_commit_callbacks
):
    bulletin = _bulletin(coordinator, chengyu, agreement=agreement)
    failing = mock.patch("yipanqi.ledger.documents.docx_from_prepared", side_effect=RuntimeError("字体缺失"))
    with failing, pytest.raises(RuntimeError):
        bulletins.render_now(bulletin.pk)
    urls = _urls(bulletin)
    page = web(coordinator).get(urls["detail"]).content.decode()
    assert 'data-status="failed"' in page and "RuntimeError: 字体缺失" in page
    assert POLLING not in page and 'id="rerender"' in page
    assert "字体缺失" in web(owner).get(urls["detail"]).content.decode()  # the owner reads, cannot retry
    assert web(owner).post(reverse("ledger:bulletin-rerender", args=[bulletin.pk])).status_code == 403
    assert Bulletin.objects.get(pk=bulletin.pk).status == BulletinStatus.FAILED

    with django_capture_on_commit_callbacks(execute=True):
        response = web(coordinator).post(reverse("ledger:bulletin-rerender", args=[bulletin.pk]))
    assert response.status_code == 302 and response["Location"] == urls["detail"]
    bulletin.refresh_from_db()
    assert (bulletin.status, bulletin.error) == (BulletinStatus.QUEUED, "")
    assert DBTaskResult.objects.filter(task_path=RENDER_TASK, args_kwargs__args=[bulletin.pk]).count() == 1
    assert POLLING in web(coordinator).get(urls["detail"]).content.decode()

    # While the worker renders it, it cannot be ordered again: a message, not an error page.
    Bulletin.objects.filter(pk=bulletin.pk).update(status=BulletinStatus.RENDERING)
    client = web(coordinator)
    assert 'id="rerender"' not in client.get(urls["detail"]).content.decode()
    response = client.post(reverse("ledger:bulletin-rerender", args=[bulletin.pk]), follow=True)
    assert response.status_code == 200 and "alert alert-danger" in response.content.decode()
    assert Bulletin.objects.get(pk=bulletin.pk).status == BulletinStatus.RENDERING


def test_a_circle_bulletin_is_read_by_the_agencies_of_the_circle(web, coordinator, owner, partner, outsider, chengyu):
    """四川高院 and 重庆高院 are in 成渝 through their regions: they read the circle-wide bulletin."""
    bulletin = _bulletin(coordinator, chengyu)
    url = reverse("ledger:bulletin", args=[bulletin.pk])
    for user in (owner, partner):
        assert web(user).get(url).status_code == 200
        assert bulletin.title in web(user).get(reverse("ledger:bulletins")).content.decode()
    assert web(outsider).get(url).status_code == 404


# --------------------------------------------------------------------------- who may order, and bad input


def test_only_coordinators_order_bulletins(web, owner, outsider, chengyu):
    before = Bulletin.objects.count()
    for user in (owner, outsider):
        client = web(user)
        assert client.get(reverse("ledger:bulletin-new")).status_code == 403
        assert client.post(reverse("ledger:bulletin-new"), _form_data(chengyu)).status_code == 403
        assert client.get(reverse("ledger:schedule-new")).status_code == 403
        data = {"circle": chengyu.pk, "frequency": "monthly", "day_of_month": "3", "number_prefix": "成渝"}
        assert client.post(reverse("ledger:schedule-new"), data).status_code == 403
        page = client.get(reverse("ledger:bulletins")).content.decode()
        assert 'id="new-bulletin"' not in page and 'id="schedules"' not in page
    for url in (reverse("ledger:bulletin-new"), reverse("ledger:schedule-new")):
        response = web(None).post(url, _form_data(chengyu))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert Bulletin.objects.count() == before and not BulletinSchedule.objects.exists()


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"period_start": "2026-03-31", "period_end": "2026-03-01"}, "period_end"),
        ({"circle": "999999"}, "circle"),
        ({"agreement": 999999}, "agreement"),
        ({"period_start": "2026-13-01"}, "period_start"),
        ({"issued_on": ""}, "issued_on"),
    ],
)
def test_bad_input_is_shown_on_the_form_and_writes_nothing(web, coordinator, chengyu, agreement, changes, field):
    response = web(coordinator).post(reverse("ledger:bulletin-new"), _form_data(chengyu, **changes))
    assert response.status_code == 200
    assert response.context["form"].errors.get(field), response.context["form"].errors
    assert 'class="invalid-feedback d-block"' in response.content.decode()
    assert not Bulletin.objects.exists()


def test_a_document_number_already_used_is_refused(web, coordinator, chengyu):
    first = _bulletin(coordinator, chengyu, doc_number="成渝政法协〔2026〕1号")
    response = web(coordinator).post(reverse("ledger:bulletin-new"), _form_data(chengyu, doc_number=first.doc_number))
    assert response.status_code == 200
    assert response.context["form"].errors["doc_number"]
    assert Bulletin.objects.count() == 1


def test_an_english_page_still_gives_the_document_a_chinese_title_and_number(web, coordinator, chengyu):
    client = web(coordinator)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(reverse("ledger:bulletin-new"), _form_data(chengyu))
    assert response.status_code == 302
    bulletin = Bulletin.objects.get()
    with translation.override("zh-hans"):
        assert bulletin.title == bulletins.default_title(chengyu.name, *MARCH)
        number = translation.gettext("%(prefix)s [%(year)d] No. %(number)d")
        assert bulletin.doc_number == number % {"prefix": chengyu.short_name, "year": 2026, "number": 1}
        assert bulletin.recipients == translation.gettext("All member agencies:")
    assert bulletin.doc_number.startswith(chengyu.short_name)
    page = client.get(reverse("ledger:bulletin", args=[bulletin.pk])).content.decode()
    assert "Document number" in page  # the page itself is in English


# --------------------------------------------------------------------------- schedules


def test_coordinator_creates_and_stops_a_schedule(web, coordinator, owner, outsider, chengyu, agreement):
    client = web(coordinator)
    form = client.get(reverse("ledger:schedule-new")).content.decode()
    assert f'value="{chengyu.short_name}"' in form  # the number prefix offered
    data = {
        "circle": chengyu.pk,
        "agreement": agreement.pk,
        "frequency": "quarterly",
        "day_of_month": "5",
        "number_prefix": "",
        "recipients": "",
        "cc": "",
    }
    refused = client.post(reverse("ledger:schedule-new"), {**data, "day_of_month": "31"})
    assert refused.status_code == 200 and refused.context["form"].errors["day_of_month"]
    assert not BulletinSchedule.objects.exists()

    response = client.post(reverse("ledger:schedule-new"), data)
    assert response.status_code == 302 and response["Location"] == reverse("ledger:bulletins")
    schedule = BulletinSchedule.objects.get()
    assert (schedule.frequency, schedule.day_of_month, schedule.number_prefix) == ("quarterly", 5, chengyu.short_name)
    assert schedule.agreement == agreement and schedule.is_active
    page = client.get(reverse("ledger:bulletins")).content.decode()
    stop_url = reverse("ledger:schedule-stop", args=[schedule.pk])
    assert stop_url in page

    for user in (owner, outsider):  # schedules are the coordinators' business: not even visible
        assert web(user).post(stop_url).status_code == 404
    assert web(None).post(stop_url).status_code == 302
    assert web(coordinator).get(stop_url).status_code == 405
    assert BulletinSchedule.objects.get().is_active

    response = client.post(stop_url)
    assert response.status_code == 302
    assert not BulletinSchedule.objects.get().is_active
    assert stop_url not in client.get(reverse("ledger:bulletins")).content.decode()


# --------------------------------------------------------------------------- the list


def _make(chengyu, n, start=0):
    for i in range(start, start + n):
        Bulletin.objects.create(
            circle=chengyu,
            title=f"通报{i}",
            doc_number=f"成渝政法协〔2026〕{i + 1}号",
            issuer_id=chengyu.coordinating_agency_id,
            period_start=MARCH[0],
            period_end=MARCH[1],
            issued_on=datetime.date(2026, 4, 3),
            status=BulletinStatus.READY if i % 2 else BulletinStatus.QUEUED,
            docx="bulletins/2026/x.docx" if i % 2 else "",
        )


def _queries(client, url) -> int:
    client.get(url)  # the menu bar is cached after a person's first page: count a page that reads it from the cache
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_list_shows_status_and_its_queries_do_not_grow(web, coordinator, chengyu, agreement):
    with transaction.atomic():
        bulletins.create_schedule(acting_user=coordinator, circle=chengyu, number_prefix="成渝政法协")
    client = web(coordinator)
    url = reverse("ledger:bulletins")
    _make(chengyu, 2)
    small = _queries(client, url)
    _make(chengyu, 18, start=2)
    assert _queries(client, url) == small
    page = client.get(url).content.decode()
    assert page.count(POLLING) == 10 and page.count('data-status="ready"') == 10  # one page of 20
    assert "?compact=1" in page and 'id="new-bulletin"' in page and 'id="schedules"' in page
    assert reverse("ledger:bulletins") in client.get(reverse("ledger:agreements")).content.decode()  # the menu
    _make(chengyu, 5, start=20)  # newest first: 通报24 … 通报5 on the first page, the rest on the second
    assert "通报24<" in client.get(url).content.decode()
    assert "通报0<" in client.get(url, {"page": 2}).content.decode()


def test_the_list_filters_by_circle(web, coordinator, chengyu):
    _make(chengyu, 1)
    client = web(coordinator)
    url = reverse("ledger:bulletins")
    assert "通报0" in client.get(url, {"circle": chengyu.pk}).content.decode()
    other = Circle.objects.exclude(pk=chengyu.pk).first()
    response = client.get(url, {"circle": other.pk})  # not the coordinator's: a form error, nothing revealed
    assert response.status_code == 200 and response.context["form"].errors
    assert other.name not in response.content.decode()
    assert client.get(url, {"circle": "x"}).status_code == 200


# --------------------------------------------------------------------------- the real worker


def _cast():
    """The demo cast, reloaded when an earlier transactional test flushed the database."""
    from yipanqi.directory.demo import load_demo

    if not Circle.objects.filter(slug="chengyu").exists():
        load_demo()
    return User.objects.get(username="chengyu_coord"), Circle.objects.get(slug="chengyu")


@pytest.mark.django_db(transaction=True)
def test_the_worker_prepares_a_bulletin_ordered_on_the_page(web):
    coordinator, chengyu = _cast()
    client = web(coordinator)
    response = client.post(reverse("ledger:bulletin-new"), _form_data(chengyu, title="成渝政法协作情况通报"))
    assert response.status_code == 302
    bulletin = Bulletin.objects.get()
    assert bulletin.status == BulletinStatus.QUEUED
    assert DBTaskResult.objects.get(task_path=RENDER_TASK).status == TaskResultStatus.READY

    run_worker()

    task = DBTaskResult.objects.get(task_path=RENDER_TASK)
    assert task.status == TaskResultStatus.SUCCESSFUL, task.traceback
    page = client.get(reverse("ledger:bulletin", args=[bulletin.pk])).content.decode()
    assert 'data-status="ready"' in page and POLLING not in page and 'data-figure="measures"' in page
    pdf = client.get(reverse("ledger:bulletin-download", args=[bulletin.pk, "pdf"]))
    assert _content(pdf).startswith(b"%PDF")


# --------------------------------------------------------------------------- in a real browser


@pytest.fixture
def demo():
    """A 成渝 bulletin waiting for the worker, made before Playwright starts (see core/testing/browser.py)."""
    from yipanqi.core.testing.browser import ensure_demo

    ensure_demo()
    coordinator, chengyu = _cast()
    bulletin = _bulletin(coordinator, chengyu, doc_number="成渝政法协〔2026〕9号")
    return {"pk": bulletin.pk, "doc_number": bulletin.doc_number, "title": bulletin.title, "circle_pk": chengyu.pk}


def _in_thread(work) -> None:
    """ORM work while Playwright's event loop runs in the test's thread: in a thread of its own, as the worker would."""
    import threading

    from django.db import connections

    errors = []

    def run():
        try:
            work()
        except Exception as exc:  # reported in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=120)
    assert errors == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_bulletin_page_follows_the_worker_and_offers_the_documents(browser, demo, live_server):
    from playwright.sync_api import expect

    from yipanqi.core.testing.browser import ARTIFACTS, new_page, sign_in

    ARTIFACTS.mkdir(exist_ok=True)
    problems: list[str] = []
    page = new_page(browser, problems)
    sign_in(page, live_server.url, "chengyu_coord")
    page.locator("#ledger-menu").click()
    page.locator("#ledger-bulletins-link").click()
    row = page.locator(f'tr[data-bulletin="{demo["pk"]}"]')
    expect(row.locator('[data-status="queued"]')).to_have_attribute("hx-trigger", "every 2s")
    page.screenshot(path=str(ARTIFACTS / "bulletin-list.png"), full_page=True)
    page.locator("#new-bulletin").click()
    expect(page.locator("#bulletin-form select[name=circle]")).to_have_value(str(demo["circle_pk"]))
    page.screenshot(path=str(ARTIFACTS / "bulletin-form.png"), full_page=True)
    page.go_back()

    row.get_by_role("link", name=demo["title"]).click()
    status = page.locator(f"#bulletin-status-{demo['pk']}")
    expect(status).to_have_attribute("data-status", "queued")

    # The worker takes it: the polling block follows its progress …
    _in_thread(lambda: Bulletin.objects.filter(pk=demo["pk"]).update(status=BulletinStatus.RENDERING, progress=60))
    expect(status.locator("progress")).to_have_attribute("value", "60", timeout=10_000)
    expect(status).to_have_attribute("data-status", "rendering")

    # … and once it is ready the page reloads with the figures and the documents.
    _in_thread(lambda: bulletins.render_now(demo["pk"]))
    expect(page.locator("#bulletin-figures")).to_be_visible(timeout=10_000)
    expect(status).to_have_attribute("data-status", "ready")
    expect(status).not_to_have_attribute("hx-trigger", re.compile(".*"))
    page.screenshot(path=str(ARTIFACTS / "bulletin-detail.png"), full_page=True)
    with page.expect_download() as download:
        status.locator('[data-download="docx"]').click()
    assert download.value.suggested_filename.startswith(demo["doc_number"])
    assert download.value.suggested_filename.endswith(".docx")
    assert problems == []
