"""Fixture and in-process timing for bench_meetings (a meeting of 200 topics and 1,000 decisions); prints one JSON line.

Two series of the same 12 member agencies under one standing agreement of 600 ledger items (two owners each, varied
deadlines, some past: red). Each series has a held meeting whose minutes every member approved, and the next meeting,
planned, which opens with the held meeting's open decisions and the topics it left unfinished:

- big: 200 topics (two linked measures each) and 1,000 decisions — a third for information, a third that created a
  ledger item (lead, two co-owners, deadline), a third that moved the deadline of two items; all entered in the
  ledger; 20 topics unfinished and carried over, so the next meeting opens with ~670 open decisions;
- small: the same mix with 5 topics and 10 decisions (1 topic carried over).

Series, meetings and minutes go through ``meetings.services``; the topics, decisions and their links are
bulk-inserted (only their shape matters, and it is thrown away). Then, as the host agency's liaison through Django's
test client (view, queries, template or serializer; no network), each page and API call is timed SAMPLES times and
its queries counted for the small and the big meeting: the counts must be equal (constant queries). Baselines in the
same run and process: the login page (a template, no database) for pages and the API root (DRF, signed in) for the
API.
"""

from __future__ import annotations

import cProfile
import gc
import io
import json
import os
import pstats
import statistics
import sys
import time

AGENCIES = 12
ITEMS = 600
SAMPLES = int(os.environ.get("BENCH_SAMPLES", "50"))
WARMUP = 3
BIG = (200, 1000, 20)  # topics, decisions, unfinished topics
SMALL = (5, 10, 1)


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
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from yipanqi.core.startup import freeze_startup_heap
    from yipanqi.directory.models import Agency, Circle, Region, Role, RoleGrant, User
    from yipanqi.directory.services import load_regions
    from yipanqi.ledger import services as ledger
    from yipanqi.ledger.models import Measure, MeasureOwner
    from yipanqi.meetings import services
    from yipanqi.meetings.minutes import draft_text
    from yipanqi.meetings.models import (
        Decision,
        Meeting,
        MeetingStatus,
        MinutesApproval,
        MinutesStatus,
        Topic,
        TopicOutcome,
    )

    if settings.DEBUG:
        sys.exit("fixture_meetings: DEBUG must be off for a benchmark (set DEBUG=0)")
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    load_regions()
    today = timezone.localdate()
    now = timezone.now()
    days = timezone.timedelta

    with transaction.atomic():
        provinces = list(Region.objects.filter(code__in=["510000", "500000"]).order_by("code"))
        agencies = Agency.objects.bulk_create(
            Agency(
                name=f"基准成员单位{i:02d}",
                type=("court", "procuratorate", "police", "justice")[i % 4],
                level="province",
                region=provinces[i % 2],
            )
            for i in range(AGENCIES)
        )
        circle = Circle.objects.create(name="成渝地区双城经济圈", slug="chengyu", coordinating_agency=agencies[0])
        circle.regions.set(provinces)
        host = agencies[0]
        liaison = User.objects.create_user("bench-liaison", password="bench-password-1", agency=host)
        RoleGrant.objects.create(user=liaison, role=Role.LIAISON)
        RoleGrant.objects.create(user=liaison, role=Role.HANDLER)

        # The standing agreement: one area of ITEMS leaves, two owners each, deadlines from 60 days ago on.
        agreement = ledger.create_agreement(
            acting_user=None,
            title="基准联席会议协作协议",
            circle=circle,
            signatories=agencies,
            status="in_force",
            signed_on=today - days(400),
            valid_from=today - days(400),
        )
        area = ledger.add_measure(acting_user=None, agreement=agreement, number="一", title="协作事项")
        Measure.objects.filter(pk=area.pk).update(is_leaf=False)
        items = Measure.objects.bulk_create(
            Measure(
                agreement=agreement,
                parent=area,
                number=f"一、{i}",
                position=i,
                path=f"{area.path}{i:04d}.",
                depth=1,
                is_leaf=True,
                title=f"基准协作事项{i}：推进跨区域执法司法协作",
                category=("done", "launch", "study", "regular")[i % 4],
                start_on=today - days(300),
                due_on=today + days(-60 + (i * 37) % 400),
            )
            for i in range(1, ITEMS + 1)
        )
        MeasureOwner.objects.bulk_create(
            MeasureOwner(
                measure=item,
                agreement=agreement,
                agency=agencies[(k + r) % AGENCIES],
                role="lead" if r == 0 else "co",
                status="in_progress",
                progress=(k * 13 + r * 29) % 100,
                assigned_on=today - days(300),
                last_report_at=now - days(k % 70),
            )
            for k, item in enumerate(items)
            for r in (0, 1)
        )
        ledger.recompute_agreement(agreement)

    def build(title: str, shape: tuple[int, int, int]) -> tuple[Meeting, Meeting]:
        """A series, its held meeting of ``shape`` with approved minutes, and the next meeting (planned)."""
        n_topics, n_decisions, n_unfinished = shape
        with transaction.atomic():
            series = services.create_series(
                acting_user=None,
                title=title,
                circle=circle,
                members=agencies,
                standing_agreement=agreement,
                rotation_rule="fixed",
            )
            held = services.schedule_meeting(
                acting_user=None, series=series, starts_at=now - days(30), host=host, place="成都"
            )
            topics = Topic.objects.bulk_create(
                Topic(
                    meeting=held,
                    position=i,
                    title=f"议题{i}：研究跨区域协作中的具体问题",
                    description="会商协作推进情况，研究解决存在的困难和问题。",
                    proposed_by_agency=agencies[i % AGENCIES],
                    proposed_by=liaison if i % AGENCIES == 0 else None,
                    outcome=TopicOutcome.UNFINISHED if i > n_topics - n_unfinished else TopicOutcome.CONCLUDED,
                )
                for i in range(1, n_topics + 1)
            )
            Topic.measures.through.objects.bulk_create(
                Topic.measures.through(topic=topic, measure=items[(k * 2 + j) % ITEMS])
                for k, topic in enumerate(topics)
                for j in (0, 1)
            )
            decisions = []
            for i in range(n_decisions):
                kind = ("info", "new", "update")[i % 3]
                decisions.append(
                    Decision(
                        meeting=held,
                        topic=topics[i * n_topics // n_decisions],
                        position=i + 1,
                        kind=kind,
                        title=f"议定事项{i + 1}：明确协作任务和完成时限",
                        text="由牵头单位会同协办单位推进落实，按期报送进展情况。" if i % 2 else "",
                        target="standing" if kind == "new" else "",
                        lead=agencies[i % AGENCIES] if kind == "new" else None,
                        due_on=today + days(-40 + (i * 11) % 300) if kind == "new" else None,
                        created_measure=items[(i * 7) % ITEMS] if kind == "new" else None,
                        new_due_on=today + days(90) if kind == "update" else None,
                        applied_at=now - days(20),
                        created_by=liaison,
                    )
                )
            decisions = Decision.objects.bulk_create(decisions)
            Decision.co_owners.through.objects.bulk_create(
                Decision.co_owners.through(decision=d, agency=agencies[(i + j) % AGENCIES])
                for i, d in enumerate(decisions)
                if d.kind == "new"
                for j in (1, 2)
            )
            Decision.measures.through.objects.bulk_create(
                Decision.measures.through(decision=d, measure=items[(i * 5 + j) % ITEMS])
                for i, d in enumerate(decisions)
                if d.kind == "update"
                for j in (0, 1)
            )
            Meeting.objects.filter(pk=held.pk).update(status=MeetingStatus.HELD, held_at=now - days(30))
            held.refresh_from_db()
            text = draft_text(held)
            Meeting.objects.filter(pk=held.pk).update(
                status=MeetingStatus.MINUTES_APPROVED,
                minutes_status=MinutesStatus.APPROVED,
                minutes_text=text,
                minutes_submitted_at=now - days(25),
                minutes_approved_at=now - days(20),
            )
            MinutesApproval.objects.bulk_create(
                MinutesApproval(meeting=held, agency=agency, text_digest=services.digest(text)) for agency in agencies
            )
            # The next meeting: scheduling it carries the unfinished topics over.
            following = services.schedule_meeting(
                acting_user=None, series=series, starts_at=now + days(30), place="重庆"
            )
        return held, following

    big, big_next = build("基准联席会议（大）", BIG)
    small, small_next = build("基准联席会议（小）", SMALL)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("ANALYZE")
    fixture_s = time.perf_counter() - started

    client = Client()
    client.force_login(liaison)
    anonymous = Client()
    if os.environ.get("BENCH_GC_FREEZE", "1") != "0":
        # As the WSGI application does once loaded (yipanqi.wsgi → core.startup): BENCH_GC_FREEZE=0 measures without.
        freeze_startup_heap()

    def check(response, url: str, expect: str | int | None) -> None:
        if response.status_code != 200:
            sys.exit(f"fixture_meetings: GET {url} answered {response.status_code}: {response.content[:300]!r}")
        if isinstance(expect, int):
            count = (
                response.json().get("count")
                if response.get("Content-Type", "").startswith("application/json")
                else None
            )
            if count != expect:
                sys.exit(f"fixture_meetings: GET {url}: count {count}, expected {expect}")
        elif expect and expect not in response.content.decode():
            sys.exit(f"fixture_meetings: GET {url} does not show {expect!r}")

    def measure(c: Client, url: str) -> tuple[list[float], int]:
        for _ in range(WARMUP):
            c.get(url)
        times = []
        for _ in range(SAMPLES):
            t = time.perf_counter()
            c.get(url)
            times.append((time.perf_counter() - t) * 1000)
        with CaptureQueriesContext(connection) as captured:
            c.get(url)
        return times, len(captured)

    def summary(times) -> list[float]:
        return [statistics.median(times), pct(times, 95)]

    baselines = {}
    for key, c, url in (("login page", anonymous, "/login/"), ("API root", client, "/api/v1/")):
        check(c.get(url), url, None)
        times, queries = measure(c, url)
        baselines[key] = {"url": url, "ms": summary(times), "queries": queries}

    # (case, baseline, url pattern, expected: text shown on the page or the list's count, small and big)
    cases = [
        ("meeting page, held meeting", "login page", "/meetings/{pk}/", ("议题1：", "议题1：")),
        ("meeting page, next meeting (open decisions)", "login page", "/meetings/{next}/", ("议定事项", "议定事项")),
        ("API meeting detail", "API root", "/api/v1/meetings/{pk}/", (None, None)),
        ("API topics ?meeting=", "API root", "/api/v1/meeting-topics/?meeting={pk}", (SMALL[0], BIG[0])),
        ("API decisions ?meeting=", "API root", "/api/v1/meeting-decisions/?meeting={pk}", (SMALL[1], BIG[1])),
    ]
    # BENCH_PROFILE="held,topics": print a cProfile of the big meeting's cases whose name contains one of these.
    profile = [word for word in os.environ.get("BENCH_PROFILE", "").split(",") if word]
    results = []
    for name, baseline, pattern, (expect_small, expect_big) in cases:
        row = {"case": name, "baseline": baseline}
        for size, (held, following, expect) in {
            "small": (small, small_next, expect_small),
            "big": (big, big_next, expect_big),
        }.items():
            url = pattern.format(pk=held.pk, next=following.pk)
            check(client.get(url), url, expect)
            times, queries = measure(client, url)
            row[f"{size}_url"] = url
            row[f"{size}_ms"] = summary(times)
            row[f"{size}_queries"] = queries
            if size == "big" and any(word in name for word in profile):
                profiler = cProfile.Profile()
                profiler.runcall(client.get, url)
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
                print(f"--- profile of {url}\n{out.getvalue()}", file=sys.stderr)
                with CaptureQueriesContext(connection) as captured:
                    client.get(url)
                for query in sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:5]:
                    print(f"--- {query['time']} s: {query['sql'][:1500]}", file=sys.stderr)
        results.append(row)

    print(
        json.dumps(
            {
                "fixture_s": fixture_s,
                "samples": SAMPLES,
                "gc_frozen": gc.get_freeze_count(),
                "big": {
                    "topics": Topic.objects.filter(meeting=big).count(),
                    "decisions": Decision.objects.filter(meeting=big).count(),
                    "next_topics": Topic.objects.filter(meeting=big_next).count(),
                },
                "small": {
                    "topics": Topic.objects.filter(meeting=small).count(),
                    "decisions": Decision.objects.filter(meeting=small).count(),
                },
                "baselines": baselines,
                "cases": results,
            }
        )
    )


if __name__ == "__main__":
    main()
