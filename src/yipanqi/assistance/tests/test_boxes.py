"""The boxes: the escalated box (督办) of a receiver's superior, apart from its inbox; the cached box counts, which
follow every change to the agency's requests; the page sizes.

Cast (src/yipanqi/conftest.py): ``owner`` = 四川高院 liaison (the sender), ``partner`` = 重庆高院 liaison (the
receiver), ``coordinator`` = 成渝 coordination office, ``outsider`` = 黑龙江 police liaison. The escalation runs
between a basic court of 重庆 and one of 成都, whose superior is 成都中院 and then 四川高院 (``owner``'s agency).
"""

from __future__ import annotations

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse

from yipanqi.assistance import selectors, services
from yipanqi.assistance.models import FeedEntry
from yipanqi.assistance.tests.conftest import draft_execution
from yipanqi.directory.models import Agency, Role, RoleGrant, User

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
INBOX, ESCALATED = "/api/v1/assistance-requests/?box=inbox", "/api/v1/assistance-requests/?box=escalated"


def at(y, m, d, hour=10) -> datetime.datetime:
    return datetime.datetime(y, m, d, hour, tzinfo=SHANGHAI)


def _person(username, agency, role=Role.LIAISON):
    user = User.objects.create_user(username, agency=agency)
    RoleGrant.objects.create(user=user, role=role)
    return User.objects.get(pk=user.pk)


@pytest.fixture
def chain(kind):
    """A 委托执行 from a 重庆 basic court to a 成都 basic court, accepted and left unfinished past six months, so that
    the sweep escalated it to 成都中院 (returns the request, the receiver's liaison and 成都中院's liaison)."""
    intermediate = Agency.objects.get(name="成都市中级人民法院")
    basic = Agency.objects.filter(parent=intermediate, type="court").first()
    asker_court = Agency.objects.filter(type="court", level="county", region__code__startswith="50").first()
    receiver, asker = _person("basic_liaison", basic), _person("other_basic", asker_court, Role.HANDLER)
    superior = _person("intermediate_liaison", intermediate)
    with time_machine.travel(at(2026, 3, 2), tick=False):
        request = services.send(acting_user=asker, request=draft_execution(asker, (asker_court, basic), kind))
        request = services.accept(acting_user=receiver, request=request)
    assert services.sweep(at(2026, 9, 7, 8))["escalated"] == 1
    return request, receiver, superior


def test_an_escalated_request_is_in_the_superiors_escalated_box_not_its_inbox(chain, owner):
    request, receiver, superior = chain
    assert list(selectors.escalated(superior)) == [request]
    assert not selectors.inbox(superior).exists()
    assert list(selectors.inbox(receiver)) == [request] and not selectors.escalated(receiver).exists()
    # A further escalation moves it up to 四川高院; 成都中院 no longer sees it, and its feed says so.
    passed = FeedEntry.objects.filter(agency=superior.agency).count()
    services.sweep(at(2026, 10, 8, 8))
    assert list(selectors.escalated(owner)) == [request]
    assert not selectors.escalated(superior).exists()
    assert FeedEntry.objects.filter(agency=superior.agency).count() == passed + 1


@pytest.mark.parametrize("role", ["superior", "receiver", "owner", "partner", "coordinator", "outsider", "anonymous"])
def test_the_escalated_box_page_per_role(web, request, chain, role):
    obj, receiver, superior = chain
    cast = {"superior": superior, "receiver": receiver, "anonymous": None}
    user = cast[role] if role in cast else request.getfixturevalue(role)
    response = web(user).get(reverse("assistance:escalated"))
    if user is None:
        assert response.status_code == 302 and "/login" in response["Location"]
        return
    page = response.content.decode()
    assert response.status_code == 200
    listed = f'data-number="{obj.number}"' in page
    assert listed == (role == "superior"), role
    if role == "superior":
        assert 'id="tab-escalated"' in page and re.search(r'id="escalated-open"[^>]*>1<', page)
        assert obj.receiver.name in page  # the late receiver is named on the row
        inbox = web(user).get(reverse("assistance:inbox")).content.decode()
        assert f'data-number="{obj.number}"' not in inbox and 'id="tab-escalated"' in inbox


@pytest.mark.parametrize("role", ["superior", "receiver", "outsider", "anonymous"])
def test_the_escalated_box_in_the_api_per_role(api, request, chain, role):
    obj, receiver, superior = chain
    cast = {"superior": superior, "receiver": receiver, "anonymous": None}
    user = cast[role] if role in cast else request.getfixturevalue(role)
    response = api(user).get(ESCALATED)
    if user is None:
        assert response.status_code in (401, 403)
        return
    assert response.status_code == 200
    numbers = [row["number"] for row in response.json()["results"]]
    assert numbers == ([obj.number] if role == "superior" else [])
    assert response.json()["count"] == len(numbers)


def test_box_counts_follow_every_change(api, web, owner, partner, courts, kind):
    """The counts are cached, keyed on the agency's newest feed entry: a send, a draft, a forward move them."""
    cache.clear()
    client = api(partner)
    assert client.get(INBOX).json()["count"] == 0
    services.send(acting_user=owner, request=draft_execution(owner, courts, kind))
    assert client.get(INBOX).json()["count"] == 1
    assert client.get(INBOX).json()["count"] == 1  # from the cache now
    outbox = web(owner)
    first = outbox.get(reverse("assistance:outbox")).context["page"].paginator.count
    draft_execution(owner, courts, kind)  # a draft counts in the sender's outbox
    assert outbox.get(reverse("assistance:outbox")).context["page"].paginator.count == first + 1
    # Forwarded on, it leaves 重庆高院's inbox.
    sent = services.send(acting_user=owner, request=draft_execution(owner, courts, kind))
    assert client.get(INBOX).json()["count"] == 2
    other = Agency.objects.filter(type="court", level=courts[0].level).exclude(pk__in=[c.pk for c in courts]).first()
    services.forward(acting_user=partner, request=sent, to=other, reason="被执行人财产在该院辖区")
    assert client.get(INBOX).json()["count"] == 1
    assert web(partner).get(reverse("assistance:inbox")).context["page"].paginator.count == 1


def test_the_box_page_size_can_be_chosen(web, owner, courts, kind):
    for _ in range(3):
        draft_execution(owner, courts, kind)
    client = web(owner)
    page = client.get(reverse("assistance:outbox"))
    assert page.context["per_page"] == 20 and 'id="page-sizes"' in page.content.decode()
    assert client.get(reverse("assistance:outbox"), {"per_page": "50"}).context["per_page"] == 50
    assert client.get(reverse("assistance:outbox"), {"per_page": "7"}).context["per_page"] == 20
    assert client.get(reverse("assistance:outbox"), {"per_page": "x"}).status_code == 200
