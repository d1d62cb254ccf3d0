"""Bidders' questions on the tender documents and the agency's answers. Who asked stays confidential (E21);
who sees which question is listings.questions_for."""

from __future__ import annotations

from sqlalchemy.orm import Session

from audit import record
from core import clock
from core.disclosure import Fact
from core.errors import N_, Conflict, NotFound, ValidationFailed
from core.identity import Actor, Role
from tender import access
from tender.events import TenderTag
from tender.lifecycle import Status
from tender.models import Question


def ask_question(session: Session, actor: Actor, tender_id: int, text: str) -> Question:
    access.require_role(actor, Role.bidder)
    tender = access.get_tender(session, tender_id)
    if tender.status != Status.published:
        raise Conflict.one("not_published", N_("Questions can be asked while the tender is open for bids."))
    if tender.question_deadline and clock.now() > tender.question_deadline:
        raise Conflict.one("question_deadline_passed", N_("The deadline for questions has passed."))
    if not text.strip():
        raise ValidationFailed.one("text_missing", N_("Write your question."), "text")
    assert actor.user_id is not None and actor.organisation_id is not None
    q = Question(
        tender_id=tender.id, asked_by=actor.user_id, organisation_id=actor.organisation_id, text=text.strip()
    )
    session.add(q)
    session.flush()
    # Who asked stays confidential (E21): the leaf commits to it, the details hold only the question id.
    record(
        session,
        TenderTag.tender_question_asked,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={"question": q.id},
        confidential={"organisation": actor.organisation_id, "text": q.text},
        conceal_actor=True,
        withhold=Fact.participation,
    )
    return q


def answer_question(session: Session, actor: Actor, question_id: int, answer: str) -> Question:
    q = session.get(Question, question_id)
    if q is None:
        raise NotFound.one("question_not_found", N_("No such question."))
    tender = access.get_tender(session, q.tender_id)
    access.require_tender_agency(actor, tender)
    if not answer.strip():
        raise ValidationFailed.one("answer_missing", N_("Write the answer."), "answer")
    q.answer, q.answered_by, q.answered_at = answer.strip(), actor.user_id, clock.now()
    record(
        session,
        TenderTag.tender_question_answered,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={"question": q.id, "answer": q.answer},
    )
    return q
