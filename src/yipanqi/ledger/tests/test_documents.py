"""The periodic bulletin as .docx and .pdf (ledger.documents) and its charts (ledger.charts): no database needed.

Chinese output is checked on the data (names, numbers, 文号, dates), which is Chinese whatever the catalogue holds;
the fixed texts are checked under English, where the msgids are the text.
"""

from __future__ import annotations

import io
import re
import shutil
import struct
import subprocess
import threading
import zipfile
import zlib
from datetime import date, timedelta

import pytest
from django.utils import translation
from docx import Document
from docx.oxml.ns import qn
from docx.shared import RGBColor

from yipanqi.ledger import charts, documents
from yipanqi.ledger.documents import (
    AgencyRow,
    BulletinContent,
    CountRow,
    ItemRow,
    SupervisionRow,
    TrendPoint,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
OVERDUE_ROWS = 40  # enough for the overdue table to run over a page


def make_content(**overrides) -> BulletinContent:
    owners = "主办四川省高级人民法院；协办重庆市高级人民法院、重庆市人民检察院"
    overdue = [
        ItemRow(
            number=f"一、{i + 1}",
            title=f"异地财产查控机制建设{i + 1}",
            agreement="《川渝法院执行协作框架协议》",
            owners=owners,
            due_on=date(2026, 9, 30) - timedelta(days=i),
            progress=40 + i % 50,
            light="red",
            light_label="红灯",
            days_overdue=31 + i,
        )
        for i in range(OVERDUE_ROWS)
    ]
    fields = dict(
        title="关于成渝地区执法司法协作台账推进情况的通报（2026年10月）",
        doc_number="成渝政法协〔2026〕3号",
        issuer="成渝地区政法协作联席会议办公室",
        issuer_header="成渝地区政法协作联席会议办公室",
        issued_on=date(2026, 11, 21),
        period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 31),
        scope="成渝地区双城经济圈",
        recipients="各成员单位：",
        cc="四川省委政法委，重庆市委政法委。",
        measures_total=120,
        closed=30,
        closing=5,
        open=85,
        overdue=OVERDUE_ROWS,
        avg_progress=57,
        reports_in_period=213,
        missing_reports=9,
        supervisions_issued=2,
        supervisions_replied=1,
        lights=[
            CountRow("红灯", OVERDUE_ROWS, "red"),
            CountRow("黄灯", 1, "yellow"),
            CountRow("蓝灯", 4, "blue"),
            CountRow("绿灯", 45, "green"),
            CountRow("已销号", 30, "done"),
        ],
        categories=[CountRow("完成类", 30, "done"), CountRow("启动类", 50, "launch"), CountRow("调研类", 40, "study")],
        agencies=[
            AgencyRow(1, "四川省高级人民法院", "四川省", 12, 5, 87, 0, 1, 0),
            AgencyRow(2, "重庆市高级人民法院", "重庆市", 10, 3, 64, 2, 0, 1),
            AgencyRow(3, "重庆市人民检察院", "重庆市", 8, 1, 31, 5, 2, 3),
        ],
        overdue_items=overdue,
        behind_items=[
            ItemRow(
                number="二、3",
                title="电子卷宗相互查阅",
                agreement="《成渝地区检察协作实施方案》",
                owners="主办重庆市人民检察院",
                due_on=date(2027, 3, 31),
                progress=12,
                light="yellow",
                light_label="黄灯",
                days_overdue=0,
            )
        ],
        supervisions=[
            SupervisionRow(
                number="一、1",
                title="异地财产查控机制建设1",
                agency="重庆市高级人民法院",
                issued_on=date(2026, 10, 10),
                reply_due_on=date(2026, 10, 17),
                status_label="已答复",
                reply="已召开专题会议研究推进，\n预计11月底前完成系统对接。",
                replied_on=date(2026, 10, 15),
            ),
            SupervisionRow(
                number="一、2",
                title="异地财产查控机制建设2",
                agency="重庆市人民检察院",
                issued_on=date(2026, 10, 20),
                reply_due_on=date(2026, 10, 27),
                status_label="待答复",
                reply="",
                replied_on=None,
            ),
        ],
        trend=[
            TrendPoint(date(2026, 10, 1) + timedelta(days=i), reports=5 + i, closed_total=20 + i, progress=50 + i)
            for i in range(31)
        ],
    )
    fields.update(overrides)
    return BulletinContent(**fields)


@pytest.fixture(scope="module")
def prepared_zh():
    with translation.override("zh-hans"):
        return documents.prepare(make_content())


@pytest.fixture(scope="module")
def docx_zh(prepared_zh):
    with translation.override("zh-hans"):
        return Document(io.BytesIO(documents.docx_from_prepared(prepared_zh)))


@pytest.fixture(scope="module")
def pdf_zh(prepared_zh):
    with translation.override("zh-hans"):
        return documents.pdf_from_prepared(prepared_zh)


@pytest.fixture(scope="module")
def docx_en():
    with translation.override("en"):
        return Document(io.BytesIO(documents.render_docx(make_content(), with_charts=False)))


def texts(document) -> list[str]:
    return [paragraph.text for paragraph in document.paragraphs]


def cell_texts(table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def pdftotext(pdf: bytes) -> str | None:
    """The PDF's text through poppler's pdftotext, or None where poppler-utils is not installed."""
    binary = shutil.which("pdftotext")
    if not binary:
        return None
    return subprocess.run(
        [binary, "-layout", "-", "-"], input=pdf, capture_output=True, check=True, timeout=60
    ).stdout.decode("utf-8")


# --------------------------------------------------------------------------- .docx


def test_docx_front_matter_and_signature(docx_zh):
    paragraphs = docx_zh.paragraphs
    header = paragraphs[0]
    assert header.text == "成渝地区政法协作联席会议办公室"
    assert header.style.name == "YQ Issuing authority"
    assert header.style.font.color.rgb == RGBColor.from_string(documents.RED)
    assert header.runs[0].font.size.pt >= 22
    assert paragraphs[1].text == "成渝政法协〔2026〕3号"
    assert paragraphs[1].style.element.find(qn("w:pPr")).find(qn("w:pBdr")) is not None  # the red line
    assert paragraphs[2].text == "关于成渝地区执法司法协作台账推进情况的通报（2026年10月）"
    assert paragraphs[3].text == "各成员单位："
    body = texts(docx_zh)
    assert "成渝地区双城经济圈" in paragraphs[4].text
    narrative = next(text for text in body if "120" in text and "57" in text)
    assert "2026年10月31日" in narrative  # 截至…, the period's end in Chinese
    signature = body.index("成渝地区政法协作联席会议办公室", 1)
    assert body[signature + 1] == "2026年11月21日"  # Arabic numerals (GB/T 9704-2012)
    properties = docx_zh.core_properties
    assert properties.title.startswith("关于成渝地区")
    assert properties.author == "成渝地区政法协作联席会议办公室"


def test_docx_tables_hold_the_rows(docx_zh):
    ranking, overdue, behind, supervision, colophon = docx_zh.tables
    assert ["1", "四川省高级人民法院", "四川省", "12", "5", "87%", "0", "1", "0"] in cell_texts(ranking)
    rows = cell_texts(overdue)
    assert len(rows) == 1 + OVERDUE_ROWS
    first = rows[1]
    assert first[0].startswith("一、1") and "异地财产查控机制建设1" in first[0]
    assert "《川渝法院执行协作框架协议》" in first[0]
    assert first[1] == "主办四川省高级人民法院；协办重庆市高级人民法院、重庆市人民检察院"
    assert first[2:] == ["2026-09-30", "40%", "31"]
    assert cell_texts(behind)[1][1:] == ["主办重庆市人民检察院", "2027-03-31", "12%", "黄灯"]
    replied, pending = cell_texts(supervision)[1:]
    assert replied[1] == "重庆市高级人民法院"
    assert "已召开专题会议研究推进，" in replied[5] and "预计11月底前完成系统对接。" in replied[5]
    assert "2026-10-15" in replied[5]
    assert pending[4:] == ["待答复", "—"]
    cc, printed = cell_texts(colophon)
    assert cc[0].endswith("四川省委政法委，重庆市委政法委。")  # 抄送：…
    assert printed[0] == "成渝地区政法协作联席会议办公室"
    assert "2026年11月21日" in printed[1]  # …印发


def test_docx_header_rows_repeat_and_are_shaded(docx_zh):
    for table in docx_zh.tables[:4]:
        header, first = table.rows[0]._tr, table.rows[1]._tr
        assert header.trPr.find(qn("w:tblHeader")) is not None
        assert first.trPr is None or first.trPr.find(qn("w:tblHeader")) is None
        fill = header.tc_lst[0].tcPr.find(qn("w:shd")).get(qn("w:fill"))
        assert fill == documents.HEADER_FILL
        assert table._tbl.tblPr.find(qn("w:tblLayout")).get(qn("w:type")) == "fixed"


def test_docx_lights_are_coloured(docx_zh):
    overdue = docx_zh.tables[1]
    days = overdue.rows[1].cells[-1]
    assert days.text == "31"
    assert days._tc.tcPr.find(qn("w:shd")).get(qn("w:fill")) == documents.TONES["red"][1]
    assert days.paragraphs[0].runs[0].font.color.rgb == RGBColor.from_string(documents.TONES["red"][0])
    light = docx_zh.tables[2].rows[1].cells[-1]
    assert light._tc.tcPr.find(qn("w:shd")).get(qn("w:fill")) == documents.TONES["yellow"][1]


def test_docx_fonts_page_and_page_numbers(docx_zh):
    def east_asian(style_name):
        return docx_zh.styles[style_name].element.rPr.rFonts.get(qn("w:eastAsia"))

    assert east_asian("Normal") == "Noto Serif CJK SC"
    assert east_asian("YQ Title") == "Noto Serif CJK SC"
    assert east_asian("Heading 1") == "Noto Sans CJK SC"
    assert east_asian("YQ Table header") == "Noto Sans CJK SC"
    assert docx_zh.styles["Normal"].font.size.pt == 16
    section = docx_zh.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert round(section.left_margin.mm) == 28 and round(section.top_margin.mm) == 37
    footer = section.footer.paragraphs[0]._p.xml
    assert "PAGE" in footer and "—" in footer


def test_docx_package_embeds_the_charts_and_declares_the_fonts(docx_zh, prepared_zh):
    assert len(docx_zh.inline_shapes) == 3
    with zipfile.ZipFile(io.BytesIO(documents.docx_from_prepared(prepared_zh))) as archive:
        media = [name for name in archive.namelist() if name.startswith("word/media/")]
        assert not [name for name in archive.namelist() if "thumbnail" in name]  # python-docx's template's own
        font_table = archive.read("word/fontTable.xml").decode("utf-8")
    assert len(media) == 3
    # Word without Noto CJK substitutes 宋体 for the serif and 黑体 for the sans.
    assert '<w:font w:name="Noto Serif CJK SC"><w:altName w:val="宋体"/>' in font_table
    assert '<w:font w:name="Noto Sans CJK SC"><w:altName w:val="黑体"/>' in font_table


def test_docx_fixed_text_is_translated_under_the_active_language(docx_en):
    body = texts(docx_en)
    for heading in (
        "I. Overall situation",
        "II. Progress by agency",
        "III. Overdue items (red light)",
        "IV. Items behind plan (yellow light)",
        "V. Supervision",
        "VI. Requirements for the next stage",
    ):
        assert heading in body
    assert "Nov. 21, 2026" in body
    assert any(
        text.startswith("As of Oct. 31, 2026, the ledger of 成渝地区双城经济圈 holds 120 measures") for text in body
    )
    assert len(docx_en.inline_shapes) == 0  # with_charts=False
    assert cell_texts(docx_en.tables[1])[0][-1] == "Days overdue"


def test_empty_lists_say_so_and_still_render():
    content = make_content(agencies=[], overdue_items=[], behind_items=[], supervisions=[], trend=[], cc="")
    content.overdue = content.supervisions_issued = content.supervisions_replied = 0
    with translation.override("en"):
        document = Document(io.BytesIO(documents.render_docx(content, with_charts=False)))
        pdf = documents.render_pdf(content, with_charts=False)
    body = texts(document)
    assert "As of Oct. 31, 2026, no measure is past its deadline." in body
    assert "As of Oct. 31, 2026, no measure is behind plan." in body
    assert "No supervision notice was issued in the period." in body  # section 五
    assert any(
        text.endswith("No supervision notice was issued in the period.") and text.startswith("From") for text in body
    )
    assert len(document.tables) == 1  # the colophon only, without a 抄送 row
    assert len(document.tables[0].rows) == 1
    assert pdf.startswith(b"%PDF-")


def test_text_is_escaped_and_control_characters_dropped():
    content = make_content(title="关于<台账>&“通报”\x0b的通报", overdue_items=[], behind_items=[])
    with translation.override("zh-hans"):
        document = Document(io.BytesIO(documents.render_docx(content, with_charts=False)))
        pdf = documents.render_pdf(content, with_charts=False)
    assert document.paragraphs[2].text == "关于<台账>&“通报”的通报"
    assert pdf.startswith(b"%PDF-")
    text = pdftotext(pdf)
    if text is not None:
        assert "关于<台账>&“通报”的通报" in text


# --------------------------------------------------------------------------- PDF


def pdf_objects(pdf: bytes) -> bytes:
    """The PDF with its Flate-compressed streams (object streams hold the font dictionaries) inflated."""
    parts = [pdf]
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.DOTALL):
        try:
            parts.append(zlib.decompress(stream))
        except zlib.error:
            continue
    return b"\n".join(parts)


def test_pdf_is_a_pdf_with_the_cjk_fonts_embedded(pdf_zh):
    assert pdf_zh.startswith(b"%PDF-")
    assert pdf_zh.rstrip().endswith(b"%%EOF")
    objects = pdf_objects(pdf_zh)
    # Embedded subsets: /BaseFont /ABCDEF+Noto-Serif-CJK-SC, with a /FontFile3 each.
    fonts = set(re.findall(rb"/BaseFont\s*/[A-Z]{6}\+([A-Za-z-]+)", objects))
    assert {b"Noto-Serif-CJK-SC", b"Noto-Serif-CJK-SC-Bold", b"Noto-Sans-CJK-SC", b"Noto-Sans-CJK-SC-Bold"} <= fonts
    assert b"/FontFile" in objects


def test_pdf_text_when_poppler_is_installed(pdf_zh, prepared_zh):
    text = pdftotext(pdf_zh)
    if text is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    for expected in (
        "成渝地区政法协作联席会议办公室",
        "成渝政法协〔2026〕3号",
        "关于成渝地区执法司法协作台账",
        "四川省高级人民法院",
        "主办四川省高级人民法院",
        "已召开专题会议",
        "2026年11月21日",
    ):
        assert expected in text, expected
    assert re.search(r"—\s*1\s*—", text) and re.search(r"—\s*2\s*—", text)  # page numbers
    # The overdue table (due dates in August and September) runs over pages, its header row on every one of them.
    overdue_pages = [page for page in text.split("\f") if re.search(r"2026-0[89]-\d\d", page)]
    assert len(overdue_pages) >= 2
    header = prepared_zh.sections[2].table.columns[-1].label
    assert all(header in page for page in overdue_pages)


def test_pdf_fonts_missing_fail_clearly(monkeypatch):
    charts.cjk_font.cache_clear()
    monkeypatch.setattr(charts, "DEBIAN_FONT_FILES", {})
    monkeypatch.setattr(charts, "_fontconfig_file", lambda family: None)
    try:
        with pytest.raises(charts.FontMissing, match="fonts-noto-cjk"):
            charts.cjk_font("Noto Serif CJK XX")
    finally:
        charts.cjk_font.cache_clear()


# --------------------------------------------------------------------------- charts


def png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG_MAGIC)
    return struct.unpack(">II", png[16:24])


def test_charts_are_pngs_of_a_sensible_size():
    content = make_content()
    with translation.override("zh-hans"):
        images = [
            charts.lights_chart(content.lights, content.categories),
            charts.lights_chart(content.lights),
            charts.agency_progress_chart(content.agencies),
            charts.trend_chart(content.trend),
        ]
    for png in images:
        width, height = png_size(png)
        assert width == round(charts.WIDTH_IN * charts.DPI)
        assert 300 < height < 2000
        assert 5_000 < len(png) < 2_000_000


def test_charts_without_data_still_draw():
    with translation.override("en"):
        for png in (
            charts.lights_chart([CountRow("红灯", 0, "red")]),
            charts.agency_progress_chart([]),
            charts.trend_chart([]),
        ):
            png_size(png)


def test_agency_chart_shows_the_first_fifteen():
    agencies = [AgencyRow(i, f"单位{i}", "四川省", 3, 1, 100 - i, 0, 0, 0) for i in range(1, 41)]
    with translation.override("en"):
        short = png_size(charts.agency_progress_chart(agencies[:5]))
        long = png_size(charts.agency_progress_chart(agencies))
        same = png_size(charts.agency_progress_chart(agencies[:15]))
    assert short[1] < long[1] == same[1]


def test_charts_can_be_drawn_from_several_threads():
    content = make_content()
    with translation.override("zh-hans"):
        expected = (charts.trend_chart(content.trend), charts.agency_progress_chart(content.agencies))
    results, errors = [], []

    def draw():
        try:
            with translation.override("zh-hans"):
                results.append((charts.trend_chart(content.trend), charts.agency_progress_chart(content.agencies)))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert results == [expected] * 4  # the same charts, byte for byte
