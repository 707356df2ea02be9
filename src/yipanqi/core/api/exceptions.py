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
from yipanqi.core.errors import Conflict


class ConflictError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def _message_for(exc: exceptions.APIException) -> str:
    if isinstance(exc, exceptions.ValidationError):
        return _("The submitted data is invalid; check the fields.")
    if isinstance(exc, exceptions.NotAuthenticated):
        return _("Sign in or present an API key first.")
    if isinstance(exc, exceptions.NotFound):
        return _("Not found.")
    if isinstance(exc, exceptions.PermissionDenied):
        return _("You do not have permission to do this.")
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return _("Unsupported content type; use application/json.")
    if isinstance(exc, exceptions.ParseError):
        return _("The request body could not be parsed: %(detail)s") % {"detail": exc.detail}
    if isinstance(exc, exceptions.MethodNotAllowed):
        return _("Method not allowed.")
    if isinstance(exc, exceptions.Throttled):
        return _("Too many requests; try again later.")
    detail = exc.detail
    return str(detail) if not isinstance(detail, dict | list) else _("Bad request.")


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, Conflict):
        exc = ConflictError(exc.message)
    elif isinstance(exc, DjangoPermissionDenied | PermissionError):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    fields = None
    message = _message_for(exc)
    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
    elif isinstance(exc, exceptions.PermissionDenied) and str(exc.detail) != str(
        exceptions.PermissionDenied.default_detail
    ):
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
