"""Key holders (tender/keyholders.py) on a real database: only a named holder registers a key, only while
the tender is a draft; publication refuses naming who has no key yet, then fixes and signs the bundle."""

from __future__ import annotations

import base64
import io

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.signing import signing_key
from tender import drafting, keyholders, sealing
from tests.factories.accounts import cast
from tests.factories.tenders import draft_tender


def _pub(key: X25519PrivateKey) -> str:
    return sealing.b64u(sealing.public_bytes(key))


def test_only_named_holders_register_and_only_while_draft(db, make, blobs, tmp_path):
    w = cast(db, make)
    tender = draft_tender(w, blobs, with_keys=False)
    with pytest.raises(NotFound):  # a draft's existence is not revealed to a stranger
        keyholders.register_key(db, w.other_agency, tender.id, _pub(X25519PrivateKey.generate()))
    with pytest.raises(Forbidden) as e:  # its purchaser sees the draft but holds no key
        keyholders.register_key(db, w.purchaser, tender.id, _pub(X25519PrivateKey.generate()))
    assert e.value.problems[0].code == "not_key_holder"
    with pytest.raises(ValidationFailed) as e:
        keyholders.register_key(db, w.monitor, tender.id, "not-a-key")
    assert e.value.problems[0].code == "public_key_invalid"
    with pytest.raises(ValidationFailed):
        keyholders.register_key(db, w.monitor, tender.id, sealing.b64u(bytes(32)))  # a low-order point
    with pytest.raises(NotFound):
        keyholders.register_key(db, w.monitor, 999_999, _pub(X25519PrivateKey.generate()))

    keys = {actor: X25519PrivateKey.generate() for actor in ("agency", "monitor", "centre")}
    keyholders.register_key(db, w.agency, tender.id, _pub(X25519PrivateKey.generate()))
    keyholders.register_key(db, w.agency, tender.id, _pub(keys["agency"]))  # replaced while a draft
    keyholders.register_key(db, w.monitor, tender.id, _pub(keys["monitor"]))
    assert [v.tender.id for v in keyholders.my_tenders(db, w.monitor)] == [tender.id]
    assert keyholders.my_tenders(db, w.bidder) == []

    # publication refuses, naming the holder without a key
    with pytest.raises(ValidationFailed) as e:
        drafting.publish(db, w.agency, tender.id)
    problem = e.value.problems[0]
    assert problem.code == "key_holders_without_keys" and w.centre_user.full_name in problem.params["names"]
    assert w.monitor_user.full_name not in problem.params["names"]
    assert tender.status == "draft"

    keyholders.register_key(db, w.centre, tender.id, _pub(keys["centre"]))
    signer = signing_key(tmp_path, "etender.test/audit")
    drafting.publish(db, w.agency, tender.id, signer=signer)
    with pytest.raises(Conflict) as e:
        keyholders.register_key(db, w.monitor, tender.id, _pub(X25519PrivateKey.generate()))
    assert e.value.problems[0].code == "keys_locked"

    doc = keyholders.signed_bundle(db, tender.id, signer)
    bundle = keyholders.verify_bundle_document(doc, signer.verifier)
    assert [h.public_key for h in bundle.holders] == [
        sealing.public_bytes(keys[a]) for a in ("agency", "monitor", "centre")
    ]
    assert (bundle.k, bundle.policy, bundle.lot_ids) == (2, "quorum", tuple(lot.id for lot in tender.lots))
    # the signature covers the domain-separated canonical bundle: a changed k does not verify
    forged = dict(doc, bundle=dict(doc["bundle"], k=1))
    with pytest.raises(ValueError, match="signature"):
        keyholders.verify_bundle_document(forged, signer.verifier)
    assert signer.verifier.verify(
        base64.b64decode(doc["signature"]),
        keyholders.BUNDLE_SIGNATURE_PREFIX + sealing.canonical_json(doc["bundle"]),
    )
    assert not signer.verifier.verify(
        base64.b64decode(doc["signature"]), sealing.canonical_json(doc["bundle"])
    )

    # a bid sealed to the published bundle passes the upload check and opens with two holders
    out = io.BytesIO()
    data = b"%PDF technical proposal"
    sealing.seal(
        keyholders.bundle_of(db, tender.id),
        tender.lots[0].id,
        [sealing.BidFile("technical", "t.pdf", "application/pdf", len(data), io.BytesIO(data))],
        {"total_price_fen": 1, "duration_days": 1, "quality_commitment": "ok"},
        out,
    )
    header = sealing.inspect(
        io.BytesIO(out.getvalue()), keyholders.bundle_of(db, tender.id), tender.lots[0].id
    )
    parts = sealing.unwrap_parts(header, keys["monitor"]) + sealing.unwrap_parts(header, keys["centre"])
    assert sealing.open_bytes(out.getvalue(), parts)[1] == {"t.pdf": data}


def test_bundle_is_signed_on_first_fetch_when_publish_had_no_signer_and_stays_the_same(
    db, make, blobs, tmp_path
):
    w = cast(db, make)
    tender = draft_tender(w, blobs)
    with pytest.raises(NotFound):
        keyholders.signed_bundle(db, tender.id, signing_key(tmp_path, "x"))  # a draft has no bundle
    drafting.publish(db, w.agency, tender.id)
    signer = signing_key(tmp_path, "etender.test/audit")
    first = keyholders.signed_bundle(db, tender.id, signer)
    assert keyholders.signed_bundle(db, tender.id, signer) == first
    assert keyholders.verify_bundle_document(first, signer.verifier).tender_id == tender.id
