"""Cross-region assistance requests (协查 / 线索移送 / 取证协作 / 委托执行 / 跨域立案 …).

A request goes from a sending agency to a receiving one, may be forwarded (转办) along a chain of hops, and runs on
clocks set by its kind's deadline policy (``deadlines.py``): sign (签收), accept (受理/立案), finish (办结). Every
transition is a service with an event; events feed each agency's polling feed and yield receipts (回执).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yipanqi.core.permissions import VisibleQuerySet
from yipanqi.directory.models import Agency, Circle, Department, Region, Role


class ClockUnit(models.TextChoices):
    CALENDAR_DAYS = "days", _("calendar days")
    WORKDAYS = "workdays", _("working days")
    HOURS = "hours", _("hours")
    MONTHS = "months", _("months")


class RoutingRule(models.TextChoices):
    ANY = "any", _("Any agency of an allowed type")
    SAME_LEVEL = "same_level", _("The counterpart of the same level (e.g. 委托执行: a court of the same level)")
    JURISDICTION = "jurisdiction", _("The agency with jurisdiction over the target region (e.g. 跨域立案)")


class RequestKind(models.Model):
    """A kind of request, kept as data by platform admins: who may send and receive it, its fields (a JSON Schema),
    the attachments it needs and its deadline policy."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60, unique=True)
    description = models.TextField(_("description"), blank=True)
    sender_types = models.JSONField(_("agency types that may send"), default=list)
    receiver_types = models.JSONField(_("agency types that may receive"), default=list)
    routing = models.CharField(_("routing"), max_length=20, choices=RoutingRule.choices, default=RoutingRule.ANY)
    fields_schema = models.JSONField(_("fields (JSON Schema)"), default=dict, blank=True)
    required_attachments = models.JSONField(
        _("required attachments"), default=list, blank=True, help_text=_("Names of the documents a request must carry")
    )
    sign_within = models.PositiveSmallIntegerField(_("sign within"), default=1)
    sign_unit = models.CharField(_("unit"), max_length=10, choices=ClockUnit.choices, default=ClockUnit.WORKDAYS)
    accept_within = models.PositiveSmallIntegerField(_("accept within"), default=3)
    accept_unit = models.CharField(_("unit"), max_length=10, choices=ClockUnit.choices, default=ClockUnit.WORKDAYS)
    finish_within = models.PositiveSmallIntegerField(_("finish within"), default=30)
    finish_unit = models.CharField(_("unit"), max_length=10, choices=ClockUnit.choices, default=ClockUnit.CALENDAR_DAYS)
    urgent_finish_hours = models.PositiveSmallIntegerField(
        _("urgent: finish within (hours)"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    warn_percent = models.PositiveSmallIntegerField(
        _("warn when this share of a clock is left (%)"),
        default=20,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
    )
    escalate_overdue = models.BooleanField(
        _("escalate when overdue"),
        default=False,
        help_text=_("Past the finishing deadline the receiving agency's superior is told and sees the request"),
    )
    escalation_step_days = models.PositiveSmallIntegerField(
        _("one level further up every (days)"), default=30, validators=[MinValueValidator(1)]
    )
    max_extension_days = models.PositiveSmallIntegerField(_("longest extension (days)"), default=30)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("request kind")
        verbose_name_plural = _("request kinds")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        """Admins edit kinds as data: the agency types must exist, the schema must be a valid JSON Schema."""
        import jsonschema

        from yipanqi.directory.models import AgencyType

        errors = {}
        for field in ("sender_types", "receiver_types"):
            values = getattr(self, field)
            unknown = [v for v in values if v not in AgencyType.values] if isinstance(values, list) else [values]
            if unknown or not values:
                errors[field] = [_("Use agency types from: %(types)s") % {"types": ", ".join(AgencyType.values)}]
        try:
            jsonschema.Draft202012Validator.check_schema(self.fields_schema or {})
        except jsonschema.SchemaError as exc:
            errors["fields_schema"] = [_("Not a valid JSON Schema: %(problem)s") % {"problem": exc.message}]
        attachments = self.required_attachments
        if not isinstance(attachments, list) or not all(isinstance(a, str) and a.strip() for a in attachments):
            errors["required_attachments"] = [_("A list of document names.")]
        if errors:
            raise ValidationError(errors)


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")


class RequestStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    RECEIVED = "received", _("Signed for (签收)")
    ACCEPTED = "accepted", _("Accepted (受理)")
    RETURNED = "returned", _("Returned (退回)")
    IN_PROGRESS = "in_progress", _("In progress")
    PAUSED = "paused", _("Awaiting material (补充材料)")
    ANSWERED = "answered", _("Answered (答复)")
    CLOSED = "closed", _("Closed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


OPEN_STATUSES = (
    RequestStatus.SENT,
    RequestStatus.RECEIVED,
    RequestStatus.ACCEPTED,
    RequestStatus.IN_PROGRESS,
    RequestStatus.PAUSED,
)


class RequestQuerySet(VisibleQuerySet):
    """Sending and receiving agencies, the agencies it passed through (and the superiors it was escalated to), and
    the coordinators of its circle see a request. A case handler who is not a liaison sees only what was written by,
    assigned to, or routed to them or their department."""

    def _visible_q(self, principal):
        q = Q(pk__in=[])
        if principal.coordinated_circle_ids:
            q |= Q(circle_id__in=principal.coordinated_circle_ids)
        agency_id = principal.agency_id
        if not agency_id:
            return q
        whole_agency = getattr(principal, "api_key_id", None) or not _narrowed(principal)
        sent = ~Q(status=RequestStatus.DRAFT)  # a draft is the sender's alone, even with its receiver chosen
        if whole_agency:
            q |= Q(sender_id=agency_id) | (sent & (Q(receiver_id=agency_id) | Q(escalated_to_id=agency_id)))
            q |= Q(pk__in=RequestHop.objects.filter(to_agency_id=agency_id).values("request_id"))
            q |= Q(pk__in=RequestHop.objects.filter(from_agency_id=agency_id).values("request_id"))
            return q
        mine = Q(created_by_id=principal.pk) | (sent & Q(assignee_id=principal.pk))
        if principal.department_id:
            mine |= Q(sender_id=agency_id, sender_department_id=principal.department_id)
            mine |= sent & Q(receiver_id=agency_id, receiver_department_id=principal.department_id)
        return q | mine


def _narrowed(principal) -> bool:
    """A person without the liaison (or viewer) role sees only their own and their department's requests."""
    roles = principal.role_set
    return Role.LIAISON not in roles and Role.VIEWER not in roles


COVERED = ["escalated_to", "circle", "due_at", "warn_at"]


class AssistanceRequest(models.Model):
    """One request between two agencies (协查函, 委托执行函 …), with its clocks."""

    kind = models.ForeignKey(RequestKind, verbose_name=_("kind"), on_delete=models.PROTECT, related_name="requests")
    number = models.CharField(_("number"), max_length=40, blank=True, help_text=_("Given when the request is sent"))
    title = models.CharField(_("subject"), max_length=200)
    case_number = models.CharField(_("case number (案号)"), max_length=80, blank=True, db_index=True)
    parties = models.CharField(
        _("parties"), max_length=300, blank=True, help_text=_("Names of the parties, for search")
    )
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    fields = models.JSONField(_("details"), default=dict, blank=True)
    sender = models.ForeignKey(Agency, verbose_name=_("sending agency"), on_delete=models.PROTECT, related_name="+")
    sender_department = models.ForeignKey(
        Department,
        verbose_name=_("sending department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("written by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    target_region = models.ForeignKey(
        Region, verbose_name=_("target region"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    receiver = models.ForeignKey(
        Agency, verbose_name=_("receiving agency"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    receiver_department = models.ForeignKey(
        Department,
        verbose_name=_("receiving department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    circle = models.ForeignKey(
        Circle, verbose_name=_("cooperation circle"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=12, choices=RequestStatus.choices, default=RequestStatus.DRAFT, db_index=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True, db_index=True)
    received_at = models.DateTimeField(_("signed for at"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # The clocks (deadlines.py): stored, so lists filter and colour by them in SQL.
    sign_due_at = models.DateTimeField(_("sign by"), null=True, blank=True)
    accept_due_at = models.DateTimeField(_("accept by"), null=True, blank=True)
    finish_due_at = models.DateTimeField(_("finish by"), null=True, blank=True)
    due_at = models.DateTimeField(_("current deadline"), null=True, blank=True, db_index=True)
    warn_at = models.DateTimeField(_("near the deadline from"), null=True, blank=True)
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    resume_status = models.CharField(_("status to resume"), max_length=12, choices=RequestStatus.choices, blank=True)
    extended_days = models.PositiveSmallIntegerField(_("days of extension granted"), default=0)
    extension_asked_days = models.PositiveSmallIntegerField(_("extension asked for (days)"), null=True, blank=True)
    extension_reason = models.TextField(_("reason for the extension"), blank=True)
    escalated_to = models.ForeignKey(
        Agency, verbose_name=_("escalated to"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    result = models.TextField(_("answer"), blank=True)
    return_reason = models.TextField(_("reason for returning"), blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, blank=True)

    objects = RequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("assistance request")
        verbose_name_plural = _("assistance requests")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["sender", "idempotency_key"], condition=~Q(idempotency_key=""), name="request_idempotency"
            ),
            models.UniqueConstraint(fields=["number"], condition=~Q(number=""), name="request_unique_number"),
        ]
        # Covering indexes (PostgreSQL; SQLite ignores ``include``): the inbox's and the outbox's counts and light
        # counts read only the index, visible_to's columns and the clocks included. Without them a busy agency's
        # count visits one table page per request (bench/README.md, bench_assistance).
        indexes = [
            models.Index(fields=["receiver", "status", "-id"], include=["sender", *COVERED], name="request_inbox_idx"),
            models.Index(fields=["sender", "status", "-id"], include=["receiver", *COVERED], name="request_outbox_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def audit_agency(self):
        return self.sender

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class RequestCounter(models.Model):
    """The last number given under a prefix ("510000-2026-"): sending reads and bumps one row, under its lock."""

    prefix = models.CharField(_("prefix"), max_length=30, primary_key=True)
    last = models.PositiveIntegerField(_("last number given"), default=0)

    class Meta:
        verbose_name = _("request counter")
        verbose_name_plural = _("request counters")

    def __str__(self) -> str:
        return f"{self.prefix}{self.last}"


class RequestHop(models.Model):
    """One leg of the routing chain: sent, or forwarded (转办) with a reason."""

    request = models.ForeignKey(
        AssistanceRequest, verbose_name=_("request"), on_delete=models.CASCADE, related_name="hops"
    )
    from_agency = models.ForeignKey(Agency, verbose_name=_("from"), on_delete=models.PROTECT, related_name="+")
    to_agency = models.ForeignKey(Agency, verbose_name=_("to"), on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("routing hop")
        verbose_name_plural = _("routing hops")
        ordering = ["request_id", "id"]
        indexes = [
            models.Index(fields=["to_agency", "request"], name="hop_to_idx"),
            models.Index(fields=["from_agency", "request"], name="hop_from_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.from_agency} → {self.to_agency}"


class EventKind(models.TextChoices):
    CREATED = "created", _("Drafted")
    SENT = "sent", _("Sent")
    SIGNED = "signed", _("Signed for")
    ACCEPTED = "accepted", _("Accepted")
    RETURNED = "returned", _("Returned")
    STARTED = "started", _("Work started")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    FORWARDED = "forwarded", _("Forwarded (转办)")
    EXTENSION_REQUESTED = "extension_requested", _("Extension requested")
    EXTENSION_GRANTED = "extension_granted", _("Extension granted")
    EXTENSION_REFUSED = "extension_refused", _("Extension refused")
    PAUSED = "paused", _("More material asked for")
    RESUMED = "resumed", _("Material supplied")
    MESSAGE = "message", _("Message")
    ASSIGNED = "assigned", _("Assigned")
    ESCALATED = "escalated", _("Escalated")


class RequestChildQuerySet(VisibleQuerySet):
    """Events, messages, attachments and receipts are seen with their request."""

    def _visible_q(self, principal):
        return Q(request__in=AssistanceRequest.objects.visible_to(principal).values("pk"))


class RequestEvent(models.Model):
    """What happened to a request: the lifecycle log, the source of receipts and of the agencies' event feeds."""

    request = models.ForeignKey(
        AssistanceRequest, verbose_name=_("request"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("kind"), max_length=24, choices=EventKind.choices)
    at = models.DateTimeField(_("at"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_agency = models.ForeignKey(
        Agency, verbose_name=_("agency"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    data = models.JSONField(_("details"), default=dict, blank=True)

    objects = RequestChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("request event")
        verbose_name_plural = _("request events")
        ordering = ["request_id", "id"]

    def __str__(self) -> str:
        return f"{self.request_id} {self.kind}"


class FeedEntry(models.Model):
    """An event as it reaches one agency's feed (polling with a cursor = this id): the sender, the receiver and the
    agencies of the chain each get one row per event."""

    agency = models.ForeignKey(Agency, verbose_name=_("agency"), on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(RequestEvent, verbose_name=_("event"), on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("feed entry")
        verbose_name_plural = _("feed entries")
        indexes = [models.Index(fields=["agency", "id"], name="feed_agency_idx")]
        constraints = [models.UniqueConstraint(fields=["agency", "event"], name="feed_unique")]

    def __str__(self) -> str:
        return f"{self.agency_id} #{self.event_id}"


class RequestMessage(models.Model):
    """一案一议: the thread between the two agencies."""

    request = models.ForeignKey(
        AssistanceRequest, verbose_name=_("request"), on_delete=models.CASCADE, related_name="messages"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    agency = models.ForeignKey(Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("message"))
    created_at = models.DateTimeField(_("written at"), auto_now_add=True)

    objects = RequestChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["request_id", "id"]

    def __str__(self) -> str:
        return self.text[:40]


class Attachment(models.Model):
    """A file of a request, stored with its SHA-256; served only through a permission check."""

    request = models.ForeignKey(
        AssistanceRequest, verbose_name=_("request"), on_delete=models.CASCADE, related_name="attachments"
    )
    message = models.ForeignKey(
        RequestMessage,
        verbose_name=_("message"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attachments",
    )
    label = models.CharField(_("document"), max_length=100, blank=True, help_text=_("e.g. 执行依据文书"))
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    file = models.FileField(_("file"), upload_to="assistance/%Y/%m/")
    agency = models.ForeignKey(Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="+")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    objects = RequestChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["request_id", "id"]

    def __str__(self) -> str:
        return self.name


class Receipt(models.Model):
    """回执: who did what when, with the SHA-256 of what was sent; the other side downloads it."""

    request = models.ForeignKey(
        AssistanceRequest, verbose_name=_("request"), on_delete=models.CASCADE, related_name="receipts"
    )
    event = models.OneToOneField(
        RequestEvent, verbose_name=_("event"), on_delete=models.CASCADE, related_name="receipt"
    )
    kind = models.CharField(_("kind"), max_length=24, choices=EventKind.choices)
    issued_by = models.ForeignKey(Agency, verbose_name=_("issued by"), on_delete=models.PROTECT, related_name="+")
    issued_to = models.ForeignKey(Agency, verbose_name=_("issued to"), on_delete=models.PROTECT, related_name="+")
    payload = models.JSONField(_("contents"))
    digest = models.CharField(_("SHA-256 of the contents"), max_length=64)
    created_at = models.DateTimeField(_("issued at"), auto_now_add=True)

    objects = RequestChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        ordering = ["request_id", "id"]

    def __str__(self) -> str:
        return f"{self.request_id} {self.kind}"
