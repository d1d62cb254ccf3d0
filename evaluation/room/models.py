"""The sealed evaluation room (E33): the centre's rooms, a tender's booked session in one of them, the
members' check-ins with their signed declarations, the chair's election and the monitors' pauses.

The review and scoring steps hang off EvaluationSession (its id) and the member's Attendance, so that a
replaced member's work can be told from their replacement's."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock
from core.db import Base


class EvaluationRoom(Base):
    """One of the centre's sealed rooms. Its row is what a booking locks, so that two bookings of one room
    at once are decided one after the other (rules.clash then sees the first)."""

    __tablename__ = "evaluation_rooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)  # its place in the settings' list, from 1
    name: Mapped[str] = mapped_column(String(100))


class EvaluationSession(Base):
    __tablename__ = "evaluation_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), unique=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("expert_draws.id"))
    room_id: Mapped[int] = mapped_column(ForeignKey("evaluation_rooms.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()  # the booking's end: the room is free again from then
    booked_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    booked_at: Mapped[datetime] = mapped_column(default=clock.now)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    chair_seat_id: Mapped[int | None] = mapped_column(ForeignKey("draw_seats.id"), default=None)
    chair_elected_at: Mapped[datetime | None] = mapped_column(default=None)

    room: Mapped[EvaluationRoom] = relationship()
    attendances: Mapped[list[Attendance]] = relationship(
        back_populates="session", order_by="Attendance.id", cascade="all, delete-orphan"
    )
    pauses: Mapped[list[SessionPause]] = relationship(
        order_by="SessionPause.id", cascade="all, delete-orphan"
    )


class AttendanceStatus(enum.StrEnum):
    present = "present"  # checked in and signed the declaration
    left = "left"  # left the session; the seat went to a substitute (R48)


# The declaration's version: a change of its words makes a new version, so that a signature names the text
# it was given over (its SHA-256 is kept beside it).
DECLARATION_VERSION = "2026-12"


class Attendance(Base):
    """A member's check-in (E49: time and network address) with the declaration they signed."""

    __tablename__ = "evaluation_attendances"
    __table_args__ = (UniqueConstraint("session_id", "seat_id", name="uq_evaluation_attendance_seat"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("evaluation_sessions.id", ondelete="CASCADE"), index=True
    )
    seat_id: Mapped[int] = mapped_column(ForeignKey("draw_seats.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20), default=AttendanceStatus.present.value)
    checked_in_at: Mapped[datetime] = mapped_column(default=clock.now)
    address: Mapped[str] = mapped_column(String(64), default="")
    declaration_version: Mapped[str] = mapped_column(String(20))
    declaration_sha256: Mapped[str] = mapped_column(String(64))
    signed_name: Mapped[str] = mapped_column(String(100))  # the name the member typed as their signature
    left_at: Mapped[datetime | None] = mapped_column(default=None)
    leave_reason: Mapped[str] = mapped_column(Text, default="")

    session: Mapped[EvaluationSession] = relationship(back_populates="attendances")


class ChairVote(Base):
    """A present member's vote for the chair (G87 art. 45: the committee elects its chair); one per member,
    changeable until a chair is elected."""

    __tablename__ = "evaluation_chair_votes"
    __table_args__ = (UniqueConstraint("session_id", "voter_seat_id", name="uq_evaluation_chair_vote"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("evaluation_sessions.id", ondelete="CASCADE"), index=True
    )
    voter_seat_id: Mapped[int] = mapped_column(ForeignKey("draw_seats.id"))
    candidate_seat_id: Mapped[int] = mapped_column(ForeignKey("draw_seats.id"))
    cast_at: Mapped[datetime] = mapped_column(default=clock.now)


class SessionPause(Base):
    """A monitor's pause of the session and its resumption, each with its reason (E52)."""

    __tablename__ = "evaluation_session_pauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("evaluation_sessions.id", ondelete="CASCADE"), index=True
    )
    paused_at: Mapped[datetime] = mapped_column(default=clock.now)
    paused_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    resumed_at: Mapped[datetime | None] = mapped_column(default=None)
    resumed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    resume_reason: Mapped[str] = mapped_column(Text, default="")


class Step(enum.StrEnum):
    """The committee's steps, in order (issue 13; G87 art. 55-64): each is closed once, by the chair, with
    its outcome; a later step opens when the one before it is closed."""

    review = "review"  # qualification and compliance review (R18-R20, R51); outcome: the valid bids
    scoring = "scoring"  # every member's sheet submitted and the checks resolved (G87 art. 55, 62, 64)
    ranking = "ranking"  # the ranking and the candidates (R53, P45), or all bids rejected (L42, P27)


STEP_ORDER = (Step.review, Step.scoring, Step.ranking)


class EvaluationStep(Base):
    """A closed step of a session with its outcome (JSON the step's service defines and the report reads);
    the row is what later steps and the progress page read. One per step: closing is not repeated."""

    __tablename__ = "evaluation_steps"
    __table_args__ = (UniqueConstraint("session_id", "step", name="uq_evaluation_step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("evaluation_sessions.id", ondelete="CASCADE"), index=True
    )
    step: Mapped[str] = mapped_column(String(20))
    closed_at: Mapped[datetime] = mapped_column(default=clock.now)
    closed_by_seat_id: Mapped[int] = mapped_column(ForeignKey("draw_seats.id"))
    outcome: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
