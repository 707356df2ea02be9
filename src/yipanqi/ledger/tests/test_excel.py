"""Ledger Excel in and out: round trip, template, malformed files (nothing written), names, permissions, queries."""

from __future__ import annotations

import datetime
import io
import os
import zipfile

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook, load_workbook

from yipanqi.core.models import AuditEvent
from yipanqi.directory.models import Agency
from yipanqi.directory.services import issue_api_key
from yipanqi.ledger import excel, services
from yipanqi.ledger.models import Agreement, Measure, MeasureOwner, OwnerRole

pytestmark = pytest.mark.django_db

HEADERS = [c.header for c in excel.TEMPLATE_COLUMNS]
XLSX = excel.XLSX_CONTENT_TYPE


# --------------------------------------------------------------------------- helpers


def _xlsx(rows, headers=HEADERS) -> bytes:
    """A workbook whose first sheet has ``headers`` and ``rows`` (lists in the order of the headers)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _row(number, parent="", title="标题", *, text="", category="", lead="", co="", start=None, due=None, outcome=""):
    return [number, parent, title, text, category, lead, co, start, due, outcome]


def _counts():
    return Measure.objects.count(), MeasureOwner.objects.count(), AuditEvent.objects.count()


def _upload(client, agreement, content: bytes, *, dry_run=False, name="台账.xlsx"):
    url = f"/api/v1/agreements/{agreement.pk}/import/" + ("?dry_run=1" if dry_run else "")
    upload = io.BytesIO(content)
    upload.name = name
    return client.post(url, {"file": upload}, format="multipart")


def _tree_of(agreement):
    """Everything the import controls, in tree order: compared before and after a round trip."""
    owners = {}
    for o in MeasureOwner.objects.filter(measure__agreement=agreement).select_related("agency").order_by("id"):
        lead, co = owners.get(o.measure_id, (None, []))
        if o.role == OwnerRole.LEAD:
            lead = o.agency.name
        else:
            co.append(o.agency.name)
        owners[o.measure_id] = (lead, co)
    result = []
    for m in Measure.objects.filter(agreement=agreement).select_related("parent").order_by("path"):
        lead, co = owners.get(m.pk, (None, []))
        result.append(
            (
                m.number,
                m.parent.number if m.parent else None,
                m.depth,
                m.position,
                m.is_leaf,
                m.title,
                m.text,
                m.category,
                m.start_on,
                m.due_on,
                m.expected_outcome,
                lead,
                sorted(co),
            )
        )
    return result


def _who(request, role):
    return None if role == "anonymous" else request.getfixturevalue(role)


@pytest.fixture
def empty_agreement(coordinator, chengyu, courts):
    with transaction.atomic():
        return services.create_agreement(
            acting_user=coordinator,
            title="《川渝法院执行协作框架协议》（副本）",
            circle=chengyu,
            signatories=courts,
            kind="framework",
        )


@pytest.fixture
def deep_tree(tree, coordinator, courts):
    """The ``tree`` fixture plus a third level under 一、2 and a second area with every column filled in."""
    chongqing = courts[1]
    agreement = tree["leaf"].agreement
    justice_sc = Agency.objects.get(name="四川省司法厅")
    justice_cq = Agency.objects.get(name="重庆市司法局")
    with transaction.atomic():
        sub = services.add_measure(
            acting_user=coordinator,
            agreement=agreement,
            parent=tree["other"],
            number="一、2、(1)",
            title="移送材料清单",
            text="统一委托执行函格式。\n第二行。",
            category="launch",
            start_on=datetime.date(2026, 4, 1),
            due_on=datetime.date(2027, 3, 31),
            expected_outcome="材料一次齐全",
        )
        services.add_measure(
            acting_user=coordinator,
            agreement=agreement,
            parent=tree["other"],
            number="一、2、(2)",
            title="=1+1 不是公式",
        )
        services.assign_owner(acting_user=coordinator, measure=sub, agency=justice_sc, role=OwnerRole.LEAD)
        services.assign_owner(acting_user=coordinator, measure=sub, agency=chongqing)
        services.assign_owner(acting_user=coordinator, measure=sub, agency=justice_cq)
        area = services.add_measure(
            acting_user=coordinator, agreement=agreement, number="二", title="调研", category="study"
        )
        services.add_measure(
            acting_user=coordinator,
            agreement=agreement,
            parent=area,
            number="二、1",
            title="律师异地阅卷",
            category="done",
            due_on=datetime.date(2026, 6, 30),
        )
    return agreement


# --------------------------------------------------------------------------- round trip


def test_round_trip_through_the_api(api, coordinator, deep_tree, empty_agreement):
    client = api(coordinator)
    exported = client.get(f"/api/v1/agreements/{deep_tree.pk}/export.xlsx")
    assert exported.status_code == 200
    assert exported["Content-Type"] == XLSX
    assert "attachment" in exported["Content-Disposition"]
    before = _tree_of(deep_tree)
    assert len(before) == 7 and max(row[2] for row in before) == 2  # three levels

    preview = _upload(client, empty_agreement, exported.content, dry_run=True)
    assert preview.status_code == 200, preview.json()
    assert preview.json()["valid"] is True and preview.json()["rows"] == 7
    assert Measure.objects.filter(agreement=empty_agreement).count() == 0  # a dry run writes nothing

    response = _upload(client, empty_agreement, exported.content)
    assert response.status_code == 201, response.json()
    assert response.json()["created"] == 7
    assert _tree_of(empty_agreement) == before


def test_export_shows_hierarchy_lights_and_metadata(deep_tree):
    content = excel.export_workbook(deep_tree, today=datetime.date(2027, 1, 15))
    workbook = load_workbook(io.BytesIO(content))
    assert workbook.sheetnames == [excel.DATA_SHEET, excel.EXPORT_INFO_SHEET]
    sheet = workbook[excel.DATA_SHEET]
    header = [c.value for c in sheet[1]]
    assert header == [*HEADERS, "进度%", "状态", "灯色"]
    assert sheet.freeze_panes == "A2"
    rows = {r[0].value: r for r in sheet.iter_rows(min_row=2)}
    assert list(rows) == ["一", "一、1", "一、2", "一、2、(1)", "一、2、(2)", "二", "二、1"]
    assert sheet.row_dimensions[rows["一、2、(1)"][0].row].outline_level == 2
    assert rows["一、2、(1)"][2].alignment.indent == 2
    assert rows["一、1"][5].value == "四川省高级人民法院" and rows["一、1"][6].value == "重庆市高级人民法院"
    assert rows["一、2、(1)"][6].value == "重庆市高级人民法院、重庆市司法局"
    assert rows["一、1"][8].value.date() == datetime.date(2026, 12, 31)
    assert rows["一、1"][12].fill.fgColor.rgb.endswith(excel.LIGHT_COLOURS["red"])  # overdue on 2027-01-15
    formula_title = rows["一、2、(2)"][2]
    assert formula_title.value == "=1+1 不是公式" and formula_title.data_type == "s"
    info = {r[0].value: r[1].value for r in workbook[excel.EXPORT_INFO_SHEET].iter_rows() if r[0].value}
    assert deep_tree.title in info.values()
    assert "Asia/Shanghai" in " ".join(str(v) for v in info.values())


def test_filtered_export_keeps_the_ancestors(api, owner, deep_tree):
    response = api(owner).get(f"/api/v1/agreements/{deep_tree.pk}/export.xlsx?category=launch")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == ["一", "一、2", "一、2、(1)"]
    red = excel.export_workbook(deep_tree, today=datetime.date(2027, 1, 15), lights=["red"])
    numbers = [r[0] for r in load_workbook(io.BytesIO(red)).worksheets[0].iter_rows(min_row=2, values_only=True)]
    assert numbers == ["一", "一、1", "二", "二、1"]
    assert api(owner).get(f"/api/v1/agreements/{deep_tree.pk}/export.xlsx?light=purple").status_code == 400


def test_export_runs_a_constant_number_of_queries(coordinator, agreement, courts):
    sichuan, chongqing = courts

    def grow(count):
        with transaction.atomic():
            area = Measure.objects.filter(agreement=agreement, number="一").first() or services.add_measure(
                acting_user=coordinator, agreement=agreement, number="一", title="方面"
            )
            have = Measure.objects.filter(agreement=agreement, parent=area).count()
            for i in range(have, count):
                leaf = services.add_measure(
                    acting_user=coordinator,
                    agreement=agreement,
                    parent=area,
                    number=f"一、{i + 1}",
                    title=f"举措{i + 1}",
                    start_on=datetime.date(2026, 1, 1),
                    due_on=datetime.date(2026, 12, 31),
                )
                services.assign_owner(acting_user=coordinator, measure=leaf, agency=sichuan, role=OwnerRole.LEAD)
                services.assign_owner(acting_user=coordinator, measure=leaf, agency=chongqing)

    def queries():
        excel.export_workbook(agreement)  # warm the working-day calendar and version caches
        with CaptureQueriesContext(connection) as captured:
            excel.export_workbook(agreement)
        return len(captured)

    with override_settings(DATA_VERSION_TTL_SECONDS=3600):
        grow(10)
        small = queries()
        grow(60)
        large = queries()
    assert Measure.objects.filter(agreement=agreement).count() == 61
    assert small == large <= 3


# --------------------------------------------------------------------------- the template


def test_template_downloads_and_its_example_imports(api, coordinator, empty_agreement):
    client = api(coordinator)
    response = client.get("/api/v1/ledger/excel-template/")
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == [excel.DATA_SHEET, excel.EXAMPLE_SHEET, excel.HELP_SHEET]
    data = workbook[excel.DATA_SHEET]
    assert [c.value for c in data[1]] == HEADERS
    assert data.freeze_panes == "A2"
    assert any("完成类" in (v.formula1 or "") for v in data.data_validations.dataValidation)
    help_rows = [r[0] for r in workbook[excel.HELP_SHEET].iter_rows(min_row=2, values_only=True) if r[0]]
    assert help_rows == HEADERS  # every column explained

    before = _counts()
    empty = _upload(client, empty_agreement, response.content)
    assert empty.status_code == 400
    assert [e["code"] for e in empty.json()["error"]["errors"]] == ["no_rows"]
    assert _counts() == before

    workbook.move_sheet(excel.EXAMPLE_SHEET, offset=-1)  # the example becomes the first sheet
    buffer = io.BytesIO()
    workbook.save(buffer)
    preview = _upload(client, empty_agreement, buffer.getvalue(), dry_run=True)
    assert preview.status_code == 200, preview.json()
    assert [m["level"] for m in preview.json()["measures"]] == [0, 1, 1, 0, 1, 2]
    created = _upload(client, empty_agreement, buffer.getvalue())
    assert created.status_code == 201, created.json()
    assert created.json()["created"] == len(excel.EXAMPLE_ROWS)
    sub = Measure.objects.get(agreement=empty_agreement, number="二、1、(1)")
    assert sub.depth == 2 and sub.category == "study" and sub.due_on == datetime.date(2027, 9, 30)
    assert {(o.agency.name, o.role) for o in sub.owners.select_related("agency")} == {
        ("四川省司法厅", "lead"),
        ("重庆市司法局", "co"),
        ("四川省高级人民法院", "co"),
    }
    assert Measure.objects.get(agreement=empty_agreement, number="一、2").start_on == datetime.date(2027, 3, 1)


# --------------------------------------------------------------------------- malformed files


def _codes(response):
    return [(e["row"], e["column"], e["code"]) for e in response.json()["error"]["errors"]]


MALFORMED = {
    "wrong_template": (
        _xlsx([_row("一")], headers=[*HEADERS[:8], "截止日期", HEADERS[9]]),
        [(1, None, "wrong_template")],
    ),
    "not_xlsx": (b"\xe7\xbc\x96\xe5\x8f\xb7,title\n1,x\n", [(0, None, "not_xlsx")]),
    "old_xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), [(0, None, "not_xlsx")]),
    "corrupt_zip": (b"PK\x03\x04" + os.urandom(2000), [(0, None, "corrupt_file")]),
    "unknown_agency": (
        _xlsx([_row("一", lead="四川省高级人民法院", co="重庆市高级法院")]),
        [(2, "协办单位", "unknown_agency")],
    ),
    "bad_dates": (
        _xlsx(
            [
                _row("一", start="2026-02-30"),
                _row("二", due="下个月底"),
                _row("三", start="2026-05-01", due="2026-04-01"),
            ]
        ),
        [(2, "开始日期", "bad_date"), (3, "完成时限", "bad_date"), (4, "完成时限", "deadline_before_start")],
    ),
    "cycle": (
        _xlsx([_row("一"), _row("甲", "乙"), _row("乙", "丙"), _row("丙", "甲"), _row("丁", "丁"), _row("戊", "甲")]),
        [(3, "上级编号", "cycle"), (4, "上级编号", "cycle"), (5, "上级编号", "cycle"), (6, "上级编号", "cycle")],
    ),
    "duplicate_number": (
        _xlsx([_row("一"), _row("一、1", "一"), _row("一、1", "一")]),
        [(4, "编号", "duplicate_number")],
    ),
    "owner_on_parent": (
        _xlsx([_row("一", lead="四川省高级人民法院"), _row("一、1", "一", lead="重庆市高级人民法院")]),
        [(2, "主办单位", "owner_on_parent")],
    ),
    "unknown_parent_and_category_and_missing": (
        _xlsx(
            [
                _row("一", "九"),
                _row("二", category="重要类"),
                _row("", title="", text="只有内容"),
                [None] * 10,
                _row("三"),
            ]
        ),
        [
            (2, "上级编号", "unknown_parent"),
            (3, "类别", "unknown_category"),
            (4, "编号", "required"),
            (4, "标题", "required"),
        ],
    ),
    "duplicate_owner": (
        _xlsx([_row("一", lead="四川省高级人民法院", co="四川省高级人民法院、重庆市高级人民法院")]),
        [(2, "协办单位", "duplicate_owner")],
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_files_get_row_errors_and_write_nothing(api, coordinator, agreement, case):
    content, expected = MALFORMED[case]
    before = _counts()
    for dry_run in (True, False):
        response = _upload(api(coordinator), agreement, content, dry_run=dry_run)
        assert response.status_code == 400, response.content
        body = response.json()["error"]
        assert body["code"] == "invalid_workbook" and body["request_id"]
        assert _codes(response) == expected
        assert all(e["message"] for e in body["errors"])
    assert _codes(response) == expected
    assert _counts() == before


def test_unknown_agency_gets_a_suggestion(coordinator, agreement):
    content = _xlsx([_row("一", lead="重庆市高级法院"), _row("二", lead="成都中院")])
    preview = excel.parse_workbook(content, agreement=agreement, principal=coordinator)
    messages = {e.row: e.message for e in preview.errors}
    assert "重庆市高级人民法院" in messages[2]
    assert "成都市中级人民法院" in messages[3]


def test_numbers_already_in_the_agreement_and_parents_with_owners(coordinator, tree):
    agreement = tree["leaf"].agreement
    content = _xlsx([_row("一"), _row("一、3", "一"), _row("一、1、(1)", "一、1"), _row("一、2、(1)", "一、2")])
    preview = excel.parse_workbook(content, agreement=agreement, principal=coordinator)
    assert [(e.row, e.code) for e in preview.errors] == [(2, "duplicate_number"), (4, "parent_has_owners")]
    # Rows may hang below measures already in the agreement.
    content = _xlsx([_row("一、3", "一", lead="重庆市高级人民法院"), _row("一、2、(1)", "一、2")])
    preview = excel.parse_workbook(content, agreement=agreement, principal=coordinator)
    assert preview.is_valid, preview.errors
    assert [r.level for r in preview.rows] == [1, 2]
    with transaction.atomic():
        created = excel.commit_import(preview, acting_user=coordinator)
    assert [m.path for m in created] == ["0001.0003.", "0001.0002.0001."]


def test_a_50_mb_upload_is_refused_before_parsing(api, coordinator, agreement):
    before = _counts()
    body = b"--xx\r\n" + bytes(50 * 1024 * 1024) + b"\r\n--xx--\r\n"
    response = api(coordinator).generic(
        "POST", f"/api/v1/agreements/{agreement.pk}/import/", body, content_type="multipart/form-data; boundary=xx"
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "file_too_large"
    assert _counts() == before


def test_file_size_is_checked_after_parsing_and_in_the_parser(api, coordinator, agreement):
    content = _xlsx([_row("一")])
    before = _counts()
    with override_settings(LEDGER_IMPORT_MAX_BYTES=len(content) - 1):
        response = _upload(api(coordinator), agreement, content)
        assert response.status_code == 413
        preview = excel.parse_workbook(content, agreement=agreement, principal=coordinator)
    assert [e.code for e in preview.errors] == ["file_too_large"]
    assert _counts() == before


def test_a_file_larger_than_the_request_body_limit_is_accepted(api, coordinator, agreement, settings):
    """File parts do not count against DATA_UPLOAD_MAX_MEMORY_SIZE: a 3 MB workbook (under the import limit) goes."""
    buffer = io.BytesIO(_xlsx([_row("一"), _row("一、1", "一", lead="重庆市高级人民法院")]))
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("xl/media/padding.bin", os.urandom(3 * 1024 * 1024))
    content = buffer.getvalue()
    assert len(content) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = _upload(api(coordinator), agreement, content)
    assert response.status_code == 201, response.content
    assert response.json()["created"] == 2


def test_too_many_rows(coordinator, agreement, monkeypatch):
    monkeypatch.setattr(excel, "MAX_ROWS", 5)
    content = _xlsx([_row(str(i)) for i in range(6)])
    preview = excel.parse_workbook(content, agreement=agreement, principal=coordinator)
    assert [(e.row, e.code) for e in preview.errors] == [(7, "too_many_rows")]


def test_commit_is_all_or_nothing(coordinator, agreement):
    content = _xlsx([_row("一"), _row("一、1", "一", lead="四川省高级人民法院"), _row("二")])
    preview = excel.parse_workbook(content, agreement=agreement, principal=coordinator)
    assert preview.is_valid
    with transaction.atomic():  # someone else takes number 二 between the preview and the commit
        services.add_measure(acting_user=coordinator, agreement=agreement, number="二", title="抢先")
    before = _counts()
    with pytest.raises(excel.LedgerImportError) as caught, transaction.atomic():
        excel.commit_import(preview, acting_user=coordinator)
    assert caught.value.errors[0].row == 4
    assert _counts() == before
    bad = excel.parse_workbook(_xlsx([_row("", title="")]), agreement=agreement, principal=coordinator)
    with pytest.raises(excel.LedgerImportError):
        excel.commit_import(bad, acting_user=coordinator)


def test_only_coordinators_commit(owner, agreement):
    preview = excel.parse_workbook(_xlsx([_row("一")]), agreement=agreement, principal=owner)
    assert preview.is_valid
    with pytest.raises(PermissionError):
        excel.commit_import(preview, acting_user=owner)
    assert not Measure.objects.filter(agreement=agreement).exists()


# --------------------------------------------------------------------------- names, dates, categories


def test_traditional_and_short_names_dates_and_categories(coordinator, agreement):
    content = _xlsx(
        [
            _row("一", category="常規"),
            _row(
                "一、1",
                "一",
                category="完成類",
                lead="重慶市高級人民法院",
                co="四川省高級人民法院；\n乾安县司法局, 重庆市人民检察院",
                start=datetime.datetime(2026, 3, 1),
                due="2026年12月31日",
            ),
            _row("一、2", "一", category="study", start="２０２６/４/１", due=20261130),
            _row("一、3", "一", category="启动", start=46113, due="2026-12-31 00:00:00"),
        ]
    )
    preview = excel.parse_workbook(content, agreement=agreement, principal=coordinator)
    assert preview.is_valid, preview.errors
    rows = {r.number: r for r in preview.rows}
    assert rows["一、1"].lead.name == "重庆市高级人民法院"
    assert [a.name for a in rows["一、1"].co_owners] == ["四川省高级人民法院", "乾安县司法局", "重庆市人民检察院"]
    assert (rows["一、1"].start_on, rows["一、1"].due_on) == (datetime.date(2026, 3, 1), datetime.date(2026, 12, 31))
    assert (rows["一、2"].start_on, rows["一、2"].due_on) == (datetime.date(2026, 4, 1), datetime.date(2026, 11, 30))
    assert (rows["一、3"].start_on, rows["一、3"].due_on) == (datetime.date(2026, 4, 1), datetime.date(2026, 12, 31))
    assert [r.category for r in preview.rows] == ["regular", "done", "study", "launch"]
    with transaction.atomic():
        excel.commit_import(preview, acting_user=coordinator)
    leaf = Measure.objects.get(agreement=agreement, number="一、1")
    assert leaf.owners.get(role=OwnerRole.LEAD).agency.name == "重庆市高级人民法院"
    assert leaf.owners.count() == 4


# --------------------------------------------------------------------------- who may do what


@pytest.mark.parametrize("role", ["coordinator", "owner", "partner", "outsider", "anonymous"])
def test_template_matrix(request, api, role):
    response = api(_who(request, role)).get("/api/v1/ledger/excel-template/")
    assert response.status_code == (401 if role == "anonymous" else 200)


@pytest.mark.parametrize(
    ("role", "expected"),
    [("coordinator", 200), ("owner", 200), ("partner", 200), ("outsider", 404), ("anonymous", 401)],
)
def test_export_matrix(request, api, tree, role, expected):
    response = api(_who(request, role)).get(f"/api/v1/agreements/{tree['leaf'].agreement_id}/export.xlsx")
    assert response.status_code == expected
    if expected == 200:
        assert response["Content-Type"] == XLSX
    else:
        assert response.json()["error"]["code"]


@pytest.mark.parametrize(
    ("role", "dry_run", "expected"),
    [
        ("coordinator", True, 200),
        ("coordinator", False, 201),
        ("owner", True, 403),
        ("owner", False, 403),
        ("partner", False, 403),
        ("outsider", False, 404),
        ("anonymous", False, 401),
    ],
)
def test_import_matrix(request, api, agreement, role, dry_run, expected):
    before = _counts()
    response = _upload(api(_who(request, role)), agreement, _xlsx([_row("一")]), dry_run=dry_run)
    assert response.status_code == expected, response.content
    assert Measure.objects.filter(agreement=agreement).count() == (1 if expected == 201 else 0)
    if expected != 201:
        assert _counts() == before


def test_api_keys_need_the_scopes_and_cannot_import(api, owner, agreement):
    with transaction.atomic():
        reader = issue_api_key(acting_user=owner, agency=owner.agency, name="只读", scopes=["ledger:read"]).token
        writer = issue_api_key(acting_user=owner, agency=owner.agency, name="读写", scopes=["ledger:write"]).token
    client = api(None)
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {reader}")
    assert client.get(f"/api/v1/agreements/{agreement.pk}/export.xlsx").status_code == 200
    assert _upload(client, agreement, _xlsx([_row("一")])).status_code == 403
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {writer}")
    assert client.get("/api/v1/ledger/excel-template/").status_code == 403  # no ledger:read
    assert _upload(client, agreement, _xlsx([_row("一")])).status_code == 403  # not a coordinator
    assert not Measure.objects.filter(agreement=agreement).exists()


def test_bad_requests(api, coordinator, agreement):
    client = api(coordinator)
    url = f"/api/v1/agreements/{agreement.pk}/import/"
    assert client.post(url, {"title": "x"}, format="json").status_code == 415
    missing = client.post(url, {"other": "x"}, format="multipart")
    assert missing.status_code == 400 and "file" in missing.json()["error"]["fields"]
    asked = client.get(f"/api/v1/agreements/{agreement.pk}/export.xlsx", HTTP_ACCEPT=XLSX)
    assert asked.status_code == 200 and asked["Content-Type"] == XLSX
    gone = client.get("/api/v1/agreements/999999/export.xlsx", HTTP_ACCEPT=XLSX)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
    assert Agreement.objects.filter(pk=agreement.pk).exists()


def test_a_title_row_above_the_header_is_tolerated(coordinator, agreement):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["川渝法院执行协作重点推进项目清单"])
    sheet.merge_cells("A1:J1")
    sheet.append(HEADERS)
    sheet.append(_row("一"))
    sheet.append(_row("一、1", "一", due="明年"))
    buffer = io.BytesIO()
    workbook.save(buffer)
    preview = excel.parse_workbook(buffer.getvalue(), agreement=agreement, principal=coordinator)
    assert [(e.row, e.column, e.code) for e in preview.errors] == [(4, "完成时限", "bad_date")]
    assert [r.row for r in preview.rows] == [3, 4]


def test_export_drops_characters_excel_cannot_hold(coordinator, agreement):
    with transaction.atomic():
        services.add_measure(
            acting_user=coordinator, agreement=agreement, number="一", title="标题", text="第一段\x0b第二段\x1f"
        )
    sheet = load_workbook(io.BytesIO(excel.export_workbook(agreement))).worksheets[0]
    assert sheet.cell(row=2, column=4).value == "第一段第二段"
