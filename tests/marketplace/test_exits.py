"""Exit rules as data (marketplace/exit_rules.json, marketplace.exits): each rule at its threshold (the third
verified quality complaint within 365 days exits, one on day 366 does not), the sweep recording each exit
with its facts, notifying it and never twice, appeals and credit repair, and the periodic task."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from accounts.models import Notification
from audit.log import AuditEntry
from core import clock, tasks
from core.errors import Conflict, ValidationFailed
from core.settings import load_settings
from marketplace import aftercare, complaints, credit, exits, purchases
from marketplace.models import EntryStatus, Exit
from tests.factories.marketplace import purchase_input
from tests.factories.marketplace_credit import ONE, actor_of, credit_world, served

RULES = exits.load_rules()
D = date(2026, 1, 10)


@pytest.fixture
def w(db, make):  # type: ignore[no-untyped-def]
    return credit_world(db, make)


def codes(triggers):  # type: ignore[no-untyped-def]
    return [t.rule_code for t in triggers]


def test_every_rule_has_its_source_and_the_table_names_the_issue_s_rules():
    assert {r["code"] for r in RULES} == {
        "entry_fraud",
        "poor_service",
        "misconduct",
        "leaked_secrets",
        "sanction",
        "quality_complaints",
        "refused_management",
        "one_star",
    }
    assert all(r["source"] and r["rule"] in ("§5.4", "§5.5") for r in RULES)


def test_the_third_complaint_within_365_days_exits_and_on_day_366_it_does_not():
    on_day = lambda n: D + timedelta(days=n - 1)  # noqa: E731  (day 1 is the first complaint's day)
    inside = exits.Facts(complaints=[(1, on_day(1)), (2, on_day(200)), (3, on_day(365))])
    outside = exits.Facts(complaints=[(1, on_day(1)), (2, on_day(200)), (3, on_day(366))])
    two = exits.Facts(complaints=[(1, on_day(1)), (2, on_day(2))])
    (trigger,) = exits.evaluate(RULES, inside, on_day(365))
    assert trigger.rule_code == "quality_complaints" and trigger.key == "complaints:1,2,3"
    assert trigger.facts["filed_on"] == [
        on_day(1).isoformat(),
        on_day(200).isoformat(),
        on_day(365).isoformat(),
    ]
    assert exits.evaluate(RULES, outside, on_day(366)) == []
    assert exits.evaluate(RULES, two, on_day(2)) == []
    # a fourth that closes a later window of 365 days exits
    later = exits.Facts(complaints=[*outside.complaints, (4, on_day(367))])
    assert [t.key for t in exits.evaluate(RULES, later, on_day(367))] == ["complaints:2,3,4"]


def test_findings_sanctions_and_a_one_star_rating_each_exit():
    facts = exits.Facts(
        findings=[(i, kind, D) for i, kind in enumerate(exits.FINDINGS, start=1)],
        sanctions=[(7, "县市场监管局", D), (8, "县市场监管局", D - timedelta(days=1095))],
        purchase_scores=[(30, Decimal("1.49")), (31, Decimal("1.5"))],
    )
    found = exits.evaluate(RULES, facts, D)
    assert sorted(codes(found)) == sorted([*exits.FINDINGS, "sanction", "one_star"])
    assert [t.key for t in found if t.rule_code == "sanction"] == ["sanction:7"]  # 1,095 days ago: out
    assert [t.key for t in found if t.rule_code == "one_star"] == ["purchase:30"]  # 1.5 rounds to 2 stars


def test_the_sweep_records_notifies_once_and_the_exit_is_appealed(w, db):
    p = served(w, db)
    org = p.chosen_org_id
    aftercare.rate(db, w.owner, p.id, ONE, "")
    assert exits.sweep(db) and exits.sweep(db) == []  # once
    (row,) = db.scalars(select(Exit).where(Exit.organisation_id == org)).all()
    assert row.rule_code == "one_star" and row.facts["purchase"] == p.id and row.facts["source"]
    entry = db.scalars(
        select(purchases.entries.Entry).where(purchases.entries.Entry.organisation_id == org)
    ).one()
    assert entry.status == EntryStatus.exited
    note = db.scalars(select(Notification).where(Notification.kind == "marketplace.exit")).one()
    assert note.params == {"rule": exits.RULE_LABELS["one_star"], "days": exits.APPEAL_DAYS}
    logged = db.scalars(select(AuditEntry).where(AuditEntry.tag == "marketplace.exit.recorded")).one()
    assert logged.details["facts"]["purchase"] == p.id
    # out of the marketplace: no sign-up
    with pytest.raises(ValidationFailed):
        purchases.sign_up(
            db, actor_of(w, org), purchases.post(db, w.owner, purchase_input("random")).id, None
        )
    me = actor_of(w, org)
    with pytest.raises(Conflict):  # repair is for later
        exits.appeal(db, me, row.id, "请求信用修复", repair=True)
    exits.appeal(db, me, row.id, "评价有误")
    exits.decide(db, w.admin, row.id, True, "复核后撤销")
    assert row.status == exits.REVERSED and entry.status == EntryStatus.approved
    assert exits.sweep(db) == []  # the same facts never exit it again


def test_credit_repair_after_its_period_and_a_late_appeal(w, db):
    p = served(w, db)
    org = p.chosen_org_id
    sanction = credit.record_sanction(
        db, w.admin, org, "县住建局", "违规执业", "", clock.to_cst(clock.now()).date()
    )
    (row,) = exits.sweep(db)
    assert row.rule_code == "sanction" and row.trigger_key == f"sanction:{sanction.id}"
    me = actor_of(w, org)
    clock.shift(timedelta(days=exits.APPEAL_DAYS + 1))
    with pytest.raises(Conflict) as e:
        exits.appeal(db, me, row.id, "申诉")
    assert e.value.problems[0].code == "exit_appeal_late"
    clock.shift(timedelta(days=exits.REPAIR_AFTER_DAYS))
    exits.appeal(db, me, row.id, "已整改，申请信用修复", repair=True)
    exits.decide(db, w.admin, row.id, False, "整改不到位")
    assert row.status == exits.IN_FORCE
    exits.appeal(db, me, row.id, "再次申请", repair=True)
    exits.decide(db, w.admin, row.id, True, "准予修复")
    assert row.status == exits.REPAIRED


def test_three_verified_complaints_exit_through_the_sweep(w, db):
    p = served(w, db)
    for i in range(3):
        c = complaints.file_quality(db, w.owner, p.id, f"第{i + 1}次投诉")
        complaints.decide(db, w.admin, c.id, True, "属实")
        if i < 2:
            assert exits.sweep(db) == []
    (row,) = exits.sweep(db)
    assert row.rule_code == "quality_complaints" and len(row.facts["complaints"]) == 3


def test_the_sweeps_are_periodic_tasks():
    names = {t.name for _, t in tasks.schedule(load_settings(), ["marketplace.tasks"])}
    assert names == {
        "marketplace.sweep_exits",
        "marketplace.sweep_qualifications",
        "marketplace.recompute_directory",
    }
