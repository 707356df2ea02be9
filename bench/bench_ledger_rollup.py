"""Ledger roll-up after a new report, in a circle ledger of 100,000 measures, 500 agencies, 1,000,000 reports.

Target (issue "Cooperation ledger"): the roll-up after a new report < 50 ms. Each case files a real report through
``ledger.services.file_report`` (validation, lock on the agreement, the report row, the owner's share, the audit
event, and the recomputation from the leaf up to the root) and is timed in-process against PostgreSQL. Baseline,
in the same run and process: a plain paginated list of the same measures (count + one page of 50), which is what the
issue's board will be compared with. The board itself is not built yet: its benchmark comes with it.
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

TARGET_MS = 50.0


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
    base = {"benchmark": "ledger_rollup"}
    list_p50, list_p95 = result["list_ms"]
    rows = [
        {
            **base,
            "case": "plain measures list (count + page of 50)",
            "p50 ms": list_p50,
            "p95 ms": list_p95,
            "baseline": "",
            "ratio": None,
            "target": "",
            "verdict": "baseline",
        },
    ]
    for name, key in (("file_report + roll-up, depth 3", "rollup_ms"),):
        p50, p95 = result[key]
        rows.append(
            {
                **base,
                "case": name,
                "p50 ms": p50,
                "p95 ms": p95,
                "baseline": "list",
                "ratio": p95 / list_p95,
                "target": f"p95<{TARGET_MS:g}ms",
                "verdict": "ok" if p95 < TARGET_MS else "MISSED",
            }
        )
    return rows
