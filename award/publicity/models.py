"""Objections on a tender's result (R54) and complaints to the supervisor (R60, R61). The publicity itself is
award.models.Publicity, the results' common table."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import Base


class ResultObjection(Base):
    """An objection to the result raised during the publicity (R54): answered by the purchaser or its agency
    within 3 days; until every objection is answered the procedure is suspended (no award)."""

    __tablename__ = "result_objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), index=True)
    publicity_id: Mapped[int] = mapped_column(ForeignKey("publicities.id"), index=True)
    raised_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    text: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime] = mapped_column(default=clock.now)
    answer_due: Mapped[datetime] = mapped_column(index=True)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
    audit_index: Mapped[int] = mapped_column(Integer)


class Complaint(Base):
    """A complaint to the supervising monitors (R60): received, then accepted or rejected within 3 working
    days, and an accepted one decided within 30 working days (R61): dismissed, or upheld with its remedy."""

    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), index=True)
    raised_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    matter: Mapped[str] = mapped_column(String(20))  # rules.Matter
    # the objection that came first (R60), for a matter under R22 (tender.models.Objection), R44
    # (tender.models.OpeningObjection) or R54 (ResultObjection): its id in its own table
    objection_id: Mapped[int | None] = mapped_column(Integer, default=None)
    text: Mapped[str] = mapped_column(Text)
    known_on: Mapped[date] = mapped_column(Date)  # the day the complainant knew the facts (R60)
    received_at: Mapped[datetime] = mapped_column(default=clock.now)
    status: Mapped[str] = mapped_column(String(20), default="received", index=True)  # rules.ComplaintStatus
    acceptance_due: Mapped[datetime] = mapped_column()
    accepted_at: Mapped[datetime | None] = mapped_column(default=None)  # also the moment of a rejection
    acceptance_note: Mapped[str] = mapped_column(Text, default="")
    decision_due: Mapped[datetime | None] = mapped_column(default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    outcome: Mapped[str] = mapped_column(String(20), default="")  # rules.Outcome
    remedy: Mapped[str] = mapped_column(String(20), default="")  # rules.Remedy, when upheld
    # the opened bid whose candidacy an upheld complaint ends (Remedy.new_candidate)
    dropped_bid: Mapped[int | None] = mapped_column(Integer, default=None)
    decision: Mapped[str] = mapped_column(Text, default="")  # the monitor's reasons, as written
    audit_index: Mapped[int] = mapped_column(Integer)
