"""The trading centre's workbench (issue 16) where it needs both the tender and the evaluation packages: the
week's calendar of its opening rooms (tender.centre.rooms) and evaluation rooms (evaluation.room), and the
staff's witnessing (见证) of an opening or an evaluation session.

What the calendar names: an evaluation session's tender and time are Fact.evaluation_session, which the centre
(its staff and administrators) sees from the bid deadline on; an opening booking's tender is the centre's own
register (a draft's booking included: the centre registered the project and hosts the opening)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from accounts.models import User
from audit import record
from core import clock
from core.disclosure import Fact
from core.errors import N_, Conflict, NotFound, Problem, ValidationFailed
from core.identity import Actor, Role
from evaluation.room import rules as room_rules
from evaluation.room.models import EvaluationRoom, EvaluationSession
from tender import access, disclosure
from tender.centre import rules
from tender.centre.intake import require_centre
from tender.centre.models import OpeningBooking, OpeningRoom, WitnessKind, WitnessRecord
from tender.intake_events import CentreTag
from tender.lifecycle import FINAL, Status
from tender.models import Opening, Tender

# ---------------------------------------------------------------- the rooms' week


@dataclass(frozen=True)
class CalendarEntry:
    kind: str  # "opening" | "evaluation"
    starts_at: datetime
    ends_at: datetime
    tender_id: int
    reference: str
    title: str


@dataclass
class RoomRow:
    kind: str
    number: int
    name: str
    days: list[list[CalendarEntry]] = field(default_factory=lambda: [[] for _ in range(7)])


@dataclass
class Week:
    start: datetime  # Monday 00:00, Beijing time
    days: list[date]
    rooms: list[RoomRow]
    previous: date
    next: date
    today: date


def _spread(row: RoomRow, entry: CalendarEntry, start: datetime) -> None:
    """Put the entry into each day of the week it touches (a booking past midnight shows on both days)."""
    for i in range(7):
        day = rules.Slot(start + timedelta(days=i), start + timedelta(days=i + 1))
        if rules.overlaps(day, rules.Slot(entry.starts_at, entry.ends_at)):
            row.days[i].append(entry)


def week(
    session: Session,
    actor: Actor,
    day: date,
    opening_rooms: tuple[str, ...],
    evaluation_rooms: tuple[str, ...],
) -> Week:
    require_centre(actor)
    start = datetime(day.year, day.month, day.day, tzinfo=clock.CST)
    start = rules.week_start(start)
    end = start + rules.WEEK
    utc_start, utc_end = start.astimezone(UTC), end.astimezone(UTC)
    rows: dict[tuple[str, int], RoomRow] = {}
    for number, name in enumerate(opening_rooms, start=1):
        rows["opening", number] = RoomRow("opening", number, name)
    for number, name in enumerate(evaluation_rooms, start=1):
        rows["evaluation", number] = RoomRow("evaluation", number, name)
    openings = session.execute(
        select(OpeningBooking, OpeningRoom.number, Tender)
        .join(OpeningRoom, OpeningRoom.id == OpeningBooking.room_id)
        .join(Tender, Tender.id == OpeningBooking.tender_id)
        .where(OpeningBooking.starts_at < utc_end, OpeningBooking.ends_at > utc_start)
    ).all()
    for booking, number, tender in openings:
        if (row := rows.get(("opening", number))) is not None:
            entry = CalendarEntry(
                "opening",
                clock.as_utc(booking.starts_at),
                clock.as_utc(booking.ends_at),
                tender.id,
                tender.reference,
                tender.title,
            )
            _spread(row, entry, utc_start)
    sessions = session.execute(
        select(EvaluationSession, EvaluationRoom.number, Tender)
        .join(EvaluationRoom, EvaluationRoom.id == EvaluationSession.room_id)
        .join(Tender, Tender.id == EvaluationSession.tender_id)
        .where(EvaluationSession.starts_at < utc_end, EvaluationSession.ends_at > utc_start)
    ).all()
    for sess, number, tender in sessions:
        row = rows.get(("evaluation", number))
        if row is None or not disclosure.may_see(session, actor, tender, Fact.evaluation_session):
            continue
        entry = CalendarEntry(
            "evaluation",
            clock.as_utc(sess.starts_at),
            clock.as_utc(sess.ends_at),
            tender.id,
            tender.reference,
            tender.title,
        )
        _spread(row, entry, utc_start)
    for row in rows.values():
        for entries in row.days:
            entries.sort(key=lambda e: e.starts_at)
    return Week(
        start=start,
        days=[(start + timedelta(days=i)).date() for i in range(7)],
        rooms=list(rows.values()),
        previous=(start - rules.WEEK).date(),
        next=end.date(),
        today=clock.to_cst(clock.now()).date(),
    )


def bookable_tenders(session: Session, actor: Actor) -> list[Tender]:
    """The tenders whose opening the centre may still book: before their deadline (tender.centre.rooms)."""
    require_centre(actor)
    now = clock.now()
    rows = session.scalars(
        select(Tender)
        .where(
            Tender.status.in_([Status.draft.value, Status.published.value, Status.suspended.value]),
            or_(Tender.bid_deadline.is_(None), Tender.bid_deadline > now),
        )
        .order_by(Tender.bid_deadline, Tender.id)
        .limit(200)
    )
    return list(rows)


# ---------------------------------------------------------------- witnessing (见证)


@dataclass(frozen=True)
class WitnessInput:
    kind: str
    witnessed_at: datetime | None
    remarks: str = ""


def _witness_problems(
    kind: str, at: datetime | None, earliest: datetime | None, now: datetime
) -> list[Problem]:
    out = []
    if kind not in {k.value for k in WitnessKind}:
        out.append(Problem("witness_kind", N_("Choose the opening or the evaluation session."), "kind"))
    if at is None:
        out.append(Problem("witness_time", N_("Enter when you witnessed it (Beijing time)."), "witnessed_at"))
    elif at > now:
        out.append(
            Problem("witness_future", N_("A witnessing is recorded after it took place."), "witnessed_at")
        )
    elif earliest is not None and at < earliest:
        out.append(
            Problem(
                "witness_before_start",
                N_("It had not started then (it started at %(start)s); check the time."),
                "witnessed_at",
                {"start": clock.to_cst(earliest).strftime("%Y-%m-%d %H:%M")},
            )
        )
    return out


def witness(session: Session, actor: Actor, tender_id: int, data: WitnessInput) -> WitnessRecord:
    """A centre staff member records that they witnessed the tender's opening or its evaluation session."""
    access.require_role(actor, Role.centre)
    tender = access.get_tender(session, tender_id)
    if tender.status == Status.draft:
        raise NotFound.one("tender_not_found", N_("No such tender."))
    now = clock.now()
    earliest: datetime | None = None
    if data.kind == WitnessKind.opening:
        opening = session.scalars(select(Opening).where(Opening.tender_id == tender.id)).one_or_none()
        if opening is None:
            raise Conflict.one(
                "witness_no_opening",
                N_("This tender's opening has not begun: it begins at the bid deadline."),
            )
        earliest = clock.as_utc(opening.opens_at)
    elif data.kind == WitnessKind.evaluation:
        sess = session.scalars(
            select(EvaluationSession).where(EvaluationSession.tender_id == tender.id)
        ).one_or_none()
        if sess is None:
            raise Conflict.one(
                "witness_no_session", N_("No evaluation session is booked for this tender yet.")
            )
        earliest = clock.as_utc(sess.starts_at) - room_rules.CHECK_IN_EARLY
    problems = _witness_problems(data.kind, data.witnessed_at, earliest, now)
    if problems:
        raise ValidationFailed(problems)
    assert actor.user_id is not None and data.witnessed_at is not None
    user_name = actor.username
    if (user := session.get(User, actor.user_id)) is not None:
        user_name = user.full_name or user.username
    row = WitnessRecord(
        tender_id=tender.id,
        kind=data.kind,
        witness_id=actor.user_id,
        witness_name=user_name,
        witnessed_at=data.witnessed_at,
        remarks=data.remarks.strip(),
        recorded_at=now,
    )
    session.add(row)
    session.flush()
    facts = {"witness": user_name, "witnessed_at": data.witnessed_at.isoformat(), "remarks": row.remarks}
    record(
        session,
        CentreTag.witness_recorded,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={
            "witness_record": row.id,
            "kind": data.kind,
            **(facts if data.kind == WitnessKind.opening else {}),
        },
        # an evaluation session's time is Fact.evaluation_session: the witnessing of it says when it sat
        confidential=facts if data.kind == WitnessKind.evaluation else None,
    )
    return row


def witnesses(session: Session, actor: Actor, tender: Tender) -> list[WitnessRecord]:
    """The tender's witnessing records the reader may see: the opening's for everyone once the ceremony has
    begun (it is public, L35), an evaluation session's for those who may see the session
    (Fact.evaluation_session)."""
    rows = list(
        session.scalars(
            select(WitnessRecord)
            .where(WitnessRecord.tender_id == tender.id)
            .order_by(WitnessRecord.witnessed_at)
        )
    )
    sees_session = disclosure.may_see(session, actor, tender, Fact.evaluation_session)
    return [r for r in rows if r.kind == WitnessKind.opening or sees_session]


@dataclass(frozen=True)
class Witnessable:
    tender: Tender
    kinds: list[str]  # what may be witnessed now: "opening", "evaluation"


def witnessable(session: Session, actor: Actor) -> list[Witnessable]:
    """Tenders whose opening or evaluation session a centre staff member may witness: begun, not final."""
    require_centre(actor)
    openings = set(session.scalars(select(Opening.tender_id)))
    sessions = set(session.scalars(select(EvaluationSession.tender_id)))
    tenders = session.scalars(
        select(Tender)
        .where(Tender.id.in_(openings | sessions), Tender.status.not_in([s.value for s in FINAL]))
        .order_by(Tender.bid_deadline.desc(), Tender.id.desc())
        .limit(100)
    )
    out = []
    for tender in tenders:
        kinds = [k for k, ids in (("opening", openings), ("evaluation", sessions)) if tender.id in ids]
        out.append(Witnessable(tender, kinds))
    return out
