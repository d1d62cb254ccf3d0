"""The publicity of the winning candidates (R54), generated from the signed evaluation report and never
retyped; for government procurement the result notice (中标/成交结果公告, G87-69) instead. The agency
publishes it; the public reads it from the tender's notice; bidders, the agency, the purchaser and the
monitors are told.

A complaint's remedy may re-issue it with the next candidates (award.publicity.complaints)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.models import Organisation
from accounts.notifications import notify
from audit import record
from award.models import Publicity
from award.publicity import people, rules
from award.publicity.events import PublicityTag
from award.publicity.models import Complaint, ResultObjection
from core import clock
from core.disclosure import Fact
from core.errors import N_, Conflict, NotFound
from core.identity import Actor, Role
from evaluation.report.models import EvaluationReport
from tender import access, disclosure, lifecycle
from tender.lifecycle import Event, Status
from tender.models import Bid, OpenedBid, Tender

_SUPERVISORS = (Role.monitor, Role.admin)


def kind_of(tender: Tender) -> rules.Kind:
    """Government procurement publishes the result notice (G87-69), every other tender its candidates."""
    return rules.Kind.result if tender.government_procurement else rules.Kind.candidates


def signed_report(session: Session, tender_id: int) -> EvaluationReport | None:
    """The tender's latest completed report (a re-evaluation makes a new one)."""
    return session.scalars(
        select(EvaluationReport)
        .where(EvaluationReport.tender_id == tender_id, EvaluationReport.completed_at.is_not(None))
        .order_by(EvaluationReport.completed_at.desc(), EvaluationReport.id.desc())
        .limit(1)
    ).first()


def publicity_of(session: Session, tender_id: int) -> Publicity | None:
    return session.scalars(select(Publicity).where(Publicity.tender_id == tender_id)).first()


def open_objections(session: Session, tender_id: int) -> int:
    """Objections on the result still awaiting their answer: the procedure stays suspended meanwhile (R54)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(ResultObjection)
            .where(ResultObjection.tender_id == tender_id, ResultObjection.answered_at.is_(None))
        )
        or 0
    )


def award_may_follow(session: Session, tender: Tender, now: datetime | None = None) -> bool:
    """R54: for the award (award.decision): the publicity has run its course and no objection is open."""
    pub = publicity_of(session, tender.id)
    return (
        pub is not None
        and tender.status == Status.publicity
        and rules.award_may_follow(now or clock.now(), pub.ends_at, open_objections(session, tender.id))
    )


def dropped_bids(session: Session, tender_id: int) -> set[int]:
    """The opened bids an upheld complaint took out of the candidates (R61: a new candidate)."""
    return {
        b
        for b in session.scalars(
            select(Complaint.dropped_bid).where(
                Complaint.tender_id == tender_id,
                Complaint.outcome == rules.Outcome.upheld,
                Complaint.remedy == rules.Remedy.new_candidate,
            )
        )
        if b is not None
    }


def candidates(session: Session, report: EvaluationReport, excluded: set[int]) -> list[dict[str, Any]]:
    """The candidates' rows from the report and the opened bids' price forms (rules.snapshot)."""
    doc = json.loads(report.document)
    wanted = set(rules.candidate_ids(doc, excluded))
    rows = (
        session.execute(
            select(OpenedBid.id, OpenedBid.price_form, Bid.id, Bid.organisation_id, Organisation.name)
            .join(Bid, Bid.id == OpenedBid.bid_id)
            .join(Organisation, Organisation.id == Bid.organisation_id)
            .where(OpenedBid.id.in_(wanted))
        ).all()
        if wanted
        else []
    )
    forms = {ob: dict(form or {}) for ob, form, *_ in rows}
    names = {ob: (bid, org, name) for ob, _, bid, org, name in rows}
    return rules.snapshot(doc, forms, names, excluded)


def _tell(session: Session, tender: Tender, title: str, params: dict[str, Any]) -> None:
    notify(
        session,
        people.bidders(session, tender) | people.parties(session, tender) | people.monitors(session),
        "award.publicity",
        title=title,
        params=params,
        link=f"/tenders/{tender.id}/publicity",
    )


def publish(session: Session, actor: Actor, tender_id: int) -> Publicity:
    """R54: the agency publishes the candidates of the signed report (G87-69: the result notice). Late is
    still published (refusing would only delay the procedure further) and the entry says it was late; the
    monitors are alerted to a publicity overdue (award.publicity.deadlines)."""
    tender = access.get_tender(session, tender_id, lock=True)
    access.require_tender_agency(actor, tender)
    if tender.status != Status.evaluated:
        raise Conflict.one(
            "publicity_not_ready",
            N_("The candidates are published once the evaluation report is signed, and only then (R54)."),
            rule="R54",
        )
    report = signed_report(session, tender.id)
    if report is None:
        raise Conflict.one(
            "publicity_no_report",
            N_("The evaluation report is not signed yet: the candidates come from the signed report (R53)."),
            rule="R53",
        )
    excluded = dropped_bids(session, tender.id)
    rows = candidates(session, report, excluded)
    if not rows:
        raise Conflict.one(
            "publicity_no_candidates",
            N_("The signed report recommends no candidate; nothing can be published."),
        )
    kind = kind_of(tender)
    now = clock.now()
    assert report.completed_at is not None
    due = rules.publish_due(kind, report.completed_at)
    ends = rules.publicity_ends(kind, now)
    pub = publicity_of(session, tender.id)
    if pub is None:  # a re-evaluation's new report re-publishes over the set-aside one (one row per tender)
        pub = Publicity(tender_id=tender.id, report_id=report.id, audit_index=0, ends_at=ends)
        session.add(pub)
    pub.report_id, pub.candidates, pub.published_at, pub.ends_at = report.id, rows, now, ends
    session.flush()
    lifecycle.apply(tender, Event.publish_candidates)
    entry = record(
        session,
        PublicityTag.publicity_published,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={
            "publicity": pub.id,
            "kind": kind.value,
            "report_sha256": report.sha256,
            "candidates": [
                {"rank": c["rank"], "opened_bid": c["opened_bid"], "price_fen": c["price_fen"]} for c in rows
            ],
            "ends_at": ends.isoformat(),
            "on_time": now <= due,
            "rule": "G87-69" if kind is rules.Kind.result else "R54",
        },
    )
    pub.audit_index = entry.index
    _tell(
        session,
        tender,
        N_("%(reference)s: the winning candidates are published until %(ends)s")
        if kind is rules.Kind.candidates
        else N_("%(reference)s: the result notice is published until %(ends)s"),
        {"reference": tender.reference, "ends": clock.to_cst(ends).strftime("%Y-%m-%d %H:%M")},
    )
    return pub


def reissue(session: Session, actor: Actor, tender: Tender, excluded: set[int]) -> Publicity:
    """R61: an upheld complaint dropped a candidate: the publicity again, from the same signed report, with
    the next candidates of its ranking, for a full period."""
    pub = publicity_of(session, tender.id)
    report = signed_report(session, tender.id)
    if pub is None or report is None:
        raise Conflict.one("publicity_not_found", N_("This tender has no publicity to issue again."))
    rows = candidates(session, report, excluded)
    if not rows:
        raise Conflict.one(
            "no_next_candidate",
            N_(
                "The signed report ranks no further candidate: order a re-evaluation or a re-tender instead "
                "(R61)."
            ),
            rule="R61",
        )
    now = clock.now()
    pub.candidates, pub.published_at = rows, now
    pub.ends_at = rules.publicity_ends(kind_of(tender), now)
    session.flush()
    entry = record(
        session,
        PublicityTag.publicity_reissued,
        actor=actor,
        subject=f"tender:{tender.id}",
        details={
            "publicity": pub.id,
            "dropped": sorted(excluded),
            "candidates": [
                {"rank": c["rank"], "opened_bid": c["opened_bid"], "price_fen": c["price_fen"]} for c in rows
            ],
            "ends_at": pub.ends_at.isoformat(),
            "rule": "R61",
        },
    )
    pub.audit_index = entry.index
    _tell(
        session,
        tender,
        N_("%(reference)s: the candidates are published again until %(ends)s"),
        {"reference": tender.reference, "ends": clock.to_cst(pub.ends_at).strftime("%Y-%m-%d %H:%M")},
    )
    return pub


# ---------------------------------------------------------------- what people read


@dataclass
class ObjectionRow:
    item: ResultObjection
    author: str  # the objecting company, only for those who may see it (Fact.result_objections)
    own: bool
    overdue: bool


@dataclass
class PublicityView:
    tender: Tender
    publicity: Publicity | None
    kind: rules.Kind
    publish_due: datetime | None
    open_objections: int
    next_answer_due: datetime | None  # the earliest deadline of an unanswered objection (public)
    objections: list[ObjectionRow] = field(default_factory=list)  # for who may see them
    may_object: bool = False  # the objection period is open
    is_party: bool = False  # the agency or the purchaser: answers objections
    is_agency: bool = False  # publishes
    award_may_follow: bool = False
    # the report is signed and nothing is published from it yet (a re-evaluation's publicity set aside
    # included): the agency's page offers to publish
    to_publish: bool = False
    now: datetime = field(default_factory=clock.now)


def view(session: Session, actor: Actor, tender_id: int) -> PublicityView:
    """The publicity as the reader may see it (Fact.publicity; the objections' authors, text and answers
    only with Fact.result_objections: the public learns how many and until when, never who objected)."""
    tender = access.visible_tender(session, actor, tender_id)
    is_agency = access.is_tender_agency(actor, tender)
    is_party = is_agency or access.is_tender_purchaser(actor, tender)
    pub = publicity_of(session, tender.id)
    report = signed_report(session, tender.id)
    kind = kind_of(tender)
    now = clock.now()
    published = pub is not None and disclosure.may_see(session, actor, tender, Fact.publicity)
    if not published and not (is_party or actor.has(*_SUPERVISORS)):
        raise NotFound.one("publicity_not_found", N_("The candidates of this tender are not published."))
    pending = session.scalars(
        select(ResultObjection)
        .where(ResultObjection.tender_id == tender.id)
        .order_by(ResultObjection.raised_at, ResultObjection.id)
    ).all()
    open_due = [o.answer_due for o in pending if o.answered_at is None]
    rows = []
    orgs = {o.organisation_id for o in pending}
    names = (
        dict(
            session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(orgs))).all()
        )
        if orgs
        else {}
    )
    for o in pending:
        if disclosure.may_see(session, actor, tender, Fact.result_objections, party_id=o.organisation_id):
            own = actor.organisation_id == o.organisation_id and not is_party
            late = rules.overdue(now, o.answer_due, o.answered_at)
            rows.append(ObjectionRow(o, names.get(o.organisation_id, ""), own, late))
    return PublicityView(
        tender=tender,
        publicity=pub if published or is_party or actor.has(*_SUPERVISORS) else None,
        kind=kind,
        publish_due=rules.publish_due(kind, report.completed_at)
        if report is not None and report.completed_at is not None
        else None,
        open_objections=len(open_due),
        next_answer_due=min(open_due) if open_due else None,
        objections=rows,
        may_object=pub is not None
        and tender.status in (Status.publicity, Status.suspended)
        and (tender.status != Status.suspended or tender.resume_to == Status.publicity)
        and rules.objection_open(now, pub.published_at, pub.ends_at),
        is_party=is_party,
        is_agency=is_agency,
        award_may_follow=award_may_follow(session, tender, now),
        to_publish=tender.status == Status.evaluated and report is not None,
        now=now,
    )
