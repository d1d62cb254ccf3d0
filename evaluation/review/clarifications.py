"""Clarification during the review (R52; G87 art. 51): the chair, for the committee, asks the bidder of one
opened bid of this tender a written question with a deadline within the session; the bidder's users answer in
writing in their portal; the answer may not change the bid's price or substance, so the committee marks it
accepted or disregarded (with its reason). An abnormally low price needs the bidder's written explanation
before the bid is rejected for it (P21, R51, O 13): rules.verdict_problems asks for an answered or expired
request. The bidder never learns who sits on the committee (L37): a request is the committee's.

Services take a session and an actor and never commit; notifications leave after the commit
(accounts.tell)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import User
from accounts.notifications import Channel, notify, tell
from audit import record
from core import clock
from core.errors import N_, Conflict, Forbidden, NotFound, Problem, ValidationFailed
from core.identity import Actor, Role
from evaluation.review import rules
from evaluation.review.events import ReviewTag
from evaluation.review.models import ClarificationAssessment, ClarificationRequest
from evaluation.room import reading, steps
from evaluation.room.models import Attendance, AttendanceStatus, EvaluationSession, Step
from tender import access
from tender.models import Bid, Lot, OpenedBid, Tender


def requests_of(session: Session, sess: EvaluationSession) -> list[ClarificationRequest]:
    return list(
        session.scalars(
            select(ClarificationRequest)
            .where(ClarificationRequest.session_id == sess.id)
            .order_by(ClarificationRequest.id)
        )
    )


def state_of(r: ClarificationRequest, now: datetime) -> str:
    return rules.request_state(r.answered_at is not None, clock.as_utc(r.deadline), now)


@dataclass
class RequestView:
    row: ClarificationRequest
    bidder: str
    lot: int
    state: str  # rules.request_state: open, answered, expired


def of_session(session: Session, sess: EvaluationSession) -> list[RequestView]:
    """The session's requests with their bidder's name, for the committee."""
    bids = {b["opened_bid"]: b for b in reading.opened_bids(session, sess.tender_id)}
    now = clock.now()
    out = []
    for r in requests_of(session, sess):
        b = bids.get(r.opened_bid_id, {})
        out.append(RequestView(r, str(b.get("bidder", "")), int(b.get("lot", 0)), state_of(r, now)))
    return out


def explained_bids(session: Session, sess: EvaluationSession) -> set[int]:
    """The opened bids whose bidder has answered a request, or let its deadline pass (P21: the bidder had its
    chance to explain in writing)."""
    now = clock.now()
    return {r.opened_bid_id for r in requests_of(session, sess) if state_of(r, now) != "open"}


def pending_counts(session: Session, sess: EvaluationSession) -> tuple[int, int]:
    """(requests awaiting an answer before their deadline, answers the committee has not assessed yet)."""
    now = clock.now()
    rows = requests_of(session, sess)
    return (
        sum(1 for r in rows if state_of(r, now) == "open"),
        sum(1 for r in rows if r.answered_at is not None and not r.assessment),
    )


def _iso(value: datetime | None) -> str | None:
    return clock.as_utc(value).isoformat() if value is not None else None


def as_report(r: ClarificationRequest) -> dict[str, Any]:
    return {
        "id": r.id,
        "opened_bid": r.opened_bid_id,
        "question": r.question,
        "low_price": r.low_price,
        "asked_at": _iso(r.asked_at),
        "asked_by_seat": r.asked_by_seat_id,
        "deadline": _iso(r.deadline),
        "state": state_of(r, clock.now()),
        "answer": r.answer,
        "no_substance_change": r.no_substance_change,
        "answered_at": _iso(r.answered_at),
        "assessment": r.assessment,  # "accepted" | "disregarded" | "" (not answered)
        "assessment_reason": r.assessment_reason,
        "assessed_at": _iso(r.assessed_at),
        "assessed_by_seat": r.assessed_by_seat_id,
    }


# ---------------------------------------------------------------- the committee's side


@dataclass(frozen=True)
class RequestInput:
    opened_bid_id: int
    question: str
    deadline: datetime | None  # None: what was typed was not a date and time
    low_price: bool = False


def _chair(session: Session, actor: Actor, tender_id: int) -> steps.Working:
    w = steps.working_member(session, actor, tender_id, lock=True)
    if not w.chair:
        raise Forbidden.one(
            "clarify_not_chair",
            N_("The chair sends and assesses clarification requests for the committee; elect a chair first."),
        )
    steps.require_open(session, w, Step.review)
    return w


def _shown(value: Any) -> Any:
    return clock.to_cst(value).strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else value


def _bidder_users(session: Session, org_id: int) -> set[int]:
    return {
        u.id
        for u in session.scalars(select(User).where(User.organisation_id == org_id, User.active.is_(True)))
        if Role.bidder.value in (u.roles or [])
    }


def send(
    session: Session, actor: Actor, tender_id: int, data: RequestInput, channel: Channel
) -> ClarificationRequest:
    """The chair sends the committee's written request to the bidder of one opened bid of this tender."""
    w = _chair(session, actor, tender_id)
    bids = {b["opened_bid"]: b for b in reading.opened_bids(session, w.tender.id)}
    now = clock.now()
    ends_at = clock.as_utc(w.session.ends_at)
    problems = [
        Problem(code, message, fld, {k: _shown(v) for k, v in params.items()})
        for code, message, fld, params in rules.request_problems(data.question, data.deadline, now, ends_at)
    ]
    if data.opened_bid_id not in bids:
        # R52: the committee asks the bidders of this tender's opened bids, no one else
        problems.insert(
            0,
            Problem(
                "clarify_bid_not_here",
                N_("Choose one of the opened bids of this tender: a request goes only to its bidder."),
                "opened_bid",
            ),
        )
    if problems:
        raise ValidationFailed(problems)
    assert data.deadline is not None
    org_id = session.scalar(
        select(Bid.organisation_id)
        .join(OpenedBid, OpenedBid.bid_id == Bid.id)
        .where(OpenedBid.id == data.opened_bid_id)
    )
    assert org_id is not None
    row = ClarificationRequest(
        session_id=w.session.id,
        tender_id=w.tender.id,
        opened_bid_id=data.opened_bid_id,
        organisation_id=org_id,
        question=data.question.strip(),
        low_price=data.low_price,
        asked_at=now,
        asked_by_seat_id=w.seat.id,
        deadline=data.deadline,
    )
    session.add(row)
    session.flush()
    record(
        session,
        ReviewTag.clarification_requested,
        actor=actor,
        subject=w.subject,
        details={"session": w.session.id, "request": row.id, "deadline": data.deadline.isoformat()},
        # which bidder is asked what is the evaluation's (E33) until the report is out; the chair is concealed
        confidential={"opened_bid": row.opened_bid_id, "organisation": org_id, "question": row.question},
        conceal_actor=True,
    )
    tell(
        session,
        channel,
        _bidder_users(session, org_id),
        "evaluation.clarification.requested",
        # the committee's, never a member's name (L37)
        title=N_(
            "%(reference)s: the evaluation committee asks your company for a written clarification; "
            "answer by %(deadline)s"
        ),
        params={
            "reference": w.tender.reference,
            "deadline": clock.to_cst(data.deadline).strftime("%Y-%m-%d %H:%M"),
        },
        link=f"/bidder/tenders/{w.tender.id}/clarification-requests#request-{row.id}",
    )
    return row


def assess(
    session: Session, actor: Actor, tender_id: int, request_id: int, accepted: bool | None, reason: str
) -> ClarificationRequest:
    """The chair marks the bidder's answer accepted, or disregarded because it changes the bid's substance
    (R52), with the reason."""
    w = _chair(session, actor, tender_id)
    row = session.get(ClarificationRequest, request_id)
    if row is None or row.session_id != w.session.id:
        raise NotFound.one("clarify_not_found", N_("No such clarification request of this evaluation."))
    if row.answered_at is None:
        raise Conflict.one("clarify_not_answered", N_("The bidder has not answered this request yet."))
    if row.assessment:
        raise Conflict.one("clarify_assessed", N_("The committee has assessed this answer already."))
    problems = []
    if accepted is None:
        problems.append(
            Problem(
                "clarify_assessment_missing",
                N_("Choose whether the answer is accepted or disregarded."),
                f"assessment-{row.id}",
            )
        )
    if accepted is False and not reason.strip():
        problems.append(
            Problem(
                "clarify_disregard_reason",
                N_(
                    "Say how the answer changes the bid's price or substance; the reason goes into the "
                    "report."
                ),
                f"reason-{row.id}",
            )
        )
    if problems:
        raise ValidationFailed(problems)
    row.assessment = ClarificationAssessment.accepted if accepted else ClarificationAssessment.disregarded
    row.assessment_reason = reason.strip()[: rules.REASON_MAX]
    row.assessed_at, row.assessed_by_seat_id = clock.now(), w.seat.id
    session.flush()
    record(
        session,
        ReviewTag.clarification_assessed,
        actor=actor,
        subject=w.subject,
        details={"session": w.session.id, "request": row.id},
        confidential={"assessment": row.assessment, "reason": row.assessment_reason},
        conceal_actor=True,
    )
    return row


# ---------------------------------------------------------------- the bidder's side


@dataclass
class BidderRequest:
    row: ClarificationRequest
    lot: int
    lot_name: str
    state: str


@dataclass
class BidderView:
    tender: Tender
    requests: list[BidderRequest]


def for_bidder(session: Session, actor: Actor, tender_id: int) -> BidderView:
    """The committee's requests to the actor's company on this tender (never another company's)."""
    access.require_role(actor, Role.bidder)
    tender = access.visible_tender(session, actor, tender_id)
    rows = session.execute(
        select(ClarificationRequest, Lot)
        .join(OpenedBid, OpenedBid.id == ClarificationRequest.opened_bid_id)
        .join(Bid, Bid.id == OpenedBid.bid_id)
        .join(Lot, Lot.id == Bid.lot_id)
        .where(
            ClarificationRequest.tender_id == tender.id,
            ClarificationRequest.organisation_id == actor.organisation_id,
        )
        .order_by(ClarificationRequest.id)
    ).all()
    now = clock.now()
    return BidderView(tender, [BidderRequest(r, lot.number, lot.name, state_of(r, now)) for r, lot in rows])


@dataclass(frozen=True)
class AnswerInput:
    answer: str
    no_substance_change: bool


def answer(
    session: Session, actor: Actor, tender_id: int, request_id: int, data: AnswerInput
) -> ClarificationRequest:
    """The bidder answers the committee's request in writing, once, before its deadline (R52)."""
    access.require_role(actor, Role.bidder)
    tender = access.visible_tender(session, actor, tender_id)
    row = session.scalars(
        select(ClarificationRequest).where(ClarificationRequest.id == request_id).with_for_update()
    ).one_or_none()
    if row is None or row.tender_id != tender.id or row.organisation_id != actor.organisation_id:
        raise NotFound.one("clarify_not_found", N_("No such clarification request to your company."))
    if row.answered_at is not None:
        raise Conflict.one(
            "clarify_answered",
            N_("Your company has answered this request already; an answer cannot be changed or added to."),
        )
    now = clock.now()
    if now >= clock.as_utc(row.deadline):
        raise Conflict.one(
            "clarify_expired",
            N_("The deadline for this answer passed at %(time)s; the committee no longer takes an answer."),
            time=clock.to_cst(clock.as_utc(row.deadline)).strftime("%Y-%m-%d %H:%M"),
        )
    text = data.answer.strip()
    if not text:
        raise ValidationFailed.one(
            "clarify_answer_missing", N_("Write your answer to the committee's question."), f"answer-{row.id}"
        )
    if len(text) > rules.ANSWER_MAX:
        raise ValidationFailed.one(
            "clarify_answer_long",
            N_("The answer is too long: at most %(n)s characters."),
            f"answer-{row.id}",
            n=rules.ANSWER_MAX,
        )
    row.answer, row.no_substance_change = text, data.no_substance_change
    row.answered_at, row.answered_by = now, actor.user_id
    session.flush()
    record(
        session,
        ReviewTag.clarification_answered,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={"session": row.session_id, "request": row.id},
        confidential={"answer": row.answer, "no_substance_change": row.no_substance_change},
        conceal_actor=True,  # who was asked is the evaluation's until the report is out (E33)
    )
    _tell_chair(session, row, tender)
    return row


def _tell_chair(session: Session, row: ClarificationRequest, tender: Tender) -> None:
    """The chair (in the product: they are in the room) learns that an answer waits for the assessment."""
    sess = session.get(EvaluationSession, row.session_id)
    if sess is None or sess.chair_seat_id is None:
        return
    chair = session.scalar(
        select(Attendance.user_id).where(
            Attendance.session_id == sess.id,
            Attendance.seat_id == sess.chair_seat_id,
            Attendance.status == AttendanceStatus.present,
        )
    )
    if chair is not None:
        notify(
            session,
            {chair},
            "evaluation.clarification.answered",
            N_("%(reference)s: a bidder has answered the committee's clarification request"),
            link=f"/expert/tenders/{tender.id}/room/review#request-{row.id}",
            params={"reference": tender.reference},
        )
