"""Evidence log (存证): hashing, durable deposits, inclusion proofs at 10,000,000 leaves, verification.

Targets (issue "Evidence log", on this 2-core machine): ≥ 20,000 durable deposits/s batched on PostgreSQL and ≥ 3×
pymerkle's appends/s; ≥ 5,000 inclusion proofs served/s at 10,000,000 leaves; ≥ 20,000 verifications/s on one core.

In one run, all thrown away afterwards (README.md, "bench_evidence", has the details):
1. ``fixture_evidence.py pure``: merkle.root over N leaves (the baseline: plain-Python RFC 9162 hashing), the same
   leaves appended to pymerkle's in-memory tree and to its SQLite tree (10,000 a transaction: its durable append),
   ``merkle.verify_inclusion`` at a 24-hash proof and ``receipts.verify_receipt`` of a real receipt.
2. A private PostgreSQL cluster: the tiles of a 10,000,000-leaf log written with COPY, then
   ``selectors.inclusion_proof`` of random leaves in one and in two processes, then ``services.deposit`` batches of
   10,000 new hashes (each one committed transaction) on top of it; the same batches on a SQLite file database.
3. gunicorn (``--workers 2``) on that cluster: ``POST /api/v1/evidence/deposits/`` with 10,000 hashes a request,
   and wrk over ``/api/v1/evidence/proofs/inclusion/?index=<random>`` beside ``/healthz``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from bench_agencies_api import (  # noqa: E402
    CONNECTIONS,
    DURATION,
    GUNICORN_ARGS,
    ROOT,
    VENV_BIN,
    WARMUP,
    fetch_json,
    free_port,
    run_checked,
    start_gunicorn,
    start_postgres,
    wrk,
)
from bench_assistance import post_json  # noqa: E402

BENCHMARK = "evidence"
LEAVES = int(os.environ.get("BENCH_EVIDENCE_LEAVES", "10000000"))  # the log the proofs are served from
HASH_LEAVES = int(os.environ.get("BENCH_EVIDENCE_HASH_LEAVES", "100000"))  # merkle.root / pymerkle
BATCHES = int(os.environ.get("BENCH_EVIDENCE_BATCHES", "3"))  # deposit batches of 10,000 per database
API_BATCHES = int(os.environ.get("BENCH_EVIDENCE_API_BATCHES", "3"))
PROOF_SECONDS = float(os.environ.get("BENCH_EVIDENCE_PROOF_SECONDS", "5"))
BATCH = 10_000
DEPOSITS_PER_S = 20_000.0
PYMERKLE_RATIO = 3.0
PROOFS_PER_S = 5_000.0
VERIFY_PER_S = 20_000.0
PROOF_HASHES = 24

WRK_PROOFS = """
local size = %d
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/api/v1/evidence/proofs/inclusion/?index=" .. math.random(0, size - 1))
end
"""


def fixture(env: dict, *args: str) -> dict:
    command = [str(VENV_BIN / "python"), str(BENCH_DIR / "fixture_evidence.py"), *args]
    return json.loads(run_checked(command, env=env, cwd=ROOT).strip().splitlines()[-1])


def proofs_in_processes(env: dict, processes: int) -> float:
    """Proofs/s of ``processes`` fixture processes running at once (each its own connection), summed."""
    command = [str(VENV_BIN / "python"), str(BENCH_DIR / "fixture_evidence.py"), "proofs", str(PROOF_SECONDS)]
    running = [
        subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(processes)
    ]
    total = 0.0
    for process in running:
        stdout, stderr = process.communicate(timeout=300)
        if process.returncode:
            raise RuntimeError(f"fixture_evidence.py proofs exited with {process.returncode}:\n{stderr[-3000:]}")
        total += json.loads(stdout.strip().splitlines()[-1])["per_s"]
    return total


def api_deposits(base: str, token: str) -> dict:
    """POST batches of 10,000 new hashes to the API (one warm-up batch first); deposits/s over the timed ones."""
    url = f"{base}/api/v1/evidence/deposits/"
    times = []
    for batch in range(API_BATCHES + 1):
        body = {"deposits": [{"hash": secrets.token_hex(32), "media_type": "application/pdf"} for _ in range(BATCH)]}
        began = time.perf_counter()
        code, answer = post_json(url, token, body)
        elapsed = time.perf_counter() - began
        made = answer.get("deposits") or []
        if code != 201 or len(made) != BATCH or not all(d.get("created") for d in made):
            raise RuntimeError(f"POST {url} answered {code}: {str(answer)[:300]}")
        if batch:
            times.append(elapsed)
    return {"per_s": BATCH * len(times) / sum(times), "batch_s": times}


def served(stack: ExitStack, env: dict, tmp: Path, token: str, size: int) -> dict:
    port = free_port()
    start_gunicorn(stack, env, port, tmp / "gunicorn.log")
    base = f"http://127.0.0.1:{port}"
    proof_url = f"{base}/api/v1/evidence/proofs/inclusion/?index={size // 3}"
    answer = fetch_json(proof_url, {})
    if (answer.get("tree_size") or 0) < size or len(answer.get("proof") or []) < 20:
        raise RuntimeError(f"GET {proof_url}: not a proof in a tree of {size:,} leaves or more: {str(answer)[:200]}")
    script = tmp / "wrk_proofs.lua"
    script.write_text((BENCH_DIR / "wrk_stats.lua").read_text() + WRK_PROOFS % size)
    print(f"  gunicorn {GUNICORN_ARGS}; wrk -c {CONNECTIONS} -t 2 -d {DURATION}: /healthz, proofs", file=sys.stderr)
    wrk(f"{base}/healthz", WARMUP, {})
    healthz = wrk(f"{base}/healthz", DURATION, {})
    proofs = wrk_script(base, script, DURATION)
    deposits = api_deposits(base, token)
    return {"healthz": healthz, "proofs": proofs, "deposits": deposits}


def wrk_script(base: str, script: Path, duration: str) -> dict:
    args = ["wrk", "-c", str(CONNECTIONS), "-t", "2", "-d", duration, "--timeout", "10s", "--latency", "-s"]
    stats = json.loads(run_checked([*args, str(script), base]).strip().splitlines()[-1])
    errors = {k: stats[k] for k in ("non_2xx", "connect_errors", "read_errors", "write_errors", "timeouts")}
    if any(errors.values()) or not stats["requests"]:
        raise RuntimeError(f"wrk proofs: {stats['requests']} requests with errors {errors}; refusing the result")
    return stats


def run() -> list[dict]:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed: apt-get install -y wrk")
    with ExitStack() as stack:
        tmp = Path(tempfile.mkdtemp(prefix="yipanqi-bench-evidence-"))
        stack.callback(shutil.rmtree, tmp, ignore_errors=True)
        base_env = {
            **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
            "YIPANQI_MODE": "development",
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT / "src"),
            "EVIDENCE_SIGNING_KEY_FILE": str(tmp / "evidence.key"),
        }
        pg = {**base_env, "DATABASE_URL": start_postgres(stack, tmp), "YIPANQI_VAR_DIR": str(tmp / "var-pg")}
        lite = {
            **base_env,
            "DATABASE_URL": f"sqlite:///{tmp / 'evidence.sqlite3'}",
            "YIPANQI_VAR_DIR": str(tmp / "var-sqlite"),
        }
        info = fixture(pg, "setup")
        fixture(lite, "setup")
        log = fixture(pg, "tiles", str(LEAVES))
        print(
            f"  log of {log['size']:,} leaves: {log['tiles']:,} tiles ({log['megabytes']:.0f} MB) written in "
            f"{log['build_s']:.0f} s; proofs of {log['proof_hashes']} hashes",
            file=sys.stderr,
        )
        proofs = {n: proofs_in_processes(pg, n) for n in (1, 2)}
        print(f"  proofs/s: {proofs[1]:.0f} (1 process), {proofs[2]:.0f} (2 processes)", file=sys.stderr)
        receipt = str(tmp / "receipt.json")
        on_pg = fixture(pg, "deposits", str(BATCHES), receipt)
        on_lite = fixture(lite, "deposits", str(BATCHES), str(tmp / "receipt-sqlite.json"))
        for name, figures in (("PostgreSQL", on_pg), ("SQLite", on_lite)):
            print(
                f"  deposits on {name}: batches of 10,000 in "
                + ", ".join(f"{s:.2f}" for s in figures["batch_s"])
                + f" s; one batch: prepare {figures['prepare_s']:.2f} s, integrate {figures['integrate_s']:.2f} s"
                + f" (of which the rows' COPY {figures['copy_s']:.2f} s)",
                file=sys.stderr,
            )
        pure = fixture(base_env, "pure", str(HASH_LEAVES), receipt)
        http = served(stack, pg, tmp, info["token"], log["size"])
        print(
            f"  API deposits: batches of 10,000 in {', '.join(f'{s:.2f}' for s in http['deposits']['batch_s'])} s",
            file=sys.stderr,
        )
        return rows(log, proofs, on_pg, on_lite, pure, http)


def rows(log: dict, proofs: dict, on_pg: dict, on_lite: dict, pure: dict, http: dict) -> list[dict]:
    n = pure["size"]
    root_rate = n / min(pure["root_s"])
    pymerkle_rate = n / min(pure["pymerkle_s"])
    durable_rate = n / sum(pure["pymerkle_sqlite_batch_s"])
    compact_rate = n / min(pure["compact_s"])
    copy_rate = BATCH / on_pg["copy_s"]
    hash_rate = root_rate * 2  # leaf hash + (n - 1) node hashes
    base = {"benchmark": BENCHMARK}

    def deposit_row(case: str, rate: float, pg: bool) -> dict:
        return {
            **base,
            "case": case,
            "per s": rate,
            "baseline": "pymerkle SQLite",
            "ratio": rate / durable_rate,
            "target": f">={DEPOSITS_PER_S:,.0f}/s" if pg else "",
            "verdict": ("ok" if rate >= DEPOSITS_PER_S else "MISSED") if pg else "info",
        }

    size = f"{log['size']:,} leaves"
    result = [
        {
            **base,
            "case": f"merkle.root over {n:,} leaves (plain-Python RFC 9162)",
            "per s": root_rate,
            "baseline": "",
            "ratio": None,
            "target": "",
            "verdict": "baseline",
        },
        {
            **base,
            "case": f"pymerkle 7 InmemoryTree.append_entry, {n:,} leaves",
            "per s": pymerkle_rate,
            "baseline": "merkle.root",
            "ratio": pymerkle_rate / root_rate,
            "target": "",
            "verdict": "baseline",
        },
        {
            **base,
            "case": f"pymerkle 7 SqliteTree.append_entries, {n:,} leaves, 10,000 a transaction (durable, leaves only)",
            "per s": durable_rate,
            "baseline": "merkle.root",
            "ratio": durable_rate / root_rate,
            "target": "",
            "verdict": "baseline",
        },
        {
            **base,
            "case": f"pymerkle SqliteTree root at {n:,} leaves (recomputed from every leaf)",
            "per s": 1 / pure["pymerkle_sqlite_root_s"],
            "baseline": "",
            "ratio": None,
            "target": "",
            "verdict": "info",
        },
        {
            **base,
            "case": f"pymerkle SqliteTree inclusion proof at {n:,} leaves",
            "per s": 1 / pure["pymerkle_sqlite_proof_s"],
            "baseline": "",
            "ratio": None,
            "target": "",
            "verdict": "info",
        },
        {
            **base,
            "case": f"merkle.CompactRange.extend, {n:,} leaves (the sequencer's in-memory append)",
            "per s": compact_rate,
            "baseline": "pymerkle",
            "ratio": compact_rate / pymerkle_rate,
            "target": f">={PYMERKLE_RATIO:g}x (in memory)",
            "verdict": "ok" if compact_rate >= PYMERKLE_RATIO * pymerkle_rate else "MISSED",
        },
        deposit_row("durable deposits, services.deposit x10,000, PostgreSQL", on_pg["per_s"], True),
        deposit_row(
            "durable deposits, POST /api/v1/evidence/deposits/ x10,000, PostgreSQL", http["deposits"]["per_s"], True
        ),
        deposit_row("durable deposits, services.deposit x10,000, SQLite", on_lite["per_s"], False),
        {
            **base,
            "case": "the deposit rows' COPY alone, 10,000 into the table and its 4 indexes (PostgreSQL): a ceiling",
            "per s": copy_rate,
            "baseline": "pymerkle SQLite",
            "ratio": copy_rate / durable_rate,
            "target": f">={PYMERKLE_RATIO:g}x (durable)",
            "verdict": "ok" if on_pg["per_s"] >= PYMERKLE_RATIO * durable_rate else "MISSED",
        },
    ]
    for processes in (1, 2):  # the target is the machine's (both cores); one process shows what each adds
        rate = proofs[processes]
        whole_machine = processes == 2
        result.append(
            {
                **base,
                "case": f"inclusion proofs, selectors.inclusion_proof at {size}, {processes} process(es)",
                "per s": rate,
                "baseline": "target",
                "ratio": rate / PROOFS_PER_S,
                "target": f">={PROOFS_PER_S:,.0f}/s (2 cores)" if whole_machine else "",
                "verdict": ("ok" if rate >= PROOFS_PER_S else "MISSED") if whole_machine else "info",
            }
        )
    healthz, served_proofs = http["healthz"], http["proofs"]
    result += [
        {
            **base,
            "case": f"/healthz (gunicorn, {CONNECTIONS} clients)",
            "per s": healthz["rps"],
            "p95 ms": healthz["p95_ms"],
            "baseline": "",
            "ratio": None,
            "target": "",
            "verdict": "baseline",
        },
        {
            **base,
            "case": f"GET /api/v1/evidence/proofs/inclusion/?index=random at {size} (gunicorn)",
            "per s": served_proofs["rps"],
            "p95 ms": served_proofs["p95_ms"],
            "baseline": "/healthz",
            "ratio": served_proofs["rps"] / healthz["rps"],
            "target": f">={PROOFS_PER_S:,.0f}/s",
            "verdict": "ok" if served_proofs["rps"] >= PROOFS_PER_S else "MISSED",
        },
        {
            **base,
            "case": f"merkle.verify_inclusion, {PROOF_HASHES}-hash proof, one core",
            "per s": pure["verify_per_s"],
            "baseline": "hashing limit",
            "ratio": pure["verify_per_s"] * PROOF_HASHES / hash_rate,
            "target": f">={VERIFY_PER_S:,.0f}/s",
            "verdict": "ok" if pure["verify_per_s"] >= VERIFY_PER_S else "MISSED",
        },
        {
            **base,
            "case": f"receipts.verify_receipt ({pure['receipt_proof_hashes']}-hash proof, Ed25519 note)",
            "per s": pure["receipt_per_s"],
            "baseline": "",
            "ratio": None,
            "target": "",
            "verdict": "info",
        },
    ]
    return result
