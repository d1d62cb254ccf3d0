"""Who may do what with a tender. Every decision is made here, in the service layer."""

from __future__ import annotations

__all__ = ["require_login", "require_role", "is_tender_agency", "is_tender_purchaser", "require_tender_agency", "can_see_draft"]

from accounts.access import require_login, require_role
from core.errors import N_, Forbidden, NotFound
from core.identity import Actor, Role
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
