"""Every API error is JSON: ``{"error": {"code", "message", "fields", "request_id"}}`` with a translated message."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from yipanqi.core.context import current_request_id


def _message_for(exc: exceptions.APIException) -> str:
    if isinstance(exc, exceptions.ValidationError):
        return _("提交的数据有误，请检查各字段。")
    if isinstance(exc, exceptions.NotAuthenticated):
        return _("请先登录或提供 API 密钥。")
    if isinstance(exc, exceptions.NotFound):
        return _("未找到该对象。")
    if isinstance(exc, exceptions.PermissionDenied):
        return _("没有权限执行此操作。")
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return _("不支持的内容类型，请使用 application/json。")
    if isinstance(exc, exceptions.ParseError):
        return _("请求内容无法解析：%(detail)s") % {"detail": exc.detail}
    if isinstance(exc, exceptions.MethodNotAllowed):
        return _("不允许的请求方法。")
    if isinstance(exc, exceptions.Throttled):
        return _("请求过于频繁，请稍后再试。")
    detail = exc.detail
    return str(detail) if not isinstance(detail, dict | list) else _("请求有误。")


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied | PermissionError):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages})
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    fields = None
    message = _message_for(exc)
    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
    elif isinstance(exc, exceptions.PermissionDenied) and str(exc.detail) != str(exceptions.PermissionDenied.default_detail):
        message = str(exc.detail)
    body = {
        "error": {
            "code": exc.get_codes() if isinstance(exc.get_codes(), str) else getattr(exc, "default_code", "error"),
            "message": message,
            "fields": fields,
            "request_id": current_request_id(),
        }
    }
    return Response(body, status=response.status_code, headers=dict(response.headers))


def json_error(code: str, message: str, http_status: int = status.HTTP_400_BAD_REQUEST):
    from django.http import JsonResponse

    return JsonResponse(
        {"error": {"code": code, "message": message, "fields": None, "request_id": current_request_id()}},
        status=http_status,
        json_dumps_params={"ensure_ascii": False},
    )
