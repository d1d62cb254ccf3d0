"""The results' timings as pure functions (award.publicity.rules), at their boundaries: the publicity within
3 days of the report and for at least 3 days (R54), objections answered within 3 days (R54), the 10-day
complaint window (R60), 3 and 30 working days across the National Day holiday (R61), and the candidates taken
from the signed report, never retyped."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from award.publicity import rules
from core.clock import CST

UTC_MIDNIGHT_CST = timedelta(hours=8)


def cst(y: int, m: int, d: int, h: int = 10, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=CST)


def end(y: int, m: int, d: int) -> datetime:
    """The last instant of a CST day."""
    return datetime(y, m, d, 23, 59, 59, 999999, tzinfo=CST)


# ---------------------------------------------------------------- R54: publish within 3 days, for 3 days


def test_the_candidates_are_published_within_3_days_of_the_report():
    signed = cst(2026, 12, 7, 16)
    due = rules.publish_due(rules.Kind.candidates, signed)
    assert due == end(2026, 12, 10)
    assert cst(2026, 12, 10, 23, 59) <= due < cst(2026, 12, 11, 0, 0)


def test_the_publicity_lasts_at_least_3_days_whatever_the_hour():
    for hour in (0, 9, 23):
        assert rules.publicity_ends(rules.Kind.candidates, cst(2026, 12, 7, hour)) == end(2026, 12, 10)


def test_objections_are_open_during_the_publicity_only():
    published = cst(2026, 12, 7, 9)
    ends = rules.publicity_ends(rules.Kind.candidates, published)
    assert not rules.objection_open(published - timedelta(seconds=1), published, ends)
    assert rules.objection_open(published, published, ends)
    assert rules.objection_open(ends, published, ends)
    assert not rules.objection_open(ends + timedelta(microseconds=1), published, ends)


def test_an_objection_is_answered_within_3_days():
    assert rules.objection_answer_due(cst(2026, 12, 8, 23, 30)) == end(2026, 12, 11)
    assert rules.objection_answer_due(cst(2026, 12, 9, 0, 0)) == end(2026, 12, 12)


def test_no_award_before_the_end_nor_while_an_objection_is_open():
    ends = end(2026, 12, 10)
    assert not rules.award_may_follow(ends, ends, 0)
    assert rules.award_may_follow(ends + timedelta(microseconds=1), ends, 0)
    assert not rules.award_may_follow(ends + timedelta(days=5), ends, 1)


def test_the_government_procurement_result_notice_counts_working_days():
    # G87-69: within 2 working days, for 1 working day; signed on the eve of National Day 2026
    signed = cst(2026, 9, 30, 15)
    assert rules.publish_due(rules.Kind.result, signed) == datetime(2026, 10, 10, tzinfo=CST)  # Oct 8, 9
    assert rules.publicity_ends(rules.Kind.result, cst(2026, 10, 9, 9)) == datetime(2026, 10, 11, tzinfo=CST)


# ---------------------------------------------------------------- R60: 10 days of knowing the facts


def test_the_complaint_window_is_10_days_from_the_day_the_facts_were_known():
    known = date(2026, 12, 1)
    assert rules.complaint_deadline(known) == end(2026, 12, 11)
    assert rules.complaint_in_time(end(2026, 12, 11), known)
    assert not rules.complaint_in_time(cst(2026, 12, 12, 0, 0), known)
    assert rules.complaint_in_time(cst(2026, 12, 1, 8), known)


@pytest.mark.parametrize(
    ("matter", "rule"),
    [
        (rules.Matter.documents, "R22"),
        (rules.Matter.opening, "R44"),
        (rules.Matter.result, "R54"),
        (rules.Matter.other, None),
    ],
)
def test_an_objection_comes_first_on_r22_r44_and_r54_matters(matter, rule):
    assert rules.objection_needed(matter) == rule


# ---------------------------------------------------------------- R61: 3 and 30 working days (core.workdays)


def test_acceptance_within_3_working_days_across_national_day():
    # received Monday 28 September 2026: 29, 30 September, then 1-7 October are holidays: 8 October
    due = rules.acceptance_due(cst(2026, 9, 28, 10))
    assert due == datetime(2026, 10, 9, tzinfo=CST)
    # on an ordinary week: Tuesday -> Friday
    assert rules.acceptance_due(cst(2026, 12, 8, 10)) == datetime(2026, 12, 12, tzinfo=CST)


def test_the_decision_within_30_working_days_across_national_day():
    # accepted 30 September 2026: 8, 9, 10 (the Saturday made a working day) October ... 17 November
    assert rules.decision_due(cst(2026, 9, 30, 10)) == datetime(2026, 11, 18, tzinfo=CST)


def test_overdue_only_when_the_deadline_passed_with_nothing_done():
    due = end(2026, 12, 10)
    assert not rules.overdue(due, due, None)
    assert rules.overdue(due + timedelta(microseconds=1), due, None)
    assert not rules.overdue(due + timedelta(days=1), due, due)
    assert not rules.overdue(due + timedelta(days=1), None, None)


# ---------------------------------------------------------------- the candidates from the report


DOC = {
    "candidates": [11, 12, 13],
    "ranking": {
        "ranking": [
            {"rank": 1, "bid": 11, "total": "90.50", "price_fen": 100, "evaluated_price_fen": 100},
            {"rank": 2, "bid": 12, "total": "89.50", "price_fen": 101, "evaluated_price_fen": 101},
            {"rank": 3, "bid": 13, "total": "88.50", "price_fen": 102, "evaluated_price_fen": 102},
            {"rank": 4, "bid": 14, "total": "87.50", "price_fen": 103, "evaluated_price_fen": 103},
        ]
    },
    "bidders": [{"opened_bid": b, "bid": b + 100, "bidder": f"B{b}", "lot": 1} for b in (11, 12, 13, 14)],
    "tender": {"criteria": {"qualification": ["营业执照", "安全生产许可证"]}},
    "sections": {
        "review": {
            "bids": [
                {
                    "opened_bid": 11,
                    "criteria": [
                        {"criterion": "营业执照", "kind": "qualification", "outcome": "pass"},
                        {"criterion": "技术响应", "kind": "compliance", "outcome": "pass"},
                    ],
                }
            ]
        }
    },
}


def test_the_candidates_are_the_reports_in_its_order():
    assert rules.candidate_ids(DOC) == [11, 12, 13]


def test_a_dropped_candidate_is_replaced_by_the_next_in_the_ranking():
    assert rules.candidate_ids(DOC, {11}) == [12, 13, 14]
    assert rules.candidate_ids(DOC, {11, 12}) == [13, 14]
    assert rules.candidate_ids(DOC, {11, 12, 13, 14}) == []


def test_the_snapshot_shows_what_the_bid_holds_and_invents_nothing():
    forms = {11: {"total_price_fen": 100, "duration_days": 90, "quality_commitment": "合格"}}
    names = {11: (111, 7, "甲公司"), 12: (112, 8, "乙公司")}
    rows = rules.snapshot(DOC, forms, names)
    first, second = rows[0], rows[1]
    assert (first["rank"], first["name"], first["price_fen"], first["duration_days"]) == (
        1,
        "甲公司",
        100,
        90,
    )
    assert first["quality"] == "合格" and first["project_manager"] == "" and first["certificate"] == ""
    assert first["qualifications"] == [{"criterion": "营业执照", "outcome": "pass"}]  # the review's verdicts
    # no review verdicts kept for this bid: the tender's conditions, passed (it is a candidate)
    assert [q["criterion"] for q in second["qualifications"]] == ["营业执照", "安全生产许可证"]
    assert second["price_fen"] == 101 and second["duration_days"] is None  # the ranking's price; no form
    assert [r["name"] for r in rows] == ["甲公司", "乙公司", "B13"]
