#!/usr/bin/env bash
# `make run`: migrate, load the demo, queue the daily jobs, start a task worker in the background, serve.
# The worker (mails of notifications, daily jobs) stops with the server: Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-.venv/bin}
host=${HOST:-127.0.0.1}
port=${PORT:-8000}
export SITE_URL=${SITE_URL:-http://$host:$port}  # links in the mails point at this server

"$bin/yipanqi" migrate --no-input -v 0
"$bin/yipanqi" demo
"$bin/yipanqi" schedule_daily

"$bin/yipanqi" db_worker --no-startup-delay &
worker=$!
stop_worker() {
  if kill -0 "$worker" 2>/dev/null; then
    kill -TERM "$worker" 2>/dev/null || true
    wait "$worker" 2>/dev/null || true
  fi
}
trap stop_worker EXIT
echo "task worker started (pid $worker): notification mails and daily jobs; mails print on this console"

echo "yipanqi serves on http://$host:$port/ (Ctrl-C stops it)"
"$bin/yipanqi" runserver "$host:$port"
