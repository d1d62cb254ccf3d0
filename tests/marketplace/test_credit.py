"""The credit score (marketplace.credit, docs/marketplace.md "Credit score"): the formula's worked examples,
every input traceable to its row, the complaint and sanction windows at their boundaries, an upheld rating
appeal counting with its reviewed scores, and the red and black lists with their dates (the black list bars
sign-up and the directory)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from core import clock
from core.errors import ValidationFailed
from marketplace import aftercare, appeals, complaints, credit, entries, purchases
from tests.factories.marketplace import purchase_input
from tests.factories.marketplace_credit import FIVE, ONE, actor_of, credit_world, served


@pytest.fixture
def w(db, make):  # type: ignore[no-untyped-def]
    return credit_world(db, make)


def today() -> date:
    return clock.to_cst(clock.now()).date()


@pytest.mark.parametrize(
    ("mean", "c", "k", "red", "black", "expected"),
    [
        (None, 0, 0, False, False, 60),  # a newcomer
        (Decimal(5), 0, 0, False, False, 80),
        (Decimal(1), 0, 0, False, False, 40),
        (Decimal("4.25"), 0, 0, False, False, 73),  # 60 + 12.5, half up
        (Decimal(5), 2, 0, False, False, 60),
        (Decimal(5), 0, 1, False, False, 60),
        (Decimal(5), 0, 0, True, False, 90),
        (Decimal(5), 0, 0, True, True, 0),  # the black list wins
        (Decimal(1), 3, 2, False, False, 0),  # clamped at 0
        (Decimal(5), 0, 0, True, False, 90),
    ],
)
def test_the_formula(mean, c, k, red, black, expected):  # type: ignore[no-untyped-def]
    assert credit.score(mean, c, k, red, black) == expected


def test_every_input_is_traceable_and_the_bulk_recomputation_agrees(w, db):
    p = served(w, db)
    org = p.chosen_org_id
    aftercare.rate(db, w.owner, p.id, FIVE, "")
    aftercare.rate(db, w.monitor, p.id, ONE, "")
    # owner 5 ×5, authority 1 ×3: (25 + 3) / 8 = 3.5 -> 4 stars, credit 60 + 5 = 65
    b = credit.breakdown(db, org)
    assert b.mean == Decimal("3.5") and b.stars == 4 and b.score == 65
    assert [r.rater_kind for r, _, _ in b.ratings] == ["owner", "authority"]
    assert b.references == {p.id: p.reference}
    complaint = complaints.file_quality(db, w.owner, p.id, "报告数据错误")
    assert credit.breakdown(db, org).score == 65  # filed, not verified: does not count
    complaints.decide(db, w.admin, complaint.id, True, "经核实属实")
    sanction = credit.record_sanction(db, w.admin, org, "县市场监管局", "出具虚假报告", "罚字1号", today())
    b = credit.breakdown(db, org)
    assert [c.id for c in b.complaints] == [complaint.id] and [s.id for s in b.sanctions] == [sanction.id]
    assert b.score == 65 - 10 - 20
    assert credit.all_scores(db)[org] == (4, 2, 35)


def test_an_upheld_appeal_counts_with_its_reviewed_scores_and_both_are_kept(w, db):
    p = served(w, db)
    rating = aftercare.rate(db, w.owner, p.id, ONE, "很差")
    chosen = actor_of(w, p.chosen_org_id)
    with pytest.raises(ValidationFailed):
        appeals.appeal(db, chosen, rating.id, "  ")
    appeal = appeals.appeal(db, chosen, rating.id, "评价与事实不符")
    with pytest.raises(ValidationFailed):  # upheld needs the reviewed scores
        appeals.review(db, w.admin, appeal.id, True, "复核", {})
    appeals.review(db, w.admin, appeal.id, True, "复核属实", FIVE)
    assert rating.scores == ONE  # the rating itself is never changed
    assert credit.breakdown(db, p.chosen_org_id).stars == 5
    assert aftercare.standing(db)[p.chosen_org_id] == (5, 1)


def test_the_complaint_window_counts_day_365_and_not_day_366(w, db):
    p = served(w, db)
    org = p.chosen_org_id
    filed = complaints.file_quality(db, w.owner, p.id, "质量问题")
    complaints.decide(db, w.admin, filed.id, True, "属实")
    day1 = clock.to_cst(filed.filed_at).date()
    assert len(credit.verified_quality_complaints(db, org, day1 + timedelta(days=364))) == 1  # day 365
    assert credit.verified_quality_complaints(db, org, day1 + timedelta(days=365)) == []  # day 366


def test_the_red_and_black_lists_with_their_dates(w, db):
    org, actor = w.firms[0]
    with pytest.raises(ValidationFailed) as e:
        credit.add_listing(db, w.admin, org.id, "grey", "", "", None, None)
    assert {p.field for p in e.value.problems} == {"reason", "authority", "list_kind", "starts_on"}
    start = today()
    listing = credit.add_listing(
        db, w.admin, org.id, "black", "串通投标", "县发改局", start, start + timedelta(days=10)
    )
    assert org.id in credit.blacklisted(db, start + timedelta(days=10))  # in force on its end date
    assert org.id not in credit.blacklisted(db, start + timedelta(days=11))
    assert credit.breakdown(db, org.id).score == 0
    assert org.id not in {x.organisation.id for x in entries.directory(db)}
    p = purchases.post(db, w.owner, purchase_input("random"))
    with pytest.raises(ValidationFailed) as e:
        purchases.sign_up(db, actor, p.id, None)
    assert [x.code for x in e.value.problems] == ["intermediary_barred"]
    credit.lift_listing(db, w.admin, listing.id, "信用修复完成")
    assert purchases.sign_up(db, actor, p.id, None) is not None
    red = credit.add_listing(db, w.admin, w.firms[1][0].id, "red", "守信", "县发改局", start, None)
    assert [x.id for x, _ in credit.listings(db, "red")] == [red.id]
    assert credit.breakdown(db, w.firms[1][0].id).score == 70
