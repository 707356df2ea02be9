"""Assistance API representations and request bodies.

The read serializers work only from rows the viewsets select or prefetch, so a page of requests costs the same
number of queries however many it shows. The write serializers check shapes and that referenced objects exist;
everything else (who may act, states, the kind's schema, routing) is the services' call, so the API refuses exactly
what the web forms refuse, with the same messages."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.reverse import reverse

from yipanqi.core.api.fields import ChoiceLabelField
from yipanqi.directory.api.serializers import AgencyRefSerializer, DepartmentSerializer, RegionRefSerializer
from yipanqi.directory.models import Agency, Circle, Department, Region, User
from yipanqi.meetings.api.serializers import PersonRefSerializer  # one "PersonRef" component in the schema

from .. import deadlines
from ..models import (
    AssistanceRequest,
    Attachment,
    ClockUnit,
    EventKind,
    FeedEntry,
    Receipt,
    RequestHop,
    RequestKind,
    RequestMessage,
    RequestStatus,
    RoutingRule,
    Urgency,
)

# --------------------------------------------------------------------------- references


class CircleRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Circle
        fields = ["id", "name", "short_name"]


class KindRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = RequestKind
        fields = ["id", "code", "name"]


# --------------------------------------------------------------------------- kinds


class KindClockSerializer(serializers.Serializer):
    within = serializers.IntegerField()
    unit = serializers.ChoiceField(choices=ClockUnit.choices)
    unit_display = serializers.CharField()


def _clock(kind: RequestKind, name: str) -> dict:
    unit = getattr(kind, f"{name}_unit")
    return {"within": getattr(kind, f"{name}_within"), "unit": unit, "unit_display": str(ClockUnit(unit).label)}


class KindPolicySerializer(serializers.Serializer):
    """The kind's deadline policy (deadlines.py): three clocks one after the other, the urgent finishing clock, when
    the light turns yellow, escalation of overdue requests and the longest extension."""

    sign = KindClockSerializer()
    accept = KindClockSerializer()
    finish = KindClockSerializer()
    urgent_finish_hours = serializers.IntegerField(allow_null=True)
    warn_percent = serializers.IntegerField()
    escalate_overdue = serializers.BooleanField()
    escalation_step_days = serializers.IntegerField()
    max_extension_days = serializers.IntegerField()


class RequestKindSerializer(serializers.ModelSerializer):
    routing_display = ChoiceLabelField(RoutingRule, source="routing")
    policy = serializers.SerializerMethodField()

    class Meta:
        model = RequestKind
        fields = [
            "id",
            "code",
            "name",
            "description",
            "sender_types",
            "receiver_types",
            "routing",
            "routing_display",
            "fields_schema",
            "required_attachments",
            "policy",
        ]

    @extend_schema_field(KindPolicySerializer)
    def get_policy(self, kind):
        return {
            "sign": _clock(kind, "sign"),
            "accept": _clock(kind, "accept"),
            "finish": _clock(kind, "finish"),
            "urgent_finish_hours": kind.urgent_finish_hours,
            "warn_percent": kind.warn_percent,
            "escalate_overdue": kind.escalate_overdue,
            "escalation_step_days": kind.escalation_step_days,
            "max_extension_days": kind.max_extension_days,
        }


class ProposedReceiverSerializer(serializers.Serializer):
    """routing.propose: a competent agency for the kind in the target region, with the counterpart lookup's score."""

    agency = AgencyRefSerializer()
    score = serializers.IntegerField()
    reasons = serializers.ListField(child=serializers.CharField())


# --------------------------------------------------------------------------- pieces of a request


class RequestHopSerializer(serializers.ModelSerializer):
    from_agency = AgencyRefSerializer(read_only=True)
    to_agency = AgencyRefSerializer(read_only=True)
    by = PersonRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = RequestHop
        fields = ["id", "from_agency", "to_agency", "reason", "by", "at"]


class RequestAttachmentSerializer(serializers.ModelSerializer):
    """A file's metadata; the file itself comes through ``download`` (API) or ``web`` (the site), both after the
    permission check."""

    agency = AgencyRefSerializer(read_only=True)
    uploaded_by = PersonRefSerializer(read_only=True, allow_null=True)
    message = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    links = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "request",
            "message",
            "label",
            "name",
            "content_type",
            "size",
            "sha256",
            "agency",
            "uploaded_by",
            "uploaded_at",
            "links",
        ]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "object",
            "properties": {name: {"type": "string", "format": "uri"} for name in ("download", "web")},
        }
    )
    def get_links(self, attachment):
        request = self.context.get("request")
        return {
            "download": reverse("assistanceattachment-download", args=[attachment.pk], request=request),
            "web": reverse("assistance:attachment", args=[attachment.pk], request=request),
        }


class RequestReceiptRefSerializer(serializers.ModelSerializer):
    """A receipt in a request's list: what it attests and its digest; ``url`` has the payload."""

    kind_display = ChoiceLabelField(EventKind, source="kind")
    issued_by = AgencyRefSerializer(read_only=True)
    issued_to = AgencyRefSerializer(read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Receipt
        fields = ["id", "kind", "kind_display", "issued_by", "issued_to", "created_at", "digest", "url"]
        read_only_fields = fields

    def get_url(self, receipt) -> str:
        return reverse("assistancereceipt-detail", args=[receipt.pk], request=self.context.get("request"))


RECEIPT_ALGORITHM = "sha256(canonical JSON of payload: keys sorted, no spaces, UTF-8)"


class RequestReceiptSerializer(RequestReceiptRefSerializer):
    """回执: ``digest`` is the SHA-256 of ``payload`` in canonical JSON (``algorithm``), so either side can check that
    the receipt was not altered; ``payload.content_sha256`` is the hash of what was sent (fields and attachments)."""

    number = serializers.CharField(source="request.number", read_only=True)
    algorithm = serializers.SerializerMethodField()

    class Meta(RequestReceiptRefSerializer.Meta):
        fields = [
            "id",
            "request",
            "number",
            "kind",
            "kind_display",
            "issued_by",
            "issued_to",
            "created_at",
            "payload",
            "digest",
            "algorithm",
            "url",
        ]
        read_only_fields = fields

    def get_algorithm(self, receipt) -> str:
        return RECEIPT_ALGORITHM


class RequestMessageSerializer(serializers.ModelSerializer):
    agency = AgencyRefSerializer(read_only=True)
    author = PersonRefSerializer(read_only=True, allow_null=True)
    attachments = RequestAttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = RequestMessage
        fields = ["id", "request", "agency", "author", "text", "created_at", "attachments"]
        read_only_fields = fields


# --------------------------------------------------------------------------- requests


class RequestClocksSerializer(serializers.Serializer):
    """The stored clocks (deadlines.py): ``running`` names the clock that runs now (sign, accept or finish; null when
    nothing is awaited from the receiver); ``due_at`` is its deadline and ``warn_at`` when the light turns yellow."""

    running = serializers.SerializerMethodField()
    due_at = serializers.DateTimeField(allow_null=True, read_only=True)
    warn_at = serializers.DateTimeField(allow_null=True, read_only=True)
    sign_due_at = serializers.DateTimeField(allow_null=True, read_only=True)
    accept_due_at = serializers.DateTimeField(allow_null=True, read_only=True)
    finish_due_at = serializers.DateTimeField(allow_null=True, read_only=True)
    paused_at = serializers.DateTimeField(allow_null=True, read_only=True)
    extended_days = serializers.IntegerField(read_only=True)

    @extend_schema_field(serializers.ChoiceField(choices=["sign", "accept", "finish"], allow_null=True))
    def get_running(self, request):
        clock = deadlines.running_clock(request.kind, request)
        return clock.name if clock else None


class PendingExtensionSerializer(serializers.Serializer):
    """An extension the receiver asked for, awaiting the sender's decision."""

    days = serializers.IntegerField()
    reason = serializers.CharField()


LIGHTS = ["red", "yellow", "green", "paused", ""]


class AssistanceRequestSerializer(serializers.ModelSerializer):
    """A request in a list (inbox, outbox): who, what, where it stands and its light."""

    kind = KindRefSerializer(read_only=True)
    urgency_display = ChoiceLabelField(Urgency, source="urgency")
    sender = AgencyRefSerializer(read_only=True)
    sender_department = DepartmentSerializer(read_only=True, allow_null=True)
    receiver = AgencyRefSerializer(read_only=True, allow_null=True)
    receiver_department = DepartmentSerializer(read_only=True, allow_null=True)
    assignee = PersonRefSerializer(read_only=True, allow_null=True)
    target_region = RegionRefSerializer(read_only=True, allow_null=True)
    escalated_to = AgencyRefSerializer(read_only=True, allow_null=True)
    status_display = ChoiceLabelField(RequestStatus, source="status")
    light = serializers.SerializerMethodField()

    class Meta:
        model = AssistanceRequest
        fields = [
            "id",
            "number",
            "kind",
            "title",
            "case_number",
            "parties",
            "urgency",
            "urgency_display",
            "sender",
            "sender_department",
            "receiver",
            "receiver_department",
            "assignee",
            "target_region",
            "status",
            "status_display",
            "light",
            "due_at",
            "escalated_to",
            "created_at",
            "sent_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=LIGHTS))
    def get_light(self, request):
        """red past the running deadline, yellow near it, green before, paused while awaiting material, "" when
        nothing runs (a draft, an answered, closed, returned or withdrawn request)."""
        return deadlines.light(request, self.context.setdefault("now", timezone.now()))


class AssistanceRequestDetailSerializer(AssistanceRequestSerializer):
    """A request with its details, clocks, routing chain, receipts and attachments."""

    fields = serializers.JSONField(read_only=True, help_text=_("The kind's fields (see the kind's fields_schema)"))
    created_by = PersonRefSerializer(read_only=True, allow_null=True)
    circle = CircleRefSerializer(read_only=True, allow_null=True)
    clocks = RequestClocksSerializer(source="*", read_only=True)
    extension = serializers.SerializerMethodField()
    hops = RequestHopSerializer(many=True, read_only=True)
    receipts = RequestReceiptRefSerializer(many=True, read_only=True)
    attachments = RequestAttachmentSerializer(many=True, read_only=True)
    links = serializers.SerializerMethodField()

    class Meta(AssistanceRequestSerializer.Meta):
        fields = [
            *AssistanceRequestSerializer.Meta.fields,
            "fields",
            "created_by",
            "circle",
            "received_at",
            "accepted_at",
            "answered_at",
            "closed_at",
            "clocks",
            "extension",
            "escalation_level",
            "result",
            "return_reason",
            "hops",
            "receipts",
            "attachments",
            "links",
        ]
        read_only_fields = fields

    @extend_schema_field(PendingExtensionSerializer(allow_null=True))
    def get_extension(self, request):
        if not request.extension_asked_days:
            return None
        return {"days": request.extension_asked_days, "reason": request.extension_reason}

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                name: {"type": "string", "format": "uri"} for name in ("messages", "attachments", "receipts", "web")
            },
        }
    )
    def get_links(self, request):
        http = self.context.get("request")
        pk = request.pk
        return {
            "messages": reverse("assistancerequest-messages", args=[pk], request=http),
            "attachments": reverse("assistancerequest-attachments", args=[pk], request=http),
            "receipts": reverse("assistancerequest-receipts", args=[pk], request=http),
            "web": reverse("assistance:request", args=[pk], request=http),
        }


class AssistanceRequestWriteSerializer(serializers.Serializer):
    """A draft. ``kind`` by code; ``sender`` defaults to the caller's agency; ``receiver`` and ``target_region`` (a
    6-digit code) may wait until sending; ``fields`` is checked against the kind's ``fields_schema``. Only ``title``,
    ``case_number``, ``parties``, ``urgency``, ``fields``, ``target_region``, ``receiver`` and ``sender_department``
    change in a draft."""

    kind = serializers.SlugRelatedField(slug_field="code", queryset=RequestKind.objects.all())
    sender = serializers.PrimaryKeyRelatedField(queryset=Agency.objects.all(), required=False)
    title = serializers.CharField(max_length=200)
    case_number = serializers.CharField(max_length=80, allow_blank=True, required=False)
    parties = serializers.CharField(max_length=300, allow_blank=True, required=False)
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    fields = serializers.DictField(required=False)
    target_region = serializers.SlugRelatedField(
        slug_field="code", queryset=Region.objects.all(), allow_null=True, required=False
    )
    receiver = serializers.PrimaryKeyRelatedField(queryset=Agency.objects.all(), allow_null=True, required=False)
    sender_department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.all(), allow_null=True, required=False
    )


# --------------------------------------------------------------------------- transitions


class RequestAssignmentSerializer(serializers.Serializer):
    """A department and/or a case handler of the receiving agency (accept: both optional — the acceptor handles it
    by default)."""

    department = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all(), allow_null=True, required=False)
    assignee = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), allow_null=True, required=False)


class RequestReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, trim_whitespace=False)


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, required=False, default="")


class RequestForwardSerializer(RequestReasonSerializer):
    to = serializers.PrimaryKeyRelatedField(queryset=Agency.objects.all())


class RequestAnswerSerializer(serializers.Serializer):
    result = serializers.CharField(allow_blank=True, trim_whitespace=False)


class ExtensionRequestSerializer(serializers.Serializer):
    days = serializers.IntegerField()
    reason = serializers.CharField(allow_blank=True, trim_whitespace=False)


class ExtensionDecisionSerializer(serializers.Serializer):
    grant = serializers.BooleanField()
    note = serializers.CharField(allow_blank=True, required=False, default="")


class ResumeSerializer(serializers.Serializer):
    note = serializers.CharField(allow_blank=True, required=False, default="")


class BulkSignSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=False, max_length=200)


class SignRefusalSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    message = serializers.CharField()


class BulkSignResultSerializer(serializers.Serializer):
    signed = serializers.ListField(child=serializers.IntegerField())
    refused = SignRefusalSerializer(many=True)


class RequestMessageWriteSerializer(serializers.Serializer):
    """JSON ``{"text"}``, or multipart with ``text`` and any number of ``files``."""

    text = serializers.CharField(allow_blank=True, trim_whitespace=False)
    files = serializers.ListField(child=serializers.FileField(), required=False)


class RequestAttachmentWriteSerializer(serializers.Serializer):
    """Multipart: ``file`` and the document's ``label`` (e.g. 执行依据文书: a kind's required documents go by label)."""

    file = serializers.FileField()
    label = serializers.CharField(max_length=100, allow_blank=True, required=False, default="")


# --------------------------------------------------------------------------- the event feed


class FeedRequestRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    kind = serializers.CharField(help_text="the request kind's code")


class AssistanceFeedItemSerializer(serializers.ModelSerializer):
    """One event as it reached the agency's feed; ``cursor`` orders the feed."""

    cursor = serializers.IntegerField(source="pk")
    event = serializers.IntegerField(source="event_id")
    request = serializers.SerializerMethodField()
    kind = serializers.ChoiceField(source="event.kind", choices=EventKind.choices)
    kind_display = ChoiceLabelField(EventKind, source="event.kind")
    at = serializers.DateTimeField(source="event.at")
    actor_agency = AgencyRefSerializer(source="event.actor_agency", allow_null=True)
    data = serializers.JSONField(source="event.data")

    class Meta:
        model = FeedEntry
        fields = ["cursor", "event", "request", "kind", "kind_display", "at", "actor_agency", "data"]
        read_only_fields = fields

    @extend_schema_field(FeedRequestRefSerializer)
    def get_request(self, entry):
        request = entry.event.request
        return {"id": request.pk, "number": request.number, "kind": request.kind.code}


@extend_schema_serializer(many=False)  # one page object, although it answers the feed's "list" action
class AssistanceFeedPageSerializer(serializers.Serializer):
    results = AssistanceFeedItemSerializer(many=True)
    next_cursor = serializers.IntegerField(help_text="pass as ``after`` in the next poll")


class FeedQuerySerializer(serializers.Serializer):
    after = serializers.IntegerField(min_value=0, required=False, default=0)
    limit = serializers.IntegerField(min_value=1, max_value=500, required=False, default=100)
