"""Reading an uploaded document (plain text, a web page, Word .docx, PDF with a text layer) or pasted text into the
text the intake analyses.

    original = read(uploaded_bytes, "协议.docx")   # or read_text(pasted)

The returned text is what the user sees and what every span of the draft points into: line ends are normalised to
``\\n`` and nothing else is rewritten (the text is not simplified or folded here; ``text.prepare`` does that on a
copy). Anything the intake cannot use raises ``IntakeError`` with a translated message that says what to do, before
anything is written: empty input, more than ``MAX_BYTES``, binary data or an unknown encoding, an unsupported file
type, a damaged or password-protected file, a PDF without a text layer (a scan: it needs OCR first), and text that
is not Chinese.
"""

from __future__ import annotations

import codecs
import functools
import html
import io
import re
import zipfile
from html.parser import HTMLParser
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_BYTES = 5 * 1024 * 1024
# A .docx is a zip: what it may expand to (guards against zip bombs; real documents stay far below).
MAX_UNPACKED_BYTES = 100 * 1024 * 1024

# The language test: at least this many CJK characters, making up at least this share of the letters.
MIN_CJK_CHARACTERS = 20
MIN_CJK_SHARE = 0.10
# Kana above this share of the letters: Japanese, not Chinese.
MAX_KANA_SHARE = 0.05
# Control characters (other than tab, line ends, form feed) above this share of a decoded text: binary data.
MAX_CONTROL_SHARE = 0.01

TEXT_SUFFIXES = {".txt", ".text", ".md"}
HTML_SUFFIXES = {".html", ".htm"}
DOCX_SUFFIXES = {".docx"}
PDF_SUFFIXES = {".pdf"}


class IntakeError(ValidationError):
    """A document the intake cannot read: ``code`` says why (empty, binary, too_big, scanned_pdf, not_chinese,
    unsupported, damaged, encrypted); the message is translated and says what to do."""

    def __str__(self) -> str:
        return "; ".join(self.messages)


# --------------------------------------------------------------------------- public API


def read(data: bytes, name: str) -> str:
    """The text of the uploaded file ``data`` named ``name`` (the name's extension and the content's magic bytes
    decide how it is read)."""
    if len(data) > MAX_BYTES:
        raise _too_big()
    if not data.strip():
        raise _empty()
    kind = _kind(data, name)
    if kind == "pdf":
        text = _read_pdf(data)
    elif kind == "docx":
        text = _read_docx(data)
    elif kind == "html":
        text = html_to_text(_decode(data, declared=_declared_charset(data)))
    else:
        text = _decode(data)
    return _checked(normalise_line_ends(text))


def read_text(text: str) -> str:
    """Pasted text, checked like a file's (empty, too big, not Chinese), with line ends normalised."""
    if len(text) * 4 > MAX_BYTES and len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise _too_big()
    return _checked(normalise_line_ends(text))


_LINE_ENDS = re.compile(r"\r\n?|[\u2028\u2029\x85\x0b\x0c]")


def normalise_line_ends(text: str) -> str:
    """``\\r\\n``, ``\\r``, Unicode line / paragraph separators, vertical tab and form feed → ``\\n``."""
    return _LINE_ENDS.sub("\n", text)


# --------------------------------------------------------------------------- errors


def _empty() -> IntakeError:
    return IntakeError(_("The document is empty: there is no text to read."), code="empty")


def _too_big() -> IntakeError:
    return IntakeError(
        _("The document is larger than %(limit)s MB; split it into smaller files and import them one by one.")
        % {"limit": MAX_BYTES // (1024 * 1024)},
        code="too_big",
    )


def _binary() -> IntakeError:
    return IntakeError(
        _(
            "The file is not a text document: it contains binary data or text in an unknown encoding. "
            "Save it as UTF-8 text, Word (.docx) or PDF and try again."
        ),
        code="binary",
    )


def _unsupported(kind: str) -> IntakeError:
    return IntakeError(
        _(
            "Files of type %(type)s are not supported; use plain text (.txt, .md), a web page (.html), "
            "Word (.docx) or PDF (.pdf)."
        )
        % {"type": kind},
        code="unsupported",
    )


def _legacy_word() -> IntakeError:
    return IntakeError(
        _(
            "Old Word documents (.doc) and password-protected Word documents are not supported; "
            "open the file in Word, save it as .docx without a password and try again."
        ),
        code="unsupported",
    )


def _damaged_docx() -> IntakeError:
    return IntakeError(
        _("The Word document is damaged and cannot be read; open it in Word, save it again and retry."),
        code="damaged",
    )


def _damaged_pdf() -> IntakeError:
    return IntakeError(
        _("The PDF is damaged and cannot be read; save or export it again and retry."),
        code="damaged",
    )


def _encrypted_pdf() -> IntakeError:
    return IntakeError(
        _("The PDF is password-protected; remove the password and try again."),
        code="encrypted",
    )


def _scanned_pdf() -> IntakeError:
    return IntakeError(
        _(
            "The PDF has no text layer (it is probably a scanned image). Run it through OCR (text recognition) "
            "first, then import the recognised text or the PDF it produces."
        ),
        code="scanned_pdf",
    )


def _unpacked_too_big() -> IntakeError:
    return IntakeError(
        _("The document expands to more than %(limit)s MB when unpacked; split it into smaller files.")
        % {"limit": MAX_UNPACKED_BYTES // (1024 * 1024)},
        code="too_big",
    )


def _not_chinese() -> IntakeError:
    return IntakeError(
        _(
            "The text does not look like Chinese: the intake reads documents written in Chinese "
            "(simplified or traditional)."
        ),
        code="not_chinese",
    )


# --------------------------------------------------------------------------- checks on the text

_CJK = re.compile(r"[\u2e80-\u2fdf\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff]")
_LETTER = re.compile(r"[^\W\d_]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff]")


def _count(pattern: re.Pattern, text: str) -> int:
    return len(text) - len(pattern.sub("", text))


def _checked(text: str) -> str:
    if not text.strip(" \t\n\u3000\u00a0\ufeff\u200b"):
        raise _empty()
    if len(text) * 4 > MAX_BYTES and len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise _too_big()
    if not looks_chinese(text):
        raise _not_chinese()
    return text


def looks_chinese(text: str) -> bool:
    """Enough CJK characters (``MIN_CJK_CHARACTERS``, ``MIN_CJK_SHARE`` of the letters) and not Japanese."""
    cjk = _count(_CJK, text)
    if cjk < MIN_CJK_CHARACTERS:
        return False
    letters = _count(_LETTER, text)
    if cjk < MIN_CJK_SHARE * letters:
        return False
    return _count(_KANA, text) <= MAX_KANA_SHARE * letters


# --------------------------------------------------------------------------- file type

_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"{\\rtf", "RTF"),
    (b"Rar!", "RAR"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"\x1f\x8b", "gzip"),
    (b"\x7fELF", "ELF"),
)
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Word 97-2003, Excel 97-2003, encrypted Office files
_ZIP = b"PK\x03\x04"
_HTML_START = re.compile(
    rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S
)


def _kind(data: bytes, name: str) -> str:
    """How to read ``data``: "text", "html", "docx" or "pdf"; raises IntakeError for anything else."""
    suffix = PurePath(name or "").suffix.lower()
    if data[:1024].lstrip().startswith(b"%PDF-") or (suffix in PDF_SUFFIXES and b"%PDF-" in data[:1024]):
        return "pdf"
    if suffix in PDF_SUFFIXES:
        raise _damaged_pdf()
    if data.startswith(_OLE):
        raise _legacy_word() if suffix in {".doc", ".docx", ".wps", ""} else _unsupported(_shown(suffix, "OLE"))
    if data.startswith(_ZIP):
        if _is_docx(data):
            return "docx"
        raise _damaged_docx() if suffix in DOCX_SUFFIXES else _unsupported(_shown(suffix, "ZIP"))
    if suffix in DOCX_SUFFIXES:
        raise _damaged_docx()
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            raise _unsupported(_shown(suffix, kind))
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in TEXT_SUFFIXES:
        return "text"
    if suffix == ".doc":
        raise _legacy_word()
    if suffix:
        raise _unsupported(suffix)
    return "html" if _HTML_START.match(data[:4096].lstrip(b"\xef\xbb\xbf")) else "text"


def _shown(suffix: str, detected: str) -> str:
    """The type to name in the message: the file's extension, unless it claims a type we read (a PNG named .txt)."""
    if not suffix or suffix in TEXT_SUFFIXES | HTML_SUFFIXES | DOCX_SUFFIXES | PDF_SUFFIXES:
        return detected
    return suffix


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return False


# --------------------------------------------------------------------------- decoding

_GB_ALIASES = {"gb2312", "gbk", "gb18030", "x-gbk", "cp936", "euc-cn", "hz-gb-2312"}
_BIG5_ALIASES = {"big5", "big5-hkscs", "big5hkscs", "x-x-big5", "cp950"}
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.I)


def _declared_charset(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:4096])
    if not match:
        return None
    label = match.group(1).decode("ascii", "ignore").lower()
    if label in _GB_ALIASES:
        return "gb18030"
    if label in _BIG5_ALIASES:
        return "big5hkscs"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _decode(data: bytes, declared: str | None = None) -> str:
    """UTF-8 (with or without BOM), UTF-16 / UTF-32 with BOM, then the declared charset, GB18030 or Big5; NUL bytes
    or control characters outside a BOM-marked UTF-16/32 text mean binary data."""
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return _not_binary(data.decode(encoding))
            except UnicodeDecodeError:
                raise _binary() from None
    if b"\x00" in data:
        raise _binary()
    if declared and declared.startswith(("utf-16", "utf-32")):
        declared = None  # declared but without a BOM (and NUL bytes were excluded above): not believable
    candidates = []
    for encoding in dict.fromkeys(filter(None, ("utf-8", declared, "gb18030", "big5hkscs"))):
        try:
            decoded = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        if encoding in {"utf-8", declared}:
            return _not_binary(decoded)
        candidates.append(decoded)
    if not candidates:
        raise _binary()
    # GB18030 accepts almost any byte sequence, Big5 text included: keep the reading with more common characters.
    best = max(candidates, key=_common_share)
    return _not_binary(best)


def _not_binary(text: str) -> str:
    if _count(_CONTROL, text) > MAX_CONTROL_SHARE * max(len(text), 1):
        raise _binary()
    return text


@functools.cache
def _is_common_hanzi(char: str) -> bool:
    """In GB2312 level 1 (3,755 common simplified characters) or Big5 level 1 (5,401 common traditional ones)."""
    try:
        gb = char.encode("gb2312")
        if len(gb) == 2 and 0xB0 <= gb[0] <= 0xD7:
            return True
    except UnicodeEncodeError:
        pass
    try:
        big5 = char.encode("big5")
        return len(big5) == 2 and 0xA440 <= (big5[0] << 8 | big5[1]) <= 0xC67E
    except UnicodeEncodeError:
        return False


def _common_share(text: str) -> float:
    sample = text[:20000]
    wide = [char for char in sample if ord(char) > 0x2000]
    if not wide:
        return 0.0
    return sum(1 for char in wide if _is_common_hanzi(char)) / len(wide)


# --------------------------------------------------------------------------- HTML

_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "br", "caption", "dd", "div", "dl", "dt", "fieldset",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main",
    "nav", "ol", "p", "pre", "section", "table", "tbody", "td", "tfoot", "th", "thead", "title", "tr", "ul",
}  # fmt: skip
_DROPPED_TAGS = {"script", "style", "noscript", "template", "head", "svg", "iframe", "object"}
_VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_SPACES = re.compile(r"[ \t\n\r\f\v]+")
_TAG = re.compile(r"<[^>]*>")
_DROPPED_CONTENT = re.compile(r"<(script|style|head|noscript|template)\b.*?</\1\s*>", re.I | re.S)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.dropped = 0  # depth inside dropped elements
        self.preformatted = 0

    def handle_starttag(self, tag, attrs):
        if tag == "body":
            self.dropped = 0  # a <head> left open ends where the body starts
        if tag in _DROPPED_TAGS and tag not in _VOID_TAGS:
            self.dropped += 1
        elif tag == "pre":
            self.preformatted += 1
        if tag in _BLOCK_TAGS and not self.dropped:
            self.parts.append("\n")

    def handle_startendtag(self, tag, attrs):
        if tag in _BLOCK_TAGS and not self.dropped:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in _DROPPED_TAGS and self.dropped:
            self.dropped -= 1
        elif tag == "pre" and self.preformatted:
            self.preformatted -= 1
        if tag in _BLOCK_TAGS and not self.dropped:
            self.parts.append("\n")

    def handle_data(self, data):
        if self.dropped:
            return
        data = data.replace("\u00a0", " ")
        self.parts.append(data if self.preformatted else _SPACES.sub(" ", data))


def html_to_text(markup: str) -> str:
    """The visible text of an HTML page: tags stripped, block elements on their own lines, script / style / head
    dropped, entities unescaped, blank lines collapsed."""
    parser = _TextExtractor()
    try:
        parser.feed(markup)
        parser.close()
        visible = "".join(parser.parts)  # entities already unescaped (convert_charrefs)
    except Exception:  # html.parser gives up on some broken markup: strip the tags the plain way
        visible = html.unescape(_SPACES.sub(" ", _TAG.sub("\n", _DROPPED_CONTENT.sub("", markup))))
    lines = (line.strip(" ") for line in visible.split("\n"))
    return "\n".join(line for line in lines if line)


# --------------------------------------------------------------------------- Word (.docx)

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _read_docx(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise _unpacked_too_big()
        import docx

        document = docx.Document(io.BytesIO(data))
        numbering = _Numbering(document)
        lines: list[str] = []
        _docx_block_lines(document.element.body, document, numbering, lines)
    except IntakeError:
        raise
    except Exception:  # a damaged file makes python-docx / lxml / zipfile raise all sorts
        raise _damaged_docx() from None
    return "\n".join(lines)


def _docx_block_lines(container, parent, numbering: _Numbering, lines: list[str]) -> None:
    """Paragraphs and tables of ``container`` in document order; each table cell's paragraphs on their own lines."""
    from docx.table import Table, _Cell
    from docx.text.paragraph import Paragraph

    for child in container.iterchildren():
        if child.tag == f"{_W}p":
            paragraph = Paragraph(child, parent)
            lines.append(numbering.label(paragraph) + paragraph.text)
        elif child.tag == f"{_W}tbl":
            table = Table(child, parent)
            for row in child.iterchildren(f"{_W}tr"):
                for cell in row.iterchildren(f"{_W}tc"):
                    _docx_block_lines(cell, _Cell(cell, table), numbering, lines)
        elif child.tag in {f"{_W}sdt", f"{_W}customXml"}:  # content controls and custom XML: look inside
            inner = child.find(f"{_W}sdtContent") if child.tag == f"{_W}sdt" else child
            if inner is not None:
                _docx_block_lines(inner, parent, numbering, lines)


class _Numbering:
    """Word's automatic list numbers ("1.", "(一)", "第三条"), which are not part of a paragraph's text: rendered from
    numbering.xml so that numbered measures read as they are printed. Counters are kept per abstract list and level;
    a list instance with a start override restarts."""

    def __init__(self, document) -> None:
        self.levels: dict[tuple[str, int], tuple[str, str, int]] = {}  # (abstract id, level) -> (format, text, start)
        self.abstract_of: dict[str, str] = {}
        self.overrides: dict[tuple[str, int], int] = {}
        self.counters: dict[str, dict[int, int]] = {}
        self.restarted: set[tuple[str, int]] = set()
        self.style_numbering: dict[str, tuple[str, int]] = {}
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        for abstract in root.iterchildren(f"{_W}abstractNum"):
            abstract_id = abstract.get(f"{_W}abstractNumId")
            for level in abstract.iterchildren(f"{_W}lvl"):
                self.levels[(abstract_id, int(level.get(f"{_W}ilvl", "0")))] = (
                    _attr(level, "numFmt") or "decimal",
                    _attr(level, "lvlText") or "",
                    int(_attr(level, "start") or 1),
                )
        for num in root.iterchildren(f"{_W}num"):
            num_id = num.get(f"{_W}numId")
            self.abstract_of[num_id] = _attr(num, "abstractNumId") or ""
            for override in num.iterchildren(f"{_W}lvlOverride"):
                start = _attr(override, "startOverride")
                if start is not None:
                    self.overrides[(num_id, int(override.get(f"{_W}ilvl", "0")))] = int(start)
        for style in document.styles.element.iterchildren(f"{_W}style"):
            properties = style.find(f"{_W}pPr")
            num_pr = properties.find(f"{_W}numPr") if properties is not None else None
            if num_pr is not None and _attr(num_pr, "numId"):
                self.style_numbering[style.get(f"{_W}styleId")] = (
                    _attr(num_pr, "numId"),
                    int(_attr(num_pr, "ilvl") or 0),
                )

    def label(self, paragraph) -> str:
        if not self.levels:
            return ""
        properties = paragraph._p.pPr
        num_pr = properties.find(f"{_W}numPr") if properties is not None else None
        num_id, level = None, 0
        if num_pr is not None:
            num_id, level = _attr(num_pr, "numId"), int(_attr(num_pr, "ilvl") or 0)
        elif properties is not None and properties.find(f"{_W}pStyle") is not None:
            num_id, level = self.style_numbering.get(_attr(properties, "pStyle"), (None, 0))
        if not num_id or num_id == "0" or num_id not in self.abstract_of:
            return ""
        abstract_id = self.abstract_of[num_id]
        if (abstract_id, level) not in self.levels:
            return ""
        counters = self.counters.setdefault(abstract_id, {})
        if (num_id, level) in self.overrides and (num_id, level) not in self.restarted:
            self.restarted.add((num_id, level))
            counters[level] = self.overrides[(num_id, level)] - 1
        start = self.levels[(abstract_id, level)][2]
        counters[level] = counters.get(level, start - 1) + 1
        for deeper in [key for key in counters if key > level]:
            del counters[deeper]
        number_format, pattern, _start = self.levels[(abstract_id, level)]
        if number_format in {"bullet", "none"}:
            return ""

        def placeholder(match: re.Match) -> str:
            shown = int(match.group(1)) - 1
            key = (abstract_id, shown)
            value = counters.get(shown, self.levels[key][2] if key in self.levels else 1)
            return _format_number(value, self.levels[key][0] if key in self.levels else "decimal")

        return re.sub(r"%(\d)", placeholder, pattern)


def _attr(element, child: str) -> str | None:
    found = element.find(f"{_W}{child}")
    return found.get(f"{_W}val") if found is not None else None


_CHINESE_DIGITS = "零一二三四五六七八九"
_TRADITIONAL_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_HEAVENLY_STEMS = "甲乙丙丁戊己庚辛壬癸"
_EARTHLY_BRANCHES = "子丑寅卯辰巳午未申酉戌亥"


def _chinese_number(value: int, digits: str = _CHINESE_DIGITS) -> str:
    if value <= 0 or value >= 10000:
        return str(value)
    units = ["", "十", "百", "千"] if digits is _CHINESE_DIGITS else ["", "拾", "佰", "仟"]
    parts, zero = [], False
    for power in range(3, -1, -1):
        digit = value // 10**power % 10
        if digit:
            if zero:
                parts.append(digits[0])
            parts.append(digits[digit] + units[power])
            zero = False
        elif parts:
            zero = True
    text = "".join(parts)
    return text[1:] if 10 <= value < 20 and digits is _CHINESE_DIGITS else text  # 十二, not 一十二


def _roman(value: int) -> str:
    if not 0 < value < 4000:
        return str(value)
    numerals = ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"))
    numerals += ((10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))
    parts = []
    for amount, numeral in numerals:
        while value >= amount:
            parts.append(numeral)
            value -= amount
    return "".join(parts)


def _letters(value: int) -> str:
    if value <= 0:
        return str(value)
    return chr(ord("A") + (value - 1) % 26) * ((value - 1) // 26 + 1)  # Word repeats: A … Z, AA … ZZ


def _format_number(value: int, number_format: str) -> str:
    if number_format in {"chineseCounting", "chineseCountingThousand", "taiwaneseCounting", "japaneseCounting"}:
        return _chinese_number(value)
    if number_format in {"chineseLegalSimplified", "ideographLegalTraditional"}:
        return _chinese_number(value, _TRADITIONAL_DIGITS)
    if number_format == "ideographTraditional" and 0 < value <= 10:
        return _HEAVENLY_STEMS[value - 1]
    if number_format == "ideographZodiac" and 0 < value <= 12:
        return _EARTHLY_BRANCHES[value - 1]
    if number_format in {"upperRoman", "lowerRoman"}:
        roman = _roman(value)
        return roman if number_format == "upperRoman" else roman.lower()
    if number_format in {"upperLetter", "lowerLetter"}:
        letters = _letters(value)
        return letters if number_format == "upperLetter" else letters.lower()
    if number_format in {"decimalEnclosedCircle", "decimalEnclosedCircleChinese"} and 0 < value <= 20:
        return chr(0x2460 + value - 1)
    if number_format in {"decimalEnclosedParen", "decimalEnclosedFullstop"} and 0 < value <= 20:
        return chr((0x2474 if number_format == "decimalEnclosedParen" else 0x2488) + value - 1)
    if number_format == "decimalZero":
        return f"{value:02d}"
    if number_format == "decimalFullWidth":
        return "".join(chr(ord(char) + 0xFEE0) for char in str(value))
    return str(value)


# --------------------------------------------------------------------------- PDF

# A page whose text layer has fewer letters or digits than this has no real text layer (a scan with a page number).
MIN_TEXT_PER_PAGE = 10
# Sentence ends and closing marks (ASCII and full-width forms: PDF text is not folded here).
_TERMINAL = re.compile(r"[\u3002!?;:\uff01\uff1f\uff1b\uff1a\u2026\u201d\u300d\u300f)\uff09\u300b\]\u3011]$")
_ITEM_START = re.compile(
    r"^\s*(?:[(\uff08][\u4e00-\u9fff\d]{1,3}[)\uff09]|[一二三四五六七八九十]+[\u3001.\uff0e]|\d+[.\u3001\uff0e)]"
    r"|第[一二三四五六七八九十百\d]+[条章节]|[\u2022\u00b7\u25cf\u25c6\u25a0\u25aa-])"
)
_ALNUM = re.compile(r"[^\W_]")


def _read_pdf(data: bytes) -> str:
    import pypdf
    from pypdf.errors import DependencyError, FileNotDecryptedError

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise _encrypted_pdf()
        pages = [page.extract_text() or "" for page in reader.pages]
    except IntakeError:
        raise
    except (FileNotDecryptedError, DependencyError):
        raise _encrypted_pdf() from None
    except Exception:  # a damaged file makes pypdf raise all sorts
        raise _damaged_pdf() from None
    if not pages:
        raise _damaged_pdf()
    if _count(_ALNUM, "".join(pages)) < MIN_TEXT_PER_PAGE * len(pages):
        raise _scanned_pdf()
    return "\n".join(_unwrap(normalise_line_ends(page)) for page in pages)


def _width(line: str) -> int:
    return sum(2 if ord(char) > 0x2E80 else 1 for char in line)


def _unwrap(page: str) -> str:
    """Join the lines PDF layout broke inside a paragraph: a line that fills the page's width and does not end a
    sentence continues on the next line (unless that one starts a numbered item)."""
    lines = [line.rstrip() for line in page.split("\n")]
    widths = [_width(line) for line in lines]
    full = max(widths, default=0)
    if full < 30:
        return "\n".join(lines)
    joined: list[str] = []
    for index, line in enumerate(lines):
        continues = (
            index > 0
            and widths[index - 1] >= 0.85 * full
            and not _TERMINAL.search(lines[index - 1])
            and line.strip()
            and not _ITEM_START.match(line)
        )
        if continues and joined:
            previous = joined[-1]
            # CJK text wraps without a space; Latin words wrapped at a space keep one.
            glue = "" if (ord(previous[-1:] or "a") > 0x2E80 or ord(line.lstrip()[:1] or "a") > 0x2E80) else " "
            joined[-1] = previous + glue + line.lstrip()
        else:
            joined.append(line)
    return "\n".join(joined)
