"""Run every benchmark module ``bench/bench_*.py`` and print one table of all their rows.

Each module exposes ``run() -> list[dict]``: one dict per row with ``benchmark``, ``case``, its metric
columns, ``baseline``, ``ratio``, ``target`` and ``verdict`` ("ok", "MISSED", or "baseline" for the
reference row). A missed target is reported, not failed: the exit status is 0 unless a benchmark could not
run at all (setup failure, error responses), which exits 1.

    .venv/bin/python bench/run.py [NAME ...]   # NAME: run only modules whose name contains it
"""

from __future__ import annotations

import importlib
import re
import sys
import time
import traceback
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
NUMBER = re.compile(r"-?[0-9.]*%?")  # right-aligned when every cell of a column matches (blank cells do)


def fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def table(rows: list[dict]) -> str:
    columns: list[str] = []
    for r in rows:
        columns += [k for k in r if k not in columns]
    cells = [columns] + [[fmt(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    numeric = [all(NUMBER.fullmatch(line[i]) for line in cells[1:]) for i in range(len(columns))]
    lines = [
        "  ".join(cell.rjust(w) if num else cell.ljust(w) for cell, w, num in zip(line, widths, numeric, strict=True))
        for line in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def main(filters: list[str]) -> int:
    sys.path.insert(0, str(BENCH_DIR))
    names = [p.stem for p in sorted(BENCH_DIR.glob("bench_*.py")) if not filters or any(f in p.stem for f in filters)]
    rows: list[dict] = []
    failed = False
    for name in names:
        print(f"running {name} …", file=sys.stderr, flush=True)
        started = time.monotonic()
        try:
            rows += importlib.import_module(name).run()
        except Exception as exc:
            traceback.print_exc()
            rows.append(
                {
                    "benchmark": name.removeprefix("bench_"),
                    "case": f"ERROR: {exc}".splitlines()[0][:100],
                    "verdict": "ERROR",
                }
            )
            failed = True
        print(f"{name} took {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    print()
    print(table(rows) if rows else "no benchmarks found")
    missed = sum(r.get("verdict") == "MISSED" for r in rows)
    met = sum(r.get("verdict") == "ok" for r in rows)
    print(f"\n{met} target(s) met, {missed} MISSED" + (", some benchmarks FAILED TO RUN (ERROR)" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
