"""Complaints in the marketplace (rules.md §5), decided by the centre:

- about the **quality** of a service, by the purchase's owner or the supervising authority, once the
  intermediary was selected; a verified one counts in the credit score (marketplace.credit) and in the exit
  rule "3 verified quality complaints within 1 year" (marketplace.exits);
- about an **entry decision** (Tangshan: within 5 working days of the decision, counted on the official
  calendar, core.workdays), by the applicant;
- about a **selection**, by an applicant or the owner, before the result's publicity ends
  (PUBLICITY_WORKDAYS working days after the selection ran; policy).

The complaint's text is kept with the complaint and shown to the centre, the monitors and the complainant; the
audit entry records that it was filed and decided, with the decision's note (what is decided is public).
Services never commit."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.access import require_login, require_role
from audit import record
from core import clock, workdays
from core.errors import N_, Conflict, Forbidden, NotFound, ValidationFailed
from core.identity import Actor, Role
from marketplace import credit
from marketplace.events import MarketplaceTag
from marketplace.models import Complaint, Entry, EntryStatus, Purchase, PurchaseStatus, Selection, SignUp

QUALITY, ENTRY, SELECTION = "quality", "entry", "selection"
KINDS = (QUALITY, ENTRY, SELECTION)
ENTRY_WORKDAYS = 5  # Tangshan: a complaint about an entry decision within 5 working days
PUBLICITY_WORKDAYS = 3  # policy: the selection result's publicity (公示) lasts 3 working days
MAX_TEXT = 4000


def entry_deadline(entry: Entry) -> datetime | None:
    return workdays.workday_deadline(entry.decided_at, ENTRY_WORKDAYS) if entry.decided_at else None


def publicity_ends(selection: Selection) -> datetime | None:
    return (
        workdays.workday_deadline(selection.completed_at, PUBLICITY_WORKDAYS)
        if selection.completed_at
        else None
    )


def _text(text: str) -> str:
    text = text.strip()
    if not text:
        raise ValidationFailed.one("complaint_text_missing", N_("Say what the complaint is about."), "text")
    if len(text) > MAX_TEXT:
        raise ValidationFailed.one(
            "complaint_text_long",
            N_("Keep the complaint under %(limit)s characters."),
            "text",
            limit=MAX_TEXT,
        )
    return text


def _add(session: Session, actor: Actor, row: Complaint) -> Complaint:
    session.add(row)
    session.flush()
    record(
        session,
        MarketplaceTag.complaint_filed,
        actor=actor,
        subject=f"complaint:{row.id}",
        details={
            "complaint": row.id,
            "kind": row.kind,
            "intermediary": row.intermediary_org_id,
            "entry": row.entry_id,
            "purchase": row.purchase_id,
        },
    )
    return row


def file_quality(session: Session, actor: Actor, purchase_id: int, text: str) -> Complaint:
    require_login(actor)
    purchase = session.get(Purchase, purchase_id)
    if purchase is None:
        raise NotFound.one("purchase_not_found", N_("No such purchase."))
    owner = actor.has(Role.project_owner) and actor.organisation_id == purchase.owner_org_id
    if not (owner or actor.has(Role.monitor)):
        raise Forbidden.one(
            "not_a_complainant",
            N_("The purchase's owner or the supervising authority complain about a service."),
        )
    if purchase.chosen_org_id is None or purchase.status != PurchaseStatus.selected:
        raise Conflict.one("no_service_yet", N_("A complaint about a service needs a selected intermediary."))
    assert actor.user_id is not None
    return _add(
        session,
        actor,
        Complaint(
            kind=QUALITY,
            intermediary_org_id=purchase.chosen_org_id,
            purchase_id=purchase.id,
            filed_by=actor.user_id,
            filed_by_org_id=actor.organisation_id,
            text=_text(text),
        ),
    )


def file_entry(session: Session, actor: Actor, text: str) -> Complaint:
    """The applicant complains about the decision on its entry, within 5 working days of it."""
    require_role(actor, Role.intermediary)
    entry = session.scalars(select(Entry).where(Entry.organisation_id == actor.organisation_id)).one_or_none()
    if entry is None or entry.decided_at is None or entry.status == EntryStatus.submitted:
        raise Conflict.one("entry_not_decided", N_("Your application has no decision to complain about yet."))
    deadline = entry_deadline(entry)
    assert deadline is not None and actor.user_id is not None
    if clock.now() >= deadline:
        raise Conflict.one(
            "entry_complaint_late",
            N_(
                "A complaint about an entry decision is filed within 5 working days of it; that was %(date)s."
            ),
            rule="§5.2",
            date=(clock.to_cst(deadline) - timedelta(days=1)).strftime("%Y-%m-%d"),
        )
    return _add(
        session,
        actor,
        Complaint(
            kind=ENTRY,
            intermediary_org_id=entry.organisation_id,
            entry_id=entry.id,
            filed_by=actor.user_id,
            filed_by_org_id=actor.organisation_id,
            text=_text(text),
        ),
    )


def file_selection(session: Session, actor: Actor, purchase_id: int, text: str) -> Complaint:
    """An applicant or the owner complains about a selection before its publicity ends."""
    require_login(actor)
    purchase = session.get(Purchase, purchase_id)
    if purchase is None:
        raise NotFound.one("purchase_not_found", N_("No such purchase."))
    applicant = (
        actor.organisation_id is not None
        and session.scalars(
            select(SignUp).where(
                SignUp.purchase_id == purchase.id, SignUp.organisation_id == actor.organisation_id
            )
        ).first()
    )
    owner = actor.has(Role.project_owner) and actor.organisation_id == purchase.owner_org_id
    if not (applicant or owner):
        raise Forbidden.one(
            "not_a_selection_party",
            N_("An applicant or the owner of the purchase complains about its selection."),
        )
    sel = session.scalars(select(Selection).where(Selection.purchase_id == purchase.id)).one_or_none()
    ends = publicity_ends(sel) if sel else None
    if ends is None:
        raise Conflict.one("selection_not_run", N_("The selection has not run yet."))
    if clock.now() >= ends:
        raise Conflict.one(
            "selection_publicity_over",
            N_("Complaints about a selection are filed before its publicity ends; it ended on %(date)s."),
            rule="§5.3",
            date=clock.to_cst(ends).strftime("%Y-%m-%d %H:%M"),
        )
    assert actor.user_id is not None
    return _add(
        session,
        actor,
        Complaint(
            kind=SELECTION,
            intermediary_org_id=purchase.chosen_org_id,
            purchase_id=purchase.id,
            filed_by=actor.user_id,
            filed_by_org_id=actor.organisation_id,
            text=_text(text),
        ),
    )


def decide(session: Session, actor: Actor, complaint_id: int, verified: bool, note: str) -> Complaint:
    """The centre verifies the complaint (it is founded) or rejects it, with its reasons."""
    require_role(actor, Role.admin)
    row = session.get(Complaint, complaint_id, with_for_update=True)
    if row is None:
        raise NotFound.one("complaint_not_found", N_("No such complaint."))
    if row.status != "filed":
        raise Conflict.one("complaint_decided", N_("This complaint has already been decided."))
    if not note.strip():
        raise ValidationFailed.one("decision_note_missing", N_("Give the reasons for the decision."), "note")
    row.status = "verified" if verified else "rejected"
    row.decided_by, row.decided_at, row.decision_note = actor.user_id, clock.now(), note.strip()
    session.flush()
    record(
        session,
        MarketplaceTag.complaint_decided,
        actor=actor,
        subject=f"complaint:{row.id}",
        details={
            "complaint": row.id,
            "kind": row.kind,
            "intermediary": row.intermediary_org_id,
            "decision": row.status,
            "note": row.decision_note,
        },
    )
    credit.refresh(session, [row.intermediary_org_id])
    return row


def pending(session: Session, actor: Actor) -> list[Complaint]:
    require_role(actor, Role.admin, Role.monitor)
    return list(session.scalars(select(Complaint).order_by(Complaint.status != "filed", Complaint.id.desc())))
