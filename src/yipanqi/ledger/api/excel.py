"""Ledger Excel API: the import template, an agreement's export, and the import with a dry run (docs/ledger-excel.md).

Size guard for the upload: Django counts only the non-file parts of a multipart body against
DATA_UPLOAD_MAX_MEMORY_SIZE and streams file parts to disk, so a 50 MB file would be read in full before anyone
looks at it. The import view therefore refuses a body whose Content-Length exceeds LEDGER_IMPORT_MAX_BYTES (plus a
little for the multipart envelope) before authentication reads anything, and checks the file's own size after.
"""

from __future__ import annotations

import re

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from yipanqi.core.api.exceptions import json_error
from yipanqi.core.context import current_request_id

from .. import excel, services
from ..models import Agreement, Measure
from ..selectors import LIGHTS
from .views import MeasureFilter

READ = "ledger:read"
WRITE = "ledger:write"
MULTIPART_ENVELOPE_BYTES = 64 * 1024  # boundaries, part headers and the file name around the file itself
TRUE_VALUES = {"1", "true", "yes", "on"}


class XlsxRenderer(BaseRenderer):
    """Lets a client ask for the workbook with ``Accept: application/vnd.openxmlformats-…sheet``."""

    media_type = excel.XLSX_CONTENT_TYPE
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class UploadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "file_too_large"
    default_detail = gettext_lazy("The file is too large.")


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text=gettext_lazy("Excel row number; 1 is the header row, 0 the whole file"))
    column = serializers.CharField(allow_null=True, help_text=gettext_lazy("The column's header, e.g. 主办单位"))
    code = serializers.CharField()
    message = serializers.CharField()


class ImportedRowSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    number = serializers.CharField()
    parent = serializers.CharField()
    level = serializers.IntegerField(allow_null=True)
    title = serializers.CharField()
    category = serializers.CharField()
    lead = serializers.CharField(allow_null=True)
    co_owners = serializers.ListField(child=serializers.CharField())
    start_on = serializers.DateField(allow_null=True)
    due_on = serializers.DateField(allow_null=True)


class ImportResultSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    valid = serializers.BooleanField()
    rows = serializers.IntegerField(help_text=gettext_lazy("Measure rows read from the file"))
    created = serializers.IntegerField(help_text=gettext_lazy("Measures created (0 in a dry run)"))
    errors = RowErrorSerializer(many=True)
    measures = ImportedRowSerializer(many=True, required=False, help_text=gettext_lazy("Dry run only: the preview"))


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=gettext_lazy("The filled-in template (.xlsx)"))


def _xlsx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=excel.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Content-Length"] = str(len(content))
    return response


def _safe_filename(text: str) -> str:
    return re.sub(r'[\\/:*?"<>|\r\n\t]+', "", text).strip(" .《》") or "ledger"


class _ExcelView(APIView):
    renderer_classes = [JSONRenderer, XlsxRenderer]

    def handle_exception(self, exc):
        # Errors are JSON even when the client asked for a workbook.
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)


class ExcelTemplateView(_ExcelView):
    """台账导入模板: the template workbook, with its 说明 (column rules) and 示例 (an importable example) sheets."""

    required_scopes = {"GET": READ, "HEAD": READ}

    @extend_schema(
        responses={(200, excel.XLSX_CONTENT_TYPE): OpenApiTypes.BINARY}, operation_id="ledger_excel_template"
    )
    def get(self, request):
        return _xlsx_response(excel.build_template(), "台账导入模板.xlsx")


class AgreementExportView(_ExcelView):
    """An agreement's ledger as .xlsx, optionally filtered like the measure list, and by light."""

    required_scopes = {"GET": READ, "HEAD": READ}

    @extend_schema(
        parameters=[
            OpenApiParameter("category", str, description="done, launch, study or regular"),
            OpenApiParameter("status", str, description="open, closing or done"),
            OpenApiParameter("is_leaf", bool),
            OpenApiParameter("owner", int, description="owning agency id"),
            OpenApiParameter("due_before", OpenApiTypes.DATE),
            OpenApiParameter("due_after", OpenApiTypes.DATE),
            OpenApiParameter("light", str, many=True, description="red, yellow, blue, green or done; repeatable"),
        ],
        responses={(200, excel.XLSX_CONTENT_TYPE): OpenApiTypes.BINARY},
        operation_id="agreements_export_xlsx",
    )
    def get(self, request, pk):
        agreement = get_object_or_404(Agreement.objects.visible_to(request.user), pk=pk)
        lights = [v for value in request.query_params.getlist("light") for v in value.split(",") if v]
        unknown = sorted(set(lights) - set(LIGHTS))
        if unknown:
            raise exceptions.ValidationError(
                {"light": [_("Unknown light: %(lights)s.") % {"lights": ", ".join(unknown)}]}
            )
        params = request.query_params.copy()
        for name in ("agreement", "light", "format"):
            params.pop(name, None)
        if params:
            measures = MeasureFilter(params, queryset=Measure.objects.filter(agreement=agreement))
            if not measures.is_valid():
                raise exceptions.ValidationError(measures.errors)
            source = measures.qs
        else:
            source = agreement
        content = excel.export_workbook(source, lights=lights or None)
        today = timezone.localdate().strftime("%Y%m%d")
        return _xlsx_response(content, f"{_safe_filename(agreement.title)}-台账-{today}.xlsx")


class AgreementImportView(_ExcelView):
    """Import measures into an agreement from the template (.xlsx): coordinators only.

    ``?dry_run=1`` checks the file and returns the preview; without it a clean file is committed (all rows or
    none). A file with problems answers 400 with every problem by row and column, and nothing is written.
    """

    parser_classes = [MultiPartParser]
    renderer_classes = [JSONRenderer]
    required_scopes = {"POST": WRITE}

    def initial(self, request, *args, **kwargs):
        # Before authentication: the session's CSRF check would otherwise read (and store) the whole body.
        limit = excel.max_import_bytes()
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit + MULTIPART_ENVELOPE_BYTES:
            raise UploadTooLarge(
                _("The upload has %(size)s bytes; files of at most %(limit)s bytes are accepted.")
                % {"size": length, "limit": limit}
            )
        super().initial(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        parameters=[OpenApiParameter("dry_run", bool, description="check and preview only; write nothing")],
        responses={
            200: ImportResultSerializer,
            201: ImportResultSerializer,
            400: OpenApiResponse(OpenApiTypes.OBJECT, description="errors by row and column; nothing written"),
            413: OpenApiResponse(OpenApiTypes.OBJECT, description="the file is larger than LEDGER_IMPORT_MAX_BYTES"),
        },
        operation_id="agreements_import_xlsx",
    )
    def post(self, request, pk):
        agreement = get_object_or_404(Agreement.objects.visible_to(request.user).select_related("circle"), pk=pk)
        if not services.is_coordinator_of(request.user, agreement):
            raise exceptions.PermissionDenied(_("Only the circle's coordinators may import measures."))
        try:
            upload = request.FILES.get("file")
        except exceptions.UnsupportedMediaType:
            return json_error(
                "unsupported_media_type",
                _("Send the workbook as multipart/form-data, in the field “file”."),
                status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            )
        if upload is None:
            raise exceptions.ValidationError({"file": [_("Attach the .xlsx workbook in the field “file”.")]})
        limit = excel.max_import_bytes()
        if upload.size > limit:
            raise UploadTooLarge(
                _("The file has %(size)s bytes; at most %(limit)s bytes are accepted.")
                % {"size": upload.size, "limit": limit}
            )
        dry_run = request.query_params.get("dry_run", "").lower() in TRUE_VALUES
        preview = excel.parse_workbook(upload, agreement=agreement, principal=request.user)
        if preview.errors:
            return _invalid(preview.errors, len(preview.rows))
        if dry_run:
            return Response({"dry_run": True, "created": 0, **preview.as_dict(with_rows=True)})
        try:
            measures = excel.commit_import(preview, acting_user=request.user)
        except excel.LedgerImportError as exc:
            return _invalid(exc.errors, len(preview.rows))
        return Response(
            {"dry_run": False, "created": len(measures), **preview.as_dict()}, status=status.HTTP_201_CREATED
        )


def _invalid(errors, rows: int) -> Response:
    return Response(
        {
            "error": {
                "code": "invalid_workbook",
                "message": _("The workbook has %(count)s problems; nothing was written.") % {"count": len(errors)},
                "fields": None,
                "request_id": current_request_id(),
                "rows": rows,
                "errors": [e.as_dict() for e in errors],
            }
        },
        status=status.HTTP_400_BAD_REQUEST,
    )
