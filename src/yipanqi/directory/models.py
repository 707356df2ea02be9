"""Directory: administrative regions, cooperation circles, agencies, departments, people, roles, API keys."""

from __future__ import annotations

import functools

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yipanqi.core.permissions import VisibleQuerySet


class RegionLevel(models.TextChoices):
    PROVINCE = "province", _("Province level")
    CITY = "city", _("City level")
    COUNTY = "county", _("County level")


class RegionQuerySet(VisibleQuerySet):
    """Regions are public reference data: every signed-in principal sees all of them."""

    def _visible_q(self, principal):
        return None

    def subtree_of(self, region: Region):
        return self.filter(path__startswith=region.path)

    def search(self, term: str):
        from .text import normalise_chinese

        term = normalise_chinese(term).strip()
        if not term:
            return self
        if term.isdigit():
            return self.filter(code__startswith=term)
        return self.filter(Q(name__contains=term) | Q(short_name__contains=term))


class Region(models.Model):
    """An administrative region with its national 6-digit code (GB/T 2260, published by 民政部)."""

    code = models.CharField(_("region code"), max_length=6, unique=True)
    name = models.CharField(_("name"), max_length=60, db_index=True)
    short_name = models.CharField(_("short name"), max_length=30, blank=True, db_index=True)
    kind = models.CharField(
        _("type"), max_length=20, help_text=_("province, municipality, prefecture-level city, district, county …")
    )
    level = models.CharField(_("level"), max_length=10, choices=RegionLevel.choices, db_index=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(
        _("path"), max_length=40, db_index=True, help_text=_("/province code/city code/county code/")
    )

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = _("Regions")
        verbose_name_plural = _("Regions")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def ancestor_codes(self) -> list[str]:
        return [c for c in self.path.strip("/").split("/") if c]

    @property
    def province_code(self) -> str:
        return self.ancestor_codes[0]

    @property
    def is_municipality(self) -> bool:
        return self.kind == "直辖市"

    def full_name(self) -> str:
        names = dict(Region.objects.filter(code__in=self.ancestor_codes).values_list("code", "name"))
        return "".join(names.get(c, "") for c in self.ancestor_codes)


class AgencyType(models.TextChoices):
    POLITICAL_LEGAL_COMMITTEE = "committee", _("Political-legal committee")
    COURT = "court", _("Court")
    PROCURATORATE = "procuratorate", _("Procuratorate")
    PUBLIC_SECURITY = "police", _("Public security")
    JUSTICE = "justice", _("Justice administration")
    PRISON_ADMINISTRATION = "prison", _("Prison administration")
    DRUG_REHABILITATION = "rehab", _("Drug rehabilitation administration")
    LAWYERS_ASSOCIATION = "lawyers", _("Lawyers association")
    NOTARIES_ASSOCIATION = "notaries", _("Notaries association")
    FORENSIC_ASSOCIATION = "forensic", _("Forensic appraisal association")
    ARBITRATION_COMMISSION = "arbitration", _("Arbitration commission")
    MEDIATION = "mediation", _("Mediation organisation")
    OTHER = "other", _("Other")


class CircleQuerySet(VisibleQuerySet):
    """A circle is seen by its coordinators and by people of its member agencies."""

    def _visible_q(self, principal):
        ids = set(principal.member_circle_ids) | set(principal.coordinated_circle_ids)
        return Q(pk__in=ids)

    def containing_agency(self, agency: Agency):
        return self.filter(Q(member_agencies=agency) | Q(regions__code__in=agency.region.ancestor_codes)).distinct()


class Circle(models.Model):
    """协作区 / 经济圈: a named set of regions (all their agencies take part) and of single agencies."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    short_name = models.CharField(_("short name"), max_length=30, blank=True)
    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    description = models.TextField(_("description"), blank=True)
    regions = models.ManyToManyField(Region, verbose_name=_("member regions"), blank=True, related_name="circles")
    member_agencies = models.ManyToManyField(
        "Agency",
        verbose_name=_("member agencies"),
        blank=True,
        related_name="member_of_circles",
        help_text=_("Agencies that take part on their own, beyond the member regions"),
    )
    coordinating_agency = models.ForeignKey(
        "Agency",
        verbose_name=_("coordinating agency"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="coordinated_circles",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = CircleQuerySet.as_manager()

    class Meta:
        verbose_name = _("Cooperation circle")
        verbose_name_plural = _("Cooperation circle")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_agency(self):
        return self.coordinating_agency

    def agencies(self):
        return Agency.objects.in_circles([self.pk])


class AgencyQuerySet(VisibleQuerySet):
    """The agency directory is public inside the platform: any signed-in principal may look agencies up."""

    def _visible_q(self, principal):
        return None

    def in_circles(self, circle_ids):
        """Agencies that belong to any of these circles, through a member region or by name."""
        circle_ids = list(circle_ids)
        if not circle_ids:
            return self.none()
        paths = list(Region.objects.filter(circles__in=circle_ids).values_list("path", flat=True).distinct())
        q = Q(member_of_circles__in=circle_ids)
        for path in paths:
            q |= Q(region__path__startswith=path)
        return self.filter(pk__in=Agency.objects.filter(q).values("pk"))

    def search(self, term: str):
        from .text import normalise_chinese

        term = normalise_chinese(term).strip()
        if not term:
            return self
        return self.filter(Q(name__contains=term) | Q(short_name__contains=term))


class Agency(models.Model):
    """政法单位: a court, procuratorate, police or justice bureau, committee, association … in one region."""

    name = models.CharField(_("name"), max_length=100)
    short_name = models.CharField(_("short name"), max_length=50, blank=True)
    type = models.CharField(_("type"), max_length=20, choices=AgencyType.choices, db_index=True)
    level = models.CharField(_("level"), max_length=10, choices=RegionLevel.choices, db_index=True)
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="agencies")
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent agency"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
    )
    jurisdiction = models.ManyToManyField(
        Region,
        verbose_name=_("jurisdiction"),
        blank=True,
        related_name="agencies_with_jurisdiction",
        help_text=_("When empty: the agency's own region and everything below it"),
    )
    rank = models.PositiveSmallIntegerField(
        _("rank"),
        default=0,
        help_text=_("Order among agencies of one type in one region, e.g. the First and Second Intermediate Courts"),
    )
    specialty = models.CharField(
        _("specialty"),
        max_length=20,
        blank=True,
        help_text=_(
            "Special courts and the like: intellectual property, finance, maritime, internet, railway transport"
        ),
    )
    is_standard = models.BooleanField(_("generated by rule"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    objects = AgencyQuerySet.as_manager()

    class Meta:
        verbose_name = _("Agencies")
        verbose_name_plural = _("Agencies")
        ordering = ["region_id", "type", "rank", "id"]
        constraints = [models.UniqueConstraint(fields=["region", "name"], name="agency_unique_name_in_region")]
        indexes = [models.Index(fields=["type", "level"], name="agency_type_level_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_agency(self):
        return self


class DepartmentQuerySet(VisibleQuerySet):
    def _visible_q(self, principal):
        return None


class Department(models.Model):
    """内设机构: a 庭, 处, 科 … inside an agency."""

    agency = models.ForeignKey(Agency, verbose_name=_("agency"), on_delete=models.CASCADE, related_name="departments")
    name = models.CharField(_("name"), max_length=60)

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("department")
        ordering = ["agency", "name"]
        constraints = [models.UniqueConstraint(fields=["agency", "name"], name="department_unique_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_agency(self):
        return self.agency


class Role(models.TextChoices):
    PLATFORM_ADMIN = "admin", _("Platform administrator")
    COORDINATOR = "coordinator", _("Coordination office")
    LIAISON = "liaison", _("Liaison")
    HANDLER = "handler", _("Case handler")
    VIEWER = "viewer", _("Viewer")


class UserQuerySet(VisibleQuerySet):
    """People of one's own agency; liaisons of partner agencies (sharing a circle); everyone in a coordinated circle."""

    _visible_needs_distinct = False

    def _visible_q(self, principal):
        q = Q(agency_id=principal.agency_id) if principal.agency_id else Q(pk__in=[])
        if principal.member_circle_ids:
            q |= Q(
                agency__in=Agency.objects.in_circles(principal.member_circle_ids).values("pk"),
                pk__in=RoleGrant.objects.filter(role=Role.LIAISON).values("user_id"),
            )
        if principal.coordinated_circle_ids:
            q |= Q(agency__in=Agency.objects.in_circles(principal.coordinated_circle_ids).values("pk"))
        return q


class YipanqiUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    """A person: belongs to one agency (and optionally one department) and holds roles."""

    full_name = models.CharField(_("full name"), max_length=60, blank=True)
    agency = models.ForeignKey(
        Agency, verbose_name=_("agency"), null=True, blank=True, on_delete=models.PROTECT, related_name="people"
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="people",
    )
    title = models.CharField(_("title"), max_length=60, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)

    objects = YipanqiUserManager()

    scopes = None  # people act with their roles; only API keys carry scopes
    api_key_id = None

    class Meta:
        verbose_name = _("People")
        verbose_name_plural = _("People")
        ordering = ["agency_id", "username"]

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def audit_agency(self):
        return self.agency

    @functools.cached_property
    def role_set(self) -> frozenset[str]:
        return frozenset(self.role_grants.values_list("role", flat=True))

    def has_role(self, role: str) -> bool:
        return role in self.role_set

    @property
    def is_platform_admin(self) -> bool:
        return self.is_superuser or Role.PLATFORM_ADMIN in self.role_set

    @functools.cached_property
    def coordinated_circle_ids(self) -> frozenset[int]:
        return frozenset(
            self.role_grants.filter(role=Role.COORDINATOR, circle__isnull=False).values_list("circle_id", flat=True)
        )

    @functools.cached_property
    def member_circle_ids(self) -> frozenset[int]:
        if not self.agency_id:
            return frozenset()
        return frozenset(Circle.objects.containing_agency(self.agency).values_list("pk", flat=True))


class RoleGrant(models.Model):
    """A role held by a person; coordinators hold it for one circle."""

    user = models.ForeignKey(User, verbose_name=_("People"), on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    circle = models.ForeignKey(
        Circle,
        verbose_name=_("Cooperation circle"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="role_grants",
    )
    granted_at = models.DateTimeField(_("granted at"), default=timezone.now)

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("role")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "circle"], name="rolegrant_unique"),
            models.UniqueConstraint(
                fields=["user", "role"], condition=Q(circle__isnull=True), name="rolegrant_unique_no_circle"
            ),
            models.CheckConstraint(
                condition=Q(role="coordinator", circle__isnull=False)
                | (~Q(role="coordinator") & Q(circle__isnull=True)),
                name="rolegrant_circle_only_for_coordinators",
            ),
        ]

    def __str__(self) -> str:
        label = self.get_role_display()
        return f"{label}（{self.circle}）" if self.circle_id else str(label)


class ApiKeyScope(models.TextChoices):
    DIRECTORY_READ = "directory:read", _("Read the directory")
    LEDGER_READ = "ledger:read", _("Read the agency's ledger")
    LEDGER_WRITE = "ledger:write", _("File the agency's progress reports and replies")
    MEETINGS_READ = "meetings:read", _("Read the agency's joint meetings")
    MEETINGS_WRITE = "meetings:write", _("Propose topics and run the meetings the agency hosts")
    ASSISTANCE_READ = "assistance:read", _("Read the agency's assistance requests and its event feed")
    ASSISTANCE_WRITE = "assistance:write", _("Create, send, sign, accept and answer the agency's assistance requests")
    EVIDENCE_WRITE = "evidence:write", _("Deposit evidence hashes and read the agency's deposits and receipts")
    EVIDENCE_WITNESS = "evidence:witness", _("Send the agency's witness cosignatures of the evidence log's checkpoints")


class ApiKeyQuerySet(VisibleQuerySet):
    """An agency's keys are seen by its liaisons (who manage them) and by platform admins."""

    def _visible_q(self, principal):
        if getattr(principal, "api_key_id", None) or not principal.agency_id:
            return Q(pk__in=[])
        if not principal.has_role(Role.LIAISON):
            return Q(pk__in=[])
        return Q(agency_id=principal.agency_id)

    def active(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


class ApiKey(models.Model):
    """A key for an agency's own system. Only a SHA-256 of the secret is stored; the prefix finds the row."""

    agency = models.ForeignKey(Agency, verbose_name=_("agency"), on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(_("purpose"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    hashed_secret = models.CharField(_("secret digest"), max_length=64)
    scopes = models.JSONField(_("scopes"), default=list)
    created_by = models.ForeignKey(
        User, verbose_name=_("created by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API key")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def audit_agency(self):
        return self.agency

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())
