"""Two owners filing at once lose nothing: the roll-up runs under a lock on the agreement (PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from yipanqi.directory.models import Agency, Circle, Region, Role, RoleGrant, User
from yipanqi.ledger import services
from yipanqi.ledger.models import Measure, MeasureOwner, ProgressReport


def _cast():
    """Own data: transactional tests start from whatever the database holds and leave it flushed."""
    region, _ = Region.objects.get_or_create(
        code="990100", defaults={"name": "测试市", "kind": "地级市", "level": "city", "path": "/990100/"}
    )
    agencies = [
        Agency.objects.create(name=f"并发测试单位{i}", type="court", level="city", region=region) for i in (1, 2)
    ]
    circle = Circle.objects.create(name="并发测试协作区", slug="concurrency-test", coordinating_agency=agencies[0])
    circle.member_agencies.set(agencies)
    users = []
    for i, agency in enumerate(agencies):
        user = User.objects.create(username=f"concurrent{i}", agency=agency)
        RoleGrant.objects.create(user=user, role=Role.LIAISON)
        users.append(user)
    with transaction.atomic():
        agreement = services.create_agreement(acting_user=None, title="并发协议", circle=circle, signatories=agencies)
        area = services.add_measure(acting_user=None, agreement=agreement, number="一", title="方面")
        leaves = [
            services.add_measure(
                acting_user=None, agreement=agreement, parent=area, number=f"一、{i}", title=f"举措{i}"
            )
            for i in (1, 2)
        ]
        owners = [
            [services.assign_owner(acting_user=None, measure=leaf, agency=agency) for agency in agencies]
            for leaf in leaves
        ]
    return users, area, leaves, owners


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL; SQLite serialises writers")
@pytest.mark.django_db(transaction=True)
def test_concurrent_reports_lose_nothing():
    users, area, leaves, owners = _cast()
    barrier = threading.Barrier(4)
    errors = []

    def report(user, owner, progress):
        try:
            barrier.wait(timeout=10)
            services.file_report(acting_user=User.objects.get(pk=user.pk), owner=owner, text="并发", progress=progress)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    jobs = [
        (users[0], owners[0][0], 40),
        (users[1], owners[0][1], 80),  # both owners of 一、1
        (users[0], owners[1][0], 20),
        (users[1], owners[1][1], 60),  # both owners of 一、2
    ]
    threads = [threading.Thread(target=report, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert ProgressReport.objects.count() == 4
    assert sorted(MeasureOwner.objects.values_list("progress", flat=True)) == [20, 40, 60, 80]
    assert [Measure.objects.get(pk=leaf.pk).progress for leaf in leaves] == [60, 40]
    assert Measure.objects.get(pk=area.pk).progress == 50
