"""The real task worker (``yipanqi db_worker``) in the test's process: runs every task that is due, then returns.

Use it from ``transactional_db`` tests only: the worker claims tasks in its own transactions and closes stale
connections, which a test wrapped in a transaction (``db``) cannot survive.
"""

from __future__ import annotations

import signal
from io import StringIO

from django.core.management import call_command

_SIGNALS = [s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGQUIT", None)) if s is not None]


def run_worker() -> str:
    """``yipanqi db_worker --batch --no-startup-delay --no-reload``; returns its output. The worker installs its own
    signal handlers (graceful shutdown); pytest's are put back afterwards."""
    saved = {sig: signal.getsignal(sig) for sig in _SIGNALS}
    out = StringIO()
    try:
        # call_command takes the options' destinations: --no-startup-delay stores False in startup_delay.
        call_command("db_worker", batch=True, startup_delay=False, reload=False, interval=0, stdout=out, stderr=out)
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    return out.getvalue()
