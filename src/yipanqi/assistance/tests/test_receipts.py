"""Receipts (回执) as files: the JSON carries the payload and a digest anyone can recompute, the PDF is a printable
form that says whether the digest still matches, and only the two agencies of a receipt may download it.

Cast (src/yipanqi/conftest.py): ``owner`` = 四川高院 (sender), ``partner`` = 重庆高院 (receiver), ``coordinator``
(reads the request, is no party to its receipts), ``outsider`` (does not see the request).
"""

from __future__ import annotations

import hashlib
import json

import pytest
from django.urls import reverse
from django.utils import translation

from yipanqi.assistance import receipts, services
from yipanqi.assistance.models import EventKind, Receipt
from yipanqi.directory.factories import UserFactory
from yipanqi.directory.models import Agency, Role
from yipanqi.meetings.tests.test_documents import pdftotext

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def signed(sent, partner):
    return services.sign(acting_user=partner, request=sent)


def _url(receipt: Receipt, fmt: str) -> str:
    return reverse("assistance:receipt", args=[receipt.pk, fmt])


def test_the_json_receipt_carries_a_digest_anyone_can_recompute(web, owner, partner, signed):
    receipt = Receipt.objects.get(request=signed, kind=EventKind.SIGNED)
    response = web(owner).get(_url(receipt, "json"))
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert (
        response["Content-Disposition"].startswith("attachment;") and signed.number in response["Content-Disposition"]
    )
    body = json.loads(response.content)
    canonical = json.dumps(body["payload"], ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    assert hashlib.sha256(canonical).hexdigest() == body["digest"] == receipt.digest
    assert body["payload"] == receipt.payload
    assert body["payload"]["event"] == "signed" and body["payload"]["request"] == signed.number
    assert body["payload"]["by_agency"] == "重庆市高级人民法院" and body["payload"]["to_agency"] == "四川省高级人民法院"
    assert body["payload"]["content_sha256"] == services.content_digest(signed)
    assert body["digest_algorithm"] == "SHA-256" and body["issued_to"] == "四川省高级人民法院"


def test_the_pdf_receipt_is_a_pdf_with_the_digest(web, owner, signed):
    receipt = Receipt.objects.get(request=signed, kind=EventKind.SIGNED)
    response = web(owner).get(_url(receipt, "pdf"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = pdftotext(response.content)
    if text is not None:  # poppler-utils installed
        compact = "".join(text.split())
        assert signed.number in compact and "重庆市高级人民法院" in compact
        assert receipt.digest in compact


def test_verify_notices_a_changed_receipt(signed):
    receipt = Receipt.objects.get(request=signed, kind=EventKind.SIGNED)
    assert receipts.verify(receipt)
    Receipt.objects.filter(pk=receipt.pk).update(payload={**receipt.payload, "by": "别人"})
    changed = Receipt.objects.select_related("request__kind", "issued_by", "issued_to").get(pk=receipt.pk)
    assert not receipts.verify(changed)
    with translation.override("en"):
        prepared = receipts.prepare(changed)
    assert not prepared.valid and "NOT" in prepared.check
    assert receipts.render_pdf(changed).startswith(b"%PDF")


def test_only_the_two_parties_download_a_receipt(web, owner, partner, coordinator, outsider, signed, courts):
    receipt = Receipt.objects.get(request=signed, kind=EventKind.SENT)
    for fmt in ("json", "pdf"):
        url = _url(receipt, fmt)
        assert web(owner).get(url).status_code == 200
        assert web(partner).get(url).status_code == 200
        assert web(coordinator).get(url).status_code == 403  # sees the request, is no party to the receipt
        assert web(outsider).get(url).status_code == 404
        anonymous = web(None).get(url)
        assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))
    assert web(owner).get(reverse("assistance:receipt", args=[receipt.pk, "xml"])).status_code == 404
    # A handler of the receiving agency who is not given the request does not see it at all.
    handler = UserFactory(agency=courts[1], roles=[Role.HANDLER])
    assert web(handler).get(_url(receipt, "json")).status_code == 404


def test_an_agency_earlier_in_the_chain_is_no_party_to_the_next_receipts(web, owner, partner, sent):
    shaanxi = Agency.objects.get(name="陕西省高级人民法院")
    services.forward(acting_user=partner, request=sent, to=shaanxi, reason="被执行人财产在陕西")
    liaison = UserFactory(agency=shaanxi, roles=[Role.LIAISON])
    services.sign(acting_user=liaison, request=sent)
    receipt = Receipt.objects.get(request=sent, kind=EventKind.SIGNED)
    assert receipt.issued_by == shaanxi
    assert web(liaison).get(_url(receipt, "json")).status_code == 200
    assert web(owner).get(_url(receipt, "json")).status_code == 200
    assert web(partner).get(reverse("assistance:request", args=[sent.pk])).status_code == 200
    assert web(partner).get(_url(receipt, "json")).status_code == 403
