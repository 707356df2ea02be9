"""Web shell: login/logout, dashboard, audit pages, error pages (JSON under /api/)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import RequestDataTooBig
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from .api.exceptions import json_error
from .models import AuditEvent

AUDITABLE_MODELS = {
    "agency": ("directory", "agency"),
    "circle": ("directory", "circle"),
    "user": ("directory", "user"),
    "apikey": ("directory", "apikey"),
    "department": ("directory", "department"),
}


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True
    extra_context = {"title": gettext_lazy("Sign in")}


@login_required
@require_GET
def dashboard(request):
    from yipanqi.directory import selectors as directory_selectors

    context = directory_selectors.dashboard_summary(request.user)
    context["recent_events"] = AuditEvent.objects.visible_to(request.user).select_related("content_type", "actor")[:10]
    return render(request, "core/dashboard.html", context)


@login_required
@require_GET
def audit_list(request):
    """Audit trail for the user's agency, and for the agencies of circles the user coordinates."""
    events = AuditEvent.objects.visible_to(request.user).select_related("content_type", "actor", "actor_agency")
    action = request.GET.get("action", "").strip()[:80]
    if action:
        events = events.filter(action__startswith=action)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "core/audit_list.html", {"page": page, "action": action, "title": _("Audit trail")})


@login_required
@require_GET
def audit_for_object(request, kind: str, object_id: str):
    """Audit trail of one object; the object itself must be visible to the user, else 404."""
    if kind not in AUDITABLE_MODELS:
        raise Http404
    content_type = ContentType.objects.get_by_natural_key(*AUDITABLE_MODELS[kind])
    model = content_type.model_class()
    obj = model.objects.visible_to(request.user).filter(pk=object_id if object_id.isdigit() else None).first()
    if obj is None:
        raise Http404
    events = AuditEvent.objects.filter(content_type=content_type, object_id=str(obj.pk)).select_related(
        "actor", "actor_agency"
    )
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "core/audit_object.html", {"object": obj, "page": page, "title": _("Change history")})


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def bad_request(request, exception=None):
    if isinstance(exception, RequestDataTooBig):
        message = _("The request body is larger than the allowed %(size)s bytes.") % {
            "size": settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        }
        if _is_api(request):
            return json_error("request_too_large", message, 413)
        return render(request, "errors/400.html", {"message": message}, status=413)
    if _is_api(request):
        return json_error("bad_request", _("Bad request: %(detail)s") % {"detail": exception or ""}, 400)
    return render(request, "errors/400.html", status=400)


def permission_denied(request, exception=None):
    if _is_api(request):
        return json_error("permission_denied", _("You do not have permission to do this."), 403)
    return render(request, "errors/403.html", status=403)


def page_not_found(request, exception=None):
    if _is_api(request):
        return json_error("not_found", _("Not found."), 404)
    return render(request, "errors/404.html", status=404)


def server_error(request):
    if _is_api(request):
        return json_error(
            "server_error", _("Internal server error. Try again later or contact the administrator."), 500
        )
    return render(request, "errors/500.html", status=500)


@require_GET
def health(request):
    from django.http import JsonResponse

    return JsonResponse({"status": "ok"})
