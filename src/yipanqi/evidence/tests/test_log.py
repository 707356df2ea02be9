"""The log in the database: deposits sequenced and integrated in one transaction, tiles that serve every proof of
every size, checkpoints signed at each new size, re-submitted deposits returning their original."""

from __future__ import annotations

import hashlib

import pytest
from django.core.exceptions import ValidationError

from yipanqi.core.models import AuditEvent
from yipanqi.evidence import fsck, keys, merkle, notes, selectors, services, storage
from yipanqi.evidence.models import Checkpoint, Deposit, LogState, Tile

pytestmark = pytest.mark.django_db


def _items(count: int, start: int = 0, case: str = "") -> list[dict]:
    return [
        {"hash": hashlib.sha256(f"证据{n}".encode()).hexdigest(), "media_type": "application/pdf", "case": case}
        for n in range(start, start + count)
    ]


def _all_nodes(size: int) -> dict[tuple[int, int], bytes]:
    """Every perfect node of the log recomputed from the deposits' leaves (the independent reference)."""
    tree = merkle.CompactRange()
    nodes = {}
    for deposit in Deposit.objects.order_by("index")[:size]:
        assert merkle.leaf_hash(deposit.leaf().encode()) == bytes(deposit.leaf_hash)
        for level, index, value in tree.append(bytes(deposit.leaf_hash)):
            nodes[(level, index)] = value
    return nodes


def test_deposits_get_consecutive_indexes_and_a_signed_checkpoint(owner):
    result = services.deposit(acting_user=owner, items=_items(5))
    assert [d.index for d, created in result] == [0, 1, 2, 3, 4] and all(created for _d, created in result)
    state = LogState.objects.get()
    assert state.size == 5
    leaf_hashes = [bytes(d.leaf_hash) for d in Deposit.objects.order_by("index")]
    assert bytes(state.root) == merkle.root(leaf_hashes)
    checkpoint = Checkpoint.objects.get(size=5)
    body, _signatures = notes.open_note(checkpoint.note, [notes.Verifier.from_key(keys.verifier_key())])
    parsed = notes.parse_checkpoint(body)
    assert parsed.size == 5 and parsed.root == bytes(state.root)
    assert AuditEvent.objects.filter(action="evidence.deposit").count() == 1


def test_a_deposit_made_again_returns_the_original(owner, partner):
    ((first, created),) = services.deposit(acting_user=owner, items=_items(1, case="(2021)川01执1号"))
    assert created
    ((again, created),) = services.deposit(acting_user=owner, items=_items(1, case="(2021)川01执1号"))
    assert not created and again.index == first.index and again.salt == first.salt
    ((other_case, created),) = services.deposit(acting_user=owner, items=_items(1, case="(2021)川01执2号"))
    assert created and other_case.index == 1
    ((other_agency, created),) = services.deposit(acting_user=partner, items=_items(1, case="(2021)川01执1号"))
    assert created and other_agency.index == 2
    twice = services.deposit(acting_user=owner, items=[*_items(1, start=9), *_items(1, start=9)])
    assert twice[0][0].index == twice[1][0].index == 3 and [c for _d, c in twice] == [True, False]
    assert LogState.objects.get().size == 4 and Checkpoint.objects.count() == 4


@pytest.mark.parametrize("batches", [[1] * 9, [3, 5, 1, 7], [256], [255, 1, 1], [300, 300, 50]])
def test_stored_tiles_serve_every_proof_at_every_checkpoint(owner, batches):
    sizes, total = [], 0
    for count in batches:
        services.deposit(acting_user=owner, items=_items(count, start=total))
        total += count
        sizes.append(total)
    reference = _all_nodes(total)
    state = LogState.objects.get()
    for size in sizes:
        at = selectors.checkpoint(size)
        assert bytes(at.root) == merkle.fold([reference[n] for n in merkle.subtrees(0, size)])
        for index in {0, size // 2, size - 1}:
            proof = selectors.inclusion_proof(index, at)
            leaf = bytes(Deposit.objects.get(index=index).leaf_hash)
            merkle.verify_inclusion(leaf, index, size, proof, bytes(at.root))
        for first in {0, 1, size // 3, size}:
            if first <= size:
                proof = selectors.consistency_proof(first, selectors.checkpoint())
                first_root = (
                    merkle.fold([reference[n] for n in merkle.subtrees(0, first)]) if first else merkle.EMPTY_ROOT
                )
                merkle.verify_consistency(first, total, proof, first_root, bytes(state.root))
    stored = storage.lookup(set(reference))
    assert stored == reference
    assert Tile.objects.count() >= 1


def test_proofs_beyond_the_log_are_refused(owner):
    services.deposit(acting_user=owner, items=_items(3))
    at = selectors.checkpoint()
    with pytest.raises(selectors.ProofUnavailable):
        selectors.inclusion_proof(3, at)
    with pytest.raises(selectors.ProofUnavailable):
        selectors.consistency_proof(4, at)
    with pytest.raises(selectors.ProofUnavailable):
        selectors.checkpoint(99)


@pytest.mark.parametrize(
    "item",
    [
        {"hash": "ab" * 31},
        {"hash": "ab" * 33},
        {"hash": "zz" * 32},
        {"hash": "ab" * 32, "algorithm": "md5"},
        {"hash": "ab" * 32, "algorithm": "sha512"},
        {"hash": "ab" * 32, "media_type": "not a type"},
        {"hash": "ab" * 32, "case": "案" * 101},
        "ab" * 32,
    ],
)
def test_bad_deposits_are_refused_and_nothing_is_written(owner, item):
    with pytest.raises(ValidationError) as refused:
        services.deposit(acting_user=owner, items=[*_items(2), item])
    assert "3" in refused.value.message_dict
    assert not Deposit.objects.exists() and not Checkpoint.objects.exists()


def test_batches_are_limited(owner):
    with pytest.raises(ValidationError):
        services.deposit(acting_user=owner, items=_items(1) * (services.MAX_BATCH + 1))
    with pytest.raises(ValidationError):
        services.deposit(acting_user=owner, items=[])
    assert not Deposit.objects.exists()


def test_sha512_and_sm3_deposits(owner):
    result = services.deposit(
        acting_user=owner,
        items=[
            {"hash": hashlib.sha512(b"x").hexdigest(), "algorithm": "sha512"},
            {"hash": "AB" * 32, "algorithm": "SM3"},
        ],
    )
    assert [(d.algorithm, len(d.content_hash)) for d, _c in result] == [("sha512", 128), ("sm3", 64)]
    assert result[1][0].content_hash == "ab" * 32


def test_after_a_key_rotation_old_checkpoints_verify_with_the_previous_key(owner, settings):
    from yipanqi.evidence import receipts

    old_signer, old_verifier = notes.generate_key("yipanqi.local/evidence")
    new_signer, new_verifier = notes.generate_key("yipanqi.local/evidence")
    settings.EVIDENCE_SIGNING_KEY = old_signer
    ((first, _created),) = services.deposit(acting_user=owner, items=_items(1))
    settings.EVIDENCE_SIGNING_KEY = new_signer
    settings.EVIDENCE_PREVIOUS_KEYS = [old_verifier]
    services.deposit(acting_user=owner, items=_items(1, start=1))
    old_receipt = selectors.receipt(first, selectors.checkpoint(1))
    new_receipt = selectors.receipt(first)
    assert old_receipt["log"]["verifier_key"] == old_verifier
    assert new_receipt["log"]["verifier_key"] == new_verifier
    assert receipts.verify_receipt(old_receipt, key=old_verifier).valid
    assert receipts.verify_receipt(new_receipt, key=new_verifier).valid
    assert not receipts.verify_receipt(new_receipt, key=old_verifier).valid
    assert fsck.run().ok


def test_the_written_out_leaf_encoding_is_canonical_json():
    import json

    from yipanqi.evidence.leaves import Leaf

    leaf = Leaf(
        content="ab" * 32,
        algorithm="sha256",
        media_type="application/pdf",
        agency='812:四川省"高级"人民法院\\',
        depositor="user:1",
        time="2021-09-16T00:30:00.000001Z",
        case="（2021）川01执123号\n",
        salt="0" * 32,
    )
    canonical = json.dumps(leaf.as_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    assert leaf.encode() == canonical
    assert Leaf.decode(canonical) == leaf


def test_deposits_are_built_in_the_models_field_order(owner):
    """The sequencer builds deposits positionally: a field added to the model must be added there too."""
    names = [field.attname for field in Deposit._meta.concrete_fields]
    assert names == [
        "index", "identity", "leaf_hash", "content_hash", "algorithm", "media_type", "agency_id", "agency_label",
        "depositor", "deposited_at", "case_ref", "salt", "source",
    ]  # fmt: skip
    ((deposit, _created),) = services.deposit(acting_user=owner, items=_items(1, case="(2021)川01执1号"))
    stored = Deposit.objects.get(index=deposit.index)
    assert (stored.agency_id, stored.case_ref, stored.depositor) == (
        owner.agency_id,
        "(2021)川01执1号",
        f"user:{owner.pk}",
    )
    assert stored.leaf() == deposit.leaf()


def test_proofs_stay_right_while_the_log_grows_past_remembered_tiles(owner):
    """Partial tiles are remembered as far as they went: after the log grows, proofs that need their new nodes read
    them again (and proofs at an older checkpoint still use what was remembered)."""
    verified = 0
    for count in (5, 200, 60, 1):
        services.deposit(acting_user=owner, items=_items(count, start=Deposit.objects.count()))
        at = selectors.checkpoint()
        for index in (0, at.size // 2, at.size - 1):
            leaf = bytes(Deposit.objects.get(index=index).leaf_hash)
            merkle.verify_inclusion(leaf, index, at.size, selectors.inclusion_proof(index, at), bytes(at.root))
            verified += 1
        old = selectors.checkpoint(5)
        merkle.verify_inclusion(
            bytes(Deposit.objects.get(index=4).leaf_hash), 4, 5, selectors.inclusion_proof(4, old), bytes(old.root)
        )
    assert verified == 12
