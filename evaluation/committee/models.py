"""Committee draws: the request, the exclusions with their reasons, and the seats with their confirmations."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock
from core.db import Base


class DrawStatus(enum.StrEnum):
    collecting = "collecting"  # committed and logged; waiting for the parties' contributions (no seats yet)
    failed = "failed"  # every contribution revealed, but the seed's ranking left a quota short: no seats
    abandoned = "abandoned"  # given up while collecting (a party lost its value); a new draw may be requested
    drawn = "drawn"  # members notified, confirmations under way
    published = "published"  # the tender is final and the record is public


class SeatKind(enum.StrEnum):
    member = "member"
    substitute = "substitute"


class SeatStatus(enum.StrEnum):
    notified = "notified"  # asked to confirm by respond_by
    confirmed = "confirmed"
    declined = "declined"
    timed_out = "timed_out"
    conflict = "conflict"  # declared a conflict at check-in (R46, R48)
    standby = "standby"  # a substitute not (yet) called
    unused = "unused"  # kept for the record; never called


# A draw in one of these ended without a committee: the tender may request another.
ENDED = frozenset({DrawStatus.failed, DrawStatus.abandoned})

# A seat in one of these is no longer counted on the committee and has been (or is being) replaced.
VACATED = frozenset({SeatStatus.declined, SeatStatus.timed_out, SeatStatus.conflict})


class Draw(Base):
    __tablename__ = "expert_draws"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), index=True)
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    request_id: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=DrawStatus.drawn.value, index=True)
    committee_size: Mapped[int] = mapped_column(Integer)
    representative_seats: Mapped[int] = mapped_column(Integer, default=0)
    quotas: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [{"specialty": code, "seats": n}]
    substitutes: Mapped[int] = mapped_column(Integer, default=0)
    regions: Mapped[list[Any]] = mapped_column(JSON, default=list)  # allowed expert regions; empty: any
    exclude_local: Mapped[bool] = mapped_column(Boolean, default=False)  # no experts from the tender's region
    evaluation_date: Mapped[date] = mapped_column(Date)
    confirm_hours: Mapped[int] = mapped_column(Integer, default=24)
    algorithm_version: Mapped[str] = mapped_column(String(40))
    server_seed: Mapped[str] = mapped_column(String(64))  # hex; secret until the record is published
    public_entropy: Mapped[str | None] = mapped_column(String(200), default=None)  # hex
    commitment: Mapped[str] = mapped_column(String(64))
    pool_root: Mapped[str] = mapped_column(String(64))
    exclusions_digest: Mapped[str] = mapped_column(String(64))
    candidates: Mapped[list[Any]] = mapped_column(JSON, default=list)  # the pool snapshot, as in the record
    seed: Mapped[str] = mapped_column(String(64))
    record: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)  # set when published
    commitment_entry: Mapped[int | None] = mapped_column(Integer, default=None)  # audit log index
    record_entry: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)  # failed or abandoned
    end_note: Mapped[str] = mapped_column(Text, default="")  # the abandonment's reason, the short quota

    contributions: Mapped[list[DrawContribution]] = relationship(
        order_by="DrawContribution.party", cascade="all, delete-orphan"
    )
    seats: Mapped[list[Seat]] = relationship(
        back_populates="draw", order_by="Seat.position", cascade="all, delete-orphan"
    )
    exclusions: Mapped[list[DrawExclusion]] = relationship(
        order_by="DrawExclusion.id", cascade="all, delete-orphan"
    )


class DrawContribution(Base):
    """One party's random value for a draw (etender-draw-2): first only its SHA-256 (the commitment), the
    value itself once every party has committed. Not secret: it is logged, and alone it tells nothing about
    the committee while the server seed is secret."""

    __tablename__ = "draw_contributions"
    __table_args__ = (UniqueConstraint("draw_id", "party"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("expert_draws.id", ondelete="CASCADE"), index=True)
    party: Mapped[str] = mapped_column(String(120))  # "agency:<credit code>", "monitor:<credit code>"
    role: Mapped[str] = mapped_column(String(20))  # the role that contributes for the party
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    commitment: Mapped[str | None] = mapped_column(String(64), default=None)  # hex SHA-256(value)
    value: Mapped[str | None] = mapped_column(String(64), default=None)  # hex, 32 bytes
    committed_entry: Mapped[int | None] = mapped_column(Integer, default=None)  # audit log index
    revealed_entry: Mapped[int | None] = mapped_column(Integer, default=None)
    committed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    revealed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    committed_at: Mapped[datetime | None] = mapped_column(default=None)
    revealed_at: Mapped[datetime | None] = mapped_column(default=None)


class DrawExclusion(Base):
    """An expert the avoidance rules kept out of this draw, with the reason (kept, and published with the
    record)."""

    __tablename__ = "draw_exclusions"

    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("expert_draws.id", ondelete="CASCADE"), index=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id"))
    reason: Mapped[str] = mapped_column(String(40))
    rule: Mapped[str] = mapped_column(String(40), default="")
    detail: Mapped[str] = mapped_column(String(200), default="")


class Seat(Base):
    """A drawn expert: a member asked to confirm, or a substitute waiting in rank order."""

    __tablename__ = "draw_seats"
    __table_args__ = (
        Index("ix_draw_seats_status_respond_by", "status", "respond_by"),
        Index("ix_draw_seats_expert_id_created_at", "expert_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("expert_draws.id", ondelete="CASCADE"), index=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("experts.id"))
    position: Mapped[int] = mapped_column(Integer)  # order in the draw: members first, then substitutes
    specialty: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))  # member or substitute (as drawn)
    status: Mapped[str] = mapped_column(String(20))
    replaces_seat_id: Mapped[int | None] = mapped_column(ForeignKey("draw_seats.id"), default=None)
    notified_at: Mapped[datetime | None] = mapped_column(default=None)
    respond_by: Mapped[datetime | None] = mapped_column(default=None)
    responded_at: Mapped[datetime | None] = mapped_column(default=None)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    draw: Mapped[Draw] = relationship(back_populates="seats")


class PhoneAnswer(Base):
    """A drawn expert's answer taken by the centre's phone call (an expert without a platform account, or one
    who answers by phone): who called, when, whom they spoke with and what was said (R47; E49)."""

    __tablename__ = "draw_phone_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    seat_id: Mapped[int] = mapped_column(ForeignKey("draw_seats.id", ondelete="CASCADE"), index=True)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=clock.now)
    called_at: Mapped[datetime] = mapped_column()
    spoke_with: Mapped[str] = mapped_column(String(100))
    accepted: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text)
