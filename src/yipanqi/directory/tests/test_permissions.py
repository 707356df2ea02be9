"""Permission matrix: every directory endpoint and page as owner, partner, outsider and anonymous.

Owner: a person of the object's agency (or of a member agency of the circle). Partner: a person of an agency in
another region of a shared circle. Outsider: no shared circle. Anonymous: not signed in.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from yipanqi.directory.models import Agency, ApiKeyScope, Region, User
from yipanqi.directory.services import issue_api_key

pytestmark = pytest.mark.django_db

ALL = ("owner", "partner", "outsider", "anonymous")


def _who(request, role):
    return None if role == "anonymous" else request.getfixturevalue(role)


# --------------------------------------------------------------------------- API


@pytest.mark.parametrize(
    ("role", "expected"), [("owner", 200), ("partner", 200), ("outsider", 200), ("anonymous", 401)]
)
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/regions/",
        "/api/v1/regions/510000/",
        "/api/v1/agencies/",
        "/api/v1/agencies/?type=court&region=500000",
    ],
)
def test_reference_data_is_for_every_signed_in_principal(request, api, role, expected, url):
    response = api(_who(request, role)).get(url)
    assert response.status_code == expected
    if expected == 401:
        assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize(
    ("role", "expected"), [("owner", 200), ("partner", 200), ("outsider", 200), ("anonymous", 401)]
)
def test_agency_detail_and_counterparts(request, api, role, expected):
    court = Agency.objects.get(name="四川省高级人民法院")
    client = api(_who(request, role))
    assert client.get(f"/api/v1/agencies/{court.pk}/").status_code == expected
    response = client.get(f"/api/v1/agencies/{court.pk}/counterparts/?region=500000")
    assert response.status_code == expected
    if expected == 200:
        assert response.json()[0]["agency"]["name"] == "重庆市高级人民法院"


@pytest.mark.parametrize(
    ("role", "detail", "listed"),
    [("owner", 200, True), ("partner", 200, True), ("outsider", 404, False), ("anonymous", 401, False)],
)
def test_circle_is_seen_by_members_only(request, api, chengyu, role, detail, listed):
    client = api(_who(request, role))
    response = client.get(f"/api/v1/circles/{chengyu.pk}/")
    assert response.status_code == detail
    listing = client.get("/api/v1/circles/")
    if role == "anonymous":
        assert listing.status_code == 401
    else:
        assert (chengyu.pk in [c["id"] for c in listing.json()["results"]]) is listed


def test_coordinator_sees_circle_even_outside_it(api, outsider, chengyu):
    """A coordinator role for a circle opens it, whatever the person's own agency."""
    from django.db import transaction

    from yipanqi.directory.services import grant_role

    with transaction.atomic():
        grant_role(acting_user=None, user=outsider, role="coordinator", circle=chengyu)
    outsider = User.objects.get(pk=outsider.pk)
    assert api(outsider).get(f"/api/v1/circles/{chengyu.pk}/").status_code == 200


@pytest.mark.parametrize(
    ("role", "liaison", "handler"),
    [("owner", 200, 404), ("partner", 200, 404), ("outsider", 404, 404), ("anonymous", 401, 401)],
)
def test_people_visibility(request, api, role, liaison, handler):
    """Partners see each other's liaisons (联络员) but not case handlers of other agencies."""
    sc_liaison = User.objects.get(username="sc_court")
    cd_handler = User.objects.get(username="cd_court")  # 成都中院承办人: another agency of the owner's circle
    client = api(_who(request, role))
    assert client.get(f"/api/v1/people/{sc_liaison.pk}/").status_code == liaison
    assert client.get(f"/api/v1/people/{cd_handler.pk}/").status_code == handler


def test_people_of_own_agency_and_coordinated_circle(api, owner, coordinator):
    cd_handler = User.objects.get(username="cd_court")
    names = {p["username"] for p in api(owner).get("/api/v1/people/?page_size=200").json()["results"]}
    assert "sc_court" in names and "cq_court" in names and "cd_court" not in names and "hlj_police" not in names
    assert api(coordinator).get(f"/api/v1/people/{cd_handler.pk}/").status_code == 200


@pytest.fixture
def owner_key(owner):
    from django.db import transaction

    with transaction.atomic():
        return issue_api_key(
            acting_user=owner, agency=owner.agency, name="案件系统", scopes=[ApiKeyScope.DIRECTORY_READ]
        )


@pytest.mark.parametrize(
    ("role", "detail", "revoke"),
    [("owner", 200, 200), ("partner", 404, 404), ("outsider", 404, 404), ("anonymous", 401, 401)],
)
def test_api_keys_belong_to_their_agency(request, api, owner_key, role, detail, revoke):
    client = api(_who(request, role))
    key = owner_key.api_key
    assert client.get(f"/api/v1/api-keys/{key.pk}/").status_code == detail
    assert client.post(f"/api/v1/api-keys/{key.pk}/revoke/").status_code == revoke
    key.refresh_from_db()
    assert (key.revoked_at is not None) is (revoke == 200)


def test_only_liaisons_issue_keys(api):
    handler = User.objects.get(username="sh_procurator")
    response = api(handler).post("/api/v1/api-keys/", {"name": "x", "scopes": ["directory:read"]}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["message"]


@pytest.mark.parametrize(("role", "sees_own"), [("owner", True), ("partner", False), ("outsider", False)])
def test_audit_events_api(request, api, owner_key, role, sees_own):
    events = api(_who(request, role)).get("/api/v1/audit-events/?action=directory.apikey").json()["results"]
    assert any(e["object_id"] == str(owner_key.api_key.pk) for e in events) is sees_own


def test_audit_events_api_anonymous(api):
    assert api(None).get("/api/v1/audit-events/").status_code == 401


# --------------------------------------------------------------------------- pages


def _pages(chengyu):
    court = Agency.objects.get(name="重庆市高级人民法院")
    return {
        "dashboard": (reverse("dashboard"), dict.fromkeys(("owner", "partner", "outsider"), 200)),
        "regions": (reverse("directory:regions"), dict.fromkeys(("owner", "partner", "outsider"), 200)),
        "region": (
            reverse("directory:region", args=["510000"]),
            dict.fromkeys(("owner", "partner", "outsider"), 200),
        ),
        "circles": (reverse("directory:circles"), dict.fromkeys(("owner", "partner", "outsider"), 200)),
        "circle": (
            reverse("directory:circle", args=[chengyu.slug]),
            {"owner": 200, "partner": 200, "outsider": 404},
        ),
        "agencies": (reverse("directory:agencies"), dict.fromkeys(("owner", "partner", "outsider"), 200)),
        "agency": (
            reverse("directory:agency", args=[court.pk]),
            dict.fromkeys(("owner", "partner", "outsider"), 200),
        ),
        "people": (reverse("directory:people"), dict.fromkeys(("owner", "partner", "outsider"), 200)),
        "api-keys": (reverse("directory:api-keys"), dict.fromkeys(("owner", "partner", "outsider"), 200)),
        "audit": (reverse("audit-list"), dict.fromkeys(("owner", "partner", "outsider"), 200)),
        "circle-audit": (
            reverse("audit-object", args=["circle", chengyu.pk]),
            {"owner": 200, "partner": 200, "outsider": 404},
        ),
    }


@pytest.mark.parametrize("role", ALL)
@pytest.mark.parametrize(
    "page",
    [
        "dashboard",
        "regions",
        "region",
        "circles",
        "circle",
        "agencies",
        "agency",
        "people",
        "api-keys",
        "audit",
        "circle-audit",
    ],
)
def test_page_matrix(request, web, chengyu, role, page):
    url, expected = _pages(chengyu)[page]
    response = web(_who(request, role)).get(url)
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == expected[role], url


def test_outsider_does_not_learn_circle_names(web, outsider, chengyu):
    body = web(outsider).get(reverse("dashboard")).content.decode()
    assert chengyu.name not in body


def test_api_key_page_is_for_liaisons(web):
    handler = User.objects.get(username="sh_procurator")
    assert web(handler).get(reverse("directory:api-keys")).status_code == 404


def test_region_lookup_in_page_finds_traditional_name(web, owner):
    body = web(owner).get(reverse("directory:regions") + "?q=重慶").content.decode()
    assert Region.objects.get(code="500000").name in body


@pytest.mark.parametrize(
    ("role", "expected"), [("owner", 201), ("partner", 201), ("outsider", 201), ("anonymous", 401)]
)
def test_issuing_a_key_is_for_liaisons_of_their_own_agency(request, api, role, expected):
    """Every liaison issues keys for the own agency only: the agency is never taken from the request body."""
    user = _who(request, role)
    response = api(user).post(
        "/api/v1/api-keys/", {"name": "系统", "scopes": ["directory:read"], "agency": 1}, format="json"
    )
    assert response.status_code == expected
    if expected == 201:
        assert response.json()["agency"]["id"] == user.agency_id


@pytest.mark.parametrize(
    ("role", "expected"), [("owner", 200), ("partner", 200), ("outsider", 200), ("anonymous", 401)]
)
def test_api_schema_needs_a_signed_in_person(request, api, role, expected):
    assert api(_who(request, role)).get("/api/schema/").status_code == expected


def test_health_is_public(api):
    assert api(None).get("/healthz").json() == {"status": "ok"}
