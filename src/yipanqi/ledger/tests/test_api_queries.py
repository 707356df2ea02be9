"""The measures list costs a constant number of queries, whatever the page size (owners and lights included)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from yipanqi.core.versioning import forget_local_versions
from yipanqi.directory.models import Agency
from yipanqi.ledger import services

pytestmark = pytest.mark.django_db


def _count(client, url):
    cache.clear()
    forget_local_versions()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.json()


def test_measure_list_queries_do_not_grow(api, owner, coordinator, agreement, courts):
    procuratorate = Agency.objects.get(name="四川省人民检察院")
    with transaction.atomic():
        area = services.add_measure(acting_user=coordinator, agreement=agreement, number="一", title="方面")
        for i in range(1, 31):
            leaf = services.add_measure(
                acting_user=coordinator, agreement=agreement, parent=area, number=f"一、{i}", title=f"举措{i}"
            )
            for agency in (*courts, procuratorate):
                services.assign_owner(acting_user=coordinator, measure=leaf, agency=agency)
    client = api(owner)
    small, _ = _count(client, f"/api/v1/measures/?agreement={agreement.pk}&page_size=3")
    large, large_body = _count(client, f"/api/v1/measures/?agreement={agreement.pk}&page_size=31")
    assert small == large
    assert len(large_body["results"]) == 31 and all(len(m["owners"]) == 3 for m in large_body["results"][1:])


def test_report_list_queries_do_not_grow(api, owner, tree):
    with transaction.atomic():
        for progress in range(10, 60, 10):
            services.file_report(acting_user=owner, owner=tree["lead"], text="进展", progress=progress)
    client = api(owner)
    small, _ = _count(client, "/api/v1/progress-reports/?page_size=1")
    large, body = _count(client, "/api/v1/progress-reports/?page_size=5")
    assert small == large and len(body["results"]) == 5
