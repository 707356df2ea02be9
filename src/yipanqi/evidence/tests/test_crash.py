"""Kill the process during a batch: a subprocess deposits batch after batch on its own database and prints each batch
once its deposit returned (reported as sequenced); it is killed with SIGKILL while it works. After that, every
reported deposit is in the log exactly once, the log is whole (fsck) and a restarted process goes on depositing.

The database is a fresh one of the same kind as the suite's (a SQLite file, or a new PostgreSQL database on the same
cluster), migrated for the evidence app only."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from yipanqi.evidence import notes

WORKER = textwrap.dedent(
    """
    import hashlib, os, sys
    import django
    django.setup()
    from yipanqi.directory.models import Agency, Region
    from yipanqi.evidence import services

    region, _ = Region.objects.get_or_create(code="510000", defaults={"name": "四川省", "level": "province"})
    agency, _ = Agency.objects.get_or_create(
        name="四川省高级人民法院", defaults={"type": "court", "level": "province", "region": region}
    )
    start, batches, size = (int(value) for value in sys.argv[1:4])
    for batch in range(start, start + batches):
        items = [{"hash": hashlib.sha256(f"{batch}-{n}".encode()).hexdigest()} for n in range(size)]
        result = services.deposit(acting_user=None, agency=agency, items=items)
        print("sequenced", batch, result[0][0].index, result[-1][0].index, flush=True)
    """
)
BATCH = 500


def _hash(batch: int, n: int) -> str:
    return hashlib.sha256(f"{batch}-{n}".encode()).hexdigest()


@pytest.fixture
def database_url(tmp_path):
    """A fresh database migrated for the evidence app, of the suite's kind."""
    if connection.vendor == "postgresql":
        import psycopg

        settings = connection.settings_dict
        name = f"yipanqi_crash_{uuid.uuid4().hex[:12]}"
        params = {
            "host": settings["HOST"] or "localhost",
            "port": settings["PORT"] or 5432,
            "user": settings["USER"],
            "password": settings["PASSWORD"] or None,
        }
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        password = f":{params['password']}" if params["password"] else ""
        url = f"postgres://{params['user']}{password}@{params['host']}:{params['port']}/{name}"
    else:
        url = f"sqlite:///{tmp_path / 'crash.sqlite3'}"
        name = ""
    env = _env(url)
    migrate = "import django; django.setup(); from django.core.management import call_command\n" + "".join(
        f"call_command('migrate', {app!r}, verbosity=0)\n" for app in ("core", "evidence")
    )
    subprocess.run(
        [sys.executable, "-c", migrate],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    yield url
    if name:
        import psycopg

        with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="yipanqi.settings",
        YIPANQI_MODE="test",
        EVIDENCE_SIGNING_KEY=SIGNING_KEY,
    )
    return env


# Every process of this test signs with the same key (a test process otherwise makes its own).
SIGNING_KEY = notes.generate_key("yipanqi.local/evidence")[0]


def _worker(url: str, start: int, batches: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, str(start), str(batches), str(BATCH)],
        env=_env(url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _check(url: str, code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + textwrap.dedent(code)],
        env=_env(url),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_a_batch_killed_midway_loses_and_duplicates_nothing_reported(database_url, tmp_path):
    worker = _worker(database_url, 0, 1000)
    reported = []
    try:
        while len(reported) < 3:
            line = worker.stdout.readline()
            assert line, worker.stderr.read()[-3000:]
            reported.append(line.split())
        time.sleep(0.05)  # well inside the next batch
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    # Lines printed before the kill but not read yet were reported too.
    reported += [line.split() for line in worker.stdout.read().splitlines() if line.startswith("sequenced")]
    assert worker.returncode == -signal.SIGKILL
    batches = {int(batch): (int(first), int(last)) for _word, batch, first, last in reported}
    expected = {
        str(index): _hash(batch, index - first)
        for batch, (first, last) in batches.items()
        for index in range(first, last + 1)
    }
    Path(tmp_path / "expected.txt").write_text("\n".join(f"{i} {h}" for i, h in expected.items()))

    out = _check(
        database_url,
        f"""
        from yipanqi.evidence import fsck
        from yipanqi.evidence.models import Deposit, LogState
        expected = dict(line.split() for line in open({str(tmp_path / "expected.txt")!r}).read().splitlines())
        found = dict(Deposit.objects.filter(index__in=[int(i) for i in expected]).values_list("index", "content_hash"))
        assert {{str(i): h for i, h in found.items()}} == expected, "a reported deposit is lost or changed"
        count = Deposit.objects.count()
        assert count == LogState.objects.get().size and count % {BATCH} == 0, count
        assert Deposit.objects.values("identity").distinct().count() == count
        report = fsck.run()
        assert report.ok, report.problems
        print("ok", count)
        """,
    )
    size = int(out.split()[1])
    reported_end = max(last for _first, last in batches.values()) + 1
    # The batch being written when the kill came was committed whole or not at all (it may have committed without
    # being reported yet).
    assert size in (reported_end, reported_end + BATCH)

    # Restarted, the client sends again the batch it had no answer for, then the next one: the first is either in
    # the log already (the same deposits come back, right after the reported ones) or sequenced now, at the end.
    restarted = _worker(database_url, max(batches) + 1, 2)
    output, errors = restarted.communicate(timeout=300)
    assert restarted.returncode == 0, errors[-3000:]
    first = int(output.split()[2])
    assert first == reported_end
    out = _check(
        database_url,
        """
        from yipanqi.evidence import fsck
        report = fsck.run()
        assert report.ok, report.problems
        print("ok", report.size)
        """,
    )
    assert int(out.split()[1]) == reported_end + 2 * BATCH
