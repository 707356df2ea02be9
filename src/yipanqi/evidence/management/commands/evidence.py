"""``yipanqi evidence …``: the evidence log from the command line.

- ``verify RECEIPT.json [--file ORIGINAL] [--key PUBKEY|FILE] [--json]``: verify a receipt (存证证明) offline — no
  database, no network. Prints each check (✓ passed, ✗ failed, – not checked) with its explanation. Exit status 0 only
  when the receipt is valid, 1 when it is not, 2 when the input cannot be read (a missing file, not JSON, an unusable
  key).
- ``keygen [--name NAME] [--out FILE]``: a new signing key pair. The signer key goes to FILE (created with mode 0600,
  never overwritten) or, without --out, to standard output; the verifier key (to publish, and to give to ``verify
  --key``) is printed.
- ``checkpoint [--size N]``: the latest (or that) signed checkpoint note with its witnesses' cosignatures.
- ``receipt INDEX [--size N]``: the JSON receipt of a deposit (at the latest checkpoint, or at that size).
- ``fsck``: check the stored log against itself (``yipanqi.evidence.fsck``); exit 1 on problems.
- ``witness --log URL --log-key KEY --key SIGNER --state FILE [--api-key KEY]``: one round of a witness node of
  another agency (``yipanqi.evidence.witness``): check the log's latest checkpoint against the last one cosigned,
  cosign it and send the cosignature; exit 1 on a rollback, a fork or any refusal. Run it from cron or a timer.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from yipanqi.evidence import receipts

MAX_RECEIPT_BYTES = 16 * 1024 * 1024  # a receipt is a few kB; anything this large is not one


class Command(BaseCommand):
    help = "The evidence log: verify a receipt offline, make a signing key, print the latest checkpoint."
    requires_system_checks: list[str] = []  # verify runs offline: nothing here needs the project's checks

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

        verify = actions.add_parser("verify", help="verify a receipt (存证证明) offline; exit 0 only when valid")
        verify.add_argument("receipt", metavar="RECEIPT.json", help="the receipt, as JSON")
        verify.add_argument("--file", metavar="ORIGINAL", help="the original file: check that it is what was deposited")
        verify.add_argument(
            "--key",
            metavar="PUBKEY|FILE",
            help="the log's published verifier key, or a file holding it (one key a line); without it the key in "
            "the receipt is used, which shows only that the receipt is consistent",
        )
        verify.add_argument("--json", action="store_true", help="print the report as JSON")

        keygen = actions.add_parser("keygen", help="make a new signing key pair")
        keygen.add_argument("--name", help="the key's name (default: EVIDENCE_ORIGIN)")
        keygen.add_argument("--out", metavar="FILE", help="write the private signer key to FILE (mode 0600)")

        checkpoint = actions.add_parser("checkpoint", help="print the latest signed checkpoint")
        checkpoint.add_argument("--size", type=int, help="the checkpoint of this tree size instead of the latest")

        receipt = actions.add_parser("receipt", help="print the JSON receipt of a deposit")
        receipt.add_argument("index", type=int, help="the deposit's index in the log")
        receipt.add_argument("--size", type=int, help="at the checkpoint of this tree size instead of the latest")

        actions.add_parser("fsck", help="check the stored log (tiles, checkpoints, leaves) for consistency")

        witness = actions.add_parser("witness", help="one round of a witness node: check, cosign, send")
        witness.add_argument(
            "--log", required=True, metavar="URL", help="the log's base URL, e.g. https://yipanqi.example"
        )
        witness.add_argument("--log-key", required=True, metavar="KEY|FILE", help="the log's verifier key")
        witness.add_argument("--key", required=True, metavar="SIGNER|FILE", help="this witness's signer key")
        witness.add_argument(
            "--state", required=True, metavar="FILE", help="where the last cosigned checkpoint is kept"
        )
        witness.add_argument(
            "--api-key",
            default=os.environ.get("YIPANQI_WITNESS_API_KEY", ""),
            help="the witness agency's API key (scope evidence:witness; default: $YIPANQI_WITNESS_API_KEY)",
        )

    def handle(self, *args, **options):
        action = options["action"]
        if action == "verify":
            return _verify(self, options)
        if action == "keygen":
            return _keygen(self, options)
        if action == "checkpoint":
            return _checkpoint(self, options)
        if action == "receipt":
            return _receipt(self, options)
        if action == "witness":
            return _witness(self, options)
        return _fsck(options, command=self)


# ------------------------------------------------------------------------------------------------------------ verify


def _read_receipt(path: str) -> bytes:
    """The receipt file's bytes, checked to be JSON, or CommandError (exit status 2) when it cannot be read as JSON.
    (Whether that JSON is a receipt is the first check of the verification: exit status 1.)"""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_RECEIPT_BYTES + 1)
    except OSError as exc:
        raise CommandError(f"Cannot read the receipt {path}: {exc.strerror or exc}.", returncode=2) from None
    if len(data) > MAX_RECEIPT_BYTES:
        raise CommandError(f"{path} is too large to be a receipt.", returncode=2)
    try:
        json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise CommandError(f"{path} is not a receipt: it is not UTF-8 text.", returncode=2) from None
    except (ValueError, RecursionError) as exc:
        raise CommandError(f"{path} is not a receipt: it is not valid JSON ({exc}).", returncode=2) from None
    return data


def _verify(command: BaseCommand, options: dict) -> None:
    receipt = _read_receipt(options["receipt"])
    key = options.get("key")
    if key is not None:
        try:
            receipts.load_keys(key)
        except receipts.TrustedKeyError as exc:
            raise CommandError(f"--key: {exc}.", returncode=2) from None
    handle = None
    if options.get("file"):
        try:
            handle = open(options["file"], "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise CommandError(
                f"Cannot read the file {options['file']}: {exc.strerror or exc}.", returncode=2
            ) from None
    try:
        report = receipts.verify_receipt(receipt, key=key, file=handle)
    finally:
        if handle is not None:
            handle.close()
    if options.get("json"):
        command.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        for check in report.checks:
            command.stdout.write(f"{check.mark} {check.name}: {check.explanation}")
        command.stdout.write(report.summary())
    if not report.valid:
        raise CommandError("The receipt is not valid.", returncode=1)


# ------------------------------------------------------------------------------------------------------------ keygen


def _keygen(command: BaseCommand, options: dict) -> None:
    from django.conf import settings

    from yipanqi.evidence import notes

    name = options.get("name") or settings.EVIDENCE_ORIGIN
    try:
        signer_key, verifier_key = notes.generate_key(name)
    except notes.NoteError as exc:
        raise CommandError(f"--name: {exc}.", returncode=2) from None
    out = options.get("out")
    if not out:
        command.stderr.write("The private signer key (keep it secret: EVIDENCE_SIGNING_KEY) and the verifier key:")
        command.stdout.write(signer_key)
        command.stdout.write(verifier_key)
        return
    path = Path(out)
    try:
        # Created with mode 0600 from the start (never readable by others, not even for an instant), never overwritten.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CommandError(f"{path} exists: a signing key is never overwritten.", returncode=2) from None
    except OSError as exc:
        raise CommandError(f"Cannot create {path}: {exc.strerror or exc}.", returncode=2) from None
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(signer_key + "\n")
    os.chmod(path, 0o600)  # whatever the umask did
    command.stderr.write(
        f"The signer key is in {path} (mode 0600): set EVIDENCE_SIGNING_KEY_FILE={path.resolve()}. "
        "Publish the verifier key:"
    )
    command.stdout.write(verifier_key)


# ---------------------------------------------------------------------------------------------------- log (database)


def _checkpoint(command: BaseCommand, options: dict) -> None:
    from yipanqi.evidence import selectors

    try:
        at = selectors.checkpoint(options.get("size"))
    except selectors.ProofUnavailable as exc:
        raise CommandError(f"{str(exc)[:1].upper()}{str(exc)[1:]}.") from None
    note, _cosignatures = selectors.note_with_cosignatures(at)
    command.stdout.write(note, ending="")


def _receipt(command: BaseCommand, options: dict) -> None:
    from yipanqi.evidence import selectors
    from yipanqi.evidence.models import Deposit

    deposit = Deposit.objects.filter(index=options["index"]).first()
    if deposit is None:
        raise CommandError(f"The log has no deposit {options['index']}.")
    try:
        at = selectors.checkpoint(options.get("size"))
        receipt = selectors.receipt(deposit, at)
    except selectors.ProofUnavailable as exc:
        raise CommandError(f"{str(exc)[:1].upper()}{str(exc)[1:]}.") from None
    command.stdout.write(json.dumps(receipt, ensure_ascii=False, indent=2))


def _witness(command: BaseCommand, options: dict) -> None:
    from yipanqi.evidence import witness

    try:
        outcome = witness.run_once(
            log_url=options["log"],
            log_key=options["log_key"],
            witness_key=options["key"],
            state_file=options["state"],
            api_key=options["api_key"],
        )
    except witness.WitnessError as exc:
        raise CommandError(str(exc), returncode=1) from exc
    since = f" (consistent with {outcome.previous})" if outcome.previous is not None else " (first cosignature)"
    command.stdout.write(f"cosigned checkpoint of size {outcome.size}{since}")


def _fsck(options: dict, command: BaseCommand | None = None) -> None:
    """Run ``yipanqi.evidence.fsck.run()`` and print its report; exit status 1 when it found problems."""
    from yipanqi.evidence import fsck  # written separately; imported only when asked for

    out = command.stdout.write if command is not None else (lambda text: print(text))
    err = command.stderr.write if command is not None else (lambda text: print(text, file=sys.stderr))
    progress = None
    if int(options.get("verbosity") or 1) >= 2:

        def progress(done: int, total: int) -> None:
            err(f"fsck: {done} of {total} deposits checked")

    report = fsck.run(progress=progress) if progress else fsck.run()
    for line in _fsck_lines(report):
        out(line)
    ok = getattr(report, "ok", None)
    if ok is None:
        ok = not getattr(report, "problems", None)
    if not ok:
        raise CommandError("The evidence log has problems (listed above).", returncode=1)


def _fsck_lines(report) -> list[str]:
    """The report as lines: its own text() if it has one, else its counts, then one line per problem."""
    if callable(getattr(report, "text", None)):
        return [report.text()]
    if not dataclasses.is_dataclass(report):
        return [str(report)]
    problems = list(getattr(report, "problems", []) or [])
    counts = [
        f"{item.name}: {getattr(report, item.name)}"
        for item in dataclasses.fields(report)
        if isinstance(getattr(report, item.name), int)
    ]
    lines = ["checked " + ", ".join(counts)] if counts else []
    lines += [f"problem: {problem}" for problem in problems]
    lines.append(f"{len(problems)} problem(s)" if problems else "OK: no problems")
    return lines
