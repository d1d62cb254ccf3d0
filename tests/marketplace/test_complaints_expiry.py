"""Complaints about an entry decision (within 5 working days, core.workdays) and about a selection (before
its publicity ends), quality complaints by the owner or the authority; the qualification reminder before
expiry and the suspension notice once it has expired, each once (marketplace.expiry)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from accounts.models import Notification
from core import clock
from core.errors import Conflict, Forbidden, ValidationFailed
from marketplace import complaints, entries, expiry, purchases
from marketplace.models import Selection
from tests.factories.marketplace import entry_input, intermediary, purchase_input
from tests.factories.marketplace_credit import actor_of, credit_world, served

# Monday 7 December 2026, 10:00 in Beijing: its 5th working day after is Monday 14 December
MONDAY = datetime(2026, 12, 7, 10, 0, tzinfo=clock.CST)


@pytest.fixture
def w(db, make):  # type: ignore[no-untyped-def]
    return credit_world(db, make)


def test_an_entry_complaint_within_5_working_days_and_not_after(w, db, make):
    clock.freeze(MONDAY)
    _, actor = intermediary(make, "新申请公司")
    entry = entries.submit_entry(db, actor, entry_input())
    with pytest.raises(Conflict):  # nothing decided yet
        complaints.file_entry(db, actor, "不服")
    entries.return_entry(db, w.admin, entry.id, "缺少资质证书")
    clock.freeze(datetime(2026, 12, 14, 23, 59, tzinfo=clock.CST))
    with pytest.raises(ValidationFailed):
        complaints.file_entry(db, actor, "  ")
    assert complaints.file_entry(db, actor, "资质证书已提交").kind == "entry"
    clock.freeze(datetime(2026, 12, 15, 0, 0, tzinfo=clock.CST))
    with pytest.raises(Conflict) as e:
        complaints.file_entry(db, actor, "再次投诉")
    assert e.value.problems[0].code == "entry_complaint_late"
    assert e.value.problems[0].params["date"] == "2026-12-14"


def test_a_selection_complaint_before_its_publicity_ends(w, db, make):
    p = served(w, db)
    sel = db.scalars(select(Selection).where(Selection.purchase_id == p.id)).one()
    ends = complaints.publicity_ends(sel)
    assert ends is not None and ends > sel.completed_at
    loser = next(a for o, a in w.firms if o.id != p.chosen_org_id)
    stranger = intermediary(make, "未报名公司")[1]
    with pytest.raises(Forbidden):
        complaints.file_selection(db, stranger, p.id, "不公平")
    assert complaints.file_selection(db, loser, p.id, "抽取结果有疑问").kind == "selection"
    clock.freeze(ends)
    with pytest.raises(Conflict) as e:
        complaints.file_selection(db, loser, p.id, "太晚了")
    assert e.value.problems[0].code == "selection_publicity_over"


def test_quality_complaints_by_the_owner_or_the_authority_decided_by_the_centre(w, db):
    p = served(w, db)
    with pytest.raises(Forbidden):
        complaints.file_quality(db, actor_of(w, p.chosen_org_id), p.id, "自己投诉自己")
    c = complaints.file_quality(db, w.monitor, p.id, "报告延误")
    with pytest.raises(ValidationFailed):
        complaints.decide(db, w.admin, c.id, True, "")
    complaints.decide(db, w.admin, c.id, False, "不属实")
    assert c.status == "rejected"
    with pytest.raises(Conflict):
        complaints.decide(db, w.admin, c.id, True, "改判")


def test_a_reminder_before_a_needed_qualification_expires_and_the_suspension_after(w, db, make):
    clock.freeze(MONDAY)
    org, actor = intermediary(make, "资质将到期公司")
    soon = date(2026, 12, 7) + timedelta(days=expiry.REMINDER_DAYS + 1)
    entry = entries.submit_entry(db, actor, entry_input(expires_on=soon))
    entries.approve_entry(db, w.admin, entry.id)
    assert expiry.sweep(db) == []  # 31 days left: no reminder yet
    clock.freeze(MONDAY + timedelta(days=1))
    made = expiry.sweep(db)
    assert {(n.kind, n.qualification) for n in made} == {("reminder", "检验检测机构资质认定（CMA）")}
    assert expiry.sweep(db) == []  # once
    assert "testing" in entries.active_services(db, entry)
    clock.freeze(datetime.combine(soon + timedelta(days=1), datetime.min.time(), tzinfo=clock.CST))
    assert entries.active_services(db, entry) == []  # suspended for the service that needs it
    (notice,) = expiry.sweep(db)
    assert notice.kind == "suspended"
    kinds = [n.kind for n in db.scalars(select(Notification).where(Notification.user_id == actor.user_id))]
    assert kinds.count("marketplace.qualification.reminder") == 1
    assert kinds.count("marketplace.qualification.suspended") == 1
    p = purchases.post(db, w.owner, purchase_input("random"))
    with pytest.raises(ValidationFailed):
        purchases.sign_up(db, actor, p.id, None)
    assert org.id
