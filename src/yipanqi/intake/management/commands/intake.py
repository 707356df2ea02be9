"""``yipanqi intake FILE [--published YYYY-MM-DD] [--json]``: read a document and print the draft the intake proposes.

Nothing is written: the draft goes to stdout, as JSON with ``--json`` (the schema is in docs/intake.md), otherwise as
a short summary for a person. A document the intake cannot read (empty, binary, over 5 MB, a scanned PDF, not
Chinese) exits with status 2 and says why.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from yipanqi.intake import reading
from yipanqi.intake.pipeline import analyse


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(_("--published takes a date as YYYY-MM-DD, not %(value)s.") % {"value": value}) from None


class Command(BaseCommand):
    help = "Read a document (.txt, .docx, .pdf, .html) and print the ledger and meeting data it proposes."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the document to read")
        parser.add_argument("--published", type=str, default="", help="publication date, YYYY-MM-DD")
        parser.add_argument("--json", action="store_true", help="print the draft as JSON")

    def handle(self, *args, **options):
        path = Path(options["file"])
        published = _date(options["published"]) if options["published"] else None
        try:
            with path.open("rb") as handle:  # one byte more than allowed is enough to say it is too big
                data = handle.read(reading.MAX_BYTES + 1)
        except OSError as exc:
            raise CommandError(_("Cannot open %(file)s: %(error)s") % {"file": path, "error": exc.strerror}) from None
        try:
            original = reading.read(data, path.name)
        except reading.IntakeError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        draft = analyse(original, published=published)
        if options["json"]:
            self.stdout.write(json.dumps(draft.as_json(), ensure_ascii=False, indent=2))
            return
        self._summary(draft)

    def _summary(self, draft) -> None:
        event = draft.event
        write = self.stdout.write
        write(_("Event: %(kind)s %(date)s %(place)s") % {"kind": event.kind, "date": event.date, "place": event.place})
        write(_("Agencies: %(count)s") % {"count": len(draft.agencies)})
        for agency in draft.agencies:
            write(f"  {agency.text} → {agency.name or '?'}")
        write(_("Agreements: %(count)s") % {"count": len(draft.agreements)})
        for agreement in draft.agreements:
            parties = "、".join(p.name or p.text for p in agreement.parties)
            write(f"  《{agreement.title}》 {agreement.date} {parties}")
        write(_("Measures: %(count)s") % {"count": _count(draft.measures)})
        for node in draft.measures:
            _print_tree(write, node, 1)
        write(_("Topics: %(count)s") % {"count": len(draft.topics)})
        write(_("Figures: %(count)s") % {"count": len(draft.figures)})
        for figure in draft.figures:
            write(f"  {figure.text} ({figure.counts})")
        for warning in draft.warnings:
            write(_("Warning: %(message)s") % {"message": warning.message})


def _count(nodes) -> int:
    return sum(1 + _count(node.children) for node in nodes)


def _print_tree(write, node, depth: int) -> None:
    write("  " * depth + (f"{node.number} " if node.number else "") + node.text[:60])
    for child in node.children:
        _print_tree(write, child, depth + 1)
