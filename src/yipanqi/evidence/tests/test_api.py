"""The evidence API (/api/v1/evidence/): deposits (one or a batch, idempotent, per-item errors with nothing written),
who sees which deposit and receipt, the lookup anyone signed in may make, the public checkpoints and proofs, witness
cosignatures — for the fixed cast: owner (sc_court), partner (cq_court), outsider (hlj_police), anonymous, a
coordinator of 成渝 and agency systems with and without the evidence scopes."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from yipanqi.core.models import AuditEvent
from yipanqi.core.versioning import forget_local_versions
from yipanqi.directory.factories import UserFactory
from yipanqi.directory.models import ApiKey
from yipanqi.directory.services import hash_secret
from yipanqi.evidence import keys, merkle, notes, receipts
from yipanqi.evidence.models import Checkpoint, Cosignature, Deposit, LogState, Tile, Witness

pytestmark = pytest.mark.django_db

API = "/api/v1/evidence"
DEPOSITS = f"{API}/deposits/"
CASE = "（2026）川01执123号"


def digest(n: int, algorithm: str = "sha256") -> str:
    return hashlib.new(algorithm.replace("-", "_"), f"证据材料{n}".encode()).hexdigest()


def items(count: int, start: int = 0, **extra) -> list[dict]:
    return [{"hash": digest(n), "media_type": "application/pdf", **extra} for n in range(start, start + count)]


def key_for(agency, *scopes) -> str:
    """An API key of ``agency`` with exactly ``scopes`` (made directly: the scopes need not be in the issuing form)."""
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    ApiKey.objects.create(
        agency=agency, name="存证系统", prefix=prefix, hashed_secret=hash_secret(secret), scopes=list(scopes)
    )
    return f"yq_{prefix}.{secret}"


@pytest.fixture
def system(api):
    def make(agency, *scopes):
        client = api(None)
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key_for(agency, *scopes)}")
        return client

    return make


def world() -> list[int]:
    """Row counts of everything a write could touch: equal before and after a refusal means nothing was written."""
    return [m.objects.count() for m in (Deposit, Tile, LogState, Checkpoint, Cosignature, AuditEvent)]


def error(response) -> dict:
    return response.json()["error"]


def post(client, body, **kwargs):
    return client.post(DEPOSITS, body, format="json", **kwargs)


@pytest.fixture
def deposited(api, owner):
    """Three deposits of the owner's agency (one batch), then two more (a second checkpoint): indexes 0..4."""
    client = api(owner)
    assert post(client, {"deposits": items(3, case=CASE)}).status_code == 201
    assert post(client, {"deposits": items(2, start=3)}).status_code == 201
    return Deposit.objects.order_by("index")


# --------------------------------------------------------------------------- depositing


def test_a_batch_is_deposited_in_order_and_answered_with_receipts(api, owner):
    client = api(owner)
    response = post(client, {"deposits": [*items(2, case=CASE), {"hash": digest(2, "sm3"), "algorithm": "SM3"}]})
    assert response.status_code == 201, response.content
    assert response.json()["agency"] == {"id": owner.agency_id, "name": "四川省高级人民法院"}
    answer = response.json()["deposits"]
    assert [d["index"] for d in answer] == [0, 1, 2]
    first = answer[0]
    assert set(first) == {"index", "content_hash", "deposited_at", "created", "receipt"}  # lean: the rest is sent
    assert first["content_hash"] == digest(0) and first["created"] is True
    assert first["deposited_at"].endswith("+08:00")  # shown in China Standard Time
    assert first["receipt"] == f"http://testserver{DEPOSITS}0/receipt/"
    assert LogState.objects.get().size == 3 and Checkpoint.objects.filter(size=3).exists()
    assert client.get(first["receipt"]).status_code == 200
    detail = client.get(f"{DEPOSITS}0/").json()
    assert detail["algorithm"] == "sha256" and detail["case"] == CASE and detail["media_type"] == "application/pdf"
    assert detail["agency"] == {"id": owner.agency_id, "name": "四川省高级人民法院"}
    assert detail["depositor"] == f"user:{owner.pk}" and detail["source"] == "api"
    assert detail["deposited_at"] == first["deposited_at"]
    third = client.get(f"{DEPOSITS}2/").json()
    assert third["algorithm"] == "sm3" and third["media_type"] == "application/octet-stream" and third["case"] == ""


def test_depositing_again_answers_the_originals_with_200(api, owner):
    client = api(owner)
    first = post(client, {"deposits": items(2)}).json()["deposits"]
    before = world()
    again = post(client, {"deposits": list(reversed(items(2)))})
    assert again.status_code == 200
    answer = again.json()["deposits"]
    assert [d["index"] for d in answer] == [1, 0] and not any(d["created"] for d in answer)
    assert [d["deposited_at"] for d in reversed(answer)] == [d["deposited_at"] for d in first]
    assert world() == before
    # one object alone; the same hash twice in one batch is one deposit
    single = post(client, {"hash": digest(7).upper(), "case": CASE})
    assert single.status_code == 201 and single.json()["deposits"][0]["index"] == 2
    twice = post(client, {"deposits": [{"hash": digest(8)}, {"hash": digest(8)}]}).json()["deposits"]
    assert [(d["index"], d["created"]) for d in twice] == [(3, True), (3, False)]


def test_another_agency_depositing_the_same_hash_makes_its_own_deposit(api, owner, partner):
    post(api(owner), {"hash": digest(0)})
    response = post(api(partner), {"hash": digest(0)})
    assert response.status_code == 201
    assert response.json()["deposits"][0]["index"] == 1
    assert response.json()["agency"]["name"] == "重庆市高级人民法院"


def test_systems_deposit_with_the_write_scope_only(system, owner):
    writer = system(owner.agency, "evidence:write")
    response = post(writer, {"hash": digest(0)})
    assert response.status_code == 201
    key = ApiKey.objects.get(agency=owner.agency, scopes=["evidence:write"])
    assert writer.get(f"{DEPOSITS}0/").json()["depositor"] == f"key:{key.pk}"
    before = world()
    for scopes in (("evidence:witness",), ("directory:read", "assistance:write")):
        refused = post(system(owner.agency, *scopes), {"hash": digest(1)})
        assert refused.status_code == 403
        assert system(owner.agency, *scopes).get(DEPOSITS).status_code == 403
    assert world() == before


def test_anonymous_and_people_of_no_agency_cannot_deposit(api):
    before = world()
    anonymous = post(api(None), {"hash": digest(0)})
    assert anonymous.status_code == 401 and error(anonymous)["code"] == "not_authenticated"
    assert api(None).get(DEPOSITS).status_code == 401
    nobody = UserFactory(agency=None)
    refused = post(api(nobody), {"hash": digest(0)})
    assert refused.status_code == 403
    with translation.override("zh-hans"):
        assert error(refused)["message"] == translation.gettext(
            "Only people and systems of an agency deposit evidence."
        )
    assert world() == before


def _refused(client, body, **kwargs):
    before = world()
    response = client.post(DEPOSITS, body, **kwargs)
    assert response.status_code == 400, response.content
    assert world() == before
    return error(response)


def test_bad_deposits_are_refused_item_by_item_and_nothing_is_written(api, owner):
    client = api(owner)
    post(client, {"hash": digest(99)})  # the log is not empty: a refusal must not move it either
    body = {
        "deposits": [
            {"hash": digest(0)},
            {"hash": digest(1)[:-2]},  # one byte short
            {"hash": digest(2), "algorithm": "md5"},
            {"hash": "zz" * 32},
            {"hash": digest(4), "media_type": "not a type"},
            {"hash": digest(5), "case": "号" * 101},
            "not an object",
            {"hash": digest(7, "sha512")},  # a SHA-512 called sha256
        ]
    }
    fields = _refused(client, body, format="json")["fields"]
    assert sorted(fields, key=int) == ["2", "3", "4", "5", "6", "7", "8"]
    with translation.override("zh-hans"):
        _ = translation.gettext
        assert _("The hash has the wrong length for its algorithm: %(detail)s.").split("%")[0] in fields["2"][0]
        assert "31" in fields["2"][0] and "32" in fields["2"][0]
        assert fields["3"] == [
            _("Unknown hash algorithm: use one of %(names)s.") % {"names": "sha256, sha512, sha3-256, sm3"}
        ]
        assert fields["4"] == [_("The content hash must be hexadecimal.")]
        assert fields["5"] == [_("Not a media type such as application/pdf.")]
        assert fields["6"] == [_("The case reference is longer than %(limit)s characters.") % {"limit": 100}]
        assert "64" in fields["8"][0]


def test_malformed_bodies_are_refused_with_a_clear_message(api, owner):
    client = api(owner)
    not_json = _refused(client, "{deposits: [", content_type="application/json")
    assert not_json["code"] == "parse_error"
    for body in ([{"hash": digest(0)}], {"items": []}, "text", {"deposits": []}, {"deposits": {"hash": digest(0)}}):
        refused = _refused(client, json.dumps(body), content_type="application/json")
        assert list(refused["fields"]) == ["deposits"], body
    too_many = _refused(client, {"deposits": [{"hash": digest(0)}] * 10_001}, format="json")
    with translation.override("zh-hans"):
        expected = translation.gettext("At most %(limit)s deposits per batch; this one has %(count)s.") % {
            "limit": 10_000,
            "count": 10_001,
        }
    assert too_many["fields"] == {"deposits": [expected]}


def test_ten_thousand_deposits_in_one_batch(api, owner):
    batch = [{"hash": hashlib.sha256(n.to_bytes(4, "big")).hexdigest()} for n in range(10_000)]
    started = time.perf_counter()
    response = post(api(owner), {"deposits": batch})
    elapsed = time.perf_counter() - started
    assert response.status_code == 201
    answer = response.json()["deposits"]
    assert len(answer) == 10_000 and answer[-1]["index"] == 9_999 and all(d["created"] for d in answer)
    assert LogState.objects.get().size == 10_000
    assert elapsed < 30, elapsed


# --------------------------------------------------------------------------- reading deposits


def test_who_sees_which_deposits(api, deposited, owner, partner, outsider, coordinator):
    own = api(owner).get(DEPOSITS)
    assert own.status_code == 200
    assert [d["index"] for d in own.json()["results"]] == [4, 3, 2, 1, 0]  # newest first
    assert own.json()["results"][-1]["case"] == CASE
    assert [d["index"] for d in api(coordinator).get(DEPOSITS).json()["results"]] == [4, 3, 2, 1, 0]
    for stranger in (partner, outsider):
        assert api(stranger).get(DEPOSITS).json()["results"] == []
        assert api(stranger).get(f"{DEPOSITS}0/").status_code == 404
        assert api(stranger).get(f"{DEPOSITS}0/receipt/").status_code == 404
    assert api(None).get(f"{DEPOSITS}0/").status_code == 401
    detail = api(owner).get(f"{DEPOSITS}2/").json()
    assert detail["index"] == 2 and detail["content_hash"] == digest(2)
    assert api(owner).get(f"{DEPOSITS}99/").status_code == 404
    found = api(owner).get(DEPOSITS, {"hash": digest(1).upper()}).json()["results"]
    assert [d["index"] for d in found] == [1]
    assert api(owner).get(DEPOSITS, {"hash": "ab"}).json()["results"] == []
    assert api(owner).get(DEPOSITS, {"page_size": 2}).json()["count"] == 5


def test_the_receipt_verifies_offline_at_the_latest_or_a_past_checkpoint(api, deposited, owner):
    client = api(owner)
    latest = client.get(f"{DEPOSITS}1/receipt/")
    assert latest.status_code == 200
    receipt = latest.json()
    assert receipt["type"] == "yipanqi-evidence-receipt/v1" and receipt["index"] == 1 and receipt["tree_size"] == 5
    report = receipts.verify_receipt(receipt, key=keys.verifier_key())
    assert report.valid, report.summary()
    past = client.get(f"{DEPOSITS}1/receipt/", {"size": 3}).json()
    assert past["tree_size"] == 3 and receipts.verify_receipt(past, key=keys.verifier_key()).valid
    # a size the log never signed, one beyond it, one before the deposit, nonsense
    missing = client.get(f"{DEPOSITS}1/receipt/", {"size": 4})
    assert missing.status_code == 404 and "4" in error(missing)["message"]
    beyond = client.get(f"{DEPOSITS}1/receipt/", {"size": 6})
    assert beyond.status_code == 400 and "size" in error(beyond)["fields"]
    before = client.get(f"{DEPOSITS}4/receipt/", {"size": 3})
    assert before.status_code == 400 and "size" in error(before)["fields"]
    for bad in ("-1", "abc", "1e3", "9" * 40):
        assert client.get(f"{DEPOSITS}1/receipt/", {"size": bad}).status_code == 400, bad


def _queries(client, url, params=None) -> int:
    cache.clear()
    forget_local_versions()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


def test_the_deposits_list_costs_the_same_for_n_and_3n(api, system, owner, coordinator):
    post(api(owner), {"deposits": items(4)})
    clients = [api(owner), api(coordinator), system(owner.agency, "evidence:write")]
    clients[2].get(DEPOSITS)  # the key's first use is written down once
    few = [_queries(client, DEPOSITS) for client in clients]
    post(api(owner), {"deposits": items(8, start=4)})
    many = [_queries(client, DEPOSITS) for client in clients]
    assert few == many
    assert few[2] == 4  # the directory's version, the key (with its agency), the count, the page (with the agencies)


# --------------------------------------------------------------------------- lookup


def test_anyone_signed_in_may_look_a_hash_up_and_learns_no_more_than_when_and_by_whom(
    api, system, deposited, owner, partner, outsider
):
    for client in (api(owner), api(partner), api(outsider), system(outsider.agency, "directory:read")):
        response = client.get(f"{API}/lookup/", {"hash": digest(0)})
        assert response.status_code == 200
        answer = response.json()
        assert answer["found"] is True and answer["algorithm"] == "sha256" and answer["hash"] == digest(0)
        [found] = answer["deposits"]
        assert set(found) == {"index", "deposited_at", "agency", "receipt"}
        assert found["index"] == 0 and found["agency"] == "四川省高级人民法院"
        assert CASE not in response.content.decode()
        receipt = client.get(found["receipt"])
        assert receipt.status_code == 200 and receipt.json()["index"] == 0
        assert receipts.verify_receipt(receipt.json(), key=keys.verifier_key()).valid
    assert api(None).get(f"{API}/lookup/", {"hash": digest(0)}).status_code == 401
    nothing = api(outsider).get(f"{API}/lookup/", {"hash": digest(50)}).json()
    assert nothing["found"] is False and nothing["deposits"] == []


def test_a_bad_lookup_says_what_is_wrong(api, deposited, outsider):
    client = api(outsider)
    assert list(error(client.get(f"{API}/lookup/", {"hash": digest(0)[:10]}))["fields"]) == ["hash"]
    assert list(error(client.get(f"{API}/lookup/", {"hash": digest(0), "algorithm": "md5"}))["fields"]) == ["algorithm"]
    assert list(error(client.get(f"{API}/lookup/"))["fields"]) == ["hash"]
    receipt = f"{API}/lookup/receipt/"
    assert client.get(receipt, {"hash": digest(0), "index": 1}).status_code == 404  # index 1 is another hash
    assert client.get(receipt, {"hash": digest(0)}).status_code == 400
    assert client.get(receipt, {"hash": digest(0), "index": "x"}).status_code == 400
    assert client.get(receipt, {"hash": digest(0), "index": 0, "size": 99}).status_code == 400


# --------------------------------------------------------------------------- checkpoints and proofs


def test_the_checkpoint_is_public_signed_text(api, web, deposited):
    response = api(None).get(f"{API}/checkpoint")
    assert response.status_code == 200 and response["Content-Type"] == "text/plain; charset=utf-8"
    text = response.content.decode()
    body, signatures = notes.open_note(text, [keys.verifier_key()])
    checkpoint = notes.parse_checkpoint(body)
    assert checkpoint.size == 5 and checkpoint.root == bytes(LogState.objects.get().root)
    assert [s.name for s in signatures] == [notes.Verifier.from_key(keys.verifier_key()).name]
    assert web(None).get("/evidence/checkpoint").content.decode() == text
    assert api(None).get(f"{API}/checkpoint/").content.decode() == text
    past = api(None).get(f"{API}/checkpoints/3")
    assert past.status_code == 200 and notes.parse_checkpoint(past.content.decode().split("\n\n")[0] + "\n").size == 3
    for size in ("4", "6", "9" * 20):
        unknown = api(None).get(f"{API}/checkpoints/{size}")
        assert unknown.status_code == 404 and unknown["Content-Type"].startswith("text/plain")
        assert size in unknown.content.decode()
    assert api(None).get(f"{API}/checkpoints/abc").status_code == 404


def test_an_empty_log_has_no_checkpoint_and_says_so(api):
    response = api(None).get(f"{API}/checkpoint")
    assert response.status_code == 404 and response.content.decode().strip()
    proof = api(None).get(f"{API}/proofs/inclusion/", {"index": 0})
    assert proof.status_code == 404 and error(proof)["message"]


def _root(note: str) -> bytes:
    body, _signatures = notes.open_note(note, [keys.verifier_key()])
    return notes.parse_checkpoint(body).root


def test_inclusion_and_consistency_proofs_verify(api, deposited):
    client = api(None)
    for index, size in ((0, 5), (4, 5), (2, 3), (0, 3)):
        response = client.get(f"{API}/proofs/inclusion/", {"index": index, "size": size})
        assert response.status_code == 200
        answer = response.json()
        assert answer["tree_size"] == size and answer["index"] == index
        proof = [base64.b64decode(h) for h in answer["proof"]]
        leaf = bytes(Deposit.objects.get(index=index).leaf_hash)
        merkle.verify_inclusion(leaf, index, size, proof, _root(answer["checkpoint"]))
    latest = client.get(f"{API}/proofs/inclusion/", {"index": 1}).json()
    assert latest["tree_size"] == 5
    old = _root(client.get(f"{API}/checkpoints/3").content.decode())
    for first in (0, 3, 5):
        answer = client.get(f"{API}/proofs/consistency/", {"first": first}).json()
        proof = [base64.b64decode(h) for h in answer["proof"]]
        if first == 3:
            merkle.verify_consistency(3, 5, proof, old, _root(answer["checkpoint"]))
        else:
            assert answer["tree_size"] == 5
    assert client.get(f"{API}/proofs/consistency/", {"first": 1, "size": 3}).status_code == 200


@pytest.mark.parametrize(
    "path, params, status, field",
    [
        ("inclusion", {"index": 5}, 400, "index"),
        ("inclusion", {"index": 3, "size": 3}, 400, "index"),
        ("inclusion", {"index": 0, "size": 6}, 400, "size"),
        ("inclusion", {"index": 0, "size": 4}, 404, None),
        ("inclusion", {"index": 0, "size": "9" * 19}, 400, "size"),
        ("inclusion", {"index": "9" * 30}, 400, "index"),
        ("inclusion", {"index": -1}, 400, "index"),
        ("inclusion", {}, 400, "index"),
        ("inclusion", {"index": "one"}, 400, "index"),
        ("consistency", {"first": 6}, 400, "first"),
        ("consistency", {"first": 4, "size": 3}, 400, "first"),
        ("consistency", {"first": 1, "size": 4}, 404, None),
        ("consistency", {"first": 1, "size": 99}, 400, "size"),
        ("consistency", {}, 400, "first"),
    ],
)
def test_proofs_for_impossible_sizes_are_clear_errors(api, deposited, path, params, status, field):
    response = api(None).get(f"{API}/proofs/{path}/", params)
    assert response.status_code == status, response.content
    body = error(response)
    assert body["message"]
    if field:
        assert list(body["fields"]) == [field] and body["fields"][field][0]


# --------------------------------------------------------------------------- witnesses


@pytest.fixture
def witness(partner):
    """A witness of the partner's agency (重庆高院) with its own key."""
    signer_key, _verifier_key = notes.generate_key("witness.cqfy.example")
    signer = notes.Signer.from_key(signer_key)
    Witness.objects.create(agency=partner.agency, name=signer.name, verifier_key=signer.cosignature_verifier_key)
    return signer


def cosign(signer, size: int) -> str:
    checkpoint = Checkpoint.objects.get(size=size)
    return notes.cosign(checkpoint.note.split("\n\n", 1)[0] + "\n", signer, int(time.time()))


COSIGN = f"{API}/cosignatures/"


def test_a_witness_cosigns_a_checkpoint_which_is_then_served_with_it(api, system, deposited, witness, partner):
    line = cosign(witness, 5)
    response = api(partner).post(COSIGN, {"size": 5, "line": line}, format="json")
    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["size"] == 5 and answer["witness"] == witness.name and answer["agency"] == "重庆市高级人民法院"
    assert answer["line"] == line
    again = api(partner).post(COSIGN, {"size": 5, "line": cosign(witness, 5)}, format="json")
    assert again.status_code == 200 and again.json()["line"] == line  # the first one stands
    listed = api(None).get(f"{API}/checkpoints/5/cosignatures/").json()
    assert [c["witness"] for c in listed] == [witness.name]
    note = api(None).get(f"{API}/checkpoint").content.decode()
    assert note.endswith(line + "\n")
    body, _signatures = notes.open_note(note, [keys.verifier_key()])
    assert notes.verify_cosignature(body, line, witness.cosignature_verifier_key) > 0
    # the witness agency's system, with the witness scope, cosigns an older checkpoint
    by_system = system(partner.agency, "evidence:witness").post(
        COSIGN, {"size": 3, "line": cosign(witness, 3)}, format="json"
    )
    assert by_system.status_code == 201
    assert api(None).get(f"{API}/checkpoints/4/cosignatures/").status_code == 404


def test_proofs_at_the_latest_size_follow_new_checkpoints_and_cosignatures(
    api, owner, deposited, witness, partner, django_assert_num_queries
):
    """The latest checkpoint served with proofs is remembered by the process (selectors.latest_with_note) only while
    it stays the latest with the same cosignatures: a proof then costs one query for that, and one for any tile not
    remembered (in this small log, none)."""
    client = api(None)
    first = client.get(f"{API}/proofs/inclusion/", {"index": 1}).json()
    assert first["tree_size"] == 5 and "— " + witness.name not in first["checkpoint"]
    with django_assert_num_queries(1):
        assert client.get(f"{API}/proofs/inclusion/", {"index": 3}).status_code == 200
    line = cosign(witness, 5)
    assert api(partner).post(COSIGN, {"size": 5, "line": line}, format="json").status_code == 201
    cosigned = client.get(f"{API}/proofs/inclusion/", {"index": 1}).json()
    assert cosigned["tree_size"] == 5 and cosigned["checkpoint"].endswith(line + "\n")
    assert post(api(owner), {"deposits": items(1, start=7)}).status_code == 201
    grown = client.get(f"{API}/proofs/inclusion/", {"index": 5}).json()
    assert grown["tree_size"] == 6 and line not in grown["checkpoint"]
    proof = [base64.b64decode(h) for h in grown["proof"]]
    leaf = bytes(Deposit.objects.get(index=5).leaf_hash)
    merkle.verify_inclusion(leaf, 5, 6, proof, _root(grown["checkpoint"]))


def test_cosignatures_are_refused_to_others_and_when_malformed(api, system, deposited, witness, owner, partner):
    line = cosign(witness, 5)
    before = world()
    # other people and systems, or no one
    assert api(owner).post(COSIGN, {"size": 5, "line": line}, format="json").status_code == 403
    assert api(None).post(COSIGN, {"size": 5, "line": line}, format="json").status_code == 401
    assert (
        system(partner.agency, "evidence:write").post(COSIGN, {"size": 5, "line": line}, format="json").status_code
        == 403
    )
    handler = UserFactory(agency=partner.agency)  # of the witness agency, but no liaison
    assert api(handler).post(COSIGN, {"size": 5, "line": line}, format="json").status_code == 403
    client = api(partner)
    forged = line[:-4] + ("AAA=" if not line.endswith("AAA=") else "BBB=")
    cases = [
        ({"size": 5, "line": "not a signature line"}, 400, "line"),
        ({"size": 5, "line": "— witness.cqfy.example !!!"}, 400, "line"),
        ({"size": 5, "line": forged}, 400, "line"),
        ({"size": 3, "line": line}, 400, "line"),  # signed over another checkpoint
        ({"size": 6, "line": line}, 400, "size"),
        ({"size": 4, "line": line}, 404, None),
        ({"size": "five", "line": line}, 400, "size"),
        ({"line": line}, 400, "size"),
        ({"size": 5}, 400, "line"),
    ]
    for body, status, field in cases:
        response = client.post(COSIGN, body, format="json")
        assert response.status_code == status, (body, response.content)
        if field:
            assert field in error(response)["fields"], body
    assert world() == before
