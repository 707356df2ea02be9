"""Evidence log reads: looking a hash up, an agency's deposits, checkpoints, proofs and receipts.

Proofs are always computed at the size of a signed checkpoint (the latest one unless one is named), from the stored
tiles in one query, and returned with that checkpoint.
"""

from __future__ import annotations

import base64

from django.conf import settings
from django.db import connection

from . import keys, leaves, merkle, storage
from .models import Checkpoint, Cosignature, Deposit

RECEIPT_TYPE = "yipanqi-evidence-receipt/v1"


class ProofUnavailable(ValueError):
    """A proof that cannot be given: a size beyond the log, an index beyond the checkpoint, no checkpoint yet."""


def lookup(content_hash: str, algorithm: str = "sha256") -> list[Deposit]:
    """Every deposit of this content hash (any agency): what the public "was this deposited?" check answers with."""
    content = leaves.normalise_hash(algorithm, content_hash)
    return list(
        Deposit.objects.filter(content_hash=content, algorithm=algorithm.strip().lower())
        .select_related("agency")
        .order_by("index")
    )


def checkpoint(size: int | None = None) -> Checkpoint:
    """The checkpoint of ``size``, or the latest."""
    query = Checkpoint.objects.all()
    found = query.filter(size=size).first() if size is not None else query.order_by("-size").first()
    if found is None:
        if size is None:
            raise ProofUnavailable("the log has no checkpoint yet")
        raise ProofUnavailable(f"no checkpoint of size {size}")
    return found


def inclusion_proof(index: int, at: Checkpoint) -> list[bytes]:
    if not 0 <= index < at.size:
        raise ProofUnavailable(f"leaf {index} is not in the tree of size {at.size}")
    return merkle.inclusion_proof(index, at.size, storage.lookup, storage.folds())


def consistency_proof(size1: int, at: Checkpoint) -> list[bytes]:
    if not 0 <= size1 <= at.size:
        raise ProofUnavailable(f"size {size1} is beyond the tree of size {at.size}")
    return merkle.consistency_proof(size1, at.size, storage.lookup, storage.folds())


_latest: tuple[tuple, Checkpoint, str] | None = None  # (what identifies it, the checkpoint, its served note)


def latest_with_note() -> tuple[Checkpoint, str]:
    """The latest checkpoint and its note with the cosignature lines: what proofs at the latest size are served
    with. One small query while neither changed — the process remembers them with what identifies them (id, size,
    root; how many cosignatures and the last one's id) — instead of loading the checkpoint and its cosignatures for
    every proof."""
    global _latest
    checkpoints = connection.ops.quote_name(Checkpoint._meta.db_table)
    cosignatures = connection.ops.quote_name(Cosignature._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.id, c.size, c.root, "  # noqa: S608 (fixed names)
            f"(SELECT count(*) FROM {cosignatures} s WHERE s.checkpoint_id = c.id), "
            f"(SELECT max(s.id) FROM {cosignatures} s WHERE s.checkpoint_id = c.id) "
            f"FROM {checkpoints} c ORDER BY c.size DESC LIMIT 1"
        )
        row = cursor.fetchone()
    if row is None:
        raise ProofUnavailable("the log has no checkpoint yet")
    key = (row[0], row[1], bytes(row[2]), row[3], row[4])
    remembered = _latest
    if remembered is None or remembered[0] != key:
        at = Checkpoint.objects.get(pk=row[0])
        remembered = _latest = (key, at, note_with_cosignatures(at)[0])
    return remembered[1], remembered[2]


def note_with_cosignatures(at: Checkpoint) -> tuple[str, list[Cosignature]]:
    """The checkpoint's note with its witnesses' cosignature lines added (a signed note may carry several)."""
    cosignatures = list(at.cosignatures.select_related("witness").order_by("id"))
    note = at.note + "".join(c.line + "\n" for c in cosignatures)
    return note, cosignatures


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def signing_key(at: Checkpoint) -> str:
    """The verifier key that signed ``at``: the current key, or a previous one (rotation) — a receipt names the key
    its checkpoint verifies with."""
    from . import notes

    for key in keys.verifier_keys():
        try:
            notes.open_checkpoint(at.note, [key])
        except notes.NoteError:
            continue
        return key
    return keys.verifier_key()


def receipt(deposit: Deposit, at: Checkpoint | None = None) -> dict:
    """The self-contained receipt (存证证明) of a deposit at a checkpoint (the latest by default): everything needed to
    verify it offline. See docs/evidence.md for the fields."""
    at = at or checkpoint()
    note, cosignatures = note_with_cosignatures(at)
    return {
        "type": RECEIPT_TYPE,
        "log": {"origin": settings.EVIDENCE_ORIGIN, "verifier_key": signing_key(at)},
        "leaf": deposit.leaf().as_dict(),
        "leaf_hash": b64(bytes(deposit.leaf_hash)),
        "index": deposit.index,
        "tree_size": at.size,
        "inclusion_proof": [b64(h) for h in inclusion_proof(deposit.index, at)],
        "checkpoint": note,
        "witnesses": [
            {"name": c.witness.name, "verifier_key": c.witness.verifier_key, "agency": c.witness.agency.name}
            for c in cosignatures
        ],
    }
