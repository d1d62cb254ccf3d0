"""What every step of the opening reads: the tender as the actor may see it, its Opening and whether the
record is published, the key holders, whether a company's bid counts, who is told, and the opening time before
which nothing about a sealed bid is served and no key part is taken (E27). The other modules of the opening
build on this one; it imports none of them."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.events import AccountTag
from accounts.models import User
from audit import record
from core import clock
from core.errors import N_, Forbidden, NotFound
from core.identity import Actor, Role
from tender import access, participation
from tender.bids import submission as bids
from tender.lifecycle import Status
from tender.models import Bid, OpenedBidStatus, Opening, OpeningStatus, Tender

TERMINAL = (OpenedBidStatus.opened, OpenedBidStatus.revoked, OpenedBidStatus.withdrawn)


class AuditedRefusal(Forbidden):
    """A refusal whose audit entry (access.refused or key_part_refused) is already in the session: kept, so
    the unit of work commits the session before answering, and the attempt stays on record."""

    kept = True


def key_holders(tender: Tender) -> list[int]:
    """The key holders' user ids in their order, which is each one's party index in the sealed bids."""
    return list(dict.fromkeys(tender.key_holder_ids or []))


def tender_for(session: Session, actor: Actor, tender_id: int, lock: bool = False) -> Tender:
    """The tender an opening step acts on: a draft only for its agency, purchaser and administrators."""
    stmt = select(Tender).where(Tender.id == tender_id)
    if lock:
        stmt = stmt.with_for_update()
    tender = session.scalars(stmt).one_or_none()
    if tender is None or (tender.status == Status.draft and not access.can_see_draft(actor, tender)):
        raise NotFound.one("tender_not_found", N_("No such tender."))
    return tender


def opening_of(session: Session, tender_id: int, lock: bool = False) -> Opening | None:
    stmt = select(Opening).where(Opening.tender_id == tender_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def has_counted_bid(session: Session, actor: Actor, tender: Tender) -> bool:
    if not actor.has(Role.bidder) or actor.organisation_id is None:
        return False
    return bool(
        session.scalar(
            select(func.count())
            .select_from(Bid)
            .where(
                Bid.tender_id == tender.id,
                Bid.organisation_id == actor.organisation_id,
                Bid.status == bids.BidStatus.submitted,
            )
        )
    )


def is_published(op: Opening | None) -> bool:
    return op is not None and op.status == OpeningStatus.done and bool(op.record_sha256)


def refuse_early(session: Session, actor: Actor, tender: Tender, op: Opening | None, what: str) -> None:
    """Before the opening time nothing about a sealed bid is served and no part is taken (E27): refuse and log
    the attempt with its window, which the monitors' alert panel reads."""
    now = clock.now()
    if op is not None and now >= clock.as_utc(op.opens_at):
        return
    when = op.opens_at if op is not None else tender.bid_deadline
    record(
        session,
        AccountTag.access_refused,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={
            "reason": what,
            "window": "opening_time",
            "rule": "E27",
            "opens_at": when.isoformat() if when else None,
        },
    )
    raise AuditedRefusal.one(
        "opening_not_yet",
        N_(
            "The bids are opened at the bid deadline (%(when)s). Nothing about a sealed bid is served and "
            "no key part is accepted before then."
        ),
        rule="E27",
        when=clock.to_cst(when).strftime("%Y-%m-%d %H:%M") if when else "",
    )


def interested(session: Session, tender: Tender) -> set[int]:
    """Who is told of the opening: everyone interested in the tender, the bidders' and the agency's staff, the
    key holders."""
    orgs = {b.organisation_id for b in bids.counted_bids(session, tender.id)} | {tender.agency_id}
    staff = set(session.scalars(select(User.id).where(User.organisation_id.in_(orgs))))
    return participation.interested_users(session, tender.id) | staff | set(key_holders(tender))
