"""Re-tendering (R44, L42, R55): a failed tender is copied in one action of its agency into a new draft that
names it (Tender.retender_of_id) with the reason; the draft goes through publication as any other (new dates,
keys registered again). The old tender keeps everything it had: nothing of a tender is deleted. Services never
commit."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit import record
from award.decision.events import AwardTag
from award.decision.services import active_award, ensure_securities, impossible
from core.disclosure import Fact
from core.errors import N_, Conflict, ValidationFailed
from core.identity import Actor
from tender import access, drafting
from tender.lifecycle import Status
from tender.models import Tender, TenderDocument

REASONS = {
    "too_few_bids": N_("Fewer than 3 bids were received: the tender is tendered again (R44)."),
    "all_rejected": N_("The evaluation committee rejected every bid: the tender is tendered again (L42)."),
    "award_impossible": N_("No winning candidate could be awarded: the tender is tendered again (R55)."),
}
REASON_LABELS = {
    "too_few_bids": N_("Fewer than 3 bids"),
    "all_rejected": N_("Every bid rejected"),
    "award_impossible": N_("No candidate could be awarded"),
}
REFUSALS = {
    "retender_not_failed": N_("Only a failed tender is tendered again; this one is %(status)s."),
    "retender_exists": N_("This tender is tendered again already: %(reference)s."),
    "retender_reason_unknown": N_("Choose why the tender failed."),
}


def retendered_as(session: Session, tender_id: int) -> Tender | None:
    return session.scalar(select(Tender).where(Tender.retender_of_id == tender_id))


def retender(session: Session, actor: Actor, tender_id: int, reason: str) -> Tender:
    old = access.get_tender(session, tender_id, lock=True)
    access.require_tender_agency(actor, old)
    # failed, or awarded but no candidate could be awarded after all (R55: services.declare_impossible)
    if not (old.status == Status.failed or (impossible(old) and active_award(session, old.id) is None)):
        raise Conflict.one("retender_not_failed", REFUSALS["retender_not_failed"], status=old.status)
    if (done := retendered_as(session, old.id)) is not None:
        raise Conflict.one("retender_exists", REFUSALS["retender_exists"], reference=done.reference)
    if reason not in REASONS:
        raise ValidationFailed.one("retender_reason_unknown", REFUSALS["retender_reason_unknown"], "reason")
    data = drafting.TenderInput(
        title=old.title,
        purchaser_id=old.purchaser_id,
        category=old.category,
        evaluation_method=old.evaluation_method,
        lots=[
            drafting.LotInput(
                lot.name, lot.estimated_price, lot.price_ceiling, lot.bid_security, lot.description
            )
            for lot in old.lots
        ],
        description=old.description,
        government_procurement=old.government_procurement,
        state_funded=old.state_funded,
        region=old.region,
        criteria=dict(old.criteria or {}),
        opening_place=old.opening_place,
        key_holder_ids=list(old.key_holder_ids or []),
        key_threshold=old.key_threshold,
        opening_policy=old.opening_policy,
        contact_name=old.contact_name,
        contact_phone=old.contact_phone,
    )  # the dates are the new procedure's own (L24, R16): left for the agency to set
    new = drafting.create_tender(session, actor, data)
    new.retender_of_id = old.id
    new.retender_reason_key = REASONS[reason]
    for doc in old.documents:
        if doc.clarification_id is None:  # the tender documents; the old clarifications were its procedure's
            session.add(
                TenderDocument(
                    tender_id=new.id,
                    filename=doc.filename,
                    content_type=doc.content_type,
                    size=doc.size,
                    blob_key=doc.blob_key,
                    uploaded_by=actor.user_id,
                )
            )
    record(
        session,
        AwardTag.retendered,
        actor=actor,
        subject=f"tender:{new.id}",
        details={"retender_of": old.id, "reference": old.reference, "reason": reason},
        withhold=Fact.draft,  # the draft is its agency's until it is published (drafting.publish releases it)
    )
    ensure_securities(session, old)  # the failed tender's securities are refunded (policy: 5 days)
    session.flush()
    return new
