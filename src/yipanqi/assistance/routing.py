"""Routing: which agency is competent to receive a request, by the kind's rule and the directory.

- every kind names the agency types that may receive it;
- ``same_level``: the counterpart of the same type and level (委托执行 goes to a court of the same level);
- ``jurisdiction``: the agency whose jurisdiction covers the target region (跨域立案: the court with jurisdiction) —
  its explicit jurisdiction, or, when none is entered, its own region and everything below it;
- ``any``: any agency of an allowed type.
``propose`` ranks candidates with the directory's counterpart lookup; ``refusal`` says why a receiver is wrong.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from yipanqi.directory.models import Agency, Region
from yipanqi.directory.selectors import LEVEL_ORDER, counterparts

from .models import RequestKind, RoutingRule


def covers(agency: Agency, region: Region) -> bool:
    """Whether ``agency`` has jurisdiction over ``region``."""
    areas = list(agency.jurisdiction.all())
    if areas:
        return any(region.path.startswith(area.path) for area in areas)
    return region.path.startswith(agency.region.path)


def refusal(kind: RequestKind, sender: Agency, receiver: Agency, target: Region | None, *, forwarding=False) -> str:
    """Why ``receiver`` may not receive this kind from ``sender`` ("" when it may)."""
    if not receiver.is_active:
        return _("%(agency)s is no longer active.") % {"agency": receiver.name}
    if receiver.type not in kind.receiver_types:
        return _("A %(type)s does not receive %(kind)s.") % {"type": receiver.get_type_display(), "kind": kind.name}
    if kind.routing == RoutingRule.SAME_LEVEL and receiver.level != sender.level:
        return _("%(kind)s goes to an agency of the same level as %(sender)s; %(agency)s is not.") % {
            "kind": kind.name,
            "sender": sender.name,
            "agency": receiver.name,
        }
    if kind.routing == RoutingRule.JURISDICTION:
        if target is None:
            return _("Choose the target region: %(kind)s goes to the agency with jurisdiction there.") % {
                "kind": kind.name
            }
        if not covers(receiver, target):
            return _("%(agency)s has no jurisdiction over %(region)s.") % {
                "agency": receiver.name,
                "region": target.full_name if hasattr(target, "full_name") else target.name,
            }
    return ""


def propose(principal, kind: RequestKind, sender: Agency, target: Region, limit: int = 5) -> list:
    """Competent agencies in ``target``, best first, as directory ``Counterpart`` rows (agency, score, reasons)."""
    if sender.type in kind.receiver_types:
        candidates = counterparts(principal, agency=sender, target_region=target, limit=50)
    else:
        candidates = []
        for receiver_type in kind.receiver_types:
            stand_in = Agency(type=receiver_type, level=sender.level, region=sender.region, specialty="")
            candidates += counterparts(principal, agency=stand_in, target_region=target, limit=50)
        candidates.sort(key=lambda c: (-c.score, LEVEL_ORDER.get(c.agency.level, 9), c.agency.name))
    fitting = [c for c in candidates if not refusal(kind, sender, c.agency, target)]
    return fitting[:limit]
