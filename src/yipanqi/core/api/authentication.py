"""API-key authentication for an agency's own systems: ``Authorization: Api-Key yq_<prefix>.<secret>``."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from yipanqi.core.versioning import current_version


class ApiKeyPrincipal:
    """The acting principal behind an API key: the agency's system, limited to the key's scopes."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_platform_admin = False
    is_staff = False
    is_superuser = False
    coordinated_circle_ids: frozenset[int] = frozenset()

    def __init__(self, api_key):
        self.api_key = api_key
        self.api_key_id = api_key.pk
        self.agency = api_key.agency
        self.agency_id = api_key.agency_id
        self.scopes = frozenset(api_key.scopes)
        self.pk = None
        self._member_circle_ids = None

    def __str__(self) -> str:
        return f"{self.agency} · {self.api_key.name}"

    def has_role(self, role: str) -> bool:
        return False

    @property
    def member_circle_ids(self) -> frozenset[int]:
        if self._member_circle_ids is None:
            from yipanqi.directory.models import Circle

            self._member_circle_ids = frozenset(
                Circle.objects.containing_agency(self.agency).values_list("pk", flat=True)
            )
        return self._member_circle_ids


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if parts[0] != self.keyword:
            return None
        if len(parts) != 2 or not parts[1].startswith("yq_") or "." not in parts[1]:
            raise exceptions.AuthenticationFailed(_("Malformed API key."))
        from yipanqi.directory.models import ApiKey
        from yipanqi.directory.services import hash_secret, touch_api_key

        prefix, _sep, secret = parts[1][3:].partition(".")
        digest = hash_secret(secret)
        # Verified keys are cached under the directory's data version: issuing or revoking a key bumps it.
        cache_key = f"apikey:{current_version('directory')}:{prefix}"
        seconds = settings.API_KEY_CACHE_SECONDS
        key = cache.get(cache_key) if seconds else None
        if key is None:
            key = ApiKey.objects.select_related("agency").filter(prefix=prefix).order_by().first()
            if key is not None and seconds:
                cache.set(cache_key, key, seconds)
        if key is None or not hmac.compare_digest(key.hashed_secret, digest):
            raise exceptions.AuthenticationFailed(_("Invalid API key."))
        if not key.is_active:
            raise exceptions.AuthenticationFailed(_("The API key has been revoked or has expired."))
        if touch_api_key(key, settings.API_KEY_LAST_USED_RESOLUTION_SECONDS) and seconds:
            cache.set(cache_key, key, seconds)
        return ApiKeyPrincipal(key), key

    def authenticate_header(self, request):
        return self.keyword


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents the API-key scheme in the OpenAPI schema."""

    target_class = "yipanqi.core.api.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Api-Key yq_<prefix>.<secret> — issued to an agency's own system by its liaison",
        }
