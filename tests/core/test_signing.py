from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from core import signing


def test_key_is_created_once_and_kept(tmp_path):
    first = signing.signing_key(tmp_path, "example.org/log")
    again = signing.signing_key(tmp_path, "example.org/log")
    assert first.verifier == again.verifier
    assert (tmp_path / "keys" / "signing" / f"{first.id.hex()}.pem").stat().st_mode & 0o777 == 0o600


def test_signature_verifies_and_fails_on_change(tmp_path):
    key = signing.signing_key(tmp_path, "example.org/log")
    sig = key.sign(b"message")
    assert key.verifier.verify(sig, b"message")
    assert not key.verifier.verify(sig, b"messagf")
    assert not key.verifier.verify(b"\x00" * 64, b"message")


def test_verifier_key_round_trips_and_rejects_a_wrong_id():
    key = signing.SigningKey("example.org/log", Ed25519PrivateKey.generate())
    text = key.verifier.encode()
    assert signing.VerifierKey.parse(text) == key.verifier
    name, kid, b64 = text.split("+", 2)
    wrong = f"{name}+{'00000000' if kid != '00000000' else '11111111'}+{b64}"
    try:
        signing.VerifierKey.parse(wrong)
    except ValueError as e:
        assert "id" in str(e)
    else:
        raise AssertionError("a verifier key with a wrong id was accepted")


def test_c2sp_key_id_known_answer():
    # From the C2SP signed-note spec's example: the verifier key
    # PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW
    key = signing.VerifierKey.parse("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
    assert key.id.hex() == "c74f20a3"


def test_rotation_keeps_the_old_key_for_verification(tmp_path):
    old = signing.signing_key(tmp_path, "example.org/log")
    new = signing.rotate(tmp_path, "example.org/log")
    assert new.verifier != old.verifier
    assert signing.signing_key(tmp_path, "example.org/log").verifier == new.verifier
    keys = signing.verifier_keys(tmp_path, "example.org/log")
    assert keys[0] == new.verifier and old.verifier in keys
