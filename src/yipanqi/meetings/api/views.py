"""Meetings API. Reads start from visible_to() (outsiders get 404 and empty lists); every write calls a service,
whose ValidationError, PermissionError and Conflict the core handler answers as 400, 403 and 409. An agency's
systems need ``meetings:read`` to read and ``meetings:write`` to write."""

from __future__ import annotations

import django_filters
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from yipanqi.core.api.viewsets import VisibleModelViewSetMixin
from yipanqi.directory.models import Agency, User
from yipanqi.ledger.models import Measure

from .. import selectors, services
from ..models import (
    Decision,
    DecisionKind,
    Meeting,
    MeetingSeries,
    MeetingStatus,
    MinutesApproval,
    SeriesKind,
    SeriesMember,
    Topic,
    TopicOutcome,
)
from . import serializers

READ, WRITE = "meetings:read", "meetings:write"
SCOPES = {"GET": READ, "HEAD": READ, "OPTIONS": READ, "POST": WRITE, "PATCH": WRITE, "DELETE": WRITE}

AGENCY_REF = Agency.objects.only("id", "name")
MEASURE_REF = Measure.objects.only("id", "agreement_id", "number", "title", "status", *selectors.LIGHT_FIELDS)
SEATS = SeriesMember.objects.select_related("agency").only(
    "id", "series_id", "position", "joined_at", "agency__id", "agency__name"
)


def _count(rows):
    """A per-meeting count as a subquery: two joined counts (topics × decisions) would multiply the rows."""
    rows = rows.filter(meeting=OuterRef("pk")).order_by().values("meeting").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def decisions_with_state(queryset):
    """Decisions with what their representation and ``selectors.decision_state`` read, in a fixed number of queries."""
    return queryset.select_related("lead", "created_measure").prefetch_related(
        Prefetch("co_owners", queryset=AGENCY_REF), Prefetch("measures", queryset=MEASURE_REF)
    )


def topics_with_decisions(queryset):
    return queryset.select_related("proposed_by_agency", "proposed_by").prefetch_related(
        Prefetch("measures", queryset=MEASURE_REF),
        Prefetch("decisions", queryset=decisions_with_state(Decision.objects.order_by("position", "id"))),
    )


class _MeetingsViewSet(
    VisibleModelViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    required_scopes = SCOPES
    http_method_names = ["get", "post", "patch", "head", "options"]

    def _write(self, serializer_class, *, partial=False) -> dict:
        data = serializer_class(data=self.request.data, partial=partial, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        return dict(data.validated_data)

    def _detail(self, pk: int, **kwargs) -> Response:
        """The object as the caller now sees it, read again with the list's prefetches."""
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data, **kwargs)


# --------------------------------------------------------------------------- series


class SeriesFilter(django_filters.FilterSet):
    circle = django_filters.NumberFilter(field_name="circle_id")
    kind = django_filters.ChoiceFilter(choices=SeriesKind.choices)

    class Meta:
        model = MeetingSeries
        fields = ["circle", "kind"]


class SeriesViewSet(_MeetingsViewSet):
    """会议机制: member agencies and the circle's coordinators see a series; the coordinators set it up and change
    it (a series outside any circle: its members' liaisons)."""

    queryset = MeetingSeries.objects.all()
    serializer_class = serializers.SeriesSerializer
    filterset_class = SeriesFilter

    def optimise(self, queryset):
        return queryset.select_related("next_host").prefetch_related(
            Prefetch("seats", queryset=SEATS),
            Prefetch("meetings", queryset=Meeting.objects.only("id", "series_id", "number", "host_id", "status")),
        )

    @extend_schema(request=serializers.SeriesWriteSerializer, responses={201: serializers.SeriesSerializer})
    def create(self, request, *args, **kwargs):
        series = services.create_series(acting_user=request.user, **self._write(serializers.SeriesWriteSerializer))
        return self._detail(series.pk, status=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.SeriesWriteSerializer, responses=serializers.SeriesSerializer)
    def partial_update(self, request, *args, **kwargs):
        changes = self._write(serializers.SeriesWriteSerializer, partial=True)
        series = services.update_series(acting_user=request.user, series=self.get_object(), **changes)
        return self._detail(series.pk)


# --------------------------------------------------------------------------- meetings


class MeetingFilter(django_filters.FilterSet):
    series = django_filters.NumberFilter(field_name="series_id")
    status = django_filters.ChoiceFilter(choices=MeetingStatus.choices)
    host = django_filters.NumberFilter(field_name="host_id")
    starts_after = django_filters.DateTimeFilter(label=_("starts after"), field_name="starts_at", lookup_expr="gte")
    starts_before = django_filters.DateTimeFilter(label=_("starts before"), field_name="starts_at", lookup_expr="lt")

    class Meta:
        model = Meeting
        fields = ["series", "status", "host", "starts_after", "starts_before"]


class MeetingViewSet(_MeetingsViewSet):
    """会议: scheduled by the series' coordinators or the host; the host (or the coordinators) opens and closes the
    agenda, records the meeting as held and drafts the minutes; every member's liaison approves them."""

    queryset = Meeting.objects.all()
    serializer_class = serializers.MeetingSerializer
    filterset_class = MeetingFilter

    def optimise(self, queryset):
        return (
            queryset.select_related("series", "host")
            .prefetch_related(
                Prefetch("participant_agencies", queryset=AGENCY_REF),
                Prefetch("participant_people", queryset=User.objects.only("id", "username", "full_name")),
                Prefetch("approvals", queryset=MinutesApproval.objects.select_related("agency", "approved_by")),
                Prefetch("series__seats", queryset=SEATS),
            )
            .annotate(
                topic_count=_count(Topic.objects.exclude(outcome=TopicOutcome.WITHDRAWN)),
                decision_count=_count(Decision.objects.all()),
            )
        )

    @extend_schema(request=serializers.MeetingWriteSerializer, responses={201: serializers.MeetingSerializer})
    def create(self, request, *args, **kwargs):
        """Schedule the series' next meeting; without ``host`` the proposed host hosts it."""
        fields = self._write(serializers.MeetingWriteSerializer)
        meeting = services.schedule_meeting(acting_user=request.user, **fields)
        return self._detail(meeting.pk, status=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.MeetingWriteSerializer, responses=serializers.MeetingSerializer)
    def partial_update(self, request, *args, **kwargs):
        changes = self._write(serializers.MeetingWriteSerializer, partial=True)
        meeting = services.update_meeting(acting_user=request.user, meeting=self.get_object(), **changes)
        return self._detail(meeting.pk)

    def _step(self, service, **kwargs) -> Response:
        meeting = service(acting_user=self.request.user, meeting=self.get_object(), **kwargs)
        return self._detail(meeting.pk)

    @extend_schema(request=None, responses=serializers.MeetingSerializer)
    @action(detail=True, methods=["post"], url_path="open-agenda")
    def open_agenda(self, request, pk=None):
        """Open the agenda: every member agency is told to propose its topics."""
        return self._step(services.open_agenda)

    @extend_schema(request=None, responses=serializers.MeetingSerializer)
    @action(detail=True, methods=["post"], url_path="close-agenda")
    def close_agenda(self, request, pk=None):
        return self._step(services.close_agenda)

    @extend_schema(request=None, responses=serializers.MeetingSerializer)
    @action(detail=True, methods=["post"])
    def held(self, request, pk=None):
        """Record that the meeting took place: outcomes, decisions and the minutes follow."""
        return self._step(services.mark_held)

    @extend_schema(request=serializers.OrderSerializer, responses=serializers.TopicSerializer(many=True))
    @action(detail=True, methods=["post"])
    def order(self, request, pk=None):
        """The host's order of the agenda; answers the topics in their new order."""
        meeting = self.get_object()
        ids = self._write(serializers.OrderSerializer)["topics"]
        services.order_topics(acting_user=request.user, meeting=meeting, topic_ids=ids)
        topics = topics_with_decisions(Topic.objects.filter(meeting=meeting).order_by("position", "id"))
        return Response(serializers.TopicSerializer(topics, many=True, context=self.get_serializer_context()).data)

    @extend_schema(responses=serializers.OpenDecisionSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], url_path="open-decisions", filterset_class=None)
    def open_decisions(self, request, pk=None):
        """Decisions of the series' earlier meetings still open (awaiting minutes, or their measures not closed),
        with their state: the next meeting opens with them."""
        # The selector picks the decisions; the prefetches are those this representation reads.
        decisions = decisions_with_state(selectors.open_decisions(self.get_object()).prefetch_related(None))
        page = self.paginate_queryset(decisions)
        body = serializers.OpenDecisionSerializer(page, many=True, context=self.get_serializer_context())
        return self.get_paginated_response(body.data)

    def _minutes(self, meeting: Meeting) -> Response:
        return Response(serializers.MinutesSerializer(self.get_queryset().get(pk=meeting.pk)).data)

    @extend_schema(methods=["GET"], responses=serializers.MinutesSerializer)
    @extend_schema(
        methods=["PATCH"], request=serializers.MinutesWriteSerializer, responses=serializers.MinutesSerializer
    )
    @action(detail=True, methods=["get", "patch"])
    def minutes(self, request, pk=None):
        """会议纪要: the text, its state and the approvals; PATCH edits the draft (the host or the coordinators)."""
        meeting = self.get_object()
        if request.method == "PATCH":
            fields = self._write(serializers.MinutesWriteSerializer)
            meeting = services.edit_minutes(
                acting_user=request.user,
                meeting=meeting,
                text=fields.get("text", meeting.minutes_text),
                as_agreement=fields.get("as_agreement"),
            )
            return self._minutes(meeting)
        return Response(serializers.MinutesSerializer(meeting).data)

    @extend_schema(request=serializers.MinutesDraftSerializer, responses=serializers.MinutesSerializer)
    @action(detail=True, methods=["post"], url_path="minutes/draft", url_name="minutes-draft")
    def minutes_draft(self, request, pk=None):
        """Write a draft from the topics and decisions (an existing draft is kept unless ``regenerate``)."""
        regenerate = self._write(serializers.MinutesDraftSerializer)["regenerate"]
        meeting = services.draft_minutes(acting_user=request.user, meeting=self.get_object(), regenerate=regenerate)
        return self._minutes(meeting)

    @extend_schema(request=None, responses=serializers.MinutesSerializer)
    @action(detail=True, methods=["post"], url_path="minutes/submit", url_name="minutes-submit")
    def minutes_submit(self, request, pk=None):
        """Send the draft to every member agency's liaison for approval."""
        return self._minutes(services.submit_minutes(acting_user=request.user, meeting=self.get_object()))

    @extend_schema(request=serializers.CommentSerializer, responses=serializers.MinutesSerializer)
    @action(detail=True, methods=["post"], url_path="minutes/approve", url_name="minutes-approve")
    def minutes_approve(self, request, pk=None):
        """The caller's agency approves the text as it stands (a member's liaison, in person). The last approval
        makes the minutes final and enters the decisions in the ledger."""
        comment = self._write(serializers.CommentSerializer)["comment"]
        meeting = self.get_object()
        services.approve_minutes(acting_user=request.user, meeting=meeting, comment=comment)
        return self._minutes(meeting)

    @extend_schema(request=serializers.CommentSerializer, responses=serializers.MinutesSerializer)
    @action(detail=True, methods=["post"], url_path="minutes/return", url_name="minutes-return")
    def minutes_return(self, request, pk=None):
        """Send the minutes back to draft with what should change; approvals given so far are void."""
        comment = self._write(serializers.CommentSerializer)["comment"]
        meeting = services.return_minutes(acting_user=request.user, meeting=self.get_object(), comment=comment)
        return self._minutes(meeting)


# --------------------------------------------------------------------------- topics


def _idempotency_key(request) -> str:
    return request.headers.get("Idempotency-Key", "")[:64]


class TopicFilter(django_filters.FilterSet):
    meeting = django_filters.NumberFilter(field_name="meeting_id")
    outcome = django_filters.ChoiceFilter(choices=TopicOutcome.choices)

    class Meta:
        model = Topic
        fields = ["meeting", "outcome"]


class TopicViewSet(_MeetingsViewSet):
    """议题, each with its decisions: any member agency proposes them while the agenda is open (send an
    ``Idempotency-Key`` header when a client may retry: the retry answers the first topic with 200)."""

    queryset = Topic.objects.all()
    serializer_class = serializers.TopicSerializer
    filterset_class = TopicFilter

    def optimise(self, queryset):
        return topics_with_decisions(queryset)

    @extend_schema(
        request=serializers.TopicWriteSerializer,
        responses={201: serializers.TopicSerializer, 200: serializers.TopicSerializer},
    )
    def create(self, request, *args, **kwargs):
        fields = self._write(serializers.TopicWriteSerializer)
        meeting, key = fields.pop("meeting"), _idempotency_key(request)
        retried = bool(key) and Topic.objects.filter(meeting=meeting, idempotency_key=key).exists()
        topic = services.propose_topic(acting_user=request.user, meeting=meeting, idempotency_key=key, **fields)
        return self._detail(topic.pk, status=status.HTTP_200_OK if retried else status.HTTP_201_CREATED)

    @extend_schema(request=serializers.TopicWriteSerializer, responses=serializers.TopicSerializer)
    def partial_update(self, request, *args, **kwargs):
        """Change the title, description or linked measures (the proposing agency or the host)."""
        changes = self._write(serializers.TopicWriteSerializer, partial=True)
        topic = services.update_topic(acting_user=request.user, topic=self.get_object(), **changes)
        return self._detail(topic.pk)

    @extend_schema(request=None, responses=serializers.TopicSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        topic = services.withdraw_topic(acting_user=request.user, topic=self.get_object())
        return self._detail(topic.pk)

    @extend_schema(request=serializers.OutcomeSerializer, responses=serializers.TopicSerializer)
    @action(detail=True, methods=["post"])
    def outcome(self, request, pk=None):
        """Concluded, or unfinished (it is carried over to the next meeting)."""
        outcome = self._write(serializers.OutcomeSerializer)["outcome"]
        topic = services.set_topic_outcome(acting_user=request.user, topic=self.get_object(), outcome=outcome)
        return self._detail(topic.pk)


# --------------------------------------------------------------------------- decisions


class DecisionFilter(django_filters.FilterSet):
    meeting = django_filters.NumberFilter(field_name="meeting_id")
    topic = django_filters.NumberFilter(field_name="topic_id")
    kind = django_filters.ChoiceFilter(choices=DecisionKind.choices)

    class Meta:
        model = Decision
        fields = ["meeting", "topic", "kind"]


class DecisionViewSet(mixins.DestroyModelMixin, _MeetingsViewSet):
    """议定事项: the host (or the coordinators) records them on the topics; once every member approves the minutes
    they enter the ledger. Send an ``Idempotency-Key`` header when a client may retry."""

    queryset = Decision.objects.all()
    serializer_class = serializers.DecisionSerializer
    filterset_class = DecisionFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def optimise(self, queryset):
        return decisions_with_state(queryset)

    @extend_schema(
        request=serializers.DecisionWriteSerializer,
        responses={201: serializers.DecisionSerializer, 200: serializers.DecisionSerializer},
    )
    def create(self, request, *args, **kwargs):
        fields = self._write(serializers.DecisionWriteSerializer)
        topic, key = fields.pop("topic"), _idempotency_key(request)
        retried = bool(key) and Decision.objects.filter(meeting_id=topic.meeting_id, idempotency_key=key).exists()
        decision = services.record_decision(acting_user=request.user, topic=topic, idempotency_key=key, **fields)
        return self._detail(decision.pk, status=status.HTTP_200_OK if retried else status.HTTP_201_CREATED)

    @extend_schema(request=serializers.DecisionWriteSerializer, responses=serializers.DecisionSerializer)
    def partial_update(self, request, *args, **kwargs):
        changes = self._write(serializers.DecisionWriteSerializer, partial=True)
        decision = services.update_decision(acting_user=request.user, decision=self.get_object(), **changes)
        return self._detail(decision.pk)

    def perform_destroy(self, instance):
        services.delete_decision(acting_user=self.request.user, decision=instance)
