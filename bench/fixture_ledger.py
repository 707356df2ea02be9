"""Fixture and in-process timing for bench_ledger (roll-up, board, bulletins); prints one JSON line.

The ledger is generated in SQL (generate_series), not through the services: only its shape matters and it is thrown
away. 100 areas × 10 measures × 100 items = 101,100 measures (100,000 leaves), two owners per leaf among 500
agencies of four types in 四川 and 重庆, five reports per owner: 1,000,000 reports in all. Items vary in category,
start, deadline (some past: red) and progress; the derived fields (progress, light transition dates, report due
dates) are then computed by ``services.recompute_agreement``, the code the application runs after an import.
A second agreement of 10,000 items with 300 督办 notices is the bulletin's ledger.

Timings are in-process against PostgreSQL: the board as the coordinator's whole page (Django test client: view,
queries, template) and as ``board.build_board`` alone; the baseline, in the same run, is a plain paginated list of
the same items (count + one page of 50).
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
BOARD_SAMPLES = 40
BULLETIN_SHAPE = (10, 10, 100)  # 10,000 items
BULLETIN_RUNS = 3


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))]


def build_tree(cur, aid: int, shape: tuple[int, int, int], first_agency: int, reports_per_owner: int) -> None:
    areas, measures, items = shape
    cur.execute(
        """INSERT INTO ledger_measure (agreement_id, parent_id, number, position, path, depth, is_leaf, title, text,
            category, start_on, due_on, milestones, expected_outcome, status, progress, results)
        SELECT %s, NULL, 'A' || a, a, lpad(a::text, 4, '0') || '.', 0, false, '方面' || a, '', 'regular',
               current_date - 100, current_date + 200, '[]', '', 'open', 0, ''
        FROM generate_series(1, %s) a""",
        [aid, areas],
    )
    cur.execute(
        """INSERT INTO ledger_measure (agreement_id, parent_id, number, position, path, depth, is_leaf, title, text,
            category, start_on, due_on, milestones, expected_outcome, status, progress, results)
        SELECT p.agreement_id, p.id, p.number || '.' || m, m, p.path || lpad(m::text, 4, '0') || '.', 1, false,
               '举措' || m, '', 'regular', current_date - 100, current_date + 200, '[]', '', 'open', 0, ''
        FROM ledger_measure p CROSS JOIN generate_series(1, %s) m WHERE p.agreement_id = %s AND p.depth = 0""",
        [measures, aid],
    )
    cur.execute(
        """INSERT INTO ledger_measure (agreement_id, parent_id, number, position, path, depth, is_leaf, title, text,
            category, start_on, due_on, milestones, expected_outcome, status, progress, results)
        SELECT p.agreement_id, p.id, p.number || '.' || i, i, p.path || lpad(i::text, 4, '0') || '.', 2, true,
               '子项' || i || '：推进跨区域协作事项', '',
               (ARRAY['done', 'launch', 'study', 'regular'])[1 + (p.id + i) %% 4],
               current_date - 100 - (p.id %% 60)::int, current_date - 20 + ((p.id * 31 + i * 17) %% 400)::int,
               '[]', '', 'open', 0, ''
        FROM ledger_measure p CROSS JOIN generate_series(1, %s) i WHERE p.agreement_id = %s AND p.depth = 1""",
        [items, aid],
    )
    cur.execute(
        """INSERT INTO ledger_measureowner (measure_id, agreement_id, agency_id, role, status, progress, evidence,
            results, assigned_on, last_report_at)
        SELECT m.id, m.agreement_id, %s + ((m.id * 7 + r * 3) %% %s), CASE WHEN r = 0 THEN 'lead' ELSE 'co' END,
               'in_progress', (m.id * 13 + r * 29) %% 100, '', '', current_date - 100,
               now() - ((m.id + r) %% 70)::int * interval '1 day'
        FROM ledger_measure m CROSS JOIN generate_series(0, 1) r WHERE m.agreement_id = %s AND m.is_leaf""",
        [first_agency, AGENCIES, aid],
    )
    cur.execute(
        """INSERT INTO ledger_progressreport (measure_id, owner_id, text, progress, problems, next_steps, filed_at,
            idempotency_key)
        SELECT o.measure_id, o.id, '进展' || n, least(100, o.progress + n), '', '', now() - n * interval '20 days', ''
        FROM ledger_measureowner o JOIN ledger_measure m ON m.id = o.measure_id
        CROSS JOIN generate_series(1, %s) n WHERE m.agreement_id = %s""",
        [reports_per_owner, aid],
    )


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yipanqi.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone, translation

    from yipanqi.directory.models import Agency, Circle, Region, Role, RoleGrant, User
    from yipanqi.directory.services import load_regions
    from yipanqi.ledger import board, bulletins, documents, services
    from yipanqi.ledger.models import Agreement, Measure, MeasureOwner, Supervision

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
                Agency(
                    name=f"基准单位{i:03d}",
                    type=("court", "procuratorate", "police", "justice")[i % 4],
                    level="county",
                    region=regions[(i * 7) % len(regions)],
                )
                for i in range(AGENCIES)
            ]
        )
        circle = Circle.objects.create(name="成渝地区双城经济圈", slug="chengyu", coordinating_agency=agencies[0])
        circle.regions.set(Region.objects.filter(code__in=["510000", "500000"]))
        agreement = services.create_agreement(
            acting_user=None, title="基准协议", circle=circle, signatories=agencies[:2], status="in_force"
        )
        small = services.create_agreement(
            acting_user=None, title="通报基准协议", circle=circle, signatories=agencies[:2], status="in_force"
        )
        coordinator = User.objects.create_user("bench-coordinator", password="bench-password-1", agency=agencies[0])
        RoleGrant.objects.create(user=coordinator, role=Role.COORDINATOR, circle=circle)
    aid = agreement.pk
    with connection.cursor() as cur, transaction.atomic():
        build_tree(cur, aid, (AREAS, MEASURES, ITEMS), agencies[0].pk, REPORTS_PER_OWNER)
        build_tree(cur, small.pk, BULLETIN_SHAPE, agencies[0].pk, 2)
    fixture_s = time.perf_counter() - started
    started = time.perf_counter()
    with transaction.atomic():
        services.recompute_agreement(agreement)
        services.recompute_agreement(small)
    recompute_s = time.perf_counter() - started
    today = timezone.localdate()
    with transaction.atomic():  # 督办 notices on the bulletin's ledger: 300, a third of them answered
        shares = list(MeasureOwner.objects.filter(measure__agreement=small).select_related("measure")[:300])
        Supervision.objects.bulk_create(
            Supervision(
                measure=s.measure,
                owner=s,
                light="red",
                message="请加快推进并报送整改情况",
                reply_due_on=today,
                reply="已加派专人推进" if i % 3 == 0 else "",
                status="replied" if i % 3 == 0 else "open",
                replied_at=timezone.now() if i % 3 == 0 else None,
            )
            for i, s in enumerate(shares)
        )
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    with transaction.atomic():
        for day in range(30, 0, -1):  # a month of the board's trend
            board.take_snapshots(today - timezone.timedelta(days=day))

    def timed(fn):
        t = time.perf_counter()
        fn()
        return (time.perf_counter() - t) * 1000

    def queries(fn) -> int:
        with CaptureQueriesContext(connection) as captured:
            fn()
        return len(captured)

    # Baseline: a plain paginated list of the same items.
    list_times = []
    for i in range(SAMPLES):
        qs = Measure.objects.filter(agreement_id=aid, is_leaf=True).order_by("path")
        list_times.append(timed(lambda qs=qs, i=i: (qs.count(), list(qs[i * 50 : i * 50 + 50]))))

    # The board: the coordinator's page over the whole circle, and filtered; build_board alone.
    client = Client()
    client.force_login(coordinator)
    pages = {
        "board_ms": f"/ledger/board/?circle={circle.pk}",
        "board_red_ms": f"/ledger/board/?circle={circle.pk}&light=red",
        "board_agency_ms": f"/ledger/board/?circle={circle.pk}&agency={agencies[7].pk}&page=2",
    }
    results: dict = {}
    for key, url in pages.items():
        response = client.get(url)
        if response.status_code != 200:
            sys.exit(f"fixture_ledger: {url} answered {response.status_code}")
        times = [timed(lambda url=url: client.get(url)) for _ in range(BOARD_SAMPLES)]
        results[key] = [statistics.median(times), pct(times, 95)]
        results[key.replace("_ms", "_queries")] = queries(lambda url=url: client.get(url))
    filters = board.BoardFilters(circle=circle)
    build_times = [
        timed(lambda: board.build_board(coordinator, filters, today, trend_scope=(circle, None)))
        for _ in range(BOARD_SAMPLES)
    ]
    results["build_ms"] = [statistics.median(build_times), pct(build_times, 95)]

    # Roll-up after a new report (through the service: lock, report, share, audit, leaf-to-root recomputation).
    rng = random.Random(2026)
    owner_ids = list(MeasureOwner.objects.filter(measure__agreement_id=aid).values_list("pk", flat=True))
    owners = list(MeasureOwner.objects.filter(pk__in=rng.sample(owner_ids, SAMPLES)).select_related("measure"))
    rollup_times = [
        timed(
            lambda o=o: services.file_report(acting_user=None, owner=o, text="基准进展", progress=rng.randint(0, 100))
        )
        for o in owners
    ]

    # A bulletin over the 10,000 items: the content (queries) plus each document.
    with transaction.atomic():
        bulletin = bulletins.create_bulletin(
            acting_user=None,
            circle=circle,
            agreement=small,
            period_start=today.replace(day=1) - timezone.timedelta(days=31),
            period_end=today,
        )
    docx_s, pdf_s, content_s = [], [], []
    with translation.override("zh-hans"):
        for _ in range(BULLETIN_RUNS):
            t = time.perf_counter()
            content = bulletins.bulletin_content(bulletin)
            content_s.append(time.perf_counter() - t)
            t = time.perf_counter()
            documents.render_docx(content)
            docx_s.append(time.perf_counter() - t + content_s[-1])
            t = time.perf_counter()
            documents.render_pdf(content)
            pdf_s.append(time.perf_counter() - t + content_s[-1])
    print(
        json.dumps(
            {
                "measures": Measure.objects.filter(agreement_id=aid).count(),
                "items": Measure.objects.filter(agreement_id=aid, is_leaf=True).count(),
                "agencies": AGENCIES,
                "reports": REPORTS_PER_OWNER * len(owner_ids) + SAMPLES,
                "fixture_s": fixture_s,
                "recompute_s": recompute_s,
                "list_ms": [statistics.median(list_times), pct(list_times, 95)],
                "rollup_ms": [statistics.median(rollup_times), pct(rollup_times, 95)],
                **results,
                "bulletin_items": Measure.objects.filter(agreement=small, is_leaf=True).count(),
                "bulletin_rows": {
                    "agencies": len(content.agencies),
                    "overdue": len(content.overdue_items),
                    "behind": len(content.behind_items),
                    "supervisions": len(content.supervisions),
                },
                "bulletin_content_s": max(content_s),
                "bulletin_docx_s": max(docx_s),
                "bulletin_pdf_s": max(pdf_s),
            }
        )
    )
    assert Agreement.objects.filter(pk=aid).exists()


if __name__ == "__main__":
    main()
