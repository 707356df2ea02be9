"""Ledger API. Reads start from visible_to(); writes call the services; an agency's systems use ledger:* scopes."""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from yipanqi.core.api.viewsets import VisibleModelViewSetMixin
from yipanqi.directory.models import Agency

from .. import bulletins, services
from ..models import Agreement, Bulletin, BulletinStatus, Measure, MeasureOwner, ProgressReport, Supervision
from . import serializers

READ = "ledger:read"
REPORT = {"GET": READ, "HEAD": READ, "OPTIONS": READ, "POST": "ledger:write"}


def _visible(model, request, pk):
    return get_object_or_404(model.objects.visible_to(request.user), pk=pk)


class AgreementViewSet(
    VisibleModelViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """合作协议: signatory agencies and the circle's coordinators see them; coordinators create and change them."""

    queryset = Agreement.objects.all()
    serializer_class = serializers.AgreementSerializer
    filterset_fields = ["circle", "kind", "status"]
    required_scopes = {"GET": READ, "HEAD": READ, "OPTIONS": READ}
    http_method_names = ["get", "post", "patch", "head", "options"]

    def optimise(self, queryset):
        return queryset.prefetch_related(Prefetch("signatories", queryset=Agency.objects.only("id", "name")))

    @extend_schema(request=serializers.AgreementWriteSerializer, responses={201: serializers.AgreementSerializer})
    def create(self, request, *args, **kwargs):
        data = serializers.AgreementWriteSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        agreement = services.create_agreement(acting_user=request.user, **data.validated_data)
        return Response(serializers.AgreementSerializer(agreement).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.AgreementWriteSerializer, responses=serializers.AgreementSerializer)
    def partial_update(self, request, *args, **kwargs):
        agreement = self.get_object()
        data = serializers.AgreementWriteSerializer(data=request.data, partial=True, context={"request": request})
        data.is_valid(raise_exception=True)
        changes = {k: v for k, v in data.validated_data.items() if k not in ("circle", "signatories")}
        agreement = services.update_agreement(acting_user=request.user, agreement=agreement, **changes)
        return Response(serializers.AgreementSerializer(agreement).data)


class MeasureFilter(django_filters.FilterSet):
    agreement = django_filters.NumberFilter(field_name="agreement_id")
    parent = django_filters.NumberFilter(field_name="parent_id")
    owner = django_filters.NumberFilter(label=_("owning agency"), field_name="owners__agency_id", distinct=True)
    due_before = django_filters.DateFilter(field_name="due_on", lookup_expr="lte")
    due_after = django_filters.DateFilter(field_name="due_on", lookup_expr="gte")

    class Meta:
        model = Measure
        fields = ["agreement", "parent", "category", "status", "is_leaf", "owner", "due_before", "due_after"]


class MeasureViewSet(
    VisibleModelViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """举措: the tree of an agreement, with the owners' shares, derived progress and the light."""

    queryset = Measure.objects.all()
    serializer_class = serializers.MeasureSerializer
    filterset_class = MeasureFilter
    required_scopes = {"GET": READ, "HEAD": READ, "OPTIONS": READ, "POST": "ledger:write"}

    def optimise(self, queryset):
        return queryset.select_related("agreement").prefetch_related(
            Prefetch(
                "owners",
                queryset=MeasureOwner.objects.select_related("agency").only(
                    "id",
                    "measure_id",
                    "role",
                    "department_id",
                    "person_id",
                    "status",
                    "progress",
                    "evidence",
                    "results",
                    "closed_at",
                    "last_report_at",
                    "report_due_on",
                    "agency__id",
                    "agency__name",
                ),
            )
        )

    @extend_schema(request=serializers.MeasureWriteSerializer, responses={201: serializers.MeasureSerializer})
    def create(self, request, *args, **kwargs):
        data = serializers.MeasureWriteSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        parent = fields.pop("parent", None)
        if parent is not None and not Measure.objects.visible_to(request.user).filter(pk=parent.pk).exists():
            raise ValidationError({"parent": [_("Unknown measure.")]})
        measure = services.add_measure(acting_user=request.user, parent=parent, **fields)
        return Response(
            self.get_serializer(self.get_queryset().get(pk=measure.pk)).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=serializers.OwnerWriteSerializer, responses={201: serializers.OwnerSerializer})
    @action(detail=True, methods=["post"])
    def owners(self, request, pk=None):
        """Assign an owning agency (主办 or 协办) to a leaf measure."""
        measure = self.get_object()
        data = serializers.OwnerWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        owner = services.assign_owner(acting_user=request.user, measure=measure, **data.validated_data)
        return Response(serializers.OwnerSerializer(owner).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.CloseShareSerializer, responses=serializers.OwnerSerializer)
    @action(detail=True, methods=["post"], url_path="close-share")
    def close_share(self, request, pk=None):
        """The caller's agency closes its share of the measure with its results (成效)."""
        measure = self.get_object()
        owner = get_object_or_404(
            MeasureOwner.objects.visible_to(request.user), measure=measure, agency_id=request.user.agency_id
        )
        data = serializers.CloseShareSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        owner = services.close_share(acting_user=request.user, owner=owner, **data.validated_data)
        return Response(serializers.OwnerSerializer(owner).data)

    @extend_schema(request=serializers.ConfirmClosureSerializer, responses=serializers.MeasureSerializer)
    @action(detail=True, methods=["post"], url_path="confirm-closure")
    def confirm_closure(self, request, pk=None):
        """销号: the coordinator's or a signatory's confirmation."""
        measure = self.get_object()
        data = serializers.ConfirmClosureSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.confirm_closure(acting_user=request.user, measure=measure, **data.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=measure.pk)).data)


class ProgressReportViewSet(
    VisibleModelViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """进展报告: owners file them (send an ``Idempotency-Key`` header when a client may retry)."""

    queryset = ProgressReport.objects.all()
    serializer_class = serializers.ProgressReportSerializer
    filterset_fields = ["measure", "owner"]
    required_scopes = REPORT

    def optimise(self, queryset):
        return queryset.select_related("owner__agency")

    @extend_schema(
        request=serializers.ProgressReportWriteSerializer, responses={201: serializers.ProgressReportSerializer}
    )
    def create(self, request, *args, **kwargs):
        data = serializers.ProgressReportWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        measure = fields.pop("measure")
        owner = (
            MeasureOwner.objects.visible_to(request.user)
            .filter(measure=measure, agency_id=getattr(request.user, "agency_id", None))
            .select_related("measure")
            .first()
        )
        if owner is None:
            raise ValidationError({"measure": [_("Your agency owns no share of this measure.")]})
        key = request.headers.get("Idempotency-Key", "")[:64]
        report = services.file_report(acting_user=request.user, owner=owner, idempotency_key=key, **fields)
        return Response(serializers.ProgressReportSerializer(report).data, status=status.HTTP_201_CREATED)


class SupervisionViewSet(
    VisibleModelViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """督办单: coordinators issue them to an owner; the owner replies; the coordinator closes them."""

    queryset = Supervision.objects.all()
    serializer_class = serializers.SupervisionSerializer
    filterset_fields = ["measure", "owner", "status"]
    required_scopes = REPORT

    def optimise(self, queryset):
        return queryset.select_related("owner__agency")

    @extend_schema(request=serializers.SupervisionWriteSerializer, responses={201: serializers.SupervisionSerializer})
    def create(self, request, *args, **kwargs):
        data = serializers.SupervisionWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        owner = _visible(MeasureOwner, request, fields.pop("owner").pk)
        supervision = services.issue_supervision(acting_user=request.user, owner=owner, **fields)
        return Response(serializers.SupervisionSerializer(supervision).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.SupervisionReplySerializer, responses=serializers.SupervisionSerializer)
    @action(detail=True, methods=["post"])
    def reply(self, request, pk=None):
        data = serializers.SupervisionReplySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        supervision = services.reply_supervision(
            acting_user=request.user, supervision=self.get_object(), **data.validated_data
        )
        return Response(serializers.SupervisionSerializer(supervision).data)

    @extend_schema(request=None, responses=serializers.SupervisionSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        supervision = services.close_supervision(acting_user=request.user, supervision=self.get_object())
        return Response(serializers.SupervisionSerializer(supervision).data)


BULLETIN_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


class BulletinViewSet(
    VisibleModelViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """定期通报: a circle's coordinators issue them (the worker renders .docx and .pdf); the circle's member agencies
    (an agreement's bulletin: its signatories) read and download them."""

    queryset = Bulletin.objects.all()
    serializer_class = serializers.BulletinSerializer
    filterset_fields = ["circle", "agreement", "status"]
    required_scopes = REPORT

    def optimise(self, queryset):
        return queryset.select_related("issuer")

    @extend_schema(request=serializers.BulletinWriteSerializer, responses={201: serializers.BulletinSerializer})
    def create(self, request, *args, **kwargs):
        data = serializers.BulletinWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key", "")[:64]
        bulletin = bulletins.create_bulletin(acting_user=request.user, idempotency_key=key, **data.validated_data)
        body = serializers.BulletinSerializer(bulletin, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=serializers.BulletinSerializer)
    @action(detail=True, methods=["post"])
    def rerender(self, request, pk=None):
        bulletin = bulletins.rerender_bulletin(acting_user=request.user, bulletin=self.get_object())
        return Response(serializers.BulletinSerializer(bulletin, context={"request": request}).data)

    def _download(self, kind: str):
        bulletin = self.get_object()
        document = getattr(bulletin, kind)
        if bulletin.status != BulletinStatus.READY or not document:
            raise NotFound(_("The bulletin's documents are not ready."))
        return FileResponse(
            document.open("rb"),
            as_attachment=True,
            filename=f"{bulletin.doc_number} {bulletin.title}.{kind}",
            content_type=BULLETIN_TYPES[kind],
        )

    @extend_schema(responses={(200, BULLETIN_TYPES["docx"]): bytes})
    @action(detail=True, methods=["get"])
    def docx(self, request, pk=None):
        return self._download("docx")

    @extend_schema(responses={(200, BULLETIN_TYPES["pdf"]): bytes})
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        return self._download("pdf")
