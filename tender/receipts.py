"""Signed bid receipts (E27): what the platform gives a bidder the moment its sealed bid is complete.

Pure and small: no database. The body is canonical JSON (sorted keys, no spaces, UTF-8); the signature is
Ed25519 with the platform's key over a domain-separation prefix followed by the body, so that a receipt
signature can never be mistaken for a key bundle or audit checkpoint signature. The document a bidder keeps:

    {"receipt": <body as an object>, "body": <canonical body text>, "signature": <base64>,
     "signer": <C2SP verifier key>}

verify_receipt() checks it offline against the platform's verifier key(s)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from core.signing import SigningKey, VerifierKey
from tender.sealing import canonical_json

RECEIPT_SIGNATURE_PREFIX = b"etender bid receipt v1\n"
RECEIPT_TYPE = "etender-bid-receipt"
RECEIPT_VERSION = 1


class ReceiptInvalid(ValueError):
    """The receipt does not verify; the message names what failed."""


def receipt_body(
    *,
    origin: str,
    bid_id: int,
    tender: dict[str, Any],
    lot: dict[str, Any],
    bidder: dict[str, Any],
    sha256: str,
    size: int,
    sealed_bid_id: str,
    server_time: datetime,
    audit_index: int,
    audit_leaf_hash: str | None = None,
) -> dict[str, Any]:
    """The receipt's fields (E27): bidder, tender, lot, SHA-256 of the ciphertext, size, server time (UTC) and
    the audit entry that recorded the submission: its index and its leaf hash (the entry is withheld from the
    public log until the opening record, so the hash is what a bidder checks the log's inclusion proof with
    until then)."""
    body = {
        "type": RECEIPT_TYPE,
        "version": RECEIPT_VERSION,
        "origin": origin,
        "bid": bid_id,
        "tender": {"id": tender["id"], "reference": tender["reference"], "title": tender["title"]},
        "lot": {"id": lot["id"], "number": lot["number"], "name": lot["name"]},
        "bidder": {"id": bidder["id"], "name": bidder["name"], "credit_code": bidder["credit_code"]},
        "sha256": sha256,
        "size": size,
        "sealed_bid_id": sealed_bid_id,
        "server_time": server_time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "audit_index": audit_index,
    }
    if audit_leaf_hash is not None:
        body["audit_leaf_hash"] = audit_leaf_hash
    return body


def sign_receipt(body: dict[str, Any], signer: SigningKey) -> dict[str, Any]:
    text = canonical_json(body)
    signature = signer.sign(RECEIPT_SIGNATURE_PREFIX + text)
    return {
        "receipt": body,
        "body": text.decode(),
        "signature": base64.b64encode(signature).decode(),
        "signer": signer.verifier.encode(),
    }


def document(body_text: str, signature: str, signer: str) -> dict[str, Any]:
    """The receipt document from what is stored on the bid row."""
    return {"receipt": json.loads(body_text), "body": body_text, "signature": signature, "signer": signer}


def verify_receipt(doc: Any, keys: Iterable[VerifierKey]) -> dict[str, Any]:
    """The receipt body if `doc` is a receipt signed by one of `keys`; ReceiptInvalid naming what failed."""
    if not isinstance(doc, dict) or not all(
        isinstance(doc.get(f), str) for f in ("body", "signature", "signer")
    ):
        raise ReceiptInvalid("not a receipt document: it needs the text fields body, signature and signer")
    body_text: str = doc["body"]
    try:
        body = json.loads(body_text)
    except ValueError as e:
        raise ReceiptInvalid("the receipt body is not JSON") from e
    if (
        not isinstance(body, dict)
        or body.get("type") != RECEIPT_TYPE
        or body.get("version") != RECEIPT_VERSION
    ):
        raise ReceiptInvalid(f"the body is not a {RECEIPT_TYPE} version {RECEIPT_VERSION}")
    if canonical_json(body).decode() != body_text:
        raise ReceiptInvalid("the receipt body is not in canonical form (it was re-encoded or edited)")
    if "receipt" in doc and doc["receipt"] != body:
        raise ReceiptInvalid(
            "the readable receipt fields differ from the signed body: "
            + ", ".join(
                sorted(
                    k
                    for k in set(body) | set(doc["receipt"] if isinstance(doc["receipt"], dict) else {})
                    if not isinstance(doc["receipt"], dict) or doc["receipt"].get(k) != body.get(k)
                )
            )
        )
    try:
        signature = base64.b64decode(doc["signature"], validate=True)
    except (binascii.Error, ValueError) as e:
        raise ReceiptInvalid("the signature is not base64") from e
    try:
        signer = VerifierKey.parse(doc["signer"])
    except ValueError as e:
        raise ReceiptInvalid(f"the signer is not a verifier key: {e}") from e
    trusted = list(keys)
    if signer not in trusted:
        raise ReceiptInvalid(
            f"the receipt names signer {signer.encode()}, which is not one of the platform keys given"
        )
    if signer.name != body.get("origin"):
        raise ReceiptInvalid(
            f"the signer's name {signer.name!r} is not the receipt's origin {body.get('origin')!r}"
        )
    if not signer.verify(signature, RECEIPT_SIGNATURE_PREFIX + body_text.encode()):
        raise ReceiptInvalid(
            "the signature does not verify: the receipt was altered or not signed by this platform key"
        )
    return body
