"""Signed notes, checkpoints, keys and cosignatures (pure; no database).

Known-answer vectors:
- Go golang.org/x/mod/sumdb/note (note.go doc + note_test.go): PeterNeumann / EnochRoot keys and signatures.
- c2sp.org/signed-note test vector (example.com/foo), as used by the tlog_scales Python tests.
- A real checkpoint of arche2025h1.staging.ct.transparency.dev with a real witness cosignature (type 0x04) by
  remora.n621.de, whose verifier key is also listed in transparency-dev/formats note_cosigv1_test.go.
- c2sp.org/tlog-cosignature example (timestamp 1679315147 inside the signature bytes).
"""

import base64
import hashlib

import pytest

from yipanqi.evidence import notes
from yipanqi.evidence.notes import (
    Checkpoint,
    NoteError,
    Signer,
    Verifier,
    checkpoint_body,
    cosign,
    cosignature_message,
    cosignature_verifier_key,
    generate_key,
    open_checkpoint,
    open_note,
    parse_checkpoint,
    parse_note,
    sign_note,
    verify_cosignature,
)

# --- Go sumdb/note vectors ----------------------------------------------------------------------------------------
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"

# --- c2sp.org/signed-note vector ----------------------------------------------------------------------------------
FOO_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
FOO_NOTE = (
    "This is an example message.\n\n"
    "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)

# --- a real cosigned checkpoint ------------------------------------------------------------------------------------
ARCHE_VKEY = "arche2025h1.staging.ct.transparency.dev+ba2f06c0+AU0vHmlGCS/PdN8b2OaGmKprLI8HKM+dJ472xgFYh15f"
REMORA_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
ARCHE_BODY = "arche2025h1.staging.ct.transparency.dev\n1432088532\nU7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=\n"
REMORA_LINE = (
    "— remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVCIobWX9sXTynk5XeU/zZ0WBxtqB0"
    "DrAWfBw=="
)
ARCHE_NOTE = (
    ARCHE_BODY
    + "\n"
    + "— arche2025h1.staging.ct.transparency.dev zTM8sQAAAZ5W0WdjBAMARjBEAiBjW5IQf9pvsYLfQFX6hoGREPMHbdQ3urbllzalApkpt"
    "QIgIpwtEroeW2BXaHAI4kJXFbon5Ch9MNL5zRNZ55lvGt0=\n"
    "— arche2025h1.staging.ct.transparency.dev ui8GwCF1+kWqZrxGdhj4aX3gcw7XUlXQQabg/27lefwhUkzbC3NygNI75MdhL1bfTW9g8Ei"
    "59RA23oHP7Ry1k3ZFWwQ=\n"
    "— transparency.dev/DEV:witness-little-garden 2AQqhwAAAABqEiEgzgFIqqhbUoDwjMWE6UP8nd8/KYTzwZ2rhIgcqoXHAwVkjZr4Ascy"
    "lP3v7sEodkRAErumC2q44vdgJY096st5BQ==\n" + REMORA_LINE + "\n"
)
REMORA_TIMESTAMP = 1779573024

ORIGIN = "yipanqi.example/evidence/log"
ROOT = hashlib.sha256(b"root").digest()


@pytest.fixture(scope="module")
def log_signer():
    skey, _ = generate_key(ORIGIN)
    return Signer.from_key(skey)


@pytest.fixture(scope="module")
def witness():
    skey, _ = generate_key("witness.cq.example/court")
    return Signer.from_key(skey)


# ================================================================================================ known answers


def test_go_signer_and_verifier_keys_match_reference():
    signer = Signer.from_key(PETER_SKEY)
    verifier = Verifier.from_key(PETER_VKEY)
    assert (signer.name, signer.key_hash) == ("PeterNeumann", 0xC74F20A3)
    assert (verifier.name, verifier.key_hash, verifier.alg) == ("PeterNeumann", 0xC74F20A3, 1)
    assert signer.verifier_key == PETER_VKEY
    assert signer.signer_key == PETER_SKEY
    assert verifier.verifier_key == PETER_VKEY


def test_go_sign_is_byte_identical_to_reference():
    # Ed25519 is deterministic: the whole signed note must equal Go's note.Sign output.
    assert sign_note(GO_TEXT, Signer.from_key(PETER_SKEY)) == GO_TEXT + "\n" + PETER_SIG


def test_go_open_one_known_one_unknown():
    text, sigs = open_note(GO_TEXT + "\n" + PETER_SIG + ENOCH_SIG, [PETER_VKEY])
    assert text == GO_TEXT
    assert [(s.name, s.key_hash) for s in sigs] == [("PeterNeumann", 0xC74F20A3)]
    assert sigs[0].line + "\n" == PETER_SIG


def test_go_open_both_known():
    _, sigs = open_note(GO_TEXT + "\n" + PETER_SIG + ENOCH_SIG, [Verifier.from_key(PETER_VKEY), ENOCH_VKEY])
    assert [s.name for s in sigs] == ["PeterNeumann", "EnochRoot"]
    assert sigs[1].key_hash == 0xAF0CFE78


def test_go_open_no_known_key_is_rejected():
    with pytest.raises(NoteError, match="no verifiable signatures"):
        open_note(GO_TEXT + "\n" + PETER_SIG + ENOCH_SIG, [FOO_VKEY])
    with pytest.raises(NoteError, match="no verifiable signatures"):
        open_note(GO_TEXT + "\n" + PETER_SIG, [])


def test_go_open_invalid_signature_from_known_key_rejects_note():
    forged = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(NoteError, match=r"invalid signature for key PeterNeumann\+c74f20a3"):
        open_note(GO_TEXT + "\n" + forged, [PETER_VKEY])


def test_go_open_duplicates_count_once_and_unknown_bad_ones_are_ignored():
    enoch_abcd = ENOCH_SIG[:60] + "ABCD" + ENOCH_SIG[60:]
    note = GO_TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG + enoch_abcd
    _, sigs = open_note(note, [PETER_VKEY])
    assert [s.name for s in sigs] == ["PeterNeumann"]


def test_go_open_too_many_signatures():
    with pytest.raises(NoteError, match="more than 100 signatures"):
        open_note(GO_TEXT + "\n" + PETER_SIG * 101, [PETER_VKEY])
    _, sigs = open_note(GO_TEXT + "\n" + PETER_SIG * 100, [PETER_VKEY])
    assert len(sigs) == 1


@pytest.mark.parametrize(
    "message",
    [
        GO_TEXT,
        GO_TEXT + "\n",
        GO_TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + GO_TEXT + "\n" + PETER_SIG,
        GO_TEXT
        + "\n"
        + "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6R"
        "yyBwJnAM=\n",
        GO_TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        GO_TEXT + "\n" + PETER_SIG.replace("— ", "-- "),
        GO_TEXT + "\n" + PETER_SIG.replace("— ", "—"),
        GO_TEXT + "\n" + PETER_SIG.replace("AM=", "AN="),  # non-canonical base64 (same bytes)
        GO_TEXT + "\n" + "— PeterNeumann x08g\n",  # signature shorter than 5 bytes
        GO_TEXT + "\n" + "— PeterNeumann\n",
    ],
)
def test_go_open_malformed(message):
    with pytest.raises(NoteError, match=r"malformed|base64"):
        open_note(message, [PETER_VKEY])


def test_open_rejects_invalid_utf8_bytes():
    with pytest.raises(NoteError, match="UTF-8"):
        open_note(b"\xff" + (GO_TEXT + "\n" + PETER_SIG).encode(), [PETER_VKEY])
    text, _ = open_note((GO_TEXT + "\n" + PETER_SIG).encode(), [PETER_VKEY])
    assert text == GO_TEXT


def test_go_verifier_key_manglings_are_rejected():
    assert Verifier.from_key(PETER_VKEY)
    raw = PETER_VKEY.encode()
    for i in range(len(raw) + 1):
        for j in range(i + 1, len(raw) + 1):
            if (i, j) != (0, len(raw)):
                with pytest.raises(NoteError):
                    Verifier.from_key(raw[i:j].decode())
    for i in range(len(raw)):
        mangled = bytearray(raw)
        mangled[i] += 1
        with pytest.raises(NoteError):
            Verifier.from_key(mangled.decode())
    # wrong key length / unknown algorithm, each with a key hash adjusted to match
    with pytest.raises(NoteError, match="canonical base64"):  # Go: wrong length; here already non-canonical
        Verifier.from_key("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==")
    long_key = base64.b64decode("ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW") + b"\0\0\0"
    long_hash = notes.key_hash("PeterNeumann", 1, long_key[1:])
    with pytest.raises(NoteError, match="32 bytes, got 35"):
        Verifier.from_key(f"PeterNeumann+{long_hash:08x}+{base64.b64encode(long_key).decode()}")
    with pytest.raises(NoteError, match="algorithm 0x65"):
        Verifier.from_key("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")


def test_go_signer_key_manglings_are_rejected():
    raw = PETER_SKEY.encode()
    for i in range(len(raw) + 1):
        for j in range(i + 1, len(raw) + 1):
            if (i, j) != (0, len(raw)):
                with pytest.raises(NoteError):
                    Signer.from_key(raw[i:j].decode())
    for i in range(len(raw)):
        mangled = bytearray(raw)
        mangled[i] += 1
        with pytest.raises(NoteError):
            Signer.from_key(mangled.decode())


def test_c2sp_signed_note_vector():
    text, sigs = open_note(FOO_NOTE, FOO_VKEY)
    assert text == "This is an example message.\n"
    verifier = Verifier.from_key(FOO_VKEY)
    assert verifier.public_key.hex() == "e932791ae6e7a840a46164c904786426d5e7821dd8b29a00d61cae72afdd4da4"
    assert sigs[0].key_hash == verifier.key_hash == 0x530D903A


def test_key_hash_known_answers_for_both_algorithms():
    for vkey, alg in [(PETER_VKEY, 1), (FOO_VKEY, 1), (ARCHE_VKEY, 1), (REMORA_VKEY, 4)]:
        name, hash_hex, data = vkey.split("+", 2)
        raw = base64.b64decode(data)
        assert raw[0] == alg
        assert notes.key_hash(name, raw[0], raw[1:]) == int(hash_hex, 16)
        assert Verifier.from_key(vkey).verifier_key == vkey
    # transparency-dev/formats: a 0x01 key whose base64 contains "+" (split at the first two "+" only)
    assert Verifier.from_key("TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6").key_hash == 0x7997405C


def test_real_checkpoint_with_real_witness_cosignature():
    checkpoint, sigs = open_checkpoint(ARCHE_NOTE, ARCHE_VKEY, [REMORA_VKEY])
    assert checkpoint == Checkpoint(
        "arche2025h1.staging.ct.transparency.dev",
        1432088532,
        base64.b64decode("U7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro="),
        [],
    )
    assert checkpoint.body() == ARCHE_BODY
    # the log's 0x05 (RFC 6962) line shares the name but not the key hash: ignored, not an error
    assert [(s.name, s.key_hash, s.timestamp) for s in sigs] == [
        ("arche2025h1.staging.ct.transparency.dev", 0xBA2F06C0, None),
        ("remora.n621.de", 0xDA77ADE7, REMORA_TIMESTAMP),
    ]
    assert verify_cosignature(ARCHE_BODY, REMORA_LINE, REMORA_VKEY) == REMORA_TIMESTAMP
    assert verify_cosignature(ARCHE_BODY, REMORA_LINE + "\n", Verifier.from_key(REMORA_VKEY)) == REMORA_TIMESTAMP


def test_real_checkpoint_clobbered_size_fails():
    clobbered = ARCHE_NOTE.replace("\n1432088532\n", "\n42\n")
    with pytest.raises(NoteError, match=r"invalid signature for key arche2025h1\.staging\.ct\.transparency\.dev"):
        open_checkpoint(clobbered, ARCHE_VKEY)
    with pytest.raises(NoteError, match=r"invalid signature for key remora\.n621\.de\+da77ade7"):
        open_note(clobbered, REMORA_VKEY)
    with pytest.raises(NoteError, match="invalid cosignature"):
        verify_cosignature(ARCHE_BODY.replace("\n1432088532\n", "\n42\n"), REMORA_LINE, REMORA_VKEY)


def test_spec_cosignature_example_timestamp_layout():
    # c2sp.org/tlog-cosignature: the example line carries timestamp 1679315147 ("time 1679315147").
    line = (
        "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0"
        "xUe+mbIUBkBIfZ+qnA=="
    )
    _, (sig,) = parse_note("x\n\n" + line + "\n")
    assert len(sig.signature) == 8 + 64
    assert int.from_bytes(sig.signature[:8], "big") == 1679315147
    body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    assert cosignature_message(body, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
        b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )


# ================================================================================================ round trips


def test_generate_key_round_trip():
    skey, vkey = generate_key(ORIGIN)
    assert skey.startswith(f"PRIVATE+KEY+{ORIGIN}+")
    name, hash_hex, data = vkey.split("+", 2)
    assert name == ORIGIN and len(hash_hex) == 8 and hash_hex == hash_hex.lower()
    assert base64.b64decode(data)[0] == 1 and len(base64.b64decode(data)) == 33
    signer, verifier = Signer.from_key(skey), Verifier.from_key(vkey)
    assert signer.verifier_key == vkey and signer.key_hash == verifier.key_hash == int(hash_hex, 16)
    sig = signer.sign(b"hi")
    assert len(sig) == 64 and verifier.verify(b"hi", sig)
    assert not verifier.verify(b"hj", sig)
    assert not verifier.verify(b"hi", bytes([sig[0] ^ 1]) + sig[1:])
    assert not verifier.verify(b"hi", sig[:-1])
    assert "PRIVATE" not in repr(signer) and data not in repr(signer)


def test_signer_key_accepts_surrounding_whitespace_from_files():
    skey, vkey = generate_key(ORIGIN)
    assert Signer.from_key(skey + "\n").verifier_key == vkey
    assert Verifier.from_key(" " + vkey + "\n").verifier_key == vkey


def test_sign_and_open_multiple_signers(log_signer, witness):
    body = "hello\n\nworld\n"  # the text may contain blank lines: the last one separates the signatures
    signed = sign_note(body, log_signer, witness)
    text, sigs = open_note(signed, [witness.verifier_key, log_signer.verifier()])
    assert text == body
    assert [s.name for s in sigs] == [log_signer.name, witness.name]


def test_signed_checkpoint_verifies(log_signer):
    body = checkpoint_body(ORIGIN, 12345, ROOT, ["ext one"])
    assert body == f"{ORIGIN}\n12345\n{base64.b64encode(ROOT).decode()}\next one\n"
    signed = sign_note(body, log_signer)
    checkpoint, sigs = open_checkpoint(signed, log_signer.verifier_key, origin=ORIGIN)
    assert checkpoint == Checkpoint(ORIGIN, 12345, ROOT, ["ext one"])
    assert sigs[0].key_hash == log_signer.key_hash
    with pytest.raises(NoteError, match="origin"):
        open_checkpoint(signed, log_signer.verifier_key, origin="other.example/log")


def test_empty_tree_checkpoint(log_signer):
    empty_root = hashlib.sha256(b"").digest()
    checkpoint, _ = open_checkpoint(
        sign_note(checkpoint_body(ORIGIN, 0, empty_root), log_signer), [log_signer.verifier()]
    )
    assert (checkpoint.size, checkpoint.root) == (0, empty_root)


def test_cosign_round_trip(log_signer, witness):
    body = checkpoint_body(ORIGIN, 7, ROOT)
    line = cosign(body, witness, 1_700_000_000)
    assert line.startswith(f"— {witness.name} ")
    raw = base64.b64decode(line.split(" ")[2])
    assert int.from_bytes(raw[:4], "big") == witness.cosignature_key_hash != witness.key_hash
    assert int.from_bytes(raw[4:12], "big") == 1_700_000_000 and len(raw) == 76
    assert verify_cosignature(body, line, witness.cosignature_verifier_key) == 1_700_000_000
    # the witness's ordinary (0x01) verifier key is accepted and converted
    assert verify_cosignature(body, line, witness.verifier_key) == 1_700_000_000
    assert cosignature_verifier_key(witness.verifier_key) == witness.cosignature_verifier_key
    # the cosignature is a note signature line: a cosigned checkpoint opens with 0x04 verifier keys
    note = sign_note(body, log_signer) + line + "\n"
    checkpoint, sigs = open_checkpoint(note, log_signer.verifier_key, [witness.cosignature_verifier_key])
    assert checkpoint.size == 7
    assert [(s.name, s.timestamp) for s in sigs] == [(ORIGIN, None), (witness.name, 1_700_000_000)]
    # a 0x01 verifier for the witness does not accept the cosignature (different key hash: ignored)
    with pytest.raises(NoteError, match="no verifiable"):
        open_note(body + "\n" + line + "\n", [witness.verifier_key])


def test_every_single_bit_flip_of_a_cosigned_checkpoint_is_rejected(log_signer, witness):
    body = checkpoint_body(ORIGIN, 99, ROOT)
    note = (sign_note(body, log_signer) + cosign(body, witness, 1_700_000_001) + "\n").encode()
    log_key, witness_key = log_signer.verifier(), Verifier.from_key(witness.cosignature_verifier_key)
    _, sigs = open_checkpoint(note, log_key, witness_key)
    assert len(sigs) == 2
    for i in range(len(note)):
        for bit in range(8):
            flipped = bytearray(note)
            flipped[i] ^= 1 << bit
            try:
                _, sigs = open_checkpoint(bytes(flipped), log_key, witness_key)
            except NoteError:
                continue
            # only a flip in the witness's name or key hash survives: that line becomes an unknown key's, ignored
            assert [s.name for s in sigs] == [ORIGIN], f"byte {i} bit {bit} still verifies with all signatures"


def test_checkpoint_without_the_log_signature_is_rejected(log_signer, witness):
    body = checkpoint_body(ORIGIN, 5, ROOT)
    only_witness = body + "\n" + cosign(body, witness, 1_700_000_000) + "\n"
    assert open_note(only_witness, witness.cosignature_verifier_key)[1][0].timestamp == 1_700_000_000
    with pytest.raises(NoteError, match="not signed by the log key"):
        open_checkpoint(only_witness, log_signer.verifier_key, [witness.verifier_key])
    rotated = Signer.from_key(generate_key(ORIGIN)[0])  # key rotation: old and new log keys both accepted
    checkpoint, sigs = open_checkpoint(sign_note(body, rotated), [log_signer.verifier_key, rotated.verifier_key])
    assert checkpoint.size == 5 and sigs[0].key_hash == rotated.key_hash
    with pytest.raises(NoteError, match="no log key"):
        open_checkpoint(sign_note(body, rotated), [])


# ================================================================================================ rejections


def test_forged_signature_is_rejected(log_signer):
    body = checkpoint_body(ORIGIN, 1, ROOT)
    # an attacker's key with the same name (and, worst case, the same key hash in the line) must fail
    forger = Signer.from_key(generate_key(ORIGIN)[0])
    sig = forger.sign(body.encode())
    forged = body + "\n" + f"— {ORIGIN} " + base64.b64encode(log_signer.key_hash.to_bytes(4, "big") + sig).decode()
    with pytest.raises(NoteError, match="invalid signature"):
        open_checkpoint(forged + "\n", log_signer.verifier_key)
    # forger's own line: unknown key hash, so no verifiable signature
    with pytest.raises(NoteError, match="no verifiable"):
        open_checkpoint(sign_note(body, forger), log_signer.verifier_key)


def test_changed_body_byte_is_rejected(log_signer):
    signed = sign_note(checkpoint_body(ORIGIN, 10, ROOT), log_signer)
    with pytest.raises(NoteError, match="invalid signature"):
        open_note(signed.replace("\n10\n", "\n11\n"), log_signer.verifier_key)


def test_wrong_key_name_or_hash_is_ignored_then_rejected(log_signer):
    body = checkpoint_body(ORIGIN, 10, ROOT)
    signed = sign_note(body, log_signer)
    renamed = signed.replace(f"— {ORIGIN} ", "— other.example/log ")
    with pytest.raises(NoteError, match="no verifiable"):
        open_note(renamed, log_signer.verifier_key)
    raw = base64.b64decode(signed.rsplit(" ", 1)[1])
    rehashed = body + "\n" + f"— {ORIGIN} " + base64.b64encode(b"\0\0\0\0" + raw[4:]).decode() + "\n"
    with pytest.raises(NoteError, match="no verifiable"):
        open_note(rehashed, log_signer.verifier_key)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "form"),
        ("PeterNeumann+c74f20a3", "form"),
        ("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "lowercase hex"),
        ("PeterNeumann+0xc74f20+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "lowercase hex"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T", "base64"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq_LDE4izWy10TW", "base64"),
        ("PeterNeumann+00000000+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "does not match"),
        ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "forbidden character"),
        ("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "non-empty"),
        (PETER_SKEY, "private"),
        ("PeterNeumann+c74f20a3+", "empty"),
    ],
)
def test_malformed_verifier_keys(key, message):
    with pytest.raises(NoteError, match=message):
        Verifier.from_key(key)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (PETER_VKEY, "PRIVATE"),
        ("PRIVATE+KEY+PeterNeumann+c74f20a3", "form"),
        ("PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", "does not match"),
        ("PRIVATE+KEY+PeterNeumann+c74f20a3+AoEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", "algorithm 0x02"),
        ("PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDE=", "32 bytes"),
    ],
)
def test_malformed_signer_keys(key, message):
    with pytest.raises(NoteError, match=message):
        Signer.from_key(key)


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\tb", "a\u00a0b", "a\u3000b", "a\x01b"])
def test_bad_key_names(name):
    with pytest.raises(NoteError):
        generate_key(name)


def test_ambiguous_verifiers_are_rejected():
    # two different keys under one (name, key hash) is a misconfiguration, not something to guess about
    other = Verifier.from_key(PETER_VKEY)
    # build a colliding verifier directly (a real collision would need a 2^32 search)
    colliding = Verifier.__new__(Verifier)
    colliding.name, colliding.alg, colliding.key_hash = other.name, 1, other.key_hash
    colliding.public_key = Verifier.from_key(ENOCH_VKEY).public_key
    colliding._public = Verifier.from_key(ENOCH_VKEY)._public
    with pytest.raises(NoteError, match="ambiguous key"):
        open_note(GO_TEXT + "\n" + PETER_SIG, [other, colliding])
    # the same key listed twice is fine
    assert open_note(GO_TEXT + "\n" + PETER_SIG, [PETER_VKEY, PETER_VKEY])[1]


def test_sign_note_rejects_bad_text(log_signer):
    with pytest.raises(NoteError, match="end with a newline"):
        sign_note("abc", log_signer)
    with pytest.raises(NoteError, match="control character"):
        sign_note("a\rb\n", log_signer)
    with pytest.raises(NoteError, match="at least one signer"):
        sign_note("abc\n")


@pytest.mark.parametrize(
    ("size", "message"),
    [
        ("01", "leading zeros"),
        ("00", "leading zeros"),
        ("-1", "decimal"),
        ("+1", "decimal"),
        (" 1", "decimal"),
        ("1 ", "decimal"),
        ("1.0", "decimal"),
        ("1_000", "decimal"),
        ("0x10", "decimal"),
        ("１２", "decimal"),  # fullwidth digits: int() would take them
        ("٣", "decimal"),  # Arabic-Indic digit
        (str(2**64), "exceeds"),
    ],
)
def test_checkpoint_bad_size(size, message):
    with pytest.raises(NoteError, match=message):
        parse_checkpoint(f"{ORIGIN}\n{size}\n{base64.b64encode(ROOT).decode()}\n")


@pytest.mark.parametrize(
    ("root", "message"),
    [
        (base64.b64encode(ROOT[:31]).decode(), "31 bytes"),
        (base64.b64encode(ROOT + b"\0").decode(), "33 bytes"),
        ("", "empty"),
        (base64.b64encode(ROOT).decode().rstrip("="), "base64"),
        (base64.urlsafe_b64encode(b"\xff" * 32).decode(), "base64"),
        (base64.b64encode(ROOT).decode()[:-2] + "B=", "canonical"),
        (ROOT.hex(), "bytes"),
    ],
)
def test_checkpoint_bad_root(root, message):
    with pytest.raises(NoteError, match=message):
        parse_checkpoint(f"{ORIGIN}\n5\n{root}\n")


def test_checkpoint_bad_structure():
    root = base64.b64encode(ROOT).decode()
    cases = {
        f"{ORIGIN}\n5\n": "need origin",
        f"{ORIGIN}\n": "need origin",
        "": "end with a newline",
        f"{ORIGIN}\n5\n{root}": "end with a newline",
        f"\n5\n{root}\n": "line 1 is empty",
        f"{ORIGIN}\n5\n{root}\n\n": "line 4 is empty",
        f"{ORIGIN}\n\n5\n{root}\n": "line 2 is empty",
        f"{ORIGIN}\n5\n{root}\next\n\n": "line 5 is empty",
        f"{ORIGIN}\r\n5\n{root}\n": "control character",
    }
    for body, message in cases.items():
        with pytest.raises(NoteError, match=message):
            parse_checkpoint(body)
    assert parse_checkpoint(f"{ORIGIN}\n5\n{root}\nа\n").extensions == ["а"]


def test_checkpoint_body_validates_its_input():
    with pytest.raises(NoteError, match="origin"):
        checkpoint_body("", 1, ROOT)
    with pytest.raises(NoteError, match="origin"):
        checkpoint_body("a\nb", 1, ROOT)
    with pytest.raises(NoteError, match="size"):
        checkpoint_body(ORIGIN, -1, ROOT)
    with pytest.raises(NoteError, match="size"):
        checkpoint_body(ORIGIN, True, ROOT)
    with pytest.raises(NoteError, match="32 bytes"):
        checkpoint_body(ORIGIN, 1, ROOT[:16])
    with pytest.raises(NoteError, match="extension"):
        checkpoint_body(ORIGIN, 1, ROOT, [""])


def test_signed_note_with_extra_blank_line_in_checkpoint_is_rejected(log_signer):
    # a blank line inside the signed text is legal for notes but not for checkpoints
    signed = sign_note(f"{ORIGIN}\n3\n\n{base64.b64encode(ROOT).decode()}\n", log_signer)
    assert open_note(signed, log_signer.verifier_key)
    with pytest.raises(NoteError, match="line 3 is empty"):
        open_checkpoint(signed, log_signer.verifier_key)


def test_cosignature_with_changed_timestamp_is_rejected(witness):
    body = checkpoint_body(ORIGIN, 7, ROOT)
    line = cosign(body, witness, 1_700_000_000)
    prefix, b64 = line.rsplit(" ", 1)
    raw = bytearray(base64.b64decode(b64))
    raw[11] ^= 1
    with pytest.raises(NoteError, match="invalid cosignature"):
        verify_cosignature(body, prefix + " " + base64.b64encode(bytes(raw)).decode(), witness.cosignature_verifier_key)


def test_cosignature_over_another_checkpoint_is_rejected(witness):
    line = cosign(checkpoint_body(ORIGIN, 7, ROOT), witness, 1_700_000_000)
    for other in (checkpoint_body(ORIGIN, 8, ROOT), checkpoint_body(ORIGIN + "2", 7, ROOT)):
        with pytest.raises(NoteError, match="invalid cosignature"):
            verify_cosignature(other, line, witness.cosignature_verifier_key)


def test_cosignature_by_another_witness_or_wrong_format_is_rejected(log_signer, witness):
    body = checkpoint_body(ORIGIN, 7, ROOT)
    line = cosign(body, witness, 1_700_000_000)
    with pytest.raises(NoteError, match="not by the expected witness"):
        verify_cosignature(body, line, log_signer.cosignature_verifier_key)
    impostor = Signer.from_key(generate_key(witness.name)[0])
    with pytest.raises(NoteError, match="key hash"):
        verify_cosignature(body, line, impostor.cosignature_verifier_key)
    # an ordinary 0x01 note signature is not a cosignature (hash computed with 0x01; 64 bytes, no timestamp)
    plain = sign_note(body, witness).split("\n")[-2]
    with pytest.raises(NoteError, match="key hash"):
        verify_cosignature(body, plain, witness.cosignature_verifier_key)
    forged_len = (
        f"— {witness.name} " + base64.b64encode(witness.cosignature_key_hash.to_bytes(4, "big") + b"\0" * 64).decode()
    )
    with pytest.raises(NoteError, match="8 \\+ 64 bytes"):
        verify_cosignature(body, forged_len, witness.cosignature_verifier_key)
    with pytest.raises(NoteError, match="single line"):
        verify_cosignature(body, line + "\n" + line, witness.cosignature_verifier_key)
    with pytest.raises(NoteError, match="em dash"):
        verify_cosignature(body, line.replace("—", "-"), witness.cosignature_verifier_key)
    with pytest.raises(NoteError, match="malformed checkpoint"):
        verify_cosignature("not a checkpoint\n", line, witness.cosignature_verifier_key)


def test_cosignature_timestamp_bounds(witness):
    body = checkpoint_body(ORIGIN, 7, ROOT)
    assert verify_cosignature(body, cosign(body, witness, 0), witness.verifier_key) == 0
    top = 2**63 - 1
    assert verify_cosignature(body, cosign(body, witness, top), witness.verifier_key) == top
    for bad in (-1, 2**63, 1.5, True):
        with pytest.raises(NoteError, match="timestamp"):
            cosign(body, witness, bad)
    # a line carrying a timestamp >= 2^63 is rejected even though its bytes are well-formed
    message = b"cosignature/v1\ntime %d\n" % 2**63 + body.encode()
    raw = witness.cosignature_key_hash.to_bytes(4, "big") + (2**63).to_bytes(8, "big") + witness.sign(message)
    with pytest.raises(NoteError, match="exceeds"):
        verify_cosignature(body, f"— {witness.name} {base64.b64encode(raw).decode()}", witness.verifier_key)
