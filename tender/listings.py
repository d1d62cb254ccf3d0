"""Lists: the public notice list with its pages, each role's own tenders, and the questions and objections
of a tender that an actor may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from core.identity import Actor, Role
from tender import access
from tender.lifecycle import Status
from tender.models import Download, Objection, Question, Registration, Tender


@dataclass
class Page:
    items: list[Any]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


PUBLIC_STATUSES = [s.value for s in Status if s != Status.draft]


def list_notices(
    session: Session,
    *,
    q: str = "",
    category: str = "",
    region: str = "",
    status: str = "",
    page: int = 1,
    page_size: int = 20,
) -> Page:
    """The public notice list: every published tender, newest first, with search and filters."""
    page = max(1, page)
    page_size = min(max(1, page_size), 100)
    # Public means published at some time (a draft cancelled before publication never was); the
    # (published_at, id) index then gives the newest-first order without sorting the whole table.
    where: list[ColumnElement[bool]] = [Tender.published_at.is_not(None)]
    if q.strip():
        like = f"%{q.strip()}%"
        where.append(or_(Tender.title.ilike(like), Tender.reference.ilike(like)))
    if category:
        where.append(Tender.category == category)
    if region:
        where.append(Tender.region == region)
    if status == "open":
        where.append(Tender.status == Status.published)
    elif status:
        where.append(Tender.status == status)
    total = session.scalar(select(func.count(Tender.id)).where(*where)) or 0
    # The page itself: ids first from the index alone, then the 20 rows (a deep page skips index
    # entries, not table rows).
    ids = select(Tender.id).where(*where).order_by(Tender.published_at.desc(), Tender.id.desc())
    ids = ids.offset((page - 1) * page_size).limit(page_size)
    items = session.scalars(
        select(Tender)
        .where(Tender.id.in_(ids.scalar_subquery()))
        .order_by(Tender.published_at.desc(), Tender.id.desc())
    ).all()
    return Page(list(items), int(total), page, page_size)


def agency_tenders(session: Session, actor: Actor) -> list[Tender]:
    access.require_role(actor, Role.agency)
    return list(
        session.scalars(
            select(Tender).where(Tender.agency_id == actor.organisation_id).order_by(Tender.id.desc())
        )
    )


def bidder_tenders(session: Session, actor: Actor) -> list[Tender]:
    """Tenders the bidder's company registered for or downloaded documents of."""
    access.require_role(actor, Role.bidder)
    reg = select(Registration.tender_id).where(Registration.organisation_id == actor.organisation_id)
    dl = select(Download.tender_id).where(Download.organisation_id == actor.organisation_id)
    return list(
        session.scalars(
            select(Tender)
            .where(or_(Tender.id.in_(reg), Tender.id.in_(dl)))
            .order_by(Tender.bid_deadline.desc())
        )
    )


def monitored_tenders(session: Session, actor: Actor) -> list[Tender]:
    access.require_role(actor, Role.monitor)
    return list(
        session.scalars(select(Tender).where(Tender.status != Status.draft).order_by(Tender.id.desc()))
    )


def questions_for(session: Session, actor: Actor, tender: Tender) -> list[Question]:
    """Answered questions are public (without the asker); the agency also sees unanswered ones;
    a bidder also sees its own."""
    stmt = select(Question).where(Question.tender_id == tender.id).order_by(Question.id)
    rows = list(session.scalars(stmt))
    if access.is_tender_agency(actor, tender):
        return rows
    return [
        q
        for q in rows
        if q.answered_at is not None
        or (actor.organisation_id is not None and q.organisation_id == actor.organisation_id)
    ]


def objections_for(session: Session, actor: Actor, tender: Tender) -> list[Objection]:
    rows = list(
        session.scalars(select(Objection).where(Objection.tender_id == tender.id).order_by(Objection.id))
    )
    if (
        access.is_tender_agency(actor, tender)
        or access.is_tender_purchaser(actor, tender)
        or actor.has(Role.monitor)
    ):
        return rows
    return [
        o for o in rows if actor.organisation_id is not None and o.organisation_id == actor.organisation_id
    ]
