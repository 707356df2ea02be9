"""A small 成渝 agreement for the ledger tests: owner = 四川高院 (sc_court), partner = 重庆高院 (cq_court)."""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction

from yipanqi.directory.models import Agency
from yipanqi.ledger import services
from yipanqi.ledger.models import OwnerRole


@pytest.fixture
def courts(db):
    return Agency.objects.get(name="四川省高级人民法院"), Agency.objects.get(name="重庆市高级人民法院")


@pytest.fixture
def agreement(coordinator, chengyu, courts):
    with transaction.atomic():
        return services.create_agreement(
            acting_user=coordinator,
            title="《川渝法院执行协作框架协议》",
            circle=chengyu,
            signatories=courts,
            kind="framework",
            status="in_force",
            signed_on=datetime.date(2026, 3, 1),
        )


@pytest.fixture
def tree(coordinator, agreement, courts):
    """一 (area) → 一、1 (owned by both courts, 四川 leads) and 一、2 (no owners yet)."""
    sichuan, chongqing = courts
    with transaction.atomic():
        area = services.add_measure(acting_user=coordinator, agreement=agreement, number="一", title="执行协作")
        leaf = services.add_measure(
            acting_user=coordinator,
            agreement=agreement,
            parent=area,
            number="一、1",
            title="异地财产查控",
            start_on=datetime.date(2026, 3, 1),
            due_on=datetime.date(2026, 12, 31),
        )
        other = services.add_measure(
            acting_user=coordinator, agreement=agreement, parent=area, number="一、2", title="委托执行案件移送"
        )
        lead = services.assign_owner(acting_user=coordinator, measure=leaf, agency=sichuan, role=OwnerRole.LEAD)
        co = services.assign_owner(acting_user=coordinator, measure=leaf, agency=chongqing)
    return {"area": area, "leaf": leaf, "other": other, "lead": lead, "co": co}
