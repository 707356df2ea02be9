"""The menu bar is cached per person, section and language, keyed by the directory's version: a change of roles
made through the directory's services shows at once, and a person never sees another's menu."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse

from yipanqi.directory.models import Role
from yipanqi.directory.services import grant_role, revoke_role

pytestmark = pytest.mark.django_db

NEW_AGREEMENT = 'href="/ledger/agreements/new/"'


def _page(client, name="ledger:agreements"):
    response = client.get(reverse(name))
    assert response.status_code == 200
    return response.content.decode()


def test_a_role_granted_through_the_directory_changes_the_menu_at_once(web, owner, admin_user, chengyu):
    assert reverse("ledger:agreement-new") == "/ledger/agreements/new/"
    client = web(owner)
    assert NEW_AGREEMENT not in _page(client)
    with transaction.atomic():
        grant_role(acting_user=admin_user, user=owner, role=Role.COORDINATOR, circle=chengyu)
    assert NEW_AGREEMENT in _page(client)  # the directory's version moved: a new key
    with transaction.atomic():
        revoke_role(acting_user=admin_user, user=owner, role=Role.COORDINATOR, circle=chengyu)
    assert NEW_AGREEMENT not in _page(client)


def test_each_person_section_and_language_has_its_own_menu(web, owner, coordinator):
    assert NEW_AGREEMENT in _page(web(coordinator))
    assert NEW_AGREEMENT not in _page(web(owner))  # cached for the coordinator, not for the owner
    dashboard = _page(web(owner), "dashboard")
    assert 'class="nav-item active"' in dashboard.split('id="navbar-menu"')[1][:400]
    english = web(owner)
    english.post(reverse("set_language"), {"language": "en", "next": "/"})
    menu = _page(english).split('id="navbar-menu"')[1]
    assert "Ledger" in menu and "台账" not in menu
    assert "台账" in _page(web(owner)).split('id="navbar-menu"')[1]
