"""Cached list pages for reference data that every signed-in principal sees alike (regions, agencies).

The key holds the app's data version (bumped by every audited write, see core/versioning.py), the language and the
absolute URL, so a write is seen at once by the process that made it and within DATA_VERSION_TTL_SECONDS by others.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.translation import get_language
from rest_framework.renderers import JSONRenderer

from yipanqi.core.versioning import current_version


class CachedReferenceListMixin:
    """Use only on viewsets whose visible_to() does not depend on the principal; params named in
    ``uncached_params`` (e.g. a circle filter that does) bypass the cache."""

    uncached_params: tuple[str, ...] = ()

    def _list_cache_key(self, request) -> str | None:
        seconds = settings.API_LIST_CACHE_SECONDS
        if not seconds or any(p in request.query_params for p in self.uncached_params):
            return None
        model = self.queryset.model
        if model.objects.none()._visible_q(request.user) is not None and not request.user.is_platform_admin:
            return None  # guard: this principal's view of the model is filtered, so it is not shared
        url = request.build_absolute_uri()
        digest = hashlib.sha256(url.encode()).hexdigest()
        return f"apilist:{model._meta.label_lower}:{current_version(model._meta.app_label)}:{get_language()}:{digest}"

    def list(self, request, *args, **kwargs):
        key = self._list_cache_key(request) if isinstance(request.accepted_renderer, JSONRenderer) else None
        if key is not None:
            body = cache.get(key)
            if body is not None:
                return HttpResponse(body, content_type="application/json")
        response = super().list(request, *args, **kwargs)
        if key is None or response.status_code != 200:
            return response
        # Cache the rendered bytes: a hit then costs no serialisation and no JSON encoding at all.
        body = request.accepted_renderer.render(response.data, request.accepted_media_type, self.get_renderer_context())
        cache.set(key, body, settings.API_LIST_CACHE_SECONDS)
        return HttpResponse(body, content_type="application/json")
