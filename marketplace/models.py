"""The intermediary marketplace's tables (中介超市, rules.md §5): the service catalogue, the intermediaries'
entries, the project owners' purchases, the sign-ups with their quotes, and each purchase's verifiable
selection (marketplace.selection)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
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
    exited = (
        "exited"  # removed by an exit rule (marketplace.exits); back by an upheld appeal or credit repair
    )


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
    # the intermediaries the owner excludes, each with its reason, published with the purchase:
    # [{"organisation_id": ..., "reason": ...}] (marketplace.rules.exclusion_problems)
    excluded: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
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
    # Sealed quotes (marketplace.sealedquotes): the X25519 public key (base64url) of the key pair the owner
    # made on its own side when posting a priced purchase; the quotes are sealed to it with the tenders'
    # sealed-bid format. The private key reaches the platform only when the owner releases it, at or after
    # the selection time, and is then published with the record so that anyone can re-open the quotes.
    quote_key: Mapped[str] = mapped_column(String(64), default="")
    quote_key_released: Mapped[str] = mapped_column(String(64), default="")
    quotes_opened_at: Mapped[datetime | None] = mapped_column(default=None)

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
    # None until the sealed quote is opened at the selection time (then the opened amount)
    quote_fen: Mapped[int | None] = mapped_column(BigInteger, default=None)
    # the sealed quote (base64 of the .sealed file, docs/sealed-bid-format.md) and, once opened, why it was
    # not admitted ("" when it was): unreadable, above the ceiling
    sealed_quote: Mapped[str] = mapped_column(Text, default="")
    sealed_quote_sha256: Mapped[str] = mapped_column(String(64), default="")
    quote_problem: Mapped[str] = mapped_column(String(40), default="")
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
    choosing = "choosing"  # credit shortlist: the short list drawn, the owner's choice awaited
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
    # The credit shortlist (etender-selection-2) only: what sign-up close froze, {"on": "YYYY-MM-DD",
    # "long_list_max": L, "short_list_size": S, "scores": {"<org id>": {"credit": c, "stars": s|None,
    # "ratings": n}}}: the credit scores go into the record (the stars are shown to the owner beside them);
    # then the owner's choice from the short list, who and when (also in the record and the audit log).
    credit_frozen: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    chosen_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    chosen_at: Mapped[datetime | None] = mapped_column(default=None)


class RatingAppeal(Base):
    """An intermediary's appeal against one rating, and its review by the centre (rules.md §5.4). The rating
    itself is never changed: an upheld appeal carries the reviewed scores, which count instead of the
    original ones; both stay on record."""

    __tablename__ = "marketplace_rating_appeals"

    id: Mapped[int] = mapped_column(primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("marketplace_ratings.id"), index=True)
    filed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    grounds: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[datetime] = mapped_column(default=clock.now)
    status: Mapped[str] = mapped_column(String(20), default="filed")  # filed, upheld, dismissed
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    reviewed_at: Mapped[datetime | None] = mapped_column(default=None)
    review_note: Mapped[str] = mapped_column(Text, default="")
    revised_scores: Mapped[dict[str, int] | None] = mapped_column(JSON, default=None)


class Complaint(Base):
    """A complaint in the marketplace (rules.md §5): about an intermediary's service quality (verified ones
    count in the credit score and the exit rule), about an entry decision (within 5 working days), or about
    a selection (before its publicity ends). Decided by the centre; every decision kept in the audit log."""

    __tablename__ = "marketplace_complaints"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)  # quality, entry, selection
    intermediary_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("marketplace_entries.id"), default=None)
    purchase_id: Mapped[int | None] = mapped_column(ForeignKey("marketplace_purchases.id"), default=None)
    filed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    filed_by_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), default=None)
    text: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[datetime] = mapped_column(default=clock.now)
    status: Mapped[str] = mapped_column(String(20), default="filed")  # filed, verified, rejected
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decision_note: Mapped[str] = mapped_column(Text, default="")


class Sanction(Base):
    """A sanction (行政处罚) an authority imposed on an intermediary, as recorded by the centre."""

    __tablename__ = "marketplace_sanctions"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    authority: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    document: Mapped[str] = mapped_column(String(200), default="")  # the decision's number
    decided_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=clock.now)


class CreditListing(Base):
    """A place on the red list (守信激励) or the black list (失信惩戒), with its reason, the authority that
    decided it, and its start and end dates (end None: until lifted). Lifted, never deleted."""

    __tablename__ = "marketplace_credit_listings"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    list_kind: Mapped[str] = mapped_column(String(10), index=True)  # red, black
    reason: Mapped[str] = mapped_column(Text)
    authority: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date, default=None)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=clock.now)
    lifted_at: Mapped[datetime | None] = mapped_column(default=None)


class Exit(Base):
    """An intermediary's removal from the marketplace by an exit rule (marketplace/exit_rules.json), with the
    facts that triggered it; open to appeal and, after its period, to credit repair (信用修复)."""

    __tablename__ = "marketplace_exits"
    __table_args__ = (
        UniqueConstraint("organisation_id", "rule_code", "trigger_key", name="uq_marketplace_exit"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    rule_code: Mapped[str] = mapped_column(String(40))
    trigger_key: Mapped[str] = mapped_column(String(120))  # what triggered it, so a re-run never exits twice
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    exited_at: Mapped[datetime] = mapped_column(default=clock.now)
    # in_force, appealed, reversed (appeal upheld), repaired (credit repair granted)
    status: Mapped[str] = mapped_column(String(20), default="in_force", index=True)
    appeal_grounds: Mapped[str] = mapped_column(Text, default="")
    appealed_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decision_note: Mapped[str] = mapped_column(Text, default="")


class QualificationNotice(Base):
    """That the periodic task told an intermediary about one qualification (a reminder before it expires, or
    the suspension once it has), so that it tells them once."""

    __tablename__ = "marketplace_qualification_notices"
    __table_args__ = (
        UniqueConstraint(
            "entry_id", "qualification", "expires_on", "kind", name="uq_marketplace_qual_notice"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("marketplace_entries.id"), index=True)
    qualification: Mapped[str] = mapped_column(String(200))
    expires_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20))  # reminder, suspended
    sent_at: Mapped[datetime] = mapped_column(default=clock.now)


class Finding(Base):
    """A finding by the centre or an authority that an exit rule reads (marketplace/exit_rules.json): fraud in
    the entry materials, poor service, misconduct or leaking secrets, refusing management."""

    __tablename__ = "marketplace_findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text)
    authority: Mapped[str] = mapped_column(String(200), default="")
    found_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=clock.now)


class Offer(Base):
    """What the directory reads (marketplace.directory): one row per approved entry's service with the last
    day its needed qualifications are all valid. Derived from the entries (sync_offers at each decision,
    and rebuilt by the periodic recomputation), so that the public directory filters and pages in SQL."""

    __tablename__ = "marketplace_offers"
    __table_args__ = (
        UniqueConstraint("entry_id", "service_code", name="uq_marketplace_offer"),
        # the directory's "has an offer of this service valid today" for each standing it walks, answered
        # from the index alone (issue 15)
        Index("ix_marketplace_offers_directory", "organisation_id", "service_code", "valid_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("marketplace_entries.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    service_code: Mapped[str] = mapped_column(String(40), index=True)
    valid_until: Mapped[date] = mapped_column(Date, index=True)


class Standing(Base):
    """An intermediary's stars, number of ratings and credit score as last computed from the rows
    (marketplace.credit.refresh after each rating, review, complaint decision, sanction or list change, and
    the periodic full recomputation, which also ages complaints, sanctions and list entries out). The
    directory sorts by it; the credit page always recomputes from the rows themselves."""

    __tablename__ = "marketplace_standings"
    # a region's standings in the directory's order, so that a region's page is read in order, not sorted
    __table_args__ = (Index("ix_marketplace_standings_region_sort_key", "region", "sort_key"),)

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    stars: Mapped[int] = mapped_column(Integer, default=0, index=True)  # 0: not rated yet
    ratings: Mapped[int] = mapped_column(Integer, default=0)
    credit: Mapped[int] = mapped_column(Integer, default=60)
    computed_at: Mapped[datetime] = mapped_column(default=clock.now)
    # the directory's order, "5-star first, then by name", as one indexed key: 5 - stars, the name, the id
    sort_key: Mapped[str] = mapped_column(String(300), default="", index=True)
    region: Mapped[str] = mapped_column(String(100), default="", index=True)  # the organisation's


class DocumentKind(enum.StrEnum):
    """What a file uploaded to the marketplace is (marketplace.documents)."""

    contract = "contract"  # the signed service contract, by either side with its number and amount
    service_result = "service_result"  # the intermediary's service result (服务成果), before the acceptance


class MarketDocument(Base):
    """A file of a purchase uploaded to the marketplace: its bytes are in blob storage under their SHA-256
    (content-addressed, never rewritten); the row says what it is, which side uploaded it and who, when.
    Never deleted: a later upload of the same kind is the current one, the earlier stay readable."""

    __tablename__ = "marketplace_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    purchase_id: Mapped[int] = mapped_column(ForeignKey("marketplace_purchases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))  # the uploader's side
    filename: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))  # the blob's key
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=clock.now)
