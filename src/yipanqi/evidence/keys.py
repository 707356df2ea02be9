"""The log's signing key and the keys its checkpoints verify with.

The signer key (a note signer key, "PRIVATE+KEY+<name>+<hash>+<key>") comes from the setting EVIDENCE_SIGNING_KEY or
the file EVIDENCE_SIGNING_KEY_FILE. Development creates the file on first use; tests use a key made per process;
production refuses to sign without one (``yipanqi evidence keygen`` makes a key pair). Rotation: see
docs/evidence.md — the new key signs from its first checkpoint on, the old verifier key goes into
EVIDENCE_PREVIOUS_KEYS so that older checkpoints (and receipts) still verify.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from . import notes

_process_key: str | None = None


def _key_from_file(path: Path) -> str:
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    if settings.MODE != "development":
        return ""
    key, _verifier = notes.generate_key(settings.EVIDENCE_ORIGIN)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(key + "\n", encoding="ascii")
    temporary.chmod(0o600)
    try:
        os.link(temporary, path)  # only the first process to get here makes the key
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return path.read_text(encoding="ascii").strip()


def signer_key() -> str:
    global _process_key
    key = settings.EVIDENCE_SIGNING_KEY.strip()
    if not key and settings.EVIDENCE_SIGNING_KEY_FILE:
        key = _key_from_file(Path(settings.EVIDENCE_SIGNING_KEY_FILE))
    if not key and settings.MODE == "test":
        if _process_key is None:
            _process_key, _verifier = notes.generate_key(settings.EVIDENCE_ORIGIN)
        key = _process_key
    if not key:
        raise ImproperlyConfigured(
            "The evidence log has no signing key: set EVIDENCE_SIGNING_KEY or EVIDENCE_SIGNING_KEY_FILE "
            "(yipanqi evidence keygen makes one)."
        )
    return key


@cache
def _signer(key: str) -> notes.Signer:
    return notes.Signer.from_key(key)


def signer() -> notes.Signer:
    return _signer(signer_key())


def verifier_key() -> str:
    """The current verifier key ("<name>+<hash>+<key>"): published, and written into receipts."""
    return signer().verifier_key


def verifier_keys() -> list[str]:
    return [verifier_key(), *settings.EVIDENCE_PREVIOUS_KEYS]
