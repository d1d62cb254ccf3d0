"""The award's rules as plain functions, at their boundaries: R55's order, R58's 10%, L46's 30 days, the
refund deadlines (R35, R57) and GR50's 2 working days across a national holiday."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from award.decision import rules
from core.clock import CST

T = datetime(2026, 3, 2, 10, 0, tzinfo=CST)  # a Monday


def test_the_award_opens_when_the_publicity_ends_and_not_while_suspended():
    assert not rules.award_open("publicity", T, T - timedelta(seconds=1))
    assert rules.award_open("publicity", T, T)
    assert not rules.award_open("suspended", T, T + timedelta(days=1))  # an unanswered objection holds it
    assert not rules.award_open("publicity", None, T)


def test_r55_a_state_funded_project_awards_to_the_first_not_passed_over():
    assert rules.award_rank_problem(True, 1, [1, 2, 3], []) is None
    assert rules.award_rank_problem(True, 2, [1, 2, 3], []) == "award_not_first"
    assert rules.award_rank_problem(True, 2, [1, 2, 3], [1]) is None
    assert rules.award_rank_problem(True, 3, [1, 2, 3], [1]) == "award_not_first"
    assert rules.award_rank_problem(True, 1, [1, 2, 3], [1]) == "award_candidate_passed"
    assert rules.award_rank_problem(True, 4, [1, 2, 3], []) == "award_not_a_candidate"
    assert rules.award_rank_problem(False, 3, [1, 2, 3], []) is None  # L40: the purchaser chooses
    assert rules.next_rank([1, 2, 3], [1, 2]) == 3 and rules.next_rank([1, 2], [1, 2]) is None


def test_r58_the_bond_may_be_10_percent_and_not_a_fen_more():
    assert rules.bond_ok(1_000_00, 10_000_00)
    assert not rules.bond_ok(1_000_01, 10_000_00)
    assert rules.bond_ok(0, 10_000_00) and not rules.bond_ok(-1, 10_000_00)
    assert rules.bond_ok(3, 33) and not rules.bond_ok(4, 33)  # 10% of 33 fen is 3.3 fen


@given(st.integers(min_value=1, max_value=10**12), st.integers(min_value=0, max_value=10**11))
def test_r58_the_bond_rule_is_exactly_ten_percent(amount, bond):
    assert rules.bond_ok(bond, amount) == (bond * 10 <= amount)


def test_l46_the_contract_is_due_30_days_after_the_notice():
    assert rules.contract_deadline(T) == date(2026, 4, 1)
    assert not rules.contract_late(T, date(2026, 4, 1)) and rules.contract_late(T, date(2026, 4, 2))
    end = datetime(2026, 4, 2, 0, 0, tzinfo=CST)
    assert not rules.contract_overdue(T, end - timedelta(seconds=1)) and rules.contract_overdue(T, end)


def test_the_contract_problems():
    ok = dict(amount=100, awarded=100, bond=10, signed_on=date(2026, 3, 3), starts_on=None, ends_on=None)
    assert rules.contract_problems(**ok, notice_issued_at=T, now=T + timedelta(days=2)) == []
    assert rules.contract_problems(**{**ok, "bond": 11}, notice_issued_at=T, now=T + timedelta(days=2)) == [
        "contract_bond_over"
    ]
    assert "contract_amount_differs" in rules.contract_problems(
        **{**ok, "amount": 99}, notice_issued_at=T, now=T + timedelta(days=2)
    )
    assert "contract_before_notice" in rules.contract_problems(
        **{**ok, "signed_on": date(2026, 3, 1)}, notice_issued_at=T, now=T + timedelta(days=2)
    )
    assert "contract_in_future" in rules.contract_problems(**ok, notice_issued_at=T, now=T)
    assert "contract_ends_before_start" in rules.contract_problems(
        **{**ok, "starts_on": date(2026, 4, 1), "ends_on": date(2026, 3, 31)},
        notice_issued_at=T,
        now=T + timedelta(days=2),
    )


def test_r35_r57_refunds_are_due_5_days_after_their_event():
    # R35: withdrawn on 2 March, due by the end of 7 March
    assert rules.refund_due(withdrawn_at=T) == datetime(2026, 3, 8, tzinfo=CST)
    # R57: contract signed on 2 March: the same
    assert rules.refund_due(contract_signed_on=date(2026, 3, 2)) == datetime(2026, 3, 8, tzinfo=CST)
    assert rules.refund_due() is None  # awarded, no contract yet: not started
    due = rules.refund_due(tender_ended_at=T)
    assert due is not None
    assert not rules.refund_overdue("held", due, due - timedelta(seconds=1))
    assert rules.refund_overdue("held", due, due) and not rules.refund_overdue("refunded", due, due)


def test_gr50_publication_within_2_working_days_across_a_national_holiday():
    # Signed on Wednesday 30 September 2026: 1-7 October are the National Day holiday; the next working days
    # are Thursday 8 and Friday 9 October (the official calendar): published by the end of 9 October
    from core import workdays

    due = rules.publication_due(date(2026, 9, 30))
    if workdays.covered(date(2026, 10, 1)):
        assert due == datetime(2026, 10, 10, tzinfo=CST)
    else:  # weekdays stand in: Thursday 1 and Friday 2 October
        assert due == datetime(2026, 10, 3, tzinfo=CST)
    # an ordinary week: signed on Monday 2 March, published by the end of Wednesday 4 March
    assert rules.publication_due(date(2026, 3, 2)) == datetime(2026, 3, 5, tzinfo=CST)


def test_savings_against_the_estimate():
    assert rules.savings(1_000_00, 900_00) == 100_00 and rules.savings(900_00, 1_000_00) == -100_00
    assert rules.savings_rate(1_000_00, 900_00) == 0.1 and rules.savings_rate(0, 1) is None
