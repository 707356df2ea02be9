"""The review page's pure parts: the source text with every draft item highlighted, and the edits a reviewer makes
to the reviewed draft (``IntakeDocument.reviewed``, whose schema is documented in ``services``).

Highlighting: items may overlap or nest, so the text is cut at every item's start and end and each piece is written
once, escaped, inside one element that lists every item covering it::

    <mark class="yq-hl yq-hl-agency" data-start="12" data-end="20" data-items="agency-0 agreement-1"
          data-kinds="agency agreement" title="…">四川省高院</mark>

``data-start``/``data-end`` are offsets in the original text, so the page finds the pieces of any span
(``[start, end]``) by their offsets. Pieces no item covers stay plain text; page furniture is greyed.

Edits: every function takes the reviewed draft and returns a new one (the argument is never changed). Measure nodes
are addressed by their path in the tree, "0.3.1" = ``nodes[0].children[3].children[1]``. A refused edit raises
``ReviewError`` with a translated message.
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

# The kinds of highlight, innermost first: a piece covered by several items is coloured by the first kind here.
KIND_ORDER = ("agency", "figure", "count", "topic", "decision", "agreement", "measure", "event", "warning")
FURNITURE = "furniture"
_TRUNCATE = 40


class ReviewError(ValueError):
    """An edit the reviewed draft cannot take (a path that is not there, nothing to merge with …)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --------------------------------------------------------------------------- highlighting


@dataclass(frozen=True)
class Highlight:
    """One item's span in the original text: ``kind`` (see KIND_ORDER, or "furniture"), ``key`` (unique on the page,
    e.g. "measure-0.2"), ``label`` (what hovering says)."""

    start: int
    end: int
    kind: str
    key: str
    label: str


def _span(item) -> tuple[int, int] | None:
    span = item.get("span") if isinstance(item, dict) else item
    if not isinstance(span, list | tuple) or len(span) != 2:
        return None
    start, end = span
    if not isinstance(start, int) or not isinstance(end, int) or end <= start or start < 0:
        return None
    return start, end


def _short(text: str) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= _TRUNCATE else text[: _TRUNCATE - 1] + "…"


def _agency_label(ref: dict) -> str:
    if ref.get("agency_id"):
        return _("Agency: %(text)s → %(name)s") % {"text": ref.get("text", ""), "name": ref.get("name") or "?"}
    return _("Agency: %(text)s (not in the directory)") % {"text": ref.get("text", "")}


def _measure_highlights(nodes, prefix: str) -> Iterator[Highlight]:
    for index, node in enumerate(nodes or ()):
        path = f"{prefix}.{index}" if prefix else str(index)
        span = _span(node)
        if span:
            label = _("Measure %(number)s: %(text)s") % {
                "number": node.get("number") or "·",
                "text": _short(node.get("text") or node.get("title")),
            }
            yield Highlight(*span, "measure", f"measure-{path}", label)
        yield from _measure_highlights(node.get("children"), path)


def draft_highlights(draft: dict) -> list[Highlight]:
    """Every item of a draft (``Draft.as_json()``) with a span, and the page furniture the analysis left out."""
    found: list[Highlight] = []
    event = draft.get("event") or {}
    if span := _span(event):
        found.append(
            Highlight(
                *span,
                "event",
                "event",
                _("Event: %(text)s")
                % {"text": _short(event.get("title") or event.get("date_text") or event.get("kind"))},
            )
        )
    if span := _span(event.get("next_meeting") or {}):
        found.append(Highlight(*span, "event", "next-meeting", _("Next meeting")))
    for index, ref in enumerate(draft.get("agencies") or ()):
        if span := _span(ref):
            found.append(Highlight(*span, "agency", f"agency-{index}", _agency_label(ref)))
    for index, agreement in enumerate(draft.get("agreements") or ()):
        if span := _span(agreement):
            label = _("Agreement: 《%(title)s》") % {"title": _short(agreement.get("title"))}
            found.append(Highlight(*span, "agreement", f"agreement-{index}", label))
    found.extend(_measure_highlights(draft.get("measures"), ""))
    for index, topic in enumerate(draft.get("topics") or ()):
        if span := _span(topic):
            found.append(
                Highlight(*span, "topic", f"topic-{index}", _("Topic: %(text)s") % {"text": _short(topic.get("text"))})
            )
    for index, decision in enumerate(draft.get("decisions") or ()):
        if span := _span(decision):
            label = _("Decision: %(text)s") % {"text": _short(decision.get("text"))}
            found.append(Highlight(*span, "decision", f"decision-{index}", label))
    for index, figure in enumerate(draft.get("figures") or ()):
        if span := _span(figure):
            label = _("Figure: %(text)s") % {"text": _short(figure.get("text"))}
            if figure.get("counts"):
                label += f" ({figure['counts']})"
            found.append(Highlight(*span, "figure", f"figure-{index}", label))
    for index, count in enumerate(draft.get("declared_counts") or ()):
        if span := _span(count):
            label = _("Declared count: %(text)s") % {"text": _short(count.get("text"))}
            found.append(Highlight(*span, "count", f"count-{index}", label))
    for index, warning in enumerate(draft.get("warnings") or ()):
        if span := _span(warning):
            label = _("Warning: %(text)s") % {"text": warning.get("message", "")}
            found.append(Highlight(*span, "warning", f"warning-{index}", label))
    for index, span in enumerate((draft.get("source") or {}).get("furniture") or ()):
        if span := _span(span):
            found.append(Highlight(*span, FURNITURE, f"furniture-{index}", _("Page furniture, left out")))
    return found


def _kind_rank(kind: str) -> int:
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


def highlight_html(text: str, highlights: Iterable[Highlight]) -> SafeString:
    """``text``, escaped, with a ``<mark>`` around each piece that items cover (see the module's docstring).

    Spans outside the text are clipped to it; empty ones are left out. The pieces, read in order, give back the text
    exactly, and each piece's ``data-start``/``data-end`` are its offsets in it."""
    length = len(text)
    items = []
    for item in highlights:
        start, end = max(0, item.start), min(length, item.end)
        if end > start:
            items.append((start, end, item))
    cuts = sorted({0, length, *(start for start, _end, _item in items), *(end for _start, end, _item in items)})
    starting: dict[int, list[tuple[int, int, Highlight]]] = {}
    for entry in items:
        starting.setdefault(entry[0], []).append(entry)
    active: list[tuple[int, int, Highlight]] = []
    parts: list[str] = []
    for here, there in itertools.pairwise(cuts):
        active = [entry for entry in active if entry[1] > here] + starting.get(here, [])
        piece = escape(text[here:there])
        if not active:
            parts.append(piece)
            continue
        covering = [entry for entry in active if entry[2].kind != FURNITURE]
        if not covering:
            parts.append(
                f'<span class="yq-furniture" data-start="{here}" data-end="{there}" '
                f'title="{escape(_("Page furniture, left out"))}">{piece}</span>'
            )
            continue
        # The innermost item colours the piece: the kind listed first, then the shortest span.
        covering.sort(key=lambda entry: (_kind_rank(entry[2].kind), entry[1] - entry[0]))
        kinds = [entry[2] for entry in covering]
        css = f"yq-hl yq-hl-{kinds[0].kind}" + (" yq-in-furniture" if len(covering) < len(active) else "")
        keys = " ".join(item.key for item in kinds)
        names = " ".join(dict.fromkeys(item.kind for item in kinds))
        title = escape("\n".join(dict.fromkeys(item.label for item in kinds)))
        parts.append(
            f'<mark class="{css}" data-start="{here}" data-end="{there}" data-items="{escape(keys)}" '
            f'data-kinds="{names}" title="{title}">{piece}</mark>'
        )
    return mark_safe("".join(parts))  # noqa: S308 - every piece of text escaped above


# --------------------------------------------------------------------------- agency references


def agency_refs(reviewed: dict) -> Iterator[dict]:
    """Every agency reference of the reviewed draft: the signatories, the leads and co-owners of the measures and of
    the decisions."""
    for agreement in reviewed.get("agreements") or ():
        yield from (ref for ref in agreement.get("signatories") or () if isinstance(ref, dict))
    for node in [*walk(reviewed), *decision_items(reviewed)]:
        if isinstance(node.get("lead"), dict):
            yield node["lead"]
        yield from (ref for ref in node.get("co_owners") or () if isinstance(ref, dict))


def decision_items(reviewed: dict) -> list:
    decisions = reviewed.get("decisions")
    items = decisions.get("items") if isinstance(decisions, dict) else None
    return [item for item in items or () if isinstance(item, dict)]


def unresolved(reviewed: dict) -> list[str]:
    """What still names no directory agency (the commit refuses the draft while there is any), in words."""
    problems = []
    for agreement in reviewed.get("agreements") or ():
        if not agreement.get("include", True):
            continue
        for ref in agreement.get("signatories") or ():
            if not ref.get("agency_id"):
                problems.append(
                    _("《%(title)s》: the signatory “%(text)s” is not matched to an agency.")
                    % {"title": agreement.get("title", ""), "text": ref.get("text", "")}
                )
    for path, node in walk_paths(reviewed):
        refs = ([node["lead"]] if isinstance(node.get("lead"), dict) else []) + list(node.get("co_owners") or ())
        for ref in refs:
            if not ref.get("agency_id"):
                problems.append(
                    _("Measure %(number)s: the owner “%(text)s” is not matched to an agency.")
                    % {"number": node.get("number") or path, "text": ref.get("text", "")}
                )
    for position, decision in enumerate(decision_items(reviewed), 1):
        if not decision.get("include", True):
            continue
        refs = ([decision["lead"]] if isinstance(decision.get("lead"), dict) else []) + list(
            decision.get("co_owners") or ()
        )
        for ref in refs:
            if not ref.get("agency_id"):
                problems.append(
                    _("Decision %(position)s: the owner “%(text)s” is not matched to an agency.")
                    % {"position": position, "text": ref.get("text", "")}
                )
    return problems


def resolve_mention(reviewed: dict, text: str, ref: dict) -> dict:
    """Every reference written ``text`` now names ``ref``'s agency (``{"agency_id": …}``); the text stays as written."""
    result = copy.deepcopy(reviewed)
    changed = 0
    for each in agency_refs(result):
        if each.get("text") == text:
            each["agency_id"] = ref["agency_id"]
            changed += 1
    if not changed:
        raise ReviewError(_("“%(text)s” is not used in the reviewed draft.") % {"text": text})
    return result


def agency_ref(agency, text: str = "") -> dict:
    """A reference to a directory agency (as the text wrote it, else by its name)."""
    return {"text": text or agency.name, "agency_id": agency.pk}


# --------------------------------------------------------------------------- the measure tree


def measure_nodes(reviewed: dict) -> list:
    measures = reviewed.get("measures")
    return measures.get("nodes") or [] if isinstance(measures, dict) else []


def walk(reviewed: dict) -> Iterator[dict]:
    for _path, node in walk_paths(reviewed):
        yield node


def walk_paths(reviewed: dict) -> Iterator[tuple[str, dict]]:
    """(path, node) of every node, depth first in reading order."""

    def visit(nodes, prefix):
        for index, node in enumerate(nodes or ()):
            path = f"{prefix}.{index}" if prefix else str(index)
            yield path, node
            yield from visit(node.get("children"), path)

    yield from visit(measure_nodes(reviewed), "")


_PATH = re.compile(r"^\d{1,4}(?:\.\d{1,4}){0,15}$")


def parse_path(path: str) -> tuple[int, ...]:
    if not isinstance(path, str) or not _PATH.match(path):
        raise ReviewError(_("“%(path)s” is not an item of the measure tree.") % {"path": path})
    return tuple(int(part) for part in path.split("."))


def _locate(reviewed: dict, path: str) -> tuple[list, int]:
    """The list holding the node at ``path`` and its index there."""
    indexes = parse_path(path)
    siblings = measure_nodes(reviewed)
    for depth, index in enumerate(indexes):
        if index >= len(siblings):
            raise ReviewError(_("“%(path)s” is not an item of the measure tree.") % {"path": path})
        if depth == len(indexes) - 1:
            return siblings, index
        siblings = siblings[index].setdefault("children", [])
    raise ReviewError(_("“%(path)s” is not an item of the measure tree.") % {"path": path})  # pragma: no cover


def node_at(reviewed: dict, path: str) -> dict:
    siblings, index = _locate(reviewed, path)
    return siblings[index]


def _join(first: str, second: str) -> str:
    """Two pieces of Chinese text as one: no space between CJK characters, one between Latin words."""
    first, second = (first or "").rstrip(), (second or "").lstrip()
    if first and second and first[-1].isascii() and first[-1].isalnum() and second[0].isascii() and second[0].isalnum():
        return f"{first} {second}"
    return first + second


def _union(first, second) -> list[int] | None:
    spans = [s for s in (_span(first), _span(second)) if s]
    if not spans:
        return first if isinstance(first, list) else None
    return [min(s for s, _e in spans), max(e for _s, e in spans)]


def _same_ref(a: dict, b: dict) -> bool:
    if a.get("agency_id") and b.get("agency_id"):
        return a["agency_id"] == b["agency_id"]
    return a.get("text") == b.get("text")


def edit_node(reviewed: dict, path: str, *, number: str, title: str) -> dict:
    result = copy.deepcopy(reviewed)
    title = (title or "").strip()
    if not title:
        raise ReviewError(_("An item needs a title."))
    node = node_at(result, path)
    node["number"], node["title"] = (number or "").strip(), title
    return result


def merge_with_previous(reviewed: dict, path: str) -> dict:
    """The node joins the one before it (same parent): titles and texts joined, spans united, children appended; the
    previous node's owners and deadline stay (the node's fill what it lacks)."""
    result = copy.deepcopy(reviewed)
    siblings, index = _locate(result, path)
    if index == 0:
        raise ReviewError(_("The first item of a list has no previous item to merge with."))
    previous, node = siblings[index - 1], siblings.pop(index)
    previous["title"] = _join(previous.get("title", ""), node.get("title", ""))
    if previous.get("text") or node.get("text"):
        previous["text"] = _join(previous.get("text", ""), node.get("text", ""))
    previous["span"] = _union(previous.get("span"), node.get("span"))
    previous["children"] = list(previous.get("children") or []) + list(node.get("children") or [])
    if not previous.get("lead") and node.get("lead"):
        previous["lead"] = node["lead"]
    owners = list(previous.get("co_owners") or [])
    for ref in node.get("co_owners") or ():
        if not any(_same_ref(ref, other) for other in owners):
            owners.append(ref)
    previous["co_owners"] = owners
    if not previous.get("due_on") and node.get("due_on"):
        previous["due_on"] = node["due_on"]
    return result


def _split_span(span, first: str, second: str, source: str):
    """The spans of the two halves: cut where the second half starts in the source, else in proportion."""
    bounds = _span(span)
    if not bounds:
        return span, span
    start, end = bounds
    segment = source[start:end] if source and end <= len(source) else ""
    cut = -1
    for length in (8, 4, 2):
        probe = second.strip()[:length]
        if segment and len(probe) == length:
            cut = segment.find(probe, max(0, min(len(segment) - 1, len(first.strip()) // 2)))
            if cut > 0:
                break
    if cut <= 0:
        total = len(first) + len(second)
        cut = round((end - start) * len(first) / total) if total else (end - start) // 2
        cut = max(1, min(end - start - 1, cut)) if end - start > 1 else 0
    return [start, start + cut], [start + cut, end]


def split_node(
    reviewed: dict, path: str, *, at: int | None = None, marked: str | None = None, source: str = ""
) -> dict:
    """Cut the node's title in two: at character ``at``, or where ``marked`` (the title with a "|" put in, perhaps
    also corrected) has its "|". The first half keeps the number, owners, deadline and children; the second follows
    it as its sibling, numbered after it ("3" → "3-2"). ``source`` (the document's text) places the cut in the span."""
    result = copy.deepcopy(reviewed)
    siblings, index = _locate(result, path)
    node = siblings[index]
    title = node.get("title", "")
    if marked is not None and marked.count("|") == 1:
        first, second = (part.strip() for part in marked.split("|"))
    elif marked is not None:
        raise ReviewError(_("Put exactly one “|” where the item is to be split."))
    elif at is not None and 0 < at < len(title):
        first, second = title[:at].strip(), title[at:].strip()
    else:
        raise ReviewError(
            _("Split inside the title: a position between 1 and %(last)s.") % {"last": max(1, len(title) - 1)}
        )
    if not first or not second:
        raise ReviewError(_("Both halves of a split item need text."))
    first_span, second_span = _split_span(node.get("span"), first, second, source)
    node["title"], node["span"] = first, first_span
    if node.get("text"):
        node["text"] = first
    sibling = {
        "number": _unused_number(result, f"{node.get('number')}-2") if node.get("number") else "",
        "title": second,
        "text": second if node.get("text") else "",
        "lead": None,
        "co_owners": [],
        "due_on": None,
        "span": second_span,
        "children": [],
    }
    siblings.insert(index + 1, sibling)
    return result


def _unused_number(reviewed: dict, wanted: str) -> str:
    """``wanted``, or ``wanted`` with a further suffix ("3-2", "3-2-2" …) when the tree uses it already: the ledger
    needs every number of a tree once."""
    taken = {node.get("number") for node in walk(reviewed)}
    number = wanted
    while number in taken:
        number = f"{number}-2"
    return number


def delete_node(reviewed: dict, path: str, *, keep_children: bool = False) -> dict:
    """Remove the node with its children, or (``keep_children``) only the node: its children take its place."""
    result = copy.deepcopy(reviewed)
    siblings, index = _locate(result, path)
    node = siblings.pop(index)
    if keep_children:
        siblings[index:index] = list(node.get("children") or [])
    return result


def move_node(reviewed: dict, path: str, *, up: bool) -> tuple[dict, str]:
    """Swap the node with the sibling before it (``up``) or after it; returns the draft and the node's new path."""
    result = copy.deepcopy(reviewed)
    siblings, index = _locate(result, path)
    other = index - 1 if up else index + 1
    if not 0 <= other < len(siblings):
        raise ReviewError(
            _("This item is already the first of its level.")
            if up
            else _("This item is already the last of its level.")
        )
    siblings[index], siblings[other] = siblings[other], siblings[index]
    return result, ".".join([*path.split(".")[:-1], str(other)])


_TRAILING_DIGITS = re.compile(r"^(.*?)(\d+)$")


def suggest_number(reviewed: dict, path: str, *, as_child: bool) -> str:
    """A number for an item added after the node at ``path`` ("一、2" → "一、3") or as its last child ("一" → "一.3"),
    not yet used in the tree."""
    if not path:
        return _unused_number(reviewed, str(len(measure_nodes(reviewed)) + 1))
    node = node_at(reviewed, path)
    number = str(node.get("number") or "")
    if as_child:
        return _unused_number(reviewed, f"{number}.{len(node.get('children') or ()) + 1}" if number else "1")
    match = _TRAILING_DIGITS.match(number)
    wanted = f"{match.group(1)}{int(match.group(2)) + 1}" if match else (f"{number}-2" if number else "")
    return _unused_number(reviewed, wanted) if wanted else ""


def add_node(reviewed: dict, path: str, *, number: str, title: str, as_child: bool) -> tuple[dict, str]:
    """A new item (no source span) after the node at ``path``, or as its last child; with ``path`` "" at the end of
    the top level. Returns the draft and the new item's path."""
    result = copy.deepcopy(reviewed)
    number, title = (number or "").strip(), (title or "").strip()
    if not title:
        raise ReviewError(_("A new item needs a title."))
    if number and any(node.get("number") == number for node in walk(result)):
        raise ReviewError(_("Number %(number)s is used in the tree already.") % {"number": number})
    node = {
        "number": number,
        "title": title,
        "text": "",
        "lead": None,
        "co_owners": [],
        "due_on": None,
        "span": None,
        "children": [],
    }
    if not path:
        measures = result.setdefault("measures", {})
        if not isinstance(measures, dict):
            raise ReviewError(_("“%(path)s” is not an item of the measure tree.") % {"path": path})
        nodes = measures.setdefault("nodes", [])
        nodes.append(node)
        return result, str(len(nodes) - 1)
    siblings, index = _locate(result, path)
    if as_child:
        parent = siblings[index]
        if parent.get("lead") or parent.get("co_owners"):
            raise ReviewError(_("This item has owners: only items of the lowest level have them."))
        children = parent.setdefault("children", [])
        children.append(node)
        return result, f"{path}.{len(children) - 1}"
    siblings.insert(index + 1, node)
    return result, ".".join([*path.split(".")[:-1], str(index + 1)])


def set_owners(
    reviewed: dict, path: str, *, lead: dict | None, co_owners: list[dict], due_on: str | None = None
) -> dict:
    """The node's lead agency (主办), co-owners (协办; the lead and repeats left out) and deadline (ISO date)."""
    result = copy.deepcopy(reviewed)
    node = node_at(result, path)
    unique: list[dict] = []
    for ref in co_owners:
        if (lead and _same_ref(ref, lead)) or any(_same_ref(ref, other) for other in unique):
            continue
        unique.append(ref)
    node["lead"], node["co_owners"], node["due_on"] = lead, unique, due_on or None
    return result


def set_measures_agreement(reviewed: dict, target) -> dict:
    """Which agreement the tree goes under: a key of ``agreements`` or ``{"existing": id}``."""
    result = copy.deepcopy(reviewed)
    if isinstance(target, str):
        keys = {a.get("key") for a in result.get("agreements") or ()}
        if target not in keys:
            raise ReviewError(_("There is no such agreement in this document."))
    elif not (isinstance(target, dict) and isinstance(target.get("existing"), int)):
        raise ReviewError(_("There is no such agreement in this document."))
    measures = result.get("measures")
    result["measures"] = {**(measures if isinstance(measures, dict) else {"nodes": []}), "agreement": target}
    return result


# --------------------------------------------------------------------------- agreements, topics, circle


def _agreement(result: dict, index: int) -> dict:
    agreements = result.get("agreements") or []
    if not 0 <= index < len(agreements):
        raise ReviewError(_("There is no such agreement in this document."))
    return agreements[index]


def update_agreement(
    reviewed: dict,
    index: int,
    *,
    include: bool,
    title: str,
    kind: str,
    signed_on: str | None,
    signed_place: str = "",
    status: str | None = None,
) -> dict:
    result = copy.deepcopy(reviewed)
    agreement = _agreement(result, index)
    title = (title or "").strip()
    if include and not title:
        raise ReviewError(_("An agreement needs a title."))
    agreement.update(
        include=bool(include),
        title=title or agreement.get("title", ""),
        kind=kind,
        signed_on=signed_on or None,
        signed_place=(signed_place or "").strip(),
    )
    if status:
        agreement["status"] = status
    return result


def _signatories(result: dict, index: int) -> list:
    return _agreement(result, index).setdefault("signatories", [])


def set_signatory(reviewed: dict, index: int, position: int, ref: dict) -> dict:
    """The ``position``-th signatory of agreement ``index`` now names ``ref``'s agency (its text stays)."""
    result = copy.deepcopy(reviewed)
    signatories = _signatories(result, index)
    if not 0 <= position < len(signatories):
        raise ReviewError(_("There is no such signatory."))
    signatories[position] = {**signatories[position], "agency_id": ref["agency_id"]}
    if not signatories[position].get("text"):
        signatories[position]["text"] = ref.get("text", "")
    return result


def remove_signatory(reviewed: dict, index: int, position: int) -> dict:
    result = copy.deepcopy(reviewed)
    signatories = _signatories(result, index)
    if not 0 <= position < len(signatories):
        raise ReviewError(_("There is no such signatory."))
    signatories.pop(position)
    return result


def add_signatory(reviewed: dict, index: int, ref: dict) -> dict:
    result = copy.deepcopy(reviewed)
    signatories = _signatories(result, index)
    if any(_same_ref(ref, other) for other in signatories):
        raise ReviewError(_("This agency signs the agreement already."))
    signatories.append(ref)
    return result


def _topics(result: dict) -> dict:
    topics = result.get("topics")
    if not isinstance(topics, dict):
        topics = result["topics"] = {"meeting": None, "record": None, "items": []}
    topics.setdefault("items", [])
    return topics


def update_topic(reviewed: dict, index: int, *, include: bool, title: str) -> dict:
    result = copy.deepcopy(reviewed)
    items = _topics(result)["items"]
    if not 0 <= index < len(items):
        raise ReviewError(_("There is no such topic."))
    title = (title or "").strip()
    if include and not title:
        raise ReviewError(_("A topic needs a title."))
    items[index].update(include=bool(include), title=title or items[index].get("title", ""))
    return result


def set_topic_meeting(reviewed: dict, meeting_id: int | None) -> dict:
    """The existing meeting the topics and decisions go to (no meeting is recorded then)."""
    result = copy.deepcopy(reviewed)
    topics = _topics(result)
    topics["meeting"] = meeting_id
    topics["record"] = None
    return result


def set_meeting_record(reviewed: dict, *, series_id: int, date: str, place: str, host: dict) -> dict:
    """Record the meeting the document reports as held (instead of an existing meeting): its series, day (ISO), place
    and host agency reference."""
    result = copy.deepcopy(reviewed)
    topics = _topics(result)
    topics["meeting"] = None
    topics["record"] = {"series": series_id, "date": date, "place": (place or "").strip(), "host": host["agency_id"]}
    return result


def _decision(result: dict, index: int) -> dict:
    decisions = result.get("decisions")
    items = decisions.get("items") if isinstance(decisions, dict) else None
    if not isinstance(items, list) or not 0 <= index < len(items) or not isinstance(items[index], dict):
        raise ReviewError(_("There is no such decision."))
    return items[index]


def update_decision(reviewed: dict, index: int, *, include: bool, title: str, topic: int | None) -> dict:
    """Include or leave out a decision, change its title, put it under a topic (its 1-based position among the
    topics; None: the meeting's general topic)."""
    result = copy.deepcopy(reviewed)
    decision = _decision(result, index)
    title = (title or "").strip()
    if include and not title and not decision.get("title"):
        raise ReviewError(_("A decision needs a title."))
    if topic is not None and not 1 <= topic <= len(_topics(result)["items"]):
        raise ReviewError(_("There is no such topic."))
    decision.update(include=bool(include), title=title or decision.get("title", ""), topic=topic)
    return result


def set_decision_owners(
    reviewed: dict, index: int, *, lead: dict | None, co_owners: list[dict], due_on: str | None
) -> dict:
    """Who carries a decision out and by when: a lead and a deadline make it work for that agency; neither, a
    decision for information."""
    result = copy.deepcopy(reviewed)
    decision = _decision(result, index)
    if (lead is None) != (due_on is None):
        raise ReviewError(_("Give both the lead agency and the deadline, or neither."))
    if lead is None and co_owners:
        raise ReviewError(_("Co-owners need a lead agency."))
    ids = [ref["agency_id"] for ref in ([lead] if lead else []) + co_owners]
    if len(ids) != len(set(ids)):
        raise ReviewError(_("An agency is named twice among the owners."))
    decision.update(lead=lead, co_owners=co_owners, due_on=due_on)
    return result


def set_circle(reviewed: dict, circle_id: int | None) -> dict:
    result = copy.deepcopy(reviewed)
    result["circle"] = circle_id
    return result
