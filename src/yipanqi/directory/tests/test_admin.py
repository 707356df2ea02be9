"""Django admin: for platform admins only; its edits go through the services and are audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from yipanqi.core.models import AuditEvent
from yipanqi.directory.models import Agency, Circle, User

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["owner", "partner", "outsider", "anonymous"])
def test_admin_is_closed_to_everyone_but_platform_admins(request, web, role):
    user = None if role == "anonymous" else request.getfixturevalue(role)
    response = web(user).get(reverse("admin:index"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_admin_pages_open_for_platform_admin(web, admin_user, chengyu):
    client = web(admin_user)
    agency = Agency.objects.get(name="四川省高级人民法院")
    for url in (
        reverse("admin:index"),
        reverse("admin:directory_agency_changelist") + "?q=成都",
        reverse("admin:directory_agency_change", args=[agency.pk]),
        reverse("admin:directory_circle_change", args=[chengyu.pk]),
        reverse("admin:directory_user_change", args=[User.objects.get(username="sc_court").pk]),
        reverse("admin:directory_region_changelist") + "?q=510100",
        reverse("admin:core_auditevent_changelist"),
    ):
        assert client.get(url).status_code == 200, url


def test_admin_edit_of_a_circle_goes_through_the_service(web, admin_user, chengyu):
    client = web(admin_user)
    url = reverse("admin:directory_circle_change", args=[chengyu.pk])
    data = {
        "name": chengyu.name,
        "short_name": "川渝",
        "slug": chengyu.slug,
        "description": chengyu.description,
        "regions": [r.pk for r in chengyu.regions.all()],
        "member_agencies": [],
        "coordinating_agency": chengyu.coordinating_agency_id,
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content[:2000]
    assert Circle.objects.get(pk=chengyu.pk).short_name == "川渝"
    event = AuditEvent.objects.for_object(chengyu).get(action="directory.circle.update")
    assert event.actor == admin_user and event.before["short_name"] == "成渝"


def test_admin_edit_of_a_person_is_audited(web, admin_user):
    person = User.objects.get(username="cq_court")
    response = web(admin_user).post(
        reverse("admin:directory_user_change", args=[person.pk]),
        {
            "full_name": "陈联络员",
            "agency": person.agency_id,
            "department": person.department_id or "",
            "title": person.title,
            "email": "",
            "phone": "023-00000000",
            "is_active": "on",
            "role_grants-TOTAL_FORMS": "0",
            "role_grants-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    person.refresh_from_db()
    assert (person.full_name, person.phone) == ("陈联络员", "023-00000000")
    assert AuditEvent.objects.for_object(person).filter(action="directory.user.update").exists()
