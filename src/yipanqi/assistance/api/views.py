"""Assistance API, for agencies' own systems (and people): kinds, requests with their transitions, the thread,
attachments, receipts and each agency's event feed.

Reads start from ``visible_to()`` (outsiders get 404 and empty lists; a case handler who is not a liaison sees only
his own and his department's requests); every write calls a service, whose ValidationError, PermissionError and
Conflict the core handler answers as 400, 403 and 409, with nothing changed. An agency's systems need
``assistance:read`` to read and ``assistance:write`` to write."""

from __future__ import annotations

import base64
import functools

import django_filters
from django.core.paginator import Paginator
from django.core.validators import RegexValidator
from django.db import OperationalError, connection, transaction
from django.db.models import Prefetch, Q, prefetch_related_objects
from django.http import FileResponse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from yipanqi.core.api.viewsets import VisibleModelViewSetMixin
from yipanqi.core.errors import Conflict
from yipanqi.directory.models import Region

from .. import routing, selectors, services
from ..models import (
    AssistanceRequest,
    Attachment,
    FeedEntry,
    Receipt,
    RequestHop,
    RequestKind,
    RequestMessage,
    RequestStatus,
    Urgency,
)
from . import serializers

READ, WRITE = "assistance:read", "assistance:write"
READ_ONLY = {"GET": READ, "HEAD": READ, "OPTIONS": READ}
SCOPES = {**READ_ONLY, "POST": WRITE, "PATCH": WRITE}

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Up to 64 characters, unique per sending agency: a retry with the same key answers 200 with the "
    "request the first call created, and nothing is written twice.",
)


def _idempotency_key(request) -> str:
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > 64:
        raise exceptions.ValidationError({"Idempotency-Key": [_("Use an idempotency key of at most 64 characters.")]})
    return key


# --------------------------------------------------------------------------- kinds


class RequestKindViewSet(viewsets.ReadOnlyModelViewSet):
    """请求类型: the kinds in use, with their fields (a JSON Schema whose titles are the Chinese labels), required
    documents and deadline policy. Reference data: every signed-in person and every system with
    ``assistance:read`` reads them alike (kinds have no visible_to: nothing about them is confidential)."""

    queryset = RequestKind.objects.filter(is_active=True)
    serializer_class = serializers.RequestKindSerializer
    lookup_field = "code"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    required_scopes = READ_ONLY

    @extend_schema(
        parameters=[OpenApiParameter("region", str, required=True, description="target region code (6 digits)")],
        responses=serializers.ProposedReceiverSerializer(many=True),
        filters=False,
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def receivers(self, request, code=None):
        """The competent agencies in the target region for a request of this kind from the caller's agency, best
        first (routing.propose: the kind's receiver types and routing rule over the directory's counterpart
        lookup)."""
        kind = self.get_object()
        sender = getattr(request.user, "agency", None)
        if sender is None:
            raise exceptions.ValidationError({"sender": [_("You belong to no agency, so there is no sender.")]})
        region_code = request.query_params.get("region", "")
        region = Region.objects.visible_to(request.user).filter(code=region_code).first() if region_code else None
        if region is None:
            raise exceptions.ValidationError({"region": [_("Give the 6-digit code of the target region.")]})
        proposals = routing.propose(request.user, kind, sender, region)
        return Response(serializers.ProposedReceiverSerializer(proposals, many=True).data)


# --------------------------------------------------------------------------- requests


BOXES = {"inbox": selectors.inbox, "outbox": selectors.outbox, "escalated": selectors.escalated}
LIGHT_CHOICES = [
    ("red", gettext_lazy("overdue")),
    ("yellow", gettext_lazy("near the deadline")),
    ("green", gettext_lazy("in time")),
    ("paused", gettext_lazy("awaiting material")),
]


def region_prefix(code: str) -> str:
    """The code prefix that covers a region and everything below it: 510000 → 51, 510100 → 5101 (GB/T 2260 codes
    give two digits to each level); a shorter prefix is taken as it is."""
    while len(code) > 2 and code.endswith("00"):
        code = code[:-2]
    return code


class RequestFilter(django_filters.FilterSet):
    """The inbox and outbox filters. ``box`` picks where the list starts (selectors.inbox / selectors.outbox, see
    ``RequestViewSet.get_queryset``); without it the list is every request the caller may see."""

    box = django_filters.ChoiceFilter(
        label=gettext_lazy("box"),
        choices=[
            ("inbox", gettext_lazy("inbox")),
            ("outbox", gettext_lazy("outbox")),
            ("escalated", gettext_lazy("escalated to the caller's agency")),
        ],
        method="filter_box",
    )
    kind = django_filters.CharFilter(label=gettext_lazy("kind (code)"), field_name="kind__code", max_length=40)
    status = django_filters.MultipleChoiceFilter(label=gettext_lazy("status"), choices=RequestStatus.choices)
    urgency = django_filters.ChoiceFilter(label=gettext_lazy("urgency"), choices=Urgency.choices)
    light = django_filters.ChoiceFilter(label=gettext_lazy("light"), choices=LIGHT_CHOICES, method="filter_light")
    counterpart_region = django_filters.CharFilter(
        label=gettext_lazy("counterpart region (code or code prefix)"),
        method="filter_counterpart_region",
        max_length=6,
        validators=[RegexValidator(r"^[0-9]{2,6}$", gettext_lazy("Give a region code: 2 to 6 digits."))],
    )
    sent_after = django_filters.IsoDateTimeFilter(
        label=gettext_lazy("sent after"), field_name="sent_at", lookup_expr="gte"
    )
    sent_before = django_filters.IsoDateTimeFilter(
        label=gettext_lazy("sent before"), field_name="sent_at", lookup_expr="lt"
    )
    q = django_filters.CharFilter(
        label=gettext_lazy("number, case number, party or subject"), method="filter_q", max_length=100
    )
    ordering = django_filters.OrderingFilter(fields=(("due_at", "due_at"), ("sent_at", "sent_at"), ("id", "id")))

    class Meta:
        model = AssistanceRequest
        fields = [
            "box",
            "kind",
            "status",
            "urgency",
            "light",
            "counterpart_region",
            "sent_after",
            "sent_before",
            "q",
        ]

    def filter_box(self, queryset, name, value):
        return queryset  # applied by the viewset: the box is where the list starts, not a filter on it

    def filter_light(self, queryset, name, value):
        return queryset.filter(selectors.light_filter(value, timezone.now()))

    def filter_counterpart_region(self, queryset, name, value):
        """The region of the other side: the sender's for the inbox, the receiver's for the outbox, and without a box
        whichever side is not the caller's agency."""
        prefix = region_prefix(value)
        from_there = Q(sender__region__code__startswith=prefix)
        to_there = Q(receiver__region__code__startswith=prefix)
        box = self.form.cleaned_data.get("box")
        if box in ("inbox", "escalated"):
            return queryset.filter(from_there)
        if box == "outbox":
            return queryset.filter(to_there)
        agency_id = getattr(self.request.user, "agency_id", None)
        if agency_id:
            from_there &= ~Q(sender_id=agency_id)
            to_there &= ~Q(receiver_id=agency_id)
        return queryset.filter(from_there | to_there)

    def filter_q(self, queryset, name, value):
        return selectors.search(queryset, value)


class CountedPaginator(Paginator):
    """A paginator whose count is given (a function, called once) rather than taken with ``COUNT(*)``."""

    def __init__(self, object_list, per_page, *, count, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self._count = count

    @cached_property
    def count(self) -> int:
        return self._count()


# What the representations read. Only the relations every request has are joined: PostgreSQL plans a query of ten
# joins in more time than it takes to run it (15 ms against 1 ms on the bench's data), so the optional ones (mostly
# empty) are fetched by one small query each, whatever the page's length.
LIST_JOINED = ("kind", "sender", "receiver")
LIST_PREFETCHED = ("sender_department", "receiver_department", "assignee", "target_region", "escalated_to")


CHILDREN = ("hops", "receipts", "attachments")


def detail_prefetches():
    """The detail's relations beyond the list's: the chain, receipts (without their payloads) and attachments."""
    return (
        *LIST_PREFETCHED,
        "created_by",
        "circle",
        Prefetch("hops", queryset=RequestHop.objects.select_related("from_agency", "to_agency", "by")),
        Prefetch("receipts", queryset=Receipt.objects.select_related("issued_by", "issued_to").defer("payload")),
        Prefetch("attachments", queryset=Attachment.objects.select_related("agency", "uploaded_by")),
    )


def requests_for_list(queryset):
    """What the list representation reads: a constant number of queries for a page."""
    return queryset.select_related(*LIST_JOINED).prefetch_related(*LIST_PREFETCHED)


def requests_for_detail(queryset):
    """What the detail representation reads."""
    return queryset.select_related(*LIST_JOINED).prefetch_related(*detail_prefetches())


def for_detail(request: AssistanceRequest) -> AssistanceRequest:
    """A request a service just returned, completed for the detail representation without reading it again (the
    relations the service loaded are kept; a changed foreign key has dropped its cached object)."""
    prefetch_related_objects([request], *LIST_JOINED, *detail_prefetches())
    return request


def _attachments():
    return Attachment.objects.select_related("agency", "uploaded_by")


class RequestViewSet(
    VisibleModelViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """协作请求 (协查函, 委托执行函 …): the sending and receiving agencies, the agencies it passed through, the superior
    it was escalated to and the circle's coordinators see a request; a case handler who is not a liaison sees his own
    and his department's. The sender drafts, sends, closes, reopens and withdraws; the receiver signs, accepts,
    returns, forwards, works on, answers, asks for an extension or for more material."""

    queryset = AssistanceRequest.objects.all()
    filterset_class = RequestFilter
    required_scopes = SCOPES
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        if self.action == "list":
            box = BOXES.get(self.request.query_params.get("box", ""))
            if box is not None:
                return self.optimise(box(self.request.user))
        return super().get_queryset()

    def paginate_queryset(self, queryset):
        """A box's count comes from ``selectors.box_count`` (cached until the agency's feed moves on), except under
        a light filter, whose count changes with the time."""
        params = self.request.query_params
        agency_id = getattr(self.request.user, "agency_id", None)
        if self.action == "list" and params.get("box") in BOXES and not params.get("light") and agency_id:
            self.paginator.django_paginator_class = functools.partial(
                CountedPaginator, count=lambda: selectors.box_count(queryset, agency_id)
            )
        return super().paginate_queryset(queryset)

    def get_serializer_class(self):
        return (
            serializers.AssistanceRequestSerializer
            if self.action == "list"
            else serializers.AssistanceRequestDetailSerializer
        )

    def optimise(self, queryset):
        """The list and the detail read what their representations show; a step, the thread, the attachments and
        the receipts need only the request itself (the services lock and read it again)."""
        if self.action == "list":
            return requests_for_list(queryset)
        if self.action == "retrieve":
            return requests_for_detail(queryset)
        return queryset

    def _visible_detail(self, pk: int) -> AssistanceRequest | None:
        return requests_for_detail(AssistanceRequest.objects.visible_to(self.request.user).filter(pk=pk)).first()

    def _write(self, serializer_class, *, partial=False) -> dict:
        data = serializer_class(data=self.request.data, partial=partial, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        return dict(data.validated_data)

    def _detail(self, request: AssistanceRequest, **kwargs) -> Response:
        """The request as the caller's step left it: the object the service returned (the service checked the
        caller's right to take the step), completed with the detail's relations. A step can take a request out of
        the caller's sight (a department's case handler forwarding it, or assigning it to another department): the
        answer still shows the outcome of the step just taken."""
        return Response(self.get_serializer(for_detail(request)).data, **kwargs)

    @extend_schema(
        request=serializers.AssistanceRequestWriteSerializer,
        responses={
            201: serializers.AssistanceRequestDetailSerializer,
            200: serializers.AssistanceRequestDetailSerializer,
        },
        parameters=[IDEMPOTENCY_KEY],
    )
    def create(self, request, *args, **kwargs):
        """Draft a request (services.create_request). Send an ``Idempotency-Key`` header when a client may retry:
        the retry answers 200 with the first call's request."""
        fields = self._write(serializers.AssistanceRequestWriteSerializer)
        key = _idempotency_key(request)
        sender = fields.pop("sender", None) or getattr(request.user, "agency", None)
        if sender is None:
            raise exceptions.ValidationError({"sender": [_("Name the sending agency: you belong to none.")]})
        kind, title = fields.pop("kind"), fields.pop("title")
        draft = services.create_request(
            acting_user=request.user, kind=kind, sender=sender, title=title, idempotency_key=key, **fields
        )
        if not getattr(draft, "replayed", False):
            # A new draft has no routing chain, receipts or attachments yet: nothing to read for them.
            draft._prefetched_objects_cache = {name: getattr(draft, name).none() for name in CHILDREN}
            return self._detail(draft, status=status.HTTP_201_CREATED)
        found = self._visible_detail(draft.pk)
        if found is None:  # a colleague's request under the same key, which this caller may not see
            raise Conflict(_("Your agency has used this idempotency key for another request."))
        return Response(self.get_serializer(found).data, status=status.HTTP_200_OK)

    @extend_schema(
        request=serializers.AssistanceRequestWriteSerializer, responses=serializers.AssistanceRequestDetailSerializer
    )
    def partial_update(self, request, *args, **kwargs):
        """Change a draft (services.update_draft); the kind and the sender stay."""
        changes = self._write(serializers.AssistanceRequestWriteSerializer, partial=True)
        draft = services.update_draft(acting_user=request.user, request=self.get_object(), **changes)
        return self._detail(draft)

    # ----------------------------------------------------------------------- transitions

    def _step(self, service, body=None, **kwargs) -> Response:
        fields = self._write(body) if body is not None else {}
        changed = service(acting_user=self.request.user, request=self.get_object(), **fields, **kwargs)
        return self._detail(changed)

    @extend_schema(request=None, responses=serializers.AssistanceRequestDetailSerializer)
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        """Send the draft (or a returned request, revised): it gets its number, the first hop and the signing clock.
        A receiver the kind's routing refuses, a missing field of the kind's schema or a missing required document
        answers 400 naming it."""
        return self._step(services.send)

    @extend_schema(request=None, responses=serializers.AssistanceRequestDetailSerializer)
    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        """签收, by the receiver: a receipt for the sender; the accepting clock starts."""
        return self._step(services.sign)

    @extend_schema(
        request=serializers.RequestAssignmentSerializer, responses=serializers.AssistanceRequestDetailSerializer
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """受理 / 立案, by the receiver (signing is implied): the finishing clock starts. Of two accepting at once,
        the second gets 409."""
        return self._step(services.accept, serializers.RequestAssignmentSerializer)

    @extend_schema(request=serializers.RequestReasonSerializer, responses=serializers.AssistanceRequestDetailSerializer)
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_request(self, request, pk=None):
        """退回, by the receiver before accepting, with the reason; the sender may revise and send it again."""
        return self._step(services.return_request, serializers.RequestReasonSerializer)

    @extend_schema(
        request=serializers.RequestForwardSerializer, responses=serializers.AssistanceRequestDetailSerializer
    )
    @action(detail=True, methods=["post"])
    def forward(self, request, pk=None):
        """转办, by the receiver before accepting, to the competent agency (the kind's routing applies), with the
        reason; the chain (``hops``) stays visible to every agency in it."""
        return self._step(services.forward, serializers.RequestForwardSerializer)

    @extend_schema(request=None, responses=serializers.AssistanceRequestDetailSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self._step(services.start)

    @extend_schema(request=serializers.RequestAnswerSerializer, responses=serializers.AssistanceRequestDetailSerializer)
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        """答复, by the receiver once accepted (before: 409), with the result; upload result documents first."""
        return self._step(services.answer, serializers.RequestAnswerSerializer)

    @extend_schema(request=None, responses=serializers.AssistanceRequestDetailSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """办结, by the sender once answered."""
        return self._step(services.close)

    @extend_schema(request=serializers.RequestReasonSerializer, responses=serializers.AssistanceRequestDetailSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        """The answer does not settle it: back to the receiver with the reason and a new finishing clock."""
        return self._step(services.reopen, serializers.RequestReasonSerializer)

    @extend_schema(request=serializers.WithdrawSerializer, responses=serializers.AssistanceRequestDetailSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """撤回, by the sender before acceptance."""
        return self._step(services.withdraw, serializers.WithdrawSerializer)

    @extend_schema(
        request=serializers.ExtensionRequestSerializer, responses=serializers.AssistanceRequestDetailSerializer
    )
    @action(detail=True, methods=["post"])
    def extension(self, request, pk=None):
        """延期申请, by the receiver while working on it: days (up to the kind's longest extension) and the reason."""
        return self._step(services.request_extension, serializers.ExtensionRequestSerializer)

    @extend_schema(
        request=serializers.ExtensionDecisionSerializer, responses=serializers.AssistanceRequestDetailSerializer
    )
    @action(detail=True, methods=["post"], url_path="extension-decision", url_name="extension-decision")
    def extension_decision(self, request, pk=None):
        """The sender grants (the finishing deadline moves by the days asked) or refuses the extension."""
        return self._step(services.decide_extension, serializers.ExtensionDecisionSerializer)

    @extend_schema(request=serializers.RequestReasonSerializer, responses=serializers.AssistanceRequestDetailSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        """补充材料, by the receiver: what is missing; the clock stands still until the sender resumes."""
        return self._step(services.pause, serializers.RequestReasonSerializer)

    @extend_schema(request=serializers.ResumeSerializer, responses=serializers.AssistanceRequestDetailSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """The sender has supplied the material (attached or in the thread): the clocks move on by the time paused."""
        return self._step(services.resume, serializers.ResumeSerializer)

    @extend_schema(
        request=serializers.RequestAssignmentSerializer, responses=serializers.AssistanceRequestDetailSerializer
    )
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """The receiving agency gives the request to a department and/or a case handler of its own."""
        return self._step(services.assign, serializers.RequestAssignmentSerializer)

    @extend_schema(
        request=serializers.BulkSignSerializer,
        responses=serializers.BulkSignResultSerializer,
        operation_id="v1_assistance_requests_bulk_sign",
    )
    @action(detail=False, methods=["post"], url_path="sign", url_name="bulk-sign", filterset_class=None)
    def bulk_sign(self, request):
        """Bulk signing from the inbox (services.sign_many): each request on its own, a refusal does not stop the
        others. A request the caller may not see is refused like one that does not exist."""
        ids = list(dict.fromkeys(self._write(serializers.BulkSignSerializer)["ids"]))
        found = AssistanceRequest.objects.visible_to(request.user).in_bulk(ids)
        signed, refused = services.sign_many(acting_user=request.user, requests=[found[i] for i in ids if i in found])
        refusals = {r.pk: message for r, message in refused}
        refusals.update({i: _("Not found.") for i in ids if i not in found})
        body = {
            "signed": [r.pk for r in signed],
            "refused": [{"id": i, "message": str(refusals[i])} for i in ids if i in refusals],
        }
        return Response(body)

    # ----------------------------------------------------------------------- thread, attachments, receipts

    @extend_schema(methods=["GET"], responses=serializers.RequestMessageSerializer(many=True), filters=False)
    @extend_schema(
        methods=["POST"],
        request={
            "application/json": serializers.RequestMessageWriteSerializer,
            "multipart/form-data": serializers.RequestMessageWriteSerializer,
        },
        responses={201: serializers.RequestMessageSerializer},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        filterset_class=None,
        parser_classes=[JSONParser, MultiPartParser, FormParser],
    )
    def messages(self, request, pk=None):
        """一案一议: the thread between the two agencies, oldest first. POST writes in it for the caller's agency
        (the sender's or the receiver's liaisons and case handlers, or their systems) once the request is sent."""
        parent = self.get_object()
        if request.method == "POST":
            fields = self._write(serializers.RequestMessageWriteSerializer)
            message = services.post_message(
                acting_user=request.user, request=parent, text=fields["text"], files=fields.get("files", ())
            )
            body = serializers.RequestMessageSerializer(
                self._messages(parent).get(pk=message.pk), context={"request": request}
            )
            return Response(body.data, status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(self._messages(parent))
        body = serializers.RequestMessageSerializer(page, many=True, context={"request": request})
        return self.get_paginated_response(body.data)

    def _messages(self, parent):
        return (
            RequestMessage.objects.visible_to(self.request.user)
            .filter(request=parent)
            .select_related("agency", "author")
            .prefetch_related(Prefetch("attachments", queryset=_attachments()))
            .order_by("id")
        )

    @extend_schema(methods=["GET"], responses=serializers.RequestAttachmentSerializer(many=True), filters=False)
    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": serializers.RequestAttachmentWriteSerializer},
        responses={201: serializers.RequestAttachmentSerializer},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        filterset_class=None,
        parser_classes=[MultiPartParser, FormParser, JSONParser],
    )
    def attachments(self, request, pk=None):
        """The request's files (metadata, SHA-256 and download links). POST (multipart: ``file``, ``label``) stores
        one for the caller's agency: over ``ASSISTANCE_MAX_UPLOAD_BYTES`` or of a type off the allow-list is a
        400 on ``file``."""
        parent = self.get_object()
        context = {"request": request}
        if request.method == "POST":
            fields = self._write(serializers.RequestAttachmentWriteSerializer)
            stored = services.attach(
                acting_user=request.user, request=parent, uploaded=fields["file"], label=fields["label"]
            )
            body = serializers.RequestAttachmentSerializer(_attachments().get(pk=stored.pk), context=context)
            return Response(body.data, status=status.HTTP_201_CREATED)
        rows = (
            Attachment.objects.visible_to(request.user).filter(request=parent).select_related("agency", "uploaded_by")
        )
        page = self.paginate_queryset(rows.order_by("id"))
        return self.get_paginated_response(
            serializers.RequestAttachmentSerializer(page, many=True, context=context).data
        )

    @extend_schema(responses=serializers.RequestReceiptSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], filterset_class=None)
    def receipts(self, request, pk=None):
        """回执 of the request: for sending, signing, accepting and answering, each with its payload and digest."""
        parent = self.get_object()
        rows = (
            Receipt.objects.visible_to(request.user)
            .filter(request=parent)
            .select_related("issued_by", "issued_to", "request")
            .order_by("id")
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(
            serializers.RequestReceiptSerializer(page, many=True, context={"request": request}).data
        )


# --------------------------------------------------------------------------- attachments and receipts by id


class AttachmentViewSet(VisibleModelViewSetMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A request's file, seen with its request: metadata, and ``download`` (the bytes, after the permission
    check)."""

    queryset = Attachment.objects.all()
    serializer_class = serializers.RequestAttachmentSerializer
    required_scopes = READ_ONLY
    filterset_class = None
    lookup_value_regex = r"[0-9]+"

    def optimise(self, queryset):
        return queryset.select_related("agency", "uploaded_by")

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """The file, as uploaded; ``Repr-Digest`` (RFC 9530) carries its SHA-256 for the client to check."""
        attachment = self.get_object()
        try:
            handle = attachment.file.open("rb")
        except FileNotFoundError:
            raise exceptions.NotFound(_("The file is missing from the file store.")) from None
        response = FileResponse(
            handle, as_attachment=True, filename=attachment.name, content_type=attachment.content_type
        )
        digest = base64.b64encode(bytes.fromhex(attachment.sha256)).decode()
        response["Repr-Digest"] = f"sha-256=:{digest}:"
        return response


class ReceiptViewSet(VisibleModelViewSetMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """回执: the payload (who did what when, and the SHA-256 of what was sent) and the digest over it."""

    queryset = Receipt.objects.all()
    serializer_class = serializers.RequestReceiptSerializer
    required_scopes = READ_ONLY
    filterset_class = None
    lookup_value_regex = r"[0-9]+"

    def optimise(self, queryset):
        return queryset.select_related("issued_by", "issued_to", "request")


# --------------------------------------------------------------------------- the event feed


class FeedBusy(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = gettext_lazy("The event feed is busy; poll again in a moment.")
    default_code = "busy"
    wait = 1  # sent as Retry-After


FEED_LOCK_TIMEOUT = "5s"


def settled_feed(agency_id: int, after: int, limit: int) -> list[FeedEntry]:
    """``selectors.feed`` read when no write to the feed is in flight, so that polling never skips an event.

    The cursor is the feed entry's id, and ids are handed out when a row is inserted, not when its transaction
    commits: on PostgreSQL a poll could see entry 11 while entry 10 is still uncommitted, move its cursor to 11 and
    never see 10. The SHARE lock waits for every transaction that has written to the feed to end (and holds new
    writers back for the few milliseconds of the read), so every id below the newest one read is committed or will
    never be. SQLite runs one writer at a time and commits in id order: nothing to do there."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            table = connection.ops.quote_name(FeedEntry._meta.db_table)
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{FEED_LOCK_TIMEOUT}'")
                cursor.execute(f"LOCK TABLE {table} IN SHARE MODE")
        return list(selectors.feed(agency_id, after, limit))


class EventFeedViewSet(viewsets.GenericViewSet):
    """The event feed of the caller's agency (its systems' or its people's): every event of every request the agency
    sends, receives, forwarded or had escalated to it, oldest first. Poll with ``after`` = the last ``next_cursor``:
    no event is ever repeated or skipped. People see only the events of requests they may see."""

    queryset = FeedEntry.objects.none()
    serializer_class = serializers.AssistanceFeedItemSerializer
    required_scopes = READ_ONLY
    pagination_class = None
    filter_backends = []

    @extend_schema(
        parameters=[
            OpenApiParameter("after", int, description="the cursor of the last event seen (0: from the start)"),
            OpenApiParameter("limit", int, description="at most this many events (1–500, default 100)"),
        ],
        responses=serializers.AssistanceFeedPageSerializer,
    )
    def list(self, request):
        agency_id = getattr(request.user, "agency_id", None)
        if not agency_id:
            raise exceptions.PermissionDenied(_("The event feed is an agency's; you belong to none."))
        query = serializers.FeedQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        after, limit = query.validated_data["after"], query.validated_data["limit"]
        try:
            entries = settled_feed(agency_id, after, limit)
        except OperationalError:
            raise FeedBusy() from None
        next_cursor = entries[-1].pk if entries else after
        # The cursor moves past events the caller may not see (a department's case handler), never back.
        ids = {e.event.request_id for e in entries}
        shown = set(
            AssistanceRequest.objects.visible_to(request.user).filter(pk__in=ids).values_list("pk", flat=True)
            if ids
            else ()
        )
        items = [e for e in entries if e.event.request_id in shown]
        results = serializers.AssistanceFeedItemSerializer(items, many=True, context={"request": request}).data
        return Response({"results": results, "next_cursor": next_cursor})
