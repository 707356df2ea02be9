"""Reading uploads and pasted text: plain text in every encoding we accept, web pages, real .docx files made with
python-docx, real PDFs rendered with WeasyPrint (with a text layer, and a scan without one), and every refusal."""

from __future__ import annotations

import base64
import functools
import io
import os
import shutil
import subprocess
import zipfile

import docx
import pypdf
import pytest
import weasyprint
from django.core.exceptions import ValidationError
from django.utils import translation
from PIL import Image, ImageDraw

from yipanqi.intake import reading
from yipanqi.intake.reading import MAX_BYTES, IntakeError, read, read_text
from yipanqi.intake.tests.conftest import seed_text

SIMPLIFIED = (
    "四川省高级人民法院与重庆市高级人民法院签署知识产权司法保护交流合作协议，构建知识产权司法互联互通体系，"
    "共建知识产权双城保护圈。双方将在审判业务研讨、典型案例发布等方面加强合作，统一裁判尺度。"
)
TRADITIONAL = (
    "四川省高級人民法院與重慶市高級人民法院簽署知識產權司法保護交流合作協議，構建知識產權司法互聯互通體系，"
    "共建知識產權雙城保護圈。雙方將在審判業務研討、典型案例發布等方面加強合作，統一裁判尺度。"
)
ENGLISH = (
    "The high courts of Sichuan and Chongqing signed an agreement on intellectual property protection. "
    "They will hold joint seminars and publish typical cases to align their standards. "
) * 3


@pytest.fixture(autouse=True)
def english_messages():
    with translation.override("en"):
        yield


def refused(data: bytes, name: str) -> IntakeError:
    with pytest.raises(IntakeError) as caught:
        read(data, name)
    return caught.value


# --------------------------------------------------------------------------- plain text


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode("utf-8"),
        lambda text: text.encode("utf-8-sig"),
        lambda text: text.encode("utf-16"),  # with BOM, little-endian here
        lambda text: codecs_bom_utf16_be() + text.encode("utf-16-be"),
        lambda text: text.encode("gb18030"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-le-bom", "utf-16-be-bom", "gb18030"],
)
def test_plain_text_in_every_accepted_encoding(encode):
    assert read(encode(SIMPLIFIED), "协议.txt") == SIMPLIFIED


def codecs_bom_utf16_be() -> bytes:
    import codecs

    return codecs.BOM_UTF16_BE


def test_big5_traditional_text_is_told_from_gb18030():
    # GB18030 decodes Big5 bytes without error (into nonsense); the reading with common characters wins.
    assert read(TRADITIONAL.encode("big5"), "協議.txt") == TRADITIONAL
    assert read(TRADITIONAL.encode("gb18030"), "協議.txt") == TRADITIONAL


def test_line_ends_are_normalised_and_nothing_else_is_rewritten():
    original = "标题\r\n\r\n" + TRADITIONAL + "\r第二段\u2028第三段\x0c第四页  "
    text = read(original.encode("utf-8"), "a.md")
    assert text == "标题\n\n" + TRADITIONAL + "\n第二段\n第三段\n第四页  "
    assert "\r" not in text


def test_text_suffixes_and_no_name_are_read_as_text():
    data = SIMPLIFIED.encode("utf-8")
    assert read(data, "a.TEXT") == read(data, "a.md") == read(data, "") == SIMPLIFIED


def test_seeds_read_unchanged():
    for prefix in ("000", "001", "002"):
        original = seed_text(prefix)
        assert read(original.encode("utf-8"), f"{prefix}.txt") == original


# --------------------------------------------------------------------------- HTML


def test_html_tags_stripped_blocks_on_lines_scripts_dropped_entities_unescaped():
    page = f"""<!DOCTYPE html><html><head><title>页面标题</title><style>p {{ color: red }}</style>
    <script>var 微信 = "分享";</script></head>
    <body><div class="nav">网站首页 &gt; 政法要闻</div>
    <h1>川渝&ldquo;一盘棋&rdquo;</h1>
    <p>{SIMPLIFIED[:30]}
       {SIMPLIFIED[30:]}</p><p>第二段&nbsp;内容&#x4E00;<br>换行<b>加粗</b>文字</p>
    <table><tr><td>举措</td><td>牵头单位</td></tr></table><noscript>请启用脚本</noscript></body></html>"""
    text = read(page.encode("utf-8"), "page.html")
    assert text.split("\n") == [
        "网站首页 > 政法要闻",
        "川渝“一盘棋”",
        SIMPLIFIED[:30] + " " + SIMPLIFIED[30:],
        "第二段 内容一",
        "换行加粗文字",
        "举措",
        "牵头单位",
    ]
    assert "页面标题" not in text and "var" not in text and "color" not in text and "请启用脚本" not in text


def test_html_declared_charset_is_honoured_and_html_is_sniffed_without_a_name():
    page = f'<html><head><meta charset="big5"></head><body><p>{TRADITIONAL}</p></body></html>'
    assert read(page.encode("big5"), "page.htm") == TRADITIONAL
    gbk = f'<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head><p>{SIMPLIFIED}'
    assert read(gbk.encode("gb2312"), "") == SIMPLIFIED


def test_html_with_a_head_left_open_still_gives_the_body():
    page = f"<html><head><title>标题</title><meta charset='utf-8'><body><p>{SIMPLIFIED}</p><p>第二段</p>"
    assert read(page.encode("utf-8"), "page.html") == SIMPLIFIED + "\n第二段"


# --------------------------------------------------------------------------- Word


def docx_bytes(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_paragraphs_and_table_cells_in_body_order():
    document = docx.Document()
    document.add_heading("川渝政法工作合作协议", level=1)
    document.add_paragraph("为深化川渝政法合作，双方签订本协议。")
    document.add_paragraph("1.建立联席会议制度。")  # numbering typed by hand: kept as written
    document.add_paragraph("（二）加强信息共享。")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "举措"
    table.cell(0, 1).text = "牵头单位"
    table.cell(1, 0).text = "统一执法标准"
    table.cell(1, 1).text = "四川省公安厅"
    table.cell(1, 1).add_paragraph("重庆市公安局")
    document.add_paragraph("本协议自双方签字之日起生效，一式四份，双方各执两份，具有同等法律效力。")
    text = read(docx_bytes(document), "协议.docx")
    assert text.split("\n") == [
        "川渝政法工作合作协议",
        "为深化川渝政法合作，双方签订本协议。",
        "1.建立联席会议制度。",
        "（二）加强信息共享。",
        "举措",
        "牵头单位",
        "统一执法标准",
        "四川省公安厅",
        "重庆市公安局",
        "本协议自双方签字之日起生效，一式四份，双方各执两份，具有同等法律效力。",
    ]


def test_docx_automatic_numbering_is_rendered_as_printed():
    document = docx.Document()
    document.add_paragraph("川渝司法行政区域合作重点推进项目清单，双方共同推进以下合作事项：")
    items = ("开展两地监狱狱情分享交流合作。", "开展两地监狱狱内案件协调办理合作。", "开展两地监狱标准化建设合作。")
    for item in items:
        document.add_paragraph(item, style="List Number")
    lines = read(docx_bytes(document), "清单.docx").split("\n")
    assert lines[1:] == [
        "1.开展两地监狱狱情分享交流合作。",
        "2.开展两地监狱狱内案件协调办理合作。",
        "3.开展两地监狱标准化建设合作。",
    ]


def test_docx_multilevel_chinese_numbering():
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = docx.Document()
    numbering = document.part.numbering_part.element
    numbering.insert(
        0,
        parse_xml(
            f'<w:abstractNum {nsdecls("w")} w:abstractNumId="90">'
            '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/>'
            '<w:lvlText w:val="（%1）"/></w:lvl>'
            '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%2."/></w:lvl>'
            "</w:abstractNum>"
        ),
    )
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))

    def numbered(text: str, level: int) -> None:
        paragraph = document.add_paragraph(text)
        paragraph._p.get_or_add_pPr().append(
            parse_xml(f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{level}"/><w:numId w:val="90"/></w:numPr>')
        )

    document.add_paragraph("戒毒工作方面，双方围绕执法管理、教育戒治开展合作，具体事项如下：")
    numbered("加强执法管理合作", 0)
    numbered("建立安全管理一体化机制。", 1)
    numbered("畅通执法信息交流渠道。", 1)
    numbered("加强教育戒治合作", 0)
    numbered("建立教育矫治工作交流机制。", 1)
    lines = read(docx_bytes(document), "戒毒.docx").split("\n")
    assert lines[1:] == [
        "（一）加强执法管理合作",
        "1.建立安全管理一体化机制。",
        "2.畅通执法信息交流渠道。",
        "（二）加强教育戒治合作",
        "1.建立教育矫治工作交流机制。",  # a deeper level restarts under a new parent item
    ]


def test_docx_chinese_counting_numbering_format():
    assert [reading._format_number(value, "chineseCounting") for value in (1, 10, 12, 20, 105)] == [
        "一",
        "十",
        "十二",
        "二十",
        "一百零五",
    ]
    assert reading._format_number(3, "ideographTraditional") == "丙"
    assert reading._format_number(4, "lowerRoman") == "iv"
    assert reading._format_number(2, "decimalEnclosedCircle") == "②"


def test_docx_traditional_text_is_returned_as_written():
    document = docx.Document()
    document.add_paragraph(TRADITIONAL)
    assert read(docx_bytes(document), "協議.docx") == TRADITIONAL


def test_docx_without_text_is_empty():
    document = docx.Document()
    document.add_paragraph("")
    assert refused(docx_bytes(document), "空白.docx").code == "empty"


# --------------------------------------------------------------------------- PDF


@functools.cache
def cjk_font() -> str:
    """A font family with Chinese glyphs on this machine (the project installs Noto CJK)."""
    fc_list = shutil.which("fc-list")
    try:
        found = (
            subprocess.run(
                [fc_list, ":lang=zh", "family"], capture_output=True, text=True, timeout=30, check=False
            ).stdout
            if fc_list
            else ""
        )
    except (OSError, subprocess.SubprocessError):
        found = ""
    families = [family.split(",")[0].strip() for family in found.splitlines() if family.strip()]
    preferred = [family for family in families if "SC" in family] or families
    return preferred[0] if preferred else "Noto Sans CJK SC"


def pdf_of(body: str) -> bytes:
    page = (
        f"<html><head><style>@page {{ size: A4; margin: 2cm }} body {{ font-family: '{cjk_font()}'; "
        f"font-size: 12pt }}</style></head><body>{body}</body></html>"
    )
    return weasyprint.HTML(string=page).write_pdf()


def png_data_uri() -> str:
    image = Image.new("RGB", (600, 800), "white")
    draw = ImageDraw.Draw(image)
    for top in range(60, 760, 40):  # lines of "text" a scanner would see: pixels, not characters
        draw.rectangle((50, top, 550, top + 16), fill="black")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def test_pdf_with_a_text_layer_gives_the_chinese_back_with_wrapped_lines_joined():
    pdf = pdf_of(
        f"<h1>川渝政法工作合作协议</h1><p>{SIMPLIFIED}{SIMPLIFIED}</p>"
        "<p>1.建立联席会议制度。</p><p>2.加强信息共享。</p>"
        "<p style='page-break-before: always'>第二页：公安厅与重庆市公安局签署合作协议。</p>"
    )
    raw = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "四川省高级人民法院" in raw.replace("\n", "")  # the font has the glyphs: pypdf reads the Chinese back
    text = read(pdf, "协议.pdf")
    assert text.split("\n") == [
        "川渝政法工作合作协议",
        SIMPLIFIED + SIMPLIFIED,  # the paragraph PDF layout wrapped over several lines, joined again
        "1.建立联席会议制度。",
        "2.加强信息共享。",
        "第二页：公安厅与重庆市公安局签署合作协议。",
    ]


def test_pdf_is_recognised_by_its_magic_bytes_whatever_its_name():
    assert "重庆市高级人民法院" in read(pdf_of(f"<p>{SIMPLIFIED}</p>"), "download")


def test_scanned_pdf_without_text_layer_asks_for_ocr():
    pdf = pdf_of(f'<img src="{png_data_uri()}" style="width: 16cm">')
    assert all(not (page.extract_text() or "").strip() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    error = refused(pdf, "扫描件.pdf")
    assert error.code == "scanned_pdf"
    assert "OCR" in str(error)


def test_password_protected_pdf():
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(pdf_of(f"<p>{SIMPLIFIED}</p>")))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    error = refused(buffer.getvalue(), "加密.pdf")
    assert error.code == "encrypted"
    assert "password" in str(error)


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.7\nthis is not a PDF body at all", b"not a pdf at all"],
    ids=["garbage-after-header", "no-header"],
)
def test_damaged_pdf(data):
    error = refused(data, "文件.pdf")
    assert error.code == "damaged"
    assert "PDF" in str(error)


def test_truncated_pdf_is_damaged():
    pdf = pdf_of(f"<p>{SIMPLIFIED}</p>")
    for cut in (len(pdf) // 3, len(pdf) - 200):
        assert refused(pdf[:cut], "截断.pdf").code == "damaged"


# --------------------------------------------------------------------------- refusals


def test_empty_and_whitespace_only():
    for data in (b"", b"   \n\t\r\n", "\u3000\u3000\n".encode(), "\ufeff".encode("utf-16")):
        error = refused(data, "空.txt")
        assert error.code == "empty"
        assert "empty" in str(error)


def test_too_big_is_refused_before_parsing():
    huge = b"%PDF-1.7\n" + b"0" * MAX_BYTES  # would be a damaged PDF if it were parsed
    error = refused(huge, "大.pdf")
    assert error.code == "too_big"
    assert "5 MB" in str(error)
    assert read(("中" * 1000 + SIMPLIFIED).encode("utf-8"), "ok.txt")  # a normal size passes


def test_binary_data_is_refused():
    for data in (b"\x00\x01\x02\x03abc" * 20, os.urandom(4096), b"\xff\xfe\x00\xd8" + b"\x00" * 10):
        error = refused(data, "数据.txt")
        assert error.code in {"binary", "empty"}
    assert refused(bytes(range(1, 32)) * 50, "x.txt").code == "binary"
    assert refused(b"\x81\x30" * 100, "x.txt").code == "binary"  # not UTF-8, not GB18030, not Big5


@pytest.mark.parametrize(
    ("data", "name", "shown"),
    [
        (b"PK\x03\x04" + b"\x00" * 40, "表格.xlsx", ".xlsx"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "截图.txt", "PNG"),  # the content's type, not the name's
        (b"\xff\xd8\xff\xe0" + b"\x00" * 40, "照片.jpg", ".jpg"),
        ("{\\rtf1\\ansi 川渝}".encode(), "文件.rtf", ".rtf"),
        ("四川省高级人民法院".encode(), "文件.csv", ".csv"),
    ],
)
def test_unsupported_file_types(data, name, shown):
    error = refused(data, name)
    assert error.code == "unsupported"
    assert shown in str(error)


def test_zip_that_is_not_a_word_document_is_unsupported():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    assert refused(buffer.getvalue(), "表格.zip").code == "unsupported"
    assert "ZIP" in str(refused(buffer.getvalue(), "表格.txt"))
    assert refused(buffer.getvalue(), "表格.docx").code == "damaged"


def test_old_word_documents_are_refused_with_advice():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100
    for name in ("旧.doc", "加密.docx"):
        error = refused(ole, name)
        assert error.code == "unsupported"
        assert ".docx" in str(error)


def test_damaged_docx():
    whole = docx_bytes(docx.Document())
    for data in (b"PK\x03\x04 this is no zip", whole[: len(whole) // 2], "四川省".encode() * 30):
        error = refused(data, "损坏.docx")
        assert error.code == "damaged"
        assert "Word" in str(error)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<not-word-xml")
    assert refused(buffer.getvalue(), "损坏.docx").code == "damaged"


def test_non_chinese_text_is_refused():
    for text in (
        ENGLISH,
        ENGLISH + "四川省高级人民法院与重庆市高级人民法院",  # a few Chinese names in an English text
        "川渝合作" * 4,  # Chinese, but too little to analyse
        "四川と重慶の高等裁判所は知的財産保護に関する協定を締結しました。両者は合同セミナーを開催します。" * 2,
    ):
        error = refused(text.encode("utf-8"), "a.txt")
        assert error.code == "not_chinese"
        assert "Chinese" in str(error)
    # Chinese with English terms and figures is Chinese.
    mixed = SIMPLIFIED + " IP protection (intellectual property), 2020-04-23, No. 12345."
    assert read(mixed.encode("utf-8"), "a.txt") == mixed


# --------------------------------------------------------------------------- pasted text


def test_read_text_accepts_pasted_chinese_and_normalises_line_ends():
    assert read_text("标题\r\n" + TRADITIONAL + "\r\n") == "标题\n" + TRADITIONAL + "\n"


def test_kangxi_radicals_from_pdf_fonts_count_as_chinese():
    # Some PDF fonts map 人 to the Kangxi radical ⼈ (U+2F08); text.prepare folds it back (NFKC).
    text = SIMPLIFIED.replace("人", "\u2f08").replace("法", "\u2f08") * 2
    assert read_text(text) == text


def test_read_text_refusals():
    cases = [("", "empty"), (" \n\u3000 ", "empty"), ("中" * (MAX_BYTES // 3 + 1), "too_big"), (ENGLISH, "not_chinese")]
    for text, code in cases:
        with pytest.raises(IntakeError) as caught:
            read_text(text)
        assert caught.value.code == code


def test_intake_error_is_a_validation_error_with_a_readable_message():
    error = refused(b"", "a.txt")
    assert isinstance(error, ValidationError)
    assert str(error) == error.messages[0] == "The document is empty: there is no text to read."
