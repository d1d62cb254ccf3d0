"""Signed bid receipts (tender/receipts.py): a round trip, and every tampered field or a wrong key fails."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from core.signing import signing_key
from tender import keyholders, receipts, sealing


@pytest.fixture
def signer(tmp_path):
    return signing_key(tmp_path, "etender.test")


def _doc(signer):
    body = receipts.receipt_body(
        origin="etender.test",
        bid_id=7,
        tender={"id": 3, "reference": "ZB-2026-0003", "title": "校园家具采购"},
        lot={"id": 5, "number": 1, "name": "课桌"},
        bidder={"id": 9, "name": "一号投标有限公司", "credit_code": "91330100MA27XXXX0X"},
        sha256="ab" * 32,
        size=123_456,
        sealed_bid_id="cd" * 16,
        server_time=datetime(2026, 11, 26, 2, 0, tzinfo=UTC),
        audit_index=42,
    )
    return receipts.sign_receipt(body, signer)


def test_round_trip(signer):
    doc = json.loads(json.dumps(_doc(signer), ensure_ascii=False))  # as saved to a file and read back
    body = receipts.verify_receipt(doc, [signer.verifier])
    assert (
        body["server_time"] == "2026-11-26T02:00:00Z"
        and body["bidder"]["name"] == "一号投标有限公司"
        and body["audit_index"] == 42
    )
    assert doc["signer"] == signer.verifier.encode()
    # domain separation: the same signature does not verify the bare body, nor as a key bundle
    raw = base64.b64decode(doc["signature"])
    assert not signer.verifier.verify(raw, doc["body"].encode())
    assert not signer.verifier.verify(raw, keyholders.BUNDLE_SIGNATURE_PREFIX + doc["body"].encode())


@pytest.mark.parametrize(
    "path,value",
    [
        (("sha256",), "00" * 32),
        (("size",), 1),
        (("bid",), 8),
        (("tender", "id"), 4),
        (("tender", "title"), "x"),
        (("lot", "number"), 2),
        (("bidder", "credit_code"), "X"),
        (("server_time",), "2026-11-26T02:00:01Z"),
        (("audit_index",), 43),
        (("sealed_bid_id",), "ee" * 16),
        (("origin",), "elsewhere"),
    ],
)
def test_each_tampered_field_fails(signer, path, value):
    doc = _doc(signer)
    body = json.loads(doc["body"])
    target = body
    for p in path[:-1]:
        target = target[p]
    target[path[-1]] = value
    tampered = dict(doc, body=sealing.canonical_json(body).decode(), receipt=body)
    with pytest.raises(receipts.ReceiptInvalid):
        receipts.verify_receipt(tampered, [signer.verifier])
    # changing only the readable copy is caught too
    with pytest.raises(receipts.ReceiptInvalid, match="differ"):
        receipts.verify_receipt(dict(doc, receipt=body), [signer.verifier])


def test_wrong_key_bad_signature_and_malformed(signer, tmp_path):
    doc = _doc(signer)
    other = signing_key(tmp_path / "other", "etender.test")
    with pytest.raises(receipts.ReceiptInvalid, match="not one of the platform keys"):
        receipts.verify_receipt(doc, [other.verifier])
    forged = dict(
        doc,
        signature=base64.b64encode(
            other.sign(receipts.RECEIPT_SIGNATURE_PREFIX + doc["body"].encode())
        ).decode(),
    )
    with pytest.raises(receipts.ReceiptInvalid, match="does not verify"):
        receipts.verify_receipt(forged, [signer.verifier])
    with pytest.raises(receipts.ReceiptInvalid, match="canonical"):
        receipts.verify_receipt(
            dict(doc, body=json.dumps(doc["receipt"]), receipt=doc["receipt"]), [signer.verifier]
        )
    with pytest.raises(receipts.ReceiptInvalid, match="base64"):
        receipts.verify_receipt(dict(doc, signature="***"), [signer.verifier])
    with pytest.raises(receipts.ReceiptInvalid, match="not a receipt"):
        receipts.verify_receipt({"hello": 1}, [signer.verifier])
