from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.reverse import reverse

from yipanqi.core.api.fields import ChoiceLabelField
from yipanqi.directory.api.serializers import AgencyRefSerializer
from yipanqi.directory.models import Agency, Circle, Department, User

from ..models import (
    Agreement,
    AgreementKind,
    AgreementStatus,
    Bulletin,
    BulletinStatus,
    ClosureRule,
    Measure,
    MeasureCategory,
    MeasureOwner,
    MeasureStatus,
    OwnerRole,
    ProgressReport,
    ReportingCycle,
    ShareStatus,
    Supervision,
)
from ..selectors import light_for


class AgreementSerializer(serializers.ModelSerializer):
    signatories = AgencyRefSerializer(many=True, read_only=True)
    kind_display = ChoiceLabelField(AgreementKind, source="kind")
    status_display = ChoiceLabelField(AgreementStatus, source="status")

    class Meta:
        model = Agreement
        fields = [
            "id",
            "title",
            "kind",
            "kind_display",
            "circle",
            "signatories",
            "signed_on",
            "signed_place",
            "status",
            "status_display",
            "valid_from",
            "valid_until",
            "closure_rule",
            "reporting_cycle",
            "reporting_every_days",
            "created_at",
        ]


class AgreementWriteSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=AgreementKind.choices, default=AgreementKind.COOPERATION)
    circle = serializers.PrimaryKeyRelatedField(queryset=Circle.objects.all(), allow_null=True, required=False)
    signatories = serializers.PrimaryKeyRelatedField(queryset=Agency.objects.all(), many=True)
    signed_on = serializers.DateField(required=False, allow_null=True)
    signed_place = serializers.CharField(max_length=100, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=AgreementStatus.choices, default=AgreementStatus.DRAFT)
    valid_from = serializers.DateField(required=False, allow_null=True)
    valid_until = serializers.DateField(required=False, allow_null=True)
    closure_rule = serializers.ChoiceField(choices=ClosureRule.choices, default=ClosureRule.COORDINATOR)
    reporting_cycle = serializers.ChoiceField(choices=ReportingCycle.choices, default=ReportingCycle.MONTHLY)
    reporting_every_days = serializers.IntegerField(min_value=1, max_value=366, required=False, allow_null=True)

    def validate_circle(self, circle):
        user = self.context["request"].user
        if circle is not None and not Circle.objects.visible_to(user).filter(pk=circle.pk).exists():
            raise serializers.ValidationError(_("Unknown cooperation circle."))
        return circle


class OwnerSerializer(serializers.ModelSerializer):
    agency = AgencyRefSerializer(read_only=True)
    role_display = ChoiceLabelField(OwnerRole, source="role")
    status_display = ChoiceLabelField(ShareStatus, source="status")
    report_missing = serializers.SerializerMethodField()

    class Meta:
        model = MeasureOwner
        fields = [
            "id",
            "agency",
            "role",
            "role_display",
            "department",
            "person",
            "status",
            "status_display",
            "progress",
            "evidence",
            "results",
            "closed_at",
            "last_report_at",
            "report_due_on",
            "report_missing",
        ]

    def get_report_missing(self, owner) -> bool:
        """True when the share's report under the agreement's reporting calendar is overdue."""
        return owner.report_due_on is not None and owner.report_due_on < timezone.localdate()


class MeasureSerializer(serializers.ModelSerializer):
    owners = OwnerSerializer(many=True, read_only=True)
    category_display = ChoiceLabelField(MeasureCategory, source="category")
    status_display = ChoiceLabelField(MeasureStatus, source="status")
    light = serializers.SerializerMethodField()

    class Meta:
        model = Measure
        fields = [
            "id",
            "agreement",
            "parent",
            "number",
            "title",
            "text",
            "depth",
            "is_leaf",
            "category",
            "category_display",
            "start_on",
            "due_on",
            "milestones",
            "expected_outcome",
            "status",
            "status_display",
            "progress",
            "light",
            "results",
            "closed_at",
            "last_report_at",
            "owners",
        ]

    def get_light(self, measure) -> str:
        return light_for(measure)


class MeasureWriteSerializer(serializers.Serializer):
    agreement = serializers.PrimaryKeyRelatedField(queryset=Agreement.objects.all())
    parent = serializers.PrimaryKeyRelatedField(queryset=Measure.objects.all(), allow_null=True, required=False)
    number = serializers.CharField(max_length=30)
    title = serializers.CharField(max_length=300)
    text = serializers.CharField(required=False, allow_blank=True)
    category = serializers.ChoiceField(choices=MeasureCategory.choices, default=MeasureCategory.REGULAR)
    start_on = serializers.DateField(required=False, allow_null=True)
    due_on = serializers.DateField(required=False, allow_null=True)
    expected_outcome = serializers.CharField(required=False, allow_blank=True)

    def validate_agreement(self, agreement):
        if not Agreement.objects.visible_to(self.context["request"].user).filter(pk=agreement.pk).exists():
            raise serializers.ValidationError(_("Unknown agreement."))
        return agreement


class OwnerWriteSerializer(serializers.Serializer):
    agency = serializers.PrimaryKeyRelatedField(queryset=Agency.objects.all())
    role = serializers.ChoiceField(choices=OwnerRole.choices, default=OwnerRole.CO)
    department = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all(), allow_null=True, required=False)
    person = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), allow_null=True, required=False)


class CloseShareSerializer(serializers.Serializer):
    results = serializers.CharField()
    evidence = serializers.CharField(required=False, allow_blank=True, default="")


class ConfirmClosureSerializer(serializers.Serializer):
    results = serializers.CharField(required=False, allow_blank=True, default="")


class ProgressReportSerializer(serializers.ModelSerializer):
    agency = AgencyRefSerializer(source="owner.agency", read_only=True)

    class Meta:
        model = ProgressReport
        fields = [
            "id",
            "measure",
            "owner",
            "agency",
            "text",
            "progress",
            "problems",
            "next_steps",
            "filed_by",
            "filed_at",
        ]


class ProgressReportWriteSerializer(serializers.Serializer):
    measure = serializers.PrimaryKeyRelatedField(queryset=Measure.objects.all())
    text = serializers.CharField()
    progress = serializers.IntegerField(min_value=0, max_value=100)
    problems = serializers.CharField(required=False, allow_blank=True, default="")
    next_steps = serializers.CharField(required=False, allow_blank=True, default="")


class SupervisionSerializer(serializers.ModelSerializer):
    agency = AgencyRefSerializer(source="owner.agency", read_only=True)

    class Meta:
        model = Supervision
        fields = [
            "id",
            "measure",
            "owner",
            "agency",
            "light",
            "message",
            "reply_due_on",
            "issued_by",
            "issued_at",
            "status",
            "reply",
            "replied_by",
            "replied_at",
        ]


class SupervisionWriteSerializer(serializers.Serializer):
    owner = serializers.PrimaryKeyRelatedField(queryset=MeasureOwner.objects.all())
    message = serializers.CharField()
    reply_due_on = serializers.DateField()


class SupervisionReplySerializer(serializers.Serializer):
    reply = serializers.CharField()


class BulletinSerializer(serializers.ModelSerializer):
    issuer = AgencyRefSerializer(read_only=True)
    status_display = ChoiceLabelField(BulletinStatus, source="status")
    docx_url = serializers.SerializerMethodField()
    pdf_url = serializers.SerializerMethodField()

    class Meta:
        model = Bulletin
        fields = [
            "id",
            "circle",
            "agreement",
            "title",
            "doc_number",
            "issuer",
            "recipients",
            "cc",
            "period_start",
            "period_end",
            "issued_on",
            "status",
            "status_display",
            "progress",
            "figures",
            "error",
            "docx_url",
            "pdf_url",
            "created_at",
            "generated_at",
        ]

    def _file_url(self, bulletin, kind: str) -> str | None:
        if bulletin.status != BulletinStatus.READY or not getattr(bulletin, kind):
            return None
        return reverse(f"bulletin-{kind}", args=[bulletin.pk], request=self.context.get("request"))

    def get_docx_url(self, bulletin) -> str | None:
        return self._file_url(bulletin, "docx")

    def get_pdf_url(self, bulletin) -> str | None:
        return self._file_url(bulletin, "pdf")


class BulletinWriteSerializer(serializers.Serializer):
    circle = serializers.PrimaryKeyRelatedField(queryset=Circle.objects.all())
    agreement = serializers.PrimaryKeyRelatedField(queryset=Agreement.objects.all(), allow_null=True, required=False)
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    doc_number = serializers.CharField(max_length=60, required=False, allow_blank=True)
    recipients = serializers.CharField(max_length=200, required=False, allow_blank=True)
    cc = serializers.CharField(max_length=200, required=False, allow_blank=True)
    issued_on = serializers.DateField(required=False, allow_null=True)

    def validate(self, attrs):
        if attrs["period_end"] < attrs["period_start"]:
            raise serializers.ValidationError({"period_end": _("The period ends before it starts.")})
        return attrs
