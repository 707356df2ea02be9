"""The evidence log's demo: the case handlers' deposits and the platform's records anchored, once."""

from __future__ import annotations

import pytest

from yipanqi.evidence import fsck
from yipanqi.evidence.demo import DEMO_DEPOSITS, load_evidence_demo
from yipanqi.evidence.models import Checkpoint, Deposit

pytestmark = pytest.mark.django_db


def test_the_demo_deposits_and_anchors_once():
    first = load_evidence_demo()
    assert first["deposits"] == len(DEMO_DEPOSITS)
    assert first["core.auditevent"] >= len(DEMO_DEPOSITS)  # at least the deposits' own audit events
    assert Deposit.objects.filter(source="demo").count() == len(DEMO_DEPOSITS)
    assert {d.agency.name for d in Deposit.objects.filter(source="demo")} == {
        "四川省高级人民法院",
        "重庆市高级人民法院",
    }
    size = Deposit.objects.count()
    again = load_evidence_demo()
    assert again == {key: 0 for key in again}
    assert Deposit.objects.count() == size and Checkpoint.objects.order_by("-size").first().size == size
    assert fsck.run().ok
