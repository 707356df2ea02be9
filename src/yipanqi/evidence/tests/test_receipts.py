"""Receipts (存证证明): made by the real services on the test database, verified offline by ``receipts.verify_receipt``;
every kind of tampering fails with its explanation, malformed receipts never raise; the printable PDF."""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import json
import re
import time

import pytest
import qrcode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yipanqi.evidence import documents, keys, leaves, merkle, notes, receipts, selectors, services
from yipanqi.evidence.models import Checkpoint, Deposit, Witness

ORIGINALS = [f"（2021）川01执{n}号 证据材料 第{n}页".encode() * 50 for n in range(5)]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def make_receipt(owner, partner, *, index: int = 3, witness: bool = True) -> tuple[dict, notes.Signer]:
    """Five deposits by the owner's agency through services.deposit, a witness of the partner's agency cosigning the
    latest checkpoint through services.add_cosignature, and the receipt of deposit ``index`` from selectors."""
    items = [
        {"hash": hashlib.sha256(data).hexdigest(), "media_type": "application/pdf", "case": "（2021）川01执123号"}
        for data in ORIGINALS
    ]
    services.deposit(acting_user=owner, items=items[:2])
    services.deposit(acting_user=owner, items=items[2:])
    signer = notes.Signer.from_key(notes.generate_key("witness.cq.example")[0])
    if witness:
        Witness.objects.create(agency=partner.agency, name=signer.name, verifier_key=signer.cosignature_verifier_key)
        checkpoint = services.latest_checkpoint()
        body = checkpoint.note.split("\n\n", 1)[0] + "\n"
        line = notes.cosign(body, signer, int(time.time()))
        services.add_cosignature(acting_user=partner, checkpoint=checkpoint, line=line)
    return selectors.receipt(Deposit.objects.get(index=index)), signer


@pytest.fixture
def made(owner, partner):
    return make_receipt(owner, partner)


@pytest.fixture
def receipt(made):
    return made[0]


def _names(report: receipts.Report) -> dict[str, bool | None]:
    return {check.name: check.ok for check in report.checks}


def _failed(report: receipts.Report) -> dict[str, str]:
    return {check.name: check.explanation for check in report.failures}


def _resign(receipt: dict, signer: notes.Signer, body: str | None = None) -> None:
    """Replace the receipt's checkpoint signature by ``signer``'s (keeping the witness lines)."""
    note = receipt["checkpoint"]
    text, _sep, block = note.partition("\n\n")
    body = body or text + "\n"
    witness_lines = [line for line in block.splitlines() if not line.startswith(f"— {keys.signer().name} ")]
    signed = notes.sign_note(body, signer)
    receipt["checkpoint"] = signed + "".join(line + "\n" for line in witness_lines)


# ---------------------------------------------------------------------------------------------------------- valid


@pytest.mark.django_db
def test_a_receipt_from_the_services_verifies(receipt):
    assert receipt["type"] == receipts.RECEIPT_TYPE == selectors.RECEIPT_TYPE
    assert receipt["index"] == 3 and receipt["tree_size"] == 5 and len(receipt["witnesses"]) == 1
    report = receipts.verify_receipt(receipt)
    assert report.valid, report.as_dict()
    assert list(_names(report)) == [
        "format",
        "leaf",
        "signature",
        "checkpoint",
        "index",
        "inclusion",
        "witness witness.cq.example",
    ]
    assert not report.trusted_key
    signature = report.checks[2].explanation
    assert "checked against the key in the receipt itself" in signature
    assert receipts.fingerprint(keys.verifier_key()) in signature and keys.verifier_key() in signature
    assert "compare" in report.summary()
    assert report.leaf.case == "（2021）川01执123号" and report.checkpoint.size == 5


@pytest.mark.django_db
def test_with_the_trusted_key_and_the_original(receipt, tmp_path):
    report = receipts.verify_receipt(receipt, key=keys.verifier_key(), file=io.BytesIO(ORIGINALS[3]))
    assert report.valid and report.trusted_key and report.summary() == "VALID: every check passed."
    assert "the key you gave" in report.checks[2].explanation
    assert (
        report.checks[-1].name == "file" and hashlib.sha256(ORIGINALS[3]).hexdigest() in report.checks[-1].explanation
    )
    # a key file: the previous key and the current one, with a comment
    other = notes.generate_key("old.key")[1]
    path = tmp_path / "log.pub"
    path.write_text(f"# the log's keys\n{other}\n\n{keys.verifier_key()}\n", encoding="utf-8")
    assert receipts.verify_receipt(receipt, key=str(path)).valid
    # every receipt of the log verifies, at every checkpoint
    for size in (2, 5):
        at = Checkpoint.objects.get(size=size)
        for deposit in Deposit.objects.filter(index__lt=size):
            made = selectors.receipt(deposit, at)
            assert receipts.verify_receipt(json.dumps(made), key=keys.verifier_key()).valid
            assert receipts.verify_receipt(json.dumps(made).encode()).valid


@pytest.mark.django_db
def test_a_receipt_of_a_log_of_one_leaf_and_without_witnesses(owner, partner):
    services.deposit(acting_user=owner, items=[{"hash": "ab" * 32}])
    receipt = selectors.receipt(Deposit.objects.get(index=0))
    assert receipt["inclusion_proof"] == [] and receipt["witnesses"] == []
    report = receipts.verify_receipt(receipt, key=keys.verifier_key())
    assert report.valid and [c.name for c in report.checks][-1] == "inclusion"


# ------------------------------------------------------------------------------------------------------- tampering


def _change_leaf(field, value):
    def change(receipt):
        receipt["leaf"][field] = value

    return change


TAMPERING = {
    "leaf content": (_change_leaf("content", "00" * 32), "leaf", "does not match leaf_hash"),
    "leaf case": (_change_leaf("case", "（2021）川01执124号"), "leaf", "does not match leaf_hash"),
    "leaf time": (_change_leaf("time", "2020-01-01T00:00:00.000000Z"), "leaf", "does not match leaf_hash"),
    "leaf agency": (_change_leaf("agency", "1:别的单位"), "leaf", "does not match leaf_hash"),
    "leaf invalid": (_change_leaf("content", "00" * 31), "leaf", "has 32 bytes"),
    "leaf extra field": (lambda r: r["leaf"].update(x="1"), "leaf", "exactly the fields"),
    "leaf hash": (lambda r: r.update(leaf_hash=_b64(b"\x01" * 32)), "leaf", "does not match leaf_hash"),
    "proof hash": (
        lambda r: r["inclusion_proof"].__setitem__(
            0,
            _b64(
                bytes([base64.b64decode(r["inclusion_proof"][0])[0] ^ 1])
                + base64.b64decode(r["inclusion_proof"][0])[1:]
            ),
        ),
        "inclusion",
        "does not lead to the root",
    ),
    "proof shortened": (lambda r: r["inclusion_proof"].pop(), "inclusion", "the proof has 2 hashes"),
    "index": (lambda r: r.update(index=2), "inclusion", "does not lead to the root"),
    "index beyond the tree": (lambda r: r.update(index=5), "index", "beyond the tree of size 5"),
    "tree size beyond the checkpoint": (lambda r: r.update(tree_size=6), "checkpoint", "tree_size 6"),
    "origin": (lambda r: r["log"].update(origin="other.example/log"), "checkpoint", "'other.example/log'"),
    "checkpoint root": (
        lambda r: r.update(checkpoint=r["checkpoint"].replace(r["checkpoint"].split("\n")[2], _b64(b"\x07" * 32), 1)),
        "signature",
        "invalid signature for key",
    ),
    "receipt key replaced": (
        lambda r: r["log"].update(verifier_key=notes.generate_key(keys.signer().name)[1]),
        "signature",
        "carries no signature by the receipt key",
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("what", TAMPERING)
def test_a_changed_receipt_fails_with_its_explanation(receipt, what):
    change, check, explanation = TAMPERING[what]
    changed = copy.deepcopy(receipt)
    change(changed)
    # the key written in the receipt counts only when no trusted key is given
    for key in (None,) if what == "receipt key replaced" else (None, keys.verifier_key()):
        report = receipts.verify_receipt(changed, key=key)
        assert not report.valid
        failed = _failed(report)
        assert check in failed, report.as_dict()
        assert explanation in failed[check]
    assert receipts.verify_receipt(receipt).valid  # the fixture itself is untouched


@pytest.mark.django_db
def test_with_a_trusted_key_the_receipt_key_is_only_shown(receipt):
    changed = copy.deepcopy(receipt)
    changed["log"]["verifier_key"] = other = notes.generate_key("someone.else")[1]
    report = receipts.verify_receipt(changed, key=keys.verifier_key())
    assert report.valid and report.key == keys.verifier_key()
    assert f"the receipt names another key, {receipts.fingerprint(other)}" in report.checks[2].explanation


@pytest.mark.django_db
def test_a_forged_checkpoint_signature(receipt):
    forger = notes.Signer.from_key(notes.generate_key(keys.signer().name)[0])
    # the same checkpoint, signed by another key of the same name: the log's key finds no signature of its own
    forged = copy.deepcopy(receipt)
    _resign(forged, forger)
    for key in (None, keys.verifier_key()):
        failed = _failed(receipts.verify_receipt(forged, key=key))
        assert (
            "no signature by" in failed["signature"]
            and receipts.fingerprint(keys.verifier_key()) in failed["signature"]
        )
    # a forged tree (another root) with the forger's key written into the receipt: consistent in itself, so it
    # passes only without --key, and then the report says that the key is the receipt's own, with its fingerprint
    leaf_hash = merkle.leaf_hash(b"forged")
    body = notes.checkpoint_body(receipt["log"]["origin"], 1, merkle.root([leaf_hash]))
    fake = copy.deepcopy(receipt)
    fake.update(leaf_hash=_b64(leaf_hash), index=0, tree_size=1, inclusion_proof=[], witnesses=[])
    fake["log"]["verifier_key"] = forger.verifier_key
    fake["checkpoint"] = notes.sign_note(body, forger)
    report = receipts.verify_receipt(fake, key=keys.verifier_key())
    assert not report.valid and "no signature by the key you gave" in _failed(report)["signature"]
    report = receipts.verify_receipt(fake)
    assert not report.trusted_key and forger.verifier_key in report.checks[2].explanation
    assert "leaf" in _failed(report)  # the leaf data still hashes to the real leaf, not to the forged one


@pytest.mark.django_db
def test_a_wrong_key(receipt, tmp_path):
    other = notes.generate_key("someone.else")[1]
    failed = _failed(receipts.verify_receipt(receipt, key=other))
    assert failed["signature"].startswith("The checkpoint is not signed by the log's key")
    assert "someone.else+" in failed["signature"]
    for bad, message in [
        ("not-a-key", "neither a verifier key nor an existing file"),
        ("name+0000zzzz+AAAA", "must be 8 lowercase hex digits"),
        (keys.signer_key(), "private signer key"),
        (str(tmp_path / "empty.pub"), "holds no verifier key"),
    ]:
        (tmp_path / "empty.pub").write_text("# nothing\n")
        with pytest.raises(receipts.TrustedKeyError, match=message):
            receipts.load_keys(bad)
        report = receipts.verify_receipt(receipt, key=bad)
        assert not report.valid and message in _failed(report)["signature"]


@pytest.mark.django_db
def test_a_file_that_is_not_the_original(receipt):
    report = receipts.verify_receipt(receipt, file=io.BytesIO(ORIGINALS[2]))
    failed = _failed(report)
    assert list(failed) == ["file"]
    assert hashlib.sha256(ORIGINALS[2]).hexdigest() in failed["file"]
    assert hashlib.sha256(ORIGINALS[3]).hexdigest() in failed["file"]
    assert "not the deposited original" in failed["file"]


@pytest.mark.django_db
def test_witness_lines(made):
    receipt, signer = made
    note = receipt["checkpoint"]
    line = next(x for x in note.splitlines() if x.startswith(f"— {signer.name} "))
    raw = bytearray(base64.b64decode(line.split(" ")[-1]))
    raw[-1] ^= 1  # the last byte of the Ed25519 signature
    altered = copy.deepcopy(receipt)
    altered["checkpoint"] = note.replace(line, f"— {signer.name} {_b64(bytes(raw))}")
    failed = _failed(receipts.verify_receipt(altered, key=keys.verifier_key()))
    assert list(failed) == [f"witness {signer.name}"] and "invalid cosignature" in failed[f"witness {signer.name}"]
    # a cosignature over another checkpoint (an older one), pasted in
    older = Checkpoint.objects.get(size=2).note.split("\n\n", 1)[0] + "\n"
    pasted = copy.deepcopy(receipt)
    pasted["checkpoint"] = note.replace(line, notes.cosign(older, signer, 1_700_000_000))
    assert "invalid cosignature" in _failed(receipts.verify_receipt(pasted))[f"witness {signer.name}"]
    # a witness listed without its line
    missing = copy.deepcopy(receipt)
    missing["checkpoint"] = note.replace(line + "\n", "")
    assert "has no line of it" in _failed(receipts.verify_receipt(missing))[f"witness {signer.name}"]
    # the witness's key replaced in the list
    other = copy.deepcopy(receipt)
    other["witnesses"][0]["verifier_key"] = notes.generate_key(signer.name)[1]
    assert "does not match witness key" in _failed(receipts.verify_receipt(other))[f"witness {signer.name}"]
    # a line of a witness the receipt does not list is ignored, as signed notes require
    unlisted = copy.deepcopy(receipt)
    unlisted["witnesses"] = []
    assert receipts.verify_receipt(unlisted).valid


# ------------------------------------------------------------------------------------------------------ malformed

MALFORMED = [
    (b"not json", "not valid JSON"),
    (b"\xff\xfe", "not UTF-8"),
    ("[1, 2]", "a receipt is a JSON object, this is a list"),
    ({}, "lacks the field(s) type, log, leaf"),
    ({"type": "other"}, "lacks the field(s) log"),
]


def _field(name, value):
    def change(receipt):
        receipt[name] = value

    return change


BROKEN = [
    (_field("type", "yipanqi-evidence-receipt/v0"), "is not 'yipanqi-evidence-receipt/v1'"),
    (_field("index", "3"), "index must be an integer, not a string"),
    (_field("index", True), "index must be an integer, not a boolean"),
    (_field("index", 3.0), "index must be an integer, not a number"),
    (_field("index", -1), "between 0 and 2^64-1"),
    (_field("tree_size", 2**64), "between 0 and 2^64-1"),
    (_field("leaf", "x"), "leaf must be an object"),
    (_field("log", {"origin": ""}), "log.origin must be a non-empty string"),
    (_field("leaf_hash", "not base64!"), "leaf_hash is not valid base64"),
    (_field("leaf_hash", _b64(b"x" * 31)), "leaf_hash is 31 bytes"),
    (_field("leaf_hash", None), "leaf_hash must be a string, not null"),
    (_field("inclusion_proof", "abc"), "inclusion_proof must be a list"),
    (_field("inclusion_proof", [1]), "inclusion_proof[0] must be a base64 string, not a number"),
    (_field("inclusion_proof", ["AAAA"]), "inclusion_proof[0] is 3 bytes"),
    (_field("inclusion_proof", [_b64(b"x" * 32)] * 65), "never more than 64"),
    (_field("checkpoint", ["x"]), "checkpoint must be a string, not a list"),
    (_field("witnesses", [{"name": "w"}]), "witnesses[0].verifier_key must be a non-empty string"),
    (_field("witnesses", ["w"]), "witnesses[0] must be an object"),
]


@pytest.mark.parametrize(("receipt", "message"), MALFORMED)
def test_malformed_input_is_a_failed_format_check(receipt, message):
    report = receipts.verify_receipt(receipt)
    assert not report.valid and [c.name for c in report.checks] == ["format"]
    assert message in report.checks[0].explanation


@pytest.mark.django_db
def test_malformed_fields(receipt):
    for change, message in BROKEN:
        broken = copy.deepcopy(receipt)
        change(broken)
        report = receipts.verify_receipt(broken)
        assert [(c.name, c.ok) for c in report.checks] == [("format", False)], message
        assert message in report.checks[0].explanation, (message, report.checks[0].explanation)
    # a note that is not a signed note: reported by the signature, checkpoint and witness checks, not raised
    for note in ("", "x\n", "origin\n5\nAAAA\n\n— x AAAAAAAA\n", "\x00"):
        broken = copy.deepcopy(receipt)
        broken["checkpoint"] = note
        report = receipts.verify_receipt(broken)
        assert not report.valid and _names(report)["signature"] is False
        assert _names(report)["inclusion"] is None


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)


@pytest.mark.django_db
def test_no_malformed_receipt_raises(receipt):
    fields = [*receipt, "leaf.content", "leaf.v", "log.verifier_key", "witnesses.0.name"]

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(fields), JSON)
    def check(name, value):
        broken = copy.deepcopy(receipt)
        target, *path = name.split(".")
        if not path:
            broken[target] = value
        elif target == "witnesses":
            broken["witnesses"][0]["name"] = value
        else:
            broken[target][path[0]] = value
        report = receipts.verify_receipt(broken, file=io.BytesIO(b"x"))
        assert not report.valid and report.checks and report.failures

    check()


def test_the_fingerprint():
    assert receipts.fingerprint("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW") == (
        "PeterNeumann+c74f20a3"
    )


# ------------------------------------------------------------------------------------------------------------ speed


@pytest.mark.django_db
def test_verification_speed(receipt):
    """A receipt of a tree of 5 leaves with one witness: well over a thousand a second on one core."""
    text = json.dumps(receipt)
    key = keys.verifier_key()
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < 0.5:
        assert receipts.verify_receipt(text, key=key).valid
        count += 1
    rate = count / (time.perf_counter() - started)
    print(f"receipts verified: {rate:.0f}/s")
    assert rate > 500


# -------------------------------------------------------------------------------------------------------------- PDF


@pytest.mark.django_db
def test_the_printable_receipt(receipt):
    import pypdf

    pdf = documents.receipt_pdf(receipt)
    assert pdf.startswith(b"%PDF")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = "".join(page.extract_text() for page in reader.pages).replace(" ", "")
    for expected in [
        "电子数据存证证明",
        "四川省高级人民法院",
        "北京时间",
        "SHA-256",
        "application/pdf",
        "（2021）川01执123号",
        "存证序号第3号",
        "yipanqievidenceverify存证证明.json--file原件--key公钥",
        "以JSON格式的存证证明文件",
        receipts.fingerprint(keys.verifier_key()).replace(" ", ""),
        receipts.fingerprint(receipt["witnesses"][0]["verifier_key"]),
    ]:
        assert expected in text, expected
    content = receipt["leaf"]["content"]
    assert content[:8] in text and content[-8:] in text
    # the QR code: an SVG (a vector drawing in the PDF) holding the lookup URL of the content hash
    context = documents.receipt_context(receipt)
    assert context["qr_text"] == documents.lookup_url(receipt)
    assert f"hash={content}" in context["qr_text"] and "index=3" in context["qr_text"]
    svg = base64.b64decode(context["qr"].removeprefix("data:image/svg+xml;base64,"))
    assert svg.startswith(b"<svg") and b"<path" in svg
    # WeasyPrint draws the SVG into the page: one square sub-path per dark module, in module units ("x y m"). The
    # modules drawn are exactly those of the QR code of the lookup URL.
    stream = reader.pages[0].get_contents().get_data().decode("latin-1")
    drawn = {(int(x), int(y)) for x, y in re.findall(r"^(\d+) (\d+) m$", stream, flags=re.MULTILINE)} - {(0, 0)}
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    code.add_data(documents.lookup_url(receipt))
    code.make(fit=True)
    dark = {(x, y) for y, row in enumerate(code.get_matrix()) for x, on in enumerate(row) if on}
    assert len(dark) > 300 and drawn == dark


@pytest.mark.django_db
def test_the_qr_code_and_groups(receipt):
    assert documents.hex_groups("0123456789abcdef" * 4) == ["01234567 89abcdef 01234567 89abcdef"] * 2
    url = documents.lookup_url(receipt, base="https://yipanqi.example.cn/")
    assert url.startswith("https://yipanqi.example.cn/evidence/?algorithm=sha256&hash=")
    assert documents.receipt_context(receipt, url=url)["qr_text"] == url


@pytest.mark.django_db
def test_an_invalid_receipt_is_not_printed(receipt):
    changed = copy.deepcopy(receipt)
    changed["leaf"]["case"] = "（2021）川01执999号"
    with pytest.raises(ValueError, match="does not verify"):
        documents.receipt_pdf(changed)


def test_leaf_module_is_what_the_receipt_uses():
    assert receipts.leaves is leaves
