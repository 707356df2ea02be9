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
