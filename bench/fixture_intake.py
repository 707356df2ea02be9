"""The intake benchmark's worker process (see bench_intake.py).

    fixture_intake.py setup             migrate a fresh SQLite database and load the national directory
    fixture_intake.py cold ARTICLE      one analysis in a fresh process: the time of the first call, dictionaries
                                        (directory index, jieba, OpenCC) included, and of the whole process
    fixture_intake.py warm ARTICLE      warm-ups, then BENCH_SAMPLES timed analyses, and the baselines

Each prints one JSON line.
"""

from __future__ import annotations

import datetime
import json
import os
import statistics
import sys
import time
from pathlib import Path

STARTED = time.perf_counter()
SAMPLES = int(os.environ.get("BENCH_SAMPLES", "30"))
PUBLISHED = datetime.date(2020, 10, 9)


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yipanqi.settings")
    import django

    django.setup()


def percentiles(values: list[float]) -> list[float]:
    ordered = sorted(values)
    return [statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000]


def setup() -> dict:
    from django.core.management import call_command

    from yipanqi.directory.models import Agency
    from yipanqi.directory.services import load_directory

    call_command("migrate", verbosity=0)
    if not Agency.objects.exists():
        load_directory()
    return {"agencies": Agency.objects.count()}


def cold(path: str) -> dict:
    setup_django()
    from yipanqi.intake.pipeline import analyse

    text = Path(path).read_text(encoding="utf-8")
    began = time.perf_counter()
    draft = analyse(text, published=PUBLISHED)
    first = time.perf_counter() - began
    return {"first_call_s": first, "process_s": time.perf_counter() - STARTED, "summary": summary(draft)}


def warm(path: str) -> dict:
    setup_django()
    from yipanqi.intake.pipeline import analyse
    from yipanqi.intake.text import prepare

    text = Path(path).read_text(encoding="utf-8")
    for _ in range(3):
        draft = analyse(text, published=PUBLISHED)
    timings, baseline = [], []
    for _ in range(SAMPLES):  # interleaved, so that a slow second of the machine hits both alike
        began = time.perf_counter()
        prepare(text)
        baseline.append(time.perf_counter() - began)
        began = time.perf_counter()
        draft = analyse(text, published=PUBLISHED)
        timings.append(time.perf_counter() - began)
    return {
        "characters": len(text),
        "samples": SAMPLES,
        "analyse_ms": percentiles(timings),
        "prepare_ms": percentiles(baseline),
        "summary": summary(draft),
    }


def summary(draft) -> dict:
    def count(nodes) -> int:
        return sum(1 + count(n.children) for n in nodes)

    return {
        "agencies": len(draft.agencies),
        "agreements": len(draft.agreements),
        "measures": count(draft.measures),
        "topics": len(draft.topics),
        "figures": len(draft.figures),
        "warnings": len(draft.warnings),
    }


def main() -> None:
    command = sys.argv[1:2]
    if command == ["setup"]:
        setup_django()
        result = setup()
    elif command == ["cold"]:
        result = cold(sys.argv[2])
    elif command == ["warm"]:
        result = warm(sys.argv[2])
    else:
        sys.exit("usage: fixture_intake.py setup | cold ARTICLE | warm ARTICLE")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
