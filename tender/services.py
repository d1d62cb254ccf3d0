"""Tender services: create and publish, documents, clarifications, questions, objections, supervision,
registration and downloads. Services take a session and an Actor, check permissions, change state,
record the audit entry in the same transaction, and never commit."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, object_session, selectinload

from accounts.models import Organisation, User
from accounts.notifications import notify
from audit import EventTag, record
from core import clock
from core.errors import N_, Conflict, Forbidden, NotFound, Problem, ValidationFailed
from core.identity import SYSTEM, Actor, OrgKind, Role
from core.signing import SigningKey
from storage.base import BlobStore, TooLarge
from tender import access, keyholders, rules
from tender.lifecycle import Event, IllegalTransition, State, Status, transition
from tender.models import (
    Clarification,
    Download,
    Lot,
    Objection,
    Question,
    Registration,
    Tender,
    TenderDocument,
)

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


def _apply(state_holder: Tender, event: Event) -> None:
    try:
        new = transition(State(Status(state_holder.status), Status(state_holder.resume_to) if state_holder.resume_to else None), event)
    except IllegalTransition as e:
        raise Conflict.one(
            "illegal_transition",
            N_("This cannot be done while the tender is %(status)s."),
            status=e.state.status.value,
        ) from e
    state_holder.status = new.status.value
    state_holder.resume_to = new.resume_to.value if new.resume_to else None


def get_tender(session: Session, tender_id: int, *, lock: bool = False) -> Tender:
    stmt = select(Tender).where(Tender.id == tender_id)
    if lock:
        stmt = stmt.with_for_update()
    tender = session.scalars(stmt).one_or_none()
    if tender is None:
        raise NotFound.one("tender_not_found", N_("No such tender."))
    return tender


def visible_tender(session: Session, actor: Actor, tender_id: int) -> Tender:
    """A tender as the actor may see it: drafts only to their agency, purchaser and administrators."""
    tender = session.scalars(
        select(Tender)
        .where(Tender.id == tender_id)
        .options(selectinload(Tender.lots), selectinload(Tender.documents), selectinload(Tender.clarifications))
    ).one_or_none()
    if tender is None or (tender.status == Status.draft and not access.can_see_draft(actor, tender)):
        raise NotFound.one("tender_not_found", N_("No such tender."))
    return tender


# ---------------------------------------------------------------- drafting


def _check_input(session: Session, actor: Actor, data: TenderInput) -> list[Problem]:
    problems = rules.check_draft(data)  # the values; what follows asks the database
    purchaser = session.get(Organisation, data.purchaser_id) if data.purchaser_id is not None else None
    if data.purchaser_id is not None and (purchaser is None or purchaser.kind != OrgKind.purchaser
                                          or not purchaser.active):
        problems.append(Problem("purchaser_invalid", N_("Choose the purchaser this tender is run for."),
                                "purchaser_id"))
    holders = session.scalars(select(User).where(User.id.in_(data.key_holder_ids))).all() if data.key_holder_ids else []
    if len(holders) != len(set(data.key_holder_ids)):
        problems.append(Problem("key_holder_unknown", N_("A key holder is not a known user."), "key_holder_ids"))
    for user in holders:
        if not user.active or not set(user.roles or []) & {r.value for r in KEY_HOLDER_ROLES}:
            problems.append(
                Problem(
                    "key_holder_role",
                    N_("%(name)s cannot hold a key: key holders are agency officers, monitors or trading centre staff."),
                    "key_holder_ids",
                    {"name": user.full_name},
                )
            )
    return problems


def _fill(tender: Tender, data: TenderInput) -> None:
    for name in (
        "title", "description", "purchaser_id", "category", "government_procurement", "state_funded", "region",
        "evaluation_method", "criteria", "doc_issue_start", "doc_issue_end", "question_deadline", "bid_deadline",
        "opening_place", "key_threshold", "opening_policy", "contact_name", "contact_phone",
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
    problems = _check_input(session, actor, data)
    if problems:
        raise ValidationFailed(problems)
    assert actor.user_id is not None and actor.organisation_id is not None
    tender = Tender(reference=f"TMP-{os.urandom(6).hex()}", agency_id=actor.organisation_id, created_by=actor.user_id, status=Status.draft)
    _fill(tender, data)
    session.add(tender)
    session.flush()
    tender.reference = f"ET-{clock.to_cst(clock.now()).year}-{tender.id:06d}"
    record(session, EventTag.tender_created, actor=actor, subject=f"tender:{tender.id}", details={"reference": tender.reference, "title": tender.title})
    return tender


def update_tender(session: Session, actor: Actor, tender_id: int, data: TenderInput) -> Tender:
    tender = get_tender(session, tender_id, lock=True)
    access.require_tender_agency(actor, tender)
    if tender.status != Status.draft:
        raise Conflict.one("not_draft", N_("Only a draft can be edited; after publication, issue a clarification."))
    problems = _check_input(session, actor, data)
    if problems:
        raise ValidationFailed(problems)
    _fill(tender, data)
    session.flush()
    record(session, EventTag.tender_updated, actor=actor, subject=f"tender:{tender.id}", details={"title": tender.title})
    return tender


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
        lots=[rules.LotFacts(lot.number, lot.name, lot.estimated_price, lot.price_ceiling, lot.bid_security) for lot in tender.lots],
        document_count=len([d for d in tender.documents if d.clarification_id is None]),
        key_holder_count=len(tender.key_holder_ids or []),
        key_threshold=tender.key_threshold,
        opening_policy=tender.opening_policy,
    )


def publication_problems(tender: Tender) -> list[Problem]:
    problems = rules.check_publication(facts_of(tender), clock.now())
    session = object_session(tender)
    if session is not None and tender.id is not None and not any(p.field == "key_holder_ids" for p in problems):
        problems.extend(keyholders.key_problems(session, tender))  # issue 3: every holder's key is registered
    return problems


def publish(session: Session, actor: Actor, tender_id: int, signer: SigningKey | None = None) -> Tender:
    tender = get_tender(session, tender_id, lock=True)
    access.require_tender_agency(actor, tender)
    if tender.status != Status.draft:
        raise Conflict.one("not_draft", N_("This tender has already been published."))
    problems = publication_problems(tender)
    if problems:
        raise ValidationFailed(problems)
    keyholders.require_complete_keys(session, tender)  # E26/E30: bids are sealed to the holders' registered keys
    now = clock.now()
    _apply(tender, Event.publish)
    tender.published_at = now
    tender.doc_issue_start = max(tender.doc_issue_start or now, now)
    tender.original_bid_deadline = tender.bid_deadline
    if tender.question_deadline is None:
        assert tender.bid_deadline is not None
        tender.question_deadline = tender.bid_deadline - timedelta(days=rules.CLARIFICATION_LEAD_DAYS)
    record(
        session,
        EventTag.tender_published,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={
            "reference": tender.reference,
            "bid_deadline": tender.bid_deadline.isoformat() if tender.bid_deadline else None,
            "lots": [{"number": lot.number, "price_ceiling": lot.price_ceiling, "bid_security": lot.bid_security} for lot in tender.lots],
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


def _store_document(blobs: BlobStore, file: FileInput, max_bytes: int, fieldname: str) -> tuple[str, str, int, str]:
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


def add_document(session: Session, actor: Actor, blobs: BlobStore, tender_id: int, file: FileInput, max_bytes: int) -> TenderDocument:
    tender = get_tender(session, tender_id, lock=True)
    access.require_tender_agency(actor, tender)
    if tender.status != Status.draft:
        raise Conflict.one("not_draft", N_("After publication, documents change only through a clarification."))
    name, content_type, size, key = _store_document(blobs, file, max_bytes, "document")
    assert actor.user_id is not None
    doc = TenderDocument(tender_id=tender.id, filename=name, content_type=content_type, size=size, blob_key=key, uploaded_by=actor.user_id)
    session.add(doc)
    session.flush()
    record(session, EventTag.tender_document_added, actor=actor, subject=f"tender:{tender.id}", details={"document": doc.id, "filename": name, "sha256": key, "size": size})
    return doc


def remove_document(session: Session, actor: Actor, tender_id: int, document_id: int) -> None:
    tender = get_tender(session, tender_id, lock=True)
    access.require_tender_agency(actor, tender)
    if tender.status != Status.draft:
        raise Conflict.one("not_draft", N_("After publication, documents change only through a clarification."))
    doc = session.get(TenderDocument, document_id)
    if doc is None or doc.tender_id != tender.id:
        raise NotFound.one("document_not_found", N_("No such document."))
    session.delete(doc)
    record(session, EventTag.tender_document_removed, actor=actor, subject=f"tender:{tender.id}", details={"document": document_id, "filename": doc.filename})


def _interested_users(session: Session, tender_id: int) -> set[int]:
    downloaders = session.scalars(select(Download.user_id).where(Download.tender_id == tender_id, Download.user_id.is_not(None)).distinct())
    registrants = session.scalars(select(Registration.user_id).where(Registration.tender_id == tender_id).distinct())
    return {u for u in downloaders if u is not None} | set(registrants)


def clarify(
    session: Session,
    actor: Actor,
    blobs: BlobStore,
    tender_id: int,
    title: str,
    body: str,
    affects_bids: bool,
    files: list[FileInput],
    max_bytes: int,
) -> Clarification:
    """R21: publish a clarification or amendment; extend the deadline so that 15 days remain when it can
    affect bids; notify everyone who downloaded or registered."""
    tender = get_tender(session, tender_id, lock=True)
    access.require_tender_agency(actor, tender)
    if tender.status != Status.published:
        raise Conflict.one("not_published", N_("Clarifications are issued while the tender is open for bids."))
    problems = []
    if not title.strip():
        problems.append(Problem("title_missing", N_("Give the clarification a title."), "title"))
    if not body.strip():
        problems.append(Problem("body_missing", N_("Write what is clarified or amended."), "body"))
    if problems:
        raise ValidationFailed(problems)
    now = clock.now()
    assert tender.bid_deadline is not None and actor.user_id is not None
    if tender.bid_deadline <= now:
        raise Conflict.one("deadline_passed", N_("The bid deadline has passed."))
    before = tender.bid_deadline
    after = rules.extended_deadline(before, now, affects_bids)
    number = (session.scalar(select(func.max(Clarification.number)).where(Clarification.tender_id == tender.id)) or 0) + 1
    clar = Clarification(
        tender_id=tender.id, number=number, title=title.strip(), body=body.strip(), affects_bids=affects_bids,
        deadline_before=before, deadline_after=after, issued_by=actor.user_id, issued_at=now,
    )
    session.add(clar)
    session.flush()
    stored = []
    for f in files:
        name, content_type, size, key = _store_document(blobs, f, max_bytes, "files")
        doc = TenderDocument(tender_id=tender.id, clarification_id=clar.id, filename=name, content_type=content_type, size=size, blob_key=key, uploaded_by=actor.user_id)
        session.add(doc)
        stored.append({"filename": name, "sha256": key, "size": size})
    record(
        session, EventTag.tender_clarified, actor=actor, subject=f"tender:{tender.id}",
        details={"number": number, "title": clar.title, "affects_bids": affects_bids, "files": stored},
    )
    if after != before:
        tender.bid_deadline = after
        if tender.doc_issue_end and tender.doc_issue_end > after:
            tender.doc_issue_end = after
        record(
            session, EventTag.tender_deadline_extended, actor=actor, subject=f"tender:{tender.id}",
            details={"from": before.isoformat(), "to": after.isoformat(), "rule": "R21", "clarification": number},
        )
    notify(
        session, _interested_users(session, tender.id), "tender.clarified",
        title=f"{tender.reference} {tender.title}: {clar.title}",
        body=clar.body[:500],
        link=f"/tenders/{tender.id}#clarification-{number}",
    )
    return clar


# ---------------------------------------------------------------- questions and objections


def ask_question(session: Session, actor: Actor, tender_id: int, text: str) -> Question:
    access.require_role(actor, Role.bidder)
    tender = get_tender(session, tender_id)
    if tender.status != Status.published:
        raise Conflict.one("not_published", N_("Questions can be asked while the tender is open for bids."))
    if tender.question_deadline and clock.now() > tender.question_deadline:
        raise Conflict.one("question_deadline_passed", N_("The deadline for questions has passed."))
    if not text.strip():
        raise ValidationFailed.one("text_missing", N_("Write your question."), "text")
    assert actor.user_id is not None and actor.organisation_id is not None
    q = Question(tender_id=tender.id, asked_by=actor.user_id, organisation_id=actor.organisation_id, text=text.strip())
    session.add(q)
    session.flush()
    # Who asked stays confidential (E21): the leaf commits to it, the details hold only the question id.
    record(session, EventTag.tender_question_asked, actor=actor, subject=f"tender:{tender.id}", details={"question": q.id},
           confidential={"organisation": actor.organisation_id, "text": q.text}, conceal_actor=True)
    return q


def answer_question(session: Session, actor: Actor, question_id: int, answer: str) -> Question:
    q = session.get(Question, question_id)
    if q is None:
        raise NotFound.one("question_not_found", N_("No such question."))
    tender = get_tender(session, q.tender_id)
    access.require_tender_agency(actor, tender)
    if not answer.strip():
        raise ValidationFailed.one("answer_missing", N_("Write the answer."), "answer")
    q.answer, q.answered_by, q.answered_at = answer.strip(), actor.user_id, clock.now()
    record(session, EventTag.tender_question_answered, actor=actor, subject=f"tender:{tender.id}", details={"question": q.id, "answer": q.answer})
    return q


def _open_objections(session: Session, tender_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(Objection).where(Objection.tender_id == tender_id, Objection.answered_at.is_(None))) or 0)


def raise_objection(session: Session, actor: Actor, tender_id: int, text: str) -> Objection:
    """R22: at least 10 days before the deadline; the procedure pauses until the answer."""
    access.require_role(actor, Role.bidder)
    tender = get_tender(session, tender_id, lock=True)
    if tender.status not in (Status.published, Status.suspended) or (tender.status == Status.suspended and tender.resume_to != Status.published):
        raise Conflict.one("not_published", N_("Objections to the tender documents are raised while the tender is open for bids."))
    now = clock.now()
    assert tender.bid_deadline is not None
    if not rules.objection_allowed(now, tender.bid_deadline):
        raise Conflict.one(
            "objection_too_late",
            N_("Objections to the tender documents must be raised at least 10 days before the bid deadline (R22); the last moment was %(last)s."),
            rule="R22",
            last=clock.to_cst(rules.objection_deadline(tender.bid_deadline)).strftime("%Y-%m-%d %H:%M"),
        )
    if not text.strip():
        raise ValidationFailed.one("text_missing", N_("Write your objection and its grounds."), "text")
    assert actor.user_id is not None and actor.organisation_id is not None
    obj = Objection(tender_id=tender.id, raised_by=actor.user_id, organisation_id=actor.organisation_id, text=text.strip(),
                    raised_at=now, answer_due=rules.objection_answer_due(now))
    session.add(obj)
    session.flush()
    record(session, EventTag.tender_objection_raised, actor=actor, subject=f"tender:{tender.id}",
           details={"objection": obj.id, "answer_due": obj.answer_due.isoformat()},
           confidential={"organisation": actor.organisation_id, "text": obj.text}, conceal_actor=True)
    if tender.status == Status.published:
        _apply(tender, Event.suspend)
        record(session, EventTag.tender_suspended, actor=SYSTEM, subject=f"tender:{tender.id}", details={"reason": "objection", "rule": "R22", "objection": obj.id})
    agency_users = session.scalars(select(User.id).where(User.organisation_id.in_([tender.agency_id, tender.purchaser_id]))).all()
    notify(session, set(agency_users), "tender.objection", title=f"{tender.reference}: objection to the tender documents", link=f"/agency/tenders/{tender.id}")
    return obj


def answer_objection(session: Session, actor: Actor, objection_id: int, answer: str) -> Objection:
    obj = session.get(Objection, objection_id)
    if obj is None:
        raise NotFound.one("objection_not_found", N_("No such objection."))
    tender = get_tender(session, obj.tender_id, lock=True)
    if not (access.is_tender_agency(actor, tender) or access.is_tender_purchaser(actor, tender)):
        access.require_login(actor)
        raise Forbidden.one("not_tender_party", N_("Only the purchaser or its agency answers objections."))
    if obj.answered_at is not None:
        raise Conflict.one("already_answered", N_("This objection has already been answered."))
    if not answer.strip():
        raise ValidationFailed.one("answer_missing", N_("Write the answer."), "answer")
    obj.answer, obj.answered_by, obj.answered_at = answer.strip(), actor.user_id, clock.now()
    session.flush()
    record(session, EventTag.tender_objection_answered, actor=actor, subject=f"tender:{tender.id}",
           details={"objection": obj.id, "answer": obj.answer, "on_time": obj.answered_at <= obj.answer_due})
    if tender.status == Status.suspended and not tender.monitor_suspended and _open_objections(session, tender.id) == 0:
        _apply(tender, Event.resume)
        record(session, EventTag.tender_resumed, actor=SYSTEM, subject=f"tender:{tender.id}", details={"reason": "objection answered", "rule": "R22"})
    notify(session, {obj.raised_by}, "tender.objection.answered", title=f"{tender.reference}: your objection was answered", link=f"/bidder/tenders/{tender.id}")
    return obj


# ---------------------------------------------------------------- supervision and cancellation


def suspend(session: Session, actor: Actor, tender_id: int, reason: str) -> Tender:
    """E52: a monitor suspends a procedure on a supervisory instruction."""
    access.require_role(actor, Role.monitor)
    tender = get_tender(session, tender_id, lock=True)
    if not reason.strip():
        raise ValidationFailed.one("reason_missing", N_("Give the reason for the suspension."), "reason")
    if tender.monitor_suspended:
        raise Conflict.one("already_suspended", N_("This tender is already suspended by a monitor."))
    if tender.status != Status.suspended:
        _apply(tender, Event.suspend)
    tender.monitor_suspended = True
    record(session, EventTag.tender_suspended, actor=actor, subject=f"tender:{tender.id}", details={"reason": reason.strip(), "rule": "E52"})
    notify(session, _interested_users(session, tender.id) | set(session.scalars(select(User.id).where(User.organisation_id == tender.agency_id))),
           "tender.suspended", title=f"{tender.reference} {tender.title}: suspended", body=reason.strip(), link=f"/tenders/{tender.id}")
    return tender


def resume(session: Session, actor: Actor, tender_id: int, reason: str, new_deadline: datetime | None = None) -> Tender:
    access.require_role(actor, Role.monitor)
    tender = get_tender(session, tender_id, lock=True)
    if not tender.monitor_suspended:
        raise Conflict.one("not_suspended", N_("This tender is not suspended by a monitor."))
    if not reason.strip():
        raise ValidationFailed.one("reason_missing", N_("Give the reason for resuming."), "reason")
    now = clock.now()
    if tender.resume_to == Status.published:
        assert tender.bid_deadline is not None
        if new_deadline is not None:
            if new_deadline <= now:
                raise ValidationFailed.one("deadline_past", N_("The bid deadline is in the past; choose a later date."), "new_deadline")
            tender.bid_deadline = new_deadline
        elif tender.bid_deadline <= now:
            raise ValidationFailed.one("deadline_needed", N_("The bid deadline passed during the suspension; set a new one."), "new_deadline")
    tender.monitor_suspended = False
    details: dict[str, Any] = {"reason": reason.strip(), "rule": "E52"}
    if new_deadline is not None:
        details["bid_deadline"] = new_deadline.isoformat()
    if _open_objections(session, tender.id) == 0:
        _apply(tender, Event.resume)
    else:
        details["still_paused_by_objection"] = True
    record(session, EventTag.tender_resumed, actor=actor, subject=f"tender:{tender.id}", details=details)
    return tender


def cancel(session: Session, actor: Actor, tender_id: int, reason: str) -> Tender:
    tender = get_tender(session, tender_id, lock=True)
    access.require_tender_agency(actor, tender)
    if not reason.strip():
        raise ValidationFailed.one("reason_missing", N_("Give the reason for cancelling; it is published."), "reason")
    _apply(tender, Event.cancel)
    tender.cancel_reason = reason.strip()
    tender.monitor_suspended = False
    record(session, EventTag.tender_cancelled, actor=actor, subject=f"tender:{tender.id}", details={"reason": tender.cancel_reason})
    notify(session, _interested_users(session, tender.id), "tender.cancelled", title=f"{tender.reference} {tender.title}: cancelled",
           body=tender.cancel_reason, link=f"/tenders/{tender.id}")
    return tender


def close_due_tenders(session: Session, now: datetime | None = None, *,
                      start_openings: bool = True) -> list[int]:
    """L34: bidding closes at the deadline by itself (tender.tasks.close_bidding, every few seconds). The
    openings start in the same transaction, unless start_openings=False (the task starts them in its own)."""
    now = now or clock.now()
    due = session.scalars(
        select(Tender).where(Tender.status == Status.published, Tender.bid_deadline <= now).with_for_update()
    ).all()
    for tender in due:
        _apply(tender, Event.close_bidding)
        record(session, EventTag.tender_bidding_closed, actor=SYSTEM, subject=f"tender:{tender.id}",
               details={"bid_deadline": tender.bid_deadline.isoformat() if tender.bid_deadline else None})
    if start_openings:
        start_due_openings(session, now)
    return [t.id for t in due]


def start_due_openings(session: Session, now: datetime | None = None) -> list[int]:
    """E27: an upload unfinished at the deadline counts as withdrawn; then the opening starts (L34), or the
    tender fails with fewer than 3 bids (R44). Every closed tender without an opening is picked up (a crash
    between the two). Returns the tenders whose opening started or that failed."""
    now = now or clock.now()
    from tender.bids import submission as bids
    from tender.opening import ceremony as opening  # the opening builds on these services

    started = []
    stranded = session.scalars(select(Tender).where(Tender.status == Status.bidding_closed).with_for_update()).all()
    for tender in stranded:
        if opening.opening_of(session, tender.id) is None:
            bids.expire_unfinished(session, tender.id, now)
            opening.start(session, tender, now)
            started.append(tender.id)
    return started


# ---------------------------------------------------------------- bidders: downloads and registration


def download_document(session: Session, actor: Actor, document_id: int) -> TenderDocument:
    """E20: no registration needed. Who downloaded is recorded but confidential (E21)."""
    doc = session.get(TenderDocument, document_id)
    if doc is None:
        raise NotFound.one("document_not_found", N_("No such document."))
    tender = get_tender(session, doc.tender_id)
    now = clock.now()
    if tender.status == Status.draft:
        if not access.can_see_draft(actor, tender):
            raise NotFound.one("document_not_found", N_("No such document."))
        return doc
    registered = actor.organisation_id is not None and session.scalar(
        select(func.count()).select_from(Registration).where(Registration.tender_id == tender.id, Registration.organisation_id == actor.organisation_id)
    )
    available = rules.documents_available(now, tender.doc_issue_start, tender.doc_issue_end) or doc.clarification_id is not None
    privileged = access.is_tender_agency(actor, tender) or access.is_tender_purchaser(actor, tender) or actor.has(Role.monitor, Role.admin)
    if tender.status in (Status.cancelled,) and not privileged:
        raise Conflict.one("tender_cancelled", N_("This tender was cancelled; its documents are no longer issued."))
    if not (available or registered or privileged):
        raise Conflict.one(
            "issue_period_over",
            N_("Tender documents were issued until %(end)s; the issue period is over."),
            end=clock.to_cst(tender.doc_issue_end).strftime("%Y-%m-%d") if tender.doc_issue_end else "",
        )
    session.add(Download(tender_id=tender.id, document_id=doc.id, user_id=actor.user_id, organisation_id=actor.organisation_id, ip=actor.ip))
    record(session, EventTag.tender_document_downloaded, actor=actor, subject=f"tender:{tender.id}", details={"document": doc.id},
           conceal_actor=True)
    return doc


def register(session: Session, actor: Actor, tender_id: int, lot_id: int, contact_name: str = "", contact_phone: str = "") -> Registration:
    access.require_role(actor, Role.bidder)
    tender = get_tender(session, tender_id)
    if tender.status != Status.published:
        raise Conflict.one("not_published", N_("Registration is open only while the tender accepts bids."))
    assert tender.bid_deadline is not None and actor.organisation_id is not None and actor.user_id is not None
    if clock.now() >= tender.bid_deadline:
        raise Conflict.one("deadline_passed", N_("The bid deadline has passed."), rule="L28")
    lot = session.get(Lot, lot_id)
    if lot is None or lot.tender_id != tender.id:
        raise ValidationFailed.one("lot_invalid", N_("Choose a lot of this tender."), "lot_id")
    exists = session.scalar(select(Registration.id).where(Registration.lot_id == lot.id, Registration.organisation_id == actor.organisation_id))
    if exists:
        raise Conflict.one("already_registered", N_("Your company is already registered for lot %(number)s."), "lot_id", number=lot.number)
    reg = Registration(tender_id=tender.id, lot_id=lot.id, organisation_id=actor.organisation_id, user_id=actor.user_id,
                       contact_name=contact_name.strip(), contact_phone=contact_phone.strip())
    session.add(reg)
    session.flush()
    record(session, EventTag.tender_registered, actor=actor, subject=f"tender:{tender.id}", details={"registration": reg.id},
           confidential={"organisation": actor.organisation_id, "lot": lot.id}, conceal_actor=True)
    return reg


@dataclass
class Participation:
    registrations: list[Registration]
    downloads: list[Download]


def my_participation(session: Session, actor: Actor, tender_id: int) -> Participation:
    """A bidder's own registrations and downloads: the only view of them before the deadline (E21)."""
    if actor.organisation_id is None or not actor.has(Role.bidder):
        return Participation([], [])
    regs = session.scalars(select(Registration).where(Registration.tender_id == tender_id, Registration.organisation_id == actor.organisation_id)).all()
    dls = session.scalars(select(Download).where(Download.tender_id == tender_id, Download.organisation_id == actor.organisation_id).order_by(Download.at)).all()
    return Participation(list(regs), list(dls))


def registrations_for(session: Session, actor: Actor, tender_id: int) -> list[Registration]:
    """E21/L22: nobody learns who registered, or how many, before the bid deadline."""
    tender = get_tender(session, tender_id)
    access.require_login(actor)
    if tender.bid_deadline is None or clock.now() < tender.bid_deadline or tender.status in (Status.draft, Status.published):
        raise Forbidden.one("confidential_before_deadline", N_("Who registered or downloaded is confidential until the bid deadline (E21)."), rule="E21")
    if not (access.is_tender_agency(actor, tender) or access.is_tender_purchaser(actor, tender) or actor.has(Role.monitor, Role.admin)):
        raise Forbidden.one("not_tender_party", N_("Only the tender's agency, purchaser and monitors see its registrations."))
    return list(session.scalars(select(Registration).where(Registration.tender_id == tender.id).order_by(Registration.id)))


# ---------------------------------------------------------------- listings


@dataclass
class Page:
    items: list[Any]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


PUBLIC_STATUSES = [s.value for s in Status if s != Status.draft]


def list_notices(
    session: Session, *, q: str = "", category: str = "", region: str = "", status: str = "", page: int = 1, page_size: int = 20
) -> Page:
    """The public notice list: every published tender, newest first, with search and filters."""
    page = max(1, page)
    page_size = min(max(1, page_size), 100)
    # Public means published at some time (a draft cancelled before publication never was); the
    # (published_at, id) index then gives the newest-first order without sorting the whole table.
    where: list[ColumnElement[bool]] = [Tender.published_at.is_not(None)]
    if q.strip():
        like = f"%{q.strip()}%"
        where.append(or_(Tender.title.ilike(like), Tender.reference.ilike(like)))
    if category:
        where.append(Tender.category == category)
    if region:
        where.append(Tender.region == region)
    if status == "open":
        where.append(Tender.status == Status.published)
    elif status:
        where.append(Tender.status == status)
    total = session.scalar(select(func.count(Tender.id)).where(*where)) or 0
    # The page itself: ids first from the index alone, then the 20 rows (a deep page skips index
    # entries, not table rows).
    ids = select(Tender.id).where(*where).order_by(Tender.published_at.desc(), Tender.id.desc())
    ids = ids.offset((page - 1) * page_size).limit(page_size)
    items = session.scalars(select(Tender).where(Tender.id.in_(ids.scalar_subquery())).order_by(Tender.published_at.desc(), Tender.id.desc())).all()
    return Page(list(items), int(total), page, page_size)


def agency_tenders(session: Session, actor: Actor) -> list[Tender]:
    access.require_role(actor, Role.agency)
    return list(session.scalars(select(Tender).where(Tender.agency_id == actor.organisation_id).order_by(Tender.id.desc())))


def bidder_tenders(session: Session, actor: Actor) -> list[Tender]:
    """Tenders the bidder's company registered for or downloaded documents of."""
    access.require_role(actor, Role.bidder)
    reg = select(Registration.tender_id).where(Registration.organisation_id == actor.organisation_id)
    dl = select(Download.tender_id).where(Download.organisation_id == actor.organisation_id)
    return list(session.scalars(select(Tender).where(or_(Tender.id.in_(reg), Tender.id.in_(dl))).order_by(Tender.bid_deadline.desc())))


def monitored_tenders(session: Session, actor: Actor) -> list[Tender]:
    access.require_role(actor, Role.monitor)
    return list(session.scalars(select(Tender).where(Tender.status != Status.draft).order_by(Tender.id.desc())))


def questions_for(session: Session, actor: Actor, tender: Tender) -> list[Question]:
    """Answered questions are public (without the asker); the agency also sees unanswered ones;
    a bidder also sees its own."""
    stmt = select(Question).where(Question.tender_id == tender.id).order_by(Question.id)
    rows = list(session.scalars(stmt))
    if access.is_tender_agency(actor, tender):
        return rows
    return [q for q in rows if q.answered_at is not None or (actor.organisation_id is not None and q.organisation_id == actor.organisation_id)]


def objections_for(session: Session, actor: Actor, tender: Tender) -> list[Objection]:
    rows = list(session.scalars(select(Objection).where(Objection.tender_id == tender.id).order_by(Objection.id)))
    if access.is_tender_agency(actor, tender) or access.is_tender_purchaser(actor, tender) or actor.has(Role.monitor):
        return rows
    return [o for o in rows if actor.organisation_id is not None and o.organisation_id == actor.organisation_id]


def key_holder_candidates(session: Session, actor: Actor) -> list[User]:
    access.require_role(actor, Role.agency)
    users = session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)).all()
    wanted = {r.value for r in KEY_HOLDER_ROLES}
    return [u for u in users if set(u.roles or []) & wanted and (u.organisation_id == actor.organisation_id or not set(u.roles or []) & {Role.agency.value})]


def purchasers(session: Session) -> list[Organisation]:
    return list(session.scalars(select(Organisation).where(Organisation.kind == OrgKind.purchaser, Organisation.active.is_(True)).order_by(Organisation.name)))

