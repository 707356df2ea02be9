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


@pytest.mark.parametrize("check_first", [False, True])
def test_a_batch_with_earlier_deposits_gets_their_originals_and_no_gap(owner, check_first):
    """Written straight away, a batch that repeats earlier deposits fails on the unique identity and is written again
    without them (the default); looked up first with ``check_first`` (the anchoring worker). Same result."""
    earlier = services.deposit(acting_user=owner, items=_items(3))
    entries = [(p, owner.agency, "user:1", "api") for p in services.prepare(_items(6))]
    result = services.integrate(entries, check_first=check_first)
    assert [(d.index, created) for d, created in result] == [
        (0, False), (1, False), (2, False), (3, True), (4, True), (5, True)
    ]  # fmt: skip
    assert [d.salt for d, _c in result[:3]] == [d.salt for d, _c in earlier]
    assert list(Deposit.objects.order_by("index").values_list("index", flat=True)) == [0, 1, 2, 3, 4, 5]
    assert LogState.objects.get().size == 6 and Checkpoint.objects.count() == 2
    assert fsck.run().ok


def test_the_batch_encoder_writes_what_the_leaf_encodes():
    from yipanqi.evidence.leaves import Leaf, batch_encoder

    shared = {"agency": '812:四川省"高级"人民法院\\', "depositor": "key:7\t", "time": "2021-09-16T00:30:00.000001Z"}
    encode = batch_encoder(**shared)
    for case in ["", "（2021）川01执123号\n", '"引号"\\', "\u2028"]:
        for algorithm, content in [("sha256", "ab" * 32), ("sm3", "0f" * 32), ("sha512", "c1" * 64)]:
            leaf = Leaf(
                content=content,
                algorithm=algorithm,
                media_type="application/vnd.ms-excel",
                case=case,
                salt="0123456789abcdef" * 2,
                **shared,
            )
            assert encode(content, algorithm, leaf.media_type, case, leaf.salt) == leaf.encode()


def test_deposits_are_built_as_the_model_builds_them(owner):
    """The sequencer fills new deposits' attributes directly (services._deposit): the same instance as Deposit(…)."""
    values = (7, "ab" * 32, b"\x01" * 32, "cd" * 32, "sha256", "application/pdf", owner.agency_id, "1:法院", "user:1",
              services.timezone.now(), "", "ef" * 16, "api")  # fmt: skip
    fast, model = services._deposit(values), Deposit(*values)
    assert {k: v for k, v in vars(fast).items() if k != "_state"} == {
        k: v for k, v in vars(model).items() if k != "_state"
    }
    assert (fast._state.adding, fast._state.db) == (model._state.adding, model._state.db) == (True, None)
    assert fast.agency == owner.agency and fast.pk == 7


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
