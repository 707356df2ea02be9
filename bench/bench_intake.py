"""Document intake: the extraction over a 25,000-character article, warm and cold (SQLite, national directory).

Targets (issue "Document intake"): extraction < 300 ms after warm-up; cold start including dictionaries < 3 s.
The article is the seed 002 (a 24,000-character 长三角 report) followed by the start of seed 001, cut at a line
end at 25,000 characters (../shared/seeds, read at run time, never copied). "Cold" is a fresh process's first
``analyse()`` call: the directory's agency index, jieba's dictionary and OpenCC are built inside it (the process's
own start-up, Python and Django, is shown beside it). "Warm" is BENCH_SAMPLES (30) analyses after three warm-ups.
Baseline, in the same process and interleaved: ``text.prepare()`` of the same article (NFKC, OpenCC t2s, the
offset map and the lines), the part of the work every reader of the text must do; ``ratio`` is p95 ÷ its p95.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from bench_agencies_api import ROOT, VENV_BIN, run_checked  # noqa: E402

SEEDS = ROOT.parent / "shared" / "seeds"
LENGTH = 25_000
WARM_MS = 300.0
COLD_S = 3.0


def article() -> str:
    first = sorted(SEEDS.glob("002_*.txt"))
    second = sorted(SEEDS.glob("001_*.txt"))
    if not first or not second:
        raise RuntimeError(f"the seed articles are not in {SEEDS}")
    text = first[0].read_text(encoding="utf-8") + "\n" + second[0].read_text(encoding="utf-8")
    cut = text.rfind("\n", 0, LENGTH)
    return text[: cut if cut > LENGTH - 2000 else LENGTH]


def run() -> list[dict]:
    tmp = Path(tempfile.mkdtemp(prefix="yipanqi-bench-intake-"))
    try:
        env = {
            **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
            "YIPANQI_MODE": "development",
            "DEBUG": "0",
            "YIPANQI_VAR_DIR": str(tmp / "var"),
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT / "src"),
        }
        text = article()
        path = tmp / "article.txt"
        path.write_text(text, encoding="utf-8")
        fixture = [str(VENV_BIN / "python"), str(BENCH_DIR / "fixture_intake.py")]
        loaded = json.loads(run_checked([*fixture, "setup"], env=env, cwd=ROOT).strip().splitlines()[-1])
        cold = json.loads(run_checked([*fixture, "cold", str(path)], env=env, cwd=ROOT).strip().splitlines()[-1])
        warm = json.loads(run_checked([*fixture, "warm", str(path)], env=env, cwd=ROOT).strip().splitlines()[-1])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"  intake: {len(text):,} characters, directory of {loaded['agencies']:,} agencies; found {warm['summary']}",
        file=sys.stderr,
    )
    base = {"benchmark": "intake"}
    p50, p95 = warm["analyse_ms"]
    b50, b95 = warm["prepare_ms"]
    return [
        {**base, "case": "prepare() the article (baseline)", "p50 ms": b50, "p95 ms": b95, "verdict": "baseline"},
        {
            **base,
            "case": f"analyse() the article, warm ({warm['samples']} runs)",
            "p50 ms": p50,
            "p95 ms": p95,
            "baseline": "prepare()",
            "ratio": p95 / b95 if b95 else None,
            "target": f"p95<{WARM_MS:.0f}ms",
            "verdict": "ok" if p95 < WARM_MS else "MISSED",
        },
        {
            **base,
            "case": f"cold: first analyse() of a fresh process (whole process {cold['process_s']:.1f} s)",
            "p50 ms": cold["first_call_s"] * 1000,
            "target": f"<{COLD_S:.0f}s",
            "verdict": "ok" if cold["first_call_s"] < COLD_S else "MISSED",
        },
    ]
