"""The sealed-bid format, version 1: sealing on the bidder's side, the key-free structural check the
server runs on upload (E26), unwrapping by a key holder, combining the parts, and streaming decryption.

Pure: no database, no web. The byte-exact specification is docs/sealed-bid-format.md; this module is
its reference implementation and web/static/js/etender-crypto.js the browser's.

Dealer-free k-of-n (design.md "Sealed bids"): for every k-subset of the n holders the 32-byte data key
is split into k XOR parts (k+1 under `quorum+bidder`, the bidder being the last party), each part
wrapped with HPKE (RFC 9180, base mode) to its party's X25519 key. No tender private key ever exists:
fewer than k holders hold nothing but random-looking parts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import itertools
import json
import math
import os
import struct
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite

from core.errors import N_, ValidationFailed
from tender import bidcontent
from tender.rules import OpeningPolicy

MAGIC = b"ETSEALED"
VERSION = 1
FORMAT = "etender-sealed-bid"
CONTAINER_FORMAT = bidcontent.CONTAINER_FORMAT
HPKE_SUITE_NAME = "DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM"
SUITE = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_256_GCM)
PREAMBLE_FIXED = struct.Struct(">8sHI")  # magic, version, header length
KEY_SIZE = 32
TAG_SIZE = 16
NONCE_PREFIX_SIZE = 7  # STREAM: 7-byte prefix || 4-byte counter || 1-byte last flag = 12-byte nonce
WRAPPED_SIZE = 32 + KEY_SIZE + TAG_SIZE  # HPKE enc || AES-256-GCM(part)
DEFAULT_CHUNK_SIZE = 64 * 1024
MIN_CHUNK_SIZE = 1024
MAX_CHUNK_SIZE = 16 * 1024 * 1024
MAX_HEADER_SIZE = 1024 * 1024
MAX_MANIFEST_SIZE = bidcontent.MAX_MANIFEST_SIZE
POLICIES = tuple(OpeningPolicy)
FILE_ROLES = bidcontent.FILE_ROLES
MAX_PRICE_FEN = bidcontent.MAX_PRICE_FEN
COMMITMENT_LABEL = b"etender-sealed-bid/v1 part commitment\x00"
KEY_CHECK_LABEL = b"etender-sealed-bid/v1 data key check\x00"


# ---------------------------------------------------------------- errors


class SealedBidInvalid(ValidationFailed):
    """A file that is not a well-formed sealed bid for this tender and lot (E26). The first problem's code
    says which check failed."""

    @property
    def code(self) -> str:
        return self.problems[0].code


def _invalid(code: str, message: str, **params: Any) -> SealedBidInvalid:
    return SealedBidInvalid.one(code, message, "bid", rule="E26", **params)  # type: ignore[return-value]


class DecryptionFailed(Exception):
    """Opening failed with a precise reason: `code` is stable, `chunk` the 0-based chunk it concerns."""

    def __init__(self, code: str, message: str, chunk: int | None = None):
        self.code, self.chunk = code, chunk
        super().__init__(f"{code}: {message}" + (f" (chunk {chunk})" if chunk is not None else ""))


class WrongKey(Exception):
    """A private key or a key part that does not belong where it was offered."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(f"{code}: {message}")


# ---------------------------------------------------------------- encodings


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    if not isinstance(text, str) or "=" in text:
        raise ValueError("base64url text without padding expected")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the bytes that are hashed and signed."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def key_id(public_key: bytes) -> str:
    """A party's key id: the first 16 bytes of SHA-256 of its raw X25519 public key, in hex."""
    return hashlib.sha256(public_key).digest()[:16].hex()


def public_bytes(private_key: X25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes_raw()


def check_public_key(raw: bytes) -> X25519PublicKey:
    """A usable X25519 public key (32 bytes, not a low-order point); ValueError otherwise."""
    if len(raw) != 32:
        raise ValueError("an X25519 public key is 32 bytes")
    public = X25519PublicKey.from_public_bytes(raw)
    X25519PrivateKey.generate().exchange(public)  # raises ValueError for a low-order point (all-zero secret)
    return public


# ---------------------------------------------------------------- the key bundle


@dataclass(frozen=True)
class Holder:
    index: int
    key_id: str
    public_key: bytes
    name: str = ""


@dataclass(frozen=True)
class KeyBundle:
    """What the bidder seals to: the tender's holders' public keys, k, the policy, the tender and lots."""

    tender_id: int
    lot_ids: tuple[int, ...]
    k: int
    policy: str
    holders: tuple[Holder, ...]
    reference: str = ""

    @property
    def n(self) -> int:
        return len(self.holders)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": "etender-key-bundle",
            "version": VERSION,
            "tender_id": self.tender_id,
            "reference": self.reference,
            "lots": list(self.lot_ids),
            "k": self.k,
            "policy": self.policy,
            "hpke": HPKE_SUITE_NAME,
            "holders": [
                {"index": h.index, "name": h.name, "key_id": h.key_id, "public_key": b64u(h.public_key)}
                for h in self.holders
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> KeyBundle:
        """Read a bundle (or a signed bundle document's "bundle"); ValueError says what is wrong."""
        if "bundle" in data and isinstance(data["bundle"], Mapping):
            data = data["bundle"]
        if data.get("format") != "etender-key-bundle" or data.get("version") != VERSION:
            raise ValueError("not an etender key bundle of version 1")
        holders = []
        for i, h in enumerate(data["holders"]):
            raw = unb64u(h["public_key"])
            check_public_key(raw)
            if h["index"] != i or h["key_id"] != key_id(raw):
                raise ValueError(f"holder {i}: index or key id does not match its public key")
            holders.append(Holder(i, h["key_id"], raw, str(h.get("name", ""))))
        bundle = cls(
            int(data["tender_id"]),
            tuple(int(x) for x in data["lots"]),
            int(data["k"]),
            str(data["policy"]),
            tuple(holders),
            str(data.get("reference", "")),
        )
        if bundle.policy not in POLICIES or not 1 <= bundle.k <= bundle.n:
            raise ValueError("the bundle's threshold or policy is invalid")
        return bundle


def subsets(n: int, k: int) -> list[tuple[int, ...]]:
    """Every k-subset of holder indices, in lexicographic order (Python's itertools.combinations order)."""
    return list(itertools.combinations(range(n), k))


def part_info(
    tender_id: int,
    lot_id: int,
    bid_id: str,
    subset: Sequence[int],
    position: int,
    parties: int,
    recipient: str,
) -> bytes:
    """HPKE `info` for one wrapped part: binds format version, tender, lot, bid, subset, position and
    recipient."""
    return (
        f"etender-sealed-bid/v1;tender={tender_id};lot={lot_id};bid={bid_id};"
        f"subset={','.join(str(i) for i in subset)};position={position};of={parties};recipient={recipient}"
    ).encode()


def part_commitment(info: bytes, part: bytes) -> str:
    return hashlib.sha256(COMMITMENT_LABEL + info + part).hexdigest()


def key_check(data_key: bytes) -> str:
    return hashlib.sha256(KEY_CHECK_LABEL + data_key).hexdigest()


def chunk_nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + struct.pack(">I", counter) + (b"\x01" if last else b"\x00")


def chunk_count(plaintext_size: int, chunk_size: int) -> int:
    return max(1, math.ceil(plaintext_size / chunk_size))


def ciphertext_size(plaintext_size: int, chunk_size: int) -> int:
    return plaintext_size + TAG_SIZE * chunk_count(plaintext_size, chunk_size)


# ---------------------------------------------------------------- the header


@dataclass(frozen=True)
class PartSlot:
    subset_index: int
    subset: tuple[int, ...]
    position: int
    recipient: str  # a holder's key id, or the bidder's
    party: int | None  # the holder's index; None for the bidder
    wrapped: bytes
    commitment: str
    info: bytes


@dataclass(frozen=True)
class Header:
    raw: dict[str, Any]
    preamble: bytes  # magic || version || header length || header JSON: every chunk's AAD is its SHA-256

    @property
    def preamble_hash(self) -> bytes:
        return hashlib.sha256(self.preamble).digest()

    @property
    def tender_id(self) -> int:
        return int(self.raw["tender_id"])

    @property
    def lot_id(self) -> int:
        return int(self.raw["lot_id"])

    @property
    def bid_id(self) -> str:
        return str(self.raw["bid_id"])

    @property
    def k(self) -> int:
        return int(self.raw["k"])

    @property
    def policy(self) -> str:
        return str(self.raw["policy"])

    @property
    def holder_key_ids(self) -> list[str]:
        return list(self.raw["holders"])

    @property
    def bidder_key_id(self) -> str | None:
        bidder = self.raw.get("bidder_key")
        return str(bidder["key_id"]) if bidder else None

    @property
    def chunk_size(self) -> int:
        return int(self.raw["chunk_size"])

    @property
    def plaintext_size(self) -> int:
        return int(self.raw["plaintext_size"])

    @property
    def nonce_prefix(self) -> bytes:
        return bytes.fromhex(self.raw["nonce_prefix"])

    @property
    def size(self) -> int:
        """The whole file's size in bytes."""
        return len(self.preamble) + ciphertext_size(self.plaintext_size, self.chunk_size)

    def slots(self) -> list[PartSlot]:
        out = []
        holders = self.holder_key_ids
        for s, entry in enumerate(self.raw["parts"]):
            subset = tuple(entry["subset"])
            parties = len(entry["wrapped"])
            for p, (wrapped, commitment) in enumerate(
                zip(entry["wrapped"], entry["commitments"], strict=True)
            ):
                party = subset[p] if p < len(subset) else None
                recipient = holders[party] if party is not None else str(self.bidder_key_id)
                info = part_info(self.tender_id, self.lot_id, self.bid_id, subset, p, parties, recipient)
                out.append(PartSlot(s, subset, p, recipient, party, unb64u(wrapped), commitment, info))
        return out


def _read_exact(stream: BinaryIO, size: int) -> bytes:
    out = bytearray()
    while len(out) < size:
        got = stream.read(size - len(out))
        if not got:
            break
        out.extend(got)
    return bytes(out)


def read_header(stream: BinaryIO) -> Header:
    """The preamble and header, checked for form only (no tender, no key). The stream is left at the first
    chunk."""
    fixed = _read_exact(stream, PREAMBLE_FIXED.size)
    if len(fixed) < PREAMBLE_FIXED.size or not fixed.startswith(MAGIC):
        raise _invalid(
            "sealed_not_sealed",
            N_(
                "This file is not a sealed bid. Seal your bid with the platform's sealing page or `etender "
                "bid seal` and upload the .sealed file it makes (E26)."
            ),
        )
    _, version, length = PREAMBLE_FIXED.unpack(fixed)
    if version != VERSION:
        raise _invalid(
            "sealed_version",
            N_(
                "This sealed bid uses format version %(version)s; the platform reads version 1. Seal "
                "it again with the current tool."
            ),
            version=version,
        )
    if not 2 <= length <= MAX_HEADER_SIZE:
        raise _invalid(
            "sealed_header_invalid",
            N_("The sealed bid's header is damaged (%(what)s). Seal the bid again."),
            what="header length",
        )
    body = _read_exact(stream, length)
    if len(body) < length:
        raise _invalid(
            "sealed_truncated",
            N_("The sealed bid is incomplete: the file ends inside its header. Upload the whole file."),
        )
    try:
        raw = json.loads(body.decode("utf-8"))
        _check_header_form(raw)
    except (ValueError, KeyError, TypeError) as e:
        raise _invalid(
            "sealed_header_invalid",
            N_("The sealed bid's header is damaged (%(what)s). Seal the bid again."),
            what=str(e),
        ) from e
    return Header(raw, fixed + body)


def _check_header_form(raw: Any) -> None:
    if not isinstance(raw, dict) or raw.get("format") != FORMAT or raw.get("version") != VERSION:
        raise ValueError("format or version field")
    for name in ("tender_id", "lot_id", "k", "chunk_size", "plaintext_size"):
        if not isinstance(raw.get(name), int) or isinstance(raw.get(name), bool) or raw[name] < 0:
            raise ValueError(f"{name} must be a non-negative integer")
    if raw.get("hpke") != HPKE_SUITE_NAME:
        raise ValueError("hpke suite")
    if not isinstance(raw.get("bid_id"), str) or len(bytes.fromhex(raw["bid_id"])) != 16:
        raise ValueError("bid_id must be 16 bytes in hex")
    if len(bytes.fromhex(raw.get("nonce_prefix", ""))) != NONCE_PREFIX_SIZE:
        raise ValueError("nonce_prefix must be 7 bytes in hex")
    if not MIN_CHUNK_SIZE <= raw["chunk_size"] <= MAX_CHUNK_SIZE:
        raise ValueError("chunk_size out of range")
    if raw["plaintext_size"] < 4:
        raise ValueError("plaintext_size too small")
    if len(bytes.fromhex(raw.get("key_check", ""))) != 32:
        raise ValueError("key_check must be 32 bytes in hex")
    if not isinstance(raw.get("holders"), list) or not all(isinstance(h, str) for h in raw["holders"]):
        raise ValueError("holders must be a list of key ids")
    bidder = raw.get("bidder_key")
    if bidder is not None:
        raw_key = unb64u(bidder["public_key"])
        if bidder["key_id"] != key_id(raw_key):
            raise ValueError("bidder key id does not match its key")
    if not isinstance(raw.get("parts"), list):
        raise ValueError("parts must be a list")
    for entry in raw["parts"]:
        if (
            not isinstance(entry.get("subset"), list)
            or not isinstance(entry.get("wrapped"), list)
            or not isinstance(entry.get("commitments"), list)
        ):
            raise ValueError("a parts entry needs subset, wrapped and commitments lists")
        if len(entry["wrapped"]) != len(entry["commitments"]):
            raise ValueError("wrapped and commitments differ in length")
        for w in entry["wrapped"]:
            if len(unb64u(w)) != WRAPPED_SIZE:
                raise ValueError("a wrapped part is not 80 bytes")


def inspect(
    stream: BinaryIO, bundle: KeyBundle, lot_id: int | None = None, total_size: int | None = None
) -> Header:
    """The structural check the server runs without any key (E26): this is a sealed bid of this format, for
    this tender (and lot), to exactly the published holders' keys with the published k and policy, with the
    right number of parts and a size that matches its chunk framing. `total_size` is the file's size; when
    it is not given the rest of the stream is read and counted."""
    header = read_header(stream)
    raw = header.raw
    if header.tender_id != bundle.tender_id:
        raise _invalid(
            "sealed_wrong_tender",
            N_(
                "This sealed bid was made for another tender (number %(found)s). Seal your bid "
                "with this tender's key bundle."
            ),
            found=header.tender_id,
        )
    if header.lot_id not in bundle.lot_ids or (lot_id is not None and header.lot_id != lot_id):
        raise _invalid(
            "sealed_wrong_lot",
            N_("This sealed bid was made for another lot. Seal it again for the lot you are uploading to."),
        )
    if header.holder_key_ids != [h.key_id for h in bundle.holders]:
        raise _invalid(
            "sealed_wrong_keys",
            N_(
                "This sealed bid is not sealed to this tender's published key holders. Download the "
                "tender's key bundle again and seal the bid with it."
            ),
        )
    if header.k != bundle.k:
        raise _invalid(
            "sealed_wrong_threshold",
            N_(
                "This sealed bid needs %(found)s key holders to open but the tender requires %(expected)s. "
                "Seal it again with the tender's key bundle."
            ),
            found=header.k,
            expected=bundle.k,
        )
    if header.policy != bundle.policy:
        raise _invalid(
            "sealed_wrong_policy",
            N_(
                "This sealed bid uses the opening policy %(found)s but the tender's is %(expected)s. Seal "
                "it again with the tender's key bundle."
            ),
            found=header.policy,
            expected=bundle.policy,
        )
    if (header.policy == OpeningPolicy.quorum_bidder) != (raw.get("bidder_key") is not None):
        raise _invalid(
            "sealed_bidder_key",
            N_(
                "Under this tender's opening policy the bid must be sealed with your own bidder key as "
                "well (E30). Seal it again with your bidder key."
            ),
        )
    expected_subsets = subsets(bundle.n, bundle.k)
    parties = bundle.k + (1 if bundle.policy == OpeningPolicy.quorum_bidder else 0)
    entries = raw["parts"]
    count = sum(len(e["wrapped"]) for e in entries)
    if [tuple(e["subset"]) for e in entries] != expected_subsets or any(
        len(e["wrapped"]) != parties for e in entries
    ):
        raise _invalid(
            "sealed_part_count",
            N_(
                "The sealed bid's key parts are incomplete: it holds %(found)s parts where %(expected)s "
                "are needed. Seal the bid again."
            ),
            found=count,
            expected=len(expected_subsets) * parties,
        )
    if total_size is None:
        total_size = len(header.preamble)
        while chunk := stream.read(1 << 20):
            total_size += len(chunk)
    if total_size != header.size:
        raise _invalid(
            "sealed_size_mismatch",
            N_(
                "The sealed bid is %(found)s bytes but its header announces %(expected)s: the file is "
                "truncated or has extra data. Upload the complete file again."
            ),
            found=total_size,
            expected=header.size,
        )
    return header


# ---------------------------------------------------------------- the bid's content


@dataclass
class BidFile:
    role: str  # qualification | technical | commercial | other
    name: str
    media_type: str
    size: int
    stream: BinaryIO


def check_price_form(form: Mapping[str, Any]) -> dict[str, Any]:
    """The structured price form the opening record reads, normalised; bidcontent.ContentInvalid (a
    ValueError) names the broken rule."""
    return bidcontent.check_price_form(form)


def manifest_bytes(files: Sequence[BidFile], price_form: Mapping[str, Any]) -> bytes:
    """u32 length || the manifest, after the content rules the opening applies (tender/bidcontent.py): a
    sealer refuses exactly what the opening would revoke."""
    manifest = bidcontent.check_manifest(
        {
            "format": CONTAINER_FORMAT,
            "version": VERSION,
            "price_form": price_form,
            "files": [
                {"role": f.role, "name": f.name, "media_type": f.media_type, "size": f.size} for f in files
            ],
        }
    )
    body = bidcontent.serialise(manifest)
    return struct.pack(">I", len(body)) + body


# ---------------------------------------------------------------- sealing


def _rechunk(pieces: Iterable[bytes], size: int) -> Iterator[bytes]:
    buf = bytearray()
    for piece in pieces:
        buf.extend(piece)
        while len(buf) >= size:
            yield bytes(buf[:size])
            del buf[:size]
    if buf:
        yield bytes(buf)


def _file_pieces(files: Sequence[BidFile]) -> Iterator[bytes]:
    for f in files:
        left = f.size
        while left:
            piece = f.stream.read(min(left, 1 << 20))
            if not piece:
                raise ValueError(f"{f.name} is shorter than its announced {f.size} bytes")
            left -= len(piece)
            yield piece


def wrap_parts(
    data_key: bytes,
    tender_id: int,
    lot_id: int,
    bid_id: str,
    k: int,
    holder_keys: Sequence[bytes],
    bidder_key: bytes | None,
    rng: Callable[[int], bytes] = os.urandom,
) -> list[dict[str, Any]]:
    holder_ids = [key_id(p) for p in holder_keys]
    entries = []
    for subset in subsets(len(holder_keys), k):
        recipients = [(holder_ids[i], holder_keys[i]) for i in subset]
        if bidder_key is not None:
            recipients.append((key_id(bidder_key), bidder_key))
        parts = [rng(KEY_SIZE) for _ in recipients[:-1]]
        last = bytearray(data_key)
        for p in parts:
            last = bytearray(a ^ b for a, b in zip(last, p, strict=True))
        parts.append(bytes(last))
        wrapped, commitments = [], []
        for position, ((rid, public), part) in enumerate(zip(recipients, parts, strict=True)):
            info = part_info(tender_id, lot_id, bid_id, subset, position, len(recipients), rid)
            wrapped.append(b64u(SUITE.encrypt(part, X25519PublicKey.from_public_bytes(public), info=info)))
            commitments.append(part_commitment(info, part))
        entries.append({"subset": list(subset), "wrapped": wrapped, "commitments": commitments})
    return entries


def seal(
    bundle: KeyBundle,
    lot_id: int,
    files: Sequence[BidFile],
    price_form: Mapping[str, Any],
    out: BinaryIO,
    *,
    bidder_public_key: bytes | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    rng: Callable[[int], bytes] = os.urandom,
) -> Header:
    """Seal the files and price form for `lot_id` of the bundle's tender, writing the sealed bid to `out`
    chunk by chunk (memory stays at one chunk whatever the files' sizes)."""
    if lot_id not in bundle.lot_ids:
        raise ValueError(f"lot {lot_id} is not a lot of tender {bundle.tender_id}")
    if (bundle.policy == OpeningPolicy.quorum_bidder) != (bidder_public_key is not None):
        raise ValueError("the quorum+bidder policy needs the bidder's public key, and only it does")
    if bidder_public_key is not None:
        check_public_key(bidder_public_key)
    if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError("chunk size out of range")
    prefix = manifest_bytes(files, price_form)
    plaintext_size = len(prefix) + sum(f.size for f in files)
    data_key, bid_id, nonce_prefix = rng(KEY_SIZE), rng(16).hex(), rng(NONCE_PREFIX_SIZE)
    raw: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "hpke": HPKE_SUITE_NAME,
        "tender_id": bundle.tender_id,
        "lot_id": lot_id,
        "bid_id": bid_id,
        "k": bundle.k,
        "policy": bundle.policy,
        "holders": [h.key_id for h in bundle.holders],
        "bidder_key": {"key_id": key_id(bidder_public_key), "public_key": b64u(bidder_public_key)}
        if bidder_public_key
        else None,
        "parts": wrap_parts(
            data_key,
            bundle.tender_id,
            lot_id,
            bid_id,
            bundle.k,
            [h.public_key for h in bundle.holders],
            bidder_public_key,
            rng,
        ),
        "key_check": key_check(data_key),
        "chunk_size": chunk_size,
        "nonce_prefix": nonce_prefix.hex(),
        "plaintext_size": plaintext_size,
    }
    body = canonical_json(raw)
    header = Header(raw, PREAMBLE_FIXED.pack(MAGIC, VERSION, len(body)) + body)
    out.write(header.preamble)
    encrypt_payload(itertools.chain([prefix], _file_pieces(files)), header, data_key, out.write)
    return header


def encrypt_payload(
    pieces: Iterable[bytes], header: Header, data_key: bytes, write: Callable[[bytes], Any]
) -> None:
    aead, aad, prefix = AESGCM(data_key), header.preamble_hash, header.nonce_prefix
    total = chunk_count(header.plaintext_size, header.chunk_size)
    written = 0
    for i, chunk in enumerate(_rechunk(pieces, header.chunk_size)):
        written += len(chunk)
        write(aead.encrypt(chunk_nonce(prefix, i, i == total - 1), chunk, aad))
    if written != header.plaintext_size:
        raise ValueError("the content's size differs from the announced plaintext size")


# ---------------------------------------------------------------- unwrapping and combining


@dataclass(frozen=True)
class UnwrappedPart:
    subset_index: int
    position: int
    part: bytes

    def to_json(self) -> dict[str, Any]:
        return {"subset_index": self.subset_index, "position": self.position, "part": b64u(self.part)}


def unwrap_parts(header: Header, private_key: X25519PrivateKey) -> list[UnwrappedPart]:
    """A key holder's (or the bidder's) parts of this bid, one per subset it belongs to, each checked
    against its commitment."""
    mine = key_id(public_bytes(private_key))
    slots = [s for s in header.slots() if s.recipient == mine]
    if not slots:
        raise WrongKey("key_not_in_bid", "this key is not one of this bid's key holders' (or bidder's) keys")
    out = []
    for slot in slots:
        try:
            part = SUITE.decrypt(slot.wrapped, private_key, info=slot.info)
        except (InvalidTag, ValueError) as e:
            raise WrongKey(
                "part_unwrap_failed",
                f"the part for subset {slot.subset_index} position {slot.position} "
                "does not decrypt with this key",
            ) from e
        if not hmac.compare_digest(part_commitment(slot.info, part), slot.commitment):
            raise WrongKey(
                "part_commitment_mismatch",
                f"the part for subset {slot.subset_index} position "
                f"{slot.position} does not match its commitment",
            )
        out.append(UnwrappedPart(slot.subset_index, slot.position, part))
    return out


def check_part(header: Header, part: UnwrappedPart) -> PartSlot:
    """Whether a submitted part is the right one for its place (the ceremony refuses a wrong part at once)."""
    for slot in header.slots():
        if slot.subset_index == part.subset_index and slot.position == part.position:
            if len(part.part) != KEY_SIZE or not hmac.compare_digest(
                part_commitment(slot.info, part.part), slot.commitment
            ):
                raise WrongKey(
                    "part_commitment_mismatch",
                    f"the part for subset {part.subset_index} position {part.position} is not the sealed one",
                )
            return slot
    raise WrongKey(
        "part_unknown_slot", f"this bid has no part at subset {part.subset_index} position {part.position}"
    )


def combine(header: Header, parts: Iterable[UnwrappedPart]) -> bytes:
    """The data key from a complete set of parts of one subset; WrongKey when no subset is complete."""
    have: dict[tuple[int, int], bytes] = {}
    for part in parts:
        check_part(header, part)
        have[(part.subset_index, part.position)] = part.part
    for s, entry in enumerate(header.raw["parts"]):
        positions = range(len(entry["wrapped"]))
        if all((s, p) in have for p in positions):
            key = bytearray(KEY_SIZE)
            for p in positions:
                key = bytearray(a ^ b for a, b in zip(key, have[(s, p)], strict=True))
            if not hmac.compare_digest(key_check(bytes(key)), header.raw["key_check"]):
                raise WrongKey("key_check_failed", "the combined parts do not give this bid's data key")
            return bytes(key)
    raise WrongKey("quorum_incomplete", f"no complete set of {header.k} key holders' parts for this bid yet")


# ---------------------------------------------------------------- opening


def decrypt_payload(stream: BinaryIO, header: Header, data_key: bytes) -> Iterator[bytes]:
    """The plaintext, chunk by chunk, from a stream positioned after the preamble. A truncated, reordered,
    altered or extended file raises DecryptionFailed naming the chunk. The stream's read() may return any
    bytes-like object (a memoryview of a larger buffer is taken without a copy)."""
    aead, aad, prefix = AESGCM(data_key), header.preamble_hash, header.nonce_prefix
    total = chunk_count(header.plaintext_size, header.chunk_size)
    for i in range(total):
        last = i == total - 1
        want = (header.plaintext_size - i * header.chunk_size if last else header.chunk_size) + TAG_SIZE
        block = stream.read(want)
        if len(block) < want:  # a short read (a chunk across two of the stream's buffers, or the end)
            block = bytes(block) + _read_exact(stream, want - len(block))
            if len(block) < want:
                raise DecryptionFailed("bid_truncated", "the file ends before its last chunk", i)
        try:
            yield aead.decrypt(chunk_nonce(prefix, i, last), block, aad)
        except InvalidTag as e:
            raise DecryptionFailed(
                "chunk_altered", "the chunk does not authenticate: altered, reordered, or from another bid", i
            ) from e
    if stream.read(1):
        raise DecryptionFailed("bid_trailing_data", "there are bytes after the last chunk", total)


@dataclass
class OpenedFile:
    role: str
    name: str
    media_type: str
    size: int
    sha256: str


@dataclass
class OpenedBid:
    header: Header
    price_form: dict[str, Any]
    files: list[OpenedFile] = field(default_factory=list)


class _PlainReader:
    """The plaintext as views of the decrypted chunks: a file's pieces are slices of them, never copied."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks, self._cur = chunks, memoryview(b"")

    def take(self, size: int) -> Iterator[memoryview]:
        """The next `size` bytes (fewer at the end), as views of the decrypted chunks."""
        left = size
        while left:
            if not self._cur:
                nxt = next(self._chunks, None)
                if nxt is None:
                    return
                self._cur = memoryview(nxt)
                continue
            piece = self._cur[:left]
            self._cur = self._cur[len(piece) :]
            left -= len(piece)
            yield piece

    def read(self, size: int) -> bytes:
        return b"".join(self.take(size))


# A file writer (the caller hashes): sink(file) -> write(piece: bytes).
Sink = Callable[["OpenedFile"], Callable[[bytes], Any]]


def open_bid(
    stream: BinaryIO,
    header: Header,
    data_key: bytes,
    sink: Sink | None = None,
    *,
    hash_files: bool = True,
    judged: bool = False,
) -> OpenedBid:
    """Decrypt and check a bid, streaming each file to `sink(file) -> write` (None: only check). Each file's
    SHA-256 is computed unless hash_files=False: a check that has hashed the whole sealed file against its
    receipt needs none, since the chunks' authentication then fixes every decrypted byte.

    judged=True reads a bid that its opening already found valid (a file read again for the evaluation
    room): its content is not judged again by today's rules, only read, so that a bid opened under an
    earlier version of the rules (tender/bidcontent.py) stays readable."""
    reader = _PlainReader(decrypt_payload(stream, header, data_key))
    head = reader.read(4)
    (length,) = struct.unpack(">I", head) if len(head) == 4 else (0,)
    try:
        bidcontent.check_manifest_size(length, header.plaintext_size)
        body = bidcontent.parse_manifest(reader.read(length))
        manifest = bidcontent.read_manifest(body) if judged else bidcontent.check_manifest(body)
        if 4 + length + sum(f["size"] for f in manifest.files) != header.plaintext_size:
            raise bidcontent.ContentInvalid("container_sizes")
    except bidcontent.ContentInvalid as e:
        # E31: the bidder's fault; the record's code is container_invalid, the rule's code is in the detail
        raise DecryptionFailed("container_invalid", str(e)) from e
    price_form = manifest.price_form
    opened = OpenedBid(header, price_form)
    for entry in manifest.files:
        info = OpenedFile(entry["role"], entry["name"], entry["media_type"], entry["size"], "")
        write = sink(info) if sink else None
        digest = hashlib.sha256() if hash_files else None
        for piece in reader.take(entry["size"]):
            if digest is not None:
                digest.update(piece)
            if write:
                write(piece.tobytes())
        info.sha256 = digest.hexdigest() if digest is not None else ""
        opened.files.append(info)
    if reader.read(1):  # cannot happen once the sizes add up; kept as the last line of defence
        raise DecryptionFailed("container_invalid", "container_sizes: data after the last file")
    return opened


def open_bytes(data: bytes, parts: Iterable[UnwrappedPart]) -> tuple[OpenedBid, dict[str, bytes]]:
    """Convenience for small bids (tests, the command line): every file's content by name."""
    stream = io.BytesIO(data)
    header = read_header(stream)
    key = combine(header, parts)
    contents: dict[str, bytearray] = {}

    def sink(f: OpenedFile) -> Callable[[bytes], Any]:
        contents[f.name] = bytearray()
        return contents[f.name].extend

    opened = open_bid(stream, header, key, sink)
    return opened, {k: bytes(v) for k, v in contents.items()}
