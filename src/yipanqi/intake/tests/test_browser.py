"""The document intake in a real headless browser: a report in, reviewed beside its highlighted text, committed.

The 成渝 coordination office (chengyu_coord) uploads seed 001 (the 川渝 司法行政 signing ceremony), sees the proposed
items highlighted in the text (hovering a highlight marks its items, a click on an item flashes its passage, an
item's editor loads when opened), tries to commit and is told what to fix: two agreements have no signatory. The
coordinator gives the project list (清单) its two signatories (typing the names, the directory proposes them), leaves
out the eight-province 调解 agreement, commits, and opens the created agreement in the ledger.

Elements are found by ids, names and data attributes, so the test passes whether or not the new strings are
translated yet. No ORM call is made once the browser runs (see yipanqi.core.testing.browser).
"""

from __future__ import annotations

import re

import pytest

from yipanqi.core.testing.browser import ARTIFACTS, new_page, sign_in
from yipanqi.intake.tests.conftest import seed_text

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

PROJECT_LIST = "川渝司法行政区域合作重点推进项目清单"
SIGNATORIES = ("四川省司法厅", "重庆市司法局")


@pytest.fixture
def demo():
    from yipanqi.core.testing.browser import ensure_demo

    ensure_demo()


def _add_signatory(page, row, name: str, count: int) -> None:
    from playwright.sync_api import expect

    row.locator("details.yq-edit > summary").click()
    field = row.locator("form.signatory-add-form input[name=agency]")
    field.fill(name[:-1])  # the directory proposes names as one types
    expect(page.locator(f'#agency-options option[value="{name}"]')).to_have_count(1)
    field.fill(name)
    row.locator("form.signatory-add-form button[type=submit]").click()
    expect(page.locator("#agreement-0 .signatory-row")).to_have_count(count)


def test_a_coordinator_reviews_and_commits_a_report(browser, demo, live_server, tmp_path):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    base = live_server.url
    problems: list[str] = []
    report = tmp_path / "川渝司法行政签约.txt"
    report.write_text(seed_text("001"), encoding="utf-8")

    page = new_page(browser, problems, 1440)
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, base, "chengyu_coord")

    # --- Upload the report.
    page.goto(f"{base}/intake/")
    page.locator("#intake-new").click()
    page.locator("#upload-file").set_input_files(str(report))
    page.locator("#upload-published").fill("2020-06-19")
    expect(page.locator("#upload-circle option:checked")).to_have_attribute("value", re.compile(r"^\d+$"))
    page.locator("#upload-submit").click()
    page.wait_for_url(re.compile(r"/intake/\d+/$"))
    review_url = page.url

    # --- The text beside the structure: highlights, hovering, locating, an item's editor.
    marks = page.locator("#source-text mark.yq-hl")
    assert marks.count() > 50
    agreement_mark = page.locator('#source-text mark[data-kinds~="agreement"]').first
    assert "《" in (agreement_mark.get_attribute("title") or "")
    agreement_mark.hover()
    expect(page.locator("#review-structure .yq-linked").first).to_be_visible()
    page.locator("#agreement-0 .yq-locate").first.click()
    expect(page.locator("#source-text .yq-flash").first).to_be_attached()
    first_node = page.locator('[id="node-0.0"]')
    first_node.locator("details.node-edit > summary").click()
    expect(first_node.locator("form.node-split-form")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "intake-review.png"), full_page=False)

    # --- A first commit is refused: the two agreements without signatories are listed; nothing is created.
    page.locator("#review-commit").click()
    expect(page.locator("#commit-errors .commit-error")).to_have_count(2)
    assert page.url == review_url.rstrip("/") + "/commit/"
    # The refusal is answered with HTTP 400 on purpose (bad input), which the browser reports on its console.
    problems[:] = [problem for problem in problems if "status of 400" not in problem]

    # --- Fix: the project list gets its two signatories, the eight-province agreement is left out.
    page.goto(review_url)
    list_row = page.locator("#agreement-0")
    expect(list_row.locator(".agreement-title")).to_contain_text(PROJECT_LIST)
    _add_signatory(page, page.locator("#agreement-0"), SIGNATORIES[0], 1)
    _add_signatory(page, page.locator("#agreement-0"), SIGNATORIES[1], 2)
    expect(page.locator("#agreement-0 .signatory-row[data-resolved='1']")).to_have_count(2)
    unsigned = page.locator("#agreement-list .agreement-row", has_text="八省")
    unsigned.locator("details.yq-edit > summary").click()
    unsigned.locator("form.agreement-form input[name=include]").uncheck()
    unsigned.locator("form.agreement-form .agreement-save").click()
    expect(page.locator("#agreement-list .agreement-row[data-include='0']")).to_have_count(1)
    expect(page.locator("#review-unresolved")).to_have_attribute("data-count", "0")

    # --- Commit: the result lists what was created; the project list opens in the ledger.
    page.locator("#review-commit").click()
    page.wait_for_url(re.compile(r"/intake/\d+/result/$"))
    created = page.locator('#created-table .created-row[data-model="ledger.agreement"]')
    expect(created).to_have_count(8)
    assert page.locator('#created-table .created-row[data-model="ledger.measure"]').count() > 50
    page.screenshot(path=str(ARTIFACTS / "intake-result.png"), full_page=False)
    created.filter(has_text=PROJECT_LIST).locator("a.created-link").click()
    page.wait_for_url(re.compile(r"/ledger/agreements/\d+/$"))
    expect(page.locator("h1.page-title")).to_contain_text(PROJECT_LIST)
    for name in SIGNATORIES:
        expect(page.locator("main")).to_contain_text(name)

    assert not problems, problems
