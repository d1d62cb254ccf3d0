"""Complaints to the supervising monitors (R60, R61): within 10 days of knowing the facts; on the tender
documents (R22), the opening (R44) or the result (R54) only after an objection. The monitor decides within 3
working days whether to accept it and within 30 working days the case (core.workdays: China's official
calendar): dismissed, or upheld with its remedy, which the platform carries out at once:

- re-evaluation: the tender goes back to the committee (lifecycle re_evaluate, R61);
- a new candidate: the candidate at fault is dropped and the publicity re-issued from the signed report with
  the next candidates of its ranking;
- re-tender: the tender fails with its reason (the re-tender itself is the agency's new tender);
- cancellation: the procedure is cancelled with the monitor's reasons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.models import Organisation
from accounts.notifications import notify
from audit import record
from award.publicity import people, rules
from award.publicity import publicity as publicity_service
from award.publicity.events import PublicityTag
from award.publicity.models import Complaint, ResultObjection
from core import clock
from core.disclosure import Fact
from core.errors import N_, Conflict, Forbidden, NotFound, ValidationFailed
from core.identity import SYSTEM, Actor, Role
from tender import access, disclosure, lifecycle
from tender.events import TenderTag
from tender.lifecycle import Event, Status
from tender.models import Objection, Opening, OpeningObjection, Tender

RE_TENDER_REASON = N_(
    "A complaint was upheld and the supervising authority ordered the tender to be tendered again (R61)."
)


@dataclass(frozen=True)
class ComplaintInput:
    matter: str
    text: str
    known_on: date | None
    objection_id: int | None = None


@dataclass(frozen=True)
class Decision:
    outcome: str
    reasons: str
    remedy: str = ""
    dropped_bid: int | None = None


def _objection_of(
    session: Session, tender: Tender, matter: rules.Matter, objection_id: int, org_id: int
) -> tuple[int, datetime | None, datetime | None]:
    """The complainant's own objection on the same matter: (organisation, answered at, answer due)."""
    if matter is rules.Matter.documents:
        d = session.get(Objection, objection_id)
        if d is not None and d.tender_id == tender.id:
            return d.organisation_id, d.answered_at, d.answer_due
    elif matter is rules.Matter.opening:
        o = session.get(OpeningObjection, objection_id)
        if o is not None:
            opening = session.get(Opening, o.opening_id)
            if opening is not None and opening.tender_id == tender.id:
                # R44: answered on the spot; one not answered counts as answered when it was raised
                return o.organisation_id, o.answered_at or o.raised_at, o.raised_at
    else:
        r = session.get(ResultObjection, objection_id)
        if r is not None and r.tender_id == tender.id:
            return r.organisation_id, r.answered_at, r.answer_due
    return -1, None, None


def objections_for(session: Session, actor: Actor, tender_id: int) -> dict[str, list[dict[str, Any]]]:
    """The complainant's own objections on the tender, by matter, for the complaint form to refer to."""
    out: dict[str, list[dict[str, Any]]] = {m.value: [] for m in rules.OBJECTION_FIRST}
    if actor.organisation_id is None:
        return out
    org = actor.organisation_id
    for d in session.scalars(
        select(Objection).where(Objection.tender_id == tender_id, Objection.organisation_id == org)
    ):
        out["documents"].append({"id": d.id, "raised_at": d.raised_at, "answered": d.answered_at is not None})
    for o in session.scalars(
        select(OpeningObjection)
        .join(Opening, Opening.id == OpeningObjection.opening_id)
        .where(Opening.tender_id == tender_id, OpeningObjection.organisation_id == org)
    ):
        out["opening"].append({"id": o.id, "raised_at": o.raised_at, "answered": True})
    for r in session.scalars(
        select(ResultObjection).where(
            ResultObjection.tender_id == tender_id, ResultObjection.organisation_id == org
        )
    ):
        out["result"].append({"id": r.id, "raised_at": r.raised_at, "answered": r.answered_at is not None})
    return out


def file_complaint(session: Session, actor: Actor, tender_id: int, data: ComplaintInput) -> Complaint:
    """R60: a bidder or other interested party complains to the supervisor."""
    access.require_role(actor, Role.bidder)
    tender = access.get_tender(session, tender_id, lock=True)
    if tender.status == Status.draft:
        raise NotFound.one("tender_not_found", N_("No such tender."))
    try:
        matter = rules.Matter(data.matter)
    except ValueError:
        raise ValidationFailed.one(
            "matter_missing", N_("Choose what the complaint is about."), "matter"
        ) from None
    now = clock.now()
    today = clock.to_cst(now).date()
    if data.known_on is None:
        raise ValidationFailed.one(
            "known_on_missing", N_("Give the day you learned the facts, as YYYY-MM-DD."), "known_on"
        )
    if data.known_on > today:
        raise ValidationFailed.one(
            "known_on_future", N_("The day you learned the facts cannot be in the future."), "known_on"
        )
    if not rules.complaint_in_time(now, data.known_on):
        raise Conflict.one(
            "complaint_too_late",
            N_(
                "A complaint is made within 10 days of knowing the facts (R60); for facts known on %(known)s "
                "the last day was %(last)s."
            ),
            "known_on",
            rule="R60",
            known=data.known_on.isoformat(),
            last=clock.to_cst(rules.complaint_deadline(data.known_on)).strftime("%Y-%m-%d"),
        )
    needed = rules.objection_needed(matter)
    assert actor.user_id is not None and actor.organisation_id is not None
    if needed is not None:
        if data.objection_id is None:
            raise _objection_first(needed)
        org, answered_at, due = _objection_of(
            session, tender, matter, data.objection_id, actor.organisation_id
        )
        if org != actor.organisation_id:
            raise ValidationFailed.one(
                "objection_not_yours",
                N_("Choose one of your own objections on this matter."),
                "objection_id",
            )
        if answered_at is None and (due is None or now <= due):
            raise Conflict.one(
                "objection_unanswered",
                N_(
                    "Your objection awaits its answer until %(due)s: complain once it is answered or that "
                    "deadline has passed (R60)."
                ),
                "objection_id",
                rule="R60",
                due=clock.to_cst(due).strftime("%Y-%m-%d %H:%M") if due else "",
            )
    body = data.text.strip()
    if not body:
        raise ValidationFailed.one(
            "text_missing", N_("Write the complaint: the facts, the grounds and what you ask for."), "text"
        )
    if len(body) > rules.MAX_TEXT:
        raise ValidationFailed.one(
            "text_too_long",
            N_("The text is %(n)s characters long; shorten it to %(limit)s at most."),
            "text",
            n=len(body),
            limit=rules.MAX_TEXT,
        )
    c = Complaint(
        tender_id=tender.id,
        raised_by=actor.user_id,
        organisation_id=actor.organisation_id,
        matter=matter.value,
        objection_id=data.objection_id if needed is not None else None,
        text=body,
        known_on=data.known_on,
        received_at=now,
        status=rules.ComplaintStatus.received.value,
        acceptance_due=rules.acceptance_due(now),
        audit_index=0,
    )
    session.add(c)
    session.flush()
    entry = record(
        session,
        PublicityTag.complaint_received,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={
            "complaint": c.id,
            "matter": matter.value,
            "acceptance_due": c.acceptance_due.isoformat(),
            "rule": "R60",
        },
        confidential={"organisation": actor.organisation_id, "text": c.text},
        conceal_actor=True,
    )
    c.audit_index = entry.index
    notify(
        session,
        people.monitors(session),
        "award.complaint",
        title=N_("%(reference)s: a complaint was received; decide on its acceptance by %(due)s"),
        params={"reference": tender.reference, "due": _cst(c.acceptance_due)},
        link=f"/monitor/complaints/{c.id}",
    )
    return c


def _objection_first(rule: str) -> Conflict:
    return Conflict.one(
        "objection_first",
        N_(
            "On this matter an objection must come first (%(matter_rule)s, R60): raise it with the purchaser "
            "or its agency, and complain once it is answered or its answer is overdue."
        ),
        "objection_id",
        rule=rule,
        matter_rule=rule,
    )


def _cst(moment: datetime) -> str:
    return clock.to_cst(moment).strftime("%Y-%m-%d %H:%M")


def _monitor_complaint(session: Session, actor: Actor, complaint_id: int) -> tuple[Complaint, Tender]:
    access.require_role(actor, Role.monitor)
    c = session.get(Complaint, complaint_id)
    if c is None:
        raise NotFound.one("complaint_not_found", N_("No such complaint."))
    return c, access.get_tender(session, c.tender_id, lock=True)


def decide_acceptance(
    session: Session, actor: Actor, complaint_id: int, accept: bool, note: str
) -> Complaint:
    """R61: accepted, with the 30 working days of the decision from now; or not, with the reasons."""
    c, tender = _monitor_complaint(session, actor, complaint_id)
    if c.status != rules.ComplaintStatus.received:
        raise Conflict.one("acceptance_decided", N_("Whether to accept this complaint is decided already."))
    note = note.strip()
    if not accept and not note:
        raise ValidationFailed.one(
            "note_missing", N_("Say why the complaint is not accepted; the complainant reads it."), "note"
        )
    now = clock.now()
    c.accepted_at, c.acceptance_note = now, note
    if accept:
        c.status, c.decision_due = rules.ComplaintStatus.accepted.value, rules.decision_due(now)
    else:
        c.status = rules.ComplaintStatus.rejected.value
    session.flush()
    record(
        session,
        PublicityTag.complaint_accepted if accept else PublicityTag.complaint_rejected,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={
            "complaint": c.id,
            "on_time": now <= c.acceptance_due,
            "decision_due": c.decision_due.isoformat() if c.decision_due else None,
            "rule": "R61",
        },
        confidential={"note": note},
    )
    notify(
        session,
        {c.raised_by} | (people.parties(session, tender) if accept else set()),
        "award.complaint.acceptance",
        title=N_("%(reference)s: the complaint is accepted; it is decided by %(due)s")
        if accept
        else N_("%(reference)s: the complaint is not accepted"),
        params={"reference": tender.reference, "due": _cst(c.decision_due) if c.decision_due else ""},
        body=note,
        link=f"/bidder/tenders/{tender.id}/results#complaint-{c.id}",
    )
    return c


def _unsuspend(session: Session, tender: Tender) -> None:
    """A remedy moves the procedure on: a suspension (objections answered, or the monitor's own, whose
    decision this is) is lifted first."""
    if tender.status == Status.suspended:
        lifecycle.apply(tender, Event.resume)
        tender.monitor_suspended = False
        record(
            session,
            TenderTag.tender_resumed,
            actor=SYSTEM,
            subject=f"tender:{tender.id}",
            details={"reason": "complaint decided", "rule": "R61"},
        )


def _carry_out(session: Session, actor: Actor, tender: Tender, c: Complaint, remedy: rules.Remedy) -> None:
    if remedy is rules.Remedy.new_candidate:
        assert c.dropped_bid is not None  # checked by _check_remedy
        excluded = publicity_service.dropped_bids(session, tender.id) | {c.dropped_bid}
        _unsuspend(session, tender)
        publicity_service.reissue(session, actor, tender, excluded)
        return
    _unsuspend(session, tender)
    if remedy is rules.Remedy.re_evaluation:
        lifecycle.apply(tender, Event.re_evaluate)
    elif remedy is rules.Remedy.re_tender:
        lifecycle.apply(tender, Event.fail)
        tender.end_reason_key, tender.end_reason_params = RE_TENDER_REASON, {}
        record(
            session,
            TenderTag.tender_failed,
            actor=actor,
            subject=f"tender:{tender.id}",
            details={"reason": "complaint upheld: re-tender", "rule": "R61", "complaint": c.id},
        )
    else:
        lifecycle.apply(tender, Event.cancel)
        tender.cancel_reason = c.decision
        record(
            session,
            TenderTag.tender_cancelled,
            actor=actor,
            subject=f"tender:{tender.id}",
            details={"reason": c.decision, "rule": "R61", "complaint": c.id},
        )


def _check_remedy(session: Session, tender: Tender, remedy: rules.Remedy, dropped_bid: int | None) -> None:
    """Refuse a remedy that cannot be carried out before anything is written."""
    if remedy is not rules.Remedy.new_candidate:
        return
    if tender.status not in (Status.publicity, Status.suspended) or (
        tender.status == Status.suspended and tender.resume_to != Status.publicity
    ):
        raise Conflict.one(
            "remedy_not_possible",
            N_("A new candidate is published only while the candidates are (R54); choose another remedy."),
        )
    pub = publicity_service.publicity_of(session, tender.id)
    current = {row.get("opened_bid") for row in (pub.candidates if pub else [])}
    if dropped_bid is None or dropped_bid not in current:
        raise ValidationFailed.one(
            "dropped_bid_missing", N_("Choose the candidate whose candidacy ends."), "dropped_bid"
        )


def decide(session: Session, actor: Actor, complaint_id: int, data: Decision) -> Complaint:
    """R61: the monitor decides the accepted case; an upheld complaint's remedy is carried out now."""
    c, tender = _monitor_complaint(session, actor, complaint_id)
    if c.status != rules.ComplaintStatus.accepted:
        raise Conflict.one(
            "complaint_not_accepted",
            N_("Only an accepted complaint is decided, and only once."),
        )
    try:
        outcome = rules.Outcome(data.outcome)
    except ValueError:
        raise ValidationFailed.one("outcome_missing", N_("Choose the decision."), "outcome") from None
    remedy: rules.Remedy | None = None
    if outcome is rules.Outcome.upheld:
        try:
            remedy = rules.Remedy(data.remedy)
        except ValueError:
            raise ValidationFailed.one(
                "remedy_missing", N_("An upheld complaint needs its remedy: choose one."), "remedy"
            ) from None
    reasons = data.reasons.strip()
    if not reasons:
        raise ValidationFailed.one(
            "reasons_missing", N_("Write the reasons of the decision; the parties read them."), "reasons"
        )
    if remedy is not None:
        _check_remedy(session, tender, remedy, data.dropped_bid)
    now = clock.now()
    c.outcome, c.remedy, c.decision = outcome.value, remedy.value if remedy else "", reasons
    c.dropped_bid = data.dropped_bid if remedy is rules.Remedy.new_candidate else None
    c.status, c.decided_at, c.decided_by = rules.ComplaintStatus.decided.value, now, actor.user_id
    session.flush()
    if remedy is not None:
        _carry_out(session, actor, tender, c, remedy)
    record(
        session,
        PublicityTag.complaint_decided,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={
            "complaint": c.id,
            "outcome": outcome.value,
            "remedy": remedy.value if remedy else None,
            "dropped": c.dropped_bid,
            "status": tender.status,
            "on_time": c.decision_due is None or now <= c.decision_due,
            "rule": "R61",
        },
        confidential={"reasons": reasons},
    )
    notify(
        session,
        {c.raised_by} | people.parties(session, tender) | people.monitors(session),
        "award.complaint.decided",
        title=N_("%(reference)s: the complaint is decided"),
        params={"reference": tender.reference},
        body=reasons,
        link=f"/tenders/{tender.id}",
    )
    return c


# ---------------------------------------------------------------- what people read


@dataclass
class ComplaintRow:
    item: Complaint
    tender: Tender
    author: str
    acceptance_overdue: bool
    decision_overdue: bool


def _row(session: Session, c: Complaint, tender: Tender, now: datetime) -> ComplaintRow:
    org = session.get(Organisation, c.organisation_id)
    return ComplaintRow(
        c,
        tender,
        org.name if org else "",
        rules.overdue(now, c.acceptance_due, c.accepted_at),
        rules.overdue(now, c.decision_due, c.decided_at),
    )


def monitor_list(session: Session, actor: Actor) -> list[ComplaintRow]:
    access.require_role(actor, Role.monitor)
    now = clock.now()
    out = []
    for c in session.scalars(select(Complaint).order_by(Complaint.received_at.desc(), Complaint.id.desc())):
        out.append(_row(session, c, access.get_tender(session, c.tender_id), now))
    return out


@dataclass
class MonitorView:
    row: ComplaintRow
    candidates: list[dict[str, Any]]  # the current publicity's, for a new candidate
    objection_text: str  # the objection that came first


def monitor_view(session: Session, actor: Actor, complaint_id: int) -> MonitorView:
    access.require_role(actor, Role.monitor)
    c = session.get(Complaint, complaint_id)
    if c is None:
        raise NotFound.one("complaint_not_found", N_("No such complaint."))
    tender = access.get_tender(session, c.tender_id)
    if not disclosure.may_see(session, actor, tender, Fact.complaints):
        raise Forbidden.one("complaints_hidden", N_("Only the supervising monitors handle complaints."))
    pub = publicity_service.publicity_of(session, tender.id)
    text = ""
    if c.objection_id is not None:
        matter = rules.Matter(c.matter)
        model: Any = {
            rules.Matter.documents: Objection,
            rules.Matter.opening: OpeningObjection,
            rules.Matter.result: ResultObjection,
        }[matter]
        found = session.get(model, c.objection_id)
        text = found.text if found is not None else ""
    return MonitorView(_row(session, c, tender, clock.now()), list(pub.candidates) if pub else [], text)


def own_complaints(session: Session, actor: Actor, tender_id: int) -> list[ComplaintRow]:
    """The complainant's own complaints on a tender, with their deadlines."""
    if actor.organisation_id is None:
        return []
    tender = access.get_tender(session, tender_id)
    now = clock.now()
    return [
        _row(session, c, tender, now)
        for c in session.scalars(
            select(Complaint)
            .where(Complaint.tender_id == tender_id, Complaint.organisation_id == actor.organisation_id)
            .order_by(Complaint.received_at)
        )
    ]
