"""The publicity (R54) from the signed report: published by the agency only, from `evaluated` only, with the
report's candidates and what their bids hold; bidders, the parties and the monitors told; the government
procurement result notice instead for such tenders; objections suspend the procedure until answered."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from accounts.models import Notification
from audit.log import AuditEntry
from award.publicity import objections, publicity, rules
from award.publicity.events import PublicityTag
from core import clock
from core.errors import Conflict, Forbidden, ValidationFailed
from tender.models import Bid, OpenedBid
from tests.factories.publicity import signed_world
from tests.factories.tenders import move_to


def test_the_agency_publishes_the_reports_candidates(w, db):
    with pytest.raises(Forbidden):
        publicity.publish(db, w.purchaser, w.tender.id)
    with pytest.raises(Forbidden):
        publicity.publish(db, w.other_agency, w.tender.id)
    assert publicity.view(db, w.agency, w.tender.id).to_publish
    pub = publicity.publish(db, w.agency, w.tender.id)
    db.refresh(w.tender)
    assert w.tender.status == "publicity" and not publicity.view(db, w.agency, w.tender.id).to_publish
    doc = json.loads(w.report.document)
    assert [c["opened_bid"] for c in pub.candidates] == doc["candidates"]
    first = pub.candidates[0]
    ob = db.get(OpenedBid, first["opened_bid"])
    bid = db.get(Bid, ob.bid_id)
    assert first["price_fen"] == ob.price_form["total_price_fen"]
    assert first["duration_days"] == ob.price_form["duration_days"]
    assert first["bid_id"] == bid.id and first["organisation_id"] == bid.organisation_id
    assert first["qualifications"] and first["project_manager"] == ""
    assert pub.ends_at == rules.publicity_ends(rules.Kind.candidates, pub.published_at)
    entry = db.scalars(
        select(AuditEntry).where(AuditEntry.tag == PublicityTag.publicity_published.value)
    ).one()
    assert entry.details["on_time"] is True and entry.details["rule"] == "R54"
    assert entry.index == pub.audit_index
    told = set(db.scalars(select(Notification.user_id).where(Notification.kind == "award.publicity")))
    for u in (
        w.bidder_user,
        w.other_bidder_user,
        w.third_bidder_user,
        w.agency_user,
        w.purchaser_user,
        w.monitor_user,
    ):
        assert u.id in told
    with pytest.raises(Conflict) as c:
        publicity.publish(db, w.agency, w.tender.id)
    assert c.value.problems[0].code == "publicity_not_ready"


def test_a_late_publicity_is_published_and_said_to_be_late(w, db):
    move_to(rules.publish_due(rules.Kind.candidates, w.report.completed_at) + timedelta(seconds=1))
    from award.publicity import deadlines

    assert [o.kind for o in deadlines.overdue(db, clock.now())] == ["publicity_overdue"]
    publicity.publish(db, w.agency, w.tender.id)
    entry = db.scalars(
        select(AuditEntry).where(AuditEntry.tag == PublicityTag.publicity_published.value)
    ).one()
    assert entry.details["on_time"] is False
    assert deadlines.overdue(db, clock.now()) == []


def test_government_procurement_publishes_the_result_notice(db, make, blobs, tmp_path):
    g = signed_world(db, make, blobs, tmp_path, government=True)
    pub = publicity.publish(db, g.agency, g.tender.id)
    assert publicity.kind_of(g.tender) is rules.Kind.result
    assert pub.ends_at == rules.publicity_ends(rules.Kind.result, pub.published_at)
    entry = db.scalars(
        select(AuditEntry).where(AuditEntry.tag == PublicityTag.publicity_published.value)
    ).one()
    assert entry.details["kind"] == "result" and entry.details["rule"] == "G87-69"


def test_an_objection_suspends_the_procedure_until_answered(w, db):
    publicity.publish(db, w.agency, w.tender.id)
    with pytest.raises(ValidationFailed):
        objections.raise_objection(db, w.third_bidder, w.tender.id, "  ")
    with pytest.raises(Forbidden):
        objections.raise_objection(db, w.agency, w.tender.id, "x")
    obj = objections.raise_objection(db, w.third_bidder, w.tender.id, "第一名的业绩证明不实。")
    db.refresh(w.tender)
    assert (w.tender.status, w.tender.resume_to) == ("suspended", "publicity")
    assert obj.answer_due == rules.objection_answer_due(obj.raised_at)
    assert not publicity.award_may_follow(db, w.tender, clock.now() + timedelta(days=30))
    entry = db.scalars(select(AuditEntry).where(AuditEntry.tag == PublicityTag.objection_raised.value)).one()
    assert entry.actor != w.third_bidder.username and "第一名" not in json.dumps(entry.details)  # concealed
    # a second objection while suspended: still within the period
    second = objections.raise_objection(db, w.other_bidder, w.tender.id, "评分有误。")
    with pytest.raises(Forbidden):
        objections.answer_objection(db, w.third_bidder, obj.id, "答复")
    with pytest.raises(ValidationFailed):
        objections.answer_objection(db, w.agency, obj.id, "")
    objections.answer_objection(db, w.agency, obj.id, "经核查，业绩证明真实有效。")
    db.refresh(w.tender)
    assert w.tender.status == "suspended"  # one still open
    with pytest.raises(Conflict):
        objections.answer_objection(db, w.agency, obj.id, "again")
    objections.answer_objection(db, w.purchaser, second.id, "评分无误。")
    db.refresh(w.tender)
    assert w.tender.status == "publicity"
    pub = publicity.publicity_of(db, w.tender.id)
    move_to(pub.ends_at + timedelta(seconds=1))
    assert publicity.award_may_follow(db, w.tender)
    with pytest.raises(Conflict) as c:
        objections.raise_objection(db, w.third_bidder, w.tender.id, "too late")
    assert c.value.problems[0].code == "objection_period_over"


def test_an_unanswered_objection_is_overdue_for_the_monitors(w, db):
    from award.publicity import deadlines
    from supervision import alerts

    publicity.publish(db, w.agency, w.tender.id)
    obj = objections.raise_objection(db, w.third_bidder, w.tender.id, "异议")
    move_to(obj.answer_due - timedelta(seconds=1))  # the clock moves on while the test runs
    assert deadlines.overdue(db, clock.now()) == []
    move_to(obj.answer_due + timedelta(seconds=1))
    found = [a for a in alerts.alerts(db, w.monitor) if a.kind == "objection_overdue"]
    assert len(found) == 1 and found[0].subject == f"tender:{w.tender.id}"
    assert found[0].params["reference"] == w.tender.reference
    with pytest.raises(Forbidden):
        alerts.alerts(db, w.agency)


def test_the_public_view_never_names_who_objected(w, db):
    publicity.publish(db, w.agency, w.tender.id)
    objections.raise_objection(db, w.third_bidder, w.tender.id, "异议内容")
    public = publicity.view(db, w.anon, w.tender.id)
    assert public.open_objections == 1 and public.next_answer_due is not None and public.objections == []
    other = publicity.view(db, w.bidder, w.tender.id)
    assert other.objections == []
    own = publicity.view(db, w.third_bidder, w.tender.id)
    assert [r.own for r in own.objections] == [True]
    for reader in (w.agency, w.purchaser, w.monitor):
        rows = publicity.view(db, reader, w.tender.id).objections
        assert [r.author for r in rows] == ["Bidder Three Ltd"]
