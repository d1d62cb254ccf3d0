"""Awarded tenders for the statistics' tests: a published tender, a bid row and its award, written directly
(the award services are tested on their own; here only the figures read them)."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

from award.models import Award, AwardStatus
from tender.models import Bid, BidStatus, Tender
from tests.factories.tenders import publish_new


def awarded(
    w: SimpleNamespace,
    blobs,  # type: ignore[no-untyped-def]
    *,
    amount: int,
    estimate: int,
    at: datetime,
    status: str = AwardStatus.active,
    **tender_changes,  # type: ignore[no-untyped-def]
) -> Tender:
    tender = publish_new(w, blobs, **tender_changes)
    bidder = w.bidder_org
    bid = Bid(
        tender_id=tender.id,
        lot_id=tender.lots[0].id,
        organisation_id=bidder.id,
        user_id=w.agency.user_id,
        status=BidStatus.submitted,
    )
    w.db.add(bid)
    w.db.flush()
    w.db.add(
        Award(
            tender_id=tender.id,
            bid_id=bid.id,
            organisation_id=bidder.id,
            rank=1,
            amount=amount,
            estimate=estimate,
            status=status,
            decided_at=at,
            decided_by=w.agency.user_id,
            audit_index=0,
        )
    )
    tender.status = "awarded"
    tender.bid_deadline = at - timedelta(days=10)  # awarded after its deadline, as a real one is
    w.db.flush()
    return tender
