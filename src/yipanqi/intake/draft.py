"""What the intake proposes: a draft of structured items, each with its source span in the original text.

Every item carries ``span`` = ``[start, end]`` character offsets into the original text (what the user uploaded or
pasted, before any normalising), a ``confidence`` between 0 and 1 and its own ``warnings``. ``Draft.as_json()`` is
the CLI's output and what the review page edits; docs/intake.md documents the schema.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass
class AgencyRef:
    """An agency as the text names it (``text``), mapped to the directory where possible (``agency_id``, ``name``,
    ``type``, ``region`` = 6-digit code, ``circles`` = slugs of the circles it belongs to)."""

    text: str
    span: list[int]
    agency_id: int | None = None
    name: str = ""
    type: str = ""
    region: str = ""
    circles: list[str] = field(default_factory=list)
    confidence: float = 0.0
    warnings: list[str] = field(default_factory=list)


@dataclass
class NextMeeting:
    """The next meeting when the text announces it ("2022年…在江苏省召开，由江苏省委政法委承办")."""

    text: str
    span: list[int]
    year: int | None = None
    date: str = ""  # ISO date when the text gives one
    place: str = ""
    host: AgencyRef | None = None
    confidence: float = 0.0
    warnings: list[str] = field(default_factory=list)


@dataclass
class Event:
    """What happened: ``kind`` 签约 / 会议 / 考察 / 发布 (or "" when unclear), ``date`` and ``end_date`` (ISO dates;
    ``end_date`` for a span of days), ``date_text`` as written, ``place``."""

    span: list[int]
    kind: str = ""
    date: str = ""  # ISO at the text's precision: "2020-06-17", "2019-11", "2022"
    end_date: str = ""
    date_text: str = ""
    place: str = ""
    title: str = ""  # the headline, when the text has one
    next_meeting: NextMeeting | None = None
    confidence: float = 0.0
    warnings: list[str] = field(default_factory=list)


@dataclass
class Agreement:
    """An agreement, scheme or minutes named in the text: ``title`` (without 《》), ``kind`` (a ledger
    ``AgreementKind`` value: framework, cooperation, minutes, memorandum, implementation, action, other),
    ``parties``, ``date`` (ISO, at the precision the text gives: "2020-06-18", "2019-11") and ``action`` (签署 /
    审议通过 / 印发 …)."""

    title: str
    span: list[int]
    kind: str = ""
    parties: list[AgencyRef] = field(default_factory=list)
    date: str = ""
    action: str = ""
    quoted: bool = True  # named in 《》, or only described ("签署知识产权司法保护交流合作协议")
    confidence: float = 0.0
    warnings: list[str] = field(default_factory=list)


@dataclass
class Measure:
    """A node of the measure tree: an area (a heading such as "监狱工作方面", or a paragraph's lead sentence such as
    "加强行政立法协同。") or a numbered item. ``number`` as written ("1", "一", "(一)", "一是", "首先" …, or ""),
    ``text`` without its number, ``children`` below it."""

    number: str
    text: str
    span: list[int]
    children: list[Measure] = field(default_factory=list)
    area: bool = False
    confidence: float = 0.0
    warnings: list[str] = field(default_factory=list)


@dataclass
class Topic:
    """An agenda topic of a meeting (the list after "围绕…等问题", "会议研究了…")."""

    text: str
    span: list[int]
    confidence: float = 0.0
    warnings: list[str] = field(default_factory=list)


@dataclass
class Decision:
    """A decision of a meeting ("会议商定…", the items after "会议议定如下：" or under "议定事项"): ``text`` as written
    without its verb, the ``lead`` agency when the text names who carries it out ("由…牵头"), ``co_owners`` ("…配合"),
    ``due_date`` (ISO, the last day of the period: "2021年底前" → "2021-12-31") when it gives a deadline."""

    text: str
    span: list[int]
    lead: AgencyRef | None = None
    co_owners: list[AgencyRef] = field(default_factory=list)
    due_date: str = ""
    confidence: float = 0.0
    warnings: list[str] = field(default_factory=list)


@dataclass
class Figure:
    """A figure: ``value`` (a number: 6.8亿 → 680000000), ``unit`` (条, 件, 亿元 …), ``counts`` (what it counts, as the
    text says: "数据", "协破案件"), ``text`` as written."""

    text: str
    span: list[int]
    value: float
    unit: str = ""
    counts: str = ""
    confidence: float = 0.0
    warnings: list[str] = field(default_factory=list)


@dataclass
class DeclaredCount:
    """A count the text declares ("20条举措", "从6个方面", "12个大项100个小项"): ``count``, ``unit`` (条, 个方面,
    项 …), ``of`` (what: 举措, 方面 …), and ``found``, what the extraction found to compare with (None when there is
    nothing to compare)."""

    text: str
    span: list[int]
    count: int
    unit: str = ""
    of: str = ""
    found: int | None = None
    confidence: float = 0.0
    warnings: list[str] = field(default_factory=list)


@dataclass
class Warning:
    message: str
    span: list[int] | None = None


@dataclass
class Draft:
    event: Event
    agencies: list[AgencyRef] = field(default_factory=list)
    agreements: list[Agreement] = field(default_factory=list)
    measures: list[Measure] = field(default_factory=list)
    topics: list[Topic] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    declared_counts: list[DeclaredCount] = field(default_factory=list)
    warnings: list[Warning] = field(default_factory=list)
    # About the text: its length, whether it was traditional Chinese, the spans of page furniture left out.
    source: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
