"""The cooperation ledger (台账): agreements, their measure trees, owners' shares, reports and supervision (督办)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yipanqi.core.permissions import VisibleQuerySet
from yipanqi.directory.models import Agency, Circle, Department


class AgreementKind(models.TextChoices):
    FRAMEWORK = "framework", _("Framework agreement")
    COOPERATION = "cooperation", _("Cooperation agreement")
    MINUTES = "minutes", _("Meeting minutes")
    MEMORANDUM = "memorandum", _("Memorandum")
    IMPLEMENTATION_PLAN = "implementation", _("Implementation plan")
    ACTION_PLAN = "action", _("Action plan")
    OTHER = "other", _("Other")


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_FORCE = "in_force", _("In force")
    EXPIRED = "expired", _("Expired")
    SUPERSEDED = "superseded", _("Superseded")


class ClosureRule(models.TextChoices):
    COORDINATOR = "coordinator", _("Confirmed by the circle's coordinator")
    ALL_SIGNATORIES = "signatories", _("Confirmed by every signatory")


class ReportingCycle(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    CUSTOM = "custom", _("Every N days")


class AgreementQuerySet(VisibleQuerySet):
    """Signatory agencies and the coordinators of the agreement's circle see it."""

    def _visible_q(self, principal):
        q = Q(signatories=principal.agency_id) if principal.agency_id else Q(pk__in=[])
        if principal.coordinated_circle_ids:
            q |= Q(circle__in=principal.coordinated_circle_ids)
        return Q(pk__in=Agreement.objects.filter(q).values("pk"))


class Agreement(models.Model):
    """合作协议 / 框架协议 / 会议纪要 / 实施方案 …: signed by two or more agencies, carried out as measures."""

    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=AgreementKind.choices, default=AgreementKind.COOPERATION)
    circle = models.ForeignKey(
        Circle,
        verbose_name=_("cooperation circle"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agreements",
    )
    signatories = models.ManyToManyField(Agency, verbose_name=_("signatories"), related_name="agreements")
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    signed_place = models.CharField(_("signed at"), max_length=100, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=AgreementStatus.choices, default=AgreementStatus.DRAFT
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    superseded_by = models.ForeignKey(
        "self", verbose_name=_("superseded by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closure_rule = models.CharField(
        _("closure confirmed by"), max_length=20, choices=ClosureRule.choices, default=ClosureRule.COORDINATOR
    )
    reporting_cycle = models.CharField(
        _("reporting cycle"), max_length=20, choices=ReportingCycle.choices, default=ReportingCycle.MONTHLY
    )
    reporting_every_days = models.PositiveSmallIntegerField(
        _("report every N days"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(366)]
    )
    source_document = models.FileField(_("source document"), upload_to="agreements/%Y/", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = AgreementQuerySet.as_manager()

    class Meta:
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        ordering = ["-signed_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_until__gte=models.F("valid_from")),
                name="agreement_valid_range",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def audit_agency(self):
        return self.circle.coordinating_agency if self.circle_id else None


class MeasureCategory(models.TextChoices):
    DONE = "done", _("Completed (publicise results)")
    LAUNCH = "launch", _("To be launched")
    STUDY = "study", _("Under study")
    REGULAR = "regular", _("Regular")


class MeasureStatus(models.TextChoices):
    OPEN = "open", _("In progress")
    CLOSING = "closing", _("Closure awaiting confirmation")
    DONE = "done", _("Closed (销号)")


class MeasureQuerySet(VisibleQuerySet):
    """A measure is seen by whoever sees its agreement, and by its owners."""

    def _visible_q(self, principal):
        q = Q(agreement__in=Agreement.objects.visible_to(principal).values("pk"))
        if principal.agency_id:
            q |= Q(pk__in=MeasureOwner.objects.filter(agency_id=principal.agency_id).values("measure_id"))
        return q

    def leaves(self):
        return self.filter(is_leaf=True)


class Measure(models.Model):
    """举措 / 事项: a node of an agreement's tree (方面 → 举措 → 子项 …) with a stable number such as "三、5"."""

    agreement = models.ForeignKey(
        Agreement, verbose_name=_("agreement"), on_delete=models.CASCADE, related_name="measures"
    )
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    number = models.CharField(_("number"), max_length=30, help_text=_("As numbered in the agreement, e.g. 三、5"))
    position = models.PositiveIntegerField(_("position"), default=0)
    path = models.CharField(_("tree path"), max_length=255, db_index=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("depth"), default=0, editable=False)
    is_leaf = models.BooleanField(_("leaf"), default=True, editable=False)
    title = models.CharField(_("title"), max_length=300)
    text = models.TextField(_("text"), blank=True)
    category = models.CharField(
        _("category"), max_length=20, choices=MeasureCategory.choices, default=MeasureCategory.REGULAR
    )
    start_on = models.DateField(_("start"), null=True, blank=True)
    due_on = models.DateField(_("deadline"), null=True, blank=True, db_index=True)
    milestones = models.JSONField(_("milestones"), default=list, blank=True)
    expected_outcome = models.TextField(_("expected outcome"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=MeasureStatus.choices, default=MeasureStatus.OPEN)
    progress = models.PositiveSmallIntegerField(
        _("progress %"), default=0, editable=False, help_text=_("Derived from the owners' shares or the children")
    )
    results = models.TextField(_("results (成效)"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    last_report_at = models.DateTimeField(_("last report"), null=True, blank=True, editable=False)
    # When the light turns blue / yellow / red (see ledger/lights.py): derived on every write, never typed.
    blue_from = models.DateField(_("blue from"), null=True, blank=True, editable=False)
    yellow_from = models.DateField(_("yellow from"), null=True, blank=True, editable=False)
    red_from = models.DateField(_("red from"), null=True, blank=True, editable=False)

    objects = MeasureQuerySet.as_manager()

    class Meta:
        verbose_name = _("measure")
        verbose_name_plural = _("measures")
        ordering = ["agreement_id", "path"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "number"], name="measure_unique_number"),
            models.UniqueConstraint(fields=["agreement", "path"], name="measure_unique_path"),
        ]
        indexes = [models.Index(fields=["agreement", "is_leaf", "due_on"], name="measure_board_idx")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def audit_agency(self):
        return self.agreement.audit_agency


class OwnerRole(models.TextChoices):
    LEAD = "lead", _("Lead (主办)")
    CO = "co", _("Co-owner (协办)")


class ShareStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    IN_PROGRESS = "in_progress", _("In progress")
    CLOSED = "closed", _("Share closed")


class MeasureChildQuerySet(VisibleQuerySet):
    """Shares and confirmations are seen with their measure."""

    def _visible_q(self, principal):
        return Q(measure__in=Measure.objects.visible_to(principal).values("pk"))


class MeasureOwner(models.Model):
    """One owning agency's share of a leaf measure: its own status, progress and evidence."""

    measure = models.ForeignKey(Measure, verbose_name=_("measure"), on_delete=models.CASCADE, related_name="owners")
    # The measure's agreement, kept on the share so that boards group 200,000 shares without joining the measures.
    agreement = models.ForeignKey(
        Agreement,
        verbose_name=_("agreement"),
        on_delete=models.CASCADE,
        related_name="shares",
        editable=False,
    )
    agency = models.ForeignKey(
        Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="measure_shares"
    )
    role = models.CharField(_("role"), max_length=10, choices=OwnerRole.choices, default=OwnerRole.CO)
    department = models.ForeignKey(
        Department,
        verbose_name=_("responsible department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible person"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="measure_shares",
    )
    status = models.CharField(_("status"), max_length=20, choices=ShareStatus.choices, default=ShareStatus.NOT_STARTED)
    progress = models.PositiveSmallIntegerField(_("progress %"), default=0, validators=[MaxValueValidator(100)])
    evidence = models.TextField(_("evidence"), blank=True)
    results = models.TextField(_("results (成效)"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    last_report_at = models.DateTimeField(_("last report"), null=True, blank=True)
    assigned_on = models.DateField(_("assigned on"), default=timezone.localdate, editable=False)
    # Derived (see ledger/lights.py): when the next report is due, and when the share falls behind plan.
    report_due_on = models.DateField(_("next report due"), null=True, blank=True, editable=False, db_index=True)
    behind_from = models.DateField(_("behind plan from"), null=True, blank=True, editable=False)
    # The share's own light (ledger/lights.py): the measure's red and blue dates, its own yellow.
    blue_from = models.DateField(_("blue from"), null=True, blank=True, editable=False)
    yellow_from = models.DateField(_("yellow from"), null=True, blank=True, editable=False)
    red_from = models.DateField(_("red from"), null=True, blank=True, editable=False)

    objects = MeasureChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("owner's share")
        verbose_name_plural = _("owners' shares")
        ordering = ["measure_id", "-role", "id"]  # "lead" before "co": 主办 first
        constraints = [
            models.UniqueConstraint(fields=["measure", "agency"], name="measureowner_unique_agency"),
            models.UniqueConstraint(fields=["measure"], condition=Q(role="lead"), name="measureowner_one_lead"),
        ]

    def __str__(self) -> str:
        return f"{self.measure.number} · {self.agency}"

    @property
    def audit_agency(self):
        return self.agency


class ProgressReport(models.Model):
    """进展报告: an owner's report on its share of a measure."""

    measure = models.ForeignKey(Measure, verbose_name=_("measure"), on_delete=models.CASCADE, related_name="reports")
    owner = models.ForeignKey(MeasureOwner, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="reports")
    text = models.TextField(_("progress"))
    progress = models.PositiveSmallIntegerField(_("progress %"), validators=[MaxValueValidator(100)])
    problems = models.TextField(_("problems (困难)"), blank=True)
    next_steps = models.TextField(_("next steps"), blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("filed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    filed_at = models.DateTimeField(_("filed at"), auto_now_add=True, db_index=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, blank=True)

    objects = MeasureChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("progress report")
        verbose_name_plural = _("progress reports")
        ordering = ["-filed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "idempotency_key"], condition=~Q(idempotency_key=""), name="report_idempotency"
            )
        ]

    def __str__(self) -> str:
        return f"{self.measure.number} · {self.owner.agency} · {self.progress}%"

    @property
    def audit_agency(self):
        return self.owner.agency


class SupervisionStatus(models.TextChoices):
    OPEN = "open", _("Awaiting reply")
    REPLIED = "replied", _("Replied")
    CLOSED = "closed", _("Closed")


class Supervision(models.Model):
    """督办单: a coordinator urges an owner on a measure near or past its deadline; the owner replies."""

    measure = models.ForeignKey(
        Measure, verbose_name=_("measure"), on_delete=models.CASCADE, related_name="supervisions"
    )
    owner = models.ForeignKey(
        MeasureOwner, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="supervisions"
    )
    light = models.CharField(_("light when issued"), max_length=10, blank=True)
    message = models.TextField(_("message"))
    reply_due_on = models.DateField(_("reply due"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("issued by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    status = models.CharField(
        _("status"), max_length=10, choices=SupervisionStatus.choices, default=SupervisionStatus.OPEN
    )
    reply = models.TextField(_("reply"), blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("replied by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)

    objects = MeasureChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("supervision notice")
        verbose_name_plural = _("supervision notices")
        ordering = ["-issued_at", "-id"]

    def __str__(self) -> str:
        return f"{self.measure.number} · {self.owner.agency}"

    @property
    def audit_agency(self):
        return self.owner.agency


class ClosureConfirmation(models.Model):
    """A confirmation of a measure's closure (销号) by the coordinator or by one signatory."""

    measure = models.ForeignKey(
        Measure, verbose_name=_("measure"), on_delete=models.CASCADE, related_name="confirmations"
    )
    agency = models.ForeignKey(Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="+")
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("confirmed by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), auto_now_add=True)

    objects = MeasureChildQuerySet.as_manager()

    class Meta:
        verbose_name = _("closure confirmation")
        verbose_name_plural = _("closure confirmations")
        constraints = [models.UniqueConstraint(fields=["measure", "agency"], name="closure_unique_agency")]

    def __str__(self) -> str:
        return f"{self.measure.number} · {self.agency}"


class BoardSnapshot(models.Model):
    """One day's figures of a circle's (agreement=None) or an agreement's ledger: the board's trend over time.

    Written by the daily job (and by ``ledger.board.backfill_snapshots``); the lights are those of that day."""

    circle = models.ForeignKey(
        Circle, verbose_name=_("cooperation circle"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    agreement = models.ForeignKey(
        Agreement, verbose_name=_("agreement"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField(_("day"))
    measures = models.PositiveIntegerField(_("measures"), default=0)
    progress = models.PositiveSmallIntegerField(_("progress %"), default=0)
    red = models.PositiveIntegerField(_("red"), default=0)
    yellow = models.PositiveIntegerField(_("yellow"), default=0)
    blue = models.PositiveIntegerField(_("blue"), default=0)
    green = models.PositiveIntegerField(_("green"), default=0)
    done = models.PositiveIntegerField(_("closed"), default=0)
    reports = models.PositiveIntegerField(_("reports filed that day"), default=0)
    missing_reports = models.PositiveIntegerField(_("missing reports"), default=0)

    class Meta:
        verbose_name = _("board snapshot")
        verbose_name_plural = _("board snapshots")
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(
                fields=["circle", "day"], condition=Q(agreement__isnull=True), name="snapshot_circle_day"
            ),
            models.UniqueConstraint(fields=["agreement", "day"], name="snapshot_agreement_day"),
        ]

    def __str__(self) -> str:
        return f"{self.agreement or self.circle} · {self.day}"


class BulletinStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RENDERING = "rendering", _("Being prepared")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class BulletinQuerySet(VisibleQuerySet):
    """A circle's bulletin is seen by its coordinators and every agency of the circle; an agreement's by its
    coordinators and signatories."""

    def _visible_q(self, principal):
        q = Q(pk__in=[])
        if principal.coordinated_circle_ids:
            q |= Q(circle__in=principal.coordinated_circle_ids)
        if principal.member_circle_ids:  # the circle's agencies, by region or as single members
            q |= Q(agreement__isnull=True, circle__in=principal.member_circle_ids)
        if principal.agency_id:
            q |= Q(agreement__signatories=principal.agency_id)
        return Q(pk__in=Bulletin.objects.filter(q).values("pk"))


class BulletinFrequency(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")


class ScheduleQuerySet(VisibleQuerySet):
    """Bulletin schedules are the coordinators' business."""

    def _visible_q(self, principal):
        return Q(circle__in=principal.coordinated_circle_ids or [])


class BulletinSchedule(models.Model):
    """定期通报: a bulletin the worker prepares by itself after each month or quarter."""

    circle = models.ForeignKey(
        Circle, verbose_name=_("cooperation circle"), on_delete=models.CASCADE, related_name="bulletin_schedules"
    )
    agreement = models.ForeignKey(
        Agreement, verbose_name=_("agreement"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    frequency = models.CharField(
        _("frequency"), max_length=10, choices=BulletinFrequency.choices, default=BulletinFrequency.MONTHLY
    )
    day_of_month = models.PositiveSmallIntegerField(
        _("prepared on day"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text=_("Day of the month after the period on which the bulletin is prepared"),
    )
    number_prefix = models.CharField(_("document number prefix"), max_length=40, help_text=_("e.g. 成渝政法协"))
    recipients = models.CharField(_("addressed to (主送)"), max_length=200, blank=True)
    cc = models.CharField(_("copied to (抄送)"), max_length=200, blank=True)
    next_run_on = models.DateField(_("next run"))
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScheduleQuerySet.as_manager()

    class Meta:
        verbose_name = _("bulletin schedule")
        verbose_name_plural = _("bulletin schedules")
        ordering = ["next_run_on", "id"]

    def __str__(self) -> str:
        return f"{self.circle} · {self.get_frequency_display()}"

    @property
    def audit_agency(self):
        return self.circle.coordinating_agency


class Bulletin(models.Model):
    """定期通报 / 情况通报: the ledger of a circle or an agreement over a period, as .docx and .pdf."""

    circle = models.ForeignKey(
        Circle, verbose_name=_("cooperation circle"), on_delete=models.PROTECT, related_name="bulletins"
    )
    agreement = models.ForeignKey(
        Agreement,
        verbose_name=_("agreement"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bulletins",
    )
    schedule = models.ForeignKey(
        BulletinSchedule,
        verbose_name=_("schedule"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="bulletins",
    )
    title = models.CharField(_("title"), max_length=200)
    doc_number = models.CharField(_("document number (文号)"), max_length=60)
    issuer = models.ForeignKey(Agency, verbose_name=_("issued by"), on_delete=models.PROTECT, related_name="+")
    recipients = models.CharField(_("addressed to (主送)"), max_length=200, blank=True)
    cc = models.CharField(_("copied to (抄送)"), max_length=200, blank=True)
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    issued_on = models.DateField(_("dated"))
    status = models.CharField(
        _("status"), max_length=10, choices=BulletinStatus.choices, default=BulletinStatus.QUEUED, db_index=True
    )
    progress = models.PositiveSmallIntegerField(_("progress %"), default=0)
    figures = models.JSONField(_("figures"), default=dict, blank=True, editable=False)
    docx = models.FileField(_("Word document"), upload_to="bulletins/%Y/", blank=True)
    pdf = models.FileField(_("PDF document"), upload_to="bulletins/%Y/", blank=True)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("preparation started"), null=True, blank=True)
    generated_at = models.DateTimeField(_("prepared at"), null=True, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, blank=True)

    objects = BulletinQuerySet.as_manager()

    class Meta:
        verbose_name = _("bulletin")
        verbose_name_plural = _("bulletins")
        ordering = ["-issued_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["circle", "doc_number"], name="bulletin_unique_number"),
            models.UniqueConstraint(
                fields=["circle", "idempotency_key"], condition=~Q(idempotency_key=""), name="bulletin_idempotency"
            ),
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")), name="bulletin_period"),
        ]

    def __str__(self) -> str:
        return f"{self.doc_number} {self.title}"

    @property
    def audit_agency(self):
        return self.issuer
