"""Sealed-bid submission (issue 3, E26/E27): staged uploads, the structural check, receipts, replace and
withdraw, and the deadline. Only ciphertext is ever stored.

The functions the opening (tender/opening.py) relies on are at the top: counted_bids, expire_unfinished and
header_of."""

from __future__ import annotations

import io
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.blobs import BlobStore
from tender import sealing
from tender.models import Bid, BidStatus

# ---------------------------------------------------------------- what the opening relies on


def counted_bids(session: Session, tender_id: int) -> list[Bid]:
    """The bids that count (E27: the newest complete submission of each company for each lot), by lot then id."""
    stmt = select(Bid).where(Bid.tender_id == tender_id, Bid.status == BidStatus.submitted).order_by(Bid.lot_id, Bid.id)
    return list(session.scalars(stmt))


def expire_unfinished(session: Session, tender_id: int, now: datetime) -> int:
    """E27: an upload not completed by the deadline counts as withdrawn. Returns how many there were."""
    result = session.execute(
        update(Bid)
        .where(Bid.tender_id == tender_id, Bid.status == BidStatus.uploading)
        .values(status=BidStatus.withdrawn, ended_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def header_of(blobs: BlobStore, bid: Bid) -> sealing.Header:
    """The sealed bid's header (its preamble), read from the start of the stored ciphertext."""
    buffer = bytearray()
    for chunk in blobs.open(bid.blob_key):
        buffer.extend(chunk)
        if len(buffer) >= sealing.PREAMBLE_FIXED.size:
            _magic, _version, length = sealing.PREAMBLE_FIXED.unpack_from(buffer)
            if len(buffer) >= sealing.PREAMBLE_FIXED.size + min(length, sealing.MAX_HEADER_SIZE):
                break
    return sealing.read_header(io.BytesIO(bytes(buffer)))
