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
from tender import access, drafting, lifecycle, objections, participation, rules
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
    record(
        session,
        TenderTag.tender_suspended,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={"reason": reason.strip(), "rule": "E52"},
    )
    notify(
        session,
        participation.interested_users(session, tender.id)
        | set(session.scalars(select(User.id).where(User.organisation_id == tender.agency_id))),
        "tender.suspended",
        title=N_("%(reference)s %(title)s: the procedure is suspended"),
        params={"reference": tender.reference, "title": tender.title},
        body=reason.strip(),
        link=f"/tenders/{tender.id}",
    )
    return tender


def resume(
    session: Session, actor: Actor, tender_id: int, reason: str, new_deadline: datetime | None = None
) -> Tender:
    """E52: a monitor lifts a suspension. A new bid deadline is checked like the publication's
    (rules.check_resume: L24, R16, R21), and the sale and question periods end by it (rules.resumed_timeline);
    the objection deadline follows from it (R22). A deadline is only set while bids are still to come."""
    access.require_role(actor, Role.monitor)
    tender = access.get_tender(session, tender_id, lock=True)
    if not tender.monitor_suspended:
        raise Conflict.one("not_suspended", N_("This tender is not suspended by a monitor."))
    if not reason.strip():
        raise ValidationFailed.one("reason_missing", N_("Give the reason for resuming."), "reason")
    now = clock.now()
    details: dict[str, Any] = {"reason": reason.strip(), "rule": "E52"}
    if tender.resume_to == Status.published:
        assert tender.bid_deadline is not None and tender.published_at is not None
        if new_deadline is not None and clock.as_utc(new_deadline) != clock.as_utc(tender.bid_deadline):
            _set_deadline(tender, new_deadline, now, details)
        elif tender.bid_deadline <= now:
            raise ValidationFailed.one(
                "deadline_needed",
                N_("The bid deadline passed during the suspension; set a new one."),
                "new_deadline",
            )
    tender.monitor_suspended = False
    if objections.open_objections(session, tender.id) == 0:
        lifecycle.apply(tender, Event.resume)
    else:
        details["still_paused_by_objection"] = True
    record(session, TenderTag.tender_resumed, actor=actor, subject=f"tender:{tender.id}", details=details)
    notify(
        session,
        participation.interested_users(session, tender.id)
        | set(session.scalars(select(User.id).where(User.organisation_id == tender.agency_id))),
        "tender.resumed",
        title=N_("%(reference)s %(title)s: the procedure is resumed"),
        params={"reference": tender.reference, "title": tender.title},
        body=reason.strip(),
        link=f"/tenders/{tender.id}",
    )
    return tender


def _set_deadline(tender: Tender, new_deadline: datetime, now: datetime, details: dict[str, Any]) -> None:
    assert tender.bid_deadline is not None and tender.published_at is not None
    new_deadline = clock.as_utc(new_deadline)  # typed in CST on the page; the log keeps UTC like the others
    bid_changes = [c.issued_at for c in tender.clarifications if c.affects_bids]
    problems = rules.check_resume(
        drafting.facts_of(tender), new_deadline, now, tender.published_at, bid_changes
    )
    if problems:
        raise ValidationFailed(problems)
    resumed = rules.resumed_timeline(drafting.facts_of(tender), new_deadline)
    details.update(
        {
            "from": tender.bid_deadline.isoformat(),
            "to": new_deadline.isoformat(),
            "objection_deadline": rules.objection_deadline(new_deadline).isoformat(),
        }
    )
    if resumed.doc_issue_end != tender.doc_issue_end:
        assert resumed.doc_issue_end is not None
        details["doc_issue_end"] = resumed.doc_issue_end.isoformat()
    tender.bid_deadline, tender.doc_issue_end, tender.question_deadline = (
        resumed.bid_deadline,
        resumed.doc_issue_end,
        resumed.question_deadline,
    )


def cancel(session: Session, actor: Actor, tender_id: int, reason: str) -> Tender:
    tender = access.get_tender(session, tender_id, lock=True)
    access.require_tender_agency(actor, tender)
    if not reason.strip():
        raise ValidationFailed.one(
            "reason_missing", N_("Give the reason for cancelling; it is published."), "reason"
        )
    lifecycle.apply(tender, Event.cancel)
    tender.cancel_reason = reason.strip()
    tender.monitor_suspended = False
    record(
        session,
        TenderTag.tender_cancelled,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={"reason": tender.cancel_reason},
    )
    notify(
        session,
        participation.interested_users(session, tender.id),
        "tender.cancelled",
        title=N_("%(reference)s %(title)s: the tender is cancelled"),
        params={"reference": tender.reference, "title": tender.title},
        body=tender.cancel_reason,
        link=f"/tenders/{tender.id}",
    )
    return tender
