"""Base API classes. Every queryset starts from ``visible_to(request.user)``; invisible objects answer 404."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from rest_framework import viewsets


class VisibleModelViewSetMixin:
    """Subclasses set ``queryset`` to a manager whose queryset has ``visible_to``; this applies it."""

    def get_queryset(self):
        base = super().get_queryset()
        if not hasattr(base, "visible_to"):
            raise ImproperlyConfigured(f"{type(self).__name__}.queryset must have visible_to()")
        return self.optimise(base.visible_to(self.request.user))

    def optimise(self, queryset):
        """Add select_related / prefetch_related here; called after the permission filter."""
        return queryset


class VisibleReadOnlyViewSet(VisibleModelViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass
