"""Background work through Django's tasks API (the ``django-tasks`` backport, database backend; docs/worker.md).

Tasks are module-level functions decorated with ``@task()`` (``from django_tasks import task``); their arguments and
return values must be JSON (ids, ISO dates, strings), never model instances. A service enqueues with
:func:`enqueue_on_commit`, so the worker never sees work whose data was rolled back or is not yet committed.
"""

from __future__ import annotations

import json
import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Enqueue ``task(*args, **kwargs)`` once the current transaction commits (at once outside a transaction).

    The arguments are checked to be JSON now, inside the caller's transaction, so a programming error fails the
    service instead of being lost after the commit. A failure to enqueue after the commit is logged and does not undo
    or fail the committed write.
    """
    try:
        json.dumps({"args": args, "kwargs": kwargs})
    except (TypeError, ValueError) as exc:
        raise TypeError(f"arguments of task {task.name} must be JSON (ids, strings, ISO dates): {exc}") from None

    def enqueue():
        try:
            result = task.enqueue(*args, **kwargs)
        except Exception:
            logger.exception("could not enqueue task %s after the commit", task.module_path)
        else:
            logger.debug("enqueued task %s as %s", task.module_path, result.id)

    transaction.on_commit(enqueue)
