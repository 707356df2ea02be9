"""From a text to a draft: prepare (fold, simplify, map offsets, split lines), mark the page furniture, then run the
extractors over the content lines. Rule- and dictionary-based throughout: no network, no model at run time.

    draft = analyse(original_text, published=date(2020, 5, 14))
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from . import furniture
from .draft import AgencyRef, Draft, Warning
from .extract import agencies, agreements, dates, decisions, figures, measures
from .text import Text, prepare


@dataclass
class Context:
    """What every extractor reads: the text, the publication date (for "近日", "去年11月"), the directory's
    dictionary and what earlier extractors found."""

    text: Text
    published: datetime.date | None = None
    index: agencies.AgencyIndex | None = None
    agencies: list[AgencyRef] = field(default_factory=list)
    agency_spans: list[tuple[int, int, AgencyRef]] = field(default_factory=list)  # offsets in text.simple
    dates: list | None = None  # extract.dates.find_dates, once
    warnings: list[Warning] = field(default_factory=list)

    def warn(self, message: str, start: int | None = None, end: int | None = None) -> None:
        """A warning about the whole text; ``start``/``end`` are offsets in ``text.simple``."""
        span = self.text.span(start, end) if start is not None and end is not None else None
        self.warnings.append(Warning(message=message, span=span))


def analyse(original: str, *, published: datetime.date | None = None) -> Draft:
    text = prepare(original)
    furniture.mark(text)
    published_from = "given" if published else ""
    if published is None:  # a news page's byline ("2020年05月14日 07时57分 来源: …") says when it appeared
        published = furniture.published_from_byline(text)
        published_from = "byline" if published else ""
    context = Context(text=text, published=published, index=agencies.AgencyIndex.current())
    context.agencies = agencies.find(context)
    event = dates.event(context)
    found_agreements = agreements.find(context)
    tree = measures.find(context)
    topics = measures.topics(context)
    found_decisions = decisions.find(context)
    found_figures = figures.find(context)
    declared = figures.declared_counts(context, tree)
    skipped = [text.span(line.start, line.end) for line in text.lines if line.furniture]
    return Draft(
        event=event,
        agencies=context.agencies,
        agreements=found_agreements,
        measures=tree,
        topics=topics,
        decisions=found_decisions,
        figures=found_figures,
        declared_counts=declared,
        warnings=context.warnings,
        source={
            "length": len(original),
            "traditional": text.traditional,
            "published": published.isoformat() if published else "",
            "published_from": published_from,
            "furniture": skipped,
        },
    )
