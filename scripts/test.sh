#!/usr/bin/env bash
# The whole suite twice: against SQLite, then against a throwaway PostgreSQL cluster started and stopped here.
set -euo pipefail
cd "$(dirname "$0")/.."
export YIPANQI_MODE=test
py=.venv/bin/pytest
# Two workers (this machine has two cores): --dist load keeps each worker's transactional tests after its others,
# which the session's shared database needs. YIPANQI_TEST_WORKERS=0 runs everything in one process.
workers=(-n "${YIPANQI_TEST_WORKERS:-2}" --dist load)
status=0

echo "== yipanqi tests on SQLite"
"$py" "${workers[@]}" "$@" || status=$?

echo "== yipanqi tests on PostgreSQL (throwaway cluster)"
pgdir=$(mktemp -d /tmp/yipanqi-pg.XXXXXX)
port=$(( 56000 + RANDOM % 2000 ))
trap 'scripts/pg.sh stop "$pgdir/cluster"; rm -rf "$pgdir"' EXIT
DATABASE_URL=$(scripts/pg.sh start "$pgdir/cluster" "$port")
export DATABASE_URL
"$py" "${workers[@]}" "$@" || status=$?

if [ "$status" -ne 0 ]; then echo "yipanqi tests FAILED (exit $status)" >&2; fi
exit "$status"
