"""The avoidance rules (rules.md §3.3), each with the boundary of its dates."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from evaluation.committee.avoidance import (
    DrawCap,
    ExpertFacts,
    Period,
    TenderFacts,
    exclusions,
    look_back_start,
    years_before,
)

DAY = date(2026, 6, 15)  # the evaluation date
BIDDER, OTHER, PURCHASER, AGENCY, SUPERVISOR = (
    "91BIDDER",
    "91OTHER",
    "91PURCHASER",
    "91AGENCY",
    "91SUPERVISOR",
)
TENDER = TenderFacts(
    evaluation_date=DAY,
    bidder_codes=frozenset({BIDDER}),
    purchaser_code=PURCHASER,
    agency_code=AGENCY,
    supervisor_codes=frozenset({SUPERVISOR}),
)


def reasons(expert: ExpertFacts, tender: TenderFacts = TENDER, cap: DrawCap = DrawCap()) -> list[str]:
    return [e.reason for e in exclusions(expert, tender, cap)]


def test_an_expert_without_ties_is_eligible():
    assert reasons(ExpertFacts(1, employments=(Period(OTHER, date(2010, 1, 1)),))) == []


def test_three_years_back_is_the_same_calendar_day():
    assert look_back_start(DAY) == date(2023, 6, 15)
    assert years_before(date(2024, 2, 29), 3) == date(2021, 2, 28)


@pytest.mark.parametrize(
    ("end", "excluded"),
    [
        (None, True),  # still employed by the bidder
        (
            date(2023, 6, 15),
            True,
        ),  # left exactly three years before the evaluation date: still within 3 years
        (date(2023, 6, 14), False),  # one day earlier: outside the look-back
        (date(2026, 1, 1), True),
    ],
)
def test_employment_by_a_bidder_within_3_years(end, excluded):
    expert = ExpertFacts(1, employments=(Period(BIDDER, date(2015, 1, 1), end),))
    found = exclusions(expert, TENDER)
    assert (["bidder_employment"] if excluded else []) == [e.reason for e in found]
    if excluded:
        assert found[0].rule == "GR9, P12" and found[0].detail == BIDDER


def test_employment_starting_after_the_evaluation_date_does_not_count():
    assert reasons(ExpertFacts(1, employments=(Period(BIDDER, DAY + timedelta(days=1)),))) == []
    assert reasons(ExpertFacts(1, employments=(Period(BIDDER, DAY),))) == ["bidder_employment"]


@pytest.mark.parametrize(
    ("end", "excluded"), [(date(2023, 6, 15), True), (date(2023, 6, 14), False), (None, True)]
)
def test_a_declared_interest_in_a_bidder_within_3_years(end, excluded):
    expert = ExpertFacts(1, interests=(Period(BIDDER, None, end),))
    assert reasons(expert) == (["bidder_interest"] if excluded else [])


def test_an_interest_in_an_organisation_that_does_not_bid_is_fine():
    assert reasons(ExpertFacts(1, interests=(Period(OTHER),))) == []


@pytest.mark.parametrize(
    ("code", "reason"),
    [(PURCHASER, "purchaser_employment"), (AGENCY, "agency_employment"), (SUPERVISOR, "supervisor_staff")],
)
def test_current_staff_of_the_purchaser_agency_or_supervisor(code, reason):
    assert reasons(ExpertFacts(1, employments=(Period(code, date(2020, 1, 1)),))) == [reason]
    # employed until the evaluation date itself: still staff that day
    assert reasons(ExpertFacts(1, employments=(Period(code, date(2020, 1, 1), DAY),))) == [reason]
    # left the day before: no longer staff
    assert (
        reasons(ExpertFacts(1, employments=(Period(code, date(2020, 1, 1), DAY - timedelta(days=1)),))) == []
    )


def test_a_penalty_in_bidding_excludes_even_after_it_ended():
    assert reasons(ExpertFacts(1, status="penalised")) == ["penalty"]
    assert reasons(ExpertFacts(1, status="active", ever_penalised=True)) == ["penalty"]
    assert exclusions(ExpertFacts(1, status="penalised"), TENDER)[0].rule == "P12"


@pytest.mark.parametrize("status", ["suspended", "retired"])
def test_an_expert_not_active_is_excluded(status):
    assert reasons(ExpertFacts(1, status=status)) == ["status"]


def test_a_suspension_ending_before_the_evaluation_date_no_longer_counts():
    assert reasons(ExpertFacts(1, status="suspended", status_until=DAY - timedelta(days=1))) == []
    assert reasons(ExpertFacts(1, status="suspended", status_until=DAY)) == ["status"]


@pytest.mark.parametrize(
    ("start", "end", "excluded"),
    [
        (DAY, DAY, True),
        (DAY - timedelta(days=3), DAY, True),
        (DAY, DAY + timedelta(days=3), True),
        (DAY + timedelta(days=1), DAY + timedelta(days=5), False),
        (DAY - timedelta(days=5), DAY - timedelta(days=1), False),
    ],
)
def test_unavailable_on_the_evaluation_date(start, end, excluded):
    assert reasons(ExpertFacts(1, unavailable=((start, end),))) == (["unavailable"] if excluded else [])


def test_the_draw_cap_is_a_policy_off_by_default():
    busy = ExpertFacts(1, recent_draws=12)
    assert reasons(busy) == []
    assert reasons(busy, cap=DrawCap(max_draws=12, period_days=90)) == ["draw_cap"]
    assert reasons(ExpertFacts(1, recent_draws=11), cap=DrawCap(max_draws=12, period_days=90)) == []
    assert exclusions(busy, TENDER, DrawCap(12, 90))[0].rule == "policy"


def test_every_reason_is_kept_not_only_the_first():
    expert = ExpertFacts(
        7,
        status="retired",
        employments=(Period(BIDDER, None, date(2024, 1, 1)), Period(PURCHASER)),
        interests=(Period(BIDDER),),
        unavailable=((DAY, DAY),),
    )
    assert reasons(expert) == [
        "bidder_employment",
        "bidder_interest",
        "purchaser_employment",
        "status",
        "unavailable",
    ]
    assert {e.expert_id for e in exclusions(expert, TENDER)} == {7}
