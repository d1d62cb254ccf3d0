"""Who may do what with a tender, and the tender as an actor finds it. Every decision is made here, in the
service layer: get_tender loads the tender a service acts on, visible_tender the one a page shows (a draft
exists only for its agency, its purchaser and administrators)."""

from __future__ import annotations

__all__ = [
    "require_login",
    "require_role",
    "is_tender_agency",
    "is_tender_purchaser",
    "require_tender_agency",
    "can_see_draft",
    "get_tender",
    "visible_tender",
]

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from accounts.access import require_login, require_role
from core.errors import N_, Forbidden, NotFound
from core.identity import Actor, Role
from tender.lifecycle import Status
from tender.models import Tender


def is_tender_agency(actor: Actor, tender: Tender) -> bool:
    return actor.has(Role.agency) and actor.organisation_id == tender.agency_id


def is_tender_purchaser(actor: Actor, tender: Tender) -> bool:
    return actor.has(Role.purchaser) and actor.organisation_id == tender.purchaser_id


def require_tender_agency(actor: Actor, tender: Tender) -> None:
    require_login(actor)
    if tender.status == "draft" and not can_see_draft(actor, tender):
        # A draft's existence is not revealed to anyone outside its agency and purchaser.
        raise NotFound.one("tender_not_found", N_("No such tender."))
    if not is_tender_agency(actor, tender):
        raise Forbidden.one("not_tender_agency", N_("Only the agency running this tender may do this."))


def can_see_draft(actor: Actor, tender: Tender) -> bool:
    return is_tender_agency(actor, tender) or is_tender_purchaser(actor, tender) or actor.has(Role.admin)


def get_tender(session: Session, tender_id: int, *, lock: bool = False) -> Tender:
    stmt = select(Tender).where(Tender.id == tender_id)
    if lock:
        stmt = stmt.with_for_update()
    tender = session.scalars(stmt).one_or_none()
    if tender is None:
        raise NotFound.one("tender_not_found", N_("No such tender."))
    return tender


def visible_tender(session: Session, actor: Actor, tender_id: int) -> Tender:
    """A tender as the actor may see it: drafts only to their agency, purchaser and administrators."""
    tender = session.scalars(
        select(Tender)
        .where(Tender.id == tender_id)
        .options(
            selectinload(Tender.lots), selectinload(Tender.documents), selectinload(Tender.clarifications)
        )
    ).one_or_none()
    if tender is None or (tender.status == Status.draft and not can_see_draft(actor, tender)):
        raise NotFound.one("tender_not_found", N_("No such tender."))
    return tender
