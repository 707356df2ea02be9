"""One whole meeting cycle in a real headless browser.

The 成渝 coordination office (chengyu_coord) schedules the next meeting of a court series (四川高院 and
重庆高院) for the host the rotation proposes (四川); the host's liaison (sc_court) opens the agenda and
proposes a topic, 重庆's liaison (cq_court) proposes another; the host moves it to the top, closes the
agenda, records the meeting as held, takes a decision that gives 重庆 work, drafts and submits the minutes;
both liaisons approve; the minutes are final and the decision is a measure in the ledger that 重庆 sees
among its agency's measures. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import datetime
import re

import pytest

from yipanqi.core.testing.browser import ARTIFACTS, ensure_demo, new_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SERIES = "川渝高级法院执行协作联席会议（浏览器测试）"
HOST_TOPIC = "执行案款跨域划拨"
PARTNER_TOPIC = "跨域立案材料清单统一"
DECISION = "统一跨域立案材料清单（浏览器测试）"


@pytest.fixture
def demo():
    """The series and its standing agreement, written before Playwright starts its event loop in this thread."""
    from django.db import transaction

    from yipanqi.directory.models import Agency, Circle, User
    from yipanqi.ledger import services as ledger
    from yipanqi.meetings import services

    ensure_demo()
    coordinator = User.objects.get(username="chengyu_coord")
    chengyu = Circle.objects.get(slug="chengyu")
    courts = [Agency.objects.get(name="四川省高级人民法院"), Agency.objects.get(name="重庆市高级人民法院")]
    with transaction.atomic():
        agreement = ledger.create_agreement(
            acting_user=coordinator,
            title="《川渝法院执行协作框架协议（浏览器测试）》",
            circle=chengyu,
            signatories=courts,
            status="in_force",
            signed_on=datetime.date(2026, 3, 1),
        )
        series = services.create_series(
            acting_user=coordinator,
            title=SERIES,
            circle=chengyu,
            members=courts,
            standing_agreement=agreement,
            rotation_rule="fixed",
        )
    return {"series": series.pk, "sichuan": courts[0].pk, "chongqing": courts[1].pk}


def _page(browser, base: str, username: str, problems: list[str]):
    page = new_page(browser, problems, 1280)
    page.on("dialog", lambda dialog: dialog.accept())  # submit-for-approval asks for a confirmation
    sign_in(page, base, username)
    return page


def _propose(page, meeting_url: str, title: str) -> None:
    page.goto(meeting_url)
    page.locator("#topic-title").fill(title)
    page.locator("#topic-submit").click()
    page.locator(f'.topic[data-title="{title}"]').wait_for()


def test_one_whole_meeting_cycle(browser, demo, live_server):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    base = live_server.url
    problems: list[str] = []

    # --- The coordination office schedules the meeting; the rotation proposes 四川 as host.
    coord = _page(browser, base, "chengyu_coord", problems)
    coord.locator("#meetings-menu").click()
    coord.locator("#meetings-series-link").click()
    coord.locator(".series-row", has_text=SERIES).locator("a").first.click()
    expect(coord.locator("#next-host")).to_have_attribute("data-agency", "四川省高级人民法院")
    starts = (datetime.date.today() + datetime.timedelta(days=14)).isoformat()
    form = coord.locator("#schedule-form")
    form.locator("input[name=starts_at]").fill(f"{starts}T09:30")
    form.locator("input[name=place]").fill("成都")
    coord.locator("#schedule-submit").click()
    coord.wait_for_url(re.compile(r"/meetings/\d+/$"))
    meeting_url = coord.url
    expect(coord.locator("#meeting-stepper")).to_have_attribute("data-status", "planned")
    expect(coord.locator("#meeting-host")).to_contain_text("四川省高级人民法院")

    # --- The host opens the agenda; both sides propose; the host puts 重庆's topic first and closes the agenda.
    host = _page(browser, base, "sc_court", problems)
    host.goto(meeting_url)
    host.locator(".step-open-agenda").click()
    expect(host.locator("#meeting-stepper")).to_have_attribute("data-status", "agenda_open")
    _propose(host, meeting_url, HOST_TOPIC)
    partner = _page(browser, base, "cq_court", problems)
    _propose(partner, meeting_url, PARTNER_TOPIC)
    expect(partner.locator("#order-form")).to_have_count(0)  # only the host orders the agenda
    host.goto(meeting_url)
    host.locator(f'.topic[data-title="{PARTNER_TOPIC}"] .move-up').click()
    expect(host.locator("#agenda .topic").first).to_have_attribute("data-title", PARTNER_TOPIC)
    host.locator(".step-close-agenda").click()
    expect(host.locator("#meeting-stepper")).to_have_attribute("data-status", "agenda_closed")
    host.locator(".step-held").click()
    expect(host.locator("#meeting-stepper")).to_have_attribute("data-status", "held")

    # --- A decision that gives 重庆 work (四川 co-owns it), under the series' standing agreement.
    host.locator(f'.topic[data-title="{PARTNER_TOPIC}"] .decision-new').click()
    form = host.locator("#decision-page-form")
    form.locator("input[name=kind][value=new]").check()
    form.locator("input[name=title]").fill(DECISION)
    form.locator("select[name=lead]").select_option(str(demo["chongqing"]))
    form.locator(f"input[name=co_owners][value='{demo['sichuan']}']").check()
    form.locator("input[name=due_on]").fill("2027-06-30")
    host.locator("#form-submit").click()
    host.wait_for_url(re.compile(r"/meetings/\d+/"))
    expect(host.locator(".decision", has_text=DECISION)).to_have_attribute("data-state", "awaiting_minutes")
    for title in (PARTNER_TOPIC, HOST_TOPIC):
        host.locator(f'.topic[data-title="{title}"] .outcome-concluded').click()
        expect(host.locator(f'.topic[data-title="{title}"]')).to_have_attribute("data-outcome", "concluded")

    # --- Minutes: drafted from the agenda, submitted, approved by both members' liaisons.
    host.locator("#minutes-draft").click()  # drafting leads to the editor, the draft in it
    text = host.locator("#minutes-form textarea[name=text]")
    expect(text).to_have_value(re.compile(DECISION.replace("（", ".").replace("）", ".")))
    text.fill(text.input_value() + "\n会议商定加强两地执行指挥中心联动。\n")
    host.locator("#minutes-save").click()
    host.wait_for_url(re.compile(r"/meetings/\d+/"))
    expect(host.locator("#minutes-text")).to_contain_text("执行指挥中心联动")
    host.locator("#minutes-submit").click()
    expect(host.locator("#minutes-box")).to_have_attribute("data-status", "pending")
    host.locator("#minutes-approve").click()
    expect(host.locator("#minutes-progress")).to_have_attribute("data-approved", "1")
    expect(coord.locator("#minutes-approve")).to_have_count(0)  # the coordination office is no member
    partner.goto(meeting_url)
    expect(partner.locator("#minutes-progress")).to_have_attribute("data-total", "2")
    partner.locator("#minutes-approve").click()
    expect(partner.locator("#minutes-final")).to_be_visible()
    expect(partner.locator("#meeting-stepper")).to_have_attribute("data-status", "minutes_approved")
    expect(partner.locator(".decision", has_text=DECISION)).to_have_attribute("data-state", "in_progress")
    partner.screenshot(path=str(ARTIFACTS / "meeting-final.png"), full_page=True)

    # --- The decision is now 重庆's measure in the ledger; the approved minutes download as a document.
    partner.goto(f"{base}/ledger/my/")
    expect(partner.locator("#my-shares")).to_contain_text(DECISION)
    with partner.expect_download() as download:
        partner.goto(meeting_url)
        partner.locator("#minutes-docx").click()
    assert download.value.suggested_filename.endswith(".docx")

    assert not problems, problems
