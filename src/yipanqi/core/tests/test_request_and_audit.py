"""Request ids, the audit trail, and the audit pages."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse

from yipanqi.core.models import AuditEvent
from yipanqi.core.services import record_event
from yipanqi.directory.models import Agency, Region
from yipanqi.directory.services import add_department, create_agency, update_agency

pytestmark = pytest.mark.django_db


def test_every_response_carries_a_request_id(client):
    response = client.get(reverse("login"))
    assert len(response["X-Request-ID"]) == 32
    echoed = client.get(reverse("login"), HTTP_X_REQUEST_ID="upstream-1234abcd")
    assert echoed["X-Request-ID"] == "upstream-1234abcd"
    forged = client.get(reverse("login"), HTTP_X_REQUEST_ID="<script>")
    assert forged["X-Request-ID"] != "<script>"


@pytest.mark.django_db(transaction=True)
def test_record_event_demands_a_transaction():
    """Outside the test's own transaction: an audit write with no service transaction around it is refused."""
    agency = Agency.objects.first() or Agency.objects.create(
        name="临时单位",
        type="other",
        level="province",
        region=Region.objects.create(code="990000", name="测试", kind="省", level="province", path="/990000/"),
    )
    with pytest.raises(RuntimeError, match="transaction"):
        record_event(acting_user=None, action="x", obj=agency)


def test_service_writes_are_audited_with_before_and_after(admin_user):
    with transaction.atomic():
        agency = create_agency(
            acting_user=admin_user,
            name="成都铁路运输法院",
            type="court",
            level="city",
            region=Region.objects.get(code="510100"),
            specialty="铁路运输",
        )
    with transaction.atomic():
        update_agency(acting_user=admin_user, agency=agency, short_name="成铁法院")
    events = list(AuditEvent.objects.for_object(agency).order_by("time", "id"))
    assert [e.action for e in events] == ["directory.agency.create", "directory.agency.update"]
    assert events[1].changes == [("short_name", "", "成铁法院")]
    assert events[1].actor == admin_user and events[1].subject_agency == agency


def test_only_admins_change_the_directory(owner):
    agency = owner.agency
    with pytest.raises(PermissionError), transaction.atomic():
        update_agency(acting_user=owner, agency=agency, short_name="川高院")
    agency.refresh_from_db()
    assert agency.short_name == ""


def test_audit_visibility(owner, partner, outsider, coordinator):
    with transaction.atomic():
        department = add_department(acting_user=owner, agency=owner.agency, name="审判管理办公室")
    event = AuditEvent.objects.for_object(department).get()
    assert AuditEvent.objects.visible_to(owner).filter(pk=event.pk).exists()
    assert AuditEvent.objects.visible_to(coordinator).filter(pk=event.pk).exists()  # coordinates 成渝
    assert not AuditEvent.objects.visible_to(partner).filter(pk=event.pk).exists()
    assert not AuditEvent.objects.visible_to(outsider).filter(pk=event.pk).exists()
    assert not AuditEvent.objects.visible_to(None).exists()


def test_audit_page_for_object(web, owner, outsider):
    with transaction.atomic():
        add_department(acting_user=owner, agency=owner.agency, name="司法技术处")
    url = reverse("audit-object", args=["agency", owner.agency_id])
    assert web(owner).get(url).status_code == 200
    assert web(owner).get(reverse("audit-object", args=["nothing", 1])).status_code == 404
    assert web(owner).get(reverse("audit-object", args=["agency", "x"])).status_code == 404
    # agencies are public inside the platform, but their audit trail shows only what the viewer may see
    body = web(outsider).get(url).content.decode()
    assert "司法技术处" not in body


def test_agency_audit_is_visible_to_owner_only_in_list(web, owner, outsider):
    with transaction.atomic():
        add_department(acting_user=owner, agency=owner.agency, name="涉外商事审判庭")
    assert "涉外商事审判庭" in web(owner).get(reverse("audit-list")).content.decode()
    assert "涉外商事审判庭" not in web(outsider).get(reverse("audit-list")).content.decode()
    assert Agency.objects.filter(pk=owner.agency_id).exists()
