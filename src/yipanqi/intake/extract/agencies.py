"""Agencies named in the text, mapped to the directory.

The API the other extractors use: ``find(context)`` returns the agencies named (one ``AgencyRef`` per agency or
unmatched name, with the span of its first mention in the original text) and stores every mention with its offsets
in ``context.text.simple`` in ``context.agency_spans`` as ``(start, end, AgencyRef)``, in text order;
``within(context, start, end)`` gives the mentions inside ``[start, end)`` of ``text.simple``; ``resolve(context,
words, start)`` maps a name written in the text ("四川省高院", "公安厅") to an ``AgencyRef`` (agency_id None when the
directory has no match).

How names are recognised. ``AgencyIndex`` holds the directory's region names (full and short: 四川省 / 四川,
广安市 / 广安), its agency names, its circles and a jieba tokenizer: our own ``jieba.Tokenizer`` instance with jieba's
dictionary (its words of frequency 5 and more, cached next to jieba's cache) plus the directory's names and the
agency words of ``names.py`` as user words. A content line is cut by jieba wherever a run of characters may hold a
name; at each word start we try, in order: a national agency (最高人民法院 …), a directory name written out
(重庆市人民检察院第一分院), a region or a group of regions (四川省广安市; 广安、广元、南充五市; 川渝; 沪苏浙皖; a circle
such as 长三角) followed by an agency word (高院, 检察一分院, 委政法委, 公安厅 …, see ``names.py``), a region
placeholder with an agency word (省委政法委, 市中院), a count of regions (四地政法委) and a bare agency word that
implies its level (公安厅, 高院); after a region, an agency-like name the directory lacks (重庆市教育矫治局), with
the known agency in parentheses after it if there is one.

Why jieba and a longest match together: the names themselves are matched by a longest match of our own tables at
word starts, which is faster and more predictable than reading jieba's words as a grammar (jieba may cut 四川省委 |
政法委 or 四川省 | 委政法委; both must mean the same). jieba decides where words start and end, which is what a plain
scan cannot: it keeps region names from being read across word boundaries ("协议中江苏省高院" is 协议 | 中 | 江苏省 |
高院, not the county 中江), and it lets short region names count only as whole words ("长治久安" holds no 长治,
"公安部门" no 公安部). A county's short name alone ("合作", "友好", "双城" are also common words) is trusted only in
the provinces the text names otherwise.

Resolution comes after the whole text is scanned, since it needs the text's regions: a name with its region is
looked up by (region, type, level, rank); a placeholder or a bare word takes the nearest preceding region of its
sentence or paragraph for which the directory has such an agency (省 only a province, 市 a city or 直辖市, 公安厅 no
直辖市's 公安局 …) and which is not an agency the sentence names already, else the text's dominant province, with a
lower confidence and a warning; "两地 / 四地" take the nearest preceding group of that many regions (川渝, 沪苏浙皖, a
list), else the text's provinces when there are exactly that many. Names that look like agencies but are not in the
directory come back with agency_id None, confidence 0.3 and a warning. Circles come from the index (read with it),
so ``find`` makes no query.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import marshal
import os
import re
import tempfile
import threading
from dataclasses import dataclass, field, replace

from django.utils.translation import gettext as _

from ..draft import AgencyRef
from . import names
from .names import AgencyWord

# jieba frequencies of our user words: high enough that names and agency words are cut as wholes; short region
# names only get a moderate one, since many are also common words ("平安", "和平", "新华"). jieba's total is kept
# as it was, so that twenty thousand names do not make every other word rarer.
NAME_FREQUENCY = 50_000
SHORT_NAME_FREQUENCY = 3_000

LEVEL_ORDER = {"province": 0, "city": 1, "county": 2}
# Types with one agency per region and level (the standard 政法 agencies).
LEVELLED_TYPES = frozenset({"court", "procuratorate", "police", "justice", "committee"})

CONFIDENCE_EXACT = 1.0
CONFIDENCE_ENUMERATED = 0.85
CONFIDENCE_PARENTHESES = 0.8
CONFIDENCE_CIRCLE = 0.7
CONFIDENCE_SENTENCE = 0.7
CONFIDENCE_PARAGRAPH = 0.65
CONFIDENCE_DOMINANT = 0.6
CONFIDENCE_GROUP_FROM_CONTEXT = 0.6
CONFIDENCE_UNKNOWN = 0.3
AMBIGUITY_PENALTY = 0.1

SENTENCE_ENDS = frozenset("。！？!?；;")
SENTENCE_END = re.compile("[。！？!?；;]")
# jieba cuts runs of these characters one by one (its re_han_default): we cut only the runs that may hold a name.
HAN_BLOCK = re.compile("[\u4e00-\u9fd5a-zA-Z0-9+#&._%-]+")
# Characters that may start a mention on their own (placeholders, "我省", counts, abbreviations before an agency word).
SINGLE_TRIGGERS = (
    frozenset(names.PLACEHOLDERS) | names.OWN_PREFIXES | names.ABBREVIATIONS_ALONE | frozenset("一二两三四五六七八九十")
)


@dataclass(frozen=True)
class RegionInfo:
    code: str
    name: str
    short_name: str
    kind: str
    level: str
    ancestors: tuple[str, ...]  # region codes from the province down to this region

    @property
    def province(self) -> str:
        return self.ancestors[0]


@dataclass(frozen=True)
class AgencyInfo:
    id: int
    name: str
    type: str
    level: str
    region: str
    rank: int
    specialty: str


@dataclass(frozen=True)
class CircleInfo:
    slug: str
    name: str
    short_name: str
    regions: tuple[str, ...]
    members: frozenset[int]


class _Lexicon:
    """Strings → values, with the lengths of the keys by their first two characters for matching at a position."""

    def __init__(self, items: dict):
        self.items = items
        lengths: dict[str, set[int]] = {}
        for key in items:
            lengths.setdefault(key[:2], set()).add(len(key))
        self.lengths = {prefix: tuple(sorted(found, reverse=True)) for prefix, found in lengths.items()}

    def matches(self, text: str, position: int):
        """The keys found at ``position``, longest first."""
        for length in self.lengths.get(text[position : position + 2], ()):
            key = text[position : position + length]
            if len(key) == length and key in self.items:
                yield key

    def longest(self, text: str, position: int) -> str | None:
        return next(self.matches(text, position), None)


_base_lock = threading.Lock()
_base_tokenizer = None
# jieba's words rarer than this are left out of our tokenizer: they hardly ever win a segmentation, and without them
# the dictionary loads in a tenth of the time (~0.06 s from our cache instead of ~0.6 s from jieba's).
JIEBA_MIN_FREQUENCY = 5


def _jieba_base():
    """jieba's dictionary (its frequent words), loaded once per process from a cache file next to jieba's own."""
    global _base_tokenizer
    with _base_lock:
        if _base_tokenizer is None:
            import jieba

            logging.getLogger("jieba").setLevel(logging.WARNING)
            frequencies, total = _jieba_frequencies(jieba)
            tokenizer = jieba.Tokenizer()
            tokenizer.FREQ, tokenizer.total, tokenizer.initialized = frequencies, total, True
            _base_tokenizer = tokenizer
    return _base_tokenizer


def _jieba_frequencies(jieba) -> tuple[dict[str, int], int]:
    dictionary = os.path.join(os.path.dirname(jieba.__file__), "dict.txt")
    cache = os.path.join(
        tempfile.gettempdir(), f"yipanqi-jieba-{jieba.__version__}-{JIEBA_MIN_FREQUENCY}-{os.getuid()}.cache"
    )
    try:
        status = os.stat(cache)
        if status.st_uid == os.getuid() and status.st_mtime >= os.path.getmtime(dictionary):
            with open(cache, "rb") as file:
                # our own file (same user), data only: marshal builds no code from it
                frequencies, total = marshal.loads(file.read())  # noqa: S302
            if isinstance(frequencies, dict) and isinstance(total, int):
                return frequencies, total
    except (OSError, ValueError, EOFError, TypeError):
        pass
    full = jieba.Tokenizer()
    full.initialize()
    frequencies = {word: count for word, count in full.FREQ.items() if count >= JIEBA_MIN_FREQUENCY}
    for word in list(frequencies):
        for end in range(1, len(word)):
            frequencies.setdefault(word[:end], 0)
    partial = None
    try:
        handle, partial = tempfile.mkstemp(dir=os.path.dirname(cache))
        with os.fdopen(handle, "wb") as file:
            marshal.dump((frequencies, full.total), file)
        os.replace(partial, cache)  # atomic: another process reads the old file or the new one
    except OSError:  # no writable temporary directory: the next process builds it again
        if partial is not None and os.path.exists(partial):
            os.unlink(partial)
    return frequencies, full.total


class AgencyIndex:
    """The directory's regions, agencies and circles, and a jieba tokenizer that knows their names; built from the
    database once per directory version (``current``)."""

    _lock = threading.Lock()
    _current: AgencyIndex | None = None

    def __init__(self, regions: list[RegionInfo], agencies: list[AgencyInfo], circles: list[CircleInfo], version=0):
        self.version = version
        self.regions = {region.code: region for region in regions}
        self.agencies = {agency.id: agency for agency in agencies}
        self.circles = circles
        region_names: dict[str, list[RegionInfo]] = {}
        for region in regions:
            for name in {region.name, region.short_name}:
                if len(name) >= 2:
                    region_names.setdefault(name, []).append(region)
        for found in region_names.values():
            found.sort(key=lambda r: (LEVEL_ORDER[r.level], r.code))
        self.region_names = _Lexicon({name: tuple(found) for name, found in region_names.items()})
        self.agency_names = _Lexicon({agency.name: agency for agency in agencies})
        by_region_type: dict[tuple[str, str], list[AgencyInfo]] = {}
        for agency in agencies:
            by_region_type.setdefault((agency.region, agency.type), []).append(agency)
        self.by_region_type = {key: tuple(found) for key, found in by_region_type.items()}
        circle_names = {}
        for circle in circles:
            for name in (circle.name, circle.short_name):
                if len(name) >= 2:
                    circle_names[name] = circle
        self.circle_names = _Lexicon(circle_names)
        self.national = _Lexicon(dict(names.NATIONAL_AGENCIES))
        self.lexicons = (self.region_names, self.agency_names, self.circle_names, self.national)
        self._lookups: dict[tuple[str, AgencyWord], tuple[AgencyInfo | None, tuple[AgencyInfo, ...]]] = {}
        # The first two characters of everything a mention can start with, to skip the rest of the text quickly.
        self.triggers = {a + b for a, b in itertools.product(names.PROVINCE_ABBREVIATIONS, repeat=2)}
        for lexicon in self.lexicons:
            self.triggers.update(lexicon.lengths)
        self.triggers.update(word[:2] for word in names.AGENCY_WORDS)
        self.triggers.add("中共")
        # A county's short name alone names nothing (see _Item.weak): it does not make a block worth cutting.
        self.weak_names = frozenset(
            name
            for name, regions in self.region_names.items.items()
            if all(region.level == "county" and region.name != name for region in regions)
        )
        self._circles: dict[int, tuple[str, ...]] = {}
        self._tokenizer = None
        self._tokenizer_lock = threading.Lock()

    def may_name_agencies(self, text: str, start: int, end: int) -> bool:
        """Whether text[start:end] holds a name, an agency word or two provinces' abbreviations: what makes a run of
        characters worth cutting into words."""
        triggers, abbreviations = self.triggers, names.PROVINCE_ABBREVIATIONS
        for k in range(start, end - 1):
            if text[k : k + 2] not in triggers:
                continue
            if text[k] in abbreviations and text[k + 1] in abbreviations:
                return True
            if names.agency_word_at(text, k) is not None:
                return True
            for lexicon in self.lexicons:
                for key in lexicon.matches(text, k):
                    if key not in self.weak_names:
                        return True
        return False

    # -- building ------------------------------------------------------------------------------------------------

    @classmethod
    def current(cls) -> AgencyIndex:
        """The index of the directory as it is now, built once per process and directory version."""
        from yipanqi.core.versioning import current_version

        version = current_version("directory")
        index = cls._current
        if index is not None and index.version == version:
            return index
        with cls._lock:
            index = cls._current
            if index is None or index.version != version:
                index = cls.from_database(version)
                index.tokenizer  # noqa: B018 -- built now, so that the first find() is not the slow one
                cls._current = index
        return index

    @classmethod
    def from_database(cls, version: int = 0) -> AgencyIndex:
        """Five queries: regions, active agencies, circles and their regions and member agencies."""
        from yipanqi.directory.models import Agency, Circle, Region

        codes: dict[int, str] = {}
        regions = []
        for pk, code, name, short_name, kind, level, path in Region.objects.order_by().values_list(
            "id", "code", "name", "short_name", "kind", "level", "path"
        ):
            codes[pk] = code
            regions.append(
                RegionInfo(code, name, short_name or "", kind, level, tuple(c for c in path.split("/") if c))
            )
        agencies = [
            AgencyInfo(pk, name, type_, level, codes[region_id], rank, specialty)
            for pk, name, type_, level, region_id, rank, specialty in Agency.objects.filter(is_active=True)
            .order_by()
            .values_list("id", "name", "type", "level", "region_id", "rank", "specialty")
        ]
        circle_regions: dict[int, list[str]] = {}
        for circle_id, code in Circle.regions.through.objects.values_list("circle_id", "region__code"):
            circle_regions.setdefault(circle_id, []).append(code)
        circle_members: dict[int, set[int]] = {}
        for circle_id, agency_id in Circle.member_agencies.through.objects.values_list("circle_id", "agency_id"):
            circle_members.setdefault(circle_id, set()).add(agency_id)
        circles = [
            CircleInfo(
                slug,
                name,
                short_name or "",
                tuple(sorted(circle_regions.get(pk, ()))),
                frozenset(circle_members.get(pk, ())),
            )
            for pk, slug, name, short_name in Circle.objects.order_by("name").values_list(
                "id", "slug", "name", "short_name"
            )
        ]
        return cls(regions, agencies, circles, version)

    @property
    def tokenizer(self):
        """Our jieba tokenizer: jieba's dictionary (shared, copied) plus the directory's names and the agency words."""
        if self._tokenizer is None:
            with self._tokenizer_lock:
                if self._tokenizer is None:
                    self._tokenizer = self._build_tokenizer()
        return self._tokenizer

    def _build_tokenizer(self):
        import jieba

        base = _jieba_base()
        tokenizer = jieba.Tokenizer()
        tokenizer.FREQ = dict(base.FREQ)
        tokenizer.total = base.total
        tokenizer.initialized = True
        frequencies = tokenizer.FREQ
        words: dict[str, int] = {}
        for name, regions in self.region_names.items.items():
            short = all(name != region.name for region in regions)
            words[name] = max(frequencies.get(name, 0), SHORT_NAME_FREQUENCY) if short else NAME_FREQUENCY
        for name in (*self.agency_names.items, *self.circle_names.items, *self.national.items, *names.AGENCY_WORDS):
            words[name] = NAME_FREQUENCY
        # What Tokenizer.add_word does, without its per-call overhead (a third of the build): the word with its
        # frequency, its prefixes known (0) so that the DAG looks further. jieba's total stays as it was.
        for word, frequency in words.items():
            frequencies[word] = frequency
            for end in range(1, len(word)):
                if word[:end] not in frequencies:
                    frequencies[word[:end]] = 0
        return tokenizer

    # -- lookups -------------------------------------------------------------------------------------------------

    def lookup(self, region: RegionInfo, word: AgencyWord) -> tuple[AgencyInfo | None, tuple[AgencyInfo, ...]]:
        """The agency a word names in a region, or None and the candidates when several match equally."""
        key = (region.code, word)
        found = self._lookups.get(key)
        if found is None:
            found = self._lookups[key] = self._lookup(region, word)
        return found

    def _lookup(self, region: RegionInfo, word: AgencyWord):
        pool = self.by_region_type.get((region.code, word.type), ())
        if word.level or word.type in LEVELLED_TYPES:
            level = word.level or region.level
            pool = tuple(agency for agency in pool if agency.level == level)
        if not word.level and word.type not in LEVELLED_TYPES and len(pool) > 1:
            own = tuple(agency for agency in pool if agency.level == region.level)
            pool = own or pool
        plain = tuple(agency for agency in pool if agency.rank == word.rank and not agency.specialty)
        if len(plain) == 1:
            return plain[0], ()
        if len(plain) > 1:
            return None, plain
        if word.rank == 0 and len(pool) == 1 and not pool[0].specialty:
            return pool[0], ()
        return None, tuple(agency for agency in pool if not agency.specialty)

    def circles_of(self, agency: AgencyInfo) -> list[str]:
        """The slugs of the circles the agency belongs to: through its region or one above, or by name."""
        found = self._circles.get(agency.id)
        if found is None:
            region = self.regions.get(agency.region)
            ancestors = set(region.ancestors if region is not None else (agency.region,))
            found = self._circles[agency.id] = tuple(
                circle.slug
                for circle in self.circles
                if agency.id in circle.members or not ancestors.isdisjoint(circle.regions)
            )
        return list(found)


# ---------------------------------------------------------------------------------------------------------------
# Scanning: the mentions of a text, before resolution


@dataclass
class _Item:
    """A region as written: [start, end) in the line, the candidate regions (several for an ambiguous short name)."""

    start: int
    end: int
    regions: tuple[RegionInfo, ...]
    chained: bool = False  # written below another region: 四川省广安市

    def weak(self, written: str) -> bool:
        """A county's short name alone ("友好", "合作", "双城" are also common words): trusted only in the provinces
        the text names otherwise."""
        return not self.chained and all(r.level == "county" and r.name != written for r in self.regions)


@dataclass
class _RegionMention:
    start: int
    end: int
    regions: tuple[RegionInfo, ...]
    group: bool = False  # several regions named together (川渝, a list, a circle)
    weak: bool = False  # see _Item.weak


@dataclass
class _Raw:
    kind: str  # name, regional, context, counted, circle, unknown, national
    start: int
    end: int
    paragraph: int  # start of the line (offset in text.simple)
    sentence: int  # start of the sentence
    sentence_end: int
    agency: AgencyInfo | None = None
    regions: tuple[RegionInfo, ...] = ()
    word: AgencyWord | None = None
    level_hint: str | None = None
    placeholder: str = ""
    count: int = 0
    enumerated: bool = False
    weak: bool = False  # see _Item.weak
    circle: CircleInfo | None = None
    guessed_type: str = ""
    outer: str = ""  # an unknown name followed by this agency in parentheses


@dataclass
class _Scan:
    raws: list[_Raw] = field(default_factory=list)
    regions: list[_RegionMention] = field(default_factory=list)


class _LineScanner:
    """Finds the mentions of one line (offsets in the line; ``base`` turns them into offsets of text.simple)."""

    def __init__(self, index: AgencyIndex, scan: _Scan, text: str, base: int):
        self.index = index
        self.scan = scan
        self.s = text
        self.n = len(text)
        self.base = base
        self.starts: list[int] = []
        self.bounds: set[int] = set()
        self.sentence_ends: list[int] | None = None
        tokenizer = index.tokenizer
        for block in HAN_BLOCK.finditer(text):
            start, end = block.span()
            self.bounds.add(start)
            self.bounds.add(end)
            if index.may_name_agencies(text, start, end):
                for word, token_start, _token_end in tokenizer.tokenize(block.group(), HMM=False):
                    self.starts.append(start + token_start)
                    self.bounds.add(start + token_start)
                    if word.startswith("中共"):  # jieba knows 中共江苏省委 as one word: the region starts after 中共
                        self.bounds.add(start + token_start + 2)

    def run(self) -> None:
        s, triggers, position = self.s, self.index.triggers, 0
        for start in self.starts:
            if start < position:
                continue
            if s[start : start + 2] not in triggers and s[start] not in SINGLE_TRIGGERS:
                continue
            end = self.parse_at(start)
            if end:
                position = end

    # -- recording -----------------------------------------------------------------------------------------------

    def sentence(self, start: int, end: int) -> tuple[int, int]:
        """The sentence around [start, end) of the line: after the last sentence end before it, up to the next."""
        if self.sentence_ends is None:
            self.sentence_ends = [match.start() for match in SENTENCE_END.finditer(self.s)]
        ends = self.sentence_ends
        before = bisect.bisect_left(ends, start)
        after = bisect.bisect_left(ends, end)
        first = ends[before - 1] + 1 if before else 0
        last = ends[after] if after < len(ends) else self.n
        return self.base + first, self.base + last

    def raw(self, kind: str, start: int, end: int, **values) -> _Raw:
        found = _Raw(kind, self.base + start, self.base + end, self.base, *self.sentence(start, end), **values)
        self.scan.raws.append(found)
        return found

    def region_mention(self, start: int, end: int, regions, group: bool = False, weak: bool = False) -> None:
        self.scan.regions.append(_RegionMention(self.base + start, self.base + end, tuple(regions), group, weak))

    def item_mention(self, item: _Item) -> None:
        self.region_mention(item.start, item.end, item.regions, weak=item.weak(self.s[item.start : item.end]))

    # -- the grammar ---------------------------------------------------------------------------------------------

    def parse_at(self, b: int) -> int | None:
        s, index = self.s, self.index
        key = index.national.longest(s, b)
        if key and b + len(key) in self.bounds:
            self.raw("national", b, b + len(key), guessed_type=names.NATIONAL_AGENCIES[key][1])
            return b + len(key)
        key = index.agency_names.longest(s, b)
        if key:
            agency = index.agency_names.items[key]
            self.raw("name", b, b + len(key), agency=agency)
            if agency.region in index.regions:
                self.region_mention(b, b + len(key), (index.regions[agency.region],))
            return self.skip_alias_in_parentheses(b + len(key), (index.regions.get(agency.region),))
        position = b + 2 if s.startswith("中共", b) else b
        end = self.parse_regions(b, position)
        if end:
            return end
        end = self.parse_placeholder(b)
        if end:
            return end
        end = self.parse_counted(b)
        if end:
            return end
        word = names.agency_word_at(s, b)
        if word is not None:
            end = b + len(word.text)
            if word.contextual and not self.is_type_list(b, end):
                self.raw("context", b, end, word=word)
            return end
        return None

    def region_at(self, p: int, parents: tuple[RegionInfo, ...] = ()) -> _Item | None:
        """A region name starting at a word start ``p``: a full name, or a short one that ends a word or is followed
        by what makes it a region (an agency word, a list, a count …). With ``parents``: only their descendants."""
        if p not in self.bounds or p >= self.n:
            return None
        for key in self.index.region_names.matches(self.s, p):
            regions = self.index.region_names.items[key]
            if parents:
                parent_codes = {parent.code for parent in parents}
                regions = tuple(r for r in regions if parent_codes.intersection(r.ancestors[:-1]))
                if not regions:
                    continue
            end = p + len(key)
            full = any(region.name == key for region in regions)
            if full or end in self.bounds or self.region_follows(end):
                return _Item(p, end, regions)
        return None

    def region_follows(self, end: int) -> bool:
        s = self.s
        if end >= self.n:
            return True
        return (
            s[end] in "、("
            or names.agency_word_at(s, end) is not None
            or names.COUNT_WORD.match(s, end) is not None
            or s.startswith(names.AREA_WORDS, end)
        )

    def region_chain(self, p: int) -> _Item | None:
        """A region and the regions below it written after it: 四川省广安市, 重庆市渝中区, 上海青浦区."""
        item = self.region_at(p)
        if item is None:
            return None
        while True:
            below = self.region_at(item.end, item.regions)
            if below is None:
                return item
            item = _Item(item.start, below.end, below.regions, chained=True)

    def abbreviation_run(self, p: int) -> list[_Item]:
        s, end = self.s, p
        while end < self.n and s[end] in names.PROVINCE_ABBREVIATIONS:
            end += 1
        if end == p:
            return []
        followed = names.agency_word_at(s, end) is not None or names.COUNT_WORD.match(s, end) is not None
        if end - p == 1:
            if s[p] not in names.ABBREVIATIONS_ALONE or not followed:
                return []
        elif not (followed or s.startswith(names.AREA_WORDS, end) or end in self.bounds):
            return []
        items = []
        for k in range(p, end):
            region = self.index.regions.get(names.PROVINCE_ABBREVIATIONS[s[k]])
            if region is not None:
                items.append(_Item(k, k + 1, (region,)))
        return items

    def parse_regions(self, b: int, p: int) -> int | None:
        """Regions (a region, a list of regions, a run of abbreviations or a circle), a count, an agency word."""
        s = self.s
        circle_key = self.index.circle_names.longest(s, p) if p in self.bounds else None
        circle = self.index.circle_names.items[circle_key] if circle_key else None
        items: list[_Item] = []
        run = False
        if circle is not None:
            q = p + len(circle_key)
        else:
            q = p
            while True:
                item = self.region_chain(q)
                if item is None:
                    break
                items.append(item)
                q = item.end
                if q < self.n and s[q] == "、" and self.region_at(q + 1) is not None:
                    q += 1
                    continue
                if self.region_at(q) is not None:  # juxtaposed: 四川重庆
                    continue
                break
            if not items:
                items = self.abbreviation_run(p)
                run = bool(items)
                q = items[-1].end if items else q
        if circle is None and not items:
            return None
        group_end = q
        q = self.skip_remark(q)
        q = self.skip_plural(q, len(items))
        count = None
        match = names.COUNT_WORD.match(s, q)
        if match:
            count = names.count_of(match.group())
            q = match.end()
        for area in names.AREA_WORDS:
            if s.startswith(area, q):
                q += len(area)
                break
        word = names.agency_word_at(s, q)
        if word is not None and word.collective and circle is None and len(items) < 2 and count is None:
            word = None  # "上海市检察机关": a region's system, no agency
        if word is None:
            if circle is not None:
                self.region_mention(p, group_end, self.circle_regions(circle), group=True)
                return group_end
            if len(items) > 1:
                for item in items:
                    self.item_mention(item)
                self.region_mention(items[0].start, group_end, [item.regions[0] for item in items], group=True)
                return group_end
            if not run and self.is_explicit(items[0]):
                self.region_mention(items[0].start, items[0].end, items[0].regions)
            if not run and not items[0].weak(s[items[0].start : items[0].end]):
                return self.parse_unknown(b, items[0])
            return group_end
        end = q + len(word.text)
        if circle is not None:
            regions = self.circle_regions(circle)
            self.region_mention(p, group_end, regions, group=True)
            for region in regions:
                self.raw("circle", b, end, regions=(region,), word=word, circle=circle)
            return end
        level_hint = names.COUNT_UNIT_LEVELS.get(count[1]) if count else None
        for item in items:
            self.item_mention(item)
        if len(items) > 1:
            self.region_mention(items[0].start, group_end, [item.regions[0] for item in items], group=True)
        for k, item in enumerate(items):
            first, last = k == 0, k == len(items) - 1
            self.raw(
                "regional",
                b if first else item.start,
                end if last else item.end,
                regions=item.regions,
                word=word,
                level_hint=level_hint,
                enumerated=len(items) > 1,
                weak=len(items) == 1 and item.weak(s[item.start : item.end]),
            )
        return self.skip_alias_in_parentheses(end, items[-1].regions)

    def is_explicit(self, item: _Item) -> bool:
        """A region named alone counts as the context of what follows if it is written in full (广安市), below
        another (安徽合肥) or is a province ("四川"); a city's or county's short name alone is too often a common word
        ("合作", "双城")."""
        written = self.s[item.start : item.end]
        return item.chained or any(region.name == written or region.level == "province" for region in item.regions)

    def circle_regions(self, circle: CircleInfo) -> list[RegionInfo]:
        return [self.index.regions[code] for code in circle.regions if code in self.index.regions]

    def skip_plural(self, q: int, regions: int) -> int:
        """ "浙江、福建、广东等省公安厅": after a list of regions, "等" (and the level it names) before the agency
        word; each region of the list has its agency."""
        s = self.s
        if regions < 2 or not s.startswith("等", q):
            return q
        after = q + 1
        if after < self.n and (s[after] in names.PLACEHOLDERS or s[after] == "地"):
            after += 1
        return after if names.agency_word_at(s, after) is not None else q

    def skip_remark(self, q: int) -> int:
        """A short remark in parentheses between regions and their agency word: 沪苏浙皖(以下简称四地)政法委."""
        if q < self.n and self.s[q] == "(":
            close = self.s.find(")", q + 1, q + 16)
            if close > 0:
                return close + 1
        return q

    def parse_placeholder(self, b: int) -> int | None:
        """省委政法委, 市中院, 省高院, 我省公安厅: the region comes from the context."""
        s = self.s
        q = b
        if s[q] in names.OWN_PREFIXES and q + 1 < self.n and s[q + 1] in names.PLACEHOLDERS:
            q += 1
        elif b > 0 and s[b - 1] in names.GENERIC_PREFIXES:
            return None
        if s[q] not in names.PLACEHOLDERS:
            return None
        word = names.agency_word_at(s, q + 1)
        if word is None:
            return None
        end = q + 1 + len(word.text)
        self.raw("context", b, end, word=word, placeholder=s[q])
        return end

    def parse_counted(self, b: int) -> int | None:
        """两地法院, 四地党委政法委: the regions come from the context."""
        match = names.COUNT_WORD.match(self.s, b)
        if not match or (b > 0 and self.s[b - 1] in names.GENERIC_PREFIXES):
            return None
        count = names.count_of(match.group())
        q = match.end()
        for area in names.AREA_WORDS:
            if self.s.startswith(area, q):
                q += len(area)
                break
        word = names.agency_word_at(self.s, q)
        if count is None or word is None:
            return None
        end = q + len(word.text)
        self.raw("counted", b, end, word=word, count=count[0], level_hint=names.COUNT_UNIT_LEVELS.get(count[1]))
        return end

    def is_type_list(self, start: int, end: int) -> bool:
        """A bare agency word in a list of types ("高级人民法院、人民检察院、公安厅(局)") names no single agency."""
        s = self.s
        if s.startswith(("(局)", "(厅)"), end):
            return True
        if end < self.n and s[end] == "、" and names.agency_word_at(s, end + 1) is not None:
            return True
        return start > 0 and s[start - 1] == "、" and names.agency_word_ending_at(s, start - 1) is not None

    def parse_unknown(self, b: int, item: _Item) -> int:
        """A region followed by an agency-like name the directory does not hold ("重庆市教育矫治局"); with a known
        agency in parentheses after it, that one ("重庆市教育矫治局(市戒毒管理局)")."""
        s, stop = self.s, item.end
        while stop < self.n and stop - item.end <= names.MAX_NAME_MIDDLE and s[stop] not in names.NOT_IN_NAMES:
            stop += 1
        if stop < self.n and s[stop] == "(" and stop > item.end and s[b:stop].endswith(names.INSTITUTION_ENDINGS):
            inner = self.alias_in_parentheses(stop, item.regions)
            if inner is not None:
                close, kind, values = inner
                self.raw(kind, b, close + 1, outer=s[b:stop], **values)
                return close + 1
        for match in names.AGENCY_LIKE.finditer(s, item.end, stop):
            if match.start() > item.end and match.end() in self.bounds:
                name = s[b : match.end()]
                self.raw("unknown", b, match.end(), regions=item.regions[:1], guessed_type=names.guess_type(name))
                return match.end()
        return item.end

    def alias_in_parentheses(self, open_at: int, regions: tuple[RegionInfo, ...]):
        """The agency named in parentheses at ``open_at``: its closing offset, kind and values, or None."""
        s = self.s
        close = s.find(")", open_at + 1, open_at + 24)
        if close < 0:
            return None
        inner = s[open_at + 1 : close]
        if inner in self.index.agency_names.items:
            return close, "name", {"agency": self.index.agency_names.items[inner]}
        start = open_at + 1
        if inner[:1] in names.PLACEHOLDERS:
            start += 1
        word = names.agency_word_at(s, start)
        if word is not None and start + len(word.text) == close and regions and regions[0] is not None:
            return close, "regional", {"regions": regions, "word": word}
        item = self.region_chain(open_at + 1)
        if item is not None:
            word = names.agency_word_at(s, item.end)
            if word is not None and item.end + len(word.text) == close:
                return close, "regional", {"regions": item.regions, "word": word}
        return None

    def skip_alias_in_parentheses(self, end: int, regions) -> int:
        """After a recognised agency, the same agency's other name in parentheses is not a mention of its own."""
        if end < self.n and self.s[end] == "(":
            regions = tuple(region for region in regions if region is not None)
            if self.alias_in_parentheses(end, regions) is not None:
                return self.s.find(")", end) + 1
        return end


# ---------------------------------------------------------------------------------------------------------------
# Resolution


class _Resolver:
    def __init__(self, index: AgencyIndex, text, scan: _Scan):
        self.index = index
        self.text = text
        self.scan = scan
        self.region_starts = [mention.start for mention in scan.regions]
        self.dominant = self._dominant_provinces()
        self.dominant_below = self._dominant_regions_below_provinces()

    def _dominant_provinces(self) -> list[str]:
        counts: dict[str, int] = {}
        first: dict[str, int] = {}
        for mention in self.scan.regions:
            if mention.group or mention.weak:
                continue
            provinces = {region.province for region in mention.regions}
            if len(provinces) == 1:
                province = provinces.pop()
                counts[province] = counts.get(province, 0) + 1
                first.setdefault(province, mention.start)
        return sorted(counts, key=lambda code: (-counts[code], first[code]))

    def _dominant_regions_below_provinces(self) -> list[str]:
        """The cities and counties the text names (each written out, not a short name alone), most named first: the
        region of "市中院", "市检察院" when no paragraph names one ("南昌市中级人民法院 … 在市中院召开")."""
        counts: dict[str, int] = {}
        first: dict[str, int] = {}
        for mention in self.scan.regions:
            if mention.group or mention.weak or len(mention.regions) != 1:
                continue
            region = mention.regions[0]
            if region.level == "province":
                continue
            counts[region.code] = counts.get(region.code, 0) + 1
            first.setdefault(region.code, mention.start)
        return sorted(counts, key=lambda code: (-counts[code], first[code]))

    def pick_region(self, candidates, word: AgencyWord | None, level_hint: str | None = None):
        """One of a short name's regions: by the level a count gives, by having such an agency, by the text's
        provinces, by level. Returns the region and whether a choice remained open."""
        pool = list(candidates)
        if level_hint:
            pool = [r for r in pool if r.level == level_hint or (level_hint == "city" and r.kind == "直辖市")] or pool
        if word is not None and len(pool) > 1:
            pool = [r for r in pool if self.index.lookup(r, word)[0] is not None] or pool
        if len(pool) > 1:
            for province in self.dominant:
                inside = [r for r in pool if r.province == province]
                if inside:
                    pool = inside
                    break
        if len(pool) > 1:
            top = min(LEVEL_ORDER[r.level] for r in pool)
            pool = [r for r in pool if LEVEL_ORDER[r.level] == top]
        return pool[0], len(pool) > 1

    def ref(self, raw: _Raw, agency: AgencyInfo | None, confidence: float, warnings=(), region=None, type_=""):
        span = self.text.span(raw.start, raw.end)
        written = self.text.original[span[0] : span[1]]
        if agency is None:
            return AgencyRef(
                text=written,
                span=span,
                region=region.code if region is not None else "",
                type=type_,
                confidence=CONFIDENCE_UNKNOWN,
                warnings=[_("Not found in the directory"), *warnings],
            )
        return AgencyRef(
            text=written,
            span=span,
            agency_id=agency.id,
            name=agency.name,
            type=agency.type,
            region=agency.region,
            circles=self.index.circles_of(agency),
            confidence=round(confidence, 2),
            warnings=list(warnings),
        )

    def resolve(self, raw: _Raw, excluded: set[int] = frozenset()) -> list[AgencyRef]:
        if raw.kind == "context":
            return self._resolve_context(raw, excluded)
        return getattr(self, f"_resolve_{raw.kind}")(raw)

    def _resolve_name(self, raw: _Raw) -> list[AgencyRef]:
        if raw.outer:
            warning = _("Not in the directory: %(name)s; the name in parentheses was used") % {"name": raw.outer}
            return [self.ref(raw, raw.agency, CONFIDENCE_PARENTHESES, [warning])]
        return [self.ref(raw, raw.agency, CONFIDENCE_EXACT)]

    def _resolve_national(self, raw: _Raw) -> list[AgencyRef]:
        return [self.ref(raw, None, 0, type_=raw.guessed_type)]

    def _resolve_unknown(self, raw: _Raw) -> list[AgencyRef]:
        simple = self.text.simple
        if raw.start > 0 and simple[raw.start - 1] == "“" and simple.startswith("”", raw.end):
            return []  # a quoted name ("“广州微法院”小程序"): a product or a brand, no agency
        region = raw.regions[0] if raw.regions else None
        return [self.ref(raw, None, 0, region=region, type_=raw.guessed_type)]

    def _resolve_regional(self, raw: _Raw) -> list[AgencyRef]:
        word = raw.word
        region, ambiguous = self.pick_region(raw.regions, word, raw.level_hint)
        if raw.weak:  # a county's short name: only in the text's provinces, and never quite sure
            if self.dominant and region.province not in self.dominant:
                return []
            ambiguous = True
        agency, candidates = self.index.lookup(region, word)
        warnings = []
        if agency is None:
            if candidates:
                names_ = "、".join(candidate.name for candidate in candidates[:5])
                warnings.append(_("Several agencies of the directory match: %(names)s") % {"names": names_})
            return [self.ref(raw, None, 0, warnings, region=region, type_=word.type)]
        written = self.text.simple[raw.start : raw.end]
        confidence = CONFIDENCE_EXACT if written == agency.name else min(word.confidence, 0.9)
        if raw.enumerated:
            confidence = min(confidence, CONFIDENCE_ENUMERATED)
        if raw.outer:
            confidence = min(confidence, CONFIDENCE_PARENTHESES)
            warnings.append(_("Not in the directory: %(name)s; the name in parentheses was used") % {"name": raw.outer})
        if ambiguous:
            confidence -= AMBIGUITY_PENALTY
            full_name = "".join(
                self.index.regions[code].name for code in region.ancestors if code in self.index.regions
            )
            warnings.append(_("The region name is ambiguous; taken as %(region)s") % {"region": full_name})
        return [self.ref(raw, agency, confidence, warnings)]

    def _resolve_circle(self, raw: _Raw) -> list[AgencyRef]:
        agency, _candidates = self.index.lookup(raw.regions[0], raw.word)
        if agency is None:
            return []
        warning = _("One of the agencies of the circle %(circle)s") % {"circle": raw.circle.name}
        return [self.ref(raw, agency, CONFIDENCE_CIRCLE, [warning])]

    def _context_regions(self, raw: _Raw):
        """Regions to try for a placeholder or bare word, nearest first, with the confidence of each scope."""
        k = bisect.bisect_right(self.region_starts, raw.start) - 1
        while k >= 0:
            mention = self.scan.regions[k]
            k -= 1
            if mention.end > raw.start or mention.group or mention.weak:
                continue
            if mention.start < raw.paragraph:
                break
            confidence = CONFIDENCE_SENTENCE if mention.start >= raw.sentence else CONFIDENCE_PARAGRAPH
            region, _ambiguous = self.pick_region(mention.regions, raw.word)
            yield region, confidence
            for code in reversed(region.ancestors[:-1]):
                if code in self.index.regions:
                    yield self.index.regions[code], confidence
        for province in self.dominant:
            if province in self.index.regions:
                yield self.index.regions[province], CONFIDENCE_DOMINANT
        for code in self.dominant_below:
            if code in self.index.regions:
                yield self.index.regions[code], CONFIDENCE_DOMINANT

    def _resolve_context(self, raw: _Raw, excluded: set[int]) -> list[AgencyRef]:
        allowed = names.PLACEHOLDERS.get(raw.placeholder)
        for region, confidence in self._context_regions(raw):
            if allowed is not None and not allowed(region.level, region.kind):
                continue
            agency, _candidates = self.index.lookup(region, raw.word)
            if agency is None or agency.id in excluded:
                continue
            if not raw.word.suffix or agency.name.endswith(raw.word.text):
                warning = _("Region taken from the context: %(region)s") % {"region": region.name}
                return [self.ref(raw, agency, confidence, [warning])]
        if raw.placeholder:
            return [self.ref(raw, None, 0, type_=raw.word.type)]
        return []

    def _resolve_counted(self, raw: _Raw) -> list[AgencyRef]:
        regions = None
        for mention in reversed(self.scan.regions):
            if mention.start < raw.start and mention.group and len(mention.regions) == raw.count:
                regions = mention.regions
                break
        if regions is None and len(self.dominant) == raw.count:
            regions = tuple(self.index.regions[code] for code in self.dominant if code in self.index.regions)
        if not regions:
            return []
        listed = "、".join(region.name for region in regions)
        warning = _("Regions taken from the context: %(regions)s") % {"regions": listed}
        found = []
        for region in regions:
            agency, _candidates = self.index.lookup(region, raw.word)
            if agency is not None:
                found.append(self.ref(raw, agency, CONFIDENCE_GROUP_FROM_CONTEXT, [warning]))
        return found


def _scan(index: AgencyIndex, lines) -> _Scan:
    scan = _Scan()
    for line in lines:
        _LineScanner(index, scan, line.text, line.start).run()
    return scan


def _mentions(index: AgencyIndex, text, scan: _Scan) -> list[tuple[int, int, AgencyRef]]:
    """Names with their region first; then the guesses, which must not be an agency the sentence names already
    ("我省公安厅与贵州省公安厅签订协议": 我省 is not 贵州)."""
    resolver = _Resolver(index, text, scan)
    mentions = []
    for raw in scan.raws:
        if raw.kind != "context":
            mentions.extend((raw.start, raw.end, ref) for ref in resolver.resolve(raw))
    named_first = sorted(mentions, key=lambda mention: (mention[0], mention[1]))
    for raw in scan.raws:
        if raw.kind == "context":
            named = _coordinated(text.simple, named_first, raw)
            mentions.extend((raw.start, raw.end, ref) for ref in resolver.resolve(raw, excluded=named))
    mentions.sort(key=lambda mention: (mention[0], mention[1]))
    return mentions


COORDINATING = re.compile(r"[\s,、与和及同跟以及]*")


def _coordinated(simple: str, mentions: list[tuple[int, int, AgencyRef]], raw: _Raw) -> set[int]:
    """The agencies named in a list with the guess ``raw`` ("我省公安厅与贵州省公安厅", "A、B和省高院"): the guess is
    none of them. An agency named elsewhere in the sentence may be the one meant ("南昌市中级人民法院…在市中院召开")."""
    inside = [mention for mention in mentions if raw.sentence <= mention[0] and mention[1] <= raw.sentence_end]
    found: set[int] = set()
    for side in (reversed([m for m in inside if m[1] <= raw.start]), [m for m in inside if m[0] >= raw.end]):
        edge, last = (raw.start, raw.end), None
        for start, end, ref in side:
            if (start, end) != last:  # the regions of one mention ("川渝两地法院") share its span
                gap = (end, edge[0]) if end <= edge[0] else (edge[1], start)
                if gap[0] > gap[1] or not COORDINATING.fullmatch(simple, *gap):
                    break
                edge, last = (min(edge[0], start), max(edge[1], end)), (start, end)
            if ref.agency_id is not None:
                found.add(ref.agency_id)
    return found


def _copy(ref: AgencyRef) -> AgencyRef:
    return replace(ref, circles=list(ref.circles), warnings=list(ref.warnings))


def _distinct(mentions: list[tuple[int, int, AgencyRef]]) -> list[AgencyRef]:
    """One ref per agency (or unmatched name): the first mention's text and span, the best confidence."""
    found: dict[object, AgencyRef] = {}
    for _start, _end, ref in mentions:
        # an unmatched name is its text; 最高法 and 最高人民法院 are one
        key = ref.agency_id if ref.agency_id is not None else names.NATIONAL_AGENCIES.get(ref.text, (ref.text,))[0]
        first = found.get(key)
        if first is None:
            found[key] = _copy(ref)
        elif ref.confidence > first.confidence:
            first.confidence = ref.confidence
            first.warnings = list(ref.warnings)
    return list(found.values())


# ---------------------------------------------------------------------------------------------------------------
# The API


def find(context) -> list[AgencyRef]:
    index = context.index or AgencyIndex.current()
    scan = _scan(index, context.text.content())
    context._agency_scan = scan  # for resolve(): the regions of the text
    mentions = _mentions(index, context.text, scan)
    context.agency_spans = mentions
    return _distinct(mentions)


def within(context, start: int, end: int) -> list[AgencyRef]:
    return [ref for s, e, ref in getattr(context, "agency_spans", []) if s >= start and e <= end]


def resolve(context, words: str, start: int) -> AgencyRef:
    """The agency ``words`` (written at ``start`` of text.simple) names, by the mentions found or read alone."""
    end = start + len(words)
    best = None
    for s, e, ref in getattr(context, "agency_spans", []):
        overlap = min(e, end) - max(s, start)
        if overlap > 0 and (best is None or overlap > best[0]):
            best = (overlap, ref)
    if best is not None:
        return _copy(best[1])
    index = context.index or AgencyIndex.current()
    scan = getattr(context, "_agency_scan", None)
    if scan is None:
        scan = context._agency_scan = _scan(index, context.text.content())
    simple = context.text.simple
    written = simple[start:end] if simple[start:end] == words else _normalised(words)
    line = context.text.line_at(start)
    alone = _Scan()
    _LineScanner(index, alone, written, start).run()
    paragraph = line.start if line is not None else start
    for raw in alone.raws:
        raw.paragraph = paragraph
        raw.sentence = _sentence_start(simple, paragraph, raw.start)
        raw.sentence_end = raw.end
    mentions = _mentions(index, context.text, _Scan(raws=alone.raws, regions=scan.regions))
    if mentions:
        return _copy(mentions[0][2])
    span = context.text.span(start, end)
    unknown = AgencyRef(text=context.text.original[span[0] : span[1]], span=span, type=names.guess_type(written))
    unknown.warnings.append(_("Not found in the directory"))
    if names.AGENCY_LIKE.search(written):
        unknown.confidence = CONFIDENCE_UNKNOWN
    return unknown


def _sentence_start(simple: str, line_start: int, position: int) -> int:
    for k in range(position - 1, line_start - 1, -1):
        if simple[k] in SENTENCE_ENDS:
            return k + 1
    return line_start


def _normalised(words: str) -> str:
    from yipanqi.directory.text import normalise_chinese

    return normalise_chinese(words)
