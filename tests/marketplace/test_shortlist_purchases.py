"""The credit shortlist's service flow (marketplace.purchases, rules.md §5.3, Guangdong 信用择优) on SQLite
and PostgreSQL: the scores frozen at sign-up close and pinned in the log, the short list drawn at the owner's
reveal and kept unpublished, the owner's choice refused off the short list or unconfirmed, made once, audited
and notified, the record verifying alone and against the log; fewer than 2 applicants fail the purchase."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from accounts.models import Notification, User
from audit.log import AuditEntry
from core import clock
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.identity import anonymous
from marketplace import credit, purchases
from marketplace import selection as sel
from marketplace import shortlist_events as shortlist
from marketplace.models import PurchaseStatus, SelectionStatus
from tests.factories.marketplace import purchase_input
from tests.factories.marketplace_shortlist import credit_firms, credit_purchase, shortlisted


@pytest.fixture
def w(db, make):  # type: ignore[no-untyped-def]
    return credit_firms(db, make)


def log(db, purchase_id: int) -> list[tuple[int, str, dict]]:
    rows = db.scalars(
        select(AuditEntry).where(AuditEntry.subject == f"purchase:{purchase_id}").order_by(AuditEntry.index)
    )
    return [(e.index, e.tag, dict(e.details or {})) for e in rows]


def told(db, org_id: int, title: str) -> int:
    users = select(User.id).where(User.organisation_id == org_id)
    return len(
        db.scalars(
            select(Notification).where(Notification.user_id.in_(users), Notification.title == title)
        ).all()
    )


def test_the_scores_are_frozen_at_sign_up_close_and_pinned_by_their_hash(w, db):
    p = credit_purchase(w, db)
    row = purchases.close_signup(db, w.owner, p.id)
    frozen = row.credit_frozen
    assert {int(k): v["credit"] for k, v in frozen["scores"].items()} == w.expected
    assert frozen["long_list_max"] == sel.LONG_LIST_MAX and frozen["short_list_size"] == sel.SHORT_LIST_SIZE
    committed = next(d for _, t, d in log(db, p.id) if t == sel.TAG_COMMITTED)
    assert committed["algorithm_version"] == sel.ALGORITHM_V2
    scored = [{"organisation_id": i, "credit_score": c} for i, c in sorted(w.expected.items())]
    assert committed["applicants_sha256"] == sel.applicants_sha256(scored)
    # the public entry names no applicant: counts, sizes and hashes only
    assert set(committed) == {
        *("algorithm_version", "request_id", "method", "state_funds", "commitment", "pool_root"),
        *("applicants", "parties", "long_list_max", "short_list_size", "scores_on", "applicants_sha256"),
    }
    assert committed["applicants"] == 4


def test_the_owner_chooses_from_the_short_list_and_the_record_verifies(w, db):
    p = shortlisted(w, db)
    row = purchases.selection_of(db, p)
    assert row.status == SelectionStatus.choosing and p.status == PurchaseStatus.selecting
    drawn = row.record["result"]["short_list"]
    assert len(drawn) == 3 and set(drawn) <= set(w.expected)
    assert [x["credit_score"] for x in row.record["result"]["long_list"]] == [70, 60, 60, 40]
    # what the owner's page lists: each short-listed name with its frozen score
    names = {o.id: o.name for o, _ in w.firms}
    assert [(i, n, s["credit"]) for i, n, s in purchases.short_list(db, row)] == [
        (i, names[i], w.expected[i]) for i in drawn
    ]
    # not published while the owner chooses; the public still sees nobody
    with pytest.raises(NotFound):
        purchases.public_record(db, p.id)
    assert purchases.applicants(db, anonymous(), p) == purchases.Applicants(None, None)
    tags = [t for _, t, _ in log(db, p.id)]
    assert tags[-1] == shortlist.ShortlistTag.selection_shortlisted and sel.TAGS_DONE[0] not in tags
    assert all(told(db, i, shortlist.SHORTLISTED) == 1 for i in drawn)
    # a sanction after sign-up close changes the credit page, not this selection
    credit.record_sanction(
        db, w.admin, drawn[0], "县市场监管局", "再次违规", "罚字2号", clock.to_cst(clock.now()).date()
    )
    off = next(i for i in w.expected if i not in drawn)
    with pytest.raises(ValidationFailed) as e:
        purchases.choose(db, w.owner, p.id, off, True)
    assert e.value.problems[0].code == "choice_not_shortlisted"
    with pytest.raises(ValidationFailed) as e:
        purchases.choose(db, w.owner, p.id, drawn[1], False)
    assert e.value.problems[0].code == "choice_not_confirmed"
    with pytest.raises(Forbidden):
        purchases.choose(db, w.admin, p.id, drawn[1], True)  # the owner's choice, not the centre's
    purchases.choose(db, w.owner, p.id, drawn[1], True)
    assert p.status == PurchaseStatus.selected and p.chosen_org_id == drawn[1]
    doc = purchases.public_record(db, p.id)
    assert doc["result"]["choice"]["organisation_id"] == drawn[1] and doc["result"]["winner"] == drawn[1]
    assert doc["result"]["choice"]["party"] == purchases.owner_party(db, p)
    assert sel.schema_problems(doc) == [] and sel.verify(doc) == []
    assert sel.log_differences(doc, log(db, p.id)) == []
    done = log(db, p.id)[-1]
    assert done[1] == "marketplace.selection.completed" and done[2]["choice"] == doc["result"]["choice"]
    assert told(db, drawn[1], shortlist.CHOSEN) == 1
    assert all(told(db, i, shortlist.NOT_CHOSEN) == 1 for i in drawn if i != drawn[1])
    with pytest.raises(Conflict):
        purchases.choose(db, w.owner, p.id, drawn[0], True)  # once


def test_the_log_catches_a_changed_score_or_a_swapped_choice(w, db):
    p = shortlisted(w, db)
    drawn = purchases.selection_of(db, p).record["result"]["short_list"]
    purchases.choose(db, w.owner, p.id, drawn[0], True)
    doc = purchases.public_record(db, p.id)
    entries = log(db, p.id)
    # a cut-off score changed is not in the long list, yet the commitment entry's hash names it
    forged = {**doc, "applicants": [{**a, "credit_score": a["credit_score"] + 1} for a in doc["applicants"]]}
    assert any("applicants_sha256 differs" in d for d in sel.log_differences(forged, entries))
    swapped = sel.with_choice(doc, {**doc["result"]["choice"], "organisation_id": drawn[1]})
    assert sel.verify(swapped) == []  # still on the short list: the record alone cannot tell
    assert any("record_sha256" in d for d in sel.log_differences(swapped, entries))
    redrawn = {**doc, "result": {**doc["result"], "short_list": list(reversed(drawn))}}
    assert any("draw_sha256" in d for d in sel.log_differences(redrawn, entries))


def test_fewer_than_two_applicants_fail_the_purchase(w, db):
    p = shortlisted(w, db, firms=1)
    doc = purchases.public_record(db, p.id)
    assert p.status == PurchaseStatus.failed and doc["result"]["reason"] == sel.TOO_FEW_APPLICANTS
    assert doc["result"]["outcome"] == "failed" and doc["result"]["choice"] is None
    assert sel.verify(doc) == [] and sel.log_differences(doc, log(db, p.id)) == []
    with pytest.raises(Conflict):
        purchases.choose(db, w.owner, p.id, w.firms[0][0].id, True)


def test_no_quote_is_asked_and_nobody_sees_the_applicants_before_the_deadline(w, db):
    p = purchases.post(db, w.owner, purchase_input("credit"))
    assert p.quote_key == ""
    signup = purchases.sign_up(db, w.firms[0][1], p.id, None)
    assert signup.quote_fen is None and not signup.sealed_quote
    for reader in (w.owner, w.admin, anonymous()):
        assert purchases.applicants(db, reader, p) == purchases.Applicants(None, None)
    clock.shift(timedelta(days=3, seconds=1))
    assert purchases.applicants(db, w.owner, p).count == 1
