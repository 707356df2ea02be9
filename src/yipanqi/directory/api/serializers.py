from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from yipanqi.core.api.fields import ChoiceLabelField

from ..models import Agency, AgencyType, ApiKey, ApiKeyScope, Circle, Department, Region, RegionLevel, User


class RegionSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Region
        fields = ["code", "name", "short_name", "kind", "level", "parent"]


class RegionRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name"]


class AgencyRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Agency
        fields = ["id", "name"]


class AgencySerializer(serializers.ModelSerializer):
    region = RegionRefSerializer(read_only=True)
    type_display = ChoiceLabelField(AgencyType, source="type")
    level_display = ChoiceLabelField(RegionLevel, source="level")

    class Meta:
        model = Agency
        fields = [
            "id",
            "name",
            "short_name",
            "type",
            "type_display",
            "level",
            "level_display",
            "region",
            "parent_id",
            "specialty",
            "rank",
            "is_active",
        ]

    def to_representation(self, agency):
        """Built directly rather than field by field: this is the directory's hot list (see bench/); the declared
        fields still describe it in the OpenAPI schema, and a test holds both ways to the same output."""
        if type(self) is not AgencySerializer:
            return super().to_representation(agency)
        fields = self.fields
        return {
            "id": agency.pk,
            "name": agency.name,
            "short_name": agency.short_name,
            "type": agency.type,
            "type_display": fields["type_display"].to_representation(agency.type),
            "level": agency.level,
            "level_display": fields["level_display"].to_representation(agency.level),
            "region": {"code": agency.region.code, "name": agency.region.name},
            "parent_id": agency.parent_id,
            "specialty": agency.specialty,
            "rank": agency.rank,
            "is_active": agency.is_active,
        }


class DepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "name"]


class AgencyDetailSerializer(AgencySerializer):
    parent = AgencyRefSerializer(read_only=True)
    departments = DepartmentSerializer(many=True, read_only=True)
    jurisdiction = RegionRefSerializer(many=True, read_only=True)

    class Meta(AgencySerializer.Meta):
        fields = [*AgencySerializer.Meta.fields, "parent", "departments", "jurisdiction"]


class CounterpartSerializer(serializers.Serializer):
    agency = AgencySerializer()
    score = serializers.IntegerField()
    reasons = serializers.ListField(child=serializers.CharField())


class CircleSerializer(serializers.ModelSerializer):
    regions = RegionRefSerializer(many=True, read_only=True)
    member_agencies = AgencyRefSerializer(many=True, read_only=True)
    coordinating_agency = AgencyRefSerializer(read_only=True)

    class Meta:
        model = Circle
        fields = [
            "id",
            "name",
            "short_name",
            "slug",
            "description",
            "regions",
            "member_agencies",
            "coordinating_agency",
        ]


class PersonSerializer(serializers.ModelSerializer):
    agency = AgencyRefSerializer(read_only=True)
    department = DepartmentSerializer(read_only=True)
    roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "full_name", "title", "agency", "department", "roles"]

    def get_roles(self, obj) -> list[dict]:
        return [{"role": g.role, "circle": g.circle_id} for g in obj.role_grants.all()]


class ApiKeySerializer(serializers.ModelSerializer):
    agency = AgencyRefSerializer(read_only=True)
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "prefix",
            "agency",
            "scopes",
            "created_at",
            "expires_at",
            "revoked_at",
            "last_used_at",
            "is_active",
        ]


class ApiKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, label=_("purpose"))
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=ApiKeyScope.choices), allow_empty=False, label=_("scopes")
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True, label=_("expires at"))


class ApiKeyIssuedSerializer(ApiKeySerializer):
    token = serializers.CharField(read_only=True, help_text=_("Shown only this once; keep it safe."))

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "token"]
