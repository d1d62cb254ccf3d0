"""The award's services on the database: the gate after the publicity, R55's order on state-funded projects,
the notices issued with the award, a declined award passing to the next candidate, the contract and the
securities' deadlines, an impossible award failing the tender."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from audit.log import AuditEntry
from award.decision import contracts, notice_format, rules, securities, services
from award.decision.models import AwardNotice, BidSecurity, NoticeKind
from award.models import AwardStatus
from core import clock
from core.errors import Conflict, Forbidden, ValidationFailed
from storage.base import read_all
from tender.lifecycle import Status
from tests.factories.award import past
from tests.factories.tenders import move_to


def _codes(e: pytest.ExceptionInfo) -> list[str]:  # type: ignore[type-arg]
    return [p.code for p in e.value.problems]


def test_the_award_waits_for_the_end_of_the_publicity(a, db):
    with pytest.raises(Conflict) as e:
        services.confirm(db, a.purchaser, a.tender.id, 1, a.signer)
    assert _codes(e) == ["award_publicity_running"]
    past(a)
    award = services.confirm(db, a.purchaser, a.tender.id, 1, a.signer)
    assert award.status == AwardStatus.active and a.tender.status == Status.awarded
    assert award.estimate == a.lot1.estimated_price and award.savings == award.estimate - award.amount


def test_only_the_purchaser_awards(a, db):
    past(a)
    for actor in (a.agency, a.bidder, a.monitor):
        with pytest.raises(Forbidden):
            services.confirm(db, actor, a.tender.id, 1, a.signer)


def test_a_suspended_tender_holds_the_award(a, db):
    past(a)
    a.tender.status, a.tender.resume_to = Status.suspended, Status.publicity  # an objection awaits its answer
    with pytest.raises(Conflict) as e:
        services.confirm(db, a.purchaser, a.tender.id, 1, a.signer)
    assert _codes(e) == ["award_suspended"]


def test_a_state_funded_project_awards_to_no_1_then_the_next_on_a_ground(a, db):
    past(a)
    with pytest.raises(ValidationFailed) as e:
        services.confirm(db, a.purchaser, a.tender.id, 2, a.signer)
    assert _codes(e) == ["award_not_first"] and e.value.problems[0].rule == "R55"
    first = services.confirm(db, a.purchaser, a.tender.id, 1, a.signer)
    with pytest.raises(Conflict):
        services.confirm(db, a.purchaser, a.tender.id, 2, a.signer)
    with pytest.raises(ValidationFailed) as e:
        services.decline(db, a.purchaser, a.tender.id, "declined", "")
    assert _codes(e) == ["award_note_needed"]
    services.decline(db, a.purchaser, a.tender.id, "no_performance_bond", "未在规定时间内提交履约保证金")
    assert first.status == AwardStatus.declined and first.end_reason_params == {"rank": 1}
    assert first.end_reason_key == services.GROUND_REASONS["no_performance_bond"]
    with pytest.raises(ValidationFailed) as e:
        services.confirm(db, a.purchaser, a.tender.id, 1, a.signer)
    assert _codes(e) == ["award_candidate_passed"]
    with pytest.raises(Conflict) as e:  # R55: candidate no. 2 is left
        services.declare_impossible(db, a.purchaser, a.tender.id, "无法定标")
    assert _codes(e) == ["award_candidates_left"]
    second = services.confirm(db, a.purchaser, a.tender.id, 2, a.signer)
    assert second.rank == 2 and second.status == AwardStatus.active and a.tender.status == Status.awarded
    tags = db.scalars(select(AuditEntry.tag).where(AuditEntry.subject == f"tender:{a.tender.id}")).all()
    assert tags.count("award.decision.confirmed") == 2 and "award.decision.declined" in tags


def test_a_project_not_state_funded_may_choose_another_candidate(db, make, blobs, tmp_path):
    from tests.factories.award import award_world

    w = award_world(db, make, blobs, tmp_path, state_funded=False)
    past(w)
    assert services.confirm(db, w.purchaser, w.tender.id, 2, w.signer).rank == 2


def test_the_notices_go_to_the_winner_and_every_other_bidder_signed(a, db):
    past(a)
    award = services.confirm(db, a.purchaser, a.tender.id, 1, a.signer)
    notices = db.scalars(select(AwardNotice).where(AwardNotice.award_id == award.id)).all()
    kinds = {n.organisation_id: n.kind for n in notices}
    assert kinds[award.organisation_id] == NoticeKind.award
    assert len(notices) == 3 and list(kinds.values()).count(NoticeKind.result) == 2  # the rejected one too
    for n in notices:
        data = read_all(a.blobs, n.blob_key)
        body = notice_format.verify(data, [a.key.verifier])
        assert body["recipient"]["id"] == n.organisation_id and body["winner"]["amount_fen"] == award.amount
        assert data.startswith(b"%PDF-")
    assert {n.issued_at for n in notices} == {notices[0].issued_at}  # L45: at the same time
    from accounts.models import Notification

    kinds_sent = set(db.scalars(select(Notification.kind)))
    assert {"award.notice.award", "award.notice.result", "award.confirmed"} <= kinds_sent


def _contract(a, award, **changes):  # type: ignore[no-untyped-def]
    key = a.blobs.put([b"%PDF-1.7 signed contract"]).key
    data = dict(
        amount=award.amount,
        signed_on=clock.to_cst(clock.now()).date(),
        starts_on=None,
        ends_on=None,
        performance_bond=award.amount // 10,
        filename="contract.pdf",
        blob_key=key,
    )
    data.update(changes)
    return contracts.ContractInput(**data)


def test_the_contract_refuses_a_bond_over_10_percent_and_another_price(a, db):
    past(a)
    award = services.confirm(db, a.purchaser, a.tender.id, 1, a.signer)
    with pytest.raises(ValidationFailed) as e:
        contracts.record_contract(
            db, a.agency, a.blobs, a.tender.id, _contract(a, award, performance_bond=award.amount // 10 + 1)
        )
    assert _codes(e) == ["contract_bond_over"] and e.value.problems[0].field == "performance_bond"
    with pytest.raises(ValidationFailed) as e:
        contracts.record_contract(
            db, a.agency, a.blobs, a.tender.id, _contract(a, award, amount=award.amount - 1)
        )
    assert "contract_amount_differs" in _codes(e)
    with pytest.raises(Forbidden):
        contracts.record_contract(db, a.bidder, a.blobs, a.tender.id, _contract(a, award))
    c = contracts.record_contract(db, a.agency, a.blobs, a.tender.id, _contract(a, award))
    assert c.published_at is not None  # a government-procurement tender: published with the record (GR50)
    secs = db.scalars(select(BidSecurity).where(BidSecurity.tender_id == a.tender.id)).all()
    assert len(secs) == 3
    assert all(s.refund_due == rules.refund_due(contract_signed_on=c.signed_on) for s in secs)  # R57
    with pytest.raises(Conflict):
        contracts.record_contract(db, a.agency, a.blobs, a.tender.id, _contract(a, award))


def test_securities_are_refunded_or_forfeited_by_the_agency_and_overdue_ones_show(a, db):
    from award.decision import overdue

    past(a)
    award = services.confirm(db, a.purchaser, a.tender.id, 1, a.signer)
    contracts.record_contract(db, a.agency, a.blobs, a.tender.id, _contract(a, award))
    secs = db.scalars(
        select(BidSecurity).where(BidSecurity.tender_id == a.tender.id).order_by(BidSecurity.id)
    ).all()
    with pytest.raises(Forbidden):
        securities.refund(db, a.purchaser, a.tender.id, secs[0].id, "X")
    with pytest.raises(ValidationFailed):
        securities.refund(db, a.agency, a.tender.id, secs[0].id, " ")
    securities.refund(db, a.agency, a.tender.id, secs[0].id, "BANK-001")
    with pytest.raises(Conflict):
        securities.refund(db, a.agency, a.tender.id, secs[0].id, "BANK-001")
    with pytest.raises(ValidationFailed):
        securities.forfeit(db, a.agency, a.tender.id, secs[1].id, "nonsense", "x")
    securities.forfeit(db, a.agency, a.tender.id, secs[1].id, "revoked_bid", "解密失败系投标人原因")
    assert not [o for o in overdue.overdue(db) if o.kind == "refund_overdue"]
    move_to(secs[2].refund_due + timedelta(seconds=1))
    found = [o for o in overdue.overdue(db) if o.kind == "refund_overdue"]
    assert len(found) == 1 and found[0].params["count"] == 1 and found[0].tender_id == a.tender.id


def test_a_contract_not_recorded_in_30_days_shows_to_monitors(a, db):
    from award.decision import overdue

    past(a)
    award = services.confirm(db, a.purchaser, a.tender.id, 1, a.signer)
    notice = contracts.award_notice_of(db, award.id)
    end = rules.contract_deadline(notice.issued_at)
    move_to(rules.days_deadline(notice.issued_at, rules.CONTRACT_DAYS) - timedelta(seconds=1))
    assert not [o for o in overdue.overdue(db) if o.kind == "contract_overdue"]
    move_to(rules.days_deadline(notice.issued_at, rules.CONTRACT_DAYS))
    found = [o for o in overdue.overdue(db) if o.kind == "contract_overdue"]
    assert (
        len(found) == 1 and found[0].params["due"] == end.isoformat() and found[0].index == award.audit_index
    )


def test_no_candidate_left_fails_the_tender_and_the_agency_retenders_it(a, db):
    from award.decision import retender

    past(a)
    services.confirm(db, a.purchaser, a.tender.id, 1, a.signer)
    services.decline(db, a.purchaser, a.tender.id, "declined", "放弃中标")
    services.confirm(db, a.purchaser, a.tender.id, 2, a.signer)
    services.decline(db, a.purchaser, a.tender.id, "cannot_perform", "无法履约")
    with pytest.raises(Forbidden):
        services.declare_impossible(db, a.agency, a.tender.id, "x")
    with pytest.raises(Conflict):
        retender.retender(db, a.agency, a.tender.id, "award_impossible")  # not failed yet
    services.declare_impossible(db, a.purchaser, a.tender.id, "两名候选人均放弃")
    # an awarded tender stays awarded (final), its record saying no candidate could be awarded
    assert a.tender.status == Status.awarded and a.tender.end_reason_key == services.IMPOSSIBLE_REASON
    assert services.active_award(db, a.tender.id) is None
    with pytest.raises(Conflict):
        services.confirm(db, a.purchaser, a.tender.id, 2, a.signer)
    with pytest.raises(Conflict):
        services.declare_impossible(db, a.purchaser, a.tender.id, "again")
    with pytest.raises(Forbidden):
        retender.retender(db, a.purchaser, a.tender.id, "award_impossible")
    with pytest.raises(ValidationFailed):
        retender.retender(db, a.agency, a.tender.id, "whatever")
    new = retender.retender(db, a.agency, a.tender.id, "award_impossible")
    assert new.status == Status.draft and new.retender_of_id == a.tender.id and new.bid_deadline is None
    assert new.retender_reason_key == retender.REASONS["award_impossible"]
    assert [lot.name for lot in new.lots] == [lot.name for lot in a.tender.lots]
    assert len(new.documents) == len([d for d in a.tender.documents if d.clarification_id is None])
    assert services.links(db, a.tender) == (None, new) and services.links(db, new) == (a.tender, None)
    with pytest.raises(Conflict):
        retender.retender(db, a.agency, a.tender.id, "award_impossible")
    secs = db.scalars(select(BidSecurity).where(BidSecurity.tender_id == a.tender.id)).all()
    assert secs and all(s.refund_due is not None for s in secs)


def test_a_bid_withdrawn_before_the_deadline_is_refunded_5_days_after_its_withdrawal(a, db):
    from tender.models import Bid, BidStatus

    withdrawn_at = a.deadline - timedelta(days=2)
    user = a.make.user(a.registered_only_org, "bidder")
    bid = Bid(
        tender_id=a.tender.id,
        lot_id=a.lot1.id,
        organisation_id=a.registered_only_org.id,
        user_id=user.id,
        status=BidStatus.withdrawn,
        ended_at=withdrawn_at,
    )
    db.add(bid)
    db.flush()
    past(a)
    services.confirm(db, a.purchaser, a.tender.id, 1, a.signer)
    sec = db.scalars(select(BidSecurity).where(BidSecurity.bid_id == bid.id)).one()
    assert sec.refund_due == rules.refund_due(withdrawn_at=withdrawn_at)  # R35
    others = db.scalars(select(BidSecurity).where(BidSecurity.bid_id != bid.id)).all()
    assert len(others) == 3 and all(s.refund_due is None for s in others)  # R57: from the contract on


def test_a_late_contract_and_a_late_publication_are_recorded_and_shown(a, db):
    from award.decision import overdue

    past(a)
    award = services.confirm(db, a.purchaser, a.tender.id, 1, a.signer)
    notice = contracts.award_notice_of(db, award.id)
    signed = rules.contract_deadline(notice.issued_at) + timedelta(days=1)
    move_to(rules.publication_due(signed) + timedelta(hours=1))
    c = contracts.record_contract(db, a.agency, a.blobs, a.tender.id, _contract(a, award, signed_on=signed))
    assert c.published_at is not None
    kinds = {o.kind for o in overdue.overdue(db)}
    assert {"contract_late", "contract_published_late"} <= kinds and "contract_overdue" not in kinds
    entry = db.scalars(select(AuditEntry).where(AuditEntry.tag == "award.contract.recorded")).one()
    assert entry.details["late"] is True and entry.details["publication_late"] is True


def test_no_candidate_awardable_right_after_the_publicity_fails_the_tender(db, make, blobs, tmp_path):
    from tests.factories.award import award_world

    w = award_world(db, make, blobs, tmp_path, state_funded=False)
    with pytest.raises(Conflict):
        services.declare_impossible(db, w.purchaser, w.tender.id, "x")  # the publicity runs
    past(w)
    services.declare_impossible(db, w.purchaser, w.tender.id, "招标人决定不予定标")
    assert w.tender.status == Status.failed
