"""Directory write operations. Every function is one transaction and writes its audit event inside it."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yipanqi.core.services import record_event, snapshot
from yipanqi.core.versioning import bump_version

from . import naming
from .models import (
    Agency,
    ApiKey,
    ApiKeyScope,
    Circle,
    Department,
    Region,
    Role,
    RoleGrant,
    User,
)
from .regions import iter_region_rows

EXCEPTIONS_FILE = Path(__file__).parent / "data" / "agency_exceptions.json"


# --------------------------------------------------------------------------- reference data (system loads)


@dataclass
class LoadReport:
    regions_created: int = 0
    regions_updated: int = 0
    agencies_created: int = 0
    agencies_updated: int = 0

    def __str__(self) -> str:
        return (
            f"regions: {self.regions_created} created, {self.regions_updated} updated; "
            f"agencies: {self.agencies_created} created, {self.agencies_updated} updated"
        )


def load_exceptions() -> dict:
    return json.loads(EXCEPTIONS_FILE.read_text(encoding="utf-8"))


@transaction.atomic
def load_regions(report: LoadReport | None = None) -> LoadReport:
    """Insert or update every region of the national data; idempotent."""
    report = report or LoadReport()
    rows = list(iter_region_rows())
    existing = {r.code: r for r in Region.objects.all()}
    new, changed = [], []
    for row in rows:
        region = existing.get(row.code)
        values = {
            "name": row.name,
            "short_name": row.short_name,
            "kind": row.kind,
            "level": row.level,
            "path": row.path,
        }
        if region is None:
            region = Region(code=row.code, **values)
            new.append(region)
            existing[row.code] = region
        elif any(getattr(region, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(region, k, v)
            changed.append(region)
    Region.objects.bulk_create(new, batch_size=1000)
    if new:  # SQLite and PostgreSQL both return ids from bulk_create
        existing.update({r.code: r for r in Region.objects.filter(code__in=[r.code for r in new])})
    parent_fix = []
    for row in rows:
        region = existing[row.code]
        parent_id = existing[row.parent_code].pk if row.parent_code else None
        if region.parent_id != parent_id:
            region.parent_id = parent_id
            parent_fix.append(region)
    Region.objects.bulk_update(
        {r.pk: r for r in [*changed, *parent_fix]}.values(),
        ["name", "short_name", "kind", "level", "path", "parent"],
        batch_size=1000,
    )
    report.regions_created += len(new)
    report.regions_updated += len(changed)
    return report


def standard_agency_specs() -> list[naming.AgencySpec]:
    """The standard agencies of every region plus the exceptions kept as data."""
    exceptions = load_exceptions()
    skipped = set(exceptions["no_standard_agencies"]["codes"])
    regions = {r.code: r for r in Region.objects.all()}
    by_id = {r.pk: r for r in regions.values()}
    branch_parent: dict[str, dict[str, str]] = {}
    specs: list[naming.AgencySpec] = []
    for branch in exceptions["municipal_branches"]:
        municipality = regions[branch["region"]]
        top = {s.type: s.name for s in naming.province_specs(municipality)}
        for rank, (name, area) in enumerate(zip(branch["names"], branch["jurisdiction"], strict=True), start=1):
            specs.append(
                naming.AgencySpec(
                    name,
                    branch["type"],
                    "city",
                    municipality.code,
                    top[branch["type"]],
                    rank=rank,
                    jurisdiction=tuple(area),
                )
            )
            for code in area:
                branch_parent.setdefault(code, {})[branch["type"]] = name
    for region in regions.values():
        if region.code in skipped or any(c in skipped for c in region.ancestor_codes):
            continue
        parent = by_id.get(region.parent_id)
        if region.level == "province":
            specs.extend(naming.province_specs(region))
        elif region.level == "city":
            specs.extend(naming.city_specs(region, parent))
        else:
            city = parent if parent.level == "city" else None
            province = by_id[parent.parent_id] if city else parent
            specs.extend(naming.county_specs(region, city, province, branch_parent.get(region.code)))
    for court in exceptions["special_courts"]:
        region = regions[court["region"]]
        province = regions[region.province_code]
        top = {s.type: s.name for s in naming.province_specs(province)}
        specs.append(
            naming.AgencySpec(
                court["name"],
                "court",
                court["level"],
                region.code,
                top["court"],
                specialty=court["specialty"],
                jurisdiction=tuple(court.get("jurisdiction", ())),
            )
        )
    return specs


@transaction.atomic
def generate_standard_agencies(report: LoadReport | None = None) -> LoadReport:
    """Create or update the standard agencies of every region; idempotent, never deletes."""
    report = report or LoadReport()
    specs = standard_agency_specs()
    region_ids = dict(Region.objects.values_list("code", "pk"))
    existing = {(a.region_id, a.name): a for a in Agency.objects.filter(is_standard=True)}
    new, changed = [], []
    for spec in specs:
        key = (region_ids[spec.region_code], spec.name)
        values = {"type": spec.type, "level": spec.level, "rank": spec.rank, "specialty": spec.specialty}
        agency = existing.get(key)
        if agency is None:
            agency = Agency(region_id=key[0], name=spec.name, is_standard=True, **values)
            new.append(agency)
            existing[key] = agency
        elif any(getattr(agency, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(agency, k, v)
            changed.append(agency)
    Agency.objects.bulk_create(new, batch_size=2000)
    ids_by_name: dict[str, int] = {}
    for name, pk in Agency.objects.filter(is_standard=True).values_list("name", "pk").order_by("id"):
        ids_by_name.setdefault(name, pk)  # parents are province- and city-level agencies, unique by name
    fix = []
    all_agencies = {
        (a.region_id, a.name): a
        for a in Agency.objects.filter(is_standard=True).only("id", "region_id", "name", "parent_id")
    }
    for spec in specs:
        agency = all_agencies.get((region_ids[spec.region_code], spec.name))
        parent_id = ids_by_name.get(spec.parent_name) if spec.parent_name else None
        if agency is not None and agency.parent_id != parent_id:
            agency.parent_id = parent_id
            fix.append(agency)
    Agency.objects.bulk_update(fix, ["parent"], batch_size=2000)
    Agency.objects.bulk_update(changed, ["type", "level", "rank", "specialty"], batch_size=2000)
    Through = Agency.jurisdiction.through
    for spec in specs:
        if not spec.jurisdiction:
            continue
        agency = all_agencies[(region_ids[spec.region_code], spec.name)]
        wanted = {region_ids[c] for c in spec.jurisdiction}
        have = set(Through.objects.filter(agency_id=agency.pk).values_list("region_id", flat=True))
        if wanted != have:
            Through.objects.filter(agency_id=agency.pk).delete()
            Through.objects.bulk_create([Through(agency_id=agency.pk, region_id=r) for r in sorted(wanted)])
    report.agencies_created += len(new)
    report.agencies_updated += len(changed)
    return report


@transaction.atomic
def load_directory() -> LoadReport:
    report = generate_standard_agencies(load_regions())
    if report.regions_created or report.regions_updated or report.agencies_created or report.agencies_updated:
        bump_version("directory")
    return report


# --------------------------------------------------------------------------- agencies, circles, departments


def _require_admin(acting_user) -> None:
    if acting_user is not None and not getattr(acting_user, "is_platform_admin", False):
        raise PermissionError(_("Only platform administrators may change the directory."))


@transaction.atomic
def create_agency(
    *,
    acting_user,
    name: str,
    type: str,
    level: str,
    region: Region,
    parent: Agency | None = None,
    short_name: str = "",
    specialty: str = "",
) -> Agency:
    _require_admin(acting_user)
    agency = Agency(
        name=name.strip(),
        short_name=short_name,
        type=type,
        level=level,
        region=region,
        parent=parent,
        specialty=specialty,
    )
    agency.full_clean()
    agency.save()
    record_event(acting_user=acting_user, action="directory.agency.create", obj=agency, after=snapshot(agency))
    return agency


@transaction.atomic
def update_agency(*, acting_user, agency: Agency, **changes) -> Agency:
    _require_admin(acting_user)
    agency = Agency.objects.select_for_update().get(pk=agency.pk)
    before = snapshot(agency)
    for key, value in changes.items():
        setattr(agency, key, value)
    agency.full_clean()
    agency.save()
    record_event(
        acting_user=acting_user, action="directory.agency.update", obj=agency, before=before, after=snapshot(agency)
    )
    return agency


@transaction.atomic
def add_department(*, acting_user, agency: Agency, name: str) -> Department:
    _require_admin_or_liaison_of(acting_user, agency)
    department = Department(agency=agency, name=name.strip())
    department.full_clean()
    department.save()
    record_event(
        acting_user=acting_user, action="directory.department.create", obj=department, after=snapshot(department)
    )
    return department


def _require_admin_or_liaison_of(acting_user, agency: Agency) -> None:
    if acting_user is None or getattr(acting_user, "is_platform_admin", False):
        return
    if getattr(acting_user, "agency_id", None) == agency.pk and acting_user.has_role(Role.LIAISON):
        return
    raise PermissionError(_("Only a liaison of this agency or a platform administrator may do this."))


@transaction.atomic
def create_circle(
    *,
    acting_user,
    name: str,
    slug: str,
    short_name: str = "",
    description: str = "",
    regions=(),
    member_agencies=(),
    coordinating_agency: Agency | None = None,
) -> Circle:
    _require_admin(acting_user)
    circle = Circle(
        name=name.strip(),
        slug=slug,
        short_name=short_name,
        description=description,
        coordinating_agency=coordinating_agency,
    )
    circle.full_clean()
    circle.save()
    circle.regions.set(regions)
    circle.member_agencies.set(member_agencies)
    record_event(acting_user=acting_user, action="directory.circle.create", obj=circle, after=snapshot(circle))
    return circle


CIRCLE_FIELDS = ("name", "short_name", "description", "coordinating_agency")


@transaction.atomic
def update_circle(*, acting_user, circle: Circle, regions=None, member_agencies=None, **changes) -> Circle:
    """Rename or redescribe a circle, change its coordinating agency and (optionally) its members; admins only."""
    _require_admin(acting_user)
    unknown = set(changes) - set(CIRCLE_FIELDS)
    if unknown:
        raise ValueError(f"not circle fields: {sorted(unknown)}")
    circle = Circle.objects.select_for_update().get(pk=circle.pk)
    before = snapshot(circle)
    for key, value in changes.items():
        setattr(circle, key, value)
    circle.full_clean()
    circle.save()
    if regions is not None:
        circle.regions.set(regions)
    if member_agencies is not None:
        circle.member_agencies.set(member_agencies)
    record_event(
        acting_user=acting_user, action="directory.circle.update", obj=circle, before=before, after=snapshot(circle)
    )
    return circle


@transaction.atomic
def set_circle_members(*, acting_user, circle: Circle, regions=None, member_agencies=None) -> Circle:
    if not (acting_user is None or acting_user.is_platform_admin or circle.pk in acting_user.coordinated_circle_ids):
        raise PermissionError(_("Only the circle's coordinators or a platform administrator may change its members."))
    before = snapshot(circle)
    if regions is not None:
        circle.regions.set(regions)
    if member_agencies is not None:
        circle.member_agencies.set(member_agencies)
    record_event(
        acting_user=acting_user, action="directory.circle.members", obj=circle, before=before, after=snapshot(circle)
    )
    return circle


# --------------------------------------------------------------------------- people and roles


@transaction.atomic
def create_user(
    *,
    acting_user,
    username: str,
    password: str | None,
    full_name: str,
    agency: Agency,
    department: Department | None = None,
    email: str = "",
    title: str = "",
    roles=(),
    coordinated_circles=(),
) -> User:
    if acting_user is not None and not acting_user.is_platform_admin:
        _require_admin_or_liaison_of(acting_user, agency)
    if department is not None and department.agency_id != agency.pk:
        raise ValidationError({"department": _("The department does not belong to this agency.")})
    user = User(username=username, full_name=full_name, agency=agency, department=department, email=email, title=title)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    for role in roles:
        _grant(user, role, None)
    for circle in coordinated_circles:
        _grant(user, Role.COORDINATOR, circle)
    record_event(
        acting_user=acting_user,
        action="directory.user.create",
        obj=user,
        after={**snapshot(user), "roles": sorted(roles), "coordinated_circles": [c.pk for c in coordinated_circles]},
    )
    return user


USER_FIELDS = ("full_name", "agency", "department", "title", "email", "phone", "is_active")


@transaction.atomic
def update_user(*, acting_user, user: User, **changes) -> User:
    """Change a person's details; a liaison may change people of the own agency (not move them elsewhere)."""
    unknown = set(changes) - set(USER_FIELDS)
    if unknown:
        raise ValueError(f"not user fields: {sorted(unknown)}")
    user = User.objects.select_for_update().get(pk=user.pk)
    if acting_user is not None and not acting_user.is_platform_admin:
        _require_admin_or_liaison_of(acting_user, user.agency)
        if "agency" in changes and changes["agency"] != user.agency:
            raise PermissionError(_("Only platform administrators may move a person to another agency."))
    before = snapshot(user)
    for key, value in changes.items():
        setattr(user, key, value)
    if user.department_id and user.department.agency_id != user.agency_id:
        raise ValidationError({"department": _("The department does not belong to this agency.")})
    user.full_clean(exclude=["password"])
    user.save()
    record_event(acting_user=acting_user, action="directory.user.update", obj=user, before=before, after=snapshot(user))
    return user


def _grant(user: User, role: str, circle: Circle | None) -> RoleGrant:
    if role == Role.COORDINATOR and circle is None:
        raise ValidationError({"circle": _("The coordinator role needs a circle.")})
    if role != Role.COORDINATOR and circle is not None:
        raise ValidationError({"circle": _("Only the coordinator role is held for a circle.")})
    grant, _created = RoleGrant.objects.get_or_create(user=user, role=role, circle=circle)
    user.__dict__.pop("role_set", None)
    user.__dict__.pop("coordinated_circle_ids", None)
    return grant


@transaction.atomic
def grant_role(*, acting_user, user: User, role: str, circle: Circle | None = None) -> RoleGrant:
    if acting_user is not None and not acting_user.is_platform_admin:
        if role in (Role.PLATFORM_ADMIN, Role.COORDINATOR):
            raise PermissionError(_("Only platform administrators may grant this role."))
        _require_admin_or_liaison_of(acting_user, user.agency)
    grant = _grant(user, role, circle)
    record_event(
        acting_user=acting_user,
        action="directory.role.grant",
        obj=user,
        after={"role": role, "circle": circle.pk if circle else None},
    )
    return grant


@transaction.atomic
def make_platform_admin(*, acting_user, user: User) -> User:
    """Platform admin role plus access to the Django admin (staff and superuser flags)."""
    _require_admin(acting_user)
    user = User.objects.select_for_update().get(pk=user.pk)
    before = snapshot(user, ["is_staff", "is_superuser"])
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    _grant(user, Role.PLATFORM_ADMIN, None)
    record_event(
        acting_user=acting_user,
        action="directory.role.grant",
        obj=user,
        before=before,
        after={**snapshot(user, ["is_staff", "is_superuser"]), "role": Role.PLATFORM_ADMIN},
    )
    return user


@transaction.atomic
def revoke_role(*, acting_user, user: User, role: str, circle: Circle | None = None) -> None:
    if acting_user is not None and not acting_user.is_platform_admin:
        if role in (Role.PLATFORM_ADMIN, Role.COORDINATOR):
            raise PermissionError(_("Only platform administrators may revoke this role."))
        _require_admin_or_liaison_of(acting_user, user.agency)
    RoleGrant.objects.filter(user=user, role=role, circle=circle).delete()
    user.__dict__.pop("role_set", None)
    user.__dict__.pop("coordinated_circle_ids", None)
    record_event(
        acting_user=acting_user,
        action="directory.role.revoke",
        obj=user,
        before={"role": role, "circle": circle.pk if circle else None},
    )


# --------------------------------------------------------------------------- API keys


API_KEY_PREFIX_BYTES = 6
API_KEY_SECRET_BYTES = 32


def hash_secret(secret: str) -> str:
    """Keys carry 256 random bits, so one SHA-256 is enough (unlike passwords, they cannot be guessed)."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    token: str  # shown once: "yq_<prefix>.<secret>"


@transaction.atomic
def issue_api_key(*, acting_user, agency: Agency, name: str, scopes: list[str], expires_at=None) -> IssuedKey:
    _require_admin_or_liaison_of(acting_user, agency)
    unknown = sorted(set(scopes) - set(ApiKeyScope.values))
    if unknown or not scopes:
        raise ValidationError(
            {"scopes": _("Unknown or missing scopes: %(scopes)s") % {"scopes": ", ".join(unknown) or "-"}}
        )
    prefix = secrets.token_hex(API_KEY_PREFIX_BYTES)
    secret = secrets.token_urlsafe(API_KEY_SECRET_BYTES)
    key = ApiKey(
        agency=agency,
        name=name.strip(),
        prefix=prefix,
        hashed_secret=hash_secret(secret),
        scopes=sorted(set(scopes)),
        expires_at=expires_at,
        created_by=acting_user if isinstance(acting_user, User) else None,
    )
    key.full_clean()
    key.save()
    record_event(acting_user=acting_user, action="directory.apikey.issue", obj=key, after=snapshot(key))
    return IssuedKey(key, f"yq_{prefix}.{secret}")


@transaction.atomic
def revoke_api_key(*, acting_user, api_key: ApiKey) -> ApiKey:
    _require_admin_or_liaison_of(acting_user, api_key.agency)
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if api_key.revoked_at is None:
        before = snapshot(api_key)
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        record_event(
            acting_user=acting_user,
            action="directory.apikey.revoke",
            obj=api_key,
            before=before,
            after=snapshot(api_key),
        )
    return api_key


def touch_api_key(api_key: ApiKey, resolution_seconds: int) -> bool:
    """Record the last use, at most once per ``resolution_seconds`` so reads do not turn into writes.

    Bookkeeping, not a domain change: no audit event. Returns whether it wrote.
    """
    now = timezone.now()
    if api_key.last_used_at and (now - api_key.last_used_at).total_seconds() < resolution_seconds:
        return False
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
    api_key.last_used_at = now
    return True
