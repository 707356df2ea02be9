"""The minutes as .docx and .pdf (meetings.documents) and their downloads: the text they carry, the draft and final
labels, the approval block and digest, and who may download them.

Expected fixed texts are looked up with ``gettext`` under the language the document was rendered in, so the tests hold
whether or not the catalogue carries this module's strings yet.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
from urllib.parse import quote

import docx
import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from yipanqi.ledger.documents import long_date
from yipanqi.meetings import documents, minutes, services
from yipanqi.meetings.models import MinutesApproval

from .conftest import run_to_held

pytestmark = pytest.mark.django_db

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
EDITED = """川渝高级法院执行协作联席会议第一次会议纪要

2026年11月，川渝两地高级人民法院在成都召开执行协作联席会议。

一、执行协作
　　（一）建立执行联动机制
1. 双方每季度会商一次执行协作中的难点问题。
2. 互派联络员。
二、财产查控
会议同意下次会议由重庆市高级人民法院承办。
"""


def zh(function, *args):
    with translation.override("zh-hans"):
        return function(*args)


def held_with_decision(meeting, owner, partner):
    topics = run_to_held(meeting, owner, partner)
    with transaction.atomic():
        services.record_decision(
            acting_user=owner, topic=topics[0], title="建立执行联动机制", text="双方每季度会商一次"
        )
    return topics


def edited(meeting, owner):
    with transaction.atomic():
        return services.edit_minutes(acting_user=owner, meeting=meeting, text=EDITED)


def approved_by_all(meeting, owner, partner):
    edited(meeting, owner)
    with transaction.atomic():
        services.submit_minutes(acting_user=owner, meeting=meeting)
    with transaction.atomic():
        services.approve_minutes(acting_user=owner, meeting=meeting)
    with transaction.atomic():
        services.approve_minutes(acting_user=partner, meeting=meeting)
    meeting.refresh_from_db()
    return meeting


def open_docx(data: bytes):
    return docx.Document(io.BytesIO(data))


def styled(document) -> list[tuple[str, str]]:
    return [(p.style.name, p.text) for p in document.paragraphs]


def header_xml(document) -> str:
    return document.sections[0].header._element.xml


def table_rows(document) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in document.tables[0].rows]


def pdftotext(pdf: bytes) -> str | None:
    """The PDF's text through poppler's pdftotext, or None where poppler-utils is not installed."""
    binary = shutil.which("pdftotext")
    if not binary:
        return None
    return subprocess.run(
        [binary, "-layout", "-", "-"], input=pdf, capture_output=True, check=True, timeout=60
    ).stdout.decode("utf-8")


# --------------------------------------------------------------------------- the text's structure


def test_split_text_title_headings_and_paragraphs():
    title, blocks = documents.split_text(EDITED.replace("\n", "\r\n") + "\x0b\n\n")
    assert title == "川渝高级法院执行协作联席会议第一次会议纪要"
    assert [(b.kind, b.text) for b in blocks] == [
        ("paragraph", "2026年11月，川渝两地高级人民法院在成都召开执行协作联席会议。"),
        ("heading", "一、执行协作"),
        ("subheading", "（一）建立执行联动机制"),  # the full-width indent is dropped
        ("paragraph", "1. 双方每季度会商一次执行协作中的难点问题。"),
        ("paragraph", "2. 互派联络员。"),
        ("heading", "二、财产查控"),
        ("paragraph", "会议同意下次会议由重庆市高级人民法院承办。"),
    ]
    assert documents.split_text("  \n\n") == ("", [])
    # "十一、" is a heading; "一是" and "1、" are not.
    kinds = [b.kind for b in documents.split_text("标题\n十一、其他\n一是加强协作\n1、落实")[1]]
    assert kinds == ["heading", "paragraph", "paragraph"]


# --------------------------------------------------------------------------- .docx


def test_docx_of_minutes_never_drafted_is_the_generated_draft(meeting, owner, partner, series):
    held_with_decision(meeting, owner, partner)
    meeting.refresh_from_db()
    assert meeting.minutes_text == ""
    draft = zh(minutes.draft_text, meeting)
    document = open_docx(zh(documents.render_docx, meeting))
    paragraphs = styled(document)

    draft_lines = [line for line in draft.splitlines() if line.strip()]
    assert paragraphs[0] == ("YQ Title", draft_lines[0])
    held_on = timezone.localdate(meeting.starts_at)
    style, subtitle = paragraphs[1]
    assert style == "YQ Minutes subtitle"
    assert series.title in subtitle and "1" in subtitle and zh(long_date, held_on) in subtitle
    # 一、 headings in 黑体 (Heading 1), the numbered decisions as body paragraphs, every line of the draft kept.
    assert ("Heading 1", "一、执行协作") in paragraphs and ("Heading 1", "二、财产查控") in paragraphs
    decision = next(text for _style, text in paragraphs if text.startswith("1. 建立执行联动机制"))
    assert ("Normal", decision) in paragraphs
    texts = [text for _style, text in paragraphs]
    assert all(line in texts for line in draft_lines[1:])

    # A draft: "草稿" at the top of every page, in red, and the watermark; every member still to approve.
    label = zh(gettext, "Draft")
    assert label == "草稿"
    assert document.sections[0].header.paragraphs[0].text == label
    xml = header_xml(document)
    assert f'string="{label}"' in xml and "_x0000_t136" in xml
    pending = zh(gettext, "Awaiting approval")
    assert table_rows(document)[1:] == [["四川省高级人民法院", pending], ["重庆市高级人民法院", pending]]
    assert not any(text.startswith("SHA-256") for text in texts)
    assert document.core_properties.title == draft_lines[0]


def test_docx_follows_the_edited_text(meeting, owner, partner):
    held_with_decision(meeting, owner, partner)
    edited(meeting, owner)
    meeting.refresh_from_db()
    paragraphs = styled(open_docx(zh(documents.render_docx, meeting)))
    assert paragraphs[0] == ("YQ Title", "川渝高级法院执行协作联席会议第一次会议纪要")
    body = paragraphs[2:]
    assert body[:7] == [
        ("Normal", "2026年11月，川渝两地高级人民法院在成都召开执行协作联席会议。"),
        ("Heading 1", "一、执行协作"),
        ("YQ Heading 2", "（一）建立执行联动机制"),
        ("Normal", "1. 双方每季度会商一次执行协作中的难点问题。"),
        ("Normal", "2. 互派联络员。"),
        ("Heading 1", "二、财产查控"),
        ("Normal", "会议同意下次会议由重庆市高级人民法院承办。"),
    ]
    assert body[7] == ("YQ Approvals heading", zh(gettext, "Approval by the member agencies"))
    # The generated draft is not used once the host has written the minutes.
    assert not any(text.startswith("1. 建立执行联动机制") for _style, text in paragraphs)


def test_partly_approved_minutes_are_still_a_draft(meeting, owner, partner):
    held_with_decision(meeting, owner, partner)
    edited(meeting, owner)
    with transaction.atomic():
        services.submit_minutes(acting_user=owner, meeting=meeting)
    with transaction.atomic():
        approval = services.approve_minutes(acting_user=owner, meeting=meeting)
    meeting.refresh_from_db()
    document = open_docx(zh(documents.render_docx, meeting))
    assert document.sections[0].header.paragraphs[0].text == "草稿"
    assert table_rows(document)[1:] == [
        ["四川省高级人民法院", zh(long_date, timezone.localdate(approval.approved_at))],
        ["重庆市高级人民法院", zh(gettext, "Awaiting approval")],
    ]


def test_final_minutes_are_labelled_final_with_the_digest_of_their_text(meeting, owner, partner):
    held_with_decision(meeting, owner, partner)
    meeting = approved_by_all(meeting, owner, partner)
    document = open_docx(zh(documents.render_docx, meeting))
    label = zh(gettext, "Final version")
    assert label != zh(gettext, "Draft")
    header = document.sections[0].header.paragraphs[0]
    assert header.text == label
    assert "_x0000_t136" not in header_xml(document)  # no watermark on final minutes
    approved_on = zh(long_date, timezone.localdate(meeting.minutes_approved_at))
    assert table_rows(document)[1:] == [["四川省高级人民法院", approved_on], ["重庆市高级人民法院", approved_on]]
    expected = hashlib.sha256(meeting.minutes_text.encode("utf-8")).hexdigest()
    assert set(MinutesApproval.objects.filter(meeting=meeting).values_list("text_digest", flat=True)) == {expected}
    texts = [p.text for p in document.paragraphs]
    assert texts[-1] == f"SHA-256: {expected}"
    assert approved_on in texts[-2]
    assert document.core_properties.keywords == label


# --------------------------------------------------------------------------- PDF


def test_pdf_draft_and_final(meeting, owner, partner):
    held_with_decision(meeting, owner, partner)
    edited(meeting, owner)
    meeting.refresh_from_db()
    prepared = zh(documents.prepare, meeting)
    pages = documents.layout_pdf(prepared).pages
    assert len(pages) >= 1
    pdf = zh(documents.render_pdf, meeting)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF") and len(pdf) > 10_000
    text = pdftotext(pdf)
    if text is not None:
        flat = text.replace(" ", "").replace("\n", "")
        for expected in ("川渝高级法院执行协作联席会议第一次会议纪要", "一、执行协作", "四川省高级人民法院", "草稿"):
            assert expected in flat, expected
        assert "SHA-256" not in text
        assert "—1—" in flat  # page numbers, from the bulletin's stylesheet

    meeting = approved_by_all(meeting, owner, partner)
    pdf = zh(documents.render_pdf, meeting)
    assert pdf.startswith(b"%PDF-")
    text = pdftotext(pdf)
    if text is not None:
        flat = text.replace(" ", "").replace("\n", "")
        assert "草稿" not in flat
        assert zh(gettext, "Final version").replace(" ", "") in flat
        assert hashlib.sha256(meeting.minutes_text.encode("utf-8")).hexdigest() in flat


# --------------------------------------------------------------------------- downloads


def test_minutes_downloads_for_members_only(meeting, owner, partner, coordinator, outsider, web):
    held_with_decision(meeting, owner, partner)
    docx_url = reverse("meetings:minutes-download", args=[meeting.pk, "docx"])
    pdf_url = reverse("meetings:minutes-download", args=[meeting.pk, "pdf"])
    with translation.override("zh-hans"):
        name = gettext("Minutes of %(meeting)s") % {"meeting": meeting.display_title}

    for user in (owner, partner, coordinator):
        response = web(user).get(docx_url, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert response.status_code == 200, user
        assert response["Content-Type"] == DOCX_TYPE
        disposition = response["Content-Disposition"]
        assert disposition.startswith("attachment;") and f"filename*=utf-8''{quote(name + '.docx')}" in disposition
        assert response["Cache-Control"] == "private, no-cache"
        assert open_docx(response.content).paragraphs[0].text

    response = web(partner).get(pdf_url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-") and ".pdf" in response["Content-Disposition"]

    # Outsiders learn nothing; an unknown format or meeting is not found; anonymous people sign in first.
    assert web(outsider).get(docx_url).status_code == 404
    assert web(outsider).get(pdf_url).status_code == 404
    assert web(owner).get(f"/meetings/{meeting.pk}/minutes.txt").status_code == 404
    assert web(owner).get(reverse("meetings:minutes-download", args=[meeting.pk + 10_000, "docx"])).status_code == 404
    anonymous = web(None).get(docx_url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))
    assert web(owner).post(docx_url).status_code == 405
