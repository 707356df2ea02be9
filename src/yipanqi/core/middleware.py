"""Request id on every request: taken from a trusted upstream X-Request-ID or made here, echoed back."""

from __future__ import annotations

import logging
import re

from .context import client_ip_var, new_request_id, request_id_var

_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    header = "HTTP_X_REQUEST_ID"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get(self.header, "")
        request_id = incoming if _VALID_ID.match(incoming) else new_request_id()
        request.request_id = request_id
        token = request_id_var.set(request_id)
        ip_token = client_ip_var.set(request.META.get("REMOTE_ADDR"))
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
            client_ip_var.reset(ip_token)
        response["X-Request-ID"] = request_id
        return response


class ChineseFirstMiddleware:
    """Pages are in simplified Chinese unless the person chose English with the switch (the language cookie).

    Browsers' Accept-Language is ignored for pages, so an English-language browser in a Chinese office still gets
    the Chinese UI; the API keeps honouring Accept-Language for machine clients' error messages.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/"):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get() or "-"
        return True
