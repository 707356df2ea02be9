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
    PROVINCE = "province", _("省级")
    CITY = "city", _("地市级")
    COUNTY = "county", _("县级")


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

    code = models.CharField(_("区划代码"), max_length=6, unique=True)
    name = models.CharField(_("名称"), max_length=60, db_index=True)
    short_name = models.CharField(_("简称"), max_length=30, blank=True, db_index=True)
    kind = models.CharField(_("类型"), max_length=20, help_text=_("省、直辖市、地级市、市辖区、县……"))
    level = models.CharField(_("层级"), max_length=10, choices=RegionLevel.choices, db_index=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级区划"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(_("路径"), max_length=40, db_index=True, help_text=_("/省码/市码/县码/"))

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
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
    POLITICAL_LEGAL_COMMITTEE = "committee", _("党委政法委")
    COURT = "court", _("法院")
    PROCURATORATE = "procuratorate", _("检察院")
    PUBLIC_SECURITY = "police", _("公安")
    JUSTICE = "justice", _("司法行政")
    PRISON_ADMINISTRATION = "prison", _("监狱管理局")
    DRUG_REHABILITATION = "rehab", _("戒毒管理局")
    LAWYERS_ASSOCIATION = "lawyers", _("律师协会")
    NOTARIES_ASSOCIATION = "notaries", _("公证协会")
    FORENSIC_ASSOCIATION = "forensic", _("司法鉴定协会")
    ARBITRATION_COMMISSION = "arbitration", _("仲裁委员会")
    MEDIATION = "mediation", _("调解组织")
    OTHER = "other", _("其他")


class CircleQuerySet(VisibleQuerySet):
    """A circle is seen by its coordinators and by people of its member agencies."""

    def _visible_q(self, principal):
        ids = set(principal.member_circle_ids) | set(principal.coordinated_circle_ids)
        return Q(pk__in=ids)

    def containing_agency(self, agency: Agency):
        return self.filter(
            Q(member_agencies=agency) | Q(regions__code__in=agency.region.ancestor_codes)
        ).distinct()


class Circle(models.Model):
    """协作区 / 经济圈: a named set of regions (all their agencies take part) and of single agencies."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    short_name = models.CharField(_("简称"), max_length=30, blank=True)
    slug = models.SlugField(_("标识"), max_length=50, unique=True)
    description = models.TextField(_("说明"), blank=True)
    regions = models.ManyToManyField(Region, verbose_name=_("成员区划"), blank=True, related_name="circles")
    member_agencies = models.ManyToManyField(
        "Agency", verbose_name=_("成员单位"), blank=True, related_name="member_of_circles",
        help_text=_("区划之外单独加入的单位"),
    )
    coordinating_agency = models.ForeignKey(
        "Agency", verbose_name=_("协调办所在单位"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="coordinated_circles",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = CircleQuerySet.as_manager()

    class Meta:
        verbose_name = _("协作区")
        verbose_name_plural = _("协作区")
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

    name = models.CharField(_("名称"), max_length=100)
    short_name = models.CharField(_("简称"), max_length=50, blank=True)
    type = models.CharField(_("类型"), max_length=20, choices=AgencyType.choices, db_index=True)
    level = models.CharField(_("层级"), max_length=10, choices=RegionLevel.choices, db_index=True)
    region = models.ForeignKey(Region, verbose_name=_("所在区划"), on_delete=models.PROTECT, related_name="agencies")
    parent = models.ForeignKey(
        "self", verbose_name=_("上级单位"), null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    jurisdiction = models.ManyToManyField(
        Region, verbose_name=_("管辖区域"), blank=True, related_name="agencies_with_jurisdiction",
        help_text=_("为空时即所在区划及其下级区划"),
    )
    rank = models.PositiveSmallIntegerField(
        _("序号"), default=0, help_text=_("同一区划同类单位的排序，例如第一、第二中级人民法院")
    )
    specialty = models.CharField(
        _("专门类别"), max_length=20, blank=True, help_text=_("专门法院等：知识产权、金融、海事、互联网、铁路运输")
    )
    is_standard = models.BooleanField(_("按规则生成"), default=False)
    is_active = models.BooleanField(_("有效"), default=True)

    objects = AgencyQuerySet.as_manager()

    class Meta:
        verbose_name = _("政法单位")
        verbose_name_plural = _("政法单位")
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

    agency = models.ForeignKey(Agency, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="departments")
    name = models.CharField(_("名称"), max_length=60)

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("内设机构")
        verbose_name_plural = _("内设机构")
        ordering = ["agency", "name"]
        constraints = [models.UniqueConstraint(fields=["agency", "name"], name="department_unique_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_agency(self):
        return self.agency


class Role(models.TextChoices):
    PLATFORM_ADMIN = "admin", _("平台管理员")
    COORDINATOR = "coordinator", _("协调办")
    LIAISON = "liaison", _("联络员")
    HANDLER = "handler", _("承办人")
    VIEWER = "viewer", _("查看")


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

    full_name = models.CharField(_("姓名"), max_length=60, blank=True)
    agency = models.ForeignKey(
        Agency, verbose_name=_("单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="people"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("内设机构"), null=True, blank=True, on_delete=models.SET_NULL, related_name="people"
    )
    title = models.CharField(_("职务"), max_length=60, blank=True)
    phone = models.CharField(_("电话"), max_length=30, blank=True)

    objects = YipanqiUserManager()

    scopes = None  # people act with their roles; only API keys carry scopes
    api_key_id = None

    class Meta:
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
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

    user = models.ForeignKey(User, verbose_name=_("人员"), on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    circle = models.ForeignKey(
        Circle, verbose_name=_("协作区"), null=True, blank=True, on_delete=models.CASCADE, related_name="role_grants"
    )
    granted_at = models.DateTimeField(_("授予时间"), default=timezone.now)

    class Meta:
        verbose_name = _("角色")
        verbose_name_plural = _("角色")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "circle"], name="rolegrant_unique"),
            models.UniqueConstraint(
                fields=["user", "role"], condition=Q(circle__isnull=True), name="rolegrant_unique_no_circle"
            ),
            models.CheckConstraint(
                condition=Q(role="coordinator", circle__isnull=False) | (~Q(role="coordinator") & Q(circle__isnull=True)),
                name="rolegrant_circle_only_for_coordinators",
            ),
        ]

    def __str__(self) -> str:
        label = self.get_role_display()
        return f"{label}（{self.circle}）" if self.circle_id else str(label)


class ApiKeyScope(models.TextChoices):
    DIRECTORY_READ = "directory:read", _("读取名录")


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

    agency = models.ForeignKey(Agency, verbose_name=_("单位"), on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(_("用途"), max_length=100)
    prefix = models.CharField(_("前缀"), max_length=16, unique=True)
    hashed_secret = models.CharField(_("密钥摘要"), max_length=64)
    scopes = models.JSONField(_("权限范围"), default=list)
    created_by = models.ForeignKey(
        User, verbose_name=_("创建人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("到期时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("API 密钥")
        verbose_name_plural = _("API 密钥")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def audit_agency(self):
        return self.agency

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())
