"""Purchases (rules.md §5.3): direct choice only below the threshold (优化营商环境条例 art. 43); sign-up by
approved intermediaries before the deadline with a quote within the ceiling; nobody but the intermediary sees
who or how many signed up before the deadline, nor any quote before the selection; the selection's exchange
(server commitment, the owner's commit then reveal) and its record verifying."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from audit.log import AuditEntry
from core import clock
from core.errors import Conflict, Forbidden, ValidationFailed
from marketplace import purchases, rules, sealedquotes
from marketplace import selection as sel
from marketplace.models import PurchaseStatus
from tests.factories.marketplace import (
    QUOTE_PRIVATE,
    QUOTE_PRIVATE_TEXT,
    approved,
    intermediary,
    market_world,
    purchase_input,
    select_now,
)


@pytest.fixture
def w(db, make):  # type: ignore[no-untyped-def]
    w = market_world(db, make)
    w.firms = [approved(db, make, w.admin, f"检测公司{i}") for i in range(4)]
    return w


def codes(e: ValidationFailed) -> set[str]:
    return {p.code for p in e.problems}


def test_direct_choice_only_below_the_threshold(w, db):
    chosen = w.firms[0][0].id
    with pytest.raises(ValidationFailed) as e:
        purchases.post(
            db, w.owner, purchase_input("direct", rules.DIRECT_CHOICE_THRESHOLD_FEN, chosen_org_id=chosen)
        )
    assert "direct_above_threshold" in codes(e.value)
    small = purchases.post(
        db, w.owner, purchase_input("direct", rules.DIRECT_CHOICE_THRESHOLD_FEN - 1, chosen_org_id=chosen)
    )
    assert small.status == PurchaseStatus.selected and small.chosen_org_id == chosen


def test_a_bad_purchase_is_refused_at_each_field(w, db):
    past = clock.now() - timedelta(hours=1)
    with pytest.raises(ValidationFailed) as e:
        purchases.post(
            db, w.owner, purchase_input(ceiling_fen=0, project=" ", service="nope", signup_deadline=past)
        )
    assert {"ceiling_missing", "project_missing", "service_unknown", "deadline_past"} <= codes(e.value)
    with pytest.raises(Forbidden):
        purchases.post(db, w.firms[0][1], purchase_input())


def test_sign_up_rules_deadline_approval_and_ceiling(w, db, make):
    p = purchases.post(db, w.owner, purchase_input(ceiling_fen=100_000))
    firm = w.firms[0][1]
    with pytest.raises(ValidationFailed) as e:
        purchases.sign_up(db, firm, p.id, 100_001)
    assert codes(e.value) == {"quote_above_ceiling"}
    with pytest.raises(ValidationFailed) as e:
        purchases.sign_up(db, firm, p.id, None)
    assert codes(e.value) == {"quote_missing"}
    _, stranger = intermediary(make, "未入驻公司")
    with pytest.raises(ValidationFailed) as e:
        purchases.sign_up(db, stranger, p.id, 1000)
    assert "not_approved_for_service" in codes(e.value)
    surveyor = approved(db, make, w.admin, "勘察公司", ["survey"])[1]
    with pytest.raises(ValidationFailed):
        purchases.sign_up(db, surveyor, p.id, 1000)  # approved, but for another service
    # stored sealed only: never in clear before the opening (marketplace.sealedquotes)
    first = purchases.sign_up(db, firm, p.id, 100_000)
    assert first.quote_fen is None and first.sealed_quote
    assert sealedquotes.open_quote(base64.b64decode(first.sealed_quote), QUOTE_PRIVATE) == 100_000
    changed = purchases.sign_up(db, firm, p.id, 90_000)  # changed before the deadline
    assert sealedquotes.open_quote(base64.b64decode(changed.sealed_quote), QUOTE_PRIVATE) == 90_000
    clock.shift(timedelta(days=3, seconds=1))
    with pytest.raises(ValidationFailed) as e:
        purchases.sign_up(db, w.firms[1][1], p.id, 1000)
    assert "signup_closed" in codes(e.value)


def test_nobody_sees_who_or_how_many_before_the_deadline_nor_quotes_before_the_selection(w, db):
    p = purchases.post(db, w.owner, purchase_input())
    for org, actor in w.firms[:3]:
        purchases.sign_up(db, actor, p.id, 40_000_000 + org.id)
    for reader in (w.owner, w.admin, w.firms[3][1]):
        assert purchases.applicants(db, reader, p) == purchases.Applicants(None, None)
    # the sign-ups' entries are withheld from the public log and never carry the quote
    entries_ = db.scalars(select(AuditEntry).where(AuditEntry.tag == "marketplace.purchase.signed_up")).all()
    assert len(entries_) == 3 and all(e.withheld == "participation" for e in entries_)
    assert all("quote_fen" not in e.details and "40000" not in str(e.details) for e in entries_)
    clock.shift(timedelta(days=3, seconds=1))
    seen = purchases.applicants(db, w.owner, p)
    assert seen.count == 3 and all(q is None for _, _, q in seen.names)  # names, no quotes yet
    purchases.close_signup(db, w.owner, p.id)
    assert all(
        e.released_at is not None
        for e in db.scalars(select(AuditEntry).where(AuditEntry.tag == "marketplace.purchase.signed_up"))
    )
    assert all(q is None for _, _, q in purchases.applicants(db, w.owner, p).names)
    value = bytes(range(32, 64))
    purchases.commit_contribution(db, w.owner, p.id, hashlib.sha256(value).hexdigest())
    purchases.reveal_contribution(db, w.owner, p.id, value.hex())
    # the value alone does not run a priced selection: the sealed quotes wait for the owner's key
    assert purchases.quotes_waiting(p) and all(
        q is None for _, _, q in purchases.applicants(db, w.owner, p).names
    )
    purchases.release_quotes(db, w.owner, p.id, QUOTE_PRIVATE_TEXT)
    assert all(q is not None for _, _, q in purchases.applicants(db, w.owner, p).names)


def test_the_exchange_runs_the_selection_and_its_record_verifies(w, db):
    p = purchases.post(db, w.owner, purchase_input())
    for org, actor in w.firms:
        purchases.sign_up(db, actor, p.id, 40_000_000 - org.id * 1000)
    with pytest.raises(Conflict):
        purchases.close_signup(db, w.owner, p.id)  # before the deadline
    clock.shift(timedelta(days=3, seconds=1))
    selection_row = purchases.close_signup(db, w.owner, p.id)
    value = bytes(range(32, 64))
    with pytest.raises(Conflict):
        purchases.reveal_contribution(db, w.owner, p.id, value.hex())  # before the commitment
    purchases.commit_contribution(db, w.owner, p.id, hashlib.sha256(value).hexdigest())
    with pytest.raises(ValidationFailed) as e:
        purchases.reveal_contribution(db, w.owner, p.id, "00" * 32)
    assert codes(e.value) == {"contribution_value_mismatch"}
    purchases.reveal_contribution(db, w.owner, p.id, value.hex())
    purchases.release_quotes(db, w.owner, p.id, QUOTE_PRIVATE_TEXT)
    doc = purchases.public_record(db, p.id)
    assert sel.schema_problems(doc) == [] and sel.verify(doc) == []
    assert doc["commitment"] == selection_row.commitment
    assert p.status == PurchaseStatus.selected and p.chosen_org_id == doc["result"]["winner"]
    assert 9500 <= doc["result"]["coefficient_bp"] <= 9800
    tags = [
        e.tag
        for e in db.scalars(
            select(AuditEntry).where(AuditEntry.subject == f"purchase:{p.id}").order_by(AuditEntry.index)
        )
    ]
    assert tags[-6:] == [
        "marketplace.selection.committed",
        "marketplace.selection.contribution.committed",
        "marketplace.selection.contribution.revealed",
        "marketplace.quotes.key_released",
        "marketplace.quotes.opened",
        "marketplace.selection.completed",
    ]


def test_too_few_state_funded_applicants_fail_the_purchase(w, db):
    p = purchases.post(db, w.owner, purchase_input("random"))
    for _, actor in w.firms[:2]:
        purchases.sign_up(db, actor, p.id, None)
    clock.shift(timedelta(days=3, seconds=1))
    select_now(db, w.owner, p.id)
    doc = purchases.public_record(db, p.id)
    assert p.status == PurchaseStatus.failed and doc["result"]["reason"] == sel.TOO_FEW_APPLICANTS
    assert sel.verify(doc) == []


def test_only_the_owner_contributes(w, db, make):
    p = purchases.post(db, w.owner, purchase_input("random"))
    clock.shift(timedelta(days=3, seconds=1))
    other_owner = make.actor(make.user(make.org("purchaser", "另一业主"), "project_owner"))
    with pytest.raises(Forbidden):
        purchases.close_signup(db, other_owner, p.id)
    purchases.close_signup(db, w.admin, p.id)  # the centre may close a purchase whose owner does not
    with pytest.raises(Forbidden):
        purchases.commit_contribution(db, w.admin, p.id, "00" * 32)


def test_the_selection_waits_for_its_announced_time(w, db):
    later = clock.now() + timedelta(days=5)
    p = purchases.post(db, w.owner, purchase_input("random", selection_at=later))
    for _, actor in w.firms[:3]:
        purchases.sign_up(db, actor, p.id, None)
    clock.shift(timedelta(days=3, seconds=1))
    purchases.close_signup(db, w.owner, p.id)
    value = bytes(range(32, 64))
    purchases.commit_contribution(db, w.owner, p.id, hashlib.sha256(value).hexdigest())
    with pytest.raises(Conflict) as e:
        purchases.reveal_contribution(db, w.owner, p.id, value.hex())
    assert e.value.problems[0].code == "selection_time_not_reached"
    assert purchases.applicants(db, w.owner, p).names[0][2] is None  # still sealed
    clock.shift(timedelta(days=2))
    purchases.reveal_contribution(db, w.owner, p.id, value.hex())
    assert p.status == PurchaseStatus.selected
