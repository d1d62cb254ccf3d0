"""The content of the procedure file: SECTIONS, a list of small functions, one per part of the file, each
yielding the archive's files (bundle.File) for one tender. A feature adds its documents by adding a function
here (the award notice, the objections and complaints on the results, ...): the manifest lists whatever the
functions yield, the verifier checks whatever the manifest lists.

Every JSON file is canonical JSON (bundle.canonical); a document already hashed elsewhere (the evaluation
report, the opening record's body) keeps the bytes that were hashed, so its SHA-256 in the manifest is the one
the report's signatures and the opening record's hash name. Blobs (tender documents, sealed bids, the signed
contract) are streamed from the blob store one chunk at a time.

What is left out, on purpose (core.disclosure):
- the opened bids' files (Fact.bid_files: only the committee reads them, in the sealed room, E33): the archive
  holds each sealed bid as submitted (its SHA-256 is the receipt's and the opening record's) with its receipt;
- who asked a question or raised an objection to the documents: the answers are published without naming them
  (R22), and the archive says no more than the notice did;
- audit entries still withheld from the public log (a participation entry of a tender cancelled before its
  opening record): the archive holds the procedure's entries as the public log serves them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import Organisation
from audit import SignedCheckpoint, feed
from award.archive.bundle import ENTRIES, File, canonical, safe_name
from award.models import Award, Contract, Publicity
from core import clock
from core.identity import Actor
from evaluation.report import signing
from evaluation.room import sessions
from storage.base import BlobStore
from tender.models import Bid, Clarification, Objection, Opening, Question, Tender, TenderDocument
from tender.opening import record


def iso(value: Any) -> str | None:
    return clock.as_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


@dataclass
class Context:
    """What a section reads: the tender, the reader the file is built for (the sections that already check
    their own disclosure, the report's, ask as this reader), the blob store, and a signed checkpoint that
    covers the log as it stood when the build started (for the documents that carry their own proofs)."""

    session: Session
    actor: Actor
    tender: Tender
    store: BlobStore
    checkpoint: SignedCheckpoint
    verifier_keys: list[str]
    subjects: list[str] = field(default_factory=list)
    indexes: list[int] = field(default_factory=list)  # the audit entries the audit section wrote


Section = Callable[[Context], Iterable[File]]


def _blob(store: BlobStore, key: str) -> Callable[[], Iterable[bytes]]:
    return lambda: store.open(key)


def notice(ctx: Context) -> Iterator[File]:
    """The tender as published (招标公告): its terms, lots, dates and how it ended."""
    t = ctx.tender
    yield File.json(
        "notice/tender.json",
        {
            "id": t.id,
            "reference": t.reference,
            "title": t.title,
            "description": t.description,
            "category": t.category,
            "government_procurement": t.government_procurement,
            "state_funded": t.state_funded,
            "region": t.region,
            "evaluation_method": t.evaluation_method,
            "criteria": t.criteria,
            "doc_issue_start": iso(t.doc_issue_start),
            "doc_issue_end": iso(t.doc_issue_end),
            "question_deadline": iso(t.question_deadline),
            "bid_deadline": iso(t.bid_deadline),
            "original_bid_deadline": iso(t.original_bid_deadline),
            "opening_place": t.opening_place,
            "opening_policy": t.opening_policy,
            "key_threshold": t.key_threshold,
            "published_at": iso(t.published_at),
            "status": t.status,
            "cancel_reason": t.cancel_reason,
            "end_reason": {"key": t.end_reason_key, "params": t.end_reason_params},
            "lots": [
                {
                    "number": lot.number,
                    "name": lot.name,
                    "description": lot.description,
                    "estimated_price_fen": lot.estimated_price,
                    "price_ceiling_fen": lot.price_ceiling,
                    "bid_security_fen": lot.bid_security,
                }
                for lot in t.lots
            ],
        },
    )


def documents(ctx: Context) -> Iterator[File]:
    """The tender documents and the clarifications' attachments, each as uploaded, with an index."""
    rows = list(
        ctx.session.scalars(
            select(TenderDocument)
            .where(TenderDocument.tender_id == ctx.tender.id)
            .order_by(TenderDocument.id)
        )
    )
    index = []
    for doc in rows:
        path = f"documents/{doc.id:06d}-{safe_name(doc.filename)}"
        index.append(
            {
                "path": path,
                "filename": doc.filename,
                "content_type": doc.content_type,
                "size": doc.size,
                "sha256": doc.blob_key,
                "clarification": doc.clarification_id,
                "uploaded_at": iso(doc.uploaded_at),
            }
        )
        yield File(path, doc.content_type or "application/octet-stream", _blob(ctx.store, doc.blob_key))
    yield File.json("documents/index.json", index)


def clarifications(ctx: Context) -> Iterator[File]:
    """The clarifications and changes (澄清/修改, R21), numbered, with the deadline before and after."""
    rows = ctx.session.scalars(
        select(Clarification).where(Clarification.tender_id == ctx.tender.id).order_by(Clarification.number)
    )
    yield File.json(
        "clarifications/clarifications.json",
        [
            {
                "number": c.number,
                "title": c.title,
                "body": c.body,
                "affects_bids": c.affects_bids,
                "deadline_before": iso(c.deadline_before),
                "deadline_after": iso(c.deadline_after),
                "issued_at": iso(c.issued_at),
            }
            for c in rows
        ],
    )


def questions(ctx: Context) -> Iterator[File]:
    """The bidders' questions and their answers, without who asked (as published)."""
    rows = ctx.session.scalars(
        select(Question).where(Question.tender_id == ctx.tender.id).order_by(Question.id)
    )
    yield File.json(
        "questions/questions.json",
        [
            {
                "id": q.id,
                "text": q.text,
                "asked_at": iso(q.asked_at),
                "answer": q.answer,
                "answered_at": iso(q.answered_at),
            }
            for q in rows
        ],
    )


def objections(ctx: Context) -> Iterator[File]:
    """The objections to the documents (异议, R22) and their answers, without who raised them."""
    rows = ctx.session.scalars(
        select(Objection).where(Objection.tender_id == ctx.tender.id).order_by(Objection.id)
    )
    yield File.json(
        "objections/objections.json",
        [
            {
                "id": o.id,
                "text": o.text,
                "raised_at": iso(o.raised_at),
                "answer_due": iso(o.answer_due),
                "answer": o.answer,
                "answered_at": iso(o.answered_at),
            }
            for o in rows
        ],
    )


def bids(ctx: Context) -> Iterator[File]:
    """Every complete upload (the counted bids and those replaced or withdrawn) as sealed, with its signed
    receipt (E27): the sealed file's SHA-256 is the receipt's and the opening record's. Streamed."""
    rows = ctx.session.execute(
        select(Bid, Organisation.name, Organisation.credit_code)
        .join(Organisation, Organisation.id == Bid.organisation_id)
        .where(Bid.tender_id == ctx.tender.id, Bid.blob_key != "", Bid.receipt != "")
        .order_by(Bid.id)
    ).all()
    index = []
    for bid, name, credit_code in rows:
        path = f"bids/{bid.id:06d}.sealed"
        index.append(
            {
                "path": path,
                "bid": bid.id,
                "lot": bid.lot_id,
                "bidder": name,
                "credit_code": credit_code,
                "status": bid.status,
                "size": bid.size,
                "sha256": bid.blob_key,
                "submitted_at": iso(bid.submitted_at),
                "ended_at": iso(bid.ended_at),
                "audit_index": bid.audit_index,
                "receipt": bid.receipt,
                "receipt_signature": bid.receipt_signature,
                "receipt_signer": bid.receipt_signer,
            }
        )
        yield File(path, "application/octet-stream", _blob(ctx.store, bid.blob_key), compress=False)
    yield File.json("bids/index.json", index)


def opening(ctx: Context) -> Iterator[File]:
    """The opening record (E32) as JSON (record.json: as served; record-body.json: the bytes its SHA-256 is
    of) and as PDF, or the failed opening's reason (R44)."""
    if ctx.session.scalar(select(Opening.id).where(Opening.tender_id == ctx.tender.id)) is None:
        return
    doc = record.record_document(ctx.session, ctx.tender.id)
    yield File.json("opening/record.json", doc)
    if doc.get("published") and "record" in doc:
        yield File.json("opening/record-body.json", doc["record"])
        pdf = record.record_pdf(doc)
        if pdf is not None:
            yield File.raw("opening/record.pdf", "application/pdf", pdf)


def evaluation(ctx: Context) -> Iterator[File]:
    """The signed evaluation report (R53): the canonical document (the bytes the members signed), its PDF,
    the keys and signatures, and the report bundle that `etender evaluation verify-report` checks."""
    report = signing.report_of(ctx.session, sessions.session_of(ctx.session, ctx.tender.id))
    if report is None:
        return
    yield File.raw("evaluation/report.json", "application/json", report.document.encode())
    bundle = signing.bundle(ctx.session, ctx.actor, ctx.tender.id, ctx.checkpoint, ctx.verifier_keys)
    yield File.json(
        "evaluation/signatures.json", {"keys": bundle["keys"], "signatures": bundle["signatures"]}
    )
    yield File.json("evaluation/report-bundle.json", bundle)
    _, pdf = signing.pdf(ctx.session, ctx.actor, ctx.tender.id)
    if pdf is not None:
        yield File.raw("evaluation/report.pdf", "application/pdf", pdf)


def results(ctx: Context) -> Iterator[File]:
    """What award/models.py holds: the publicity of the candidates (R54), the awards (R55, a declined one
    included) and the contracts (L46) with their signed files. The award notice, the objections and the
    complaints on the results are their features' own sections."""
    tid = ctx.tender.id
    pub = ctx.session.scalar(select(Publicity).where(Publicity.tender_id == tid))
    if pub is not None:
        yield File.json(
            "results/publicity.json",
            {
                "report": pub.report_id,
                "candidates": pub.candidates,
                "published_at": iso(pub.published_at),
                "ends_at": iso(pub.ends_at),
                "audit_index": pub.audit_index,
            },
        )
    awards = list(ctx.session.scalars(select(Award).where(Award.tender_id == tid).order_by(Award.id)))
    if awards:
        yield File.json(
            "results/awards.json",
            [
                {
                    "id": a.id,
                    "bid": a.bid_id,
                    "organisation": a.organisation_id,
                    "rank": a.rank,
                    "amount_fen": a.amount,
                    "estimate_fen": a.estimate,
                    "savings_fen": a.savings,
                    "status": a.status,
                    "decided_at": iso(a.decided_at),
                    "end_reason": {"key": a.end_reason_key, "params": a.end_reason_params},
                    "end_note": a.end_note,
                    "ended_at": iso(a.ended_at),
                    "audit_index": a.audit_index,
                }
                for a in awards
            ],
        )
    contracts = list(
        ctx.session.scalars(select(Contract).where(Contract.tender_id == tid).order_by(Contract.id))
    )
    listed = []
    for c in contracts:
        path = f"results/contracts/{c.id:06d}-{safe_name(c.filename)}" if c.blob_key else None
        listed.append(
            {
                "id": c.id,
                "award": c.award_id,
                "amount_fen": c.amount,
                "signed_on": c.signed_on.isoformat(),
                "starts_on": c.starts_on.isoformat() if c.starts_on else None,
                "ends_on": c.ends_on.isoformat() if c.ends_on else None,
                "performance_bond_fen": c.performance_bond,
                "filename": c.filename,
                "path": path,
                "sha256": c.sha256,
                "recorded_at": iso(c.recorded_at),
                "published_at": iso(c.published_at),
                "audit_index": c.audit_index,
            }
        )
        if path is not None:
            yield File(path, "application/octet-stream", _blob(ctx.store, c.blob_key))
    if contracts:
        yield File.json("results/contracts.json", listed)


PAGE = 1000


def audit_entries(ctx: Context) -> Iterator[File]:
    """The procedure's audit entries (subject tender:<id>) as the public log serves them, one canonical JSON
    object a line, oldest first: the seal proves each included in its signed checkpoint."""
    subject = f"tender:{ctx.tender.id}"
    if subject not in ctx.subjects:
        ctx.subjects.append(subject)
    filt = feed.FeedFilter(tender=ctx.tender.id)

    def lines() -> Iterator[bytes]:
        last = -1
        while True:
            page = feed.after(ctx.session, last, filt, limit=PAGE)
            if not page:
                return
            for item in page:
                ctx.indexes.append(item["index"])
                yield canonical(item) + b"\n"
            last = page[-1]["index"]

    yield File(ENTRIES, "application/jsonl", lines)


# The archive's sections, in the order their files are written. Add a feature's documents by adding its
# function (before audit_entries, which must come last: it takes the log as it stands).
SECTIONS: list[tuple[str, Section]] = [
    ("notice", notice),
    ("documents", documents),
    ("clarifications", clarifications),
    ("questions", questions),
    ("objections", objections),
    ("bids", bids),
    ("opening", opening),
    ("evaluation", evaluation),
    ("results", results),
    ("audit", audit_entries),
]
