"""Objections on the result (R54): raised in the platform during the publicity by a bidder or another
interested party, answered by the purchaser or its agency within 3 days; until every objection is answered
the procedure is suspended, so no award can be made. The deadline shows to both sides and to the monitors;
an answer overdue raises a monitor alert (award.publicity.deadlines, supervision.alerts)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from accounts.notifications import notify
from audit import record
from award.publicity import people, rules
from award.publicity.events import PublicityTag
from award.publicity.models import ResultObjection
from award.publicity.publicity import open_objections, publicity_of
from core import clock
from core.errors import N_, Conflict, Forbidden, NotFound, ValidationFailed
from core.identity import SYSTEM, Actor, Role
from tender import access, lifecycle
from tender.events import TenderTag
from tender.lifecycle import Event, Status


def _text(value: str, code: str, message: str, name: str) -> str:
    value = value.strip()
    if not value:
        raise ValidationFailed.one(code, message, name)
    if len(value) > rules.MAX_TEXT:
        raise ValidationFailed.one(
            "text_too_long",
            N_("The text is %(n)s characters long; shorten it to %(limit)s at most."),
            name,
            n=len(value),
            limit=rules.MAX_TEXT,
        )
    return value


def raise_objection(session: Session, actor: Actor, tender_id: int, text: str) -> ResultObjection:
    """R54: during the publicity only; the procedure is suspended until the answer."""
    access.require_role(actor, Role.bidder)
    tender = access.get_tender(session, tender_id, lock=True)
    pub = publicity_of(session, tender.id)
    in_publicity = tender.status == Status.publicity or (
        tender.status == Status.suspended and tender.resume_to == Status.publicity
    )
    if pub is None or not in_publicity:
        raise Conflict.one(
            "objection_no_publicity",
            N_("Objections on the result are raised while its candidates are published (R54)."),
            rule="R54",
        )
    now = clock.now()
    if not rules.objection_open(now, pub.published_at, pub.ends_at):
        raise Conflict.one(
            "objection_period_over",
            N_(
                "The publicity ended at %(ends)s: objections on the result are raised during it (R54). A "
                "complaint to the supervisor may still be possible."
            ),
            rule="R54",
            ends=clock.to_cst(pub.ends_at).strftime("%Y-%m-%d %H:%M"),
        )
    body = _text(text, "text_missing", N_("Write your objection and its grounds."), "text")
    assert actor.user_id is not None and actor.organisation_id is not None
    obj = ResultObjection(
        tender_id=tender.id,
        publicity_id=pub.id,
        raised_by=actor.user_id,
        organisation_id=actor.organisation_id,
        text=body,
        raised_at=now,
        answer_due=rules.objection_answer_due(now),
        audit_index=0,
    )
    session.add(obj)
    session.flush()
    entry = record(
        session,
        PublicityTag.objection_raised,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={"objection": obj.id, "answer_due": obj.answer_due.isoformat(), "rule": "R54"},
        # policy (core.disclosure.Fact.result_objections): nobody learns publicly who objected, or what
        confidential={"organisation": actor.organisation_id, "text": obj.text},
        conceal_actor=True,
    )
    obj.audit_index = entry.index
    if tender.status == Status.publicity:
        lifecycle.apply(tender, Event.suspend)
        record(
            session,
            TenderTag.tender_suspended,
            actor=SYSTEM,
            subject=f"tender:{tender.id}",
            details={"reason": "objection on the result", "rule": "R54", "objection": obj.id},
        )
    notify(
        session,
        people.parties(session, tender) | people.monitors(session),
        "award.objection",
        title=N_("%(reference)s: an objection on the result was raised; answer it by %(due)s"),
        params={
            "reference": tender.reference,
            "due": clock.to_cst(obj.answer_due).strftime("%Y-%m-%d %H:%M"),
        },
        link=f"/agency/tenders/{tender.id}/publicity#objection-{obj.id}",
    )
    return obj


def answer_objection(session: Session, actor: Actor, objection_id: int, answer: str) -> ResultObjection:
    """R54: the purchaser or its agency answers; the last answer resumes the procedure (unless a monitor
    suspended it: E52, theirs to lift)."""
    access.require_login(actor)
    obj = session.get(ResultObjection, objection_id)
    if obj is None:
        raise NotFound.one("objection_not_found", N_("No such objection."))
    tender = access.get_tender(session, obj.tender_id, lock=True)
    if not (access.is_tender_agency(actor, tender) or access.is_tender_purchaser(actor, tender)):
        access.require_login(actor)
        raise Forbidden.one("not_tender_party", N_("Only the purchaser or its agency answers objections."))
    if obj.answered_at is not None:
        raise Conflict.one("already_answered", N_("This objection has already been answered."))
    obj.answer = _text(answer, "answer_missing", N_("Write the answer."), "answer")
    obj.answered_by, obj.answered_at = actor.user_id, clock.now()
    session.flush()
    record(
        session,
        PublicityTag.objection_answered,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={"objection": obj.id, "on_time": obj.answered_at <= obj.answer_due, "rule": "R54"},
        confidential={"answer": obj.answer},
    )
    if (
        tender.status == Status.suspended
        and tender.resume_to == Status.publicity
        and not tender.monitor_suspended
        and open_objections(session, tender.id) == 0
    ):
        lifecycle.apply(tender, Event.resume)
        record(
            session,
            TenderTag.tender_resumed,
            actor=SYSTEM,
            subject=f"tender:{tender.id}",
            details={"reason": "objection on the result answered", "rule": "R54"},
        )
    notify(
        session,
        {obj.raised_by} | people.monitors(session),
        "award.objection.answered",
        title=N_("%(reference)s: the objection on the result was answered"),
        params={"reference": tender.reference},
        link=f"/bidder/tenders/{tender.id}/results",
    )
    return obj
