"""Unit tests for tender/rules.py: the timeline, lot, criteria and key-holder rules of rules.md §1.

Pure functions, no database. Every datetime is timezone-aware; days are counted on CST calendar dates.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.clock import CST, to_cst
from tender.rules import (
    LotFacts,
    TenderFacts,
    check_criteria,
    check_key_holders,
    check_lot,
    check_publication,
    check_resume,
    check_timeline,
    days_between,
    documents_available,
    end_of_day_cst,
    extended_deadline,
    objection_allowed,
    objection_answer_due,
    objection_deadline,
    resumed_timeline,
)

# 2025-03-03 10:00 CST (02:00 UTC): "now" when the agency presses publish.
NOW = datetime(2025, 3, 3, 10, 0, tzinfo=CST)
ONE_SECOND = timedelta(seconds=1)
# Organisation ids of the key holders: the tender's agency, the supervisor's monitors, the trading centre.
AGENCY, MONITORS, CENTRE = 11, 22, 33


def cst(y: int, m: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, s, us, tzinfo=CST)


def utc(y: int, m: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, s, tzinfo=UTC)


def valid_lot(**changes) -> LotFacts:
    lot = LotFacts(
        number=1,
        name="Office furniture",
        estimated_price=1_000_000_00,
        price_ceiling=1_050_000_00,
        bid_security=20_000_00,
    )
    return dataclasses.replace(lot, **changes)


def valid_criteria(**changes) -> dict:
    criteria = {
        "qualification": ["Business licence", "No bidding penalty in 3 years"],
        "price": {"points": 40},
        "factors": [
            {"name": "Technical proposal", "points": 40, "kind": "subjective"},
            {"name": "After-sales service", "points": 20, "kind": "objective"},
        ],
    }
    criteria.update(changes)
    return criteria


def valid_facts(**changes) -> TenderFacts:
    """A tender that passes every check at NOW: documents issued 03-03..03-07 (5 days), deadline 03-23 (20
    days)."""
    facts = TenderFacts(
        title="Furniture for the county school",
        category="goods",
        government_procurement=True,
        evaluation_method="comprehensive",
        criteria=valid_criteria(),
        doc_issue_start=NOW,
        doc_issue_end=cst(2025, 3, 7, 17, 0),
        question_deadline=cst(2025, 3, 13, 17, 0),
        bid_deadline=cst(2025, 3, 23, 9, 30),
        lots=[valid_lot()],
        document_count=1,
        key_holder_orgs=(AGENCY, MONITORS, CENTRE),
        agency_org=AGENCY,
        key_threshold=2,
        opening_policy="quorum",
    )
    return dataclasses.replace(facts, **changes)


def codes(problems) -> list[str]:
    return [p.code for p in problems]


def only(problems, code: str):
    """The single problem with this code (fails if there is none or several)."""
    matching = [p for p in problems if p.code == code]
    assert len(matching) == 1, f"expected one {code!r} in {codes(problems)}"
    return matching[0]


# --- the baseline -----------------------------------------------------------------------------------------


def test_valid_facts_have_no_problems():
    assert check_publication(valid_facts(), NOW) == []


# --- days_between and end_of_day_cst ---------------------------------------------------------------------


def test_days_between_counts_calendar_dates_not_hours():
    assert days_between(cst(2025, 3, 3, 23, 59), cst(2025, 3, 4, 0, 1)) == 1
    assert days_between(cst(2025, 3, 3, 0, 0), cst(2025, 3, 3, 23, 59)) == 0
    assert days_between(cst(2025, 3, 3, 9, 0), cst(2025, 3, 23, 9, 0)) == 20


def test_days_between_uses_cst_dates_for_utc_times():
    # 17:00 UTC is 01:00 CST the next day: on UTC dates these are 1 day apart, on CST dates 0.
    assert days_between(utc(2025, 3, 3, 17, 0), cst(2025, 3, 4, 9, 0)) == 0
    # 15:59 UTC is still 23:59 CST on the same date.
    assert days_between(utc(2025, 3, 3, 15, 59), cst(2025, 3, 4, 9, 0)) == 1


def test_days_between_treats_naive_datetimes_as_utc():
    assert days_between(datetime(2025, 3, 3, 17, 0), cst(2025, 3, 4, 9, 0)) == 0


def test_end_of_day_cst_is_last_second_of_the_cst_date():
    assert end_of_day_cst(cst(2025, 3, 3, 0, 0)) == cst(2025, 3, 3, 23, 59, 59, 999999)
    # 17:00 UTC on 03-03 is already 03-04 in CST.
    assert end_of_day_cst(utc(2025, 3, 3, 17, 0)) == cst(2025, 3, 4, 23, 59, 59, 999999)
    assert end_of_day_cst(utc(2025, 3, 3, 17, 0)).tzinfo == UTC


# --- L24: at least 20 days from issue of documents to the bid deadline -----------------------------------


def test_l24_19_days_is_refused():
    problems = check_timeline(valid_facts(bid_deadline=cst(2025, 3, 22, 9, 30)), NOW)
    p = only(problems, "deadline_too_soon")
    assert (p.field, p.rule) == ("bid_deadline", "L24")
    assert p.params["days"] == 19
    assert p.params["earliest"] == "2025-03-23"


def test_l24_20_days_is_accepted():
    assert check_timeline(valid_facts(bid_deadline=cst(2025, 3, 23, 9, 30)), NOW) == []


def test_l24_counts_dates_so_early_morning_of_day_20_is_enough():
    assert check_timeline(valid_facts(bid_deadline=cst(2025, 3, 23, 0, 0, 1)), NOW) == []


def test_l24_late_evening_of_day_19_is_not_enough():
    assert "deadline_too_soon" in codes(
        check_timeline(valid_facts(bid_deadline=cst(2025, 3, 22, 23, 59, 59, 999999)), NOW)
    )


def test_l24_counts_on_cst_dates_when_issue_starts_17_00_utc():
    # Issue starts 2025-03-03 17:00 UTC = 03-04 01:00 CST. Deadline 03-23 09:00 CST (= 01:00 UTC 03-23).
    # On UTC dates that is 20 days; on CST dates only 19, which the law uses.
    start = utc(2025, 3, 3, 17, 0)
    now = utc(2025, 3, 3, 9, 0)
    facts = valid_facts(
        doc_issue_start=start,
        doc_issue_end=cst(2025, 3, 10, 17, 0),
        question_deadline=None,
        bid_deadline=cst(2025, 3, 23, 9, 0),
    )
    p = only(check_timeline(facts, now), "deadline_too_soon")
    assert p.params["days"] == 19
    assert p.params["earliest"] == "2025-03-24"


def test_l24_issue_start_15_59_utc_is_still_the_same_cst_date():
    start = utc(2025, 3, 3, 15, 59)  # 23:59 CST on 03-03
    now = utc(2025, 3, 3, 9, 0)
    facts = valid_facts(
        doc_issue_start=start,
        doc_issue_end=cst(2025, 3, 10, 17, 0),
        question_deadline=None,
        bid_deadline=cst(2025, 3, 23, 9, 0),
    )
    assert check_timeline(facts, now) == []


def test_l24_counts_from_now_when_the_issue_start_is_in_the_past():
    # Documents "issued" from 03-01 but the notice goes out only now (03-03): 03-03 + 19 days is too soon.
    facts = valid_facts(doc_issue_start=cst(2025, 3, 1, 9, 0), bid_deadline=cst(2025, 3, 22, 9, 30))
    p = only(check_timeline(facts, NOW), "deadline_too_soon")
    assert p.params["days"] == 19


def test_deadline_in_the_past_is_refused():
    facts = valid_facts(
        doc_issue_start=cst(2025, 2, 1),
        doc_issue_end=cst(2025, 2, 10),
        question_deadline=None,
        bid_deadline=NOW - ONE_SECOND,
    )
    p = only(check_timeline(facts, NOW), "deadline_past")
    assert p.field == "bid_deadline"


def test_deadline_exactly_now_is_in_the_past():
    assert "deadline_past" in codes(check_timeline(valid_facts(bid_deadline=NOW), NOW))


@pytest.mark.parametrize(
    ("change", "code", "field", "rule"),
    [
        ({"doc_issue_start": None}, "issue_start_missing", "doc_issue_start", None),
        ({"doc_issue_end": None}, "issue_end_missing", "doc_issue_end", None),
        ({"bid_deadline": None}, "deadline_missing", "bid_deadline", "L34"),
    ],
)
def test_missing_dates_are_reported(change, code, field, rule):
    problems = check_timeline(valid_facts(**change), NOW)
    assert [(p.code, p.field, p.rule) for p in problems] == [(code, field, rule)]


def test_all_missing_dates_are_reported_together():
    problems = check_timeline(valid_facts(doc_issue_start=None, doc_issue_end=None, bid_deadline=None), NOW)
    assert codes(problems) == ["issue_start_missing", "issue_end_missing", "deadline_missing"]


# --- R16: documents available at least 5 days (inclusive) ---------------------------------------------------


def test_r16_four_days_is_refused():
    problems = check_timeline(valid_facts(doc_issue_end=cst(2025, 3, 6, 17, 0)), NOW)  # 03-03..03-06
    p = only(problems, "issue_period_too_short")
    assert (p.field, p.rule) == ("doc_issue_end", "R16")
    assert p.params == {"days": 4, "earliest": "2025-03-07"}


def test_r16_five_days_is_accepted():
    assert check_timeline(valid_facts(doc_issue_end=cst(2025, 3, 7, 0, 0)), NOW) == []  # 03-03..03-07


def test_r16_one_day_period_gives_one_day():
    p = only(check_timeline(valid_facts(doc_issue_end=cst(2025, 3, 3, 18, 0)), NOW), "issue_period_too_short")
    assert p.params["days"] == 1


def test_r16_counts_end_on_cst_date():
    # 2025-03-06 16:00 UTC is 03-07 00:00 CST: the 5th day.
    assert check_timeline(valid_facts(doc_issue_end=utc(2025, 3, 6, 16, 0)), NOW) == []
    # One minute earlier is 03-06 23:59 CST: only 4 days.
    assert "issue_period_too_short" in codes(
        check_timeline(valid_facts(doc_issue_end=utc(2025, 3, 6, 15, 59)), NOW)
    )


def test_r16_counts_from_now_when_issue_started_earlier():
    # Start 02-27 but publication now (03-03): the period 03-03..03-06 is only 4 days.
    facts = valid_facts(doc_issue_start=cst(2025, 2, 27, 9, 0), doc_issue_end=cst(2025, 3, 6, 17, 0))
    p = only(check_timeline(facts, NOW), "issue_period_too_short")
    assert p.params["days"] == 4


def test_issue_period_ending_before_it_starts():
    facts = valid_facts(doc_issue_start=cst(2025, 3, 10), doc_issue_end=cst(2025, 3, 9))
    problems = check_timeline(facts, NOW)
    assert only(problems, "issue_end_before_start").field == "doc_issue_end"
    assert "issue_period_too_short" not in codes(problems)


def test_issue_period_ending_after_deadline():
    facts = valid_facts(doc_issue_end=cst(2025, 3, 23, 9, 30) + ONE_SECOND)
    assert only(check_timeline(facts, NOW), "issue_end_after_deadline").field == "doc_issue_end"


def test_issue_period_may_end_at_the_deadline():
    assert check_timeline(valid_facts(doc_issue_end=cst(2025, 3, 23, 9, 30)), NOW) == []


@pytest.mark.parametrize(
    "question_deadline",
    [NOW - ONE_SECOND, cst(2025, 3, 23, 9, 30) + ONE_SECOND],
    ids=["before_issue", "after_bid_deadline"],
)
def test_question_deadline_outside_the_period(question_deadline):
    problems = check_timeline(valid_facts(question_deadline=question_deadline), NOW)
    assert only(problems, "question_deadline_outside").field == "question_deadline"


@pytest.mark.parametrize(
    "question_deadline", [None, NOW, cst(2025, 3, 23, 9, 30)], ids=["none", "at_issue", "at_deadline"]
)
def test_question_deadline_inside_or_absent(question_deadline):
    assert check_timeline(valid_facts(question_deadline=question_deadline), NOW) == []


# --- R21: clarifications affecting bids, 15 days ------------------------------------------------------------

DEADLINE = cst(2025, 4, 20, 9, 30)


def test_r21_clarification_15_days_before_changes_nothing():
    assert extended_deadline(DEADLINE, DEADLINE - timedelta(days=15), affects_bids=True) == DEADLINE


def test_r21_clarification_15_days_before_late_in_the_day_changes_nothing():
    assert extended_deadline(DEADLINE, cst(2025, 4, 5, 23, 59), affects_bids=True) == DEADLINE


def test_r21_clarification_14_days_before_moves_the_deadline_one_day_same_time():
    new = extended_deadline(DEADLINE, DEADLINE - timedelta(days=14), affects_bids=True)
    assert new == cst(2025, 4, 21, 9, 30)
    assert to_cst(new).time() == to_cst(DEADLINE).time()


def test_r21_clarification_3_days_before_moves_deadline_so_15_days_remain():
    issued = cst(2025, 4, 17, 15, 0)
    new = extended_deadline(DEADLINE, issued, affects_bids=True)
    assert new == cst(2025, 5, 2, 9, 30)
    assert days_between(issued, new) == 15


def test_r21_clarification_not_affecting_bids_changes_nothing():
    assert extended_deadline(DEADLINE, DEADLINE - timedelta(days=1), affects_bids=False) == DEADLINE


def test_r21_counts_on_cst_dates():
    # 2025-04-05 17:00 UTC is 04-06 01:00 CST: 14 days before 04-20 in CST (15 on UTC dates).
    assert extended_deadline(DEADLINE, utc(2025, 4, 5, 17, 0), affects_bids=True) == cst(2025, 4, 21, 9, 30)
    # 15:59 UTC is still 04-05 in CST: 15 days, nothing changes.
    assert extended_deadline(DEADLINE, utc(2025, 4, 5, 15, 59), affects_bids=True) == DEADLINE


moments = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)


@given(deadline=moments, lead=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40)))
def test_r21_property_at_least_15_days_remain_and_time_of_day_kept(deadline, lead):
    issued = deadline - lead
    new = extended_deadline(deadline, issued, affects_bids=True)
    assert new >= deadline
    assert days_between(issued, new) >= 15
    assert to_cst(new).time() == to_cst(deadline).time()
    if new != deadline:
        assert days_between(issued, new) == 15  # moved no further than needed


# --- R22: objections 10 days before the deadline, answered within 3 days ------------------------------------


def test_r22_objection_deadline_is_end_of_cst_day_10_days_before():
    assert objection_deadline(DEADLINE) == cst(2025, 4, 10, 23, 59, 59, 999999)


def test_r22_objection_deadline_uses_the_cst_date_of_the_bid_deadline():
    # 2025-04-19 17:00 UTC is 04-20 01:00 CST: the deadline's date is 04-20, not 04-19.
    assert objection_deadline(utc(2025, 4, 19, 17, 0)) == cst(2025, 4, 10, 23, 59, 59, 999999)
    assert objection_deadline(utc(2025, 4, 19, 15, 0)) == cst(2025, 4, 9, 23, 59, 59, 999999)


def test_r22_objection_allowed_until_the_last_second_and_not_after():
    last = cst(2025, 4, 10, 23, 59, 59, 999999)
    assert objection_allowed(cst(2025, 4, 1, 9, 0), DEADLINE)
    assert objection_allowed(last, DEADLINE)
    assert not objection_allowed(last + ONE_SECOND, DEADLINE)
    assert not objection_allowed(cst(2025, 4, 11, 9, 0), DEADLINE)


def test_r22_objection_allowed_compares_utc_and_cst_moments():
    # 2025-04-10 15:59:59 UTC = 23:59:59 CST on 04-10 (allowed); 16:00 UTC = 04-11 00:00 CST (too late).
    assert objection_allowed(utc(2025, 4, 10, 15, 59, 59), DEADLINE)
    assert not objection_allowed(utc(2025, 4, 10, 16, 0, 0), DEADLINE)


def test_r22_objection_allowed_during_the_whole_last_second():
    assert objection_allowed(cst(2025, 4, 10, 23, 59, 59) + timedelta(microseconds=500_000), DEADLINE)


def test_r22_answer_due_end_of_cst_day_3_days_after():
    assert objection_answer_due(cst(2025, 4, 1, 10, 0)) == cst(2025, 4, 4, 23, 59, 59, 999999)
    assert objection_answer_due(cst(2025, 4, 1, 0, 0)) == cst(2025, 4, 4, 23, 59, 59, 999999)
    assert objection_answer_due(cst(2025, 4, 1, 23, 59)) == cst(2025, 4, 4, 23, 59, 59, 999999)


def test_r22_answer_due_counts_from_the_cst_date_of_a_utc_time():
    # 2025-04-01 17:00 UTC is 04-02 01:00 CST: due at the end of 04-05 CST.
    assert objection_answer_due(utc(2025, 4, 1, 17, 0)) == cst(2025, 4, 5, 23, 59, 59, 999999)


# --- lots: R26 bid security, R27 ceiling, estimate ---------------------------------------------------------


def test_r26_security_exactly_2_percent_is_accepted():
    assert check_lot(valid_lot(estimated_price=1_000_000_00, bid_security=20_000_00), "lots.0.") == []


def test_r26_security_one_fen_over_2_percent_is_refused():
    problems = check_lot(valid_lot(estimated_price=1_000_000_00, bid_security=20_000_01), "lots.0.")
    p = only(problems, "security_over_2_percent")
    assert (p.field, p.rule) == ("lots.0.bid_security", "R26")
    assert p.params["limit"] == "20,000.00"
    assert p.params["number"] == 1


def test_r26_uneven_estimate_rounds_the_limit_down():
    # 2% of 123.45 yuan is 2.469 yuan: 2.46 is allowed, 2.47 is more than 2%.
    assert check_lot(valid_lot(estimated_price=12345, price_ceiling=12345, bid_security=246), "") == []
    assert codes(check_lot(valid_lot(estimated_price=12345, price_ceiling=12345, bid_security=247), "")) == [
        "security_over_2_percent"
    ]


@pytest.mark.parametrize("security", [None, 0])
def test_r26_no_security_is_fine(security):
    assert check_lot(valid_lot(bid_security=security), "lots.0.") == []


def test_ceiling_below_estimate_is_refused():
    problems = check_lot(valid_lot(estimated_price=1_000_000_00, price_ceiling=1_000_000_00 - 1), "lots.0.")
    p = only(problems, "ceiling_below_estimate")
    assert p.field == "lots.0.price_ceiling"


def test_ceiling_equal_to_estimate_is_accepted():
    assert check_lot(valid_lot(estimated_price=1_000_000_00, price_ceiling=1_000_000_00), "lots.0.") == []


@pytest.mark.parametrize("ceiling", [None, 0])
def test_r27_missing_ceiling_is_refused(ceiling):
    problems = check_lot(valid_lot(price_ceiling=ceiling), "lots.0.")
    assert [(p.code, p.field, p.rule) for p in problems] == [
        ("ceiling_missing", "lots.0.price_ceiling", "R27")
    ]


@pytest.mark.parametrize("estimate", [None, 0])
def test_missing_estimate_is_refused_and_security_not_checked(estimate):
    problems = check_lot(valid_lot(estimated_price=estimate, bid_security=10**12), "lots.0.")
    assert [(p.code, p.field) for p in problems] == [("estimate_missing", "lots.0.estimated_price")]


def test_negative_estimate_is_refused():
    assert "estimate_missing" in codes(
        check_lot(valid_lot(estimated_price=-100, price_ceiling=100, bid_security=None), "")
    )


@pytest.mark.parametrize("name", ["", "   "])
def test_lot_name_missing(name):
    assert [(p.code, p.field) for p in check_lot(valid_lot(name=name), "lots.2.")] == [
        ("lot_name_missing", "lots.2.name")
    ]


def test_publication_names_each_lot_by_its_index():
    facts = valid_facts(lots=[valid_lot(), valid_lot(number=2, bid_security=20_000_01)])
    p = only(check_publication(facts, NOW), "security_over_2_percent")
    assert (p.field, p.params["number"]) == ("lots.1.bid_security", 2)


def test_publication_needs_a_lot():
    p = only(check_publication(valid_facts(lots=[]), NOW), "lots_missing")
    assert p.field == "lots"


# --- check_criteria -----------------------------------------------------------------------------------------


def test_comprehensive_valid_criteria():
    assert check_criteria("comprehensive", valid_criteria(), "goods", True) == []


def test_unknown_method():
    problems = check_criteria("coin_toss", valid_criteria(), "goods", True)
    assert [(p.code, p.field) for p in problems] == [("method_unknown", "evaluation_method")]


@pytest.mark.parametrize("price_points", [39, 41])
def test_points_must_add_to_100(price_points):
    problems = check_criteria("comprehensive", valid_criteria(price={"points": price_points}), "goods", True)
    p = only(problems, "points_not_100")
    assert (p.field, p.rule) == ("criteria.factors", "P35")
    assert p.params["total"] == str(price_points + 60)


def test_fractional_points_adding_to_100_are_accepted():
    criteria = valid_criteria(
        price={"points": 40},
        factors=[
            {"name": "Technical", "points": 33.5, "kind": "subjective"},
            {"name": "Service", "points": 26.5, "kind": "objective"},
        ],
    )
    assert check_criteria("comprehensive", criteria, "goods", True) == []


@pytest.mark.parametrize("price", [None, {}, {"points": 0}, {"points": -5}, {"points": "40"}])
def test_price_points_missing(price):
    criteria = valid_criteria(price=price)
    assert codes(check_criteria("comprehensive", criteria, "goods", True)) == ["price_points_missing"]


def _with_price(points: int) -> dict:
    return valid_criteria(
        price={"points": points},
        factors=[{"name": "Technical", "points": 100 - points, "kind": "subjective"}],
    )


def test_g87_goods_price_29_points_refused_in_government_procurement():
    p = only(check_criteria("comprehensive", _with_price(29), "goods", True), "price_share_too_low")
    assert (p.field, p.rule) == ("criteria.price.points", "G87-55")
    assert p.params == {"category": "goods", "minimum": 30}


def test_g87_goods_price_30_points_accepted():
    assert check_criteria("comprehensive", _with_price(30), "goods", True) == []


def test_g87_services_price_9_points_refused_10_accepted():
    p = only(check_criteria("comprehensive", _with_price(9), "services", True), "price_share_too_low")
    assert p.params == {"category": "services", "minimum": 10}
    assert check_criteria("comprehensive", _with_price(10), "services", True) == []


def test_g87_services_minimum_is_not_the_goods_minimum():
    assert check_criteria("comprehensive", _with_price(29), "services", True) == []


@pytest.mark.parametrize("category", ["goods", "services"])
def test_g87_does_not_apply_outside_government_procurement(category):
    assert check_criteria("comprehensive", _with_price(5), category, False) == []


def test_g87_does_not_apply_to_works():
    assert check_criteria("comprehensive", _with_price(5), "works", True) == []


def test_g87_applies_to_average_benchmark_too():
    criteria = dict(_with_price(29), benchmark={"e1": 1, "e2": 0.5})
    assert codes(check_criteria("average_benchmark", criteria, "goods", True)) == ["price_share_too_low"]


def test_lowest_price_without_factors_is_valid():
    criteria = {"qualification": ["Business licence"], "factors": []}
    assert check_criteria("lowest_price", criteria, "goods", True) == []


def test_lowest_price_refuses_scoring_factors():
    problems = check_criteria("lowest_price", valid_criteria(), "goods", True)
    p = only(problems, "lowest_price_with_factors")
    assert (p.field, p.rule) == ("criteria.factors", "P30")
    assert codes(problems) == ["lowest_price_with_factors"]


def test_average_benchmark_valid():
    criteria = valid_criteria(benchmark={"e1": 1, "e2": 0.5})
    assert check_criteria("average_benchmark", criteria, "goods", True) == []


@pytest.mark.parametrize(
    ("benchmark", "missing"),
    [
        (None, ["e1", "e2"]),
        ({}, ["e1", "e2"]),
        ({"e1": 1}, ["e2"]),
        ({"e2": 1}, ["e1"]),
        ({"e1": 0, "e2": 1}, ["e1"]),
        ({"e1": 1, "e2": -0.5}, ["e2"]),
        ({"e1": "1", "e2": 1}, ["e1"]),
    ],
)
def test_average_benchmark_needs_e1_and_e2(benchmark, missing):
    problems = check_criteria("average_benchmark", valid_criteria(benchmark=benchmark), "goods", True)
    assert [p.field for p in problems] == [f"criteria.benchmark.{k}" for k in missing]
    assert {p.code for p in problems} == {"benchmark_coefficient_missing"}
    assert [p.params["name"] for p in problems] == [k.upper() for k in missing]


def test_comprehensive_ignores_benchmark():
    assert check_criteria("comprehensive", valid_criteria(benchmark=None), "goods", True) == []


@pytest.mark.parametrize("method", ["lowest_price", "comprehensive", "average_benchmark"])
@pytest.mark.parametrize("qualification", [None, []])
def test_qualification_missing(method, qualification):
    criteria = valid_criteria(qualification=qualification, benchmark={"e1": 1, "e2": 1})
    if method == "lowest_price":
        criteria["factors"] = []
    p = only(check_criteria(method, criteria, "goods", True), "qualification_missing")
    assert (p.field, p.rule) == ("criteria.qualification", "R18")


def test_qualification_repeated_as_factor_is_refused():
    criteria = valid_criteria(
        factors=[
            {"name": "Technical proposal", "points": 40, "kind": "subjective"},
            {"name": " Business licence ", "points": 20, "kind": "objective"},
        ]
    )
    problems = check_criteria("comprehensive", criteria, "goods", True)
    p = only(problems, "qualification_as_factor")
    assert (p.field, p.rule) == ("criteria.factors.1.name", "G87-55")
    assert p.params["n"] == 2


@pytest.mark.parametrize(
    ("factor", "code", "field"),
    [
        ({"name": "", "points": 20, "kind": "objective"}, "factor_name_missing", "criteria.factors.1.name"),
        ({"points": 20, "kind": "objective"}, "factor_name_missing", "criteria.factors.1.name"),
        (
            {"name": "Service", "points": 0, "kind": "objective"},
            "factor_points_invalid",
            "criteria.factors.1.points",
        ),
        (
            {"name": "Service", "points": "20", "kind": "objective"},
            "factor_points_invalid",
            "criteria.factors.1.points",
        ),
        ({"name": "Service", "kind": "objective"}, "factor_points_invalid", "criteria.factors.1.points"),
        (
            {"name": "Service", "points": 20, "kind": "mixed"},
            "factor_kind_invalid",
            "criteria.factors.1.kind",
        ),
        ({"name": "Service", "points": 20}, "factor_kind_invalid", "criteria.factors.1.kind"),
    ],
)
def test_factor_problems(factor, code, field):
    criteria = valid_criteria(
        factors=[{"name": "Technical proposal", "points": 40, "kind": "subjective"}, factor]
    )
    p = only(check_criteria("comprehensive", criteria, "goods", True), code)
    assert p.field == field
    assert p.params["n"] == 2


# --- key holders --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("orgs", "threshold"),
    [
        ((AGENCY, MONITORS), 2),
        ((AGENCY, MONITORS, CENTRE), 2),
        ((AGENCY, MONITORS, CENTRE), 3),
        ((MONITORS, CENTRE), 2),  # the agency need not hold a key at all
        ((AGENCY, AGENCY, MONITORS, CENTRE), 3),  # two agency officers, but 3 are needed
        ((AGENCY, MONITORS, None), 2),  # a holder without an organisation still counts as a holder
    ],
)
@pytest.mark.parametrize("policy", ["quorum", "quorum+bidder"])
def test_key_holders_valid(orgs, threshold, policy):
    assert check_key_holders(orgs, AGENCY, threshold, policy) == []


def test_key_holders_missing():
    assert [(p.code, p.field) for p in check_key_holders((), AGENCY, 2, "quorum")] == [
        ("key_holders_missing", "key_holder_ids")
    ]


@pytest.mark.parametrize("threshold", [1, 0, -1])
def test_one_key_holder_can_never_be_enough(threshold):
    """policy: k >= 2, whoever the holders are."""
    problems = check_key_holders((AGENCY, MONITORS, CENTRE), AGENCY, threshold, "quorum")
    assert [(p.code, p.field, p.rule) for p in problems] == [("threshold_too_low", "key_threshold", None)]
    assert problems[0].params == {"minimum": 2}


def test_threshold_above_the_holders_named():
    problems = check_key_holders((AGENCY, MONITORS, CENTRE), AGENCY, 4, "quorum")
    assert [(p.code, p.field) for p in problems] == [("threshold_invalid", "key_threshold")]
    assert problems[0].params == {"threshold": 4, "count": 3}


@pytest.mark.parametrize(
    "orgs", [(AGENCY,), (AGENCY, AGENCY, AGENCY), (CENTRE, CENTRE), (AGENCY, None), (None, None)]
)
def test_key_holders_from_one_organisation_are_refused(orgs):
    """policy: the holders span at least two organisations; the message names who to add."""
    problems = check_key_holders(orgs, AGENCY, 2, "quorum")
    assert "key_holders_one_organisation" in [p.code for p in problems]
    p = next(p for p in problems if p.code == "key_holders_one_organisation")
    assert p.field == "key_holder_ids" and "another organisation" in p.message


def test_the_agency_alone_as_only_holder_with_k_1_is_refused_twice_over():
    """The case found in issue 12: the agency names itself only, and k = 1."""
    codes_ = sorted(p.code for p in check_key_holders((AGENCY,), AGENCY, 1, "quorum"))
    assert codes_ == ["key_holders_one_organisation", "threshold_too_low"]


@pytest.mark.parametrize(
    ("orgs", "threshold", "agency", "k"),
    [
        ((AGENCY, AGENCY, MONITORS), 2, 2, 2),
        ((AGENCY, AGENCY, AGENCY, MONITORS, CENTRE), 3, 3, 3),
        ((AGENCY, AGENCY, MONITORS, CENTRE), 1, 2, 2),  # k = 1 is refused, and 2 would still be the agency's
    ],
)
def test_the_agency_alone_may_not_reach_the_quorum(orgs, threshold, agency, k):
    """policy: fewer than k holders from the tender's agency."""
    p = only(check_key_holders(orgs, AGENCY, threshold, "quorum"), "agency_holds_quorum")
    assert p.field == "key_holder_ids"
    assert p.params == {"agency": agency, "k": k}
    assert "%(" not in p.message % p.params


def test_only_the_tenders_own_agency_counts_as_the_agency():
    assert check_key_holders((AGENCY, AGENCY, MONITORS), MONITORS + 1000, 2, "quorum") == []


@pytest.mark.parametrize("policy", ["", "bidder", "QUORUM"])
def test_opening_policy_invalid(policy):
    assert [(p.code, p.field) for p in check_key_holders((AGENCY, MONITORS, CENTRE), AGENCY, 2, policy)] == [
        ("policy_invalid", "opening_policy")
    ]


# --- documents_available (E20) ------------------------------------------------------------------------------

ISSUE_START = cst(2025, 3, 3, 9, 0)
ISSUE_END = cst(2025, 3, 7, 0, 0)  # the last day is 03-07, all of it


@pytest.mark.parametrize(
    ("now", "available"),
    [
        (ISSUE_START - ONE_SECOND, False),
        (ISSUE_START, True),
        (cst(2025, 3, 5, 12, 0), True),
        (cst(2025, 3, 7, 23, 59, 59, 999999), True),
        (cst(2025, 3, 8, 0, 0, 0), False),
        (utc(2025, 3, 7, 15, 59, 59), True),  # 23:59:59 CST on 03-07
        (utc(2025, 3, 7, 16, 0, 0), False),  # 00:00 CST on 03-08
    ],
)
def test_documents_available(now, available):
    assert documents_available(now, ISSUE_START, ISSUE_END) is available


@pytest.mark.parametrize(("start", "end"), [(None, ISSUE_END), (ISSUE_START, None), (None, None)])
def test_documents_not_available_without_period(start, end):
    assert documents_available(cst(2025, 3, 5, 12, 0), start, end) is False


# --- check_publication --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "code", "field", "rule"),
    [
        ({"title": "  "}, "title_missing", "title", None),
        ({"category": "consulting"}, "category_invalid", "category", None),
        ({"document_count": 0}, "documents_missing", "documents", None),
        ({"key_holder_orgs": ()}, "key_holders_missing", "key_holder_ids", None),
        ({"key_threshold": 1}, "threshold_too_low", "key_threshold", None),
        ({"key_holder_orgs": (AGENCY, AGENCY, MONITORS)}, "agency_holds_quorum", "key_holder_ids", None),
        ({"key_holder_orgs": (CENTRE, CENTRE)}, "key_holders_one_organisation", "key_holder_ids", None),
        ({"opening_policy": "anyone"}, "policy_invalid", "opening_policy", None),
        ({"bid_deadline": cst(2025, 3, 22, 9, 30)}, "deadline_too_soon", "bid_deadline", "L24"),
        ({"doc_issue_end": cst(2025, 3, 6, 9, 30)}, "issue_period_too_short", "doc_issue_end", "R16"),
        ({"lots": [valid_lot(price_ceiling=None)]}, "ceiling_missing", "lots.0.price_ceiling", "R27"),
        (
            {"lots": [valid_lot(bid_security=20_000_01)]},
            "security_over_2_percent",
            "lots.0.bid_security",
            "R26",
        ),
        (
            {"lots": [valid_lot(price_ceiling=999_999_99)]},
            "ceiling_below_estimate",
            "lots.0.price_ceiling",
            None,
        ),
        ({"criteria": _with_price(29)}, "price_share_too_low", "criteria.price.points", "G87-55"),
        ({"criteria": valid_criteria(price={"points": 50})}, "points_not_100", "criteria.factors", "P35"),
        ({"evaluation_method": "lowest_price"}, "lowest_price_with_factors", "criteria.factors", "P30"),
        (
            {"criteria": valid_criteria(qualification=[])},
            "qualification_missing",
            "criteria.qualification",
            "R18",
        ),
    ],
)
def test_publication_reports_one_problem_with_code_field_and_rule(change, code, field, rule):
    problems = check_publication(valid_facts(**change), NOW)
    assert [(p.code, p.field, p.rule) for p in problems] == [(code, field, rule)]
    assert problems[0].message  # a message id for the interface to translate


def test_publication_collects_every_problem():
    facts = valid_facts(
        title="",
        lots=[valid_lot(bid_security=20_000_01)],
        bid_deadline=cst(2025, 3, 22, 9, 30),
        document_count=0,
        key_holder_orgs=(),
    )
    assert sorted(codes(check_publication(facts, NOW))) == sorted(
        [
            "title_missing",
            "security_over_2_percent",
            "deadline_too_soon",
            "documents_missing",
            "key_holders_missing",
        ]
    )


def test_publication_problem_messages_format_with_their_params():
    facts = valid_facts(
        title="", lots=[valid_lot(bid_security=20_000_01)], bid_deadline=cst(2025, 3, 22, 9, 30)
    )
    for p in check_publication(facts, NOW):
        text = p.message % p.params if p.params else p.message
        assert "%(" not in text


# --- a monitor's resume with a new deadline (E52), checked like the publication -----------------------------


def test_a_published_timeline_counts_from_the_publication_not_from_now():
    later = NOW + timedelta(days=10)
    assert check_timeline(valid_facts(), later, published_at=NOW) == []
    assert "deadline_too_soon" in codes(check_timeline(valid_facts(), later))  # as if published today


def test_resume_l24_names_the_earliest_date_on_the_new_deadline_field():
    # published 03-03, documents until 03-07, deadline 03-23 09:30; resumed on 03-05 with 03-20
    p = only(
        check_resume(valid_facts(), cst(2025, 3, 20, 9, 30), cst(2025, 3, 5, 9, 0), NOW, []),
        "deadline_too_soon",
    )
    assert (p.rule, p.field, p.params) == ("L24", "new_deadline", {"days": 17, "earliest": "2025-03-23"})


def test_resume_ends_the_sale_and_the_questions_by_the_new_deadline():
    facts = valid_facts(
        doc_issue_end=cst(2025, 3, 30, 17, 0),
        question_deadline=cst(2025, 3, 28, 17, 0),
        bid_deadline=cst(2025, 4, 2, 9, 30),
    )
    new = cst(2025, 3, 25, 9, 30)
    resumed = resumed_timeline(facts, new)
    assert (resumed.bid_deadline, resumed.doc_issue_end, resumed.question_deadline) == (new, new, new)
    assert check_resume(facts, new, cst(2025, 3, 5, 9, 0), NOW, []) == []
    # a later deadline leaves both periods as they were
    later = resumed_timeline(facts, cst(2025, 4, 20, 9, 30))
    assert (later.doc_issue_end, later.question_deadline) == (facts.doc_issue_end, facts.question_deadline)


def test_resume_reports_the_deadline_not_the_sale_period_it_cut_short():
    # a deadline on 03-05 would leave 3 days of documents (R16) as well as break L24: only L24 is named
    problems = check_resume(valid_facts(), cst(2025, 3, 5, 12, 0), cst(2025, 3, 5, 11, 0), NOW, [])
    assert "issue_period_too_short" not in codes(problems) and "deadline_too_soon" in codes(problems)


def test_resume_15_days_after_a_clarification_that_can_affect_bids():
    # a deadline in force that a clarification of 03-12 should have pushed to 03-27 (as an unchecked resume
    # before this rule could leave it): moving it later is still held to the 15 days
    facts = valid_facts(bid_deadline=cst(2025, 3, 25, 9, 30))
    clarified, now = cst(2025, 3, 12, 15, 0), cst(2025, 3, 14, 9, 0)
    p = only(
        check_resume(facts, cst(2025, 3, 26, 9, 30), now, NOW, [clarified]), "deadline_too_soon_after_change"
    )
    assert (p.rule, p.field, p.params) == (
        "R21",
        "new_deadline",
        {"issued": "2025-03-12", "earliest": "2025-03-27"},
    )
    assert check_resume(facts, cst(2025, 3, 27, 9, 30), now, NOW, [clarified]) == []


def test_resume_bringing_the_deadline_forward_leaves_15_days():
    facts, now = valid_facts(bid_deadline=cst(2025, 4, 2, 9, 30)), cst(2025, 3, 20, 9, 0)
    p = only(check_resume(facts, cst(2025, 3, 30, 9, 30), now, NOW, []), "deadline_brought_forward")
    assert (p.rule, p.params) == ("R21", {"earliest": "2025-04-04"})
    assert (
        check_resume(facts, cst(2025, 4, 2, 9, 31), now, NOW, []) == []
    )  # later: bids were due later anyway


@given(
    lead=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40)),
    ahead=st.timedeltas(min_value=timedelta(hours=1), max_value=timedelta(days=40)),
    clarified=st.lists(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40)), max_size=3),
)
def test_resume_property_the_earliest_date_named_is_enough(lead, ahead, clarified):
    now = NOW + lead
    new = now + ahead
    changes = [NOW + c for c in clarified if NOW + c <= now]
    problems = check_resume(valid_facts(), new, now, NOW, changes)
    if not problems:
        assert days_between(NOW, new) >= 20  # L24
        assert objection_deadline(new) > NOW  # R22: never before the publication
        assert resumed_timeline(valid_facts(), new).doc_issue_end <= new  # the sale ends by the deadline
        return
    earliest = {p.params["earliest"] for p in problems if "earliest" in p.params}
    assert len(earliest) <= 1 and all(p.field == "new_deadline" for p in problems)
    if earliest:
        day = datetime.fromisoformat(earliest.pop()).date()
        assert day > to_cst(new).date()
        assert (
            check_resume(valid_facts(), datetime.combine(day, to_cst(new).timetz()), now, NOW, changes) == []
        )
