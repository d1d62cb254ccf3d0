"""The evaluation report (R53): the frozen document and its SHA-256, the members' signing keys (one per seat
and session, made in the member's browser) and their signatures or deemed agreements."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import Base


class EvaluationReport(Base):
    """The report of a session, generated once after the ranking step: its canonical text (rules.canonical:
    the signed bytes, kept as they were hashed) and their SHA-256, never changed afterwards."""

    __tablename__ = "evaluation_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("evaluation_sessions.id", ondelete="CASCADE"), unique=True
    )
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), index=True)
    generated_at: Mapped[datetime] = mapped_column(default=clock.now)
    generated_by_seat_id: Mapped[int] = mapped_column(ForeignKey("draw_seats.id"))
    document: Mapped[str] = mapped_column(Text)  # the canonical JSON text (UTF-8) whose hash is signed
    sha256: Mapped[str] = mapped_column(String(64))
    audit_index: Mapped[int] = mapped_column(Integer)  # the report.generated entry
    deadline: Mapped[datetime] = mapped_column()  # R53: silent members count as agreeing from then
    completed_at: Mapped[datetime | None] = mapped_column(default=None, index=True)


class ReportKey(Base):
    """A member's Ed25519 public key for this session's report (the private key stays in their browser)."""

    __tablename__ = "evaluation_report_keys"
    __table_args__ = (UniqueConstraint("session_id", "seat_id", name="uq_evaluation_report_key_seat"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("evaluation_sessions.id", ondelete="CASCADE"), index=True
    )
    seat_id: Mapped[int] = mapped_column(ForeignKey("draw_seats.id"))
    public_key: Mapped[str] = mapped_column(String(64))  # 32 bytes, lowercase hex
    registered_at: Mapped[datetime] = mapped_column(default=clock.now)
    audit_index: Mapped[int] = mapped_column(Integer)


class ReportSignature(Base):
    """A member's signature of the report's SHA-256 (kind "signed", with an optional written dissent that is
    part of this record, not of the signed document), or R53's deemed agreement (kind "deemed")."""

    __tablename__ = "evaluation_report_signatures"
    __table_args__ = (UniqueConstraint("report_id", "seat_id", name="uq_evaluation_report_signature_seat"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("evaluation_reports.id", ondelete="CASCADE"), index=True
    )
    seat_id: Mapped[int] = mapped_column(ForeignKey("draw_seats.id"))
    kind: Mapped[str] = mapped_column(String(10))  # rules.SIGNED | rules.DEEMED
    public_key: Mapped[str | None] = mapped_column(String(64), default=None)
    signature: Mapped[str | None] = mapped_column(String(128), default=None)  # 64 bytes, lowercase hex
    dissent: Mapped[str] = mapped_column(Text, default="")
    signed_at: Mapped[datetime] = mapped_column(default=clock.now)
    audit_index: Mapped[int] = mapped_column(Integer)
