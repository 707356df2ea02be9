"""What a leaf of the evidence log says, and its canonical encoding: hashes and metadata only, never contents.

A leaf is the UTF-8 of a JSON object with sorted keys and no spaces (every value a string, so the encoding is
canonical — the same object gives the same bytes in any language)::

    {"agency":"<depositing agency's id>:<its name>","algorithm":"sha256","case":"(2021)川01执123号",
     "content":"<hex digest>","depositor":"user:42","media_type":"application/pdf","salt":"<32 hex>",
     "time":"2021-09-16T08:30:00.123456Z","v":"1"}

The salt (random per deposit) keeps a leaf from being guessed from the content hash alone: a proof of a leaf tells
nothing about other leaves. Pure module: the offline verifier uses it without Django.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

VERSION = "1"
# Digest sizes in bytes of the algorithms a deposit may name (SM3: GB/T 32905, used by Chinese judicial chains).
ALGORITHMS = {"sha256": 32, "sha512": 64, "sha3-256": 32, "sm3": 32}
HASHLIB_NAMES = {"sha256": "sha256", "sha512": "sha512", "sha3-256": "sha3_256", "sm3": "sm3"}
MAX_MEDIA_TYPE = 100
MAX_CASE = 100
MAX_DEPOSITOR = 100
_HEX = re.compile(r"^[0-9a-f]*$")
_MEDIA_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,62}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,62}$")
_quote = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) writes for a string
_FIELDS = ("agency", "algorithm", "case", "content", "depositor", "media_type", "salt", "time", "v")


class LeafError(ValueError):
    """A deposit or a leaf that is not acceptable; the message says why."""


def normalise_hash(algorithm: str, digest: str) -> str:
    """The digest as lowercase hex, checked against the algorithm's size."""
    algorithm = (algorithm or "").strip().lower()
    if algorithm not in ALGORITHMS:
        raise LeafError(f"unknown hash algorithm {algorithm!r}: use one of {', '.join(ALGORITHMS)}")
    digest = (digest or "").strip().lower()
    if not _HEX.match(digest) or len(digest) % 2:
        raise LeafError("the content hash must be hexadecimal")
    size = ALGORITHMS[algorithm]
    if len(digest) != size * 2:
        raise LeafError(f"a {algorithm} hash has {size} bytes ({size * 2} hex digits), this one has {len(digest) // 2}")
    return digest


def format_time(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime.datetime:
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.UTC)


@dataclass(frozen=True)
class Leaf:
    content: str  # hex digest
    algorithm: str
    media_type: str
    agency: str  # "<id>:<name>"
    depositor: str  # "user:<id>", "key:<id>", "system:<what>"
    time: str  # format_time()
    case: str
    salt: str  # 32 hex digits

    def as_dict(self) -> dict[str, str]:
        return {
            "agency": self.agency,
            "algorithm": self.algorithm,
            "case": self.case,
            "content": self.content,
            "depositor": self.depositor,
            "media_type": self.media_type,
            "salt": self.salt,
            "time": self.time,
            "v": VERSION,
        }

    def encode(self) -> bytes:
        """``json.dumps(self.as_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))``, written out
        (the keys are fixed and sorted; every value a string): the sequencer encodes thousands of leaves a batch."""
        quote = _quote
        return (
            f'{{"agency":{quote(self.agency)},"algorithm":{quote(self.algorithm)},"case":{quote(self.case)},'
            f'"content":{quote(self.content)},"depositor":{quote(self.depositor)},'
            f'"media_type":{quote(self.media_type)},"salt":{quote(self.salt)},"time":{quote(self.time)},'
            f'"v":{quote(VERSION)}}}'
        ).encode()

    @classmethod
    def decode(cls, data: bytes | dict) -> Leaf:
        """A leaf from its encoding (or its dict): strict — every field, strings only, valid values; and for bytes,
        exactly the canonical encoding."""
        try:
            fields = json.loads(data) if isinstance(data, bytes | str) else data
        except (ValueError, UnicodeDecodeError) as exc:
            raise LeafError("the leaf is not valid JSON") from exc
        if not isinstance(fields, dict) or sorted(fields) != sorted(_FIELDS):
            raise LeafError(f"a leaf has exactly the fields {', '.join(_FIELDS)}")
        if not all(isinstance(value, str) for value in fields.values()):
            raise LeafError("every field of a leaf is a string")
        if fields["v"] != VERSION:
            raise LeafError(f"unknown leaf version {fields['v']!r}")
        leaf = cls(
            content=normalise_hash(fields["algorithm"], fields["content"]),
            algorithm=fields["algorithm"],
            media_type=fields["media_type"],
            agency=fields["agency"],
            depositor=fields["depositor"],
            time=fields["time"],
            case=fields["case"],
            salt=fields["salt"],
        )
        if leaf.content != fields["content"]:
            raise LeafError("the content hash must be lowercase hexadecimal")
        try:
            parse_time(leaf.time)
        except ValueError as exc:
            raise LeafError("the time must be UTC as YYYY-MM-DDTHH:MM:SS.ffffffZ") from exc
        if not (_HEX.match(leaf.salt) and len(leaf.salt) == 32):
            raise LeafError("the salt must be 32 hexadecimal digits")
        if isinstance(data, bytes) and leaf.encode() != data:
            raise LeafError("the leaf is not in its canonical encoding")
        return leaf


def batch_encoder(agency: str, depositor: str, time: str) -> Callable[[str, str, str, str, str], bytes]:
    """``encode(content, algorithm, media_type, case, salt)``, equal to ``Leaf(…).encode()`` for leaves of one
    agency, depositor and time: what they share is written out once, for the sequencer's batches of thousands."""
    quote = _quote
    head = f'{{"agency":{quote(agency)},"algorithm":'
    middle = f',"depositor":{quote(depositor)},"media_type":'
    tail = f',"time":{quote(time)},"v":{quote(VERSION)}}}'

    def encode(content: str, algorithm: str, media_type: str, case: str, salt: str) -> bytes:
        return (
            head
            + quote(algorithm)
            + ',"case":'
            + quote(case)
            + ',"content":'
            + quote(content)
            + middle
            + quote(media_type)
            + ',"salt":'
            + quote(salt)
            + tail
        ).encode()

    return encode


@functools.lru_cache(maxsize=256)  # a batch repeats a few media types thousands of times
def check_media_type(media_type: str) -> str:
    media_type = (media_type or "application/octet-stream").strip().lower()
    if len(media_type) > MAX_MEDIA_TYPE or not _MEDIA_TYPE.match(media_type):
        raise LeafError(f"{media_type[:40]!r} is not a media type such as application/pdf")
    return media_type


def check_case(case: str) -> str:
    case = (case or "").strip()
    if len(case) > MAX_CASE:
        raise LeafError(f"the case reference is longer than {MAX_CASE} characters")
    return case


def identity(agency_id: int, algorithm: str, content: str, case: str) -> str:
    """What makes a deposit the same deposit: one agency, one content hash, one case (re-submitting returns the
    original receipt). Hex SHA-256, unique in the log."""
    key = "\n".join(["yipanqi-deposit/1", str(agency_id), algorithm, content, case])
    return hashlib.sha256(key.encode()).hexdigest()


def file_digest(handle, algorithm: str) -> str:
    """The hex digest of an open binary file, read in chunks."""
    name = HASHLIB_NAMES[algorithm]
    try:
        hasher = hashlib.new(name)
    except ValueError as exc:  # an OpenSSL without SM3
        raise LeafError(f"this Python cannot compute {algorithm}") from exc
    for chunk in iter(lambda: handle.read(1 << 20), b""):
        hasher.update(chunk)
    return hasher.hexdigest()
