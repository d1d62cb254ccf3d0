"""A purchase's phase and a reader's audiences, for the one disclosure policy (core.disclosure), as
tender.disclosure does for a tender (that module reads tenders only).

The marketplace reuses the policy's facts with the same meaning: Fact.participation is who signed up for a
purchase and how many (secret from everyone but the intermediary itself until the sign-up deadline:
rules.md §5.3, "the owner cannot see who signed up until then"); Fact.bids is what they quoted (only the
intermediary itself until the selection has run: "nobody reads a quote early"). The phases map as a tender's:
sign-up open is bidding, the deadline passed is opening, the selection run (or the purchase failed or chosen
directly) is final."""

from __future__ import annotations

from datetime import datetime

from core.disclosure import Audience, Fact, Phase
from core.disclosure import may_see as policy_allows
from core.identity import Actor, Role
from marketplace.models import Purchase, PurchaseStatus


def phase_of(purchase: Purchase, now: datetime) -> Phase:
    if purchase.status in (PurchaseStatus.selected, PurchaseStatus.failed):
        return Phase.final
    if now < purchase.signup_deadline and purchase.status == PurchaseStatus.open:
        return Phase.bidding
    return Phase.opening


def audiences(actor: Actor, purchase: Purchase, party_id: int | None = None) -> set[Audience]:
    found = {Audience.public}
    if actor.anonymous:
        return found
    if actor.has(Role.project_owner) and actor.organisation_id == purchase.owner_org_id:
        found.add(Audience.purchaser)
    if actor.has(Role.monitor):
        found.add(Audience.monitor)
    if actor.has(Role.admin):
        found.add(Audience.admin)
    if party_id is not None and actor.organisation_id == party_id:
        found.add(Audience.own_party)
    return found


def may_see(actor: Actor, purchase: Purchase, fact: Fact, now: datetime, party_id: int | None = None) -> bool:
    return policy_allows(fact, audiences(actor, purchase, party_id), phase_of(purchase, now))
