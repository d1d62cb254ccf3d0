"""The evaluation session (rules.md §3; E33, E49, E52): the agency books a room and a time once the committee
is drawn; confirmed members check in and sign the declaration; a member who declares a conflict or leaves is
replaced through the draw's substitutes (evaluation.committee.draws, R46, R48); the present members elect
their chair (G87 art. 45); a monitor pauses and resumes the session.

Who sees what (core.disclosure): the session's room and time (Fact.evaluation_session) and its progress
(Fact.evaluation_progress: booked, started, paused, how many checked in) go to the tender's parties and
monitors; the members' names (Fact.committee_names) only to the committee and monitors before the result is
final. Reading the bids is evaluation.room.reading's. Services take a session and an actor and never
commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accounts.notifications import Channel
from audit import record
from core import clock
from core.disclosure import Audience, Fact
from core.disclosure import may_see as policy_allows
from core.errors import N_, Conflict, Forbidden, NotFound, Problem, ValidationFailed
from core.identity import Actor, Role
from evaluation.committee import draws
from evaluation.committee.models import Draw, DrawStatus, Seat, SeatStatus
from evaluation.events import EvaluationTag
from evaluation.pool.models import Expert
from evaluation.room import rules
from evaluation.room.models import (
    DECLARATION_VERSION,
    STEP_ORDER,
    Attendance,
    AttendanceStatus,
    ChairVote,
    EvaluationRoom,
    EvaluationSession,
    EvaluationStep,
    SessionPause,
)
from tender import access, disclosure
from tender.lifecycle import FINAL, Status
from tender.models import Tender

# A session may be booked once the committee is drawn, while the tender is being opened or evaluated (a
# suspended tender resumes to one of these: booking waits for the resumption).
BOOKABLE = frozenset({Status.bidding_closed, Status.opening, Status.evaluating})


# ---------------------------------------------------------------- lookups


def _tender(session: Session, tender_id: int, lock: bool = False) -> Tender:
    query = select(Tender).where(Tender.id == tender_id)
    if lock:
        query = query.with_for_update()
    tender = session.scalars(query).one_or_none()
    if tender is None or tender.status == Status.draft:
        raise NotFound.one("tender_not_found", N_("No such tender."))
    return tender


def _draw(session: Session, tender_id: int) -> Draw | None:
    """The tender's committee: its made draw (one still collecting contributions, failed or abandoned has no
    committee)."""
    made = [DrawStatus.drawn.value, DrawStatus.published.value]
    return session.scalars(
        select(Draw)
        .where(Draw.tender_id == tender_id, Draw.status.in_(made))
        .order_by(Draw.id.desc())
        .limit(1)
    ).one_or_none()


def session_of(session: Session, tender_id: int, lock: bool = False) -> EvaluationSession | None:
    query = select(EvaluationSession).where(EvaluationSession.tender_id == tender_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def _expert_of(session: Session, actor: Actor) -> Expert | None:
    if actor.anonymous or not actor.has(Role.expert):
        return None
    return session.scalars(select(Expert).where(Expert.user_id == actor.user_id)).one_or_none()


def _seat_of(session: Session, actor: Actor, draw_row: Draw | None) -> Seat | None:
    """The actor's seat on this draw that is (or was) a member's: not a substitute who was never called."""
    expert = _expert_of(session, actor)
    if expert is None or draw_row is None:
        return None
    seats = [s for s in draw_row.seats if s.expert_id == expert.id]
    seats = [s for s in seats if s.status not in (SeatStatus.standby, SeatStatus.unused)]
    return seats[0] if seats else None


def _present(sess: EvaluationSession, draw_row: Draw) -> list[Attendance]:
    """The members checked in and still on the committee (their seat still confirmed)."""
    confirmed = {s.id for s in draw_row.seats if s.status == SeatStatus.confirmed}
    return [a for a in sess.attendances if a.status == AttendanceStatus.present and a.seat_id in confirmed]


def _attendance(sess: EvaluationSession | None, seat: Seat | None) -> Attendance | None:
    if sess is None or seat is None:
        return None
    return next((a for a in sess.attendances if a.seat_id == seat.id), None)


def _audiences(actor: Actor, tender: Tender, seat: Seat | None) -> set[Audience]:
    """tender.disclosure's audiences, and the committee for a member holding a confirmed seat (tender cannot
    know the committee: evaluation depends on tender, not the other way)."""
    found = disclosure.audiences(actor, tender)
    if seat is not None and seat.status == SeatStatus.confirmed:
        found.add(Audience.committee)
    return found


def _may_see(session: Session, actor: Actor, tender: Tender, seat: Seat | None, fact: Fact) -> bool:
    return policy_allows(fact, _audiences(actor, tender, seat), disclosure.phase_of(session, tender))


# ---------------------------------------------------------------- rooms and booking


@dataclass(frozen=True)
class RoomChoice:
    number: int
    name: str
    booked: list[rules.Slot]  # the room's sessions from today on (times only: not whose)


def room_choices(session: Session, names: tuple[str, ...], now: datetime) -> list[RoomChoice]:
    since = now - timedelta(hours=rules.MAX_HOURS)
    rows = session.execute(
        select(EvaluationRoom.number, EvaluationSession.starts_at, EvaluationSession.ends_at)
        .join(EvaluationSession, EvaluationSession.room_id == EvaluationRoom.id)
        .where(EvaluationSession.ends_at > since)
        .order_by(EvaluationSession.starts_at)
    ).all()
    out = []
    for number, name in enumerate(names, start=1):
        slots = [rules.Slot(clock.as_utc(s), clock.as_utc(e)) for n, s, e in rows if n == number]
        out.append(RoomChoice(number, name, slots))
    return out


def _room_row(session: Session, number: int, name: str) -> EvaluationRoom:
    """The room's row, made on its first booking and locked: two bookings of one room at once wait for each
    other here, so the second sees the first (rules.clash) instead of both passing the check."""
    room = session.scalars(
        select(EvaluationRoom).where(EvaluationRoom.number == number).with_for_update()
    ).one_or_none()
    if room is None:
        try:
            with session.begin_nested():
                session.add(EvaluationRoom(number=number, name=name))
                session.flush()
        except IntegrityError:
            pass  # another booking made it first: lock theirs
        room = session.scalars(
            select(EvaluationRoom).where(EvaluationRoom.number == number).with_for_update()
        ).one()
    if room.name != name:
        room.name = name  # renamed in the settings: the page shows the new name
    return room


@dataclass(frozen=True)
class Booking:
    room_number: int
    starts_at: datetime
    hours: int = rules.DEFAULT_HOURS


def book(
    session: Session, actor: Actor, tender_id: int, data: Booking, rooms: tuple[str, ...]
) -> EvaluationSession:
    """The agency books the session (a room and a time) once the committee is drawn; before the session
    starts it may move it. A room holds one session at a time."""
    tender = _tender(session, tender_id, lock=True)
    access.require_tender_agency(actor, tender)
    if Status(tender.status) not in BOOKABLE:
        raise Conflict.one(
            "room_not_bookable",
            N_(
                "The evaluation session is booked after the bid deadline, while the tender is open or "
                "evaluated."
            ),
        )
    draw_row = _draw(session, tender.id)
    if draw_row is None:
        raise Conflict.one(
            "room_no_committee", N_("Draw the evaluation committee first; then book its session.")
        )
    now = clock.now()
    problems = [Problem(c, m, f) for c, m, f in rules.booking_problems(data.starts_at, data.hours, now)]
    if not 1 <= data.room_number <= len(rooms):
        problems.append(Problem("room_unknown", N_("Choose one of the centre's evaluation rooms."), "room"))
    if problems:
        raise ValidationFailed(problems)
    existing = session_of(session, tender.id, lock=True)
    if existing is not None and now >= clock.as_utc(existing.starts_at) - rules.CHECK_IN_EARLY:
        raise Conflict.one(
            "room_session_started",
            N_("The session has started (or its check-in has); it can no longer be moved."),
        )
    room = _room_row(session, data.room_number, rooms[data.room_number - 1])
    wanted = rules.Slot(data.starts_at, data.starts_at + timedelta(hours=data.hours))
    others = session.execute(
        select(EvaluationSession.starts_at, EvaluationSession.ends_at, EvaluationSession.tender_id).where(
            EvaluationSession.room_id == room.id, EvaluationSession.tender_id != tender.id
        )
    ).all()
    owners = {(clock.as_utc(s), clock.as_utc(e)): t for s, e, t in others}
    taken = rules.clash(wanted, [rules.Slot(clock.as_utc(s), clock.as_utc(e)) for s, e, _ in others])
    if taken is not None:
        params = {
            "room": room.name,
            "start": clock.to_cst(taken.starts_at).strftime("%Y-%m-%d %H:%M"),
            "end": clock.to_cst(taken.ends_at).strftime("%Y-%m-%d %H:%M"),
        }
        # issue 16: the clash names its tender to a reader who may see that tender's session (its own agency,
        # the centre: Fact.evaluation_session); to anyone else only the room and the time
        holder = session.get(Tender, owners[taken.starts_at, taken.ends_at])
        if holder is not None and _may_see(session, actor, holder, None, Fact.evaluation_session):
            raise Conflict(
                [
                    Problem(
                        "room_taken",
                        N_(
                            "%(room)s is booked for %(tender)s from %(start)s to %(end)s, which overlaps the "
                            "time you chose. Choose another room or another time."
                        ),
                        "starts_at",
                        {**params, "tender": f"{holder.reference} {holder.title}"},
                    )
                ]
            )
        raise Conflict(
            [
                Problem(
                    "room_taken",
                    N_(
                        "%(room)s is booked from %(start)s to %(end)s, which overlaps the time you chose. "
                        "Choose another room or another time."
                    ),
                    "starts_at",
                    params,
                )
            ]
        )
    if existing is None:
        existing = EvaluationSession(
            tender_id=tender.id,
            draw_id=draw_row.id,
            room_id=room.id,
            starts_at=wanted.starts_at,
            ends_at=wanted.ends_at,
            booked_by=actor.user_id,
            booked_at=now,
        )
        session.add(existing)
    else:
        existing.room_id, existing.starts_at, existing.ends_at = room.id, wanted.starts_at, wanted.ends_at
        existing.booked_by, existing.booked_at = actor.user_id or existing.booked_by, now
    session.flush()
    record(
        session,
        EvaluationTag.room_booked,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={"session": existing.id},
        # where and when the committee sits is for the tender's parties and monitors (Fact.evaluation_session)
        confidential={
            "room": room.name,
            "starts_at": wanted.starts_at.isoformat(),
            "ends_at": wanted.ends_at.isoformat(),
        },
    )
    return existing


# ---------------------------------------------------------------- progress (what everybody may see)


@dataclass(frozen=True)
class Progress:
    booked: bool
    state: rules.State | None
    seats: int  # the committee's drawn seats
    checked_in: int
    chair_elected: bool
    room: str = ""  # room and time: only for those who may see the session (Fact.evaluation_session)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    steps_done: int = 0  # the committee's closed steps (models.STEP_ORDER), without their outcomes
    steps_total: int = len(STEP_ORDER)


def _progress(session: Session, actor: Actor, tender: Tender, seat: Seat | None = None) -> Progress:
    sess = session_of(session, tender.id)
    draw_row = _draw(session, tender.id)
    if sess is None or draw_row is None:
        return Progress(False, None, draws.counts(draw_row).seats if draw_row else 0, 0, False)
    shows_place = _may_see(session, actor, tender, seat, Fact.evaluation_session)
    return Progress(
        booked=True,
        state=rules.state(clock.as_utc(sess.starts_at), sess.paused, clock.now()),
        seats=draws.counts(draw_row).seats,
        checked_in=len(_present(sess, draw_row)),
        chair_elected=sess.chair_seat_id in {a.seat_id for a in _present(sess, draw_row)},
        room=sess.room.name if shows_place else "",
        starts_at=clock.as_utc(sess.starts_at) if shows_place else None,
        ends_at=clock.as_utc(sess.ends_at) if shows_place else None,
        steps_done=len(
            session.scalars(select(EvaluationStep.id).where(EvaluationStep.session_id == sess.id)).all()
        ),
    )


def progress(session: Session, actor: Actor, tender_id: int) -> tuple[Tender, Progress]:
    """The session's progress for a reader allowed to see it (Fact.evaluation_progress)."""
    tender = _tender(session, tender_id)
    seat = _seat_of(session, actor, _draw(session, tender.id))
    if not _may_see(session, actor, tender, seat, Fact.evaluation_progress):
        raise Forbidden.one(
            "room_progress_not_yet",
            N_("The evaluation's progress is shown once the tender is being evaluated."),
        )
    return tender, _progress(session, actor, tender, seat)


@dataclass
class BookingView:
    tender: Tender
    draw: Draw | None
    session: EvaluationSession | None
    progress: Progress
    rooms: list[RoomChoice]
    bookable: bool  # the tender is at a stage a session can be booked or moved in
    movable: bool  # no session yet, or its check-in has not opened


def booking_view(session: Session, actor: Actor, tender_id: int, rooms: tuple[str, ...]) -> BookingView:
    tender = _tender(session, tender_id)
    access.require_tender_agency(actor, tender)
    sess = session_of(session, tender.id)
    draw_row = _draw(session, tender.id)
    now = clock.now()
    return BookingView(
        tender=tender,
        draw=draw_row,
        session=sess,
        progress=_progress(session, actor, tender),
        rooms=room_choices(session, rooms, now),
        bookable=draw_row is not None and Status(tender.status) in BOOKABLE,
        movable=sess is None or now < clock.as_utc(sess.starts_at) - rules.CHECK_IN_EARLY,
    )


# ---------------------------------------------------------------- the member's side


@dataclass
class Member:
    seat_id: int
    name: str
    me: bool
    chair: bool
    votes: int  # votes for them (shown to the committee while it elects)


@dataclass
class RoomView:
    tender: Tender
    session: EvaluationSession | None
    seat: Seat | None
    attendance: Attendance | None
    state: rules.State | None
    progress: Progress
    present: list[Member] = field(default_factory=list)
    my_vote: int | None = None
    chair: str = ""
    may_check_in: bool = False
    read_refusal: str | None = "room_not_member"
    declaration: tuple[str, ...] = rules.DECLARATION
    expert_name: str = ""
    bids: list[dict[str, Any]] = field(default_factory=list)  # filled by evaluation.room.reading
    record: dict[str, Any] | None = None
    criteria: Any = None  # tender.notices.Criteria, beside the bids


def _require_member(session: Session, actor: Actor, tender: Tender) -> tuple[Draw, Seat]:
    """The actor's seat on this tender's committee, or the usual refusal: the room is for its members."""
    access.require_login(actor)
    draw_row = _draw(session, tender.id)
    seat = _seat_of(session, actor, draw_row)
    if draw_row is None or seat is None:
        raise Forbidden.one(
            "room_not_member",
            N_("The evaluation room is open only to the members of this tender's committee."),
        )
    return draw_row, seat


def workbench(session: Session, actor: Actor, tender_id: int) -> RoomView:
    tender = _tender(session, tender_id)
    draw_row, seat = _require_member(session, actor, tender)
    sess = session_of(session, tender.id)
    mine = _attendance(sess, seat)
    now = clock.now()
    view = RoomView(
        tender=tender,
        session=sess,
        seat=seat,
        attendance=mine,
        state=rules.state(clock.as_utc(sess.starts_at), sess.paused, now) if sess else None,
        progress=_progress(session, actor, tender, seat),
    )
    expert = _expert_of(session, actor)
    view.expert_name = expert.name if expert else ""
    present_now = (
        mine is not None and mine.status == AttendanceStatus.present and seat.status == SeatStatus.confirmed
    )
    view.may_check_in = (
        sess is not None
        and seat.status == SeatStatus.confirmed
        and mine is None
        and Status(tender.status) == Status.evaluating
        and rules.may_check_in(clock.as_utc(sess.starts_at), now)
    )
    view.read_refusal = rules.read_refusal(
        # E33: the policy's bid_files row (the committee, in evaluation); the room's own conditions follow
        member=seat.status == SeatStatus.confirmed and _may_see(session, actor, tender, seat, Fact.bid_files),
        present=present_now,
        evaluating=Status(tender.status) == Status.evaluating,
        session_state=view.state,
    )
    if sess is not None and present_now and _may_see(session, actor, tender, seat, Fact.committee_names):
        # L37, P8: the committee knows itself once it sits
        present = _present(sess, draw_row)
        names = dict(
            session.execute(
                select(Seat.id, Expert.name)
                .join(Expert, Expert.id == Seat.expert_id)
                .where(Seat.id.in_([a.seat_id for a in present]))
            ).all()
        )
        votes = {v.voter_seat_id: v.candidate_seat_id for v in _votes(session, sess)}
        view.present = [
            Member(
                a.seat_id,
                names.get(a.seat_id, ""),
                a.seat_id == seat.id,
                a.seat_id == sess.chair_seat_id,
                sum(1 for c in votes.values() if c == a.seat_id),
            )
            for a in present
        ]
        view.my_vote = votes.get(seat.id)
        view.chair = names.get(sess.chair_seat_id, "") if sess.chair_seat_id else ""
    return view


def _votes(session: Session, sess: EvaluationSession) -> list[ChairVote]:
    return list(
        session.scalars(select(ChairVote).where(ChairVote.session_id == sess.id).order_by(ChairVote.id))
    )


def _session_for_member(
    session: Session, actor: Actor, tender_id: int
) -> tuple[Tender, Draw, Seat, EvaluationSession]:
    tender = _tender(session, tender_id)
    draw_row, seat = _require_member(session, actor, tender)
    sess = session_of(session, tender.id, lock=True)
    if sess is None:
        raise Conflict.one(
            "room_no_session",
            N_("The agency has not booked the evaluation session yet; you will be told when it has."),
        )
    if Status(tender.status) in FINAL:
        raise Conflict.one(
            "room_closed", N_("This tender is closed: its evaluation room takes no more actions.")
        )
    return tender, draw_row, seat, sess


@dataclass(frozen=True)
class CheckIn:
    signed_name: str
    agreed: bool


def check_in(session: Session, actor: Actor, tender_id: int, data: CheckIn) -> Attendance:
    """A confirmed member checks in (E49: time and network address) and signs the declaration."""
    tender, draw_row, seat, sess = _session_for_member(session, actor, tender_id)
    now = clock.now()
    if seat.status != SeatStatus.confirmed:
        raise Conflict.one(
            "room_seat_not_confirmed",
            N_("Only a confirmed member checks in: confirm your seat on the page of your draws first."),
        )
    if _attendance(sess, seat) is not None:
        raise Conflict.one("room_already_checked_in", N_("You have already checked in to this session."))
    if Status(tender.status) != Status.evaluating:
        raise Conflict.one(
            "room_not_evaluating",
            N_("Check-in opens once the opening is closed and the tender is being evaluated."),
        )
    if not rules.may_check_in(clock.as_utc(sess.starts_at), now):
        raise Conflict.one(
            "room_check_in_not_open",
            N_("Check-in opens half an hour before the session starts, at %(time)s."),
            time=clock.to_cst(clock.as_utc(sess.starts_at) - rules.CHECK_IN_EARLY).strftime("%Y-%m-%d %H:%M"),
        )
    expert = session.get(Expert, seat.expert_id)
    assert expert is not None
    problems = []
    if not data.agreed:
        problems.append(
            Problem(
                "room_declaration_unsigned",
                N_("Tick the box to sign the declaration, or declare a conflict instead."),
                "agree",
            )
        )
    if "".join(data.signed_name.split()) != "".join(expert.name.split()):
        problems.append(
            Problem(
                "room_signature_mismatch",
                N_("Type your full name exactly as the expert pool holds it (%(name)s) to sign."),
                "signed_name",
                {"name": expert.name},
            )
        )
    if problems:
        raise ValidationFailed(problems)
    attendance = Attendance(
        session_id=sess.id,
        seat_id=seat.id,
        user_id=actor.user_id,
        status=AttendanceStatus.present,
        checked_in_at=now,
        address=actor.ip[:64],
        declaration_version=DECLARATION_VERSION,
        declaration_sha256=rules.declaration_sha256(DECLARATION_VERSION),
        signed_name=data.signed_name.strip()[:100],
    )
    sess.attendances.append(attendance)  # the collection may be loaded already: keep it current
    session.flush()
    record(
        session,
        EvaluationTag.room_checked_in,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={
            "session": sess.id,
            "seat": seat.id,
            "declaration_version": DECLARATION_VERSION,
            "declaration_sha256": attendance.declaration_sha256,
        },
        conceal_actor=True,  # L37: who sits is confidential until the result is final; E49: still recorded
    )
    return attendance


def declare_conflict(session: Session, actor: Actor, tender_id: int, note: str, channel: Channel) -> Seat:
    """A member who finds a conflict at check-in steps down; the draw's next substitute is called (R46, R48),
    who confirms and then checks in."""
    _tender_row, _draw_row, seat, sess = _session_for_member(session, actor, tender_id)
    if _attendance(sess, seat) is not None:
        raise Conflict.one(
            "room_already_checked_in_conflict",
            N_(
                "You have checked in: to step down now, leave the session and give the conflict as the "
                "reason."
            ),
        )
    return draws.declare_conflict(session, actor, seat.id, note, channel)


def leave(session: Session, actor: Actor, tender_id: int, reason: str, channel: Channel) -> Attendance:
    """A present member leaves the session: recorded, and the seat goes to the next substitute (R48)."""
    tender, _draw_row, seat, sess = _session_for_member(session, actor, tender_id)
    mine = _attendance(sess, seat)
    if mine is None or mine.status != AttendanceStatus.present:
        raise Conflict.one("room_not_present", N_("You are not checked in to this session."))
    if not reason.strip():
        raise ValidationFailed.one(
            "room_leave_reason", N_("Say why you leave (for example, illness or a conflict found)."), "reason"
        )
    now = clock.now()
    mine.status, mine.left_at, mine.leave_reason = AttendanceStatus.left, now, reason.strip()[:2000]
    if sess.chair_seat_id == seat.id:
        sess.chair_seat_id, sess.chair_elected_at = None, None  # the committee elects a new chair
    for vote in _votes(session, sess):
        if seat.id in (vote.voter_seat_id, vote.candidate_seat_id):
            session.delete(vote)
    session.flush()
    record(
        session,
        EvaluationTag.room_member_left,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={"session": sess.id, "seat": seat.id},
        confidential={"reason": mine.leave_reason},
        conceal_actor=True,
    )
    draws.leave_seat(session, actor, seat.id, mine.leave_reason, channel)
    return mine


def vote_chair(session: Session, actor: Actor, tender_id: int, candidate_seat_id: int) -> EvaluationSession:
    """A present member votes for a present member as chair; the chair is elected by a majority of the
    present members (rules.elected)."""
    tender, draw_row, seat, sess = _session_for_member(session, actor, tender_id)
    present = frozenset(a.seat_id for a in _present(sess, draw_row))
    if seat.id not in present:
        raise Conflict.one("room_not_present", N_("You are not checked in to this session."))
    if sess.chair_seat_id in present:
        raise Conflict.one("room_chair_elected", N_("The committee has elected its chair already."))
    if sess.chair_seat_id is not None:  # the chair stepped down (a conflict declared on the draw's page)
        sess.chair_seat_id, sess.chair_elected_at = None, None
    if candidate_seat_id not in present:
        raise ValidationFailed.one(
            "room_chair_candidate", N_("Vote for a member who has checked in to this session."), "candidate"
        )
    # G87 art. 45: the purchaser's representative may not chair. Representative seats are not drawn (the
    # draw holds them as a number), so none of the present members is one; the rule stays in rules.elected.
    representatives: frozenset[int] = frozenset()
    if not rules.may_chair(candidate_seat_id, representatives):
        raise ValidationFailed.one(
            "room_chair_representative",
            N_("The purchaser's representative may not chair the committee."),
            "candidate",
        )
    vote = session.scalars(
        select(ChairVote).where(ChairVote.session_id == sess.id, ChairVote.voter_seat_id == seat.id)
    ).one_or_none()
    now = clock.now()
    if vote is None:
        session.add(
            ChairVote(
                session_id=sess.id, voter_seat_id=seat.id, candidate_seat_id=candidate_seat_id, cast_at=now
            )
        )
    else:
        vote.candidate_seat_id, vote.cast_at = candidate_seat_id, now
    session.flush()
    record(
        session,
        EvaluationTag.room_chair_voted,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={"session": sess.id},
        confidential={"voter_seat": seat.id, "candidate_seat": candidate_seat_id},
        conceal_actor=True,
    )
    votes = {v.voter_seat_id: v.candidate_seat_id for v in _votes(session, sess)}
    chair = rules.elected(votes, present, representatives)
    if chair is not None:
        sess.chair_seat_id, sess.chair_elected_at = chair, now
        record(
            session,
            EvaluationTag.room_chair_elected,
            actor=actor,
            subject=f"tender:{tender.id}",
            details={
                "session": sess.id,
                "present": len(present),
                "votes": sum(1 for c in votes.values() if c == chair),
            },
            confidential={"chair_seat": chair},
            conceal_actor=True,
        )
    return sess


# ---------------------------------------------------------------- the monitor's side


@dataclass
class MonitorView:
    tender: Tender
    session: EvaluationSession | None
    progress: Progress
    present: list[tuple[str, Attendance]]  # names (monitors see the committee: Fact.committee_names)
    left: list[tuple[str, Attendance]]
    chair: str


def _require_monitor(session: Session, actor: Actor, tender_id: int) -> Tender:
    access.require_role(actor, Role.monitor)
    return _tender(session, tender_id)


def monitor_view(session: Session, actor: Actor, tender_id: int) -> MonitorView:
    tender = _require_monitor(session, actor, tender_id)
    sess = session_of(session, tender.id)
    draw_row = _draw(session, tender.id)
    present: list[tuple[str, Attendance]] = []
    left: list[tuple[str, Attendance]] = []
    chair = ""
    if (
        sess is not None
        and draw_row is not None
        and _may_see(session, actor, tender, None, Fact.committee_names)
    ):
        names = dict(
            session.execute(
                select(Seat.id, Expert.name)
                .join(Expert, Expert.id == Seat.expert_id)
                .where(Seat.draw_id == draw_row.id)
            ).all()
        )
        here = {a.id for a in _present(sess, draw_row)}
        present = [(names.get(a.seat_id, ""), a) for a in sess.attendances if a.id in here]
        left = [(names.get(a.seat_id, ""), a) for a in sess.attendances if a.status == AttendanceStatus.left]
        chair = names.get(sess.chair_seat_id, "") if sess.chair_seat_id else ""
    return MonitorView(tender, sess, _progress(session, actor, tender), present, left, chair)


def pause(session: Session, actor: Actor, tender_id: int, reason: str) -> SessionPause:
    """E52: a monitor pauses the session; while paused nobody reads the bids."""
    tender = _require_monitor(session, actor, tender_id)
    sess = session_of(session, tender.id, lock=True)
    if sess is None:
        raise Conflict.one("room_no_session", N_("No evaluation session is booked for this tender."))
    if sess.paused:
        raise Conflict.one("room_already_paused", N_("The session is paused already."))
    if not reason.strip():
        raise ValidationFailed.one(
            "room_pause_reason", N_("Give the reason for pausing the session."), "reason"
        )
    now = clock.now()
    sess.paused = True
    pause_row = SessionPause(
        session_id=sess.id, paused_at=now, paused_by=actor.user_id, reason=reason.strip()[:2000]
    )
    sess.pauses.append(pause_row)
    session.flush()
    record(
        session,
        EvaluationTag.room_paused,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={"session": sess.id, "reason": pause_row.reason},
    )
    return pause_row


def resume(session: Session, actor: Actor, tender_id: int, reason: str) -> SessionPause:
    tender = _require_monitor(session, actor, tender_id)
    sess = session_of(session, tender.id, lock=True)
    if sess is None:
        raise Conflict.one("room_no_session", N_("No evaluation session is booked for this tender."))
    open_pause = next((p for p in sess.pauses if p.resumed_at is None), None)
    if not sess.paused or open_pause is None:
        raise Conflict.one("room_not_paused", N_("The session is not paused."))
    if not reason.strip():
        raise ValidationFailed.one(
            "room_resume_reason", N_("Give the reason for resuming the session."), "reason"
        )
    sess.paused = False
    open_pause.resumed_at, open_pause.resumed_by = clock.now(), actor.user_id
    open_pause.resume_reason = reason.strip()[:2000]
    session.flush()
    record(
        session,
        EvaluationTag.room_resumed,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={"session": sess.id, "reason": open_pause.resume_reason},
    )
    return open_pause
