"""The ledger at scale: a circle of 100,000 items (101,100 measures), 500 agencies, 1,000,000 reports (PostgreSQL).

Targets (issue "Cooperation ledger"): the board's server time p95 < 300 ms with a constant number of queries; the
roll-up after a new report < 50 ms; a bulletin over 10,000 items as .docx < 10 s and as .pdf < 20 s (content
queries included). The board is timed as the coordinator's whole page through Django's test client, in-process
(view, queries, template; no network); the roll-up files a real report through ``ledger.services.file_report``.
Baseline, in the same run and process: a plain paginated list of the same items (count + one page of 50).
See bench/fixture_ledger.py for the data.
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

ROLLUP_MS = 50.0
BOARD_MS = 300.0
DOCX_S = 10.0
PDF_S = 20.0


def run() -> list[dict]:
    with ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="yipanqi-bench-ledger-"))
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
        out = run_checked([str(VENV_BIN / "python"), str(BENCH_DIR / "fixture_ledger.py")], env=env, cwd=ROOT)
        result = json.loads(out.strip().splitlines()[-1])
        print(
            f"  ledger fixture: {result['measures']} measures, {result['agencies']} agencies, "
            f"{result['reports']} reports (built in {result['fixture_s']:.0f} s)",
            file=sys.stderr,
        )
    print(
        f"  derived fields of both agreements recomputed in {result['recompute_s']:.0f} s; bulletin rows: "
        f"{result['bulletin_rows']}",
        file=sys.stderr,
    )
    base = {"benchmark": "ledger"}
    list_p50, list_p95 = result["list_ms"]
    rows = [
        {
            **base,
            "case": f"plain list of the {result['items']} items (count + page of 50)",
            "p50 ms": list_p50,
            "p95 ms": list_p95,
            "queries": 2,
            "baseline": "",
            "ratio": None,
            "target": "",
            "verdict": "baseline",
        },
    ]
    cases = (
        ("board page, whole circle", "board_ms", BOARD_MS),
        ("board page, red items only", "board_red_ms", BOARD_MS),
        ("board page, one agency, page 2", "board_agency_ms", BOARD_MS),
        ("build_board alone, whole circle", "build_ms", BOARD_MS),
        ("file_report + roll-up, depth 3", "rollup_ms", ROLLUP_MS),
    )
    for name, key, target in cases:
        p50, p95 = result[key]
        rows.append(
            {
                **base,
                "case": name,
                "p50 ms": p50,
                "p95 ms": p95,
                "queries": result.get(key.replace("_ms", "_queries"), ""),
                "baseline": "list",
                "ratio": p95 / list_p95,
                "target": f"p95<{target:g}ms",
                "verdict": "ok" if p95 < target else "MISSED",
            }
        )
    for name, key, target in (
        (f"bulletin .docx over {result['bulletin_items']} items", "bulletin_docx_s", DOCX_S),
        (f"bulletin .pdf over {result['bulletin_items']} items", "bulletin_pdf_s", PDF_S),
    ):
        seconds = result[key]
        rows.append(
            {
                **base,
                "case": name,
                "p50 ms": None,
                "p95 ms": seconds * 1000,
                "queries": "",
                "baseline": "list",
                "ratio": seconds * 1000 / list_p95,
                "target": f"<{target:g}s",
                "verdict": "ok" if seconds < target else "MISSED",
            }
        )
    return rows
