"""Complaints (R60, R61): within 10 days of knowing the facts, an objection first on R22/R44/R54 matters, the
monitor's acceptance within 3 working days and decision within 30, every remedy carried out by the platform,
an overdue step alerting the monitors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from audit.log import AuditEntry
from award.publicity import complaints, deadlines, objections, publicity, rules
from award.publicity.complaints import ComplaintInput, Decision
from award.publicity.events import PublicityTag
from core import clock
from core.errors import Conflict, Forbidden, ValidationFailed


def _today():  # type: ignore[no-untyped-def]
    return clock.to_cst(clock.now()).date()


def _objected(w, db):  # type: ignore[no-untyped-def]
    """Published, the third bidder's objection raised and answered."""
    publicity.publish(db, w.agency, w.tender.id)
    obj = objections.raise_objection(db, w.third_bidder, w.tender.id, "第一名的业绩证明不实。")
    objections.answer_objection(db, w.agency, obj.id, "业绩证明真实。")
    return obj


def _accepted(w, db, obj):  # type: ignore[no-untyped-def]
    c = complaints.file_complaint(
        db, w.third_bidder, w.tender.id, ComplaintInput("result", "答复不能成立。", _today(), obj.id)
    )
    return complaints.decide_acceptance(db, w.monitor, c.id, True, "")


def test_on_the_result_an_objection_must_come_first(w, db):
    publicity.publish(db, w.agency, w.tender.id)
    with pytest.raises(Conflict) as c:
        complaints.file_complaint(db, w.third_bidder, w.tender.id, ComplaintInput("result", "x", _today()))
    assert c.value.problems[0].code == "objection_first" and c.value.problems[0].rule == "R54"
    obj = objections.raise_objection(db, w.third_bidder, w.tender.id, "异议")
    with pytest.raises(Conflict) as c:  # not answered yet, not overdue
        complaints.file_complaint(
            db, w.third_bidder, w.tender.id, ComplaintInput("result", "x", _today(), obj.id)
        )
    assert c.value.problems[0].code == "objection_unanswered"
    with pytest.raises(ValidationFailed) as v:  # another company's objection
        complaints.file_complaint(db, w.bidder, w.tender.id, ComplaintInput("result", "x", _today(), obj.id))
    assert v.value.problems[0].code == "objection_not_yours"
    # overdue: the complainant need not wait any longer
    move = obj.answer_due + timedelta(seconds=1)
    clock.shift(move - clock.now())
    made = complaints.file_complaint(
        db, w.third_bidder, w.tender.id, ComplaintInput("result", "未按期答复。", _today(), obj.id)
    )
    assert made.status == "received" and made.acceptance_due == rules.acceptance_due(made.received_at)
    entry = db.scalars(
        select(AuditEntry).where(AuditEntry.tag == PublicityTag.complaint_received.value)
    ).one()
    assert entry.actor != w.third_bidder.username and "未按期" not in str(entry.details)


def test_other_matters_need_no_objection_and_the_window_is_10_days(w, db):
    known = _today() - timedelta(days=10)
    made = complaints.file_complaint(
        db, w.bidder, w.tender.id, ComplaintInput("other", "评标室录像缺失。", known)
    )
    assert made.objection_id is None
    with pytest.raises(Conflict) as c:
        complaints.file_complaint(
            db, w.bidder, w.tender.id, ComplaintInput("other", "x", known - timedelta(days=1))
        )
    assert c.value.problems[0].code == "complaint_too_late" and c.value.problems[0].field == "known_on"
    for bad, code in (
        (ComplaintInput("", "x", known), "matter_missing"),
        (ComplaintInput("other", "x", None), "known_on_missing"),
        (ComplaintInput("other", "x", _today() + timedelta(days=1)), "known_on_future"),
        (ComplaintInput("other", " ", known), "text_missing"),
    ):
        with pytest.raises(ValidationFailed) as v:
            complaints.file_complaint(db, w.bidder, w.tender.id, bad)
        assert v.value.problems[0].code == code
    with pytest.raises(Forbidden):
        complaints.file_complaint(db, w.agency, w.tender.id, ComplaintInput("other", "x", known))


def test_acceptance_and_decision_deadlines_and_their_alerts(w, db):
    publicity.publish(db, w.agency, w.tender.id)  # its own deadline is not what this test is about
    made = complaints.file_complaint(db, w.bidder, w.tender.id, ComplaintInput("other", "x", _today()))
    with pytest.raises(Forbidden):
        complaints.decide_acceptance(db, w.agency, made.id, True, "")
    clock.shift(made.acceptance_due + timedelta(seconds=1) - clock.now())
    assert [o.kind for o in deadlines.overdue(db, clock.now())] == ["complaint_acceptance_overdue"]
    with pytest.raises(ValidationFailed):
        complaints.decide_acceptance(db, w.monitor, made.id, False, "")
    complaints.decide_acceptance(db, w.monitor, made.id, True, "")
    assert made.decision_due == rules.decision_due(made.accepted_at)
    assert deadlines.overdue(db, clock.now()) == []
    with pytest.raises(Conflict):
        complaints.decide_acceptance(db, w.monitor, made.id, True, "")
    clock.shift(made.decision_due + timedelta(seconds=1) - clock.now())
    assert [o.kind for o in deadlines.overdue(db, clock.now())] == ["complaint_decision_overdue"]
    with pytest.raises(ValidationFailed) as v:
        complaints.decide(db, w.monitor, made.id, Decision("upheld", "理由"))
    assert v.value.problems[0].code == "remedy_missing"
    complaints.decide(db, w.monitor, made.id, Decision("dismissed", "投诉缺乏事实依据。"))
    assert made.status == "decided" and made.outcome == "dismissed"
    assert deadlines.overdue(db, clock.now()) == []
    with pytest.raises(Conflict):
        complaints.decide(db, w.monitor, made.id, Decision("dismissed", "again"))


def test_a_rejected_complaint_says_why(w, db):
    made = complaints.file_complaint(db, w.bidder, w.tender.id, ComplaintInput("other", "x", _today()))
    complaints.decide_acceptance(db, w.monitor, made.id, False, "不属于投诉受理范围。")
    assert made.status == "rejected" and made.decision_due is None
    with pytest.raises(Conflict):
        complaints.decide(db, w.monitor, made.id, Decision("dismissed", "x"))


def test_upheld_with_a_new_candidate_reissues_the_publicity(w, db):
    obj = _objected(w, db)
    pub = publicity.publicity_of(db, w.tender.id)
    before = [c["opened_bid"] for c in pub.candidates]
    made = _accepted(w, db, obj)
    with pytest.raises(ValidationFailed):
        complaints.decide(db, w.monitor, made.id, Decision("upheld", "理由", "new_candidate", None))
    complaints.decide(
        db, w.monitor, made.id, Decision("upheld", "第一名业绩造假。", "new_candidate", before[0])
    )
    db.refresh(pub)
    after = [c["opened_bid"] for c in pub.candidates]
    assert before[0] not in after and after[0] == before[1] and after[0] is not None
    assert [c["rank"] for c in pub.candidates] == list(range(1, len(after) + 1))
    db.refresh(w.tender)
    assert w.tender.status == "publicity"
    tags = set(db.scalars(select(AuditEntry.tag)))
    assert {PublicityTag.publicity_reissued.value, PublicityTag.complaint_decided.value} <= tags


def test_upheld_with_re_evaluation_sends_the_tender_back_to_the_committee(w, db):
    made = _accepted(w, db, _objected(w, db))
    complaints.decide(db, w.monitor, made.id, Decision("upheld", "评分错误。", "re_evaluation"))
    db.refresh(w.tender)
    assert w.tender.status == "evaluating"


def test_upheld_with_a_re_tender_fails_the_tender_with_its_reason(w, db):
    made = _accepted(w, db, _objected(w, db))
    complaints.decide(db, w.monitor, made.id, Decision("upheld", "招标文件违法。", "re_tender"))
    db.refresh(w.tender)
    assert w.tender.status == "failed" and w.tender.end_reason_key == complaints.RE_TENDER_REASON


def test_upheld_with_a_cancellation_cancels_with_the_monitors_reasons(w, db):
    publicity.publish(db, w.agency, w.tender.id)
    made = complaints.file_complaint(db, w.bidder, w.tender.id, ComplaintInput("other", "x", _today()))
    complaints.decide_acceptance(db, w.monitor, made.id, True, "")
    from tender import supervision

    supervision.suspend(db, w.monitor, w.tender.id, "调查投诉")
    complaints.decide(db, w.monitor, made.id, Decision("upheld", "项目违法，终止招标。", "cancellation"))
    db.refresh(w.tender)
    assert w.tender.status == "cancelled" and w.tender.cancel_reason == "项目违法，终止招标。"
    assert not w.tender.monitor_suspended
