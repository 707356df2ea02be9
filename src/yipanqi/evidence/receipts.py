"""Offline verification of a receipt (存证证明): what ``yipanqi evidence verify`` runs.

Pure module (no Django): an auditor verifies a receipt with nothing but the receipt, optionally the original file and
the log's published verifier key. Every check says what it checked and, when it fails, what exactly is wrong:

1. ``format``      the JSON has the receipt's shape (type, fields, base64 hashes of 32 bytes, integers);
2. ``leaf``        the leaf is a valid leaf, and its hash (RFC 9162: SHA-256(0x00 || canonical JSON)) is ``leaf_hash``;
3. ``signature``   the checkpoint note is signed by the log's key: the key given (``key``), or else the key written in
                   the receipt itself — which proves only that the receipt is consistent, so the report says to
                   compare that key with the one the platform publishes;
4. ``checkpoint``  the checkpoint parses, names the log's origin and the receipt's tree size;
5. ``index``       the leaf's index is inside the tree;
6. ``inclusion``   the inclusion proof leads from ``leaf_hash`` at ``index`` to the checkpoint's root;
7. ``witness …``   one check per witness listed: its cosignature line is in the note and verifies with its key;
8. ``file``        with the original file: its digest (with the leaf's algorithm) is the leaf's content hash.

A check that cannot run because an earlier one failed is listed as not checked (``ok`` is None). The receipt is valid
only when every check passed. ``verify_receipt`` never raises for a bad receipt: a malformed one is a failed
``format`` check with its reason.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from typing import BinaryIO

from . import leaves, merkle, notes

__all__ = [
    "RECEIPT_TYPE",
    "Check",
    "Report",
    "TrustedKeyError",
    "fingerprint",
    "load_keys",
    "parse_receipt",
    "verify_receipt",
]

RECEIPT_TYPE = "yipanqi-evidence-receipt/v1"
MAX_PROOF = 64  # an inclusion proof in a tree of at most 2^64 leaves has at most 64 hashes
MAX_WITNESSES = notes.MAX_SIGNATURES
MAX_KEY_FILE = 64 * 1024

_FIELDS = {
    "type": str,
    "log": dict,
    "leaf": dict,
    "leaf_hash": str,
    "index": int,
    "tree_size": int,
    "inclusion_proof": list,
    "checkpoint": str,
    "witnesses": list,
}
_TYPE_NAMES = {str: "a string", dict: "an object", int: "an integer", list: "a list"}


class TrustedKeyError(ValueError):
    """A trusted key (``key=``) that is neither a verifier key nor a readable file holding verifier keys."""


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool | None  # None: not checked, because a check it depends on failed
    explanation: str

    @property
    def mark(self) -> str:
        return "✓" if self.ok else ("–" if self.ok is None else "✗")

    def as_dict(self) -> dict:
        return {"name": self.name, "ok": self.ok, "explanation": self.explanation}


@dataclass
class Report:
    """The checks in order, and what the verification learnt (for display: the PDF, the CLI)."""

    checks: list[Check] = field(default_factory=list)
    trusted_key: bool = False  # False: checked against the receipt's own key (consistency only)
    key: str = ""  # the verifier key the signature verified with
    leaf: leaves.Leaf | None = None
    checkpoint: notes.Checkpoint | None = None
    witness_times: dict[str, int] = field(default_factory=dict)  # witness name -> cosignature timestamp (verified)

    @property
    def valid(self) -> bool:
        return bool(self.checks) and all(check.ok is True for check in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [check for check in self.checks if check.ok is False]

    def add(self, name: str, ok: bool | None, explanation: str) -> bool:
        self.checks.append(Check(name, ok, explanation))
        return bool(ok)

    def summary(self) -> str:
        if self.valid:
            if self.trusted_key:
                return "VALID: every check passed."
            return (
                "VALID, but only against the key in the receipt itself: every check passed; compare that key with "
                "the one the platform publishes, or verify again with --key."
            )
        failed = self.failures
        names = ", ".join(check.name for check in failed)
        return f"NOT VALID: {len(failed)} check(s) failed ({names})."

    def as_dict(self) -> dict:
        return {
            "valid": self.valid,
            "trusted_key": self.trusted_key,
            "key": self.key,
            "summary": self.summary(),
            "checks": [check.as_dict() for check in self.checks],
        }


# -------------------------------------------------------------------------------------------------------- helpers


@lru_cache(maxsize=256)
def _verifier(verifier_key: str) -> notes.Verifier:
    """A parsed verifier key (NoteError if it is not one); kept, since one auditor checks many receipts of one log."""
    return notes.Verifier.from_key(verifier_key)


def fingerprint(verifier_key: str) -> str:
    """``<name>+<key hash>`` of a verifier key: how keys are named in notes (not a substitute for the whole key)."""
    name, _sep, rest = verifier_key.strip().partition("+")
    return f"{name}+{rest.partition('+')[0]}"


def _b64_hash(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a base64 string, not {_kind(value)}")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{what} is not valid base64") from None
    if base64.b64encode(raw).decode("ascii") != value:
        raise ValueError(f"{what} is not canonical base64")
    if len(raw) != merkle.HASH_SIZE:
        raise ValueError(f"{what} is {len(raw)} bytes, a SHA-256 hash has {merkle.HASH_SIZE}")
    return raw


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return {str: "a string", dict: "an object", list: "a list"}.get(type(value), type(value).__name__)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class Parsed:
    """A receipt whose shape is right: hashes decoded, integers checked."""

    data: dict
    origin: str
    verifier_key: str
    leaf: dict
    leaf_hash: bytes
    index: int
    tree_size: int
    proof: list[bytes]
    note: str
    witnesses: list[dict]


def parse_receipt(receipt: dict | bytes | str) -> Parsed:
    """The receipt's shape, strictly; ValueError with the reason for anything else (never another exception)."""
    if isinstance(receipt, bytes | bytearray):
        try:
            receipt = bytes(receipt).decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("the receipt is not UTF-8 text") from None
    if isinstance(receipt, str):
        try:
            receipt = json.loads(receipt)
        except ValueError as exc:
            raise ValueError(f"the receipt is not valid JSON ({exc})") from None
        except RecursionError:
            raise ValueError("the receipt is not valid JSON (nested too deeply)") from None
    if not isinstance(receipt, dict):
        raise ValueError(f"a receipt is a JSON object, this is {_kind(receipt)}")
    missing = [name for name in _FIELDS if name not in receipt]
    if missing:
        raise ValueError(f"the receipt lacks the field(s) {', '.join(missing)}")
    for name, kind in _FIELDS.items():
        value = receipt[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ValueError(f"the field {name} must be {_TYPE_NAMES[kind]}, not {_kind(value)}")
    if receipt["type"] != RECEIPT_TYPE:
        raise ValueError(f"the type {_short(receipt['type'])!r} is not {RECEIPT_TYPE!r}")
    log = receipt["log"]
    for name in ("origin", "verifier_key"):
        if not isinstance(log.get(name), str) or not log[name]:
            raise ValueError(f"log.{name} must be a non-empty string")
    for name in ("index", "tree_size"):
        if not 0 <= receipt[name] <= merkle.MAX_SIZE:
            raise ValueError(f"the field {name} must be between 0 and 2^64-1, not {receipt[name]}")
    leaf_hash = _b64_hash(receipt["leaf_hash"], "leaf_hash")
    proof_items = receipt["inclusion_proof"]
    if len(proof_items) > MAX_PROOF:
        raise ValueError(f"the inclusion proof has {len(proof_items)} hashes, never more than {MAX_PROOF}")
    proof = [_b64_hash(item, f"inclusion_proof[{n}]") for n, item in enumerate(proof_items)]
    witnesses = receipt["witnesses"]
    if len(witnesses) > MAX_WITNESSES:
        raise ValueError(f"the receipt lists {len(witnesses)} witnesses, at most {MAX_WITNESSES} are read")
    for n, witness in enumerate(witnesses):
        if not isinstance(witness, dict):
            raise ValueError(f"witnesses[{n}] must be an object, not {_kind(witness)}")
        for name in ("name", "verifier_key"):
            if not isinstance(witness.get(name), str) or not witness[name]:
                raise ValueError(f"witnesses[{n}].{name} must be a non-empty string")
        if not isinstance(witness.get("agency", ""), str):
            raise ValueError(f"witnesses[{n}].agency must be a string")
    return Parsed(
        data=receipt,
        origin=log["origin"],
        verifier_key=log["verifier_key"],
        leaf=receipt["leaf"],
        leaf_hash=leaf_hash,
        index=receipt["index"],
        tree_size=receipt["tree_size"],
        proof=proof,
        note=receipt["checkpoint"],
        witnesses=witnesses,
    )


def load_keys(key: str) -> list[str]:
    """The trusted verifier keys named by ``key``: a verifier key itself, or the path of a file holding one or more
    (one a line; blank lines and lines starting with # are skipped). TrustedKeyError says why a key cannot be used."""
    if not isinstance(key, str) or not key.strip():
        raise TrustedKeyError("the key is empty")
    text = key.strip()
    if os.path.isfile(text):
        try:
            with open(text, "rb") as handle:
                data = handle.read(MAX_KEY_FILE + 1)
        except OSError as exc:
            raise TrustedKeyError(f"cannot read the key file {text}: {exc.strerror}") from None
        if len(data) > MAX_KEY_FILE:
            raise TrustedKeyError(f"the key file {text} is too large to hold verifier keys")
        try:
            lines = data.decode("utf-8").splitlines()
        except UnicodeDecodeError:
            raise TrustedKeyError(f"the key file {text} is not UTF-8 text") from None
        found = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
        if not found:
            raise TrustedKeyError(f"the key file {text} holds no verifier key")
        where = f" in the key file {text}"
    else:
        found, where = [text], ""
    for item in found:
        if item.startswith("PRIVATE+KEY+"):
            raise TrustedKeyError(
                f"a private signer key was given{where}: give the public verifier key (never share this one)"
            )
        try:
            _verifier(item)
        except notes.NoteError as exc:
            if not where and "+" not in item:
                raise TrustedKeyError(f"{_short(item)!r} is neither a verifier key nor an existing file") from None
            raise TrustedKeyError(f"not a usable verifier key{where}: {exc}") from None
    return found


# --------------------------------------------------------------------------------------------------------- checks


def verify_receipt(receipt: dict | bytes | str, *, key: str | None = None, file: BinaryIO | None = None) -> Report:
    """Verify a receipt offline; see the module's docstring for the checks. ``key``: the trusted verifier key (or a
    file of them); ``file``: the original, opened in binary mode."""
    report = Report()
    try:
        parsed = parse_receipt(receipt)
    except ValueError as exc:
        report.add("format", False, f"The receipt is malformed: {exc}.")
        return report
    report.add("format", True, f"The receipt has the shape of {RECEIPT_TYPE}.")
    _check_leaf(report, parsed)
    body = _check_signature(report, parsed, key)
    checkpoint = _check_checkpoint(report, parsed, body)
    in_tree = _check_index(report, parsed)
    _check_inclusion(report, parsed, checkpoint, in_tree)
    _check_witnesses(report, parsed, body)
    if file is not None:
        _check_file(report, file)
    return report


def _check_leaf(report: Report, parsed: Parsed) -> None:
    try:
        leaf = leaves.Leaf.decode(parsed.leaf)
    except leaves.LeafError as exc:
        report.add("leaf", False, f"The leaf is not a valid leaf: {exc}.")
        return
    report.leaf = leaf
    computed = merkle.leaf_hash(leaf.encode())
    if computed != parsed.leaf_hash:
        report.add(
            "leaf",
            False,
            "The leaf's data does not match leaf_hash: the data hashes to "
            f"{base64.b64encode(computed).decode()}, the receipt says {parsed.data['leaf_hash']} "
            "(a field of the leaf, or leaf_hash, was changed).",
        )
        return
    report.add(
        "leaf",
        True,
        f"The leaf ({leaf.algorithm} {leaf.content[:16]}…, deposited {leaf.time}) hashes to leaf_hash.",
    )


def _check_signature(report: Report, parsed: Parsed, key: str | None) -> str | None:
    """The verified checkpoint text, or None."""
    if key is not None:
        try:
            trusted = load_keys(key)
        except TrustedKeyError as exc:
            report.add("signature", False, f"The trusted key cannot be used: {exc}.")
            return None
        report.trusted_key = True
    else:
        trusted = [parsed.verifier_key]
        try:
            _verifier(parsed.verifier_key)
        except notes.NoteError as exc:
            report.add("signature", False, f"log.verifier_key in the receipt is not a verifier key: {exc}.")
            return None
    try:
        body, signatures = notes.open_note(parsed.note, [_verifier(k) for k in trusted])
    except notes.NoteError as exc:
        names = ", ".join(fingerprint(k) for k in trusted)
        if str(exc).startswith("note has no verifiable signatures"):
            reason = f"it carries no signature by {'the key you gave' if key else 'the receipt key'} ({names})"
        else:
            reason = str(exc)
        report.add("signature", False, f"The checkpoint is not signed by the log's key: {reason}.")
        return None
    signer = signatures[0]
    used = next((k for k in trusted if fingerprint(k) == f"{signer.name}+{signer.key_hash:08x}"), trusted[0])
    report.key = used
    if key is not None:
        named = (
            ""
            if parsed.verifier_key.strip() == used
            else f"; the receipt names another key, {fingerprint(parsed.verifier_key)}"
        )
        report.add("signature", True, f"The checkpoint is signed by the key you gave ({fingerprint(used)}){named}.")
    else:
        report.add(
            "signature",
            True,
            "The checkpoint is signed, but checked against the key in the receipt itself: compare its fingerprint "
            f"{fingerprint(used)} (the whole key: {used}) with the key the platform publishes, or give --key.",
        )
    return body


def _check_checkpoint(report: Report, parsed: Parsed, body: str | None) -> notes.Checkpoint | None:
    if body is None:
        try:  # not trusted, but its syntax can still be reported
            body, _signatures = notes.parse_note(parsed.note)
        except notes.NoteError as exc:
            report.add("checkpoint", False, f"The checkpoint note cannot be read: {exc}.")
            return None
        trusted = False
    else:
        trusted = True
    try:
        checkpoint = notes.parse_checkpoint(body)
    except notes.NoteError as exc:
        report.add("checkpoint", False, f"The checkpoint cannot be read: {exc}.")
        return None
    problems = []
    if checkpoint.origin != parsed.origin:
        problems.append(f"its origin is {checkpoint.origin!r}, the receipt's log is {parsed.origin!r}")
    if checkpoint.size != parsed.tree_size:
        problems.append(f"its tree size is {checkpoint.size}, the receipt says tree_size {parsed.tree_size}")
    if problems:
        report.add("checkpoint", False, f"The checkpoint does not match the receipt: {'; '.join(problems)}.")
        return None
    if not trusted:
        report.add("checkpoint", None, "Not checked: the checkpoint's signature did not verify.")
        return None
    report.checkpoint = checkpoint
    root = base64.b64encode(checkpoint.root).decode()
    report.add("checkpoint", True, f"Checkpoint of {checkpoint.origin} at tree size {checkpoint.size}, root {root}.")
    return checkpoint


def _check_index(report: Report, parsed: Parsed) -> bool:
    if parsed.index >= parsed.tree_size:
        report.add("index", False, f"The index {parsed.index} is beyond the tree of size {parsed.tree_size}.")
        return False
    report.add("index", True, f"Leaf {parsed.index} of a tree of {parsed.tree_size} leaves.")
    return True


def _check_inclusion(report: Report, parsed: Parsed, checkpoint: notes.Checkpoint | None, in_tree: bool) -> None:
    if checkpoint is None or not in_tree:
        why = "the index is beyond the tree" if checkpoint else "there is no verified checkpoint root"
        report.add("inclusion", None, f"Not checked: {why}.")
        return
    try:
        merkle.verify_inclusion(parsed.leaf_hash, parsed.index, checkpoint.size, parsed.proof, checkpoint.root)
    except merkle.ProofError as exc:
        report.add("inclusion", False, f"The inclusion proof does not verify: {exc}.")
        return
    report.add(
        "inclusion",
        True,
        f"The inclusion proof ({len(parsed.proof)} hashes) leads from leaf {parsed.index} to the checkpoint's root.",
    )


def _utc(timestamp: int) -> str:
    try:
        moment = datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC)
    except (OverflowError, OSError, ValueError):
        return f"{timestamp} (Unix time)"
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _check_witnesses(report: Report, parsed: Parsed, body: str | None) -> None:
    if not parsed.witnesses:
        return
    lines: list[str] = []
    try:
        text, _signatures = notes.parse_note(parsed.note)
        split = parsed.note.rfind("\n\n")
        lines = parsed.note[split + 2 : -1].split("\n")
    except notes.NoteError:
        text = None
    for witness in parsed.witnesses:
        name, vkey = witness["name"], witness["verifier_key"]
        label = f"witness {name}"
        agency = f" ({witness['agency']})" if witness.get("agency") else ""
        if text is None or body is None:
            report.add(label, None, "Not checked: the checkpoint's signature did not verify.")
            continue
        own = [line for line in lines if line.startswith(f"{notes.SIG_PREFIX}{name} ")]
        if not own:
            report.add(label, False, f"The receipt lists witness {name}{agency}, but the checkpoint has no line of it.")
            continue
        try:
            times = [notes.verify_cosignature(body, line, _verifier(vkey.strip())) for line in own]
        except notes.NoteError as exc:
            report.add(label, False, f"The cosignature of witness {name}{agency} does not verify: {exc}.")
            continue
        report.witness_times[name] = times[0]
        report.add(
            label,
            True,
            f"Cosigned by {fingerprint(vkey)}{agency} at {_utc(times[0])} (the witness key as the receipt lists it).",
        )


def _check_file(report: Report, file: BinaryIO) -> None:
    if report.leaf is None:
        report.add("file", None, "Not checked: the leaf is not valid, so its content hash is unknown.")
        return
    leaf = report.leaf
    try:
        digest = leaves.file_digest(file, leaf.algorithm)
    except leaves.LeafError as exc:
        report.add("file", False, f"The file cannot be checked: {exc}.")
        return
    except OSError as exc:
        report.add("file", False, f"The file cannot be read: {exc.strerror or exc}.")
        return
    if digest != leaf.content:
        report.add(
            "file",
            False,
            f"The file is not the deposited original: its {leaf.algorithm} is {digest}, "
            f"the deposited content hash is {leaf.content}.",
        )
        return
    report.add("file", True, f"The file's {leaf.algorithm} is the deposited content hash {leaf.content}.")
