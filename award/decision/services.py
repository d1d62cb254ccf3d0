"""The award (R55) and its notices (L45): the purchaser confirms the award once the publicity has ended, to
candidate no. 1 on a state-funded project; when the winner declines, cannot perform, gives no performance bond
or is found in breach, the award ends with its ground and passes to the next candidate, or no candidate is
left and the tender fails (then it is tendered again: award.decision.retender). The award notice to the winner
and the result notice to every other bidder are issued with the award, signed (award.decision.notice_format).

Who sees what (core.disclosure): the award, its savings and the grounds of an ended award (Fact.award) and the
notices (Fact.award_notices) are public once the result is final; the bid securities (Fact.bid_securities) are
the bidder's own and the tender's parties'. Services never commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import Organisation, User
from accounts.notifications import Channel, notify, tell
from audit import record
from award.decision import notice_format, pdf, rules
from award.decision.events import AwardTag
from award.decision.models import AwardNotice, BidSecurity, NoticeKind, SecurityStatus
from award.models import Award, AwardStatus, Contract, Publicity
from core import clock
from core.disclosure import Fact
from core.errors import N_, Conflict, Forbidden, NotFound, ValidationFailed
from core.identity import Actor, Role
from core.signing import SigningKey
from storage.base import BlobStore
from tender import access, disclosure, lifecycle
from tender.events import TenderTag
from tender.lifecycle import Event, Status
from tender.models import Bid, BidStatus, Tender

REFUSALS = {
    "award_not_purchaser": N_("Only the tender's purchaser confirms the award."),
    "award_no_publicity": N_(
        "The winning candidates have not been published: the award follows the publicity (R54)."
    ),
    "award_publicity_running": N_(
        "The publicity of the winning candidates runs until %(ends)s; the award is confirmed after it (R54)."
    ),
    "award_suspended": N_(
        "The procedure is suspended (an objection awaits its answer, or a monitor suspended it): the award "
        "waits until it resumes (R54)."
    ),
    "award_exists": N_("The award stands already; end it with its ground first to award another candidate."),
    "award_not_now": N_("No award can be made while the tender is %(status)s."),
    "award_not_a_candidate": N_("Choose one of the published winning candidates."),
    "award_candidate_passed": N_(
        "That candidate's award ended on a recorded ground; choose another candidate."
    ),
    "award_not_first": N_(
        "A state-funded project awards to the first candidate whose award has not ended on a recorded "
        "ground: "
        "candidate no. %(rank)s (R55)."
    ),
    "award_none_active": N_("No award stands: there is nothing to end."),
    "award_ground_unknown": N_("Choose the ground on which the award ends."),
    "award_note_long": N_("Keep the note under %(n)s characters."),
    "award_note_needed": N_("Say in a few words what happened: the ground is recorded with your words."),
    "award_has_contract": N_("The contract is recorded: the award no longer ends here."),
    "award_candidates_left": N_(
        "Candidate no. %(rank)s can still be awarded: a state-funded project awards to the next candidate "
        "before it is tendered again (R55)."
    ),
    "award_font_missing": N_(
        "The notices cannot be made on this server (the Noto CJK font is not installed); ask the operator."
    ),
    "award_not_visible": N_("The result is public once the award is made."),
    "award_not_party": N_("Only the tender's agency, purchaser and monitors follow the award here."),
    "notice_not_visible": N_("The notices are public once the award is made."),
}
MAX_NOTE = 2000

# R55: the grounds in words, as message keys with the candidate's rank (Award.end_reason_key)
GROUND_REASONS = {
    "declined": N_("Candidate no. %(rank)s declined the award (R55)."),
    "cannot_perform": N_("Candidate no. %(rank)s cannot perform the contract (R55)."),
    "no_performance_bond": N_(
        "Candidate no. %(rank)s did not give the performance bond the tender documents ask for (R55)."
    ),
    "breach": N_("Candidate no. %(rank)s was found in breach of the law affecting the award (R55)."),
}
GROUND_LABELS = {
    "declined": N_("Declined the award"),
    "cannot_perform": N_("Cannot perform the contract"),
    "no_performance_bond": N_("Did not give the performance bond"),
    "breach": N_("Found in breach of the law"),
}
IMPOSSIBLE_REASON = N_(
    "No winning candidate could be awarded: the tender failed and is tendered again (R55)."
)


def refuse(
    cls: type[Conflict] | type[ValidationFailed] | type[Forbidden],
    code: str,
    field: str | None = None,
    rule: str | None = None,
    **params: Any,
) -> Any:
    return cls.one(code, REFUSALS[code], field, rule, **params)


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# ---------------------------------------------------------------- reading


def publicity_of(session: Session, tender_id: int) -> Publicity | None:
    return session.scalar(select(Publicity).where(Publicity.tender_id == tender_id))


def awards_of(session: Session, tender_id: int) -> list[Award]:
    return list(session.scalars(select(Award).where(Award.tender_id == tender_id).order_by(Award.id)))


def active_award(session: Session, tender_id: int) -> Award | None:
    return session.scalar(
        select(Award).where(Award.tender_id == tender_id, Award.status == AwardStatus.active)
    )


def passed_ranks(awards: list[Award]) -> set[int]:
    return {a.rank for a in awards if a.status == AwardStatus.declined}


def candidate_ranks(publicity: Publicity) -> list[int]:
    return sorted(int(c["rank"]) for c in publicity.candidates)


def estimate_of(tender: Tender, bid_id: int, session: Session) -> int:
    """The estimated price of the awarded bid's lot: what the award's savings are measured against."""
    lot_id = session.scalar(select(Bid.lot_id).where(Bid.id == bid_id))
    return next((lot.estimated_price for lot in tender.lots if lot.id == lot_id), 0)


def _purchaser(actor: Actor, tender: Tender) -> None:
    access.require_login(actor)
    if not access.is_tender_purchaser(actor, tender):
        raise refuse(Forbidden, "award_not_purchaser")


def _note(note: str) -> str:
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise refuse(ValidationFailed, "award_note_long", "note", n=MAX_NOTE)
    return note


def _org_users(session: Session, org_ids: set[int]) -> set[int]:
    if not org_ids:
        return set()
    return set(
        session.scalars(select(User.id).where(User.organisation_id.in_(org_ids), User.active.is_(True)))
    )


def _tell(
    session: Session,
    channel: Channel | None,
    users: set[int],
    kind: str,
    title: str,
    link: str,
    params: dict[str, Any],
) -> None:
    if channel is None:
        notify(session, users, kind, title, link=link, params=params)
    else:
        tell(session, channel, users, kind, title, link=link, params=params)


# ---------------------------------------------------------------- the award


@dataclass(frozen=True)
class Signer:
    """What issuing a notice needs: the blob store for the signed file and the platform's key."""

    store: BlobStore
    key: SigningKey
    origin: str


def confirm(
    session: Session, actor: Actor, tender_id: int, rank: int, signer: Signer, channel: Channel | None = None
) -> Award:
    """R55: the purchaser awards the tender to the candidate of `rank`; the notices go out with it (L45)."""
    tender = access.get_tender(session, tender_id, lock=True)
    _purchaser(actor, tender)
    publicity = publicity_of(session, tender.id)
    if publicity is None:
        raise refuse(Conflict, "award_no_publicity", rule="R54")
    now = clock.now()
    if tender.status == Status.publicity:
        if not rules.award_open(tender.status, publicity.ends_at, now):
            ends = clock.to_cst(publicity.ends_at).strftime("%Y-%m-%d %H:%M")
            raise refuse(Conflict, "award_publicity_running", rule="R54", ends=ends)
    elif tender.status == Status.awarded and not impossible(tender):
        if active_award(session, tender.id) is not None:
            raise refuse(Conflict, "award_exists")
    elif tender.status == Status.suspended:
        raise refuse(Conflict, "award_suspended", rule="R54")
    else:
        raise refuse(Conflict, "award_not_now", status=tender.status)
    awards = awards_of(session, tender.id)
    passed = passed_ranks(awards)
    ranks = candidate_ranks(publicity)
    problem = rules.award_rank_problem(tender.state_funded, rank, ranks, passed)
    if problem is not None:
        raise refuse(
            ValidationFailed,
            problem,
            "rank",
            rule="R55" if problem == "award_not_first" else None,
            rank=rules.next_rank(ranks, passed) or 0,
        )
    candidate = next(c for c in publicity.candidates if int(c["rank"]) == rank)
    assert actor.user_id is not None
    estimate = estimate_of(tender, int(candidate["bid_id"]), session)
    award = Award(
        tender_id=tender.id,
        bid_id=int(candidate["bid_id"]),
        organisation_id=int(candidate["organisation_id"]),
        rank=rank,
        amount=int(candidate["price_fen"]),
        estimate=estimate,
        status=AwardStatus.active,
        decided_at=now,
        decided_by=actor.user_id,
    )
    if tender.status == Status.publicity:
        lifecycle.apply(tender, Event.award)
    entry = record(
        session,
        AwardTag.award_confirmed,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={
            "rank": rank,
            "bid": award.bid_id,
            "organisation": award.organisation_id,
            "amount_fen": award.amount,
            "estimate_fen": estimate,
            "savings_fen": rules.savings(estimate, award.amount),
            "state_funded": tender.state_funded,
            "passed_over": sorted(passed),
            "rule": "R55",
        },
    )
    award.audit_index = entry.index
    session.add(award)
    session.flush()
    issue_notices(session, actor, tender, award, signer, channel)
    ensure_securities(session, tender)
    return award


def decline(
    session: Session, actor: Actor, tender_id: int, ground: str, note: str, channel: Channel | None = None
) -> Award:
    """R55: the standing award ends on its ground; the next candidate may be awarded, or none is left."""
    tender = access.get_tender(session, tender_id, lock=True)
    _purchaser(actor, tender)
    if ground not in rules.GROUNDS:
        raise refuse(ValidationFailed, "award_ground_unknown", "ground")
    note = _note(note)
    if not note:
        raise refuse(ValidationFailed, "award_note_needed", "note")
    award = active_award(session, tender.id)
    if award is None:
        raise refuse(Conflict, "award_none_active")
    if session.scalar(select(Contract.id).where(Contract.award_id == award.id)) is not None:
        raise refuse(Conflict, "award_has_contract")
    now = clock.now()
    award.status = AwardStatus.declined
    award.end_reason_key = GROUND_REASONS[ground]
    award.end_reason_params = {"rank": award.rank}
    award.end_note = note
    award.ended_at = now
    record(
        session,
        AwardTag.award_declined,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={"award": award.id, "rank": award.rank, "ground": ground, "rule": "R55"},
    )
    _tell(
        session,
        channel,
        _org_users(session, {tender.agency_id}),
        "award.declined",
        N_("%(reference)s: the award to candidate no. %(rank)s ended; the next step is the purchaser's"),
        f"/award/tenders/{tender.id}",
        {"reference": tender.reference, "rank": award.rank},
    )
    session.flush()
    return award


def impossible(tender: Tender) -> bool:
    """Whether the purchaser found that no candidate can be awarded (declare_impossible)."""
    return tender.end_reason_key == IMPOSSIBLE_REASON


def declare_impossible(session: Session, actor: Actor, tender_id: int, note: str) -> Tender:
    """No candidate can be awarded: the tender fails, to be tendered again (the agency's one action). On a
    state-funded project every candidate must have been passed over on its ground first (R55). A tender still
    in its publicity fails; an awarded one whose winners all declined stays awarded (a final status does not
    change), its award's record saying that none stands, and is tendered again as a failed one is."""
    tender = access.get_tender(session, tender_id, lock=True)
    _purchaser(actor, tender)
    note = _note(note)
    if not note:
        raise refuse(ValidationFailed, "award_note_needed", "note")
    publicity = publicity_of(session, tender.id)
    if publicity is None:
        raise refuse(Conflict, "award_no_publicity", rule="R54")
    if tender.status == Status.publicity:
        if not rules.award_open(tender.status, publicity.ends_at, clock.now()):
            ends = clock.to_cst(publicity.ends_at).strftime("%Y-%m-%d %H:%M")
            raise refuse(Conflict, "award_publicity_running", rule="R54", ends=ends)
    elif tender.status != Status.awarded or impossible(tender):
        raise refuse(Conflict, "award_not_now", status=tender.status)
    if active_award(session, tender.id) is not None:
        raise refuse(Conflict, "award_exists")
    left = rules.next_rank(candidate_ranks(publicity), passed_ranks(awards_of(session, tender.id)))
    if tender.state_funded and left is not None:
        raise refuse(Conflict, "award_candidates_left", rule="R55", rank=left)
    failing = tender.status == Status.publicity
    if failing:
        lifecycle.apply(tender, Event.fail)
    tender.end_reason_key = IMPOSSIBLE_REASON
    tender.end_reason_params = {}
    record(
        session,
        AwardTag.award_impossible,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={"note_chars": len(note), "failed": failing, "rule": "R55"},
    )
    if failing:
        record(
            session,
            TenderTag.tender_failed,
            actor=actor,
            subject=f"tender:{tender.id}",
            details={"reason": "no candidate could be awarded", "rule": "R55"},
        )
    session.flush()
    ensure_securities(session, tender)
    return tender


# ---------------------------------------------------------------- the notices (L45)


def _org(session: Session, org_id: int) -> Organisation:
    org = session.get(Organisation, org_id)
    assert org is not None
    return org


def _party(org: Organisation) -> dict[str, Any]:
    return {"name": org.name, "credit_code": org.credit_code}


def bidder_orgs(session: Session, tender_id: int) -> list[int]:
    """The organisations whose bid counted on the tender (the newest complete submission of each)."""
    return sorted(
        set(
            session.scalars(
                select(Bid.organisation_id).where(
                    Bid.tender_id == tender_id, Bid.status == BidStatus.submitted
                )
            )
        )
    )


def notice_content(
    *,
    origin: str,
    number: str,
    kind: str,
    issued_at: datetime,
    tender: Tender,
    purchaser: Organisation,
    agency: Organisation,
    recipient: Organisation,
    winner: Organisation,
    award: Award,
) -> dict[str, Any]:
    return {
        "origin": origin,
        "number": number,
        "kind": kind,
        "issued_at": iso(issued_at),
        "issued_at_cst": clock.to_cst(issued_at).strftime("%Y-%m-%d %H:%M"),
        "tender": {"id": tender.id, "reference": tender.reference, "title": tender.title},
        "purchaser": _party(purchaser),
        "agency": _party(agency),
        "recipient": {"id": recipient.id, **_party(recipient)},
        "winner": {**_party(winner), "rank": award.rank, "amount_fen": award.amount},
        "award": award.id,
        "audit_index": award.audit_index,
        "contract_deadline": rules.contract_deadline(issued_at).isoformat(),
    }


def issue_notices(
    session: Session, actor: Actor, tender: Tender, award: Award, signer: Signer, channel: Channel | None
) -> list[AwardNotice]:
    """L45: the award notice to the winner and the result notice to every other bidder, at the same time."""
    now = clock.now()
    purchaser, agency = _org(session, tender.purchaser_id), _org(session, tender.agency_id)
    winner = _org(session, award.organisation_id)
    recipients = [award.organisation_id] + [
        o for o in bidder_orgs(session, tender.id) if o != award.organisation_id
    ]
    made = []
    for n, org_id in enumerate(recipients, start=1):
        kind = NoticeKind.award if org_id == award.organisation_id else NoticeKind.result
        number = f"{tender.reference}-A{award.id}-{n:03d}"
        content = notice_content(
            origin=signer.origin,
            number=number,
            kind=kind,
            issued_at=now,
            tender=tender,
            purchaser=purchaser,
            agency=agency,
            recipient=_org(session, org_id),
            winner=winner,
            award=award,
        )
        rendered = pdf.notice_pdf(content)
        if rendered is None:
            raise refuse(Conflict, "award_font_missing")
        signed = notice_format.sign(content, rendered, signer.key)
        blob = signer.store.put([signed.file])
        row = AwardNotice(
            award_id=award.id,
            tender_id=tender.id,
            organisation_id=org_id,
            kind=kind,
            number=number,
            statement=signed.text,
            signature=signed.signature,
            signer=signed.signer,
            blob_key=blob.key,
            sha256=blob.key,
            size=blob.size,
            issued_at=now,
        )
        session.add(row)
        made.append(row)
    session.flush()
    record(
        session,
        AwardTag.notices_issued,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={
            "award": award.id,
            "notices": [
                {"number": r.number, "kind": r.kind, "organisation": r.organisation_id, "sha256": r.sha256}
                for r in made
            ],
            "rule": "L45",
        },
    )
    for row in made:
        title = (
            N_("%(reference)s: you are awarded the tender; your award notice is ready")
            if row.kind == NoticeKind.award
            else N_("%(reference)s: the result of the tender; your result notice is ready")
        )
        _tell(
            session,
            channel,
            _org_users(session, {row.organisation_id}),
            f"award.notice.{row.kind}",
            title,
            f"/bidder/tenders/{tender.id}/award-notice",
            {"reference": tender.reference},
        )
    _tell(
        session,
        channel,
        _org_users(session, {tender.agency_id})
        | {u for u in _org_users(session, {tender.purchaser_id}) if u != actor.user_id},
        "award.confirmed",
        N_(
            "%(reference)s: the award is made to candidate no. %(rank)s; the contract is due within 30 days "
            "(L46)"
        ),
        f"/award/tenders/{tender.id}",
        {"reference": tender.reference, "rank": award.rank},
    )
    return made


def notices_of(session: Session, tender_id: int, organisation_id: int | None = None) -> list[AwardNotice]:
    stmt = select(AwardNotice).where(AwardNotice.tender_id == tender_id)
    if organisation_id is not None:
        stmt = stmt.where(AwardNotice.organisation_id == organisation_id)
    return list(session.scalars(stmt.order_by(AwardNotice.id)))


def readable_notice(session: Session, actor: Actor, notice_id: int) -> tuple[Tender, AwardNotice]:
    """A notice for who may see it: public once the result is final (Fact.award_notices)."""
    row = session.get(AwardNotice, notice_id)
    if row is None:
        raise NotFound.one("notice_not_found", N_("No such notice."))
    tender = access.get_tender(session, row.tender_id)
    if not disclosure.may_see(session, actor, tender, Fact.award_notices, row.organisation_id):
        raise refuse(Forbidden, "notice_not_visible")
    return tender, row


def notice_by_number(session: Session, actor: Actor, number: str) -> tuple[Tender, AwardNotice]:
    row = session.scalar(select(AwardNotice).where(AwardNotice.number == number))
    if row is None:
        raise NotFound.one("notice_not_found", N_("No such notice."))
    return readable_notice(session, actor, row.id)


# ---------------------------------------------------------------- the bid securities (R35, R57)


def ensure_securities(session: Session, tender: Tender) -> list[BidSecurity]:
    """One security per bidder and lot whose lot asks for one, with its refund deadline once it has started
    (rules.refund_due). Safe to run twice: a deadline once set is not moved."""
    existing = {
        s.bid_id: s for s in session.scalars(select(BidSecurity).where(BidSecurity.tender_id == tender.id))
    }
    by_lot = {lot.id: lot for lot in tender.lots}
    bids = session.scalars(
        select(Bid)
        .where(Bid.tender_id == tender.id, Bid.status.in_([BidStatus.submitted, BidStatus.withdrawn]))
        .order_by(Bid.id)
    ).all()
    chosen: dict[tuple[int, int], Bid] = {}
    for bid in bids:  # the counted bid, else the latest withdrawn one, of each bidder and lot
        key = (bid.organisation_id, bid.lot_id)
        held = chosen.get(key)
        if held is None or bid.status == BidStatus.submitted or held.status != BidStatus.submitted:
            chosen[key] = bid
    contract = session.scalar(
        select(Contract)
        .join(Award, Award.id == Contract.award_id)
        .where(Contract.tender_id == tender.id, Award.status == AwardStatus.active)
    )
    ended = tender.status in (Status.failed, Status.cancelled) or impossible(tender)
    out = []
    for bid in chosen.values():
        lot = by_lot.get(bid.lot_id)
        if lot is None or lot.bid_security <= 0:
            continue
        sec = existing.get(bid.id)
        if sec is None:
            sec = BidSecurity(
                tender_id=tender.id,
                bid_id=bid.id,
                organisation_id=bid.organisation_id,
                amount=lot.bid_security,
                status=SecurityStatus.held,
            )
            session.add(sec)
        if sec.refund_due is None:
            sec.refund_due = rules.refund_due(
                withdrawn_at=bid.ended_at if bid.status == BidStatus.withdrawn else None,
                contract_signed_on=contract.signed_on if contract is not None else None,
                tender_ended_at=tender.updated_at if ended else None,
            )
        out.append(sec)
    session.flush()
    return out


# ---------------------------------------------------------------- views


@dataclass
class Candidate:
    rank: int
    name: str
    organisation_id: int
    price_fen: int
    award: Award | None = None  # the award of this candidate, if any (the latest)
    passed: bool = False


@dataclass
class DecisionView:
    tender: Tender
    publicity: Publicity | None
    candidates: list[Candidate]
    awards: list[Award]
    active: Award | None
    notices: list[AwardNotice]
    contract: Contract | None
    securities: list[BidSecurity]
    names: dict[int, str]
    is_purchaser: bool
    is_agency: bool
    open: bool  # the award may be made now (R54: the publicity has ended)
    next_rank: int | None  # R55: the candidate a state-funded project awards to next
    can_fail: bool
    retender_of: Tender | None
    retendered_as: Tender | None
    retender_open: bool = False  # failed, or no candidate could be awarded: the agency may tender it again
    contract_deadline: Any = None
    overdue_refunds: set[int] = field(default_factory=set)


def _candidates(publicity: Publicity | None, awards: list[Award]) -> list[Candidate]:
    if publicity is None:
        return []
    out = []
    for c in sorted(publicity.candidates, key=lambda c: int(c["rank"])):
        mine = [a for a in awards if a.rank == int(c["rank"])]
        out.append(
            Candidate(
                int(c["rank"]),
                str(c.get("name", "")),
                int(c["organisation_id"]),
                int(c["price_fen"]),
                mine[-1] if mine else None,
                any(a.status == AwardStatus.declined for a in mine),
            )
        )
    return out


def links(session: Session, tender: Tender) -> tuple[Tender | None, Tender | None]:
    """The failed tender this one re-tenders, and the tender that re-tenders this one."""
    before = session.get(Tender, tender.retender_of_id) if tender.retender_of_id else None
    after = session.scalar(select(Tender).where(Tender.retender_of_id == tender.id))
    return before, after


def decision_view(session: Session, actor: Actor, tender_id: int) -> DecisionView:
    """The award's page for the tender's agency, purchaser, monitors and administrators."""
    tender = access.visible_tender(session, actor, tender_id)
    access.require_login(actor)
    is_agency, is_purchaser = (
        access.is_tender_agency(actor, tender),
        access.is_tender_purchaser(actor, tender),
    )
    if not (is_agency or is_purchaser or actor.has(Role.monitor) or actor.has(Role.admin)):
        raise refuse(Forbidden, "award_not_party")
    publicity = publicity_of(session, tender.id)
    awards = awards_of(session, tender.id)
    active = next((a for a in awards if a.status == AwardStatus.active), None)
    contract = (
        session.scalar(select(Contract).where(Contract.award_id == active.id)) if active is not None else None
    )
    # read only: the securities are written by the actions that start their deadlines (award, contract,
    # the failure, the re-tender), never by a page
    securities = (
        list(
            session.scalars(
                select(BidSecurity).where(BidSecurity.tender_id == tender.id).order_by(BidSecurity.id)
            )
        )
        if disclosure.may_see(session, actor, tender, Fact.bid_securities)
        else []
    )
    now = clock.now()
    passed = passed_ranks(awards)
    ranks = candidate_ranks(publicity) if publicity else []
    can_award = (
        publicity is not None
        and not impossible(tender)
        and (
            rules.award_open(tender.status, publicity.ends_at, now)
            or (tender.status == Status.awarded and active is None)
        )
    )
    left = rules.next_rank(ranks, passed)
    before, after = links(session, tender)
    notices = notices_of(session, tender.id)
    first_notice = next((n for n in notices if n.award_id == (active.id if active else None)), None)
    org_ids = (
        {c["organisation_id"] for c in (publicity.candidates if publicity else [])}
        | {s.organisation_id for s in securities}
        | {n.organisation_id for n in notices}
    )
    names = (
        dict(
            session.execute(
                select(Organisation.id, Organisation.name).where(Organisation.id.in_(org_ids))
            ).all()
        )
        if org_ids
        else {}
    )
    return DecisionView(
        tender=tender,
        publicity=publicity,
        candidates=_candidates(publicity, awards),
        awards=awards,
        active=active,
        notices=notices,
        contract=contract,
        securities=securities,
        names=names,
        is_purchaser=is_purchaser,
        is_agency=is_agency,
        open=can_award,
        next_rank=left,
        can_fail=can_award and active is None and (not tender.state_funded or left is None),
        retender_of=before,
        retendered_as=after,
        retender_open=tender.status == Status.failed or impossible(tender),
        contract_deadline=rules.contract_deadline(first_notice.issued_at) if first_notice else None,
        overdue_refunds={s.id for s in securities if rules.refund_overdue(s.status, s.refund_due, now)},
    )


@dataclass
class ResultView:
    tender: Tender
    awards: list[Award]
    active: Award | None
    names: dict[int, str]
    contract: Contract | None  # a published government-procurement contract
    retender_of: Tender | None
    retendered_as: Tender | None


def result_view(session: Session, actor: Actor, tender_id: int) -> ResultView:
    """The public result notice (中标结果公告): public once the award is made (Fact.award)."""
    tender = access.visible_tender(session, actor, tender_id)
    if not disclosure.may_see(session, actor, tender, Fact.award):
        raise refuse(Forbidden, "award_not_visible")
    awards = awards_of(session, tender.id)
    active = next((a for a in awards if a.status == AwardStatus.active), None)
    contract = None
    if active is not None and tender.government_procurement:
        contract = session.scalar(
            select(Contract).where(Contract.award_id == active.id, Contract.published_at.is_not(None))
        )
    ids = {a.organisation_id for a in awards}
    names = (
        dict(
            session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))).all()
        )
        if ids
        else {}
    )
    before, after = links(session, tender)
    return ResultView(tender, awards, active, names, contract, before, after)


@dataclass
class BidderNoticeView:
    tender: Tender
    notices: list[AwardNotice]
    securities: list[BidSecurity]


def bidder_view(session: Session, actor: Actor, tender_id: int) -> BidderNoticeView:
    """A bidder's own notices on the tender and its bid securities."""
    access.require_role(actor, Role.bidder)
    tender = access.visible_tender(session, actor, tender_id)
    org = actor.organisation_id
    assert org is not None
    if not disclosure.may_see(session, actor, tender, Fact.award_notices, org):
        raise refuse(Forbidden, "notice_not_visible")
    secs = list(
        session.scalars(
            select(BidSecurity).where(BidSecurity.tender_id == tender.id, BidSecurity.organisation_id == org)
        )
    )
    return BidderNoticeView(tender, notices_of(session, tender.id, org), secs)
