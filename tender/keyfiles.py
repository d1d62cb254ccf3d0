"""Passphrase-protected key files for key holders and bidders: an X25519 private key under
PBKDF2-HMAC-SHA256 and AES-256-GCM, in JSON that WebCrypto and Python both read. The private key never
reaches the server; only the public key and its id are registered. Specified in docs/sealed-bid-format.md."""

from __future__ import annotations

import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from core import clock
from tender.sealing import b64u, key_id, public_bytes, unb64u

FORMAT = "etender-key-file"
VERSION = 1
ITERATIONS = 600_000  # OWASP 2023 minimum for PBKDF2-HMAC-SHA256
MIN_PASSPHRASE = 8


class KeyFileError(ValueError):
    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)


def _aad(kid: str) -> bytes:
    return f"etender-key-file/v1;key_id={kid}".encode()


def _derive(passphrase: str, salt: bytes, iterations: int) -> bytes:
    return PBKDF2HMAC(hashes.SHA256(), 32, salt, iterations).derive(passphrase.encode("utf-8"))


def protect(
    private_key: X25519PrivateKey, passphrase: str, label: str = "", iterations: int = ITERATIONS
) -> dict[str, Any]:
    if len(passphrase) < MIN_PASSPHRASE:
        raise KeyFileError("passphrase_short", f"the passphrase needs at least {MIN_PASSPHRASE} characters")
    if iterations < ITERATIONS:
        raise KeyFileError("iterations_low", f"at least {ITERATIONS} PBKDF2 iterations")
    public = public_bytes(private_key)
    kid = key_id(public)
    salt, nonce = os.urandom(16), os.urandom(12)
    ciphertext = AESGCM(_derive(passphrase, salt, iterations)).encrypt(
        nonce, private_key.private_bytes_raw(), _aad(kid)
    )
    return {
        "format": FORMAT,
        "version": VERSION,
        "algorithm": "X25519",
        "key_id": kid,
        "public_key": b64u(public),
        "label": label,
        "created_at": clock.now().isoformat(),
        "kdf": {"name": "PBKDF2-HMAC-SHA256", "iterations": iterations, "salt": b64u(salt)},
        "cipher": {"name": "AES-256-GCM", "nonce": b64u(nonce), "ciphertext": b64u(ciphertext)},
    }


def new_key_file(passphrase: str, label: str = "") -> tuple[X25519PrivateKey, dict[str, Any]]:
    private = X25519PrivateKey.generate()
    return private, protect(private, passphrase, label)


def load(data: bytes | str | dict[str, Any], passphrase: str) -> X25519PrivateKey:
    """The private key in a key file; KeyFileError says whether the file or the passphrase is wrong."""
    try:
        doc = data if isinstance(data, dict) else json.loads(data)
        if doc.get("format") != FORMAT or doc.get("version") != VERSION or doc.get("algorithm") != "X25519":
            raise ValueError("format")
        kdf, cipher = doc["kdf"], doc["cipher"]
        if (
            kdf["name"] != "PBKDF2-HMAC-SHA256"
            or cipher["name"] != "AES-256-GCM"
            or int(kdf["iterations"]) < ITERATIONS
        ):
            raise ValueError("algorithms")
        salt, nonce, ciphertext = unb64u(kdf["salt"]), unb64u(cipher["nonce"]), unb64u(cipher["ciphertext"])
        public, kid = unb64u(doc["public_key"]), doc["key_id"]
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise KeyFileError("key_file_invalid", "this is not an etender key file (version 1)") from e
    try:
        raw = AESGCM(_derive(passphrase, salt, int(kdf["iterations"]))).decrypt(nonce, ciphertext, _aad(kid))
    except InvalidTag as e:
        raise KeyFileError("passphrase_wrong", "the passphrase is wrong, or the key file was altered") from e
    private = X25519PrivateKey.from_private_bytes(raw)
    if public_bytes(private) != public or key_id(public) != kid:
        raise KeyFileError("key_file_invalid", "the key file's public key does not match its private key")
    return private


def public_key_of(data: bytes | str | dict[str, Any]) -> tuple[str, bytes]:
    """(key id, raw public key) of a key file, without the passphrase."""
    try:
        doc = data if isinstance(data, dict) else json.loads(data)
        public = unb64u(doc["public_key"])
        if doc.get("format") != FORMAT or key_id(public) != doc["key_id"]:
            raise ValueError("format")
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise KeyFileError("key_file_invalid", "this is not an etender key file (version 1)") from e
    return doc["key_id"], public
