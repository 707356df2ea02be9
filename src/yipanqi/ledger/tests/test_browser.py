"""The ledger in a real headless browser: the issue's scenario from end to end.

The 成渝 coordination office (chengyu_coord) records an agreement signed by 四川省高级人民法院 and 重庆市高级人民法院,
adds an area and a measure and gives it to both courts (四川 leads); both liaisons (sc_court, cq_court) report from
"my agency's measures"; the coordinator urges 重庆 with a 督办单, 重庆 answers; the agreement page shows the rolled-up
progress and the reply. Screenshots (desktop and phone width) are kept in ``test-artifacts/``.

Launch options, the fail-in-CI rule and the demo loading are shared (yipanqi.core.testing.browser). Elements are
found by ids, names and data attributes, so the test passes whether or not the new strings are translated yet.
"""

from __future__ import annotations

import re

import pytest

from yipanqi.core.testing.browser import ARTIFACTS, ensure_demo, new_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AGREEMENT = "《川渝法院执行协作框架协议（浏览器测试）》"
MEASURE = "异地财产查控协作（浏览器测试）"
REPLY = "已完成两地查控系统联调，下周报送书面材料"


@pytest.fixture
def demo():
    from yipanqi.directory.models import Circle

    ensure_demo()
    return {"chengyu_pk": Circle.objects.get(slug="chengyu").pk}


def _signed_in(browser, base_url: str, username: str, problems: list[str], width: int = 1280):
    page = new_page(browser, problems, width)
    sign_in(page, base_url, username)
    return page


def _report(page, base: str, progress: int, text: str) -> None:
    """A liaison files a report from "my agency's measures" with the form that opens in place."""
    page.goto(f"{base}/ledger/my/")
    card = page.locator("#my-shares article", has_text=MEASURE)
    card.locator("details.yq-fold > summary").first.click()
    form = card.locator("form.yq-report-form")
    form.locator("textarea[name=text]").fill(text)
    form.locator("input[name=progress]").fill(str(progress))
    form.locator("textarea[name=problems]").fill("两地系统接口尚需联调")
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"{base}/ledger/my/")
    page.locator(".alert-success").wait_for()


def test_coordinator_sets_up_owners_report_and_answer_supervision(browser, demo, live_server):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    base = live_server.url
    problems: list[str] = []

    # --- The coordination office records the agreement, its area and measure, and assigns both courts.
    coord = _signed_in(browser, base, "chengyu_coord", problems)
    coord.locator("#ledger-menu").click()
    coord.locator('a.dropdown-item[href="/ledger/agreements/new/"]').click()
    form = coord.locator("#agreement-form")
    form.locator("input[name=title]").fill(AGREEMENT)
    form.locator("select[name=kind]").select_option("framework")
    form.locator("input[name=signed_on]").fill("2026-03-01")
    form.locator("input[name=signed_place]").fill("重庆")
    form.locator("select[name=signatories]").select_option(label=["四川省高级人民法院", "重庆市高级人民法院"])
    form.locator("button[type=submit]").click()
    coord.wait_for_url(re.compile(r"/ledger/agreements/\d+/$"))
    agreement_url = coord.url
    expect(coord.get_by_role("heading", level=1)).to_have_text(AGREEMENT)
    expect(coord.locator("#signatories")).to_contain_text("重庆市高级人民法院")

    coord.locator("#add-area").click()
    coord.locator("input[name=number]").fill("一")
    coord.locator("input[name=title]").fill("执行协作")
    coord.locator("#ledger-form button[name=another]").click()  # add, then add the next one
    coord.locator("select[name=parent]").select_option(label="一 执行协作")
    coord.locator("input[name=number]").fill("一、1")
    coord.locator("input[name=title]").fill(MEASURE)
    coord.locator("select[name=category]").select_option("launch")
    coord.locator("input[name=start_on]").fill("2026-03-01")
    coord.locator("input[name=due_on]").fill("2027-06-30")
    coord.locator("#ledger-form button[type=submit]:not([name])").click()
    coord.wait_for_url(re.compile(r"/ledger/agreements/\d+/#m-\d+$"))

    row = coord.locator('.yq-measure-row[data-number="一、1"]')
    expect(row).to_contain_text(MEASURE)
    row.locator("button.dropdown-toggle").click()
    row.locator('a.dropdown-item[href*="/owners/new/"]').click()
    coord.locator("input[name=agency]").fill("四川省高级人民法院")
    coord.locator("select[name=role]").select_option("lead")
    coord.locator("#ledger-form button[name=another]").click()
    coord.wait_for_url(re.compile(r"/owners/new/$"))
    coord.locator("input[name=agency]").fill("重庆市高级人民法院")
    coord.locator("select[name=role]").select_option("co")
    coord.locator("#ledger-form button[type=submit]:not([name])").click()
    coord.wait_for_url(re.compile(r"/ledger/agreements/\d+/(#m-\d+)?$"))
    expect(row.locator('.yq-owner[data-agency="四川省高级人民法院"]')).to_be_visible()
    expect(row.locator('.yq-owner[data-agency="重庆市高级人民法院"]')).to_be_visible()
    coord.screenshot(path=str(ARTIFACTS / "ledger-agreement-set-up.png"), full_page=True)

    # --- Both liaisons report from their agency's page.
    sichuan = _signed_in(browser, base, "sc_court", problems)
    _report(sichuan, base, 40, "已建立川渝法院执行查控联络机制")
    expect(sichuan.locator("#my-shares article", has_text=MEASURE)).to_contain_text("40%")
    sichuan.screenshot(path=str(ARTIFACTS / "ledger-my-measures-sichuan.png"), full_page=True)
    chongqing = _signed_in(browser, base, "cq_court", problems)
    _report(chongqing, base, 60, "完成查控系统接口开发")

    # --- The coordinator urges 重庆 (督办单); 重庆 answers on its page.
    coord.goto(agreement_url)
    expect(coord.locator("#agreement-progress")).to_have_text("50%")
    row.locator('[data-supervise="重庆市高级人民法院"]').click()
    coord.locator("textarea[name=message]").fill("请于答复期限前报送查控系统联调情况")
    coord.locator("#ledger-form button[type=submit]").click()
    coord.wait_for_url(agreement_url)
    expect(coord.locator("#supervisions")).to_contain_text("请于答复期限前报送查控系统联调情况")
    expect(row.locator('.yq-owner[data-agency="重庆市高级人民法院"] .badge.bg-orange-lt')).to_be_visible()

    chongqing.goto(f"{base}/ledger/my/")
    notice = chongqing.locator("#my-supervisions .yq-supervision", has_text=MEASURE)
    expect(notice).to_have_attribute("data-status", "open")
    notice.locator("textarea[name=reply]").fill(REPLY)
    notice.locator("button[type=submit]").click()
    chongqing.wait_for_url(f"{base}/ledger/my/")
    expect(chongqing.locator("#my-supervisions .yq-supervision", has_text=MEASURE)).to_have_attribute(
        "data-status", "replied"
    )
    chongqing.screenshot(path=str(ARTIFACTS / "ledger-my-measures-chongqing.png"), full_page=True)

    # --- The agreement page shows the new progress and the reply.
    coord.goto(agreement_url)
    expect(coord.locator("#agreement-progress")).to_have_text("50%")
    expect(row.locator(".yq-progress-value")).to_have_text("50%")
    expect(coord.locator("#supervisions .yq-supervision").first).to_contain_text(REPLY)
    expect(coord.locator("#supervisions .yq-supervision").first).to_have_attribute("data-status", "replied")
    coord.screenshot(path=str(ARTIFACTS / "ledger-agreement.png"), full_page=True)

    # The measure page and the dashboard card, also at phone width.
    measure_href = row.locator("a.yq-measure-title").get_attribute("href")
    phone = _signed_in(browser, base, "sc_court", problems, width=390)
    expect(phone.locator("#my-measures")).to_contain_text(MEASURE)
    phone.screenshot(path=str(ARTIFACTS / "ledger-dashboard-phone.png"), full_page=True)
    phone.goto(f"{base}{measure_href}")
    expect(phone.locator("#reports")).to_contain_text("已建立川渝法院执行查控联络机制")
    expect(phone.locator("#reports")).to_contain_text("完成查控系统接口开发")
    expect(phone.locator("#supervisions")).to_contain_text(REPLY)
    phone.screenshot(path=str(ARTIFACTS / "ledger-measure-phone.png"), full_page=True)
    phone.goto(agreement_url)
    phone.screenshot(path=str(ARTIFACTS / "ledger-agreement-phone.png"), full_page=True)

    # --- The board of the agreement (一盘棋总览) reflects the reports and the supervision.
    coord.goto(agreement_url)
    light = row.get_attribute("data-light")
    coord.locator("#agreement-board").click()
    coord.wait_for_url(re.compile(r"/ledger/board/\?agreement=\d+$"))
    expect(coord.locator("#board-scope-agreement")).to_have_text(AGREEMENT)
    expect(coord.locator("#board-total")).to_have_text("1")
    expect(coord.locator("#board-progress")).to_have_text("50%")
    expect(coord.locator(f"#board-light-{light}")).to_have_text("1")
    matrix_row = coord.locator('#board-matrix-table tr[data-number="一、1"]')
    expect(matrix_row).to_have_attribute("data-light", light)
    expect(matrix_row).to_contain_text(MEASURE)
    expect(matrix_row.locator(".yq-progress-value")).to_have_text("50%")
    for agency in ("四川省高级人民法院", "重庆市高级人民法院"):
        cell = matrix_row.locator(f'td.yq-matrix-cell[data-agency="{agency}"]')
        expect(cell.locator(".yq-dot")).to_be_visible()
        assert cell.get_attribute("data-light") in ("red", "yellow", "blue", "green")
    reports = coord.locator("#board-reports .yq-board-report")
    expect(reports).to_have_count(2)
    expect(coord.locator('#board-reports .yq-board-report[data-agency="四川省高级人民法院"]')).to_contain_text("40%")
    expect(coord.locator('#board-reports .yq-board-report[data-agency="重庆市高级人民法院"]')).to_contain_text("60%")
    # The charts are drawn (canvas, no inline script or style: the CSP would report it), the trend among them.
    for chart in ("lights", "statuses", "categories", "regions", "agency-types", "agencies", "trend"):
        expect(
            coord.locator(f'.yq-chart[data-chart-data="chart-board-{chart}"][data-chart-ready="1"] canvas')
        ).to_have_count(1)
    coord.screenshot(path=str(ARTIFACTS / "ledger-board.png"), full_page=True)
    # Filtering swaps the board in place (htmx) and keeps the address shareable.
    coord.locator("#board-filter select[name=light]").select_option("done")
    coord.locator("#board-filter button[type=submit]").click()
    coord.wait_for_url(re.compile(r"light=done"))
    expect(coord.locator("#board-total")).to_have_text("0")
    expect(coord.locator('.yq-chart[data-chart-data="chart-board-lights"][data-chart-ready="1"] canvas')).to_have_count(
        1
    )
    coord.locator("#board-filter select[name=light]").select_option(light)
    coord.locator("#board-filter button[type=submit]").click()
    expect(coord.locator('#board-matrix-table tr[data-number="一、1"]')).to_be_visible()
    board_url = coord.url
    phone = _signed_in(browser, base, "chengyu_coord", problems, width=390)
    phone.goto(board_url)
    expect(phone.locator('#board-matrix-table tr[data-number="一、1"]')).to_have_attribute("data-light", light)
    phone.screenshot(path=str(ARTIFACTS / "ledger-board-phone.png"), full_page=True)

    csp = [p for p in problems if "Content Security Policy" in p or "Content-Security-Policy" in p]
    assert not csp, csp
    assert not problems, problems


@pytest.fixture
def foreign_agreement(demo):
    """A 成渝 agreement, made before the browser starts (no ORM calls while Playwright's loop runs)."""
    from django.db import transaction

    from yipanqi.directory.models import Agency, Circle, User
    from yipanqi.ledger import services

    with transaction.atomic():
        agreement = services.create_agreement(
            acting_user=User.objects.get(username="chengyu_coord"),
            title=AGREEMENT,
            circle=Circle.objects.get(slug="chengyu"),
            signatories=list(Agency.objects.filter(name__in=["四川省高级人民法院", "重庆市高级人民法院"])),
        )
    return agreement.pk


def test_outsider_gets_404_for_an_agreement(foreign_agreement, browser, live_server):
    """黑龙江 police see no 成渝 agreement: not in the list, 404 at its address."""
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    base = live_server.url
    problems: list[str] = []
    page = _signed_in(browser, base, "hlj_police", problems)
    page.goto(f"{base}/ledger/")
    expect(page.locator("#agreement-table")).not_to_contain_text(AGREEMENT)
    response = page.goto(f"{base}/ledger/agreements/{foreign_agreement}/")
    assert response is not None and response.status == 404
    expect(page.get_by_text(AGREEMENT)).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "ledger-outsider-404.png"))
    assert [p for p in problems if "404" not in p] == []


@pytest.fixture
def board_agreement(demo):
    """A 成渝 agreement with one item owned by both courts and 60 days of daily figures (the board's trend)."""
    import datetime

    from django.db import transaction
    from django.utils import timezone

    from yipanqi.directory.models import Agency, Circle, User
    from yipanqi.ledger import services
    from yipanqi.ledger.board import backfill_snapshots

    coordinator = User.objects.get(username="chengyu_coord")
    with transaction.atomic():
        agreement = services.create_agreement(
            acting_user=coordinator,
            title=AGREEMENT,
            circle=Circle.objects.get(slug="chengyu"),
            signatories=list(Agency.objects.filter(name__in=["四川省高级人民法院", "重庆市高级人民法院"])),
        )
        area = services.add_measure(acting_user=coordinator, agreement=agreement, number="一", title="执行协作")
        leaf = services.add_measure(
            acting_user=coordinator,
            agreement=agreement,
            parent=area,
            number="一、1",
            title=MEASURE,
            start_on=datetime.date(2026, 3, 1),
            due_on=timezone.localdate() - datetime.timedelta(days=3),
        )
        for agency in agreement.signatories.all():
            services.assign_owner(acting_user=coordinator, measure=leaf, agency=agency)
    backfill_snapshots(timezone.localdate() + datetime.timedelta(days=1), 60)
    return agreement.pk


def test_board_trend_and_phone_width(board_agreement, browser, live_server):
    """The trend (line chart) is drawn; at phone width nothing but the matrix scrolls sideways."""
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    base = live_server.url
    problems: list[str] = []
    page = _signed_in(browser, base, "chengyu_coord", problems, width=390)
    page.goto(f"{base}/ledger/board/?agreement={board_agreement}")
    expect(page.locator('.yq-chart[data-chart-data="chart-board-trend"][data-chart-ready="1"] canvas')).to_have_count(1)
    expect(page.locator("#board-light-red")).to_have_text("1")
    expect(page.locator("#board-overdue [data-days-overdue]")).to_have_attribute("data-days-overdue", "3")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(ARTIFACTS / "ledger-board-trend-phone.png"), full_page=True)
    assert not problems, problems
