"""What the server clock does to a tender by itself: bidding closes at the deadline, and the opening starts
(L34). Run by the scheduler every few seconds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit import record
from core import clock
from core.identity import SYSTEM
from tender import lifecycle
from tender.bids import submission as bids
from tender.events import TenderTag
from tender.lifecycle import Event, Status
from tender.models import Tender
from tender.opening import ceremony
from tender.opening.base import opening_of


def close_due_tenders(
    session: Session, now: datetime | None = None, *, start_openings: bool = True
) -> list[int]:
    """L34: bidding closes at the deadline by itself (tender.tasks.close_bidding, every few seconds). The
    openings start in the same transaction, unless start_openings=False (the task starts them in its own)."""
    now = now or clock.now()
    due = session.scalars(
        select(Tender).where(Tender.status == Status.published, Tender.bid_deadline <= now).with_for_update()
    ).all()
    for tender in due:
        lifecycle.apply(tender, Event.close_bidding)
        record(
            session,
            TenderTag.tender_bidding_closed,
            actor=SYSTEM,
            subject=f"tender:{tender.id}",
            details={"bid_deadline": tender.bid_deadline.isoformat() if tender.bid_deadline else None},
        )
    if start_openings:
        start_due_openings(session, now)
    return [t.id for t in due]


def start_due_openings(session: Session, now: datetime | None = None) -> list[int]:
    """E27: an upload unfinished at the deadline counts as withdrawn; then the opening starts (L34), or the
    tender fails with fewer than 3 bids (R44). Every closed tender without an opening is picked up (a crash
    between the two). Returns the tenders whose opening started or that failed."""
    now = now or clock.now()
    started = []
    stranded = session.scalars(
        select(Tender).where(Tender.status == Status.bidding_closed).with_for_update()
    ).all()
    for tender in stranded:
        if opening_of(session, tender.id) is None:
            bids.expire_unfinished(session, tender.id, now)
            ceremony.start(session, tender, now)
            started.append(tender.id)
    return started
