"""A page's answer to a ``Conflict``: HTTP 409 with the service's message and a way back to the object."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.http import HttpRequest
from django.shortcuts import render
from django.utils.translation import gettext as _

from .errors import Conflict


def conflict_page(back: Callable[[HttpRequest], tuple[str, str] | None]):
    """Decorate a view: a ``Conflict`` it raises (the object's state forbids the step) becomes the 409 page.
    ``back(request)`` gives the link back (URL, label) — from what the view stored on the request — or None."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            try:
                return view(request, *args, **kwargs)
            except Conflict as exc:
                url, label = back(request) or ("", "")
                context = {
                    "message": exc.message,
                    "back_url": url,
                    "back_label": label,
                    "title": _("This cannot be done now"),
                }
                return render(request, "errors/409.html", context, status=409)

        return wrapped

    return decorate
