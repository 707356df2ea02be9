from __future__ import annotations

from rest_framework import permissions


class IsAuthenticatedWithScope(permissions.BasePermission):
    """Signed-in people pass; an API key passes only if it carries the view's ``required_scopes``
    (by HTTP method: ``{"GET": "directory:read", ...}`` or one scope for all)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        scopes = getattr(user, "scopes", None)
        if scopes is None:
            return True
        required = getattr(view, "required_scopes", None)
        if isinstance(required, dict):
            required = required.get(request.method) or required.get("*")
        if not required:
            return False
        return required in scopes
