"""Web shell: login/logout, dashboard, audit pages, notifications, error pages (JSON under /api/)."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, RequestDataTooBig
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseServerError
from django.shortcuts import get_object_or_404, redirect, render
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import notifications as notification_services
from .api.exceptions import json_error
from .models import AuditEvent, Notification

AUDITABLE_MODELS = {
    "agency": ("directory", "agency"),
    "circle": ("directory", "circle"),
    "user": ("directory", "user"),
    "apikey": ("directory", "apikey"),
    "department": ("directory", "department"),
    "agreement": ("ledger", "agreement"),
    "measure": ("ledger", "measure"),
}

# Human labels of audit actions (the codes stay in the data and the API).
AUDIT_ACTIONS = {
    "directory.agency.create": gettext_lazy("Agency created"),
    "directory.agency.update": gettext_lazy("Agency changed"),
    "directory.department.create": gettext_lazy("Department added"),
    "directory.circle.create": gettext_lazy("Cooperation circle created"),
    "directory.circle.members": gettext_lazy("Circle members changed"),
    "directory.user.create": gettext_lazy("Person added"),
    "directory.user.update": gettext_lazy("Person changed"),
    "directory.role.grant": gettext_lazy("Role granted"),
    "directory.role.revoke": gettext_lazy("Role revoked"),
    "directory.apikey.issue": gettext_lazy("API key issued"),
    "directory.apikey.revoke": gettext_lazy("API key revoked"),
    "ledger.agreement.create": gettext_lazy("Agreement created"),
    "ledger.agreement.update": gettext_lazy("Agreement changed"),
    "ledger.measure.create": gettext_lazy("Measure added"),
    "ledger.measure.update": gettext_lazy("Measure changed"),
    "ledger.owner.assign": gettext_lazy("Owner assigned"),
    "ledger.report.file": gettext_lazy("Progress report filed"),
    "ledger.owner.close": gettext_lazy("Share completed"),
    "ledger.measure.confirm": gettext_lazy("Closure (销号) confirmed"),
    "ledger.supervision.issue": gettext_lazy("Supervision notice issued"),
    "ledger.supervision.reply": gettext_lazy("Supervision notice answered"),
    "ledger.supervision.close": gettext_lazy("Supervision notice closed"),
}


def _display_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


# Snapshot keys that are not model fields.
EXTRA_FIELD_LABELS = {
    "roles": gettext_lazy("role"),
    "coordinated_circles": gettext_lazy("circles coordinated"),
    "regions": gettext_lazy("member regions"),
}


def _field_label(model, name: str) -> str:
    if name in EXTRA_FIELD_LABELS:
        return str(EXTRA_FIELD_LABELS[name])
    if model is None:
        return name
    try:
        return str(model._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def _describe(events) -> list[AuditEvent]:
    """Attach display labels to events: ``action_label``, ``kind`` and ``change_rows`` (label, before, after)."""
    events = list(events)
    for event in events:
        event.action_label = AUDIT_ACTIONS.get(event.action, event.action)
        event.kind = event.content_type.model if event.content_type.model in AUDITABLE_MODELS else ""
        model = event.content_type.model_class()
        event.change_rows = [
            (_field_label(model, name), _display_value(before), _display_value(after))
            for name, before, after in event.changes
        ]
    return events


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True
    extra_context = {"title": gettext_lazy("Sign in")}


@login_required
@require_GET
def dashboard(request):
    from yipanqi.directory import selectors as directory_selectors
    from yipanqi.ledger.views import dashboard_measures

    context = directory_selectors.dashboard_summary(request.user)
    context["ledger"] = dashboard_measures(request.user)
    context["recent_events"] = _describe(
        AuditEvent.objects.visible_to(request.user).select_related("content_type", "actor", "actor_agency")[:8]
    )
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
    page.object_list = _describe(page.object_list)
    return render(
        request,
        "core/audit_list.html",
        {"page": page, "action": action, "actions": AUDIT_ACTIONS.items(), "title": _("Audit trail")},
    )


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
    # The object may be public inside the platform (agencies are), its trail is not: only events the viewer may see.
    events = (
        AuditEvent.objects.visible_to(request.user)
        .filter(content_type=content_type, object_id=str(obj.pk))
        .select_related("content_type", "actor", "actor_agency", "api_key")
    )
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    page.object_list = _describe(page.object_list)
    return render(
        request,
        "core/audit_object.html",
        {"object": obj, "kind": kind, "page": page, "title": _("Change history")},
    )


NOTIFICATIONS_PER_PAGE = 30


@login_required
@require_GET
def notification_list(request):
    """The signed-in person's notifications, newest first; ``?show=unread`` lists the unread ones only."""
    notifications = Notification.objects.visible_to(request.user)
    unread_only = request.GET.get("show") == "unread"
    page = Paginator(notifications.unread() if unread_only else notifications, NOTIFICATIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "core/notification_list.html",
        {
            "page": page,
            "unread_only": unread_only,
            "unread_total": notifications.unread().count(),
            "title": _("Notifications"),
        },
    )


@login_required
@require_POST
def notifications_read_all(request):
    count = notification_services.mark_all_read(acting_user=request.user)
    if count:
        messages.success(
            request,
            ngettext("%(count)d notification marked as read.", "%(count)d notifications marked as read.", count)
            % {"count": count},
        )
    return redirect("notifications")


@login_required
@require_http_methods(["GET", "POST"])
def notification_open(request, pk: int):
    """Mark one's notification read and go to what it is about (a local page only; else back to the list)."""
    notification = get_object_or_404(Notification.objects.visible_to(request.user), pk=pk)
    notification_services.mark_read(acting_user=request.user, notification=notification)
    target = notification.url
    if (
        target
        and target.startswith("/")
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return redirect(target)
    return redirect("notifications")


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


def csrf_failure(request, reason=""):
    """For settings.CSRF_FAILURE_VIEW: Django's own page carries an inline style the CSP blocks."""
    message = _("The form has expired or did not come from this site. Reload the page and try again.")
    if _is_api(request):
        return json_error("permission_denied", message, 403)
    return render(request, "errors/403.html", {"message": message}, status=403)


def page_not_found(request, exception=None):
    if _is_api(request):
        return json_error("not_found", _("Not found."), 404)
    return render(request, "errors/404.html", status=404)


def server_error(request):
    if _is_api(request):
        return json_error(
            "server_error", _("Internal server error. Try again later or contact the administrator."), 500
        )
    # No request context: the page must render when the database or the session store is what failed.
    return HttpResponseServerError(loader.render_to_string("errors/500.html"))


@require_GET
def health(request):
    from django.http import JsonResponse

    return JsonResponse({"status": "ok"})
