"""The opening ceremony (issue 3, E29-E32, R44, L28, L34): started when bidding closes (or the tender fails
with fewer than 3 bids), the bidders' check-in, who may watch, the page's view model (ceremony()), objections
raised at the opening and their answers, and the close that moves the tender on to evaluation. The key parts
are taken by parts.py, the bids decrypted by decryption.py, the record made by record.py.

Services take a session and never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.notifications import notify
from audit import record, release_where
from core import clock
from core.disclosure import Fact
from core.errors import N_, Conflict, Forbidden, NotFound, ValidationFailed
from core.identity import SYSTEM, Actor, Role
from tender import access, lifecycle, rules
from tender.bids import submission as bids
from tender.events import TenderTag
from tender.keyholders import is_holder
from tender.lifecycle import Event, Status
from tender.models import Bid, OpenedBid, Opening, OpeningCheckIn, OpeningObjection, OpeningStatus, Tender
from tender.opening.base import has_counted_bid, interested, is_published, opening_of, tender_for
from tender.opening.record import record_document
from tender.rules import OpeningPolicy

# ---------------------------------------------------------------- who may watch (E29)


# R44, L28: why a tender with fewer than 3 bids failed (Tender.end_reason_key, shown in the reader's language)
FEWER_THAN_3 = N_(
    "%(n)s bids were received by the deadline, fewer than 3: no bid is opened, the tender failed and is "
    "tendered again (R44, L28)."
)


def may_watch(session: Session, actor: Actor, tender: Tender) -> bool:
    """E29: the agency, the key holders, the bidders with a counted bid, monitors and administrators watch the
    ceremony; once the record is published everyone may read it."""
    if is_published(opening_of(session, tender.id)):
        return True
    return (
        access.is_tender_agency(actor, tender)
        or is_holder(actor, tender)
        or actor.has(Role.monitor, Role.admin)
        or has_counted_bid(session, actor, tender)
    )


def require_watch(session: Session, actor: Actor, tender_id: int) -> tuple[Tender, Opening | None]:
    tender = tender_for(session, actor, tender_id)
    op = opening_of(session, tender.id)
    if is_published(op):
        return tender, op
    access.require_login(actor)
    if not may_watch(session, actor, tender):
        raise Forbidden.one(
            "opening_not_participant",
            N_(
                "Only the agency, the key holders, the bidders of this tender and monitors follow the "
                "opening before its record is published."
            ),
        )
    return tender, op


# ---------------------------------------------------------------- the start (called when bidding closes)


def start(session: Session, tender: Tender, now: datetime) -> Opening | None:
    """L34: the opening is at the deadline. R44/L28: with fewer than 3 bids nothing is opened and the tender
    fails; per lot, a lot with fewer than 3 bids is not opened and the record says so."""
    counted = bids.counted_bids(session, tender.id)
    by_lot: dict[int, list[Bid]] = {}
    for bid in counted:
        by_lot.setdefault(bid.lot_id, []).append(bid)
    counts = {lot.number: len(by_lot.get(lot.id, [])) for lot in tender.lots}
    opened_lots = [lot for lot in tender.lots if rules.enough_bids(len(by_lot.get(lot.id, [])))]
    if not opened_lots:
        lifecycle.apply(tender, Event.fail)
        tender.end_reason_key, tender.end_reason_params = FEWER_THAN_3, {"n": len(counted)}
        op = Opening(
            tender_id=tender.id,
            status=OpeningStatus.failed,
            opens_at=tender.bid_deadline or now,
            bids_count=0,
            finished_at=now,
        )
        session.add(op)
        session.flush()
        record(
            session,
            TenderTag.tender_failed,
            actor=SYSTEM,
            subject=f"tender:{tender.id}",
            details={
                "reason": "fewer than 3 bids",
                "rule": "R44",
                "bids": len(counted),
                "bids_by_lot": {str(k): v for k, v in counts.items()},
            },
        )
        # R44: the deadline passed and the count is public in the failure's entry: so are the entries that
        # said who registered, downloaded and bid (their actors stay concealed; docs/disclosure.md,
        # participation)
        release_where(session, SYSTEM, subject=f"tender:{tender.id}", fact=Fact.participation)
        notify(
            session,
            interested(session, tender),
            "tender.failed",
            title=N_("%(reference)s %(title)s: fewer than 3 bids were received, the tender failed"),
            params={"reference": tender.reference, "title": tender.title},
            body="",
            link=f"/tenders/{tender.id}",
        )
        return op
    lifecycle.apply(tender, Event.start_opening)
    opened_ids = {lot.id for lot in opened_lots}
    to_open = [b for b in counted if b.lot_id in opened_ids]
    op = Opening(
        tender_id=tender.id,
        status=OpeningStatus.awaiting_parts,
        opens_at=tender.bid_deadline or now,
        bids_count=len(to_open),
    )
    session.add(op)
    session.flush()
    for bid in to_open:
        session.add(OpenedBid(opening_id=op.id, bid_id=bid.id))
    session.flush()
    record(
        session,
        TenderTag.opening_started,
        actor=SYSTEM,
        subject=f"tender:{tender.id}",
        details={
            "bids": len(to_open),
            "bids_by_lot": {str(k): v for k, v in counts.items()},
            "lots_not_opened": [lot.number for lot in tender.lots if lot.id not in opened_ids],
            "rule": "L34",
        },
    )
    notify(
        session,
        interested(session, tender),
        "tender.opening.started",
        title=N_("%(reference)s %(title)s: the opening has started"),
        params={"reference": tender.reference, "title": tender.title},
        link=f"/tenders/{tender.id}/opening",
    )
    return op


# ---------------------------------------------------------------- check-in (E29: bidders attend online)


def check_in(session: Session, actor: Actor, tender_id: int) -> OpeningCheckIn:
    access.require_role(actor, Role.bidder)
    tender = tender_for(session, actor, tender_id)
    if not has_counted_bid(session, actor, tender):
        raise Forbidden.one(
            "opening_no_bid", N_("Only a company whose bid counts checks in at this opening.")
        )
    op = opening_of(session, tender.id)
    if op is None or op.status == OpeningStatus.failed:
        raise Conflict.one(
            "opening_not_started", N_("The opening has not started: it starts by itself at the bid deadline.")
        )
    assert actor.organisation_id is not None and actor.user_id is not None
    existing = session.scalar(
        select(OpeningCheckIn).where(
            OpeningCheckIn.opening_id == op.id, OpeningCheckIn.organisation_id == actor.organisation_id
        )
    )
    if existing is not None:
        return existing
    row = OpeningCheckIn(
        opening_id=op.id, organisation_id=actor.organisation_id, user_id=actor.user_id, at=clock.now()
    )
    session.add(row)
    session.flush()
    record(
        session,
        TenderTag.opening_checked_in,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={"opening": op.id},
        conceal_actor=not is_published(op),
        withhold=None if is_published(op) else Fact.participation,
    )
    return row


# ---------------------------------------------------------------- objections at the opening (R44) and closing


def raise_objection(session: Session, actor: Actor, tender_id: int, text: str) -> OpeningObjection:
    access.require_role(actor, Role.bidder)
    tender = tender_for(session, actor, tender_id)
    if not has_counted_bid(session, actor, tender):
        raise Forbidden.one(
            "opening_no_bid", N_("Only a company whose bid counts raises an objection at this opening.")
        )
    op = opening_of(session, tender.id)
    if op is None or tender.status != Status.opening:
        raise Conflict.one(
            "opening_not_open",
            N_("Objections to the opening are raised while the opening is under way."),
            rule="R44",
        )
    if not text.strip():
        raise ValidationFailed.one("objection_text_missing", N_("Write what your objection is."), "text")
    assert actor.user_id is not None and actor.organisation_id is not None
    obj = OpeningObjection(
        opening_id=op.id,
        raised_by=actor.user_id,
        organisation_id=actor.organisation_id,
        text=text.strip()[:5000],
        raised_at=clock.now(),
    )
    session.add(obj)
    session.flush()
    record(
        session,
        TenderTag.opening_objection_recorded,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={"objection": obj.id, "kind": "raised", "text": obj.text, "rule": "R44"},
        conceal_actor=not is_published(op),
        withhold=None if is_published(op) else Fact.participation,
    )
    return obj


def answer_objection(
    session: Session, actor: Actor, tender_id: int, objection_id: int, answer: str
) -> OpeningObjection:
    tender = tender_for(session, actor, tender_id)
    access.require_tender_agency(actor, tender)
    op = opening_of(session, tender.id)
    obj = session.get(OpeningObjection, objection_id)
    if op is None or obj is None or obj.opening_id != op.id:
        raise NotFound.one("objection_not_found", N_("No such objection."))
    if obj.answered_at is not None:
        raise Conflict.one("objection_answered", N_("This objection was already answered."))
    if not answer.strip():
        raise ValidationFailed.one("answer_missing", N_("Write the answer."), "answer")
    obj.answer, obj.answered_by, obj.answered_at = answer.strip()[:5000], actor.user_id, clock.now()
    record(
        session,
        TenderTag.opening_objection_recorded,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={"objection": obj.id, "kind": "answered", "answer": obj.answer, "rule": "R44"},
    )
    return obj


def close(session: Session, actor: Actor, tender_id: int) -> Tender:
    """The agency closes the ceremony once every bid has its outcome and every objection its answer."""
    tender = tender_for(session, actor, tender_id, lock=True)
    access.require_tender_agency(actor, tender)
    op = opening_of(session, tender.id)
    if op is None or not is_published(op):
        raise Conflict.one(
            "opening_not_done",
            N_("The opening can be closed once every bid has its outcome and the record is published."),
        )
    unanswered = session.scalar(
        select(func.count())
        .select_from(OpeningObjection)
        .where(OpeningObjection.opening_id == op.id, OpeningObjection.answered_at.is_(None))
    )
    if unanswered:
        raise Conflict.one(
            "objections_unanswered",
            N_("%(count)s objections raised at the opening await their answer: answer them before closing."),
            rule="R44",
            count=unanswered,
        )
    lifecycle.apply(tender, Event.start_evaluation)
    record(
        session,
        TenderTag.opening_closed,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={"record_sha256": op.record_sha256},
    )
    return tender


# ---------------------------------------------------------------- the ceremony page


@dataclass
class CeremonyView:
    tender: Tender
    opening: Opening | None
    doc: dict[str, Any] | None  # record_document(): progress before publication, the record after
    holder: bool
    bidder: bool  # a company with a counted bid
    bidder_part_needed: bool  # quorum+bidder: this bidder submits its own part
    agency: bool
    checked_in: bool
    started: bool  # at or after the opening time, with an opening under way or done
    # issue 16: someone who may not follow the opening before its record (the public, anonymous too) sees its
    # public state only: whether it is to come, under way or failed; no progress (how many bid stays
    # concealed until the record, E29, L22)
    public: bool = False

    @property
    def published(self) -> bool:
        return is_published(self.opening)


def ceremony(session: Session, actor: Actor, tender_id: int) -> CeremonyView:
    tender = tender_for(session, actor, tender_id)
    op = opening_of(session, tender.id)
    if not is_published(op) and (actor.anonymous or not may_watch(session, actor, tender)):
        started = (
            op is not None and op.status != OpeningStatus.failed and clock.now() >= clock.as_utc(op.opens_at)
        )
        return CeremonyView(tender, op, None, False, False, False, False, False, started, public=True)
    bidder = has_counted_bid(session, actor, tender)
    checked = bool(
        op
        and actor.organisation_id
        and session.scalar(
            select(OpeningCheckIn.id).where(
                OpeningCheckIn.opening_id == op.id, OpeningCheckIn.organisation_id == actor.organisation_id
            )
        )
    )
    doc = record_document(session, tender.id) if op is not None else None
    started = (
        op is not None and op.status != OpeningStatus.failed and clock.now() >= clock.as_utc(op.opens_at)
    )
    return CeremonyView(
        tender,
        op,
        doc,
        is_holder(actor, tender),
        bidder,
        bidder and tender.opening_policy == OpeningPolicy.quorum_bidder,
        access.is_tender_agency(actor, tender),
        checked,
        started,
    )
