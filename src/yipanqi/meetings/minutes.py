"""The minutes' first draft (会议纪要), written from the meeting's topics and decisions.

The draft is plain text the host then edits: a title line, an opening paragraph (when, where, who hosted, who
took part), one numbered section per topic (一、二、…) with its decisions (1. 2. …), the open decisions of earlier
meetings, and the next host. ``documents.py`` turns the (edited) text into .docx and .pdf.
"""

from __future__ import annotations

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from yipanqi.ledger.documents import long_date

from . import selectors
from .models import Decision, DecisionKind, Meeting, Topic, TopicOutcome

DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 21 → 二十一, 105 → 一百零五 (up to 9999), as section numbers are written."""
    if n <= 0 or n > 9999:
        return str(n)
    units = [(1000, "千"), (100, "百"), (10, "十"), (1, "")]
    out, zero = "", False
    for value, unit in units:
        digit = n // value % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += ("" if (value == 10 and digit == 1 and not out) else DIGITS[digit]) + unit
    return out


def _chinese() -> bool:
    return (translation.get_language() or "").startswith("zh")


def section_number(n: int) -> str:
    """Section numbers of an official document: 一、 in Chinese, "1." otherwise."""
    return f"{chinese_number(n)}、" if _chinese() else f"{n}. "


def _owners(decision: Decision) -> str:
    parts = []
    if decision.lead_id:
        parts.append(_("lead: %(agency)s") % {"agency": decision.lead.name})
    co = [a.name for a in decision.co_owners.all()]
    if co:
        parts.append(_("co-owners: %(agencies)s") % {"agencies": "、".join(co)})
    if decision.due_on:
        parts.append(_("deadline: %(date)s") % {"date": long_date(decision.due_on)})
    if decision.kind == DecisionKind.UPDATE_MEASURES:
        numbers = "、".join(m.number for m in decision.measures.all())
        parts.append(_("measures: %(numbers)s") % {"numbers": numbers})
        if decision.new_due_on:
            parts.append(_("new deadline: %(date)s") % {"date": long_date(decision.new_due_on)})
    return _("; ").join(parts)


def draft_text(meeting: Meeting) -> str:
    series = meeting.series
    held_on = timezone.localtime(meeting.starts_at).date()
    agencies = "、".join(a.name for a in meeting.participant_agencies.all())
    lines = [_("Minutes of %(meeting)s") % {"meeting": meeting.display_title}, ""]
    opening = _("On %(date)s, %(meeting)s was held in %(place)s, hosted by %(host)s.") % {
        "date": long_date(held_on),
        "meeting": meeting.display_title,
        "place": meeting.place or _("(place)"),
        "host": meeting.host.name,
    }
    if agencies:
        opening += ("" if _chinese() else " ") + _("Taking part: %(agencies)s.") % {"agencies": agencies}
    lines += [opening, ""]
    topics = (
        Topic.objects.filter(meeting=meeting)
        .exclude(outcome=TopicOutcome.WITHDRAWN)
        .prefetch_related("decisions__lead", "decisions__co_owners", "decisions__measures")
        .order_by("position", "id")
    )
    earlier = list(selectors.open_decisions(meeting))
    if earlier:
        lines.append(_("The meeting heard how the decisions of earlier meetings are being carried out:"))
        for i, decision in enumerate(earlier, start=1):
            state = selectors.decision_state(decision)
            progress = "" if state["progress"] is None else f"（{state['progress']}%）"
            lines.append(f"{i}. {decision.title}{progress}")
        lines.append("")
    lines.append(_("The meeting discussed the following topics and agreed:"))
    lines.append("")
    for n, topic in enumerate(topics, start=1):
        lines.append(f"{section_number(n)}{topic.title}")
        if topic.description:
            lines.append(topic.description)
        decisions = list(topic.decisions.all())
        for k, decision in enumerate(decisions, start=1):
            sentence = f"{k}. {decision.title}"
            if decision.text:
                sentence += f"。{decision.text}" if _chinese() else f". {decision.text}"
            details = _owners(decision)
            if details:
                sentence += f"（{details}）" if _chinese() else f" ({details})"
            lines.append(sentence)
        if not decisions and topic.outcome == TopicOutcome.UNFINISHED:
            lines.append(_("No decision yet; the topic goes on to the next meeting."))
        lines.append("")
    host = selectors.proposed_host(series)
    if host is not None:
        lines.append(_("The next meeting will be hosted by %(host)s.") % {"host": host.name})
    return "\n".join(lines).strip() + "\n"
