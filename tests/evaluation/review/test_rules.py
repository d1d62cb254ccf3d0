"""The review's pure rules: the criteria, what a verdict needs, the majority with the minority's dissent, ties
and missing verdicts that stop the closing, void verdicts, the abnormally low prices per lot, the request's
deadline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from evaluation.review import rules
from evaluation.review.rules import Verdict

Q0, Q1 = rules.Criterion("qualification", 0, "Licence"), rules.Criterion("qualification", 1, "No penalty")
C0 = rules.Criterion("compliance", 0, rules.DEFAULT_COMPLIANCE)
CRITS = [Q0, Q1, C0]
SEATS = (11, 12, 13, 14, 15)


def test_criteria_are_the_qualification_then_the_compliance_list_with_a_default_compliance_item():
    assert rules.criteria(["Licence", "No penalty"], []) == CRITS
    assert rules.criteria([], ["Validity 90 days"]) == [rules.Criterion("compliance", 0, "Validity 90 days")]


def test_a_fail_needs_its_ground_and_a_reason():
    assert rules.verdict_problems(True, "", "", low_price_unexplained=True) == []
    codes = [c for c, _, _ in rules.verdict_problems(False, "", "  ", low_price_unexplained=False)]
    assert codes == ["review_ground_missing", "review_reason_missing"]
    codes = [c for c, _, _ in rules.verdict_problems(False, "made_up", "x", low_price_unexplained=False)]
    assert codes == ["review_ground_missing"]
    assert rules.verdict_problems(False, "not_qualified", "No licence", low_price_unexplained=True) == []


def test_an_abnormally_low_price_is_a_ground_only_once_the_bidder_was_asked_and_answered_or_let_it_expire():
    refused = rules.verdict_problems(False, rules.ABNORMALLY_LOW, "Below cost", low_price_unexplained=True)
    assert [(c, f) for c, _, f in refused] == [("review_low_price_unexplained", "ground")]
    assert (
        rules.verdict_problems(False, rules.ABNORMALLY_LOW, "Below cost", low_price_unexplained=False) == []
    )


def _all(bid: int, passed: dict[int, bool], crit: rules.Criterion = Q0, reason: str = "r") -> list[Verdict]:
    return [
        Verdict(s, bid, crit.kind, crit.index, p, "" if p else "not_qualified", "" if p else f"{reason}{s}")
        for s, p in passed.items()
    ]


def _passing(bid: int, seats=SEATS, crits=CRITS) -> list[Verdict]:  # type: ignore[no-untyped-def]
    return [Verdict(s, bid, c.kind, c.index, True) for s in seats for c in crits]


def test_the_majority_decides_and_the_minority_is_dissent():
    # bid 1: 3 pass, 2 fail on Q0 -> valid, the two fails are dissent; bid 2: 4 fail on Q1 -> rejected
    v1 = [x for x in _passing(1) if x.key != (1, "qualification", 0)]
    v1 += _all(1, {11: True, 12: True, 13: True, 14: False, 15: False})
    v2 = [x for x in _passing(2) if x.key != (2, "qualification", 1)]
    v2 += [
        Verdict(11, 2, "qualification", 1, True, "", "Certificate is in annex 3"),
        Verdict(12, 2, "qualification", 1, False, "collusion_or_fraud", "Penalised in 2025"),
        Verdict(13, 2, "qualification", 1, False, "not_qualified", "Penalty record"),
        Verdict(14, 2, "qualification", 1, False, "not_qualified", "Penalty record found"),
        Verdict(15, 2, "qualification", 1, False, "not_qualified", "On the blacklist"),
    ]
    t = rules.tally([1, 2], CRITS, v1 + v2, SEATS)
    assert t.complete and not t.ties
    assert rules.close_problems(t, 0, 0) == []
    assert rules.outcome(t, [7]) == {
        "valid": [1],
        "rejected": [
            {
                "bid": 2,
                "criteria": [
                    {
                        "criterion": "No penalty",
                        "kind": "qualification",
                        "ground": "not_qualified",  # what most of the majority gave
                        "reasons": [
                            "Penalised in 2025",
                            "Penalty record",
                            "Penalty record found",
                            "On the blacklist",
                        ],
                        "for": 1,
                        "against": 4,
                    }
                ],
                "dissent": [{"seat": 11, "criterion": "No penalty", "reason": "Certificate is in annex 3"}],
            }
        ],
        "dissent": [
            {"bid": 1, "seat": 14, "criterion": "Licence", "reason": "r14"},
            {"bid": 1, "seat": 15, "criterion": "Licence", "reason": "r15"},
        ],
        "clarifications": [7],
    }


def test_a_tie_decides_nothing_and_stops_the_closing_until_a_member_changes():
    four = SEATS[:4]
    v = [x for x in _passing(1, four) if x.key != (1, "qualification", 0)]
    tied = v + _all(1, {11: True, 12: True, 13: False, 14: False})
    t = rules.tally([1], CRITS, tied, four)
    assert t.complete and t.ties == [(1, Q0)]
    assert t.decisions[(1, "qualification", 0)].outcome is None
    assert t.decisions[(1, "qualification", 0)].minority == ()
    assert [c for c, _, _ in rules.close_problems(t, 0, 0)] == ["review_tie"]
    changed = v + _all(1, {11: True, 12: True, 13: True, 14: False})
    assert rules.close_problems(rules.tally([1], CRITS, changed, four), 0, 0) == []


def test_missing_verdicts_and_pending_clarifications_stop_the_closing():
    v = [x for x in _passing(1) if not (x.seat == 15 and x.kind == "compliance")]
    t = rules.tally([1], CRITS, v, SEATS)
    assert t.missing == {11: 0, 12: 0, 13: 0, 14: 0, 15: 1} and not t.complete
    problems = rules.close_problems(t, 1, 2)
    assert [c for c, _, _ in problems] == [
        "review_incomplete",
        "review_clarification_open",
        "review_answer_unassessed",
    ]
    assert problems[0][2] == {"n": 1}


def test_a_replaced_members_verdicts_are_void():
    # seat 15 left (its fails are kept, not counted); seat 16 took its place and passes everything
    v = _passing(1, (11, 12, 13, 14)) + [
        Verdict(15, 1, c.kind, c.index, False, "unsigned", "x") for c in CRITS
    ]
    v += _passing(1, (16,))
    present = (11, 12, 13, 14, 16)
    t = rules.tally([1], CRITS, v, present)
    assert rules.counted(v, present) == [x for x in v if x.seat != 15]
    assert t.complete and rules.outcome(t, [])["dissent"] == [] and rules.outcome(t, [])["valid"] == [1]
    # without the substitute's verdicts, the present members are not all done
    assert not rules.tally([1], CRITS, v[:-3], present).complete


def _bid(ob: int, lot: int, fen: int | None) -> dict:  # type: ignore[type-arg]
    return {"opened_bid": ob, "lot": lot, "price_form": {} if fen is None else {"total_price_fen": fen}}


def test_abnormally_low_prices_are_found_within_each_lot():
    bids = [_bid(1, 1, 100_000_00), _bid(2, 1, 100_000_00), _bid(3, 1, 50_000_00), _bid(4, 1, None)]
    bids += [_bid(5, 2, 50_000_00), _bid(6, 2, 52_000_00), _bid(7, 2, 51_000_00)]
    low = rules.low_prices(bids)
    assert list(low) == [
        3
    ]  # lot 2's prices are close to each other; the lot-1 bid without a price is skipped
    assert low[3].price_fen == 50_000_00 and str(low[3].percent) == "50.00"
    assert rules.low_prices(bids[:2]) == {}  # fewer than 3 prices: no yardstick


def test_a_request_needs_a_question_and_a_deadline_in_the_future_within_the_session():
    now = datetime(2026, 12, 4, 10, tzinfo=UTC)
    end = now + timedelta(hours=3)

    def codes(q: str, d: datetime | None) -> list[str]:
        return [c for c, *_ in rules.request_problems(q, d, now, end)]

    assert codes("Explain the unit price of item 3", now + timedelta(hours=1)) == []
    assert codes("", now - timedelta(minutes=1)) == ["clarify_question_missing", "clarify_deadline_past"]
    assert codes("q", now) == ["clarify_deadline_past"]
    assert codes("q", end + timedelta(minutes=1)) == ["clarify_deadline_after_session"]
    assert codes("q", None) == ["clarify_deadline_invalid"]
    assert codes("q" * (rules.QUESTION_MAX + 1), end) == ["clarify_question_long"]
    assert rules.request_state(False, now, now) == "expired"
    assert rules.request_state(False, end, now) == "open"
    assert rules.request_state(True, now - timedelta(hours=1), now) == "answered"


def test_every_ground_has_a_label_and_no_label_is_a_key():
    assert set(rules.GROUNDS) >= {"not_qualified", rules.ABNORMALLY_LOW, "no_substantive_response"}
    assert all(label and label not in rules.GROUNDS for label in rules.GROUNDS.values())
