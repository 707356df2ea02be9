"""Joint meetings at scale: a meeting of 200 topics and 1,000 decisions, its page and its API (PostgreSQL).

Target (issue "Joint meetings"): the meeting page and the API answer with p95 < 200 ms and a constant number of
queries — the same count for a meeting of 5 topics and 10 decisions as for the big one. Timed in-process through
Django's test client as the host agency's liaison (view, queries, template or serializer; no network), like the
ledger's board. Baselines, in the same run and process: the login page (a template, no database) for the pages and
the API root (DRF, signed in) for the API. See bench/fixture_meetings.py for the data.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from bench_agencies_api import ROOT, VENV_BIN, run_checked, start_postgres  # noqa: E402

P95_MS = 200.0


def run() -> list[dict]:
    with ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="yipanqi-bench-meetings-"))
        stack.callback(shutil.rmtree, tmp, ignore_errors=True)
        env = {
            **os.environ,
            "DATABASE_URL": start_postgres(stack, tmp),
            "YIPANQI_MODE": "development",
            "DEBUG": "0",
            "YIPANQI_VAR_DIR": str(tmp / "var"),
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT / "src"),
        }
        out = run_checked([str(VENV_BIN / "python"), str(BENCH_DIR / "fixture_meetings.py")], env=env, cwd=ROOT)
        result = json.loads(out.strip().splitlines()[-1])
    big, small = result["big"], result["small"]
    print(
        f"  meetings fixture: big meeting {big['topics']} topics / {big['decisions']} decisions (next meeting "
        f"{big['next_topics']} topics), small {small['topics']} / {small['decisions']}; built in "
        f"{result['fixture_s']:.0f} s; {result['samples']} requests per URL"
        + (
            f"; start-up heap frozen as yipanqi.wsgi does ({result['gc_frozen']} objects; BENCH_GC_FREEZE=0: without)"
            if result["gc_frozen"]
            else ""
        ),
        file=sys.stderr,
    )
    base = {"benchmark": "meetings"}
    rows = []
    for name, baseline in result["baselines"].items():
        p50, p95 = baseline["ms"]
        rows.append(
            {
                **base,
                "case": f"{name} {baseline['url']}",
                "p50 ms": p50,
                "p95 ms": p95,
                "queries": baseline["queries"],
                "baseline": "",
                "ratio": None,
                "target": "",
                "verdict": "baseline",
            }
        )
    for case in result["cases"]:
        baseline_p95 = result["baselines"][case["baseline"]]["ms"][1]
        constant = case["small_queries"] == case["big_queries"]
        for size in ("small", "big"):
            p50, p95 = case[f"{size}_ms"]
            verdict = ""
            if size == "big":
                verdict = "ok" if p95 < P95_MS and constant else "MISSED"
            rows.append(
                {
                    **base,
                    "case": f"{case['case']} ({size})",
                    "p50 ms": p50,
                    "p95 ms": p95,
                    "queries": case[f"{size}_queries"],
                    "baseline": case["baseline"],
                    "ratio": p95 / baseline_p95,
                    "target": f"p95<{P95_MS:g}ms, queries small=big" if size == "big" else "",
                    "verdict": verdict or "info",
                }
            )
    return rows
