"""The committee's scoring (issue 13, steps 3-6; G87 art. 55, 62, 64): each present member's score sheet and
its entries, the tie lottery's server seed, the chair's price corrections and adjustments, and what members
did about the checks' flags after the summary (confirmed with a reason, or corrected: old value, new value).

A sheet belongs to a seat of the session's committee: a replaced member's seat is no longer present, so their
sheet stays, void (R48), and the replacement scores on a sheet of their own."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock
from core.db import Base


class ScoringSeed(Base):
    """The server seed of the session's tie lottery (etender-tie-1): made when scoring opens, its commitment
    (fairdraw.commitment) logged before any sheet is submitted, the seed itself revealed in the ranking's
    outcome."""

    __tablename__ = "scoring_seeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("evaluation_sessions.id", ondelete="CASCADE"), unique=True
    )
    server_seed: Mapped[str] = mapped_column(String(64))  # hex
    commitment: Mapped[str] = mapped_column(String(64))  # hex SHA-256(server seed)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class ScoreSheet(Base):
    __tablename__ = "score_sheets"
    __table_args__ = (UniqueConstraint("session_id", "seat_id", name="uq_score_sheet_seat"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("evaluation_sessions.id", ondelete="CASCADE"), index=True
    )
    seat_id: Mapped[int] = mapped_column(ForeignKey("draw_seats.id"))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    saved_at: Mapped[datetime] = mapped_column(default=clock.now)  # the last save
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    digest: Mapped[str] = mapped_column(String(64), default="")  # formulas.sheet_digest, hex, from submission

    entries: Mapped[list[ScoreEntry]] = relationship(
        back_populates="sheet", order_by="ScoreEntry.id", cascade="all, delete-orphan"
    )


class ScoreEntry(Base):
    """One score: a valid bid (its opened bid's id) × a factor of the tender's criteria (by name)."""

    __tablename__ = "score_entries"
    __table_args__ = (UniqueConstraint("sheet_id", "bid_id", "factor", name="uq_score_entry"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("score_sheets.id", ondelete="CASCADE"), index=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("opened_bids.id"))
    factor: Mapped[str] = mapped_column(String(200))
    # the score in hundredths (at most 2 decimals: formulas.SCORE_DECIMALS), exact in every database
    hundredths: Mapped[int] = mapped_column(Integer)
    saved_at: Mapped[datetime] = mapped_column(default=clock.now)

    sheet: Mapped[ScoreSheet] = relationship(back_populates="entries")


class FlagAction(Base):
    """After the summary a score changes only for a flag of the checks (G87 art. 64): the member confirms it
    with a reason (old = new) or corrects it (old -> new, with the reason). The correction table of the
    report."""

    __tablename__ = "score_flag_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("score_sheets.id", ondelete="CASCADE"), index=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("opened_bids.id"))
    factor: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # the flag: formulas.FLAG_OBJECTIVE, FLAG_HIGH, ...
    action: Mapped[str] = mapped_column(String(20))  # confirmed | corrected
    old_hundredths: Mapped[int] = mapped_column(Integer)
    new_hundredths: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=clock.now)


class PriceCorrection(Base):
    """The committee's arithmetic correction of a bid's price (P19: words over figures, unit price over total)
    or, for the lowest evaluated price method, an adjustment the tender documents allow (P30-33), each with
    its reason; recorded by the chair before the summary. One correction per bid (a later one replaces it),
    any number of adjustments."""

    __tablename__ = "price_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("evaluation_sessions.id", ondelete="CASCADE"), index=True
    )
    bid_id: Mapped[int] = mapped_column(ForeignKey("opened_bids.id"))
    kind: Mapped[str] = mapped_column(String(20))  # correction (amount = the corrected price) | adjustment
    amount_fen: Mapped[int] = mapped_column(BigInteger)  # fen
    reason: Mapped[str] = mapped_column(Text)
    recorded_by_seat_id: Mapped[int] = mapped_column(ForeignKey("draw_seats.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=clock.now)
