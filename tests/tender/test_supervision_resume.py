"""A monitor's resume with a new bid deadline (E52) is checked like a publication: 20 days from the issue of
documents (L24), 15 days after a change that can affect bids (R21), the sale period ending by the deadline
(R16) and the objection deadline following it (R22); the notice states the resume as the cause.

The factory's tender is published now with documents issued for 10 days and the deadline 25 days ahead;
`day(w, n)` is the moment n days after the factory ran (it published the tender then)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from accounts.models import Notification
from audit.log import AuditEntry
from core import clock
from core.errors import ValidationFailed
from tender import clarifications, notices, participation, rules, supervision
from tests.factories.tenders import move_to, published_tender


def day(w, n: int) -> datetime:  # type: ignore[no-untyped-def]
    return w.deadline - timedelta(days=25 - n)  # the factory's dates are counted from the moment it ran


def date_of(moment: datetime) -> str:
    return clock.to_cst(moment).date().isoformat()


def resumed_entry(db, w) -> AuditEntry:  # type: ignore[no-untyped-def]
    entry = db.scalars(
        select(AuditEntry)
        .where(AuditEntry.subject == f"tender:{w.tender.id}", AuditEntry.tag == "tender.resumed")
        .order_by(AuditEntry.index.desc())
    ).first()
    assert entry is not None
    return entry


def notice(db, w) -> notices.NoticeDetail:  # type: ignore[no-untyped-def]
    """The notice as a new request reads it (the tender's clarifications loaded afresh)."""
    db.flush()
    db.expire(w.tender)
    return notices.notice_detail(db, w.anon, w.tender.id)


def refused(db, w, new_deadline: datetime) -> list:  # type: ignore[no-untyped-def,type-arg]
    with pytest.raises(ValidationFailed) as e:
        supervision.resume(db, w.monitor, w.tender.id, "Instruction lifted", new_deadline=new_deadline)
    return e.value.problems


def test_a_deadline_too_early_for_l24_is_refused_with_the_earliest_date(db, make, blobs):
    # the probe: a deadline before the document sale ends and 8 days after publication
    w = published_tender(db, make, blobs)
    deadline_before = w.tender.bid_deadline
    supervision.suspend(db, w.monitor, w.tender.id, "Complaint under investigation")
    move_to(day(w, 2))
    problems = refused(db, w, day(w, 8))
    # L24 needs day 20; bringing the deadline forward needs 15 days from today (R21), day 17: both say day 20
    assert [(p.code, p.rule, p.field) for p in problems] == [
        ("deadline_too_soon", "L24", "new_deadline"),
        ("deadline_brought_forward", "R21", "new_deadline"),
    ]
    assert {p.params["earliest"] for p in problems} == {date_of(day(w, 20))}
    # nothing moved: still suspended, the same deadline, the same sale period
    assert w.tender.status == "suspended" and w.tender.monitor_suspended is True
    assert w.tender.bid_deadline == deadline_before and w.tender.doc_issue_end == day(w, 10)
    # the first allowed day is accepted
    supervision.resume(db, w.monitor, w.tender.id, "Instruction lifted", new_deadline=day(w, 20))
    assert w.tender.status == "published" and w.tender.bid_deadline == day(w, 20)


def test_bringing_the_deadline_forward_leaves_15_days_after_the_resumption(db, make, blobs):
    w = published_tender(db, make, blobs)
    supervision.suspend(db, w.monitor, w.tender.id, "Instruction")
    move_to(day(w, 10))
    problems = refused(db, w, day(w, 21))  # L24 holds (21 days), but only 11 remain after today
    assert [(p.code, p.rule) for p in problems] == [("deadline_brought_forward", "R21")]
    assert problems[0].params == {"earliest": date_of(day(w, 25))}
    # moving it later needs no 15 days from now: bids were being prepared for the later date already
    supervision.resume(db, w.monitor, w.tender.id, "Lifted", new_deadline=day(w, 24) + timedelta(days=3))
    assert w.tender.bid_deadline == day(w, 27)


def test_every_refusal_names_the_one_date_that_satisfies_them_all(db, make, blobs):
    w = published_tender(db, make, blobs)
    move_to(day(w, 12))
    clarifications.clarify(
        db,
        w.agency,
        blobs,
        w.tender.id,
        "Amendment 1",
        "The desks are 1.2 m wide.",
        True,
        [],
        max_bytes=1 << 20,
    )
    assert w.tender.bid_deadline == day(w, 27)  # R21 extended it so that 15 days remain
    supervision.suspend(db, w.monitor, w.tender.id, "Instruction")
    move_to(day(w, 14))
    problems = refused(db, w, day(w, 22))
    by_code = {p.code: p for p in problems}
    assert set(by_code) == {"deadline_too_soon_after_change", "deadline_brought_forward"}
    assert by_code["deadline_too_soon_after_change"].params["issued"] == date_of(day(w, 12))
    # 15 days after the clarification is day 27, 15 days after the resumption day 29: both say day 29
    assert {p.params["earliest"] for p in problems} == {date_of(day(w, 29))}
    assert all(p.field == "new_deadline" for p in problems)


def test_a_clarification_that_cannot_affect_bids_sets_no_15_days(db, make, blobs):
    w = published_tender(db, make, blobs)
    move_to(day(w, 12))
    clarifications.clarify(
        db, w.agency, blobs, w.tender.id, "Typo", "The phone is 0571-1.", False, [], max_bytes=1 << 20
    )
    supervision.suspend(db, w.monitor, w.tender.id, "Instruction")
    move_to(day(w, 30))  # the deadline passed during the suspension
    supervision.resume(db, w.monitor, w.tender.id, "Lifted", new_deadline=day(w, 31))
    assert w.tender.bid_deadline == day(w, 31)


def test_a_valid_resume_recomputes_the_sale_period_and_the_objection_deadline(db, make, blobs):
    # documents on sale up to the deadline: a new, earlier deadline ends the sale with it
    w = published_tender(db, make, blobs)
    w.tender.doc_issue_end = w.tender.bid_deadline
    old_deadline = w.tender.bid_deadline
    old_objections = rules.objection_deadline(old_deadline)
    question_deadline = w.tender.question_deadline
    supervision.suspend(db, w.monitor, w.tender.id, "Instruction")
    move_to(day(w, 2))
    new = day(w, 22)
    supervision.resume(db, w.monitor, w.tender.id, "Lifted", new_deadline=new)
    assert (w.tender.bid_deadline, w.tender.doc_issue_end) == (new, new)
    assert w.tender.question_deadline == question_deadline  # day 10, before the new deadline
    shown = notice(db, w).objection_deadline
    assert shown == rules.objection_deadline(new) < old_objections
    assert shown > w.tender.published_at
    assert clock.to_cst(shown).date() == clock.to_cst(new).date() - timedelta(days=10)
    assert resumed_entry(db, w).details == {
        "reason": "Lifted",
        "rule": "E52",
        "from": old_deadline.isoformat(),
        "to": new.isoformat(),
        "objection_deadline": rules.objection_deadline(new).isoformat(),
        "doc_issue_end": new.isoformat(),
    }


def test_the_deadline_in_force_given_again_changes_nothing(db, make, blobs):
    w = published_tender(db, make, blobs)
    supervision.suspend(db, w.monitor, w.tender.id, "Instruction")
    supervision.resume(db, w.monitor, w.tender.id, "Lifted", new_deadline=clock.to_cst(w.deadline))
    assert resumed_entry(db, w).details == {"reason": "Lifted", "rule": "E52"}
    assert not notice(db, w).deadline_set_on_resume


def test_the_notice_names_the_resume_as_the_cause_of_the_new_deadline(db, make, blobs):
    w = published_tender(db, make, blobs)
    move_to(day(w, 12))
    clarifications.clarify(
        db, w.agency, blobs, w.tender.id, "Amendment 1", "Wider desks.", True, [], max_bytes=1 << 20
    )
    detail = notice(db, w)
    assert detail.deadline_extended and not detail.deadline_set_on_resume  # R21 moved it
    supervision.suspend(db, w.monitor, w.tender.id, "Instruction")
    move_to(day(w, 28))
    supervision.resume(db, w.monitor, w.tender.id, "Lifted", new_deadline=day(w, 35))
    detail = notice(db, w)
    assert detail.deadline_extended and detail.deadline_set_on_resume
    # a later clarification that moves the deadline is again the cause
    move_to(day(w, 25 + 5))
    clarifications.clarify(
        db, w.agency, blobs, w.tender.id, "Amendment 2", "Other chairs.", True, [], max_bytes=1 << 20
    )
    detail = notice(db, w)
    assert w.tender.bid_deadline == day(w, 45) and not detail.deadline_set_on_resume


def test_the_resume_tells_the_agency_and_the_bidders(db, make, blobs):
    w = published_tender(db, make, blobs)
    participation.download_document(db, w.bidder, w.doc.id)
    supervision.suspend(db, w.monitor, w.tender.id, "Instruction")
    supervision.resume(db, w.monitor, w.tender.id, "Complaint unfounded")
    db.flush()
    rows = db.execute(
        select(Notification.user_id, Notification.body).where(Notification.kind == "tender.resumed")
    ).all()
    assert {uid for uid, _ in rows} >= {w.bidder_user.id, w.agency_user.id}
    assert {body for _, body in rows} == {"Complaint unfounded"}
