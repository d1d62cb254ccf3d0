"""The credit shortlist (信用择优, Guangdong; rules.md §5.3), pure (marketplace.selection,
etender-selection-2): worked examples (the long list cut, the short list drawn from it, fewer than 2
applicants failing), the result independent of the order the applicants are listed in, the documented test
vector by independent lines, the verifier catching a changed seed, long list, score, short list or choice,
and old records still verifying."""

from __future__ import annotations

import copy
import hashlib
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import fairdraw
from marketplace import selection as sel
from marketplace.selection import Applicant

SERVER = bytes(range(32))
OWNER = ("owner:91130200MA0000001X", bytes(range(32, 64)))
REQUEST = "ZJ-2026-0008/selection"
SIX = [Applicant(i, credit_score=c) for i, c in zip(range(101, 107), (80, 95, 80, 60, 100, 70), strict=True)]
CHOSEN_AT = "2026-12-08T02:00:00+00:00"


def run(applicants: list[Applicant], long_max: int = 4, short: int = 3) -> sel.Outcome:
    return sel.select(
        sel.CREDIT, True, applicants, SERVER, REQUEST, [OWNER], long_list_max=long_max, short_list_size=short
    )


def record(applicants: list[Applicant] = SIX, chosen: int | None = 103) -> dict:
    outcome = run(applicants)
    choice = (
        None if chosen is None else {"organisation_id": chosen, "party": OWNER[0], "chosen_at": CHOSEN_AT}
    )
    return sel.to_record(
        purchase={"id": 8, "reference": "ZJ-2026-0008"},
        method=sel.CREDIT,
        state_funds=True,
        request_id=REQUEST,
        applicants=applicants,
        server_seed=SERVER,
        contributions=[OWNER],
        outcome=outcome,
        long_list_max=4,
        short_list_size=3,
        scores_on="2026-12-08",
        choice=choice,
    )


def _p(x: bytes) -> bytes:
    return len(x).to_bytes(4, "big") + x


def test_the_long_list_is_cut_by_score_then_id_and_the_short_list_drawn_from_it():
    outcome = run(SIX)
    # 105 (100), 102 (95), then 101 and 103 both 80: the lower id first; 106 (70) and 104 (60) are cut
    assert outcome.long_list == ((105, 100), (102, 95), (101, 80), (103, 80))
    assert list(outcome.ranking) == fairdraw.rank(outcome.seed, [105, 102, 101, 103])
    assert outcome.short_list == outcome.ranking[:3] and len(set(outcome.short_list)) == 3
    assert set(outcome.short_list) <= {105, 102, 101, 103}
    # no winner: the owner chooses
    assert outcome.winner is None and outcome.reason == ""


def test_a_tie_at_the_cut_goes_to_the_lower_organisation_id():
    tied = [Applicant(7, credit_score=70), Applicant(3, credit_score=70), Applicant(5, credit_score=90)]
    assert run(tied, long_max=2, short=2).long_list == ((5, 90), (3, 70))


def test_a_long_list_shorter_than_the_short_list_puts_everyone_on_it():
    two = SIX[:2]
    outcome = run(two)
    assert sorted(outcome.short_list) == [101, 102] and outcome.reason == ""


def test_fewer_than_two_applicants_fail_whatever_the_funds():
    for funds in (True, False):
        for applicants in ([], SIX[:1]):
            outcome = sel.select(sel.CREDIT, funds, applicants, SERVER, REQUEST, [OWNER])
            assert outcome.reason == sel.TOO_FEW_APPLICANTS and outcome.short_list == ()
    assert sel.minimum(sel.CREDIT, True) == sel.minimum(sel.CREDIT, False) == 2
    doc = sel.to_record(
        purchase={"id": 8, "reference": "ZJ-2026-0008"},
        method=sel.CREDIT,
        state_funds=True,
        request_id=REQUEST,
        applicants=SIX[:1],
        server_seed=SERVER,
        contributions=[OWNER],
        outcome=run(SIX[:1]),
        scores_on="2026-12-08",
    )
    assert doc["result"]["outcome"] == "failed" and sel.schema_problems(doc) == [] and sel.verify(doc) == []


def test_an_applicant_without_a_score_is_a_programming_error():
    with pytest.raises(ValueError):
        run([Applicant(1, credit_score=60), Applicant(2)])


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(st.integers(1, 10_000), st.integers(0, 100), min_size=0, max_size=25),
    st.randoms(use_true_random=False),
    st.integers(2, 12),
    st.integers(1, 5),
)
def test_the_result_does_not_depend_on_the_listing_order(scores, rnd, long_max, short):
    applicants = [Applicant(i, credit_score=c) for i, c in scores.items()]
    shuffled = list(applicants)
    rnd.shuffle(shuffled)
    a, b = run(applicants, long_max, short), run(shuffled, long_max, short)
    assert a == b
    if len(applicants) >= 2:
        # every long-listed score is at least every cut one's
        kept = {i for i, _ in a.long_list}
        assert all(c >= scores[j] for _, c in a.long_list for j in scores if j not in kept)
        assert len(a.short_list) == min(short, len(a.long_list), long_max)


def test_the_documented_vector_by_independent_lines():
    # docs/marketplace-selection.md, "Test vector (etender-selection-2)"
    leaves = [hashlib.sha256(b"\x00" + str(i).encode()).digest() for i in range(101, 107)]

    def node(a: bytes, b: bytes) -> bytes:
        return hashlib.sha256(b"\x01" + a + b).digest()

    # 6 leaves: split 4 | 2
    root = node(node(node(leaves[0], leaves[1]), node(leaves[2], leaves[3])), node(leaves[4], leaves[5]))
    seed = hashlib.sha256(
        _p(SERVER) + _p(b"") + _p(root) + _p(REQUEST.encode()) + _p(OWNER[0].encode()) + _p(OWNER[1])
    ).digest()
    ranking = sorted([105, 102, 101, 103], key=lambda i: hashlib.sha256(seed + i.to_bytes(8, "big")).digest())
    doc = record()
    d = doc["result"]
    text = Path(__file__).resolve().parents[2].joinpath("docs", "marketplace-selection.md").read_text("utf-8")
    vector = " ".join(text[text.index("## Test vector (etender-selection-2)") :].split())
    assert root.hex() in vector and root.hex() == doc["pool_root"]
    assert seed.hex() in vector and seed.hex() == d["seed"]
    assert f"ranking {', '.join(map(str, ranking))}" in vector and d["ranking"] == ranking
    short = ", ".join(map(str, ranking[:3]))
    assert f"short list {short}" in vector and d["short_list"] == ranking[:3]
    assert sel.record_sha256(sel.with_choice(doc, None)) in vector
    assert sel.record_sha256(doc) in vector
    assert re.search(r"chooses 103\b", vector) and d["winner"] == 103


def test_a_published_record_verifies_and_the_drawn_record_too():
    doc = record()
    assert sel.schema_problems(doc) == [] and sel.verify(doc) == []
    drawn = sel.with_choice(doc, None)
    assert drawn["result"]["outcome"] == "shortlisted" and drawn["result"]["winner"] is None
    assert sel.schema_problems(drawn) == [] and sel.verify(drawn) == []


def _long_score(d: dict) -> None:
    # a long-listed applicant's score in the applicant list: the re-run's long list carries the true one
    next(a for a in d["applicants"] if a["organisation_id"] == 101)["credit_score"] = 81


def _cut_score(d: dict) -> None:
    # a cut applicant's score raised above the long list's: it enters the re-run's long list
    next(a for a in d["applicants"] if a["organisation_id"] == 104)["credit_score"] = 99


def _swap_short(d: dict) -> None:
    d["result"]["short_list"][0] = 102


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda d: d.__setitem__("server_seed", "00" * 32), "commitment mismatch"),
        (lambda d: d["result"].__setitem__("seed", "22" * 32), "seed differs"),
        (lambda d: d["result"]["long_list"].pop(), "long_list differs"),
        (lambda d: d["result"]["long_list"][0].__setitem__("credit_score", 90), "long_list differs"),
        (_long_score, "long_list differs"),
        (_cut_score, "long_list differs"),
        (_swap_short, "short_list differs"),
        (lambda d: d["result"]["ranking"].reverse(), "ranking differs"),
        (lambda d: d.__setitem__("short_list_size", 2), "short_list differs"),
        (lambda d: d["applicants"].pop(), "pool root mismatch"),
        (lambda d: d["contributions"][0].__setitem__("value", "11" * 32), "is not its commitment"),
        (lambda d: d["result"]["choice"].__setitem__("organisation_id", 104), "not on the short list"),
        (lambda d: d["result"].__setitem__("winner", 105), "winner differs"),
    ],
)
def test_verify_names_a_changed_seed_long_list_score_short_list_or_choice(change, named):
    doc = copy.deepcopy(record())
    change(doc)
    assert sel.schema_problems(doc) == []
    found = sel.verify(doc)
    assert any(named in d for d in found), found


def test_the_v2_schema_names_a_missing_or_surprising_field_and_v1_records_are_unchanged():
    doc = record()
    del doc["result"]["short_list"]
    doc["applicants"][0]["quote_fen"] = 1
    problems = sel.schema_problems(doc)
    assert any("short_list" in p for p in problems) and any("quote_fen" in p for p in problems)
    # etender-selection-1 keeps its schema: a credit method in a v1 record is refused
    v1 = {**record(), "algorithm_version": sel.ALGORITHM_VERSION}
    assert any("method" in p for p in sel.schema_problems(v1))
    assert sel.RECORD_SCHEMA["properties"]["method"] == {"enum": ["random", "lowest", "optimal"]}
    assert sel.RECORD_SCHEMA["properties"]["algorithm_version"] == {"const": "etender-selection-1"}
