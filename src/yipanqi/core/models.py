from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .permissions import VisibleQuerySet


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
