"""Objections to the tender documents (R22): raised at least 10 days before the bid deadline, the procedure
paused until the purchaser or its agency answers. (Objections raised at the opening are the opening's:
tender/opening/ceremony.py.)"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.models import User
from accounts.notifications import notify
from audit import record
from core import clock
from core.disclosure import Fact
from core.errors import N_, Conflict, Forbidden, NotFound, ValidationFailed
from core.identity import SYSTEM, Actor, Role
from tender import access, lifecycle, rules
from tender.events import TenderTag
from tender.lifecycle import Event, Status
from tender.models import Objection


def open_objections(session: Session, tender_id: int) -> int:
    """Objections still awaiting their answer: while there is one the procedure stays suspended (R22)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Objection)
            .where(Objection.tender_id == tender_id, Objection.answered_at.is_(None))
        )
        or 0
    )


def raise_objection(session: Session, actor: Actor, tender_id: int, text: str) -> Objection:
    """R22: at least 10 days before the deadline; the procedure pauses until the answer."""
    access.require_role(actor, Role.bidder)
    tender = access.get_tender(session, tender_id, lock=True)
    if tender.status not in (Status.published, Status.suspended) or (
        tender.status == Status.suspended and tender.resume_to != Status.published
    ):
        raise Conflict.one(
            "not_published",
            N_("Objections to the tender documents are raised while the tender is open for bids."),
        )
    now = clock.now()
    assert tender.bid_deadline is not None
    if not rules.objection_allowed(now, tender.bid_deadline):
        raise Conflict.one(
            "objection_too_late",
            N_(
                "Objections to the tender documents must be raised at least 10 days before the bid "
                "deadline (R22); the last moment was %(last)s."
            ),
            rule="R22",
            last=clock.to_cst(rules.objection_deadline(tender.bid_deadline)).strftime("%Y-%m-%d %H:%M"),
        )
    if not text.strip():
        raise ValidationFailed.one("text_missing", N_("Write your objection and its grounds."), "text")
    assert actor.user_id is not None and actor.organisation_id is not None
    obj = Objection(
        tender_id=tender.id,
        raised_by=actor.user_id,
        organisation_id=actor.organisation_id,
        text=text.strip(),
        raised_at=now,
        answer_due=rules.objection_answer_due(now),
    )
    session.add(obj)
    session.flush()
    record(
        session,
        TenderTag.tender_objection_raised,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={"objection": obj.id, "answer_due": obj.answer_due.isoformat()},
        confidential={"organisation": actor.organisation_id, "text": obj.text},
        conceal_actor=True,
        withhold=Fact.participation,
    )
    if tender.status == Status.published:
        lifecycle.apply(tender, Event.suspend)
        record(
            session,
            TenderTag.tender_suspended,
            actor=SYSTEM,
            subject=f"tender:{tender.id}",
            details={"reason": "objection", "rule": "R22", "objection": obj.id},
        )
    agency_users = session.scalars(
        select(User.id).where(User.organisation_id.in_([tender.agency_id, tender.purchaser_id]))
    ).all()
    notify(
        session,
        set(agency_users),
        "tender.objection",
        title=N_("%(reference)s: an objection to the tender documents was raised"),
        params={"reference": tender.reference},
        link=f"/agency/tenders/{tender.id}",
    )
    return obj


def answer_objection(session: Session, actor: Actor, objection_id: int, answer: str) -> Objection:
    obj = session.get(Objection, objection_id)
    if obj is None:
        raise NotFound.one("objection_not_found", N_("No such objection."))
    tender = access.get_tender(session, obj.tender_id, lock=True)
    if not (access.is_tender_agency(actor, tender) or access.is_tender_purchaser(actor, tender)):
        access.require_login(actor)
        raise Forbidden.one("not_tender_party", N_("Only the purchaser or its agency answers objections."))
    if obj.answered_at is not None:
        raise Conflict.one("already_answered", N_("This objection has already been answered."))
    if not answer.strip():
        raise ValidationFailed.one("answer_missing", N_("Write the answer."), "answer")
    obj.answer, obj.answered_by, obj.answered_at = answer.strip(), actor.user_id, clock.now()
    session.flush()
    record(
        session,
        TenderTag.tender_objection_answered,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={"objection": obj.id, "answer": obj.answer, "on_time": obj.answered_at <= obj.answer_due},
    )
    if (
        tender.status == Status.suspended
        and not tender.monitor_suspended
        and open_objections(session, tender.id) == 0
    ):
        lifecycle.apply(tender, Event.resume)
        record(
            session,
            TenderTag.tender_resumed,
            actor=SYSTEM,
            subject=f"tender:{tender.id}",
            details={"reason": "objection answered", "rule": "R22"},
        )
    notify(
        session,
        {obj.raised_by},
        "tender.objection.answered",
        title=N_("%(reference)s: your objection was answered"),
        params={"reference": tender.reference},
        link=f"/bidder/tenders/{tender.id}",
    )
    return obj
