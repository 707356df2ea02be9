"""The evidence pages (/evidence/): the check (存证核验) by hash or by an uploaded file, the deposit (存证), the
agency's deposits, a deposit with its receipt (JSON, PDF), the log — for owner (sc_court), partner (cq_court),
outsider (hlj_police), a coordinator of 成渝 and anonymous; bad input is a form error with nothing written. In a real
headless browser, a chosen file is hashed on the visitor's computer and only its hash is sent."""

from __future__ import annotations

import hashlib
import json
import re
import time
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from yipanqi.core.models import AuditEvent
from yipanqi.core.versioning import forget_local_versions
from yipanqi.directory.factories import UserFactory
from yipanqi.evidence import keys, notes, receipts, services
from yipanqi.evidence.forms import HashedUpload, HashingUploadHandler
from yipanqi.evidence.models import Checkpoint, Cosignature, Deposit, LogState, Witness

pytestmark = pytest.mark.django_db

CASE = "（2026）川01执123号"
ORIGINAL = "（2026）川01执123号 执行笔录 第1页".encode() * 40


def digest(data: bytes, algorithm: str = "sha256") -> str:
    return hashlib.new(algorithm.replace("-", "_"), data).hexdigest()


def world() -> list[int]:
    return [m.objects.count() for m in (Deposit, LogState, Checkpoint, Cosignature, AuditEvent)]


@pytest.fixture
def deposited(owner):
    """The original (with its case reference) and two more documents, deposited by the owner's agency: 0, 1, 2."""
    items = [{"hash": digest(ORIGINAL), "media_type": "application/pdf", "case": CASE}]
    items += [{"hash": digest(f"附件{n}".encode())} for n in range(2)]
    return [d for d, _created in services.deposit(acting_user=owner, items=items, source="web")]


def _text(response) -> str:
    return response.content.decode()


def _gettext(message: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(message)


# --------------------------------------------------------------------------- who may open what


PAGES = ["/evidence/", "/evidence/deposit/", "/evidence/deposits/", "/evidence/log/"]


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_is_sent_to_sign_in(web, url):
    response = web(None).get(url)
    assert response.status_code == 302 and "/login" in response["Location"]


def test_every_page_answers_each_role(request, web, deposited, owner, partner, outsider, coordinator):
    for person in (owner, partner, outsider, coordinator):
        for url in PAGES:
            assert web(person).get(url).status_code == 200, (person, url)
    detail, json_receipt = "/evidence/deposits/0/", "/evidence/deposits/0/receipt.json"
    for person in (owner, coordinator):
        assert web(person).get(detail).status_code == 200
        assert web(person).get(json_receipt).status_code == 200
    for person in (partner, outsider):
        assert web(person).get(detail).status_code == 404
        assert web(person).get(json_receipt).status_code == 404
    assert web(None).get(detail).status_code == 302
    assert web(owner).get("/evidence/deposits/99/").status_code == 404
    assert web(owner).get("/evidence/deposits/0/receipt.xml").status_code == 404
    nobody = UserFactory(agency=None)
    assert web(nobody).get("/evidence/deposit/").status_code == 403
    assert web(nobody).get("/evidence/").status_code == 200


def test_the_menu_has_the_evidence_entries(web, owner):
    page = _text(web(owner).get("/evidence/log/"))
    for link in ("evidence-menu", "evidence-check-link", "evidence-deposit-link", "evidence-deposits-link"):
        assert f'id="{link}"' in page
    assert re.search(r'<li class="nav-item dropdown active">\s*<a [^>]*id="evidence-menu"', page)


# --------------------------------------------------------------------------- depositing


def test_a_pasted_hash_is_deposited_and_shows_its_receipt(web, owner):
    client = web(owner)
    form = _text(client.get("/evidence/deposit/"))
    assert "data-evidence-hash" in form and "yipanqi/evidence.js" in form
    response = client.post(
        "/evidence/deposit/", {"hash": digest(ORIGINAL).upper(), "algorithm": "sha256", "case": CASE}
    )
    assert response.status_code == 302 and response["Location"] == "/evidence/deposits/0/"
    deposit = Deposit.objects.get()
    assert deposit.content_hash == digest(ORIGINAL) and deposit.case_ref == CASE and deposit.source == "web"
    assert deposit.media_type == "application/octet-stream" and deposit.depositor == f"user:{owner.pk}"
    page = _text(client.get(response["Location"]))
    assert digest(ORIGINAL) in page and CASE in page and "四川省高级人民法院" in page
    assert 'id="receipt-size">1<' in page and 'id="receipt-json"' in page and 'id="receipt-pdf"' in page
    assert "evidence-receipt-0.json --file" in page
    # the same again: the original deposit, not a new one
    before = world()
    again = client.post("/evidence/deposit/", {"hash": digest(ORIGINAL), "algorithm": "sha256", "case": CASE})
    assert again["Location"] == "/evidence/deposits/0/" and world() == before
    page = _text(client.get(again["Location"]))
    assert _gettext("Your agency deposited this before: here is the original deposit and its receipt.") in page


def test_an_uploaded_file_is_hashed_as_it_streams_in_and_not_kept(web, owner, settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    (tmp_path / "uploads").mkdir()
    big = ORIGINAL * 3000  # several MB: Django would otherwise write it to a temporary file
    upload = SimpleUploadedFile("执行笔录.pdf", big, content_type="application/pdf")
    response = web(owner).post("/evidence/deposit/", {"file": upload, "hash": "", "algorithm": "sha512", "case": CASE})
    assert response.status_code == 302
    deposit = Deposit.objects.get()
    assert deposit.algorithm == "sha512" and deposit.content_hash == digest(big, "sha512")
    assert deposit.media_type == "application/pdf"
    assert list((tmp_path / "uploads").iterdir()) == []
    media = tmp_path / "media"
    assert not media.exists() or not any(media.rglob("*"))


def test_the_upload_handler_keeps_only_digests():
    handler = HashingUploadHandler()
    handler.new_file("file", "a.bin", "application/octet-stream", 6)
    for start, chunk in ((0, b"abc"), (3, b"def")):
        assert handler.receive_data_chunk(chunk, start) is None
    upload = handler.file_complete(6)
    assert isinstance(upload, HashedUpload) and upload.size == 6 and upload.name == "a.bin"
    assert upload.digests["sha256"] == digest(b"abcdef") and upload.digests["sha3-256"] == digest(b"abcdef", "sha3-256")
    upload.close()  # nothing to close: the request's clean-up must not fail


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"hash": "ab" * 31}, "hash", None),
        ({"hash": "xyz"}, "hash", "The hash must be hexadecimal (0-9, a-f)."),
        ({"hash": "ab" * 32, "algorithm": "md5"}, "algorithm", None),
        ({"hash": ""}, "hash", "Choose a file or paste its hash."),
        ({"hash": "ab" * 32, "media_type": "not a type"}, "media_type", "Not a media type such as application/pdf."),
        ({"hash": "ab" * 32, "case": "号" * 101}, "case", None),
        ({"file": SimpleUploadedFile("empty.pdf", b"")}, "file", "The file is empty."),
    ],
)
def test_bad_input_is_a_form_error_and_writes_nothing(web, owner, data, field, message):
    client = web(owner)
    services.deposit(acting_user=owner, items=[{"hash": "cd" * 32}])
    before = world()
    response = client.post("/evidence/deposit/", {"algorithm": "sha256", **data})
    assert response.status_code == 400
    assert world() == before
    errors = response.context["form"].errors
    assert list(errors) == [field]
    if message:
        assert errors[field] == [_gettext(message)]
    if data.get("hash") == "ab" * 31:
        assert "64" in errors["hash"][0] and "62" in errors["hash"][0]


# --------------------------------------------------------------------------- checking


def test_the_check_finds_a_hash_and_offers_its_receipts_to_anyone_signed_in(web, deposited, owner, outsider):
    for person, own in ((owner, True), (outsider, False)):
        client = web(person)
        response = client.get("/evidence/", {"hash": digest(ORIGINAL), "algorithm": "sha256"})
        assert response.status_code == 200
        page = _text(response)
        assert 'id="check-result" data-found="1"' in page and "四川省高级人民法院" in page
        assert CASE not in page  # the case reference stays with the depositing agency
        assert ('href="/evidence/deposits/0/"' in page) is own
        json_link = re.search(r'href="(/evidence/lookup/receipt\.json\?[^"]+)"', page).group(1).replace("&amp;", "&")
        assert re.search(r'href="/evidence/lookup/receipt\.pdf\?', page)
        receipt = client.get(json_link)
        assert receipt.status_code == 200 and receipt["Content-Disposition"].startswith("attachment")
        report = receipts.verify_receipt(
            receipt.content, key=keys.verifier_key(), file=__import__("io").BytesIO(ORIGINAL)
        )
        assert report.valid, report.summary()
    # the time is China Standard Time
    local = Deposit.objects.get(index=0).deposited_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    assert local.strftime("%Y-%m-%d %H:%M") in page


def test_the_check_of_an_uploaded_file_redirects_to_its_hash(web, deposited, partner):
    client = web(partner)
    upload = SimpleUploadedFile("笔录.pdf", ORIGINAL, content_type="application/pdf")
    response = client.post("/evidence/", {"file": upload, "algorithm": "sha256"})
    assert response.status_code == 302
    query = parse_qs(urlparse(response["Location"]).query)
    assert query == {"hash": [digest(ORIGINAL)], "algorithm": ["sha256"]}
    other = client.post("/evidence/", {"file": SimpleUploadedFile("x.pdf", b"another file"), "algorithm": "sha256"})
    page = _text(client.get(other["Location"]))
    assert 'data-found="0"' in page and 'id="check-not-found"' in page


def test_a_bad_check_says_what_is_wrong(web, outsider):
    client = web(outsider)
    short = client.get("/evidence/", {"hash": "ab" * 10, "algorithm": "sha256"})
    assert short.status_code == 400 and "64" in short.context["form"].errors["hash"][0]
    assert client.get("/evidence/", {"hash": "ab" * 32, "algorithm": "md4"}).status_code == 400
    empty = client.post("/evidence/", {"hash": "", "algorithm": "sha256"})
    assert empty.status_code == 400 and empty.context["form"].errors["hash"] == [
        _gettext("Choose a file or paste its hash.")
    ]
    assert "check-result" not in _text(client.get("/evidence/"))


def test_the_lookup_receipt_needs_the_right_hash_and_index(web, deposited, outsider):
    client = web(outsider)
    right = {"hash": digest(ORIGINAL), "algorithm": "sha256", "index": 0}
    assert client.get("/evidence/lookup/receipt.json", right).status_code == 200
    assert client.get("/evidence/lookup/receipt.json", {**right, "index": 1}).status_code == 404
    assert client.get("/evidence/lookup/receipt.json", {**right, "index": "x"}).status_code == 404
    assert client.get("/evidence/lookup/receipt.json", {**right, "hash": "ab"}).status_code == 404
    assert client.get("/evidence/lookup/receipt.txt", right).status_code == 404
    assert web(None).get("/evidence/lookup/receipt.json", right).status_code == 302


def test_the_receipt_pdf_is_printed(web, deposited, owner, outsider):
    pdf = web(owner).get("/evidence/deposits/0/receipt.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert pdf["Content-Disposition"] == 'attachment; filename="evidence-receipt-0.pdf"'
    found = web(outsider).get("/evidence/lookup/receipt.pdf", {"hash": digest(ORIGINAL), "index": 0})
    assert found.status_code == 200 and found.content.startswith(b"%PDF")
    assert web(outsider).get("/evidence/deposits/0/receipt.pdf").status_code == 404


# --------------------------------------------------------------------------- lists and the log


def _queries(client, url) -> int:
    cache.clear()
    forget_local_versions()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_deposits_page_lists_newest_first_by_twenty_at_a_constant_cost(web, owner, partner, coordinator):
    services.deposit(acting_user=owner, items=[{"hash": digest(bytes([n]))} for n in range(5)])
    few = _queries(web(owner), "/evidence/deposits/")
    services.deposit(acting_user=owner, items=[{"hash": digest(bytes([n]))} for n in range(5, 25)])
    assert _queries(web(owner), "/evidence/deposits/") == few
    first = _text(web(owner).get("/evidence/deposits/"))
    rows = re.findall(r'class="evidence-row" data-index="(\d+)"', first)
    assert rows == [str(n) for n in range(24, 4, -1)]
    second = re.findall(r'class="evidence-row" data-index="(\d+)"', _text(web(owner).get("/evidence/deposits/?page=2")))
    assert second == ["4", "3", "2", "1", "0"]
    assert len(re.findall(r'class="evidence-row"', _text(web(coordinator).get("/evidence/deposits/")))) == 20
    assert 'id="evidence-empty"' in _text(web(partner).get("/evidence/deposits/"))


def test_the_log_page_shows_the_checkpoint_key_witnesses_and_activity(web, deposited, partner, outsider):
    signer = notes.Signer.from_key(notes.generate_key("witness.cqfy.example")[0])
    Witness.objects.create(agency=partner.agency, name=signer.name, verifier_key=signer.cosignature_verifier_key)
    checkpoint = services.latest_checkpoint()
    line = notes.cosign(checkpoint.note.split("\n\n", 1)[0] + "\n", signer, int(time.time()))
    services.add_cosignature(acting_user=partner, checkpoint=checkpoint, line=line)
    page = _text(web(outsider).get("/evidence/log/"))
    assert 'id="evidence-size">3<' in page
    assert keys.verifier_key() in page and "witness.cqfy.example" in page and "重庆市高级人民法院" in page
    assert 'data-size="3"' in page and 'title="' + line in page
    activity = json.loads(
        re.search(r'<script id="evidence-activity" type="application/json">(.*?)</script>', page).group(1)
    )
    assert len(activity) == 30 and activity[-1]["value"] == 3 and sum(item["value"] for item in activity) == 3
    assert web(outsider).get("/evidence/checkpoint").content.decode().endswith(line + "\n")


def test_the_log_page_of_an_empty_log(web, outsider):
    page = _text(web(outsider).get("/evidence/log/"))
    assert 'id="evidence-no-checkpoint"' in page and keys.verifier_key() in page


# --------------------------------------------------------------------------- in a real browser


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_browser_hashes_the_file_and_sends_only_the_hash(browser, live_server, tmp_path):
    from playwright.sync_api import expect

    from yipanqi.core.testing.browser import new_page, sign_in

    problems: list[str] = []
    original = tmp_path / "执行笔录.pdf"
    original.write_bytes(ORIGINAL)
    page = new_page(browser, problems)
    sent: list[bytes] = []
    page.on("request", lambda r: sent.append(r.post_data_buffer or b"") if r.method == "POST" else None)
    sign_in(page, live_server.url, "sc_court")
    sent.clear()
    page.locator("#evidence-menu").click()
    page.locator("#evidence-deposit-link").click()
    page.locator("#deposit-file").set_input_files(str(original))
    expect(page.locator("#deposit-hash")).to_have_value(digest(ORIGINAL))
    expect(page.locator("#deposit-media_type")).to_have_value("application/pdf")
    page.locator("#deposit-case").fill(CASE)
    page.locator("#deposit-submit").click()
    page.wait_for_url(re.compile(r"/evidence/deposits/0/$"))
    expect(page.locator("#deposit-hash")).to_have_text(digest(ORIGINAL))
    assert len(sent) == 1 and digest(ORIGINAL).encode() in sent[0] and ORIGINAL not in sent[0]
    assert b'filename="' not in sent[0]  # the file input was not sent at all
    # the check page: the same file, hashed here again, is found
    page.goto(f"{live_server.url}/evidence/")
    page.locator("#check-file").set_input_files(str(original))
    expect(page.locator("#check-hash")).to_have_value(digest(ORIGINAL))
    page.locator("#check-submit").click()
    expect(page.locator("#check-result")).to_have_attribute("data-found", "1")
    expect(page.locator("#check-deposits .evidence-found")).to_contain_text("四川省高级人民法院")
    assert all(ORIGINAL not in body for body in sent)
    assert problems == []
