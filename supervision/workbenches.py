"""What the purchaser's and the bidder's workbenches show about each of their tenders (issue 16): the status
in words, the documents, the opening record once published, the evaluation's progress (counts only, never
names or scores before the result is final: core.disclosure decides, through the evaluation services) and
the result as far as it exists.

result_links() is the one place a tender's result pages are listed, each behind its own disclosure check: the
evaluation report, the publicity (web/award/publicity.py), the award's page for the purchaser and its agency
and the public result notice (web/award/decision.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from accounts.access import require_role
from award.publicity import publicity
from award.publicity import rules as publicity_rules
from core.disclosure import Fact, Phase
from core.identity import Actor, Role
from evaluation.report import signing
from evaluation.room import sessions
from tender import access, disclosure, listings
from tender.centre.intake import intake_of
from tender.centre.models import ProjectIntake
from tender.centre.rooms import booking_of
from tender.lifecycle import Status
from tender.models import Bid, BidStatus, Tender, TenderDocument


@dataclass(frozen=True)
class ResultLink:
    label: str  # a message key (N_)
    href: str


def result_links(session: Session, actor: Actor, tender: Tender) -> list[ResultLink]:
    """The links to the tender's result the reader may follow, in the procedure's order: the signed evaluation
    report once it may be read (Fact.evaluation_report: final); the published candidates or result notice
    (Fact.publicity); for the purchaser and its agency the award's page, where the purchaser awards once the
    publicity is over (R54, R55); the public result notice once awarded (Fact.award)."""
    links = []
    if signing.may_see(session, actor, tender, Fact.evaluation_report):
        report = signing.report_of(session, sessions.session_of(session, tender.id))
        if report is not None:
            links.append(ResultLink("The evaluation report", f"/tenders/{tender.id}/evaluation/report"))
    published = publicity.publicity_of(session, tender.id) is not None
    if published and disclosure.may_see(session, actor, tender, Fact.publicity):
        label = (
            "Result notice"
            if publicity.kind_of(tender) is publicity_rules.Kind.result
            else "Publicity of the winning candidates"
        )
        links.append(ResultLink(label, f"/tenders/{tender.id}/publicity"))
    if published and (access.is_tender_purchaser(actor, tender) or access.is_tender_agency(actor, tender)):
        links.append(ResultLink("Award, contract and bid securities", f"/award/tenders/{tender.id}"))
    if tender.status == Status.awarded and disclosure.may_see(session, actor, tender, Fact.award):
        links.append(ResultLink("Result announcement", f"/tenders/{tender.id}/result"))
    return links


@dataclass
class TenderOutcome:
    """One tender on a workbench: what the reader may know of its course and result."""

    tender: Tender
    phase: Phase
    opening_record: bool  # the opening record is published (E32): link to it
    progress: sessions.Progress | None  # the evaluation's progress, when the reader may follow it
    signing: signing.SigningProgress | None  # how many members signed the report (counts only)
    results: list[ResultLink]
    documents: list[TenderDocument] = field(default_factory=list)
    intake: ProjectIntake | None = None
    opening_place: str = ""
    bids: list[tuple[int, str]] = field(default_factory=list)  # the bidder's own: (lot number, bid status)


def _outcome(session: Session, actor: Actor, tender: Tender) -> TenderOutcome:
    phase = disclosure.phase_of(session, tender)
    progress = signed = None
    if phase >= Phase.opening and disclosure.may_see(session, actor, tender, Fact.evaluation_progress):
        _, progress = sessions.progress(session, actor, tender.id)
        if not progress.booked:
            progress = None
        if tender.status != Status.draft:
            _, signed = signing.progress(session, actor, tender.id)
            if not signed.generated:
                signed = None
    booking = booking_of(session, tender.id)
    return TenderOutcome(
        tender=tender,
        phase=phase,
        opening_record=phase >= Phase.opened and tender.status != Status.cancelled,
        progress=progress,
        signing=signed,
        results=result_links(session, actor, tender),
        # the notice's words (a published notice changes only by a clarification); the booked room for a draft
        opening_place=tender.opening_place or (booking.room.name if booking is not None else ""),
    )


def purchaser_tenders(session: Session, actor: Actor) -> list[TenderOutcome]:
    """The purchaser's tenders (its drafts too: a draft is its purchaser's to see), the newest first."""
    require_role(actor, Role.purchaser)
    tenders = session.scalars(
        select(Tender)
        .where(Tender.purchaser_id == actor.organisation_id)
        .options(selectinload(Tender.documents))
        .order_by(Tender.id.desc())
    )
    out = []
    for tender in tenders:
        row = _outcome(session, actor, tender)
        row.documents = [d for d in tender.documents if d.clarification_id is None]
        row.intake = intake_of(session, tender.id)
        out.append(row)
    return out


def bidder_outcomes(session: Session, actor: Actor) -> dict[int, TenderOutcome]:
    """For each tender the bidder takes part in: its own bids' states (its own:
    Fact.participation's own party)
    and, after the opening, the record and the outcome. Keyed by tender id."""
    out = {}
    for tender in listings.bidder_tenders(session, actor):
        row = _outcome(session, actor, tender)
        numbers = {lot.id: lot.number for lot in tender.lots}
        bids = session.scalars(
            select(Bid)
            .where(
                Bid.tender_id == tender.id,
                Bid.organisation_id == actor.organisation_id,
                Bid.status.in_(
                    [BidStatus.submitted.value, BidStatus.withdrawn.value, BidStatus.uploading.value]
                ),
            )
            .order_by(Bid.id)
        )
        latest: dict[int, str] = {}
        for bid in bids:  # the newest of each lot: a later upload supersedes an earlier withdrawal
            latest[numbers.get(bid.lot_id, 0)] = bid.status
        row.bids = sorted(latest.items())
        out[tender.id] = row
    return out
