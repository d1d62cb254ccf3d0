"""The intermediary marketplace's tables (中介超市, rules.md §5): the service catalogue, the intermediaries'
entries, the project owners' purchases, the sign-ups with their quotes, and each purchase's verifiable
selection (marketplace.selection)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core import clock
from core.db import Base


class ServiceType(Base):
    """One 中介服务事项 of the catalogue (marketplace/catalogue.json, editable by administrators), with the
    qualifications an intermediary must hold to offer it (Tangshan: the qualifications the service needs)."""

    __tablename__ = "marketplace_service_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))  # Chinese, the catalogue's own language
    name_en: Mapped[str] = mapped_column(String(200), default="")
    qualifications: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)


class EntryStatus(enum.StrEnum):
    submitted = "submitted"  # waiting for the centre's review
    returned = "returned"  # returned with reasons; the intermediary fixes and resubmits
    approved = "approved"  # in the marketplace for its services


class Entry(Base):
    """An intermediary organisation's application to enter the marketplace, one per organisation (a
    resubmission replaces its content; the audit log keeps every version's facts)."""

    __tablename__ = "marketplace_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=EntryStatus.submitted.value, index=True)
    services: Mapped[list[str]] = mapped_column(JSON, default=list)  # service type codes
    licence_number: Mapped[str] = mapped_column(String(60), default="")
    independent_legal_person: Mapped[bool] = mapped_column(Boolean, default=False)
    no_violation_3y: Mapped[bool] = mapped_column(Boolean, default=False)
    internal_rules: Mapped[bool] = mapped_column(Boolean, default=False)
    credit_report: Mapped[str] = mapped_column(String(300), default="")  # the report's number or source
    commitment_signed_by: Mapped[str] = mapped_column(String(100), default="")
    # [{"name": ..., "grade": ..., "expires_on": "YYYY-MM-DD"}]
    qualifications: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # [{"name": ..., "certificate": ..., "number": ...}]
    staff: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    submitted_at: Mapped[datetime] = mapped_column(default=clock.now)
    submitted_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    submissions: Mapped[int] = mapped_column(Integer, default=1)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    return_reasons: Mapped[str] = mapped_column(Text, default="")


class PurchaseStatus(enum.StrEnum):
    open = "open"  # sign-up open until the deadline
    selecting = "selecting"  # sign-up closed, the selection's seed committed, the owner's value awaited
    selected = "selected"  # an intermediary was selected (or directly chosen)
    failed = "failed"  # too few applicants or quotes


class Purchase(Base):
    """A project owner's (项目业主) purchase of an intermediary service."""

    __tablename__ = "marketplace_purchases"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    owner_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    service_code: Mapped[str] = mapped_column(String(40), index=True)
    project: Mapped[str] = mapped_column(String(300))
    ceiling_fen: Mapped[int] = mapped_column(BigInteger)
    requirements: Mapped[str] = mapped_column(Text, default="")
    state_funds: Mapped[bool] = mapped_column(Boolean, default=True)
    method: Mapped[str] = mapped_column(String(20))
    signup_deadline: Mapped[datetime] = mapped_column()
    selection_at: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(20), default=PurchaseStatus.open.value, index=True)
    chosen_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    # the contract: entered by either side, confirmed by the other (its file is kept outside the platform)
    contract_number: Mapped[str] = mapped_column(String(60), default="")
    contract_amount_fen: Mapped[int | None] = mapped_column(BigInteger, default=None)
    contract_by_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), default=None)
    contract_at: Mapped[datetime | None] = mapped_column(default=None)
    contract_confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
    # the owner's acceptance of the service result: "accepted" or "failed", with its note
    acceptance: Mapped[str] = mapped_column(String(20), default="")
    acceptance_note: Mapped[str] = mapped_column(Text, default="")
    accepted_at: Mapped[datetime | None] = mapped_column(default=None)

    signups: Mapped[list[SignUp]] = relationship(
        order_by="SignUp.organisation_id", cascade="all, delete-orphan"
    )


class SignUp(Base):
    """An approved intermediary's sign-up, with its quote for a priced method. Who signed up, how many and
    what they quoted stay confidential (marketplace.disclosure) until the deadline and the selection."""

    __tablename__ = "marketplace_signups"
    __table_args__ = (UniqueConstraint("purchase_id", "organisation_id", name="uq_marketplace_signup"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    purchase_id: Mapped[int] = mapped_column(ForeignKey("marketplace_purchases.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    quote_fen: Mapped[int | None] = mapped_column(BigInteger, default=None)
    signed_up_at: Mapped[datetime] = mapped_column(default=clock.now)
    signed_up_by: Mapped[int] = mapped_column(ForeignKey("users.id"))


class Rating(Base):
    """One rater's rating of the intermediary's service on a purchase (rules.md §5.4): the owner, the
    supervising authority or the centre, each once, with a score of 1 to 5 per indicator class. Kept for
    ever: a rating is never changed in place."""

    __tablename__ = "marketplace_ratings"
    __table_args__ = (UniqueConstraint("purchase_id", "rater_kind", name="uq_marketplace_rating"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    purchase_id: Mapped[int] = mapped_column(ForeignKey("marketplace_purchases.id"), index=True)
    intermediary_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    rater_kind: Mapped[str] = mapped_column(String(20))  # owner, authority, centre
    rated_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    scores: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    comment: Mapped[str] = mapped_column(Text, default="")
    rated_at: Mapped[datetime] = mapped_column(default=clock.now)


class SelectionStatus(enum.StrEnum):
    collecting = "collecting"  # server seed committed, the parties' values awaited
    done = "done"  # run and its record published (an intermediary selected, or the purchase failed)


class Selection(Base):
    """A purchase's verifiable selection (docs/marketplace-selection.md): the server seed (secret until the
    selection ran), its commitment, the applicant list fixed at sign-up close, the parties' contributions and
    the published record."""

    __tablename__ = "marketplace_selections"

    id: Mapped[int] = mapped_column(primary_key=True)
    purchase_id: Mapped[int] = mapped_column(ForeignKey("marketplace_purchases.id"), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=SelectionStatus.collecting.value)
    request_id: Mapped[str] = mapped_column(String(100))
    server_seed: Mapped[str] = mapped_column(String(64))
    commitment: Mapped[str] = mapped_column(String(64))
    pool_root: Mapped[str] = mapped_column(String(64))
    applicant_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    parties: Mapped[list[str]] = mapped_column(JSON, default=list)
    # {party: {"commitment": hex, "value": hex or ""}}
    contributions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    record: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    committed_at: Mapped[datetime] = mapped_column(default=clock.now)
    completed_at: Mapped[datetime | None] = mapped_column(default=None)
