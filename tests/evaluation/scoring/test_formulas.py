"""The evaluation's formulas (evaluation.scoring.formulas): worked examples, boundaries, properties, each
check firing and not firing, the ranking's tie-breaks and the tie lottery's seed."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import fairdraw
from evaluation.scoring import formulas as F
from tender.notices import Criteria, Factor

D = Decimal

# ---------------------------------------------------------------- rounding


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Fraction(2345, 1000), "2.35"),  # a half goes up
        (Fraction(-2345, 1000), "-2.35"),  # ... away from zero
        (Fraction(2344999, 1000000), "2.34"),
        (Fraction(1, 3), "0.33"),
        (Fraction(2, 3), "0.67"),
        (Fraction(5, 1000), "0.01"),
        (Fraction(4999, 1000000), "0.00"),
        (7, "7.00"),
    ],
)
def test_round2_rounds_halves_away_from_zero_exactly(value, shown):
    assert str(F.round2(value)) == shown


def test_exact_reads_a_float_by_its_decimal_form_and_refuses_what_is_not_a_finite_number():
    assert F.exact(0.1) == Fraction(1, 10)
    assert F.exact("7.25") == Fraction(29, 4)
    assert F.exact(D("1.10")) == Fraction(11, 10)
    for bad in (True, None, "x", float("nan"), float("inf"), D("Infinity"), "NaN", [1]):
        with pytest.raises(ValueError):
            F.exact(bad)


# ---------------------------------------------------------------- comprehensive: the low-price base


def test_low_price_base_worked_example():
    # G87 art. 55: base 80,000.00 yuan; 30 price points
    r = F.low_price_base({1: 10_000_000, 2: 12_500_000, 3: 8_000_000}, 30)
    assert r.base_fen == 8_000_000
    assert {b: s.score for b, s in r.scores.items()} == {1: D("24.00"), 2: D("19.20"), 3: D("30.00")}
    # exact until shown: 8,000,000 / 9,000,000 × 30 = 26.666...
    r = F.low_price_base({1: 8_000_000, 2: 9_000_000}, 30)
    assert r.scores[2].exact == Fraction(80, 3) and r.scores[2].score == D("26.67")


def test_low_price_base_refuses_bad_prices_and_points():
    for prices in ({}, {1: 0}, {1: -5}, {1: 1.5}, {-1: 100}, {True: 100}):
        with pytest.raises(ValueError):
            F.low_price_base(prices, 30)  # type: ignore[arg-type]
    for points in (0, -1, "x", float("nan")):
        with pytest.raises(ValueError):
            F.low_price_base({1: 100}, points)


prices_st = st.dictionaries(
    st.integers(min_value=0, max_value=10_000),
    st.integers(min_value=1, max_value=10**12),
    min_size=1,
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(prices_st, st.sampled_from([10, 30, 40, 60, 12.5]))
def test_the_lowest_price_scores_full_price_points_and_every_score_is_within_range(prices, points):
    r = F.low_price_base(prices, points)
    lowest = min(prices.values())
    for b, s in r.scores.items():
        assert 0 < s.exact <= F.exact(points)
        assert (s.exact == F.exact(points)) is (prices[b] == lowest)


# ---------------------------------------------------------------- the average benchmark


def test_average_benchmark_worked_example_with_trimming():
    # four prices (more than 3): the lowest (bid 3) and highest (bid 4) are dropped; benchmark = (100+110)/2
    r = F.average_benchmark({1: 100_00, 2: 110_00, 3: 90_00, 4: 120_00}, 40, 2, 1)
    assert r.benchmark_exact == 105_00 and r.benchmark_fen == D("10500.00")
    assert (r.trimmed_low, r.trimmed_high) == (3, 4)
    assert r.counted_ids == (1, 2)
    assert {b: d.percent for b, d in r.deviations.items()} == {
        1: D("-4.76"),
        2: D("4.76"),
        3: D("-14.29"),
        4: D("14.29"),
    }
    # 40 - 1 × 100/21 = 35.238..., 40 - 2 × 100/21 = 30.476..., 40 - 1 × 300/21, 40 - 2 × 300/21
    assert {b: s.score for b, s in r.scores.items()} == {
        1: D("35.24"),
        2: D("30.48"),
        3: D("25.71"),
        4: D("11.43"),
    }
    assert r.scores[2].exact == 40 - Fraction(200, 21)


def test_average_benchmark_boundary_three_prices_are_not_trimmed_four_are():
    three = F.average_benchmark({1: 90, 2: 100, 3: 110}, 40, 1, 1)
    assert (three.trimmed_low, three.trimmed_high) == (None, None) and three.benchmark_exact == 100
    assert three.counted_ids == (1, 2, 3)
    four = F.average_benchmark({1: 90, 2: 100, 3: 110, 4: 300}, 40, 1, 1)
    assert (four.trimmed_low, four.trimmed_high) == (1, 4) and four.benchmark_exact == 105
    # equal extreme prices: one is dropped, the smaller id as lowest, the larger id as highest
    tied = F.average_benchmark({5: 90, 2: 90, 3: 110, 4: 110, 1: 100}, 40, 1, 1)
    assert (tied.trimmed_low, tied.trimmed_high) == (2, 4)
    assert tied.benchmark_exact == Fraction(90 + 100 + 110, 3)


def test_average_benchmark_floors_the_score_at_zero_and_gives_full_points_at_the_benchmark():
    r = F.average_benchmark({1: 100, 2: 100, 3: 400}, 30, 1, 1)  # benchmark 200
    assert r.scores[3].exact == 0  # 100 % above × 1 = 100 points deducted, floored
    assert r.deviations[3].deduction == 100
    r = F.average_benchmark({1: 100, 2: 100, 3: 100}, 30, 1, 1)
    assert all(s.exact == 30 for s in r.scores.values())


def test_average_benchmark_with_one_price():
    r = F.average_benchmark({7: 123}, 30, 1, 2)
    assert r.benchmark_exact == 123 and r.scores[7].exact == 30


@settings(max_examples=200, deadline=None)
@given(
    prices_st, st.sampled_from([10, 30, 40]), st.sampled_from([0.5, 1, 2, 3]), st.sampled_from([0.5, 1, 2])
)
def test_average_benchmark_scores_are_within_range(prices, points, e1, e2):
    r = F.average_benchmark(prices, points, e1, e2)
    assert set(r.scores) == set(prices)
    for s in r.scores.values():
        assert 0 <= s.exact <= points
    n = len(prices)
    assert len(r.counted_ids) == (n - 2 if n > F.TRIM_ABOVE else n)


# ---------------------------------------------------------------- lowest evaluated price


def test_evaluated_prices_table_adds_the_allowed_adjustments_and_orders_by_evaluated_price():
    rows = F.evaluated_prices(
        {1: 1000, 2: 900, 3: 950},
        [
            (2, 150, "delivery beyond 30 days"),
            F.Adjustment(2, -20, "discount for early payment"),
            (3, 0, "x"),
        ],
    )
    assert [(r.bid_id, r.evaluated_fen) for r in rows] == [(3, 950), (1, 1000), (2, 1030)]
    assert [a.amount_fen for a in rows[2].adjustments] == [150, -20]


def test_evaluated_prices_refuses_bad_adjustments():
    for adj in ([(9, 10, "x")], [(1, 10, " ")], [(1, 1.5, "x")], [(1, -1000, "x")], [(1, 10)]):
        with pytest.raises(ValueError):
            F.evaluated_prices({1: 1000, 2: 900}, adj)  # type: ignore[arg-type]


# ---------------------------------------------------------------- arithmetic corrections


def test_corrections_apply_and_list_the_changes():
    r = F.apply_corrections(
        {1: 1000, 2: 900, 3: 800},
        [(2, 990, "words_over_figures"), F.Correction(3, 800, "unit_price_over_total")],
    )
    assert r.prices == {1: 1000, 2: 990, 3: 800}
    assert r.changes == [F.Change(2, 900, 990, "words_over_figures")]  # bid 3: nothing changed


def test_corrections_refuse_what_is_ambiguous_or_unknown():
    for corr in (
        [(9, 10, "x")],
        [(1, 10, "x"), (1, 11, "y")],
        [(1, 0, "x")],
        [(1, 10, "")],
        [(1, 10, "x", "y")],
    ):
        with pytest.raises(ValueError):
            F.apply_corrections({1: 1000}, corr)


# ---------------------------------------------------------------- abnormally low price


def test_abnormally_low_price_boundary():
    # others' mean is 100: 79 is below 80 %, 80 is not (exactly at the threshold)
    low = F.abnormally_low({1: 100, 2: 100, 3: 79, 4: 100})
    assert [(x.bid_id, x.others_mean_fen, x.threshold_fen, x.percent) for x in low] == [
        (3, D("100.00"), D("80.00"), D("79.00"))
    ]
    assert F.abnormally_low({1: 100, 2: 100, 3: 80, 4: 100}) == []


def test_abnormally_low_price_needs_three_prices():
    assert F.abnormally_low({1: 100, 2: 10}) == []
    assert [x.bid_id for x in F.abnormally_low({1: 100, 2: 100, 3: 10})] == [3]


# ---------------------------------------------------------------- entry


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (0, None),
        (10, None),
        ("10.00", None),
        (7.25, None),
        (D("3.5"), None),
        (-0.01, "score_negative"),
        (10.01, "score_above_points"),
        ("11", "score_above_points"),
        (7.125, "score_decimals"),
        ("abc", "score_not_number"),
        ("", "score_not_number"),
        (None, "score_not_number"),
        (True, "score_not_number"),
        (float("nan"), "score_not_finite"),
        (float("inf"), "score_not_finite"),
        ("-Infinity", "score_not_finite"),
        (D("NaN"), "score_not_finite"),
    ],
)
def test_check_entry(value, error):
    assert F.check_entry(10, value) == error


def test_check_entry_takes_fractional_points():
    assert F.check_entry(2.5, 2.5) is None and F.check_entry(2.5, 2.51) == "score_above_points"


# ---------------------------------------------------------------- the summary

FACTORS = [
    Factor("技术方案", 30, "subjective"),
    Factor("业绩", 10, "objective"),
    Factor("服务", 20, "subjective"),
]


def test_summary_worked_example():
    sheets = {
        "a": {1: {"技术方案": 25, "业绩": 10, "服务": 15.5}, 2: {"技术方案": 20, "业绩": 8, "服务": 18}},
        "b": {1: {"技术方案": 27, "业绩": 10, "服务": 16}, 2: {"技术方案": 21, "业绩": 8, "服务": 17}},
        "c": {1: {"技术方案": 26, "业绩": 10, "服务": 15}, 2: {"技术方案": 22.5, "业绩": 8, "服务": 16}},
    }
    prices = F.low_price_base({1: 9_000_000, 2: 8_000_000}, 40)
    s = F.summary(sheets, FACTORS, prices.scores)
    b1 = s.bids[1]
    assert b1.member_sums == {"a": D("50.50"), "b": D("53.00"), "c": D("51.00")}
    assert b1.factor_means == {"技术方案": D("26.00"), "业绩": D("10.00"), "服务": D("15.50")}
    assert b1.price_score == D("35.56")  # 8,000,000 / 9,000,000 × 40 = 35.555...
    # total = 26 + 10 + 15.5 + 320/9 = 87.0555... -> 87.06 (the rounded parts would add to 87.06 too)
    assert b1.total_exact == Fraction(515, 10) + Fraction(320, 9) and b1.total == D("87.06")
    b2 = s.bids[2]
    assert b2.factor_means == {"技术方案": D("21.17"), "业绩": D("8.00"), "服务": D("17.00")}
    assert b2.total_exact == Fraction(635, 30) + 8 + 17 + 40 and b2.total == D("86.17")
    assert s.totals() == {1: D("87.06"), 2: D("86.17")}


def test_summary_rounds_only_the_total_not_its_parts():
    # means 1/3 and 1/3 show as 0.33 each, the total 2/3 as 0.67
    f = [Factor("x", 10, "subjective"), Factor("y", 10, "subjective")]
    sheets = {"a": {1: {"x": 1, "y": 1}}, "b": {1: {"x": 0, "y": 0}}, "c": {1: {"x": 0, "y": 0}}}
    s = F.summary(sheets, f, {1: 0})
    assert s.bids[1].factor_means == {"x": D("0.33"), "y": D("0.33")} and s.bids[1].total == D("0.67")


def test_summary_refuses_a_sheet_with_a_missing_or_invalid_score():
    f = [Factor("x", 10, "subjective")]
    for sheets in ({"a": {1: {}}}, {"a": {1: {"x": "n/a"}}}, {"a": {1: {"x": 1.234}}}, {"a": {}}):
        with pytest.raises(ValueError):
            F.summary(sheets, f, {1: 10})
    with pytest.raises(ValueError):
        F.summary({}, f, {1: 10})


# ---------------------------------------------------------------- the four checks

ONE = [Factor("x", 10, "subjective")]


def sheets_of(*values, factor="x", bid=1):  # type: ignore[no-untyped-def]
    return {f"m{i}": {bid: {factor: v}} for i, v in enumerate(values, start=1)}


def test_sum_check_fires_only_where_the_stated_total_differs():
    sheets = {"m1": {1: {"技术方案": 25, "业绩": 10, "服务": 15.5}}}
    assert F.check_sums(sheets, FACTORS, {"m1": {1: "50.50"}}) == []
    assert F.check_sums(sheets, FACTORS, {"m1": {1: 50.5}}) == []
    [flag] = F.check_sums(sheets, FACTORS, {"m1": {1: "51"}})
    assert (flag.kind, flag.member, flag.bid_id, flag.factor) == ("sum", "m1", 1, None)
    assert flag.figures == {"stated": "51", "sum": D("50.50")}
    assert F.check_sums(sheets, FACTORS, {"m1": {1: "?"}})[0].figures["stated"] == "?"


def test_range_check_fires_for_each_value_out_of_range_and_not_for_the_bounds():
    f = [Factor("x", 10, "subjective"), Factor("y", 5, "objective")]
    good = {"m1": {1: {"x": 0, "y": 5}}, "m2": {1: {"x": 10, "y": 0}}}
    assert F.check_range(good, f) == []
    bad = {"m1": {1: {"x": -1, "y": 5.01}}, "m2": {1: {"x": float("nan")}}}
    flags = F.check_range(bad, f)
    assert [(x.member, x.factor, x.figures["error"]) for x in flags] == [
        ("m1", "x", "score_negative"),
        ("m2", "x", "score_not_finite"),
        ("m1", "y", "score_above_points"),
        ("m2", "y", "score_missing"),
    ]
    assert flags[2].figures["points"] == D("5.00") and flags[2].figures["value"] == "5.01"


def test_objective_check_fires_while_members_differ():
    f = [Factor("业绩", 10, "objective")]
    assert F.check_objective(sheets_of(8, 8, 8, factor="业绩"), f) == []
    flags = F.check_objective(sheets_of(8, 8, 6, factor="业绩"), f)
    assert [x.member for x in flags] == ["m1", "m2", "m3"]
    assert flags[0].kind == "objective" and flags[0].figures == {
        "m1": D("8.00"),
        "m2": D("8.00"),
        "m3": D("6.00"),
    }
    # subjective factors may differ
    assert F.check_objective(sheets_of(8, 8, 6), ONE) == []


def test_outlier_check_boundary_at_thirty_percent_of_the_points():
    # 10 points: a member may be 3.00 from the others' mean; 3.01 is flagged
    assert F.check_outliers(sheets_of(5, 5, 8), ONE) == []  # m3: 8 - 5 = 3.00, not more than 30 %
    [flag] = F.check_outliers(sheets_of(5, 5, 8.01), ONE)
    assert (flag.kind, flag.member, flag.factor) == ("high", "m3", "x")
    assert flag.figures == {
        "score": D("8.01"),
        "others_mean": D("5.00"),
        "difference": D("3.01"),
        "allowed": D("3.00"),
    }
    [flag] = F.check_outliers(sheets_of(5, 5, 1.99), ONE)
    assert (flag.kind, flag.member) == ("low", "m3")
    # the others' mean, not everyone's: m1 at 9 against (5 + 6) / 2 = 5.5 is 3.5 away
    flags = F.check_outliers(sheets_of(9, 5, 6), ONE)
    assert [(x.member, x.kind) for x in flags] == [("m1", "high")]


def test_outlier_check_needs_three_members_and_leaves_objective_factors_to_their_own_check():
    assert F.check_outliers(sheets_of(0, 10), ONE) == []
    assert F.check_outliers(sheets_of(0, 10, 10, factor="o"), [Factor("o", 10, "objective")]) == []


def test_checks_runs_the_four_in_order():
    f = [Factor("x", 10, "subjective"), Factor("o", 5, "objective")]
    sheets = {
        "m1": {1: {"x": 9, "o": 5}},
        "m2": {1: {"x": 2, "o": 5}},
        "m3": {1: {"x": 2, "o": 4}},
        "m4": {1: {"x": 11, "o": 5}},
    }
    flags = F.checks(sheets, f, {"m1": {1: 13}})
    assert [x.kind for x in flags[:6]] == ["sum", "range", "objective", "objective", "objective", "objective"]
    # m4's 11 is out of range (flagged) and still counts in the others' means: m1's 9 against (2+2+11)/3
    assert [(x.kind, x.member) for x in flags[6:]] == [
        ("high", "m1"),
        ("low", "m2"),
        ("low", "m3"),
        ("high", "m4"),
    ]
    assert F.checks({m: {1: {"x": 5, "o": 5}} for m in ("a", "b", "c")}, f) == []


# ---------------------------------------------------------------- ranking

SEED = hashlib.sha256(b"tie").digest()


def test_rank_by_score_breaks_ties_by_lower_price_then_by_the_lottery():
    totals = {1: D("90.00"), 2: D("85.50"), 3: D("85.50"), 4: D("85.50"), 5: D("85.50"), 6: D("70")}
    prices = {1: 500, 2: 400, 3: 300, 4: 400, 5: 350, 6: 100}
    r = F.rank_by_score(totals, prices, SEED)
    lottery = fairdraw.rank(SEED, [2, 4])
    assert [(x.rank, x.bid_id, x.decided_by) for x in r] == [
        (1, 1, "score"),
        (2, 3, "price"),
        (3, 5, "price"),
        (4, lottery[0], "lottery"),
        (5, lottery[1], "lottery"),
        (6, 6, "score"),
    ]
    assert r[0].total == D("90.00") and r[5].total == D("70.00") and r[1].price_fen == 300


def test_rank_by_score_asks_for_the_seed_only_when_a_lottery_is_needed():
    assert [x.bid_id for x in F.rank_by_score({1: 80, 2: 80}, {1: 2, 2: 1})] == [2, 1]
    with pytest.raises(F.SeedNeeded) as e:
        F.rank_by_score({1: 80, 2: 80, 3: 80, 4: 1}, {1: 1, 2: 1, 3: 2, 4: 1})
    assert e.value.tied == [[1, 2]]
    assert F.ties({1: 80, 2: 80, 3: 80, 4: 1}, {1: 1, 2: 1, 3: 2, 4: 1}) == [[1, 2]]
    assert F.ties({1: 100, 2: 100, 3: 90}) == [[1, 2]]


def test_rank_by_score_compares_the_totals_as_shown():
    # 85.554 and 85.549 both show as 85.55: a tie on score, broken by price
    r = F.rank_by_score({1: Fraction(85554, 1000), 2: Fraction(85549, 1000)}, {1: 200, 2: 100})
    assert [(x.bid_id, x.decided_by) for x in r] == [(2, "price"), (1, "price")]


def test_rank_by_price_ascending_with_the_lottery_for_equal_prices():
    r = F.rank_by_price({1: 300, 2: 100, 3: 300, 4: 200}, SEED)
    lottery = fairdraw.rank(SEED, [1, 3])
    assert [(x.bid_id, x.decided_by) for x in r] == [
        (2, "price"),
        (4, "price"),
        (lottery[0], "lottery"),
        (lottery[1], "lottery"),
    ]
    assert all(x.total is None for x in r)
    with pytest.raises(F.SeedNeeded):
        F.rank_by_price({1: 300, 3: 300})


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 20), st.integers(1, 5)), min_size=1, max_size=25),
    st.randoms(use_true_random=False),
)
def test_the_ranking_does_not_depend_on_the_order_bids_are_listed_in(rows, rnd):
    totals = {i: D(t) for i, (t, _) in enumerate(rows)}
    prices = {i: p for i, (_, p) in enumerate(rows)}
    first = F.rank_by_score(totals, prices, SEED)
    keys = list(totals)
    rnd.shuffle(keys)
    again = F.rank_by_score({k: totals[k] for k in keys}, {k: prices[k] for k in reversed(keys)}, SEED)
    assert first == again
    assert [x.rank for x in first] == list(range(1, len(rows) + 1))
    # totals descending, then prices ascending
    pairs = [(-x.total, x.price_fen) for x in first]  # type: ignore[operator]
    assert pairs == sorted(pairs)
    by_price = F.rank_by_price(prices, SEED)
    assert by_price == F.rank_by_price({k: prices[k] for k in keys}, SEED)


def test_candidates_are_one_to_three():
    r = F.rank_by_price({1: 1, 2: 2, 3: 3, 4: 4})
    assert [x.bid_id for x in F.candidates(r, 3)] == [1, 2, 3]
    assert [x.bid_id for x in F.candidates(r[:2], 3)] == [1, 2]
    for n in (0, 4, 1.0):
        with pytest.raises(ValueError):
            F.candidates(r, n)  # type: ignore[arg-type]


def test_failed():
    assert F.failed(3, False) is None
    assert F.failed(2, False) == "too_few_valid"
    assert F.failed(5, True) == "all_rejected"
    assert F.failed(0, False) == "all_rejected"


# ---------------------------------------------------------------- the tie seed


def test_tie_seed_is_fairdraws_seed_over_the_ranked_bids_and_the_sheet_digests():
    server = b"\x01" * 32
    digests = [("m2", b"\x02" * 32), ("m1", b"\x03" * 32)]
    seed = F.tie_seed(server, 42, digests, [3, 1, 2])
    expected = fairdraw.derive_seed(
        server,
        None,
        fairdraw.pool_root([1, 2, 3]),
        "evaluation-42-tie",
        [("m1", b"\x03" * 32), ("m2", b"\x02" * 32)],
    )
    assert seed == expected
    # the members' order does not matter, every digest and every bid does
    assert F.tie_seed(server, 42, list(reversed(digests)), [1, 2, 3]) == seed
    assert F.tie_seed(server, 42, [("m2", b"\x02" * 32), ("m1", b"\x04" * 32)], [1, 2, 3]) != seed
    assert F.tie_seed(server, 42, digests, [1, 2]) != seed
    assert F.tie_seed(server, 43, digests, [1, 2, 3]) != seed
    with pytest.raises(ValueError):
        F.tie_seed(server, 42, [("m1", b""), ("m1", b"")], [1])


# ---------------------------------------------------------------- majority


def test_majority():
    d = F.majority({"a": True, "b": True, "c": False, "d": True, "e": False})
    assert d == F.Decision(True, ("a", "b", "d"), ("c", "e"), ("c", "e"))
    d = F.majority({"a": False, "b": False, "c": True})
    assert d.outcome is False and d.dissenters == ("c",)
    d = F.majority({"a": True, "b": False})
    assert d.outcome is None and d.dissenters == ()
    assert F.majority({}).outcome is None
    with pytest.raises(ValueError):
        F.majority({"a": 1})  # type: ignore[dict-item]


# ---------------------------------------------------------------- the sheet digest


def test_sheet_digest_is_sha256_over_canonical_json():
    sheet = {10: {"技术方案": 7.5, "业绩": "3"}, 9: {"服务": D("0.1")}, 2: {"x": -0.5}}
    canonical = F.canonical_sheet(sheet)
    assert (
        canonical == '{"10":{"业绩":"3.00","技术方案":"7.50"},"2":{"x":"-0.50"},"9":{"服务":"0.10"}}'.encode()
    )
    assert F.sheet_digest(sheet) == hashlib.sha256(canonical).digest()
    # the same scores typed differently give the same digest; a changed score another
    assert F.sheet_digest(
        {9: {"服务": "0.10"}, 2: {"x": "-.5"}, 10: {"业绩": 3, "技术方案": D("7.50")}}
    ) == F.sheet_digest(sheet)
    assert F.sheet_digest({**sheet, 2: {"x": -0.51}}) != F.sheet_digest(sheet)


def test_sheet_digest_refuses_what_it_cannot_write_exactly():
    for sheet in (
        {1: {"x": 1.234}},
        {1: {"x": "abc"}},
        {1: {"x": float("nan")}},
        {1: {"1": 1}, "1": {"x": 1}},
        {1.5: {}},
    ):
        with pytest.raises(ValueError):
            F.sheet_digest(sheet)  # type: ignore[arg-type]


# ---------------------------------------------------------------- hostile input and the method's dispatch


def test_a_typed_huge_or_tiny_decimal_is_refused_without_being_computed():
    assert F.check_entry(10, "1e999999999") == "score_above_points"
    assert F.check_entry(10, "-1e999999999") == "score_negative"
    assert F.check_entry(10, "1e-999999999") == "score_decimals"
    assert F.check_entry(10, "7.50000000000000000000000000000000000") is None  # 2 decimals, written long
    assert F.check_entry(10, "7.50000000000000000000000000000000001") == "score_decimals"
    for bad in ("1e999999999", "1e-999999999"):
        with pytest.raises(ValueError):
            F.exact(bad)
    flags = F.check_range({"m": {1: {"x": "1e999999999"}}}, ONE)
    assert [x.figures["error"] for x in flags] == ["score_above_points"]


def test_price_scores_dispatch_on_the_method():
    c = Criteria([], [], [], price_points=40, e1=2, e2=1)
    prices = {1: 10_000_000, 2: 11_000_000, 3: 9_000_000, 4: 12_000_000}
    assert F.price_scores("comprehensive", prices, c) == F.low_price_base(prices, 40).scores
    assert F.price_scores("average_benchmark", prices, c) == F.average_benchmark(prices, 40, 2, 1).scores
    for method, criteria in (
        ("lowest_price", c),
        ("nonsense", c),
        ("average_benchmark", Criteria([], [], [], price_points=40, e1=None, e2=1)),
        ("comprehensive", Criteria([], [], [], price_points=None, e1=None, e2=None)),
    ):
        with pytest.raises(ValueError):
            F.price_scores(method, prices, criteria)


# ---------------------------------------------------------------- properties of the sheets


@st.composite
def committees(draw):  # type: ignore[no-untyped-def]
    """3 to 9 members' complete, in-range sheets over 1 to 6 bids and 1 to 5 factors, and prices."""
    n_factors = draw(st.integers(1, 5))
    points = [draw(st.sampled_from([2, 5, 7.5, 10, 12.25])) for _ in range(n_factors)]
    factors = [
        Factor(f"f{i}", p, draw(st.sampled_from(["objective", "subjective"]))) for i, p in enumerate(points)
    ]
    bids = draw(st.lists(st.integers(1, 10**6), min_size=1, max_size=6, unique=True))
    members = [f"m{i}" for i in range(draw(st.integers(3, 9)))]
    sheets = {
        m: {b: {f.name: draw(st.integers(0, int(f.points * 100))) / 100 for f in factors} for b in bids}
        for m in members
    }
    prices = {b: draw(st.integers(1, 10**10)) for b in bids}
    return factors, sheets, prices


@settings(max_examples=120, deadline=None)
@given(committees(), st.randoms(use_true_random=False))
def test_summary_totals_are_within_range_and_independent_of_the_order_of_members_and_bids(world, rnd):
    factors, sheets, prices = world
    scores = F.low_price_base(prices, 30).scores
    s = F.summary(sheets, factors, scores)
    top = sum(F.exact(f.points) for f in factors) + 30
    for b, x in s.bids.items():
        assert 0 <= x.total_exact <= top
        assert scores[b].exact <= x.total_exact
        for f in factors:
            assert 0 <= x.factor_means[f.name] <= F.round2(F.exact(f.points))
    members = list(sheets)
    rnd.shuffle(members)
    shuffled = {m: dict(reversed(list(sheets[m].items()))) for m in members}
    again = F.summary(shuffled, factors, scores)
    assert again.totals() == s.totals()
    # in-range scores raise no range flag; stated totals equal to the platform's sums raise no sum flag
    stated = {m: {b: str(x.member_sums[m]) for b, x in s.bids.items()} for m in sheets}
    assert [x for x in F.checks(sheets, factors, stated) if x.kind in ("sum", "range")] == []
    # the digest does not depend on the order the sheet was built in
    for m in sheets:
        assert F.sheet_digest(sheets[m]) == F.sheet_digest(shuffled[m])


@settings(max_examples=120, deadline=None)
@given(committees())
def test_outlier_and_objective_flags_agree_with_their_definitions(world):
    factors, sheets, _ = world
    flags = F.checks(sheets, factors)
    members = list(sheets)
    m = len(members)
    expected = set()
    for f in factors:
        for b in next(iter(sheets.values())):
            values = {k: F.exact(sheets[k][b][f.name]) for k in members}
            if f.kind == "objective":
                if len(set(values.values())) > 1:
                    expected |= {("objective", k, b, f.name) for k in members}
                continue
            for k, v in values.items():
                others = (sum(values.values()) - v) / (m - 1)
                if abs(v - others) > F.exact(f.points) * F.OUTLIER_PERCENT / 100:
                    expected.add(("high" if v > others else "low", k, b, f.name))
    assert {(x.kind, x.member, x.bid_id, x.factor) for x in flags} == expected


def test_scores_read_from_a_numeric_column_count_as_their_floats_and_strings_do():
    as_float = {"a": {1: {"x": 7.25}}, "b": {1: {"x": 0.1}}, "c": {1: {"x": 10}}}
    as_decimal = {"a": {1: {"x": D("7.25")}}, "b": {1: {"x": D("0.10")}}, "c": {1: {"x": D("1E+1")}}}
    as_text = {"a": {1: {"x": "7.25"}}, "b": {1: {"x": ".1"}}, "c": {1: {"x": "10.000"}}}
    totals = [F.summary(s, ONE, {1: 0}).bids[1].total_exact for s in (as_float, as_decimal, as_text)]
    assert totals == [Fraction(1735, 300)] * 3
    assert len({F.sheet_digest(s["a"]) for s in (as_float, as_decimal, as_text)}) == 1
    # a Decimal with a third decimal, however far out, is not a score; 0 written with any exponent is
    for bad in (D("7.50000000000000000000000000000001"), D("1E-999999999"), D("NaN"), D("1E+12")):
        with pytest.raises(ValueError):
            F.summary({"a": {1: {"x": bad}}}, [Factor("x", 10**13, "subjective")], {1: 0})
    assert F.summary({"a": {1: {"x": D("0E-999999999")}}}, ONE, {1: 0}).bids[1].total_exact == 0


def test_the_tie_record_verifies_and_fails_on_any_changed_part():
    server = hashlib.sha256(b"server").digest()
    digests = [("seat-2", hashlib.sha256(b"b").digest()), ("seat-1", hashlib.sha256(b"a").digest())]
    record = F.tie_record(server, 5, digests, [30, 10, 20])
    assert record["seed"] == F.tie_seed(server, 5, digests, [10, 20, 30]).hex()
    assert record["bid_ids"] == [10, 20, 30] and [m for m, _ in record["contributions"]] == [
        "seat-1",
        "seat-2",
    ]
    assert json.loads(json.dumps(record)) == record
    assert F.verify_tie_record(record) == []
    assert F.verify_tie_record(record, fairdraw.commitment(server)) == []
    assert F.verify_tie_record(record, fairdraw.commitment(b"another")) == ["commitment"]
    for key, value, problems in (
        ("server_seed", hashlib.sha256(b"other").hexdigest(), ["commitment", "seed"]),
        ("seed", "00" * 32, ["seed"]),
        ("session_id", 6, ["request_id", "seed"]),
        ("bid_ids", [10, 20], ["pool_root", "seed"]),
        ("contributions", [["seat-1", hashlib.sha256(b"a").hexdigest()]], ["seed"]),
        ("protocol", "etender-tie-0", ["protocol"]),
        ("server_seed", "not hex", ["record"]),
    ):
        assert F.verify_tie_record({**record, key: value}) == problems, key
    assert F.verify_tie_record({}) == ["record"]


def test_a_score_may_change_after_the_summary_only_where_a_check_flagged_it():
    f = [Factor("x", 10, "subjective"), Factor("o", 5, "objective")]
    sheets = {"m1": {1: {"x": 9, "o": 5}}, "m2": {1: {"x": 5, "o": 4}}, "m3": {1: {"x": 5, "o": 5}}}
    flags = F.checks(sheets, f, {"m2": {1: 10}})
    assert F.may_change(flags, "m1", 1, "x").kind == "high"  # type: ignore[union-attr]
    assert F.may_change(flags, "m3", 1, "o").kind == "objective"  # type: ignore[union-attr]
    assert F.may_change(flags, "m2", 1, "x").kind == "sum"  # type: ignore[union-attr]
    assert F.may_change(flags, "m3", 1, "x") is None
    assert F.may_change(flags, "m1", 2, "x") is None
    assert F.may_change([], "m1", 1, "x") is None


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.decimals(allow_nan=True, allow_infinity=True),
        st.decimals(min_value=-1000, max_value=1000, places=2),
        st.decimals(min_value=-1000, max_value=1000, places=3),
        st.floats(allow_nan=True, allow_infinity=True),
        st.floats(min_value=-1000, max_value=1000).map(lambda x: round(x, 2)),
        st.integers(-(10**6), 10**6),
    )
)
def test_every_reading_of_a_score_agrees_with_its_exact_definition(value):
    # a score is a finite number with at most 2 decimals (below 10**12 in magnitude); the table, the digest
    # and the entry check read it alike
    try:
        x = F.exact(value)
        expected = int(x * 100) if (x * 100).denominator == 1 and abs(x) < 10**12 else None
    except ValueError:
        expected = None
    t = F.table({"m": {1: {"x": value}}}, [Factor("x", 10**13, "subjective")])
    assert t.rows[1][0][0] == expected
    if expected is None:
        with pytest.raises(ValueError):
            F.canonical_sheet({1: {"x": value}})
    else:
        assert F.canonical_sheet({1: {"x": value}}) == F.canonical_sheet({1: {"x": str(F.round2(x))}})
        assert F.check_entry(10**13, value) in (None, "score_negative")
