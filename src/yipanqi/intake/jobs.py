"""The intake's background work (docs/worker.md): a batch of documents is read by the worker, one document after
another, so that a page can show the batch's progress (``IntakeBatch.done`` of ``total``)."""

from __future__ import annotations

from django_tasks import task

from . import services
from .models import IntakeBatch


@task()
def run_intake_batch(batch_id: int) -> str:
    """Read every document of the batch (``services.run_batch``); returns the batch's status."""
    services.run_batch(batch_id)
    return IntakeBatch.objects.values_list("status", flat=True).get(pk=batch_id)
