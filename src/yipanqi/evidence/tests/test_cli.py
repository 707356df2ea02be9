"""``yipanqi evidence …``: verify (offline: no database, in-process and as the installed console script), keygen,
checkpoint, receipt, fsck. Exit status 0 only for a valid receipt, 1 for an invalid one, 2 for unreadable input."""

from __future__ import annotations

import base64
import copy
import dataclasses
import datetime
import hashlib
import io
import json
import os
import stat
import subprocess
import sys
import types
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

import yipanqi.evidence as evidence_package
from yipanqi.evidence import keys, leaves, merkle, notes, selectors
from yipanqi.evidence.models import Checkpoint, Deposit
from yipanqi.evidence.tests.test_receipts import ORIGINALS, make_receipt

YIPANQI = Path(sys.executable).parent / "yipanqi"
ORIGIN = "example.org/evidence"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def offline_receipt(size: int = 7, index: int = 5) -> tuple[dict, str, bytes]:
    """A receipt built with the pure modules only (no database): (receipt, verifier key, original)."""
    signer = notes.Signer.from_key(notes.generate_key(ORIGIN)[0])
    originals = [f"原件 {n}".encode() for n in range(size)]
    made = [
        leaves.Leaf(
            content=hashlib.sha256(data).hexdigest(),
            algorithm="sha256",
            media_type="text/plain",
            agency="7:四川省高级人民法院",
            depositor="user:3",
            time=leaves.format_time(
                datetime.datetime(2021, 9, 16, 8, 30, tzinfo=datetime.UTC) + datetime.timedelta(seconds=n)
            ),
            case="",
            salt=f"{n:032x}",
        )
        for n, data in enumerate(originals)
    ]
    hashes = [merkle.leaf_hash(leaf.encode()) for leaf in made]
    tree, nodes = merkle.CompactRange(), {}
    for h in hashes:
        for level, node, value in tree.append(h):
            nodes[(level, node)] = value
    proof = merkle.inclusion_proof(index, size, lambda wanted: {n: nodes[n] for n in wanted})
    note = notes.sign_note(notes.checkpoint_body(ORIGIN, size, merkle.root(hashes)), signer)
    receipt = {
        "type": "yipanqi-evidence-receipt/v1",
        "log": {"origin": ORIGIN, "verifier_key": signer.verifier_key},
        "leaf": made[index].as_dict(),
        "leaf_hash": _b64(hashes[index]),
        "index": index,
        "tree_size": size,
        "inclusion_proof": [_b64(h) for h in proof],
        "checkpoint": note,
        "witnesses": [],
    }
    return receipt, signer.verifier_key, originals[index]


def _verify(*args: str) -> tuple[int, str, str]:
    """call_command("evidence", "verify", …): (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("evidence", "verify", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), str(exc)
    return 0, out.getvalue(), err.getvalue()


def _write(tmp_path: Path, receipt: dict, name: str = "存证证明.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(receipt, ensure_ascii=False, indent=2), encoding="utf-8")
    return str(path)


# ------------------------------------------------------------------------------------------- verify: no database


def test_verify_runs_without_a_database(tmp_path):
    """This test may not touch the database (pytest-django blocks it): verify is offline."""
    receipt, key, original = offline_receipt()
    (tmp_path / "原件.txt").write_bytes(original)
    (tmp_path / "log.pub").write_text(key + "\n")
    path = _write(tmp_path, receipt)
    status, out, _err = _verify(path, "--file", str(tmp_path / "原件.txt"), "--key", str(tmp_path / "log.pub"))
    assert status == 0, out
    lines = out.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [
        "✓ format",
        "✓ leaf",
        "✓ signature",
        "✓ checkpoint",
        "✓ index",
        "✓ inclusion",
        "✓ file",
    ]
    assert lines[-1] == "VALID: every check passed."
    status, out, _err = _verify(path)
    assert status == 0 and "checked against the key in the receipt itself" in out and key in out
    status, out, _err = _verify(path, "--json", "--key", key)
    report = json.loads(out)
    assert status == 0 and report["valid"] and report["trusted_key"] and len(report["checks"]) == 6


def test_verify_failures_without_a_database(tmp_path):
    receipt, key, _original = offline_receipt()
    changed = copy.deepcopy(receipt)
    changed["leaf"]["media_type"] = "application/pdf"
    status, out, message = _verify(_write(tmp_path, changed), "--key", key)
    assert status == 1 and message == "The receipt is not valid."
    assert "✗ leaf: The leaf's data does not match leaf_hash" in out and out.endswith(
        "NOT VALID: 1 check(s) failed (leaf).\n"
    )
    status, out, _message = _verify(_write(tmp_path, changed), "--json")
    assert status == 1 and json.loads(out)["valid"] is False


# ---------------------------------------------------------------------------------------- verify: real receipts

FAILURES = {
    "leaf field": (
        lambda r: r["leaf"].update(case="（2021）川01执999号"),
        "--key",
        "✗ leaf: The leaf's data does not match",
    ),
    "proof hash": (
        lambda r: r["inclusion_proof"].__setitem__(1, _b64(b"\x00" * 32)),
        "--key",
        "✗ inclusion: The inclusion proof does not verify",
    ),
    "index": (lambda r: r.update(index=1), "--key", "✗ inclusion: The inclusion proof does not verify"),
    "tree size": (
        lambda r: r.update(tree_size=9),
        "--key",
        "✗ checkpoint: The checkpoint does not match the receipt: its tree size is 5, the receipt says tree_size 9",
    ),
    "index beyond": (lambda r: r.update(index=7), "--key", "✗ index: The index 7 is beyond the tree of size 5"),
}


@pytest.mark.django_db
def test_verify_a_receipt_made_by_the_services(owner, partner, tmp_path):
    receipt, witness = make_receipt(owner, partner)
    path = _write(tmp_path, receipt)
    (tmp_path / "original.pdf").write_bytes(ORIGINALS[3])
    (tmp_path / "other.pdf").write_bytes(ORIGINALS[4])
    key = keys.verifier_key()
    status, out, _err = _verify(path, "--key", key, "--file", str(tmp_path / "original.pdf"))
    assert status == 0 and f"✓ witness {witness.name}: Cosigned by {witness.name}+" in out and "✓ file" in out

    for what, (change, option, expected) in FAILURES.items():
        changed = copy.deepcopy(receipt)
        change(changed)
        status, out, _err = _verify(_write(tmp_path, changed, f"{what}.json"), option, key)
        assert status == 1 and expected in out, (what, out)

    # a forged checkpoint signature: the same checkpoint signed with another key of the same name
    forger = notes.Signer.from_key(notes.generate_key(keys.signer().name)[0])
    forged = copy.deepcopy(receipt)
    body, _sep, block = forged["checkpoint"].partition("\n\n")
    witness_lines = [line for line in block.splitlines() if line.startswith(f"— {witness.name} ")]
    forged["checkpoint"] = notes.sign_note(body + "\n", forger) + "".join(line + "\n" for line in witness_lines)
    status, out, _err = _verify(_write(tmp_path, forged, "forged.json"))
    assert status == 1 and "✗ signature: The checkpoint is not signed by the log's key" in out
    assert f"– witness {witness.name}: Not checked" in out

    # a wrong --key
    status, out, _err = _verify(path, "--key", notes.generate_key("other.log")[1])
    assert status == 1 and "✗ signature:" in out and "other.log+" in out

    # a file that is not the original
    status, out, _err = _verify(path, "--file", str(tmp_path / "other.pdf"))
    assert status == 1 and "✗ file: The file is not the deposited original" in out
    assert hashlib.sha256(ORIGINALS[4]).hexdigest() in out and receipt["leaf"]["content"] in out

    # a witness line altered
    altered = copy.deepcopy(receipt)
    line = witness_lines[0]
    sig = bytearray(base64.b64decode(line.split(" ")[-1]))
    sig[20] ^= 0x40
    altered["checkpoint"] = receipt["checkpoint"].replace(line, f"— {witness.name} {_b64(bytes(sig))}")
    status, out, _err = _verify(_write(tmp_path, altered, "altered.json"), "--key", key)
    assert status == 1 and f"✗ witness {witness.name}: The cosignature of witness {witness.name}" in out


def test_unreadable_input_exits_2(tmp_path):
    receipt, _key, _original = offline_receipt()
    path = _write(tmp_path, receipt)
    (tmp_path / "not.json").write_text("{not json")
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00")
    cases = [
        ((str(tmp_path / "missing.json"),), "Cannot read the receipt", 2),
        ((str(tmp_path / "not.json"),), "it is not valid JSON", 2),
        ((str(tmp_path / "binary.json"),), "it is not UTF-8 text", 2),
        ((path, "--file", str(tmp_path / "missing.pdf")), "Cannot read the file", 2),
        ((path, "--key", "nonsense"), "--key: 'nonsense' is neither a verifier key nor an existing file", 2),
        ((path, "--key", notes.generate_key("x")[0]), "--key: a private signer key was given", 2),
    ]
    for args, message, code in cases:
        status, _out, error = _verify(*args)
        assert (status, message in error) == (code, True), (args, error)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[]", "a receipt is a JSON object, this is a list"),
        ("{}", "the receipt lacks the field(s) type"),
        ('"text"', "a receipt is a JSON object, this is a string"),
    ],
)
def test_a_malformed_receipt_exits_1_with_its_reason(tmp_path, content, message):
    (tmp_path / "r.json").write_text(content)
    status, out, _error = _verify(str(tmp_path / "r.json"))
    assert status == 1 and f"✗ format: The receipt is malformed: {message}" in out


def test_malformed_fields_exit_1(tmp_path):
    receipt, key, _original = offline_receipt()
    for field, value, message in [
        ("leaf_hash", "%%%", "leaf_hash is not valid base64"),
        ("index", "5", "the field index must be an integer, not a string"),
        ("inclusion_proof", ["AAAA"], "inclusion_proof[0] is 3 bytes"),
        ("witnesses", None, "the field witnesses must be a list, not null"),
    ]:
        broken = copy.deepcopy(receipt)
        broken[field] = value
        status, out, _error = _verify(_write(tmp_path, broken), "--key", key)
        assert status == 1 and message in out, out


# ------------------------------------------------------------------------------------------ the console script


def _console(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``.venv/bin/yipanqi …`` with a database that does not exist: any database access would fail."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "YIPANQI_MODE")}
    env["DATABASE_URL"] = "postgres://nobody:nothing@127.0.0.1:9/no_such_database"
    return subprocess.run(
        [str(YIPANQI), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.django_db
def test_the_console_script(owner, partner, tmp_path):
    receipt, witness = make_receipt(owner, partner)
    path = _write(tmp_path, receipt)
    (tmp_path / "原件.pdf").write_bytes(ORIGINALS[3])
    (tmp_path / "公钥").write_text(keys.verifier_key() + "\n")
    run = _console("evidence", "verify", "存证证明.json", "--file", "原件.pdf", "--key", "公钥", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "✓ inclusion: The inclusion proof (3 hashes) leads from leaf 3" in run.stdout
    assert f"✓ witness {witness.name}" in run.stdout and run.stdout.endswith("VALID: every check passed.\n")

    changed = copy.deepcopy(receipt)
    changed["index"] = 2
    _write(tmp_path, changed, "changed.json")
    run = _console("evidence", "verify", "changed.json", "--key", "公钥", "--json", cwd=tmp_path)
    assert run.returncode == 1 and run.stderr.strip() == "CommandError: The receipt is not valid."
    report = json.loads(run.stdout)
    assert not report["valid"] and [c["name"] for c in report["checks"] if c["ok"] is False] == ["inclusion"]

    (tmp_path / "bad.json").write_text("存证")
    run = _console("evidence", "verify", "bad.json", cwd=tmp_path)
    assert run.returncode == 2 and "not valid JSON" in run.stderr and "Traceback" not in run.stderr
    assert Path(path).exists()


# ------------------------------------------------------------------------------------------------------- keygen


def test_keygen_writes_a_private_file_and_prints_the_verifier_key(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    target = tmp_path / "evidence.key"
    call_command(
        "evidence", "keygen", "--name", "log.example.cn/evidence", "--out", str(target), stdout=out, stderr=err
    )
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    signer = notes.Signer.from_key(target.read_text())
    assert out.getvalue().strip() == signer.verifier_key
    assert signer.name == "log.example.cn/evidence" and "EVIDENCE_SIGNING_KEY_FILE" in err.getvalue()
    # the key signs checkpoints that verify with the printed key
    note = notes.sign_note(notes.checkpoint_body("log.example.cn/evidence", 0, merkle.EMPTY_ROOT), signer)
    notes.open_note(note, out.getvalue().strip())
    # never overwritten
    with pytest.raises(CommandError, match="exists") as raised:
        call_command("evidence", "keygen", "--out", str(target), stdout=io.StringIO(), stderr=io.StringIO())
    assert (
        raised.value.returncode == 2 and notes.Signer.from_key(target.read_text()).verifier_key == signer.verifier_key
    )
    # without --out: both keys on standard output; the default name is the log's origin
    out = io.StringIO()
    call_command("evidence", "keygen", stdout=out, stderr=io.StringIO())
    private, public = out.getvalue().split()
    assert notes.Signer.from_key(private).verifier_key == public
    assert public.startswith(f"{selectors.settings.EVIDENCE_ORIGIN}+")
    with pytest.raises(CommandError, match="--name") as raised:
        call_command("evidence", "keygen", "--name", "has space", stdout=io.StringIO(), stderr=io.StringIO())
    assert raised.value.returncode == 2


# ----------------------------------------------------------------------------------------- checkpoint, receipt


@pytest.mark.django_db
def test_checkpoint_and_receipt(owner, partner, tmp_path):
    with pytest.raises(CommandError, match="The log has no checkpoint yet"):
        call_command("evidence", "checkpoint", stdout=io.StringIO())
    receipt, _witness = make_receipt(owner, partner)
    out = io.StringIO()
    call_command("evidence", "checkpoint", stdout=out)
    latest = Checkpoint.objects.get(size=5)
    assert out.getvalue() == selectors.note_with_cosignatures(latest)[0] == receipt["checkpoint"]
    out = io.StringIO()
    call_command("evidence", "checkpoint", "--size", "2", stdout=out)
    assert out.getvalue() == Checkpoint.objects.get(size=2).note
    notes.open_checkpoint(out.getvalue(), keys.verifier_key(), origin=selectors.settings.EVIDENCE_ORIGIN)
    with pytest.raises(CommandError, match="No checkpoint of size 3"):
        call_command("evidence", "checkpoint", "--size", "3", stdout=io.StringIO())

    out = io.StringIO()
    call_command("evidence", "receipt", "1", "--size", "2", stdout=out)
    made = json.loads(out.getvalue())
    assert made == selectors.receipt(Deposit.objects.get(index=1), Checkpoint.objects.get(size=2))
    path = _write(tmp_path, made)
    assert _verify(path, "--key", keys.verifier_key())[0] == 0
    with pytest.raises(CommandError, match="The log has no deposit 99"):
        call_command("evidence", "receipt", "99", stdout=io.StringIO())
    with pytest.raises(CommandError, match="Leaf 4 is not in the tree of size 2"):
        call_command("evidence", "receipt", "4", "--size", "2", stdout=io.StringIO())


# ------------------------------------------------------------------------------------------------------------ fsck


@pytest.mark.parametrize("problems", [[], ["tile 0/0 does not match the leaves"]])
def test_fsck_prints_the_report_and_fails_on_problems(monkeypatch, problems):
    @dataclasses.dataclass
    class Report:
        size: int = 5
        tiles: int = 1
        problems: list = dataclasses.field(default_factory=lambda: list(problems))

        @property
        def ok(self):
            return not self.problems

    calls = []

    def run(progress=None):
        calls.append(progress)
        if progress:
            progress(5, 5)
        return Report()

    fake = types.SimpleNamespace(run=run)
    monkeypatch.setitem(sys.modules, "yipanqi.evidence.fsck", fake)
    monkeypatch.setattr(evidence_package, "fsck", fake, raising=False)
    out, err = io.StringIO(), io.StringIO()
    if problems:
        with pytest.raises(CommandError, match="problems") as raised:
            call_command("evidence", "fsck", stdout=out, stderr=err)
        assert raised.value.returncode == 1
        assert out.getvalue().splitlines() == [
            "checked size: 5, tiles: 1",
            "problem: tile 0/0 does not match the leaves",
            "1 problem(s)",
        ]
    else:
        call_command("evidence", "fsck", verbosity=2, stdout=out, stderr=err)
        assert out.getvalue().splitlines() == ["checked size: 5, tiles: 1", "OK: no problems"]
        assert "5 of 5 deposits checked" in err.getvalue() and calls[0] is not None


@pytest.mark.django_db
def test_fsck_of_a_real_log(owner, partner):
    make_receipt(owner, partner)
    out = io.StringIO()
    call_command("evidence", "fsck", stdout=out)
    assert out.getvalue().splitlines()[-1] == "OK: no problems"


def test_usage_errors():
    with pytest.raises(CommandError, match=r"invalid choice|required"):
        call_command("evidence", "nonsense")
