"""Who is told about a tender's result: its bidders, its agency and purchaser, the supervising monitors."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import User
from core.identity import Role
from tender.models import Bid, Tender


def users_of(session: Session, org_ids: set[int]) -> set[int]:
    if not org_ids:
        return set()
    return set(
        session.scalars(select(User.id).where(User.organisation_id.in_(org_ids), User.active.is_(True)))
    )


def parties(session: Session, tender: Tender) -> set[int]:
    """The agency's and the purchaser's people: they answer objections."""
    return users_of(session, {tender.agency_id, tender.purchaser_id})


def bidders(session: Session, tender: Tender) -> set[int]:
    """The people of every company whose bid was submitted (the result goes to every bidder, L45)."""
    orgs = set(
        session.scalars(
            select(Bid.organisation_id)
            .where(Bid.tender_id == tender.id, Bid.status == "submitted")
            .distinct()
        )
    )
    return users_of(session, orgs)


def monitors(session: Session) -> set[int]:
    """The supervising monitors (every monitor account: supervision is not assigned per tender)."""
    rows = session.execute(select(User.id, User.roles).where(User.active.is_(True))).all()
    return {uid for uid, roles in rows if Role.monitor.value in (roles or [])}
