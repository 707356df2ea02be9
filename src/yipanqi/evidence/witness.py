"""A witness: another agency's node that cosigns the log's checkpoints (``yipanqi evidence witness``).

One round: fetch the log's latest checkpoint and check the log's signature; compare it with the last checkpoint this
witness cosigned (kept in a small JSON state file): a smaller size is a rollback, the same size with another root a
fork — both are refused and reported, never cosigned; a larger size needs a consistency proof from the last size,
which is fetched and verified. Then cosign (tlog-cosignature/v1), send the cosignature to the log and remember the
checkpoint. The state file is written only after the log accepted the cosignature.

Pure of Django: it talks HTTP (urllib, or a transport given by the caller) and reads keys from strings or files.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import merkle, notes

# transport(method, url, body or None, headers) -> (status, body bytes)
Transport = Callable[[str, str, bytes | None, dict[str, str]], tuple[int, bytes]]


class WitnessError(Exception):
    """The witness refuses to cosign; the message says why (a rollback and a fork are reported as such)."""


@dataclass
class Outcome:
    size: int
    previous: int | None
    cosigned: bool
    line: str = ""
    message: str = ""


def urllib_transport(method: str, url: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310 - the log's URL
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except urllib.error.URLError as exc:
        raise WitnessError(f"cannot reach the log at {url}: {exc.reason}") from exc


def _key(value: str) -> str:
    path = Path(value)
    return path.read_text(encoding="ascii").strip() if path.is_file() else value.strip()


def _load_state(path: Path) -> dict | None:
    if not path.exists():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        return {"size": int(state["size"]), "root": base64.b64decode(state["root"], validate=True)}
    except (ValueError, KeyError, TypeError) as exc:
        raise WitnessError(f"the witness state file {path} is damaged: {exc}") from exc


def _save_state(path: Path, origin: str, size: int, root: bytes) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(
        json.dumps({"origin": origin, "size": size, "root": base64.b64encode(root).decode()}), encoding="utf-8"
    )
    temporary.replace(path)


def run_once(
    *,
    log_url: str,
    log_key: str,
    witness_key: str,
    state_file: str | Path,
    api_key: str = "",
    transport: Transport = urllib_transport,
    now: Callable[[], float] = time.time,
) -> Outcome:
    """One round against the log at ``log_url`` (its base URL). ``log_key`` is the log's verifier key, ``witness_key``
    this witness's signer key (strings or files holding them), ``api_key`` the witness agency's API key."""
    base = log_url.rstrip("/")
    headers = {"Authorization": f"Api-Key {api_key}"} if api_key else {}
    status, body = transport("GET", f"{base}/api/v1/evidence/checkpoint", None, {})
    if status != 200:
        raise WitnessError(f"the log answered {status} for its checkpoint")
    note = body.decode("utf-8")
    try:
        checkpoint, _signatures = notes.open_checkpoint(note, [_key(log_key)])
    except notes.NoteError as exc:
        raise WitnessError(f"the checkpoint is not signed by the log's key: {exc}") from exc
    state_path = Path(state_file)
    last = _load_state(state_path)
    size, root = checkpoint.size, checkpoint.root
    if last is not None:
        if size < last["size"]:
            raise WitnessError(f"ROLLBACK: the log shows size {size}, smaller than size {last['size']} cosigned before")
        if size == last["size"] and root != last["root"]:
            raise WitnessError(f"FORK: the log shows another root for size {size} than the one cosigned before")
        if size > last["size"]:
            query = urllib.parse.urlencode({"first": last["size"], "size": size})
            status, answer = transport("GET", f"{base}/api/v1/evidence/proofs/consistency/?{query}", None, {})
            if status != 200:
                raise WitnessError(f"the log answered {status} for a consistency proof from size {last['size']}")
            try:
                proof = [base64.b64decode(h, validate=True) for h in json.loads(answer)["proof"]]
                merkle.verify_consistency(last["size"], size, proof, last["root"], root)
            except (ValueError, KeyError, TypeError) as exc:
                raise WitnessError(
                    f"FORK: size {size} is not consistent with size {last['size']} cosigned before: {exc}"
                ) from exc
    signer = notes.Signer.from_key(_key(witness_key))
    body_text = note.split("\n\n", 1)[0] + "\n"
    line = notes.cosign(body_text, signer, int(now()))
    payload = json.dumps({"size": size, "line": line}).encode()
    status, answer = transport(
        "POST", f"{base}/api/v1/evidence/cosignatures/", payload, {**headers, "Content-Type": "application/json"}
    )
    if status not in (200, 201):
        raise WitnessError(f"the log refused the cosignature ({status}): {answer.decode('utf-8', 'replace')[:300]}")
    _save_state(state_path, checkpoint.origin, size, root)
    return Outcome(size=size, previous=last["size"] if last else None, cosigned=True, line=line)
