from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .permissions import VisibleQuerySet, is_authenticated


class AuditEventQuerySet(VisibleQuerySet):
    _visible_needs_distinct = False

    def _visible_q(self, principal):
        """People see events about their own agency; coordinators see events of their circles' agencies."""
        from yipanqi.directory.models import Agency

        q = Q(subject_agency_id=principal.agency_id) if principal.agency_id else Q(pk__in=[])
        circles = principal.coordinated_circle_ids
        if circles:
            q |= Q(subject_agency__in=Agency.objects.in_circles(circles).values("pk"))
        return q

    def for_object(self, obj):
        return self.filter(content_type=ContentType.objects.get_for_model(type(obj)), object_id=str(obj.pk))


class AuditEvent(models.Model):
    """One write by a person or an agency system: who, for which agency, what changed, under which request."""

    time = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_agency = models.ForeignKey(
        "directory.Agency",
        verbose_name=_("actor's agency"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    api_key = models.ForeignKey(
        "directory.ApiKey",
        verbose_name=_("API key"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    request_id = models.CharField(_("request id"), max_length=64, blank=True, db_index=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=80, db_index=True)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(_("object id"), max_length=64)
    object_repr = models.CharField(_("object"), max_length=300)
    subject_agency = models.ForeignKey(
        "directory.Agency",
        verbose_name=_("subject agency"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit event")
        ordering = ["-time", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "-time"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.time:%Y-%m-%d %H:%M:%S} {self.action} {self.object_repr}"

    @property
    def changes(self) -> list[tuple[str, object, object]]:
        before, after = self.before or {}, self.after or {}
        keys = sorted(set(before) | set(after))
        return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]


class DataVersion(models.Model):
    """A counter per app, bumped inside every audited write: cached reads are keyed by it (see core/versioning.py)."""

    key = models.CharField(_("key"), max_length=40, primary_key=True)
    version = models.BigIntegerField(_("version"), default=0)

    class Meta:
        verbose_name = _("data version")
        verbose_name_plural = _("data versions")

    def __str__(self) -> str:
        return f"{self.key}@{self.version}"


class CalendarDay(models.Model):
    """One day the State Council announced as a day off or a make-up workday, kept by platform admins.

    The calendar packages know the official 节假日 and 调休 only up to the last announced year (see core/workdays.py);
    rows here add later years' announcements and override the packages for any date (a correction).
    """

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Holiday (day off)")
        WORKDAY = "workday", _("Make-up workday")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(
        _("name"), max_length=100, help_text=_("The holiday it belongs to, as announced (in Chinese).")
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.get_kind_display()} {self.name}"


# Codes that name things in data (notification kinds, daily job names): lower-case ASCII words joined by . _ -
code_validator = RegexValidator(
    r"^[a-z0-9]+(?:[._-][a-z0-9]+)*\Z", _("Use lower-case letters, digits and . _ - (e.g. ledger.overdue).")
)


class NotificationQuerySet(VisibleQuerySet):
    """A notification is personal: only its recipient sees it, platform admins included (no admin bypass)."""

    def visible_to(self, principal):
        if not is_authenticated(principal) or getattr(principal, "pk", None) is None:
            return self.none()  # anonymous, and API keys: a system is no person and has no notifications
        return self.filter(self._visible_q(principal))

    def _visible_q(self, principal):
        return Q(recipient_id=principal.pk)

    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """Something a person should look at: shown in the web UI (bell and list) and, once, mailed.

    Written only by ``core.notifications.notify`` inside the caller's transaction; read state is the recipient's own.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,  # notification_recipient_idx starts with it
    )
    agency = models.ForeignKey(
        "directory.Agency",
        verbose_name=_("agency"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The recipient's agency when the notification was sent."),
    )
    kind = models.CharField(_("kind"), max_length=50, validators=[code_validator], db_index=True)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    dedupe_key = models.CharField(
        _("deduplication key"),
        max_length=200,
        blank=True,
        help_text=_("A recipient gets at most one notification with the same key."),
    )

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"], condition=~Q(dedupe_key=""), name="notification_dedupe_unique"
            )
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_recipient_idx"),
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class DailyJobRun(models.Model):
    """One daily job's run for one day (core/scheduling.py): the unique pair makes a job run once per day."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    name = models.CharField(_("job"), max_length=100, validators=[code_validator])
    day = models.DateField(_("day"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=1)

    class Meta:
        verbose_name = _("daily job run")
        verbose_name_plural = _("daily job runs")
        ordering = ["-day", "name"]
        constraints = [models.UniqueConstraint(fields=["name", "day"], name="dailyjobrun_once_a_day")]

    def __str__(self) -> str:
        return f"{self.day.isoformat()} {self.name} ({self.status})"
