"""Fixture and in-process timing for bench_assistance: 1,000,000 requests and 5,000,000 events; prints one JSON line.

``fixture_assistance.py build``: migrate, load the regions, create 1,000 agencies (court, procuratorate, police,
justice in turn; 80 % in 四川 and 重庆, the circle 成渝), two people and two departments each, two API keys, then
generate the requests in SQL (generate_series; only their shape matters and it is thrown away):

- every 20th request goes to one busy court (46,192 received); the busy court is the superior of 重庆's other courts,
  so their overdue 委托执行 are escalated to it (195 more in its inbox); the others go between agencies of the same
  type, of the kinds that type sends (委托执行, 跨域立案, 协查, 社区矫正 …); counterpart, kind, urgency and state are
  drawn with ``hashint8extended`` so that they do not correlate;
- requests are 90 s apart over ~2.9 years; the older 90 % are mostly closed (some returned, withdrawn, abandoned
  drafts, a few still open and long overdue), the newest 10 % are in every state, with their clocks from the kind's
  policy (sign, accept, finish; due_at and warn_at as ``deadlines.set_current`` stores them), so every light occurs;
- each request has the events its path through the lifecycle writes (created, sent, signed, accepted, started,
  answered, closed; returned, withdrawn, paused, escalated; a direct acceptance skips the signing), plus one thread
  message on enough requests to make exactly 5,000,000 events, ordered by time; one FeedEntry per event for the
  sender and the receiver (and the superior of an escalation), one hop per sent request, a receipt per
  sent/signed/accepted/answered event and the required attachments' rows (files are not written);
- numbers as ``services._number`` gives them (sender's region code, year, count within both), with the matching
  ``RequestCounter`` rows.

Secondary indexes and unique constraints of the bulk tables are dropped for the load and rebuilt afterwards, and
foreign-key triggers are off for the load (``session_replication_role``): the generated keys are consistent by
construction. Then ``VACUUM ANALYZE``. Audit rows and notifications of the history are not generated.

``fixture_assistance.py measure INFO_JSON``: in one process, through Django's test client (view, queries, template or
serializer; no network), each page and API URL is checked (200 and what it must show: the list's count is what
``selectors.inbox`` lists), warmed up, timed ``BENCH_SAMPLES`` times and its queries counted. Baselines in the same
process: the login page (a template, no database) for pages and the API root for the API.
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

REQUESTS = int(os.environ.get("BENCH_ASSISTANCE_REQUESTS", "1000000"))
EVENTS = 5 * REQUESTS
AGENCIES = 1000  # a multiple of 4: the types take turns
BUSY_EVERY = 20  # every 20th request goes to the busy agency
RECENT_SHARE = 0.1  # the newest 10 % are in every state; the older ones mostly done
SPACING_S = 90
SAMPLES = int(os.environ.get("BENCH_SAMPLES", "50"))
WARMUP = 3
PASSWORD = "bench-password-1"
TYPES = ("court", "procuratorate", "police", "justice")  # the busy agency (k = 1) is a court
KINDS_BY_TYPE = {
    "court": ("entrusted_execution", "court_matter", "cross_filing", "file_access"),
    "procuratorate": ("evidence", "asset_control", "lead_transfer", "file_access"),
    "police": ("investigation", "fugitive", "evidence", "asset_control"),
    "justice": ("community_correction", "release_handover", "notary_verification", "lawyer_rights"),
}
# Hours after drafting at which each step happens (scaled down for requests younger than 300 hours).
STEP_HOURS = {
    "created": 0,
    "sent": 1,
    "withdrawn": 20,
    "signed": 3,
    "accepted": 24,
    "started": 26,
    "returned": 30,
    "message": 36,
    "paused": 72,
    "answered": 240,
    "closed": 288,
}
BY_SENDER = {"created", "sent", "withdrawn", "closed"}
_SENT = ["created", "sent"]
_ACCEPTED = [*_SENT, "signed", "accepted"]
PATHS = {  # name: (final status, steps)
    "draft": ("draft", ["created"]),
    "sent": ("sent", _SENT),
    "received": ("received", [*_SENT, "signed"]),
    "returned": ("returned", [*_SENT, "returned"]),
    "withdrawn": ("withdrawn", [*_SENT, "withdrawn"]),
    "accepted_direct": ("accepted", [*_SENT, "accepted"]),
    "accepted": ("accepted", _ACCEPTED),
    "in_progress": ("in_progress", [*_ACCEPTED, "started"]),
    "paused": ("paused", [*_ACCEPTED, "started", "paused"]),
    "answered": ("answered", [*_ACCEPTED, "started", "answered"]),
    "answered_direct": ("answered", [*_SENT, "accepted", "answered"]),
    "closed": ("closed", [*_ACCEPTED, "started", "answered", "closed"]),
    "closed_direct": ("closed", [*_SENT, "accepted", "answered", "closed"]),
}
MIX = {  # per mille of the older and of the newest requests
    False: {
        "closed_direct": 500,
        "closed": 200,
        "answered_direct": 50,
        "returned": 60,
        "withdrawn": 50,
        "in_progress": 20,
        "accepted_direct": 10,
        "received": 5,
        "sent": 5,
        "draft": 100,
    },
    True: {
        "draft": 50,
        "sent": 100,
        "received": 100,
        "returned": 40,
        "withdrawn": 20,
        "accepted": 120,
        "in_progress": 250,
        "paused": 30,
        "answered": 100,
        "closed": 190,
    },
}
BULK_TABLES = [
    "assistance_assistancerequest",
    "assistance_requestevent",
    "assistance_feedentry",
    "assistance_requesthop",
    "assistance_receipt",
    "assistance_attachment",
    "assistance_requestmessage",
]


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))]


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yipanqi.settings")
    import django

    django.setup()
    from django.conf import settings

    if settings.DEBUG:
        sys.exit("fixture_assistance: DEBUG must be off for a benchmark (set DEBUG=0)")


def sample_fields(schema: dict) -> dict:
    """Details that fill every property of a kind's schema (an enum's first option, a date, a short text)."""
    fields = {}
    for name, prop in schema.get("properties", {}).items():
        if "enum" in prop:
            fields[name] = prop["enum"][0]
        elif prop.get("format") == "date":
            fields[name] = "2026-12-01"
        else:
            fields[name] = f"{prop.get('title', name)}：基准数据"
    return fields


# --------------------------------------------------------------------------- build


def build() -> dict:
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection, transaction

    from yipanqi.assistance.models import AssistanceRequest, RequestKind
    from yipanqi.directory.models import Agency, Circle, Department, Region, Role, RoleGrant, User
    from yipanqi.directory.services import issue_api_key, load_regions

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    if AssistanceRequest.objects.exists():
        sys.exit("fixture_assistance: the database already holds requests; build into an empty one")
    load_regions()
    chengyu = list(Region.objects.filter(path__regex=r"^/(510000|500000)/[0-9]+/").order_by("code"))
    elsewhere = list(Region.objects.filter(level="city").exclude(path__regex=r"^/(510000|500000)/").order_by("code"))
    kinds = {k.code: k for k in RequestKind.objects.all()}
    with transaction.atomic():
        busy_region = Region.objects.get(code="500000")
        agencies = [Agency(name="基准重庆市高级人民法院", type="court", level="province", region=busy_region)]
        for k in range(2, AGENCIES + 1):
            region = chengyu[(k * 7) % len(chengyu)] if k % 5 else elsewhere[(k * 3) % len(elsewhere)]
            agencies.append(Agency(name=f"基准单位{k:04d}", type=TYPES[(k - 1) % 4], level=region.level, region=region))
        agencies = Agency.objects.bulk_create(agencies)
        # The busy court is the superior of the other courts in 重庆: overdue 委托执行 escalate to it.
        subordinates = [a.pk for a in agencies[1:] if a.type == "court" and a.region.path.startswith("/500000/")]
        Agency.objects.filter(pk__in=subordinates).update(parent=agencies[0])
        parents = {pk: agencies[0].pk for pk in subordinates}
        circle = Circle.objects.create(
            name="成渝地区双城经济圈", short_name="成渝", slug="chengyu", coordinating_agency=agencies[0]
        )
        circle.regions.set(Region.objects.filter(code__in=["510000", "500000"]))
        departments = Department.objects.bulk_create(
            Department(agency=agency, name=name) for agency in agencies for name in ("执行局", "立案庭")
        )
        password = make_password(PASSWORD)
        people = []
        for k, agency in enumerate(agencies, start=1):
            people.append(User(username=f"a{k:04d}-liaison", full_name=f"联络员{k}", password=password, agency=agency))
            people.append(
                User(
                    username=f"a{k:04d}-handler",
                    full_name=f"承办人{k}",
                    password=password,
                    agency=agency,
                    department=departments[2 * (k - 1)],
                )
            )
        people = User.objects.bulk_create(people)
        RoleGrant.objects.bulk_create(
            [RoleGrant(user=u, role=Role.LIAISON) for u in people[0::2]]
            + [RoleGrant(user=u, role=Role.HANDLER) for u in people]
        )
        busy = agencies[0]
        # The create-and-send clients: one police agency's system, in a region of its own (numbers by region code).
        codes = [a.region.code for a in agencies]
        sender = next(
            a
            for k, a in enumerate(agencies, start=1)
            if TYPES[(k - 1) % 4] == "police" and codes.count(a.region.code) == 1
        )
        receiver = next(a for a in agencies[1:] if a.type == "police" and a.pk != sender.pk)
        scopes = ["assistance:read", "assistance:write"]
        busy_key = issue_api_key(acting_user=None, agency=busy, name="基准收文系统", scopes=scopes)
        sender_key = issue_api_key(acting_user=None, agency=sender, name="基准发文系统", scopes=scopes)
        in_circle = set(Agency.objects.filter(region__path__regex=r"^/(510000|500000)/").values_list("pk", flat=True))

    with connection.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '1GB'")
        cur.execute("SET work_mem = '256MB'")
        cur.execute("SET max_parallel_maintenance_workers = 2")
        load_tables(cur, agencies, departments, people, kinds, in_circle, parents)
        generate(cur)
        cur.execute("VACUUM ANALYZE")
        cur.execute("SELECT count(*) FROM assistance_requestevent")
        events = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM assistance_feedentry")
        feed = cur.fetchone()[0]
    return {
        "fixture_s": time.perf_counter() - started,
        "requests": AssistanceRequest.objects.count(),
        "events": events,
        "feed_entries": feed,
        "busy_agency": busy.pk,
        "busy_key": busy_key.token,
        "sender_agency": sender.pk,
        "sender_key": sender_key.token,
        "receiver_agency": receiver.pk,
        "kind": "investigation",
        "kind_id": kinds["investigation"].pk,
        "fields": sample_fields(kinds["investigation"].fields_schema),
    }


def interval(amount: int, unit: str) -> str:
    """A clock of the kind's policy as a PostgreSQL interval (working days taken as 7/5 calendar days)."""
    if unit == "workdays":
        return f"{round(amount * 7 / 5)} days"
    return f"{amount} {unit}"


def load_tables(cur, agencies, departments, people, kinds, in_circle, parents) -> None:
    """Small lookup tables the generating SQL joins: agencies by k, kinds by type and slot, the lifecycle paths."""
    cur.execute(
        """CREATE TEMP TABLE bench_agency (k int PRIMARY KEY, id int, type_idx int, region_code text, in_circle bool,
            liaison_id int, handler_id int, dept_id int, parent_id int)"""
    )
    cur.executemany(
        "INSERT INTO bench_agency VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [
            (
                k,
                a.pk,
                (k - 1) % 4,
                a.region.code,
                a.pk in in_circle,
                people[2 * (k - 1)].pk,
                people[2 * (k - 1) + 1].pk,
                departments[2 * (k - 1)].pk,
                parents.get(a.pk),
            )
            for k, a in enumerate(agencies, start=1)
        ],
    )
    cur.execute(
        """CREATE TEMP TABLE bench_kind (type_idx int, slot int, kind_id int, code text, fields jsonb, labels text[],
            sign_iv interval, accept_iv interval, finish_iv interval, urgent_iv interval)"""
    )
    cur.executemany(
        "INSERT INTO bench_kind VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [
            (
                t,
                slot,
                kinds[code].pk,
                code,
                json.dumps(sample_fields(kinds[code].fields_schema), ensure_ascii=False),
                list(kinds[code].required_attachments),
                interval(kinds[code].sign_within, kinds[code].sign_unit),
                interval(kinds[code].accept_within, kinds[code].accept_unit),
                interval(kinds[code].finish_within, kinds[code].finish_unit),
                interval(kinds[code].urgent_finish_hours, "hours") if kinds[code].urgent_finish_hours else None,
            )
            for t, type_ in enumerate(TYPES)
            for slot, code in enumerate(KINDS_BY_TYPE[type_])
        ],
    )
    names = list(PATHS)
    cur.execute(
        """CREATE TEMP TABLE bench_path (path int PRIMARY KEY, status text, steps int, signed bool, sent_h float,
            received_h float, accepted_h float, answered_h float, closed_h float, paused_h float)"""
    )
    rows = []
    for p, name in enumerate(names):
        status, steps = PATHS[name]
        hour = {step: STEP_HOURS[step] for step in steps}
        received = hour.get("signed", hour.get("accepted"))
        rows.append(
            (
                p,
                status,
                len(steps),
                "signed" in hour,
                hour.get("sent"),
                received,
                hour.get("accepted"),
                hour.get("answered"),
                hour.get("closed"),
                hour.get("paused"),
            )
        )
    cur.executemany("INSERT INTO bench_path VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", rows)
    cur.execute("CREATE TEMP TABLE bench_step (path int, n int, kind text, hours float, by_sender bool)")
    cur.executemany(
        "INSERT INTO bench_step VALUES (%s, %s, %s, %s, %s)",
        [
            (p, n, step, STEP_HOURS[step], step in BY_SENDER)
            for p, name in enumerate(names)
            for n, step in enumerate(PATHS[name][1])
        ],
    )
    cur.execute("CREATE TEMP TABLE bench_bucket (recent bool, bucket int, path int, PRIMARY KEY (recent, bucket))")
    buckets = []
    for recent, mix in MIX.items():
        assert sum(mix.values()) == 1000, mix
        expanded = [names.index(name) for name, share in mix.items() for _ in range(share)]
        buckets += [(recent, b, p) for b, p in enumerate(expanded)]
    cur.executemany("INSERT INTO bench_bucket VALUES (%s, %s, %s)", buckets)
    cur.execute(
        "ANALYZE bench_agency; ANALYZE bench_kind; ANALYZE bench_path; ANALYZE bench_step; ANALYZE bench_bucket"
    )


def timed_sql(cur, label: str, sql: str, params=None) -> None:
    t = time.perf_counter()
    cur.execute(sql, params)
    print(f"  fixture: {label}: {cur.rowcount} rows in {time.perf_counter() - t:.1f} s", file=sys.stderr, flush=True)


def generate(cur) -> None:
    from django.db import connection

    n, old = REQUESTS, int(REQUESTS * (1 - RECENT_SHARE))
    quarter = AGENCIES // 4
    cur.execute("SET session_replication_role = replica")  # no FK triggers: the keys are consistent by construction
    dropped = drop_indexes(cur)
    cur.execute("SELECT id FROM directory_circle WHERE slug = 'chengyu'")
    params = {
        "n": n,
        "old": old,
        "quarter": quarter,
        "BUSY_EVERY": BUSY_EVERY,
        "AGENCIES": AGENCIES,
        "SPACING_S": SPACING_S,
        "circle_id": cur.fetchone()[0],
    }
    # One row per request with everything the inserts need; i is the request's id (a fresh table numbers from 1).
    timed_sql(
        cur,
        "request plan",
        """CREATE TEMP TABLE bench_req AS
        WITH g AS (
            SELECT i, i > %(old)s AS recent,
                   CASE WHEN i %% %(BUSY_EVERY)s = 0 THEN 1
                        ELSE 1 + abs(hashint8extended(i, 1)) %% %(AGENCIES)s END AS kr,
                   date_trunc('second', now()) - interval '1 day'
                       - (%(n)s - i) * %(SPACING_S)s * interval '1 second' AS created
            FROM generate_series(1::bigint, %(n)s) i
        ), h AS (
            SELECT g.*,
                   1 + ((kr - 1) + 4 * (1 + abs(hashint8extended(i, 2)) %% (%(quarter)s - 1))) %% %(AGENCIES)s AS ks,
                   b.path, abs(hashint8extended(i, 3)) %% 100 AS dice,
                   least(1.0, extract(epoch FROM now() - created) / 3600 / 300) * interval '1 hour' AS unit
            FROM g JOIN bench_bucket b ON b.recent = g.recent AND b.bucket = abs(hashint8extended(g.i, 4)) %% 1000
        ), t AS (
            SELECT h.i, h.path, h.created, h.unit, p.status, p.steps, p.signed, h.dice < 10 AS urgent,
                   s.id AS sender_id, s.region_code, s.dept_id AS sender_dept, s.handler_id AS sender_person,
                   r.id AS receiver_id, r.dept_id AS receiver_dept, r.handler_id AS receiver_person,
                   r.parent_id AS receiver_parent, s.in_circle AND r.in_circle AS in_circle, k.kind_id,
                   k.code AS kind_code, k.fields, k.labels, k.sign_iv, k.accept_iv,
                   CASE WHEN h.dice < 10 AND k.urgent_iv IS NOT NULL THEN k.urgent_iv ELSE k.finish_iv END AS finish_iv,
                   h.created + p.sent_h * h.unit AS sent_at, h.created + p.received_h * h.unit AS received_at,
                   h.created + p.accepted_h * h.unit AS accepted_at, h.created + p.answered_h * h.unit AS answered_at,
                   h.created + p.closed_h * h.unit AS closed_at, h.created + p.paused_h * h.unit AS paused_at
            FROM h JOIN bench_path p USING (path)
            JOIN bench_agency s ON s.k = h.ks JOIN bench_agency r ON r.k = h.kr
            JOIN bench_kind k ON k.type_idx = s.type_idx AND k.slot = abs(hashint8extended(h.i, 5)) %% 4
        ), c AS (  -- the clocks as the services store them (returned and withdrawn requests lose sign and accept)
            SELECT t.*,
                   CASE WHEN sent_at IS NOT NULL AND status NOT IN ('returned', 'withdrawn')
                        THEN sent_at + sign_iv END AS sign_due,
                   CASE WHEN signed AND status NOT IN ('returned', 'withdrawn')
                        THEN received_at + accept_iv END AS accept_due,
                   accepted_at + finish_iv AS finish_due
            FROM t
        )  -- 委托执行 overdue in the receiving court: escalated to its superior, one level every 30 days late
        SELECT c.*, e.escalated_to,
               CASE WHEN e.escalated_to IS NULL THEN 0
                    ELSE 1 + floor(extract(epoch FROM now() - finish_due) / 86400 / 30)::int END AS escalation_level
        FROM c CROSS JOIN LATERAL (
            SELECT CASE WHEN c.kind_code = 'entrusted_execution' AND c.status IN ('accepted', 'in_progress')
                        AND c.finish_due < now() THEN c.receiver_parent END AS escalated_to
        ) e""",
        params,
    )
    cur.execute("CREATE UNIQUE INDEX ON bench_req (i)")
    timed_sql(
        cur,
        "requests",
        """INSERT INTO assistance_assistancerequest (kind_id, number, title, case_number, parties, urgency, fields,
            sender_id, sender_department_id, created_by_id, target_region_id, receiver_id, receiver_department_id,
            assignee_id, circle_id, status, created_at, sent_at, received_at, accepted_at, answered_at, closed_at,
            sign_due_at, accept_due_at, finish_due_at, due_at, warn_at, paused_at, resume_status, extended_days,
            extension_asked_days, extension_reason, escalated_to_id, escalation_level, result, return_reason,
            idempotency_key)
        WITH c AS (
            SELECT b.*, extract(year FROM sent_at AT TIME ZONE 'Asia/Shanghai')::int AS year FROM bench_req b
        ), d AS (
            SELECT c.*,
                   CASE status WHEN 'sent' THEN sign_due WHEN 'received' THEN accept_due
                        WHEN 'accepted' THEN finish_due WHEN 'in_progress' THEN finish_due
                        WHEN 'paused' THEN finish_due END AS due,
                   CASE status WHEN 'sent' THEN sign_due - (sign_due - sent_at) * 0.2
                        WHEN 'received' THEN accept_due - (accept_due - received_at) * 0.2
                        WHEN 'accepted' THEN finish_due - (finish_due - accepted_at) * 0.2
                        WHEN 'in_progress' THEN finish_due - (finish_due - accepted_at) * 0.2 END AS warn,
                   CASE WHEN sent_at IS NULL THEN ''
                        ELSE region_code || '-' || year || '-' || lpad(
                            (row_number() OVER (PARTITION BY region_code, year, sent_at IS NULL ORDER BY i))::text,
                            5, '0') END AS number
            FROM c
        )
        SELECT kind_id, number, '基准协作函' || i || '：' || (ARRAY['查询被执行人财产', '核查涉案人员身份',
                   '调取银行流水', '送达法律文书', '移送公益诉讼线索'])[1 + i %% 5],
               '（' || coalesce(year, 2026) || '）' || (ARRAY['川', '渝', '皖', '苏'])[1 + i %% 4] || '执'
                   || (i %% 99991) || '号',
               '申请人' || (i %% 50021) || '；被申请人某某有限公司' || (i %% 30011),
               CASE WHEN urgent THEN 'urgent' ELSE 'normal' END, fields,
               sender_id, sender_dept, sender_person, NULL, receiver_id,
               CASE WHEN accepted_at IS NOT NULL THEN receiver_dept END,
               CASE WHEN accepted_at IS NOT NULL THEN receiver_person END,
               CASE WHEN in_circle THEN %(circle_id)s END, status, created, sent_at, received_at, accepted_at,
               answered_at, closed_at, sign_due, accept_due, finish_due, due, warn, paused_at,
               CASE WHEN status = 'paused' THEN 'in_progress' ELSE '' END, 0, NULL, '', escalated_to,
               escalation_level,
               CASE WHEN answered_at IS NOT NULL THEN '经查，已按来函要求办理完毕，相关材料随附。' ELSE '' END,
               CASE WHEN status = 'returned' THEN '不属于本单位管辖，请向有管辖权的单位发送。' ELSE '' END,
               CASE WHEN i %% 3 = 0 THEN 'sys-' || i ELSE '' END
        FROM d ORDER BY i""",
        params,
    )
    cur.execute("SELECT min(id), max(id) FROM assistance_assistancerequest")
    if cur.fetchone() != (1, n):
        sys.exit("fixture_assistance: request ids are not 1..N (build into a fresh database)")
    if "assistance_requestcounter" in connection.introspection.table_names(cur):
        timed_sql(  # services._number's counters: the last number given under each prefix
            cur,
            "number counters",
            """INSERT INTO assistance_requestcounter (prefix, last)
            SELECT substring(number FROM '^(.*-)[0-9]+$'), max(substring(number FROM '[0-9]+$')::int)
            FROM assistance_assistancerequest WHERE number <> '' GROUP BY 1""",
        )
    cur.execute("SELECT sum(steps) + count(escalated_to) FROM bench_req")
    messages = EVENTS - cur.fetchone()[0]
    if messages < 0:
        sys.exit(f"fixture_assistance: the lifecycle mix makes more than {EVENTS} events")
    timed_sql(
        cur,
        "thread messages",
        """INSERT INTO assistance_requestmessage (request_id, author_id, agency_id, text, created_at)
        SELECT i, CASE WHEN i %% 2 = 0 THEN sender_person ELSE receiver_person END,
               CASE WHEN i %% 2 = 0 THEN sender_id ELSE receiver_id END,
               '请对方补充提供相关材料，并告知办理进度。', created + %(hours)s * unit
        FROM bench_req WHERE status <> 'draft' ORDER BY hashint8extended(i, 6) LIMIT %(messages)s""",
        {"hours": STEP_HOURS["message"], "messages": messages},
    )
    timed_sql(
        cur,
        "events",
        """INSERT INTO assistance_requestevent (request_id, kind, at, actor_id, actor_agency_id, data)
        SELECT request_id, kind, at, actor_id, actor_agency_id, data FROM (
            SELECT b.i AS request_id, s.kind, b.created + s.hours * b.unit AS at,
                   CASE WHEN s.by_sender THEN b.sender_person ELSE b.receiver_person END AS actor_id,
                   CASE WHEN s.by_sender THEN b.sender_id ELSE b.receiver_id END AS actor_agency_id,
                   CASE s.kind WHEN 'returned' THEN jsonb_build_object('reason', '不属于本单位管辖')
                        WHEN 'paused' THEN jsonb_build_object('reason', '请补充执行依据文书')
                        WHEN 'withdrawn' THEN jsonb_build_object('reason', '')
                        ELSE '{}'::jsonb END AS data
            FROM bench_req b JOIN bench_step s ON s.path = b.path
            UNION ALL
            SELECT m.request_id, 'message', m.created_at, m.author_id, m.agency_id, jsonb_build_object('message', m.id)
            FROM assistance_requestmessage m
            UNION ALL
            SELECT i, 'escalated', finish_due, NULL, NULL,
                   jsonb_build_object('to', escalated_to, 'level', escalation_level)
            FROM bench_req WHERE escalated_to IS NOT NULL
        ) e ORDER BY at, request_id, kind""",
    )
    timed_sql(
        cur,
        "feed entries",
        """INSERT INTO assistance_feedentry (agency_id, event_id)
        SELECT CASE side WHEN 0 THEN r.sender_id WHEN 1 THEN r.receiver_id ELSE r.escalated_to END, e.id
        FROM assistance_requestevent e JOIN bench_req r ON r.i = e.request_id CROSS JOIN generate_series(0, 2) side
        WHERE side < 2 OR e.kind = 'escalated'
        ORDER BY e.id, side""",
    )
    timed_sql(
        cur,
        "hops",
        """INSERT INTO assistance_requesthop (request_id, from_agency_id, to_agency_id, reason, by_id, at)
        SELECT i, sender_id, receiver_id, '', sender_person, sent_at FROM bench_req WHERE sent_at IS NOT NULL
        ORDER BY sent_at""",
    )
    timed_sql(
        cur,
        "receipts",
        """INSERT INTO assistance_receipt (request_id, event_id, kind, issued_by_id, issued_to_id, payload, digest,
            created_at)
        SELECT e.request_id, e.id, e.kind, e.actor_agency_id,
               CASE WHEN e.kind = 'sent' THEN b.receiver_id ELSE b.sender_id END,
               jsonb_build_object('request', r.number, 'kind', b.kind_code, 'event', e.kind, 'at', e.at,
                   'by', '承办人', 'by_agency', '基准单位',
                   'to_agency', '基准单位', 'content_sha256', md5(r.id::text) || md5(r.number)),
               md5(e.id::text) || md5(e.at::text), e.at
        FROM assistance_requestevent e JOIN bench_req b ON b.i = e.request_id
        JOIN assistance_assistancerequest r ON r.id = e.request_id
        WHERE e.kind IN ('sent', 'signed', 'accepted', 'answered') ORDER BY e.id""",
    )
    timed_sql(
        cur,
        "attachments",
        """INSERT INTO assistance_attachment (request_id, message_id, label, name, content_type, size, sha256, file,
            agency_id, uploaded_by_id, uploaded_at)
        SELECT i, NULL, label, label || '.pdf', 'application/pdf', 102400 + i % 4096,
               md5(i::text) || md5(label), 'assistance/bench/' || i || '-' || label || '.pdf',
               sender_id, sender_person, created
        FROM bench_req CROSS JOIN unnest(labels) label ORDER BY i""",
    )
    cur.execute("RESET session_replication_role")
    restore_indexes(cur, dropped)
    cur.execute("DROP TABLE bench_req")


def drop_indexes(cur) -> list[tuple[str, str, str]]:
    """Drop the secondary indexes and unique constraints of the bulk tables; returns what rebuilds them."""
    dropped = []
    for table in BULK_TABLES:
        cur.execute(
            """SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
            WHERE c.conrelid = %s::regclass AND c.contype = 'u'""",
            [table],
        )
        for name, definition in cur.fetchall():
            dropped.append(("constraint", table, f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'))
            cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        cur.execute(
            """SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s
            AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""",
            [table],
        )
        for name, definition in cur.fetchall():
            dropped.append(("index", table, definition))
            cur.execute(f'DROP INDEX "{name}"')
    return dropped


def restore_indexes(cur, dropped) -> None:
    t = time.perf_counter()
    for _kind, _table, statement in dropped:
        cur.execute(statement)
    print(f"  fixture: {len(dropped)} indexes rebuilt in {time.perf_counter() - t:.1f} s", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- measure


def measure(info: dict) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from yipanqi.assistance import selectors
    from yipanqi.assistance.models import AssistanceRequest, RequestMessage
    from yipanqi.core.startup import freeze_startup_heap
    from yipanqi.directory.models import User

    busy = info["busy_agency"]
    liaison = User.objects.get(username="a0001-liaison")
    handler = User.objects.get(username="a0001-handler")
    web = Client()
    web.force_login(liaison)
    narrowed = Client()
    narrowed.force_login(handler)
    anonymous = Client()
    machine = Client(HTTP_AUTHORIZATION=f"Api-Key {info['busy_key']}")
    if os.environ.get("BENCH_GC_FREEZE", "1") != "0":
        freeze_startup_heap()  # as yipanqi.wsgi does once loaded

    # What the box must list, as the selector defines it (the busy court also gets 重庆's escalated 委托执行).
    inbox = selectors.inbox(liaison)
    inbox_count = inbox.count()
    newest = inbox.order_by("-id").first()
    detail = (
        AssistanceRequest.objects.filter(
            receiver_id=busy,
            status="closed",
            pk__in=RequestMessage.objects.filter(request__receiver_id=busy).values("request_id"),
            kind__code="entrusted_execution",
        )
        .order_by("-id")
        .first()
    )

    def red() -> int:  # counted just before its check: lights change with the clock
        return inbox.filter(selectors.light_filter("red", timezone.now())).count()

    party = f"申请人{newest.pk % 50021}"

    def check(response, url: str, expect) -> None:
        if response.status_code != 200:
            sys.exit(f"fixture_assistance: GET {url} answered {response.status_code}: {response.content[:300]!r}")
        if isinstance(expect, int):
            count = response.json().get("count") if response["Content-Type"].startswith("application/json") else None
            if count != expect:
                sys.exit(f"fixture_assistance: GET {url}: count {count}, expected {expect}")
        elif expect and expect not in response.content.decode():
            sys.exit(f"fixture_assistance: GET {url} does not show {expect!r}")

    def timed(client, url: str) -> tuple[list[float], int]:
        for _ in range(WARMUP):
            client.get(url)
        times = []
        for _ in range(SAMPLES):
            t = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - t) * 1000)
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        return times, len(captured)

    inbox_page = reverse("assistance:inbox")
    detail_page = reverse("assistance:request", args=[detail.pk])
    api_list = "/api/v1/assistance-requests/"
    baselines = {}
    for key, client, url in (("login page", anonymous, "/login/"), ("API root", web, "/api/v1/")):
        check(client.get(url), url, None)
        times, queries = timed(client, url)
        baselines[key] = {"url": url, "ms": [statistics.median(times), pct(times, 95)], "queries": queries}

    # (case, baseline, client, url, what it must show (text or list count), has a target)
    cases = [
        ("inbox page", "login page", web, inbox_page, newest.number, True),
        ("inbox API ?box=inbox", "API root", machine, f"{api_list}?box=inbox", inbox_count, True),
        ("detail page", "login page", web, detail_page, detail.number, True),
        ("detail API", "API root", machine, f"{api_list}{detail.pk}/", detail.number, True),
        ("inbox page ?light=red", "login page", web, f"{inbox_page}?light=red", None, False),
        ("inbox API ?box=inbox&light=red", "API root", machine, f"{api_list}?box=inbox&light=red", red, False),
        ("inbox page, search a party", "login page", web, f"{inbox_page}?q={party}", newest.number, False),
        ("inbox page, a case handler (own and department)", "login page", narrowed, inbox_page, None, False),
    ]
    profile = [word for word in os.environ.get("BENCH_PROFILE", "").split(",") if word]
    results = []
    for name, baseline, client, url, expect, target in cases:
        expected = expect() if callable(expect) else expect
        check(client.get(url), url, expected)
        times, queries = timed(client, url)
        results.append(
            {
                "case": name,
                "baseline": baseline,
                "url": url,
                "ms": [statistics.median(times), pct(times, 95)],
                "queries": queries,
                "target": target,
            }
        )
        if any(word in name for word in profile):
            profiler = cProfile.Profile()
            profiler.runcall(client.get, url)
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
            print(f"--- profile of {url}\n{out.getvalue()}", file=sys.stderr)
            with CaptureQueriesContext(connection) as captured:
                client.get(url)
            for query in sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:5]:
                print(f"--- {query['time']} s: {query['sql'][:2000]}", file=sys.stderr)
    return {
        "samples": SAMPLES,
        "gc_frozen": gc.get_freeze_count(),
        "inbox_count": inbox_count,
        "baselines": baselines,
        "cases": results,
    }


def main() -> None:
    setup_django()
    if sys.argv[1:2] == ["build"]:
        print(json.dumps(build(), ensure_ascii=False))
    elif sys.argv[1:2] == ["measure"]:
        print(json.dumps(measure(json.loads(sys.argv[2])), ensure_ascii=False))
    else:
        sys.exit("usage: fixture_assistance.py build | measure INFO_JSON")


if __name__ == "__main__":
    main()
