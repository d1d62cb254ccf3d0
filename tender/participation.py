"""Bidders' participation: downloading the documents (E20), registering for a lot, a bidder's own view of
both, the view of the tender's parties once the deadline has passed (E21, L22), and who is told when something
happens to a tender (interested_users: the opening uses it, and award will)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit import record
from core import clock
from core.disclosure import Fact
from core.errors import N_, Conflict, NotFound, ValidationFailed
from core.identity import Actor, Role
from tender import access, disclosure, rules
from tender.events import TenderTag
from tender.lifecycle import Status
from tender.models import Download, Lot, Registration, TenderDocument


def interested_users(session: Session, tender_id: int) -> set[int]:
    """Everyone who downloaded the documents or registered: told of clarifications, suspension, cancellation
    and the opening."""
    downloaders = session.scalars(
        select(Download.user_id)
        .where(Download.tender_id == tender_id, Download.user_id.is_not(None))
        .distinct()
    )
    registrants = session.scalars(
        select(Registration.user_id).where(Registration.tender_id == tender_id).distinct()
    )
    return {u for u in downloaders if u is not None} | set(registrants)


def download_document(session: Session, actor: Actor, document_id: int) -> TenderDocument:
    """E20: no registration needed. Who downloaded is recorded but confidential (E21)."""
    doc = session.get(TenderDocument, document_id)
    if doc is None:
        raise NotFound.one("document_not_found", N_("No such document."))
    tender = access.get_tender(session, doc.tender_id)
    now = clock.now()
    if tender.status == Status.draft:
        if not access.can_see_draft(actor, tender):
            raise NotFound.one("document_not_found", N_("No such document."))
        return doc
    registered = actor.organisation_id is not None and session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(Registration.tender_id == tender.id, Registration.organisation_id == actor.organisation_id)
    )
    available = (
        rules.documents_available(now, tender.doc_issue_start, tender.doc_issue_end)
        or doc.clarification_id is not None
    )
    privileged = (
        access.is_tender_agency(actor, tender)
        or access.is_tender_purchaser(actor, tender)
        or actor.has(Role.monitor, Role.admin)
    )
    if tender.status in (Status.cancelled,) and not privileged:
        raise Conflict.one(
            "tender_cancelled", N_("This tender was cancelled; its documents are no longer issued.")
        )
    start = tender.doc_issue_start
    if not (available or registered or privileged) and start is not None and now < start:
        raise Conflict.one(
            "issue_period_not_started",
            N_(
                "Tender documents are issued from %(start)s; come back then, no registration is needed (E20)."
            ),
            start=clock.to_cst(start).strftime("%Y-%m-%d %H:%M"),
        )
    if not (available or registered or privileged):
        raise Conflict.one(
            "issue_period_over",
            N_("Tender documents were issued until %(end)s; the issue period is over."),
            end=clock.to_cst(tender.doc_issue_end).strftime("%Y-%m-%d") if tender.doc_issue_end else "",
        )
    session.add(
        Download(
            tender_id=tender.id,
            document_id=doc.id,
            user_id=actor.user_id,
            organisation_id=actor.organisation_id,
            ip=actor.ip,
        )
    )
    record(
        session,
        TenderTag.tender_document_downloaded,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={"document": doc.id},
        conceal_actor=True,
        withhold=disclosure.withheld_participation(session, tender),
    )
    return doc


def register(
    session: Session,
    actor: Actor,
    tender_id: int,
    lot_id: int,
    contact_name: str = "",
    contact_phone: str = "",
) -> Registration:
    access.require_role(actor, Role.bidder)
    tender = access.get_tender(session, tender_id)
    if tender.status != Status.published:
        raise Conflict.one("not_published", N_("Registration is open only while the tender accepts bids."))
    assert tender.bid_deadline is not None and actor.organisation_id is not None and actor.user_id is not None
    if clock.now() >= tender.bid_deadline:
        raise Conflict.one("deadline_passed", N_("The bid deadline has passed."), rule="L28")
    lot = session.get(Lot, lot_id)
    if lot is None or lot.tender_id != tender.id:
        raise ValidationFailed.one("lot_invalid", N_("Choose a lot of this tender."), "lot_id")
    exists = session.scalar(
        select(Registration.id).where(
            Registration.lot_id == lot.id, Registration.organisation_id == actor.organisation_id
        )
    )
    if exists:
        raise Conflict.one(
            "already_registered",
            N_("Your company is already registered for lot %(number)s."),
            "lot_id",
            number=lot.number,
        )
    reg = Registration(
        tender_id=tender.id,
        lot_id=lot.id,
        organisation_id=actor.organisation_id,
        user_id=actor.user_id,
        contact_name=contact_name.strip(),
        contact_phone=contact_phone.strip(),
    )
    session.add(reg)
    session.flush()
    record(
        session,
        TenderTag.tender_registered,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={"registration": reg.id},
        confidential={"organisation": actor.organisation_id, "lot": lot.id},
        conceal_actor=True,
        withhold=Fact.participation,
    )
    return reg


@dataclass
class Participation:
    registrations: list[Registration]
    downloads: list[Download]


def my_participation(session: Session, actor: Actor, tender_id: int) -> Participation:
    """A bidder's own registrations and downloads: the only view of them before the deadline (E21)."""
    if actor.organisation_id is None or not actor.has(Role.bidder):
        return Participation([], [])
    regs = session.scalars(
        select(Registration).where(
            Registration.tender_id == tender_id, Registration.organisation_id == actor.organisation_id
        )
    ).all()
    dls = session.scalars(
        select(Download)
        .where(Download.tender_id == tender_id, Download.organisation_id == actor.organisation_id)
        .order_by(Download.at)
    ).all()
    return Participation(list(regs), list(dls))


def registrations_for(session: Session, actor: Actor, tender_id: int) -> list[Registration]:
    """E21/L22: nobody learns who registered, or how many, before the bid deadline."""
    tender = access.get_tender(session, tender_id)
    disclosure.require_participation(session, actor, tender)
    return list(
        session.scalars(
            select(Registration).where(Registration.tender_id == tender.id).order_by(Registration.id)
        )
    )
