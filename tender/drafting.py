"""Drafting a tender: the form's input (TenderInput, LotInput, FileInput), create and update, the tender
documents and how an uploaded file is checked and stored, the publication check and publish, and the choices
the form offers (key holder candidates, purchasers).

The services of the tender package take a session and an Actor, check permissions, change state, record the
audit entry in the same transaction, and never commit."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session, selectinload

from accounts.models import Organisation, User
from audit import record, release_where
from core import clock
from core.disclosure import Fact
from core.errors import N_, Conflict, NotFound, Problem, ValidationFailed
from core.identity import Actor, OrgKind, Role
from core.signing import SigningKey
from storage.base import BlobStore, TooLarge
from tender import access, keyholders, lifecycle, rules
from tender.events import TenderTag
from tender.lifecycle import Event, Status
from tender.models import Lot, Tender, TenderDocument

# Accepted tender document types: extension -> the magic bytes the content must start with.
DOCUMENT_TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    ".pdf": ("application/pdf", (b"%PDF",)),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (b"PK\x03\x04",)),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
    ".doc": ("application/msword", (b"\xd0\xcf\x11\xe0",)),
    ".xls": ("application/vnd.ms-excel", (b"\xd0\xcf\x11\xe0",)),
    ".zip": ("application/zip", (b"PK\x03\x04",)),
    ".ofd": ("application/ofd", (b"PK\x03\x04",)),
}
KEY_HOLDER_ROLES = (Role.agency, Role.monitor, Role.centre)


@dataclass
class LotInput:
    name: str
    estimated_price: int | None
    price_ceiling: int | None
    bid_security: int | None
    description: str = ""


@dataclass
class TenderInput:
    title: str
    purchaser_id: int | None
    category: str
    evaluation_method: str
    lots: list[LotInput]
    description: str = ""
    government_procurement: bool = False
    state_funded: bool = True
    region: str = ""
    criteria: dict[str, Any] = field(default_factory=dict)
    doc_issue_start: datetime | None = None
    doc_issue_end: datetime | None = None
    question_deadline: datetime | None = None
    bid_deadline: datetime | None = None
    opening_place: str = ""
    key_holder_ids: list[int] = field(default_factory=list)
    key_threshold: int = 2
    opening_policy: str = rules.OpeningPolicy.quorum
    contact_name: str = ""
    contact_phone: str = ""


@dataclass
class FileInput:
    filename: str
    chunks: Iterable[bytes]


# ---------------------------------------------------------------- drafting


def _check_input(session: Session, actor: Actor, data: TenderInput, agency_org: int | None) -> list[Problem]:
    problems = rules.check_draft(data)  # the values; what follows asks the database
    purchaser = session.get(Organisation, data.purchaser_id) if data.purchaser_id is not None else None
    if data.purchaser_id is not None and (
        purchaser is None or purchaser.kind != OrgKind.purchaser or not purchaser.active
    ):
        problems.append(
            Problem("purchaser_invalid", N_("Choose the purchaser this tender is run for."), "purchaser_id")
        )
    holders = (
        session.scalars(select(User).where(User.id.in_(data.key_holder_ids))).all()
        if data.key_holder_ids
        else []
    )
    if len(holders) != len(set(data.key_holder_ids)):
        problems.append(
            Problem("key_holder_unknown", N_("A key holder is not a known user."), "key_holder_ids")
        )
    for user in holders:
        if not user.active or not set(user.roles or []) & {r.value for r in KEY_HOLDER_ROLES}:
            problems.append(
                Problem(
                    "key_holder_role",
                    N_(
                        "%(name)s cannot hold a key: key holders are agency officers, "
                        "monitors or trading centre staff."
                    ),
                    "key_holder_ids",
                    {"name": user.full_name},
                )
            )
    if holders:  # the custody rules as soon as holders are named, so the form says at once what to change
        by_id = {u.id: u for u in holders}
        orgs = [by_id[uid].organisation_id for uid in dict.fromkeys(data.key_holder_ids) if uid in by_id]
        problems.extend(rules.check_key_custody(orgs, agency_org, data.key_threshold))
    return problems


def _fill(tender: Tender, data: TenderInput) -> None:
    for name in (
        "title",
        "description",
        "purchaser_id",
        "category",
        "government_procurement",
        "state_funded",
        "region",
        "evaluation_method",
        "criteria",
        "doc_issue_start",
        "doc_issue_end",
        "question_deadline",
        "bid_deadline",
        "opening_place",
        "key_threshold",
        "opening_policy",
        "contact_name",
        "contact_phone",
    ):
        setattr(tender, name, getattr(data, name))
    tender.key_holder_ids = list(dict.fromkeys(data.key_holder_ids))
    existing = {lot.number: lot for lot in tender.lots}
    keep = []
    for i, lot_in in enumerate(data.lots, start=1):
        lot = existing.get(i) or Lot(number=i)
        lot.name, lot.description = lot_in.name.strip(), lot_in.description
        lot.estimated_price = lot_in.estimated_price or 0
        lot.price_ceiling = lot_in.price_ceiling or 0
        lot.bid_security = lot_in.bid_security or 0
        keep.append(lot)
    tender.lots[:] = keep


def create_tender(session: Session, actor: Actor, data: TenderInput) -> Tender:
    access.require_role(actor, Role.agency)
    problems = _check_input(session, actor, data, actor.organisation_id)
    if problems:
        raise ValidationFailed(problems)
    assert actor.user_id is not None and actor.organisation_id is not None
    tender = Tender(
        reference=f"TMP-{os.urandom(6).hex()}",
        agency_id=actor.organisation_id,
        created_by=actor.user_id,
        status=Status.draft,
    )
    _fill(tender, data)
    session.add(tender)
    session.flush()
    tender.reference = f"ET-{clock.to_cst(clock.now()).year}-{tender.id:06d}"
    record(
        session,
        TenderTag.tender_created,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={"reference": tender.reference, "title": tender.title},
        withhold=Fact.draft,
    )
    return tender


def update_tender(session: Session, actor: Actor, tender_id: int, data: TenderInput) -> Tender:
    tender = access.get_tender(session, tender_id, lock=True)
    access.require_tender_agency(actor, tender)
    if tender.status != Status.draft:
        raise Conflict.one(
            "not_draft", N_("Only a draft can be edited; after publication, issue a clarification.")
        )
    problems = _check_input(session, actor, data, tender.agency_id)
    if problems:
        raise ValidationFailed(problems)
    _fill(tender, data)
    session.flush()
    record(
        session,
        TenderTag.tender_updated,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={"title": tender.title},
        withhold=Fact.draft,
    )
    return tender


def _holder_orgs(tender: Tender) -> tuple[int | None, ...]:
    """The organisation of each named key holder, in the tender's order (a holder no longer found: None)."""
    ids = list(dict.fromkeys(tender.key_holder_ids or []))
    session = object_session(tender)
    if session is None or not ids:
        return tuple(None for _ in ids)
    orgs = {
        uid: org
        for uid, org in session.execute(select(User.id, User.organisation_id).where(User.id.in_(ids)))
    }
    return tuple(orgs.get(uid) for uid in ids)


def facts_of(tender: Tender) -> rules.TenderFacts:
    return rules.TenderFacts(
        title=tender.title,
        category=tender.category,
        government_procurement=tender.government_procurement,
        evaluation_method=tender.evaluation_method,
        criteria=tender.criteria or {},
        doc_issue_start=tender.doc_issue_start,
        doc_issue_end=tender.doc_issue_end,
        question_deadline=tender.question_deadline,
        bid_deadline=tender.bid_deadline,
        lots=[
            rules.LotFacts(lot.number, lot.name, lot.estimated_price, lot.price_ceiling, lot.bid_security)
            for lot in tender.lots
        ],
        document_count=len([d for d in tender.documents if d.clarification_id is None]),
        key_holder_orgs=_holder_orgs(tender),
        agency_org=tender.agency_id,
        key_threshold=tender.key_threshold,
        opening_policy=tender.opening_policy,
    )


def publication_problems(tender: Tender) -> list[Problem]:
    problems = rules.check_publication(facts_of(tender), clock.now())
    session = object_session(tender)
    if (
        session is not None
        and tender.id is not None
        and not any(p.field == "key_holder_ids" for p in problems)
    ):
        problems.extend(keyholders.key_problems(session, tender))  # issue 3: every holder's key is registered
    return problems


def publish(session: Session, actor: Actor, tender_id: int, signer: SigningKey | None = None) -> Tender:
    tender = access.get_tender(session, tender_id, lock=True)
    access.require_tender_agency(actor, tender)
    if tender.status != Status.draft:
        raise Conflict.one("not_draft", N_("This tender has already been published."))
    problems = publication_problems(tender)
    if problems:
        raise ValidationFailed(problems)
    keyholders.require_complete_keys(
        session, tender
    )  # E26/E30: bids are sealed to the holders' registered keys
    now = clock.now()
    lifecycle.apply(tender, Event.publish)
    tender.published_at = now
    tender.doc_issue_start = max(tender.doc_issue_start or now, now)
    tender.original_bid_deadline = tender.bid_deadline
    if tender.question_deadline is None:
        assert tender.bid_deadline is not None
        tender.question_deadline = tender.bid_deadline - timedelta(days=rules.CLARIFICATION_LEAD_DAYS)
    # The draft's entries (its content, documents, key holders' keys) were withheld as work in progress: the
    # publication discloses them (docs/disclosure.md, draft).
    release_where(session, actor, subject=f"tender:{tender.id}", fact=Fact.draft)
    record(
        session,
        TenderTag.tender_published,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={
            "reference": tender.reference,
            "bid_deadline": tender.bid_deadline.isoformat() if tender.bid_deadline else None,
            "lots": [
                {"number": lot.number, "price_ceiling": lot.price_ceiling, "bid_security": lot.bid_security}
                for lot in tender.lots
            ],
            "evaluation_method": tender.evaluation_method,
            "criteria": tender.criteria,
            "key_holders": tender.key_holder_ids,
            "key_threshold": tender.key_threshold,
            "documents": [d.blob_key for d in tender.documents],
        },
    )
    keyholders.publish_bundle(session, actor, tender, signer)
    return tender


# ---------------------------------------------------------------- documents


def store_document(
    blobs: BlobStore, file: FileInput, max_bytes: int, fieldname: str
) -> tuple[str, str, int, str]:
    """Check a file's type by its name and its first bytes while storing it (tender documents, clarifications'
    files); its name, content type, size and blob key, or the problem a person sees."""
    name = os.path.basename(file.filename or "").strip()
    ext = os.path.splitext(name)[1].lower()
    if not name or ext not in DOCUMENT_TYPES:
        raise ValidationFailed.one(
            "file_type_unsupported",
            N_("%(name)s: this file type is not accepted; upload PDF, OFD, Word, Excel or ZIP files."),
            fieldname,
            name=name or "?",
        )
    content_type, magics = DOCUMENT_TYPES[ext]
    first = bytearray()

    def sniffing(chunks: Iterable[bytes]) -> Iterable[bytes]:
        for chunk in chunks:
            if len(first) < 8:
                first.extend(chunk[: 8 - len(first)])
                if len(first) >= 8 and not any(bytes(first).startswith(m) for m in magics):
                    raise ValueError("content does not match extension")
            yield chunk

    try:
        info = blobs.put(sniffing(file.chunks), max_size=max_bytes)
    except TooLarge as e:
        raise ValidationFailed.one(
            "file_too_large",
            N_("%(name)s is larger than %(limit)s MB; split it or compress it."),
            fieldname,
            name=name,
            limit=f"{e.limit / 1024 / 1024:g}",
        ) from e
    except ValueError as e:
        raise ValidationFailed.one(
            "file_content_mismatch",
            N_("%(name)s is not a real %(ext)s file (its content does not match its name)."),
            fieldname,
            name=name,
            ext=ext,
        ) from e
    if info.size == 0 or not any(bytes(first).startswith(m) for m in magics):
        raise ValidationFailed.one("file_empty", N_("%(name)s is empty or damaged."), fieldname, name=name)
    return name, content_type, info.size, info.key


def add_document(
    session: Session, actor: Actor, blobs: BlobStore, tender_id: int, file: FileInput, max_bytes: int
) -> TenderDocument:
    tender = access.get_tender(session, tender_id, lock=True)
    access.require_tender_agency(actor, tender)
    if tender.status != Status.draft:
        raise Conflict.one(
            "not_draft", N_("After publication, documents change only through a clarification.")
        )
    name, content_type, size, key = store_document(blobs, file, max_bytes, "document")
    assert actor.user_id is not None
    doc = TenderDocument(
        tender_id=tender.id,
        filename=name,
        content_type=content_type,
        size=size,
        blob_key=key,
        uploaded_by=actor.user_id,
    )
    session.add(doc)
    session.flush()
    record(
        session,
        TenderTag.tender_document_added,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={"document": doc.id, "filename": name, "sha256": key, "size": size},
        withhold=Fact.draft,
    )
    return doc


def remove_document(session: Session, actor: Actor, tender_id: int, document_id: int) -> None:
    tender = access.get_tender(session, tender_id, lock=True)
    access.require_tender_agency(actor, tender)
    if tender.status != Status.draft:
        raise Conflict.one(
            "not_draft", N_("After publication, documents change only through a clarification.")
        )
    doc = session.get(TenderDocument, document_id)
    if doc is None or doc.tender_id != tender.id:
        raise NotFound.one("document_not_found", N_("No such document."))
    session.delete(doc)
    record(
        session,
        TenderTag.tender_document_removed,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={"document": document_id, "filename": doc.filename},
        withhold=Fact.draft,
    )


# ---------------------------------------------------------------- what the form offers


def key_holder_candidates(session: Session, actor: Actor) -> list[User]:
    access.require_role(actor, Role.agency)
    # with their organisations: the form names each candidate's, since the holders must span organisations
    users = session.scalars(
        select(User).where(User.active.is_(True)).options(selectinload(User.organisation)).order_by(User.id)
    ).all()
    wanted = {r.value for r in KEY_HOLDER_ROLES}
    return [
        u
        for u in users
        if set(u.roles or []) & wanted
        and (u.organisation_id == actor.organisation_id or not set(u.roles or []) & {Role.agency.value})
    ]


def purchasers(session: Session) -> list[Organisation]:
    return list(
        session.scalars(
            select(Organisation)
            .where(Organisation.kind == OrgKind.purchaser, Organisation.active.is_(True))
            .order_by(Organisation.name)
        )
    )
