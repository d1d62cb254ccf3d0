"""The evaluation's progress as a whole, for those who follow it without sitting on the committee (the agency,
the purchaser, the monitors, the public once the tender is being evaluated): the session (booked, started,
paused, members checked in), the steps closed, how many members have finished each step, and how many have
signed the report. Counts only, never a score or a name (E33; L37: the committee stays confidential until
the result is final), under Fact.evaluation_progress."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.identity import Actor
from evaluation.report import signing
from evaluation.review import review
from evaluation.room import sessions
from evaluation.room.models import Step
from evaluation.room.steps import closed_steps
from evaluation.scoring import sheets
from tender.models import Tender


@dataclass(frozen=True)
class StepProgress:
    step: str  # Step's value: review, scoring, ranking
    closed: bool
    finished: int  # members who have finished their part (every verdict entered; the sheet submitted)
    members: int  # members present


@dataclass(frozen=True)
class Overall:
    room: sessions.Progress
    steps: list[StepProgress]
    report: signing.SigningProgress


def overall(session: Session, actor: Actor, tender_id: int) -> tuple[Tender, Overall]:
    """The whole progress for a reader allowed to see it (Fact.evaluation_progress; the refusal otherwise)."""
    tender, room = sessions.progress(session, actor, tender_id)
    sess = sessions.session_of(session, tender.id)
    out: list[StepProgress] = []
    if sess is not None:
        closed = closed_steps(session, sess)
        done, present = review.progress(session, sess)
        out.append(StepProgress(Step.review.value, Step.review in closed, done, present))
        done, present = sheets.progress(session, sess)
        out.append(StepProgress(Step.scoring.value, Step.scoring in closed, done, present))
        # the ranking is the committee's together (the chair closes it): no member's share to count
        out.append(StepProgress(Step.ranking.value, Step.ranking in closed, 0, 0))
    _, report = signing.progress(session, actor, tender_id)
    return tender, Overall(room, out, report)
