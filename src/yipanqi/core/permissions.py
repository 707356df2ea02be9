"""The one permission gate.

Every domain model's manager is built from :class:`VisibleQuerySet`; views, API viewsets and selectors start
from ``Model.objects.visible_to(principal)``. A *principal* is a logged-in :class:`~yipanqi.directory.models.User`
or an :class:`~yipanqi.core.api.authentication.ApiKeyPrincipal`; both expose the same small protocol:

``is_authenticated``, ``is_platform_admin``, ``agency_id``, ``coordinated_circle_ids`` (a frozenset),
``member_circle_ids`` (circles the principal's agency belongs to) and ``scopes`` (None for people).
"""

from __future__ import annotations

from django.db import models


def is_authenticated(principal) -> bool:
    return bool(principal is not None and getattr(principal, "is_authenticated", False))


class VisibleQuerySet(models.QuerySet):
    """Subclasses implement :meth:`_visible_q` for an authenticated, non-admin principal."""

    def visible_to(self, principal):
        if not is_authenticated(principal):
            return self.none()
        if getattr(principal, "is_platform_admin", False):
            return self.all()
        q = self._visible_q(principal)
        if q is None:
            return self.all()
        return self.filter(q).distinct() if self._visible_needs_distinct else self.filter(q)

    _visible_needs_distinct = False

    def _visible_q(self, principal) -> models.Q | None:  # pragma: no cover - abstract
        raise NotImplementedError(f"{self.model.__name__} must define who may see it")
