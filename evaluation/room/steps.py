"""The committee's steps (review, scoring, ranking: evaluation.room.models.Step) and the one lookup every step
starts from: the acting member, checked in to an open session of this tender's committee.

A step is closed once, by the chair, with its outcome; the next step opens then. The step services
(evaluation.review, evaluation.scoring, evaluation.report) decide what their outcome holds and call close();
the progress everybody may see (evaluation.room.sessions.progress) counts the closed steps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit import record
from core import clock
from core.disclosure import Fact
from core.errors import N_, Conflict, Forbidden
from core.identity import Actor
from evaluation.committee.models import Draw, Seat, SeatStatus
from evaluation.events import EvaluationTag
from evaluation.room import reading, rules, sessions
from evaluation.room.models import STEP_ORDER, AttendanceStatus, EvaluationSession, EvaluationStep, Step
from tender.lifecycle import Status
from tender.models import Tender


@dataclass(frozen=True)
class Working:
    """A member at work: checked in, the session open (started, not paused), the tender being evaluated."""

    tender: Tender
    draw: Draw
    seat: Seat
    session: EvaluationSession
    present: tuple[int, ...]  # the present members' seat ids, in check-in order
    chair: bool  # this member chairs the committee

    @property
    def subject(self) -> str:
        return f"tender:{self.tender.id}"


def working_member(session: Session, actor: Actor, tender_id: int, lock: bool = True) -> Working:
    """The acting member, or the room's refusal in their language (the same conditions as reading the bids,
    sessions.workbench's read_refusal: E33, E52): not a member, no session, not evaluating, not checked in,
    paused, not started.

    lock=True takes the session's row lock (closing a step, committee decisions: one after the other);
    a member's own saves pass lock=False, so that nine members typing at once do not wait on each other.
    Every save asks this: it reads the tender, the draw with its seats, the session with its attendances and
    the phase once each, not the whole workbench (its progress counts and names)."""
    tender = sessions._tender(session, tender_id)
    draw_row, seat = sessions._require_member(session, actor, tender)
    sess = sessions.session_of(session, tender.id, lock=lock)
    mine = sessions._attendance(sess, seat)
    present_now = (
        mine is not None and mine.status == AttendanceStatus.present and seat.status == SeatStatus.confirmed
    )
    refusal = rules.read_refusal(
        member=seat.status == SeatStatus.confirmed
        and sessions._may_see(session, actor, tender, seat, Fact.bid_files),
        present=present_now,
        evaluating=Status(tender.status) == Status.evaluating,
        session_state=rules.state(clock.as_utc(sess.starts_at), sess.paused, clock.now()) if sess else None,
    )
    if refusal is not None:
        raise Forbidden.one(refusal, reading.REFUSALS[refusal])
    assert sess is not None  # read_refusal is None only with a session
    present = tuple(a.seat_id for a in sessions._present(sess, draw_row))
    return Working(tender, draw_row, seat, sess, present, sess.chair_seat_id == seat.id)


def closed_steps(session: Session, sess: EvaluationSession) -> dict[Step, EvaluationStep]:
    rows = session.scalars(select(EvaluationStep).where(EvaluationStep.session_id == sess.id))
    return {Step(r.step): r for r in rows}


def current_step(closed: dict[Step, EvaluationStep]) -> Step | None:
    """The first step not yet closed (None: all are)."""
    return next((s for s in STEP_ORDER if s not in closed), None)


STEP_REFUSALS = {
    "step_not_open": N_("This step opens once the committee has closed the one before it."),
    "step_closed": N_("The committee has closed this step already."),
    "step_not_chair": N_("Only the committee's chair closes a step; elect a chair first."),
}


def require_open(session: Session, w: Working, step: Step) -> dict[Step, EvaluationStep]:
    """Refuse work on a step that is closed, or whose predecessor is not."""
    closed = closed_steps(session, w.session)
    if step in closed:
        raise Conflict.one("step_closed", STEP_REFUSALS["step_closed"])
    if current_step(closed) is not step:
        raise Conflict.one("step_not_open", STEP_REFUSALS["step_not_open"])
    return closed


def close(session: Session, actor: Actor, w: Working, step: Step, outcome: dict[str, Any]) -> EvaluationStep:
    """The chair closes the open step with its outcome (one audit entry; the outcome's figures stay in the
    row: the audit entry names the step only, L37)."""
    if not w.chair:
        raise Forbidden.one("step_not_chair", STEP_REFUSALS["step_not_chair"])
    require_open(session, w, step)
    row = EvaluationStep(
        session_id=w.session.id,
        step=step.value,
        closed_at=clock.now(),
        closed_by_seat_id=w.seat.id,
        outcome=outcome,
    )
    session.add(row)
    session.flush()
    record(
        session,
        EvaluationTag.room_step_closed,
        actor=actor,
        subject=w.subject,
        details={"session": w.session.id, "step": step.value},
        conceal_actor=True,
    )
    return row
