"""Tenders, lots, documents, clarifications, questions, objections, registrations and downloads.
Money is kept in fen (分) as integers."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock
from core.db import Base
from tender.rules import OpeningPolicy


class Tender(Base):
    __tablename__ = "tenders"
    __table_args__ = (
        Index("ix_tenders_status_published_at", "status", "published_at"),
        Index("ix_tenders_published_at_id", "published_at", "id"),
        Index("ix_tenders_category_published_at_id", "category", "published_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    purchaser_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    category: Mapped[str] = mapped_column(String(20), index=True)  # works | goods | services
    government_procurement: Mapped[bool] = mapped_column(Boolean, default=False)
    state_funded: Mapped[bool] = mapped_column(Boolean, default=True)
    region: Mapped[str] = mapped_column(String(100), default="", index=True)
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    resume_to: Mapped[str | None] = mapped_column(String(20), default=None)
    monitor_suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    evaluation_method: Mapped[str] = mapped_column(String(30), default="comprehensive")
    criteria: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    doc_issue_start: Mapped[datetime | None] = mapped_column(default=None)
    doc_issue_end: Mapped[datetime | None] = mapped_column(default=None)
    question_deadline: Mapped[datetime | None] = mapped_column(default=None)
    bid_deadline: Mapped[datetime | None] = mapped_column(default=None, index=True)
    original_bid_deadline: Mapped[datetime | None] = mapped_column(default=None)
    opening_place: Mapped[str] = mapped_column(String(200), default="")
    key_holder_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    key_threshold: Mapped[int] = mapped_column(Integer, default=2)
    opening_policy: Mapped[str] = mapped_column(String(20), default=OpeningPolicy.quorum)
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    cancel_reason: Mapped[str] = mapped_column(Text, default="")  # a person's words (a cancellation)
    # a reason the platform gives (a failed opening): a message key and its parameters, shown in the reader's
    # language (issue 16: one sentence in each language, not both in one)
    end_reason_key: Mapped[str] = mapped_column(String(300), default="")
    end_reason_params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # issue 14 (award.decision.retender): the failed tender this draft tenders again, and why (a message key)
    retender_of_id: Mapped[int | None] = mapped_column(ForeignKey("tenders.id"), default=None, index=True)
    retender_reason_key: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)

    lots: Mapped[list[Lot]] = relationship(
        back_populates="tender", order_by="Lot.number", cascade="all, delete-orphan"
    )
    documents: Mapped[list[TenderDocument]] = relationship(
        order_by="TenderDocument.id", cascade="all, delete-orphan"
    )
    clarifications: Mapped[list[Clarification]] = relationship(order_by="Clarification.number")


class Lot(Base):
    __tablename__ = "lots"
    __table_args__ = (UniqueConstraint("tender_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    estimated_price: Mapped[int] = mapped_column(BigInteger)  # fen
    price_ceiling: Mapped[int] = mapped_column(BigInteger)  # fen, published (R27)
    bid_security: Mapped[int] = mapped_column(BigInteger, default=0)  # fen, at most 2% (R26)

    tender: Mapped[Tender] = relationship(back_populates="lots")


class TenderDocument(Base):
    __tablename__ = "tender_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), index=True)
    clarification_id: Mapped[int | None] = mapped_column(ForeignKey("clarifications.id"), default=None)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(BigInteger)
    blob_key: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=clock.now)


class Clarification(Base):
    """澄清/修改 (R21): numbered, public, possibly extending the bid deadline."""

    __tablename__ = "clarifications"
    __table_args__ = (UniqueConstraint("tender_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    affects_bids: Mapped[bool] = mapped_column(Boolean, default=True)
    deadline_before: Mapped[datetime]
    deadline_after: Mapped[datetime]
    issued_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime] = mapped_column(default=clock.now)


class Question(Base):
    """A bidder's question; the answer is published without naming who asked."""

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), index=True)
    asked_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    text: Mapped[str] = mapped_column(Text)
    asked_at: Mapped[datetime] = mapped_column(default=clock.now)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)


class Objection(Base):
    """异议 to the tender documents (R22): at least 10 days before the deadline, answered within 3 days,
    the procedure paused until then."""

    __tablename__ = "objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), index=True)
    raised_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    text: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime] = mapped_column(default=clock.now)
    answer_due: Mapped[datetime]
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)


class Registration(Base):
    """A bidder company's registration for a lot. Confidential before the deadline (E21, L22)."""

    __tablename__ = "registrations"
    __table_args__ = (UniqueConstraint("lot_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class Download(Base):
    """A download of a tender document. Anonymous downloads are allowed (E20); who downloaded is
    confidential before the deadline (E21)."""

    __tablename__ = "downloads"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("tender_documents.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None, index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), default=None)
    ip: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(default=clock.now)


# ---------------------------------------------------------------- sealed bids (issue 3)


class BidStatus(enum.StrEnum):
    uploading = "uploading"  # chunks arriving; unfinished at the deadline it counts as withdrawn (E27)
    submitted = "submitted"  # the newest complete upload of this company for this lot: the one that counts
    replaced = "replaced"  # a later submission of the same company for the same lot superseded it
    withdrawn = (
        "withdrawn"  # withdrawn by the bidder before the deadline, or unfinished at the deadline (E27)
    )
    # an upload the bidder gave up (cancelled, or replaced by a newer upload) before finishing
    abandoned = "abandoned"


class Bid(Base):
    """One sealed-bid upload of a bidder company for a lot. Only ciphertext is ever stored (E27): blob_key is
    the SHA-256 of the sealed file, which is also its content address in the blob store. Before the deadline
    no one but the bidder's own company may learn that this row exists (E21)."""

    __tablename__ = "bids"
    __table_args__ = (
        Index("ix_bids_lot_org_status", "lot_id", "organisation_id", "status"),
        # R40: a sealed file, or a header bid id, already used on the tender by another company is refused at
        # submission (tender/bids/submission.py): each is found by its own index, at any number of bids
        Index("ix_bids_tender_blob_key", "tender_id", "blob_key"),
        Index("ix_bids_tender_sealed_bid_id", "tender_id", "sealed_bid_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20), default=BidStatus.uploading, index=True)
    upload_id: Mapped[str] = mapped_column(
        String(64), default=""
    )  # the blob store's staged upload while uploading
    declared_size: Mapped[int] = mapped_column(
        BigInteger, default=0
    )  # what the bidder announced at the start
    blob_key: Mapped[str] = mapped_column(String(64), default="")  # SHA-256 hex of the ciphertext
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    sealed_bid_id: Mapped[str] = mapped_column(String(32), default="")  # the header's bid_id
    ip: Mapped[str] = mapped_column(String(64), default="")
    started_at: Mapped[datetime] = mapped_column(default=clock.now)
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)  # replaced, withdrawn or abandoned at
    audit_index: Mapped[int | None] = mapped_column(
        BigInteger, default=None
    )  # the tender.bid.submitted entry
    receipt: Mapped[str] = mapped_column(Text, default="")  # canonical JSON receipt body (E27)
    receipt_signature: Mapped[str] = mapped_column(String(128), default="")  # base64 Ed25519
    receipt_signer: Mapped[str] = mapped_column(
        String(300), default=""
    )  # the C2SP verifier key that signed it


# ---------------------------------------------------------------- the opening (issue 3)


class OpeningStatus(enum.StrEnum):
    awaiting_parts = "awaiting_parts"  # opening time reached: key holders (and bidders) submit their parts
    decrypting = "decrypting"  # the quorum is in: bids are being decrypted
    done = "done"  # every bid has its outcome; the record is published
    failed = "failed"  # R44: fewer than 3 bids


class Opening(Base):
    """The opening ceremony of a tender, created when bidding closes (L34: the opening is at the deadline)."""

    __tablename__ = "openings"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tenders.id"), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=OpeningStatus.awaiting_parts)
    opens_at: Mapped[datetime]  # the bid deadline: no part is accepted and no ciphertext served before it
    bids_count: Mapped[int] = mapped_column(Integer, default=0)
    quorum_at: Mapped[datetime | None] = mapped_column(default=None)
    window_ends_at: Mapped[datetime | None] = mapped_column(
        default=None
    )  # quorum+bidder: bidders' parts due (E31)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    record_sha256: Mapped[str] = mapped_column(String(64), default="")  # the published opening record (E32)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class OpeningCheckIn(Base):
    __tablename__ = "opening_check_ins"
    __table_args__ = (UniqueConstraint("opening_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    opening_id: Mapped[int] = mapped_column(ForeignKey("openings.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=clock.now)


class KeyPart(Base):
    """An unwrapped key part submitted at the opening (never before it): one slot of one bid's header."""

    __tablename__ = "opening_key_parts"
    __table_args__ = (UniqueConstraint("bid_id", "subset_index", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    opening_id: Mapped[int] = mapped_column(ForeignKey("openings.id"), index=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    party: Mapped[int | None] = mapped_column(
        Integer, default=None
    )  # the holder's index; None for the bidder
    subset_index: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    part: Mapped[str] = mapped_column(String(64))  # base64url, 32 bytes
    submitted_at: Mapped[datetime] = mapped_column(default=clock.now)


class OpenedBidStatus(enum.StrEnum):
    pending = "pending"  # waiting for its parts
    decrypting = "decrypting"  # claimed by a decryption task
    opened = "opened"  # decrypted and checked: its price form is in the record
    revoked = "revoked"  # E31: failed through the bidder's own fault (撤销)
    withdrawn = "withdrawn"  # E31: failed through no fault of the bidder (撤回)


class OpenedBid(Base):
    """The outcome of one counted bid at the opening. A task claims it (pending -> decrypting) and records
    the outcome once; a crash leaves it claimed and the sweep gives it back, so no bid is skipped and none is
    recorded twice."""

    __tablename__ = "opened_bids"

    id: Mapped[int] = mapped_column(primary_key=True)
    opening_id: Mapped[int] = mapped_column(ForeignKey("openings.id"), index=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id"), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=OpenedBidStatus.pending, index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    reason_code: Mapped[str] = mapped_column(String(60), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    price_form: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    files: Mapped[list[Any]] = mapped_column(
        JSON, default=list
    )  # role, name, media_type, size, sha256, blob_key
    decrypted_at: Mapped[datetime | None] = mapped_column(default=None)


class OpeningObjection(Base):
    """An objection raised at the opening and its answer given on the spot (R44)."""

    __tablename__ = "opening_objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    opening_id: Mapped[int] = mapped_column(ForeignKey("openings.id"), index=True)
    raised_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    text: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime] = mapped_column(default=clock.now)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
