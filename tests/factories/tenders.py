"""Tenders and their documents, made through the tender services (tender/drafting.py and its siblings) as an
agency would make them, and the clock moved along their timeline."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from types import SimpleNamespace

from core import clock
from tender import drafting, keyholders
from tender.models import Tender
from tests.factories.accounts import cast

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n" + b"x" * 200
DOCX = b"PK\x03\x04" + b"\x14\x00\x06\x00" + b"y" * 100

CRITERIA = {
    "qualification": ["Business licence", "No bidding penalty in 3 years"],
    "price": {"points": 40},
    "factors": [
        {"name": "Technical proposal", "points": 40, "kind": "subjective"},
        {"name": "After-sales service", "points": 20, "kind": "objective"},
    ],
}


def tender_input(w: SimpleNamespace, **changes) -> drafting.TenderInput:  # type: ignore[no-untyped-def]
    """A tender that passes every publication rule now: documents issued 10 days, deadline 25 days ahead.
    `w` needs `purchaser_org` and `holders` (the key holders' user ids), as cast() gives."""
    now = clock.now()
    data = drafting.TenderInput(
        title="Furniture for the county school",
        purchaser_id=w.purchaser_org.id,
        category="goods",
        evaluation_method="comprehensive",
        lots=[
            drafting.LotInput(
                "Desks", estimated_price=1_000_000_00, price_ceiling=1_050_000_00, bid_security=20_000_00
            ),
            drafting.LotInput(
                "Chairs", estimated_price=500_000_00, price_ceiling=520_000_00, bid_security=10_000_00
            ),
        ],
        description="Desks and chairs for the new school building.",
        government_procurement=True,
        region="Test county",
        criteria=dict(CRITERIA),
        doc_issue_start=now,
        doc_issue_end=now + timedelta(days=10),
        bid_deadline=now + timedelta(days=25),
        opening_place="Opening room 1",
        key_holder_ids=list(w.holders),
        key_threshold=2,
        contact_name="Ms Li",
        contact_phone="0571-00000000",
    )
    return dataclasses.replace(data, **changes)


def draft_tender(
    w: SimpleNamespace,
    blobs,  # type: ignore[no-untyped-def]
    with_document: bool = True,
    with_keys: bool = True,
    **changes,
) -> Tender:
    tender = drafting.create_tender(w.db, w.agency, tender_input(w, **changes))
    if with_document:
        drafting.add_document(
            w.db,
            w.agency,
            blobs,
            tender.id,
            drafting.FileInput("tender-documents.pdf", [PDF]),
            max_bytes=1 << 20,
        )
    if with_keys:  # publication needs every key holder's registered public key
        w.holder_keys = keyholders.generate_keys_for(w.db, tender)
    w.db.flush()
    w.db.refresh(tender)
    return tender


def publish_new(w: SimpleNamespace, blobs, **changes) -> Tender:  # type: ignore[no-untyped-def]
    tender = draft_tender(w, blobs, **changes)
    return drafting.publish(w.db, w.agency, tender.id)


def published_tender(db, make, blobs) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    """The cast plus one published, valid tender (two lots, one document, deadline 25 days ahead)."""
    w = cast(db, make)
    w.tender = publish_new(w, blobs)
    w.lot1, w.lot2 = w.tender.lots
    w.doc = w.tender.documents[0]
    w.deadline = w.tender.bid_deadline
    return w


def move_to(moment: datetime) -> None:
    """Set the test clock to `moment` (core.clock; the `_reset_clock` fixture resets it after each test)."""
    clock.shift(moment - clock.now())
