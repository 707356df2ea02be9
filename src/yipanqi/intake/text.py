"""The text under analysis: the original as read, its simplified form, and the map between their offsets.

Extraction reads ``Text.simple`` (NFKC-folded, traditional characters converted to simplified with OpenCC) and
reports offsets into it; ``Text.span`` maps them back to ``Text.original``, which is what the user sees and what
every draft item's ``span`` points into. NFKC can turn one character into several (㈠ → (一)); OpenCC t2s keeps the
length in practice, and when it does not the two are aligned with difflib.

``Text.lines`` are the text's non-empty lines (paragraphs) with their offsets in ``simple``; page furniture
(navigation, share buttons, bylines, footers, headlines repeated between sections, a second copy of the article)
is flagged on them by ``furniture.mark`` and skipped by the extractors.
"""

from __future__ import annotations

import bisect
import difflib
import functools
import re
import unicodedata
from dataclasses import dataclass, field


@functools.cache
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


# Variant characters OpenCC's t2s leaves as they are (Hong Kong and older printing forms: 擧行, 保衞, 値班), and the
# corner quotation marks of Hong Kong, Macao and Taiwan texts (「」『』), folded one to one, so that offsets keep.
VARIANTS = str.maketrans(
    {
        "擧": "举",
        "衞": "卫",
        "値": "值",
        "囘": "回",
        "鬭": "斗",
        "衹": "只",
        "祇": "只",
        "彊": "强",
        "甯": "宁",
        "粧": "妆",
        "蔴": "麻",
        "敍": "叙",
        "敘": "叙",
        "緖": "绪",
        "「": "“",
        "」": "”",
        "『": "‘",
        "』": "’",
    }
)
TRADITIONAL_VARIANTS = frozenset(chr(code) for code in VARIANTS) - frozenset("「」『』")


@dataclass
class Line:
    """One non-empty line of ``Text.simple``: ``start``/``end`` offsets (stripped of surrounding blanks),
    ``text`` = ``simple[start:end]``, ``furniture`` = why it is not content ("" when it is)."""

    start: int
    end: int
    text: str
    furniture: str = ""

    @property
    def is_content(self) -> bool:
        return not self.furniture


@dataclass
class Text:
    original: str
    simple: str
    # to_original[i] = offset in ``original`` of simple[i]; one more entry for the end.
    to_original: list[int]
    lines: list[Line] = field(default_factory=list)
    traditional: bool = False  # whether OpenCC changed anything (the input was 繁體, at least partly)

    def span(self, start: int, end: int) -> list[int]:
        """``[start, end)`` in ``simple`` as ``[start, end]`` in ``original`` (whole original characters)."""
        start = max(0, min(start, len(self.simple)))
        end = max(start, min(end, len(self.simple)))
        first = self.to_original[start]
        if end == start:
            return [first, first]
        return [first, max(first, self.to_original[end - 1] + 1)]

    def content(self) -> list[Line]:
        return [line for line in self.lines if line.is_content]

    def line_at(self, offset: int) -> Line | None:
        starts = [line.start for line in self.lines]
        index = bisect.bisect_right(starts, offset) - 1
        if index >= 0 and self.lines[index].start <= offset < self.lines[index].end:
            return self.lines[index]
        return None


def prepare(original: str) -> Text:
    """The ``Text`` of ``original``: folded, simplified, mapped and split into lines (furniture not marked yet)."""
    folded, folded_map = _nfkc_with_map(original)
    simple = _t2s().convert(folded) if not folded.isascii() else folded
    simple_map = folded_map if len(simple) == len(folded) else _align(folded, simple, folded_map)
    traditional = simple != folded
    if not simple.isascii():
        traditional = traditional or not TRADITIONAL_VARIANTS.isdisjoint(simple)
        simple = simple.translate(VARIANTS)
    text = Text(original=original, simple=simple, to_original=simple_map, traditional=traditional)
    text.lines = split_lines(simple)
    return text


def _nfkc_with_map(original: str) -> tuple[str, list[int]]:
    parts, mapping = [], []
    for index, char in enumerate(original):
        if char.isascii() or "\u4e00" <= char <= "\u9fff":  # nothing to fold: the common case, fast
            parts.append(char)
            mapping.append(index)
            continue
        folded = unicodedata.normalize("NFKC", char)
        parts.append(folded)
        mapping.extend([index] * len(folded))
    mapping.append(len(original))
    return "".join(parts), mapping


def _align(before: str, after: str, before_map: list[int]) -> list[int]:
    """Offsets for ``after`` (OpenCC's output) through ``before``'s map, where OpenCC changed the length."""
    mapping = [0] * (len(after) + 1)
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for k in range(j2 - j1):
            source = i1 + (k if tag == "equal" else min(k * max(i2 - i1, 1) // max(j2 - j1, 1), max(i2 - i1 - 1, 0)))
            mapping[j1 + k] = before_map[min(source, len(before) - 1)] if before else 0
    mapping[len(after)] = before_map[len(before)]
    return mapping


_LINE = re.compile(r"[^\n\r]+")


def split_lines(simple: str) -> list[Line]:
    lines = []
    for match in _LINE.finditer(simple):
        raw = match.group(0)
        stripped = raw.strip(" \t\u3000\u00a0\ufeff")
        if not stripped:
            continue
        start = match.start() + raw.index(stripped)
        lines.append(Line(start=start, end=start + len(stripped), text=stripped))
    return lines
