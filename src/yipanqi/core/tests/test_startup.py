"""The WSGI application freezes the start-up heap once loaded (core/startup.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def test_loading_the_wsgi_application_imports_the_views_and_freezes_the_heap():
    code = (
        "import gc, json, sys; import yipanqi.wsgi; "
        "print(json.dumps([gc.get_freeze_count(), 'yipanqi.meetings.views' in sys.modules]))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "yipanqi.settings"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    frozen, views_loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert views_loaded and frozen > 50_000
