from __future__ import annotations

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from yipanqi.core.api.caching import CachedReferenceListMixin
from yipanqi.core.api.viewsets import VisibleModelViewSetMixin, VisibleReadOnlyViewSet

from .. import selectors, services
from ..filters import AgencyFilter, RegionFilter, UserFilter
from ..models import Agency, ApiKey, Circle, Region, RoleGrant, User
from . import serializers

READ = {"GET": "directory:read", "HEAD": "directory:read", "OPTIONS": "directory:read"}


class RegionViewSet(CachedReferenceListMixin, VisibleReadOnlyViewSet):
    """行政区划: every province, city and county with its 6-digit code. Search by name (简/繁) or code."""

    queryset = Region.objects.all()
    serializer_class = serializers.RegionSerializer
    filterset_class = RegionFilter
    lookup_field = "code"
    lookup_value_regex = r"[0-9]{6}"
    required_scopes = READ

    def optimise(self, queryset):
        return queryset.select_related("parent").order_by("code")


class CircleViewSet(VisibleReadOnlyViewSet):
    """协作区: visible to its coordinators and to people of its member agencies."""

    queryset = Circle.objects.all()
    serializer_class = serializers.CircleSerializer
    required_scopes = READ

    def optimise(self, queryset):
        return queryset.select_related("coordinating_agency").prefetch_related(
            Prefetch("regions", queryset=Region.objects.only("id", "code", "name")),
            Prefetch("member_agencies", queryset=Agency.objects.only("id", "name")),
        )


class AgencyViewSet(CachedReferenceListMixin, VisibleReadOnlyViewSet):
    """政法单位 directory, filterable by type, level, region (with its subtree) and circle."""

    uncached_params = ("circle",)  # what a circle filter returns depends on the circles the principal may see

    queryset = Agency.objects.all()
    serializer_class = serializers.AgencySerializer
    filterset_class = AgencyFilter
    required_scopes = READ

    def get_serializer_class(self):
        return serializers.AgencyDetailSerializer if self.action == "retrieve" else serializers.AgencySerializer

    def optimise(self, queryset):
        queryset = queryset.select_related("region")
        if self.action == "retrieve":
            queryset = queryset.select_related("parent").prefetch_related("departments", "jurisdiction")
        return queryset

    @extend_schema(
        parameters=[OpenApiParameter("region", str, required=True, description="target region code (6 digits)")],
        responses=serializers.CounterpartSerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def counterparts(self, request, pk=None):
        """Counterpart lookup: the same type of agency at the same level in the target region, ranked."""
        # The list filters (AgencyFilter also has a `region` parameter) must not apply to this lookup.
        agency = get_object_or_404(self.get_queryset(), pk=pk)
        code = request.query_params.get("region", "")
        if not (code.isdigit() and len(code) == 6):
            raise ValidationError({"region": [_("Give a 6-digit region code.")]})
        region = Region.objects.visible_to(request.user).filter(code=code).first()
        if region is None:
            raise ValidationError({"region": [_("Unknown region code: %(code)s") % {"code": code}]})
        results = selectors.counterparts(request.user, agency=agency, target_region=region)
        return Response(serializers.CounterpartSerializer(results, many=True).data)


class PersonViewSet(VisibleReadOnlyViewSet):
    """人员: own agency, liaisons of partner agencies, everyone in circles one coordinates."""

    queryset = User.objects.filter(is_active=True)
    serializer_class = serializers.PersonSerializer
    filterset_class = UserFilter
    required_scopes = READ

    def optimise(self, queryset):
        return (
            queryset.select_related("agency", "department")
            .prefetch_related(
                Prefetch("role_grants", queryset=RoleGrant.objects.only("id", "user_id", "role", "circle_id"))
            )
            .order_by("agency_id", "username")
        )


class ApiKeyViewSet(
    VisibleModelViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """API keys of one's own agency (liaisons only). The token is shown once, at creation."""

    queryset = ApiKey.objects.all()
    serializer_class = serializers.ApiKeySerializer
    required_scopes = {}  # API keys never manage API keys

    def optimise(self, queryset):
        return queryset.select_related("agency")

    def get_serializer_class(self):
        return serializers.ApiKeyCreateSerializer if self.action == "create" else serializers.ApiKeySerializer

    @extend_schema(request=serializers.ApiKeyCreateSerializer, responses={201: serializers.ApiKeyIssuedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = serializers.ApiKeyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        agency = get_object_or_404(Agency.objects.visible_to(request.user), pk=request.user.agency_id)
        issued = services.issue_api_key(acting_user=request.user, agency=agency, **serializer.validated_data)
        data = serializers.ApiKeySerializer(issued.api_key).data
        data["token"] = issued.token
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=serializers.ApiKeySerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        api_key = services.revoke_api_key(acting_user=request.user, api_key=self.get_object())
        return Response(serializers.ApiKeySerializer(api_key).data)
