"""The agency records what became of each bid security (R35, R57): refunded, with the transfer's reference, or
forfeited on its ground (R74: the winner refused the contract or gave no performance bond; E31: a bid revoked
through the bidder's own fault). Services never commit."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit import record
from award.decision import rules
from award.decision.events import AwardTag
from award.decision.models import BidSecurity, SecurityStatus
from core import clock
from core.errors import N_, Conflict, Forbidden, NotFound, ValidationFailed
from core.identity import Actor
from tender import access

REFUSALS = {
    "security_not_agency": N_("Only the tender's agency records the bid securities."),
    "security_not_held": N_("This bid security is not held any more: it was refunded or forfeited already."),
    "security_reference_missing": N_("Enter the bank transfer's reference, so that the bidder can trace it."),
    "security_ground_unknown": N_("Choose the ground on which the security is not refunded."),
    "security_note_needed": N_("Say in a few words what happened: the ground is recorded with your words."),
}
FORFEIT_REASONS = {
    "refused_contract": N_("The winner refused to sign the contract without a proper reason (R74)."),
    "no_performance_bond": N_("The winner did not give the performance bond (R74)."),
    "revoked_bid": N_("The bid was revoked through the bidder's own fault at the opening (E31)."),
}
FORFEIT_LABELS = {
    "refused_contract": N_("Refused to sign the contract"),
    "no_performance_bond": N_("Did not give the performance bond"),
    "revoked_bid": N_("Bid revoked through the bidder's own fault"),
}


def held(session: Session, actor: Actor, tender_id: int, security_id: int) -> BidSecurity:
    tender = access.get_tender(session, tender_id)
    access.require_login(actor)
    if not access.is_tender_agency(actor, tender):
        raise Forbidden.one("security_not_agency", REFUSALS["security_not_agency"])
    sec = session.scalar(
        select(BidSecurity)
        .where(BidSecurity.id == security_id, BidSecurity.tender_id == tender.id)
        .with_for_update()
    )
    if sec is None:
        raise NotFound.one("security_not_found", N_("No such bid security."))
    if sec.status != SecurityStatus.held:
        raise Conflict.one("security_not_held", REFUSALS["security_not_held"])
    return sec


def is_held(session: Session, actor: Actor, tender_id: int, security_id: int) -> bool:
    """Whether the security is held and the actor may record it (its confirmation is asked only then);
    refused as held() refuses when the actor may not, or there is no such security."""
    try:
        held(session, actor, tender_id, security_id)
    except Conflict:
        return False
    return True


def refund(session: Session, actor: Actor, tender_id: int, security_id: int, reference: str) -> BidSecurity:
    sec = held(session, actor, tender_id, security_id)
    reference = reference.strip()[:100]
    if not reference:
        raise ValidationFailed.one(
            "security_reference_missing", REFUSALS["security_reference_missing"], "reference"
        )
    now = clock.now()
    late = sec.refund_due is not None and now >= sec.refund_due
    sec.status, sec.refunded_at, sec.refund_reference, sec.recorded_by = (
        SecurityStatus.refunded,
        now,
        reference,
        actor.user_id,
    )
    entry = record(
        session,
        AwardTag.security_refunded,
        actor=actor,
        subject=f"tender:{tender_id}",
        details={
            "security": sec.id,
            "bid": sec.bid_id,
            "organisation": sec.organisation_id,
            "amount_fen": sec.amount,
            "late": late,
            "rule": "R57",
        },
    )
    sec.audit_index = entry.index
    session.flush()
    return sec


def forfeit(
    session: Session, actor: Actor, tender_id: int, security_id: int, ground: str, note: str
) -> BidSecurity:
    sec = held(session, actor, tender_id, security_id)
    if ground not in rules.FORFEIT_GROUNDS:
        raise ValidationFailed.one("security_ground_unknown", REFUSALS["security_ground_unknown"], "ground")
    note = note.strip()[:2000]
    if not note:
        raise ValidationFailed.one("security_note_needed", REFUSALS["security_note_needed"], "note")
    sec.status, sec.forfeit_reason_key, sec.forfeit_note, sec.recorded_by = (
        SecurityStatus.forfeited,
        FORFEIT_REASONS[ground],
        note,
        actor.user_id,
    )
    entry = record(
        session,
        AwardTag.security_forfeited,
        actor=actor,
        subject=f"tender:{tender_id}",
        details={
            "security": sec.id,
            "bid": sec.bid_id,
            "organisation": sec.organisation_id,
            "amount_fen": sec.amount,
            "ground": ground,
            "rule": "E31" if ground == "revoked_bid" else "R74",
        },
    )
    sec.audit_index = entry.index
    session.flush()
    return sec
