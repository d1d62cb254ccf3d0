"""Supervision and cancellation: a monitor suspends a procedure on a supervisory instruction and resumes it
(E52); the agency cancels a tender, with a published reason."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import User
from accounts.notifications import notify
from audit import record
from core import clock
from core.errors import N_, Conflict, ValidationFailed
from core.identity import Actor, Role
from tender import access, lifecycle, objections, participation
from tender.events import TenderTag
from tender.lifecycle import Event, Status
from tender.models import Tender


def suspend(session: Session, actor: Actor, tender_id: int, reason: str) -> Tender:
    """E52: a monitor suspends a procedure on a supervisory instruction."""
    access.require_role(actor, Role.monitor)
    tender = access.get_tender(session, tender_id, lock=True)
    if not reason.strip():
        raise ValidationFailed.one("reason_missing", N_("Give the reason for the suspension."), "reason")
    if tender.monitor_suspended:
        raise Conflict.one("already_suspended", N_("This tender is already suspended by a monitor."))
    if tender.status != Status.suspended:
        lifecycle.apply(tender, Event.suspend)
    tender.monitor_suspended = True
    record(session, TenderTag.tender_suspended, actor=actor, subject=f"tender:{tender.id}", details={"reason": reason.strip(), "rule": "E52"})
    notify(session, participation.interested_users(session, tender.id) | set(session.scalars(select(User.id).where(User.organisation_id == tender.agency_id))),
           "tender.suspended", title=f"{tender.reference} {tender.title}: suspended", body=reason.strip(), link=f"/tenders/{tender.id}")
    return tender


def resume(session: Session, actor: Actor, tender_id: int, reason: str, new_deadline: datetime | None = None) -> Tender:
    access.require_role(actor, Role.monitor)
    tender = access.get_tender(session, tender_id, lock=True)
    if not tender.monitor_suspended:
        raise Conflict.one("not_suspended", N_("This tender is not suspended by a monitor."))
    if not reason.strip():
        raise ValidationFailed.one("reason_missing", N_("Give the reason for resuming."), "reason")
    now = clock.now()
    if tender.resume_to == Status.published:
        assert tender.bid_deadline is not None
        if new_deadline is not None:
            if new_deadline <= now:
                raise ValidationFailed.one("deadline_past", N_("The bid deadline is in the past; choose a later date."), "new_deadline")
            tender.bid_deadline = new_deadline
        elif tender.bid_deadline <= now:
            raise ValidationFailed.one("deadline_needed", N_("The bid deadline passed during the suspension; set a new one."), "new_deadline")
    tender.monitor_suspended = False
    details: dict[str, Any] = {"reason": reason.strip(), "rule": "E52"}
    if new_deadline is not None:
        details["bid_deadline"] = new_deadline.isoformat()
    if objections.open_objections(session, tender.id) == 0:
        lifecycle.apply(tender, Event.resume)
    else:
        details["still_paused_by_objection"] = True
    record(session, TenderTag.tender_resumed, actor=actor, subject=f"tender:{tender.id}", details=details)
    return tender


def cancel(session: Session, actor: Actor, tender_id: int, reason: str) -> Tender:
    tender = access.get_tender(session, tender_id, lock=True)
    access.require_tender_agency(actor, tender)
    if not reason.strip():
        raise ValidationFailed.one("reason_missing", N_("Give the reason for cancelling; it is published."), "reason")
    lifecycle.apply(tender, Event.cancel)
    tender.cancel_reason = reason.strip()
    tender.monitor_suspended = False
    record(session, TenderTag.tender_cancelled, actor=actor, subject=f"tender:{tender.id}", details={"reason": tender.cancel_reason})
    notify(session, participation.interested_users(session, tender.id), "tender.cancelled", title=f"{tender.reference} {tender.title}: cancelled",
           body=tender.cancel_reason, link=f"/tenders/{tender.id}")
    return tender
