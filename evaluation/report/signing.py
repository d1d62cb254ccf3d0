"""The evaluation report's services (R53; G87 art. 64): the chair generates the report once the ranking step
is closed (frozen: its canonical text and SHA-256, audited); each present member registers an Ed25519 public
key made in their own browser and signs the report's SHA-256 with it, with a written dissent if they disagree;
a member who neither signs nor gives reasons by the deadline counts as agreeing (sweep_deadlines, periodic).
When every member has signed or is deemed to agree, the report is complete and the tender leaves the
evaluation: evaluated, or failed when the ranking found no valid bid (L42, P27).

Who sees what (core.disclosure): the report itself (Fact.evaluation_report) the committee and the monitors,
the public once the result is final; how many have signed (Fact.evaluation_progress) everyone who follows the
session; who has signed only who may see the committee's names. Services never commit."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.notifications import Channel, notify, tell
from audit import SignedCheckpoint, feed, record
from core import clock
from core.disclosure import Audience, Fact
from core.disclosure import may_see as policy_allows
from core.errors import N_, Conflict, Forbidden, NotFound, ValidationFailed
from core.identity import SYSTEM, Actor
from evaluation.committee.models import Seat, SeatStatus
from evaluation.report import content, rules
from evaluation.report.events import ReportTag
from evaluation.report.models import EvaluationReport, ReportKey, ReportSignature
from evaluation.room import sessions, steps
from evaluation.room.models import Attendance, AttendanceStatus, EvaluationSession, Step
from tender import disclosure, lifecycle
from tender.events import TenderTag
from tender.lifecycle import Event, Status
from tender.models import Tender

REFUSALS = {
    "report_not_ready": N_("The report is generated once the committee has closed the ranking step."),
    "report_exists": N_("The report has been generated already; it is not generated twice."),
    "report_not_chair": N_("Only the committee's chair generates the report."),
    "report_not_generated": N_("The chair has not generated the report yet."),
    "report_not_signer": N_(
        "You were not among the members present when the report was generated: it is signed by those who "
        "were."
    ),
    "report_already_signed": N_("You have signed this report already; a member signs it once."),
    "report_no_key": N_("Make your signing key first: it is registered for your seat before you sign."),
    "report_key_exists": N_("Your signing key for this session is registered already."),
    "report_key_invalid": N_("That is not an Ed25519 public key; make the key again on this page."),
    "report_other_hash": N_(
        "Your signature is over another version of the report (SHA-256 %(theirs)s, the report is "
        "%(ours)s). Reload the report and sign again."
    ),
    "report_signature_invalid": N_(
        "The signature does not verify with your registered key over this report's SHA-256; sign again on "
        "this page, in the browser that made your key."
    ),
    "report_complete": N_("The report is complete: every member has signed it or is deemed to agree."),
    "report_not_visible": N_(
        "The evaluation report is for the committee and the monitors until the result is final."
    ),
    "report_dissent_long": N_("Keep the dissent under %(n)s characters."),
}
MAX_DISSENT = 5000

# L42, P27: why the signed report failed the tender (Tender.end_reason_key, shown in the reader's language
# as the fewer-than-3-bids failure's is), by the ranking's failure reason (docs/scoring.md: failed.reason)
FAILED_REASONS = {
    "all_rejected": N_(
        "The evaluation committee rejected every bid: the tender failed and is tendered again (L42, P27)."
    ),
    "too_few_valid": N_(
        "Fewer than 3 valid bids were left after the review and the evaluation committee rejected them all: "
        "the tender failed and is tendered again (L42, P27)."
    ),
}


def _refuse(kind: type[Conflict] | type[Forbidden], code: str, **params: Any) -> Any:
    return kind.one(code, REFUSALS[code], **params)


# ---------------------------------------------------------------- lookups


def report_of(
    session: Session, sess: EvaluationSession | None, lock: bool = False
) -> EvaluationReport | None:
    if sess is None:
        return None
    query = select(EvaluationReport).where(EvaluationReport.session_id == sess.id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def document_of(report: EvaluationReport) -> dict[str, Any]:
    return json.loads(report.document)  # type: ignore[no-any-return]


def members_of(report: EvaluationReport) -> list[int]:
    """The seats that sign: the members present when the report was generated, in seat order."""
    return [m["seat"] for m in document_of(report)["committee"]["members"]]


def signatures_of(session: Session, report: EvaluationReport) -> list[ReportSignature]:
    return list(
        session.scalars(
            select(ReportSignature).where(ReportSignature.report_id == report.id).order_by(ReportSignature.id)
        )
    )


def keys_of(session: Session, sess: EvaluationSession) -> dict[int, ReportKey]:
    rows = session.scalars(select(ReportKey).where(ReportKey.session_id == sess.id).order_by(ReportKey.id))
    return {k.seat_id: k for k in rows}


def _audiences(session: Session, actor: Actor, tender: Tender) -> set[Audience]:
    found = disclosure.audiences(actor, tender)
    seat = sessions._seat_of(session, actor, sessions._draw(session, tender.id))
    if seat is not None and seat.status == SeatStatus.confirmed:
        found.add(Audience.committee)
    return found


def may_see(session: Session, actor: Actor, tender: Tender, fact: Fact) -> bool:
    return policy_allows(fact, _audiences(session, actor, tender), disclosure.phase_of(session, tender))


# ---------------------------------------------------------------- generating


def generate(
    session: Session, actor: Actor, tender_id: int, channel: Channel | None = None
) -> EvaluationReport:
    """The chair freezes the report once the ranking step is closed: its canonical text and SHA-256 are kept
    and the hash written to the audit log (report.generated). Every member who signs is told, with the
    deadline after which silence counts as agreement (R53); by `channel` too when one is given."""
    w = steps.working_member(session, actor, tender_id)
    closed = steps.closed_steps(session, w.session)
    if Step.ranking not in closed:
        raise _refuse(Conflict, "report_not_ready")
    if not w.chair:
        raise _refuse(Forbidden, "report_not_chair")
    if report_of(session, w.session) is not None:
        raise _refuse(Conflict, "report_exists")
    now = clock.now()
    doc = content.document(session, w.tender, w.session, w.draw, closed, now)
    text = rules.canonical(doc).decode("utf-8")
    digest = rules.report_sha256(doc)
    due = rules.deadline(now, clock.as_utc(w.session.ends_at))
    members = [m["seat"] for m in doc["committee"]["members"]]
    entry = record(
        session,
        ReportTag.report_generated,
        actor=actor,
        subject=w.subject,
        details={
            "session": w.session.id,
            "report_sha256": digest,
            "members": members,
            "deadline": content.iso(due),
        },
        conceal_actor=True,  # L37: who chairs is confidential until the result is final
    )
    report = EvaluationReport(
        session_id=w.session.id,
        tender_id=w.tender.id,
        generated_at=now,
        generated_by_seat_id=w.seat.id,
        document=text,
        sha256=digest,
        audit_index=entry.index,
        deadline=due,
    )
    session.add(report)
    session.flush()
    _tell_members(session, w.tender, w.session, members, due, channel)
    return report


def _tell_members(
    session: Session,
    tender: Tender,
    sess: EvaluationSession,
    seats: list[int],
    due: datetime,
    channel: Channel | None,
) -> None:
    """R53: the members who sign learn that the report waits for their signature and by when; a member who
    neither signs nor gives reasons by then is deemed to agree. The committee's, never a member's name."""
    users = set(
        session.scalars(
            select(Attendance.user_id).where(
                Attendance.session_id == sess.id,
                Attendance.seat_id.in_(seats),
                Attendance.status == AttendanceStatus.present,
            )
        )
    )
    args: dict[str, Any] = {
        "kind": "evaluation.report.generated",
        "title": N_(
            "%(reference)s: the evaluation report is generated and waits for your signature; sign it by "
            "%(deadline)s (China Standard Time), or you are deemed to agree with it"
        ),
        "link": f"/expert/tenders/{tender.id}/room/report#sign",
        "params": {
            "reference": tender.reference,
            "deadline": clock.to_cst(due).strftime("%Y-%m-%d %H:%M"),
        },
    }
    if channel is None:
        notify(session, users, **args)
    else:
        tell(session, channel, users, **args)


# ---------------------------------------------------------------- keys and signatures


def register_key(session: Session, actor: Actor, tender_id: int, public_key: str) -> ReportKey:
    """A present member registers the Ed25519 public key their browser made, for their seat in this
    session."""
    w = steps.working_member(session, actor, tender_id)
    key = public_key.strip().lower()
    if rules.public_key_problem(key) is not None:
        raise ValidationFailed.one("report_key_invalid", REFUSALS["report_key_invalid"], "public_key")
    if w.seat.id in keys_of(session, w.session):
        raise _refuse(Conflict, "report_key_exists")
    entry = record(
        session,
        ReportTag.report_key_registered,
        actor=actor,
        subject=w.subject,
        details={"session": w.session.id, "seat": w.seat.id, "public_key": key},
        conceal_actor=True,
    )
    row = ReportKey(
        session_id=w.session.id,
        seat_id=w.seat.id,
        public_key=key,
        registered_at=clock.now(),
        audit_index=entry.index,
    )
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class Signing:
    report_sha256: str  # the hash the member's browser signed (it must be this report's)
    signature: str  # Ed25519, 64 bytes in hex, over rules.signing_message(report_sha256)
    dissent: str = ""  # a written dissent (G87 art. 64): kept with the signature, not part of the document


def sign(session: Session, actor: Actor, tender_id: int, data: Signing) -> ReportSignature:
    """A present member's signature, verified with their registered key before it is accepted. The last
    signature completes the report."""
    w = steps.working_member(session, actor, tender_id)
    report = report_of(session, w.session, lock=True)
    if report is None:
        raise _refuse(Conflict, "report_not_generated")
    if report.completed_at is not None:
        raise _refuse(Conflict, "report_complete")
    if w.seat.id not in members_of(report):
        raise _refuse(Forbidden, "report_not_signer")
    done = {s.seat_id for s in signatures_of(session, report)}
    if w.seat.id in done:
        raise _refuse(Conflict, "report_already_signed")
    key = keys_of(session, w.session).get(w.seat.id)
    if key is None:
        raise _refuse(Conflict, "report_no_key")
    dissent = data.dissent.strip()
    if len(dissent) > MAX_DISSENT:
        raise ValidationFailed.one(
            "report_dissent_long", REFUSALS["report_dissent_long"], "dissent", n=MAX_DISSENT
        )
    theirs = data.report_sha256.strip().lower()
    if theirs != report.sha256:
        raise ValidationFailed.one(
            "report_other_hash", REFUSALS["report_other_hash"], "signature", theirs=theirs, ours=report.sha256
        )
    signature = data.signature.strip().lower()
    if not rules.signature_valid(key.public_key, report.sha256, signature):
        raise ValidationFailed.one(
            "report_signature_invalid", REFUSALS["report_signature_invalid"], "signature"
        )
    entry = record(
        session,
        ReportTag.report_signed,
        actor=actor,
        subject=w.subject,
        details={
            "session": w.session.id,
            "report_sha256": report.sha256,
            "seat": w.seat.id,
            "public_key": key.public_key,
            "signature": signature,
            "dissent_sha256": hashlib.sha256(dissent.encode("utf-8")).hexdigest() if dissent else None,
        },
        # the dissent's words are the committee's (L37) until the report is public; its hash is in the entry
        confidential={"dissent": dissent} if dissent else None,
        conceal_actor=True,
    )
    row = ReportSignature(
        report_id=report.id,
        seat_id=w.seat.id,
        kind=rules.SIGNED,
        public_key=key.public_key,
        signature=signature,
        dissent=dissent,
        signed_at=clock.now(),
        audit_index=entry.index,
    )
    session.add(row)
    session.flush()
    _complete_if_done(session, actor, report)
    return row


def _complete_if_done(session: Session, actor: Actor, report: EvaluationReport) -> bool:
    """Every member signed or is deemed to agree: the tender moves on (one audit entry)."""
    rows = signatures_of(session, report)
    if not rules.complete(members_of(report), [s.seat_id for s in rows]):
        return False
    tender = session.scalars(select(Tender).where(Tender.id == report.tender_id).with_for_update()).one()
    now = clock.now()
    report.completed_at = now
    doc = document_of(report)
    failed = doc.get("failed")
    counts = {
        "signed": sum(1 for s in rows if s.kind == rules.SIGNED),
        "deemed": sum(1 for s in rows if s.kind == rules.DEEMED),
    }
    if failed:
        # L42, P27: the committee rejected every bid; the signed report says why (its reason, the one the
        # ranking step recorded, is the notice's, as the fewer-than-3-bids failure's is)
        lifecycle.apply(tender, Event.fail)
        code = str(failed.get("reason", "")) if isinstance(failed, dict) else ""
        tender.end_reason_key = FAILED_REASONS.get(code, FAILED_REASONS["all_rejected"])
        tender.end_reason_params = {}
        record(
            session,
            TenderTag.tender_failed,
            actor=actor,
            subject=f"tender:{tender.id}",
            details={
                "reason": "all bids rejected" if code != "too_few_valid" else "too few valid bids",
                "rule": "L42",
                "report_sha256": report.sha256,
                **counts,
            },
            conceal_actor=actor is not SYSTEM,
        )
    else:
        lifecycle.apply(tender, Event.sign_report)
        record(
            session,
            ReportTag.report_completed,
            actor=actor,
            subject=f"tender:{tender.id}",
            details={"session": report.session_id, "report_sha256": report.sha256, **counts},
            conceal_actor=actor is not SYSTEM,
        )
    session.flush()
    return True


def sweep_deadlines(session: Session, now: datetime | None = None) -> list[int]:
    """R53: the members who neither signed nor gave reasons by the report's deadline count as agreeing, each
    recorded (report.signature.deemed); the reports this completes are returned. A tender that is not being
    evaluated (suspended) waits: its report is swept once it resumes. Safe to run twice."""
    now = now or clock.now()
    due = session.scalars(
        select(EvaluationReport)
        .where(EvaluationReport.completed_at.is_(None), EvaluationReport.deadline <= now)
        .order_by(EvaluationReport.id)
    ).all()
    completed = []
    for candidate in due:
        tender = session.get(Tender, candidate.tender_id)
        if tender is None or tender.status != Status.evaluating:
            continue
        report = report_of(session, session.get(EvaluationSession, candidate.session_id), lock=True)
        if report is None or report.completed_at is not None:
            continue
        done = [s.seat_id for s in signatures_of(session, report)]
        for seat in rules.outstanding(members_of(report), done):
            entry = record(
                session,
                ReportTag.report_deemed,
                actor=SYSTEM,
                subject=f"tender:{report.tender_id}",
                details={
                    "session": report.session_id,
                    "report_sha256": report.sha256,
                    "seat": seat,
                    "deadline": content.iso(report.deadline),
                },
            )
            session.add(
                ReportSignature(
                    report_id=report.id,
                    seat_id=seat,
                    kind=rules.DEEMED,
                    signed_at=now,
                    audit_index=entry.index,
                )
            )
        session.flush()
        if _complete_if_done(session, SYSTEM, report):
            completed.append(report.id)
    return completed


# ---------------------------------------------------------------- what the pages show


@dataclass
class MemberStatus:
    seat: int
    name: str
    chair: bool
    state: str  # "signed" | "deemed" | "" (not yet)
    dissent: str
    key_registered: bool


@dataclass
class SigningProgress:
    generated: bool
    signed: int = 0
    deemed: int = 0
    total: int = 0
    complete: bool = False
    deadline: datetime | None = None


@dataclass
class ReportView:
    tender: Tender
    session: EvaluationSession | None
    report: EvaluationReport | None
    progress: SigningProgress
    document: dict[str, Any] | None = None  # only for who may see the report
    members: list[MemberStatus] = field(default_factory=list)  # only for who may see the committee's names
    my_seat: int | None = None
    my_key: str | None = None  # the registered public key of the reader's seat
    my_signature: ReportSignature | None = None
    may_generate: bool = False
    may_sign: bool = False
    ranking_closed: bool = False


def _progress(session: Session, report: EvaluationReport | None) -> SigningProgress:
    if report is None:
        return SigningProgress(False)
    rows = signatures_of(session, report)
    return SigningProgress(
        generated=True,
        signed=sum(1 for s in rows if s.kind == rules.SIGNED),
        deemed=sum(1 for s in rows if s.kind == rules.DEEMED),
        total=len(members_of(report)),
        complete=report.completed_at is not None,
        deadline=clock.as_utc(report.deadline),
    )


def _tender(session: Session, tender_id: int) -> Tender:
    tender = session.get(Tender, tender_id)
    if tender is None or tender.status == Status.draft:
        raise NotFound.one("tender_not_found", N_("No such tender."))
    return tender


def progress(session: Session, actor: Actor, tender_id: int) -> tuple[Tender, SigningProgress]:
    """How many members have signed, for everyone who follows the session (Fact.evaluation_progress)."""
    tender = _tender(session, tender_id)
    if not may_see(session, actor, tender, Fact.evaluation_progress):
        raise Forbidden.one(
            "room_progress_not_yet",
            N_("The evaluation's progress is shown once the tender is being evaluated."),
        )
    return tender, _progress(session, report_of(session, sessions.session_of(session, tender.id)))


def view(session: Session, actor: Actor, tender_id: int) -> ReportView:
    """The report page: the document for who may see it, the signing status (names for who may see the
    committee's), and the reader's own seat's key and signature."""
    tender, prog = progress(session, actor, tender_id)
    sess = sessions.session_of(session, tender.id)
    report = report_of(session, sess)
    out = ReportView(tender, sess, report, prog)
    if sess is not None:
        out.ranking_closed = Step.ranking in steps.closed_steps(session, sess)
    draw_row = sessions._draw(session, tender.id)
    seat: Seat | None = sessions._seat_of(session, actor, draw_row)
    if seat is not None and seat.status == SeatStatus.confirmed and sess is not None:
        out.my_seat = seat.id
        mine = keys_of(session, sess).get(seat.id)
        out.my_key = mine.public_key if mine else None
        present = {a.seat_id for a in sess.attendances if a.status == "present"}
        working = seat.id in present and tender.status == Status.evaluating
        out.may_generate = working and report is None and out.ranking_closed and sess.chair_seat_id == seat.id
        if report is not None:
            out.my_signature = next((s for s in signatures_of(session, report) if s.seat_id == seat.id), None)
            out.may_sign = (
                working
                and report.completed_at is None
                and out.my_signature is None
                and seat.id in members_of(report)
            )
    if report is not None and may_see(session, actor, tender, Fact.evaluation_report):
        out.document = document_of(report)
    if report is not None and may_see(session, actor, tender, Fact.committee_names):
        doc = document_of(report)
        by_seat = {s.seat_id: s for s in signatures_of(session, report)}
        keys = keys_of(session, sess) if sess is not None else {}
        out.members = [
            MemberStatus(
                m["seat"],
                m["name"],
                m["chair"],
                by_seat[m["seat"]].kind if m["seat"] in by_seat else "",
                by_seat[m["seat"]].dissent if m["seat"] in by_seat else "",
                m["seat"] in keys,
            )
            for m in doc["committee"]["members"]
        ]
    return out


def readable_report(session: Session, actor: Actor, tender_id: int) -> tuple[Tender, EvaluationReport]:
    """The report for who may see it (Fact.evaluation_report), or the refusal."""
    tender = _tender(session, tender_id)
    if not may_see(session, actor, tender, Fact.evaluation_report):
        raise _refuse(Forbidden, "report_not_visible")
    report = report_of(session, sessions.session_of(session, tender.id))
    if report is None:
        raise NotFound.one("report_not_generated", REFUSALS["report_not_generated"])
    return tender, report


def bundle(
    session: Session,
    actor: Actor,
    tender_id: int,
    checkpoint: SignedCheckpoint,
    verifier_keys: list[str],
) -> dict[str, Any]:
    """The report bundle (docs/evaluation-report.md) for who may see the report: the document and its hash,
    the keys, the signatures and deemed agreements, and their audit entries (as the public log serves them)
    with inclusion proofs to `checkpoint`, signed with one of `verifier_keys`. The caller signs a checkpoint
    that covers the entries first."""
    tender, report = readable_report(session, actor, tender_id)
    sess = session.get(EvaluationSession, report.session_id)
    assert sess is not None
    keys = sorted(keys_of(session, sess).values(), key=lambda k: k.seat_id)
    sigs = signatures_of(session, report)
    indexes = sorted({report.audit_index, *(k.audit_index for k in keys), *(s.audit_index for s in sigs)})
    entries = []
    for index in indexes:
        item = feed.entry(session, index, None)  # as the public log shows it: what anyone can check
        item["proof"] = [h.hex() for h in feed.inclusion(session, index, checkpoint.size)]
        entries.append(item)
    return {
        "format": rules.BUNDLE_FORMAT,
        "version": rules.VERSION,
        "tender": {"id": tender.id, "reference": tender.reference},
        "report_sha256": report.sha256,
        "audit_index": report.audit_index,
        "generated_at": content.iso(report.generated_at),
        "deadline": content.iso(report.deadline),
        "completed_at": content.iso(report.completed_at),
        "document": document_of(report),
        "keys": [{"seat": k.seat_id, "public_key": k.public_key, "audit_index": k.audit_index} for k in keys],
        "signatures": [
            {
                "seat": s.seat_id,
                "kind": s.kind,
                "public_key": s.public_key,
                "signature": s.signature,
                "dissent": s.dissent,
                "signed_at": content.iso(s.signed_at),
                "audit_index": s.audit_index,
            }
            for s in sigs
        ],
        "audit": {"checkpoint": checkpoint.note, "verifier_keys": verifier_keys, "entries": entries},
    }


def pdf(session: Session, actor: Actor, tender_id: int) -> tuple[Tender, bytes | None]:
    """The report as PDF (evaluation.report.pdf) for who may see it, with its signatures so far; None when
    the CJK font is not installed."""
    from evaluation.report.pdf import report_pdf

    tender, report = readable_report(session, actor, tender_id)
    sigs = [
        {
            "seat": s.seat_id,
            "kind": s.kind,
            "signed_at": content.iso(s.signed_at),
            "dissent": s.dissent,
            "public_key": s.public_key,
        }
        for s in signatures_of(session, report)
    ]
    return tender, report_pdf(document_of(report), report.sha256, sigs, clock.as_utc(report.generated_at))
