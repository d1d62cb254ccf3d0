"""Who may do what with a tender. Every decision is made here, in the service layer."""

from __future__ import annotations

from core.errors import N_, Forbidden, NotAuthenticated, NotFound
from core.identity import Actor, Role
from tender.models import Tender


def require_login(actor: Actor) -> None:
    if actor.anonymous:
        raise NotAuthenticated.one("login_required", N_("Please log in first."))


def require_role(actor: Actor, *roles: Role) -> None:
    require_login(actor)
    if not actor.has(*roles):
        raise Forbidden.one(
            "role_required",
            N_("This needs the role: %(roles)s."),
            roles=", ".join(r.value for r in roles),
        )


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
