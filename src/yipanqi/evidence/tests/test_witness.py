"""A witness node cosigning the log (``witness.run_once``) against the real API, through Django's test client as the
transport: it checks the log's signature and consistency with what it cosigned before, refuses rollbacks and forks,
and the log stores and serves its cosignatures."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from django.test import Client

from yipanqi.directory import services as directory
from yipanqi.evidence import keys, notes, selectors, services
from yipanqi.evidence.models import Cosignature, Witness
from yipanqi.evidence.witness import WitnessError, run_once

pytestmark = pytest.mark.django_db


def _deposit(user, count: int, start: int) -> None:
    services.deposit(
        acting_user=user,
        items=[{"hash": hashlib.sha256(f"卷宗{n}".encode()).hexdigest()} for n in range(start, start + count)],
    )


@pytest.fixture
def node(partner, tmp_path):
    """重庆高院's witness: its key, registered with the log, and an API key with the witness scope."""
    signer_key, verifier_key = notes.generate_key("witness.cq-court.example")
    Witness.objects.create(agency=partner.agency, name="witness.cq-court.example", verifier_key=verifier_key)
    issued = directory.issue_api_key(
        acting_user=partner, agency=partner.agency, name="witness", scopes=["evidence:witness"]
    )
    return {"signer_key": signer_key, "api_key": issued.token, "state": tmp_path / "witness.json"}


def _transport(method, url, body, headers):
    client = Client()
    path = url.removeprefix("http://testserver")
    extra = {"HTTP_AUTHORIZATION": headers["Authorization"]} if "Authorization" in headers else {}
    if method == "GET":
        response = client.get(path, **extra)
    else:
        response = client.post(path, data=body, content_type="application/json", **extra)
    return response.status_code, response.content


def _round(node, **overrides):
    options = {
        "log_url": "http://testserver",
        "log_key": keys.verifier_key(),
        "witness_key": node["signer_key"],
        "state_file": node["state"],
        "api_key": node["api_key"],
        "transport": _transport,
        "now": lambda: 1_800_000_000,
    }
    return run_once(**{**options, **overrides})


def test_the_witness_cosigns_then_checks_consistency_before_cosigning_again(owner, partner, node):
    _deposit(owner, 3, 0)
    first = _round(node)
    assert first.cosigned and first.size == 3 and first.previous is None
    _deposit(owner, 5, 3)
    second = _round(node)
    assert second.size == 8 and second.previous == 3
    stored = Cosignature.objects.select_related("checkpoint").order_by("checkpoint__size")
    assert [c.checkpoint.size for c in stored] == [3, 8]
    assert all(c.timestamp == 1_800_000_000 for c in stored)
    note, _cosignatures = selectors.note_with_cosignatures(selectors.checkpoint(8))
    assert second.line in note
    body = note.split("\n\n", 1)[0] + "\n"
    assert notes.verify_cosignature(body, second.line, Witness.objects.get().verifier_key) == 1_800_000_000
    assert json.loads(node["state"].read_text())["size"] == 8


def test_a_rollback_and_a_fork_are_refused_and_not_cosigned(owner, node):
    _deposit(owner, 4, 0)
    _round(node)
    root = base64.b64decode(json.loads(node["state"].read_text())["root"])
    node["state"].write_text(json.dumps({"size": 9, "root": base64.b64encode(root).decode()}))
    with pytest.raises(WitnessError, match="ROLLBACK"):
        _round(node)
    node["state"].write_text(json.dumps({"size": 4, "root": base64.b64encode(bytes(32)).decode()}))
    with pytest.raises(WitnessError, match="FORK"):
        _round(node)
    node["state"].write_text(json.dumps({"size": 2, "root": base64.b64encode(bytes(32)).decode()}))
    with pytest.raises(WitnessError, match="FORK"):
        _round(node)
    assert Cosignature.objects.count() == 1


def test_a_checkpoint_not_signed_by_the_log_key_is_refused(owner, node):
    _deposit(owner, 2, 0)
    _other_signer, other_verifier = notes.generate_key("yipanqi.local/evidence")
    with pytest.raises(WitnessError, match="not signed by the log"):
        _round(node, log_key=other_verifier)
    assert not Cosignature.objects.exists() and not node["state"].exists()


def test_a_witness_the_log_does_not_know_is_refused_and_remembers_nothing(owner, node):
    _deposit(owner, 2, 0)
    stranger, _verifier = notes.generate_key("witness.unknown.example")
    with pytest.raises(WitnessError, match="refused"):
        _round(node, witness_key=stranger)
    assert not Cosignature.objects.exists() and not node["state"].exists()


def test_the_witness_command_reports_a_refusal_with_exit_status_1(owner, node, tmp_path):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    _deposit(owner, 1, 0)
    with pytest.raises(CommandError) as refused:
        call_command(
            "evidence",
            "witness",
            "--log",
            "http://127.0.0.1:9",  # nothing listens there
            "--log-key",
            keys.verifier_key(),
            "--key",
            node["signer_key"],
            "--state",
            str(tmp_path / "state.json"),
        )
    assert refused.value.returncode == 1 and "cannot reach the log" in str(refused.value)
