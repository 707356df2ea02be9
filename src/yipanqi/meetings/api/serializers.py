"""Meetings API representations and request bodies.

The read serializers work only from rows the viewsets prefetch, so a page costs the same number of queries however
many members, topics or decisions it shows. The write serializers check shapes and that referenced objects exist
and are visible; everything else (membership, states, who may act) is the services' call."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from yipanqi.core.api.fields import ChoiceLabelField
from yipanqi.directory.api.serializers import AgencyRefSerializer
from yipanqi.directory.models import Agency, Circle, User
from yipanqi.ledger.models import Agreement, Measure

from .. import selectors
from ..models import (
    Decision,
    DecisionKind,
    DecisionTarget,
    Meeting,
    MeetingSeries,
    MeetingStatus,
    MinutesApproval,
    MinutesStatus,
    RotationRule,
    SeriesKind,
    Topic,
    TopicOutcome,
)
from ..services import digest

# --------------------------------------------------------------------------- helpers


class VisiblePrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """An object the caller may see: one it may not see is answered exactly like one that does not exist."""

    def get_queryset(self):
        return super().get_queryset().visible_to(self.context["request"].user)


def ordered_seats(series: MeetingSeries) -> list:
    """``selectors.seats`` from the prefetched ``seats``."""
    return selectors.order_seats(series.rotation_rule, series.seats.all())


def proposed_host(series: MeetingSeries) -> Agency | None:
    """``selectors.proposed_host`` from the prefetched ``seats`` and ``meetings``: no query per series in a list."""
    ordered = [seat.agency for seat in ordered_seats(series)]
    hosted = [(m.number, m.host_id) for m in series.meetings.all()]
    return selectors.next_host(series.rotation_rule, ordered, hosted, series.next_host_id)


class PersonRefSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = User
        fields = ["id", "name"]


class MeasureRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Measure
        fields = ["id", "agreement", "number", "title"]


class DecisionStateSerializer(serializers.Serializer):
    """selectors.decision_state: noted, awaiting_minutes, applied, in_progress or done; the ledger light and
    progress of the measures it created or updates."""

    code = serializers.CharField()
    light = serializers.CharField()
    progress = serializers.IntegerField(allow_null=True)


# --------------------------------------------------------------------------- series


class SeatSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="agency.id")
    name = serializers.CharField(source="agency.name")
    position = serializers.IntegerField()
    joined_at = serializers.DateTimeField()


class SeriesSerializer(serializers.ModelSerializer):
    kind_display = ChoiceLabelField(SeriesKind, source="kind")
    rotation_rule_display = ChoiceLabelField(RotationRule, source="rotation_rule")
    next_host = AgencyRefSerializer(read_only=True)
    members = serializers.SerializerMethodField()
    proposed_next_host = serializers.SerializerMethodField()
    meeting_counts = serializers.SerializerMethodField()

    class Meta:
        model = MeetingSeries
        fields = [
            "id",
            "title",
            "kind",
            "kind_display",
            "circle",
            "standing_agreement",
            "rotation_rule",
            "rotation_rule_display",
            "next_host",
            "proposed_next_host",
            "description",
            "members",
            "meeting_counts",
            "created_at",
        ]

    @extend_schema_field(SeatSerializer(many=True))
    def get_members(self, series):
        return SeatSerializer(ordered_seats(series), many=True).data

    @extend_schema_field(AgencyRefSerializer(allow_null=True))
    def get_proposed_next_host(self, series):
        host = proposed_host(series)
        return {"id": host.pk, "name": host.name} if host else None

    def get_meeting_counts(self, series) -> dict[str, int]:
        """How many meetings the series has had, in total and by status."""
        counts = dict.fromkeys(MeetingStatus.values, 0)
        for meeting in series.meetings.all():
            counts[meeting.status] += 1
        return {"total": sum(counts.values()), **counts}


class SeriesWriteSerializer(serializers.Serializer):
    """``members``: the member agencies' ids in rotation order (the fixed order of a fixed rotation)."""

    title = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=SeriesKind.choices, required=False)
    circle = VisiblePrimaryKeyRelatedField(queryset=Circle.objects.all(), allow_null=True, required=False)
    standing_agreement = VisiblePrimaryKeyRelatedField(
        queryset=Agreement.objects.all(), allow_null=True, required=False
    )
    rotation_rule = serializers.ChoiceField(choices=RotationRule.choices, required=False)
    next_host = serializers.PrimaryKeyRelatedField(queryset=Agency.objects.all(), allow_null=True, required=False)
    description = serializers.CharField(allow_blank=True, required=False)
    members = serializers.PrimaryKeyRelatedField(queryset=Agency.objects.all(), many=True)


# --------------------------------------------------------------------------- meetings


class SeriesRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = MeetingSeries
        fields = ["id", "title"]


class ApprovalSerializer(serializers.ModelSerializer):
    agency = AgencyRefSerializer(read_only=True)
    approved_by = serializers.StringRelatedField(help_text="The liaison's name; null for an approval given on paper")
    digest = serializers.CharField(source="text_digest", read_only=True)

    class Meta:
        model = MinutesApproval
        fields = ["agency", "approved_by", "approved_at", "digest", "comment"]


def _pending_agencies(meeting: Meeting) -> list[dict]:
    """Members whose liaison has not approved the minutes yet (only while the minutes await approval)."""
    if meeting.minutes_status != MinutesStatus.PENDING:
        return []
    approved = {a.agency_id for a in meeting.approvals.all()}
    return [
        {"id": s.agency.pk, "name": s.agency.name} for s in ordered_seats(meeting.series) if s.agency.pk not in approved
    ]


class MeetingSerializer(serializers.ModelSerializer):
    series = SeriesRefSerializer(read_only=True)
    display_title = serializers.CharField(read_only=True)
    host = AgencyRefSerializer(read_only=True)
    participant_agencies = AgencyRefSerializer(many=True, read_only=True)
    participant_people = PersonRefSerializer(many=True, read_only=True)
    status_display = ChoiceLabelField(MeetingStatus, source="status")
    minutes_status_display = ChoiceLabelField(MinutesStatus, source="minutes_status")
    topic_count = serializers.IntegerField(read_only=True)
    decision_count = serializers.IntegerField(read_only=True)
    approvals = ApprovalSerializer(many=True, read_only=True)
    pending_agencies = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    class Meta:
        model = Meeting
        fields = [
            "id",
            "series",
            "number",
            "title",
            "display_title",
            "starts_at",
            "ends_at",
            "place",
            "host",
            "participant_agencies",
            "participant_people",
            "agenda_deadline",
            "status",
            "status_display",
            "held_at",
            "minutes_status",
            "minutes_status_display",
            "minutes_as_agreement",
            "minutes_agreement",
            "minutes_submitted_at",
            "minutes_approved_at",
            "topic_count",
            "decision_count",
            "approvals",
            "pending_agencies",
            "links",
            "created_at",
        ]

    @extend_schema_field(AgencyRefSerializer(many=True))
    def get_pending_agencies(self, meeting):
        return _pending_agencies(meeting)

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                name: {"type": "string", "format": "uri"}
                for name in ("topics", "decisions", "open_decisions", "minutes", "web")
            },
        }
    )
    def get_links(self, meeting):
        request = self.context.get("request")
        pk = meeting.pk
        return {
            "topics": reverse("meetingtopic-list", request=request) + f"?meeting={pk}",
            "decisions": reverse("meetingdecision-list", request=request) + f"?meeting={pk}",
            "open_decisions": reverse("meeting-open-decisions", args=[pk], request=request),
            "minutes": reverse("meeting-minutes", args=[pk], request=request),
            "web": reverse("meetings:meeting", args=[pk], request=request),
        }


class MeetingWriteSerializer(serializers.Serializer):
    """Without ``host`` the series' proposed host hosts; without ``participant_agencies`` every member takes part."""

    series = VisiblePrimaryKeyRelatedField(queryset=MeetingSeries.objects.all())
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(allow_null=True, required=False)
    title = serializers.CharField(max_length=200, allow_blank=True, required=False)
    place = serializers.CharField(max_length=200, allow_blank=True, required=False)
    host = serializers.PrimaryKeyRelatedField(queryset=Agency.objects.all(), allow_null=True, required=False)
    agenda_deadline = serializers.DateField(allow_null=True, required=False)
    participant_agencies = serializers.PrimaryKeyRelatedField(queryset=Agency.objects.all(), many=True, required=False)
    participant_people = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), many=True, required=False)
    minutes_as_agreement = serializers.BooleanField(required=False)


class OrderSerializer(serializers.Serializer):
    """Every topic's id in the new order (withdrawn topics may be left out: they go last)."""

    topics = serializers.ListField(child=serializers.IntegerField())


class MinutesSerializer(serializers.ModelSerializer):
    meeting = serializers.IntegerField(source="pk", read_only=True)
    text = serializers.CharField(source="minutes_text", read_only=True)
    as_agreement = serializers.BooleanField(source="minutes_as_agreement", read_only=True)
    status = serializers.CharField(source="minutes_status", read_only=True)
    status_display = ChoiceLabelField(MinutesStatus, source="minutes_status")
    submitted_at = serializers.DateTimeField(source="minutes_submitted_at", read_only=True)
    approved_at = serializers.DateTimeField(source="minutes_approved_at", read_only=True)
    agreement = serializers.PrimaryKeyRelatedField(source="minutes_agreement", read_only=True)
    digest = serializers.SerializerMethodField()
    approvals = ApprovalSerializer(many=True, read_only=True)
    pending_agencies = serializers.SerializerMethodField()

    class Meta:
        model = Meeting
        fields = [
            "meeting",
            "text",
            "as_agreement",
            "status",
            "status_display",
            "submitted_at",
            "approved_at",
            "agreement",
            "digest",
            "approvals",
            "pending_agencies",
        ]

    def get_digest(self, meeting) -> str:
        """SHA-256 of the text: an approval whose digest differs approved another text."""
        return digest(meeting.minutes_text)

    @extend_schema_field(AgencyRefSerializer(many=True))
    def get_pending_agencies(self, meeting):
        return _pending_agencies(meeting)


class MinutesWriteSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True, required=False, trim_whitespace=False)
    as_agreement = serializers.BooleanField(required=False)


class MinutesDraftSerializer(serializers.Serializer):
    regenerate = serializers.BooleanField(default=False)


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(allow_blank=True, required=False, default="")


# --------------------------------------------------------------------------- topics and decisions


class _DecisionStateMixin(serializers.Serializer):
    state = serializers.SerializerMethodField()

    @extend_schema_field(DecisionStateSerializer)
    def get_state(self, decision):
        today = self.context.setdefault("today", timezone.localdate())
        return selectors.decision_state(decision, today)


class TopicDecisionSerializer(_DecisionStateMixin, serializers.ModelSerializer):
    lead = AgencyRefSerializer(read_only=True)
    co_owners = AgencyRefSerializer(many=True, read_only=True)
    kind_display = ChoiceLabelField(DecisionKind, source="kind")

    class Meta:
        model = Decision
        fields = ["id", "title", "kind", "kind_display", "lead", "co_owners", "due_on", "state"]


class TopicSerializer(serializers.ModelSerializer):
    proposed_by_agency = AgencyRefSerializer(read_only=True)
    proposed_by = PersonRefSerializer(read_only=True)
    measures = MeasureRefSerializer(many=True, read_only=True)
    outcome_display = ChoiceLabelField(TopicOutcome, source="outcome")
    decisions = TopicDecisionSerializer(many=True, read_only=True)

    class Meta:
        model = Topic
        fields = [
            "id",
            "meeting",
            "position",
            "title",
            "description",
            "proposed_by_agency",
            "proposed_by",
            "proposed_at",
            "measures",
            "outcome",
            "outcome_display",
            "carried_from",
            "decisions",
        ]


class TopicWriteSerializer(serializers.Serializer):
    """``agency``: the proposing member agency, by default the caller's own (the series' coordinators may name any
    member)."""

    meeting = VisiblePrimaryKeyRelatedField(queryset=Meeting.objects.all())
    title = serializers.CharField(max_length=300)
    description = serializers.CharField(allow_blank=True, required=False)
    measures = serializers.PrimaryKeyRelatedField(queryset=Measure.objects.all(), many=True, required=False)
    agency = serializers.PrimaryKeyRelatedField(queryset=Agency.objects.all(), allow_null=True, required=False)


class OutcomeSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=TopicOutcome.choices)


class DecisionSerializer(_DecisionStateMixin, serializers.ModelSerializer):
    kind_display = ChoiceLabelField(DecisionKind, source="kind")
    target_display = ChoiceLabelField(DecisionTarget, source="target")
    lead = AgencyRefSerializer(read_only=True)
    co_owners = AgencyRefSerializer(many=True, read_only=True)
    measures = MeasureRefSerializer(many=True, read_only=True)
    created_measure = MeasureRefSerializer(read_only=True)

    class Meta:
        model = Decision
        fields = [
            "id",
            "meeting",
            "topic",
            "position",
            "kind",
            "kind_display",
            "title",
            "text",
            "target",
            "target_display",
            "lead",
            "co_owners",
            "due_on",
            "measures",
            "new_due_on",
            "created_measure",
            "applied_at",
            "state",
            "created_at",
        ]


class OpenDecisionSerializer(DecisionSerializer):
    """An open decision of an earlier meeting, with where it was taken."""

    meeting_number = serializers.IntegerField(source="meeting.number", read_only=True)
    topic_title = serializers.CharField(source="topic.title", read_only=True)

    class Meta(DecisionSerializer.Meta):
        fields = [*DecisionSerializer.Meta.fields, "meeting_number", "topic_title"]


class DecisionWriteSerializer(serializers.Serializer):
    topic = VisiblePrimaryKeyRelatedField(queryset=Topic.objects.all())
    title = serializers.CharField(max_length=300)
    text = serializers.CharField(allow_blank=True, required=False)
    kind = serializers.ChoiceField(choices=DecisionKind.choices, required=False)
    target = serializers.ChoiceField(choices=DecisionTarget.choices, allow_blank=True, required=False)
    lead = serializers.PrimaryKeyRelatedField(queryset=Agency.objects.all(), allow_null=True, required=False)
    co_owners = serializers.PrimaryKeyRelatedField(queryset=Agency.objects.all(), many=True, required=False)
    due_on = serializers.DateField(allow_null=True, required=False)
    measures = serializers.PrimaryKeyRelatedField(queryset=Measure.objects.all(), many=True, required=False)
    new_due_on = serializers.DateField(allow_null=True, required=False)
