"""Documents taken in for review: the file as uploaded, its text, the draft the intake proposed, the reviewed
version a person committed, and what the commit created. A batch groups the documents of one folder or zip."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yipanqi.core.permissions import VisibleQuerySet
from yipanqi.directory.models import Agency, Circle


class DocumentStatus(models.TextChoices):
    ANALYSED = "analysed", _("Awaiting review")
    COMMITTED = "committed", _("Committed")
    FAILED = "failed", _("Could not be read")
    DISCARDED = "discarded", _("Discarded")


class BatchStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class IntakeQuerySet(VisibleQuerySet):
    """The person who took a document in, the people of the agency they took it in for, and the coordinators of the
    circle it was taken in for."""

    def _visible_q(self, principal):
        q = Q(uploaded_by_id=getattr(principal, "pk", None) or 0)
        if principal.agency_id:
            q |= Q(agency_id=principal.agency_id)
        if principal.coordinated_circle_ids:
            q |= Q(circle_id__in=principal.coordinated_circle_ids)
        return q


class IntakeBatch(models.Model):
    """A folder or zip of documents read by the worker, one document after another (``done`` of ``total``)."""

    name = models.CharField(_("name"), max_length=200)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    agency = models.ForeignKey(
        Agency, verbose_name=_("agency"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    circle = models.ForeignKey(
        Circle, verbose_name=_("cooperation circle"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    archive = models.FileField(_("archive"), upload_to="intake/batches/%Y/", blank=True)
    published = models.DateField(_("published on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=BatchStatus.choices, default=BatchStatus.QUEUED)
    total = models.PositiveIntegerField(_("documents"), default=0)
    done = models.PositiveIntegerField(_("documents read"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = IntakeQuerySet.as_manager()

    class Meta:
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_agency(self):
        return self.agency

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else (100 if self.status == BatchStatus.DONE else 0)


class IntakeDocument(models.Model):
    """One document: ``text`` is what was read from ``file`` (spans point into it), ``draft`` what the intake
    proposed (``Draft.as_json()``), ``reviewed`` what the reviewer committed, ``created`` what the commit made
    (``[{"model": "ledger.agreement", "id": 12}, …]``)."""

    name = models.CharField(_("name"), max_length=255)
    file = models.FileField(_("file"), upload_to="intake/%Y/", blank=True)
    size = models.PositiveIntegerField(_("size"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    batch = models.ForeignKey(
        IntakeBatch, verbose_name=_("batch"), null=True, blank=True, on_delete=models.CASCADE, related_name="documents"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    agency = models.ForeignKey(
        Agency, verbose_name=_("agency"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    circle = models.ForeignKey(
        Circle, verbose_name=_("cooperation circle"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published = models.DateField(_("published on"), null=True, blank=True)
    text = models.TextField(_("text"), blank=True)
    draft = models.JSONField(_("proposed draft"), default=dict, blank=True)
    reviewed = models.JSONField(_("reviewed draft"), default=dict, blank=True)
    created = models.JSONField(_("created objects"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=DocumentStatus.choices, default=DocumentStatus.ANALYSED
    )
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    committed_at = models.DateTimeField(_("committed at"), null=True, blank=True)
    committed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("committed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = IntakeQuerySet.as_manager()

    class Meta:
        verbose_name = _("intake document")
        verbose_name_plural = _("intake documents")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_agency(self):
        return self.agency
