"""Every results deadline that has passed with nothing done, for the monitors' alerts (supervision.alerts):
a publicity not published within its time (R54, G87-69), an objection unanswered after 3 days (R54), a
complaint's acceptance after 3 working days or its decision after 30 (R61). Read-only: the rows themselves
carry their deadlines, which the pages show to the people they bind."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from award.publicity import rules
from award.publicity.models import Complaint, ResultObjection
from award.publicity.publicity import kind_of, signed_report
from tender.lifecycle import Status
from tender.models import Tender


@dataclass(frozen=True)
class Overdue:
    # publicity_overdue | objection_overdue | complaint_acceptance_overdue | complaint_decision_overdue
    kind: str
    tender_id: int
    reference: str
    due: datetime
    audit_index: int  # the entry that started the clock
    item: int  # the tender, objection or complaint id


def overdue(session: Session, now: datetime) -> list[Overdue]:
    out: list[Overdue] = []
    for tender in session.scalars(
        select(Tender).where(
            (Tender.status == Status.evaluated)
            | ((Tender.status == Status.suspended) & (Tender.resume_to == Status.evaluated))
        )
    ):
        report = signed_report(session, tender.id)
        if report is None or report.completed_at is None:
            continue
        due = rules.publish_due(kind_of(tender), report.completed_at)
        if now > due:
            out.append(
                Overdue("publicity_overdue", tender.id, tender.reference, due, report.audit_index, tender.id)
            )
    refs = dict(session.execute(select(Tender.id, Tender.reference)).all())
    for o in session.scalars(
        select(ResultObjection).where(ResultObjection.answered_at.is_(None), ResultObjection.answer_due < now)
    ):
        out.append(
            Overdue(
                "objection_overdue", o.tender_id, refs.get(o.tender_id, ""), o.answer_due, o.audit_index, o.id
            )
        )
    for c in session.scalars(
        select(Complaint).where(
            Complaint.status.in_([rules.ComplaintStatus.received, rules.ComplaintStatus.accepted])
        )
    ):
        if c.status == rules.ComplaintStatus.received and rules.overdue(now, c.acceptance_due, c.accepted_at):
            kind, due = "complaint_acceptance_overdue", c.acceptance_due
        elif c.decision_due is not None and rules.overdue(now, c.decision_due, c.decided_at):
            kind, due = "complaint_decision_overdue", c.decision_due
        else:
            continue
        out.append(Overdue(kind, c.tender_id, refs.get(c.tender_id, ""), due, c.audit_index, c.id))
    return out
