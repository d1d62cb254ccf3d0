"""The platform's Ed25519 signing keys: audit checkpoints and bid receipts are signed with them.

Keys live in one directory (`<key id>.pem`, the current one named in `current`): `ETENDER_SIGNING_KEYS` when
set, the directory every process of a deployment is given (a shared secret volume), else `keys/signing` under
the data directory. They are created on first use and can be rotated; a rotated key stays on disk so that
everything it signed can still be checked. A process that holds none of the keys that signed the log must not
make one of its own (identity_problem: `etender serve` and `etender worker` refuse to start).

The key id and the verifier key follow the C2SP signed-note format: key id = first 4 bytes of
SHA-256(name || 0x0A || 0x01 || public key), verifier key = "<name>+<key id hex>+<base64(0x01 || public
key)>"."""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519_ALG = 0x01  # signed-note signature type for Ed25519


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519_ALG]) + public).digest()[:4]


@dataclass(frozen=True)
class VerifierKey:
    name: str
    public: bytes  # the raw 32-byte Ed25519 public key

    @property
    def id(self) -> bytes:
        return key_id(self.name, self.public)

    def encode(self) -> str:
        return f"{self.name}+{self.id.hex()}+{base64.b64encode(bytes([ED25519_ALG]) + self.public).decode()}"

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        """Read a C2SP verifier key; ValueError says what is wrong with it."""
        name, sep, rest = text.strip().partition("+")
        hex_id, sep2, b64 = rest.partition("+")
        if not (sep and sep2 and name and hex_id and b64):
            raise ValueError("a verifier key reads <name>+<key id hex>+<base64 key>")
        raw = base64.b64decode(b64, validate=True)
        if len(raw) != 33 or raw[0] != ED25519_ALG:
            raise ValueError("the verifier key is not an Ed25519 key")
        key = cls(name, raw[1:])
        if key.id.hex() != hex_id.lower():
            raise ValueError("the verifier key's id does not match its name and key")
        return key

    def verify(self, signature: bytes, message: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True)
class SigningKey:
    name: str
    private: Ed25519PrivateKey

    @property
    def verifier(self) -> VerifierKey:
        return VerifierKey(self.name, self.private.public_key().public_bytes_raw())

    @property
    def id(self) -> bytes:
        return self.verifier.id

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)


def key_directory(data_dir: Path) -> Path:
    if shared := os.environ.get("ETENDER_SIGNING_KEYS"):
        return Path(shared)
    return data_dir / "keys" / "signing"


_dir = key_directory


def _write_key(directory: Path, private: Ed25519PrivateKey, name: str) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    kid = key_id(name, private.public_key().public_bytes_raw()).hex()
    path = directory / f"{kid}.pem"
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return kid


def _point_current(directory: Path, kid: str) -> None:
    tmp = directory / f"current.{os.getpid()}"
    tmp.write_text(kid)
    tmp.replace(directory / "current")  # atomic: readers see the old or the new id, never half of one


def _load(directory: Path, kid: str, name: str) -> SigningKey:
    private = serialization.load_pem_private_key((directory / f"{kid}.pem").read_bytes(), password=None)
    if not isinstance(private, Ed25519PrivateKey):
        raise ValueError(f"signing key {kid} is not an Ed25519 key")
    return SigningKey(name, private)


def signing_key(data_dir: Path, name: str) -> SigningKey:
    """The current signing key, created on first use. ETENDER_SIGNING_KEY (a PEM file path) overrides the
    data directory, for several web processes that do not share one."""
    if override := os.environ.get("ETENDER_SIGNING_KEY"):
        private = serialization.load_pem_private_key(Path(override).read_bytes(), password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise ValueError("ETENDER_SIGNING_KEY is not an Ed25519 private key")
        return SigningKey(name, private)
    directory = _dir(data_dir)
    current = directory / "current"
    if not current.exists():
        try:
            kid = _write_key(directory, Ed25519PrivateKey.generate(), name)
        except FileExistsError:  # pragma: no cover - two processes on first start: 2^-32
            pass
        else:
            if not current.exists():
                _point_current(directory, kid)
    return _load(directory, current.read_text().strip(), name)


def rotate(data_dir: Path, name: str) -> SigningKey:
    """A new current key; the old ones stay for verifying what they signed."""
    directory = _dir(data_dir)
    kid = _write_key(directory, Ed25519PrivateKey.generate(), name)
    _point_current(directory, kid)
    return _load(directory, kid, name)


def held_keys(data_dir: Path, name: str) -> list[VerifierKey]:
    """The keys this process holds, without creating one: the ETENDER_SIGNING_KEY file, then the directory's,
    the current one first."""
    keys: list[VerifierKey] = []
    if override := os.environ.get("ETENDER_SIGNING_KEY"):
        if Path(override).exists():
            keys.append(signing_key(data_dir, name).verifier)
    directory = _dir(data_dir)
    current = directory / "current"
    if current.exists():
        kid = current.read_text().strip()
        if (directory / f"{kid}.pem").exists():
            keys.append(_load(directory, kid, name).verifier)
    for path in sorted(directory.glob("*.pem")) if directory.exists() else []:
        key = _load(directory, path.stem, name).verifier
        if key not in keys:
            keys.append(key)
    return keys


def identity_problem(held: list[VerifierKey], signed_by: str | None, where: Path) -> str | None:
    """Why this process must not sign for the platform, or None. `signed_by` is the key id (hex) of the log's
    latest checkpoint (None: nothing signed yet, a first start may make the first key). A process holding
    another key would sign receipts and checkpoints that no verifier of the platform's published key accepts,
    and a checkpoint under a foreign key reads as an altered log (issue 17)."""
    if signed_by is None or signed_by in {k.id.hex() for k in held}:
        return None
    mine = ", ".join(k.id.hex() for k in held) or "none"
    return (
        f"the audit log's latest checkpoint was signed with key {signed_by}, which this process does not "
        f"hold (keys in {where}: {mine}). Every process of a deployment needs the platform's signing keys: "
        "set ETENDER_SIGNING_KEYS to the directory they share (docs/deploy.md, 'One platform identity'), or "
        "ETENDER_DATA to the data directory that holds them."
    )


def verifier_keys(data_dir: Path, name: str) -> list[VerifierKey]:
    """Every key this installation has signed with, current first."""
    directory = _dir(data_dir)
    current = signing_key(data_dir, name)
    keys = [current.verifier]
    for path in sorted(directory.glob("*.pem")) if directory.exists() else []:
        key = _load(directory, path.stem, name).verifier
        if key != keys[0]:
            keys.append(key)
    return keys
