"""The centre's intake records, opening rooms, opening bookings and witnessing records (issue 16)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock
from core.db import Base


class Funding(enum.StrEnum):
    """Where a project's money comes from (L3: state funds make tendering compulsory)."""

    fiscal = "fiscal"  # the state budget (财政资金)
    state_owned = "state_owned"  # a state-owned enterprise's own funds (国有资金)
    mixed = "mixed"  # partly state funds
    private = "private"  # no state funds


class ProjectIntake(Base):
    """进场登记: the centre registers a project coming in to be traded, before the agency drafts its tender;
    the agency's draft links to it (tender_id), one draft per intake."""

    __tablename__ = "project_intakes"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)  # the centre's project number
    title: Mapped[str] = mapped_column(String(300))
    purchaser_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    category: Mapped[str] = mapped_column(String(20))  # works | goods | services
    funding: Mapped[str] = mapped_column(String(20))  # Funding
    planned_publication: Mapped[datetime | None] = mapped_column(default=None)
    planned_opening: Mapped[datetime | None] = mapped_column(default=None)
    remarks: Mapped[str] = mapped_column(Text, default="")
    registered_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    registered_at: Mapped[datetime] = mapped_column(default=clock.now)
    tender_id: Mapped[int | None] = mapped_column(ForeignKey("tenders.id"), unique=True, default=None)
    linked_at: Mapped[datetime | None] = mapped_column(default=None)


class OpeningRoom(Base):
    """One of the centre's bid-opening rooms (settings.opening_rooms). Its row is what a booking locks, so
    that
    two bookings of one room at once are decided one after the other."""

    __tablename__ = "opening_rooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)  # its place in the settings' list, from 1
    name: Mapped[str] = mapped_column(String(100))


class OpeningBooking(Base):
    """A tender's opening booked in one of the opening rooms (L34: the opening is at the bid deadline, in the
    place the notice names). One per tender: booking again moves it."""

    __tablename__ = "opening_bookings"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), unique=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("opening_rooms.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    booked_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    booked_at: Mapped[datetime] = mapped_column(default=clock.now)

    room: Mapped[OpeningRoom] = relationship()


class WitnessKind(enum.StrEnum):
    opening = "opening"  # the bid opening (L34-L36)
    evaluation = "evaluation"  # an evaluation session in the sealed room (E33)


class WitnessRecord(Base):
    """见证: a centre staff member records that they witnessed an opening or an evaluation session: who, when,
    what they remarked. Never changed once written (a correction is a new record)."""

    __tablename__ = "witness_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # WitnessKind
    witness_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    witness_name: Mapped[str] = mapped_column(String(100))  # the name at the time of witnessing
    witnessed_at: Mapped[datetime] = mapped_column()  # when they witnessed it (the person says)
    remarks: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(default=clock.now)
