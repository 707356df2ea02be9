"""``yipanqi ledger_recompute [--agreement ID]``: recompute every derived field of the ledger (progress, statuses of
parents, light transition dates, report due dates) — after an upgrade that adds derived fields, or a repair."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from yipanqi.ledger.models import Agreement
from yipanqi.ledger.services import recompute_agreement


class Command(BaseCommand):
    help = "Recompute the ledger's derived fields (progress, lights' dates, report due dates) of every agreement."

    def add_arguments(self, parser):
        parser.add_argument("--agreement", type=int, help="only this agreement (its id)")

    def handle(self, *args, agreement=None, **options):
        agreements = Agreement.objects.order_by("pk")
        if agreement is not None:
            agreements = agreements.filter(pk=agreement)
            if not agreements.exists():
                raise CommandError(f"no agreement with id {agreement}")
        total = 0
        for item in agreements:
            with transaction.atomic():
                changed = recompute_agreement(Agreement.objects.select_for_update().get(pk=item.pk))
            total += changed
            self.stdout.write(f"{item.pk} {item.title}: {changed} measures changed")
        self.stdout.write(self.style.SUCCESS(f"{total} measures changed"))
