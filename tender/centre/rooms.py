"""The centre's bid-opening rooms (issue 16): a tender's opening is booked in one of them
(settings.opening_rooms)
for a slot that holds the bid deadline (L34). Before, the notice's opening place was free text that nothing
checked; a booking of a draft now also writes the room's name as the opening place.

A room holds one opening at a time: a booking that overlaps another is refused, naming the booking it clashes
with. The clashing tender is named to those who may know of it (it is published, or the reader is the centre
or may see the draft); to others it is "another tender", with its room and time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit import record
from core import clock
from core.disclosure import Fact
from core.errors import N_, Conflict, Problem, ValidationFailed
from core.identity import Actor
from tender import access
from tender.centre import rules
from tender.centre.intake import is_centre
from tender.centre.models import OpeningBooking, OpeningRoom
from tender.intake_events import CentreTag
from tender.lifecycle import Status
from tender.models import Tender

# Before its deadline a tender's opening may be booked or moved; after it the opening is under way.
BOOKABLE = (Status.draft, Status.published, Status.suspended)


@dataclass(frozen=True)
class OpeningBookingInput:
    room_number: int
    starts_at: datetime
    hours: int = rules.DEFAULT_HOURS


def room_row(session: Session, number: int, name: str) -> OpeningRoom:
    """The room's row, made on its first booking and locked: two bookings of one room at once wait for each
    other here, so the second sees the first instead of both passing the check."""
    stmt = select(OpeningRoom).where(OpeningRoom.number == number).with_for_update()
    room = session.scalars(stmt).one_or_none()
    if room is None:
        try:
            with session.begin_nested():
                session.add(OpeningRoom(number=number, name=name))
                session.flush()
        except IntegrityError:
            pass  # another booking made it first: lock theirs
        room = session.scalars(stmt).one()
    if room.name != name:
        room.name = name  # renamed in the settings: the calendar shows the new name
    return room


def may_name(actor: Actor, tender: Tender) -> bool:
    """Whether a clash may name this tender to the actor (a draft exists only for its parties: Fact.draft)."""
    return tender.status != Status.draft or is_centre(actor) or access.can_see_draft(actor, tender)


def clash_problem(room: str, slot: rules.Slot, named: str | None) -> Problem:
    params = {
        "room": room,
        "start": clock.to_cst(slot.starts_at).strftime("%Y-%m-%d %H:%M"),
        "end": clock.to_cst(slot.ends_at).strftime("%H:%M"),
    }
    if named is None:
        return Problem(
            "room_double_booked",
            N_(
                "%(room)s is already booked for another tender from %(start)s to %(end)s, which overlaps the "
                "time you chose. Choose another room or another time."
            ),
            "starts_at",
            params,
        )
    return Problem(
        "room_double_booked",
        N_(
            "%(room)s is already booked for %(tender)s from %(start)s to %(end)s, which overlaps the time "
            "you "
            "chose. Choose another room or another time."
        ),
        "starts_at",
        {**params, "tender": named},
    )


def book_opening(
    session: Session, actor: Actor, tender_id: int, data: OpeningBookingInput, rooms: tuple[str, ...]
) -> OpeningBooking:
    """The tender's agency, or the centre's staff, book (or move) its opening in one of the opening rooms."""
    tender = access.get_tender(session, tender_id, lock=True)
    if not is_centre(actor):
        access.require_tender_agency(actor, tender)
    if Status(tender.status) not in BOOKABLE or (
        tender.bid_deadline is not None and clock.now() >= clock.as_utc(tender.bid_deadline)
    ):
        raise Conflict.one(
            "opening_room_closed",
            N_(
                "The bid deadline has passed: the opening is under way and its room can no longer be changed."
            ),
        )
    deadline = clock.as_utc(tender.bid_deadline) if tender.bid_deadline else None
    problems = [
        Problem(c, m, f)
        for c, m, f in rules.booking_problems(data.starts_at, data.hours, deadline, clock.now())
    ]
    if not 1 <= data.room_number <= len(rooms):
        problems.append(
            Problem("opening_room_unknown", N_("Choose one of the centre's opening rooms."), "room")
        )
    if problems:
        raise ValidationFailed(problems)
    room = room_row(session, data.room_number, rooms[data.room_number - 1])
    wanted = rules.Slot(data.starts_at, data.starts_at + timedelta(hours=data.hours))
    others = session.execute(
        select(OpeningBooking, Tender)
        .join(Tender, Tender.id == OpeningBooking.tender_id)
        .where(OpeningBooking.room_id == room.id, OpeningBooking.tender_id != tender.id)
    ).all()
    taken = rules.first_clash(
        wanted, [(rules.Slot(clock.as_utc(b.starts_at), clock.as_utc(b.ends_at)), t) for b, t in others]
    )
    if taken is not None:
        slot, other = taken
        raise Conflict(
            [
                clash_problem(
                    room.name, slot, f"{other.reference} {other.title}" if may_name(actor, other) else None
                )
            ]
        )
    booking = session.scalars(
        select(OpeningBooking).where(OpeningBooking.tender_id == tender.id)
    ).one_or_none()
    assert actor.user_id is not None
    if booking is None:
        booking = OpeningBooking(tender_id=tender.id, room_id=room.id, booked_by=actor.user_id)
        session.add(booking)
    booking.room_id, booking.starts_at, booking.ends_at = room.id, wanted.starts_at, wanted.ends_at
    booking.booked_by, booking.booked_at = actor.user_id, clock.now()
    if tender.status == Status.draft:
        # the notice will name the booked room; a published notice's place changes by a clarification (R21)
        tender.opening_place = room.name
    session.flush()
    record(
        session,
        CentreTag.opening_room_booked,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={
            "room": room.name,
            "starts_at": wanted.starts_at.isoformat(),
            "ends_at": wanted.ends_at.isoformat(),
        },
        # a draft's booking is part of the draft (released with its publication, tender.drafting.publish)
        withhold=Fact.draft if tender.status == Status.draft else None,
    )
    return booking


def booking_of(session: Session, tender_id: int) -> OpeningBooking | None:
    return session.scalars(select(OpeningBooking).where(OpeningBooking.tender_id == tender_id)).one_or_none()


@dataclass(frozen=True)
class RoomSlots:
    number: int
    name: str
    booked: list[rules.Slot]  # the room's bookings from today on (times only: whose is the centre's to know)


@dataclass
class BookingView:
    tender: Tender
    booking: OpeningBooking | None
    rooms: list[RoomSlots]
    bookable: bool


def booking_view(session: Session, actor: Actor, tender_id: int, names: tuple[str, ...]) -> BookingView:
    """The agency's page for its tender's opening room: its booking and when each room is taken."""
    tender = access.get_tender(session, tender_id)
    access.require_tender_agency(actor, tender)
    since = clock.now() - timedelta(hours=rules.MAX_HOURS)
    rows = session.execute(
        select(OpeningRoom.number, OpeningBooking.starts_at, OpeningBooking.ends_at)
        .join(OpeningBooking, OpeningBooking.room_id == OpeningRoom.id)
        .where(OpeningBooking.ends_at > since)
        .order_by(OpeningBooking.starts_at)
    ).all()
    slots = [
        RoomSlots(
            n, name, [rules.Slot(clock.as_utc(s), clock.as_utc(e)) for number, s, e in rows if number == n]
        )
        for n, name in enumerate(names, start=1)
    ]
    open_ = Status(tender.status) in BOOKABLE and (
        tender.bid_deadline is None or clock.now() < clock.as_utc(tender.bid_deadline)
    )
    return BookingView(tender, booking_of(session, tender.id), slots, open_)
