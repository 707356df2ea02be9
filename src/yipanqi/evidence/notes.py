"""C2SP signed notes, checkpoints, Ed25519 keys and witness cosignatures.

Pure module (no Django): it runs inside the offline receipt verifier too.

Formats implemented, byte-compatible with Go's ``golang.org/x/mod/sumdb/note`` (the reference implementation):

* signed note (https://c2sp.org/signed-note): ``text\\n`` + ``\\n`` + one or more lines
  ``— <key name> <base64(key hash (4 bytes, big-endian) || signature)>\\n``. The signed message is the note text
  including its final newline.
* keys: signer key ``PRIVATE+KEY+<name>+<hash hex8>+<base64(0x01 || 32-byte seed)>`` and verifier key
  ``<name>+<hash hex8>+<base64(alg || 32-byte public key)>``; key hash = SHA-256(name || 0x0A || alg || pubkey)[:4].
* checkpoint (https://c2sp.org/tlog-checkpoint): ``<origin>\\n<size>\\n<base64 root>\\n`` + optional extension lines.
* cosignature/v1 (https://c2sp.org/tlog-cosignature), algorithm byte 0x04: the signature is
  ``timestamp (u64 big-endian) || Ed25519 signature`` over ``cosignature/v1\\ntime <ts>\\n`` + checkpoint body.

Strictness beyond Go (deliberate): base64 must be canonical (no alternative encodings of the same bytes, so a
signature line has exactly one spelling) and key hashes are exactly 8 lowercase hex digits.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "ALG_COSIGNATURE_V1",
    "ALG_ED25519",
    "MAX_SIGNATURES",
    "MAX_TIMESTAMP",
    "MAX_TREE_SIZE",
    "SIG_PREFIX",
    "Checkpoint",
    "NoteError",
    "Signature",
    "Signer",
    "Verifier",
    "checkpoint_body",
    "cosign",
    "cosignature_message",
    "cosignature_verifier_key",
    "generate_key",
    "key_hash",
    "open_checkpoint",
    "open_note",
    "parse_checkpoint",
    "parse_note",
    "sign_note",
    "verify_cosignature",
]

ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04
_ALG_NAMES = {ALG_ED25519: "Ed25519", ALG_COSIGNATURE_V1: "Ed25519 cosignature/v1"}

MAX_SIGNATURES = 100  # Go's note.Open limit; the spec requires accepting at least 16.
MAX_TIMESTAMP = 2**63 - 1  # tlog-cosignature: the timestamp MUST NOT exceed 2^63 - 1.
MAX_TREE_SIZE = 2**64 - 1

SIG_PREFIX = "— "  # U+2014 EM DASH, U+0020 SPACE
_SIG_SPLIT = "\n\n"
_PRIVATE_PREFIX = "PRIVATE+KEY+"
_COSIG_HEADER = b"cosignature/v1\ntime "
_ED25519_SIG_LEN = 64
_COSIG_SIG_LEN = 8 + _ED25519_SIG_LEN

_HASH_HEX = re.compile(r"[0-9a-f]{8}")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
# Unicode spaces (Go: unicode.IsSpace), "+", and the ASCII control characters a note may not contain.
_BAD_NAME_CHAR = re.compile(r"[\s+\x00-\x1f]")
_BAD_NOTE_CHAR = re.compile(r"[\x00-\x09\x0b-\x1f]")  # controls other than "\n"


class NoteError(ValueError):
    """A note, key, checkpoint or cosignature was rejected; the message says exactly why."""


# --------------------------------------------------------------------------------------------------------- helpers


def _b64decode(text: str, what: str) -> bytes:
    """Strict, canonical standard base64 (RFC 4648 §4)."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what} is not valid base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise NoteError(f"{what} is not canonical base64")
    return raw


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _check_name(name: object, what: str = "key name") -> str:
    if not isinstance(name, str) or not name:
        raise NoteError(f"{what} must be a non-empty string")
    bad = _BAD_NAME_CHAR.search(name)
    if bad:
        raise NoteError(f"{what} {name!r} contains a forbidden character {bad.group()!r} (no spaces, '+' or controls)")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise NoteError(f"{what} {name!r} is not valid UTF-8") from None
    return name


def key_hash(name: str, alg: int, public_key: bytes) -> int:
    """The key ID: first 4 bytes, big-endian, of SHA-256(name || 0x0A || alg || public key)."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes((alg,)) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def _vkey(name: str, alg: int, public_key: bytes) -> str:
    return f"{name}+{key_hash(name, alg, public_key):08x}+{_b64(bytes((alg,)) + public_key)}"


def _check_timestamp(timestamp: object) -> int:
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise NoteError("cosignature timestamp must be an integer")
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise NoteError(f"cosignature timestamp {timestamp} is outside 0..2^63-1")
    return timestamp


# ------------------------------------------------------------------------------------------------------------ keys


class Signer:
    """An Ed25519 note signer (signature type 0x01). The same key can cosign (type 0x04) through ``cosign``."""

    __slots__ = ("_private", "cosignature_key_hash", "key_hash", "name", "public_key")

    def __init__(self, name: str, private_key: Ed25519PrivateKey):
        self.name = _check_name(name)
        self._private = private_key
        self.public_key: bytes = private_key.public_key().public_bytes_raw()
        self.key_hash: int = key_hash(name, ALG_ED25519, self.public_key)
        self.cosignature_key_hash: int = key_hash(name, ALG_COSIGNATURE_V1, self.public_key)

    @classmethod
    def from_key(cls, signer_key: str) -> Signer:
        """Parse ``PRIVATE+KEY+<name>+<hash>+<base64(0x01 || seed)>``; the hash must match the derived public key."""
        if not isinstance(signer_key, str):
            raise NoteError("signer key must be a string")
        signer_key = signer_key.strip()
        if not signer_key.startswith(_PRIVATE_PREFIX):
            raise NoteError("signer key must start with 'PRIVATE+KEY+'")
        parts = signer_key[len(_PRIVATE_PREFIX) :].split("+", 2)
        if len(parts) != 3:
            raise NoteError("signer key must have the form PRIVATE+KEY+<name>+<hash>+<key data>")
        name, hash_hex, data = parts
        _check_name(name, "signer key name")
        if not _HASH_HEX.fullmatch(hash_hex):
            raise NoteError(f"signer key hash {hash_hex!r} must be 8 lowercase hex digits")
        raw = _b64decode(data, "signer key data")
        if not raw:
            raise NoteError("signer key data is empty")
        if raw[0] != ALG_ED25519:
            raise NoteError(f"signer key algorithm 0x{raw[0]:02x} is not supported (only 0x01 Ed25519)")
        if len(raw) != 33:
            raise NoteError(f"signer key seed must be 32 bytes, got {len(raw) - 1}")
        signer = cls(name, Ed25519PrivateKey.from_private_bytes(raw[1:]))
        if signer.key_hash != int(hash_hex, 16):
            raise NoteError(f"signer key hash {hash_hex} does not match its key (expected {signer.key_hash:08x})")
        return signer

    @property
    def signer_key(self) -> str:
        seed = self._private.private_bytes_raw()
        return f"{_PRIVATE_PREFIX}{self.name}+{self.key_hash:08x}+{_b64(bytes((ALG_ED25519,)) + seed)}"

    @property
    def verifier_key(self) -> str:
        """The public note verifier key (type 0x01) to publish."""
        return _vkey(self.name, ALG_ED25519, self.public_key)

    @property
    def cosignature_verifier_key(self) -> str:
        """The public verifier key (type 0x04) of this key acting as a witness (cosigner)."""
        return _vkey(self.name, ALG_COSIGNATURE_V1, self.public_key)

    def verifier(self) -> Verifier:
        return Verifier(self.name, ALG_ED25519, self.public_key)

    def sign(self, message: bytes) -> bytes:
        """The raw 64-byte Ed25519 signature of message."""
        return self._private.sign(message)

    def __repr__(self) -> str:
        return f"<Signer {self.name}+{self.key_hash:08x}>"


class Verifier:
    """A public key that verifies note signatures: type 0x01 (Ed25519) or 0x04 (cosignature/v1).

    ``verify(message, signature)`` follows the note package's contract: message is the note text and signature
    the bytes after the 4-byte key hash. For a 0x04 key those bytes are ``timestamp || signature`` and the signed
    message is rebuilt as ``cosignature/v1\\ntime <ts>\\n`` + text.
    """

    __slots__ = ("_public", "alg", "key_hash", "name", "public_key")

    def __init__(self, name: str, alg: int, public_key: bytes):
        self.name = _check_name(name)
        if alg not in _ALG_NAMES:
            raise NoteError(f"verifier key algorithm 0x{alg:02x} is not supported (0x01 Ed25519, 0x04 cosignature)")
        if len(public_key) != 32:
            raise NoteError(f"Ed25519 public key must be 32 bytes, got {len(public_key)}")
        self.alg = alg
        self.public_key = bytes(public_key)
        self.key_hash: int = key_hash(name, alg, self.public_key)
        try:
            self._public = Ed25519PublicKey.from_public_bytes(self.public_key)
        except ValueError:
            raise NoteError("invalid Ed25519 public key") from None

    @classmethod
    def from_key(cls, verifier_key: str) -> Verifier:
        """Parse ``<name>+<hash hex8>+<base64(alg || pubkey)>``; the hash must match name, alg and key."""
        if not isinstance(verifier_key, str):
            raise NoteError("verifier key must be a string")
        verifier_key = verifier_key.strip()
        if verifier_key.startswith(_PRIVATE_PREFIX):
            raise NoteError("this is a private signer key, not a verifier key")
        parts = verifier_key.split("+", 2)
        if len(parts) != 3:
            raise NoteError("verifier key must have the form <name>+<hash>+<key data>")
        name, hash_hex, data = parts
        _check_name(name, "verifier key name")
        if not _HASH_HEX.fullmatch(hash_hex):
            raise NoteError(f"verifier key hash {hash_hex!r} must be 8 lowercase hex digits")
        raw = _b64decode(data, "verifier key data")
        if not raw:
            raise NoteError("verifier key data is empty")
        if key_hash(name, raw[0], raw[1:]) != int(hash_hex, 16):
            raise NoteError(f"verifier key hash {hash_hex} does not match name {name!r} and key data")
        return cls(name, raw[0], raw[1:])

    @property
    def verifier_key(self) -> str:
        return _vkey(self.name, self.alg, self.public_key)

    def verify(self, message: bytes, signature: bytes) -> bool:
        if self.alg == ALG_ED25519:
            if len(signature) != _ED25519_SIG_LEN:
                return False
            signed = message
        else:
            if len(signature) != _COSIG_SIG_LEN:
                return False
            timestamp = int.from_bytes(signature[:8], "big")
            if timestamp > MAX_TIMESTAMP:
                return False
            signed = b"%s%d\n%s" % (_COSIG_HEADER, timestamp, message)
            signature = signature[8:]
        try:
            self._public.verify(signature, signed)
        except InvalidSignature:
            return False
        return True

    def __repr__(self) -> str:
        return f"<Verifier {self.name}+{self.key_hash:08x} alg=0x{self.alg:02x}>"


def generate_key(name: str) -> tuple[str, str]:
    """A fresh Ed25519 key pair as (signer key, verifier key) strings in the note package's format."""
    _check_name(name)
    signer = Signer(name, Ed25519PrivateKey.generate())
    return signer.signer_key, signer.verifier_key


def cosignature_verifier_key(verifier_key: str) -> str:
    """The 0x04 (cosignature/v1) verifier key for the same name and Ed25519 key as a 0x01 or 0x04 verifier key."""
    verifier = Verifier.from_key(verifier_key)
    return _vkey(verifier.name, ALG_COSIGNATURE_V1, verifier.public_key)


# ----------------------------------------------------------------------------------------------------------- notes


@dataclass(frozen=True, slots=True)
class Signature:
    """One signature line of a note. ``signature`` excludes the 4-byte key hash; ``timestamp`` is set for
    cosignature/v1 signatures that verified with a 0x04 key."""

    name: str
    key_hash: int
    signature: bytes
    timestamp: int | None = None

    @property
    def base64(self) -> str:
        return _b64(self.key_hash.to_bytes(4, "big") + self.signature)

    @property
    def line(self) -> str:
        """The signature line without its final newline."""
        return f"{SIG_PREFIX}{self.name} {self.base64}"


def _as_text(note: str | bytes) -> str:
    if isinstance(note, bytes | bytearray | memoryview):
        try:
            return bytes(note).decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("malformed note: not valid UTF-8") from None
    if not isinstance(note, str):
        raise NoteError("note must be str or bytes")
    return note


def _check_text(text: str, what: str) -> bytes:
    bad = _BAD_NOTE_CHAR.search(text)
    if bad:
        raise NoteError(f"malformed {what}: control character {bad.group()!r} (only newline is allowed)")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise NoteError(f"malformed {what}: not valid UTF-8") from None


def _parse_sig_line(line: str) -> Signature:
    if not line.startswith(SIG_PREFIX):
        raise NoteError(f"malformed note: signature line {line[:40]!r} does not start with an em dash and a space")
    name, sep, b64 = line[len(SIG_PREFIX) :].partition(" ")
    if not sep or not b64:
        raise NoteError(f"malformed note: signature line {line[:40]!r} has no signature after the key name")
    _check_name(name, "signature key name")
    raw = _b64decode(b64, f"signature of {name!r}")
    if len(raw) < 5:
        raise NoteError(f"malformed note: signature of {name!r} is too short ({len(raw)} bytes)")
    return Signature(name, int.from_bytes(raw[:4], "big"), raw[4:])


def parse_note(note: str | bytes) -> tuple[str, list[Signature]]:
    """Split a signed note into its text and its (unverified) signatures; syntax only."""
    note = _as_text(note)
    _check_text(note, "note")
    split = note.rfind(_SIG_SPLIT)
    if split < 0:
        raise NoteError("malformed note: no blank line separates the text from the signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block:
        raise NoteError("malformed note: no signature lines after the blank line")
    if not block.endswith("\n"):
        raise NoteError("malformed note: the last signature line does not end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"malformed note: more than {MAX_SIGNATURES} signatures")
    return text, [_parse_sig_line(line) for line in lines]


def _index_verifiers(verifiers: Iterable[Verifier | str] | Verifier | str) -> dict[tuple[str, int], Verifier]:
    if isinstance(verifiers, Verifier | str):
        verifiers = (verifiers,)
    known: dict[tuple[str, int], Verifier] = {}
    for item in verifiers:
        verifier = Verifier.from_key(item) if isinstance(item, str) else item
        if not isinstance(verifier, Verifier):
            raise NoteError(f"not a verifier: {item!r}")
        key = (verifier.name, verifier.key_hash)
        other = known.get(key)
        if other is not None and other.public_key != verifier.public_key:
            raise NoteError(f"ambiguous key {verifier.name}+{verifier.key_hash:08x}: two different keys share it")
        known[key] = verifier
    return known


def open_note(note: str | bytes, verifiers: Iterable[Verifier | str] | Verifier | str) -> tuple[str, list[Signature]]:
    """Verify a signed note against known keys; return its text and the signatures that verified.

    Signatures from unknown keys (name or key hash not both matching a known key) are ignored, as the spec
    requires. A known key whose signature does not verify rejects the whole note; so does a note without any
    signature from a known key. Repeated signatures by one key count once (the first decides, as in Go).
    """
    known = _index_verifiers(verifiers)
    text, signatures = parse_note(note)
    message = text.encode("utf-8")
    verified: list[Signature] = []
    seen: set[tuple[str, int]] = set()
    for sig in signatures:
        key = (sig.name, sig.key_hash)
        verifier = known.get(key)
        if verifier is None or key in seen:
            continue
        seen.add(key)
        if not verifier.verify(message, sig.signature):
            raise NoteError(f"invalid signature for key {sig.name}+{sig.key_hash:08x}")
        if verifier.alg == ALG_COSIGNATURE_V1:
            sig = Signature(sig.name, sig.key_hash, sig.signature, int.from_bytes(sig.signature[:8], "big"))
        verified.append(sig)
    if not verified:
        names = ", ".join(f"{n}+{h:08x}" for n, h in known) or "none"
        raise NoteError(f"note has no verifiable signatures (known keys: {names})")
    return text, verified


def sign_note(body: str, *signers: Signer) -> str:
    """Sign a note text (which must end with a newline) with each signer, in order."""
    if not isinstance(body, str):
        raise NoteError("note text must be a string")
    if not body.endswith("\n"):
        raise NoteError("malformed note: the text must end with a newline")
    if not signers:
        raise NoteError("sign_note needs at least one signer")
    message = _check_text(body, "note text")
    lines = []
    for signer in signers:
        if not isinstance(signer, Signer):
            raise NoteError(f"not a signer: {signer!r}")
        sig = Signature(signer.name, signer.key_hash, signer.sign(message))
        lines.append(sig.line)
    return body + "\n" + "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------------ checkpoints


@dataclass(slots=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: list[str] = field(default_factory=list)

    def body(self) -> str:
        return checkpoint_body(self.origin, self.size, self.root, self.extensions)


def _check_line(line: object, what: str) -> str:
    if not isinstance(line, str) or not line:
        raise NoteError(f"checkpoint {what} must be a non-empty string")
    if "\n" in line:
        raise NoteError(f"checkpoint {what} must not contain a newline")
    _check_text(line, f"checkpoint {what}")
    return line


def checkpoint_body(origin: str, size: int, root: bytes, extensions: Iterable[str] = ()) -> str:
    """The note text of a checkpoint: ``<origin>\\n<size>\\n<base64 root>\\n`` + one line per extension."""
    _check_line(origin, "origin")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_TREE_SIZE:
        raise NoteError(f"checkpoint size must be an integer in 0..2^64-1, got {size!r}")
    if not isinstance(root, bytes | bytearray) or len(root) != 32:
        raise NoteError("checkpoint root hash must be 32 bytes")
    lines = [origin, str(size), _b64(bytes(root))]
    lines.extend(_check_line(ext, "extension line") for ext in extensions)
    return "\n".join(lines) + "\n"


def parse_checkpoint(body: str) -> Checkpoint:
    """Parse a checkpoint note text strictly (the text only, without the blank line and signatures)."""
    if not isinstance(body, str):
        raise NoteError("checkpoint must be a string")
    if not body.endswith("\n"):
        raise NoteError("malformed checkpoint: the text must end with a newline")
    _check_text(body, "checkpoint")
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError(f"malformed checkpoint: {len(lines)} line(s), need origin, size and root hash")
    for number, line in enumerate(lines, 1):
        if not line:
            raise NoteError(f"malformed checkpoint: line {number} is empty")
    origin, size_text, root_text, *extensions = lines
    if not _DECIMAL.fullmatch(size_text):
        raise NoteError(f"malformed checkpoint: tree size {size_text!r} is not a decimal without leading zeros")
    size = int(size_text)
    if size > MAX_TREE_SIZE:
        raise NoteError(f"malformed checkpoint: tree size {size_text} exceeds 2^64-1")
    root = _b64decode(root_text, "checkpoint root hash")
    if len(root) != 32:
        raise NoteError(f"malformed checkpoint: root hash is {len(root)} bytes, need 32")
    return Checkpoint(origin, size, root, extensions)


def open_checkpoint(
    note: str | bytes,
    log_keys: Iterable[Verifier | str] | Verifier | str,
    witness_keys: Iterable[Verifier | str] | Verifier | str = (),
    origin: str | None = None,
) -> tuple[Checkpoint, list[Signature]]:
    """Verify a signed checkpoint and parse it.

    The log's own signature is required: at least one of ``log_keys`` (several during a key rotation) must have
    signed. Cosignatures by ``witness_keys`` (0x04 keys; a witness's 0x01 key is converted) are verified when
    present; an invalid one rejects the checkpoint. Returns the checkpoint and the verified signatures (log
    signatures first, in note order, then cosignatures with their timestamps). With ``origin``, the origin line
    must equal it.
    """
    logs = _index_verifiers(log_keys)
    if not logs:
        raise NoteError("no log key given to verify the checkpoint with")
    witnesses = [
        v if v.alg == ALG_COSIGNATURE_V1 else Verifier(v.name, ALG_COSIGNATURE_V1, v.public_key)
        for v in _index_verifiers(witness_keys).values()
    ]
    text, signatures = open_note(note, [*logs.values(), *witnesses])
    by_log = [s for s in signatures if (s.name, s.key_hash) in logs]
    if not by_log:
        names = ", ".join(f"{n}+{h:08x}" for n, h in logs)
        raise NoteError(f"checkpoint is not signed by the log key ({names})")
    checkpoint = parse_checkpoint(text)
    if origin is not None and checkpoint.origin != origin:
        raise NoteError(f"checkpoint origin {checkpoint.origin!r} is not the expected {origin!r}")
    return checkpoint, by_log + [s for s in signatures if (s.name, s.key_hash) not in logs]


# ----------------------------------------------------------------------------------------------------- cosignatures


def cosignature_message(body: str, timestamp: int) -> bytes:
    """The message an Ed25519 cosignature/v1 signs: ``cosignature/v1\\ntime <ts>\\n`` + checkpoint text."""
    _check_timestamp(timestamp)
    if not isinstance(body, str) or not body.endswith("\n"):
        raise NoteError("malformed checkpoint: the text must end with a newline")
    return b"%s%d\n%s" % (_COSIG_HEADER, timestamp, body.encode("utf-8"))


def cosign(body: str, signer: Signer, timestamp: int) -> str:
    """A witness cosignature of a checkpoint text: the signature line (without its final newline)."""
    if not isinstance(signer, Signer):
        raise NoteError(f"not a signer: {signer!r}")
    parse_checkpoint(body)
    message = cosignature_message(body, timestamp)
    raw = timestamp.to_bytes(8, "big") + signer.sign(message)
    return Signature(signer.name, signer.cosignature_key_hash, raw, timestamp).line


def verify_cosignature(body: str, line: str, verifier_key: str | Verifier) -> int:
    """Verify one cosignature/v1 line over a checkpoint text; return its timestamp.

    ``verifier_key`` is the witness's 0x04 verifier key; a 0x01 key of the same witness is accepted and converted
    (same name and Ed25519 key, key hash computed with 0x04). A trailing newline on ``line`` is allowed.
    """
    verifier = Verifier.from_key(verifier_key) if isinstance(verifier_key, str) else verifier_key
    if not isinstance(verifier, Verifier):
        raise NoteError(f"not a verifier: {verifier_key!r}")
    if verifier.alg != ALG_COSIGNATURE_V1:
        verifier = Verifier(verifier.name, ALG_COSIGNATURE_V1, verifier.public_key)
    parse_checkpoint(body)
    if not isinstance(line, str):
        raise NoteError("cosignature line must be a string")
    if line.endswith("\n"):
        line = line[:-1]
    if "\n" in line:
        raise NoteError("cosignature must be a single line")
    _check_text(line, "cosignature line")
    sig = _parse_sig_line(line)
    if sig.name != verifier.name:
        raise NoteError(f"cosignature is by {sig.name!r}, not by the expected witness {verifier.name!r}")
    if sig.key_hash != verifier.key_hash:
        raise NoteError(
            f"cosignature key hash {sig.key_hash:08x} does not match witness key "
            f"{verifier.name}+{verifier.key_hash:08x}"
        )
    if len(sig.signature) != _COSIG_SIG_LEN:
        raise NoteError(f"cosignature must carry 8 + 64 bytes after the key hash, got {len(sig.signature)}")
    timestamp = int.from_bytes(sig.signature[:8], "big")
    if timestamp > MAX_TIMESTAMP:
        raise NoteError(f"cosignature timestamp {timestamp} exceeds 2^63-1")
    if not verifier.verify(body.encode("utf-8"), sig.signature):
        raise NoteError(f"invalid cosignature for key {verifier.name}+{verifier.key_hash:08x}")
    return timestamp
