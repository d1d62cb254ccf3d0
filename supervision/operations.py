"""The operator's figures (docs/deploy.md, "Metrics and logs"): what a deployment's monitoring scrapes through
/metrics. Aggregates over the whole platform only, never per tender: a count of bids on one tender before
its deadline is exactly what L22/E21 forbid anyone to learn (core.disclosure), and the operator's dashboards
are no exception. Pure reads, no locks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.queries import latest_checkpoint
from core import clock
from tender.models import Bid, OpenedBid, OpenedBidStatus, Opening


@dataclass(frozen=True)
class Figures:
    # by status, over the tenders whose bidding has closed (an opening exists): how many bids are coming in
    # before a deadline is the HTTP traffic's to tell (web.metrics), never the database's
    bids: dict[str, int] = field(default_factory=dict)
    openings: dict[str, int] = field(default_factory=dict)  # by status
    opened_bids: dict[str, int] = field(default_factory=dict)  # outcomes at openings not yet done, by status
    oldest_claim_seconds: float | None = None  # the longest a bid has been "decrypting" (a stuck worker)
    checkpoint_size: int | None = None
    checkpoint_age_seconds: float | None = None  # since the latest signed checkpoint


def _age(moment: datetime | None, now: datetime) -> float | None:
    return None if moment is None else max(0.0, (now - clock.as_utc(moment)).total_seconds())


def figures(session: Session) -> Figures:
    now = clock.now()
    closed = select(Opening.tender_id)
    bids = dict(
        session.execute(
            select(Bid.status, func.count()).where(Bid.tender_id.in_(closed)).group_by(Bid.status)
        )
        .tuples()
        .all()
    )
    openings = dict(
        session.execute(select(Opening.status, func.count()).group_by(Opening.status)).tuples().all()
    )
    live = select(Opening.id).where(Opening.status.in_(("awaiting_parts", "decrypting")))
    opened = dict(
        session.execute(
            select(OpenedBid.status, func.count())
            .where(OpenedBid.opening_id.in_(live))
            .group_by(OpenedBid.status)
        )
        .tuples()
        .all()
    )
    oldest = session.scalar(
        select(func.min(OpenedBid.claimed_at)).where(OpenedBid.status == OpenedBidStatus.decrypting)
    )
    checkpoint = latest_checkpoint(session)
    return Figures(
        bids=bids,
        openings=openings,
        opened_bids=opened,
        oldest_claim_seconds=_age(oldest, now),
        checkpoint_size=checkpoint.size if checkpoint else None,
        checkpoint_age_seconds=_age(checkpoint.time, now) if checkpoint else None,
    )
