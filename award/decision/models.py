"""The award's own tables (issue 14): the signed notices (L45) and each bid's security (R35, R57). The award
and the contract themselves are award.models' common tables."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import Base


class NoticeKind(enum.StrEnum):
    award = "award"  # 中标通知书, to the winner
    result = "result"  # 中标结果通知书, to every other bidder (L45: at the same time)


class AwardNotice(Base):
    """One signed notice (docs/award-notice.md): the statement the platform signed (canonical JSON), its
    signature, and the whole signed file (PDF followed by the signature block) in blob storage."""

    __tablename__ = "award_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id"), index=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)  # the recipient
    kind: Mapped[str] = mapped_column(String(10))
    number: Mapped[str] = mapped_column(String(60), unique=True)
    statement: Mapped[str] = mapped_column(Text)  # canonical JSON text, the signed bytes after the prefix
    signature: Mapped[str] = mapped_column(String(128))  # base64 Ed25519
    signer: Mapped[str] = mapped_column(String(300))  # C2SP verifier key
    blob_key: Mapped[str] = mapped_column(String(64))  # the signed file
    sha256: Mapped[str] = mapped_column(String(64))  # of the signed file
    size: Mapped[int] = mapped_column(BigInteger)
    issued_at: Mapped[datetime] = mapped_column(default=clock.now)


class SecurityStatus(enum.StrEnum):
    held = "held"
    refunded = "refunded"
    forfeited = "forfeited"


class BidSecurity(Base):
    """The bid security (投标保证金) behind one counted bid: held until refunded by its deadline (R35: 5 days
    after a withdrawal before the deadline; R57: 5 days after the contract is signed, for the winner and every
    other bidder) or forfeited with its ground (E31, R74)."""

    __tablename__ = "bid_securities"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), index=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id"), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)  # fen, the lot's bid security
    status: Mapped[str] = mapped_column(String(20), default=SecurityStatus.held, index=True)
    refund_due: Mapped[datetime | None] = mapped_column(default=None)  # None: its deadline has not started
    refunded_at: Mapped[datetime | None] = mapped_column(default=None)
    refund_reference: Mapped[str] = mapped_column(String(100), default="")  # the bank transfer's reference
    forfeit_reason_key: Mapped[str] = mapped_column(String(300), default="")
    forfeit_note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    audit_index: Mapped[int | None] = mapped_column(Integer, default=None)
