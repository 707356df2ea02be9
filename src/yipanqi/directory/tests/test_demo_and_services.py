"""The demo loader, role grants and directory services' rules."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import transaction

from yipanqi.core.models import AuditEvent
from yipanqi.directory.models import Agency, Circle, Role, RoleGrant, User
from yipanqi.directory.services import create_user, grant_role, set_circle_members

pytestmark = pytest.mark.django_db


def test_demo_is_idempotent_and_prints_logins():
    call_command("demo", stdout=io.StringIO())  # the session loaded the directory; this adds the ledger demo
    counts = (Agency.objects.count(), User.objects.count(), Circle.objects.count(), AuditEvent.objects.count())
    out = io.StringIO()
    call_command("demo", stdout=out)
    assert (Agency.objects.count(), User.objects.count(), Circle.objects.count(), AuditEvent.objects.count()) == counts
    text = out.getvalue()
    for username in ("chengyu_coord", "sc_court", "cq_court", "sh_procurator", "hlj_police"):
        assert username in text
    assert "yipanqi-demo" in text


def test_demo_refuses_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("demo", stdout=io.StringIO())


def test_demo_circles_have_the_right_members(chengyu):
    assert set(chengyu.regions.values_list("code", flat=True)) == {"510000", "500000"}
    basin = Circle.objects.get(slug="jialing-river")
    members = set(basin.agencies().values_list("name", flat=True))
    assert "重庆市人民检察院第一分院" in members and "南充市人民检察院" in members
    assert "重庆市人民检察院" not in members  # only the branch joined, not the whole of 重庆
    for agency_type in ("prison", "rehab", "lawyers", "notaries", "forensic", "mediation", "court", "police"):
        assert chengyu.agencies().filter(level="province", type=agency_type).exists(), agency_type


def test_liaison_adds_people_only_to_own_agency(owner, partner):
    with transaction.atomic():
        person = create_user(
            acting_user=owner,
            username="sc_new",
            password=None,
            full_name="新承办人",
            agency=owner.agency,
            roles=[Role.HANDLER],
        )
    assert person.has_role(Role.HANDLER)
    with pytest.raises(PermissionError), transaction.atomic():
        create_user(acting_user=partner, username="sneaky", password=None, full_name="x", agency=owner.agency)
    assert not User.objects.filter(username="sneaky").exists()


def test_only_admins_grant_coordinator(owner, admin_user, chengyu):
    with pytest.raises(PermissionError), transaction.atomic():
        grant_role(acting_user=owner, user=owner, role=Role.COORDINATOR, circle=chengyu)
    with pytest.raises(ValidationError), transaction.atomic():
        grant_role(acting_user=admin_user, user=owner, role=Role.COORDINATOR)
    with transaction.atomic():
        grant_role(acting_user=admin_user, user=owner, role=Role.COORDINATOR, circle=chengyu)
    assert RoleGrant.objects.filter(user=owner, role=Role.COORDINATOR, circle=chengyu).exists()


def test_coordinator_changes_members_of_own_circle_only(coordinator, partner, chengyu):
    extra = Agency.objects.get(name="重庆市人民检察院第一分院")
    with transaction.atomic():
        set_circle_members(acting_user=coordinator, circle=chengyu, member_agencies=[extra])
    assert list(chengyu.member_agencies.all()) == [extra]
    with pytest.raises(PermissionError), transaction.atomic():
        set_circle_members(acting_user=partner, circle=chengyu, member_agencies=[])
    assert chengyu.member_agencies.count() == 1
