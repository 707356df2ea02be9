"""The ``yipanqi`` console script: the project's manage.py (``yipanqi migrate``, ``yipanqi demo`` …)."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yipanqi.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(["yipanqi", *(sys.argv[1:] if argv is None else argv)])
    except ImproperlyConfigured as exc:
        print(f"yipanqi: configuration error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
