"""Fixture and in-process timing for bench_ledger_rollup; prints one JSON line.

The ledger is generated in SQL (generate_series), not through the services: only its shape matters and it is thrown
away. 100 areas × 10 measures × 100 items = 101,100 measures (100,000 leaves), two owners per leaf among 500
agencies, five reports per owner: 1,000,000 reports in all.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time

AREAS, MEASURES, ITEMS = 100, 10, 100
AGENCIES = 500
REPORTS_PER_OWNER = 5  # 100,000 leaves × 2 owners × 5 = 1,000,000 reports
SAMPLES = 200


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))]


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yipanqi.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction

    from yipanqi.directory.models import Agency, Circle, Region
    from yipanqi.directory.services import load_regions
    from yipanqi.ledger import services
    from yipanqi.ledger.models import Agreement, Measure, MeasureOwner

    if settings.DEBUG:
        sys.exit("fixture_ledger: DEBUG must be off for a benchmark (set DEBUG=0)")
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    load_regions()
    regions = list(Region.objects.filter(path__startswith="/510000/")) + list(
        Region.objects.filter(path__startswith="/500000/")
    )
    with transaction.atomic():
        agencies = Agency.objects.bulk_create(
            [
                Agency(name=f"基准单位{i:03d}", type="court", level="county", region=regions[i % len(regions)])
                for i in range(AGENCIES)
            ]
        )
        circle = Circle.objects.create(name="成渝地区双城经济圈", slug="chengyu", coordinating_agency=agencies[0])
        circle.regions.set(Region.objects.filter(code__in=["510000", "500000"]))
        agreement = services.create_agreement(
            acting_user=None, title="基准协议", circle=circle, signatories=agencies[:2], status="in_force"
        )
    aid, a0 = agreement.pk, agencies[0].pk
    with connection.cursor() as cur, transaction.atomic():
        cur.execute(
            """
            INSERT INTO ledger_measure (agreement_id, parent_id, number, position, path, depth, is_leaf, title, text,
                category, start_on, due_on, milestones, expected_outcome, status, progress, results)
            SELECT %s, NULL, 'A' || a, a, lpad(a::text, 4, '0') || '.', 0, false, '方面' || a, '', 'regular',
                   current_date - 100, current_date + 200, '[]', '', 'open', 0, ''
            FROM generate_series(1, %s) a""",
            [aid, AREAS],
        )
        cur.execute(
            """
            INSERT INTO ledger_measure (agreement_id, parent_id, number, position, path, depth, is_leaf, title, text,
                category, start_on, due_on, milestones, expected_outcome, status, progress, results)
            SELECT p.agreement_id, p.id, p.number || '.' || m, m, p.path || lpad(m::text, 4, '0') || '.', 1, false,
                   '举措' || m, '', 'regular', current_date - 100, current_date + 200, '[]', '', 'open', 0, ''
            FROM ledger_measure p CROSS JOIN generate_series(1, %s) m WHERE p.agreement_id = %s AND p.depth = 0""",
            [MEASURES, aid],
        )
        cur.execute(
            """
            INSERT INTO ledger_measure (agreement_id, parent_id, number, position, path, depth, is_leaf, title, text,
                category, start_on, due_on, milestones, expected_outcome, status, progress, results)
            SELECT p.agreement_id, p.id, p.number || '.' || i, i, p.path || lpad(i::text, 4, '0') || '.', 2, true,
                   '子项' || i, '', 'regular', current_date - 100, current_date + 200, '[]', '', 'open', 0, ''
            FROM ledger_measure p CROSS JOIN generate_series(1, %s) i WHERE p.agreement_id = %s AND p.depth = 1""",
            [ITEMS, aid],
        )
        cur.execute(
            """
            INSERT INTO ledger_measureowner (measure_id, agency_id, role, status, progress, evidence, results)
            SELECT m.id, %s + ((m.id * 7 + r) %% %s), CASE WHEN r = 0 THEN 'lead' ELSE 'co' END, 'in_progress',
                   (m.id * 13 + r * 29) %% 90, '', ''
            FROM ledger_measure m CROSS JOIN generate_series(0, 1) r WHERE m.agreement_id = %s AND m.is_leaf""",
            [a0, AGENCIES, aid],
        )
        cur.execute(
            """
            INSERT INTO ledger_progressreport (measure_id, owner_id, text, progress, problems, next_steps, filed_at,
                idempotency_key)
            SELECT o.measure_id, o.id, '进展' || n, least(100, o.progress + n), '', '',
                   now() - n * interval '20 days', ''
            FROM ledger_measureowner o CROSS JOIN generate_series(1, %s) n""",
            [REPORTS_PER_OWNER],
        )
        cur.execute("ANALYZE")
    fixture_s = time.perf_counter() - started
    rng = random.Random(2026)
    owner_ids = list(MeasureOwner.objects.filter(measure__agreement_id=aid).values_list("pk", flat=True))
    owners = list(MeasureOwner.objects.filter(pk__in=rng.sample(owner_ids, SAMPLES)).select_related("measure"))

    def timed(fn):
        t = time.perf_counter()
        fn()
        return (time.perf_counter() - t) * 1000

    list_times = []
    for i in range(SAMPLES):
        qs = Measure.objects.filter(agreement_id=aid).order_by("path")
        list_times.append(timed(lambda qs=qs, i=i: (qs.count(), list(qs[i * 50 : i * 50 + 50]))))
    rollup_times = [
        timed(
            lambda o=o: services.file_report(acting_user=None, owner=o, text="基准进展", progress=rng.randint(0, 100))
        )
        for o in owners
    ]
    print(
        json.dumps(
            {
                "measures": Measure.objects.filter(agreement_id=aid).count(),
                "agencies": AGENCIES,
                "reports": REPORTS_PER_OWNER * len(owner_ids) + SAMPLES,
                "fixture_s": fixture_s,
                "list_ms": [statistics.median(list_times), pct(list_times, 95)],
                "rollup_ms": [statistics.median(rollup_times), pct(rollup_times, 95)],
            }
        )
    )
    assert Agreement.objects.filter(pk=aid).exists()


if __name__ == "__main__":
    main()
