"""Joint meetings (联席会议 / 会商会 / 座谈会 …): a series of member agencies with a rotating host (轮值承办), its
meetings, the agenda topics (议题) every member proposes, the decisions (议定事项) that become ledger measures, and
the minutes (会议纪要) every member's liaison approves.

The loop with the ledger ("会商—落实—反馈"): a topic links ledger measures (red and overdue ones are offered), a
decision creates or updates measures once the minutes are approved by all, and the next meeting opens with the
open decisions of the earlier ones and their lights.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yipanqi.core.permissions import VisibleQuerySet
from yipanqi.directory.models import Agency, Circle
from yipanqi.ledger.models import Agreement, Measure


class SeriesKind(models.TextChoices):
    JOINT = "joint", _("Joint meeting (联席会议)")
    CONSULTATION = "consultation", _("Consultation meeting (会商会)")
    SYMPOSIUM = "symposium", _("Symposium (座谈会)")
    COORDINATION_GROUP = "coordination", _("Coordination group meeting (协调小组会议)")
    FORUM = "forum", _("Forum (论坛)")
    TRAINING = "training", _("Joint training (联合培训)")


class RotationRule(models.TextChoices):
    FIXED = "fixed", _("Fixed order")
    JOINING = "joining", _("Order of joining")
    CHOSEN = "chosen", _("Chosen each time")


class SeriesQuerySet(VisibleQuerySet):
    """Member agencies and the coordinators of the series' circle see a series."""

    def _visible_q(self, principal):
        q = Q(pk__in=[])
        if principal.agency_id:
            q = Q(pk__in=SeriesMember.objects.filter(agency_id=principal.agency_id).values("series_id"))
        if principal.coordinated_circle_ids:
            q |= Q(circle__in=principal.coordinated_circle_ids)
        return q


class MeetingSeries(models.Model):
    """A standing meeting of agencies, e.g. 长三角地区党委政法委书记座谈会 or 省法院—省检察院工作交流会商会."""

    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=SeriesKind.choices, default=SeriesKind.JOINT)
    circle = models.ForeignKey(
        Circle,
        verbose_name=_("cooperation circle"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="meeting_series",
    )
    members = models.ManyToManyField(
        Agency, verbose_name=_("member agencies"), through="SeriesMember", related_name="meeting_series"
    )
    standing_agreement = models.ForeignKey(
        Agreement,
        verbose_name=_("standing agreement"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="meeting_series",
        help_text=_("Decisions that create measures put them under this agreement unless the minutes become one"),
    )
    rotation_rule = models.CharField(
        _("host rotation"), max_length=10, choices=RotationRule.choices, default=RotationRule.FIXED
    )
    next_host = models.ForeignKey(
        Agency,
        verbose_name=_("next host (named)"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("A host named in advance (e.g. at the last meeting); overrides the rotation once"),
    )
    description = models.TextField(_("description"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = SeriesQuerySet.as_manager()

    class Meta:
        verbose_name = _("meeting series")
        verbose_name_plural = _("meeting series")
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def audit_agency(self):
        return self.circle.coordinating_agency if self.circle_id else None


class SeriesMember(models.Model):
    """An agency's seat in a series: its place in a fixed rotation and when it joined."""

    series = models.ForeignKey(MeetingSeries, verbose_name=_("series"), on_delete=models.CASCADE, related_name="seats")
    agency = models.ForeignKey(Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField(_("place in the rotation"), default=0)
    joined_at = models.DateTimeField(_("joined at"), auto_now_add=True)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["series_id", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["series", "agency"], name="seriesmember_unique_agency")]

    def __str__(self) -> str:
        return f"{self.series} · {self.agency}"


class MeetingStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    AGENDA_OPEN = "agenda_open", _("Agenda open")
    AGENDA_CLOSED = "agenda_closed", _("Agenda closed")
    HELD = "held", _("Held")
    MINUTES_APPROVED = "minutes_approved", _("Minutes approved")


MEETING_STEPS = [s.value for s in MeetingStatus]


class MinutesStatus(models.TextChoices):
    NONE = "", _("Not drafted")
    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved (final)")


class MeetingQuerySet(VisibleQuerySet):
    """Meetings are seen with their series."""

    def _visible_q(self, principal):
        return Q(series__in=MeetingSeries.objects.visible_to(principal).values("pk"))


class Meeting(models.Model):
    """One session of a series: 第N次会议, hosted (承办) by one member agency."""

    series = models.ForeignKey(
        MeetingSeries, verbose_name=_("series"), on_delete=models.CASCADE, related_name="meetings"
    )
    number = models.PositiveIntegerField(_("number in the series"))
    title = models.CharField(_("title"), max_length=200, blank=True)
    starts_at = models.DateTimeField(_("starts at"), db_index=True)
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    host = models.ForeignKey(Agency, verbose_name=_("host (承办)"), on_delete=models.PROTECT, related_name="+")
    participant_agencies = models.ManyToManyField(
        Agency, verbose_name=_("participating agencies"), blank=True, related_name="+"
    )
    participant_people = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("participants"), blank=True, related_name="meetings"
    )
    agenda_deadline = models.DateField(_("topics proposed until"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=MeetingStatus.choices, default=MeetingStatus.PLANNED, db_index=True
    )
    held_at = models.DateTimeField(_("recorded as held at"), null=True, blank=True)
    source_document = models.FileField(
        _("source document"),
        upload_to="meetings/%Y/",
        blank=True,
        help_text=_("The minutes or report the meeting was entered from (document intake)."),
    )
    minutes_status = models.CharField(
        _("minutes"), max_length=10, choices=MinutesStatus.choices, default=MinutesStatus.NONE, blank=True
    )
    minutes_text = models.TextField(_("minutes text"), blank=True)
    minutes_as_agreement = models.BooleanField(
        _("minutes become an agreement"),
        default=False,
        help_text=_("Once approved by all, the minutes are entered in the ledger as an agreement of kind 会议纪要"),
    )
    minutes_agreement = models.ForeignKey(
        Agreement,
        verbose_name=_("agreement made of the minutes"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    minutes_submitted_at = models.DateTimeField(_("minutes submitted at"), null=True, blank=True)
    minutes_approved_at = models.DateTimeField(_("minutes approved at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = MeetingQuerySet.as_manager()

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["series", "number"], name="meeting_unique_number"),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gte=models.F("starts_at")), name="meeting_times"
            ),
        ]

    def __str__(self) -> str:
        return self.display_title

    @property
    def display_title(self) -> str:
        from django.utils.translation import gettext

        if self.title:
            return self.title
        return gettext("%(series)s · No. %(number)s") % {"series": self.series.title, "number": self.number}

    @property
    def audit_agency(self):
        return self.host

    @property
    def is_frozen(self) -> bool:
        return self.minutes_status == MinutesStatus.APPROVED


class TopicOutcome(models.TextChoices):
    PENDING = "pending", _("On the agenda")
    CONCLUDED = "concluded", _("Concluded")
    UNFINISHED = "unfinished", _("Unfinished (carried over)")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class MeetingChildQuerySet(VisibleQuerySet):
    """Topics, decisions and approvals are seen with their meeting's series."""

    def _visible_q(self, principal):
        return Q(meeting__series__in=MeetingSeries.objects.visible_to(principal).values("pk"))


class Topic(models.Model):
    """议题: proposed by a member while the agenda is open, ordered by the host."""

    meeting = models.ForeignKey(Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="topics")
    position = models.PositiveIntegerField(_("position"), default=0)
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    proposed_by_agency = models.ForeignKey(
        Agency, verbose_name=_("proposed by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    proposed_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
    measures = models.ManyToManyField(Measure, verbose_name=_("linked measures"), blank=True, related_name="topics")
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=TopicOutcome.choices, default=TopicOutcome.PENDING, db_index=True
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, blank=True)
    carried_from = models.OneToOneField(
        "self",
        verbose_name=_("carried over from"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="carried_to",
    )

    objects = MeetingChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("agenda topic")
        verbose_name_plural = _("agenda topics")
        ordering = ["meeting_id", "position", "id"]
        indexes = [models.Index(fields=["meeting", "position"], name="topic_order_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "idempotency_key"], condition=~Q(idempotency_key=""), name="topic_idempotency"
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def audit_agency(self):
        return self.proposed_by_agency


class DecisionKind(models.TextChoices):
    INFORMATION = "info", _("For information (共识)")
    NEW_MEASURES = "new", _("Creates a ledger measure")
    UPDATE_MEASURES = "update", _("Updates ledger measures")


class DecisionTarget(models.TextChoices):
    STANDING = "standing", _("The series' standing agreement")
    MINUTES = "minutes", _("The agreement made of these minutes")


class Decision(models.Model):
    """议定事项 / 共识: taken on a topic; applied to the ledger when the minutes are approved by every member."""

    meeting = models.ForeignKey(Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="decisions")
    topic = models.ForeignKey(Topic, verbose_name=_("topic"), on_delete=models.CASCADE, related_name="decisions")
    position = models.PositiveIntegerField(_("position"), default=0)
    kind = models.CharField(_("kind"), max_length=10, choices=DecisionKind.choices, default=DecisionKind.INFORMATION)
    title = models.CharField(_("decision"), max_length=300)
    text = models.TextField(_("details"), blank=True)
    target = models.CharField(
        _("measure goes under"), max_length=10, choices=DecisionTarget.choices, blank=True, default=""
    )
    lead = models.ForeignKey(
        Agency, verbose_name=_("lead agency (主办)"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    co_owners = models.ManyToManyField(Agency, verbose_name=_("co-owners (协办)"), blank=True, related_name="+")
    due_on = models.DateField(_("deadline"), null=True, blank=True)
    measures = models.ManyToManyField(
        Measure, verbose_name=_("measures to update"), blank=True, related_name="updating_decisions"
    )
    new_due_on = models.DateField(_("new deadline"), null=True, blank=True)
    created_measure = models.ForeignKey(
        Measure,
        verbose_name=_("measure created"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="decisions",
    )
    applied_at = models.DateTimeField(_("entered in the ledger at"), null=True, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = MeetingChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["meeting_id", "position", "id"]
        indexes = [models.Index(fields=["meeting", "position"], name="decision_order_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "idempotency_key"], condition=~Q(idempotency_key=""), name="decision_idempotency"
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def audit_agency(self):
        return self.meeting.host if self.meeting_id else None


class MinutesApproval(models.Model):
    """One member agency's approval of the minutes, given by its liaison, of the text as it stood (its digest)."""

    meeting = models.ForeignKey(Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="approvals")
    agency = models.ForeignKey(Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), auto_now_add=True)
    text_digest = models.CharField(_("SHA-256 of the approved text"), max_length=64)
    comment = models.TextField(_("comment"), blank=True)

    objects = MeetingChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("minutes approval")
        verbose_name_plural = _("minutes approvals")
        ordering = ["meeting_id", "approved_at", "id"]
        constraints = [models.UniqueConstraint(fields=["meeting", "agency"], name="approval_unique_agency")]

    def __str__(self) -> str:
        return f"{self.meeting} · {self.agency}"

    @property
    def audit_agency(self):
        return self.agency
