"""Clarifications and amendments of a published tender (R21): the deadline extended so that 15 days remain
when one can affect bids, its files checked and stored like tender documents, and everyone who downloaded or
registered told."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.notifications import notify
from audit import record
from core import clock
from core.errors import N_, Conflict, Problem, ValidationFailed
from core.identity import Actor
from storage.base import BlobStore
from tender import access, drafting, participation, rules
from tender.events import TenderTag
from tender.lifecycle import Status
from tender.models import Clarification, TenderDocument


def clarify(
    session: Session,
    actor: Actor,
    blobs: BlobStore,
    tender_id: int,
    title: str,
    body: str,
    affects_bids: bool,
    files: list[drafting.FileInput],
    max_bytes: int,
) -> Clarification:
    """R21: publish a clarification or amendment; extend the deadline so that 15 days remain when it can
    affect bids; notify everyone who downloaded or registered."""
    tender = access.get_tender(session, tender_id, lock=True)
    access.require_tender_agency(actor, tender)
    if tender.status != Status.published:
        raise Conflict.one(
            "not_published", N_("Clarifications are issued while the tender is open for bids.")
        )
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
    number = (
        session.scalar(select(func.max(Clarification.number)).where(Clarification.tender_id == tender.id))
        or 0
    ) + 1
    clar = Clarification(
        tender_id=tender.id,
        number=number,
        title=title.strip(),
        body=body.strip(),
        affects_bids=affects_bids,
        deadline_before=before,
        deadline_after=after,
        issued_by=actor.user_id,
        issued_at=now,
    )
    session.add(clar)
    session.flush()
    stored = []
    for f in files:
        name, content_type, size, key = drafting.store_document(blobs, f, max_bytes, "files")
        doc = TenderDocument(
            tender_id=tender.id,
            clarification_id=clar.id,
            filename=name,
            content_type=content_type,
            size=size,
            blob_key=key,
            uploaded_by=actor.user_id,
        )
        session.add(doc)
        stored.append({"filename": name, "sha256": key, "size": size})
    record(
        session,
        TenderTag.tender_clarified,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={"number": number, "title": clar.title, "affects_bids": affects_bids, "files": stored},
    )
    if after != before:
        tender.bid_deadline = after
        if tender.doc_issue_end and tender.doc_issue_end > after:
            tender.doc_issue_end = after
        record(
            session,
            TenderTag.tender_deadline_extended,
            actor=actor,
            subject=f"tender:{tender.id}",
            details={
                "from": before.isoformat(),
                "to": after.isoformat(),
                "rule": "R21",
                "clarification": number,
            },
        )
    notify(
        session,
        participation.interested_users(session, tender.id),
        "tender.clarified",
        title=N_("%(reference)s %(title)s: clarification: %(clarification)s"),
        params={"reference": tender.reference, "title": tender.title, "clarification": clar.title},
        body=clar.body[:500],
        link=f"/tenders/{tender.id}#clarification-{number}",
    )
    return clar
