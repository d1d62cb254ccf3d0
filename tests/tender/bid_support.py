"""Submitting real sealed bids through the services, for tests of submission, the opening and evaluation.

    signer = signing_key(tmp_path, "etender.test")
    bid = submit_bid(db, w.bidder, blobs, w.tender, w.lot1, signer)   # registers the company if needed

The bid is sealed with tender/sealing.py to the tender's published key bundle and uploaded in parts."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy import select

from core.identity import Actor
from core.signing import SigningKey
from storage.base import BlobStore
from tender import keyholders, participation, sealing
from tender.bids import submission as bids
from tender.models import Bid, Lot, Registration, Tender

PRICE_FORM = {"total_price_fen": 98_000_00, "duration_days": 60, "quality_commitment": "合格"}


def sealed_bid(db: Any, tender: Tender | int, lot: Lot | int, content: bytes = b"%PDF technical proposal", price_form: dict[str, Any] | None = None,
               **seal_options: Any) -> bytes:
    """The bytes of a sealed bid for `lot` of `tender`, sealed to its published key bundle."""
    tender_id = tender if isinstance(tender, int) else tender.id
    lot_id = lot if isinstance(lot, int) else lot.id
    bundle = keyholders.bundle_of(db, tender_id)
    assert bundle is not None, "the tender has no published key bundle"
    out = io.BytesIO()
    sealing.seal(bundle, lot_id, [sealing.BidFile("technical", "technical.pdf", "application/pdf", len(content), io.BytesIO(content))],
                 price_form or PRICE_FORM, out, **seal_options)
    return out.getvalue()


def ensure_registered(db: Any, actor: Actor, tender_id: int, lot_id: int) -> None:
    exists = db.scalar(select(Registration.id).where(Registration.lot_id == lot_id, Registration.organisation_id == actor.organisation_id))
    if not exists:
        participation.register(db, actor, tender_id, lot_id, "Contact", "0571-1")


def upload(db: Any, actor: Actor, blobs: BlobStore, tender_id: int, lot_id: int, data: bytes, signer: SigningKey,
           part_size: int | None = None, max_bytes: int = 2 * 1024**3) -> Bid:
    """begin -> parts -> complete through the services (no registration step)."""
    bid = bids.begin(db, actor, blobs, tender_id, lot_id, len(data), max_bytes=max_bytes)
    step = part_size or blobs.part_limit
    for number, start in enumerate(range(0, len(data), step), start=1):
        bids.write_part(db, actor, blobs, bid.id, number, [data[start : start + step]])
    return bids.complete(db, actor, blobs, bid.id, signer)


def submit_bid(db: Any, actor: Actor, blobs: BlobStore, tender: Tender | int, lot: Lot | int, signer: SigningKey,
               content: bytes = b"%PDF technical proposal", price_form: dict[str, Any] | None = None, part_size: int | None = None) -> Bid:
    """Register the actor's company for the lot (if needed), seal a bid and submit it. Returns the submitted Bid."""
    tender_id = tender if isinstance(tender, int) else tender.id
    lot_id = lot if isinstance(lot, int) else lot.id
    ensure_registered(db, actor, tender_id, lot_id)
    return upload(db, actor, blobs, tender_id, lot_id, sealed_bid(db, tender_id, lot_id, content, price_form), signer, part_size)
