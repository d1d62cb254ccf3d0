"""The selection methods (marketplace.selection, etender-selection-1): worked examples, failure counts, the
optimal-price benchmark at its boundaries, the documented test vector computed by independent lines, and the
verifier catching a changed seed, coefficient, applicant list or quote."""

from __future__ import annotations

import copy
import hashlib

import pytest

from core import fairdraw
from marketplace import selection as sel
from marketplace.selection import Applicant

SERVER = bytes(range(32))
OWNER = ("owner:91130200MA0000001X", bytes(range(32, 64)))
REQUEST = "ZJ-2026-0007/selection"
FIVE = [
    Applicant(101, 100000),
    Applicant(102, 96000),
    Applicant(103, 99000),
    Applicant(104, 90000),
    Applicant(105, 97000),
]


def run(method: str, applicants: list[Applicant], state_funds: bool = True) -> sel.Outcome:
    return sel.select(method, state_funds, applicants, SERVER, REQUEST, [OWNER])


def record(method: str, applicants: list[Applicant] = FIVE, state_funds: bool = True) -> dict:
    outcome = run(method, applicants, state_funds)
    return sel.to_record(
        purchase={"id": 7, "reference": "ZJ-2026-0007"},
        method=method,
        state_funds=state_funds,
        request_id=REQUEST,
        applicants=applicants,
        server_seed=SERVER,
        contributions=[OWNER],
        outcome=outcome,
    )


def _p(x: bytes) -> bytes:
    return len(x).to_bytes(4, "big") + x


def test_the_documented_vector_by_independent_lines():
    # docs/marketplace-selection.md, "Test vector"
    leaves = [hashlib.sha256(b"\x00" + str(i).encode()).digest() for i in (101, 102, 103, 104, 105)]

    def node(a: bytes, b: bytes) -> bytes:
        return hashlib.sha256(b"\x01" + a + b).digest()

    # 5 leaves: split 4 | 1
    root = node(node(node(leaves[0], leaves[1]), node(leaves[2], leaves[3])), leaves[4])
    assert root.hex() == "201e54575cb10b724ea24d0e366470704843422b51e4593055a95d524732e863"
    seed = hashlib.sha256(
        _p(SERVER) + _p(b"") + _p(root) + _p(REQUEST.encode()) + _p(OWNER[0].encode()) + _p(OWNER[1])
    ).digest()
    assert seed.hex() == "5be14d69d2bac5e812e86ad5e8567bec5aebaccddbc51226b81ea6cb5f182659"
    assert 9500 + int.from_bytes(seed[:8], "big") % 301 == 9682
    ranking = sorted(
        [101, 102, 103, 104, 105], key=lambda i: hashlib.sha256(seed + i.to_bytes(8, "big")).digest()
    )
    assert ranking == [103, 102, 104, 105, 101]
    # the product agrees
    assert run(sel.RANDOM, FIVE).seed == seed
    assert run(sel.RANDOM, FIVE).winner == 103 and list(run(sel.RANDOM, FIVE).ranking) == ranking
    assert run(sel.LOWEST, FIVE).winner == 104
    optimal = run(sel.OPTIMAL, FIVE)
    # drop 90000 and 100000; (96000 + 97000 + 99000) / 3 x 96.82 % = 94238.13 fen; 96000 is closest
    assert optimal.coefficient_bp == 9682 and optimal.benchmark == (292000 * 9682, 30000)
    assert optimal.winner == 102


def test_random_draw_needs_three_for_state_funds_one_otherwise():
    assert run(sel.RANDOM, FIVE[:2]).reason == sel.TOO_FEW_APPLICANTS
    assert run(sel.RANDOM, FIVE[:2]).winner is None
    assert run(sel.RANDOM, FIVE[:3]).winner in {101, 102, 103}
    assert run(sel.RANDOM, FIVE[:1], state_funds=False).winner == 101
    assert run(sel.RANDOM, [], state_funds=False).reason == sel.TOO_FEW_APPLICANTS


def test_lowest_price_counts_and_a_tie_goes_to_the_lottery():
    assert run(sel.LOWEST, FIVE[:2]).reason == sel.TOO_FEW_QUOTES
    assert run(sel.LOWEST, FIVE[:2], state_funds=False).winner == 102
    tied = [Applicant(1, 500), Applicant(2, 500), Applicant(3, 700), Applicant(4, 500)]
    outcome = run(sel.LOWEST, tied)
    assert outcome.tied == (1, 2, 4)
    assert outcome.winner == fairdraw.rank(outcome.seed, [1, 2, 4])[0]
    assert list(outcome.ranking) == fairdraw.rank(outcome.seed, [1, 2, 4])


def test_optimal_price_fails_below_three_quotes_even_without_state_funds():
    assert run(sel.OPTIMAL, FIVE[:2], state_funds=False).reason == sel.TOO_FEW_QUOTES
    # a random-draw applicant without a quote does not count as a quote
    three = [Applicant(1, 100), Applicant(2, None), Applicant(3, 120)]
    assert run(sel.OPTIMAL, three, state_funds=False).reason == sel.TOO_FEW_QUOTES


def test_the_coefficient_spans_95_to_98_percent_inclusive():
    assert sel.coefficient_bp(bytes(8)) == 9500
    assert sel.coefficient_bp((300).to_bytes(8, "big")) == 9800
    assert sel.coefficient_bp((301).to_bytes(8, "big")) == 9500
    assert sel.coefficient_bp(b"\xff" * 8) == 9500 + (2**64 - 1) % 301


def test_the_benchmark_drops_one_highest_and_one_lowest_and_is_exact():
    # three quotes: only the middle one is kept
    assert sel.benchmark([300, 100, 200], 9500) == (200 * 9500, 10000)
    # equal extremes drop one instance each
    assert sel.benchmark([100, 100, 100, 400], 9800) == (200 * 9800, 20000)


def test_optimal_boundaries_the_closest_quote_wins_and_equal_distances_tie():
    # benchmark = 1000 x 95 % = 950 exactly at the minimum coefficient; quotes 900 and 1000 are 50 away
    apps = [Applicant(1, 900), Applicant(2, 1000), Applicant(3, 1100)]
    seed = run(sel.OPTIMAL, apps).seed
    c = sel.coefficient_bp(seed)
    num, den = sel.benchmark([900, 1000, 1100], c)
    outcome = run(sel.OPTIMAL, apps)
    closest = min((abs(q * den - num), i) for i, q in ((1, 900), (2, 1000), (3, 1100)))
    if c == 9500:
        assert outcome.tied == (1, 2)
    else:
        assert outcome.winner == closest[1]


def test_the_seed_does_not_depend_on_the_order_given():
    shuffled = list(reversed(FIVE))
    assert run(sel.RANDOM, shuffled).seed == run(sel.RANDOM, FIVE).seed


def test_a_published_record_verifies():
    for method in sel.DRAWN_METHODS:
        doc = record(method)
        assert sel.schema_problems(doc) == []
        assert sel.verify(doc) == []


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda d: d.__setitem__("server_seed", "00" * 32), "commitment mismatch"),
        (lambda d: d["result"].__setitem__("coefficient_bp", 9700), "coefficient_bp differs"),
        (lambda d: d["applicants"].pop(0), "pool root mismatch"),
        (lambda d: d["applicants"][3].__setitem__("quote_fen", 95000), "winner differs"),
        (lambda d: d["contributions"][0].__setitem__("value", "11" * 32), "is not its commitment"),
        (lambda d: d["result"].__setitem__("seed", "22" * 32), "seed differs"),
    ],
)
def test_verify_names_a_changed_seed_coefficient_applicant_or_quote(change, named):
    doc = copy.deepcopy(record(sel.OPTIMAL))
    change(doc)
    found = sel.verify(doc)
    assert any(named in d for d in found), found


def test_the_schema_names_a_missing_or_surprising_field():
    doc = record(sel.RANDOM)
    del doc["result"]["winner"]
    doc["surprise"] = 1
    problems = sel.schema_problems(doc)
    assert any("winner" in p for p in problems) and any("surprise" in p for p in problems)
