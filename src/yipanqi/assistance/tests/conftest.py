"""The cast of the assistance tests: 四川高院 (owner, sc_court) sends to 重庆高院 (partner, cq_court)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from yipanqi.assistance import services
from yipanqi.assistance.models import RequestKind
from yipanqi.directory.models import Agency


@pytest.fixture
def courts(db):
    return Agency.objects.get(name="四川省高级人民法院"), Agency.objects.get(name="重庆市高级人民法院")


@pytest.fixture
def kind(db):
    return RequestKind.objects.get(code="entrusted_execution")


EXECUTION_FIELDS = {
    "basis_number": "（2026）川民终123号",
    "debtor": "重庆某建材有限公司",
    "applicant": "成都某商贸有限公司",
}


def pdf(name: str = "委托执行函.pdf", body: bytes = b"%PDF-1.4 test") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, body, content_type="application/pdf")


def draft_execution(user, courts, kind, **extra):
    """A 委托执行 from 四川高院 to 重庆高院 with both required documents attached (not sent yet)."""
    sender, receiver = courts
    request = services.create_request(
        acting_user=user,
        kind=kind,
        sender=sender,
        receiver=receiver,
        title="委托执行：重庆某建材有限公司",
        case_number="（2026）川执123号",
        parties="成都某商贸有限公司；重庆某建材有限公司",
        fields=dict(EXECUTION_FIELDS),
        **extra,
    )
    for label in kind.required_attachments:
        services.attach(acting_user=user, request=request, uploaded=pdf(f"{label}.pdf"), label=label)
    return request


@pytest.fixture
def sent(owner, courts, kind):
    return services.send(acting_user=owner, request=draft_execution(owner, courts, kind))
