"""The tender lifecycle: a pure state machine (transition: no database, no clock) and apply(), the one public
transition every feature moves a tender through. Nothing else sets a tender's status."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from core.errors import N_, Conflict


class Status(enum.StrEnum):
    draft = "draft"
    published = "published"
    bidding_closed = "bidding_closed"
    opening = "opening"
    evaluating = "evaluating"
    evaluated = "evaluated"  # 评标结束: every member signed the evaluation report or is deemed to agree (R53)
    publicity = "publicity"
    awarded = "awarded"
    suspended = "suspended"
    failed = "failed"
    cancelled = "cancelled"


class Event(enum.StrEnum):
    publish = "publish"
    close_bidding = "close_bidding"  # the bid deadline passed (L34: opening at the deadline itself)
    start_opening = "start_opening"
    start_evaluation = "start_evaluation"
    sign_report = "sign_report"  # R53: the evaluation report is signed (evaluation.report.signing)
    publish_candidates = "publish_candidates"
    award = "award"
    fail = "fail"  # R44/L28: fewer than 3 bids; L42/P27: all bids rejected (in the signed report)
    suspend = "suspend"  # E52: on a supervisory instruction, or while an objection awaits its answer (R22)
    resume = "resume"
    cancel = "cancel"
    # R61: an upheld complaint's remedy: the committee evaluates again (award.publicity.complaints)
    re_evaluate = "re_evaluate"


# Procedures that are under way and may be suspended or cancelled.
ACTIVE = frozenset(
    {
        Status.published,
        Status.bidding_closed,
        Status.opening,
        Status.evaluating,
        Status.evaluated,
        Status.publicity,
    }
)
FINAL = frozenset({Status.awarded, Status.failed, Status.cancelled})

_FORWARD: dict[tuple[Status, Event], Status] = {
    (Status.draft, Event.publish): Status.published,
    (Status.published, Event.close_bidding): Status.bidding_closed,
    (Status.bidding_closed, Event.start_opening): Status.opening,
    (Status.bidding_closed, Event.fail): Status.failed,
    (Status.opening, Event.start_evaluation): Status.evaluating,
    (Status.opening, Event.fail): Status.failed,
    # the candidates are published from the signed report only (R53, R54)
    (Status.evaluating, Event.sign_report): Status.evaluated,
    (Status.evaluating, Event.fail): Status.failed,  # L42/P27: the signed report rejects every bid
    (Status.evaluated, Event.publish_candidates): Status.publicity,
    (Status.evaluated, Event.fail): Status.failed,
    (Status.publicity, Event.award): Status.awarded,
    # R61 (with R81): an upheld complaint sends the result back to the committee, or orders a re-tender
    (Status.evaluated, Event.re_evaluate): Status.evaluating,
    (Status.publicity, Event.re_evaluate): Status.evaluating,
    # R55: no candidate can be awarded (award.decision.services.declare_impossible): failed, tendered again.
    # An awarded tender stays awarded (final states are absorbing) even when its winners all declined: the
    # award's own record says so, and it is tendered again from there.
    (Status.publicity, Event.fail): Status.failed,
}


class IllegalTransition(Exception):
    def __init__(self, state: State, event: Event):
        self.state, self.event = state, event
        super().__init__(f"{event.value} is not allowed when the tender is {state.status.value}")


@dataclass(frozen=True)
class State:
    status: Status
    resume_to: Status | None = None  # the status a suspended procedure returns to


def transition(state: State, event: Event) -> State:
    status = state.status
    if event is Event.suspend:
        if status in ACTIVE:
            return State(Status.suspended, resume_to=status)
        raise IllegalTransition(state, event)
    if event is Event.resume:
        if status is Status.suspended and state.resume_to is not None:
            return State(state.resume_to)
        raise IllegalTransition(state, event)
    if event is Event.cancel:
        if status is Status.draft or status in ACTIVE or status is Status.suspended:
            return State(Status.cancelled)
        raise IllegalTransition(state, event)
    target = _FORWARD.get((status, event))
    if target is None:
        raise IllegalTransition(state, event)
    return State(target)


def allowed_events(state: State) -> list[Event]:
    out = []
    for event in Event:
        try:
            transition(state, event)
        except IllegalTransition:
            continue
        out.append(event)
    return out


class Stateful(Protocol):
    """What apply() moves: a tender's status and the status a suspended procedure returns to."""

    status: str
    resume_to: str | None


def apply(state_holder: Stateful, event: Event) -> None:
    """Move a tender (its status and resume_to) by one event, or refuse with the Conflict a person sees."""
    try:
        new = transition(
            State(
                Status(state_holder.status),
                Status(state_holder.resume_to) if state_holder.resume_to else None,
            ),
            event,
        )
    except IllegalTransition as e:
        raise Conflict.one(
            "illegal_transition",
            N_("This cannot be done while the tender is %(status)s."),
            status=e.state.status.value,
        ) from e
    state_holder.status = new.status.value
    state_holder.resume_to = new.resume_to.value if new.resume_to else None
