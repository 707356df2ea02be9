"""Cross-region assistance requests at scale: 1,000,000 requests and 5,000,000 events in PostgreSQL.

Targets (issue "Cross-region assistance requests"): the inbox list and the request detail, page and API, answer with
p95 < 50 ms; create + send over the API from concurrent clients ≥ 200 requests/s; each as a ratio to the
foundation's trivial views in the same run.

1. ``fixture_assistance.py build`` fills a throwaway PostgreSQL cluster (see its docstring) in about three minutes.
2. ``fixture_assistance.py measure`` times the pages and API reads in one process through Django's test client as
   the busy agency's liaison (pages) and its system's API key (API), like bench_meetings: p50/p95 of
   ``BENCH_SAMPLES`` requests and the query count; baselines the login page and the API root.
3. gunicorn (``--workers 2``, as bench_agencies_api) serves the same database; wrk runs interleaved rounds of
   ``/healthz`` (the baseline), create + send (``wrk_assistance.lua``: POST a draft with an Idempotency-Key, then
   POST its ``send/``, 20 connections of one police agency's system), and, for information, the inbox and detail
   API under the same 20 clients.

To iterate on the measurement without rebuilding, point ``BENCH_ASSISTANCE_DATABASE_URL`` at a database built by
``fixture_assistance.py build`` and ``BENCH_ASSISTANCE_INFO`` at the file holding that build's JSON line.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
import uuid
from contextlib import ExitStack
from pathlib import Path
from statistics import median

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from bench_agencies_api import (  # noqa: E402
    CONNECTIONS,
    DURATION,
    GUNICORN_ARGS,
    ROOT,
    ROUNDS,
    VENV_BIN,
    WARMUP,
    free_port,
    run_checked,
    start_gunicorn,
    start_postgres,
    wrk,
)

P95_MS = 50.0
MIN_RPS = 200.0
BENCHMARK = "assistance"


def post_json(url: str, token: str, body: dict | None, key: str = "") -> tuple[int, dict]:
    headers = {"Authorization": f"Api-Key {token}", "Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    data = json.dumps(body or {}, ensure_ascii=False).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"POST {url} answered {exc.code}: {exc.read()[:500].decode(errors='replace')}") from None


def get_json(url: str, token: str) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"Api-Key {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"GET {url} answered {exc.code}: {exc.read()[:500].decode(errors='replace')}") from None


def settle(base: str) -> None:
    """Wait until the server has worked off what a wrk run left queued: gunicorn's sync workers still serve the
    requests of closed connections, and a slow endpoint's backlog would otherwise eat into the next run."""
    for _ in range(2):
        get_json(f"{base}/healthz", "")


def timed_wrk(base: str, url: str, duration: str, headers: dict) -> dict:
    stats = wrk(url, duration, headers)
    settle(base)
    return stats


def wrk_create_send(base: str, info: dict, duration: str) -> dict:
    """One wrk run of create + send; refused when any answer was not a 201 draft or a 200 sent request."""
    args = [
        "wrk",
        "-c",
        str(CONNECTIONS),
        "-t",
        "2",
        "-d",
        duration,
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(BENCH_DIR / "wrk_assistance.lua"),
        base,
        "--",
        info["sender_key"],
        info["kind"],
        str(info["receiver_agency"]),
        json.dumps(info["fields"], ensure_ascii=False),
        uuid.uuid4().hex[:12],
    ]
    stats = json.loads(run_checked(args).strip().splitlines()[-1])
    settle(base)
    errors = {k: stats[k] for k in ("non_2xx", "connect_errors", "read_errors", "write_errors", "timeouts")}
    if any(errors.values()) or stats["failures"] or not stats["sends"]:
        raise RuntimeError(
            f"wrk create+send: {stats['creates']} created, {stats['sends']} sent, {stats['failures']} failed, "
            f"errors {errors}; last failure: {stats['last_failure']}; refusing the result"
        )
    return stats


def run() -> list[dict]:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed: apt-get install -y wrk")
    with ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="yipanqi-bench-assistance-"))
        stack.callback(shutil.rmtree, tmp, ignore_errors=True)
        reuse = os.environ.get("BENCH_ASSISTANCE_DATABASE_URL"), os.environ.get("BENCH_ASSISTANCE_INFO")
        env = {
            **os.environ,
            "DATABASE_URL": reuse[0] if all(reuse) else start_postgres(stack, tmp),
            "YIPANQI_MODE": "development",
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1,testserver",
            "YIPANQI_VAR_DIR": str(tmp / "var"),
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT / "src"),
        }
        fixture = [str(VENV_BIN / "python"), str(BENCH_DIR / "fixture_assistance.py")]
        if all(reuse):  # iterating on the measurement: a database built before (see README.md)
            info = json.loads(Path(reuse[1]).read_text().strip().splitlines()[-1])
        else:
            info = json.loads(run_checked([*fixture, "build"], env=env, cwd=ROOT).strip().splitlines()[-1])
        print(
            f"  assistance fixture: {info['requests']:,} requests, {info['events']:,} events, "
            f"{info['feed_entries']:,} feed entries; built in {info['fixture_s']:.0f} s",
            file=sys.stderr,
        )
        inprocess = json.loads(
            run_checked([*fixture, "measure", json.dumps(info)], env=env, cwd=ROOT).strip().splitlines()[-1]
        )
        print(
            f"  in-process: {inprocess['samples']} requests per URL; busy agency's inbox {inprocess['inbox_count']:,}"
            + (f"; start-up heap frozen ({inprocess['gc_frozen']} objects)" if inprocess["gc_frozen"] else ""),
            file=sys.stderr,
        )
        rows = inprocess_rows(inprocess)
        for row in rows:  # shown now: a failure of the served part below must not lose them
            print(
                f"  {row['case']}: p50 {row['p50 ms']:.1f} ms, p95 {row['p95 ms']:.1f} ms, {row['queries']} queries "
                f"({row['verdict']})",
                file=sys.stderr,
            )
        rows += served_rows(stack, env, tmp, info, inprocess)
        return rows


def inprocess_rows(result: dict) -> list[dict]:
    rows = []
    for name, baseline in result["baselines"].items():
        p50, p95 = baseline["ms"]
        rows.append(
            {
                "benchmark": BENCHMARK,
                "case": f"{name} {baseline['url']} (in-process)",
                "p50 ms": p50,
                "p95 ms": p95,
                "queries": baseline["queries"],
                "req/s": None,
                "baseline": "",
                "ratio": None,
                "target": "",
                "verdict": "baseline",
            }
        )
    for case in result["cases"]:
        p50, p95 = case["ms"]
        verdict = ("ok" if p95 < P95_MS else "MISSED") if case["target"] else "info"
        rows.append(
            {
                "benchmark": BENCHMARK,
                "case": f"{case['case']} (in-process)",
                "p50 ms": p50,
                "p95 ms": p95,
                "queries": case["queries"],
                "req/s": None,
                "baseline": case["baseline"],
                "ratio": p95 / result["baselines"][case["baseline"]]["ms"][1],
                "target": f"p95<{P95_MS:g}ms" if case["target"] else "",
                "verdict": verdict,
            }
        )
    return rows


def served_rows(stack: ExitStack, env: dict, tmp: Path, info: dict, inprocess: dict) -> list[dict]:
    """gunicorn + wrk: create + send from 20 concurrent connections, and the reads under the same load (info)."""
    port = free_port()
    start_gunicorn(stack, env, port, tmp / "gunicorn.log")
    base = f"http://127.0.0.1:{port}"
    api = f"{base}/api/v1/assistance-requests/"
    # Before measuring: one create + send must work, and the reads must answer what they should.
    code, draft = post_json(
        api,
        info["sender_key"],
        {"kind": info["kind"], "receiver": info["receiver_agency"], "title": "基准协查函", "fields": info["fields"]},
        key=f"bench-check-{uuid.uuid4().hex[:8]}",
    )
    if code != 201 or draft.get("status") != "draft":
        raise RuntimeError(f"POST {api} answered {code}: {str(draft)[:300]}")
    code, sent = post_json(f"{api}{draft['id']}/send/", info["sender_key"], None)
    if code != 200 or sent.get("status") != "sent" or not sent.get("number"):
        raise RuntimeError(f"POST {api}{draft['id']}/send/ answered {code}: {str(sent)[:300]}")
    inbox_url = f"{api}?box=inbox"
    detail = next(c for c in inprocess["cases"] if c["case"] == "detail API")["url"]
    if get_json(inbox_url, info["busy_key"]).get("count") != inprocess["inbox_count"]:
        raise RuntimeError(f"GET {inbox_url}: not the busy agency's inbox")
    get_json(base + detail, info["busy_key"])
    auth = {"Authorization": f"Api-Key {info['busy_key']}"}
    reads = [("inbox API ?box=inbox", inbox_url), ("detail API", base + detail)]
    print(
        f"  gunicorn {GUNICORN_ARGS}; {ROUNDS} rounds of wrk -c {CONNECTIONS} -t 2 -d {DURATION}: /healthz, "
        "create + send, inbox and detail API",
        file=sys.stderr,
    )
    timed_wrk(base, f"{base}/healthz", WARMUP, {})
    wrk_create_send(base, info, WARMUP)
    for _name, url in reads:
        timed_wrk(base, url, WARMUP, auth)
    runs: dict[str, list[dict]] = {"healthz": [], "create_send": [], **{name: [] for name, _ in reads}}
    for round_ in range(1, ROUNDS + 1):
        runs["healthz"].append(timed_wrk(base, f"{base}/healthz", DURATION, {}))
        runs["create_send"].append(wrk_create_send(base, info, DURATION))
        for name, url in reads:
            runs[name].append(timed_wrk(base, url, DURATION, auth))
        print(
            f"  round {round_}: " + ", ".join(f"{name} {r[-1]['rps']:.0f}" for name, r in runs.items()) + " req/s",
            file=sys.stderr,
        )

    def figures(case_runs):
        rps = [r["rps"] for r in case_runs]
        return {
            "p50 ms": median(r["p50_ms"] for r in case_runs),
            "p95 ms": median(r["p95_ms"] for r in case_runs),
            "queries": None,
            "req/s": median(rps),
            "spread": f"{(max(rps) - min(rps)) / median(rps):.0%}",
        }

    def ratio(case_runs):
        return median(r["rps"] / b["rps"] for r, b in zip(case_runs, runs["healthz"], strict=True))

    served = f"(gunicorn, {CONNECTIONS} clients)"
    rows = [
        {
            "benchmark": BENCHMARK,
            "case": f"/healthz {served}",
            **figures(runs["healthz"]),
            "baseline": "",
            "ratio": None,
            "target": "",
            "verdict": "baseline",
        }
    ]
    create_send = figures(runs["create_send"])
    sent_per_s = median(r["sends"] / r["duration_s"] for r in runs["create_send"])
    rows.append(
        {
            "benchmark": BENCHMARK,
            "case": f"create + send over the API {served}; {sent_per_s:.0f} requests sent/s",
            **create_send,
            "baseline": "/healthz",
            "ratio": ratio(runs["create_send"]),
            "target": f"req/s>={MIN_RPS:g}",
            "verdict": "ok" if create_send["req/s"] >= MIN_RPS else "MISSED",
        }
    )
    for name, _url in reads:
        rows.append(
            {
                "benchmark": BENCHMARK,
                "case": f"{name} {served}",
                **figures(runs[name]),
                "baseline": "/healthz",
                "ratio": ratio(runs[name]),
                "target": "",
                "verdict": "info",
            }
        )
    return rows
