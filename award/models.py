"""The results of a procedure (issue 14): the publicity of the winning candidates generated from the signed
report (R54), the award the purchaser confirms (R55) and the contract recorded after it (L46).

These three tables are the results' common ground: the award services write them, the open-data export
(opendata/) and the archive read them. A feature's own tables (objections on results, complaints, notices,
bid securities) live beside it."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import Base


class Publicity(Base):
    """The publicity of a tender's winning candidates (R54: within 3 days of the signed report, for at least 3
    days), or, for government procurement, its result notice. `candidates` is the snapshot published, taken
    from the signed report, never retyped: a list of {"rank", "bid_id", "organisation_id", "name",
    "price_fen", ...} in rank order."""

    __tablename__ = "publicities"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), unique=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("evaluation_reports.id"))
    candidates: Mapped[list[Any]] = mapped_column(JSON, default=list)
    published_at: Mapped[datetime] = mapped_column(default=clock.now)
    ends_at: Mapped[datetime] = mapped_column()  # the earliest end; an unanswered objection holds the award
    audit_index: Mapped[int] = mapped_column(Integer)


class AwardStatus(enum.StrEnum):
    active = "active"  # the award stands (OCDS award.status "active")
    declined = "declined"  # the winner declined, could not perform or was disqualified: the next one or none
    cancelled = "cancelled"  # set aside by a complaint's remedy or the tender's cancellation


class Award(Base):
    """The purchaser's award of a tender to one bid (R55: to candidate no. 1 for state-funded projects). A
    declined award stays, with its ground, and the next candidate's award is a new row."""

    __tablename__ = "awards"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), index=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    rank: Mapped[int] = mapped_column(Integer)  # the candidate's rank in the publicity
    amount: Mapped[int] = mapped_column(BigInteger)  # fen, the awarded price
    estimate: Mapped[int] = mapped_column(BigInteger)  # fen, the lots' estimated price, for the savings
    status: Mapped[str] = mapped_column(String(20), default=AwardStatus.active)
    decided_at: Mapped[datetime] = mapped_column(default=clock.now)
    decided_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # why the award ended (declined or cancelled): a message key and its parameters, and a person's words
    end_reason_key: Mapped[str] = mapped_column(String(300), default="")
    end_reason_params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    end_note: Mapped[str] = mapped_column(Text, default="")
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    audit_index: Mapped[int] = mapped_column(Integer)

    @property
    def savings(self) -> int:
        """The savings against the estimate, in fen (negative when the award is above it)."""
        return self.estimate - self.amount


class Contract(Base):
    """The contract signed after an award (L46: within 30 days of the award notice), with its signed file."""

    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id"), unique=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)  # fen
    signed_on: Mapped[date] = mapped_column(Date)
    starts_on: Mapped[date | None] = mapped_column(Date, default=None)
    ends_on: Mapped[date | None] = mapped_column(Date, default=None)
    performance_bond: Mapped[int] = mapped_column(BigInteger, default=0)  # fen, at most 10% (R58)
    filename: Mapped[str] = mapped_column(String(255), default="")
    blob_key: Mapped[str] = mapped_column(String(64), default="")  # the signed file in blob storage
    sha256: Mapped[str] = mapped_column(String(64), default="")
    recorded_at: Mapped[datetime] = mapped_column(default=clock.now)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None] = mapped_column(default=None)  # procurement (GR50, G87-72)
    audit_index: Mapped[int] = mapped_column(Integer)
