"""Evidence log writes: deposits (validated, then sequenced and integrated in one transaction), signed checkpoints,
witness cosignatures.

Sequencing is synchronous and durable: ``integrate`` locks the log's state row, gives the new leaves the next
indexes, writes the deposits and the tiles their nodes complete, moves the state to the new size and root and signs a
checkpoint for it — all in one transaction. A deposit is reported (returned, answered by the API) only after that
transaction committed, so a crash loses nothing reported and can never leave half a batch: the log and its
checkpoints move together or not at all. Batching: callers pass many deposits at once (the API takes up to 10,000; the
worker drains the audit trail in batches of EVIDENCE_BATCH_SIZE).

A deposit's identity is (agency, algorithm, content hash, case reference): depositing the same again returns the
original deposit (and so its original receipt), whoever at the agency sends it.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.base import ModelState
from django.utils import timezone
from django.utils.translation import gettext as _

from yipanqi.core.services import record_event

from . import bulk, keys, leaves, merkle, notes, storage
from .models import Checkpoint, Cosignature, Deposit, LogState, Witness

MAX_BATCH = 10_000
_IDENTITY_CHUNK = 2000


class Prepared(NamedTuple):
    """A validated deposit, before it has an index (a tuple: a batch makes 10,000 of them)."""

    content: str
    algorithm: str
    media_type: str
    case: str


def prepare(items: Sequence[dict]) -> list[Prepared]:
    """Check every item ({"hash", "algorithm", "media_type", "case"}) before anything is written; a ValidationError
    lists each bad item by its position (from 1)."""
    if not isinstance(items, Sequence) or isinstance(items, str | bytes):
        raise ValidationError({"deposits": [_("Send a list of deposits.")]})
    if not items:
        raise ValidationError({"deposits": [_("Send at least one deposit.")]})
    if len(items) > MAX_BATCH:
        raise ValidationError(
            {
                "deposits": [
                    _("At most %(limit)s deposits per batch; this one has %(count)s.")
                    % {"limit": MAX_BATCH, "count": len(items)}
                ]
            }
        )
    prepared, errors = [], {}
    for position, item in enumerate(items, 1):
        try:
            if not isinstance(item, dict):
                raise leaves.LeafError("each deposit is an object")
            algorithm = str(item.get("algorithm") or "sha256").strip().lower()
            content = leaves.normalise_hash(algorithm, str(item.get("hash") or ""))
            prepared.append(
                Prepared(
                    content=content,
                    algorithm=algorithm,
                    media_type=leaves.check_media_type(str(item.get("media_type") or "")),
                    case=leaves.check_case(str(item.get("case") or "")),
                )
            )
        except leaves.LeafError as exc:
            errors[str(position)] = [_translated(exc)]
    if errors:
        raise ValidationError(errors)
    return prepared


def _translated(exc: leaves.LeafError) -> str:
    """The leaf module speaks English (it runs in the offline verifier too); the platform answers in the user's
    language for the errors a client makes."""
    text = str(exc)
    if text.startswith("unknown hash algorithm"):
        return _("Unknown hash algorithm: use one of %(names)s.") % {"names": ", ".join(leaves.ALGORITHMS)}
    if text.startswith("the content hash must be"):
        return _("The content hash must be hexadecimal.")
    if " hex digits), this one has " in text:
        return _("The hash has the wrong length for its algorithm: %(detail)s.") % {"detail": text}
    if "media type" in text:
        return _("Not a media type such as application/pdf.")
    if "case reference" in text:
        return _("The case reference is longer than %(limit)s characters.") % {"limit": leaves.MAX_CASE}
    return text


def depositor_of(acting_user) -> str:
    if getattr(acting_user, "api_key_id", None):
        return f"key:{acting_user.api_key_id}"
    if getattr(acting_user, "pk", None):
        return f"user:{acting_user.pk}"
    return "system"


PLATFORM_LABEL = "0:yipanqi"


def agency_label(agency) -> str:
    """How the leaf names the depositing agency: "<id>:<name>"; "0:yipanqi" for the platform itself."""
    return f"{agency.pk}:{agency.name}" if agency is not None else PLATFORM_LABEL


def _state() -> LogState:
    state = LogState.objects.select_for_update().filter(pk=1).first()
    if state is None:
        # A new log: no tile this process remembers can be one of its tiles (a test's rolled-back log had others).
        storage.clear_cache()
        LogState.objects.get_or_create(pk=1, defaults={"root": merkle.EMPTY_ROOT})
        state = LogState.objects.select_for_update().get(pk=1)
    return state


def _frontier(state: LogState) -> list[bytes]:
    data = bytes(state.frontier or b"")
    return [data[i : i + merkle.HASH_SIZE] for i in range(0, len(data), merkle.HASH_SIZE)]


def _existing(identities: Iterable[str]) -> dict[str, Deposit]:
    """The deposits already made of these identities: one array query for which exist, then only those loaded."""
    stored = list(bulk.existing_identities(set(identities)))
    found: dict[str, Deposit] = {}
    for start in range(0, len(stored), _IDENTITY_CHUNK):
        chunk = stored[start : start + _IDENTITY_CHUNK]
        found.update({d.identity: d for d in Deposit.objects.filter(identity__in=chunk)})
    return found


def sign_checkpoint(state: LogState) -> Checkpoint:
    signer = keys.signer()
    body = notes.checkpoint_body(settings.EVIDENCE_ORIGIN, state.size, bytes(state.root))
    note = notes.sign_note(body, signer)
    return Checkpoint.objects.create(size=state.size, root=bytes(state.root), note=note, key_name=signer.name)


def integrate(
    entries: Sequence[tuple[Prepared, object, str, str]], *, check_first: bool = False
) -> list[tuple[Deposit, bool]]:
    """Sequence ``entries`` — (prepared, agency, depositor, source) — into the log in one transaction: returns, in the
    same order, each deposit and whether it is new (False: the same deposit was made before, or earlier in this
    batch).

    Most batches are all new, so the deposits are written straight away (in a savepoint) and the unique identity
    constraint finds any made before: only then are the stored ones looked up and the batch written again without
    them. ``check_first`` looks them up first instead, for callers that expect to send some again (the anchoring
    worker re-reads a few records each batch)."""
    with collector_paused(), transaction.atomic():
        state = _state()
        identities = [
            leaves.identity(agency.pk if agency else 0, p.algorithm, p.content, p.case) for p, agency, _d, _s in entries
        ]
        if not check_first:
            try:
                with transaction.atomic():
                    return _append(state, entries, identities, {})
            except IntegrityError:
                pass  # some were deposited before
            state.refresh_from_db()  # as it was: nothing of the undone attempt stays
        return _append(state, entries, identities, _existing(set(identities)))


def _append(
    state: LogState,
    entries: Sequence[tuple[Prepared, object, str, str]],
    identities: Sequence[str],
    existing: dict[str, Deposit],
) -> list[tuple[Deposit, bool]]:
    """Give the entries not in ``existing`` the next indexes; write them, their tiles, the new state and a signed
    checkpoint (the caller holds the state's row lock and the transaction)."""
    tree = merkle.CompactRange(state.size, _frontier(state))
    writer = storage.TileWriter()
    now = timezone.now()
    stamp = leaves.format_time(now)
    moment = leaves.parse_time(stamp)  # the leaf's time, to the microsecond, as the column keeps it
    salts = _salts(len(entries))
    new: list[Deposit] = []
    leaf_hashes: list[bytes] = []
    result: list[tuple[Deposit, bool]] = []
    encoders: dict[tuple[str, str], Callable[[str, str, str, str, str], bytes]] = {}
    for (prepared, agency, depositor, source), key, salt in zip(entries, identities, salts, strict=True):
        if key in existing:
            result.append((existing[key], False))
            continue
        label = agency_label(agency)
        encode = encoders.get((label, depositor))
        if encode is None:
            encode = encoders[label, depositor] = leaves.batch_encoder(label, depositor, stamp)
        content, algorithm, media_type, case = prepared
        leaf_hash = merkle.leaf_hash(encode(content, algorithm, media_type, case, salt))
        deposit = _deposit(
            (
                state.size + len(new),
                key,
                leaf_hash,
                content,
                algorithm,
                media_type,
                agency.pk if agency is not None else None,
                label,
                depositor,
                moment,
                case,
                salt,
                source,
            )
        )
        deposit._state.fields_cache["agency"] = agency
        leaf_hashes.append(leaf_hash)
        new.append(deposit)
        existing[key] = deposit
        result.append((deposit, True))
    if new:
        writer.extend(tree.extend(leaf_hashes))
        bulk.insert_deposits(new)
        writer.write()
        state.size = tree.size
        state.root = tree.root()
        state.frontier = b"".join(value for _level, _index, value in tree.frontier)
        state.save(update_fields=["size", "root", "frontier", "updated_at"])
        sign_checkpoint(state)
    return result


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for one batch: a batch of 10,000 allocates some 100,000 objects that
    form no cycles and live until it ends, and the collections they set off walk the whole heap of a Django process
    (about a sixth of a batch's time, measured). Reference counting still frees everything; the collector is back on
    afterwards unless it was already off (another thread's batch, or the caller's choice). The deposit API holds it
    off while it parses and answers a batch too."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_DEPOSIT_ATTRIBUTES = tuple(field.attname for field in Deposit._meta.concrete_fields)


def _deposit(values: tuple) -> Deposit:
    """A new Deposit from its column values in field order: what ``Deposit(*values)`` makes, without the per-field
    work of ``Model.__init__`` (descriptors, signals), a tenth of a 10,000-deposit batch. Deposit has no defaults
    and no init signal receivers; ``test_log`` checks both ways give the same instance."""
    deposit = Deposit.__new__(Deposit)
    deposit.__dict__.update(zip(_DEPOSIT_ATTRIBUTES, values, strict=True))
    deposit._state = ModelState()
    return deposit


def _salts(count: int) -> list[str]:
    """``count`` random 128-bit salts in hex (one read of the system's random source)."""
    data = os.urandom(16 * count).hex()
    return [data[i : i + 32] for i in range(0, 32 * count, 32)]


def deposit(*, acting_user, items: Sequence[dict], agency=None, source: str = "api") -> list[tuple[Deposit, bool]]:
    """Deposit the hashes ``items`` for ``agency`` (the acting person's or system's own agency by default). Validated
    first (nothing written on any error), sequenced in one transaction, audited once for the batch."""
    agency = agency or getattr(acting_user, "agency", None)
    if agency is None:
        raise PermissionError(_("Only people and systems of an agency deposit evidence."))
    with collector_paused():
        prepared = prepare(items)
    depositor = depositor_of(acting_user)
    with transaction.atomic():
        result = integrate([(p, agency, depositor, source) for p in prepared])
        made = [d for d, created in result if created]
        if made:
            first = made[0]
            record_event(
                acting_user=acting_user,
                action="evidence.deposit",
                obj=first,
                after={"count": len(made), "first": made[0].index, "last": made[-1].index, "source": source},
            )
    return result


def latest_checkpoint() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-size").first()


# --------------------------------------------------------------------------- witnesses


@transaction.atomic
def add_cosignature(*, acting_user, checkpoint: Checkpoint, line: str) -> Cosignature:
    """A witness's cosignature line for ``checkpoint``: checked against the key of the witness it names (which must
    belong to the acting system's agency), then stored. The same witness cosigning again replaces nothing: its first
    cosignature of a checkpoint stands."""
    line = (line or "").strip()
    name = line[2:].split(" ", 1)[0] if line.startswith("— ") else ""
    witness = Witness.objects.filter(name=name, active=True).first()
    if witness is None:
        raise ValidationError({"line": [_("No active witness has the key named in this cosignature.")]})
    if getattr(acting_user, "agency_id", None) != witness.agency_id and not getattr(
        acting_user, "is_platform_admin", False
    ):
        raise PermissionError(_("Only the witness's own agency sends its cosignatures."))
    body = checkpoint.note.split("\n\n", 1)[0] + "\n"
    try:
        timestamp = notes.verify_cosignature(body, line, witness.verifier_key)
    except notes.NoteError as exc:
        raise ValidationError({"line": [_("The cosignature does not verify: %(reason)s") % {"reason": exc}]}) from exc
    existing = Cosignature.objects.filter(checkpoint=checkpoint, witness=witness).first()
    if existing is not None:
        return existing
    cosignature = Cosignature.objects.create(checkpoint=checkpoint, witness=witness, line=line, timestamp=timestamp)
    record_event(
        acting_user=acting_user,
        action="evidence.cosign",
        obj=cosignature,
        after={"checkpoint": checkpoint.size, "witness": witness.name, "time": timestamp},
    )
    return cosignature
