"""API behaviour: pagination and query counts, API-key authentication, bad input."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yipanqi.core.models import AuditEvent
from yipanqi.core.versioning import forget_local_versions
from yipanqi.directory.factories import UserFactory
from yipanqi.directory.models import Agency, ApiKey, Role
from yipanqi.directory.services import issue_api_key, revoke_api_key

pytestmark = pytest.mark.django_db


def _queries(client, url):
    """Queries of a cold request: no cached page, no cached data version."""
    cache.clear()
    forget_local_versions()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), response.json()


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/agencies/?page_size={n}",
        "/api/v1/agencies/?region=510000&page_size={n}",
        "/api/v1/regions/?page_size={n}",
        "/api/v1/circles/?page_size={n}",
        "/api/v1/people/?page_size={n}",
        "/api/v1/audit-events/?page_size={n}",
    ],
)
def test_list_query_count_is_constant_in_page_size(api, owner, url):
    UserFactory.create_batch(25, agency=owner.agency, roles=[Role.HANDLER])
    client = api(owner)
    small, small_body = _queries(client, url.format(n=2))
    large, large_body = _queries(client, url.format(n=100))
    assert small == large
    assert len(large_body["results"]) >= len(small_body["results"])


def test_agency_list_query_budget(api, owner):
    count, body = _queries(api(owner), "/api/v1/agencies/?page_size=100")
    assert len(body["results"]) == 100
    assert count <= 6  # session, user, count, page (+ savepoints in tests)


@pytest.fixture
def token(owner):
    with transaction.atomic():
        return issue_api_key(acting_user=owner, agency=owner.agency, name="审判系统", scopes=["directory:read"]).token


def _key_client(api, token):
    client = api(None)
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {token}")
    return client


def test_api_key_reads_directory_and_records_last_use(api, token):
    client = _key_client(api, token)
    assert client.get("/api/v1/agencies/?type=court").status_code == 200
    key = ApiKey.objects.get(prefix=token[3:].split(".")[0])
    assert key.last_used_at is not None
    assert token.split(".")[1] not in key.hashed_secret  # only a digest is stored


def test_api_key_sees_like_its_agency(api, token, chengyu):
    client = _key_client(api, token)
    assert client.get(f"/api/v1/circles/{chengyu.pk}/").status_code == 200
    people = client.get("/api/v1/people/").json()["results"]
    assert {p["username"] for p in people} >= {"sc_court"}


def test_api_key_without_scope_or_revoked_is_refused(api, token, owner):
    client = _key_client(api, token)
    assert client.get("/api/v1/api-keys/").status_code == 403  # keys never manage keys
    assert client.get("/api/v1/audit-events/").status_code == 403
    key = ApiKey.objects.get(prefix=token[3:].split(".")[0])
    with transaction.atomic():
        revoke_api_key(acting_user=owner, api_key=key)
    response = client.get("/api/v1/agencies/")
    assert response.status_code == 401
    assert response.json()["error"]["message"]


@pytest.mark.parametrize("header", ["Api-Key nonsense", "Api-Key yq_abc.def", "Api-Key"])
def test_bad_api_keys(api, header):
    client = api(None)
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/agencies/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_expired_key_is_refused(api, token):
    ApiKey.objects.filter(prefix=token[3:].split(".")[0]).update(expires_at=timezone.now())
    assert _key_client(api, token).get("/api/v1/agencies/").status_code == 401


def test_issue_key_through_api_shows_token_once_and_audits(api, owner):
    client = api(owner)
    response = client.post(
        "/api/v1/api-keys/",
        {"name": "执行系统", "scopes": ["directory:read"]},
        format="json",
        HTTP_X_REQUEST_ID="req-test-0001",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["token"].startswith("yq_") and body["agency"]["id"] == owner.agency_id
    assert "token" not in client.get(f"/api/v1/api-keys/{body['id']}/").json()
    event = AuditEvent.objects.get(action="directory.apikey.issue", object_id=str(body["id"]))
    assert event.request_id == "req-test-0001" and event.actor == owner and event.subject_agency == owner.agency
    assert "hashed_secret" not in event.after


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/agencies/?type=spaceship", "type"),
        ("/api/v1/agencies/?level=galaxy", "level"),
        ("/api/v1/agencies/?circle=notanumber", "circle"),
        ("/api/v1/regions/?level=planet", "level"),
        ("/api/v1/people/?agency=abc", "agency"),
    ],
)
def test_malformed_filters_are_400_with_fields(api, owner, url, field):
    response = api(owner).get(url)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"] and error["message"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/agencies/99999999/",
        "/api/v1/agencies/abc/",
        "/api/v1/regions/999999/",
        "/api/v1/circles/0/",
        "/api/v1/people/99999999/",
        "/api/v1/nothing-here/",
    ],
)
def test_unknown_ids_are_404_json(api, owner, url):
    response = api(owner).get(url)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "not_found"


def test_wrong_content_type_is_415_and_writes_nothing(api, owner):
    before = ApiKey.objects.count(), AuditEvent.objects.count()
    response = api(owner).post(
        "/api/v1/api-keys/", "name=x&scopes=directory:read", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert "application/json" in response.json()["error"]["message"]
    assert (ApiKey.objects.count(), AuditEvent.objects.count()) == before


def test_malformed_json_is_400(api, owner):
    response = api(owner).post("/api/v1/api-keys/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_invalid_fields_are_400_and_write_nothing(api, owner):
    before = ApiKey.objects.count(), AuditEvent.objects.count()
    response = api(owner).post("/api/v1/api-keys/", {"name": "", "scopes": ["root"]}, format="json")
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"name", "scopes"}
    assert (ApiKey.objects.count(), AuditEvent.objects.count()) == before


def test_oversized_body_is_rejected_and_writes_nothing(api, owner, settings):
    before = ApiKey.objects.count()
    body = '{"name": "' + "长" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 3 + 10) + '", "scopes": ["directory:read"]}'
    response = api(owner).post("/api/v1/api-keys/", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["message"]
    assert ApiKey.objects.count() == before


def test_error_messages_are_translated(api, owner):
    zh = api(owner).get("/api/v1/agencies/99999999/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()["error"]["message"]
    en = api(owner).get("/api/v1/agencies/99999999/", HTTP_ACCEPT_LANGUAGE="en").json()["error"]["message"]
    assert en == "Not found."
    assert zh != en and "未找到" in zh


def test_openapi_schema_and_docs(api, owner):
    schema = api(owner).get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in ("/api/v1/regions/", "/api/v1/circles/", "/api/v1/agencies/", "/api/v1/people/"):
        assert path in paths
    assert api(owner).get("/api/docs/").status_code == 200


def test_agencies_filter_by_circle_requires_visibility(api, outsider, owner, chengyu):
    in_circle = api(owner).get(f"/api/v1/agencies/?circle={chengyu.pk}&level=province").json()
    assert in_circle["count"] >= 10
    assert api(outsider).get(f"/api/v1/agencies/?circle={chengyu.pk}").json()["count"] == 0
    assert Agency.objects.count() > 5000


def test_cached_agency_list_follows_writes(api, owner, admin_user):
    client = api(owner)
    url = "/api/v1/agencies/?region=510100&type=court&level=city"
    first = client.get(url).json()["results"][0]
    assert first["name"] == "成都市中级人民法院" and first["short_name"] == ""
    with CaptureQueriesContext(connection) as cached:
        assert client.get(url).json()["results"][0]["short_name"] == ""
    assert not any("directory_agency" in q["sql"] for q in cached.captured_queries)  # served from the cache
    from yipanqi.directory.services import update_agency

    with transaction.atomic():
        update_agency(acting_user=admin_user, agency=Agency.objects.get(pk=first["id"]), short_name="成都中院")
    assert client.get(url).json()["results"][0]["short_name"] == "成都中院"


def test_circle_filter_is_never_served_from_a_shared_cache(api, owner, outsider, chengyu):
    url = f"/api/v1/agencies/?circle={chengyu.pk}"
    assert api(owner).get(url).json()["count"] > 0
    assert api(outsider).get(url).json()["count"] == 0


def test_language_is_part_of_the_cache_key(api, owner):
    url = "/api/v1/agencies/?region=510000&level=province&type=court"
    zh = api(owner).get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["results"][0]["type_display"]
    en = api(owner).get(url, HTTP_ACCEPT_LANGUAGE="en").json()["results"][0]["type_display"]
    assert (zh, en) == ("法院", "Court")


def test_fast_agency_rows_match_the_declared_fields():
    from rest_framework import serializers as drf

    from yipanqi.directory.api.serializers import AgencySerializer

    for agency in Agency.objects.select_related("region").filter(region__code__in=["510000", "500000"])[:20]:
        serializer = AgencySerializer()
        generic = drf.ModelSerializer.to_representation(serializer, agency)
        assert serializer.to_representation(agency) == dict(generic)
