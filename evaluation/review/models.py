"""The qualification and compliance review (R18-R20, R51): each member's pass/fail verdicts on every opened
bid against every criterion, and the committee's written clarification requests to bidders with their answers
(R52; P21, O 13 for an abnormally low price).

A verdict names the member's seat and attendance: a replaced member's verdicts stay (R48: kept, but void), and
their substitute, on another seat, enters afresh."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import Base


class ReviewVerdict(Base):
    """One member's verdict on one opened bid against one criterion (its kind and place in the tender's list;
    the text is kept beside it for the record). Changeable until the chair closes the review."""

    __tablename__ = "review_verdicts"
    __table_args__ = (
        UniqueConstraint(
            "session_id",
            "seat_id",
            "opened_bid_id",
            "kind",
            "criterion_index",
            name="uq_review_verdict",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("evaluation_sessions.id", ondelete="CASCADE"), index=True
    )
    seat_id: Mapped[int] = mapped_column(ForeignKey("draw_seats.id"))
    attendance_id: Mapped[int] = mapped_column(ForeignKey("evaluation_attendances.id"))
    opened_bid_id: Mapped[int] = mapped_column(ForeignKey("opened_bids.id"))
    kind: Mapped[str] = mapped_column(String(20))  # rules.QUALIFICATION | rules.COMPLIANCE
    criterion_index: Mapped[int] = mapped_column(Integer)
    criterion: Mapped[str] = mapped_column(Text)
    passed: Mapped[bool] = mapped_column(Boolean)
    ground: Mapped[str] = mapped_column(String(40), default="")  # rules.GROUNDS key, for a fail
    reason: Mapped[str] = mapped_column(Text, default="")
    entered_at: Mapped[datetime] = mapped_column(default=clock.now)
    changed_at: Mapped[datetime] = mapped_column(default=clock.now)


class ClarificationAssessment:
    accepted = "accepted"
    disregarded = "disregarded"  # the answer changes the bid's substance (R52): not taken into account


class ClarificationRequest(Base):
    """R52: the committee's written question to the bidder of one opened bid, the bidder's written answer, and
    the committee's assessment of it. The bidder sees it as the committee's, never a member's."""

    __tablename__ = "review_clarifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("evaluation_sessions.id", ondelete="CASCADE"), index=True
    )
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), index=True)
    opened_bid_id: Mapped[int] = mapped_column(ForeignKey("opened_bids.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)  # the bidder
    question: Mapped[str] = mapped_column(Text)
    low_price: Mapped[bool] = mapped_column(Boolean, default=False)  # asked about an abnormally low price
    asked_at: Mapped[datetime] = mapped_column(default=clock.now)
    asked_by_seat_id: Mapped[int] = mapped_column(ForeignKey("draw_seats.id"))
    deadline: Mapped[datetime] = mapped_column()
    answer: Mapped[str] = mapped_column(Text, default="")
    no_substance_change: Mapped[bool] = mapped_column(Boolean, default=False)  # the bidder's statement
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    assessment: Mapped[str] = mapped_column(String(20), default="")  # ClarificationAssessment, once assessed
    assessment_reason: Mapped[str] = mapped_column(Text, default="")
    assessed_at: Mapped[datetime | None] = mapped_column(default=None)
    assessed_by_seat_id: Mapped[int | None] = mapped_column(ForeignKey("draw_seats.id"), default=None)
