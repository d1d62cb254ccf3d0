"""A tender's phase and a reader's audiences, for the one disclosure policy (core.disclosure).

Every page, service and API answer that shows a fact about a tender asks `may_see` (or `require`) here,
so that the rule is decided in one place: the phase comes from the tender's status, and a suspended
tender is in the phase it will resume to (bids may still come in after a resumption, so who registered
stays confidential while it is suspended, whatever its old deadline said)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import clock
from core.disclosure import Audience, Fact, Phase
from core.disclosure import may_see as policy_allows
from core.errors import N_, Forbidden
from core.identity import Actor, Role
from tender import access
from tender.lifecycle import Status
from tender.models import Opening, OpeningStatus, Tender

_PHASES = {
    Status.draft: Phase.draft,
    # Until the closing task has run, bids decided before the deadline may still be written: bidding.
    Status.published: Phase.bidding,
    Status.bidding_closed: Phase.opening,
    Status.opening: Phase.opening,
    Status.evaluating: Phase.evaluation,
    # L37: the report is signed but the result is not final: the committee's names and scores stay secret
    Status.evaluated: Phase.evaluation,
    Status.publicity: Phase.publicity,
    Status.awarded: Phase.final,
    Status.failed: Phase.final,
    Status.cancelled: Phase.final,
}


def phase_of(session: Session, tender: Tender) -> Phase:
    status = Status(tender.status)
    if status == Status.suspended:
        status = Status(tender.resume_to or Status.published)
    phase = _PHASES[status]
    if phase == Phase.final and (tender.bid_deadline is None or clock.now() < tender.bid_deadline):
        # cancelled before its deadline: a re-tender may follow, with the same bidders (E21 still holds)
        phase = Phase.bidding
    if phase == Phase.opening and status == Status.opening:
        done = session.scalar(select(Opening.status).where(Opening.tender_id == tender.id))
        if done == OpeningStatus.done:
            phase = Phase.opened
    return phase


def withheld_participation(session: Session, tender: Tender) -> Fact | None:
    """What an entry saying who took part in this tender is withheld as in the public log (audit.record's
    withhold): participation until it is released (tender.opening: when the opening record is published or the
    tender fails at the deadline); nothing once it was, so a later entry (a privileged download after the
    opening) is not withheld for ever."""
    return Fact.participation if phase_of(session, tender) < Phase.opened else None


def audiences(actor: Actor, tender: Tender, party_id: int | None = None) -> set[Audience]:
    """The reader's audiences for this tender. `party_id`: the organisation the fact is about, if any."""
    found = {Audience.public}
    if actor.anonymous:
        return found
    if access.is_tender_agency(actor, tender):
        found.add(Audience.agency)
    if access.is_tender_purchaser(actor, tender):
        found.add(Audience.purchaser)
    if actor.has(Role.monitor):
        found.add(Audience.monitor)
    if actor.has(Role.admin):
        found.add(Audience.admin)
    if actor.has(Role.centre):
        found.add(Audience.centre)
    if party_id is not None and actor.organisation_id == party_id:
        found.add(Audience.own_party)
    return found


def may_see(session: Session, actor: Actor, tender: Tender, fact: Fact, party_id: int | None = None) -> bool:
    return policy_allows(fact, audiences(actor, tender, party_id), phase_of(session, tender))


def require_participation(session: Session, actor: Actor, tender: Tender) -> None:
    """E21/L22: who registered or downloaded, and how many, only for the tender's parties after the
    deadline (and never while a suspended tender may still take bids)."""
    access.require_login(actor)
    if may_see(session, actor, tender, Fact.participation):
        return
    if phase_of(session, tender) <= Phase.bidding:
        raise Forbidden.one(
            "confidential_before_deadline",
            N_("Who registered or downloaded is confidential until the bid deadline (E21)."),
            rule="E21",
        )
    raise Forbidden.one(
        "not_tender_party", N_("Only the tender's agency, purchaser and monitors see its registrations.")
    )
