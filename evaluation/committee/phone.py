"""Answers taken by phone: the centre's administrators call drawn experts who have no platform account (the
draw could only write to them, or not at all) or who answer by phone, and record the call: when, whom they
spoke with, what was said, and the answer, which then counts as the expert's own (confirmed, or declined and
handed to the next substitute: draws.take_answer). Audited (E49); the names and numbers are shown only to
those the policy lets reach drawn experts (Fact.committee_contacts: the centre's administrators, L37)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.notifications import Channel
from audit import record
from core import clock
from core.disclosure import Fact
from core.errors import N_, Conflict, Forbidden, NotFound, Problem, ValidationFailed
from core.identity import Actor, Role
from evaluation.committee import draws
from evaluation.committee.models import Draw, PhoneAnswer, Seat, SeatStatus
from evaluation.events import EvaluationTag
from evaluation.pool.models import Expert
from tender import access, disclosure
from tender.lifecycle import FINAL
from tender.models import Tender

MAX_NOTE = 2000
# Policy: a call is recorded within a day of being made (a later record would be hearsay).
RECORD_WITHIN = timedelta(days=1)


def _require_admin(actor: Actor) -> None:
    access.require_login(actor)
    # issue 16: the centre's staff too (Fact.committee_contacts: the staff on duty make the calls, R46)
    if not actor.has(Role.admin, Role.centre):
        raise Forbidden.one(
            "phone_not_admin", N_("Only the trading centre's staff take experts' answers by phone.")
        )


@dataclass(frozen=True)
class Awaiting:
    """A seat waiting for its expert's answer, as the caller needs it."""

    seat: Seat
    tender: Tender
    evaluation_date: date
    expert_name: str
    phone: str
    has_account: bool
    calls: list[PhoneAnswer]


def awaiting(session: Session, actor: Actor) -> list[Awaiting]:
    """The seats now waiting for an answer, the soonest deadline first, with the calls recorded on them."""
    _require_admin(actor)
    rows = session.execute(
        select(Seat, Draw, Tender, Expert)
        .join(Draw, Draw.id == Seat.draw_id)
        .join(Tender, Tender.id == Draw.tender_id)
        .join(Expert, Expert.id == Seat.expert_id)
        .where(Seat.status == SeatStatus.notified, Tender.status.not_in([s.value for s in FINAL]))
        .order_by(Seat.respond_by, Seat.id)
    ).all()
    out = []
    for seat, draw_row, tender, expert in rows:
        if not disclosure.may_see(session, actor, tender, Fact.committee_contacts):
            continue
        calls = list(
            session.scalars(
                select(PhoneAnswer).where(PhoneAnswer.seat_id == seat.id).order_by(PhoneAnswer.id)
            )
        )
        out.append(
            Awaiting(
                seat,
                tender,
                draw_row.evaluation_date,
                expert.name,
                expert.phone,
                expert.user_id is not None,
                calls,
            )
        )
    return out


@dataclass(frozen=True)
class PhoneCall:
    accepted: bool | None  # None: no answer chosen
    called_at: datetime | None
    spoke_with: str
    note: str


def call_problems(call: PhoneCall, notified_at: datetime | None, now: datetime) -> list[Problem]:
    """What is wrong with a call's record: every field is needed, the time is between the notice and now."""
    out = []
    if call.accepted is None:
        out.append(
            Problem(
                "phone_answer_missing",
                N_("Choose what the expert answered: accepts or declines."),
                "accepted",
            )
        )
    if call.called_at is None:
        out.append(Problem("phone_time_missing", N_("Give the time of the call."), "called_at"))
    elif call.called_at > now:
        out.append(
            Problem("phone_time_future", N_("The time of the call cannot be in the future."), "called_at")
        )
    elif notified_at is not None and call.called_at < notified_at.replace(second=0, microsecond=0):
        # the form gives the minute: a call in the minute of the notice is after it
        out.append(
            Problem(
                "phone_time_before_draw",
                N_("The call was made before the expert was drawn; check the time."),
                "called_at",
            )
        )
    elif call.called_at < now - RECORD_WITHIN:
        out.append(
            Problem(
                "phone_time_old",
                N_("Record a call within a day of making it; this one is older."),
                "called_at",
            )
        )
    if not call.spoke_with.strip():
        out.append(Problem("phone_spoke_with_missing", N_("Say whom you spoke with."), "spoke_with"))
    if not call.note.strip():
        out.append(Problem("phone_note_missing", N_("Write down what was said."), "note"))
    elif len(call.note) > MAX_NOTE:
        out.append(
            Problem("phone_note_long", N_("Keep the note under %(n)s characters."), "note", {"n": MAX_NOTE})
        )
    return out


def record_answer(session: Session, actor: Actor, seat_id: int, call: PhoneCall, channel: Channel) -> Seat:
    _require_admin(actor)
    seat = session.get(Seat, seat_id, with_for_update=True)
    if seat is None or seat.status in (SeatStatus.standby, SeatStatus.unused):
        raise NotFound.one("seat_not_found", N_("No such committee seat is waiting for an answer."))
    draw_row = seat.draw
    tender = session.get(Tender, draw_row.tender_id)
    if tender is None or not disclosure.may_see(session, actor, tender, Fact.committee_contacts):
        raise NotFound.one("seat_not_found", N_("No such committee seat is waiting for an answer."))
    if seat.status != SeatStatus.notified:
        raise Conflict.one(
            "phone_seat_answered",
            N_("This seat is not waiting for an answer any more: the expert answered or the time ran out."),
        )
    now = clock.now()
    problems = call_problems(call, clock.as_utc(seat.notified_at) if seat.notified_at else None, now)
    if problems:
        raise ValidationFailed(problems)
    assert call.called_at is not None and call.accepted is not None
    row = PhoneAnswer(
        seat_id=seat.id,
        recorded_by=actor.user_id,
        recorded_at=now,
        called_at=call.called_at,
        spoke_with=call.spoke_with.strip()[:100],
        accepted=call.accepted,
        note=call.note.strip(),
    )
    session.add(row)
    session.flush()
    record(
        session,
        EvaluationTag.seat_phone_answer_recorded,
        actor=actor,
        subject=f"draw:{draw_row.id}",
        details={"seat": seat.id, "accepted": call.accepted, "called_at": call.called_at.isoformat()},
        confidential={"spoke_with": row.spoke_with, "note": row.note},
    )
    return draws.take_answer(
        session, actor, seat, draw_row, call.accepted, channel, details={"by_phone": row.id}
    )
