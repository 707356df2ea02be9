"""A 委托执行 from 四川 to 重庆 in a real headless browser, from the draft to the receipts.

四川高院's liaison (sc_court) writes a 委托执行 for the target region 重庆: the routing proposes 重庆高院, the kind's
fields and documents come from its schema; she sends it. 重庆高院's liaison (cq_court) finds it in the inbox, signs,
accepts and answers; the sender closes it; both download the receipts of the other side.
"""

from __future__ import annotations

import json
import re

import pytest

from yipanqi.core.testing.browser import ARTIFACTS, new_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SUBJECT = "委托执行：重庆某建材有限公司（浏览器测试）"


@pytest.fixture
def demo():
    """The demo cast and the request kinds (a transactional test before this one may have flushed both)."""
    from yipanqi.assistance.kinds import load_kinds
    from yipanqi.assistance.models import RequestKind
    from yipanqi.core.testing.browser import ensure_demo

    ensure_demo()
    load_kinds(RequestKind)


def _page(browser, base: str, username: str, problems: list[str]):
    page = new_page(browser, problems, 1280)
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, base, username)
    return page


def _step(page, name: str, status: str) -> None:
    from playwright.sync_api import expect

    page.locator(f"#request-steps .step-{name}").click()
    expect(page.locator("#request-status")).to_have_attribute("data-status", status)


def _receipt(page, kind: str) -> dict:
    with page.expect_download() as download:
        page.locator(f'#receipts .receipt-row[data-kind="{kind}"] .receipt-json').click()
    return json.loads(download.value.path().read_text(encoding="utf-8"))


def test_a_sichuan_court_entrusts_execution_to_chongqing(browser, demo, live_server, tmp_path):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    base = live_server.url
    problems: list[str] = []
    letter, judgment = tmp_path / "委托执行函.pdf", tmp_path / "执行依据文书.pdf"
    letter.write_bytes(b"%PDF-1.4 letter")
    judgment.write_bytes(b"%PDF-1.4 judgment")

    # --- 四川高院 writes the request: kind, target region, the proposed receiver, the schema's fields, documents.
    sender = _page(browser, base, "sc_court", problems)
    sender.locator("#assistance-menu").click()
    sender.locator("#assistance-new-link").click()
    sender.locator("#start-kind").select_option(label="委托执行")
    sender.locator("#start-region").fill("500000")
    sender.locator("#start-submit").click()
    expect(sender.locator("#request-receiver option:checked")).to_contain_text("重庆市高级人民法院")
    sender.locator("#request-title").fill(SUBJECT)
    sender.locator("#request-f_basis_number").fill("（2026）川民终123号")
    sender.locator("#request-f_debtor").fill("重庆某建材有限公司")
    sender.locator("#request-f_applicant").fill("成都某商贸有限公司")
    sender.locator("#request-doc_0").set_input_files(str(letter))
    sender.locator("#request-doc_1").set_input_files(str(judgment))
    sender.locator("#request-save").click()
    sender.wait_for_url(re.compile(r"/assistance/\d+/$"))
    request_url = sender.url
    expect(sender.locator("#request-status")).to_have_attribute("data-status", "draft")
    expect(sender.locator("#attachments .attachment-row")).to_have_count(2)
    _step(sender, "send", "sent")
    number = sender.locator("#request-number").inner_text().strip()
    assert number.startswith("510000-")

    # --- 重庆高院 finds it in the inbox, signs, accepts and answers.
    receiver = _page(browser, base, "cq_court", problems)
    receiver.locator("#assistance-menu").click()
    receiver.locator("#assistance-inbox-link").click()
    row = receiver.locator(f'#inbox-table .request-row[data-number="{number}"]')
    expect(row).to_have_attribute("data-status", "sent")
    row.locator("a").first.click()
    _step(receiver, "sign", "received")
    _step(receiver, "accept", "accepted")
    receiver.locator("#request-steps .step-answer").click()
    receiver.locator("#step-form textarea[name=result]").fill("已立案执行，冻结被执行人银行存款人民币12万元。")
    receiver.locator("#step-submit").click()
    expect(receiver.locator("#request-status")).to_have_attribute("data-status", "answered")

    # --- The sender closes it; each side downloads the receipts the other issued.
    sender.goto(request_url)
    _step(sender, "close", "closed")
    sender.screenshot(path=str(ARTIFACTS / "assistance-closed.png"), full_page=True)
    for kind in ("signed", "accepted", "answered"):
        receipt = _receipt(sender, kind)
        assert receipt["payload"]["request"] == number and receipt["payload"]["to_agency"] == "四川省高级人民法院"
    receiver.goto(request_url)
    receipt = _receipt(receiver, "sent")
    assert receipt["payload"]["by_agency"] == "四川省高级人民法院" and len(receipt["digest"]) == 64
    with receiver.expect_download() as pdf:
        receiver.locator('#receipts .receipt-row[data-kind="sent"] .receipt-pdf').click()
    assert pdf.value.path().read_bytes()[:5] == b"%PDF-"

    assert not problems, problems
