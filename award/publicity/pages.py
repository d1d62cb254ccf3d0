"""The view models of the results pages that gather several services' facts: the purchaser's and agency's
page (publish, answer objections) and the bidder's (object, complain)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from award.publicity import complaints, publicity
from core.errors import N_, Forbidden, NotFound
from core.identity import Actor, Role
from tender import access
from tender.models import Tender


def party_view(session: Session, actor: Actor, tender_id: int) -> publicity.PublicityView:
    """The agency's and the purchaser's page: the publicity (or what to publish, by when) and every
    objection with its answer form."""
    access.require_login(actor)
    tender = access.visible_tender(session, actor, tender_id)
    if not (access.is_tender_agency(actor, tender) or access.is_tender_purchaser(actor, tender)):
        raise Forbidden.one(
            "not_tender_party",
            N_("Only the purchaser or its agency publishes the result and answers objections."),
        )
    return publicity.view(session, actor, tender_id)


@dataclass
class BidderView:
    tender: Tender
    publicity: publicity.PublicityView | None  # None: nothing published (yet)
    complaints: list[complaints.ComplaintRow]
    objections: dict[str, list[dict[str, Any]]]  # the bidder's own, by matter, for the complaint form


def bidder_view(session: Session, actor: Actor, tender_id: int) -> BidderView:
    access.require_role(actor, Role.bidder)
    tender = access.visible_tender(session, actor, tender_id)
    try:
        pub: publicity.PublicityView | None = publicity.view(session, actor, tender_id)
    except NotFound:
        pub = None
    if pub is not None and pub.publicity is None:
        pub = None
    return BidderView(
        tender,
        pub,
        complaints.own_complaints(session, actor, tender_id),
        complaints.objections_for(session, actor, tender_id),
    )
